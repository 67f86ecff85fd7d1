//! Compact records of the lines to write, kept in time order until they are formatted.
//!
//! A record holds only integers and `&'static str`, so scheduling a line never allocates.

use std::cmp::Ordering;

/// A file path as `{dir}/{stem}{-num}{ext}` (`num` 0 means no number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilePath {
    /// Directory, with a leading `/` and no trailing one.
    pub dir: &'static str,
    /// File name stem.
    pub stem: &'static str,
    /// Number appended as `-num` when non-zero.
    pub num: u32,
    /// Extension with its dot (may be empty).
    pub ext: &'static str,
}

/// What a vsftpd line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsKind {
    /// `CONNECT: Client "..."`.
    Connect,
    /// `OK LOGIN` or `FAIL LOGIN`.
    Login {
        /// Success.
        ok: bool,
    },
    /// `OK LOGIN` with `anon password "..."`.
    AnonLogin {
        /// Password the client typed (by convention an e-mail address).
        password: &'static str,
    },
    /// `OK DOWNLOAD` / `OK UPLOAD` with size and rate.
    Transfer {
        /// Upload rather than download.
        upload: bool,
        /// File.
        path: FilePath,
        /// Bytes moved.
        bytes: u64,
        /// Rate in hundredths of Kbyte/sec (vsftpd prints `%.2f`).
        rate_centi: u64,
    },
    /// `OK MKDIR` (`path` is the directory: `dir/stem`).
    Mkdir(FilePath),
    /// `OK DELETE`.
    Delete(FilePath),
    /// `OK RENAME` from `path` + `.part` to `path`.
    Rename(FilePath),
}

/// One vsftpd.log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VsLine {
    /// Process id of the session.
    pub pid: u32,
    /// Client address.
    pub client: u32,
    /// Written as an IPv4-mapped IPv6 address.
    pub mapped: bool,
    /// `[user]`, empty before login.
    pub user: &'static str,
    /// The event.
    pub kind: VsKind,
}

/// The netfilter LOG prefix, which also fixes the interfaces and MAC header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// Internet to DMZ, accepted.
    AcceptIn,
    /// Internet to DMZ, dropped.
    DropIn,
    /// LAN to internet, accepted.
    AcceptOut,
}

/// Transport header of a logged packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// A TCP SYN.
    Tcp {
        /// Source port.
        spt: u16,
        /// Destination port.
        dpt: u16,
        /// Window.
        window: u16,
    },
    /// A UDP datagram (`LEN` is the IP length minus 20).
    Udp {
        /// Source port.
        spt: u16,
        /// Destination port.
        dpt: u16,
    },
    /// An ICMP message.
    Icmp {
        /// Type (8 = echo request).
        typ: u8,
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
}

/// One kern.log line (a netfilter LOG record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FwLine {
    /// Prefix.
    pub prefix: Prefix,
    /// Source address.
    pub src: u32,
    /// Destination address.
    pub dst: u32,
    /// IP total length.
    pub len: u16,
    /// TTL as logged.
    pub ttl: u8,
    /// IP id.
    pub id: u16,
    /// Don't-fragment flag.
    pub df: bool,
    /// Transport header.
    pub proto: Proto,
}

/// A record with its time (µs since the epoch) and a sequence number that keeps equal times
/// in scheduling order. Ordered so that a `BinaryHeap` pops the earliest first.
#[derive(Debug, Clone, Copy)]
pub struct Timed<T> {
    /// Event time, µs since the Unix epoch.
    pub t: i64,
    /// Tie breaker: order of scheduling.
    pub seq: u64,
    /// The record.
    pub ev: T,
}

impl<T> PartialEq for Timed<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.t, self.seq) == (other.t, other.seq)
    }
}

impl<T> Eq for Timed<T> {}

impl<T> PartialOrd for Timed<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Timed<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.t, other.seq).cmp(&(self.t, self.seq))
    }
}

/// A line of either file, as produced by the scenario and background builders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// For vsftpd.log.
    Vs(VsLine),
    /// For kern.log.
    Fw(FwLine),
}
