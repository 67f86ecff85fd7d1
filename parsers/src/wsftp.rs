//! Ipswitch WS_FTP Server log (the daily `FSyyyymmdd.log` file of WS_FTP Server 5).
//!
//! Source: the WS_FTP Server 5 User's Guide, chapter 12 "Reading Log Files"
//! (ipswitch.com/Support/WS_FTP-Server/guide/v5/ch12_logman4.html). It shows these lines:
//!
//! ```text
//! 0915 12:17:00 (0000005c) 156.21.50.134:2040 connected to 156.21.50.190:21
//! 0915 12:17:00 (0000005c) ftp4test.ipswitch.com S(0) 156.21.50.134 anon-guest@unknown logon success (A1)
//! 0915 12:18:11 (0000005c) ntdoctest.lex.ipswitch.com S(0) 156.21.50.134 anon-guest@unknown logoff R:0 D:0 P:0
//! 0915 12:18:11 (0000005c) 156.21.50.134 connection closed
//! ```
//!
//! and says that STOR, STOU, APPE and RECV lines end in `(nnnn bytes, nnnn ms)`: bytes moved
//! and milliseconds taken. Shape: `MMDD hh:mm:ss (<session, hex>) <rest>`, times local
//! (`ctx.timezone`) without a year (the year rule applies, as for syslog stamps). The rest is
//! a connect line, a close line, or `<ftp host> S(<n>) <client> <user> <message>`.
//!
//! Events: `connected to` → `ftp.connect` success with both ends (the server's port shows an
//! off-port server directly); `logon success` → `ftp.login` success; a command
//! (`STOR /in/a.zip (1024 bytes, 350 ms)`) → STOR/STOU/APPE/RECV `ftp.upload`, RETR
//! `ftp.download`, DELE `ftp.delete`, MKD/XMKD `ftp.mkdir`, RMD/XRMD `ftp.rmdir`, other
//! upper-case commands `ftp.command`; a `(n bytes, n ms)` suffix gives `network.bytes` and
//! `event.duration`, with `event.end` = the line's time, and outcome success (the counts are
//! written when the transfer is done; other commands' outcome is unknown). `logoff`, `connection closed` and
//! other messages are `Ok(None)`.
//!
//! Decisions (the guide does not say): any `logon` result other than `success` is a failed
//! login; the user column is kept as written (`anon-guest@unknown`), and the account is
//! anonymous when its part before `@` is `anon-guest`, `anonymous` or `ftp`; the FTP host name
//! becomes `host.name`, the `S(n)` field is checked for shape and not kept; the session id is
//! checked as hex and not kept (each line names its client).

use crate::event::{Action, Dataset, Event, Outcome};
use crate::filezilla::session::is_anonymous;
use crate::time::{Cursor, Stamp};
use crate::w3c::parse_ip;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use compact_str::CompactString;
use memchr::memchr;
use std::net::IpAddr;

const FORMAT: Format = Format::WsFtp;

/// Nanoseconds in a millisecond (the log gives transfer times in ms; ECS wants ns).
const NANOS_PER_MS: u64 = 1_000_000;

/// Longest session id: eight hex digits (a 32-bit number).
const MAX_SESSION_DIGITS: usize = 8;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

// 0915 12:17:00 (0000005c) …   →   (Sep 15 12:17:00, index of the text after `) `)
/// The stamp and session prefix every line starts with.
fn parse_prefix(b: &[u8]) -> Option<(Stamp, usize)> {
    let mut c = Cursor::new(b);
    let month = c.digits(2, 2)?;
    let day = c.digits(2, 2)?;
    c.byte(b' ')?;
    let time = c.time_of_day()?;
    c.byte(b' ')?;
    c.byte(b'(')?;
    let start = c.i;
    while c.peek().is_some_and(|x| x.is_ascii_hexdigit()) {
        c.i += 1;
    }
    if c.i == start || c.i - start > MAX_SESSION_DIGITS {
        return None;
    }
    c.byte(b')')?;
    c.byte(b' ')?;
    ((1..=12).contains(&month) && (1..=31).contains(&day))
        .then_some((Stamp::YearLess { month, day, time }, c.i))
}

/// The next space-delimited word of `s` at or after `pos`, its start, and the index past it.
fn word(s: &str, pos: usize) -> (&str, usize, usize) {
    let b = s.as_bytes();
    let mut start = pos.min(b.len());
    while b.get(start) == Some(&b' ') {
        start += 1;
    }
    let end = memchr(b' ', &b[start..]).map_or(b.len(), |n| start + n);
    (&s[start..end], start, end)
}

// 156.21.50.134:2040   →   (156.21.50.134, 2040)
fn parse_ip_port(s: &str) -> Option<(IpAddr, u16)> {
    let (ip, port) = s.rsplit_once(':')?;
    Some((parse_ip(ip)?, port.parse().ok()?))
}

// STOR /in/a.zip (1024 bytes, 350 ms)   →   ("/in/a.zip", Some((1024, 350)))
/// Splits a `(n bytes, n ms)` suffix off a command's argument.
fn split_transfer(args: &str) -> (&str, Option<(u64, u64)>) {
    let parsed = args.strip_suffix(" ms)").and_then(|head| {
        let open = head.rfind(" (")?;
        let (bytes, ms) = head[open + 2..].split_once(" bytes, ")?;
        Some((&args[..open], (bytes.parse().ok()?, ms.parse().ok()?)))
    });
    match parsed {
        Some((path, counts)) => (path, Some(counts)),
        None => (args, None),
    }
}

/// The action of a command word; `None` when the word is not an FTP command.
fn command_action(cmd: &str) -> Option<Action> {
    let action = match cmd {
        "STOR" | "STOU" | "APPE" | "RECV" => Action::FtpUpload,
        "RETR" => Action::FtpDownload,
        "DELE" => Action::FtpDelete,
        "MKD" | "XMKD" => Action::FtpMkdir,
        "RMD" | "XRMD" => Action::FtpRmdir,
        _ if (3..=4).contains(&cmd.len()) && cmd.bytes().all(|c| c.is_ascii_uppercase()) => {
            Action::FtpCommand
        }
        _ => return None,
    };
    Some(action)
}

// 0915 12:17:00 (0000005c) ftp4test.ipswitch.com S(0) 156.21.50.134 anon-guest@unknown logon success (A1)
/// Parses one WS_FTP Server log line.
pub fn parse_wsftp_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    let (stamp, pos) = parse_prefix(s.as_bytes()).ok_or_else(|| {
        err(
            ErrorKind::BadTimestamp,
            0,
            "`MMDD hh:mm:ss (session)` like `0915 12:17:00 (0000005c)`",
        )
    })?;
    let timestamp = stamp
        .resolve(ctx.timezone, ctx.now)
        .ok_or_else(|| err(ErrorKind::BadTimestamp, 0, "a day that exists"))?;
    let (first, first_at, first_end) = word(s, pos);
    let rest = s[first_end..].trim_start_matches(' ');
    // 156.21.50.134:2040 connected to 156.21.50.190:21
    if let Some(server) = rest.strip_prefix("connected to ") {
        let client = parse_ip_port(first)
            .ok_or_else(|| err(ErrorKind::BadAddress, first_at, "the client's address:port"))?;
        let server_at = s.len() - server.len();
        let server = parse_ip_port(server.trim_end()).ok_or_else(|| {
            err(
                ErrorKind::BadAddress,
                server_at,
                "the server's address:port",
            )
        })?;
        let mut e = Event::new(timestamp, Dataset::WsFtp, Action::FtpConnect);
        e.outcome = Outcome::Success;
        (e.source_ip, e.source_port) = (Some(client.0), Some(client.1));
        (e.destination_ip, e.destination_port) = (Some(server.0), Some(server.1));
        return Ok(Some(e));
    }
    // 156.21.50.134 connection closed
    if rest == "connection closed" {
        parse_ip(first)
            .ok_or_else(|| err(ErrorKind::BadAddress, first_at, "the client's address"))?;
        return Ok(None);
    }
    let (server_no, sn_at, sn_end) = word(s, first_end);
    let sn_ok = server_no
        .strip_prefix("S(")
        .and_then(|n| n.strip_suffix(')'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
    if first.is_empty() || !sn_ok {
        return Err(err(
            ErrorKind::Syntax,
            sn_at,
            "`connected to`, `connection closed` or `<host> S(n) <client> <user> <message>`",
        ));
    }
    let (client, client_at, client_end) = word(s, sn_end);
    let client = parse_ip(client)
        .ok_or_else(|| err(ErrorKind::BadAddress, client_at, "the client's address"))?;
    let (user, user_at, user_end) = word(s, client_end);
    let (verb, _, verb_end) = word(s, user_end);
    if user.is_empty() || verb.is_empty() {
        return Err(err(ErrorKind::Syntax, user_at, "a user name and a message"));
    }
    let args = s[verb_end..].trim_start_matches(' ');
    let mut e = match verb {
        "logon" => {
            let mut e = Event::new(timestamp, Dataset::WsFtp, Action::FtpLogin);
            e.outcome = if word(args, 0).0 == "success" {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            e
        }
        _ => {
            let Some(action) = command_action(verb) else {
                return Ok(None); // logoff and other messages
            };
            let mut e = Event::new(timestamp, Dataset::WsFtp, action);
            let (path, counts) = split_transfer(args);
            if !path.is_empty() && action != Action::FtpCommand {
                e.file_path = Some(path.to_owned());
            }
            if let Some((bytes, ms)) = counts {
                // The counts are written once the transfer is done.
                e.outcome = Outcome::Success;
                e.bytes = Some(bytes);
                if let Some(ns) = ms.checked_mul(NANOS_PER_MS) {
                    e.set_ended_after(ns);
                }
            }
            e
        }
    };
    e.source_ip = Some(client);
    e.destination_ip = ctx.host;
    e.host_name = Some(CompactString::from(first));
    let account = user.split('@').next().unwrap_or(user);
    e.ftp_anonymous = is_anonymous(account) || account.eq_ignore_ascii_case("anon-guest");
    e.user_name = Some(CompactString::from(user));
    Ok(Some(e))
}

#[cfg(test)]
mod tests;
