//! Pure-FTPd syslog lines: `<syslog header> pure-ftpd[pid]: (<user>@<client>) [<LEVEL>]
//! <message>`, the user being `?` until a login succeeds.
//!
//! Events:
//! * `New connection from <ip>` → [`Action::FtpConnect`] success;
//! * `Authentication failed for user [x]`, `Can't login as [x]: account disabled` →
//!   [`Action::FtpLogin`] failure; `x is now logged in` → login success; `Anonymous user logged
//!   in` → login success with `ftp.anonymous`;
//! * `<path> uploaded  (N bytes, R KB/sec)` → [`Action::FtpUpload`] success (`partially
//!   uploaded` → failure), `<path> downloaded  (…)` → [`Action::FtpDownload`] success, with
//!   `network.bytes` and `file.size` = N; `Deleted <path>` → [`Action::FtpDelete`] success.
//!
//! Decisions: `Logout.`, `[DEBUG]` lines (they echo the protocol) and every other message are
//! `Ok(None)`, as are other programs' lines. `pure-ftpd-wrapper[pid]: connect from X (ip)`
//! (the Debian wrapper's tcpd-style note) is `Ok(None)`: the server's own `New connection`
//! line for the same connection follows it, and counting both would double every connect.
//! A client shown by host name (Pure-FTPd without `--dontresolve`) leaves `source.ip` empty.
//! A line without a syslog header (`pure-ftpd: (?@192.0.2.1) [INFO] …`, as documentation
//! samples show them) carries no time: if it would be an event it is rejected with
//! [`ErrorKind::BadTimestamp`] (an event's time must come from the log, and reading it as
//! "now" would place replayed attacks at the wrong time); if it would not, it is `Ok(None)`.

use crate::event::{Action, Dataset, Event, Outcome};
use crate::proftpd::{find_str, is_anonymous_user, parse_client_ip, rfind_str};
use crate::syslog::parse_syslog_header;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Utc};
use compact_str::CompactString;
use memchr::memchr;
use std::net::IpAddr;

const FORMAT: Format = Format::PureFtpd;

/// The server's program tag.
const PROGRAM: &str = "pure-ftpd";
/// The Debian wrapper's program tag.
const WRAPPER: &str = "pure-ftpd-wrapper";

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// What this format remembers between lines of one source: nothing. Every Pure-FTPd line
/// that is an event names its client, and the user where there is one (a failed login carries
/// the name in its own line), so no line needs an earlier one.
#[derive(Debug, Default)]
pub struct State {}

/// The parts of a `(user@client) [LEVEL] text` message.
#[derive(Debug, PartialEq, Eq)]
struct Message<'a> {
    user: Option<&'a str>,
    client: Option<IpAddr>,
    level: &'a str,
    text: &'a str,
}

// (?@24.79.92.194) [WARNING] Authentication failed for user [Administrator]
// (bob@example.com@2001:db8::7) [NOTICE] /home/bob//a.txt uploaded  (12 bytes, 0.50KB/sec)
/// Parses the message after the tag; `pos` is its offset in `s`. Only a logged-in user's
/// account appears before the `@` (virtual users may contain `@`, so the last one splits).
fn parse_message(s: &str, pos: usize) -> Result<Message<'_>, ParseError> {
    let msg = s.get(pos..).unwrap_or("");
    if !msg.starts_with('(') {
        return Err(err(ErrorKind::Syntax, pos, "`(user@client)`"));
    }
    let close = find_str(msg, ") [")
        .ok_or_else(|| err(ErrorKind::Syntax, pos, "`(user@client) [LEVEL]`"))?;
    let (user, client) = msg[1..close]
        .rsplit_once('@')
        .ok_or_else(|| err(ErrorKind::Syntax, pos + 1, "`user@client`"))?;
    let level_pos = close + 3;
    let level_len = memchr(b']', &msg.as_bytes()[level_pos..])
        .filter(|&n| {
            n > 0
                && msg[level_pos..level_pos + n]
                    .bytes()
                    .all(|b| b.is_ascii_uppercase())
        })
        .ok_or_else(|| err(ErrorKind::Syntax, pos + level_pos, "a level like `[INFO]`"))?;
    let level = &msg[level_pos..level_pos + level_len];
    let after = &msg[level_pos + level_len + 1..];
    let text = after.strip_prefix(' ').unwrap_or(after);
    Ok(Message {
        user: Some(user).filter(|u| !u.is_empty() && *u != "?"),
        client: parse_client_ip(client),
        level,
        text: text.trim_end(),
    })
}

/// What a message reports: action, outcome, user named by the text, anonymous, path, bytes.
#[derive(Debug, PartialEq, Eq)]
struct Report<'a> {
    action: Action,
    outcome: Outcome,
    user: Option<&'a str>,
    anonymous: bool,
    path: Option<&'a str>,
    bytes: Option<u64>,
    client: Option<IpAddr>,
}

impl<'a> Report<'a> {
    fn new(action: Action, outcome: Outcome) -> Report<'a> {
        Report {
            action,
            outcome,
            user: None,
            anonymous: false,
            path: None,
            bytes: None,
            client: None,
        }
    }
}

// /home/ftp/pub/f.iso downloaded  (10220 bytes, 94281.80KB/sec)
// /incoming/x.bin partially uploaded  (0 bytes, 0.00KB/sec)
/// A transfer message: the path, the verb before ` (`, and the byte count.
fn parse_transfer(text: &str) -> Option<Report<'_>> {
    let head = text.strip_suffix("KB/sec)")?;
    let open = rfind_str(head, " (")?;
    let inner = &head[open + 2..];
    let count = &inner[..find_str(inner, " bytes, ")?];
    let bytes: u64 = count.parse().ok()?;
    let before = head[..open].trim_end();
    let (path, action, outcome) = if let Some(p) = before.strip_suffix(" partially uploaded") {
        (p, Action::FtpUpload, Outcome::Failure)
    } else if let Some(p) = before.strip_suffix(" uploaded") {
        (p, Action::FtpUpload, Outcome::Success)
    } else if let Some(p) = before.strip_suffix(" downloaded") {
        (p, Action::FtpDownload, Outcome::Success)
    } else {
        return None;
    };
    let mut r = Report::new(action, outcome);
    r.path = Some(path).filter(|p| !p.is_empty());
    r.bytes = Some(bytes);
    Some(r)
}

// Authentication failed for user [Administrator]
/// What the text of a message reports; `None` for messages without an event.
fn classify(text: &str) -> Option<Report<'_>> {
    if let Some(rest) = text.strip_prefix("New connection from ") {
        let mut r = Report::new(Action::FtpConnect, Outcome::Success);
        r.client = parse_client_ip(rest);
        return Some(r);
    }
    if let Some(rest) = text.strip_prefix("Authentication failed for user [") {
        let mut r = Report::new(Action::FtpLogin, Outcome::Failure);
        r.user = rest.strip_suffix(']').filter(|u| !u.is_empty());
        return Some(r);
    }
    if let Some(rest) = text.strip_prefix("Can't login as [") {
        let mut r = Report::new(Action::FtpLogin, Outcome::Failure);
        r.user = rest
            .strip_suffix("]: account disabled")
            .filter(|u| !u.is_empty());
        return Some(r);
    }
    if let Some(user) = text.strip_suffix(" is now logged in") {
        let mut r = Report::new(Action::FtpLogin, Outcome::Success);
        r.user = Some(user).filter(|u| !u.is_empty());
        return Some(r);
    }
    if text.starts_with("Anonymous user logged in") {
        let mut r = Report::new(Action::FtpLogin, Outcome::Success);
        r.anonymous = true;
        return Some(r);
    }
    if let Some(path) = text.strip_prefix("Deleted ") {
        let mut r = Report::new(Action::FtpDelete, Outcome::Success);
        r.path = Some(path);
        return Some(r);
    }
    parse_transfer(text)
}

/// The event a message reports, or `None`.
fn message_event(
    msg: &Message<'_>,
    timestamp: DateTime<Utc>,
    header: (Option<&str>, Option<u32>),
    ctx: &ParseContext,
) -> Option<Event> {
    if msg.level == "DEBUG" {
        return None;
    }
    let r = classify(msg.text)?;
    let mut e = Event::new(timestamp, Dataset::PureFtpd, r.action);
    e.outcome = r.outcome;
    e.source_ip = r.client.or(msg.client);
    e.destination_ip = ctx.host;
    e.host_name = header.0.map(CompactString::from);
    e.process_pid = header.1;
    let user = r.user.or(msg.user);
    e.user_name = user.map(CompactString::from);
    e.ftp_anonymous = r.anonymous || user.is_some_and(is_anonymous_user);
    e.file_path = r.path.map(str::to_owned);
    if r.bytes.is_some() {
        e.bytes = r.bytes;
        e.file_size = r.bytes;
    }
    Some(e)
}

// pure-ftpd: (?@192.168.20.10) [INFO] New connection from 192.168.20.10
// pure-ftpd-wrapper[926]: connect from  192.168.20.10 (192.168.20.10)
/// A line that starts with the tag itself (no stamp, no host): the tag's program and where the
/// message starts.
fn bare_tag(s: &str) -> Option<(&str, usize)> {
    let tag_len = memchr(b' ', s.as_bytes()).unwrap_or(s.len());
    let tag = s[..tag_len].strip_suffix(':')?;
    let program = tag.split_once('[').map_or(tag, |(p, _)| p);
    if program != PROGRAM && program != WRAPPER {
        return None;
    }
    let mut pos = tag_len;
    while s.as_bytes().get(pos) == Some(&b' ') {
        pos += 1;
    }
    Some((program, pos))
}

// Jan 31 16:54:07 desktop pure-ftpd: (?@24.79.92.194) [WARNING] Authentication failed for user [Administrator]
// <28>1 2005-01-31T16:54:07Z ftp01 pure-ftpd 77 - - (?@192.0.2.194) [INFO] New connection from 192.0.2.194
/// Parses one Pure-FTPd line. `Ok(None)` for lines without an event (see the module
/// documentation) and other programs' syslog lines.
pub fn parse_pureftpd_line(
    line: &[u8],
    ctx: &ParseContext,
    _state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    if let Some((program, pos)) = bare_tag(s) {
        if program == WRAPPER {
            return Ok(None);
        }
        let msg = parse_message(s, pos)?;
        if msg.level == "DEBUG" || classify(msg.text).is_none() {
            return Ok(None);
        }
        return Err(err(
            ErrorKind::BadTimestamp,
            0,
            "a syslog timestamp before `pure-ftpd:` (a line without a time is no event)",
        ));
    }
    let header = parse_syslog_header(s, ctx).map_err(|e| e.in_format(FORMAT))?;
    if header.program != Some(PROGRAM) {
        return Ok(None);
    }
    let msg = parse_message(s, header.message_offset)?;
    Ok(message_event(
        &msg,
        header.timestamp,
        (header.host, header.pid),
        ctx,
    ))
}

#[cfg(test)]
mod tests;
