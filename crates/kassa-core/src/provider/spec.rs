//! What Kassa knows about a provider before it has a client: its setting keys with their
//! validators and defaults, its secret fields, the domains its hosted checkout pages live on,
//! and how to build its client from the settings and the keyring ([`Spec`]). Each provider's
//! own `spec.rs` fills one in; [`super::REGISTRY`] lists them. The settings ([`crate::settings`])
//! validate against these, the till's checkout window navigates by them, the shells build
//! clients with them.
//!
//! Also the validators several providers (and the shop's settings) share.

use super::error::{ErrorKind, ProviderError};
use super::Provider;
use crate::field_code::{FieldCode, Reason};
use crate::http::Http;
use crate::secrets::{CredentialKey, Secret, SecretError, SecretStore};

/// Checks a setting's value; the error says why (a code the UI translates, the English
/// text), without the key.
pub type Validator = fn(&str) -> Result<(), Reason>;

/// One setting of a provider (`<provider>.<key>` in `settings.json`).
#[derive(Debug)]
pub struct Setting {
    pub key: &'static str,
    pub validate: Validator,
    /// Shown by `config get`/`show` and used while the key is not set.
    pub default: Option<&'static str>,
}

impl Setting {
    /// A setting with no default.
    pub const fn new(key: &'static str, validate: Validator) -> Setting {
        Setting {
            key,
            validate,
            default: None,
        }
    }

    /// A setting with a default.
    pub const fn or(key: &'static str, validate: Validator, default: &'static str) -> Setting {
        Setting {
            key,
            validate,
            default: Some(default),
        }
    }
}

/// Settings every provider has. `capture`: what a payment does when authorized (`at_sale`,
/// the default: capture the full amount at once, a counter sale hands the goods over; `manual`:
/// leave it authorized for staff to capture later), see [`super::CapturePolicy`].
pub const COMMON: &[Setting] = &[
    Setting::new("base_url", valid_base_url),
    Setting::or("profile", valid_profile, "test"),
    Setting::or("capture", valid_capture, "at_sale"),
];

/// Reads the shop's settings by full key (`dintero.account_id`, `shop.locale`), defaults
/// applied; `None` for a key with neither. [`crate::settings::Settings`] is the real one.
pub trait SettingValues {
    fn value(&self, key: &str) -> Option<String>;
}

/// Everything Kassa knows about one provider without a client.
pub struct Spec {
    /// The name in settings, the keyring and the session log.
    pub name: &'static str,
    /// The name people know it by, as receipts print the means of payment.
    pub title: &'static str,
    /// The provider's own settings (the [`COMMON`] ones come on top).
    pub settings: &'static [Setting],
    /// Credential fields, kept only in the OS keyring.
    pub secrets: &'static [&'static str],
    /// The domains its hosted checkout pages live on: the embedded checkout window may follow
    /// the page to https pages there ([`crate::till::navigation`]).
    pub checkout_domains: &'static [&'static str],
    /// The SAF-T Cash Register payment type of its payments (PredefinedBasicID-12), which the
    /// journal records with each sale and return: what instrument the customer's money moved
    /// through, as an auditor reconciles it against the provider's settlements.
    pub payment_type: &'static str,
    /// Checks a new value of setting `key` against the provider's other settings (`values`,
    /// as they are before the change); the error says why.
    pub agrees: fn(key: &str, value: &str, values: &dyn SettingValues) -> Result<(), Reason>,
    /// Builds the client from the settings and the keyring.
    pub build: fn(&Setup) -> Result<Box<dyn Provider>, ProviderError>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec").field("name", &self.name).finish()
    }
}

impl Spec {
    /// Setting keys without the provider prefix, common ones included.
    pub fn setting_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.settings.iter().chain(COMMON).map(|s| s.key)
    }

    /// One of the provider's settings (common ones included), by key without the prefix.
    pub fn setting(&self, key: &str) -> Option<&'static Setting> {
        self.settings.iter().chain(COMMON).find(|s| s.key == key)
    }
}

/// For specs whose settings need no agreement with each other.
pub fn independent(_key: &str, _value: &str, _values: &dyn SettingValues) -> Result<(), Reason> {
    Ok(())
}

/// What a [`Spec::build`] reads: the provider's settings, the shop's, the keyring, and the
/// shared HTTP client.
pub struct Setup<'a> {
    pub name: &'static str,
    /// `test` or `live`.
    pub profile: String,
    pub values: &'a dyn SettingValues,
    pub secrets: &'a dyn SecretStore,
    pub http: &'a Http,
}

impl Setup<'_> {
    /// A setup problem (a missing or wrong setting or credential).
    pub fn config(&self, message: String) -> ProviderError {
        ProviderError::new(self.name, ErrorKind::Config(message))
    }

    /// The provider's setting `key` (without the prefix), or its default.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.values.value(&format!("{}.{key}", self.name))
    }

    /// A setting the client cannot do without.
    pub fn required(&self, key: &str) -> Result<String, ProviderError> {
        let name = self.name;
        self.setting(key).ok_or_else(|| {
            self.config(format!(
                "{name}.{key} is not set (kassa-cli config set {name}.{key} …)"
            ))
        })
    }

    /// A shop setting (`shop.locale`), or its default; empty when it has neither.
    pub fn shop(&self, key: &str) -> String {
        self.values.value(key).unwrap_or_default()
    }

    /// A credential of this provider and profile from the keyring.
    pub fn secret(&self, field: &str) -> Result<Secret, ProviderError> {
        self.secrets
            .get(&CredentialKey::new(self.name, &self.profile, field))
            .map_err(|e| match e {
                // A credential never set is a setup problem like a missing setting; a keyring
                // that is absent, locked or refusing is a system problem.
                SecretError::Missing(_) => self.config(e.to_string()),
                _ => ProviderError::new(self.name, ErrorKind::Credentials(e.to_string())),
            })
    }
}

// ---- validators several providers share ---------------------------------------------------

/// `at_sale` or `manual`.
pub fn valid_capture(v: &str) -> Result<(), Reason> {
    super::CapturePolicy::parse(v)
        .map(|_| ())
        .map_err(|r| Reason::new(FieldCode::NotOneOf, r).var("allowed", "at_sale, manual"))
}

/// `test` or `live`.
pub fn valid_profile(v: &str) -> Result<(), Reason> {
    match v {
        "test" | "live" => Ok(()),
        _ => Err(Reason::new(
            FieldCode::NotOneOf,
            format!("{v:?} is not a profile (test or live)"),
        )
        .var("allowed", "test, live")),
    }
}

/// `https://` URLs, or `http://` to a loopback address (the sandbox). A path prefix is allowed;
/// query and fragment are not.
pub fn valid_base_url(v: &str) -> Result<(), Reason> {
    let rest = if let Some(r) = v.strip_prefix("https://") {
        r
    } else if let Some(r) = v.strip_prefix("http://") {
        let host = r.split(['/', ':']).next().unwrap_or("");
        let host = if r.starts_with('[') {
            r.split(']').next().unwrap_or("").trim_start_matches('[')
        } else {
            host
        };
        let loopback = host == "localhost"
            || host == "::1"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(Reason::new(
                FieldCode::UrlNeedsHttps,
                format!(
                    "{v} must use https:// (plain http is allowed only for loopback addresses)"
                ),
            ));
        }
        r
    } else {
        return Err(Reason::new(
            FieldCode::UrlNotHttp,
            format!("{v} is not an http(s) URL"),
        ));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Reason::new(
            FieldCode::UrlMalformed,
            format!("{v} has no host"),
        ));
    }
    if rest.contains(['?', '#', ' ']) || v.chars().any(char::is_control) {
        return Err(Reason::new(
            FieldCode::UrlMalformed,
            format!("{v} must be a base URL without spaces, query or fragment"),
        ));
    }
    Ok(())
}

pub fn valid_bool(v: &str) -> Result<(), Reason> {
    one_of(v, &["true", "false"])
}

/// One of a fixed list of values.
pub fn one_of(v: &str, allowed: &[&str]) -> Result<(), Reason> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        let list = allowed.join(", ");
        Err(
            Reason::new(FieldCode::NotOneOf, format!("{v:?} is not one of: {list}"))
                .var("allowed", list),
        )
    }
}

/// An identifier: letters, digits and `-_:.`, 1–128 characters.
pub fn valid_token(v: &str) -> Result<(), Reason> {
    let ok = (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Reason::new(
            FieldCode::Identifier,
            format!("{v:?} is not an identifier (letters, digits, '-', '_', ':', '.')"),
        ))
    }
}
