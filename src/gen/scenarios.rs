//! Attack scenarios: each one is built up front as a script of lines with times relative to
//! its start, so its line count is known before the background fills the rest of the budget.
//! The FTP scenarios are in `attacks_ftp.rs`; the firewall-only ones (a port scan, a host
//! sweep) are here.
//!
//! Scripted vsftpd lines carry a session ordinal in `pid`; the driver swaps in real pids when
//! it places the script.

use super::attacks_ftp::{anonymous, brute_force, brute_success, insider, off_port};
use super::event::{FwLine, Line, Prefix, Proto};
use super::rng::Rng;
use super::scans::{fast_scan, slow_scan};
use super::session::{Lines, SEC};
use super::world::{ip, World, FTP_PORT, FTP_SERVER, OFF_PORT};
use super::Scenario;

/// A scenario placed when the background reaches `ppm` millionths of its line budget.
#[derive(Debug, Clone)]
pub struct Script {
    /// Position in the background, in parts per million of its line budget.
    pub ppm: u32,
    /// Lines with times relative to the start.
    pub lines: Lines,
    /// Number of vsftpd sessions (pid ordinals `0..sessions`).
    pub sessions: u32,
}

/// The addresses each scenario uses (each used for nothing else). All empty when the run has
/// no attacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actors {
    /// Anonymous FTP clients, one session each.
    pub anon: Vec<u32>,
    /// The anonymous client that uploads (one of `anon`).
    pub anon_upload: Option<u32>,
    /// The brute-force source (never succeeds).
    pub brute: Option<u32>,
    /// The brute force that works: a few failures, then a login.
    pub brute_ok: Option<u32>,
    /// The insider downloading sensitive files.
    pub insider: Option<u32>,
    /// The port scanner.
    pub scanner: Option<u32>,
    /// The host sweep's source and the one port it tries.
    pub sweep: Option<(u32, u16)>,
    /// Clients of the off-port (2121) instance.
    pub offport: Vec<u32>,
    /// The slow port scanner ([`Scenario::SlowScan`]).
    pub slow_scanner: Option<u32>,
    /// The fast scanner of many hosts ([`Scenario::FastScan`]).
    pub fast_scanner: Option<u32>,
}

/// All scripts and who plays them.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Scripts sorted by `ppm`.
    pub scripts: Vec<Script>,
    /// Scenario addresses.
    pub actors: Actors,
}

/// Nmap's most probed ports, which every scan starts from.
pub const TOP_PORTS: [u16; 60] = [
    7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139, 143,
    144, 179, 199, 389, 427, 443, 444, 445, 465, 513, 514, 515, 548, 554, 587, 631, 646, 873, 990,
    993, 995, 1025, 1433, 1720, 1723, 2049, 2121, 3128, 3306, 3389, 5060, 5432, 5900, 6000, 8000,
    8080, 8443, 10000,
];
/// Ports a host sweep tries (RDP, SSH).
const SWEEP_PORTS: [u16; 2] = [3389, 22];

/// Number of anonymous sessions for a run of `lines` lines.
pub fn anon_count(lines: u64) -> usize {
    (lines / 50_000).max(3) as usize
}

/// Builds the scripts of `scenario` for a run of `lines` lines at `rate` lines per second.
pub fn plan(rng: &mut Rng, world: &mut World, lines: u64, rate: u64, scenario: Scenario) -> Plan {
    let span_us = (lines * SEC as u64 / rate.max(1)) as i64;
    match scenario {
        Scenario::Mixed => mixed(rng, world, lines, span_us),
        Scenario::Benign => Plan::default(),
        Scenario::SlowScan => {
            let a = ip(192, 0, 2, rng.range(200, 254) as u8);
            Plan {
                scripts: vec![slow_scan(rng, a, span_us)],
                actors: Actors {
                    slow_scanner: Some(a),
                    ..Actors::default()
                },
            }
        }
        Scenario::FastScan => {
            let a = ip(192, 0, 2, rng.range(200, 254) as u8);
            Plan {
                scripts: vec![fast_scan(rng, a)],
                actors: Actors {
                    fast_scanner: Some(a),
                    ..Actors::default()
                },
            }
        }
    }
}

/// One of each attack scenario, at fixed fractions of the run.
fn mixed(rng: &mut Rng, world: &mut World, lines: u64, span_us: i64) -> Plan {
    let mut doc: Vec<u8> = (1..=199).collect();
    rng.shuffle(&mut doc);
    let mut attackers: Vec<u8> = (200..=254).collect();
    rng.shuffle(&mut attackers);
    let attacker = |i: usize| ip(192, 0, 2, attackers[i]);
    let n_anon = anon_count(lines);
    let anon: Vec<u32> = (0..n_anon)
        .map(|i| {
            doc.get(i)
                .map_or_else(|| world.public.next_addr(), |&d| ip(192, 0, 2, d))
        })
        .collect();
    let uploader = rng.below(n_anon as u64) as usize;
    let (brute, scanner, brute_ok, insider_ip) =
        (attacker(0), attacker(1), attacker(2), attacker(3));
    let sweep = (attacker(4), rng.pick(&SWEEP_PORTS));
    let offport: Vec<u32> = (5..6 + rng.below(2) as usize).map(attacker).collect();
    let mut scripts = Vec::new();
    for (i, &client) in anon.iter().enumerate() {
        let slot = 1_000_000 / n_anon as u64;
        let ppm = (i as u64 * slot + slot / 4 + rng.below(slot / 2 + 1)) as u32;
        scripts.push(anonymous(rng, world, client, ppm, i == uploader));
    }
    let mut at = |lo, hi| rng.range(lo, hi) as u32;
    let ppm = (
        at(130_000, 200_000),
        at(250_000, 350_000),
        at(400_000, 460_000),
    );
    scripts.push(brute_success(rng, world, brute_ok, ppm.0));
    scripts.push(brute_force(rng, world, brute, ppm.1));
    scripts.push(insider(rng, world, insider_ip, ppm.2));
    let ppm = rng.range(500_000, 600_000) as u32;
    scripts.push(port_scan(rng, scanner, ppm));
    let ppm = rng.range(700_000, 780_000) as u32;
    scripts.push(off_port(rng, world, &offport, ppm, span_us));
    let ppm = rng.range(850_000, 920_000) as u32;
    scripts.push(host_sweep(rng, sweep, ppm));
    scripts.sort_by_key(|s| s.ppm);
    let actors = Actors {
        anon_upload: Some(anon[uploader]),
        anon,
        brute: Some(brute),
        brute_ok: Some(brute_ok),
        insider: Some(insider_ip),
        scanner: Some(scanner),
        sweep: Some(sweep),
        offport,
        ..Actors::default()
    };
    Plan { scripts, actors }
}

/// A SYN scan (nmap style: one source port, window 1024, no DF) of ~200 ports in ~40 s.
fn port_scan(rng: &mut Rng, scanner: u32, ppm: u32) -> Script {
    let mut ports = TOP_PORTS.to_vec();
    let n = rng.range(190, 210) as usize;
    while ports.len() < n {
        let p = rng.range(1, 29_999) as u16;
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    rng.shuffle(&mut ports);
    let (spt, ttl) = (rng.range(33_000, 65_000) as u16, rng.range(38, 54) as u8);
    let mean_gap = 40 * SEC as u64 / n as u64;
    let mut t = 0;
    let lines = ports
        .iter()
        .map(|&dpt| {
            let open = dpt == FTP_PORT || dpt == OFF_PORT;
            let l = FwLine {
                prefix: if open {
                    Prefix::AcceptIn
                } else {
                    Prefix::DropIn
                },
                src: scanner,
                dst: FTP_SERVER,
                len: 44,
                ttl,
                id: rng.below(65_536) as u16,
                df: false,
                proto: Proto::Tcp {
                    spt,
                    dpt,
                    window: 1024,
                },
            };
            t += rng.skewed(mean_gap) as i64 + 1;
            (t, Line::Fw(l))
        })
        .collect();
    Script {
        ppm,
        lines,
        sessions: 0,
    }
}

/// A sweep of one port over 40-60 hosts of 203.0.113.0/24 in about 1-2 minutes, every SYN
/// dropped (masscan style: one source port, window 1024, no DF). One port per host, so it
/// never looks like a port scan.
fn host_sweep(rng: &mut Rng, (src, dpt): (u32, u16), ppm: u32) -> Script {
    let mut hosts: Vec<u8> = (1..=254).collect();
    rng.shuffle(&mut hosts);
    let n = rng.range(40, 60) as usize;
    let (spt, ttl) = (rng.range(33_000, 65_000) as u16, rng.range(38, 54) as u8);
    // Gaps of half to one and a half times the mean: at most 1.5 x 100 s in all.
    let gap = rng.range_i(70, 100) * SEC / n as i64;
    let mut t = 0;
    let lines = hosts[..n]
        .iter()
        .map(|&h| {
            t += rng.range_i(gap / 2, gap * 3 / 2);
            let l = FwLine {
                prefix: Prefix::DropIn,
                src,
                dst: ip(203, 0, 113, h),
                len: 44,
                ttl,
                id: rng.below(65_536) as u16,
                df: false,
                proto: Proto::Tcp {
                    spt,
                    dpt,
                    window: 1024,
                },
            };
            (t, Line::Fw(l))
        })
        .collect();
    Script {
        ppm,
        lines,
        sessions: 0,
    }
}
