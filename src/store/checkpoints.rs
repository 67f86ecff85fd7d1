//! The daemon's checkpoints (where each followed file was read to, and where a restart
//! re-reads from) and its live counters, which `portcullis stats` reads.
//!
//! Both tables are rewritten whole by every commit, in one transaction: a checkpoint is a
//! consistent picture of all files at one moment, never a mix of two commits.

use super::{db_time, Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::params;
use std::path::PathBuf;

/// Where one file stands in a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    /// The configured path or pattern the file was found by.
    pub source: String,
    /// The followed path.
    pub path: PathBuf,
    /// Device of the file.
    pub dev: u64,
    /// Inode of the file.
    pub inode: u64,
    /// Fingerprint of the file's head over `min(256, offset)` bytes.
    pub fingerprint: u64,
    /// Everything before this offset was read (a line boundary).
    pub offset: u64,
    /// A restart re-reads from here (a line boundary, at most `offset`).
    pub rewind_offset: u64,
    /// Where the oldest record the file's parser held open at `rewind_offset` began (a
    /// FileZilla session's first line): a restart parses from here, dropping the events
    /// before `rewind_offset`, to rebuild it. `None`: nothing was open.
    pub parse_from: Option<u64>,
    /// Events older than this are not correlated again when re-read.
    pub rewind_time: DateTime<Utc>,
    /// When the checkpoint was committed (RFC 3339, as stored).
    pub committed_at: String,
}

/// One live counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// Counter name (`lines`, `events`, `late`, ...).
    pub name: String,
    /// File path, or empty for daemon-wide counters.
    pub source: String,
    /// The value.
    pub value: i64,
    /// When it was written (RFC 3339, as stored; empty when writing).
    pub updated_at: String,
}

impl Counter {
    /// A counter to write.
    pub fn new(name: &str, source: &str, value: i64) -> Counter {
        Counter {
            name: name.to_string(),
            source: source.to_string(),
            value,
            updated_at: String::new(),
        }
    }
}

/// Reads column `idx` as an RFC 3339 time.
fn parse_time(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = r.get(idx)?;
    DateTime::parse_from_rfc3339(&text)
        .map(Into::into)
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
        })
}

impl Store {
    /// The last committed checkpoint (empty when the daemon never committed).
    pub fn load_checkpoint(&mut self) -> Result<Vec<CheckpointRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT source, path, dev, inode, fingerprint, offset, rewind_offset, rewind_time,
                    committed_at, parse_from
             FROM checkpoints ORDER BY source, path, rewind_offset",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CheckpointRow {
                source: r.get(0)?,
                path: PathBuf::from(r.get::<_, String>(1)?),
                dev: r.get::<_, i64>(2)? as u64,
                inode: r.get::<_, i64>(3)? as u64,
                fingerprint: r.get::<_, i64>(4)? as u64,
                offset: r.get::<_, i64>(5)? as u64,
                rewind_offset: r.get::<_, i64>(6)? as u64,
                rewind_time: parse_time(r, 7)?,
                committed_at: r.get(8)?,
                parse_from: r.get::<_, Option<i64>>(9)?.map(|v| v as u64),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces the checkpoint and the counters, in one transaction.
    pub fn write_checkpoint(
        &mut self,
        rows: &[CheckpointRow],
        counters: &[Counter],
    ) -> Result<(), StoreError> {
        self.commit_checkpoint(&[], &[], rows, counters, None)
    }

    /// Writes incident snapshots, the checkpoint, the counters and (when given) makes a
    /// staged snapshot of correlation state the one in force, in one transaction: the read
    /// positions committed are exactly those the stored incidents were derived from, and
    /// the rewind offsets those the snapshot in force was taken at.
    pub fn commit_checkpoint(
        &mut self,
        incidents: &[crate::incident::Incident],
        sources: &[String],
        rows: &[CheckpointRow],
        counters: &[Counter],
        snapshot: Option<&super::snapshots::Staged>,
    ) -> Result<(), StoreError> {
        let now = db_time(Utc::now());
        let outbox = self.outbox;
        let tx = self.write_tx()?;
        let changes = super::incidents::upsert_incidents(&tx, incidents, sources)?;
        if let Some(policy) = outbox {
            super::outbox::enqueue(&tx, incidents, &changes, &policy)?;
        }
        if let Some(s) = snapshot {
            super::snapshots::make_current(&tx, s)?;
        }
        tx.execute("DELETE FROM checkpoints", [])?;
        tx.execute("DELETE FROM counters", [])?;
        {
            let mut add = tx.prepare_cached(
                "INSERT OR REPLACE INTO checkpoints (source, path, dev, inode, fingerprint, offset,
                                                     rewind_offset, rewind_time, committed_at,
                                                     parse_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for r in rows {
                add.execute(params![
                    r.source,
                    r.path.to_string_lossy(),
                    r.dev as i64,
                    r.inode as i64,
                    r.fingerprint as i64,
                    r.offset as i64,
                    r.rewind_offset as i64,
                    db_time(r.rewind_time),
                    now,
                    r.parse_from.map(|v| v as i64),
                ])?;
            }
            let mut set = tx.prepare_cached(
                "INSERT OR REPLACE INTO counters (name, source, value, updated_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for c in counters {
                set.execute(params![c.name, c.source, c.value, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every counter the daemon wrote at its last commit (empty if none ever did).
    pub fn counters(&mut self) -> Result<Vec<Counter>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT name, source, value, updated_at FROM counters ORDER BY source, name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Counter {
                name: r.get(0)?,
                source: r.get(1)?,
                value: r.get(2)?,
                updated_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Incidents stored, and how many of them are open.
    pub fn incident_totals(&mut self) -> Result<(u64, u64), StoreError> {
        let (total, open): (i64, Option<i64>) =
            self.conn()
                .query_row("SELECT count(*), sum(open) FROM incidents", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        Ok((total as u64, open.unwrap_or(0) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(source: &str, inode: u64, offset: u64) -> CheckpointRow {
        CheckpointRow {
            source: source.into(),
            path: PathBuf::from("/var/log/x.log"),
            dev: 7,
            inode,
            fingerprint: u64::MAX - 3,
            offset,
            rewind_offset: offset / 2,
            parse_from: Some(offset / 4),
            rewind_time: DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
                .unwrap()
                .into(),
            committed_at: String::new(),
        }
    }

    #[test]
    fn checkpoints_and_counters_round_trip_and_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        assert!(store.load_checkpoint().unwrap().is_empty());
        store
            .write_checkpoint(
                &[row("a", 1, 100), row("a", 2, 50)],
                &[Counter::new("lines", "/var/log/x.log", 12)],
            )
            .unwrap();
        let got = store.load_checkpoint().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].fingerprint, u64::MAX - 3);
        assert_eq!(got[0].rewind_time, row("a", 1, 1).rewind_time);
        assert!(!got[0].committed_at.is_empty());
        store
            .write_checkpoint(&[row("a", 2, 80)], &[Counter::new("late", "", 3)])
            .unwrap();
        let got = store.load_checkpoint().unwrap();
        assert_eq!((got.len(), got[0].inode, got[0].offset), (1, 2, 80));
        let counters = store.counters().unwrap();
        assert_eq!(counters.len(), 1);
        assert_eq!((counters[0].name.as_str(), counters[0].value), ("late", 3));
        assert_eq!(store.incident_totals().unwrap(), (0, 0));
    }
}
