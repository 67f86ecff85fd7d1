//! The rescan done by every poll: which files the patterns name now, which followed files
//! were renamed, deleted or truncated, and which rotated siblings appeared.

use super::generation::{Gen, State};
use super::siblings::{self, Sibling, Snapshot};
use super::{glob, Tailer};
use crate::ingest::fingerprint::{dev_ino, fingerprint, fingerprint_len, read_head, FP_LEN};
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A followed path, its rotated siblings at this poll, and those not settled yet.
pub(super) type Looked = (PathBuf, Vec<Sibling>, Vec<(u64, u64)>);

/// A file a pattern names: its path and device + inode.
pub(super) type Matched = (PathBuf, (u64, u64));

impl Tailer {
    /// The files the patterns name now, each once.
    pub(super) fn scan(&self) -> Vec<Matched> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for pattern in &self.patterns {
            for path in glob::expand(pattern) {
                if let Ok(meta) = std::fs::metadata(&path) {
                    if seen.insert(dev_ino(&meta)) {
                        out.push((path, dev_ino(&meta)));
                    }
                }
            }
        }
        out
    }

    /// Marks followed files live at the path that names them now, or rotated (renamed away
    /// or deleted) when no path does.
    pub(super) fn update_liveness(&mut self, matched: &[Matched]) {
        for g in &mut self.gens {
            match matched.iter().find(|(_, id)| *id == g.id) {
                Some((path, _)) => {
                    g.state = State::Live;
                    g.path.clone_from(path);
                }
                None if g.state == State::Live => {
                    g.state = State::Rotated;
                    g.successor_seen = false;
                    match g.nlink() {
                        Ok(0) => self.stats.deletions += 1,
                        _ => self.stats.rotations += 1,
                    }
                }
                None => {}
            }
        }
    }

    /// Follows files the patterns name that are not followed yet. At the first poll a file
    /// no position names is read from its end unless `read_from_start`; a file at a path
    /// that had a position (rotated while we were down), or appearing later, from 0.
    pub(super) fn add_new_files(&mut self, matched: &[Matched], first: bool) {
        for (path, id) in matched {
            if self.gens.iter().any(|g| g.id == *id) {
                continue;
            }
            let from_start =
                !first || self.opts.read_from_start || self.position_paths.contains(path);
            let opened = File::open(path).and_then(|file| {
                if from_start {
                    Gen::new(path.clone(), file, 0, State::Live)
                } else {
                    Gen::at_end(path.clone(), file)
                }
            });
            match opened {
                // Replaced between the stat and the open: next poll sees it as it is.
                Ok(g) if g.id != *id => {}
                Ok(g) => self.gens.push(g),
                Err(_) => self.stats.errors += 1,
            }
        }
    }

    /// For each followed path: detects a truncation of its live file (and finds the copy),
    /// and follows rotated siblings that appeared since the last poll.
    /// Returns each path's siblings and those not settled yet, for its anchor once read.
    pub(super) fn check_siblings(&mut self) -> Vec<Looked> {
        let mut looked = Vec::new();
        let mut paths: Vec<PathBuf> = self
            .patterns
            .iter()
            .filter(|p| !glob::is_glob(p))
            .cloned()
            .collect();
        for g in &self.gens {
            if !paths.contains(&g.path) {
                paths.push(g.path.clone());
            }
        }
        self.siblings.retain(|p, _| paths.contains(p));
        self.anchors.retain(&paths);
        let mut present = HashSet::new();
        // Each directory is listed once per poll, however many followed paths it holds.
        let mut dirs: HashMap<PathBuf, Vec<OsString>> = HashMap::new();
        for path in paths {
            let names = dirs
                .entry(siblings::dir_of(&path))
                .or_insert_with_key(|dir| siblings::names_in(dir));
            let mut sibs = siblings::list_in(&path, names);
            sibs.extend(siblings::list_compressed_in(&path, names));
            sibs.sort_by_key(|s| s.rank.age_key());
            present.extend(sibs.iter().map(|s| s.id));
            self.follow_done(&path, &sibs);
            match self.siblings.get(&path) {
                // First look at this path: its rotated files are history.
                None => {
                    self.siblings.insert(path.clone(), Snapshot::of(&sibs));
                    looked.push((path, sibs, Vec::new()));
                }
                Some(snap) => {
                    let new: Vec<bool> = sibs.iter().map(|s| snap.is_new(s)).collect();
                    let (inserts, deferred) = self.check_path(&path, &sibs, &new);
                    for g in inserts {
                        self.insert_by_rank(g, &sibs);
                    }
                    if let Some(snap) = self.siblings.get_mut(&path) {
                        snap.update(&sibs, &deferred);
                    }
                    looked.push((path, sibs, deferred));
                }
            }
        }
        self.waiting.retain(|id, _| present.contains(id));
        looked
    }

    /// Puts a rotated generation of a path before the first one of that path that is live
    /// or sits at a newer rotated name, keeping each path's generations in age order.
    fn insert_by_rank(&mut self, g: Gen, sibs: &[Sibling]) {
        let rank_of = |id| sibs.iter().find(|s| s.id == id).map(|s| &s.rank);
        let mine = rank_of(g.id);
        let at = self
            .gens
            .iter()
            .position(|o| {
                o.path == g.path
                    && (o.state == State::Live
                        || matches!((rank_of(o.id), mine), (Some(r), Some(m)) if r.newer_than(m)))
            })
            .unwrap_or(self.gens.len());
        self.gens.insert(at, g);
    }

    /// Detects truncated generations of `path` (a copytruncate, perhaps followed by a
    /// rename or delete before this poll) and follows their copies; then returns the rotated
    /// files that appeared and hold lines we never saw, oldest first.
    fn check_path(
        &mut self,
        path: &PathBuf,
        sibs: &[Sibling],
        new: &[bool],
    ) -> (Vec<Gen>, Vec<(u64, u64)>) {
        let followed: HashSet<(u64, u64)> = self.gens.iter().map(|g| g.id).collect();
        // Per new compressed sibling: whether its text was seen already (`None`: cannot be
        // decompressed yet). Only an unseen one can be a copy or hold unread lines.
        // Known by half a line only (a seen sibling, gone now, held no more): of several
        // such, only the oldest can be that sibling compressed (newer generations come in
        // at newer names); the others hold lines never read.
        let mut half_seen = false;
        let packed_known: Vec<Option<bool>> = (sibs.iter().zip(new))
            .map(|(s, &new)| match s.compressed && new {
                true => self.packed_head(path, s).map(|t| {
                    let strict = self.is_known_text(path, sibs, &t, false);
                    let half = !strict && self.is_known_text(path, sibs, &t, true);
                    let known = strict || (half && !half_seen);
                    half_seen |= (self.siblings.get(path.as_path()))
                        .is_some_and(|p| p.head_of(&t, sibs, true) && !p.head_of(&t, sibs, false));
                    known
                }),
                false => Some(false),
            })
            .collect();
        let usable: Vec<bool> = (0..sibs.len())
            .map(|k| !sibs[k].compressed || (new[k] && packed_known[k] == Some(false)))
            .collect();
        let mut used = HashSet::new();
        let mut i = 0;
        while i < self.gens.len() {
            let g = &self.gens[i];
            if &g.path != path || g.state == State::Copy {
                i += 1;
                continue;
            }
            match g.truncated() {
                Ok(true) => {
                    self.stats.truncations += 1;
                    let copy = find_copy(g, sibs, new, &usable, &followed, &used).and_then(|k| {
                        let file = File::open(&sibs[k].path).ok()?;
                        let c = match sibs[k].compressed {
                            true => Gen::from_compressed(
                                path.clone(),
                                file,
                                g.offset,
                                self.opts.retry_first,
                            ),
                            false => Gen::new(path.clone(), file, g.offset, State::Copy),
                        }
                        .ok()?;
                        (c.id == sibs[k].id && c.committed_head() == g.committed_head())
                            .then_some((k, c))
                    });
                    match copy {
                        Some((k, c)) => {
                            used.insert(k);
                            self.gens.insert(i, c);
                            i += 1;
                        }
                        None => self.stats.truncations_without_copy += 1,
                    }
                    self.gens[i].restart_at_zero();
                }
                Ok(false) => {}
                Err(_) => self.stats.errors += 1,
            }
            i += 1;
        }
        let (mut inserts, mut deferred) = (Vec::new(), Vec::new());
        for (k, s) in sibs.iter().enumerate() {
            if !new[k] || used.contains(&k) || followed.contains(&s.id) {
                continue;
            }
            if s.compressed {
                match packed_known[k] {
                    // Still being written (or broken): looked at again later.
                    None => deferred.push(s.id),
                    Some(true) => {}
                    Some(false) => self.open_unseen(path, s, &mut inserts),
                }
                continue;
            }
            // A copy of a file we are reading: its truncation comes next (copytruncate
            // copies, then truncates), or it is a backup. Not read now; it stays new so the
            // truncation finds it.
            let copy_of_ours = self.gens.iter().any(|g| {
                &g.path == path
                    && if g.offset > 0 {
                        s.len >= g.offset
                            && s.head_fingerprint(g.offset) == Some(fingerprint(g.committed_head()))
                    } else {
                        g.state == State::Live && same_head_as(s, g)
                    }
            });
            if copy_of_ours {
                deferred.push(s.id);
                continue;
            }
            self.open_unseen(path, s, &mut inserts);
        }
        (inserts, deferred)
    }

    /// Follows rotated sibling `s` of `path` from its start: it holds lines never read.
    fn open_unseen(&mut self, path: &Path, s: &Sibling, inserts: &mut Vec<Gen>) {
        let opened = File::open(&s.path).and_then(|f| match s.compressed {
            true => Gen::from_compressed(path.to_path_buf(), f, 0, self.opts.retry_first),
            false => Gen::new(path.to_path_buf(), f, 0, State::Rotated),
        });
        match opened {
            Ok(g) if g.id == s.id => {
                self.stats.unseen_rotated += 1;
                inserts.push(g);
            }
            Ok(_) => {}
            Err(_) => self.stats.errors += 1,
        }
    }

    /// The head of the text of new compressed sibling `s` of `path`, or `None` when it
    /// cannot be decompressed that far (still being written, or broken): counted and said
    /// once per file, then tried again after a growing wait.
    fn packed_head(&mut self, path: &Path, s: &Sibling) -> Option<Vec<u8>> {
        if self.waiting.get(&s.id).is_some_and(|b| !b.ready()) {
            return None;
        }
        match s.head(FP_LEN) {
            Ok(text) => {
                self.waiting.remove(&s.id);
                Some(text)
            }
            Err(e) => {
                let b = self.waiting.entry(s.id).or_default();
                if b.failures == 0 {
                    let key = crate::ingest::fingerprint::FileKey {
                        dev: s.id.0,
                        inode: s.id.1,
                        fingerprint: crate::ingest::fingerprint::EMPTY_FINGERPRINT,
                    };
                    super::count_unreadable(&mut self.stats, path, key, &e.to_string());
                }
                b.failed(self.opts.retry_first);
                None
            }
        }
    }

    /// Whether `text`, the head of a new compressed sibling of `path`, is the head of
    /// something already seen or being read: a sibling seen at the last poll (compressed
    /// since), a plain sibling there now with that very head (being compressed: the
    /// compressor removes it once done), a generation we follow (its file starts with it:
    /// it only grew since it was compressed), or one closed already. Empty text has nothing
    /// to read either.
    /// Seen siblings that held half a line count only when `half_lines`.
    fn is_known_text(&self, path: &Path, sibs: &[Sibling], text: &[u8], half_lines: bool) -> bool {
        text.is_empty()
            || sibs
                .iter()
                .any(|o| !o.compressed && o.head(FP_LEN).is_ok_and(|h| h == text))
            || self
                .siblings
                .get(path)
                .is_some_and(|s| s.head_of(text, sibs, half_lines))
            || self
                .gens
                .iter()
                .any(|g| g.path == path && g.text_head().is_ok_and(|h| h.starts_with(text)))
            || self.done_has_head_of(path, text)
    }
}

/// The rotated copy of truncated generation `g`: a sibling not followed, at least `offset`
/// long, whose head has `g`'s fingerprint. With nothing read yet every file matches, so
/// only a sibling that just appeared will do. Prefers the oldest new one (a second rotation
/// before this poll made newer ones), else the newest seen before (the copy appeared a poll
/// before the truncation). Only `usable` siblings are candidates.
fn find_copy(
    g: &Gen,
    sibs: &[Sibling],
    new: &[bool],
    usable: &[bool],
    followed: &HashSet<(u64, u64)>,
    used: &HashSet<usize>,
) -> Option<usize> {
    let want = fingerprint(g.committed_head());
    let cands: Vec<usize> = (0..sibs.len())
        .filter(|&k| {
            let s = &sibs[k];
            usable[k]
                && !followed.contains(&s.id)
                && !used.contains(&k)
                && s.may_hold(g.offset)
                && (g.offset > 0 || new[k])
                && s.head_fingerprint(g.offset) == Some(want)
                // Also what was read past the last line: with nothing returned yet, this is
                // all that tells the copy from another new file (its copy compressed away).
                && s.may_hold(g.head_read().len() as u64)
                && s.head_fingerprint(g.head_read().len() as u64) == Some(fingerprint(g.head_read()))
        })
        .collect();
    cands
        .iter()
        .copied()
        .find(|&k| new[k])
        .or(cands.last().copied())
}

/// Whether non-empty `s` is no longer than live file `g` and starts with the same bytes
/// (up to `FP_LEN`): a copy of it, when nothing of `g` has been returned yet.
fn same_head_as(s: &Sibling, g: &Gen) -> bool {
    let Ok(len) = g.file.metadata().map(|m| m.len()) else {
        return false;
    };
    let n = fingerprint_len(s.len);
    s.len > 0
        && s.len <= len
        && read_head(&g.file, n)
            .is_ok_and(|h| h.len() == n && s.head_fingerprint(s.len) == Some(fingerprint(&h)))
}
