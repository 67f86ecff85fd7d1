//! Restart: finding the files a previous run's positions name, wherever rotation put them.

use super::anchor::NO_SIBLINGS;
use super::generation::{Gen, State};
use super::siblings::{self, Rank, Sibling};
use super::{FilePosition, Tailer};
use crate::ingest::fingerprint::{dev_ino, fingerprint, fingerprint_len, read_head};
use std::collections::HashSet;
use std::fs::File;
use std::path::PathBuf;

/// A generation found at restart with its place in the rotation (`None`: at the path).
struct Found {
    path_idx: usize,
    rank: Option<Rank>,
    gen: Gen,
}

impl Tailer {
    /// Resolves the positions of a previous run (see the module documentation of `tail`).
    pub(super) fn resume(&mut self, positions: Vec<FilePosition>) {
        // Files that are still those of a position (not another file that took a freed inode
        // number): no copy of another position.
        let claimed: HashSet<(u64, u64)> = positions
            .iter()
            .filter(|p| still_there(p))
            .map(|p| (p.dev, p.inode))
            .collect();
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut found: Vec<Found> = Vec::new();
        // Positions already resolved, by the inode they name: a `.gz` found for one of them
        // may carry the inode number another position names (freed by a compression), so
        // the generations found say nothing about which positions were handled.
        let mut resolved = HashSet::new();
        // Paths that had no rotated sibling with text at the last poll: all theirs are new.
        let mut all_new = HashSet::new();
        for p in positions {
            let id = (p.dev, p.inode);
            if !resolved.insert(id) {
                continue;
            }
            self.position_paths.insert(p.path.clone());
            let path_idx = match paths.iter().position(|q| q == &p.path) {
                Some(i) => i,
                None => {
                    paths.push(p.path.clone());
                    paths.len() - 1
                }
            };
            if p.inode == NO_SIBLINGS {
                all_new.insert(path_idx);
                continue;
            }
            let sibs = siblings::list(&p.path);
            let at_path = std::fs::metadata(&p.path).is_ok_and(|m| dev_ino(&m) == id);
            let (now, rank) = if at_path {
                (p.path.clone(), None)
            } else {
                // A rotated file is never truncated: one with another head took a freed
                // inode number, and that file is gone.
                match sibs.iter().find(|s| s.id == id && claimed.contains(&s.id)) {
                    Some(s) => (s.path.clone(), Some(s.rank.clone())),
                    None => {
                        // Gone: a copy of it (copytruncate, then the file deleted) holds
                        // its rest, or its compressed file does. (One of which nothing was
                        // read is not found: it is newer than the anchor, read from 0.)
                        let copy = find_plain_copy(&p, &sibs, &claimed, &found).or_else(|| {
                            let packed = find_compressed(&p, &found, self.opts.retry_first);
                            self.stats.compressed_resumed += u64::from(packed.is_some());
                            packed
                        });
                        match copy {
                            Some((rank, gen)) => found.push(Found {
                                path_idx,
                                rank: Some(rank),
                                gen,
                            }),
                            None => self.stats.files_dropped += 1,
                        }
                        continue;
                    }
                }
            };
            let state = if at_path { State::Live } else { State::Rotated };
            let file = match File::open(&now) {
                Ok(f) if f.metadata().is_ok_and(|m| dev_ino(&m) == id) => f,
                _ => {
                    self.stats.files_dropped += 1;
                    continue;
                }
            };
            if intact(&file, &p) {
                match Gen::new(p.path.clone(), file, p.offset, state) {
                    Ok(gen) => found.push(Found {
                        path_idx,
                        rank,
                        gen,
                    }),
                    Err(_) => self.stats.errors += 1,
                }
                continue;
            }
            // Truncated (or replaced by a file reusing the inode) while we were down.
            self.stats.truncations += 1;
            let copy = find_plain_copy(&p, &sibs, &claimed, &found).or_else(|| {
                // The copy may have been compressed meanwhile.
                let gz = find_compressed(&p, &found, self.opts.retry_first);
                self.stats.compressed_resumed += u64::from(gz.is_some());
                gz
            });
            match copy {
                Some((r, gen)) => found.push(Found {
                    path_idx,
                    rank: Some(r),
                    gen,
                }),
                None => self.stats.truncations_without_copy += 1,
            }
            match Gen::new(p.path.clone(), file, 0, state) {
                Ok(gen) => found.push(Found {
                    path_idx,
                    rank,
                    gen,
                }),
                Err(_) => self.stats.errors += 1,
            }
        }
        self.add_rotated_while_down(&paths, &all_new, &mut found);
        // Per path, oldest first and the live file last.
        found.sort_by_key(|f| {
            (
                f.path_idx,
                f.rank.is_none(),
                f.rank.as_ref().map(Rank::age_key),
            )
        });
        self.gens = found.into_iter().map(|f| f.gen).collect();
    }

    /// Rotated siblings (plain or compressed) newer than the oldest generation found among a
    /// path's siblings (all of them for a path in `all_new`), and not followed: generations
    /// created and rotated while we were down.
    fn add_rotated_while_down(
        &mut self,
        paths: &[PathBuf],
        all_new: &HashSet<usize>,
        found: &mut Vec<Found>,
    ) {
        for (path_idx, path) in paths.iter().enumerate() {
            let oldest = found
                .iter()
                .filter(|f| f.path_idx == path_idx)
                .filter_map(|f| f.rank.clone())
                .min_by_key(Rank::age_key);
            let is_new = |r: &Rank| match &oldest {
                _ if all_new.contains(&path_idx) => true,
                Some(o) => r.newer_than(o),
                None => false,
            };
            let gz = siblings::list_compressed(path);
            let plain = siblings::list(path);
            let all = gz
                .iter()
                .map(|s| (s, true))
                .chain(plain.iter().map(|s| (s, false)));
            for (s, compressed) in all {
                if !is_new(&s.rank) || found.iter().any(|f| f.gen.id == s.id) {
                    continue;
                }
                let open = |f| match compressed {
                    true => Gen::from_compressed(path.clone(), f, 0, self.opts.retry_first),
                    false => Gen::new(path.clone(), f, 0, State::Rotated),
                };
                match File::open(&s.path).and_then(open) {
                    Ok(gen) if gen.id == s.id => {
                        self.stats.unseen_rotated += 1;
                        found.push(Found {
                            path_idx,
                            rank: Some(s.rank.clone()),
                            gen,
                        });
                    }
                    Ok(_) => {}
                    Err(_) => self.stats.errors += 1,
                }
            }
        }
    }
}

/// The compressed rotated sibling of `p.path` that holds the generation `p` read
/// (logrotate's `compress` made a new inode of it): the one whose decompressed head has
/// `p`'s fingerprint. Inode numbers prove nothing here: the `.gz` may reuse the number of
/// a file another position names, freed by a compression. With nothing read (`offset` 0)
/// any file would match, so none is taken; nor is one found for another position already.
/// Opened at `p.offset` in decompressed bytes (a stream cut on the way there waits to be
/// whole).
fn find_compressed(
    p: &FilePosition,
    found: &[Found],
    retry_first: std::time::Duration,
) -> Option<(Rank, Gen)> {
    let need = fingerprint_len(p.offset);
    siblings::list_compressed(&p.path)
        .into_iter()
        .rev()
        .filter(|s| p.offset > 0 && !found.iter().any(|f| f.gen.id == s.id))
        .find(|s| {
            crate::ingest::compressed::head(&s.path, need)
                .is_ok_and(|h| h.len() == need && fingerprint(&h) == p.fingerprint)
        })
        .and_then(|s| {
            let f = File::open(&s.path).ok()?;
            let g = Gen::from_compressed(p.path.clone(), f, p.offset, retry_first).ok()?;
            (g.id == s.id).then_some((s.rank, g))
        })
}

/// The newest plain rotated sibling among `sibs` (oldest first) that is a copy of the
/// file position `p` read (copytruncate): not a file a position names or found already, at
/// least `p.offset` long, with `p`'s head (so nothing read, offset 0, finds none). Opened at
/// `p.offset`.
fn find_plain_copy(
    p: &FilePosition,
    sibs: &[Sibling],
    claimed: &HashSet<(u64, u64)>,
    found: &[Found],
) -> Option<(Rank, Gen)> {
    let s = sibs.iter().rfind(|s| {
        !claimed.contains(&s.id)
            && !found.iter().any(|f| f.gen.id == s.id)
            && p.offset > 0
            && s.len >= p.offset
            && s.head_fingerprint(p.offset) == Some(p.fingerprint)
    })?;
    let f = File::open(&s.path).ok()?;
    let g = Gen::new(p.path.clone(), f, p.offset, State::Copy).ok()?;
    (g.id == s.id).then(|| (s.rank.clone(), g))
}

/// Whether the file of position `p` is still there: at its path (perhaps truncated), or
/// among its rotated siblings with what it read.
fn still_there(p: &FilePosition) -> bool {
    let id = (p.dev, p.inode);
    if std::fs::metadata(&p.path).is_ok_and(|m| dev_ino(&m) == id) {
        return true;
    }
    siblings::list(&p.path).iter().any(|s| {
        s.id == id
            && File::open(&s.path)
                .is_ok_and(|f| f.metadata().is_ok_and(|m| dev_ino(&m) == id) && intact(&f, p))
    })
}

/// Whether `file` still holds what position `p` read: at least `offset` bytes, and a head
/// with the fingerprint.
fn intact(file: &File, p: &FilePosition) -> bool {
    let need = fingerprint_len(p.offset);
    file.metadata().is_ok_and(|m| m.len() >= p.offset)
        && read_head(file, need).is_ok_and(|h| h.len() == need && fingerprint(&h) == p.fingerprint)
}
