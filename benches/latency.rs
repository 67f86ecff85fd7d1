//! Live latency of `portcullis run`: the time from appending the line that completes an
//! incident (the 8th failed login of a source within 120 s) to a tailed file until that
//! incident is committed and visible to another SQLite connection. Prints p50/p90/p99/max.
//!
//! `cargo bench --bench latency` or `cargo bench --bench latency -- 500` (samples).
//!
//! The 7 earlier failures of every source are written first; then, one source at a time,
//! the 8th line is appended and the database polled every millisecond.

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for one incident before the sample counts as lost.
const TIMEOUT: Duration = Duration::from_secs(5);

fn line(ip: &str) -> String {
    let now = chrono::Utc::now().format("%a %b %e %H:%M:%S %Y");
    format!("{now} [pid 4242] [bob] FAIL LOGIN: Client \"{ip}\"\n")
}

fn ip(i: usize) -> String {
    format!("198.18.{}.{}", i / 250, i % 250 + 1)
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let samples: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("vsftpd.log");
    let db = dir.path().join("live.db");
    std::fs::write(&log, "").unwrap();
    let config = dir.path().join("portcullis.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndb = {db:?}\n[[source]]\npath = {log:?}\nformat = \"vsftpd\"\n\
             timezone = \"UTC\"\nhost = \"203.0.113.10\"\n"
        ),
    )
    .unwrap();
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["run", "--config", config.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let started = Instant::now();
    while !db.exists() && started.elapsed() < TIMEOUT {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();

    let mut first = String::new();
    for i in 0..samples {
        for _ in 0..7 {
            first += &line(&ip(i));
        }
    }
    append(&log, &first);
    std::thread::sleep(Duration::from_secs(1));

    let mut lat = Vec::with_capacity(samples);
    let mut lost = 0;
    for i in 0..samples {
        let group = format!("{{\"source.ip\":\"{}\"}}", ip(i));
        let text = line(&ip(i));
        append(&log, &text);
        let t0 = Instant::now();
        loop {
            let found: Option<i64> = conn
                .query_row(
                    "SELECT count FROM incidents WHERE rule = 'ftp.brute_force' AND group_key = ?1",
                    [&group],
                    |r| r.get(0),
                )
                .optional()
                .unwrap();
            if found.is_some() {
                lat.push(t0.elapsed());
                break;
            }
            if t0.elapsed() > TIMEOUT {
                lost += 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();

    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "latency (append -> committed incident), {} samples{}: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        lat.len(),
        if lost > 0 {
            format!(" ({lost} lost after {TIMEOUT:?})")
        } else {
            String::new()
        },
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.90)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
    );
}
