//! Unit tests of generations rotated (and compressed) while the tailer was down, when no
//! position of the previous run names the generation: the anchors of `anchor.rs`.

use super::anchor::NO_SIBLINGS;
use super::*;
use crate::ingest::compressed::tests::gzip;
use crate::ingest::fingerprint::fingerprint;
use crate::ingest::lines::line_bytes;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

fn opts() -> TailOptions {
    TailOptions {
        read_from_start: true,
        ..TailOptions::default()
    }
}

/// Every line the tailer returns until a poll returns none.
fn drain(t: &mut Tailer) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let blocks = t.poll().unwrap();
        let before = out.len();
        for b in &blocks {
            for i in 0..b.block.lines.len() {
                out.push(String::from_utf8(line_bytes(&b.block, i).to_vec()).unwrap());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

fn append(path: &Path, bytes: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(bytes.as_bytes()).unwrap();
}

fn sib(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

/// logrotate's `compress` of `x.log<n>`: `x.log<n>.gz` made and the original removed.
fn compress(p: &Path, n: &str) {
    let plain = sib(p, n);
    fs::write(sib(p, &format!("{n}.gz")), gzip(&fs::read(&plain).unwrap())).unwrap();
    fs::remove_file(plain).unwrap();
}

/// A tailer that has followed `p` and read it to its end, then stopped: its positions.
fn run_once(p: &Path, expect: &[&str]) -> Vec<FilePosition> {
    let mut t = Tailer::new(vec![p.to_path_buf()], Vec::new(), opts());
    assert_eq!(drain(&mut t), expect);
    t.positions()
}

/// The failing case of issue 5: nothing of the live file had been read at the checkpoint
/// (it was empty), so no position named it past byte 0; while the daemon was down it was
/// written, rotated and compressed. Its lines live only in `x.log.1.gz`, which looks like
/// any older `.gz` but is newer than the anchor (`x.log.1` then, `x.log.2.gz` now).
#[test]
fn generation_never_read_and_compressed_while_down_is_read_from_its_gz() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    fs::write(sib(&p, ".1"), "h1\nh2\n").unwrap();
    fs::write(&p, "").unwrap();
    let positions = run_once(&p, &[]);
    let anchor = positions.iter().find(|q| q.offset == 6).expect("anchor");
    assert_eq!(anchor.fingerprint, fingerprint(b"h1\nh2\n"));
    // Down: written, rotated (`.1` → `.2`, then compressed too) and compressed.
    append(&p, "a1\na2\n");
    fs::rename(sib(&p, ".1"), sib(&p, ".2")).unwrap();
    compress(&p, ".2");
    fs::rename(&p, sib(&p, ".1")).unwrap();
    compress(&p, ".1");
    fs::write(&p, "b1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], positions, opts());
    assert_eq!(drain(&mut t), ["a1", "a2", "b1"]);
    let s = t.stats();
    assert_eq!((s.unseen_rotated, s.compressed_resumed), (1, 1));
    // And a second restart reads nothing again.
    let mut t = Tailer::new(vec![p.clone()], t.positions(), opts());
    assert!(drain(&mut t).is_empty());
}

/// The same with half a line read (a position at byte 0 all the same).
#[test]
fn half_a_line_read_then_rotated_and_compressed_while_down() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    fs::write(sib(&p, ".1.gz"), gzip(b"h1\n")).unwrap();
    fs::write(&p, "a").unwrap();
    let positions = run_once(&p, &[]);
    assert!(positions.iter().any(|q| q.offset == 3), "{positions:?}");
    append(&p, "1\na2\n");
    fs::rename(sib(&p, ".1.gz"), sib(&p, ".2.gz")).unwrap();
    fs::rename(&p, sib(&p, ".1")).unwrap();
    compress(&p, ".1");
    fs::write(&p, "b1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], positions, opts());
    assert_eq!(drain(&mut t), ["a1", "a2", "b1"]);
}

/// No rotated sibling at all at the last poll (the first rotation ever happens while the
/// daemon is down): the position with inode [`NO_SIBLINGS`] says every sibling is new.
#[test]
fn first_rotation_ever_while_down_reads_every_sibling() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    fs::write(&p, "").unwrap();
    let positions = run_once(&p, &[]);
    let none: Vec<_> = positions
        .iter()
        .filter(|q| q.inode == NO_SIBLINGS)
        .collect();
    assert_eq!(none.len(), 1, "{positions:?}");
    assert_eq!(none[0].path, p);
    append(&p, "a1\n");
    fs::rename(&p, sib(&p, ".1")).unwrap();
    compress(&p, ".1");
    append(&p, "b1\n");
    fs::rename(sib(&p, ".1.gz"), sib(&p, ".2.gz")).unwrap();
    fs::rename(&p, sib(&p, ".1")).unwrap();
    fs::write(&p, "c1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], positions, opts());
    assert_eq!(drain(&mut t), ["a1", "b1", "c1"]);
}

/// copytruncate while down of a file nothing had been read of: its copy is newer than the
/// anchor, read from 0, compressed or not; the truncated file from 0.
#[test]
fn copytruncate_while_down_of_a_file_never_read() {
    for compressed in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        fs::write(sib(&p, ".1"), "h1\n").unwrap();
        fs::write(&p, "").unwrap();
        let positions = run_once(&p, &[]);
        append(&p, "a1\na2\n");
        fs::rename(sib(&p, ".1"), sib(&p, ".2")).unwrap();
        fs::copy(&p, sib(&p, ".1")).unwrap();
        OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        if compressed {
            compress(&p, ".1");
        }
        append(&p, "b1\n");
        let mut t = Tailer::new(vec![p.clone()], positions, opts());
        assert_eq!(
            drain(&mut t),
            ["a1", "a2", "b1"],
            "compressed: {compressed}"
        );
    }
}

/// The anchor is the newest sibling with text: empty rotated files (`ifempty`) newer than
/// it are skipped, and a `.gz` anchor is measured by its decompressed length.
#[test]
fn anchor_skips_empty_siblings_and_measures_gz_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    fs::write(sib(&p, ".2.gz"), gzip(b"h1\nh2\nh3\n")).unwrap();
    fs::write(sib(&p, ".1.gz"), gzip(b"")).unwrap();
    fs::write(&p, "").unwrap();
    let positions = run_once(&p, &[]);
    let gz = fs::metadata(sib(&p, ".2.gz")).unwrap();
    let anchor = FilePosition {
        path: p.clone(),
        dev: std::os::unix::fs::MetadataExt::dev(&gz),
        inode: std::os::unix::fs::MetadataExt::ino(&gz),
        fingerprint: fingerprint(b"h1\nh2\nh3\n"),
        offset: 9,
    };
    assert!(positions.contains(&anchor), "{positions:?}");
    assert_eq!(positions.len(), 2);
    // Down: the live file written and rotated twice, with compress.
    append(&p, "a1\n");
    fs::rename(sib(&p, ".2.gz"), sib(&p, ".4.gz")).unwrap();
    fs::rename(sib(&p, ".1.gz"), sib(&p, ".3.gz")).unwrap();
    fs::rename(&p, sib(&p, ".2")).unwrap();
    compress(&p, ".2");
    fs::write(&p, "b1\n").unwrap();
    fs::rename(&p, sib(&p, ".1")).unwrap();
    compress(&p, ".1");
    fs::write(&p, "c1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], positions, opts());
    assert_eq!(drain(&mut t), ["a1", "b1", "c1"]);
}

/// Each path of a wildcard pattern has its own anchor; with none, positions of inode 0
/// that stay apart by their device number.
#[test]
fn every_path_of_a_pattern_has_its_own_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    fs::write(&a, "").unwrap();
    fs::write(&b, "").unwrap();
    let mut t = Tailer::new(vec![dir.path().join("*.log")], Vec::new(), opts());
    assert!(drain(&mut t).is_empty());
    let positions = t.positions();
    let none: Vec<_> = positions
        .iter()
        .filter(|q| q.inode == NO_SIBLINGS)
        .collect();
    assert_eq!(none.len(), 2);
    assert_ne!(none[0].dev, none[1].dev);
    for (f, line) in [(&a, "a1\n"), (&b, "b1\n")] {
        append(f, line);
        fs::rename(f, sib(f, ".1")).unwrap();
        compress(f, ".1");
    }
    let mut t = Tailer::new(vec![dir.path().join("*.log")], positions, opts());
    let mut got = drain(&mut t);
    got.sort();
    assert_eq!(got, ["a1", "b1"]);
}
