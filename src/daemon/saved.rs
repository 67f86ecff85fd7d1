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

/// Writes the daemon's state to `w` as it is encoded: source names, the records held in
/// the merge, the engine's state (frozen at the same moment).
pub fn encode_into<W: std::io::Write>(
    names: &[String],
    held: &[Record],
    engine: Frozen,
    w: &mut W,
) -> std::io::Result<()> {
    postcard::to_io(&(SAVED_VERSION, names, held), &mut *w).map_err(std::io::Error::other)?;
    engine.encode_into(w)
}

/// The source names of a snapshot (`None` if it is not one this build reads).
pub fn names(bytes: &[u8]) -> Option<Vec<String>> {
    let ((version, names), _) = postcard::take_from_bytes::<(u16, Vec<String>)>(bytes).ok()?;
    (version == SAVED_VERSION).then_some(names)
}

/// Source numbering for a start: the `previous` snapshot's names, with each of `listeners`
/// (names) that is not among them appended. Returns the names and each listener's number:
/// a listener keeps its number across restarts whatever the configuration's order, and a
/// removed one's number is not reused (evidence in the restored state still names it).
pub fn number_sources(previous: Vec<String>, listeners: &[String]) -> (Vec<String>, Vec<u32>) {
    let mut names = previous;
    let sources = listeners
        .iter()
        .map(|l| {
            let i = names.iter().position(|n| n == l).unwrap_or_else(|| {
                names.push(l.clone());
                names.len() - 1
            });
            i as u32
        })
        .collect();
    (names, sources)
}

/// Decodes `bytes` into an engine for `rules` and refills `merge` with the records it held.
/// `base` is the numbering the session starts with ([`number_sources`]): the snapshot's is
/// kept when one extends the other (a reload's snapshot has files found since).
pub fn decode(
    bytes: &[u8],
    rules: Vec<Rule>,
    lateness: Duration,
    base: &[String],
    merge: &mut LiveMerge,
) -> Result<Restored, SnapshotError> {
    let ((version, names, held), rest) = postcard::take_from_bytes::<Head>(bytes)?;
    if version != SAVED_VERSION {
        return Err(SnapshotError::Version { found: version });
    }
    let (engine, report) = Engine::restore(rules, lateness, rest)?;
    let mut report = format!("{report} held={}", held.len());
    let names = if names.starts_with(base) {
        names
    } else if base.starts_with(&names) {
        base.to_vec()
    } else {
        report.push_str(" (sources renumbered: evidence of restored state may name other sources)");
        base.to_vec()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn v(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn listeners_keep_their_numbers_and_new_ones_come_last() {
        let previous = v(&["syslog+udp://a", "/l/x.log", "syslog+tcp://b"]);
        let (names, sources) =
            number_sources(previous.clone(), &v(&["netflow+udp://c", "syslog+udp://a"]));
        assert_eq!(
            names,
            v(&[
                "syslog+udp://a",
                "/l/x.log",
                "syslog+tcp://b",
                "netflow+udp://c"
            ])
        );
        assert_eq!(sources, [3, 0]);
        let (names, sources) = number_sources(Vec::new(), &v(&["syslog+udp://a"]));
        assert_eq!((names, sources), (v(&["syslog+udp://a"]), vec![0]));
    }

    #[test]
    fn names_are_read_from_the_head_of_a_snapshot() {
        let frozen = Engine::new(Vec::new(), Duration::from_secs(5)).freeze();
        let mut bytes = Vec::new();
        encode_into(&v(&["syslog+udp://a", "/l/x.log"]), &[], frozen, &mut bytes).unwrap();
        assert_eq!(names(&bytes), Some(v(&["syslog+udp://a", "/l/x.log"])));
        assert_eq!(names(b"\x07"), None);
    }
}
