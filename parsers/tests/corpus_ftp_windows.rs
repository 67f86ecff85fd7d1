//! Conformance of the Windows-side FTP and firewall parsers (IIS FTP, FileZilla Server,
//! Windows Firewall) against the shared real-log corpus, read in place from
//! `../shared/corpus/`. Without the corpus the tests print SKIPPED and pass, except under
//! `CI=true`, where a missing corpus fails.
//!
//! Every line of `iis-ftp/*`, `filezilla/*` and `windows-firewall/*` is fed, in order, to one
//! `LineParser` per file (the formats remember `#Fields:`, `#Date:` and sessions). Each log line
//! must give what its raw text and its section label say (checked field by field against the
//! raw columns), be `Ok(None)` where it carries no event on its own (USER lines, protocol
//! replies, `INFO-EVENTS-LOST`), or be one of the documented rejections:
//!
//! * lines whose client address the documentation masked (`x.x.180.116`, `x.x.x.79`) are
//!   rejected with `BadAddress`: they hold no address to report;
//! * `windows-firewall/ossec-docs-windows_firewall.log` line 87 holds two records glued
//!   together (no newline between them upstream): rejected with `Syntax` at its 18th column.
//!
//! Serv-U has no corpus file; it is covered by its unit tests and fixtures.

mod support;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use portcullis_parsers::{
    detect_format, Action, ErrorKind, Event, Format, LineParser, Outcome, ParseContext, ParseError,
    SourceTz, Transport,
};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
#[allow(unused_imports)]
use support::{corpus, expect, say, CORPUS};

fn read(dir: &std::path::Path, rel: &str) -> String {
    String::from_utf8(std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .unwrap()
}

fn ctx(now: &str) -> ParseContext {
    let mut c = ParseContext::new(SourceTz::Utc);
    c.now = now.parse().unwrap();
    c
}

/// Checks an event; returns the problems found.
type Check = Box<dyn Fn(&Event) -> Vec<String>>;

/// What a log line must give.
enum Want {
    /// An event whose fields pass the check.
    Event(Check),
    /// No event: a line that carries none on its own.
    Nothing,
    /// A documented rejection.
    Rejected(ErrorKind, Option<usize>),
}

impl std::fmt::Debug for Want {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Want::Event(_) => f.write_str("an event"),
            Want::Nothing => f.write_str("Ok(None)"),
            Want::Rejected(kind, at) => write!(f, "a {kind:?} rejection at {at:?}"),
        }
    }
}

/// Per-file counts; `finish` prints them and fails on any miss.
struct Tally {
    file: &'static str,
    seen: usize,
    events: usize,
    nothing: usize,
    rejected: usize,
    matched: usize,
    misses: Vec<String>,
}

impl Tally {
    fn new(file: &'static str) -> Tally {
        Tally {
            file,
            seen: 0,
            events: 0,
            nothing: 0,
            rejected: 0,
            matched: 0,
            misses: Vec::new(),
        }
    }

    fn check(&mut self, line: &str, got: Result<Option<Event>, ParseError>, want: Want) {
        self.seen += 1;
        let problems = match (&got, want) {
            (Ok(Some(e)), Want::Event(check)) => {
                self.events += 1;
                check(e)
            }
            (Ok(None), Want::Nothing) => {
                self.nothing += 1;
                vec![]
            }
            (Err(e), Want::Rejected(kind, offset)) => {
                self.rejected += 1;
                let mut p = vec![];
                if e.kind != kind || offset.is_some_and(|o| o != e.offset) {
                    p.push(format!("rejected as {e}, want {kind:?} at {offset:?}"));
                }
                p
            }
            (got, want) => vec![format!("got {got:?}, want {want:?}")],
        };
        if problems.is_empty() {
            self.matched += 1;
        } else {
            self.misses.push(format!("{}: {line}", problems.join("; ")));
        }
    }

    fn finish(self, expected_lines: usize) {
        say(&format!(
            "corpus {}: lines seen {} / events {} / no event {} / rejected as documented {} / matched {}",
            self.file, self.seen, self.events, self.nothing, self.rejected, self.matched
        ));
        for m in &self.misses {
            say(&format!("  MISS {m}"));
        }
        assert!(
            self.misses.is_empty(),
            "{}: {} misses",
            self.file,
            self.misses.len()
        );
        assert_eq!(self.seen, expected_lines, "{}: log lines seen", self.file);
    }
}

fn ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

fn utc(date: NaiveDate, time: &str) -> DateTime<Utc> {
    date.and_time(time.parse::<NaiveTime>().unwrap()).and_utc()
}

/// The action and outcome an IIS method and status stand for, from the raw text.
fn iis_kind(verb: &str, status: Option<u16>) -> (Action, Outcome) {
    let outcome = match status {
        Some(100..=399) if verb != "PASS" => Outcome::Success,
        Some(200..=299) => Outcome::Success,
        Some(400..=599) => Outcome::Failure,
        _ => Outcome::Unknown,
    };
    let action = match verb {
        "PASS" => Action::FtpLogin,
        "MKD" => Action::FtpMkdir,
        "RMD" => Action::FtpRmdir,
        "sent" => Action::FtpDownload,
        "created" => Action::FtpUpload,
        _ => Action::FtpCommand,
    };
    (action, outcome)
}

#[test]
fn ipban_iis_ftp_sections() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "iis-ftp/ipban-recipe-iis-ftp.log");
    let mut parser = LineParser::new(Format::IisFtp, ctx("2024-01-01T00:00:00Z"));
    let mut tally = Tally::new("iis-ftp/ipban-recipe-iis-ftp.log");
    let mut section = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let got = parser.parse(line.as_bytes());
        if let Some(s) = line.strip_prefix("# section:") {
            section = s.trim().to_string();
        }
        if line.starts_with('#') {
            assert_eq!(got, Ok(None), "directive {line}");
            continue;
        }
        let c: Vec<&str> = line.split(' ').collect();
        let want = if c[6] == "USER" {
            Want::Nothing
        } else {
            let (outcome, user) = match section.as_str() {
                "Fail example" => (Outcome::Failure, "failUserName"),
                "Success example" => (Outcome::Success, "userName"),
                other => panic!("unknown section {other}"),
            };
            let time = utc(c[0].parse().unwrap(), c[1]);
            let (src, dst, port) = (ip(c[2]), ip(c[4]), c[5].parse::<u16>().ok());
            Want::Event(Box::new(move |e| {
                let mut p = vec![];
                expect(
                    &mut p,
                    "event",
                    (e.action, e.outcome),
                    (Action::FtpLogin, outcome),
                );
                expect(&mut p, "user", e.user_name.as_deref(), Some(user));
                expect(&mut p, "time", e.timestamp, time);
                expect(&mut p, "source", e.source_ip, src);
                expect(
                    &mut p,
                    "destination",
                    (e.destination_ip, e.destination_port),
                    (dst, port),
                );
                p
            }))
        };
        tally.check(line, got, want);
    }
    tally.finish(4);
}

#[test]
fn ossec_docs_msftp_samples() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "iis-ftp/ossec-docs-msftp.log");
    // Lines with no date and no #Date: before them get the date of `now` (all are earlier).
    let now = "2006-01-01T23:59:59Z";
    let mut parser = LineParser::new(Format::IisFtp, ctx(now));
    let mut tally = Tally::new("iis-ftp/ossec-docs-msftp.log");
    let mut header_date: Option<NaiveDateTime> = None;
    let mut users: HashMap<String, String> = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let got = parser.parse(line.as_bytes());
        if let Some(d) = line.strip_prefix("#Date: ") {
            header_date = Some(NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M:%S").unwrap());
        }
        if line.starts_with('#') {
            assert_eq!(got, Ok(None), "directive {line}");
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        // The method column is the `[session]VERB` one; status follows the argument (and, in
        // the 20-column layout, the query column).
        let m = cols.iter().position(|c| c.starts_with('[')).unwrap();
        let (session, verb) = cols[m][1..].split_once(']').unwrap();
        let arg = cols[m + 1];
        let status_col = if cols.len() <= 6 { m + 2 } else { m + 3 };
        let status = cols.get(status_col).and_then(|s| s.parse::<u16>().ok());
        let has_date = cols[0].len() == 10;
        let time_s = cols[usize::from(has_date)];
        let client = cols[usize::from(has_date) + 1];
        let want = if client.starts_with("x.") {
            Want::Rejected(ErrorKind::BadAddress, None)
        } else if verb == "USER" {
            users.insert(session.to_string(), arg.to_string());
            Want::Nothing
        } else {
            let time: NaiveTime = time_s.parse().unwrap();
            let date = if has_date {
                cols[0].parse().unwrap()
            } else if let Some(h) = header_date {
                if time < h.time() {
                    h.date().succ_opt().unwrap()
                } else {
                    h.date()
                }
            } else {
                now.parse::<DateTime<Utc>>().unwrap().date_naive()
            };
            let want_time = date.and_time(time).and_utc();
            let (action, outcome) = iis_kind(verb, status);
            let user = if verb == "PASS" {
                users.get(session).cloned()
            } else if cols.len() > 6 {
                Some(cols[usize::from(has_date) + 2].to_string()).filter(|u| u != "-")
            } else {
                users.get(session).cloned()
            };
            let anonymous = user
                .as_deref()
                .is_some_and(|u| u == "anonymous" || u == "ftp");
            let src = ip(client);
            let server = cols
                .get(m.saturating_sub(2))
                .and_then(|s| ip(s))
                .filter(|_| cols.len() > 6);
            let path = matches!(
                action,
                Action::FtpMkdir | Action::FtpRmdir | Action::FtpDownload | Action::FtpUpload
            )
            .then(|| arg.to_string());
            Want::Event(Box::new(move |e| {
                let mut p = vec![];
                expect(&mut p, "event", (e.action, e.outcome), (action, outcome));
                expect(&mut p, "time", e.timestamp, want_time);
                expect(&mut p, "source", e.source_ip, src);
                expect(&mut p, "destination", e.destination_ip, server);
                expect(&mut p, "user", e.user_name.as_deref(), user.as_deref());
                expect(&mut p, "anonymous", e.ftp_anonymous, anonymous);
                expect(&mut p, "path", e.file_path.as_deref(), path.as_deref());
                p
            }))
        };
        tally.check(line, got, want);
    }
    tally.finish(70);
}

#[test]
fn ipban_filezilla_sections() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "filezilla/ipban-recipe-filezilla.log");
    let mut parser = LineParser::new(Format::Filezilla, ctx("2024-06-30T00:00:00Z"));
    let mut tally = Tally::new("filezilla/ipban-recipe-filezilla.log");
    let mut section = String::new();
    let mut logins: Vec<(String, Outcome, Option<String>)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(s) = line.strip_prefix("# section:") {
            section = s.trim().to_string();
            continue;
        }
        let got = parser.parse(line.as_bytes());
        // The lines that decide a login; all others (Authenticating, 331, PASS, the 500 reply
        // to an unknown command) carry no event on their own.
        let decides = line.contains("Recording failed login")
            || line.contains("> 530 ")
            || line.contains("] 230 ")
            || line.contains("> 230 ");
        let want = if !decides {
            Want::Nothing
        } else {
            let outcome = match section.as_str() {
                "Example failed logins" => Outcome::Failure,
                "Example success logins" => Outcome::Success,
                other => panic!("unknown section {other}"),
            };
            let (time, user) = if line.starts_with("2024-") {
                (line[..24].parse::<DateTime<Utc>>().unwrap(), Some("root"))
            } else if line.contains("(000175)") {
                // `1/5/2022`: ambiguous before any proof, read month-first.
                (
                    utc(NaiveDate::from_ymd_opt(2022, 1, 5).unwrap(), "19:04:11"),
                    Some("www"),
                )
            } else {
                (
                    utc(NaiveDate::from_ymd_opt(2021, 12, 21).unwrap(), "14:07:08"),
                    Some("username"),
                )
            };
            logins.push((section.clone(), outcome, user.map(str::to_string)));
            Want::Event(Box::new(move |e| {
                let mut p = vec![];
                expect(
                    &mut p,
                    "event",
                    (e.action, e.outcome),
                    (Action::FtpLogin, outcome),
                );
                expect(&mut p, "time", e.timestamp, time);
                expect(&mut p, "source", e.source_ip, ip("1.2.3.4"));
                expect(&mut p, "user", e.user_name.as_deref(), user);
                p
            }))
        };
        tally.check(line, got, want);
    }
    // Two logins per section: one of the 1.x form, one of the 0.9 form.
    let per_section = |s: &str| logins.iter().filter(|l| l.0 == s).count();
    assert_eq!(per_section("Example failed logins"), 2);
    assert_eq!(per_section("Example success logins"), 2);
    tally.finish(13);
}

/// The check of one `pfirewall.log` record against its raw columns (default layout).
fn winfw_want(line: &str, section: &str) -> Want {
    let c: Vec<&str> = line.split(' ').collect();
    if c.len() > 17 {
        return Want::Rejected(
            ErrorKind::Syntax,
            Some(line.match_indices(' ').nth(16).unwrap().0 + 1),
        );
    }
    if c[4].starts_with("x.") {
        return Want::Rejected(ErrorKind::BadAddress, Some(c[..4].join(" ").len() + 1));
    }
    let (action, outcome) = match c[2] {
        "DROP" => (Action::FirewallDeny, Outcome::Failure),
        "OPEN" => (Action::ConnectionOpen, Outcome::Success),
        "CLOSE" => (Action::ConnectionClose, Outcome::Success),
        "INFO-EVENTS-LOST" => return Want::Nothing,
        other => panic!("unexpected action {other}"),
    };
    match section {
        "Firewall drop" => assert_eq!(action, Action::FirewallDeny, "{line}"),
        "Firewall Accept" => assert_eq!(action, Action::ConnectionOpen, "{line}"),
        _ => {}
    }
    let time = utc(c[0].parse().unwrap(), c[1]);
    let transport = Transport::from_name(c[3]);
    let (src, dst) = (ip(c[4]), ip(c[5]));
    let (sport, dport) = (c[6].parse::<u16>().ok(), c[7].parse::<u16>().ok());
    let size = c[8].parse::<u64>().ok();
    let flags = (c[9] != "-").then(|| c[9].to_string());
    Want::Event(Box::new(move |e| {
        let mut p = vec![];
        expect(&mut p, "event", (e.action, e.outcome), (action, outcome));
        expect(&mut p, "time", e.timestamp, time);
        expect(
            &mut p,
            "addresses",
            (e.source_ip, e.destination_ip),
            (src, dst),
        );
        expect(
            &mut p,
            "ports",
            (e.source_port, e.destination_port),
            (sport, dport),
        );
        expect(&mut p, "transport", e.transport, transport);
        expect(&mut p, "bytes", e.bytes, size);
        let want_flags = flags.as_deref().map(|f| {
            let mut names: Vec<&str> = vec![];
            for (letter, name) in [
                ('F', "FIN"),
                ('S', "SYN"),
                ('R', "RST"),
                ('P', "PSH"),
                ('A', "ACK"),
                ('U', "URG"),
            ] {
                if f.contains(letter) {
                    names.push(name);
                }
            }
            names.join(" ")
        });
        expect(
            &mut p,
            "tcp.flags",
            e.tcp_flags.map(|f| f.to_string()),
            want_flags,
        );
        p
    }))
}

fn winfw_file(rel: &'static str, expected_lines: usize) {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, rel);
    let mut parser = LineParser::new(Format::WindowsFirewall, ctx("2007-01-01T00:00:00Z"));
    let mut tally = Tally::new(rel);
    let mut section = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let got = parser.parse(line.as_bytes());
        if let Some(s) = line.strip_prefix("# section:") {
            section = s.trim().to_string();
        }
        if line.starts_with('#') {
            assert_eq!(got, Ok(None), "directive {line}");
            continue;
        }
        tally.check(line, got, winfw_want(line, &section));
    }
    tally.finish(expected_lines);
}

#[test]
fn plaso_windows_firewall() {
    winfw_file("windows-firewall/plaso-firewall.log", 15);
}

#[test]
fn ossec_docs_windows_firewall() {
    winfw_file("windows-firewall/ossec-docs-windows_firewall.log", 221);
}

#[test]
fn corpus_files_are_detected_as_their_format() {
    let Some(dir) = corpus() else { return };
    let c = ctx("2024-06-30T00:00:00Z");
    for (rel, want) in [
        ("iis-ftp/ipban-recipe-iis-ftp.log", Format::IisFtp),
        ("iis-ftp/ossec-docs-msftp.log", Format::IisFtp),
        ("filezilla/ipban-recipe-filezilla.log", Format::Filezilla),
        (
            "windows-firewall/plaso-firewall.log",
            Format::WindowsFirewall,
        ),
        (
            "windows-firewall/ossec-docs-windows_firewall.log",
            Format::WindowsFirewall,
        ),
    ] {
        let text = read(&dir, rel);
        assert_eq!(detect_format(text.as_bytes(), &c), Some(want), "{rel}");
    }
}

/// No line of another format's corpus file is an event under these parsers.
#[test]
fn other_formats_lines_are_not_events_here() {
    let Some(dir) = corpus() else { return };
    let others = [
        "vsftpd/fail2ban-vsftpd.log",
        "vsftpd/ossec-docs-vsftpd.log",
        "vsftpd/ossec-docs-xferlog.log",
        "proftpd/fail2ban-proftpd.log",
        "proftpd/ossec-docs-proftpd.log",
        "pureftpd/fail2ban-pure-ftpd.log",
        "pureftpd/ossec-docs-pureftpd.log",
        "iptables/beats-iptables.log",
        "iptables/beats-ubiquiti.log",
        "iptables/wazuh-iptables.ini",
        "pf/ossec-docs-pf.log",
        "pf/elastic-integrations-pfsense-bsd.log",
        "pf/elastic-integrations-opnsense.log",
        "cisco-asa/beats-asa-sample.log",
        "cisco-asa/wazuh-cisco_asa.ini",
        "cisco-asa/ossec-docs-pix.log",
    ];
    let mine = [
        Format::IisFtp,
        Format::Filezilla,
        Format::ServU,
        Format::WindowsFirewall,
        Format::WsFtp,
    ];
    // Own files under the other formats of this group: none is an event there either.
    let own = [
        ("iis-ftp/ipban-recipe-iis-ftp.log", Format::IisFtp),
        ("iis-ftp/ossec-docs-msftp.log", Format::IisFtp),
        ("filezilla/ipban-recipe-filezilla.log", Format::Filezilla),
        (
            "windows-firewall/plaso-firewall.log",
            Format::WindowsFirewall,
        ),
        (
            "windows-firewall/ossec-docs-windows_firewall.log",
            Format::WindowsFirewall,
        ),
    ];
    let mut checked = 0;
    let files = others
        .iter()
        .map(|r| (*r, None))
        .chain(own.iter().map(|(r, f)| (*r, Some(*f))));
    for (rel, owner) in files {
        let text = read(&dir, rel);
        for format in mine.iter().filter(|f| Some(**f) != owner) {
            let mut parser = LineParser::new(*format, ctx("2024-06-30T00:00:00Z"));
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let raw = line
                    .split_once(" pass = ")
                    .filter(|_| rel.ends_with(".ini"))
                    .map_or(line, |(_, l)| l);
                let got = parser.parse(raw.as_bytes());
                assert!(
                    !matches!(got, Ok(Some(_))),
                    "{format} took a line of {rel}: {raw}"
                );
                checked += 1;
            }
        }
    }
    say(&format!(
        "corpus cross-format: {checked} line parses, no event under a foreign format"
    ));
}

/// IIS times are UTC whatever the source zone says; Windows Firewall `Local` times are not.
#[test]
fn zones_of_the_corpus_files() {
    let Some(dir) = corpus() else { return };
    let mut c = ctx("2024-01-01T00:00:00Z");
    c.timezone = "Europe/Berlin".parse().unwrap();
    let iis = read(&dir, "iis-ftp/ipban-recipe-iis-ftp.log");
    let mut p = LineParser::new(Format::IisFtp, c.clone());
    let events: Vec<Event> = iis
        .lines()
        .filter_map(|l| p.parse(l.as_bytes()).ok().flatten())
        .collect();
    assert_eq!(
        events[0].timestamp,
        "2022-07-05T21:41:06Z".parse::<DateTime<Utc>>().unwrap()
    );
    let fw = read(&dir, "windows-firewall/plaso-firewall.log");
    let mut p = LineParser::new(Format::WindowsFirewall, c);
    let first = fw
        .lines()
        .find_map(|l| p.parse(l.as_bytes()).ok().flatten())
        .unwrap();
    let local = "2005-04-11T08:05:57Z".parse::<DateTime<Utc>>().unwrap();
    assert_eq!(
        first.timestamp,
        local - TimeDelta::hours(2),
        "CEST is UTC+2"
    );
}

/// Every `parsers/fixtures/<format>/<name>.log` of this group against `<name>.expected.jsonl`
/// beside it: one line per input line, the event as `serde_json` prints it or `null`.
/// `UPDATE_FIXTURES=1` rewrites the expected files (review the diff before keeping it).
/// Serv-U fixtures are read with the source's memory (`parse_servu_line_with_state`), the way
/// the format is meant to be read once `LineParser` keeps a Serv-U state.
#[test]
fn fixtures() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
    let mut c = ctx("2024-06-30T00:00:00Z");
    c.host = "192.0.2.10".parse().ok();
    let mut files = 0;
    for format in [
        Format::IisFtp,
        Format::Filezilla,
        Format::ServU,
        Format::WindowsFirewall,
        Format::WsFtp,
    ] {
        files += support::check_fixture_folder(format, &c, &root.join(format.as_str()));
    }
    say(&format!("fixtures: {files} files checked"));
}
