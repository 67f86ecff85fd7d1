//! Test-only reading of the generated files with plain string handling (deliberately not
//! the project's parsers), and the sliding-window counts the invariant checks use.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

/// Microseconds per second.
pub const SEC: i64 = 1_000_000;

/// File types `ftp.sensitive_transfer` flags (compared in lower case).
pub const SENSITIVE_EXTS: [&str; 18] = [
    ".pdf", ".zip", ".7z", ".rar", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt",
    ".ods", ".sql", ".bak", ".kdbx", ".pst", ".pem", ".key",
];

/// True if `path` ends, in any letter case, in a sensitive file type.
pub fn is_sensitive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    SENSITIVE_EXTS.iter().any(|e| lower.ends_with(e))
}

/// The parts of a vsftpd line the checks use.
#[derive(Debug, Clone)]
pub struct Vs {
    /// Time, µs since the epoch (whole seconds).
    pub t: i64,
    /// Process id.
    pub pid: u32,
    /// Client address without a `::ffff:` prefix.
    pub client: String,
    /// `[user]`, empty if absent.
    pub user: String,
    /// `CONNECT`, `OK LOGIN`, `FAIL LOGIN`, `OK DOWNLOAD`, ...
    pub action: String,
    /// Carries `anon password`.
    pub anon: bool,
    /// The quoted argument after the client (a path; `old new` for RENAME), or empty.
    pub arg: String,
}

impl Vs {
    /// Logged in as (or acting as) the anonymous account.
    pub fn anon_user(&self) -> bool {
        self.user == "ftp" || self.user == "anonymous"
    }
}

/// The parts of a kern.log line the checks use.
#[derive(Debug, Clone)]
pub struct Fw {
    /// Time, µs since the epoch.
    pub t: i64,
    /// LOG prefix without the colon (`ACCEPT_IN`, `DROP_IN`, `ACCEPT_OUT`).
    pub prefix: String,
    /// `SRC=`.
    pub src: String,
    /// `DST=`.
    pub dst: String,
    /// `DPT=`, 0 for ICMP.
    pub dpt: u16,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    line[start..].split(' ').next()
}

/// Parses vsftpd.log text; panics on a line of unexpected shape.
pub fn parse_vs(text: &str) -> Vec<Vs> {
    text.lines()
        .map(|l| {
            let t = chrono::NaiveDateTime::parse_from_str(&l[..24], "%a %b %e %H:%M:%S %Y")
                .unwrap_or_else(|e| panic!("bad vsftpd date in {l:?}: {e}"))
                .and_utc()
                .timestamp_micros();
            let rest = l[24..].strip_prefix(" [pid ").expect("pid");
            let (pid, rest) = rest.split_once("] ").expect("pid end");
            let (user, rest) = match rest.strip_prefix('[') {
                Some(r) => r.split_once("] ").expect("user end"),
                None => ("", rest),
            };
            let (action, rest) = rest.split_once(": Client \"").expect("client");
            let client = rest.split('"').next().unwrap();
            let after = &rest[client.len() + 1..];
            let arg = after
                .strip_prefix(", \"")
                .map_or("", |a| a.split('"').next().unwrap());
            Vs {
                t,
                pid: pid.parse().expect("pid number"),
                client: client.trim_start_matches("::ffff:").to_string(),
                user: user.to_string(),
                action: action.to_string(),
                anon: rest.contains(", anon password \""),
                arg: arg.to_string(),
            }
        })
        .collect()
}

/// Parses kern.log text; also returns the boot times implied by each line's uptime stamp
/// (one value if every stamp agrees with its log time).
pub fn parse_fw(text: &str) -> (Vec<Fw>, BTreeSet<i64>) {
    let mut boots = BTreeSet::new();
    let lines = text
        .lines()
        .map(|l| {
            let (stamp, rest) = l.split_once(' ').unwrap();
            let t = chrono::DateTime::parse_from_rfc3339(stamp)
                .expect("rfc3339")
                .timestamp_micros();
            assert!(
                stamp.ends_with("+00:00") && rest.starts_with("fw01 kernel: ["),
                "{l}"
            );
            let up = rest["fw01 kernel: [".len()..]
                .split(']')
                .next()
                .unwrap()
                .trim();
            let (s, us) = up.split_once('.').unwrap();
            boots.insert(t - (s.parse::<i64>().unwrap() * SEC + us.parse::<i64>().unwrap()));
            let prefix = rest.split("] ").nth(1).unwrap().split(':').next().unwrap();
            Fw {
                t,
                prefix: prefix.to_string(),
                src: field(l, "SRC").unwrap().to_string(),
                dst: field(l, "DST").unwrap().to_string(),
                dpt: field(l, "DPT").map_or(0, |p| p.parse().unwrap()),
            }
        })
        .collect();
    (lines, boots)
}

/// Largest number of `times` (sorted) within any window of `window` µs.
pub fn max_in_window(times: &[i64], window: i64) -> usize {
    let mut lo = 0;
    (0..times.len())
        .map(|hi| {
            while times[hi] - times[lo] > window {
                lo += 1;
            }
            hi - lo + 1
        })
        .max()
        .unwrap_or(0)
}

/// Largest number of distinct values among `hits` (sorted by time) within any window.
pub fn max_distinct_in_window<T: Hash + Eq + Copy>(hits: &[(i64, T)], window: i64) -> usize {
    let (mut lo, mut best) = (0, 0);
    let mut counts: HashMap<T, usize> = HashMap::new();
    for hi in 0..hits.len() {
        *counts.entry(hits[hi].1).or_default() += 1;
        while hits[hi].0 - hits[lo].0 > window {
            let c = counts.get_mut(&hits[lo].1).unwrap();
            *c -= 1;
            if *c == 0 {
                counts.remove(&hits[lo].1);
            }
            lo += 1;
        }
        best = best.max(counts.len());
    }
    best
}

/// Largest number of `fails` within `window` before (or at) one of `oks`: the failures a
/// "failures, then a success" sequence could use. Both sorted.
pub fn max_fails_before_success(fails: &[i64], oks: &[i64], window: i64) -> usize {
    oks.iter()
        .map(|&ok| {
            let hi = fails.partition_point(|&f| f <= ok);
            let lo = fails.partition_point(|&f| f < ok - window);
            hi - lo
        })
        .max()
        .unwrap_or(0)
}
