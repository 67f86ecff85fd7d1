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
}
