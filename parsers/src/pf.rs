//! OpenBSD pf packet logs as `tcpdump -n -e -ttt -i pflog0` prints them, usually piped to
//! syslog (`| logger -t pf`), or as bare tcpdump output.
//!
//! Shape: `[syslog header with program pf] <stamp> rule <n>/(<reason>) <action> <in|out> on
//! <if>: <src>.<sport> > <dst>.<dport>: <protocol text>`. The inner stamp is the packet's time
//! (the syslog stamp is when the line was relayed); it is `Mmm dd hh:mm:ss.frac` (`-ttt`),
//! `YYYY-MM-DD hh:mm:ss.frac`, epoch seconds (`-tt`), or the time of day alone (the date then
//! comes from the syslog stamp). A year-less inner stamp takes the year that puts it closest
//! before the syslog stamp. The rule part also takes tcpdump.org's forms (`rule 0/match:`,
//! `rule 102/0(match):`) and the `[uid, pid]` / `[rewritten: ...]` blocks of `-v`.
//!
//! Mapping: `block` (and `synproxy-drop`) → `firewall.deny` (failure), `pass` →
//! `firewall.allow` (success), any other action (`match`, `scrub`, `nat`, `rdr`, `binat`) →
//! `firewall.log`. `in` / `out` put the interface in `interface.in` / `interface.out`;
//! `rule.name` is the rule number as printed (`2`, `def`, `0.anchor.3`). Addresses carry the
//! port as a last dotted component (`192.0.2.1.443`, `2001:db8::1.443`). TCP is recognised by
//! its flags (old style `S`, `.`, `FP` plus the `ack` word; new style `Flags [S.]`); `udp N`
//! is UDP, `icmp:` ICMP, `icmp6:` ICMPv6. A packet with ports whose text is an application
//! decode (DNS, NTP) rather than TCP flags is taken as UDP, since tcpdump prints TCP flags
//! before any decode. The IP length is read when `-v` printed it (`len 60`, `length 60`).
//!
//! Lines of other programs, tcpdump's own banner (`tcpdump: listening on pflog0`) and
//! pflogd's messages are `Ok(None)`. Host names instead of addresses (tcpdump without `-n`)
//! are rejected as `BadAddress`.

use crate::event::{Action, Dataset, Event, Outcome, TcpFlags, Transport};
use crate::filterlog::parse_ip;
use crate::syslog::parse_syslog_header;
use crate::time::{parse_iso_datetime, parse_rfc3164_stamp, SourceTz, Stamp};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use compact_str::CompactString;
use memchr::memchr;
use std::net::IpAddr;

const FORMAT: Format = Format::Pf;

/// Longest bracketed or parenthesised block skipped (`[uid 0, pid 1234]`, tcpdump.org's `-v`
/// IP header in parentheses): a bound on the work a hostile line can cause.
const MAX_BLOCK: usize = 256;

/// How far an inner stamp may lie after the syslog stamp it was relayed with (clock skew).
const RELAY_SKEW: TimeDelta = TimeDelta::hours(1);

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// A read position in the line.
struct Cur<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cur<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.i..).unwrap_or("")
    }

    fn spaces(&mut self) {
        while self.s.as_bytes().get(self.i) == Some(&b' ') {
            self.i += 1;
        }
    }

    /// The next word (up to a space); empty at the end.
    fn word(&mut self) -> (&'a str, usize) {
        self.spaces();
        let rest = self.rest();
        // Words are short: a plain loop beats a `memchr` call here.
        let len = rest.bytes().position(|c| c == b' ').unwrap_or(rest.len());
        let at = self.i;
        self.i += len;
        (&rest[..len], at)
    }

    /// Skips a `[...]` or `(...)` block at the position (nesting counted, bounded).
    fn skip_block(&mut self, open: u8, close: u8) -> bool {
        let b = self.rest().as_bytes();
        if b.first() != Some(&open) {
            return false;
        }
        let mut depth = 0usize;
        for (n, &c) in b.iter().enumerate().take(MAX_BLOCK) {
            if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    self.i += n + 1;
                    return true;
                }
            }
        }
        false
    }
}

/// The local date of `t` in the source's zone.
fn local_date(tz: SourceTz, t: DateTime<Utc>) -> NaiveDate {
    match tz {
        SourceTz::Utc => t.date_naive(),
        SourceTz::Local => t.with_timezone(&chrono::Local).date_naive(),
        SourceTz::Named(z) => t.with_timezone(&z).date_naive(),
    }
}

/// A packet stamp as written, before a zone and a year are applied.
#[derive(Debug, Clone, Copy)]
enum RawStamp {
    /// `Mar 30 15:53:25.793256` (`-ttt`).
    YearLess(u32, u32, NaiveTime),
    /// `2004-03-30 15:53:25.793256`.
    Full(Stamp),
    /// `15:53:25.793256` (tcpdump's default).
    TimeOnly(NaiveTime),
    /// `1080661805.793256` (`-tt`).
    Epoch(DateTime<Utc>),
}

// Mar 30 15:53:25.793256 rule …        2004-03-30 15:53:25.793256 rule …
// 1080661805.793256 rule …             15:53:25.793256 rule …
/// The packet's stamp at the start of `text`, and its length.
fn raw_stamp(text: &str) -> Option<(RawStamp, usize)> {
    let b = text.as_bytes();
    let first = *b.first()?;
    if first.is_ascii_alphabetic() {
        let (stamp, used) = parse_rfc3164_stamp(b)?;
        let Stamp::YearLess { month, day, time } = stamp else {
            return None;
        };
        return Some((RawStamp::YearLess(month, day, time), used));
    }
    if b.get(4) == Some(&b'-') {
        let (stamp, used) = parse_iso_datetime(b)?;
        return Some((RawStamp::Full(stamp), used));
    }
    let end = memchr(b' ', b).unwrap_or(b.len());
    let word = &text[..end];
    if b.get(2) == Some(&b':') {
        return Some((RawStamp::TimeOnly(word.parse().ok()?), end));
    }
    let (secs, frac) = word.split_once('.').unwrap_or((word, ""));
    if secs.is_empty() || !secs.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        let digits = frac.get(..frac.len().min(9))?;
        let v: u32 = digits.parse().ok()?;
        v * 10u32.pow(9 - digits.len() as u32)
    };
    Some((
        RawStamp::Epoch(DateTime::from_timestamp(secs.parse().ok()?, nanos)?),
        end,
    ))
}

/// The UTC instant of a packet stamp. `relayed` is the syslog stamp the line came with: a
/// year-less stamp takes the latest year that puts it no more than [`RELAY_SKEW`] after it
/// (or, without one, the year rule against `ctx.now`); a time of day takes its date.
fn resolve_stamp(
    raw: RawStamp,
    ctx: &ParseContext,
    relayed: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let tz = ctx.timezone;
    match raw {
        RawStamp::Epoch(t) => Some(t),
        RawStamp::Full(stamp) => stamp.resolve(tz, ctx.now),
        RawStamp::TimeOnly(time) => {
            let relayed = relayed?;
            let t = tz.to_utc(local_date(tz, relayed).and_time(time));
            Some(if t > relayed + RELAY_SKEW {
                t - TimeDelta::days(1)
            } else {
                t
            })
        }
        RawStamp::YearLess(month, day, time) => {
            let Some(relayed) = relayed else {
                return tz.resolve_year(month, day, time, ctx.now);
            };
            // Decided on dates (one zone conversion, not one per candidate year).
            let limit = local_date(tz, relayed + RELAY_SKEW);
            let year = limit.year();
            let date = [year, year - 1]
                .into_iter()
                .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
                .find(|d| *d <= limit);
            match date {
                Some(d) => Some(tz.to_utc(d.and_time(time))),
                None => tz.resolve_year(month, day, time, relayed + RELAY_SKEW),
            }
        }
    }
}

/// What the rule part of the line says.
struct Rule<'a> {
    name: &'a str,
    action: &'a str,
    dir: &'a str,
    iface: &'a str,
}

// rule 2/(match) pass in on xl0:                 (OpenBSD)
// rule 0.anchor.3/(match) [uid 0, pid 1] block out on em0:
// rule 102/0(match): block in on em0:            (older tcpdump.org)
// rule 5/match: block in on em0:                 (tcpdump.org)
/// The `rule ...` part, the cursor at `rule`.
fn parse_rule<'a>(c: &mut Cur<'a>) -> Result<Rule<'a>, ParseError> {
    let (w, at) = c.word();
    if w != "rule" {
        return Err(err(ErrorKind::Syntax, at, "`rule` and the rule number"));
    }
    c.spaces();
    let rest = c.rest();
    let slash = memchr(b'/', rest.as_bytes())
        .filter(|&n| n > 0 && !rest[..n].contains(' '))
        .ok_or_else(|| err(ErrorKind::Syntax, c.i, "the rule number and `/`"))?;
    let name = &rest[..slash];
    c.i += slash + 1;
    // Sub-rule number (old tcpdump.org), then the reason in parentheses or as a word.
    while c.rest().as_bytes().first().is_some_and(u8::is_ascii_digit) {
        c.i += 1;
    }
    if !c.skip_block(b'(', b')') {
        let r = c.rest();
        let end = r.find([':', ' ']).unwrap_or(r.len());
        if end == 0 {
            return Err(err(ErrorKind::Syntax, c.i, "the reason, like `(match)`"));
        }
        c.i += end;
    }
    for _ in 0..2 {
        if c.rest().starts_with(':') {
            c.i += 1;
        }
        c.spaces();
        c.skip_block(b'[', b']');
    }
    let (action, _) = c.word();
    let (dir, dir_at) = c.word();
    let (on, on_at) = c.word();
    if action.is_empty() || dir.is_empty() {
        return Err(err(
            ErrorKind::Syntax,
            dir_at,
            "the action and the direction",
        ));
    }
    if on != "on" {
        return Err(err(ErrorKind::Syntax, on_at, "`on` and the interface"));
    }
    let (iface, if_at) = c.word();
    let iface = iface
        .strip_suffix(':')
        .ok_or_else(|| err(ErrorKind::Syntax, if_at, "the interface followed by `:`"))?;
    Ok(Rule {
        name,
        action,
        dir,
        iface,
    })
}

// 205.174.165.231.50425   →   (205.174.165.231, 50425)
// 2001:db8::1.443         →   (2001:db8::1, 443)
// 127.0.0.1               →   (127.0.0.1, -)
// 192.0.2.1.443   →   Some((192.0.2.1, Some(443)));   192.0.2.1   →   Some((192.0.2.1, None))
/// A dotted quad with an optional fifth dotted part (the port), in one pass. `None` for
/// anything else (the caller then tries the general forms).
fn v4_with_port(s: &str) -> Option<(IpAddr, Option<u16>)> {
    let b = s.as_bytes();
    let mut parts = [0u32; 5];
    let (mut n, mut i) = (0, 0);
    loop {
        let start = i;
        let mut v: u32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 5 {
            v = v * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || (len > 1 && b[start] == b'0' && n < 4) || n == 5 {
            return None;
        }
        parts[n] = v;
        n += 1;
        if i == b.len() {
            break;
        }
        if b[i] != b'.' {
            return None;
        }
        i += 1;
    }
    if n < 4 || parts[..4].iter().any(|&p| p > 255) {
        return None;
    }
    let ip = IpAddr::from([
        parts[0] as u8,
        parts[1] as u8,
        parts[2] as u8,
        parts[3] as u8,
    ]);
    let port = if n == 5 {
        Some(u16::try_from(parts[4]).ok()?)
    } else {
        None
    };
    Some((ip, port))
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
    let first = text.split(' ').next().unwrap_or("");
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
        if text.split(' ').take(8).any(|w| w == "ack") {
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
fn parse_packet(c: &mut Cur, e: &mut Event) -> Result<(), ParseError> {
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
        if let Some(at) = text.find("(ttl ") {
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

/// The event of a pflog record at the cursor (the inner stamp), relayed at `relayed`.
fn parse_record(
    c: &mut Cur,
    ctx: &ParseContext,
    relayed: Option<DateTime<Utc>>,
) -> Result<Event, ParseError> {
    let bad = || {
        err(
            ErrorKind::BadTimestamp,
            c.i,
            "the packet's timestamp like `Mar 30 15:53:25.793256`",
        )
    };
    let (raw, used) = raw_stamp(c.rest()).ok_or_else(bad)?;
    let t = resolve_stamp(raw, ctx, relayed).ok_or_else(bad)?;
    c.i += used;
    let rule = parse_rule(c)?;
    let (action, outcome) = match rule.action {
        "pass" => (Action::FirewallAllow, Outcome::Success),
        "block" | "synproxy-drop" => (Action::FirewallDeny, Outcome::Failure),
        _ => (Action::FirewallLog, Outcome::Unknown),
    };
    let mut e = Event::new(t, Dataset::Pf, action);
    e.outcome = outcome;
    e.rule_name = Some(CompactString::from(rule.name));
    let iface = Some(CompactString::from(rule.iface));
    match rule.dir {
        "in" => e.interface_in = iface,
        "out" => e.interface_out = iface,
        _ => {}
    }
    e.packets = Some(1);
    parse_packet(c, &mut e)?;
    Ok(e)
}

/// True when `text` starts with a stamp followed by ` rule `: a pflog record.
fn looks_like_record(text: &str) -> bool {
    raw_stamp(text).is_some_and(|(_, used)| text[used..].starts_with(" rule "))
}

// Mar 30 15:55:20 enigma pf: Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0:
//   205.174.165.231.50425 > 192.168.2.10.22: . ack 2450721 win 73 <nop,nop,…> (DF) [tos 0x10]
// Mar 30 15:53:25.793256 rule 3/(match) block out on xl0: 192.168.2.10.1514 > 192.168.2.26.3875:  udp 57
/// Parses one pf log line. `Ok(None)` for other programs' lines and tcpdump's banner.
pub fn parse_pf_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    let mut c = Cur { s, i: 0 };
    let h = match parse_syslog_header(s, ctx) {
        // Bare tcpdump output reads as a syslog header whose host is `rule`.
        Ok(h) if h.host == Some("rule") && h.program.is_none() => {
            return parse_record(&mut c, ctx, None).map(Some);
        }
        Ok(h) => h,
        Err(_) if looks_like_record(s) => return parse_record(&mut c, ctx, None).map(Some),
        Err(e) => return Err(e.in_format(FORMAT)),
    };
    c.i = h.message_offset;
    let ours = h
        .program
        .is_some_and(|p| p == "pf" || (p.starts_with("pflog") && p != "pflogd"));
    if h.message.starts_with("tcpdump: ") || !(ours || h.program.is_none()) {
        return Ok(None);
    }
    if !ours && !looks_like_record(h.message) {
        return Ok(None);
    }
    let mut e = parse_record(&mut c, ctx, Some(h.timestamp))?;
    e.host_name = h.host.map(CompactString::from);
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        let mut c = ParseContext::new(SourceTz::Utc);
        c.now = "2009-06-01T00:00:00Z".parse().unwrap();
        c
    }

    fn parse(line: &str) -> Result<Option<Event>, ParseError> {
        parse_pf_line(line.as_bytes(), &ctx())
    }

    const H: &str = "Mar 30 15:55:20 enigma pf: ";

    /// (record after the syslog header, action, ends, transport, flags, (in, out), rule, bytes)
    type Case<'a> = (
        &'a str,
        Action,
        &'a str,
        Option<Transport>,
        Option<u8>,
        (Option<&'a str>, Option<&'a str>),
        &'a str,
        Option<u64>,
    );

    #[test]
    fn records() {
        use Action::*;
        let (tcp, udp) = (Some(Transport::Tcp), Some(Transport::Udp));
        let xl0 = Some("xl0");
        let cases: &[Case] = &[
            ("Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0: 205.174.165.231.50425 > 192.168.2.10.22: . ack 2450721 win 73 <nop,nop,timestamp 1815379950 17589621,[|tcp]> (DF) [tos 0x10]",
             FirewallAllow, "205.174.165.231:50425 > 192.168.2.10:22", tcp, Some(TcpFlags::ACK), (xl0, None), "2", None),
            ("Mar 30 15:55:14.265470 rule 3/(match) pass out on xl0: 192.168.2.10.1514 > 192.168.2.26.3875:  udp 57",
             FirewallAllow, "192.168.2.10:1514 > 192.168.2.26:3875", udp, None, (None, xl0), "3", None),
            ("Mar 30 15:48:03.688233 rule 3/(match) pass out on xl0: 192.168.2.10 > 192.168.2.1: icmp: 192.168.2.10 udp port 137 unreachable",
             FirewallAllow, "192.168.2.10:- > 192.168.2.1:-", Some(Transport::Icmp), None, (None, xl0), "3", None),
            ("Mar 30 15:53:25.1 rule 1/(match) block in on em0: 198.51.100.7.40000 > 192.0.2.1.23: S 1234:1234(0) win 16384 <mss 1460> (DF) (ttl 50, id 321, len 44)",
             FirewallDeny, "198.51.100.7:40000 > 192.0.2.1:23", tcp, Some(TcpFlags::SYN), (Some("em0"), None), "1", Some(44)),
            ("Mar 30 15:53:25.1 rule 0.ssh-guard.4/(match) [uid 0, pid 4321] block in on em0: 2001:db8::7.51000 > 2001:db8::1.22: S 1:1(0) win 65535",
             FirewallDeny, "2001:db8::7:51000 > 2001:db8::1:22", tcp, Some(TcpFlags::SYN), (Some("em0"), None), "0.ssh-guard.4", None),
            ("Mar 30 15:53:25.1 rule def/(match) block in on em0: fe80::1 > ff02::1: icmp6: router advertisement",
             FirewallDeny, "fe80::1:- > ff02::1:-", Some(Transport::Icmpv6), None, (Some("em0"), None), "def", None),
            ("Mar 30 15:53:25.1 rule 7/(state-mismatch) block out on em0: 10.0.0.1.443 > 10.0.0.2.5555: FP 1:2(1) ack 1 win 5",
             FirewallDeny, "10.0.0.1:443 > 10.0.0.2:5555", tcp, Some(TcpFlags::FIN | TcpFlags::PSH | TcpFlags::ACK), (None, Some("em0")), "7", None),
            ("Mar 30 15:53:25.1 rule 5/(match) match in on em0: 10.0.0.1.53 > 10.0.0.2.5555: 1234 NXDomain 0/1/0 (100)",
             FirewallLog, "10.0.0.1:53 > 10.0.0.2:5555", udp, None, (Some("em0"), None), "5", None),
            ("Mar 30 15:53:25.1 rule 5/(match) pass in on gre0: 10.0.0.1 > 10.0.0.2: gre 10.1.1.1 > 10.1.1.2: icmp: echo request",
             FirewallAllow, "10.0.0.1:- > 10.0.0.2:-", Some(Transport::Other(47)), None, (Some("gre0"), None), "5", None),
            ("Mar 30 15:53:25.1 rule 102/0(match): block in on em0: IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 60) 192.0.2.9.33000 > 192.0.2.1.80: Flags [S.], seq 1, length 0",
             FirewallDeny, "192.0.2.9:33000 > 192.0.2.1:80", tcp, Some(TcpFlags::SYN | TcpFlags::ACK), (Some("em0"), None), "102", Some(60)),
            ("Mar 30 15:53:25.1 rule 5/match: block in on em0: 192.0.2.9.33000 > 192.0.2.1.80: tcp 0",
             FirewallDeny, "192.0.2.9:33000 > 192.0.2.1:80", tcp, None, (Some("em0"), None), "5", None),
        ];
        for c in cases {
            let line = format!("{H}{}", c.0);
            let e = parse(&line)
                .unwrap_or_else(|err| panic!("{line}: {err}"))
                .expect(c.0);
            let show = |ip: Option<IpAddr>, port: Option<u16>| {
                format!(
                    "{}:{}",
                    ip.unwrap(),
                    port.map_or("-".into(), |p| p.to_string())
                )
            };
            let ends = format!(
                "{} > {}",
                show(e.source_ip, e.source_port),
                show(e.destination_ip, e.destination_port)
            );
            let got: Case = (
                c.0,
                e.action,
                &ends,
                e.transport,
                e.tcp_flags.map(|f| f.0),
                (e.interface_in.as_deref(), e.interface_out.as_deref()),
                e.rule_name.as_deref().unwrap(),
                e.bytes,
            );
            assert_eq!(&got, c, "{line}");
            assert_eq!((e.dataset, e.packets), (Dataset::Pf, Some(1)));
            assert_eq!(e.host_name.as_deref(), Some("enigma"));
        }
    }

    #[test]
    fn inner_stamp_is_the_event_time() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let cases = [
            (format!("{H}Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0: 1.2.3.4 > 5.6.7.8: icmp: echo reply"), "2009-03-30T15:53:25.793256Z"),
            // Relayed just after new year: the packet belongs to the year before.
            ("Jan  1 00:00:05 fw pf: Dec 31 23:59:58.5 rule 2/(match) pass in on xl0: 1.2.3.4 > 5.6.7.8: icmp: echo reply".into(), "2008-12-31T23:59:58.5Z"),
            (format!("{H}15:53:25.5 rule 2/(match) pass in on xl0: 1.2.3.4 > 5.6.7.8: icmp: echo reply"), "2009-03-30T15:53:25.5Z"),
            ("Mar 30 00:00:05 fw pf: 23:59:58 rule 2/(match) pass in on xl0: 1.2.3.4 > 5.6.7.8: icmp: echo reply".into(), "2009-03-29T23:59:58Z"),
            (format!("{H}1238428405.25 rule 2/(match) pass in on xl0: 1.2.3.4 > 5.6.7.8: icmp: echo reply"), "2009-03-30T15:53:25.25Z"),
            ("2009-03-30 15:53:25.793256 rule 2/(match) pass in on xl0: 1.2.3.4 > 5.6.7.8: icmp: echo reply".into(), "2009-03-30T15:53:25.793256Z"),
            ("Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0: 1.2.3.4 > 5.6.7.8: icmp: echo reply".into(), "2009-03-30T15:53:25.793256Z"),
        ];
        for (line, want) in cases {
            let e = parse(&line)
                .unwrap_or_else(|err| panic!("{line}: {err}"))
                .unwrap();
            assert_eq!(e.timestamp, t(want), "{line}");
        }
    }

    #[test]
    fn lines_without_records_are_none() {
        let cases = [
            "Mar 30 15:55:20 enigma pf: tcpdump: listening on pflog0, link-type PFLOG",
            "Mar 30 15:55:20 enigma pflogd[123]: [priv]: msg",
            "Mar 30 15:55:20 enigma sshd[1]: Mar 30 15:53:25.1 rule 1/(match) pass in on em0: 1.2.3.4 > 5.6.7.8: icmp: echo",
            "Jan  8 03:37:09 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 PROTO=TCP SPT=1 DPT=2",
            "<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,49724,853,0,S,1,,64240,,",
            "Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 SRC=10.251.1.1 DST=10.251.1.2",
        ];
        for line in cases {
            assert_eq!(parse(line), Ok(None), "{line}");
        }
    }

    #[test]
    fn rejected_lines() {
        let long = format!("{H}{}", "x".repeat(100_000));
        let r = "Mar 30 15:53:25.1 rule 2/(match) pass in on xl0: ";
        let cases: Vec<(String, ErrorKind, usize)> = vec![
            (String::new(), ErrorKind::Syntax, 0),
            ("garbage".into(), ErrorKind::BadTimestamp, 0),
            (format!("{H}garbage"), ErrorKind::BadTimestamp, 27),
            (format!("{H}Mar 30 15:53:25.1 rules"), ErrorKind::Syntax, 45),
            (
                format!("{H}Mar 30 15:53:25.1 rule 2 pass in on xl0:"),
                ErrorKind::Syntax,
                50,
            ),
            (
                format!("{H}Mar 30 15:53:25.1 rule 2/(match) pass in xl0:"),
                ErrorKind::Syntax,
                68,
            ),
            (
                format!("{H}Mar 30 15:53:25.1 rule 2/(match) pass in on xl0 1.2.3.4"),
                ErrorKind::Syntax,
                71,
            ),
            (
                format!("{H}{r}1.2.3.4.5 6.7.8.9.10: S"),
                ErrorKind::Syntax,
                86,
            ),
            (
                format!("{H}{r}1.2.3.4.5 > 6.7.8.9.10 S"),
                ErrorKind::Syntax,
                88,
            ),
            (
                format!("{H}{r}host.example.http > 6.7.8.9.10: S"),
                ErrorKind::BadAddress,
                76,
            ),
            (
                format!("{H}{r}1.2.3.4.5 > 6.7.8.9.70000: S"),
                ErrorKind::BadNumber,
                96,
            ),
            (
                format!("{H}{r}1.2.3 > 6.7.8.9: icmp:"),
                ErrorKind::BadAddress,
                76,
            ),
        ];
        let mut bad = Vec::new();
        for (line, kind, offset) in &cases {
            match parse(line) {
                Err(e) if (e.kind, e.offset, e.format) == (*kind, *offset, FORMAT) => {}
                other => bad.push(format!("{line:?}: {other:?}")),
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
        let e = parse_pf_line(format!("{H}Mar 30 \u{0}").as_bytes(), &ctx()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadTimestamp);
        let e = parse_pf_line(b"Mar 30 15:55:20 enigma pf: \xff", &ctx()).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::InvalidUtf8, 27));
        let mut lp = crate::LineParser::new(FORMAT, ctx());
        assert_eq!(
            lp.parse(long.as_bytes()).unwrap_err().kind,
            ErrorKind::TooLong
        );
    }

    #[test]
    fn hostile_lines_stay_bounded() {
        let r = "Mar 30 15:53:25.1 rule 2/(match) ";
        for tail in ["[".repeat(20_000), "(".repeat(20_000), " ".repeat(15_000)] {
            let _ = parse(&format!("{H}{r}{tail}"));
            let _ = parse(&format!("{H}{r}pass in on x: {tail}"));
        }
    }
}
