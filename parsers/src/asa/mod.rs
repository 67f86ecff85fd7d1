//! Cisco ASA, PIX and FTD syslog messages (`%ASA-<severity>-<id>: <text>`).
//!
//! Shape: optional `<PRI>`, a timestamp (`Apr 15 2013 09:36:50`, year-less, or ISO 8601,
//! optionally followed by a zone name), optional host and `:` separators, the message tag
//! and the message text (see `header.rs`).
//!
//! Events by message id:
//! * packet denials → `firewall.deny` (outcome failure): 106001, 106006, 106007, 106010,
//!   106011, 106012, 106014, 106015, 106016, 106017, 106020, 106021, 106022, 106023
//!   (`rule.name` = the access group), 108004, 202010, 209005, 304002, 305006, 313001,
//!   313004, 313005, 313008, 313009, 338xxx `dropped`, 401004, 410001, 418001, 420002,
//!   421001, 434002, 500003, 500004, 710003–710006;
//! * 106100 access-list hits → `firewall.allow` (`permitted`, `est-allowed`) or
//!   `firewall.deny` (`denied`), `rule.name` = the ACL, `network.packets` = `hit-cnt`;
//! * management access: 710001 (requested) → `firewall.log`, 710002 → `firewall.allow`;
//!   605004 / 605005 (management login refused / accepted) → `firewall.deny` / `allow` with
//!   `user.name` (the event model has no login action outside FTP). Service names the ASA
//!   prints for ports (`ssh`, `netbios-ns`) are mapped back to numbers;
//! * 302013–302021 `Built` → `connection.open` (success), `Teardown` → `connection.close`
//!   with `network.bytes` (outcome failure for `SYN Timeout`, else success); `source` is the
//!   connection's initiator, and teardowns are paired with their build (see `conn.rs`). A
//!   teardown's `duration` gives `event.duration`, and `event.end` is its own timestamp;
//! * 338xxx Dynamic Filter `permitted` → allow, `monitored` → `firewall.log`;
//! * 400000–400050 IDS signatures → `firewall.log`, `rule.name` = `IDS:<n>`;
//! * threat detection → `firewall.log`: 733100 (drop rate exceeded; `rule.name` = the
//!   object: `Scanning`, `ACL drop`, ...), 733101 (`rule.name` `scanning-threat`; the host as
//!   source when attacking, as destination when targeted), 733102 (host added to the shun
//!   list, as source);
//! * every other id (system, VPN, NAT translation, URL logging, stub connections) is
//!   `Ok(None)`: a well-formed ASA line without a network event.
//!
//! Decisions: a message without any timestamp (`%PIX-7-710001: ...` as some collectors
//! store it) is rejected with `BadTimestamp`: its event time is unknown and the read time is
//! not the event time. [`parse_asa_message`] parses such a message when the caller has the
//! time from elsewhere (a syslog listener's receive time). Where the ASA prints an object
//! name instead of an address (`dmz:OCSP_Server/5678`) the address is left empty; a token
//! that is neither (`***`, `192.168.20`) is `BadAddress`. The host field becomes `host.name`
//! and, when it is an address, `observer.ip`.

mod conn;
mod fields;
mod header;
mod messages;

pub use conn::{State, MAX_OPEN_CONNECTIONS};

use crate::event::{Action, Dataset, Event, Outcome};
use crate::filterlog::parse_ip;
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Utc};
use compact_str::CompactString;
use fields::Body;
use header::Parsed;

const FORMAT: Format = Format::Asa;

/// What every event of one line shares.
struct Meta<'a> {
    timestamp: DateTime<Utc>,
    host: Option<&'a str>,
}

impl Meta<'_> {
    /// An ASA event with the line's time and host; the outcome follows from the action.
    fn event(&self, action: Action) -> Event {
        let mut e = Event::new(self.timestamp, Dataset::Asa, action);
        e.outcome = match action {
            Action::FirewallDeny => Outcome::Failure,
            Action::FirewallAllow | Action::ConnectionOpen | Action::ConnectionClose => {
                Outcome::Success
            }
            _ => Outcome::Unknown,
        };
        e.host_name = self.host.map(CompactString::from);
        e.observer_ip = self.host.filter(|h| could_be_ip(h)).and_then(parse_ip);
        e
    }
}

/// False for a host name that cannot be an address (a letter past `f`, a `-`): most hosts are
/// names, and this answers at their first such byte instead of trying to parse them.
fn could_be_ip(host: &str) -> bool {
    host.bytes()
        .all(|c| c.is_ascii_hexdigit() || c == b'.' || c == b':')
}

// Apr 30 2013 09:23:40: %ASA-4-106023: Deny tcp src outside:192.0.2.126/53638 dst
//   inside:10.0.0.132/8111 by access-group "acl_out" [0x71761f18, 0x0]
// <166>Apr 29 2013 12:59:50 fw01 : %ASA-6-302013: Built outbound TCP connection 89743274 for
//   outside:192.0.2.43/443 (192.0.2.43/443) to inside:10.123.3.42/4952 (10.123.3.42/12834)
// Sep  7 06:25:28 PIXName %PIX-7-710002: TCP access permitted from 10.0.0.1/60749 to
//   db:10.0.0.2/ssh
/// Parses one ASA / PIX / FTD syslog line. `Ok(None)` for a message id that carries no
/// network event, and for a syslog line of another program or device.
pub fn parse_asa_line(
    line: &[u8],
    ctx: &ParseContext,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    match header::parse_header(s, ctx)? {
        Parsed::Other => Ok(None),
        Parsed::Asa(h) => {
            let meta = Meta {
                timestamp: h.timestamp,
                host: h.host,
            };
            messages::parse_message(h.tag, &h.body, &meta, state)
        }
    }
}

// %ASA-4-106023: Deny tcp src inside:111.11.11.1/2143 dst YYY:172.11.1.11/139 by access-group
//   "inside_inbound"
/// Parses a bare message that starts with its tag (`%ASA-6-302013: Built ...`), for a caller
/// that knows the event time from elsewhere. Error offsets are within `message`.
pub fn parse_asa_message(
    message: &str,
    timestamp: DateTime<Utc>,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let (tag, used) = header::parse_tag(message).ok_or_else(|| {
        ParseError::new(
            FORMAT,
            ErrorKind::Syntax,
            0,
            "a message tag like %ASA-6-302013:",
        )
    })?;
    let body = Body {
        text: message.get(used..).unwrap_or(""),
        base: used,
    };
    let meta = Meta {
        timestamp,
        host: None,
    };
    messages::parse_message(tag, &body, &meta, state)
}

#[cfg(test)]
mod tests;
