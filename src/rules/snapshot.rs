//! Snapshots of the engine's whole correlation state, so a restart continues exactly where
//! the engine stood: every rule's windows and open incidents, joins waiting for a partner,
//! sequences in progress, random walks, long-window compact state, first-seen values, the
//! reorder buffer with its records, the counters and the watermark.
//!
//! Layout: the 4-byte tag `PCSN`, a little-endian `u16` version, then the state in postcard
//! (serde's compact varint format). Each rule's state is keyed by its name and a stable hash
//! of its compiled form ([`rule_hash`]): restoring with a changed rule set restores the
//! rules that are unchanged, starts the new or changed ones empty and drops the state of
//! removed ones; [`RestoreReport`] says which.
//!
//! This module is a child of `engine` (declared there) only to reach the engine's private
//! fields; the state types themselves carry serde derives, and the types whose text or
//! shape is not serde-friendly (values with `'static` keywords, records over shared read
//! buffers, parser events) are encoded here.

use super::{Engine, EngineStats};
use crate::record::{EvidenceRef, RawLine, Record};
use crate::rules::compact::LongDistinct;
use crate::rules::field::Value;
use crate::rules::first_seen::FirstSeenState;
use crate::rules::join::JoinState;
use crate::rules::sequence::SequenceState;
use crate::rules::time::nanos;
use crate::rules::trw::TrwState;
use crate::rules::window::Windows;
use crate::rules::Rule;
use chrono::{DateTime, Utc};
use compact_str::CompactString;
use portcullis_parsers::{Action, Dataset, Event, Outcome, TcpFlags, Transport};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::VecDeque;
use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Tag at the start of every snapshot.
const MAGIC: &[u8; 4] = b"PCSN";
/// Layout version: bump it whenever a serialized state type changes, so an old snapshot is
/// refused (and the engine starts empty, saying why) instead of misread. Also bumped when a
/// stored value changes meaning: version 3 digests evidence lines eight bytes at a time.
pub const SNAPSHOT_VERSION: u16 = 3;

/// Why a snapshot cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes do not start with the snapshot tag.
    #[error("not a portcullis snapshot")]
    NotASnapshot,
    /// Written by a build with another layout.
    #[error("snapshot layout version {found}, this build reads version {SNAPSHOT_VERSION}")]
    Version {
        /// The version found.
        found: u16,
    },
    /// The body does not decode.
    #[error("snapshot is corrupt: {0}")]
    Corrupt(#[from] postcard::Error),
}

/// What a restore did with each rule.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Rules whose state was restored.
    pub restored: Vec<String>,
    /// Rules that start empty: new, or changed since the snapshot.
    pub fresh: Vec<String>,
    /// Rules in the snapshot that are no longer loaded: their state was dropped.
    pub dropped: Vec<String>,
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "restored={}", self.restored.len())?;
        if !self.fresh.is_empty() {
            write!(f, " started_empty={}", self.fresh.join(","))?;
        }
        if !self.dropped.is_empty() {
            write!(f, " dropped={}", self.dropped.join(","))?;
        }
        Ok(())
    }
}

/// A stable hash of a rule's compiled form (everything but its file and the allowlist from
/// the configuration, which filters input but does not change what state means): FNV-1a
/// over its debug rendering, which is the same in every run.
pub fn rule_hash(rule: &Rule) -> u64 {
    let text = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        rule.name,
        rule.title,
        rule.severity,
        rule.filter,
        rule.shape,
        rule.within,
        rule.by,
        rule.quiet,
        rule.until,
        rule.learn
    );
    crate::rules::field::stable_hash(&[Value::Text(text.into())])
}

/// One rule's state to encode; `L` is its long-window state, borrowed from the engine or
/// given up by a frozen copy shard by shard ([`LongDistinct::into_draining`]).
#[derive(Serialize)]
struct RuleOut<'a, L> {
    name: &'a str,
    hash: u64,
    windows: &'a Windows,
    join: &'a JoinState,
    sequence: &'a SequenceState,
    long: L,
    trw: &'a TrwState,
    first_seen: &'a FirstSeenState,
}

/// One rule's state: read from a snapshot, or copied out of the engine ([`Engine::freeze`]).
#[derive(Clone, Deserialize)]
struct RuleIn {
    name: String,
    hash: u64,
    windows: Windows,
    join: JoinState,
    sequence: SequenceState,
    long: LongDistinct,
    trw: TrwState,
    first_seen: FirstSeenState,
}

#[derive(Serialize)]
struct StateOut<'a, L> {
    buffer: Vec<&'a Arc<Record>>,
    max_seen: Option<DateTime<Utc>>,
    released: Option<DateTime<Utc>>,
    stats: EngineStats,
    rules: Vec<RuleOut<'a, L>>,
}

#[derive(Deserialize)]
struct StateIn {
    buffer: VecDeque<Arc<Record>>,
    max_seen: Option<DateTime<Utc>>,
    released: Option<DateTime<Utc>>,
    stats: EngineStats,
    rules: Vec<RuleIn>,
}

/// A copy of the engine's correlation state at one moment, to encode on another thread
/// while the engine goes on ([`Engine::freeze`]). Records and evidence lines are shared
/// with the engine (reference counted), and so are the long-window groups (the bulk of a
/// large state) until the engine writes them, so the copy costs the short-window maps and
/// lists, not the text nor the slow-scan groups.
pub struct Frozen {
    buffer: Vec<Arc<Record>>,
    max_seen: Option<DateTime<Utc>>,
    released: Option<DateTime<Utc>>,
    stats: EngineStats,
    rules: Vec<RuleIn>,
}

impl Frozen {
    /// The snapshot bytes, the same as [`Engine::snapshot`] gave at the moment of the copy.
    pub fn encode(self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing into memory cannot fail.
        self.encode_into(&mut out)
            .expect("engine state always encodes");
        out
    }

    /// Writes the snapshot bytes to `w` as they are made, letting go of the long-window
    /// groups as they are written (the engine then writes them without copying them).
    pub fn encode_into<W: std::io::Write>(self, w: &mut W) -> std::io::Result<()> {
        let mut rules = Vec::with_capacity(self.rules.len());
        let mut longs = Vec::with_capacity(self.rules.len());
        for mut r in self.rules {
            longs.push(std::mem::take(&mut r.long).into_draining());
            rules.push(r);
        }
        encode_into(
            &StateOut {
                buffer: self.buffer.iter().collect(),
                max_seen: self.max_seen,
                released: self.released,
                stats: self.stats,
                rules: rules
                    .iter()
                    .zip(longs)
                    .map(|(r, long)| RuleOut {
                        name: &r.name,
                        hash: r.hash,
                        windows: &r.windows,
                        join: &r.join,
                        sequence: &r.sequence,
                        long,
                        trw: &r.trw,
                        first_seen: &r.first_seen,
                    })
                    .collect(),
            },
            w,
        )
    }
}

/// Bytes gathered before a write to the snapshot's writer: postcard writes a byte at a time,
/// which a buffer makes a memory copy; 64 KiB is a small slice of a 4 MiB staged chunk.
const ENCODE_BUFFER: usize = 64 << 10;

/// Tag, version and the state in postcard, written to `w`.
fn encode_into<L: Serialize, W: std::io::Write>(
    state: &StateOut<'_, L>,
    w: &mut W,
) -> std::io::Result<()> {
    w.write_all(MAGIC)?;
    w.write_all(&SNAPSHOT_VERSION.to_le_bytes())?;
    // Every sequence here has a known length and no type fails to encode itself, so the
    // only failure is the writer's (postcard reports it without its cause: a writer that
    // can fail keeps the cause itself, see `store::snapshots::Stager`).
    let mut buffered = std::io::BufWriter::with_capacity(ENCODE_BUFFER, w);
    postcard::to_io(state, &mut buffered).map_err(std::io::Error::other)?;
    buffered.flush()
}

impl Engine {
    /// The whole correlation state as bytes (see the module docs for the layout).
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let state = StateOut {
            buffer: self.buffer.iter().map(|(_, r)| r).collect(),
            max_seen: self.max_seen.map(DateTime::from_timestamp_nanos),
            released: self.released.map(DateTime::from_timestamp_nanos),
            stats: self.stats,
            rules: self
                .rules
                .iter()
                .map(|r| RuleOut {
                    name: &r.rule.name,
                    hash: rule_hash(&r.rule),
                    windows: &r.windows,
                    join: &r.join,
                    sequence: &r.sequence,
                    long: &r.long,
                    trw: &r.trw,
                    first_seen: &r.first_seen,
                })
                .collect(),
        };
        // Writing into memory cannot fail.
        encode_into(&state, &mut out).expect("engine state always encodes");
        out
    }

    /// A copy of the correlation state to encode elsewhere: [`Frozen::encode`] gives the
    /// bytes [`Engine::snapshot`] gives now. The long-window groups are shared, not copied
    /// (at a million slow-scan sources: milliseconds instead of 0.8 s and 281 MiB, see
    /// `benches/snapshot_pause.rs`), so the daemon's loop barely pauses.
    pub fn freeze(&self) -> Frozen {
        Frozen {
            buffer: self.buffer.iter().map(|(_, r)| Arc::clone(r)).collect(),
            max_seen: self.max_seen.map(DateTime::from_timestamp_nanos),
            released: self.released.map(DateTime::from_timestamp_nanos),
            stats: self.stats,
            rules: self
                .rules
                .iter()
                .map(|r| RuleIn {
                    name: r.rule.name.clone(),
                    hash: rule_hash(&r.rule),
                    windows: r.windows.clone(),
                    join: r.join.clone(),
                    sequence: r.sequence.clone(),
                    long: r.long.clone(),
                    trw: r.trw.clone(),
                    first_seen: r.first_seen.clone(),
                })
                .collect(),
        }
    }

    /// An engine for `rules` continuing from `bytes` (made by [`Engine::snapshot`]). Rules
    /// that match the snapshot by name and [`rule_hash`] get their state back; the others
    /// start empty; the report says which.
    pub fn restore(
        rules: Vec<Rule>,
        lateness: Duration,
        bytes: &[u8],
    ) -> Result<(Engine, RestoreReport), SnapshotError> {
        let body = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(SnapshotError::NotASnapshot)?;
        let (version, body) = body
            .split_first_chunk::<2>()
            .ok_or(SnapshotError::NotASnapshot)?;
        let found = u16::from_le_bytes(*version);
        if found != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version { found });
        }
        let state: StateIn = postcard::from_bytes(body)?;
        let mut engine = Engine::new(rules, lateness);
        engine.buffer = state
            .buffer
            .into_iter()
            .map(|r| (nanos(r.event.timestamp), r))
            .collect();
        engine.max_seen = state.max_seen.map(nanos);
        engine.released = state.released.map(nanos);
        engine.stats = state.stats;
        let mut saved = state.rules;
        let mut report = RestoreReport::default();
        for r in &mut engine.rules {
            let hash = rule_hash(&r.rule);
            let found = saved
                .iter()
                .position(|s| s.name == r.rule.name && s.hash == hash);
            let Some(i) = found else {
                report.fresh.push(r.rule.name.clone());
                continue;
            };
            let s = saved.swap_remove(i);
            r.windows = s.windows;
            r.join = s.join;
            if let crate::rules::Shape::Join { keys, .. } = &r.rule.shape {
                r.join.reindex(keys);
            }
            r.sequence = s.sequence;
            r.long = s.long;
            r.trw = s.trw;
            r.first_seen = s.first_seen;
            report.restored.push(s.name);
        }
        report.dropped = saved
            .into_iter()
            .map(|s| s.name)
            .filter(|n| !report.fresh.contains(n))
            .collect();
        report.dropped.sort();
        Ok((engine, report))
    }
}

/// The keyword a snapshot names, as the `'static` string the engine compares by.
fn keyword(name: &str) -> Option<&'static str> {
    const TRANSPORTS: &[&str] = &["tcp", "udp", "icmp", "ipv6-icmp"];
    Dataset::ALL
        .iter()
        .map(|d| d.as_str())
        .chain(Action::ALL.iter().map(|a| a.as_str()))
        .chain(Outcome::ALL.iter().map(|o| o.as_str()))
        .chain(TRANSPORTS.iter().copied())
        .find(|k| *k == name)
}

#[derive(Serialize)]
enum ValueOut<'a> {
    Missing,
    Keyword(&'a str),
    Ip(IpAddr),
    Number(u64),
    Text(&'a str),
    Bool(bool),
}

#[derive(Deserialize)]
enum ValueIn {
    Missing,
    Keyword(String),
    Ip(IpAddr),
    Number(u64),
    Text(CompactString),
    Bool(bool),
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Missing => ValueOut::Missing,
            Value::Keyword(k) => ValueOut::Keyword(k),
            Value::Ip(ip) => ValueOut::Ip(*ip),
            Value::Number(n) => ValueOut::Number(*n),
            Value::Text(t) => ValueOut::Text(t),
            Value::Bool(b) => ValueOut::Bool(*b),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        Ok(match ValueIn::deserialize(d)? {
            ValueIn::Missing => Value::Missing,
            ValueIn::Keyword(k) => Value::Keyword(
                keyword(&k).ok_or_else(|| D::Error::custom(format!("unknown keyword {k:?}")))?,
            ),
            ValueIn::Ip(ip) => Value::Ip(ip),
            ValueIn::Number(n) => Value::Number(n),
            ValueIn::Text(t) => Value::Text(t),
            ValueIn::Bool(b) => Value::Bool(b),
        })
    }
}

/// A time as whole seconds and nanoseconds: exact, and a third of its RFC 3339 text.
fn split_time(t: DateTime<Utc>) -> (i64, u32) {
    (t.timestamp(), t.timestamp_subsec_nanos())
}

fn join_time<E: serde::de::Error>((secs, nanos): (i64, u32)) -> Result<DateTime<Utc>, E> {
    DateTime::from_timestamp(secs, nanos).ok_or_else(|| E::custom("time out of range"))
}

/// An event as stored: enums by their index in their `ALL` list.
#[derive(Serialize, Deserialize)]
struct EventRepr {
    at: (i64, u32),
    dataset: u8,
    action: u8,
    outcome: u8,
    source_ip: Option<IpAddr>,
    source_port: Option<u16>,
    destination_ip: Option<IpAddr>,
    destination_port: Option<u16>,
    transport: Option<u8>,
    bytes: Option<u64>,
    packets: Option<u64>,
    tcp_flags: Option<u8>,
    user_name: Option<CompactString>,
    ftp_anonymous: bool,
    file_path: Option<String>,
    file_size: Option<u64>,
    host_name: Option<CompactString>,
    observer_ip: Option<IpAddr>,
    process_pid: Option<u32>,
    rule_name: Option<CompactString>,
    interface_in: Option<CompactString>,
    interface_out: Option<CompactString>,
    end: Option<(i64, u32)>,
    duration_ns: Option<u64>,
    source: u32,
    offset: u64,
}

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

fn nth<T: Copy, E: serde::de::Error>(all: &[T], i: u8, what: &str) -> Result<T, E> {
    all.get(usize::from(i))
        .copied()
        .ok_or_else(|| E::custom(format!("unknown {what} {i}")))
}

impl EventRepr {
    fn of(e: &Event) -> EventRepr {
        EventRepr {
            at: split_time(e.timestamp),
            dataset: index_of(Dataset::ALL, &e.dataset),
            action: index_of(Action::ALL, &e.action),
            outcome: index_of(Outcome::ALL, &e.outcome),
            source_ip: e.source_ip,
            source_port: e.source_port,
            destination_ip: e.destination_ip,
            destination_port: e.destination_port,
            transport: e.transport.map(Transport::number),
            bytes: e.bytes,
            packets: e.packets,
            tcp_flags: e.tcp_flags.map(|f| f.0),
            user_name: e.user_name.clone(),
            ftp_anonymous: e.ftp_anonymous,
            file_path: e.file_path.clone(),
            file_size: e.file_size,
            host_name: e.host_name.clone(),
            observer_ip: e.observer_ip,
            process_pid: e.process_pid,
            rule_name: e.rule_name.clone(),
            interface_in: e.interface_in.clone(),
            interface_out: e.interface_out.clone(),
            end: e.end.map(split_time),
            duration_ns: e.duration_ns,
            source: e.origin.source,
            offset: e.origin.offset,
        }
    }

    fn into_event<E: serde::de::Error>(self) -> Result<Event, E> {
        let mut e = Event::new(
            join_time(self.at)?,
            nth(Dataset::ALL, self.dataset, "dataset")?,
            nth(Action::ALL, self.action, "action")?,
        );
        e.outcome = nth(Outcome::ALL, self.outcome, "outcome")?;
        e.source_ip = self.source_ip;
        e.source_port = self.source_port;
        e.destination_ip = self.destination_ip;
        e.destination_port = self.destination_port;
        e.transport = self.transport.map(Transport::from_number);
        e.bytes = self.bytes;
        e.packets = self.packets;
        e.tcp_flags = self.tcp_flags.map(TcpFlags);
        e.user_name = self.user_name;
        e.ftp_anonymous = self.ftp_anonymous;
        e.file_path = self.file_path;
        e.file_size = self.file_size;
        e.host_name = self.host_name;
        e.observer_ip = self.observer_ip;
        e.process_pid = self.process_pid;
        e.rule_name = self.rule_name;
        e.interface_in = self.interface_in;
        e.interface_out = self.interface_out;
        e.end = self.end.map(join_time).transpose()?;
        e.duration_ns = self.duration_ns;
        e.origin.source = self.source;
        e.origin.offset = self.offset;
        Ok(e)
    }
}

/// A line's bytes, owned again after a restore.
fn owned_line(bytes: Vec<u8>) -> RawLine {
    let chunk: Arc<[u8]> = Arc::from(bytes);
    let end = chunk.len();
    RawLine::new(chunk, 0, end)
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (EventRepr::of(&self.event), self.raw.as_bytes()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Record, D::Error> {
        let (event, raw) = <(EventRepr, Vec<u8>)>::deserialize(d)?;
        Ok(Record {
            event: event.into_event()?,
            raw: owned_line(raw),
        })
    }
}

impl Serialize for EvidenceRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let at = split_time(self.timestamp);
        (at, self.source, self.offset, self.raw.as_bytes()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for EvidenceRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EvidenceRef, D::Error> {
        let (at, source, offset, raw) = <((i64, u32), u32, u64, Vec<u8>)>::deserialize(d)?;
        Ok(EvidenceRef {
            timestamp: join_time(at)?,
            source,
            offset,
            raw: owned_line(raw),
        })
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
