//! Whole files through the sshd parser (one LineParser per input): must never panic, and an
//! accepted line must give an event whose fields are consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::Format;

mod ftp_unix_common;

fuzz_target!(|data: &[u8]| {
    ftp_unix_common::run(Format::Sshd, data, None);
});
