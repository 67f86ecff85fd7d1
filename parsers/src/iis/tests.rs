//! Unit tests of the IIS FTP parser.

use super::*;
use crate::{LineParser, SourceTz};

const GUID_A: &str = "ab3a48eb-256b-44ac-bff3-d9e50d457d48";
const GUID_B: &str = "302f4d86-3b19-5b00-9bbd-1ddfa355fb2d";

fn ctx() -> ParseContext {
    let mut c = ParseContext::new(SourceTz::Named(chrono_tz::Europe::Berlin));
    c.now = "2024-03-01T10:00:00Z".parse().unwrap();
    c.host = Some("198.51.100.7".parse().unwrap());
    c
}

/// Parses `lines` in order with one state; returns every result.
fn run(lines: &[&str]) -> Vec<Result<Option<Event>, ParseError>> {
    let mut state = State::default();
    lines
        .iter()
        .map(|l| parse_iis_line(l.as_bytes(), &ctx(), &mut state))
        .collect()
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// (action, outcome, time, src, src port, dst, dst port, user, anonymous, path, bytes, size)
type Got<'a> = (
    Action,
    Outcome,
    DateTime<Utc>,
    Option<&'a str>,
    Option<u16>,
    Option<&'a str>,
    Option<u16>,
    Option<&'a str>,
    bool,
    Option<&'a str>,
    Option<u64>,
    Option<u64>,
);

fn fields(e: &Event) -> (String, String, Got<'_>) {
    let src = e.source_ip.map(|i| i.to_string()).unwrap_or_default();
    let dst = e.destination_ip.map(|i| i.to_string()).unwrap_or_default();
    let got = (
        e.action,
        e.outcome,
        e.timestamp,
        None,
        e.source_port,
        None,
        e.destination_port,
        e.user_name.as_deref(),
        e.ftp_anonymous,
        e.file_path.as_deref(),
        e.bytes,
        e.file_size,
    );
    (src, dst, got)
}

/// Checks the events of a run: `None` entries are lines that must be `Ok(None)`.
fn check(lines: &[&str], want: &[Option<Got<'_>>]) {
    let got = run(lines);
    assert_eq!(got.len(), want.len());
    for ((line, got), want) in lines.iter().zip(got).zip(want) {
        let got = got.unwrap_or_else(|e| panic!("{line}: {e}"));
        match (got, want) {
            (None, None) => {}
            (Some(e), Some(w)) => {
                let (src, dst, mut g) = fields(&e);
                g.3 = Some(src.as_str()).filter(|s| !s.is_empty());
                g.5 = Some(dst.as_str()).filter(|s| !s.is_empty());
                assert_eq!(&g, w, "{line}");
                assert_eq!(e.dataset, Dataset::IisFtp);
            }
            (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn iis7_default_layout_logins_and_files() {
    use Action::*;
    use Outcome::*;
    let a = |tail: &str| format!("2022-07-05 21:41:05 2.3.4.5 {tail} {GUID_A} -");
    let b =
        |tail: &str, path: &str| format!("2022-07-05 21:45:57 11.12.13.14 {tail} {GUID_B} {path}");
    let lines = [
        a("- 6.7.8.9 2121 ControlChannelOpened - - 0 0"),
        a("- 6.7.8.9 2121 USER failUserName 331 0 0"),
        a("- 6.7.8.9 2121 PASS *** 530 1326 41"),
        b("- 6.7.8.9 21 USER userName 331 0 0", "-"),
        b("MyDomain\\userName 6.7.8.9 21 PASS *** 230 0 0", "/"),
        b(
            "MyDomain\\userName 6.7.8.9 21 RETR a.zip 226 0 0",
            "/pub/a.zip",
        ),
        b(
            "MyDomain\\userName 6.7.8.9 21 STOR up.txt 550 5 0",
            "/up.txt",
        ),
        b("MyDomain\\userName 6.7.8.9 21 MKD d 257 0 0", "/d"),
        b("MyDomain\\userName 6.7.8.9 21 RNTO new 250 0 0", "/new"),
        b("MyDomain\\userName 6.7.8.9 21 CWD / 250 0 0", "-"),
        b(
            "MyDomain\\userName 6.7.8.9 21 DataChannelOpened - 0 0 0",
            "-",
        ),
        b(
            "MyDomain\\userName 6.7.8.9 21 ControlChannelClosed - 0 0 0",
            "-",
        ),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (t1, t2) = (t("2022-07-05T21:41:05Z"), t("2022-07-05T21:45:57Z"));
    let (s1, s2, d) = (Some("2.3.4.5"), Some("11.12.13.14"), Some("6.7.8.9"));
    let u = Some("MyDomain\\userName");
    check(
        &lines,
        &[
            Some((
                FtpConnect,
                Success,
                t1,
                s1,
                None,
                d,
                Some(2121),
                None,
                false,
                None,
                None,
                None,
            )),
            None,
            Some((
                FtpLogin,
                Failure,
                t1,
                s1,
                None,
                d,
                Some(2121),
                Some("failUserName"),
                false,
                None,
                None,
                None,
            )),
            None,
            Some((
                FtpLogin,
                Success,
                t2,
                s2,
                None,
                d,
                Some(21),
                Some("userName"),
                false,
                None,
                None,
                None,
            )),
            Some((
                FtpDownload,
                Success,
                t2,
                s2,
                None,
                d,
                Some(21),
                u,
                false,
                Some("/pub/a.zip"),
                None,
                None,
            )),
            Some((
                FtpUpload,
                Failure,
                t2,
                s2,
                None,
                d,
                Some(21),
                u,
                false,
                Some("/up.txt"),
                None,
                None,
            )),
            Some((
                FtpMkdir,
                Success,
                t2,
                s2,
                None,
                d,
                Some(21),
                u,
                false,
                Some("/d"),
                None,
                None,
            )),
            Some((
                FtpRename,
                Success,
                t2,
                s2,
                None,
                d,
                Some(21),
                u,
                false,
                Some("/new"),
                None,
                None,
            )),
            Some((
                FtpCommand,
                Success,
                t2,
                s2,
                None,
                d,
                Some(21),
                u,
                false,
                None,
                None,
                None,
            )),
            None,
            None,
        ],
    );
}

#[test]
fn custom_fields_bytes_ports_and_anonymous() {
    use Action::*;
    use Outcome::*;
    let lines = [
        "#Software: Microsoft Internet Information Services 10.0",
        "#Version: 1.0",
        "#Fields: date time c-ip c-port cs-username s-computername s-ip s-port cs-method cs-uri-stem sc-status sc-bytes cs-bytes x-session x-fullpath",
        "2024-02-29 23:59:59 2001:db8::5 50123 - FTP01 2001:db8::1 990 USER anonymous 331 80 16 42 -",
        "2024-02-29 23:59:59 2001:db8::5 50123 anonymous FTP01 2001:db8::1 990 PASS guest@ 230 21 20 42 /",
        "2024-02-29 23:59:59 2001:db8::5 50123 IUSR_FTP01 FTP01 2001:db8::1 990 RETR f.iso 226 1048576 0 42 /pub/f.iso",
        "2024-02-29 23:59:59 2001:db8::5 50123 IUSR_FTP01 FTP01 2001:db8::1 990 APPE log.txt 226 0 512 42 /in/log.txt",
        "2024-02-29 23:59:59 2001:db8::5 50123 IUSR_FTP01 FTP01 2001:db8::1 990 DELE x 550 0 0 42 -",
    ];
    let (tm, s, d) = (
        t("2024-02-29T23:59:59Z"),
        Some("2001:db8::5"),
        Some("2001:db8::1"),
    );
    let p = Some(50123);
    let u = Some("IUSR_FTP01");
    check(
        &lines,
        &[
            None,
            None,
            None,
            None,
            Some((
                FtpLogin,
                Success,
                tm,
                s,
                p,
                d,
                Some(990),
                Some("anonymous"),
                true,
                None,
                Some(41),
                None,
            )),
            Some((
                FtpDownload,
                Success,
                tm,
                s,
                p,
                d,
                Some(990),
                u,
                true,
                Some("/pub/f.iso"),
                Some(1048576),
                Some(1048576),
            )),
            Some((
                FtpUpload,
                Success,
                tm,
                s,
                p,
                d,
                Some(990),
                u,
                true,
                Some("/in/log.txt"),
                Some(512),
                Some(512),
            )),
            Some((
                FtpDelete,
                Failure,
                tm,
                s,
                p,
                d,
                Some(990),
                u,
                true,
                Some("x"),
                Some(0),
                None,
            )),
        ],
    );
    let e = run(&lines)[5].clone().unwrap().unwrap();
    assert_eq!(e.host_name.as_deref(), Some("FTP01"));
}

#[test]
fn iis5_lines_dates_and_the_server_from_context() {
    use Action::*;
    use Outcome::*;
    let host = Some("198.51.100.7");
    let lines = [
        // No #Date: the date that puts the time at most an hour after now (10:00 UTC).
        "10:30:00 192.168.2.187 [62]USER Administrator 331 0",
        "10:30:01 192.168.2.187 [62]PASS - 530 1326",
        "12:00:00 192.168.2.187 [62]CWD /dir 550 2",
        "#Date: 2006-09-23 23:59:00",
        "23:59:30 10.1.2.35 [63]created /f 226 0",
        "00:00:05 10.1.2.35 [63]QUIT - 226 0",
    ];
    let ip = Some("192.168.2.187");
    let adm = Some("Administrator");
    check(
        &lines,
        &[
            None,
            Some((
                FtpLogin,
                Failure,
                t("2024-03-01T10:30:01Z"),
                ip,
                None,
                host,
                None,
                adm,
                false,
                None,
                None,
                None,
            )),
            Some((
                FtpCommand,
                Failure,
                t("2024-02-29T12:00:00Z"),
                ip,
                None,
                host,
                None,
                adm,
                false,
                None,
                None,
                None,
            )),
            None,
            Some((
                FtpUpload,
                Success,
                t("2006-09-23T23:59:30Z"),
                Some("10.1.2.35"),
                None,
                host,
                None,
                None,
                false,
                Some("/f"),
                None,
                None,
            )),
            Some((
                FtpCommand,
                Success,
                t("2006-09-24T00:00:05Z"),
                Some("10.1.2.35"),
                None,
                host,
                None,
                None,
                false,
                None,
                None,
                None,
            )),
        ],
    );
}

#[test]
fn lines_that_do_not_fit_their_layout() {
    let lines = [
        "#Fields: time c-ip cs-username s-sitename s-computername s-ip s-port cs-method cs-uri-stem cs-uri-query sc-status sc-win32-status sc-bytes cs-bytes time-taken cs-version cs-host cs(User-Agent) cs(Cookie) cs(Referer)",
        // Another server's layout with a leading date, cut short: aligned on `[12]PASS`.
        "2004-12-30 11:24:41 203.115.228.178 - MSFTPSVC1 MULTIMEDIA 192.168.0.203 21 [12]PASS x - 530 1326 FTP - -",
        // The IIS 5 default, after a 20-column #Fields.
        "13:15:46 172.28.129.116 [51]PASS - 230 0",
        // No `[n]` column to align on.
        "13:15:46 172.28.129.116 PASS - 230 0",
    ];
    let got = run(&lines);
    let e = got[1].clone().unwrap().unwrap();
    assert_eq!(e.timestamp, t("2004-12-30T11:24:41Z"));
    assert_eq!((e.action, e.outcome), (Action::FtpLogin, Outcome::Failure));
    assert_eq!(e.destination_port, Some(21));
    let e = got[2].clone().unwrap().unwrap();
    assert_eq!((e.action, e.outcome), (Action::FtpLogin, Outcome::Success));
    assert_eq!(e.source_ip, "172.28.129.116".parse().ok());
    let e = got[3].clone().unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::Syntax, 36));
}

#[test]
fn times_are_utc_whatever_the_zone() {
    let e = run(&["2022-07-05 21:41:06 2.3.4.5 - 6.7.8.9 21 PASS *** 530 1326 41 x -"])[0]
        .clone()
        .unwrap()
        .unwrap();
    assert_eq!(e.timestamp, t("2022-07-05T21:41:06Z"));
}

#[test]
fn rejected_lines() {
    let l7 = "2022-07-05 21:41:06 2.3.4.5 - 6.7.8.9 21 PASS *** 530 1326 41 x -";
    let many = "a ".repeat(60);
    let cases: Vec<(Vec<&str>, ErrorKind, usize)> = vec![
        (vec![""], ErrorKind::Syntax, 0),
        (vec!["hello world"], ErrorKind::Syntax, 11),
        (
            vec!["2022-07-05 21:41:06 2.3.4.5 - 6.7.8.9 21 PASS"],
            ErrorKind::Syntax,
            45,
        ),
        (
            vec!["2022-07-05 21:41:06 2.3.4 - 6.7.8.9 21 PASS *** 530 1326 41 x -"],
            ErrorKind::BadAddress,
            20,
        ),
        (
            vec!["2022-07-05 21:41:06 2.3.4.5 - 6.7.8.9 65536 PASS *** 530 1326 41 x -"],
            ErrorKind::BadNumber,
            38,
        ),
        (
            vec!["2022-07-05 21:41:06 2.3.4.5 - 6.7.8.9 21 PASS *** 5x0 1326 41 x -"],
            ErrorKind::BadNumber,
            50,
        ),
        (
            vec!["2022-02-30 21:41:06 2.3.4.5 - 6.7.8.9 21 PASS *** 530 1326 41 x -"],
            ErrorKind::BadTimestamp,
            0,
        ),
        (
            vec!["2022-07-05 25:41:06 2.3.4.5 - 6.7.8.9 21 PASS *** 530 1326 41 x -"],
            ErrorKind::BadTimestamp,
            11,
        ),
        (
            vec![
                "#Fields: date time s-ip cs-method cs-uri-stem",
                "2022-07-05 21:41:06 1.2.3.4 GET /index.html",
            ],
            ErrorKind::Syntax,
            28,
        ),
        (
            vec!["#Fields: date time c-ip", "2022-07-05 21:41:06 1.2.3.4"],
            ErrorKind::Syntax,
            0,
        ),
        (vec!["#Fields:   "], ErrorKind::Syntax, 11),
        (vec!["#Date: yesterday"], ErrorKind::BadTimestamp, 7),
        (
            vec!["10:30:00 192.168.2.187 [62]PASS - 99999 1326"],
            ErrorKind::BadNumber,
            34,
        ),
        (vec![&many], ErrorKind::Syntax, 96),
        (
            vec![
                l7,
                "Fri Jan 19 12:20:33 2007 [pid 1] CONNECT: Client \"1.2.3.4\"",
            ],
            ErrorKind::Syntax,
            30,
        ),
    ];
    for (lines, kind, offset) in cases {
        let got = run(&lines);
        let e = got.last().unwrap().clone().unwrap_err();
        assert_eq!(
            (e.kind, e.offset, e.format),
            (kind, offset, FORMAT),
            "{lines:?}: {e}"
        );
    }
    let mut state = State::default();
    let e = parse_iis_line(
        b"10:30:00 1.2.3.4 [6]USER \xc3\x28 331 0",
        &ctx(),
        &mut state,
    );
    assert_eq!(e.unwrap_err().kind, ErrorKind::InvalidUtf8);
    let long = format!("{l7}{}", " x".repeat(60_000));
    let e = LineParser::new(Format::IisFtp, ctx())
        .parse(long.as_bytes())
        .unwrap_err();
    assert_eq!(
        (e.kind, e.offset),
        (ErrorKind::TooLong, crate::MAX_LINE_LEN)
    );
}

#[test]
fn other_formats_are_not_iis_events() {
    let lines = [
        r#"Fri Jan 19 12:20:33 2007 [pid 27202] [anonymous] FAIL LOGIN: Client "64.106.46.98""#,
        "Jan  8 03:37:09 h kernel: [ 12.5] DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 PROTO=TCP SPT=1 DPT=2",
        "2005-04-11 08:05:57 DROP UDP 123.45.78.90 123.156.78.255 137 137 78 - - - - - - - RECEIVE",
        "(000175) 1/5/2022 19:04:11 PM - (not logged in) (1.2.3.4)> 530 Login or password incorrect!",
        "[2] Wed 01Jan20 10:00:03 - (000001) 530 Not logged in.",
    ];
    for line in lines {
        let got = run(&[line]).remove(0);
        assert!(got.is_err(), "{line}: {got:?}");
    }
}

#[test]
fn x_session_keys_agree_with_session_key() {
    for id in [
        "ab3a48eb-256b-44ac-bff3-d9e50d457d48",
        "AB3A48EB-256B-44AC-BFF3-D9E50D457D48",
        "123456789012345678901234567890123456",
        "ab3a48eb2-56b-44ac-bff3-d9e50d457d48",
        "ab3a48eb-256b-44ac-bff3-d9e50d457d4g",
        "ab3a48eb-256b-44ac-bff3-d9e50d457d4",
        "62",
        "-",
    ] {
        assert_eq!(x_session_key(id), session_key(id), "{id}");
    }
}
