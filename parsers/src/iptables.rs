//! netfilter LOG lines (iptables, nftables, UFW, OpenWrt, EdgeOS) as the kernel writes them to
//! syslog / kern.log.
//!
//! Shape: syslog header, `kernel:` tag (absent on EdgeOS lines), an optional uptime stamp
//! `[ 3529.289825]`, the user's log prefix (possibly glued to the fields:
//! `[WAN_OUT-2000-A]IN=`), then `KEY=VALUE` fields and bare flag words.
//!
//! Decisions: only lines whose program is `kernel` (or that have no program tag) are read, so
//! text another program logs cannot forge a firewall event; other programs' lines and kernel
//! lines without `IN=`/`SRC=`/`DST=` are `Ok(None)`. The first occurrence of a key wins, and the
//! bracketed inner packet of ICMP errors is skipped, so SRC/DST/LEN/ports are the outer
//! packet's. `rule.name` is the prefix trimmed of spaces, a trailing `:`, surrounding `[...]`
//! and a leading `iptables ` (`iptables DROP_INPUT:` → `DROP_INPUT`). The action comes from
//! the prefix: the EdgeOS convention first (`NAME-<n|default>-A` accept, `-D`/`-R` drop or
//! reject: the generated letter is the real action), then words, case-insensitive: DROP,
//! REJECT, BLOCK, DENY, DENIED → deny; ACCEPT, ALLOW, PASS → allow; otherwise `firewall.log`.

use crate::event::{Action, Dataset, Event, Outcome, TcpFlags, Transport};
use crate::syslog::parse_syslog_header;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use compact_str::CompactString;
use memchr::{memchr, memchr_iter};
use nom::character::complete::{char, digit1, space0};
use nom::combinator::recognize;
use nom::sequence::{delimited, pair, tuple};
use nom::IResult;
use std::net::IpAddr;

const FORMAT: Format = Format::Iptables;

/// Linux interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL), so the space after
/// `IN=<name>` is within 16 bytes; looking no further keeps a hostile line linear.
const IFNAMSIZ: usize = 16;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

// [ 3529.289825] [UFW BLOCK] IN=eth0 ...   →   rest "[UFW BLOCK] IN=eth0 ..."
/// The kernel's uptime stamp `[seconds.micros]` and the spaces after it.
fn parse_uptime(input: &str) -> IResult<&str, &str> {
    delimited(
        pair(char('['), space0),
        recognize(tuple((digit1, char('.'), digit1))),
        pair(char(']'), space0),
    )(input)
}

/// Where the fields start: the first `IN=` whose interface is followed by ` OUT=`. Whatever
/// precedes it is the log prefix, which the kernel glues on without a separator.
fn find_fields(msg: &str) -> Option<usize> {
    let b = msg.as_bytes();
    memchr_iter(b'=', b).find_map(|eq| {
        let start = eq.checked_sub(2)?;
        if b.get(start..eq)? != b"IN" {
            return None;
        }
        let after = b.get(eq + 1..)?;
        let name_window = after.get(..IFNAMSIZ).unwrap_or(after);
        let space = memchr(b' ', name_window)?;
        after
            .get(space + 1..)?
            .starts_with(b"OUT=")
            .then_some(start)
    })
}

/// The fields of a LOG line that an event keeps.
#[derive(Debug, Default)]
struct Fields<'a> {
    interface_in: Option<&'a str>,
    interface_out: Option<&'a str>,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    len: Option<u64>,
    proto: Option<Option<Transport>>,
    spt: Option<u16>,
    dpt: Option<u16>,
    flags: u8,
}

/// A `PROTO=` value: a name netfilter prints (`TCP`, `ICMPv6`, `SCTP`) or a number.
fn transport_of(name: &str) -> Option<Transport> {
    Transport::from_name(name).or_else(|| {
        let n = match name {
            "UDPLITE" => 136,
            "SCTP" => 132,
            "AH" => 51,
            "ESP" => 50,
            "GRE" => 47,
            "IGMP" => 2,
            _ => return None,
        };
        Some(Transport::from_number(n))
    })
}

// SPT=17805   →   17805 (the value only; `offset` is where it starts in the line)
fn parse_port(value: &str, offset: usize) -> Result<u16, ParseError> {
    value
        .parse()
        .map_err(|_| err(ErrorKind::BadNumber, offset, "a port number 0..65535"))
}

// SRC=203.0.113.36   →   203.0.113.36
fn parse_addr(value: &str, offset: usize) -> Result<IpAddr, ParseError> {
    value
        .parse()
        .map_err(|_| err(ErrorKind::BadAddress, offset, "an IP address"))
}

// IN=eth0 OUT= MAC=90:10:...:08:00 SRC=203.0.113.36 DST=172.16.54.114 LEN=52 TOS=0x00
//   PREC=0x00 TTL=115 ID=15743 DF PROTO=TCP SPT=17805 DPT=445 WINDOW=8192 RES=0x00 SYN URGP=0
/// Reads the `KEY=VALUE` fields and flag words from `pos` to the end of the line.
fn parse_fields(s: &str, pos: usize) -> Result<Fields<'_>, ParseError> {
    let b = s.as_bytes();
    let mut f = Fields::default();
    let mut depth = 0usize; // inside `[...]`: the inner packet of an ICMP error
    let mut i = pos;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let end = memchr(b' ', &b[i..]).map_or(b.len(), |n| i + n);
        let tok = &s[i..end];
        let at = i;
        i = end;
        if depth > 0 || tok.starts_with('[') {
            let opens = memchr_iter(b'[', tok.as_bytes()).count();
            let closes = memchr_iter(b']', tok.as_bytes()).count();
            depth = (depth + opens).saturating_sub(closes);
            continue;
        }
        let Some((key, value)) = tok.split_once('=') else {
            if let Some(bit) = TcpFlags::bit_for_name(tok) {
                f.flags |= bit;
            }
            continue;
        };
        let vat = at + key.len() + 1;
        match key {
            "IN" if f.interface_in.is_none() => f.interface_in = Some(value),
            "OUT" if f.interface_out.is_none() => f.interface_out = Some(value),
            "SRC" if f.src.is_none() => f.src = Some(parse_addr(value, vat)?),
            "DST" if f.dst.is_none() => f.dst = Some(parse_addr(value, vat)?),
            "LEN" if f.len.is_none() => {
                let n = value
                    .parse()
                    .map_err(|_| err(ErrorKind::BadNumber, vat, "a packet length"))?;
                f.len = Some(n);
            }
            "PROTO" if f.proto.is_none() => f.proto = Some(transport_of(value)),
            "SPT" if f.spt.is_none() => f.spt = Some(parse_port(value, vat)?),
            "DPT" if f.dpt.is_none() => f.dpt = Some(parse_port(value, vat)?),
            _ => {}
        }
    }
    Ok(f)
}

/// The rule name a log prefix stands for (see the module notes); `None` for an empty prefix.
fn rule_name(prefix: &str) -> Option<&str> {
    let mut p = prefix.trim();
    p = p.strip_suffix(':').unwrap_or(p).trim_end();
    if let Some(inner) = p.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        p = inner.trim();
    }
    if p.get(..9)
        .is_some_and(|w| w.eq_ignore_ascii_case("iptables "))
    {
        p = p[9..].trim_start();
    }
    Some(p).filter(|p| !p.is_empty())
}

fn contains_word(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Action and outcome a rule name implies (see the module notes).
fn classify(rule: Option<&str>) -> (Action, Outcome) {
    const DENY: (Action, Outcome) = (Action::FirewallDeny, Outcome::Failure);
    const ALLOW: (Action, Outcome) = (Action::FirewallAllow, Outcome::Success);
    let Some(rule) = rule else {
        return (Action::FirewallLog, Outcome::Unknown);
    };
    match rule.rsplit_once('-') {
        Some((_, "A")) => return ALLOW,
        Some((_, "D" | "R")) => return DENY,
        _ => {}
    }
    if ["DROP", "REJECT", "BLOCK", "DENY", "DENIED"]
        .iter()
        .any(|w| contains_word(rule, w))
    {
        DENY
    } else if ["ACCEPT", "ALLOW", "PASS"]
        .iter()
        .any(|w| contains_word(rule, w))
    {
        ALLOW
    } else {
        (Action::FirewallLog, Outcome::Unknown)
    }
}

// Jan  8 03:37:09 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=... SRC=203.0.113.36
//   DST=172.16.54.114 LEN=52 ... PROTO=TCP SPT=17805 DPT=445 WINDOW=8192 RES=0x00 SYN URGP=0
// Jan  5 20:17:01 MainFirewall kernel: [WAN_OUT-2000-A]IN=eth0 OUT=eth2 MAC=... SRC=...
// Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MAC=... SRC=10.251.1.1 ...
/// Parses one netfilter LOG line. `Ok(None)` for a well-formed syslog line that is not a
/// packet log (another program, another kernel message).
pub fn parse_iptables_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    let header = parse_syslog_header(s, ctx).map_err(|e| e.in_format(FORMAT))?;
    if !matches!(header.program, None | Some("kernel")) {
        return Ok(None);
    }
    let msg = match parse_uptime(header.message) {
        Ok((rest, _)) => rest,
        Err(_) => header.message,
    };
    let Some(fields_at) = find_fields(msg) else {
        return Ok(None);
    };
    let msg_pos = s.len() - msg.len();
    let f = parse_fields(s, msg_pos + fields_at)?;
    let (Some(src), Some(dst)) = (f.src, f.dst) else {
        return Ok(None);
    };
    let rule = rule_name(&msg[..fields_at]);
    let (action, outcome) = classify(rule);
    let mut e = Event::new(header.timestamp, Dataset::Iptables, action);
    e.outcome = outcome;
    e.source_ip = Some(src);
    e.destination_ip = Some(dst);
    e.source_port = f.spt;
    e.destination_port = f.dpt;
    e.transport = f.proto.flatten();
    e.tcp_flags = (e.transport == Some(Transport::Tcp)).then_some(TcpFlags(f.flags));
    e.bytes = f.len;
    e.packets = Some(1);
    let name = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(CompactString::from);
    e.interface_in = name(f.interface_in);
    e.interface_out = name(f.interface_out);
    e.rule_name = rule.map(CompactString::from);
    e.host_name = header.host.map(CompactString::from);
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceTz;

    fn ctx() -> ParseContext {
        let mut c = ParseContext::new(SourceTz::Utc);
        c.now = "2019-06-01T00:00:00Z".parse().unwrap();
        c
    }

    fn parse(line: &str) -> Result<Option<Event>, ParseError> {
        parse_iptables_line(line.as_bytes(), &ctx())
    }

    /// (line, action, rule, (src, spt, dst, dpt), (transport, flags, len), (in, out, host))
    type Case<'a> = (
        &'a str,
        Action,
        Option<&'a str>,
        (&'a str, Option<u16>, &'a str, Option<u16>),
        (Option<Transport>, Option<u8>, Option<u64>),
        (Option<&'a str>, Option<&'a str>, Option<&'a str>),
    );

    #[test]
    fn packet_lines() {
        use Action::*;
        let tcp = Some(Transport::Tcp);
        let udp = Some(Transport::Udp);
        let cases: &[Case] = &[
            ("Jan  8 03:37:09 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=203.0.113.36 DST=172.16.54.114 LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID=15743 DF PROTO=TCP SPT=17805 DPT=445 WINDOW=8192 RES=0x00 SYN URGP=0 ",
             FirewallDeny, Some("DROP_INPUT"), ("203.0.113.36", Some(17805), "172.16.54.114", Some(445)), (tcp, Some(TcpFlags::SYN), Some(52)), (Some("eth0"), None, Some("example-host"))),
            ("Jan  5 20:17:01 MainFirewall kernel: [WAN_OUT-2000-A]IN=eth0 OUT=eth2 MAC=90 SRC=192.168.134.158 DST=192.0.2.25 LEN=265 TOS=0x00 PREC=0x00 TTL=63 ID=51768 DF PROTO=TCP SPT=43189 DPT=443 WINDOW=159 RES=0x00 ACK PSH URGP=0 ",
             FirewallAllow, Some("WAN_OUT-2000-A"), ("192.168.134.158", Some(43189), "192.0.2.25", Some(443)), (tcp, Some(TcpFlags::ACK | TcpFlags::PSH), Some(265)), (Some("eth0"), Some("eth2"), Some("MainFirewall"))),
            ("Jan  5 20:17:01 MainFirewall kernel: [source-dest-default-D]IN=eth0 OUT=eth2 SRC=192.168.110.116 DST=192.0.2.25 LEN=52 PROTO=TCP SPT=50093 DPT=1443 ACK URGP=0",
             FirewallDeny, Some("source-dest-default-D"), ("192.168.110.116", Some(50093), "192.0.2.25", Some(1443)), (tcp, Some(TcpFlags::ACK), Some(52)), (Some("eth0"), Some("eth2"), Some("MainFirewall"))),
            ("Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MAC=0a SRC=10.251.1.1 DST=10.251.1.2 LEN=32 TOS=00 PREC=0x00 TTL=63 ID=12345 PROTO=UDP SPT=9000 DPT=9001 LEN=12 MARK=0",
             FirewallAllow, Some("SOMETHING-1234-A"), ("10.251.1.1", Some(9000), "10.251.1.2", Some(9001)), (udp, None, Some(32)), (Some("abc.123"), Some("abc.123"), Some("Abc-A1"))),
            ("Jun 28 04:30:32 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 SRC=10.251.1.1 DST=10.251.1.1 LEN=84 TTL=63 ID=6789 PROTO=ICMP TYPE=8 CODE=0 ID=98765 SEQ=30123 MARK=0",
             FirewallAllow, Some("SOMETHING-1234-A"), ("10.251.1.1", None, "10.251.1.1", None), (Some(Transport::Icmp), None, Some(84)), (Some("abc.123"), Some("abc.123"), Some("Abc-A1"))),
            ("Nov 18 13:39:49 OpenWRT kernel: [10051.313745] DROP(src wan)IN=eth0 OUT= SRC=205.205.205.205 DST=192.168.8.100 LEN=44 PROTO=TCP SPT=40952 DPT=23 WINDOW=64144 RES=0x00 SYN URGP=0 MARK=0xff00",
             FirewallDeny, Some("DROP(src wan)"), ("205.205.205.205", Some(40952), "192.168.8.100", Some(23)), (tcp, Some(TcpFlags::SYN), Some(44)), (Some("eth0"), None, Some("OpenWRT"))),
            ("Feb  4 23:33:37 hostname kernel: [ 3529.289825] [UFW BLOCK] IN=eth0 OUT= SRC=254.253.252.251 DST=191.192.193.194 LEN=52 PROTO=TCP SPT=17833 DPT=22 WINDOW=8192 RES=0x00 CWR ECE SYN URGP=0",
             FirewallDeny, Some("UFW BLOCK"), ("254.253.252.251", Some(17833), "191.192.193.194", Some(22)), (tcp, Some(TcpFlags::CWR | TcpFlags::ECE | TcpFlags::SYN), Some(52)), (Some("eth0"), None, Some("hostname"))),
            ("Aug 17 10:03:37 myhostname kernel: [4475569.016000] IN= OUT=lo SRC=192.168.2.11 DST=192.168.2.11 LEN=52 PROTO=TCP SPT=43068 DPT=22 WINDOW=8192 RES=0x00 URGP=0",
             FirewallLog, None, ("192.168.2.11", Some(43068), "192.168.2.11", Some(22)), (tcp, Some(0), Some(52)), (None, Some("lo"), Some("myhostname"))),
            ("Sep 20 15:52:00 managerHost kernel: [ 2870.303541] [UFW AUDIT] IN= OUT=ppp0 SRC=117.197.243.67 DST=218.248.255.163 LEN=62 PROTO=UDP SPT=57548 DPT=53 LEN=42",
             FirewallLog, Some("UFW AUDIT"), ("117.197.243.67", Some(57548), "218.248.255.163", Some(53)), (udp, None, Some(62)), (None, Some("ppp0"), Some("managerHost"))),
            ("Feb  4 23:33:37 h kernel: [UFW ALLOW] IN=eth0 OUT= SRC=2001:db8::1 DST=2001:db8::2 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=TCP SPT=1 DPT=2 WINDOW=1 RES=0x00 FIN URGP=0",
             FirewallAllow, Some("UFW ALLOW"), ("2001:db8::1", Some(1), "2001:db8::2", Some(2)), (tcp, Some(TcpFlags::FIN), Some(80)), (Some("eth0"), None, Some("h"))),
            // ICMP error: the inner packet in brackets must not override the outer fields.
            ("Feb  4 23:33:37 h kernel: REJECT IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=56 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.2 DST=10.0.0.1 LEN=28 PROTO=UDP SPT=53 DPT=999 LEN=8 ] MTU=1500",
             FirewallDeny, Some("REJECT"), ("10.0.0.1", None, "10.0.0.2", None), (Some(Transport::Icmp), None, Some(56)), (Some("eth0"), None, Some("h"))),
            ("2019-01-08T03:37:09Z fw kernel: PASS-IN IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=40 PROTO=47",
             FirewallAllow, Some("PASS-IN"), ("10.0.0.1", None, "10.0.0.2", None), (Some(Transport::Other(47)), None, Some(40)), (Some("eth0"), None, Some("fw"))),
        ];
        for c in cases {
            let e = parse(c.0)
                .unwrap_or_else(|err| panic!("{}: {err:?}", c.0))
                .expect(c.0);
            let (src, dst) = (
                e.source_ip.unwrap().to_string(),
                e.destination_ip.unwrap().to_string(),
            );
            let got: Case = (
                c.0,
                e.action,
                e.rule_name.as_deref(),
                (&src, e.source_port, &dst, e.destination_port),
                (e.transport, e.tcp_flags.map(|f| f.0), e.bytes),
                (
                    e.interface_in.as_deref(),
                    e.interface_out.as_deref(),
                    e.host_name.as_deref(),
                ),
            );
            assert_eq!(&got, c, "{}", c.0);
            assert_eq!(e.packets, Some(1));
            assert_eq!(e.dataset, Dataset::Iptables);
            let want_outcome = match e.action {
                FirewallDeny => Outcome::Failure,
                FirewallAllow => Outcome::Success,
                _ => Outcome::Unknown,
            };
            assert_eq!(e.outcome, want_outcome, "{}", c.0);
        }
    }

    #[test]
    fn timestamp_uses_year_rule_and_zone() {
        let line = "Jan  8 03:37:09 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=1";
        let e = parse(line).unwrap().unwrap();
        assert_eq!(
            e.timestamp,
            "2019-01-08T03:37:09Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        );
    }

    #[test]
    fn lines_without_a_packet_are_none() {
        let cases = [
            "Jan  8 03:37:09 h kernel: [ 12.5] usb 1-1: new high-speed USB device",
            "Jan  8 03:37:09 h kernel: eth0: link up IN=",
            "Jan  8 03:37:09 h kernel: IN=eth0 OUT= ARP HTYPE=1 PTYPE=0x0800 OPCODE=1",
            "Jan  8 03:37:09 h sshd[1]: Invalid user IN=x OUT= SRC=1.2.3.4 DST=5.6.7.8",
            "Jan  8 03:37:09 h kernel:",
        ];
        for line in cases {
            assert_eq!(parse(line), Ok(None), "{line}");
        }
    }

    #[test]
    fn rejected_lines() {
        let long = format!("Jan  8 03:37:09 h kernel: {}", "x".repeat(100_000));
        let cases: Vec<(&[u8], ErrorKind, usize)> = vec![
            (b"", ErrorKind::Syntax, 0),
            (b"\r", ErrorKind::Syntax, 0),
            (b"garbage garbage", ErrorKind::BadTimestamp, 0),
            (b"Jan  8 03:37", ErrorKind::BadTimestamp, 0),
            (b"Jan  8 03:37:09", ErrorKind::Syntax, 15),
            (
                b"Jan  8 03:37:09 h kernel: D IN=e OUT= SRC=1.2.3 DST=5.6.7.8",
                ErrorKind::BadAddress,
                42,
            ),
            (
                b"Jan  8 03:37:09 h kernel: D IN=e OUT= SRC=1.2.3.4 DST=5.6.7.8 SPT=70000",
                ErrorKind::BadNumber,
                66,
            ),
            (
                b"Jan  8 03:37:09 h kernel: D IN=e OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=x",
                ErrorKind::BadNumber,
                66,
            ),
            (
                b"Jan  8 03:37:09 h kernel: D IN=\xff OUT=",
                ErrorKind::InvalidUtf8,
                31,
            ),
            (long.as_bytes(), ErrorKind::TooLong, crate::MAX_LINE_LEN),
        ];
        for (line, kind, offset) in cases {
            let e = parse_iptables_line(line, &ctx()).unwrap_err();
            assert_eq!(
                (e.kind, e.offset, e.format),
                (kind, offset, Format::Iptables),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn hostile_lines_stay_linear() {
        let head = "Jan  8 03:37:09 h kernel: ";
        let glued = format!("{head}{}", "IN=".repeat(5000));
        assert_eq!(parse(&glued), Ok(None));
        let brackets = format!(
            "{head}IN=e OUT= SRC=1.2.3.4 DST=5.6.7.8 {}",
            "[ ".repeat(7000)
        );
        assert!(parse(&brackets).unwrap().is_some());
    }

    #[test]
    fn rule_names_and_actions() {
        let cases: &[(&str, Option<&str>, Action)] = &[
            (
                "iptables DROP_INPUT: ",
                Some("DROP_INPUT"),
                Action::FirewallDeny,
            ),
            ("[UFW BLOCK] ", Some("UFW BLOCK"), Action::FirewallDeny),
            (
                "[WAN_OUT-2000-A]",
                Some("WAN_OUT-2000-A"),
                Action::FirewallAllow,
            ),
            ("[WAN_IN-10-R]", Some("WAN_IN-10-R"), Action::FirewallDeny),
            (
                "[BLOCKLIST-10-A]",
                Some("BLOCKLIST-10-A"),
                Action::FirewallAllow,
            ),
            ("DROP(src wan)", Some("DROP(src wan)"), Action::FirewallDeny),
            (
                "SFW2-INext-DROP-DEFLT ",
                Some("SFW2-INext-DROP-DEFLT"),
                Action::FirewallDeny,
            ),
            ("FIREWALL_OUT ", Some("FIREWALL_OUT"), Action::FirewallLog),
            ("IPTABLE ", Some("IPTABLE"), Action::FirewallLog),
            ("nft accept: ", Some("nft accept"), Action::FirewallAllow),
            (
                "Denied-by-filter:",
                Some("Denied-by-filter"),
                Action::FirewallDeny,
            ),
            ("  ", None, Action::FirewallLog),
            ("[]", None, Action::FirewallLog),
            ("iptables é", Some("é"), Action::FirewallLog),
            ("ipt€bles", Some("ipt€bles"), Action::FirewallLog),
        ];
        for (prefix, want_rule, want_action) in cases {
            let rule = rule_name(prefix);
            assert_eq!(
                (rule, classify(rule).0),
                (*want_rule, *want_action),
                "{prefix:?}"
            );
        }
    }
}
