//! Kassa's non-secret settings: per-provider account details, the shop, the default provider.
//!
//! Settings are flat `section.key` pairs (`dintero.account_id`, `shop.name`) kept in
//! `settings.json` in the data directory, validated on every write, written atomically (temp
//! file + rename) so a crash never leaves half a file. Secrets are **not** settings: each
//! provider's secret fields are listed in its [`Spec::secrets`] and live only in the OS
//! keyring ([`crate::secrets`]); a secret field name given to `set` is refused.
//!
//! The shop's keys are here; each provider's keys, validators and defaults are in its spec
//! (`provider/<name>/spec.rs`), found through [`crate::provider::REGISTRY`]. Where a
//! provider's facts are UNCONFIRMED in our notes, the validation is the permissive reading and
//! says so in its comment, so it is easy to tighten.

use crate::provider::spec::{
    one_of, valid_base_url, valid_bool, valid_profile, SettingValues, Spec, Validator,
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
    ("default_provider", valid_default_provider),
];

/// Defaults shown by `config get`/`show` for keys that were never set: the shop's here, a
/// provider's in its spec.
fn default_for(key: &str) -> Option<&'static str> {
    Some(match key {
        "shop.name" => "Kassa",
        "shop.currency" => "NOK",
        "shop.vat_rates" => "25,15,12,0",
        "shop.prices_include_vat" => "true",
        "shop.locale" => "nb",
        "default_provider" => "demo",
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
    Invalid { key: String, reason: String },
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

fn invalid(key: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key: key.to_string(),
        reason: reason.into(),
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

    /// A provider's check that a new value agrees with its other settings ([`Spec::agrees`]).
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
            "unknown setting (keys look like dintero.account_id or shop.name)",
        ));
    };
    let Some(spec) = provider(prefix) else {
        return Err(invalid(
            key,
            format!(
                "unknown provider {prefix:?} (known: {}, shop)",
                provider_names()
            ),
        ));
    };
    if spec.secrets.contains(&field) {
        return Err(invalid(
            key,
            format!("is a secret: store it in the OS keyring with `kassa-cli credentials set {prefix} {field}`"),
        ));
    }
    spec.setting(field).map(|s| s.validate).ok_or_else(|| {
        let known: Vec<&str> = spec.setting_keys().collect();
        invalid(
            key,
            format!("unknown setting for {prefix} (known: {})", known.join(", ")),
        )
    })
}

/// Checks that `field` is one of `provider`'s secret fields.
pub fn check_secret_field(
    provider_name: &str,
    field: &str,
) -> Result<&'static Spec, SettingsError> {
    let key = format!("{provider_name}.{field}");
    let spec = provider(provider_name).ok_or_else(|| {
        invalid(
            &key,
            format!(
                "unknown provider {provider_name:?} (known: {})",
                provider_names()
            ),
        )
    })?;
    if !spec.secrets.contains(&field) {
        return Err(invalid(
            &key,
            format!(
                "{} has no secret {field:?} (its secrets: {})",
                spec.name,
                spec.secrets.join(", ")
            ),
        ));
    }
    Ok(spec)
}

/// Checks a profile name given on the command line.
pub fn check_profile(profile: &str) -> Result<(), SettingsError> {
    valid_profile(profile).map_err(|r| invalid("--profile", r))
}

// ---- validators -------------------------------------------------------------------------

fn valid_name(v: &str) -> Result<(), String> {
    if v.trim().is_empty() || v.chars().count() > 100 || v.chars().any(char::is_control) {
        Err("must be 1 to 100 characters without control characters".into())
    } else {
        Ok(())
    }
}

fn valid_currency(v: &str) -> Result<(), String> {
    crate::money::Currency::from_code(v)
        .map(|_| ())
        .ok_or_else(|| format!("{v:?} is not a known ISO 4217 currency code"))
}

fn valid_vat_rates(v: &str) -> Result<(), String> {
    let rates: Vec<&str> = v.split(',').map(str::trim).collect();
    if rates.iter().any(|r| r.is_empty()) {
        return Err(format!(
            "{v:?} is not a comma-separated list of rates, e.g. 25,15,12,0"
        ));
    }
    for r in &rates {
        crate::order::VatRate::parse_percent(r).map_err(|e| format!("rate {e}"))?;
    }
    Ok(())
}

fn valid_locale(v: &str) -> Result<(), String> {
    one_of(v, &["nb", "en"])
}

fn valid_default_provider(v: &str) -> Result<(), String> {
    if v == "demo" || provider(v).is_some() {
        Ok(())
    } else {
        Err(format!(
            "{v:?} is not a provider (demo, {})",
            provider_names()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &mut Settings, k: &str, v: &str) -> String {
        s.set(k, v).unwrap_err().to_string()
    }

    #[test]
    fn validates_on_write_and_names_the_key() {
        let mut s = Settings::default();
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
        assert!(err(&mut s, "nope.key", "x").starts_with("nope.key: unknown provider \"nope\""));
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
}
