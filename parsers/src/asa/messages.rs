//! ASA messages about single packets or management access: denies (106xxx, 313xxx, 710xxx,
//! ...), access-list hits (106100), and threat detection (733xxx). Connection build and
//! teardown (302xxx) are in `conn.rs`.

use super::fields::{endpoint_after, endpoint_at, flag_words, transport_word, Body, Endpoint};
use super::header::Tag;
use super::{conn, Meta, State};
use crate::event::{Action, Event, Transport};
use crate::{ErrorKind, ParseError};
use compact_str::CompactString;

/// How many words before a keyword are searched for a protocol name (`Deny inbound UDP from`).
const MAX_PROTOCOL_WORDS: usize = 16;

use Action::{FirewallAllow as Allow, FirewallDeny as Deny, FirewallLog as Log};

/// True when an endpoint's `/n` is a port for this protocol (for ICMP it is a type or an id,
/// for GRE a call id).
pub(super) fn has_ports(t: Option<Transport>) -> bool {
    !matches!(
        t,
        Some(Transport::Icmp | Transport::Icmpv6 | Transport::Other(47))
    )
}

/// An event from the two ends of a packet: addresses, ports (when the protocol has them),
/// interfaces, and the source's user.
fn packet(
    meta: &Meta,
    action: Action,
    transport: Option<Transport>,
    src: Endpoint,
    dst: Option<Endpoint>,
) -> Event {
    let mut e = meta.event(action);
    let dst = dst.unwrap_or_default();
    let ports = has_ports(transport);
    e.transport = transport;
    e.source_ip = src.ip;
    e.destination_ip = dst.ip;
    e.source_port = src.port.filter(|_| ports);
    e.destination_port = dst.port.filter(|_| ports);
    e.interface_in = src.iface.map(CompactString::from);
    e.interface_out = dst.iface.map(CompactString::from);
    e.user_name = src.user.map(CompactString::from);
    e
}

// Deny inbound protocol 47 src …   →   Other(47)
// Dynamic Filter dropped blacklisted TCP traffic from …   →   Tcp
/// The first protocol named in the words before index `end`: a protocol name, or a number
/// after the word `protocol`.
fn scan_transport(b: &Body, end: usize) -> Option<Transport> {
    let head = Body {
        text: b.text.get(..end)?,
        base: b.base,
    };
    let mut pos = 0;
    let mut words = 0;
    // The next word before `end`, counted against the limit; `None` past either.
    let mut next = || {
        let (w, at) = head.word(pos);
        if w.is_empty() || words == MAX_PROTOCOL_WORDS {
            return None;
        }
        (pos, words) = (at + w.len(), words + 1);
        Some(w)
    };
    while let Some(w) = next() {
        if w.eq_ignore_ascii_case("protocol") {
            let number = next()?;
            if number.bytes().all(|c| c.is_ascii_digit()) {
                return transport_word(number);
            }
            continue;
        }
        if !w.as_bytes()[0].is_ascii_digit() && w.bytes().all(|c| c.is_ascii_alphanumeric()) {
            if let Some(t) = transport_word(w) {
                return Some(t);
            }
        }
    }
    None
}

/// The interface after `on interface ` (at or after `from`), as the packet's way in.
fn on_interface<'a>(b: &Body<'a>, from: usize) -> Option<&'a str> {
    let at = b.after(from, "on interface ")?;
    let (w, _) = b.word(at);
    let w = w.trim_end_matches(['.', ',']);
    (!w.is_empty()).then_some(w)
}

/// `… from A to B …`: the endpoints after `from_kw` and then ` to `. Returns them and the
/// index past the second one.
fn two_ends<'a>(
    b: &Body<'a>,
    from_kw: &str,
    to_kw: &str,
) -> Result<(Endpoint<'a>, Endpoint<'a>, usize, usize), ParseError> {
    let from_at = b.expect_after(0, from_kw, "the source address")?;
    let (src, src_end) = endpoint_at(b, from_at)?;
    let (dst, end) = endpoint_after(b, src_end, to_kw, "the destination address")?;
    Ok((src, dst, from_at, end))
}

/// A packet message with `from A to B` (or `src A dst B`): transport named before the source.
fn simple(
    b: &Body,
    meta: &Meta,
    action: Action,
    kws: (&str, &str),
    transport: Option<Transport>,
) -> Result<Event, ParseError> {
    let (src, dst, from_at, end) = two_ends(b, kws.0, kws.1)?;
    let transport = transport.or_else(|| scan_transport(b, from_at));
    let mut e = packet(meta, action, transport, src, Some(dst));
    if e.interface_in.is_none() {
        e.interface_in = on_interface(b, end).map(CompactString::from);
    }
    Ok(e)
}

const FROM_TO: (&str, &str) = (" from ", " to ");
const SRC_DST: (&str, &str) = (" src ", " dst ");

// Inbound TCP connection denied from 111.93.241.59/54322 to 116.6.127.122/1433 flags SYN on
//   interface outside
// Deny TCP (no connection) from 192.0.2.222/1234 to 192.168.1.34/5679 flags RST  on interface
//   outside
/// 106001, 106015, 500003: a TCP packet with its flag words.
fn with_flags(b: &Body, meta: &Meta, action: Action) -> Result<Event, ParseError> {
    let mut e = simple(b, meta, action, FROM_TO, Some(Transport::Tcp))?;
    let flags_at = b.find(0, " flags").map(|i| i + " flags".len() + 1);
    e.tcp_flags = flags_at.and_then(|at| flag_words(b, at));
    Ok(e)
}

// Deny tcp src dmz:10.1.2.30/63016 dst outside:192.0.0.8/53 by access-group "acl_dmz" [0x0, 0x0]
// Deny icmp src outside:128.9.160.165 dst inside:10.107.19.103 (type 8, code 0) by access-group
//   "ACL-FROM-OUTSIDE"
/// 106023: a packet denied by an interface access list.
fn access_group_deny(b: &Body, meta: &Meta) -> Result<Event, ParseError> {
    let mut e = simple(b, meta, Deny, SRC_DST, None)?;
    if let Some(at) = b.after(0, "access-group \"") {
        let rest = &b.text[at..];
        let name = &rest[..rest.bytes().position(|c| c == b'"').unwrap_or(rest.len())];
        e.rule_name = Some(name)
            .filter(|n| !n.is_empty())
            .map(CompactString::from);
    }
    Ok(e)
}

// inside/10.1.2.16(2241)   →   (inside, 10.1.2.16, 2241)
/// An `iface/address(port)` end of a 106100 message (text between known delimiters).
fn acl_end<'a>(b: &Body<'a>, at: usize, end: usize) -> Result<Endpoint<'a>, ParseError> {
    let t = b.text.get(at..end).unwrap_or("").trim();
    // Byte scans for the two delimiters: the pieces are a few bytes long.
    let slash = t
        .bytes()
        .position(|c| c == b'/')
        .ok_or_else(|| b.err(ErrorKind::Syntax, at, "interface/address(port)"))?;
    let (iface, rest) = (&t[..slash], &t[slash + 1..]);
    let addr_at = at + iface.len() + 1;
    let (addr, port) = match rest.bytes().position(|c| c == b'(') {
        Some(open) => (&rest[..open], rest[open + 1..].strip_suffix(')')),
        None => (rest, None),
    };
    let ip = super::fields::parse_addr(b, addr, addr_at)?;
    let port = match port {
        Some(p) => super::fields::parse_port(b, p, addr_at + addr.len() + 1)?,
        None => None,
    };
    Ok(Endpoint {
        iface: Some(iface).filter(|i| !i.is_empty()),
        ip,
        port,
        user: None,
    })
}

// access-list acl_in permitted tcp inside/10.1.2.16(2241) -> outside/192.0.0.89(2000) hit-cnt 1
//   first hit [0x71a87d94, 0x0]
/// 106100: an access-list entry hit (permitted, denied, or allowed as part of an established
/// connection). `hit-cnt` becomes `network.packets` (the number of hits the line reports).
fn access_list(b: &Body, meta: &Meta) -> Result<Event, ParseError> {
    let (first, _) = b.word(0);
    if first != "access-list" {
        return Err(b.err(ErrorKind::Syntax, 0, "`access-list`"));
    }
    let (acl, acl_at) = b.word(first.len());
    let (verb, verb_at) = b.word(acl_at + acl.len());
    let action = match verb {
        "permitted" | "est-allowed" => Allow,
        "denied" => Deny,
        _ => {
            return Err(b.err(
                ErrorKind::Syntax,
                verb_at,
                "permitted, denied or est-allowed",
            ))
        }
    };
    let (proto, proto_at) = b.word(verb_at + verb.len());
    let arrow = b
        .find(proto_at, " -> ")
        .ok_or_else(|| b.err(ErrorKind::Syntax, proto_at, "` -> `"))?;
    let hits_at = b.find(arrow, " hit-cnt ");
    let src = acl_end(b, proto_at + proto.len(), arrow)?;
    let dst = acl_end(b, arrow + 4, hits_at.unwrap_or(b.text.len()))?;
    let mut e = packet(meta, action, transport_word(proto), src, Some(dst));
    e.rule_name = Some(CompactString::from(acl));
    if let Some(h) = hits_at {
        let (n, n_at) = b.word(h + " hit-cnt ".len());
        let n = n
            .parse()
            .map_err(|_| b.err(ErrorKind::BadNumber, n_at, "a hit count"))?;
        e.packets = Some(n);
    }
    Ok(e)
}

// Denied ICMP type=3, code=3 from 10.2.3.5 on interface Outside
// Denied ICMP type=0, from laddr 172.16.30.2 on interface inside to 172.16.1.10: no matching session
/// 313001, 313004, 313008: ICMP the ASA refused (the destination, when absent, is the ASA).
fn icmp_denied(b: &Body, meta: &Meta, transport: Transport) -> Result<Event, ParseError> {
    let from_at = b.expect_after(0, " from ", "`from`")?;
    let from_at = match b.word(from_at) {
        ("laddr", at) => at + "laddr".len(),
        _ => from_at,
    };
    let (src, src_end) = endpoint_at(b, from_at)?;
    let dst = match b.after(src_end, " to ") {
        Some(at) => Some(endpoint_at(b, at)?.0),
        None => None,
    };
    let mut e = packet(meta, Deny, Some(transport), src, dst);
    e.interface_in = on_interface(b, src_end).map(CompactString::from);
    Ok(e)
}

// Discard IP fragment set with more than 24 elements:  src = 10.235.211.237, dest =
//   86.29.145.200, proto = UDP, id = 48916
/// 209005: a fragment set the ASA discarded.
fn fragment_set(b: &Body, meta: &Meta) -> Result<Event, ParseError> {
    let (src, _) = endpoint_after(b, 0, "src = ", "`src = `")?;
    let (dst, _) = endpoint_after(b, 0, "dest = ", "`dest = `")?;
    let proto = b
        .after(0, "proto = ")
        .map(|at| b.word(at).0.trim_end_matches(','));
    Ok(packet(
        meta,
        Deny,
        proto.and_then(transport_word),
        src,
        Some(dst),
    ))
}

// Shunned packet: 192.168.0.1 = 192.168.0.2 on interface outside
/// 401004: a packet from a shunned host, dropped.
fn shunned(b: &Body, meta: &Meta) -> Result<Event, ParseError> {
    let (src, src_end) = endpoint_after(b, 0, "packet: ", "`Shunned packet: `")?;
    let (sep, sep_at) = b.word(src_end);
    if !matches!(sep, "=" | "==>") {
        return Err(b.err(ErrorKind::Syntax, sep_at, "`=` between the addresses"));
    }
    let (dst, end) = endpoint_at(b, sep_at + sep.len())?;
    let mut e = packet(meta, Deny, None, src, Some(dst));
    e.interface_in = on_interface(b, end).map(CompactString::from);
    Ok(e)
}

// IDS:2001 ICMP unreachable from 172.54.32.18 to 192.168.54.23 on interface outside
// IPS:1001 IP options-Record Packet Route 10.1.1.1 to 10.2.2.2 on interface outside
/// 400000–400050: a built-in IDS signature matched; the rule name is its `IDS:<n>` word.
fn ids_signature(b: &Body, meta: &Meta) -> Result<Event, ParseError> {
    let to = b
        .find(0, " to ")
        .ok_or_else(|| b.err(ErrorKind::Syntax, 0, "` to `"))?;
    let src_at = match b.text[..to].rfind(" from ") {
        Some(f) => f + " from ".len(),
        None => to - b.word_before(to).len(),
    };
    let (src, _) = endpoint_at(b, src_at)?;
    let (dst, end) = endpoint_at(b, to + " to ".len())?;
    let mut e = packet(meta, Log, scan_transport(b, src_at), src, Some(dst));
    e.interface_in = on_interface(b, end).map(CompactString::from);
    let (sig, _) = b.word(0);
    e.rule_name = Some(CompactString::from(sig));
    Ok(e)
}

// Dynamic Filter dropped blacklisted TCP traffic from inside:10.1.1.1/33340 (10.2.1.1/33340) to
//   outside:192.0.2.223/80 (192.0.2.223/80), destination 192.0.2.223 resolved from dynamic list
/// 338xxx botnet traffic filter: `permitted` → allow, `monitored` → log, `dropped` → deny.
fn dynamic_filter(b: &Body, meta: &Meta) -> Result<Option<Event>, ParseError> {
    let Some(at) = b.after(0, "Dynamic Filter ") else {
        return Ok(None); // 338xxx status messages (updater, rule added/removed)
    };
    let action = match b.word(at).0 {
        "permitted" => Allow,
        "monitored" => Log,
        "dropped" => Deny,
        _ => return Err(b.err(ErrorKind::Syntax, at, "permitted, monitored or dropped")),
    };
    let mut e = simple(b, meta, action, FROM_TO, None)?;
    e.rule_name = Some(CompactString::const_new("dynamic-filter"));
    Ok(Some(e))
}

/// Management traffic is addressed to the ASA itself: the interface named with the
/// destination (`to inside:10.1.1.1/ssh`) is where the packet came in.
fn to_the_box(mut e: Event) -> Event {
    e.interface_in = e.interface_out.take();
    e
}

// Login denied from 192.168.2.10/13269 to outside:192.168.2.14/ssh for user "root"
/// 605004 / 605005: a management login (SSH, Telnet, ASDM) refused or accepted; the user
/// name is kept. There is no login action for non-FTP services, so these are firewall
/// deny / allow events of the management connection.
fn mgmt_login(b: &Body, meta: &Meta, action: Action) -> Result<Event, ParseError> {
    let mut e = simple(b, meta, action, FROM_TO, Some(Transport::Tcp))?;
    if let Some(at) = b.after(0, " for user ") {
        let u = b.text[at..].trim_end();
        let u = u
            .strip_prefix('"')
            .and_then(|u| u.strip_suffix('"'))
            .unwrap_or(u);
        e.user_name = Some(u).filter(|u| !u.is_empty()).map(CompactString::from);
    }
    Ok(e)
}

// [ Scanning] drop rate-1 exceeded. Current burst rate is 10 per second, max configured rate
//   is 10; Current average rate is 5 per second, max configured rate is 5; Cumulative total
//   count is 3001
/// 733100: basic threat detection saw a drop rate above its limit. The object (`Scanning`,
/// `ACL drop`, `SYN attck`, a host) becomes the rule name; no addresses.
fn drop_rate(b: &Body, meta: &Meta) -> Result<Event, ParseError> {
    let object = match b.text.strip_prefix('[') {
        Some(rest) => rest
            .split_once(']')
            .map(|(o, _)| o)
            .ok_or_else(|| b.err(ErrorKind::Syntax, 0, "`]` after the object"))?,
        None => {
            let at = b
                .find(0, " drop rate")
                .ok_or_else(|| b.err(ErrorKind::Syntax, 0, "`drop rate`"))?;
            &b.text[..at]
        }
    };
    let mut e = meta.event(Log);
    e.rule_name = Some(object.trim())
        .filter(|o| !o.is_empty())
        .map(CompactString::from);
    Ok(e)
}

// Host 175.0.0.1 is attacking. Current burst rate is 200 per second, …
// Subnet 10.1.0.0 is targeted. Current burst rate is 200 per second, …
/// 733101: scanning threat detection named an attacker (source) or a target (destination).
/// A subnet is not an address; its event carries none.
fn scanning_host(b: &Body, meta: &Meta) -> Result<Event, ParseError> {
    let (kind, _) = b.word(0);
    let (ep, end) = endpoint_at(b, kind.len())?;
    let (_, is_at) = b.word(end);
    let (role, role_at) = b.word(is_at + 2);
    let mut e = meta.event(Log);
    e.rule_name = Some(CompactString::const_new("scanning-threat"));
    let ip = if kind == "Host" { ep.ip } else { None };
    match role.trim_end_matches(['.', ',']) {
        "attacking" => e.source_ip = ip,
        "targeted" => e.destination_ip = ip,
        _ => {
            return Err(b.err(
                ErrorKind::Syntax,
                role_at,
                "`is attacking` or `is targeted`",
            ))
        }
    }
    Ok(e)
}

// Threat-detection adds host 10.1.1.6 to shun list
/// 733102: an attacker was put on the shun list (its later packets are dropped).
fn shun_added(b: &Body, meta: &Meta) -> Result<Event, ParseError> {
    let (ep, _) = endpoint_after(b, 0, "adds host ", "`adds host `")?;
    let mut e = meta.event(Log);
    e.source_ip = ep.ip;
    e.rule_name = Some(CompactString::const_new("scanning-threat shun"));
    Ok(e)
}

/// Parses the body of message `tag.id`. `Ok(None)` for ids that carry no event we use.
pub(super) fn parse_message(
    tag: Tag,
    b: &Body,
    meta: &Meta,
    state: &mut State,
) -> Result<Option<Event>, ParseError> {
    let id = tag.id;
    let e = match id {
        106001 | 106015 | 500003 => with_flags(b, meta, Deny)?,
        106006 | 106007 | 410001 => simple(b, meta, Deny, FROM_TO, Some(Transport::Udp))?,
        106010 | 106011 | 106014 | 305006 | 313005 | 418001 => {
            simple(b, meta, Deny, SRC_DST, None)?
        }
        106012 | 106016 | 106017 | 106020 | 106021 | 106022 | 202010 | 420002 | 421001 | 434002 => {
            simple(b, meta, Deny, FROM_TO, None)?
        }
        106023 => access_group_deny(b, meta)?,
        106100 => access_list(b, meta)?,
        108004 => simple(b, meta, Deny, FROM_TO, Some(Transport::Tcp))?,
        209005 => fragment_set(b, meta)?,
        302013..=302021 => return conn::parse_connection(id, b, meta, state),
        304002 => simple(b, meta, Deny, (" SRC ", " DEST "), Some(Transport::Tcp))?,
        313001 | 313004 => icmp_denied(b, meta, Transport::Icmp)?,
        313008 => icmp_denied(b, meta, Transport::Icmpv6)?,
        313009 => simple(b, meta, Deny, (" for ", " to "), Some(Transport::Icmp))?,
        338000..=338399 => return dynamic_filter(b, meta),
        400000..=400050 => ids_signature(b, meta)?,
        401004 => shunned(b, meta)?,
        500004 => {
            let proto = b
                .after(0, "protocol=")
                .map(|at| b.word(at).0.trim_end_matches(','));
            simple(b, meta, Deny, FROM_TO, proto.and_then(transport_word))?
        }
        605004 => to_the_box(mgmt_login(b, meta, Deny)?),
        605005 => to_the_box(mgmt_login(b, meta, Allow)?),
        710001..=710006 => {
            let action = match id {
                710001 => Log,
                710002 => Allow,
                _ => Deny,
            };
            to_the_box(simple(
                b,
                meta,
                action,
                FROM_TO,
                transport_word(b.word(0).0),
            )?)
        }
        733100 => drop_rate(b, meta)?,
        733101 => scanning_host(b, meta)?,
        733102 => shun_added(b, meta)?,
        _ => return Ok(None),
    };
    Ok(Some(e))
}
