//! Group and join keys read straight from an event: hashed and compared field by field
//! without building a `Vec<Value>` (one is built only when a new group is stored), and
//! field values borrowed instead of copied.

use super::field::{Field, Value};
use portcullis_parsers::{Event, TcpFlags, Transport};
use smallvec::SmallVec;
use std::net::IpAddr;
use std::sync::OnceLock;

/// A field value borrowed from an event or a stored [`Value`]: equal exactly when the
/// owned values are, and hashed the same whichever it was read from.
#[derive(Debug, Clone, Copy, Eq)]
pub enum ValueRef<'a> {
    /// The event does not carry the field.
    Missing,
    /// A keyword from a fixed vocabulary.
    Keyword(&'static str),
    /// An address.
    Ip(IpAddr),
    /// A number.
    Number(u64),
    /// Free text.
    Text(&'a str),
    /// A flag.
    Bool(bool),
}

impl PartialEq for ValueRef<'_> {
    /// As the owned values compare; keywords are the same `'static` names, so their
    /// addresses usually decide without comparing text.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ValueRef::Missing, ValueRef::Missing) => true,
            (ValueRef::Keyword(a), ValueRef::Keyword(b)) => {
                std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len() || a == b
            }
            (ValueRef::Ip(a), ValueRef::Ip(b)) => a == b,
            (ValueRef::Number(a), ValueRef::Number(b)) => a == b,
            (ValueRef::Text(a), ValueRef::Text(b)) => a == b,
            (ValueRef::Bool(a), ValueRef::Bool(b)) => a == b,
            _ => false,
        }
    }
}

/// TCP flags as text (`SYN ACK`), for every one of the 256 combinations: made once, so
/// reading `tcp.flags` allocates nothing.
fn flags_text(f: TcpFlags) -> &'static str {
    static TEXT: OnceLock<Vec<String>> = OnceLock::new();
    let all = TEXT.get_or_init(|| (0..=255u8).map(|b| TcpFlags(b).to_string()).collect());
    &all[usize::from(f.0)]
}

impl Field {
    /// Reads the field from an event without copying text (see [`Field::get`]).
    #[inline]
    pub fn get_ref(self, e: &Event) -> ValueRef<'_> {
        fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> ValueRef<'static>) -> ValueRef<'static> {
            v.map(f).unwrap_or(ValueRef::Missing)
        }
        fn text(v: Option<&str>) -> ValueRef<'_> {
            v.map_or(ValueRef::Missing, ValueRef::Text)
        }
        match self {
            Field::Dataset => ValueRef::Keyword(e.dataset.as_str()),
            Field::Action => ValueRef::Keyword(e.action.as_str()),
            Field::Outcome => ValueRef::Keyword(e.outcome.as_str()),
            Field::SourceIp => opt(e.source_ip, ValueRef::Ip),
            Field::SourcePort => opt(e.source_port, |p| ValueRef::Number(p.into())),
            Field::DestinationIp => opt(e.destination_ip, ValueRef::Ip),
            Field::DestinationPort => opt(e.destination_port, |p| ValueRef::Number(p.into())),
            Field::Transport => opt(e.transport, |t| match t {
                Transport::Tcp => ValueRef::Keyword("tcp"),
                Transport::Udp => ValueRef::Keyword("udp"),
                Transport::Icmp => ValueRef::Keyword("icmp"),
                Transport::Icmpv6 => ValueRef::Keyword("ipv6-icmp"),
                Transport::Other(n) => ValueRef::Number(n.into()),
            }),
            Field::Bytes => opt(e.bytes, ValueRef::Number),
            Field::Packets => opt(e.packets, ValueRef::Number),
            Field::TcpFlags => opt(e.tcp_flags, |f| ValueRef::Text(flags_text(f))),
            Field::UserName => text(e.user_name.as_deref()),
            Field::FtpAnonymous => ValueRef::Bool(e.ftp_anonymous),
            Field::FilePath => text(e.file_path.as_deref()),
            Field::FileSize => opt(e.file_size, ValueRef::Number),
            Field::HostName => text(e.host_name.as_deref()),
            Field::ObserverIp => opt(e.observer_ip, ValueRef::Ip),
            Field::ProcessPid => opt(e.process_pid, |p| ValueRef::Number(p.into())),
            Field::RuleName => text(e.rule_name.as_deref()),
            Field::Duration => opt(e.duration_ns, ValueRef::Number),
        }
    }
}

impl Field {
    /// `self.get_ref(e).mix_into(h)`, with the address and port fields of keys mixed
    /// straight from the event.
    #[inline(always)]
    fn mix_event(self, e: &Event, h: u64) -> u64 {
        fn ip(v: Option<IpAddr>, h: u64) -> u64 {
            v.map_or(ValueRef::Missing, ValueRef::Ip).mix_into(h)
        }
        fn port(v: Option<u16>, h: u64) -> u64 {
            match v {
                Some(p) => mix(h ^ TAG_NUMBER, u64::from(p)),
                None => mix(h, TAG_MISSING),
            }
        }
        match self {
            Field::SourceIp => ip(e.source_ip, h),
            Field::DestinationIp => ip(e.destination_ip, h),
            Field::SourcePort => port(e.source_port, h),
            Field::DestinationPort => port(e.destination_port, h),
            _ => self.get_ref(e).mix_into(h),
        }
    }
}

impl Field {
    /// `self.get_ref(e) == stored.as_ref()`, with the address and port fields of keys
    /// compared straight from the event.
    #[inline(always)]
    fn matches_event(self, e: &Event, stored: &Value) -> bool {
        fn ip(v: Option<IpAddr>, stored: &Value) -> bool {
            match stored {
                Value::Ip(s) => v == Some(*s),
                Value::Missing => v.is_none(),
                _ => false,
            }
        }
        fn port(v: Option<u16>, stored: &Value) -> bool {
            match stored {
                Value::Number(s) => v.map(u64::from) == Some(*s),
                Value::Missing => v.is_none(),
                _ => false,
            }
        }
        match self {
            Field::SourceIp => ip(e.source_ip, stored),
            Field::DestinationIp => ip(e.destination_ip, stored),
            Field::SourcePort => port(e.source_port, stored),
            Field::DestinationPort => port(e.destination_port, stored),
            _ => self.get_ref(e) == stored.as_ref(),
        }
    }
}

impl Value {
    /// The value borrowed.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Missing => ValueRef::Missing,
            Value::Keyword(k) => ValueRef::Keyword(k),
            Value::Ip(ip) => ValueRef::Ip(*ip),
            Value::Number(n) => ValueRef::Number(*n),
            Value::Text(t) => ValueRef::Text(t),
            Value::Bool(b) => ValueRef::Bool(*b),
        }
    }
}

impl ValueRef<'_> {
    /// The value owned.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Missing => Value::Missing,
            ValueRef::Keyword(k) => Value::Keyword(k),
            ValueRef::Ip(ip) => Value::Ip(ip),
            ValueRef::Number(n) => Value::Number(n),
            ValueRef::Text(t) => Value::Text(t.into()),
            ValueRef::Bool(b) => Value::Bool(b),
        }
    }

    /// Mixes the value into `h`: one multiply per machine word, the type separated by a tag.
    #[inline(always)]
    fn mix_into(self, h: u64) -> u64 {
        match self {
            ValueRef::Missing => mix(h, TAG_MISSING),
            ValueRef::Keyword(k) => mix_bytes(h ^ TAG_KEYWORD, k.as_bytes()),
            ValueRef::Ip(IpAddr::V4(a)) => mix(h ^ TAG_IPV4, u64::from(u32::from(a))),
            ValueRef::Ip(IpAddr::V6(a)) => {
                let a = u128::from(a);
                mix(mix(h ^ TAG_IPV6, (a >> 64) as u64), a as u64)
            }
            ValueRef::Number(n) => mix(h ^ TAG_NUMBER, n),
            ValueRef::Text(t) => mix_bytes(h ^ TAG_TEXT, t.as_bytes()),
            ValueRef::Bool(b) => mix(h ^ TAG_BOOL, u64::from(b)),
        }
    }
}

/// Tags that keep values of different types apart in a hash: arbitrary distinct constants
/// (digits of pi), so no small value of one type lines up with another type's tag.
const TAG_MISSING: u64 = 0x243f_6a88_85a3_08d3;
const TAG_KEYWORD: u64 = 0x1319_8a2e_0370_7344;
const TAG_IPV4: u64 = 0xa409_3822_299f_31d0;
const TAG_IPV6: u64 = 0x082e_fa98_ec4e_6c89;
const TAG_NUMBER: u64 = 0x4528_21e6_38d0_1377;
const TAG_TEXT: u64 = 0xbe54_66cf_34e9_0c6c;
const TAG_BOOL: u64 = 0xc0ac_29b7_c97c_50dd;

/// The mix multiplier: 2^64 / golden ratio, odd, so every input bit reaches the product.
const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// One word into the hash: a 64x64->128-bit multiply with its halves folded together
/// (the construction of foldhash and wyhash), so every word bit moves high and low bits.
#[inline(always)]
fn mix(h: u64, word: u64) -> u64 {
    let p = u128::from(h ^ word) * u128::from(MIX);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Bytes hashed from `seed` as text is mixed into a key hash (see [`mix_bytes`]).
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    mix_bytes(seed, bytes)
}

/// Text into the hash, eight bytes at a time, then its length (so `ab`+`c` differs from
/// `a`+`bc` across fields).
#[inline(always)]
fn mix_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = mix(h, u64::from_le_bytes(tail));
    mix(h, bytes.len() as u64)
}

/// Hash of a sequence of values from `seed`: a per-table random seed for lookups (an
/// attacker who picks addresses cannot aim at one bucket), a fixed one for hashes that
/// must be the same in every run.
#[inline(always)]
pub fn hash_refs<'a>(seed: u64, values: impl IntoIterator<Item = ValueRef<'a>>) -> u64 {
    values.into_iter().fold(seed, |h, v| v.mix_into(h))
}

/// Seed of [`stable_hash`](super::field::stable_hash): fixed, so the hash is the same in
/// every run.
pub const STABLE_SEED: u64 = 0x7c0f_fee5_d00d_f00d;

/// A random seed for a hash table's keys.
pub fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::RandomState::default().hash_one(0x5eed_u64)
}

/// A group's key values as stored: up to two inline (most keys are one or two addresses or
/// ports), so a new group allocates nothing for its key.
pub type GroupKey = SmallVec<[Value; 2]>;

/// A key: the rule's `by` fields of an event, or values already read.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    /// These fields of this event.
    Event(&'a [Field], &'a Event),
    /// Values read before (a joined pair's, a detector's).
    Values(&'a [Value]),
}

impl<'a> Key<'a> {
    /// Number of values in the key.
    pub fn len(&self) -> usize {
        match self {
            Key::Event(fields, _) => fields.len(),
            Key::Values(v) => v.len(),
        }
    }

    /// True for a key without values (a rule without `by`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th value.
    #[inline]
    pub fn get(&self, i: usize) -> ValueRef<'a> {
        match self {
            Key::Event(fields, e) => fields[i].get_ref(e),
            Key::Values(v) => v[i].as_ref(),
        }
    }

    /// The key's hash from `seed` (see [`hash_refs`]): the same for an event's fields and
    /// for the values read from them.
    #[inline]
    pub fn hash(&self, seed: u64) -> u64 {
        match self {
            // Keys of one to three fields spelled out: a loop made the compiler read and
            // byte-swap every address field of the event before looking at the first field.
            Key::Event([a], e) => a.mix_event(e, seed),
            Key::Event([a, b], e) => b.mix_event(e, a.mix_event(e, seed)),
            Key::Event([a, b, c], e) => c.mix_event(e, b.mix_event(e, a.mix_event(e, seed))),
            Key::Event(fields, e) => fields.iter().fold(seed, |h, f| f.mix_event(e, h)),
            Key::Values(v) => hash_refs(seed, v.iter().map(Value::as_ref)),
        }
    }

    /// True when the key equals the stored values.
    #[inline]
    pub fn matches(&self, stored: &[Value]) -> bool {
        match (self, stored) {
            // The common keys spelled out, as in `hash`.
            (Key::Event([a], e), [x]) => a.matches_event(e, x),
            (Key::Event([a, b], e), [x, y]) => a.matches_event(e, x) && b.matches_event(e, y),
            _ => {
                stored.len() == self.len()
                    && stored
                        .iter()
                        .enumerate()
                        .all(|(i, v)| self.get(i) == v.as_ref())
            }
        }
    }

    /// True when both keys hold equal values.
    pub fn equals(&self, other: &Key<'_>) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }

    /// The key's [`stable_hash`](super::field::stable_hash): the same in every run.
    pub fn stable_hash(&self) -> u64 {
        self.hash(STABLE_SEED)
    }

    /// True when one of the key's fields is missing.
    pub fn has_missing(&self) -> bool {
        (0..self.len()).any(|i| self.get(i) == ValueRef::Missing)
    }

    /// The key as owned values.
    pub fn to_vec(&self) -> Vec<Value> {
        (0..self.len()).map(|i| self.get(i).to_value()).collect()
    }

    /// The key as owned values, to store with a new group. One or two values are placed
    /// straight into the inline buffer (a collect through `extend` cost 200 instructions).
    pub fn to_values(&self) -> GroupKey {
        match self.len() {
            1 => GroupKey::from_buf_and_len([self.get(0).to_value(), Value::Missing], 1),
            2 => GroupKey::from_buf([self.get(0).to_value(), self.get(1).to_value()]),
            _ => (0..self.len()).map(|i| self.get(i).to_value()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use portcullis_parsers::{Action, Dataset};

    #[test]
    fn borrowed_values_equal_and_hash_like_owned_ones() {
        let mut e = Event::new(Utc::now(), Dataset::Iptables, Action::FirewallDeny);
        e.source_ip = Some("192.0.2.7".parse().unwrap());
        e.destination_port = Some(445);
        e.tcp_flags = Some(TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
        e.user_name = Some("a-user-name-longer-than-24-bytes".into());
        let fields = [
            Field::SourceIp,
            Field::DestinationPort,
            Field::TcpFlags,
            Field::UserName,
            Field::FilePath,
            Field::Action,
            Field::FtpAnonymous,
        ];
        for f in fields {
            assert_eq!(f.get_ref(&e), f.get(&e).as_ref(), "{f:?}");
            assert_eq!(f.get_ref(&e).to_value(), f.get(&e), "{f:?}");
        }
        let owned: Vec<Value> = fields.iter().map(|f| f.get(&e)).collect();
        let seed = random_seed();
        let (a, b) = (Key::Event(&fields, &e), Key::Values(&owned));
        assert_eq!(a.hash(seed), b.hash(seed));
        assert_eq!(a.stable_hash(), b.stable_hash());
        // Each field alone, present and missing, mixes the same from the event as from its value.
        for (i, f) in Field::ALL.iter().enumerate() {
            for ev in [&e, &Event::new(Utc::now(), Dataset::Netflow, Action::Flow)] {
                let one = [f.0];
                let v = [f.0.get(ev)];
                assert_eq!(
                    Key::Event(&one, ev).hash(i as u64),
                    Key::Values(&v).hash(i as u64)
                );
            }
        }
        assert!(a.matches(&owned) && b.matches(&owned));
        // Keys of one and two fields (compared field by field from the event) against
        // stored values of the same and of other fields, present and missing.
        let other = Event::new(Utc::now(), Dataset::Netflow, Action::Flow);
        for (f, g) in Field::ALL.iter().zip(Field::ALL.iter().rev()) {
            for ev in [&e, &other] {
                for stored in [&e, &other] {
                    let one = [f.0];
                    let two = [f.0, g.0];
                    let v1 = [f.0.get(stored)];
                    let v2 = [f.0.get(stored), g.0.get(stored)];
                    let same1 = f.0.get(ev) == v1[0];
                    let same2 = same1 && g.0.get(ev) == v2[1];
                    assert_eq!(Key::Event(&one, ev).matches(&v1), same1, "{:?}", f.0);
                    assert_eq!(Key::Event(&two, ev).matches(&v2), same2, "{:?}", f.0);
                    assert!(!Key::Event(&two, ev).matches(&v1));
                }
            }
        }
        assert_eq!(a.to_vec(), owned);
        e.destination_port = Some(446);
        assert!(!Key::Event(&fields, &e).matches(&owned));
        assert_ne!(Key::Event(&fields, &e).hash(seed), b.hash(seed));
    }
}
