use super::*;
use crate::SourceTz;

const HOST: &str = "198.51.100.7";

fn ctx(format: Option<&str>) -> ParseContext {
    ParseContext {
        now: "2024-06-01T00:00:00Z".parse().unwrap(),
        host: Some(HOST.parse().unwrap()),
        log_format: format.map(str::to_owned),
        ..ParseContext::new(SourceTz::Utc)
    }
}

fn parse(format: Option<&str>, line: &str) -> Result<Option<Event>, ParseError> {
    parse_extended_line(line.as_bytes(), &ctx(format), &mut State::default())
}

/// A LogFormat with most variables, in the style of ProFTPD's documentation examples.
const RICH: &str = "%{iso8601} %a:%{remote-port} -> %L:%p [%P] %u \"%m\" \"%J\" %s \"%S\" %b %T %{transfer-status} %{protocol} %V";
const STRF: &str = "%{%Y-%m-%d %H:%M:%S %z}t %h %U %m %f %s %b";
const ANON: &str = "%t %a %u %A \"%r\" %s %b";

/// (format, line, time, (action, outcome), source, (source port, destination, destination
/// port), user, anonymous, path, bytes)
type Case<'a> = (
    Option<&'a str>,
    &'a str,
    &'a str,
    (Action, Outcome),
    &'a str,
    (Option<u16>, &'a str, Option<u16>),
    Option<&'a str>,
    bool,
    Option<&'a str>,
    Option<u64>,
);

const D: (Option<u16>, &str, Option<u16>) = (None, HOST, None);

#[rustfmt::skip]
const EVENTS: &[Case] = &[
    // The default LogFormat (`%h %l %u %t "%r" %s %b`).
    (None, r#"192.0.2.5 UNKNOWN alice [10/Oct/2000:13:55:36 -0700] "RETR /pub/a.iso" 226 1048576"#,
     "2000-10-10T20:55:36Z", (Action::FtpDownload, Outcome::Success), "192.0.2.5", D, Some("alice"), false, Some("/pub/a.iso"), Some(1048576)),
    (None, r#"192.0.2.5 UNKNOWN - [10/Oct/2000:13:55:37 -0700] "USER alice" 331 -"#,
     "2000-10-10T20:55:37Z", (Action::FtpCommand, Outcome::Success), "192.0.2.5", D, Some("alice"), false, None, None),
    (None, r#"192.0.2.5 UNKNOWN - [10/Oct/2000:13:55:38 -0700] "PASS (hidden)" 530 -"#,
     "2000-10-10T20:55:38Z", (Action::FtpLogin, Outcome::Failure), "192.0.2.5", D, None, false, None, None),
    (None, r#"192.0.2.5 UNKNOWN alice [10/Oct/2000:13:55:39 -0700] "PASS (hidden)" 230 -"#,
     "2000-10-10T20:55:39Z", (Action::FtpLogin, Outcome::Success), "192.0.2.5", D, Some("alice"), false, None, None),
    // A quoted request holding `" `: the split that lets the rest match wins.
    (None, r#"::ffff:192.0.2.5 UNKNOWN alice [10/Oct/2000:13:55:40 +0000] "STOR /in/a" b.txt" 226 12"#,
     "2000-10-10T13:55:40Z", (Action::FtpUpload, Outcome::Success), "192.0.2.5", D, Some("alice"), false, Some(r#"/in/a" b.txt"#), Some(12)),
    // A user name with a space.
    (None, r#"192.0.2.5 UNKNOWN al ice [10/Oct/2000:13:55:41 +0000] "DELE /x" 550 -"#,
     "2000-10-10T13:55:41Z", (Action::FtpDelete, Outcome::Failure), "192.0.2.5", D, Some("al ice"), false, Some("/x"), None),
    (None, r#"192.0.2.5 UNKNOWN bob [10/Oct/2000:13:55:42 +0000] "MKD new dir" 257 -"#,
     "2000-10-10T13:55:42Z", (Action::FtpMkdir, Outcome::Success), "192.0.2.5", D, Some("bob"), false, Some("new dir"), None),
    (None, r#"192.0.2.5 UNKNOWN bob [10/Oct/2000:13:55:42 +0000] "XRMD /old" 250 -"#,
     "2000-10-10T13:55:42Z", (Action::FtpRmdir, Outcome::Success), "192.0.2.5", D, Some("bob"), false, Some("/old"), None),
    (None, r#"192.0.2.5 UNKNOWN bob [10/Oct/2000:13:55:43 +0000] "RNTO /b.txt" 250 -"#,
     "2000-10-10T13:55:43Z", (Action::FtpRename, Outcome::Success), "192.0.2.5", D, Some("bob"), false, Some("/b.txt"), None),
    (None, r#"192.0.2.5 UNKNOWN bob [10/Oct/2000:13:55:44 +0000] "SITE CHMOD 755 /a b.sh" 200 -"#,
     "2000-10-10T13:55:44Z", (Action::FtpChmod, Outcome::Success), "192.0.2.5", D, Some("bob"), false, Some("/a b.sh"), None),
    // A client name instead of an address (reverse lookups on): no source address.
    (None, r#"client.example.net UNKNOWN bob [10/Oct/2000:13:55:45 +0000] "LIST" 226 310"#,
     "2000-10-10T13:55:45Z", (Action::FtpCommand, Outcome::Success), "", D, Some("bob"), false, None, Some(310)),
    // Most variables, local-time ISO stamp (the source zone, UTC here).
    (Some(RICH), r#"2024-03-04 10:20:30,123 192.0.2.5:50123 -> 198.51.100.2:2121 [4242] bob "STOR" "/in/a.txt" 226 "Transfer complete" 512 0.003 success ftp ftp.example.com"#,
     "2024-03-04T10:20:30.123Z", (Action::FtpUpload, Outcome::Success), "192.0.2.5", (Some(50123), "198.51.100.2", Some(2121)), Some("bob"), false, Some("/in/a.txt"), Some(512)),
    (Some(RICH), r#"2024-03-04 10:20:31,000 2001:db8::5:50124 -> 2001:db8::1:21 [4243] bob "RETR" "/big.iso" 426 "Transfer aborted. Data connection closed" 1024 1.5 cancelled ftps -"#,
     "2024-03-04T10:20:31Z", (Action::FtpDownload, Outcome::Failure), "2001:db8::5", (Some(50124), "2001:db8::1", Some(21)), Some("bob"), false, Some("/big.iso"), Some(1024)),
    // strftime stamp with an offset; %U before login; %f absolute path.
    (Some(STRF), "2024-03-04 10:20:30 +0100 192.0.2.5 mallory PASS - 530 0",
     "2024-03-04T09:20:30Z", (Action::FtpLogin, Outcome::Failure), "192.0.2.5", D, Some("mallory"), false, None, Some(0)),
    (Some(STRF), "2024-03-04 10:20:30 +0100 192.0.2.5 bob RETR /srv/ftp/pub/a.txt 226 99",
     "2024-03-04T09:20:30Z", (Action::FtpDownload, Outcome::Success), "192.0.2.5", D, Some("bob"), false, Some("/srv/ftp/pub/a.txt"), Some(99)),
    // %A: an anonymous session.
    (Some(ANON), r#"[04/Mar/2024:10:20:30 +0000] 192.0.2.5 ftp guest@example.com "RETR /pub/x" 226 10"#,
     "2024-03-04T10:20:30Z", (Action::FtpDownload, Outcome::Success), "192.0.2.5", D, Some("ftp"), true, Some("/pub/x"), Some(10)),
    (Some(ANON), r#"[04/Mar/2024:10:20:30 +0000] 192.0.2.5 bob UNKNOWN "RETR /pub/x" 226 10"#,
     "2024-03-04T10:20:30Z", (Action::FtpDownload, Outcome::Success), "192.0.2.5", D, Some("bob"), false, Some("/pub/x"), Some(10)),
    (Some("%{epoch} %a %m %s"), "1709547630 192.0.2.5 NOOP 200",
     "2024-03-04T10:20:30Z", (Action::FtpCommand, Outcome::Success), "192.0.2.5", D, None, false, None, None),
    (Some("%% %t %a %r"), "% [04/Mar/2024:10:20:30 +0000] 192.0.2.5 QUIT",
     "2024-03-04T10:20:30Z", (Action::FtpCommand, Outcome::Unknown), "192.0.2.5", D, None, false, None, None),
];

#[test]
fn events() {
    for c in EVENTS {
        let e = parse(c.0, c.1)
            .unwrap_or_else(|err| panic!("{}: {err}", c.1))
            .unwrap_or_else(|| panic!("no event: {}", c.1));
        let src = e.source_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let dst = e
            .destination_ip
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let time = e
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let got: Case = (
            c.0,
            c.1,
            &time,
            (e.action, e.outcome),
            &src,
            (e.source_port, &dst, e.destination_port),
            e.user_name.as_deref(),
            e.ftp_anonymous,
            e.file_path.as_deref(),
            e.bytes,
        );
        assert_eq!(got, *c);
        assert_eq!(e.dataset, Dataset::Proftpd);
        if matches!(e.action, Action::FtpDownload | Action::FtpUpload) {
            assert_eq!(e.file_size, e.bytes, "{}", c.1);
        }
    }
}

#[test]
fn rich_format_fills_pid_and_host() {
    let line = r#"2024-03-04 10:20:30,123 192.0.2.5:1 -> 198.51.100.2:21 [4242] bob "NOOP" "-" 200 "OK" 0 0.0 - ftp ftp.example.com"#;
    let e = parse(Some(RICH), line).unwrap().unwrap();
    assert_eq!(e.process_pid, Some(4242));
    assert_eq!(e.host_name.as_deref(), Some("ftp.example.com"));
}

#[test]
fn zone_less_stamps_take_the_source_zone() {
    let mut c = ctx(Some("%{iso8601} %a %m"));
    c.timezone = SourceTz::Named(chrono_tz::Europe::Berlin);
    let e = parse_extended_line(
        b"2024-03-04 10:20:30,5 192.0.2.5 NOOP",
        &c,
        &mut State::default(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        e.timestamp,
        "2024-03-04T09:20:30.5Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    // A year-less strftime format takes the year rule.
    let c = ctx(Some("%{%b %d %H:%M:%S}t %a %m"));
    let e = parse_extended_line(b"Dec 24 10:20:30 192.0.2.5 NOOP", &c, &mut State::default())
        .unwrap()
        .unwrap();
    assert_eq!(
        e.timestamp,
        "2023-12-24T10:20:30Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
}

#[test]
fn unusable_log_formats_reject_every_line() {
    let cases: &[(&str, ErrorKind)] = &[
        ("%h %l %u \"%r\" %s %b", ErrorKind::BadTimestamp),
        ("%{%Y %j}t %a", ErrorKind::Syntax),
        ("%{%c}t %a", ErrorKind::Syntax),
        ("%t %a %", ErrorKind::Syntax),
        ("%t %a %Z", ErrorKind::Syntax),
        ("%t %{protocol", ErrorKind::Syntax),
    ];
    for (format, kind) in cases {
        let mut state = State::default();
        for _ in 0..2 {
            let e = parse_extended_line(b"anything", &ctx(Some(format)), &mut state).unwrap_err();
            assert_eq!(
                (e.kind, e.offset, e.format),
                (*kind, 0, FORMAT),
                "{format}: {e}"
            );
        }
    }
    let parts = "%a ".repeat(logformat::MAX_ITEMS);
    let e = parse(Some(&format!("%t {parts}")), "x").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Syntax);
}

#[test]
fn compiles_literals_and_variables() {
    use logformat::{Field, Item, TimeKind};
    let f = logformat::compile(DEFAULT_LOG_FORMAT).unwrap();
    let lit = |s: &str| Item::Lit(s.to_owned());
    let want = vec![
        Item::Var(Field::ClientHost),
        lit(" "),
        Item::Var(Field::Ident),
        lit(" "),
        Item::Var(Field::User),
        lit(" "),
        Item::Time(TimeKind::Clf),
        lit(" \""),
        Item::Var(Field::Request),
        lit("\" "),
        Item::Var(Field::Status),
        lit(" "),
        Item::Var(Field::Bytes),
    ];
    assert_eq!(f.items, want);
    let f = logformat::compile("100%% %{ISO8601} %{HOME}e %{note:x} %E").unwrap();
    let want = vec![
        lit("100% "),
        Item::Time(TimeKind::Iso8601),
        lit(" "),
        Item::Var(Field::Other),
        lit(" "),
        Item::Var(Field::Other),
        lit(" "),
        Item::Var(Field::Other),
    ];
    assert_eq!(f.items, want);
}

#[test]
fn rejected_lines() {
    let long = format!(
        r#"192.0.2.5 - - [10/Oct/2000:13:55:36 -0700] "RETR /{}" 226 1"#,
        "x".repeat(100_000)
    );
    // Many `" ` in a quoted request: the candidates and the step budget bound the work.
    let hostile = format!(
        r#"192.0.2.5 - - [10/Oct/2000:13:55:36 -0700] "{}" x"#,
        "a\" ".repeat(3000)
    );
    #[rustfmt::skip]
    let cases: Vec<(Option<&str>, Vec<u8>, ErrorKind, usize)> = vec![
        (None, b"".to_vec(), ErrorKind::Syntax, 0),
        (None, b"garbage".to_vec(), ErrorKind::Syntax, 0),
        (None, br#"192.0.2.5 - - 10/Oct/2000:13:55:36 -0700 "RETR /a" 226 1"#.to_vec(), ErrorKind::BadTimestamp, 14),
        (None, br#"192.0.2.5 - - [31/Feb/2000:13:55:36 -0700] "RETR /a" 226 1"#.to_vec(), ErrorKind::BadTimestamp, 14),
        (None, br#"192.0.2.5 - - [10/Oct/2000:13:55:36 -0700] "RETR /a" 2x6 1"#.to_vec(), ErrorKind::BadNumber, 53),
        (None, br#"192.0.2.5 - - [10/Oct/2000:13:55:36 -0700] "RETR /a" 226 1 junk"#.to_vec(), ErrorKind::BadNumber, 57),
        (None, br#"192.0.2.5 - - [10/Oct/2000:13:55:36 -0700] "RETR /a" 99999 1"#.to_vec(), ErrorKind::BadNumber, 53),
        (None, br#"192.0.2.5 - - [10/Oct/2000:13:55:36 -0700] "RETR /a" 226 99999999999999999999"#.to_vec(), ErrorKind::BadNumber, 57),
        (None, br#"192.0.2.5 - - [10/Oct/2000:13:55:36 -0700] "RETR /a"#.to_vec(), ErrorKind::Syntax, 44),
        (None, b"192.0.2.5 - - [10/Oct/2000:13:55:36 -0700] \"RETR /\xc3\x28\" 226 1".to_vec(), ErrorKind::InvalidUtf8, 50),
        (Some(RICH), br#"2024-03-04 10:20:30,123 192.0.2.zz:1 -> 198.51.100.2:21 [1] b "N" "-" 200 "OK" 0 0 - ftp h"#.to_vec(), ErrorKind::BadAddress, 24),
        (Some(RICH), br#"2024-03-04 10:20:30,123 192.0.2.5:1 -> 198.51.100.2:70000 [1] b "N" "-" 200 "OK" 0 0 - ftp h"#.to_vec(), ErrorKind::BadNumber, 52),
        (Some("%t %a"), b"[10/Oct/2000:13:55:36 -0700] 192.0.2.5 extra".to_vec(), ErrorKind::BadAddress, 29),
        (Some("%t %a"), b"[10/Oct/2000:13:55:36 -0700]".to_vec(), ErrorKind::Syntax, 28),
        // The first split ends %r at the first `" `; then %s is no number.
        (None, hostile.into_bytes(), ErrorKind::BadNumber, 47),
        (None, long.into_bytes(), ErrorKind::TooLong, crate::MAX_LINE_LEN),
    ];
    for (format, line, kind, offset) in cases {
        let e = parse_extended_line(&line, &ctx(format), &mut State::default()).unwrap_err();
        let shown = String::from_utf8_lossy(&line);
        let shown = shown.get(..200).unwrap_or(&shown);
        assert_eq!(
            (e.kind, e.offset, e.format),
            (kind, offset, FORMAT),
            "{shown}: {e}"
        );
    }
}

#[test]
fn backtracking_is_bounded() {
    // Six text fields and a final address: every split of the spaces would be tried without
    // the candidate and step limits (16^6 splits).
    let format = "%t %u %U %v %V %l %J %a";
    let line = format!("[10/Oct/2000:13:55:36 -0700] {}x", "a ".repeat(5000));
    let start = std::time::Instant::now();
    let e = parse(Some(format), &line).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadAddress, "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}
