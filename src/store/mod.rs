//! SQLite storage of incidents, their evidence, and run summaries.

pub mod checkpoints;
pub mod incidents;
pub mod runs;
pub mod schema;

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
    /// A stored JSON column did not parse.
    #[error("corrupt JSON in the database: {0}")]
    Json(#[from] serde_json::Error),
}

/// An open database.
pub struct Store {
    conn: Connection,
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
        Ok(Store { conn })
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
        Ok(Store { conn })
    }

    /// The underlying connection (for modules of this crate).
    pub(crate) fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Formats a time the way the database stores it: RFC 3339 UTC with microseconds, which
/// sorts correctly as text.
pub fn db_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
