//! Issue 4, with the generator and the default rule pack, end to end through the binary: a
//! slow scanner (one new port every 5 minutes for a day) is found within 24 probes, the
//! random walk decides on a fast scanner within 5 first contacts, and a benign day raises
//! nothing.
//!
//! "When did it fire" is measured by replaying the firewall log cut right after the scanner's
//! k-th probe: the incident must be absent at k - 1 and present at k.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;

/// Runs `portcullis gen --scenario SCENARIO --lines LINES --seed 5` into `dir`.
fn gen(dir: &Path, scenario: &str, lines: u64) {
    let lines = lines.to_string();
    let out = dir.to_str().unwrap();
    let args = [
        "gen",
        "--out",
        out,
        "--scenario",
        scenario,
        "--lines",
        &lines,
    ];
    portcullis_ok(&[&args[..], &["--seed", "5"]].concat(), 0);
}

/// Replays `files` (iptables or vsftpd, detected) into `db` and returns (rule, group) pairs.
/// The exit code must say whether there were incidents (0) or not (1).
fn replay(files: &[&Path], db: &Path) -> BTreeSet<(String, String)> {
    let mut args = vec!["replay", "--db", db.to_str().unwrap(), "--timezone", "UTC"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let code = portcullis(&args).status.code();
    let got = rule_and_group(&incidents(db));
    assert_eq!(code, Some(if got.is_empty() { 1 } else { 0 }), "{args:?}");
    got
}

/// The single `source.ip` truth.json names.
fn scanner(dir: &Path) -> String {
    let truth = truth(dir);
    assert_eq!(truth.len(), 1, "{truth:?}");
    let (_, group) = truth.into_iter().next().unwrap();
    group
        .split(' ')
        .find_map(|kv| kv.strip_prefix("source.ip="))
        .unwrap()
        .to_string()
}

/// Byte offsets just past each kern.log line of `src`, in file order.
fn probe_ends(kern: &[u8], src: &str) -> Vec<usize> {
    let needle = format!(" SRC={src} ");
    let mut ends = Vec::new();
    let mut start = 0;
    for line in kern.split_inclusive(|&b| b == b'\n') {
        start += line.len();
        if line.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            ends.push(start);
        }
    }
    ends
}

/// Replays kern.log cut after the scanner's `k`-th probe, with nothing else, and returns the
/// incidents.
fn replay_first_probes(dir: &Path, ends: &[usize], k: usize) -> BTreeSet<(String, String)> {
    let kern = std::fs::read(dir.join("kern.log")).unwrap();
    let cut = dir.join(format!("kern-first-{k}.log"));
    std::fs::write(&cut, &kern[..ends[k - 1]]).unwrap();
    replay(&[&cut], &dir.join(format!("first-{k}.db")))
}

/// The probe number at which `rule` first reports the scanner: the k with no incident after
/// k - 1 probes and one after k. Searched upward from `from` (the earliest it can be).
fn fires_at(dir: &Path, rule: &str, from: usize, limit: usize) -> usize {
    let src = scanner(dir);
    let kern = std::fs::read(dir.join("kern.log")).unwrap();
    let ends = probe_ends(&kern, &src);
    let has = |k: usize| {
        replay_first_probes(dir, &ends, k)
            .iter()
            .any(|(r, g)| r == rule && g.contains(&format!("source.ip={src}")))
    };
    assert!(!has(from - 1), "{rule} fired before probe {from}");
    (from..=limit)
        .find(|&k| has(k))
        .unwrap_or_else(|| panic!("{rule} did not fire within {limit} probes"))
}

#[test]
fn slow_scan_of_a_day_is_found_at_probe_15() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 1 M lines: 08:00 to about 07:15 the next morning at the generator's 12 lines a second.
    gen(dir, "slow-scan", 1_000_000);
    let src = scanner(dir);
    let kern = std::fs::read(dir.join("kern.log")).unwrap();
    let probes = probe_ends(&kern, &src).len();
    assert!((270..=290).contains(&probes), "{probes} probes in the day");
    // The whole day, both logs: exactly the one incident of truth.json, every probe counted.
    let all = [dir.join("vsftpd.log"), dir.join("kern.log")];
    let db = dir.join("day.db");
    let got = replay(&[&all[0], &all[1]], &db);
    assert_eq!(got, truth(dir));
    let inc = incidents(&db);
    assert_eq!(inc[0]["count"], probes as u64);
    // 15 distinct refused ports are the rule's threshold: it fires at the 15th probe, 70
    // minutes in, well within the 24 probes (2 hours) of issue 4.
    let k = fires_at(dir, "firewall.slow_port_scan", 15, 24);
    assert_eq!(k, 15);
}

#[test]
fn fast_scanner_is_decided_at_the_4th_first_contact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    gen(dir, "fast-scan", 200_000);
    let all = [dir.join("vsftpd.log"), dir.join("kern.log")];
    let got = replay(&[&all[0], &all[1]], &dir.join("all.db"));
    assert_eq!(got, truth(dir), "only the random walk finds 20 hosts");
    // θ0 = 0.8, θ1 = 0.2, α = 0.01, β = 0.99: each failure adds ln 4 to the walk, which
    // decides at ln 99, so after 4 failed first contacts (within the 5 of issue 4).
    let k = fires_at(dir, "firewall.trw_scanner", 4, 5);
    assert_eq!(k, 4);
}

#[test]
fn a_benign_day_of_a_million_lines_raises_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 1 M lines span 23 h 17 min (12 lines a second, fewer at night); 1.05 M make the day
    // full, so every 24-hour window of the pack sees a whole day.
    gen(dir, "benign", 1_050_000);
    let kern = std::fs::read_to_string(dir.join("kern.log")).unwrap();
    let stamp =
        |l: &str| chrono::DateTime::parse_from_rfc3339(l.split(' ').next().unwrap()).unwrap();
    let (first, last) = (kern.lines().next().unwrap(), kern.lines().last().unwrap());
    let span = stamp(last) - stamp(first);
    assert!(span >= chrono::Duration::hours(24), "{span}");
    assert!(truth(dir).is_empty());
    let all = [dir.join("vsftpd.log"), dir.join("kern.log")];
    let db = dir.join("day.db");
    let out = portcullis_ok(
        &[
            "replay",
            "--db",
            db.to_str().unwrap(),
            "--timezone",
            "UTC",
            all[0].to_str().unwrap(),
            all[1].to_str().unwrap(),
        ],
        1,
    );
    assert!(out.contains("1050000 events correlated"), "{out}");
    assert!(out.contains(" 0 incidents"), "{out}");
    assert_eq!(incidents(&db), Vec::<serde_json::Value>::new());
}
