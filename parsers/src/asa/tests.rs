//! Unit tests of the ASA parser: one table row per message shape, pairing, errors.

use super::*;
use crate::event::{TcpFlags, Transport};
use crate::{LineParser, SourceTz};

fn ctx() -> ParseContext {
    let mut c = ParseContext::new(SourceTz::Utc);
    c.now = "2019-06-01T00:00:00Z".parse().unwrap();
    c
}

fn parse(line: &str, state: &mut State) -> Result<Option<Event>, ParseError> {
    parse_asa_line(line.as_bytes(), &ctx(), state)
}

/// (source ip:port, destination ip:port) as text, `-` for absent parts.
fn ends(e: &Event) -> String {
    let ip = |i: Option<std::net::IpAddr>| i.map_or("-".to_string(), |i| i.to_string());
    let port = |p: Option<u16>| p.map_or("-".to_string(), |p| p.to_string());
    format!(
        "{}:{} > {}:{}",
        ip(e.source_ip),
        port(e.source_port),
        ip(e.destination_ip),
        port(e.destination_port)
    )
}

const H: &str = "Apr 30 2013 09:23:40 fw01 : ";

/// (message after the header, action, ends, transport, rule, (in, out))
type Case<'a> = (
    &'a str,
    Action,
    &'a str,
    Option<Transport>,
    Option<&'a str>,
    (Option<&'a str>, Option<&'a str>),
);

#[test]
fn packet_messages() {
    use Action::*;
    let (tcp, udp, icmp) = (
        Some(Transport::Tcp),
        Some(Transport::Udp),
        Some(Transport::Icmp),
    );
    let cases: &[Case] = &[
        ("%ASA-4-106023: Deny tcp src dmz:10.1.2.30/63016 dst outside:192.0.0.8/53 by access-group \"acl_dmz\" [0xe3aab522, 0x0]",
         FirewallDeny, "10.1.2.30:63016 > 192.0.0.8:53", tcp, Some("acl_dmz"), (Some("dmz"), Some("outside"))),
        ("%ASA-4-106023: Deny tcp src dmz:10.1.2.30/63016 dst outside:192.0.0.8/53 type 3, code 0, by access-group \"acl_dmz\" [0xe3aab522, 0x0]",
         FirewallDeny, "10.1.2.30:63016 > 192.0.0.8:53", tcp, Some("acl_dmz"), (Some("dmz"), Some("outside"))),
        ("%PIX-4-106023: Deny icmp src outside:128.9.160.165 dst inside:10.107.19.103 (type 8, code 0) by access-group \"ACL-FROM-OUTSIDE\"",
         FirewallDeny, "128.9.160.165:- > 10.107.19.103:-", icmp, Some("ACL-FROM-OUTSIDE"), (Some("outside"), Some("inside"))),
        ("%PIX-4-106023: Deny protocol 4 src outside:131.119.0.197 dst inside:10.107.16.135 by access-group \"ACL-FROM-OUTSIDE\"",
         FirewallDeny, "131.119.0.197:- > 10.107.16.135:-", Some(Transport::Other(4)), Some("ACL-FROM-OUTSIDE"), (Some("outside"), Some("inside"))),
        ("%ASA-4-106023: Deny udp src office:1.1.1.1/3217 dst FE_xUI:Server_Windows/15000 by access-group \"ACLoffice\" [0x0, 0x0]",
         FirewallDeny, "1.1.1.1:3217 > -:15000", udp, Some("ACLoffice"), (Some("office"), Some("FE_xUI"))),
        ("%ASA-6-106100: access-list inside denied udp inside/172.29.2.101(1039) -> outside/192.0.2.10(53) hit-cnt 1 first hit [0xd820e56a, 0x0]",
         FirewallDeny, "172.29.2.101:1039 > 192.0.2.10:53", udp, Some("inside"), (Some("inside"), Some("outside"))),
        ("%ASA-5-106100: access-list acl_in est-allowed tcp inside/10.0.0.46(49840) -> outside/192.0.0.88(40443) hit-cnt 1 first hit [0x71a87d94, 0x0]",
         FirewallAllow, "10.0.0.46:49840 > 192.0.0.88:40443", tcp, Some("acl_in"), (Some("inside"), Some("outside"))),
        ("%ASA-2-106001: Inbound TCP connection denied from 111.93.241.59/54322 to 116.6.127.122/1433 flags SYN on interface outside",
         FirewallDeny, "111.93.241.59:54322 > 116.6.127.122:1433", tcp, None, (Some("outside"), None)),
        ("%ASA-2-106006: Deny inbound UDP from 192.0.2.66/137 to 10.1.2.42/137 on interface inside",
         FirewallDeny, "192.0.2.66:137 > 10.1.2.42:137", udp, None, (Some("inside"), None)),
        ("%ASA-2-106007: Deny inbound UDP from 192.0.0.66/12981 to 10.1.2.60/53 due to DNS Query",
         FirewallDeny, "192.0.0.66:12981 > 10.1.2.60:53", udp, None, (None, None)),
        ("%PIX-3-106010: Deny inbound icmp src outside:80.181.210.80 dst inside:10.107.96.229 (type 8, code 0)",
         FirewallDeny, "80.181.210.80:- > 10.107.96.229:-", icmp, None, (Some("outside"), Some("inside"))),
        ("%ASA-3-106010: Deny inbound protocol 47 src outside:115.51.6.185 dst outside:116.6.127.120",
         FirewallDeny, "115.51.6.185:- > 116.6.127.120:-", Some(Transport::Other(47)), None, (Some("outside"), Some("outside"))),
        ("%PIX-3-106011: Deny inbound (No xlate) tcp src outside:63.245.209.21/80 dst outside:192.168.2.14/1823",
         FirewallDeny, "63.245.209.21:80 > 192.168.2.14:1823", tcp, None, (Some("outside"), Some("outside"))),
        ("%ASA-3-106014: Deny inbound icmp src outside:151.80.47.231 dst outside:116.6.127.112 (type 3, code 2)",
         FirewallDeny, "151.80.47.231:- > 116.6.127.112:-", icmp, None, (Some("outside"), Some("outside"))),
        ("%ASA-2-106016: Deny IP spoof from (0.0.0.0) to 192.88.99.47 on interface Mobile_Traffic",
         FirewallDeny, "0.0.0.0:- > 192.88.99.47:-", None, None, (Some("Mobile_Traffic"), None)),
        ("%ASA-2-106017: Deny IP due to Land Attack from 193.17.108.1 to 193.17.108.1",
         FirewallDeny, "193.17.108.1:- > 193.17.108.1:-", None, None, (None, None)),
        ("%ASA-2-106020: Deny IP teardrop fragment (size = 1480, offset = 0) from 10.235.224.228 to 10.235.0.1",
         FirewallDeny, "10.235.224.228:- > 10.235.0.1:-", None, None, (None, None)),
        ("%ASA-1-106022: Deny protocol connection spoof from 192.168.0.1 to 192.168.0.2 on interface interfacename.",
         FirewallDeny, "192.168.0.1:- > 192.168.0.2:-", None, None, (Some("interfacename"), None)),
        ("%ASA-3-202010: PAT pool exhausted. Unable to create TCP connection from WLC-LAN_inside:10.237.52.235/40012 to outside:183.240.12.88/443",
         FirewallDeny, "10.237.52.235:40012 > 183.240.12.88:443", tcp, None, (Some("WLC-LAN_inside"), Some("outside"))),
        ("%ASA-4-209005: Discard IP fragment set with more than 24 elements:  src = 10.235.211.237, dest = 86.29.145.200, proto = UDP, id = 48916",
         FirewallDeny, "10.235.211.237:- > 86.29.145.200:-", udp, None, (None, None)),
        ("%ASA-5-304002: Access denied URL http://s.tbdress.com/images/favicon.ico SRC 10.69.6.39 DEST 72.21.91.19 on interface inside",
         FirewallDeny, "10.69.6.39:- > 72.21.91.19:-", tcp, None, (Some("inside"), None)),
        ("%PIX-3-305006: portmap translation creation failed for tcp src inside:192.168.1.2/2893 dst outside:192.168.2.99/3128",
         FirewallDeny, "192.168.1.2:2893 > 192.168.2.99:3128", tcp, None, (Some("inside"), Some("outside"))),
        ("%ASA-3-313001: Denied ICMP type=3, code=3 from 10.2.3.5 on interface Outside",
         FirewallDeny, "10.2.3.5:- > -:-", icmp, None, (Some("Outside"), None)),
        ("%ASA-4-313004: Denied ICMP type=0, from laddr 172.16.30.2 on interface inside to 172.16.1.10: no matching session",
         FirewallDeny, "172.16.30.2:- > 172.16.1.10:-", icmp, None, (Some("inside"), None)),
        ("%ASA-4-313005: No matching connection for ICMP error message: icmp src WLC-LAN_inside:10.233.152.101 dst outside:8.8.8.8 (type 3, code 3) on WLC-LAN_inside interface.  Original IP payload: udp src 8.8.8.8/53 dst 10.233.152.101/62403",
         FirewallDeny, "10.233.152.101:- > 8.8.8.8:-", icmp, None, (Some("WLC-LAN_inside"), Some("outside"))),
        ("%ASA-4-313009: Denied invalid ICMP code 9, for serverlan:EUCH1AAISE/38706 (EUCH1AAISE/38706) to WLC-LAN_inside:10.235.50.134/0 (10.235.50.134/0), ICMP id 295, ICMP type 8",
         FirewallDeny, "-:- > 10.235.50.134:-", icmp, None, (Some("serverlan"), Some("WLC-LAN_inside"))),
        ("%ASA-4-338008: Dynamic Filter dropped blacklisted TCP traffic from inside:10.1.1.1/33340 (10.2.1.1/33340) to outsidet:192.0.2.223/80 (192.0.2.223/80), destination 192.0.2.223 resolved from dynamic list: 192.0.2.223/255.255.255.255, threat-level: very-high, category: Malware",
         FirewallDeny, "10.1.1.1:33340 > 192.0.2.223:80", tcp, Some("dynamic-filter"), (Some("inside"), Some("outsidet"))),
        ("%ASA-4-338004: Dynamic Filter monitored blacklisted TCP traffic from inside:10.1.1.1/33340 (10.2.1.1/33340) to outsidet:192.0.2.223/80 (192.0.2.223/80), destination 192.0.2.223 resolved",
         FirewallLog, "10.1.1.1:33340 > 192.0.2.223:80", tcp, Some("dynamic-filter"), (Some("inside"), Some("outsidet"))),
        ("%PIX-4-400011: IDS:2001 ICMP unreachable from 172.54.32.18 to 192.168.54.23 on interface outside",
         FirewallLog, "172.54.32.18:- > 192.168.54.23:-", icmp, Some("IDS:2001"), (Some("outside"), None)),
        ("%ASA-4-400001: IPS:1001 IP options-Record Packet Route 10.1.1.1 to 10.2.2.2 on interface outside",
         FirewallLog, "10.1.1.1:- > 10.2.2.2:-", None, Some("IPS:1001"), (Some("outside"), None)),
        ("%ASA-4-401004 Shunned packet: 192.168.0.1 = 192.168.0.2 on interface interfacename",
         FirewallDeny, "192.168.0.1:- > 192.168.0.2:-", None, None, (Some("interfacename"), None)),
        ("%ASA-4-410001: Dropped UDP DNS request from outside:139.162.126.103/46951 to DMZ-SSLVPN:143.35.126.146/53; label length 46 bytes exceeds remaining packet length limit of 17 bytes",
         FirewallDeny, "139.162.126.103:46951 > 143.35.126.146:53", udp, None, (Some("outside"), Some("DMZ-SSLVPN"))),
        ("%ASA-4-418001: Through-the-device packet to/from management-only network is denied: udp src DMZ:10.231.5.250/49152 dst management:143.36.200.25/161",
         FirewallDeny, "10.231.5.250:49152 > 143.36.200.25:161", udp, None, (Some("DMZ"), Some("management"))),
        ("%ASA-4-434002: SFR requested to drop TCP packet from outside:123.133.65.58/51115 to DMZ-SSLVPN:116.6.127.117/443",
         FirewallDeny, "123.133.65.58:51115 > 116.6.127.117:443", tcp, None, (Some("outside"), Some("DMZ-SSLVPN"))),
        ("%ASA-3-421001: UDP flow from WLC-LAN_inside:10.233.19.92/60803 to outside:8.8.8.8/53 is dropped because application has failed",
         FirewallDeny, "10.233.19.92:60803 > 8.8.8.8:53", udp, None, (Some("WLC-LAN_inside"), Some("outside"))),
        ("%ASA-4-500004: Invalid transport field for protocol=UDP, from 10.235.91.49/45682 to 80.98.44.227/0",
         FirewallDeny, "10.235.91.49:45682 > 80.98.44.227:0", udp, None, (None, None)),
        ("%PIX-7-710002: TCP access permitted from 10.0.0.1/60749 to db:10.0.0.2/ssh",
         FirewallAllow, "10.0.0.1:60749 > 10.0.0.2:22", tcp, None, (Some("db"), None)),
        ("%PIX-7-710001: TCP access requested from 192.168.2.10/13269 to outside:192.168.2.14/ssh",
         FirewallLog, "192.168.2.10:13269 > 192.168.2.14:22", tcp, None, (Some("outside"), None)),
        ("%ASA-3-710003: TCP access denied by ACL from 192.168.0.1/11 to outside:192.168.0.2/22",
         FirewallDeny, "192.168.0.1:11 > 192.168.0.2:22", tcp, None, (Some("outside"), None)),
        ("%ASA-7-710004: TCP connection limit exceeded from 192.168.0.1/11 to outside:192.168.0.2/22 (current connections/connection limit = 11/10)",
         FirewallDeny, "192.168.0.1:11 > 192.168.0.2:22", tcp, None, (Some("outside"), None)),
        ("%PIX-7-710005: UDP request discarded from 0.0.0.0/68 to outside:255.255.255.255/bootps",
         FirewallDeny, "0.0.0.0:68 > 255.255.255.255:67", udp, None, (Some("outside"), None)),
        ("%PIX-7-710005: UDP request discarded from  192.168.20.45/53 to outside:192.168.20.208/37989",
         FirewallDeny, "192.168.20.45:53 > 192.168.20.208:37989", udp, None, (Some("outside"), None)),
        ("%ASA-7-710006: ESP request discarded from 10.1.1.1 to outside:10.2.2.2",
         FirewallDeny, "10.1.1.1:- > 10.2.2.2:-", Some(Transport::Other(50)), None, (Some("outside"), None)),
        ("%ASA-4-733100: [ Scanning] drop rate-1 exceeded. Current burst rate is 10 per second, max configured rate is 10; Current average rate is 5 per second, max configured rate is 5; Cumulative total count is 3001",
         FirewallLog, "-:- > -:-", None, Some("Scanning"), (None, None)),
        ("%ASA-4-733100: Object drop rate 15 exceeded. Current burst rate is 9 per second, max configured rate is 10; Current average rate is 15 per second, max configured rate is 5; Cumulative total count is 9198",
         FirewallLog, "-:- > -:-", None, Some("Object"), (None, None)),
        ("%ASA-4-733101: Host 175.0.0.1 is attacking. Current burst rate is 200 per second, max configured rate is 0; Current average rate is 0 per second, max configured rate is 0; Cumulative total count is 2024",
         FirewallLog, "175.0.0.1:- > -:-", None, Some("scanning-threat"), (None, None)),
        ("%ASA-4-733101: Host 10.1.1.5 is targeted. Current burst rate is 200 per second",
         FirewallLog, "-:- > 10.1.1.5:-", None, Some("scanning-threat"), (None, None)),
        ("%ASA-4-733101: Subnet 10.1.0.0 is targeted. Current burst rate is 200 per second",
         FirewallLog, "-:- > -:-", None, Some("scanning-threat"), (None, None)),
        ("%ASA-4-733102: Threat-detection adds host 10.1.1.6 to shun list",
         FirewallLog, "10.1.1.6:- > -:-", None, Some("scanning-threat shun"), (None, None)),
    ];
    for c in cases {
        let line = format!("{H}{}", c.0);
        let e = parse(&line, &mut State::default())
            .unwrap_or_else(|err| panic!("{line}: {err}"))
            .unwrap_or_else(|| panic!("{line}: no event"));
        let got: Case = (
            c.0,
            e.action,
            &ends(&e),
            e.transport,
            e.rule_name.as_deref(),
            (e.interface_in.as_deref(), e.interface_out.as_deref()),
        );
        assert_eq!(&got, c, "{line}");
        assert_eq!(e.dataset, Dataset::Asa);
        assert_eq!(e.host_name.as_deref(), Some("fw01"));
        let want = match e.action {
            FirewallDeny => Outcome::Failure,
            FirewallAllow => Outcome::Success,
            _ => Outcome::Unknown,
        };
        assert_eq!(e.outcome, want, "{line}");
    }
}

#[test]
fn details() {
    let mut st = State::default();
    let one = |msg: &str, st: &mut State| parse(&format!("{H}{msg}"), st).unwrap().unwrap();
    let e = one("%ASA-5-106100: access-list inside permitted udp inside/172.29.2.3(1065) -> outside/192.0.2.57(53) hit-cnt 144 300-second interval [0xe982c7a4, 0x0]", &mut st);
    assert_eq!(e.packets, Some(144));
    let e = one("%ASA-6-106015: Deny TCP (no connection) from 192.0.2.222/1234 to 192.168.1.34/5679 flags RST ACK  on interface outside", &mut st);
    assert_eq!(e.tcp_flags, Some(TcpFlags(TcpFlags::RST | TcpFlags::ACK)));
    assert_eq!(e.interface_in.as_deref(), Some("outside"));
    let e = one("%PIX-6-605004: Login denied from 192.168.2.10/13269 to outside:192.168.2.14/ssh for user \"root\"", &mut st);
    assert_eq!(
        (e.action, e.user_name.as_deref()),
        (Action::FirewallDeny, Some("root"))
    );
    assert_eq!(e.destination_port, Some(22));
    let e = one("%ASA-6-605005: Login permitted from 192.168.0.1/11 to outside:192.168.0.2/ssh for user \"username\"", &mut st);
    assert_eq!(
        (e.action, e.user_name.as_deref()),
        (Action::FirewallAllow, Some("username"))
    );
    let e = one("%ASA-4-106023: Deny tcp src outside:10.0.0.1/1234(LOCAL\\alice) dst inside:10.0.0.2/80 by access-group \"in\"", &mut st);
    assert_eq!(e.user_name.as_deref(), Some("LOCAL\\alice"));
    // The host field as an address is the observer.
    let e = parse("2021-04-01T10:06:26Z 10.126.11.254 : %ASA-6-106015: Deny TCP (no connection) from 10.2.64.151/56308 to 10.159.11.1/443 flags RST on interface pt", &mut st).unwrap().unwrap();
    assert_eq!(e.observer_ip, Some("10.126.11.254".parse().unwrap()));
    assert_eq!(
        e.timestamp,
        "2021-04-01T10:06:26Z".parse::<DateTime<Utc>>().unwrap()
    );
}

/// Built and teardown lines of one connection, in the printed and the swapped order.
#[test]
fn connections_pair_by_id() {
    let mut st = State::default();
    let run = |st: &mut State, msg: &str| parse(&format!("{H}{msg}"), st).unwrap().unwrap();
    // Outbound: the inside (`to`) end opened it.
    let open = run(&mut st, "%ASA-6-302013: Built outbound TCP connection 89743274 for outside:192.0.2.43/443 (192.0.2.43/443) to inside:10.123.3.42/4952 (10.123.3.42/12834)");
    assert_eq!(
        (open.action, open.outcome),
        (Action::ConnectionOpen, Outcome::Success)
    );
    assert_eq!(ends(&open), "10.123.3.42:4952 > 192.0.2.43:443");
    assert_eq!(
        (open.interface_in.as_deref(), open.interface_out.as_deref()),
        (Some("inside"), Some("outside"))
    );
    assert_eq!(st.open_connections(), 1);
    let close = run(&mut st, "%ASA-6-302014: Teardown TCP connection 89743274 for outside:192.0.2.43/443 to inside:10.123.3.42/4952 duration 0:01:08 bytes 134781 TCP FINs");
    assert_eq!(
        (close.action, close.outcome),
        (Action::ConnectionClose, Outcome::Success)
    );
    assert_eq!(ends(&close), "10.123.3.42:4952 > 192.0.2.43:443");
    assert_eq!(close.bytes, Some(134781));
    // duration 0:01:08: ended at the teardown's own time, after 68 s.
    assert_eq!(close.end, Some(close.timestamp));
    assert_eq!(close.duration_ns, Some(68_000_000_000));
    assert_eq!(open.duration_ns, None);
    assert_eq!(close.interface_in.as_deref(), Some("inside"));
    assert_eq!(st.open_connections(), 0);
    // Inbound: the `for` end opened it; a teardown printing the ends the other way round
    // still names the initiator as source.
    let open = run(&mut st, "%PIX-6-302013: Built inbound TCP connection 141968 for db:10.0.0.1/60749 (10.0.0.1/60749) to NP Identity Ifc: 10.0.0.2/22 (10.0.0.2/22)");
    assert_eq!(ends(&open), "10.0.0.1:60749 > 10.0.0.2:22");
    assert_eq!(open.interface_out.as_deref(), Some("NP Identity Ifc"));
    let close = run(&mut st, "%PIX-6-302014: Teardown TCP connection 141968 for NP Identity Ifc:10.0.0.2/22 to db:10.0.0.1/60749 duration 0:00:05 bytes 3000 TCP Reset-O");
    assert_eq!(ends(&close), "10.0.0.1:60749 > 10.0.0.2:22");
    assert_eq!(close.interface_in.as_deref(), Some("db"));
    // Unpaired: printed order, counted.
    let close = run(&mut st, "%ASA-6-302016: Teardown UDP connection 40 for outside:10.44.4.4/500 to inside:10.44.2.2/500 duration 0:02:02 bytes 1416");
    assert_eq!(ends(&close), "10.44.4.4:500 > 10.44.2.2:500");
    assert_eq!(close.duration_ns, Some(122_000_000_000)); // 0:02:02
    assert_eq!(st.unpaired_teardowns(), 1);
    // SYN Timeout: the connection never completed.
    let close = run(&mut st, "%ASA-6-302014: Teardown TCP connection 7 for outside:1.2.3.4/80 to inside:10.0.0.1/5555 duration 0:00:30 bytes 0 SYN Timeout");
    assert_eq!(close.outcome, Outcome::Failure);
    // Connection ids are per firewall: another host's teardown with the same id is unpaired.
    run(&mut st, "%ASA-6-302013: Built outbound TCP connection 9 for outside:1.1.1.1/443 (1.1.1.1/443) to inside:10.0.0.9/4000 (10.0.0.9/4000)");
    let other = parse("Apr 30 2013 09:23:41 fw02 : %ASA-6-302014: Teardown TCP connection 9 for outside:1.1.1.1/443 to inside:10.0.0.9/4000 duration 0:00:01 bytes 10 TCP FINs", &mut st).unwrap().unwrap();
    assert_eq!(ends(&other), "1.1.1.1:443 > 10.0.0.9:4000");
    assert_eq!(st.open_connections(), 1);
    // ICMP: faddr / laddr, no ports.
    let icmp = run(&mut st, "%ASA-6-302021: Teardown ICMP connection for faddr 172.24.177.29/0 gaddr 192.168.132.46/17233 laddr 192.168.132.46/17233");
    assert_eq!(ends(&icmp), "172.24.177.29:- > 192.168.132.46:-");
    assert_eq!(icmp.transport, Some(Transport::Icmp));
    let icmp = run(&mut st, "%ASA-6-302020: Built outbound ICMP connection for faddr 8.8.8.8/0 gaddr 10.0.0.5/1 laddr 10.0.0.5/1");
    assert_eq!(ends(&icmp), "10.0.0.5:- > 8.8.8.8:-");
    // GRE: no ports; stub connections carry no event.
    let gre = run(&mut st, "%ASA-6-302018: Teardown GRE connection 4211 from external:171.70.168.183/53 to mgmt:192.168.1.185/1032 duration 0:00:00 bytes 526");
    assert_eq!(
        (gre.transport, gre.bytes),
        (Some(Transport::Other(47)), Some(526))
    );
    assert_eq!(ends(&gre), "171.70.168.183:- > 192.168.1.185:-");
    let stub = parse(&format!("{H}%ASA-6-302023: Teardown stub TCP connection for external:171.70.168.183/53 to mgmt:192.168.1.185/1032 duration 0:00:00 forwarded bytes 526 reason Conn-timeout"), &mut st);
    assert_eq!(stub, Ok(None));
}

#[test]
fn eviction_is_bounded_and_counted() {
    let mut st = State::default();
    let n = MAX_OPEN_CONNECTIONS + 10;
    for id in 0..n {
        let line = format!("{H}%ASA-6-302013: Built outbound TCP connection {id} for outside:1.1.1.1/443 (1.1.1.1/443) to inside:10.0.0.9/4000 (10.0.0.9/4000)");
        parse(&line, &mut st).unwrap().unwrap();
    }
    assert_eq!(st.open_connections(), MAX_OPEN_CONNECTIONS);
    assert_eq!(st.evictions(), 10);
    // Build/teardown churn does not grow the eviction queue without bound.
    for id in 0..3 * MAX_OPEN_CONNECTIONS {
        let id = 1_000_000 + id;
        let b = format!("{H}%ASA-6-302013: Built outbound TCP connection {id} for outside:1.1.1.1/443 (1.1.1.1/443) to inside:10.0.0.9/4000 (10.0.0.9/4000)");
        let t = format!("{H}%ASA-6-302014: Teardown TCP connection {id} for outside:1.1.1.1/443 to inside:10.0.0.9/4000 duration 0:00:01 bytes 1 TCP FINs");
        parse(&b, &mut st).unwrap();
        parse(&t, &mut st).unwrap();
    }
    assert!(st.queue_len() <= 2 * MAX_OPEN_CONNECTIONS + 1);
}

#[test]
fn lines_without_events_are_none() {
    let cases = [
        "%ASA-6-305011: Built dynamic TCP translation from outside:10.123.3.42/4952 to outside:192.0.2.130/12834",
        "%ASA-5-304001: 10.30.30.30 Accessed URL 192.0.2.1:/app",
        "%ASA-1-505015: Module ips, application up \"IPS\", version \"7.2(2)E4\" Normal Operation",
        "%ASA-7-609001: Built local-host Internet:200.201.202.203",
        "%ASA-3-338310: Failed to update from dynamic filter updater server https://update-manifests.ironport.com, reason: Failed to connect to updater server",
        "%ASA-4-733103: Threat-detection removes host 10.1.1.6 from shun list",
        "%ASA-6-302023: Teardown stub TCP connection for a:1.2.3.4/1 to b:5.6.7.8/2 duration 0:00:00 forwarded bytes 5 reason Conn-timeout",
    ];
    for msg in cases {
        let line = format!("{H}{msg}");
        assert_eq!(parse(&line, &mut State::default()), Ok(None), "{line}");
    }
    // Other programs and other formats' lines: never events.
    let foreign = [
        "Jan  8 03:37:09 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= SRC=203.0.113.36 DST=172.16.54.114 LEN=52 PROTO=TCP SPT=17805 DPT=445",
        "Mar 30 15:55:20 enigma pf: Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0: 205.174.165.231.50425 > 192.168.2.10.22: . ack 2450721 win 73",
        "<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,49724,853,0,S,1891286705,,64240,,mss",
        "Jan 24 20:01:49 ftp01 vsftpd[1234]: [bob] FAIL LOGIN: Client \"192.0.2.7\"",
    ];
    for line in foreign {
        assert_eq!(parse(line, &mut State::default()), Ok(None), "{line}");
    }
    let not_even_syslog = [
        "Fri Jan 19 12:20:33 2007 [pid 31373] CONNECT: Client \"192.168.1.1\"",
        "2019-03-01 12:00:00 10.0.0.1 - USER ftp 331 0",
    ];
    for line in not_even_syslog {
        assert!(
            parse(line, &mut State::default()).is_err()
                || parse(line, &mut State::default()) == Ok(None),
            "{line}"
        );
    }
}

#[test]
fn rejected_lines() {
    let long = format!("{H}%ASA-4-106023: Deny tcp {}", "x".repeat(100_000));
    let cases: Vec<(Vec<u8>, ErrorKind, usize)> = vec![
        (b"".to_vec(), ErrorKind::Syntax, 0),
        (b"garbage".to_vec(), ErrorKind::BadTimestamp, 0),
        (b"%PIX-7-710001: TCP access requested from 1.2.3.4/1 to o:5.6.7.8/ssh".to_vec(), ErrorKind::BadTimestamp, 0),
        (format!("{H}%ASA-4-106023: Deny tcp src").into_bytes(), ErrorKind::Syntax, 43),
        (format!("{H}%ASA-4-106023: Deny tcp src dmz:10.1.2.30/63016").into_bytes(), ErrorKind::Syntax, 75),
        (format!("{H}%PIX-2-106006: Deny inbound UDP from ***/54481 to ***/1026 on  interface vpn").into_bytes(), ErrorKind::BadAddress, 65),
        (format!("{H}%PIX-6-106015: Deny TCP (no connection) from 192.168.2.50/443 to 192.168.20/65 flags RST on interface outside").into_bytes(), ErrorKind::BadAddress, 93),
        (format!("{H}%ASA-4-106023: Deny tcp src a:1.2.3.4/99999 dst b:5.6.7.8/1").into_bytes(), ErrorKind::BadNumber, 66),
        (format!("{H}%ASA-6-302014: Teardown TCP connection 1 for a:1.2.3.4/1 to b:5.6.7.8/2 duration 0:x:00 bytes 5").into_bytes(), ErrorKind::BadNumber, 109),
        (format!("{H}%ASA-6-302014: Teardown TCP connection 1 for a:1.2.3.4/1 to b:5.6.7.8/2 duration 0:00:00 bytes many").into_bytes(), ErrorKind::BadNumber, 123),
        (format!("{H}%ASA-6-302013: Built sideways TCP connection 1").into_bytes(), ErrorKind::Syntax, 49),
        ([format!("{H}%ASA-4-106023: Deny tcp src ").into_bytes(), vec![0xff]].concat(), ErrorKind::InvalidUtf8, 56),
    ];
    let mut bad = Vec::new();
    for (line, kind, offset) in cases {
        let e = parse_asa_line(&line, &ctx(), &mut State::default()).unwrap_err();
        if (e.kind, e.offset, e.format) != (kind, offset, Format::Asa) {
            bad.push(format!("{:?}: {e}", String::from_utf8_lossy(&line)));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    let mut lp = LineParser::new(Format::Asa, ctx());
    assert_eq!(
        lp.parse(long.as_bytes()).unwrap_err().kind,
        ErrorKind::TooLong
    );
}

#[test]
fn bare_messages_with_a_known_time() {
    let t: DateTime<Utc> = "2020-01-01T00:00:00Z".parse().unwrap();
    let mut st = State::default();
    let e = parse_asa_message(
        "%ASA-2-106006: Deny inbound UDP from 185.158.113.158/53306 to 116.6.127.123/53413 on interface outside",
        t,
        &mut st,
    )
    .unwrap()
    .unwrap();
    assert_eq!((e.timestamp, e.action), (t, Action::FirewallDeny));
    assert_eq!(e.host_name, None);
    let err = parse_asa_message("not a tag", t, &mut st).unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::Syntax, 0));
    let err = parse_asa_message(
        "%PIX-2-106006: Deny inbound UDP from ***9/20031 to ***/20031 on interface vpn",
        t,
        &mut st,
    )
    .unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::BadAddress, 37));
}

#[test]
fn hostile_lines_stay_bounded() {
    let mut st = State::default();
    let words = "NP ".repeat(5000);
    let line = format!("{H}%ASA-2-106006: Deny inbound UDP from {words}");
    let _ = parse(&line, &mut st);
    let line = format!(
        "{H}%ASA-6-302013: Built inbound TCP connection 1 for {}",
        " to".repeat(5000)
    );
    let _ = parse(&line, &mut st);
    let line = format!("{H}%ASA-4-733100: {}", "[".repeat(10_000));
    let _ = parse(&line, &mut st);
}
