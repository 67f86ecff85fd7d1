//! Conformance of the firewall parsers (pf, filterlog, ASA; nftables through the iptables
//! parser) against the shared real-log corpus (`../shared/corpus/`, read in place), plus the
//! fixtures under `parsers/fixtures/{pf,filterlog,asa,nftables}/`.
//!
//! Without the corpus the corpus tests say SKIPPED and pass, except under `CI=true`.
//!
//! The corpus files of this group carry no field annotations except section names (wazuh
//! `.ini` rule sections, ossec severity sections), so every line is checked against values
//! read from the raw line here, independently of the parsers: the event time, the addresses
//! and ports, the action, the interface. Expected event kinds for ASA message ids are the
//! table in [`asa_kind`] (the mapping documented in `asa/mod.rs`), and the wazuh sections that
//! name an activity (failed login, connection limit, attack, shunned host) are checked
//! against it. Lines that carry no network event must be `Ok(None)`; ASA messages stored
//! without any timestamp are `BadTimestamp` as a whole line, and their message is checked
//! through `asa::parse_asa_message` with a fixed time.

mod support;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use portcullis_parsers::asa::{parse_asa_message, State};
use portcullis_parsers::{
    detect_format, parse_line, Action, ErrorKind, Event, Format, LineParser, ParseContext,
    ParseError, SourceTz, Transport,
};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
#[allow(unused_imports)]
use support::{corpus, expect, say, CORPUS};

fn read(dir: &Path, rel: &str) -> String {
    String::from_utf8(std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .unwrap()
}

fn ctx(now: &str) -> ParseContext {
    let mut c = ParseContext::new(SourceTz::Utc);
    c.now = now.parse().unwrap();
    c
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Lists what does not match in an event.
type Check = Box<dyn Fn(&Event) -> Vec<String>>;

/// What a line must give.
enum Want {
    /// An event; the closure lists what does not match.
    Event(Check),
    /// `Ok(None)`: a well-formed line without a network event.
    Nothing,
    /// A documented rejection.
    Rejected(ErrorKind),
}

impl std::fmt::Debug for Want {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Want::Event(_) => f.write_str("an event"),
            Want::Nothing => f.write_str("Ok(None)"),
            Want::Rejected(k) => write!(f, "a {k:?} rejection"),
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
    /// ASA lines stored without a timestamp (whole line `BadTimestamp`, message checked).
    no_stamp: usize,
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
            no_stamp: 0,
            matched: 0,
            misses: Vec::new(),
        }
    }

    fn check(&mut self, line: &str, got: &Result<Option<Event>, ParseError>, want: Want) {
        self.seen += 1;
        let problems = match (got, want) {
            (Ok(Some(e)), Want::Event(check)) => {
                self.events += 1;
                check(e)
            }
            (Ok(None), Want::Nothing) => {
                self.nothing += 1;
                vec![]
            }
            (Err(e), Want::Rejected(kind)) => {
                self.rejected += 1;
                if e.kind == kind {
                    vec![]
                } else {
                    vec![format!("rejected as {e}, want {kind:?}")]
                }
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
            "corpus {}: lines seen {} / events {} / no event {} / rejected as documented {} / matched {}{}",
            self.file,
            self.seen,
            self.events,
            self.nothing,
            self.rejected,
            self.matched,
            if self.no_stamp > 0 {
                format!(" ({} without a timestamp: line BadTimestamp, message checked)", self.no_stamp)
            } else {
                String::new()
            }
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

// ---------------------------------------------------------------------------------------
// pf (tcpdump text)

/// `205.174.165.231.50425` → (address, port) read the tcpdump way: a fifth dotted part (IPv4)
/// or a part after the last dot of an IPv6 address is the port.
fn tcpdump_host(s: &str) -> (IpAddr, Option<u16>) {
    if let Ok(ip) = s.parse() {
        return (ip, None);
    }
    let (a, p) = s.rsplit_once('.').unwrap();
    (a.parse().unwrap(), Some(p.parse().unwrap()))
}

#[test]
fn ossec_docs_pf() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "pf/ossec-docs-pf.log");
    let c = ctx("2009-06-01T00:00:00Z");
    let mut tally = Tally::new("pf/ossec-docs-pf.log");
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let got = parse_line(Format::Pf, line.as_bytes(), &c);
        // Raw fields: `<syslog> pf: <stamp> rule N/(match) <action> <dir> on <if>: <a> > <b>: <text>`
        let (_, record) = line.split_once(" pf: ").unwrap();
        let (stamp, rest) = record.split_once(" rule ").unwrap();
        let when = NaiveDateTime::parse_from_str(&format!("2009 {stamp}"), "%Y %b %d %H:%M:%S%.f")
            .unwrap()
            .and_utc();
        let words: Vec<&str> = rest.split(' ').collect();
        let (action, dir_word, iface) = (words[1], words[2], words[4].trim_end_matches(':'));
        let (src, dst) = (
            tcpdump_host(words[5]),
            tcpdump_host(words[7].trim_end_matches(':')),
        );
        let payload = rest
            .split_once(": ")
            .unwrap()
            .1
            .split_once(": ")
            .unwrap()
            .1
            .trim_start();
        let transport = if payload.starts_with("udp ") {
            Transport::Udp
        } else if payload.starts_with("icmp:") {
            Transport::Icmp
        } else {
            Transport::Tcp
        };
        let rule = words[0].split('/').next().unwrap().to_string();
        let want_action = if action == "pass" {
            Action::FirewallAllow
        } else {
            Action::FirewallDeny
        };
        let iface = iface.to_string();
        let inbound = dir_word == "in";
        let check = move |e: &Event| {
            let mut p = Vec::new();
            expect(&mut p, "time", e.timestamp, when);
            expect(&mut p, "action", e.action, want_action);
            expect(
                &mut p,
                "source",
                (e.source_ip, e.source_port),
                (Some(src.0), src.1),
            );
            expect(
                &mut p,
                "destination",
                (e.destination_ip, e.destination_port),
                (Some(dst.0), dst.1),
            );
            expect(&mut p, "transport", e.transport, Some(transport));
            let (i, o) = (e.interface_in.as_deref(), e.interface_out.as_deref());
            let want_if = if inbound {
                (Some(iface.as_str()), None)
            } else {
                (None, Some(iface.as_str()))
            };
            expect(&mut p, "interfaces", (i, o), want_if);
            expect(&mut p, "rule", e.rule_name.as_deref(), Some(rule.as_str()));
            expect(&mut p, "host", e.host_name.as_deref(), Some("enigma"));
            p
        };
        tally.check(line, &got, Want::Event(Box::new(check)));
    }
    tally.finish(30);
}

// ---------------------------------------------------------------------------------------
// filterlog (pfSense / OPNsense CSV)

/// Checks a filterlog line against its own CSV fields (split here, not by the parser).
fn filterlog_want(line: &str, when: DateTime<Utc>) -> Want {
    let csv = line.rsplit(' ').next().unwrap();
    let f: Vec<String> = csv.split(',').map(str::to_string).collect();
    let v6 = f[8] == "6";
    let (proto, len) = if v6 { (&f[13], 14) } else { (&f[15], 17) };
    let proto: u8 = proto.parse().unwrap();
    let want_action = match f[6].as_str() {
        "block" => Action::FirewallDeny,
        "pass" => Action::FirewallAllow,
        _ => Action::FirewallLog,
    };
    let src: IpAddr = f[len + 1].parse().unwrap();
    let dst: IpAddr = f[len + 2].parse().unwrap();
    let ports = matches!(proto, 6 | 17).then(|| {
        (
            f[len + 3].parse::<u16>().unwrap(),
            f[len + 4].parse::<u16>().unwrap(),
        )
    });
    let bytes: u64 = f[len].parse().unwrap();
    let (iface, dir) = (f[4].clone(), f[7].clone());
    let flags = (proto == 6).then(|| f[len + 6].clone());
    Want::Event(Box::new(move |e: &Event| {
        let mut p = Vec::new();
        expect(&mut p, "time", e.timestamp, when);
        expect(&mut p, "action", e.action, want_action);
        expect(
            &mut p,
            "addresses",
            (e.source_ip, e.destination_ip),
            (Some(src), Some(dst)),
        );
        expect(
            &mut p,
            "ports",
            e.source_port.zip(e.destination_port),
            ports,
        );
        expect(
            &mut p,
            "transport",
            e.transport.map(Transport::number),
            Some(proto),
        );
        expect(&mut p, "bytes", e.bytes, Some(bytes));
        let got_if = if dir == "in" {
            e.interface_in.as_deref()
        } else {
            e.interface_out.as_deref()
        };
        expect(&mut p, "interface", got_if, Some(iface.as_str()));
        if let Some(flags) = &flags {
            // Only `S` occurs in the corpus: a SYN alone.
            expect(
                &mut p,
                "flags",
                e.tcp_flags.map(|f| f.to_string()),
                Some(if flags == "S" {
                    "SYN".into()
                } else {
                    flags.clone()
                }),
            );
        }
        p
    }))
}

#[test]
fn elastic_pfsense_bsd() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "pf/elastic-integrations-pfsense-bsd.log");
    let c = ctx("2022-12-31T00:00:00Z");
    let mut tally = Tally::new("pf/elastic-integrations-pfsense-bsd.log");
    for line in text.lines().filter(|l| !l.is_empty()) {
        let got = parse_line(Format::Filterlog, line.as_bytes(), &c);
        // `<134>Jul  3 19:10:30 filterlog[72237]: …` — the year from the reference time.
        let stamp = &line[5..20];
        let when = NaiveDateTime::parse_from_str(&format!("2022 {stamp}"), "%Y %b %e %H:%M:%S")
            .unwrap()
            .and_utc();
        tally.check(line, &got, filterlog_want(line, when));
    }
    tally.finish(19);
}

#[test]
fn elastic_opnsense() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "pf/elastic-integrations-opnsense.log");
    // The upstream test pins no year; a reference at the start of 2023 puts `Jan 1` in 2023
    // and `Dec 31` in 2022.
    let c = ctx("2023-01-02T00:00:00Z");
    let mut tally = Tally::new("pf/elastic-integrations-opnsense.log");
    for line in text.lines().filter(|l| !l.is_empty()) {
        let got = parse_line(Format::Filterlog, line.as_bytes(), &c);
        let want = if !line.contains(" filterlog") {
            Want::Nothing // dhcpd and unbound on the same firewall
        } else if let Some(rest) = line.strip_prefix("<134>1 ") {
            let when = DateTime::parse_from_rfc3339(rest.split(' ').next().unwrap()).unwrap();
            filterlog_want(line, when.with_timezone(&Utc))
        } else {
            let stamp = line[5..].split(" firewall").next().unwrap();
            let year = if stamp.starts_with("Jan") { 2023 } else { 2022 };
            let when =
                NaiveDateTime::parse_from_str(&format!("{year} {stamp}"), "%Y %b %e %H:%M:%S")
                    .unwrap()
                    .and_utc();
            filterlog_want(line, when)
        };
        tally.check(line, &got, want);
    }
    tally.finish(5);
}

// ---------------------------------------------------------------------------------------
// Cisco ASA / PIX

/// The event kind a message should give, by id (the mapping documented in `asa/mod.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Deny,
    Allow,
    Log,
    Open,
    Close,
    None,
}

fn asa_kind(id: u32, body: &str) -> Kind {
    let has = |w: &str| body.contains(w);
    match id {
        106100 if has(" denied ") => Kind::Deny,
        106100 => Kind::Allow,
        338000..=338399 if has("Dynamic Filter dropped") => Kind::Deny,
        338000..=338399 if has("Dynamic Filter permitted") => Kind::Allow,
        338000..=338399 if has("Dynamic Filter monitored") => Kind::Log,
        302022 | 302023 => Kind::None,
        302013 | 302015 | 302017 | 302020 => Kind::Open,
        302014 | 302016 | 302018 | 302021 => Kind::Close,
        106001
        | 106006
        | 106007
        | 106010
        | 106011
        | 106012
        | 106014
        | 106015
        | 106016
        | 106017
        | 106020
        | 106021
        | 106022
        | 106023
        | 108004
        | 202010
        | 209005
        | 304002
        | 305006
        | 313001
        | 313004
        | 313005
        | 313008
        | 313009
        | 401004
        | 410001
        | 418001
        | 420002
        | 421001
        | 434002
        | 500003
        | 500004
        | 605004
        | 710003..=710006 => Kind::Deny,
        605005 | 710002 => Kind::Allow,
        710001 | 400000..=400050 | 733100..=733102 => Kind::Log,
        _ => Kind::None,
    }
}

fn kind_of(a: Action) -> Kind {
    match a {
        Action::FirewallDeny => Kind::Deny,
        Action::FirewallAllow => Kind::Allow,
        Action::FirewallLog => Kind::Log,
        Action::ConnectionOpen => Kind::Open,
        Action::ConnectionClose => Kind::Close,
        other => panic!("unexpected action {other:?}"),
    }
}

/// The `%ASA-6-302013` tag's id and the text after it, split here without the parser.
fn asa_tag(line: &str) -> Option<(u32, &str)> {
    let at = line.find("%ASA-").or_else(|| line.find("%PIX-"))?;
    let rest = &line[at..];
    let end = rest.find([':', ' ']).unwrap_or(rest.len());
    let id = rest[..end].rsplit('-').next()?.parse().ok()?;
    Some((id, rest[end..].trim_start_matches(':').trim_start()))
}

/// The address in the token after `kw`: `iface:addr/port(user)` → addr (names give `None`).
/// Interface names may be several words (`NP Identity Ifc: 10.0.0.2/22`).
fn addr_after(body: &str, kw: &str) -> Option<IpAddr> {
    let rest = &body[body.find(kw)? + kw.len()..];
    for tok in rest.split_whitespace().take(4) {
        if tok.ends_with(':') && tok.trim_end_matches(':').parse::<IpAddr>().is_err() {
            continue;
        }
        let t = tok
            .trim_start_matches('(')
            .trim_end_matches([')', ',', ';', ':', '.']);
        let t = t.split(['/', '(']).next()?;
        let ip = t
            .parse()
            .ok()
            .or_else(|| t.rsplit_once(':').and_then(|(_, a)| a.parse().ok()));
        if ip.is_some() || tok.contains('/') {
            return ip;
        }
    }
    None
}

/// The (source, destination) addresses a message names, read from its text; `None` where
/// this check does not apply. `built` holds the orientation of connections built earlier.
fn asa_ends(
    id: u32,
    body: &str,
    built: &mut HashMap<String, bool>,
) -> Option<(Option<IpAddr>, Option<IpAddr>)> {
    // The second keyword is looked for after the first (`Unable to create … from A to B`).
    let kw = |a: &str, b: &str| {
        let after_a = body.find(a).map_or(body, |i| &body[i + a.len()..]);
        Some((addr_after(body, a), addr_after(after_a, b)))
    };
    match id {
        106010 | 106011 | 106014 | 106023 | 305006 | 313005 | 418001 => kw(" src ", " dst "),
        106100 => {
            let (a, b) = body.split_once(" -> ")?;
            let ip = |t: &str| t.split('/').nth(1)?.split('(').next()?.parse().ok();
            Some((ip(a.rsplit(' ').next()?), ip(b.split(' ').next()?)))
        }
        302013..=302016 => {
            let id_word = body
                .split(' ')
                .find(|w| w.bytes().all(|c| c.is_ascii_digit()))?
                .to_string();
            let (f, t) = (addr_after(body, " for "), addr_after(body, " to "));
            let outbound = if body.starts_with("Built") {
                let out = body.starts_with("Built outbound");
                built.insert(id_word, out);
                out
            } else {
                built.get(&id_word).copied().unwrap_or(false)
            };
            Some(if outbound { (t, f) } else { (f, t) })
        }
        302021 if body.contains("faddr") => kw("faddr ", "laddr "),
        313004 => kw("laddr ", " to "),
        313009 => kw(" for ", " to "),
        209005 => kw("src = ", "dest = "),
        304002 => kw(" SRC ", " DEST "),
        401004 => kw("packet: ", " = "),
        313001 => kw(" from ", "\u{0}"),
        733101 if body.contains("attacking") => Some((addr_after(body, "Host "), None)),
        733100..=733102 => None,
        _ if body.contains(" from ") && body.contains(" to ") => kw(" from ", " to "),
        _ => None,
    }
}

/// The stamp in front of an ASA line, read here: `Mmm dd [yyyy] hh:mm:ss [EDT]`.
fn asa_stamp(line: &str, year_now: i32) -> Option<DateTime<Utc>> {
    let line = line
        .strip_prefix('<')
        .map_or(line, |l| l.split_once('>').unwrap().1);
    let w: Vec<&str> = line.split_whitespace().take(5).collect();
    let has_year = w.get(2)?.len() == 4 && !w[2].contains(':');
    let (year, time) = if has_year {
        (w[2].parse().ok()?, w[3])
    } else {
        (year_now, w[2])
    };
    let naive = NaiveDateTime::parse_from_str(
        &format!("{year} {} {} {}", w[0], w[1], time.trim_end_matches(':')),
        "%Y %b %d %H:%M:%S",
    )
    .ok()?;
    let zone = w
        .get(if has_year { 4 } else { 3 })
        .map(|z| z.trim_end_matches(':'));
    let shift = if zone == Some("EDT") { 4 } else { 0 };
    Some(naive.and_utc() + TimeDelta::hours(shift))
}

/// The check of one ASA message: kind, addresses, and (for a whole line) time and host.
fn asa_want(
    line: &str,
    kind: Kind,
    ends: Option<(Option<IpAddr>, Option<IpAddr>)>,
    when: Option<DateTime<Utc>>,
) -> Want {
    if kind == Kind::None {
        return Want::Nothing;
    }
    Want::Event(Box::new(move |e: &Event| {
        let mut p = Vec::new();
        expect(&mut p, "kind", kind_of(e.action), kind);
        if let Some((s, d)) = ends {
            expect(&mut p, "source", e.source_ip, s);
            if d.is_some() || ![Kind::Log].contains(&kind) {
                expect(&mut p, "destination", e.destination_ip, d);
            }
        }
        if let Some(t) = when {
            expect(&mut p, "time", e.timestamp, t);
        }
        p
    }))
    .tap(line)
}

trait Tap {
    fn tap(self, line: &str) -> Self;
}

impl Tap for Want {
    /// Masked addresses in the ossec samples (`***`, `192.168.20/65`) are rejected.
    fn tap(self, line: &str) -> Self {
        if line.contains("***") || line.contains("192.168.20/") {
            Want::Rejected(ErrorKind::BadAddress)
        } else {
            self
        }
    }
}

/// Runs the lines of an ASA corpus file through one `LineParser` (connections pair across
/// lines); lines without a timestamp through `parse_asa_message`.
fn asa_file(
    tally: &mut Tally,
    lines: &[&str],
    now: &str,
    year: i32,
    label: &dyn Fn(&str) -> Option<Kind>,
) {
    let c = ctx(now);
    let mut parser = LineParser::new(Format::Asa, c.clone());
    let mut bare = State::default();
    let mut built = HashMap::new();
    let fixed = utc("2020-01-01T00:00:00Z");
    for line in lines {
        let Some((id, body)) = asa_tag(line) else {
            tally.check(
                line,
                &Ok(None),
                Want::Event(Box::new(|_| vec!["no ASA tag".into()])),
            );
            continue;
        };
        let kind = label(line).unwrap_or_else(|| asa_kind(id, body));
        let ends = asa_ends(id, body, &mut built);
        if line.starts_with('%') {
            // No timestamp at all: the line is rejected, its message still parses.
            tally.no_stamp += 1;
            let whole = parser.parse(line.as_bytes());
            if !matches!(&whole, Err(e) if e.kind == ErrorKind::BadTimestamp && e.offset == 0) {
                tally.misses.push(format!(
                    "whole line: got {whole:?}, want BadTimestamp: {line}"
                ));
            }
            let got = parse_asa_message(line, fixed, &mut bare);
            tally.check(line, &got, asa_want(line, kind, ends, Some(fixed)));
        } else {
            let got = parser.parse(line.as_bytes());
            tally.check(
                line,
                &got,
                asa_want(line, kind, ends, asa_stamp(line, year)),
            );
        }
    }
}

#[test]
fn beats_asa_sample() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "cisco-asa/beats-asa-sample.log");
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let mut tally = Tally::new("cisco-asa/beats-asa-sample.log");
    asa_file(&mut tally, &lines, "2021-12-31T00:00:00Z", 2021, &|_| None);
    tally.finish(73);
}

#[test]
fn ossec_docs_pix() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "cisco-asa/ossec-docs-pix.log");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut tally = Tally::new("cisco-asa/ossec-docs-pix.log");
    // Year-less lines (`Sep  7 06:25:17`, `Jan 28 …`) get the year before the reference.
    asa_file(&mut tally, &lines, "2005-12-31T00:00:00Z", 2005, &|_| None);
    tally.finish(98);
}

/// The kind a wazuh section's rule demands, where the rule names an activity; `None` for the
/// severity-class rules, whose lines follow the message-id table.
fn wazuh_rule_kind(rule: &str) -> Option<Kind> {
    Some(match rule {
        "64001" | "64002" | "64003" | "64004" | "64005" | "64006" => return None,
        "64007" => Kind::Deny, // Failed login attempt (management login refused)
        "64009" => Kind::Allow, // Successful login (management login accepted)
        "64012" | "64013" | "64017" => Kind::Deny, // shunned IP, connection limit, attack
        // Privilege change, enable password, ARP collision, AAA, disallowing connections,
        // failover, configuration and accounting: no network event.
        _ => Kind::None,
    })
}

#[test]
fn wazuh_cisco_asa_ini() {
    let Some(dir) = corpus() else { return };
    let text = read(&dir, "cisco-asa/wazuh-cisco_asa.ini");
    let mut sections: Vec<(Vec<&str>, &str)> = Vec::new();
    let (mut logs, mut rule) = (Vec::new(), "");
    for line in text.lines().chain(std::iter::once("[end]")) {
        if line.starts_with('[') {
            if !logs.is_empty() {
                sections.push((std::mem::take(&mut logs), rule));
            }
        } else if let Some((key, value)) = line.split_once(" = ") {
            match key.trim() {
                k if k.starts_with("log ") => {
                    assert!(
                        k.ends_with(" pass"),
                        "only `pass` logs in this file: {line}"
                    );
                    logs.push(value);
                }
                "rule" => rule = value.trim(),
                "alert" => {}
                "decoder" => assert_eq!(value.trim(), "cisco-asa"),
                other => panic!("unknown key {other}"),
            }
        }
    }
    let mut tally = Tally::new("cisco-asa/wazuh-cisco_asa.ini");
    for (logs, rule) in &sections {
        let label = wazuh_rule_kind(rule);
        asa_file(&mut tally, logs, "2018-12-31T00:00:00Z", 2018, &|_| label);
        if rule == &"64007" || rule == &"64009" {
            // The login sections name the user.
            let e = parse_asa_message(logs[0], utc("2020-01-01T00:00:00Z"), &mut State::default())
                .unwrap()
                .unwrap();
            assert!(e.user_name.is_some(), "{}", logs[0]);
        }
    }
    tally.finish(88);
}

// ---------------------------------------------------------------------------------------
// Detection and exclusivity

#[test]
fn corpus_files_are_detected_as_their_format() {
    let Some(dir) = corpus() else { return };
    let c = ctx("2022-12-31T00:00:00Z");
    let cases = [
        ("pf/ossec-docs-pf.log", Format::Pf),
        ("pf/elastic-integrations-pfsense-bsd.log", Format::Filterlog),
        ("pf/elastic-integrations-opnsense.log", Format::Filterlog),
        ("cisco-asa/beats-asa-sample.log", Format::Asa),
        ("cisco-asa/ossec-docs-pix.log", Format::Asa),
    ];
    for (rel, want) in cases {
        let text = read(&dir, rel);
        assert_eq!(detect_format(text.as_bytes(), &c), Some(want), "{rel}");
    }
}

/// The firewall parsers give no event for any line of the other formats' corpus files.
#[test]
fn other_formats_are_not_firewall_events() {
    let Some(dir) = corpus() else { return };
    let c = ctx("2022-12-31T00:00:00Z");
    let mut checked = 0;
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .to_string();
            let own = rel.starts_with("pf/")
                || rel.starts_with("cisco-asa/")
                || rel.starts_with("netflow/");
            if own || rel.ends_with(".json") || rel.ends_with(".md") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for line in bytes.split(|&b| b == b'\n') {
                for format in [Format::Pf, Format::Filterlog, Format::Asa] {
                    let got = parse_line(format, line, &c);
                    assert!(
                        !matches!(got, Ok(Some(_))),
                        "{format} took a line of {rel}: {}",
                        String::from_utf8_lossy(line)
                    );
                }
                checked += 1;
            }
        }
    }
    say(&format!(
        "firewall parsers: no event from {checked} lines of other formats"
    ));
    assert!(checked > 500);
    // Across the group: pf text, filterlog and ASA do not take each other's lines.
    for (rel, own) in [
        ("pf/ossec-docs-pf.log", Format::Pf),
        ("pf/elastic-integrations-pfsense-bsd.log", Format::Filterlog),
        ("cisco-asa/beats-asa-sample.log", Format::Asa),
    ] {
        for line in read(&dir, rel).lines() {
            for format in [Format::Pf, Format::Filterlog, Format::Asa, Format::Iptables] {
                if format != own {
                    let got = parse_line(format, line.as_bytes(), &c);
                    assert!(
                        !matches!(got, Ok(Some(_))),
                        "{format} took a line of {rel}: {line}"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures

/// Every `parsers/fixtures/{pf,filterlog,asa,nftables}/<name>.log` against the
/// `<name>.expected.jsonl` beside it: one line per input line, the event as `serde_json`
/// prints it or `null`. nftables lines are read by the iptables parser. `UPDATE_FIXTURES=1`
/// rewrites the expected files (review the diff before keeping it).
#[test]
fn fixtures() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
    let c = ctx("2024-06-30T00:00:00Z");
    let mut files = 0;
    for (folder, format) in [
        ("pf", Format::Pf),
        ("filterlog", Format::Filterlog),
        ("asa", Format::Asa),
        ("nftables", Format::Iptables),
    ] {
        files += support::check_fixture_folder(format, &c, &root.join(folder));
    }
    say(&format!("firewall fixtures: {files} files match"));
}

/// The nftables fixture, line by line: what each nft log line must mean.
#[test]
fn nftables_lines() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/nftables/nft-log.log");
    let text = std::fs::read_to_string(path).unwrap();
    let c = ctx("2024-06-30T00:00:00Z");
    let got: Vec<Option<Event>> = text
        .lines()
        .map(|l| {
            parse_line(Format::Iptables, l.as_bytes(), &c).unwrap_or_else(|e| panic!("{e}: {l}"))
        })
        .collect();
    type Row<'a> = (
        Action,
        &'a str,
        Option<u16>,
        &'a str,
        Option<u16>,
        Option<Transport>,
        Option<&'a str>,
    );
    let rows: Vec<Option<Row>> = got
        .iter()
        .map(|e| {
            e.as_ref().map(|e| {
                let s = Box::leak(e.source_ip.unwrap().to_string().into_boxed_str()) as &str;
                let d = Box::leak(e.destination_ip.unwrap().to_string().into_boxed_str()) as &str;
                (
                    e.action,
                    s,
                    e.source_port,
                    d,
                    e.destination_port,
                    e.transport,
                    e.rule_name.as_deref(),
                )
            })
        })
        .collect();
    use Action::*;
    let tcp = Some(Transport::Tcp);
    let want: Vec<Option<Row>> = vec![
        Some((
            FirewallDeny,
            "198.51.100.23",
            Some(51514),
            "192.0.2.10",
            Some(22),
            tcp,
            Some("nft drop in"),
        )),
        // `log flags all`: SEQ=/ACK=/OPT/UID= do not disturb the fields.
        Some((
            FirewallAllow,
            "192.0.2.10",
            Some(40222),
            "203.0.113.5",
            Some(443),
            tcp,
            Some("nft accept out"),
        )),
        // Bridge family with `log flags ether`: MACSRC/MACDST/MACPROTO instead of MAC=.
        Some((
            FirewallDeny,
            "10.0.0.5",
            None,
            "10.0.0.9",
            None,
            Some(Transport::Icmp),
            Some("br-drop"),
        )),
        // An ARP packet in the bridge family has no IP addresses: no event.
        None,
        Some((
            FirewallDeny,
            "2001:db8::5",
            None,
            "2001:db8::1",
            None,
            Some(Transport::Icmpv6),
            Some("nft drop in"),
        )),
        // VLAN tag fields (VPROTO=, VID=) before MACPROTO=.
        Some((
            FirewallLog,
            "192.168.10.2",
            Some(55848),
            "192.0.2.80",
            Some(80),
            tcp,
            Some("vlan10 in"),
        )),
        Some((
            FirewallDeny,
            "203.0.113.77",
            Some(5353),
            "192.0.2.10",
            Some(5353),
            Some(Transport::Udp),
            Some("[nftables] Inbound Denied"),
        )),
        // A prefix without a trailing space is glued to IN=.
        Some((
            FirewallLog,
            "198.51.100.99",
            Some(61000),
            "192.0.2.10",
            Some(2222),
            tcp,
            Some("nft-ssh"),
        )),
        Some((
            FirewallDeny,
            "10.0.0.5",
            None,
            "198.51.100.1",
            None,
            Some(Transport::Other(47)),
            Some("fwd reject"),
        )),
        Some((
            FirewallLog,
            "198.51.100.40",
            Some(443),
            "192.168.0.135",
            Some(49412),
            tcp,
            Some("* new-not-syn *"),
        )),
        Some((
            FirewallDeny,
            "198.51.100.23",
            Some(5000),
            "192.0.2.10",
            Some(38412),
            Some(Transport::Other(132)),
            Some("nft drop in"),
        )),
        // ICMP error: the outer packet, not the quoted one.
        Some((
            FirewallDeny,
            "192.0.2.1",
            None,
            "192.0.2.10",
            None,
            Some(Transport::Icmp),
            Some("nft reject"),
        )),
    ];
    assert_eq!(rows.len(), want.len());
    for (i, (g, w)) in rows.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "nft-log.log line {}", i + 1);
    }
    let flags = got[1].as_ref().unwrap().tcp_flags.unwrap().to_string();
    assert_eq!(flags, "SYN");
    let flags = got[5].as_ref().unwrap().tcp_flags.unwrap().to_string();
    assert_eq!(flags, "FIN ACK");
    let e = got[6].as_ref().unwrap();
    assert_eq!(e.timestamp, utc("2024-03-03T09:15:48.123456Z"));
    assert_eq!(
        NaiveDate::from_ymd_opt(2024, 3, 3),
        Some(got[0].as_ref().unwrap().timestamp.date_naive())
    );
}
