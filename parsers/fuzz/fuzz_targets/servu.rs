//! Arbitrary bytes as a Serv-U log, line by line with the source's memory
//! (`parse_servu_line_with_state`) and without it: never panics, every event is consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::servu::{parse_servu_line, parse_servu_line_with_state, State};

mod ftp_windows_common;

fuzz_target!(|data: &[u8]| {
    let ctx = ftp_windows_common::ctx();
    let mut state = State::default();
    ftp_windows_common::run(data, |line| {
        parse_servu_line_with_state(line, &ctx, &mut state)
    });
    ftp_windows_common::run(data, |line| parse_servu_line(line, &ctx));
});
