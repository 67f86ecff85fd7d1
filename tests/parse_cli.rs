//! `portcullis parse` on real logs from the shared corpus: the JSON it prints carries the
//! annotated values. The corpus is read in place; without it the test says it skipped
//! (under CI=true a missing corpus fails).

mod common;

use common::*;
use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    let dir = repo().join("../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "corpus missing at {} under CI=true",
        dir.display()
    );
    eprintln!("SKIPPED: corpus not found at {}", dir.display());
    None
}

#[test]
fn parse_prints_the_beats_expected_fields_for_iptables() {
    let Some(dir) = corpus() else { return };
    let log = dir.join("iptables/beats-iptables.log");
    let out = portcullis_ok(
        &[
            "parse",
            "--format",
            "iptables",
            "--timezone",
            "UTC",
            log.to_str().unwrap(),
        ],
        0,
    );
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("iptables/beats-iptables.log-expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(events.len(), 12, "every line of the file is an event");
    for want in &expected {
        let got = events
            .iter()
            .find(|e| e["log.offset"] == want["log.offset"])
            .unwrap_or_else(|| panic!("no event at offset {}", want["log.offset"]));
        for key in [
            "source.ip",
            "source.port",
            "destination.ip",
            "destination.port",
            "network.transport",
        ] {
            assert_eq!(
                got[key], want[key],
                "{key} at offset {}",
                want["log.offset"]
            );
        }
        // Month, day and time of day (the year depends on the reference time).
        let (g, w) = (
            got["@timestamp"].as_str().unwrap(),
            want["@timestamp"].as_str().unwrap(),
        );
        assert_eq!(
            &g[5..19],
            &w[5..19],
            "time at offset {}",
            want["log.offset"]
        );
    }
}

#[test]
fn parse_reads_vsftpd_corpus_lines_with_their_clients() {
    let Some(dir) = corpus() else { return };
    let log = dir.join("vsftpd/ossec-docs-vsftpd.log");
    let out = portcullis_ok(
        &[
            "parse",
            "--format",
            "vsftpd",
            "--timezone",
            "UTC",
            log.to_str().unwrap(),
        ],
        0,
    );
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e["event.action"].as_str().unwrap().to_string(),
                e["event.outcome"].as_str().unwrap().to_string(),
                e["source.ip"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let s = |a: &str, o: &str, ip: &str| (a.to_string(), o.to_string(), ip.to_string());
    assert_eq!(
        summary,
        vec![
            s("ftp.connect", "success", "192.168.2.10"),
            s("ftp.login", "failure", "127.0.0.1"),
            s("ftp.login", "success", "127.0.0.1"),
            s("ftp.login", "success", "127.0.0.1"),
            s("ftp.upload", "success", "1.2.3.4"),
        ]
    );
    assert_eq!(events[3]["ftp.anonymous"], true);
    assert_eq!(events[4]["file.path"], "/a.php");
    assert_eq!(events[4]["file.size"], 8338);
    assert_eq!(events[4]["@timestamp"], "2006-08-27T16:28:20Z");
}

#[test]
fn parse_rejects_garbage_on_stderr_and_exits_1_when_nothing_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("junk.log");
    std::fs::write(&f, "not a log line\n\u{1b}[31m\n").unwrap();
    let out = portcullis(&["parse", "--format", "vsftpd", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("byte 0: vsftpd:"), "{err}");
    assert!(err.contains("2 lines, 0 events, 2 rejected"), "{err}");
}

/// `parse` prints one shape for every format: each fixture of parsers/fixtures gives, through
/// the CLI, as many JSON events as its expected file lists, each a flat object with the
/// common keys and its format's dataset. (ProFTPD ExtendedLog needs its LogFormat from a
/// config, which `parse` does not take; the parsers' own fixture test covers it.)
#[test]
fn parse_prints_the_same_shape_for_every_fixture_format() {
    let root = repo().join("parsers/fixtures");
    let mut formats = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let folder = dir.file_name().unwrap().to_str().unwrap().to_string();
        if folder == "proftpd-extended" {
            continue;
        }
        let format = if folder == "nftables" {
            "iptables"
        } else {
            folder.as_str()
        };
        for log in std::fs::read_dir(&dir).unwrap() {
            let log = log.unwrap().path();
            if log.extension().is_none_or(|x| x != "log") {
                continue;
            }
            let expected = std::fs::read_to_string(log.with_extension("expected.jsonl")).unwrap();
            let want: Vec<serde_json::Value> = expected
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .filter(|v| v.get("@timestamp").is_some())
                .collect();
            let out = portcullis(&[
                "parse",
                "--format",
                format,
                "--timezone",
                "UTC",
                log.to_str().unwrap(),
            ]);
            let stdout = String::from_utf8(out.stdout).unwrap();
            let got: Vec<serde_json::Value> = stdout
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(got.len(), want.len(), "{}: events", log.display());
            for (g, w) in got.iter().zip(&want) {
                for key in ["@timestamp", "event.action", "event.outcome", "log.offset"] {
                    assert!(
                        g.get(key).is_some(),
                        "{}: {key} missing in {g}",
                        log.display()
                    );
                }
                assert_eq!(g["event.dataset"], w["event.dataset"], "{}", log.display());
                assert_eq!(g["event.action"], w["event.action"], "{}", log.display());
            }
            formats += 1;
        }
    }
    assert!(formats >= 14, "{formats} fixture files");
}
