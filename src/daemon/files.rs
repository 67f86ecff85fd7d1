//! The daemon's table of files: per followed file, the committed read position, the
//! position of the last snapshot of correlation state (where a restart re-reads from), and
//! (after a restart) the region being re-read. It turns into checkpoint rows at each commit
//! and back into tailer positions at a start.

use super::parsing::Reread;
use crate::ingest::fingerprint::{fingerprint, fingerprint_len, read_head, FP_LEN};
use crate::ingest::tail::FilePosition;
use crate::store::checkpoints::CheckpointRow;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How far before a file's snapshot offset a restart starts parsing again at least, so the
/// parser regains what it remembers between lines beyond sessions (the current IIS
/// `#Fields:`, an ASA connection's build); sessions (a login's USER line before the offset,
/// its PASS line after it) are re-read from where the oldest one began, however far back
/// (`parse_from` of the checkpoint; at most `MAX_SESSIONS` of them are held). Events before
/// the offset are in the snapshot and are not correlated again. 4 MiB is ~25 000 lines,
/// minutes of a busy server, and re-parsing it costs a few tens of milliseconds a file.
pub const PARSER_LOOKBACK: u64 = 4 << 20;

/// A file: the index of the source pattern it was found by, its device and inode.
pub type FileId = (usize, u64, u64);

/// What is known of one file.
#[derive(Debug, Clone)]
struct Entry {
    path: PathBuf,
    /// Last position the tailer reported (or the resume position before it reports).
    pos: u64,
    /// Fingerprint at `pos`.
    pos_fp: u64,
    /// End of the last line received from it (a finished file's last line may end past
    /// the last position reported), and the fingerprint there.
    read_end: u64,
    read_fp: u64,
    /// Committed offset of the previous run: re-read up to here, never checkpoint less.
    floor: u64,
    floor_fp: u64,
    /// Still in the tailer's positions (not finished).
    live: bool,
    /// Lines before this offset had entered the engine (or the merge) when the snapshot in
    /// force was taken; for a file that appeared since, where its reading began.
    snap: u64,
    /// `snap` of the snapshot being staged, in force once a commit names it.
    pending: Option<u64>,
    /// Where the oldest record the parser holds open began, after the lines received.
    open_since: Option<u64>,
    /// `open_since` when the snapshot in force was taken: a restart parses from there.
    snap_open: Option<u64>,
    /// `open_since` of the snapshot being staged.
    pending_open: Option<u64>,
}

impl Entry {
    /// How far the lines received from the tailer go (all of them are in the engine or
    /// the merge), and the fingerprint there.
    fn consumed(&self) -> (u64, u64) {
        if !self.live && self.read_end > self.pos {
            (self.read_end, self.read_fp)
        } else {
            (self.pos, self.pos_fp)
        }
    }

    /// Committed offset and its fingerprint.
    fn committed(&self) -> (u64, u64) {
        let mut best = self.consumed();
        if self.floor > best.0 {
            best = (self.floor, self.floor_fp);
        }
        best
    }
}

/// How a session starts: positions for each pattern's tailer, and the regions re-read.
#[derive(Debug, Default)]
pub struct Resume {
    /// Per pattern: where its tailer starts (the snapshot's positions).
    pub positions: Vec<Vec<FilePosition>>,
    /// Per file: the regions read by the previous run.
    pub reread: HashMap<FileId, Reread>,
    /// Whether any checkpoint was found (files with no position are then new: read whole).
    pub had_checkpoint: bool,
}

/// All files of a session.
#[derive(Debug, Default)]
pub struct Files {
    patterns: Vec<String>,
    entries: HashMap<FileId, Entry>,
}

impl Files {
    /// The table of a session starting from checkpoint `rows`, and how to resume. Rows of
    /// patterns no longer configured are dropped.
    pub fn resume(patterns: Vec<String>, rows: &[CheckpointRow]) -> (Files, Resume) {
        let mut files = Files {
            patterns,
            entries: HashMap::new(),
        };
        let mut plan = Resume {
            positions: vec![Vec::new(); files.patterns.len()],
            had_checkpoint: !rows.is_empty(),
            ..Resume::default()
        };
        for row in rows {
            let Some(p) = files.patterns.iter().position(|s| *s == row.source) else {
                continue;
            };
            let id = (p, row.dev, row.inode);
            let mut start = (row.offset, row.fingerprint);
            let mut snap = row.offset;
            if let Some(from) = parse_start(row) {
                start = from;
                snap = row.rewind_offset.min(row.offset);
                if from.0 < row.offset {
                    plan.reread.insert(
                        id,
                        Reread {
                            skip: snap,
                            until: row.offset,
                        },
                    );
                }
            }
            plan.positions[p].push(FilePosition {
                path: row.path.clone(),
                dev: row.dev,
                inode: row.inode,
                fingerprint: start.1,
                offset: start.0,
            });
            files.entries.insert(
                id,
                Entry {
                    path: row.path.clone(),
                    pos: start.0,
                    pos_fp: start.1,
                    read_end: start.0,
                    read_fp: start.1,
                    floor: row.offset,
                    floor_fp: row.fingerprint,
                    live: true,
                    snap,
                    pending: None,
                    open_since: row.parse_from,
                    snap_open: row.parse_from,
                    pending_open: None,
                },
            );
        }
        (files, plan)
    }

    /// Lines of file `id` (at followed path `path`) were received up to `end`, where the
    /// fingerprint is `fp`; `sample` is the offset of the first event kept (and the latest
    /// event time among them).
    pub fn note_read(
        &mut self,
        id: FileId,
        path: &Path,
        end: u64,
        fp: u64,
        sample: Option<(u64, DateTime<Utc>)>,
    ) {
        let e = self.entries.entry(id).or_insert_with(|| Entry {
            path: path.to_path_buf(),
            pos: 0,
            pos_fp: fingerprint(b""),
            read_end: 0,
            read_fp: fingerprint(b""),
            floor: 0,
            floor_fp: fingerprint(b""),
            live: false,
            // New since the snapshot: nothing before its first record is needed again.
            snap: sample.map_or(end, |(start, _)| start),
            pending: None,
            open_since: None,
            snap_open: None,
            pending_open: None,
        });
        if end >= e.read_end {
            e.read_end = end;
            e.read_fp = fp;
        }
    }

    /// After the lines received from file `id`, its parser holds records open since
    /// `since` (`None`: nothing open).
    pub fn note_pending(&mut self, id: FileId, since: Option<u64>) {
        if let Some(e) = self.entries.get_mut(&id) {
            e.open_since = since;
        }
    }

    /// The positions a pattern's tailer reports after the lines received so far. Files of
    /// that pattern it no longer reports are finished.
    pub fn apply_positions(&mut self, pattern: usize, positions: &[FilePosition]) {
        for (id, e) in self.entries.iter_mut() {
            if id.0 == pattern {
                e.live = positions.iter().any(|p| (p.dev, p.inode) == (id.1, id.2));
            }
        }
        for p in positions {
            let id = (pattern, p.dev, p.inode);
            let e = self.entries.entry(id).or_insert_with(|| Entry {
                path: p.path.clone(),
                pos: p.offset,
                pos_fp: p.fingerprint,
                read_end: p.offset,
                read_fp: p.fingerprint,
                floor: 0,
                floor_fp: p.fingerprint,
                live: true,
                snap: p.offset,
                pending: None,
                open_since: None,
                snap_open: None,
                pending_open: None,
            });
            if p.offset < e.pos {
                // Truncated: its old lines are gone, and so is what the floor protected.
                e.snap = e.snap.min(p.offset);
                e.pending = e.pending.map(|s| s.min(p.offset));
                e.snap_open = e.snap_open.map(|s| s.min(p.offset));
                e.pending_open = e.pending_open.map(|s| s.min(p.offset));
                e.floor = 0;
                e.read_end = p.offset;
            }
            e.path.clone_from(&p.path);
            e.pos = p.offset;
            e.pos_fp = p.fingerprint;
            e.live = true;
        }
    }

    /// A snapshot of correlation state is being taken: it covers every line received. Its
    /// offsets are in force once [`Files::snapshot_in_force`] says its commit came.
    pub fn mark_snapshot(&mut self) {
        for e in self.entries.values_mut() {
            e.pending = Some(e.consumed().0.max(e.snap));
            e.pending_open = e.open_since;
        }
    }

    /// The snapshot marked last is in force with the commit being written.
    pub fn snapshot_in_force(&mut self) {
        for e in self.entries.values_mut() {
            if let Some(s) = e.pending.take() {
                e.snap = s;
                e.snap_open = e.pending_open.take();
            }
        }
    }

    /// Checkpoint rows; `t` is when the snapshot their rewind offsets belong to was taken.
    pub fn rows(&self, t: DateTime<Utc>) -> Vec<CheckpointRow> {
        let mut rows: Vec<CheckpointRow> = self
            .entries
            .iter()
            .map(|(id, e)| {
                let (offset, fp) = e.committed();
                let rewind = e.snap;
                CheckpointRow {
                    source: self.patterns[id.0].clone(),
                    path: e.path.clone(),
                    dev: id.1,
                    inode: id.2,
                    fingerprint: fp,
                    offset,
                    rewind_offset: rewind.min(offset),
                    parse_from: e.snap_open.filter(|&p| p < rewind.min(offset)),
                    rewind_time: t,
                    committed_at: String::new(),
                }
            })
            .collect();
        rows.sort_by(|a, b| (&a.source, &a.path, a.inode).cmp(&(&b.source, &b.path, b.inode)));
        rows
    }

    /// Forgets finished files with nothing left to re-read after a restart.
    pub fn prune(&mut self) {
        self.entries
            .retain(|_, e| e.live || e.snap < e.committed().0 || e.pos < e.floor);
    }
}

/// Where a restart starts reading a checkpointed file, and the fingerprint there: the first
/// whole line within [`PARSER_LOOKBACK`] before its rewind offset, or where the oldest
/// record its parser held open began (`parse_from`) if that is further back. The fingerprint is the
/// committed one once both cover `FP_LEN` bytes, else read from the file (found at its path
/// or among the files beside it by device and inode, and checked against the committed
/// fingerprint). `None` when the file cannot be found or changed: it is then resumed at its
/// committed offset, without a re-read.
fn parse_start(row: &CheckpointRow) -> Option<(u64, u64)> {
    let rewind = row.rewind_offset.min(row.offset);
    let file = locate(&row.path, row.dev, row.inode);
    let from = file
        .as_ref()
        .and_then(|f| line_start_before(f, rewind))
        .unwrap_or(rewind)
        .min(row.parse_from.unwrap_or(u64::MAX));
    if from >= FP_LEN as u64 {
        return Some((from, row.fingerprint));
    }
    let head = read_head(&file?, fingerprint_len(row.offset)).ok()?;
    if head.len() != fingerprint_len(row.offset) || fingerprint(&head) != row.fingerprint {
        return None;
    }
    Some((from, fingerprint(&head[..fingerprint_len(from)])))
}

/// The start of the first whole line of `f` within [`PARSER_LOOKBACK`] before `at` (a line
/// start); `None` when it cannot be read or no line starts there.
fn line_start_before(f: &File, at: u64) -> Option<u64> {
    let lo = at.saturating_sub(PARSER_LOOKBACK);
    if lo == 0 {
        return Some(0);
    }
    // One byte more: a newline just before `lo` makes `lo` itself a line start.
    let mut buf = vec![0; (at - lo + 1) as usize];
    f.read_exact_at(&mut buf, lo - 1).ok()?;
    let i = buf.iter().position(|&b| b == b'\n')?;
    Some(lo + i as u64)
}

/// Opens the file with device `dev` and inode `inode`: at `path`, or renamed beside it
/// (a rotated generation keeps a name starting with the followed file's name).
fn locate(path: &Path, dev: u64, inode: u64) -> Option<File> {
    let is_it = |p: &Path| {
        let f = File::open(p).ok()?;
        let m = f.metadata().ok()?;
        (m.dev() == dev && m.ino() == inode).then_some(f)
    };
    if let Some(f) = is_it(path) {
        return Some(f);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let base = path.file_name()?.to_string_lossy().into_owned();
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&base))
        .find_map(|e| is_it(&e.path()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn pos(path: &Path, inode: u64, offset: u64) -> FilePosition {
        FilePosition {
            path: path.to_path_buf(),
            dev: 1,
            inode,
            fingerprint: 42,
            offset,
        }
    }

    #[test]
    fn the_parse_start_is_the_open_session_of_the_snapshot_in_force() {
        let path = Path::new("/l/fz.log");
        let id = (0, 1, 5);
        let mut f = Files::resume(vec!["/l/*.log".into()], &[]).0;
        let parse_at = |f: &Files| {
            let r = &f.rows(at(0))[0];
            (r.rewind_offset, r.parse_from)
        };
        f.note_read(id, path, 300, 42, Some((0, at(10))));
        f.note_pending(id, Some(100));
        f.apply_positions(0, &[pos(path, 5, 300)]);
        f.mark_snapshot();
        // Later lines close that session and open another; until its commit the staged
        // snapshot changes nothing, then its offsets (300, session at 100) are in force.
        f.note_read(id, path, 600, 42, Some((300, at(20))));
        f.note_pending(id, Some(450));
        f.apply_positions(0, &[pos(path, 5, 600)]);
        assert_eq!(parse_at(&f), (0, None));
        f.snapshot_in_force();
        assert_eq!(parse_at(&f), (300, Some(100)));
        f.mark_snapshot();
        f.snapshot_in_force();
        assert_eq!(parse_at(&f), (600, Some(450)));
        // Nothing open at the next snapshot: only the look-back applies.
        f.note_pending(id, None);
        f.mark_snapshot();
        f.snapshot_in_force();
        assert_eq!(parse_at(&f), (600, None));
    }

    #[test]
    fn rewind_offset_is_the_last_snapshot_and_finished_files_stay_while_needed() {
        let (mut f, _) = Files::resume(vec!["p".into()], &[]);
        let path = Path::new("/l/x.log");
        f.note_read((0, 1, 5), path, 300, 42, Some((0, at(10))));
        f.apply_positions(0, &[pos(path, 5, 300)]);
        // No snapshot yet: a restart re-reads from where reading began.
        let rows = f.rows(at(0));
        assert_eq!((rows[0].offset, rows[0].rewind_offset), (300, 0));
        f.mark_snapshot();
        f.snapshot_in_force();
        f.note_read((0, 1, 5), path, 600, 42, Some((300, at(20))));
        f.apply_positions(0, &[pos(path, 5, 600)]);
        let rows = f.rows(at(0));
        assert_eq!((rows[0].offset, rows[0].rewind_offset), (600, 300));
        // Rotated away and finished: its final unterminated line ends at 650.
        f.note_read((0, 1, 5), path, 650, 43, Some((600, at(21))));
        f.apply_positions(0, &[pos(path, 6, 0)]);
        let rows = f.rows(at(0));
        let old = rows.iter().find(|r| r.inode == 5).unwrap();
        assert_eq!(
            (old.offset, old.fingerprint, old.rewind_offset),
            (650, 43, 300)
        );
        f.prune();
        assert_eq!(f.rows(at(0)).len(), 2);
        // Once a snapshot covers all of it, the finished file is forgotten.
        f.mark_snapshot();
        f.snapshot_in_force();
        f.prune();
        let rows = f.rows(at(0));
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].inode, rows[0].rewind_offset), (6, 0));
    }

    #[test]
    fn resume_rewinds_and_keeps_the_floor_until_reread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"line one\nline two\nline three\n").unwrap();
        let m = std::fs::metadata(&path).unwrap();
        let fp_all = fingerprint(b"line one\nline two\nline three\n");
        let row = CheckpointRow {
            source: "p".into(),
            path: path.clone(),
            dev: m.dev(),
            inode: m.ino(),
            fingerprint: fp_all,
            offset: 29,
            rewind_offset: 9,
            parse_from: None,
            rewind_time: at(5),
            committed_at: String::new(),
        };
        let (mut f, plan) = Files::resume(vec!["p".into(), "q".into()], std::slice::from_ref(&row));
        assert!(plan.had_checkpoint);
        let p = &plan.positions[0][0];
        // Parsing starts up to PARSER_LOOKBACK before the rewind offset (here at the file's
        // start) so the parser regains its memory; events before 9 are in the snapshot.
        assert_eq!((p.offset, p.fingerprint), (0, fingerprint(b"")));
        assert_eq!(
            plan.reread[&(0, m.dev(), m.ino())],
            Reread { skip: 9, until: 29 }
        );
        // Before the re-read gets past the floor, a checkpoint keeps both.
        let rows = f.rows(at(6));
        assert_eq!((rows[0].offset, rows[0].rewind_offset), (29, 9));
        f.apply_positions(
            0,
            &[FilePosition {
                offset: 18,
                ..p.clone()
            }],
        );
        let rows = f.rows(at(6));
        assert_eq!((rows[0].offset, rows[0].fingerprint), (29, fp_all));
        // Until a snapshot is taken, a restart still needs everything from 9 on.
        assert_eq!(rows[0].rewind_offset, 9);
        f.mark_snapshot();
        // Staged but not yet in force: a restart still rewinds to 9.
        assert_eq!(f.rows(at(6))[0].rewind_offset, 9);
        f.snapshot_in_force();
        assert_eq!(f.rows(at(6))[0].rewind_offset, 18);
        // A changed file is resumed at its committed offset without a re-read.
        std::fs::write(&path, b"other content\n").unwrap();
        let (_, plan) = Files::resume(vec!["p".into()], &[row]);
        assert_eq!(plan.positions[0][0].offset, 29);
        assert!(plan.reread.is_empty());
    }

    #[test]
    fn parsing_restarts_at_the_first_whole_line_within_the_lookback() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        // 1000-byte lines: line starts are the multiples of 1000.
        let line = format!("{}\n", "x".repeat(999));
        std::fs::write(&path, line.repeat(5000)).unwrap();
        let f = File::open(&path).unwrap();
        let back = |at: u64| line_start_before(&f, at);
        assert_eq!(back(5_000_000), Some(806_000));
        // The window starts exactly on a line.
        assert_eq!(back(PARSER_LOOKBACK + 1000), Some(1000));
        assert_eq!(back(PARSER_LOOKBACK), Some(0));
        assert_eq!(back(3000), Some(0));
    }
}
