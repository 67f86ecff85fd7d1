//! Line formatting, byte for byte as vsftpd and rsyslog (kernel LOG target) write them.
//!
//! Lines are appended to one large buffer with the formatting helpers of `fmt.rs`; the date
//! part is cached per second. Nothing allocates per line.

use super::event::{FilePath, FwLine, Prefix, Proto, VsKind, VsLine};
use super::fmt::{push_hex2, push_ip, push_iso_date, push_padded, push_u64, push_vsftpd_date};
use std::io::{self, Write};

/// MAC header of packets arriving on eth0: fw01 eth0, then the upstream router, then IPv4.
const MAC_IN: &[u8] = b"00:16:3e:5a:01:0a:00:16:3e:c4:7f:01:08:00";
/// First half of the MAC header of LAN packets (fw01 eth2); the host MAC follows.
const MAC_LAN: &[u8] = b"00:16:3e:5a:02:0a:52:54:00:";

fn push_path(buf: &mut Vec<u8>, p: &FilePath) {
    buf.extend_from_slice(p.dir.as_bytes());
    buf.push(b'/');
    buf.extend_from_slice(p.stem.as_bytes());
    if p.num != 0 {
        buf.push(b'-');
        push_u64(buf, u64::from(p.num));
    }
    buf.extend_from_slice(p.ext.as_bytes());
}

/// Bytes collected before one `write_all` to the underlying writer.
pub const CHUNK: usize = 1 << 20;

/// Writes lines of one file through its own large buffer, counting them.
pub struct LineOut<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// Lines written so far.
    pub lines: u64,
    date_sec: i64,
    date: Vec<u8>,
}

impl<W: Write> LineOut<W> {
    /// Wraps `out`; lines are collected in a [`CHUNK`]-sized buffer, so `out` needs none.
    pub fn new(out: W) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(CHUNK + 1024),
            lines: 0,
            date_sec: i64::MIN,
            date: Vec::with_capacity(32),
        }
    }

    /// Writes what is buffered, flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn emit(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.lines += 1;
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// The date part for second `sec`, recomputed only when the second changes.
    fn date(&mut self, sec: i64, f: fn(&mut Vec<u8>, i64)) {
        if sec != self.date_sec {
            self.date.clear();
            f(&mut self.date, sec);
            self.date_sec = sec;
        }
    }

    /// Writes one vsftpd.log line for time `t_us`.
    pub fn write_vs(&mut self, t_us: i64, l: &VsLine) -> io::Result<()> {
        self.date(t_us.div_euclid(1_000_000), push_vsftpd_date);
        let b = &mut self.buf;
        b.extend_from_slice(&self.date);
        b.extend_from_slice(b" [pid ");
        push_u64(b, u64::from(l.pid));
        b.extend_from_slice(b"] ");
        if !l.user.is_empty() {
            b.push(b'[');
            b.extend_from_slice(l.user.as_bytes());
            b.extend_from_slice(b"] ");
        }
        let action: &[u8] = match l.kind {
            VsKind::Connect => b"CONNECT",
            VsKind::Login { ok: false } => b"FAIL LOGIN",
            VsKind::Login { ok: true } | VsKind::AnonLogin { .. } => b"OK LOGIN",
            VsKind::Transfer { upload: true, .. } => b"OK UPLOAD",
            VsKind::Transfer { upload: false, .. } => b"OK DOWNLOAD",
            VsKind::Mkdir(_) => b"OK MKDIR",
            VsKind::Delete(_) => b"OK DELETE",
            VsKind::Rename(_) => b"OK RENAME",
        };
        b.extend_from_slice(action);
        b.extend_from_slice(b": Client \"");
        push_ip(b, l.client, l.mapped);
        b.push(b'"');
        match l.kind {
            VsKind::Connect | VsKind::Login { .. } => {}
            VsKind::AnonLogin { password } => {
                b.extend_from_slice(b", anon password \"");
                b.extend_from_slice(password.as_bytes());
                b.push(b'"');
            }
            VsKind::Transfer {
                path,
                bytes,
                rate_centi,
                ..
            } => {
                b.extend_from_slice(b", \"");
                push_path(b, &path);
                b.extend_from_slice(b"\", ");
                push_u64(b, bytes);
                b.extend_from_slice(b" bytes, ");
                push_u64(b, rate_centi / 100);
                b.push(b'.');
                push_padded(b, rate_centi % 100, 2, b'0');
                b.extend_from_slice(b"Kbyte/sec");
            }
            VsKind::Mkdir(p) | VsKind::Delete(p) => {
                b.extend_from_slice(b", \"");
                push_path(b, &p);
                b.push(b'"');
            }
            VsKind::Rename(p) => {
                b.extend_from_slice(b", \"");
                push_path(b, &p);
                b.extend_from_slice(b".part ");
                push_path(b, &p);
                b.push(b'"');
            }
        }
        self.emit()
    }

    /// Writes one kern.log line for time `t_us`, on a kernel booted at `boot_us`.
    pub fn write_fw(&mut self, t_us: i64, boot_us: i64, l: &FwLine) -> io::Result<()> {
        self.date(t_us.div_euclid(1_000_000), push_iso_date);
        let b = &mut self.buf;
        b.extend_from_slice(&self.date);
        b.push(b'.');
        push_padded(b, t_us.rem_euclid(1_000_000) as u64, 6, b'0');
        b.extend_from_slice(b"+00:00 fw01 kernel: [");
        let up = (t_us - boot_us).max(0) as u64;
        push_padded(b, up / 1_000_000, 5, b' ');
        b.push(b'.');
        push_padded(b, up % 1_000_000, 6, b'0');
        b.extend_from_slice(match l.prefix {
            Prefix::AcceptIn => b"] ACCEPT_IN: IN=eth0 OUT=eth1 MAC=".as_slice(),
            Prefix::DropIn => b"] DROP_IN: IN=eth0 OUT=eth1 MAC=",
            Prefix::AcceptOut => b"] ACCEPT_OUT: IN=eth2 OUT=eth0 MAC=",
        });
        if l.prefix == Prefix::AcceptOut {
            b.extend_from_slice(MAC_LAN);
            let [_, _, c, d] = l.src.to_be_bytes();
            for x in [0x10 | (c & 0x0f), d, (c ^ d).wrapping_mul(37)] {
                push_hex2(b, x);
                b.push(b':');
            }
            b.extend_from_slice(b"08:00");
        } else {
            b.extend_from_slice(MAC_IN);
        }
        b.extend_from_slice(b" SRC=");
        push_ip(b, l.src, false);
        b.extend_from_slice(b" DST=");
        push_ip(b, l.dst, false);
        b.extend_from_slice(b" LEN=");
        push_u64(b, u64::from(l.len));
        b.extend_from_slice(b" TOS=0x00 PREC=0x00 TTL=");
        push_u64(b, u64::from(l.ttl));
        b.extend_from_slice(b" ID=");
        push_u64(b, u64::from(l.id));
        if l.df {
            b.extend_from_slice(b" DF");
        }
        match l.proto {
            Proto::Tcp { spt, dpt, window } => {
                b.extend_from_slice(b" PROTO=TCP SPT=");
                push_u64(b, u64::from(spt));
                b.extend_from_slice(b" DPT=");
                push_u64(b, u64::from(dpt));
                b.extend_from_slice(b" WINDOW=");
                push_u64(b, u64::from(window));
                b.extend_from_slice(b" RES=0x00 SYN URGP=0");
            }
            Proto::Udp { spt, dpt } => {
                b.extend_from_slice(b" PROTO=UDP SPT=");
                push_u64(b, u64::from(spt));
                b.extend_from_slice(b" DPT=");
                push_u64(b, u64::from(dpt));
                b.extend_from_slice(b" LEN=");
                push_u64(b, u64::from(l.len.saturating_sub(20)));
            }
            Proto::Icmp { typ, id, seq } => {
                b.extend_from_slice(b" PROTO=ICMP TYPE=");
                push_u64(b, u64::from(typ));
                b.extend_from_slice(b" CODE=0 ID=");
                push_u64(b, u64::from(id));
                b.extend_from_slice(b" SEQ=");
                push_u64(b, u64::from(seq));
            }
        }
        self.emit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::world::ip;

    fn ts(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    }

    #[test]
    fn vsftpd_lines_are_byte_exact() {
        let mut o = LineOut::new(Vec::new());
        let base = VsLine {
            pid: 4242,
            client: ip(198, 51, 100, 23),
            mapped: false,
            user: "",
            kind: VsKind::Connect,
        };
        let t = ts("2026-03-02T08:00:01.5Z");
        o.write_vs(t, &base).unwrap();
        let alice = VsLine {
            user: "alice",
            ..base
        };
        o.write_vs(
            t,
            &VsLine {
                kind: VsKind::Login { ok: false },
                ..alice
            },
        )
        .unwrap();
        let anon = VsKind::AnonLogin {
            password: "guest@example.com",
        };
        o.write_vs(
            t,
            &VsLine {
                user: "ftp",
                kind: anon,
                mapped: true,
                ..base
            },
        )
        .unwrap();
        let path = FilePath {
            dir: "/pub",
            stem: "report",
            num: 0,
            ext: ".pdf",
        };
        let xfer = VsKind::Transfer {
            upload: false,
            path,
            bytes: 48_213,
            rate_centi: 91_244,
        };
        o.write_vs(
            ts("2026-03-12T23:59:59Z"),
            &VsLine {
                kind: xfer,
                ..alice
            },
        )
        .unwrap();
        let p2 = FilePath {
            dir: "/incoming",
            stem: "x",
            num: 7,
            ext: "",
        };
        o.write_vs(
            t,
            &VsLine {
                kind: VsKind::Rename(p2),
                ..alice
            },
        )
        .unwrap();
        o.write_vs(
            t,
            &VsLine {
                kind: VsKind::Mkdir(p2),
                ..alice
            },
        )
        .unwrap();
        let text = String::from_utf8(o.finish().unwrap()).unwrap();
        let want = "\
Mon Mar  2 08:00:01 2026 [pid 4242] CONNECT: Client \"198.51.100.23\"
Mon Mar  2 08:00:01 2026 [pid 4242] [alice] FAIL LOGIN: Client \"198.51.100.23\"
Mon Mar  2 08:00:01 2026 [pid 4242] [ftp] OK LOGIN: Client \"::ffff:198.51.100.23\", anon password \"guest@example.com\"
Thu Mar 12 23:59:59 2026 [pid 4242] [alice] OK DOWNLOAD: Client \"198.51.100.23\", \"/pub/report.pdf\", 48213 bytes, 912.44Kbyte/sec
Mon Mar  2 08:00:01 2026 [pid 4242] [alice] OK RENAME: Client \"198.51.100.23\", \"/incoming/x-7.part /incoming/x-7\"
Mon Mar  2 08:00:01 2026 [pid 4242] [alice] OK MKDIR: Client \"198.51.100.23\", \"/incoming/x-7\"
";
        assert_eq!(text, want);
    }

    #[test]
    fn kernel_lines_are_byte_exact() {
        let mut o = LineOut::new(Vec::new());
        let t = ts("2026-03-02T08:00:00.912345Z");
        let boot = t - 123_456_789_012;
        let syn = FwLine {
            prefix: Prefix::AcceptIn,
            src: ip(198, 51, 100, 23),
            dst: ip(203, 0, 113, 10),
            len: 60,
            ttl: 52,
            id: 40_912,
            df: true,
            proto: Proto::Tcp {
                spt: 51_234,
                dpt: 21,
                window: 64_240,
            },
        };
        o.write_fw(t, boot, &syn).unwrap();
        let udp = FwLine {
            prefix: Prefix::AcceptOut,
            src: ip(10, 0, 1, 20),
            len: 61,
            df: false,
            proto: Proto::Udp {
                spt: 40_000,
                dpt: 53,
            },
            ..syn
        };
        o.write_fw(t + 1, t - 7_000_001, &udp).unwrap();
        let icmp = FwLine {
            prefix: Prefix::DropIn,
            len: 84,
            proto: Proto::Icmp {
                typ: 8,
                id: 9,
                seq: 1,
            },
            ..syn
        };
        o.write_fw(t, boot, &icmp).unwrap();
        let text = String::from_utf8(o.finish().unwrap()).unwrap();
        let want = "\
2026-03-02T08:00:00.912345+00:00 fw01 kernel: [123456.789012] ACCEPT_IN: IN=eth0 OUT=eth1 MAC=00:16:3e:5a:01:0a:00:16:3e:c4:7f:01:08:00 SRC=198.51.100.23 DST=203.0.113.10 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=40912 DF PROTO=TCP SPT=51234 DPT=21 WINDOW=64240 RES=0x00 SYN URGP=0
2026-03-02T08:00:00.912346+00:00 fw01 kernel: [    7.000002] ACCEPT_OUT: IN=eth2 OUT=eth0 MAC=00:16:3e:5a:02:0a:52:54:00:11:14:09:08:00 SRC=10.0.1.20 DST=203.0.113.10 LEN=61 TOS=0x00 PREC=0x00 TTL=52 ID=40912 PROTO=UDP SPT=40000 DPT=53 LEN=41
2026-03-02T08:00:00.912345+00:00 fw01 kernel: [123456.789012] DROP_IN: IN=eth0 OUT=eth1 MAC=00:16:3e:5a:01:0a:00:16:3e:c4:7f:01:08:00 SRC=198.51.100.23 DST=203.0.113.10 LEN=84 TOS=0x00 PREC=0x00 TTL=52 ID=40912 DF PROTO=ICMP TYPE=8 CODE=0 ID=9 SEQ=1
";
        assert_eq!(text, want);
    }
}
