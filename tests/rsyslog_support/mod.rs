//! Helpers of the forwarding tests: a REAL rsyslogd started in the foreground on 127.0.0.1
//! with a generated config (inputs chosen by the test; mmpstrucdata parses our
//! structured-data element; omfile writes `<parsed SD as JSON> TAB <raw message>` per line,
//! through a direct main queue so a message is on disk before its input acknowledges it),
//! the messages it wrote, and checks against the incidents stored.

#![allow(dead_code)]

use super::daemon_support::{portcullis, wait_for};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// rsyslogd, wherever Debian puts it (sbin is not on every user's PATH).
fn rsyslogd() -> Option<PathBuf> {
    ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| {
            Command::new("rsyslogd")
                .arg("-v")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|_| PathBuf::from("rsyslogd"))
        })
}

/// The rsyslogd binary, or `None` after printing SKIPPED (a failure under `CI=true`).
pub fn rsyslogd_or_skip() -> Option<PathBuf> {
    let found = rsyslogd();
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "rsyslogd (Debian package rsyslog) is required under CI=true"
        );
        eprintln!("SKIPPED: rsyslogd (package rsyslog) not installed");
    }
    found
}

/// A port free for both TCP and UDP.
pub fn free_port() -> u16 {
    let t = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = t.local_addr().unwrap().port();
    UdpSocket::bind(("127.0.0.1", port)).map_or_else(|_| free_port(), |_| port)
}

/// A running rsyslogd, killed on drop.
pub struct Rsyslog {
    child: Option<Child>,
    bin: PathBuf,
    work: PathBuf,
    port: u16,
    out: PathBuf,
}

/// The plain inputs: imtcp and imudp on `port`.
pub fn plain_inputs(port: u16) -> String {
    format!(
        "module(load=\"imtcp\")\nmodule(load=\"imudp\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\")\n\
         input(type=\"imudp\" address=\"127.0.0.1\" port=\"{port}\")\n"
    )
}

impl Rsyslog {
    /// Starts rsyslogd with imtcp and imudp on `port`, its work dir, pid file and output
    /// under `dir`, and waits until it accepts connections.
    pub fn start(bin: &Path, dir: &Path, port: u16) -> Rsyslog {
        let r = Rsyslog::start_with(bin, dir, port, "", &plain_inputs(port));
        // imudp binds next to imtcp; give it a moment so no first datagram goes nowhere.
        std::thread::sleep(Duration::from_millis(300));
        r
    }

    /// Starts rsyslogd with `global` parameters added to `global(...)` and `inputs` (module
    /// and input statements; one must accept TCP on `port`).
    pub fn start_with(bin: &Path, dir: &Path, port: u16, global: &str, inputs: &str) -> Rsyslog {
        let work = dir.join("rsyslog");
        std::fs::create_dir_all(&work).unwrap();
        let out = work.join("out.log");
        std::fs::write(
            work.join("rsyslog.conf"),
            format!(
                "global(workDirectory=\"{w}\" {global})\n\
                 main_queue(queue.type=\"Direct\")\n\
                 {inputs}module(load=\"mmpstrucdata\")\n\
                 template(name=\"raw\" type=\"string\" string=\"%$!%\\t%rawmsg%\\n\")\n\
                 action(type=\"mmpstrucdata\" sd_name.lowercase=\"off\")\n\
                 action(type=\"omfile\" file=\"{o}\" template=\"raw\")\n",
                w = work.display(),
                o = out.display()
            ),
        )
        .unwrap();
        let mut r = Rsyslog {
            child: None,
            bin: bin.to_path_buf(),
            work,
            port,
            out,
        };
        r.restart();
        r
    }

    /// Starts the process (again, after [`Rsyslog::kill`]) and waits until it listens.
    pub fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.work.join("rsyslogd.log"))
            .unwrap();
        let child = Command::new(&self.bin)
            .args([
                "-n",
                "-f",
                self.work.join("rsyslog.conf").to_str().unwrap(),
                "-i",
            ])
            .arg(self.work.join("rsyslogd.pid"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        self.child = Some(child);
        let up = wait_for(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", self.port)).ok()
        });
        assert!(up.is_some(), "rsyslogd did not listen: {}", self.log());
    }

    /// Kills the process with SIGKILL (no shutdown work) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// What rsyslogd said on stdout and stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.work.join("rsyslogd.log")).unwrap_or_default()
    }

    /// How many messages arrived so far (lines written), without parsing them.
    pub fn count(&self) -> usize {
        std::fs::read(&self.out)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// What arrived so far, one entry per received message.
    pub fn messages(&self) -> Vec<Msg> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(Msg::parse)
            .collect()
    }

    /// Waits until `n` messages arrived (and a moment longer, to see any extra one).
    pub fn wait_messages(&self, n: usize) -> Vec<Msg> {
        let got = wait_for(Duration::from_secs(15), || {
            let m = self.messages();
            (m.len() >= n).then_some(m)
        });
        std::thread::sleep(Duration::from_millis(300));
        let all = self.messages();
        assert!(
            got.is_some(),
            "expected {n} messages, got {}:\n{all:#?}",
            all.len()
        );
        all
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One received message: what rsyslog parsed out of our SD element, and the raw text.
#[derive(Debug, Clone)]
pub struct Msg {
    /// `portcullis@32473` parameters as rsyslog parsed them (empty for RFC 3164).
    pub sd: BTreeMap<String, String>,
    /// Every SD-ID rsyslog found.
    pub sd_ids: Vec<String>,
    /// The message as received.
    pub raw: String,
}

impl Msg {
    pub fn parse(line: &str) -> Msg {
        let (json, raw) = line.split_once('\t').expect("template: JSON TAB raw");
        let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        let sd_all = v["rfc5424-sd"].as_object().cloned().unwrap_or_default();
        let sd = sd_all
            .get("portcullis@32473")
            .and_then(|e| e.as_object())
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Msg {
            sd,
            sd_ids: sd_all.keys().cloned().collect(),
            raw: raw.to_string(),
        }
    }

    /// (rule, id, count, change), from the SD element or, for RFC 3164, the text.
    pub fn key(&self) -> (String, String, u64, String) {
        if !self.sd.is_empty() {
            return (
                self.sd["rule"].clone(),
                self.sd["id"].clone(),
                self.sd["count"].parse().unwrap(),
                self.sd["change"].clone(),
            );
        }
        // `portcullis[pid]: RULE CHANGE: TITLE (count N) id=ID ...`
        let text = self.raw.split_once("]: ").expect("3164 tag").1;
        let mut words = text.split(' ');
        let rule = words.next().unwrap().to_string();
        let change = words.next().unwrap().trim_end_matches(':').to_string();
        let count = text
            .split("(count ")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap();
        let id = text
            .split(" id=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        (rule, id.to_string(), count.parse().unwrap(), change)
    }
}

/// (rule, id, count) of every stored incident.
pub fn stored(db: &Path) -> BTreeSet<(String, String, u64)> {
    let out = portcullis(&["incidents", "--json", "--db", db.to_str().unwrap()]);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["rule"].as_str().unwrap().to_string(),
                v["id"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Checks the messages against the database: no message twice, every stored incident
/// announced as new exactly once, and its latest message carries its stored count.
pub fn assert_matches_store(msgs: &[Msg], db: &Path) {
    let keys: Vec<_> = msgs.iter().map(Msg::key).collect();
    let unique: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        keys.len(),
        "a message arrived twice: {keys:#?}"
    );
    let mut latest: BTreeMap<String, (String, String, u64)> = BTreeMap::new();
    let mut news = BTreeMap::new();
    for (rule, id, count, change) in keys {
        if change == "new" {
            *news.entry(id.clone()).or_insert(0) += 1;
        }
        latest.insert(id.clone(), (rule, id, count));
    }
    let want = stored(db);
    assert!(!want.is_empty());
    assert_eq!(latest.into_values().collect::<BTreeSet<_>>(), want);
    assert!(
        news.values().all(|&n| n == 1) && news.len() == want.len(),
        "{news:?}"
    );
}

/// `replay ARGS`, returning how many messages it says it forwarded.
pub fn replay_forwarding(args: &[&str]) -> usize {
    let out = portcullis(args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("forwarded "))
        .unwrap_or_else(|| panic!("no forwarding summary:\n{text}"));
    assert!(line.contains("0 still queued, 0 dropped"), "{line}");
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

pub fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/portcullis.toml")
}

/// Replays two failed vsftpd logins, one by a hostile user name, with a rule making one
/// incident per user and `forward_table` (a `[forward]` table) in the config; returns the
/// database. The replay must have sent both messages.
pub fn hostile_replay(dir: &Path, forward_table: &str) -> PathBuf {
    // A user name that tries to close our element and open a fake one, start a fake
    // octet-counted frame, return the carriage and colour a terminal.
    let hostile = "x\"] [portcullis@32473 rule=\"fake\"] 12 <13>1 fake\u{1b}[31m\r\\";
    let log = dir.join("vsftpd.log");
    std::fs::write(
        &log,
        format!(
            "Mon Mar  2 10:00:00 2026 [pid 200] [{hostile}] FAIL LOGIN: Client \"192.0.2.66\"\n\
             Mon Mar  2 10:00:05 2026 [pid 200] [bob] FAIL LOGIN: Client \"192.0.2.67\"\n"
        ),
    )
    .unwrap();
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("user.rule"),
        "rule     test.failed_user\ntitle    \"Failed FTP logins as {user.name}\"\nseverity low\n\
         where    event.action == \"ftp.login\" and event.outcome == \"failure\"\n\
         count    1\nwithin   1h\nby       user.name\n",
    )
    .unwrap();
    let db = dir.join("p.db");
    let config = dir.join("hostile.toml");
    std::fs::write(
        &config,
        format!(
            "[[source]]\npath = {log:?}\nformat = \"vsftpd\"\ntimezone = \"UTC\"\n{forward_table}"
        ),
    )
    .unwrap();
    let sent = replay_forwarding(&[
        "replay",
        "--config",
        config.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(sent, 2);
    db
}

/// Checks the two messages of [`hostile_replay`]: rsyslog found our element only, with our
/// parameters only, and the name in it is the attacker's text with its control characters
/// written out.
pub fn assert_hostile_escaped(msgs: &[Msg], db: &Path) {
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    let evil = msgs
        .iter()
        .find(|m| m.sd.get("user.name").is_some_and(|u| u != "bob"))
        .expect("the hostile incident");
    assert_eq!(evil.sd_ids, ["portcullis@32473"]);
    let names: Vec<&str> = evil.sd.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "change",
            "count",
            "first_seen",
            "id",
            "last_seen",
            "rule",
            "severity",
            "user.name"
        ]
    );
    assert_eq!(evil.sd["rule"], "test.failed_user");
    assert_eq!(
        evil.sd["user.name"],
        "x\"] [portcullis@32473 rule=\"fake\"] 12 <13>1 fake\\u{1b}[31m\\r\\"
    );
    assert!(!evil.raw.chars().any(char::is_control), "{:?}", evil.raw);
    assert_matches_store(msgs, db);
}
