//! Invariant checks over vsftpd.log: brute force (failing and working), anonymous logins and
//! uploads, sensitive file types. Each scenario must satisfy its rule; nothing else may.

use super::attacks_ftp::GUESSES;
use super::logscan::{is_sensitive, max_fails_before_success, max_in_window, Vs, SEC};
use super::scenarios::Actors;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;

/// Dotted form of an address.
pub fn ip(a: u32) -> String {
    Ipv4Addr::from(a).to_string()
}

/// `ftp.brute_force` (8 failures in 120 s) holds for the brute force only, which never
/// succeeds; `ftp.brute_force_success` (5 failures, then a success, within 10 min) for the
/// brute force that works only.
pub fn check_logins(vs: &[Vs], actors: &Actors, ctx: &str) {
    let mut fails: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut oks: HashMap<&str, Vec<i64>> = HashMap::new();
    for v in vs {
        match v.action.as_str() {
            "FAIL LOGIN" => fails.entry(&v.client).or_default().push(v.t),
            "OK LOGIN" => oks.entry(&v.client).or_default().push(v.t),
            _ => {}
        }
    }
    let brute = actors.brute.map(ip);
    for (client, times) in &fails {
        let burst = max_in_window(times, 120 * SEC);
        if brute.as_deref() == Some(*client) {
            assert!(
                burst >= 8,
                "brute force has only {burst} failures in 120 s ({ctx})"
            );
            assert_eq!(
                burst,
                times.len(),
                "brute force failures split over bursts ({ctx})"
            );
        } else {
            assert!(
                burst < 8,
                "benign {client} has {burst} failures in 120 s ({ctx})"
            );
        }
    }
    if let Some(b) = &brute {
        assert!(fails.contains_key(b.as_str()), "no brute force ({ctx})");
        assert!(
            !oks.contains_key(b.as_str()),
            "brute force succeeded ({ctx})"
        );
    }
    let brute_ok = actors.brute_ok.map(ip);
    for (client, times) in &oks {
        let f = fails.get(client).map_or(&[][..], Vec::as_slice);
        let n = max_fails_before_success(f, times, 600 * SEC);
        if brute_ok.as_deref() == Some(*client) {
            assert!(
                n >= 5,
                "brute force success has only {n} failures before its login ({ctx})"
            );
        } else {
            assert!(
                n < 5,
                "benign {client} has {n} failures then a success within 10 min ({ctx})"
            );
        }
    }
    if let Some(b) = &brute_ok {
        check_brute_ok(vs, b, ctx);
    }
}

/// The brute force that works: exactly [`GUESSES`] failures, at most three per connection,
/// 40-100 s from the first to the one successful login, which then downloads.
fn check_brute_ok(vs: &[Vs], client: &str, ctx: &str) {
    let mine: Vec<&Vs> = vs.iter().filter(|v| v.client == client).collect();
    let of = |action: &str| -> Vec<&Vs> {
        mine.iter()
            .copied()
            .filter(|v| v.action == action)
            .collect()
    };
    let (fails, oks, connects) = (of("FAIL LOGIN"), of("OK LOGIN"), of("CONNECT"));
    assert_eq!(
        (fails.len(), oks.len()),
        (GUESSES as usize, 1),
        "brute force success: failures and logins ({ctx})"
    );
    let ok = oks[0];
    let span = ok.t - fails[0].t;
    assert!(
        (40 * SEC..=100 * SEC).contains(&span) && fails.iter().all(|f| f.t <= ok.t),
        "brute force success takes {span} µs ({ctx})"
    );
    let mut per_conn: BTreeMap<u32, usize> = BTreeMap::new();
    for f in &fails {
        *per_conn.entry(f.pid).or_default() += 1;
    }
    assert!(
        per_conn.len() >= 2
            && per_conn.values().all(|&n| n <= 3)
            && !per_conn.contains_key(&ok.pid)
            && connects.len() == per_conn.len() + 1,
        "brute force success connections: {per_conn:?}, {} CONNECTs ({ctx})",
        connects.len()
    );
    assert!(
        mine.iter()
            .any(|v| v.pid == ok.pid && v.action == "OK DOWNLOAD"),
        "brute force success downloads nothing ({ctx})"
    );
}

/// `ftp.anonymous_login` holds for the listed anonymous clients only (one session each, the
/// client used for nothing else); `ftp.anonymous_upload` for the listed uploader only.
pub fn check_anonymous(vs: &[Vs], actors: &Actors, ctx: &str) {
    let anon: Vec<&Vs> = vs.iter().filter(|v| v.anon).collect();
    let clients: BTreeSet<String> = anon.iter().map(|v| v.client.clone()).collect();
    let want: BTreeSet<String> = actors.anon.iter().map(|&a| ip(a)).collect();
    assert_eq!(clients, want, "anonymous clients ({ctx})");
    assert_eq!(
        anon.len(),
        want.len(),
        "an anonymous client logged in twice ({ctx})"
    );
    for a in &anon {
        assert!(a.anon_user(), "{a:?}");
        // The client is used for nothing else: every vsftpd line from it is its session's.
        assert!(
            vs.iter()
                .filter(|v| v.client == a.client)
                .all(|v| v.pid == a.pid),
            "{a:?} ({ctx})"
        );
    }
    assert!(
        vs.iter()
            .all(|v| want.contains(&v.client) || !v.anon_user()),
        "anonymous user outside the anonymous scenario ({ctx})"
    );
    let writers: BTreeSet<String> = vs
        .iter()
        .filter(|v| {
            v.anon_user() && matches!(v.action.as_str(), "OK UPLOAD" | "OK MKDIR" | "OK RENAME")
        })
        .map(|v| v.client.clone())
        .collect();
    let want: BTreeSet<String> = actors.anon_upload.iter().map(|&a| ip(a)).collect();
    assert_eq!(writers, want, "anonymous uploads ({ctx})");
    if let Some(u) = actors.anon_upload {
        assert!(actors.anon.contains(&u), "uploader is no anonymous client");
        assert!(
            vs.iter().any(|v| v.client == ip(u)
                && v.action == "OK UPLOAD"
                && v.arg.starts_with("/incoming/")),
            "no anonymous upload to /incoming/ ({ctx})"
        );
    }
}

/// `ftp.sensitive_transfer` holds for the insider and the drop clients only: nobody else
/// moves, or even names, a file of a sensitive type. The insider downloads several in one
/// session; every drop client uploads at least one.
pub fn check_sensitive(vs: &[Vs], actors: &Actors, ctx: &str) {
    let want: BTreeSet<String> = actors
        .insider
        .iter()
        .chain(&actors.offport)
        .map(|&a| ip(a))
        .collect();
    let mut moved: BTreeMap<&str, Vec<&Vs>> = BTreeMap::new();
    for v in vs.iter().filter(|v| v.arg.split(' ').any(is_sensitive)) {
        assert!(
            want.contains(&v.client),
            "benign {} {} {:?} ({ctx})",
            v.client,
            v.action,
            v.arg
        );
        if matches!(v.action.as_str(), "OK DOWNLOAD" | "OK UPLOAD") {
            moved.entry(&v.client).or_default().push(v);
        }
    }
    for w in &want {
        assert!(
            moved.contains_key(w.as_str()),
            "{w} moves no sensitive file ({ctx})"
        );
    }
    for &o in &actors.offport {
        assert!(
            moved[ip(o).as_str()]
                .iter()
                .all(|v| v.action == "OK UPLOAD"),
            "drop client downloads ({ctx})"
        );
    }
    if let Some(i) = actors.insider {
        let d = &moved[ip(i).as_str()];
        let sessions: BTreeSet<u32> = d.iter().map(|v| v.pid).collect();
        assert!(
            d.len() >= 3 && sessions.len() == 1 && d.iter().all(|v| v.action == "OK DOWNLOAD"),
            "insider: {} sensitive transfers in {} sessions ({ctx})",
            d.len(),
            sessions.len()
        );
    }
}
