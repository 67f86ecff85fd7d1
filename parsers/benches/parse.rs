//! Throughput of the line parsers on ~200k synthetic but realistic lines per format.
//! Run: `cargo bench -p portcullis-parsers`. Prints MB/s and lines/s per format, and MB/s per
//! second of the thread's CPU time (other load on a shared machine does not count).
//! `PARSE_BENCH=<part of a name>` selects benches and `PARSE_BENCH_ROUNDS=n` sets the rounds
//! (for profiling one of them).

mod common;

use common::{thread_cpu_ns, Rng};
use portcullis_parsers::{parse_line, Format, ParseContext, SourceTz};
use std::hint::black_box;
use std::time::{Duration, Instant};

const LINES: usize = 200_000;
const ROUNDS: usize = 5;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const USERS: [&str; 6] = ["alice", "bob", "ftp", "anonymous", "backup", "www-data"];
const FILES: [&str; 5] = [
    "/pub/linux/iso/debian-12.5.0-amd64-netinst.iso",
    "/incoming/report.pdf",
    "/home/bob/site/index.php",
    "/a.php",
    "/var/ftp/pub/README",
];

fn vsftpd_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let t = i as u64 * 3;
            let (h, m, s) = ((t / 3600) % 24, (t / 60) % 60, t % 60);
            let day = 1 + (t / 86400) % 28;
            let stamp = format!(
                "{} {} {:2} {h:02}:{m:02}:{s:02} 2024",
                WEEKDAYS[(day % 7) as usize], MONTHS[2], day
            );
            let pid = 1000 + rng.below(60000);
            let user = USERS[rng.below(USERS.len() as u64) as usize];
            let mut ip = rng.ip();
            if rng.below(4) == 0 {
                ip = format!("::ffff:{ip}");
            }
            let file = FILES[rng.below(FILES.len() as u64) as usize];
            let body = match rng.below(10) {
                0 | 1 => format!("CONNECT: Client \"{ip}\""),
                2..=4 => format!("[{user}] FAIL LOGIN: Client \"{ip}\""),
                5 => format!("[{user}] OK LOGIN: Client \"{ip}\", anon password \"guest@\""),
                6 => format!("[{user}] OK LOGIN: Client \"{ip}\""),
                7 => format!(
                    "[{user}] OK DOWNLOAD: Client \"{ip}\", \"{file}\", {} bytes, {}.{:02}Kbyte/sec",
                    rng.below(10_000_000),
                    rng.below(9000),
                    rng.below(100)
                ),
                8 => format!(
                    "[{user}] OK UPLOAD: Client \"{ip}\", \"{file}\", {} bytes, {}.{:02}Kbyte/sec",
                    rng.below(100_000),
                    rng.below(9000),
                    rng.below(100)
                ),
                _ => format!("[{user}] OK MKDIR: Client \"{ip}\", \"/incoming/d{}\"", rng.below(99)),
            };
            format!("{stamp} [pid {pid}] {body}")
        })
        .collect()
}

fn iptables_lines(rng: &mut Rng) -> Vec<String> {
    const PREFIXES: [&str; 5] = [
        "iptables DROP_INPUT: ",
        "[UFW BLOCK] ",
        "[WAN_IN-2000-D]",
        "DROP(src wan)",
        "[LAN_LOCAL-default-A]",
    ];
    (0..LINES)
        .map(|i| {
            let t = i as u64;
            let (h, m, s) = ((t / 3600) % 24, (t / 60) % 60, t % 60);
            let stamp = format!("Mar {:2} {h:02}:{m:02}:{s:02}", 1 + (t / 86400) % 28);
            let prefix = PREFIXES[rng.below(PREFIXES.len() as u64) as usize];
            let uptime = if rng.below(2) == 0 {
                format!("[{:6}.{:06}] ", rng.below(999_999), rng.below(999_999))
            } else {
                String::new()
            };
            let (src, dst) = (rng.ip(), rng.ip());
            let head = format!(
                "{stamp} fw-edge-01 kernel: {uptime}{prefix}IN=eth0 OUT= \
                 MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC={src} DST={dst} LEN={} \
                 TOS=0x00 PREC=0x00 TTL={} ID={}",
                40 + rng.below(1400),
                30 + rng.below(200),
                rng.below(65536)
            );
            let spt = 1024 + rng.below(64000);
            match rng.below(10) {
                0..=6 => format!(
                    "{head} DF PROTO=TCP SPT={spt} DPT={} WINDOW={} RES=0x00 SYN URGP=0 ",
                    [22, 23, 80, 443, 445, 1433, 3389][rng.below(7) as usize],
                    rng.below(65535)
                ),
                7 | 8 => format!(
                    "{head} PROTO=UDP SPT={spt} DPT=53 LEN={} ",
                    8 + rng.below(500)
                ),
                _ => format!(
                    "{head} PROTO=ICMP TYPE=8 CODE=0 ID={} SEQ={} ",
                    rng.below(65535),
                    rng.below(999)
                ),
            }
        })
        .collect()
}

/// Parses `lines` laid out as one file-like buffer, splitting it with memchr as the tailer does
/// (split and parse are both timed).
fn bench(name: &str, format: Format, lines: &[String], ctx: &ParseContext) {
    // `PARSE_BENCH=syslog cargo bench ...` runs only the benches whose name contains "syslog".
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
            if let Ok(Some(e)) = parse_line(format, &rest[..nl], ctx) {
                black_box(&e);
                events += 1;
            }
            rest = &rest[nl + 1..];
        }
        best = best.min(start.elapsed());
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_ns()) {
            best_cpu = best_cpu.min(b.saturating_sub(a).max(1));
        }
    }
    assert_eq!(
        events,
        lines.len(),
        "{name}: every generated line must parse to an event"
    );
    let secs = best.as_secs_f64();
    // On-CPU time: what the parser costs, whatever else the machine runs meanwhile.
    let cpu = if best_cpu == u64::MAX {
        String::new()
    } else {
        let cpu_secs = best_cpu as f64 / 1e9;
        format!(", on-CPU {:.1} MB/s", buf.len() as f64 / cpu_secs / 1e6)
    };
    println!(
        "{name:<28} {:>8.1} MB/s {:>10.0} lines/s{cpu}  ({} lines, {:.1} MB, avg {} B/line, best of {rounds})",
        buf.len() as f64 / secs / 1e6,
        lines.len() as f64 / secs,
        lines.len(),
        buf.len() as f64 / 1e6,
        buf.len() / lines.len(),
    );
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vsftpd = vsftpd_lines(&mut rng);
    let iptables = iptables_lines(&mut rng);
    let relayed: Vec<String> = vsftpd
        .iter()
        .map(|l| {
            format!(
                "Mar  3 10:00:00 ftp01 vsftpd[4242]: {}",
                l.split_once("] ").unwrap().1
            )
        })
        .collect();
    let utc = ParseContext {
        timezone: SourceTz::Utc,
        now: "2024-06-01T00:00:00Z".parse().unwrap(),
        host: Some("192.0.2.10".parse().unwrap()),
        log_format: None,
    };
    let berlin = ParseContext {
        timezone: "Europe/Berlin".parse().unwrap(),
        ..utc.clone()
    };
    bench("vsftpd (UTC)", Format::Vsftpd, &vsftpd, &utc);
    bench("vsftpd (Europe/Berlin)", Format::Vsftpd, &vsftpd, &berlin);
    bench("vsftpd via syslog (UTC)", Format::Vsftpd, &relayed, &utc);
    bench("iptables (UTC)", Format::Iptables, &iptables, &utc);
    bench(
        "iptables (Europe/Berlin)",
        Format::Iptables,
        &iptables,
        &berlin,
    );
}
