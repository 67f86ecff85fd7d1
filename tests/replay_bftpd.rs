//! A Bftpd log replayed with the default rule pack raises the same FTP incidents as the other
//! FTP formats: brute force (each failed login is its own bftpd process, since bftpd exits
//! after a failed PASS, so the client must come from the per-pid connection memory), and the
//! anonymous login and upload rules. User names reach the printed output escaped.

mod common;

use common::*;

/// 192.0.2.50: nine connections, each with one failed login, 10 s apart (the brute-force rule
/// needs 8 within 120 s); the last user name carries a terminal escape. 192.0.2.60: an
/// anonymous login, then an upload.
fn bftpd_log() -> String {
    let mut log = String::new();
    for i in 0..9u32 {
        let pid = 3000 + i;
        let (m, s) = (i * 10 / 60, i * 10 % 60);
        log.push_str(&format!(
            "Mon Mar  2 10:{m:02}:{s:02} 2026 bftpd[{pid}]: Incoming connection from 192.0.2.50.\n\
             Mon Mar  2 10:{m:02}:{:02} 2026 bftpd[{pid}]: Login as user '{}' failed.\n",
            s + 1,
            if i == 8 { "admin\u{1b}[2J" } else { "admin" }
        ));
    }
    log.push_str(
        "Mon Mar  2 10:05:00 2026 bftpd[3100]: Incoming connection from 192.0.2.60.\n\
         Mon Mar  2 10:05:02 2026 bftpd[3100]: Successfully logged in as user 'anonymous'.\n\
         Mon Mar  2 10:05:09 2026 bftpd[3100]: Client is storing file '/incoming/tool.exe'.\n",
    );
    log
}

#[test]
fn bftpd_replay_raises_the_ftp_incidents() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bftpd.log"), bftpd_log()).unwrap();
    let config = tmp.path().join("portcullis.toml");
    std::fs::write(
        &config,
        "[[source]]\npath = \"bftpd.log\"\nformat = \"bftpd\"\ntimezone = \"UTC\"\nhost = \"203.0.113.10\"\n",
    )
    .unwrap();
    let db = tmp.path().join("p.db");
    let out = portcullis(&[
        "replay",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("21 lines, 21 events, 0 skipped, 0 rejected"),
        "{stdout}"
    );
    let mut got: Vec<String> = incidents(&db)
        .iter()
        .map(|i| {
            format!(
                "{} {} count={} {}..{}",
                i["rule"].as_str().unwrap(),
                i["group"],
                i["count"],
                i["first_seen"].as_str().unwrap(),
                i["last_seen"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            r#"ftp.anonymous_login {"destination.ip":"203.0.113.10","source.ip":"192.0.2.60"} count=1 2026-03-02T10:05:02.000000Z..2026-03-02T10:05:02.000000Z"#,
            r#"ftp.anonymous_upload {"destination.ip":"203.0.113.10","source.ip":"192.0.2.60"} count=1 2026-03-02T10:05:09.000000Z..2026-03-02T10:05:09.000000Z"#,
            r#"ftp.brute_force {"source.ip":"192.0.2.50"} count=9 2026-03-02T10:00:01.000000Z..2026-03-02T10:01:21.000000Z"#,
        ]
    );
    // The evidence lines print the escaped user name, never the raw escape.
    let text = portcullis_ok(
        &[
            "incidents",
            "--evidence",
            "--rule",
            "ftp.brute_force",
            "--db",
            db.to_str().unwrap(),
        ],
        0,
    );
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(
        text.contains(r"bftpd[3008]: Login as user 'admin\u{1b}[2J' failed."),
        "{text}"
    );
}

/// A user name with a terminal escape is printed escaped by `parse` (JSON), never raw.
#[test]
fn bftpd_user_names_are_printed_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("bftpd.log");
    std::fs::write(
        &log,
        "Mon Mar  2 10:00:01 2026 bftpd[7]: Login as user 'x\u{1b}[2J\"y' failed.\n",
    )
    .unwrap();
    let out = portcullis_ok(
        &[
            "parse",
            "--format",
            "bftpd",
            "--timezone",
            "UTC",
            log.to_str().unwrap(),
        ],
        0,
    );
    assert!(!out.contains('\u{1b}'), "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["user.name"], "x\u{1b}[2J\"y");
    assert!(out.contains(r#""user.name":"x\u001b[2J\"y""#), "{out}");
}
