//! The correlation engine alone, on events already parsed:
//! 1. throughput with the default rule pack over a generated day (events/s);
//! 2. memory of a 72 h slow-scan window holding 1 M distinct scanning sources (peak RSS).
//!
//! `cargo bench --bench engine` (optionally `-- LINES SOURCES`).

use portcullis::gen::{generate, GenOptions};
use portcullis::record::{RawLine, Record};
use portcullis::rules::default_rules;
use portcullis::rules::engine::{Engine, DEFAULT_LATENESS};
use portcullis_parsers::{Format, LineParser, ParseContext, SourceTz};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

#[path = "shared/slow_scan.rs"]
mod slow_scan;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Parses a generated file into records sharing one buffer.
fn records(path: &Path, format: Format, source: u32) -> Vec<Record> {
    let bytes: Arc<[u8]> = Arc::from(std::fs::read(path).expect("read"));
    let mut ctx = ParseContext::new(SourceTz::Utc);
    ctx.host = Some("203.0.113.10".parse().unwrap());
    let mut parser = LineParser::new(format, ctx);
    let mut out = Vec::new();
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', &bytes) {
        if let Ok(Some(mut e)) = parser.parse(&bytes[start..nl]) {
            e.origin.source = source;
            e.origin.offset = start as u64;
            out.push(Record {
                event: e,
                raw: RawLine::new(bytes.clone(), start, nl),
            });
        }
        start = nl + 1;
    }
    out
}

fn throughput(lines: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(
        &GenOptions {
            lines,
            ..GenOptions::default()
        },
        dir.path(),
    )
    .expect("generate");
    let mut all = records(&dir.path().join("vsftpd.log"), Format::Vsftpd, 0);
    all.extend(records(&dir.path().join("kern.log"), Format::Iptables, 1));
    all.sort_by_key(|r| r.event.timestamp);
    let n = all.len();
    let mut engine = Engine::new(default_rules().expect("rules"), DEFAULT_LATENESS);
    let t = Instant::now();
    let mut incidents = 0;
    for (i, r) in all.into_iter().enumerate() {
        engine.push(r);
        if i % 8192 == 0 {
            incidents += engine.take_updates().len();
        }
    }
    engine.finish();
    incidents += engine.take_updates().len();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "engine, default pack ({} rules): {n} events in {secs:.3}s = {:.0} events/s ({incidents} incident updates)",
        default_rules().unwrap().len(),
        n as f64 / secs
    );
}

fn slow_scan_memory(sources: u32) {
    let before = peak_rss_mib();
    let probes = slow_scan::PROBES;
    let t = Instant::now();
    let engine = slow_scan::engine(sources);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "slow scan, 72 h window: {sources} sources x {probes} probes in {secs:.2}s; {} groups live; peak RSS {:.0} MiB (before: {before:.0} MiB)",
        engine.groups(),
        peak_rss_mib()
    );
    // What the daemon writes with a checkpoint every `snapshot_ms`, and reads at a start.
    let t = Instant::now();
    let bytes = engine.snapshot();
    let encode = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (again, _) =
        Engine::restore(vec![slow_scan::rule()], DEFAULT_LATENESS, &bytes).expect("restore");
    println!(
        "snapshot of that state: {:.1} MiB, encoded in {encode:.2}s ({:.1}% of feeding it), restored in {:.2}s ({} groups)",
        bytes.len() as f64 / (1024.0 * 1024.0),
        100.0 * encode / secs,
        t.elapsed().as_secs_f64(),
        again.groups()
    );
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    throughput(args.first().copied().unwrap_or(1_000_000));
    slow_scan_memory(args.get(1).copied().unwrap_or(1_000_000) as u32);
}
