//! Arbitrary bytes as the head of a file: format detection must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::detect_format;

mod common;

fuzz_target!(|data: &[u8]| {
    let _ = detect_format(data, &common::ctx());
});
