//! Restart: finding the files a previous run's positions name, wherever rotation put them.

use super::generation::{Gen, State};
use super::siblings::{self, Rank};
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
        let claimed: HashSet<(u64, u64)> = positions.iter().map(|p| (p.dev, p.inode)).collect();
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut found: Vec<Found> = Vec::new();
        // Positions already resolved, by the inode they name: a `.gz` found for one of them
        // may carry the inode number another position names (freed by a compression), so
        // the generations found say nothing about which positions were handled.
        let mut resolved = HashSet::new();
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
            let sibs = siblings::list(&p.path);
            let at_path = std::fs::metadata(&p.path).is_ok_and(|m| dev_ino(&m) == id);
            let (now, rank) = if at_path {
                (p.path.clone(), None)
            } else {
                match sibs.iter().find(|s| s.id == id) {
                    Some(s) => (s.path.clone(), Some(s.rank.clone())),
                    None => {
                        match find_gz(&p, &found) {
                            Some((rank, gen)) => {
                                self.stats.compressed_resumed += 1;
                                found.push(Found {
                                    path_idx,
                                    rank: Some(rank),
                                    gen,
                                });
                            }
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
            // The newest sibling with our head (siblings are oldest first).
            let copy = sibs
                .iter()
                .rfind(|s| {
                    !claimed.contains(&s.id)
                        && p.offset > 0
                        && s.len >= p.offset
                        && s.head_fingerprint(p.offset) == Some(p.fingerprint)
                })
                .and_then(|s| {
                    let f = File::open(&s.path).ok()?;
                    let g = Gen::new(p.path.clone(), f, p.offset, State::Copy).ok()?;
                    (g.id == s.id).then(|| (s.rank.clone(), g))
                })
                .or_else(|| {
                    // The copy may have been compressed meanwhile.
                    let gz = find_gz(&p, &found);
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
        self.add_rotated_while_down(&paths, &mut found);
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

    /// Rotated siblings (plain or gzip) newer than the oldest generation found among a
    /// path's siblings, and not followed: generations created and rotated while we were down.
    fn add_rotated_while_down(&mut self, paths: &[PathBuf], found: &mut Vec<Found>) {
        for (path_idx, path) in paths.iter().enumerate() {
            let oldest = found
                .iter()
                .filter(|f| f.path_idx == path_idx)
                .filter_map(|f| f.rank.clone())
                .min_by_key(Rank::age_key);
            let Some(oldest) = oldest else { continue };
            let gz = siblings::list_gz(path);
            let plain = siblings::list(path);
            let all = gz
                .iter()
                .map(|s| (s, true))
                .chain(plain.iter().map(|s| (s, false)));
            for (s, compressed) in all {
                if !s.rank.newer_than(&oldest) || found.iter().any(|f| f.gen.id == s.id) {
                    continue;
                }
                let open = |f| match compressed {
                    true => Gen::from_gz(path.clone(), f, 0),
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

/// The gzip-compressed rotated sibling of `p.path` that holds the generation `p` read
/// (logrotate's `compress` made a new inode of it): the one whose decompressed head has
/// `p`'s fingerprint. Inode numbers prove nothing here: the `.gz` may reuse the number of
/// a file another position names, freed by a compression. With nothing read (`offset` 0)
/// any file would match, so none is taken; nor is one found for another position already.
/// Opened at `p.offset` in decompressed bytes.
fn find_gz(p: &FilePosition, found: &[Found]) -> Option<(Rank, Gen)> {
    let need = fingerprint_len(p.offset);
    siblings::list_gz(&p.path)
        .into_iter()
        .rev()
        .filter(|s| p.offset > 0 && !found.iter().any(|f| f.gen.id == s.id))
        .find(|s| {
            crate::ingest::gz::head(&s.path, need)
                .is_ok_and(|h| h.len() == need && fingerprint(&h) == p.fingerprint)
        })
        .and_then(|s| {
            let f = File::open(&s.path).ok()?;
            let g = Gen::from_gz(p.path.clone(), f, p.offset).ok()?;
            (g.id == s.id).then_some((s.rank, g))
        })
}

/// Whether `file` still holds what position `p` read: at least `offset` bytes, and a head
/// with the fingerprint.
fn intact(file: &File, p: &FilePosition) -> bool {
    let need = fingerprint_len(p.offset);
    file.metadata().is_ok_and(|m| m.len() >= p.offset)
        && read_head(file, need).is_ok_and(|h| h.len() == need && fingerprint(&h) == p.fingerprint)
}
