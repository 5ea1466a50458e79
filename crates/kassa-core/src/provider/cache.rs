//! The provider clients a shell (the desktop app, the CLI) uses, built on first use and kept
//! for the process: one client per provider and profile reuses its connections and its cached
//! tokens. The demo provider comes from the shell ([`StartDemo`]: its sandbox is a crate the
//! core does not depend on); every other provider is built from the settings and the keyring
//! ([`super::from_settings`]).

use super::spec::SettingValues;
use super::{from_settings, ErrorKind, Provider, ProviderError};
use crate::http::{Http, HttpConfig};
use crate::secrets::SecretStore;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a shell gets provider clients.
pub trait ProviderSource: Send {
    /// The client for `name` and `profile` (default: the provider's `profile` setting).
    fn get(
        &mut self,
        settings: &dyn SettingValues,
        name: &str,
        profile: Option<&str>,
    ) -> Result<Arc<dyn Provider>, ProviderError>;
    /// Drops cached clients (after a settings or credential change).
    fn forget(&mut self);
}

/// Starts the demo provider, called at most once per [`Clients`] with the data directory and
/// the HTTP client. Whatever keeps the demo running (its sandbox) lives in the closure, so as
/// long as the clients are kept.
pub type StartDemo =
    Box<dyn FnMut(&Path, &Http) -> Result<Arc<dyn Provider>, ProviderError> + Send>;

/// The clients of one data directory, built on first use.
pub struct Clients {
    dir: PathBuf,
    secrets: Arc<dyn SecretStore>,
    start_demo: StartDemo,
    /// Built with the first client: a shell that never charges never loads the root store.
    http: Option<Http>,
    built: HashMap<(String, String), Arc<dyn Provider>>,
}

impl Clients {
    pub fn new(dir: &Path, secrets: Arc<dyn SecretStore>, start_demo: StartDemo) -> Clients {
        Clients {
            dir: dir.to_path_buf(),
            secrets,
            start_demo,
            http: None,
            built: HashMap::new(),
        }
    }
}

impl ProviderSource for Clients {
    /// The client for `name` (`demo` or a configured provider) and `profile` (default: the
    /// provider's `profile` setting; the demo provider is always `test`).
    fn get(
        &mut self,
        settings: &dyn SettingValues,
        name: &str,
        profile: Option<&str>,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let profile_key = if name == "demo" {
            "test".to_string()
        } else {
            profile.map(str::to_string).unwrap_or_else(|| {
                settings
                    .value(&format!("{name}.profile"))
                    .unwrap_or_else(|| "test".into())
            })
        };
        let key = (name.to_string(), profile_key);
        if let Some(p) = self.built.get(&key) {
            return Ok(p.clone());
        }
        if self.http.is_none() {
            let http = Http::new(HttpConfig::from_env())
                .map_err(|m| ProviderError::new(name, ErrorKind::Config(m)))?;
            self.http = Some(http);
        }
        let http = self.http.as_ref().expect("just set");
        let p: Arc<dyn Provider> = if name == "demo" {
            (self.start_demo)(&self.dir, http)?
        } else {
            Arc::from(from_settings(
                name,
                profile,
                settings,
                self.secrets.as_ref(),
                http,
            )?)
        };
        self.built.insert(key, p.clone());
        Ok(p)
    }

    /// Drops the configured providers' clients (the demo provider and its sandbox stay), so
    /// the next `get` reads the settings and the keyring again.
    fn forget(&mut self) {
        self.built.retain(|(name, _), _| name == "demo");
    }
}
