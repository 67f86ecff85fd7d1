//! A ProFTPD `LogFormat` string compiled into literal text and variables, and lines matched
//! against it.
//!
//! Variables with a shape (times, numbers, addresses) are read by that shape; the others are
//! text that ends where the next literal starts. Text can contain that literal too (a file
//! name with `" ` in a quoted `"%r"`), so each of the first [`MAX_CANDIDATES`] places the
//! literal occurs is tried until the rest of the line matches; a step budget keeps a hostile
//! line from costing more than a bounded amount of work.

use super::steps::{self, Steps};
use super::strftime::{self, TimePart};
use crate::time::{parse_clf_stamp, parse_iso_datetime, Stamp};
use crate::ErrorKind;
use memchr::memchr;

/// Most parts (literals and variables) a LogFormat may have; real ones have under 30.
pub(super) const MAX_ITEMS: usize = 64;

/// How many places of the next literal are tried as the end of a text variable.
const MAX_CANDIDATES: usize = 16;

/// Most matching steps per line. A step tries one part at one position; well-formed lines
/// need one step per part, so this only limits hostile lines.
const MAX_STEPS: u32 = 1024;

/// The longest `%{...}` name read (the longest documented one is `transfer-millisecs`; a time
/// format can be longer).
const MAX_BRACED: usize = 128;

/// A variable whose value portcullis uses, or [`Field::Other`] for one it only skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    /// `%a`: the client's IP address.
    ClientIp,
    /// `%A`: the anonymous password, `UNKNOWN` for other logins.
    AnonPassword,
    /// `%b`: bytes sent for the command.
    Bytes,
    /// `%f`: absolute path of the file.
    File,
    /// `%F`: the file as the client sees it.
    ClientFile,
    /// `%h`: the client's DNS name (its address without reverse lookups).
    ClientHost,
    /// `%l`: the ident user name.
    Ident,
    /// `%L`: the local address the client connected to.
    LocalIp,
    /// `%H`: the address of the virtual host handling the session.
    VhostIp,
    /// `%m`: the command (`RETR`).
    Method,
    /// `%p`: the local port.
    LocalPort,
    /// `%P`: the server process id.
    Pid,
    /// `%r`: the full command line.
    Request,
    /// `%s`: the numeric response code.
    Status,
    /// `%S`: the response text.
    Response,
    /// `%T`: seconds the transfer took.
    Seconds,
    /// `%u`: the authenticated user.
    User,
    /// `%U`: the name the client sent with `USER`.
    OrigUser,
    /// `%v`: the `ServerName`.
    ServerName,
    /// `%V`: the server's DNS name.
    ServerDns,
    /// `%J`: the command's arguments.
    Args,
    /// `%d`: a directory's name (`MKD`, `RMD`, `CWD`).
    Dir,
    /// `%D`: a directory's full path.
    DirPath,
    /// `%{protocol}`: `ftp`, `ftps`, `sftp`, `scp`.
    Protocol,
    /// `%{transfer-status}`: `success`, `failed`, `cancelled`, `timeout` or `-`.
    TransferStatus,
    /// `%{remote-port}`: the client's port.
    RemotePort,
    /// Any other variable: read as text, not used.
    Other,
}

/// Number of [`Field`] variants (the size of [`Match::values`]).
pub(super) const FIELDS: usize = Field::Other as usize + 1;

/// How a field's value is checked while matching, so backtracking finds the right split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Any text.
    Text,
    /// ASCII digits.
    Number,
    /// Digits with at most one `.` between digits (`%T`).
    Decimal,
    /// Hex digits, `:` and `.`: what an IPv4 or IPv6 address is written with.
    Address,
}

impl Field {
    /// The shape its values are checked against.
    pub(super) fn shape(self) -> Shape {
        match self {
            Field::Bytes | Field::LocalPort | Field::Pid | Field::Status | Field::RemotePort => {
                Shape::Number
            }
            Field::Seconds => Shape::Decimal,
            Field::ClientIp | Field::LocalIp | Field::VhostIp => Shape::Address,
            _ => Shape::Text,
        }
    }
}

/// How a time variable is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TimeKind {
    /// `%t`: `[10/Oct/2000:13:55:36 -0700]`.
    Clf,
    /// `%{iso8601}`: `2000-10-10 13:55:36,123` (local time).
    Iso8601,
    /// `%{epoch}`: seconds since 1970 (UTC).
    Epoch,
    /// `%{format}t`: a `strftime` format.
    Strftime(Vec<TimePart>),
}

/// One part of a compiled LogFormat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    /// Text written as it is.
    Lit(String),
    /// A variable.
    Var(Field),
    /// A time variable.
    Time(TimeKind),
}

/// A compiled LogFormat: its parts, for the backtracking search, and the same parts as
/// steps for the one-pass match tried first.
#[derive(Debug, Clone)]
pub(super) struct LogFormat {
    pub(super) items: Vec<Item>,
    steps: Steps,
}

/// Why a LogFormat cannot be used: the error every line of the source gets.
pub(super) type CompileError = (ErrorKind, &'static str);

fn single(code: u8) -> Option<Item> {
    use Field::*;
    Some(Item::Var(match code {
        b'a' => ClientIp,
        b'A' => AnonPassword,
        b'b' => Bytes,
        b'd' => Dir,
        b'D' => DirPath,
        b'f' => File,
        b'F' => ClientFile,
        b'h' => ClientHost,
        b'H' => VhostIp,
        b'J' => Args,
        b'l' => Ident,
        b'L' => LocalIp,
        b'm' => Method,
        b'p' => LocalPort,
        b'P' => Pid,
        b'r' => Request,
        b's' => Status,
        b'S' => Response,
        b'T' => Seconds,
        b'u' => User,
        b'U' => OrigUser,
        b'v' => ServerName,
        b'V' => ServerDns,
        b't' => return Some(Item::Time(TimeKind::Clf)),
        // %c class, %E end reason, %g group, %I/%O raw bytes, %R response ms, %w rename source.
        b'c' | b'E' | b'g' | b'I' | b'O' | b'R' | b'w' => Other,
        _ => return None,
    }))
}

fn braced(name: &str) -> Option<Item> {
    Some(match name {
        n if n.eq_ignore_ascii_case("iso8601") => Item::Time(TimeKind::Iso8601),
        "epoch" => Item::Time(TimeKind::Epoch),
        "protocol" => Item::Var(Field::Protocol),
        "remote-port" => Item::Var(Field::RemotePort),
        "transfer-status" => Item::Var(Field::TransferStatus),
        "basename" | "file-modified" | "file-offset" | "file-size" | "gid" | "uid"
        | "microsecs" | "millisecs" | "transfer-failure" | "transfer-millisecs"
        | "transfer-port" | "transfer-type" | "version" => Item::Var(Field::Other),
        _ => return None,
    })
}

// %h %l %u %t "%r" %s %b
/// Compiles a LogFormat string. Literal text between variables is kept as it is written.
pub(super) fn compile(fmt: &str) -> Result<LogFormat, CompileError> {
    let syntax = |what| (ErrorKind::Syntax, what);
    let mut items: Vec<Item> = Vec::new();
    let mut lit = String::new();
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let Some(pct) = memchr(b'%', &b[i..]) else {
            lit.push_str(&fmt[i..]);
            break;
        };
        lit.push_str(&fmt[i..i + pct]);
        i += pct + 1;
        let code = *b.get(i).ok_or(syntax("a LogFormat variable after `%`"))?;
        i += 1;
        let item = match code {
            b'%' => {
                lit.push('%');
                continue;
            }
            b'{' => {
                let len = memchr(b'}', &b[i..b.len().min(i + MAX_BRACED)])
                    .ok_or(syntax("a `}` closing a LogFormat `%{...}`"))?;
                let name = &fmt[i..i + len];
                i += len + 1;
                match (braced(name), b.get(i)) {
                    (Some(item), _) => item,
                    (None, Some(b't')) => {
                        i += 1;
                        let parts = strftime::compile(name).map_err(|_| {
                            syntax("a `%{...}t` time format of %Y %y %m %d %e %H %M %S %z %b %B %a %A %s %T %F %D %R")
                        })?;
                        Item::Time(TimeKind::Strftime(parts))
                    }
                    (None, Some(b'e')) => {
                        i += 1;
                        Item::Var(Field::Other)
                    }
                    (None, _) => Item::Var(Field::Other),
                }
            }
            _ => single(code).ok_or(syntax("a LogFormat variable ProFTPD documents"))?,
        };
        if !lit.is_empty() {
            items.push(Item::Lit(std::mem::take(&mut lit)));
        }
        items.push(item);
        if items.len() > MAX_ITEMS {
            return Err(syntax("a LogFormat of at most 64 parts"));
        }
    }
    if !lit.is_empty() {
        items.push(Item::Lit(lit));
    }
    if !items.iter().any(|i| matches!(i, Item::Time(_))) {
        return Err((
            ErrorKind::BadTimestamp,
            "a LogFormat with a time (%t, %{format}t, %{iso8601} or %{epoch})",
        ));
    }
    let steps = steps::compile(&items);
    Ok(LogFormat { items, steps })
}

/// The values of one matched line: where each field's text is in the line (the last one when
/// a field occurs twice), and the stamp. Spans rather than `&str`s keep it small to reset and
/// leave the slicing to the few fields an event reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Match<'a> {
    line: &'a str,
    /// `start..end` in `line`, indexed by `Field as usize`; `0..0` when absent.
    spans: [(u32, u32); FIELDS],
    /// The stamp of the (last) time variable.
    pub(super) stamp: Option<Stamp>,
}

impl<'a> Match<'a> {
    /// No value yet of `line`: what [`match_line`] fills.
    pub(super) fn new(line: &'a str) -> Match<'a> {
        Match {
            line,
            spans: [(0, 0); FIELDS],
            stamp: None,
        }
    }

    /// Records `field`'s value as `line[start..end]` (lines are far shorter than 4 GiB).
    pub(super) fn set(&mut self, field: Field, start: usize, end: usize) {
        self.spans[field as usize] = (start as u32, end as u32);
    }

    /// The text of `field` as matched, `None` when absent.
    pub(super) fn raw(&self, field: Field) -> Option<&'a str> {
        let (start, end) = self.spans[field as usize];
        self.line.get(start as usize..end as usize)
    }

    /// The value of `field`, `None` when absent or ProFTPD's "unknown" (`-`, empty).
    pub(super) fn get(&self, field: Field) -> Option<&'a str> {
        self.raw(field).filter(|v| !v.is_empty() && *v != "-")
    }
}

/// Why a line did not match: the first failure met, which is where the first way of splitting
/// the line (each text variable ending at the first place it can) went wrong, as a parser
/// without backtracking would report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Failure {
    pub(super) offset: usize,
    pub(super) kind: ErrorKind,
    pub(super) expected: &'static str,
}

struct Matcher<'f, 'a> {
    items: &'f [Item],
    line: &'a str,
    steps: u32,
    failure: Option<Failure>,
    found: &'f mut Match<'a>,
}

// "RETR /pub/a b.iso" 226   →   the `" ` after `b.iso`, found from the start of `/pub`
/// Where `lit` starts in `hay` at or after `from`. Values between literals are a few bytes
/// long: a byte scan for the literal's first byte costs less than a `memchr` call for each.
pub(super) fn find_lit(hay: &[u8], lit: &[u8], from: usize) -> Option<usize> {
    let first = *lit.first()?;
    let mut at = from;
    while at < hay.len() {
        if hay[at] == first && starts_with(&hay[at..], lit) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// Whether `v` has `shape` (ProFTPD's `-` has every shape).
pub(super) fn valid(shape: Shape, v: &[u8]) -> bool {
    let all = |s: &[u8], ok: fn(&u8) -> bool| !s.is_empty() && s.iter().all(ok);
    match shape {
        Shape::Text => true,
        Shape::Number => all(v, u8::is_ascii_digit) || v == b"-",
        Shape::Decimal => {
            let (a, b) = match memchr(b'.', v) {
                Some(dot) => (&v[..dot], &v[dot + 1..]),
                None => (v, &b"0"[..]),
            };
            (all(a, u8::is_ascii_digit) && all(b, u8::is_ascii_digit)) || v == b"-"
        }
        Shape::Address => {
            all(v, |b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.')) || v == b"-"
        }
    }
}

/// `hay.starts_with(lit)` for the short literals of a LogFormat (one to three bytes, mostly),
/// compared in line rather than by a `memcmp` call.
pub(super) fn starts_with(hay: &[u8], lit: &[u8]) -> bool {
    hay.len() >= lit.len() && hay.iter().zip(lit).all(|(h, l)| h == l)
}

/// The places `lit` occurs in `hay`, without overlaps, in order.
fn places<'h>(hay: &'h [u8], lit: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = find_lit(hay, lit, from)?;
        from = at + lit.len();
        Some(at)
    })
}

impl<'a> Matcher<'_, 'a> {
    /// Records the first failure; always `false`.
    fn fail(&mut self, offset: usize, kind: ErrorKind, expected: &'static str) -> bool {
        if self.failure.is_none() {
            self.failure = Some(Failure {
                offset,
                kind,
                expected,
            });
        }
        false
    }

    /// Sets `field` to `value` if it has the field's shape, then matches the rest.
    fn take(&mut self, idx: usize, field: Field, start: usize, end: usize) -> bool {
        let shape = field.shape();
        if !valid(shape, &self.line.as_bytes()[start..end]) {
            return match shape {
                Shape::Address => self.fail(start, ErrorKind::BadAddress, "an IP address"),
                _ => self.fail(start, ErrorKind::BadNumber, "a number"),
            };
        }
        self.found.set(field, start, end);
        self.go(idx + 1, end)
    }

    fn go(&mut self, idx: usize, pos: usize) -> bool {
        let rest = &self.line[pos..];
        let Some(item) = self.items.get(idx) else {
            return rest.is_empty() || self.fail(pos, ErrorKind::Syntax, "the end of the line");
        };
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return self.fail(pos, ErrorKind::Syntax, "a line the LogFormat matches");
        }
        match item {
            Item::Lit(l) if starts_with(rest.as_bytes(), l.as_bytes()) => {
                self.go(idx + 1, pos + l.len())
            }
            Item::Lit(_) => self.fail(pos, ErrorKind::Syntax, "the LogFormat's literal text"),
            Item::Time(kind) => match read_time(kind, rest.as_bytes()) {
                Some((stamp, used)) => {
                    self.found.stamp = Some(stamp);
                    self.go(idx + 1, pos + used)
                }
                None => self.fail(pos, ErrorKind::BadTimestamp, "the LogFormat's time"),
            },
            Item::Var(field) => match self.items.get(idx + 1) {
                None => self.take(idx, *field, pos, self.line.len()),
                Some(Item::Lit(lit)) => {
                    let mut tried = false;
                    for end in places(rest.as_bytes(), lit.as_bytes()).take(MAX_CANDIDATES) {
                        tried = true;
                        if self.take(idx, *field, pos, pos + end) {
                            return true;
                        }
                    }
                    if !tried {
                        self.fail(pos, ErrorKind::Syntax, "the LogFormat's literal text");
                    }
                    false
                }
                // Two variables with nothing between them: the first ends at a space.
                Some(_) => {
                    let end = memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
                    self.take(idx, *field, pos, pos + end)
                }
            },
        }
    }
}

// [10/Oct/2000:13:55:36 -0700]
/// Reads a time variable's stamp at the start of `b`.
pub(super) fn read_time(kind: &TimeKind, b: &[u8]) -> Option<(Stamp, usize)> {
    match kind {
        TimeKind::Clf => {
            let inner = b.strip_prefix(b"[")?;
            let (stamp, used) = parse_clf_stamp(inner)?;
            (inner.get(used) == Some(&b']')).then_some((stamp, used + 2))
        }
        TimeKind::Iso8601 => parse_iso_datetime(b),
        TimeKind::Epoch => strftime::read(&[TimePart::Epoch], b),
        TimeKind::Strftime(parts) => strftime::read(parts, b),
    }
}

// 192.0.2.5 UNKNOWN alice [10/Oct/2000:13:55:36 -0700] "RETR /pub/a.iso" 226 1048576
/// Matches `line` against the compiled format, filling `found` (which starts
/// [`Match::new`] of `line`): the one-pass match first, the backtracking search when that
/// split fails.
pub(super) fn match_line<'a>(
    format: &LogFormat,
    line: &'a str,
    found: &mut Match<'a>,
) -> Result<(), Failure> {
    if steps::run(&format.steps, line, found) {
        return Ok(());
    }
    *found = Match::new(line);
    search(format, line, found)
}

/// The backtracking search alone: every split of the text variables at the next literal's
/// first [`MAX_CANDIDATES`] places, within [`MAX_STEPS`]. `found` starts [`Match::new`].
pub(super) fn search<'a>(
    format: &LogFormat,
    line: &'a str,
    found: &mut Match<'a>,
) -> Result<(), Failure> {
    let mut m = Matcher {
        items: &format.items,
        line,
        steps: 0,
        failure: None,
        found,
    };
    if m.go(0, 0) {
        Ok(())
    } else {
        Err(m.failure.unwrap_or(Failure {
            offset: 0,
            kind: ErrorKind::Syntax,
            expected: "a line laid out by the LogFormat",
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_places_like_a_substring_iterator() {
        let cases: &[(&str, &str)] = &[
            ("a\" \" \"b\" 226", "\" "),
            ("aaaa", "aa"),
            ("x y  z ", " "),
            ("no match", "\""),
            ("", " "),
            ("ab", "abc"),
        ];
        for (hay, lit) in cases {
            let ours: Vec<usize> = places(hay.as_bytes(), lit.as_bytes()).collect();
            let theirs: Vec<usize> = memchr::memmem::find_iter(hay.as_bytes(), lit).collect();
            assert_eq!(ours, theirs, "{hay:?} {lit:?}");
        }
    }
}
