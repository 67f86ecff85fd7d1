//! Conformance of the Unix FTP server formats (xferlog, ProFTPD SystemLog/syslog, ProFTPD
//! ExtendedLog, Pure-FTPd) against the shared real-log corpus (`../shared/corpus/`, read in
//! place), plus the fixture folders of these formats and format detection.
//!
//! Without the corpus (a fresh clone) the corpus tests say SKIPPED and pass, except under
//! `CI=true`. Every log line of these files is checked:
//! * `vsftpd/ossec-docs-xferlog.log` (section labels): both samples are downloads with their
//!   fields; the `# fields:` description line is a comment, `Ok(None)`.
//! * `proftpd/fail2ban-proftpd.log` (failJSON): time, client and user; every `match` line is
//!   a failed login.
//! * `proftpd/ossec-docs-proftpd.log` (section labels): connects, logins and failures as
//!   labelled. Lines that carry no event and must be `Ok(None)`: the startup banner, `FTP
//!   session closed.`, `mod_delay` notes, and `no such user 'x'` (ProFTPD logs it for the same
//!   attempt as the `USER x: no such user found …` line, which is the counted failure).
//! * `pureftpd/fail2ban-pure-ftpd.log` (failJSON): a failed login with time and client.
//! * `pureftpd/ossec-docs-pureftpd.log` (section labels): the lines have no syslog header,
//!   hence no time. Expected: the lines that would be events are rejected with `BadTimestamp`
//!   (an event's time must come from the log); `Logout.` and the wrapper's `connect from` are
//!   `Ok(None)`. The same lines behind a syslog header must then give the labelled events.

mod support;
use chrono::Timelike;
use portcullis_parsers::{
    detect_format, Action, ErrorKind, Event, Format, LineParser, Outcome, ParseContext, ParseError,
    SourceTz,
};
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
#[allow(unused_imports)]
use support::{corpus, expect, say, Tally, CORPUS};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

/// fail2ban runs its tests with the clock at 2005-08-14 10:00 UTC (TEST_NOW).
const FAIL2BAN_NOW: &str = "2005-08-14T10:00:00Z";

/// The formats of this group and their fixture folders.
const MINE: [(Format, &str); 6] = [
    (Format::Xferlog, "xferlog"),
    (Format::Proftpd, "proftpd"),
    (Format::ProftpdExtended, "proftpd-extended"),
    (Format::PureFtpd, "pure-ftpd"),
    (Format::Sshd, "sshd"),
    (Format::Bftpd, "bftpd"),
];

/// The formats of this group.
const ALL_MINE: [Format; 5] = [
    Format::Xferlog,
    Format::Proftpd,
    Format::ProftpdExtended,
    Format::PureFtpd,
    Format::Bftpd,
];

fn read_text(dir: &Path, rel: &str) -> String {
    let bytes = std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn ctx(now: &str) -> ParseContext {
    ParseContext {
        now: now.parse().unwrap(),
        ..ParseContext::new(SourceTz::Utc)
    }
}

/// The event of a result, or a problem saying there was none.
fn event<'a>(p: &mut Vec<String>, got: &'a Result<Option<Event>, ParseError>) -> Option<&'a Event> {
    match got {
        Ok(Some(e)) => Some(e),
        other => {
            p.push(format!("no event: {other:?}"));
            None
        }
    }
}

/// Checks the failJSON annotations of a fail2ban test log: time, client, user; `match` lines
/// must be failed logins.
fn failjson(file: &'static str, format: Format, lines: usize) {
    let Some(dir) = corpus() else { return };
    let text = read_text(&dir, file);
    let mut parser = LineParser::new(format, ctx(FAIL2BAN_NOW));
    let mut tally = Tally::new(file);
    let mut pending: Option<Value> = None;
    for line in text.lines() {
        if let Some(json) = line.strip_prefix("# failJSON:") {
            pending = Some(serde_json::from_str(json).expect("failJSON"));
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let want = pending
            .take()
            .unwrap_or_else(|| panic!("no failJSON: {line}"));
        let got = tally.parse_with(&mut parser, line);
        let mut p = Vec::new();
        if let Some(e) = event(&mut p, &got) {
            // failJSON times have whole seconds (fail2ban drops the milliseconds).
            let time = want["time"].as_str().expect("time").parse().unwrap();
            let naive = e.timestamp.naive_utc();
            let whole = naive.with_nanosecond(0).unwrap_or(naive);
            expect(&mut p, "time", whole, time);
            let host = want["host"].as_str().and_then(|h| h.parse::<IpAddr>().ok());
            expect(&mut p, "source.ip", e.source_ip, host);
            if let Some(user) = want["user"].as_str() {
                expect(&mut p, "user.name", e.user_name.as_deref(), Some(user));
            }
            if want["match"] == true {
                let got = (e.action, e.outcome);
                expect(&mut p, "event", got, (Action::FtpLogin, Outcome::Failure));
            }
        }
        tally.check(line, p);
    }
    tally.finish(lines);
}

#[test]
fn fail2ban_proftpd_failjson() {
    failjson("proftpd/fail2ban-proftpd.log", Format::Proftpd, 10);
}

#[test]
fn fail2ban_pure_ftpd_failjson() {
    failjson("pureftpd/fail2ban-pure-ftpd.log", Format::PureFtpd, 1);
}

/// The `# section:` label of each log line of a section-labelled file.
fn sections(text: &str) -> Vec<(String, &str)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("# section:") {
            section = s.trim().to_string();
        } else if !line.trim().is_empty() && !line.starts_with('#') {
            out.push((section.clone(), line));
        }
    }
    out
}

#[test]
fn ossec_docs_xferlog_sections() {
    let Some(dir) = corpus() else { return };
    let file = "vsftpd/ossec-docs-xferlog.log";
    let text = read_text(&dir, file);
    let mut parser = LineParser::new(Format::Xferlog, ctx("2025-01-01T00:00:00Z"));
    // The field-description line the corpus turned into a comment is not an event.
    let fields = text.lines().find(|l| l.starts_with("# fields:")).unwrap();
    assert_eq!(parser.parse(fields.as_bytes()), Ok(None), "{fields}");
    let mut tally = Tally::new(file);
    for (section, line) in sections(&text) {
        let got = tally.parse_with(&mut parser, line);
        let mut p = Vec::new();
        expect(&mut p, "section", section.as_str(), "Samples");
        if let Some(e) = event(&mut p, &got) {
            // Fields read from the line itself, independently of the parser.
            let f: Vec<&str> = line.split_whitespace().collect();
            let (size, path, user) = (f[7].parse::<u64>().ok(), f[8], f[13]);
            let ip = f[6].parse::<IpAddr>().ok();
            let time = format!("{} {} {} {}", f[1], f[2], f[3], f[4]);
            let time = chrono::NaiveDateTime::parse_from_str(&time, "%b %d %H:%M:%S %Y").unwrap();
            expect(&mut p, "time", e.timestamp.naive_utc(), time);
            expect(
                &mut p,
                "event",
                (e.action, e.outcome),
                (Action::FtpDownload, Outcome::Success),
            );
            expect(&mut p, "source.ip", e.source_ip, ip);
            expect(&mut p, "file.size", e.file_size, size);
            expect(&mut p, "network.bytes", e.bytes, size);
            expect(&mut p, "file.path", e.file_path.as_deref(), Some(path));
            expect(&mut p, "user.name", e.user_name.as_deref(), Some(user));
        }
        tally.check(line, p);
    }
    tally.finish(2);
}

/// What a ProFTPD line of the OSSEC samples must give, from its section and its text.
fn proftpd_expectation(section: &str, line: &str) -> Option<(Action, Outcome)> {
    let msg = line.split_once("]): ").map_or("", |(_, m)| m);
    let login_failure = Some((Action::FtpLogin, Outcome::Failure));
    match section {
        "Startup message" | "Connection closed" => None,
        "Connection attempt" => Some((Action::FtpConnect, Outcome::Success)),
        "Login sucessful" => Some((Action::FtpLogin, Outcome::Success)),
        "Login failed" => login_failure,
        // `no such user 'x'` comes with a `USER x: no such user found` line for the same try.
        "Invalid user login attempt" if msg.starts_with("no such user '") => None,
        "Invalid user login attempt" => login_failure,
        "Full samples" if msg.starts_with("USER ") => login_failure,
        "Full samples" if msg == "FTP session opened." => {
            Some((Action::FtpConnect, Outcome::Success))
        }
        "Full samples"
            if msg.starts_with("mod_delay/")
                || msg.starts_with("no such user '")
                || msg == "FTP session closed." =>
        {
            None
        }
        other => panic!("no expectation for section {other:?}: {line}"),
    }
}

#[test]
fn ossec_docs_proftpd_sections() {
    let Some(dir) = corpus() else { return };
    let file = "proftpd/ossec-docs-proftpd.log";
    let text = read_text(&dir, file);
    let mut parser = LineParser::new(Format::Proftpd, ctx("2025-12-31T00:00:00Z"));
    let mut tally = Tally::new(file);
    for (section, line) in sections(&text) {
        let got = tally.parse_with(&mut parser, line);
        let mut p = Vec::new();
        match proftpd_expectation(&section, line) {
            None => expect(&mut p, "no event", &got, &Ok(None)),
            Some(want) => {
                if let Some(e) = event(&mut p, &got) {
                    expect(&mut p, "event", (e.action, e.outcome), want);
                    // The client is the address in the session prefix.
                    let client = line
                        .split_once(" (")
                        .and_then(|(_, r)| r.split_once('['))
                        .and_then(|(_, r)| r.split_once("])"))
                        .and_then(|(ip, _)| ip.parse::<IpAddr>().ok());
                    expect(&mut p, "source.ip", e.source_ip, client);
                    let user = line
                        .split_once("USER ")
                        .and_then(|(_, r)| r.split([':', ' ']).next());
                    expect(&mut p, "user.name", e.user_name.as_deref(), user);
                    expect(
                        &mut p,
                        "host.name",
                        e.host_name.as_deref(),
                        line.split(' ').nth(3),
                    );
                    if let Some((_, port)) = line
                        .rsplit_once(" to ")
                        .and_then(|(_, s)| s.rsplit_once(':'))
                    {
                        expect(
                            &mut p,
                            "destination.port",
                            e.destination_port,
                            port.parse().ok(),
                        );
                    }
                }
            }
        }
        tally.check(line, p);
    }
    tally.finish(33);
}

/// What a Pure-FTPd line of the OSSEC samples reports, from its section and its text.
fn pureftpd_expectation(section: &str, line: &str) -> Option<(Action, Outcome)> {
    match section {
        "Connection attempt" if line.starts_with("pure-ftpd-wrapper") => None,
        "Connection attempt" => Some((Action::FtpConnect, Outcome::Success)),
        "Connection closed" => None,
        "Login failed" | "Full Sample" => Some((Action::FtpLogin, Outcome::Failure)),
        other => panic!("no expectation for section {other:?}: {line}"),
    }
}

#[test]
fn ossec_docs_pureftpd_sections() {
    let Some(dir) = corpus() else { return };
    let file = "pureftpd/ossec-docs-pureftpd.log";
    let text = read_text(&dir, file);
    let c = ctx("2025-12-31T00:00:00Z");
    let mut parser = LineParser::new(Format::PureFtpd, c.clone());
    let mut tally = Tally::new(file);
    let mut with_header = Tally::new("pureftpd/ossec-docs-pureftpd.log behind a syslog header");
    let mut rejected = 0;
    for (section, line) in sections(&text) {
        let want = pureftpd_expectation(&section, line);
        // As written: no time, so no event.
        let got = tally.parse_with(&mut parser, line);
        let mut p = Vec::new();
        match want {
            None => expect(&mut p, "no event", &got, &Ok(None)),
            Some(_) => {
                let kind = got.as_ref().err().map(|e| e.kind);
                expect(&mut p, "rejected", kind, Some(ErrorKind::BadTimestamp));
                rejected += 1;
            }
        }
        tally.check(line, p);
        // Behind a syslog header: the labelled event, client and user.
        let relayed = format!("Dec 24 10:00:00 ftp {line}");
        let got = with_header.parse_with(&mut parser, &relayed);
        let mut p = Vec::new();
        match want {
            None => expect(&mut p, "no event", &got, &Ok(None)),
            Some(want) => {
                if let Some(e) = event(&mut p, &got) {
                    expect(&mut p, "event", (e.action, e.outcome), want);
                    let client = line
                        .split_once('@')
                        .and_then(|(_, r)| r.split_once(')'))
                        .and_then(|(ip, _)| ip.parse::<IpAddr>().ok());
                    expect(&mut p, "source.ip", e.source_ip, client);
                    let user = line
                        .split_once("for user [")
                        .and_then(|(_, r)| r.strip_suffix(']'));
                    expect(&mut p, "user.name", e.user_name.as_deref(), user);
                    expect(&mut p, "host.name", e.host_name.as_deref(), Some("ftp"));
                }
            }
        }
        with_header.check(&relayed, p);
    }
    say(&format!(
        "  ({rejected} lines rejected with BadTimestamp as expected: no time)"
    ));
    tally.finish(11);
    with_header.finish(11);
}

/// Every corpus file of these formats is detected as its format. The OSSEC Pure-FTPd samples
/// have no timestamps, so no line of them is an event in any format: nothing is detected.
#[test]
fn corpus_files_are_detected_as_their_format() {
    let Some(dir) = corpus() else { return };
    let cases: &[(&str, Option<Format>)] = &[
        ("vsftpd/ossec-docs-xferlog.log", Some(Format::Xferlog)),
        ("proftpd/fail2ban-proftpd.log", Some(Format::Proftpd)),
        ("proftpd/ossec-docs-proftpd.log", Some(Format::Proftpd)),
        ("pureftpd/fail2ban-pure-ftpd.log", Some(Format::PureFtpd)),
        ("pureftpd/ossec-docs-pureftpd.log", None),
    ];
    for (file, want) in cases {
        let head = std::fs::read(dir.join(file)).unwrap();
        let got = detect_format(&head, &ctx(FAIL2BAN_NOW));
        assert_eq!(got, *want, "{file}");
    }
}

/// Both Bftpd fixtures (file and syslog form) are detected as bftpd.
#[test]
fn bftpd_fixtures_are_detected_as_bftpd() {
    for file in ["logfile.log", "syslog.log"] {
        let head = std::fs::read(Path::new(FIXTURES).join("bftpd").join(file)).unwrap();
        let got = detect_format(&head, &ctx("2026-11-21T00:00:00Z"));
        assert_eq!(got, Some(Format::Bftpd), "{file}");
    }
}

/// Lines of every other corpus format, and of the other formats of this group, are never
/// events of these formats.
#[test]
fn other_formats_lines_are_not_events() {
    let Some(dir) = corpus() else { return };
    let others: &[(&str, &[Format])] = &[
        (
            "vsftpd/fail2ban-vsftpd.log",
            &[
                Format::Xferlog,
                Format::Proftpd,
                Format::ProftpdExtended,
                Format::PureFtpd,
                Format::Bftpd,
            ],
        ),
        (
            "vsftpd/ossec-docs-vsftpd.log",
            &[
                Format::Xferlog,
                Format::Proftpd,
                Format::ProftpdExtended,
                Format::PureFtpd,
                Format::Bftpd,
            ],
        ),
        (
            "vsftpd/ossec-docs-xferlog.log",
            &[
                Format::Proftpd,
                Format::ProftpdExtended,
                Format::PureFtpd,
                Format::Bftpd,
            ],
        ),
        (
            "proftpd/fail2ban-proftpd.log",
            &[
                Format::Xferlog,
                Format::ProftpdExtended,
                Format::PureFtpd,
                Format::Bftpd,
            ],
        ),
        (
            "proftpd/ossec-docs-proftpd.log",
            &[
                Format::Xferlog,
                Format::ProftpdExtended,
                Format::PureFtpd,
                Format::Bftpd,
            ],
        ),
        (
            "pureftpd/fail2ban-pure-ftpd.log",
            &[
                Format::Xferlog,
                Format::Proftpd,
                Format::ProftpdExtended,
                Format::Bftpd,
            ],
        ),
        (
            "pureftpd/ossec-docs-pureftpd.log",
            &[
                Format::Xferlog,
                Format::Proftpd,
                Format::ProftpdExtended,
                Format::Bftpd,
            ],
        ),
        ("iptables/beats-iptables.log", &ALL_MINE),
        ("iptables/beats-ubiquiti.log", &ALL_MINE),
        ("iptables/wazuh-iptables.ini", &ALL_MINE),
        ("cisco-asa/beats-asa-sample.log", &ALL_MINE),
        ("cisco-asa/wazuh-cisco_asa.ini", &ALL_MINE),
        ("cisco-asa/ossec-docs-pix.log", &ALL_MINE),
        ("iis-ftp/ossec-docs-msftp.log", &ALL_MINE),
        ("iis-ftp/ipban-recipe-iis-ftp.log", &ALL_MINE),
        ("filezilla/ipban-recipe-filezilla.log", &ALL_MINE),
        ("pf/ossec-docs-pf.log", &ALL_MINE),
        ("pf/elastic-integrations-pfsense-bsd.log", &ALL_MINE),
        ("pf/elastic-integrations-opnsense.log", &ALL_MINE),
        ("windows-firewall/plaso-firewall.log", &ALL_MINE),
        (
            "windows-firewall/ossec-docs-windows_firewall.log",
            &ALL_MINE,
        ),
    ];
    let mut checked = 0;
    for (file, formats) in others {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for format in *formats {
            let mut parser = LineParser::new(*format, ctx(FAIL2BAN_NOW));
            for raw in bytes.split(|&b| b == b'\n') {
                let line = raw.strip_prefix(b"log ").map_or(raw, |_| {
                    // wazuh .ini: `log N pass = <line>`
                    let text = std::str::from_utf8(raw).unwrap_or("");
                    text.split_once(" = ").map_or(raw, |(_, l)| l.as_bytes())
                });
                let got = parser.parse(line);
                assert!(
                    !matches!(got, Ok(Some(_))),
                    "{format} took a line of {file} as an event: {}",
                    String::from_utf8_lossy(line)
                );
                checked += 1;
            }
        }
    }
    say(&format!(
        "other formats' corpus lines checked: {checked}, none an event"
    ));
}

/// The checks every line format shares, through [`LineParser`].
#[test]
fn shared_rejections() {
    let c = ctx(FAIL2BAN_NOW);
    let long = vec![b'x'; 100 * 1024];
    for (format, _) in MINE {
        let mut parser = LineParser::new(format, c.clone());
        let e = parser.parse(&long).unwrap_err();
        assert_eq!(
            (e.kind, e.offset),
            (ErrorKind::TooLong, portcullis_parsers::MAX_LINE_LEN)
        );
        let e = parser.parse(b"").unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Syntax, 0), "{format}");
        assert_eq!(e.format, format);
    }
}

/// What a fixture line must give, as written in `*.expected.jsonl`.
fn expected_json(got: &Result<Option<Event>, ParseError>) -> String {
    match got {
        Ok(Some(e)) => serde_json::to_string(e).unwrap(),
        Ok(None) => "null".to_string(),
        Err(e) => {
            serde_json::json!({ "error": format!("{:?}", e.kind), "offset": e.offset }).to_string()
        }
    }
}

/// Every `*.log` of the fixture folders parses to its `*.expected.jsonl` (one JSON event per
/// line, `null` for `Ok(None)`, `{"error": kind, "offset": n}` for a rejected line). A
/// `*.logformat` beside a log is its LogFormat. `UPDATE_FIXTURES=1` rewrites the expected files
/// (review the diff before keeping it).
#[test]
fn fixtures() {
    let update = std::env::var("UPDATE_FIXTURES").is_ok_and(|v| v == "1");
    let mut files = 0;
    for (format, folder) in MINE {
        let dir = Path::new(FIXTURES).join(folder);
        let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|d| d.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        logs.sort();
        assert!(!logs.is_empty(), "no fixtures in {}", dir.display());
        for log in logs {
            let mut c = ParseContext {
                now: "2024-12-31T00:00:00Z".parse().unwrap(),
                host: Some("198.51.100.10".parse().unwrap()),
                ..ParseContext::new(SourceTz::Utc)
            };
            c.log_format = std::fs::read_to_string(log.with_extension("logformat")).ok();
            let mut parser = LineParser::new(format, c);
            let text = std::fs::read_to_string(&log).unwrap();
            let got: Vec<String> = text
                .lines()
                .map(|l| expected_json(&parser.parse(l.as_bytes())))
                .collect();
            let expected_path = log.with_extension("expected.jsonl");
            if update {
                std::fs::write(&expected_path, got.join("\n") + "\n").unwrap();
            }
            let want = std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
            let want: Vec<&str> = want.lines().collect();
            assert_eq!(got.len(), want.len(), "{}: line count", log.display());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let (g, w): (Value, Value) = (
                    serde_json::from_str(g).unwrap(),
                    serde_json::from_str(w).unwrap(),
                );
                assert_eq!(g, w, "{} line {}", log.display(), i + 1);
            }
            files += 1;
        }
    }
    say(&format!("fixture files checked: {files}"));
}
