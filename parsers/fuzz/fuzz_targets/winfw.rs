//! Arbitrary bytes as a winfw file, line by line through one LineParser: never panics, and
//! every event is consistent (see ftp_windows_common.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::{Format, LineParser};

mod ftp_windows_common;

fuzz_target!(|data: &[u8]| {
    let mut parser = LineParser::new(Format::WindowsFirewall, ftp_windows_common::ctx());
    ftp_windows_common::run(data, |line| parser.parse(line));
});
