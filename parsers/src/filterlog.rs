//! pfSense / OPNsense `filterlog`: pf's packet log as one CSV line per packet, relayed through
//! syslog (RFC 3164 with or without a host, or RFC 5424).
//!
//! CSV layout (Netgate "Raw Filter Log Format"; OPNsense `filterlog/description.txt`):
//! `rule,subrule,anchor,tracker,interface,reason,action,direction,ipversion,` then for IPv4
//! `tos,ecn,ttl,id,offset,flags,protoid,protoname,` and for IPv6
//! `class,flowlabel,hoplimit,protoname,protoid,` (the two protocol fields swap places), then
//! `length,src,dst,` and per protocol: TCP and UDP `srcport,dstport,datalen`, TCP then
//! `tcpflags,seq,ack,window,urg,options`; ICMP, CARP and others their own fields (not read).
//!
//! Mapping: `block` and `reject` → `firewall.deny` (failure), `pass` → `firewall.allow`
//! (success), any other action (`match`, `scrub`, `nat`, `rdr`, `binat`) → `firewall.log`.
//! `in` / `out` put the interface in `interface.in` / `interface.out`. `length` (the IP total
//! length) → `network.bytes`, one packet. TCP flag letters (`S`, `SA`, `FPA`; `E`, `W` for
//! ECE, CWR) → `tcp.flags`. `rule.name` is the rule number: the tracker or label identifies
//! the rule more stably but OPNsense's 32-character labels would cost an allocation per line.
//! Lines of other programs (dhcpd, unbound, ...) are `Ok(None)`.

use crate::event::{Action, Dataset, Event, Outcome, TcpFlags, Transport};
use crate::syslog::parse_syslog_header;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use compact_str::CompactString;
use std::net::IpAddr;

const FORMAT: Format = Format::Filterlog;

// 192.0.2.1   →   192.0.2.1 (without going through the general address parser)
/// Parses an IP address, taking the common dotted-quad form by hand (about three times faster
/// than `str::parse`) and anything else (IPv6) through `str::parse`. Shared by the firewall
/// parsers, whose lines hold two or more addresses each. Same answers as `str::parse`:
/// octets 0..=255 without leading zeros.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let b = s.as_bytes();
    // Without a `:` only a dotted quad is an address, and the loop below reads every one.
    let other = || {
        if memchr::memchr(b':', b).is_some() {
            s.parse().ok()
        } else {
            None
        }
    };
    let (mut octets, mut n, mut i) = ([0u8; 4], 0, 0);
    while n < 4 {
        let start = i;
        let mut v: u32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            v = v * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || v > 255 || (len > 1 && b[start] == b'0') {
            return other();
        }
        octets[n] = v as u8;
        n += 1;
        if n < 4 {
            if b.get(i) != Some(&b'.') {
                return other();
            }
            i += 1;
        }
    }
    if i != b.len() {
        return other();
    }
    Some(IpAddr::from(octets))
}

/// Fields read at most: the common 9, 8 (IPv4) or 5 (IPv6) IP fields, length, addresses,
/// and the TCP fields through the flags. Later fields are not looked at.
const MAX_FIELDS: usize = 24;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// The CSV fields of a message, each with its byte offset in the line.
struct Fields<'a> {
    items: [(&'a str, usize); MAX_FIELDS],
    len: usize,
    end: usize,
}

impl<'a> Fields<'a> {
    // 146,,,1535324496,igb1.12,match,block,in,4,…   →   ["146", "", "", "1535324496", …]
    fn split(csv: &'a str, base: usize) -> Fields<'a> {
        let mut f = Fields {
            items: [("", 0); MAX_FIELDS],
            len: 0,
            end: base + csv.len(),
        };
        let b = csv.as_bytes();
        let mut start = 0;
        for (i, &c) in b.iter().enumerate() {
            if c == b',' {
                f.items[f.len] = (&csv[start..i], base + start);
                f.len += 1;
                start = i + 1;
                if f.len == MAX_FIELDS {
                    return f;
                }
            }
        }
        f.items[f.len] = (&csv[start..], base + start);
        f.len += 1;
        f
    }

    /// Field `i`, or a syntax error naming it.
    fn get(&self, i: usize, expected: &'static str) -> Result<(&'a str, usize), ParseError> {
        if i < self.len {
            Ok(self.items[i])
        } else {
            Err(err(ErrorKind::Syntax, self.end, expected))
        }
    }
}

// S → SYN; SA → SYN|ACK; FPA → FIN|PSH|ACK
fn tcp_flags(s: &str) -> TcpFlags {
    let bits = s.bytes().fold(0, |bits, c| {
        bits | match c {
            b'F' => TcpFlags::FIN,
            b'S' => TcpFlags::SYN,
            b'R' => TcpFlags::RST,
            b'P' => TcpFlags::PSH,
            b'A' => TcpFlags::ACK,
            b'U' => TcpFlags::URG,
            b'E' => TcpFlags::ECE,
            b'W' => TcpFlags::CWR,
            _ => 0,
        }
    });
    TcpFlags(bits)
}

fn number<T: std::str::FromStr>(
    (s, at): (&str, usize),
    expected: &'static str,
) -> Result<T, ParseError> {
    s.parse()
        .map_err(|_| err(ErrorKind::BadNumber, at, expected))
}

fn address((s, at): (&str, usize)) -> Result<IpAddr, ParseError> {
    parse_ip(s).ok_or_else(|| err(ErrorKind::BadAddress, at, "an IP address"))
}

// 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,
//   49724,853,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale
// 6,,,1000000105,igb1.27,match,block,in,6,0x00,0xf6279,1,UDP,17,32,fe80::208:9bff:fef3:652b,
//   ff02::1:2,546,547,32
/// Fills `e` from one filterlog CSV message starting at byte `base` of the line (by
/// reference: an event passed and returned by value was copied twice more).
fn parse_csv(csv: &str, base: usize, e: &mut Event) -> Result<(), ParseError> {
    let f = Fields::split(csv, base);
    let (rule, _) = f.get(0, "the rule number")?;
    let (iface, _) = f.get(4, "the interface")?;
    let (action, _) = f.get(6, "the action")?;
    let (dir, _) = f.get(7, "the direction")?;
    let (ipver, ipver_at) = f.get(8, "the IP version")?;
    (e.action, e.outcome) = match action {
        "block" | "reject" => (Action::FirewallDeny, Outcome::Failure),
        "pass" => (Action::FirewallAllow, Outcome::Success),
        _ => (Action::FirewallLog, Outcome::Unknown),
    };
    let name = Some(iface)
        .filter(|i| !i.is_empty())
        .map(CompactString::from);
    match dir {
        "in" => e.interface_in = name,
        "out" => e.interface_out = name,
        _ => {}
    }
    e.rule_name = Some(rule)
        .filter(|r| !r.is_empty())
        .map(CompactString::from);
    // Index of the protocol id, and of the length (the addresses follow it).
    let (proto_i, len_i) = match ipver {
        "4" => (15, 17),
        "6" => (13, 14),
        _ => return Err(err(ErrorKind::Syntax, ipver_at, "IP version 4 or 6")),
    };
    let proto: u8 = number(f.get(proto_i, "the protocol number")?, "a protocol number")?;
    e.transport = Some(Transport::from_number(proto));
    e.bytes = Some(number(
        f.get(len_i, "the packet length")?,
        "a packet length",
    )?);
    e.packets = Some(1);
    e.source_ip = Some(address(f.get(len_i + 1, "the source address")?)?);
    e.destination_ip = Some(address(f.get(len_i + 2, "the destination address")?)?);
    if matches!(proto, 6 | 17) {
        let port = |i| -> Result<u16, ParseError> {
            number(f.get(i, "the ports")?, "a port number 0..65535")
        };
        e.source_port = Some(port(len_i + 3)?);
        e.destination_port = Some(port(len_i + 4)?);
    }
    if proto == 6 {
        e.tcp_flags = Some(tcp_flags(f.get(len_i + 6, "the TCP flags")?.0));
    }
    Ok(())
}

// <134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,
//   12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,49724,853,0,S,1891286705,,64240,,mss;sackOK
// <134>1 2022-06-09T14:44:11-06:00 OPNsense.example.com filterlog 76404 - [meta
//   sequenceId="1"] 124,,,fae559338f65e11c53669fc3642c93c2,ixl1_vlan70,match,pass,out,4,…
/// Parses one filterlog line. `Ok(None)` for another program's syslog line.
pub fn parse_filterlog_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    let header = parse_syslog_header(s, ctx).map_err(|e| e.in_format(FORMAT))?;
    if header.program != Some("filterlog") {
        return Ok(None);
    }
    let mut e = Event::new(header.timestamp, Dataset::Pf, Action::FirewallLog);
    e.host_name = header.host.map(CompactString::from);
    e.process_pid = header.pid;
    parse_csv(header.message.trim_end(), header.message_offset, &mut e)?;
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceTz;

    fn ctx() -> ParseContext {
        let mut c = ParseContext::new(SourceTz::Utc);
        c.now = "2022-07-05T00:00:00Z".parse().unwrap();
        c
    }

    fn parse(line: &str) -> Result<Option<Event>, ParseError> {
        parse_filterlog_line(line.as_bytes(), &ctx())
    }

    /// (line, action, "src:port > dst:port", transport, flags, bytes, (in, out), rule)
    type Case<'a> = (
        &'a str,
        Action,
        &'a str,
        Option<Transport>,
        Option<u8>,
        u64,
        (Option<&'a str>, Option<&'a str>),
        &'a str,
    );

    #[test]
    fn packet_lines() {
        use Action::*;
        let cases: &[Case] = &[
            ("<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,49724,853,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale",
             FirewallDeny, "10.170.12.50:49724 > 1.1.1.1:853", Some(Transport::Tcp), Some(TcpFlags::SYN), 60, (Some("igb1.12"), None), "146"),
            ("<134>Jul  3 19:10:30 filterlog[72237]: 176,,,1520797901,igb1.27,match,pass,in,4,0xb8,,64,58355,0,none,17,udp,76,10.170.27.27,216.229.4.66,123,123,56",
             FirewallAllow, "10.170.27.27:123 > 216.229.4.66:123", Some(Transport::Udp), None, 76, (Some("igb1.27"), None), "176"),
            ("<134>Jul  3 19:10:31 filterlog[72237]: 6,,,1000000105,igb1.27,match,block,in,6,0x00,0xf6279,1,UDP,17,32,fe80::208:9bff:fef3:652b,ff02::1:2,546,547,32",
             FirewallDeny, "fe80::208:9bff:fef3:652b:546 > ff02::1:2:547", Some(Transport::Udp), None, 32, (Some("igb1.27"), None), "6"),
            ("<134>Jul  3 19:10:33 filterlog[72237]: 199,,,1557957510,igb1.12,match,pass,in,4,0xc0,,1,0,0,DF,2,igmp,32,10.170.12.17,239.255.255.250,datalength=8",
             FirewallAllow, "10.170.12.17:- > 239.255.255.250:-", Some(Transport::Other(2)), None, 32, (Some("igb1.12"), None), "199"),
            ("<134>Jul  4 11:10:45 filterlog[72237]: 176,,,1520797901,igb1.10,match,pass,in,4,0x0,,64,62096,0,DF,1,icmp,84,10.100.10.30,142.250.114.105,request,37728,164",
             FirewallAllow, "10.100.10.30:- > 142.250.114.105:-", Some(Transport::Icmp), None, 84, (Some("igb1.10"), None), "176"),
            ("<134>1 2022-06-09T14:44:11-06:00 OPNsense.example.com filterlog 76404 - [meta sequenceId=\"1\"] 124,,,fae559338f65e11c53669fc3642c93c2,ixl1_vlan70,match,pass,out,4,0x0,,63,5687,0,DF,6,tcp,60,192.168.1.1,10.10.10.10,40370,80,0,S,3364871769,,65535,,mss;sackOK;TS;nop;wscale",
             FirewallAllow, "192.168.1.1:40370 > 10.10.10.10:80", Some(Transport::Tcp), Some(TcpFlags::SYN), 60, (None, Some("ixl1_vlan70")), "124"),
            ("Jul  3 19:10:30 fw filterlog: 5,,,1000000103,em0,match,reject,out,6,0x00,0x00000,64,TCP,6,40,2001:db8::1,2001:db8::2,443,51234,0,FPA,1,2,1024,,",
             FirewallDeny, "2001:db8::1:443 > 2001:db8::2:51234", Some(Transport::Tcp), Some(TcpFlags::FIN | TcpFlags::PSH | TcpFlags::ACK), 40, (None, Some("em0")), "5"),
            ("Jul  3 19:10:30 fw filterlog: 5,,,0,em0,match,match,in,4,0x0,,64,1,0,none,112,carp,56,10.0.0.2,224.0.0.18,advertise,1,2,3,4,5",
             FirewallLog, "10.0.0.2:- > 224.0.0.18:-", Some(Transport::Other(112)), None, 56, (Some("em0"), None), "5"),
        ];
        for c in cases {
            let e = parse(c.0)
                .unwrap_or_else(|err| panic!("{}: {err}", c.0))
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
                e.bytes.unwrap(),
                (e.interface_in.as_deref(), e.interface_out.as_deref()),
                e.rule_name.as_deref().unwrap(),
            );
            assert_eq!(&got, c);
            assert_eq!((e.dataset, e.packets), (Dataset::Pf, Some(1)));
        }
        let e = parse(cases[5].0).unwrap().unwrap();
        assert_eq!(
            e.timestamp,
            "2022-06-09T20:44:11Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        );
        assert_eq!(
            (e.host_name.as_deref(), e.process_pid),
            (Some("OPNsense.example.com"), Some(76404))
        );
        let e = parse(cases[0].0).unwrap().unwrap();
        assert_eq!(
            e.timestamp,
            "2022-07-03T19:10:30Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        );
        assert_eq!((e.host_name, e.process_pid), (None, Some(72237)));
    }

    #[test]
    fn fast_ip_parser_agrees_with_std() {
        let cases = [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1..2.3",
            "",
            "1.2.3.4 ",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "1.2.3.4/5",
            "1234.1.1.1",
            "a.b.c.d",
            "10.0.0.255",
        ];
        for s in cases {
            assert_eq!(parse_ip(s), s.parse().ok(), "{s:?}");
        }
    }

    #[test]
    fn other_programs_are_none() {
        let cases = [
            "<190>Dec 31 22:06:16 firewall.opnsense.net dhcpd[40152]: DHCPDISCOVER from 4c:55:41:a0:fa:99 via eth0.60",
            "<30>Dec 31 22:06:33 firewall.opnsense.net unbound[75499]: [26931:0] info: 192.168.1.1 api.opensubtitles.org. A IN",
            "Jan  8 03:37:09 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 PROTO=TCP SPT=1 DPT=2",
            "Mar 30 15:55:20 enigma pf: Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0: 1.2.3.4.5 > 6.7.8.9.22: S",
            "Apr 30 2013 09:23:40: %ASA-4-106023: Deny tcp src a:1.2.3.4/1 dst b:5.6.7.8/2 by access-group \"x\"",
        ];
        for line in cases {
            assert!(matches!(parse(line), Ok(None) | Err(_)), "{line}");
            assert!(!matches!(parse(line), Ok(Some(_))), "{line}");
        }
        assert_eq!(parse(cases[0]), Ok(None));
    }

    #[test]
    fn rejected_lines() {
        let h = "Jul  3 19:10:30 fw filterlog[1]: ";
        let long = format!("{h}{}", "1,".repeat(60_000));
        let cases: Vec<(String, ErrorKind, usize)> = vec![
            (String::new(), ErrorKind::Syntax, 0),
            ("garbage".into(), ErrorKind::BadTimestamp, 0),
            (format!("{h}146,,,1,em0,match,block"), ErrorKind::Syntax, 56),
            (format!("{h}1,,,1,em0,match,block,in,5,x"), ErrorKind::Syntax, 58),
            (format!("{h}1,,,1,em0,match,block,in,4,0x0,,63,1,0,DF,6,tcp,60,10.0.0.1,1.1.1"), ErrorKind::BadAddress, 93),
            (format!("{h}1,,,1,em0,match,block,in,4,0x0,,63,1,0,DF,6,tcp,60,10.0.0.1,1.1.1.1,70000,1"), ErrorKind::BadNumber, 101),
            (format!("{h}1,,,1,em0,match,block,in,4,0x0,,63,1,0,DF,x,tcp,60,10.0.0.1,1.1.1.1"), ErrorKind::BadNumber, 75),
            (format!("{h}1,,,1,em0,match,block,in,4,0x0,,63,1,0,DF,6,tcp,-1,10.0.0.1,1.1.1.1"), ErrorKind::BadNumber, 81),
            (format!("{h}1,,,1,em0,match,block,in,4,0x0,,63,1,0,DF,6,tcp,60,10.0.0.1,1.1.1.1,1,2"), ErrorKind::Syntax, 104),
        ];
        let mut bad = Vec::new();
        for (line, kind, offset) in &cases {
            match parse(line) {
                Err(e) if (e.kind, e.offset, e.format) == (*kind, *offset, FORMAT) => {}
                other => bad.push(format!("{line:?}: {other:?}")),
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
        let e = parse_filterlog_line(b"Jul  3 19:10:30 fw filterlog: 1,\xff", &ctx()).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::InvalidUtf8, 32));
        let mut lp = crate::LineParser::new(FORMAT, ctx());
        assert_eq!(
            lp.parse(long.as_bytes()).unwrap_err().kind,
            ErrorKind::TooLong
        );
    }
}
