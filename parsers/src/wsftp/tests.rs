use super::*;
use crate::SourceTz;
use chrono::{DateTime, Utc};

fn ctx() -> ParseContext {
    ParseContext {
        now: "2026-11-21T00:00:00Z".parse().unwrap(),
        host: Some("192.0.2.10".parse().unwrap()),
        ..ParseContext::new(SourceTz::Utc)
    }
}

fn parse(line: &str) -> Result<Option<Event>, ParseError> {
    parse_wsftp_line(line.as_bytes(), &ctx())
}

fn event(line: &str) -> Event {
    parse(line)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .unwrap_or_else(|| panic!("no event: {line}"))
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The guide's own example lines.
#[test]
fn guide_example() {
    let e = event("0915 12:17:00 (0000005c) 156.21.50.134:2040 connected to 156.21.50.190:21");
    assert_eq!(e.timestamp, utc("2026-09-15T12:17:00Z"));
    assert_eq!(
        (e.dataset, e.action, e.outcome),
        (Dataset::WsFtp, Action::FtpConnect, Outcome::Success)
    );
    assert_eq!(
        (e.source_ip, e.source_port),
        (Some("156.21.50.134".parse().unwrap()), Some(2040))
    );
    assert_eq!(
        (e.destination_ip, e.destination_port),
        (Some("156.21.50.190".parse().unwrap()), Some(21))
    );

    let e = event("0915 12:17:00 (0000005c) ftp4test.ipswitch.com S(0) 156.21.50.134 anon-guest@unknown logon success (A1)");
    assert_eq!((e.action, e.outcome), (Action::FtpLogin, Outcome::Success));
    assert_eq!(e.user_name.as_deref(), Some("anon-guest@unknown"));
    assert!(e.ftp_anonymous);
    assert_eq!(e.host_name.as_deref(), Some("ftp4test.ipswitch.com"));
    assert_eq!(e.source_ip, Some("156.21.50.134".parse().unwrap()));
    assert_eq!(e.destination_ip, Some("192.0.2.10".parse().unwrap()));

    for quiet in [
        "0915 12:18:11 (0000005c) ntdoctest.lex.ipswitch.com S(0) 156.21.50.134 anon-guest@unknown logoff R:0 D:0 P:0",
        "0915 12:18:11 (0000005c) 156.21.50.134 connection closed",
    ] {
        assert_eq!(parse(quiet), Ok(None), "{quiet}");
    }
}

#[test]
fn commands_and_transfers() {
    let head = "1002 08:00:05 (000000ff) ftp.example.net S(12) 2001:db8::7 bob";
    /// (message, action, outcome, path, bytes, duration)
    type Case<'a> = (
        &'a str,
        Action,
        Outcome,
        Option<&'a str>,
        Option<u64>,
        Option<u64>,
    );
    let cases: &[Case] = &[
        (
            "STOR /in/a b.zip (1024 bytes, 350 ms)",
            Action::FtpUpload,
            Outcome::Success,
            Some("/in/a b.zip"),
            Some(1024),
            Some(350_000_000),
        ),
        (
            "APPE /in/log.txt (0 bytes, 0 ms)",
            Action::FtpUpload,
            Outcome::Success,
            Some("/in/log.txt"),
            Some(0),
            Some(0),
        ),
        (
            "RECV /in/x",
            Action::FtpUpload,
            Outcome::Unknown,
            Some("/in/x"),
            None,
            None,
        ),
        (
            "RETR /pub/f (9 bytes, 2 ms)",
            Action::FtpDownload,
            Outcome::Success,
            Some("/pub/f"),
            Some(9),
            Some(2_000_000),
        ),
        (
            "DELE /in/old",
            Action::FtpDelete,
            Outcome::Unknown,
            Some("/in/old"),
            None,
            None,
        ),
        (
            "XMKD /in/new",
            Action::FtpMkdir,
            Outcome::Unknown,
            Some("/in/new"),
            None,
            None,
        ),
        (
            "RMD /in/new",
            Action::FtpRmdir,
            Outcome::Unknown,
            Some("/in/new"),
            None,
            None,
        ),
        (
            "PWD",
            Action::FtpCommand,
            Outcome::Unknown,
            None,
            None,
            None,
        ),
        // A malformed suffix stays part of the path.
        (
            "STOR /in/f (many bytes, 3 ms)",
            Action::FtpUpload,
            Outcome::Unknown,
            Some("/in/f (many bytes, 3 ms)"),
            None,
            None,
        ),
    ];
    for (msg, action, outcome, path, bytes, duration) in cases {
        let line = format!("{head} {msg}");
        let e = event(&line);
        assert_eq!((e.action, e.outcome), (*action, *outcome), "{line}");
        assert_eq!(e.file_path.as_deref(), *path, "{line}");
        assert_eq!((e.bytes, e.duration_ns), (*bytes, *duration), "{line}");
        assert_eq!(e.end, duration.map(|_| e.timestamp), "{line}");
        assert_eq!(e.source_ip, Some("2001:db8::7".parse().unwrap()));
        assert_eq!(e.user_name.as_deref(), Some("bob"));
        assert!(!e.ftp_anonymous);
    }
    let e = event("1002 08:00:05 (1) h S(0) 192.0.2.1 alice logon failure (A2)");
    assert_eq!((e.action, e.outcome), (Action::FtpLogin, Outcome::Failure));
    let e = event("1002 08:00:05 (1) h S(0) 192.0.2.1 anonymous@host.example logon success");
    assert!(e.ftp_anonymous);
    // Other messages of a session are not events.
    assert_eq!(
        parse("1002 08:00:05 (1) h S(0) 192.0.2.1 alice timed out"),
        Ok(None)
    );
}

#[test]
fn year_rule_and_zone() {
    // December seen in November: last year.
    assert_eq!(
        event("1231 23:59:59 (1) 192.0.2.1:1 connected to 192.0.2.2:21").timestamp,
        utc("2025-12-31T23:59:59Z")
    );
    let berlin = ParseContext {
        timezone: SourceTz::Named(chrono_tz::Europe::Berlin),
        ..ctx()
    };
    let e = parse_wsftp_line(
        b"0701 12:00:00 (1) 192.0.2.1:1 connected to 192.0.2.2:21",
        &berlin,
    )
    .unwrap()
    .unwrap();
    assert_eq!(e.timestamp, utc("2026-07-01T10:00:00Z"));
}

#[test]
fn rejected_lines() {
    let cases: &[(&[u8], ErrorKind, usize)] = &[
        (b"", ErrorKind::Syntax, 0),
        (b"garbage", ErrorKind::BadTimestamp, 0),
        (
            b"1315 12:00:00 (1) 192.0.2.1:1 connected to 192.0.2.2:21",
            ErrorKind::BadTimestamp,
            0,
        ),
        (
            b"0230 12:00:00 (1) 192.0.2.1:1 connected to 192.0.2.2:21",
            ErrorKind::BadTimestamp,
            0,
        ),
        (
            b"0915 12:00:00 (xyz) 192.0.2.1:1 connected to 192.0.2.2:21",
            ErrorKind::BadTimestamp,
            0,
        ),
        (
            b"0915 12:00:00 (123456789) 192.0.2.1:1 connected to 192.0.2.2:21",
            ErrorKind::BadTimestamp,
            0,
        ),
        (
            b"0915 12:00:00 (1) 192.0.2.1 connected to 192.0.2.2:21",
            ErrorKind::BadAddress,
            18,
        ),
        (
            b"0915 12:00:00 (1) 192.0.2.1:1 connected to 192.0.2.2:99999",
            ErrorKind::BadAddress,
            43,
        ),
        (
            b"0915 12:00:00 (1) nohost connection closed",
            ErrorKind::BadAddress,
            18,
        ),
        (
            b"0915 12:00:00 (1) h X(0) 192.0.2.1 u logon success",
            ErrorKind::Syntax,
            20,
        ),
        (
            b"0915 12:00:00 (1) h S(0) 192.0.2 u logon success",
            ErrorKind::BadAddress,
            25,
        ),
        (
            b"0915 12:00:00 (1) h S(0) 192.0.2.1 u",
            ErrorKind::Syntax,
            35,
        ),
        (
            b"0915 12:00:00 (1) h S(0) 192.0.2.1 \xff logon",
            ErrorKind::InvalidUtf8,
            35,
        ),
    ];
    for (line, kind, offset) in cases {
        let e = parse_wsftp_line(line, &ctx()).unwrap_err();
        assert_eq!(
            (e.kind, e.offset),
            (*kind, *offset),
            "{:?}: {e}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn other_formats_are_not_ws_ftp() {
    for line in [
        "Oct 11 01:06:47 host vsftpd[12]: [bob] OK LOGIN: Client \"192.0.2.1\"",
        "[5] Wed 01Jan20 10:00:00 - (000001) Connected to 1.2.3.4 (Local address 5.6.7.8, port 21)",
        "2024-01-10 12:00:00 192.0.2.1 - 192.0.2.10 21 USER bob 331 0 0 x ftp",
        "Thu Sep  2 09:52:00 2004 50 192.168.20.10 896242 /home/test/file1.tgz b _ o r suporte ftp 0 * c",
    ] {
        assert!(parse(line).is_err(), "{line}");
    }
}

#[test]
fn fixture_is_detected_as_ws_ftp() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/ws-ftp/guide-v5.log");
    let text = std::fs::read(path).unwrap();
    assert_eq!(crate::detect_format(&text, &ctx()), Some(Format::WsFtp));
}
