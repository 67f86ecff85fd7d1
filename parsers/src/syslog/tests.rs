use super::*;
use crate::SourceTz;

fn ctx() -> ParseContext {
    ParseContext {
        now: "2005-08-14T10:00:00Z".parse().unwrap(),
        ..ParseContext::new(SourceTz::Utc)
    }
}

type Want<'a> = (
    Option<u8>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<u32>,
    &'a str,
);

#[test]
fn headers() {
    let cases: &[(&str, Want)] = &[
        (
            "Oct 11 01:06:47 ServerJV vsftpd: (pam_unix) authentication failure;",
            (
                None,
                "2004-10-11T01:06:47Z",
                Some("ServerJV"),
                Some("vsftpd"),
                None,
                "(pam_unix) authentication failure;",
            ),
        ),
        (
            "Feb 6 12:02:29 server vsftpd(pam_unix)[15522]: authentication failure;",
            (
                None,
                "2005-02-06T12:02:29Z",
                Some("server"),
                Some("vsftpd"),
                Some(15522),
                "authentication failure;",
            ),
        ),
        (
            "2025-03-04T01:06:36.645577 ip-172-31-3-150 vsftpd[1658]: [u] FAIL LOGIN",
            (
                None,
                "2025-03-04T01:06:36.645577Z",
                Some("ip-172-31-3-150"),
                Some("vsftpd"),
                Some(1658),
                "[u] FAIL LOGIN",
            ),
        ),
        (
            "<4>Jan  8 03:37:09 example-host kernel: [ 3529.289825] IN=eth0",
            (
                Some(4),
                "2005-01-08T03:37:09Z",
                Some("example-host"),
                Some("kernel"),
                None,
                "[ 3529.289825] IN=eth0",
            ),
        ),
        (
            "Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=",
            (
                None,
                "2005-06-28T04:35:30Z",
                Some("Abc-A1"),
                None,
                None,
                "[SOMETHING-1234-A] IN=abc.123 OUT=",
            ),
        ),
        (
            "2019-01-08T03:37:09+01:00 fw kernel: DROP IN=eth0",
            (
                None,
                "2019-01-08T02:37:09Z",
                Some("fw"),
                Some("kernel"),
                None,
                "DROP IN=eth0",
            ),
        ),
        (
            "Oct 11 01:06:47 sshd[12]: Accepted",
            (
                None,
                "2004-10-11T01:06:47Z",
                None,
                Some("sshd"),
                Some(12),
                "Accepted",
            ),
        ),
        (
            "Oct 11 01:06:47 host prog[x]: msg",
            (
                None,
                "2004-10-11T01:06:47Z",
                Some("host"),
                Some("prog"),
                None,
                "msg",
            ),
        ),
        (
            "Oct 11 01:06:47 host kernel:",
            (
                None,
                "2004-10-11T01:06:47Z",
                Some("host"),
                Some("kernel"),
                None,
                "",
            ),
        ),
    ];
    for (line, want) in cases {
        let h = parse_syslog_header(line, &ctx()).unwrap_or_else(|e| panic!("{line}: {e:?}"));
        let got = (h.priority, h.timestamp, h.host, h.program, h.pid, h.message);
        let ts: DateTime<Utc> = want.1.parse().unwrap();
        assert_eq!(got, (want.0, ts, want.2, want.3, want.4, want.5), "{line}");
        assert_eq!(&line[h.message_offset..], h.message);
    }
}

#[test]
fn header_errors() {
    let cases: &[(&str, ErrorKind, usize)] = &[
        ("", ErrorKind::BadTimestamp, 0),
        ("garbage line", ErrorKind::BadTimestamp, 0),
        ("<999>Oct 11 01:06:47 h p: m", ErrorKind::Syntax, 0),
        ("<13", ErrorKind::Syntax, 0),
        ("<13>Oct 11 01:06", ErrorKind::BadTimestamp, 4),
        ("Feb 30 01:06:47 h p: m", ErrorKind::BadTimestamp, 0),
        ("Oct 11 01:06:47", ErrorKind::Syntax, 15),
        ("Oct 11 01:06:47x h", ErrorKind::Syntax, 15),
        ("Oct 11 01:06:47 ", ErrorKind::Syntax, 16),
        ("Oct 11 01:06:47 host", ErrorKind::Syntax, 20),
        ("Oct 11 01:06:47 host ", ErrorKind::Syntax, 21),
    ];
    for (line, kind, offset) in cases {
        let err = parse_syslog_header(line, &ctx()).unwrap_err();
        assert_eq!((err.kind, err.offset), (*kind, *offset), "{line}: {err:?}");
    }
}

/// (line, priority, time, host, program, pid, msgid, structured data, message)
type Want5424<'a> = (
    &'a str,
    Option<u8>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<u32>,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
);

#[test]
fn rfc5424_headers() {
    #[rustfmt::skip]
    let cases: &[Want5424] = &[
        (r#"<134>1 2022-06-09T14:44:11-06:00 OPNsense.example.com filterlog 76404 - [meta sequenceId="1"] 124,,,"#,
         Some(134), "2022-06-09T20:44:11Z", Some("OPNsense.example.com"), Some("filterlog"), Some(76404), None,
         Some(r#"[meta sequenceId="1"]"#), "124,,,"),
        (r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"][examplePriority@32473 class="high"] An application event"#,
         Some(165), "2003-10-11T22:14:15.003Z", Some("mymachine.example.com"), Some("evntslog"), None, Some("ID47"),
         Some(r#"[exampleSDID@32473 iut="3" eventSource="Application"][examplePriority@32473 class="high"]"#), "An application event"),
        // Escaped `]`, `"` and `\` inside a value do not end the element.
        (r#"<13>1 2005-08-14T09:00:00Z h app 1 - [x a="q\]r\"s\\" b="]"] msg ] here"#,
         Some(13), "2005-08-14T09:00:00Z", Some("h"), Some("app"), Some(1), None,
         Some(r#"[x a="q\]r\"s\\" b="]"]"#), "msg ] here"),
        // NILVALUEs everywhere, a byte-order mark before the message, no PRI (a file template).
        ("1 2005-08-14T11:00:00+02:00 - - - - - \u{feff}hello",
         None, "2005-08-14T09:00:00Z", None, None, None, None, None, "hello"),
        // No message at all; a local-time stamp takes the source's zone (UTC here).
        ("<14>1 2005-08-14T09:00:00.5 host prog 12 ID - ",
         Some(14), "2005-08-14T09:00:00.500Z", Some("host"), Some("prog"), Some(12), Some("ID"), None, ""),
        ("<14>1 2005-08-14T09:00:00Z host prog abc ID -",
         Some(14), "2005-08-14T09:00:00Z", Some("host"), Some("prog"), None, Some("ID"), None, ""),
    ];
    for c in cases {
        let h = parse_syslog_header(c.0, &ctx()).unwrap_or_else(|e| panic!("{}: {e:?}", c.0));
        let ts = h
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let got: Want5424 = (
            c.0,
            h.priority,
            &ts,
            h.host,
            h.program,
            h.pid,
            h.msgid,
            h.structured_data,
            h.message,
        );
        assert_eq!(got, *c);
        assert_eq!(&c.0[h.message_offset..], h.message);
    }
}

#[test]
fn rfc5424_header_errors() {
    let cases: &[(&str, ErrorKind, usize)] = &[
        ("<13>1 - host app - - - msg", ErrorKind::BadTimestamp, 6),
        (
            "<13>1 2005-13-14T09:00:00Z h a - - - m",
            ErrorKind::BadTimestamp,
            6,
        ),
        (
            "<13>1 2005-08-14T09:00:00Zh a - - - m",
            ErrorKind::Syntax,
            26,
        ),
        ("<13>1 2005-08-14T09:00:00Z h a - -", ErrorKind::Syntax, 34),
        (
            "<13>1 2005-08-14T09:00:00Z h a - - [x a=\"1\"",
            ErrorKind::Syntax,
            35,
        ),
        (
            "<13>1 2005-08-14T09:00:00Z h a - - [x]y",
            ErrorKind::Syntax,
            38,
        ),
        (
            "<13>1 2005-08-14T09:00:00Z h a - - x",
            ErrorKind::Syntax,
            35,
        ),
        (
            "<13>1 2005-08-14T09:00:00Z  h a - - - m",
            ErrorKind::Syntax,
            27,
        ),
    ];
    for (line, kind, offset) in cases {
        let err = parse_syslog_header(line, &ctx()).unwrap_err();
        assert_eq!((err.kind, err.offset), (*kind, *offset), "{line}: {err:?}");
    }
}

#[test]
fn colon_less_tags_and_loose_iso_stamps() {
    let line = "2013-11-16 21:59:30,121 novo proftpd[25891] localhost (andy[1.2.3.4]): x";
    let h = parse_syslog_header(line, &ctx()).unwrap();
    let got = (h.timestamp, h.host, h.program, h.pid, h.message);
    let ts: DateTime<Utc> = "2013-11-16T21:59:30.121Z".parse().unwrap();
    let want = (
        ts,
        Some("novo"),
        Some("proftpd"),
        Some(25891),
        "localhost (andy[1.2.3.4]): x",
    );
    assert_eq!(got, want);
    // Without digits in the brackets a colon-less word is the message, not a tag.
    let h = parse_syslog_header("Oct 11 01:06:47 h word[x] msg", &ctx()).unwrap();
    assert_eq!((h.program, h.message), (None, "word[x] msg"));
    let h = parse_syslog_header("Oct 11 01:06:47 h [12] msg", &ctx()).unwrap();
    assert_eq!((h.program, h.message), (None, "[12] msg"));
}

#[test]
fn program_of_lines() {
    let cases: &[(&[u8], Option<&str>)] = &[
        (
            b"Oct 11 01:06:47 h proftpd[12] srv (x[1.2.3.4]): m",
            Some("proftpd"),
        ),
        (
            b"Jan 31 16:54:07 desktop pure-ftpd: (?@24.79.92.194) [WARNING] x",
            Some("pure-ftpd"),
        ),
        (
            b"<30>1 2025-03-04T01:06:36Z ftp01 vsftpd 1658 - - [u] OK LOGIN",
            Some("vsftpd"),
        ),
        (b"<30>1 2025-03-04T01:06:36Z ftp01 - 1658 - - m", None),
        (
            b"Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123",
            None,
        ),
        (b"pure-ftpd: (?@192.168.20.10) [INFO] New connection", None),
        (
            b"Fri Jan 19 12:20:33 2007 [pid 27202] CONNECT: Client",
            None,
        ),
        (
            b"Oct 11 01:06:47 h kernel: \xff\xfe bad bytes later",
            Some("kernel"),
        ),
        (b"\xffOct 11 01:06:47 h kernel: x", None),
        (b"", None),
    ];
    for (line, want) in cases {
        assert_eq!(program_of(line), *want, "{}", String::from_utf8_lossy(line));
    }
}

/// A server line relayed through syslog in RFC 3164 and in RFC 5424 form parses to the
/// same event as the line the server wrote itself (bar the host, which only relays add).
#[test]
fn relayed_lines_parse_the_same_in_both_rfcs() {
    let cases: &[(Format, &str, &str)] = &[
        (
            Format::Vsftpd,
            r#"<30>Mar  4 01:06:36 ftp01 vsftpd[1658]: [alice] FAIL LOGIN: Client "192.0.2.222""#,
            r#"<30>1 2005-03-04T01:06:36Z ftp01 vsftpd 1658 - - [alice] FAIL LOGIN: Client "192.0.2.222""#,
        ),
        (
            Format::Proftpd,
            "<29>Jun  9 07:30:58 ftp01 proftpd[11864] ftp01.example.com (mail.example.net[::ffff:192.0.2.66]): USER bob (Login failed): Incorrect password.",
            "<29>1 2005-06-09T07:30:58Z ftp01 proftpd 11864 - - ftp01.example.com (mail.example.net[::ffff:192.0.2.66]): USER bob (Login failed): Incorrect password.",
        ),
        (
            Format::PureFtpd,
            "<28>Jan 31 16:54:07 ftp01 pure-ftpd[77]: (?@192.0.2.194) [WARNING] Authentication failed for user [Administrator]",
            "<28>1 2005-01-31T16:54:07Z ftp01 pure-ftpd 77 - [origin ip=\"192.0.2.1\"] \u{feff}(?@192.0.2.194) [WARNING] Authentication failed for user [Administrator]",
        ),
    ];
    for (format, rfc3164, rfc5424) in cases {
        let a = crate::parse_line(*format, rfc3164.as_bytes(), &ctx());
        let b = crate::parse_line(*format, rfc5424.as_bytes(), &ctx());
        let a = a
            .unwrap_or_else(|e| panic!("{rfc3164}: {e}"))
            .expect(rfc3164);
        let b = b
            .unwrap_or_else(|e| panic!("{rfc5424}: {e}"))
            .expect(rfc5424);
        assert_eq!(a, b, "{format}");
        assert_eq!(a.host_name.as_deref(), Some("ftp01"));
        assert!(a.source_ip.is_some() && a.process_pid.is_some(), "{format}");
    }
}

/// The byte-level tag and priority parsers, case by case (they replaced nom combinators on
/// the hot path and must accept exactly what those did).
#[test]
fn tag_and_priority_tokens() {
    type Tag<'a> = Option<(&'a str, Option<u32>)>;
    let tags: &[(&str, Tag)] = &[
        ("kernel:", Some(("kernel", None))),
        ("vsftpd[12]:", Some(("vsftpd", Some(12)))),
        ("vsftpd(pam_unix)[15522]:", Some(("vsftpd", Some(15522)))),
        ("sshd(pam_unix):", Some(("sshd", None))),
        ("proftpd[25526]", Some(("proftpd", Some(25526)))),
        ("prog[abc]:", Some(("prog", None))),
        ("prog[]:", Some(("prog", None))),
        ("prog[]", None),
        ("prog[12x]", None),
        ("prog", None),
        ("prog[12", None),
        ("prog(x:", None),
        ("a:b:", None),
        (":", None),
        ("[12]:", None),
        ("prog[1]:x", None),
        ("prog(a)(b):", None),
    ];
    for (token, want) in tags {
        assert_eq!(parse_tag(token), *want, "{token}");
    }
    type Pri = Option<(u8, usize)>;
    let pris: &[(&[u8], Pri)] = &[
        (b"<13>Oct", Some((13, 4))),
        (b"<0>", Some((0, 3))),
        (b"<191>", Some((191, 5))),
        (b"<0134>", Some((134, 6))),
        (b"<192>", None),
        (b"<99999999999>", None),
        (b"<>", None),
        (b"<13", None),
        (b"<1a>", None),
        (b"13>", None),
    ];
    for (line, want) in pris {
        assert_eq!(
            parse_priority(line),
            *want,
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
}
