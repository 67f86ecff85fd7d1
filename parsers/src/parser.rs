//! A parser for one source: the format, the source's context, and whatever the format must
//! remember between lines (the current `#Fields:` layout, logins spread over several lines).

use crate::{
    asa, bftpd, filezilla, filterlog, iis, iptables, nfdump, pf, proftpd, proftpd_extended,
};
use crate::{pureftpd, servu, sshd, vsftpd, winfw, wsftp, xferlog};
use crate::{ErrorKind, Event, Format, ParseContext, ParseError, MAX_LINE_LEN};

/// Per-format memory; each format keeps its own part and ignores the others.
#[derive(Debug, Default)]
struct States {
    iis: iis::State,
    winfw: winfw::State,
    filezilla: filezilla::State,
    pureftpd: pureftpd::State,
    asa: asa::State,
    servu: servu::State,
    proftpd_extended: proftpd_extended::State,
    nfdump: nfdump::State,
    bftpd: bftpd::State,
}

/// Parses the lines of one source in order.
#[derive(Debug)]
pub struct LineParser {
    format: Format,
    ctx: ParseContext,
    states: States,
}

impl LineParser {
    /// A parser for a source of `format` read with `ctx`.
    pub fn new(format: Format, ctx: ParseContext) -> LineParser {
        LineParser {
            format,
            ctx,
            states: States::default(),
        }
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The context it reads with.
    pub fn context(&self) -> &ParseContext {
        &self.ctx
    }

    /// Moves the reference time that dates year-less timestamps, keeping the memory between
    /// lines: a long-running reader calls this as the wall clock advances.
    pub fn set_now(&mut self, now: chrono::DateTime<chrono::Utc>) {
        self.ctx.now = now;
    }

    /// Tells the parser where the line it reads next starts, in the caller's positions (a
    /// byte offset in the file), so [`LineParser::pending_since`] can name where a record
    /// still pending began. Optional: without it that position is 0.
    pub fn note_position(&mut self, position: u64) {
        match self.format {
            Format::Filezilla => self.states.filezilla.sessions.stamp(position),
            Format::ServU => self.states.servu.sessions.stamp(position),
            Format::IisFtp => self.states.iis.users.stamp(position),
            _ => {}
        }
    }

    /// Where the oldest session this parser remembers began (a FileZilla or Serv-U
    /// dialogue, an IIS session's user), as noted by [`LineParser::note_position`]:
    /// parsing again from there rebuilds what it remembers of every session open now.
    /// `None` when no session is open, and for formats whose memory is not per session (a
    /// `#Fields:` layout, ASA connection builds): those keep a fixed look-back.
    pub fn pending_since(&mut self) -> Option<u64> {
        match self.format {
            Format::Filezilla => self.states.filezilla.sessions.oldest_stamp(),
            Format::ServU => self.states.servu.sessions.oldest_stamp(),
            Format::IisFtp => self.states.iis.users.oldest_stamp(),
            _ => None,
        }
    }

    /// Parses the next line (without its terminator). `Ok(None)`: a well-formed line that
    /// carries no event (a directive, another program's line, the first line of a multi-line
    /// login). `Err`: the line is rejected; the caller counts it and goes on.
    pub fn parse(&mut self, line: &[u8]) -> Result<Option<Event>, ParseError> {
        if line.len() > MAX_LINE_LEN {
            return Err(ParseError::new(
                self.format,
                ErrorKind::TooLong,
                MAX_LINE_LEN,
                "a line of at most 16 KiB",
            ));
        }
        let (ctx, s) = (&self.ctx, &mut self.states);
        match self.format {
            Format::Vsftpd => vsftpd::parse_vsftpd_line(line, ctx),
            Format::Xferlog => xferlog::parse_xferlog_line(line, ctx),
            Format::Proftpd => proftpd::parse_proftpd_line(line, ctx),
            Format::ProftpdExtended => {
                proftpd_extended::parse_extended_line(line, ctx, &mut s.proftpd_extended)
            }
            Format::IisFtp => iis::parse_iis_line(line, ctx, &mut s.iis),
            Format::PureFtpd => pureftpd::parse_pureftpd_line(line, ctx, &mut s.pureftpd),
            Format::Filezilla => filezilla::parse_filezilla_line(line, ctx, &mut s.filezilla),
            Format::ServU => servu::parse_servu_line_with_state(line, ctx, &mut s.servu),
            Format::WsFtp => wsftp::parse_wsftp_line(line, ctx),
            Format::Bftpd => bftpd::parse_bftpd_line(line, ctx, &mut s.bftpd),
            Format::Iptables => iptables::parse_iptables_line(line, ctx),
            Format::Pf => pf::parse_pf_line(line, ctx),
            Format::Filterlog => filterlog::parse_filterlog_line(line, ctx),
            Format::Asa => asa::parse_asa_line(line, ctx, &mut s.asa),
            Format::WindowsFirewall => winfw::parse_winfw_line(line, ctx, &mut s.winfw),
            Format::NfdumpCsv => nfdump::parse_nfdump_line(line, ctx, &mut s.nfdump),
            Format::Sshd => sshd::parse_sshd_line(line, ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceTz;

    #[test]
    fn pending_since_names_the_first_line_of_the_oldest_open_session() {
        let mut p = LineParser::new(Format::Filezilla, ParseContext::new(SourceTz::Utc));
        let line = |id: u32, msg: &str| {
            format!("({id:06}) 21/12/2021 14:07:00 PM - (not logged in) (203.0.113.5)> {msg}")
        };
        let lines = [
            (
                100,
                line(1, "Connected on port 21, sending welcome message..."),
            ),
            (
                200,
                line(2, "Connected on port 21, sending welcome message..."),
            ),
            (300, line(1, "USER www")),
            (400, line(1, "disconnected.")),
        ];
        let mut seen = Vec::new();
        for (at, l) in &lines {
            p.note_position(*at);
            p.parse(l.as_bytes()).unwrap();
            seen.push(p.pending_since());
        }
        // Session 1 began at 100 until it closed; then session 2 (begun at 200) is oldest.
        assert_eq!(seen, [Some(100), Some(100), Some(100), Some(200)]);
        let mut v = LineParser::new(Format::Vsftpd, ParseContext::new(SourceTz::Utc));
        v.note_position(5);
        assert_eq!(v.pending_since(), None);
    }

    #[test]
    fn moving_now_redates_year_less_stamps_and_keeps_state() {
        let mut ctx = ParseContext::new(SourceTz::Utc);
        ctx.now = "2026-12-31T12:00:00Z".parse().unwrap();
        let mut p = LineParser::new(Format::Iptables, ctx);
        let line = b"Jan  2 03:00:00 fw kernel: DROP IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=2 SYN";
        // On Dec 31, a Jan 2 line without a year is from the January just past.
        let e = p.parse(line).unwrap().unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2026-01-02T03:00:00+00:00");
        // A day later the same stamp is the new year's.
        p.set_now("2027-01-02T04:00:00Z".parse().unwrap());
        let e = p.parse(line).unwrap().unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2027-01-02T03:00:00+00:00");
        assert_eq!(p.context().now.to_rfc3339(), "2027-01-02T04:00:00+00:00");
    }
}
