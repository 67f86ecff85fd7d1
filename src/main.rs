//! The `portcullis` binary: parse arguments, run, map the outcome to an exit code
//! (0 found, 1 nothing found, 2 error).

use clap::Parser;
use portcullis::cli::{run, Cli, Outcome};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(Outcome::Found) => ExitCode::SUCCESS,
        Ok(Outcome::NothingFound) => ExitCode::from(1),
        Err(e) => {
            eprintln!("portcullis: {e:#}");
            ExitCode::from(2)
        }
    }
}
