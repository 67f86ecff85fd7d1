//! Compressed logs (logrotate's `compress`, with gzip or a `compresscmd` of xz, zstd or
//! bzip2): recognised by their first bytes, not their names, and read as the decompressed
//! stream, with offsets counted in decompressed bytes. Every format is read to the end of
//! its last stream (`gzip`, `xz`, `zstd` and `bzip2` all append streams on concatenation).
//!
//! A stream cut short (a file still being written, or truncated) is an error when its end
//! is reached, never a clean end: its text is not taken as finished.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// A compression format a rotated log may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// gzip (RFC 1952), logrotate's default.
    Gzip,
    /// xz (the `.xz` container of LZMA2).
    Xz,
    /// Zstandard (RFC 8878).
    Zstd,
    /// bzip2.
    Bzip2,
}

/// The magic bytes each format starts with: gzip RFC 1952 section 2.3.1; xz file format
/// 1.2.0 section 2.1.1.1; zstd RFC 8878 section 3.1.1 (0xFD2FB528 little-endian); bzip2
/// "BZh" then the block size '1'..'9'.
const MAGICS: [(Codec, &[u8]); 4] = [
    (Codec::Gzip, &[0x1f, 0x8b]),
    (Codec::Xz, &[0xfd, b'7', b'z', b'X', b'Z', 0]),
    (Codec::Zstd, &[0x28, 0xb5, 0x2f, 0xfd]),
    (Codec::Bzip2, b"BZh"),
];

/// Bytes needed to tell the formats apart (the longest magic).
const MAGIC_LEN: usize = 6;

/// File-name suffixes of the formats read; a rotated sibling with one of them is looked
/// at as a compressed generation (its bytes then say which format it is in, if any).
pub const SUFFIXES: [&str; 4] = [".gz", ".xz", ".zst", ".bz2"];

impl Codec {
    /// The format `head` (a file's first bytes) is in, if any.
    pub fn of(head: &[u8]) -> Option<Codec> {
        let (codec, _) = MAGICS.iter().find(|(_, m)| head.starts_with(m))?;
        let bzip2_level_ok = head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b));
        (*codec != Codec::Bzip2 || bzip2_level_ok).then_some(*codec)
    }

    /// The format of the file at `path` (by its first bytes), if it is compressed.
    pub fn of_file(path: &Path) -> Option<Codec> {
        let mut head = [0u8; MAGIC_LEN];
        let n = read_full(&mut File::open(path).ok()?, &mut head).ok()?;
        Codec::of(&head[..n])
    }

    /// A reader of the text in `file` (every stream of it), from its start.
    pub fn decoder(self, file: File) -> io::Result<Box<dyn Read + Send>> {
        let r = BufReader::new(file);
        Ok(match self {
            Codec::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            Codec::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
            Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
            Codec::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        })
    }
}

/// Opens `path` for reading its text: decompressed if it is compressed, as it is otherwise.
pub fn open_text(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let file = File::open(path)?;
    match Codec::of_file(path) {
        Some(codec) => codec.decoder(file),
        None => Ok(Box::new(file)),
    }
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

/// The first `len` bytes of the text of `path` (fewer if it is shorter): decompressed if
/// it is compressed. A stream that ends before `len` bytes without its proper end is an
/// error.
pub fn head(path: &Path, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let n = read_full(&mut open_text(path)?, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// `bytes` gzip-compressed.
    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        compress(Codec::Gzip, bytes)
    }

    /// `bytes` compressed in `codec`, as its command-line tool writes it.
    pub(crate) fn compress(codec: Codec, bytes: &[u8]) -> Vec<u8> {
        match codec {
            Codec::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(bytes).unwrap();
                e.finish().unwrap()
            }
            Codec::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(bytes).unwrap();
                e.finish().unwrap()
            }
            Codec::Zstd => zstd::stream::encode_all(bytes, 1).unwrap(),
            Codec::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(bytes).unwrap();
                e.finish().unwrap()
            }
        }
    }

    /// Every format read.
    pub(crate) const ALL: [Codec; 4] = [Codec::Gzip, Codec::Xz, Codec::Zstd, Codec::Bzip2];

    #[test]
    fn each_format_is_told_by_its_bytes_and_read_decompressed() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"one\ntwo\n".repeat(100);
        for codec in ALL {
            let p = dir.path().join(format!("{codec:?}.1"));
            std::fs::write(&p, compress(codec, &text)).unwrap();
            assert_eq!(Codec::of_file(&p), Some(codec));
            let mut s = Vec::new();
            open_text(&p).unwrap().read_to_end(&mut s).unwrap();
            assert_eq!(s, text, "{codec:?}");
            assert_eq!(head(&p, 5).unwrap(), b"one\nt");
            // Two streams one after the other (`cat a.gz b.gz`) are one text.
            let mut two = compress(codec, b"a\n");
            two.extend(compress(codec, b"b\n"));
            std::fs::write(&p, two).unwrap();
            s.clear();
            open_text(&p).unwrap().read_to_end(&mut s).unwrap();
            assert_eq!(s, b"a\nb\n", "{codec:?}");
        }
        let plain = dir.path().join("b.gz");
        std::fs::write(&plain, b"not compressed\n").unwrap();
        assert_eq!(Codec::of_file(&plain), None, "the name alone says nothing");
        let mut s = String::new();
        open_text(&plain).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "not compressed\n");
        assert_eq!(Codec::of(b"BZx"), None, "bzip2 needs its block size");
    }

    /// A stream cut anywhere before its end (as a compressor writing it leaves it) is an
    /// error, in every format; a corrupt one too. Never a panic, never a clean end.
    #[test]
    fn a_cut_or_corrupt_stream_is_an_error_not_an_end() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = (0..2000)
            .flat_map(|i| format!("line {i} of some log\n").into_bytes())
            .collect();
        for codec in ALL {
            let whole = compress(codec, &text);
            let p = dir.path().join("cut");
            for cut in [whole.len() / 3, whole.len() - 1] {
                std::fs::write(&p, &whole[..cut]).unwrap();
                let mut out = Vec::new();
                let r = open_text(&p).unwrap().read_to_end(&mut out);
                assert!(
                    r.is_err(),
                    "{codec:?} cut at {cut}: read {} bytes",
                    out.len()
                );
            }
            let mut bad = whole.clone();
            let mid = bad.len() / 2;
            bad[mid] ^= 0xff;
            std::fs::write(&p, &bad).unwrap();
            let mut out = Vec::new();
            let r = open_text(&p).unwrap().read_to_end(&mut out);
            assert!(r.is_err() || out != text, "{codec:?} corrupt");
        }
    }
}
