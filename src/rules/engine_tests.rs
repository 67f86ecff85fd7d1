//! Behaviour of the engine on hand-made event streams: thresholds, quiet periods, ordering,
//! joins.

use super::engine::Engine;
use super::limits::Limits;
use super::{compile_rule, Rule};
use crate::incident::Incident;
use crate::record::{RawLine, Record};
use chrono::{DateTime, Duration, TimeZone, Utc};
use portcullis_parsers::{Action, Dataset, Event, Outcome, Transport};
use std::path::Path;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

fn rule(text: &str) -> Rule {
    compile_rule(Path::new("test.rule"), text).unwrap()
}

fn rec(e: Event) -> Record {
    let raw = RawLine::from_text(&format!("{} {}", e.action.as_str(), e.timestamp));
    Record { event: e, raw }
}

fn fail_login(secs: i64, src: &str) -> Record {
    let mut e = Event::new(
        t0() + Duration::seconds(secs),
        Dataset::Vsftpd,
        Action::FtpLogin,
    );
    e.outcome = Outcome::Failure;
    e.source_ip = Some(src.parse().unwrap());
    rec(e)
}

fn packet(millis: i64, action: Action, src: &str, dst: &str, dport: u16) -> Record {
    let mut e = Event::new(
        t0() + Duration::milliseconds(millis),
        Dataset::Iptables,
        action,
    );
    e.source_ip = Some(src.parse().unwrap());
    e.destination_ip = Some(dst.parse().unwrap());
    e.destination_port = Some(dport);
    e.transport = Some(Transport::Tcp);
    rec(e)
}

fn connect(millis: i64, src: &str) -> Record {
    let mut e = Event::new(
        t0() + Duration::milliseconds(millis),
        Dataset::Vsftpd,
        Action::FtpConnect,
    );
    e.source_ip = Some(src.parse().unwrap());
    rec(e)
}

/// Runs records through an engine and returns the latest snapshot of each incident, by id.
fn run(rules: Vec<Rule>, records: Vec<Record>) -> Vec<Incident> {
    let mut engine = Engine::new(rules, std::time::Duration::from_secs(5));
    let mut all: Vec<Incident> = Vec::new();
    for r in records {
        engine.push(r);
        all.extend(engine.take_updates());
    }
    engine.finish();
    all.extend(engine.take_updates());
    let mut latest: Vec<Incident> = Vec::new();
    for inc in all {
        match latest.iter_mut().find(|i| i.id == inc.id) {
            Some(slot) => *slot = inc,
            None => latest.push(inc),
        }
    }
    latest.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)));
    latest
}

const BRUTE: &str = r#"rule b title "brute {source.ip}" severity high
    where event.action == "ftp.login" and event.outcome == "failure"
    count 3 within 60s by source.ip"#;

#[test]
fn count_fires_at_threshold_and_updates_while_active() {
    let recs = (0..5).map(|i| fail_login(i * 10, "192.0.2.1")).collect();
    let got = run(vec![rule(BRUTE)], recs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].count, 5);
    assert_eq!(got[0].first_seen, t0());
    assert_eq!(got[0].last_seen, t0() + Duration::seconds(40));
    assert_eq!(got[0].evidence.len(), 5);
    assert_eq!(got[0].title, "brute 192.0.2.1");
}

#[test]
fn count_below_threshold_within_window_is_silent() {
    // Three failures, but never three inside 60 s.
    let recs = vec![
        fail_login(0, "192.0.2.1"),
        fail_login(50, "192.0.2.1"),
        fail_login(115, "192.0.2.1"),
    ];
    assert!(run(vec![rule(BRUTE)], recs).is_empty());
}

#[test]
fn a_quiet_period_ends_an_incident_and_later_activity_opens_another() {
    let mut recs: Vec<Record> = (0..3).map(|i| fail_login(i, "192.0.2.1")).collect();
    recs.extend((0..3).map(|i| fail_login(600 + i, "192.0.2.1")));
    let got = run(vec![rule(BRUTE)], recs);
    assert_eq!(got.len(), 2);
    assert!(
        !got[0].open,
        "the first incident closed after its quiet period"
    );
    assert_ne!(got[0].id, got[1].id);
    assert_eq!(got[1].first_seen, t0() + Duration::seconds(600));
}

#[test]
fn groups_are_separate() {
    let recs = vec![
        fail_login(0, "192.0.2.1"),
        fail_login(1, "192.0.2.2"),
        fail_login(2, "192.0.2.1"),
        fail_login(3, "192.0.2.2"),
    ];
    assert!(run(vec![rule(BRUTE)], recs).is_empty());
}

#[test]
fn shuffling_within_the_lateness_allowance_changes_nothing() {
    let scan = r#"rule s title "scan" severity medium distinct destination.port 5 within 1m
        by source.ip, destination.ip"#;
    let make = || -> Vec<Record> {
        let mut v: Vec<Record> = (0..40)
            .map(|i| fail_login(i * 7, if i % 3 == 0 { "192.0.2.1" } else { "192.0.2.2" }))
            .collect();
        v.extend((0..20).map(|i| {
            packet(
                i * 900,
                Action::FirewallDeny,
                "198.51.100.9",
                "203.0.113.10",
                1000 + i as u16,
            )
        }));
        v.sort_by_key(|r| r.event.timestamp);
        v
    };
    let ordered = run(vec![rule(BRUTE), rule(scan)], make());
    // Deterministic shuffle: swap neighbours less than 5 s apart.
    let mut shuffled = make();
    for i in (1..shuffled.len()).step_by(2) {
        let gap = shuffled[i].event.timestamp - shuffled[i - 1].event.timestamp;
        if gap < Duration::seconds(4) {
            shuffled.swap(i, i - 1);
        }
    }
    shuffled.reverse();
    shuffled.sort_by_key(|r| r.event.timestamp.timestamp() / 4); // coarse order only
    let reordered = run(vec![rule(BRUTE), rule(scan)], shuffled);
    assert!(!ordered.is_empty());
    let key = |v: &[Incident]| {
        v.iter()
            .map(|i| (i.id.clone(), i.count, i.distinct))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&ordered), key(&reordered));
}

const OFF_PORT: &str = r#"rule o title "off {destination.ip}:{destination.port}" severity high
    join on source.ip, destination.ip?
      left event.action == "ftp.connect"
      right event.action == "firewall.allow" and network.transport == "tcp"
    where destination.port not in [21, 990]
    within 2s by destination.ip, destination.port"#;

#[test]
fn join_takes_the_nearest_record_not_any_record() {
    // Control connection to 21 at the CONNECT; a data connection 1.5 s later.
    let recs = vec![
        packet(0, Action::FirewallAllow, "198.51.100.5", "203.0.113.10", 21),
        connect(300, "198.51.100.5"),
        packet(
            1800,
            Action::FirewallAllow,
            "198.51.100.5",
            "203.0.113.10",
            30001,
        ),
    ];
    assert!(run(vec![rule(OFF_PORT)], recs).is_empty());
}

#[test]
fn join_finds_an_off_port_server_and_groups_by_port() {
    let recs = vec![
        packet(
            0,
            Action::FirewallAllow,
            "198.51.100.5",
            "203.0.113.10",
            2121,
        ),
        connect(400, "198.51.100.5"),
        packet(
            60_000,
            Action::FirewallAllow,
            "198.51.100.6",
            "203.0.113.10",
            2121,
        ),
        connect(60_900, "198.51.100.6"),
        // No partner within 2 s: nothing.
        packet(
            120_000,
            Action::FirewallAllow,
            "198.51.100.7",
            "203.0.113.10",
            2222,
        ),
        connect(123_000, "198.51.100.7"),
        // A denied packet is not a partner.
        packet(
            200_000,
            Action::FirewallDeny,
            "198.51.100.8",
            "203.0.113.10",
            3333,
        ),
        connect(200_100, "198.51.100.8"),
    ];
    let got = run(vec![rule(OFF_PORT)], recs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "off 203.0.113.10:2121");
    assert_eq!(got[0].count, 2);
    assert_eq!(got[0].evidence.len(), 4);
    assert!(got[0].evidence[1].raw.starts_with("firewall.allow"));
}

#[test]
fn join_ties_go_to_the_earlier_record_across_forgotten_ones() {
    let a = "198.51.100.5";
    // Ten seconds of control connections to 21 from the same client: by 20 s they are
    // forgotten, so the key's chain runs past the front of the queue.
    let mut recs: Vec<Record> = (0..100)
        .map(|i| packet(i * 100, Action::FirewallAllow, a, "203.0.113.10", 21))
        .collect();
    // Two records 500 ms either side of the CONNECT, another client's in between.
    recs.push(packet(
        19_500,
        Action::FirewallAllow,
        a,
        "203.0.113.10",
        2121,
    ));
    recs.push(packet(
        20_000,
        Action::FirewallAllow,
        "198.51.100.9",
        "203.0.113.10",
        4444,
    ));
    recs.push(connect(20_000, a));
    recs.push(packet(
        20_500,
        Action::FirewallAllow,
        a,
        "203.0.113.10",
        3333,
    ));
    let got = run(vec![rule(OFF_PORT)], recs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "off 203.0.113.10:2121");
    assert_eq!(got[0].count, 1);
}

#[test]
fn optional_join_key_must_agree_when_both_sides_have_it() {
    let mut c = connect(100, "198.51.100.5");
    c.event.destination_ip = Some("203.0.113.99".parse().unwrap());
    let recs = vec![
        packet(
            0,
            Action::FirewallAllow,
            "198.51.100.5",
            "203.0.113.10",
            2121,
        ),
        c,
    ];
    assert!(run(vec![rule(OFF_PORT)], recs).is_empty());
}

#[test]
fn late_records_are_counted_and_still_processed() {
    let mut engine = Engine::new(vec![rule(BRUTE)], std::time::Duration::from_secs(5));
    engine.push(fail_login(100, "192.0.2.1"));
    engine.push(fail_login(200, "192.0.2.1")); // releases the first
    engine.push(fail_login(0, "192.0.2.1")); // behind the watermark
    engine.finish();
    let s = engine.stats();
    assert_eq!((s.events, s.late), (3, 1));
}

const THEN_SUCCESS: &str = r#"rule s title "worked {source.ip}" severity critical
    where event.action == "ftp.login"
    sequence
      step event.outcome == "failure" times 3
      step event.outcome == "success"
    until user.name == "reset"
    within 60s by source.ip"#;

fn login(secs: i64, src: &str, outcome: Outcome) -> Record {
    let mut r = fail_login(secs, src);
    r.event.outcome = outcome;
    r
}

#[test]
fn sequence_fires_when_the_steps_happen_in_order_within_the_window() {
    let recs = vec![
        login(0, "192.0.2.1", Outcome::Failure),
        login(10, "192.0.2.1", Outcome::Success), // too early: one failure so far
        login(20, "192.0.2.1", Outcome::Failure),
        login(25, "192.0.2.2", Outcome::Failure), // another group
        login(30, "192.0.2.1", Outcome::Failure),
        login(40, "192.0.2.1", Outcome::Success),
    ];
    let got = run(vec![rule(THEN_SUCCESS)], recs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "worked 192.0.2.1");
    assert_eq!(got[0].first_seen, t0()); // the first of the three failures
    assert_eq!(got[0].last_seen, t0() + Duration::seconds(40));
    assert_eq!(got[0].evidence.len(), 4);
}

#[test]
fn sequence_steps_outside_the_window_or_before_until_do_not_count() {
    let mut reset = login(35, "192.0.2.1", Outcome::Failure);
    reset.event.user_name = Some("reset".into());
    let recs = vec![
        login(0, "192.0.2.1", Outcome::Failure),
        login(1, "192.0.2.1", Outcome::Failure),
        login(2, "192.0.2.1", Outcome::Failure),
        login(70, "192.0.2.1", Outcome::Success), // 70 s after the first: outside 60 s
        login(100, "192.0.2.3", Outcome::Failure),
        login(101, "192.0.2.3", Outcome::Failure),
        login(102, "192.0.2.3", Outcome::Failure),
    ];
    assert!(run(vec![rule(THEN_SUCCESS)], recs).is_empty());
    let recs = vec![
        login(0, "192.0.2.1", Outcome::Failure),
        login(10, "192.0.2.1", Outcome::Failure),
        login(20, "192.0.2.1", Outcome::Failure),
        reset,
        login(40, "192.0.2.1", Outcome::Success),
    ];
    assert!(run(vec![rule(THEN_SUCCESS)], recs).is_empty());
}

#[test]
fn long_distinct_windows_find_a_probe_every_five_minutes() {
    let slow = r#"rule s title "slow {source.ip}" severity medium
        where event.action == "firewall.deny"
        distinct destination.port 15 within 24h by source.ip, destination.ip"#;
    // One refused probe every 5 minutes on a new port; the 15th comes 70 minutes in.
    let recs: Vec<Record> = (0..20)
        .map(|i| {
            packet(
                i * 300_000,
                Action::FirewallDeny,
                "192.0.2.7",
                "203.0.113.10",
                1000 + i as u16,
            )
        })
        .collect();
    let got = run(vec![rule(slow)], recs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].first_seen, t0()); // the first refused probe
    assert_eq!(got[0].distinct, Some(20));
    assert_eq!(got[0].count, 20);
    assert_eq!(got[0].last_seen, t0() + Duration::minutes(95));
    // The detector reports its latest 4 places at every update; each line is kept once:
    // probes 12-15 when it fires, then 16, 17, 18, 19 and 20.
    let times: Vec<i64> = got[0]
        .evidence
        .iter()
        .map(|e| (e.timestamp - t0()).num_minutes())
        .collect();
    assert_eq!(times, [55, 60, 65, 70, 75, 80, 85, 90, 95]);
}

#[test]
fn first_seen_reports_new_values_only_after_learning() {
    let fs = r#"rule n title "new port {destination.port} on {destination.ip}" severity low
        where event.action == "firewall.allow"
        first_seen destination.port learn 1h within 1h by destination.ip"#;
    let recs = vec![
        packet(0, Action::FirewallAllow, "198.51.100.1", "203.0.113.10", 21),
        packet(
            600_000,
            Action::FirewallAllow,
            "198.51.100.2",
            "203.0.113.10",
            22,
        ), // learning
        packet(
            4_000_000,
            Action::FirewallAllow,
            "198.51.100.3",
            "203.0.113.10",
            21,
        ), // known
        packet(
            4_100_000,
            Action::FirewallAllow,
            "198.51.100.4",
            "203.0.113.10",
            2121,
        ), // new
        packet(
            4_200_000,
            Action::FirewallAllow,
            "198.51.100.5",
            "203.0.113.10",
            2121,
        ), // known now
        packet(
            4_300_000,
            Action::FirewallAllow,
            "198.51.100.5",
            "203.0.113.11",
            2121,
        ), // other host
    ];
    let got = run(vec![rule(fs)], recs);
    let titles: Vec<_> = got.iter().map(|i| (i.title.as_str(), i.count)).collect();
    assert_eq!(
        titles,
        [
            ("new port 2121 on 203.0.113.10", 1),
            ("new port 2121 on 203.0.113.11", 1)
        ]
    );
}

#[test]
fn allowlisted_events_and_joined_pairs_raise_nothing() {
    use crate::rules::allow::{attach, compile_allow, AllowEntry};
    let entry = |rules: &[&str], field: &str, values: &[&str]| {
        compile_allow(&AllowEntry {
            rules: rules.iter().map(|s| s.to_string()).collect(),
            field: field.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
            reason: "test".into(),
        })
        .unwrap()
    };
    let mut rules = vec![rule(BRUTE), rule(OFF_PORT)];
    attach(
        &mut rules,
        &[
            entry(&["b"], "source.ip", &["192.0.2.0/28"]),
            // A known server on 2121: the allowlist sees the joined pair's port.
            entry(&["o"], "destination.port", &["2121"]),
        ],
    );
    let mut recs: Vec<Record> = (0..5).map(|i| fail_login(i, "192.0.2.1")).collect();
    recs.extend((0..5).map(|i| fail_login(10 + i, "192.0.2.200")));
    recs.push(packet(
        30_000,
        Action::FirewallAllow,
        "198.51.100.5",
        "203.0.113.10",
        2121,
    ));
    recs.push(connect(30_400, "198.51.100.5"));
    recs.push(packet(
        60_000,
        Action::FirewallAllow,
        "198.51.100.6",
        "203.0.113.10",
        2222,
    ));
    recs.push(connect(60_400, "198.51.100.6"));
    let got = run(rules, recs);
    let titles: Vec<_> = got.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["brute 192.0.2.200", "off 203.0.113.10:2222"]);
}

#[test]
fn an_idle_flush_lets_a_join_wait_for_a_late_partner() {
    let mut engine = Engine::new(vec![rule(OFF_PORT)], std::time::Duration::from_secs(5));
    engine.push(connect(1_000, "198.51.100.5"));
    // 100 ms of silence: the session is released but still waits for its firewall record.
    engine.flush_idle(std::time::Duration::from_millis(100));
    assert_eq!(engine.pending_joins(), 1);
    assert!(engine.take_updates().is_empty());
    // The firewall's line arrives late from its own file.
    engine.push(packet(
        600,
        Action::FirewallAllow,
        "198.51.100.5",
        "203.0.113.10",
        2121,
    ));
    engine.flush_idle(std::time::Duration::from_secs(3));
    assert_eq!(engine.pending_joins(), 0);
    let got = engine.take_updates();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "off 203.0.113.10:2121");
}

/// Counts a rule's state gave up under small configured caps: 2 groups per rule, 3 values
/// per group, 1 pending join event.
#[test]
fn configured_caps_are_hit_and_counted() {
    let scan = rule(
        r#"rule s title "scan" severity low where event.action == "firewall.deny"
           distinct destination.port 2 within 5m by source.ip"#,
    );
    let join = rule(
        r#"rule j title "off {destination.port}" severity high
           join on source.ip
             left  event.action == "ftp.connect"
             right event.action == "firewall.allow"
           within 2s by destination.port"#,
    );
    let limits = Limits {
        groups_per_rule: 2,
        values_per_group: 3,
        join_pending: 1,
        ..Limits::default()
    };
    let mut engine = Engine::with_limits(vec![scan, join], std::time::Duration::ZERO, limits);
    // Sources .1 and .2 take the two groups; .3 and .4 find the rule full: 2 group cap hits.
    for (i, src) in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
        .iter()
        .enumerate()
    {
        engine.push(packet(i as i64, Action::FirewallDeny, src, "192.0.2.1", 22));
    }
    // .1 probes 5 more ports: its incident opens at the 2nd port and remembers 3 values;
    // ports 4 to 6 are past the value cap: 3 value cap hits.
    for port in 23..28 {
        engine.push(packet(
            100,
            Action::FirewallDeny,
            "10.0.0.1",
            "192.0.2.1",
            port,
        ));
    }
    // The first connect waits for a partner (1 pending); the next two find the join full.
    for ms in [200, 201, 202] {
        engine.push(connect(ms, "10.0.0.9"));
    }
    let s = engine.stats();
    assert_eq!(
        (s.group_cap_hits, s.value_cap_hits, s.join_cap_hits),
        (2, 3, 2)
    );
}

#[test]
fn reused_record_allocations_never_overwrite_a_kept_record() {
    // Failed logins that the count rule keeps, between bursts of connects that no rule
    // keeps: the connects' allocations are reused (a second's burst at a time), the kept
    // logins' never, so the incident's evidence is exactly the three login lines.
    let mut recs = Vec::new();
    for i in 0..3i64 {
        recs.push(fail_login(i * 20, "192.0.2.1"));
        for m in 0..100 {
            recs.push(connect(i * 20_000 + 1 + m * 9, "198.51.100.7"));
        }
    }
    let got = run(vec![rule(BRUTE)], recs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].count, 3);
    let lines: Vec<&str> = got[0].evidence.iter().map(|e| &*e.raw).collect();
    assert_eq!(
        lines,
        [
            "ftp.login 2026-03-02 08:00:00 UTC",
            "ftp.login 2026-03-02 08:00:20 UTC",
            "ftp.login 2026-03-02 08:00:40 UTC"
        ]
    );
}
