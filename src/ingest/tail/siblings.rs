//! Rotated siblings of a followed path, and which of them appeared since the last look.
//!
//! For `/var/log/x.log` the siblings are the files in `/var/log` named `x.log.<digits>`
//! (logrotate's numbering, `.1` newest) or `x.log-<anything>` (`dateext`, newer sorts
//! later). Compressed names (`.gz`, `.xz`, `.zst`, `.bz2`, `.lz4`, `.Z`) are left out of
//! [`list`]; [`list_compressed`] gives those read (`x.log.2.gz`, `.xz`, `.zst`, `.bz2`:
//! [`crate::ingest::compressed::SUFFIXES`]), read where they hold lines not read before:
//! the rest of a generation compressed while the tailer was down or before it read it to
//! its end, or a generation rotated and compressed between two polls. A compressed sibling
//! is known by its decompressed head; its format by its first bytes.

use crate::ingest::compressed::SUFFIXES;
use crate::ingest::fingerprint::{dev_ino, fingerprint, fingerprint_len, read_head, FP_LEN};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Suffixes of compressed rotated files, which [`list`] leaves out.
const COMPRESSED: &[&[u8]] = &[b".gz", b".bz2", b".xz", b".zst", b".lz4", b".Z"];

/// Where a sibling sits in the rotation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Rank {
    /// `<name>.<n>`: a larger `n` is older.
    Numbered(u64),
    /// `<name>-<suffix>`: a larger suffix (a date) is newer.
    Suffixed(Vec<u8>),
}

impl Rank {
    /// Whether `self` is a newer rotation than `other`; ranks of different schemes are not
    /// comparable and never newer.
    pub(super) fn newer_than(&self, other: &Rank) -> bool {
        match (self, other) {
            (Rank::Numbered(a), Rank::Numbered(b)) => a < b,
            (Rank::Suffixed(a), Rank::Suffixed(b)) => a > b,
            _ => false,
        }
    }

    /// Sort key putting older rotations first.
    pub(super) fn age_key(&self) -> (u8, u64, Vec<u8>) {
        match self {
            Rank::Numbered(n) => (0, u64::MAX - n, Vec::new()),
            Rank::Suffixed(s) => (1, 0, s.clone()),
        }
    }
}

/// The rank of file `name` as a rotated sibling of `base`, if it is one.
pub(super) fn rank(base: &[u8], name: &[u8]) -> Option<Rank> {
    let rest = name.strip_prefix(base)?;
    if COMPRESSED.iter().any(|c| name.ends_with(c)) {
        return None;
    }
    match rest.split_first()? {
        (b'.', digits) if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(digits)
                .ok()?
                .parse()
                .ok()
                .map(Rank::Numbered)
        }
        (b'-', suffix) if !suffix.is_empty() => Some(Rank::Suffixed(suffix.to_vec())),
        _ => None,
    }
}

/// The rank of `name` as a compressed rotated sibling of `base` (`x.log.2.gz`,
/// `x.log-20261122.zst`).
pub(super) fn rank_compressed(base: &[u8], name: &[u8]) -> Option<Rank> {
    let suffix = SUFFIXES.iter().find(|s| name.ends_with(s.as_bytes()))?;
    rank(base, &name[..name.len() - suffix.len()])
}

/// One rotated sibling as found on disk.
#[derive(Debug, Clone)]
pub(super) struct Sibling {
    pub path: PathBuf,
    pub rank: Rank,
    pub id: (u64, u64),
    /// Size on disk (compressed bytes for a compressed sibling).
    pub len: u64,
    pub mtime: (i64, i64),
    /// Birth time, where the file system records it: tells a file from a later one that
    /// reuses its inode number.
    pub born: Option<SystemTime>,
    /// Compressed (`x.log.2.gz`, `.xz`, `.zst`, `.bz2`): its text is the decompressed stream.
    pub compressed: bool,
}

impl Sibling {
    /// Its first `len` bytes of text (decompressed if compressed), fewer if it is shorter. A compressed
    /// stream that cannot be decompressed that far (still being written) is an error.
    pub(super) fn head(&self, len: usize) -> std::io::Result<Vec<u8>> {
        match self.compressed {
            true => crate::ingest::compressed::head(&self.path, len),
            false => read_head(&File::open(&self.path)?, len),
        }
    }

    /// FNV-1a of its first `min(FP_LEN, offset)` bytes of text, if it has that many.
    pub(super) fn head_fingerprint(&self, offset: u64) -> Option<u64> {
        let need = fingerprint_len(offset);
        let head = self.head(need).ok()?;
        (head.len() == need).then(|| fingerprint(&head))
    }

    /// Whether it may hold `offset` bytes of text (a compressed sibling's text length is only
    /// known by decompressing it all).
    pub(super) fn may_hold(&self, offset: u64) -> bool {
        self.compressed || self.len >= offset
    }
}

/// The directory holding `followed`.
pub(super) fn dir_of(followed: &Path) -> PathBuf {
    match followed.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The names in directory `dir` (none if it cannot be read).
pub(super) fn names_in(dir: &Path) -> Vec<OsString> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.file_name()))
                .collect()
        })
        .unwrap_or_default()
}

/// The rotated siblings of `followed` now, oldest first.
pub(super) fn list(followed: &Path) -> Vec<Sibling> {
    list_in(followed, &names_in(&dir_of(followed)))
}

/// The compressed rotated siblings of `followed` now, oldest first.
pub(super) fn list_compressed(followed: &Path) -> Vec<Sibling> {
    list_compressed_in(followed, &names_in(&dir_of(followed)))
}

/// Every rotated copy of `followed` now, plain and compressed, newest first: where a line that
/// was read from `followed` may be found after rotations.
pub(crate) fn rotated_copies(followed: &Path) -> Vec<PathBuf> {
    let names = names_in(&dir_of(followed));
    let mut all = list_in(followed, &names);
    all.extend(list_compressed_in(followed, &names));
    all.sort_by_key(|s| std::cmp::Reverse(s.rank.age_key()));
    all.into_iter().map(|s| s.path).collect()
}

/// The rotated siblings of `followed` among `names`, the names in its directory.
pub(super) fn list_in(followed: &Path, names: &[OsString]) -> Vec<Sibling> {
    list_ranked(followed, names, false)
}

/// The compressed rotated siblings of `followed` among `names`.
pub(super) fn list_compressed_in(followed: &Path, names: &[OsString]) -> Vec<Sibling> {
    list_ranked(followed, names, true)
}

/// The files among `names` that are rotated siblings of `followed`: the compressed ones, or the
/// plain ones.
fn list_ranked(followed: &Path, names: &[OsString], compressed: bool) -> Vec<Sibling> {
    let rank_of = if compressed { rank_compressed } else { rank };
    let Some(base) = followed.file_name() else {
        return Vec::new();
    };
    let dir = dir_of(followed);
    let mut out: Vec<Sibling> = names
        .iter()
        .filter_map(|name| {
            let rank = rank_of(base.as_bytes(), name.as_bytes())?;
            let path = dir.join(name);
            let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
            Some(Sibling {
                path,
                rank,
                id: dev_ino(&meta),
                len: meta.len(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                born: meta.created().ok(),
                compressed,
            })
        })
        .collect();
    out.sort_by_key(|s| s.rank.age_key());
    out
}

/// What was known of a sibling at the last look.
#[derive(Debug, Clone)]
struct Seen {
    len: u64,
    mtime: (i64, i64),
    born: Option<SystemTime>,
    head_len: u64,
    /// The head spans `FP_LEN` bytes or ends with a newline.
    whole_lines: bool,
    head_fp: u64,
}

/// The siblings of one followed path seen at the last look, to tell which are new.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    seen: HashMap<(u64, u64), Seen>,
}

impl Snapshot {
    /// A snapshot in which all of `sibs` have been seen.
    pub(super) fn of(sibs: &[Sibling]) -> Snapshot {
        let mut s = Snapshot::default();
        s.update(sibs, &[]);
        s
    }

    /// Whether `sib` appeared since the last look: an inode not seen then, or a seen inode
    /// born again or whose head changed (the inode was freed and reused by another file;
    /// compressing frees inodes that the next copy reuses at once). An inode that was empty
    /// then has no head to compare: with data now it counts as new (nothing of it can have
    /// been read). Without birth times, a file that starts with all a short seen file held
    /// (a partial line) cannot be told from it grown.
    pub(super) fn is_new(&self, sib: &Sibling) -> bool {
        match self.seen.get(&sib.id) {
            None => true,
            Some(s) if s.born.is_some() && sib.born.is_some() && s.born != sib.born => true,
            Some(s) if s.len == sib.len && s.mtime == sib.mtime => false,
            Some(s) if s.head_len == 0 => sib.len > 0,
            Some(s) => sib.len < s.head_len || sib.head_fingerprint(s.head_len) != Some(s.head_fp),
        }
    }

    /// Whether `text`, the head of a new compressed sibling's text, starts with the head of a
    /// sibling seen at the last look: a compressed copy of it (a seen file only grows, so
    /// its head then was all it had or `FP_LEN` bytes). A seen file still among `sibs` was
    /// not compressed (the compressor removes it; it may not have yet), so it matches only by a head
    /// that ends at a line's end or spans `FP_LEN`: half a line is the start of many lines.
    /// With `half_lines` false, only seen heads of whole lines (or `FP_LEN`) count.
    pub(super) fn head_of(&self, text: &[u8], sibs: &[Sibling], half_lines: bool) -> bool {
        self.seen.iter().any(|(id, s)| {
            s.head_len > 0
                && (s.whole_lines
                    || half_lines && !sibs.iter().any(|o| o.id == *id && o.born == s.born))
                && text.len() as u64 >= s.head_len
                && fingerprint(&text[..s.head_len as usize]) == s.head_fp
        })
    }

    /// Replaces the snapshot by `sibs`, leaving out `unseen` (looked at again next time).
    pub(super) fn update(&mut self, sibs: &[Sibling], unseen: &[(u64, u64)]) {
        let mut seen = HashMap::with_capacity(sibs.len());
        for sib in sibs.iter().filter(|s| !unseen.contains(&s.id)) {
            let unchanged = self
                .seen
                .get(&sib.id)
                .filter(|s| s.len == sib.len && s.mtime == sib.mtime)
                .cloned();
            let entry = match unchanged {
                Some(s) => s,
                None => match sib.head(FP_LEN) {
                    Ok(head) => Seen {
                        len: sib.len,
                        mtime: sib.mtime,
                        born: sib.born,
                        head_len: head.len() as u64,
                        whole_lines: head.len() == FP_LEN || head.ends_with(b"\n"),
                        head_fp: fingerprint(&head),
                    },
                    // Vanished meanwhile, or a compressed stream still being written: look again
                    // next time.
                    Err(_) => continue,
                },
            };
            seen.insert(sib.id, entry);
        }
        self.seen = seen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_table() {
        let b = b"x.log";
        assert_eq!(rank(b, b"x.log.1"), Some(Rank::Numbered(1)));
        assert_eq!(rank(b, b"x.log.12"), Some(Rank::Numbered(12)));
        assert_eq!(
            rank(b, b"x.log-20240101"),
            Some(Rank::Suffixed(b"20240101".to_vec()))
        );
        for not in [
            &b"x.log"[..],
            b"x.log.",
            b"x.log.1a",
            b"x.log.2.gz",
            b"x.log-1.gz",
            b"x.logx",
            b"y.log.1",
            b"x.log-",
        ] {
            assert_eq!(rank(b, not), None, "{}", String::from_utf8_lossy(not));
        }
        assert!(Rank::Numbered(1).newer_than(&Rank::Numbered(2)));
        assert!(!Rank::Numbered(3).newer_than(&Rank::Numbered(2)));
        assert!(
            Rank::Suffixed(b"20240102".to_vec()).newer_than(&Rank::Suffixed(b"20240101".to_vec()))
        );
        assert!(!Rank::Numbered(1).newer_than(&Rank::Suffixed(b"1".to_vec())));
        assert_eq!(rank_compressed(b, b"x.log.2.gz"), Some(Rank::Numbered(2)));
        assert_eq!(
            rank_compressed(b, b"x.log-20240101.gz"),
            Some(Rank::Suffixed(b"20240101".to_vec()))
        );
        for (name, n) in [("x.log.3.xz", 3), ("x.log.4.zst", 4), ("x.log.5.bz2", 5)] {
            assert_eq!(rank_compressed(b, name.as_bytes()), Some(Rank::Numbered(n)));
        }
        for not in [&b"x.log.2"[..], b"x.log.gz", b"x.log.2.lz4", b"y.log.1.gz"] {
            assert_eq!(
                rank_compressed(b, not),
                None,
                "{}",
                String::from_utf8_lossy(not)
            );
        }
    }

    /// `compress` frees inodes that the next file takes at once: a file that starts with
    /// all a seen sibling held (half a line) is new if it was born later, and the same file
    /// grown if not. A new `.gz` is that sibling compressed only once it is gone, when all
    /// it had seen was half a line.
    #[test]
    fn inode_born_again_is_new_and_half_a_line_matches_only_a_gone_sibling() {
        use std::time::{Duration, UNIX_EPOCH};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        std::fs::write(dir.path().join("x.log.1"), b"line 0000").unwrap();
        let mut sibs = list(&p);
        sibs[0].born = Some(UNIX_EPOCH + Duration::from_secs(100));
        let snap = Snapshot::of(&sibs);
        std::fs::write(dir.path().join("x.log.1"), b"line 00000002 gen 1\n").unwrap();
        let mut grown = sibs[0].clone();
        (grown.len, grown.mtime.0) = (20, grown.mtime.0 + 1);
        assert!(!snap.is_new(&grown));
        let mut again = grown.clone();
        again.born = Some(UNIX_EPOCH + Duration::from_secs(101));
        assert!(snap.is_new(&again));
        let gz_text = b"line 00000001 gen 0\n";
        assert!(!snap.head_of(gz_text, &sibs, true), "still there");
        assert!(snap.head_of(gz_text, &[], true), "gone: compressed");
        assert!(!snap.head_of(b"other\n", &[], true));
        assert!(!snap.head_of(gz_text, &[], false), "half a line only");
    }

    #[test]
    fn list_is_oldest_first_and_snapshot_tells_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        for f in [
            "x.log",
            "x.log.1",
            "x.log.10",
            "x.log.2",
            "x.log.3.gz",
            "other.1",
        ] {
            std::fs::write(dir.path().join(f), f.as_bytes()).unwrap();
        }
        let names = |s: &[Sibling]| -> Vec<String> {
            s.iter()
                .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let sibs = list(&p);
        assert_eq!(names(&sibs), ["x.log.10", "x.log.2", "x.log.1"]);
        let snap = Snapshot::of(&sibs);
        std::fs::rename(dir.path().join("x.log.2"), dir.path().join("x.log.3")).unwrap();
        std::fs::write(dir.path().join("x.log.2"), b"new").unwrap();
        let sibs = list(&p);
        let new: Vec<_> = sibs.iter().filter(|s| snap.is_new(s)).collect();
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].path, dir.path().join("x.log.2"));
    }
}
