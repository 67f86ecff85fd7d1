//! Threshold random walk (Jung, Paxson, Berger, Balakrishnan, "Fast Portscan Detection Using
//! Sequential Hypothesis Testing", IEEE S&P 2004).
//!
//! For each remote source, every *first* contact with a new destination (a new value of the
//! rule's contact fields) is a Bernoulli trial: success (the connection was accepted) or
//! failure (denied, or a SYN that was never answered). A benign host mostly succeeds
//! (θ0 = 0.8), a scanner mostly fails (θ1 = 0.2). Wald's sequential test multiplies the
//! likelihood ratio by θ1/θ0 on success and (1−θ1)/(1−θ0) on failure, and decides "scanner"
//! when it reaches β/α = 99 and "benign" when it falls to (1−β)/(1−α) ≈ 0.0101 (α = 0.01,
//! β = 0.99). With these numbers four straight failures decide a scanner.

use super::compact::{secs, sweep_every, Current, Place};
use super::key::Key;
use super::limits::Limits;
use crate::incident::Evidence;
use chrono::{DateTime, Utc};
use portcullis_parsers::{Action, Event, Outcome, TcpFlags};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// P(success | benign).
pub const THETA_0: f32 = 0.8;
/// P(success | scanner).
pub const THETA_1: f32 = 0.2;
/// False positive bound.
pub const ALPHA: f32 = 0.01;
/// Detection probability.
pub const BETA: f32 = 0.99;
/// Contacts remembered per undecided source; a decision comes long before.
pub const MAX_CONTACTS: usize = 32;
/// Nanoseconds in a second.
const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Evidence places kept per source.
const TRW_EVIDENCE: usize = 8;

/// The outcome of a first contact, from an event: `None` when the event cannot tell.
pub fn contact_outcome(e: &Event) -> Option<bool> {
    if e.action == Action::Flow {
        let flags = e.tcp_flags?;
        if flags.contains(TcpFlags::ACK) {
            return Some(true);
        }
        return flags.contains(TcpFlags::SYN).then_some(false);
    }
    match e.outcome {
        Outcome::Success => Some(true),
        Outcome::Failure => Some(false),
        Outcome::Unknown => None,
    }
}

/// Contacts and evidence places a walk holds without a heap allocation. A walk decides
/// after four first contacts when they agree; most sources on a benign day make fewer, so
/// their walk never allocates.
const INLINE_CONTACTS: usize = 4;

/// Where one source's walk stands. The vectors encode as plain sequences, as `Vec` did.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Walk {
    /// Log-likelihood ratio so far.
    llr: f32,
    /// Decided: scanner (`Some(true)`) or benign (`Some(false)`).
    decided: Option<bool>,
    contacts: SmallVec<[u32; INLINE_CONTACTS]>,
    places: SmallVec<[Place; INLINE_CONTACTS]>,
    last: u32,
}

/// Random walks of one rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrwState {
    walks: HashMap<u64, Walk, foldhash::fast::RandomState>,
    next_sweep: u32,
    step_success: f32,
    step_failure: f32,
    upper: f32,
    lower: f32,
    /// Events dropped at the group cap.
    pub cap_hits: u64,
}

impl Default for TrwState {
    fn default() -> Self {
        TrwState {
            walks: HashMap::default(),
            next_sweep: 0,
            step_success: (THETA_1 / THETA_0).ln(),
            step_failure: ((1.0 - THETA_1) / (1.0 - THETA_0)).ln(),
            upper: (BETA / ALPHA).ln(),
            lower: ((1.0 - BETA) / (1.0 - ALPHA)).ln(),
            cap_hits: 0,
        }
    }
}

/// A source the walk declared a scanner, or one already declared that makes a new contact.
#[derive(Debug)]
pub struct Verdict {
    /// First contacts evaluated so far.
    pub contacts: u64,
    /// Evidence for the contacts (places only).
    pub evidence: Vec<Evidence>,
}

impl TrwState {
    /// Number of sources tracked.
    pub fn group_count(&self) -> usize {
        self.walks.len()
    }

    /// Feeds an event of source `key` contacting `contact`, at event time `at` (ns).
    /// Returns a verdict when the walk decides "scanner" with this event, or when a declared
    /// scanner makes a new contact.
    pub fn push(
        &mut self,
        key: Key<'_>,
        contact: Key<'_>,
        rec: &Current<'_>,
        at: i64,
        limits: &Limits,
    ) -> Option<Verdict> {
        let outcome = contact_outcome(&rec.event)?;
        let k = key.stable_hash();
        let full = self.walks.len() >= limits.compact_groups;
        let (up, down, upper, lower) =
            (self.step_failure, self.step_success, self.upper, self.lower);
        // One lookup: most events come from a source already walking.
        let walk = match self.walks.entry(k) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(_) if full => {
                self.cap_hits += 1;
                return None;
            }
            Entry::Vacant(v) => v.insert(Walk::default()),
        };
        // `secs` of the event time, from the nanoseconds the engine already has.
        walk.last = at.div_euclid(NANOS_PER_SEC).clamp(0, i64::from(u32::MAX)) as u32;
        if walk.decided == Some(false) {
            return None;
        }
        let c = {
            let h = contact.stable_hash();
            (h ^ (h >> 32)) as u32
        };
        if walk.contacts.contains(&c) {
            return None;
        }
        if walk.contacts.len() >= limits.trw_contacts {
            walk.contacts.remove(0);
        }
        walk.contacts.push(c);
        if walk.places.len() < TRW_EVIDENCE {
            walk.places.push(rec.place());
        }
        let was_scanner = walk.decided == Some(true);
        walk.llr += if outcome { down } else { up };
        if !was_scanner {
            if walk.llr >= upper {
                walk.decided = Some(true);
            } else if walk.llr <= lower {
                walk.decided = Some(false);
                walk.contacts = SmallVec::new();
                walk.places = SmallVec::new();
                return None;
            } else {
                return None;
            }
        }
        let evidence = if was_scanner {
            vec![rec.place().evidence()]
        } else {
            walk.places.iter().map(Place::evidence).collect()
        };
        Some(Verdict {
            contacts: walk.contacts.len() as u64,
            evidence,
        })
    }

    /// Forgets sources idle for longer than the window.
    pub fn expire(&mut self, now: DateTime<Utc>, window: chrono::Duration) {
        let now = secs(now);
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now.saturating_add(sweep_every(window));
        let horizon = now.saturating_sub(window.num_seconds().clamp(0, i64::from(u32::MAX)) as u32);
        self.walks.retain(|_, w| w.last >= horizon);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RawLine, Record};
    use crate::rules::field::Value;
    use chrono::TimeZone;
    use portcullis_parsers::Dataset;

    fn contact(i: u8, outcome: Outcome) -> (Vec<Value>, Record) {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, i.into()).unwrap();
        let mut e = Event::new(t, Dataset::Iptables, Action::FirewallDeny);
        e.outcome = outcome;
        let dst = Value::Ip(format!("203.0.113.{i}").parse().unwrap());
        (
            vec![dst],
            Record {
                event: e,
                raw: RawLine::from_text("x"),
            },
        )
    }

    /// Contact `i` of the source `key` with `outcome`, through [`TrwState::push`].
    fn push(s: &mut TrwState, key: &[Value], i: u8, outcome: Outcome) -> Option<Verdict> {
        let (c, r) = contact(i, outcome);
        s.push(
            Key::Values(key),
            Key::Values(&c),
            &Current::new(&r),
            crate::rules::time::nanos(r.event.timestamp),
            &Limits::default(),
        )
    }

    #[test]
    fn four_failed_first_contacts_decide_a_scanner() {
        let mut s = TrwState::default();
        let key = [Value::Ip("192.0.2.9".parse().unwrap())];
        for i in 1..=3 {
            assert!(
                push(&mut s, &key, i, Outcome::Failure).is_none(),
                "decided after {i}"
            );
        }
        // A repeated contact is not a first contact.
        assert!(push(&mut s, &key, 3, Outcome::Failure).is_none());
        let v = push(&mut s, &key, 4, Outcome::Failure).expect("scanner after 4 failures");
        assert_eq!(v.contacts, 4);
        assert_eq!(v.evidence.len(), 4);
    }

    #[test]
    fn a_benign_host_is_decided_and_then_ignored() {
        let mut s = TrwState::default();
        let key = [Value::Ip("198.51.100.1".parse().unwrap())];
        for i in 1..=4 {
            assert!(push(&mut s, &key, i, Outcome::Success).is_none());
        }
        for i in 10..30 {
            assert!(
                push(&mut s, &key, i, Outcome::Failure).is_none(),
                "benign host re-walked at {i}"
            );
        }
    }

    #[test]
    fn mixed_outcomes_need_more_evidence() {
        let mut s = TrwState::default();
        let key = [Value::Ip("192.0.2.10".parse().unwrap())];
        let outcomes = [
            Outcome::Failure,
            Outcome::Success,
            Outcome::Failure,
            Outcome::Failure,
            Outcome::Failure,
        ];
        let mut decided_at = None;
        for (i, o) in outcomes.into_iter().enumerate() {
            if push(&mut s, &key, i as u8 + 1, o).is_some() {
                decided_at = Some(i + 1);
                break;
            }
        }
        assert_eq!(
            decided_at, None,
            "F S F F F sums to 3 failures net: not yet"
        );
        assert!(push(&mut s, &key, 9, Outcome::Failure).is_some());
    }

    #[test]
    fn flow_outcomes_come_from_tcp_flags() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let mut e = Event::new(t, Dataset::Netflow, Action::Flow);
        assert_eq!(contact_outcome(&e), None);
        e.tcp_flags = Some(TcpFlags(TcpFlags::SYN));
        assert_eq!(contact_outcome(&e), Some(false));
        e.tcp_flags = Some(TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
        assert_eq!(contact_outcome(&e), Some(true));
    }
}
