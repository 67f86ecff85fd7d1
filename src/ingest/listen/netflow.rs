//! NetFlow v5/v9 and IPFIX collector over UDP: one [`Decoder`] per listener (templates are
//! kept per exporter and observation domain), the exporter is the datagram's source
//! address, and a flow record's raw text (its evidence) is its event as JSON, as in replay.

use super::{Emitter, ListenerSpec, READ_TIMEOUT};
use crate::record::{RawLine, Record};
use chrono::Utc;
use portcullis_parsers::netflow::{Decoder, DecoderLimits};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Socket receive buffer asked for. A burst of exports (an exporter flushing its cache
/// sends thousands of datagrams at once) must fit while the thread decodes: 32 MiB holds
/// about 20 000 full datagrams. Linux caps it at `net.core.rmem_max` (raise that sysctl to
/// get it all); the size obtained is logged.
pub const RECV_BUFFER: usize = 32 << 20;
/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;
/// How often the kernel's drop counter of the socket is read.
const KERNEL_DROPS_EVERY: Duration = Duration::from_secs(1);

/// Binds a UDP socket with a receive buffer of (up to) `buffer` bytes and the listeners'
/// read timeout.
pub fn bind_udp(addr: SocketAddr, buffer: usize) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(e) = socket.set_recv_buffer_size(buffer) {
        tracing::warn!(%addr, error = %e, "cannot set receive buffer");
    }
    socket.bind(&addr.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(READ_TIMEOUT))?;
    Ok(socket)
}

/// Binds the listener and starts its thread; records are numbered as source `source`.
pub fn spawn(
    spec: &ListenerSpec,
    source: u32,
    emit: Emitter,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let socket = bind_udp(spec.bind, RECV_BUFFER)?;
    let got = socket2::SockRef::from(&socket)
        .recv_buffer_size()
        .unwrap_or(0);
    tracing::info!(listener = spec.name(), receive_buffer = got, "listening");
    std::thread::Builder::new()
        .name("netflow".into())
        .spawn(move || run(&socket, source, &emit, &stop))
}

fn run(socket: &UdpSocket, source: u32, emit: &Emitter, stop: &AtomicBool) {
    let mut decoder = Decoder::new(DecoderLimits::default());
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut events = Vec::new();
    let mut offset = 0u64;
    let mut drops_at = Instant::now();
    let c = &emit.counters;
    while !stop.load(Ordering::Relaxed) {
        if drops_at.elapsed() >= KERNEL_DROPS_EVERY {
            note_kernel_drops(socket, emit);
            drops_at = Instant::now();
        }
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e) if is_timeout(&e) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "netflow receive failed");
                std::thread::sleep(READ_TIMEOUT);
                continue;
            }
        };
        c.received.fetch_add(1, Ordering::Relaxed);
        offset += 1;
        events.clear();
        match decoder.decode(from.ip(), &buf[..n], Utc::now(), &mut events) {
            Ok(d) if events.is_empty() && d.flows == 0 => {
                c.skipped.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(_) => {
                c.rejected.fetch_add(1, Ordering::Relaxed);
            }
        }
        let batch: Vec<Record> = events
            .drain(..)
            .map(|mut e| {
                e.origin.source = source;
                e.origin.offset = offset;
                let text = serde_json::to_string(&e).unwrap_or_default();
                Record {
                    event: e,
                    raw: RawLine::from_text(&text),
                }
            })
            .collect();
        emit.emit(batch);
    }
    note_kernel_drops(socket, emit);
}

/// A read timeout (`WouldBlock` on Unix, `TimedOut` elsewhere).
pub(crate) fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Stores the kernel's count of datagrams dropped on this socket's full buffer.
pub(crate) fn note_kernel_drops(socket: &UdpSocket, emit: &Emitter) {
    if let Some(d) = kernel_drops(socket) {
        emit.counters.kernel_drops.store(d, Ordering::Relaxed);
    }
}

/// Datagrams the kernel dropped for `socket` (the `drops` column of `/proc/net/udp{,6}`,
/// found by the socket's inode). `None` where that is not available.
#[cfg(target_os = "linux")]
pub fn kernel_drops(socket: &UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let link = std::fs::read_link(format!("/proc/self/fd/{}", socket.as_raw_fd())).ok()?;
    let link = link.to_str()?;
    let inode = link.strip_prefix("socket:[")?.strip_suffix(']')?;
    ["/proc/net/udp", "/proc/net/udp6"].iter().find_map(|p| {
        let text = std::fs::read_to_string(p).ok()?;
        text.lines().skip(1).find_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.get(9) == Some(&inode)).then(|| cols.last()?.parse().ok())?
        })
    })
}

/// Datagrams the kernel dropped for `socket`: not known on this system.
#[cfg(not(target_os = "linux"))]
pub fn kernel_drops(_socket: &UdpSocket) -> Option<u64> {
    None
}
