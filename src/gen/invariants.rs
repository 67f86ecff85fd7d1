//! Scans generated files with plain string handling (not the project's parsers) and checks
//! that each scenario triggers its rule and that benign traffic triggers none.

use super::logscan::{max_distinct_in_window, max_in_window, parse_fw, parse_vs, Fw, Vs, SEC};
use super::scenarios::Actors;
use super::tests::{read, run};
use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

fn check(seed: u64, lines: u64) {
    let (dir, _, actors) = run(seed, lines);
    let vs = parse_vs(std::str::from_utf8(&read(&dir, "vsftpd.log")).unwrap());
    let (fw, boots) = parse_fw(std::str::from_utf8(&read(&dir, "kern.log")).unwrap());
    let ctx = format!("seed {seed}, {lines} lines");
    assert!(
        vs.windows(2).all(|w| w[0].t <= w[1].t),
        "vsftpd.log out of order ({ctx})"
    );
    assert!(
        fw.windows(2).all(|w| w[0].t <= w[1].t),
        "kern.log out of order ({ctx})"
    );
    assert_eq!(
        boots.len(),
        1,
        "uptime stamps disagree with log times ({ctx})"
    );
    check_logins(&vs, &actors, &ctx);
    check_scans(&fw, &actors, &ctx);
    check_off_port(&vs, &fw, &actors, &ctx);
}

fn ip(a: u32) -> String {
    Ipv4Addr::from(a).to_string()
}

/// Brute force fires for the attacker only; anonymous logins come from the listed clients only.
fn check_logins(vs: &[Vs], actors: &Actors, ctx: &str) {
    let mut fails: HashMap<&str, Vec<i64>> = HashMap::new();
    for v in vs.iter().filter(|v| v.action == "FAIL LOGIN") {
        fails.entry(&v.client).or_default().push(v.t);
    }
    let brute = ip(actors.brute);
    for (client, times) in &fails {
        let burst = max_in_window(times, 120 * SEC);
        if *client == brute {
            assert!(
                burst >= 8,
                "brute force has only {burst} failures in 120 s ({ctx})"
            );
            assert_eq!(
                burst,
                times.len(),
                "brute force failures split over bursts ({ctx})"
            );
        } else {
            assert!(
                burst < 8,
                "benign {client} has {burst} failures in 120 s ({ctx})"
            );
        }
    }
    assert!(fails.contains_key(brute.as_str()), "no brute force ({ctx})");
    assert!(
        !vs.iter()
            .any(|v| v.client == brute && v.action == "OK LOGIN"),
        "brute force succeeded ({ctx})"
    );
    let anon: Vec<&Vs> = vs.iter().filter(|v| v.anon).collect();
    let clients: BTreeSet<String> = anon.iter().map(|v| v.client.clone()).collect();
    let want: BTreeSet<String> = actors.anon.iter().map(|&a| ip(a)).collect();
    assert_eq!(clients, want, "anonymous clients ({ctx})");
    assert_eq!(
        anon.len(),
        want.len(),
        "an anonymous client logged in twice ({ctx})"
    );
    for a in &anon {
        assert!(a.user == "ftp" || a.user == "anonymous", "{a:?}");
        // The client is used for nothing else: every vsftpd line from it is its session's.
        assert!(
            vs.iter()
                .filter(|v| v.client == a.client)
                .all(|v| v.pid == a.pid),
            "{a:?} ({ctx})"
        );
    }
    assert!(
        vs.iter()
            .all(|v| want.contains(&v.client) || (v.user != "ftp" && v.user != "anonymous")),
        "anonymous user outside the anonymous scenario ({ctx})"
    );
}

/// Only the scanner reaches 15 distinct ports on one destination in 5 minutes; noise sources
/// send at most 3 probes to at most 3 ports.
fn check_scans(fw: &[Fw], actors: &Actors, ctx: &str) {
    let mut by_pair: HashMap<(&str, &str), Vec<(i64, u16)>> = HashMap::new();
    let mut drops: BTreeSet<&str> = BTreeSet::new();
    for f in fw {
        by_pair
            .entry((&f.src, &f.dst))
            .or_default()
            .push((f.t, f.dpt));
        if f.prefix == "DROP_IN" {
            drops.insert(&f.src);
        }
    }
    let scanner = ip(actors.scanner);
    let mut seen_scan = false;
    for ((src, dst), hits) in &by_pair {
        let n = max_distinct_in_window(hits, 300 * SEC);
        if *src == scanner {
            assert!(
                n >= 15 && *dst == "203.0.113.10",
                "scan reaches only {n} ports ({ctx})"
            );
            seen_scan = true;
        } else {
            assert!(
                n < 15,
                "benign {src} -> {dst} reaches {n} ports in 5 min ({ctx})"
            );
        }
    }
    assert!(seen_scan, "no scan ({ctx})");
    let mut per_src: HashMap<&str, (usize, BTreeSet<u16>)> = HashMap::new();
    for f in fw {
        let e = per_src.entry(&f.src).or_default();
        e.0 += 1;
        e.1.insert(f.dpt);
    }
    for src in drops.iter().filter(|s| **s != scanner) {
        let (total, ports) = &per_src[src];
        assert!(
            *total <= 3 && ports.len() <= 3,
            "noise source {src}: {total} probes ({ctx})"
        );
    }
}

/// Each off-port CONNECT has an ACCEPT to 2121 from the client within 2 s before it; no other
/// CONNECT has a firewall ACCEPT to a port other than 21 within 3 s either side.
fn check_off_port(vs: &[Vs], fw: &[Fw], actors: &Actors, ctx: &str) {
    let mut accepts: HashMap<&str, Vec<(i64, u16)>> = HashMap::new();
    for f in fw.iter().filter(|f| f.prefix.starts_with("ACCEPT")) {
        accepts.entry(&f.src).or_default().push((f.t, f.dpt));
    }
    let off: BTreeSet<String> = actors.offport.iter().map(|&a| ip(a)).collect();
    let mut off_connects = 0;
    for c in vs.iter().filter(|v| v.action == "CONNECT") {
        // vsftpd has whole seconds: compare the firewall's time truncated to seconds.
        let sec = |t: i64| t.div_euclid(SEC) * SEC;
        let near: Vec<(i64, u16)> = accepts
            .get(c.client.as_str())
            .map(|a| {
                a.iter()
                    .copied()
                    .filter(|&(t, _)| (sec(t) - c.t).abs() <= 3 * SEC)
                    .collect()
            })
            .unwrap_or_default();
        let is_off = off.contains(&c.client);
        for &(t, port) in &near {
            assert!(
                port == 21 || (is_off && port == 2121),
                "{c:?} has ACCEPT to {port} at {t} ({ctx})"
            );
        }
        if is_off {
            off_connects += 1;
            let ok = near
                .iter()
                .any(|&(t, p)| p == 2121 && sec(t) <= c.t && c.t - sec(t) <= 2 * SEC);
            assert!(
                ok,
                "off-port CONNECT {c:?} lacks its firewall record ({ctx})"
            );
        } else {
            assert!(
                near.iter().any(|&(_, p)| p == 21),
                "CONNECT {c:?} without SYN to 21 ({ctx})"
            );
        }
    }
    assert!(
        off_connects >= 2,
        "only {off_connects} off-port sessions ({ctx})"
    );
    let to_2121: BTreeSet<&str> = fw
        .iter()
        .filter(|f| f.dpt == 2121 && f.src != ip(actors.scanner))
        .map(|f| f.src.as_str())
        .collect();
    assert!(
        to_2121.iter().all(|s| off.contains(*s)),
        "others reach 2121: {to_2121:?} ({ctx})"
    );
}

#[test]
fn scenarios_fire_and_background_stays_quiet_5k() {
    for seed in 1..=4 {
        check(seed, 5_000);
    }
}

#[test]
fn scenarios_fire_and_background_stays_quiet_100k() {
    check(11, 100_000);
}

#[test]
fn checks_can_fail() {
    // The window helpers the checks rely on must detect what they are meant to detect.
    let times: Vec<i64> = (0..8).map(|i| i * 17 * SEC).collect();
    assert_eq!(max_in_window(&times, 120 * SEC), 8);
    assert_eq!(max_in_window(&times, 118 * SEC), 7);
    let hits: Vec<(i64, u16)> = (0..20)
        .map(|i| (i * 10 * SEC, 1000 + (i % 16) as u16))
        .collect();
    assert_eq!(max_distinct_in_window(&hits, 300 * SEC), 16);
    assert_eq!(max_distinct_in_window(&hits, 50 * SEC), 6);
    let v = parse_vs("Mon Mar  2 08:00:01 2026 [pid 7] [ftp] OK LOGIN: Client \"::ffff:192.0.2.1\", anon password \"x\"");
    assert_eq!(
        (v[0].pid, v[0].client.as_str(), v[0].anon),
        (7, "192.0.2.1", true)
    );
}

fn fake_vs(client: &str, t: i64, action: &str) -> Vs {
    let user = if action == "CONNECT" { "" } else { "bob" };
    Vs {
        t: t * SEC,
        pid: 1,
        client: client.into(),
        user: user.into(),
        action: action.into(),
        anon: false,
    }
}

fn fake_fw(src: &str, t: i64, dpt: u16) -> Fw {
    Fw {
        t: t * SEC,
        prefix: "ACCEPT_IN".into(),
        src: src.into(),
        dst: "203.0.113.10".into(),
        dpt,
    }
}

fn fake_actors() -> Actors {
    use super::world::ip;
    Actors {
        brute: ip(192, 0, 2, 1),
        scanner: ip(192, 0, 2, 2),
        offport: vec![ip(192, 0, 2, 3)],
        anon: vec![],
    }
}

#[test]
#[should_panic(expected = "benign 198.51.100.9 has 8 failures in 120 s")]
fn login_check_catches_a_benign_burst() {
    let vs: Vec<Vs> = (0..8)
        .flat_map(|i| {
            [
                fake_vs("192.0.2.1", i * 10, "FAIL LOGIN"),
                fake_vs("198.51.100.9", i * 10, "FAIL LOGIN"),
            ]
        })
        .collect();
    check_logins(&vs, &fake_actors(), "fake");
}

#[test]
#[should_panic(expected = "benign 198.51.100.9 -> 203.0.113.10 reaches 15 ports")]
fn scan_check_catches_a_benign_sweep() {
    let fw: Vec<Fw> = (0..15)
        .flat_map(|i| {
            [
                fake_fw("192.0.2.2", i, 100 + i as u16),
                fake_fw("198.51.100.9", i * 20, 30_000 + i as u16),
            ]
        })
        .collect();
    check_scans(&fw, &fake_actors(), "fake");
}

#[test]
#[should_panic(expected = "has ACCEPT to 30001")]
fn off_port_check_catches_a_data_connection_near_a_connect() {
    let vs = vec![
        fake_vs("198.51.100.9", 100, "CONNECT"),
        fake_vs("192.0.2.3", 200, "CONNECT"),
    ];
    let fw = vec![
        fake_fw("198.51.100.9", 99, 21),
        fake_fw("198.51.100.9", 102, 30_001),
        fake_fw("192.0.2.3", 199, 2121),
    ];
    check_off_port(&vs, &fw, &fake_actors(), "fake");
}

#[test]
#[should_panic(expected = "lacks its firewall record")]
fn off_port_check_catches_a_missing_firewall_record() {
    let vs = vec![
        fake_vs("192.0.2.3", 200, "CONNECT"),
        fake_vs("192.0.2.3", 900, "CONNECT"),
    ];
    let fw = vec![
        fake_fw("192.0.2.3", 199, 2121),
        fake_fw("192.0.2.3", 890, 2121),
    ];
    check_off_port(&vs, &fw, &fake_actors(), "fake");
}

#[test]
#[ignore = "slow sweep: GEN_SEEDS=1..200 GEN_LINES=20000 cargo test --release --lib gen::invariants::sweep -- --ignored"]
fn sweep() {
    let seeds = std::env::var("GEN_SEEDS").unwrap_or_else(|_| "1..50".into());
    let (a, b) = seeds.split_once("..").expect("GEN_SEEDS=a..b");
    let lines = std::env::var("GEN_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    for seed in a.parse::<u64>().unwrap()..b.parse().unwrap() {
        check(seed, lines);
    }
}
