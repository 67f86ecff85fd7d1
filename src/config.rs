//! The TOML configuration file: sources, storage, rules, and the daemon's `[run]` settings.
//! `replay --config` and `run --config` read it. Unknown keys are errors, so a typo never
//! silently disables a source. `run` without a config uses [`Config::embedded_default`].

use crate::ingest::listen::{ListenerKind, ListenerSpec};
use crate::ingest::source::SourceSpec;
use portcullis_parsers::{Format, SourceTz};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[storage]`.
    #[serde(default)]
    pub storage: Storage,
    /// `[rules]`.
    #[serde(default)]
    pub rules: Rules,
    /// `[[source]]` entries.
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
    /// `[run]`: settings of the daemon (`portcullis run`).
    #[serde(default)]
    pub run: Run,
    /// `[[allow]]` entries: known scanners, known off-port servers, ...
    #[serde(default, rename = "allow")]
    pub allow: Vec<crate::rules::allow::AllowEntry>,
    /// `[[listener]]` entries: syslog and NetFlow received over the network (`run` only).
    #[serde(default, rename = "listener")]
    pub listeners: Vec<Listener>,
    /// `[forward]`: incidents sent to a syslog receiver.
    pub forward: Option<crate::forward::ForwardSection>,
    /// `[limits]`: caps on the correlation state; each absent key keeps its default.
    #[serde(default)]
    pub limits: crate::rules::limits::Limits,
    /// `[log]`: the daemon's messages.
    #[serde(default)]
    pub log: Log,
}

/// `[[listener]]`: a network listener of the daemon.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// `syslog` or `netflow` (NetFlow v5/v9 and IPFIX).
    pub kind: ListenerKindName,
    /// Address and port to bind, e.g. `127.0.0.1:5514`.
    pub bind: std::net::SocketAddr,
    /// `udp` (the default) or `tcp`; syslog only.
    pub proto: Option<Proto>,
    /// Zone of syslog stamps that carry no offset: `UTC`, `local` or an IANA name; the
    /// host's when absent.
    pub timezone: Option<String>,
}

/// The `kind` of a `[[listener]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenerKindName {
    /// Syslog messages.
    Syslog,
    /// NetFlow / IPFIX datagrams.
    Netflow,
}

/// The `proto` of a `[[listener]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// `[run]`: how the daemon polls, flushes and commits. Every key is optional; the defaults
/// are the constants of [`crate::daemon`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// Period of the rescan that is the truth about files (notify only wakes it earlier).
    pub poll_ms: Option<u64>,
    /// Input silence after which buffered events are correlated without waiting for the
    /// lateness allowance (and a quiet source stops holding back the merge).
    pub idle_ms: Option<u64>,
    /// Longest time between two commits while events flow.
    pub commit_ms: Option<u64>,
    /// Events correlated between two commits at most.
    pub commit_events: Option<u64>,
    /// Longest time between two snapshots of correlation state (each goes with a commit).
    pub snapshot_ms: Option<u64>,
    /// Files that exist at the very first start (no checkpoint yet) are read from their
    /// start (`true`) or followed from their end like `tail -F` (`false`, the default).
    pub read_from_start: Option<bool>,
}

/// `[log]`: what the daemon says on stderr.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// Level filter (`error`, `warn`, `info`, `debug`, or per module); `RUST_LOG` wins.
    pub level: Option<String>,
}

/// `[storage]`: where incidents go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// SQLite database path.
    pub db: Option<PathBuf>,
}

/// `[rules]`: which rules run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// A directory of `*.rule` files; the built-in pack when absent.
    pub dir: Option<PathBuf>,
    /// Lateness allowance in seconds.
    pub lateness_secs: Option<u64>,
}

/// `[[source]]`: one log file, or for `run` a pattern of files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The file. For `run` it may hold `*` and `?` in its file-name part
    /// (`/var/log/vsftpd*.log`): every matching file is followed, as it appears.
    pub path: PathBuf,
    /// Its format name; detected when absent.
    pub format: Option<String>,
    /// Zone of timestamps without offset: `UTC`, `local` or an IANA name; the host's when absent.
    pub timezone: Option<String>,
    /// Address of the host that writes this log.
    pub host: Option<std::net::IpAddr>,
}

/// Configuration errors, with the file they came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// The file is not valid TOML or has unknown keys.
    #[error("{0}: {1}")]
    Toml(PathBuf, toml::de::Error),
    /// A value is not acceptable.
    #[error("{0}: {1}")]
    Invalid(PathBuf, String),
}

/// Logs `run` watches when started without a config, with their formats; only those that
/// exist are used. Debian's auth.log and Red Hat's secure hold sshd's lines.
pub const DEFAULT_SOURCES: &[(&str, &str)] = &[
    ("/var/log/vsftpd.log", "vsftpd"),
    ("/var/log/xferlog", "xferlog"),
    ("/var/log/proftpd/proftpd.log", "proftpd"),
    ("/var/log/proftpd/xferlog", "xferlog"),
    ("/var/log/kern.log", "iptables"),
    ("/var/log/auth.log", "sshd"),
    ("/var/log/secure", "sshd"),
];

impl Config {
    /// The configuration `run` uses without `--config`: the [`DEFAULT_SOURCES`] that exist,
    /// in the host's time zone, the built-in rules, and the default database in the working
    /// directory.
    pub fn embedded_default() -> Config {
        Config {
            sources: DEFAULT_SOURCES
                .iter()
                .filter(|(path, _)| Path::new(path).is_file())
                .map(|(path, format)| Source {
                    path: PathBuf::from(path),
                    format: Some(format.to_string()),
                    timezone: None,
                    host: None,
                })
                .collect(),
            ..Config::default()
        }
    }

    /// Reads a config file. Relative paths in it are taken relative to the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io(path.into(), e))?;
        let mut cfg: Config =
            toml::from_str(&text).map_err(|e| ConfigError::Toml(path.into(), e))?;
        cfg.limits
            .validate()
            .map_err(|m| ConfigError::Invalid(path.into(), m))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        cfg.storage.db.as_mut().map(rebase);
        cfg.rules.dir.as_mut().map(rebase);
        for s in &mut cfg.sources {
            rebase(&mut s.path);
        }
        if let Some(f) = cfg.forward.as_mut() {
            for p in [&mut f.ca_file, &mut f.cert_file, &mut f.key_file] {
                p.as_mut().map(rebase);
            }
        }
        Ok(cfg)
    }

    /// The compiled `[[allow]]` entries.
    pub fn allowlist(&self, path: &Path) -> Result<Vec<crate::rules::allow::Allow>, ConfigError> {
        self.allow
            .iter()
            .map(|e| {
                crate::rules::allow::compile_allow(e)
                    .map_err(|m| ConfigError::Invalid(path.into(), m))
            })
            .collect()
    }

    /// The listeners as the daemon needs them.
    pub fn listener_specs(&self, path: &Path) -> Result<Vec<ListenerSpec>, ConfigError> {
        self.listeners
            .iter()
            .map(|l| {
                let invalid = |m: String| ConfigError::Invalid(path.into(), m);
                let kind = match (l.kind, l.proto.unwrap_or(Proto::Udp)) {
                    (ListenerKindName::Syslog, Proto::Udp) => ListenerKind::SyslogUdp,
                    (ListenerKindName::Syslog, Proto::Tcp) => ListenerKind::SyslogTcp,
                    (ListenerKindName::Netflow, Proto::Udp) => ListenerKind::Netflow,
                    (ListenerKindName::Netflow, Proto::Tcp) => {
                        return Err(invalid("netflow listeners are UDP only".into()))
                    }
                };
                let timezone = match &l.timezone {
                    Some(tz) => tz
                        .parse()
                        .map_err(|e| invalid(format!("timezone `{tz}`: {e}")))?,
                    None => SourceTz::Local,
                };
                Ok(ListenerSpec {
                    kind,
                    bind: l.bind,
                    timezone,
                })
            })
            .collect()
    }

    /// The validated `[forward]` table, if any.
    pub fn forward_settings(
        &self,
        path: &Path,
    ) -> Result<Option<crate::forward::ForwardSettings>, ConfigError> {
        self.forward
            .as_ref()
            .map(|f| {
                f.validate()
                    .map_err(|m| ConfigError::Invalid(path.into(), m))
            })
            .transpose()
    }

    /// The sources as the pipeline needs them.
    pub fn source_specs(&self, path: &Path) -> Result<Vec<SourceSpec>, ConfigError> {
        self.sources
            .iter()
            .map(|s| {
                let invalid = |m: String| ConfigError::Invalid(path.into(), m);
                Ok(SourceSpec {
                    path: s.path.clone(),
                    format: s
                        .format
                        .as_deref()
                        .map(|f| {
                            Format::from_name(f)
                                .ok_or_else(|| invalid(format!("unknown format `{f}`")))
                        })
                        .transpose()?,
                    timezone: match &s.timezone {
                        Some(tz) => tz
                            .parse()
                            .map_err(|e| invalid(format!("timezone `{tz}`: {e}")))?,
                        None => SourceTz::Local,
                    },
                    host: s.host,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sources_and_rebases_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[storage]\ndb = \"x.db\"\n[[source]]\npath = \"vsftpd.log\"\nformat = \"vsftpd\"\ntimezone = \"UTC\"\nhost = \"203.0.113.10\"\n",
        )
        .unwrap();
        let cfg = Config::load(&path).unwrap();
        assert_eq!(cfg.storage.db, Some(dir.path().join("x.db")));
        let specs = cfg.source_specs(&path).unwrap();
        assert_eq!(specs[0].path, dir.path().join("vsftpd.log"));
        assert_eq!(specs[0].format, Some(Format::Vsftpd));
        assert_eq!(specs[0].host, Some("203.0.113.10".parse().unwrap()));
    }

    #[test]
    fn run_section_and_glob_sources() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[run]\npoll_ms = 100\nread_from_start = true\n[[source]]\npath = \"logs/vsftpd*.log\"\n",
        )
        .unwrap();
        let cfg = Config::load(&path).unwrap();
        assert_eq!(cfg.run.poll_ms, Some(100));
        assert_eq!(cfg.run.read_from_start, Some(true));
        assert_eq!(cfg.run.idle_ms, None);
        let specs = cfg.source_specs(&path).unwrap();
        assert_eq!(specs[0].path, dir.path().join("logs/vsftpd*.log"));
        std::fs::write(&path, "[run]\npol_ms = 100\n").unwrap();
        assert!(matches!(Config::load(&path), Err(ConfigError::Toml(..))));
    }

    #[test]
    fn the_annotated_example_config_loads() {
        let cfg: Config = toml::from_str(include_str!("../portcullis.example.toml")).unwrap();
        let specs = cfg
            .source_specs(Path::new("portcullis.example.toml"))
            .unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(cfg.run.idle_ms, Some(100));
        assert_eq!(specs[1].path, PathBuf::from("/var/log/proftpd/*.log"));
        let fwd = cfg
            .forward_settings(Path::new("portcullis.example.toml"))
            .unwrap()
            .unwrap();
        assert_eq!(fwd.target(), "tcp://127.0.0.1:6514");
        assert_eq!(fwd.outbox.min_severity, crate::rules::Severity::Medium);
    }

    #[test]
    fn forward_table_is_validated_with_the_file_name() {
        let cfg: Config = toml::from_str("[forward]\ntarget = \"smtp://h:1\"\n").unwrap();
        assert!(matches!(
            cfg.forward_settings(Path::new("p")),
            Err(ConfigError::Invalid(..))
        ));
        assert!(toml::from_str::<Config>("[forward]\nformat = \"rfc5424\"\n").is_err());
        let none: Config = toml::from_str("").unwrap();
        assert_eq!(none.forward_settings(Path::new("p")).unwrap(), None);
        // The example spells out every cap at its default.
        assert_eq!(cfg.limits, crate::rules::limits::Limits::default());
    }

    #[test]
    fn limits_are_read_and_a_zero_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[limits]\ngroups_per_rule = 7\n").unwrap();
        let cfg = Config::load(&path).unwrap();
        assert_eq!(cfg.limits.groups_per_rule, 7);
        assert_eq!(
            cfg.limits.join_pending,
            crate::rules::join::MAX_JOIN_PENDING
        );
        std::fs::write(&path, "[limits]\nsequence_events = 0\n").unwrap();
        let err = Config::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("[limits] sequence_events must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn listeners() {
        let cfg: Config = toml::from_str(
            "[[listener]]\nkind = \"syslog\"\nbind = \"127.0.0.1:5514\"\nproto = \"tcp\"\ntimezone = \"UTC\"\n\
             [[listener]]\nkind = \"netflow\"\nbind = \"0.0.0.0:2055\"\n",
        )
        .unwrap();
        let specs = cfg.listener_specs(Path::new("p")).unwrap();
        assert_eq!(specs[0].kind, ListenerKind::SyslogTcp);
        assert_eq!(specs[0].timezone, SourceTz::Utc);
        assert_eq!(specs[1].kind, ListenerKind::Netflow);
        assert_eq!(specs[1].name(), "netflow+udp://0.0.0.0:2055");
        let bad: Config = toml::from_str(
            "[[listener]]\nkind = \"netflow\"\nbind = \"0.0.0.0:2055\"\nproto = \"tcp\"\n",
        )
        .unwrap();
        assert!(matches!(
            bad.listener_specs(Path::new("p")),
            Err(ConfigError::Invalid(..))
        ));
        assert!(
            toml::from_str::<Config>("[[listener]]\nkind = \"syslog\"\nbind = \"x\"\n").is_err()
        );
        assert!(toml::from_str::<Config>(
            "[[listener]]\nkind = \"syslog\"\nbind = \"127.0.0.1:1\"\nport = 1\n"
        )
        .is_err());
    }

    #[test]
    fn embedded_default_only_names_existing_known_logs() {
        let cfg = Config::embedded_default();
        for s in &cfg.sources {
            assert!(s.path.is_file());
            assert!(Format::from_name(s.format.as_deref().unwrap()).is_some());
        }
        for (_, f) in DEFAULT_SOURCES {
            assert!(Format::from_name(f).is_some(), "{f}");
        }
        assert!(cfg.storage.db.is_none() && cfg.rules.dir.is_none());
    }

    #[test]
    fn unknown_keys_and_formats_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[[source]]\npath = \"a\"\nformt = \"vsftpd\"\n").unwrap();
        assert!(matches!(Config::load(&path), Err(ConfigError::Toml(..))));
        std::fs::write(&path, "[[source]]\npath = \"a\"\nformat = \"nope\"\n").unwrap();
        let cfg = Config::load(&path).unwrap();
        assert!(matches!(
            cfg.source_specs(&path),
            Err(ConfigError::Invalid(..))
        ));
    }
}
