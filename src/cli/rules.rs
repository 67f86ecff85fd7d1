//! `portcullis rules check` and `portcullis rules test`.

use super::parse::parse_format;
use super::Outcome;
use crate::escape::escape_line;
use crate::ingest::source::{read_source, SourceSpec};
use crate::record::Record;
use crate::rules::engine::{Engine, DEFAULT_LATENESS};
use crate::rules::{Rule, Shape};
use clap::Subcommand;
use portcullis_parsers::{Format, SourceTz};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Parse and compile rule files; print each rule, or every error with file:line:column.
    Check {
        /// Rule directory (default: the built-in pack).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Run one rule over log files: print the events it looks at and the incidents it would
    /// raise, without touching a database.
    Test {
        /// Rule name (from --rules or the built-in pack) or a path to a `.rule` file.
        rule: String,
        /// Log files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Rule directory (default: the built-in pack).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Force this format for every file.
        #[arg(long, value_parser = parse_format)]
        format: Option<Format>,
        /// Zone of timestamps without offset: UTC, local, or an IANA name.
        #[arg(long, default_value = "local")]
        timezone: SourceTz,
        /// Address of the host that wrote the files (FTP logs do not name their server).
        #[arg(long)]
        host: Option<std::net::IpAddr>,
    },
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        RulesCommand::Check { rules } => {
            let rules = super::load_rules(rules.as_ref())?;
            for r in &rules {
                println!(
                    "ok  {:<24} {:<8} {}",
                    r.name,
                    r.severity.as_str(),
                    r.file.display()
                );
            }
            println!("{} rules", rules.len());
            Ok(Outcome::Found)
        }
        RulesCommand::Test {
            rule,
            files,
            rules,
            format,
            timezone,
            host,
        } => {
            let rule = find_rule(&rule, rules.as_ref())?;
            let specs: Vec<SourceSpec> = files
                .into_iter()
                .map(|path| SourceSpec {
                    path,
                    format,
                    timezone,
                    host,
                })
                .collect();
            test_rule(rule, &specs)
        }
    }
}

/// A rule by name from the rule set, or compiled from a file path.
fn find_rule(name: &str, dir: Option<&PathBuf>) -> anyhow::Result<Rule> {
    let path = PathBuf::from(name);
    if path.extension().is_some_and(|e| e == "rule") && path.is_file() {
        let text = std::fs::read_to_string(&path)?;
        return Ok(crate::rules::compile_rule(&path, &text)?);
    }
    let all = super::load_rules(dir)?;
    let names: Vec<String> = all.iter().map(|r| r.name.clone()).collect();
    all.into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| anyhow::anyhow!("no rule `{name}`; known: {}", names.join(", ")))
}

/// Which parts of the rule an event satisfies, as a short label; `None` if none.
fn matched_parts(rule: &Rule, rec: &Record) -> Option<String> {
    let e = &rec.event;
    match &rule.shape {
        Shape::Count(_) | Shape::Distinct(..) | Shape::Trw(_) | Shape::FirstSeen(_) => {
            rule.filter.eval(e).then(|| "match".into())
        }
        Shape::Join { left, right, .. } => match (left.eval(e), right.eval(e)) {
            (true, true) => Some("left+right".into()),
            (true, false) => Some("left".into()),
            (false, true) => Some("right".into()),
            _ => None,
        },
        Shape::Sequence(steps) => {
            if !rule.filter.eval(e) {
                return None;
            }
            let hit: Vec<String> = steps
                .iter()
                .enumerate()
                .filter(|(_, (c, _))| c.eval(e))
                .map(|(i, _)| format!("step {}", i + 1))
                .collect();
            if rule.until.as_ref().is_some_and(|u| u.eval(e)) {
                Some("until".into())
            } else if hit.is_empty() {
                None
            } else {
                Some(hit.join("+"))
            }
        }
    }
}

fn test_rule(rule: Rule, specs: &[SourceSpec]) -> anyhow::Result<Outcome> {
    let mut records = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let ctx = spec.context();
        let format = spec.resolve_format(&ctx)?;
        let (tx, rx) = crossbeam_channel::unbounded();
        let stats = read_source(i as u32, spec, format, &ctx, &tx)?;
        drop(tx);
        records.extend(rx.into_iter().flatten());
        println!(
            "{} ({format}): {} lines, {} events, {} rejected",
            spec.path.display(),
            stats.lines,
            stats.events,
            stats.rejected
        );
    }
    records.sort_by_key(|r| r.event.timestamp);
    println!("rule {} ({})", rule.name, rule.file.display());
    let mut matched = 0;
    for rec in &records {
        if let Some(label) = matched_parts(&rule, rec) {
            matched += 1;
            println!(
                "  {:<10} {}:{}  {}",
                label,
                specs[rec.event.origin.source as usize].path.display(),
                rec.event.origin.offset,
                escape_line(&String::from_utf8_lossy(rec.raw.as_bytes()))
            );
        }
    }
    let mut engine = Engine::new(vec![rule], DEFAULT_LATENESS);
    let mut incidents = Vec::new();
    for rec in records {
        engine.push(rec);
        incidents.extend(engine.take_updates());
    }
    engine.finish();
    incidents.extend(engine.take_updates());
    // Keep the latest snapshot of each incident.
    let mut latest: Vec<crate::incident::Incident> = Vec::new();
    for inc in incidents {
        match latest.iter_mut().find(|i| i.id == inc.id) {
            Some(slot) => *slot = inc,
            None => latest.push(inc),
        }
    }
    println!("{matched} events matched; {} incidents", latest.len());
    for inc in &latest {
        println!(
            "  {}  {}  {} .. {}  count={}  {}",
            inc.id,
            inc.severity.as_str(),
            inc.first_seen.to_rfc3339(),
            inc.last_seen.to_rfc3339(),
            inc.count,
            inc.title
        );
    }
    Ok(if latest.is_empty() {
        Outcome::NothingFound
    } else {
        Outcome::Found
    })
}
