//! Incidents forwarded to a REAL rsyslogd (started here in the foreground on 127.0.0.1 with
//! a generated config: imtcp and imudp on a free port, mmpstrucdata to parse our
//! structured-data element, omfile writing `<parsed SD as JSON> TAB <raw message>` per
//! line). Replays over TCP and UDP deliver exactly the stored incidents; a hostile FTP user
//! name arrives escaped, on one line, inside our one element; a receiver started after the
//! daemon queued incidents gets them all, none twice, and SIGTERM drains what is left.
//! Without rsyslogd the tests say SKIPPED, and fail under `CI=true`.

mod daemon_support;

use daemon_support::{append, portcullis, stats_json, wait_for, Daemon};
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
fn rsyslogd_or_skip() -> Option<PathBuf> {
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
fn free_port() -> u16 {
    let t = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = t.local_addr().unwrap().port();
    UdpSocket::bind(("127.0.0.1", port)).map_or_else(|_| free_port(), |_| port)
}

/// A running rsyslogd, killed on drop.
struct Rsyslog {
    child: Child,
    out: PathBuf,
}

impl Rsyslog {
    /// Starts rsyslogd on `port` (TCP and UDP) with its work dir, pid file and output under
    /// `dir`, and waits until it accepts connections.
    fn start(bin: &Path, dir: &Path, port: u16) -> Rsyslog {
        let work = dir.join("rsyslog");
        std::fs::create_dir_all(&work).unwrap();
        let out = work.join("out.log");
        let conf = work.join("rsyslog.conf");
        std::fs::write(
            &conf,
            format!(
                "global(workDirectory=\"{w}\")\n\
                 module(load=\"imtcp\")\nmodule(load=\"imudp\")\nmodule(load=\"mmpstrucdata\")\n\
                 input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\")\n\
                 input(type=\"imudp\" address=\"127.0.0.1\" port=\"{port}\")\n\
                 template(name=\"raw\" type=\"string\" string=\"%$!%\\t%rawmsg%\\n\")\n\
                 action(type=\"mmpstrucdata\" sd_name.lowercase=\"off\")\n\
                 action(type=\"omfile\" file=\"{o}\" template=\"raw\")\n",
                w = work.display(),
                o = out.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(work.join("rsyslogd.log")).unwrap();
        let child = Command::new(bin)
            .args(["-n", "-f", conf.to_str().unwrap(), "-i"])
            .arg(work.join("rsyslogd.pid"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        let r = Rsyslog { child, out };
        let up = wait_for(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        assert!(
            up.is_some(),
            "rsyslogd did not listen: {}",
            std::fs::read_to_string(work.join("rsyslogd.log")).unwrap_or_default()
        );
        // imudp binds next to imtcp; give it a moment so no first datagram goes nowhere.
        std::thread::sleep(Duration::from_millis(300));
        r
    }

    /// What arrived so far, one entry per received message.
    fn messages(&self) -> Vec<Msg> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(Msg::parse)
            .collect()
    }

    /// Waits until `n` messages arrived (and a moment longer, to see any extra one).
    fn wait_messages(&self, n: usize) -> Vec<Msg> {
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received message: what rsyslog parsed out of our SD element, and the raw text.
#[derive(Debug, Clone)]
struct Msg {
    /// `portcullis@32473` parameters as rsyslog parsed them (empty for RFC 3164).
    sd: BTreeMap<String, String>,
    /// Every SD-ID rsyslog found.
    sd_ids: Vec<String>,
    raw: String,
}

impl Msg {
    fn parse(line: &str) -> Msg {
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
    fn key(&self) -> (String, String, u64, String) {
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
fn stored(db: &Path) -> BTreeSet<(String, String, u64)> {
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
fn assert_matches_store(msgs: &[Msg], db: &Path) {
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
fn replay_forwarding(args: &[&str]) -> usize {
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

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/portcullis.toml")
}

#[test]
fn replay_forwards_exactly_the_stored_incidents_over_tcp_and_udp() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // (name, --forward target or [forward] table)
        ("tcp", "tcp://127.0.0.1:{port}", ""),
        ("udp", "udp://127.0.0.1:{port}", ""),
        (
            "tcp-lf-3164",
            "",
            "[forward]\ntarget = \"tcp://127.0.0.1:{port}\"\nframing = \"lf\"\nformat = \"rfc3164\"\n",
        ),
    ];
    for (name, flag, table) in cases {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let port = free_port();
        let rs = Rsyslog::start(&bin, &sub, port);
        let db = sub.join("p.db");
        let config = if table.is_empty() {
            samples()
        } else {
            let text = std::fs::read_to_string(samples()).unwrap().replace(
                "path = \"",
                &format!("path = \"{}/", samples().parent().unwrap().display()),
            );
            let path = sub.join("p.toml");
            std::fs::write(&path, text + &table.replace("{port}", &port.to_string())).unwrap();
            path
        };
        let mut args = vec![
            "replay".to_string(),
            "--config".into(),
            config.display().to_string(),
            "--db".into(),
            db.display().to_string(),
        ];
        if !flag.is_empty() {
            args.extend([
                "--forward".into(),
                flag.replace("{port}", &port.to_string()),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let sent = replay_forwarding(&args);
        let msgs = rs.wait_messages(sent);
        assert_eq!(msgs.len(), sent, "{name}");
        assert_matches_store(&msgs, &db);
        if name.ends_with("3164") {
            assert!(
                msgs.iter()
                    .all(|m| m.sd_ids.is_empty() && m.raw.starts_with("<1")),
                "{name}"
            );
        } else {
            assert!(
                msgs.iter().all(|m| m.sd_ids == ["portcullis@32473"]),
                "{name}"
            );
        }
        // A second replay of the same files has no news: nothing more is sent.
        assert_eq!(replay_forwarding(&args), 0, "{name}");
    }
}

#[test]
fn hostile_user_name_arrives_escaped_in_one_element_on_one_line() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let rs = Rsyslog::start(&bin, dir.path(), port);
    // A user name that tries to close our element and open a fake one, start a fake
    // octet-counted frame, return the carriage and colour a terminal.
    let hostile = "x\"] [portcullis@32473 rule=\"fake\"] 12 <13>1 fake\u{1b}[31m\r\\";
    let log = dir.path().join("vsftpd.log");
    std::fs::write(
        &log,
        format!(
            "Mon Mar  2 10:00:00 2026 [pid 200] [{hostile}] FAIL LOGIN: Client \"192.0.2.66\"\n\
             Mon Mar  2 10:00:05 2026 [pid 200] [bob] FAIL LOGIN: Client \"192.0.2.67\"\n"
        ),
    )
    .unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("user.rule"),
        "rule     test.failed_user\ntitle    \"Failed FTP logins as {user.name}\"\nseverity low\n\
         where    event.action == \"ftp.login\" and event.outcome == \"failure\"\n\
         count    1\nwithin   1h\nby       user.name\n",
    )
    .unwrap();
    let db = dir.path().join("p.db");
    let target = format!("tcp://127.0.0.1:{port}");
    let sent = replay_forwarding(&[
        "replay",
        "--rules",
        rules.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--format",
        "vsftpd",
        "--timezone",
        "UTC",
        "--forward",
        &target,
        log.to_str().unwrap(),
    ]);
    assert_eq!(sent, 2);
    let msgs = rs.wait_messages(2);
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    let evil = msgs
        .iter()
        .find(|m| m.sd.get("user.name").is_some_and(|u| u != "bob"))
        .expect("the hostile incident");
    // rsyslog found our element only, with our parameters only, and the name in it is the
    // attacker's text with its control characters written out.
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
    assert_matches_store(&msgs, &db);
}

/// Failed vsftpd logins from `ip`, 10 s apart from `start` seconds after 10:00:00.
fn failures(ip: &str, start: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            let s = start + 10 * i;
            format!(
                "Mon Mar  2 10:{:02}:{:02} 2026 [pid 200] [root] FAIL LOGIN: Client \"{ip}\"\n",
                s / 60,
                s % 60
            )
        })
        .collect()
}

fn forward_stat(db: &Path, name: &str) -> u64 {
    stats_json(db)
        .and_then(|v| v["forward"][name].as_u64())
        .unwrap_or(0)
}

#[test]
fn receiver_started_after_the_daemon_gets_the_queue_once() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let db = dir.path().join("p.db");
    let log = dir.path().join("vsftpd.log");
    append(&log, failures("192.0.2.50", 0, 10).as_bytes());
    append(&log, failures("192.0.2.51", 0, 9).as_bytes());
    let config = dir.path().join("p.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndb = {db:?}\n[run]\nread_from_start = true\nidle_ms = 100\ncommit_ms = 200\n\
             [[source]]\npath = {log:?}\nformat = \"vsftpd\"\ntimezone = \"UTC\"\n\
             [forward]\ntarget = \"tcp://127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    let daemon = Daemon::start_ready(&config, &dir.path().join("daemon.log"));
    // Nobody listens yet: the two brute-force incidents wait in the outbox.
    let waiting = wait_for(Duration::from_secs(10), || {
        (forward_stat(&db, "queued") == 2 && forward_stat(&db, "failed_attempts") >= 2)
            .then_some(())
    });
    assert!(waiting.is_some(), "{:?}\n{}", stats_json(&db), daemon.log());
    assert_eq!(forward_stat(&db, "sent"), 0);

    let rs = Rsyslog::start(&bin, dir.path(), port);
    let msgs = rs.wait_messages(2);
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert_matches_store(&msgs, &db);
    let drained = wait_for(Duration::from_secs(5), || {
        (forward_stat(&db, "queued") == 0 && forward_stat(&db, "sent") == 2).then_some(())
    });
    assert!(drained.is_some(), "{:?}", stats_json(&db));

    // More failures grow one incident: the update follows, and SIGTERM leaves nothing queued.
    append(&log, failures("192.0.2.50", 100, 3).as_bytes());
    let committed = wait_for(Duration::from_secs(10), || {
        stored(&db).iter().any(|(_, _, c)| *c == 13).then_some(())
    });
    assert!(committed.is_some(), "{:?}", stored(&db));
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    let msgs = wait_for(Duration::from_secs(10), || {
        let m = rs.messages();
        m.iter().any(|m| m.key().2 == 13).then_some(m)
    })
    .unwrap_or_else(|| panic!("no update with count 13: {:#?}", rs.messages()));
    assert_matches_store(&msgs, &db);
    // The lines may have been committed in one or more steps: one update per commit, each
    // with a higher count, the last with 13.
    let updates: Vec<_> = msgs[2..].iter().map(Msg::key).collect();
    assert!(
        updates
            .iter()
            .all(|k| k.0 == "ftp.brute_force" && k.3 == "update"),
        "{updates:?}"
    );
    assert!(updates.windows(2).all(|w| w[0].2 < w[1].2), "{updates:?}");
    assert_eq!(updates.last().unwrap().2, 13);
    let sent = msgs.len();
    let out = portcullis(&["stats", "--db", db.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("forward     {sent} sent, 0 queued, ")),
        "{text}"
    );
}
