//! Reading evidence lines back from their source by byte offset, for detectors that keep
//! evidence by place only (long windows, random walks).

use crate::incident::Incident;
use crate::ingest::gz;
use crate::ingest::lines::{line_bytes, LineReader};
use crate::record::MAX_EVIDENCE_BYTES;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Fills the text of every evidence line that has none, from the source file at its offset.
/// A line that can no longer be read (file rotated away, a network source) says so.
pub fn resolve_evidence(incidents: &mut [Incident], sources: &[PathBuf]) {
    let mut files: HashMap<u32, Option<File>> = HashMap::new();
    let mut gz: HashMap<u32, Vec<&mut Box<str>>> = HashMap::new();
    let mut gz_offsets: HashMap<u32, Vec<u64>> = HashMap::new();
    for ev in incidents.iter_mut().flat_map(|i| i.evidence.iter_mut()) {
        if !ev.raw.is_empty() {
            continue;
        }
        // A compressed source cannot seek: its lines are read in one pass below.
        if sources
            .get(ev.source as usize)
            .is_some_and(|p| gz::file_is_gzip(p))
        {
            gz_offsets.entry(ev.source).or_default().push(ev.offset);
            gz.entry(ev.source).or_default().push(&mut ev.raw);
            continue;
        }
        let file = files.entry(ev.source).or_insert_with(|| {
            sources
                .get(ev.source as usize)
                .and_then(|p| File::open(p).ok())
        });
        ev.raw = match file.as_mut().map(|f| read_line_at(f, ev.offset)) {
            Some(Ok(text)) => text,
            Some(Err(e)) => format!("[line not available: {e}]").into(),
            None => Box::from("[line not available: source cannot be read back]"),
        };
    }
    for (source, raws) in gz {
        let offsets = &gz_offsets[&source];
        let lines = read_gz_lines(&sources[source as usize], offsets);
        for (raw, &offset) in raws.into_iter().zip(offsets) {
            *raw = match &lines {
                Ok(found) => found.get(&offset).cloned().unwrap_or_else(|| {
                    Box::from("[line not available: past the end of the compressed file]")
                }),
                Err(e) => format!("[line not available: {e}]").into(),
            };
        }
    }
}

/// The lines at `offsets` (decompressed bytes) of gzip file `path`, in one pass.
fn read_gz_lines(
    path: &std::path::Path,
    offsets: &[u64],
) -> std::io::Result<HashMap<u64, Box<str>>> {
    let wanted: std::collections::HashSet<u64> = offsets.iter().copied().collect();
    let last = offsets.iter().copied().max().unwrap_or(0);
    let mut reader = LineReader::new(gz::decoder(File::open(path)?), 0);
    let mut out = HashMap::new();
    while let Some(block) = reader.next_block()? {
        for (i, &(offset, _, _)) in block.lines.iter().enumerate() {
            if wanted.contains(&offset) {
                let line = line_bytes(&block, i);
                let line = &line[..line.len().min(MAX_EVIDENCE_BYTES)];
                out.insert(offset, line_text(line));
            }
        }
        if block.lines.last().is_some_and(|l| l.0 >= last) {
            break;
        }
    }
    Ok(out)
}

/// The first line of `buf`, without its line ending, as lossy UTF-8.
fn line_text(buf: &[u8]) -> Box<str> {
    let end = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
    let line = buf[..end].strip_suffix(b"\r").unwrap_or(&buf[..end]);
    String::from_utf8_lossy(line).into()
}

fn read_line_at(f: &mut File, offset: u64) -> std::io::Result<Box<str>> {
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(256);
    f.by_ref()
        .take(MAX_EVIDENCE_BYTES as u64)
        .read_to_end(&mut buf)?;
    let end = memchr::memchr(b'\n', &buf).unwrap_or(buf.len());
    let line = buf[..end].strip_suffix(b"\r").unwrap_or(&buf[..end]);
    Ok(String::from_utf8_lossy(line).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::Evidence;
    use crate::rules::Severity;
    use chrono::Utc;

    #[test]
    fn unresolved_evidence_is_read_back_by_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, "first\r\nsecond line\nthird").unwrap();
        let mut inc = Incident {
            id: "x".into(),
            rule: "r".into(),
            severity: Severity::Low,
            title: String::new(),
            group: vec![],
            first_seen: Utc::now(),
            last_seen: Utc::now(),
            count: 1,
            distinct: None,
            evidence: vec![
                Evidence::unresolved(Utc::now(), 0, 7),
                Evidence::unresolved(Utc::now(), 0, 0),
                Evidence::unresolved(Utc::now(), 1, 0),
            ],
            open: true,
        };
        resolve_evidence(std::slice::from_mut(&mut inc), &[path]);
        assert_eq!(&*inc.evidence[0].raw, "second line");
        assert_eq!(&*inc.evidence[1].raw, "first");
        assert!(inc.evidence[2].raw.starts_with("[line not available"));
    }
}
