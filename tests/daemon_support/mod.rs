//! Helpers of the daemon tests: generated logs cut into time-ordered chunks, a daemon
//! process to start, signal and kill, and incidents in a comparable shape.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_portcullis")
}

/// Runs `portcullis ARGS` to completion.
pub fn portcullis(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("run portcullis")
}

/// A small deterministic random generator (xorshift64*), so a failing run can be repeated.
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        lo + self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % (hi - lo).max(1)
    }
}

/// Generates `lines` lines of vsftpd.log + kern.log (and truth.json) into `dir`.
pub fn generate(dir: &Path, seed: u64, lines: u64) {
    let out = portcullis(&[
        "gen",
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        &seed.to_string(),
        "--lines",
        &lines.to_string(),
    ]);
    assert!(
        out.status.success(),
        "gen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The lines of a generated file with their event time in Unix seconds (vsftpd's native
/// stamp `Mon Mar  2 08:00:00 2026`, or kern.log's RFC 3339 stamp).
pub fn timed_lines(path: &Path) -> Vec<(i64, Vec<u8>)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_inclusive('\n')
        .map(|l| {
            let t = if l.as_bytes()[0].is_ascii_digit() {
                chrono::DateTime::parse_from_rfc3339(l.split(' ').next().unwrap())
                    .unwrap()
                    .timestamp()
            } else {
                chrono::NaiveDateTime::parse_from_str(&l[4..24], "%b %e %H:%M:%S %Y")
                    .unwrap()
                    .and_utc()
                    .timestamp()
            };
            (t, l.as_bytes().to_vec())
        })
        .collect()
}

/// Cuts two logs into chunks at whole-second boundaries `min..max` seconds apart: chunk `k`
/// holds every line of each log stamped before its boundary, as two writers logging the
/// same seconds would have written them.
pub fn chunks(
    a: &[(i64, Vec<u8>)],
    b: &[(i64, Vec<u8>)],
    rng: &mut Rng,
    min: u64,
    max: u64,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let start = a[0].0.min(b[0].0);
    let (mut i, mut j) = (0, 0);
    let mut bound = start;
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        bound += rng.range(min, max + 1) as i64;
        let (mut ca, mut cb) = (Vec::new(), Vec::new());
        while i < a.len() && a[i].0 < bound {
            ca.extend_from_slice(&a[i].1);
            i += 1;
        }
        while j < b.len() && b[j].0 < bound {
            cb.extend_from_slice(&b[j].1);
            j += 1;
        }
        if !ca.is_empty() || !cb.is_empty() {
            out.push((ca, cb));
        }
    }
    out
}

/// Appends `bytes` to `path` (creating it).
pub fn append(path: &Path, bytes: &[u8]) {
    if bytes.is_empty() && path.exists() {
        return;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

/// Writes a config tailing `live/vsftpd.log` and `live/kern.log` under `dir` into `db`.
pub fn write_config(dir: &Path, db: &Path, rules: Option<&Path>, run: &str) -> PathBuf {
    let mut text = format!("[storage]\ndb = {:?}\n", db.to_str().unwrap());
    if let Some(r) = rules {
        text += &format!("[rules]\ndir = {:?}\n", r.to_str().unwrap());
    }
    text += &format!("[run]\nread_from_start = true\n{run}\n");
    text += &format!(
        "[[source]]\npath = {:?}\nformat = \"vsftpd\"\ntimezone = \"UTC\"\nhost = \"203.0.113.10\"\n\
         [[source]]\npath = {:?}\nformat = \"iptables\"\ntimezone = \"UTC\"\n",
        dir.join("live/vsftpd.log").to_str().unwrap(),
        dir.join("live/kern.log").to_str().unwrap()
    );
    let path = dir.join("portcullis.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A daemon process whose stderr goes to a file.
pub struct Daemon {
    pub child: Child,
    pub stderr: PathBuf,
}

impl Daemon {
    /// Starts `portcullis run --config CONFIG`, appending its stderr to `stderr`.
    pub fn start(config: &Path, stderr: &Path) -> Daemon {
        let err = OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr)
            .unwrap();
        let child = Command::new(bin())
            .args(["run", "--config", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start daemon");
        Daemon {
            child,
            stderr: stderr.to_path_buf(),
        }
    }

    /// Starts it and waits until it says what it watches (its signal handlers are set).
    pub fn start_ready(config: &Path, stderr: &Path) -> Daemon {
        let before =
            std::fs::read_to_string(stderr).map_or(0, |s| s.matches(" running rules=").count());
        let d = Daemon::start(config, stderr);
        let ready = wait_for(Duration::from_secs(10), || {
            (d.log().matches(" running rules=").count() > before).then_some(())
        });
        assert!(ready.is_some(), "daemon did not start:\n{}", d.log());
        d
    }

    /// Sends a signal by name (`TERM`, `HUP`).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    /// SIGKILL, and reap it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits (at most `limit`) and returns the exit code.
    pub fn terminate(mut self, limit: Duration) -> Option<i32> {
        self.signal("TERM");
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill().unwrap();
        panic!("daemon did not stop within {limit:?} of SIGTERM");
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// What it wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An incident reduced to what must be equal between a live run and a replay.
pub type Key = (String, String, u64, String, String);

/// `incidents --json` of `db` as keys (rule, group, count, first_seen, last_seen).
pub fn incident_keys(db: &Path) -> BTreeSet<Key> {
    let out = portcullis(&["incidents", "--json", "--db", db.to_str().unwrap()]);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let group: Vec<String> = v["group"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect();
            (
                v["rule"].as_str().unwrap().to_string(),
                group.join(" "),
                v["count"].as_u64().unwrap(),
                v["first_seen"].as_str().unwrap().to_string(),
                v["last_seen"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Replays the complete generated logs in `gen` into a fresh `db` with `rules` (or the
/// built-in pack) and returns its incidents.
pub fn replay_keys(gen: &Path, db: &Path, rules: Option<&Path>) -> BTreeSet<Key> {
    let cfg = gen.join("replay.toml");
    std::fs::write(
        &cfg,
        "[[source]]\npath = \"vsftpd.log\"\nformat = \"vsftpd\"\ntimezone = \"UTC\"\nhost = \"203.0.113.10\"\n\
         [[source]]\npath = \"kern.log\"\nformat = \"iptables\"\ntimezone = \"UTC\"\n",
    )
    .unwrap();
    let mut args = vec![
        "replay",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    if let Some(r) = rules {
        args.extend(["--rules", r.to_str().unwrap()]);
    }
    let out = portcullis(&args);
    assert!(
        out.status.code() == Some(0),
        "replay: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    incident_keys(db)
}

/// Polls `f` every 50 ms until it returns `Some`, at most `limit`.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `stats --json` of `db`, if a daemon committed to it.
pub fn stats_json(db: &Path) -> Option<serde_json::Value> {
    let out = portcullis(&["stats", "--json", "--db", db.to_str().unwrap()]);
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Whether the last checkpoint has every file of `files` read to its current end.
pub fn caught_up(db: &Path, files: &[PathBuf]) -> bool {
    let Some(v) = stats_json(db) else {
        return false;
    };
    let cps = v["checkpoints"].as_array().cloned().unwrap_or_default();
    v["counters"]["buffered"].as_i64() == Some(0)
        && v["counters"]["held"].as_i64() == Some(0)
        && files.iter().all(|f| {
            let len = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            cps.iter()
                .any(|c| c["path"].as_str() == f.to_str() && c["offset"].as_u64() == Some(len))
        })
}

/// A readable difference between two incident sets.
pub fn diff(live: &BTreeSet<Key>, replay: &BTreeSet<Key>) -> String {
    let mut s = String::new();
    for k in live.difference(replay) {
        s += &format!("  only live:   {k:?}\n");
    }
    for k in replay.difference(live) {
        s += &format!("  only replay: {k:?}\n");
    }
    s
}
