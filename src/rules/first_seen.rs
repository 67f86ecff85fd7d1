//! First-seen values: after a learning period, a value of a field never seen before for a
//! group (a new port an FTP server answers on, a new server a client talks to).

use super::compact::{value_hash, Current};
use super::field::{stable_hash, Value};
use super::limits::Limits;
use crate::incident::Evidence;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Most values remembered per group. A group past this many distinct values is not one
/// whose "new" values mean anything; further values are counted as cap hits, not reported.
pub const MAX_FIRST_SEEN_VALUES: usize = 4096;

/// Known values of one rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FirstSeenState {
    known: HashMap<u64, HashSet<u32>, foldhash::fast::RandomState>,
    /// Time of the first event the rule saw: learning runs from here.
    started: Option<DateTime<Utc>>,
    /// Values not remembered at the caps.
    pub cap_hits: u64,
}

impl FirstSeenState {
    /// Number of groups tracked.
    pub fn group_count(&self) -> usize {
        self.known.len()
    }

    /// Feeds an event of group `key` carrying `value`. Returns evidence when the value is new
    /// for the group and the learning period is over.
    pub fn push(
        &mut self,
        key: &[Value],
        value: &Value,
        learn: chrono::Duration,
        rec: &Current<'_>,
        limits: &Limits,
    ) -> Option<Vec<Evidence>> {
        if *value == Value::Missing {
            return None;
        }
        let now = rec.event.timestamp;
        let started = *self.started.get_or_insert(now);
        let k = stable_hash(key);
        if !self.known.contains_key(&k) && self.known.len() >= limits.compact_groups {
            self.cap_hits += 1;
            return None;
        }
        let set = self.known.entry(k).or_default();
        let v = value_hash(value);
        if set.contains(&v) {
            return None;
        }
        if set.len() >= limits.first_seen_values {
            self.cap_hits += 1;
            return None;
        }
        set.insert(v);
        (now >= started + learn).then(|| vec![rec.place().evidence()])
    }
}
