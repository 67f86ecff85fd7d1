//! Parsing tailed blocks: one `LineParser` per file (formats may keep state between lines),
//! the format from the config or detected from the file's first lines.

use crate::ingest::lines::line_bytes;
use crate::ingest::source::SourceSpec;
use crate::ingest::tail::TailBlock;
use crate::record::{RawLine, Record};
use chrono::{DateTime, Utc};
use portcullis_parsers::{detect_format, LineParser, ParseContext};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Rejected lines per file whose reason is logged; later ones are only counted.
const LOGGED_REJECTS: u64 = 5;

/// How old a parser's reference time ("now", which dates year-less timestamps) may get
/// before it is moved to the current time (keeping the parser's memory between lines).
const RENEW_AFTER: Duration = Duration::from_secs(3600);

/// Line counters of one block (or one file, summed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// Lines read (re-read lines of a restart are not counted again).
    pub lines: u64,
    /// Lines that became events.
    pub events: u64,
    /// Well-formed lines without an event.
    pub skipped: u64,
    /// Lines that did not parse (or whose format is not known yet).
    pub rejected: u64,
}

impl LineCounts {
    /// Adds `o` to these counts.
    pub fn add(&mut self, o: &LineCounts) {
        self.lines += o.lines;
        self.events += o.events;
        self.skipped += o.skipped;
        self.rejected += o.rejected;
    }
}

/// The parsed records of one block of one file.
#[derive(Debug)]
pub struct FileRecords {
    /// Index of the source pattern.
    pub pattern: usize,
    /// Index of the followed path (the records' `origin.source`).
    pub source: u32,
    /// The followed path.
    pub path: PathBuf,
    /// Device and inode of the file read.
    pub dev: u64,
    /// Inode of the file read.
    pub inode: u64,
    /// Fingerprint of the file after this block.
    pub fingerprint: u64,
    /// End of the block's last line.
    pub end: u64,
    /// Offset of the first record kept and the latest event time of those kept.
    pub sample: Option<(u64, DateTime<Utc>)>,
    /// The records kept.
    pub records: Vec<Record>,
    /// Where the oldest record the file's parser still holds open began, after this block
    /// ([`LineParser::pending_since`]): a restart parses again from there.
    pub pending_since: Option<u64>,
    /// Line counters.
    pub counts: LineCounts,
}

/// One file's parser.
struct FileParser {
    parser: Option<LineParser>,
    made: Instant,
    rejects: u64,
}

/// The parsers of every followed file.
#[derive(Default)]
pub struct Parsers {
    files: HashMap<(usize, u64, u64), FileParser>,
}

/// The region of a file the previous run read. Lines before `skip` are in the snapshot:
/// they are parsed again only for what the parser remembers between lines, their events are
/// dropped. Lines from `skip` to `until` go to the engine again (restored from a snapshot
/// taken before them) but are not counted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reread {
    /// The snapshot's offset in the file.
    pub skip: u64,
    /// End of the re-read region.
    pub until: u64,
}

impl Parsers {
    /// Parses one block of a file of pattern `pattern` (read as `spec` says) whose records
    /// are numbered as source `source`.
    pub fn parse(
        &mut self,
        pattern: usize,
        spec: &SourceSpec,
        source: u32,
        tb: &TailBlock,
        reread: Option<Reread>,
    ) -> FileRecords {
        let key = (pattern, tb.file.dev, tb.file.inode);
        let block = &tb.block;
        let fp = self.files.entry(key).or_insert_with(|| FileParser {
            parser: None,
            made: Instant::now(),
            rejects: 0,
        });
        if fp.made.elapsed() > RENEW_AFTER {
            if let Some(p) = fp.parser.as_mut() {
                p.set_now(chrono::Utc::now());
                fp.made = Instant::now();
            }
        }
        if fp.parser.is_none() {
            let ctx = context(spec);
            let format = spec.format.or_else(|| detect_format(&block.chunk, &ctx));
            if let Some(format) = format {
                if fp.parser.is_none() {
                    tracing::info!(file = ?tb.path, %format, "reading");
                }
                fp.parser = Some(LineParser::new(format, ctx));
                fp.made = Instant::now();
            }
        }
        let mut out = FileRecords {
            pattern,
            source,
            path: tb.path.clone(),
            dev: tb.file.dev,
            inode: tb.file.inode,
            fingerprint: tb.file.fingerprint,
            end: block_end(tb),
            sample: None,
            records: Vec::with_capacity(block.lines.len()),
            pending_since: None,
            counts: LineCounts::default(),
        };
        let counted = |offset: u64| reread.is_none_or(|r| offset >= r.until);
        let reject = |fp: &mut FileParser, out: &mut FileRecords, offset: u64, why: &str| {
            if counted(offset) {
                out.counts.rejected += 1;
                fp.rejects += 1;
                if fp.rejects <= LOGGED_REJECTS {
                    tracing::warn!(file = ?tb.path, offset, reason = why, "rejected");
                }
            }
        };
        for &offset in &block.too_long {
            let why = format!(
                "line longer than {} bytes",
                portcullis_parsers::MAX_LINE_LEN
            );
            out.counts.lines += u64::from(counted(offset));
            reject(fp, &mut out, offset, &why);
        }
        for (i, &(offset, start, _)) in block.lines.iter().enumerate() {
            let line = line_bytes(block, i);
            let count = counted(offset);
            if count {
                out.counts.lines += 1;
            }
            let Some(parser) = fp.parser.as_mut() else {
                reject(fp, &mut out, offset, "format not recognised");
                continue;
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                out.counts.skipped += u64::from(count);
                continue;
            }
            parser.note_position(offset);
            match parser.parse(line) {
                Ok(Some(_)) if reread.is_some_and(|r| offset < r.skip) => {}
                Ok(Some(mut event)) => {
                    out.counts.events += u64::from(count);
                    event.origin.source = source;
                    event.origin.offset = offset;
                    let ts = event.timestamp;
                    out.sample = Some(match out.sample {
                        None => (offset, ts),
                        Some((s, m)) => (s, m.max(ts)),
                    });
                    out.records.push(Record {
                        event,
                        raw: RawLine::new(block.chunk.clone(), start, start + line.len()),
                    });
                }
                Ok(None) => out.counts.skipped += u64::from(count),
                Err(e) => reject(fp, &mut out, offset, &e.to_string()),
            }
        }
        out.pending_since = fp.parser.as_mut().and_then(LineParser::pending_since);
        out
    }

    /// Forgets the parsers of files no longer followed.
    pub fn retain(&mut self, followed: impl Fn(&(usize, u64, u64)) -> bool) {
        self.files.retain(|k, _| followed(k));
    }
}

/// The parse context of a source now.
fn context(spec: &SourceSpec) -> ParseContext {
    let mut ctx = ParseContext::new(spec.timezone);
    ctx.host = spec.host;
    ctx
}

/// The source offset just past the block's bytes (its last line and terminator).
fn block_end(tb: &TailBlock) -> u64 {
    match tb.block.lines.first() {
        Some(&(offset, start, _)) => offset - start as u64 + tb.block.chunk.len() as u64,
        None => tb.block.too_long.last().copied().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::lines::LineBlock;
    use crate::ingest::tail::FileKey;
    use portcullis_parsers::Format;
    use std::sync::Arc;

    fn block(text: &str, base: u64) -> TailBlock {
        let chunk: Arc<[u8]> = Arc::from(text.as_bytes());
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                lines.push((base + start as u64, start, i));
                start = i + 1;
            }
        }
        TailBlock {
            path: PathBuf::from("/l/vsftpd.log"),
            file: FileKey {
                dev: 1,
                inode: 2,
                fingerprint: 3,
            },
            block: LineBlock {
                chunk,
                lines,
                too_long: vec![],
            },
        }
    }

    const L1: &str =
        "Mon Mar  2 08:00:31 2026 [pid 2983] [frank] FAIL LOGIN: Client \"198.51.100.226\"\n";
    const L2: &str =
        "Mon Mar  2 08:00:35 2026 [pid 3002] [bob] FAIL LOGIN: Client \"198.51.100.117\"\n";

    fn spec(format: Option<Format>) -> SourceSpec {
        SourceSpec {
            path: PathBuf::from("/l/vsftpd.log"),
            format,
            timezone: portcullis_parsers::SourceTz::Utc,
            host: None,
        }
    }

    #[test]
    fn detects_format_counts_and_numbers_records() {
        let mut p = Parsers::default();
        let text = format!("{L1}garbage line\n\n{L2}");
        let r = p.parse(0, &spec(None), 7, &block(&text, 1000), None);
        assert_eq!(
            r.counts,
            LineCounts {
                lines: 4,
                events: 2,
                skipped: 1,
                rejected: 1
            }
        );
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.records[0].event.origin.source, 7);
        assert_eq!(
            r.records[1].event.origin.offset,
            1000 + (L1.len() + 14) as u64
        );
        assert_eq!(r.end, 1000 + text.len() as u64);
        let (start, max) = r.sample.unwrap();
        assert_eq!((start, max), (1000, r.records[1].event.timestamp));
    }

    #[test]
    fn reread_region_is_correlated_but_not_counted_again() {
        let mut p = Parsers::default();
        let text = format!("{L1}{L2}{L1}");
        let reread = Reread {
            skip: 0,
            until: (L1.len() + L2.len()) as u64,
        };
        let r = p.parse(
            0,
            &spec(Some(Format::Vsftpd)),
            0,
            &block(&text, 0),
            Some(reread),
        );
        // Every line goes to the engine; only the last (past the region) is counted.
        assert_eq!(r.records.len(), 3);
        assert_eq!(r.counts.lines, 1);
        assert_eq!(r.counts.events, 1);
        assert_eq!(r.sample.unwrap().0, 0);
    }

    #[test]
    fn lines_before_the_snapshot_offset_rebuild_the_parser_and_give_no_events() {
        let head = "(000001) 21/12/2021 14:07:00 PM - (not logged in) (203.0.113.5)> ";
        let before = format!(
            "{head}Connected on port 21, sending welcome message...\n\
             {head}USER www\n{head}331 Password required for www\n"
        );
        let after = format!("{head}PASS www\n{head}530 Login or password incorrect!\n");
        let fz = spec(Some(Format::Filezilla));
        let cut = before.len() as u64;
        let reread = Reread {
            skip: cut,
            until: cut,
        };
        let text = format!("{before}{after}");
        let r = Parsers::default().parse(0, &fz, 0, &block(&text, 0), Some(reread));
        // The connection event is in the snapshot; the login is new and knows its user.
        assert_eq!(r.records.len(), 1);
        let e = &r.records[0].event;
        assert_eq!(e.action, portcullis_parsers::Action::FtpLogin);
        assert_eq!(e.user_name.as_deref(), Some("www"));
        assert_eq!(e.origin.offset, cut + (head.len() + 9) as u64);
        assert_eq!((r.counts.lines, r.counts.events), (2, 1));
        // Starting at the snapshot offset itself, the USER line is missing.
        let r = Parsers::default().parse(0, &fz, 0, &block(&after, cut), None);
        assert!(r.records.iter().all(|r| r.event.user_name.is_none()));
    }
}
