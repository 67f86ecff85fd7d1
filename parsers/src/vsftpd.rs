//! vsftpd: its own log (`vsftpd_log_file`), the same lines relayed through syslog, and the PAM
//! authentication failures vsftpd logs through syslog.
//!
//! Decisions: `CONNECT` is a [`Outcome::Success`] (the TCP connection was accepted, which is
//! what scan detection counts as a successful first contact). `FTP command` lines become
//! [`Action::FtpCommand`] events (outcome unknown; a `USER x` command names the user when the
//! line has no `[user]`); `FTP response` and `DEBUG` lines are `Ok(None)`. A syslog line from
//! another program, or a vsftpd syslog message that is neither a log entry nor a PAM
//! authentication failure, is `Ok(None)`. A PAM `rhost` that is a host name, not an address,
//! leaves `source.ip` empty (portcullis does not resolve names).

use crate::event::{Action, Dataset, Event, Outcome};
use crate::proftpd::{parse_client_ip, rfind_str};
use crate::syslog::parse_syslog_header;
use crate::time::{looks_like_ctime, parse_ctime_stamp};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Utc};
use compact_str::CompactString;
use memchr::{memchr, memchr_iter, memmem};
use std::net::IpAddr;

const FORMAT: Format = Format::Vsftpd;

/// How many `] ` positions are tried as the end of a `[user]` field. User names come from the
/// client and may contain `] `; a bound keeps a hostile line from costing quadratic time.
const MAX_USER_CANDIDATES: usize = 16;

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// What a vsftpd log entry reports, from the word before `: Client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Entry(Action),
    Command,
    Response,
    Debug,
}

impl Kind {
    fn from_word(word: &str) -> Option<Kind> {
        Some(match word {
            "CONNECT" => Kind::Entry(Action::FtpConnect),
            "LOGIN" => Kind::Entry(Action::FtpLogin),
            "DOWNLOAD" => Kind::Entry(Action::FtpDownload),
            "UPLOAD" => Kind::Entry(Action::FtpUpload),
            "MKDIR" => Kind::Entry(Action::FtpMkdir),
            "DELETE" => Kind::Entry(Action::FtpDelete),
            "RENAME" => Kind::Entry(Action::FtpRename),
            "RMDIR" => Kind::Entry(Action::FtpRmdir),
            "CHMOD" => Kind::Entry(Action::FtpChmod),
            "FTP command" => Kind::Command,
            "FTP response" => Kind::Response,
            "DEBUG" => Kind::Debug,
            _ => return None,
        })
    }

    /// vsftpd writes `OK `/`FAIL ` before every entry except these.
    fn has_result(self) -> bool {
        !matches!(
            self,
            Kind::Entry(Action::FtpConnect) | Kind::Command | Kind::Response | Kind::Debug
        )
    }
}

/// The fields of one vsftpd log entry (everything after the date and pid).
#[derive(Debug)]
struct Entry<'a> {
    user: Option<&'a str>,
    ok: Option<bool>,
    kind: Kind,
    client: IpAddr,
    anon_password: bool,
    arg: Option<&'a str>,
    bytes: Option<u64>,
}

fn is_anonymous_user(user: &str) -> bool {
    user.eq_ignore_ascii_case("ftp") || user.eq_ignore_ascii_case("anonymous")
}

// [pid 27202] [anonymous] FAIL LOGIN: ...   →   (27202, position of "[anonymous]")
/// Parses `[pid N] ` at `pos`; returns the pid and the position after the field and its space.
fn parse_pid_at(s: &str, pos: usize) -> Result<(u32, usize), ParseError> {
    const OPEN: &[u8] = b"[pid ";
    let rest = s.as_bytes().get(pos..).unwrap_or(&[]);
    let digits = rest
        .strip_prefix(OPEN)
        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
    let end = pos + OPEN.len() + digits; // the `]`
    if digits == 0 || s.as_bytes().get(end) != Some(&b']') {
        return Err(err(ErrorKind::Syntax, pos, "`[pid N]`"));
    }
    let pid = s[pos + OPEN.len()..end].parse().map_err(|_| {
        err(
            ErrorKind::BadNumber,
            pos + OPEN.len(),
            "a pid that fits 32 bits",
        )
    })?;
    match s.as_bytes().get(end + 1) {
        Some(b' ') => Ok((pid, end + 2)),
        _ => Err(err(ErrorKind::Syntax, end + 1, "a space after `[pid N]`")),
    }
}

// [dcid] FAIL LOGIN: Client "127.0.0.1"
// CONNECT: Client "192.168.2.10"
/// Parses an entry at `pos`, with or without a `[user]` field. A user name may contain `] `,
/// so each `] ` is tried as the field's end until the rest parses as an entry.
fn parse_entry(s: &str, pos: usize) -> Result<Entry<'_>, ParseError> {
    let rest = s.get(pos..).unwrap_or("");
    if !rest.starts_with('[') {
        return parse_entry_after_user(s, pos);
    }
    let mut first_err = None;
    let b = rest.as_bytes();
    let ends = memchr_iter(b']', b).filter(|&i| b.get(i + 1) == Some(&b' '));
    for end in ends.take(MAX_USER_CANDIDATES) {
        match parse_entry_after_user(s, pos + end + 2) {
            Ok(mut entry) => {
                entry.user = rest.get(1..end).filter(|u| !u.is_empty());
                return Ok(entry);
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| err(ErrorKind::Syntax, pos, "`[user] ` before the action")))
}

// OK UPLOAD: Client "1.2.3.4", "/a.php", 8338 bytes, 18.77Kbyte/sec
/// Parses `[OK |FAIL ]ACTION: Client "ip"` and the optional fields after it.
fn parse_entry_after_user(s: &str, pos: usize) -> Result<Entry<'_>, ParseError> {
    let rest = s.get(pos..).unwrap_or("");
    let (ok, skip) = if rest.starts_with("OK ") {
        (Some(true), 3)
    } else if rest.starts_with("FAIL ") {
        (Some(false), 5)
    } else {
        (None, 0)
    };
    let word_pos = pos + skip;
    let rest = &rest[skip..];
    const CLIENT: &str = ": Client \"";
    let word_end = memchr(b':', rest.as_bytes())
        .filter(|&i| rest[i..].starts_with(CLIENT))
        .ok_or_else(|| err(ErrorKind::Syntax, word_pos, "`ACTION: Client \"`"))?;
    let kind = Kind::from_word(&rest[..word_end]).ok_or_else(|| {
        err(
            ErrorKind::Syntax,
            word_pos,
            "a vsftpd action (LOGIN, UPLOAD, ...)",
        )
    })?;
    if kind.has_result() != ok.is_some() {
        let expected = if ok.is_some() {
            "no OK/FAIL before this action"
        } else {
            "OK or FAIL before the action"
        };
        return Err(err(ErrorKind::Syntax, pos, expected));
    }
    let ip_pos = word_pos + word_end + CLIENT.len();
    let ip_rest = s.get(ip_pos..).unwrap_or("");
    let ip_len = memchr(b'"', ip_rest.as_bytes()).ok_or_else(|| {
        err(
            ErrorKind::Syntax,
            ip_pos,
            "a closing quote after the client",
        )
    })?;
    let client = parse_client_ip(&ip_rest[..ip_len])
        .ok_or_else(|| err(ErrorKind::BadAddress, ip_pos, "the client's IP address"))?;
    let tail_pos = ip_pos + ip_len + 1;
    let mut entry = Entry {
        user: None,
        ok,
        kind,
        client,
        anon_password: false,
        arg: None,
        bytes: None,
    };
    parse_tail(s, tail_pos, &mut entry)?;
    Ok(entry)
}

// , anon password "lala@"
// , "/a.php", 8338 bytes, 18.77Kbyte/sec
/// The optional fields after the client. The byte count and rate are taken from the right,
/// so a quoted argument may itself contain `", 5 bytes`.
fn parse_tail<'a>(s: &'a str, pos: usize, entry: &mut Entry<'a>) -> Result<(), ParseError> {
    let mut t = s.get(pos..).unwrap_or("");
    if !matches!(entry.kind, Kind::Command | Kind::Response) {
        if let Some(head) = t.strip_suffix("Kbyte/sec") {
            let cut = rfind_str(head, ", ")
                .filter(|&i| {
                    !head.as_bytes()[i + 2..]
                        .iter()
                        .any(|&c| c == b'"' || c == b',')
                })
                .ok_or_else(|| err(ErrorKind::Syntax, pos, "`, <rate>Kbyte/sec`"))?;
            t = &t[..cut];
        }
        if let Some(head) = t.strip_suffix(" bytes") {
            let cut = rfind_str(head, ", ")
                .ok_or_else(|| err(ErrorKind::Syntax, pos, "`, <n> bytes`"))?;
            let n = head[cut + 2..]
                .parse::<u64>()
                .map_err(|_| err(ErrorKind::BadNumber, pos + cut + 2, "a byte count"))?;
            entry.bytes = Some(n);
            t = &t[..cut];
        }
    }
    let mut arg_pos = pos;
    if let Some(r) = t.strip_prefix(", anon password \"") {
        entry.anon_password = true;
        // The password ends where an argument starts, or at the last quote.
        match memmem::find(r.as_bytes(), b"\", \"") {
            Some(i) => {
                t = &r[i + 1..];
                arg_pos = t.as_ptr() as usize - s.as_ptr() as usize;
            }
            None if r.ends_with('"') => t = "",
            None => return Err(err(ErrorKind::Syntax, pos, "a quoted anon password")),
        }
    }
    if !t.is_empty() {
        entry.arg = Some(
            t.strip_prefix(", \"")
                .and_then(|a| a.strip_suffix('"'))
                .ok_or_else(|| err(ErrorKind::Syntax, arg_pos, "`, \"argument\"` or the end"))?,
        );
    }
    Ok(())
}

/// The file an entry's argument names: RENAME logs `"/old /new"` (the old path is the file),
/// CHMOD logs `"/path 755"`, LOGIN and CONNECT arguments are messages, not paths.
fn file_path_of(action: Action, arg: &str) -> Option<&str> {
    match action {
        Action::FtpDownload
        | Action::FtpUpload
        | Action::FtpMkdir
        | Action::FtpDelete
        | Action::FtpRmdir => Some(arg),
        Action::FtpRename => Some(arg.split_once(" /").map_or(arg, |(old, _)| old)),
        Action::FtpChmod => Some(match arg.rsplit_once(' ') {
            Some((path, mode)) if !mode.is_empty() && mode.bytes().all(|b| b.is_ascii_digit()) => {
                path
            }
            _ => arg,
        }),
        _ => None,
    }
    .filter(|p| !p.is_empty())
}

/// What every vsftpd event of a line shares: when, which process, which host wrote it.
struct LineInfo<'a> {
    timestamp: DateTime<Utc>,
    pid: Option<u32>,
    host: Option<&'a str>,
}

impl LineInfo<'_> {
    /// A new event with the shared fields set (built in place: an event is ~300 bytes, and
    /// setting fields after returning it would cost extra copies on the hot path).
    fn event(&self, action: Action, ctx: &ParseContext) -> Event {
        let mut e = Event::new(self.timestamp, Dataset::Vsftpd, action);
        e.destination_ip = ctx.host;
        e.process_pid = self.pid;
        e.host_name = self.host.map(CompactString::from);
        e
    }
}

/// Builds the event for a parsed entry; `None` for entries that carry no event.
fn entry_event(entry: Entry<'_>, info: &LineInfo<'_>, ctx: &ParseContext) -> Option<Event> {
    let action = match entry.kind {
        Kind::Entry(a) => a,
        Kind::Command => Action::FtpCommand,
        Kind::Response | Kind::Debug => return None,
    };
    let mut e = info.event(action, ctx);
    e.outcome = match (action, entry.ok) {
        (Action::FtpConnect, _) => Outcome::Success,
        (_, Some(true)) => Outcome::Success,
        (_, Some(false)) => Outcome::Failure,
        (_, None) => Outcome::Unknown,
    };
    e.source_ip = Some(entry.client);
    let user = entry.user.or_else(|| {
        let arg = entry.arg.filter(|_| entry.kind == Kind::Command)?;
        let name = arg
            .strip_prefix("USER ")
            .or_else(|| arg.strip_prefix("user "))?;
        Some(name.trim()).filter(|n| !n.is_empty())
    });
    e.ftp_anonymous = entry.anon_password || user.is_some_and(is_anonymous_user);
    e.user_name = user.map(CompactString::from);
    e.file_path = entry
        .arg
        .and_then(|a| file_path_of(action, a))
        .map(str::to_owned);
    match action {
        Action::FtpDownload | Action::FtpUpload => {
            let n = entry.bytes.unwrap_or(0); // vsftpd leaves out a zero byte count
            e.bytes = Some(n);
            e.file_size = Some(n);
        }
        _ => e.bytes = entry.bytes,
    }
    Some(e)
}

// authentication failure; logname= uid=0 euid=0 tty=ftp ruser=test rhost=58.254.172.161 user=x
/// A PAM authentication failure: a failed login from `rhost` as `user=` (or else `ruser=`).
fn pam_failure_event(fields: &str, info: &LineInfo<'_>, ctx: &ParseContext) -> Event {
    let (mut rhost, mut ruser, mut user) = ("", "", "");
    for field in fields.split(' ') {
        if let Some((key, value)) = field.split_once('=') {
            match key {
                "rhost" => rhost = value,
                "ruser" => ruser = value,
                "user" => user = value,
                _ => {}
            }
        }
    }
    let mut e = info.event(Action::FtpLogin, ctx);
    e.outcome = Outcome::Failure;
    e.source_ip = parse_client_ip(rhost);
    let user = Some(user)
        .filter(|u| !u.is_empty())
        .or(Some(ruser).filter(|u| !u.is_empty()));
    e.ftp_anonymous = user.is_some_and(is_anonymous_user);
    e.user_name = user.map(CompactString::from);
    e
}

/// Strips a PAM module prefix: `(pam_unix) ` or `pam_unix(vsftpd:auth): `.
fn strip_pam_prefix(msg: &str) -> &str {
    if let Some(rest) = msg.strip_prefix("(pam_unix) ") {
        return rest.trim_start();
    }
    if msg.starts_with("pam_") {
        let token_end = msg.find(' ').unwrap_or(msg.len());
        if msg[..token_end].ends_with("):") {
            return msg[token_end..].trim_start();
        }
    }
    msg
}

fn looks_like_entry(msg: &str) -> bool {
    [
        "[",
        "OK ",
        "FAIL ",
        "CONNECT:",
        "FTP command:",
        "FTP response:",
        "DEBUG:",
    ]
    .iter()
    .any(|p| msg.starts_with(p))
}

// Fri Jan 19 12:20:33 2007 [pid 27202] [anonymous] FAIL LOGIN: Client "64.106.46.98"
// Oct 23 21:15:42 vps vsftpd: pam_unix(vsftpd:auth): authentication failure; ... rhost=58.254.172.161
// 2025-03-04T01:06:36.645577 ip-172-31-3-150 vsftpd[1658]: [username] FAIL LOGIN: Client "192.0.2.222"
/// Parses one vsftpd line: a native `vsftpd.log` line, or a syslog line. `Ok(None)` for lines
/// that carry no event (FTP responses, other programs' syslog lines, other PAM messages).
/// With `ctx.host` set, it becomes the `destination.ip` of every event.
pub fn parse_vsftpd_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    if looks_like_ctime(s.as_bytes()) {
        let (naive, used) = parse_ctime_stamp(s.as_bytes()).ok_or_else(|| {
            err(
                ErrorKind::BadTimestamp,
                0,
                "a date like `Fri Jan 19 12:20:33 2007`",
            )
        })?;
        if s.as_bytes().get(used) != Some(&b' ') {
            return Err(err(ErrorKind::Syntax, used, "a space after the date"));
        }
        let (pid, pos) = parse_pid_at(s, used + 1)?;
        let entry = parse_entry(s, pos)?;
        let info = LineInfo {
            timestamp: ctx.timezone.to_utc(naive),
            pid: Some(pid),
            host: None,
        };
        return Ok(entry_event(entry, &info, ctx));
    }

    let header = parse_syslog_header(s, ctx).map_err(|e| e.in_format(FORMAT))?;
    if header.program != Some("vsftpd") {
        return Ok(None);
    }
    let mut pos = header.message_offset;
    let mut pid = header.pid;
    // Older vsftpd versions repeat their own date and `[pid N]` inside syslog messages.
    if looks_like_ctime(header.message.as_bytes()) {
        if let Some((_, used)) = parse_ctime_stamp(header.message.as_bytes()) {
            pos += used + 1;
        }
    }
    if s.get(pos..).is_some_and(|m| m.starts_with("[pid ")) {
        let (p, next) = parse_pid_at(s, pos)?;
        pid = Some(p);
        pos = next;
    }
    let msg = s.get(pos..).unwrap_or("");
    let info = LineInfo {
        timestamp: header.timestamp,
        pid,
        host: header.host,
    };
    if looks_like_entry(msg) {
        Ok(entry_event(parse_entry(s, pos)?, &info, ctx))
    } else {
        Ok(strip_pam_prefix(msg)
            .strip_prefix("authentication failure;")
            .map(|fields| pam_failure_event(fields, &info, ctx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceTz;

    fn ctx() -> ParseContext {
        ParseContext {
            timezone: SourceTz::Utc,
            now: "2005-08-14T10:00:00Z".parse().unwrap(),
            host: Some("198.51.100.7".parse().unwrap()),
            log_format: None,
        }
    }

    fn parse(line: &str) -> Result<Option<Event>, ParseError> {
        parse_vsftpd_line(line.as_bytes(), &ctx())
    }

    /// (line, time, (action, outcome), src, user, anonymous, path, bytes, pid, host)
    type Case<'a> = (
        &'a str,
        &'a str,
        (Action, Outcome),
        Option<&'a str>,
        Option<&'a str>,
        bool,
        Option<&'a str>,
        Option<u64>,
        Option<u32>,
        Option<&'a str>,
    );

    const T: &str = "2006-08-27T16:28:20Z";

    #[rustfmt::skip]
    const EVENTS: &[Case] = &[
        (r#"Fri Jan 19 12:20:33 2007 [pid 27202] [anonymous] FAIL LOGIN: Client "64.106.46.98""#,
         "2007-01-19T12:20:33Z", (Action::FtpLogin, Outcome::Failure), Some("64.106.46.98"), Some("anonymous"), true, None, None, Some(27202), None),
        (r#"Thu Sep  8 00:39:49 2016 [pid 15019] [guest] FAIL LOGIN: Client "::ffff:192.0.2.1", "User is not in the allow user list.""#,
         "2016-09-08T00:39:49Z", (Action::FtpLogin, Outcome::Failure), Some("192.0.2.1"), Some("guest"), false, None, None, Some(15019), None),
        (r#"Mon Jul 10 15:51:17 2006 [pid 26152] CONNECT: Client "192.168.2.10""#,
         "2006-07-10T15:51:17Z", (Action::FtpConnect, Outcome::Success), Some("192.168.2.10"), None, false, None, None, Some(26152), None),
        (r#"Mon Aug 21 14:32:06 2006 [pid 20127] [ftp] OK LOGIN: Client "127.0.0.1", anon password "lala@""#,
         "2006-08-21T14:32:06Z", (Action::FtpLogin, Outcome::Success), Some("127.0.0.1"), Some("ftp"), true, None, None, Some(20127), None),
        (r#"Sun Aug 27 16:28:20 2006 [pid 13962] [xx] OK UPLOAD: Client "1.2.3.4", "/a.php", 8338 bytes, 18.77Kbyte/sec"#,
         T, (Action::FtpUpload, Outcome::Success), Some("1.2.3.4"), Some("xx"), false, Some("/a.php"), Some(8338), Some(13962), None),
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] [bob] FAIL DOWNLOAD: Client "2001:db8::5", "/x y/z.bin", 0.00Kbyte/sec"#,
         T, (Action::FtpDownload, Outcome::Failure), Some("2001:db8::5"), Some("bob"), false, Some("/x y/z.bin"), Some(0), Some(1), None),
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] [bob] OK RENAME: Client "1.2.3.4", "/old name /new""#,
         T, (Action::FtpRename, Outcome::Success), Some("1.2.3.4"), Some("bob"), false, Some("/old name"), None, Some(1), None),
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] [bob] OK CHMOD: Client "1.2.3.4", "/a b.txt 755""#,
         T, (Action::FtpChmod, Outcome::Success), Some("1.2.3.4"), Some("bob"), false, Some("/a b.txt"), None, Some(1), None),
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] [bob] OK MKDIR: Client "1.2.3.4", "/d""#,
         T, (Action::FtpMkdir, Outcome::Success), Some("1.2.3.4"), Some("bob"), false, Some("/d"), None, Some(1), None),
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] [bob] FAIL DELETE: Client "1.2.3.4", "/f""#,
         T, (Action::FtpDelete, Outcome::Failure), Some("1.2.3.4"), Some("bob"), false, Some("/f"), None, Some(1), None),
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] [bob] OK RMDIR: Client "1.2.3.4", "/d""#,
         T, (Action::FtpRmdir, Outcome::Success), Some("1.2.3.4"), Some("bob"), false, Some("/d"), None, Some(1), None),
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] FTP command: Client "1.2.3.4", "USER anonymous""#,
         T, (Action::FtpCommand, Outcome::Unknown), Some("1.2.3.4"), Some("anonymous"), true, None, None, Some(1), None),
        // A path that itself looks like a byte count: counts are read from the right.
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] [bob] OK UPLOAD: Client "1.2.3.4", "/x", 5 bytes", 100 bytes, 1.00Kbyte/sec"#,
         T, (Action::FtpUpload, Outcome::Success), Some("1.2.3.4"), Some("bob"), false, Some(r#"/x", 5 bytes"#), Some(100), Some(1), None),
        // A user name containing `] ` that imitates an entry: the first full parse wins.
        (r#"Sun Aug 27 16:28:20 2006 [pid 1] [a] OK LOGIN: Client "9.9.9.9] FAIL LOGIN: Client "1.2.3.4""#,
         T, (Action::FtpLogin, Outcome::Failure), Some("1.2.3.4"), Some(r#"a] OK LOGIN: Client "9.9.9.9"#), false, None, None, Some(1), None),
        // Relayed through syslog, and PAM.
        (r#"Oct 11 01:06:47 ServerJV vsftpd: (pam_unix) authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=209.67.1.67"#,
         "2004-10-11T01:06:47Z", (Action::FtpLogin, Outcome::Failure), Some("209.67.1.67"), None, false, None, None, None, Some("ServerJV")),
        (r#"Feb 6 12:02:29 server vsftpd(pam_unix)[15522]: authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=64.168.103.1 user=user1"#,
         "2005-02-06T12:02:29Z", (Action::FtpLogin, Outcome::Failure), Some("64.168.103.1"), Some("user1"), false, None, None, Some(15522), Some("server")),
        (r#"Oct 23 21:15:42 vps vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=test rhost=58.254.172.161"#,
         "2004-10-23T21:15:42Z", (Action::FtpLogin, Outcome::Failure), Some("58.254.172.161"), Some("test"), false, None, None, None, Some("vps")),
        (r#"Oct 23 21:15:42 vps vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser= rhost=ftp.example.com"#,
         "2004-10-23T21:15:42Z", (Action::FtpLogin, Outcome::Failure), None, None, false, None, None, None, Some("vps")),
        (r#"2025-03-04T01:06:36.645577 ip-172-31-3-150.ap-southeast-2.compute.internal vsftpd[1658]: [username] FAIL LOGIN: Client "192.0.2.222""#,
         "2025-03-04T01:06:36.645577Z", (Action::FtpLogin, Outcome::Failure), Some("192.0.2.222"), Some("username"), false, None, None, Some(1658),
         Some("ip-172-31-3-150.ap-southeast-2.compute.internal")),
        (r#"Aug 14 09:00:00 h vsftpd[7]: Sun Aug 14 09:00:00 2005 [pid 8] [ftp] OK DOWNLOAD: Client "1.2.3.4", "/pub/f", 12 bytes, 1.00Kbyte/sec"#,
         "2005-08-14T09:00:00Z", (Action::FtpDownload, Outcome::Success), Some("1.2.3.4"), Some("ftp"), true, Some("/pub/f"), Some(12), Some(8), Some("h")),
    ];

    #[test]
    fn events() {
        for c in EVENTS {
            let e = parse(c.0)
                .unwrap_or_else(|err| panic!("{}: {err:?}", c.0))
                .expect(c.0);
            let src = e.source_ip.map(|ip| ip.to_string());
            let got: Case = (
                c.0,
                c.1,
                (e.action, e.outcome),
                src.as_deref(),
                e.user_name.as_deref(),
                e.ftp_anonymous,
                e.file_path.as_deref(),
                e.bytes,
                e.process_pid,
                e.host_name.as_deref(),
            );
            assert_eq!(got, *c, "{}", c.0);
            assert_eq!(
                e.timestamp,
                c.1.parse::<DateTime<Utc>>().unwrap(),
                "{}",
                c.0
            );
            assert_eq!(e.destination_ip, ctx().host, "{}", c.0);
            assert_eq!(e.dataset, Dataset::Vsftpd);
            if matches!(e.action, Action::FtpUpload | Action::FtpDownload) {
                assert_eq!(e.file_size, e.bytes);
            }
        }
    }

    #[test]
    fn lines_without_events() {
        let cases = [
            r#"Sun Aug 27 16:28:20 2006 [pid 1] FTP response: Client "1.2.3.4", "220 (vsFTPd 3.0.3)""#,
            r#"Sun Aug 27 16:28:20 2006 [pid 1] DEBUG: Client "1.2.3.4", "x""#,
            "Oct 11 01:06:47 h sshd[1]: Failed password for root from 1.2.3.4",
            "Oct 11 01:06:47 h vsftpd: pam_unix(vsftpd:session): session opened for user bob",
            "Oct 11 01:06:47 h vsftpd[3]: warning: can't get client address",
            "Oct 11 01:06:47 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8",
        ];
        for line in cases {
            assert_eq!(parse(line), Ok(None), "{line}");
        }
    }

    const D: &str = "Fri Jan 19 12:20:33 2007";

    #[test]
    fn rejected_lines() {
        let long = format!("{D} [pid 1] {}", "x".repeat(100_000));
        let with_date = |rest: &str| format!("{D} {rest}").into_bytes();
        #[rustfmt::skip]
        let cases: Vec<(Vec<u8>, ErrorKind, usize)> = vec![
            (b"".to_vec(), ErrorKind::Syntax, 0),
            (b"hello world".to_vec(), ErrorKind::BadTimestamp, 0),
            (b"Fri Jan 19 12:20".to_vec(), ErrorKind::BadTimestamp, 0),
            (b"Fri Jan 32 12:20:33 2007 [pid 1] CONNECT: Client \"1.2.3.4\"".to_vec(), ErrorKind::BadTimestamp, 0),
            (D.as_bytes().to_vec(), ErrorKind::Syntax, 24),
            (with_date("[pid x] CONNECT"), ErrorKind::Syntax, 25),
            (with_date("[pid 99999999999] CONNECT"), ErrorKind::BadNumber, 30),
            (with_date("[pid 1]"), ErrorKind::Syntax, 32),
            (with_date("[pid 1] OK FLY: Client \"1.2.3.4\""), ErrorKind::Syntax, 36),
            (with_date("[pid 1] LOGIN: Client \"1.2.3.4\""), ErrorKind::Syntax, 33),
            (with_date("[pid 1] OK CONNECT: Client \"1.2.3.4\""), ErrorKind::Syntax, 33),
            (with_date("[pid 1] CONNECT: Client \"1.2.3.4"), ErrorKind::Syntax, 50),
            (with_date("[pid 1] CONNECT: Client \"1.2.3\""), ErrorKind::BadAddress, 50),
            (with_date("[pid 1] [u] OK LOGIN: Client \"1.2.3.4\" junk"), ErrorKind::Syntax, 63),
            (with_date("[pid 1] [u] OK UPLOAD: Client \"1.2.3.4\", \"/a\", 99999999999999999999 bytes"), ErrorKind::BadNumber, 72),
            (with_date("[pid 1] [u] OK LOGIN: Client \"1.2.3.4\", anon password \"x"), ErrorKind::Syntax, 63),
            (b"Fri Jan 19 12:20:33 2007 [pid 1] [\xc3\x28] CONNECT".to_vec(), ErrorKind::InvalidUtf8, 34),
            (b"Oct 11 01:06:47 h vsftpd[1]: [u] OK LOGIN: Client \"nope\"".to_vec(), ErrorKind::BadAddress, 51),
            (b"Oct 11 01:06:47 h vsftpd[1]: [pid 7x] OK LOGIN".to_vec(), ErrorKind::Syntax, 29),
            (long.into_bytes(), ErrorKind::TooLong, crate::MAX_LINE_LEN),
        ];
        for (line, kind, offset) in cases {
            let e = parse_vsftpd_line(&line, &ctx()).unwrap_err();
            let shown = String::from_utf8_lossy(&line);
            let got = (e.kind, e.offset, e.format);
            assert_eq!(got, (kind, offset, Format::Vsftpd), "{shown}: {e}");
        }
    }

    #[test]
    fn hostile_user_field_is_bounded() {
        let fake = "] OK LOGIN: Client \"1.2.3.4\" x".repeat(500);
        let line = format!("{D} [pid 1] [{fake}");
        let e = parse(&line).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Syntax, 62), "{e}");
    }

    #[test]
    fn local_zone_is_applied_to_native_dates() {
        let mut c = ctx();
        c.timezone = SourceTz::Named(chrono_tz::Europe::Berlin);
        let line = br#"Fri Jan 19 12:20:33 2007 [pid 1] CONNECT: Client "1.2.3.4""#;
        let e = parse_vsftpd_line(line, &c).unwrap().unwrap();
        let want: DateTime<Utc> = "2007-01-19T11:20:33Z".parse().unwrap();
        assert_eq!(e.timestamp, want);
    }
}
