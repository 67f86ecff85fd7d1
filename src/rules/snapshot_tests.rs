//! Snapshot → restore → the same continuation gives exactly the incidents of an engine that
//! never stopped, for every rule shape of the default pack.

use super::*;
use crate::incident::Incident;
use crate::rules::{compile_rule, default_rules};
use chrono::TimeZone;
use std::path::Path;

const LATENESS: Duration = Duration::from_secs(5);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

/// Builds one event at `secs` (milliseconds allowed) after t0.
fn ev(ms: i64, action: Action, src: &str) -> Event {
    let mut e = Event::new(
        t0() + chrono::Duration::milliseconds(ms),
        Dataset::Vsftpd,
        action,
    );
    e.source_ip = ip(src);
    e
}

fn fw(ms: i64, action: Action, src: &str, dst: &str, port: u16) -> Event {
    let mut e = ev(ms, action, src);
    e.dataset = Dataset::Iptables;
    e.destination_ip = ip(dst);
    e.destination_port = Some(port);
    e.transport = Some(Transport::Tcp);
    e.outcome = match action {
        Action::FirewallDeny => Outcome::Failure,
        _ => Outcome::Success,
    };
    e
}

/// A day and a half of activity that makes every rule of the default pack fire, with
/// incidents open, joins pending and sequences half done at many moments.
fn stream() -> Vec<Record> {
    const SERVER: &str = "203.0.113.10";
    let mut events = Vec::new();
    let hour = 3_600_000;
    for k in 0..36i64 {
        let base = k * hour;
        // The FTP server's usual port, learnt during the first day; a new one on day two.
        let mut c = ev(
            base + 1_000,
            Action::FtpConnect,
            &format!("198.51.100.{}", k % 7),
        );
        c.destination_ip = ip(SERVER);
        c.destination_port = Some(if k == 30 { 2222 } else { 21 });
        events.push(c);
        // Brute force then success, from a new source every third hour.
        if k % 3 == 0 {
            let src = format!("192.0.2.{}", 100 + k);
            for i in 0..10 {
                let mut e = ev(base + 60_000 + i * 4_000, Action::FtpLogin, &src);
                e.outcome = Outcome::Failure;
                events.push(e);
            }
            let mut e = ev(base + 110_000, Action::FtpLogin, &src);
            e.outcome = Outcome::Success;
            events.push(e);
        }
        // Anonymous login and a sensitive upload.
        if k % 5 == 1 {
            let src = format!("198.51.100.{}", 50 + k);
            let mut e = ev(base + 200_000, Action::FtpLogin, &src);
            e.outcome = Outcome::Success;
            e.ftp_anonymous = true;
            e.destination_ip = ip(SERVER);
            events.push(e);
            let mut e = ev(base + 203_000, Action::FtpUpload, &src);
            e.outcome = Outcome::Success;
            e.ftp_anonymous = true;
            e.destination_ip = ip(SERVER);
            e.file_path = Some(format!("/pub/dump{k}.sql"));
            events.push(e);
        }
        // A fast port scan and a host sweep (TRW decides these sources too).
        if k % 4 == 2 {
            let src = format!("192.0.2.{}", 10 + k);
            for p in 0..20u16 {
                events.push(fw(
                    base + 300_000 + i64::from(p) * 1_500,
                    Action::FirewallDeny,
                    &src,
                    "203.0.113.50",
                    1000 + p,
                ));
            }
            for h in 0..30 {
                let dst = format!("203.0.113.{}", 100 + h);
                events.push(fw(
                    base + 400_000 + i64::from(h) * 900,
                    Action::FirewallDeny,
                    &src,
                    &dst,
                    445,
                ));
            }
        }
        // A slow scan: one refused port of one host every 20 minutes, all along.
        for m in 0..3 {
            let port = (k * 3 + m) as u16;
            events.push(fw(
                base + m * 1_200_000 + 7_000,
                Action::FirewallDeny,
                "192.0.2.77",
                "203.0.113.60",
                3000 + port,
            ));
            // And a slow sweep of port 23 over many hosts.
            let dst = format!("203.0.113.{}", 150 + (k * 3 + m) % 90);
            events.push(fw(
                base + m * 1_200_000 + 9_000,
                Action::FirewallDeny,
                "192.0.2.78",
                &dst,
                23,
            ));
        }
        // An FTP server answering on 2121: the firewall sees the port, vsftpd the session.
        if k % 6 == 4 {
            let src = format!("198.51.100.{}", 150 + k);
            events.push(fw(
                base + 500_000,
                Action::FirewallAllow,
                &src,
                SERVER,
                2121,
            ));
            let mut c = ev(base + 500_800, Action::FtpConnect, &src);
            c.destination_ip = ip(SERVER);
            events.push(c);
        }
        // Established traffic to port 21 that no FTP server logged.
        if k % 7 == 5 {
            let mut f = fw(
                base + 600_000,
                Action::Flow,
                "198.51.100.200",
                "203.0.113.20",
                21,
            );
            f.dataset = Dataset::Netflow;
            f.tcp_flags = Some(TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
            events.push(f);
        }
    }
    // SSH, every few hours: a burst of failed logins, and a login over port 2200 whose
    // firewall record (same client port) comes 2 s before it.
    for k in (2..36i64).step_by(5) {
        let base = k * hour + 600_000;
        for j in 0..9 {
            let mut e = ev(base + j * 5_000, Action::SshLogin, "192.0.2.77");
            e.dataset = Dataset::Sshd;
            e.outcome = Outcome::Failure;
            e.source_port = Some(40_000 + j as u16);
            events.push(e);
        }
        let mut a = fw(
            base + 60_000,
            Action::FirewallAllow,
            "192.0.2.78",
            SERVER,
            2200,
        );
        a.source_port = Some(50_000);
        events.push(a);
        let mut l = ev(base + 62_000, Action::SshLogin, "192.0.2.78");
        l.dataset = Dataset::Sshd;
        l.outcome = Outcome::Success;
        l.source_port = Some(50_000);
        l.destination_ip = ip(SERVER);
        events.push(l);
    }
    // Nearly ordered, as logs are: a few lines swapped within the lateness allowance.
    events.sort_by_key(|e| e.timestamp);
    for i in (7..events.len()).step_by(11) {
        if (events[i].timestamp - events[i - 1].timestamp).num_seconds() < 3 {
            events.swap(i, i - 1);
        }
    }
    events
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.origin.source = (i % 2) as u32;
            e.origin.offset = i as u64 * 100;
            let raw = RawLine::from_text(&format!("line {i} {}", e.action.as_str()));
            Record { event: e, raw }
        })
        .collect()
}

/// The latest state of every incident, by id.
fn latest(all: Vec<Incident>) -> Vec<Incident> {
    let mut out: Vec<Incident> = Vec::new();
    for inc in all {
        match out.iter_mut().find(|i| i.id == inc.id) {
            Some(slot) => *slot = inc,
            None => out.push(inc),
        }
    }
    out.sort_by(|a, b| (&a.rule, &a.id).cmp(&(&b.rule, &b.id)));
    out
}

/// Runs the stream, stopping after each index in `stops` for a snapshot and a restore
/// into a fresh engine with `rules_after`.
fn run(
    rules: Vec<Rule>,
    rules_after: &[Rule],
    records: &[Record],
    stops: &[usize],
) -> (Vec<Incident>, Vec<RestoreReport>) {
    let mut engine = Engine::new(rules, LATENESS);
    let mut all = Vec::new();
    let mut reports = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if stops.contains(&i) {
            let bytes = engine.snapshot();
            let (e, report) = Engine::restore(rules_after.to_vec(), LATENESS, &bytes).unwrap();
            engine = e;
            reports.push(report);
        }
        engine.push(r.clone());
        all.extend(engine.take_updates());
    }
    engine.finish();
    all.extend(engine.take_updates());
    (latest(all), reports)
}

#[test]
fn every_rule_continues_exactly_after_a_restore() {
    let rules = default_rules().unwrap();
    let records = stream();
    let (whole, _) = run(rules.clone(), &rules, &records, &[]);
    let mut fired: Vec<&str> = whole.iter().map(|i| &*i.rule).collect();
    fired.dedup();
    let mut names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(fired, names, "the stream must make every rule fire");
    // Stops everywhere: mid-burst, mid-sequence, with joins pending and records buffered.
    let n = records.len();
    let stops: Vec<usize> = (1..40).map(|k| k * n / 40 + k % 3).collect();
    let (restored, reports) = run(rules.clone(), &rules, &records, &stops);
    assert_eq!(reports.len(), stops.len());
    assert!(reports
        .iter()
        .all(|r| r.restored.len() == rules.len() && r.fresh.is_empty() && r.dropped.is_empty()));
    assert_eq!(restored.len(), whole.len());
    for (a, b) in restored.iter().zip(&whole) {
        assert_eq!(a, b);
    }
}

#[test]
fn without_a_restore_the_long_rules_miss_incidents() {
    // The test above can fail: an engine that restarts empty loses the slow scans.
    let rules = default_rules().unwrap();
    let records = stream();
    let (whole, _) = run(rules.clone(), &rules, &records, &[]);
    let mut engine = Engine::new(rules.clone(), LATENESS);
    let mut all = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if i == records.len() / 2 {
            engine = Engine::new(rules.clone(), LATENESS);
        }
        engine.push(r.clone());
        all.extend(engine.take_updates());
    }
    engine.finish();
    all.extend(engine.take_updates());
    assert_ne!(latest(all), whole);
}

fn changed_pack() -> Vec<Rule> {
    let mut rules: Vec<Rule> = default_rules()
        .unwrap()
        .into_iter()
        .filter(|r| r.name != "firewall.slow_host_sweep")
        .collect();
    let brute = rules
        .iter_mut()
        .find(|r| r.name == "ftp.brute_force")
        .unwrap();
    brute.shape = crate::rules::Shape::Count(6);
    rules.push(
        compile_rule(
            Path::new("new.rule"),
            "rule new.logins title \"t\" severity low where event.action == \"ftp.login\" \
             count 1 within 10s by source.ip",
        )
        .unwrap(),
    );
    rules
}

#[test]
fn a_changed_rule_set_restores_what_matches_and_says_so() {
    let rules = default_rules().unwrap();
    let after = changed_pack();
    let records = stream();
    let stop = records.len() / 2;
    let (whole, _) = run(rules.clone(), &rules, &records, &[]);
    let (mixed, reports) = run(rules.clone(), &after, &records, &[stop]);
    let r = &reports[0];
    assert_eq!(r.fresh, ["ftp.brute_force", "new.logins"]);
    assert_eq!(r.dropped, ["firewall.slow_host_sweep"]);
    assert_eq!(r.restored.len(), rules.len() - 2);
    assert_eq!(
        r.to_string(),
        "restored=13 started_empty=ftp.brute_force,new.logins dropped=firewall.slow_host_sweep"
    );
    // Unchanged rules (slow scans included) go on exactly as if nothing had happened.
    let of = |v: &[Incident], rule: &str| -> Vec<Incident> {
        v.iter().filter(|i| &*i.rule == rule).cloned().collect()
    };
    for name in &r.restored {
        assert_eq!(of(&mixed, name), of(&whole, name), "{name}");
    }
    assert!(
        of(&mixed, "firewall.slow_host_sweep").len() < of(&whole, "firewall.slow_host_sweep").len()
    );
    assert!(!of(&mixed, "new.logins").is_empty());
}

#[test]
fn bad_bytes_are_refused_with_the_reason() {
    let rules = default_rules().unwrap();
    let mut engine = Engine::new(rules.clone(), LATENESS);
    for r in stream().into_iter().take(500) {
        engine.push(r);
    }
    let bytes = engine.snapshot();
    let err = |b: &[u8]| Engine::restore(rules.clone(), LATENESS, b).err().unwrap();
    assert!(matches!(err(b"junk"), SnapshotError::NotASnapshot));
    let mut other = bytes.clone();
    other[4] = 99;
    assert!(
        matches!(err(&other), SnapshotError::Version { found } if found == 99 + 256 * u16::from(other[5]))
    );
    assert!(matches!(
        err(&bytes[..bytes.len() / 2]),
        SnapshotError::Corrupt(_)
    ));
    let (again, _) = Engine::restore(rules, LATENESS, &bytes).unwrap();
    assert_eq!(again.snapshot().len(), bytes.len());
    assert_eq!(again.stats(), engine.stats());
}

#[test]
fn an_event_with_every_field_survives_the_round_trip() {
    let mut e = fw(1_500, Action::Flow, "192.0.2.1", "198.51.100.2", 2121);
    e.outcome = Outcome::Success;
    e.source_port = Some(40_000);
    e.transport = Some(Transport::Other(47));
    e.bytes = Some(1 << 40);
    e.packets = Some(7);
    e.tcp_flags = Some(TcpFlags(0x12));
    e.user_name = Some("a user name longer than twenty-four bytes".into());
    e.ftp_anonymous = true;
    e.file_path = Some("/pub/x".into());
    e.file_size = Some(9);
    e.host_name = Some("ftp01".into());
    e.observer_ip = ip("203.0.113.1");
    e.process_pid = Some(4242);
    e.rule_name = Some("DROP".into());
    e.interface_in = Some("eth0".into());
    e.interface_out = Some("eth1".into());
    e.set_end(t0() + chrono::Duration::milliseconds(2_750));
    e.origin.source = 3;
    e.origin.offset = 12_345;
    let back = EventRepr::of(&e)
        .into_event::<serde::de::value::Error>()
        .unwrap();
    assert_eq!(back, e);
    assert_eq!(back.duration_ns, Some(1_250_000_000));
}

#[test]
fn a_frozen_copy_encodes_its_moment_while_the_engine_goes_on() {
    // The long-window groups are shared with the copy until the engine writes them: writes,
    // new groups and sweeps after the freeze must not reach the copy.
    let records = stream();
    let mut engine = Engine::new(default_rules().unwrap(), LATENESS);
    let n = records.len();
    let mut frozen = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if i % (n / 5) == n / 10 {
            frozen.push((engine.snapshot(), engine.freeze()));
        }
        engine.push(r.clone());
    }
    engine.finish();
    assert_eq!(frozen.len(), 5);
    let end = engine.snapshot();
    for (bytes, copy) in frozen {
        assert_ne!(bytes, end);
        assert_eq!(copy.encode(), bytes);
    }
}
