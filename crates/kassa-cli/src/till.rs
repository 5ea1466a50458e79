//! What every session command shares: the session log, the providers (the demo provider's
//! sandbox started on first use), and the start-up reconciliation.

use crate::Failure;
use kassa_core::checkout::{self, CheckoutError};
use kassa_core::http::{Http, HttpConfig};
use kassa_core::provider::{ErrorKind, Provider, ProviderError};
use kassa_core::secrets::OsKeyring;
use kassa_core::settings::Settings;
use kassa_core::store::{SessionLog, StoreError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Till {
    pub dir: PathBuf,
    pub log: SessionLog,
    pub settings: Settings,
    providers: Providers,
}

/// Provider clients built on first use, one per (name, profile).
struct Providers {
    dir: PathBuf,
    http: Option<Http>,
    built: HashMap<(String, String), Arc<dyn Provider>>,
    sandbox: Option<kassa_sandbox::Sandbox>,
}

impl Providers {
    fn get(
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
            let demo = kassa_sandbox::demo::start(&self.dir, http)?;
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
}

pub fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::NotFound { .. } => Failure::Invalid(e.to_string()),
        _ => Failure::System(e.to_string()),
    }
}

pub fn checkout_failure(e: CheckoutError) -> Failure {
    match e {
        CheckoutError::Store(s) => store_failure(s),
        CheckoutError::Provider {
            session_id,
            status,
            error,
        } => Failure::System(format!(
            "{error} [{}]\nsession {session_id} is {status}; `kassa-cli session {session_id}` shows its events",
            error.code()
        )),
        CheckoutError::Lock(m) => Failure::System(m),
    }
}

impl Till {
    /// Opens the session log and the settings, then reconciles what an earlier run left.
    pub fn open(dir: &Path) -> Result<Till, Failure> {
        let settings = Settings::load(dir).map_err(|e| Failure::System(e.to_string()))?;
        let log = SessionLog::open_in(dir).map_err(store_failure)?;
        let mut till = Till {
            dir: dir.to_path_buf(),
            log,
            settings,
            providers: Providers {
                dir: dir.to_path_buf(),
                http: None,
                built: HashMap::new(),
                sandbox: None,
            },
        };
        till.reconcile()?;
        Ok(till)
    }

    /// The provider called `name` (`demo` starts the embedded sandbox).
    pub fn provider(
        &mut self,
        name: &str,
        profile: Option<&str>,
    ) -> Result<Arc<dyn Provider>, Failure> {
        self.providers
            .get(&self.settings, name, profile)
            .map_err(|e| match e.kind {
                ErrorKind::Config(_) | ErrorKind::Credentials(_) => Failure::Invalid(e.to_string()),
                _ => Failure::System(e.to_string()),
            })
    }

    fn reconcile(&mut self) -> Result<(), Failure> {
        let now = kassa_core::time::now_millis();
        // Most runs have nothing to reconcile and so start no provider.
        if self
            .log
            .needing_reconciliation(now)
            .map_err(store_failure)?
            .is_empty()
        {
            return Ok(());
        }
        let Till {
            dir,
            log,
            settings,
            providers,
        } = self;
        let mut provider_for =
            |name: &str, profile: &str| providers.get(settings, name, Some(profile));
        let done = checkout::reconcile(log, dir, &mut provider_for, now).map_err(store_failure)?;
        for r in done {
            eprintln!(
                "kassa-cli: reconciled session {}: {} → {} ({})",
                r.id, r.from, r.to, r.note
            );
        }
        Ok(())
    }
}
