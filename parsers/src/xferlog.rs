//! xferlog transfer logs (wu-ftpd format), as vsftpd writes them with `xferlog_std_format=YES`
//! and ProFTPD with `TransferLog`; see xferlog(5):
//!
//! `current-time transfer-time remote-host file-size filename transfer-type special-action
//! direction access-mode username service-name auth-method auth-user-id completion-status`
//!
//! `current-time` is a `ctime` stamp with a year in the source's zone. The file name may hold
//! spaces (vsftpd writes it as it is), so it is what lies between the file size and the nine
//! fixed fields read from the right. Older wu-ftpd lines without the completion status (eight
//! right-hand fields) are read too.
//!
//! Mapping: direction `o` → [`Action::FtpDownload`], `i` → [`Action::FtpUpload`], `d` →
//! [`Action::FtpDelete`]; completion `c` → success, `i` (incomplete) → failure, absent →
//! unknown; `file-size` → `network.bytes` and `file.size`; `filename` → `file.path`;
//! `transfer-time` of an upload or download → `event.duration`, with `event.end` = the line's
//! time (xferlog writes the line when the transfer ends).
//!
//! Decisions: access mode `a` (anonymous) sets `ftp.anonymous` and `user.name` =
//! `"anonymous"`: the username field of such a row is the password the client typed (usually
//! an e-mail address), which is neither the account nor something to keep. A `remote-host`
//! that is a host name (wu-ftpd with name resolution) leaves `source.ip` empty: portcullis does
//! not resolve names, and the event has no field for a client's name. Lines starting with `#`
//! (comments, such as a `# fields:` description) are `Ok(None)`.

use crate::event::{Action, Dataset, Event, Outcome};
use crate::proftpd::{is_anonymous_user, parse_client_ip};
use crate::time::{looks_like_ctime, parse_ctime_stamp};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError, MAX_LINE_LEN};
use compact_str::CompactString;
use memchr::memchr;

const FORMAT: Format = Format::Xferlog;

/// Fixed fields right of the file name: type, action, direction, access mode, user, service,
/// auth method, auth user id, completion status.
const RIGHT_FIELDS: usize = 9;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// The fixed fields right of the file name.
#[derive(Debug, PartialEq, Eq)]
struct Tail<'a> {
    direction: u8,
    access_mode: u8,
    username: &'a str,
    completion: Option<u8>,
}

/// One byte when `s` is one of `allowed`.
fn one_of(s: &str, allowed: &[u8]) -> Option<u8> {
    match s.as_bytes() {
        [c] if allowed.contains(c) => Some(*c),
        _ => None,
    }
}

// b _ o r suporte ftp 0 * c   →   (right-most first) [c, *, 0, ftp, suporte, r, o, _, b]
/// Reads the right-hand fields from `fields` (right-most first): nine with a completion status,
/// eight without.
fn parse_tail<'a>(fields: &[&'a str], with_completion: bool) -> Option<Tail<'a>> {
    let f = if with_completion {
        fields.get(1..RIGHT_FIELDS)?
    } else {
        fields.get(..RIGHT_FIELDS - 1)?
    };
    // f (right-most first): auth-user-id, auth-method, service, username, access, direction,
    // special-action, transfer-type.
    let [_auth_id, method, service, username, access, direction, action, kind] = f else {
        return None;
    };
    one_of(kind, b"ab")?;
    if action.is_empty() || !action.bytes().all(|b| b"_CUT".contains(&b)) {
        return None;
    }
    if service.is_empty() || method.is_empty() || !method.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let completion = if with_completion {
        Some(one_of(fields.first()?, b"ci")?)
    } else {
        None
    };
    Some(Tail {
        direction: one_of(direction, b"oid")?,
        access_mode: one_of(access, b"agr")?,
        username,
        completion,
    })
}

/// Splits off up to [`RIGHT_FIELDS`] space-separated fields from the right of `rest`; returns
/// them right-most first and how many there are.
/// The fields are a byte or a short word each, so a plain backward scan beats a vector search
/// started per field.
fn split_right(rest: &str) -> ([&str; RIGHT_FIELDS], usize) {
    let mut fields = [""; RIGHT_FIELDS];
    let b = rest.as_bytes();
    let (mut end, mut n) = (b.len(), 0);
    for i in (0..b.len()).rev() {
        if b[i] == b' ' {
            fields[n] = &rest[i + 1..end];
            n += 1;
            end = i;
            if n == RIGHT_FIELDS {
                break;
            }
        }
    }
    (fields, n)
}

/// The next space-delimited field at `pos` and the position after its space.
fn next_field<'a>(
    s: &'a str,
    pos: usize,
    expected: &'static str,
) -> Result<(&'a str, usize), ParseError> {
    let rest = s.get(pos..).unwrap_or("");
    let len = memchr(b' ', rest.as_bytes()).ok_or_else(|| err(ErrorKind::Syntax, pos, expected))?;
    if len == 0 {
        return Err(err(ErrorKind::Syntax, pos, expected));
    }
    Ok((&rest[..len], pos + len + 1))
}

// Thu Sep  2 09:52:00 2004 50 192.168.20.10 896242 /home/test/file1.tgz b _ o r suporte ftp 0 * c
// Mon Mar  4 10:00:00 2024 0 ::ffff:192.0.2.7 0 /incoming/a b.txt b _ i a guest@example.com ftp 0 * i
/// Parses one xferlog line. `Ok(None)` for `#` comment lines.
pub fn parse_xferlog_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    if line.len() <= MAX_LINE_LEN && line.first() == Some(&b'#') {
        return Ok(None);
    }
    let s = line_text(FORMAT, line)?;
    let bad_date = || {
        err(
            ErrorKind::BadTimestamp,
            0,
            "a date like `Thu Sep  2 09:52:00 2004`",
        )
    };
    if !looks_like_ctime(s.as_bytes()) {
        return Err(bad_date());
    }
    let (naive, used) = parse_ctime_stamp(s.as_bytes()).ok_or_else(bad_date)?;
    if s.as_bytes().get(used) != Some(&b' ') {
        return Err(err(ErrorKind::Syntax, used, "a space after the date"));
    }
    let secs_pos = used + 1;
    let (secs, pos) = next_field(s, secs_pos, "the transfer time in seconds")?;
    let (whole, frac) = match memchr(b'.', secs.as_bytes()) {
        Some(dot) => (&secs[..dot], &secs[dot + 1..]),
        None => (secs, "0"),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return Err(err(
            ErrorKind::BadNumber,
            secs_pos,
            "the transfer time in seconds",
        ));
    }
    let duration_ns = seconds_to_ns(whole, frac);
    let host_pos = pos;
    let (remote_host, pos) = next_field(s, host_pos, "the remote host")?;
    let size_pos = pos;
    let (size, pos) = next_field(s, size_pos, "the file size")?;
    let size: u64 = size
        .parse()
        .map_err(|_| err(ErrorKind::BadNumber, size_pos, "the file size in bytes"))?;

    let rest = &s[pos..];
    let (fields, n) = split_right(rest);
    let fields = &fields[..n];
    let tail = parse_tail(fields, true)
        .or_else(|| parse_tail(fields, false))
        .ok_or_else(|| {
            err(
                ErrorKind::Syntax,
                pos,
                "`<a|b> <action> <o|i|d> <a|g|r> <user> <service> <auth> <auth-id> [c|i]`",
            )
        })?;
    let file_name = file_name_of(rest, fields, tail.completion.is_some());
    if file_name.is_empty() {
        return Err(err(ErrorKind::Syntax, pos, "a file name"));
    }

    let action = match tail.direction {
        b'o' => Action::FtpDownload,
        b'i' => Action::FtpUpload,
        _ => Action::FtpDelete,
    };
    let mut e = Event::new(ctx.timezone.to_utc(naive), Dataset::Xferlog, action);
    e.outcome = match tail.completion {
        Some(b'c') => Outcome::Success,
        Some(_) => Outcome::Failure,
        None => Outcome::Unknown,
    };
    e.source_ip = parse_client_ip(remote_host);
    e.destination_ip = ctx.host;
    e.bytes = Some(size);
    e.file_size = Some(size);
    e.file_path = Some(file_name.to_owned());
    if let Some(ns) = duration_ns.filter(|_| action != Action::FtpDelete) {
        e.set_ended_after(ns);
    }
    if tail.access_mode == b'a' {
        e.ftp_anonymous = true;
        e.user_name = Some(CompactString::const_new("anonymous"));
    } else {
        e.ftp_anonymous = is_anonymous_user(tail.username);
        e.user_name = Some(CompactString::from(tail.username));
    }
    Ok(Some(e))
}

// "12", "345"   →   12_345_000_000 (whole and fractional digits of `12.345` seconds)
/// Nanoseconds of a decimal number of seconds given as its digit strings; digits past the
/// nanosecond are dropped. `None` when it does not fit (a corrupt field, not a real transfer).
fn seconds_to_ns(whole: &str, frac: &str) -> Option<u64> {
    const NANOS_PER_SEC: u64 = 1_000_000_000;
    // Both are checked to be digits; fold them without the general number parser.
    let value = |d: &[u8]| {
        d.iter().try_fold(0u64, |v, c| {
            v.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        })
    };
    let frac = frac.as_bytes();
    let frac = &frac[..frac.len().min(9)];
    let scale = 10u64.pow(9 - frac.len() as u32);
    let whole = value(whole.as_bytes())?;
    whole
        .checked_mul(NANOS_PER_SEC)?
        .checked_add(value(frac)? * scale)
}

/// The file name: what is left of `rest` once the fixed right-hand fields (9 with a
/// completion status, 8 without) and their spaces are taken off.
fn file_name_of<'a>(rest: &'a str, fields: &[&str], with_completion: bool) -> &'a str {
    let count = if with_completion {
        RIGHT_FIELDS
    } else {
        RIGHT_FIELDS - 1
    };
    let taken: usize = fields.iter().take(count).map(|f| f.len() + 1).sum();
    rest.get(..rest.len().saturating_sub(taken)).unwrap_or("")
}

#[cfg(test)]
mod tests;
