//! The demo provider: the sandbox started in-process on a loopback port and driven through
//! the real Dintero client (not a separate fake code path), with the demo API client.
//! Sessions are logged under the provider name `demo`; the emulator keeps its state in
//! `demo-sandbox.json` in the data directory, so a later process can still read a demo
//! session's status. The checkout page lives only while the process that serves it runs.
//!
//! The shells hand [`starter`] to the core's client cache
//! (`kassa_core::provider::cache::Clients`), which calls it on the first demo charge.

use crate::{Config, DinteroAccount, Sandbox};
use kassa_core::http::Http;
use kassa_core::provider::cache::StartDemo;
use kassa_core::provider::dintero::{Dintero, DinteroConfig};
use kassa_core::provider::{ErrorKind, Provider, ProviderError};
use kassa_core::secrets::Secret;
use std::path::Path;
use std::sync::Arc;

/// The file the demo emulator keeps its sessions in: a log of changes, one JSON line each
/// (read it with [`read_state`]).
pub const STATE_FILE: &str = "demo-sandbox.json";

/// The demo emulator's sessions and transactions kept in `data_dir`, as one JSON object
/// (`{"sessions": {id: …}, "transactions": {id: …}}`): what a later process would restore.
/// A missing file is an empty state; one that cannot be read or holds a line that is not a
/// record panics (a test's "nothing at the provider" must not pass on an unreadable file).
pub fn read_state(data_dir: &Path) -> serde_json::Value {
    crate::read_state_file(&data_dir.join(STATE_FILE))
        .unwrap_or_else(|e| panic!("{}: {e}", data_dir.join(STATE_FILE).display()))
}

/// Faults the demo's sandbox starts with (the `/_control/faults` JSON list), for the
/// reliability harness: the demo's sandbox lives inside the process under test, whose control
/// API the harness cannot reach before the request it aims at. Like `KASSA_PAUSE_AT`, it only
/// ever makes requests fail; unset, nothing changes.
pub const FAULTS_ENV: &str = "KASSA_DEMO_FAULTS";

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
    let faults = match std::env::var(FAULTS_ENV) {
        Ok(json) => serde_json::from_str(&json)
            .map_err(|e| fail(format!("{FAULTS_ENV} is not a list of faults: {e}")))?,
        Err(_) => Vec::new(),
    };
    // With the `all-providers` feature, Config has the other emulators' fields too.
    #[allow(clippy::needless_update)]
    let sandbox = Sandbox::start(
        0,
        Config {
            state_file: Some(data_dir.join(STATE_FILE)),
            faults,
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

/// The demo provider for the core's client cache: starts the sandbox on first use and keeps
/// it running as long as the cache keeps the closure.
pub fn starter() -> StartDemo {
    // Only kept, never read: dropping the sandbox stops it.
    let mut _running: Option<Sandbox> = None;
    Box::new(move |dir, http| {
        let demo = start(dir, http)?;
        _running = Some(demo.sandbox);
        Ok(Arc::new(demo.provider) as Arc<dyn Provider>)
    })
}
