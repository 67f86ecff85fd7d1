//! OpenSSH server lines as syslog writes them (auth.log, secure): `<syslog header> sshd[pid]:
//! <message>`, the program being `sshd`, or `sshd-session` / `sshd-auth` since OpenSSH 9.8
//! split the server.
//!
//! Events (message texts as OpenSSH's `auth_log` and `sshd` print them):
//! * `Accepted <method> for <user> from <ip> port <port> ssh2[: <key>]` → [`Action::SshLogin`]
//!   success;
//! * `Failed <method> for [invalid user ]<user> from <ip> port <port> ssh2` →
//!   [`Action::SshLogin`] failure (the method `none` is a client asking which methods exist,
//!   not a guess, and is `Ok(None)`);
//! * `Connection from <ip> port <port> on <ip> port <port>[ rdomain "…"]` (LogLevel VERBOSE)
//!   → [`Action::SshConnect`] with both ends, so the server's own port is known.
//!
//! The client's port is always kept: it is what joins an SSH session to the firewall or flow
//! record of its TCP connection exactly (rules/cross: SSH on a port other than 22).
//!
//! Decisions: `Invalid user x from …` is `Ok(None)`: the guess it announces is reported by the
//! `Failed … for invalid user x` line that follows, and counting both would double a brute
//! force. `message repeated N times: [ Failed … ]` (rsyslog's reduction) counts once: the line
//! names the attempt but one line makes at most one event. PAM lines, `Disconnected`,
//! `Connection closed`, `maximum authentication attempts exceeded` and other messages are
//! `Ok(None)`, as are other programs' lines.

use crate::event::{Action, Dataset, Event, Outcome, Transport};
use crate::proftpd::{find_str, parse_client_ip};
use crate::syslog::parse_syslog_header;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Utc};
use compact_str::CompactString;
use std::net::IpAddr;

const FORMAT: Format = Format::Sshd;

/// Prefix of rsyslog's repeated-message summary.
const REPEATED: &str = "message repeated ";

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// The program tags of OpenSSH's server processes.
fn is_sshd(program: Option<&str>) -> bool {
    matches!(program, Some("sshd" | "sshd-session" | "sshd-auth"))
}

/// What one message reports.
#[derive(Debug, PartialEq, Eq)]
struct Report<'a> {
    action: Action,
    outcome: Outcome,
    user: Option<&'a str>,
    client: (IpAddr, u16),
    server: Option<(IpAddr, u16)>,
}

// 203.0.113.9 port 4711 ssh2: RSA SHA256:x   →   (203.0.113.9, 4711)
/// An `<ip> port <port>` pair at the start of `s`; the port ends at a space, `:` or the end.
fn parse_endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (ip, rest) = s.split_once(" port ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let port = rest[..digits].parse().ok()?;
    Some((parse_client_ip(ip)?, port))
}

// Failed password for invalid user admin from 203.0.113.9 port 4711 ssh2
// Accepted publickey for alice from 2001:db8::5 port 50022 ssh2: ED25519 SHA256:abc
/// An `Accepted` / `Failed` authentication message. The user name is everything between
/// `for ` and the LAST ` from `: OpenSSH prints the name the client sent, which may itself
/// contain ` from `.
fn parse_auth(text: &str) -> Option<Report<'_>> {
    let (outcome, rest) = if let Some(r) = text.strip_prefix("Accepted ") {
        (Outcome::Success, r)
    } else {
        (Outcome::Failure, text.strip_prefix("Failed ")?)
    };
    let (method, rest) = rest.split_once(" for ")?;
    if method == "none" || method.contains(' ') {
        return None;
    }
    let at = memchr::memmem::rfind(rest.as_bytes(), b" from ")?;
    let user = &rest[..at];
    let user = user.strip_prefix("invalid user ").unwrap_or(user);
    let client = parse_endpoint(&rest[at + 6..])?;
    Some(Report {
        action: Action::SshLogin,
        outcome,
        user: Some(user),
        client,
        server: None,
    })
}

// Connection from 203.0.113.9 port 4711 on 192.0.2.10 port 2222 rdomain ""
/// The VERBOSE connection line, which names both ends.
fn parse_connection(text: &str) -> Option<Report<'_>> {
    let rest = text.strip_prefix("Connection from ")?;
    let on = find_str(rest, " on ")?;
    Some(Report {
        action: Action::SshConnect,
        outcome: Outcome::Success,
        user: None,
        client: parse_endpoint(&rest[..on])?,
        server: Some(parse_endpoint(&rest[on + 4..])?),
    })
}

// message repeated 3 times: [ Failed password for root from 203.0.113.9 port 4711 ssh2]
/// The message an rsyslog repeat summary stands for, or the text itself.
fn unrepeat(text: &str) -> &str {
    let Some(rest) = text.strip_prefix(REPEATED) else {
        return text;
    };
    rest.split_once(" times: [ ")
        .and_then(|(_, inner)| inner.strip_suffix(']'))
        .unwrap_or(text)
}

/// The event a message reports, if any. Most of auth.log (PAM, `Invalid user`,
/// disconnections) starts with a letter no event starts with, and is passed over unsearched.
fn classify(text: &str) -> Option<Report<'_>> {
    if !matches!(text.as_bytes().first(), Some(b'A' | b'F' | b'C' | b'm')) {
        return None;
    }
    let text = unrepeat(text.trim_end());
    parse_auth(text).or_else(|| parse_connection(text))
}

fn event_of(
    r: Report<'_>,
    timestamp: DateTime<Utc>,
    header: (Option<&str>, Option<u32>),
    ctx: &ParseContext,
) -> Event {
    let mut e = Event::new(timestamp, Dataset::Sshd, r.action);
    e.outcome = r.outcome;
    e.source_ip = Some(r.client.0);
    e.source_port = Some(r.client.1);
    e.destination_ip = r.server.map(|s| s.0).or(ctx.host);
    e.destination_port = r.server.map(|s| s.1);
    e.transport = Some(Transport::Tcp);
    e.user_name = r.user.map(CompactString::from);
    e.host_name = header.0.map(CompactString::from);
    e.process_pid = header.1;
    e
}

// Mar  2 10:00:04 srv sshd[812]: Failed password for root from 203.0.113.9 port 4711 ssh2
// <38>1 2026-03-02T10:00:04Z srv sshd-session 812 - - Accepted password for bob from 192.0.2.5 port 50022 ssh2
/// Parses one sshd line. `Ok(None)` for messages without an event (see the module
/// documentation) and for other programs' lines; `Err` when the syslog header is broken or
/// an event-shaped message (`Accepted`, `Failed … from`) cannot be read.
pub fn parse_sshd_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    let header = parse_syslog_header(s, ctx).map_err(|e| e.in_format(FORMAT))?;
    if !is_sshd(header.program) {
        return Ok(None);
    }
    let text = header.message;
    match classify(text) {
        Some(r) => Ok(Some(event_of(
            r,
            header.timestamp,
            (header.host, header.pid),
            ctx,
        ))),
        None if looks_like_auth(text) => Err(err(
            ErrorKind::Syntax,
            header.message_offset,
            "`for <user> from <ip> port <port>`",
        )),
        None => Ok(None),
    }
}

/// An authentication result whose shape was not understood (rejected and counted rather
/// than silently skipped; `Failed none` is the one known non-event of this shape).
fn looks_like_auth(text: &str) -> bool {
    let text = unrepeat(text.trim_end());
    (text.starts_with("Accepted ") || text.starts_with("Failed "))
        && !text.starts_with("Failed none ")
        && text.contains(" from ")
}

#[cfg(test)]
mod tests;
