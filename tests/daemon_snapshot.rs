//! A restart with a changed rule set: the daemon stops cleanly (a snapshot with the commit),
//! the rule directory is edited, the daemon starts again and the logs go on. Unchanged
//! rules continue from the snapshot, a changed rule starts empty, a removed rule's state is
//! dropped, and the daemon says so.

mod daemon_support;

use daemon_support::*;
use std::path::Path;
use std::time::Duration;

/// One refused SYN from `src` to `dst` port `port`, `min` minutes after 08:00.
fn deny(min: u32, src: &str, dst: &str, port: u16) -> String {
    format!(
        "2026-03-02T08:{min:02}:00.000000+00:00 fw01 kernel: [1.0] DROP_IN: IN=eth0 OUT=eth1 \
         SRC={src} DST={dst} LEN=44 TOS=0x00 PREC=0x00 TTL=50 ID=1 PROTO=TCP SPT=40000 \
         DPT={port} WINDOW=1024 RES=0x00 SYN URGP=0\n"
    )
}

/// Probes `from..to` of a slow port scan (one port of 203.0.113.30 every 2 minutes) and
/// of a slow sweep of port 23 (one host every 2 minutes, a minute later).
fn probes(from: u32, to: u32) -> String {
    let mut s = String::new();
    for i in from..to {
        s += &deny(2 * i, "192.0.2.201", "203.0.113.30", 7000 + i as u16);
        s += &deny(
            2 * i + 1,
            "192.0.2.202",
            &format!("203.0.113.{}", 100 + i),
            23,
        );
    }
    s
}

/// Incidents of every rule but the random walk.
fn scans(db: &Path) -> Vec<Key> {
    incident_keys(db)
        .into_iter()
        .filter(|k| k.0 != "firewall.trw_scanner")
        .collect()
}

fn copy_pack(to: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("correlation-rules");
    for group in ["ftp", "firewall", "cross"] {
        std::fs::create_dir_all(to.join(group)).unwrap();
        for e in std::fs::read_dir(src.join(group)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, to.join(group).join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn a_restart_with_changed_rules_keeps_the_state_of_unchanged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let rules = root.join("rules");
    copy_pack(&rules);
    let db = root.join("live.db");
    let config = write_config(root, &db, Some(&rules), "commit_ms = 200\nidle_ms = 100");
    let live = root.join("live");
    std::fs::create_dir_all(&live).unwrap();
    let (vs, fw) = (live.join("vsftpd.log"), live.join("kern.log"));
    append(
        &vs,
        b"Mon Mar  2 08:00:00 2026 [pid 2] CONNECT: Client \"198.51.100.7\"\n",
    );
    // 10 of the 15 ports and 10 of the 25 (later 12) hosts: nothing fires yet.
    append(&fw, probes(0, 10).as_bytes());
    let files = [vs.clone(), fw.clone()];
    let log = root.join("daemon.err");
    let daemon = Daemon::start(&config, &log);
    let up = wait_for(Duration::from_secs(30), || {
        caught_up(&db, &files).then_some(())
    });
    assert!(up.is_some(), "{}", daemon.log());
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    // Only the random walk has decided (the sweep's source failed 10 first contacts).
    assert_eq!(scans(&db), Vec::<Key>::new());

    // The sweep needs 12 hosts now (changed: starts empty); brute force is gone.
    let sweep = rules.join("firewall/slow-host-sweep.rule");
    let text = std::fs::read_to_string(&sweep).unwrap();
    std::fs::write(
        &sweep,
        text.replace("destination.ip 25", "destination.ip 12"),
    )
    .unwrap();
    std::fs::remove_file(rules.join("ftp/brute-force.rule")).unwrap();

    let daemon = Daemon::start(&config, &log);
    append(&fw, probes(10, 20).as_bytes());
    let up = wait_for(Duration::from_secs(30), || {
        caught_up(&db, &files).then_some(())
    });
    assert!(up.is_some(), "{}", daemon.log());
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(
            "restored=12 started_empty=firewall.slow_host_sweep dropped=ftp.brute_force held=0"
        ),
        "{text}"
    );
    // The port scan reached 15 ports only with the 10 from before the restart; the sweep
    // saw 10 hosts since its change: under its new threshold of 12.
    let keys = scans(&db);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let k = &keys[0];
    assert_eq!(
        (k.0.as_str(), k.2, k.3.as_str(), k.4.as_str()),
        (
            "firewall.slow_port_scan",
            20,
            "2026-03-02T08:00:00.000000Z",
            "2026-03-02T08:38:00.000000Z"
        ),
        "{k:?}"
    );
    assert!(k.1.contains("source.ip=192.0.2.201"), "{k:?}");
}
