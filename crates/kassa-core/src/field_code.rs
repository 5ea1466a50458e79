//! [`FieldCode`]: the stable code of each way a value typed into a field can be refused (a
//! setting, an operator's name or PIN), and [`Reason`]: that code, the values its text names,
//! and the English text. The CLI prints the text; the desktop shows the UI's own words for the
//! code beside the field (`ui/i18n.js`, `why.<code>`, in every language: the app's contract
//! tests enforce it), so a Swedish shop reads Swedish. The English text keeps the details a
//! developer or a script wants (the value, the example).
//!
//! The rule is [`crate::code::Code`]'s: a variant only when a validator returns it, its text in
//! all four languages in the same change, and the wire strings never change.

use std::collections::BTreeMap;

crate::code::stable_codes! {
/// Why a field's value was refused. Serialized as its snake_case name.
FieldCode {
    // ---- which setting ----
    /// No such setting (`{known}`: the group's keys, when the group is known).
    UnknownSetting = "unknown_setting",
    /// A secret given as a setting: it belongs in the keyring.
    SecretSetting = "secret_setting",
    // ---- shared shapes ----
    /// Not one of a fixed list (`{allowed}`).
    NotOneOf = "not_one_of",
    /// Text too long, empty or with control characters (`{max}` characters).
    TextLength = "text_length",
    /// Not a whole number above zero.
    PositiveNumber = "positive_number",
    /// Not an identifier (letters, digits, `-_:.`).
    Identifier = "identifier",
    /// A base URL that is not http(s).
    UrlNotHttp = "url_not_http",
    /// Plain http to a host that is not this machine.
    UrlNeedsHttps = "url_needs_https",
    /// A URL without a host, or with a query, fragment or space.
    UrlMalformed = "url_malformed",
    // ---- the shop ----
    /// Not an ISO 4217 currency code.
    Currency = "currency",
    /// Not a comma-separated list of VAT rates.
    VatRates = "vat_rates",
    /// A VAT rate that is not a percent from 0 to 100 with at most two decimals.
    VatRate = "vat_rate",
    /// `MVA` written after the organisation number.
    OrgNumberMva = "org_number_mva",
    /// Not 9 digits.
    OrgNumberForm = "org_number_form",
    /// 9 digits whose check digit is wrong (a typo).
    OrgNumberCheck = "org_number_check",
    /// More address lines than `{max}`.
    AddressLines = "address_lines",
    /// An empty address line.
    AddressEmptyLine = "address_empty_line",
    /// An address line over `{max}` characters.
    AddressLineLong = "address_line_long",
    /// Not a register id (1 to `{max}` letters, digits or `-`).
    RegisterId = "register_id",
    /// Not a provider Kassa knows.
    Provider = "provider",
    /// A counter sale's lifetime outside `{min}`–`{max}` minutes.
    CounterMinutes = "counter_minutes",
    // ---- this till ----
    /// Not a printer address Kassa can print to.
    PrinterUrl = "printer_url",
    /// Printer columns outside `{min}`–`{max}`.
    PrinterColumns = "printer_columns",
    /// Not `postgres://user@host:port/database`.
    HubUrlForm = "hub_url_form",
    /// A password inside the hub's URL.
    HubUrlPassword = "hub_url_password",
    /// Plaintext (`sslmode=disable`) to a hub elsewhere than this machine (`{host}`).
    HubUrlNotLoopback = "hub_url_not_loopback",
    /// An `sslmode` Kassa does not take (`{mode}`: `allow`, `prefer` or unknown).
    HubUrlSslmode = "hub_url_sslmode",
    /// `hub.ca_file` that is not an absolute path.
    HubCaFile = "hub_ca_file",
    // ---- providers ----
    /// Not a Dintero account id (T or P and 8 digits).
    DinteroAccount = "dintero_account",
    /// A Dintero account id of the other profile (test T…, live P…).
    DinteroProfileMismatch = "dintero_profile_mismatch",
    /// Not a two-letter country code.
    CountryCode = "country_code",
    /// Not a Commerce Layer organization slug.
    Slug = "slug",
    /// Not an Opencharge OCID.
    Ocid = "ocid",
    /// Not a Bambora merchant number.
    MerchantNumber = "merchant_number",
    // ---- operators ----
    /// A PIN that is not 4 to 16 digits.
    Pin = "pin",
    /// The PIN typed twice differs.
    PinsDiffer = "pins_differ",
    /// An operator id out of range (`{max}`).
    OperatorId = "operator_id",
}
}

/// Why a value was refused: its [`FieldCode`], the values its translated text names, and the
/// English text. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: FieldCode,
    pub vars: BTreeMap<String, String>,
    pub text: String,
}

impl Reason {
    pub fn new(code: FieldCode, text: impl Into<String>) -> Reason {
        Reason {
            code,
            vars: BTreeMap::new(),
            text: text.into(),
        }
    }

    /// Adds a value the translated text names as `{name}`.
    pub fn var(mut self, name: &str, value: impl ToString) -> Reason {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_are_the_variants_in_snake_case_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in FieldCode::ALL {
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert!(seen.insert(c.as_str()), "{c:?} twice");
        }
    }
}
