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
    let profile = match profile {
        Some(p) => {
            settings::check_profile(p).map_err(settings_failure)?;
            p.to_string()
        }
        None => Settings::load(dir)
            .map_err(settings_failure)?
            .profile(provider),
    };
    Ok(CredentialKey::new(provider, &profile, field))
}

pub fn set(dir: &Path, provider: &str, field: &str, profile: Option<&str>) -> Result<(), Failure> {
    let key = key_for(dir, provider, field, profile)?;
    let value = read_secret(&key)?;
    OsKeyring.set(&key, &value).map_err(keyring_failure)?;
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
    OsKeyring.delete(&key).map_err(keyring_failure)?;
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
    Ok(())
}

/// Reads one secret: without echo from a terminal, else all of standard input, with one
/// trailing newline removed.
fn read_secret(key: &CredentialKey) -> Result<Secret, Failure> {
    let mut value = if std::io::stdin().is_terminal() {
        eprint!("{} (input hidden): ", key.user());
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
    if value.is_empty() {
        return Err(Failure::Invalid(format!(
            "{}: the secret is empty (pipe it on standard input)",
            key.user()
        )));
    }
    Ok(Secret::new(value))
}

fn keyring_failure(e: SecretError) -> Failure {
    match e {
        SecretError::Missing(_) => Failure::Invalid(e.to_string()),
        _ => Failure::System(e.to_string()),
    }
}
