//! Connection build and teardown (302013–302021) and the memory that pairs them.
//!
//! The ASA prints both ends of a connection in the same places in `Built` and `Teardown`: the
//! `for` end and the `to` end. Which of them opened the connection only the `Built` line says:
//! `inbound` means the `for` end did (it came from the lower-security side), `outbound` means
//! the `to` end did (Cisco's explanation of 302013: "outbound ... the original control
//! connection was initiated from the inside"). `source` is always the initiator. A teardown is
//! paired with its build by connection id (per firewall host) and takes the build's
//! orientation; a teardown whose build was not seen (before the log starts, or evicted) keeps
//! the printed order: `for` end as source.

use super::fields::{endpoint_at, transport_word, Body, Endpoint};
use super::messages::has_ports;
use super::Meta;
use crate::event::{Action, Event, Outcome, Transport};
use crate::{ErrorKind, ParseError};
use compact_str::CompactString;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Open connections remembered per source. A busy ASA builds thousands of connections a
/// second, most closed within seconds; 65 536 covers minutes of that while bounding memory
/// to a few MB. When full, the oldest build is forgotten (counted in [`State::evictions`]).
pub const MAX_OPEN_CONNECTIONS: usize = 65_536;

/// A fast hasher for the connection map: its keys are firewall-assigned connection ids and
/// a hash of the host name, not values a remote party chooses.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type KeyMap = HashMap<(u64, u64), Opened, std::hash::BuildHasherDefault<KeyHasher>>;

/// Who opened a connection: the ends as (address, port), initiator first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Opened {
    /// Insertion number, to tell a live entry from a stale one in the eviction queue.
    seq: u64,
    initiator: (Option<IpAddr>, Option<u16>),
    responder: (Option<IpAddr>, Option<u16>),
}

/// What the ASA parser remembers between lines of one source: the connections built and not
/// yet torn down, so a teardown can say who opened the connection.
#[derive(Debug, Default)]
pub struct State {
    open: KeyMap,
    /// Keys in build order; entries whose `seq` no longer matches `open` are stale.
    order: VecDeque<((u64, u64), u64)>,
    next_seq: u64,
    evictions: u64,
    unpaired: u64,
}

impl State {
    /// Builds forgotten because [`MAX_OPEN_CONNECTIONS`] were open.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Teardowns whose build was not remembered (their event keeps the printed order).
    pub fn unpaired_teardowns(&self) -> u64 {
        self.unpaired
    }

    /// Connections currently remembered.
    pub fn open_connections(&self) -> usize {
        self.open.len()
    }

    /// Length of the eviction queue (live and stale keys).
    #[cfg(test)]
    pub(super) fn queue_len(&self) -> usize {
        self.order.len()
    }

    fn remember(&mut self, key: (u64, u64), initiator: &Endpoint, responder: &Endpoint) {
        while self.open.len() >= MAX_OPEN_CONNECTIONS && !self.open.contains_key(&key) {
            let Some((old, seq)) = self.order.pop_front() else {
                break;
            };
            if self.open.get(&old).is_some_and(|o| o.seq == seq) {
                self.open.remove(&old);
                self.evictions += 1;
            }
        }
        self.next_seq += 1;
        let seq = self.next_seq;
        self.open.insert(
            key,
            Opened {
                seq,
                initiator: (initiator.ip, initiator.port),
                responder: (responder.ip, responder.port),
            },
        );
        self.order.push_back((key, seq));
        // Torn-down connections leave stale keys behind; drop them before the queue grows
        // past twice the map (amortised O(1) per line).
        if self.order.len() > 2 * MAX_OPEN_CONNECTIONS {
            let open = &self.open;
            self.order
                .retain(|(k, s)| open.get(k).is_some_and(|o| o.seq == *s));
        }
    }

    fn forget(&mut self, key: (u64, u64)) -> Option<Opened> {
        self.open.remove(&key)
    }
}

/// FNV-1a of the firewall's host name: connection ids are per firewall, and one file may hold
/// the logs of several.
fn host_key(host: Option<&str>) -> u64 {
    host.unwrap_or("")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// The parts of a build or teardown line.
struct Line<'a> {
    built: bool,
    /// `Some(true)` inbound, `Some(false)` outbound, `None` (teardown) not said.
    inbound: Option<bool>,
    transport: Option<Transport>,
    id: Option<u64>,
    first: Endpoint<'a>,
    second: Endpoint<'a>,
    bytes: Option<u64>,
    /// The teardown's `duration`, in seconds.
    duration_secs: Option<u64>,
    syn_timeout: bool,
}

// for faddr 172.24.177.29/0 gaddr 192.168.132.46/17233 laddr 192.168.132.46/17233
/// The ICMP form's ends: the foreign (`faddr`) and local (`laddr`) addresses.
fn icmp_ends<'a>(b: &Body<'a>, at: usize) -> Result<(Endpoint<'a>, Endpoint<'a>), ParseError> {
    let (f, _) = super::fields::endpoint_after(b, at, "faddr ", "`faddr`")?;
    let (l, _) = super::fields::endpoint_after(b, at, "laddr ", "`laddr`")?;
    Ok((f, l))
}

/// ECS durations are nanoseconds.
const NANOS_PER_SEC: u64 = 1_000_000_000;

// 1:23:45   →   5025 (seconds; hours may exceed 24)
/// `h:mm:ss` of digits only, read in one pass over the bytes (every teardown has one).
fn parse_duration(b: &Body, at: usize) -> Result<u64, ParseError> {
    let (w, w_at) = b.word(at);
    let bad = || b.err(ErrorKind::BadNumber, w_at, "a duration h:mm:ss");
    let (mut secs, mut part, mut digits, mut colons) = (0u64, 0u64, 0, 0);
    for c in w.bytes() {
        match c {
            b'0'..=b'9' => {
                part = part
                    .checked_mul(10)
                    .and_then(|p| p.checked_add(u64::from(c - b'0')))
                    .ok_or_else(bad)?;
                digits += 1;
            }
            b':' if digits > 0 && colons < 2 => {
                secs = secs
                    .checked_mul(60)
                    .and_then(|s| s.checked_add(part))
                    .ok_or_else(bad)?;
                (part, digits, colons) = (0, 0, colons + 1);
            }
            _ => return Err(bad()),
        }
    }
    if digits == 0 || colons != 2 {
        return Err(bad());
    }
    secs.checked_mul(60)
        .and_then(|s| s.checked_add(part))
        .ok_or_else(bad)
}

// Built outbound TCP connection 89743274 for outside:192.0.2.43/443 (192.0.2.43/443) to
//   inside:10.123.3.42/4952 (10.123.3.42/12834)
// Teardown TCP connection 447236 for outside:192.0.2.222/1234 to dmz:192.168.1.34/5678 duration
//   0:00:00 bytes 14804 TCP FINs
// Teardown ICMP connection for faddr 172.24.177.29/0 gaddr 192.168.132.46/17233 laddr …
/// Splits a build / teardown body. `Ok(None)` for stub (cluster forwarding) connections.
fn split<'a>(b: &Body<'a>) -> Result<Option<Line<'a>>, ParseError> {
    let (verb, _) = b.word(0);
    let built = match verb {
        "Built" => true,
        "Teardown" => false,
        _ => return Err(b.err(ErrorKind::Syntax, 0, "`Built` or `Teardown`")),
    };
    let mut pos = verb.len();
    let mut inbound = None;
    if built {
        let (dir, at) = b.word(pos);
        inbound = Some(match dir {
            "inbound" => true,
            "outbound" => false,
            _ => return Err(b.err(ErrorKind::Syntax, at, "`inbound` or `outbound`")),
        });
        pos = at + dir.len();
    }
    let (proto, proto_at) = b.word(pos);
    if proto == "stub" {
        return Ok(None);
    }
    let (conn, conn_at) = b.word(proto_at + proto.len());
    if conn != "connection" {
        return Err(b.err(ErrorKind::Syntax, conn_at, "`connection`"));
    }
    pos = conn_at + conn.len();
    let (w, w_at) = b.word(pos);
    let mut id = None;
    if w.bytes().next().is_some_and(|c| c.is_ascii_digit()) {
        id = Some(
            w.parse()
                .map_err(|_| b.err(ErrorKind::BadNumber, w_at, "a connection id"))?,
        );
        pos = w_at + w.len();
    }
    let (kw, kw_at) = b.word(pos);
    if kw != "for" && kw != "from" {
        return Err(b.err(ErrorKind::Syntax, kw_at, "`for` or `from`"));
    }
    pos = kw_at + kw.len();
    let transport = transport_word(proto);
    let (first, second, rest) = if b.word_is(pos, "faddr") {
        let (f, l) = icmp_ends(b, pos)?;
        (f, l, b.text.len())
    } else {
        let (first, first_end) = endpoint_at(b, pos)?;
        let to = b
            .after(first_end, " to ")
            .ok_or_else(|| b.err(ErrorKind::Syntax, first_end, "` to ` and the other end"))?;
        let (second, end) = endpoint_at(b, to)?;
        (first, second, end)
    };
    let mut bytes = None;
    let mut duration_secs = None;
    let mut syn_timeout = false;
    if !built {
        if let Some(at) = b.after(rest, " duration ") {
            duration_secs = Some(parse_duration(b, at)?);
        }
        if let Some(at) = b.after(rest, " bytes ") {
            let (n, n_at) = b.word(at);
            bytes = Some(
                n.parse()
                    .map_err(|_| b.err(ErrorKind::BadNumber, n_at, "a byte count"))?,
            );
            syn_timeout = b.find(n_at, "SYN Timeout").is_some();
        }
    }
    Ok(Some(Line {
        built,
        inbound,
        transport,
        id,
        first,
        second,
        bytes,
        duration_secs,
        syn_timeout,
    }))
}

fn same(ep: &Endpoint, end: (Option<IpAddr>, Option<u16>)) -> bool {
    (ep.ip, ep.port) == end
}

/// Parses a 302013–302021 body into a `connection.open` / `connection.close` event.
pub(super) fn parse_connection(
    _id: u32,
    b: &Body,
    meta: &Meta,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let Some(l) = split(b)? else {
        return Ok(None);
    };
    let key = l.id.map(|id| (host_key(meta.host), id));
    // Initiator first.
    let (src, dst) = if l.built {
        let ends = if l.inbound == Some(true) {
            (l.first, l.second)
        } else {
            (l.second, l.first)
        };
        if let Some(k) = key {
            state.remember(k, &ends.0, &ends.1);
        }
        ends
    } else {
        match key.and_then(|k| state.forget(k)) {
            Some(o) if same(&l.first, o.initiator) || same(&l.second, o.responder) => {
                (l.first, l.second)
            }
            Some(o) if same(&l.second, o.initiator) || same(&l.first, o.responder) => {
                (l.second, l.first)
            }
            Some(o) => {
                // Neither end matches the build (addresses rewritten): the build's ends.
                let build_end = |(ip, port): (Option<IpAddr>, Option<u16>)| Endpoint {
                    ip,
                    port,
                    ..Endpoint::default()
                };
                (build_end(o.initiator), build_end(o.responder))
            }
            None => {
                if key.is_some() {
                    state.unpaired += 1;
                }
                (l.first, l.second)
            }
        }
    };
    let action = if l.built {
        Action::ConnectionOpen
    } else {
        Action::ConnectionClose
    };
    let mut e = meta.event(action);
    let ports = has_ports(l.transport);
    e.transport = l.transport;
    e.source_ip = src.ip;
    e.destination_ip = dst.ip;
    e.source_port = src.port.filter(|_| ports);
    e.destination_port = dst.port.filter(|_| ports);
    e.interface_in = src.iface.map(CompactString::from);
    e.interface_out = dst.iface.map(CompactString::from);
    e.bytes = l.bytes;
    if let Some(ns) = l.duration_secs.and_then(|s| s.checked_mul(NANOS_PER_SEC)) {
        e.set_ended_after(ns);
    }
    if l.syn_timeout {
        e.outcome = Outcome::Failure;
    }
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("0:00:00", 0),
            ("1:23:45", 5025),
            ("100:00:01", 360_001),
            ("0:01:08 bytes", 68),
        ];
        for (w, secs) in ok {
            let b = Body { text: w, base: 0 };
            assert_eq!(parse_duration(&b, 0), Ok(secs), "{w}");
        }
        let bad = [
            "",
            "1:2",
            "1:2:3:4",
            "::",
            "1::3",
            "1:2:",
            "a:00:00",
            "+1:00:00",
            "99999999999999999999:00:00",
        ];
        for w in bad {
            let b = Body { text: w, base: 10 };
            let e = parse_duration(&b, 0).unwrap_err();
            assert_eq!((e.kind, e.offset), (ErrorKind::BadNumber, 10), "{w}");
        }
    }
}
