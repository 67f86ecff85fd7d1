//! Shared by the corpus conformance tests: where the shared corpus is, and how a test says
//! what it found past libtest's output capture.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// The shared corpus, read in place beside the checkout.
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");

/// Writes to the real stderr, past libtest's capture, so summaries show on a passing run.
pub fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// The corpus directory, or `None` (after saying SKIPPED) when it is absent outside CI;
/// under `CI=true` a missing corpus fails the test.
pub fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(CORPUS);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("corpus not found at {CORPUS} and CI=true: the corpus tests must run in CI");
    }
    say(&format!("SKIPPED: corpus not found at {CORPUS}"));
    None
}
