//! Arbitrary bytes through the Cisco ASA parser, line by line with one parser (so build /
//! teardown pairing runs on fuzzed input too), and each line's text through
//! `asa::parse_asa_message`: must never panic, and events must be consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::asa::parse_asa_message;
use portcullis_parsers::{Event, Format, LineParser};

mod common;

/// Lines per input: enough for a build, a teardown and some noise between them.
const MAX_LINES: usize = 64;

fn check(event: &Event, input_len: usize) {
    let json = serde_json::to_string(event).expect("an event always serializes");
    assert!(json.starts_with('{'));
    for text in [
        event.user_name.as_deref(),
        event.host_name.as_deref(),
        event.rule_name.as_deref(),
        event.interface_in.as_deref(),
        event.interface_out.as_deref(),
    ] {
        assert!(text.map_or(0, str::len) <= input_len);
    }
}

fuzz_target!(|data: &[u8]| {
    let ctx = common::ctx();
    let mut parser = LineParser::new(Format::Asa, ctx.clone());
    let mut state = portcullis_parsers::asa::State::default();
    for line in data.split(|&b| b == b'\n').take(MAX_LINES) {
        if let Ok(Some(event)) = parser.parse(line) {
            check(&event, line.len());
        }
        if let Ok(text) = std::str::from_utf8(line) {
            if let Ok(Some(event)) = parse_asa_message(text, ctx.now, &mut state) {
                check(&event, line.len());
            }
        }
    }
    assert!(state.open_connections() <= portcullis_parsers::asa::MAX_OPEN_CONNECTIONS);
});
