//! `portcullis rules check` and `rules test` through the real binary.

mod common;

use common::*;

#[test]
fn rules_check_lists_the_default_pack() {
    let out = portcullis_ok(&["rules", "check"], 0);
    assert!(out.contains("ok  ftp.brute_force "), "{out}");
    assert!(out.ends_with("15 rules\n"), "{out}");
}

#[test]
fn rules_check_reports_every_bad_file_with_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("ftp")).unwrap();
    std::fs::write(
        tmp.path().join("ftp/a.rule"),
        "rule a\ntitle \"t\"\nseverity low\nwhere source.ipp == 1.2.3.4\ncount 1 within 1m\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("b.rule"), "rule b\ncount many\n").unwrap();
    let out = portcullis(&["rules", "check", "--rules", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("b.rule:2:7: expected a number of events"),
        "{err}"
    );
    assert!(
        err.contains("a.rule:4:7: unknown field `source.ipp`"),
        "{err}"
    );
}

#[test]
fn rules_test_shows_matches_and_the_incident() {
    let dir = repo().join("tests/scenarios/ftp.brute_force");
    let out = portcullis_ok(
        &[
            "rules",
            "test",
            "ftp.brute_force",
            dir.join("vsftpd.log").to_str().unwrap(),
            "--timezone",
            "UTC",
        ],
        0,
    );
    assert!(out.contains("25 events matched; 1 incidents"), "{out}");
    assert!(
        out.contains("count=10  FTP brute force from 192.0.2.50: 10 failed logins"),
        "{out}"
    );
    // Raw lines keep their quotes.
    assert!(out.contains(r#"FAIL LOGIN: Client "192.0.2.51""#), "{out}");
}

#[test]
fn rules_test_names_the_known_rules_for_a_typo() {
    let out = portcullis(&["rules", "test", "ftp.brute", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no rule `ftp.brute`; known: ftp.anonymous_login"));
}
