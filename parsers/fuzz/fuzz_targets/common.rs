// Shared by the targets: one fixed context, so a crash reproduces from its input alone.
use portcullis_parsers::{ParseContext, SourceTz};

pub fn ctx() -> ParseContext {
    ParseContext {
        // A zone with DST, so the gap/overlap handling is exercised too.
        timezone: SourceTz::Named("Europe/Berlin".parse().unwrap()),
        now: chrono::DateTime::from_timestamp(1_124_013_600, 0).unwrap(), // 2005-08-14 10:00 UTC
        host: Some("192.0.2.10".parse().unwrap()),
        log_format: None,
    }
}
