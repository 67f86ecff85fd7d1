//! Unit tests of compressed rotated files: every format read, and files that cannot be
//! decompressed (yet) counted, retried with a growing wait and read once whole.

use super::*;
use crate::ingest::compressed::tests::{compress, ALL};
use crate::ingest::compressed::Codec;
use crate::ingest::lines::line_bytes;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

fn opts(retry_first: Duration) -> TailOptions {
    TailOptions {
        read_from_start: true,
        retry_first,
        ..TailOptions::default()
    }
}

fn poll(t: &mut Tailer) -> Vec<String> {
    let mut out = Vec::new();
    for b in t.poll().unwrap() {
        for i in 0..b.block.lines.len() {
            out.push(String::from_utf8(line_bytes(&b.block, i).to_vec()).unwrap());
        }
    }
    out
}

fn sib(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

fn suffix(codec: Codec) -> &'static str {
    match codec {
        Codec::Gzip => ".gz",
        Codec::Xz => ".xz",
        Codec::Zstd => ".zst",
        Codec::Bzip2 => ".bz2",
    }
}

/// `n` numbered lines of generation `gen`, long enough that a compressor flushes some of
/// them before its end.
fn lines(gen: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{gen} line {i:05} {}", "x".repeat(i % 37)))
        .collect()
}

/// The lines of generation `gen` among `got`, in the order read.
fn of_gen(got: &[String], gen: &str) -> Vec<String> {
    got.iter().filter(|l| l.starts_with(gen)).cloned().collect()
}

fn text(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

/// Two generations rotated and compressed between two polls, in each format: the one we
/// had open is read on through its descriptor, the one never seen from its compressed file.
/// And a restart finds a position's generation in its compressed file by its head.
#[test]
fn each_format_is_read_like_gzip() {
    for codec in ALL {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        let packed = |n: &str| {
            let plain = sib(&p, n);
            let bytes = compress(codec, &fs::read(&plain).unwrap());
            fs::write(sib(&p, &format!("{n}{}", suffix(codec))), bytes).unwrap();
            fs::remove_file(plain).unwrap();
        };
        fs::write(&p, "a1\n").unwrap();
        let mut t = Tailer::new(vec![p.clone()], Vec::new(), opts(Duration::ZERO));
        assert_eq!(poll(&mut t), ["a1"]);
        fs::write(&p, "a1\na2\n").unwrap();
        fs::rename(&p, sib(&p, ".1")).unwrap();
        packed(".1");
        fs::write(&p, "b1\nb2\n").unwrap();
        let one = format!(".1{}", suffix(codec));
        fs::rename(sib(&p, &one), sib(&p, &format!(".2{}", suffix(codec)))).unwrap();
        fs::rename(&p, sib(&p, ".1")).unwrap();
        packed(".1");
        fs::write(&p, "c1\n").unwrap();
        assert_eq!(poll(&mut t), ["a2", "b1", "b2", "c1"], "{codec:?}");
        assert_eq!(t.stats().unseen_rotated, 1, "{codec:?}");
        // Down: written, rotated and compressed; the restart reads on from the position.
        let positions = t.positions();
        fs::write(&p, "c1\nc2\n").unwrap();
        let two = format!(".2{}", suffix(codec));
        fs::rename(sib(&p, &two), sib(&p, &format!(".3{}", suffix(codec)))).unwrap();
        fs::rename(sib(&p, &one), sib(&p, &two)).unwrap();
        fs::rename(&p, sib(&p, ".1")).unwrap();
        packed(".1");
        fs::write(&p, "d1\n").unwrap();
        let mut t = Tailer::new(vec![p.clone()], positions, opts(Duration::ZERO));
        let mut got = poll(&mut t);
        got.extend(poll(&mut t));
        assert_eq!(got, ["c2", "d1"], "{codec:?}");
        // The position read on, and the anchor (`b`, now `.2`) found at its end.
        assert_eq!(t.stats().compressed_resumed, 2, "{codec:?}");
    }
}

/// A generation never seen, rotated and compressed between two polls, whose compressed
/// file is still being written (in each format, cut where the compressor has written a
/// third, then two thirds): it is read as far as it decompresses, not taken as finished,
/// counted once as unreadable, and read on to its end once whole, each line once.
#[test]
fn a_compressed_file_being_written_is_read_once_whole() {
    for codec in ALL {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        fs::write(&p, "a1\n").unwrap();
        let mut t = Tailer::new(vec![p.clone()], Vec::new(), opts(Duration::ZERO));
        assert_eq!(poll(&mut t), ["a1"]);
        // `x.log` rotated to `.2` (we read it on through its descriptor); the generation
        // after it rotated and being compressed to `.1.<suffix>`, its original gone.
        fs::rename(&p, sib(&p, ".2")).unwrap();
        let gen_b = lines("b", 3000);
        let whole = compress(codec, &text(&gen_b));
        let packed = sib(&p, &format!(".1{}", suffix(codec)));
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&packed)
            .unwrap();
        out.write_all(&whole[..whole.len() / 3]).unwrap();
        fs::write(&p, "c1\n").unwrap();
        let mut got = poll(&mut t);
        assert!(got.len() < gen_b.len() + 1, "{codec:?}: not all of b yet");
        let s = t.stats();
        assert_eq!(s.compressed_unreadable, 1, "{codec:?}");
        assert_eq!(s.unreadable, [(p.clone(), 1)], "{codec:?}");
        assert_eq!(s.errors, 0, "{codec:?}");
        out.write_all(&whole[whole.len() / 3..whole.len() * 2 / 3])
            .unwrap();
        got.extend(poll(&mut t));
        out.write_all(&whole[whole.len() * 2 / 3..]).unwrap();
        for _ in 0..3 {
            got.extend(poll(&mut t));
        }
        assert_eq!(of_gen(&got, "b"), gen_b, "{codec:?}");
        assert_eq!(of_gen(&got, "c"), ["c1"], "{codec:?}");
        assert_eq!(got.len(), gen_b.len() + 1);
        let s = t.stats();
        assert_eq!(
            s.compressed_unreadable, 1,
            "{codec:?}: counted once per file"
        );
        assert_eq!(
            s.files_finished, 2,
            "{codec:?}: `.2` and the compressed one"
        );
    }
}

/// A new compressed sibling whose head does not decompress yet (the compressor has written
/// little more than its header) is looked at again, not read from a guess, and read whole
/// once it decompresses.
#[test]
fn a_compressed_file_with_no_text_yet_is_looked_at_again() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    fs::write(&p, "a1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], Vec::new(), opts(Duration::ZERO));
    assert_eq!(poll(&mut t), ["a1"]);
    fs::rename(&p, sib(&p, ".2")).unwrap();
    let whole = compress(Codec::Gzip, &text(&lines("b", 50)));
    fs::write(sib(&p, ".1.gz"), &whole[..12]).unwrap();
    fs::write(&p, "c1\n").unwrap();
    assert_eq!(poll(&mut t), ["c1"]);
    assert!(poll(&mut t).is_empty());
    assert_eq!(t.stats().compressed_unreadable, 1);
    fs::write(sib(&p, ".1.gz"), &whole).unwrap();
    let got = poll(&mut t);
    assert_eq!(got, lines("b", 50));
    assert_eq!(t.stats().compressed_unreadable, 1);
}

/// While the compressor writes the `.gz` of a generation never seen, its original is still
/// there: the `.gz` (same head) is taken for its compression, and only the original is read.
#[test]
fn a_gz_beside_its_original_is_not_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    fs::write(&p, "a1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], Vec::new(), opts(Duration::ZERO));
    assert_eq!(poll(&mut t), ["a1"]);
    fs::rename(&p, sib(&p, ".2")).unwrap();
    let gen_b = lines("b", 3000);
    fs::write(sib(&p, ".1"), text(&gen_b)).unwrap();
    let whole = compress(Codec::Gzip, &text(&gen_b));
    fs::write(sib(&p, ".1.gz"), &whole[..whole.len() / 2]).unwrap();
    fs::write(&p, "c1\n").unwrap();
    let mut got = poll(&mut t);
    fs::write(sib(&p, ".1.gz"), &whole).unwrap();
    fs::remove_file(sib(&p, ".1")).unwrap();
    got.extend(poll(&mut t));
    got.extend(poll(&mut t));
    let mut want = gen_b;
    want.push("c1".into());
    assert_eq!(got, want);
}

/// A corrupt compressed file is not read past its damage nor closed: it waits, tried again
/// after one wait then a doubled one (not at every poll), and read on once whole again.
#[test]
fn a_corrupt_file_is_retried_with_a_growing_wait() {
    let first = Duration::from_millis(300);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    fs::write(&p, "a1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], Vec::new(), opts(first));
    assert_eq!(poll(&mut t), ["a1"]);
    fs::rename(&p, sib(&p, ".2")).unwrap();
    let gen_b = lines("b", 3000);
    let whole = compress(Codec::Gzip, &text(&gen_b));
    // Damage a decoder sees at once (all-ones bytes are a reserved deflate block type),
    // so nothing wrong is read before it.
    let mut bad = whole[..whole.len() * 2 / 3].to_vec();
    bad.extend([0xff; 64]);
    let packed = sib(&p, ".1.gz");
    fs::write(&packed, &bad).unwrap();
    fs::write(&p, "c1\n").unwrap();
    let mut got = poll(&mut t);
    let read_before = got.len();
    assert!(read_before < gen_b.len());
    let failures = |t: &Tailer| {
        let g = t.gens.iter().find(|g| g.unreadable().is_some());
        g.map_or(0, |g| g.unreadable().unwrap().0)
    };
    assert_eq!(failures(&t), 1);
    got.extend(poll(&mut t));
    assert_eq!(failures(&t), 1, "not tried again within the first wait");
    std::thread::sleep(first + Duration::from_millis(50));
    got.extend(poll(&mut t));
    assert_eq!(failures(&t), 2, "tried again once the wait was over");
    std::thread::sleep(first + Duration::from_millis(50));
    got.extend(poll(&mut t));
    assert_eq!(failures(&t), 2, "the second wait is twice as long");
    assert_eq!(got.len(), read_before, "nothing past the damage");
    // Made whole in place (the same inode): read on from where it stopped.
    let mut f = OpenOptions::new().write(true).open(&packed).unwrap();
    f.write_all(&whole).unwrap();
    std::thread::sleep(first);
    got.extend(poll(&mut t));
    got.extend(poll(&mut t));
    assert_eq!(of_gen(&got, "b"), gen_b);
    assert_eq!(of_gen(&got, "c"), ["c1"]);
    assert_eq!(got.len(), gen_b.len() + 1);
    let s = t.stats();
    assert_eq!((s.compressed_unreadable, s.errors), (1, 0));
}
