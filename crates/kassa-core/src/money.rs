//! Money: currencies, integer minor units, the one rounding rule, and display formatting.
//!
//! Every amount in Kassa is an `i64` count of the currency's minor unit (øre, cent, fils, yen).
//! Floats never hold money. Products and quotients are computed in `i128` and rounded exactly
//! once, **half away from zero**, by [`div_round`]. Amounts are limited to
//! [`MAX_AMOUNT`] (10^12 minor units) so that every intermediate product fits with room to spare;
//! going past it is an error, never a wrap.
//!
//! This module does not know about orders or VAT; see [`crate::quote`] for the pricing rules.

use std::fmt;

/// The largest amount Kassa accepts anywhere (a unit price, a line, a total): 10^12 minor units.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An ISO 4217 currency with its number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    digits: u8,
}

/// ISO 4217 active codes with their minor-unit digits (ISO's "List one"). Codes without a minor
/// unit (precious metals, SDR, test and "no currency" codes) are left out: nobody pays in them
/// at a counter.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// Looks up an ISO 4217 code (upper case, as ISO writes it).
    pub fn from_code(code: &str) -> Option<Currency> {
        ISO_4217
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .ok()
            .map(|i| Currency {
                code: ISO_4217[i].0,
                digits: ISO_4217[i].1,
            })
    }

    /// The three-letter code, e.g. `"NOK"`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point of the major unit: 2 for NOK, 0 for JPY, 3 for KWD.
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// 10^digits: minor units per major unit.
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(u32::from(self.digits))
    }

    /// Formats minor units as a plain major-unit decimal with a dot, e.g. `29990` NOK → `"299.90"`.
    /// Exact: done on the integer digits, no division into a float.
    pub fn format_plain(&self, minor: i64) -> String {
        let digits = usize::from(self.digits);
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs().to_string();
        if digits == 0 {
            return format!("{sign}{abs}");
        }
        let padded = format!("{abs:0>width$}", width = digits + 1);
        let (int, frac) = padded.split_at(padded.len() - digits);
        format!("{sign}{int}.{frac}")
    }

    /// Formats minor units for people in a locale: `nb` and `sv` give `1 299,90 kr` for NOK
    /// and SEK, `da` gives `1.299,90 kr.` for DKK (and the code after the number for other
    /// currencies); anything else gives `NOK 1,299.90`.
    pub fn format_display(&self, minor: i64, locale: &str) -> String {
        let number = self.format_number(minor, locale);
        match (Nordic::of(locale), self.code) {
            (Some(Nordic::Danish), "DKK") => format!("{number}\u{a0}kr."),
            (Some(_), "NOK" | "SEK" | "DKK") => format!("{number}\u{a0}kr"),
            (Some(_), code) => format!("{number}\u{a0}{code}"),
            (None, code) => format!("{code}\u{a0}{number}"),
        }
    }

    /// The number of [`format_display`](Self::format_display) without the currency: `nb` and
    /// `sv` give `1 299,90` (a no-break space between thousands), `da` `1.299,90`, anything
    /// else `1,299.90`. Every minor digit is always shown (øre on a Norwegian receipt), and
    /// nothing is rounded.
    pub fn format_number(&self, minor: i64, locale: &str) -> String {
        let plain = self.format_plain(minor);
        let (sign, rest) = match plain.strip_prefix('-') {
            Some(r) => ("-", r),
            None => ("", plain.as_str()),
        };
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        let nordic = Nordic::of(locale);
        let group = match nordic {
            Some(Nordic::Danish) => '.',
            Some(_) => '\u{a0}',
            None => ',',
        };
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(group);
            }
            grouped.push(ch);
        }
        match frac {
            Some(f) if nordic.is_some() => format!("{sign}{grouped},{f}"),
            Some(f) => format!("{sign}{grouped}.{f}"),
            None => format!("{sign}{grouped}"),
        }
    }

    /// An amount to put back into an input field: [`format_plain`](Self::format_plain) with
    /// the locale's decimal separator (`1299,90` in nb, sv and da) and no grouping, so staff see
    /// what they would type and it parses back as typed.
    pub fn format_input(&self, minor: i64, locale: &str) -> String {
        let plain = self.format_plain(minor);
        if Nordic::of(locale).is_some() {
            plain.replace('.', ",")
        } else {
            plain
        }
    }

    /// Parses an amount typed by a person in major units (`"299.90"`, `"299,90"`, `"1 299"`)
    /// into minor units. More fraction digits than the currency has is an error, not a rounding.
    pub fn parse_major(&self, text: &str) -> Result<i64, String> {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
            .collect();
        let cleaned = cleaned.replace(',', ".");
        if cleaned.is_empty() {
            return Err("is empty".into());
        }
        let dec = Decimal::parse(&cleaned).ok_or_else(|| format!("{text:?} is not an amount"))?;
        if dec.negative {
            return Err(format!("{text:?} is negative"));
        }
        if dec.scale > u32::from(self.digits) {
            return Err(format!(
                "{text:?} has more than {} decimals for {}",
                self.digits, self.code
            ));
        }
        let factor = 10_i128.pow(u32::from(self.digits) - dec.scale);
        let minor = dec
            .units
            .checked_mul(factor)
            .filter(|m| *m <= i128::from(MAX_AMOUNT));
        minor
            .and_then(|m| i64::try_from(m).ok())
            .ok_or_else(|| format!("{text:?} is above the maximum amount"))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// `num / den` rounded half away from zero. `den` must be positive.
///
/// This is the only rounding in Kassa's pricing: every rounded figure goes through here.
pub fn div_round(num: i128, den: i128) -> i128 {
    debug_assert!(den > 0, "div_round needs a positive denominator");
    let q = num / den;
    let r = num % den;
    // |r| * 2 >= den  <=>  the dropped fraction is at least one half.
    if r.abs() * 2 >= den {
        q + num.signum()
    } else {
        q
    }
}

/// An exact decimal number as written: `units × 10^-scale`, e.g. `0.350` → units 350, scale 3.
///
/// Used for quantities and VAT rates, which come as JSON numbers or strings and must never
/// pass through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub negative: bool,
    /// Absolute value in units of 10^-scale.
    pub units: i128,
    pub scale: u32,
}

impl Decimal {
    /// Parses the JSON number grammar (`-?digits(.digits)?([eE][+-]?digits)?`), exactly.
    /// Returns `None` for anything else, and for numbers too large to be a price or quantity.
    pub fn parse(text: &str) -> Option<Decimal> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = bytes.first() == Some(&b'-');
        if negative {
            i += 1;
        }
        let int_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = &text[int_start..i];
        if int_digits.is_empty() || int_digits.len() > 24 {
            return None;
        }
        let mut frac_digits = "";
        if i < bytes.len() && bytes[i] == b'.' {
            let start = i + 1;
            i = start;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac_digits = &text[start..i];
            if frac_digits.is_empty() || frac_digits.len() > 24 {
                return None;
            }
        }
        let mut exp: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let exp_neg = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &text[start..i];
            if digits.is_empty() || digits.len() > 3 {
                return None;
            }
            exp = digits.parse::<i64>().ok()?;
            if exp_neg {
                exp = -exp;
            }
        }
        if i != bytes.len() {
            return None;
        }
        let mut units: i128 = format!("{int_digits}{frac_digits}").parse().ok()?;
        let mut scale = i64::try_from(frac_digits.len()).ok()? - exp;
        while scale < 0 {
            units = units.checked_mul(10)?;
            scale += 1;
        }
        // Drop trailing zeros so "0.350" and "0.35" compare equal and the scale is minimal.
        while scale > 0 && units % 10 == 0 {
            units /= 10;
            scale -= 1;
        }
        if units > 10_i128.pow(30) {
            return None;
        }
        Some(Decimal {
            negative: negative && units != 0,
            units,
            scale: u32::try_from(scale).ok()?,
        })
    }

    /// The value in units of 10^-`scale`, if it has at most that many fraction digits.
    pub fn scaled_to(&self, scale: u32) -> Option<i128> {
        if self.scale > scale {
            return None;
        }
        let v = self
            .units
            .checked_mul(10_i128.checked_pow(scale - self.scale)?)?;
        Some(if self.negative { -v } else { v })
    }
}

/// Writes `units × 10^-scale` as the canonical decimal string: no trailing zeros, no exponent
/// (`350, 3` → `"0.35"`, `2500, 2` → `"25"`).
pub fn canonical_decimal(units: i128, scale: u32) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let digits = units.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{digits:0>width$}", width = scale + 1)
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// The Nordic locales Kassa formats amounts for (decimal comma).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nordic {
    /// nb (and no, nn), sv: `1 299,90`.
    SpaceGrouped,
    /// da: `1.299,90`.
    Danish,
}

impl Nordic {
    fn of(locale: &str) -> Option<Nordic> {
        let lang = locale.split(['-', '_']).next().unwrap_or("");
        match lang {
            "nb" | "no" | "nn" | "sv" => Some(Nordic::SpaceGrouped),
            "da" => Some(Nordic::Danish),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(4, 10), 0);
        assert_eq!(div_round(15, 10), 2);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(-4, 10), 0);
        assert_eq!(div_round(-15, 10), -2);
        assert_eq!(div_round(2, 3), 1);
        assert_eq!(div_round(1, 3), 0);
    }

    #[test]
    fn currency_table_is_sorted_and_knows_the_exponents() {
        assert!(
            ISO_4217.windows(2).all(|w| w[0].0 < w[1].0),
            "table must stay sorted"
        );
        assert_eq!(Currency::from_code("NOK").unwrap().digits(), 2);
        assert_eq!(Currency::from_code("JPY").unwrap().digits(), 0);
        assert_eq!(Currency::from_code("KWD").unwrap().digits(), 3);
        assert_eq!(Currency::from_code("BHD").unwrap().digits(), 3);
        assert_eq!(Currency::from_code("USD").unwrap().minor_per_major(), 100);
        assert!(Currency::from_code("nok").is_none());
        assert!(Currency::from_code("XAU").is_none());
        assert!(Currency::from_code("ABC").is_none());
    }

    #[test]
    fn formats_exactly() {
        let nok = Currency::from_code("NOK").unwrap();
        assert_eq!(nok.format_plain(29990), "299.90");
        assert_eq!(nok.format_plain(5), "0.05");
        assert_eq!(nok.format_plain(-5), "-0.05");
        assert_eq!(
            Currency::from_code("JPY").unwrap().format_plain(1200),
            "1200"
        );
        assert_eq!(
            Currency::from_code("KWD").unwrap().format_plain(1234),
            "1.234"
        );
        assert_eq!(nok.format_display(129990, "nb"), "1\u{a0}299,90\u{a0}kr");
        assert_eq!(nok.format_display(129990, "en"), "NOK\u{a0}1,299.90");
        assert_eq!(nok.format_display(99, "en"), "NOK\u{a0}0.99");
        assert_eq!(
            nok.format_number(-123456789, "nb"),
            "-1\u{a0}234\u{a0}567,89"
        );
        assert_eq!(nok.format_number(100, "nb"), "1,00");
    }

    #[test]
    fn parses_typed_amounts() {
        let nok = Currency::from_code("NOK").unwrap();
        assert_eq!(nok.parse_major("299.90"), Ok(29990));
        assert_eq!(nok.parse_major("299,9"), Ok(29990));
        assert_eq!(nok.parse_major("1 299"), Ok(129900));
        assert!(nok.parse_major("1.999").is_err());
        assert!(nok.parse_major("-1").is_err());
        assert!(nok.parse_major("abc").is_err());
        assert!(nok.parse_major("").is_err());
        assert_eq!(
            Currency::from_code("JPY").unwrap().parse_major("1200"),
            Ok(1200)
        );
        assert!(Currency::from_code("JPY")
            .unwrap()
            .parse_major("12.5")
            .is_err());
    }

    #[test]
    fn decimals_are_exact() {
        let d = Decimal::parse("0.350").unwrap();
        assert_eq!((d.units, d.scale), (35, 2));
        assert_eq!(d.scaled_to(3), Some(350));
        assert_eq!(Decimal::parse("1e2").unwrap().scaled_to(0), Some(100));
        assert_eq!(Decimal::parse("2.5E-1").unwrap().scaled_to(3), Some(250));
        assert_eq!(Decimal::parse("11.11").unwrap().scaled_to(2), Some(1111));
        assert_eq!(Decimal::parse("0.0001").unwrap().scaled_to(3), None);
        for bad in ["", "-", "1.", ".5", "01x", "1e", "+1", " 1", "1,5", "NaN"] {
            assert_eq!(Decimal::parse(bad), None, "{bad:?}");
        }
        assert_eq!(canonical_decimal(2500, 2), "25");
        let dkk = Currency::from_code("DKK").unwrap();
        let sek = Currency::from_code("SEK").unwrap();
        assert_eq!(dkk.format_display(129_990, "da"), "1.299,90\u{a0}kr.");
        assert_eq!(sek.format_display(129_990, "sv"), "1\u{a0}299,90\u{a0}kr");
        assert_eq!(sek.format_input(129_990, "sv"), "1299,90");
        assert_eq!(sek.format_input(129_990, "en"), "1299.90");
        assert_eq!(
            sek.parse_major(&sek.format_input(129_990, "da")),
            Ok(129_990)
        );
        assert_eq!(canonical_decimal(1111, 2), "11.11");
        assert_eq!(canonical_decimal(350, 3), "0.35");
        assert_eq!(canonical_decimal(0, 2), "0");
    }
}
