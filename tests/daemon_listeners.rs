//! A restart with a changed listener set: listeners keep the source numbers the snapshot
//! gave them (whatever the configuration's order) and files keep theirs, so the restored
//! state's evidence still names the right sources. Run 1 listens for syslog and tails a
//! vsftpd log with 5 failed logins; run 2 adds a NetFlow listener *before* the syslog one,
//! the log gets 3 more failures and `ftp.brute_force` (8 within 120 s) fires: all 8 of its
//! evidence lines name the vsftpd log, the 5 restored ones included.

mod daemon_support;

use daemon_support::*;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// A failed vsftpd login of 192.0.2.9 at `s` seconds past 08:00:00.
fn fail(s: u32) -> String {
    format!(
        "Mon Mar  2 08:{:02}:{:02} 2026 [pid 7] [root] FAIL LOGIN: Client \"192.0.2.9\"\n",
        s / 60,
        s % 60
    )
}

fn config(root: &Path, db: &Path, log: &Path, listeners: &[(&str, u16)]) -> PathBuf {
    let mut text = format!(
        "[storage]\ndb = {db:?}\n[run]\nread_from_start = true\nidle_ms = 100\ncommit_ms = 100\n\
         [[source]]\npath = {log:?}\nformat = \"vsftpd\"\ntimezone = \"UTC\"\n"
    );
    for (kind, port) in listeners {
        text += &format!("[[listener]]\nkind = \"{kind}\"\nbind = \"127.0.0.1:{port}\"\n");
    }
    let path = root.join("portcullis.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_new_listener_does_not_renumber_the_restored_state() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (db, log, err) = (
        root.join("p.db"),
        root.join("vsftpd.log"),
        root.join("d.err"),
    );
    let (syslog, netflow) = (free_udp_port(), free_udp_port());
    for s in [0, 10, 20, 30, 40] {
        append(&log, fail(s).as_bytes());
    }
    let cfg = config(root, &db, &log, &[("syslog", syslog)]);
    let daemon = Daemon::start_ready(&cfg, &err);
    let up = wait_for(Duration::from_secs(30), || {
        caught_up(&db, std::slice::from_ref(&log)).then_some(())
    });
    assert!(up.is_some(), "{}", daemon.log());
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    assert_eq!(incident_keys(&db).len(), 0);

    let cfg = config(root, &db, &log, &[("netflow", netflow), ("syslog", syslog)]);
    let daemon = Daemon::start_ready(&cfg, &err);
    for s in [50, 60, 70] {
        append(&log, fail(s).as_bytes());
    }
    let up = wait_for(Duration::from_secs(30), || {
        caught_up(&db, std::slice::from_ref(&log)).then_some(())
    });
    assert!(up.is_some(), "{}", daemon.log());
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    let text = std::fs::read_to_string(&err).unwrap();
    assert!(!text.contains("renumbered"), "{text}");

    let out = portcullis(&[
        "incidents",
        "--json",
        "--evidence",
        "--db",
        db.to_str().unwrap(),
    ]);
    let incidents: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let brute: Vec<_> = incidents
        .iter()
        .filter(|i| i["rule"] == "ftp.brute_force")
        .collect();
    assert_eq!(brute.len(), 1, "{incidents:?}");
    assert_eq!(brute[0]["count"], 8);
    let evidence = brute[0]["evidence"].as_array().unwrap();
    let places: Vec<(&str, u64)> = evidence
        .iter()
        .map(|e| (e["source"].as_str().unwrap(), e["offset"].as_u64().unwrap()))
        .collect();
    let line = fail(0).len() as u64;
    let want: Vec<(&str, u64)> = (0..8).map(|i| (log.to_str().unwrap(), i * line)).collect();
    assert_eq!(places, want);
}
