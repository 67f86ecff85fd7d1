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

/// Checks every `<name>.log` in `dir` against the `<name>.expected.jsonl` beside it: one
/// line per input line, the event as `serde_json` prints it or `null`, parsed through one
/// `LineParser` per file (so formats with memory between lines are checked as they run).
/// `UPDATE_FIXTURES=1` rewrites the expected files; review the diff before keeping it.
/// Returns the number of files checked.
pub fn check_fixture_folder(
    format: portcullis_parsers::Format,
    ctx: &portcullis_parsers::ParseContext,
    dir: &std::path::Path,
) -> usize {
    let update = std::env::var("UPDATE_FIXTURES").is_ok_and(|v| v == "1");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    assert!(!logs.is_empty(), "no fixture in {}", dir.display());
    for log in &logs {
        let input = std::fs::read_to_string(log).unwrap();
        let mut parser = portcullis_parsers::LineParser::new(format, ctx.clone());
        let mut out = String::new();
        for line in input.lines() {
            let event = parser
                .parse(line.as_bytes())
                .unwrap_or_else(|e| panic!("{}: {e}: {line}", log.display()));
            out.push_str(&serde_json::to_string(&event).unwrap());
            out.push('\n');
        }
        let expected = log.with_extension("expected.jsonl");
        if update {
            std::fs::write(&expected, &out).unwrap();
        }
        let want = std::fs::read_to_string(&expected)
            .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
        for (i, (got, want)) in out.lines().zip(want.lines()).enumerate() {
            assert_eq!(got, want, "{} line {}", log.display(), i + 1);
        }
        assert_eq!(
            out.lines().count(),
            want.lines().count(),
            "{}",
            expected.display()
        );
    }
    logs.len()
}
