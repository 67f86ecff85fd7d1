// Shared by the ftp-unix targets (xferlog, proftpd, proftpd_extended, pureftpd): a fixed
// context, and the checks every accepted line must pass. Each input is a whole file: its lines
// go, in order, through one LineParser, so per-source state is fuzzed too.
use portcullis_parsers::{Format, LineParser, ParseContext, SourceTz};

pub fn ctx(log_format: Option<String>) -> ParseContext {
    let mut c = ParseContext::new(SourceTz::Named("Europe/Berlin".parse().unwrap()));
    c.now = chrono::DateTime::from_timestamp(1_124_013_600, 0).unwrap(); // 2005-08-14 10:00 UTC
    c.host = Some("192.0.2.10".parse().unwrap());
    c.log_format = log_format;
    c
}

/// Feeds every line of `data` to one parser of `format`; checks each event.
pub fn run(format: Format, data: &[u8], log_format: Option<String>) {
    let mut parser = LineParser::new(format, ctx(log_format));
    for line in data.split(|&b| b == b'\n') {
        match parser.parse(line) {
            Ok(Some(event)) => {
                let json = serde_json::to_string(&event).expect("an event always serializes");
                assert!(json.starts_with('{'));
                // Text fields are cut from the line, never longer than it.
                for text in [
                    event.user_name.as_deref(),
                    event.host_name.as_deref(),
                    event.file_path.as_deref(),
                ] {
                    assert!(text.map_or(0, str::len) <= line.len());
                }
            }
            Ok(None) => {}
            // An error points into the line (or just past it).
            Err(e) => assert!(e.offset <= line.len().max(portcullis_parsers::MAX_LINE_LEN)),
        }
    }
}
