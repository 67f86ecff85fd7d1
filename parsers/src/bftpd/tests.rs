use super::*;
use crate::SourceTz;

fn ctx() -> ParseContext {
    ParseContext {
        now: "2026-11-21T00:00:00Z".parse().unwrap(),
        host: Some("192.0.2.10".parse().unwrap()),
        ..ParseContext::new(SourceTz::Utc)
    }
}

/// Parses `lines` in order with one state; the last line's result.
fn parse_seq(lines: &[&str]) -> Result<Option<Event>, ParseError> {
    let (c, mut state) = (ctx(), State::default());
    let mut last = Ok(None);
    for l in lines {
        last = parse_bftpd_line(l.as_bytes(), &c, &mut state);
    }
    last
}

fn event(lines: &[&str]) -> Event {
    parse_seq(lines)
        .unwrap_or_else(|e| panic!("{lines:?}: {e}"))
        .unwrap_or_else(|| panic!("no event: {lines:?}"))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

const CONNECT: &str = "Fri Nov 20 14:03:01 2026 bftpd[4711]: Incoming connection from 203.0.113.5.";

#[test]
fn file_form_connect() {
    let e = event(&[CONNECT]);
    assert_eq!(e.timestamp.to_rfc3339(), "2026-11-20T14:03:01+00:00");
    assert_eq!(e.dataset, Dataset::Bftpd);
    assert_eq!(e.action, Action::FtpConnect);
    assert_eq!(e.outcome, Outcome::Success);
    assert_eq!(e.source_ip, ip("203.0.113.5"));
    assert_eq!(e.destination_ip, ip("192.0.2.10"));
    assert_eq!(e.process_pid, Some(4711));
    assert_eq!(e.host_name, None);
    assert_eq!(e.user_name, None);
}

#[test]
fn file_form_login_takes_the_client_of_its_pid() {
    let e = event(&[
        CONNECT,
        "Fri Nov 20 14:03:02 2026 bftpd[4712]: Incoming connection from 198.51.100.9.",
        "Fri Nov 20 14:03:05 2026 bftpd[4711]: Login as user 'admin' failed.",
    ]);
    assert_eq!(e.action, Action::FtpLogin);
    assert_eq!(e.outcome, Outcome::Failure);
    assert_eq!(e.user_name.as_deref(), Some("admin"));
    assert_eq!(e.source_ip, ip("203.0.113.5"));
    assert_eq!(e.process_pid, Some(4711));
    assert!(!e.ftp_anonymous);
    assert_eq!(e.timestamp.to_rfc3339(), "2026-11-20T14:03:05+00:00");
}

#[test]
fn login_failure_variants() {
    for tail in [
        "failed.",
        "failed: Server disabled.",
        "failed. Too many users on server.",
    ] {
        let line = format!("Fri Nov 20 14:03:05 2026 bftpd[4711]: Login as user 'bob' {tail}");
        let e = event(&[CONNECT, &line]);
        assert_eq!((e.action, e.outcome), (Action::FtpLogin, Outcome::Failure));
        assert_eq!(e.user_name.as_deref(), Some("bob"), "{tail}");
    }
}

#[test]
fn anonymous_login_and_upload() {
    let e = event(&[
        CONNECT,
        "Fri Nov 20 14:03:06 2026 bftpd[4711]: Successfully logged in as user 'anonymous'.",
    ]);
    assert_eq!((e.action, e.outcome), (Action::FtpLogin, Outcome::Success));
    assert!(e.ftp_anonymous);
    assert_eq!(e.source_ip, ip("203.0.113.5"));
    let e = event(&[
        CONNECT,
        "Fri Nov 20 14:03:06 2026 bftpd[4711]: Successfully logged in as user 'ftp'.",
        "Fri Nov 20 14:03:09 2026 bftpd[4711]: Client is storing file '/incoming/x.rar'.",
    ]);
    assert_eq!((e.action, e.outcome), (Action::FtpUpload, Outcome::Success));
    assert_eq!(e.file_path.as_deref(), Some("/incoming/x.rar"));
    assert_eq!(e.source_ip, ip("203.0.113.5"));
    // The transfer line names no user: it is the one this process logged in as.
    assert_eq!(e.user_name.as_deref(), Some("ftp"));
    assert!(e.ftp_anonymous);
    // A new connection of the same pid is a new process: no user until it logs in.
    let e = event(&[
        CONNECT,
        "Fri Nov 20 14:03:06 2026 bftpd[4711]: Successfully logged in as user 'ftp'.",
        CONNECT,
        "Fri Nov 20 14:03:09 2026 bftpd[4711]: Client is storing file '/incoming/x.rar'.",
    ]);
    assert_eq!(e.user_name, None);
    assert!(!e.ftp_anonymous);
    // A login without its connection line still gives its transfers a user.
    let e = event(&[
        "Fri Nov 20 14:03:06 2026 bftpd[5]: Successfully logged in as user 'alice'.",
        "Fri Nov 20 14:03:09 2026 bftpd[5]: Client is storing file '/x'.",
    ]);
    assert_eq!((e.user_name.as_deref(), e.source_ip), (Some("alice"), None));
    let e = event(&[
        CONNECT,
        "Fri Nov 20 14:03:10 2026 bftpd[4711]: Client is receiving file '/pub/it's.txt'.",
    ]);
    assert_eq!(e.action, Action::FtpDownload);
    assert_eq!(e.file_path.as_deref(), Some("/pub/it's.txt"));
}

#[test]
fn login_without_connection_has_no_source() {
    let e = event(&["Fri Nov 20 14:03:05 2026 bftpd[9]: Login as user 'root' failed."]);
    assert_eq!(e.source_ip, None);
    assert_eq!(e.user_name.as_deref(), Some("root"));
}

#[test]
fn host_name_client_gives_no_address_and_replaces_the_old_one() {
    let e = event(&[
        CONNECT,
        "Fri Nov 20 14:04:01 2026 bftpd[4711]: Incoming connection from client.example.net.",
        "Fri Nov 20 14:04:05 2026 bftpd[4711]: Login as user 'x' failed.",
    ]);
    assert_eq!(e.source_ip, None);
}

#[test]
fn syslog_form() {
    let e = event(&[
        "Nov 20 14:03:01 ftp01 bftpd[4711]: Incoming connection from ::ffff:203.0.113.5.",
        "Nov 20 14:03:05 ftp01 bftpd[4711]: Login as user 'root' failed.",
    ]);
    assert_eq!(e.timestamp.to_rfc3339(), "2026-11-20T14:03:05+00:00");
    assert_eq!(e.action, Action::FtpLogin);
    assert_eq!(e.outcome, Outcome::Failure);
    assert_eq!(e.source_ip, ip("203.0.113.5"));
    assert_eq!(e.host_name.as_deref(), Some("ftp01"));
    assert_eq!(e.process_pid, Some(4711));
    // The same pid on another relayed host is another connection.
    let e = event(&[
        "Nov 20 14:03:01 ftp01 bftpd[4711]: Incoming connection from 203.0.113.5.",
        "Nov 20 14:03:05 ftp02 bftpd[4711]: Login as user 'root' failed.",
    ]);
    assert_eq!(e.source_ip, None);
    // A full path as argv[0], and RFC 5424.
    let e = event(&[
        "<30>1 2026-11-20T14:03:01Z ftp01 /usr/sbin/bftpd 77 - - Incoming connection from 2001:db8::7.",
        "<30>1 2026-11-20T14:03:02Z ftp01 /usr/sbin/bftpd 77 - - Successfully logged in as user 'alice'.",
    ]);
    assert_eq!(e.source_ip, ip("2001:db8::7"));
    assert_eq!(e.user_name.as_deref(), Some("alice"));
    assert_eq!(e.outcome, Outcome::Success);
}

#[test]
fn lines_without_events() {
    for line in [
        "Nov 20 14:03:01 ftp01 vsftpd[1]: Incoming connection from 203.0.113.5.",
        "Nov 20 14:03:01 ftp01 bftpd[4711]: Chdir failed: No such file or directory.",
        "Fri Nov 20 14:03:01 2026 bftpd[4711]: Chdir failed: No such file or directory.",
        "Fri Nov 20 14:03:01 2026 bftpd[4711]: Login as user 'x' did something else.",
    ] {
        assert_eq!(parse_seq(&[line]), Ok(None), "{line}");
    }
}

#[test]
fn garbage_is_rejected_with_offsets() {
    let cases: &[(&str, ErrorKind, usize)] = &[
        ("", ErrorKind::Syntax, 0),
        (
            "Fri Nov 32 14:03:01 2026 bftpd[1]: x",
            ErrorKind::BadTimestamp,
            0,
        ),
        ("Fri Nov 20 14:03:01 2026bftpd[1]: x", ErrorKind::Syntax, 24),
        ("Fri Nov 20 14:03:01 2026 bftpd: x", ErrorKind::Syntax, 25),
        (
            "Fri Nov 20 14:03:01 2026 bftpd[x1]: x",
            ErrorKind::BadNumber,
            31,
        ),
        ("Fri Nov 20 14:03:01 2026 bftpd[1] x", ErrorKind::Syntax, 32),
        ("Fri Nov 20 14:03:01 2026 bftpd[1", ErrorKind::Syntax, 31),
    ];
    for (line, kind, offset) in cases {
        let e = parse_seq(&[line]).unwrap_err();
        assert_eq!(
            (e.format, e.kind, e.offset),
            (Format::Bftpd, *kind, *offset),
            "{line}"
        );
    }
    let e = parse_seq(&["not a log line"]).unwrap_err();
    assert_eq!(e.format, Format::Bftpd);
    let e = parse_seq(&["Fri Nov 20 14:03:01 2026 bftpd[1]: \u{0}\u{ff}"]);
    assert!(e.is_ok());
    let e = parse_bftpd_line(
        b"Fri Nov 20 14:03:01 2026 bftpd[1]: \xff",
        &ctx(),
        &mut State::default(),
    );
    assert_eq!(e.unwrap_err().kind, ErrorKind::InvalidUtf8);
}

/// The connection memory never holds more than [`MAX_CONNECTIONS`]: the oldest goes first.
#[test]
fn connection_memory_is_capped() {
    let (c, mut state) = (ctx(), State::default());
    for pid in 0..MAX_CONNECTIONS as u32 + 10 {
        let line =
            format!("Fri Nov 20 14:03:01 2026 bftpd[{pid}]: Incoming connection from 203.0.113.5.");
        parse_bftpd_line(line.as_bytes(), &c, &mut state).unwrap();
    }
    assert_eq!(state.len(), MAX_CONNECTIONS);
    let login = |pid: u32, state: &mut State| {
        let line = format!("Fri Nov 20 14:03:05 2026 bftpd[{pid}]: Login as user 'x' failed.");
        parse_bftpd_line(line.as_bytes(), &c, state)
            .unwrap()
            .unwrap()
            .source_ip
    };
    assert_eq!(login(9, &mut state), None, "evicted");
    assert_eq!(login(10, &mut state), ip("203.0.113.5"), "kept");
    // One pid reconnecting over and over keeps one entry and a bounded queue.
    for _ in 0..3 * MAX_CONNECTIONS {
        parse_bftpd_line(CONNECT.as_bytes(), &c, &mut state).unwrap();
    }
    assert_eq!(state.len(), MAX_CONNECTIONS);
    assert!(state.order.len() <= 2 * MAX_CONNECTIONS);
    assert_eq!(login(4711, &mut state), ip("203.0.113.5"));
}

/// User names are the client's: they reach the event as they are (escaping is the printers'
/// job), and a quote inside one does not cut it.
#[test]
fn odd_user_names_are_kept_whole() {
    let e = event(&[
        CONNECT,
        "Fri Nov 20 14:03:05 2026 bftpd[4711]: Login as user 'a' failed.' \u{1b}[31m' failed.",
    ]);
    assert_eq!(e.user_name.as_deref(), Some("a' failed.' \u{1b}[31m"));
}

/// Regression from the fuzz target's first run (crash-e1c90265): a transfer line carries the
/// user of the earlier login line, which may be longer than the transfer line itself. Correct
/// behaviour; the fuzz check was the thing to change.
#[test]
fn a_long_user_rides_on_a_short_transfer_line() {
    let user = "a".repeat(300);
    let login =
        format!("Fri Nov 20 14:03:07 2026 bftpd[4712]: Successfully logged in as user '{user}'.");
    let e = event(&[
        &login,
        "Fri Nov 20 14:03:08 2026 bftpd[4712]: Client is storing file 'x'.",
    ]);
    assert_eq!(e.user_name.as_deref(), Some(user.as_str()));
    assert_eq!(e.file_path.as_deref(), Some("x"));
}
