//! End to end: generated logs in, exactly the ground-truth incidents out, through the real
//! binary and a real SQLite file.

mod common;

use common::*;
use std::collections::BTreeMap;

fn replay_config(dir: &std::path::Path, db: &std::path::Path) -> String {
    portcullis_ok(
        &[
            "replay",
            "--config",
            dir.join("portcullis.toml").to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ],
        0,
    )
}

#[test]
fn bundled_samples_give_exactly_the_ground_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("p.db");
    let summary = replay_config(&repo().join("samples"), &db);
    assert!(summary.contains("0 rejected"), "{summary}");
    let got = rule_and_group(&incidents(&db));
    let want = truth(&repo().join("samples"));
    assert_eq!(got, want);
    // Every scenario is there.
    for rule in [
        "ftp.anonymous_login",
        "ftp.brute_force",
        "firewall.port_scan",
        "cross.ftp_off_port",
    ] {
        assert!(got.iter().any(|(r, _)| r == rule), "no {rule} incident");
    }
    assert!(got.contains(&(
        "cross.ftp_off_port".to_string(),
        "destination.ip=203.0.113.10 destination.port=2121".to_string()
    )));
}

#[test]
fn bundled_samples_are_what_the_generator_makes() {
    let tmp = tempfile::tempdir().unwrap();
    portcullis_ok(&["gen", "--out", tmp.path().to_str().unwrap()], 0);
    for f in ["vsftpd.log", "kern.log", "truth.json"] {
        let made = std::fs::read(tmp.path().join(f)).unwrap();
        let shipped = std::fs::read(repo().join("samples").join(f)).unwrap();
        assert!(
            made == shipped,
            "samples/{f} differs from `portcullis gen` output; regenerate"
        );
    }
}

#[test]
fn replaying_twice_keeps_ids_and_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("p.db");
    replay_config(&repo().join("samples"), &db);
    let first: BTreeMap<String, serde_json::Value> = incidents(&db)
        .into_iter()
        .map(|i| (i["id"].as_str().unwrap().to_string(), i))
        .collect();
    replay_config(&repo().join("samples"), &db);
    let second: BTreeMap<String, serde_json::Value> = incidents(&db)
        .into_iter()
        .map(|i| (i["id"].as_str().unwrap().to_string(), i))
        .collect();
    assert!(!first.is_empty());
    assert_eq!(first, second);
}

#[test]
fn a_larger_generated_day_gives_exactly_its_ground_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    portcullis_ok(
        &[
            "gen",
            "--out",
            dir.to_str().unwrap(),
            "--lines",
            "200000",
            "--seed",
            "7",
        ],
        0,
    );
    std::fs::copy(
        repo().join("samples/portcullis.toml"),
        dir.join("portcullis.toml"),
    )
    .unwrap();
    let db = dir.join("p.db");
    replay_config(dir, &db);
    assert_eq!(rule_and_group(&incidents(&db)), truth(dir));
}

#[test]
fn bad_lines_are_counted_and_good_neighbours_survive() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("vsftpd.log");
    let mut bytes = Vec::new();
    let good = |i: u32| {
        format!("Mon Mar  2 08:00:{i:02} 2026 [pid 7] [bob] FAIL LOGIN: Client \"192.0.2.9\"\n")
    };
    for i in 0..4 {
        bytes.extend(good(i).as_bytes());
    }
    bytes.extend(b"complete garbage here\n");
    bytes.extend(b"Mon Mar  2 08:00:05 2026 [pid 7] [bob] FAIL LOG\n"); // truncated
    bytes.extend(b"Mon Mar  2 08:00:05 2026 [pid 7] [b\xffb] FAIL LOGIN: Client \"192.0.2.9\"\n");
    bytes.extend(std::iter::repeat_n(b'A', 100 * 1024));
    bytes.push(b'\n');
    for i in 6..10 {
        bytes.extend(good(i).as_bytes());
    }
    std::fs::write(&log, bytes).unwrap();
    let db = tmp.path().join("p.db");
    let out = portcullis_ok(
        &[
            "replay",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "vsftpd",
            "--timezone",
            "UTC",
            log.to_str().unwrap(),
        ],
        0,
    );
    assert!(
        out.contains(": 12 lines, 8 events, 0 skipped, 4 rejected"),
        "{out}"
    );
    // The 8 good failures around the bad lines still make the brute force.
    let got = rule_and_group(&incidents(&db));
    assert!(got.contains(&("ftp.brute_force".into(), "source.ip=192.0.2.9".into())));
}

#[test]
fn allowlisted_scanner_and_off_port_server_raise_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for f in ["vsftpd.log", "kern.log"] {
        std::fs::copy(repo().join("samples").join(f), dir.join(f)).unwrap();
    }
    let want = truth(&repo().join("samples"));
    let scanner = want
        .iter()
        .find(|(r, _)| r == "firewall.port_scan")
        .map(|(_, g)| {
            g.split(' ')
                .find_map(|kv| kv.strip_prefix("source.ip="))
                .unwrap()
                .to_string()
        })
        .unwrap();
    let config = std::fs::read_to_string(repo().join("samples/portcullis.toml")).unwrap()
        + &format!(
            "\n[[allow]]\nrules = [\"firewall.*\"]\nfield = \"source.ip\"\nvalues = [\"{scanner}\"]\nreason = \"our scanner\"\n\
             \n[[allow]]\nrules = [\"cross.ftp_off_port\"]\nfield = \"destination.port\"\nvalues = [\"2121\"]\nreason = \"known service\"\n"
        );
    std::fs::write(dir.join("portcullis.toml"), config).unwrap();
    let db = dir.join("p.db");
    replay_config(dir, &db);
    let got = rule_and_group(&incidents(&db));
    let expected: std::collections::BTreeSet<_> = want
        .into_iter()
        .filter(|(r, g)| {
            !(r.starts_with("firewall.") && g.contains(&format!("source.ip={scanner}")))
                && r != "cross.ftp_off_port"
        })
        .collect();
    assert_eq!(got, expected);
}
