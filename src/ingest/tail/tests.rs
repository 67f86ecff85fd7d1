//! Unit tests of the tailer: each rotation case with exact lines and counters.

use super::*;
use crate::ingest::fingerprint::{fingerprint, EMPTY_FINGERPRINT};
use crate::ingest::lines::line_bytes;
use portcullis_parsers::MAX_LINE_LEN;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn text(blocks: &[TailBlock]) -> Vec<String> {
    let mut out = Vec::new();
    for b in blocks {
        for i in 0..b.block.lines.len() {
            out.push(String::from_utf8(line_bytes(&b.block, i).to_vec()).unwrap());
        }
    }
    out
}

/// The positions of files (without those saying a path had no rotated sibling).
fn files(t: &Tailer) -> Vec<FilePosition> {
    let none = super::anchor::NO_SIBLINGS;
    t.positions()
        .into_iter()
        .filter(|p| p.inode != none)
        .collect()
}

fn poll(t: &mut Tailer) -> Vec<String> {
    text(&t.poll().unwrap())
}

fn start(path: &Path, positions: Vec<FilePosition>) -> Tailer {
    let opts = TailOptions {
        read_from_start: true,
        ..TailOptions::default()
    };
    Tailer::new(vec![path.to_path_buf()], positions, opts)
}

fn append(path: &Path, bytes: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(bytes.as_bytes()).unwrap();
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    (dir, p)
}

fn sib(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

#[test]
fn partial_last_line_waits_for_its_newline() {
    let (_d, p) = setup();
    append(&p, "a\r\nb");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["a"]);
    assert_eq!(t.positions()[0].offset, 3);
    assert_eq!(poll(&mut t), Vec::<String>::new());
    append(&p, "c\n\n");
    let blocks = t.poll().unwrap();
    assert_eq!(text(&blocks), ["bc", ""]);
    assert_eq!(blocks[0].block.lines[0].0, 3, "source offset of the line");
    assert_eq!(t.positions()[0].offset, 7);
}

#[test]
fn from_end_at_startup_and_from_start_for_files_appearing_later() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    append(&a, "old1\nold2\npart");
    let mut t = Tailer::new(
        vec![dir.path().join("*.log")],
        vec![],
        TailOptions::default(),
    );
    assert!(poll(&mut t).is_empty());
    append(&a, "ial\nnew\n");
    assert_eq!(poll(&mut t), ["partial", "new"]);
    append(&dir.path().join("b.log"), "b1\n");
    append(&dir.path().join("c.txt"), "not matched\n");
    assert_eq!(poll(&mut t), ["b1"]);
    let paths: Vec<_> = files(&t).into_iter().map(|p| p.path).collect();
    assert_eq!(paths, [a, dir.path().join("b.log")]);
}

#[test]
fn rename_and_create_reads_the_old_file_to_its_end_then_the_new_one() {
    let (_d, p) = setup();
    let mut writer = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&p)
        .unwrap();
    writer.write_all(b"a1\n").unwrap();
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["a1"]);
    writer.write_all(b"a2\na3-").unwrap();
    fs::rename(&p, sib(&p, ".1")).unwrap();
    File::create(&p).unwrap();
    // The old file is read through its descriptor; the writer has not switched yet.
    assert_eq!(poll(&mut t), ["a2"]);
    assert_eq!(t.positions().len(), 2);
    writer.write_all(b"end\n").unwrap();
    append(&p, "b1\n");
    assert_eq!(poll(&mut t), ["a3-end", "b1"]);
    let s = t.stats();
    assert_eq!((s.rotations, s.files_finished, s.files.len()), (1, 1, 1));
    assert_eq!(t.positions()[0].offset, 3);
}

#[test]
fn copytruncate_reads_the_rest_from_the_copy_then_the_file_from_zero() {
    let (_d, p) = setup();
    append(&p, "l1\nl2\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["l1", "l2"]);
    append(&p, "l3\nl4\n");
    fs::copy(&p, sib(&p, ".1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, "n1\n");
    assert_eq!(poll(&mut t), ["l3", "l4", "n1"]);
    let s = t.stats();
    assert_eq!((s.truncations, s.truncations_without_copy), (1, 0));
    assert_eq!((s.files_finished, s.unseen_rotated), (1, 0));
    assert_eq!(t.positions()[0].offset, 3);
}

#[test]
fn truncation_without_copy_reads_from_zero_and_is_counted() {
    let (_d, p) = setup();
    append(&p, "l1\nl2\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["l1", "l2"]);
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, "n1\n");
    assert_eq!(poll(&mut t), ["n1"]);
    assert_eq!(t.stats().truncations_without_copy, 1);
}

#[test]
fn truncated_file_regrown_past_the_offset_is_detected_despite_an_empty_first_line() {
    // fail2ban#3365: the first line is empty in both generations, and the new one is
    // already longer than the old offset when we look.
    let (_d, p) = setup();
    append(&p, "\nalpha\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["", "alpha"]);
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, "\nbravo, longer than before\n");
    assert_eq!(poll(&mut t), ["", "bravo, longer than before"]);
    assert_eq!(t.stats().truncations, 1);
}

#[test]
fn deleted_file_is_read_to_its_end_then_dropped() {
    let (_d, p) = setup();
    let mut writer = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&p)
        .unwrap();
    writer.write_all(b"l1\n").unwrap();
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["l1"]);
    writer.write_all(b"l2\n").unwrap();
    fs::remove_file(&p).unwrap();
    assert_eq!(poll(&mut t), ["l2"]);
    assert!(files(&t).is_empty());
    let s = t.stats();
    assert_eq!((s.deletions, s.files_finished, s.finished_lines), (1, 1, 2));
    append(&p, "m1\n");
    assert_eq!(poll(&mut t), ["m1"]);
}

#[test]
fn two_rotations_between_polls_read_the_generation_never_seen() {
    let (_d, p) = setup();
    append(&p, "a1\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["a1"]);
    append(&p, "a2\n");
    fs::rename(&p, sib(&p, ".1")).unwrap();
    append(&p, "b1\n");
    fs::rename(sib(&p, ".1"), sib(&p, ".2")).unwrap();
    fs::rename(&p, sib(&p, ".1")).unwrap();
    append(&p, "c1\n");
    assert_eq!(poll(&mut t), ["a2", "b1", "c1"]);
    let s = t.stats();
    assert_eq!((s.rotations, s.unseen_rotated, s.files_finished), (1, 1, 2));
}

#[test]
fn restart_continues_exactly_where_it_stopped() {
    let (_d, p) = setup();
    append(&p, "l1\nl2\nl3");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["l1", "l2"]);
    let pos = t.positions();
    assert_eq!(pos[0].offset, 6);
    assert_eq!(pos[0].fingerprint, fingerprint(b"l1\nl2\n"));
    let meta = fs::metadata(&p).unwrap();
    assert_eq!((pos[0].dev, pos[0].inode), (meta.dev(), meta.ino()));
    append(&p, "-end\nl4\n");
    let mut t = start(&p, pos.clone());
    assert_eq!(
        t.positions(),
        pos,
        "before the first poll: the positions given"
    );
    assert_eq!(poll(&mut t), ["l3-end", "l4"]);
}

#[test]
fn restart_after_rename_while_down_finishes_the_old_file_then_reads_the_new() {
    let (_d, p) = setup();
    append(&p, "a1\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["a1"]);
    append(&p, "a2\n");
    fs::rename(&p, sib(&p, ".1")).unwrap();
    append(&p, "b1\n");
    // Not started from start: the new file is read from 0 because its path had a position.
    let opts = TailOptions::default();
    let mut t = Tailer::new(vec![p.clone()], t.positions(), opts);
    assert_eq!(poll(&mut t), ["a2", "b1"]);
    assert_eq!(t.stats().files_finished, 1);
}

#[test]
fn restart_after_copytruncate_while_down_reads_the_copy_from_the_offset() {
    let (_d, p) = setup();
    append(&p, "l1\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["l1"]);
    append(&p, "l2\n");
    fs::copy(&p, sib(&p, "-20240101")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, "n1\nn2 longer than before\n");
    let mut t = start(&p, t.positions());
    assert_eq!(poll(&mut t), ["l2", "n1", "n2 longer than before"]);
    let s = t.stats();
    assert_eq!((s.truncations, s.truncations_without_copy), (1, 0));
}

#[test]
fn restart_after_two_rotations_while_down_reads_the_middle_generation() {
    let (_d, p) = setup();
    append(&p, "a1\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["a1"]);
    let pos = t.positions();
    append(&p, "a2\n");
    fs::rename(&p, sib(&p, ".1")).unwrap();
    append(&p, "b1\n");
    fs::rename(sib(&p, ".1"), sib(&p, ".2")).unwrap();
    fs::rename(&p, sib(&p, ".1")).unwrap();
    append(&p, "c1\n");
    let mut t = start(&p, pos);
    assert_eq!(poll(&mut t), ["a2", "b1", "c1"]);
    assert_eq!(t.stats().unseen_rotated, 1);
}

#[test]
fn restart_drops_a_position_whose_file_is_gone() {
    let (_d, p) = setup();
    append(&p, "a1\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["a1"]);
    let pos = t.positions();
    drop(t);
    fs::remove_file(&p).unwrap();
    let mut t = start(&p, pos);
    assert!(poll(&mut t).is_empty());
    assert_eq!(t.stats().files_dropped, 1);
    assert!(files(&t).is_empty());
}

#[test]
fn position_on_a_file_with_another_head_is_a_new_file() {
    // An inode reused by another file: same device and inode, other bytes.
    let (_d, p) = setup();
    append(&p, "new content\n");
    let meta = fs::metadata(&p).unwrap();
    let pos = FilePosition {
        path: p.clone(),
        dev: meta.dev(),
        inode: meta.ino(),
        fingerprint: fingerprint(b"old content\n"),
        offset: 12,
    };
    let mut t = start(&p, vec![pos]);
    assert_eq!(poll(&mut t), ["new content"]);
    assert_eq!(t.stats().truncations_without_copy, 1);
}

#[test]
fn a_short_file_keeps_its_identity_while_it_grows() {
    let (_d, p) = setup();
    let mut t = start(&p, vec![]);
    assert!(poll(&mut t).is_empty());
    append(&p, "part");
    assert!(poll(&mut t).is_empty());
    assert_eq!(t.positions()[0].fingerprint, EMPTY_FINGERPRINT);
    append(&p, "\n");
    assert_eq!(poll(&mut t), ["part"]);
    let early = t.positions();
    assert_eq!(early[0].fingerprint, fingerprint(b"part\n"));
    append(&p, "more\n");
    // The old checkpoint still names this file: its fingerprint covers its own 5 bytes.
    let mut t2 = start(&p, early);
    assert_eq!(poll(&mut t2), ["more"]);
    assert_eq!(poll(&mut t), ["more"]);
    assert_eq!(t.positions()[0].fingerprint, fingerprint(b"part\nmore\n"));
}

#[test]
fn overlong_line_is_reported_once_across_polls() {
    let (_d, p) = setup();
    let opts = TailOptions {
        read_from_start: true,
        max_bytes_per_poll: 10_000,
        ..TailOptions::default()
    };
    let mut t = Tailer::new(vec![p.clone()], vec![], opts);
    append(&p, &format!("a\n{}", "x".repeat(MAX_LINE_LEN + 5000)));
    let mut too_long = Vec::new();
    let mut lines = Vec::new();
    for _ in 0..5 {
        let blocks = t.poll().unwrap();
        lines.extend(text(&blocks));
        too_long.extend(blocks.iter().flat_map(|b| b.block.too_long.clone()));
    }
    assert_eq!(lines, ["a"]);
    assert!(too_long.is_empty(), "unfinished: not reported yet");
    assert_eq!(t.positions()[0].offset, 2, "a restart would skip it again");
    append(&p, "\nb\n");
    let blocks = t.poll().unwrap();
    assert_eq!(text(&blocks), ["b"]);
    assert_eq!(blocks[0].block.too_long, [2]);
    assert_eq!(t.stats().files[0].too_long, 1);
}

#[test]
fn byte_budget_bounds_each_poll_and_paths_take_turns() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.log", "b.log"] {
        let lines: String = (0..100).map(|i| format!("{name} line {i:04}\n")).collect();
        append(&dir.path().join(name), &lines);
    }
    let opts = TailOptions {
        read_from_start: true,
        max_bytes_per_poll: 1000,
        ..TailOptions::default()
    };
    let mut t = Tailer::new(vec![dir.path().join("*.log")], vec![], opts);
    let (mut got, mut polls) = (Vec::new(), 0);
    let mut read_before = 0;
    loop {
        let lines = poll(&mut t);
        let read: u64 = t.stats().files.iter().map(|f| f.bytes).sum();
        assert!(read - read_before <= 1000);
        read_before = read;
        if lines.is_empty() {
            break;
        }
        if polls == 1 {
            // The second poll starts with the other file.
            assert!(lines[0].starts_with("b.log"), "{lines:?}");
        }
        got.extend(lines);
        polls += 1;
    }
    assert_eq!(got.len(), 200);
    assert_eq!(polls, 4);
}

#[test]
fn a_pattern_matching_rotated_names_does_not_read_a_file_twice() {
    let (dir, p) = setup();
    append(&p, "a1\n");
    let opts = TailOptions {
        read_from_start: true,
        ..TailOptions::default()
    };
    let mut t = Tailer::new(vec![dir.path().join("x.log*")], vec![], opts);
    assert_eq!(poll(&mut t), ["a1"]);
    fs::rename(&p, sib(&p, ".1")).unwrap();
    append(&p, "b1\n");
    assert_eq!(poll(&mut t), ["b1"]);
    assert_eq!(files(&t).len(), 2);
}

#[test]
fn a_copy_seen_before_its_truncation_is_not_read_twice() {
    // copytruncate copies, then truncates: a poll can fall in between.
    for first in ["", "l0\n"] {
        let (_d, p) = setup();
        append(&p, first);
        let mut t = start(&p, vec![]);
        assert_eq!(poll(&mut t).len(), first.len() / 3);
        append(&p, "l1\nl2\n");
        fs::copy(&p, sib(&p, ".1")).unwrap();
        assert_eq!(poll(&mut t), ["l1", "l2"]);
        OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&p, "n1\n");
        assert_eq!(poll(&mut t), ["n1"]);
        let s = t.stats();
        assert_eq!((s.truncations, s.truncations_without_copy), (1, 0));
        assert_eq!((s.unseen_rotated, s.files_finished), (0, 1));
    }
}

/// logrotate `compress`: the generation a restart's position names was rotated to `.1` and
/// compressed to `.1.gz` (a new inode, the original removed) while we were down.
#[test]
fn restart_reads_the_rest_of_a_generation_compressed_while_down() {
    use crate::ingest::compressed::tests::gzip;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    std::fs::write(&p, "a1\na2\n").unwrap();
    let opts = TailOptions {
        read_from_start: true,
        ..TailOptions::default()
    };
    let mut t = Tailer::new(vec![p.clone()], Vec::new(), opts.clone());
    assert_eq!(text(&t.poll().unwrap()), ["a1", "a2"]);
    let positions = t.positions();
    drop(t);
    // Written after the checkpoint, then rotated, compressed and a new generation begun.
    std::fs::write(&p, "a1\na2\na3\na4\n").unwrap();
    let old = std::fs::read(&p).unwrap();
    std::fs::write(dir.path().join("x.log.1.gz"), gzip(&old)).unwrap();
    std::fs::remove_file(&p).unwrap();
    std::fs::write(&p, "b1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], positions, opts);
    let mut got = text(&t.poll().unwrap());
    got.extend(text(&t.poll().unwrap()));
    assert_eq!(got, ["a3", "a4", "b1"]);
    let s = t.stats();
    assert_eq!((s.compressed_resumed, s.files_dropped), (1, 0));
    // The compressed generation is finished and its position gone; a further restart
    // reads nothing twice.
    let mut t = Tailer::new(vec![p.clone()], t.positions(), TailOptions::default());
    assert!(text(&t.poll().unwrap()).is_empty());
}

/// Two rotations while down with `delaycompress`: ours is now `.2.gz`, the next generation
/// `.1` (plain) and a third is live. All rests are read once, oldest first.
#[test]
fn restart_after_delaycompress_reads_gz_then_plain_then_live() {
    use crate::ingest::compressed::tests::gzip;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.log");
    std::fs::write(&p, "a1\n").unwrap();
    let opts = TailOptions {
        read_from_start: true,
        ..TailOptions::default()
    };
    let mut t = Tailer::new(vec![p.clone()], Vec::new(), opts.clone());
    assert_eq!(text(&t.poll().unwrap()), ["a1"]);
    let positions = t.positions();
    drop(t);
    std::fs::write(dir.path().join("x.log.2.gz"), gzip(b"a1\na2\n")).unwrap();
    std::fs::remove_file(&p).unwrap();
    std::fs::write(dir.path().join("x.log.1"), "b1\nb2\n").unwrap();
    std::fs::write(&p, "c1\n").unwrap();
    let mut t = Tailer::new(vec![p.clone()], positions, opts);
    let mut got = Vec::new();
    for _ in 0..3 {
        got.extend(text(&t.poll().unwrap()));
    }
    assert_eq!(got, ["a2", "b1", "b2", "c1"]);
}

/// logrotate `compress` without `delaycompress`, and a slow poll: two generations rotated
/// and compressed between two polls. The one we had open is read on through its descriptor
/// (its `.gz` is known by its head), the one never seen is read from its `.gz`.
#[test]
fn generations_rotated_and_compressed_between_polls() {
    use crate::ingest::compressed::tests::gzip;
    let (_d, p) = setup();
    append(&p, "a1\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["a1"]);
    let compress = |n: &str| {
        let plain = sib(&p, n);
        fs::write(
            sib(&p, &format!("{n}.gz")),
            gzip(&fs::read(&plain).unwrap()),
        )
        .unwrap();
        fs::remove_file(plain).unwrap();
    };
    append(&p, "a2\n");
    fs::rename(&p, sib(&p, ".1")).unwrap();
    compress(".1");
    append(&p, "b1\nb2\n");
    fs::rename(sib(&p, ".1.gz"), sib(&p, ".2.gz")).unwrap();
    fs::rename(&p, sib(&p, ".1")).unwrap();
    compress(".1");
    append(&p, "c1\n");
    assert_eq!(poll(&mut t), ["a2", "b1", "b2", "c1"]);
    let s = t.stats();
    assert_eq!((s.unseen_rotated, s.files_finished, s.errors), (1, 2, 0));
    assert!(poll(&mut t).is_empty());
}

/// copytruncate, then `compress` of the copy, between two polls: the truncation finds the
/// copy in the `.gz` and reads its rest from there.
#[test]
fn copytruncate_copy_compressed_before_the_poll() {
    use crate::ingest::compressed::tests::gzip;
    let (_d, p) = setup();
    append(&p, "l1\n");
    let mut t = start(&p, vec![]);
    assert_eq!(poll(&mut t), ["l1"]);
    append(&p, "l2\n");
    fs::write(sib(&p, ".1.gz"), gzip(&fs::read(&p).unwrap())).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, "n1\n");
    assert_eq!(poll(&mut t), ["l2", "n1"]);
    let s = t.stats();
    assert_eq!((s.truncations, s.truncations_without_copy), (1, 0));
    assert!(poll(&mut t).is_empty());
}

/// A rotated generation closed while an older one is still open is kept in the positions
/// at its end, and followed to its `.gz`: a restart then reads it not again. (The order
/// comes from a partial line: `ab` was read when copytruncate copied `ab1` to `.1` and the
/// writer went on with `ab2` in the truncated file, which was then rotated and compressed.
/// The truncation is not seen, the head read is still there, and the copy, an unseen
/// sibling, is followed after the deleted file.)
#[test]
fn closed_generation_is_remembered_across_compress_and_restart() {
    use crate::ingest::compressed::tests::gzip;
    let (_d, p) = setup();
    let mut writer = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&p)
        .unwrap();
    writer.write_all(b"ab").unwrap();
    let mut t = start(&p, vec![]);
    assert!(poll(&mut t).is_empty());
    writer.write_all(b"1\n").unwrap();
    fs::copy(&p, sib(&p, ".1")).unwrap();
    writer.set_len(0).unwrap();
    writer.write_all(b"ab2\n").unwrap();
    fs::rename(sib(&p, ".1"), sib(&p, ".2")).unwrap();
    fs::rename(&p, sib(&p, ".1")).unwrap();
    File::create(&p).unwrap();
    fs::write(sib(&p, ".1.gz"), gzip(&fs::read(sib(&p, ".1")).unwrap())).unwrap();
    fs::remove_file(sib(&p, ".1")).unwrap();
    assert_eq!(poll(&mut t), ["ab2", "ab1"]);
    // `.2` stays open (the live file is empty); the closed one is a position at its end,
    // which the next poll moves to its `.gz`.
    assert_eq!(t.stats().files_finished, 1);
    assert!(poll(&mut t).is_empty());
    let gz = fs::metadata(sib(&p, ".1.gz")).unwrap();
    let pos = t.positions();
    assert_eq!(pos.len(), 3);
    let rec = pos
        .iter()
        .find(|q| q.inode == gz.ino())
        .expect("record on the .gz");
    assert_eq!((rec.offset, rec.fingerprint), (4, fingerprint(b"ab2\n")));
    let mut t = start(&p, pos);
    append(&p, "c1\n");
    assert_eq!(poll(&mut t), ["c1"]);
    let s = t.stats();
    assert_eq!((s.unseen_rotated, s.compressed_resumed), (0, 1));
}

/// Speed of tailing (`cargo test --release --lib tail_speed -- --ignored --nocapture`): a
/// 1 M-line file beside rotated siblings (plain and `.gz`, as on a log host), followed from
/// its start to its end under the default byte budget per poll.
#[test]
#[ignore = "timing: run by hand"]
fn tail_speed() {
    use crate::ingest::compressed::tests::gzip;
    const LINES: usize = 1_000_000;
    let (_d, p) = setup();
    let line = "Mon Mar  2 10:00:00 2026 [pid 4242] [alice] OK DOWNLOAD: Client \"192.0.2.7\", \"/pub/file.iso\", 1048576 bytes, 9000.00Kbyte/sec\n";
    fs::write(&p, line.repeat(LINES)).unwrap();
    for k in 1..=3 {
        fs::write(sib(&p, &format!(".{k}")), line.repeat(100)).unwrap();
        fs::write(
            sib(&p, &format!(".{}.gz", k + 3)),
            gzip(line.repeat(100).as_bytes()),
        )
        .unwrap();
    }
    let mut t = start(&p, vec![]);
    let began = std::time::Instant::now();
    let (mut lines, mut polls) = (0, 0);
    loop {
        let blocks = t.poll().unwrap();
        polls += 1;
        let n: usize = blocks.iter().map(|b| b.block.lines.len()).sum();
        if n == 0 {
            break;
        }
        lines += n;
    }
    let secs = began.elapsed().as_secs_f64();
    assert_eq!(lines, LINES);
    println!(
        "tail_speed: {lines} lines ({} MB) in {polls} polls, {secs:.3} s, {:.2} M lines/s",
        line.len() * LINES / 1_000_000,
        lines as f64 / secs / 1e6
    );
}
