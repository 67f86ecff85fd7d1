//! A parsed event together with the raw line it came from.

use portcullis_parsers::Event;
use std::sync::Arc;

/// Longest raw line kept as evidence; longer lines are cut (and marked) to keep rows bounded.
pub const MAX_EVIDENCE_BYTES: usize = 2048;

/// Seed of [`line_digest`]: fixed, so a digest kept in a snapshot matches the line read back
/// by a later run.
const DIGEST_SEED: u64 = 0x6c69_6e65_6469_6773;

/// A 32-bit digest of a line's first [`MAX_EVIDENCE_BYTES`] bytes, without its terminator:
/// the key hash's multiply-fold mix, eight bytes per step (byte-at-a-time FNV cost about
/// 7 instructions a byte). Evidence kept by place carries it, so a line read back at that
/// place after a rotation is recognised as the same line, or as another one.
pub fn line_digest(line: &[u8]) -> u32 {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let h = crate::rules::key::hash_bytes(DIGEST_SEED, &line[..line.len().min(MAX_EVIDENCE_BYTES)]);
    (h ^ (h >> 32)) as u32
}

/// A line inside a shared read buffer: cloning it is a reference-count increment, not a copy.
#[derive(Debug, Clone)]
pub struct RawLine {
    chunk: Arc<[u8]>,
    start: usize,
    end: usize,
}

impl RawLine {
    /// The line `chunk[start..end]`.
    pub fn new(chunk: Arc<[u8]>, start: usize, end: usize) -> RawLine {
        let end = end.min(chunk.len());
        RawLine {
            chunk,
            start: start.min(end),
            end,
        }
    }

    /// A line that owns its text (tests, listeners).
    pub fn from_text(text: &str) -> RawLine {
        let chunk: Arc<[u8]> = Arc::from(text.as_bytes());
        let end = chunk.len();
        RawLine {
            chunk,
            start: 0,
            end,
        }
    }

    /// The line's bytes, without line terminator.
    pub fn as_bytes(&self) -> &[u8] {
        &self.chunk[self.start..self.end]
    }

    /// A 32-bit digest of the line (see [`line_digest`]).
    pub fn digest(&self) -> u32 {
        line_digest(self.as_bytes())
    }

    /// The line as evidence text: invalid UTF-8 replaced, cut at [`MAX_EVIDENCE_BYTES`].
    pub fn to_evidence_text(&self) -> Box<str> {
        let bytes = self.as_bytes();
        let kept = &bytes[..bytes.len().min(MAX_EVIDENCE_BYTES)];
        let cut = kept.len() < bytes.len();
        match std::str::from_utf8(kept) {
            Ok(text) if !cut => Box::from(text),
            _ => {
                let mut text = String::from_utf8_lossy(kept).into_owned();
                if cut {
                    text.push_str(" [...]");
                }
                text.into_boxed_str()
            }
        }
    }
}

/// A line that may become evidence: cheap to keep (no copy of the text) until an incident
/// actually needs it.
#[derive(Debug, Clone)]
pub struct EvidenceRef {
    /// Event time of the line.
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// Source index.
    pub source: u32,
    /// Byte offset in the source.
    pub offset: u64,
    /// The line.
    pub raw: RawLine,
}

impl EvidenceRef {
    /// The evidence line of a record.
    pub fn of(rec: &Record) -> EvidenceRef {
        EvidenceRef {
            timestamp: rec.event.timestamp,
            source: rec.event.origin.source,
            offset: rec.event.origin.offset,
            raw: rec.raw.clone(),
        }
    }

    /// Copies the text out, so the shared read buffer can be freed.
    pub fn materialize(&self) -> crate::incident::Evidence {
        crate::incident::Evidence {
            timestamp: self.timestamp,
            source: self.source,
            offset: self.offset,
            digest: None,
            raw: self.raw.to_evidence_text(),
        }
    }
}

/// One parsed event and its raw line.
#[derive(Debug, Clone)]
pub struct Record {
    /// The normalized event (its `origin` says source and byte offset).
    pub event: Event,
    /// The raw line.
    pub raw: RawLine,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_tells_lines_apart_and_ignores_what_is_not_kept() {
        let line =
            b"Mar  2 10:00:00 fw kernel: DROP IN=eth0 SRC=192.0.2.7 DST=203.0.113.10 DPT=445";
        let d = line_digest(line);
        // Pinned: a digest kept in a snapshot must match the line read back by a later build.
        assert_eq!(d, 1_491_912_455);
        // One byte changed anywhere (in a full 8-byte word or in the tail) changes it.
        for i in 0..line.len() {
            let mut other = line.to_vec();
            other[i] ^= 1;
            assert_ne!(line_digest(&other), d, "byte {i}");
        }
        // A zero byte appended is another line, not the same one padded.
        assert_ne!(line_digest(&[line.as_slice(), b"\0"].concat()), d);
        // The CR of a CRLF line is not part of it.
        assert_eq!(line_digest(&[line.as_slice(), b"\r"].concat()), d);
        // Past the kept evidence length, bytes do not count.
        let long = vec![b'a'; MAX_EVIDENCE_BYTES];
        let longer = [long.as_slice(), b"b"].concat();
        assert_eq!(line_digest(&longer), line_digest(&long));
    }

    #[test]
    fn evidence_text_is_lossy_and_bounded() {
        let mut bytes = b"ok \xff ".to_vec();
        bytes.extend(std::iter::repeat_n(b'a', 5000));
        let chunk: Arc<[u8]> = Arc::from(bytes);
        let raw = RawLine::new(chunk.clone(), 0, chunk.len());
        let text = raw.to_evidence_text();
        assert!(text.starts_with("ok \u{fffd} aaa"));
        assert!(text.ends_with(" [...]"));
        assert!(text.len() < MAX_EVIDENCE_BYTES + 16);
        assert_eq!(RawLine::new(chunk, 0, 2).as_bytes(), b"ok");
    }
}
