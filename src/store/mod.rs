//! SQLite storage of incidents, their evidence, and run summaries.

pub mod checkpoints;
pub mod incidents;
pub mod outbox;
pub mod runs;
pub mod schema;
pub mod snapshots;

use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

pub use incidents::{IncidentFilter, StoredEvidence, StoredIncident};

/// Default database path: `portcullis.db` in the working directory, so every command works
/// with no configuration.
pub const DEFAULT_DB: &str = "portcullis.db";

/// How long a writer waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    /// Writing a snapshot failed outside the database (its encoder).
    #[error("snapshot not written: {0}")]
    Write(String),
    /// A stored JSON column did not parse.
    #[error("corrupt JSON in the database: {0}")]
    Json(#[from] serde_json::Error),
}

/// An open database.
pub struct Store {
    conn: Connection,
    /// When set, incident news go into the syslog outbox in the same transaction.
    outbox: Option<outbox::OutboxPolicy>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, in WAL mode, migrated to the current
    /// schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn, outbox: None })
    }

    /// Opens an existing database read-only (queries); fails if it does not exist.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > schema::SCHEMA_VERSION {
            return Err(schema::SchemaError::TooNew { found }.into());
        }
        Ok(Store { conn, outbox: None })
    }

    /// Starts a write transaction that takes the write lock at once. A deferred one that
    /// reads first and writes later fails at once with "database is locked" (no busy wait)
    /// when another connection (the forwarder) wrote in between.
    pub(crate) fn write_tx(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        self.conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    /// The underlying connection (for modules of this crate).
    pub(crate) fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Formats a time the way the database stores it: RFC 3339 UTC with microseconds, which
/// sorts correctly as text.
pub fn db_time(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    // Written field by field: chrono's format strings are parsed anew on every call, and
    // this runs for every incident and evidence row.
    let mut s = String::with_capacity(27);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_micros().min(999_999)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn db_times_sort_as_text_and_keep_microseconds() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 8, 5, 9).unwrap()
            + chrono::Duration::microseconds(1_234);
        assert_eq!(db_time(t), "2026-03-02T08:05:09.001234Z");
        assert_eq!(
            db_time(chrono::DateTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000Z"
        );
    }
}
