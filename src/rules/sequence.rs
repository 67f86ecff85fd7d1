//! Sequences: steps that must happen in order, per group, within the window — e.g. five
//! failed logins then a successful one.
//!
//! Each group keeps its recent events that matched any step (at most
//! [`MAX_SEQUENCE_EVENTS`], none older than the window). When an event matches the last
//! step, the engine walks back from it, greedily taking the latest events that satisfy each
//! earlier step the required number of times. This finds the sequence whenever one exists
//! in the window, however the steps interleave with other events. An event matching `until`
//! forgets everything before it; a completed sequence is consumed.

use super::cond::Cond;
use super::field::Value;
use super::limits::Limits;
use crate::record::{EvidenceRef, Record};
use chrono::{DateTime, Utc};
use foldhash::fast::RandomState;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::{HashMap, VecDeque};

/// Most step events one group remembers. A sequence that needs more than this many events
/// inside one window cannot be expressed; 256 covers thresholds far above real ones.
pub const MAX_SEQUENCE_EVENTS: usize = 256;

/// Step events of one group: (time, bit set of the steps the event matched, its line).
type History = VecDeque<(DateTime<Utc>, u64, EvidenceRef)>;

/// The per-group histories of one sequence rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SequenceState {
    groups: HashMap<Vec<Value>, History, RandomState>,
}

/// A completed sequence: when it started and the lines that make it up, oldest first.
#[derive(Debug)]
pub struct Completed {
    /// Time of the first event used.
    pub start: DateTime<Utc>,
    /// The events used, oldest first.
    pub evidence: Vec<EvidenceRef>,
}

impl SequenceState {
    /// Number of groups with history.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Feeds one event of group `key`. Returns the completed sequence if this event finishes
    /// one.
    pub fn push(
        &mut self,
        steps: &[(Cond, u64)],
        until: Option<&Cond>,
        within: chrono::Duration,
        key: &[Value],
        rec: &Record,
        limits: &Limits,
    ) -> Option<Completed> {
        if until.is_some_and(|u| u.eval(&rec.event)) {
            self.groups.remove(key);
            return None;
        }
        let mask = steps
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| c.eval(&rec.event))
            .fold(0u64, |m, (i, _)| m | 1 << i);
        if mask == 0 {
            return None;
        }
        let ts = rec.event.timestamp;
        if !self.groups.contains_key(key) {
            self.groups.insert(key.to_vec(), VecDeque::new());
        }
        let history = self.groups.get_mut(key).expect("inserted above");
        let horizon = ts - within;
        while history.front().is_some_and(|(t, _, _)| *t < horizon) {
            history.pop_front();
        }
        if history.len() >= limits.sequence_events {
            history.pop_front();
        }
        history.push_back((ts, mask, EvidenceRef::of(rec)));
        let last = steps.len() - 1;
        if mask & 1 << last == 0 {
            return None;
        }
        let used = match_backwards(history, steps)?;
        let evidence: Vec<EvidenceRef> = used.iter().rev().map(|&i| history[i].2.clone()).collect();
        let start = evidence.first().map_or(ts, |e| e.timestamp);
        history.clear();
        Some(Completed { start, evidence })
    }

    /// Forgets histories whose latest event left the window.
    pub fn expire(&mut self, now: DateTime<Utc>, within: chrono::Duration) {
        let horizon = now - within;
        self.groups
            .retain(|_, h| h.back().is_some_and(|(t, _, _)| *t >= horizon));
    }
}

/// Indexes of the events a completed sequence used: inline up to this many, so the walk
/// back that fails (every success with too few failures before it) allocates nothing.
const INLINE_USED: usize = 8;

/// Walks back from the newest event, taking for the last step, then the one before, ...,
/// the latest events that match it, as many as the step needs. Returns the indexes used,
/// newest first, or `None` if some step cannot be satisfied.
fn match_backwards(
    history: &History,
    steps: &[(Cond, u64)],
) -> Option<SmallVec<[usize; INLINE_USED]>> {
    let mut used = SmallVec::new();
    let mut i = history.len();
    for (step, (_, times)) in steps.iter().enumerate().rev() {
        let mut need = *times;
        while need > 0 {
            i = i.checked_sub(1)?;
            if history[i].1 & 1 << step != 0 {
                used.push(i);
                need -= 1;
            }
        }
    }
    Some(used)
}
