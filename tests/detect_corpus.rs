//! Format detection on every real log file of the shared corpus, through the CLI: each is
//! read as the format it is, with no `--format`.

mod common;

use common::*;

#[test]
fn every_corpus_log_is_detected_as_its_format() {
    let dir = repo().join("../shared/corpus");
    if !dir.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "corpus missing under CI=true"
        );
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        return;
    }
    let table = [
        ("cisco-asa/beats-asa-sample.log", "asa", 66),
        ("cisco-asa/ossec-docs-pix.log", "asa", 24),
        ("filezilla/ipban-recipe-filezilla.log", "filezilla", 4),
        ("iis-ftp/ipban-recipe-iis-ftp.log", "iis-ftp", 2),
        ("iis-ftp/ossec-docs-msftp.log", "iis-ftp", 43),
        ("iptables/beats-iptables.log", "iptables", 12),
        ("iptables/beats-ubiquiti.log", "iptables", 5),
        ("pf/elastic-integrations-opnsense.log", "filterlog", 3),
        ("pf/elastic-integrations-pfsense-bsd.log", "filterlog", 19),
        ("pf/ossec-docs-pf.log", "pf", 30),
        ("proftpd/fail2ban-proftpd.log", "proftpd", 10),
        ("proftpd/ossec-docs-proftpd.log", "proftpd", 14),
        ("pureftpd/fail2ban-pure-ftpd.log", "pure-ftpd", 1),
        ("vsftpd/fail2ban-vsftpd.log", "vsftpd", 8),
        ("vsftpd/ossec-docs-vsftpd.log", "vsftpd", 5),
        ("vsftpd/ossec-docs-xferlog.log", "xferlog", 2),
        (
            "windows-firewall/ossec-docs-windows_firewall.log",
            "windows-firewall",
            200,
        ),
        (
            "windows-firewall/plaso-firewall.log",
            "windows-firewall",
            14,
        ),
    ];
    for (file, format, events) in table {
        let out = portcullis(&[
            "parse",
            "--timezone",
            "UTC",
            dir.join(file).to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        let summary = err.lines().last().unwrap_or_default();
        assert!(
            summary.starts_with(&format!("{format}: "))
                && summary.contains(&format!(" {events} events")),
            "{file}: {summary}"
        );
    }
}
