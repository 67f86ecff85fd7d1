//! Throughput of the IIS FTP, FileZilla, Serv-U and Windows Firewall parsers on ~200k
//! synthetic but realistic lines per format, parsed in order by one `LineParser` per source
//! (these formats remember `#Fields:` and sessions across lines).
//! Run: `cargo bench -p portcullis-parsers --bench ftp_windows`. Prints MB/s and lines/s.
//! `PARSE_BENCH=<part of a name>` selects benches, `PARSE_BENCH_ROUNDS=n` sets the rounds.

mod common;

use common::{thread_cpu_ns, Rng};
use portcullis_parsers::servu::{parse_servu_line_with_state, State as ServuState};
use portcullis_parsers::{Format, LineParser, ParseContext, SourceTz};
use std::hint::black_box;
use std::time::{Duration, Instant};

const LINES: usize = 200_000;

const ROUNDS: usize = 5;

impl Rng {
    fn guid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

const USERS: [&str; 6] = [
    "alice",
    "bob",
    "anonymous",
    "backup",
    "administrator",
    "www",
];
const FILES: [&str; 4] = [
    "/pub/iso/debian-12.5.0-amd64-netinst.iso",
    "/incoming/report.pdf",
    "/site/index.php",
    "/a.php",
];

/// Clock for line `i`: 3 s apart, over days.
fn clock(i: usize) -> (u64, u64, u64, u64) {
    let t = i as u64 * 3;
    (1 + (t / 86400) % 28, (t / 3600) % 24, (t / 60) % 60, t % 60)
}

/// A session of `n` lines at a time, each line built by `line(step, session, rng)`.
fn sessions(rng: &mut Rng, mut line: impl FnMut(usize, usize, &mut Rng) -> String) -> Vec<String> {
    let mut out = Vec::with_capacity(LINES);
    let mut session = 0;
    while out.len() < LINES {
        session += 1;
        for step in 0..8 {
            out.push(line(step, session, rng));
            if out.len() == LINES {
                break;
            }
        }
    }
    out
}

fn iis_lines(rng: &mut Rng) -> Vec<String> {
    let mut lines = vec![
        "#Software: Microsoft Internet Information Services 10.0".to_string(),
        "#Version: 1.0".to_string(),
        "#Date: 2024-03-01 00:00:00".to_string(),
        "#Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem sc-status sc-win32-status sc-substatus x-session x-fullpath".to_string(),
    ];
    let (mut ip, mut guid, mut user) = (String::new(), String::new(), "");
    lines.extend(sessions(rng, |step, _, rng| {
        if step == 0 {
            (ip, guid, user) = (rng.ip(), rng.guid(), USERS[rng.below(6) as usize]);
        }
        let file = FILES[rng.below(4) as usize];
        let (who, method, arg, status, win32, path) = match step {
            0 => ("-", "ControlChannelOpened", "-", "-", "0", "-"),
            1 => ("-", "USER", user, "331", "0", "-"),
            2 if rng.below(3) == 0 => ("-", "PASS", "***", "230", "0", "/"),
            2 => ("-", "PASS", "***", "530", "1326", "-"),
            3 => (user, "CWD", "/", "250", "0", "-"),
            4 => (user, "RETR", "f", "226", "0", file),
            5 => (user, "STOR", "f", "550", "5", file),
            6 => (user, "QUIT", "-", "221", "0", "-"),
            _ => (user, "ControlChannelClosed", "-", "-", "0", "-"),
        };
        format!("2024-03-{{D}} {{T}} {ip} {who} 192.0.2.10 21 {method} {arg} {status} {win32} 0 {guid} {path}")
    }));
    for (i, l) in lines.iter_mut().enumerate().skip(4) {
        let (d, h, m, s) = clock(i);
        *l = l
            .replace("{D}", &format!("{d:02}"))
            .replace("{T}", &format!("{h:02}:{m:02}:{s:02}"));
    }
    lines
}

fn filezilla_1x_lines(rng: &mut Rng) -> Vec<String> {
    let mut ip = String::new();
    let mut lines = sessions(rng, |step, id, rng| {
        if step == 0 {
            ip = rng.ip();
        }
        let user = USERS[id % 6];
        let file = FILES[rng.below(4) as usize];
        let body = match step {
            0 => format!("<< [FTP Session {id} {ip}] 220 Please visit https://filezilla-project.org/"),
            1 => format!(">> [FTP Session {id} {ip}] USER {user}"),
            2 => format!("DI [Throttled Authenticator, FTP Session: {id}] Authenticating user {user} from IP {ip}."),
            3 => format!("<< [FTP Session {id} {ip}] 331 Please, specify the password."),
            4 => format!(">> [FTP Session {id} {ip}] PASS ****"),
            5 if rng.below(2) == 0 => format!("DI [Throttled Authenticator, FTP Session: {id}] Recording failed login for user {user} from IP {ip}."),
            5 => format!("<< [FTP Session {id} {ip} {user}] 230 Login successful."),
            6 => format!(">> [FTP Session {id} {ip} {user}] RETR {file}"),
            _ => format!("<< [FTP Session {id} {ip} {user}] 226 Operation successful"),
        };
        format!("{{TS}} {body}")
    });
    for (i, l) in lines.iter_mut().enumerate() {
        let (d, h, m, s) = clock(i);
        *l = l.replace(
            "{TS}",
            &format!("2024-04-{d:02}T{h:02}:{m:02}:{s:02}.{:03}Z", i % 1000),
        );
    }
    lines
}

fn filezilla_09_lines(rng: &mut Rng) -> Vec<String> {
    let mut ip = String::new();
    let mut lines = sessions(rng, |step, id, rng| {
        if step == 0 {
            ip = rng.ip();
        }
        let user = USERS[id % 6];
        let who = if step >= 6 { user } else { "(not logged in)" };
        let msg = match step {
            0 => "Connected on port 21, sending welcome message...".to_string(),
            1 => "220 Please visit https://filezilla-project.org/".to_string(),
            2 => format!("USER {user}"),
            3 => format!("331 Password required for {user}"),
            4 => "PASS ********".to_string(),
            5 if rng.below(2) == 0 => "530 Login or password incorrect!".to_string(),
            5 => "230 Logged on".to_string(),
            6 => format!("RETR {}", FILES[rng.below(4) as usize]),
            _ => "226 Successfully transferred".to_string(),
        };
        format!("({id:06}) {{D}} - {who} ({ip})> {msg}")
    });
    for (i, l) in lines.iter_mut().enumerate() {
        let (d, h, m, s) = clock(i);
        *l = l.replace("{D}", &format!("{d:02}/04/2024 {h:02}:{m:02}:{s:02}"));
    }
    lines
}

fn servu_lines(rng: &mut Rng) -> Vec<String> {
    let mut ip = String::new();
    let mut lines = sessions(rng, |step, id, rng| {
        if step == 0 {
            ip = rng.ip();
        }
        let user = USERS[id % 6];
        let msg = match step {
            0 => format!("Connected to {ip} (Local address 192.0.2.10, port 21)"),
            1 => format!("USER {user}"),
            2 => "331 User name okay, need password.".to_string(),
            3 => "PASS ***".to_string(),
            4 if rng.below(2) == 0 => "530 Not logged in.".to_string(),
            4 => "230 User logged in, proceed.".to_string(),
            5 => format!(
                "Sent file \"C:\\ftp{}\" successfully (986.49 kB/sec - {} Bytes)",
                FILES[rng.below(4) as usize],
                rng.below(10_000_000)
            ),
            6 => "226 Transfer complete.".to_string(),
            _ => "Closed session".to_string(),
        };
        format!("[{:02}] {{D}} - ({id:06}) {msg}", 1 + step)
    });
    for (i, l) in lines.iter_mut().enumerate() {
        let (d, h, m, s) = clock(i);
        *l = l.replace("{D}", &format!("Mon {d:02}Apr24 {h:02}:{m:02}:{s:02}"));
    }
    lines
}

fn wsftp_lines(rng: &mut Rng) -> Vec<String> {
    let mut ip = String::new();
    let mut lines = sessions(rng, |step, id, rng| {
        if step == 0 {
            ip = rng.ip();
        }
        let user = USERS[id % 6];
        let head = format!("ftp.example.net S(0) {ip} {user}");
        let file = FILES[rng.below(4) as usize];
        let msg = match step {
            0 => format!(
                "{ip}:{} connected to 192.0.2.10:21",
                1024 + rng.below(60_000)
            ),
            1 if rng.below(2) == 0 => format!("{head} logon failure (A2)"),
            1 => format!("{head} logon success (A1)"),
            2 => format!(
                "{head} STOR /upload{file} ({} bytes, {} ms)",
                rng.below(10_000_000),
                rng.below(5_000)
            ),
            3 => format!("{head} RETR /pub{file}"),
            4 => format!("{head} CWD /pub"),
            5 => format!("{head} DELE /upload{file}"),
            6 => format!("{head} logoff R:1 D:1 P:0"),
            _ => format!("{ip} connection closed"),
        };
        format!("{{D}} ({id:08x}) {msg}")
    });
    for (i, l) in lines.iter_mut().enumerate() {
        let (d, h, m, s) = clock(i);
        *l = l.replace("{D}", &format!("04{d:02} {h:02}:{m:02}:{s:02}"));
    }
    lines
}

fn winfw_lines(rng: &mut Rng) -> Vec<String> {
    let mut lines = vec![
        "#Version: 1.5".to_string(),
        "#Software: Microsoft Windows Firewall".to_string(),
        "#Time Format: Local".to_string(),
        "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid".to_string(),
    ];
    for i in 0..LINES {
        let (d, h, m, s) = clock(i);
        let (src, dst) = (rng.ip(), rng.ip());
        let sport = 1024 + rng.below(64000);
        let body = match rng.below(10) {
            0..=5 => format!(
                "DROP TCP {src} {dst} {sport} {} {} S {} 0 64240 - - - RECEIVE 4",
                [21, 22, 445, 3389, 2121][rng.below(5) as usize],
                40 + rng.below(20),
                rng.next() >> 33
            ),
            6 | 7 => format!(
                "ALLOW UDP {src} {dst} {sport} 53 {} - - - - - - - SEND {}",
                40 + rng.below(400),
                rng.below(9000)
            ),
            8 => format!(
                "ALLOW TCP {src} {dst} {sport} 443 0 - 0 0 0 - - - SEND {}",
                rng.below(9000)
            ),
            _ => format!("DROP ICMP {src} {dst} - - 60 - - - - 8 0 - RECEIVE 0"),
        };
        lines.push(format!("2024-04-{d:02} {h:02}:{m:02}:{s:02} {body}"));
    }
    lines
}

/// Parses `lines` laid out as one file-like buffer split with memchr, as the tailer does.
fn bench(name: &str, lines: &[String], mut parse: impl FnMut(&[u8]) -> bool, min_events: usize) {
    if let Ok(filter) = std::env::var("PARSE_BENCH") {
        if !name.contains(filter.as_str()) {
            return;
        }
    }
    let mut buf = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        buf.extend_from_slice(l.as_bytes());
        buf.push(b'\n');
    }
    let rounds = std::env::var("PARSE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    let mut best = Duration::MAX;
    let mut best_cpu = u64::MAX;
    let mut events = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let cpu_start = thread_cpu_ns();
        events = 0;
        let mut rest = black_box(&buf[..]);
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            events += usize::from(parse(&rest[..nl]));
            rest = &rest[nl + 1..];
        }
        best = best.min(start.elapsed());
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_ns()) {
            best_cpu = best_cpu.min(b.saturating_sub(a).max(1));
        }
    }
    assert!(
        events >= min_events,
        "{name}: {events} events, expected at least {min_events}"
    );
    let secs = best.as_secs_f64();
    let cpu = if best_cpu == u64::MAX {
        String::new()
    } else {
        format!(
            ", on-CPU {:.1} MB/s",
            buf.len() as f64 / (best_cpu as f64 / 1e9) / 1e6
        )
    };
    println!(
        "{name:<30} {:>8.1} MB/s {:>10.0} lines/s{cpu}  ({} lines, {} events, avg {} B/line, best of {rounds})",
        buf.len() as f64 / secs / 1e6,
        lines.len() as f64 / secs,
        lines.len(),
        events,
        buf.len() / lines.len(),
    );
}

/// A bench over a `LineParser` of `format` (one parser for every round: sessions repeat as in
/// a long-running source, and the parser's state is part of the cost).
fn bench_format(
    name: &str,
    format: Format,
    lines: &[String],
    ctx: &ParseContext,
    min_events: usize,
) {
    let mut p = LineParser::new(format, ctx.clone());
    bench(
        name,
        lines,
        |l| match p.parse(l) {
            Ok(Some(e)) => {
                black_box(&e);
                true
            }
            Ok(None) => false,
            Err(e) => panic!("{name}: {e}: {}", String::from_utf8_lossy(l)),
        },
        min_events,
    );
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let utc = {
        let mut c = ParseContext::new(SourceTz::Utc);
        c.now = "2024-06-01T00:00:00Z".parse().unwrap();
        c.host = "192.0.2.10".parse().ok();
        c
    };
    let berlin = ParseContext {
        timezone: "Europe/Berlin".parse().unwrap(),
        ..utc.clone()
    };
    let iis = iis_lines(&mut rng);
    let fz1 = filezilla_1x_lines(&mut rng);
    let fz09 = filezilla_09_lines(&mut rng);
    let servu = servu_lines(&mut rng);
    let fw = winfw_lines(&mut rng);
    let wsftp = wsftp_lines(&mut rng);
    bench_format(
        "iis-ftp (W3C, IIS 10)",
        Format::IisFtp,
        &iis,
        &utc,
        LINES / 2,
    );
    bench_format("filezilla 1.x", Format::Filezilla, &fz1, &utc, LINES / 4);
    bench_format(
        "filezilla 0.9 (Berlin)",
        Format::Filezilla,
        &fz09,
        &berlin,
        LINES / 4,
    );
    let mut state = ServuState::default();
    bench(
        "serv-u (with state, Berlin)",
        &servu,
        |l| match parse_servu_line_with_state(l, &berlin, &mut state) {
            Ok(Some(e)) => {
                black_box(&e);
                true
            }
            Ok(None) => false,
            Err(e) => panic!("serv-u: {e}"),
        },
        LINES / 4,
    );
    bench_format(
        "windows-firewall (UTC)",
        Format::WindowsFirewall,
        &fw,
        &utc,
        LINES,
    );
    bench_format(
        "windows-firewall (Berlin)",
        Format::WindowsFirewall,
        &fw,
        &berlin,
        LINES,
    );
    bench_format("ws-ftp (Berlin)", Format::WsFtp, &wsftp, &berlin, LINES / 2);
}
