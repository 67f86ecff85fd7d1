//! The connection to the syslog receiver: a TCP stream (framed), a TLS stream (octet
//! counted), a RELP session, or a connected UDP socket.

use super::message::frame;
use super::relp::Relp;
use super::settings::{ForwardSettings, Framing, Transport};
use super::tls::{self, TlsStream};
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
    /// TLS over TCP, octet-counted (RFC 5425).
    Tls(Box<TlsStream>),
    /// A RELP session: messages count as taken when acknowledged.
    Relp(Relp),
    /// UDP, connected to the receiver.
    Udp(UdpSocket),
}

impl Connection {
    /// Resolves the target and connects to the first address that answers (for TLS and RELP
    /// the handshake or `open` is part of connecting).
    pub fn open(s: &ForwardSettings) -> io::Result<Connection> {
        let addrs: Vec<SocketAddr> = s.address.to_socket_addrs()?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address");
        for addr in addrs {
            let tcp = || {
                TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).and_then(|t| {
                    t.set_write_timeout(Some(WRITE_TIMEOUT))?;
                    Ok(t)
                })
            };
            let opened = match s.transport {
                Transport::Tcp => tcp().map(Connection::Tcp),
                Transport::Tls => {
                    let t = s
                        .tls
                        .as_ref()
                        .expect("validated: tls targets have TLS settings");
                    // The handshake is bounded by the write timeout and a read timeout.
                    tcp().and_then(|sock| {
                        sock.set_read_timeout(Some(WRITE_TIMEOUT))?;
                        tls::connect(sock, t).map(|c| Connection::Tls(Box::new(c)))
                    })
                }
                Transport::Relp => tcp().and_then(Relp::open).map(Connection::Relp),
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

    /// Whether the receiver closed its end (a write into a closed stream may still succeed
    /// once, and that message would be lost): checked before each batch.
    pub fn closed_by_peer(&mut self) -> bool {
        match self {
            Connection::Tcp(t) => {
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
            Connection::Tls(t) => tls::closed_by_peer(t),
            Connection::Relp(r) => r.closed_by_peer(),
            Connection::Udp(_) => false,
        }
    }

    /// Sends `msgs` in order; returns how many leading messages the receiver took (the
    /// stream write or datagram send succeeded; for RELP, the receiver acknowledged them),
    /// and the error that stopped it, if any.
    pub fn deliver(&mut self, msgs: &[String], s: &ForwardSettings) -> (usize, Option<io::Error>) {
        if let Connection::Relp(r) = self {
            return r.deliver(msgs);
        }
        for (i, msg) in msgs.iter().enumerate() {
            let sent = match self {
                Connection::Tcp(t) => t.write_all(&frame(msg, s.framing)),
                Connection::Tls(t) => t
                    .write_all(&frame(msg, Framing::OctetCounting))
                    .and_then(|()| t.flush()),
                Connection::Udp(u) => u.send(msg.as_bytes()).map(|_| ()),
                Connection::Relp(_) => unreachable!("handled above"),
            };
            if let Err(e) = sent {
                return (i, Some(e));
            }
        }
        (msgs.len(), None)
    }

    /// Ends the connection politely (RELP `close`; others just close).
    pub fn close(self) {
        match self {
            Connection::Relp(r) => r.close(),
            Connection::Tls(mut t) => {
                t.conn.send_close_notify();
                let _ = t.flush();
            }
            Connection::Tcp(_) | Connection::Udp(_) => {}
        }
    }
}
