//! The line formats portcullis reads. Adding a format: one variant here, one module, one arm in
//! `parser.rs`, one fixtures folder.

use std::fmt;

/// A line format portcullis can parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// vsftpd native log, plain or wrapped in a syslog header (including its PAM lines).
    Vsftpd,
    /// xferlog transfer log (wu-ftpd format: vsftpd `xferlog_std_format`, ProFTPD TransferLog).
    Xferlog,
    /// ProFTPD SystemLog / syslog lines.
    Proftpd,
    /// ProFTPD ExtendedLog lines laid out by a configured `LogFormat`.
    ProftpdExtended,
    /// IIS FTP W3C extended log (`#Fields:` directives).
    IisFtp,
    /// Pure-FTPd syslog lines.
    PureFtpd,
    /// FileZilla Server log (0.9 and 1.x forms).
    Filezilla,
    /// Serv-U FTP server log.
    ServU,
    /// netfilter LOG lines (iptables, nftables, UFW) in a syslog/kern.log file.
    Iptables,
    /// OpenBSD pf log as tcpdump text (pflog).
    Pf,
    /// pfSense / OPNsense filterlog CSV.
    Filterlog,
    /// Cisco ASA / PIX syslog messages.
    Asa,
    /// Windows Firewall pfirewall.log (W3C-like `#Fields:` header).
    WindowsFirewall,
    /// nfdump CSV output (`nfdump -o csv`).
    NfdumpCsv,
    /// OpenSSH server lines (auth.log, secure).
    Sshd,
    /// Ipswitch WS_FTP Server log (`FSyyyymmdd.log`).
    WsFtp,
    /// Bftpd log file or syslog lines.
    Bftpd,
}

impl Format {
    /// Every format, in detection order.
    pub const ALL: &'static [Format] = &[
        Format::Vsftpd,
        Format::Xferlog,
        Format::Proftpd,
        Format::ProftpdExtended,
        Format::IisFtp,
        Format::PureFtpd,
        Format::Filezilla,
        Format::ServU,
        Format::WsFtp,
        Format::Bftpd,
        Format::Iptables,
        Format::Pf,
        Format::Filterlog,
        Format::Asa,
        Format::WindowsFirewall,
        Format::NfdumpCsv,
        Format::Sshd,
    ];

    /// The name used on the command line and in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Vsftpd => "vsftpd",
            Format::Xferlog => "xferlog",
            Format::Proftpd => "proftpd",
            Format::ProftpdExtended => "proftpd-extended",
            Format::IisFtp => "iis-ftp",
            Format::PureFtpd => "pure-ftpd",
            Format::Filezilla => "filezilla",
            Format::ServU => "serv-u",
            Format::WsFtp => "ws-ftp",
            Format::Bftpd => "bftpd",
            Format::Iptables => "iptables",
            Format::Pf => "pf",
            Format::Filterlog => "filterlog",
            Format::Asa => "asa",
            Format::WindowsFirewall => "windows-firewall",
            Format::NfdumpCsv => "nfdump-csv",
            Format::Sshd => "sshd",
        }
    }

    /// Looks a format up by its name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.as_str()), Some(*f));
        }
        assert_eq!(Format::from_name("IIS-FTP"), Some(Format::IisFtp));
        assert_eq!(Format::from_name("nope"), None);
    }
}
