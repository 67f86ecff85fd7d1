//! nfdump CSV output (`nfdump -o csv`, and the format-driven `-o "csv:%ts,%sa,..."` of
//! nfdump 1.7+): one flow per line after a header line that names the columns.
//!
//! Header forms: 1.6 `ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,...`;
//! 1.7+ descriptive names `firstSeen,lastSeen,duration,srcAddr,dstAddr,srcPort,dstPort,proto,
//! flags,...,inPackets,inBytes,outPackets,outBytes,input,output,...,routerIP,...`. The header
//! is remembered in [`State`] like a `#Fields:` directive, so columns may come in any order;
//! unknown columns are ignored. Data lines before any header (`nfdump -q`) are read with the
//! 1.6 default layout.
//!
//! Values: times `2015-06-05 09:20:42` or `2015-06-05 09:20:42.123` in the zone nfdump ran in
//! (ctx.timezone), or epoch seconds `1433496042.123` (`%tsr`); `0000-00-00 00:00:00.000`
//! means unknown. Protocol `TCP`, `UDP`, `ICMP`, `ICMP6`, `GRE`, ... or a number. Flags
//! `.AP.SF` / `...A.R..` (letters C E U A P R S F in any position), or a number. ICMP
//! destination ports are printed as `type.code`: ICMP flows carry no ports.
//!
//! Event: `flow` (dataset netflow) with source/destination address and port, transport, TCP
//! flags (TCP only), bytes and packets (in + out), `observer.ip` from `ra`/`routerIP` (when not
//! 0.0.0.0), `interface.in`/`interface.out` from `in`/`out` (when not 0). `@timestamp` = the
//! flow's first-seen time (last-seen when first is unknown); `event.end` = the last-seen time
//! when both are known; `event.duration` from the `td` / `duration` column (nfdump 1.6 prints
//! it to the millisecond, the times only to the second), else the time between the two.
//!
//! Lines without an event (`Ok(None)`): header lines, the `Summary` line and everything after
//! it until the next flow header (its own header `flows,bytes,packets,...` and totals line),
//! and nfdump's trailer lines (`Time window:`, `Total flows processed:`, `Sys:`,
//! `No matching flows`).

use crate::event::{Action, Dataset, Event, TcpFlags, Transport};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use compact_str::CompactString;
use memchr::memchr_iter;
use std::net::IpAddr;

const FORMAT: Format = Format::NfdumpCsv;

/// Most columns remembered from a header (nfdump's widest default layout has 48).
const MAX_COLUMNS: usize = 256;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// What a column holds, as far as a flow event is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    First,
    Last,
    Duration,
    SrcAddr,
    DstAddr,
    SrcPort,
    DstPort,
    Proto,
    Flags,
    InPackets,
    InBytes,
    OutPackets,
    OutBytes,
    Input,
    Output,
    Router,
    Other,
}

impl Col {
    fn of(name: &str) -> Col {
        const NAMES: &[(&str, Col)] = &[
            ("ts", Col::First),
            ("firstSeen", Col::First),
            ("te", Col::Last),
            ("lastSeen", Col::Last),
            ("td", Col::Duration),
            ("duration", Col::Duration),
            ("sa", Col::SrcAddr),
            ("srcAddr", Col::SrcAddr),
            ("da", Col::DstAddr),
            ("dstAddr", Col::DstAddr),
            ("sp", Col::SrcPort),
            ("srcPort", Col::SrcPort),
            ("dp", Col::DstPort),
            ("dstPort", Col::DstPort),
            ("pr", Col::Proto),
            ("proto", Col::Proto),
            ("flg", Col::Flags),
            ("flags", Col::Flags),
            ("ipkt", Col::InPackets),
            ("inPackets", Col::InPackets),
            ("pkt", Col::InPackets),
            ("packets", Col::InPackets),
            ("ibyt", Col::InBytes),
            ("inBytes", Col::InBytes),
            ("byt", Col::InBytes),
            ("bytes", Col::InBytes),
            ("opkt", Col::OutPackets),
            ("outPackets", Col::OutPackets),
            ("obyt", Col::OutBytes),
            ("outBytes", Col::OutBytes),
            ("in", Col::Input),
            ("input", Col::Input),
            ("out", Col::Output),
            ("output", Col::Output),
            ("ra", Col::Router),
            ("routerIP", Col::Router),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(Col::Other, |(_, c)| *c)
    }
}

/// nfdump 1.6's `-o csv` layout: used for data lines before any header.
const DEFAULT_LAYOUT: &[Col] = &[
    Col::First,
    Col::Last,
    Col::Duration,
    Col::SrcAddr,
    Col::DstAddr,
    Col::SrcPort,
    Col::DstPort,
    Col::Proto,
    Col::Flags,
    Col::Other, // fwd
    Col::Other, // stos
    Col::InPackets,
    Col::InBytes,
    Col::OutPackets,
    Col::OutBytes,
    Col::Input,
    Col::Output,
];

/// What this format remembers between lines of one source.
#[derive(Debug, Default)]
pub struct State {
    /// Columns of the last flow header; empty: none seen yet (1.6 default layout).
    columns: Vec<Col>,
    /// Inside the `Summary` block at the end of an output.
    in_summary: bool,
}

/// True for a header line: every field a name (a letter, then letters and digits).
fn is_header(s: &str) -> bool {
    s.contains(',')
        && s.split(',').all(|f| {
            let f = f.trim();
            f.starts_with(|c: char| c.is_ascii_alphabetic())
                && f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

const TRAILERS: &[&str] = &[
    "Time window:",
    "Total flows processed:",
    "Sys:",
    "No matching flows",
    "Summary",
];

// 2015-06-05 09:20:42.123      (or without the fraction; or 1433496042.123)
/// A first/last-seen value; `Ok(None)` for nfdump's "unknown" (all zeros).
fn parse_time(v: &str, ctx: &ParseContext, at: usize) -> Result<Option<DateTime<Utc>>, ParseError> {
    let bad = || {
        err(
            ErrorKind::BadTimestamp,
            at,
            "a time like 2015-06-05 09:20:42.123",
        )
    };
    if v.starts_with("0000-00-00") {
        return Ok(None);
    }
    if !v.contains('-') {
        let (secs, frac) = v.split_once('.').unwrap_or((v, "0"));
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        let ms = parse_millis(frac).ok_or_else(bad)?;
        return DateTime::from_timestamp(secs, ms * 1_000_000)
            .map(Some)
            .ok_or_else(bad);
    }
    let b = v.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let d = b.get(r)?;
        d.iter().all(u8::is_ascii_digit).then_some(())?;
        d.iter()
            .try_fold(0u32, |n, &c| Some(n * 10 + u32::from(c - b'0')))
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let ms = match b.get(19) {
        None => 0,
        Some(b'.') => parse_millis(v.get(20..).ok_or_else(bad)?).ok_or_else(bad)?,
        Some(_) => return Err(bad()),
    };
    let date = NaiveDate::from_ymd_opt(
        num(0..4).ok_or_else(bad)? as i32,
        num(5..7).ok_or_else(bad)?,
        num(8..10).ok_or_else(bad)?,
    )
    .ok_or_else(bad)?;
    let time = NaiveTime::from_hms_milli_opt(
        num(11..13).ok_or_else(bad)?,
        num(14..16).ok_or_else(bad)?,
        num(17..19).ok_or_else(bad)?,
        ms,
    )
    .ok_or_else(bad)?;
    Ok(Some(ctx.timezone.to_utc(NaiveDateTime::new(date, time))))
}

/// Milliseconds of a fraction of 1 to 9 digits (`123` → 123, `5` → 500).
fn parse_millis(frac: &str) -> Option<u32> {
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits: u32 = frac.get(..frac.len().min(3))?.parse().ok()?;
    Some(digits * 10u32.pow(3 - frac.len().min(3) as u32))
}

// 1.020   →   1_020_000_000
/// A duration column (seconds with up to millisecond decimals) in nanoseconds.
fn parse_duration_ns(v: &str) -> Option<u64> {
    let (secs, frac) = v.split_once('.').unwrap_or((v, "0"));
    if secs.is_empty() || !secs.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = secs.parse().ok()?;
    let ms = u64::from(parse_millis(frac)?);
    secs.checked_mul(1_000_000_000)?.checked_add(ms * 1_000_000)
}

/// A protocol as nfdump prints it.
fn parse_proto(v: &str) -> Option<Transport> {
    const NAMES: &[(&str, u8)] = &[
        ("ICMP6", 58),
        ("IGMP", 2),
        ("GRE", 47),
        ("ESP", 50),
        ("AH", 51),
        ("SCTP", 132),
        ("IPIP", 4),
        ("IPv6", 41),
        ("PIM", 103),
        ("OSPF", 89),
    ];
    Transport::from_name(v).or_else(|| {
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(v))
            .map(|&(_, n)| Transport::from_number(n))
    })
}

/// TCP flags as nfdump prints them (`.AP.SF`, `0x1b`, `27`).
fn parse_flags(v: &str) -> Option<u8> {
    if let Some(hex) = v.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16).ok();
    }
    if v.bytes().all(|c| c.is_ascii_digit()) {
        return v.parse().ok();
    }
    v.bytes().try_fold(0u8, |acc, c| {
        let bit = match c {
            b'.' => 0,
            b'F' => TcpFlags::FIN,
            b'S' => TcpFlags::SYN,
            b'R' => TcpFlags::RST,
            b'P' => TcpFlags::PSH,
            b'A' => TcpFlags::ACK,
            b'U' => TcpFlags::URG,
            b'E' => TcpFlags::ECE,
            b'C' => TcpFlags::CWR,
            _ => return None,
        };
        Some(acc | bit)
    })
}

fn parse_u64(v: &str, at: usize, expected: &'static str) -> Result<u64, ParseError> {
    v.parse()
        .map_err(|_| err(ErrorKind::BadNumber, at, expected))
}

fn parse_addr(v: &str, at: usize) -> Result<IpAddr, ParseError> {
    v.parse()
        .map_err(|_| err(ErrorKind::BadAddress, at, "an IP address"))
}

/// A port; `None` for an ICMP `type.code`.
fn parse_port(v: &str, at: usize) -> Result<Option<u16>, ParseError> {
    if let Some((t, c)) = v.split_once('.') {
        if t.parse::<u8>().is_ok() && c.parse::<u8>().is_ok() {
            return Ok(None);
        }
    }
    v.parse()
        .map(Some)
        .map_err(|_| err(ErrorKind::BadNumber, at, "a port number 0..65535"))
}

/// Interface index, kept as text when not 0.
fn parse_iface(v: &str, at: usize) -> Result<Option<CompactString>, ParseError> {
    let n: u32 = v
        .parse()
        .map_err(|_| err(ErrorKind::BadNumber, at, "an interface index"))?;
    Ok((n != 0).then(|| CompactString::from(v)))
}

// ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,...
// 2015-06-05 09:20:42,2015-06-05 09:20:43,1.020,192.168.1.5,198.51.100.7,51234,21,TCP,.AP.SF,0,0,12,1500,10,9000,2,3,...
/// Parses one line of nfdump CSV output.
pub fn parse_nfdump_line(
    line: &[u8],
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    // Flow lines start with a time (a digit); headers, the summary and trailers with a letter.
    if s.starts_with(|c: char| !c.is_ascii_digit()) {
        let trimmed = s.trim_start();
        if trimmed.starts_with("Summary") {
            state.in_summary = true;
            return Ok(None);
        }
        if is_header(s) {
            let cols: Vec<Col> = s
                .split(',')
                .take(MAX_COLUMNS)
                .map(|f| Col::of(f.trim()))
                .collect();
            if cols.contains(&Col::SrcAddr) && cols.contains(&Col::DstAddr) {
                state.columns = cols;
                state.in_summary = false;
            }
            return Ok(None);
        }
        if TRAILERS.iter().any(|t| trimmed.starts_with(t)) {
            return Ok(None);
        }
    }
    if state.in_summary {
        return Ok(None);
    }
    let layout: &[Col] = if state.columns.is_empty() {
        DEFAULT_LAYOUT
    } else {
        &state.columns
    };
    parse_flow(s, layout, ctx)
}

fn parse_flow(s: &str, layout: &[Col], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let (mut first, mut last, mut duration) = (None, None, None);
    let (mut src, mut dst, mut sport, mut dport) = (None, None, None, None);
    let (mut proto, mut flags, mut router) = (None, None, None);
    let (mut ipkt, mut ibyt, mut opkt, mut obyt) = (None, None, None, None);
    let (mut input, mut output) = (None, None);
    let needed = layout
        .iter()
        .rposition(|c| *c != Col::Other)
        .map_or(0, |i| i + 1);
    let mut last_at = 0;
    let mut fields = 0;
    let mut start = 0;
    let ends = memchr_iter(b',', s.as_bytes()).chain(std::iter::once(s.len()));
    for (end, &col) in ends.zip(&layout[..needed]) {
        let raw = s.get(start..end).unwrap_or("");
        let at = start;
        start = end + 1;
        fields += 1;
        if col == Col::Other {
            continue;
        }
        let v = raw.trim();
        let vat = at + (raw.len() - raw.trim_start().len());
        match col {
            Col::First => first = parse_time(v, ctx, vat)?,
            Col::Last => {
                last = Some(v);
                last_at = vat;
            }
            Col::Duration => {
                let d = parse_duration_ns(v)
                    .ok_or_else(|| err(ErrorKind::BadNumber, vat, "a duration like 1.020"))?;
                duration = Some(d);
            }
            Col::SrcAddr => src = Some(parse_addr(v, vat)?),
            Col::DstAddr => dst = Some(parse_addr(v, vat)?),
            Col::SrcPort => sport = parse_port(v, vat)?,
            Col::DstPort => dport = parse_port(v, vat)?,
            Col::Proto => {
                let p = parse_proto(v)
                    .ok_or_else(|| err(ErrorKind::Syntax, vat, "a protocol name or number"))?;
                proto = Some(p);
            }
            Col::Flags => {
                let f = parse_flags(v)
                    .ok_or_else(|| err(ErrorKind::Syntax, vat, "TCP flags like .AP.SF"))?;
                flags = Some(f);
            }
            Col::InPackets => ipkt = Some(parse_u64(v, vat, "a packet count")?),
            Col::InBytes => ibyt = Some(parse_u64(v, vat, "a byte count")?),
            Col::OutPackets => opkt = Some(parse_u64(v, vat, "a packet count")?),
            Col::OutBytes => obyt = Some(parse_u64(v, vat, "a byte count")?),
            Col::Input => input = parse_iface(v, vat)?,
            Col::Output => output = parse_iface(v, vat)?,
            Col::Router => {
                let ip = parse_addr(v, vat)?;
                router = (!ip.is_unspecified()).then_some(ip);
            }
            Col::Other => {}
        }
    }
    if fields < needed {
        return Err(err(
            ErrorKind::Syntax,
            s.len(),
            "as many comma-separated fields as the header names",
        ));
    }
    let (Some(src), Some(dst)) = (src, dst) else {
        return Err(err(
            ErrorKind::Syntax,
            0,
            "a flow line under a header with source and destination address columns",
        ));
    };
    let last = match last {
        Some(v) => parse_time(v, ctx, last_at)?,
        None => None,
    };
    let Some(timestamp) = first.or(last) else {
        return Err(err(
            ErrorKind::BadTimestamp,
            0,
            "a first-seen or last-seen time",
        ));
    };
    let mut e = Event::new(timestamp, Dataset::Netflow, Action::Flow);
    let icmp = matches!(proto, Some(Transport::Icmp | Transport::Icmpv6));
    e.source_ip = Some(src);
    e.destination_ip = Some(dst);
    e.source_port = sport.filter(|_| !icmp);
    e.destination_port = dport.filter(|_| !icmp);
    e.transport = proto;
    e.tcp_flags = flags
        .filter(|_| proto == Some(Transport::Tcp))
        .map(TcpFlags);
    let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    };
    e.bytes = add(ibyt, obyt);
    e.packets = add(ipkt, opkt);
    e.observer_ip = router;
    e.interface_in = input;
    e.interface_out = output;
    if let (Some(_), Some(end)) = (first, last) {
        e.set_end(end);
    }
    // nfdump 1.6 prints first and last seen to the second but the duration to the millisecond.
    if duration.is_some() {
        e.duration_ns = duration;
    }
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LineParser, SourceTz};

    fn ctx() -> ParseContext {
        let mut c = ParseContext::new(SourceTz::Named(chrono_tz::Europe::Berlin));
        c.now = "2015-07-01T00:00:00Z".parse().unwrap();
        c
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const HEADER_16: &str = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr";
    const LINE_16: &str = "2015-06-05 09:20:42,2015-06-05 09:20:43,1.020,192.168.1.5,198.51.100.7,51234,21,TCP,.AP.SF,0,0,12,1500,10,9000,2,3,0,0,24,0,0,0,192.168.1.1,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,10.0.0.254,0/0,1,2015-06-05 09:20:44.123";
    const HEADER_17: &str = "firstSeen,lastSeen,duration,srcAddr,dstAddr,srcPort,dstPort,proto,flags,fwdStatus,srcTos,inPackets,inBytes,outPackets,outBytes,input,output,srcAS,dstAS,srcMask,dstMask,dstTos,direction,nextIP,bgpNextIP,srcVlan,dstVlan,inSrcMac,outDstMac,inDstMac,outSrcMac,mplsLabel1,mplsLabel2,mplsLabel3,mplsLabel4,mplsLabel5,mplsLabel6,mplsLabel7,mplsLabel8,mplsLabel9,mplsLabel10,clientLatency,serverLatency,appLatency,routerIP,engine,exporterID,received";

    fn run(lines: &[&str]) -> Vec<Result<Option<Event>, ParseError>> {
        let mut p = LineParser::new(Format::NfdumpCsv, ctx());
        lines.iter().map(|l| p.parse(l.as_bytes())).collect()
    }

    #[test]
    fn v16_layout_with_summary() {
        let got = run(&[
            HEADER_16,
            LINE_16,
            "Summary",
            "flows,bytes,packets,avg_bps,avg_pps,avg_bpp",
            "1,10500,22,0,0,477",
        ]);
        assert_eq!(got[0], Ok(None));
        let e = got[1].clone().unwrap().unwrap();
        assert_eq!(e.timestamp, utc("2015-06-05T07:20:42Z")); // Berlin summer time
        assert_eq!((e.dataset, e.action), (Dataset::Netflow, Action::Flow));
        assert_eq!(e.source_ip, Some("192.168.1.5".parse().unwrap()));
        assert_eq!(e.destination_ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!((e.source_port, e.destination_port), (Some(51234), Some(21)));
        assert_eq!(e.transport, Some(Transport::Tcp));
        assert_eq!(e.tcp_flags, Some(TcpFlags(0x1b)));
        assert_eq!((e.bytes, e.packets), (Some(10500), Some(22)));
        assert_eq!(e.end, Some(utc("2015-06-05T07:20:43Z")));
        assert_eq!(e.duration_ns, Some(1_020_000_000)); // td, finer than te - ts
        assert_eq!(e.observer_ip, Some("10.0.0.254".parse().unwrap()));
        assert_eq!(
            (e.interface_in.as_deref(), e.interface_out.as_deref()),
            (Some("2"), Some("3"))
        );
        assert!(got[2..].iter().all(|r| *r == Ok(None)), "{:?}", &got[2..]);
    }

    #[test]
    fn v17_descriptive_layout_in_any_column_order() {
        let line = "2024-01-10 12:00:00.250,2024-01-10 12:00:01.000,0.750,2001:db8::5,2001:db8::7,0,8.0,ICMP6,........,0,0,1,104,0,0,0,0,0,0,0,0,0,0,::,::,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,0.0.0.0,0/0,0,2024-01-10 12:00:02.000";
        let got = run(&[
            HEADER_17,
            line,
            "proto,srcAddr,dstAddr,firstSeen,bytes",
            "UDP,10.0.0.1,10.0.0.2,1704888000.5,99",
        ]);
        let e = got[1].clone().unwrap().unwrap();
        assert_eq!(e.timestamp, utc("2024-01-10T11:00:00.250Z"));
        assert_eq!(e.end, Some(utc("2024-01-10T11:00:01Z")));
        assert_eq!(e.duration_ns, Some(750_000_000));
        assert_eq!(e.transport, Some(Transport::Icmpv6));
        assert_eq!(
            (e.source_port, e.destination_port, e.tcp_flags),
            (None, None, None)
        );
        assert_eq!(
            (e.bytes, e.packets, e.observer_ip),
            (Some(104), Some(1), None)
        );
        assert_eq!(got[2], Ok(None));
        let e = got[3].clone().unwrap().unwrap();
        assert_eq!(e.timestamp, utc("2024-01-10T12:00:00.500Z"));
        assert_eq!((e.end, e.duration_ns), (None, None)); // no lastSeen, no duration column
        assert_eq!(
            (e.transport, e.bytes, e.packets),
            (Some(Transport::Udp), Some(99), None)
        );
    }

    #[test]
    fn data_before_a_header_uses_the_16_layout() {
        let got = run(&[LINE_16]);
        assert_eq!(got[0].clone().unwrap().unwrap().destination_port, Some(21));
    }

    #[test]
    fn field_parsers() {
        assert_eq!(parse_flags(".AP.SF"), Some(0x1b));
        assert_eq!(parse_flags("CEUAPRSF"), Some(0xff));
        assert_eq!(parse_flags("0x12"), Some(0x12));
        assert_eq!(parse_flags("18"), Some(18));
        assert_eq!(parse_flags(".AX"), None);
        assert_eq!(parse_proto("gre"), Some(Transport::Other(47)));
        assert_eq!(parse_proto("47"), Some(Transport::Other(47)));
        assert_eq!(parse_proto("bogus"), None);
        assert_eq!(parse_millis("5"), Some(500));
        assert_eq!(parse_millis("123456"), Some(123));
        assert_eq!(parse_millis(""), None);
        assert_eq!(parse_duration_ns("0.750"), Some(750_000_000));
        assert_eq!(parse_duration_ns("86400"), Some(86_400_000_000_000));
        assert_eq!(parse_duration_ns("-1.0"), None);
        assert_eq!(parse_duration_ns("99999999999999999999"), None);
        assert_eq!(parse_time("0000-00-00 00:00:00.000", &ctx(), 0), Ok(None));
    }

    #[test]
    fn rejected_lines() {
        let long = format!("{LINE_16},{}", "9".repeat(100_000));
        let bad_time = LINE_16.replacen("2015-06-05 09:20:42", "2015-13-05 09:20:42", 1);
        let bad_addr = LINE_16.replacen("192.168.1.5", "192.168.1", 1);
        let bad_port = LINE_16.replacen("51234", "70000", 1);
        let bad_bytes = LINE_16.replacen(",1500,", ",15x0,", 1);
        let bad_proto = LINE_16.replacen("TCP", "T?P", 1);
        let bad_duration = LINE_16.replacen("1.020", "1.x20", 1);
        let cases: Vec<(&[u8], ErrorKind, usize)> = vec![
            (b"", ErrorKind::Syntax, 0),
            (b"garbage", ErrorKind::BadTimestamp, 0),
            (
                b"2015-06-05 09:20:42,2015-06-05 09:20:43",
                ErrorKind::Syntax,
                39,
            ),
            (b"\xff\xfe", ErrorKind::InvalidUtf8, 0),
            (bad_time.as_bytes(), ErrorKind::BadTimestamp, 0),
            (bad_addr.as_bytes(), ErrorKind::BadAddress, 46),
            (bad_port.as_bytes(), ErrorKind::BadNumber, 71),
            (bad_bytes.as_bytes(), ErrorKind::BadNumber, 98),
            (bad_proto.as_bytes(), ErrorKind::Syntax, 80),
            (bad_duration.as_bytes(), ErrorKind::BadNumber, 40),
            (long.as_bytes(), ErrorKind::TooLong, crate::MAX_LINE_LEN),
        ];
        for (line, kind, offset) in cases {
            let mut p = LineParser::new(Format::NfdumpCsv, ctx());
            let e = p.parse(line).unwrap_err();
            assert_eq!(
                (e.kind, e.offset, e.format),
                (kind, offset, Format::NfdumpCsv),
                "{:?}",
                String::from_utf8_lossy(&line[..line.len().min(80)])
            );
        }
    }

    /// Every `fixtures/nfdump-csv/*.csv` gives the events of its `.expected.jsonl` (one JSON
    /// event or `null` per line; zone UTC). `UPDATE_FIXTURES=1` rewrites the expected files.
    #[test]
    fn fixtures_match_expected_output() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/nfdump-csv");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        files.sort();
        assert!(files.len() >= 2);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut p = LineParser::new(Format::NfdumpCsv, ParseContext::new(SourceTz::Utc));
            let got: Vec<String> = text
                .lines()
                .map(|l| match p.parse(l.as_bytes()) {
                    Ok(e) => serde_json::to_string(&e).unwrap(),
                    Err(e) => panic!("{}: {e}: {l}", path.display()),
                })
                .collect();
            let expected_path = path.with_extension("expected.jsonl");
            if std::env::var_os("UPDATE_FIXTURES").is_some() {
                std::fs::write(&expected_path, got.join("\n") + "\n").unwrap();
            }
            let want = std::fs::read_to_string(&expected_path).unwrap();
            let want: Vec<&str> = want.lines().collect();
            assert_eq!(got, want, "{}", path.display());
        }
    }

    #[test]
    fn fixtures_are_detected_as_nfdump_csv() {
        for name in ["v16.csv", "v17.csv"] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/nfdump-csv/");
            let text = std::fs::read(format!("{path}{name}")).unwrap();
            let got = crate::detect_format(&text, &ctx());
            assert_eq!(got, Some(Format::NfdumpCsv), "{name}");
        }
    }

    #[test]
    fn other_formats_are_not_flows() {
        let lines = [
            "Sat Oct 11 01:06:47 2004 [pid 3520] [bob] FAIL LOGIN: Client \"192.0.2.7\"",
            "Jan  8 03:37:09 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=52 PROTO=TCP SPT=1 DPT=2",
            "5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,17,udp,76,192.0.2.1,198.51.100.2,53,53,56",
            "#Fields: date time action protocol src-ip dst-ip src-port dst-port size",
            "2019-01-08 03:37:09 DROP TCP 10.0.0.1 10.0.0.2 4000 21 52",
        ];
        for line in lines {
            let got = run(&[line]);
            assert!(!matches!(got[0], Ok(Some(_))), "{line}: {:?}", got[0]);
        }
    }
}
