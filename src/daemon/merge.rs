//! Merging live sources by event time.
//!
//! Replay merges files that are complete; live sources are not. The head record of one
//! source is released only when every other source either has a queued record (which is no
//! earlier, since the head is the earliest) or cannot be holding an earlier one: it is read
//! to its end and has been silent for the idle period. So two logs written together merge
//! as replay merges them, a backlog read in turns merges by time, and a quiet log delays
//! the others by at most the idle period.

use crate::record::Record;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Records held in the merge at most. Past it the earliest is released even if a source
/// could still send an earlier one (that one is then late): memory stays bounded when one
/// log's backlog is far ahead in time of another's.
pub const MAX_HELD: usize = 100_000;

/// One source's queue.
#[derive(Debug, Default)]
struct Queue {
    records: VecDeque<Record>,
    last_data: Option<Instant>,
}

/// The merge of every source seen so far, by source index.
#[derive(Debug, Default)]
pub struct LiveMerge {
    queues: Vec<Queue>,
    held: usize,
}

impl LiveMerge {
    /// Queues records of `source` that arrived at `now`.
    pub fn add(&mut self, source: u32, records: Vec<Record>, now: Instant) {
        let i = source as usize;
        if self.queues.len() <= i {
            self.queues.resize_with(i + 1, Queue::default);
        }
        let q = &mut self.queues[i];
        q.last_data = Some(now);
        self.held += records.len();
        q.records.extend(records);
    }

    /// Every queued record, source by source, each source's in arrival order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.queues.iter().flat_map(|q| q.records.iter())
    }

    /// Records queued.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The next record in time order, if no source can still send an earlier one.
    /// `drained`: every file was read to its end at the last poll; `idle`: the silence
    /// after which a drained source is taken to have nothing more.
    pub fn pop(&mut self, now: Instant, drained: bool, idle: Duration) -> Option<Record> {
        let (best, _) = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(i, q)| q.records.front().map(|r| (i, r.event.timestamp)))
            .min_by_key(|&(i, t)| (t, i))?;
        let force = self.held > MAX_HELD;
        let waiting = |q: &Queue| {
            q.records.is_empty()
                && (!drained || q.last_data.is_some_and(|t| now.duration_since(t) < idle))
        };
        if !force && self.queues.iter().any(waiting) {
            return None;
        }
        self.held -= 1;
        self.queues[best].records.pop_front()
    }

    /// Takes every queued record in time order, whatever sources may still send (shutdown).
    pub fn drain_all(&mut self) -> Vec<Record> {
        let mut out = Vec::with_capacity(self.held);
        while let Some(r) = self.pop(Instant::now(), true, Duration::ZERO) {
            out.push(r);
        }
        out
    }

    /// When a source that holds the merge back will have been silent for `idle`.
    pub fn next_release(&self, idle: Duration) -> Option<Instant> {
        if self.held == 0 {
            return None;
        }
        self.queues
            .iter()
            .filter(|q| q.records.is_empty())
            .filter_map(|q| q.last_data.map(|t| t + idle))
            .max()
    }

    /// The latest time any source sent records.
    pub fn last_data(&self) -> Option<Instant> {
        self.queues.iter().filter_map(|q| q.last_data).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RawLine;
    use portcullis_parsers::{Action, Dataset, Event};

    fn rec(s: i64) -> Record {
        let ts = chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap();
        Record {
            event: Event::new(ts, Dataset::Iptables, Action::Flow),
            raw: RawLine::from_text("x"),
        }
    }

    fn times(v: &[Record]) -> Vec<i64> {
        v.iter()
            .map(|r| r.event.timestamp.timestamp() - 1_700_000_000)
            .collect()
    }

    #[test]
    fn a_source_that_just_spoke_holds_back_later_records_of_others() {
        let idle = Duration::from_millis(100);
        let t0 = Instant::now();
        let mut m = LiveMerge::default();
        m.add(0, vec![rec(1), rec(5)], t0);
        m.add(1, vec![rec(2)], t0);
        let mut out = Vec::new();
        while let Some(r) = m.pop(t0, true, idle) {
            out.push(r);
        }
        // Source 1 is empty and spoke just now: 5 waits for it.
        assert_eq!(times(&out), [1, 2]);
        assert_eq!(m.next_release(idle), Some(t0 + idle));
        m.add(1, vec![rec(3)], t0);
        assert_eq!(times(&[m.pop(t0, true, idle).unwrap()]), [3]);
        assert!(m.pop(t0, true, idle).is_none());
        // Not drained: waits whatever the silence.
        assert!(m.pop(t0 + idle * 2, false, idle).is_none());
        assert_eq!(times(&[m.pop(t0 + idle, true, idle).unwrap()]), [5]);
        assert_eq!(m.held(), 0);
    }

    #[test]
    fn drain_all_is_in_time_order() {
        let t0 = Instant::now();
        let mut m = LiveMerge::default();
        m.add(2, vec![rec(4), rec(6)], t0);
        m.add(0, vec![rec(5)], t0);
        assert_eq!(times(&m.drain_all()), [4, 5, 6]);
    }
}
