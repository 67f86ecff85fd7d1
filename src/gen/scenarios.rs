//! Attack scenarios: each one is built up front as a script of lines with times relative to
//! its start, so its line count is known before the background fills the rest of the budget.
//!
//! Scripted vsftpd lines carry a session ordinal in `pid`; the driver swaps in real pids when
//! it places the script.

use super::event::{FwLine, Line, Prefix, Proto, VsKind, VsLine};
use super::rng::Rng;
use super::session::{ftp_session, syn, Lines, Profile, Session, SEC};
use super::world::{ip, PortTracker, World, FTP_PORT, FTP_SERVER, OFF_PASV, OFF_PORT, PASV, USERS};

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

/// The addresses each scenario uses (each used for nothing else).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actors {
    /// Anonymous FTP clients, one session each.
    pub anon: Vec<u32>,
    /// The brute-force source.
    pub brute: u32,
    /// The port scanner.
    pub scanner: u32,
    /// Clients of the off-port (2121) instance.
    pub offport: Vec<u32>,
}

/// All scripts and who plays them.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Scripts sorted by `ppm`.
    pub scripts: Vec<Script>,
    /// Scenario addresses.
    pub actors: Actors,
}

/// Nmap's most probed ports, which every scan starts from.
const TOP_PORTS: [u16; 60] = [
    7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139, 143,
    144, 179, 199, 389, 427, 443, 444, 445, 465, 513, 514, 515, 548, 554, 587, 631, 646, 873, 990,
    993, 995, 1025, 1433, 1720, 1723, 2049, 2121, 3128, 3306, 3389, 5060, 5432, 5900, 6000, 8000,
    8080, 8443, 10000,
];
const BRUTE_USERS: [&str; 10] = [
    "root",
    "admin",
    "test",
    "oracle",
    "user",
    "guest",
    "administrator",
    "ftpuser",
    "postgres",
    "ubuntu",
];
const ANON_PASSWORDS: [&str; 6] = [
    "guest@example.com",
    "mozilla@example.com",
    "IEUser@",
    "lftp@",
    "-wget@",
    "anonymous@",
];

/// Number of anonymous sessions for a run of `lines` lines.
pub fn anon_count(lines: u64) -> usize {
    (lines / 50_000).max(3) as usize
}

/// Builds every scenario for a run of `lines` lines at `rate` lines per second.
pub fn plan(rng: &mut Rng, world: &mut World, lines: u64, rate: u64) -> Plan {
    let mut doc: Vec<u8> = (1..=199).collect();
    rng.shuffle(&mut doc);
    let mut attackers: Vec<u8> = (200..=254).collect();
    rng.shuffle(&mut attackers);
    let n_anon = anon_count(lines);
    let anon: Vec<u32> = (0..n_anon)
        .map(|i| {
            doc.get(i)
                .map_or_else(|| world.public.next_addr(), |&d| ip(192, 0, 2, d))
        })
        .collect();
    let actors = Actors {
        brute: ip(192, 0, 2, attackers[0]),
        scanner: ip(192, 0, 2, attackers[1]),
        offport: attackers[2..3 + rng.below(2) as usize]
            .iter()
            .map(|&d| ip(192, 0, 2, d))
            .collect(),
        anon,
    };
    let span_us = (lines * SEC as u64 / rate.max(1)) as i64;
    let mut scripts = Vec::new();
    for (i, &client) in actors.anon.iter().enumerate() {
        let slot = 1_000_000 / n_anon as u64;
        let ppm = (i as u64 * slot + slot / 4 + rng.below(slot / 2 + 1)) as u32;
        scripts.push(anonymous(rng, world, client, ppm));
    }
    let ppm = rng.range(250_000, 350_000) as u32;
    scripts.push(brute_force(rng, world, actors.brute, ppm));
    let ppm = rng.range(500_000, 600_000) as u32;
    scripts.push(port_scan(rng, actors.scanner, ppm));
    let ppm = rng.range(700_000, 780_000) as u32;
    scripts.push(off_port(rng, world, &actors.offport, ppm, span_us));
    scripts.sort_by_key(|s| s.ppm);
    Plan { scripts, actors }
}

fn anonymous(rng: &mut Rng, world: &World, client: u32, ppm: u32) -> Script {
    let s = Session {
        client,
        mapped: false,
        stack: world.stack(client),
        server: FTP_SERVER,
        port: FTP_PORT,
        pasv: PASV,
        pid: 0,
        user: rng.pick(&["ftp", "anonymous"]),
        anon_password: Some(rng.pick(&ANON_PASSWORDS)),
        typo: false,
        ops: rng.range(1, 3) as u32,
        profile: Profile::Anonymous,
    };
    let mut lines = Vec::new();
    ftp_session(
        rng,
        &s,
        0,
        &mut PortTracker::default(),
        &mut None,
        &mut lines,
    );
    Script {
        ppm,
        lines,
        sessions: 1,
    }
}

/// ~30 failed logins over ~90 s, three per connection (vsftpd's `max_login_fails`), never a
/// success. All failures fall within 110 s so a 120 s window sees one burst.
fn brute_force(rng: &mut Rng, world: &World, client: u32, ppm: u32) -> Script {
    let stack = world.stack(client);
    let target = rng.range(28, 32);
    let mut lines = Vec::new();
    let (mut t, mut fails, mut session, mut first) = (0i64, 0u64, 0u32, None);
    'conn: while fails < target {
        lines.push((
            t,
            Line::Fw(syn(
                rng,
                &stack,
                Prefix::AcceptIn,
                client,
                FTP_SERVER,
                FTP_PORT,
            )),
        ));
        let tc = t + rng.range_i(50_000, 400_000);
        let vs = |user, kind| {
            Line::Vs(VsLine {
                pid: session,
                client,
                mapped: false,
                user,
                kind,
            })
        };
        lines.push((tc, vs("", VsKind::Connect)));
        t = tc + rng.range_i(800_000, 1_500_000);
        for _ in 0..3 {
            if fails == target || t - *first.get_or_insert(t) > 110 * SEC {
                break 'conn;
            }
            lines.push((t, vs(rng.pick(&BRUTE_USERS), VsKind::Login { ok: false })));
            fails += 1;
            t += rng.range_i(2_200_000, 3_000_000);
        }
        session += 1;
        t += rng.range_i(100_000, 800_000);
    }
    let sessions = lines
        .iter()
        .filter(|(_, l)| matches!(l, Line::Vs(v) if v.kind == VsKind::Connect))
        .count();
    Script {
        ppm,
        lines,
        sessions: sessions as u32,
    }
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

/// One or two clients logging in to the 2121 instance a few times and uploading to /drop.
fn off_port(rng: &mut Rng, world: &World, clients: &[u32], ppm: u32, span_us: i64) -> Script {
    let spacing = (span_us / 40).clamp(20 * SEC, 600 * SEC);
    let mut lines = Vec::new();
    let mut session = 0;
    for (i, &client) in clients.iter().enumerate() {
        let user = rng.pick(&USERS);
        let mut ports = PortTracker::default();
        let mut t = i as i64 * spacing / 2 + rng.range_i(0, 10 * SEC);
        for _ in 0..rng.range(2, 3) {
            let s = Session {
                client,
                mapped: false,
                stack: world.stack(client),
                server: FTP_SERVER,
                port: OFF_PORT,
                pasv: OFF_PASV,
                pid: session,
                user,
                anon_password: None,
                typo: false,
                ops: rng.range(1, 3) as u32,
                profile: Profile::Drop,
            };
            let end = ftp_session(rng, &s, t, &mut ports, &mut None, &mut lines);
            t = end + spacing + rng.range_i(0, spacing);
            session += 1;
        }
    }
    Script {
        ppm,
        lines,
        sessions: session,
    }
}
