//! portcullis-parsers: bytes in, normalized [`Event`]s out.
//!
//! Pure functions only: no I/O, no threads, no global state. The caller splits input into lines,
//! chooses (or detects) a [`Format`], and passes a [`ParseContext`] that says how to read the
//! source's times and which host wrote it.

pub mod asa;
pub mod bftpd;
pub mod event;
pub mod filezilla;
pub mod filterlog;
pub mod format;
pub mod iis;
pub mod iptables;
pub mod netflow;
pub mod nfdump;
pub mod parser;
pub mod pf;
pub mod proftpd;
pub mod proftpd_extended;
pub mod pureftpd;
mod scan;
pub mod servu;
pub mod sshd;
pub mod syslog;
pub mod time;
pub mod vsftpd;
pub mod w3c;
pub mod winfw;
pub mod wsftp;
pub mod xferlog;

pub use event::{Action, Dataset, Event, Origin, Outcome, TcpFlags, Transport};
pub use format::Format;
pub use parser::LineParser;
pub use time::SourceTz;

use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// Longest line a parser accepts. Real FTP and firewall lines are under 1 KiB; 16 KiB leaves room
/// for long paths while keeping a hostile line from costing more than a bounded amount of work.
pub const MAX_LINE_LEN: usize = 16 * 1024;

/// What a parser needs to know about the source beyond the line itself.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// Time zone of timestamps that carry no offset.
    pub timezone: SourceTz,
    /// Reference time for year-less timestamps: a line gets the year that puts it closest to
    /// this instant without being more than a day after it.
    pub now: DateTime<Utc>,
    /// Address of the host that writes this log. FTP server logs do not name the server's own
    /// address; when set, it becomes `destination.ip` of FTP events.
    pub host: Option<IpAddr>,
    /// The log's own line layout, for formats that are configured rather than fixed
    /// (ProFTPD ExtendedLog: its `LogFormat` string).
    pub log_format: Option<String>,
}

impl ParseContext {
    /// A context for a source in the given zone, with the current time as reference.
    pub fn new(timezone: SourceTz) -> ParseContext {
        ParseContext {
            timezone,
            now: Utc::now(),
            host: None,
            log_format: None,
        }
    }
}

/// Why a line was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The line does not have the format's shape.
    Syntax,
    /// The line is not valid UTF-8 where text was required.
    InvalidUtf8,
    /// The line is longer than [`MAX_LINE_LEN`].
    TooLong,
    /// The timestamp is missing or not a real date/time.
    BadTimestamp,
    /// An IP address field does not hold an address.
    BadAddress,
    /// A numeric field (port, byte count, pid) does not hold a number in range.
    BadNumber,
}

/// A rejected line: which format, at which byte of the line, what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {kind:?} at byte {offset}: expected {expected}")]
pub struct ParseError {
    /// The format the line was parsed as.
    pub format: Format,
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset within the line where parsing stopped.
    pub offset: usize,
    /// What the parser expected at that offset.
    pub expected: &'static str,
}

impl ParseError {
    /// Builds an error at `offset` of the line.
    pub fn new(format: Format, kind: ErrorKind, offset: usize, expected: &'static str) -> Self {
        ParseError {
            format,
            kind,
            offset,
            expected,
        }
    }
}

/// The checks every line format starts with: not too long, not empty, valid UTF-8. Returns the
/// line as text without a trailing `\r` (a CRLF file split on `\n`).
pub(crate) fn line_text(format: Format, line: &[u8]) -> Result<&str, ParseError> {
    if line.len() > MAX_LINE_LEN {
        return Err(ParseError::new(
            format,
            ErrorKind::TooLong,
            MAX_LINE_LEN,
            "a line of at most 16 KiB",
        ));
    }
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(ParseError::new(
            format,
            ErrorKind::Syntax,
            0,
            "a non-empty line",
        ));
    }
    std::str::from_utf8(line).map_err(|e| {
        ParseError::new(
            format,
            ErrorKind::InvalidUtf8,
            e.valid_up_to(),
            "UTF-8 text",
        )
    })
}

/// Parses one line (without its line terminator) in the given format, with no memory of
/// earlier lines. Formats whose events span lines (IIS, FileZilla, Pure-FTPd logins) need a
/// [`LineParser`] kept for the whole source.
///
/// `Ok(Some(event))`: the line is an event. `Ok(None)`: the line is well formed but carries no
/// event (a kernel message that is not a firewall log, an FTP protocol response). `Err`: the
/// line is rejected; the caller counts it and goes on with the next line.
pub fn parse_line(
    format: Format,
    line: &[u8],
    ctx: &ParseContext,
) -> Result<Option<Event>, ParseError> {
    LineParser::new(format, ctx.clone()).parse(line)
}

/// Number of leading lines [`detect_format`] looks at.
pub const DETECT_LINES: usize = 50;

/// Guesses the format of a file from its first lines: the format under which the most of the
/// first [`DETECT_LINES`] non-empty lines parse as events. `None` when no line parses.
pub fn detect_format(head: &[u8], ctx: &ParseContext) -> Option<Format> {
    let lines: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .take(DETECT_LINES)
        .collect();
    Format::ALL
        .iter()
        .map(|&format| {
            let mut parser = LineParser::new(format, ctx.clone());
            let events = lines
                .iter()
                .filter(|l| matches!(parser.parse(l), Ok(Some(_))))
                .count();
            (events, format)
        })
        .filter(|(events, _)| *events > 0)
        .max_by_key(|(events, _)| *events)
        .map(|(_, format)| format)
}
