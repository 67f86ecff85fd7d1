//! Arbitrary bytes through the pfSense / OPNsense filterlog parser: must never panic, and an
//! accepted line must give an event whose fields are consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_parsers::{parse_line, Format, Transport};

mod common;

fuzz_target!(|data: &[u8]| {
    let ctx = common::ctx();
    if let Ok(Some(event)) = parse_line(Format::Filterlog, data, &ctx) {
        let json = serde_json::to_string(&event).expect("an event always serializes");
        assert!(json.starts_with('{'));
        assert!(event.source_ip.is_some() && event.destination_ip.is_some());
        // Ports only for TCP and UDP, flags only for TCP.
        let ports = matches!(event.transport, Some(Transport::Tcp | Transport::Udp));
        assert_eq!(event.source_port.is_some(), ports);
        assert_eq!(
            event.tcp_flags.is_some(),
            event.transport == Some(Transport::Tcp)
        );
        for text in [event.host_name.as_deref(), event.rule_name.as_deref()] {
            assert!(text.map_or(0, str::len) <= data.len());
        }
    }
});
