//! Syslog listener: UDP (one datagram, one message) and TCP (RFC 6587 octet counting
//! `LEN SP MSG` or LF framing, told apart per connection by its first byte).
//!
//! The line format of a message is chosen by its program tag (see [`format_for`]); one
//! `LineParser` per format per listener, shared by its connections.

use super::netflow::{bind_udp, is_timeout};
use super::{Emitter, ListenerSpec, READ_TIMEOUT};
use crate::record::{RawLine, Record};
use portcullis_parsers::syslog::program_of;
use portcullis_parsers::{detect_format, Format, LineParser, ParseContext, SourceTz};
use std::collections::HashMap;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest message accepted: RFC 5425 asks receivers for at least 2 KiB and most relays
/// send at most 8 KiB; 64 KiB is every sane message and bounds a connection's buffer.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// TCP connections open at once per listener; more are refused (closed at once, counted),
/// so a flood of connections costs bounded threads and memory.
pub const MAX_CONNECTIONS: usize = 256;
/// A TCP connection silent for this long is closed (relays reconnect on their own).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Socket receive buffer of the UDP listener: bursts of a busy relay.
const UDP_BUFFER: usize = 8 << 20;
/// How old a parser's reference time (which dates year-less stamps) may get before it is
/// moved to the current time (the parser keeps its memory between lines).
const RENEW_AFTER: Duration = Duration::from_secs(3600);

/// The format of a syslog message by its program tag, or by its content for ASA/PIX.
/// `None`: not known from the header alone (the caller tries detection).
pub fn format_for(message: &[u8]) -> Option<Format> {
    if memchr::memmem::find(message, b"%ASA-").is_some()
        || memchr::memmem::find(message, b"%PIX-").is_some()
    {
        return Some(Format::Asa);
    }
    match program_of(message)? {
        "vsftpd" => Some(Format::Vsftpd),
        "proftpd" => Some(Format::Proftpd),
        "pure-ftpd" => Some(Format::PureFtpd),
        "kernel" => Some(Format::Iptables),
        "filterlog" => Some(Format::Filterlog),
        "pf" => Some(Format::Pf),
        _ => None,
    }
}

/// The parsers of one listener and its message counter.
pub struct SyslogParsers {
    timezone: SourceTz,
    source: u32,
    parsers: HashMap<Format, (LineParser, Instant)>,
    messages: u64,
}

impl SyslogParsers {
    /// Parsers for a listener numbering its records as source `source`.
    pub fn new(timezone: SourceTz, source: u32) -> SyslogParsers {
        SyslogParsers {
            timezone,
            source,
            parsers: HashMap::new(),
            messages: 0,
        }
    }

    /// Parses one message (trailing LF, CR and NUL removed), counting it; an event is
    /// pushed to `out`.
    pub fn message(&mut self, msg: &[u8], emit: &Emitter, out: &mut Vec<Record>) {
        let c = &emit.counters;
        c.received.fetch_add(1, Ordering::Relaxed);
        self.messages += 1;
        let end = msg
            .iter()
            .rposition(|b| !matches!(b, b'\n' | b'\r' | 0))
            .map_or(0, |p| p + 1);
        let msg = &msg[..end];
        let ctx = ParseContext::new(self.timezone);
        let Some(format) = format_for(msg).or_else(|| detect_format(msg, &ctx)) else {
            c.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let (parser, made) = self
            .parsers
            .entry(format)
            .or_insert_with(|| (LineParser::new(format, ctx.clone()), Instant::now()));
        if made.elapsed() > RENEW_AFTER {
            parser.set_now(ctx.now);
            *made = Instant::now();
        }
        match parser.parse(msg) {
            Ok(Some(mut event)) => {
                event.origin.source = self.source;
                event.origin.offset = self.messages;
                out.push(Record {
                    event,
                    raw: RawLine::from_text(&String::from_utf8_lossy(msg)),
                });
            }
            Ok(None) => {
                c.skipped.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                c.rejected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Binds the UDP listener and starts its thread.
pub fn spawn_udp(
    spec: &ListenerSpec,
    source: u32,
    emit: Emitter,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let socket = bind_udp(spec.bind, UDP_BUFFER)?;
    tracing::info!(listener = spec.name(), "listening");
    let mut parsers = SyslogParsers::new(spec.timezone, source);
    std::thread::Builder::new()
        .name("syslog-udp".into())
        .spawn(move || {
            let mut buf = vec![0u8; 65_535];
            while !stop.load(Ordering::Relaxed) {
                match socket.recv_from(&mut buf) {
                    Ok((n, _)) => {
                        let mut out = Vec::new();
                        parsers.message(&buf[..n], &emit, &mut out);
                        emit.emit(out);
                    }
                    Err(e) if is_timeout(&e) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "syslog receive failed");
                        std::thread::sleep(READ_TIMEOUT);
                    }
                }
            }
            super::netflow::note_kernel_drops(&socket, &emit);
        })
}

/// Binds the TCP listener and starts its accepting thread (one more thread per connection).
pub fn spawn_tcp(
    spec: &ListenerSpec,
    source: u32,
    emit: Emitter,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let listener = TcpListener::bind(spec.bind)?;
    listener.set_nonblocking(true)?;
    tracing::info!(listener = spec.name(), "listening");
    let parsers = Arc::new(Mutex::new(SyslogParsers::new(spec.timezone, source)));
    std::thread::Builder::new()
        .name("syslog-tcp".into())
        .spawn(move || {
            let open = Arc::new(AtomicUsize::new(0));
            let mut conns = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                conns.retain(|h: &JoinHandle<()>| !h.is_finished());
                let stream = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(e) if is_timeout(&e) => {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "syslog accept failed");
                        std::thread::sleep(READ_TIMEOUT);
                        continue;
                    }
                };
                if open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                    emit.counters.refused.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                emit.counters.connections.fetch_add(1, Ordering::Relaxed);
                open.fetch_add(1, Ordering::SeqCst);
                let (emit, stop, parsers, count) = (
                    emit.clone(),
                    Arc::clone(&stop),
                    Arc::clone(&parsers),
                    Arc::clone(&open),
                );
                let h = std::thread::Builder::new()
                    .name("syslog-conn".into())
                    .spawn(move || {
                        connection(stream, &emit, &stop, &parsers);
                        count.fetch_sub(1, Ordering::SeqCst);
                    });
                match h {
                    Ok(h) => conns.push(h),
                    Err(_) => {
                        open.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            }
            for h in conns {
                let _ = h.join();
            }
        })
}

/// Reads one connection until EOF, error, idle timeout, a framing error or stop.
fn connection(
    mut stream: TcpStream,
    emit: &Emitter,
    stop: &AtomicBool,
    parsers: &Mutex<SyslogParsers>,
) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(READ_TIMEOUT)).is_err()
    {
        return;
    }
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) && last.elapsed() < IDLE_TIMEOUT {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if is_timeout(&e) => continue,
            Err(_) => break,
        };
        last = Instant::now();
        let mut out = Vec::new();
        let ok = {
            let mut p = parsers.lock().unwrap_or_else(|e| e.into_inner());
            framer.push(&buf[..n], &mut |m| match m {
                Frame::Message(m) => p.message(m, emit, &mut out),
                Frame::TooLong => {
                    emit.counters.received.fetch_add(1, Ordering::Relaxed);
                    emit.counters.rejected.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        emit.emit(out);
        if !ok {
            emit.counters.rejected.fetch_add(1, Ordering::Relaxed);
            break;
        }
    }
    // A last LF-framed message without its LF.
    let mut out = Vec::new();
    if let Some(rest) = framer.finish() {
        let mut p = parsers.lock().unwrap_or_else(|e| e.into_inner());
        p.message(&rest, emit, &mut out);
    }
    emit.emit(out);
}

/// What the framer found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// One message.
    Message(&'a [u8]),
    /// A message longer than [`MAX_MESSAGE`], skipped.
    TooLong,
}

/// RFC 6587 framing of one TCP stream.
#[derive(Debug, Default)]
pub struct Framer {
    /// `Some(true)`: octet counting; `Some(false)`: LF; `None`: no byte seen yet.
    octets: Option<bool>,
    buf: Vec<u8>,
    /// Bytes still to skip: the rest of a too-long octet-counted message.
    skip: usize,
    /// Discarding up to the next LF: a too-long LF-framed message.
    discarding: bool,
}

impl Framer {
    /// Takes the next bytes of the stream, calling `f` on each complete frame. `false`: the
    /// stream is not RFC 6587 (a bad length); the connection should close.
    pub fn push(&mut self, mut bytes: &[u8], f: &mut dyn FnMut(Frame)) -> bool {
        if self.skip > 0 {
            let k = self.skip.min(bytes.len());
            self.skip -= k;
            bytes = &bytes[k..];
        }
        if self.octets.is_none() {
            match bytes.first() {
                Some(b) => self.octets = Some(b.is_ascii_digit()),
                None => return true,
            }
        }
        self.buf.extend_from_slice(bytes);
        if self.octets == Some(true) {
            self.octet_frames(f)
        } else {
            self.lf_frames(f);
            true
        }
    }

    fn octet_frames(&mut self, f: &mut dyn FnMut(Frame)) -> bool {
        let mut pos = 0;
        let ok = loop {
            let rest = &self.buf[pos..];
            let Some(sp) = rest.iter().position(|&b| b == b' ') else {
                break rest.len() < 8 && rest.iter().all(u8::is_ascii_digit);
            };
            let len = std::str::from_utf8(&rest[..sp])
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<usize>().ok());
            let Some(len) = len else { break false };
            if len > MAX_MESSAGE {
                f(Frame::TooLong);
                let have = rest.len() - sp - 1;
                let k = have.min(len);
                self.skip = len - k;
                pos += sp + 1 + k;
                continue;
            }
            if rest.len() < sp + 1 + len {
                break true;
            }
            f(Frame::Message(&rest[sp + 1..sp + 1 + len]));
            pos += sp + 1 + len;
        };
        self.buf.drain(..pos);
        ok
    }

    fn lf_frames(&mut self, f: &mut dyn FnMut(Frame)) {
        let mut pos = 0;
        while let Some(nl) = memchr::memchr(b'\n', &self.buf[pos..]) {
            if self.discarding {
                self.discarding = false;
            } else if nl > MAX_MESSAGE {
                f(Frame::TooLong);
            } else {
                f(Frame::Message(&self.buf[pos..pos + nl]));
            }
            pos += nl + 1;
        }
        self.buf.drain(..pos);
        if self.buf.len() > MAX_MESSAGE {
            if !self.discarding {
                f(Frame::TooLong);
            }
            self.discarding = true;
            self.buf.clear();
        }
    }

    /// What is left at the end of the stream: an LF-framed message without its LF.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.buf);
        (self.octets == Some(false) && !self.discarding && !rest.is_empty()).then_some(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer, chunks: &[&[u8]]) -> (Vec<String>, bool) {
        let mut out = Vec::new();
        let mut ok = true;
        for c in chunks {
            ok &= framer.push(c, &mut |fr| {
                out.push(match fr {
                    Frame::Message(m) => String::from_utf8_lossy(m).into_owned(),
                    Frame::TooLong => "<too long>".into(),
                })
            });
        }
        (out, ok)
    }

    #[test]
    fn octet_counting_across_reads_and_too_long_resyncs() {
        let mut f = Framer::default();
        let big = format!("{} ", MAX_MESSAGE + 10);
        let body = vec![b'x'; MAX_MESSAGE + 10];
        let (out, ok) = frames(
            &mut f,
            &[
                b"5 he",
                b"llo3 abc",
                big.as_bytes(),
                &body[..100],
                &body[100..],
                b"2 ok",
            ],
        );
        assert!(ok);
        assert_eq!(out, ["hello", "abc", "<too long>", "ok"]);
        let (_, ok) = frames(&mut f, &[b"x5 hello"]);
        assert!(!ok);
    }

    #[test]
    fn lf_framing_and_too_long_lines() {
        let mut f = Framer::default();
        let long = vec![b'y'; MAX_MESSAGE + 1];
        let (out, ok) = frames(
            &mut f,
            &[b"<13>a\n<13>b", b"\n", &long, b"zz\n<13>c\n<13>d"],
        );
        assert!(ok);
        assert_eq!(out, ["<13>a", "<13>b", "<too long>", "<13>c"]);
        assert_eq!(f.finish().unwrap(), b"<13>d");
    }

    #[test]
    fn format_by_program_tag() {
        let cases: &[(&str, Option<Format>)] = &[
            ("<30>Mar  2 08:00:31 h vsftpd[1]: x", Some(Format::Vsftpd)),
            (
                "<30>1 2026-03-02T08:00:31Z h proftpd 1 - - x",
                Some(Format::Proftpd),
            ),
            (
                "<4>Mar  2 08:00:31 h kernel: IN=eth0",
                Some(Format::Iptables),
            ),
            (
                "<4>Mar  2 08:00:31 h filterlog[9]: 5,,,",
                Some(Format::Filterlog),
            ),
            (
                "<4>Mar  2 08:00:31 fw %ASA-4-106023: Deny",
                Some(Format::Asa),
            ),
            ("<4>Mar  2 08:00:31 h sshd[2]: x", None),
        ];
        for (line, want) in cases {
            assert_eq!(format_for(line.as_bytes()), *want, "{line}");
        }
    }
}
