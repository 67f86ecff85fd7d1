//! Invariant checks over kern.log (and its join with vsftpd.log): port scan, host sweep,
//! off-port FTP. Each scenario must satisfy its rule; nothing else may.

use super::checks_ftp::ip;
use super::logscan::{max_distinct_in_window, Fw, Vs, SEC};
use super::scenarios::Actors;
use std::collections::{BTreeSet, HashMap};

/// `firewall.port_scan` (15 distinct ports of one host in 5 min) holds for the scanner
/// only; noise sources send at most 3 probes to at most 3 ports.
pub fn check_scans(fw: &[Fw], actors: &Actors, ctx: &str) {
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
    let scanner = actors.scanner.map(ip);
    let mut seen_scan = false;
    for ((src, dst), hits) in &by_pair {
        let n = max_distinct_in_window(hits, 300 * SEC);
        if scanner.as_deref() == Some(*src) {
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
    assert_eq!(seen_scan, scanner.is_some(), "scan ({ctx})");
    let mut per_src: HashMap<&str, (usize, BTreeSet<u16>)> = HashMap::new();
    for f in fw {
        let e = per_src.entry(&f.src).or_default();
        e.0 += 1;
        e.1.insert(f.dpt);
    }
    let sweeper = actors.sweep.map(|(a, _)| ip(a));
    let attackers = [scanner.as_deref(), sweeper.as_deref()];
    for src in drops.iter().filter(|s| !attackers.contains(&Some(**s))) {
        let (total, ports) = &per_src[src];
        assert!(
            *total <= 3 && ports.len() <= 3,
            "noise source {src}: {total} probes ({ctx})"
        );
    }
}

/// `firewall.host_sweep` (25 hosts denied on one port in 5 min) holds for the sweep only:
/// 40-60 hosts of 203.0.113.0/24, each once, within 150 s, every record dropped and to the
/// one port.
pub fn check_sweep(fw: &[Fw], actors: &Actors, ctx: &str) {
    let mut by: HashMap<(&str, u16), Vec<(i64, &str)>> = HashMap::new();
    for f in fw.iter().filter(|f| f.prefix == "DROP_IN") {
        by.entry((&f.src, f.dpt)).or_default().push((f.t, &f.dst));
    }
    let sweep = actors.sweep.map(|(a, p)| (ip(a), p));
    let mut seen = false;
    for (&(src, port), hits) in &by {
        let n = max_distinct_in_window(hits, 300 * SEC);
        if sweep.as_ref().is_some_and(|(s, p)| s == src && *p == port) {
            let hosts: BTreeSet<&str> = hits.iter().map(|h| h.1).collect();
            let span = hits[hits.len() - 1].0 - hits[0].0;
            assert!(
                n >= 25
                    && (40..=60).contains(&hits.len())
                    && hosts.len() == hits.len()
                    && hosts.iter().all(|h| h.starts_with("203.0.113."))
                    && span <= 150 * SEC,
                "sweep: {n} hosts in 5 min, {} records in {span} µs ({ctx})",
                hits.len()
            );
            seen = true;
        } else {
            assert!(
                n < 25,
                "benign {src} is denied by {n} hosts on port {port} in 5 min ({ctx})"
            );
        }
    }
    assert_eq!(seen, sweep.is_some(), "sweep ({ctx})");
    if let Some((s, p)) = &sweep {
        assert!(
            fw.iter()
                .filter(|f| &f.src == s)
                .all(|f| f.prefix == "DROP_IN" && f.dpt == *p),
            "sweep source sends other records ({ctx})"
        );
    }
}

/// Each off-port CONNECT has an ACCEPT to 2121 from the client within 2 s before it; no other
/// CONNECT has a firewall ACCEPT to a port other than 21 within 3 s either side.
pub fn check_off_port(vs: &[Vs], fw: &[Fw], actors: &Actors, ctx: &str) {
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
        off.is_empty() || off_connects >= 2,
        "only {off_connects} off-port sessions ({ctx})"
    );
    let scanner = actors.scanner.map(ip);
    let to_2121: BTreeSet<&str> = fw
        .iter()
        .filter(|f| f.dpt == 2121 && Some(&f.src) != scanner.as_ref())
        .map(|f| f.src.as_str())
        .collect();
    assert!(
        to_2121.iter().all(|s| off.contains(*s)),
        "others reach 2121: {to_2121:?} ({ctx})"
    );
}
