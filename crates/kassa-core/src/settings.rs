//! Kassa's non-secret settings: per-provider account details, the shop, the default provider,
//! this register and its receipt printer.
//!
//! Settings are flat `section.key` pairs (`dintero.account_id`, `shop.name`) kept in
//! `settings.json` in the data directory, validated on every write, written atomically (temp
//! file + rename) so a crash never leaves half a file. Secrets are **not** settings: each
//! provider's secret fields are listed in its [`Spec::secrets`](crate::provider::spec::Spec::secrets) and live only in the OS
//! keyring ([`crate::secrets`]); a secret field name given to `set` is refused.
//!
//! The shop's keys are here; each provider's keys, validators and defaults are in its spec
//! (`provider/<name>/spec.rs`), found through [`crate::provider::REGISTRY`]. Where a
//! provider's facts are UNCONFIRMED in our notes, the validation is the permissive reading and
//! says so in its comment, so it is easy to tighten.

use crate::field_code::{FieldCode, Reason};
use crate::provider::spec::{
    one_of, valid_base_url, valid_bool, valid_profile, SettingValues, Validator,
};
use crate::provider::{names as provider_names, spec as provider, CapturePolicy, REGISTRY};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The settings file's name inside the data directory.
pub const FILE_NAME: &str = "settings.json";

/// Shop-wide settings.
const SHOP: &[(&str, Validator)] = &[
    ("shop.name", valid_name),
    ("shop.currency", valid_currency),
    ("shop.vat_rates", valid_vat_rates),
    ("shop.prices_include_vat", valid_bool),
    ("shop.locale", valid_locale),
    ("shop.return_url", valid_base_url),
    // How long a counter sale's checkout stays payable (a link sale chooses its own).
    ("shop.counter_link_minutes", valid_counter_minutes),
    ("default_provider", valid_default_provider),
    // What a receipt must say about the seller (Norway: name, address, organisation number
    // and "MVA" when VAT-registered; see `receipt`).
    ("shop.org_number", valid_org_number),
    ("shop.address", valid_address),
    ("shop.vat_registered", valid_bool),
    // This till: its id on receipts and in the journal (SAF-T `registerID`), its printer.
    ("register.id", valid_register_id),
    ("printer.url", valid_printer_url),
    ("printer.columns", valid_printer_columns),
    // The shop's hub (several tills, `kassa-hub`): where this till pushes its records.
    ("hub.url", valid_hub_url),
    // The shop's own CA (PEM), trusted for the hub's certificate besides the platform's roots.
    ("hub.ca_file", valid_ca_file),
];

/// Secrets that belong to no provider: the hub's password (`kassa-cli credentials set hub
/// password`), in the keyring as `hub/shop/password`.
pub const OTHER_SECRETS: &[(&str, &str)] = &[("hub", "password")];

/// What separates the lines of `shop.address` (one line in a shell argument or an input).
pub const ADDRESS_LINE_SEPARATOR: char = '|';
const MAX_ADDRESS_LINES: usize = 4;
const MAX_ADDRESS_LINE: usize = 60;
/// SAF-T's `IdentificationString35`, which also keeps it short on paper.
const MAX_REGISTER_ID: usize = 35;
/// The printer widths Kassa lays receipts out for: 32 (58 mm paper) to 64 columns.
pub const PRINTER_COLUMNS: std::ops::RangeInclusive<usize> = 32..=64;

/// Defaults shown by `config get`/`show` for keys that were never set: the shop's here, a
/// provider's in its spec.
fn default_for(key: &str) -> Option<&'static str> {
    Some(match key {
        "shop.name" => "Kassa",
        "shop.currency" => "NOK",
        "shop.vat_rates" => "25,15,12,0",
        "shop.prices_include_vat" => "true",
        "shop.locale" => "nb",
        "shop.counter_link_minutes" => "15",
        "default_provider" => "demo",
        "shop.vat_registered" => "true",
        "register.id" => "1",
        // Font A on 80 mm paper (576 dots / 12): the common thermal receipt printer.
        "printer.columns" => "48",
        _ => {
            let (name, field) = key.split_once('.')?;
            return provider(name)?.setting(field)?.default;
        }
    })
}

/// The shop's settings as the counter uses them (defaults filled in).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShopSettings {
    pub shop_name: String,
    pub currency: String,
    pub locale: String,
    pub prices_include_vat: bool,
    /// Canonical percent strings, in the configured order; the first is the default rate.
    pub vat_rates: Vec<String>,
    pub default_vat_rate: String,
    pub default_provider: String,
}

impl ShopSettings {
    pub fn from_settings(s: &Settings) -> ShopSettings {
        // Every value was validated on write, so the fallbacks only cover impossible states.
        let get = |k: &str| s.get(k).ok().flatten().unwrap_or_default();
        let vat_rates: Vec<String> = get("shop.vat_rates")
            .split(',')
            .filter_map(|r| crate::order::VatRate::parse_percent(r.trim()).ok())
            .map(|r| r.to_percent_string())
            .collect();
        ShopSettings {
            shop_name: get("shop.name"),
            currency: get("shop.currency"),
            locale: get("shop.locale"),
            prices_include_vat: get("shop.prices_include_vat") != "false",
            default_vat_rate: vat_rates.first().cloned().unwrap_or_else(|| "0".into()),
            vat_rates,
            default_provider: get("default_provider"),
        }
    }
}

/// Why a setting could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A bad key or value; the message names the key.
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: Reason },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid settings file ({detail}); fix or remove it (it holds no secrets)"
    )]
    Corrupt { path: PathBuf, detail: String },
}

fn invalid(key: &str, reason: Reason) -> SettingsError {
    SettingsError::Invalid {
        key: key.to_string(),
        reason,
    }
}

/// The settings of one data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl Settings {
    /// Loads `settings.json` from `dir`; a missing file is empty settings.
    pub fn load(dir: &Path) -> Result<Settings, SettingsError> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(source) => {
                return Err(SettingsError::Io {
                    action: "read",
                    path,
                    source,
                })
            }
        };
        let values: BTreeMap<String, String> =
            serde_json::from_str(&text).map_err(|e| SettingsError::Corrupt {
                path: path.clone(),
                detail: e.to_string(),
            })?;
        let mut settings = Settings::default();
        for (key, value) in values {
            // A file edited by hand gets the same validation as `config set`.
            settings
                .set(&key, &value)
                .map_err(|e| SettingsError::Corrupt {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
        }
        Ok(settings)
    }

    /// Writes the settings to `dir/settings.json` atomically.
    pub fn save(&self, dir: &Path) -> Result<(), SettingsError> {
        let path = dir.join(FILE_NAME);
        let tmp = dir.join(format!(".{FILE_NAME}.tmp"));
        let text = serde_json::to_string_pretty(&self.values).unwrap_or_default() + "\n";
        let io = |action, source| SettingsError::Io {
            action,
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io("create the directory of", e))?;
        std::fs::write(&tmp, text).map_err(|e| io("write", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io("replace", e))
    }

    /// Sets a key after validating it (and its agreement with related keys).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        let validator = validator(key)?;
        validator(value).map_err(|reason| invalid(key, reason))?;
        self.check_related(key, value)?;
        self.values.insert(key.to_string(), value.to_string());
        Ok(())
    }

    /// Removes a key, so its default applies again.
    pub fn unset(&mut self, key: &str) -> Result<(), SettingsError> {
        validator(key)?;
        self.values.remove(key);
        Ok(())
    }

    /// The value of a key, or its default. `Ok(None)` for a valid key with neither.
    pub fn get(&self, key: &str) -> Result<Option<String>, SettingsError> {
        validator(key)?;
        Ok(self
            .values
            .get(key)
            .cloned()
            .or_else(|| default_for(key).map(str::to_string)))
    }

    /// Every known key with its value (`None` when unset with no default), and whether it is
    /// explicitly set.
    pub fn all(&self) -> Vec<(String, Option<String>, bool)> {
        let mut keys: Vec<String> = SHOP.iter().map(|(k, _)| k.to_string()).collect();
        for p in REGISTRY {
            keys.extend(p.setting_keys().map(|k| format!("{}.{k}", p.name)));
        }
        keys.into_iter()
            .map(|k| {
                let set = self.values.contains_key(&k);
                let v = self.get(&k).ok().flatten();
                (k, v, set)
            })
            .collect()
    }

    /// A provider's profile (`test` or `live`).
    pub fn profile(&self, provider: &str) -> String {
        self.get(&format!("{provider}.profile"))
            .ok()
            .flatten()
            .unwrap_or_else(|| "test".into())
    }

    /// What a provider's payments do when authorized (`<provider>.capture`, default
    /// `at_sale`). The demo provider has no settings: it captures at sale.
    pub fn capture_policy(&self, provider: &str) -> CapturePolicy {
        self.get(&format!("{provider}.capture"))
            .ok()
            .flatten()
            .and_then(|v| CapturePolicy::parse(&v).ok())
            .unwrap_or_default()
    }

    /// This till's id on receipts and in the journal (`register.id`, default `1`).
    pub fn register_id(&self) -> String {
        self.get("register.id")
            .ok()
            .flatten()
            .unwrap_or_else(|| "1".into())
    }

    /// The receipt printer (`printer.url`), if one is set.
    pub fn printer(&self) -> Option<crate::printer::PrinterUrl> {
        let url = self.get("printer.url").ok().flatten()?;
        crate::printer::PrinterUrl::parse(&url).ok()
    }

    /// A counter sale's lifetime in ms (`shop.counter_link_minutes`, default
    /// [`crate::link::COUNTER_MINUTES_DEFAULT`]).
    pub fn counter_ms(&self) -> i64 {
        self.get("shop.counter_link_minutes")
            .ok()
            .flatten()
            .and_then(|m| m.parse::<i64>().ok())
            .filter(|m| crate::link::COUNTER_MINUTES.contains(m))
            .unwrap_or(crate::link::COUNTER_MINUTES_DEFAULT)
            * 60_000
    }

    /// How many characters a receipt line has on the printer (`printer.columns`, default 48).
    pub fn printer_columns(&self) -> usize {
        self.get("printer.columns")
            .ok()
            .flatten()
            .and_then(|c| c.parse().ok())
            .unwrap_or(48)
    }

    /// A provider's check that a new value agrees with its other settings ([`Spec::agrees`](crate::provider::spec::Spec::agrees)).
    fn check_related(&self, key: &str, value: &str) -> Result<(), SettingsError> {
        match key
            .split_once('.')
            .and_then(|(name, field)| Some((provider(name)?, field)))
        {
            Some((spec, field)) => (spec.agrees)(field, value, self).map_err(|r| invalid(key, r)),
            None => Ok(()),
        }
    }
}

impl SettingValues for Settings {
    fn value(&self, key: &str) -> Option<String> {
        self.get(key).ok().flatten()
    }
}

fn validator(key: &str) -> Result<Validator, SettingsError> {
    if let Some((_, v)) = SHOP.iter().find(|(k, _)| *k == key) {
        return Ok(*v);
    }
    let Some((prefix, field)) = key.split_once('.') else {
        return Err(invalid(
            key,
            Reason::new(
                FieldCode::UnknownSetting,
                "unknown setting (keys look like dintero.account_id or shop.name)",
            ),
        ));
    };
    let Some(spec) = provider(prefix) else {
        // A key of the shop's own groups (shop, register, printer) that is not one of them:
        // name the group's keys, not the providers.
        let group: Vec<&str> = SHOP
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| k.split_once('.').is_some_and(|(g, _)| g == prefix))
            .collect();
        if !group.is_empty() {
            return Err(invalid(
                key,
                Reason::new(
                    FieldCode::UnknownSetting,
                    format!("unknown {prefix} setting (known: {})", group.join(", ")),
                )
                .var("known", group.join(", ")),
            ));
        }
        return Err(invalid(
            key,
            Reason::new(
                FieldCode::UnknownSetting,
                format!(
                    "unknown setting group {prefix:?} (the shop's: shop, register, printer; the providers': {})",
                    provider_names()
                ),
            ),
        ));
    };
    if spec.secrets.contains(&field) {
        return Err(invalid(
            key,
            Reason::new(
                FieldCode::SecretSetting,
                format!("is a secret: store it in the OS keyring with `kassa-cli credentials set {prefix} {field}`"),
            ),
        ));
    }
    spec.setting(field).map(|s| s.validate).ok_or_else(|| {
        let known: Vec<&str> = spec.setting_keys().collect();
        invalid(
            key,
            Reason::new(
                FieldCode::UnknownSetting,
                format!("unknown setting for {prefix} (known: {})", known.join(", ")),
            )
            .var("known", known.join(", ")),
        )
    })
}

/// Checks that `field` is one of `provider`'s secret fields, or one of [`OTHER_SECRETS`].
pub fn check_secret_field(provider_name: &str, field: &str) -> Result<(), SettingsError> {
    let key = format!("{provider_name}.{field}");
    if let Some(&(owner, _)) = OTHER_SECRETS.iter().find(|(o, _)| *o == provider_name) {
        return match OTHER_SECRETS.contains(&(provider_name, field)) {
            true => Ok(()),
            false => Err(invalid(
                &key,
                Reason::new(
                    FieldCode::UnknownSetting,
                    format!("{owner} has no secret {field:?}"),
                ),
            )),
        };
    }
    let spec = provider(provider_name).ok_or_else(|| {
        invalid(
            &key,
            Reason::new(
                FieldCode::Provider,
                format!(
                    "unknown provider {provider_name:?} (known: {}, hub)",
                    provider_names()
                ),
            ),
        )
    })?;
    if !spec.secrets.contains(&field) {
        return Err(invalid(
            &key,
            Reason::new(
                FieldCode::UnknownSetting,
                format!(
                    "{} has no secret {field:?} (its secrets: {})",
                    spec.name,
                    spec.secrets.join(", ")
                ),
            ),
        ));
    }
    Ok(())
}

/// The keyring entry of a secret: a provider's under its profile, the others under `shop`
/// (one hub per shop, whatever the providers' profiles).
pub fn credential_key(
    settings: &Settings,
    owner: &str,
    field: &str,
) -> crate::secrets::CredentialKey {
    let profile = if OTHER_SECRETS.iter().any(|(o, _)| *o == owner) {
        "shop".to_string()
    } else {
        settings.profile(owner)
    };
    crate::secrets::CredentialKey::new(owner, &profile, field)
}

/// Checks a profile name given on the command line.
pub fn check_profile(profile: &str) -> Result<(), SettingsError> {
    valid_profile(profile).map_err(|r| invalid("--profile", r))
}

// ---- validators -------------------------------------------------------------------------

/// The hub's address, `postgres://user@host[:port]/database[?sslmode=…&hostaddr=…]`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubUrl {
    pub user: String,
    /// The name the hub is reached by and its certificate is checked against.
    pub host: String,
    pub port: u16,
    pub database: String,
    /// libpq's `hostaddr`: the address to connect to instead of looking `host` up (a shop
    /// without DNS for its hub; `host` still names the certificate).
    pub hostaddr: Option<std::net::IpAddr>,
    pub tls: HubTls,
}

/// How a till talks to its hub: `sslmode` in `hub.url` read as libpq reads it, except that
/// nothing ever falls back to plaintext (`allow` and `prefer`, which may, are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubTls {
    /// Plaintext: `sslmode=disable`, or no `sslmode` on loopback (libpq's own default there
    /// would try TLS first; a loopback hub rarely has a certificate for `127.0.0.1`). Only on
    /// this machine: the password exchange (SCRAM) and every sale would cross a network in
    /// clear.
    Off,
    /// `sslmode=verify-ca`, and `require`: TLS, the certificate's chain checked against the
    /// platform's roots and `hub.ca_file`, its name not. libpq's `require` skips the check
    /// only when it has no root certificates ("if a root CA file exists, sslmode=require
    /// behaves like verify-ca"); Kassa always has the platform's.
    VerifyCa,
    /// `sslmode=verify-full`, the default for a hub elsewhere: the chain and the name.
    VerifyFull,
}

impl HubUrl {
    /// Parses and checks a `hub.url`. The password is never part of it (it is in the keyring).
    /// A hub that is not this machine is reached only over TLS: `sslmode=disable` (plaintext)
    /// is for loopback, where no network carries the password's exchange and the sales.
    pub fn parse(v: &str) -> Result<HubUrl, Reason> {
        let form = |text: &str| Reason::new(FieldCode::HubUrlForm, text);
        let rest = v
            .strip_prefix("postgres://")
            .or_else(|| v.strip_prefix("postgresql://"))
            .ok_or_else(|| form("must look like postgres://user@host:5432/database"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, database) = rest
            .split_once('/')
            .ok_or_else(|| form("names no database (postgres://user@host:5432/database)"))?;
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| form("names no user (postgres://user@host:5432/database)"))?;
        if user.contains(':') {
            return Err(Reason::new(
                FieldCode::HubUrlPassword,
                "must not hold a password: store it with `kassa-cli credentials set hub password`",
            ));
        }
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => {
                let (h, p) = v6
                    .split_once(']')
                    .ok_or_else(|| form("has an unclosed [ in its host"))?;
                (h, p.strip_prefix(':'))
            }
            None => match hostport.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            },
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| form(&format!("has a bad port {p:?}")))?,
            None => 5432,
        };
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        };
        if !ok(user) || !ok(database) {
            return Err(form("user and database must be letters, digits, _, - or ."));
        }
        if !ok(host) && host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(form(
                "the host must be a name (letters, digits, - and .) or an IP address",
            ));
        }
        let (sslmode, hostaddr) = hub_url_parameters(query)?;
        let is_loopback = |h: &str| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .map(|ip| ip.is_loopback())
                    .unwrap_or(false)
        };
        // Both must be this machine: `hostaddr` is where the bytes go, `host` what the
        // operator believes they talk to.
        let loopback = is_loopback(host) && hostaddr.is_none_or(|a| a.is_loopback());
        let tls = match sslmode.as_deref() {
            None if loopback => HubTls::Off,
            None | Some("verify-full") => HubTls::VerifyFull,
            Some("verify-ca") | Some("require") => HubTls::VerifyCa,
            Some("disable") if loopback => HubTls::Off,
            Some("disable") => {
                let elsewhere = match hostaddr {
                    Some(a) if !a.is_loopback() => a.to_string(),
                    _ => host.to_string(),
                };
                return Err(Reason::new(
                    FieldCode::HubUrlNotLoopback,
                    format!(
                        "{elsewhere} is not this machine: a hub elsewhere is reached only over \
                         TLS, so sslmode=disable is for loopback (127.0.0.1, ::1, localhost) \
                         only; leave sslmode out (verify-full)"
                    ),
                )
                .var("host", elsewhere));
            }
            Some(mode) => {
                return Err(Reason::new(
                    FieldCode::HubUrlSslmode,
                    format!(
                        "sslmode={mode} is not one Kassa takes: verify-full (the default for a \
                         hub elsewhere), verify-ca, require (TLS with the certificate's chain \
                         checked, as verify-ca), or disable (this machine only); allow and \
                         prefer would fall back to plaintext without saying so"
                    ),
                )
                .var("mode", mode));
            }
        };
        Ok(HubUrl {
            user: user.into(),
            host: host.into(),
            port,
            database: database.into(),
            hostaddr,
            tls,
        })
    }
}

/// `sslmode` and `hostaddr` from a `hub.url`'s query, the only parameters Kassa reads (one
/// it would ignore, such as `sslrootcert`, is refused rather than silently not honoured).
fn hub_url_parameters(
    query: Option<&str>,
) -> Result<(Option<String>, Option<std::net::IpAddr>), Reason> {
    let form = |text: String| Reason::new(FieldCode::HubUrlForm, text);
    let (mut sslmode, mut hostaddr) = (None, None);
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "sslmode" if sslmode.is_none() => sslmode = Some(value.to_string()),
            "hostaddr" if hostaddr.is_none() => {
                hostaddr = Some(
                    value
                        .parse()
                        .map_err(|_| form(format!("hostaddr={value} is not an IP address")))?,
                )
            }
            "sslmode" | "hostaddr" => return Err(form(format!("gives {name} twice"))),
            _ => {
                return Err(form(format!(
                    "has {name:?} after ?: Kassa reads only sslmode and hostaddr there (the CA \
                     of a shop's own hub goes in hub.ca_file)"
                )))
            }
        }
    }
    Ok((sslmode, hostaddr))
}

fn valid_hub_url(v: &str) -> Result<(), Reason> {
    HubUrl::parse(v).map(|_| ())
}

/// An absolute path. The file itself is read at each connection to the hub (a clear error
/// there if it is gone or holds no certificate), not here: settings are checked again every
/// time they are loaded, and a missing CA file must not stop a till from selling.
fn valid_ca_file(v: &str) -> Result<(), Reason> {
    if !Path::new(v).is_absolute() || v.chars().any(char::is_control) || v.len() > 4096 {
        return Err(Reason::new(
            FieldCode::HubCaFile,
            format!(
                "{v:?} is not an absolute path: the CA certificate file (PEM) of the shop's own \
                 certificate authority, e.g. /etc/kassa/shop-ca.pem"
            ),
        ));
    }
    Ok(())
}

fn valid_name(v: &str) -> Result<(), Reason> {
    if v.trim().is_empty() || v.chars().count() > 100 || v.chars().any(char::is_control) {
        Err(Reason::new(
            FieldCode::TextLength,
            "must be 1 to 100 characters without control characters",
        )
        .var("max", 100))
    } else {
        Ok(())
    }
}

fn valid_currency(v: &str) -> Result<(), Reason> {
    crate::money::Currency::from_code(v)
        .map(|_| ())
        .ok_or_else(|| {
            Reason::new(
                FieldCode::Currency,
                format!("{v:?} is not a known ISO 4217 currency code"),
            )
        })
}

fn valid_vat_rates(v: &str) -> Result<(), Reason> {
    let rates: Vec<&str> = v.split(',').map(str::trim).collect();
    if rates.iter().any(|r| r.is_empty()) {
        return Err(Reason::new(
            FieldCode::VatRates,
            format!("{v:?} is not a comma-separated list of rates, e.g. 25,15,12,0"),
        ));
    }
    for r in &rates {
        crate::order::VatRate::parse_percent(r)
            .map_err(|e| Reason::new(FieldCode::VatRate, format!("rate {e}")).var("rate", r))?;
    }
    Ok(())
}

fn valid_locale(v: &str) -> Result<(), Reason> {
    one_of(v, &["nb", "sv", "da", "en"])
}

fn valid_default_provider(v: &str) -> Result<(), Reason> {
    if v == "demo" || provider(v).is_some() {
        Ok(())
    } else {
        Err(Reason::new(
            FieldCode::Provider,
            format!("{v:?} is not a provider (demo, {})", provider_names()),
        ))
    }
}

/// Norway's organisation number (Brønnøysundregistrene): 9 digits, the last a mod-11 check
/// digit over the first 8 with weights 3, 2, 7, 6, 5, 4, 3, 2 (check = 11 − sum mod 11; 11
/// becomes 0; a remainder of 1 would need 10, so no valid number has it). Written without
/// spaces and without "MVA": the receipt adds both (`shop.vat_registered`). NO only.
pub fn valid_org_number(v: &str) -> Result<(), Reason> {
    let digits: Vec<u32> = v.chars().filter_map(|c| c.to_digit(10)).collect();
    if v.to_ascii_uppercase().ends_with("MVA") {
        return Err(Reason::new(
            FieldCode::OrgNumberMva,
            format!(
                "{v:?}: give the 9 digits only; \"MVA\" is printed when shop.vat_registered is true"
            ),
        ));
    }
    if digits.len() != 9 || v.len() != 9 {
        return Err(Reason::new(
            FieldCode::OrgNumberForm,
            format!(
                "{v:?} is not a Norwegian organisation number (9 digits, no spaces, e.g. 923609016)"
            ),
        ));
    }
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => {
            return Err(Reason::new(
                FieldCode::OrgNumberCheck,
                format!(
                    "{v} is not a valid organisation number (no check digit fits its first 8 \
                     digits: a typo?)"
                ),
            ))
        }
        c => c,
    };
    if digits[8] == check {
        Ok(())
    } else {
        Err(Reason::new(
            FieldCode::OrgNumberCheck,
            format!("{v} is not a valid organisation number (its check digit is wrong: a typo?)"),
        ))
    }
}

/// The address lines of `shop.address` (`Storgata 1|9008 Tromsø`), trimmed.
pub fn address_lines(v: &str) -> Vec<String> {
    v.split(ADDRESS_LINE_SEPARATOR)
        .map(|l| l.trim().to_string())
        .collect()
}

fn valid_address(v: &str) -> Result<(), Reason> {
    let lines = address_lines(v);
    let form = "lines separated by |, e.g. Storgata 1|9008 Tromsø";
    if lines.len() > MAX_ADDRESS_LINES {
        return Err(Reason::new(
            FieldCode::AddressLines,
            format!("at most {MAX_ADDRESS_LINES} lines ({form})"),
        )
        .var("max", MAX_ADDRESS_LINES));
    }
    for line in &lines {
        if line.is_empty() {
            return Err(Reason::new(
                FieldCode::AddressEmptyLine,
                format!("has an empty line ({form})"),
            ));
        }
        if line.chars().count() > MAX_ADDRESS_LINE || line.chars().any(char::is_control) {
            return Err(Reason::new(
                FieldCode::AddressLineLong,
                format!(
                    "{line:?}: each line is at most {MAX_ADDRESS_LINE} characters, without \
                     control characters ({form})"
                ),
            )
            .var("max", MAX_ADDRESS_LINE));
        }
    }
    Ok(())
}

fn valid_register_id(v: &str) -> Result<(), Reason> {
    let ok = (1..=MAX_REGISTER_ID).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Reason::new(
            FieldCode::RegisterId,
            format!("{v:?}: 1 to {MAX_REGISTER_ID} letters, digits or -, e.g. KASSA-1"),
        )
        .var("max", MAX_REGISTER_ID))
    }
}

fn valid_printer_url(v: &str) -> Result<(), Reason> {
    crate::printer::PrinterUrl::parse(v)
        .map(|_| ())
        .map_err(|e| Reason::new(FieldCode::PrinterUrl, e))
}

fn valid_printer_columns(v: &str) -> Result<(), Reason> {
    match v.parse::<usize>() {
        Ok(n) if PRINTER_COLUMNS.contains(&n) => Ok(()),
        _ => Err(Reason::new(
            FieldCode::PrinterColumns,
            format!(
                "{v:?}: characters per line from {} to {} (48 for most 80 mm printers, 42 for \
                 some, 32 for 58 mm paper)",
                PRINTER_COLUMNS.start(),
                PRINTER_COLUMNS.end()
            ),
        )
        .var("min", PRINTER_COLUMNS.start())
        .var("max", PRINTER_COLUMNS.end())),
    }
}

fn valid_counter_minutes(v: &str) -> Result<(), Reason> {
    let range = crate::link::COUNTER_MINUTES;
    match v.parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(()),
        _ => Err(Reason::new(
            FieldCode::CounterMinutes,
            format!(
                "{v:?}: whole minutes from {} to {} (a counter sale is paid while the customer \
                 waits; a link sale chooses its own lifetime)",
                range.start(),
                range.end()
            ),
        )
        .var("min", range.start())
        .var("max", range.end())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_lifetime_is_whole_minutes_within_an_hour() {
        let mut s = Settings::default();
        assert_eq!(s.counter_ms(), 15 * 60_000);
        s.set("shop.counter_link_minutes", "30").unwrap();
        assert_eq!(s.counter_ms(), 30 * 60_000);
        for bad in ["0", "61", "1.5", "x"] {
            assert!(s.set("shop.counter_link_minutes", bad).is_err(), "{bad}");
        }
    }

    fn err(s: &mut Settings, k: &str, v: &str) -> String {
        s.set(k, v).unwrap_err().to_string()
    }

    #[test]
    fn validates_on_write_and_names_the_key() {
        let mut s = Settings::default();
        assert_eq!(
            err(&mut s, "shop.addres", "x"),
            "shop.addres: unknown shop setting (known: shop.name, shop.currency, shop.vat_rates, \
             shop.prices_include_vat, shop.locale, shop.return_url, shop.counter_link_minutes, \
             shop.org_number, shop.address, shop.vat_registered)"
        );
        assert!(err(&mut s, "printer.port", "1").contains("(known: printer.url, printer.columns)"));
        assert!(err(&mut s, "foo.bar", "1").contains("unknown setting group \"foo\""));
        s.set("dintero.account_id", "T12345678").unwrap();
        assert_eq!(
            err(&mut s, "dintero.account_id", "X1"),
            "dintero.account_id: \"X1\" is not a Dintero account id (T or P followed by 8 digits, e.g. T12345678)"
        );
        assert!(err(&mut s, "dintero.account_id", "P12345678").contains("dintero.profile is test"));
        assert!(err(&mut s, "dintero.profile", "live")
            .contains("does not match dintero.account_id T12345678"));
        assert!(err(&mut s, "dintero.base_url", "http://example.com")
            .starts_with("dintero.base_url: http://example.com must use https://"));
        s.set("dintero.base_url", "http://127.0.0.1:8080").unwrap();
        s.set("bambora.base_url", "https://staging.example.com/prefix")
            .unwrap();
        s.set("klarna.base_url", "http://localhost:9000").unwrap();
        assert!(
            err(&mut s, "nope.key", "x").starts_with("nope.key: unknown setting group \"nope\"")
        );
        assert!(err(&mut s, "klarna.colour", "x")
            .starts_with("klarna.colour: unknown setting for klarna"));
        assert!(err(&mut s, "klarna.password", "x").contains("is a secret"));
        assert!(err(&mut s, "klarna.region", "us").contains("not one of: eu, na, oc"));
        assert!(err(&mut s, "shop.vat_rates", "25,,12").contains("comma-separated"));
        assert!(err(&mut s, "shop.vat_rates", "25,150").contains("150 is above 100"));
        assert!(err(&mut s, "default_provider", "stripe").contains("not a provider"));
        assert!(err(&mut s, "opencharge.gateway_url", "ftp://x").contains("not an http(s) URL"));
    }

    #[test]
    fn defaults_apply_until_set() {
        let mut s = Settings::default();
        assert_eq!(
            s.get("dintero.profile_id").unwrap().as_deref(),
            Some("default")
        );
        assert_eq!(s.get("dintero.account_id").unwrap(), None);
        assert_eq!(s.profile("klarna"), "test");
        s.set("klarna.profile", "live").unwrap();
        assert_eq!(s.profile("klarna"), "live");
        s.unset("klarna.profile").unwrap();
        assert_eq!(s.profile("klarna"), "test");
        assert!(s
            .all()
            .iter()
            .any(|(k, v, set)| k == "shop.currency" && v.as_deref() == Some("NOK") && !set));
    }

    #[test]
    fn shop_settings_fill_in_defaults() {
        let mut s = Settings::default();
        let shop = ShopSettings::from_settings(&s);
        assert_eq!(shop.vat_rates, vec!["25", "15", "12", "0"]);
        assert_eq!(
            (shop.currency.as_str(), shop.default_vat_rate.as_str()),
            ("NOK", "25")
        );
        s.set("shop.vat_rates", "12.50, 6").unwrap();
        s.set("shop.currency", "EUR").unwrap();
        let shop = ShopSettings::from_settings(&s);
        assert_eq!(shop.vat_rates, vec!["12.5", "6"]);
        assert_eq!(shop.currency, "EUR");
    }

    #[test]
    fn organisation_numbers_need_their_mod_11_check_digit() {
        // Real numbers from Brønnøysundregistrene (Equinor ASA, Brønnøysundregistrene itself,
        // Skatteetaten), and a made-up one whose weighted sum divides by 11 (check digit 0).
        for good in ["923609016", "974760673", "974761076", "910000020"] {
            valid_org_number(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        let mut s = Settings::default();
        assert_eq!(
            err(&mut s, "shop.org_number", "923609017"),
            "shop.org_number: 923609017 is not a valid organisation number (its check digit is \
             wrong: a typo?)"
        );
        // 91000008x: the weighted sum leaves remainder 1, so no check digit fits.
        assert!(err(&mut s, "shop.org_number", "910000080").contains("no check digit fits"));
        assert!(err(&mut s, "shop.org_number", "923 609 016").contains("9 digits, no spaces"));
        assert!(err(&mut s, "shop.org_number", "92360901").contains("9 digits"));
        assert!(err(&mut s, "shop.org_number", "9236090160").contains("9 digits"));
        assert!(err(&mut s, "shop.org_number", "92360901a").contains("9 digits"));
        assert!(err(&mut s, "shop.org_number", "923609016MVA").contains("give the 9 digits only"));
        s.set("shop.org_number", "923609016").unwrap();
    }

    #[test]
    fn receipt_settings_are_checked_and_have_defaults() {
        let mut s = Settings::default();
        assert_eq!(
            s.get("shop.vat_registered").unwrap().as_deref(),
            Some("true")
        );
        assert_eq!(s.register_id(), "1");
        assert_eq!(s.printer(), None);
        assert_eq!(s.printer_columns(), 48);
        s.set("shop.address", "Storgata 1 | 9008 Tromsø").unwrap();
        assert_eq!(
            address_lines(&s.get("shop.address").unwrap().unwrap()),
            ["Storgata 1", "9008 Tromsø"]
        );
        assert!(err(&mut s, "shop.address", "Storgata 1||9008 Tromsø").contains("empty line"));
        assert!(err(&mut s, "shop.address", "a|b|c|d|e").contains("at most 4 lines"));
        assert!(err(&mut s, "shop.address", &"x".repeat(61)).contains("at most 60 characters"));
        assert!(err(&mut s, "shop.vat_registered", "yes").contains("not one of: true, false"));
        s.set("register.id", "KASSA-1").unwrap();
        assert_eq!(s.register_id(), "KASSA-1");
        assert!(err(&mut s, "register.id", "kasse 1").contains("letters, digits or -"));
        assert!(err(&mut s, "register.id", &"1".repeat(36)).contains("1 to 35"));
        s.set("printer.url", "tcp://10.0.0.5").unwrap();
        assert_eq!(s.printer().unwrap().to_string(), "tcp://10.0.0.5:9100");
        assert!(err(&mut s, "printer.url", "lpt1")
            .starts_with("printer.url: \"lpt1\" is not a printer URL"));
        s.set("printer.columns", "42").unwrap();
        assert_eq!(s.printer_columns(), 42);
        assert!(err(&mut s, "printer.columns", "80").contains("from 32 to 64"));
        let keys: Vec<String> = s.all().into_iter().map(|(k, _, _)| k).collect();
        for key in [
            "shop.org_number",
            "shop.address",
            "shop.vat_registered",
            "register.id",
            "printer.url",
            "printer.columns",
        ] {
            assert!(keys.iter().any(|k| k == key), "config show lists {key}");
        }
    }

    #[test]
    fn saves_and_loads_atomically() {
        let dir = std::env::temp_dir().join(format!("kassa-settings-{}", std::process::id()));
        let mut s = Settings::default();
        s.set("shop.name", "Butikken").unwrap();
        s.set("dintero.account_id", "T12345678").unwrap();
        s.save(&dir).unwrap();
        assert_eq!(Settings::load(&dir).unwrap(), s);
        assert!(!dir.join(".settings.json.tmp").exists());
        std::fs::write(dir.join(FILE_NAME), "{\"dintero.account_id\": \"bad\"}").unwrap();
        let e = Settings::load(&dir).unwrap_err().to_string();
        assert!(
            e.contains("is not a valid settings file") && e.contains("dintero.account_id"),
            "{e}"
        );
        std::fs::write(dir.join(FILE_NAME), "not json").unwrap();
        assert!(matches!(
            Settings::load(&dir),
            Err(SettingsError::Corrupt { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secret_fields_are_known_per_provider() {
        assert!(check_secret_field("dintero", "client_secret").is_ok());
        let e = check_secret_field("dintero", "account_id")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "dintero.account_id: dintero has no secret \"account_id\" (its secrets: client_id, client_secret)");
        assert!(check_secret_field("stripe", "key")
            .unwrap_err()
            .to_string()
            .contains("unknown provider"));
    }

    #[test]
    fn the_hub_url_has_no_password_and_is_plaintext_only_on_loopback_and_its_password_is_a_shop_secret(
    ) {
        let url = HubUrl::parse("postgres://kassa@127.0.0.1:55432/shop").unwrap();
        assert_eq!(
            (url.user.as_str(), url.port, url.database.as_str(), url.tls),
            ("kassa", 55432, "shop", HubTls::Off)
        );
        assert_eq!(HubUrl::parse("postgresql://k@[::1]/s").unwrap().port, 5432);
        let e = HubUrl::parse("postgres://k:pw@localhost/s").unwrap_err();
        assert!(e.text.contains("password"), "{e}");
        assert_eq!(e.code, FieldCode::HubUrlPassword);
        assert!(HubUrl::parse("mysql://k@localhost/s").is_err());
        // Elsewhere: TLS, the name checked unless asked otherwise; never plaintext.
        let tls = |v: &str| HubUrl::parse(v).map(|u| u.tls);
        assert_eq!(
            tls("postgres://k@hub.shop.example:5432/s"),
            Ok(HubTls::VerifyFull)
        );
        assert_eq!(tls("postgres://k@10.0.0.9/s"), Ok(HubTls::VerifyFull));
        assert_eq!(
            tls("postgres://k@hub.shop.example/s?sslmode=verify-full"),
            Ok(HubTls::VerifyFull)
        );
        assert_eq!(
            tls("postgres://k@hub.shop.example/s?sslmode=verify-ca"),
            Ok(HubTls::VerifyCa)
        );
        assert_eq!(
            tls("postgres://k@hub.shop.example/s?sslmode=require"),
            Ok(HubTls::VerifyCa)
        );
        // On loopback TLS is there when asked for.
        assert_eq!(
            tls("postgres://k@localhost/s?sslmode=require"),
            Ok(HubTls::VerifyCa)
        );
        assert_eq!(tls("postgres://k@[::1]/s?sslmode=disable"), Ok(HubTls::Off));
        let e = HubUrl::parse("postgres://k@hub.shop.example:5432/s?sslmode=disable").unwrap_err();
        assert_eq!(e.code, FieldCode::HubUrlNotLoopback);
        assert_eq!(e.vars["host"], "hub.shop.example");
        assert!(e.text.contains("only over TLS"), "{e}");
        for weak in ["prefer", "allow", "verify_full", ""] {
            let e = HubUrl::parse(&format!("postgres://k@localhost/s?sslmode={weak}")).unwrap_err();
            assert_eq!(e.code, FieldCode::HubUrlSslmode, "{weak}: {e}");
            assert_eq!(e.vars["mode"], weak);
        }
        // `hostaddr`: where to connect; a name with a loopback address is still TLS, and a
        // loopback name with an address elsewhere too.
        let url =
            HubUrl::parse("postgres://k@hub.shop.example/s?hostaddr=127.0.0.1&sslmode=verify-full")
                .unwrap();
        assert_eq!(url.hostaddr, Some([127, 0, 0, 1].into()));
        assert_eq!(url.host, "hub.shop.example");
        assert_eq!(
            tls("postgres://k@hub.shop.example/s?hostaddr=127.0.0.1"),
            Ok(HubTls::VerifyFull)
        );
        let e = HubUrl::parse("postgres://k@localhost/s?hostaddr=192.0.2.7&sslmode=disable")
            .unwrap_err();
        assert_eq!(e.vars["host"], "192.0.2.7");
        for bad in [
            "postgres://k@localhost/s?hostaddr=hub.example",
            "postgres://k@localhost/s?sslmode=require&sslmode=disable",
            "postgres://k@localhost/s?sslrootcert=/etc/ca.pem",
            "postgres://k@/s",
            "postgres://k@hub shop/s",
        ] {
            assert_eq!(
                HubUrl::parse(bad).unwrap_err().code,
                FieldCode::HubUrlForm,
                "{bad}"
            );
        }
        let mut s = Settings::default();
        assert!(
            err(&mut s, "hub.url", "postgres://k@10.0.0.9/s?sslmode=disable")
                .contains("not this machine")
        );
        s.set("hub.url", "postgres://kassa@10.0.0.9/shop").unwrap();
        assert!(err(&mut s, "hub.ca_file", "shop-ca.pem").contains("not an absolute path"));
        // A path, not the file: a CA file that goes missing must not stop settings loading.
        s.set("hub.ca_file", "/etc/kassa/shop-ca.pem").unwrap();
        s.set("hub.url", "postgres://kassa@localhost:5432/shop")
            .unwrap();
        assert!(check_secret_field("hub", "password").is_ok());
        assert!(check_secret_field("hub", "token").is_err());
        assert_eq!(
            credential_key(&s, "hub", "password").user(),
            "hub/shop/password"
        );
        assert_eq!(
            credential_key(&s, "dintero", "client_id").user(),
            "dintero/test/client_id"
        );
    }
}
