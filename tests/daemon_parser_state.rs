//! A login spread over several lines survives a crash between its lines: the daemon is
//! killed (SIGKILL) after a snapshot that covers a FileZilla session's USER line and before
//! its PASS line is written; after the restart the login is one event that knows its user,
//! and every login's incident is stored exactly once, also when megabytes of other lines
//! came between the USER line and the snapshot. The parser's memory is rebuilt by parsing
//! again from where its oldest open session began (events before the snapshot offset are
//! in the snapshot and are dropped).

mod daemon_support;

use daemon_support::*;
use std::path::Path;
use std::time::Duration;

/// A FileZilla 0.9 line of session 1 from 203.0.113.5 at second `s` past 14:07:00.
fn fz(s: u32, user: &str, msg: &str) -> String {
    format!("(000001) 21/12/2021 14:07:{s:02} PM - {user} (203.0.113.5)> {msg}\n")
}

/// Bytes of other sessions' lines written between the USER line and the snapshot: more
/// than the 4 MiB look-back a restart always parses again.
const FILLER_BYTES: usize = 5 << 20;

/// Lines of sessions 2, 3, ... that log in as `guest` and leave, about `bytes` of them.
fn filler(bytes: usize) -> String {
    let mut out = String::new();
    let mut id = 2;
    while out.len() < bytes {
        let line = |msg: &str| {
            format!("({id:06}) 21/12/2021 14:07:01 PM - (not logged in) (198.51.100.7)> {msg}\n")
        };
        out += &line("Connected on port 21, sending welcome message...");
        out += &line("USER guest");
        out += &line("331 Password required for guest");
        out += &line("PASS guest");
        out += &line("230 Logged on");
        out += &line("disconnected.");
        id += 1;
    }
    out
}

fn config(root: &Path, log: &Path, rules: &Path, db: &Path) -> std::path::PathBuf {
    let text = format!(
        "[storage]\ndb = {db:?}\n[rules]\ndir = {rules:?}\n\
         [run]\nread_from_start = true\ncommit_ms = 100\nidle_ms = 100\nsnapshot_ms = 200\n\
         [[source]]\npath = {log:?}\nformat = \"filezilla\"\ntimezone = \"UTC\"\n"
    );
    let path = root.join("portcullis.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The checkpoint's rewind offset of `log` (where the snapshot in force stands), in the row
/// of its file (the rows of a path also name its rotated files).
fn rewind_offset(db: &Path, log: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(log).ok()?.ino();
    let v = stats_json(db)?;
    v["checkpoints"]
        .as_array()?
        .iter()
        .find(|c| c["path"].as_str() == log.to_str() && c["inode"].as_u64() == Some(inode))?
        ["rewind_offset"]
        .as_u64()
}

/// Writes ann's login and www's USER line, then `filler_bytes` of other sessions, kills the
/// daemon once a snapshot covers them, writes www's PASS line and checks the incidents.
fn split_login(filler_bytes: usize) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let rules = root.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("login.rule"),
        "rule ftp.test_login\ntitle \"login by {user.name}\"\nseverity low\n\
         where event.action == \"ftp.login\"\ncount 1\nwithin 60s\nby user.name\n",
    )
    .unwrap();
    let log = root.join("fz.log");
    let db = root.join("live.db");
    let cfg = config(root, &log, &rules, &db);
    let err = root.join("daemon.err");
    let out = "(not logged in)";
    // A whole failed login of ann (its event is in the snapshot: parsed again after the
    // restart, it must not count twice), then www's USER line.
    append(
        &log,
        (fz(0, out, "Connected on port 21, sending welcome message...")
            + &fz(0, out, "USER ann")
            + &fz(0, out, "331 Password required for ann")
            + &fz(0, out, "PASS ann")
            + &fz(0, out, "530 Login or password incorrect!")
            + &fz(1, out, "USER www")
            + &fz(1, out, "331 Password required for www")
            + &filler(filler_bytes))
            .as_bytes(),
    );
    let len = std::fs::metadata(&log).unwrap().len();
    let daemon = Daemon::start(&cfg, &err);
    // A snapshot in force covers the USER line: a restart does not read it as new.
    let snapped = wait_for(Duration::from_secs(30), || {
        (rewind_offset(&db, &log) == Some(len)).then_some(())
    });
    assert!(snapped.is_some(), "{}", daemon.log());
    daemon.kill();

    append(
        &log,
        (fz(2, out, "PASS www") + &fz(2, out, "530 Login or password incorrect!")).as_bytes(),
    );
    let daemon = Daemon::start(&cfg, &err);
    let up = wait_for(Duration::from_secs(30), || {
        caught_up(&db, std::slice::from_ref(&log)).then_some(())
    });
    assert!(up.is_some(), "{}", daemon.log());
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    let keys: Vec<Key> = incident_keys(&db).into_iter().collect();
    let key = |user: &str, s: u32| {
        let at = format!("2021-12-21T14:07:{s:02}.000000Z");
        let group = format!("user.name={user}");
        ("ftp.test_login".to_string(), group, 1, at.clone(), at)
    };
    let mut want = vec![key("ann", 0), key("www", 2)];
    if filler_bytes > 0 {
        // The other sessions' logins all succeed: one incident, never doubled.
        let guest = "2021-12-21T14:07:01.000000Z".to_string();
        let n = filler(filler_bytes).matches("USER guest").count() as u64;
        want.insert(
            1,
            (
                "ftp.test_login".into(),
                "user.name=guest".into(),
                n,
                guest.clone(),
                guest,
            ),
        );
    }
    assert_eq!(keys, want);
}

#[test]
fn a_login_split_by_a_crash_is_one_incident_with_its_user() {
    split_login(0);
}

#[test]
fn a_login_begun_more_than_the_look_back_before_the_crash_keeps_its_user() {
    split_login(FILLER_BYTES);
}
