//! One followed file generation: an open file, how far it has been read, and the splitting
//! of what is read into complete lines.

use super::backoff::Backoff;
use crate::ingest::compressed::{self, Codec};
use crate::ingest::fingerprint::{
    dev_ino, fingerprint, fingerprint_len, read_at_full, read_head, FileKey, FP_LEN,
};
use crate::ingest::lines::{LineBlock, BLOCK_SIZE};
use portcullis_parsers::MAX_LINE_LEN;
use std::fs::File;
use std::io::{self, Read, Seek};
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

/// The text of a compressed generation.
struct Packed {
    codec: Codec,
    /// Positioned at `read_pos()`. `None` after the stream failed (cut short: still being
    /// written, or truncated or corrupt): opened again and skipped to `read_pos()` once
    /// `retry` allows.
    stream: Option<Box<dyn Read + Send>>,
    retry: Backoff,
    /// Why it failed last.
    error: Option<String>,
    /// Its failing was reported (once per file).
    reported: bool,
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
    /// A compressed generation (a rotated `.gz`, `.xz`, `.zst`, `.bz2`): read as a stream;
    /// offsets count decompressed bytes.
    packed: Option<Packed>,
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
            packed: None,
            lines: 0,
            bytes: 0,
            too_long: 0,
        })
    }

    /// Follows compressed file `file` from decompressed `offset` (a line boundary) as a
    /// [`State::Copy`]: nobody writes to a compressed file, so it closes at its end. The
    /// bytes before `offset` are decompressed and dropped (the stream cannot seek). A file
    /// that is not compressed, or whose text ends before `offset` or before the head the
    /// fingerprint needs, is `InvalidData`; a stream cut short on the way (still being
    /// written) gives a generation that waits for it (see [`Gen::unreadable`]).
    pub fn from_compressed(
        path: PathBuf,
        file: File,
        offset: u64,
        retry_first: std::time::Duration,
    ) -> io::Result<Gen> {
        let codec = Codec::of(&read_head(&file, 8)?).ok_or(io::ErrorKind::InvalidData)?;
        let mut g = Gen::new(path, file, 0, State::Copy)?;
        g.offset = offset;
        g.packed = Some(Packed {
            codec,
            stream: None,
            retry: Backoff::default(),
            error: None,
            reported: false,
        });
        let mut dec = codec.decoder(g.file.try_clone()?)?;
        let mut head = vec![0; fingerprint_len(offset)];
        if compressed::read_full(&mut dec, &mut head)? < head.len() {
            return Err(io::ErrorKind::InvalidData.into());
        }
        g.head = head;
        let rest = offset - g.head.len() as u64;
        match io::copy(&mut dec.by_ref().take(rest), &mut io::sink()) {
            Ok(n) if n < rest => return Err(io::ErrorKind::InvalidData.into()),
            Ok(_) => g.packed.as_mut().expect("set above").stream = Some(dec),
            Err(e) => g.packed.as_mut().expect("set above").failed(e, retry_first),
        }
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

    /// The first bytes of its text now (up to `FP_LEN`): for a compressed generation what
    /// was read of it (its stream cannot be re-read cheaply), else its file's head.
    pub fn text_head(&self) -> io::Result<Vec<u8>> {
        match self.packed {
            Some(_) => Ok(self.head.clone()),
            None => read_head(&self.file, FP_LEN),
        }
    }

    /// For a compressed generation whose stream failed and waits to be tried again: the
    /// failures in a row and the last error.
    #[cfg(test)]
    pub fn unreadable(&self) -> Option<(u32, &str)> {
        let p = self.packed.as_ref()?;
        Some((p.retry.failures, p.error.as_deref()?))
    }

    /// The error of the first failure of its compressed stream, once per generation: to be
    /// counted and logged.
    pub fn first_failure(&mut self) -> Option<String> {
        let p = self.packed.as_mut()?;
        if p.reported || p.error.is_none() {
            return None;
        }
        p.reported = true;
        p.error.clone()
    }

    /// Opens the stream of a compressed generation again after a failure, skipped to
    /// `read_pos()`, if its wait is over. Returns whether the stream is there to read.
    fn reopen(&mut self, retry_first: std::time::Duration) -> bool {
        let pos = self.read_pos();
        let file = &self.file;
        let Some(p) = self.packed.as_mut() else {
            return true;
        };
        if p.stream.is_some() {
            return true;
        }
        if !p.retry.ready() {
            return false;
        }
        let opened = file.try_clone().and_then(|mut f| {
            f.rewind()?;
            let mut r = p.codec.decoder(f)?;
            let skipped = io::copy(&mut r.by_ref().take(pos), &mut io::sink())?;
            match skipped == pos {
                true => Ok(r),
                false => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "compressed text shorter than the position",
                )),
            }
        });
        match opened {
            Ok(r) => {
                p.stream = Some(r);
                true
            }
            Err(e) => {
                p.failed(e, retry_first);
                false
            }
        }
    }

    /// Whether it is a compressed generation, read as a stream.
    pub fn is_compressed(&self) -> bool {
        self.packed.is_some()
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
    /// began) was reached. A compressed stream that fails is not at its end: it waits (see
    /// [`Gen::unreadable`]) and is read on from where it failed once it decompresses.
    pub fn read(
        &mut self,
        budget: &mut usize,
        retry_first: std::time::Duration,
        out: &mut Vec<LineBlock>,
    ) -> io::Result<bool> {
        // A compressed stream has no length up front: it is read until it ends.
        let len = match self.packed.is_some() {
            true if !self.reopen(retry_first) => return Ok(false),
            true => u64::MAX,
            false => self.file.metadata()?.len(),
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
            let read = match self.packed.as_mut().and_then(|p| p.stream.as_mut()) {
                Some(stream) => compressed::read_full(stream, &mut buf[old..]),
                None => read_at_full(&self.file, &mut buf[old..], pos),
            };
            let n = match read {
                Ok(n) => n,
                Err(e) => {
                    // What the stream gave before failing is lost with it: read again
                    // from `pos` next time.
                    self.carry = buf[..old].to_vec();
                    return match self.packed.as_mut() {
                        Some(p) => {
                            p.failed(e, retry_first);
                            Ok(false)
                        }
                        None => Err(e),
                    };
                }
            };
            if let Some(p) = self.packed.as_mut() {
                p.retry = Backoff::default();
                p.error = None;
            }
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

impl Packed {
    /// The stream failed with `e`: dropped, tried again after the backoff.
    fn failed(&mut self, e: io::Error, retry_first: std::time::Duration) {
        self.stream = None;
        self.retry.failed(retry_first);
        self.error = Some(e.to_string());
    }
}

fn push_line(block: &mut LineBlock, base: u64, start: usize, end: usize) {
    if end - start > MAX_LINE_LEN {
        block.too_long.push(base + start as u64);
    } else {
        block.lines.push((base + start as u64, start, end));
    }
}
