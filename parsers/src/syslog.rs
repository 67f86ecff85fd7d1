//! The syslog header as files and relays write it, shared by every syslog-borne format.
//!
//! Two shapes, both with an optional `<PRI>`:
//! * RFC 3164 and what files hold: a timestamp (`Mmm dd hh:mm:ss`, ISO 8601 / RFC 3339, or the
//!   `YYYY-MM-DD hh:mm:ss,mmm` form some daemons write), a host name, an optional program tag
//!   (`prog:`, `prog[pid]:`, `prog(pam_unix)[pid]:`, and ProFTPD's colon-less `prog[pid]`) and
//!   the message;
//! * RFC 5424: `1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]` with `-` for absent fields
//!   (see the `rfc5424` submodule).
//!
//! Both give the same [`SyslogHeader`], so a line relayed in either form parses like the line
//! the server wrote itself. Everything returned borrows from the line.

mod rfc5424;

use crate::time::{parse_iso_datetime, parse_rfc3164_stamp, Stamp};
use crate::{ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Utc};
use memchr::memchr;

/// Largest syslog priority: facility 23 × 8 + severity 7.
pub const MAX_PRIORITY: u8 = 191;

/// The parsed header of one syslog line. String fields borrow from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogHeader<'a> {
    /// `<PRI>` when the line starts with one (lines received over the network).
    pub priority: Option<u8>,
    /// The stamp in UTC: the source's zone applied, the year rule applied to year-less stamps.
    pub timestamp: DateTime<Utc>,
    /// The host name field; `None` when the tag follows the stamp directly, or for the RFC 5424
    /// NILVALUE `-`.
    pub host: Option<&'a str>,
    /// The program name of the tag (`vsftpd` for `vsftpd(pam_unix)[15522]:`; the APP-NAME of an
    /// RFC 5424 line); `None` when the message follows the host directly (EdgeOS firewall
    /// lines) or the APP-NAME is `-`.
    pub program: Option<&'a str>,
    /// The pid of the tag (`prog[pid]:`; the PROCID of an RFC 5424 line), when numeric.
    pub pid: Option<u32>,
    /// The RFC 5424 MSGID, when present and not `-`; always `None` for other lines.
    pub msgid: Option<&'a str>,
    /// The RFC 5424 STRUCTURED-DATA as written (`[id k="v"][id2]`), when not `-`.
    pub structured_data: Option<&'a str>,
    /// Everything after the tag and the spaces that follow it (after the structured data and
    /// an optional byte-order mark for RFC 5424).
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

/// A header before the source's zone and the year rule are applied to its stamp.
#[derive(Debug, Clone, Copy)]
struct RawHeader<'a> {
    priority: Option<u8>,
    stamp: Stamp,
    stamp_pos: usize,
    host: Option<&'a str>,
    program: Option<&'a str>,
    pid: Option<u32>,
    msgid: Option<&'a str>,
    structured_data: Option<&'a str>,
    message_offset: usize,
}

const EXPECTED_STAMP: &str = "a timestamp like `Oct 11 01:06:47` or `2025-03-04T01:06:36`";

// <13>Oct 11 01:06:47 host prog: msg   →   (13, 4)
/// A `<PRI>` prefix with a value of at most [`MAX_PRIORITY`], and the length it takes.
fn parse_priority(line: &[u8]) -> Option<(u8, usize)> {
    if line.first() != Some(&b'<') {
        return None;
    }
    let digits = line[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || line.get(1 + digits) != Some(&b'>') {
        return None;
    }
    let v = line[1..1 + digits].iter().fold(0u32, |v, &c| {
        v.saturating_mul(10).saturating_add(u32::from(c - b'0'))
    });
    let p = u8::try_from(v).ok().filter(|p| *p <= MAX_PRIORITY)?;
    Some((p, digits + 2))
}

// vsftpd(pam_unix)[15522]:   →   ("vsftpd", Some(15522))
// kernel:                    →   ("kernel", None)
// proftpd[25526]             →   ("proftpd", Some(25526))   (ProFTPD leaves the colon out)
/// A whole program tag token: name, optional `(detail)`, optional `[pid]`, then `:`. Without
/// the `:` only `name[digits]` counts as a tag, so a message's first word is not taken for one.
fn parse_tag(token: &str) -> Option<(&str, Option<u32>)> {
    // By hand over bytes: this runs for every syslog line (a nom version cost ~450
    // instructions a call).
    let b = token.as_bytes();
    let name_end = b
        .iter()
        .position(|&c| matches!(c, b'[' | b'(' | b':'))
        .unwrap_or(b.len());
    if name_end == 0 {
        return None;
    }
    let mut i = name_end;
    if b.get(i) == Some(&b'(') {
        i += 1 + memchr(b')', &b[i + 1..])? + 1;
    }
    let mut pid = None;
    if b.get(i) == Some(&b'[') {
        let close = i + 1 + memchr(b']', &b[i + 1..])?;
        pid = Some(&token[i + 1..close]);
        i = close + 1;
    }
    let colon = b.get(i) == Some(&b':');
    if i + usize::from(colon) != b.len() {
        return None;
    }
    let name = &token[..name_end];
    match pid {
        _ if colon => Some((name, pid.and_then(|p| p.parse().ok()))),
        Some(p) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
            Some((name, p.parse().ok()))
        }
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
// <134>1 2022-06-09T14:44:11-06:00 OPNsense.example.com filterlog 76404 - [meta x="1"] 124,,...
/// Splits `line` into its header fields without applying a zone to the stamp.
fn split_header(line: &str) -> Result<RawHeader<'_>, HeaderError> {
    let (priority, pos) = if line.starts_with('<') {
        match parse_priority(line.as_bytes()) {
            Some((p, len)) => (Some(p), len),
            None => return Err(HeaderError::new(ErrorKind::Syntax, 0, "<PRI> of 0..191")),
        }
    } else {
        (None, 0)
    };
    if line.get(pos..).is_some_and(rfc5424::starts_with_version) {
        return rfc5424::split(line, priority, pos);
    }
    split_rfc3164(line, priority, pos)
}

// Oct 11 01:06:47 host vsftpd[12]: msg
// 2013-11-16 21:59:30,121 novo proftpd[25891] localhost (andy[1.2.3.4]): USER kjsad: ...
/// The RFC 3164 / file header after the `<PRI>`.
fn split_rfc3164(
    line: &str,
    priority: Option<u8>,
    stamp_pos: usize,
) -> Result<RawHeader<'_>, HeaderError> {
    let bytes = line.as_bytes().get(stamp_pos..).unwrap_or_default();
    let parsed = if bytes.first().is_some_and(u8::is_ascii_digit) {
        parse_iso_datetime(bytes)
    } else {
        parse_rfc3164_stamp(bytes)
    };
    let (stamp, used) = parsed
        .ok_or_else(|| HeaderError::new(ErrorKind::BadTimestamp, stamp_pos, EXPECTED_STAMP))?;
    let mut pos = stamp_pos + used;
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
    let host_less = first.ends_with(':').then(|| parse_tag(first)).flatten();
    let (host, tag_pos, tag) = match host_less {
        Some(tag) => (None, pos, Some(tag)),
        None => {
            let tag_pos = skip_spaces(line, first_end);
            (Some(first), tag_pos, None)
        }
    };
    let (token, token_end) = token_at(line, tag_pos);
    let (program, pid, message_offset) = match tag.or_else(|| parse_tag(token)) {
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
    Ok(RawHeader {
        priority,
        stamp,
        stamp_pos,
        host,
        program,
        pid,
        msgid: None,
        structured_data: None,
        message_offset,
    })
}

// <13>Jan  8 03:37:09 example-host kernel: iptables DROP_INPUT: IN=eth0 ...
// 2025-03-04T01:06:36.645577 ip-172-31-3-150 vsftpd[1658]: [username] FAIL LOGIN: ...
// Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 ...
// <30>1 2025-03-04T01:06:36.645577Z ftp01 vsftpd 1658 - - [username] FAIL LOGIN: ...
/// Parses the syslog header of `line` (RFC 3164, file, or RFC 5424 form) and applies the
/// context's zone and year rule.
pub fn parse_syslog_header<'a>(
    line: &'a str,
    ctx: &ParseContext,
) -> Result<SyslogHeader<'a>, HeaderError> {
    let raw = split_header(line)?;
    let timestamp = raw
        .stamp
        .resolve(ctx.timezone, ctx.now)
        .ok_or_else(|| HeaderError::new(ErrorKind::BadTimestamp, raw.stamp_pos, EXPECTED_STAMP))?;
    Ok(SyslogHeader {
        priority: raw.priority,
        timestamp,
        host: raw.host,
        program: raw.program,
        pid: raw.pid,
        msgid: raw.msgid,
        structured_data: raw.structured_data,
        message: line.get(raw.message_offset..).unwrap_or(""),
        message_offset: raw.message_offset,
    })
}

// Oct 11 01:06:47 host proftpd[12] host.example (…)   →   Some("proftpd")
// <30>1 2025-03-04T01:06:36Z ftp01 vsftpd 1658 - - …   →   Some("vsftpd")
// pure-ftpd: (?@192.0.2.1) [INFO] New connection …     →   None (no syslog header)
/// The program tag of a line that has a syslog header (either RFC), for format detection.
/// `None` when the line has no syslog header or its header names no program. Only the header
/// has to be UTF-8 (the message may hold any bytes); lines past [`crate::MAX_LINE_LEN`] are
/// read no further than that.
pub fn program_of(line: &[u8]) -> Option<&str> {
    let head = line.get(..line.len().min(crate::MAX_LINE_LEN))?;
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // The header is ASCII; a bad byte later in the message does not hide it.
        Err(e) => std::str::from_utf8(head.get(..e.valid_up_to())?).ok()?,
    };
    split_header(text).ok()?.program
}

#[cfg(test)]
mod tests;
