//! Run summaries: what each replay read, per source.

use super::{db_time, Store, StoreError};
use crate::ingest::source::SourceStats;
use rusqlite::params;

impl Store {
    /// Records a finished run and its per-source counters.
    pub fn record_run(
        &mut self,
        command: &str,
        started: chrono::DateTime<chrono::Utc>,
        sources: &[(String, String, SourceStats)],
    ) -> Result<i64, StoreError> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO runs (command, started_at, finished_at) VALUES (?1, ?2, ?3)",
            params![command, db_time(started), db_time(chrono::Utc::now())],
        )?;
        let run = tx.last_insert_rowid();
        {
            let mut add = tx.prepare_cached(
                "INSERT OR REPLACE INTO run_sources (run_id, source, format, lines, events, skipped, rejected)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (name, format, s) in sources {
                add.execute(params![
                    run,
                    name,
                    format,
                    s.lines as i64,
                    s.events as i64,
                    s.skipped as i64,
                    s.rejected as i64
                ])?;
            }
        }
        tx.commit()?;
        Ok(run)
    }
}
