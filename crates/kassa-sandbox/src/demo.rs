//! The demo provider: the sandbox started in-process on a loopback port and driven through
//! the real Dintero client (not a separate fake code path), with the demo API client.
//! Sessions are logged under the provider name `demo`; the emulator keeps its state in
//! `demo-sandbox.json` in the data directory, so a later process can still read a demo
//! session's status. The checkout page lives only while the process that serves it runs.

use crate::{Config, DinteroAccount, Sandbox};
use kassa_core::checkout::{self, Reconciled};
use kassa_core::http::{Http, HttpConfig};
use kassa_core::provider::dintero::{Dintero, DinteroConfig};
use kassa_core::provider::{ErrorKind, Provider, ProviderError};
use kassa_core::secrets::{OsKeyring, Secret};
use kassa_core::settings::Settings;
use kassa_core::store::{SessionLog, StoreError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file the demo emulator keeps its sessions in.
pub const STATE_FILE: &str = "demo-sandbox.json";

/// A running demo provider. Dropping it stops the sandbox.
pub struct Demo {
    pub provider: Dintero,
    pub sandbox: Sandbox,
}

/// Starts the demo sandbox and its client.
pub fn start(data_dir: &Path, http: &Http) -> Result<Demo, ProviderError> {
    let fail = |m: String| ProviderError::new("demo", ErrorKind::Config(m));
    std::fs::create_dir_all(data_dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", data_dir.display())))?;
    // With the `all-providers` feature, Config has the other emulators' fields too.
    #[allow(clippy::needless_update)]
    let sandbox = Sandbox::start(
        0,
        Config {
            state_file: Some(data_dir.join(STATE_FILE)),
            dintero_accounts: vec![DinteroAccount::demo()],
            ..Default::default()
        },
    )
    .map_err(|e| fail(format!("cannot start the demo sandbox: {e}")))?;
    let account = DinteroAccount::demo();
    let provider = Dintero::new(
        DinteroConfig {
            label: "demo".into(),
            profile: "test".into(),
            account_id: account.account_id,
            profile_id: "default".into(),
            base_url: Some(sandbox.dintero_base_url()),
            client_id: Secret::new(account.client_id),
            client_secret: Secret::new(account.client_secret),
        },
        http.clone(),
    )?;
    Ok(Demo { provider, sandbox })
}

/// The providers a shell (desktop app, CLI) uses, built on first use: the demo provider
/// starts its sandbox, the others read their settings and the keyring.
pub struct Providers {
    dir: PathBuf,
    http: Option<Http>,
    built: HashMap<(String, String), Arc<dyn Provider>>,
    sandbox: Option<Sandbox>,
}

impl Providers {
    pub fn new(data_dir: &Path) -> Providers {
        Providers {
            dir: data_dir.to_path_buf(),
            http: None,
            built: HashMap::new(),
            sandbox: None,
        }
    }

    /// The client for `name` (`demo` or a configured provider) and `profile` (default: the
    /// provider's `profile` setting).
    pub fn get(
        &mut self,
        settings: &Settings,
        name: &str,
        profile: Option<&str>,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let profile_key = if name == "demo" {
            "test".to_string()
        } else {
            profile
                .map(str::to_string)
                .unwrap_or_else(|| settings.profile(name))
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
            let demo = start(&self.dir, http)?;
            self.sandbox = Some(demo.sandbox);
            Arc::new(demo.provider)
        } else {
            Arc::from(kassa_core::provider::from_settings(
                name, profile, settings, &OsKeyring, http,
            )?)
        };
        self.built.insert(key, p.clone());
        Ok(p)
    }

    /// Drops the configured providers' clients (the demo provider and its sandbox stay), so
    /// the next `get` reads the settings and the keyring again.
    pub fn forget(&mut self) {
        self.built.retain(|(name, _), _| name == "demo");
    }

    /// Start-up reconciliation ([`checkout::reconcile`]) with these providers. Starts no
    /// provider when nothing needs reconciling.
    pub fn reconcile(
        &mut self,
        log: &mut SessionLog,
        settings: &Settings,
        now: i64,
    ) -> Result<Vec<Reconciled>, StoreError> {
        if log.needing_reconciliation(now)?.is_empty() {
            return Ok(Vec::new());
        }
        let dir = self.dir.clone();
        let mut provider_for = |name: &str, profile: &str| self.get(settings, name, Some(profile));
        checkout::reconcile(log, &dir, &mut provider_for, now)
    }
}

impl kassa_core::till::ProviderSource for Providers {
    fn get(
        &mut self,
        settings: &Settings,
        name: &str,
        profile: Option<&str>,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        Providers::get(self, settings, name, profile)
    }

    fn forget(&mut self) {
        Providers::forget(self)
    }
}
