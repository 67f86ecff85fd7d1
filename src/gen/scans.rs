//! The single-scanner scenarios: a slow port scan that spans the run and a fast scan of many
//! hosts. Each is a firewall-only script of refused SYNs in nmap's style (one source port,
//! window 1024, no DF, 44-byte packets).

use super::event::{FwLine, Line, Prefix, Proto};
use super::rng::Rng;
use super::scenarios::{Script, TOP_PORTS};
use super::session::SEC;
use super::world::{ip, FTP_PORT, FTP_SERVER, OFF_PORT, WEB_SERVER};

/// Time between two slow-scan probes: nmap's `-T0` ("paranoid") timing waits 5 minutes.
pub const SLOW_PROBE_GAP: i64 = 300 * SEC;
/// Each probe lands within this much of its 5-minute slot, so the gaps are not machine-exact.
const SLOW_JITTER: i64 = 5 * SEC;
/// The first probe comes 1-10 minutes into the run.
const SLOW_FIRST: (i64, i64) = (60 * SEC, 600 * SEC);
/// Probes of one slow scan at most: a month at one per 5 minutes, far below the 65 533
/// closed ports it can choose from.
const SLOW_MAX_PROBES: usize = 8_640;
/// Hosts one fast scan contacts: past the random walk's 4 failed first contacts, below the
/// 25 hosts of the sweep rules, so only the walk can find it.
pub const FAST_HOSTS: usize = 20;
/// Ports a fast scan probes, one per host (SSH, telnet, SMB, RDP, HTTP alternatives).
const FAST_PORTS: [u16; 6] = [22, 23, 445, 3389, 8080, 8443];
/// Gap between two fast-scan probes: 100-400 ms, 20 hosts in a few seconds.
const FAST_GAP_MS: (i64, i64) = (100, 400);

/// A refused SYN from `src` (source port `spt`, TTL `ttl`) to `dst:dpt`.
fn refused(rng: &mut Rng, src: u32, dst: u32, (spt, ttl): (u16, u8), dpt: u16) -> Line {
    Line::Fw(FwLine {
        prefix: Prefix::DropIn,
        src,
        dst,
        len: 44,
        ttl,
        id: rng.below(65_536) as u16,
        df: false,
        proto: Proto::Tcp {
            spt,
            dpt,
            window: 1024,
        },
    })
}

/// A scanner refused on a new port of the FTP server every 5 minutes from the run's first
/// minutes to its end (`span_us`): the most common ports first, then random ones, never the
/// open 21 and 2121.
pub fn slow_scan(rng: &mut Rng, scanner: u32, span_us: i64) -> Script {
    let first = rng.range_i(SLOW_FIRST.0, SLOW_FIRST.1);
    let n = ((span_us - first).max(0) / SLOW_PROBE_GAP + 1) as usize;
    let n = n.min(SLOW_MAX_PROBES);
    let closed = |p: u16| p != FTP_PORT && p != OFF_PORT;
    let mut ports: Vec<u16> = TOP_PORTS.iter().copied().filter(|&p| closed(p)).collect();
    rng.shuffle(&mut ports);
    let mut seen: std::collections::HashSet<u16> = ports.iter().copied().collect();
    while ports.len() < n {
        let p = rng.range(1, 65_535) as u16;
        if closed(p) && seen.insert(p) {
            ports.push(p);
        }
    }
    let id = (rng.range(33_000, 65_000) as u16, rng.range(38, 54) as u8);
    let lines = ports[..n]
        .iter()
        .enumerate()
        .map(|(i, &dpt)| {
            let t = first + i as i64 * SLOW_PROBE_GAP + rng.range_i(-SLOW_JITTER, SLOW_JITTER);
            (t, refused(rng, scanner, FTP_SERVER, id, dpt))
        })
        .collect();
    Script {
        ppm: 0,
        lines,
        sessions: 0,
    }
}

/// A scanner contacting [`FAST_HOSTS`] hosts of 203.0.113.0/24 (not the FTP or web server),
/// one port each, a few per second, every SYN refused; placed 10-20 % into the run.
pub fn fast_scan(rng: &mut Rng, scanner: u32) -> Script {
    let mut hosts: Vec<u32> = (1..=254)
        .map(|h| ip(203, 0, 113, h))
        .filter(|&h| h != FTP_SERVER && h != WEB_SERVER)
        .collect();
    rng.shuffle(&mut hosts);
    let id = (rng.range(33_000, 65_000) as u16, rng.range(38, 54) as u8);
    let mut t = 0;
    let lines = hosts[..FAST_HOSTS]
        .iter()
        .map(|&dst| {
            t += rng.range_i(FAST_GAP_MS.0, FAST_GAP_MS.1) * SEC / 1000;
            let dpt = rng.pick(&FAST_PORTS);
            (t, refused(rng, scanner, dst, id, dpt))
        })
        .collect();
    Script {
        ppm: rng.range(100_000, 200_000) as u32,
        lines,
        sessions: 0,
    }
}
