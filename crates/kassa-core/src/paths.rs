//! Where Kassa keeps its files: the data directory.
//!
//! Chosen in this order: an explicit directory (`--data-dir`), `KASSA_DATA_DIR`, then the
//! platform's app data directory for Kassa's identifier `no.kassa.app` (the same directory the
//! desktop app's WebView uses): `$XDG_DATA_HOME/no.kassa.app` or
//! `~/.local/share/no.kassa.app` on Linux, `~/Library/Application Support/no.kassa.app` on
//! macOS, `%APPDATA%\no.kassa.app` on Windows.

use std::path::{Path, PathBuf};

/// The app identifier (also in `tauri.conf.json`).
pub const APP_IDENTIFIER: &str = "no.kassa.app";

/// Resolves the data directory (without creating it).
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("KASSA_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    platform_data_home()
        .map(|base| base.join(APP_IDENTIFIER))
        .ok_or_else(|| "cannot find a data directory: set KASSA_DATA_DIR or pass --data-dir".into())
}

fn platform_data_home() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(target_os = "windows") {
        env("APPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local/share")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_directory_wins() {
        assert_eq!(
            data_dir(Some(Path::new("/tmp/k"))).unwrap(),
            PathBuf::from("/tmp/k")
        );
    }
}
