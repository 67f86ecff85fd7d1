//! Unit tests of the pf parser.

use super::*;
use crate::event::{TcpFlags, Transport};
use std::net::IpAddr;

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
