//! A till for tests and benchmarks without the OS keyring: a session log in a directory of its
//! own, journaling under a register with the core's in-memory keyring, and paid demo sales
//! written as `kassa-cli charge` writes them (intent, unknown, paid with its signed entry).

use kassa_core::journal::{Standing, Zone};
use kassa_core::secrets::memory::MemoryKeyring;
use kassa_core::secrets::{Secret, SecretStore};
use kassa_core::session::{SessionId, Status};
use kassa_core::settings::{credential_key, Settings};
use kassa_core::store::{NewSession, SessionLog, StatusChange};
use std::path::Path;

/// The till of `dir` set up as a shop sets one up for its hub: `settings.json` with
/// `register.id`, `hub.url` and (for a hub reached over TLS with the shop's CA) `hub.ca_file`,
/// and the hub's password in a keyring of its own, for a [`crate::Sender`] to read.
pub fn configure_hub(
    dir: &Path,
    register: &str,
    url: &str,
    ca_file: Option<&Path>,
    password: &str,
) -> MemoryKeyring {
    let mut settings = Settings::default();
    settings.set("register.id", register).unwrap();
    settings.set("hub.url", url).unwrap();
    if let Some(ca) = ca_file {
        settings.set("hub.ca_file", ca.to_str().unwrap()).unwrap();
    }
    settings.save(dir).unwrap();
    let keyring = MemoryKeyring::default();
    keyring
        .set(
            &credential_key(&settings, "hub", "password"),
            &Secret::new(password.to_string()),
        )
        .unwrap();
    keyring
}

/// The session log of `dir`, journaling as `register`.
pub fn open(dir: &Path, register: &str) -> SessionLog {
    let mut log = SessionLog::open_in(dir).unwrap();
    log.use_keyring(kassa_core::secrets::memory::shared());
    log.set_time_zone(Zone::named("Europe/Oslo").unwrap());
    log.set_register(register);
    log
}

/// A paid demo sale of two coffees at `at` (Unix ms): its session id.
pub fn sell(log: &mut SessionLog, at: i64, reference: &str) -> String {
    let id = SessionId::generate(at);
    let order = kassa_core::quote_document(
        r#"{"currency":"NOK","prices_include_vat":true,"lines":[
            {"name":"Kaffe","quantity":"2","unit_price":3450,"vat_rate":"15"}]}"#,
        reference,
    )
    .unwrap();
    log.record_intent(&NewSession {
        id: id.clone(),
        provider: "demo",
        profile: "test",
        demo: true,
        order: &order,
        created_at: at,
        capture_policy: None,
        operator_id: Some(1),
        link: None,
    })
    .unwrap();
    let id = id.to_string();
    log.record_status(&id, Status::Unknown, at + 1, "status", "x", None, true)
        .unwrap();
    log.record_change(
        &id,
        at + 2,
        &StatusChange {
            to: Status::Paid,
            kind: "status",
            detail: "paid",
            payment_id: Some("T1"),
            operation: None,
            standing: Some(Standing::Captured),
            operator_id: None,
        },
    )
    .unwrap();
    id
}
