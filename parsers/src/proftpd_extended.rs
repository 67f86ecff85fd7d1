//! ProFTPD ExtendedLog lines, laid out by the source's `LogFormat` (`ctx.log_format`; ProFTPD's
//! default `%h %l %u %t "%r" %s %b` when none is set). The format is compiled once, on the
//! first line, and kept in the source's [`State`].
//!
//! Variables read: `%a %A %b %d %D %f %F %h %H %J %l %L %m %p %P %r %s %S %t %T %u %U %v %V`,
//! `%{format}t` (a `strftime` subset), `%{iso8601}`, `%{epoch}`, `%{protocol}`,
//! `%{remote-port}`, `%{transfer-status}`; other documented variables are skipped as text.
//!
//! Mapping: the command (`%m`, else the first word of `%r`) gives the action: `RETR` →
//! download, `STOR`/`STOU`/`APPE` → upload, `DELE` → delete, `MKD`/`XMKD` → mkdir,
//! `RMD`/`XRMD` → rmdir, `RNTO` → rename, `SITE CHMOD` → chmod, `PASS` → login, anything else
//! (`USER`, `CWD`, `LIST`, …) → [`Action::FtpCommand`]. The outcome comes from `%s`: below 400
//! is success (`PASS` 230), 400 and up failure (`PASS` 530); for transfers a
//! `%{transfer-status}` other than `success` is a failure. `%a` (else `%h` when it is an
//! address) → `source.ip`, `%{remote-port}` → `source.port`, `%L` (else `%H`, else
//! `ctx.host`) → `destination.ip`, `%p` → `destination.port`; `%u` (else `%U`) → `user.name`;
//! `%A` other than `UNKNOWN` marks an anonymous session; `%b` → `network.bytes` (and
//! `file.size` for transfers); `%f` (else `%F`, `%D`/`%d` for directories, else the command's
//! argument) → `file.path`; `%P` → `process.pid`; `%V` → `host.name`.
//!
//! Decisions: a LogFormat without a time variable, or with a `%{...}t` format that cannot be
//! read back, rejects every line (the error names the problem). Times without an offset
//! (`%{iso8601}`, most `%{...}t`) are in the source's zone; `%t` carries its offset.
//! ProFTPD writes `-` for values it does not have; those fields stay empty.

mod logformat;
mod steps;
mod strftime;

use crate::event::{Action, Dataset, Event, Outcome};
use crate::proftpd::{is_anonymous_user, parse_client_ip};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use compact_str::CompactString;
use logformat::{CompileError, Field, LogFormat, Match};
use std::net::IpAddr;

const FORMAT: Format = Format::ProftpdExtended;

/// ProFTPD's default LogFormat, used when the source names none.
pub const DEFAULT_LOG_FORMAT: &str = "%h %l %u %t \"%r\" %s %b";

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// What this format remembers between lines of one source: its compiled LogFormat (or why
/// it could not be compiled), made from `ctx.log_format` on the first line. A `State` belongs
/// to one source; its context must not change.
#[derive(Debug, Default)]
pub struct State {
    format: Option<Result<LogFormat, CompileError>>,
}

/// The action a command reports.
fn command_action(cmd: &str, arg: Option<&str>) -> Action {
    let is = |names: &[&str]| names.iter().any(|n| cmd.eq_ignore_ascii_case(n));
    if is(&["RETR"]) {
        Action::FtpDownload
    } else if is(&["STOR", "STOU", "APPE"]) {
        Action::FtpUpload
    } else if is(&["DELE"]) {
        Action::FtpDelete
    } else if is(&["MKD", "XMKD"]) {
        Action::FtpMkdir
    } else if is(&["RMD", "XRMD"]) {
        Action::FtpRmdir
    } else if is(&["RNTO"]) {
        Action::FtpRename
    } else if is(&["PASS"]) {
        Action::FtpLogin
    } else if is(&["SITE"])
        && arg.is_some_and(|a| a.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("CHMOD ")))
    {
        Action::FtpChmod
    } else {
        Action::FtpCommand
    }
}

/// The value of a field of [`logformat`]'s number shape (ASCII digits) as a `T`; `None` when
/// it does not fit (what `str::parse` says for digits, without its sign and radix handling).
fn digits_value<T: TryFrom<u64>>(v: &str) -> Option<T> {
    let mut n: u64 = 0;
    for &b in v.as_bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    T::try_from(n).ok()
}

/// A field's value parsed as a number; `BadNumber` at the value's offset when it does not fit.
fn number<T: TryFrom<u64>>(
    m: &Match<'_>,
    line: &str,
    field: Field,
    expected: &'static str,
) -> Result<Option<T>, ParseError> {
    let Some(v) = m.get(field) else {
        return Ok(None);
    };
    digits_value(v).map(Some).ok_or_else(|| {
        let offset = v.as_ptr() as usize - line.as_ptr() as usize;
        err(ErrorKind::BadNumber, offset, expected)
    })
}

/// The file an action is about: the logged path, else the command's argument.
fn file_path<'a>(m: &Match<'a>, action: Action, arg: Option<&'a str>) -> Option<&'a str> {
    let logged = m.get(Field::File).or_else(|| m.get(Field::ClientFile));
    match action {
        Action::FtpDownload | Action::FtpUpload | Action::FtpDelete | Action::FtpRename => {
            logged.or(arg)
        }
        Action::FtpMkdir | Action::FtpRmdir => logged
            .or_else(|| m.get(Field::DirPath))
            .or_else(|| m.get(Field::Dir))
            .or(arg),
        // SITE CHMOD <mode> <path>
        Action::FtpChmod => logged.or_else(|| {
            let rest = arg?.get(6..)?.trim_start();
            rest.split_once(' ').map(|(_, path)| path.trim_start())
        }),
        _ => None,
    }
    .filter(|p| !p.is_empty())
}

/// The outcome of a command from its status code (and transfer status for transfers).
fn outcome_of(action: Action, status: Option<u16>, transfer: Option<&str>) -> Outcome {
    if matches!(action, Action::FtpDownload | Action::FtpUpload) {
        match transfer {
            Some("success") => return Outcome::Success,
            Some(_) => return Outcome::Failure,
            None => {}
        }
    }
    match status {
        Some(s) if s >= 400 => Outcome::Failure,
        Some(_) => Outcome::Success,
        None => Outcome::Unknown,
    }
}

/// An address field: a dotted quad read in place (most are), else as
/// [`parse_client_ip`] reads addresses.
fn address(v: &str) -> Option<IpAddr> {
    match crate::scan::ipv4_prefix(v.as_bytes()) {
        Some((ip, n)) if n == v.len() => Some(IpAddr::V4(ip)),
        _ => parse_client_ip(v),
    }
}

/// Builds the event of a matched line, in the result's own type: mapping a `Result<Event>`
/// into `Result<Option<Event>>` copied the ~330-byte event once more.
fn event_of(m: &Match<'_>, line: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let stamp = m
        .stamp
        .ok_or_else(|| err(ErrorKind::BadTimestamp, 0, "a time"))?;
    let timestamp = stamp
        .resolve(ctx.timezone, ctx.now)
        .ok_or_else(|| err(ErrorKind::BadTimestamp, 0, "a time that exists"))?;
    let request = m.get(Field::Request);
    let (cmd, req_arg) = match request.map(|r| r.split_once(' ').unwrap_or((r, ""))) {
        Some((c, a)) => (Some(c), Some(a).filter(|a| !a.is_empty())),
        None => (None, None),
    };
    let cmd = m.get(Field::Method).or(cmd).unwrap_or("");
    let arg = m.get(Field::Args).or(req_arg);
    let action = command_action(cmd, arg);

    let status: Option<u16> = number(m, line, Field::Status, "a response code")?;
    let mut e = Event::new(timestamp, Dataset::Proftpd, action);
    e.outcome = outcome_of(action, status, m.get(Field::TransferStatus));
    e.source_ip = m
        .get(Field::ClientIp)
        .or_else(|| m.get(Field::ClientHost))
        .and_then(address);
    e.source_port = number(m, line, Field::RemotePort, "a port")?;
    e.destination_ip = m
        .get(Field::LocalIp)
        .or_else(|| m.get(Field::VhostIp))
        .and_then(address)
        .or(ctx.host);
    e.destination_port = number(m, line, Field::LocalPort, "a port")?;
    let user = m.get(Field::User).or_else(|| m.get(Field::OrigUser)).or({
        if cmd.eq_ignore_ascii_case("USER") {
            arg
        } else {
            None
        }
    });
    let anon_password = m.get(Field::AnonPassword).filter(|p| *p != "UNKNOWN");
    e.ftp_anonymous = anon_password.is_some() || user.is_some_and(is_anonymous_user);
    e.user_name = user.map(CompactString::from);
    e.bytes = number(m, line, Field::Bytes, "a byte count")?;
    if matches!(action, Action::FtpDownload | Action::FtpUpload) {
        e.file_size = e.bytes;
    }
    e.file_path = file_path(m, action, arg).map(str::to_owned);
    e.process_pid = number(m, line, Field::Pid, "a pid")?;
    e.host_name = m.get(Field::ServerDns).map(CompactString::from);
    Ok(Some(e))
}

// 192.0.2.5 UNKNOWN alice [10/Oct/2000:13:55:36 -0700] "RETR /pub/a.iso" 226 1048576
// 2024-03-04 10:20:30,123 192.0.2.5 21 alice STOR /incoming/a.txt 226 "Transfer complete" 512
/// Parses one ExtendedLog line against the source's LogFormat (compiled into `state` on the
/// first call). Every line is an event: ProFTPD writes a line per logged command.
pub fn parse_extended_line(
    line: &[u8],
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let compiled = state.format.get_or_insert_with(|| {
        logformat::compile(ctx.log_format.as_deref().unwrap_or(DEFAULT_LOG_FORMAT))
    });
    let format = match compiled {
        Ok(f) => f,
        Err((kind, expected)) => return Err(err(*kind, 0, expected)),
    };
    let s = line_text(FORMAT, line)?;
    let mut m = Match::new(s);
    logformat::match_line(format, s, &mut m).map_err(|f| err(f.kind, f.offset, f.expected))?;
    event_of(&m, s, ctx)
}

#[cfg(test)]
mod tests;
