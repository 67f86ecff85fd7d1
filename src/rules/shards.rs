//! Compact groups in many small shards behind `Arc`s, so a snapshot shares them with the
//! engine instead of copying them: freezing clones the `Arc`s, a write after a freeze
//! copies only the shard it lands in (`Arc::make_mut`), and the snapshot thread lets go of
//! each shard as soon as it is encoded ([`Draining`]), after which the engine writes it in
//! place again. A million slow-scan groups are 256 KiB of `Arc`s to freeze instead of
//! 281 MiB of maps to copy.
//!
//! Encoded as one map of all groups (length, then key and value pairs): the same bytes a
//! plain `HashMap` gives, so snapshots do not change layout.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// Average groups per shard before the shards double: what a write after a freeze copies
/// (about 4 KiB of slow-scan groups). Fewer groups a shard means fewer copied while a
/// snapshot is written (`benches/snapshot_pause.rs`, a million groups, the loop correlating
/// 10 k probes/s: 32 a shard held +73 MiB, 16 a shard +60-63 MiB), at ~80 bytes of `Arc`
/// and map per shard.
const GROUPS_PER_SHARD: usize = 16;
/// At most 2^16 shards (1.5 MiB of `Arc`s and empty maps): the 4 M groups of
/// `MAX_COMPACT_GROUPS` still average 61 a shard.
const MAX_SHARD_BITS: u32 = 16;

type Shard<V> = HashMap<u64, V, foldhash::fast::RandomState>;

/// Groups by their 64-bit key hash, in `2^bits` shards chosen by the key's top bits.
#[derive(Debug, Clone)]
pub struct Shards<V> {
    bits: u32,
    shards: Vec<Arc<Shard<V>>>,
    len: usize,
}

impl<V> Default for Shards<V> {
    fn default() -> Shards<V> {
        Shards {
            bits: 0,
            shards: Vec::new(),
            len: 0,
        }
    }
}

/// The shard of `key` among `2^bits`: Fibonacci hashing, so keys of any distribution spread.
fn index(key: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    }
}

impl<V: Clone + Default> Shards<V> {
    /// Number of groups.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is no group.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether group `key` exists.
    pub fn contains_key(&self, key: u64) -> bool {
        self.shards
            .get(index(key, self.bits))
            .is_some_and(|s| s.contains_key(&key))
    }

    /// Group `key`, created empty if it does not exist; its shard is copied first if a
    /// frozen copy still shares it.
    pub fn get_or_default(&mut self, key: u64) -> &mut V {
        if self.shards.is_empty() {
            self.shards.push(Arc::default());
        }
        let i = index(key, self.bits);
        if !self.shards[i].contains_key(&key) {
            if self.len >= self.shards.len() * GROUPS_PER_SHARD && self.bits < MAX_SHARD_BITS {
                self.split();
                return self.get_or_default(key);
            }
            self.len += 1;
        }
        Arc::make_mut(&mut self.shards[i]).entry(key).or_default()
    }

    /// Keeps the groups `keep` says yes to. Shards with nothing to drop are not touched (a
    /// frozen copy keeps sharing them).
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        for shard in &mut self.shards {
            if shard.values().all(&mut keep) {
                continue;
            }
            let shard = Arc::make_mut(shard);
            let before = shard.len();
            shard.retain(|_, v| keep(v));
            self.len -= before - shard.len();
        }
    }

    /// Every group.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.shards.iter().flat_map(|s| s.values())
    }

    /// Doubles the shards: shard `i` splits into `2i` and `2i + 1` by the next bit of the
    /// key (a shard still shared with a frozen copy is copied).
    fn split(&mut self) {
        let bits = self.bits + 1;
        let mut next = Vec::with_capacity(1 << bits);
        for shard in std::mem::take(&mut self.shards) {
            let mut halves = [Shard::default(), Shard::default()];
            for (k, v) in Arc::unwrap_or_clone(shard) {
                halves[index(k, bits) & 1].insert(k, v);
            }
            next.extend(halves.map(Arc::new));
        }
        self.shards = next;
        self.bits = bits;
    }

    /// These groups for one encoding: the same bytes, each shard dropped once encoded.
    pub fn into_draining(self) -> Draining<V> {
        Draining {
            shards: RefCell::new(self.shards),
            len: self.len,
        }
    }
}

fn serialize_groups<'a, V: Serialize + 'a, S: Serializer>(
    s: S,
    len: usize,
    mut next: impl FnMut() -> Option<Arc<Shard<V>>>,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(len))?;
    while let Some(shard) = next() {
        for (k, v) in shard.iter() {
            map.serialize_entry(k, v)?;
        }
    }
    map.end()
}

impl<V: Serialize> Serialize for Shards<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut shards = self.shards.iter();
        serialize_groups(s, self.len, || shards.next().cloned())
    }
}

/// Shards held for one encoding ([`Shards::into_draining`]): each is released as soon as it is
/// written, so the engine's next write to it needs no copy. Encodes once; a second encoding
/// finds it empty.
#[derive(Debug)]
pub struct Draining<V> {
    shards: RefCell<Vec<Arc<Shard<V>>>>,
    len: usize,
}

impl<V: Serialize> Serialize for Draining<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut shards = self.shards.borrow_mut();
        shards.reverse();
        serialize_groups(s, self.len, || shards.pop())
    }
}

impl<'de, V: Deserialize<'de> + Clone + Default> Deserialize<'de> for Shards<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shards<V>, D::Error> {
        struct Groups<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de> + Clone + Default> Visitor<'de> for Groups<V> {
            type Value = Shards<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of groups")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shards<V>, A::Error> {
                let mut groups = Shards::default();
                while let Some((k, v)) = map.next_entry::<u64, V>()? {
                    *groups.get_or_default(k) = v;
                }
                Ok(groups)
            }
        }
        d.deserialize_map(Groups(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: u64) -> Shards<u64> {
        let mut s = Shards::default();
        for k in 0..n {
            *s.get_or_default(k.wrapping_mul(0x1234_5678_9abc_def1)) = k;
        }
        s
    }

    #[test]
    fn groups_split_into_shards_and_encode_like_a_map() {
        let s = filled(10_000);
        assert_eq!(s.len(), 10_000);
        // 10 000 groups at most 16 a shard on average: 1024 shards.
        assert_eq!(s.shards.len(), 1024);
        assert!(s.contains_key(7u64.wrapping_mul(0x1234_5678_9abc_def1)));
        assert!(!s.contains_key(1));
        let bytes = postcard::to_stdvec(&s).unwrap();
        let map: HashMap<u64, u64> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(map.len(), 10_000);
        assert!(map
            .iter()
            .all(|(k, v)| *k == v.wrapping_mul(0x1234_5678_9abc_def1)));
        let back: Shards<u64> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(postcard::to_stdvec(&back).unwrap().len(), bytes.len());
        assert_eq!(back.values().sum::<u64>(), (0..10_000).sum::<u64>());
        assert_eq!(postcard::to_stdvec(&s.into_draining()).unwrap(), bytes);
    }

    #[test]
    fn a_write_after_a_freeze_copies_only_its_shard() {
        let mut s = filled(10_000);
        let frozen = s.clone();
        let key = 3u64.wrapping_mul(0x1234_5678_9abc_def1);
        *s.get_or_default(key) = 99;
        let i = index(key, s.bits);
        let shared = (0..s.shards.len())
            .filter(|&j| Arc::ptr_eq(&s.shards[j], &frozen.shards[j]))
            .count();
        assert_eq!(shared, s.shards.len() - 1);
        assert!(!Arc::ptr_eq(&s.shards[i], &frozen.shards[i]));
        assert_eq!(frozen.shards[i][&key], 3);
        // A sweep that drops nothing copies nothing; one that drops copies those shards.
        s.retain(|_| true);
        assert_eq!(s.len(), 10_000);
        s.retain(|v| *v != 5);
        assert_eq!(s.len(), 9_999);
        assert_eq!(frozen.len(), 10_000);
        // Once the draining copy has encoded a shard, the engine owns it alone again.
        drop(frozen);
        let draining = s.clone().into_draining();
        assert_eq!(Arc::strong_count(&s.shards[0]), 2);
        postcard::to_stdvec(&draining).unwrap();
        assert_eq!(Arc::strong_count(&s.shards[0]), 1);
    }
}
