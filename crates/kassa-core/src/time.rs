//! UTC timestamps as Unix milliseconds, and their RFC 3339 text form.
//!
//! Kassa stores and compares times as `i64` milliseconds since the Unix epoch (UTC) and only
//! turns them into text at the edges (CLI output, CSV, the UI). The current time is read in one
//! place ([`now_millis`]) and passed into the core, so the core's tests are deterministic.
//! This is not a calendar library: no time zones, no local time.

/// The current time in Unix milliseconds.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `2026-11-21T18:23:01.123Z`: fixed width, so the text sorts like the time.
pub fn format_rfc3339(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses a UTC time given as `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM[:SS[.fffffffff]]Z`
/// (a trailing `Z` or `+00:00` is required for a time of day, so nobody mistakes local time
/// for UTC).
pub fn parse_utc(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a UTC time (use 2026-11-21 or 2026-11-21T18:30:00Z)");
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let num = |s: &str, len: usize| -> Result<i64, String> {
        if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let mut parts = date.split('-');
    let (y, m, d) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d), None) => (num(y, 4)?, num(m, 2)?, num(d, 2)?),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(bad());
    }
    let mut millis = days_from_civil(y, m, d) * 86_400_000;
    if let Some(t) = time {
        let t = t
            .strip_suffix('Z')
            .or_else(|| t.strip_suffix("+00:00"))
            .ok_or_else(bad)?;
        let (hms, frac) = match t.split_once('.') {
            Some((a, f)) => (a, Some(f)),
            None => (t, None),
        };
        let mut f = hms.split(':');
        let h = num(f.next().ok_or_else(bad)?, 2)?;
        let mi = num(f.next().ok_or_else(bad)?, 2)?;
        let s = match f.next() {
            Some(s) => num(s, 2)?,
            None => 0,
        };
        if f.next().is_some() || h > 23 || mi > 59 || s > 59 {
            return Err(bad());
        }
        let ms = match frac {
            None => 0,
            // Providers send up to nanoseconds; Kassa keeps milliseconds (truncated).
            Some(fr) if (1..=9).contains(&fr.len()) => {
                let ms = &fr[..fr.len().min(3)];
                num(fr, fr.len())?;
                num(ms, ms.len())? * 10i64.pow(3 - ms.len() as u32)
            }
            Some(_) => return Err(bad()),
        };
        millis += ((h * 60 + mi) * 60 + s) * 1000 + ms;
    }
    Ok(millis)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses an HTTP date in RFC 9110's preferred form, `Sun, 06 Nov 1994 08:49:37 GMT`, to
/// Unix milliseconds. The obsolete forms are not accepted (servers must send this one).
pub fn parse_http_date(text: &str) -> Option<i64> {
    let rest = text.trim().split_once(", ")?.1;
    let mut p = rest.split(' ');
    let (d, mon, y, t, z) = (p.next()?, p.next()?, p.next()?, p.next()?, p.next()?);
    if z != "GMT" || p.next().is_some() || d.len() != 2 || y.len() != 4 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| *x == mon)? as i64 + 1;
    let (d, y): (i64, i64) = (d.parse().ok()?, y.parse().ok()?);
    let mut hms = t
        .split(':')
        .map(|x| (x.len() == 2).then(|| x.parse::<i64>().ok()).flatten());
    let (h, mi, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || d < 1 || d > days_in_month(y, m) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some((days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000)
}

/// (year, month, day) to days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = 1_795_285_381_123; // 2026-11-21T18:23:01.123Z
        assert_eq!(format_rfc3339(t), "2026-11-21T18:23:01.123Z");
        assert_eq!(parse_utc("2026-11-21T18:23:01.123Z"), Ok(t));
        assert_eq!(parse_utc("2026-11-21T18:23:01.1Z"), Ok(t - 23));
        assert_eq!(parse_utc("2026-11-21T18:23:01.123999Z"), Ok(t));
        assert_eq!(parse_utc("2026-11-21"), Ok(t - 66_181_123));
        assert_eq!(parse_utc("2026-11-21T18:23+00:00"), Ok(t - 1123));
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_utc("2024-02-29"), Ok(19_782 * 86_400_000));
    }

    #[test]
    fn refuses_ambiguous_or_invalid_times() {
        for bad in [
            "2026-11-21T18:23:01",
            "2026-02-30",
            "2026-13-01",
            "21.11.2026",
            "2026-11-21T24:00Z",
            "2026-11-21T18:23:01.1234567890Z",
            "",
            "yesterday",
        ] {
            assert!(parse_utc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_dates() {
        // RFC 9110 §5.6.7's example.
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_http_date("Sat, 21 Nov 2026 18:23:01 GMT").map(format_rfc3339),
            Some("2026-11-21T18:23:01.000Z".into())
        );
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
