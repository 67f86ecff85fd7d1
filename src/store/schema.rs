//! Database schema and its migrations. The version lives in SQLite's `user_version`; each
//! migration moves it up by one inside a transaction, so a database is always at one version.

use rusqlite::Connection;

/// Migrations in order; entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: incidents and their evidence; replay/run summaries per source.
    "CREATE TABLE incidents (
        id             TEXT PRIMARY KEY,
        rule           TEXT NOT NULL,
        severity       TEXT NOT NULL,
        title          TEXT NOT NULL,
        group_key      TEXT NOT NULL,        -- JSON object: field name -> value
        first_seen     TEXT NOT NULL,        -- RFC 3339 UTC, microseconds: sorts as text
        last_seen      TEXT NOT NULL,
        count          INTEGER NOT NULL,
        distinct_count INTEGER,
        open           INTEGER NOT NULL,
        updated_at     TEXT NOT NULL
    );
    CREATE INDEX incidents_by_rule ON incidents (rule, first_seen);
    CREATE INDEX incidents_by_last_seen ON incidents (last_seen);
    CREATE TABLE evidence (
        incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,         -- order within the incident's kept evidence
        ts          TEXT NOT NULL,
        source      TEXT NOT NULL,            -- file path or listener
        offset      INTEGER NOT NULL,         -- byte offset of the line in the source
        raw         TEXT NOT NULL,
        PRIMARY KEY (incident_id, seq)
    );
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        command     TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE TABLE run_sources (
        run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        source   TEXT NOT NULL,
        format   TEXT NOT NULL,
        lines    INTEGER NOT NULL,
        events   INTEGER NOT NULL,
        skipped  INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        PRIMARY KEY (run_id, source)
    );",
    // 2: the daemon's read positions (with the rewind point that rebuilds correlation state
    // after a restart) and its live counters, both rewritten by every commit.
    "CREATE TABLE checkpoints (
        source        TEXT NOT NULL,          -- the configured path or pattern
        path          TEXT NOT NULL,          -- the followed file path
        dev           INTEGER NOT NULL,
        inode         INTEGER NOT NULL,
        fingerprint   INTEGER NOT NULL,       -- FNV-1a of the head read (u64 bits as i64)
        offset        INTEGER NOT NULL,       -- committed read position: a line boundary
        rewind_offset INTEGER NOT NULL,       -- where a restart re-reads from
        rewind_time   TEXT NOT NULL,          -- events older than this are not re-correlated
        committed_at  TEXT NOT NULL,
        PRIMARY KEY (source, dev, inode)
    );
    CREATE TABLE counters (
        name       TEXT NOT NULL,
        source     TEXT NOT NULL,             -- a file path, or '' for daemon-wide counters
        value      INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (name, source)
    );",
    // 3: the syslog forwarder's outbox: one row per incident snapshot to send, written in the
    // transaction that upserts the incident and deleted once the receiver took it; and the
    // forwarder's counters, which outlive the daemon's rewritten `counters` table.
    "CREATE TABLE outbox (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT, -- send order
        incident_id TEXT NOT NULL,
        kind        TEXT NOT NULL,            -- 'new' or 'update'
        rule        TEXT NOT NULL,
        severity    TEXT NOT NULL,
        title       TEXT NOT NULL,
        group_key   TEXT NOT NULL,            -- JSON object, as in incidents
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        count       INTEGER NOT NULL,
        created_at  TEXT NOT NULL             -- when the snapshot was committed
    );
    CREATE INDEX outbox_by_incident ON outbox (incident_id);
    CREATE TABLE forward_counters (
        name  TEXT PRIMARY KEY,               -- sent, failed_attempts, coalesced, dropped
        value INTEGER NOT NULL
    );",
    // 4: the daemon's last snapshot of correlation state (one row), committed in the same
    // transaction as the checkpoint whose rewind offsets it belongs to.
    "CREATE TABLE snapshots (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        taken_at TEXT NOT NULL,               -- RFC 3339 UTC, wall clock
        state    BLOB NOT NULL                -- engine state, merge buffer, source names
    );",
    // 5: snapshots written in chunks by a thread of their own (many short transactions, so
    // the daemon's commits never wait long for the lock); the checkpoint's commit names the
    // generation in force, in the same transaction as the rewind offsets it belongs to.
    // A snapshot of the single-row layout is dropped (the daemon starts empty, says so).
    "DROP TABLE snapshots;
    CREATE TABLE snapshot_chunks (
        gen   INTEGER NOT NULL,
        seq   INTEGER NOT NULL,
        data  BLOB NOT NULL,
        PRIMARY KEY (gen, seq)
    );
    CREATE TABLE snapshot_current (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        gen      INTEGER NOT NULL,
        taken_at TEXT NOT NULL                -- RFC 3339 UTC, wall clock
    );",
    // 6: where a file's parser must start again after a restart to rebuild the sessions it
    // held open at the rewind offset (NULL: none open; a 4 MiB look-back covers the rest).
    "ALTER TABLE checkpoints ADD COLUMN parse_from INTEGER;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Errors while bringing a database to the current schema.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer portcullis.
    #[error("database schema version {found} is newer than this build's {SCHEMA_VERSION}; upgrade portcullis")]
    TooNew {
        /// The version found in the file.
        found: i64,
    },
}

/// Applies the pending migrations.
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(SchemaError::TooNew { found });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer_databases() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(SchemaError::TooNew { .. })
        ));
    }
}
