//! One followed file generation: an open file, how far it has been read, and the splitting
//! of what is read into complete lines.

use crate::ingest::fingerprint::{
    dev_ino, fingerprint, fingerprint_len, read_at_full, read_head, FileKey, FP_LEN,
};
use crate::ingest::gz;
use crate::ingest::lines::{LineBlock, BLOCK_SIZE};
use portcullis_parsers::MAX_LINE_LEN;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a generation stands relative to its followed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// It is the file at a followed path.
    Live,
    /// Renamed away or deleted, or a rotated file we never saw live: read to its end, then
    /// closed once it is deleted or its successor at the path has data (the writer moved on).
    Rotated,
    /// The copy `copytruncate` made of a generation we were reading: nobody writes to it;
    /// closed at its end.
    Copy,
}

/// One open file and how far it has been read.
pub(super) struct Gen {
    /// The followed path it is or was at (rotated generations keep it).
    pub path: PathBuf,
    pub file: File,
    pub id: (u64, u64),
    pub state: State,
    /// Everything before this offset was returned; it is at a line boundary.
    pub offset: u64,
    /// Bytes read after `offset` without a newline yet.
    carry: Vec<u8>,
    /// Inside an over-long line starting at `offset`: bytes up to here were read and dropped.
    skip_to: Option<u64>,
    /// The first `min(FP_LEN, read_pos)` bytes of the file, as read.
    head: Vec<u8>,
    /// For `Rotated`: the path had another file with data when last looked at.
    pub successor_seen: bool,
    /// A gzip-compressed generation (a rotated `.gz`): read as a stream, positioned at
    /// `read_pos()` in decompressed bytes; offsets count decompressed bytes.
    gz: Option<Box<dyn io::Read + Send>>,
    pub lines: u64,
    pub bytes: u64,
    pub too_long: u64,
}

impl Gen {
    /// Follows `file` from `offset`, a line boundary, whose head bytes are `head`.
    pub fn new(path: PathBuf, file: File, offset: u64, state: State) -> io::Result<Gen> {
        let id = dev_ino(&file.metadata()?);
        let head = read_head(&file, fingerprint_len(offset))?;
        Ok(Gen {
            path,
            file,
            id,
            state,
            offset,
            carry: Vec::new(),
            skip_to: None,
            head,
            successor_seen: false,
            gz: None,
            lines: 0,
            bytes: 0,
            too_long: 0,
        })
    }

    /// Follows gzip file `file` from decompressed `offset` (a line boundary) as a
    /// [`State::Copy`]: nobody writes to a compressed file, so it closes at its end. The
    /// bytes before `offset` are decompressed and dropped (the stream cannot seek); a file
    /// shorter than `offset` is `InvalidData`.
    pub fn from_gz(path: PathBuf, file: File, offset: u64) -> io::Result<Gen> {
        let id = dev_ino(&file.metadata()?);
        let mut dec = gz::decoder(file.try_clone()?);
        let mut head = vec![0; fingerprint_len(offset)];
        let mut got = gz::read_full(&mut dec, &mut head)? as u64;
        got += io::copy(&mut io::Read::take(&mut dec, offset - got), &mut io::sink())?;
        if got < offset {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "compressed generation shorter than the position",
            ));
        }
        let mut g = Gen::new(path, file, 0, State::Copy)?;
        g.id = id;
        g.offset = offset;
        g.head = head;
        g.gz = Some(Box::new(dec));
        Ok(g)
    }

    /// Follows `file` from after its last complete line (`tail -F`): a line being written
    /// is read whole once finished. If the unfinished tail is already over-long, reading
    /// starts at the end, skipping to the next newline.
    pub fn at_end(path: PathBuf, file: File) -> io::Result<Gen> {
        let len = file.metadata()?.len();
        let window = len.min(MAX_LINE_LEN as u64 + 1);
        let mut buf = vec![0; window as usize];
        let n = read_at_full(&file, &mut buf, len - window)?;
        buf.truncate(n);
        let (offset, skip) = match memchr::memrchr(b'\n', &buf) {
            Some(i) => (len - window + i as u64 + 1, None),
            None if window == len => (0, None),
            None => (len, Some(len)),
        };
        let mut g = Gen::new(path, file, offset, State::Live)?;
        if let Some(s) = skip {
            g.skip_to = Some(s);
        }
        Ok(g)
    }

    /// The next byte to read.
    pub fn read_pos(&self) -> u64 {
        self.skip_to
            .unwrap_or(self.offset + self.carry.len() as u64)
    }

    /// The identity to checkpoint: fingerprint over the bytes before `offset`.
    pub fn key(&self) -> FileKey {
        FileKey {
            dev: self.id.0,
            inode: self.id.1,
            fingerprint: fingerprint(self.committed_head()),
        }
    }

    /// The head bytes the checkpointed fingerprint covers.
    pub fn committed_head(&self) -> &[u8] {
        &self.head[..fingerprint_len(self.offset)]
    }

    /// The head bytes read so far (up to `FP_LEN`), returned as lines or not: a copy of
    /// this file must start with them.
    pub fn head_read(&self) -> &[u8] {
        &self.head
    }

    /// The first bytes of its text now (up to `FP_LEN`): for a gzip generation what was read
    /// of it (its stream cannot be re-read cheaply), else its file's head.
    pub fn text_head(&self) -> io::Result<Vec<u8>> {
        match self.gz {
            Some(_) => Ok(self.head.clone()),
            None => read_head(&self.file, FP_LEN),
        }
    }

    /// Links to the file left (0 once it is deleted).
    pub fn nlink(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.nlink())
    }

    /// Whether the file no longer holds what was read from it: it shrank below the read
    /// position, or its head differs (truncated and written past the old position again).
    pub fn truncated(&self) -> io::Result<bool> {
        if self.file.metadata()?.len() < self.read_pos() {
            return Ok(true);
        }
        Ok(!self.head.is_empty() && read_head(&self.file, self.head.len())? != self.head)
    }

    /// Starts over at byte 0: the file now holds a new generation.
    pub fn restart_at_zero(&mut self) {
        self.offset = 0;
        self.carry.clear();
        self.skip_to = None;
        self.head.clear();
    }

    /// Reads complete lines, at most `*budget` bytes, into `out` as blocks of at most
    /// `BLOCK_SIZE` bytes. Returns whether the end of the file (as it was when reading
    /// began) was reached.
    pub fn read(&mut self, budget: &mut usize, out: &mut Vec<LineBlock>) -> io::Result<bool> {
        // A compressed stream has no length up front: it is read until it ends.
        let len = match self.gz {
            Some(_) => u64::MAX,
            None => self.file.metadata()?.len(),
        };
        loop {
            let pos = self.read_pos();
            if pos >= len {
                return Ok(true);
            }
            if *budget == 0 {
                return Ok(false);
            }
            let want = (*budget).min(BLOCK_SIZE).min((len - pos) as usize);
            let mut buf = std::mem::take(&mut self.carry);
            let old = buf.len();
            buf.resize(old + want, 0);
            let read = match self.gz.as_mut() {
                Some(dec) => gz::read_full(dec, &mut buf[old..]),
                None => read_at_full(&self.file, &mut buf[old..], pos),
            };
            let n = match read {
                Ok(n) => n,
                Err(e) => {
                    self.carry = buf[..old].to_vec();
                    // A corrupt compressed stream stays corrupt: reported once (counted
                    // in `errors`), then it reads as ended so the generation closes.
                    if self.gz.is_some() {
                        self.gz = Some(Box::new(io::empty()));
                    }
                    return Err(e);
                }
            };
            buf.truncate(old + n);
            if n == 0 {
                self.carry = buf;
                return Ok(true);
            }
            *budget -= n;
            self.bytes += n as u64;
            if pos < FP_LEN as u64 {
                let take = n.min(FP_LEN - pos as usize);
                self.head.extend_from_slice(&buf[old..old + take]);
            }
            let block = self.split(buf);
            if !block.lines.is_empty() || !block.too_long.is_empty() {
                out.push(block);
            }
        }
    }

    /// Splits `buf` (the carried bytes then fresh ones, or only fresh ones while skipping)
    /// into complete lines; keeps the unfinished rest.
    fn split(&mut self, mut buf: Vec<u8>) -> LineBlock {
        let mut block = LineBlock {
            chunk: Arc::from(&[][..]),
            lines: Vec::new(),
            too_long: Vec::new(),
        };
        let mut start = 0;
        let base = match self.skip_to {
            Some(skip) => match memchr::memchr(b'\n', &buf) {
                None => {
                    self.skip_to = Some(skip + buf.len() as u64);
                    return block;
                }
                Some(nl) => {
                    block.too_long.push(self.offset);
                    self.skip_to = None;
                    start = nl + 1;
                    skip
                }
            },
            None => self.offset,
        };
        let from = start;
        for nl in memchr::memchr_iter(b'\n', &buf[from..]) {
            push_line(&mut block, base, start, from + nl);
            start = from + nl + 1;
        }
        self.offset = base + start as u64;
        if buf.len() - start > MAX_LINE_LEN {
            self.skip_to = Some(base + buf.len() as u64);
        } else {
            self.carry = buf[start..].to_vec();
        }
        buf.truncate(start);
        block.chunk = Arc::from(buf);
        self.lines += block.lines.len() as u64;
        self.too_long += block.too_long.len() as u64;
        block
    }

    /// This generation is finished: its unterminated last line, if any, will never get its
    /// newline, so it is returned as it is (as replay returns a file's last line).
    pub fn finish(&mut self) -> Option<LineBlock> {
        let mut block = LineBlock {
            chunk: Arc::from(&[][..]),
            lines: Vec::new(),
            too_long: Vec::new(),
        };
        if let Some(skip) = self.skip_to.take() {
            block.too_long.push(self.offset);
            self.offset = skip;
        } else if !self.carry.is_empty() {
            let carry = std::mem::take(&mut self.carry);
            push_line(&mut block, self.offset, 0, carry.len());
            self.offset += carry.len() as u64;
            block.chunk = Arc::from(carry);
        } else {
            return None;
        }
        self.lines += block.lines.len() as u64;
        self.too_long += block.too_long.len() as u64;
        Some(block)
    }
}

fn push_line(block: &mut LineBlock, base: u64, start: usize, end: usize) {
    if end - start > MAX_LINE_LEN {
        block.too_long.push(base + start as u64);
    } else {
        block.lines.push((base + start as u64, start, end));
    }
}
