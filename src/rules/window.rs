//! Sliding event-time windows per group, and the incidents they open.
//!
//! One [`Windows`] per rule holds its groups. A group collects matching events inside the
//! rule's window; when the threshold is reached it opens an incident, and while matching events
//! keep coming within the quiet period they update that incident instead of opening new ones.

use super::field::Value;
use super::{Rule, Shape};
use crate::incident::{incident_id, Evidence, Incident, EVIDENCE_FIRST, EVIDENCE_LAST};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Most groups one rule tracks at once. A group costs up to a few KiB (its window's evidence),
/// so 100 000 groups stay in the hundreds of MiB even under a spoofed-source flood.
pub const MAX_GROUPS_PER_RULE: usize = 100_000;
/// Most distinct values one group of a `distinct` rule remembers (a full 65 535-port scan fits).
pub const MAX_VALUES_PER_GROUP: usize = 65_536;

/// Counters of what the windows had to give up.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CapHits {
    /// Events dropped because the rule already tracked `MAX_GROUPS_PER_RULE` groups.
    pub groups: u64,
    /// Values not remembered because a group held `MAX_VALUES_PER_GROUP`.
    pub values: u64,
}

/// An incident while it is open.
#[derive(Debug)]
struct Open {
    id: String,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    count: u64,
    first: Vec<Evidence>,
    last: VecDeque<Evidence>,
    /// Values seen during the incident (`distinct` rules).
    values: HashSet<Value>,
    dirty: bool,
}

impl Open {
    fn push_evidence(&mut self, ev: Evidence) {
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

/// One group's state.
#[derive(Debug, Default)]
struct Group {
    /// Matching events inside the window before the incident opens: (time, value, evidence).
    /// `count` keeps the latest N; `distinct` keeps the latest event per value.
    recent: VecDeque<(DateTime<Utc>, Value, Vec<Evidence>)>,
    open: Option<Open>,
    last_activity: Option<DateTime<Utc>>,
}

/// The groups of one rule.
#[derive(Debug)]
pub struct Windows {
    rule: Arc<str>,
    groups: HashMap<Vec<Value>, Group>,
    /// Incidents that closed since the last drain, with their final state.
    closed: Vec<Incident>,
    /// Cap hits so far.
    pub caps: CapHits,
}

impl Windows {
    /// Empty windows for a rule.
    pub fn new(rule: &Rule) -> Windows {
        Windows {
            rule: Arc::from(rule.name.as_str()),
            groups: HashMap::new(),
            closed: Vec::new(),
            caps: CapHits::default(),
        }
    }

    /// Number of groups tracked now.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Adds one matching event at `ts` to group `key`. `value` is the counted field's value
    /// (`distinct`), `Value::Missing` otherwise; `evidence` yields the lines to keep.
    pub fn add(
        &mut self,
        rule: &Rule,
        key: Vec<Value>,
        ts: DateTime<Utc>,
        value: Value,
        evidence: impl FnOnce() -> Vec<Evidence>,
    ) {
        let groups_full = self.groups.len() >= MAX_GROUPS_PER_RULE;
        let group = match self.groups.get_mut(&key) {
            Some(g) => g,
            None if groups_full => {
                self.caps.groups += 1;
                return;
            }
            None => self.groups.entry(key.clone()).or_default(),
        };
        group.last_activity = Some(ts);

        // An open incident that is still active absorbs the event.
        if let Some(open) = &mut group.open {
            if ts.signed_duration_since(open.last_seen).to_std().unwrap_or_default() <= rule.quiet {
                open.count += 1;
                open.last_seen = open.last_seen.max(ts);
                if value != Value::Missing && !open.values.contains(&value) {
                    if open.values.len() < MAX_VALUES_PER_GROUP {
                        open.values.insert(value);
                    } else {
                        self.caps.values += 1;
                    }
                }
                for ev in evidence() {
                    open.push_evidence(ev);
                }
                open.dirty = true;
                return;
            }
            let done = group.open.take().expect("checked above");
            self.closed.push(snapshot(&self.rule, rule, &key, done, false));
        }

        let within = chrono::Duration::from_std(rule.within).unwrap_or(chrono::Duration::MAX);
        let horizon = ts - within;
        group.recent.retain(|(t, _, _)| *t >= horizon);
        let threshold = match rule.shape {
            Shape::Distinct(_, n) => {
                if value == Value::Missing {
                    return;
                }
                group.recent.retain(|(_, v, _)| *v != value);
                if group.recent.len() >= MAX_VALUES_PER_GROUP {
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
            Shape::Join { .. } => 1,
        };
        group.recent.push_back((ts, value, evidence()));
        if group.recent.len() as u64 >= threshold {
            let first_seen = group.recent.iter().map(|(t, _, _)| *t).min().unwrap_or(ts);
            let mut open = Open {
                id: incident_id(&self.rule, &key, first_seen),
                first_seen,
                last_seen: ts,
                count: group.recent.len() as u64,
                first: Vec::new(),
                last: VecDeque::new(),
                values: HashSet::new(),
                dirty: true,
            };
            for (_, v, evs) in group.recent.drain(..) {
                if v != Value::Missing {
                    open.values.insert(v);
                }
                for ev in evs {
                    open.push_evidence(ev);
                }
            }
            group.open = Some(open);
        }
    }

    /// Closes incidents quiet since before `now` and forgets groups with nothing left in their
    /// window. Call as event time advances.
    pub fn expire(&mut self, rule: &Rule, now: DateTime<Utc>) {
        let quiet = chrono::Duration::from_std(rule.quiet).unwrap_or(chrono::Duration::MAX);
        let within = chrono::Duration::from_std(rule.within).unwrap_or(chrono::Duration::MAX);
        let name = &self.rule;
        let closed = &mut self.closed;
        self.groups.retain(|key, g| {
            if let Some(open) = &g.open {
                if now - open.last_seen > quiet {
                    let done = g.open.take().expect("checked above");
                    closed.push(snapshot(name, rule, key, done, false));
                }
            }
            g.open.is_some()
                || g.last_activity.is_some_and(|t| now - t <= within)
                    && !g.recent.is_empty()
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

fn snapshot_ref(name: &Arc<str>, rule: &Rule, key: &[Value], open: &Open, still_open: bool) -> Incident {
    let group: Vec<_> = rule.by.iter().copied().zip(key.iter().cloned()).collect();
    let distinct = matches!(rule.shape, Shape::Distinct(..)).then_some(open.values.len() as u64);
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
