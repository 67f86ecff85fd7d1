//! IIS FTP service logs in W3C extended format (IIS 5/6 `MSFTPSVC` and IIS 7+ FTP).
//!
//! Columns follow the last `#Fields:` directive ([`crate::w3c`]); `#Date:` is remembered for
//! lines without a `date` column; other directives (`#Software`, `#Version`, corpus comments)
//! are `Ok(None)`. Times are UTC whatever `ctx.timezone` says (IIS always logs UTC).
//!
//! Before any `#Fields:`, lines that start with a date use the IIS 7+ default
//! (`date time c-ip cs-username s-ip s-port cs-method cs-uri-stem sc-status sc-win32-status
//! sc-substatus x-session x-fullpath`), others the IIS 5/6 default (`time c-ip cs-method
//! cs-uri-stem sc-status sc-win32-status`, the method written `[session]VERB`). A line whose
//! column count does not match its layout is accepted only when it has such a `[session]VERB`
//! column: first the two defaults are tried as exact fits, then the layout is aligned on that
//! column (lines cut short lose their last columns; a `YYYY-MM-DD` column just before the
//! aligned ones is taken as the date; byte counts that are not numbers there are left out, as
//! they may be another layout's columns). This reads the concatenated samples real collections
//! hold; any other mismatch is a `Syntax` error.
//!
//! A line without a date column takes the date of the last `#Date:` (the next day when its time
//! is earlier than the directive's: midnight passed), or, with no `#Date:` either, the date that
//! puts it at most an hour after `ctx.now` (the most recent such time).
//!
//! Events: a login spans `USER name` (remembered per session: `x-session`, or the `[n]` of
//! IIS 5/6; `Ok(None)`) and `PASS`, which gives one `ftp.login` with the USER name (else the
//! line's `cs-username`): `230`/2xx success, 4xx/5xx (`530` with win32 status 1326 = bad user
//! or password) failure. `ControlChannelOpened` is `ftp.connect`. RETR/`sent` → download,
//! STOR/STOU/APPE/`created`/`appended` → upload, DELE/`deleted` → delete, MKD/XMKD → mkdir,
//! RMD/XRMD → rmdir, RNTO → rename (the new name), each with `x-fullpath` (else
//! `cs-uri-stem`) as `file.path`; other commands are `ftp.command`. Outcome: status 1xx–3xx
//! success, 4xx/5xx failure. `network.bytes` = `sc-bytes` + `cs-bytes`; `file.size` = the
//! bytes sent (download) or received (upload). `ControlChannelClosed`, `DataChannel*` are
//! `Ok(None)`. Anonymous: user `anonymous`, `ftp`, or IIS's anonymous account `IUSR`/`IUSR_*`.
//! `s-ip`/`s-port` → destination (else `ctx.host`), `c-ip`/`c-port` → source,
//! `s-computername` → `host.name`. HTTP methods (an IIS web log) are rejected.

use crate::event::{Action, Dataset, Event, Outcome};
use crate::filezilla::session::{is_anonymous, session_key, SessionTable};
use crate::w3c::{self, Columns, Layout};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use compact_str::CompactString;
use std::net::IpAddr;

const FORMAT: Format = Format::IisFtp;

/// Field ids of the columns IIS FTP logs that events use.
mod f {
    pub const DATE: usize = 0;
    pub const TIME: usize = 1;
    pub const C_IP: usize = 2;
    pub const C_PORT: usize = 3;
    pub const CS_USERNAME: usize = 4;
    pub const S_COMPUTERNAME: usize = 5;
    pub const S_IP: usize = 6;
    pub const S_PORT: usize = 7;
    pub const CS_METHOD: usize = 8;
    pub const CS_URI_STEM: usize = 9;
    pub const SC_STATUS: usize = 10;
    pub const SC_BYTES: usize = 11;
    pub const CS_BYTES: usize = 12;
    pub const X_SESSION: usize = 13;
    pub const X_FULLPATH: usize = 14;
    /// How many there are.
    pub const K: usize = 15;
    /// Their W3C names, by id.
    pub const NAMES: [&str; K] = [
        "date",
        "time",
        "c-ip",
        "c-port",
        "cs-username",
        "s-computername",
        "s-ip",
        "s-port",
        "cs-method",
        "cs-uri-stem",
        "sc-status",
        "sc-bytes",
        "cs-bytes",
        "x-session",
        "x-fullpath",
    ];
}

fn lookup(name: &str) -> Option<usize> {
    f::NAMES.iter().position(|n| n.eq_ignore_ascii_case(name))
}

/// IIS 7+ FTP default `#Fields:` (logExtFileFlags defaults).
const DEFAULT_IIS7: &str = "date time c-ip cs-username s-ip s-port cs-method cs-uri-stem \
                            sc-status sc-win32-status sc-substatus x-session x-fullpath";
/// IIS 5/6 FTP default extended fields.
const DEFAULT_IIS5: &str = "time c-ip cs-method cs-uri-stem sc-status sc-win32-status";

/// A clock may run a little ahead of the reader: how far after `ctx.now` a date-less line
/// may fall before it is taken as yesterday's.
const FUTURE_ALLOWANCE: TimeDelta = TimeDelta::hours(1);

type IisLayout = Layout<{ f::K }>;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// What this format remembers between lines of one source: the current layout, the `#Date:`
/// directive, and the user each open session named.
#[derive(Debug, Default)]
pub struct State {
    layout: Option<IisLayout>,
    date: Option<NaiveDateTime>,
    /// The last `date` column read and its value: lines share a date for a whole day.
    last_date: Option<([u8; 10], NaiveDate)>,
    pub(crate) users: SessionTable<Option<CompactString>>,
}

/// The column of each field for one line, after fitting the line to a layout.
struct Row<'a> {
    cols: Columns<'a>,
    at: [Option<usize>; f::K],
    /// Fitted by aligning on the method column: the layout past the status is a guess.
    aligned: bool,
}

impl<'a> Row<'a> {
    fn value(&self, id: usize) -> Option<&'a str> {
        self.at[id].and_then(|c| self.cols.value(c))
    }

    fn offset(&self, id: usize) -> usize {
        self.at[id].map_or(0, |c| self.cols.offset(c))
    }

    fn number<T: std::str::FromStr>(&self, id: usize) -> Result<Option<T>, ParseError> {
        match self.value(id) {
            None => Ok(None),
            // Byte counts of an aligned line may be another layout's columns: left out.
            Some(v) if self.aligned && matches!(id, f::SC_BYTES | f::CS_BYTES) => {
                Ok(v.parse().ok())
            }
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| err(ErrorKind::BadNumber, self.offset(id), "a number in range")),
        }
    }

    fn ip(&self, id: usize) -> Result<Option<IpAddr>, ParseError> {
        match self.value(id) {
            None => Ok(None),
            Some(v) => w3c::parse_ip(v)
                .map(Some)
                .ok_or_else(|| err(ErrorKind::BadAddress, self.offset(id), "an IP address")),
        }
    }
}

/// `[62]USER` → (`62`, `USER`): the IIS 5/6 session prefix of a method column.
fn split_session(method: &str) -> Option<(&str, &str)> {
    let rest = method.strip_prefix('[')?;
    let close = rest.find(']')?;
    let id = &rest[..close];
    (!id.is_empty() && id.bytes().all(|c| c.is_ascii_digit())).then(|| (id, &rest[close + 1..]))
}

// ab3a48eb-256b-44ac-bff3-d9e50d457d48   →   the key `session_key` gives it
/// The session key of an `x-session` value. IIS writes GUIDs (`8-4-4-4-12` hex digits): read
/// here in one pass over the bytes, with the key [`session_key`] gives a GUID; any other id
/// goes to it.
fn x_session_key(id: &str) -> u128 {
    let b = id.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return session_key(id);
    }
    // Branch-free: each digit's value from a table, a bad byte remembered in `bad`; GUID
    // digits are random, so a branch per digit class would be mispredicted often.
    let mut bad = 0u8;
    let mut hex = |v: u64, digits: &[u8]| {
        digits.iter().fold(v, |v, &c| {
            let d = HEX[usize::from(c)];
            bad |= d;
            v << 4 | u64::from(d & 0xf)
        })
    };
    let hi = hex(0, &b[..8]);
    let hi = hex(hi, &b[9..13]);
    let hi = hex(hi, &b[14..18]);
    let lo = hex(0, &b[19..23]);
    let lo = hex(lo, &b[24..]);
    if bad & NOT_HEX != 0 {
        return session_key(id);
    }
    (u128::from(hi) << 64 | u128::from(lo)) ^ (1 << 127) // as `session_key` marks a GUID
}

/// Marks a byte that is no hex digit in [`HEX`].
const NOT_HEX: u8 = 0x80;

/// The value of each hex digit byte, [`NOT_HEX`] for every other byte.
static HEX: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Fits a line's columns to a layout (see the module notes).
fn fit<'a>(cols: Columns<'a>, state: &State) -> Result<Row<'a>, ParseError> {
    // By shape, not by value: a line with a bad date is still an IIS 7 line.
    let starts_with_date = cols.get(0).is_some_and(|c| {
        let b = c.as_bytes();
        b.len() == 10 && b[4] == b'-' && b[7] == b'-'
    });
    let layout = state.layout.unwrap_or_else(|| {
        Layout::from_default(
            if starts_with_date {
                DEFAULT_IIS7
            } else {
                DEFAULT_IIS5
            },
            lookup,
        )
    });
    let mut row = Row {
        cols,
        at: [None; f::K],
        aligned: false,
    };
    let place = |row: &mut Row<'a>, layout: &IisLayout, shift: isize| {
        for id in 0..f::K {
            row.at[id] = layout
                .column(id)
                .and_then(|c| c.checked_add_signed(shift))
                .filter(|&c| c < row.cols.len());
        }
    };
    if cols.len() == layout.columns() {
        // Every column of the layout is on the line.
        for (id, at) in row.at.iter_mut().enumerate() {
            *at = layout.column(id);
        }
        return Ok(row);
    }
    let anchor = (0..cols.len()).find(|&i| cols.get(i).and_then(split_session).is_some());
    let Some(anchor) = anchor else {
        let at = cols.offset(cols.len().min(layout.columns()));
        return Err(err(
            ErrorKind::Syntax,
            at,
            "as many columns as the #Fields directive names",
        ));
    };
    for default in [DEFAULT_IIS5, DEFAULT_IIS7] {
        let d: IisLayout = Layout::from_default(default, lookup);
        if d.columns() == cols.len() && d.column(f::CS_METHOD) == Some(anchor) {
            place(&mut row, &d, 0);
            return Ok(row);
        }
    }
    let method = layout
        .column(f::CS_METHOD)
        .ok_or_else(|| err(ErrorKind::Syntax, 0, "a #Fields directive with cs-method"))?;
    let shift = anchor as isize - method as isize;
    place(&mut row, &layout, shift);
    row.aligned = true;
    if !layout.has(f::DATE) && shift > 0 {
        let before = anchor - method - 1;
        if cols.get(before).and_then(w3c::parse_date).is_some() {
            row.at[f::DATE] = Some(before);
        }
    }
    Ok(row)
}

/// The UTC instant of a line (see the module notes for lines without a date).
fn timestamp(
    row: &Row<'_>,
    state: &mut State,
    ctx: &ParseContext,
) -> Result<DateTime<Utc>, ParseError> {
    let bad = |id| {
        err(
            ErrorKind::BadTimestamp,
            row.offset(id),
            "a W3C date and time",
        )
    };
    let time = row
        .value(f::TIME)
        .and_then(w3c::parse_time)
        .ok_or_else(|| bad(f::TIME))?;
    if let Some(d) = row.value(f::DATE) {
        let date = match state.last_date {
            Some((raw, date)) if raw == d.as_bytes() => date,
            _ => {
                let date = w3c::parse_date(d).ok_or_else(|| bad(f::DATE))?;
                state.last_date = d.as_bytes().try_into().ok().map(|raw| (raw, date));
                date
            }
        };
        return Ok(date.and_time(time).and_utc());
    }
    if let Some(header) = state.date {
        let mut date = header.date();
        if time < header.time() {
            date = date.succ_opt().unwrap_or(date);
        }
        return Ok(date.and_time(time).and_utc());
    }
    Ok(date_near_now(time, ctx.now))
}

/// The most recent instant at `time` (UTC) that is at most [`FUTURE_ALLOWANCE`] after `now`.
fn date_near_now(time: NaiveTime, now: DateTime<Utc>) -> DateTime<Utc> {
    let today: NaiveDate = now.date_naive();
    let t = today.and_time(time).and_utc();
    let limit = now.checked_add_signed(FUTURE_ALLOWANCE).unwrap_or(now);
    if t <= limit {
        return t;
    }
    today.pred_opt().map_or(t, |d| d.and_time(time).and_utc())
}

/// What a verb stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    User,
    Pass,
    Connect,
    Quiet,
    Quit,
    File(Action),
    Command,
}

fn verb_of(method: &str) -> Option<Verb> {
    let is = |w: &str| method.eq_ignore_ascii_case(w);
    Some(if is("USER") {
        Verb::User
    } else if is("PASS") {
        Verb::Pass
    } else if is("ControlChannelOpened") {
        Verb::Connect
    } else if is("ControlChannelClosed") || is("DataChannelOpened") || is("DataChannelClosed") {
        Verb::Quiet
    } else if is("QUIT") {
        Verb::Quit
    } else if is("RETR") || is("sent") {
        Verb::File(Action::FtpDownload)
    } else if is("STOR") || is("STOU") || is("APPE") || is("created") || is("appended") {
        Verb::File(Action::FtpUpload)
    } else if is("DELE") || is("deleted") {
        Verb::File(Action::FtpDelete)
    } else if is("MKD") || is("XMKD") {
        Verb::File(Action::FtpMkdir)
    } else if is("RMD") || is("XRMD") {
        Verb::File(Action::FtpRmdir)
    } else if is("RNTO") {
        Verb::File(Action::FtpRename)
    } else if [
        "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "PROPFIND",
    ]
    .iter()
    .any(|h| is(h))
    {
        return None;
    } else {
        Verb::Command
    })
}

fn is_anonymous_iis(user: &str) -> bool {
    is_anonymous(user)
        || user.eq_ignore_ascii_case("IUSR")
        || user
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("IUSR_"))
}

/// Reads a directive line into the state.
fn directive(line: &str, d: w3c::Directive<'_>, state: &mut State) -> Result<(), ParseError> {
    if d.name.eq_ignore_ascii_case("Fields") {
        let layout = Layout::parse(d.value, lookup)
            .map_err(|e| err(ErrorKind::Syntax, d.value_offset + e.offset, e.expected))?;
        state.layout = Some(layout);
    } else if d.name.eq_ignore_ascii_case("Date") {
        let at = d.value_offset.min(line.len());
        state.date = Some(
            w3c::parse_date_time(d.value)
                .ok_or_else(|| err(ErrorKind::BadTimestamp, at, "`#Date: YYYY-MM-DD hh:mm:ss`"))?,
        );
    }
    Ok(())
}

// 2022-07-05 21:41:06 2.3.4.5 - 6.7.8.9 21 PASS *** 530 1326 41 ab3a48eb-256b-44ac-bff3-d9e50d457d48 -
// 14:03:19 192.168.2.187 [62]PASS - 530 1326
// #Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem sc-status ...
/// Parses one IIS FTP log line (data or directive). `Ok(None)` for directives and lines that
/// carry no event by themselves (see the module notes).
pub fn parse_iis_line(
    line: &[u8],
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    if let Some(d) = w3c::parse_directive(s) {
        directive(s, d, state)?;
        return Ok(None);
    }
    let cols = Columns::split(s).map_err(|at| err(ErrorKind::Syntax, at, "at most 48 columns"))?;
    let row = fit(cols, state)?;
    let method_at = row.offset(f::CS_METHOD);
    let method = row
        .value(f::CS_METHOD)
        .ok_or_else(|| err(ErrorKind::Syntax, method_at, "a cs-method column"))?;
    let (bracket_session, method) = match split_session(method) {
        Some((id, verb)) => (Some(id), verb),
        None => (None, method),
    };
    let verb = verb_of(method).ok_or_else(|| {
        err(
            ErrorKind::Syntax,
            method_at,
            "an FTP command, not an HTTP method",
        )
    })?;
    let timestamp = timestamp(&row, state, ctx)?;
    let client = row.ip(f::C_IP)?;
    let client_port = row.number::<u16>(f::C_PORT)?;
    let server = row.ip(f::S_IP)?;
    let server_port = row.number::<u16>(f::S_PORT)?;
    let status = row.number::<u16>(f::SC_STATUS)?;
    let sent = row.number::<u64>(f::SC_BYTES)?;
    let received = row.number::<u64>(f::CS_BYTES)?;
    let session = match row.value(f::X_SESSION) {
        Some(id) => Some(x_session_key(id)),
        None => bracket_session.map(session_key),
    };
    let line_user = row.value(f::CS_USERNAME);
    let arg = row.value(f::CS_URI_STEM);

    let action = match verb {
        Verb::User => {
            if let Some(key) = session {
                *state.users.entry(key) = arg.or(line_user).map(CompactString::from);
            }
            return Ok(None);
        }
        Verb::Quiet => {
            if let Some(k) = session.filter(|_| method.eq_ignore_ascii_case("ControlChannelClosed"))
            {
                state.users.remove(k);
            }
            return Ok(None);
        }
        Verb::Pass => Action::FtpLogin,
        Verb::Connect => Action::FtpConnect,
        Verb::File(a) => a,
        Verb::Quit | Verb::Command => Action::FtpCommand,
    };
    let remembered = session
        .and_then(|k| state.users.get(k))
        .and_then(Clone::clone);
    if let Some(k) = session.filter(|_| verb == Verb::Quit) {
        state.users.remove(k);
    }
    let mut e = Event::new(timestamp, Dataset::IisFtp, action);
    e.outcome = match (verb, status) {
        (Verb::Connect, _) => Outcome::Success,
        (_, Some(100..=399)) if verb != Verb::Pass => Outcome::Success,
        (Verb::Pass, Some(200..=299)) => Outcome::Success,
        (_, Some(400..=599)) => Outcome::Failure,
        _ => Outcome::Unknown,
    };
    e.source_ip = client;
    e.source_port = client_port;
    e.destination_ip = server.or(ctx.host);
    e.destination_port = server_port;
    let user = match verb {
        Verb::Pass => remembered.or_else(|| line_user.map(CompactString::from)),
        _ => line_user.map(CompactString::from).or(remembered),
    };
    e.ftp_anonymous = user.as_deref().is_some_and(is_anonymous_iis);
    e.user_name = user;
    if let Verb::File(a) = verb {
        e.file_path = row.value(f::X_FULLPATH).or(arg).map(str::to_owned);
        e.file_size = match a {
            Action::FtpDownload => sent,
            Action::FtpUpload => received,
            _ => None,
        };
    }
    e.bytes = match (sent, received) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    };
    e.host_name = row.value(f::S_COMPUTERNAME).map(CompactString::from);
    Ok(Some(e))
}

#[cfg(test)]
mod tests;
