//! Snapshots of correlation state, written apart from the checkpoint. The daemon's snapshot
//! thread stages one in chunks as it encodes it ([`Stager`]), each chunk its own short
//! transaction, while the daemon goes
//! on committing; the daemon's next commit then makes it the one in force, in the same
//! transaction as the rewind offsets it belongs to. A staged generation never made current
//! (a crash in between) is deleted by the next staging, like the generation it replaced.

use super::{db_time, Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use std::io::Write;

/// Bytes of one chunk, written in one transaction: a few milliseconds of writing, which is
/// the longest a daemon commit waits for the lock; a 130 MiB snapshot takes 33 of them.
pub const CHUNK_BYTES: usize = 4 << 20;

/// A snapshot written to the database but not yet in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    /// Its generation number.
    pub gen: i64,
    /// When the state it holds was taken.
    pub taken_at: DateTime<Utc>,
}

impl Store {
    /// Deletes every generation not in force (a chunk per transaction), then writes `state`
    /// as the next generation, chunk by chunk. Nothing changes what a restart reads until
    /// a commit names the generation ([`Store::commit_checkpoint`]).
    pub fn stage_snapshot(
        &mut self,
        state: &[u8],
        taken_at: DateTime<Utc>,
    ) -> Result<Staged, StoreError> {
        let mut stager = self.stager(taken_at)?;
        let written = stager.write_all(state);
        stager.finish(written)
    }

    /// Deletes every generation not in force (a chunk per transaction) and returns a writer
    /// that stages the next generation as its bytes come, a chunk per transaction, so a
    /// snapshot is never whole in memory ([`Stager::finish`] ends it).
    pub fn stager(&mut self, taken_at: DateTime<Utc>) -> Result<Stager<'_>, StoreError> {
        loop {
            let tx = self.write_tx()?;
            let gone = tx.execute(
                "DELETE FROM snapshot_chunks WHERE rowid IN (
                     SELECT rowid FROM snapshot_chunks
                     WHERE gen IS NOT (SELECT gen FROM snapshot_current) LIMIT 1)",
                [],
            )?;
            tx.commit()?;
            if gone == 0 {
                break;
            }
        }
        let gen: i64 = self.conn().query_row(
            "SELECT coalesce((SELECT gen FROM snapshot_current), 0) + 1",
            [],
            |r| r.get(0),
        )?;
        Ok(Stager {
            store: self,
            staged: Staged { gen, taken_at },
            seq: 0,
            chunk: Vec::with_capacity(CHUNK_BYTES),
            bytes: 0,
            failed: None,
        })
    }

    /// The snapshot in force and when it was taken (RFC 3339), if any.
    pub fn load_snapshot(&mut self) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let tx = self.conn().transaction()?;
        let current: Option<(i64, String)> = tx
            .query_row(
                "SELECT gen, taken_at FROM snapshot_current WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((gen, taken_at)) = current else {
            return Ok(None);
        };
        let mut state = Vec::new();
        {
            let mut stmt =
                tx.prepare("SELECT data FROM snapshot_chunks WHERE gen = ?1 ORDER BY seq")?;
            let mut rows = stmt.query([gen])?;
            while let Some(row) = rows.next()? {
                let part: Vec<u8> = row.get(0)?;
                state.extend_from_slice(&part);
            }
        }
        Ok(Some((state, taken_at)))
    }
}

/// Stages a snapshot generation as its bytes are written ([`Store::stager`]): every
/// [`CHUNK_BYTES`] go into the database in a transaction of their own.
pub struct Stager<'s> {
    store: &'s mut Store,
    staged: Staged,
    seq: i64,
    chunk: Vec<u8>,
    bytes: u64,
    /// The database error behind a failed write (an `io::Error` cannot carry it).
    failed: Option<StoreError>,
}

impl Stager<'_> {
    /// Writes the chunk gathered so far.
    fn put_chunk(&mut self) -> Result<(), StoreError> {
        let tx = self.store.write_tx()?;
        tx.execute(
            "INSERT INTO snapshot_chunks (gen, seq, data) VALUES (?1, ?2, ?3)",
            params![self.staged.gen, self.seq, self.chunk],
        )?;
        tx.commit()?;
        self.seq += 1;
        self.chunk.clear();
        Ok(())
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Ends the generation after the writer's last `written` result: writes the last chunk
    /// (one empty chunk for an empty snapshot) and returns the staged generation, or the
    /// error that stopped the writing.
    pub fn finish(mut self, written: std::io::Result<()>) -> Result<Staged, StoreError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        written.map_err(|e| StoreError::Write(e.to_string()))?;
        if !self.chunk.is_empty() || self.seq == 0 {
            self.put_chunk()?;
        }
        Ok(self.staged)
    }
}

impl Write for Stager<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.failed.is_some() {
            return Err(std::io::Error::other("snapshot staging failed"));
        }
        let n = data.len().min(CHUNK_BYTES - self.chunk.len());
        self.chunk.extend_from_slice(&data[..n]);
        self.bytes += n as u64;
        if self.chunk.len() == CHUNK_BYTES {
            if let Err(e) = self.put_chunk() {
                self.failed = Some(e);
                return Err(std::io::Error::other("snapshot staging failed"));
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Makes `s` the snapshot in force, inside the caller's transaction.
pub(super) fn make_current(tx: &Transaction<'_>, s: &Staged) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR REPLACE INTO snapshot_current (id, gen, taken_at) VALUES (1, ?1, ?2)",
        params![s.gen, db_time(s.taken_at)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk_rows(store: &mut Store) -> Vec<(i64, i64)> {
        let mut stmt = store
            .conn()
            .prepare("SELECT gen, seq FROM snapshot_chunks ORDER BY gen, seq")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn a_staged_snapshot_is_in_force_only_once_a_commit_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        assert_eq!(store.load_snapshot().unwrap(), None);
        let t = DateTime::from_timestamp(1_772_438_400, 5_000).unwrap();
        let one = store.stage_snapshot(b"one", t).unwrap();
        assert_eq!(store.load_snapshot().unwrap(), None);
        store
            .commit_checkpoint(&[], &[], &[], &[], Some(&one))
            .unwrap();
        assert_eq!(
            store.load_snapshot().unwrap(),
            Some((b"one".to_vec(), "2026-03-02T08:00:00.000005Z".into()))
        );
        // Larger than a chunk: three chunks; staged, then "crashed" before its commit.
        let big: Vec<u8> = (0..2 * CHUNK_BYTES + 7).map(|i| (i % 251) as u8).collect();
        let two = store.stage_snapshot(&big, t).unwrap();
        assert_eq!(two.gen, 2);
        assert_eq!(chunk_rows(&mut store), [(1, 0), (2, 0), (2, 1), (2, 2)]);
        store.commit_checkpoint(&[], &[], &[], &[], None).unwrap();
        assert_eq!(store.load_snapshot().unwrap().unwrap().0, b"one");
        // The next staging deletes the orphan, keeps the one in force until its commit.
        let three = store.stage_snapshot(&big, t).unwrap();
        assert_eq!(chunk_rows(&mut store), [(1, 0), (2, 0), (2, 1), (2, 2)]);
        store
            .commit_checkpoint(&[], &[], &[], &[], Some(&three))
            .unwrap();
        assert_eq!(store.load_snapshot().unwrap().unwrap().0, big);
        let empty = store.stage_snapshot(b"", t).unwrap();
        assert_eq!(chunk_rows(&mut store), [(2, 0), (2, 1), (2, 2), (3, 0)]);
        store
            .commit_checkpoint(&[], &[], &[], &[], Some(&empty))
            .unwrap();
        assert_eq!(store.load_snapshot().unwrap().unwrap().0, b"");
    }
}
