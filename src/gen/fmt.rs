//! Allocation-free formatting of numbers, addresses and dates into a byte buffer.

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];
const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];

/// Civil date of a day count since 1970-01-01 (H. Hinnant's algorithm): (year, month, day).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// "00" to "99", for writing two digits at a time.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `v` in decimal.
pub fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    while v >= 100 {
        let p = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    }
    if v >= 10 {
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&PAIRS[v as usize * 2..v as usize * 2 + 2]);
    } else {
        i -= 1;
        tmp[i] = b'0' + v as u8;
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `v` right-aligned in at least `width` characters, padded with `pad` (`0` or space).
pub fn push_padded(buf: &mut Vec<u8>, mut v: u64, width: usize, pad: u8) {
    let mut tmp = [pad; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = i.min(tmp.len() - width);
    buf.extend_from_slice(&tmp[start..]);
}

/// Appends a dotted IPv4 address, optionally as `::ffff:a.b.c.d`.
pub fn push_ip(buf: &mut Vec<u8>, addr: u32, mapped: bool) {
    if mapped {
        buf.extend_from_slice(b"::ffff:");
    }
    for (i, b) in addr.to_be_bytes().iter().enumerate() {
        if i > 0 {
            buf.push(b'.');
        }
        push_u64(buf, u64::from(*b));
    }
}

/// Appends a byte as two lower-case hex digits.
pub fn push_hex2(buf: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(HEX[usize::from(b >> 4)]);
    buf.push(HEX[usize::from(b & 15)]);
}

/// vsftpd's `strftime("%a %b %e %H:%M:%S %Y")` of `sec` (UTC), e.g. `Mon Mar  2 08:00:01 2026`.
pub fn push_vsftpd_date(b: &mut Vec<u8>, sec: i64) {
    let days = sec.div_euclid(86_400);
    let (y, m, d) = civil(days);
    b.extend_from_slice(DAYS[(days + 4).rem_euclid(7) as usize]);
    b.push(b' ');
    b.extend_from_slice(MONTHS[m as usize - 1]);
    b.push(b' ');
    push_padded(b, u64::from(d), 2, b' ');
    b.push(b' ');
    push_hms(b, sec.rem_euclid(86_400) as u64);
    b.push(b' ');
    push_u64(b, y as u64);
}

/// RFC 3339 date and time of `sec` (UTC) up to the seconds, e.g. `2026-03-02T08:00:00`.
pub fn push_iso_date(b: &mut Vec<u8>, sec: i64) {
    let (y, m, d) = civil(sec.div_euclid(86_400));
    push_padded(b, y as u64, 4, b'0');
    b.push(b'-');
    push_padded(b, u64::from(m), 2, b'0');
    b.push(b'-');
    push_padded(b, u64::from(d), 2, b'0');
    b.push(b'T');
    push_hms(b, sec.rem_euclid(86_400) as u64);
}

fn push_hms(b: &mut Vec<u8>, tod: u64) {
    push_padded(b, tod / 3600, 2, b'0');
    b.push(b':');
    push_padded(b, tod / 60 % 60, 2, b'0');
    b.push(b':');
    push_padded(b, tod % 60, 2, b'0');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_agrees_with_chrono_over_centuries() {
        for days in (-700_000i64..2_900_000).step_by(997) {
            let dt = chrono::DateTime::from_timestamp(days * 86_400, 0).unwrap();
            let want = dt.format("%Y %m %d %a").to_string();
            let (y, m, d) = civil(days);
            let dow = std::str::from_utf8(DAYS[(days + 4).rem_euclid(7) as usize]).unwrap();
            assert_eq!(format!("{y:04} {m:02} {d:02} {dow}"), want, "days {days}");
        }
    }

    #[test]
    fn numbers_and_dates() {
        let mut b = Vec::new();
        for v in [0u64, 7, 10, 99, 100, 12_345, u64::MAX] {
            b.clear();
            push_u64(&mut b, v);
            assert_eq!(b, v.to_string().as_bytes());
        }
        b.clear();
        push_padded(&mut b, 42, 6, b'0');
        push_padded(&mut b, 3, 5, b' ');
        push_padded(&mut b, 1_234_567, 5, b' ');
        assert_eq!(b, b"000042    31234567");
        let t = 1_772_438_401; // 2026-03-02T08:00:01Z
        b.clear();
        push_vsftpd_date(&mut b, t);
        b.push(b'|');
        push_iso_date(&mut b, t + 10 * 86_400);
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            "Mon Mar  2 08:00:01 2026|2026-03-12T08:00:01"
        );
    }
}
