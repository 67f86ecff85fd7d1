//! truth.json: what was generated and which incidents the rules must raise.

use super::scenarios::Actors;
use super::world::{FTP_SERVER_STR, OFF_PORT};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// One expected incident: a rule name and its group key (all values strings).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Incident {
    /// Rule name, e.g. `ftp.brute_force`.
    pub rule: String,
    /// Group fields (ECS names) and their values.
    pub group: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct FileInfo {
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'static str>,
    lines: u64,
}

#[derive(Serialize)]
struct Files {
    #[serde(rename = "vsftpd.log")]
    vsftpd: FileInfo,
    #[serde(rename = "kern.log")]
    kern: FileInfo,
}

#[derive(Serialize)]
struct Truth<'a> {
    generator: &'static str,
    seed: u64,
    lines: u64,
    start: String,
    timezone: &'static str,
    files: Files,
    incidents: &'a [Incident],
}

fn incident(rule: &str, group: &[(&str, String)]) -> Incident {
    Incident {
        rule: rule.to_string(),
        group: group
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn ip(a: u32) -> String {
    Ipv4Addr::from(a).to_string()
}

/// The incidents the scenarios of `actors` must raise, sorted by rule then group (none
/// for a run without attacks).
pub fn incidents(actors: &Actors) -> Vec<Incident> {
    let server = || ("destination.ip", FTP_SERVER_STR.to_string());
    let src = |a: u32| ("source.ip", ip(a));
    let mut v: Vec<Incident> = actors
        .anon
        .iter()
        .map(|&a| incident("ftp.anonymous_login", &[server(), src(a)]))
        .collect();
    if let Some(a) = actors.anon_upload {
        v.push(incident("ftp.anonymous_upload", &[server(), src(a)]));
    }
    if let Some(a) = actors.brute {
        v.push(incident("ftp.brute_force", &[src(a)]));
    }
    if let Some(a) = actors.brute_ok {
        v.push(incident("ftp.brute_force_success", &[src(a)]));
    }
    // The insider's downloads and every drop client's uploads to the off-port instance.
    for &a in actors.insider.iter().chain(&actors.offport) {
        v.push(incident("ftp.sensitive_transfer", &[server(), src(a)]));
    }
    // The scanner is refused on far more than 15 ports of one host: a slow port scan too.
    // It contacts a single host, so the random walk (over hosts) never sees a second contact.
    if let Some(a) = actors.scanner {
        v.push(incident("firewall.port_scan", &[src(a), server()]));
        v.push(incident("firewall.slow_port_scan", &[src(a), server()]));
    }
    // The sweeper is refused by 40-60 hosts: a slow sweep too, and its first contacts all
    // fail, so the random walk declares it a scanner.
    if let Some((a, port)) = actors.sweep {
        let port = ("destination.port", port.to_string());
        v.push(incident("firewall.host_sweep", &[src(a), port]));
        v.push(incident("firewall.slow_host_sweep", &[src(a)]));
        v.push(incident("firewall.trw_scanner", &[src(a)]));
    }
    // One host, one new refused port every 5 minutes: only the 24-hour distinct count sees it.
    if let Some(a) = actors.slow_scanner {
        v.push(incident("firewall.slow_port_scan", &[src(a), server()]));
    }
    // 20 hosts, one port each, all refused: too few for the sweep rules, enough for the walk.
    if let Some(a) = actors.fast_scanner {
        v.push(incident("firewall.trw_scanner", &[src(a)]));
    }
    if !actors.offport.is_empty() {
        v.push(incident(
            "cross.ftp_off_port",
            &[server(), ("destination.port", OFF_PORT.to_string())],
        ));
    }
    v.sort();
    v
}

/// Serializes truth.json (pretty, with a final newline).
pub fn to_json(
    seed: u64,
    lines: u64,
    start: &chrono::DateTime<chrono::Utc>,
    counts: (u64, u64),
    incidents: &[Incident],
) -> Vec<u8> {
    let truth = Truth {
        generator: "portcullis gen",
        seed,
        lines,
        start: start.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        timezone: "UTC",
        files: Files {
            vsftpd: FileInfo {
                format: "vsftpd",
                host: Some(FTP_SERVER_STR),
                lines: counts.0,
            },
            kern: FileInfo {
                format: "iptables",
                host: None,
                lines: counts.1,
            },
        },
        incidents,
    };
    let mut out = serde_json::to_vec_pretty(&truth).expect("truth serializes");
    out.push(b'\n');
    out
}
