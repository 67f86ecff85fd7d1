//! `portcullis rules check`.

use super::Outcome;
use clap::Subcommand;
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
    }
}
