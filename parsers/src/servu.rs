//! Serv-U FTP server log (its own domain/activity log file).
//!
//! Shape: `[<type>] <Www> <DDMmmYY> <hh:mm:ss> - [(<session>) ]<message>`, e.g.
//! `[5] Wed 01Jan20 10:00:00 - (000001) Connected to 1.2.3.4 (Local address 5.6.7.8, port 21)`.
//! The bracketed number is the message type (system, security, commands, replies, ...) and is
//! not needed to read the message. Times are local (`ctx.timezone`); the two-digit year `YY`
//! is read as 20YY.
//!
//! Messages of a session:
//! * `Connected to <client> (Local address <server>, port <port>)` → `ftp.connect` success,
//!   with the server's address and port (off-port servers are visible directly).
//! * `Sent file "<path>" successfully (<rate> kB/sec - <n> Bytes)` → `ftp.download` success;
//!   `Received file ...` → `ftp.upload` success; `file.path`, `network.bytes` and
//!   `file.size` from the line.
//! * Commands (`USER root`) and replies (`530 Not logged in`) go through the session's FTP
//!   dialogue ([`crate::filezilla::session::Dialog`]): `230` → `ftp.login` success, `530` →
//!   failure, with the USER name; DELE/MKD/RMD/RNTO and other commands give their event on the
//!   final reply; RETR/STOR replies give nothing (the `Sent`/`Received file` line is the event).
//! * `Closed session` forgets the session; other messages, and lines without a session, are
//!   `Ok(None)`.
//!
//! The client address of commands, replies and transfers comes from the session's
//! `Connected to` line, so it needs memory across lines: [`parse_servu_line_with_state`].
//! [`parse_servu_line`] (what `LineParser` calls today) reads each line on its own: connect and
//! transfer lines are complete, while logins still give `ftp.login` with their outcome but
//! without user or client address.

use crate::event::{Action, Dataset, Event, Outcome};
use crate::filezilla::session::{
    is_anonymous, session_key, Dialog, DialogRules, SessionTable, Step,
};
use crate::time::{parse_month, parse_weekday};
use crate::w3c::parse_ip;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use memchr::memchr;
use std::net::IpAddr;

const FORMAT: Format = Format::ServU;

/// Serv-U writes its own transfer lines and a connect line.
const RULES: DialogRules = DialogRules {
    connect_on_220: false,
    transfers_from_replies: false,
};

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// What Serv-U lines of one source need from earlier lines: each session's dialogue.
#[derive(Debug, Default)]
pub struct State {
    pub(crate) sessions: SessionTable<Dialog>,
}

/// `n` ASCII digits at `b[at..]` as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let d = b.get(at..at + n)?;
    d.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

// Wed 01Jan20 10:00:00   →   2020-01-01 10:00:00 (local)
/// The stamp after the type: weekday, `DDMmmYY`, time. Returns it and the bytes used.
fn parse_stamp(b: &[u8]) -> Option<(NaiveDate, NaiveTime, usize)> {
    parse_weekday(b.get(..3)?)?;
    if b.get(3) != Some(&b' ') || b.get(11) != Some(&b' ') {
        return None;
    }
    let day = digits(b, 4, 2)?;
    let month = parse_month(b.get(6..9)?)?;
    let year = 2000 + digits(b, 9, 2)? as i32;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    if b.get(14) != Some(&b':') || b.get(17) != Some(&b':') {
        return None;
    }
    let time = NaiveTime::from_hms_opt(digits(b, 12, 2)?, digits(b, 15, 2)?, digits(b, 18, 2)?)?;
    Some((date, time, 20))
}

// Connected to 1.2.3.4 (Local address 5.6.7.8, port 21)   →   (1.2.3.4, 5.6.7.8, 21)
fn parse_connected(msg: &str) -> Option<(&str, &str, &str)> {
    let rest = msg.strip_prefix("Connected to ")?;
    let (client, rest) = rest.split_once(" (Local address ")?;
    let (server, rest) = rest.split_once(", port ")?;
    Some((client, server, rest.strip_suffix(')')?))
}

// Sent file "C:\ftp\a.zip" successfully (986.49 kB/sec - 1089536 Bytes)   →   (path, 1089536)
fn parse_transfer<'a>(msg: &'a str, prefix: &str) -> Option<(&'a str, Option<&'a str>)> {
    let rest = msg.strip_prefix(prefix)?.strip_prefix('"')?;
    let (path, tail) = rest.rsplit_once("\" successfully")?;
    let bytes = tail
        .strip_suffix(" Bytes)")
        .and_then(|t| t.rsplit_once(" - "))
        .map(|(_, n)| n);
    Some((path, bytes))
}

/// A reply code at the start of a message: three digits then a space, `-` or the end.
fn reply_code(msg: &str) -> Option<(u16, bool)> {
    let b = msg.as_bytes();
    let n = digits(b, 0, 3).filter(|n| *n >= 100)?;
    let last = match b.get(3) {
        None | Some(b' ') => true,
        Some(b'-') => false,
        _ => return None,
    };
    Some((n as u16, last))
}

/// Byte offset of `part` (a slice of `line`) within `line`.
fn offset_in(line: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(line.as_ptr() as usize)
}

/// Builds the event of a session step.
fn step_event(step: Step, timestamp: DateTime<Utc>, d: &Dialog, ctx: &ParseContext) -> Event {
    let mut e = Event::new(timestamp, Dataset::ServU, step.action);
    e.outcome = step.outcome;
    e.source_ip = d.client;
    e.destination_ip = d.server.or(ctx.host);
    e.destination_port = d.server_port;
    e.ftp_anonymous = d.user.as_deref().is_some_and(is_anonymous);
    e.user_name = d.user.clone();
    e.file_path = step.path;
    e
}

// [5] Wed 01Jan20 10:00:00 - (000001) Connected to 1.2.3.4 (Local address 5.6.7.8, port 21)
// [2] Wed 01Jan20 10:00:03 - (000001) 530 Not logged in.
/// Parses one Serv-U log line with the source's memory (see the module notes).
pub fn parse_servu_line_with_state(
    line: &[u8],
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    let b = s.as_bytes();
    let close = (b[0] == b'[')
        .then(|| memchr(b']', b))
        .flatten()
        .filter(|&c| c > 1 && c <= 4 && b[1..c].iter().all(u8::is_ascii_digit))
        .ok_or_else(|| err(ErrorKind::Syntax, 0, "`[<type>] ` at the start"))?;
    if b.get(close + 1) != Some(&b' ') {
        return Err(err(
            ErrorKind::Syntax,
            close + 1,
            "a space after `[<type>]`",
        ));
    }
    let at = close + 2;
    let (date, time, used) = parse_stamp(&b[at..]).ok_or_else(|| {
        err(
            ErrorKind::BadTimestamp,
            at,
            "a time like `Wed 01Jan20 10:00:00`",
        )
    })?;
    let mut pos = at + used;
    if !s[pos..].starts_with(" - ") {
        return Err(err(ErrorKind::Syntax, pos, "` - ` after the time"));
    }
    pos += 3;
    let rest = &s[pos..];
    let Some(inner) = rest.strip_prefix('(') else {
        return Ok(None); // a server message (startup, listening on port ...)
    };
    let id_end = memchr(b')', inner.as_bytes())
        .filter(|&n| n > 0 && inner.as_bytes()[..n].iter().all(u8::is_ascii_digit))
        .ok_or_else(|| err(ErrorKind::Syntax, pos, "`(<session>) `"))?;
    let key = session_key(&inner[..id_end]);
    let msg = inner[id_end + 1..].trim_start_matches(' ');
    let timestamp = ctx.timezone.to_utc(date.and_time(time));

    if let Some((client, server, port)) = parse_connected(msg) {
        let bad_ip = |part| err(ErrorKind::BadAddress, offset_in(s, part), "an IP address");
        let client: IpAddr = parse_ip(client).ok_or_else(|| bad_ip(client))?;
        let server: IpAddr = parse_ip(server).ok_or_else(|| bad_ip(server))?;
        let port: u16 = port
            .parse()
            .map_err(|_| err(ErrorKind::BadNumber, offset_in(s, port), "a port number"))?;
        let d = state.sessions.entry(key);
        *d = Dialog::default();
        (d.client, d.server, d.server_port) = (Some(client), Some(server), Some(port));
        return Ok(d
            .connected()
            .map(|step| step_event(step, timestamp, d, ctx)));
    }
    for (prefix, action) in [
        ("Sent file ", Action::FtpDownload),
        ("Received file ", Action::FtpUpload),
    ] {
        let Some((path, bytes)) = parse_transfer(msg, prefix) else {
            continue;
        };
        let bytes = match bytes {
            Some(n) => Some(
                n.parse::<u64>()
                    .map_err(|_| err(ErrorKind::BadNumber, offset_in(s, n), "a byte count"))?,
            ),
            None => None,
        };
        let d = state.sessions.entry(key);
        let step = Step {
            action,
            outcome: Outcome::Success,
            path: Some(path.to_owned()).filter(|p| !p.is_empty()),
        };
        let mut e = step_event(step, timestamp, d, ctx);
        e.bytes = bytes;
        e.file_size = bytes;
        return Ok(Some(e));
    }
    if msg.starts_with("Closed session") {
        state.sessions.remove(key);
        return Ok(None);
    }
    let d = state.sessions.entry(key);
    let step = if let Some((code, last)) = reply_code(msg) {
        d.reply(code, last, RULES)
    } else {
        let (verb, arg) = msg.split_once(' ').unwrap_or((msg, ""));
        if (3..=4).contains(&verb.len()) && verb.bytes().all(|c| c.is_ascii_alphabetic()) {
            d.command(verb, arg, RULES);
        }
        None
    };
    Ok(step.map(|step| step_event(step, timestamp, d, ctx)))
}

// [2] Wed 01Jan20 10:00:03 - (000001) 530 Not logged in.
/// Parses one Serv-U line on its own (the signature `LineParser` calls): see the module notes
/// for what a line without the source's memory gives.
pub fn parse_servu_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    parse_servu_line_with_state(line, ctx, &mut State::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LineParser, SourceTz};

    fn ctx() -> ParseContext {
        let mut c = ParseContext::new(SourceTz::Named(chrono_tz::Europe::Berlin));
        c.now = "2024-06-30T00:00:00Z".parse().unwrap();
        c
    }

    /// (action, outcome, source, destination, port, user, anonymous, path, bytes)
    type Want<'a> = (
        Action,
        Outcome,
        Option<&'a str>,
        Option<&'a str>,
        Option<u16>,
        Option<&'a str>,
        bool,
        Option<&'a str>,
        Option<u64>,
    );

    /// What `Want` compares, with the addresses as text.
    type Got<'a> = (
        Action,
        Outcome,
        Option<String>,
        Option<String>,
        Option<u16>,
        Option<&'a str>,
        bool,
        Option<&'a str>,
        Option<u64>,
    );

    fn got(e: &Event) -> Got<'_> {
        (
            e.action,
            e.outcome,
            e.source_ip.map(|i| i.to_string()),
            e.destination_ip.map(|i| i.to_string()),
            e.destination_port,
            e.user_name.as_deref(),
            e.ftp_anonymous,
            e.file_path.as_deref(),
            e.bytes,
        )
    }

    fn same(e: &Event, w: &Want<'_>) -> bool {
        let g = got(e);
        g.0 == w.0
            && g.1 == w.1
            && g.2.as_deref() == w.2
            && g.3.as_deref() == w.3
            && (g.4, g.5, g.6, g.7, g.8) == (w.4, w.5, w.6, w.7, w.8)
    }

    const LINES: [&str; 14] = [
        "[1] Wed 01Jan20 09:59:00 - FTP Server listening on port number 21, IP 5.6.7.8",
        "[5] Wed 01Jan20 10:00:00 - (000001) Connected to 1.2.3.4 (Local address 5.6.7.8, port 2121)",
        "[6] Wed 01Jan20 10:00:00 - (000001) 220 Serv-U FTP Server ready",
        "[2] Wed 01Jan20 10:00:01 - (000001) USER root",
        "[6] Wed 01Jan20 10:00:01 - (000001) 331 User name okay, need password.",
        "[2] Wed 01Jan20 10:00:02 - (000001) PASS ***",
        "[6] Wed 01Jan20 10:00:03 - (000001) 530 Not logged in.",
        "[2] Wed 01Jan20 10:00:04 - (000001) USER anonymous",
        "[2] Wed 01Jan20 10:00:05 - (000001) PASS ***",
        "[6] Wed 01Jan20 10:00:05 - (000001) 230 User logged in, proceed.",
        "[7] Wed 01Jan20 10:00:09 - (000001) Sent file \"C:\\ftp\\pub\\a b.zip\" successfully (986.49 kB/sec - 1089536 Bytes)",
        "[7] Wed 01Jan20 10:00:10 - (000001) Received file \"C:\\ftp\\in\\x.txt\" successfully (1.00 kB/sec - 12 Bytes)",
        "[2] Wed 01Jan20 10:00:11 - (000001) MKD new",
        "[6] Wed 01Jan20 10:00:11 - (000001) 257 \"/new\" directory created.",
    ];

    #[test]
    fn session_with_memory() {
        use Action::*;
        use Outcome::*;
        let (c, s, p) = (Some("1.2.3.4"), Some("5.6.7.8"), Some(2121));
        let anon = Some("anonymous");
        let want: [Option<Want>; 14] = [
            None,
            Some((FtpConnect, Success, c, s, p, None, false, None, None)),
            None,
            None,
            None,
            None,
            Some((FtpLogin, Failure, c, s, p, Some("root"), false, None, None)),
            None,
            None,
            Some((FtpLogin, Success, c, s, p, anon, true, None, None)),
            Some((
                FtpDownload,
                Success,
                c,
                s,
                p,
                anon,
                true,
                Some("C:\\ftp\\pub\\a b.zip"),
                Some(1089536),
            )),
            Some((
                FtpUpload,
                Success,
                c,
                s,
                p,
                anon,
                true,
                Some("C:\\ftp\\in\\x.txt"),
                Some(12),
            )),
            None,
            Some((FtpMkdir, Success, c, s, p, anon, true, Some("new"), None)),
        ];
        let mut state = State::default();
        for (line, want) in LINES.iter().zip(want) {
            let e = parse_servu_line_with_state(line.as_bytes(), &ctx(), &mut state).unwrap();
            match (e, want) {
                (None, None) => {}
                (Some(e), Some(w)) => {
                    assert!(same(&e, &w), "{line}: {:?} vs {w:?}", got(&e));
                    assert_eq!(e.dataset, Dataset::ServU);
                    assert_eq!(e.file_size, e.bytes);
                }
                (e, w) => panic!("{line}: got {e:?}, want {w:?}"),
            }
        }
        // Local time: 10:00 in Berlin (CET) is 09:00 UTC.
        let e = parse_servu_line(LINES[1].as_bytes(), &ctx())
            .unwrap()
            .unwrap();
        assert_eq!(
            e.timestamp,
            "2020-01-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        state.sessions.entry(session_key("000001"));
        let closed = "[5] Wed 01Jan20 10:01:00 - (000001) Closed session";
        assert_eq!(
            parse_servu_line_with_state(closed.as_bytes(), &ctx(), &mut state),
            Ok(None)
        );
        assert!(state.sessions.get(session_key("000001")).is_none());
    }

    #[test]
    fn lines_on_their_own() {
        // Through LineParser, which keeps the session memory: every event knows its client.
        let mut p = LineParser::new(Format::ServU, ctx());
        let events: Vec<Event> = LINES
            .iter()
            .filter_map(|l| p.parse(l.as_bytes()).unwrap())
            .collect();
        let kinds: Vec<(Action, Outcome, bool)> = events
            .iter()
            .map(|e| (e.action, e.outcome, e.source_ip.is_some()))
            .collect();
        use Action::*;
        use Outcome::*;
        assert_eq!(
            kinds,
            [
                (FtpConnect, Success, true),
                (FtpLogin, Failure, true),
                (FtpLogin, Success, true),
                (FtpDownload, Success, true),
                (FtpUpload, Success, true),
                (FtpMkdir, Success, true),
            ]
        );
    }

    #[test]
    fn rejected_lines() {
        let cases: &[(&[u8], ErrorKind, usize)] = &[
            (b"", ErrorKind::Syntax, 0),
            (b"hello", ErrorKind::Syntax, 0),
            (b"[12345] Wed 01Jan20 10:00:00 - x", ErrorKind::Syntax, 0),
            (b"[5]Wed 01Jan20 10:00:00 - x", ErrorKind::Syntax, 3),
            (b"[5] Wed 32Jan20 10:00:00 - x", ErrorKind::BadTimestamp, 4),
            (b"[5] Wed 01Foo20 10:00:00 - x", ErrorKind::BadTimestamp, 4),
            (b"[5] Wed 01Jan20 10:00", ErrorKind::BadTimestamp, 4),
            (b"[5] Wed 01Jan20 10:00:00 x", ErrorKind::Syntax, 24),
            (b"[5] Wed 01Jan20 10:00:00 - (00x1) USER a", ErrorKind::Syntax, 27),
            (b"[5] Wed 01Jan20 10:00:00 - (1) Connected to 1.2.3 (Local address 5.6.7.8, port 21)", ErrorKind::BadAddress, 44),
            (b"[5] Wed 01Jan20 10:00:00 - (1) Connected to 1.2.3.4 (Local address 5.6.7.8, port 99999)", ErrorKind::BadNumber, 81),
            (b"[5] Wed 01Jan20 10:00:00 - (1) Sent file \"a\" successfully (1 kB/sec - x Bytes)", ErrorKind::BadNumber, 70),
            (b"[5] Wed 01Jan20 10:00:00 - (1) USER \xc3\x28", ErrorKind::InvalidUtf8, 36),
        ];
        for (line, kind, offset) in cases {
            let e = parse_servu_line(line, &ctx()).unwrap_err();
            let shown = String::from_utf8_lossy(line);
            assert_eq!(
                (e.kind, e.offset, e.format),
                (*kind, *offset, FORMAT),
                "{shown}: {e}"
            );
        }
        let long = format!("{}{}", LINES[3], "x".repeat(100_000));
        let e = LineParser::new(FORMAT, ctx())
            .parse(long.as_bytes())
            .unwrap_err();
        assert_eq!(
            (e.kind, e.offset),
            (ErrorKind::TooLong, crate::MAX_LINE_LEN)
        );
    }

    #[test]
    fn other_formats_are_not_servu_events() {
        let lines = [
            r#"Fri Jan 19 12:20:33 2007 [pid 27202] [anonymous] FAIL LOGIN: Client "64.106.46.98""#,
            "Jan  8 03:37:09 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40",
            "2005-04-11 08:05:57 DROP UDP 123.45.78.90 123.156.78.255 137 137 78 - - - - - - - RECEIVE",
            "14:03:19 192.168.2.187 [62]PASS - 530 1326",
            "(000175) 1/5/2022 19:04:11 PM - (not logged in) (1.2.3.4)> 530 Login or password incorrect!",
            "[UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8",
        ];
        for line in lines {
            let got = parse_servu_line(line.as_bytes(), &ctx());
            assert!(!matches!(got, Ok(Some(_))), "{line}: {got:?}");
        }
    }
}
