//! FileZilla Server logs, both forms:
//!
//! * 0.9.x: `(000175) 1/5/2022 19:04:11 PM - (not logged in) (1.2.3.4)> 331 Password required`
//!   — session number, a date in the machine's locale, the time (24-hour, sometimes followed by
//!   a redundant AM/PM), the user (`(not logged in)` before login), the client, then a command,
//!   a reply or a server message.
//! * 1.x: `2024-04-17T20:50:00.069Z << [FTP Session 3636 1.2.3.4] 331 Please, specify the
//!   password.` — an ISO 8601 time, a level or direction (`>>` command, `<<` reply, `I`, `DI`,
//!   ...), a bracketed context (`FTP Session <id> <ip> [<user>]` or
//!   `<module>, FTP Session: <id>`) and the message.
//!
//! Events are assembled per session ([`session::Dialog`]): a login is one `ftp.login` event on
//! the line that decides it (`230` success; `530`, a 4xx/5xx reply to USER/PASS, or 1.x
//! `Recording failed login for user ...` failure; the `530` and the `Recording` line of the
//! same attempt give one event). RETR/STOR/APPE/STOU/DELE/MKD/RMD/RNTO give download, upload,
//! delete, mkdir, rmdir, rename events on their final reply (rename: the RNFR path); other
//! commands give `ftp.command` on their final reply. The connection event is 0.9's `Connected
//! on port N, sending welcome message...` line (destination port N) or, for 1.x, the final
//! `220` welcome reply. Everything else (USER/PASS lines, 1xx/3xx replies, debug lines, other
//! modules' lines) is `Ok(None)`. `ctx.host` becomes `destination.ip`.
//!
//! Dates of the 0.9 form follow the Windows locale. `yyyy-mm-dd` and `d.m.yyyy` are read as
//! such; for `a/b/yyyy` (and `a-b-yyyy`) a line with a first number above 12 proves day-first,
//! one with a second number above 12 proves month-first, and the source remembers the last
//! proof for its ambiguous lines; before any proof they are read month-first (en-US, the form
//! `1/5/2022` with unpadded numbers comes from). Times are 24-hour; an `AM`/`PM` after an hour
//! of 12 or less is applied as a 12-hour clock. 0.9 times are local (`ctx.timezone`); 1.x times
//! end in `Z` (UTC), and are read in `ctx.timezone` when they do not.

pub mod session;

use crate::event::{Dataset, Event};
use crate::proftpd::{find_str, parse_client_ip};
use crate::time::parse_iso8601_stamp;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use compact_str::CompactString;
use memchr::{memchr, memmem, memrchr};
use session::{is_anonymous, session_key, Dialog, DialogRules, SessionTable, Step};
use std::net::IpAddr;

const FORMAT: Format = Format::Filezilla;

/// 0.9 logs a `Connected` line; its `220` replies are not the connection.
const RULES_09: DialogRules = DialogRules {
    connect_on_220: false,
    transfers_from_replies: true,
};

/// 1.x logs no connect line at its default level: the final `220` is the connection.
const RULES_1X: DialogRules = DialogRules {
    connect_on_220: true,
    transfers_from_replies: true,
};

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// Which number comes first in this source's `a/b/yyyy` dates.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum DateOrder {
    /// No unambiguous date seen yet: read month-first.
    #[default]
    Unknown,
    DayFirst,
    MonthFirst,
}

/// What this format remembers between lines of one source: the sessions' dialogues and the
/// date order of 0.9 dates.
#[derive(Debug, Default)]
pub struct State {
    pub(crate) sessions: SessionTable<Dialog>,
    date_order: DateOrder,
}

/// A command, a reply or something else, from the message text.
#[derive(Debug, PartialEq, Eq)]
enum Message<'a> {
    /// `331 Password required` / `220-written by ...` (not last).
    Reply(u16, bool),
    /// `USER root`.
    Command(&'a str, &'a str),
    /// Anything else.
    Other(&'a str),
}

// 331 Password required for www   →   Reply(331, true)
// 220-FileZilla Server 1.8.1      →   Reply(220, false)
/// A reply code at the start of `msg`: three digits then a space, `-` or the end.
fn reply_code(msg: &str) -> Option<(u16, bool)> {
    let b = msg.as_bytes();
    let code = b.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || code[0] == b'0' {
        return None;
    }
    let last = match b.get(3) {
        None | Some(b' ') => true,
        Some(b'-') => false,
        _ => return None,
    };
    let n = code.iter().fold(0u16, |a, c| a * 10 + u16::from(c - b'0'));
    Some((n, last))
}

/// `verb arg` split at the first space.
fn split_command(msg: &str) -> (&str, &str) {
    match memchr(b' ', msg.as_bytes()) {
        Some(sp) => (&msg[..sp], &msg[sp + 1..]),
        None => (msg, ""),
    }
}

// USER root   →   Command("USER", "root")
// disconnected.   →   Other
/// Classifies a 0.9 message. Server messages are told from commands by the verb's shape:
/// three or four letters, then a space or the end.
fn classify_09(msg: &str) -> Message<'_> {
    if let Some((code, last)) = reply_code(msg) {
        return Message::Reply(code, last);
    }
    let (verb, arg) = split_command(msg);
    if (3..=4).contains(&verb.len()) && verb.bytes().all(|c| c.is_ascii_alphabetic()) {
        Message::Command(verb, arg)
    } else {
        Message::Other(msg)
    }
}

/// What every event of a line shares.
struct LineInfo<'a> {
    timestamp: DateTime<Utc>,
    client: IpAddr,
    user: Option<&'a str>,
}

/// Builds the event for a dialogue step; the login's user is the line's logged-in user or
/// else the name the client gave.
fn step_event(step: Step, info: &LineInfo<'_>, d: &Dialog, ctx: &ParseContext) -> Event {
    let mut e = Event::new(info.timestamp, Dataset::Filezilla, step.action);
    e.outcome = step.outcome;
    e.source_ip = Some(info.client);
    e.destination_ip = d.server.or(ctx.host);
    e.destination_port = d.server_port;
    let user = info
        .user
        .map(CompactString::from)
        .or_else(|| d.user.clone());
    e.ftp_anonymous = user.as_deref().is_some_and(is_anonymous);
    e.user_name = user;
    e.file_path = step.path;
    e
}

/// An address as FileZilla prints it; IPv4-mapped IPv6 becomes IPv4.
fn parse_ip(s: &str, offset: usize) -> Result<IpAddr, ParseError> {
    parse_client_ip(s).ok_or_else(|| err(ErrorKind::BadAddress, offset, "the client's IP address"))
}

// (not logged in) (1.2.3.4)> 230   →   position of ")>"
/// The first `ab` in `s`, found by its rarer second byte.
fn find_pair(s: &[u8], a: u8, b: u8) -> Option<usize> {
    let mut from = 1;
    while let Some(i) = s.get(from..).and_then(|r| memchr(b, r)) {
        if s[from + i - 1] == a {
            return Some(from + i - 1);
        }
        from += i + 1;
    }
    None
}

/// The last `ab` in `s`, found by its second byte from the right.
fn rfind_pair(s: &[u8], a: u8, b: u8) -> Option<usize> {
    let mut end = s.len();
    while let Some(i) = memrchr(b, &s[..end]) {
        if i > 0 && s[i - 1] == a {
            return Some(i - 1);
        }
        end = i;
    }
    None
}

/// Byte offset of `part` (a slice of `line`) within `line`.
fn offset_in(line: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(line.as_ptr() as usize)
}

/// True for a run of 1..=`max` ASCII digits.
fn is_number(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|c| c.is_ascii_digit())
}

// 17/04/2024   19.06.2024   12/21/2021   2024-04-17
/// A 0.9 date in one of the locale forms (see the module notes), updating the source's order.
fn parse_date_09(s: &str, order: &mut DateOrder) -> Option<NaiveDate> {
    // Three runs of digits (value, length) joined by one separator used twice.
    let (mut parts, mut n, mut sep) = ([(0u32, 0usize); 3], 0, 0u8);
    for &c in s.as_bytes() {
        if c.is_ascii_digit() {
            let p = &mut parts[n];
            if p.1 == 4 {
                return None;
            }
            (p.0, p.1) = (p.0 * 10 + u32::from(c - b'0'), p.1 + 1);
        } else {
            let first = sep == 0 && matches!(c, b'/' | b'.' | b'-');
            if !(first || c == sep) || parts[n].1 == 0 || n == 2 {
                return None;
            }
            (sep, n) = (c, n + 1);
        }
    }
    let [(a, a_len), (b, b_len), (c, c_len)] = parts;
    if n != 2 || c_len == 0 {
        return None;
    }
    if a_len == 4 {
        return (b_len <= 2 && c_len <= 2)
            .then(|| NaiveDate::from_ymd_opt(a as i32, b, c))
            .flatten();
    }
    if a_len > 2 || b_len > 2 || c_len != 4 {
        return None;
    }
    let day_first = if sep == b'.' {
        true
    } else if a > 12 && b <= 12 {
        *order = DateOrder::DayFirst;
        true
    } else if b > 12 && a <= 12 {
        *order = DateOrder::MonthFirst;
        false
    } else {
        *order == DateOrder::DayFirst
    };
    let (d, m) = if day_first { (a, b) } else { (b, a) };
    NaiveDate::from_ymd_opt(c as i32, m, d)
}

// 19:04:11 PM   →   19:04:11       1:04:11 PM   →   13:04:11
/// A 0.9 time: `H:MM:SS`, then the optional AM/PM (see the module notes).
fn parse_time_09(s: &str, ampm: Option<&str>) -> Option<NaiveTime> {
    let b = s.as_bytes();
    let two = |i: usize| -> Option<u32> {
        let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    let (mut h, at) = match b {
        [d, b':', ..] if d.is_ascii_digit() => (u32::from(d - b'0'), 2),
        [_, _, b':', ..] => (two(0)?, 3),
        _ => return None,
    };
    if b.len() != at + 5 || b[at + 2] != b':' {
        return None;
    }
    let (m, sec) = (two(at)?, two(at + 3)?);
    match ampm {
        Some("PM") if h < 12 => h += 12,
        Some("AM") if h == 12 => h = 0,
        _ => {}
    }
    NaiveTime::from_hms_opt(h, m, sec)
}

// (000175) 1/5/2022 19:04:11 PM - (not logged in) (1.2.3.4)> 331 Password required for www
// (000487) 12/21/2021 14:07:08 PM - username (1.2.3.4)> 230 Logged on
/// Parses a 0.9 line.
fn parse_line_09(
    s: &str,
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let close = memchr(b')', s.as_bytes()).ok_or_else(|| err(ErrorKind::Syntax, 0, "`(id)`"))?;
    let id = &s[1..close];
    if !is_number(id, 10) || s.as_bytes().get(close + 1) != Some(&b' ') {
        return Err(err(ErrorKind::Syntax, 1, "a session number in parentheses"));
    }
    let mut pos = close + 2;
    let next_token = |pos: &mut usize| {
        let rest = s.get(*pos..).unwrap_or("");
        let len = memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
        let tok = &rest[..len];
        let at = *pos;
        *pos += len + 1;
        (tok, at)
    };
    let (date, date_at) = next_token(&mut pos);
    let (time, _) = next_token(&mut pos);
    let (mut sep, mut sep_at) = next_token(&mut pos);
    let mut ampm = None;
    if matches!(sep, "AM" | "PM") {
        ampm = Some(sep);
        (sep, sep_at) = next_token(&mut pos);
    }
    let date = parse_date_09(date, &mut state.date_order);
    let time = parse_time_09(time, ampm);
    let (Some(date), Some(time)) = (date, time) else {
        return Err(err(
            ErrorKind::BadTimestamp,
            date_at,
            "a date and time like `17/04/2024 20:50:00`",
        ));
    };
    if sep != "-" {
        return Err(err(ErrorKind::Syntax, sep_at, "` - ` after the time"));
    }
    let rest = s.get(pos..).unwrap_or("");
    let who = || err(ErrorKind::Syntax, pos, "`user (ip)> `");
    let gt = find_pair(rest.as_bytes(), b')', b'>').ok_or_else(who)?;
    let open = rfind_pair(&rest.as_bytes()[..gt], b' ', b'(').ok_or_else(who)?;
    let client = parse_ip(&rest[open + 2..gt], pos + open + 2)?;
    let user = Some(&rest[..open]).filter(|u| *u != "(not logged in)" && !u.is_empty());
    let msg = rest[gt + 2..].strip_prefix(' ').unwrap_or(&rest[gt + 2..]);
    let info = LineInfo {
        timestamp: ctx.timezone.to_utc(date.and_time(time)),
        client,
        user,
    };
    let key = session_key(id);
    let step = match classify_09(msg) {
        Message::Reply(code, last) => {
            let d = state.sessions.entry(key);
            d.client = Some(client);
            // 0.9 names the user in its 331 reply; the USER line may be missing.
            if let Some(name) = msg.strip_prefix("331 Password required for ") {
                if d.user.is_none() && !name.is_empty() {
                    d.user = Some(CompactString::from(name));
                }
            }
            d.reply(code, last, RULES_09)
        }
        Message::Command(verb, arg) => {
            let d = state.sessions.entry(key);
            d.client = Some(client);
            d.command(verb, arg, RULES_09);
            None
        }
        Message::Other(text) => {
            if text.starts_with("disconnected") {
                state.sessions.remove(key);
                return Ok(None);
            }
            if !text.starts_with("Connected") || find_str(text, "sending welcome message").is_none()
            {
                return Ok(None);
            }
            let d = state.sessions.entry(key);
            d.client = Some(client);
            if let Some(port) = text.strip_prefix("Connected on port ") {
                let digits = port.split(',').next().unwrap_or("");
                d.server_port = digits.parse().ok();
            }
            d.connected()
        }
    };
    let d = state.sessions.get(key);
    Ok(step.zip(d).map(|(step, d)| step_event(step, &info, d, ctx)))
}

/// The bracketed context of a 1.x line.
#[derive(Debug, PartialEq, Eq)]
enum Context<'a> {
    /// `FTP Session 3636 1.2.3.4 root`: id, client, logged-in user.
    Session(&'a str, &'a str, Option<&'a str>),
    /// `Throttled Authenticator, FTP Session: 3636`.
    Module(&'a str),
    /// Any other module.
    Other,
}

fn parse_context(ctx: &str) -> Context<'_> {
    if let Some(rest) = ctx.strip_prefix("FTP Session ") {
        let (id, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let (ip, user) = rest.split_once(' ').unwrap_or((rest, ""));
        return Context::Session(id, ip, Some(user).filter(|u| !u.is_empty()));
    }
    match memmem::find(ctx.as_bytes(), b", FTP Session: ") {
        Some(i) => Context::Module(&ctx[i + 15..]),
        None => Context::Other,
    }
}

// Authenticating user root from IP 1.2.3.4.   →   ("root", "1.2.3.4")
/// `<prefix><user> from IP <ip>.`
fn user_and_ip<'a>(msg: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = msg.strip_prefix(prefix)?;
    let (user, ip) = rest.rsplit_once(" from IP ")?;
    Some((user, ip.strip_suffix('.').unwrap_or(ip)))
}

// 2024-04-17T20:50:00.069Z DI [Throttled Authenticator, FTP Session: 3636] Authenticating user root from IP 1.2.3.4.
// 2024-04-17T20:48:58.788Z << [FTP Session 3635 1.2.3.4 root] 230 Login successful.
/// Parses a 1.x line.
fn parse_line_1x(
    s: &str,
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let (stamp, used) = parse_iso8601_stamp(s.as_bytes())
        .ok_or_else(|| err(ErrorKind::BadTimestamp, 0, "an ISO 8601 time"))?;
    let timestamp = stamp
        .resolve(ctx.timezone, ctx.now)
        .ok_or_else(|| err(ErrorKind::BadTimestamp, 0, "an ISO 8601 time"))?;
    let rest = s.get(used..).unwrap_or("");
    let tag_end = rest
        .strip_prefix(' ')
        .and_then(|r| memchr(b' ', r.as_bytes()))
        .ok_or_else(|| err(ErrorKind::Syntax, used, "` <level> [context]`"))?;
    let tag = &rest[1..1 + tag_end];
    let ctx_at = used + 1 + tag_end + 1;
    let after = s.get(ctx_at..).unwrap_or("");
    let close = after
        .strip_prefix('[')
        .and_then(|a| memchr(b']', a.as_bytes()))
        .ok_or_else(|| err(ErrorKind::Syntax, ctx_at, "`[context]`"))?;
    let context = &after[1..1 + close];
    let msg_raw = &after[close + 2..];
    let msg = msg_raw.strip_prefix(' ').unwrap_or(msg_raw);
    match parse_context(context) {
        Context::Other => Ok(None),
        Context::Module(id) => {
            let key = session_key(id);
            if let Some((user, ip)) = user_and_ip(msg, "Authenticating user ") {
                let client = parse_ip(ip, offset_in(s, ip))?;
                let d = state.sessions.entry(key);
                d.client = Some(client);
                d.authenticating(user);
                return Ok(None);
            }
            let Some((user, ip)) = user_and_ip(msg, "Recording failed login for user ") else {
                return Ok(None);
            };
            let client = parse_ip(ip, offset_in(s, ip))?;
            let d = state.sessions.entry(key);
            d.client = Some(client);
            let info = LineInfo {
                timestamp,
                client,
                user: None,
            };
            Ok(d.login_failed(Some(user))
                .map(|step| step_event(step, &info, d, ctx)))
        }
        Context::Session(id, ip, user) => {
            if !is_number(id, 20) {
                return Err(err(
                    ErrorKind::BadNumber,
                    offset_in(s, id),
                    "a session number",
                ));
            }
            let client = parse_ip(ip, offset_in(s, ip))?;
            let d = state.sessions.entry(session_key(id));
            d.client = Some(client);
            let step = match tag {
                ">>" => {
                    let (verb, arg) = split_command(msg);
                    d.command(verb, arg, RULES_1X);
                    None
                }
                "<<" => match reply_code(msg) {
                    Some((code, last)) => d.reply(code, last, RULES_1X),
                    None => None,
                },
                _ => None,
            };
            let info = LineInfo {
                timestamp,
                client,
                user,
            };
            Ok(step.map(|step| step_event(step, &info, d, ctx)))
        }
    }
}

// (000175) 1/5/2022 19:04:11 PM - (not logged in) (1.2.3.4)> 530 Login or password incorrect!
// 2024-04-17T20:50:00.101Z DI [Throttled Authenticator, FTP Session: 3636] Recording failed login for user root from IP 1.2.3.4.
/// Parses one FileZilla Server line (either form). `Ok(None)` for lines that carry no event
/// by themselves (see the module notes).
pub fn parse_filezilla_line(
    line: &[u8],
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    match s.as_bytes()[0] {
        b'(' => parse_line_09(s, ctx, state),
        b'0'..=b'9' => parse_line_1x(s, ctx, state),
        _ => Err(err(
            ErrorKind::Syntax,
            0,
            "`(session) date` or an ISO 8601 time",
        )),
    }
}

#[cfg(test)]
mod tests;
