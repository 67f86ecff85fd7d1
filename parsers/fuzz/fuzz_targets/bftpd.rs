//! Whole files through the bftpd parser (one LineParser per input, so the per-pid connection
//! memory is fuzzed too): must never panic, and an accepted line must give an event whose
//! fields are consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::Format;

mod ftp_unix_common;

fuzz_target!(|data: &[u8]| {
    ftp_unix_common::run(Format::Bftpd, data, None);
});
