//! Writing incident snapshots (batched, idempotent) and querying them back.

use super::outbox::Change;
use super::{db_time, Store, StoreError};
use crate::incident::Incident;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// One stored evidence line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvidence {
    /// Event time.
    pub timestamp: String,
    /// File path or listener the line came from.
    pub source: String,
    /// Byte offset of the line in the source.
    pub offset: u64,
    /// The raw line.
    pub raw: String,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredIncident {
    /// Deterministic id.
    pub id: String,
    /// Rule name.
    pub rule: String,
    /// low, medium, high, critical.
    pub severity: String,
    /// Rendered title (attacker text escaped).
    pub title: String,
    /// Group key: field name to value.
    pub group: serde_json::Map<String, serde_json::Value>,
    /// First event time (RFC 3339 UTC).
    pub first_seen: String,
    /// Latest event time.
    pub last_seen: String,
    /// Matching events.
    pub count: u64,
    /// Distinct values, for `distinct` rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<u64>,
    /// Whether the activity may still continue.
    pub open: bool,
    /// Kept evidence lines, when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<StoredEvidence>,
}

/// Which incidents a query returns.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only this rule.
    pub rule: Option<String>,
    /// Only incidents active at or after this time (their last_seen), RFC 3339 UTC.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// At most this many, newest first.
    pub limit: Option<u64>,
    /// Load the evidence lines too.
    pub with_evidence: bool,
}

impl Store {
    /// Writes incident snapshots in one transaction. Writing the same snapshot twice changes
    /// nothing: ids are deterministic and counters only move forward, so replaying the same
    /// files into one database neither duplicates nor double-counts. `sources` maps evidence
    /// source indexes to names.
    pub fn write_incidents(
        &mut self,
        incidents: &[Incident],
        sources: &[String],
    ) -> Result<(), StoreError> {
        let outbox = self.outbox;
        let tx = self.write_tx()?;
        let changes = upsert_incidents(&tx, incidents, sources)?;
        if let Some(policy) = outbox {
            super::outbox::enqueue(&tx, incidents, &changes, &policy)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Incidents matching the filter, most recently active first.
    pub fn incidents(
        &mut self,
        filter: &IncidentFilter,
    ) -> Result<Vec<StoredIncident>, StoreError> {
        let since = filter.since.map(db_time);
        let limit = filter.limit.map_or(-1, |l| l as i64);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, rule, severity, title, group_key, first_seen, last_seen, count,
                    distinct_count, open
             FROM incidents
             WHERE (?1 IS NULL OR rule = ?1) AND (?2 IS NULL OR last_seen >= ?2)
             ORDER BY last_seen DESC, id
             LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![filter.rule, since, limit], |r| {
            Ok((
                StoredIncident {
                    id: r.get(0)?,
                    rule: r.get(1)?,
                    severity: r.get(2)?,
                    title: r.get(3)?,
                    group: serde_json::Map::new(),
                    first_seen: r.get(5)?,
                    last_seen: r.get(6)?,
                    count: r.get::<_, i64>(7)? as u64,
                    distinct: r.get::<_, Option<i64>>(8)?.map(|d| d as u64),
                    open: r.get(9)?,
                    evidence: Vec::new(),
                },
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut inc, group) = row?;
            inc.group = serde_json::from_str(&group)?;
            out.push(inc);
        }
        drop(stmt);
        if filter.with_evidence {
            let mut ev = conn.prepare_cached(
                "SELECT ts, source, offset, raw FROM evidence WHERE incident_id = ?1 ORDER BY seq",
            )?;
            for inc in &mut out {
                inc.evidence = ev
                    .query_map([&inc.id], |r| {
                        Ok(StoredEvidence {
                            timestamp: r.get(0)?,
                            source: r.get(1)?,
                            offset: r.get::<_, i64>(2)? as u64,
                            raw: r.get(3)?,
                        })
                    })?
                    .collect::<Result<_, _>>()?;
            }
        }
        Ok(out)
    }
}

/// Upserts incident snapshots inside the caller's transaction (so the daemon can commit them
/// together with its read positions). Same rules as [`Store::write_incidents`]. Returns which
/// snapshots were news: a new incident, or a stored one whose count or last_seen grew (what
/// the syslog outbox forwards).
pub(crate) fn upsert_incidents(
    tx: &rusqlite::Transaction<'_>,
    incidents: &[Incident],
    sources: &[String],
) -> Result<Vec<(usize, Change)>, StoreError> {
    let now = db_time(chrono::Utc::now());
    let mut changes = Vec::new();
    {
        let mut current =
            tx.prepare_cached("SELECT count, last_seen FROM incidents WHERE id = ?1")?;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO incidents (id, rule, severity, title, group_key, first_seen, last_seen,
                                    count, distinct_count, open, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id) DO UPDATE SET
                title = excluded.title, last_seen = excluded.last_seen, count = excluded.count,
                distinct_count = excluded.distinct_count, open = excluded.open,
                updated_at = excluded.updated_at
             WHERE excluded.count >= incidents.count",
        )?;
        let mut clear = tx.prepare_cached("DELETE FROM evidence WHERE incident_id = ?1")?;
        let mut add = tx.prepare_cached(
            "INSERT INTO evidence (incident_id, seq, ts, source, offset, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (i, inc) in incidents.iter().enumerate() {
            let stored: Option<(i64, String)> = current
                .query_row([&inc.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let last_seen = db_time(inc.last_seen);
            match &stored {
                Some((c, _)) if *c as u64 > inc.count => continue,
                Some((c, last)) if (*c as u64) < inc.count || *last < last_seen => {
                    changes.push((i, Change::Update))
                }
                Some(_) => {}
                None => changes.push((i, Change::New)),
            }
            let group: serde_json::Map<_, _> = inc
                .group
                .iter()
                .map(|(f, v)| {
                    (
                        f.name().to_string(),
                        serde_json::Value::String(v.to_string()),
                    )
                })
                .collect();
            upsert.execute(params![
                inc.id,
                &*inc.rule,
                inc.severity.as_str(),
                inc.title,
                serde_json::to_string(&group)?,
                db_time(inc.first_seen),
                last_seen,
                inc.count as i64,
                inc.distinct.map(|d| d as i64),
                inc.open,
                now,
            ])?;
            clear.execute([&inc.id])?;
            for (seq, ev) in inc.evidence.iter().enumerate() {
                let source = sources.get(ev.source as usize).map_or("?", String::as_str);
                add.execute(params![
                    inc.id,
                    seq as i64,
                    db_time(ev.timestamp),
                    source,
                    ev.offset as i64,
                    &*ev.raw
                ])?;
            }
        }
    }
    Ok(changes)
}
