//! The station a session command works at: one data directory's session log (journaling under
//! the till's register, the signing key from the OS keyring), settings and provider clients (the
//! demo provider's sandbox started on first use), reconciled at start; and the operator the
//! command acts as (`--operator`, logged in on first need and out when the command ends).
//! (Not the core's `kassa_core::till::Till`, the desktop counter's operations.)

use crate::Failure;
use kassa_core::checkout::CheckoutError;
use kassa_core::operator::Authenticated;
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
    /// Who the command acts as, once asked ([`Station::operator`]).
    operator: Option<Authenticated>,
}

pub fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::NotFound { .. }
        | StoreError::Operator(_)
        | StoreError::CopyExists { .. }
        | StoreError::NoReceipt { .. }
        | StoreError::ZExists { .. } => Failure::Invalid(format!("{e} [{}]", e.code())),
        StoreError::SigningKey { .. } => Failure::System(format!("{e} [{}]", e.code())),
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
        CheckoutError::Refused { code, message, .. } | CheckoutError::NotStarted { code, message } => {
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
        let mut station = Station::open_without_reconciling(dir)?;
        station.reconcile()?;
        Ok(station)
    }

    /// Opens the session log and the settings only (commands that change a setting or an
    /// operator, or read the journal, start no provider).
    pub fn open_without_reconciling(dir: &Path) -> Result<Station, Failure> {
        let settings = Settings::load(dir).map_err(|e| Failure::System(e.to_string()))?;
        let log = SessionLog::open_journaled(
            dir,
            &kassa_core::journal::register_id(&settings),
            Arc::new(OsKeyring),
        )
        .map_err(store_failure)?;
        Ok(Station {
            dir: dir.to_path_buf(),
            log,
            settings,
            // The demo provider's sandbox starts on the first demo charge.
            providers: Clients::new(dir, Arc::new(OsKeyring), kassa_sandbox::demo::starter()),
            operator: None,
        })
    }

    /// The operator this command acts as: `--operator ID` with its PIN (logged in now, and out
    /// when the station closes), else the owner of a till with no operators.
    pub fn operator(&mut self) -> Result<Authenticated, Failure> {
        if let Some(who) = &self.operator {
            return Ok(who.clone());
        }
        let who = crate::operator_cmd::authenticate(&mut self.log)?;
        self.operator = Some(who.clone());
        Ok(who)
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

impl Drop for Station {
    /// Logs out the operator who logged in for this command (journaled; best effort: the
    /// command's own outcome stands).
    fn drop(&mut self) {
        if let Some(who) = self.operator.take() {
            if let Err(e) = self.log.logout(&who, kassa_core::time::now_millis()) {
                eprintln!(
                    "kassa-cli: the logout of operator {} was not journaled: {e}",
                    who.id()
                );
            }
        }
    }
}
