//! Anchors: what a restart tells generations rotated while it was down from older ones by.
//!
//! A restart reads the rotated siblings newer than the files its positions name. When no
//! position names a rotated file (nothing of the live file had been read, or all of it had
//! and no rotated generation was open), nothing said which siblings existed at the last
//! poll, and a generation rotated and compressed while the daemon was down was missed. So
//! [`Tailer::positions`] also names, per followed path, the newest rotated sibling with
//! text seen at the last poll that ends with a whole line, at its end (its `.gz` found by its
//! decompressed head like any position, and nothing of it read): every sibling newer than
//! it holds lines never read. A path whose siblings had no whole line gets a position with
//! inode [`NO_SIBLINGS`] instead: every sibling a restart finds is newer.

use super::siblings::Sibling;
use super::{FilePosition, Tailer};
use crate::ingest::fingerprint::{
    fingerprint, fingerprint_len, read_at_full, EMPTY_FINGERPRINT, FP_LEN,
};
use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The inode number of the position saying "this path had no rotated sibling with text":
/// no file has inode 0 on Linux file systems (it means "no inode"). Its device number is a
/// hash of the path, so that the positions of several paths stay apart.
pub(super) const NO_SIBLINGS: u64 = 0;

/// What the anchor of a path is made from: a sibling's text length and the fingerprint of
/// its head, known for one state of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Measured {
    id: (u64, u64),
    len: u64,
    mtime: (i64, i64),
    text_len: u64,
    fp: u64,
}

/// The anchors of the followed paths, and what was measured to make them (a compressed
/// sibling is decompressed whole once to learn its text length, not at every poll).
#[derive(Debug, Default)]
pub(super) struct Anchors {
    by_path: HashMap<PathBuf, PathAnchor>,
}

/// The anchor of one path.
#[derive(Debug, Default)]
struct PathAnchor {
    anchor: Option<Measured>,
    /// Newer siblings found no anchor (half a line at their end, or not decompressible)
    /// as they were then (inode, size, mtime): not measured again while unchanged.
    not: Vec<FileState>,
}

/// A file as a listing saw it: device and inode, size, modification time.
type FileState = ((u64, u64), u64, (i64, i64));

impl Anchors {
    /// Sets the anchor of `path` from its siblings `sibs` (oldest first) seen at this poll:
    /// one older than all of `unseen` (not settled yet, or read from nowhere a position can
    /// find again), which a restart then takes for files rotated while down. A sibling in
    /// `named` has a position of its own (followed or closed, so read to its end when it
    /// closes) and anchors whether or not it ends with a whole line.
    pub(super) fn update(
        &mut self,
        path: &Path,
        sibs: &[Sibling],
        unseen: &[(u64, u64)],
        named: &HashSet<(u64, u64)>,
    ) {
        let old = self.by_path.remove(path).unwrap_or_default();
        let mut new = PathAnchor::default();
        // Older than every file left out, which a restart must take for a new one.
        let limit = (sibs.iter().position(|s| unseen.contains(&s.id))).unwrap_or(sibs.len());
        for s in sibs[..limit].iter().rev() {
            let state = (s.id, s.len, s.mtime);
            if old.not.contains(&state) {
                new.not.push(state);
                continue;
            }
            let m = match old.anchor {
                Some(m) if (m.id, m.len, m.mtime) == state => Some(m),
                _ => measure(s, !named.contains(&s.id)).ok().flatten(),
            };
            match m {
                Some(m) => {
                    new.anchor = Some(m);
                    break;
                }
                None => new.not.push(state),
            }
        }
        self.by_path.insert(path.to_path_buf(), new);
    }

    /// Forgets paths no longer looked at.
    pub(super) fn retain(&mut self, paths: &[PathBuf]) {
        self.by_path.retain(|p, _| paths.contains(p));
    }

    /// The anchor positions of every path.
    fn positions(&self) -> impl Iterator<Item = FilePosition> + '_ {
        self.by_path.iter().map(|(path, a)| match &a.anchor {
            Some(m) => FilePosition {
                path: path.clone(),
                dev: m.id.0,
                inode: m.id.1,
                fingerprint: m.fp,
                offset: m.text_len,
            },
            None => FilePosition {
                path: path.clone(),
                dev: fingerprint(path.as_os_str().as_bytes()),
                inode: NO_SIBLINGS,
                fingerprint: EMPTY_FINGERPRINT,
                offset: 0,
            },
        })
    }
}

/// The text length of `s` and the fingerprint of its head, if its text ends with a whole
/// line or `whole_lines` is false. A file never read that ends with half a line is no
/// anchor: a writer that still has it open may complete the line, which a restart would
/// then read from the middle.
fn measure(s: &Sibling, whole_lines: bool) -> io::Result<Option<Measured>> {
    let (text_len, last) = match s.compressed {
        false => {
            let f = std::fs::File::open(&s.path)?;
            let mut last = [0u8];
            let n = read_at_full(&f, &mut last, s.len.saturating_sub(1))?;
            (s.len, last[..n].first().copied())
        }
        true => text_end(&mut crate::ingest::compressed::open_text(&s.path)?)?,
    };
    if last.is_none() || (whole_lines && last != Some(b'\n')) {
        return Ok(None);
    }
    let need = fingerprint_len(text_len);
    let head = s.head(need)?;
    if head.len() < need {
        // Changed between the two looks: measured again next poll.
        return Err(io::ErrorKind::Interrupted.into());
    }
    Ok(Some(Measured {
        id: s.id,
        len: s.len,
        mtime: s.mtime,
        text_len,
        fp: fingerprint(&head),
    }))
}

/// Reads `r` to its end; returns its length and last byte.
fn text_end(r: &mut impl io::Read) -> io::Result<(u64, Option<u8>)> {
    let mut buf = vec![0; crate::ingest::lines::BLOCK_SIZE];
    let (mut len, mut last) = (0u64, None);
    loop {
        let n = crate::ingest::compressed::read_full(r, &mut buf)?;
        if n == 0 {
            return Ok((len, last));
        }
        len += n as u64;
        last = Some(buf[n - 1]);
    }
}

impl Tailer {
    /// Sets the anchor of `path` from its siblings `sibs` (see [`Anchors::update`]).
    ///
    /// The anchor is older than every generation of which nothing has been returned, and
    /// than the compressed file of such a generation read on through its descriptor after
    /// the compressor removed it: their positions (offset 0, no head) cannot find them
    /// again once compressed, so a restart must take them for files rotated while down and
    /// read them from their start.
    pub(super) fn update_anchor(&mut self, path: &Path, sibs: &[Sibling], unseen: &[(u64, u64)]) {
        let mut skip: Vec<(u64, u64)> = unseen.to_vec();
        // A generation of which nothing was returned: its position (offset 0, no head) finds
        // it by inode only, so not once it is compressed.
        skip.extend(self.gens.iter().filter(|g| g.offset == 0).map(|g| g.id));
        let unfound: Vec<Vec<u8>> = (self.gens.iter())
            .filter(|g| g.path == path && g.offset == 0 && !g.is_compressed())
            .filter(|g| {
                g.state != super::generation::State::Live && g.nlink().is_ok_and(|n| n == 0)
            })
            .filter_map(|g| g.text_head().ok().filter(|h| !h.is_empty()))
            .collect();
        if !unfound.is_empty() {
            for s in sibs.iter().filter(|s| s.compressed) {
                let head = s.head(FP_LEN).unwrap_or_default();
                if unfound
                    .iter()
                    .any(|h| h.starts_with(&head) || head.starts_with(h))
                {
                    skip.push(s.id);
                }
            }
        }
        let named: HashSet<(u64, u64)> = (self.gens.iter().map(|g| g.id))
            .chain(self.done.iter().map(|d| (d.pos.dev, d.pos.inode)))
            .collect();
        self.anchors.update(path, sibs, &skip, &named);
    }

    /// The anchors that no other position stands for (a followed or closed generation is
    /// found by its own position).
    pub(super) fn anchor_positions(&self) -> Vec<FilePosition> {
        let named = |p: &FilePosition| {
            self.gens.iter().any(|g| g.id == (p.dev, p.inode))
                || self
                    .done
                    .iter()
                    .any(|d| (d.pos.dev, d.pos.inode) == (p.dev, p.inode))
        };
        self.anchors.positions().filter(|p| !named(p)).collect()
    }
}
