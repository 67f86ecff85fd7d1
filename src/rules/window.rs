//! Sliding event-time windows per group, and the incidents they open.
//!
//! One [`Windows`] per rule holds its groups. A group collects matching events inside the
//! rule's window; when the threshold is reached it opens an incident, and while matching events
//! keep coming within the quiet period they update that incident instead of opening new ones.

use super::field::Value;
use super::limits::Limits;
use super::{Rule, Shape};
use crate::incident::{incident_id, Evidence, Incident, EVIDENCE_FIRST, EVIDENCE_LAST};
use crate::record::EvidenceRef;
use chrono::{DateTime, Utc};
use foldhash::fast::RandomState;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Most groups one rule tracks at once. A group costs up to a few KiB (its window's evidence),
/// so 100 000 groups stay in the hundreds of MiB even under a spoofed-source flood.
pub const MAX_GROUPS_PER_RULE: usize = 100_000;
/// Most distinct values one group of a `distinct` rule remembers (a full 65 535-port scan fits).
pub const MAX_VALUES_PER_GROUP: usize = 65_536;

/// Counters of what the windows had to give up.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapHits {
    /// Events dropped because the rule already tracked `[limits] groups_per_rule` groups.
    pub groups: u64,
    /// Values not remembered because a group held `[limits] values_per_group`.
    pub values: u64,
}

/// An incident while it is open.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Open {
    id: String,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    count: u64,
    first: Vec<Evidence>,
    last: VecDeque<Evidence>,
    /// Values seen during the incident (`distinct` rules).
    values: HashSet<Value, RandomState>,
    /// Distinct count kept by an outside detector (`report`), when it has one.
    reported_distinct: Option<u64>,
    dirty: bool,
}

impl Open {
    /// An incident opening with its first event at `first_seen` and its latest at `last_seen`.
    fn new(id: String, first_seen: DateTime<Utc>, last_seen: DateTime<Utc>) -> Open {
        Open {
            id,
            first_seen,
            last_seen,
            count: 0,
            first: Vec::new(),
            last: VecDeque::new(),
            values: HashSet::default(),
            reported_distinct: None,
            dirty: true,
        }
    }

    /// One more event of the incident: its time, counted value and lines.
    fn absorb(
        &mut self,
        ts: DateTime<Utc>,
        value: Value,
        lines: &[EvidenceRef],
        caps: &mut CapHits,
        max_values: usize,
    ) {
        self.count += 1;
        self.last_seen = self.last_seen.max(ts);
        if value != Value::Missing && !self.values.contains(&value) {
            if self.values.len() < max_values {
                self.values.insert(value);
            } else {
                caps.values += 1;
            }
        }
        for line in lines {
            self.push_evidence(line);
        }
        self.dirty = true;
    }

    fn push_evidence(&mut self, ev: &EvidenceRef) {
        self.push_materialized(ev.materialize());
    }

    /// Keeps `ev` unless the same line is already kept: detectors with compact state report
    /// their few evidence places again at every update.
    fn push_materialized(&mut self, ev: Evidence) {
        // The same line: same place and second, and the same text unless one of the two is
        // a place whose text is read back later.
        let same = |e: &Evidence| {
            (e.source, e.offset, e.timestamp.timestamp())
                == (ev.source, ev.offset, ev.timestamp.timestamp())
                && (e.raw == ev.raw || e.raw.is_empty() || ev.raw.is_empty())
        };
        if self.first.iter().any(same) || self.last.iter().any(same) {
            return;
        }
        if self.first.len() < EVIDENCE_FIRST {
            self.first.push(ev);
        } else {
            if self.last.len() == EVIDENCE_LAST {
                self.last.pop_front();
            }
            self.last.push_back(ev);
        }
    }
}

/// What an outside detector reports to [`Windows::report`].
#[derive(Debug)]
pub struct Report {
    /// Time of the event that made the report.
    pub ts: DateTime<Utc>,
    /// Start of the detected activity, when the detector knows it.
    pub start: Option<DateTime<Utc>>,
    /// Evidence lines (text may be unresolved).
    pub evidence: Vec<Evidence>,
    /// The detector's distinct count, if it has one.
    pub distinct: Option<u64>,
    /// Events behind a new incident (each later report adds one).
    pub count: u64,
}

/// One group's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Group {
    /// Matching events inside the window before the incident opens: (time, value, line).
    /// `count` keeps the latest N; `distinct` keeps the latest event per value. Lines are
    /// references into read buffers; text is copied only when an incident opens.
    recent: VecDeque<(DateTime<Utc>, Value, EvidenceRef)>,
    open: Option<Open>,
}

/// The groups of one rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Windows {
    rule: Arc<str>,
    groups: HashMap<Vec<Value>, Group, RandomState>,
    /// Incidents that closed since the last drain, with their final state.
    closed: Vec<Incident>,
    /// Cap hits so far.
    pub caps: CapHits,
    /// Event time of the next sweep for expired groups.
    next_expire: Option<DateTime<Utc>>,
    /// The rule's window and quiet period as chrono durations, converted once.
    within: chrono::Duration,
    quiet: chrono::Duration,
}

/// The group of `key`, created if the rule is under its group cap (else counted, `None`).
fn group_mut<'a>(
    groups: &'a mut HashMap<Vec<Value>, Group, RandomState>,
    caps: &mut CapHits,
    key: &[Value],
    max_groups: usize,
) -> Option<&'a mut Group> {
    if !groups.contains_key(key) {
        if groups.len() >= max_groups {
            caps.groups += 1;
            return None;
        }
        groups.insert(key.to_vec(), Group::default());
    }
    groups.get_mut(key)
}

impl Windows {
    /// Empty windows for a rule.
    pub fn new(rule: &Rule) -> Windows {
        Windows {
            rule: Arc::from(rule.name.as_str()),
            groups: HashMap::default(),
            closed: Vec::new(),
            caps: CapHits::default(),
            next_expire: None,
            within: chrono::Duration::from_std(rule.within).unwrap_or(chrono::Duration::MAX),
            quiet: chrono::Duration::from_std(rule.quiet).unwrap_or(chrono::Duration::MAX),
        }
    }

    /// Number of groups tracked now.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Adds one matching event of a `count` or `distinct` rule at `ts` to group `key`.
    /// `value` is the counted field's value (`distinct`), `Value::Missing` otherwise; `line`
    /// is the event's line.
    pub fn add(
        &mut self,
        rule: &Rule,
        key: &[Value],
        ts: DateTime<Utc>,
        value: Value,
        line: EvidenceRef,
        limits: &Limits,
    ) {
        let Some(group) = group_mut(
            &mut self.groups,
            &mut self.caps,
            key,
            limits.groups_per_rule,
        ) else {
            return;
        };
        // An open incident that is still active absorbs the event.
        if let Some(open) = &mut group.open {
            if ts <= open.last_seen + self.quiet {
                open.absorb(
                    ts,
                    value,
                    std::slice::from_ref(&line),
                    &mut self.caps,
                    limits.values_per_group,
                );
                return;
            }
            let done = group.open.take().expect("checked above");
            self.closed
                .push(snapshot(&self.rule, rule, key, done, false));
        }

        if let Some((oldest, _, _)) = group.recent.front() {
            let horizon = ts - self.within;
            if *oldest < horizon {
                while group.recent.front().is_some_and(|(t, _, _)| *t < horizon) {
                    group.recent.pop_front();
                }
            }
        }
        let threshold = match rule.shape {
            Shape::Distinct(_, n) => {
                if value == Value::Missing {
                    return;
                }
                if let Some(pos) = group.recent.iter().position(|(_, v, _)| *v == value) {
                    // A value already in the window: only its time moves.
                    let (_, v, line) = group.recent.remove(pos).expect("found above");
                    group.recent.push_back((ts, v, line));
                    return;
                }
                if group.recent.len() >= limits.values_per_group {
                    self.caps.values += 1;
                    group.recent.pop_front();
                }
                n
            }
            Shape::Count(n) => {
                if group.recent.len() as u64 >= n {
                    group.recent.pop_front();
                }
                n
            }
            Shape::Join { .. } | Shape::Sequence(_) | Shape::Trw(_) | Shape::FirstSeen(_) => 1,
        };
        group.recent.push_back((ts, value, line));
        if group.recent.len() as u64 >= threshold {
            let first_seen = group
                .recent
                .iter()
                .flat_map(|(t, _, line)| [*t, line.timestamp])
                .min()
                .unwrap_or(ts);
            let mut open = Open::new(incident_id(&self.rule, key, first_seen), first_seen, ts);
            open.count = group.recent.len() as u64;
            for (_, v, line) in group.recent.drain(..) {
                if v != Value::Missing {
                    open.values.insert(v);
                }
                open.push_evidence(&line);
            }
            group.open = Some(open);
        }
    }

    /// Adds a match a detector found by itself (a joined pair, a completed sequence) at `ts`
    /// to group `key`, with the lines behind it: it opens an incident at once, or updates
    /// the open one.
    pub fn add_found(
        &mut self,
        rule: &Rule,
        key: &[Value],
        ts: DateTime<Utc>,
        evidence: &[EvidenceRef],
        limits: &Limits,
    ) {
        let report = Report {
            ts,
            start: None,
            evidence: evidence.iter().map(EvidenceRef::materialize).collect(),
            distinct: None,
            count: 1,
        };
        self.report(rule, key, report, limits);
    }

    /// Opens or updates the incident of group `key` for a detector that keeps its own state
    /// (long windows, random walks, first-seen values): the threshold is already met.
    pub fn report(&mut self, rule: &Rule, key: &[Value], r: Report, limits: &Limits) {
        let Report {
            ts,
            start,
            evidence,
            distinct,
            count,
        } = r;
        let Some(group) = group_mut(
            &mut self.groups,
            &mut self.caps,
            key,
            limits.groups_per_rule,
        ) else {
            return;
        };
        if let Some(open) = &mut group.open {
            if ts <= open.last_seen + self.quiet {
                open.count += 1;
                open.last_seen = open.last_seen.max(ts);
                open.reported_distinct = distinct.or(open.reported_distinct);
                for ev in evidence {
                    open.push_materialized(ev);
                }
                open.dirty = true;
                return;
            }
            let done = group.open.take().expect("checked above");
            self.closed
                .push(snapshot(&self.rule, rule, key, done, false));
        }
        let first_seen = evidence
            .iter()
            .map(|e| e.timestamp)
            .chain(start)
            .min()
            .unwrap_or(ts)
            .min(ts);
        let mut open = Open::new(incident_id(&self.rule, key, first_seen), first_seen, ts);
        open.count = count.max(1);
        open.reported_distinct = distinct;
        for ev in evidence {
            open.push_materialized(ev);
        }
        group.open = Some(open);
    }

    /// Sweeps expired groups when event time has moved far enough since the last sweep: every
    /// half window (at least 1 s, at most 10 min), so a sweep over all groups stays rare.
    /// Incidents close up to that much later than their quiet period; a new event never
    /// joins a quiet incident, since `add` checks the quiet period itself.
    /// Returns whether it swept.
    pub fn maybe_expire(&mut self, rule: &Rule, now: DateTime<Utc>) -> bool {
        if self.next_expire.is_some_and(|t| now < t) {
            return false;
        }
        let every = (rule.within.max(rule.quiet) / 2).clamp(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(600),
        );
        self.next_expire =
            Some(now + chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX));
        self.expire(rule, now);
        true
    }

    /// Closes incidents quiet since before `now` and forgets groups with nothing left in their
    /// window.
    pub fn expire(&mut self, rule: &Rule, now: DateTime<Utc>) {
        let quiet = chrono::Duration::from_std(rule.quiet).unwrap_or(chrono::Duration::MAX);
        let within = chrono::Duration::from_std(rule.within).unwrap_or(chrono::Duration::MAX);
        let (quiet_before, window_before) = (now - quiet, now - within);
        let name = &self.rule;
        let closed = &mut self.closed;
        self.groups.retain(|key, g| {
            if let Some(open) = &g.open {
                if open.last_seen < quiet_before {
                    let done = g.open.take().expect("checked above");
                    closed.push(snapshot(name, rule, key, done, false));
                }
            }
            g.open.is_some() || g.recent.back().is_some_and(|(t, _, _)| *t >= window_before)
        });
    }

    /// Snapshots of incidents changed since the last call: updated open ones and closed ones.
    pub fn drain_updates(&mut self, rule: &Rule, out: &mut Vec<Incident>) {
        out.append(&mut self.closed);
        for (key, g) in self.groups.iter_mut() {
            if let Some(open) = &mut g.open {
                if open.dirty {
                    open.dirty = false;
                    out.push(snapshot_ref(&self.rule, rule, key, open, true));
                }
            }
        }
    }
}

fn snapshot(name: &Arc<str>, rule: &Rule, key: &[Value], open: Open, still_open: bool) -> Incident {
    snapshot_ref(name, rule, key, &open, still_open)
}

fn snapshot_ref(
    name: &Arc<str>,
    rule: &Rule,
    key: &[Value],
    open: &Open,
    still_open: bool,
) -> Incident {
    let group: Vec<_> = rule.by.iter().copied().zip(key.iter().cloned()).collect();
    let distinct = open
        .reported_distinct
        .or_else(|| matches!(rule.shape, Shape::Distinct(..)).then_some(open.values.len() as u64));
    let title = rule.title.render(
        |f| {
            group
                .iter()
                .find(|(g, _)| *g == f)
                .map_or(Value::Missing, |(_, v)| v.clone())
        },
        open.count,
        distinct.unwrap_or(0),
    );
    let mut evidence = open.first.clone();
    evidence.extend(open.last.iter().cloned());
    Incident {
        id: open.id.clone(),
        rule: name.clone(),
        severity: rule.severity,
        title,
        group,
        first_seen: open.first_seen,
        last_seen: open.last_seen,
        count: open.count,
        distinct,
        evidence,
        open: still_open,
    }
}
