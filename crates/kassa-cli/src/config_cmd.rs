//! `kassa-cli config`: non-secret settings in the data directory's `settings.json`.

use crate::station::{store_failure, Station};
use crate::Failure;
use kassa_core::journal::Kind;
use kassa_core::settings::{Settings, SettingsError};
use kassa_core::store::NewEvent;
use std::path::Path;

/// Journals a change of the settings or a credential (`body` names it; a credential's value is
/// never in it) by the operator the command acts as, a manager. The change itself is made by
/// `change`, after the operator is checked and before the entry is written. A data directory
/// without a session log has no operators (the owner acts) and gets one only once the change
/// is made: a change that fails leaves no file behind.
pub fn journaled(
    dir: &Path,
    change: impl FnOnce() -> Result<serde_json::Value, Failure>,
) -> Result<(), Failure> {
    let checked = if dir.join(kassa_core::store::FILE_NAME).exists() {
        let mut station = Station::open_without_reconciling(dir)?;
        station
            .operator()?
            .require_manager("changing a setting")
            .map_err(|e| store_failure(e.into()))?;
        Some(station)
    } else {
        None
    };
    let body = change()?;
    let mut station = match checked {
        Some(s) => s,
        None => Station::open_without_reconciling(dir)?,
    };
    let by = station.operator()?;
    station
        .log
        .journal_event(&NewEvent {
            kind: Kind::SettingsChange,
            operator_id: Some(by.id()),
            session_id: None,
            ref_seq: None,
            body,
            at: kassa_core::time::now_millis(),
        })
        .map_err(store_failure)?;
    Ok(())
}

pub fn set(dir: &Path, key: &str, value: &str) -> Result<(), Failure> {
    let mut s = Settings::load(dir).map_err(settings_failure)?;
    let before = s.get(key).ok().flatten();
    s.set(key, value).map_err(settings_failure)?;
    journaled(dir, || {
        s.save(dir).map_err(settings_failure)?;
        Ok(serde_json::json!({"key": key, "from": before, "to": value}))
    })
}

pub fn unset(dir: &Path, key: &str) -> Result<(), Failure> {
    let mut s = Settings::load(dir).map_err(settings_failure)?;
    let before = s.get(key).ok().flatten();
    s.unset(key).map_err(settings_failure)?;
    journaled(dir, || {
        s.save(dir).map_err(settings_failure)?;
        let after = s.get(key).ok().flatten();
        Ok(serde_json::json!({"key": key, "from": before, "to": after}))
    })
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
