//! Gzip-compressed logs (logrotate's `compress`): recognised by their first two bytes,
//! read as the decompressed stream, with offsets counted in decompressed bytes.

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// The gzip magic (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `head` starts like a gzip member.
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&GZIP_MAGIC)
}

/// Whether the file at `path` is gzip-compressed (by its first bytes, not its name).
pub fn file_is_gzip(path: &Path) -> bool {
    let mut head = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| is_gzip(&head))
}

/// Opens `path` for reading its text: decompressed if it is gzip, as it is otherwise.
pub fn open_text(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let file = File::open(path)?;
    Ok(if file_is_gzip(path) {
        Box::new(decoder(file))
    } else {
        Box::new(file)
    })
}

/// A decoder of every gzip member of `file` (`gzip` appends members on concatenation).
pub fn decoder(file: File) -> MultiGzDecoder<BufReader<File>> {
    MultiGzDecoder::new(BufReader::new(file))
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The first `len` decompressed bytes of gzip file `path` (fewer if it is shorter).
pub fn head(path: &Path, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let n = read_full(&mut decoder(File::open(path)?), &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    /// `bytes` gzip-compressed.
    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_is_told_by_its_bytes_and_read_decompressed() {
        let dir = tempfile::tempdir().unwrap();
        let (gz, plain) = (dir.path().join("a.1.gz"), dir.path().join("b.gz"));
        std::fs::write(&gz, gzip(b"one\ntwo\n")).unwrap();
        std::fs::write(&plain, b"not compressed\n").unwrap();
        assert!(file_is_gzip(&gz));
        assert!(
            !file_is_gzip(&plain),
            "the name alone does not make it gzip"
        );
        let mut s = String::new();
        open_text(&gz).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "one\ntwo\n");
        s.clear();
        open_text(&plain).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "not compressed\n");
        assert_eq!(head(&gz, 5).unwrap(), b"one\nt");
        assert_eq!(head(&gz, 100).unwrap(), b"one\ntwo\n");
    }

    #[test]
    fn a_corrupt_member_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.gz");
        let mut bytes = gzip(b"some text that compresses\n".repeat(50).as_slice());
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        bytes.truncate(bytes.len() - 4);
        std::fs::write(&p, bytes).unwrap();
        let mut out = Vec::new();
        let err = open_text(&p).unwrap().read_to_end(&mut out).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::InvalidInput
                    | io::ErrorKind::InvalidData
                    | io::ErrorKind::UnexpectedEof
            ),
            "{err:?}"
        );
    }
}
