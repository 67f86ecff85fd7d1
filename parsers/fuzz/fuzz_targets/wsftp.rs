//! Arbitrary bytes as a WS_FTP Server log, line by line: never panics, every event is
//! consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::wsftp::parse_wsftp_line;

mod ftp_windows_common;

fuzz_target!(|data: &[u8]| {
    let ctx = ftp_windows_common::ctx();
    ftp_windows_common::run(data, |line| parse_wsftp_line(line, &ctx));
});
