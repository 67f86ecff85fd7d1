//! ProFTPD ExtendedLog: the input's first line is the LogFormat (so the compiler is fuzzed
//! too), the rest are log lines read with it through one LineParser. An input without a
//! newline is read with the default LogFormat.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::Format;

mod ftp_unix_common;

fuzz_target!(|data: &[u8]| {
    let (format, lines) = match data.iter().position(|&b| b == b'\n') {
        Some(nl) => (
            Some(String::from_utf8_lossy(&data[..nl]).into_owned()),
            &data[nl + 1..],
        ),
        None => (None, data),
    };
    ftp_unix_common::run(Format::ProftpdExtended, lines, format);
});
