//! Property tests: every valid order, priced by Kassa and mapped by Kassa's Bambora and Klarna
//! wire code, is a request the strict emulators accept (Klarna's sums, ±1 tax rule and
//! `total_amount = quantity × unit_price − discount`; Bambora's line and order sums). An order
//! beyond Klarna's per-line limit is refused by Kassa before any request, with the reason.
//! Commerce Layer and Opencharge go through the whole client (`Provider::create`): Commerce
//! Layer's order, computed by its own calculator, must equal Kassa's quote to the minor unit
//! (the client refuses otherwise), and the Opencharge gateway checks `amount = Σ price ×
//! quantity` and both signatures.

use base64::Engine;
use kassa_core::http::{Http, HttpConfig, Method, Request};
use kassa_core::provider::commercelayer::{CommerceLayer, CommerceLayerConfig};
use kassa_core::provider::opencharge::{Mode, Opencharge, OpenchargeConfig};
use kassa_core::provider::{bambora, klarna};
use kassa_core::provider::{CreateRequest, Presentation, Provider};
use kassa_core::secrets::Secret;
use kassa_sandbox::commercelayer::Sku;
use kassa_sandbox::{
    BamboraAccount, CommerceLayerAccount, Config, KlarnaAccount, OpenchargeParty, Sandbox,
};
use proptest::prelude::*;
use std::sync::OnceLock;

#[path = "support/random_orders.rs"]
mod random_orders;
use random_orders::order;

fn sandbox() -> &'static Sandbox {
    static S: OnceLock<Sandbox> = OnceLock::new();
    S.get_or_init(|| {
        Sandbox::start(
            0,
            Config {
                bambora_accounts: vec![BamboraAccount {
                    merchant_number: "T123456789".into(),
                    access_token: "prop-access-1c7e".into(),
                    secret_token: "prop-secret-token-93b1".into(),
                    md5_key: "prop-md5-key-4a0f".into(),
                }],
                klarna_accounts: vec![KlarnaAccount {
                    username: "PK1_prop_52d9".into(),
                    password: "prop-klarna-pw-0e6b".into(),
                    in_store: false,
                }],
                // One market per currency and price-list kind; a SKU per VAT rate the orders
                // use (`vat-<bp>`), so every line is taxed at its own rate.
                commercelayer_accounts: ["NOK", "SEK", "EUR"]
                    .iter()
                    .flat_map(|c| [(c, true), (c, false)])
                    .map(|(c, incl)| CommerceLayerAccount {
                        client_id: format!("prop-cl-{c}-{incl}-2b"),
                        client_secret: "prop-cl-secret-77f3".into(),
                        sales_channel_client_id: format!("prop-sc-{c}-{incl}-8e"),
                        market_id: format!("m{c}{incl}"),
                        address_id: "addr1".into(),
                        currency: c.to_string(),
                        tax_included: incl,
                        default_tax_rate_bp: 2500,
                        skus: (0..=10_000)
                            .map(|bp| Sku {
                                code: format!("vat-{bp}"),
                                tax_rate_bp: bp,
                            })
                            .collect(),
                        auto_capture: false,
                    })
                    .collect(),
                opencharge_merchants: vec![OpenchargeParty {
                    ocid: 500,
                    public_key: oc_key().public_key_hex(),
                    onboarded: true,
                }],
                ..Default::default()
            },
        )
        .unwrap()
    })
}

const OC_KEY: &str = "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";

fn oc_key() -> kassa_core::provider::opencharge::sign::Key {
    kassa_core::provider::opencharge::sign::Key::from_hex(&Secret::new(OC_KEY)).unwrap()
}

/// One client per market, kept for the whole run: its token is cached, as in the app (the
/// emulator allows 30 token requests a minute).
fn commercelayer(currency: &str, incl: bool) -> &'static CommerceLayer {
    static CLIENTS: OnceLock<Vec<(String, CommerceLayer)>> = OnceLock::new();
    let all = CLIENTS.get_or_init(|| {
        ["NOK", "SEK", "EUR"]
            .iter()
            .flat_map(|c| [(c, true), (c, false)])
            .map(|(c, incl)| {
                let config = CommerceLayerConfig {
                    label: "commercelayer".into(),
                    profile: "test".into(),
                    organization: "prop".into(),
                    market_id: format!("m{c}{incl}"),
                    address_id: "addr1".into(),
                    language: "nb".into(),
                    base_url: Some(sandbox().commercelayer_base_url()),
                    client_id: Secret::new(format!("prop-cl-{c}-{incl}-2b")),
                    client_secret: Secret::new("prop-cl-secret-77f3"),
                    sales_channel_client_id: Secret::new(format!("prop-sc-{c}-{incl}-8e")),
                };
                (
                    format!("{c}{incl}"),
                    CommerceLayer::new(config, Http::new(HttpConfig::default()).unwrap()),
                )
            })
            .collect()
    });
    &all.iter()
        .find(|(k, _)| *k == format!("{currency}{incl}"))
        .unwrap()
        .1
}

fn opencharge() -> &'static Opencharge {
    static CLIENT: OnceLock<Opencharge> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Opencharge::new(
            OpenchargeConfig {
                label: "opencharge".into(),
                profile: "test".into(),
                ocid: 500,
                gateway_url: sandbox().opencharge_payment_gateway_url(),
                gateway_ocid: 100,
                mode: Mode::CheckoutCreate,
                sign_items: true,
                private_key: Secret::new(OC_KEY),
            },
            Http::new(HttpConfig::default()).unwrap(),
        )
        .unwrap()
    })
}

/// Creates a checkout session for `priced` at `provider`.
fn create(provider: &dyn Provider, priced: &kassa_core::quote::PricedOrder) -> Result<(), String> {
    let now = kassa_core::time::now_millis();
    let id = kassa_core::session::SessionId::generate(now);
    provider
        .create(&CreateRequest {
            session_id: &id,
            order: priced,
            return_url: "https://kassa.invalid/return",
            cancel_url: "https://kassa.invalid/return?kassa=cancelled",
            presentation: Presentation::Qr,
            capture: kassa_core::provider::CapturePolicy::AtSale,
            now,
            expires_at: now + 15 * 60_000,
            sale: kassa_core::link::SaleKind::Counter,
            send: None,
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn post(url: String, user: &str, pass: &str, body: Vec<u8>) -> (u16, String) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(Method::Post, url)
                .header("authorization", format!("Basic {auth}"))
                .json(body),
        )
        .unwrap();
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn klarna_accepts_every_order_kassa_sends(doc in order()) {
        let s = sandbox();
        let Ok(priced) = kassa_core::quote_document(&doc, "K1") else {
            return Ok(()); // a zero total: nothing to charge
        };
        match klarna::wire::session_create(&priced, "ECOMMERCE", "NO", "nb-NO".into()) {
            Ok(body) => {
                let (status, text) = post(
                    format!("{}/payments/v1/sessions", s.klarna_base_url()),
                    "PK1_prop_52d9",
                    "prop-klarna-pw-0e6b",
                    serde_json::to_vec(&body).unwrap(),
                );
                prop_assert_eq!(status, 200, "{}\n{}", text, serde_json::to_string(&body).unwrap());
            }
            Err(reason) => {
                prop_assert!(reason.contains("Klarna's limit"), "{}", reason);
            }
        }
    }

    #[test]
    fn bambora_accepts_every_order_kassa_sends(doc in order(), n in any::<u32>()) {
        let s = sandbox();
        let Ok(priced) = kassa_core::quote_document(&doc, &format!("K{n}x{}", doc.len())) else {
            return Ok(());
        };
        let body = serde_json::json!({
            "reference": priced.reference,
            "description": "property test",
            "parameters": {"order": bambora::wire::order(&priced), "instantcaptureamount": priced.total.gross},
        });
        let (status, text) = post(
            format!("{}/paymentrequests", s.bambora_base_url()),
            "prop-access-1c7e@T123456789",
            "prop-secret-token-93b1",
            serde_json::to_vec(&body).unwrap(),
        );
        // A repeated order id (the same random reference twice) is the only other answer.
        prop_assert!(status == 200 || (status == 409 && text.contains("order")), "{} {}\n{}", status, text, body);
    }

    #[test]
    fn commercelayer_computes_every_order_exactly_as_kassa(doc in order()) {
        let Ok(priced) = kassa_core::quote_document(&doc, "K1") else {
            return Ok(());
        };
        let client = commercelayer(priced.currency.code(), priced.prices_include_vat);
        let result = create(client, &priced);
        prop_assert!(result.is_ok(), "{:?}\n{}", result, doc);
    }

    #[test]
    fn opencharge_accepts_every_order_kassa_signs(doc in order()) {
        let Ok(priced) = kassa_core::quote_document(&doc, "K1") else {
            return Ok(());
        };
        let result = create(opencharge(), &priced);
        prop_assert!(result.is_ok(), "{:?}\n{}", result, doc);
    }
}
