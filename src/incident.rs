//! Incidents: what the engine reports, with bounded evidence and a deterministic id.

use crate::rules::field::{Field, Value};
use crate::rules::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How many of the first events of an incident are kept as evidence.
pub const EVIDENCE_FIRST: usize = 10;
/// How many of the latest events of an incident are kept as evidence. First and last together
/// bound the rows a million-probe scan writes.
pub const EVIDENCE_LAST: usize = 10;

/// One raw line that supports an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Event time of the line.
    pub timestamp: DateTime<Utc>,
    /// Source index (see the pipeline's source list).
    pub source: u32,
    /// Byte offset of the line in its source.
    pub offset: u64,
    /// For evidence kept by place: the line's digest ([`crate::record::line_digest`]), which
    /// the line read back must match.
    pub digest: Option<u32>,
    /// The line (lossy UTF-8, length-capped).
    pub raw: Box<str>,
}

impl Evidence {
    /// Evidence known only by its place and digest: the text is read back from the source
    /// when the incident is stored (compact long-window state keeps no line text).
    pub fn unresolved(timestamp: DateTime<Utc>, source: u32, offset: u64, digest: u32) -> Evidence {
        Evidence {
            timestamp,
            source,
            offset,
            digest: Some(digest),
            raw: Box::from(""),
        }
    }
}

/// An incident as the engine last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Deterministic id: rule, group key and start time, hashed.
    pub id: String,
    /// Rule name.
    pub rule: Arc<str>,
    /// Severity from the rule.
    pub severity: Severity,
    /// Rendered title.
    pub title: String,
    /// Group key: the rule's `by` fields and their values.
    pub group: Vec<(Field, Value)>,
    /// Time of the first event counted in the incident.
    pub first_seen: DateTime<Utc>,
    /// Time of the latest event.
    pub last_seen: DateTime<Utc>,
    /// Matching events so far.
    pub count: u64,
    /// Distinct values so far (`distinct` rules).
    pub distinct: Option<u64>,
    /// The first and the latest evidence lines, in time order.
    pub evidence: Vec<Evidence>,
    /// False once the quiet period passed: later activity opens a new incident.
    pub open: bool,
}

/// The deterministic id of an incident: FNV-1a 64 over rule, group values and start time,
/// as 16 hex digits. Replaying the same lines gives the same ids.
pub fn incident_id(rule: &str, group: &[Value], start: DateTime<Utc>) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
        // A separator, so ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(PRIME);
    };
    feed(rule.as_bytes());
    for v in group {
        feed(v.to_string().as_bytes());
    }
    feed(&start.timestamp_micros().to_le_bytes());
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_are_stable_and_sensitive_to_every_part() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let g = [Value::Ip("192.0.2.1".parse().unwrap())];
        let id = incident_id("ftp.brute_force", &g, t);
        assert_eq!(id, incident_id("ftp.brute_force", &g, t));
        assert_eq!(id.len(), 16);
        assert_ne!(id, incident_id("ftp.brute_forcf", &g, t));
        assert_ne!(id, incident_id("ftp.brute_force", &[Value::Number(1)], t));
        assert_ne!(
            id,
            incident_id("ftp.brute_force", &g, t + chrono::Duration::seconds(1))
        );
    }
}
