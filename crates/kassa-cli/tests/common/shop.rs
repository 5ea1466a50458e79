//! A data directory configured for one provider at a fresh sandbox, and the helpers the
//! provider tests share (control requests, session JSON, the no-secret-on-disk check).

use super::*;
use kassa_core::http::{Http, HttpConfig, Method, Request};
use kassa_sandbox::commercelayer::Sku;
use kassa_sandbox::{
    BamboraAccount, CommerceLayerAccount, Config, DinteroAccount, KlarnaAccount, OpenchargeParty,
    Sandbox,
};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

pub const DINTERO_ACCOUNT: &str = "T12345678";
pub const DINTERO_CLIENT_ID: &str = "dintero-shop-client";
pub const DINTERO_CLIENT_SECRET: &str = "dintero-shop-secret-61c3";
pub const MERCHANT: &str = "T123456789";
pub const ACCESS_TOKEN: &str = "bambora-access-7c1e";
pub const SECRET_TOKEN: &str = "bambora-secret-90d2";
pub const MD5_KEY: &str = "bambora-md5-key-55ab";
pub const KLARNA_USER: &str = "PK4711_kassa_test";
pub const KLARNA_PASSWORD: &str = "klarna-password-3e8f";
/// A Klarna user whose agreement allows IN_STORE.
pub const KLARNA_IN_STORE_USER: &str = "PK4712_kassa_store";

pub const CL_CLIENT_ID: &str = "cl-integration-4f1a";
pub const CL_CLIENT_SECRET: &str = "cl-integration-secret-8d2c";
pub const CL_SALES_CHANNEL: &str = "cl-sales-channel-77b0";
pub const CL_MARKET: &str = "kGbnLhkXyZ";
pub const CL_ADDRESS: &str = "wQpRsTuVxY";
/// The merchant's OCID and signing key (the notes' TV1 key: a test key, public by design).
pub const OC_OCID: u64 = 500;
pub const OC_PRIVATE_KEY: &str = "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";

/// The public key of [`OC_PRIVATE_KEY`] (128 hex).
pub fn oc_public_key() -> String {
    kassa_core::provider::opencharge::sign::Key::from_hex(&kassa_core::secrets::Secret::new(
        OC_PRIVATE_KEY,
    ))
    .unwrap()
    .public_key_hex()
}

/// Every emulator account the tests use: each provider's fixture picks its own.
pub fn sandbox_config() -> Config {
    Config {
        dintero_accounts: vec![DinteroAccount {
            account_id: DINTERO_ACCOUNT.into(),
            client_id: DINTERO_CLIENT_ID.into(),
            client_secret: DINTERO_CLIENT_SECRET.into(),
        }],
        bambora_accounts: vec![BamboraAccount {
            merchant_number: MERCHANT.into(),
            access_token: ACCESS_TOKEN.into(),
            secret_token: SECRET_TOKEN.into(),
            md5_key: MD5_KEY.into(),
        }],
        klarna_accounts: vec![
            KlarnaAccount {
                username: KLARNA_USER.into(),
                password: KLARNA_PASSWORD.into(),
                in_store: false,
            },
            KlarnaAccount {
                username: KLARNA_IN_STORE_USER.into(),
                password: KLARNA_PASSWORD.into(),
                in_store: true,
            },
        ],
        commercelayer_accounts: vec![CommerceLayerAccount {
            client_id: CL_CLIENT_ID.into(),
            client_secret: CL_CLIENT_SECRET.into(),
            sales_channel_client_id: CL_SALES_CHANNEL.into(),
            market_id: CL_MARKET.into(),
            address_id: CL_ADDRESS.into(),
            currency: "NOK".into(),
            tax_included: true,
            // The manual calculator's one rate; SKUs carry their category's rate.
            default_tax_rate_bp: 2500,
            skus: vec![
                Sku {
                    code: "kaffe-1".into(),
                    tax_rate_bp: 1500,
                },
                Sku {
                    code: "ost-1".into(),
                    tax_rate_bp: 1500,
                },
            ],
            auto_capture: false,
        }],
        opencharge_merchants: vec![OpenchargeParty {
            ocid: OC_OCID,
            public_key: oc_public_key(),
            onboarded: true,
        }],
        ..Default::default()
    }
}

/// A sale with a weighed line, a line discount and an order discount; no reference, so each
/// charge gets a fresh one (Bambora order ids are unique per merchant).
pub const ORDER: &str = r#"{"currency":"NOK","prices_include_vat":true,"discount":500,"lines":[
  {"sku":"kaffe-1","name":"Kaffe","quantity":"3","unit":"pcs","unit_price":1999,"vat_rate":"15","discount":100},
  {"sku":"ost-1","name":"Hvitost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":"15"},
  {"name":"Bolle","quantity":"2","unit_price":2500,"vat_rate":"25"}]}"#;

pub fn control(sandbox: &Sandbox, path: &str, body: &str) -> Value {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "sandbox",
            &Request::new(Method::Post, format!("{}/_control{path}", sandbox.url()))
                .json(body.as_bytes().to_vec()),
        )
        .unwrap();
    assert!(
        r.status < 300,
        "control {path} → {}: {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// The HTTP status of a control request that is expected to be refused.
pub fn control_status(sandbox: &Sandbox, path: &str, body: &str) -> u16 {
    Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "sandbox",
            &Request::new(Method::Post, format!("{}/_control{path}", sandbox.url()))
                .json(body.as_bytes().to_vec()),
        )
        .unwrap()
        .status
}

/// A control read (`GET /_control{path}`).
pub fn control_get(sandbox: &Sandbox, path: &str) -> Value {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "sandbox",
            &Request::new(Method::Get, format!("{}/_control{path}", sandbox.url())),
        )
        .unwrap();
    assert!(r.status < 300, "control GET {path} → {}", r.status);
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// A control setting (`PUT /_control{path}`).
pub fn control_put(sandbox: &Sandbox, path: &str, body: &str) {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "sandbox",
            &Request::new(Method::Put, format!("{}/_control{path}", sandbox.url()))
                .json(body.as_bytes().to_vec()),
        )
        .unwrap();
    assert!(r.status < 300, "control PUT {path} → {}", r.status);
}

pub fn json(o: &Output) -> Value {
    let text = stdout(o);
    serde_json::from_str(text.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}\nstderr: {}", stderr(o)))
}

/// The setting that points `provider` at `sandbox`, and its value. Opencharge has no base URL:
/// its gateway's URL is the setting.
fn base_setting(sandbox: &Sandbox, provider: &str) -> (String, String) {
    match provider {
        "opencharge" => (
            "opencharge.gateway_url".into(),
            sandbox.opencharge_payment_gateway_url(),
        ),
        _ => (
            format!("{provider}.base_url"),
            format!("{}/{provider}", sandbox.url()),
        ),
    }
}

/// Where [`Shop::for_provider`] has the sandbox keep the Dintero emulator's state.
const DINTERO_STATE: &str = "dintero-emulator.json";

/// A data dir configured for one provider at a fresh sandbox.
pub struct Shop {
    pub dir: DataDir,
    pub sandbox: Sandbox,
    pub order: String,
    _keyring: std::sync::MutexGuard<'static, ()>,
}

impl Shop {
    pub fn new(
        name: &str,
        provider: &str,
        settings: &[(&str, &str)],
        secrets: &[(&str, &str)],
    ) -> Shop {
        Shop::with_sandbox(name, provider, settings, secrets, |_| sandbox_config())
    }

    /// [`Shop::new`] with the sandbox's [`Config`] made by `config(data dir)` (e.g. to keep the
    /// Dintero emulator's state in a file there).
    pub fn with_sandbox(
        name: &str,
        provider: &str,
        settings: &[(&str, &str)],
        secrets: &[(&str, &str)],
        config: impl FnOnce(&Path) -> Config,
    ) -> Shop {
        let guard = keyring_lock();
        let dir = DataDir::new(name);
        let sandbox = Sandbox::start(0, config(&dir.0)).unwrap();
        let base = base_setting(&sandbox, provider);
        let mut all = vec![base, ("default_provider".to_string(), provider.to_string())];
        all.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let order = dir.0.join("order.json");
        std::fs::write(&order, ORDER).unwrap();
        let shop = Shop {
            order: order.to_str().unwrap().to_string(),
            dir,
            sandbox,
            _keyring: guard,
        };
        for (k, v) in all {
            shop.config(&k, &v);
        }
        for (field, value) in secrets {
            shop.credential(provider, field, value);
        }
        shop
    }

    /// A shop for any of the five real providers with the settings and credentials their own
    /// tests use; the Dintero emulator keeps its state in [`Shop::dintero_state`].
    pub fn for_provider(name: &str, provider: &str) -> Shop {
        let ocid = OC_OCID.to_string();
        type Pairs<'a> = Vec<(&'a str, &'a str)>;
        let (settings, secrets): (Pairs, Pairs) = match provider {
            "dintero" => (
                vec![("dintero.account_id", DINTERO_ACCOUNT)],
                vec![
                    ("client_id", DINTERO_CLIENT_ID),
                    ("client_secret", DINTERO_CLIENT_SECRET),
                ],
            ),
            "bambora" => (
                vec![("bambora.merchant_number", MERCHANT)],
                vec![
                    ("access_token", ACCESS_TOKEN),
                    ("secret_token", SECRET_TOKEN),
                    ("md5_key", MD5_KEY),
                ],
            ),
            "klarna" => (
                vec![],
                vec![("username", KLARNA_USER), ("password", KLARNA_PASSWORD)],
            ),
            "commercelayer" => (
                vec![
                    ("commercelayer.organization", "kassa-shop"),
                    ("commercelayer.market", CL_MARKET),
                    ("commercelayer.address_id", CL_ADDRESS),
                ],
                vec![
                    ("client_id", CL_CLIENT_ID),
                    ("client_secret", CL_CLIENT_SECRET),
                    ("sales_channel_client_id", CL_SALES_CHANNEL),
                ],
            ),
            "opencharge" => (
                vec![
                    ("opencharge.ocid", &ocid),
                    ("opencharge.gateway_ocid", "100"),
                ],
                vec![("private_key", OC_PRIVATE_KEY)],
            ),
            other => panic!("{other} is not one of the five real providers"),
        };
        Shop::with_sandbox(name, provider, &settings, &secrets, |dir| Config {
            state_file: Some(dir.join(DINTERO_STATE)),
            ..sandbox_config()
        })
    }

    /// The Dintero emulator's sessions and transactions, as it saved them (shops made by
    /// [`Shop::for_provider`]): `{"sessions": {id: …}, "transactions": {id: …}}`.
    /// No file yet means the emulator has not created anything; a file that cannot be read or
    /// parsed panics (an empty answer would make "no session at Dintero" checks pass unchecked).
    pub fn dintero_state(&self) -> Value {
        let path = self.dir.0.join(DINTERO_STATE);
        kassa_sandbox::read_state_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The base-URL setting of `provider` and its value at this shop's sandbox.
    pub fn base_setting(&self, provider: &str) -> (String, String) {
        base_setting(&self.sandbox, provider)
    }

    pub fn config(&self, key: &str, value: &str) {
        let out = cli(&self.dir.0, &["config", "set", key, value], None);
        assert!(out.status.success(), "{}", stderr(&out));
    }

    pub fn credential(&self, provider: &str, field: &str, value: &str) {
        let out = cli(
            &self.dir.0,
            &["credentials", "set", provider, field, "--profile", "test"],
            Some(value),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }

    /// What the customer does on a hosted page (`path`: the control path of the session),
    /// through the sandbox's control API; returns its answer (`{"redirect": …}`).
    pub fn outcome(&self, path: &str, what: &str) -> Value {
        control(
            &self.sandbox,
            &format!("{path}/outcome"),
            &format!(r#"{{"outcome":"{what}"}}"#),
        )
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        cli_env(&self.dir.0, args, None, &[("KASSA_HTTP_TIMEOUT", "2")])
    }

    /// Charges the order: (Kassa id, provider session id, checkout URL).
    pub fn open(&self, webview: bool) -> (String, String, String) {
        let mut args = vec!["charge", "--order", &self.order, "--json"];
        if webview {
            args.push("--webview");
        }
        let out = self.cli(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["status"], "open", "{v}");
        (
            v["id"].as_str().unwrap().into(),
            v["provider_session_id"].as_str().unwrap().into(),
            v["url"].as_str().unwrap().into(),
        )
    }

    /// A sale at `provider` (this shop's), paid the way its customers pay: the order charged
    /// and paid on the provider's page (Bambora: in the till's window, whose verified accept
    /// URL brings the transaction id capture and refund need; the others by QR), then seen
    /// paid. The session id.
    pub fn sell(&self, provider: &str) -> String {
        let webview = provider == "bambora";
        let (id, psid, _) = self.open(webview);
        let page = match provider {
            "dintero" => format!("/dintero/sessions/{psid}"),
            "klarna" => format!("/klarna/sessions/{psid}"),
            "bambora" => format!("/bambora/sessions/{}", psid.split_once('/').unwrap().1),
            "commercelayer" => format!("/commercelayer/orders/{psid}"),
            other => panic!("{other} has no page to pay on here"),
        };
        let answer = self.outcome(&page, "pay");
        let status = if webview {
            let accept = answer["redirect"].as_str().unwrap();
            let out = self.cli(&["returned", &id, accept, "--json"]);
            assert!(out.status.success(), "{}", stderr(&out));
            json(&out)
        } else {
            self.status(&id)
        };
        assert_eq!(status["status"], "paid", "{status}");
        id
    }

    pub fn status(&self, id: &str) -> Value {
        let out = self.cli(&["status", id, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        json(&out)
    }

    pub fn session(&self, id: &str) -> Value {
        let out = self.cli(&["session", id, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    }

    pub fn faults(&self, faults: &str) {
        control(
            &self.sandbox,
            "/faults",
            &format!(r#"{{"faults":[{faults}]}}"#),
        );
    }

    /// Time passes: the session's expiry moves into the past in the session log.
    pub fn age(&self, id: &str) {
        let db = rusqlite::Connection::open(self.dir.0.join("sessions.db")).unwrap();
        db.execute("UPDATE sessions SET expires_at = 1 WHERE id = ?1", [id])
            .unwrap();
    }

    /// Time passes for an authorization: the session log's record of when it lapses becomes
    /// `from_now_ms` from now (as if the provider's date had come that close).
    pub fn age_authorization(&self, id: &str, from_now_ms: i64) {
        let db = rusqlite::Connection::open(self.dir.0.join("sessions.db")).unwrap();
        let at = kassa_core::time::now_millis() + from_now_ms;
        let n = db
            .execute(
                "UPDATE sessions SET authorization_expires_at = ?2 WHERE id = ?1",
                rusqlite::params![id, at],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
}

pub fn events(s: &Value) -> String {
    s["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["kind"].as_str().unwrap(),
                e["status"].as_str().unwrap_or("-"),
                e["detail"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// No file in the data directory holds a credential, plain or as a Basic header.
pub fn assert_no_secret_stored(dir: &Path, secrets: &[&str]) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            for needle in secrets {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{} holds a credential",
                    p.display()
                );
            }
        }
    }
}
