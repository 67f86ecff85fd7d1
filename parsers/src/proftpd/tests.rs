use super::*;
use crate::SourceTz;

const HOST: &str = "198.51.100.7";

fn ctx() -> ParseContext {
    ParseContext {
        now: "2005-08-14T10:00:00Z".parse().unwrap(),
        host: Some(HOST.parse().unwrap()),
        ..ParseContext::new(SourceTz::Utc)
    }
}

fn parse(line: &str) -> Result<Option<Event>, ParseError> {
    parse_proftpd_line(line.as_bytes(), &ctx())
}

/// (line, time, (action, outcome), source, user, anonymous, (destination ip, port), pid, host)
type Case<'a> = (
    &'a str,
    &'a str,
    (Action, Outcome),
    &'a str,
    Option<&'a str>,
    bool,
    (&'a str, Option<u16>),
    Option<u32>,
    Option<&'a str>,
);

const FAIL: (Action, Outcome) = (Action::FtpLogin, Outcome::Failure);
const OK: (Action, Outcome) = (Action::FtpLogin, Outcome::Success);

#[rustfmt::skip]
const EVENTS: &[Case] = &[
    ("Jan 10 00:00:00 myhost proftpd[12345] myhost.domain.com (192.0.2.123[192.0.2.123]): USER username (Login failed): User in /etc/ftpusers",
     "2005-01-10T00:00:00Z", FAIL, "192.0.2.123", Some("username"), false, (HOST, None), Some(12345), Some("myhost")),
    ("Feb 1 00:00:00 myhost proftpd[12345] myhost.domain.com (192.0.2.123[192.0.2.123]): USER username: no such user found from 192.0.2.123 [192.0.2.123] to 198.51.100.234:21 ",
     "2005-02-01T00:00:00Z", FAIL, "192.0.2.123", Some("username"), false, ("198.51.100.234", Some(21)), Some(12345), Some("myhost")),
    ("Jun 09 07:30:58 ftp.example.com proftpd[11864] ftp.example.com (mail.example.net[::ffff:192.0.2.66]): USER username (Login failed): Incorrect password.",
     "2005-06-09T07:30:58Z", FAIL, "192.0.2.66", Some("username"), false, (HOST, None), Some(11864), Some("ftp.example.com")),
    ("Jun 09 11:15:43 ftp proftpd[17424] ftp (::ffff:192.0.2.238[::ffff:192.0.2.238]): USER god: no such user found from ::ffff:192.0.2.238 [::ffff:192.0.2.238] to ::ffff:198.51.100.194:2121",
     "2005-06-09T11:15:43Z", FAIL, "192.0.2.238", Some("god"), false, ("198.51.100.194", Some(2121)), Some(17424), Some("ftp")),
    ("Jun 13 22:07:23 ftp proftpd[15719] ftp (::ffff:192.0.2.100[::ffff:192.0.2.100]): SECURITY VIOLATION: root login attempted.",
     "2005-06-13T22:07:23Z", FAIL, "192.0.2.100", Some("root"), false, (HOST, None), Some(15719), Some("ftp")),
    // A user name that imitates another session prefix: the real client is the first prefix.
    ("Jun 14 00:09:59 ftp proftpd[17839] ftp (::ffff:192.0.2.100[::ffff:192.0.2.100]): USER ftp proftpd[1] ftp (evil[203.0.113.44]): no such user found from ::ffff:192.0.2.100 [::ffff:192.0.2.100] to ::ffff:198.51.100.194:21",
     "2005-06-14T00:09:59Z", FAIL, "192.0.2.100", Some("ftp proftpd[1] ftp (evil[203.0.113.44])"), false, ("198.51.100.194", Some(21)), Some(17839), Some("ftp")),
    // The right-most marker is the server's: a user name holding "(Login failed): " does not fool it.
    ("Jun 14 00:09:59 ftp proftpd[1] ftp (x[192.0.2.9]): USER a (Login failed): b: Login successful.",
     "2005-06-14T00:09:59Z", OK, "192.0.2.9", Some("a (Login failed): b"), false, (HOST, None), Some(1), Some("ftp")),
    ("May 31 10:53:25 mail proftpd[15302]: xxxxxxxxxx (::ffff:192.0.2.4[::ffff:192.0.2.4]) - Maximum login attempts (3) exceeded ",
     "2005-05-31T10:53:25Z", FAIL, "192.0.2.4", None, false, (HOST, None), Some(15302), Some("mail")),
    ("Oct  2 15:45:44 ftp01 proftpd[5517]: 192.0.2.13 (192.0.2.13[192.0.2.13]) - SECURITY VIOLATION: Root login attempted",
     "2004-10-02T15:45:44Z", FAIL, "192.0.2.13", Some("Root"), false, (HOST, None), Some(5517), Some("ftp01")),
    ("Dec 5 15:44:32 serv1 proftpd[70944]: serv1.domain.com (example.com[192.0.2.4]) - USER jtittle@domain.org: no such user found from example.com [192.0.2.4] to 192.0.2.4:21 ",
     "2004-12-05T15:44:32Z", FAIL, "192.0.2.4", Some("jtittle@domain.org"), false, ("192.0.2.4", Some(21)), Some(70944), Some("serv1")),
    // Debian's own file: ISO date with milliseconds; the server named by an IPv4-mapped address.
    ("2013-11-16 21:59:30,121 novo proftpd[25891] localhost (andy[192.0.2.4]): USER kjsad: no such user found from andy [192.0.2.5] to ::ffff:192.168.1.14:21",
     "2013-11-16T21:59:30.121Z", FAIL, "192.0.2.4", Some("kjsad"), false, ("192.168.1.14", Some(21)), Some(25891), Some("novo")),
    // A server named by host name: the port is known, the address stays ctx.host.
    ("May 21 20:21:21 slacker proftpd[31806] proftpd.lab (192.0.2.156[192.0.2.156]): USER abad: no such user found from 192.0.2.156 [192.0.2.156] to proftpd.lab:21",
     "2005-05-21T20:21:21Z", FAIL, "192.0.2.156", Some("abad"), false, (HOST, Some(21)), Some(31806), Some("slacker")),
    ("May 21 20:22:28 slacker proftpd[25556] proftpd.lab (192.168.20.10[192.168.20.10]): USER dcid-test: Login successful.",
     "2005-05-21T20:22:28Z", OK, "192.168.20.10", Some("dcid-test"), false, (HOST, None), Some(25556), Some("slacker")),
    ("Jan 04 22:51:57 juf01 proftpd[12564]: juf01 (dialup.example.net[192.0.2.177]) - USER jufu: Login successful",
     "2005-01-04T22:51:57Z", OK, "192.0.2.177", Some("jufu"), false, (HOST, None), Some(12564), Some("juf01")),
    ("Jan 04 22:51:57 gemi proftpd[26916]: gemi (192.0.2.135[192.0.2.135]) - ANON anonymous: Login successful.",
     "2005-01-04T22:51:57Z", OK, "192.0.2.135", Some("anonymous"), true, (HOST, None), Some(26916), Some("gemi")),
    ("Jan 04 22:51:57 gemi proftpd[26916]: gemi (192.0.2.135[192.0.2.135]) - ANON ftp (Login failed): Limit LOGIN denies.",
     "2005-01-04T22:51:57Z", FAIL, "192.0.2.135", Some("ftp"), true, (HOST, None), Some(26916), Some("gemi")),
    ("Jan 04 22:51:57 gemi proftpd[26916]: gemi (192.0.2.135[192.0.2.135]) - USER ftp (Login failed): Incorrect password.",
     "2005-01-04T22:51:57Z", FAIL, "192.0.2.135", Some("ftp"), true, (HOST, None), Some(26916), Some("gemi")),
    ("May 21 20:21:18 slacker proftpd[25530] proftpd.lab (192.168.20.10[192.168.20.10]): FTP session opened.",
     "2005-05-21T20:21:18Z", (Action::FtpConnect, Outcome::Success), "192.168.20.10", None, false, (HOST, None), Some(25530), Some("slacker")),
    ("Jan 04 22:51:57 valhalla proftpd[15181]: valhalla (crawl.example.com[192.0.2.80]) - Connection from crawl.example.com [192.0.2.80] denied.",
     "2005-01-04T22:51:57Z", (Action::FtpConnect, Outcome::Failure), "192.0.2.80", None, false, (HOST, None), Some(15181), Some("valhalla")),
    ("Jan 04 22:51:57 server proftpd[2344]: refused connect from 192.0.2.2 (192.0.2.2)",
     "2005-01-04T22:51:57Z", (Action::FtpConnect, Outcome::Failure), "192.0.2.2", None, false, (HOST, None), Some(2344), Some("server")),
    // Relayed in RFC 5424 form.
    ("<29>1 2005-06-09T07:30:58+02:00 ftp01 proftpd 11864 - - ftp01 (x[2001:db8::7]): USER bob (Login failed): Incorrect password.",
     "2005-06-09T05:30:58Z", FAIL, "2001:db8::7", Some("bob"), false, (HOST, None), Some(11864), Some("ftp01")),
];

#[test]
fn events() {
    for c in EVENTS {
        let e = parse(c.0)
            .unwrap_or_else(|err| panic!("{}: {err}", c.0))
            .unwrap_or_else(|| panic!("no event: {}", c.0));
        let src = e.source_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let dst = e
            .destination_ip
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let time = e
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let got: Case = (
            c.0,
            &time,
            (e.action, e.outcome),
            &src,
            e.user_name.as_deref(),
            e.ftp_anonymous,
            (&dst, e.destination_port),
            e.process_pid,
            e.host_name.as_deref(),
        );
        assert_eq!(got, *c);
        assert_eq!(e.dataset, Dataset::Proftpd);
        assert_eq!((e.bytes, e.file_path.as_deref()), (None, None), "{}", c.0);
    }
}

#[test]
fn lines_without_events() {
    let cases = [
        "May 21 20:20:44 slacker proftpd[25526] proftpd.lab.example.net: ProFTPD 1.2.10 (stable) (built Tue Aug 2 22:33:07 PDT 2005) standalone mode STARTUP",
        "May 21 20:22:14 slacker proftpd[25530] proftpd.lab (192.168.20.10[192.168.20.10]): FTP session closed.",
        "May 21 20:21:21 slacker proftpd[25530] proftpd.lab (192.168.20.10[192.168.20.10]): no such user 'dcid-inv'",
        "Jul 14 04:44:46 opala proftpd[30812] opala.example.edu (app.example.edu[192.0.2.73]): mod_delay/0.5: delaying for 14871 usecs",
        "Nov 12 00:12:01 server1 proftpd[12575]: 192.0.2.1 (127.0.0.1[127.0.0.1]) - Login timeout exceeded, disconnected",
        "Jan 04 22:51:57 server proftpd[26169] server.example.net: Fatal: unable to open incoming connection: Socket is not connected",
        "Jan 04 22:51:57 server proftpd[26169] server.example.net (x[192.0.2.1]): USER bob: something else",
        "Jan 04 22:51:57 server proftpd[26169] srv (stable) banner",
        "Jan 04 22:51:57 server proftpd[26169] srv (host)",
        "Jan 04 22:51:57 server proftpd[26169] srv (host[192.0.2.1]) trailing",
        "Oct 11 01:06:47 h vsftpd[1]: [u] FAIL LOGIN: Client \"192.0.2.1\"",
        "Oct 11 01:06:47 h kernel: DROP IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2",
        "Oct 11 01:06:47 h pure-ftpd: (?@192.0.2.1) [WARNING] Authentication failed for user [x]",
    ];
    for line in cases {
        assert_eq!(parse(line), Ok(None), "{line}");
    }
}

#[test]
fn rejected_lines() {
    let long = format!(
        "Oct 11 01:06:47 h proftpd[1] s (x[192.0.2.1]): {}",
        "x".repeat(100_000)
    );
    #[rustfmt::skip]
    let cases: Vec<(Vec<u8>, ErrorKind, usize)> = vec![
        (b"".to_vec(), ErrorKind::Syntax, 0),
        (b"hello world".to_vec(), ErrorKind::BadTimestamp, 0),
        (b"Feb 30 01:06:47 h proftpd[1] s (x[192.0.2.1]): FTP session opened.".to_vec(), ErrorKind::BadTimestamp, 0),
        (b"Oct 11 01:06".to_vec(), ErrorKind::BadTimestamp, 0),
        (b"Oct 11 01:06:47 h".to_vec(), ErrorKind::Syntax, 17),
        (b"Oct 11 01:06:47 h proftpd[1] s (x[192.0.2.999]): FTP session opened.".to_vec(), ErrorKind::BadAddress, 34),
        (b"Oct 11 01:06:47 h proftpd[1] s (x[nope]) - USER a: Login successful.".to_vec(), ErrorKind::BadAddress, 34),
        (b"Oct 11 01:06:47 h proftpd[1] s (x[192.0.2.1]): USER \xc3\x28".to_vec(), ErrorKind::InvalidUtf8, 52),
        (long.into_bytes(), ErrorKind::TooLong, crate::MAX_LINE_LEN),
    ];
    for (line, kind, offset) in cases {
        let e = parse_proftpd_line(&line, &ctx()).unwrap_err();
        let shown = String::from_utf8_lossy(&line);
        assert_eq!(
            (e.kind, e.offset, e.format),
            (kind, offset, FORMAT),
            "{shown}: {e}"
        );
    }
}

#[test]
fn source_zone_applies_to_zone_less_stamps() {
    let mut c = ctx();
    c.timezone = SourceTz::Named(chrono_tz::Europe::Berlin);
    let line = b"2013-11-16 21:59:30,121 novo proftpd[1] l (a[192.0.2.4]): FTP session opened.";
    let e = parse_proftpd_line(line, &c).unwrap().unwrap();
    let want: DateTime<Utc> = "2013-11-16T20:59:30.121Z".parse().unwrap();
    assert_eq!(e.timestamp, want);
}

#[test]
fn client_addresses_read_as_the_standard_parser_reads_them() {
    use std::net::IpAddr;
    let cases = [
        "1.2.3.4",
        "0.0.0.0",
        "255.255.255.255",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.00",
        "1.2.3",
        "1.2.3.4.5",
        "1..2.3",
        ".1.2.3",
        "1.2.3.",
        "1.2.3.1234",
        "1.2.3.4 ",
        "a.b.c.d",
        "",
        "::ffff:1.2.3.4",
        "::FFFF:10.0.0.1",
        "::ffff:01.2.3.4",
        "::ffff:1.2.3",
        "::ffff:",
        "2001:db8::1",
        "::1",
        "::ffff:c000:201",
    ];
    for s in cases {
        let std = s.parse::<IpAddr>().ok().map(|ip| match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        });
        assert_eq!(parse_client_ip(s), std, "{s:?}");
    }
}
