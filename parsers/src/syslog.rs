//! The syslog header as files and relays write it, shared by every syslog-borne format.
//!
//! Shape: optional `<PRI>`, a timestamp (RFC 3164 `Mmm dd hh:mm:ss` or ISO 8601 / RFC 3339),
//! a host name, an optional program tag (`prog:`, `prog[pid]:`, `prog(pam_unix)[pid]:`) and
//! the message. Everything returned borrows from the line.

use crate::time::{parse_iso8601_stamp, parse_rfc3164_stamp};
use crate::{ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Utc};
use memchr::memchr;
use nom::bytes::complete::{take_till, take_till1, take_while1};
use nom::character::complete::char;
use nom::combinator::{map_res, opt, verify};
use nom::sequence::delimited;
use nom::IResult;

/// Largest syslog priority: facility 23 × 8 + severity 7.
pub const MAX_PRIORITY: u8 = 191;

/// The parsed header of one syslog line. String fields borrow from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogHeader<'a> {
    /// `<PRI>` when the line starts with one (lines received over the network).
    pub priority: Option<u8>,
    /// The stamp in UTC: the source's zone applied, the year rule applied to year-less stamps.
    pub timestamp: DateTime<Utc>,
    /// The host name field; `None` when the tag follows the stamp directly.
    pub host: Option<&'a str>,
    /// The program name of the tag (`vsftpd` for `vsftpd(pam_unix)[15522]:`); `None` when the
    /// message follows the host directly (EdgeOS firewall lines).
    pub program: Option<&'a str>,
    /// The pid of the tag (`prog[pid]:`), when present and numeric.
    pub pid: Option<u32>,
    /// Everything after the tag and the spaces that follow it.
    pub message: &'a str,
    /// Byte offset of `message` within the line (for error offsets).
    pub message_offset: usize,
}

/// Why a syslog header was rejected; [`HeaderError::in_format`] names the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset within the line.
    pub offset: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl HeaderError {
    fn new(kind: ErrorKind, offset: usize, expected: &'static str) -> HeaderError {
        HeaderError {
            kind,
            offset,
            expected,
        }
    }

    /// The same error as a [`ParseError`] of `format`.
    pub fn in_format(self, format: Format) -> ParseError {
        ParseError::new(format, self.kind, self.offset, self.expected)
    }
}

// <13>Oct 11 01:06:47 host prog: msg   →   13
/// A `<PRI>` prefix with a value of at most [`MAX_PRIORITY`].
fn parse_priority(input: &str) -> IResult<&str, u8> {
    delimited(
        char('<'),
        verify(
            map_res(take_while1(|c: char| c.is_ascii_digit()), str::parse::<u8>),
            |p| *p <= MAX_PRIORITY,
        ),
        char('>'),
    )(input)
}

// vsftpd(pam_unix)[15522]:   →   ("vsftpd", Some(15522))
// kernel:                    →   ("kernel", None)
/// A whole program tag token: name, optional `(detail)`, optional `[pid]`, then `:`.
fn parse_tag(token: &str) -> Option<(&str, Option<u32>)> {
    let tag = |input| -> IResult<&str, (&str, Option<&str>)> {
        let (input, name) = take_till1(|c| c == '[' || c == '(' || c == ':')(input)?;
        let (input, _) = opt(delimited(char('('), take_till(|c| c == ')'), char(')')))(input)?;
        let (input, pid) = opt(delimited(char('['), take_till(|c| c == ']'), char(']')))(input)?;
        let (input, _) = char(':')(input)?;
        Ok((input, (name, pid)))
    };
    match tag(token) {
        Ok(("", (name, pid))) => Some((name, pid.and_then(|p| p.parse().ok()))),
        _ => None,
    }
}

/// The next space-delimited token at `pos`, and where it ends.
fn token_at(line: &str, pos: usize) -> (&str, usize) {
    let rest = line.get(pos..).unwrap_or("");
    let len = memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
    (&rest[..len], pos + len)
}

/// The position of the first non-space byte at or after `pos`.
fn skip_spaces(line: &str, mut pos: usize) -> usize {
    let b = line.as_bytes();
    while b.get(pos) == Some(&b' ') {
        pos += 1;
    }
    pos
}

// <13>Jan  8 03:37:09 example-host kernel: iptables DROP_INPUT: IN=eth0 ...
// 2025-03-04T01:06:36.645577 ip-172-31-3-150 vsftpd[1658]: [username] FAIL LOGIN: ...
// Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 ...
/// Parses the syslog header of `line` and applies the context's zone and year rule.
pub fn parse_syslog_header<'a>(
    line: &'a str,
    ctx: &ParseContext,
) -> Result<SyslogHeader<'a>, HeaderError> {
    let (priority, mut pos) = if line.starts_with('<') {
        match parse_priority(line) {
            Ok((rest, p)) => (Some(p), line.len() - rest.len()),
            Err(_) => return Err(HeaderError::new(ErrorKind::Syntax, 0, "<PRI> of 0..191")),
        }
    } else {
        (None, 0)
    };
    let bytes = line.as_bytes().get(pos..).unwrap_or_default();
    let parsed = if bytes.first().is_some_and(u8::is_ascii_digit) {
        parse_iso8601_stamp(bytes)
    } else {
        parse_rfc3164_stamp(bytes)
    };
    let bad_time = || {
        HeaderError::new(
            ErrorKind::BadTimestamp,
            pos,
            "a timestamp like `Oct 11 01:06:47` or `2025-03-04T01:06:36`",
        )
    };
    let (stamp, used) = parsed.ok_or_else(bad_time)?;
    let timestamp = stamp.resolve(ctx.timezone, ctx.now).ok_or_else(bad_time)?;
    pos += used;

    if line.as_bytes().get(pos) != Some(&b' ') {
        return Err(HeaderError::new(
            ErrorKind::Syntax,
            pos,
            "a space after the timestamp",
        ));
    }
    pos = skip_spaces(line, pos);
    let (first, first_end) = token_at(line, pos);
    if first.is_empty() {
        return Err(HeaderError::new(ErrorKind::Syntax, pos, "a host name"));
    }
    // A token ending in `:` right after the stamp is a tag: the writer left the host out.
    let (host, tag_pos) = match first.ends_with(':').then(|| parse_tag(first)).flatten() {
        Some(_) => (None, pos),
        None => (Some(first), skip_spaces(line, first_end)),
    };
    let (token, token_end) = token_at(line, tag_pos);
    let (program, pid, message_offset) = match parse_tag(token) {
        Some((name, pid)) => (Some(name), pid, skip_spaces(line, token_end)),
        None if token.is_empty() => {
            return Err(HeaderError::new(
                ErrorKind::Syntax,
                tag_pos,
                "a program tag or a message after the host name",
            ))
        }
        None => (None, None, tag_pos),
    };
    Ok(SyslogHeader {
        priority,
        timestamp,
        host,
        program,
        pid,
        message: line.get(message_offset..).unwrap_or(""),
        message_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceTz;

    fn ctx() -> ParseContext {
        ParseContext {
            timezone: SourceTz::Utc,
            now: "2005-08-14T10:00:00Z".parse().unwrap(),
            host: None,
        }
    }

    type Want<'a> = (
        Option<u8>,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<u32>,
        &'a str,
    );

    #[test]
    fn headers() {
        let cases: &[(&str, Want)] = &[
            (
                "Oct 11 01:06:47 ServerJV vsftpd: (pam_unix) authentication failure;",
                (
                    None,
                    "2004-10-11T01:06:47Z",
                    Some("ServerJV"),
                    Some("vsftpd"),
                    None,
                    "(pam_unix) authentication failure;",
                ),
            ),
            (
                "Feb 6 12:02:29 server vsftpd(pam_unix)[15522]: authentication failure;",
                (
                    None,
                    "2005-02-06T12:02:29Z",
                    Some("server"),
                    Some("vsftpd"),
                    Some(15522),
                    "authentication failure;",
                ),
            ),
            (
                "2025-03-04T01:06:36.645577 ip-172-31-3-150 vsftpd[1658]: [u] FAIL LOGIN",
                (
                    None,
                    "2025-03-04T01:06:36.645577Z",
                    Some("ip-172-31-3-150"),
                    Some("vsftpd"),
                    Some(1658),
                    "[u] FAIL LOGIN",
                ),
            ),
            (
                "<4>Jan  8 03:37:09 example-host kernel: [ 3529.289825] IN=eth0",
                (
                    Some(4),
                    "2005-01-08T03:37:09Z",
                    Some("example-host"),
                    Some("kernel"),
                    None,
                    "[ 3529.289825] IN=eth0",
                ),
            ),
            (
                "Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=",
                (
                    None,
                    "2005-06-28T04:35:30Z",
                    Some("Abc-A1"),
                    None,
                    None,
                    "[SOMETHING-1234-A] IN=abc.123 OUT=",
                ),
            ),
            (
                "2019-01-08T03:37:09+01:00 fw kernel: DROP IN=eth0",
                (
                    None,
                    "2019-01-08T02:37:09Z",
                    Some("fw"),
                    Some("kernel"),
                    None,
                    "DROP IN=eth0",
                ),
            ),
            (
                "Oct 11 01:06:47 sshd[12]: Accepted",
                (
                    None,
                    "2004-10-11T01:06:47Z",
                    None,
                    Some("sshd"),
                    Some(12),
                    "Accepted",
                ),
            ),
            (
                "Oct 11 01:06:47 host prog[x]: msg",
                (
                    None,
                    "2004-10-11T01:06:47Z",
                    Some("host"),
                    Some("prog"),
                    None,
                    "msg",
                ),
            ),
            (
                "Oct 11 01:06:47 host kernel:",
                (
                    None,
                    "2004-10-11T01:06:47Z",
                    Some("host"),
                    Some("kernel"),
                    None,
                    "",
                ),
            ),
        ];
        for (line, want) in cases {
            let h = parse_syslog_header(line, &ctx()).unwrap_or_else(|e| panic!("{line}: {e:?}"));
            let got = (h.priority, h.timestamp, h.host, h.program, h.pid, h.message);
            let ts: DateTime<Utc> = want.1.parse().unwrap();
            assert_eq!(got, (want.0, ts, want.2, want.3, want.4, want.5), "{line}");
            assert_eq!(&line[h.message_offset..], h.message);
        }
    }

    #[test]
    fn header_errors() {
        let cases: &[(&str, ErrorKind, usize)] = &[
            ("", ErrorKind::BadTimestamp, 0),
            ("garbage line", ErrorKind::BadTimestamp, 0),
            ("<999>Oct 11 01:06:47 h p: m", ErrorKind::Syntax, 0),
            ("<13", ErrorKind::Syntax, 0),
            ("<13>Oct 11 01:06", ErrorKind::BadTimestamp, 4),
            ("Feb 30 01:06:47 h p: m", ErrorKind::BadTimestamp, 0),
            ("Oct 11 01:06:47", ErrorKind::Syntax, 15),
            ("Oct 11 01:06:47x h", ErrorKind::Syntax, 15),
            ("Oct 11 01:06:47 ", ErrorKind::Syntax, 16),
            ("Oct 11 01:06:47 host", ErrorKind::Syntax, 20),
            ("Oct 11 01:06:47 host ", ErrorKind::Syntax, 21),
        ];
        for (line, kind, offset) in cases {
            let err = parse_syslog_header(line, &ctx()).unwrap_err();
            assert_eq!((err.kind, err.offset), (*kind, *offset), "{line}: {err:?}");
        }
    }
}
