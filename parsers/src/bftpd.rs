//! Bftpd log lines. `bftpd_log` writes `<ctime> <argv[0]>[<pid>]: <message>` to the file named
//! by `LOGFILE`; with `LOGFILE="syslog"` the message goes to syslog under the tag
//! `<argv[0]>[<pid>]` (usually `bftpd`), so the syslog envelope wraps it.
//!
//! Events:
//! * `Incoming connection from <client>.` → [`Action::FtpConnect`] success;
//! * `Successfully logged in as user '<x>'.` → [`Action::FtpLogin`] success;
//! * `Login as user '<x>' failed.` (also `failed: Server disabled.` and
//!   `failed. Too many users on server.`) → [`Action::FtpLogin`] failure;
//! * `Client is storing file '<path>'.` → [`Action::FtpUpload`] success: bftpd writes it after
//!   it has opened (created) the target file for writing, so the write was allowed and the file
//!   exists whether or not the data connection then brings bytes;
//! * `Client is receiving file '<path>'.` → [`Action::FtpDownload`] success, for the same reason
//!   (the file was opened for reading).
//!
//! Login and transfer lines name no client, and transfer lines no user: both are remembered
//! per process (bftpd forks one process per connection) from its `Incoming connection` and
//! successful login lines, see [`State`]. A login whose connection line was not seen is still
//! an event, without `source.ip`. A client
//! shown by host name (`RESOLVE_CLIENT_IP=yes`) gives no `source.ip` either.
//! `ftp.anonymous` is set for the users `anonymous` and `ftp`.
//!
//! Every other message (`Chdir failed`, debugging notes) is `Ok(None)`, as are other programs'
//! syslog lines. File-form stamps are local `ctime` times, read in the source's zone.

use crate::event::{Action, Dataset, Event, Outcome};
use crate::proftpd::{is_anonymous_user, parse_client_ip};
use crate::syslog::parse_syslog_header;
use crate::time::{looks_like_ctime, parse_ctime_stamp};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Utc};
use compact_str::CompactString;
use memchr::memchr;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

const FORMAT: Format = Format::Bftpd;

/// The program name bftpd logs under (the last part of `argv[0]`).
const PROGRAM: &str = "bftpd";

/// Most connections remembered at once. bftpd runs one process per client and its default
/// `USERLIMIT_GLOBAL` is 0 (no limit), but a host rarely holds more than a few hundred FTP
/// sessions at a time; 4096 covers that many times over while capping what a flood of
/// connections that never log in can make this parser keep (4096 small entries, well under
/// 1 MiB). When full, the oldest connection is forgotten first.
pub const MAX_CONNECTIONS: usize = 4096;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// A connection's key: the syslog host that relayed the line (none for the file form) and
/// the process id, so two servers relayed into one file do not share pids.
type ConnKey = (Option<CompactString>, u32);

/// What one connection (one bftpd process) is known by.
#[derive(Debug)]
struct Conn {
    /// The client from the connection line (`None`: shown by host name, or not seen).
    client: Option<IpAddr>,
    /// The user of the last successful login, for the transfer lines that follow it.
    user: Option<CompactString>,
    /// Sequence number of the line that opened this entry.
    seq: u64,
}

/// What this format remembers between lines of one source: each live process's client, from
/// its `Incoming connection` line, and its logged-in user, at most [`MAX_CONNECTIONS`] of
/// them.
#[derive(Debug, Default)]
pub struct State {
    /// The connections by (host, pid).
    conns: HashMap<ConnKey, Conn>,
    /// Connections in the order they were opened, for evicting the oldest; an entry whose
    /// sequence number no longer matches `conns` was replaced and is skipped.
    order: VecDeque<(ConnKey, u64)>,
    /// Sequence number of the next entry.
    next_seq: u64,
}

impl State {
    /// Opens the entry of a new connection, forgetting the oldest one when full.
    fn open(&mut self, key: ConnKey, client: Option<IpAddr>) -> &mut Conn {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.push_back((key.clone(), seq));
        self.conns.insert(
            key.clone(),
            Conn {
                client,
                user: None,
                seq,
            },
        );
        while self.conns.len() > MAX_CONNECTIONS {
            self.evict_oldest();
        }
        // Reused pids leave stale order entries; keep the queue within twice the map.
        if self.order.len() > 2 * MAX_CONNECTIONS {
            let conns = &self.conns;
            self.order
                .retain(|(k, s)| conns.get(k).is_some_and(|c| c.seq == *s));
        }
        self.conns
            .get_mut(&key)
            .expect("just inserted, newest is never evicted")
    }

    fn evict_oldest(&mut self) {
        while let Some((key, seq)) = self.order.pop_front() {
            if self.conns.get(&key).is_some_and(|c| c.seq == seq) {
                self.conns.remove(&key);
                return;
            }
        }
    }

    /// Remembers the user a connection logged in as (opening an entry without client when
    /// its connection line was not seen).
    fn logged_in(&mut self, key: ConnKey, user: &str) {
        let conn = match self.conns.get_mut(&key) {
            Some(conn) => conn,
            None => self.open(key, None),
        };
        conn.user = Some(CompactString::from(user));
    }

    /// How many connections are remembered.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// True when no connection is remembered.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }
}

/// What a message reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message<'a> {
    /// A new connection from a client (address or host name).
    Connect(&'a str),
    /// A login with its outcome and user.
    Login(Outcome, &'a str),
    /// A transfer (upload or download) of a path.
    Transfer(Action, &'a str),
}

/// The text between `prefix` and the closing `'` of a quoted value, when `text` starts with
/// `prefix` and the value is followed by one of `ends`.
fn quoted<'a>(text: &'a str, prefix: &str, ends: &[&str]) -> Option<&'a str> {
    let rest = text.strip_prefix(prefix)?;
    // A user name or path may itself contain `'`: the value ends at the last `'` that is
    // followed by one of the known endings.
    ends.iter()
        .find_map(|end| rest.strip_suffix(end)?.strip_suffix('\''))
}

// Login as user 'root' failed: Server disabled.
/// What a message reports; `None` for messages without an event.
fn classify(text: &str) -> Option<Message<'_>> {
    const FAILED: &[&str] = &[
        " failed.",
        " failed: Server disabled.",
        " failed. Too many users on server.",
    ];
    if let Some(client) = text.strip_prefix("Incoming connection from ") {
        return Some(Message::Connect(client.strip_suffix('.').unwrap_or(client)));
    }
    if let Some(user) = quoted(text, "Successfully logged in as user '", &["."]) {
        return Some(Message::Login(Outcome::Success, user));
    }
    if let Some(user) = quoted(text, "Login as user '", FAILED) {
        return Some(Message::Login(Outcome::Failure, user));
    }
    if let Some(path) = quoted(text, "Client is storing file '", &["."]) {
        return Some(Message::Transfer(Action::FtpUpload, path));
    }
    if let Some(path) = quoted(text, "Client is receiving file '", &["."]) {
        return Some(Message::Transfer(Action::FtpDownload, path));
    }
    None
}

/// Where a line came from: its time, relaying host and process id.
struct Origin<'a> {
    timestamp: DateTime<Utc>,
    host: Option<&'a str>,
    pid: Option<u32>,
}

/// The event of one message, updating the connection memory.
fn message_event(
    text: &str,
    origin: &Origin<'_>,
    ctx: &ParseContext,
    state: &mut State,
) -> Option<Event> {
    let msg = classify(text.trim_end())?;
    let key = origin
        .pid
        .map(|pid| (origin.host.map(CompactString::from), pid));
    let (action, outcome) = match msg {
        Message::Connect(_) => (Action::FtpConnect, Outcome::Success),
        Message::Login(outcome, _) => (Action::FtpLogin, outcome),
        Message::Transfer(action, _) => (action, Outcome::Success),
    };
    let mut e = Event::new(origin.timestamp, Dataset::Bftpd, action);
    e.outcome = outcome;
    e.destination_ip = ctx.host;
    e.host_name = origin.host.map(CompactString::from);
    e.process_pid = origin.pid;
    match msg {
        Message::Connect(client) => {
            e.source_ip = parse_client_ip(client);
            if let Some(key) = key {
                state.open(key, e.source_ip);
            }
            return Some(e);
        }
        Message::Login(outcome, user) => {
            e.user_name = Some(CompactString::from(user));
            if let (Some(key), Outcome::Success) = (&key, outcome) {
                state.logged_in(key.clone(), user);
            }
        }
        Message::Transfer(_, path) => e.file_path = Some(path.to_owned()),
    }
    if let Some(conn) = key.as_ref().and_then(|k| state.conns.get(k)) {
        e.source_ip = conn.client;
        if e.user_name.is_none() {
            e.user_name.clone_from(&conn.user);
        }
    }
    e.ftp_anonymous = e.user_name.as_deref().is_some_and(is_anonymous_user);
    Some(e)
}

/// True when a tag's program is bftpd: `bftpd`, or a path ending in `/bftpd`.
fn is_bftpd(program: &str) -> bool {
    program.rsplit('/').next() == Some(PROGRAM)
}

// bftpd[4711]: Incoming connection from 192.0.2.7.
/// Reads the `<argv[0]>[<pid>]: ` tag of the file form at `pos`: the pid and where the message
/// starts.
fn parse_file_tag(s: &str, pos: usize) -> Result<(u32, usize), ParseError> {
    const EXPECTED: &str = "a tag like `bftpd[4711]: `";
    let b = s.as_bytes();
    let rest = &b[pos.min(b.len())..];
    let open = memchr(b'[', rest)
        .filter(|&n| n > 0 && !rest[..n].contains(&b' '))
        .ok_or_else(|| err(ErrorKind::Syntax, pos, EXPECTED))?;
    let digits_at = pos + open + 1;
    let close = memchr(b']', &b[digits_at..])
        .map(|n| digits_at + n)
        .ok_or_else(|| err(ErrorKind::Syntax, digits_at, EXPECTED))?;
    let pid = s[digits_at..close]
        .parse::<u32>()
        .ok()
        .filter(|_| s[digits_at..close].bytes().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| err(ErrorKind::BadNumber, digits_at, "a process id"))?;
    if !s[close..].starts_with("]: ") {
        return Err(err(ErrorKind::Syntax, close, "`]: ` after the process id"));
    }
    Ok((pid, close + 3))
}

// Fri Nov 20 14:03:01 2026 bftpd[4711]: Login as user 'admin' failed.
// Nov 20 14:03:01 ftp01 bftpd[4711]: Login as user 'admin' failed.
/// Parses one Bftpd line, file or syslog form. `Ok(None)` for messages without an event (see
/// the module documentation) and other programs' syslog lines.
pub fn parse_bftpd_line(
    line: &[u8],
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    if looks_like_ctime(s.as_bytes()) {
        let (naive, used) = parse_ctime_stamp(s.as_bytes()).ok_or_else(|| {
            err(
                ErrorKind::BadTimestamp,
                0,
                "a date like `Fri Nov 20 14:03:01 2026`",
            )
        })?;
        if s.as_bytes().get(used) != Some(&b' ') {
            return Err(err(ErrorKind::Syntax, used, "a space after the date"));
        }
        let (pid, pos) = parse_file_tag(s, used + 1)?;
        let origin = Origin {
            timestamp: ctx.timezone.to_utc(naive),
            host: None,
            pid: Some(pid),
        };
        return Ok(message_event(&s[pos..], &origin, ctx, state));
    }
    let header = parse_syslog_header(s, ctx).map_err(|e| e.in_format(FORMAT))?;
    if !header.program.is_some_and(is_bftpd) {
        return Ok(None);
    }
    let origin = Origin {
        timestamp: header.timestamp,
        host: header.host,
        pid: header.pid,
    };
    Ok(message_event(header.message, &origin, ctx, state))
}

#[cfg(test)]
mod tests;
