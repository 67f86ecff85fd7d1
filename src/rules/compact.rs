//! Compact per-group state for long windows (hours to days): slow scans, random walks,
//! first-seen values. A scanner probing one port every few minutes for days, from a million
//! spoofed sources, must cost a few hundred bytes per source, not its log lines.
//!
//! Groups are keyed by a stable 64-bit hash of their key values and remember values as
//! 32-bit hashes with a last-seen time in whole seconds. Evidence is kept by place (source
//! and byte offset), read back when an incident is stored. Two values of one group whose
//! 32-bit hashes collide count once: with the ≤ 64 values a group keeps, that happens with
//! probability below 1 in a million, and only ever undercounts.

use super::field::{stable_hash, Value};
use super::limits::Limits;
use crate::incident::Evidence;
use crate::record::Record;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Most values one compact group remembers. Thresholds are far lower (15 ports, 25 hosts):
/// past 64 the group has crossed them, and further values add nothing but memory.
pub const MAX_COMPACT_VALUES: usize = 64;
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
    let h = stable_hash(std::iter::once(v));
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

/// Distinct values of one group with their last-seen times.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ValueSet {
    values: Vec<(u32, u32)>,
    places: Vec<Place>,
}

impl ValueSet {
    /// Records `value` seen at `now`; forgets values older than `horizon`. Returns whether
    /// the value was new.
    /// `max_values` is the cap on remembered values (`[limits] compact_values`).
    pub fn insert(
        &mut self,
        value: u32,
        now: u32,
        horizon: u32,
        place: Place,
        max_values: usize,
    ) -> bool {
        self.values.retain(|(_, t)| *t >= horizon);
        self.places.retain(|p| p.at >= horizon);
        if let Some(slot) = self.values.iter_mut().find(|(v, _)| *v == value) {
            slot.1 = slot.1.max(now);
            return false;
        }
        if self.values.len() >= max_values {
            // Drop the stalest value: the window keeps the latest activity.
            if let Some(i) = (0..self.values.len()).min_by_key(|&i| self.values[i].1) {
                self.values.swap_remove(i);
            }
        }
        self.values.push((value, now));
        if self.places.len() == COMPACT_EVIDENCE {
            self.places.remove(0);
        }
        self.places.push(place);
        true
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

/// `distinct` over a long window, in compact state.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LongDistinct {
    groups: HashMap<u64, ValueSet, foldhash::fast::RandomState>,
    next_sweep: u32,
    /// Events dropped at the group cap.
    pub cap_hits: u64,
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
        key: &[Value],
        value: &Value,
        window: chrono::Duration,
        threshold: u64,
        rec: &Record,
        limits: &Limits,
    ) -> Option<(u64, Vec<Evidence>, DateTime<Utc>)> {
        let k = stable_hash(key);
        if !self.groups.contains_key(&k) && self.groups.len() >= limits.compact_groups {
            self.cap_hits += 1;
            return None;
        }
        let now = secs(rec.event.timestamp);
        let horizon = now.saturating_sub(window.num_seconds().clamp(0, i64::from(u32::MAX)) as u32);
        let set = self.groups.entry(k).or_default();
        let new = set.insert(
            value_hash(value),
            now,
            horizon,
            Place::of(rec),
            limits.compact_values,
        );
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
        self.groups.retain(|_, s| s.last_seen() >= horizon);
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
        assert!(s.insert(1, 100, 0, place(100), MAX_COMPACT_VALUES));
        assert!(!s.insert(1, 200, 0, place(200), MAX_COMPACT_VALUES));
        assert!(s.insert(2, 300, 0, place(300), MAX_COMPACT_VALUES));
        assert_eq!(s.len(), 2);
        // Value 1 was last seen at 200: outside a horizon of 250.
        assert!(s.insert(3, 400, 250, place(400), MAX_COMPACT_VALUES));
        assert_eq!(s.len(), 2);
        for v in 10..200 {
            s.insert(v, 500 + v, 250, place(500 + v), MAX_COMPACT_VALUES);
        }
        assert_eq!(s.len(), MAX_COMPACT_VALUES);
        assert_eq!(s.evidence().len(), COMPACT_EVIDENCE);
    }
}
