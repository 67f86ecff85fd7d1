//! Syslog messages for incident news: RFC 5424 with a structured-data element, or RFC 3164
//! with key=value pairs, and their RFC 6587 TCP framing.
//!
//! Titles and group values carry attacker text (user names, paths). Every text goes through
//! [`one_line`] (no control character survives, so no newline, no fake LF frame, no
//! terminal sequence) and is capped to [`MAX_TEXT`] bytes; SD-PARAM values are escaped per
//! RFC 5424 §6.3.3 (`"` `\` `]`), so no value can end the element or open a fake one.

use super::settings::{ForwardSettings, SyslogFormat};
use crate::escape::escape_text;
use crate::rules::Severity;
use crate::store::outbox::OutboxRow;
use std::fmt::Write;

/// SD-ID of our element: `name@PEN`. 32473 is the example private enterprise number RFC 5612
/// reserves for documentation; a deployment with its own PEN would put it here.
pub const SD_ID: &str = "portcullis@32473";
/// Most bytes kept of one text (title, group value). rsyslog's default maximum message
/// size is 8 KiB; a title and a few group values so capped stay well inside it.
pub const MAX_TEXT: usize = 1024;

/// The syslog severity (RFC 5424 §6.2.1) of an incident severity: critical → 2 (critical),
/// high → 3 (error), medium → 4 (warning), low → 5 (notice).
pub fn syslog_severity(severity: &str) -> u8 {
    match Severity::from_name(severity) {
        Some(Severity::Critical) => 2,
        Some(Severity::High) => 3,
        Some(Severity::Medium) => 4,
        Some(Severity::Low) | None => 5,
    }
}

/// `text` capped to [`MAX_TEXT`] bytes (on a character boundary, marked with `…`), with
/// every control character written as `\u{..}` (`\n` as `\n`): it stays on one line.
pub fn one_line(text: &str) -> String {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 8);
    for c in text[..end].chars() {
        if c.is_control() {
            out.push_str(&escape_text(&c.to_string()));
        } else {
            out.push(c);
        }
    }
    if end < text.len() {
        out.push('…');
    }
    out
}

/// An SD-PARAM value (RFC 5424 §6.3.3): [`one_line`], then `"`, `\` and `]` escaped with a
/// backslash.
pub fn sd_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in one_line(text).chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An SD-NAME (RFC 5424 §6.3.3): printable ASCII without `=`, space, `]` and `"`, at most 32
/// characters. Field names always are; anything else is replaced by `_`.
fn sd_name(name: &str) -> String {
    name.chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The HOSTNAME field: this machine's name if it is a valid one, else the NILVALUE `-`.
pub fn local_hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = name.trim();
    if !name.is_empty() && name.len() <= 255 && name.chars().all(|c| c.is_ascii_graphic()) {
        name.to_string()
    } else {
        "-".to_string()
    }
}

/// Renders one queued row as a syslog message (without framing).
pub fn render(row: &OutboxRow, s: &ForwardSettings, hostname: &str, pid: u32) -> String {
    let inc = &row.incident;
    let pri = u32::from(s.facility) * 8 + u32::from(syslog_severity(&inc.severity));
    let change = row.change.as_str();
    let text = format!(
        "{} {change}: {} (count {})",
        inc.rule,
        one_line(&inc.title),
        inc.count
    );
    let mut out = String::with_capacity(256);
    match s.format {
        SyslogFormat::Rfc5424 => {
            let _ = write!(
                out,
                "<{pri}>1 {} {hostname} {} {pid} incident.{change} [{SD_ID}",
                row.created_at, s.app_name
            );
            for (name, value) in [
                ("id", inc.id.as_str()),
                ("rule", &inc.rule),
                ("severity", &inc.severity),
                ("change", change),
                ("count", &inc.count.to_string()),
                ("first_seen", &inc.first_seen),
                ("last_seen", &inc.last_seen),
            ] {
                let _ = write!(out, " {name}=\"{}\"", sd_value(value));
            }
            for (field, value) in &inc.group {
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                let _ = write!(out, " {}=\"{}\"", sd_name(field), sd_value(&value));
            }
            let _ = write!(out, "] {text}");
        }
        SyslogFormat::Rfc3164 => {
            let stamp = chrono::DateTime::parse_from_rfc3339(&row.created_at).map_or_else(
                |_| "Jan  1 00:00:00".into(),
                |t| t.format("%b %e %H:%M:%S").to_string(),
            );
            let _ = write!(
                out,
                "<{pri}>{stamp} {hostname} {}[{pid}]: {text} id={} severity={} first_seen={} last_seen={}",
                s.app_name,
                inc.id,
                one_line(&inc.severity),
                inc.first_seen,
                inc.last_seen
            );
            for (field, value) in &inc.group {
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                let _ = write!(
                    out,
                    " {}=\"{}\"",
                    sd_name(field),
                    escape_text(&one_line(&value))
                );
            }
        }
    }
    out
}

/// The bytes to write for one message on a TCP stream (RFC 6587): `LEN SP MSG` for octet
/// counting, `MSG LF` otherwise.
pub fn frame(msg: &str, framing: super::settings::Framing) -> Vec<u8> {
    match framing {
        super::settings::Framing::OctetCounting => format!("{} {msg}", msg.len()).into_bytes(),
        super::settings::Framing::Lf => format!("{msg}\n").into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::settings::Framing;
    use crate::store::outbox::Change;
    use crate::store::StoredIncident;

    fn row(title: &str, user: &str) -> OutboxRow {
        let mut group = serde_json::Map::new();
        group.insert("source.ip".into(), "192.0.2.50".into());
        group.insert("user.name".into(), user.into());
        OutboxRow {
            seq: 1,
            change: Change::New,
            incident: StoredIncident {
                id: "00112233aabbccdd".into(),
                rule: "ftp.brute_force".into(),
                severity: "high".into(),
                title: title.into(),
                group,
                first_seen: "2026-03-02T10:00:00.000000Z".into(),
                last_seen: "2026-03-02T10:01:50.000000Z".into(),
                count: 10,
                distinct: None,
                open: true,
                evidence: Vec::new(),
            },
            created_at: "2026-03-02T10:02:00.000000Z".into(),
        }
    }

    fn settings(format: SyslogFormat) -> ForwardSettings {
        let mut s = ForwardSettings::for_target("tcp://127.0.0.1:1").unwrap();
        s.format = format;
        s
    }

    #[test]
    fn rfc5424_message_exactly() {
        let got = render(
            &row("FTP brute force", "bob"),
            &settings(SyslogFormat::Rfc5424),
            "loghost",
            42,
        );
        assert_eq!(
            got,
            "<131>1 2026-03-02T10:02:00.000000Z loghost portcullis 42 incident.new \
             [portcullis@32473 id=\"00112233aabbccdd\" rule=\"ftp.brute_force\" severity=\"high\" \
             change=\"new\" count=\"10\" first_seen=\"2026-03-02T10:00:00.000000Z\" \
             last_seen=\"2026-03-02T10:01:50.000000Z\" source.ip=\"192.0.2.50\" user.name=\"bob\"] \
             ftp.brute_force new: FTP brute force (count 10)"
        );
    }

    #[test]
    fn rfc3164_message_exactly() {
        let got = render(
            &row("FTP brute force", "b\"ob"),
            &settings(SyslogFormat::Rfc3164),
            "loghost",
            42,
        );
        assert_eq!(
            got,
            "<131>Mar  2 10:02:00 loghost portcullis[42]: ftp.brute_force new: FTP brute force \
             (count 10) id=00112233aabbccdd severity=high first_seen=2026-03-02T10:00:00.000000Z \
             last_seen=2026-03-02T10:01:50.000000Z source.ip=\"192.0.2.50\" user.name=\"b\\\"ob\""
        );
    }

    #[test]
    fn hostile_names_cannot_break_lines_frames_or_elements() {
        // A user name that tries to close our element, open a fake one, start a new frame
        // (octet-counted and LF) and colour the terminal.
        let user = "x\"] [portcullis@32473 rule=\"fake\"]\n12 <13>1 fake\r\u{1b}[31m\\";
        let title = "login as x\n<13>1 - - - - - fake ]";
        for format in [SyslogFormat::Rfc5424, SyslogFormat::Rfc3164] {
            let msg = render(&row(title, user), &settings(format), "h", 1);
            assert!(!msg.chars().any(char::is_control), "{msg}");
            let lf = frame(&msg, Framing::Lf);
            assert_eq!(lf.iter().filter(|&&b| b == b'\n').count(), 1);
        }
        let msg = render(&row(title, user), &settings(SyslogFormat::Rfc5424), "h", 1);
        assert!(msg.contains(
            r#" user.name="x\"\] [portcullis@32473 rule=\"fake\"\]\\n12 <13>1 fake\\r\\u{1b}[31m\\"]"#
        ), "{msg}");
        // The element ends exactly once: at the first `]` not preceded by a backslash.
        let sd_end = unescaped_close(&msg);
        assert_eq!(&msg[sd_end..sd_end + 2], "] ");
        assert!(msg[sd_end + 2..].starts_with("ftp.brute_force new: login as x\\n<13>1"));
    }

    /// Byte index of the first `]` outside escapes and quotes, as an RFC 5424 parser finds it.
    fn unescaped_close(msg: &str) -> usize {
        let (mut quoted, mut escaped) = (false, false);
        for (i, c) in msg.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = !quoted,
                ']' if !quoted => return i,
                _ => {}
            }
        }
        panic!("no end of SD in {msg}");
    }

    #[test]
    fn texts_are_capped_and_values_escaped() {
        let long = "é".repeat(MAX_TEXT);
        let capped = one_line(&long);
        assert!(capped.len() <= MAX_TEXT + '…'.len_utf8() && capped.ends_with('…'));
        assert_eq!(sd_value(r#"a"b\c]d"#), r#"a\"b\\c\]d"#);
        assert_eq!(sd_name("user name=\"x\""), "user_name__x_");
        assert_eq!(frame("<13>1 x", Framing::OctetCounting), b"7 <13>1 x");
        assert_eq!(
            ["critical", "high", "medium", "low", "?"].map(syslog_severity),
            [2, 3, 4, 5, 5]
        );
    }
}
