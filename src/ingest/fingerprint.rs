//! File identity: device, inode and a fingerprint of the file's first bytes.
//!
//! A path names whatever file is there now; a rotation puts another file behind the same
//! name. A followed file is therefore known by its device and inode, and since inodes are
//! reused as soon as a file is deleted, also by a hash of its head.
//!
//! The fingerprint of a file read up to byte `offset` covers its first
//! `min(FP_LEN, offset)` bytes: only bytes already read, which sit at a line boundary and do
//! not change in an append-only file. A short file therefore keeps its identity while it
//! grows: its fingerprint is always checked over the same bytes it was computed over (the
//! length follows from the stored offset), and it settles once `FP_LEN` bytes have been
//! read. A file nothing has been read from has [`EMPTY_FINGERPRINT`], which matches any file:
//! there is nothing to lose by confusing it. Because the hash runs over every byte up to the
//! offset, not over the first line, an empty first line (fail2ban#3365) or any other short
//! first line does not make two files look alike once their later lines differ.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};

/// Most bytes of a file's head the fingerprint covers. 256 bytes span several log lines, so
/// two files share a fingerprint only if they start with the same lines (a constant header);
/// more would cost reads on every check without telling real logs apart any better.
pub const FP_LEN: usize = 256;

/// The fingerprint of zero bytes (the FNV-1a offset basis): nothing read yet.
pub const EMPTY_FINGERPRINT: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a prime (64 bit).
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Identity of one file: device, inode and the fingerprint of its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileKey {
    /// Device number of the file system holding the file.
    pub dev: u64,
    /// Inode number.
    pub inode: u64,
    /// FNV-1a hash of the first `min(FP_LEN, offset)` bytes (see the module documentation).
    pub fingerprint: u64,
}

/// FNV-1a (64 bit) of `bytes`.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(EMPTY_FINGERPRINT, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// How many head bytes the fingerprint of a file read up to `offset` covers.
pub fn fingerprint_len(offset: u64) -> usize {
    offset.min(FP_LEN as u64) as usize
}

/// Device and inode of a file.
pub fn dev_ino(meta: &Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// The first `len` bytes of `file`, fewer if it is shorter.
pub fn read_head(file: &File, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let n = read_at_full(file, &mut buf, 0)?;
    buf.truncate(n);
    Ok(buf)
}

/// Reads at `pos` until `buf` is full or the file ends; returns the bytes read.
pub fn read_at_full(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], pos + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn fnv1a_known_values() {
        assert_eq!(fingerprint(b""), EMPTY_FINGERPRINT);
        // Published FNV-1a 64 test vectors.
        assert_eq!(fingerprint(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprint_covers_only_bytes_read_up_to_fp_len() {
        assert_eq!(fingerprint_len(0), 0);
        assert_eq!(fingerprint_len(10), 10);
        assert_eq!(fingerprint_len(10_000), FP_LEN);
    }

    #[test]
    fn empty_first_line_does_not_make_files_alike() {
        // fail2ban#3365: both files start with an empty line.
        let a = fingerprint(b"\nJan 1 host vsftpd: login alice\n");
        let b = fingerprint(b"\nJan 2 host vsftpd: login bob\n");
        assert_ne!(a, b);
        assert_ne!(a, fingerprint(b"\n"));
    }

    #[test]
    fn read_head_reads_what_exists() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"abc\n").unwrap();
        assert_eq!(read_head(&f, 2).unwrap(), b"ab");
        assert_eq!(read_head(&f, FP_LEN).unwrap(), b"abc\n");
    }
}
