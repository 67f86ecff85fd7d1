//! The packet part of a pflog record: `<src> > <dst>: <protocol text>` as tcpdump prints it,
//! with the port as a last dotted component of each address.

use super::{err, Cur};
use crate::event::{Event, TcpFlags, Transport};
use crate::filterlog::parse_ip;
use crate::proftpd::find_str;
use crate::scan::ipv4_prefix;
use crate::{ErrorKind, ParseError};
use memchr::memchr;
use std::net::IpAddr;

// 192.0.2.1.443   →   Some((192.0.2.1, Some(443)));   192.0.2.1   →   Some((192.0.2.1, None))
/// A dotted quad with an optional fifth dotted part (the port), in one pass. `None` for
/// anything else (the caller then tries the general forms).
fn v4_with_port(s: &str) -> Option<(IpAddr, Option<u16>)> {
    let b = s.as_bytes();
    let (ip, used) = ipv4_prefix(b)?;
    let ip = IpAddr::V4(ip);
    let port = match &b[used..] {
        [] => return Some((ip, None)),
        [b'.', port @ ..] if (1..=5).contains(&port.len()) => port,
        _ => return None,
    };
    let mut v: u32 = 0;
    for &c in port {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some((ip, Some(u16::try_from(v).ok()?)))
}

// 205.174.165.231.50425   →   (205.174.165.231, 50425)
// 2001:db8::1.443         →   (2001:db8::1, 443)
// 127.0.0.1               →   (127.0.0.1, -)
/// An address with tcpdump's dotted port, at line offset `at`.
fn parse_host(s: &str, at: usize) -> Result<(IpAddr, Option<u16>), ParseError> {
    if let Some(found) = v4_with_port(s) {
        return Ok(found);
    }
    let bad = || err(ErrorKind::BadAddress, at, "an address like 192.0.2.1.443");
    if let Some(ip) = parse_ip(s) {
        return Ok((ip, None));
    }
    let (a, p) = s
        .rsplit_once('.')
        .filter(|(_, p)| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        .ok_or_else(bad)?;
    let dots = a.bytes().filter(|&c| c == b'.').count();
    if !a.contains(':') && dots != 3 {
        return Err(bad());
    }
    let ip = parse_ip(a).ok_or_else(bad)?;
    let port = p.parse().map_err(|_| {
        err(
            ErrorKind::BadNumber,
            at + a.len() + 1,
            "a port number 0..65535",
        )
    })?;
    Ok((ip, Some(port)))
}

/// What the protocol text after `dst:` says.
fn classify_payload(text: &str, ports: bool) -> (Option<Transport>, Option<TcpFlags>) {
    let first = &text[..memchr(b' ', text.as_bytes()).unwrap_or(text.len())];
    if first == "icmp:" {
        return (Some(Transport::Icmp), None);
    }
    if first == "icmp6:" {
        return (Some(Transport::Icmpv6), None);
    }
    if first == "Flags" {
        let inner = text
            .get(6..)
            .and_then(|t| t.strip_prefix('['))
            .and_then(|t| t.split(']').next())
            .unwrap_or("");
        let bits = inner.bytes().fold(0, |b, c| b | flag_bit(c, true));
        return (Some(Transport::Tcp), Some(TcpFlags(bits)));
    }
    let is_flags =
        !first.is_empty() && first.len() <= 8 && first.bytes().all(|c| b"SFRPWEU.".contains(&c));
    if is_flags {
        let mut bits = first.bytes().fold(0, |b, c| b | flag_bit(c, false));
        let words = text.as_bytes().split(|&c| c == b' ');
        if words.take(8).any(|w| w == b"ack") {
            bits |= TcpFlags::ACK;
        }
        return (Some(Transport::Tcp), Some(TcpFlags(bits)));
    }
    let t = match first {
        "tcp" | "[|tcp]" => Some(Transport::Tcp),
        "udp" | "[|udp]" => Some(Transport::Udp),
        "igmp" => Some(Transport::Other(2)),
        "gre" | "GREv0," | "GREv1," => Some(Transport::Other(47)),
        "esp" | "ah" | "AH" | "sctp" | "carp" | "pfsync" | "vrrp" => {
            Some(Transport::from_number(match first {
                "esp" => 50,
                "ah" | "AH" => 51,
                "sctp" => 132,
                "pfsync" => 240,
                _ => 112,
            }))
        }
        _ if first.starts_with("ESP(") => Some(Transport::Other(50)),
        _ if first.starts_with("CARPv") || first.starts_with("VRRPv") => {
            Some(Transport::Other(112))
        }
        _ => first
            .strip_prefix("ip-proto-")
            .and_then(|n| n.trim_end_matches(':').parse().ok())
            .map(Transport::from_number),
    };
    match t {
        Some(t) => (Some(t), None),
        None if ports => (Some(Transport::Udp), None),
        None => (None, None),
    }
}

/// A flag letter of tcpdump's TCP text; `.` is ACK only in the new `Flags [S.]` style.
fn flag_bit(c: u8, new_style: bool) -> u8 {
    match c {
        b'S' => TcpFlags::SYN,
        b'F' => TcpFlags::FIN,
        b'R' => TcpFlags::RST,
        b'P' => TcpFlags::PSH,
        b'U' => TcpFlags::URG,
        b'E' => TcpFlags::ECE,
        b'W' => TcpFlags::CWR,
        b'.' if new_style => TcpFlags::ACK,
        _ => 0,
    }
}

// (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 60)   →   60
// … (DF) (ttl 64, id 123, len 60)                                            →   60
/// The IP total length from `-v` output, if printed.
fn ip_length(block: &str) -> Option<u64> {
    let at = block
        .find("length ")
        .map(|i| i + 7)
        .or_else(|| block.find(" len ").map(|i| i + 5))?;
    let digits = block[at..].split([')', ',']).next()?;
    digits.parse().ok()
}

// 205.174.165.231.50425 > 192.168.2.10.22: . ack 2450721 win 73 <nop,…> (DF) [tos 0x10]
/// The packet part, the cursor after `on <if>:`.
pub(super) fn parse_packet(c: &mut Cur, e: &mut Event) -> Result<(), ParseError> {
    c.spaces();
    for _ in 0..2 {
        c.skip_block(b'[', b']'); // [uid 0, pid 1234] [rewritten: …]
        c.spaces();
    }
    if c.rest().starts_with("IP6 ") || c.rest().starts_with("IP ") {
        c.word();
        c.spaces();
    }
    let verbose_start = c.i;
    if c.skip_block(b'(', b')') {
        e.bytes = ip_length(&c.s[verbose_start..c.i]);
    }
    let (src, src_at) = c.word();
    let (gt, gt_at) = c.word();
    let (dst, dst_at) = c.word();
    if src.is_empty() || gt != ">" {
        return Err(err(ErrorKind::Syntax, gt_at, "`source > destination:`"));
    }
    let dst = dst
        .strip_suffix(':')
        .ok_or_else(|| err(ErrorKind::Syntax, dst_at, "the destination followed by `:`"))?;
    let (sip, sport) = parse_host(src, src_at)?;
    let (dip, dport) = parse_host(dst, dst_at)?;
    c.spaces();
    let text = c.rest();
    let (transport, flags) = classify_payload(text, sport.is_some() && dport.is_some());
    if e.bytes.is_none() {
        if let Some(at) = find_str(text, "(ttl ") {
            e.bytes = text[at..].split(')').next().and_then(ip_length);
        }
    }
    e.source_ip = Some(sip);
    e.destination_ip = Some(dip);
    e.source_port = sport;
    e.destination_port = dport;
    e.transport = transport;
    e.tcp_flags = flags;
    Ok(())
}
