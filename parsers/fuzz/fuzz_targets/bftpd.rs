//! Whole files through the bftpd parser (one LineParser per input, so the per-pid connection
//! memory is fuzzed too): must never panic, and an accepted line must give an event whose
//! fields are consistent. Unlike the other ftp-unix targets, a transfer event carries the user
//! of an earlier login line, so its text fields are bounded by the longest line so far, not
//! by its own line (the first run of this target stopped on exactly that; see the unit test
//! `a_long_user_rides_on_a_short_transfer_line`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::{Format, LineParser};

#[allow(dead_code)] // `run` checks fields against their own line only
mod ftp_unix_common;

fuzz_target!(|data: &[u8]| {
    let mut parser = LineParser::new(Format::Bftpd, ftp_unix_common::ctx(None));
    let mut longest = 0;
    for line in data.split(|&b| b == b'\n') {
        longest = longest.max(line.len());
        match parser.parse(line) {
            Ok(Some(event)) => {
                let json = serde_json::to_string(&event).expect("an event always serializes");
                assert!(json.starts_with('{'));
                for text in [
                    event.user_name.as_deref(),
                    event.host_name.as_deref(),
                    event.file_path.as_deref(),
                ] {
                    assert!(text.map_or(0, str::len) <= longest);
                }
                // Only the user comes from another line; host and path are this line's.
                for text in [event.host_name.as_deref(), event.file_path.as_deref()] {
                    assert!(text.map_or(0, str::len) <= line.len());
                }
            }
            Ok(None) => {}
            Err(e) => assert!(e.offset <= line.len().max(portcullis_parsers::MAX_LINE_LEN)),
        }
    }
});
