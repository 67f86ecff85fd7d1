//! UDP datagrams out of packet captures, for replaying NetFlow/IPFIX exports: pure functions
//! over the bytes of a capture file (the caller reads the file).
//!
//! Formats: classic pcap (microsecond and nanosecond magic, either byte order) and pcapng
//! (Section Header, Interface Description and Enhanced Packet Blocks, with `if_tsresol`; any
//! byte order; several sections). Simple Packet Blocks carry no time and are skipped, as are
//! all other block types. Link layers: Ethernet (with 802.1Q / 802.1ad VLAN tags), Linux
//! cooked capture v1 and v2, raw IP, BSD loopback (NULL and LOOP). Network: IPv4 and IPv6
//! (hop-by-hop, routing, destination options and AH extension headers are walked).
//!
//! Packets that are not UDP, IP fragments (the datagram would need reassembly), packets cut
//! short by the capture's snap length, and packets of other link types are skipped and counted
//! in [`PcapStats`]. A record or block whose length runs past the end of the file ends the walk
//! (counted as truncated).
//!
//! ```
//! use portcullis_parsers::netflow::{pcap, Decoder};
//! # let file: Vec<u8> = Vec::new();
//! # if !file.is_empty() {
//! let mut decoder = Decoder::default();
//! let mut events = Vec::new();
//! let mut packets = pcap::udp_packets(&file).expect("a capture file");
//! for p in packets.by_ref().filter(|p| p.dst_port == 2055) {
//!     let _ = decoder.decode(p.src, p.payload, p.timestamp, &mut events);
//! }
//! println!("{:?}", packets.stats());
//! # }
//! ```

use chrono::{DateTime, Utc};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One UDP datagram found in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPacket<'a> {
    /// Capture time of the packet.
    pub timestamp: DateTime<Utc>,
    /// Sender (the flow exporter).
    pub src: IpAddr,
    /// Receiver.
    pub dst: IpAddr,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port (2055, 4739, 9995, ... for flow exports).
    pub dst_port: u16,
    /// The UDP payload.
    pub payload: &'a [u8],
    /// Byte offset of the packet's record (pcap) or block (pcapng) in the file.
    pub offset: usize,
}

/// What a walk over a capture saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PcapStats {
    /// Packet records read.
    pub packets: usize,
    /// UDP datagrams yielded.
    pub udp: usize,
    /// Packets that are not UDP over IPv4/IPv6 (ARP, TCP, ICMP, ...).
    pub not_udp: usize,
    /// IP fragments (not reassembled).
    pub fragments: usize,
    /// Packets cut short by the snap length, and records running past the end of the file.
    pub truncated: usize,
    /// Packets on link types this reader does not know, and pcapng blocks without a time.
    pub unsupported: usize,
}

/// Why a capture cannot be read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PcapError {
    /// Shorter than the file header.
    #[error("capture file shorter than its header")]
    Truncated,
    /// Neither a pcap nor a pcapng magic number.
    #[error("not a pcap or pcapng file (magic {0:#010x})")]
    BadMagic(u32),
}

const PCAP_US: u32 = 0xa1b2_c3d4;
const PCAP_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;

/// Most interfaces remembered per pcapng section (more are counted as unsupported).
const MAX_INTERFACES: usize = 256;

/// One captured frame: where its record starts in the file, its link type, time and bytes.
struct Frame<'a> {
    offset: usize,
    link: u32,
    time: DateTime<Utc>,
    data: &'a [u8],
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Pcap { nanos: bool, link: u32 },
    Pcapng,
}

/// Iterator over the UDP datagrams of a capture; [`Packets::stats`] counts what was skipped.
#[derive(Debug)]
pub struct Packets<'a> {
    file: &'a [u8],
    pos: usize,
    big_endian: bool,
    kind: Kind,
    /// pcapng: (link type, timestamp units per second) per interface of the section.
    interfaces: Vec<(u32, u64)>,
    stats: PcapStats,
}

/// Starts reading a pcap or pcapng capture held in `file`.
pub fn udp_packets(file: &[u8]) -> Result<Packets<'_>, PcapError> {
    let head = file.get(..4).ok_or(PcapError::Truncated)?;
    let magic_le = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let magic_be = magic_le.swap_bytes();
    let mut p = Packets {
        file,
        pos: 0,
        big_endian: false,
        kind: Kind::Pcapng,
        interfaces: Vec::new(),
        stats: PcapStats::default(),
    };
    if magic_le == PCAPNG_SHB {
        return Ok(p); // byte order comes from the section header itself
    }
    let (nanos, big_endian) = match (magic_le, magic_be) {
        (PCAP_US, _) => (false, false),
        (PCAP_NS, _) => (true, false),
        (_, PCAP_US) => (false, true),
        (_, PCAP_NS) => (true, true),
        _ => return Err(PcapError::BadMagic(magic_be)),
    };
    if file.len() < 24 {
        return Err(PcapError::Truncated);
    }
    p.big_endian = big_endian;
    p.kind = Kind::Pcap {
        nanos,
        link: p.u32_at(20).unwrap_or(0),
    };
    p.pos = 24;
    Ok(p)
}

impl<'a> Packets<'a> {
    /// What was read and skipped so far.
    pub fn stats(&self) -> PcapStats {
        self.stats
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.file.get(at..at + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.file.get(at..at + 2)?;
        Some(if self.big_endian {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    }

    /// The next packet record.
    fn next_record(&mut self) -> Option<Frame<'a>> {
        loop {
            if self.pos >= self.file.len() {
                return None;
            }
            match self.kind {
                Kind::Pcap { nanos, link } => return self.next_pcap(nanos, link),
                Kind::Pcapng => match self.next_block() {
                    Some(Some(r)) => return Some(r),
                    Some(None) => continue,
                    None => return None,
                },
            }
        }
    }

    // ts_sec(4) ts_frac(4) incl_len(4) orig_len(4) data
    fn next_pcap(&mut self, nanos: bool, link: u32) -> Option<Frame<'a>> {
        let at = self.pos;
        let (Some(secs), Some(frac), Some(incl), Some(_orig)) = (
            self.u32_at(at),
            self.u32_at(at + 4),
            self.u32_at(at + 8),
            self.u32_at(at + 12),
        ) else {
            return self.cut_short();
        };
        let Some(data) = self.file.get(at + 16..at + 16 + incl as usize) else {
            return self.cut_short();
        };
        self.pos = at + 16 + incl as usize;
        let nsecs = if nanos {
            frac
        } else {
            frac.saturating_mul(1000)
        };
        let t =
            DateTime::from_timestamp(i64::from(secs), nsecs.min(999_999_999)).unwrap_or_default();
        Some(Frame {
            offset: at,
            link,
            time: t,
            data,
        })
    }

    fn cut_short(&mut self) -> Option<Frame<'a>> {
        self.stats.truncated += 1;
        self.pos = self.file.len();
        None
    }

    /// One pcapng block: `Some(Some(record))` for a packet, `Some(None)` for another block,
    /// `None` at the end or when the block runs past the file.
    fn next_block(&mut self) -> Option<Option<Frame<'a>>> {
        let at = self.pos;
        let raw_type = self.file.get(at..at + 4)?;
        if raw_type == PCAPNG_SHB.to_le_bytes() {
            // Byte order of this section from its byte-order magic.
            let bom = self.file.get(at + 8..at + 12)?;
            self.big_endian = bom == PCAPNG_BOM.to_be_bytes();
            self.interfaces.clear();
        }
        let (Some(kind), Some(len)) = (self.u32_at(at), self.u32_at(at + 4)) else {
            return self.cut_short().map(Some);
        };
        let len = len as usize;
        if len < 12 || len % 4 != 0 || self.file.len() - at < len {
            return self.cut_short().map(Some);
        }
        self.pos = at + len;
        let body = self.file.get(at + 8..at + len - 4)?;
        match kind {
            1 => {
                let link = u32::from(self.u16_at(at + 8).unwrap_or(0));
                let units = tsresol(body.get(8..).unwrap_or(&[]), self.big_endian);
                if self.interfaces.len() < MAX_INTERFACES {
                    self.interfaces.push((link, units));
                }
                Some(None)
            }
            6 => {
                let (Some(iface), Some(hi), Some(lo), Some(cap), Some(_orig)) = (
                    self.u32_at(at + 8),
                    self.u32_at(at + 12),
                    self.u32_at(at + 16),
                    self.u32_at(at + 20),
                    self.u32_at(at + 24),
                ) else {
                    return self.cut_short().map(Some);
                };
                let Some(&(link, units)) = self.interfaces.get(iface as usize) else {
                    self.stats.packets += 1;
                    self.stats.unsupported += 1;
                    return Some(None);
                };
                let Some(data) = body.get(20..20 + cap as usize) else {
                    self.stats.packets += 1;
                    self.stats.truncated += 1;
                    return Some(None);
                };
                let ticks = (u64::from(hi) << 32) | u64::from(lo);
                let units = units.max(1);
                let secs = (ticks / units) as i64;
                let nsecs = ((ticks % units) as u128 * 1_000_000_000 / units as u128) as u32;
                let t = DateTime::from_timestamp(secs, nsecs).unwrap_or_default();
                Some(Some(Frame {
                    offset: at,
                    link,
                    time: t,
                    data,
                }))
            }
            3 => {
                self.stats.packets += 1;
                self.stats.unsupported += 1;
                Some(None)
            }
            _ => Some(None),
        }
    }
}

/// Timestamp units per second from an Interface Description Block's options (`if_tsresol`,
/// option 9): 10^n or 2^n; default microseconds.
fn tsresol(mut opts: &[u8], big_endian: bool) -> u64 {
    let u16_of = |b: &[u8]| {
        let a = [b[0], b[1]];
        if big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    };
    while opts.len() >= 4 {
        let (code, len) = (u16_of(&opts[0..2]), usize::from(u16_of(&opts[2..4])));
        if code == 0 {
            break;
        }
        if code == 9 && len >= 1 {
            if let Some(&r) = opts.get(4) {
                let n = u32::from(r & 0x7f);
                return if r & 0x80 != 0 {
                    2u64.checked_pow(n).unwrap_or(1_000_000)
                } else {
                    10u64.checked_pow(n).unwrap_or(1_000_000)
                };
            }
        }
        let next = 4 + len.div_ceil(4) * 4;
        opts = opts.get(next..).unwrap_or(&[]);
    }
    1_000_000
}

/// Why a frame yielded no datagram.
enum Skip {
    NotUdp,
    Fragment,
    Truncated,
    Unsupported,
}

/// Finds the IP packet in a frame of `link` type: (ethertype-like version tag, bytes).
fn network_layer(link: u32, frame: &[u8]) -> Result<&[u8], Skip> {
    let ip_after = |off: usize, ethertype: u16| match ethertype {
        0x0800 | 0x86dd => frame.get(off..).ok_or(Skip::Truncated),
        _ => Err(Skip::NotUdp),
    };
    let be16 = |at: usize| {
        frame
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(Skip::Truncated)
    };
    match link {
        1 => {
            let mut off = 12;
            let mut ethertype = be16(off)?;
            // Up to three VLAN tags (802.1Q, 802.1ad, old QinQ).
            for _ in 0..3 {
                if !matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
                    break;
                }
                off += 4;
                ethertype = be16(off)?;
            }
            ip_after(off + 2, ethertype)
        }
        113 => ip_after(16, be16(14)?),
        276 => ip_after(20, be16(0)?),
        12 | 14 | 101 | 228 | 229 => Ok(frame),
        0 | 108 => {
            // BSD loopback: address family, host order (NULL) or network order (LOOP).
            let b = frame.get(..4).ok_or(Skip::Truncated)?;
            let (le, be) = (
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            );
            let family = if link == 108 { be } else { le.min(be) };
            match family {
                2 | 24 | 28 | 30 => Ok(frame.get(4..).unwrap_or(&[])),
                _ => Err(Skip::NotUdp),
            }
        }
        _ => Err(Skip::Unsupported),
    }
}

/// (source, destination, UDP segment) of an IPv4 or IPv6 packet.
fn udp_segment(ip: &[u8]) -> Result<(IpAddr, IpAddr, &[u8]), Skip> {
    let first = *ip.first().ok_or(Skip::Truncated)?;
    match first >> 4 {
        4 => {
            let ihl = usize::from(first & 0x0f) * 4;
            let h = ip.get(..20).ok_or(Skip::Truncated)?;
            let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
            if u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 {
                return Err(Skip::Fragment);
            }
            if h[9] != 17 {
                return Err(Skip::NotUdp);
            }
            if ihl < 20 || total < ihl {
                return Err(Skip::NotUdp);
            }
            let src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
            let dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
            let seg = ip.get(ihl..total.min(ip.len())).ok_or(Skip::Truncated)?;
            Ok((src, dst, seg))
        }
        6 => {
            let h = ip.get(..40).ok_or(Skip::Truncated)?;
            let payload = usize::from(u16::from_be_bytes([h[4], h[5]]));
            let addr = |at: usize| {
                let mut a = [0u8; 16];
                a.copy_from_slice(&h[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(a))
            };
            let (src, dst) = (addr(8), addr(24));
            let mut next = h[6];
            let mut off = 40;
            let end = (40 + payload).min(ip.len());
            // At most 8 extension headers: bounded work on hostile chains.
            for _ in 0..8 {
                match next {
                    17 => {
                        let seg = ip.get(off..end).ok_or(Skip::Truncated)?;
                        return Ok((src, dst, seg));
                    }
                    44 => return Err(Skip::Fragment),
                    0 | 43 | 60 | 51 => {
                        let e = ip.get(off..off + 2).ok_or(Skip::Truncated)?;
                        let len = if next == 51 {
                            (usize::from(e[1]) + 2) * 4
                        } else {
                            (usize::from(e[1]) + 1) * 8
                        };
                        next = e[0];
                        off += len;
                    }
                    _ => return Err(Skip::NotUdp),
                }
            }
            Err(Skip::NotUdp)
        }
        _ => Err(Skip::NotUdp),
    }
}

/// The UDP datagram of one frame.
fn frame_udp(link: u32, frame: &[u8]) -> Result<(IpAddr, IpAddr, u16, u16, &[u8]), Skip> {
    let (src, dst, seg) = udp_segment(network_layer(link, frame)?)?;
    let h = seg.get(..8).ok_or(Skip::Truncated)?;
    let (sport, dport) = (
        u16::from_be_bytes([h[0], h[1]]),
        u16::from_be_bytes([h[2], h[3]]),
    );
    let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    if len < 8 {
        return Err(Skip::NotUdp);
    }
    let payload = seg.get(8..len).ok_or(Skip::Truncated)?;
    Ok((src, dst, sport, dport, payload))
}

impl<'a> Iterator for Packets<'a> {
    type Item = UdpPacket<'a>;

    fn next(&mut self) -> Option<UdpPacket<'a>> {
        loop {
            let Frame {
                offset,
                link,
                time: timestamp,
                data,
            } = self.next_record()?;
            self.stats.packets += 1;
            match frame_udp(link, data) {
                Ok((src, dst, src_port, dst_port, payload)) => {
                    self.stats.udp += 1;
                    return Some(UdpPacket {
                        timestamp,
                        src,
                        dst,
                        src_port,
                        dst_port,
                        payload,
                        offset,
                    });
                }
                Err(Skip::NotUdp) => self.stats.not_udp += 1,
                Err(Skip::Fragment) => self.stats.fragments += 1,
                Err(Skip::Truncated) => self.stats.truncated += 1,
                Err(Skip::Unsupported) => self.stats.unsupported += 1,
            }
        }
    }
}

#[cfg(test)]
#[path = "pcap_tests.rs"]
mod tests;
