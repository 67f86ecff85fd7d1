//! Forwarding incidents to a syslog receiver (`[forward]` in the configuration).
//!
//! ```text
//! commit (daemon or replay) ─► incidents + outbox rows, one transaction
//!                                   │ polled
//!                                   ▼
//!              forwarder thread: oldest rows ─► syslog (TCP / TLS / RELP / UDP) ─► rows deleted
//! ```
//!
//! The forwarder runs on its own thread with its own SQLite connection, off the
//! correlation path. A row is deleted (counted `sent`) only after the receiver took it: the
//! TCP or TLS write or the UDP send succeeded, or for RELP the receiver acknowledged it.
//! While the receiver is down rows wait and the forwarder retries with a doubling backoff;
//! every failed attempt is counted, and an error is logged when it differs from the last
//! one (not at every retry). A crash after a send and before the delete sends that row
//! again: messages arrive at least once, and carry the incident id and count to tell a
//! repeat.

pub mod message;
pub mod relp;
pub mod settings;
pub mod tls;
pub mod transport;

pub use settings::{ForwardSection, ForwardSettings, TlsSettings};

use crate::escape::escape_text;
use crate::store::{Store, StoreError};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use transport::Connection;

/// How often the outbox is looked at when it was empty: well inside the daemon's 500 ms
/// latency goal, and a query on an empty indexed table costs microseconds.
const POLL: Duration = Duration::from_millis(100);
/// Rows read per batch: one SQLite read and one delete transaction per batch.
const BATCH: usize = 256;
/// First wait after a failure; doubled per consecutive failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between attempts: a receiver that comes back is used within seconds.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long the daemon (on SIGTERM) and `replay` (at its end) let the forwarder drain the
/// outbox: long enough for tens of thousands of messages to a live receiver, short enough
/// that a dead receiver does not hold up a service stop (systemd's default stop timeout is
/// 90 s).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Why the forwarder could not start (once running, failures are retried and counted).
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// Its database connection could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The thread could not be started.
    #[error("cannot start the forward thread: {0}")]
    Spawn(std::io::Error),
}

/// The running forwarder thread.
pub struct Forwarder {
    /// Carries the drain deadline when the owner wants the thread to finish.
    finish: Sender<Instant>,
    handle: JoinHandle<()>,
}

impl Forwarder {
    /// Starts forwarding the outbox of database `db` (opened here, so a bad path fails now).
    pub fn spawn(db: &Path, settings: ForwardSettings) -> Result<Forwarder, ForwardError> {
        let store = Store::open(db)?;
        let (finish, rx) = bounded(1);
        let handle = std::thread::Builder::new()
            .name("forward".into())
            .spawn(move || Worker::new(store, settings, rx).run())
            .map_err(ForwardError::Spawn)?;
        Ok(Forwarder { finish, handle })
    }

    /// Sends what is queued for at most `limit` more, then stops the thread; rows not sent by
    /// then stay queued for the next run.
    pub fn finish(self, limit: Duration) {
        let _ = self.finish.send(Instant::now() + limit);
        let _ = self.handle.join();
    }
}

/// The thread's state.
struct Worker {
    store: Store,
    settings: ForwardSettings,
    finish: Receiver<Instant>,
    deadline: Option<Instant>,
    conn: Option<Connection>,
    hostname: String,
    backoff: Duration,
    /// The error of the current failure streak, as logged; `None` while sending works.
    last_error: Option<String>,
}

/// Why a round failed.
struct Failure {
    /// What to log.
    text: String,
    /// A TLS problem (certificate, handshake refused, TLS files): also counted apart.
    tls: bool,
}

impl Failure {
    /// A connection or send error: TLS problems in words a user can act on.
    fn io(what: &str, e: &std::io::Error, s: &ForwardSettings) -> Failure {
        match s.tls.as_ref().and_then(|t| tls::describe(e, t)) {
            Some(text) => Failure {
                text: format!("tls: {text}"),
                tls: true,
            },
            None => Failure {
                text: format!("{what}: {e}"),
                tls: false,
            },
        }
    }

    fn store(e: StoreError) -> Failure {
        Failure {
            text: format!("database: {e}"),
            tls: false,
        }
    }
}

impl Worker {
    fn new(store: Store, settings: ForwardSettings, finish: Receiver<Instant>) -> Worker {
        Worker {
            store,
            settings,
            finish,
            deadline: None,
            conn: None,
            hostname: message::local_hostname(),
            backoff: MIN_BACKOFF,
            last_error: None,
        }
    }

    fn run(mut self) {
        self.send_loop();
        if let Some(conn) = self.conn.take() {
            conn.close();
        }
    }

    fn send_loop(&mut self) {
        loop {
            // Asked to finish while rows kept coming: the deadline holds all the same.
            if let Ok(deadline) = self.finish.try_recv() {
                self.deadline = Some(deadline);
            }
            match self.round() {
                Ok(true) => continue,
                Ok(false) => {
                    if self.deadline.is_some() {
                        return;
                    }
                    self.wait(POLL);
                }
                Err(e) => {
                    // An error is logged when it differs from the last one; repeats are
                    // only counted.
                    if self.last_error.as_deref() != Some(e.text.as_str()) {
                        tracing::warn!(
                            receiver = self.settings.target(),
                            error = escape_text(&e.text),
                            retry_at_most = ?MAX_BACKOFF,
                            "forward failed"
                        );
                        self.last_error = Some(e.text);
                    }
                    let _ = self.store.forward_failed(e.tls);
                    self.conn = None;
                    self.wait(self.backoff);
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                let left = self.store.forward_stats().map_or(0, |s| s.queued);
                if left > 0 {
                    tracing::info!(
                        queued = left,
                        "forward: messages stay queued for the next run"
                    );
                }
                return;
            }
        }
    }

    /// Sleeps `d`, or less when asked to finish.
    fn wait(&mut self, d: Duration) {
        let d = self
            .deadline
            .map_or(d, |dl| d.min(dl.saturating_duration_since(Instant::now())));
        match self.finish.recv_timeout(d) {
            Ok(deadline) => self.deadline = Some(deadline),
            Err(RecvTimeoutError::Timeout) => {}
            // The owner went away without finishing: stop waiting, keep draining until the
            // default limit.
            Err(RecvTimeoutError::Disconnected) => {
                self.deadline.get_or_insert(Instant::now() + DRAIN_LIMIT);
            }
        }
    }

    /// Sends one batch. `Ok(true)`: rows were sent, more may wait; `Ok(false)`: nothing
    /// queued; `Err`: the receiver or the database failed (retried after the backoff).
    fn round(&mut self) -> Result<bool, Failure> {
        let rows = self.store.outbox_pending(BATCH).map_err(Failure::store)?;
        if rows.is_empty() {
            return Ok(false);
        }
        if self.conn.as_mut().is_some_and(Connection::closed_by_peer) {
            self.conn = None;
        }
        let conn = match &mut self.conn {
            Some(c) => c,
            None => self.conn.insert(
                Connection::open(&self.settings)
                    .map_err(|e| Failure::io("connect", &e, &self.settings))?,
            ),
        };
        let pid = std::process::id();
        let msgs: Vec<String> = rows
            .iter()
            .map(|row| message::render(row, &self.settings, &self.hostname, pid))
            .collect();
        let (taken, failure) = conn.deliver(&msgs, &self.settings);
        let sent: Vec<i64> = rows[..taken].iter().map(|r| r.seq).collect();
        self.store.outbox_sent(&sent).map_err(Failure::store)?;
        match failure {
            Some(e) => Err(Failure::io("send", &e, &self.settings)),
            None => {
                if self.last_error.take().is_some() {
                    tracing::info!(receiver = self.settings.target(), "forward works again");
                }
                self.backoff = MIN_BACKOFF;
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::Incident;
    use crate::rules::Severity;
    use std::io::Read;
    use std::net::{TcpListener, UdpSocket};

    fn incident(id: &str, count: u64) -> Incident {
        let t = chrono::DateTime::UNIX_EPOCH;
        Incident {
            id: id.into(),
            rule: "ftp.brute_force".into(),
            severity: Severity::High,
            title: "FTP brute force".into(),
            group: vec![],
            first_seen: t,
            last_seen: t,
            count,
            distinct: None,
            evidence: vec![],
            open: true,
        }
    }

    /// A database with forwarding on and one incident news queued.
    fn queued_db(dir: &Path, settings: &ForwardSettings) -> Store {
        let mut store = Store::open(&dir.join("t.db")).unwrap();
        store.set_outbox(Some(settings.outbox));
        store.write_incidents(&[incident("i1", 8)], &[]).unwrap();
        store
    }

    fn until(mut f: impl FnMut() -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn tcp_rows_wait_for_the_receiver_then_arrive_octet_counted() {
        let dir = tempfile::tempdir().unwrap();
        // A port nobody listens on yet.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = ForwardSettings::for_target(&format!("tcp://127.0.0.1:{port}")).unwrap();
        let mut store = queued_db(dir.path(), &settings);
        let fwd = Forwarder::spawn(&dir.path().join("t.db"), settings).unwrap();
        assert!(until(|| store.forward_stats().unwrap().failed_attempts >= 2));
        assert_eq!(store.forward_stats().unwrap().queued, 1);

        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        assert!(until(|| store.forward_stats().unwrap().sent == 1));
        fwd.finish(Duration::from_secs(1));
        let mut got = String::new();
        conn.read_to_string(&mut got).unwrap();
        let (len, msg) = got.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), msg.len(), "{got}");
        assert!(msg.starts_with("<131>1 "), "{msg}");
        assert!(
            msg.contains(" incident.new [portcullis@32473 id=\"i1\" rule=\"ftp.brute_force\""),
            "{msg}"
        );
        assert!(
            msg.ends_with("] ftp.brute_force new: FTP brute force (count 8)"),
            "{msg}"
        );
        assert_eq!(store.forward_stats().unwrap().queued, 0);
    }

    #[test]
    fn udp_sends_one_datagram_per_message_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let target = format!("udp://{}", rx.local_addr().unwrap());
        let mut settings = ForwardSettings::for_target(&target).unwrap();
        settings.format = settings::SyslogFormat::Rfc3164;
        let mut store = queued_db(dir.path(), &settings);
        store.write_incidents(&[incident("i1", 9)], &[]).unwrap();
        let fwd = Forwarder::spawn(&dir.path().join("t.db"), settings).unwrap();
        let mut buf = [0u8; 2048];
        let mut got = Vec::new();
        for _ in 0..2 {
            let n = rx.recv(&mut buf).unwrap();
            got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
        fwd.finish(Duration::from_secs(1));
        assert!(
            got[0].contains("]: ftp.brute_force new: FTP brute force (count 8) id=i1 "),
            "{got:?}"
        );
        assert!(
            got[1].contains("]: ftp.brute_force update: FTP brute force (count 9) id=i1 "),
            "{got:?}"
        );
        let st = store.forward_stats().unwrap();
        assert_eq!((st.sent, st.queued), (2, 0));
    }
}
