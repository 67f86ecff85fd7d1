//! Unit tests of the FileZilla Server parser.

use super::*;
use crate::event::{Action, Outcome};
use crate::{LineParser, SourceTz};

fn ctx() -> ParseContext {
    let mut c = ParseContext::new(SourceTz::Named(chrono_tz::Europe::Berlin));
    c.now = "2024-06-30T00:00:00Z".parse().unwrap();
    c.host = Some("198.51.100.7".parse().unwrap());
    c
}

fn run(lines: &[&str]) -> Vec<Result<Option<Event>, ParseError>> {
    let mut state = State::default();
    lines
        .iter()
        .map(|l| parse_filezilla_line(l.as_bytes(), &ctx(), &mut state))
        .collect()
}

/// (action, outcome, time, source, destination port, user, anonymous, path)
type Want<'a> = (
    Action,
    Outcome,
    &'a str,
    &'a str,
    Option<u16>,
    Option<&'a str>,
    bool,
    Option<&'a str>,
);

fn check(lines: &[&str], want: &[Option<Want<'_>>]) {
    assert_eq!(lines.len(), want.len());
    for ((line, got), want) in lines.iter().zip(run(lines)).zip(want) {
        let got = got.unwrap_or_else(|e| panic!("{line}: {e}"));
        match (got, want) {
            (None, None) => {}
            (Some(e), Some(w)) => {
                let src = e.source_ip.unwrap().to_string();
                let g = (
                    e.action,
                    e.outcome,
                    e.timestamp.to_rfc3339(),
                    src.as_str(),
                    e.destination_port,
                    e.user_name.as_deref(),
                    e.ftp_anonymous,
                    e.file_path.as_deref(),
                );
                let w = (
                    w.0,
                    w.1,
                    w.2.parse::<DateTime<Utc>>().unwrap().to_rfc3339(),
                    w.3,
                    w.4,
                    w.5,
                    w.6,
                    w.7,
                );
                assert_eq!(g, w, "{line}");
                assert_eq!(e.destination_ip, ctx().host, "{line}");
                assert_eq!(e.dataset, Dataset::Filezilla);
            }
            (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn form_1x_session() {
    use Action::*;
    use Outcome::*;
    let s = |rest: &str| format!("2024-03-09T16:36:15.643Z {rest}");
    let lines = [
        s("DI [FTP Session 3 192.168.0.18] Session 0x17d3f5b0660 with ID 3 created."),
        s("<< [FTP Session 3 192.168.0.18] 220-FileZilla Server 1.8.1"),
        s("<< [FTP Session 3 192.168.0.18] 220 Please visit https://filezilla-project.org/"),
        s(">> [FTP Session 3 192.168.0.18] USER test"),
        s("DI [Throttled Authenticator, FTP Session: 3] Authenticating user test from IP 192.168.0.18."),
        s("<< [FTP Session 3 192.168.0.18] 331 Please, specify the password."),
        s(">> [FTP Session 3 192.168.0.18] PASS ****"),
        s("DI [Throttled Authenticator, FTP Session: 3] Recording failed login for user test from IP 192.168.0.18."),
        s("<< [FTP Session 3 192.168.0.18] 530 Login incorrect."),
        s(">> [FTP Session 3 192.168.0.18] USER anonymous"),
        s(">> [FTP Session 3 192.168.0.18] PASS ****"),
        s("<< [FTP Session 3 192.168.0.18 anonymous] 230 Login successful."),
        s(">> [FTP Session 3 192.168.0.18 anonymous] RETR /pub/a b.iso"),
        s("<< [FTP Session 3 192.168.0.18 anonymous] 150 Starting data transfer."),
        s("<< [FTP Session 3 192.168.0.18 anonymous] 226 Operation successful"),
        s(">> [FTP Session 3 192.168.0.18 anonymous] DELE /pub/x"),
        s("<< [FTP Session 3 192.168.0.18 anonymous] 550 Permission denied."),
        s(">> [FTP Session 3 192.168.0.18 anonymous] CWD /"),
        s("<< [FTP Session 3 192.168.0.18 anonymous] 250 CWD command successful"),
        s("I [Administration Server] Listening on 127.0.0.1:14148."),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (t, ip, anon) = (
        "2024-03-09T16:36:15.643Z",
        "192.168.0.18",
        Some("anonymous"),
    );
    check(
        &lines,
        &[
            None,
            None,
            Some((FtpConnect, Success, t, ip, None, None, false, None)),
            None,
            None,
            None,
            None,
            Some((FtpLogin, Failure, t, ip, None, Some("test"), false, None)),
            None,
            None,
            None,
            Some((FtpLogin, Success, t, ip, None, anon, true, None)),
            None,
            None,
            Some((
                FtpDownload,
                Success,
                t,
                ip,
                None,
                anon,
                true,
                Some("/pub/a b.iso"),
            )),
            None,
            Some((FtpDelete, Failure, t, ip, None, anon, true, Some("/pub/x"))),
            None,
            Some((FtpCommand, Success, t, ip, None, anon, true, None)),
            None,
        ],
    );
}

#[test]
fn form_09_session_and_local_time() {
    use Action::*;
    use Outcome::*;
    let s = |rest: &str| format!("(000012) 17/04/2024 20:50:00 - {rest}");
    let lines = [
        s("(not logged in) (::ffff:10.0.0.5)> Connected on port 2121, sending welcome message..."),
        s("(not logged in) (::ffff:10.0.0.5)> 220-FileZilla Server 0.9.60 beta"),
        s("(not logged in) (::ffff:10.0.0.5)> 220 Please visit https://filezilla-project.org/"),
        s("(not logged in) (::ffff:10.0.0.5)> USER bob"),
        s("(not logged in) (::ffff:10.0.0.5)> 331 Password required for bob"),
        s("(not logged in) (::ffff:10.0.0.5)> PASS ******"),
        s("bob (::ffff:10.0.0.5)> 230 Logged on"),
        s("bob (::ffff:10.0.0.5)> STOR up.zip"),
        s("bob (::ffff:10.0.0.5)> 150 Opening data channel for file upload to server of \"/up.zip\""),
        s("bob (::ffff:10.0.0.5)> 226 Successfully transferred \"/up.zip\""),
        s("bob (::ffff:10.0.0.5)> disconnected."),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    // 20:50 in Berlin (CEST) is 18:50 UTC.
    let (t, ip, bob) = ("2024-04-17T18:50:00Z", "10.0.0.5", Some("bob"));
    check(
        &lines,
        &[
            Some((FtpConnect, Success, t, ip, Some(2121), None, false, None)),
            None,
            None,
            None,
            None,
            None,
            Some((FtpLogin, Success, t, ip, Some(2121), bob, false, None)),
            None,
            None,
            Some((
                FtpUpload,
                Success,
                t,
                ip,
                Some(2121),
                bob,
                false,
                Some("up.zip"),
            )),
            None,
        ],
    );
}

#[test]
fn dates_09_follow_the_locale_proof() {
    let cases: &[(&str, &str, &str)] = &[
        // (date as written, proof seen before it, date read)
        ("1/5/2022", "", "2022-01-05"),
        ("1/5/2022", "21/12/2021", "2022-05-01"),
        ("1/5/2022", "12/21/2021", "2022-01-05"),
        ("19.06.2024", "", "2024-06-19"),
        ("01.02.2024", "12/21/2021", "2024-02-01"),
        ("2024-04-17", "21/12/2021", "2024-04-17"),
        ("1-5-2022", "21/12/2021", "2022-05-01"),
    ];
    for (date, proof, want) in cases {
        let mut order = DateOrder::Unknown;
        if !proof.is_empty() {
            parse_date_09(proof, &mut order).unwrap();
        }
        let got = parse_date_09(date, &mut order).map(|d| d.to_string());
        assert_eq!(got.as_deref(), Some(*want), "{date} after {proof:?}");
    }
    let mut order = DateOrder::Unknown;
    for bad in [
        "13/13/2022",
        "1/5/22",
        "1/5",
        "1/5/2022/1",
        "a/b/cccc",
        "1 5 2022",
        "2022-13-01",
    ] {
        assert_eq!(parse_date_09(bad, &mut order), None, "{bad}");
    }
    let t = |s: &str, ap| parse_time_09(s, ap).map(|t| t.to_string());
    assert_eq!(t("19:04:11", Some("PM")).as_deref(), Some("19:04:11"));
    assert_eq!(t("1:04:11", Some("PM")).as_deref(), Some("13:04:11"));
    assert_eq!(t("12:10:00", Some("AM")).as_deref(), Some("00:10:00"));
    assert_eq!(t("12:10:00", Some("PM")).as_deref(), Some("12:10:00"));
    assert_eq!(t("9:5:00", None), None);
    assert_eq!(t("24:00:00", None), None);
}

#[test]
fn rejected_lines() {
    let cases: &[(&[u8], ErrorKind, usize)] = &[
        (b"", ErrorKind::Syntax, 0),
        (b"hello world", ErrorKind::Syntax, 0),
        (
            b"(abc) 1/5/2022 19:04:11 - x (1.2.3.4)> 230 ok",
            ErrorKind::Syntax,
            1,
        ),
        (b"(000175 1/5/2022", ErrorKind::Syntax, 0),
        (
            b"(000175) 31/31/2022 19:04:11 - x (1.2.3.4)> 230 ok",
            ErrorKind::BadTimestamp,
            9,
        ),
        (
            b"(000175) 1/5/2022 19:04 - x (1.2.3.4)> 230 ok",
            ErrorKind::BadTimestamp,
            9,
        ),
        (
            b"(000175) 1/5/2022 19:04:11 PM x (1.2.3.4)> 230 ok",
            ErrorKind::Syntax,
            30,
        ),
        (
            b"(000175) 1/5/2022 19:04:11 - x (1.2.3.4) 230 ok",
            ErrorKind::Syntax,
            29,
        ),
        (
            b"(000175) 1/5/2022 19:04:11 - x (1.2.3)> 230 ok",
            ErrorKind::BadAddress,
            32,
        ),
        (
            b"(000175) 1/5/2022 19:04:11 - \xc3\x28 (1.2.3.4)> 230",
            ErrorKind::InvalidUtf8,
            29,
        ),
        (
            b"2024-04-17T25:50:00.069Z << [FTP Session 1 1.2.3.4] 230 ok",
            ErrorKind::BadTimestamp,
            0,
        ),
        (b"2024-04-17T20:50:00.069Z", ErrorKind::Syntax, 24),
        (
            b"2024-04-17T20:50:00.069Z << FTP Session 1 1.2.3.4 230 ok",
            ErrorKind::Syntax,
            28,
        ),
        (
            b"2024-04-17T20:50:00.069Z << [FTP Session x1 1.2.3.4] 230 ok",
            ErrorKind::BadNumber,
            41,
        ),
        (
            b"2024-04-17T20:50:00.069Z << [FTP Session 1 1.2.3.x] 230 ok",
            ErrorKind::BadAddress,
            43,
        ),
        (
            b"2024-04-17T20:50:00.069Z DI [A, FTP Session: 1] Authenticating user r from IP nope.",
            ErrorKind::BadAddress,
            78,
        ),
    ];
    for (line, kind, offset) in cases {
        let e = parse_filezilla_line(line, &ctx(), &mut State::default()).unwrap_err();
        let shown = String::from_utf8_lossy(line);
        assert_eq!(
            (e.kind, e.offset, e.format),
            (*kind, *offset, FORMAT),
            "{shown}: {e}"
        );
    }
    let long = format!(
        "(000175) 1/5/2022 19:04:11 - x (1.2.3.4)> {}",
        "x".repeat(100_000)
    );
    let e = LineParser::new(FORMAT, ctx())
        .parse(long.as_bytes())
        .unwrap_err();
    assert_eq!(
        (e.kind, e.offset),
        (ErrorKind::TooLong, crate::MAX_LINE_LEN)
    );
}

#[test]
fn other_formats_are_not_filezilla_events() {
    let lines = [
        r#"Fri Jan 19 12:20:33 2007 [pid 27202] [anonymous] FAIL LOGIN: Client "64.106.46.98""#,
        "Jan  8 03:37:09 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40",
        "2005-04-11 08:05:57 DROP UDP 123.45.78.90 123.156.78.255 137 137 78 - - - - - - - RECEIVE",
        "2022-07-05 21:41:06 2.3.4.5 - 6.7.8.9 21 PASS *** 530 1326 41 x -",
        "14:03:19 192.168.2.187 [62]PASS - 530 1326",
        "[2] Wed 01Jan20 10:00:03 - (000001) 530 Not logged in.",
        "2025-03-04T01:06:36.645577 host vsftpd[1658]: [u] FAIL LOGIN: Client \"192.0.2.222\"",
        "<13>1 2019-01-08T03:37:09Z host app - - - msg",
    ];
    for line in lines {
        let got = run(&[line]).remove(0);
        assert!(!matches!(got, Ok(Some(_))), "{line}: {got:?}");
    }
}

#[test]
fn byte_pair_searches_find_what_str_searches_find() {
    let hays = [
        "(not logged in) (1.2.3.4)> 331",
        "a)> b)> c",
        ")>",
        ">)",
        "x (y) (1.2.3.4",
        " ( (",
        "",
        "(",
        "no pair here",
    ];
    for h in hays {
        assert_eq!(find_pair(h.as_bytes(), b')', b'>'), h.find(")>"), "{h:?}");
        assert_eq!(rfind_pair(h.as_bytes(), b' ', b'('), h.rfind(" ("), "{h:?}");
    }
}
