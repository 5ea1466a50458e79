//! `kassa-cli config`: non-secret settings in the data directory's `settings.json`.

use crate::Failure;
use kassa_core::settings::{Settings, SettingsError};
use std::path::Path;

pub fn set(dir: &Path, key: &str, value: &str) -> Result<(), Failure> {
    let mut s = Settings::load(dir).map_err(settings_failure)?;
    s.set(key, value).map_err(settings_failure)?;
    s.save(dir).map_err(settings_failure)
}

pub fn unset(dir: &Path, key: &str) -> Result<(), Failure> {
    let mut s = Settings::load(dir).map_err(settings_failure)?;
    s.unset(key).map_err(settings_failure)?;
    s.save(dir).map_err(settings_failure)
}

pub fn get(dir: &Path, key: &str) -> Result<(), Failure> {
    let s = Settings::load(dir).map_err(settings_failure)?;
    match s.get(key).map_err(settings_failure)? {
        Some(v) => {
            println!("{v}");
            Ok(())
        }
        None => Err(Failure::Invalid(format!("{key}: not set"))),
    }
}

pub fn show(dir: &Path) -> Result<(), Failure> {
    let s = Settings::load(dir).map_err(settings_failure)?;
    for (key, value, explicit) in s.all() {
        let shown = match (value, explicit) {
            (Some(v), true) => v,
            (Some(v), false) => format!("{v} (default)"),
            (None, _) => "(not set)".into(),
        };
        println!("{key:<34} {shown}");
    }
    Ok(())
}

pub fn settings_failure(e: SettingsError) -> Failure {
    match e {
        SettingsError::Invalid { .. } => Failure::Invalid(e.to_string()),
        _ => Failure::System(e.to_string()),
    }
}
