//! Incidents forwarded over TLS (RFC 5425) to a REAL rsyslogd (imtcp with the gtls stream
//! driver, package rsyslog-gnutls) on 127.0.0.1, with certificates made here (rcgen):
//! exact delivery and a hostile name escaped; receivers whose certificate is from an unknown
//! CA, for another name or expired, and a missing CA file, are refused, logged once, counted,
//! and their messages stay queued until a good configuration sends them; with client
//! certificates required, only ours from the trusted CA gets in.

mod daemon_support;
mod rsyslog_support;

use daemon_support::{portcullis, stats_json};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rsyslog_support::*;
use std::path::{Path, PathBuf};

/// A test CA.
struct Ca {
    cert: Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// Writes the CA certificate to `dir/NAME.pem`.
    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, self.cert.pem()).unwrap();
        path
    }

    /// Issues a certificate for `names` (valid for server and client use; expired when
    /// `expired`) and writes it and its key to `dir/NAME.pem` and `dir/NAME-key.pem`.
    fn issue(&self, dir: &Path, name: &str, names: &[&str], expired: bool) -> (PathBuf, PathBuf) {
        let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if expired {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        let (c, k) = (
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}-key.pem")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }
}

/// rsyslogd accepting TLS on `port` with `ca`, `cert` and `key`; `auth` is the gtls auth
/// mode (`anon`: no client certificate asked; `x509/certvalid`: one from `ca` required).
fn tls_rsyslog(
    bin: &Path,
    dir: &Path,
    port: u16,
    (ca, cert, key): (&Path, &Path, &Path),
    auth: &str,
) -> Rsyslog {
    let global = format!(
        "defaultNetstreamDriverCAFile=\"{}\" defaultNetstreamDriverCertFile=\"{}\" \
         defaultNetstreamDriverKeyFile=\"{}\"",
        ca.display(),
        cert.display(),
        key.display()
    );
    let inputs = format!(
        "module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" \
         streamDriver.authMode=\"{auth}\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\")\n"
    );
    Rsyslog::start_with(bin, dir, port, &global, &inputs)
}

/// The sample logs' config with `forward` (a `[forward]` table) added, written to `dir`.
fn samples_config(dir: &Path, forward: &str) -> PathBuf {
    let text = std::fs::read_to_string(samples()).unwrap().replace(
        "path = \"",
        &format!("path = \"{}/", samples().parent().unwrap().display()),
    );
    let path = dir.join("p.toml");
    std::fs::write(&path, text + forward).unwrap();
    path
}

/// What a replay that could not forward said and counted.
struct Refused {
    /// The `forward failed` lines of its log.
    failures: Vec<String>,
    queued: u64,
    failed_attempts: u64,
    tls_failures: u64,
}

/// Replays the samples into `db` with `forward`, expecting nothing sent.
fn replay_refused(dir: &Path, db: &Path, forward: &str) -> Refused {
    let config = samples_config(dir, forward);
    let out = portcullis(&[
        "replay",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("forwarded "))
        .unwrap_or_else(|| panic!("no forwarding summary:\n{stdout}"));
    assert!(line.starts_with("forwarded 0 messages"), "{line}");
    let stats = &stats_json(db).expect("stats")["forward"];
    let n = |k: &str| stats[k].as_u64().unwrap();
    assert_eq!(n("sent"), 0);
    Refused {
        failures: stderr
            .lines()
            .filter(|l| l.contains("forward failed"))
            .map(str::to_string)
            .collect(),
        queued: n("queued"),
        failed_attempts: n("failed_attempts"),
        tls_failures: n("tls_failures"),
    }
}

/// Checks a refusal: logged once (with `want` in the message) however many retries,
/// every attempt counted as a TLS failure, and at least one message per stored incident
/// queued.
fn assert_refused(r: &Refused, db: &Path, want: &str) {
    assert_eq!(r.failures.len(), 1, "{want}: {:#?}", r.failures);
    assert!(r.failures[0].contains(want), "{want}: {}", r.failures[0]);
    assert!(r.failed_attempts >= 3, "{want}: {}", r.failed_attempts);
    assert_eq!(r.tls_failures, r.failed_attempts, "{want}");
    assert!(
        r.queued as usize >= stored(db).len(),
        "{want}: {}",
        r.queued
    );
}

/// Runs one refused replay per case (name, `[forward]` table, expected words) side by
/// side in its own folder under `dir` (each retries for the 5 s drain limit) and checks
/// each refusal.
fn assert_all_refused(dir: &Path, cases: &[(&str, String, &str)]) {
    std::thread::scope(|s| {
        for (name, table, want) in cases {
            let sub = dir.join(name);
            std::fs::create_dir_all(&sub).unwrap();
            s.spawn(move || {
                let db = sub.join("p.db");
                assert_refused(&replay_refused(&sub, &db, table), &db, want);
            });
        }
    });
}

/// Messages waiting in the outbox of `db`.
fn queued(db: &Path) -> usize {
    stats_json(db).expect("stats")["forward"]["queued"]
        .as_u64()
        .unwrap() as usize
}

#[test]
fn tls_delivers_exactly_the_stored_incidents_and_escapes_a_hostile_name() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("portcullis test CA");
    let ca_pem = ca.write(dir.path(), "ca");
    let (cert, key) = ca.issue(dir.path(), "server", &["127.0.0.1", "localhost"], false);
    for case in ["samples", "hostile"] {
        let sub = dir.path().join(case);
        std::fs::create_dir_all(&sub).unwrap();
        let port = free_port();
        let rs = tls_rsyslog(&bin, &sub, port, (&ca_pem, &cert, &key), "anon");
        // ca_file relative to the config file's directory.
        std::fs::copy(&ca_pem, sub.join("ca.pem")).unwrap();
        let table =
            format!("[forward]\ntarget = \"tls://127.0.0.1:{port}\"\nca_file = \"ca.pem\"\n");
        if case == "hostile" {
            // An address target checked against a DNS name of the certificate.
            let db = hostile_replay(&sub, &(table + "server_name = \"localhost\"\n"));
            assert_hostile_escaped(&rs.wait_messages(2), &db);
            continue;
        }
        let db = sub.join("p.db");
        let config = samples_config(&sub, &table);
        let args = [
            "replay",
            "--config",
            config.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ];
        let sent = replay_forwarding(&args);
        let msgs = rs.wait_messages(sent);
        assert_eq!(msgs.len(), sent);
        assert_matches_store(&msgs, &db);
        assert!(msgs.iter().all(|m| m.sd_ids == ["portcullis@32473"]));
        assert_eq!(replay_forwarding(&args), 0);
    }
}

#[test]
fn refused_receiver_certificates_are_named_counted_and_keep_the_queue() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("portcullis test CA");
    let ca_pem = ca.write(dir.path(), "ca");
    let other_pem = Ca::new("another CA").write(dir.path(), "other-ca");
    let (cert, key) = ca.issue(dir.path(), "server", &["127.0.0.1"], false);
    let (old, old_key) = ca.issue(dir.path(), "expired", &["127.0.0.1"], true);
    let (port, old_port) = (free_port(), free_port());
    let good = tls_rsyslog(
        &bin,
        &dir.path().join("good"),
        port,
        (&ca_pem, &cert, &key),
        "anon",
    );
    let _expired = tls_rsyslog(
        &bin,
        &dir.path().join("expired"),
        old_port,
        (&ca_pem, &old, &old_key),
        "anon",
    );
    let target = |p: u16| format!("[forward]\ntarget = \"tls://127.0.0.1:{p}\"\n");
    let ca_line = |p: &Path| format!("ca_file = {:?}\n", p.display().to_string());
    let cases = [
        (
            "unknown-ca",
            target(port) + &ca_line(&other_pem),
            "not signed by a CA in",
        ),
        (
            "name",
            target(port) + &ca_line(&ca_pem) + "server_name = \"siem.example.net\"\n",
            "not valid for `siem.example.net` (forward.server_name)",
        ),
        (
            "expired",
            target(old_port) + &ca_line(&ca_pem),
            "certificate has expired",
        ),
        (
            "no-file",
            target(port) + &ca_line(&dir.path().join("missing.pem")),
            "forward.ca_file",
        ),
    ];
    assert_all_refused(dir.path(), &cases);
    assert!(good.messages().is_empty());
    // The queue kept by the refused replay goes out once the right CA is configured.
    let sub = dir.path().join("unknown-ca");
    let db = sub.join("p.db");
    let queued = queued(&db);
    let config = samples_config(&sub, &(target(port) + &ca_line(&ca_pem)));
    let args = [
        "replay",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    assert_eq!(replay_forwarding(&args), queued);
    assert_matches_store(&good.wait_messages(queued), &db);
}

#[test]
fn mutual_auth_admits_only_a_client_certificate_of_the_trusted_ca() {
    let Some(bin) = rsyslogd_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("portcullis test CA");
    let ca_pem = ca.write(dir.path(), "ca");
    let (cert, key) = ca.issue(dir.path(), "server", &["127.0.0.1"], false);
    let (client, client_key) = ca.issue(dir.path(), "client", &["loghost.example"], false);
    let stranger = Ca::new("another CA");
    let (bad, bad_key) = stranger.issue(dir.path(), "stranger", &["loghost.example"], false);
    let port = free_port();
    let rs = tls_rsyslog(
        &bin,
        &dir.path().join("rs"),
        port,
        (&ca_pem, &cert, &key),
        "x509/certvalid",
    );
    let table = |c: Option<(&Path, &Path)>| {
        let mut t = format!(
            "[forward]\ntarget = \"tls://127.0.0.1:{port}\"\nca_file = {:?}\n",
            ca_pem.display().to_string()
        );
        if let Some((c, k)) = c {
            t += &format!(
                "cert_file = {:?}\nkey_file = {:?}\n",
                c.display().to_string(),
                k.display().to_string()
            );
        }
        t
    };
    let cases = [
        (
            "stranger",
            table(Some((&bad, &bad_key))),
            "does it trust forward.cert_file?",
        ),
        (
            "anonymous",
            table(None),
            "does it require a client certificate (forward.cert_file)?",
        ),
    ];
    assert_all_refused(dir.path(), &cases);
    assert!(rs.messages().is_empty(), "{:#?}", rs.messages());
    // Our certificate from the trusted CA: the queue of the refused replay arrives, once.
    let sub = dir.path().join("stranger");
    let db = sub.join("p.db");
    let queued = queued(&db);
    let config = samples_config(&sub, &table(Some((&client, &client_key))));
    let args = [
        "replay",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    assert_eq!(replay_forwarding(&args), queued);
    assert_matches_store(&rs.wait_messages(queued), &db);
}
