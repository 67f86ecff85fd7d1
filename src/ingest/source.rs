//! A file source: which file, how to parse it, and the thread that reads and parses it.

use super::lines::{line_bytes, LineReader};
use crate::record::{RawLine, Record};
use crossbeam_channel::Sender;
use portcullis_parsers::{detect_format, Format, LineParser, ParseContext, SourceTz};
use std::io::{self, Read};
use std::net::IpAddr;
use std::path::PathBuf;

/// How many rejected lines per source are kept as examples for the summary.
const ERROR_EXAMPLES: usize = 5;

/// Bytes read from the head of a file to detect its format.
const DETECT_BYTES: u64 = 64 * 1024;

/// A log file to read and how to read it.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    /// The file.
    pub path: PathBuf,
    /// Its format; detected from its first lines when `None`.
    pub format: Option<Format>,
    /// Zone of its timestamps that carry no offset.
    pub timezone: SourceTz,
    /// Address of the host that writes it (fills the server address of FTP events).
    pub host: Option<IpAddr>,
}

/// What reading one source found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Lines read (including rejected and skipped ones).
    pub lines: u64,
    /// Lines that became events.
    pub events: u64,
    /// Well-formed lines that carry no event (other programs' syslog lines, blank lines).
    pub skipped: u64,
    /// Lines that did not parse.
    pub rejected: u64,
    /// The first few rejections: byte offset and reason.
    pub examples: Vec<String>,
}

impl SourceStats {
    pub(crate) fn reject(&mut self, offset: u64, why: impl std::fmt::Display) {
        self.rejected += 1;
        if self.examples.len() < ERROR_EXAMPLES {
            self.examples.push(format!("byte {offset}: {why}"));
        }
    }
}

/// Errors opening or reading a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be opened or read.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        err: io::Error,
    },
    /// No format was given and none could be recognised.
    #[error("{path}: cannot tell the log format from its first lines; pass --format ({formats})")]
    UnknownFormat {
        /// The file.
        path: String,
        /// Known format names.
        formats: String,
    },
}

impl SourceSpec {
    /// The parse context for this source. Year-less timestamps are dated relative to the
    /// file's modification time: the newest line of a file cannot be newer than its last write,
    /// which dates old rotated files right where the wall clock would not.
    pub fn context(&self) -> ParseContext {
        let mut ctx = ParseContext::new(self.timezone);
        if let Ok(modified) = std::fs::metadata(&self.path).and_then(|m| m.modified()) {
            ctx.now = modified.into();
        }
        ctx.host = self.host;
        ctx
    }

    /// The format given, or detected from the head of the file.
    pub fn resolve_format(&self, ctx: &ParseContext) -> Result<Format, SourceError> {
        if let Some(f) = self.format {
            return Ok(f);
        }
        let io_err = |err| SourceError::Io {
            path: self.path.display().to_string(),
            err,
        };
        let mut head = Vec::new();
        super::compressed::open_text(&self.path)
            .map_err(io_err)?
            .take(DETECT_BYTES)
            .read_to_end(&mut head)
            .map_err(io_err)?;
        detect_format(&head, ctx).ok_or_else(|| SourceError::UnknownFormat {
            path: self.path.display().to_string(),
            formats: Format::ALL
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// Reads and parses a whole file, sending records in blocks. Returns when the file ends or
/// the receiver is gone.
pub fn read_source(
    index: u32,
    spec: &SourceSpec,
    format: Format,
    ctx: &ParseContext,
    tx: &Sender<Vec<Record>>,
) -> Result<SourceStats, SourceError> {
    let io_err = |err| SourceError::Io {
        path: spec.path.display().to_string(),
        err,
    };
    // A compressed file (a rotated `.gz`, `.xz`, `.zst`, `.bz2`) is read decompressed; offsets
    // count decompressed bytes.
    let file = super::compressed::open_text(&spec.path).map_err(io_err)?;
    let mut reader = LineReader::new(file, 0);
    let mut parser = LineParser::new(format, ctx.clone());
    let mut stats = SourceStats::default();
    while let Some(block) = reader.next_block().map_err(io_err)? {
        let mut records = Vec::with_capacity(block.lines.len());
        for &offset in &block.too_long {
            stats.lines += 1;
            stats.reject(
                offset,
                format_args!(
                    "{format}: line longer than {} bytes",
                    portcullis_parsers::MAX_LINE_LEN
                ),
            );
        }
        for (i, &(offset, start, _)) in block.lines.iter().enumerate() {
            stats.lines += 1;
            let line = line_bytes(&block, i);
            if line.iter().all(u8::is_ascii_whitespace) {
                stats.skipped += 1;
                continue;
            }
            match parser.parse(line) {
                Ok(Some(mut event)) => {
                    stats.events += 1;
                    event.origin.source = index;
                    event.origin.offset = offset;
                    records.push(Record {
                        event,
                        raw: RawLine::new(block.chunk.clone(), start, start + line.len()),
                    });
                }
                Ok(None) => stats.skipped += 1,
                Err(e) => stats.reject(offset, e),
            }
        }
        if !records.is_empty() && tx.send(records).is_err() {
            break;
        }
    }
    Ok(stats)
}
