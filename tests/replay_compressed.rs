//! `portcullis replay` reads compressed files (rotated `.gz`, `.xz`, `.zst`, `.bz2` logs)
//! given on the command line, their format detected from the decompressed text: the same
//! incidents and evidence as the plain files.

mod common;

use common::*;
use std::io::Write;

/// `bytes` compressed as the command-line tool of `suffix`'s format writes it.
fn compress(suffix: &str, bytes: &[u8]) -> Vec<u8> {
    match suffix {
        "gz" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        "xz" => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        "zst" => zstd::stream::encode_all(bytes, 3).unwrap(),
        "bz2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        _ => unreachable!("{suffix}"),
    }
}

#[test]
fn replaying_compressed_samples_gives_the_same_incidents_and_evidence() {
    for suffix in ["gz", "xz", "zst", "bz2"] {
        replay_compressed(suffix);
    }
}

fn replay_compressed(suffix: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let mut args_plain = vec!["replay".to_string(), "--timezone".into(), "UTC".into()];
    let mut args_gz = args_plain.clone();
    for f in ["vsftpd.log", "kern.log"] {
        let plain = repo().join("samples").join(f);
        let gz = tmp.path().join(format!("{f}.1.{suffix}"));
        std::fs::write(&gz, compress(suffix, &std::fs::read(&plain).unwrap())).unwrap();
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
    assert_eq!(gz, plain, "{suffix}");
    assert!(plain.iter().any(|(r, _)| r == "firewall.trw_scanner"));
    // Evidence read back by offset (the random walk's) comes from the decompressed stream.
    assert!(
        !gz_shown.contains("line not available"),
        "{suffix}: {gz_shown}"
    );
    let packed = format!(".1.{suffix}:");
    let strip = |s: &str, dir: &str| s.replace(dir, "").replace(&packed, ":");
    let plain_dir = format!("{}/", repo().join("samples").display());
    let gz_dir = format!("{}/", tmp.path().display());
    assert_eq!(strip(&gz_shown, &gz_dir), strip(&plain_shown, &plain_dir));
}
