//! Compact per-group state for long windows (hours to days): slow scans, random walks,
//! first-seen values. A scanner probing one port every few minutes for days, from a million
//! spoofed sources, must cost a few hundred bytes per source, not its log lines.
//!
//! Groups are keyed by a stable 64-bit hash of their key values and remember values as
//! 32-bit hashes with a last-seen time in whole seconds. Evidence is kept by place (source
//! and byte offset), read back when an incident is stored. Two values of one group whose
//! 32-bit hashes collide count once: with the ≤ 1024 values a group keeps, that happens with
//! probability about 1 in 10 000, and only ever undercounts by one.

use super::field::{stable_hash_refs, Value};
use super::key::{Key, ValueRef};
use super::limits::Limits;
use super::shards::{Draining, Shards};
use crate::incident::Evidence;
use crate::record::Record;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::cell::Cell;

/// Most values one compact group remembers, so an incident reports how many distinct ports
/// or hosts a slow scanner really reached: a day of one new port every 5 minutes is 288,
/// nmap's top-1000 ports scanned slowly fit. 8 KiB for such a group.
pub const MAX_COMPACT_VALUES: usize = 1024;
/// Values all groups of one rule may remember together (8 bytes each: 128 MiB). Past it,
/// groups keep at most [`BUDGET_EXHAUSTED_VALUES`]: a million sources each probing a few ports
/// stay far below it, a flood of big groups cannot exhaust memory.
pub const MAX_COMPACT_VALUES_TOTAL: usize = 16 << 20;
/// Values one group keeps once [`MAX_COMPACT_VALUES_TOTAL`] is reached: still above every
/// threshold of the pack (15 ports, 25 hosts), so detection is unaffected, only the reported
/// distinct count saturates.
pub const BUDGET_EXHAUSTED_VALUES: usize = 64;
/// Evidence places kept per compact group before its incident opens.
pub const COMPACT_EVIDENCE: usize = 4;
/// Most groups one compact rule tracks: 4 M sources at a few hundred bytes each stays
/// around a GiB in the worst case; 1 M sources, the design target, stay within 512 MB.
pub const MAX_COMPACT_GROUPS: usize = 4_000_000;

/// Seconds since the Unix epoch, saturated into 32 bits (good until 2106).
pub fn secs(t: DateTime<Utc>) -> u32 {
    t.timestamp().clamp(0, i64::from(u32::MAX)) as u32
}

/// A 32-bit hash of a value, for membership tests in compact groups.
pub fn value_hash(v: &Value) -> u32 {
    value_hash_ref(v.as_ref())
}

/// [`value_hash`] of a borrowed value.
pub fn value_hash_ref(v: ValueRef<'_>) -> u32 {
    let h = stable_hash_refs(std::iter::once(v));
    (h ^ (h >> 32)) as u32
}

/// Where an evidence line is, without its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Event time, seconds since the epoch.
    pub at: u32,
    /// Source index.
    pub source: u32,
    /// Byte offset.
    pub offset: u64,
    /// The line's digest, to recognise it when read back.
    pub digest: u32,
}

impl Place {
    /// The place of a record's line.
    pub fn of(rec: &Record) -> Place {
        Place {
            at: secs(rec.event.timestamp),
            source: rec.event.origin.source,
            offset: rec.event.origin.offset,
            digest: rec.raw.digest(),
        }
    }

    /// Unresolved evidence for this place.
    pub fn evidence(&self) -> Evidence {
        let ts = DateTime::from_timestamp(i64::from(self.at), 0).unwrap_or_default();
        Evidence::unresolved(ts, self.source, self.offset, self.digest)
    }
}

/// The record being correlated, with its evidence place made at most once: the place
/// digests the whole line, and a refused probe is new to the slow scan rules and the random
/// walk alike.
pub struct Current<'a> {
    rec: &'a Record,
    place: Cell<Option<Place>>,
}

impl<'a> Current<'a> {
    /// The record, its place not made yet.
    pub fn new(rec: &'a Record) -> Current<'a> {
        Current {
            rec,
            place: Cell::new(None),
        }
    }

    /// The record's evidence place.
    pub fn place(&self) -> Place {
        if let Some(p) = self.place.get() {
            return p;
        }
        let p = Place::of(self.rec);
        self.place.set(Some(p));
        p
    }
}

impl std::ops::Deref for Current<'_> {
    type Target = Record;
    fn deref(&self) -> &Record {
        self.rec
    }
}

/// Distinct values of one group with their last-seen times. The first values and place are
/// kept inline (no allocation): most groups of a busy log see one value and go.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ValueSet {
    /// (value hash, last seen): two inline take the room of an empty `Vec`.
    values: SmallVec<[(u32, u32); 2]>,
    places: SmallVec<[Place; 1]>,
}

impl ValueSet {
    /// Records `value` seen at `now`; forgets values older than `horizon`. Returns whether
    /// the value was new, and whether the stalest value had to be forgotten for it.
    /// `max_values` is the cap on remembered values (`[limits] compact_values`). `place`
    /// makes the evidence place, needed only for a new value (it digests the line).
    pub fn insert(
        &mut self,
        value: u32,
        now: u32,
        horizon: u32,
        place: impl FnOnce() -> Place,
        max_values: usize,
    ) -> (bool, bool) {
        // Most events find nothing expired: look before rewriting the lists.
        if self.values.iter().any(|(_, t)| *t < horizon) {
            self.values.retain(|(_, t)| *t >= horizon);
        }
        if self.places.iter().any(|p| p.at < horizon) {
            self.places.retain(|p| p.at >= horizon);
        }
        if let Some(slot) = self.values.iter_mut().find(|(v, _)| *v == value) {
            slot.1 = slot.1.max(now);
            return (false, false);
        }
        let mut evicted = false;
        while self.values.len() >= max_values.max(1) {
            // Drop the stalest value: the window keeps the latest activity.
            if let Some(i) = (0..self.values.len()).min_by_key(|&i| self.values[i].1) {
                self.values.swap_remove(i);
                evicted = true;
            }
        }
        self.values.push((value, now));
        if self.places.len() == COMPACT_EVIDENCE {
            self.places.remove(0);
        }
        self.places.push(place());
        (true, evicted)
    }

    /// Number of distinct values remembered.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no value is remembered.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Earliest time a remembered value was last seen: where the counted activity starts.
    pub fn first_seen(&self) -> u32 {
        self.values.iter().map(|(_, t)| *t).min().unwrap_or(0)
    }

    /// Latest time any value was seen.
    pub fn last_seen(&self) -> u32 {
        self.values.iter().map(|(_, t)| *t).max().unwrap_or(0)
    }

    /// Evidence for the kept places, oldest first.
    pub fn evidence(&self) -> Vec<Evidence> {
        self.places.iter().map(Place::evidence).collect()
    }
}

/// `distinct` over a long window, in compact state. Its groups are shared with a frozen
/// copy until written (see [`super::shards`]).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LongDistinct {
    groups: Shards<ValueSet>,
    next_sweep: u32,
    /// Values remembered over all groups.
    values: usize,
    /// Events dropped at the group cap.
    pub cap_hits: u64,
    /// Values forgotten to make room in a full group.
    pub evictions: u64,
}

/// How often compact state is swept for groups that left their window: an eighth of the
/// window, at least every 10 minutes of event time. A sweep walks every group, so for a
/// 72 h window over a million sources it must be rare; a stale group only costs memory
/// until the next sweep, never a wrong count (values are checked against the window
/// whenever a group is touched).
pub fn sweep_every(window: chrono::Duration) -> u32 {
    (window.num_seconds() / 8).clamp(600, i64::from(u32::MAX)) as u32
}

impl LongDistinct {
    /// Number of groups tracked.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Adds a value for group `key`. Returns the distinct count, the evidence and the start
    /// of the counted activity when the event adds a new value and the count reaches
    /// `threshold`.
    pub fn add(
        &mut self,
        key: Key<'_>,
        value: ValueRef<'_>,
        window: chrono::Duration,
        threshold: u64,
        rec: &Current<'_>,
        limits: &Limits,
    ) -> Option<(u64, Vec<Evidence>, DateTime<Utc>)> {
        let k = key.stable_hash();
        if !self.groups.contains_key(k) && self.groups.len() >= limits.compact_groups {
            self.cap_hits += 1;
            return None;
        }
        let now = secs(rec.event.timestamp);
        let horizon = now.saturating_sub(window.num_seconds().clamp(0, i64::from(u32::MAX)) as u32);
        let set = self.groups.get_or_default(k);
        let cap = if self.values >= MAX_COMPACT_VALUES_TOTAL {
            limits.compact_values.min(BUDGET_EXHAUSTED_VALUES)
        } else {
            limits.compact_values
        };
        let before = set.len();
        let (new, evicted) = set.insert(value_hash_ref(value), now, horizon, || rec.place(), cap);
        self.values = self.values - before + set.len();
        self.evictions += u64::from(evicted);
        let n = set.len() as u64;
        (new && n >= threshold).then(|| {
            let start =
                DateTime::from_timestamp(i64::from(set.first_seen()), 0).unwrap_or_default();
            (n, set.evidence(), start)
        })
    }

    /// Forgets groups with nothing inside the window.
    pub fn expire(&mut self, now: DateTime<Utc>, window: chrono::Duration) {
        let now = secs(now);
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now.saturating_add(sweep_every(window));
        let horizon = now.saturating_sub(window.num_seconds().clamp(0, i64::from(u32::MAX)) as u32);
        self.groups.retain(|s| s.last_seen() >= horizon);
        self.values = self.groups.values().map(ValueSet::len).sum();
    }
}

/// [`LongDistinct`] as encoded, field for field in the order its `Deserialize` reads.
#[derive(Serialize)]
pub struct LongOut<G> {
    groups: G,
    next_sweep: u32,
    values: usize,
    cap_hits: u64,
    evictions: u64,
}

impl Serialize for LongDistinct {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.out(&self.groups).serialize(s)
    }
}

impl LongDistinct {
    fn out<G>(&self, groups: G) -> LongOut<G> {
        LongOut {
            groups,
            next_sweep: self.next_sweep,
            values: self.values,
            cap_hits: self.cap_hits,
            evictions: self.evictions,
        }
    }

    /// This state for one encoding (a frozen copy's): the same bytes, each shard of groups
    /// let go of once encoded, so the engine writes it without copying it.
    pub fn into_draining(self) -> LongOut<Draining<ValueSet>> {
        let draining = self.groups.clone().into_draining();
        self.out(draining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(at: u32) -> Place {
        Place {
            at,
            source: 0,
            offset: u64::from(at),
            digest: at,
        }
    }

    #[test]
    fn value_sets_slide_and_stay_bounded() {
        let mut s = ValueSet::default();
        assert_eq!(s.insert(1, 100, 0, || place(100), 64), (true, false));
        assert_eq!(s.insert(1, 200, 0, || place(200), 64), (false, false));
        assert_eq!(s.insert(2, 300, 0, || place(300), 64), (true, false));
        assert_eq!(s.len(), 2);
        // Value 1 was last seen at 200: outside a horizon of 250.
        assert_eq!(s.insert(3, 400, 250, || place(400), 64), (true, false));
        assert_eq!(s.len(), 2);
        let evicted = (10..200)
            .filter(|&v| s.insert(v, 500 + v, 250, || place(500 + v), 64).1)
            .count();
        assert_eq!(s.len(), 64);
        assert_eq!(evicted, 2 + 190 - 64);
        assert_eq!(s.evidence().len(), COMPACT_EVIDENCE);
    }

    fn probe(port: u64, at: i64) -> Record {
        let mut e = portcullis_parsers::Event::new(
            DateTime::from_timestamp(1_800_000_000 + at, 0).unwrap(),
            portcullis_parsers::Dataset::Iptables,
            portcullis_parsers::Action::FirewallDeny,
        );
        e.destination_port = Some(port as u16);
        Record {
            event: e,
            raw: crate::record::RawLine::from_text("probe"),
        }
    }

    #[test]
    fn a_slow_scan_reports_every_distinct_port_up_to_the_cap_and_counts_evictions() {
        let mut d = LongDistinct::default();
        let day = chrono::Duration::hours(24);
        let limits = Limits::default();
        let key = [Value::Number(1)];
        let key = Key::Values(&key);
        // 278 ports, one every 5 minutes: all inside the day, all counted.
        let mut last = None;
        for p in 0..278u64 {
            if let Some((n, _, _)) = d.add(
                key,
                Value::Number(p).as_ref(),
                day,
                15,
                &Current::new(&probe(p, p as i64 * 300)),
                &limits,
            ) {
                last = Some(n);
            }
        }
        assert_eq!(last, Some(278));
        assert_eq!(d.evictions, 0);
        // With a configured cap of 100, the count stops there and the rest are evictions.
        let mut small = LongDistinct::default();
        let limits = Limits {
            compact_values: 100,
            ..Limits::default()
        };
        let mut last = None;
        for p in 0..278u64 {
            if let Some((n, _, _)) = small.add(
                key,
                Value::Number(p).as_ref(),
                day,
                15,
                &Current::new(&probe(p, p as i64 * 300)),
                &limits,
            ) {
                last = Some(n);
            }
        }
        assert_eq!(last, Some(100));
        assert_eq!(small.evictions, 178);
    }
}
