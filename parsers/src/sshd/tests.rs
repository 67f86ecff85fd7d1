//! Lines written from OpenSSH's own message formats (auth.c `auth_log`, sshd.c connection
//! line); the addresses are documentation ranges.

use super::*;
use crate::SourceTz;

const HOST: &str = "192.0.2.10";

fn ctx() -> ParseContext {
    ParseContext {
        now: "2026-03-02T12:00:00Z".parse().unwrap(),
        host: Some(HOST.parse().unwrap()),
        ..ParseContext::new(SourceTz::Utc)
    }
}

fn parse(line: &str) -> Result<Option<Event>, ParseError> {
    parse_sshd_line(line.as_bytes(), &ctx())
}

/// (line, outcome, action, user, source ip, source port, destination ip, destination port, pid)
type Case<'a> = (
    &'a str,
    Outcome,
    Action,
    Option<&'a str>,
    &'a str,
    u16,
    &'a str,
    Option<u16>,
    Option<u32>,
);

#[rustfmt::skip]
const EVENTS: &[Case] = &[
    ("Mar  2 10:00:04 srv sshd[812]: Failed password for root from 203.0.113.9 port 4711 ssh2",
     Outcome::Failure, Action::SshLogin, Some("root"), "203.0.113.9", 4711, HOST, None, Some(812)),
    ("Mar  2 10:00:04 srv sshd[812]: Failed password for invalid user admin from 203.0.113.9 port 4712 ssh2",
     Outcome::Failure, Action::SshLogin, Some("admin"), "203.0.113.9", 4712, HOST, None, Some(812)),
    ("Mar  2 10:00:04 srv sshd[90]: Accepted publickey for alice from 2001:db8::5 port 50022 ssh2: ED25519 SHA256:AbCdEf",
     Outcome::Success, Action::SshLogin, Some("alice"), "2001:db8::5", 50022, HOST, None, Some(90)),
    ("Mar  2 10:00:04 srv sshd[90]: Accepted keyboard-interactive/pam for bob from ::ffff:198.51.100.4 port 1022 ssh2",
     Outcome::Success, Action::SshLogin, Some("bob"), "198.51.100.4", 1022, HOST, None, Some(90)),
    ("Mar  2 10:00:04 srv sshd-session[7]: Failed publickey for git from 203.0.113.9 port 60000 ssh2: RSA SHA256:x",
     Outcome::Failure, Action::SshLogin, Some("git"), "203.0.113.9", 60000, HOST, None, Some(7)),
    // A user name that itself contains " from ": the last " from " splits.
    ("Mar  2 10:00:04 srv sshd[1]: Failed password for invalid user x from 10.0.0.1 port 1 from 203.0.113.9 port 22 ssh2",
     Outcome::Failure, Action::SshLogin, Some("x from 10.0.0.1 port 1"), "203.0.113.9", 22, HOST, None, Some(1)),
    ("Mar  2 10:00:04 srv sshd[812]: message repeated 3 times: [ Failed password for root from 203.0.113.9 port 4711 ssh2]",
     Outcome::Failure, Action::SshLogin, Some("root"), "203.0.113.9", 4711, HOST, None, Some(812)),
    ("Mar  2 10:00:04 srv sshd[812]: Connection from 203.0.113.9 port 4711 on 192.0.2.11 port 2222 rdomain \"\"",
     Outcome::Success, Action::SshConnect, None, "203.0.113.9", 4711, "192.0.2.11", Some(2222), Some(812)),
    ("<38>1 2026-03-02T10:00:04Z srv sshd 812 - - Connection from 203.0.113.9 port 4711 on 192.0.2.11 port 22",
     Outcome::Success, Action::SshConnect, None, "203.0.113.9", 4711, "192.0.2.11", Some(22), Some(812)),
];

#[test]
fn events_have_their_fields() {
    for &(line, outcome, action, user, sip, sport, dip, dport, pid) in EVENTS {
        let e = parse(line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .expect(line);
        assert_eq!(
            e.timestamp.to_rfc3339(),
            "2026-03-02T10:00:04+00:00",
            "{line}"
        );
        assert_eq!(e.dataset, Dataset::Sshd, "{line}");
        assert_eq!((e.action, e.outcome), (action, outcome), "{line}");
        assert_eq!(e.user_name.as_deref(), user, "{line}");
        assert_eq!(e.source_ip, Some(sip.parse().unwrap()), "{line}");
        assert_eq!(e.source_port, Some(sport), "{line}");
        assert_eq!(e.destination_ip, Some(dip.parse().unwrap()), "{line}");
        assert_eq!(e.destination_port, dport, "{line}");
        assert_eq!(e.transport, Some(Transport::Tcp), "{line}");
        assert_eq!(e.host_name.as_deref(), Some("srv"), "{line}");
        assert_eq!(e.process_pid, pid, "{line}");
    }
}

#[test]
fn other_messages_are_no_event() {
    for line in [
        "Mar  2 10:00:04 srv sshd[812]: Invalid user admin from 203.0.113.9 port 4712",
        "Mar  2 10:00:04 srv sshd[812]: Failed none for invalid user admin from 203.0.113.9 port 4712 ssh2",
        "Mar  2 10:00:04 srv sshd[812]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
        "Mar  2 10:00:04 srv sshd[812]: Connection closed by authenticating user root 203.0.113.9 port 4711 [preauth]",
        "Mar  2 10:00:04 srv sshd[812]: Disconnected from invalid user admin 203.0.113.9 port 4712 [preauth]",
        "Mar  2 10:00:04 srv sshd[1]: Server listening on 0.0.0.0 port 2222.",
        "Mar  2 10:00:04 srv sshd[812]: error: maximum authentication attempts exceeded for root from 203.0.113.9 port 4711 ssh2 [preauth]",
        "Mar  2 10:00:04 srv CRON[5]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        "Mar  2 10:00:04 srv vsftpd[5]: Accepted password for root from 203.0.113.9 port 4711 ssh2",
    ] {
        assert_eq!(parse(line), Ok(None), "{line}");
    }
}

#[test]
fn broken_lines_are_rejected_with_their_reason() {
    let cases: &[(&str, ErrorKind, usize)] = &[
        ("Mar  2 10:00:04 srv sshd[812]: Failed password for root from 203.0.113.x port 4711 ssh2", ErrorKind::Syntax, 31),
        ("Mar  2 10:00:04 srv sshd[812]: Accepted password for root from 203.0.113.9 port ssh2", ErrorKind::Syntax, 31),
        ("Mar  2 10:00:04 srv sshd[812]: Failed password for root from 203.0.113.9 port 99999 ssh2", ErrorKind::Syntax, 31),
        ("Xyz  2 10:00:04 srv sshd[812]: Failed password for root from 203.0.113.9 port 1 ssh2", ErrorKind::BadTimestamp, 0),
        ("", ErrorKind::Syntax, 0),
    ];
    for &(line, kind, offset) in cases {
        let e = parse(line).expect_err(line);
        assert_eq!(
            (e.format, e.kind, e.offset),
            (Format::Sshd, kind, offset),
            "{line}: {e}"
        );
    }
}

#[test]
fn invalid_utf8_is_rejected_not_panicking() {
    let line =
        b"Mar  2 10:00:04 srv sshd[812]: Failed password for \xff\xfe from 203.0.113.9 port 1 ssh2";
    let e = parse_sshd_line(line, &ctx()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidUtf8);
}
