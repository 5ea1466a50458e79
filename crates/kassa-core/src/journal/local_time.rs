//! The till's local date and time of an entry, as the signature and SAF-T write them
//! (`YYYY-MM-DD`, `HH:MM:SS`, no zone).
//!
//! Taken once, when the entry is written, from the till's system time zone, and stored: never
//! recomputed from the UTC time later, because a change of the time zone database (or of the
//! till's zone) would then change signed text. At the autumn change of daylight saving time
//! the local time goes back an hour; the chain orders by number, never by time.

/// A time zone: the till's own ([`Zone::system`]) or a named one (tests, a shop that sets it).
#[derive(Debug, Clone, PartialEq)]
pub struct Zone(jiff::tz::TimeZone);

impl Zone {
    /// The till's system time zone (`TZ`, else `/etc/localtime` on Linux); UTC when it cannot
    /// be found (logged), so a journal entry is never lost for a missing zone.
    pub fn system() -> Zone {
        match jiff::tz::TimeZone::try_system() {
            Ok(tz) => Zone(tz),
            Err(e) => {
                log::warn!(target: "kassa::journal", "no system time zone ({e}); the journal uses UTC");
                Zone(jiff::tz::TimeZone::UTC)
            }
        }
    }

    /// A zone of the IANA database, e.g. `Europe/Oslo`.
    pub fn named(name: &str) -> Result<Zone, String> {
        jiff::tz::TimeZone::get(name)
            .map(Zone)
            .map_err(|e| format!("{name:?} is not a known time zone ({e})"))
    }

    /// The local date and time of `at_ms` (Unix milliseconds), to the second.
    pub fn stamp(&self, at_ms: i64) -> LocalStamp {
        let ts = jiff::Timestamp::from_millisecond(at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let z = ts.to_zoned(self.0.clone());
        LocalStamp {
            date: z.strftime("%Y-%m-%d").to_string(),
            time: z.strftime("%H:%M:%S").to_string(),
        }
    }
}

/// A local date (`YYYY-MM-DD`) and time (`HH:MM:SS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalStamp {
    pub date: String,
    pub time: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oslo_time_summer_and_winter_and_the_hour_that_repeats() {
        let oslo = Zone::named("Europe/Oslo").unwrap();
        // 2026-03-02T09:15:30Z: winter, UTC+1.
        let s = oslo.stamp(1_772_442_930_000);
        assert_eq!(
            (s.date.as_str(), s.time.as_str()),
            ("2026-03-02", "10:15:30")
        );
        // 2026-07-01T22:30:00Z: summer, UTC+2, already the next day locally.
        let s = oslo.stamp(1_782_945_000_000);
        assert_eq!(
            (s.date.as_str(), s.time.as_str()),
            ("2026-07-02", "00:30:00")
        );
        // 2026-10-25: 00:30Z and 01:30Z are both 02:30 local.
        let a = oslo.stamp(1_792_888_200_000);
        let b = oslo.stamp(1_792_891_800_000);
        assert_eq!(a, b);
        assert_eq!(a.time, "02:30:00");
        assert!(Zone::named("Mars/Olympus").is_err());
    }

    #[test]
    fn utc_and_milliseconds_are_cut_to_the_second() {
        let utc = Zone::named("UTC").unwrap();
        let s = utc.stamp(1_772_442_930_999);
        assert_eq!(
            (s.date.as_str(), s.time.as_str()),
            ("2026-03-02", "09:15:30")
        );
    }
}
