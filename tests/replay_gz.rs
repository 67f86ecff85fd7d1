//! `portcullis replay` reads gzip-compressed files (rotated `.gz` logs) given on the command
//! line: the same incidents and evidence as the plain files.

mod common;

use common::*;
use std::io::Write;

#[test]
fn replaying_gzipped_samples_gives_the_same_incidents_and_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args_plain = vec!["replay".to_string(), "--timezone".into(), "UTC".into()];
    let mut args_gz = args_plain.clone();
    for f in ["vsftpd.log", "kern.log"] {
        let plain = repo().join("samples").join(f);
        let gz = tmp.path().join(format!("{f}.1.gz"));
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&std::fs::read(&plain).unwrap()).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        args_plain.push(plain.display().to_string());
        args_gz.push(gz.display().to_string());
    }
    let evidence = |args: &mut Vec<String>, db: &str| {
        let db = tmp.path().join(db);
        args.extend(["--db".into(), db.display().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = portcullis_ok(&args, 0);
        assert!(out.contains(" 0 rejected"), "{out}");
        let shown = portcullis_ok(
            &["incidents", "--evidence", "--db", db.to_str().unwrap()],
            0,
        );
        (rule_and_group(&incidents(&db)), shown)
    };
    let (plain, plain_shown) = evidence(&mut args_plain, "plain.db");
    let (gz, gz_shown) = evidence(&mut args_gz, "gz.db");
    assert_eq!(gz, plain);
    assert!(plain.iter().any(|(r, _)| r == "firewall.trw_scanner"));
    // Evidence read back by offset (the random walk's) comes from the decompressed stream.
    assert!(!gz_shown.contains("line not available"), "{gz_shown}");
    let strip = |s: &str, dir: &str| s.replace(dir, "").replace(".1.gz:", ":");
    let plain_dir = format!("{}/", repo().join("samples").display());
    let gz_dir = format!("{}/", tmp.path().display());
    assert_eq!(strip(&gz_shown, &gz_dir), strip(&plain_shown, &plain_dir));
}
