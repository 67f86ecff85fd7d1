//! The RFC 5424 header: `1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`,
//! each field `-` (NILVALUE) when absent. STRUCTURED-DATA is `-` or one or more
//! `[SD-ID PARAM="value" ...]` elements, where a value escapes `"`, `\` and `]` with `\`.
//! A MSG may start with a UTF-8 byte-order mark, which is not part of the message.

use super::{HeaderError, RawHeader, EXPECTED_STAMP};
use crate::time::parse_iso8601_stamp;
use crate::ErrorKind;
use memchr::memchr;

/// The NILVALUE: a field that is not there.
const NIL: &str = "-";

/// The UTF-8 byte-order mark RFC 5424 allows before a message.
const BOM: &str = "\u{feff}";

/// True when `rest` (the line after `<PRI>`) starts with the RFC 5424 version `1 ` followed by
/// a stamp or `-`: nothing else a syslog file holds starts that way.
pub(super) fn starts_with_version(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.starts_with(b"1 ") && matches!(b.get(2), Some(b'0'..=b'9' | b'-'))
}

/// The space-delimited field at `pos` (which must not be empty) and the position after the
/// single space that ends it (the end of the line when no space follows).
fn field<'a>(
    line: &'a str,
    pos: usize,
    expected: &'static str,
) -> Result<(&'a str, usize), HeaderError> {
    let rest = line.get(pos..).unwrap_or("");
    let len = memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
    if len == 0 {
        return Err(HeaderError::new(ErrorKind::Syntax, pos, expected));
    }
    Ok((&rest[..len], (pos + len + 1).min(line.len())))
}

fn non_nil(value: &str) -> Option<&str> {
    (value != NIL).then_some(value)
}

// [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]
// [meta sequenceId="1" note="a \] b"]
/// The length of the STRUCTURED-DATA at the start of `sd`: one or more bracketed elements.
/// Inside a quoted value `\` escapes the next byte, so `\]` and `\"` do not end anything.
fn structured_data_len(sd: &[u8]) -> Option<usize> {
    let mut i = 0;
    while sd.get(i) == Some(&b'[') {
        i += 1;
        let mut quoted = false;
        loop {
            match *sd.get(i)? {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b']' if !quoted => break,
                _ => {}
            }
            i += 1;
        }
        i += 1; // the closing `]`
    }
    (i > 0).then_some(i)
}

// <134>1 2022-06-09T14:44:11-06:00 OPNsense.example.com filterlog 76404 - [meta sequenceId="1"] 124,,,
// <30>1 2025-03-04T01:06:36.645577Z ftp01 vsftpd 1658 - - [username] FAIL LOGIN: Client "192.0.2.222"
// <165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event
/// Splits an RFC 5424 header; `pos` is where the version `1` starts (after any `<PRI>`).
pub(super) fn split(
    line: &str,
    priority: Option<u8>,
    pos: usize,
) -> Result<RawHeader<'_>, HeaderError> {
    let stamp_pos = pos + 2;
    let bytes = line.as_bytes().get(stamp_pos..).unwrap_or_default();
    if bytes.starts_with(b"- ") || bytes == b"-" {
        return Err(HeaderError::new(
            ErrorKind::BadTimestamp,
            stamp_pos,
            "a timestamp (the RFC 5424 NILVALUE `-` carries no time)",
        ));
    }
    let (stamp, used) = parse_iso8601_stamp(bytes)
        .ok_or_else(|| HeaderError::new(ErrorKind::BadTimestamp, stamp_pos, EXPECTED_STAMP))?;
    let mut next = stamp_pos + used;
    if line.as_bytes().get(next) != Some(&b' ') {
        return Err(HeaderError::new(
            ErrorKind::Syntax,
            next,
            "a space after the timestamp",
        ));
    }
    next += 1;
    let (host, next) = field(line, next, "a HOSTNAME or `-`")?;
    let (app, next) = field(line, next, "an APP-NAME or `-`")?;
    let (procid, next) = field(line, next, "a PROCID or `-`")?;
    let (msgid, sd_pos) = field(line, next, "a MSGID or `-`")?;
    let sd_bytes = line.as_bytes().get(sd_pos..).unwrap_or_default();
    let sd_len = if sd_bytes.first() == Some(&b'-') {
        1
    } else {
        structured_data_len(sd_bytes).ok_or_else(|| {
            HeaderError::new(
                ErrorKind::Syntax,
                sd_pos,
                "STRUCTURED-DATA: `-` or `[id param=\"value\"]` elements",
            )
        })?
    };
    let sd_end = sd_pos + sd_len;
    let message_offset = match line.as_bytes().get(sd_end) {
        None => sd_end,
        Some(b' ') if line[sd_end + 1..].starts_with(BOM) => sd_end + 1 + BOM.len(),
        Some(b' ') => sd_end + 1,
        Some(_) => {
            return Err(HeaderError::new(
                ErrorKind::Syntax,
                sd_end,
                "a space or the end of the line after STRUCTURED-DATA",
            ))
        }
    };
    Ok(RawHeader {
        priority,
        stamp,
        stamp_pos,
        host: non_nil(host),
        program: non_nil(app),
        pid: procid.parse().ok(),
        msgid: non_nil(msgid),
        structured_data: line.get(sd_pos..sd_end).and_then(non_nil),
        message_offset,
    })
}
