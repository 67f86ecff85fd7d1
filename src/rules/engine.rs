//! The correlation engine: puts records in event-time order, runs every rule over them and
//! collects incident updates.
//!
//! Records may arrive out of order by up to the lateness allowance; the engine holds them in a
//! reorder buffer until the watermark (latest time seen minus the allowance) passes them, so
//! live tailing and replay see the same order and raise the same incidents. A record older
//! than the watermark is counted as late and still processed at its own time.

use super::compact::{Current, LongDistinct};
use super::cond::{action_in, Cond};
use super::field::Value;
use super::first_seen::FirstSeenState;
use super::join::{JoinState, Joined};
use super::key::{Key, ValueRef};
use super::limits::Limits;
use super::sequence::SequenceState;
use super::time::{nanos, span};
use super::trw::TrwState;
use super::window::{Report, Windows};
use super::{Rule, Shape};
use crate::incident::Incident;
use crate::record::{EvidenceRef, Record};
use chrono::DateTime;
use portcullis_parsers::Action;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

// A child module only to reach the private state below: the snapshot logic lives there.
#[path = "snapshot.rs"]
pub mod snapshot;

/// Default lateness allowance: lines of one source and of sources merged by time may be this
/// much out of order and still be correlated exactly. Syslog relays and per-thread writers are
/// usually well under a second apart; 5 s leaves margin without delaying incidents much.
pub const DEFAULT_LATENESS: Duration = Duration::from_secs(5);

/// Engine counters, shown by replay and `stats`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStats {
    /// Records processed.
    pub events: u64,
    /// Records that arrived behind the watermark.
    pub late: u64,
    /// Events not tracked because a rule's group cap was reached.
    pub group_cap_hits: u64,
    /// Values not remembered because a group's value cap was reached.
    pub value_cap_hits: u64,
    /// Join candidates dropped at the join cap.
    pub join_cap_hits: u64,
}

/// One rule and its state.
struct Running {
    rule: Rule,
    /// `rule.within` as a chrono duration, computed once.
    within: chrono::Duration,
    /// `rule.within` in nanoseconds (a join's tolerance).
    within_ns: i64,
    /// `rule.learn` as a chrono duration, computed once.
    learn: chrono::Duration,
    /// Actions of the events the rule can look at (its filter's, for a join both sides'):
    /// every other event skips the rule after one AND.
    actions: u32,
    /// The rule's tests for an event that passed `actions`: the filter, or for a join the
    /// left and right conditions with their own action masks. Action tests the mask
    /// already settles are left out ([`Cond::given_actions`]).
    tests: Tests,
    windows: Windows,
    join: JoinState,
    sequence: SequenceState,
    long: LongDistinct,
    trw: TrwState,
    first_seen: FirstSeenState,
}

/// Windows longer than this keep compact state (value hashes, evidence by place) instead of
/// the events themselves: an hour of events per group is the most worth holding in memory.
pub const LONG_WINDOW: Duration = Duration::from_secs(3600);

/// Most record allocations kept for reuse: the watermark moves in whole seconds on logs
/// with second timestamps, releasing a second's records at once; 64 covers most of such a
/// batch while holding at most 64 records (and their read buffers) alive.
const SPARE_RECORDS: usize = 64;

/// Runs a rule set over a stream of records.
pub struct Engine {
    rules: Vec<Running>,
    /// For each action (by its index in `Action::ALL`), the rules whose action prefilter
    /// it passes, in rule order: an event visits only those.
    by_action: Vec<Vec<usize>>,
    /// Records not yet released, sorted by (time, arrival). Input is nearly ordered, so an
    /// insertion from the back costs O(1) moves in the common case. Each record is boxed
    /// once here: the buffer moves pointers, and join state shares the record instead of
    /// copying its event.
    /// Each with its event time in nanoseconds.
    buffer: VecDeque<(i64, Arc<Record>)>,
    /// Record allocations no rule kept, reused by the next pushes instead of new ones.
    spare: Vec<Arc<Record>>,
    /// Scratch space for group keys, reused so a lookup allocates nothing.
    key: Vec<Value>,
    /// Scratch space for a second list of values (contacts, first-seen state keys).
    values: Vec<Value>,
    /// Latest event time seen (ns).
    max_seen: Option<i64>,
    /// Time of the latest record released to the rules (ns).
    released: Option<i64>,
    /// The lateness allowance in nanoseconds.
    lateness: i64,
    /// Event time (ns) at which some rule has time-driven work (a sweep, a join to decide);
    /// before it, an event only goes to the rules that want its action.
    next_tick: i64,
    joined: Vec<Joined>,
    stats: EngineStats,
    /// Caps on the rules' state.
    limits: Limits,
}

impl Engine {
    /// An engine for `rules` with the given lateness allowance and the default caps.
    pub fn new(rules: Vec<Rule>, lateness: Duration) -> Engine {
        Engine::with_limits(rules, lateness, Limits::default())
    }

    /// An engine for `rules` with the given lateness allowance and caps on its state.
    pub fn with_limits(rules: Vec<Rule>, lateness: Duration, limits: Limits) -> Engine {
        let rules: Vec<Running> = rules
            .into_iter()
            .map(|rule| Running {
                within: chrono::Duration::from_std(rule.within).unwrap_or(chrono::Duration::MAX),
                within_ns: span(rule.within),
                learn: chrono::Duration::from_std(rule.learn).unwrap_or(chrono::Duration::MAX),
                actions: match &rule.shape {
                    Shape::Join { left, right, .. } => left.actions() | right.actions(),
                    _ => rule.filter.actions(),
                },
                tests: Tests::new(&rule),
                windows: Windows::new(&rule),
                join: match &rule.shape {
                    Shape::Join {
                        keys, unmatched, ..
                    } => JoinState::new(keys, *unmatched),
                    _ => JoinState::default(),
                },
                sequence: SequenceState::default(),
                long: LongDistinct::default(),
                trw: TrwState::default(),
                first_seen: FirstSeenState::default(),
                rule,
            })
            .collect();
        let by_action = Action::ALL
            .iter()
            .map(|a| {
                (0..rules.len())
                    .filter(|&i| action_in(rules[i].actions, *a))
                    .collect()
            })
            .collect();
        Engine {
            rules,
            by_action,
            buffer: VecDeque::new(),
            spare: Vec::new(),
            key: Vec::new(),
            values: Vec::new(),
            max_seen: None,
            released: None,
            lateness: span(lateness),
            next_tick: i64::MIN,
            joined: Vec::new(),
            stats: EngineStats::default(),
            limits,
        }
    }

    /// Replaces the caps on the rules' state (a restored snapshot gets the configured ones).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Takes one record. It is correlated once the watermark passes it.
    pub fn push(&mut self, rec: Record) {
        let ts = nanos(rec.event.timestamp);
        let rec = match self.spare.pop() {
            Some(mut spare) => match Arc::get_mut(&mut spare) {
                Some(slot) => {
                    *slot = rec;
                    spare
                }
                None => Arc::new(rec),
            },
            None => Arc::new(rec),
        };
        if self.released.is_some_and(|r| ts < r) {
            self.stats.late += 1;
            self.process(&rec, ts);
            return;
        }
        // After every record with time <= ts: equal times keep their arrival order. Input
        // is nearly ordered: most records go to the back.
        if self.buffer.back().is_none_or(|(t, _)| *t <= ts) {
            self.buffer.push_back((ts, rec));
        } else {
            let at = self.buffer.len()
                - self
                    .buffer
                    .iter()
                    .rev()
                    .take_while(|(t, _)| *t > ts)
                    .count();
            self.buffer.insert(at, (ts, rec));
        }
        let max = self.max_seen.map_or(ts, |m| m.max(ts));
        self.max_seen = Some(max);
        let watermark = max.saturating_sub(self.lateness);
        while self.buffer.front().is_some_and(|(t, _)| *t <= watermark) {
            self.release_front();
        }
    }

    /// Correlates the oldest buffered record.
    fn release_front(&mut self) {
        if let Some((t, r)) = self.buffer.pop_front() {
            self.released = Some(t);
            self.process(&r, t);
            // Still only ours: no rule keeps it, its allocation serves the next record.
            if Arc::strong_count(&r) == 1 && self.spare.len() < SPARE_RECORDS {
                self.spare.push(r);
            }
        }
    }

    /// End of input: correlates everything still buffered and decides pending joins.
    /// Open incidents stay open.
    pub fn finish(&mut self) {
        while !self.buffer.is_empty() {
            self.release_front();
        }
        for r in &mut self.rules {
            if let Shape::Join { .. } = &r.rule.shape {
                r.join.finish(r.within_ns, &mut self.joined);
                for j in self.joined.drain(..) {
                    record_join(r, j, &self.limits);
                }
            }
        }
    }

    /// Input has been silent for `idle` (wall clock): releases every buffered record (nothing
    /// is left to reorder them with), then lets joins decide the events whose tolerance has
    /// passed as if event time had moved on by `idle` since the newest record. Unlike
    /// [`Engine::finish`], an event still within its join tolerance keeps waiting for a
    /// partner that may arrive late from another source.
    pub fn flush_idle(&mut self, idle: Duration) {
        while !self.buffer.is_empty() {
            self.release_front();
        }
        let Some(max) = self.max_seen else {
            return;
        };
        let now = max.saturating_add(span(idle));
        for r in &mut self.rules {
            if let Shape::Join { .. } = &r.rule.shape {
                r.join.advance(r.within_ns, now, &mut self.joined);
                for j in self.joined.drain(..) {
                    record_join(r, j, &self.limits);
                }
            }
        }
    }

    /// Join events still waiting for a partner, over all rules.
    pub fn pending_joins(&self) -> usize {
        self.rules.iter().map(|r| r.join.pending()).sum()
    }

    /// Snapshots of every incident opened, updated or closed since the last call.
    pub fn take_updates(&mut self) -> Vec<Incident> {
        let mut out = Vec::new();
        for r in &mut self.rules {
            r.windows.drain_updates(&r.rule, &mut out);
        }
        out
    }

    /// Counters so far.
    pub fn stats(&self) -> EngineStats {
        let mut s = self.stats;
        for r in &self.rules {
            s.group_cap_hits += r.windows.caps.groups;
            s.value_cap_hits += r.windows.caps.values;
            s.join_cap_hits += r.join.cap_hits;
            s.group_cap_hits += r.long.cap_hits + r.trw.cap_hits;
            s.value_cap_hits += r.first_seen.cap_hits + r.long.evictions;
        }
        s
    }

    /// Groups currently tracked, over all rules (a memory indicator).
    pub fn groups(&self) -> usize {
        self.rules
            .iter()
            .map(|r| {
                r.windows.group_count()
                    + r.sequence.group_count()
                    + r.long.group_count()
                    + r.trw.group_count()
                    + r.first_seen.group_count()
            })
            .sum()
    }

    /// Time-driven work due at `now` (ns), rule by rule: sweeps of expired groups, joins
    /// whose tolerance has passed. Then the time of the next such work.
    fn tick(&mut self, now: i64) {
        let mut next = i64::MAX;
        for r in &mut self.rules {
            if r.windows.maybe_expire(&r.rule, now) {
                let at = DateTime::from_timestamp_nanos(now);
                r.sequence.expire(at, r.within);
                r.long.expire(at, r.within);
                r.trw.expire(at, r.within);
            }
            next = next.min(r.windows.next_expire());
            if let Shape::Join { .. } = &r.rule.shape {
                if now >= r.join.due(r.within_ns) {
                    r.join.advance(r.within_ns, now, &mut self.joined);
                    for j in self.joined.drain(..) {
                        record_join(r, j, &self.limits);
                    }
                }
                next = next.min(r.join.due(r.within_ns));
            }
        }
        self.next_tick = next;
    }

    /// Runs every rule over one record, whose event time is `now` (ns).
    fn process(&mut self, rec: &Arc<Record>, now: i64) {
        self.stats.events += 1;
        let ts = rec.event.timestamp;
        if now >= self.next_tick {
            self.tick(now);
        }
        let e = &rec.event;
        let cur = Current::new(rec);
        let Engine {
            rules,
            by_action,
            key: scratch_key,
            values,
            limits,
            next_tick,
            ..
        } = self;
        let limits = &*limits;
        for &i in &by_action[e.action as usize] {
            let r = &mut rules[i];
            let within = r.within;
            let action = e.action;
            match &r.tests {
                Tests::Join { left, right } => {
                    // The allowlist applies to the joined pair (`record_join`).
                    let is_left = action_in(left.0, action) && left.1.eval(e);
                    let is_right = action_in(right.0, action) && right.1.eval(e);
                    if is_left || is_right {
                        r.join.push(rec, now, is_left, is_right, limits);
                    }
                    // Only a new left can bring the join's next decision forward: its
                    // pruning time moves only when `tick` runs it.
                    if is_left {
                        *next_tick = (*next_tick).min(r.join.due(r.within_ns));
                    }
                    continue;
                }
                Tests::Filter(Cond::True) => {}
                Tests::Filter(filter) => {
                    if !filter.eval(e) {
                        continue;
                    }
                }
            }
            if r.rule.allow.iter().any(|c| c.eval(e)) {
                continue;
            }
            let key = Key::Event(&r.rule.by, e);
            match &r.rule.shape {
                // Handled above.
                Shape::Join { .. } => {}
                Shape::Sequence(steps) => {
                    scratch_key.clear();
                    scratch_key.extend(r.rule.by.iter().map(|f| f.get(e)));
                    let done = r.sequence.push(
                        steps,
                        r.rule.until.as_ref(),
                        within,
                        scratch_key,
                        rec,
                        limits,
                    );
                    if let Some(done) = done {
                        r.windows
                            .add_found(&r.rule, key, ts, &done.evidence, limits);
                    }
                }
                Shape::Distinct(field, n) if r.rule.within > LONG_WINDOW => {
                    let value = field.get_ref(e);
                    if value == ValueRef::Missing {
                        continue;
                    }
                    if let Some((d, mut ev, start)) =
                        r.long.add(key, value, within, *n, &cur, limits)
                    {
                        if let Some(last) = ev.last_mut() {
                            *last = EvidenceRef::of(rec).materialize();
                        }
                        let report = Report {
                            ts,
                            start: Some(start),
                            evidence: ev,
                            distinct: Some(d),
                            count: d,
                        };
                        r.windows.report(&r.rule, key, report, limits);
                    }
                }
                Shape::Trw(fields) => {
                    let contact = Key::Event(fields, e);
                    if contact.has_missing() {
                        continue;
                    }
                    if let Some(v) = r.trw.push(key, contact, &cur, now, limits) {
                        let report = Report {
                            ts,
                            start: None,
                            evidence: v.evidence,
                            distinct: Some(v.contacts),
                            count: v.contacts,
                        };
                        r.windows.report(&r.rule, key, report, limits);
                    }
                }
                Shape::FirstSeen(field) => {
                    let value = field.get(e);
                    values.clear();
                    values.extend(r.rule.by.iter().filter(|f| *f != field).map(|f| f.get(e)));
                    if let Some(mut ev) = r.first_seen.push(values, &value, r.learn, &cur, limits) {
                        ev[0] = EvidenceRef::of(rec).materialize();
                        let report = Report {
                            ts,
                            start: None,
                            evidence: ev,
                            distinct: None,
                            count: 1,
                        };
                        r.windows.report(&r.rule, key, report, limits);
                    }
                }
                Shape::Count(_) | Shape::Distinct(..) => {
                    r.windows.add(&r.rule, key, rec, now, limits);
                }
            }
        }
    }
}

/// A rule's conditions prepared for the engine's action prefilter.
enum Tests {
    /// A rule's filter, given its action mask.
    Filter(Cond),
    /// A join's sides: each action mask with its condition given that mask.
    Join {
        left: (u32, Cond),
        right: (u32, Cond),
    },
}

impl Tests {
    fn new(rule: &Rule) -> Tests {
        let side = |c: &Cond| (c.actions(), c.given_actions(c.actions()));
        match &rule.shape {
            Shape::Join { left, right, .. } => Tests::Join {
                left: side(left),
                right: side(right),
            },
            _ => Tests::Filter(rule.filter.given_actions(rule.filter.actions())),
        }
    }
}

/// Feeds a joined pair that passes the rule's filter into its windows.
fn record_join(r: &mut Running, j: Joined, limits: &Limits) {
    if !r.rule.filter.eval(&j.merged) || r.rule.allow.iter().any(|c| c.eval(&j.merged)) {
        return;
    }
    let ts = j.merged.timestamp;
    let key = Key::Event(&r.rule.by, &j.merged);
    r.windows.add_found(&r.rule, key, ts, &j.evidence, limits);
}
