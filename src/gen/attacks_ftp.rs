//! FTP scenarios: anonymous sessions (one of them uploading), a brute force that fails, one
//! that works, an insider downloading sensitive files, and the off-port drop server.
//!
//! Each builder returns a [`Script`] with times relative to its start; vsftpd lines carry a
//! session ordinal in `pid` (see `scenarios.rs`).

use super::event::{Line, Prefix, VsKind, VsLine};
use super::rng::Rng;
use super::scenarios::Script;
use super::session::{ftp_session, syn, Lines, Profile, Session, SEC};
use super::world::{
    PortTracker, Stack, World, FTP_PORT, FTP_SERVER, OFF_PASV, OFF_PORT, PASV, USERS,
};

const BRUTE_USERS: [&str; 10] = [
    "root",
    "admin",
    "test",
    "oracle",
    "user",
    "guest",
    "administrator",
    "ftpuser",
    "postgres",
    "ubuntu",
];
const ANON_PASSWORDS: [&str; 6] = [
    "guest@example.com",
    "mozilla@example.com",
    "IEUser@",
    "lftp@",
    "-wget@",
    "anonymous@",
];
/// Failed logins of the brute force that works: five make `ftp.brute_force_success`, and
/// fewer than eight never make `ftp.brute_force`.
pub const GUESSES: u32 = 6;

fn vs(pid: u32, client: u32, user: &'static str, kind: VsKind) -> Line {
    Line::Vs(VsLine {
        pid,
        client,
        mapped: false,
        user,
        kind,
    })
}

/// A session on port 21 of the FTP server, as a scripted one (session ordinal `pid`).
fn session(world: &World, client: u32, pid: u32, user: &'static str, profile: Profile) -> Session {
    Session {
        client,
        mapped: false,
        stack: world.stack(client),
        server: FTP_SERVER,
        port: FTP_PORT,
        pasv: PASV,
        pid,
        user,
        anon_password: None,
        typo: false,
        ops: 1,
        profile,
    }
}

/// A SYN to port 21 at `t` and the CONNECT of session `pid` it opens; returns the CONNECT's
/// time.
fn open_control(
    rng: &mut Rng,
    stack: &Stack,
    client: u32,
    pid: u32,
    t: i64,
    lines: &mut Lines,
) -> i64 {
    let l = syn(rng, stack, Prefix::AcceptIn, client, FTP_SERVER, FTP_PORT);
    lines.push((t, Line::Fw(l)));
    let tc = t + rng.range_i(50_000, 400_000);
    lines.push((tc, vs(pid, client, "", VsKind::Connect)));
    tc
}

/// An anonymous session browsing /pub; with `upload`, creating a directory and uploading
/// to /incoming instead (`ftp.anonymous_upload`).
pub fn anonymous(rng: &mut Rng, world: &World, client: u32, ppm: u32, upload: bool) -> Script {
    let profile = if upload {
        Profile::AnonUpload
    } else {
        Profile::Anonymous
    };
    let s = Session {
        user: rng.pick(&["ftp", "anonymous"]),
        anon_password: Some(rng.pick(&ANON_PASSWORDS)),
        ops: if upload {
            rng.range(2, 3)
        } else {
            rng.range(1, 3)
        } as u32,
        ..session(world, client, 0, "", profile)
    };
    let mut lines = Vec::new();
    ftp_session(
        rng,
        &s,
        0,
        &mut PortTracker::default(),
        &mut None,
        &mut lines,
    );
    Script {
        ppm,
        lines,
        sessions: 1,
    }
}

/// ~30 failed logins over ~90 s, three per connection (vsftpd's `max_login_fails`), never a
/// success. All failures fall within 110 s so a 120 s window sees one burst.
pub fn brute_force(rng: &mut Rng, world: &World, client: u32, ppm: u32) -> Script {
    let stack = world.stack(client);
    let target = rng.range(28, 32);
    let mut lines = Vec::new();
    let (mut t, mut fails, mut session, mut first) = (0i64, 0u64, 0u32, None);
    'conn: while fails < target {
        let tc = open_control(rng, &stack, client, session, t, &mut lines);
        t = tc + rng.range_i(800_000, 1_500_000);
        for _ in 0..3 {
            if fails == target || t - *first.get_or_insert(t) > 110 * SEC {
                break 'conn;
            }
            let user = rng.pick(&BRUTE_USERS);
            lines.push((t, vs(session, client, user, VsKind::Login { ok: false })));
            fails += 1;
            t += rng.range_i(2_200_000, 3_000_000);
        }
        session += 1;
        t += rng.range_i(100_000, 800_000);
    }
    let sessions = lines
        .iter()
        .filter(|(_, l)| matches!(l, Line::Vs(v) if v.kind == VsKind::Connect))
        .count();
    Script {
        ppm,
        lines,
        sessions: sessions as u32,
    }
}

/// A slow password guesser on one real account: [`GUESSES`] failed logins over about a
/// minute, two or three per connection, then a connection that logs in and downloads a
/// couple of ordinary files.
pub fn brute_success(rng: &mut Rng, world: &World, client: u32, ppm: u32) -> Script {
    let stack = world.stack(client);
    let user = rng.pick(&USERS);
    let mut lines = Vec::new();
    let (mut t, mut fails, mut pid) = (0i64, 0u32, 0u32);
    while fails < GUESSES {
        let tc = open_control(rng, &stack, client, pid, t, &mut lines);
        t = tc + rng.range_i(SEC, 3 * SEC);
        let n = (rng.range(2, 3) as u32).min(GUESSES - fails);
        for k in 0..n {
            if k > 0 {
                t += rng.range_i(11 * SEC, 16 * SEC);
            }
            lines.push((t, vs(pid, client, user, VsKind::Login { ok: false })));
        }
        fails += n;
        pid += 1;
        t += rng.range_i(3 * SEC, 6 * SEC);
    }
    let s = Session {
        ops: rng.range(2, 3) as u32,
        ..session(world, client, pid, user, Profile::Browse)
    };
    ftp_session(
        rng,
        &s,
        t,
        &mut PortTracker::default(),
        &mut None,
        &mut lines,
    );
    Script {
        ppm,
        lines,
        sessions: pid + 1,
    }
}

/// An employee's account downloading 4-7 spreadsheets, PDFs and database dumps in one
/// session (`ftp.sensitive_transfer`).
pub fn insider(rng: &mut Rng, world: &World, client: u32, ppm: u32) -> Script {
    let s = Session {
        ops: rng.range(4, 7) as u32,
        ..session(world, client, 0, rng.pick(&USERS), Profile::Insider)
    };
    let mut lines = Vec::new();
    ftp_session(
        rng,
        &s,
        0,
        &mut PortTracker::default(),
        &mut None,
        &mut lines,
    );
    Script {
        ppm,
        lines,
        sessions: 1,
    }
}

/// One or two clients logging in to the 2121 instance a few times and uploading archives to
/// /drop (each session's first operation is an upload, so every client moves a `.zip`,
/// `.7z` or `.rar`: `ftp.sensitive_transfer` as well as `cross.ftp_off_port`).
pub fn off_port(rng: &mut Rng, world: &World, clients: &[u32], ppm: u32, span_us: i64) -> Script {
    let spacing = (span_us / 40).clamp(20 * SEC, 600 * SEC);
    let mut lines = Vec::new();
    let mut session = 0;
    for (i, &client) in clients.iter().enumerate() {
        let user = rng.pick(&USERS);
        let mut ports = PortTracker::default();
        let mut t = i as i64 * spacing / 2 + rng.range_i(0, 10 * SEC);
        for _ in 0..rng.range(2, 3) {
            let s = Session {
                client,
                mapped: false,
                stack: world.stack(client),
                server: FTP_SERVER,
                port: OFF_PORT,
                pasv: OFF_PASV,
                pid: session,
                user,
                anon_password: None,
                typo: false,
                ops: rng.range(1, 3) as u32,
                profile: Profile::Drop,
            };
            let end = ftp_session(rng, &s, t, &mut ports, &mut None, &mut lines);
            t = end + spacing + rng.range_i(0, spacing);
            session += 1;
        }
    }
    Script {
        ppm,
        lines,
        sessions: session,
    }
}
