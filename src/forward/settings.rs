//! The `[forward]` table of the configuration and its validation into [`ForwardSettings`].
//!
//! ```toml
//! [forward]
//! target = "tcp://127.0.0.1:6514"   # or udp://host:port
//! framing = "octet-counting"        # tcp only; or "lf"
//! format = "rfc5424"                # or "rfc3164"
//! facility = "local0"
//! app_name = "portcullis"
//! min_severity = "medium"
//! ```

use crate::rules::Severity;
use crate::store::outbox::{OutboxPolicy, OUTBOX_CAP};
use serde::Deserialize;

/// Default facility: local0, the first of the facilities RFC 5424 leaves to local use, so
/// a receiver can route incidents apart from the host's own logs.
pub const DEFAULT_FACILITY: u8 = 16;
/// Longest APP-NAME RFC 5424 allows (§6.2.5); RFC 3164's TAG allows 32.
const MAX_APP_NAME: usize = 48;

/// `[forward]` as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardSection {
    /// `tcp://host:port` or `udp://host:port`.
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
}

/// Transport of the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One datagram per message.
    Udp,
    /// A stream, framed.
    Tcp,
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
    /// UDP or TCP.
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
    /// The target as written: `tcp://host:port` or `udp://host:port`.
    pub fn target(&self) -> String {
        let scheme = match self.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
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
        }
        .validate()
    }
}

impl ForwardSection {
    /// Checks every value; the error says which key is wrong and why.
    pub fn validate(&self) -> Result<ForwardSettings, String> {
        let (scheme, address) = self.target.split_once("://").ok_or_else(|| {
            format!(
                "forward.target `{}`: expected tcp://host:port or udp://host:port",
                self.target
            )
        })?;
        let transport = match scheme {
            "tcp" => Transport::Tcp,
            "udp" => Transport::Udp,
            _ => {
                return Err(format!(
                    "forward.target: unknown scheme `{scheme}` (tcp or udp)"
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
        if transport == Transport::Udp && self.framing.is_some() {
            return Err("forward.framing applies to tcp targets only".into());
        }
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
        })
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
    }

    #[test]
    fn bad_values_say_which_key() {
        let table = [
            ("target = \"127.0.0.1:514\"", "forward.target"),
            ("target = \"tls://h:514\"", "unknown scheme"),
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
