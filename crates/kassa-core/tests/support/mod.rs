//! What the core's session-log tests share: a temporary directory, a session log journaling
//! with a key from an in-memory keyring, an order and its intent.
#![allow(dead_code)] // each test binary uses a different subset

use kassa_core::provider::CapturePolicy;
use kassa_core::session::SessionId;
use kassa_core::store::{NewSession, SessionLog};
use kassa_core::{quote_document, PricedOrder};
use std::path::{Path, PathBuf};

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "kassa-store-{name}-{}-{}",
            std::process::id(),
            kassa_core::time::now_millis()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn db(&self) -> PathBuf {
        self.0.join("sessions.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The session log at `path`, journaling with a signing key from an in-memory keyring shared
/// by this test binary (the OS keyring is kassa-cli's tests' part).
pub fn open(path: &Path) -> SessionLog {
    let mut log = SessionLog::open(path).unwrap();
    log.use_keyring(kassa_core::secrets::memory::shared());
    log.set_time_zone(kassa_core::journal::Zone::named("Europe/Oslo").unwrap());
    log
}

pub fn owner(log: &SessionLog) -> kassa_core::operator::Authenticated {
    log.owner_if_no_operators().unwrap().unwrap()
}

pub fn order(reference: &str) -> PricedOrder {
    quote_document(
        &format!(
            r#"{{"currency":"NOK","prices_include_vat":true,"reference":"{reference}","lines":[
                {{"name":"Kaffe","quantity":"3","unit_price":1999,"vat_rate":"25"}}]}}"#
        ),
        "X",
    )
    .unwrap()
}

pub const T0: i64 = 1_795_285_381_123;

pub fn intent(log: &mut SessionLog, at: i64, reference: &str) -> String {
    let id = SessionId::new(at, at as u128 * 7919);
    let o = order(reference);
    log.record_intent(&NewSession {
        id: id.clone(),
        provider: "demo",
        profile: "test",
        demo: true,
        order: &o,
        created_at: at,
        capture_policy: Some(CapturePolicy::AtSale),
        operator_id: Some(1),
        link: None,
    })
    .unwrap();
    id.to_string()
}
