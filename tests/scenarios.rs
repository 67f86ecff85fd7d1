//! Scenario tests: every rule of the default pack has a folder under tests/scenarios/ named
//! after it, with input logs, a README saying what happens in them, a portcullis.toml naming
//! the sources, and expected.json: the exact incidents the whole default pack must raise.

mod common;

use common::*;
use portcullis_parsers::{parse_line, Format, ParseContext, SourceTz};
use std::path::{Path, PathBuf};

fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The fields an expectation pins, from one incident object.
fn pinned(i: &serde_json::Value) -> String {
    let mut v = serde_json::json!({
        "rule": i["rule"],
        "group": i["group"],
        "count": i["count"],
        "first_seen": i["first_seen"],
        "last_seen": i["last_seen"],
    });
    if let Some(d) = i.get("distinct") {
        v["distinct"] = d.clone();
    }
    v.to_string()
}

fn replayed(dir: &Path, config: &Path) -> Vec<String> {
    let db = dir.join("scenario.db");
    let _ = std::fs::remove_file(&db);
    let out = portcullis(&[
        "replay",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("rejected byte"),
        "scenario input must parse:\n{stdout}"
    );
    let mut got: Vec<String> = incidents(&db).iter().map(pinned).collect();
    got.sort();
    got
}

fn expected(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let list: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut want: Vec<String> = list.iter().map(pinned).collect();
    want.sort();
    want
}

#[test]
fn every_scenario_raises_exactly_its_expected_incidents() {
    for dir in scenario_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let got = replayed(tmp.path(), &dir.join("portcullis.toml"));
        assert_eq!(got, expected(&dir), "scenario {}", dir.display());
    }
}

#[test]
fn every_rule_of_the_default_pack_has_a_scenario() {
    let rules = portcullis::rules::default_rules().unwrap();
    for rule in rules {
        let dir = repo().join("tests/scenarios").join(&rule.name);
        assert!(
            dir.join("expected.json").is_file(),
            "rule {} has no scenario at {}",
            rule.name,
            dir.display()
        );
        assert!(
            dir.join("README.md").is_file(),
            "scenario {} has no README",
            rule.name
        );
        let expected = std::fs::read_to_string(dir.join("expected.json")).unwrap();
        assert!(
            expected.contains(&format!("\"rule\": \"{}\"", rule.name)),
            "scenario {} never raises its own rule",
            rule.name
        );
    }
}

/// A small deterministic PRNG for shuffling (SplitMix64).
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Reorders a log's lines so that none arrives more than 4 s (below the 5 s lateness
/// allowance) after a line with a later timestamp.
fn shuffle_within_lateness(path: &Path, format: Format, seed: u64) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let ctx = ParseContext::new(SourceTz::Utc);
    let mut state = seed;
    let mut keyed: Vec<(i64, &str)> = text
        .lines()
        .map(|l| {
            let e = parse_line(format, l.as_bytes(), &ctx).unwrap().unwrap();
            let jitter = (next(&mut state) % 4000) as i64;
            (e.timestamp.timestamp_millis() + jitter, l)
        })
        .collect();
    keyed.sort_by_key(|(k, _)| *k);
    keyed.iter().map(|(_, l)| format!("{l}\n")).collect()
}

#[test]
fn shuffling_lines_within_the_lateness_allowance_changes_no_incident() {
    let dirs = scenario_dirs();
    let mut runs_reordered = 0;
    for dir in &dirs {
        for seed in 1..=3u64 {
            let tmp = tempfile::tempdir().unwrap();
            let mut reordered = 0;
            for entry in std::fs::read_dir(dir).unwrap() {
                let src = entry.unwrap().path();
                let name = src.file_name().unwrap().to_str().unwrap().to_string();
                let format = match name.as_str() {
                    "vsftpd.log" => Format::Vsftpd,
                    "kern.log" => Format::Iptables,
                    // Other inputs (stateful formats, the config) are copied as they are.
                    _ => {
                        std::fs::copy(&src, tmp.path().join(&name)).unwrap();
                        continue;
                    }
                };
                let shuffled = shuffle_within_lateness(&src, format, seed);
                if shuffled != std::fs::read_to_string(&src).unwrap() {
                    reordered += 1;
                }
                std::fs::write(tmp.path().join(&name), shuffled).unwrap();
            }
            if reordered > 0 {
                runs_reordered += 1;
            }
            let got = replayed(tmp.path(), &tmp.path().join("portcullis.toml"));
            assert_eq!(
                got,
                expected(dir),
                "scenario {} shuffled with seed {seed}",
                dir.display()
            );
        }
    }
    // Lines further apart than the allowance cannot trade places, so sparse scenarios stay in
    // order; the dense ones (scans, sweeps, joins) must really be shuffled.
    assert!(
        runs_reordered >= 6,
        "only {runs_reordered} runs reordered any line"
    );
}
