//! How long a snapshot of correlation state stops the daemon's main loop, before and after
//! moving the encoding to a worker thread: a 72 h slow-scan window over N scanning sources
//! (the largest state the default limits allow), then
//! - before: `Engine::snapshot` (encode on the loop) plus the SQLite write;
//! - after: `Engine::freeze` (the copy the loop still makes) and the commit that puts the
//!   staged snapshot in force; the encoding and the chunked write are timed apart (they run
//!   on the snapshot thread while the loop goes on).
//!
//! `cargo bench --bench snapshot_pause` (optionally `-- SOURCES`, default 1 000 000).

use chrono::{Duration, TimeZone, Utc};
use portcullis::record::{RawLine, Record};
use portcullis::rules::compile_rule;
use portcullis::rules::engine::{Engine, DEFAULT_LATENESS};
use portcullis::store::snapshots::CHUNK_BYTES;
use portcullis::store::Store;
use portcullis_parsers::{Action, Dataset, Event};
use std::path::Path;
use std::time::Instant;

/// Current resident memory in MiB (the copy's cost in memory while it is encoded).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let sources: u32 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rule = compile_rule(
        Path::new("bench.rule"),
        "rule slow title \"slow\" severity medium where event.action == \"firewall.deny\"
         distinct destination.port 15 within 72h by source.ip, destination.ip",
    )
    .expect("rule");
    let mut engine = Engine::new(vec![rule], DEFAULT_LATENESS);
    let raw = RawLine::from_text("probe");
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    let probes = 8u32;
    let step = Duration::microseconds(
        72 * 3600 * 1_000_000 / (i64::from(sources) * i64::from(probes)).max(1),
    );
    let mut now = t0;
    for p in 0..probes {
        for s in 0..sources {
            let mut e = Event::new(now, Dataset::Iptables, Action::FirewallDeny);
            e.source_ip = Some(std::net::Ipv4Addr::from(0x0b00_0000 + s).into());
            e.destination_ip = Some("203.0.113.10".parse().unwrap());
            e.destination_port = Some(1000 + (p as u16) * 7 + (s % 5) as u16);
            engine.push(Record {
                event: e,
                raw: raw.clone(),
            });
            now += step;
        }
    }
    engine.finish();

    let t = Instant::now();
    let bytes = engine.snapshot();
    let encode_on_loop = t.elapsed().as_secs_f64();

    let before_copy = rss_mib();
    let t = Instant::now();
    let frozen = engine.freeze();
    let copy = t.elapsed().as_secs_f64();
    let copy_mib = rss_mib() - before_copy;
    let t = Instant::now();
    let again = frozen.encode();
    let encode_off_loop = t.elapsed().as_secs_f64();
    assert_eq!(again, bytes, "a frozen copy encodes to the same bytes");
    drop(frozen);

    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
    let t = Instant::now();
    let staged = store.stage_snapshot(&bytes, Utc::now()).expect("stage");
    let write = t.elapsed().as_secs_f64();
    let t = Instant::now();
    store
        .commit_checkpoint(&[], &[], &[], &[], Some(&staged))
        .expect("commit");
    let in_force = t.elapsed().as_secs_f64();
    let chunks = bytes.len().div_ceil(CHUNK_BYTES);
    println!("the copy holds {copy_mib:.0} MiB while it is encoded (engine state before it: RSS {before_copy:.0} MiB with the encoded bytes)");
    println!(
        "snapshot of {sources} slow-scan sources ({} groups, {:.1} MiB): main loop paused \
         {:.3}s before (encode {encode_on_loop:.3}s + write {write:.3}s), {:.3}s after \
         (copy {copy:.3}s + commit naming it {in_force:.4}s); off the loop: encode \
         {encode_off_loop:.3}s, write {write:.3}s in {chunks} chunks (a commit waits at most \
         one: ~{:.3}s)",
        engine.groups(),
        bytes.len() as f64 / (1024.0 * 1024.0),
        encode_on_loop + write,
        copy + in_force,
        write / chunks as f64,
    );
}
