//! A RELP client (rsyslog's Reliable Event Logging Protocol, librelp's doc/relp.html): every
//! syslog message is a command the receiver answers with `rsp 200` once it took it.
//!
//! ```text
//! C: 1 open 56 relp_version=0\nrelp_software=portcullis,0.1.0,-\ncommands=syslog\n
//! S: 1 rsp 62 200 OK\nrelp_version=0\nrelp_software=librelp,...\ncommands=syslog\n
//! C: 2 syslog 143 <131>1 2026-...\n        (up to WINDOW commands in flight)
//! S: 2 rsp 6 200 OK\n
//! C: 3 close 0\n                            S: 3 rsp 0\n
//! ```
//!
//! Frame: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. Transaction numbers start at 1 on each
//! connection, grow by one per command and wrap from 999 999 999 to 1; responses come in
//! command order. Frames in flight when a connection breaks count as not delivered: the
//! forwarder keeps their rows and sends them again on the next connection, so a message
//! whose acknowledgement was lost arrives twice.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Commands in flight before waiting for their responses: librelp's default window.
pub const WINDOW: usize = 128;
/// Largest response accepted. Responses are a status line and, for `open`, a few offers; a
/// length beyond this is a broken or hostile peer, not a reason to allocate.
const MAX_RSP: usize = 64 * 1024;
/// Largest transaction number (9 digits), after which numbering starts again at 1.
const MAX_TXNR: u32 = 999_999_999;
/// How long a response may take. imrelp answers once the message is queued (or written,
/// with a direct queue), well inside this; a receiver silent this long is reconnected.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// One frame read from the receiver.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    /// Transaction number (0: a hint such as `serverclose`).
    pub txnr: u32,
    /// `rsp`, or a hint command.
    pub command: String,
    /// DATA, without the leading space.
    pub data: Vec<u8>,
}

fn protocol(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("relp: {msg}"))
}

/// Reads a space-ended token of at most `max` bytes.
fn token(r: &mut impl BufRead, max: usize, what: &str) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(max);
    let mut byte = [0u8; 1];
    loop {
        r.read_exact(&mut byte)?;
        match byte[0] {
            b' ' => return Ok(out),
            // DATALEN 0 ends with the trailer right away.
            b'\n' if what == "DATALEN" => {
                out.push(b'\n');
                return Ok(out);
            }
            b if out.len() < max => out.push(b),
            _ => return Err(protocol(format!("{what} longer than {max} bytes"))),
        }
    }
}

fn number(bytes: &[u8], what: &str) -> io::Result<usize> {
    if bytes.is_empty() || bytes.len() > 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(protocol(format!(
            "bad {what} `{}`",
            crate::escape::escape_text(&String::from_utf8_lossy(bytes))
        )));
    }
    Ok(bytes.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
}

/// Reads one frame (`TXNR SP COMMAND SP DATALEN [SP DATA] LF`).
pub fn read_frame(r: &mut impl BufRead) -> io::Result<Frame> {
    let txnr = number(&token(r, 9, "TXNR")?, "TXNR")? as u32;
    let command = token(r, 32, "COMMAND")?;
    if command.is_empty() || !command.iter().all(u8::is_ascii_alphabetic) {
        return Err(protocol("bad COMMAND".into()));
    }
    let mut len = token(r, 10, "DATALEN")?;
    let ended = len.last() == Some(&b'\n');
    if ended {
        len.pop();
    }
    let len = number(&len, "DATALEN")?;
    if len > MAX_RSP {
        return Err(protocol(format!("DATALEN {len} over {MAX_RSP}")));
    }
    if ended && len > 0 {
        return Err(protocol("DATALEN without DATA".into()));
    }
    let mut data = vec![0u8; len];
    if !ended {
        r.read_exact(&mut data)?;
        let mut trailer = [0u8; 1];
        r.read_exact(&mut trailer)?;
        if trailer[0] != b'\n' {
            return Err(protocol("frame does not end with LF".into()));
        }
    }
    Ok(Frame {
        txnr,
        command: String::from_utf8_lossy(&command).into_owned(),
        data,
    })
}

/// Appends the frame of `command` with `data` to `buf`.
pub fn write_frame(buf: &mut Vec<u8>, txnr: u32, command: &str, data: &[u8]) {
    buf.extend_from_slice(format!("{txnr} {command} {}", data.len()).as_bytes());
    if !data.is_empty() {
        buf.push(b' ');
        buf.extend_from_slice(data);
    }
    buf.push(b'\n');
}

/// Makes Linux acknowledge the receiver's segments at once instead of after the delayed-ACK
/// timer. librelp writes one small response per command; its Nagle holds the second and
/// later ones until our ACK of the first, which we delay about 40 ms because we have nothing
/// to send while waiting: 40 ms per window, 20 000 messages in 8 s instead of 0.8 s. The
/// kernel drops the mode again by itself, so it is set before each window's responses.
fn quick_ack(sock: &TcpStream) {
    #[cfg(target_os = "linux")]
    let _ = socket2::SockRef::from(sock).set_quickack(true);
    #[cfg(not(target_os = "linux"))]
    let _ = sock;
}

/// An open RELP session.
pub struct Relp {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    next: u32,
}

impl Relp {
    /// Opens a session on `tcp`: sends `open`, requires `200` and the `syslog` command.
    pub fn open(tcp: TcpStream) -> io::Result<Relp> {
        tcp.set_read_timeout(Some(ACK_TIMEOUT))?;
        // A window is one write, sent whole at once.
        tcp.set_nodelay(true)?;
        let reader = BufReader::new(tcp.try_clone()?);
        let mut relp = Relp {
            writer: tcp,
            reader,
            next: 1,
        };
        let offers = format!(
            "relp_version=0\nrelp_software=portcullis,{},-\ncommands=syslog",
            env!("CARGO_PKG_VERSION")
        );
        let txnr = relp.send(&[("open", offers.as_bytes())])?;
        let data = relp.response(txnr[0])?;
        let text = String::from_utf8_lossy(&data);
        let syslog = text.lines().any(|l| {
            l.strip_prefix("commands=")
                .is_some_and(|c| c.split(',').any(|c| c == "syslog"))
        });
        if !syslog {
            return Err(protocol(
                "the receiver does not offer the syslog command".into(),
            ));
        }
        Ok(relp)
    }

    /// Writes commands in one write; returns their transaction numbers.
    fn send(&mut self, commands: &[(&str, &[u8])]) -> io::Result<Vec<u32>> {
        let mut buf = Vec::new();
        let mut txnrs = Vec::with_capacity(commands.len());
        for (command, data) in commands {
            write_frame(&mut buf, self.next, command, data);
            txnrs.push(self.next);
            self.next = if self.next == MAX_TXNR {
                1
            } else {
                self.next + 1
            };
        }
        self.writer.write_all(&buf)?;
        Ok(txnrs)
    }

    /// Reads the response to `txnr`; `Ok` with the data after the status line when it is 200.
    fn response(&mut self, txnr: u32) -> io::Result<Vec<u8>> {
        let f = read_frame(&mut self.reader)?;
        if f.txnr == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!("relp: the receiver sent `{}`", f.command),
            ));
        }
        if f.command != "rsp" || f.txnr != txnr {
            return Err(protocol(format!(
                "expected rsp to {txnr}, got {} {}",
                f.txnr, f.command
            )));
        }
        let (status, rest) = match f.data.iter().position(|&b| b == b'\n') {
            Some(i) => (&f.data[..i], f.data[i + 1..].to_vec()),
            None => (&f.data[..], Vec::new()),
        };
        if !status.starts_with(b"200") {
            return Err(protocol(format!(
                "the receiver refused command {txnr}: {}",
                crate::escape::escape_text(&String::from_utf8_lossy(status))
            )));
        }
        Ok(rest)
    }

    /// Sends `msgs` as syslog commands, [`WINDOW`] at a time; returns how many leading
    /// messages were acknowledged with 200, and the error that stopped it, if any.
    pub fn deliver(&mut self, msgs: &[String]) -> (usize, Option<io::Error>) {
        let mut acked = 0;
        for chunk in msgs.chunks(WINDOW) {
            let commands: Vec<(&str, &[u8])> =
                chunk.iter().map(|m| ("syslog", m.as_bytes())).collect();
            let txnrs = match self.send(&commands) {
                Ok(t) => t,
                Err(e) => return (acked, Some(e)),
            };
            quick_ack(&self.writer);
            for txnr in txnrs {
                match self.response(txnr) {
                    Ok(_) => acked += 1,
                    Err(e) => return (acked, Some(e)),
                }
            }
        }
        (acked, None)
    }

    /// Ends the session politely: `close`, then its response (errors do not matter here).
    pub fn close(mut self) {
        if let Ok(t) = self.send(&[("close", b"")]) {
            let _ = self.response(t[0]);
        }
    }

    /// Whether the receiver closed the connection or sent a hint (`serverclose`) between
    /// batches: either way the session is over.
    pub fn closed_by_peer(&mut self) -> bool {
        if !self.reader.buffer().is_empty() {
            return true;
        }
        let sock = self.reader.get_ref();
        if sock.set_nonblocking(true).is_err() {
            return true;
        }
        let mut probe = [0u8; 1];
        let closed = match sock.peek(&mut probe) {
            Ok(_) => true, // end of stream, or a frame nobody asked for
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        };
        closed || sock.set_nonblocking(false).is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> io::Result<Frame> {
        read_frame(&mut &bytes[..])
    }

    #[test]
    fn frames_are_written_and_read_exactly() {
        let mut buf = Vec::new();
        write_frame(&mut buf, 7, "syslog", b"<13>1 a\nb");
        write_frame(&mut buf, 8, "close", b"");
        assert_eq!(buf, b"7 syslog 9 <13>1 a\nb\n8 close 0\n");
        let mut r = &buf[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Frame {
                txnr: 7,
                command: "syslog".into(),
                data: b"<13>1 a\nb".to_vec()
            }
        );
        assert_eq!(read_frame(&mut r).unwrap().command, "close");
        let f = parse(b"0 serverclose 0\n").unwrap();
        assert_eq!(
            (f.txnr, f.command.as_str(), f.data.len()),
            (0, "serverclose", 0)
        );
        assert_eq!(parse(b"3 rsp 6 200 OK\n").unwrap().data, b"200 OK");
    }

    #[test]
    fn bad_frames_are_errors_not_allocations() {
        let table: [(&[u8], &str); 7] = [
            (b"x rsp 6 200 OK\n", "bad TXNR"),
            (b"1234567890 rsp 0\n", "TXNR longer"),
            (b"1 r5p 0\n", "bad COMMAND"),
            (b"1 rsp 999999999 ", "over"),
            (b"1 rsp 6 200 OKX", "does not end with LF"),
            (b"1 rsp 3\n", "without DATA"),
            (b"1 rsp 6 200", "fill whole buffer"),
        ];
        for (bytes, want) in table {
            let e = parse(bytes).unwrap_err();
            assert!(e.to_string().contains(want), "{bytes:?}: {e}");
        }
    }
}
