//! End-to-end tests of `portcullis run` on real files, a real database and the real binary:
//! tailing growing logs, `stats`, SIGTERM, and SIGHUP with good and broken rules.

mod daemon_support;

use daemon_support::*;
use std::path::Path;
use std::time::Duration;

/// Appends generated logs in time-ordered chunks; polls `incidents --json` until they match
/// a replay of the same lines; checks `stats`; stops with SIGTERM (exit 0) and compares the
/// final incidents with the replay's.
#[test]
fn tails_growing_logs_like_a_replay_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let gen = root.join("gen");
    generate(&gen, 3, 6000);
    std::fs::create_dir_all(root.join("live")).unwrap();
    let db = root.join("live.db");
    let config = write_config(root, &db, None, "idle_ms = 250");
    let replayed = replay_keys(&gen, &root.join("replay.db"), None);
    assert!(replayed.len() >= 10, "{replayed:?}");

    let mut daemon = Daemon::start(&config, &root.join("daemon.err"));
    let vs = timed_lines(&gen.join("vsftpd.log"));
    let fw = timed_lines(&gen.join("kern.log"));
    let mut rng = Rng::new(11);
    for (a, b) in chunks(&vs, &fw, &mut rng, 1, 30) {
        append(&root.join("live/kern.log"), &b);
        append(&root.join("live/vsftpd.log"), &a);
        std::thread::sleep(Duration::from_millis(rng.range(0, 20)));
    }
    let seen = wait_for(Duration::from_secs(20), || {
        let live = incident_keys(&db);
        (live == replayed).then_some(live)
    });
    assert!(
        seen.is_some(),
        "live incidents never matched the replay:\n{}\n{}",
        diff(&incident_keys(&db), &replayed),
        daemon.log()
    );
    assert!(daemon.alive());

    // stats: per-file counters equal the lines written; no rejects; a recent commit.
    let files = [root.join("live/vsftpd.log"), root.join("live/kern.log")];
    assert!(wait_for(Duration::from_secs(10), || caught_up(&db, &files)
        .then_some(()))
    .is_some());
    let v = stats_json(&db).unwrap();
    let vs_name = files[0].to_str().unwrap();
    assert_eq!(
        v["sources"][vs_name]["lines"].as_u64(),
        Some(vs.len() as u64)
    );
    assert_eq!(v["sources"][vs_name]["rejected"].as_u64(), Some(0));
    assert_eq!(
        v["sources"][files[1].to_str().unwrap()]["events"].as_u64(),
        Some(fw.len() as u64)
    );
    assert_eq!(
        v["counters"]["events"].as_u64(),
        Some((vs.len() + fw.len()) as u64)
    );
    assert_eq!(
        v["incidents"]["total"].as_u64(),
        Some(replayed.len() as u64)
    );
    assert!(v["last_commit_age_secs"].as_f64().unwrap() < 5.0);
    assert!(v["lag_secs"].as_f64().unwrap() > 0.0);
    let text = portcullis(&["stats", "--db", db.to_str().unwrap()]);
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    for want in [
        "daemon      pid",
        "lag ",
        "cap hits",
        "incidents   ",
        "checkpoint  ",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    assert!(text.contains(&format!("{vs_name}  ")), "{text}");

    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    assert_eq!(incident_keys(&db), replayed);
}

const BRUTE: &str = "rule     t.brute\ntitle    \"brute force from {source.ip}\"\nseverity high\n\
    where    event.action == \"ftp.login\" and event.outcome == \"failure\"\n\
    count    8\nwithin   120s\nby       source.ip\n";
const ANON: &str = "rule     t.anon\ntitle    \"anonymous login from {source.ip}\"\nseverity low\n\
    where    event.action == \"ftp.login\" and ftp.anonymous\n\
    count    1\nwithin   60s\nby       source.ip\n";

fn fail_login(sec: u32, ip: &str) -> String {
    format!("Mon Mar  2 09:00:{sec:02} 2026 [pid 1] [bob] FAIL LOGIN: Client \"{ip}\"\n")
}

fn rules_of(db: &Path) -> Vec<(String, u64)> {
    incident_keys(db)
        .into_iter()
        .map(|(rule, _, count, _, _)| (rule, count))
        .collect()
}

/// SIGHUP with a broken rule file keeps the old rules running and says why; with good
/// rules it switches to them without doubling what the old ones found.
#[test]
fn sighup_reloads_rules_and_a_broken_rule_keeps_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let rules = root.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(root.join("live")).unwrap();
    std::fs::write(rules.join("brute.rule"), BRUTE).unwrap();
    let db = root.join("live.db");
    let config = write_config(root, &db, Some(&rules), "");
    let vs = root.join("live/vsftpd.log");
    append(&vs, b"");
    let mut daemon = Daemon::start_ready(&config, &root.join("daemon.err"));

    std::fs::write(rules.join("broken.rule"), "rule x\ncount eight\n").unwrap();
    daemon.signal("HUP");
    // The message and the rule error it carries may reach the file in two writes: wait for
    // both, so the test never reads between them.
    let refused = wait_for(Duration::from_secs(10), || {
        let log = daemon.log();
        (log.contains("reload refused") && log.contains("broken.rule:")).then_some(())
    });
    assert!(refused.is_some(), "{}", daemon.log());
    assert!(daemon.alive());

    for s in 0..8 {
        append(&vs, fail_login(s, "192.0.2.7").as_bytes());
    }
    let found = wait_for(Duration::from_secs(10), || {
        (rules_of(&db) == [("t.brute".to_string(), 8)]).then_some(())
    });
    assert!(found.is_some(), "{:?}\n{}", rules_of(&db), daemon.log());

    std::fs::remove_file(rules.join("broken.rule")).unwrap();
    std::fs::write(rules.join("anon.rule"), ANON).unwrap();
    daemon.signal("HUP");
    let reloaded = wait_for(Duration::from_secs(10), || {
        daemon.log().contains("reloading rules=2").then_some(())
    });
    assert!(reloaded.is_some(), "{}", daemon.log());
    append(
        &vs,
        b"Mon Mar  2 09:00:20 2026 [pid 2] [ftp] OK LOGIN: Client \"192.0.2.9\", anon password \"x@y\"\n",
    );
    let want = vec![("t.anon".to_string(), 1), ("t.brute".to_string(), 8)];
    let found = wait_for(Duration::from_secs(10), || {
        (rules_of(&db) == want).then_some(())
    });
    assert!(found.is_some(), "{:?}\n{}", rules_of(&db), daemon.log());
    let v = stats_json(&db).unwrap();
    assert_eq!(v["counters"]["rules"].as_u64(), Some(2));
    assert_eq!(v["counters"]["reloads"].as_u64(), Some(1));
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    assert_eq!(rules_of(&db), want);
}

/// Without a config and with none of the default logs present, `run` says what it would
/// watch and fails; `stats` on a database no daemon wrote says so.
#[test]
fn run_without_sources_and_stats_without_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let out = portcullis(&["run", "--config", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to watch"));
    let db = dir.path().join("r.db");
    let gen = dir.path().join("gen");
    generate(&gen, 1, 500);
    replay_keys(&gen, &db, None);
    let out = portcullis(&["stats", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

/// `[log] level = "warn"`: the daemon's start messages (info) are filtered out, a rejected
/// line (warn) is still said, as one line with its fields.
#[test]
fn log_level_from_the_config_filters_messages() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("live")).unwrap();
    let db = root.join("live.db");
    let config = write_config(root, &db, None, "idle_ms = 100\n[log]\nlevel = \"warn\"");
    let log = root.join("daemon.err");
    let vs = root.join("live/vsftpd.log");
    append(&vs, b"not a vsftpd line\n");
    let daemon = Daemon::start(&config, &log);
    let said = wait_for(Duration::from_secs(20), || {
        let text = daemon.log();
        text.contains(" rejected ").then_some(text)
    });
    let text = said.unwrap_or_else(|| daemon.log());
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    let line = text.lines().find(|l| l.contains(" rejected ")).unwrap();
    assert!(line.contains(" WARN "), "{line}");
    assert!(
        line.contains(&format!("file={vs:?} offset=0 reason=")),
        "{line}"
    );
    assert!(!text.contains(" INFO "), "{text}");
}
