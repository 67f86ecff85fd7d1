//! What the daemon snapshots with a commit: the engine's state, the records still waiting
//! in the merge (they are past the committed read positions, so a restart does not read
//! them again) and the source numbering the state's evidence places refer to.
//!
//! Layout: postcard of (version, source names, merge records), then the engine's own
//! snapshot bytes (which carry their own tag and version).

use super::merge::LiveMerge;
use crate::record::Record;
use crate::rules::engine::snapshot::{Frozen, SnapshotError};
use crate::rules::engine::Engine;
use crate::rules::Rule;
use std::time::{Duration, Instant};

/// Layout version of the daemon's part; the engine's part is versioned by itself.
const SAVED_VERSION: u16 = 1;

/// The daemon's part: layout version, source names, merge records.
type Head = (u16, Vec<String>, Vec<Record>);

/// A restored daemon state.
pub struct Restored {
    /// The engine, with the snapshot's state for every unchanged rule.
    pub engine: Engine,
    /// Source names by index, as the snapshot numbered them.
    pub names: Vec<String>,
    /// What the restore did, for the log.
    pub report: String,
}

/// Encodes the daemon's state: source names, the records held in the merge, the engine's
/// state (frozen at the same moment).
pub fn encode(names: &[String], held: &[Record], engine: &Frozen) -> Vec<u8> {
    // In-memory encoding of strings and records cannot fail.
    let mut out =
        postcard::to_stdvec(&(SAVED_VERSION, names, held)).expect("daemon state always encodes");
    out.extend_from_slice(&engine.encode());
    out
}

/// Decodes `bytes` into an engine for `rules` and refills `merge` with the records it held.
/// `listeners` are the current listeners' names: the snapshot's numbering is kept only when
/// it starts with them.
pub fn decode(
    bytes: &[u8],
    rules: Vec<Rule>,
    lateness: Duration,
    listeners: &[String],
    merge: &mut LiveMerge,
) -> Result<Restored, SnapshotError> {
    let ((version, names, held), rest) = postcard::take_from_bytes::<Head>(bytes)?;
    if version != SAVED_VERSION {
        return Err(SnapshotError::Version { found: version });
    }
    let (engine, report) = Engine::restore(rules, lateness, rest)?;
    let mut report = format!("{report} held={}", held.len());
    let names = if names.starts_with(listeners) {
        names
    } else {
        report.push_str(" (listeners changed: evidence of restored state may name other sources)");
        listeners.to_vec()
    };
    let now = Instant::now();
    for r in held {
        merge.add(r.event.origin.source, vec![r], now);
    }
    Ok(Restored {
        engine,
        names,
        report,
    })
}
