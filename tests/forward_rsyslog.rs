//! Incidents forwarded to a REAL rsyslogd (started here in the foreground on 127.0.0.1 with
//! a generated config: imtcp and imudp on a free port, mmpstrucdata to parse our
//! structured-data element, omfile writing `<parsed SD as JSON> TAB <raw message>` per
//! line). Replays over TCP and UDP deliver exactly the stored incidents; a hostile FTP user
//! name arrives escaped, on one line, inside our one element; a receiver started after the
//! daemon queued incidents gets them all, none twice, and SIGTERM drains what is left.
//! Without rsyslogd the tests say SKIPPED, and fail under `CI=true`.

mod daemon_support;
mod rsyslog_support;

use daemon_support::{append, portcullis, stats_json, wait_for, Daemon};
use rsyslog_support::*;
use std::path::Path;
use std::time::Duration;

#[test]
fn replay_forwards_exactly_the_stored_incidents_over_tcp_and_udp() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // (name, --forward target or [forward] table)
        ("tcp", "tcp://127.0.0.1:{port}", ""),
        ("udp", "udp://127.0.0.1:{port}", ""),
        (
            "tcp-lf-3164",
            "",
            "[forward]\ntarget = \"tcp://127.0.0.1:{port}\"\nframing = \"lf\"\nformat = \"rfc3164\"\n",
        ),
    ];
    for (name, flag, table) in cases {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let port = free_port();
        let rs = Rsyslog::start(&bin, &sub, port);
        let db = sub.join("p.db");
        let config = if table.is_empty() {
            samples()
        } else {
            let text = std::fs::read_to_string(samples()).unwrap().replace(
                "path = \"",
                &format!("path = \"{}/", samples().parent().unwrap().display()),
            );
            let path = sub.join("p.toml");
            std::fs::write(&path, text + &table.replace("{port}", &port.to_string())).unwrap();
            path
        };
        let mut args = vec![
            "replay".to_string(),
            "--config".into(),
            config.display().to_string(),
            "--db".into(),
            db.display().to_string(),
        ];
        if !flag.is_empty() {
            args.extend([
                "--forward".into(),
                flag.replace("{port}", &port.to_string()),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let sent = replay_forwarding(&args);
        let msgs = rs.wait_messages(sent);
        assert_eq!(msgs.len(), sent, "{name}");
        assert_matches_store(&msgs, &db);
        if name.ends_with("3164") {
            assert!(
                msgs.iter()
                    .all(|m| m.sd_ids.is_empty() && m.raw.starts_with("<1")),
                "{name}"
            );
        } else {
            assert!(
                msgs.iter().all(|m| m.sd_ids == ["portcullis@32473"]),
                "{name}"
            );
        }
        // A second replay of the same files has no news: nothing more is sent.
        assert_eq!(replay_forwarding(&args), 0, "{name}");
    }
}

#[test]
fn hostile_user_name_arrives_escaped_in_one_element_on_one_line() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let rs = Rsyslog::start(&bin, dir.path(), port);
    let table = format!("[forward]\ntarget = \"tcp://127.0.0.1:{port}\"\n");
    let db = hostile_replay(dir.path(), &table);
    assert_hostile_escaped(&rs.wait_messages(2), &db);
}

/// Failed vsftpd logins from `ip`, 10 s apart from `start` seconds after 10:00:00.
fn failures(ip: &str, start: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            let s = start + 10 * i;
            format!(
                "Mon Mar  2 10:{:02}:{:02} 2026 [pid 200] [root] FAIL LOGIN: Client \"{ip}\"\n",
                s / 60,
                s % 60
            )
        })
        .collect()
}

fn forward_stat(db: &Path, name: &str) -> u64 {
    stats_json(db)
        .and_then(|v| v["forward"][name].as_u64())
        .unwrap_or(0)
}

#[test]
fn receiver_started_after_the_daemon_gets_the_queue_once() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let db = dir.path().join("p.db");
    let log = dir.path().join("vsftpd.log");
    append(&log, failures("192.0.2.50", 0, 10).as_bytes());
    append(&log, failures("192.0.2.51", 0, 9).as_bytes());
    let config = dir.path().join("p.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndb = {db:?}\n[run]\nread_from_start = true\nidle_ms = 100\ncommit_ms = 200\n\
             [[source]]\npath = {log:?}\nformat = \"vsftpd\"\ntimezone = \"UTC\"\n\
             [forward]\ntarget = \"tcp://127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    let daemon = Daemon::start_ready(&config, &dir.path().join("daemon.log"));
    // Nobody listens yet: the two brute-force incidents wait in the outbox.
    let waiting = wait_for(Duration::from_secs(10), || {
        (forward_stat(&db, "queued") == 2 && forward_stat(&db, "failed_attempts") >= 2)
            .then_some(())
    });
    assert!(waiting.is_some(), "{:?}\n{}", stats_json(&db), daemon.log());
    assert_eq!(forward_stat(&db, "sent"), 0);

    let rs = Rsyslog::start(&bin, dir.path(), port);
    let msgs = rs.wait_messages(2);
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert_matches_store(&msgs, &db);
    let drained = wait_for(Duration::from_secs(5), || {
        (forward_stat(&db, "queued") == 0 && forward_stat(&db, "sent") == 2).then_some(())
    });
    assert!(drained.is_some(), "{:?}", stats_json(&db));

    // More failures grow one incident: the update follows, and SIGTERM leaves nothing queued.
    append(&log, failures("192.0.2.50", 100, 3).as_bytes());
    let committed = wait_for(Duration::from_secs(10), || {
        stored(&db).iter().any(|(_, _, c)| *c == 13).then_some(())
    });
    assert!(committed.is_some(), "{:?}", stored(&db));
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    let msgs = wait_for(Duration::from_secs(10), || {
        let m = rs.messages();
        m.iter().any(|m| m.key().2 == 13).then_some(m)
    })
    .unwrap_or_else(|| panic!("no update with count 13: {:#?}", rs.messages()));
    assert_matches_store(&msgs, &db);
    // The lines may have been committed in one or more steps: one update per commit, each
    // with a higher count, the last with 13.
    let updates: Vec<_> = msgs[2..].iter().map(Msg::key).collect();
    assert!(
        updates
            .iter()
            .all(|k| k.0 == "ftp.brute_force" && k.3 == "update"),
        "{updates:?}"
    );
    assert!(updates.windows(2).all(|w| w[0].2 < w[1].2), "{updates:?}");
    assert_eq!(updates.last().unwrap().2, 13);
    let sent = msgs.len();
    let out = portcullis(&["stats", "--db", db.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("forward     {sent} sent, 0 queued, ")),
        "{text}"
    );
}
