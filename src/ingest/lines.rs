//! Splitting a byte stream into lines, in large blocks, with bounded memory per line.

use super::compressed::read_full;
use portcullis_parsers::MAX_LINE_LEN;
use std::io::{self, Read};
use std::sync::Arc;

/// Bytes read per block. Large blocks keep syscalls and channel hand-offs rare; 1 MiB holds
/// thousands of log lines.
pub const BLOCK_SIZE: usize = 1 << 20;

/// A block of complete lines sharing one buffer.
#[derive(Debug)]
pub struct LineBlock {
    /// The bytes the lines point into.
    pub chunk: Arc<[u8]>,
    /// Each line: (byte offset in the source, start, end) with `chunk[start..end]` the line
    /// without its `\n` or `\r\n`.
    pub lines: Vec<(u64, usize, usize)>,
    /// Source offsets of lines longer than `MAX_LINE_LEN`, which were skipped unread.
    pub too_long: Vec<u64>,
}

/// Reads lines from `R` block by block. A last line without a newline is returned at end of
/// input (a file replayed whole); the tailer (`tail.rs`) splits its own blocks and waits for it.
pub struct LineReader<R> {
    inner: R,
    /// Bytes of the unfinished line carried into the next block.
    carry: Vec<u8>,
    /// Source offset of `carry[0]`.
    carry_offset: u64,
    /// Inside an over-long line: discarding bytes until its newline.
    skipping: bool,
    eof: bool,
}

impl<R: Read> LineReader<R> {
    /// Reads from `inner`, whose first byte is at source offset `start`.
    pub fn new(inner: R, start: u64) -> LineReader<R> {
        LineReader {
            inner,
            carry: Vec::new(),
            carry_offset: start,
            skipping: false,
            eof: false,
        }
    }

    /// The next block of lines, or `None` at end of input.
    pub fn next_block(&mut self) -> io::Result<Option<LineBlock>> {
        loop {
            if self.eof {
                return Ok(None);
            }
            let mut buf = std::mem::take(&mut self.carry);
            let base = self.carry_offset;
            let old_len = buf.len();
            buf.resize(old_len + BLOCK_SIZE, 0);
            let n = read_full(&mut self.inner, &mut buf[old_len..])?;
            buf.truncate(old_len + n);
            if n == 0 {
                self.eof = true;
            }
            let mut block = LineBlock {
                chunk: Arc::from(&[][..]),
                lines: Vec::new(),
                too_long: Vec::new(),
            };
            let mut start = 0;
            if self.skipping {
                match memchr::memchr(b'\n', &buf) {
                    Some(nl) => {
                        self.skipping = false;
                        start = nl + 1;
                    }
                    None => {
                        self.carry_offset = base + buf.len() as u64;
                        continue;
                    }
                }
            }
            let from = start;
            for nl in memchr::memchr_iter(b'\n', &buf[from..]) {
                push_line(&mut block, base, start, from + nl);
                start = from + nl + 1;
            }
            let rest = buf.len() - start;
            if self.eof && rest > 0 {
                push_line(&mut block, base, start, buf.len());
                start = buf.len();
            } else if rest > MAX_LINE_LEN {
                block.too_long.push(base + start as u64);
                self.skipping = true;
                start = buf.len();
            }
            self.carry = buf[start..].to_vec();
            self.carry_offset = base + start as u64;
            buf.truncate(start);
            block.chunk = Arc::from(buf);
            if !block.lines.is_empty() || !block.too_long.is_empty() || self.eof {
                return Ok(Some(block));
            }
        }
    }
}

fn push_line(block: &mut LineBlock, base: u64, start: usize, end: usize) {
    if end - start > MAX_LINE_LEN {
        block.too_long.push(base + start as u64);
    } else {
        block.lines.push((base + start as u64, start, end));
    }
}

/// The bytes of line `i` of a block, without a trailing `\r`.
pub fn line_bytes(block: &LineBlock, i: usize) -> &[u8] {
    let (_, s, e) = block.lines[i];
    let l = &block.chunk[s..e];
    l.strip_suffix(b"\r").unwrap_or(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(input: &[u8]) -> (Vec<(u64, Vec<u8>)>, Vec<u64>) {
        let mut r = LineReader::new(input, 0);
        let (mut lines, mut long) = (Vec::new(), Vec::new());
        while let Some(b) = r.next_block().unwrap() {
            for i in 0..b.lines.len() {
                lines.push((b.lines[i].0, line_bytes(&b, i).to_vec()));
            }
            long.extend(b.too_long);
        }
        (lines, long)
    }

    #[test]
    fn splits_lines_with_offsets_crlf_and_unterminated_tail() {
        let (lines, long) = all_lines(b"a\r\nbb\n\nccc");
        assert_eq!(
            lines,
            vec![
                (0, b"a".to_vec()),
                (3, b"bb".to_vec()),
                (6, b"".to_vec()),
                (7, b"ccc".to_vec())
            ]
        );
        assert!(long.is_empty());
    }

    #[test]
    fn overlong_lines_are_reported_and_skipped_across_blocks() {
        let mut input = b"first\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', BLOCK_SIZE * 2 + 17));
        input.extend(b"\nlast\n");
        let (lines, long) = all_lines(&input);
        assert_eq!(long, vec![6]);
        let tail_offset = (6 + BLOCK_SIZE * 2 + 17 + 1) as u64;
        assert_eq!(
            lines,
            vec![(0, b"first".to_vec()), (tail_offset, b"last".to_vec())]
        );
    }

    #[test]
    fn a_100_kb_line_between_good_lines() {
        let mut input = b"good1\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', 100 * 1024));
        input.extend(b"\ngood2\n");
        let (lines, long) = all_lines(&input);
        assert_eq!(long, vec![6]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].1, b"good2");
    }
}
