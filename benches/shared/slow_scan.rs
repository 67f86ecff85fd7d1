//! The 72 h slow-scan state both the engine and the snapshot-pause benches measure: one rule
//! (15 distinct ports within 72 h per source and host) fed by `sources` scanners that each
//! send 8 refused probes to distinct ports, spread over 72 h, so every source stays live and
//! none reaches the threshold.

use chrono::{Duration, TimeZone, Utc};
use portcullis::record::{RawLine, Record};
use portcullis::rules::engine::{Engine, DEFAULT_LATENESS};
use portcullis::rules::{compile_rule, Rule};
use portcullis_parsers::{Action, Dataset, Event};
use std::path::Path;

/// Probes each source sends: under the rule's threshold of 15.
pub const PROBES: u32 = 8;

/// The slow-scan rule.
pub fn rule() -> Rule {
    compile_rule(
        Path::new("bench.rule"),
        "rule slow title \"slow\" severity medium where event.action == \"firewall.deny\"
         distinct destination.port 15 within 72h by source.ip, destination.ip",
    )
    .expect("rule")
}

/// An engine with the slow-scan rule, fed and finished.
pub fn engine(sources: u32) -> Engine {
    let mut engine = Engine::new(vec![rule()], DEFAULT_LATENESS);
    let raw = RawLine::from_text("probe");
    let step = Duration::microseconds(
        72 * 3600 * 1_000_000 / (i64::from(sources) * i64::from(PROBES)).max(1),
    );
    let mut now = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    for p in 0..PROBES {
        for s in 0..sources {
            engine.push(probe(s, 1000 + (p as u16) * 7 + (s % 5) as u16, now, &raw));
            now += step;
        }
    }
    engine.finish();
    engine
}

/// A refused probe from scanner `source` (numbered as [`engine`] numbers them) to `port`.
/// `raw` is its line (shared, as lines of one read buffer are).
pub fn probe(source: u32, port: u16, at: chrono::DateTime<Utc>, raw: &RawLine) -> Record {
    let mut e = Event::new(at, Dataset::Iptables, Action::FirewallDeny);
    e.source_ip = Some(std::net::Ipv4Addr::from(0x0b00_0000 + source).into());
    e.destination_ip = Some(std::net::Ipv4Addr::new(203, 0, 113, 10).into());
    e.destination_port = Some(port);
    Record {
        event: e,
        raw: raw.clone(),
    }
}

/// The event time [`engine`] ended at: probes pushed later continue the scan.
#[allow(dead_code)] // the engine bench shares this file but does not continue the scan
pub fn end() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap()
}
