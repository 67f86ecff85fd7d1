//! One line through the syslog header parser (RFC 3164, file forms, RFC 5424) and
//! `program_of`: must never panic, and what they return must point into the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::syslog::{parse_syslog_header, program_of};

mod ftp_unix_common;

fuzz_target!(|data: &[u8]| {
    let program = program_of(data);
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let ctx = ftp_unix_common::ctx(None);
    match parse_syslog_header(line, &ctx) {
        Ok(h) => {
            assert!(h.message_offset <= line.len());
            assert_eq!(&line[h.message_offset..], h.message);
            // program_of reads the same header.
            assert_eq!(program, h.program);
            for part in [h.host, h.program, h.msgid, h.structured_data]
                .into_iter()
                .flatten()
            {
                let start = part.as_ptr() as usize - line.as_ptr() as usize;
                assert!(start + part.len() <= line.len());
            }
        }
        Err(e) => assert!(e.offset <= line.len()),
    }
});
