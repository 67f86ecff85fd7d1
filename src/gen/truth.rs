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

/// The incidents the scenarios of `actors` must raise, sorted by rule then group.
pub fn incidents(actors: &Actors) -> Vec<Incident> {
    let server = || ("destination.ip", FTP_SERVER_STR.to_string());
    let mut v: Vec<Incident> = actors
        .anon
        .iter()
        .map(|&a| incident("ftp.anonymous_login", &[server(), ("source.ip", ip(a))]))
        .collect();
    v.push(incident(
        "ftp.brute_force",
        &[("source.ip", ip(actors.brute))],
    ));
    v.push(incident(
        "firewall.port_scan",
        &[("source.ip", ip(actors.scanner)), server()],
    ));
    v.push(incident(
        "cross.ftp_off_port",
        &[server(), ("destination.port", OFF_PORT.to_string())],
    ));
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
