//! The syslog outbox: incident news (a new incident, or a stored one whose count or
//! last_seen grew) written in the same transaction as the incidents themselves, so a crash
//! never loses or invents a message. The forwarder (`crate::forward`) reads rows in order and
//! deletes them only after the receiver took them.
//!
//! Bounded: at [`OutboxPolicy::cap`] queued rows, news of an incident that already waits is
//! coalesced into that row (the receiver gets the latest snapshot, once); other news make
//! room by dropping the oldest queued update of any incident; when only new-incident rows
//! wait, the incoming news is dropped. Coalesced and dropped rows are counted.

use super::incidents::StoredIncident;
use super::{db_time, Store, StoreError};
use crate::incident::Incident;
use crate::rules::Severity;
use rusqlite::{params, OptionalExtension, Transaction};

/// Default most rows queued. A row is a few hundred bytes, so this bounds the table to some
/// tens of MB: about a day of a busy host's incident updates while the receiver is down.
pub const OUTBOX_CAP: u64 = 100_000;

/// What goes into the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPolicy {
    /// Incidents below this severity are not queued.
    pub min_severity: Severity,
    /// Most rows queued.
    pub cap: u64,
}

/// What a snapshot tells about its incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Stored for the first time.
    New,
    /// Count or last_seen grew.
    Update,
}

impl Change {
    /// `new` or `update`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Update => "update",
        }
    }
}

/// One queued message.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    /// Send order.
    pub seq: i64,
    /// New incident or update.
    pub change: Change,
    /// The incident snapshot (no evidence).
    pub incident: StoredIncident,
    /// When the snapshot was committed (RFC 3339 UTC).
    pub created_at: String,
}

/// The forwarder's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardStats {
    /// Messages the receiver took.
    pub sent: u64,
    /// Connection or send attempts that failed (each is retried).
    pub failed_attempts: u64,
    /// Of those, the TLS failures: certificate refused by either side, TLS files unusable.
    pub tls_failures: u64,
    /// Rows waiting.
    pub queued: u64,
    /// News merged into a waiting row of the same incident (outbox full).
    pub coalesced: u64,
    /// News lost because the outbox was full.
    pub dropped: u64,
}

/// Adds `n` to forward counter `name`.
fn bump(tx: &rusqlite::Connection, name: &str, n: u64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO forward_counters (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
    )?
    .execute(params![name, n as i64])?;
    Ok(())
}

/// Queues the news among `incidents` (`changes` as returned by the upsert) inside the
/// caller's transaction, applying the cap (see the module docs).
pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    incidents: &[Incident],
    changes: &[(usize, Change)],
    policy: &OutboxPolicy,
) -> Result<(), StoreError> {
    let now = db_time(chrono::Utc::now());
    let mut queued: u64 =
        tx.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))? as u64;
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (incident_id, kind, rule, severity, title, group_key, first_seen,
                             last_seen, count, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for &(i, change) in changes {
        let inc = &incidents[i];
        if inc.severity < policy.min_severity {
            continue;
        }
        let mut kind = change;
        if queued >= policy.cap {
            let waiting: Option<(i64, String)> = tx
                .prepare_cached(
                    "SELECT seq, kind FROM outbox WHERE incident_id = ?1 ORDER BY seq LIMIT 1",
                )?
                .query_row([&inc.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((seq, was)) = waiting {
                // Re-queued at the end with a new seq: a forwarder sending the old row at
                // this moment deletes nothing it did not send.
                tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
                if was == "new" {
                    kind = Change::New;
                }
                bump(tx, "coalesced", 1)?;
            } else {
                let freed = tx.execute(
                    "DELETE FROM outbox WHERE seq =
                        (SELECT seq FROM outbox WHERE kind = 'update' ORDER BY seq LIMIT 1)",
                    [],
                )?;
                bump(tx, "dropped", 1)?;
                if freed == 0 {
                    continue;
                }
            }
            queued -= 1;
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
        insert.execute(params![
            inc.id,
            kind.as_str(),
            &*inc.rule,
            inc.severity.as_str(),
            inc.title,
            serde_json::to_string(&group)?,
            db_time(inc.first_seen),
            db_time(inc.last_seen),
            inc.count as i64,
            now,
        ])?;
        queued += 1;
    }
    Ok(())
}

impl Store {
    /// Queues incident news for the forwarder from now on (`None`: not at all).
    pub fn set_outbox(&mut self, policy: Option<OutboxPolicy>) {
        self.outbox = policy;
    }

    /// The oldest `limit` queued rows, in send order.
    pub fn outbox_pending(&mut self, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, kind, incident_id, rule, severity, title, group_key, first_seen,
                    last_seen, count, created_at
             FROM outbox ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                StoredIncident {
                    id: r.get(2)?,
                    rule: r.get(3)?,
                    severity: r.get(4)?,
                    title: r.get(5)?,
                    group: serde_json::Map::new(),
                    first_seen: r.get(7)?,
                    last_seen: r.get(8)?,
                    count: r.get::<_, i64>(9)? as u64,
                    distinct: None,
                    open: true,
                    evidence: Vec::new(),
                },
                r.get::<_, String>(6)?,
                r.get::<_, String>(10)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, kind, mut incident, group, created_at) = row?;
            incident.group = serde_json::from_str(&group)?;
            let change = if kind == "new" {
                Change::New
            } else {
                Change::Update
            };
            out.push(OutboxRow {
                seq,
                change,
                incident,
                created_at,
            });
        }
        Ok(out)
    }

    /// Deletes rows the receiver took and counts them as sent, in one transaction.
    pub fn outbox_sent(&mut self, seqs: &[i64]) -> Result<(), StoreError> {
        let tx = self.write_tx()?;
        {
            let mut del = tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
            for seq in seqs {
                del.execute([seq])?;
            }
        }
        bump(&tx, "sent", seqs.len() as u64)?;
        tx.commit()?;
        Ok(())
    }

    /// Counts one failed connection or send attempt (`tls`: a TLS failure, also counted
    /// apart).
    pub fn forward_failed(&mut self, tls: bool) -> Result<(), StoreError> {
        bump(self.conn(), "failed_attempts", 1)?;
        if tls {
            bump(self.conn(), "tls_failures", 1)?;
        }
        Ok(())
    }

    /// The forwarder's counters and the queue length.
    pub fn forward_stats(&mut self) -> Result<ForwardStats, StoreError> {
        let conn = self.conn();
        let get = |name: &str| -> Result<u64, StoreError> {
            let v: Option<i64> = conn
                .query_row(
                    "SELECT value FROM forward_counters WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(v.unwrap_or(0) as u64)
        };
        Ok(ForwardStats {
            sent: get("sent")?,
            failed_attempts: get("failed_attempts")?,
            tls_failures: get("tls_failures")?,
            coalesced: get("coalesced")?,
            dropped: get("dropped")?,
            queued: conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))?
                as u64,
        })
    }
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use crate::rules::field::{Field, Value};
    use chrono::TimeZone;

    /// An incident snapshot with a text group value that needs escaping.
    pub fn incident(id: &str, severity: Severity, count: u64, last: u32) -> Incident {
        let t = |s: u32| chrono::Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, s).unwrap();
        Incident {
            id: id.into(),
            rule: "ftp.brute_force".into(),
            severity,
            title: format!("t {id}"),
            group: vec![(
                Field::from_name("user.name").unwrap(),
                Value::Text("a\"b".into()),
            )],
            first_seen: t(0),
            last_seen: t(last),
            count,
            distinct: None,
            evidence: vec![],
            open: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::incident;
    use super::*;

    fn store(cap: u64) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        s.set_outbox(Some(OutboxPolicy {
            min_severity: Severity::Medium,
            cap,
        }));
        (dir, s)
    }

    /// (incident id, change, count) of the queued rows, in order.
    fn queued(s: &mut Store) -> Vec<(String, Change, u64)> {
        s.outbox_pending(100)
            .unwrap()
            .into_iter()
            .map(|r| (r.incident.id, r.change, r.incident.count))
            .collect()
    }

    #[test]
    fn only_news_at_or_above_the_minimum_severity_are_queued() {
        let (_d, mut s) = store(OUTBOX_CAP);
        s.write_incidents(
            &[
                incident("a", Severity::High, 8, 10),
                incident("low", Severity::Low, 8, 10),
            ],
            &[],
        )
        .unwrap();
        // The same snapshot again is no news; a grown count or a later last_seen is.
        s.write_incidents(&[incident("a", Severity::High, 8, 10)], &[])
            .unwrap();
        s.write_incidents(&[incident("a", Severity::High, 9, 10)], &[])
            .unwrap();
        s.write_incidents(&[incident("a", Severity::High, 9, 12)], &[])
            .unwrap();
        // An older snapshot (a replay of a shorter file) is not stored, so not news.
        s.write_incidents(&[incident("a", Severity::High, 3, 5)], &[])
            .unwrap();
        assert_eq!(
            queued(&mut s),
            [
                ("a".into(), Change::New, 8),
                ("a".into(), Change::Update, 9),
                ("a".into(), Change::Update, 9),
            ]
        );
        let rows = s.outbox_pending(1).unwrap();
        assert_eq!(rows[0].incident.group["user.name"], "a\"b");
        assert_eq!(rows[0].incident.last_seen, "2026-03-02T10:00:10.000000Z");
        s.outbox_sent(&[rows[0].seq]).unwrap();
        let st = s.forward_stats().unwrap();
        assert_eq!((st.sent, st.queued, st.dropped, st.coalesced), (1, 2, 0, 0));
        s.forward_failed(false).unwrap();
        s.forward_failed(true).unwrap();
        let st = s.forward_stats().unwrap();
        assert_eq!((st.failed_attempts, st.tls_failures), (2, 1));
    }

    #[test]
    fn nothing_is_queued_without_forwarding_or_when_the_transaction_fails() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        s.write_incidents(&[incident("a", Severity::High, 8, 10)], &[])
            .unwrap();
        assert!(queued(&mut s).is_empty());
        // A commit that fails after the upsert (here a trigger refuses the outbox row) leaves
        // neither the incident nor its message.
        s.set_outbox(Some(OutboxPolicy {
            min_severity: Severity::Low,
            cap: 10,
        }));
        s.conn()
            .execute_batch("CREATE TRIGGER fail AFTER INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END;")
            .unwrap();
        assert!(s
            .write_incidents(&[incident("b", Severity::High, 8, 10)], &[])
            .is_err());
        s.conn().execute_batch("DROP TRIGGER fail;").unwrap();
        let ids: Vec<String> = s
            .incidents(&Default::default())
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, ["a"]);
        assert!(queued(&mut s).is_empty());
    }

    #[test]
    fn a_full_outbox_coalesces_then_drops_updates_before_new_incidents() {
        let (_d, mut s) = store(2);
        s.write_incidents(&[incident("a", Severity::High, 8, 10)], &[])
            .unwrap();
        s.write_incidents(&[incident("b", Severity::High, 8, 10)], &[])
            .unwrap();
        // Full: an update of `a` replaces its waiting row (still announced as new, moved to
        // the end with the latest count).
        s.write_incidents(&[incident("a", Severity::High, 9, 11)], &[])
            .unwrap();
        assert_eq!(
            queued(&mut s),
            [("b".into(), Change::New, 8), ("a".into(), Change::New, 9)]
        );
        // Send `b`; queue an update of `b`; full again.
        let b = s.outbox_pending(1).unwrap()[0].seq;
        s.outbox_sent(&[b]).unwrap();
        s.write_incidents(&[incident("b", Severity::High, 9, 11)], &[])
            .unwrap();
        // A new incident pushes out the oldest queued update (b's).
        s.write_incidents(&[incident("c", Severity::High, 8, 10)], &[])
            .unwrap();
        assert_eq!(
            queued(&mut s),
            [("a".into(), Change::New, 9), ("c".into(), Change::New, 8)]
        );
        // Only new-incident rows wait: the next new incident itself is dropped.
        s.write_incidents(&[incident("d", Severity::High, 8, 10)], &[])
            .unwrap();
        assert_eq!(queued(&mut s).len(), 2);
        let st = s.forward_stats().unwrap();
        assert_eq!((st.coalesced, st.dropped, st.queued, st.sent), (1, 2, 2, 1));
    }
}

#[cfg(test)]
mod concurrency_tests {
    use super::tests_support::incident;
    use super::*;

    /// The forwarder deletes rows on its own connection while commits upsert and queue:
    /// neither may fail with "database is locked" (a deferred transaction that read before
    /// the other connection wrote cannot wait for the lock; write transactions are
    /// immediate for that reason).
    #[test]
    fn commits_and_the_forwarder_write_side_by_side() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut writer = Store::open(&path).unwrap();
        writer.set_outbox(Some(OutboxPolicy {
            min_severity: Severity::Low,
            cap: OUTBOX_CAP,
        }));
        let mut sender = Store::open(&path).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..300u64 {
                    writer
                        .write_incidents(&[incident("a", Severity::High, 8 + i, 10)], &[])
                        .unwrap();
                }
            });
            s.spawn(|| {
                for _ in 0..300 {
                    let seqs: Vec<i64> = sender
                        .outbox_pending(10)
                        .unwrap()
                        .iter()
                        .map(|r| r.seq)
                        .collect();
                    sender.outbox_sent(&seqs).unwrap();
                    sender.forward_failed(false).unwrap();
                }
            });
        });
        let mut st = Store::open(&path).unwrap().forward_stats().unwrap();
        let rest: Vec<i64> = sender
            .outbox_pending(1000)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        sender.outbox_sent(&rest).unwrap();
        st.sent += rest.len() as u64;
        assert_eq!(st.sent, 300);
    }
}
