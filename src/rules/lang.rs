//! The rule language: a nom parser from rule file text to [`RuleAst`].
//!
//! A rule file is a list of clauses, each opened by a keyword; newlines and indentation are
//! free and `#` starts a comment. See `correlation-rules/README.md` for the reference.
//!
//! ```text
//! rule     ftp.brute_force
//! title    "FTP brute force from {source.ip}"
//! severity high
//! where    event.action == "ftp.login" and event.outcome == "failure"
//! count    8
//! within   120s
//! by       source.ip
//! ```

use super::ast::{CmpOp, Expr, FieldRef, Literal, RuleAst, ShapeAst};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, multispace1, not_line_ending};
use nom::combinator::{map, map_res, not, opt, peek, recognize, value};
use nom::multi::{many0, separated_list1};
use nom::sequence::{delimited, pair, preceded, terminated};
use nom::IResult;
use std::net::IpAddr;
use std::time::Duration;

/// A syntax error: where (byte offset into the file) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset into the rule file.
    pub at: usize,
    /// What the parser expected at that point.
    pub expected: String,
}

/// The nom error: the unparsed rest at the failure and what was expected there.
#[derive(Debug, Clone, PartialEq)]
struct Fail<'a> {
    rest: &'a str,
    expected: &'static str,
}

impl<'a> nom::error::ParseError<&'a str> for Fail<'a> {
    fn from_error_kind(input: &'a str, _kind: nom::error::ErrorKind) -> Self {
        Fail {
            rest: input,
            expected: "valid syntax",
        }
    }
    fn append(_input: &'a str, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
    fn or(self, other: Self) -> Self {
        // Report the alternative that got furthest.
        if other.rest.len() <= self.rest.len() {
            other
        } else {
            self
        }
    }
}

impl<'a> nom::error::FromExternalError<&'a str, String> for Fail<'a> {
    fn from_external_error(input: &'a str, _kind: nom::error::ErrorKind, _e: String) -> Self {
        Fail {
            rest: input,
            expected: "a valid value",
        }
    }
}

type Res<'a, T> = IResult<&'a str, T, Fail<'a>>;

/// Names `what` the parser expects when `p` fails without consuming input.
fn expect<'a, T>(
    what: &'static str,
    mut p: impl FnMut(&'a str) -> Res<'a, T>,
) -> impl FnMut(&'a str) -> Res<'a, T> {
    move |input: &'a str| {
        p(input).map_err(|e| match e {
            // A recoverable error that made no progress: name what this position needs.
            nom::Err::Error(f) if f.rest.len() >= input.len() => nom::Err::Error(Fail {
                rest: input,
                expected: what,
            }),
            other => other,
        })
    }
}

/// Turns a recoverable error into a fatal one: after a clause keyword, its argument must follow.
fn must<'a, T>(
    what: &'static str,
    p: impl FnMut(&'a str) -> Res<'a, T>,
) -> impl FnMut(&'a str) -> Res<'a, T> {
    nom::combinator::cut(expect(what, p))
}

/// Words that open a clause or join an expression; never field names.
const RESERVED: &[&str] = &[
    "rule",
    "title",
    "severity",
    "where",
    "count",
    "distinct",
    "join",
    "on",
    "left",
    "right",
    "sequence",
    "step",
    "times",
    "until",
    "trw",
    "first_seen",
    "learn",
    "within",
    "by",
    "quiet",
    "and",
    "or",
    "not",
    "in",
    "matches",
    "true",
    "false",
];

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

// `   # comment\n  `
fn ws(input: &str) -> Res<'_, ()> {
    value(
        (),
        many0(alt((
            value((), multispace1),
            value((), pair(char('#'), not_line_ending)),
        ))),
    )(input)
}

/// A token followed by optional whitespace.
fn token<'a, T>(p: impl FnMut(&'a str) -> Res<'a, T>) -> impl FnMut(&'a str) -> Res<'a, T> {
    terminated(p, ws)
}

// `count` (a whole word, not a prefix of `counter`)
fn keyword<'a>(word: &'static str) -> impl FnMut(&'a str) -> Res<'a, &'a str> {
    token(terminated(tag(word), not(peek(take_while1(is_ident_char)))))
}

// `ftp.brute_force`
fn ident(input: &str) -> Res<'_, &str> {
    token(recognize(pair(
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(is_ident_char),
    )))(input)
}

// `source.ip` (with its position; reserved words are not field names)
fn field_ref(full: &str) -> impl FnMut(&str) -> Res<'_, FieldRef> + '_ {
    move |input: &str| {
        let at = full.len() - input.len();
        let (rest, name) = ident(input)?;
        if RESERVED.contains(&name) {
            return Err(nom::Err::Error(Fail {
                rest: input,
                expected: "a field name",
            }));
        }
        Ok((
            rest,
            FieldRef {
                name: name.to_string(),
                at,
            },
        ))
    }
}

// `"FTP brute force from {source.ip}"` with `\"` and `\\` escapes
fn string(input: &str) -> Res<'_, String> {
    let (mut rest, _) = char('"')(input)?;
    let mut out = String::new();
    loop {
        let mut chars = rest.chars();
        match chars.next() {
            None | Some('\n') => {
                return Err(nom::Err::Failure(Fail {
                    rest: input,
                    expected: "a closing `\"` for this text",
                }))
            }
            Some('"') => {
                let (rest, _) = ws(chars.as_str())?;
                return Ok((rest, out));
            }
            Some('\\') => match chars.next() {
                Some(c @ ('"' | '\\')) => out.push(c),
                Some('n') => out.push('\n'),
                // Any other escape stays as written, so regular expressions read naturally:
                // `"\.pdf$"` is the pattern `\.pdf$`.
                Some(c) => {
                    out.push('\\');
                    out.push(c);
                }
                None => {
                    return Err(nom::Err::Failure(Fail {
                        rest: input,
                        expected: "a closing `\"` for this text",
                    }))
                }
            },
            Some(c) => out.push(c),
        }
        rest = chars.as_str();
    }
}

// `8`
fn int(input: &str) -> Res<'_, u64> {
    token(map_res(digit1, |d: &str| {
        d.parse::<u64>().map_err(|e| e.to_string())
    }))(input)
}

// `120s`, `5m`, `24h`, `3d`, `500ms`
fn duration(input: &str) -> Res<'_, Duration> {
    let (rest, n) = map_res(digit1, |d: &str| {
        d.parse::<u64>().map_err(|e| e.to_string())
    })(input)?;
    let (rest, unit) = expect(
        "a duration unit (ms, s, m, h, d)",
        alt((tag("ms"), tag("s"), tag("m"), tag("h"), tag("d"))),
    )(rest)?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => Duration::from_secs(n * 86_400),
    };
    let (rest, _) = not(peek(take_while1(is_ident_char)))(rest)?;
    Ok((ws(rest)?.0, d))
}

// `192.0.2.1`, `2001:db8::1`, `10.0.0.0/8`
fn ip_literal(input: &str) -> Res<'_, Literal> {
    let (rest, text) = recognize(pair(
        take_while1(|c: char| c.is_ascii_hexdigit() || c == ':' || c == '.'),
        opt(pair(char('/'), digit1)),
    ))(input)?;
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let fail = || {
        nom::Err::Error(Fail {
            rest: input,
            expected: "an IP address",
        })
    };
    let ip: IpAddr = addr.parse().map_err(|_| fail())?;
    let lit = match prefix {
        None => Literal::Ip(ip),
        Some(p) => {
            let bits: u8 = p.parse().map_err(|_| fail())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if bits > max {
                return Err(nom::Err::Failure(Fail {
                    rest: input,
                    expected: "a prefix length within the address size",
                }));
            }
            Literal::Cidr(ip, bits)
        }
    };
    Ok((ws(rest)?.0, lit))
}

fn literal(input: &str) -> Res<'_, Literal> {
    expect(
        "a value (\"text\", number, address, true or false)",
        alt((
            map(string, Literal::Str),
            ip_literal,
            map(int, Literal::Int),
            value(Literal::Bool(true), keyword("true")),
            value(Literal::Bool(false), keyword("false")),
        )),
    )(input)
}

// `["ftp.login", "ftp.connect"]` or a bare CIDR `10.0.0.0/8`
fn list(input: &str) -> Res<'_, Vec<Literal>> {
    alt((
        delimited(
            token(char('[')),
            separated_list1(token(char(',')), literal),
            must("`,` or `]`", token(char(']'))),
        ),
        map(ip_literal, |l| vec![l]),
    ))(input)
}

fn cmp_op(input: &str) -> Res<'_, CmpOp> {
    token(alt((
        value(CmpOp::Eq, tag("==")),
        value(CmpOp::Ne, tag("!=")),
        value(CmpOp::Le, tag("<=")),
        value(CmpOp::Ge, tag(">=")),
        value(CmpOp::Lt, tag("<")),
        value(CmpOp::Gt, tag(">")),
    )))(input)
}

// `destination.port not in [21, 990]`, `event.outcome == "failure"`, `ftp.anonymous`
fn predicate(full: &str) -> impl FnMut(&str) -> Res<'_, Expr> + '_ {
    move |input: &str| {
        let (rest, field) = field_ref(full)(input)?;
        let op_at = full.len() - rest.len();
        if let Ok((rest, op)) = cmp_op(rest) {
            let (rest, lit) = must("a value after the operator", literal)(rest)?;
            return Ok((rest, Expr::Cmp(field, op, lit, op_at)));
        }
        if let Ok((rest, _)) = pair(keyword("not"), keyword("in"))(rest) {
            let (rest, items) = must("a list `[...]` after `not in`", list)(rest)?;
            return Ok((rest, Expr::Not(Box::new(Expr::In(field, items, op_at)))));
        }
        if let Ok((rest, _)) = keyword("matches")(rest) {
            let (rest, re) = must("a quoted regular expression after `matches`", string)(rest)?;
            return Ok((rest, Expr::Matches(field, re, op_at)));
        }
        if let Ok((rest, _)) = keyword("in")(rest) {
            let (rest, items) = must("a list `[...]` or CIDR after `in`", list)(rest)?;
            return Ok((rest, Expr::In(field, items, op_at)));
        }
        Ok((rest, Expr::Truthy(field)))
    }
}

fn unary(full: &str) -> impl FnMut(&str) -> Res<'_, Expr> + '_ {
    move |input: &str| {
        expect(
            "a condition",
            alt((
                map(preceded(keyword("not"), unary(full)), |e| {
                    Expr::Not(Box::new(e))
                }),
                delimited(token(char('(')), expr(full), must("`)`", token(char(')')))),
                predicate(full),
            )),
        )(input)
    }
}

fn and_expr(full: &str) -> impl FnMut(&str) -> Res<'_, Expr> + '_ {
    move |input: &str| {
        let (mut rest, mut acc) = unary(full)(input)?;
        while let Ok((r, _)) = keyword("and")(rest) {
            let (r, rhs) = must("a condition after `and`", unary(full))(r)?;
            acc = Expr::And(Box::new(acc), Box::new(rhs));
            rest = r;
        }
        Ok((rest, acc))
    }
}

/// Parses a boolean expression over event fields.
fn expr(full: &str) -> impl FnMut(&str) -> Res<'_, Expr> + '_ {
    move |input: &str| {
        let (mut rest, mut acc) = and_expr(full)(input)?;
        while let Ok((r, _)) = keyword("or")(rest) {
            let (r, rhs) = must("a condition after `or`", and_expr(full))(r)?;
            acc = Expr::Or(Box::new(acc), Box::new(rhs));
            rest = r;
        }
        Ok((rest, acc))
    }
}

// `source.ip, destination.ip?`
fn join_keys(full: &str) -> impl FnMut(&str) -> Res<'_, Vec<(FieldRef, bool)>> + '_ {
    move |input: &str| {
        separated_list1(
            token(char(',')),
            pair(field_ref(full), map(opt(token(char('?'))), |q| q.is_some())),
        )(input)
    }
}

/// One clause of a rule file.
enum Clause {
    Name(String),
    Title(String),
    Severity(String),
    Where(Expr),
    Shape(ShapeAst),
    Within(Duration),
    By(Vec<FieldRef>),
    Quiet(Duration),
    Until(Expr),
    Learn(Duration),
}

fn clause(full: &str) -> impl FnMut(&str) -> Res<'_, (usize, Clause)> + '_ {
    move |input: &str| {
        let at = full.len() - input.len();
        let (rest, c) = expect(
            "a clause (rule, title, severity, where, count, distinct, join, sequence, trw, first_seen, until, learn, within, by, quiet)",
            alt((
                map(preceded(keyword("rule"), must("a rule name", ident)), |n| {
                    Clause::Name(n.to_string())
                }),
                map(
                    preceded(keyword("title"), must("a quoted title", string)),
                    Clause::Title,
                ),
                map(
                    preceded(
                        keyword("severity"),
                        must("low, medium, high or critical", ident),
                    ),
                    |s| Clause::Severity(s.to_string()),
                ),
                map(
                    preceded(keyword("where"), must("a condition", expr(full))),
                    Clause::Where,
                ),
                map(
                    preceded(keyword("count"), must("a number of events", int)),
                    |n| Clause::Shape(ShapeAst::Count(n)),
                ),
                map(
                    preceded(
                        keyword("distinct"),
                        pair(
                            must("the field to count distinct values of", field_ref(full)),
                            must("a number of distinct values", int),
                        ),
                    ),
                    |(f, n)| Clause::Shape(ShapeAst::Distinct(f, n)),
                ),
                map(
                    preceded(
                        keyword("join"),
                        nom::sequence::tuple((
                            map(opt(keyword("unmatched")), |u| u.is_some()),
                            preceded(
                                must("`on`", keyword("on")),
                                must("join keys", join_keys(full)),
                            ),
                            preceded(
                                must("`left`", keyword("left")),
                                must("a condition", expr(full)),
                            ),
                            preceded(
                                must("`right`", keyword("right")),
                                must("a condition", expr(full)),
                            ),
                        )),
                    ),
                    |(unmatched, keys, left, right)| {
                        Clause::Shape(ShapeAst::Join {
                            keys,
                            left,
                            right,
                            unmatched,
                        })
                    },
                ),
                map(
                    preceded(
                        keyword("sequence"),
                        must(
                            "`step CONDITION` (one per step)",
                            nom::multi::many1(pair(
                                preceded(keyword("step"), must("a condition", expr(full))),
                                map(
                                    opt(preceded(
                                        keyword("times"),
                                        must("how many times the step must match", int),
                                    )),
                                    |n| n.unwrap_or(1),
                                ),
                            )),
                        ),
                    ),
                    |steps| Clause::Shape(ShapeAst::Sequence(steps)),
                ),
                map(
                    preceded(keyword("until"), must("a condition", expr(full))),
                    Clause::Until,
                ),
                map(
                    preceded(
                        keyword("trw"),
                        must(
                            "the contact fields",
                            separated_list1(token(char(',')), field_ref(full)),
                        ),
                    ),
                    |fields| Clause::Shape(ShapeAst::Trw(fields)),
                ),
                map(
                    preceded(
                        keyword("first_seen"),
                        must("the field whose new values to report", field_ref(full)),
                    ),
                    |f| Clause::Shape(ShapeAst::FirstSeen(f)),
                ),
                map(
                    preceded(keyword("learn"), must("a duration like 1d", duration)),
                    Clause::Learn,
                ),
                map(
                    preceded(
                        keyword("within"),
                        must("a duration like 120s or 5m", duration),
                    ),
                    Clause::Within,
                ),
                map(
                    preceded(
                        keyword("by"),
                        must(
                            "group fields",
                            separated_list1(token(char(',')), field_ref(full)),
                        ),
                    ),
                    Clause::By,
                ),
                map(
                    preceded(keyword("quiet"), must("a duration like 1h", duration)),
                    Clause::Quiet,
                ),
            )),
        )(input)?;
        Ok((rest, (at, c)))
    }
}

/// Parses a whole rule file.
pub fn parse_rule(text: &str) -> Result<RuleAst, SyntaxError> {
    let to_err = |f: Fail<'_>| SyntaxError {
        at: text.len() - f.rest.len(),
        expected: f.expected.to_string(),
    };
    let (mut rest, _) = ws(text).map_err(|e| match e {
        nom::Err::Error(f) | nom::Err::Failure(f) => to_err(f),
        nom::Err::Incomplete(_) => unreachable!("complete parsers only"),
    })?;
    let mut clauses = Vec::new();
    while !rest.is_empty() {
        match clause(text)(rest) {
            Ok((r, c)) => {
                clauses.push(c);
                rest = r;
            }
            Err(nom::Err::Error(f)) | Err(nom::Err::Failure(f)) => return Err(to_err(f)),
            Err(nom::Err::Incomplete(_)) => unreachable!("complete parsers only"),
        }
    }
    assemble(text, clauses)
}

/// Checks that each clause appears once and the required ones are there.
fn assemble(text: &str, clauses: Vec<(usize, Clause)>) -> Result<RuleAst, SyntaxError> {
    let (mut name, mut title, mut severity, mut filter) = (None, None, None, None);
    let (mut shape, mut within, mut by, mut quiet) = (None, None, None, None);
    let (mut until, mut learn) = (None, None);
    for (at, clause) in clauses {
        let dup = |what: &str| SyntaxError {
            at,
            expected: format!("one `{what}` clause only"),
        };
        match clause {
            Clause::Name(v) => name.replace(v).map_or(Ok(()), |_| Err(dup("rule")))?,
            Clause::Title(v) => title.replace(v).map_or(Ok(()), |_| Err(dup("title")))?,
            Clause::Severity(v) => severity
                .replace(v)
                .map_or(Ok(()), |_| Err(dup("severity")))?,
            Clause::Where(v) => filter.replace(v).map_or(Ok(()), |_| Err(dup("where")))?,
            Clause::Shape(v) => shape
                .replace(v)
                .map_or(Ok(()), |_| Err(dup("count/distinct/join")))?,
            Clause::Within(v) => within.replace(v).map_or(Ok(()), |_| Err(dup("within")))?,
            Clause::By(v) => by.replace(v).map_or(Ok(()), |_| Err(dup("by")))?,
            Clause::Quiet(v) => quiet.replace(v).map_or(Ok(()), |_| Err(dup("quiet")))?,
            Clause::Until(v) => until.replace(v).map_or(Ok(()), |_| Err(dup("until")))?,
            Clause::Learn(v) => learn.replace(v).map_or(Ok(()), |_| Err(dup("learn")))?,
        }
    }
    let missing = |what: &str| SyntaxError {
        at: text.len(),
        expected: format!("a `{what}` clause"),
    };
    Ok(RuleAst {
        name: name.ok_or_else(|| missing("rule NAME"))?,
        title: title.ok_or_else(|| missing("title \"...\""))?,
        severity: severity.ok_or_else(|| missing("severity"))?,
        filter,
        shape: shape.ok_or_else(|| missing("count, distinct or join"))?,
        within: within.ok_or_else(|| missing("within DURATION"))?,
        by: by.unwrap_or_default(),
        quiet,
        until,
        learn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRUTE: &str = r#"
        # Wazuh's vsftpd default
        rule     ftp.brute_force
        title    "FTP brute force from {source.ip}"
        severity high
        where    event.action == "ftp.login" and event.outcome == "failure"
        count    8
        within   120s
        by       source.ip
    "#;

    #[test]
    fn parses_a_count_rule() {
        let r = parse_rule(BRUTE).unwrap();
        assert_eq!(r.name, "ftp.brute_force");
        assert_eq!(r.title, "FTP brute force from {source.ip}");
        assert_eq!(r.severity, "high");
        assert_eq!(r.shape, ShapeAst::Count(8));
        assert_eq!(r.within, Duration::from_secs(120));
        assert_eq!(r.by.len(), 1);
        assert_eq!(r.by[0].name, "source.ip");
        assert!(matches!(r.filter, Some(Expr::And(_, _))));
    }

    #[test]
    fn parses_a_join_with_optional_keys_lists_and_cidrs() {
        let text = r#"rule cross.x title "t" severity high
            join on source.ip, destination.ip?
              left  event.action == "ftp.connect"
              right event.action in ["firewall.allow", "flow"] and not source.ip in 10.0.0.0/8
            where destination.port not in [21, 990]
            within 2s by destination.ip, destination.port quiet 1h"#;
        let r = parse_rule(text).unwrap();
        let ShapeAst::Join { keys, right, .. } = &r.shape else {
            panic!("not a join: {:?}", r.shape)
        };
        assert_eq!(keys.len(), 2);
        assert!(!keys[0].1 && keys[1].1);
        assert!(matches!(right, Expr::And(_, b) if matches!(**b, Expr::Not(_))));
        assert_eq!(r.quiet, Some(Duration::from_secs(3600)));
        assert!(
            matches!(r.filter, Some(Expr::Not(ref inner)) if matches!(**inner, Expr::In(_, ref l, _) if l.len() == 2))
        );
    }

    #[test]
    fn parses_a_sequence_with_times_and_until() {
        let text = r#"rule s title "t" severity high
            sequence
              step event.outcome == "failure" times 5
              step event.outcome == "success"
            until user.name matches "^svc-"
            within 10m by source.ip"#;
        let r = parse_rule(text).unwrap();
        let ShapeAst::Sequence(steps) = &r.shape else {
            panic!("not a sequence: {:?}", r.shape)
        };
        assert_eq!(steps.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [5, 1]);
        assert!(matches!(r.until, Some(Expr::Matches(_, ref re, _)) if re == "^svc-"));
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "rule x\ntitle \"t\"\ncount eight",
                "eight",
                "a number of events",
            ),
            (
                "rule x within 5 m",
                " m",
                "a duration unit (ms, s, m, h, d)",
            ),
            (
                "rule x where source.ip ==",
                "",
                "a value after the operator",
            ),
            ("rule x frobnicate", "frobnicate", "a clause (rule"),
            ("rule x title \"open", "\"open", "a closing `\"`"),
            ("rule x where (a.b", "", "`)`"),
        ];
        for (text, at, expected) in cases {
            let err = parse_rule(text).unwrap_err();
            assert_eq!(&text[err.at..], *at, "position for {text:?}");
            assert!(
                err.expected.starts_with(expected),
                "{text:?}: got {:?}",
                err.expected
            );
        }
    }

    #[test]
    fn missing_and_duplicate_clauses_are_errors() {
        let err = parse_rule("rule x title \"t\" severity low count 1").unwrap_err();
        assert_eq!(err.expected, "a `within DURATION` clause");
        let err = parse_rule("rule x rule y").unwrap_err();
        assert_eq!(err.expected, "one `rule` clause only");
        assert_eq!(err.at, 7);
    }
}
