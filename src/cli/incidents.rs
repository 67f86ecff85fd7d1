//! `portcullis incidents`: list stored incidents.

use super::Outcome;
use crate::escape::{escape_line, escape_text};
use crate::store::{IncidentFilter, Store, DEFAULT_DB};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database.
    #[arg(long, default_value = DEFAULT_DB)]
    db: PathBuf,
    /// Only incidents of this rule.
    #[arg(long)]
    rule: Option<String>,
    /// Only incidents active since this time: RFC 3339 (2026-03-02T08:00:00Z) or a duration
    /// back from now (90m, 24h, 7d).
    #[arg(long, value_parser = parse_since)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// At most this many (most recently active first).
    #[arg(long)]
    limit: Option<u64>,
    /// Include the evidence lines.
    #[arg(long)]
    evidence: bool,
    /// One JSON object per incident per line.
    #[arg(long)]
    json: bool,
}

/// Parses `--since`: an RFC 3339 time or a duration back from now.
fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.into());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}`: expected RFC 3339 time or a duration like 90m, 24h, 7d"))?;
    let d = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => return Err(format!("`{s}`: duration unit must be s, m, h or d")),
    };
    Ok(chrono::Utc::now() - d)
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if !args.db.exists() {
        anyhow::bail!(
            "{}: no database here yet; run `portcullis replay` first or pass --db",
            args.db.display()
        );
    }
    let mut store = Store::open_read_only(&args.db)?;
    let found = store.incidents(&IncidentFilter {
        rule: args.rule,
        since: args.since,
        limit: args.limit,
        with_evidence: args.evidence,
    })?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for inc in &found {
        if args.json {
            serde_json::to_writer(&mut out, inc)?;
            writeln!(out)?;
            continue;
        }
        let group: Vec<String> = inc
            .group
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_text(v.as_str().unwrap_or_default())))
            .collect();
        writeln!(
            out,
            "{}  {:<8} {:<20} {}  {} .. {}  count={}{}  {}",
            inc.id,
            inc.severity,
            inc.rule,
            group.join(" "),
            inc.first_seen,
            inc.last_seen,
            inc.count,
            inc.distinct
                .map(|d| format!(" distinct={d}"))
                .unwrap_or_default(),
            inc.title
        )?;
        for ev in &inc.evidence {
            writeln!(
                out,
                "    {} {}:{}  {}",
                ev.timestamp,
                escape_text(&ev.source),
                ev.offset,
                escape_line(&ev.raw)
            )?;
        }
    }
    out.flush()?;
    Ok(if found.is_empty() {
        Outcome::NothingFound
    } else {
        Outcome::Found
    })
}
