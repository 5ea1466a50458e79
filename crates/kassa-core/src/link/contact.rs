//! The customer a payment link is sent to: a phone number (E.164) or an e-mail address,
//! validated before anything is created at a provider, and its masked form, which is all the
//! session log keeps once the sale is over.
//!
//! Not for: sending (the providers' clients do that) or deciding how long the full contact is
//! kept (`store`, see [`crate::store::CONTACT_KEPT_MS`]).

use serde::Serialize;

/// How a link reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated contact. Its `Debug` shows only the masked form, so a contact that ends up in a
/// log line by accident says no more than the session log does.
#[derive(Clone, PartialEq, Eq)]
pub enum Contact {
    /// E.164: `+` and 8 to 15 digits, the first not 0 (`+4791234567`).
    Sms(String),
    /// `local@domain`, the domain in lower case.
    Email(String),
}

impl std::fmt::Debug for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Contact::{:?}({})", self.channel(), self.masked())
    }
}

/// The calling codes whose country Kassa knows (ISO 3166 alpha-2), for providers that want
/// the phone's country beside the number (Klarna's `phone_country`): Klarna's markets.
const CALLING_CODES: &[(&str, &str)] = &[
    ("1", "US"),
    ("30", "GR"),
    ("31", "NL"),
    ("32", "BE"),
    ("33", "FR"),
    ("34", "ES"),
    ("39", "IT"),
    ("40", "RO"),
    ("41", "CH"),
    ("43", "AT"),
    ("44", "GB"),
    ("45", "DK"),
    ("46", "SE"),
    ("47", "NO"),
    ("48", "PL"),
    ("49", "DE"),
    ("61", "AU"),
    ("64", "NZ"),
    ("351", "PT"),
    ("353", "IE"),
    ("354", "IS"),
    ("358", "FI"),
    ("420", "CZ"),
];

impl Contact {
    /// A phone number for SMS. Staff may type spaces or hyphens between digits
    /// (`+47 912 34 567`); the number must start with `+` and its country code: Kassa does
    /// not guess a country for a national number.
    pub fn phone(text: &str) -> Result<Contact, String> {
        let t = text.trim();
        let bad = |why: &str| {
            format!("{t:?} is not a phone number in international form ({why}; e.g. +4791234567)")
        };
        let Some(rest) = t.strip_prefix('+') else {
            return Err(bad("it must start with + and the country code"));
        };
        let mut digits = String::new();
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(bad("only digits, spaces and hyphens may follow the +")),
            }
        }
        if digits.starts_with('0') {
            return Err(bad("a country code never starts with 0"));
        }
        // E.164: at most 15 digits; no country's numbers are shorter than 8 with the code.
        if !(8..=15).contains(&digits.len()) {
            return Err(bad(&format!(
                "{} digits; E.164 numbers have 8 to 15",
                digits.len()
            )));
        }
        // Norway's numbers (the shops' country) are always 8 digits after +47.
        if let Some(national) = digits.strip_prefix("47") {
            if national.len() != 8 {
                return Err(bad("a Norwegian number has 8 digits after +47"));
            }
        }
        Ok(Contact::Sms(format!("+{digits}")))
    }

    /// An e-mail address (ASCII; an international domain in its `xn--` form).
    pub fn email(text: &str) -> Result<Contact, String> {
        let t = text.trim();
        let bad = |why: &str| format!("{t:?} is not an e-mail address ({why})");
        if t.len() > 254 {
            return Err(bad("longer than 254 characters"));
        }
        let Some((local, domain)) = t.rsplit_once('@') else {
            return Err(bad("no @"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(bad("the part before @ must have 1 to 64 characters"));
        }
        let local_ok = local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err(bad("the part before @ has a character mail systems refuse"));
        }
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(bad("the domain must be like example.no"));
        }
        let tld = labels[labels.len() - 1];
        if tld.len() < 2 || tld.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the domain must end in a top-level domain like .no"));
        }
        Ok(Contact::Email(format!("{local}@{domain}")))
    }

    /// Parses a contact as the session log stores it (`sms:+47…` or `email:a@b`).
    pub fn from_stored(text: &str) -> Result<Contact, String> {
        match text.split_once(':') {
            Some(("sms", v)) => Contact::phone(v),
            Some(("email", v)) => Contact::email(v),
            _ => Err("not a stored contact".into()),
        }
    }

    /// The form the session log stores while the link is open (`sms:+4791234567`).
    pub fn stored(&self) -> String {
        format!("{}:{}", self.channel(), self.value())
    }

    pub fn channel(&self) -> Channel {
        match self {
            Contact::Sms(_) => Channel::Sms,
            Contact::Email(_) => Channel::Email,
        }
    }

    /// The number or address itself, for the provider's request only.
    pub fn value(&self) -> &str {
        match self {
            Contact::Sms(v) | Contact::Email(v) => v,
        }
    }

    /// Enough for staff to recognise whom a link went to, not enough to reach them:
    /// `+47******67`, `k***@example.no`.
    pub fn masked(&self) -> String {
        match self {
            Contact::Sms(v) => {
                let code = self.calling_code().map_or(1, str::len);
                let shown_head = 1 + code;
                let tail = 2;
                let hidden = v.len().saturating_sub(shown_head + tail);
                format!(
                    "{}{}{}",
                    &v[..shown_head],
                    "*".repeat(hidden),
                    &v[v.len() - tail..]
                )
            }
            Contact::Email(v) => {
                let (local, domain) = v.rsplit_once('@').unwrap_or((v, ""));
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
        }
    }

    /// The phone's calling code when Kassa knows its country (`47`).
    fn calling_code(&self) -> Option<&'static str> {
        let Contact::Sms(v) = self else { return None };
        CALLING_CODES
            .iter()
            .filter(|(code, _)| v[1..].starts_with(code))
            .max_by_key(|(code, _)| code.len())
            .map(|(code, _)| *code)
    }

    /// The phone's country (ISO 3166 alpha-2) from its calling code, when Kassa knows it.
    pub fn phone_country(&self) -> Option<&'static str> {
        let code = self.calling_code()?;
        CALLING_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, country)| *country)
    }
}

#[cfg(test)]
mod tests {
    use super::{Channel, Contact};

    #[test]
    fn a_phone_number_is_normalised_to_e164_and_a_national_one_is_refused() {
        let c = Contact::phone(" +47 912 34-567 ").unwrap();
        assert_eq!(c.value(), "+4791234567");
        assert_eq!(c.channel(), Channel::Sms);
        assert_eq!(c.phone_country(), Some("NO"));
        assert_eq!(c.masked(), "+47******67");
        assert_eq!(
            Contact::phone("+358401234567").unwrap().phone_country(),
            Some("FI")
        );
        for bad in [
            "91234567",
            "0047 91234567",
            "+47 9123 456",
            "+4791234567x",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "",
        ] {
            assert!(Contact::phone(bad).is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn an_email_address_is_checked_and_its_domain_lowercased() {
        let c = Contact::email(" Kari.Nordmann@Example.NO ").unwrap();
        assert_eq!(c.value(), "Kari.Nordmann@example.no");
        assert_eq!(c.masked(), "K***@example.no");
        for bad in [
            "kari",
            "@example.no",
            "kari@",
            "kari@no",
            "kari@exa mple.no",
            "ka ri@example.no",
            "kari@example.1",
            "kari@-x.no",
            ".kari@example.no",
            "kari..n@example.no",
            "kåre@example.no",
        ] {
            assert!(Contact::email(bad).is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn the_stored_form_reads_back_and_debug_shows_only_the_mask() {
        for c in [
            Contact::phone("+4791234567").unwrap(),
            Contact::email("kari@example.no").unwrap(),
        ] {
            assert_eq!(Contact::from_stored(&c.stored()).unwrap(), c);
            assert!(!format!("{c:?}").contains(&c.value()[3..]));
        }
    }
}
