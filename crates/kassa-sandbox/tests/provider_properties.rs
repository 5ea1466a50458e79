//! Property tests: every valid order, priced by Kassa and mapped by Kassa's Bambora and Klarna
//! wire code, is a request the strict emulators accept (Klarna's sums, ±1 tax rule and
//! `total_amount = quantity × unit_price − discount`; Bambora's line and order sums). An order
//! beyond Klarna's per-line limit is refused by Kassa before any request, with the reason.

use base64::Engine;
use kassa_core::http::{Http, HttpConfig, Method, Request};
use kassa_core::provider::{bambora, klarna};
use kassa_sandbox::{BamboraAccount, Config, KlarnaAccount, Sandbox};
use proptest::prelude::*;
use std::sync::OnceLock;

fn sandbox() -> &'static Sandbox {
    static S: OnceLock<Sandbox> = OnceLock::new();
    S.get_or_init(|| {
        Sandbox::start(
            0,
            Config {
                bambora_accounts: vec![BamboraAccount {
                    merchant_number: "T123456789".into(),
                    access_token: "at".into(),
                    secret_token: "st".into(),
                    md5_key: "md5".into(),
                }],
                klarna_accounts: vec![KlarnaAccount {
                    username: "PK1_prop".into(),
                    password: "pw".into(),
                    in_store: false,
                }],
                ..Default::default()
            },
        )
        .unwrap()
    })
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

/// A random valid order document: whole and weighed quantities, any VAT rate, line and order
/// discounts, prices with or without VAT.
fn order() -> impl Strategy<Value = String> {
    let line = (
        prop_oneof![(1i64..=12).prop_map(|q| q * 1000), 1i64..=20_000],
        1i64..=2_000_000,
        prop_oneof![
            Just(2500u32),
            Just(1500),
            Just(1200),
            Just(0),
            0u32..=10_000
        ],
        0i64..=900,
    );
    (
        proptest::collection::vec(line, 1..6),
        any::<bool>(),
        0i64..=500,
        prop_oneof![Just("NOK"), Just("SEK"), Just("EUR")],
    )
        .prop_map(|(lines, incl, order_permille, currency)| {
            let mut subtotal = 0i128;
            let lines: Vec<serde_json::Value> = lines
                .iter()
                .enumerate()
                .map(|(i, &(milli, price, bp, permille))| {
                    let amount = (i128::from(milli) * i128::from(price) + 500) / 1000;
                    let discount = (amount * i128::from(permille) / 1000) as i64;
                    subtotal += amount - i128::from(discount);
                    serde_json::json!({
                        "sku": format!("sku-{i}"),
                        "name": format!("Item {i}"),
                        "unit": if milli % 1000 == 0 { "pcs" } else { "kg" },
                        "quantity": format!("{}.{:03}", milli / 1000, milli % 1000),
                        "unit_price": price,
                        "vat_rate": format!("{}.{:02}", bp / 100, bp % 100),
                        "discount": discount,
                    })
                })
                .collect();
            serde_json::json!({
                "currency": currency,
                "prices_include_vat": incl,
                "discount": (subtotal * i128::from(order_permille) / 1000) as i64,
                "lines": lines,
            })
            .to_string()
        })
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
                    "PK1_prop",
                    "pw",
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
            "at@T123456789",
            "st",
            serde_json::to_vec(&body).unwrap(),
        );
        // A repeated order id (the same random reference twice) is the only other answer.
        prop_assert!(status == 200 || (status == 409 && text.contains("order")), "{} {}\n{}", status, text, body);
    }
}
