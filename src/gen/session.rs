//! Building blocks shared by benign traffic and scenarios: SYN records and FTP sessions.

use super::event::{FilePath, FwLine, Line, Prefix, Proto, VsKind, VsLine};
use super::rng::Rng;
use super::world::{PortTracker, Stack};

/// Lines produced by a builder: (time in µs, line). Times need not be sorted.
pub type Lines = Vec<(i64, Line)>;

/// Microseconds per second.
pub const SEC: i64 = 1_000_000;
/// Earliest data connection after the CONNECT (the off-port join must never see it).
pub const DATA_AFTER_CONNECT: i64 = 4 * SEC;

/// Marks a scripted session's `pid` (low bits: session number) until its first line is
/// written and it gets a real pid, so pids rise with time like the background's.
pub const PID_PLACEHOLDER: u32 = 1 << 31;

/// The host's process ids as vsftpd sessions see them: rising by a few per session (other
/// processes fork too), wrapping at Linux's default `pid_max` of 4194304.
pub struct Pids {
    rng: Rng,
    next: u32,
}

impl Pids {
    /// A counter drawing its steps from `rng`.
    pub fn new(mut rng: Rng) -> Self {
        let next = rng.range(1_200, 30_000) as u32;
        Self { rng, next }
    }

    /// A fresh pid.
    pub fn alloc(&mut self) -> u32 {
        let pid = self.next;
        self.next += self.rng.range(2, 7) as u32;
        if self.next >= 4_194_304 {
            self.next = 300 + self.rng.below(100) as u32;
        }
        pid
    }
}

/// A TCP SYN from a client with stack `stack`.
pub fn syn(rng: &mut Rng, stack: &Stack, prefix: Prefix, src: u32, dst: u32, dpt: u16) -> FwLine {
    FwLine {
        prefix,
        src,
        dst,
        len: stack.syn_len,
        ttl: stack.ttl,
        id: rng.below(65_536) as u16,
        df: true,
        proto: Proto::Tcp {
            spt: stack.eph_port(rng),
            dpt,
            window: stack.window,
        },
    }
}

/// What a session does once logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// A regular user: downloads, uploads, listings, directory housekeeping.
    Regular,
    /// An anonymous user browsing /pub.
    Anonymous,
    /// An anonymous user creating a directory, then uploading to /incoming.
    AnonUpload,
    /// Downloads of ordinary files only (the account taken over by a brute force).
    Browse,
    /// Downloads of sensitive files only (spreadsheets, PDFs, database dumps).
    Insider,
    /// The attacker's drop: uploads to /drop, the first operation always an upload.
    Drop,
}

/// Everything needed to build one FTP session.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// Client address.
    pub client: u32,
    /// vsftpd shows the client as `::ffff:a.b.c.d`.
    pub mapped: bool,
    /// Client stack (for the firewall records).
    pub stack: Stack,
    /// Server address.
    pub server: u32,
    /// Control port (21 or 2121).
    pub port: u16,
    /// Passive port range of that instance.
    pub pasv: (u16, u16),
    /// vsftpd process id (or a session ordinal, remapped later, for scripted sessions).
    pub pid: u32,
    /// Account (`ftp`/`anonymous` for anonymous sessions).
    pub user: &'static str,
    /// Anonymous password, for anonymous sessions.
    pub anon_password: Option<&'static str>,
    /// One mistyped password before the successful login.
    pub typo: bool,
    /// Number of operations after login.
    pub ops: u32,
    /// What the operations are.
    pub profile: Profile,
}

const DL_DIRS: [&str; 5] = [
    "/pub/reports",
    "/pub/software",
    "/data/exports",
    "/shared/finance",
    "/outgoing",
];
const UL_DIRS: [&str; 4] = ["/incoming", "/incoming/orders", "/upload", "/data/imports"];
const STEMS: [&str; 10] = [
    "report",
    "invoice",
    "export",
    "backup",
    "release",
    "statement",
    "inventory",
    "orders",
    "payroll",
    "catalog",
];
/// Extensions of benign files: none is a type `ftp.sensitive_transfer` flags.
const EXTS: [&str; 7] = [".csv", ".txt", ".tar.gz", ".xml", ".json", ".log", ".html"];
const PUB_DIRS: [&str; 3] = ["/pub", "/pub/software", "/pub/docs"];
const PUB_STEMS: [&str; 6] = [
    "README",
    "release-notes",
    "manual",
    "firmware",
    "datasheet",
    "mirror-list",
];
const PUB_EXTS: [&str; 4] = [".txt", ".md", ".tar.gz", ".iso"];
const ANON_UL_STEMS: [&str; 5] = ["setup", "release", "tools", "pack", "files"];
const ANON_UL_EXTS: [&str; 3] = [".iso", ".tar.gz", ".mp4"];
const DROP_STEMS: [&str; 5] = ["x", "data", "dump", "archive", "db"];
/// Every drop upload is an archive of a sensitive type.
const DROP_EXTS: [&str; 3] = [".zip", ".7z", ".rar"];
const INSIDER_DIRS: [&str; 4] = ["/shared/finance", "/shared/hr", "/data/exports", "/data/db"];
const INSIDER_STEMS: [&str; 6] = [
    "payroll",
    "salaries",
    "customers",
    "budget",
    "contracts",
    "accounts",
];
const INSIDER_EXTS: [&str; 3] = [".xlsx", ".pdf", ".sql"];

fn file(
    rng: &mut Rng,
    dirs: &[&'static str],
    stems: &[&'static str],
    exts: &[&'static str],
) -> FilePath {
    FilePath {
        dir: rng.pick(dirs),
        stem: rng.pick(stems),
        num: if rng.chance(600) {
            rng.range(1, 9999) as u32
        } else {
            0
        },
        ext: rng.pick(exts),
    }
}

/// Operation `i` of a session: a vsftpd line kind, and whether it needs a data connection.
fn operation(rng: &mut Rng, profile: Profile, i: u32) -> (Option<VsKind>, bool) {
    let (upload, path) = match profile {
        Profile::Anonymous => (false, file(rng, &PUB_DIRS, &PUB_STEMS, &PUB_EXTS)),
        Profile::AnonUpload if i == 0 => {
            let dir = FilePath {
                dir: "/incoming",
                stem: rng.pick(&["new", "upload", "tmp"]),
                num: rng.range(1, 999) as u32,
                ext: "",
            };
            return (Some(VsKind::Mkdir(dir)), false);
        }
        Profile::AnonUpload => (
            true,
            file(rng, &["/incoming"], &ANON_UL_STEMS, &ANON_UL_EXTS),
        ),
        Profile::Browse => (false, file(rng, &DL_DIRS, &STEMS, &EXTS)),
        Profile::Insider => (
            false,
            file(rng, &INSIDER_DIRS, &INSIDER_STEMS, &INSIDER_EXTS),
        ),
        Profile::Drop => {
            if i > 0 && rng.chance(150) {
                let dir = FilePath {
                    dir: "/drop",
                    stem: "stage",
                    num: rng.range(1, 99) as u32,
                    ext: "",
                };
                return (Some(VsKind::Mkdir(dir)), false);
            }
            (true, file(rng, &["/drop"], &DROP_STEMS, &DROP_EXTS))
        }
        Profile::Regular => match rng.weighted(&[45, 20, 15, 5, 7, 8]) {
            0 => (false, file(rng, &DL_DIRS, &STEMS, &EXTS)),
            1 => (true, file(rng, &UL_DIRS, &STEMS, &EXTS)),
            2 => return (None, true), // LIST: a data connection, no vsftpd line
            3 => {
                let dir = FilePath {
                    dir: rng.pick(&UL_DIRS),
                    stem: "batch",
                    num: rng.range(1, 999) as u32,
                    ext: "",
                };
                return (Some(VsKind::Mkdir(dir)), false);
            }
            4 => {
                return (
                    Some(VsKind::Delete(file(rng, &UL_DIRS, &STEMS, &EXTS))),
                    false,
                )
            }
            _ => {
                return (
                    Some(VsKind::Rename(file(rng, &UL_DIRS, &STEMS, &EXTS))),
                    false,
                )
            }
        },
    };
    let bytes = match profile {
        Profile::Drop | Profile::AnonUpload => rng.log_uniform(200_000, 80_000_000),
        _ => rng.log_uniform(120, 20_000_000),
    };
    let mut rate_centi = rng.log_uniform(2_000, 3_000_000);
    // Keep every transfer under ten minutes: vsftpd's rate is bytes over elapsed time.
    let floor = bytes * 100 / (1024 * 600) + 1;
    rate_centi = rate_centi.max(floor);
    (
        Some(VsKind::Transfer {
            upload,
            path,
            bytes,
            rate_centi,
        }),
        true,
    )
}

/// Appends a session starting (firewall SYN) at `t0`; returns the time of its last line.
/// Data connections go through `ports` (bounding distinct ports per window) and start at
/// least [`DATA_AFTER_CONNECT`] after the CONNECT. Sets `*fail_at` to the typo's time.
pub fn ftp_session(
    rng: &mut Rng,
    s: &Session,
    t0: i64,
    ports: &mut PortTracker,
    fail_at: &mut Option<i64>,
    out: &mut Lines,
) -> i64 {
    let vs = |user: &'static str, kind: VsKind| {
        Line::Vs(VsLine {
            pid: s.pid,
            client: s.client,
            mapped: s.mapped,
            user,
            kind,
        })
    };
    out.push((
        t0,
        Line::Fw(syn(
            rng,
            &s.stack,
            Prefix::AcceptIn,
            s.client,
            s.server,
            s.port,
        )),
    ));
    let tc = t0 + rng.range_i(50_000, 900_000);
    out.push((tc, vs("", VsKind::Connect)));
    let mut t = tc + rng.range_i(1_500_000, 6 * SEC);
    if s.typo {
        out.push((t, vs(s.user, VsKind::Login { ok: false })));
        *fail_at = Some(t);
        t += rng.range_i(2_500_000, 9 * SEC);
    }
    let login = match s.anon_password {
        Some(password) => VsKind::AnonLogin { password },
        None => VsKind::Login { ok: true },
    };
    out.push((t, vs(s.user, login)));
    for i in 0..s.ops {
        t += 300_000 + rng.skewed(5 * SEC as u64) as i64;
        let (kind, data) = operation(rng, s.profile, i);
        if data {
            t = t.max(tc + DATA_AFTER_CONNECT);
            let port = ports.admit(
                t,
                rng.range(u64::from(s.pasv.0), u64::from(s.pasv.1)) as u16,
            );
            out.push((
                t,
                Line::Fw(syn(
                    rng,
                    &s.stack,
                    Prefix::AcceptIn,
                    s.client,
                    s.server,
                    port,
                )),
            ));
            t += rng.range_i(20_000, 200_000);
        }
        if let Some(kind) = kind {
            if let VsKind::Transfer {
                bytes, rate_centi, ..
            } = kind
            {
                // duration = bytes / (rate * 1024) seconds, rate in hundredths of Kbyte/s.
                t += (u128::from(bytes) * 100_000_000 / (u128::from(rate_centi) * 1024)) as i64;
            }
            out.push((t, vs(s.user, kind)));
        }
    }
    t
}
