//! The station a session command works at: one data directory's session log, settings and
//! provider clients (the demo provider's sandbox started on first use), reconciled at start.
//! (Not the core's `kassa_core::till::Till`, the desktop counter's operations.)

use crate::Failure;
use kassa_core::checkout::CheckoutError;
use kassa_core::provider::cache::{Clients, ProviderSource};
use kassa_core::provider::{ErrorKind, Provider};
use kassa_core::secrets::OsKeyring;
use kassa_core::settings::Settings;
use kassa_core::store::{SessionLog, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One data directory, opened for a command.
pub struct Station {
    pub dir: PathBuf,
    pub log: SessionLog,
    pub settings: Settings,
    providers: Clients,
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
        // Refused before anything was sent: bad input for this sale (exit 2).
        CheckoutError::Refused { code, message, .. } => {
            Failure::Invalid(format!("{message} [{code}]"))
        }
        CheckoutError::Operation { operation, error } => Failure::System(format!(
            "{error} [{}]\n{} {} of session {} is {}{}; `kassa-cli session {}` shows its events",
            error.code(),
            operation.kind.as_str(),
            operation.id,
            operation.session_id,
            operation.state,
            if operation.state == kassa_core::store::OperationState::Unknown {
                " (it may have reached the provider: Kassa looks it up, never sends it again)"
            } else {
                ""
            },
            operation.session_id
        )),
    }
}

impl Station {
    /// Opens the session log and the settings, then reconciles what an earlier run left.
    pub fn open(dir: &Path) -> Result<Station, Failure> {
        let settings = Settings::load(dir).map_err(|e| Failure::System(e.to_string()))?;
        let log = SessionLog::open_in(dir).map_err(store_failure)?;
        let mut station = Station {
            dir: dir.to_path_buf(),
            log,
            settings,
            // The demo provider's sandbox starts on the first demo charge.
            providers: Clients::new(dir, Arc::new(OsKeyring), kassa_sandbox::demo::starter()),
        };
        station.reconcile()?;
        Ok(station)
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
                ErrorKind::Config(_) => Failure::Invalid(e.to_string()),
                _ => Failure::System(e.to_string()),
            })
    }

    fn reconcile(&mut self) -> Result<(), Failure> {
        let now = kassa_core::time::now_millis();
        let done = kassa_core::checkout::reconcile_with(
            &mut self.log,
            &self.dir,
            &mut self.providers,
            &self.settings,
            now,
        )
        .map_err(store_failure)?;
        for r in done {
            eprintln!("kassa-cli: reconciled {r}");
        }
        Ok(())
    }
}
