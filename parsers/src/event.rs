//! The normalized event: the one shape every parser produces and every rule reads.
//!
//! Field names follow ECS (`source.ip`, `event.action`, ...). Values are typed: addresses are
//! `IpAddr`, ports `u16`, times UTC. Short strings (user names, host names) are `CompactString`,
//! which stores up to 24 bytes inline, so the common line costs no heap allocation for them.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;
use std::net::IpAddr;

/// Which log or flow format an event came from (`event.dataset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dataset {
    /// vsftpd native log (`vsftpd_log_file`) or vsftpd lines relayed through syslog.
    Vsftpd,
    /// Linux netfilter LOG target lines (iptables, nftables, UFW), usually from kern.log.
    Iptables,
    /// xferlog transfer logs (wu-ftpd format, written by vsftpd and ProFTPD).
    Xferlog,
    /// ProFTPD system and extended logs.
    Proftpd,
    /// Microsoft IIS FTP service W3C logs.
    IisFtp,
    /// Pure-FTPd.
    PureFtpd,
    /// FileZilla Server.
    Filezilla,
    /// Serv-U.
    ServU,
    /// OpenBSD pf and pfSense/OPNsense filterlog.
    Pf,
    /// Cisco ASA and PIX.
    Asa,
    /// Windows Firewall (pfirewall.log).
    WindowsFirewall,
    /// NetFlow v5/v9 and IPFIX records (and nfdump output).
    Netflow,
    /// OpenSSH server (sshd) lines from auth.log / secure.
    Sshd,
    /// Ipswitch WS_FTP Server.
    WsFtp,
    /// Bftpd.
    Bftpd,
}

impl Dataset {
    /// Every dataset, in a stable order (used by rule validation and help texts).
    pub const ALL: &'static [Dataset] = &[
        Dataset::Vsftpd,
        Dataset::Iptables,
        Dataset::Xferlog,
        Dataset::Proftpd,
        Dataset::IisFtp,
        Dataset::PureFtpd,
        Dataset::Filezilla,
        Dataset::ServU,
        Dataset::Pf,
        Dataset::Asa,
        Dataset::WindowsFirewall,
        Dataset::Netflow,
        Dataset::Sshd,
        Dataset::WsFtp,
        Dataset::Bftpd,
    ];

    /// The name used in rules, JSON output and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Vsftpd => "vsftpd",
            Dataset::Iptables => "iptables",
            Dataset::Xferlog => "xferlog",
            Dataset::Proftpd => "proftpd",
            Dataset::IisFtp => "iis_ftp",
            Dataset::PureFtpd => "pureftpd",
            Dataset::Filezilla => "filezilla",
            Dataset::ServU => "servu",
            Dataset::WsFtp => "ws_ftp",
            Dataset::Bftpd => "bftpd",
            Dataset::Pf => "pf",
            Dataset::Asa => "asa",
            Dataset::WindowsFirewall => "windows_firewall",
            Dataset::Netflow => "netflow",
            Dataset::Sshd => "sshd",
        }
    }
}

/// What happened (`event.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// A client opened an FTP control connection.
    FtpConnect,
    /// A login attempt (see `outcome`).
    FtpLogin,
    /// A file sent to the client.
    FtpDownload,
    /// A file received from the client.
    FtpUpload,
    /// A file deleted.
    FtpDelete,
    /// A directory created.
    FtpMkdir,
    /// A directory removed.
    FtpRmdir,
    /// A file or directory renamed.
    FtpRename,
    /// Permissions changed (SITE CHMOD).
    FtpChmod,
    /// Any other FTP command or response (vsftpd `log_ftp_protocol`).
    FtpCommand,
    /// A firewall dropped or rejected a packet.
    FirewallDeny,
    /// A firewall accepted a packet.
    FirewallAllow,
    /// A firewall logged a packet without saying what it did with it.
    FirewallLog,
    /// A connection was opened (stateful firewall "built").
    ConnectionOpen,
    /// A connection was closed (stateful firewall "teardown").
    ConnectionClose,
    /// A flow record (NetFlow, IPFIX).
    Flow,
    /// An SSH login attempt (see `outcome`).
    SshLogin,
    /// An SSH connection accepted by the server (both ends known).
    SshConnect,
}

impl Action {
    /// Every action, in a stable order.
    pub const ALL: &'static [Action] = &[
        Action::FtpConnect,
        Action::FtpLogin,
        Action::FtpDownload,
        Action::FtpUpload,
        Action::FtpDelete,
        Action::FtpMkdir,
        Action::FtpRmdir,
        Action::FtpRename,
        Action::FtpChmod,
        Action::FtpCommand,
        Action::FirewallDeny,
        Action::FirewallAllow,
        Action::FirewallLog,
        Action::ConnectionOpen,
        Action::ConnectionClose,
        Action::Flow,
        Action::SshLogin,
        Action::SshConnect,
    ];

    /// The name used in rules, JSON output and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::FtpConnect => "ftp.connect",
            Action::FtpLogin => "ftp.login",
            Action::FtpDownload => "ftp.download",
            Action::FtpUpload => "ftp.upload",
            Action::FtpDelete => "ftp.delete",
            Action::FtpMkdir => "ftp.mkdir",
            Action::FtpRmdir => "ftp.rmdir",
            Action::FtpRename => "ftp.rename",
            Action::FtpChmod => "ftp.chmod",
            Action::FtpCommand => "ftp.command",
            Action::FirewallDeny => "firewall.deny",
            Action::FirewallAllow => "firewall.allow",
            Action::FirewallLog => "firewall.log",
            Action::ConnectionOpen => "connection.open",
            Action::ConnectionClose => "connection.close",
            Action::Flow => "flow",
            Action::SshLogin => "ssh.login",
            Action::SshConnect => "ssh.connect",
        }
    }
}

/// Whether the action worked (`event.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Outcome {
    /// The action succeeded (OK LOGIN, an accepted packet).
    Success,
    /// The action failed (FAIL LOGIN, a dropped packet).
    Failure,
    /// The log does not say.
    #[default]
    Unknown,
}

impl Outcome {
    /// Every outcome, in a stable order.
    pub const ALL: &'static [Outcome] = &[Outcome::Success, Outcome::Failure, Outcome::Unknown];

    /// The name used in rules, JSON output and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

/// The IP protocol of a packet or flow (`network.transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP (1).
    Icmp,
    /// ICMPv6 (58).
    Icmpv6,
    /// Any other protocol, by number.
    Other(u8),
}

impl Transport {
    /// Maps an IANA protocol number to a transport.
    pub fn from_number(n: u8) -> Transport {
        match n {
            6 => Transport::Tcp,
            17 => Transport::Udp,
            1 => Transport::Icmp,
            58 => Transport::Icmpv6,
            other => Transport::Other(other),
        }
    }

    /// Maps a protocol name as firewalls print it (`TCP`, `udp`, `ICMPv6`, `47`) to a transport.
    pub fn from_name(name: &str) -> Option<Transport> {
        if name.eq_ignore_ascii_case("tcp") {
            Some(Transport::Tcp)
        } else if name.eq_ignore_ascii_case("udp") {
            Some(Transport::Udp)
        } else if name.eq_ignore_ascii_case("icmp") {
            Some(Transport::Icmp)
        } else if name.eq_ignore_ascii_case("icmpv6") || name.eq_ignore_ascii_case("ipv6-icmp") {
            Some(Transport::Icmpv6)
        } else {
            name.parse::<u8>().ok().map(Transport::from_number)
        }
    }

    /// The IANA protocol number.
    pub fn number(self) -> u8 {
        match self {
            Transport::Tcp => 6,
            Transport::Udp => 17,
            Transport::Icmp => 1,
            Transport::Icmpv6 => 58,
            Transport::Other(n) => n,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Tcp => f.write_str("tcp"),
            Transport::Udp => f.write_str("udp"),
            Transport::Icmp => f.write_str("icmp"),
            Transport::Icmpv6 => f.write_str("ipv6-icmp"),
            Transport::Other(n) => write!(f, "{n}"),
        }
    }
}

/// TCP flags as a bit set, in wire order (FIN = bit 0 ... CWR = bit 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: no more data from sender.
    pub const FIN: u8 = 0x01;
    /// SYN: synchronise sequence numbers (a connection attempt).
    pub const SYN: u8 = 0x02;
    /// RST: reset the connection.
    pub const RST: u8 = 0x04;
    /// PSH: push buffered data.
    pub const PSH: u8 = 0x08;
    /// ACK: acknowledgement field is significant.
    pub const ACK: u8 = 0x10;
    /// URG: urgent pointer is significant.
    pub const URG: u8 = 0x20;
    /// ECE: ECN echo.
    pub const ECE: u8 = 0x40;
    /// CWR: congestion window reduced.
    pub const CWR: u8 = 0x80;

    const NAMES: [(u8, &'static str); 8] = [
        (Self::FIN, "FIN"),
        (Self::SYN, "SYN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
    ];

    /// The bit for a flag name as netfilter and most firewalls print it (`SYN`, `ACK`, ...).
    pub fn bit_for_name(name: &str) -> Option<u8> {
        Self::NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(bit, _)| *bit)
    }

    /// True when every bit of `bits` is set.
    pub fn contains(self, bits: u8) -> bool {
        self.0 & bits == bits
    }
}

impl fmt::Display for TcpFlags {
    /// Space-separated flag names in wire order, e.g. `SYN ACK`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (bit, name) in Self::NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(" ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// Where an event came from: which source, and where in it. Enough to find the raw line again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Origin {
    /// Index of the source (file, listener) in the running configuration.
    pub source: u32,
    /// Byte offset of the line's first byte within the source.
    pub offset: u64,
}

/// One normalized event. Every field but the timestamp, dataset and action is optional:
/// a parser fills what its line says and nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `@timestamp`: when it happened, from the log itself, in UTC.
    pub timestamp: DateTime<Utc>,
    /// `event.dataset`: the format the line was parsed as.
    pub dataset: Dataset,
    /// `event.action`: what happened.
    pub action: Action,
    /// `event.outcome`: whether it worked.
    pub outcome: Outcome,
    /// `source.ip`: the client, the packet's sender.
    pub source_ip: Option<IpAddr>,
    /// `source.port`.
    pub source_port: Option<u16>,
    /// `destination.ip`: the server, the packet's receiver.
    pub destination_ip: Option<IpAddr>,
    /// `destination.port`.
    pub destination_port: Option<u16>,
    /// `network.transport`.
    pub transport: Option<Transport>,
    /// `network.bytes`: bytes transferred (a file, a packet, a flow).
    pub bytes: Option<u64>,
    /// `network.packets`.
    pub packets: Option<u64>,
    /// `tcp.flags`.
    pub tcp_flags: Option<TcpFlags>,
    /// `user.name`: attacker-controlled; escape before printing.
    pub user_name: Option<CompactString>,
    /// `ftp.anonymous`: the login or transfer used the anonymous account.
    pub ftp_anonymous: bool,
    /// `file.path`: attacker-controlled; escape before printing.
    pub file_path: Option<String>,
    /// `file.size`.
    pub file_size: Option<u64>,
    /// `host.name`: the host that wrote the log line (syslog hostname).
    pub host_name: Option<CompactString>,
    /// `observer.ip`: the firewall or flow exporter that reported the event.
    pub observer_ip: Option<IpAddr>,
    /// `process.pid`: the logging process (vsftpd runs one process per session).
    pub process_pid: Option<u32>,
    /// `rule.name`: the firewall rule or log prefix that produced the line (`DROP_INPUT`).
    pub rule_name: Option<CompactString>,
    /// `interface.in` / `interface.out`: network interfaces named by a firewall.
    pub interface_in: Option<CompactString>,
    /// See `interface_in`.
    pub interface_out: Option<CompactString>,
    /// `event.end`: when what the event describes ended (a flow's last packet, a connection's
    /// teardown, a transfer's completion), when the source says.
    pub end: Option<DateTime<Utc>>,
    /// `event.duration`: how long it lasted, in nanoseconds (ECS), when the source says.
    pub duration_ns: Option<u64>,
    /// Provenance: source and byte offset.
    pub origin: Origin,
}

impl Event {
    /// An event with only the required fields set.
    pub fn new(timestamp: DateTime<Utc>, dataset: Dataset, action: Action) -> Event {
        Event {
            timestamp,
            dataset,
            action,
            outcome: Outcome::Unknown,
            source_ip: None,
            source_port: None,
            destination_ip: None,
            destination_port: None,
            transport: None,
            bytes: None,
            packets: None,
            tcp_flags: None,
            user_name: None,
            ftp_anonymous: false,
            file_path: None,
            file_size: None,
            host_name: None,
            observer_ip: None,
            process_pid: None,
            rule_name: None,
            interface_in: None,
            interface_out: None,
            end: None,
            duration_ns: None,
            origin: Origin::default(),
        }
    }

    /// Sets `event.end` to `end` and `event.duration` to the time from `@timestamp` to it (a
    /// flow's first and last packet). An end before the start (clocks of an exporter stepping
    /// back) keeps the end and leaves the duration out rather than invent one.
    pub fn set_end(&mut self, end: DateTime<Utc>) {
        self.end = Some(end);
        self.duration_ns = (end - self.timestamp)
            .num_nanoseconds()
            .and_then(|ns| u64::try_from(ns).ok());
    }

    /// Records that the event's `@timestamp` is the end of something that lasted
    /// `duration_ns` (a teardown with its connection's duration, a finished transfer).
    pub fn set_ended_after(&mut self, duration_ns: u64) {
        self.end = Some(self.timestamp);
        self.duration_ns = Some(duration_ns);
    }
}

/// Serializes as one flat JSON object with ECS dotted keys, leaving out absent fields:
/// the shape `portcullis parse` prints for every format.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(
            "@timestamp",
            &self
                .timestamp
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        )?;
        map.serialize_entry("event.dataset", self.dataset.as_str())?;
        map.serialize_entry("event.action", self.action.as_str())?;
        map.serialize_entry("event.outcome", self.outcome.as_str())?;
        if let Some(ip) = &self.source_ip {
            map.serialize_entry("source.ip", ip)?;
        }
        if let Some(port) = self.source_port {
            map.serialize_entry("source.port", &port)?;
        }
        if let Some(ip) = &self.destination_ip {
            map.serialize_entry("destination.ip", ip)?;
        }
        if let Some(port) = self.destination_port {
            map.serialize_entry("destination.port", &port)?;
        }
        if let Some(t) = self.transport {
            map.serialize_entry("network.transport", &t.to_string())?;
        }
        if let Some(b) = self.bytes {
            map.serialize_entry("network.bytes", &b)?;
        }
        if let Some(p) = self.packets {
            map.serialize_entry("network.packets", &p)?;
        }
        if let Some(flags) = self.tcp_flags {
            map.serialize_entry("tcp.flags", &flags.to_string())?;
        }
        if let Some(u) = &self.user_name {
            map.serialize_entry("user.name", u.as_str())?;
        }
        if self.ftp_anonymous {
            map.serialize_entry("ftp.anonymous", &true)?;
        }
        if let Some(p) = &self.file_path {
            map.serialize_entry("file.path", p)?;
        }
        if let Some(s) = self.file_size {
            map.serialize_entry("file.size", &s)?;
        }
        if let Some(h) = &self.host_name {
            map.serialize_entry("host.name", h.as_str())?;
        }
        if let Some(ip) = &self.observer_ip {
            map.serialize_entry("observer.ip", ip)?;
        }
        if let Some(pid) = self.process_pid {
            map.serialize_entry("process.pid", &pid)?;
        }
        if let Some(r) = &self.rule_name {
            map.serialize_entry("rule.name", r.as_str())?;
        }
        if let Some(i) = &self.interface_in {
            map.serialize_entry("interface.in", i.as_str())?;
        }
        if let Some(i) = &self.interface_out {
            map.serialize_entry("interface.out", i.as_str())?;
        }
        if let Some(end) = &self.end {
            map.serialize_entry(
                "event.end",
                &end.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            )?;
        }
        if let Some(d) = self.duration_ns {
            map.serialize_entry("event.duration", &d)?;
        }
        map.serialize_entry("log.offset", &self.origin.offset)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn json_has_ecs_keys_and_omits_absent_fields() {
        let mut e = Event::new(
            Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap(),
            Dataset::Vsftpd,
            Action::FtpLogin,
        );
        e.outcome = Outcome::Failure;
        e.source_ip = Some("192.0.2.1".parse().unwrap());
        e.user_name = Some("bob".into());
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"@timestamp":"2026-03-02T10:00:00Z","event.dataset":"vsftpd","event.action":"ftp.login","event.outcome":"failure","source.ip":"192.0.2.1","user.name":"bob","log.offset":0}"#
        );
    }

    #[test]
    fn end_and_duration_in_json() {
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
        let mut e = Event::new(start, Dataset::Netflow, Action::Flow);
        e.set_end(start + chrono::TimeDelta::milliseconds(1_500));
        assert_eq!(e.duration_ns, Some(1_500_000_000));
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            json.ends_with(r#""event.end":"2026-03-02T10:00:01.500Z","event.duration":1500000000,"log.offset":0}"#),
            "{json}"
        );
        // An end before the start keeps the end, drops the duration.
        e.set_end(start - chrono::TimeDelta::seconds(1));
        assert_eq!(
            (e.end, e.duration_ns),
            (Some(start - chrono::TimeDelta::seconds(1)), None)
        );
        e.set_ended_after(68_000_000_000);
        assert_eq!((e.end, e.duration_ns), (Some(start), Some(68_000_000_000)));
    }

    /// Events are moved through channels and buffers by the million: a field that makes them
    /// bigger should be a decision, not an accident (296 bytes before `event.end` and
    /// `event.duration`, 328 with them).
    #[test]
    fn event_stays_small() {
        assert_eq!(std::mem::size_of::<Event>(), 328);
    }

    #[test]
    fn tcp_flags_print_in_wire_order() {
        let f = TcpFlags(TcpFlags::ACK | TcpFlags::SYN | TcpFlags::CWR);
        assert_eq!(f.to_string(), "SYN ACK CWR");
        assert_eq!(TcpFlags::bit_for_name("psh"), Some(TcpFlags::PSH));
        assert_eq!(TcpFlags::bit_for_name("XYZ"), None);
    }

    #[test]
    fn transport_names_and_numbers_round_trip() {
        assert_eq!(Transport::from_name("TCP"), Some(Transport::Tcp));
        assert_eq!(Transport::from_name("47"), Some(Transport::Other(47)));
        assert_eq!(Transport::from_name("bogus"), None);
        assert_eq!(Transport::from_number(17).number(), 17);
    }
}
