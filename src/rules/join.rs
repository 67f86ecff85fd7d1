//! Joins across sources: a left event (an FTP session) paired with the nearest right event (a
//! firewall or flow record) that has the same keys within a time tolerance.
//!
//! Nearest, not any: an FTP client's control connection and its passive data connections come
//! from the same address seconds apart, and only the record closest in time to the session's
//! CONNECT is the control connection.

use super::field::{Field, Value};
use super::limits::Limits;
use crate::record::{EvidenceRef, Record};
use chrono::{DateTime, Utc};
use portcullis_parsers::Event;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Most events one join rule holds while they wait for a partner. The tolerance is seconds,
/// so this is only reached by floods; hits are counted, never an OOM.
pub const MAX_JOIN_PENDING: usize = 200_000;

/// A left and right event that joined.
#[derive(Debug)]
pub struct Joined {
    /// The left event with every field it lacks taken from the right event.
    pub merged: Event,
    /// The two raw lines, left first.
    pub evidence: Vec<EvidenceRef>,
}

/// Pending events of one join rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JoinState {
    /// Left events in time order, shared with the engine (never copied).
    lefts: VecDeque<Arc<Record>>,
    rights: HashMap<Vec<Value>, VecDeque<Arc<Record>>, foldhash::fast::RandomState>,
    right_len: usize,
    /// Event time from which old right events are forgotten again (one tolerance after the
    /// last time), so the per-event check is a comparison, not date arithmetic.
    next_prune: Option<DateTime<Utc>>,
    /// Report left events without a partner instead of pairs (`join unmatched`).
    unmatched: bool,
    /// Events dropped because `[limits] join_pending` was reached.
    pub cap_hits: u64,
}

/// The required keys of an event, or `None` when one is missing (it cannot join).
fn primary_key(keys: &[(Field, bool)], e: &Event) -> Option<Vec<Value>> {
    keys.iter()
        .filter(|(_, optional)| !optional)
        .map(|(f, _)| Some(f.get(e)).filter(|v| *v != Value::Missing))
        .collect()
}

fn optional_keys_agree(keys: &[(Field, bool)], a: &Event, b: &Event) -> bool {
    keys.iter().filter(|(_, optional)| *optional).all(|(f, _)| {
        let (x, y) = (f.get(a), f.get(b));
        x == Value::Missing || y == Value::Missing || x == y
    })
}

impl JoinState {
    /// Empty state; `unmatched` reports left events that find no partner.
    pub fn new(unmatched: bool) -> JoinState {
        JoinState {
            unmatched,
            ..JoinState::default()
        }
    }

    /// Takes an event that matched the left and/or right condition.
    pub fn push(
        &mut self,
        keys: &[(Field, bool)],
        rec: &Arc<Record>,
        is_left: bool,
        is_right: bool,
        limits: &Limits,
    ) {
        if self.lefts.len() + self.right_len >= limits.join_pending {
            self.cap_hits += 1;
            return;
        }
        let Some(k) = primary_key(keys, &rec.event) else {
            return;
        };
        if is_left {
            self.lefts.push_back(rec.clone());
        }
        if is_right {
            self.rights.entry(k).or_default().push_back(rec.clone());
            self.right_len += 1;
        }
    }

    /// Decides every left event whose tolerance window has fully passed at `now`, and forgets
    /// right events too old to join any pending left.
    pub fn advance(
        &mut self,
        keys: &[(Field, bool)],
        tolerance: chrono::Duration,
        now: DateTime<Utc>,
        out: &mut Vec<Joined>,
    ) {
        // `l.timestamp < now - tolerance`, without date arithmetic while nothing is pending.
        if self.lefts.front().is_some() {
            let decided_before = now - tolerance;
            while self
                .lefts
                .front()
                .is_some_and(|l| l.event.timestamp < decided_before)
            {
                let left = self.lefts.pop_front().expect("checked above");
                self.decide(keys, tolerance, &left, out);
            }
        }
        // Forgetting old right events walks every key: do it once per tolerance of event time.
        if self.next_prune.is_some_and(|t| now < t) {
            return;
        }
        self.next_prune = Some(
            now.checked_add_signed(tolerance)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
        let horizon = now - tolerance - tolerance - tolerance;
        let mut removed = 0;
        self.rights.retain(|_, q| {
            while q.front().is_some_and(|r| r.event.timestamp < horizon) {
                q.pop_front();
                removed += 1;
            }
            !q.is_empty()
        });
        self.right_len -= removed;
    }

    /// Left events still waiting for their tolerance to pass.
    pub fn pending(&self) -> usize {
        self.lefts.len()
    }

    /// Decides every pending left event (end of input).
    pub fn finish(
        &mut self,
        keys: &[(Field, bool)],
        tolerance: chrono::Duration,
        out: &mut Vec<Joined>,
    ) {
        while let Some(left) = self.lefts.pop_front() {
            self.decide(keys, tolerance, &left, out);
        }
    }

    fn decide(
        &self,
        keys: &[(Field, bool)],
        tolerance: chrono::Duration,
        left: &Record,
        out: &mut Vec<Joined>,
    ) {
        let Some(k) = primary_key(keys, &left.event) else {
            return;
        };
        let t = left.event.timestamp;
        let best = self.rights.get(&k).and_then(|candidates| {
            candidates
                .iter()
                .filter(|r| (r.event.timestamp - t).abs() <= tolerance)
                .filter(|r| optional_keys_agree(keys, &left.event, &r.event))
                .min_by_key(|r| ((r.event.timestamp - t).abs(), r.event.timestamp))
        });
        match (best, self.unmatched) {
            (Some(right), false) => out.push(Joined {
                merged: overlay(&left.event, &right.event),
                evidence: vec![EvidenceRef::of(left), EvidenceRef::of(right)],
            }),
            (None, true) => out.push(Joined {
                merged: left.event.clone(),
                evidence: vec![EvidenceRef::of(left)],
            }),
            _ => {}
        }
    }
}

/// `left` with each absent field filled from `right`.
fn overlay(left: &Event, right: &Event) -> Event {
    let mut m = left.clone();
    m.source_ip = m.source_ip.or(right.source_ip);
    m.source_port = m.source_port.or(right.source_port);
    m.destination_ip = m.destination_ip.or(right.destination_ip);
    m.destination_port = m.destination_port.or(right.destination_port);
    m.transport = m.transport.or(right.transport);
    m.bytes = m.bytes.or(right.bytes);
    m.packets = m.packets.or(right.packets);
    m.tcp_flags = m.tcp_flags.or(right.tcp_flags);
    m.user_name = m.user_name.or_else(|| right.user_name.clone());
    m.ftp_anonymous |= right.ftp_anonymous;
    m.file_path = m.file_path.or_else(|| right.file_path.clone());
    m.file_size = m.file_size.or(right.file_size);
    m.host_name = m.host_name.or_else(|| right.host_name.clone());
    m.observer_ip = m.observer_ip.or(right.observer_ip);
    m.process_pid = m.process_pid.or(right.process_pid);
    m.rule_name = m.rule_name.or_else(|| right.rule_name.clone());
    m.interface_in = m.interface_in.or_else(|| right.interface_in.clone());
    m.interface_out = m.interface_out.or_else(|| right.interface_out.clone());
    m
}
