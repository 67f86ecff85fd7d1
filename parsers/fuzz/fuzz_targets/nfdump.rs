//! Arbitrary bytes as lines of nfdump CSV output, through one stateful parser (headers and the
//! Summary block change how later lines are read): must never panic, and an accepted line must
//! give an event that serializes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::{Format, LineParser, ParseContext, SourceTz};

fuzz_target!(|data: &[u8]| {
    // A zone with DST, so the gap/overlap handling is exercised too.
    let mut ctx = ParseContext::new(SourceTz::Named("Europe/Berlin".parse().unwrap()));
    ctx.now = chrono::DateTime::from_timestamp(1_124_013_600, 0).unwrap();
    let mut p = LineParser::new(Format::NfdumpCsv, ctx);
    for line in data.split(|&b| b == b'\n') {
        if let Ok(Some(event)) = p.parse(line) {
            let json = serde_json::to_string(&event).expect("an event always serializes");
            assert!(json.starts_with('{'));
        }
    }
});
