//! Followed paths: literal paths and `*` / `?` wildcards in the file-name part.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Whether the file-name part of `pattern` holds a wildcard.
pub(super) fn is_glob(pattern: &Path) -> bool {
    pattern
        .file_name()
        .is_some_and(|n| n.as_bytes().iter().any(|&b| b == b'*' || b == b'?'))
}

/// The regular files `pattern` names now, sorted. A literal path is returned if it is a
/// file. Wildcards are honoured in the last component only: the directory part is literal.
pub(super) fn expand(pattern: &Path) -> Vec<PathBuf> {
    if !is_glob(pattern) {
        return if pattern.is_file() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let name = pattern.file_name().map(|n| n.as_bytes()).unwrap_or(b"");
    let dir = match pattern.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| wildcard_match(name, e.file_name().as_bytes()))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Whether `name` matches `pat`, where `*` matches any run of bytes (dots included) and `?`
/// any one byte. Greedy with one backtrack point: linear in practice, never exponential.
pub(super) fn wildcard_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // Position after the last `*` seen and the name position it is trying to cover up to.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("vsftpd*.log", "vsftpd.log", true),
            ("vsftpd*.log", "vsftpd-2.log", true),
            ("vsftpd*.log", "vsftpd.log.1", false),
            ("vsftpd*.log", "xferlog", false),
            ("x?.log", "x1.log", true),
            ("x?.log", "x.log", false),
            ("x?.log", "x12.log", false),
            ("*", "anything", true),
            ("*", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*.log", ".log", true),
            ("**x", "abx", true),
            ("exact.log", "exact.log", true),
            ("exact.log", "exact.log2", false),
        ];
        for &(pat, name, want) in cases {
            assert_eq!(
                wildcard_match(pat.as_bytes(), name.as_bytes()),
                want,
                "{pat} vs {name}"
            );
        }
    }

    #[test]
    fn expand_lists_matching_files_only() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.log", "b.log", "a.log.1", "c.txt"] {
            std::fs::write(dir.path().join(f), b"x\n").unwrap();
        }
        std::fs::create_dir(dir.path().join("d.log")).unwrap();
        let got = expand(&dir.path().join("*.log"));
        assert_eq!(
            got,
            vec![dir.path().join("a.log"), dir.path().join("b.log")]
        );
        assert_eq!(
            expand(&dir.path().join("c.txt")),
            vec![dir.path().join("c.txt")]
        );
        assert!(expand(&dir.path().join("missing.log")).is_empty());
        assert!(expand(&dir.path().join("nodir/*.log")).is_empty());
    }
}
