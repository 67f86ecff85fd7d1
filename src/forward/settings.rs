//! The `[forward]` table of the configuration and its validation into [`ForwardSettings`].
//!
//! ```toml
//! [forward]
//! target = "tcp://127.0.0.1:6514"   # or udp://, tls:// (RFC 5425), relp://
//! framing = "octet-counting"        # tcp only; or "lf"
//! ca_file = "/etc/ssl/siem-ca.pem"  # tls only; the system roots when absent
//! cert_file = "client.pem"          # tls only, with key_file: mutual authentication
//! key_file = "client-key.pem"
//! server_name = "siem.example.net"  # tls only; default: the target's host
//! format = "rfc5424"                # or "rfc3164"
//! facility = "local0"
//! app_name = "portcullis"
//! min_severity = "medium"
//! ```

use crate::rules::Severity;
use crate::store::outbox::{OutboxPolicy, OUTBOX_CAP};
use serde::Deserialize;
use std::path::PathBuf;

/// Default facility: local0, the first of the facilities RFC 5424 leaves to local use, so
/// a receiver can route incidents apart from the host's own logs.
pub const DEFAULT_FACILITY: u8 = 16;
/// Longest APP-NAME RFC 5424 allows (§6.2.5); RFC 3164's TAG allows 32.
const MAX_APP_NAME: usize = 48;

/// `[forward]` as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardSection {
    /// `tcp://`, `udp://`, `tls://` or `relp://` then `host:port`.
    pub target: String,
    /// TCP framing (RFC 6587): `octet-counting` (default) or `lf`.
    pub framing: Option<Framing>,
    /// `rfc5424` (default) or `rfc3164`.
    pub format: Option<SyslogFormat>,
    /// Facility name (`local0`..`local7`, `daemon`, `auth`, ...) or number 0-23.
    pub facility: Option<toml::Value>,
    /// APP-NAME / TAG; default `portcullis`.
    pub app_name: Option<String>,
    /// Incidents below this severity are not forwarded; default: all.
    pub min_severity: Option<String>,
    /// Most messages queued while the receiver is away; default [`OUTBOX_CAP`].
    pub queue_cap: Option<u64>,
    /// TLS: PEM file of the CA certificates the receiver's certificate must chain to.
    pub ca_file: Option<PathBuf>,
    /// TLS: PEM file of our certificate chain, sent when the receiver asks for one.
    pub cert_file: Option<PathBuf>,
    /// TLS: PEM file of the private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// TLS: the name the receiver's certificate must carry; default the target's host.
    pub server_name: Option<String>,
}

/// Transport of the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One datagram per message.
    Udp,
    /// A stream, framed.
    Tcp,
    /// TLS over TCP, octet-counted (RFC 5425).
    Tls,
    /// rsyslog's Reliable Event Logging Protocol: each message acknowledged.
    Relp,
}

/// What a `tls://` connection checks and presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Trusted CAs (PEM); `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Our certificate chain and key (PEM), for receivers that require client certificates.
    pub client: Option<(PathBuf, PathBuf)>,
    /// The DNS name or IP address the receiver's certificate must be valid for.
    pub server_name: String,
}

/// TCP framing (RFC 6587 §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// `LEN SP MSG`: any byte may occur in a message.
    OctetCounting,
    /// `MSG LF`: the message must hold no LF (ours never do: text is escaped).
    Lf,
}

/// Message format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    /// RFC 5424 with a structured-data element.
    Rfc5424,
    /// BSD syslog: key=value pairs in the message text.
    Rfc3164,
}

/// A validated `[forward]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardSettings {
    /// UDP, TCP, TLS or RELP.
    pub transport: Transport,
    /// `host:port`, resolved at every connection attempt.
    pub address: String,
    /// TCP framing.
    pub framing: Framing,
    /// Message format.
    pub format: SyslogFormat,
    /// Facility number 0-23.
    pub facility: u8,
    /// APP-NAME.
    pub app_name: String,
    /// What is queued.
    pub outbox: OutboxPolicy,
    /// `tls://` only.
    pub tls: Option<TlsSettings>,
}

/// Facility names of RFC 5424 §6.2.1 (and the usual spellings), by number.
const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("ntp", 12),
    ("security", 13),
    ("console", 14),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

impl ForwardSettings {
    /// The target as written: `SCHEME://host:port`.
    pub fn target(&self) -> String {
        let scheme = match self.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Tls => "tls",
            Transport::Relp => "relp",
        };
        format!("{scheme}://{}", self.address)
    }

    /// Settings for a bare target (`--forward`), everything else default.
    pub fn for_target(target: &str) -> Result<ForwardSettings, String> {
        ForwardSection {
            target: target.to_string(),
            framing: None,
            format: None,
            facility: None,
            app_name: None,
            min_severity: None,
            queue_cap: None,
            ca_file: None,
            cert_file: None,
            key_file: None,
            server_name: None,
        }
        .validate()
    }
}

impl ForwardSection {
    /// Checks every value; the error says which key is wrong and why.
    pub fn validate(&self) -> Result<ForwardSettings, String> {
        let (scheme, address) = self.target.split_once("://").ok_or_else(|| {
            format!(
                "forward.target `{}`: expected tcp://, udp://, tls:// or relp:// then host:port",
                self.target
            )
        })?;
        let transport = match scheme {
            "tcp" => Transport::Tcp,
            "udp" => Transport::Udp,
            "tls" => Transport::Tls,
            "relp" => Transport::Relp,
            _ => {
                return Err(format!(
                    "forward.target: unknown scheme `{scheme}` (tcp, udp, tls or relp)"
                ))
            }
        };
        let port_ok = address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return Err(format!(
                "forward.target `{}`: expected host:port after the scheme",
                self.target
            ));
        }
        if transport != Transport::Tcp && self.framing.is_some() {
            return Err("forward.framing applies to tcp targets only (tls is always octet-counted, RFC 5425)".into());
        }
        let tls = self.tls_settings(transport, address)?;
        let facility = match &self.facility {
            None => DEFAULT_FACILITY,
            Some(toml::Value::Integer(n)) if (0..=23).contains(n) => *n as u8,
            Some(toml::Value::String(name)) => FACILITIES
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("forward.facility: unknown facility `{name}`"))?,
            Some(v) => {
                return Err(format!(
                    "forward.facility: `{v}` is not a name or a number 0-23"
                ))
            }
        };
        let app_name = self.app_name.clone().unwrap_or_else(|| "portcullis".into());
        let printable = |c: char| c.is_ascii_graphic() && c != '[' && c != ']' && c != ':';
        if app_name.is_empty() || app_name.len() > MAX_APP_NAME || !app_name.chars().all(printable)
        {
            return Err(format!(
                "forward.app_name `{app_name}`: 1 to {MAX_APP_NAME} printable ASCII characters, no spaces, `[`, `]` or `:`"
            ));
        }
        let min_severity = match &self.min_severity {
            None => Severity::Low,
            Some(s) => Severity::from_name(s).ok_or_else(|| {
                format!(
                    "forward.min_severity: unknown severity `{s}` (low, medium, high, critical)"
                )
            })?,
        };
        Ok(ForwardSettings {
            transport,
            address: address.to_string(),
            framing: self.framing.unwrap_or(Framing::OctetCounting),
            format: self.format.unwrap_or(SyslogFormat::Rfc5424),
            facility,
            app_name,
            outbox: OutboxPolicy {
                min_severity,
                cap: self.queue_cap.unwrap_or(OUTBOX_CAP).max(1),
            },
            tls,
        })
    }

    /// The TLS keys, checked: only on tls targets, cert and key together, a valid name.
    fn tls_settings(
        &self,
        transport: Transport,
        address: &str,
    ) -> Result<Option<TlsSettings>, String> {
        if transport != Transport::Tls {
            let given = [
                ("ca_file", self.ca_file.is_some()),
                ("cert_file", self.cert_file.is_some()),
                ("key_file", self.key_file.is_some()),
                ("server_name", self.server_name.is_some()),
            ];
            return match given.iter().find(|(_, set)| *set) {
                Some((key, _)) => Err(format!("forward.{key} applies to tls targets only")),
                None => Ok(None),
            };
        }
        let client = match (&self.cert_file, &self.key_file) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => None,
            _ => return Err("forward.cert_file and forward.key_file go together".into()),
        };
        // The host of `host:port`, without the brackets of an IPv6 address.
        let host = address
            .rsplit_once(':')
            .map_or(address, |(h, _)| h)
            .trim_start_matches('[')
            .trim_end_matches(']');
        let server_name = self.server_name.clone().unwrap_or_else(|| host.to_string());
        if rustls::pki_types::ServerName::try_from(server_name.as_str()).is_err() {
            return Err(format!(
                "forward.server_name `{server_name}`: not a DNS name or IP address"
            ));
        }
        Ok(Some(TlsSettings {
            ca_file: self.ca_file.clone(),
            client,
            server_name,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(extra: &str) -> Result<ForwardSettings, String> {
        let v: ForwardSection = toml::from_str(extra).map_err(|e| e.to_string())?;
        v.validate()
    }

    #[test]
    fn defaults_and_every_key() {
        let s = ForwardSettings::for_target("tcp://127.0.0.1:6514").unwrap();
        assert_eq!(s.transport, Transport::Tcp);
        assert_eq!(s.address, "127.0.0.1:6514");
        assert_eq!(s.target(), "tcp://127.0.0.1:6514");
        assert_eq!(s.framing, Framing::OctetCounting);
        assert_eq!(s.format, SyslogFormat::Rfc5424);
        assert_eq!((s.facility, s.app_name.as_str()), (16, "portcullis"));
        assert_eq!(s.outbox.min_severity, Severity::Low);
        assert_eq!(s.outbox.cap, OUTBOX_CAP);
        let s = section(
            "target = \"udp://[::1]:514\"\nformat = \"rfc3164\"\nfacility = \"auth\"\n\
             app_name = \"pc\"\nmin_severity = \"high\"\nqueue_cap = 10\n",
        )
        .unwrap();
        assert_eq!(
            (s.transport, s.address.as_str()),
            (Transport::Udp, "[::1]:514")
        );
        assert_eq!((s.format, s.facility), (SyslogFormat::Rfc3164, 4));
        assert_eq!((s.outbox.min_severity, s.outbox.cap), (Severity::High, 10));
        let s = section("target = \"tcp://h:1\"\nframing = \"lf\"\nfacility = 23\n").unwrap();
        assert_eq!((s.framing, s.facility), (Framing::Lf, 23));
        assert_eq!(s.tls, None);
        let s = section(
            "target = \"tls://[::1]:6514\"\nca_file = \"ca.pem\"\n\
             cert_file = \"c.pem\"\nkey_file = \"k.pem\"\n",
        )
        .unwrap();
        assert_eq!(s.target(), "tls://[::1]:6514");
        assert_eq!(
            s.tls,
            Some(TlsSettings {
                ca_file: Some("ca.pem".into()),
                client: Some(("c.pem".into(), "k.pem".into())),
                server_name: "::1".into(),
            })
        );
        let s = section("target = \"tls://10.0.0.5:6514\"\nserver_name = \"siem.example.net\"\n")
            .unwrap();
        let tls = s.tls.unwrap();
        assert_eq!((tls.ca_file, tls.client), (None, None));
        assert_eq!(tls.server_name, "siem.example.net");
        let s = section("target = \"relp://h:2514\"\n").unwrap();
        assert_eq!((s.transport, s.tls), (Transport::Relp, None));
    }

    #[test]
    fn bad_values_say_which_key() {
        let table = [
            ("target = \"127.0.0.1:514\"", "forward.target"),
            ("target = \"tlss://h:514\"", "unknown scheme"),
            (
                "target = \"tls://h:5\"\nframing = \"lf\"",
                "tcp targets only",
            ),
            (
                "target = \"tcp://h:5\"\nca_file = \"c\"",
                "forward.ca_file applies",
            ),
            (
                "target = \"relp://h:5\"\nserver_name = \"h\"",
                "forward.server_name applies",
            ),
            ("target = \"tls://h:5\"\ncert_file = \"c\"", "go together"),
            (
                "target = \"tls://h:5\"\nserver_name = \"a b\"",
                "not a DNS name",
            ),
            ("target = \"tcp://h\"", "host:port"),
            ("target = \"tcp://h:0\"", "host:port"),
            (
                "target = \"udp://h:5\"\nframing = \"lf\"",
                "tcp targets only",
            ),
            (
                "target = \"tcp://h:5\"\nfacility = \"local9\"",
                "unknown facility",
            ),
            ("target = \"tcp://h:5\"\nfacility = 24", "not a name"),
            (
                "target = \"tcp://h:5\"\napp_name = \"a b\"",
                "forward.app_name",
            ),
            (
                "target = \"tcp://h:5\"\nmin_severity = \"urgent\"",
                "unknown severity",
            ),
            (
                "target = \"tcp://h:5\"\nformat = \"json\"",
                "unknown variant",
            ),
            ("target = \"tcp://h:5\"\nport = 1", "unknown field"),
        ];
        for (text, want) in table {
            let err = section(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
