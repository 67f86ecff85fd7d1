//! ProFTPD SystemLog and syslog lines: `<stamp> <host> proftpd[<pid>][:] <server> (<client
//! dns>[<client ip>])<: | - ><message>`, with RFC 3164, file (`YYYY-MM-DD hh:mm:ss,mmm`, as
//! Debian's `/var/log/proftpd/proftpd.log` has it) or RFC 5424 headers.
//!
//! Events:
//! * `USER x (Login failed): …`, `USER x: no such user found from … [ip] to server:port`,
//!   `SECURITY VIOLATION: x login attempted`, `Maximum login attempts (N) exceeded` →
//!   [`Action::FtpLogin`] failure (the last has no user: it repeats failures already logged,
//!   but fail2ban counts it and so do we);
//! * `USER x: Login successful.`, `ANON x: Login successful.` → login success (`ANON` and the
//!   users `ftp`/`anonymous` set `ftp.anonymous`);
//! * `FTP session opened.` → [`Action::FtpConnect`] success; `Connection from … denied.` and
//!   mod_wrap's `refused connect from host (ip)` → connect failure.
//!
//! Decisions: `FTP session closed.` is `Ok(None)` (the event model has no FTP close action and
//! no rule needs one). `no such user 'x'` is `Ok(None)`: ProFTPD's auth module writes it for
//! the same attempt as the `USER x: no such user found …` line that follows, and counting both
//! would double every unknown-user failure. Startup banners, `mod_delay` notes, timeouts and
//! every other proftpd message are `Ok(None)`, as are other programs' lines. The client is the
//! address in the session prefix, never one inside the message (a user name can hold text that
//! looks like another prefix). The server address and port of `… to 192.0.2.5:21` become
//! `destination.*`; a server named by host name leaves `destination.ip` to `ctx.host`.

use crate::event::{Action, Dataset, Event, Outcome};
use crate::syslog::parse_syslog_header;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Utc};
use compact_str::CompactString;
use memchr::{memchr_iter, memrchr_iter};
use std::net::IpAddr;

const FORMAT: Format = Format::Proftpd;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// Parses an address as FTP servers print it; IPv4-mapped IPv6 (`::ffff:192.0.2.1`) becomes
/// IPv4, so one client has one address whichever socket family the server used.
pub(crate) fn parse_client_ip(s: &str) -> Option<IpAddr> {
    let b = s.as_bytes();
    if let Some(v4) = parse_dotted_quad(b) {
        return Some(IpAddr::V4(v4));
    }
    // `::ffff:192.0.2.1`, as dual-stack servers print IPv4 clients: the same fast path.
    const MAPPED: &[u8] = b"::ffff:";
    if b.len() > MAPPED.len() && b[..MAPPED.len()].eq_ignore_ascii_case(MAPPED) {
        if let Some(v4) = parse_dotted_quad(&b[MAPPED.len()..]) {
            return Some(IpAddr::V4(v4));
        }
    }
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        v4 => Some(v4),
    }
}

// 192.0.2.1   →   Some(192.0.2.1)
/// The common case of [`parse_client_ip`] without the standard parser's generality: the
/// whole of `b` is a dotted quad. `None` for anything else, which goes to the standard parser.
fn parse_dotted_quad(b: &[u8]) -> Option<std::net::Ipv4Addr> {
    crate::scan::ipv4_prefix(b)
        .filter(|&(_, used)| used == b.len())
        .map(|(ip, _)| ip)
}

/// The last occurrence of `needle` in `hay`, found from the right by the needle's first byte
/// (cheaper than building a substring searcher for a line of a hundred bytes).
pub(crate) fn rfind_str(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let first = *n.first()?;
    memrchr_iter(first, h).find(|&i| h[i..].starts_with(n))
}

/// The first occurrence of `needle` in `hay`, found by the needle's first byte.
pub(crate) fn find_str(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let first = *n.first()?;
    memchr_iter(first, h).find(|&i| h[i..].starts_with(n))
}

/// The login names FTP servers use for anonymous access.
pub(crate) fn is_anonymous_user(user: &str) -> bool {
    user.eq_ignore_ascii_case("ftp") || user.eq_ignore_ascii_case("anonymous")
}

/// What one session message reports.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report<'a> {
    user: Option<&'a str>,
    anonymous: bool,
    server: Option<IpAddr>,
    server_port: Option<u16>,
}

// USER bob (Login failed): Incorrect password.
// USER god: no such user found from ::ffff:192.0.2.238 [::ffff:192.0.2.238] to ::ffff:198.51.100.194:21
// USER bob: Login successful.
/// A `USER …` message. The user name comes from the client and may contain any marker text,
/// so the right-most server-written marker decides what the line says.
fn parse_user_message(text: &str) -> Option<(Action, Outcome, Report<'_>)> {
    let rest = text.strip_prefix("USER ")?;
    const FAILED: &str = " (Login failed): ";
    const NO_SUCH: &str = ": no such user found from ";
    const OK: [&str; 2] = [": Login successful.", ": Login successful"];
    let failed = rfind_str(rest, FAILED);
    let no_such = rfind_str(rest, NO_SUCH);
    let ok = OK.iter().find_map(|m| rest.strip_suffix(m).map(str::len));
    let last = [failed, no_such, ok].into_iter().flatten().max()?;
    let user = Some(&rest[..last]).filter(|u| !u.is_empty());
    let mut report = Report {
        user,
        anonymous: user.is_some_and(is_anonymous_user),
        ..Report::default()
    };
    if Some(last) == ok {
        return Some((Action::FtpLogin, Outcome::Success, report));
    }
    if Some(last) == no_such {
        // `from <dns> [<ip>] to <server>:<port>`: the part after ` to ` is the server's.
        let tail = &rest[last + NO_SUCH.len()..];
        if let Some(to) = rfind_str(tail, " to ") {
            let server = tail[to + 4..].trim_end();
            if let Some((addr, port)) = server.rsplit_once(':') {
                report.server = parse_client_ip(addr);
                report.server_port = port.parse().ok();
            }
        }
    }
    Some((Action::FtpLogin, Outcome::Failure, report))
}

// ANON anonymous: Login successful.
// ANON ftp (Login failed): Limit LOGIN denies.
/// An `ANON …` message: an anonymous login.
fn parse_anon_message(text: &str) -> Option<(Action, Outcome, Report<'_>)> {
    let rest = text.strip_prefix("ANON ")?;
    let (user, outcome) = if let Some(i) = rfind_str(rest, " (Login failed): ") {
        (&rest[..i], Outcome::Failure)
    } else {
        let i = rfind_str(rest, ": Login successful")?;
        (&rest[..i], Outcome::Success)
    };
    let report = Report {
        user: Some(user).filter(|u| !u.is_empty()),
        anonymous: true,
        ..Report::default()
    };
    Some((Action::FtpLogin, outcome, report))
}

// SECURITY VIOLATION: Root login attempted
/// What a message after the session prefix reports; `None` for messages without an event.
fn classify(text: &str) -> Option<(Action, Outcome, Report<'_>)> {
    let text = text.trim_end();
    if text.starts_with("USER ") {
        return parse_user_message(text);
    }
    if text.starts_with("ANON ") {
        return parse_anon_message(text);
    }
    if let Some(rest) = text.strip_prefix("SECURITY VIOLATION: ") {
        let user = rfind_str(rest, " login attempted")
            .map(|i| &rest[..i])
            .filter(|u| !u.is_empty());
        let report = Report {
            user,
            ..Report::default()
        };
        return Some((Action::FtpLogin, Outcome::Failure, report));
    }
    if text.starts_with("Maximum login attempts") {
        return Some((Action::FtpLogin, Outcome::Failure, Report::default()));
    }
    if text == "FTP session opened." {
        return Some((Action::FtpConnect, Outcome::Success, Report::default()));
    }
    if text.starts_with("Connection from ") && text.ends_with(" denied.") {
        return Some((Action::FtpConnect, Outcome::Failure, Report::default()));
    }
    None
}

/// The session prefix of a message: the client and where the message text starts.
struct Session<'a> {
    client: IpAddr,
    text: &'a str,
}

// ftp.example.com (mail.example.net[::ffff:192.0.2.66]): USER bob (Login failed): …
// 192.0.2.13 (192.0.2.13[192.0.2.13]) - SECURITY VIOLATION: Root login attempted
/// Parses `<server> (<dns>[<ip>])` and the `: ` or ` - ` after it at the start of the message
/// (which starts at byte `pos` of `s`). `Ok(None)` when the message has no session prefix
/// (server messages such as the startup banner).
fn parse_session(s: &str, pos: usize) -> Result<Option<Session<'_>>, ParseError> {
    let msg = s.get(pos..).unwrap_or("");
    let b = msg.as_bytes();
    let Some(open) = memchr_iter(b'(', b).find(|&i| i > 0 && b[i - 1] == b' ') else {
        return Ok(None);
    };
    let open = open - 1;
    let server = &msg[..open];
    if server.is_empty() || server.contains(": ") || server.ends_with(':') {
        return Ok(None);
    }
    let group = &msg[open + 2..];
    let Some(lb) = group.find(['[', ')', ' ']) else {
        return Ok(None);
    };
    if group.as_bytes()[lb] != b'[' {
        return Ok(None);
    }
    let Some(rb) = find_str(&group[lb..], "])").map(|i| lb + i) else {
        return Ok(None);
    };
    let after = &group[rb + 2..];
    let text = if let Some(t) = after
        .strip_prefix(": ")
        .or_else(|| after.strip_prefix(" - "))
    {
        t
    } else if matches!(after, ":" | " -" | "") {
        ""
    } else {
        return Ok(None);
    };
    let ip_pos = pos + open + 2 + lb + 1;
    let client = parse_client_ip(&group[lb + 1..rb])
        .ok_or_else(|| err(ErrorKind::BadAddress, ip_pos, "the client's IP address"))?;
    Ok(Some(Session { client, text }))
}

// refused connect from 192.0.2.2 (192.0.2.2)
/// mod_wrap's refusal (no session prefix): the address in parentheses is the client's.
fn parse_refused(msg: &str) -> Option<IpAddr> {
    let rest = msg.strip_prefix("refused connect from ")?;
    let inner = rest.trim_end().strip_suffix(')')?;
    let open = rfind_str(inner, " (")?;
    parse_client_ip(&inner[open + 2..])
}

/// What every event of a line shares.
struct LineInfo<'a> {
    timestamp: DateTime<Utc>,
    pid: Option<u32>,
    host: Option<&'a str>,
}

impl LineInfo<'_> {
    #[inline]
    fn event(&self, action: Action, outcome: Outcome, ctx: &ParseContext) -> Event {
        let mut e = Event::new(self.timestamp, Dataset::Proftpd, action);
        e.outcome = outcome;
        e.destination_ip = ctx.host;
        e.process_pid = self.pid;
        e.host_name = self.host.map(CompactString::from);
        e
    }
}

// Jun 09 07:30:58 ftp01 proftpd[11864] ftp01.example.com (mail.example.net[::ffff:192.0.2.66]): USER bob (Login failed): Incorrect password.
// May 31 10:53:25 mail proftpd[15302]: mail (::ffff:192.0.2.4[::ffff:192.0.2.4]) - Maximum login attempts (3) exceeded
// 2013-11-16 21:59:30,121 novo proftpd[25891] localhost (andy[192.0.2.4]): USER kjsad: no such user found from andy [192.0.2.5] to ::ffff:192.168.1.14:21
/// Parses one ProFTPD SystemLog / syslog line. `Ok(None)` for well-formed lines that carry no
/// event (see the module documentation) and for other programs' syslog lines.
pub fn parse_proftpd_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    let header = parse_syslog_header(s, ctx).map_err(|e| e.in_format(FORMAT))?;
    if header.program != Some("proftpd") {
        return Ok(None);
    }
    let info = LineInfo {
        timestamp: header.timestamp,
        pid: header.pid,
        host: header.host,
    };
    let Some(session) = parse_session(s, header.message_offset)? else {
        return Ok(parse_refused(header.message).map(|client| {
            let mut e = info.event(Action::FtpConnect, Outcome::Failure, ctx);
            e.source_ip = Some(client);
            e
        }));
    };
    let Some((action, outcome, report)) = classify(session.text) else {
        return Ok(None);
    };
    let mut e = info.event(action, outcome, ctx);
    e.source_ip = Some(session.client);
    e.user_name = report.user.map(CompactString::from);
    e.ftp_anonymous = report.anonymous;
    if report.server.is_some() {
        e.destination_ip = report.server;
    }
    e.destination_port = report.server_port;
    Ok(Some(e))
}

#[cfg(test)]
mod tests;
