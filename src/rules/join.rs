//! Joins across sources: a left event (an FTP session) paired with the nearest right event (a
//! firewall or flow record) that has the same keys within a time tolerance.
//!
//! Nearest, not any: an FTP client's control connection and its passive data connections come
//! from the same address seconds apart, and only the record closest in time to the session's
//! CONNECT is the control connection.
//!
//! Right events wait in one queue in arrival (time) order; old rights leave from the front.
//! The key index is built lazily, when a left is decided: each right indexed then carries the
//! position of the previous right with the same key hash, and a table maps each hash to its
//! newest right, so a left walks its chain. Lefts are rare next to rights (an FTP session
//! per many firewall records), so a right that leaves before any left is decided was never
//! hashed: an accepted TCP record, the commonest event, costs a queue slot. Nothing is
//! allocated per key.

use super::field::Field;
use super::key::{random_seed, Key, ValueRef};
use super::limits::Limits;
use super::time::nanos;
use crate::record::{EvidenceRef, Record};
use hashbrown::HashTable;
use portcullis_parsers::Event;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::VecDeque;
use std::sync::Arc;

/// Most events one join rule holds while they wait for a partner. The tolerance is seconds,
/// so this is only reached by floods; hits are counted, never an OOM.
pub const MAX_JOIN_PENDING: usize = 200_000;

/// Stale key-table entries tolerated beyond twice the rights held, so a quiet join does
/// not sweep its table at every prune.
const STALE_SLACK: usize = 1024;

/// Marks the end of a chain of rights.
const NO_PREVIOUS: u64 = u64::MAX;

/// A left and right event that joined.
#[derive(Debug)]
pub struct Joined {
    /// The left event with every field it lacks taken from the right event.
    pub merged: Event,
    /// The two raw lines, left first.
    pub evidence: Vec<EvidenceRef>,
}

/// A right event waiting for lefts.
#[derive(Debug, Clone)]
struct Right {
    rec: Arc<Record>,
    /// Event time in nanoseconds.
    at: i64,
    /// Sequence number of the previous right with the same hash, or [`NO_PREVIOUS`].
    prev: u64,
}

/// Pending events of one join rule.
#[derive(Debug, Clone)]
pub struct JoinState {
    /// The `on` keys that must be present and equal.
    required: Vec<Field>,
    /// The `on` keys that must agree only when both events carry them.
    optional: Vec<Field>,
    /// Left events in time order, shared with the engine (never copied).
    lefts: VecDeque<Arc<Record>>,
    /// Right events in arrival order; the first has sequence number `base`.
    rights: VecDeque<Right>,
    base: u64,
    /// Sequence number of the first right not yet in the key index.
    indexed: u64,
    /// (key hash, sequence number of the newest indexed right with it).
    newest: HashTable<(u64, u64)>,
    /// Seed of the key hashes.
    seed: u64,
    /// Event time (ns) from which old right events are forgotten again (one tolerance after
    /// the last time); `None` before the first event.
    next_prune: Option<i64>,
    /// Report left events without a partner instead of pairs (`join unmatched`).
    unmatched: bool,
    /// Events dropped because `[limits] join_pending` was reached.
    pub cap_hits: u64,
}

impl Default for JoinState {
    fn default() -> JoinState {
        JoinState {
            required: Vec::new(),
            optional: Vec::new(),
            lefts: VecDeque::new(),
            rights: VecDeque::new(),
            base: 0,
            indexed: 0,
            newest: HashTable::new(),
            seed: random_seed(),
            next_prune: None,
            unmatched: false,
            cap_hits: 0,
        }
    }
}

impl JoinState {
    /// Empty state for a join on `keys` (field, optional); `unmatched` reports left events
    /// that find no partner.
    pub fn new(keys: &[(Field, bool)], unmatched: bool) -> JoinState {
        JoinState {
            required: keys.iter().filter(|k| !k.1).map(|k| k.0).collect(),
            optional: keys.iter().filter(|k| k.1).map(|k| k.0).collect(),
            unmatched,
            ..JoinState::default()
        }
    }

    /// Hash of the required keys of `e`, or `None` when one is missing (it cannot join).
    fn key_hash(&self, e: &Event) -> Option<u64> {
        let key = Key::Event(&self.required, e);
        (!key.has_missing()).then(|| key.hash(self.seed))
    }

    /// Takes an event that matched the left and/or right condition.
    /// `at` is its event time in nanoseconds.
    pub fn push(
        &mut self,
        rec: &Arc<Record>,
        at: i64,
        is_left: bool,
        is_right: bool,
        limits: &Limits,
    ) {
        if self.lefts.len() + self.rights.len() >= limits.join_pending {
            self.cap_hits += 1;
            return;
        }
        if Key::Event(&self.required, &rec.event).has_missing() {
            return;
        }
        if is_left {
            self.lefts.push_back(rec.clone());
        }
        if is_right {
            self.rights.push_back(Right {
                rec: rec.clone(),
                at,
                prev: NO_PREVIOUS,
            });
        }
    }

    /// Puts every right not yet indexed into the key index, oldest first.
    fn index(&mut self) {
        self.indexed = self.indexed.max(self.base);
        let end = self.base + self.rights.len() as u64;
        while self.indexed < end {
            let seq = self.indexed;
            self.indexed += 1;
            let i = (seq - self.base) as usize;
            // Rights are only queued with their required keys present.
            let Some(hash) = self.key_hash(&self.rights[i].rec.event) else {
                continue;
            };
            let prev = match self.newest.find_mut(hash, |e| e.0 == hash) {
                Some(slot) => std::mem::replace(&mut slot.1, seq),
                None => {
                    self.newest.insert_unique(hash, (hash, seq), |e| e.0);
                    NO_PREVIOUS
                }
            };
            self.rights[i].prev = prev;
        }
    }

    /// Event time (ns) at which [`JoinState::advance`] has work: a left's tolerance has
    /// passed, or old rights are due to be forgotten.
    pub fn due(&self, tolerance: i64) -> i64 {
        let left = self.lefts.front().map_or(i64::MAX, |l| {
            nanos(l.event.timestamp)
                .saturating_add(tolerance)
                .saturating_add(1)
        });
        left.min(self.next_prune.unwrap_or(i64::MIN))
    }

    /// Decides every left event whose tolerance window has fully passed at `now` (ns), and
    /// forgets right events too old to join any pending left.
    pub fn advance(&mut self, tolerance: i64, now: i64, out: &mut Vec<Joined>) {
        let decided_before = now.saturating_sub(tolerance);
        while self
            .lefts
            .front()
            .is_some_and(|l| nanos(l.event.timestamp) < decided_before)
        {
            let left = self.lefts.pop_front().expect("checked above");
            self.index();
            self.decide(tolerance, &left, out);
        }
        // Forgetting old right events: once per tolerance of event time.
        if self.next_prune.is_some_and(|t| now < t) {
            return;
        }
        self.next_prune = Some(now.saturating_add(tolerance));
        let horizon = now.saturating_sub(tolerance.saturating_mul(3));
        while self.rights.front().is_some_and(|r| r.at < horizon) {
            self.rights.pop_front();
            self.base += 1;
        }
        // Table entries whose newest right left are harmless (a chain stops below `base`);
        // they are swept in one pass once they outnumber the rights.
        if self.newest.len() > 2 * self.rights.len() + STALE_SLACK {
            let base = self.base;
            self.newest.retain(|e| e.1 >= base);
        }
    }

    /// Left events still waiting for their tolerance to pass.
    pub fn pending(&self) -> usize {
        self.lefts.len()
    }

    /// Decides every pending left event (end of input).
    pub fn finish(&mut self, tolerance: i64, out: &mut Vec<Joined>) {
        self.index();
        while let Some(left) = self.lefts.pop_front() {
            self.decide(tolerance, &left, out);
        }
    }

    /// The right nearest in time to `left` with equal keys, the earliest one on a tie.
    fn nearest(&self, tolerance: i64, left: &Event) -> Option<&Record> {
        let hash = self.key_hash(left)?;
        let t = nanos(left.timestamp);
        let mut seq = self.newest.find(hash, |e| e.0 == hash)?.1;
        let mut best: Option<(i64, i64, &Record)> = None;
        // Newest first: a later candidate replaces an equal one found before it.
        while seq != NO_PREVIOUS && seq >= self.base {
            let r = &self.rights[(seq - self.base) as usize];
            seq = r.prev;
            let distance = (r.at - t).abs();
            if distance > tolerance
                || !Key::Event(&self.required, left)
                    .equals(&Key::Event(&self.required, &r.rec.event))
                || !self.optional_keys_agree(left, &r.rec.event)
            {
                continue;
            }
            if best.is_none_or(|(d, at, _)| (distance, r.at) <= (d, at)) {
                best = Some((distance, r.at, &r.rec));
            }
        }
        best.map(|(_, _, r)| r)
    }

    fn optional_keys_agree(&self, a: &Event, b: &Event) -> bool {
        self.optional.iter().all(|f| {
            let (x, y) = (f.get_ref(a), f.get_ref(b));
            x == ValueRef::Missing || y == ValueRef::Missing || x == y
        })
    }

    fn decide(&self, tolerance: i64, left: &Record, out: &mut Vec<Joined>) {
        if self.key_hash(&left.event).is_none() {
            return;
        }
        match (self.nearest(tolerance, &left.event), self.unmatched) {
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

    /// Rebuilds the key table after a restore, for a join on `keys` (the table's hashes
    /// are not saved: they depend on this process's hash seed).
    pub fn reindex(&mut self, keys: &[(Field, bool)]) {
        let restored = JoinState::new(keys, self.unmatched);
        self.required = restored.required;
        self.optional = restored.optional;
        self.newest = HashTable::new();
        self.base = 0;
        self.indexed = 0;
        let required = &self.required;
        self.rights
            .retain(|r| !Key::Event(required, &r.rec.event).has_missing());
    }
}

/// What a snapshot keeps of a join: the waiting events; the key table is rebuilt.
#[derive(Serialize)]
struct JoinOut<'a> {
    lefts: &'a VecDeque<Arc<Record>>,
    rights: Vec<&'a Arc<Record>>,
    next_prune: Option<i64>,
    unmatched: bool,
    cap_hits: u64,
}

#[derive(Deserialize)]
struct JoinIn {
    lefts: VecDeque<Arc<Record>>,
    rights: Vec<Arc<Record>>,
    next_prune: Option<i64>,
    unmatched: bool,
    cap_hits: u64,
}

impl Serialize for JoinState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        JoinOut {
            lefts: &self.lefts,
            rights: self.rights.iter().map(|r| &r.rec).collect(),
            next_prune: self.next_prune,
            unmatched: self.unmatched,
            cap_hits: self.cap_hits,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for JoinState {
    /// The events back, without the key table: [`JoinState::reindex`] rebuilds it.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JoinState, D::Error> {
        let j = JoinIn::deserialize(d)?;
        Ok(JoinState {
            lefts: j.lefts,
            rights: j
                .rights
                .into_iter()
                .map(|rec| Right {
                    at: nanos(rec.event.timestamp),
                    rec,
                    prev: NO_PREVIOUS,
                })
                .collect(),
            next_prune: j.next_prune,
            unmatched: j.unmatched,
            cap_hits: j.cap_hits,
            ..JoinState::default()
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RawLine;
    use chrono::{TimeZone, Utc};
    use portcullis_parsers::{Action, Dataset};

    const SECOND: i64 = 1_000_000_000;

    /// An event at `secs` from `src` with destination port `port` (none for 0).
    fn rec(secs: i64, action: Action, src: &str, port: u16) -> Arc<Record> {
        let t =
            Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap() + chrono::Duration::seconds(secs);
        let mut e = Event::new(t, Dataset::Iptables, action);
        e.source_ip = Some(src.parse().unwrap());
        e.destination_port = (port != 0).then_some(port);
        Arc::new(Record {
            raw: RawLine::from_text(&format!("{src} {port}")),
            event: e,
        })
    }

    fn push(j: &mut JoinState, r: &Arc<Record>, is_left: bool) {
        let at = nanos(r.event.timestamp);
        j.push(r, at, is_left, !is_left, &Limits::default());
    }

    #[test]
    fn rights_are_indexed_only_when_a_left_is_decided() {
        let mut j = JoinState::new(&[(Field::SourceIp, false)], false);
        let mut out = Vec::new();
        for i in 0..10 {
            push(
                &mut j,
                &rec(i, Action::FirewallAllow, "198.51.100.5", 2000 + i as u16),
                false,
            );
        }
        let later = rec(30, Action::Flow, "198.51.100.5", 0);
        j.advance(2 * SECOND, nanos(later.event.timestamp), &mut out);
        assert_eq!(j.newest.len(), 0, "no left: nothing hashed");
        assert!(out.is_empty());
    }

    #[test]
    fn a_left_finds_rights_queued_before_and_after_an_earlier_decision() {
        let tolerance = 2 * SECOND;
        let mut j = JoinState::new(&[(Field::SourceIp, false)], false);
        let mut out = Vec::new();
        let a = "198.51.100.5";
        push(&mut j, &rec(0, Action::FirewallAllow, a, 2121), false);
        push(&mut j, &rec(1, Action::FtpConnect, a, 0), true);
        // Decides the first left: indexes the one right so far.
        let at = |s| nanos(rec(s, Action::Flow, a, 0).event.timestamp);
        j.advance(tolerance, at(4), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].merged.destination_port, Some(2121));
        // Rights queued after that decision join the chain behind the indexed one.
        push(&mut j, &rec(5, Action::FirewallAllow, a, 3131), false);
        push(&mut j, &rec(6, Action::FtpConnect, a, 0), true);
        push(&mut j, &rec(7, Action::FirewallAllow, a, 4141), false);
        j.finish(tolerance, &mut out);
        assert_eq!(out.len(), 2);
        // 5 s and 7 s are both 1 s from 6 s: the earlier one wins the tie.
        assert_eq!(out[1].merged.destination_port, Some(3131));
    }
}
