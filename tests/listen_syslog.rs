//! Syslog into the daemon from a real sender, util-linux `logger`: vsftpd failed logins over
//! TCP (octet-counted RFC 5424 and LF-framed RFC 3164) raise `ftp.brute_force`; a kernel
//! netfilter line over UDP arrives parsed. Without `logger` the test says SKIPPED, and
//! fails under `CI=true`.

mod daemon_support;

use daemon_support::{incident_keys, stats_json, wait_for, Daemon};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn logger_available() -> bool {
    Command::new("logger")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn logger(args: &[&str]) {
    let out = Command::new("logger").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "logger {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    let t = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = t.local_addr().unwrap().port();
    // The UDP listener takes the same number: make sure it is free too.
    UdpSocket::bind(("127.0.0.1", port)).map_or_else(|_| free_port(), |_| port)
}

fn listener_counter(db: &Path, name: &str, counter: &str) -> u64 {
    stats_json(db)
        .and_then(|v| v["sources"][name][counter].as_u64())
        .unwrap_or(0)
}

#[test]
fn logger_over_tcp_and_udp_raises_brute_force() {
    if !logger_available() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "logger (util-linux) is required under CI=true"
        );
        eprintln!("SKIPPED: logger (util-linux) not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let port = free_port();
    let config = dir.path().join("p.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndb = {:?}\n[run]\nidle_ms = 100\ncommit_ms = 200\n\
             [[listener]]\nkind = \"syslog\"\nbind = \"127.0.0.1:{port}\"\nproto = \"tcp\"\ntimezone = \"local\"\n\
             [[listener]]\nkind = \"syslog\"\nbind = \"127.0.0.1:{port}\"\ntimezone = \"local\"\n",
            db.to_str().unwrap()
        ),
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    let daemon = Daemon::start_ready(&config, &log);
    let up = wait_for(Duration::from_secs(10), || {
        (daemon.log().matches(" listening listener=").count() >= 2).then_some(())
    });
    assert!(up.is_some(), "listeners did not start:\n{}", daemon.log());

    let p = port.to_string();
    let tcp = [
        "--tcp",
        "--server",
        "127.0.0.1",
        "--port",
        &p,
        "-t",
        "vsftpd",
    ];
    for i in 0..8 {
        let msg = format!("[user{i}] FAIL LOGIN: Client \"198.51.100.77\"");
        let framing: &[&str] = if i % 2 == 0 {
            &["--octet-count", "--rfc5424"]
        } else {
            &["--rfc3164"]
        };
        let mut args = tcp.to_vec();
        args.extend_from_slice(framing);
        args.extend(["--id=4242", &msg]);
        logger(&args);
    }
    logger(&[
        "--udp",
        "--server",
        "127.0.0.1",
        "--port",
        &p,
        "--rfc3164",
        "-t",
        "kernel",
        "[3418554.862720] DROP_IN: IN=eth0 OUT= MAC=00:16:3e:5a:01:0a:00:16:3e:c4:7f:01:08:00 \
         SRC=198.51.100.250 DST=203.0.113.10 LEN=60 TOS=0x00 PREC=0x00 TTL=55 ID=60979 DF \
         PROTO=TCP SPT=44126 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0",
    ]);
    // A message of an unknown program is counted as skipped.
    logger(&[
        "--udp",
        "--server",
        "127.0.0.1",
        "--port",
        &p,
        "-t",
        "sshd",
        "hello",
    ]);

    let brute = wait_for(Duration::from_secs(10), || {
        incident_keys(&db)
            .into_iter()
            .find(|k| k.0 == "ftp.brute_force" && k.1.contains("198.51.100.77"))
    });
    let tcp_name = format!("syslog+tcp://127.0.0.1:{port}");
    let udp_name = format!("syslog+udp://127.0.0.1:{port}");
    let counted = wait_for(Duration::from_secs(5), || {
        (listener_counter(&db, &udp_name, "records") == 1
            && listener_counter(&db, &udp_name, "skipped") == 1)
            .then_some(())
    });
    let stats = stats_json(&db);
    assert!(
        brute.is_some(),
        "no ftp.brute_force incident; stats {stats:?}\n{}",
        daemon.log()
    );
    assert_eq!(brute.unwrap().2, 8);
    assert!(counted.is_some(), "udp counters: {stats:?}");
    assert_eq!(listener_counter(&db, &tcp_name, "received"), 8);
    assert_eq!(listener_counter(&db, &tcp_name, "records"), 8);
    assert_eq!(listener_counter(&db, &tcp_name, "rejected"), 0);
    assert_eq!(listener_counter(&db, &tcp_name, "dropped"), 0);
    let stop = std::time::Instant::now();
    assert_eq!(daemon.terminate(Duration::from_secs(5)), Some(0));
    assert!(stop.elapsed() < Duration::from_secs(3));
    let human = daemon_support::portcullis(&["stats", "--db", db.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(&format!("listener    {tcp_name}: 8 received, 8 records")),
        "{text}"
    );
}
