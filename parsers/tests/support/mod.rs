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

/// Per-file counts of a conformance test: lines seen, lines that gave an event, lines whose
/// result matched the annotation. `finish` prints the summary line and fails on any miss.
pub struct Tally {
    /// The corpus file, relative to the corpus root.
    pub file: &'static str,
    /// Log lines looked at.
    pub seen: usize,
    /// Lines that gave an event.
    pub parsed: usize,
    /// Lines whose result matched what the annotation says.
    pub matched: usize,
    /// What did not match, one entry per line.
    pub misses: Vec<String>,
}

impl Tally {
    /// Counts for one corpus file.
    pub fn new(file: &'static str) -> Tally {
        Tally {
            file,
            seen: 0,
            parsed: 0,
            matched: 0,
            misses: Vec::new(),
        }
    }

    /// Parses one line with no memory of earlier ones; a line that gives no event is a miss.
    pub fn parse_line(
        &mut self,
        format: portcullis_parsers::Format,
        line: &[u8],
        ctx: &portcullis_parsers::ParseContext,
    ) -> Option<portcullis_parsers::Event> {
        self.seen += 1;
        match portcullis_parsers::parse_line(format, line, ctx) {
            Ok(Some(e)) => {
                self.parsed += 1;
                Some(e)
            }
            other => {
                let shown = String::from_utf8_lossy(line);
                self.misses.push(format!("no event ({other:?}): {shown}"));
                None
            }
        }
    }

    /// Parses one line with a parser kept for the whole file; the caller judges the result.
    pub fn parse_with(
        &mut self,
        parser: &mut portcullis_parsers::LineParser,
        line: &str,
    ) -> Result<Option<portcullis_parsers::Event>, portcullis_parsers::ParseError> {
        self.seen += 1;
        let got = parser.parse(line.as_bytes());
        if matches!(got, Ok(Some(_))) {
            self.parsed += 1;
        }
        got
    }

    /// Records the outcome of the checks for one line.
    pub fn check(&mut self, line: &str, problems: Vec<String>) {
        if problems.is_empty() {
            self.matched += 1;
        } else {
            self.misses.push(format!("{}: {line}", problems.join("; ")));
        }
    }

    /// Prints the summary and fails on any miss or on an unexpected number of lines.
    pub fn finish(self, expected_lines: usize) {
        say(&format!(
            "corpus {}: lines seen {} / parsed {} / fields matched {}",
            self.file, self.seen, self.parsed, self.matched
        ));
        for m in &self.misses {
            say(&format!("  MISS {m}"));
        }
        assert!(
            self.misses.is_empty(),
            "{}: {} misses",
            self.file,
            self.misses.len()
        );
        assert_eq!(self.seen, expected_lines, "{}: log lines seen", self.file);
    }
}

/// Pushes a description to `problems` when `got != want`.
pub fn expect<T: PartialEq + std::fmt::Debug>(
    problems: &mut Vec<String>,
    what: &str,
    got: T,
    want: T,
) {
    if got != want {
        problems.push(format!("{what}: got {got:?}, want {want:?}"));
    }
}
