//! TLS to the hub against a real PostgreSQL: a throwaway cluster with `ssl=on` and a
//! certificate from a private CA made for the test (`Cluster::start_tls`), and one without TLS.
//! The hub is named `hub.shop.test` and reached at 127.0.0.1 through libpq's `hostaddr`, so the
//! till treats it as a hub elsewhere (TLS required, the name checked) while everything runs on
//! this machine. Tills are configured as a shop would: `hub.url`, `hub.ca_file` and the
//! password in a keyring (the core's in-memory one), through `Hub::from_settings`.

use kassa_core::secrets::memory::MemoryKeyring;
use kassa_core::secrets::{Secret, SecretStore};
use kassa_core::settings::{credential_key, HubTls, Settings};
use kassa_core::store::SessionLog;
use kassa_hub::cluster::{Cluster, TestCa};
use kassa_hub::{push_once, shop_sessions, Hub, HubError};
use std::path::{Path, PathBuf};

/// The clusters' password: distinctive, for the secrets audit's ledger and the checks below.
const PASSWORD: &str = "hub-tls-pw-Hs3nV8qK2w";
const T0: i64 = 1_795_285_381_000;

fn hub_for(url: &str, ca_file: Option<&Path>, password: &str) -> Hub {
    kassa_sandbox::ledger(&[password]);
    let mut s = Settings::default();
    s.set("hub.url", url).unwrap();
    if let Some(ca) = ca_file {
        s.set("hub.ca_file", ca.to_str().unwrap()).unwrap();
    }
    let keyring = MemoryKeyring::default();
    keyring
        .set(
            &credential_key(&s, "hub", "password"),
            &Secret::new(password.to_string()),
        )
        .unwrap();
    Hub::from_settings(&s, &keyring).unwrap()
}

/// Connects, or says why not (in full, as a shop would read it, and as `Debug`).
fn refusal(hub: &Hub) -> HubError {
    match hub.connection() {
        Ok(_) => panic!("{} connected", hub.target()),
        Err(e) => e,
    }
}

/// Whether this connection runs over TLS, as the server sees it.
fn server_sees_tls(hub: &Hub) -> bool {
    hub.connection()
        .unwrap()
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
}

struct Till {
    dir: PathBuf,
    log: SessionLog,
}

impl Till {
    fn new(test: &str) -> Till {
        let dir = std::env::temp_dir().join(format!("kassa-hub-tls-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = kassa_hub::demo_till::open(&dir, "1");
        Till { dir, log }
    }
}

impl Drop for Till {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every error a test saw: the password in none of them, whatever the cause.
fn assert_no_password(errors: &[HubError]) {
    for e in errors {
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains(PASSWORD), "the password in an error: {text}");
            assert!(
                !text.contains("Hs3nV8qK2w"),
                "the password in an error: {text}"
            );
        }
    }
}

#[test]
fn a_hub_elsewhere_is_reached_over_tls_verified_with_the_shops_ca_and_an_untrusted_or_misnamed_certificate_is_refused(
) {
    let cluster = Cluster::start_tls("tls", PASSWORD, &["hub.shop.test"]);
    let ca = cluster.ca_file().unwrap().to_path_buf();
    let port = cluster.port;
    let elsewhere = format!("postgres://kassa@hub.shop.test:{port}/shop?hostaddr=127.0.0.1");
    let mut errors = Vec::new();
    let mut till = Till::new("tls");
    for i in 0..3 {
        kassa_hub::demo_till::sell(&mut till.log, T0 + i * 1000, &format!("TLS-{i}"));
    }
    let waiting = till.log.outbox_pending().unwrap();

    // No CA file: the private CA is not among the platform's roots.
    let e = refusal(&hub_for(&elsewhere, None, PASSWORD));
    assert!(matches!(e, HubError::Tls { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "the TLS certificate of hub.shop.test:{port} is not trusted"
        )),
        "{text}"
    );
    assert!(
        text.contains("hub.ca_file"),
        "says where a shop's CA goes: {text}"
    );
    errors.push(e);

    // Another CA: refused the same way.
    let other_dir = cluster.dir().join("other-ca");
    let other = TestCa::new(&other_dir, "Not the shop's CA");
    let e = refusal(&hub_for(&elsewhere, Some(&other.cert), PASSWORD));
    assert!(e.to_string().contains("is not trusted"), "{e}");
    errors.push(e);

    // The right CA, but the till names the hub by another name than its certificate's.
    let misnamed = format!("postgres://kassa@till.shop.test:{port}/shop?hostaddr=127.0.0.1");
    let e = refusal(&hub_for(&misnamed, Some(&ca), PASSWORD));
    assert!(
        e.to_string().contains(&format!(
            "the TLS certificate of till.shop.test:{port} was issued for another name (hub.shop.test)"
        )),
        "{e}"
    );
    errors.push(e);

    // A CA file that is gone, or not a certificate: named, and no connection at all.
    let e = refusal(&hub_for(
        &elsewhere,
        Some(&other_dir.join("gone.pem")),
        PASSWORD,
    ));
    assert!(matches!(e, HubError::Tls { .. }), "{e:?}");
    assert!(e.to_string().contains("gone.pem"), "{e}");
    errors.push(e);
    let e = refusal(&hub_for(
        &elsewhere,
        Some(&other_dir.join("ca.key")),
        PASSWORD,
    ));
    assert!(e.to_string().contains("holds no certificate"), "{e}");
    errors.push(e);

    // A wrong password over TLS: the handshake passed, SCRAM said no.
    let e = refusal(&hub_for(&elsewhere, Some(&ca), "not-the-hub-pw-Tq9sX2mB"));
    assert!(matches!(e, HubError::WrongPassword { .. }), "{e:?}");
    errors.push(e);

    // Nothing the refusals met was lost.
    let still = till.log.outbox_pending().unwrap();
    assert_eq!(
        (still.sessions, still.journal),
        (waiting.sessions, waiting.journal)
    );

    // The shop's CA: verify-full by default, pushed and read back, over TLS.
    let hub = hub_for(&elsewhere, Some(&ca), PASSWORD);
    assert_eq!(hub.tls(), HubTls::VerifyFull);
    let report = push_once(&mut till.log, &hub, "1").unwrap();
    assert!(report.refusals.is_empty(), "{:?}", report.refusals);
    assert_eq!(report.sessions, 3);
    let mut read: Vec<String> = shop_sessions(&hub, 10)
        .unwrap()
        .into_iter()
        .map(|s| s.reference)
        .collect();
    read.sort();
    assert_eq!(read, ["TLS-0", "TLS-1", "TLS-2"]);
    assert!(server_sees_tls(&hub));

    // verify-ca (and require, which is it): the chain checked, the name not.
    for mode in ["verify-ca", "require"] {
        let hub = hub_for(&format!("{misnamed}&sslmode={mode}"), Some(&ca), PASSWORD);
        assert_eq!(hub.tls(), HubTls::VerifyCa);
        assert!(server_sees_tls(&hub), "{mode}");
        let e = refusal(&hub_for(
            &format!("{misnamed}&sslmode={mode}"),
            Some(&other.cert),
            PASSWORD,
        ));
        assert!(e.to_string().contains("is not trusted"), "{mode}: {e}");
        errors.push(e);
    }
    // On loopback, TLS when asked for (the certificate names hub.shop.test, not 127.0.0.1).
    let hub = hub_for(
        &format!("{}?sslmode=require", cluster.url()),
        Some(&ca),
        PASSWORD,
    );
    assert!(server_sees_tls(&hub));
    assert_no_password(&errors);
}

#[test]
fn a_hub_without_tls_is_refused_unless_it_is_on_loopback_without_sslmode() {
    let cluster = Cluster::start("no-tls", PASSWORD);
    let port = cluster.port;
    let mut errors = Vec::new();
    let mut till = Till::new("no-tls");
    kassa_hub::demo_till::sell(&mut till.log, T0, "PLAIN-1");
    let waiting = till.log.outbox_pending().unwrap();

    // A hub elsewhere (here: named so, reached at 127.0.0.1): TLS or nothing, never plaintext.
    let elsewhere = format!("postgres://kassa@hub.shop.test:{port}/shop?hostaddr=127.0.0.1");
    for url in [
        elsewhere.clone(),
        format!("{elsewhere}&sslmode=require"),
        format!("{}?sslmode=require", cluster.url()),
    ] {
        let e = refusal(&hub_for(&url, None, PASSWORD));
        assert!(matches!(e, HubError::Tls { .. }), "{url}: {e:?}");
        assert!(e.to_string().contains("does not offer TLS"), "{url}: {e}");
        errors.push(e);
    }
    let still = till.log.outbox_pending().unwrap();
    assert_eq!(
        (still.sessions, still.journal),
        (waiting.sessions, waiting.journal)
    );

    // Loopback without sslmode (or with disable): plaintext, as before TLS existed.
    for url in [cluster.url(), format!("{}?sslmode=disable", cluster.url())] {
        let hub = hub_for(&url, None, PASSWORD);
        assert_eq!(hub.tls(), HubTls::Off);
        assert!(!server_sees_tls(&hub), "{url}");
    }
    let hub = hub_for(&cluster.url(), None, PASSWORD);
    let report = push_once(&mut till.log, &hub, "1").unwrap();
    assert_eq!(report.sessions, 1);
    assert_eq!(shop_sessions(&hub, 10).unwrap()[0].reference, "PLAIN-1");
    assert_no_password(&errors);
}
