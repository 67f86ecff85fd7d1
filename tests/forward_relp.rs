//! Incidents forwarded over RELP to a REAL rsyslogd (imrelp, package rsyslog-relp) on
//! 127.0.0.1: exact delivery and a hostile name escaped; a receiver killed (SIGKILL) three
//! times mid-stream and restarted still gets every message, and only frames in flight at a
//! kill (sent, perhaps written, not acknowledged) may arrive twice.

mod daemon_support;
mod rsyslog_support;

use daemon_support::wait_for;
use portcullis::forward::{relp::WINDOW, ForwardSettings, Forwarder};
use portcullis::incident::Incident;
use portcullis::rules::Severity;
use portcullis::store::Store;
use rsyslog_support::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// rsyslogd accepting RELP on `port`.
fn relp_rsyslog(bin: &Path, dir: &Path, port: u16) -> Rsyslog {
    let inputs = format!(
        "module(load=\"imrelp\")\ninput(type=\"imrelp\" address=\"127.0.0.1\" port=\"{port}\")\n"
    );
    Rsyslog::start_with(bin, dir, port, "", &inputs)
}

#[test]
fn relp_delivers_exactly_the_stored_incidents_and_escapes_a_hostile_name() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for case in ["samples", "hostile"] {
        let sub = dir.path().join(case);
        std::fs::create_dir_all(&sub).unwrap();
        let port = free_port();
        let rs = relp_rsyslog(&bin, &sub, port);
        let target = format!("relp://127.0.0.1:{port}");
        if case == "hostile" {
            let db = hostile_replay(&sub, &format!("[forward]\ntarget = \"{target}\"\n"));
            assert_hostile_escaped(&rs.wait_messages(2), &db);
            continue;
        }
        let db = sub.join("p.db");
        let config = samples();
        let args = [
            "replay",
            "--config",
            config.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--forward",
            &target,
        ];
        let sent = replay_forwarding(&args);
        let msgs = rs.wait_messages(sent);
        assert_eq!(msgs.len(), sent);
        assert_matches_store(&msgs, &db);
        assert!(msgs.iter().all(|m| m.sd_ids == ["portcullis@32473"]));
        assert_eq!(replay_forwarding(&args), 0);
    }
}

/// Messages queued for the kill test: enough that the forwarder is still sending when the
/// receiver dies (a few seconds at local speed).
const MESSAGES: usize = 20_000;
/// Times the receiver is killed.
const KILLS: usize = 3;

fn incident(i: usize) -> Incident {
    let t = chrono::DateTime::UNIX_EPOCH;
    Incident {
        id: format!("i{i:05}"),
        rule: "ftp.brute_force".into(),
        severity: Severity::High,
        title: "FTP brute force".into(),
        group: vec![],
        first_seen: t,
        last_seen: t,
        count: 8,
        distinct: None,
        evidence: vec![],
        open: true,
    }
}

#[test]
fn relp_receiver_killed_mid_stream_loses_nothing() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut rs = relp_rsyslog(&bin, dir.path(), port);
    let settings = ForwardSettings::for_target(&format!("relp://127.0.0.1:{port}")).unwrap();
    let db = dir.path().join("p.db");
    let mut store = Store::open(&db).unwrap();
    store.set_outbox(Some(settings.outbox));
    let all: Vec<Incident> = (0..MESSAGES).map(incident).collect();
    for chunk in all.chunks(1000) {
        store.write_incidents(chunk, &[]).unwrap();
    }
    let fwd = Forwarder::spawn(&db, settings).unwrap();
    for k in 1..=KILLS {
        let mark = MESSAGES * k / (KILLS + 1);
        let reached = wait_for(Duration::from_secs(30), || {
            (rs.count() >= mark).then_some(())
        });
        assert!(reached.is_some(), "kill {k}: {} messages", rs.count());
        rs.kill();
        std::thread::sleep(Duration::from_millis(300));
        rs.restart();
    }
    let drained = wait_for(Duration::from_secs(60), || {
        (store.forward_stats().unwrap().queued == 0).then_some(())
    });
    fwd.finish(Duration::from_secs(1));
    let st = store.forward_stats().unwrap();
    assert!(drained.is_some(), "{st:?}");
    assert_eq!(st.sent as usize, MESSAGES, "acknowledged once each: {st:?}");
    assert!(st.failed_attempts >= KILLS as u64, "{st:?}");

    let msgs = rs.wait_messages(MESSAGES);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for m in &msgs {
        *seen.entry(m.sd["id"].clone()).or_default() += 1;
    }
    let missing: Vec<String> = (0..MESSAGES)
        .map(|i| incident(i).id)
        .filter(|id| !seen.contains_key(id))
        .collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    assert_eq!(seen.len(), MESSAGES);
    // Only frames in flight at a kill can come twice: at most one window per kill.
    let twice = msgs.len() - MESSAGES;
    assert!(seen.values().all(|&n| n <= 2), "a message came 3 times");
    assert!(twice <= KILLS * WINDOW, "{twice} duplicates");
    eprintln!(
        "RELP: {MESSAGES} messages, receiver killed {KILLS} times: none lost, {twice} \
         delivered twice (acknowledgement lost at a kill), {} failed attempts",
        st.failed_attempts
    );
}
