//! Rotated generations read to their end and closed, remembered while a restart could take
//! their files for unread ones.
//!
//! A restart reads the rotated siblings newer than the oldest generation its positions name
//! as generations rotated while it was down. Once a rotated generation closes before an older
//! one, nothing in the open generations says it was read, and after `compress` its `.gz` has
//! a new inode. So a closed generation stays in [`Tailer::positions`] (at its end) while a
//! rotated generation of its path is still open; a restart finds it like any position (by
//! inode, or its `.gz` by the decompressed head) and reads nothing of it. While running,
//! a record follows its file to the `.gz` that `compress` makes of it (so the inode it names
//! is never one a new file took over), and is dropped once its file is gone.

use super::generation::{Gen, State};
use super::siblings::Sibling;
use super::{FilePosition, Tailer};
use crate::ingest::fingerprint::{fingerprint, fingerprint_len};
use std::collections::HashMap;
use std::path::Path;

/// Most closed generations remembered per followed path. A rotated generation stays open
/// until the writer has moved on, so more closing meanwhile means a rotation storm; past
/// this the oldest records go (a restart might then read that generation again).
pub(super) const MAX_DONE_PER_PATH: usize = 16;

/// A closed generation: its position at its end, and whether that names its `.gz`.
#[derive(Debug, Clone)]
pub(super) struct Done {
    pub pos: FilePosition,
    /// The position names the `.gz` it was found compressed to (not the file read).
    pub compressed: bool,
}

impl Tailer {
    /// Remembers `g`, read to its end and closed. Nothing read: nothing to tell apart.
    pub(super) fn remember_done(&mut self, g: &Gen) {
        if g.offset > 0 {
            let pos = FilePosition {
                path: g.path.clone(),
                dev: g.id.0,
                inode: g.id.1,
                fingerprint: fingerprint(g.committed_head()),
                offset: g.offset,
            };
            self.done.push(Done {
                pos,
                compressed: false,
            });
        }
    }

    /// Forgets the records of paths with no rotated generation open (siblings newer than a
    /// path's oldest open one are all that a restart reads), and the oldest past the cap.
    pub(super) fn prune_done(&mut self) {
        let gens = &self.gens;
        self.done.retain(|d| {
            gens.iter()
                .any(|g| g.path == d.pos.path && g.state != State::Live)
        });
        // Newest last: counted from the end, the newest MAX_DONE_PER_PATH of a path stay.
        let mut count: HashMap<&Path, usize> = HashMap::new();
        let mut keep = vec![true; self.done.len()];
        for (i, d) in self.done.iter().enumerate().rev() {
            let n = count.entry(d.pos.path.as_path()).or_default();
            *n += 1;
            keep[i] = *n <= MAX_DONE_PER_PATH;
        }
        let mut i = 0;
        self.done.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }

    /// Follows the records of `path` to their files among its siblings `sibs` (plain and
    /// compressed): still there by inode and head, or compressed to a `.gz` with their head (the
    /// record takes its inode); a record whose file is gone is dropped.
    pub(super) fn follow_done(&mut self, path: &Path, sibs: &[Sibling]) {
        let mut taken: Vec<(u64, u64)> = Vec::new();
        let mut kept = Vec::with_capacity(self.done.len());
        for mut d in std::mem::take(&mut self.done) {
            if d.pos.path != path {
                kept.push(d);
                continue;
            }
            let p = &d.pos;
            let holds = |s: &Sibling| s.head_fingerprint(p.offset) == Some(p.fingerprint);
            // A `.gz` is never rewritten in place: the one found before, by inode, still
            // holds it. Any other file with the inode number took over a freed one.
            let at = sibs
                .iter()
                .find(|s| {
                    s.id == (p.dev, p.inode)
                        && s.compressed == d.compressed
                        && (d.compressed || holds(s))
                })
                .or_else(|| {
                    sibs.iter()
                        .rev()
                        .find(|s| s.compressed && !taken.contains(&s.id) && holds(s))
                });
            if let Some(s) = at {
                (d.pos.dev, d.pos.inode) = s.id;
                d.compressed = s.compressed;
                taken.push(s.id);
                kept.push(d);
            }
        }
        self.done = kept;
    }

    /// Whether `text`, the head of a new compressed sibling of `path`, is the head of a closed
    /// generation of it (read to its end already).
    pub(super) fn done_has_head_of(&self, path: &Path, text: &[u8]) -> bool {
        self.done.iter().any(|Done { pos: d, .. }| {
            let need = fingerprint_len(d.offset);
            d.path == path && text.len() >= need && fingerprint(&text[..need]) == d.fingerprint
        })
    }
}
