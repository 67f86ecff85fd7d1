use super::*;
use crate::SourceTz;

const HOST: &str = "198.51.100.7";

fn ctx() -> ParseContext {
    ParseContext {
        now: "2005-08-14T10:00:00Z".parse().unwrap(),
        host: Some(HOST.parse().unwrap()),
        ..ParseContext::new(SourceTz::Utc)
    }
}

fn parse(line: &str) -> Result<Option<Event>, ParseError> {
    parse_pureftpd_line(line.as_bytes(), &ctx(), &mut State::default())
}

/// (line, time, (action, outcome), source, user, anonymous, path, bytes, pid)
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
);

#[rustfmt::skip]
const EVENTS: &[Case] = &[
    ("Jan 31 16:54:07 desktop pure-ftpd: (?@192.0.2.194) [WARNING] Authentication failed for user [Administrator]",
     "2005-01-31T16:54:07Z", (Action::FtpLogin, Outcome::Failure), Some("192.0.2.194"), Some("Administrator"), false, None, None, None),
    ("Jan 31 16:54:07 desktop pure-ftpd[321]: (?@192.168.20.10) [INFO] New connection from 192.168.20.10",
     "2005-01-31T16:54:07Z", (Action::FtpConnect, Outcome::Success), Some("192.168.20.10"), None, false, None, None, Some(321)),
    ("Jan 31 16:54:07 desktop pure-ftpd: (?@::ffff:192.0.2.9) [INFO] New connection from ::ffff:192.0.2.9",
     "2005-01-31T16:54:07Z", (Action::FtpConnect, Outcome::Success), Some("192.0.2.9"), None, false, None, None, None),
    ("Jan 31 16:54:07 desktop pure-ftpd: (?@192.0.2.9) [INFO] bob is now logged in",
     "2005-01-31T16:54:07Z", (Action::FtpLogin, Outcome::Success), Some("192.0.2.9"), Some("bob"), false, None, None, None),
    ("Jan 31 16:54:07 desktop pure-ftpd: (ftp@192.0.2.9) [INFO] Anonymous user logged in",
     "2005-01-31T16:54:07Z", (Action::FtpLogin, Outcome::Success), Some("192.0.2.9"), Some("ftp"), true, None, None, None),
    ("Jan 31 16:54:07 desktop pure-ftpd: (?@192.0.2.9) [INFO] Anonymous user logged in the virtual FTP",
     "2005-01-31T16:54:07Z", (Action::FtpLogin, Outcome::Success), Some("192.0.2.9"), None, true, None, None, None),
    ("Jan 31 16:54:07 desktop pure-ftpd: (?@192.0.2.9) [WARNING] Can't login as [carol]: account disabled",
     "2005-01-31T16:54:07Z", (Action::FtpLogin, Outcome::Failure), Some("192.0.2.9"), Some("carol"), false, None, None, None),
    // Virtual users may contain `@`: the last one separates the client.
    ("Nov 10 14:31:00 web pure-ftpd: (bob@example.com@2001:db8::7) [NOTICE] /dir/frontend/template.php downloaded  (10220 bytes, 94281.80KB/sec)",
     "2004-11-10T14:31:00Z", (Action::FtpDownload, Outcome::Success), Some("2001:db8::7"), Some("bob@example.com"), false, Some("/dir/frontend/template.php"), Some(10220), None),
    ("Nov 10 14:31:48 web pure-ftpd: (bob@192.0.2.9) [NOTICE] /home/bob//a file (1).txt uploaded  (0 bytes, 0.00KB/sec)",
     "2004-11-10T14:31:48Z", (Action::FtpUpload, Outcome::Success), Some("192.0.2.9"), Some("bob"), false, Some("/home/bob//a file (1).txt"), Some(0), None),
    ("Nov 10 14:31:48 web pure-ftpd: (bob@192.0.2.9) [NOTICE] /home/bob/big.iso partially uploaded  (4096 bytes, 12.50KB/sec)",
     "2004-11-10T14:31:48Z", (Action::FtpUpload, Outcome::Failure), Some("192.0.2.9"), Some("bob"), false, Some("/home/bob/big.iso"), Some(4096), None),
    ("Nov 10 14:31:48 web pure-ftpd: (bob@192.0.2.9) [NOTICE] Deleted /home/bob/old.txt",
     "2004-11-10T14:31:48Z", (Action::FtpDelete, Outcome::Success), Some("192.0.2.9"), Some("bob"), false, Some("/home/bob/old.txt"), None, None),
    // A client shown by name: no address.
    ("Nov 10 14:31:48 web pure-ftpd: (?@client.example.net) [WARNING] Authentication failed for user [root]",
     "2004-11-10T14:31:48Z", (Action::FtpLogin, Outcome::Failure), None, Some("root"), false, None, None, None),
    // Relayed in RFC 5424 form with structured data and a BOM.
    ("<28>1 2005-01-31T16:54:07Z ftp01 pure-ftpd 77 - [origin ip=\"192.0.2.1\"] \u{feff}(?@192.0.2.194) [WARNING] Authentication failed for user [x y]",
     "2005-01-31T16:54:07Z", (Action::FtpLogin, Outcome::Failure), Some("192.0.2.194"), Some("x y"), false, None, None, Some(77)),
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
            e.user_name.as_deref(),
            e.ftp_anonymous,
            e.file_path.as_deref(),
            e.bytes,
            e.process_pid,
        );
        assert_eq!(got, *c);
        assert_eq!(e.file_size, e.bytes, "{}", c.0);
        assert_eq!(e.dataset, Dataset::PureFtpd);
        assert_eq!(e.destination_ip, Some(HOST.parse().unwrap()));
        assert!(e.host_name.is_some(), "{}", c.0);
    }
}

#[test]
fn lines_without_events() {
    let cases = [
        "Jan 31 16:54:07 h pure-ftpd: (abcde@192.168.20.10) [INFO] Logout.",
        "Jan  4 11:14:17 h pure-ftpd: (toto@192.168.1.122) [DEBUG] Command [pasv] []",
        "Jan  4 11:14:17 h pure-ftpd: (toto@192.168.1.122) [DEBUG] 226 x uploaded  (5 bytes, 1.00KB/sec)",
        "Jan  4 11:14:17 h pure-ftpd: (?@192.168.1.122) [INFO] Timeout - try typing a little faster next time",
        "Jan  4 11:14:17 h pure-ftpd-wrapper[926]: connect from  192.168.20.10 (192.168.20.10)",
        "Jan  4 11:14:17 h proftpd[1] s (x[192.0.2.1]): FTP session opened.",
        "Jan  4 11:14:17 h vsftpd[1]: CONNECT: Client \"192.0.2.1\"",
        // Without a syslog header, lines that are no event anyway are fine.
        "pure-ftpd-wrapper[926]: connect from  192.168.20.10 (192.168.20.10)",
        "pure-ftpd: (abcde@192.168.20.10) [INFO] Logout.",
    ];
    for line in cases {
        assert_eq!(parse(line), Ok(None), "{line}");
    }
}

#[test]
fn rejected_lines() {
    let long = format!(
        "Jan 31 16:54:07 h pure-ftpd: (?@192.0.2.1) [INFO] {}",
        "x".repeat(100_000)
    );
    #[rustfmt::skip]
    let cases: Vec<(Vec<u8>, ErrorKind, usize)> = vec![
        (b"".to_vec(), ErrorKind::Syntax, 0),
        (b"nonsense".to_vec(), ErrorKind::BadTimestamp, 0),
        // No time: an event cannot be made of it.
        (b"pure-ftpd: (?@192.168.20.10) [INFO] New connection from 192.168.20.10".to_vec(), ErrorKind::BadTimestamp, 0),
        (b"pure-ftpd: (?@24.79.92.194) [WARNING] Authentication failed for user [Administrator]".to_vec(), ErrorKind::BadTimestamp, 0),
        (b"pure-ftpd: no prefix".to_vec(), ErrorKind::Syntax, 11),
        (b"Jan 31 16:54:07 h pure-ftpd: no prefix".to_vec(), ErrorKind::Syntax, 29),
        (b"Jan 31 16:54:07 h pure-ftpd: (?@192.0.2.1 [INFO] x".to_vec(), ErrorKind::Syntax, 29),
        (b"Jan 31 16:54:07 h pure-ftpd: (nobody) [INFO] x".to_vec(), ErrorKind::Syntax, 30),
        (b"Jan 31 16:54:07 h pure-ftpd: (?@192.0.2.1) [info] x".to_vec(), ErrorKind::Syntax, 44),
        (b"Jan 31 16:54:07 h pure-ftpd: (?@192.0.2.1) [] x".to_vec(), ErrorKind::Syntax, 44),
        (b"Jan 31 16:54:07 h pure-ftpd: (?@192.0.2.1) [INFO".to_vec(), ErrorKind::Syntax, 44),
        (b"Jan 31 16:54:07 h pure-ftpd: (?@192.0.2.1) [INFO] \xc3\x28".to_vec(), ErrorKind::InvalidUtf8, 50),
        (long.into_bytes(), ErrorKind::TooLong, crate::MAX_LINE_LEN),
    ];
    for (line, kind, offset) in cases {
        let e = parse_pureftpd_line(&line, &ctx(), &mut State::default()).unwrap_err();
        let shown = String::from_utf8_lossy(&line);
        assert_eq!(
            (e.kind, e.offset, e.format),
            (kind, offset, FORMAT),
            "{shown}: {e}"
        );
    }
}
