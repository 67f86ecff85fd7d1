//! Benign traffic: FTP users, web visitors, LAN hosts and one-shot internet probes.
//!
//! Each builder appends the lines of one "arrival" (a session, a page load, a probe burst)
//! starting at `now`. None of them may ever satisfy a scenario rule; the invariants that
//! guarantee it are stated where they are enforced.

use super::event::{FwLine, Line, Prefix, Proto};
use super::rng::Rng;
use super::session::{ftp_session, syn, Lines, Pids, Profile, Session, SEC};
use super::world::{ip, World, DMZ_HOSTS, FTP_PORT, FTP_SERVER, PASV, WEB_SERVER};

/// Minimum quiet time between two sessions of one FTP client. The firewall records of one
/// session (data connections) thus never lie near another session's CONNECT.
const SESSION_GAP: (i64, i64) = (5 * SEC, 90 * SEC);
/// A benign client mistypes its password at most once per this interval (brute force needs
/// 8 failures in 120 s).
const FAIL_SPACING_US: i64 = 600 * SEC;
/// Ports internet noise probes (never 21, 2121, 80, 443 or a passive port: those are open).
const NOISE_TCP: [u16; 16] = [
    22, 23, 25, 110, 135, 139, 445, 1433, 3306, 3389, 5900, 6379, 8080, 8443, 9200, 27017,
];
const NOISE_UDP: [u16; 6] = [53, 123, 161, 1900, 5060, 11211];

/// Kinds of arrivals, drawn with `WEIGHTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular FTP session (about 9 lines).
    Ftp,
    /// A web visit (1-4 lines).
    Web,
    /// LAN outbound traffic (1-3 lines).
    Lan,
    /// Internet noise (1-3 lines).
    Noise,
}

/// Arrival kinds and their weights: FTP carries about 45 % of the lines.
pub const KINDS: [Kind; 4] = [Kind::Ftp, Kind::Web, Kind::Lan, Kind::Noise];
/// Weights of `KINDS`.
pub const WEIGHTS: [u32; 4] = [7, 10, 8, 6];

/// The benign traffic source.
pub struct Background {
    rng: Rng,
}

impl Background {
    /// A source drawing from `rng`.
    pub fn new(rng: Rng) -> Self {
        Self { rng }
    }

    /// The random stream (for arrival gaps).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Appends one arrival at `now` (a single probe burst if `small`); returns lines added.
    pub fn arrival(
        &mut self,
        world: &mut World,
        pids: &mut Pids,
        now: i64,
        small: bool,
        out: &mut Lines,
    ) -> u64 {
        let before = out.len();
        let kind = if small {
            Kind::Noise
        } else {
            KINDS[self.rng.weighted(&WEIGHTS)]
        };
        match kind {
            Kind::Ftp => {
                if !self.ftp(world, pids, now, out) {
                    self.web(world, now, out);
                }
            }
            Kind::Web => self.web(world, now, out),
            Kind::Lan => self.lan(world, now, out),
            Kind::Noise => self.noise(world, now, out),
        }
        (out.len() - before) as u64
    }

    /// A regular FTP session from an idle pool client; false if every client is busy.
    fn ftp(&mut self, world: &mut World, pids: &mut Pids, now: i64, out: &mut Lines) -> bool {
        let n = world.ftp_clients.len();
        let first = self.rng.below(n as u64) as usize;
        let Some(idx) = (0..n)
            .map(|i| (first + i) % n)
            .find(|&i| world.ftp_clients[i].busy_until <= now)
        else {
            return false;
        };
        let pid = pids.alloc();
        let stack = world.stack(world.ftp_clients[idx].addr);
        let c = &mut world.ftp_clients[idx];
        let typo = self.rng.chance(40) && now - c.last_fail > FAIL_SPACING_US;
        let s = Session {
            client: c.addr,
            mapped: c.mapped,
            stack,
            server: FTP_SERVER,
            port: FTP_PORT,
            pasv: PASV,
            pid,
            user: c.user,
            anon_password: None,
            typo,
            ops: self.rng.weighted(&[5, 30, 25, 18, 12, 6, 4]) as u32,
            profile: Profile::Regular,
        };
        let mut fail_at = None;
        let end = ftp_session(&mut self.rng, &s, now, &mut c.ports, &mut fail_at, out);
        if let Some(f) = fail_at {
            c.last_fail = f;
        }
        c.busy_until = end + self.rng.range_i(SESSION_GAP.0, SESSION_GAP.1);
        true
    }

    /// A web visitor opening 1-4 connections to 203.0.113.20 port 443 (or 80).
    fn web(&mut self, world: &World, now: i64, out: &mut Lines) {
        let client = self.rng.pick(&world.web_clients);
        let stack = world.stack(client);
        let port = if self.rng.chance(850) { 443 } else { 80 };
        let mut t = now;
        for _ in 0..=self.rng.weighted(&[50, 25, 15, 10]) {
            out.push((
                t,
                Line::Fw(syn(
                    &mut self.rng,
                    &stack,
                    Prefix::AcceptIn,
                    client,
                    WEB_SERVER,
                    port,
                )),
            ));
            t += self.rng.skewed(400_000) as i64 + 1;
        }
    }

    /// A LAN host talking to one internet service (DNS, NTP, HTTPS, ...) 1-3 times.
    fn lan(&mut self, world: &World, now: i64, out: &mut Lines) {
        let client = self.rng.pick(&world.lan_clients);
        let (dst, udp, dpt) = self.rng.pick(&world.lan_dests);
        let mut stack = world.stack(client);
        // Logged in FORWARD, after the router decremented the TTL.
        stack.ttl = if stack.ttl > 64 { 127 } else { 63 };
        let mut t = now;
        for _ in 0..=self.rng.weighted(&[55, 30, 15]) {
            let mut l = syn(&mut self.rng, &stack, Prefix::AcceptOut, client, dst, dpt);
            if udp {
                l.proto = Proto::Udp {
                    spt: stack.eph_port(&mut self.rng),
                    dpt,
                };
                l.len = if dpt == 123 {
                    76
                } else {
                    self.rng.range(56, 90) as u16
                };
                l.df = self.rng.chance(500);
            }
            out.push((t, Line::Fw(l)));
            t += self.rng.skewed(2 * SEC as u64) as i64 + 1;
        }
    }

    /// A never-seen internet source sending 1-3 dropped probes to at most 3 ports.
    fn noise(&mut self, world: &mut World, now: i64, out: &mut Lines) {
        let src = world.public.next_addr();
        let probes = 1 + self.rng.weighted(&[60, 28, 12]);
        let rng = &mut self.rng;
        let ttl = rng.range(36, 115) as u8;
        let kind = rng.weighted(&[75, 15, 10]);
        let mut t = now;
        for i in 0..probes {
            let dst = ip(203, 0, 113, rng.range(1, u64::from(DMZ_HOSTS)) as u8);
            let proto = match kind {
                0 => Proto::Tcp {
                    spt: rng.range(1024, 65535) as u16,
                    dpt: rng.pick(&NOISE_TCP),
                    window: rng.pick(&[1024, 29200, 65535]),
                },
                1 => Proto::Udp {
                    spt: rng.range(1024, 65535) as u16,
                    dpt: rng.pick(&NOISE_UDP),
                },
                _ => Proto::Icmp {
                    typ: 8,
                    id: rng.below(65536) as u16,
                    seq: i as u16 + 1,
                },
            };
            let len = match proto {
                Proto::Tcp { .. } => rng.pick(&[40, 44, 60]),
                Proto::Udp { .. } => rng.range(48, 120) as u16,
                Proto::Icmp { .. } => rng.pick(&[28, 84]),
            };
            let l = FwLine {
                prefix: Prefix::DropIn,
                src,
                dst,
                len,
                ttl,
                id: rng.below(65536) as u16,
                df: rng.chance(300),
                proto,
            };
            out.push((t, Line::Fw(l)));
            t += rng.range_i(200_000, 3 * SEC);
        }
    }
}

/// Relative traffic level per UTC hour (percent; averages 100): quiet nights, busy afternoons.
pub const DIURNAL: [u32; 24] = [
    45, 40, 35, 35, 40, 50, 70, 95, 120, 140, 150, 150, 145, 150, 155, 150, 140, 125, 110, 95, 80,
    70, 60, 50,
];
