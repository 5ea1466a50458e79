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

/// Session `id` (from [`intent`]) paid by the provider's word at `at` (its answer lost first:
/// the shortest legal way from the intent to paid), captured.
pub fn pay(log: &mut SessionLog, id: &str, at: i64) {
    use kassa_core::session::Status;
    log.record_status(id, Status::Unknown, at + 500, "status", "x", None, true)
        .unwrap();
    log.record_change(
        id,
        at + 1000,
        &kassa_core::store::StatusChange {
            to: Status::Paid,
            kind: "status",
            detail: "paid",
            payment_id: Some("T1"),
            operation: None,
            standing: Some(kassa_core::journal::Standing::Captured),
            operator_id: None,
        },
    )
    .unwrap();
}

/// One of [`order`]'s coffees (19,99, 25 %) given back in cash and recorded by staff at `at`:
/// a return and a `staff_recorded` entry.
pub fn record_refund_of_one(log: &mut SessionLog, session: &str, op_id: &str, at: i64) {
    let line = [kassa_core::provider::OperationLine {
        index: 0,
        name: "Kaffe".into(),
        sku: None,
        quantity: "1".into(),
        unit: None,
        vat_rate: "25".into(),
        gross: 1999,
        net: 1599,
        vat: 400,
    }];
    log.record_operation(
        &kassa_core::store::NewOperation {
            id: op_id,
            session_id: session,
            kind: kassa_core::provider::OperationKind::RefundRecorded,
            via: kassa_core::store::Via::Staff,
            amount: 1999,
            lines: &line,
            reason: Some("cash back at the counter"),
            pre_image: None,
            state: kassa_core::store::OperationState::Done,
            at,
            operator_id: Some(1),
        },
        "recorded",
    )
    .unwrap();
}
