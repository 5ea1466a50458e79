//! Merchant references generated for orders that arrive without one.
//!
//! The format is `K` + the UTC time to the millisecond + 4 characters of the caller's entropy,
//! e.g. `K20261121T182301123-7F3A`: it sorts by time, is readable at the counter, and fits the
//! providers' reference rules (letters, digits and `-`, at most 64 characters).
//! Time and entropy are passed in so tests are deterministic.

use crate::time::civil_from_days;

/// Formats a reference from Unix milliseconds and 16 bits of entropy.
pub fn generate(unix_millis: u64, entropy: u16) -> String {
    let secs = unix_millis / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "K{y:04}{m:02}{d:02}T{:02}{:02}{:02}{:03}-{entropy:04X}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        unix_millis % 1000
    )
}

/// A reference for now, with entropy from the clock's nanoseconds and the process id.
pub fn generate_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mix = now.subsec_nanos() ^ std::process::id().rotate_left(16);
    generate(now.as_millis() as u64, (mix ^ (mix >> 16)) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_time_and_entropy() {
        // 2026-11-21T18:23:01.123Z
        assert_eq!(
            generate(1_795_285_381_123, 0x7f3a),
            "K20261121T182301123-7F3A"
        );
        assert_eq!(generate(0, 0), "K19700101T000000000-0000");
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn generated_references_are_valid() {
        crate::order::validate_reference(&generate_now()).unwrap();
    }
}
