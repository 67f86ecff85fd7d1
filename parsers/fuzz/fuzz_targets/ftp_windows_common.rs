// Shared by the ftp-windows targets (iis_ftp, filezilla, servu, winfw): a fixed context, and
// the checks every accepted line must pass. Each input is a whole file: its lines go, in order,
// through one parser, so the per-source state (#Fields, sessions) is fuzzed too.
use portcullis_parsers::{Event, ParseContext, ParseError, SourceTz};

pub fn ctx() -> ParseContext {
    let mut c = ParseContext::new(SourceTz::Named("Europe/Berlin".parse().unwrap()));
    c.now = chrono::DateTime::from_timestamp(1_124_013_600, 0).unwrap(); // 2005-08-14 10:00 UTC
    c.host = Some("192.0.2.10".parse().unwrap());
    c
}

/// Feeds every line of `data` to `parse`; checks each event.
pub fn run(data: &[u8], mut parse: impl FnMut(&[u8]) -> Result<Option<Event>, ParseError>) {
    for line in data.split(|&b| b == b'\n') {
        if let Ok(Some(event)) = parse(line) {
            let json = serde_json::to_string(&event).expect("an event always serializes");
            assert!(json.starts_with('{'));
            for text in [
                event.user_name.as_deref(),
                event.host_name.as_deref(),
                event.file_path.as_deref(),
            ] {
                assert!(text.map_or(0, str::len) <= data.len());
            }
        }
    }
}
