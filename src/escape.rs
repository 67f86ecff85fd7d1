//! Escaping of attacker-controlled text (FTP user names, paths, raw log lines) wherever it is
//! printed or forwarded: control characters cannot forge lines or terminal sequences.

/// Escapes backslashes, double quotes and every control character (`\n`, `\t`, `\x1b`, ...),
/// leaving all other text, including non-ASCII letters, as it is.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escapes control characters and backslashes only: for a raw log line printed on a line of
/// its own, where quotes need no escaping but a newline or terminal sequence must not pass.
pub fn escape_line(s: &str) -> String {
    if !s.chars().any(|c| c == '\\' || c.is_control()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' => out.push('"'),
            c if c == '\\' || c.is_control() => out.push_str(&escape_text(&c.to_string())),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_quotes_are_escaped() {
        let table = [
            ("alice", "alice"),
            ("a\"b", "a\\\"b"),
            ("x\ny", "x\\ny"),
            ("\u{1b}[31mred", "\\u{1b}[31mred"),
            ("back\\slash", "back\\\\slash"),
            ("jürgen", "jürgen"),
            ("\u{85}next", "\\u{85}next"),
        ];
        for (input, want) in table {
            assert_eq!(escape_text(input), want, "{input:?}");
        }
    }

    #[test]
    fn lines_keep_quotes_but_not_control_characters() {
        assert_eq!(escape_line(r#"Client "1.2.3.4""#), r#"Client "1.2.3.4""#);
        assert_eq!(escape_line("a\rb\u{1b}c\\"), "a\\rb\\u{1b}c\\\\");
    }
}
