//! `kassa-cli credentials`: provider secrets in the OS keyring. Values are read from standard
//! input (never from an argument, which would land in shell history and `ps`) and never printed.

use crate::config_cmd::settings_failure;
use crate::Failure;
use kassa_core::provider::REGISTRY;
use kassa_core::secrets::{CredentialKey, OsKeyring, Secret, SecretError, SecretStore};
use kassa_core::settings::{self, Settings};
use std::io::{IsTerminal, Read};
use std::path::Path;

fn key_for(
    dir: &Path,
    provider: &str,
    field: &str,
    profile: Option<&str>,
) -> Result<CredentialKey, Failure> {
    settings::check_secret_field(provider, field).map_err(settings_failure)?;
    let settings = Settings::load(dir).map_err(settings_failure)?;
    match profile {
        Some(p) if settings::OTHER_SECRETS.iter().all(|(o, _)| *o != provider) => {
            settings::check_profile(p).map_err(settings_failure)?;
            Ok(CredentialKey::new(provider, p, field))
        }
        _ => Ok(settings::credential_key(&settings, provider, field)),
    }
}

pub fn set(dir: &Path, provider: &str, field: &str, profile: Option<&str>) -> Result<(), Failure> {
    let key = key_for(dir, provider, field, profile)?;
    let value = read_secret(&key)?;
    crate::config_cmd::journaled(dir, || {
        OsKeyring.set(&key, &value).map_err(keyring_failure)?;
        // The credential's name only: its value never leaves the keyring.
        Ok(serde_json::json!({"credential": key.user(), "action": "set"}))
    })?;
    eprintln!("stored {} in the OS keyring (service kassa)", key.user());
    Ok(())
}

pub fn delete(
    dir: &Path,
    provider: &str,
    field: &str,
    profile: Option<&str>,
) -> Result<(), Failure> {
    let key = key_for(dir, provider, field, profile)?;
    crate::config_cmd::journaled(dir, || {
        OsKeyring.delete(&key).map_err(keyring_failure)?;
        Ok(serde_json::json!({"credential": key.user(), "action": "deleted"}))
    })?;
    eprintln!("deleted {} from the OS keyring", key.user());
    Ok(())
}

pub fn list() -> Result<(), Failure> {
    println!("{:<15} {:<8} {:<26} status", "provider", "profile", "field");
    for p in REGISTRY {
        for profile in ["test", "live"] {
            for field in p.secrets {
                let key = CredentialKey::new(p.name, profile, field);
                let set = OsKeyring.is_set(&key).map_err(keyring_failure)?;
                println!(
                    "{:<15} {:<8} {:<26} {}",
                    p.name,
                    profile,
                    field,
                    if set { "set" } else { "not set" }
                );
            }
        }
    }
    for (owner, field) in settings::OTHER_SECRETS {
        let key = CredentialKey::new(owner, "shop", field);
        let set = OsKeyring.is_set(&key).map_err(keyring_failure)?;
        println!(
            "{:<15} {:<8} {:<26} {}",
            owner,
            "shop",
            field,
            if set { "set" } else { "not set" }
        );
    }
    Ok(())
}

/// Reads one secret (`what` names it in the prompt): without echo from a terminal, else all of
/// standard input, with one trailing newline removed.
pub fn read_hidden(what: &str) -> Result<Secret, Failure> {
    let mut value = if std::io::stdin().is_terminal() {
        eprint!("{what} (input hidden): ");
        rpassword::read_password()
            .map_err(|e| Failure::Invalid(format!("cannot read the secret: {e}")))?
    } else {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            Failure::Invalid(format!("cannot read the secret from standard input: {e}"))
        })?;
        text
    };
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(Secret::new(value))
}

fn read_secret(key: &CredentialKey) -> Result<Secret, Failure> {
    let value = read_hidden(&key.user())?;
    if value.expose().is_empty() {
        return Err(Failure::Invalid(format!(
            "{}: the secret is empty (pipe it on standard input)",
            key.user()
        )));
    }
    Ok(value)
}

fn keyring_failure(e: SecretError) -> Failure {
    match e {
        SecretError::Missing(_) => Failure::Invalid(e.to_string()),
        _ => Failure::System(e.to_string()),
    }
}
