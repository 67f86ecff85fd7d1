//! The connection to the syslog receiver: a TCP stream (framed) or a connected UDP socket.

use super::message::frame;
use super::settings::{ForwardSettings, Transport};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

/// How long one connection attempt may take: a receiver that does not answer in this time is
/// treated as down and retried with backoff.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one write may block: a receiver that stops reading for this long is dropped and
/// reconnected (its unacknowledged rows are sent again).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// An open connection.
pub enum Connection {
    /// TCP, with the framing of the settings.
    Tcp(TcpStream),
    /// UDP, connected to the receiver.
    Udp(UdpSocket),
}

impl Connection {
    /// Resolves the target and connects to the first address that answers.
    pub fn open(s: &ForwardSettings) -> io::Result<Connection> {
        let addrs: Vec<SocketAddr> = s.address.to_socket_addrs()?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address");
        for addr in addrs {
            let opened = match s.transport {
                Transport::Tcp => {
                    TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).and_then(|t| {
                        t.set_write_timeout(Some(WRITE_TIMEOUT))?;
                        Ok(Connection::Tcp(t))
                    })
                }
                Transport::Udp => {
                    let local: SocketAddr = if addr.is_ipv4() {
                        "0.0.0.0:0".parse().expect("literal")
                    } else {
                        "[::]:0".parse().expect("literal")
                    };
                    UdpSocket::bind(local).and_then(|u| {
                        u.connect(addr)?;
                        Ok(Connection::Udp(u))
                    })
                }
            };
            match opened {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Whether a TCP receiver closed its end (a write into a closed stream may still succeed
    /// once, and that message would be lost): checked before each batch.
    pub fn closed_by_peer(&self) -> bool {
        let Connection::Tcp(t) = self else {
            return false;
        };
        if t.set_nonblocking(true).is_err() {
            return true;
        }
        let mut probe = [0u8; 64];
        let closed = match (&*t).read(&mut probe) {
            Ok(0) => true,
            Ok(_) => false, // receivers do not talk; whatever it said is ignored
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        };
        closed || t.set_nonblocking(false).is_err()
    }

    /// Sends one message; `Ok` means the receiver's side took it (the stream write or the
    /// datagram send succeeded).
    pub fn send(&mut self, msg: &str, s: &ForwardSettings) -> io::Result<()> {
        match self {
            Connection::Tcp(t) => t.write_all(&frame(msg, s.framing)),
            Connection::Udp(u) => u.send(msg.as_bytes()).map(|_| ()),
        }
    }
}
