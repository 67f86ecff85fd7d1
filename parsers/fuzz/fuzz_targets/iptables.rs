//! Arbitrary bytes through the iptables parser: must never panic, and an accepted line must give an
//! event whose fields are consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::{parse_line, Format};

mod common;

fuzz_target!(|data: &[u8]| {
    let ctx = common::ctx();
    if let Ok(Some(event)) = parse_line(Format::Iptables, data, &ctx) {
        // Serializing touches every field (Display impls included).
        let json = serde_json::to_string(&event).expect("an event always serializes");
        assert!(json.starts_with('{'));
        // Borrowed-then-owned text never outgrows the line it came from.
        for text in [
            event.user_name.as_deref(),
            event.host_name.as_deref(),
            event.rule_name.as_deref(),
        ] {
            assert!(text.map_or(0, str::len) <= data.len());
        }
    }
});
