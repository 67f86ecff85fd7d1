//! The invariant checks must be able to fail: each is fed hand-made lines that break it.

use super::checks_ftp::{check_anonymous, check_logins, check_sensitive};
use super::checks_fw::{check_off_port, check_scans, check_sweep};
use super::logscan::{
    is_sensitive, max_distinct_in_window, max_fails_before_success, max_in_window, parse_vs, Fw,
    Vs, SEC,
};
use super::scenarios::Actors;
use super::world::ip;

#[test]
fn checks_can_fail() {
    // The window helpers the checks rely on must detect what they are meant to detect.
    let times: Vec<i64> = (0..8).map(|i| i * 17 * SEC).collect();
    assert_eq!(max_in_window(&times, 120 * SEC), 8);
    assert_eq!(max_in_window(&times, 118 * SEC), 7);
    let hits: Vec<(i64, u16)> = (0..20)
        .map(|i| (i * 10 * SEC, 1000 + (i % 16) as u16))
        .collect();
    assert_eq!(max_distinct_in_window(&hits, 300 * SEC), 16);
    assert_eq!(max_distinct_in_window(&hits, 50 * SEC), 6);
    let fails: Vec<i64> = (0..5).map(|i| i * 60 * SEC).collect();
    assert_eq!(max_fails_before_success(&fails, &[600 * SEC], 600 * SEC), 5);
    assert_eq!(max_fails_before_success(&fails, &[601 * SEC], 600 * SEC), 4);
    assert_eq!(max_fails_before_success(&fails, &[90 * SEC], 600 * SEC), 2);
    assert_eq!(max_fails_before_success(&fails, &[], 600 * SEC), 0);
    assert!(is_sensitive("/a/b.PDF") && is_sensitive("/x.tar.7z") && is_sensitive("/k.key"));
    assert!(!is_sensitive("/a/b.tar.gz") && !is_sensitive("/pdf") && !is_sensitive(""));
    let v = parse_vs("Mon Mar  2 08:00:01 2026 [pid 7] [ftp] OK LOGIN: Client \"::ffff:192.0.2.1\", anon password \"x\"");
    assert_eq!(
        (v[0].pid, v[0].client.as_str(), v[0].anon, v[0].arg.as_str()),
        (7, "192.0.2.1", true, "")
    );
    let v = parse_vs("Mon Mar  2 08:00:01 2026 [pid 7] [ftp] OK UPLOAD: Client \"192.0.2.1\", \"/incoming/a.iso\", 9 bytes, 1.00Kbyte/sec");
    assert_eq!(
        (v[0].arg.as_str(), v[0].anon, v[0].anon_user()),
        ("/incoming/a.iso", false, true)
    );
}

fn fake_vs(client: &str, t: i64, action: &str) -> Vs {
    let user = if action == "CONNECT" { "" } else { "bob" };
    Vs {
        t: t * SEC,
        pid: 1,
        client: client.into(),
        user: user.into(),
        action: action.into(),
        anon: false,
        arg: String::new(),
    }
}

fn fake_file(client: &str, t: i64, user: &str, action: &str, path: &str) -> Vs {
    Vs {
        user: user.into(),
        arg: path.into(),
        ..fake_vs(client, t, action)
    }
}

fn fake_fw(src: &str, t: i64, dpt: u16) -> Fw {
    Fw {
        t: t * SEC,
        prefix: "ACCEPT_IN".into(),
        src: src.into(),
        dst: "203.0.113.10".into(),
        dpt,
    }
}

fn fake_actors() -> Actors {
    Actors {
        brute: Some(ip(192, 0, 2, 1)),
        scanner: Some(ip(192, 0, 2, 2)),
        offport: vec![ip(192, 0, 2, 3)],
        ..Actors::default()
    }
}

#[test]
#[should_panic(expected = "benign 198.51.100.9 has 8 failures in 120 s")]
fn login_check_catches_a_benign_burst() {
    let vs: Vec<Vs> = (0..8)
        .flat_map(|i| {
            [
                fake_vs("192.0.2.1", i * 10, "FAIL LOGIN"),
                fake_vs("198.51.100.9", i * 10, "FAIL LOGIN"),
            ]
        })
        .collect();
    check_logins(&vs, &fake_actors(), "fake");
}

#[test]
#[should_panic(expected = "benign 198.51.100.9 has 5 failures then a success within 10 min")]
fn login_check_catches_benign_failures_then_a_success() {
    // Five typos spread over nine minutes, under the brute-force rate, then a login.
    let mut vs: Vec<Vs> = (0..5)
        .map(|i| fake_vs("198.51.100.9", i * 130, "FAIL LOGIN"))
        .collect();
    vs.push(fake_vs("198.51.100.9", 590, "OK LOGIN"));
    check_logins(&vs, &Actors::default(), "fake");
}

#[test]
#[should_panic(expected = "brute force success has only 4 failures before its login")]
fn login_check_catches_a_brute_force_success_that_does_not_fire() {
    let mut vs: Vec<Vs> = (0..4)
        .map(|i| fake_vs("192.0.2.7", i * 10, "FAIL LOGIN"))
        .collect();
    vs.push(fake_vs("192.0.2.7", 60, "OK LOGIN"));
    let actors = Actors {
        brute_ok: Some(ip(192, 0, 2, 7)),
        ..Actors::default()
    };
    check_logins(&vs, &actors, "fake");
}

#[test]
#[should_panic(expected = "anonymous uploads (fake)")]
fn anonymous_check_catches_an_unlisted_upload() {
    let mut login = fake_file("192.0.2.5", 10, "ftp", "OK LOGIN", "");
    login.anon = true;
    let vs = vec![
        login,
        fake_file("192.0.2.5", 20, "ftp", "OK UPLOAD", "/incoming/a.iso"),
    ];
    let actors = Actors {
        anon: vec![ip(192, 0, 2, 5)],
        ..Actors::default()
    };
    check_anonymous(&vs, &actors, "fake");
}

#[test]
#[should_panic(expected = "benign 198.51.100.9 OK DOWNLOAD \"/pub/report.PDF\"")]
fn sensitive_check_catches_a_benign_document() {
    let vs = vec![
        fake_file("192.0.2.3", 10, "bob", "OK UPLOAD", "/drop/x.zip"),
        fake_file("198.51.100.9", 20, "bob", "OK DOWNLOAD", "/pub/report.PDF"),
    ];
    check_sensitive(&vs, &fake_actors(), "fake");
}

#[test]
#[should_panic(expected = "192.0.2.3 moves no sensitive file")]
fn sensitive_check_catches_a_drop_without_archives() {
    let vs = vec![fake_file(
        "192.0.2.3",
        10,
        "bob",
        "OK UPLOAD",
        "/drop/x.tar.gz",
    )];
    check_sensitive(&vs, &fake_actors(), "fake");
}

#[test]
#[should_panic(expected = "benign 198.51.100.9 -> 203.0.113.10 reaches 15 ports")]
fn scan_check_catches_a_benign_scan() {
    let fw: Vec<Fw> = (0..15)
        .flat_map(|i| {
            [
                fake_fw("192.0.2.2", i, 100 + i as u16),
                fake_fw("198.51.100.9", i * 20, 30_000 + i as u16),
            ]
        })
        .collect();
    check_scans(&fw, &fake_actors(), "fake");
}

#[test]
#[should_panic(expected = "benign 198.51.100.9 is denied by 25 hosts on port 22 in 5 min")]
fn sweep_check_catches_a_benign_sweep() {
    let fw: Vec<Fw> = (0..25)
        .map(|i| Fw {
            prefix: "DROP_IN".into(),
            dst: format!("203.0.113.{}", 100 + i),
            ..fake_fw("198.51.100.9", i * 11, 22)
        })
        .collect();
    check_sweep(&fw, &Actors::default(), "fake");
}

#[test]
#[should_panic(expected = "has ACCEPT to 30001")]
fn off_port_check_catches_a_data_connection_near_a_connect() {
    let vs = vec![
        fake_vs("198.51.100.9", 100, "CONNECT"),
        fake_vs("192.0.2.3", 200, "CONNECT"),
    ];
    let fw = vec![
        fake_fw("198.51.100.9", 99, 21),
        fake_fw("198.51.100.9", 102, 30_001),
        fake_fw("192.0.2.3", 199, 2121),
    ];
    check_off_port(&vs, &fw, &fake_actors(), "fake");
}

#[test]
#[should_panic(expected = "lacks its firewall record")]
fn off_port_check_catches_a_missing_firewall_record() {
    let vs = vec![
        fake_vs("192.0.2.3", 200, "CONNECT"),
        fake_vs("192.0.2.3", 900, "CONNECT"),
    ];
    let fw = vec![
        fake_fw("192.0.2.3", 199, 2121),
        fake_fw("192.0.2.3", 890, 2121),
    ];
    check_off_port(&vs, &fw, &fake_actors(), "fake");
}
