//! Following log files as they grow and rotate (`tail -F`, with checkpoints).
//!
//! The tailer is driven by [`Tailer::poll`]: the daemon calls it when `notify` wakes it and
//! on a periodic rescan. Notify is only a wake-up; each poll rescans the patterns and the
//! rotated siblings of every followed path, so the tailer needs no threads and tests can
//! step it op by op.
//!
//! Files are known by device, inode and a fingerprint of their head (see
//! [`crate::ingest::fingerprint`]), never by path alone. How each rotation is handled:
//!
//! - **rename and create** (logrotate's default): the followed file is open, so it is read
//!   to its end through its descriptor wherever it was renamed. It is closed once it is read
//!   to its end *and* the new file at the path has data (the writer has moved on; the size
//!   of the new file is looked at before the old one is read, so nothing the writer wrote
//!   to the old file before switching is missed). The new file is read from byte 0.
//! - **copytruncate**: the file shrank below the read position, or its head no longer holds
//!   the bytes read (it was truncated and written past the old position again). The copy
//!   is the rotated sibling whose head has our fingerprint and which is at least as long as
//!   our offset: it is read from our offset to its end, then the truncated file from 0.
//!   Without such a copy the file is read from 0 and `truncations_without_copy` counted.
//!   A copy seen before the truncation (a poll between logrotate's copy and its truncate)
//!   is not read, only remembered for the truncation to find.
//! - **delete**: the open file is read to its end, then closed.
//! - **rotations between two polls**: a rotated sibling that appears and is not a file we
//!   follow holds lines written while we did not look (two rotations between polls, or a
//!   file created and rotated in between): it is read from 0.
//! - **restart**: a new tailer gets the old one's [`Tailer::positions`]. Each position's
//!   file is looked for at its path, then among the path's rotated siblings, by device and
//!   inode, and accepted if its head still has the fingerprint; a file truncated while we
//!   were down is handled as copytruncate (the copy found by fingerprint). Rotated siblings
//!   newer than the oldest one found are generations created while we were down: read
//!   from 0. A position whose file is gone is dropped and counted.
//!
//! A followed path keeps its older generations before its live one and closes them oldest
//! first, so the positions of a path always cover every generation not yet finished.
//!
//! - **compress** (logrotate's `compress`, with or without `delaycompress`; gzip, xz, zstd
//!   or bzip2, see [`crate::ingest::compressed`]): compressed siblings are known by their
//!   decompressed head. A generation we have open is read to its end through its
//!   descriptor even after the compressor removed it, and its compressed file is not read.
//!   A new compressed file that is not the compression of a sibling seen at the last poll,
//!   of a plain sibling there now, of a followed generation or of a closed one holds lines
//!   never read (a generation rotated and compressed between two polls): read from 0. A
//!   truncation finds its copy in a new compressed file too. At restart, a position whose
//!   file is gone is looked for as a copy by its head, then among the compressed siblings
//!   by the fingerprint of their decompressed head, and its rest is read from the
//!   decompressed stream (offsets count decompressed bytes).
//! - **a compressed file that does not decompress** (still being written, truncated,
//!   corrupt) is read as far as it goes and waits, tried again after a growing wait
//!   (`backoff.rs`), and read on once whole; counted once in `compressed_unreadable`.
//! - **anchors**: the positions also name each path's newest rotated sibling at its end
//!   (`anchor.rs`); a restart reads every sibling newer than the oldest file it finds as
//!   a generation rotated while it was down, from 0.
//! - **closed generations**: a rotated generation closed while an older one of its path is
//!   still open stays in [`Tailer::positions`] at its end (see `done.rs`), so a restart
//!   takes neither its file nor its compressed file for an unread one.
//!
//! Limits: `.lz4` and `.Z` are not read; wildcards only in the file-name part; two files
//! with identical first 256 bytes and reused inodes cannot be told apart (where the file
//! system keeps birth times, a reused inode is told by it); with only half a line of a
//! sibling seen, once it is gone the oldest new compressed file starting with that half
//! line is taken for its compression.

mod anchor;
mod backoff;
mod done;
mod generation;
mod glob;
mod rescan;
mod resume;
mod siblings;
pub(crate) use siblings::rotated_copies;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_down;
#[cfg(test)]
mod tests_packed;

use crate::ingest::fingerprint::fingerprint;
pub use crate::ingest::fingerprint::FileKey;
use crate::ingest::lines::LineBlock;
use generation::{Gen, State};
use siblings::Snapshot;
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default bytes read per poll: big enough for a busy log between two wake-ups, small enough
/// that a large backlog (a first start on a 1 GB file) cannot hold the daemon for long.
pub const DEFAULT_MAX_BYTES_PER_POLL: usize = 4 << 20;

/// Where reading of one file stands: survives restarts (stored in SQLite by the daemon).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePosition {
    /// The followed path (a pattern match). A rotated generation keeps the path it was
    /// followed under and is found again among that path's rotated siblings.
    pub path: PathBuf,
    /// Device of the file.
    pub dev: u64,
    /// Inode of the file.
    pub inode: u64,
    /// Fingerprint of the first `min(256, offset)` bytes.
    pub fingerprint: u64,
    /// Bytes already returned; a line boundary.
    pub offset: u64,
}

/// How to start following files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailOptions {
    /// Files found at startup that no position names: read from their start (`true`,
    /// replay-like) or from their end (`false`, like `tail -F`). Files appearing later are
    /// always read from the start.
    pub read_from_start: bool,
    /// Most bytes read by one [`Tailer::poll`], over all files.
    pub max_bytes_per_poll: usize,
    /// How long a compressed file that cannot be decompressed (still being written, or
    /// broken) waits before it is tried again; the wait doubles with each failure, up to
    /// [`backoff::RETRY_MAX`].
    pub retry_first: Duration,
}

impl Default for TailOptions {
    fn default() -> TailOptions {
        TailOptions {
            read_from_start: false,
            max_bytes_per_poll: DEFAULT_MAX_BYTES_PER_POLL,
            retry_first: backoff::RETRY_FIRST,
        }
    }
}

/// Complete lines read from one file.
#[derive(Debug)]
pub struct TailBlock {
    /// The followed path the file is or was at (a rotated file reports its followed path).
    pub path: PathBuf,
    /// The file actually read; its fingerprint is the one after this block.
    pub file: FileKey,
    /// The lines, with their byte offsets in `file`.
    pub block: LineBlock,
}

/// Counters of one followed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStats {
    /// The followed path.
    pub path: PathBuf,
    /// The file.
    pub file: FileKey,
    /// Lines returned from it.
    pub lines: u64,
    /// Bytes read from it (re-reads after a truncation included).
    pub bytes: u64,
    /// Over-long lines skipped in it.
    pub too_long: u64,
}

/// What the tailer has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Followed files renamed away (rename-and-create rotations).
    pub rotations: u64,
    /// Followed files deleted.
    pub deletions: u64,
    /// Followed files truncated (copytruncate), including while we were down.
    pub truncations: u64,
    /// Truncations for which no rotated copy with our fingerprint was found.
    pub truncations_without_copy: u64,
    /// Rotated files we never saw live, read from their start.
    pub unseen_rotated: u64,
    /// Rotated, copied or deleted files read to their end and closed.
    pub files_finished: u64,
    /// Positions given at startup whose file was gone.
    pub files_dropped: u64,
    /// Positions given at startup whose file was found compressed (`.gz`) and read on from
    /// the decompressed stream.
    pub compressed_resumed: u64,
    /// Files that could not be opened or read (tried again on the next poll).
    pub errors: u64,
    /// Compressed files that could not be decompressed when first looked at or read (cut
    /// short: still being written, truncated or corrupt), each counted once; they are tried
    /// again with a growing wait and read once whole.
    pub compressed_unreadable: u64,
    /// `compressed_unreadable` per followed path.
    pub unreadable: Vec<(PathBuf, u64)>,
    /// Lines returned from files no longer followed.
    pub finished_lines: u64,
    /// Bytes read from files no longer followed.
    pub finished_bytes: u64,
    /// Per followed file.
    pub files: Vec<FileStats>,
}

/// Follows the files named by a set of paths and wildcard patterns.
pub struct Tailer {
    patterns: Vec<PathBuf>,
    opts: TailOptions,
    /// Positions given at startup, resolved by the first poll.
    pending: Option<Vec<FilePosition>>,
    /// Followed generations; those of one path in age order.
    gens: Vec<Gen>,
    /// Rotated generations read to their end and closed, at their end (see [`done`]).
    done: Vec<done::Done>,
    /// Rotated siblings seen at the last poll, per followed path.
    siblings: HashMap<PathBuf, Snapshot>,
    /// The newest rotated sibling of each followed path (see [`anchor`]).
    anchors: anchor::Anchors,
    /// New compressed siblings whose head could not be decompressed: when to try again.
    waiting: HashMap<(u64, u64), backoff::Backoff>,
    /// Paths that had a position at startup: a new file there is a rotation, read from 0.
    position_paths: HashSet<PathBuf>,
    /// Poll counter: which path reads first (fairness under the byte budget).
    turn: usize,
    stats: TailStats,
}

impl Tailer {
    /// `patterns`: paths or globs (`/var/log/vsftpd*.log`, `*` and `?` in the file-name part);
    /// `positions`: what a previous run committed. Does no I/O: the first poll resolves them.
    pub fn new(patterns: Vec<PathBuf>, positions: Vec<FilePosition>, opts: TailOptions) -> Tailer {
        Tailer {
            patterns,
            opts,
            pending: Some(positions),
            gens: Vec::new(),
            done: Vec::new(),
            siblings: HashMap::new(),
            anchors: anchor::Anchors::default(),
            waiting: HashMap::new(),
            position_paths: HashSet::new(),
            turn: 0,
            stats: TailStats::default(),
        }
    }

    /// Reads whatever complete new lines exist now, in bounded blocks (at most
    /// `opts.max_bytes_per_poll` per call, so a backlog cannot starve others), returning
    /// them with the file they came from. Per path, older generations come first. A file
    /// that cannot be opened or read is counted in `errors` and tried again next poll.
    pub fn poll(&mut self) -> io::Result<Vec<TailBlock>> {
        let first = self.pending.is_some();
        if let Some(positions) = self.pending.take() {
            self.resume(positions);
        }
        let matched = self.scan();
        self.update_liveness(&matched);
        self.add_new_files(&matched, first);
        let looked = self.check_siblings();
        let blocks = self.read_all();
        // After reading: the anchors stand beside the positions this poll leaves.
        for (path, sibs, unseen) in looked {
            self.update_anchor(&path, &sibs, &unseen);
        }
        Ok(blocks)
    }

    /// Current positions of every followed file (what to checkpoint after the blocks
    /// returned so far are processed), of closed rotated generations a restart must not
    /// take for unread ones (at their end), and per followed path its anchor: the newest
    /// rotated sibling at its end, or a position with inode 0 when it had none (see
    /// `anchor.rs`). Before the first poll: the positions given.
    pub fn positions(&self) -> Vec<FilePosition> {
        if let Some(p) = &self.pending {
            return p.clone();
        }
        let open = self.gens.iter().map(|g| FilePosition {
            path: g.path.clone(),
            dev: g.id.0,
            inode: g.id.1,
            fingerprint: fingerprint(g.committed_head()),
            offset: g.offset,
        });
        let done = (self.done.iter().map(|d| &d.pos))
            .filter(|d| !self.gens.iter().any(|g| g.id == (d.dev, d.inode)))
            .cloned();
        open.chain(done).chain(self.anchor_positions()).collect()
    }

    /// Counters so far.
    pub fn stats(&self) -> TailStats {
        let mut s = self.stats.clone();
        s.files = self
            .gens
            .iter()
            .map(|g| FileStats {
                path: g.path.clone(),
                file: g.key(),
                lines: g.lines,
                bytes: g.bytes,
                too_long: g.too_long,
            })
            .collect();
        s
    }

    /// Reads every generation within the byte budget, paths taking turns at going first,
    /// and closes finished rotated generations (oldest first per path).
    fn read_all(&mut self) -> Vec<TailBlock> {
        let mut paths: Vec<PathBuf> = Vec::new();
        for g in &self.gens {
            if !paths.contains(&g.path) {
                paths.push(g.path.clone());
            }
        }
        let mut out = Vec::new();
        if paths.is_empty() {
            return out;
        }
        let first = self.turn % paths.len();
        self.turn = self.turn.wrapping_add(1);
        let mut budget = self.opts.max_bytes_per_poll.max(1);
        let mut done = vec![false; self.gens.len()];
        for k in 0..paths.len() {
            let path = &paths[(first + k) % paths.len()];
            // Older generations close first: once one stays open, later ones do too.
            let mut may_close = true;
            for (i, g) in self.gens.iter_mut().enumerate() {
                if &g.path != path {
                    continue;
                }
                let finished = match read_gen(g, &mut budget, self.opts.retry_first, &mut out) {
                    Ok(f) => f,
                    Err(_) => {
                        self.stats.errors += 1;
                        false
                    }
                };
                if let Some(error) = g.first_failure() {
                    count_unreadable(&mut self.stats, &g.path, g.key(), &error);
                }
                may_close &= finished;
                if may_close {
                    if let Some(block) = g.finish() {
                        out.push(tail_block(g, block));
                    }
                    done[i] = true;
                }
            }
        }
        for (i, g) in std::mem::take(&mut self.gens).into_iter().enumerate() {
            if !done[i] {
                self.gens.push(g);
                continue;
            }
            self.stats.files_finished += 1;
            self.stats.finished_lines += g.lines;
            self.stats.finished_bytes += g.bytes;
            self.remember_done(&g);
        }
        self.prune_done();
        out
    }
}

/// Reads one generation; returns whether it is finished (not live, read to its end, and
/// deleted, a copy, or superseded by a file with data at its path).
fn read_gen(
    g: &mut Gen,
    budget: &mut usize,
    retry_first: Duration,
    out: &mut Vec<TailBlock>,
) -> io::Result<bool> {
    let mut closable = false;
    if g.state != State::Live {
        if g.state == State::Rotated && !g.successor_seen {
            // Looked at before reading, so all the writer wrote here before switching is read.
            g.successor_seen = std::fs::metadata(&g.path)
                .is_ok_and(|m| crate::ingest::fingerprint::dev_ino(&m) != g.id && m.len() > 0);
        }
        closable = g.state == State::Copy || g.successor_seen || g.nlink()? == 0;
    }
    let mut blocks = Vec::new();
    // Blocks read before an error are returned all the same: the offset has moved past them.
    let eof = g.read(budget, retry_first, &mut blocks);
    out.extend(blocks.into_iter().map(|b| tail_block(g, b)));
    Ok(closable && eof?)
}

/// Counts a compressed file of followed path `path` found unreadable, and says so once.
fn count_unreadable(stats: &mut TailStats, path: &Path, file: FileKey, error: &str) {
    stats.compressed_unreadable += 1;
    match stats.unreadable.iter_mut().find(|(p, _)| p == path) {
        Some((_, n)) => *n += 1,
        None => stats.unreadable.push((path.to_path_buf(), 1)),
    }
    tracing::warn!(
        path = ?path,
        inode = file.inode,
        error,
        "compressed file cannot be decompressed (still being written, or broken): \
         tried again later, read once whole"
    );
}

fn tail_block(g: &Gen, block: LineBlock) -> TailBlock {
    TailBlock {
        path: g.path.clone(),
        file: g.key(),
        block,
    }
}
