//! Reading evidence lines back from their source by byte offset, for detectors that keep
//! evidence by place only (long windows, random walks).
//!
//! A place is a source, an offset and the line's digest. By the time an incident is stored
//! (hours later for a slow scan) the file may have been rotated: the line is then looked for
//! at the same offset in the rotated copies (`.1`, `-20261121`, `.2.gz`, ...), newest first,
//! and taken only where its digest matches. A line found nowhere says so; a wrong line is
//! never shown.

use crate::incident::{Evidence, Incident};
use crate::ingest::compressed::{self, Codec};
use crate::ingest::lines::{line_bytes, LineReader};
use crate::ingest::tail::rotated_copies;
use crate::record::{line_digest, MAX_EVIDENCE_BYTES};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Lines remembered between calls: an open slow-scan incident is updated with the same
/// evidence places at every probe, and a rotated copy may be compressed. Past this many the
/// memory is cleared (a cache, not state).
const REMEMBERED_LINES: usize = 4096;

/// Reads evidence lines back, remembering the ones it found.
#[derive(Debug, Default)]
pub struct EvidenceReader {
    found: HashMap<(u32, u64, u32), Box<str>>,
}

impl EvidenceReader {
    /// Fills the text of every evidence line that has none; `sources` are the paths of the
    /// sources by index. A line that can no longer be read says why.
    pub fn resolve(&mut self, incidents: &mut [Incident], sources: &[PathBuf]) {
        for ev in incidents.iter_mut().flat_map(|i| i.evidence.iter_mut()) {
            if ev.raw.is_empty() {
                ev.raw = self.line_for(ev, sources);
            }
        }
    }

    fn line_for(&mut self, ev: &Evidence, sources: &[PathBuf]) -> Box<str> {
        let Some(path) = sources.get(ev.source as usize) else {
            return Box::from("[line not available: source cannot be read back]");
        };
        let key = (ev.source, ev.offset, ev.digest.unwrap_or(0));
        if let Some(text) = self.found.get(&key) {
            return text.clone();
        }
        let text = match find_line(path, ev.offset, ev.digest) {
            Ok(Some(text)) => text,
            Ok(None) => return Box::from("[line not available: rotated away]"),
            Err(e) => return format!("[line not available: {e}]").into(),
        };
        if self.found.len() >= REMEMBERED_LINES {
            self.found.clear();
        }
        self.found.insert(key, text.clone());
        text
    }
}

/// Fills unresolved evidence with a reader that remembers nothing afterwards.
pub fn resolve_evidence(incidents: &mut [Incident], sources: &[PathBuf]) {
    EvidenceReader::default().resolve(incidents, sources);
}

/// The line at `offset` of `path`, or of its rotated copies when `digest` says the line
/// there is another one. Without a digest only `path` is read. `Err` when `path` itself
/// cannot be read and no copy holds the line.
fn find_line(path: &Path, offset: u64, digest: Option<u32>) -> std::io::Result<Option<Box<str>>> {
    let first = read_line_at(path, offset);
    let Some(want) = digest else {
        return first.map(|line| line.map(|l| line_text(&l)));
    };
    if let Ok(Some(line)) = &first {
        if line_digest(line) == want {
            return Ok(Some(line_text(line)));
        }
    }
    for copy in rotated_copies(path) {
        if let Ok(Some(line)) = read_line_at(&copy, offset) {
            if line_digest(&line) == want {
                return Ok(Some(line_text(&line)));
            }
        }
    }
    first.map(|_| None)
}

/// The bytes of the line starting at `offset` (plain or compressed file, decompressed offsets),
/// without its terminator, at most [`MAX_EVIDENCE_BYTES`]; `None` past the end.
fn read_line_at(path: &Path, offset: u64) -> std::io::Result<Option<Vec<u8>>> {
    if Codec::of_file(path).is_some() {
        return read_compressed_line_at(path, offset);
    }
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(256);
    f.by_ref()
        .take(MAX_EVIDENCE_BYTES as u64 + 1)
        .read_to_end(&mut buf)?;
    if buf.is_empty() {
        return Ok(None);
    }
    let end = memchr::memchr(b'\n', &buf).unwrap_or(buf.len());
    buf.truncate(end);
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(buf))
}

/// [`read_line_at`] for a compressed file: decompressed up to the line (it cannot
/// seek).
fn read_compressed_line_at(path: &Path, offset: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut reader = LineReader::new(compressed::open_text(path)?, 0);
    while let Some(block) = reader.next_block()? {
        for (i, &(at, _, _)) in block.lines.iter().enumerate() {
            if at == offset {
                let line = line_bytes(&block, i);
                return Ok(Some(line[..line.len().min(MAX_EVIDENCE_BYTES)].to_vec()));
            }
            if at > offset {
                return Ok(None);
            }
        }
    }
    Ok(None)
}

/// A line's bytes as evidence text (lossy UTF-8).
fn line_text(line: &[u8]) -> Box<str> {
    String::from_utf8_lossy(&line[..line.len().min(MAX_EVIDENCE_BYTES)]).into()
}

#[cfg(test)]
mod tests;
