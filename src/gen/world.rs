//! The simulated network: servers, firewall interfaces, address pools and client stacks.
//!
//! Addresses that matter (servers, FTP clients, attackers, anonymous clients) come from the
//! documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 and the LAN from
//! 10.0.0.0/8. Web clients, LAN destinations and the one-shot internet noise sources come from
//! a keyed permutation of the public IPv4 space (reserved and documentation ranges skipped),
//! which hands out every address at most once, so pools never overlap.

use super::rng::Rng;

/// Builds an IPv4 address as a host-order `u32`.
pub const fn ip(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// The FTP server: vsftpd on port 21 and the attacker's second instance on 2121.
pub const FTP_SERVER: u32 = ip(203, 0, 113, 10);
/// The web server (ports 80 and 443).
pub const WEB_SERVER: u32 = ip(203, 0, 113, 20);
/// The FTP server as written in truth.json.
pub const FTP_SERVER_STR: &str = "203.0.113.10";
/// The regular vsftpd control port.
pub const FTP_PORT: u16 = 21;
/// The off-port vsftpd instance.
pub const OFF_PORT: u16 = 2121;
/// `pasv_min_port..=pasv_max_port` of the regular instance.
pub const PASV: (u16, u16) = (30000, 30100);
/// Passive range of the off-port instance.
pub const OFF_PASV: (u16, u16) = (40000, 40100);
/// Highest DMZ host number probed by internet noise (203.0.113.1 ..= this).
pub const DMZ_HOSTS: u8 = 40;

/// A TCP/IP stack fingerprint: what a client's SYN looks like in a LOG line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    /// TTL as seen by the firewall (initial TTL minus hops).
    pub ttl: u8,
    /// IP total length of a SYN.
    pub syn_len: u16,
    /// TCP window of a SYN.
    pub window: u16,
    /// Lowest ephemeral source port.
    pub eph_lo: u16,
}

impl Stack {
    /// The stack of `addr`: fixed per address (hash of address and world key).
    pub fn of(addr: u32, key: u32) -> Self {
        let h = mix32(addr ^ key);
        let hops = 6 + (h % 17) as u8;
        match (h >> 8) % 10 {
            0..=4 => Stack {
                ttl: 64 - hops,
                syn_len: 60,
                window: if h & 0x1000 == 0 { 64240 } else { 29200 },
                eph_lo: 32768,
            },
            5..=8 => Stack {
                ttl: 128 - hops,
                syn_len: 52,
                window: if h & 0x1000 == 0 { 64240 } else { 65535 },
                eph_lo: 49152,
            },
            _ => Stack {
                ttl: 64 - hops,
                syn_len: 64,
                window: 65535,
                eph_lo: 49152,
            },
        }
    }

    /// A fresh ephemeral source port.
    pub fn eph_port(&self, rng: &mut Rng) -> u16 {
        let hi = if self.eph_lo == 32768 { 60999 } else { 65535 };
        rng.range(u64::from(self.eph_lo), hi) as u16
    }
}

/// A bijective 32-bit mixer (each step is invertible, so distinct inputs stay distinct).
pub fn mix32(mut x: u32) -> u32 {
    x = x.wrapping_mul(0x9E37_79B1);
    x ^= x >> 16;
    x = x.wrapping_mul(0x85EB_CA6B);
    x ^= x >> 13;
    x = x.wrapping_mul(0xC2B2_AE35);
    x ^ (x >> 16)
}

/// True for addresses that must not appear as "random internet" hosts.
fn reserved(a: u32) -> bool {
    const BLOCKS: [(u32, u32); 14] = [
        (ip(0, 0, 0, 0), 8),
        (ip(10, 0, 0, 0), 8),
        (ip(100, 64, 0, 0), 10),
        (ip(127, 0, 0, 0), 8),
        (ip(169, 254, 0, 0), 16),
        (ip(172, 16, 0, 0), 12),
        (ip(192, 0, 0, 0), 24),
        (ip(192, 0, 2, 0), 24),
        (ip(192, 88, 99, 0), 24),
        (ip(192, 168, 0, 0), 16),
        (ip(198, 18, 0, 0), 15),
        (ip(198, 51, 100, 0), 24),
        (ip(203, 0, 113, 0), 24),
        (ip(224, 0, 0, 0), 3),
    ];
    let low = a & 0xff;
    low == 0
        || low == 255
        || BLOCKS
            .iter()
            .any(|&(net, len)| a >> (32 - len) == net >> (32 - len))
}

/// Hands out distinct public-looking addresses: `mix32(counter ^ key)` skipping reserved ones.
#[derive(Debug, Clone)]
pub struct PublicAlloc {
    key: u32,
    counter: u32,
}

impl PublicAlloc {
    /// An allocator keyed by `key` (drawn from the seed).
    pub fn new(key: u32) -> Self {
        Self { key, counter: 0 }
    }

    /// The next never-used public address.
    pub fn next_addr(&mut self) -> u32 {
        loop {
            let a = mix32(self.counter ^ self.key);
            self.counter = self.counter.wrapping_add(1);
            if !reserved(a) {
                return a;
            }
        }
    }
}

/// Service a LAN destination offers: (transport is UDP, destination port).
pub const LAN_SERVICES: [(bool, u16); 7] = [
    (true, 53),
    (true, 123),
    (false, 443),
    (false, 443),
    (false, 80),
    (false, 993),
    (false, 22),
];

/// User names of the regular FTP clients.
pub const USERS: [&str; 16] = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "deploy",
    "backup",
    "reports",
    "webmaster",
    "sales",
    "mlopez",
];

/// A regular FTP client of the server (one address, one account).
#[derive(Debug, Clone)]
pub struct FtpClient {
    /// Address.
    pub addr: u32,
    /// vsftpd writes this client as `::ffff:a.b.c.d`.
    pub mapped: bool,
    /// Account the client logs in with.
    pub user: &'static str,
    /// No new session before this time (µs): one session at a time, with a quiet gap.
    pub busy_until: i64,
    /// Time of the last failed login (µs); typos are at most one per `FAIL_SPACING_US`.
    pub last_fail: i64,
    /// Recent destination ports on the FTP server, bounding distinct ports per window.
    pub ports: PortTracker,
}

/// Remembers the ports a client recently contacted on one server, so benign traffic never
/// looks like a port scan: at most `PortTracker::LIMIT` distinct ports per `WINDOW_US`.
/// Only data connections are tracked; with the control port a client reaches `LIMIT + 1`.
#[derive(Debug, Clone, Default)]
pub struct PortTracker {
    recent: Vec<(u16, i64)>,
}

impl PortTracker {
    /// Distinct ports allowed per window; the scan rule fires at 15, this keeps a wide margin.
    pub const LIMIT: usize = 8;
    /// Window length: 6 minutes, longer than the rule's 5 so no sliding window can sum more.
    pub const WINDOW_US: i64 = 360_000_000;

    /// Returns the port to use at time `t`: `wanted` if allowed, otherwise a recent port.
    pub fn admit(&mut self, t: i64, wanted: u16) -> u16 {
        self.recent.retain(|&(_, seen)| seen > t - Self::WINDOW_US);
        if let Some(entry) = self.recent.iter_mut().find(|(p, _)| *p == wanted) {
            entry.1 = t;
            return wanted;
        }
        if self.recent.len() < Self::LIMIT {
            self.recent.push((wanted, t));
            return wanted;
        }
        let newest = self
            .recent
            .iter_mut()
            .max_by_key(|(_, seen)| *seen)
            .expect("non-empty");
        newest.1 = t;
        newest.0
    }
}

/// Every address pool and fixed parameter of one generated world.
#[derive(Debug, Clone)]
pub struct World {
    /// Key for per-address stack fingerprints.
    pub key: u32,
    /// Regular FTP clients (198.51.100.0/24).
    pub ftp_clients: Vec<FtpClient>,
    /// Web clients (a fixed public pool).
    pub web_clients: Vec<u32>,
    /// LAN hosts (10.0.1.0 - 10.0.4.255).
    pub lan_clients: Vec<u32>,
    /// Internet hosts the LAN talks to, each with one service from `LAN_SERVICES`.
    pub lan_dests: Vec<(u32, bool, u16)>,
    /// One-shot noise sources and overflow anonymous clients.
    pub public: PublicAlloc,
    /// Kernel boot time (µs since the epoch): the `[uptime]` stamp is `t - boot`.
    pub boot_us: i64,
}

impl World {
    /// Builds the world for a seed (`rng` is the world stream) starting at `start_us`.
    pub fn new(rng: &mut Rng, start_us: i64) -> Self {
        let key = rng.next_u64() as u32;
        let mut public = PublicAlloc::new(rng.next_u64() as u32);
        let ftp_clients = (1..=254u8)
            .map(|d| {
                let addr = ip(198, 51, 100, d);
                FtpClient {
                    addr,
                    mapped: rng.chance(100),
                    user: rng.pick(&USERS),
                    busy_until: i64::MIN,
                    last_fail: i64::MIN / 2,
                    ports: PortTracker::default(),
                }
            })
            .collect();
        let web_clients = (0..1024).map(|_| public.next_addr()).collect();
        let lan_clients = (1..=4u8)
            .flat_map(|c| (10..=250u8).map(move |d| ip(10, 0, c, d)))
            .collect();
        let lan_dests = (0..64)
            .map(|_| {
                let (udp, port) = rng.pick(&LAN_SERVICES);
                (public.next_addr(), udp, port)
            })
            .collect();
        let uptime_days = rng.range(3, 60) as i64;
        let boot_us = start_us - uptime_days * 86_400_000_000 - rng.range_i(0, 86_399_999_999);
        World {
            key,
            ftp_clients,
            web_clients,
            lan_clients,
            lan_dests,
            public,
            boot_us,
        }
    }

    /// The stack fingerprint of `addr` in this world.
    pub fn stack(&self, addr: u32) -> Stack {
        Stack::of(addr, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn public_alloc_is_unique_and_never_reserved() {
        let mut a = PublicAlloc::new(0xDEAD_BEEF);
        let mut seen = HashSet::new();
        for _ in 0..200_000 {
            let x = a.next_addr();
            assert!(!reserved(x), "{x:#x}");
            assert!(seen.insert(x), "duplicate {x:#x}");
        }
        assert!(reserved(FTP_SERVER) && reserved(ip(10, 1, 2, 3)) && reserved(ip(239, 1, 1, 1)));
        assert!(!reserved(ip(8, 8, 4, 4)));
    }

    #[test]
    fn port_tracker_caps_distinct_ports_per_window() {
        let mut t = PortTracker::default();
        let mut got = HashSet::new();
        for i in 0..50 {
            got.insert(t.admit(i * 1_000_000, 30_000 + i as u16));
        }
        assert_eq!(got.len(), PortTracker::LIMIT);
        // After the window has passed, new ports are admitted again.
        assert_eq!(t.admit(1_000_000_000, 30_099), 30_099);
    }
}
