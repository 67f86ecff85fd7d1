//! `portcullis parse`: normalized events of a file as JSON lines, like fail2ban-regex or
//! wazuh-logtest, to check what portcullis makes of a log.

use super::Outcome;
use crate::ingest::lines::{line_bytes, LineReader};
use crate::ingest::source::SourceSpec;
use portcullis_parsers::{Format, LineParser, SourceTz};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log file (`-` for standard input).
    file: PathBuf,
    /// Format (default: detected from the first lines).
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Zone of timestamps without offset: UTC, local, or an IANA name.
    #[arg(long, default_value = "local")]
    timezone: SourceTz,
    /// Address of the host that wrote the log (FTP logs do not name their server).
    #[arg(long)]
    host: Option<std::net::IpAddr>,
}

/// Parses a `--format` value.
pub(super) fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
        format!("unknown format `{s}`; known: {}", names.join(", "))
    })
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let spec = SourceSpec {
        path: args.file.clone(),
        format: args.format,
        timezone: args.timezone,
        host: args.host,
    };
    let ctx = spec.context();
    let format = spec.resolve_format(&ctx)?;
    let input: Box<dyn std::io::Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(&args.file)?)
    };
    let mut reader = LineReader::new(input, 0);
    let mut parser = LineParser::new(format, ctx);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut lines, mut events, mut rejected) = (0u64, 0u64, 0u64);
    while let Some(block) = reader.next_block()? {
        for offset in &block.too_long {
            lines += 1;
            rejected += 1;
            eprintln!("{}: byte {offset}: line too long", args.file.display());
        }
        for i in 0..block.lines.len() {
            lines += 1;
            let offset = block.lines[i].0;
            match parser.parse(line_bytes(&block, i)) {
                Ok(Some(mut e)) => {
                    events += 1;
                    e.origin.offset = offset;
                    serde_json::to_writer(&mut out, &e)?;
                    out.write_all(b"\n")?;
                }
                Ok(None) => {}
                Err(e) => {
                    rejected += 1;
                    eprintln!("{}: byte {offset}: {e}", args.file.display());
                }
            }
        }
    }
    out.flush()?;
    eprintln!("{format}: {lines} lines, {events} events, {rejected} rejected");
    Ok(if events > 0 {
        Outcome::Found
    } else {
        Outcome::NothingFound
    })
}
