//! Throughput of the Unix FTP server parsers (xferlog, ProFTPD syslog, ProFTPD ExtendedLog,
//! Pure-FTPd, Bftpd, and OpenSSH's sshd which shares their syslog form) on ~200k synthetic but realistic lines each, read through one `LineParser` per
//! source as the pipeline does. Run: `cargo bench -p portcullis-parsers --bench ftp_unix`.
//! `FTP_BENCH=<part of a name>` selects benches, `FTP_BENCH_ROUNDS=n` sets the rounds.

mod common;

use common::{thread_cpu_ns, Rng};
use portcullis_parsers::{Format, LineParser, ParseContext, SourceTz};
use std::hint::black_box;
use std::time::{Duration, Instant};

const LINES: usize = 200_000;
const ROUNDS: usize = 5;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const USERS: [&str; 6] = ["alice", "bob", "backup", "www-data", "admin", "deploy"];
const FILES: [&str; 5] = [
    "/pub/linux/iso/debian-12.5.0-amd64-netinst.iso",
    "/incoming/report.pdf",
    "/home/bob/site/index.php",
    "/srv/ftp/pub/README",
    "/var/www/html/wp-content/uploads/2024/03/photo.jpg",
];

/// Time of line `i` (3 s apart) as hour, minute, second and day of March.
fn clock(i: usize) -> (u64, u64, u64, u64) {
    let t = i as u64 * 3;
    ((t / 3600) % 24, (t / 60) % 60, t % 60, 1 + (t / 86400) % 28)
}

fn xferlog_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (h, m, s, day) = clock(i);
            let wd = WEEKDAYS[(day % 7) as usize];
            let ip = match rng.below(4) {
                0 => format!("::ffff:{}", rng.ip()),
                _ => rng.ip(),
            };
            let (mode, user) = match rng.below(5) {
                0 => ("a", "guest@example.com"),
                _ => ("r", rng.pick(&USERS)),
            };
            format!(
                "{wd} Mar {day:2} {h:02}:{m:02}:{s:02} 2024 {} {ip} {} {} b _ {} {mode} {user} ftp 0 * {}",
                rng.below(120),
                rng.below(50_000_000),
                rng.pick(&FILES),
                rng.pick(&["o", "o", "i", "d"]),
                rng.pick(&["c", "c", "c", "i"]),
            )
        })
        .collect()
}

fn proftpd_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (h, m, s, day) = clock(i);
            let ip = rng.ip();
            let user = rng.pick(&USERS);
            let msg = match rng.below(8) {
                0 | 1 => "FTP session opened.".to_string(),
                2 | 3 => format!("USER {user} (Login failed): Incorrect password."),
                4 => format!(
                    "USER {user}: no such user found from {ip} [{ip}] to 198.51.100.10:21"
                ),
                5 => format!("USER {user}: Login successful."),
                6 => "FTP session closed.".to_string(),
                _ => "SECURITY VIOLATION: root login attempted.".to_string(),
            };
            format!(
                "Mar {day:2} {h:02}:{m:02}:{s:02} ftp01 proftpd[{}] ftp01.example.com ({ip}[{ip}]): {msg}",
                1000 + rng.below(60000)
            )
        })
        .collect()
}

fn extended_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (h, m, s, day) = clock(i);
            let user = rng.pick(&USERS);
            let file = rng.pick(&FILES);
            let (req, status, bytes) = match rng.below(6) {
                0 => (format!("USER {user}"), 331, "-".to_string()),
                1 => ("PASS (hidden)".to_string(), 530, "-".to_string()),
                2 => ("PASS (hidden)".to_string(), 230, "-".to_string()),
                3 => (format!("RETR {file}"), 226, rng.below(9_999_999).to_string()),
                4 => (format!("STOR {file}"), 226, rng.below(99_999).to_string()),
                _ => ("CWD /pub".to_string(), 250, "-".to_string()),
            };
            format!(
                "{} UNKNOWN {user} [{day:02}/Mar/2024:{h:02}:{m:02}:{s:02} +0000] \"{req}\" {status} {bytes}",
                rng.ip()
            )
        })
        .collect()
}

/// The same commands in a richer LogFormat.
const RICH: &str =
    "%{iso8601} %a:%{remote-port} -> %L:%p [%P] %u \"%m\" \"%J\" %s \"%S\" %b %T %{protocol}";

fn rich_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (h, m, s, day) = clock(i);
            let user = rng.pick(&USERS);
            let file = rng.pick(&FILES);
            let (cmd, arg, status, text) = match rng.below(4) {
                0 => ("PASS", "(hidden)", 530, "Login incorrect."),
                1 => ("RETR", file, 226, "Transfer complete"),
                2 => ("STOR", file, 226, "Transfer complete"),
                _ => ("CWD", "/pub", 250, "CWD command successful"),
            };
            format!(
                "2024-03-{day:02} {h:02}:{m:02}:{s:02},{:03} {}:{} -> 198.51.100.10:21 [{}] {user} \"{cmd}\" \"{arg}\" {status} \"{text}\" {} 0.{:03} ftp",
                rng.below(1000),
                rng.ip(),
                1024 + rng.below(60000),
                1000 + rng.below(60000),
                rng.below(9_999_999),
                rng.below(1000),
            )
        })
        .collect()
}

fn pureftpd_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (h, m, s, day) = clock(i);
            let ip = rng.ip();
            let user = rng.pick(&USERS);
            let file = rng.pick(&FILES);
            let (who, body) = match rng.below(6) {
                0 | 1 => ("?", format!("[INFO] New connection from {ip}")),
                2 | 3 => (
                    "?",
                    format!("[WARNING] Authentication failed for user [{user}]"),
                ),
                4 => ("?", format!("[INFO] {user} is now logged in")),
                _ => (
                    user,
                    format!(
                        "[NOTICE] {file} uploaded  ({} bytes, {}.{:02}KB/sec)",
                        rng.below(9_999_999),
                        rng.below(9000),
                        rng.below(100)
                    ),
                ),
            };
            format!("Mar {day:2} {h:02}:{m:02}:{s:02} ftp02 pure-ftpd: ({who}@{ip}) {body}")
        })
        .collect()
}

/// RFC 5424 form of an RFC 3164 line `Mar dd hh:mm:ss host prog[pid]: msg` / `prog: msg`.
fn to_rfc5424(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let (stamp, rest) = l.split_at(15);
            let day: u32 = stamp[4..6].trim().parse().unwrap();
            let (host, rest) = rest.trim_start().split_once(' ').unwrap();
            let (tag, msg) = rest.split_once(' ').unwrap();
            let tag = tag.trim_end_matches(':');
            let (app, pid) = match tag.split_once('[') {
                Some((a, p)) => (a, p.trim_end_matches(']')),
                None => (tag, "-"),
            };
            format!(
                "<30>1 2024-03-{day:02}T{}Z {host} {app} {pid} - - {msg}",
                &stamp[7..15]
            )
        })
        .collect()
}

/// Parses `lines` laid out as one file-like buffer through one `LineParser`, splitting it with
/// memchr as the tailer does (split and parse are both timed).
fn bench(name: &str, format: Format, lines: &[String], ctx: &ParseContext) {
    if let Ok(filter) = std::env::var("FTP_BENCH") {
        if !name.contains(filter.as_str()) {
            return;
        }
    }
    let mut buf = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        buf.extend_from_slice(l.as_bytes());
        buf.push(b'\n');
    }
    let rounds = std::env::var("FTP_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    let mut best = Duration::MAX;
    let mut best_cpu = u64::MAX;
    let (mut events, mut rejected) = (0, 0);
    for _ in 0..rounds {
        let mut parser = LineParser::new(format, ctx.clone());
        let cpu_start = thread_cpu_ns();
        let start = Instant::now();
        (events, rejected) = (0, 0);
        let mut rest = black_box(&buf[..]);
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            match parser.parse(&rest[..nl]) {
                Ok(Some(e)) => {
                    black_box(&e);
                    events += 1;
                }
                Ok(None) => {}
                Err(_) => rejected += 1,
            }
            rest = &rest[nl + 1..];
        }
        best = best.min(start.elapsed());
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_ns()) {
            best_cpu = best_cpu.min(b.saturating_sub(a).max(1));
        }
    }
    assert_eq!(rejected, 0, "{name}: every generated line must parse");
    let secs = best.as_secs_f64();
    let cpu = if best_cpu == u64::MAX {
        String::new()
    } else {
        let cpu_secs = best_cpu as f64 / 1e9;
        format!(
            " | on-CPU {:>6.1} MB/s {:>9.0} lines/s",
            buf.len() as f64 / cpu_secs / 1e6,
            lines.len() as f64 / cpu_secs
        )
    };
    println!(
        "{name:<32} {:>6.1} MB/s {:>9.0} lines/s{cpu}  ({} lines, {} events, {:.1} MB, avg {} B/line, best of {rounds})",
        buf.len() as f64 / secs / 1e6,
        lines.len() as f64 / secs,
        lines.len(),
        events,
        buf.len() as f64 / 1e6,
        buf.len() / lines.len(),
    );
}

/// Bftpd log-file lines: sessions of six lines (connection, failed logins, a login, a
/// transfer), one process id each, so logins find their client in the connection memory.
fn bftpd_lines(rng: &mut Rng) -> Vec<String> {
    let mut ip = String::new();
    (0..LINES)
        .map(|i| {
            let (h, m, s, day) = clock(i);
            let pid = 1000 + (i / 6) % 30_000;
            let user = rng.pick(&USERS);
            let file = rng.pick(&FILES);
            let body = match i % 6 {
                0 => {
                    ip = rng.ip();
                    format!("Incoming connection from {ip}.")
                }
                1 | 2 => format!("Login as user '{user}' failed."),
                3 => format!("Successfully logged in as user '{user}'."),
                4 => format!("Client is storing file '{file}'."),
                _ => format!("Client is receiving file '{file}'."),
            };
            let wd = WEEKDAYS[(day % 7) as usize];
            format!("{wd} Mar {day:2} {h:02}:{m:02}:{s:02} 2024 bftpd[{pid}]: {body}")
        })
        .collect()
}

/// The same Bftpd lines as syslog writes them (`LOGFILE="syslog"`).
fn bftpd_syslog_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| format!("{} ftp03 {}", &l[4..19], &l[25..]))
        .collect()
}

/// OpenSSH server lines as auth.log holds them: failures, invalid users, acceptances, PAM.
fn sshd_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (h, m, s, day) = clock(i);
            let ip = rng.ip();
            let user = rng.pick(&USERS);
            let port = 1024 + rng.below(60_000);
            let body = match rng.below(6) {
                0 | 1 => format!("Failed password for {user} from {ip} port {port} ssh2"),
                2 => format!("Failed password for invalid user {user} from {ip} port {port} ssh2"),
                3 => format!("Invalid user {user} from {ip} port {port}"),
                4 => format!(
                    "Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:c2FtcGxlIGtleQ"
                ),
                _ => format!(
                    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}"
                ),
            };
            format!("Mar {day:2} {h:02}:{m:02}:{s:02} bastion sshd[{}]: {body}", 1000 + i % 30_000)
        })
        .collect()
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let xferlog = xferlog_lines(&mut rng);
    let proftpd = proftpd_lines(&mut rng);
    let extended = extended_lines(&mut rng);
    let rich = rich_lines(&mut rng);
    let pureftpd = pureftpd_lines(&mut rng);
    let bftpd = bftpd_lines(&mut rng);
    let utc = ParseContext {
        now: "2024-06-01T00:00:00Z".parse().unwrap(),
        host: Some("192.0.2.10".parse().unwrap()),
        ..ParseContext::new(SourceTz::Utc)
    };
    let berlin = ParseContext {
        timezone: "Europe/Berlin".parse().unwrap(),
        ..utc.clone()
    };
    let rich_ctx = ParseContext {
        log_format: Some(RICH.to_string()),
        ..utc.clone()
    };
    bench("xferlog (UTC)", Format::Xferlog, &xferlog, &utc);
    bench(
        "xferlog (Europe/Berlin)",
        Format::Xferlog,
        &xferlog,
        &berlin,
    );
    bench("proftpd syslog (UTC)", Format::Proftpd, &proftpd, &utc);
    bench(
        "proftpd syslog (Europe/Berlin)",
        Format::Proftpd,
        &proftpd,
        &berlin,
    );
    bench(
        "proftpd via RFC 5424",
        Format::Proftpd,
        &to_rfc5424(&proftpd),
        &utc,
    );
    bench(
        "proftpd-extended default",
        Format::ProftpdExtended,
        &extended,
        &utc,
    );
    bench(
        "proftpd-extended rich",
        Format::ProftpdExtended,
        &rich,
        &rich_ctx,
    );
    bench("pure-ftpd syslog (UTC)", Format::PureFtpd, &pureftpd, &utc);
    bench(
        "pure-ftpd via RFC 5424",
        Format::PureFtpd,
        &to_rfc5424(&pureftpd),
        &utc,
    );
    bench("bftpd file (UTC)", Format::Bftpd, &bftpd, &utc);
    bench("bftpd file (Europe/Berlin)", Format::Bftpd, &bftpd, &berlin);
    bench(
        "bftpd syslog (UTC)",
        Format::Bftpd,
        &bftpd_syslog_lines(&bftpd),
        &utc,
    );
    let sshd = sshd_lines(&mut rng);
    bench("sshd auth.log (UTC)", Format::Sshd, &sshd, &utc);
}
