//! The TOML configuration file: sources, storage, rules. `replay --config` and (later) `run`
//! read it. Unknown keys are errors, so a typo never silently disables a source.

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

/// `[[source]]`: one log file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The file.
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

impl Config {
    /// Reads a config file. Relative paths in it are taken relative to the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io(path.into(), e))?;
        let mut cfg: Config =
            toml::from_str(&text).map_err(|e| ConfigError::Toml(path.into(), e))?;
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
        Ok(cfg)
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
