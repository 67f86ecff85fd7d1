//! End-to-end throughput: generate N lines (default 1 M), then time `wc -l` and a full replay
//! (read, parse, correlate, store) of the same files in the same run, and print both with
//! their ratio and the replay's peak RSS.
//!
//! `cargo bench --bench pipeline` or `cargo bench --bench pipeline -- 5000000`.

use portcullis::gen::{generate, GenOptions};
use portcullis::ingest::source::SourceSpec;
use portcullis::pipeline::{replay, ReplayOptions};
use portcullis::rules::{default_rules, engine::DEFAULT_LATENESS};
use portcullis_parsers::{Format, SourceTz};
use std::process::Command;
use std::time::Instant;

/// Peak resident set size of this process so far, in MiB (Linux `VmHWM`).
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

fn main() {
    let lines: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = GenOptions {
        lines,
        ..GenOptions::default()
    };
    let t = Instant::now();
    generate(&opts, dir.path()).expect("generate");
    println!(
        "generated {lines} lines in {:.2}s",
        t.elapsed().as_secs_f64()
    );
    let files = [dir.path().join("vsftpd.log"), dir.path().join("kern.log")];

    let t = Instant::now();
    let wc = Command::new("wc")
        .arg("-l")
        .args(&files)
        .output()
        .expect("wc");
    let wc_secs = t.elapsed().as_secs_f64();
    let total: u64 = String::from_utf8_lossy(&wc.stdout)
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);

    let sources = vec![
        SourceSpec {
            path: files[0].clone(),
            format: Some(Format::Vsftpd),
            timezone: SourceTz::Utc,
            host: Some("203.0.113.10".parse().unwrap()),
        },
        SourceSpec {
            path: files[1].clone(),
            format: Some(Format::Iptables),
            timezone: SourceTz::Utc,
            host: None,
        },
    ];
    let rss_before = peak_rss_mib();
    let summary = replay(ReplayOptions {
        sources,
        rules: default_rules().expect("rules"),
        db: dir.path().join("bench.db"),
        lateness: DEFAULT_LATENESS,
        forward: None,
        limits: Default::default(),
    })
    .expect("replay");
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "wc -l    : {total} lines in {wc_secs:.3}s = {:>12.0} lines/s",
        total as f64 / wc_secs
    );
    println!(
        "replay   : {total} lines in {secs:.3}s = {:>12.0} lines/s ({} incidents)",
        total as f64 / secs,
        summary.incidents
    );
    println!(
        "ratio    : replay takes {:.1}x the time of wc -l",
        secs / wc_secs
    );
    println!(
        "peak RSS : {:.0} MiB (before replay: {rss_before:.0} MiB)",
        peak_rss_mib()
    );
}
