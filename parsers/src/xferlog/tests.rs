use super::*;
use crate::SourceTz;
use chrono::{DateTime, Utc};

fn ctx() -> ParseContext {
    ParseContext {
        now: "2025-01-01T00:00:00Z".parse().unwrap(),
        host: Some("198.51.100.7".parse().unwrap()),
        ..ParseContext::new(SourceTz::Utc)
    }
}

fn parse(line: &str) -> Result<Option<Event>, ParseError> {
    parse_xferlog_line(line.as_bytes(), &ctx())
}

/// (line, time, (action, outcome), source, user, anonymous, path, bytes)
type Case<'a> = (
    &'a str,
    &'a str,
    (Action, Outcome),
    Option<&'a str>,
    &'a str,
    bool,
    &'a str,
    u64,
);

const DOWN_OK: (Action, Outcome) = (Action::FtpDownload, Outcome::Success);

#[rustfmt::skip]
const EVENTS: &[Case] = &[
    ("Thu Sep  2 09:52:00 2004 50 192.168.20.10 896242 /home/test/file1.tgz b _ o r suporte ftp 0 * c",
     "2004-09-02T09:52:00Z", DOWN_OK, Some("192.168.20.10"), "suporte", false, "/home/test/file1.tgz", 896242),
    ("Thu Sep  2 09:57:16 2004 289 192.168.20.10 8045867 /home/test2.tgz b _ o r suporte ftp 0 * c",
     "2004-09-02T09:57:16Z", DOWN_OK, Some("192.168.20.10"), "suporte", false, "/home/test2.tgz", 8045867),
    // vsftpd: IPv4-mapped client, file name with spaces, an incomplete anonymous upload.
    ("Mon Mar  4 10:00:00 2024 1 ::ffff:192.0.2.7 12 /incoming/a b  c.txt a _ i a guest@example.com ftp 0 * i",
     "2024-03-04T10:00:00Z", (Action::FtpUpload, Outcome::Failure), Some("192.0.2.7"), "anonymous", true, "/incoming/a b  c.txt", 12),
    // ProFTPD: a delete by a guest user, fractional seconds, an IPv6 client.
    ("Mon Mar 4 10:00:00 2024 0.25 2001:db8::9 0 /home/g/old.log b _ d g guestuser ftp 0 * c",
     "2024-03-04T10:00:00Z", (Action::FtpDelete, Outcome::Success), Some("2001:db8::9"), "guestuser", false, "/home/g/old.log", 0),
    // Old wu-ftpd: no completion status; a remote host name (no address); special-action flags.
    ("Fri Jan  5 23:59:59 1996 3 client.example.com 2048 /pub/x.tar.Z b CT o r bob ftp 1 bob",
     "1996-01-05T23:59:59Z", (Action::FtpDownload, Outcome::Unknown), None, "bob", false, "/pub/x.tar.Z", 2048),
    // A real user called ftp is the anonymous account.
    ("Fri Jan  5 23:59:59 1996 3 192.0.2.1 5 /pub/r b _ o r ftp ftp 0 * c",
     "1996-01-05T23:59:59Z", DOWN_OK, Some("192.0.2.1"), "ftp", true, "/pub/r", 5),
    // A file name that ends like the fixed fields: they are read from the right.
    ("Fri Jan  5 23:59:59 1996 3 192.0.2.1 5 /x b _ o r u ftp 0 * c b _ i r bob ftp 0 * c",
     "1996-01-05T23:59:59Z", (Action::FtpUpload, Outcome::Success), Some("192.0.2.1"), "bob", false, "/x b _ o r u ftp 0 * c", 5),
];

#[test]
fn events() {
    for c in EVENTS {
        let e = parse(c.0)
            .unwrap_or_else(|err| panic!("{}: {err}", c.0))
            .unwrap_or_else(|| panic!("no event: {}", c.0));
        let src = e.source_ip.map(|ip| ip.to_string());
        let time = e
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let got: Case = (
            c.0,
            &time,
            (e.action, e.outcome),
            src.as_deref(),
            e.user_name.as_deref().unwrap_or(""),
            e.ftp_anonymous,
            e.file_path.as_deref().unwrap_or(""),
            e.bytes.unwrap_or(u64::MAX),
        );
        assert_eq!(got, *c);
        assert_eq!(e.file_size, e.bytes, "{}", c.0);
        assert_eq!(e.dataset, Dataset::Xferlog);
        assert_eq!(e.destination_ip, ctx().host);
    }
}

#[test]
fn transfer_time_is_the_duration() {
    let cases: &[(&str, Option<u64>)] = &[
        (EVENTS[0].0, Some(50_000_000_000)),
        (EVENTS[2].0, Some(1_000_000_000)),
        // A delete takes no transfer: no duration.
        (EVENTS[3].0, None),
        (
            "Mon Mar 4 10:00:00 2024 0.0123456789 2001:db8::9 0 /f b _ o r u ftp 0 * c",
            Some(12_345_678),
        ),
        // Too long to be a real transfer: the event stays, the duration is left out.
        (
            "Mon Mar 4 10:00:00 2024 99999999999999999999 192.0.2.1 0 /f b _ o r u ftp 0 * c",
            None,
        ),
    ];
    for (line, want) in cases {
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.duration_ns, *want, "{line}");
        assert_eq!(e.end, want.map(|_| e.timestamp), "{line}");
    }
}

#[test]
fn comments_are_not_events() {
    let lines: [&[u8]; 2] = [
        b"# fields: current-time   transfer-time   remote-host",
        b"#\xff not even UTF-8",
    ];
    for line in lines {
        assert_eq!(parse_xferlog_line(line, &ctx()), Ok(None));
    }
}

#[test]
fn rejected_lines() {
    const D: &str = "Thu Sep  2 09:52:00 2004";
    let long = format!(
        "{D} 1 192.0.2.1 1 /{} b _ o r u ftp 0 * c",
        "x".repeat(100_000)
    );
    let with_date = |rest: &str| format!("{D} {rest}").into_bytes();
    #[rustfmt::skip]
    let cases: Vec<(Vec<u8>, ErrorKind, usize)> = vec![
        (b"".to_vec(), ErrorKind::Syntax, 0),
        (b"garbage".to_vec(), ErrorKind::BadTimestamp, 0),
        (b"Thu Sep 31 09:52:00 2004 1 192.0.2.1 1 /f b _ o r u ftp 0 * c".to_vec(), ErrorKind::BadTimestamp, 0),
        (b"Thu Sep  2 09:52:00".to_vec(), ErrorKind::BadTimestamp, 0),
        (D.as_bytes().to_vec(), ErrorKind::Syntax, 24),
        (with_date("x 192.0.2.1 1 /f b _ o r u ftp 0 * c"), ErrorKind::BadNumber, 25),
        (with_date("1.x 192.0.2.1 1 /f b _ o r u ftp 0 * c"), ErrorKind::BadNumber, 25),
        (with_date("1 192.0.2.1 12k /f b _ o r u ftp 0 * c"), ErrorKind::BadNumber, 37),
        (with_date("1 192.0.2.1 99999999999999999999 /f b _ o r u ftp 0 * c"), ErrorKind::BadNumber, 37),
        (with_date("1 192.0.2.1"), ErrorKind::Syntax, 27),
        (with_date("1 192.0.2.1 1 /f x _ o r u ftp 0 * c"), ErrorKind::Syntax, 39),
        (with_date("1 192.0.2.1 1 /f b _ x r u ftp 0 * c"), ErrorKind::Syntax, 39),
        (with_date("1 192.0.2.1 1 /f b _ o x u ftp 0 * c"), ErrorKind::Syntax, 39),
        (with_date("1 192.0.2.1 1 /f b _ o r u ftp z * c"), ErrorKind::Syntax, 39),
        (with_date("1 192.0.2.1 1 b _ o r u ftp 0 * c"), ErrorKind::Syntax, 39),
        (with_date("1 192.0.2.1 1  b _ o r u ftp 0 * c"), ErrorKind::Syntax, 39),
        (b"Thu Sep  2 09:52:00 2004 1 192.0.2.1 1 /\xc3\x28 b _ o r u ftp 0 * c".to_vec(), ErrorKind::InvalidUtf8, 40),
        (long.into_bytes(), ErrorKind::TooLong, crate::MAX_LINE_LEN),
    ];
    for (line, kind, offset) in cases {
        let e = parse_xferlog_line(&line, &ctx()).unwrap_err();
        let shown = String::from_utf8_lossy(&line);
        assert_eq!(
            (e.kind, e.offset, e.format),
            (kind, offset, FORMAT),
            "{shown}: {e}"
        );
    }
}

#[test]
fn local_zone_applies() {
    let mut c = ctx();
    c.timezone = SourceTz::Named(chrono_tz::America::New_York);
    let line = b"Thu Sep  2 09:52:00 2004 50 192.168.20.10 1 /f b _ o r u ftp 0 * c";
    let e = parse_xferlog_line(line, &c).unwrap().unwrap();
    let want: DateTime<Utc> = "2004-09-02T13:52:00Z".parse().unwrap();
    assert_eq!(e.timestamp, want);
}
