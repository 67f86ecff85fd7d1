//! Sliding event-time windows per group, and the incidents they open.
//!
//! One [`Windows`] per rule holds its groups. A group collects matching events inside the
//! rule's window; when the threshold is reached it opens an incident, and while matching events
//! keep coming within the quiet period they update that incident instead of opening new ones.

use super::field::Value;
use super::key::{GroupKey, Key, ValueRef};
use super::limits::Limits;
use super::time::{nanos, span};
use super::{Rule, Shape};
use crate::incident::{incident_id, Evidence, Incident, EVIDENCE_FIRST, EVIDENCE_LAST};
use crate::record::{EvidenceRef, Record};
use chrono::{DateTime, Utc};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;
use std::collections::{HashSet, VecDeque};
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
    /// `last_seen` in nanoseconds, for the quiet-period check on every event.
    last_ns: i64,
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
            last_ns: nanos(last_seen),
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
        self.seen_at(ts);
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

    /// Moves `last_seen` on to `ts` if that is later.
    fn seen_at(&mut self, ts: DateTime<Utc>) {
        if ts > self.last_seen {
            self.last_seen = ts;
            self.last_ns = nanos(ts);
        }
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
    /// The group's key values.
    key: GroupKey,
    /// Matching records inside the window before the incident opens, with the time (ns)
    /// they count at. `count` keeps the latest N; `distinct` keeps the latest record per
    /// value, at the time its value was last seen. Records are shared with the engine; line
    /// text is copied only when an incident opens. The first inline: most groups of a
    /// 5-minute `distinct` rule (a client and a server) never see a second value.
    recent: SmallVec<[(i64, Arc<Record>); 1]>,
    /// Boxed: most groups never open one.
    open: Option<Box<Open>>,
}

/// The groups of one rule, found by a key read straight from the event.
#[derive(Debug, Clone)]
struct Groups {
    /// (hash of the key, group).
    table: HashTable<(u64, Group)>,
    /// Seed of the key hashes.
    seed: u64,
}

impl Default for Groups {
    fn default() -> Groups {
        Groups {
            table: HashTable::new(),
            seed: super::key::random_seed(),
        }
    }
}

impl Groups {
    /// The group of `key`, created if the rule is under its group cap (else counted, `None`).
    fn get_or_insert(
        &mut self,
        key: Key<'_>,
        caps: &mut CapHits,
        max_groups: usize,
    ) -> Option<&mut Group> {
        let hash = key.hash(self.seed);
        let full = self.table.len() >= max_groups;
        match self.table.entry(
            hash,
            |(h, g)| *h == hash && key.matches(&g.key),
            |(h, _)| *h,
        ) {
            hashbrown::hash_table::Entry::Occupied(o) => Some(&mut o.into_mut().1),
            hashbrown::hash_table::Entry::Vacant(_) if full => {
                caps.groups += 1;
                None
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                let group = Group {
                    key: key.to_values(),
                    ..Group::default()
                };
                Some(&mut v.insert((hash, group)).into_mut().1)
            }
        }
    }
}

impl Serialize for Groups {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.table.iter().map(|(_, g)| g))
    }
}

impl<'de> Deserialize<'de> for Groups {
    /// The groups back, hashed with this process's seed.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Groups, D::Error> {
        let mut groups = Groups::default();
        for g in Vec::<Group>::deserialize(d)? {
            let hash = Key::Values(&g.key).hash(groups.seed);
            groups.table.insert_unique(hash, (hash, g), |(h, _)| *h);
        }
        Ok(groups)
    }
}

/// The groups of one rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Windows {
    rule: Arc<str>,
    groups: Groups,
    /// Incidents that closed since the last drain, with their final state.
    closed: Vec<Incident>,
    /// Cap hits so far.
    pub caps: CapHits,
    /// Event time (ns) of the next sweep for expired groups.
    next_expire: i64,
    /// The rule's window and quiet period in nanoseconds, converted once.
    within: i64,
    quiet: i64,
}

impl Windows {
    /// Empty windows for a rule.
    pub fn new(rule: &Rule) -> Windows {
        Windows {
            rule: Arc::from(rule.name.as_str()),
            groups: Groups::default(),
            closed: Vec::new(),
            caps: CapHits::default(),
            next_expire: i64::MIN,
            within: span(rule.within),
            quiet: span(rule.quiet),
        }
    }

    /// Number of groups tracked now.
    pub fn group_count(&self) -> usize {
        self.groups.table.len()
    }

    /// Adds one matching event of a `count` or `distinct` rule, the record `rec` at `now`
    /// (ns), to group `key`. A `distinct` rule counts the value of its field, a `count` rule
    /// each event.
    pub fn add(&mut self, rule: &Rule, key: Key<'_>, rec: &Arc<Record>, now: i64, limits: &Limits) {
        let distinct = match rule.shape {
            Shape::Distinct(f, _) => Some(f),
            _ => None,
        };
        let value = distinct.map_or(ValueRef::Missing, |f| f.get_ref(&rec.event));
        let Some(group) = self
            .groups
            .get_or_insert(key, &mut self.caps, limits.groups_per_rule)
        else {
            return;
        };
        // An open incident that is still active absorbs the event.
        if let Some(open) = &mut group.open {
            if now <= open.last_ns.saturating_add(self.quiet) {
                open.absorb(
                    rec.event.timestamp,
                    value.to_value(),
                    &[EvidenceRef::of(rec)],
                    &mut self.caps,
                    limits.values_per_group,
                );
                return;
            }
            let done = group.open.take().expect("checked above");
            self.closed
                .push(snapshot(&self.rule, rule, &group.key, *done, false));
        }

        let horizon = now.saturating_sub(self.within);
        let expired = group
            .recent
            .iter()
            .take_while(|(t, _)| *t < horizon)
            .count();
        if expired > 0 {
            group.recent.drain(..expired);
        }
        let threshold = match (&rule.shape, distinct) {
            (Shape::Distinct(_, n), Some(f)) => {
                if value == ValueRef::Missing {
                    return;
                }
                let same = |(_, r): &(i64, Arc<Record>)| f.get_ref(&r.event) == value;
                if let Some(pos) = group.recent.iter().position(same) {
                    // A value already in the window: only its time moves.
                    let (_, kept) = group.recent.remove(pos);
                    group.recent.push((now, kept));
                    return;
                }
                if group.recent.len() >= limits.values_per_group {
                    self.caps.values += 1;
                    group.recent.remove(0);
                }
                *n
            }
            (Shape::Count(n), _) => {
                if group.recent.len() as u64 >= *n {
                    group.recent.remove(0);
                }
                *n
            }
            _ => 1,
        };
        group.recent.push((now, rec.clone()));
        if group.recent.len() as u64 >= threshold {
            // The earliest of the records' times and the times they count at (a late
            // record's repeated value counts at its own, earlier time).
            let ts = rec.event.timestamp;
            let first_seen = group
                .recent
                .iter()
                .map(|(t, r)| r.event.timestamp.min(DateTime::from_timestamp_nanos(*t)))
                .min()
                .unwrap_or(ts);
            let mut open = Open::new(
                incident_id(&self.rule, &group.key, first_seen),
                first_seen,
                ts,
            );
            open.count = group.recent.len() as u64;
            for (_, r) in group.recent.drain(..) {
                if let Some(f) = distinct {
                    open.values.insert(f.get(&r.event));
                }
                open.push_evidence(&EvidenceRef::of(&r));
            }
            group.open = Some(Box::new(open));
        }
    }

    /// Adds a match a detector found by itself (a joined pair, a completed sequence) at `ts`
    /// to group `key`, with the lines behind it: it opens an incident at once, or updates
    /// the open one.
    pub fn add_found(
        &mut self,
        rule: &Rule,
        key: Key<'_>,
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
    pub fn report(&mut self, rule: &Rule, key: Key<'_>, r: Report, limits: &Limits) {
        let Report {
            ts,
            start,
            evidence,
            distinct,
            count,
        } = r;
        let Some(group) = self
            .groups
            .get_or_insert(key, &mut self.caps, limits.groups_per_rule)
        else {
            return;
        };
        if let Some(open) = &mut group.open {
            if nanos(ts) <= open.last_ns.saturating_add(self.quiet) {
                open.count += 1;
                open.seen_at(ts);
                open.reported_distinct = distinct.or(open.reported_distinct);
                for ev in evidence {
                    open.push_materialized(ev);
                }
                open.dirty = true;
                return;
            }
            let done = group.open.take().expect("checked above");
            self.closed
                .push(snapshot(&self.rule, rule, &group.key, *done, false));
        }
        let first_seen = evidence
            .iter()
            .map(|e| e.timestamp)
            .chain(start)
            .min()
            .unwrap_or(ts)
            .min(ts);
        let mut open = Open::new(
            incident_id(&self.rule, &group.key, first_seen),
            first_seen,
            ts,
        );
        open.count = count.max(1);
        open.reported_distinct = distinct;
        for ev in evidence {
            open.push_materialized(ev);
        }
        group.open = Some(Box::new(open));
    }

    /// Sweeps expired groups when event time has moved far enough since the last sweep: every
    /// half window (at least 1 s, at most 10 min), so a sweep over all groups stays rare.
    /// Incidents close up to that much later than their quiet period; a new event never
    /// joins a quiet incident, since `add` checks the quiet period itself.
    /// Returns whether it swept.
    pub fn maybe_expire(&mut self, rule: &Rule, now: i64) -> bool {
        if now < self.next_expire {
            return false;
        }
        let every = (rule.within.max(rule.quiet) / 2).clamp(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(600),
        );
        self.next_expire = now.saturating_add(span(every));
        self.expire(rule, now);
        true
    }

    /// Event time (ns) of the next sweep [`Windows::maybe_expire`] makes.
    pub fn next_expire(&self) -> i64 {
        self.next_expire
    }

    /// Closes incidents quiet since before `now` (ns) and forgets groups with nothing left in
    /// their window.
    pub fn expire(&mut self, rule: &Rule, now: i64) {
        let quiet_before = now.saturating_sub(self.quiet);
        let window_before = now.saturating_sub(self.within);
        let name = &self.rule;
        let closed = &mut self.closed;
        self.groups.table.retain(|(_, g)| {
            if let Some(open) = &g.open {
                if open.last_ns < quiet_before {
                    let done = g.open.take().expect("checked above");
                    closed.push(snapshot(name, rule, &g.key, *done, false));
                }
            }
            g.open.is_some() || g.recent.last().is_some_and(|(t, _)| *t >= window_before)
        });
    }

    /// Snapshots of incidents changed since the last call: updated open ones and closed ones.
    pub fn drain_updates(&mut self, rule: &Rule, out: &mut Vec<Incident>) {
        out.append(&mut self.closed);
        for (_, g) in self.groups.table.iter_mut() {
            if let Some(open) = &mut g.open {
                if open.dirty {
                    open.dirty = false;
                    out.push(snapshot_ref(&self.rule, rule, &g.key, open, true));
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
