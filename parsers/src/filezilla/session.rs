//! Per-session memory for FTP logs whose events span lines: a bounded session table and the
//! FTP command/reply dialogue of one session.
//!
//! Shared by FileZilla, Serv-U (command/reply logs) and IIS (session → user). It lives here
//! because the crate's module list is not ours to extend; see the report of issue 3.
//!
//! The dialogue turns command and reply lines into at most one event per command: `USER` and
//! `PASS` produce nothing, the `230`/`530` reply produces the `ftp.login` event; `RETR`,
//! `STOR`, `DELE`, ... produce their event on the final reply (2xx = success, 4xx/5xx =
//! failure); other commands produce an `ftp.command` event on their final reply. Preliminary
//! (1xx), intermediate (3xx) and continuation (`220-...`) replies produce nothing.

use crate::event::{Action, Outcome};
use compact_str::CompactString;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

/// Sessions remembered per source. A session lives for one control connection; 4096 open at
/// once is far beyond a normal FTP server, and a hostile flood of new sessions only evicts the
/// oldest (whose pending login then reports no user).
pub const MAX_SESSIONS: usize = 4096;

/// A session id as a map key: decimal ids and GUIDs as their value, anything else hashed.
pub fn session_key(id: &str) -> u128 {
    let b = id.as_bytes();
    // 19 digits always fit 64 bits and 38 fit 128 (10^38 < 2^128): the folds cannot overflow.
    if !b.is_empty() && b.len() <= 38 && b.iter().all(u8::is_ascii_digit) {
        if b.len() <= 19 {
            return u128::from(b.iter().fold(0, |n, c| n * 10 + u64::from(c - b'0')));
        }
        return b.iter().fold(0, |n, c| n * 10 + u128::from(c - b'0'));
    }
    // A GUID: 32 hex digits, dashes anywhere (read in one pass).
    let (mut v, mut hex, mut guid) = (0u128, 0, true);
    for &c in b {
        if c == b'-' {
            continue;
        }
        match (c as char).to_digit(16) {
            Some(d) => {
                v = v << 4 | u128::from(d);
                hex += 1;
            }
            None => {
                guid = false;
                break;
            }
        }
    }
    if guid && hex == 32 {
        return v ^ (1 << 127);
    }
    // FNV-1a: a different shape of id never collides with a number or a GUID in practice.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in b {
        h = (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3);
    }
    (3 << 126) | u128::from(h)
}

/// A fast hasher for `u128` keys the server generated (not attacker-chosen).
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u128(&mut self, v: u128) {
        let x = (v as u64) ^ ((v >> 64) as u64).rotate_left(32) ^ self.0;
        self.0 = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        self.0 ^= self.0 >> 32;
    }
}

/// A map from session key to `V`, holding at most [`MAX_SESSIONS`]: inserting one more evicts
/// the session created first.
#[derive(Debug)]
pub struct SessionTable<V> {
    map: HashMap<u128, (u64, V), BuildHasherDefault<KeyHasher>>,
    /// Sessions in creation order: key, generation, and the stamp when it was created.
    order: VecDeque<(u128, u64, u64)>,
    next: u64,
    cap: usize,
    /// Stamp given to sessions created from now on ([`SessionTable::stamp`]).
    stamp: u64,
}

impl<V> Default for SessionTable<V> {
    fn default() -> Self {
        SessionTable::with_capacity(MAX_SESSIONS)
    }
}

impl<V> SessionTable<V> {
    /// An empty table holding at most `cap` sessions (at least one).
    pub fn with_capacity(cap: usize) -> Self {
        SessionTable {
            map: HashMap::default(),
            order: VecDeque::new(),
            next: 0,
            cap: cap.max(1),
            stamp: 0,
        }
    }

    /// Number of sessions held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no session is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The session's value, if held.
    pub fn get(&self, key: u128) -> Option<&V> {
        self.map.get(&key).map(|(_, v)| v)
    }

    /// The session's value, created with `V::default()` when new (evicting the oldest when
    /// the table is full).
    pub fn entry(&mut self, key: u128) -> &mut V
    where
        V: Default,
    {
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.cap {
                let Some((old, gen, _)) = self.order.pop_front() else {
                    break;
                };
                if self.map.get(&old).is_some_and(|(g, _)| *g == gen) {
                    self.map.remove(&old);
                }
            }
            let gen = self.next;
            self.next += 1;
            self.order.push_back((key, gen, self.stamp));
            // Removed sessions leave stale order entries; drop them before they pile up.
            if self.order.len() > 2 * self.cap {
                let map = &self.map;
                self.order
                    .retain(|(k, g, _)| *k == key || map.get(k).is_some_and(|(mg, _)| mg == g));
            }
            self.map.insert(key, (gen, V::default()));
        }
        &mut self.map.get_mut(&key).expect("inserted above").1
    }

    /// Sessions created from now on carry `stamp` (the caller's position of the line being
    /// read), so [`SessionTable::oldest_stamp`] can say where the oldest one began.
    pub fn stamp(&mut self, stamp: u64) {
        self.stamp = stamp;
    }

    /// The stamp of the oldest session held: re-reading from there rebuilds the table.
    pub fn oldest_stamp(&mut self) -> Option<u64> {
        while let Some(&(k, g, at)) = self.order.front() {
            if self.map.get(&k).is_some_and(|(mg, _)| *mg == g) {
                return Some(at);
            }
            self.order.pop_front();
        }
        None
    }

    /// Forgets a session (its connection closed).
    pub fn remove(&mut self, key: u128) -> Option<V> {
        self.map.remove(&key).map(|(_, v)| v)
    }
}

/// True for the user names FTP servers treat as anonymous.
pub fn is_anonymous(user: &str) -> bool {
    user.eq_ignore_ascii_case("anonymous") || user.eq_ignore_ascii_case("ftp")
}

/// How a log format wants the dialogue read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogRules {
    /// The final `220` welcome reply is the connection event (FileZilla 1.x, which logs no
    /// separate connect line).
    pub connect_on_220: bool,
    /// Transfers are reported from the RETR/STOR command and its reply (false for Serv-U,
    /// which writes its own `Sent file`/`Received file` lines).
    pub transfers_from_replies: bool,
}

/// The command waiting for its final reply.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum Pending {
    #[default]
    Nothing,
    /// USER or PASS sent: the reply decides the login.
    Login,
    /// A command with its action and path.
    Command(Action, Option<String>),
    /// A transfer whose event comes from elsewhere: its reply produces nothing.
    Ignored,
}

/// What one session remembers.
#[derive(Debug, Default, Clone)]
pub struct Dialog {
    /// The client's address, once a line named it.
    pub client: Option<IpAddr>,
    /// The server's address, once a line named it (Serv-U's connect line).
    pub server: Option<IpAddr>,
    /// The server's port, once a line named it.
    pub server_port: Option<u16>,
    /// The user named by the last `USER` command (or the logged-in user).
    pub user: Option<CompactString>,
    login_reported: bool,
    connect_reported: bool,
    pending: Pending,
    rename_from: Option<String>,
}

/// An event the dialogue decided on; the caller adds time, addresses and the line's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What happened.
    pub action: Action,
    /// Whether it worked.
    pub outcome: Outcome,
    /// The file or directory acted on.
    pub path: Option<String>,
}

impl Step {
    fn new(action: Action, outcome: Outcome) -> Step {
        Step {
            action,
            outcome,
            path: None,
        }
    }
}

/// The action a command verb stands for (`None`: a plain `ftp.command`).
fn verb_action(verb: &str) -> Option<Action> {
    let v = verb.as_bytes();
    let is = |w: &str| v.eq_ignore_ascii_case(w.as_bytes());
    Some(if is("RETR") {
        Action::FtpDownload
    } else if is("STOR") || is("STOU") || is("APPE") {
        Action::FtpUpload
    } else if is("DELE") {
        Action::FtpDelete
    } else if is("MKD") || is("XMKD") {
        Action::FtpMkdir
    } else if is("RMD") || is("XRMD") {
        Action::FtpRmdir
    } else if is("RNTO") {
        Action::FtpRename
    } else {
        return None;
    })
}

impl Dialog {
    /// The server accepted the connection (a connect line). `None` when already reported.
    pub fn connected(&mut self) -> Option<Step> {
        if std::mem::replace(&mut self.connect_reported, true) {
            return None;
        }
        Some(Step::new(Action::FtpConnect, Outcome::Success))
    }

    /// The client sent `verb arg`. Commands produce no event themselves.
    pub fn command(&mut self, verb: &str, arg: &str, rules: DialogRules) {
        let arg = arg.trim();
        let path = || Some(arg.to_owned()).filter(|p| !p.is_empty());
        if verb.eq_ignore_ascii_case("USER") {
            self.user = Some(CompactString::from(arg)).filter(|u| !u.is_empty());
            self.login_reported = false;
            self.pending = Pending::Login;
        } else if verb.eq_ignore_ascii_case("PASS") {
            self.pending = Pending::Login;
        } else if verb.eq_ignore_ascii_case("RNFR") {
            self.rename_from = path();
            self.pending = Pending::Ignored;
        } else if let Some(action) = verb_action(verb) {
            self.pending = match action {
                Action::FtpDownload | Action::FtpUpload if !rules.transfers_from_replies => {
                    Pending::Ignored
                }
                Action::FtpRename => {
                    Pending::Command(action, self.rename_from.take().or_else(path))
                }
                _ => Pending::Command(action, path()),
            };
        } else {
            self.pending = Pending::Command(Action::FtpCommand, None);
        }
    }

    /// The client is trying to log in as `user` (FileZilla 1.x `Authenticating user`).
    pub fn authenticating(&mut self, user: &str) {
        self.user = Some(CompactString::from(user)).filter(|u| !u.is_empty());
        self.login_reported = false;
        self.pending = Pending::Login;
    }

    /// The server recorded a failed login (FileZilla 1.x); `None` when the `530` reply
    /// already reported this attempt.
    pub fn login_failed(&mut self, user: Option<&str>) -> Option<Step> {
        if let Some(u) = user.filter(|u| !u.is_empty()) {
            self.user = Some(CompactString::from(u));
        }
        if std::mem::replace(&mut self.login_reported, true) {
            return None;
        }
        self.pending = Pending::Nothing;
        Some(Step::new(Action::FtpLogin, Outcome::Failure))
    }

    /// The server replied `code`; `last` is false for the lines of a multi-line reply before
    /// its last (`220-...`).
    pub fn reply(&mut self, code: u16, last: bool, rules: DialogRules) -> Option<Step> {
        if !last || code < 200 {
            return None;
        }
        match code {
            220 if rules.connect_on_220 => self.connected(),
            230 => {
                self.pending = Pending::Nothing;
                self.login_reported = false;
                Some(Step::new(Action::FtpLogin, Outcome::Success))
            }
            530 => match std::mem::take(&mut self.pending) {
                Pending::Command(action, path) => Some(Step {
                    action,
                    outcome: Outcome::Failure,
                    path,
                }),
                Pending::Ignored => None,
                Pending::Login | Pending::Nothing => {
                    if std::mem::replace(&mut self.login_reported, true) {
                        None
                    } else {
                        Some(Step::new(Action::FtpLogin, Outcome::Failure))
                    }
                }
            },
            300..=399 => None,
            _ => {
                let outcome = if code < 400 {
                    Outcome::Success
                } else {
                    Outcome::Failure
                };
                match std::mem::take(&mut self.pending) {
                    Pending::Command(action, path) => Some(Step {
                        action,
                        outcome,
                        path,
                    }),
                    Pending::Login if code >= 400 => {
                        // 421/500/501/503 to USER or PASS: the attempt failed.
                        if std::mem::replace(&mut self.login_reported, true) {
                            None
                        } else {
                            Some(Step::new(Action::FtpLogin, Outcome::Failure))
                        }
                    }
                    _ => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FZ: DialogRules = DialogRules {
        connect_on_220: true,
        transfers_from_replies: true,
    };

    #[test]
    fn session_keys() {
        assert_eq!(session_key("000175"), 175);
        assert_ne!(
            session_key("175"),
            session_key("ab3a48eb-256b-44ac-bff3-d9e50d457d48")
        );
        assert_eq!(
            session_key("ab3a48eb-256b-44ac-bff3-d9e50d457d48"),
            session_key("ab3a48eb256b44acbff3d9e50d457d48")
        );
        assert_ne!(session_key("x"), session_key("y"));
        assert_eq!(session_key(""), session_key(""));
    }

    #[test]
    fn table_evicts_oldest_and_stays_bounded() {
        let mut t: SessionTable<u32> = SessionTable::with_capacity(3);
        for k in 0..3 {
            *t.entry(k) = k as u32;
        }
        *t.entry(1) += 10; // existing: no eviction, no reordering
        *t.entry(9) = 9; // evicts 0, the oldest
        assert_eq!(
            (t.get(0), t.get(1), t.get(9), t.len()),
            (None, Some(&11), Some(&9), 3)
        );
        // Churn through removals does not grow the order queue without bound.
        for k in 100..10_000u128 {
            t.entry(k);
            t.remove(k);
        }
        assert!(t.order.len() <= 2 * t.cap + 1, "{}", t.order.len());
        // The first churn insert evicted session 1; the others found room.
        assert_eq!(
            (t.len(), t.get(1), t.get(2), t.get(9)),
            (2, None, Some(&2), Some(&9))
        );
        assert!(!t.is_empty());
    }

    #[test]
    fn login_dialogue() {
        use Action::*;
        let mut d = Dialog::default();
        assert_eq!(d.reply(220, false, FZ), None);
        assert_eq!(
            d.reply(220, true, FZ),
            Some(Step::new(FtpConnect, Outcome::Success))
        );
        assert_eq!(d.reply(220, true, FZ), None, "one connect per session");
        d.command("USER", "root", FZ);
        assert_eq!(d.reply(331, true, FZ), None);
        d.command("PASS", "****", FZ);
        assert_eq!(
            d.login_failed(None),
            Some(Step::new(FtpLogin, Outcome::Failure))
        );
        assert_eq!(d.reply(530, true, FZ), None, "the 530 of the same attempt");
        assert_eq!(d.user.as_deref(), Some("root"));
        d.command("USER", "bob", FZ);
        d.command("PASS", "x", FZ);
        assert_eq!(
            d.reply(530, true, FZ),
            Some(Step::new(FtpLogin, Outcome::Failure))
        );
        assert_eq!(
            d.login_failed(Some("bob")),
            None,
            "the record of the same attempt"
        );
        d.command("USER", "bob", FZ);
        d.command("PASS", "y", FZ);
        assert_eq!(
            d.reply(230, true, FZ),
            Some(Step::new(FtpLogin, Outcome::Success))
        );
        d.command("USER", "eve", FZ);
        assert_eq!(
            d.reply(503, true, FZ),
            Some(Step::new(FtpLogin, Outcome::Failure))
        );
    }

    #[test]
    fn commands_and_transfers() {
        use Action::*;
        let step = |a, o, p: Option<&str>| {
            Some(Step {
                action: a,
                outcome: o,
                path: p.map(str::to_owned),
            })
        };
        let mut d = Dialog::default();
        d.command("RETR", "/pub/a.iso", FZ);
        assert_eq!(d.reply(150, true, FZ), None);
        assert_eq!(
            d.reply(226, true, FZ),
            step(FtpDownload, Outcome::Success, Some("/pub/a.iso"))
        );
        assert_eq!(d.reply(226, true, FZ), None, "nothing pending");
        d.command("STOR", "up.txt", FZ);
        assert_eq!(
            d.reply(550, true, FZ),
            step(FtpUpload, Outcome::Failure, Some("up.txt"))
        );
        d.command("RNFR", "/old", FZ);
        assert_eq!(d.reply(350, true, FZ), None);
        d.command("RNTO", "/new", FZ);
        assert_eq!(
            d.reply(250, true, FZ),
            step(FtpRename, Outcome::Success, Some("/old"))
        );
        d.command("LIST", "", FZ);
        assert_eq!(
            d.reply(530, true, FZ),
            step(FtpCommand, Outcome::Failure, None)
        );
        d.command("mkd", "d", FZ);
        assert_eq!(
            d.reply(257, true, FZ),
            step(FtpMkdir, Outcome::Success, Some("d"))
        );
        let servu = DialogRules {
            connect_on_220: false,
            transfers_from_replies: false,
        };
        assert_eq!(d.reply(220, true, servu), None);
        d.command("RETR", "/x", servu);
        assert_eq!(
            d.reply(226, true, servu),
            None,
            "Serv-U reports transfers itself"
        );
        d.command("RETR", "/x", servu);
        assert_eq!(d.reply(530, true, servu), None);
    }
}
