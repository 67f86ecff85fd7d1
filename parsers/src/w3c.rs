//! W3C extended log file helpers, shared by IIS FTP and Windows Firewall (`pfirewall.log`).
//!
//! The one place that tokenizes W3C lines and maps `#Fields:` names to column indexes. A W3C
//! file is directive lines (`#Version: 1.0`, `#Fields: date time c-ip ...`, `#Date: ...`) and
//! data lines whose space-separated columns follow the last `#Fields:` directive; `-` marks an
//! empty value. Runs of spaces count as one separator and a trailing space is ignored (IIS 5
//! writes one after the last column).
//!
//! A format names the fields it knows with small integer ids (`0..K`); a [`Layout`] records,
//! for each of those ids, which column holds it. Unknown field names take a column but map to
//! nothing, so a log with extra columns still parses.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use memchr::memchr;

/// Most columns a layout or a data line may have. IIS knows about 30 field names (HTTP and
/// FTP, custom fields included) and `pfirewall.log` 18; 48 leaves room while keeping the
/// per-line column table on the stack.
pub const MAX_COLUMNS: usize = 48;

/// Marks a field id with no column.
const ABSENT: u8 = u8::MAX;

/// Which column holds each field a format knows (`K` = how many fields it knows), from one
/// `#Fields:` directive or a built-in default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout<const K: usize> {
    column_of: [u8; K],
    columns: u8,
}

/// Why a `#Fields:` directive was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutError {
    /// Byte offset within the directive's value.
    pub offset: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl<const K: usize> Layout<K> {
    // date time c-ip cs-username s-ip s-port cs-method cs-uri-stem sc-status
    /// The layout of a `#Fields:` value: `lookup` gives the id of each name the format knows
    /// (`None` for names it ignores). A name given twice keeps its first column.
    pub fn parse(
        names: &str,
        lookup: impl Fn(&str) -> Option<usize>,
    ) -> Result<Layout<K>, LayoutError> {
        let mut layout = Layout {
            column_of: [ABSENT; K],
            columns: 0,
        };
        let cols = Columns::split(names).map_err(|offset| LayoutError {
            offset,
            expected: "at most 48 field names",
        })?;
        if cols.is_empty() {
            return Err(LayoutError {
                offset: 0,
                expected: "at least one field name",
            });
        }
        for (i, name) in cols.iter().enumerate() {
            if let Some(id) = lookup(name).filter(|&id| id < K) {
                if layout.column_of[id] == ABSENT {
                    layout.column_of[id] = i as u8; // i < MAX_COLUMNS < ABSENT
                }
            }
        }
        layout.columns = cols.len() as u8;
        Ok(layout)
    }

    /// A built-in layout from a list of field names (a format's default `#Fields:` value).
    /// The list must be valid (at most [`MAX_COLUMNS`] names); it is a constant of the caller.
    pub fn from_default(names: &str, lookup: impl Fn(&str) -> Option<usize>) -> Layout<K> {
        Layout::parse(names, lookup).unwrap_or(Layout {
            column_of: [ABSENT; K],
            columns: 0,
        })
    }

    /// How many columns a data line of this layout has.
    pub fn columns(&self) -> usize {
        usize::from(self.columns)
    }

    /// The column that holds field `id`, if the layout has it.
    pub fn column(&self, id: usize) -> Option<usize> {
        match self.column_of.get(id) {
            Some(&c) if c != ABSENT => Some(usize::from(c)),
            _ => None,
        }
    }

    /// True when the layout has field `id`.
    pub fn has(&self, id: usize) -> bool {
        self.column(id).is_some()
    }
}

/// The columns of one data line (or of a `#Fields:` value), borrowed from it.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    line: &'a str,
    /// Start and end of each column. Lines are at most [`crate::MAX_LINE_LEN`] (16 KiB) long,
    /// so offsets fit 16 bits and the table stays small (it is rebuilt for every line).
    spans: [(u16, u16); MAX_COLUMNS],
    len: usize,
}

impl<'a> Columns<'a> {
    // 2005-04-11 08:05:57 DROP UDP 123.45.78.90 123.156.78.255 137 137 78 - - - - - - - RECEIVE
    /// Splits `line` at spaces. `Err(offset)`: the line has more than [`MAX_COLUMNS`]
    /// columns (or is longer than 64 KiB); `offset` is where the first column past the limit
    /// starts.
    pub fn split(line: &'a str) -> Result<Columns<'a>, usize> {
        let mut c = Columns {
            line,
            spans: [(0, 0); MAX_COLUMNS],
            len: 0,
        };
        let b = line.as_bytes();
        if b.len() > usize::from(u16::MAX) {
            return Err(usize::from(u16::MAX));
        }
        // A column is the text between two spaces. Columns are short (a dozen bytes), so
        // the spaces are found eight bytes at a time rather than by restarting a vectorized
        // search at each one.
        let mut start = 0;
        let mut chunks = b.chunks_exact(8);
        let mut base = 0;
        for chunk in &mut chunks {
            let mut spaces = space_bits(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
            while spaces != 0 {
                let sp = base + (spaces.trailing_zeros() / 8) as usize;
                if sp > start {
                    c.push(start, sp)?;
                }
                start = sp + 1;
                spaces &= spaces - 1;
            }
            base += 8;
        }
        for (i, &ch) in chunks.remainder().iter().enumerate() {
            if ch == b' ' {
                let sp = base + i;
                if sp > start {
                    c.push(start, sp)?;
                }
                start = sp + 1;
            }
        }
        if b.len() > start {
            c.push(start, b.len())?;
        }
        Ok(c)
    }

    fn push(&mut self, start: usize, end: usize) -> Result<(), usize> {
        let slot = self.spans.get_mut(self.len).ok_or(start)?;
        *slot = (start as u16, end as u16); // both <= the checked line length
        self.len += 1;
        Ok(())
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the line has no column (only spaces).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Column `i` as written (`-` included).
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let &(s, e) = self.spans.get(..self.len)?.get(i)?;
        // Spans start and end at spaces or the line's ends: character boundaries.
        self.line.get(usize::from(s)..usize::from(e))
    }

    /// Column `i`, `None` when absent or `-` (W3C's empty value).
    pub fn value(&self, i: usize) -> Option<&'a str> {
        self.get(i).filter(|v| *v != "-")
    }

    /// Byte offset of column `i` within the line (the line's length when there is none).
    pub fn offset(&self, i: usize) -> usize {
        match self.spans.get(..self.len).and_then(|s| s.get(i)) {
            Some(&(s, _)) => usize::from(s),
            None => self.line.len(),
        }
    }

    /// The columns in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len).filter_map(|i| self.get(i))
    }
}

/// The top bit of each byte of `w` that is a space, and no other bit: a zero-byte test on
/// `w ^ spaces` that is exact (no carries between bytes).
fn space_bits(w: u64) -> u64 {
    const SPACES: u64 = 0x2020_2020_2020_2020;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ SPACES;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

// 192.0.2.1   2001:db8::1
/// An IP address column. Dotted IPv4 is read by hand (the common case, several times faster
/// than the standard parser); anything else (IPv6) goes to the standard parser.
pub fn parse_ip(s: &str) -> Option<std::net::IpAddr> {
    if let Some((ip, n)) = crate::scan::ipv4_prefix(s.as_bytes()) {
        if n == s.len() {
            return Some(ip.into());
        }
    }
    s.parse().ok()
}

/// A directive line: `#Name: value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directive<'a> {
    /// The name between `#` and `:`, trimmed (`Fields`, `Time Format`).
    pub name: &'a str,
    /// The text after the `:`, trimmed; empty when there is no `:`.
    pub value: &'a str,
    /// Byte offset of `value` within the line.
    pub value_offset: usize,
}

// #Fields: date time c-ip cs-username s-ip s-port cs-method
// #Time Format: Local
/// Reads a directive line; `None` when the line does not start with `#`.
pub fn parse_directive(line: &str) -> Option<Directive<'_>> {
    let rest = line.strip_prefix('#')?;
    let Some(colon) = memchr(b':', rest.as_bytes()) else {
        return Some(Directive {
            name: rest.trim(),
            value: "",
            value_offset: line.len(),
        });
    };
    let raw = &rest[colon + 1..];
    let value = raw.trim_matches(' ');
    let lead = raw.len() - raw.trim_start_matches(' ').len();
    Some(Directive {
        name: rest[..colon].trim(),
        value,
        value_offset: 1 + colon + 1 + lead,
    })
}

/// `n` ASCII digits at the start of `b` as a number.
fn digits(b: &[u8], n: usize) -> Option<u32> {
    let d = b.get(..n)?;
    d.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

// 2006-09-23
/// A W3C `date` value: `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(b, 4)?;
    let month = digits(&b[5..], 2)?;
    let day = digits(&b[8..], 2)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

// 17:49:32
// 17:49:32.250
/// A W3C `time` value: `HH:MM:SS` with an optional fraction of a second.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits(b, 2)?, digits(&b[3..], 2)?, digits(&b[6..], 2)?);
    let nanos = match &b[8..] {
        [] => 0,
        [b'.', frac @ ..] if !frac.is_empty() && frac.len() <= 9 => {
            let v = digits(frac, frac.len())?;
            v * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

// 2006-09-23 17:49:32
/// A `#Date:` directive's value: date, one space, time.
pub fn parse_date_time(s: &str) -> Option<NaiveDateTime> {
    let (date, time) = s.split_once(' ')?;
    Some(parse_date(date)?.and_time(parse_time(time.trim())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<usize> {
        ["date", "time", "c-ip", "s-port"]
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
    }

    #[test]
    fn layout_maps_known_names_and_skips_others() {
        let l = Layout::<4>::parse("time x-custom c-ip  date c-ip ", lookup).unwrap();
        assert_eq!(l.columns(), 5);
        assert_eq!(
            (0..4).map(|id| l.column(id)).collect::<Vec<_>>(),
            [Some(3), Some(0), Some(2), None]
        );
        assert!(l.has(2) && !l.has(3) && !l.has(9));
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "at least one field name"),
            ("   ", 0, "at least one field name"),
        ];
        for (names, offset, expected) in cases {
            let e = Layout::<4>::parse(names, lookup).unwrap_err();
            assert_eq!((e.offset, e.expected), (*offset, *expected), "{names:?}");
        }
        let many = "x ".repeat(MAX_COLUMNS + 1);
        let e = Layout::<4>::parse(&many, lookup).unwrap_err();
        assert_eq!(e.offset, MAX_COLUMNS * 2);
    }

    #[test]
    fn columns_split_on_space_runs() {
        let c = Columns::split("a  b -  c ").unwrap();
        assert_eq!(c.iter().collect::<Vec<_>>(), ["a", "b", "-", "c"]);
        assert_eq!(
            (c.len(), c.offset(1), c.offset(3), c.offset(9)),
            (4, 3, 8, 10)
        );
        assert_eq!((c.value(2), c.value(3), c.get(4)), (None, Some("c"), None));
        assert!(Columns::split("   ").unwrap().is_empty());
        // Spaces at every place of the eight-byte chunks and in the tail, next to bytes
        // that differ from a space by one bit (`!`, `0`, `\xa0` in `é`).
        for line in [
            "a b c d e f g h i j k l m n o p q",
            "  !0  ! 0! 0 !  é é 0123456789 x",
            "abcdefgh ijklmnop qrstuvwxyz",
            "abcdefg hijklmn opqrstu",
        ] {
            let c = Columns::split(line).unwrap();
            let want: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
            assert_eq!(c.iter().collect::<Vec<_>>(), want, "{line:?}");
        }
        assert_eq!(Columns::split(&"é ".repeat(60)).unwrap_err(), 48 * 3);
    }

    #[test]
    fn ip_addresses_like_the_standard_parser() {
        for s in [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1..2.3",
            "1.2.3.",
            ".1.2.3",
            "1.2.3.4444",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "x.x.x.79",
            "",
        ] {
            assert_eq!(parse_ip(s), s.parse().ok(), "{s}");
        }
    }

    #[test]
    fn directives() {
        type Case<'a> = (&'a str, Option<(&'a str, &'a str, usize)>);
        let cases: &[Case] = &[
            ("#Fields: date time", Some(("Fields", "date time", 9))),
            ("#Time Format: Local", Some(("Time Format", "Local", 14))),
            (
                "#Date:2006-09-23 17:49:32 ",
                Some(("Date", "2006-09-23 17:49:32", 6)),
            ),
            ("# section: Sample 1", Some(("section", "Sample 1", 11))),
            ("#Remark", Some(("Remark", "", 7))),
            ("2006-09-23", None),
        ];
        for (line, want) in cases {
            let got = parse_directive(line).map(|d| (d.name, d.value, d.value_offset));
            assert_eq!(got, *want, "{line}");
        }
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(
            parse_date("2006-09-23"),
            NaiveDate::from_ymd_opt(2006, 9, 23)
        );
        for bad in ["2006-9-23", "2006-02-30", "2006/09/23", "x006-09-23", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        let t = |h, m, s, n| NaiveTime::from_hms_nano_opt(h, m, s, n);
        assert_eq!(parse_time("17:49:32"), t(17, 49, 32, 0));
        assert_eq!(parse_time("17:49:32.25"), t(17, 49, 32, 250_000_000));
        for bad in [
            "17:49",
            "24:00:00",
            "17:49:32.",
            "17:49:32x",
            "1:49:32",
            "17-49-32",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(
            parse_date_time("2006-09-23 17:49:32"),
            NaiveDate::from_ymd_opt(2006, 9, 23).and_then(|d| d.and_hms_opt(17, 49, 32))
        );
        assert_eq!(parse_date_time("2006-09-23"), None);
    }
}
