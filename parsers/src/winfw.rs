//! Windows Firewall log (`pfirewall.log`), a W3C-style file ([`crate::w3c`]).
//!
//! Header: `#Version: 1.5`, `#Software: Microsoft Windows Firewall`, `#Time Format: Local`,
//! `#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn
//! tcpack tcpwin icmptype icmpcode info path` (Windows 10 and later add `pid`). Directives are
//! `Ok(None)`; `#Fields:` sets the layout (it must name date, time, action, src-ip and dst-ip,
//! or the directive and the lines after it are rejected) and `#Time Format:` says how to read
//! times: `Local` (and no directive) → `ctx.timezone`, `UTC` → UTC. Before any `#Fields:` the
//! default list above is used (with `pid` when a line has one more column). A data line must
//! have exactly the layout's columns: the corpus line that holds two records glued together
//! is rejected (`Syntax`, at its first extra column).
//!
//! Actions: `DROP` → `firewall.deny` (failure); `ALLOW` → `firewall.allow` (success); `OPEN`
//! and `OPEN-INBOUND` (a connection the firewall let through, logged when "log successful
//! connections" is on) → `connection.open` (success); `CLOSE` → `connection.close` (success);
//! `INFO-EVENTS-LOST` (a count of dropped log entries, no packet) → `Ok(None)`; any other
//! action word → `firewall.log` (unknown), or `Ok(None)` when the line names no address.
//! `protocol` → transport, `size` → `network.bytes` (with `network.packets` = 1 for the
//! per-packet DROP/ALLOW records), `tcpflags` letters (`S A F R P U`, plus `E C`) → TCP flags,
//! `pid` → `process.pid`, `ctx.host` → `observer.ip`. `path` (SEND, RECEIVE, FORWARD) and the
//! ICMP and sequence columns have no event field.

use crate::event::{Action, Dataset, Event, Outcome, TcpFlags, Transport};
use crate::w3c::{self, Columns, Layout};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use std::net::IpAddr;

const FORMAT: Format = Format::WindowsFirewall;

/// Field ids of the columns events use.
mod f {
    pub const DATE: usize = 0;
    pub const TIME: usize = 1;
    pub const ACTION: usize = 2;
    pub const PROTOCOL: usize = 3;
    pub const SRC_IP: usize = 4;
    pub const DST_IP: usize = 5;
    pub const SRC_PORT: usize = 6;
    pub const DST_PORT: usize = 7;
    pub const SIZE: usize = 8;
    pub const TCPFLAGS: usize = 9;
    pub const PID: usize = 10;
    /// How many there are.
    pub const K: usize = 11;
    /// Their names, by id.
    pub const NAMES: [&str; K] = [
        "date", "time", "action", "protocol", "src-ip", "dst-ip", "src-port", "dst-port", "size",
        "tcpflags", "pid",
    ];
    /// The fields a layout must have.
    pub const REQUIRED: [usize; 5] = [DATE, TIME, ACTION, SRC_IP, DST_IP];
}

fn lookup(name: &str) -> Option<usize> {
    f::NAMES.iter().position(|n| n.eq_ignore_ascii_case(name))
}

/// The default `#Fields:` of `pfirewall.log` (Windows XP SP2 to 8.1).
const DEFAULT: &str = "date time action protocol src-ip dst-ip src-port dst-port size tcpflags \
                       tcpsyn tcpack tcpwin icmptype icmpcode info path";
/// The Windows 10+ default: the same plus the process id.
const DEFAULT_PID: &str = "date time action protocol src-ip dst-ip src-port dst-port size \
                           tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid";

type FwLayout = Layout<{ f::K }>;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// Which layout data lines follow.
#[derive(Debug, Default, Clone, Copy)]
enum Fields {
    /// No `#Fields:` yet: the default list.
    #[default]
    Default,
    /// The last `#Fields:` directive.
    Given(FwLayout),
    /// The last `#Fields:` lacked a required field: data lines are rejected until the next.
    Unusable,
}

/// What this format remembers between lines of one source: the layout and the time format.
#[derive(Debug, Default)]
pub struct State {
    fields: Fields,
    utc: bool,
}

/// Reads a directive into the state.
fn directive(d: w3c::Directive<'_>, state: &mut State) -> Result<(), ParseError> {
    if d.name.eq_ignore_ascii_case("Fields") {
        state.fields = Fields::Unusable;
        let layout: FwLayout = Layout::parse(d.value, lookup)
            .map_err(|e| err(ErrorKind::Syntax, d.value_offset + e.offset, e.expected))?;
        if !f::REQUIRED.iter().all(|&id| layout.has(id)) {
            return Err(err(
                ErrorKind::Syntax,
                d.value_offset,
                "#Fields naming date, time, action, src-ip and dst-ip",
            ));
        }
        state.fields = Fields::Given(layout);
    } else if d.name.eq_ignore_ascii_case("Time Format") {
        state.utc = d.value.eq_ignore_ascii_case("UTC");
    }
    Ok(())
}

/// `S`, `A`, `F`, `R`, `P`, `U`, `E`, `C` letters as flags; `None` for another character.
fn tcp_flags(s: &str) -> Option<TcpFlags> {
    let mut bits = 0;
    for c in s.bytes() {
        bits |= match c.to_ascii_uppercase() {
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
    }
    Some(TcpFlags(bits))
}

/// A numeric column (`None` when empty).
fn number<T: std::str::FromStr>(
    value: Option<&str>,
    at: usize,
    what: &'static str,
) -> Result<Option<T>, ParseError> {
    value
        .map(str::parse::<T>)
        .transpose()
        .map_err(|_| err(ErrorKind::BadNumber, at, what))
}

/// Action and outcome of an action word; `None` for one that reports no packet.
fn classify(action: &str) -> Option<(Action, Outcome)> {
    Some(match action {
        "DROP" => (Action::FirewallDeny, Outcome::Failure),
        "ALLOW" => (Action::FirewallAllow, Outcome::Success),
        "OPEN" | "OPEN-INBOUND" => (Action::ConnectionOpen, Outcome::Success),
        "CLOSE" => (Action::ConnectionClose, Outcome::Success),
        "INFO-EVENTS-LOST" => return None,
        _ => (Action::FirewallLog, Outcome::Unknown),
    })
}

// 2005-04-11 08:06:26 DROP TCP 123.45.78.90 123.156.78.90 80 1774 576 A 123456789 987654321 12345 - - - RECEIVE
// #Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn ...
/// Parses one `pfirewall.log` line (data or directive); see the module notes.
pub fn parse_winfw_line(
    line: &[u8],
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    if let Some(d) = w3c::parse_directive(s) {
        directive(d, state)?;
        return Ok(None);
    }
    let cols = Columns::split(s).map_err(|at| err(ErrorKind::Syntax, at, "at most 48 columns"))?;
    let layout: FwLayout = match state.fields {
        Fields::Given(l) => l,
        Fields::Default => Layout::from_default(
            if cols.len() == 18 {
                DEFAULT_PID
            } else {
                DEFAULT
            },
            lookup,
        ),
        Fields::Unusable => {
            return Err(err(
                ErrorKind::Syntax,
                0,
                "a usable #Fields directive before the data",
            ))
        }
    };
    if cols.len() != layout.columns() {
        let at = cols.offset(cols.len().min(layout.columns()));
        return Err(err(
            ErrorKind::Syntax,
            at,
            "as many columns as the #Fields directive names",
        ));
    }
    let col = |id: usize| layout.column(id).unwrap_or(usize::MAX);
    let value = |id: usize| cols.value(col(id));
    let at = |id: usize| cols.offset(col(id));

    let action = value(f::ACTION).unwrap_or("");
    if action.is_empty() || !action.bytes().all(|c| c.is_ascii_uppercase() || c == b'-') {
        return Err(err(
            ErrorKind::Syntax,
            at(f::ACTION),
            "an action (DROP, ALLOW, OPEN, CLOSE, ...)",
        ));
    }
    let date = value(f::DATE).and_then(w3c::parse_date);
    let time = value(f::TIME).and_then(w3c::parse_time);
    let (Some(date), Some(time)) = (date, time) else {
        return Err(err(
            ErrorKind::BadTimestamp,
            0,
            "a date and time like `2005-04-11 08:05:57`",
        ));
    };
    let ip = |id: usize| -> Result<Option<IpAddr>, ParseError> {
        match value(id) {
            None => Ok(None),
            Some(v) => w3c::parse_ip(v)
                .map(Some)
                .ok_or_else(|| err(ErrorKind::BadAddress, at(id), "an IP address")),
        }
    };
    let (src, dst) = (ip(f::SRC_IP)?, ip(f::DST_IP)?);
    let (src_port, dst_port) = (
        number::<u16>(
            value(f::SRC_PORT),
            at(f::SRC_PORT),
            "a port number 0..65535",
        )?,
        number::<u16>(
            value(f::DST_PORT),
            at(f::DST_PORT),
            "a port number 0..65535",
        )?,
    );
    let size = number::<u64>(value(f::SIZE), at(f::SIZE), "a packet size")?;
    let pid = number::<u32>(value(f::PID), at(f::PID), "a process id")?;
    let flags = match value(f::TCPFLAGS) {
        Some(v) => Some(tcp_flags(v).ok_or_else(|| {
            err(
                ErrorKind::Syntax,
                at(f::TCPFLAGS),
                "TCP flag letters (S A F R P U)",
            )
        })?),
        None => None,
    };
    let Some((act, outcome)) = classify(action) else {
        return Ok(None);
    };
    if src.is_none() && dst.is_none() {
        return Ok(None);
    }
    let naive = date.and_time(time);
    let timestamp = if state.utc {
        naive.and_utc()
    } else {
        ctx.timezone.to_utc(naive)
    };
    let mut e = Event::new(timestamp, Dataset::WindowsFirewall, act);
    e.outcome = outcome;
    e.source_ip = src;
    e.destination_ip = dst;
    e.source_port = src_port;
    e.destination_port = dst_port;
    e.transport = value(f::PROTOCOL).and_then(Transport::from_name);
    e.bytes = size;
    e.packets = matches!(act, Action::FirewallDeny | Action::FirewallAllow).then_some(1);
    e.tcp_flags = flags.filter(|_| e.transport == Some(Transport::Tcp));
    e.process_pid = pid;
    e.observer_ip = ctx.host;
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LineParser, SourceTz};
    use chrono::{DateTime, Utc};

    fn ctx() -> ParseContext {
        let mut c = ParseContext::new(SourceTz::Named(chrono_tz::Europe::Berlin));
        c.now = "2024-06-30T00:00:00Z".parse().unwrap();
        c.host = Some("192.0.2.10".parse().unwrap());
        c
    }

    fn run(lines: &[&str]) -> Vec<Result<Option<Event>, ParseError>> {
        let mut state = State::default();
        lines
            .iter()
            .map(|l| parse_winfw_line(l.as_bytes(), &ctx(), &mut state))
            .collect()
    }

    const HEADER: [&str; 4] = [
        "#Version: 1.5",
        "#Software: Microsoft Windows Firewall",
        "#Time Format: Local",
        "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid",
    ];

    /// (action, outcome, time, src, dst, ports, transport, bytes, packets, flags, pid)
    type Want<'a> = (
        Action,
        Outcome,
        &'a str,
        &'a str,
        &'a str,
        (Option<u16>, Option<u16>),
        Option<Transport>,
        Option<u64>,
        Option<u64>,
        Option<u8>,
        Option<u32>,
    );

    #[test]
    fn records() {
        use Action::*;
        use Outcome::*;
        let t = "2024-01-15T07:00:00Z"; // 08:00 in Berlin (CET)
        let tcp = Some(Transport::Tcp);
        let cases: &[(&str, Want)] = &[
            ("2024-01-15 08:00:00 DROP TCP 203.0.113.9 192.0.2.10 51000 2121 52 S 1234 0 64240 - - - RECEIVE 4",
             (FirewallDeny, Failure, t, "203.0.113.9", "192.0.2.10", (Some(51000), Some(2121)), tcp, Some(52), Some(1), Some(TcpFlags::SYN), Some(4))),
            ("2024-01-15 08:00:00 ALLOW UDP 192.0.2.10 198.51.100.53 53000 53 0 - - - - - - - SEND 1234",
             (FirewallAllow, Success, t, "192.0.2.10", "198.51.100.53", (Some(53000), Some(53)), Some(Transport::Udp), Some(0), Some(1), None, Some(1234))),
            ("2024-01-15 08:00:00 ALLOW ICMP fe80::1 ff02::1 - - 0 - - - - 8 0 - RECEIVE -",
             (FirewallAllow, Success, t, "fe80::1", "ff02::1", (None, None), Some(Transport::Icmp), Some(0), Some(1), None, None)),
            ("2024-01-15 08:00:00 OPEN-INBOUND TCP 203.0.113.9 192.0.2.10 51000 21 - - - - - - - - - -",
             (ConnectionOpen, Success, t, "203.0.113.9", "192.0.2.10", (Some(51000), Some(21)), tcp, None, None, None, None)),
            ("2024-01-15 08:00:00 CLOSE TCP 192.0.2.10 203.0.113.9 21 51000 - - - - - - - - - -",
             (ConnectionClose, Success, t, "192.0.2.10", "203.0.113.9", (Some(21), Some(51000)), tcp, None, None, None, None)),
            ("2024-01-15 08:00:00 DROP TCP 203.0.113.9 192.0.2.10 80 1693 40 FAPRU 1 2 3 - - - RECEIVE -",
             (FirewallDeny, Failure, t, "203.0.113.9", "192.0.2.10", (Some(80), Some(1693)), tcp, Some(40), Some(1), Some(0x3d), None)),
            ("2024-01-15 08:00:00 SOMETHING 47 203.0.113.9 192.0.2.10 - - 60 - - - - - - - FORWARD -",
             (FirewallLog, Unknown, t, "203.0.113.9", "192.0.2.10", (None, None), Some(Transport::Other(47)), Some(60), None, None, None)),
        ];
        for (line, w) in cases {
            let mut lines = HEADER.to_vec();
            lines.push(line);
            let e = run(&lines)
                .pop()
                .unwrap()
                .unwrap_or_else(|e| panic!("{line}: {e}"))
                .expect(line);
            let (src, dst) = (
                e.source_ip.unwrap().to_string(),
                e.destination_ip.unwrap().to_string(),
            );
            let got: Want = (
                e.action,
                e.outcome,
                t,
                &src,
                &dst,
                (e.source_port, e.destination_port),
                e.transport,
                e.bytes,
                e.packets,
                e.tcp_flags.map(|f| f.0),
                e.process_pid,
            );
            assert_eq!(&got, w, "{line}");
            assert_eq!(e.timestamp, t.parse::<DateTime<Utc>>().unwrap(), "{line}");
            assert_eq!(
                (e.dataset, e.observer_ip),
                (Dataset::WindowsFirewall, ctx().host)
            );
        }
    }

    #[test]
    fn directives_layouts_and_time_format() {
        let line17 = "2024-01-15 08:00:00 DROP UDP 1.2.3.4 5.6.7.8 1 2 3 - - - - - - - RECEIVE";
        let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // No header at all: the default layout, local time.
        let e = run(&[line17])[0].clone().unwrap().unwrap();
        assert_eq!(e.timestamp, utc("2024-01-15T07:00:00Z"));
        // UTC time format.
        let e = run(&["#Time Format: UTC", line17])[1]
            .clone()
            .unwrap()
            .unwrap();
        assert_eq!(e.timestamp, utc("2024-01-15T08:00:00Z"));
        // Reordered columns.
        let got = run(&[
            "#Fields: action date time dst-ip src-ip dst-port",
            "DROP 2024-01-15 08:00:00 5.6.7.8 1.2.3.4 445",
        ]);
        let e = got[1].clone().unwrap().unwrap();
        assert_eq!(
            (e.source_ip, e.destination_port),
            ("1.2.3.4".parse().ok(), Some(445))
        );
        // Events-lost marker and addressless records carry no event.
        let none = [
            "2005-04-11 08:52:26 INFO-EVENTS-LOST - - - - - - - - - - - - 59 -",
            "2005-04-11 08:52:26 DROP - - - - - - - - - - - - - -",
            "# section: Fields",
        ];
        for line in none {
            assert_eq!(run(&[line])[0], Ok(None), "{line}");
        }
    }

    #[test]
    fn rejected_lines() {
        let glued = "2006-09-19 03:38:39 OPEN UDP 192.168.72.12 129.6.15.28 123 123 - - - - - - - - -2006-09-19 03:39:05 CLOSE UDP 192.168.72.12 10.20.72.186 1025 53 - - - - - - - - -";
        let cases: Vec<(Vec<&str>, ErrorKind, usize)> = vec![
            (vec![""], ErrorKind::Syntax, 0),
            (vec!["garbage"], ErrorKind::Syntax, 7),
            (vec![glued], ErrorKind::Syntax, 91),
            (
                vec!["2005-04-11 08:05:57 DROP UDP x.x.x.79 1.2.3.4 1 2 3 - - - - - - - RECEIVE"],
                ErrorKind::BadAddress,
                29,
            ),
            (
                vec![
                    "2005-04-11 08:05:57 DROP UDP 1.2.3.4 1.2.3.4 1 70000 3 - - - - - - - RECEIVE",
                ],
                ErrorKind::BadNumber,
                47,
            ),
            (
                vec!["2005-04-11 08:05:57 DROP TCP 1.2.3.4 1.2.3.4 1 2 3 SX - - - - - - RECEIVE"],
                ErrorKind::Syntax,
                51,
            ),
            (
                vec!["2005-04-31 08:05:57 DROP TCP 1.2.3.4 1.2.3.4 1 2 3 S - - - - - - RECEIVE"],
                ErrorKind::BadTimestamp,
                0,
            ),
            (
                vec!["2005-04-11 08:05:57 drop TCP 1.2.3.4 1.2.3.4 1 2 3 S - - - - - - RECEIVE"],
                ErrorKind::Syntax,
                20,
            ),
            (
                vec!["#Fields: date time c-ip cs-method"],
                ErrorKind::Syntax,
                9,
            ),
            (
                vec!["#Fields: date time c-ip", "2005-04-11 08:05:57 1.2.3.4"],
                ErrorKind::Syntax,
                0,
            ),
            (vec!["#Fields:"], ErrorKind::Syntax, 8),
        ];
        for (lines, kind, offset) in cases {
            let e = run(&lines).pop().unwrap().unwrap_err();
            assert_eq!(
                (e.kind, e.offset, e.format),
                (kind, offset, FORMAT),
                "{lines:?}: {e}"
            );
        }
        let bad = parse_winfw_line(
            b"2005-04-11 08:05:57 DROP \xff",
            &ctx(),
            &mut State::default(),
        );
        assert_eq!(bad.unwrap_err().kind, ErrorKind::InvalidUtf8);
        let long = format!("2005-04-11 08:05:57 DROP {}", "x".repeat(100_000));
        let e = LineParser::new(FORMAT, ctx())
            .parse(long.as_bytes())
            .unwrap_err();
        assert_eq!(
            (e.kind, e.offset),
            (ErrorKind::TooLong, crate::MAX_LINE_LEN)
        );
    }

    #[test]
    fn other_formats_are_not_firewall_events() {
        let lines = [
            r#"Fri Jan 19 12:20:33 2007 [pid 27202] [anonymous] FAIL LOGIN: Client "64.106.46.98""#,
            "Jan  8 03:37:09 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40",
            "2022-07-05 21:41:06 2.3.4.5 - 6.7.8.9 21 PASS *** 530 1326 41 x -",
            "14:03:19 192.168.2.187 [62]PASS - 530 1326",
            "(000175) 1/5/2022 19:04:11 PM - (not logged in) (1.2.3.4)> 530 Login or password incorrect!",
            "[2] Wed 01Jan20 10:00:03 - (000001) 530 Not logged in.",
            "<166>Jan  5 2019 11:00:00 fw : %ASA-6-302013: Built inbound TCP connection 1 for outside:1.2.3.4/5 (1.2.3.4/5) to inside:5.6.7.8/21 (5.6.7.8/21)",
        ];
        for line in lines {
            let got = run(&[line]).remove(0);
            assert!(!matches!(got, Ok(Some(_))), "{line}: {got:?}");
        }
    }
}
