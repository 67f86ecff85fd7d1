//! The daemon's operational messages: `tracing` events written to stderr, one line each
//! (time, level, module, then the message with its `key=value` fields; under systemd the
//! journal keeps them). The level filter comes from `RUST_LOG` when it is set, else from
//! `[log] level` in the configuration, else [`DEFAULT_LEVEL`]; either takes `tracing`'s
//! filter syntax (`warn`, `info,portcullis::forward=debug`).

use tracing_subscriber::EnvFilter;

/// What the daemon says by default: starts, reloads, restores and stops at `info`, rejected
/// lines and failures at `warn`.
pub const DEFAULT_LEVEL: &str = "info";

/// A level filter that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid log level {text:?} (from {from}): {reason}")]
pub struct LogError {
    /// The filter text.
    pub text: String,
    /// Where it came from: `RUST_LOG` or `[log] level`.
    pub from: &'static str,
    /// Why it does not parse.
    pub reason: String,
}

/// The filter: `env` (the value of `RUST_LOG`) when set and not blank, else `configured`,
/// else [`DEFAULT_LEVEL`].
fn filter(env: Option<String>, configured: Option<&str>) -> Result<EnvFilter, LogError> {
    let (text, from) = match env {
        Some(v) if !v.trim().is_empty() => (v, "RUST_LOG"),
        _ => (
            configured.unwrap_or(DEFAULT_LEVEL).to_string(),
            "[log] level",
        ),
    };
    EnvFilter::try_new(&text).map_err(|e| LogError {
        reason: e.to_string(),
        text,
        from,
    })
}

/// Sends `tracing` events to stderr, filtered by `RUST_LOG` or else `configured`. A second
/// call (several daemons in one test process) keeps the first subscriber.
pub fn init(configured: Option<&str>) -> Result<(), LogError> {
    let filter = filter(std::env::var("RUST_LOG").ok(), configured)?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_wins_over_the_config_and_bad_text_says_where_it_came_from() {
        let shown = |f: EnvFilter| f.to_string();
        assert_eq!(shown(filter(None, None).unwrap()), "info");
        assert_eq!(shown(filter(None, Some("warn")).unwrap()), "warn");
        assert_eq!(
            shown(filter(Some("debug".into()), Some("warn")).unwrap()),
            "debug"
        );
        assert_eq!(
            shown(filter(Some(" ".into()), Some("warn")).unwrap()),
            "warn"
        );
        let e = filter(None, Some("portcullis=loud")).unwrap_err();
        assert_eq!(
            (e.text.as_str(), e.from),
            ("portcullis=loud", "[log] level")
        );
        let e = filter(Some("=[".into()), None).unwrap_err();
        assert_eq!(e.from, "RUST_LOG");
    }
}
