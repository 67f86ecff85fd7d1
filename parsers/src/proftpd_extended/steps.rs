//! The fast path of [`super::logformat`]: a LogFormat compiled once into steps that match a
//! line in one left-to-right pass, without backtracking.
//!
//! Each variable ends where the next literal first occurs: the first way of splitting the
//! line that the backtracking search tries. So where the pass matches, the search would find
//! the same values; where it fails, the caller runs the search, which tries the literal's
//! later places and names the error. A variable whose shape cannot hold the next literal's
//! first byte (a number before a space) is read as a run of its shape's bytes, checked as it
//! is read, and the literal must follow it: no search for the literal, no second pass.

use super::logformat::TimeKind;
use super::logformat::{read_time, starts_with, valid, Field, Item, Match, Shape};
use memchr::memchr;

/// How a variable's value ends.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// At the next literal, which the value's shape cannot hold (its first byte is neither a
    /// byte of the shape nor ProFTPD's `-`): the value is the run of shape bytes, or a lone
    /// `-`, and the literal must come right after it.
    Run(Box<[u8]>),
    /// At the first place of the next literal, which a text value may hold (the later places
    /// are the search's).
    Lit(Box<[u8]>),
    /// At the next space: another variable follows without literal text between.
    Space,
    /// At the end of the line.
    Line,
}

/// One step of the pass.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Literal text that must come next (only at the start and after a time: a variable's step
    /// takes the literal that ends it).
    Lit(Box<[u8]>),
    /// A time variable.
    Time(TimeKind),
    /// A variable, and the literal ending it when there is one.
    Var {
        field: Field,
        shape: Shape,
        end: End,
    },
}

/// A LogFormat compiled for the one-pass match.
#[derive(Debug, Clone)]
pub(super) struct Steps(Vec<Step>);

/// Whether `b` can be inside a value of `shape` (ProFTPD's `-` aside).
fn holds(shape: Shape, b: u8) -> bool {
    match shape {
        Shape::Text => true,
        Shape::Number => b.is_ascii_digit(),
        Shape::Decimal => b.is_ascii_digit() || b == b'.',
        Shape::Address => b.is_ascii_hexdigit() || b == b':' || b == b'.',
    }
}

/// Compiles the parts of a LogFormat (from [`super::logformat::compile`]) into steps.
pub(super) fn compile(items: &[Item]) -> Steps {
    let mut steps = Vec::with_capacity(items.len());
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Lit(l) => steps.push(Step::Lit(l.as_bytes().into())),
            Item::Time(kind) => steps.push(Step::Time(kind.clone())),
            Item::Var(field) => {
                let shape = field.shape();
                let end = match items.get(i + 1) {
                    None => End::Line,
                    Some(Item::Lit(l)) => {
                        i += 1;
                        let lit: Box<[u8]> = l.as_bytes().into();
                        // Literals are never empty: compile only keeps non-empty text.
                        let first = lit[0];
                        if shape != Shape::Text && !holds(shape, first) && first != b'-' {
                            End::Run(lit)
                        } else {
                            End::Lit(lit)
                        }
                    }
                    Some(_) => End::Space,
                };
                steps.push(Step::Var {
                    field: *field,
                    shape,
                    end,
                });
            }
        }
        i += 1;
    }
    Steps(steps)
}

/// The length of the value of `shape` at the start of `b` read as a run of the shape's bytes:
/// the run, or 1 for a lone `-` (the caller checks what follows).
fn run_len(shape: Shape, b: &[u8]) -> usize {
    let n = b.iter().position(|&c| !holds(shape, c)).unwrap_or(b.len());
    if n == 0 && b.first() == Some(&b'-') {
        1
    } else {
        n
    }
}

/// Where `lit` first starts in `hay`: `memchr` to each place of its first byte, which reaches
/// the end of a value of a dozen bytes or more in fewer instructions than a byte loop.
fn find_first(hay: &[u8], lit: &[u8]) -> Option<usize> {
    let (&first, tail) = lit.split_first()?;
    let mut from = 0;
    loop {
        let at = from + memchr(first, &hay[from..])?;
        if starts_with(&hay[at + 1..], tail) {
            return Some(at);
        }
        from = at + 1;
    }
}

// 192.0.2.5 UNKNOWN alice [10/Oct/2000:13:55:36 -0700] "RETR /pub/a.iso" 226 1048576
/// Matches `line` in one pass, filling `found` (which starts [`Match::new`] of `line`).
/// `false` when this split does not match; `found` then holds some values and must be reset.
pub(super) fn run(steps: &Steps, line: &str, found: &mut Match<'_>) -> bool {
    let b = line.as_bytes();
    let mut pos = 0;
    for step in &steps.0 {
        let rest = &b[pos..];
        match step {
            Step::Lit(l) => {
                if !starts_with(rest, l) {
                    return false;
                }
                pos += l.len();
            }
            Step::Time(kind) => {
                let Some((stamp, used)) = read_time(kind, rest) else {
                    return false;
                };
                found.stamp = Some(stamp);
                pos += used;
            }
            Step::Var { field, shape, end } => {
                let (len, skip) = match end {
                    End::Run(lit) => {
                        let n = run_len(*shape, rest);
                        // A run is a valid number or address when it is not empty; a decimal
                        // also needs its one dot between digits.
                        let ok = n > 0
                            && (*shape != Shape::Decimal || valid(*shape, &rest[..n]))
                            && starts_with(&rest[n..], lit);
                        if !ok {
                            return false;
                        }
                        (n, lit.len())
                    }
                    End::Lit(lit) => {
                        let Some(n) = find_first(rest, lit) else {
                            return false;
                        };
                        if *shape != Shape::Text && !valid(*shape, &rest[..n]) {
                            return false;
                        }
                        (n, lit.len())
                    }
                    End::Space | End::Line => {
                        let n = match end {
                            End::Space => memchr(b' ', rest).unwrap_or(rest.len()),
                            _ => rest.len(),
                        };
                        if *shape != Shape::Text && !valid(*shape, &rest[..n]) {
                            return false;
                        }
                        (n, 0)
                    }
                };
                found.set(*field, pos, pos + len);
                pos += len + skip;
            }
        }
    }
    pos == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proftpd_extended::logformat;

    #[test]
    fn numbers_before_a_space_are_runs_and_text_searches() {
        let f = logformat::compile("%h %l %u %t \"%r\" %s %b").unwrap();
        let lit = |s: &str| -> Box<[u8]> { s.as_bytes().into() };
        let var = |field, shape, end| Step::Var { field, shape, end };
        let want = vec![
            var(Field::ClientHost, Shape::Text, End::Lit(lit(" "))),
            var(Field::Ident, Shape::Text, End::Lit(lit(" "))),
            var(Field::User, Shape::Text, End::Lit(lit(" "))),
            Step::Time(TimeKind::Clf),
            Step::Lit(lit(" \"")),
            var(Field::Request, Shape::Text, End::Lit(lit("\" "))),
            var(Field::Status, Shape::Number, End::Run(lit(" "))),
            var(Field::Bytes, Shape::Number, End::Line),
        ];
        assert_eq!(compile(&f.items).0, want);
        // An address before `:` may hold it (IPv6): its end is searched for; a port's is not.
        let f = logformat::compile("%t %a:%{remote-port}:%s-%b").unwrap();
        let steps = compile(&f.items).0;
        assert_eq!(
            steps[2],
            var(Field::ClientIp, Shape::Address, End::Lit(lit(":")))
        );
        assert_eq!(
            steps[3],
            var(Field::RemotePort, Shape::Number, End::Run(lit(":")))
        );
        // `-` is every shape's "unknown": a literal starting with it is searched for.
        assert_eq!(
            steps[4],
            var(Field::Status, Shape::Number, End::Lit(lit("-")))
        );
    }

    /// The LogFormats of the fixtures and the unit tests, each with lines laid out by it.
    fn fixture_formats() -> Vec<(String, Vec<String>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/proftpd-extended");
        let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        let lines = |name: &str| read(name).lines().map(str::to_owned).collect::<Vec<_>>();
        let default = super::super::DEFAULT_LOG_FORMAT.to_owned();
        let rich = read("rich.logformat").trim_end().to_owned();
        vec![
            (default, lines("default.log")),
            (rich, lines("rich.log")),
            (
                "%{%Y-%m-%d %H:%M:%S %z}t %h %U %m %f %s %b".to_owned(),
                vec!["2024-03-04 10:20:30 +0100 ftp.example.com bob RETR /a b 226 12".to_owned()],
            ),
            (
                "%t %a %u %A \"%r\" %s %b %T".to_owned(),
                vec![
                    "[04/Mar/2024:10:20:30 +0000] ::ffff:192.0.2.5 ftp a@b \"RETR /x\" 226 5 1.5"
                        .to_owned(),
                ],
            ),
        ]
    }

    /// Text the matcher splits on: the literals of the formats above, `-`, digits and
    /// address bytes, and a multi-byte character.
    const INSERTS: &[&str] = &[
        "\" ", " ", ":", "-", "1", ".", "a", "\"", "] ", "é", "::1", " \" ",
    ];

    /// Matches `line` both ways; when the one pass matches, the search must find the very
    /// same values. Returns whether the pass matched and whether the search did.
    fn both(format: &logformat::LogFormat, line: &str) -> (bool, bool) {
        let steps = compile(&format.items);
        let (mut fast, mut slow) = (Match::new(line), Match::new(line));
        let fast_ok = run(&steps, line, &mut fast);
        let slow_ok = logformat::search(format, line, &mut slow).is_ok();
        if fast_ok {
            assert!(slow_ok, "the search misses what the pass matched: {line:?}");
            assert_eq!(fast, slow, "{line:?}");
        }
        // What the parser uses: the pass, else the search from a fresh match.
        let mut used = Match::new(line);
        let used_ok = logformat::match_line(format, line, &mut used).is_ok();
        assert_eq!(used_ok, fast_ok || slow_ok, "{line:?}");
        if used_ok {
            assert_eq!(used, if fast_ok { fast } else { slow }, "{line:?}");
        }
        (fast_ok, slow_ok)
    }

    #[test]
    fn the_pass_and_the_search_agree_on_fixtures_and_hostile_lines() {
        let (mut lines, mut fast_only, mut search_only, mut neither) = (0, 0, 0, 0);
        for (text, fixture) in fixture_formats() {
            let format = logformat::compile(&text).unwrap();
            for line in &fixture {
                // IPv6 addresses before `:` need the search; one line is meant to be rejected.
                both(&format, line);
                // Hostile variants: each insert at each place, and each byte removed.
                let mut variants: Vec<String> = Vec::new();
                for at in (0..=line.len()).filter(|&i| line.is_char_boundary(i)) {
                    for ins in INSERTS {
                        variants.push(format!("{}{ins}{}", &line[..at], &line[at..]));
                    }
                    if let Some(c) = line[at..].chars().next() {
                        variants.push(format!("{}{}", &line[..at], &line[at + c.len_utf8()..]));
                    }
                }
                for v in &variants {
                    lines += 1;
                    match both(&format, v) {
                        (true, _) => fast_only += 1,
                        (false, true) => search_only += 1,
                        (false, false) => neither += 1,
                    }
                }
            }
        }
        // The variants reach all three outcomes: the pass, the search behind it (a literal
        // inside a text value), and rejection.
        assert!(lines > 10_000, "{lines}");
        assert!(
            fast_only > 0 && search_only > 0 && neither > 0,
            "{fast_only} {search_only} {neither}"
        );
    }

    #[test]
    fn a_literal_inside_text_falls_back_to_the_search() {
        let format = logformat::compile(super::super::DEFAULT_LOG_FORMAT).unwrap();
        let line = r#"192.0.2.5 - bob [10/Oct/2000:13:55:40 +0000] "STOR /in/a" b.txt" 226 12"#;
        assert_eq!(both(&format, line), (false, true));
        let mut m = Match::new(line);
        logformat::match_line(&format, line, &mut m).unwrap();
        assert_eq!(m.get(Field::Request), Some(r#"STOR /in/a" b.txt"#));
        assert_eq!(m.get(Field::Bytes), Some("12"));
    }
}
