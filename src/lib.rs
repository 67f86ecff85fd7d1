//! portcullis: a log and flow correlation engine.
//!
//! Files and listeners produce raw lines; `portcullis-parsers` turns them into normalized
//! events; the rule engine correlates events on event time into incidents; the store keeps
//! incidents and their evidence in SQLite; the CLI queries them.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod escape;
pub mod forward;
pub mod gen;
pub mod incident;
pub mod ingest;
pub mod logging;
pub mod pipeline;
pub mod record;
pub mod rules;
pub mod store;
