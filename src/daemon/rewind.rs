//! Where a restart must re-read from: the rewind span of a rule set, the rewind time of a
//! checkpoint, and per file a ring of (offset, event time) samples that turns the time into
//! an offset.

use crate::incident::Incident;
use crate::rules::engine::LONG_WINDOW;
use crate::rules::{Rule, Shape};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Samples kept per file. When full, neighbours are merged pairwise: the ring stays exact
/// about which lines are needed, only coarser (a rewind may start up to one merged sample
/// earlier than needed; those lines are dropped by time when re-read).
pub const RING_SAMPLES: usize = 1024;

/// Whether a rule's whole state is rebuilt by re-reading its window: windows of at most
/// [`LONG_WINDOW`], and no detector whose state outlives its window (random walks remember
/// decisions, first-seen rules their learned values).
pub fn is_short(rule: &Rule) -> bool {
    rule.within <= LONG_WINDOW && !matches!(rule.shape, Shape::Trw(_) | Shape::FirstSeen(_))
}

/// How far before the watermark a restart re-reads: the longest `within` or `quiet` of the
/// short rules, plus the lateness allowance.
pub fn rewind_span(rules: &[Rule], lateness: Duration) -> Duration {
    rules
        .iter()
        .filter(|r| is_short(r))
        .map(|r| r.within.max(r.quiet))
        .max()
        .unwrap_or_default()
        + lateness
}

/// One sample: lines from `start` up to the next sample's start; the latest event time
/// among them.
type Sample = (u64, DateTime<Utc>);

/// Samples of one file, oldest first.
#[derive(Debug, Default, Clone)]
pub struct Ring {
    samples: VecDeque<Sample>,
}

impl Ring {
    /// Records that the events of lines from `start` on (up to the next sample) are no
    /// later than `max_ts`.
    pub fn push(&mut self, start: u64, max_ts: DateTime<Utc>) {
        if self.samples.len() >= RING_SAMPLES {
            let old = std::mem::take(&mut self.samples);
            let mut it = old.into_iter();
            while let Some((s, t)) = it.next() {
                let t = it.next().map_or(t, |(_, t2)| t.max(t2));
                self.samples.push_back((s, t));
            }
        }
        self.samples.push_back((start, max_ts));
    }

    /// The offset of the first sample with an event at or after `t`.
    pub fn offset_for(&self, t: DateTime<Utc>) -> Option<u64> {
        self.samples.iter().find(|(_, m)| *m >= t).map(|(s, _)| *s)
    }

    /// Forgets samples before the first one with an event at or after `t`.
    pub fn prune(&mut self, t: DateTime<Utc>) {
        while self.samples.front().is_some_and(|(_, m)| *m < t) {
            self.samples.pop_front();
        }
    }

    /// Forgets everything (the file was truncated: its old lines are gone).
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// Whether no sample is kept.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// An incident's extent, as the engine last reported it.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    quiet: chrono::Duration,
}

/// Incidents of short rules that may still matter to a rewind: those that could absorb an
/// event at some future rewind time.
#[derive(Debug, Default)]
pub struct Spans {
    /// Quiet period per short rule.
    quiet: HashMap<String, chrono::Duration>,
    spans: HashMap<String, Span>,
}

impl Spans {
    /// Tracks the incidents of the short rules among `rules`.
    pub fn new(rules: &[Rule]) -> Spans {
        Spans {
            quiet: rules
                .iter()
                .filter(|r| is_short(r))
                .map(|r| {
                    let q = chrono::Duration::from_std(r.quiet).unwrap_or(chrono::Duration::MAX);
                    (r.name.clone(), q)
                })
                .collect(),
            spans: HashMap::new(),
        }
    }

    /// Takes the latest snapshot of an incident.
    pub fn observe(&mut self, inc: &Incident) {
        if let Some(&quiet) = self.quiet.get(&*inc.rule) {
            self.spans.insert(
                inc.id.clone(),
                Span {
                    first: inc.first_seen,
                    last: inc.last_seen,
                    quiet,
                },
            );
        }
    }

    /// The rewind time for a checkpoint: `floor` (watermark minus the rewind span), moved
    /// back to the start of every incident that starts before it and could absorb an event
    /// at it (transitively: moving back may catch more), but not before `limit`. Forgets
    /// incidents that cannot matter to this or any later rewind time.
    pub fn rewind_time(&mut self, floor: DateTime<Utc>, limit: DateTime<Utc>) -> DateTime<Utc> {
        let mut by_start: Vec<Span> = self.spans.values().copied().collect();
        by_start.sort_by_key(|s| std::cmp::Reverse(s.first));
        // Latest start first: an incident passed over starts at or after any later `t`.
        let mut t = floor;
        for s in by_start {
            if s.first < t && s.last + s.quiet >= t {
                t = s.first;
            }
        }
        let t = t.max(limit);
        self.spans.retain(|_, s| s.last + s.quiet >= t);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn rules(text: &[&str]) -> Vec<Rule> {
        text.iter()
            .map(|t| crate::rules::compile_rule(std::path::Path::new("t.rule"), t).unwrap())
            .collect()
    }

    fn incident(id: &str, rule: &str, first: i64, last: i64) -> Incident {
        Incident {
            id: id.into(),
            rule: rule.into(),
            severity: Severity::Low,
            title: String::new(),
            group: vec![],
            first_seen: at(first),
            last_seen: at(last),
            count: 1,
            distinct: None,
            evidence: vec![],
            open: true,
        }
    }

    const BRUTE: &str = "rule b\ntitle \"t\"\nseverity low\ncount 8\nwithin 120s\nby source.ip\n";
    const SLOW: &str =
        "rule s\ntitle \"t\"\nseverity low\ndistinct destination.port 15\nwithin 24h\nby source.ip\n";
    const QUIET: &str =
        "rule q\ntitle \"t\"\nseverity low\ncount 1\nwithin 10s\nquiet 300s\nby source.ip\n";

    #[test]
    fn span_is_longest_short_window_or_quiet_plus_lateness() {
        let l = Duration::from_secs(5);
        assert_eq!(
            rewind_span(&rules(&[BRUTE, SLOW]), l),
            Duration::from_secs(125)
        );
        assert_eq!(
            rewind_span(&rules(&[BRUTE, QUIET]), l),
            Duration::from_secs(305)
        );
        assert_eq!(rewind_span(&rules(&[SLOW]), l), l);
        assert!(!is_short(&rules(&[SLOW])[0]));
    }

    #[test]
    fn rewind_time_reaches_back_to_incidents_that_can_still_grow() {
        let mut s = Spans::new(&rules(&[BRUTE, QUIET, SLOW]));
        // b: 100..900, could absorb up to 1020: straddles the floor 1000.
        s.observe(&incident("1", "b", 100, 900));
        // b: -100..-30, over before the new time (-30 + 120 < 100): does not matter.
        s.observe(&incident("2", "b", -100, -30));
        // Long rules are never tracked.
        s.observe(&incident("3", "s", -5000, 2000));
        assert_eq!(s.rewind_time(at(1000), at(-500)), at(100));
        // Incidents that cannot matter to this or a later rewind time are forgotten.
        assert_eq!(s.spans.len(), 1);
        // The limit bounds it; once past an incident, it is forgotten too.
        assert_eq!(s.rewind_time(at(1000), at(500)), at(500));
        assert_eq!(s.rewind_time(at(5000), at(0)), at(5000));
        assert!(s.spans.is_empty());
    }

    #[test]
    fn rewind_time_follows_chains_of_incidents() {
        let mut s = Spans::new(&rules(&[BRUTE, QUIET]));
        s.observe(&incident("1", "b", 100, 900));
        s.observe(&incident("2", "b", -100, -30));
        // q 20..90 can absorb up to 390 >= 100; then, at 20, b -100..-30 (up to 90) can too.
        s.observe(&incident("4", "q", 20, 90));
        assert_eq!(s.rewind_time(at(1000), at(-500)), at(-100));
        assert_eq!(s.spans.len(), 3);
    }

    #[test]
    fn ring_finds_first_sample_at_or_after_and_stays_bounded() {
        let mut r = Ring::default();
        r.push(0, at(10));
        r.push(100, at(5)); // out of order: still needs the first sample for t <= 10
        r.push(200, at(30));
        assert_eq!(r.offset_for(at(8)), Some(0));
        assert_eq!(r.offset_for(at(11)), Some(200));
        assert_eq!(r.offset_for(at(31)), None);
        r.prune(at(11));
        assert_eq!(r.offset_for(at(0)), Some(200));
        let mut r = Ring::default();
        for i in 0..(RING_SAMPLES as i64 * 3) {
            r.push(i as u64 * 10, at(i));
        }
        assert!(r.samples.len() <= RING_SAMPLES);
        let o = r.offset_for(at(2000)).unwrap();
        assert!((19_000..=20_000).contains(&o), "{o}");
    }
}
