//! What each provider's emulator holds of a sale's money, read from the emulator itself (never
//! from Kassa's log): its successful captures and refunds, for the after-sale tests and the
//! reliability harness to compare with what Kassa recorded.

use super::shop::*;
use kassa_core::http::{Http, HttpConfig, Method, Request};
use serde_json::Value;

/// Money an emulator moved: a successful capture or refund, with Kassa's reference where the
/// provider keeps one (Dintero's `event_reference`, Klarna's `reference`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub kind: &'static str,
    pub reference: Option<String>,
    pub amount: i64,
}

/// What `provider`'s emulator at `shop` moved for the logged session `s` (`session --json`).
pub fn moved(shop: &Shop, provider: &str, s: &Value) -> Vec<Moved> {
    match provider {
        "dintero" => dintero_moves(&shop.dintero_state(), s),
        "klarna" => klarna_moves(shop, s),
        "bambora" => bambora_moves(shop, s),
        "commercelayer" => commercelayer_moves(shop, s),
        other => panic!("{other} moves no money at an emulator"),
    }
}

/// Those of `kind` (`capture`, `refund`).
pub fn moved_of(shop: &Shop, provider: &str, s: &Value, kind: &str) -> Vec<Moved> {
    moved(shop, provider, s)
        .into_iter()
        .filter(|m| m.kind == kind)
        .collect()
}

/// The Dintero emulator's successful CAPTURE and REFUND events of the session's transaction,
/// from its saved state (the demo's too).
pub fn dintero_moves(state: &Value, s: &Value) -> Vec<Moved> {
    let reference = s["merchant_reference"].as_str().unwrap();
    let mut out = Vec::new();
    for t in state["transactions"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        if t["merchant_reference"].as_str() != Some(reference) {
            continue;
        }
        for e in t["events"].as_array().into_iter().flatten() {
            let kind = match e["event"].as_str() {
                Some("CAPTURE") => "capture",
                Some("REFUND") => "refund",
                _ => continue,
            };
            if e["success"] == true {
                out.push(Moved {
                    kind,
                    reference: e["event_reference"].as_str().map(str::to_string),
                    amount: e["amount"].as_i64().unwrap_or(0),
                });
            }
        }
    }
    out
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A GET at the sandbox as the merchant: the JSON body (null when there is none).
fn get(url: &str, authorization: Option<String>) -> Value {
    let mut r = Request::new(Method::Get, url);
    if let Some(a) = authorization {
        r = r.header("authorization", a);
    }
    let resp = Http::new(HttpConfig::default())
        .unwrap()
        .send("sandbox", &r)
        .unwrap();
    assert!(resp.status < 300, "GET {url}: HTTP {}", resp.status);
    serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
}

/// Klarna: the Order Management order's `captures[]` and `refunds[]`, each with its
/// `reference` (Kassa's operation id; none on the capture Klarna made with the payment).
/// Nothing before Kassa knows the order id.
pub fn klarna_moves(shop: &Shop, s: &Value) -> Vec<Moved> {
    let Some(order) = s["provider_payment_id"].as_str() else {
        return Vec::new();
    };
    let o = get(
        &format!(
            "{}/klarna/ordermanagement/v1/orders/{order}",
            shop.sandbox.url()
        ),
        Some(basic(KLARNA_USER, KLARNA_PASSWORD)),
    );
    let of = |list: &str, kind, amount: &str| -> Vec<Moved> {
        o[list]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| Moved {
                kind,
                reference: m["reference"].as_str().map(str::to_string),
                amount: m[amount].as_i64().unwrap(),
            })
            .collect()
    };
    let mut out = of("captures", "capture", "captured_amount");
    out.extend(of("refunds", "refund", "refunded_amount"));
    out
}

/// Bambora: the transaction's approved `capture` and `credit` operations at any depth (an
/// instant capture sits under its authorization). Bambora keeps no reference of Kassa's.
/// Nothing without the transaction id (a QR sale).
pub fn bambora_moves(shop: &Shop, s: &Value) -> Vec<Moved> {
    let Some(txnid) = s["provider_payment_id"].as_str() else {
        return Vec::new();
    };
    let v = get(
        &format!(
            "{}/bambora/transactions/{txnid}/transactionoperations",
            shop.sandbox.url()
        ),
        Some(basic(&format!("{ACCESS_TOKEN}@{MERCHANT}"), SECRET_TOKEN)),
    );
    // Depth first in Bambora's order: each operation, then the ones it holds.
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = v["transactionoperations"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .collect();
    while let Some(op) = stack.pop() {
        stack.extend(
            op["transactionoperations"]
                .as_array()
                .into_iter()
                .flatten()
                .rev(),
        );
        let kind = match op["action"].as_str() {
            Some("capture") => "capture",
            Some("credit") => "refund",
            _ => continue,
        };
        if op["status"] == "approved" {
            out.push(Moved {
                kind,
                reference: None,
                amount: op["amount"].as_i64().unwrap(),
            });
        }
    }
    out
}

/// Commerce Layer: the order's succeeded captures and refunds (its own control read). The
/// reference Kassa tags on one after making it is not one the transaction was made with, so
/// none here: an unclear outcome is found by the pre-image, as at Bambora.
pub fn commercelayer_moves(shop: &Shop, s: &Value) -> Vec<Moved> {
    let order = s["provider_session_id"].as_str().unwrap();
    let o = get(
        &format!(
            "{}/_control/commercelayer/orders/{order}",
            shop.sandbox.url()
        ),
        None,
    );
    o["included"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let kind = match t["type"].as_str() {
                Some("captures") => "capture",
                Some("refunds") => "refund",
                _ => return None,
            };
            (t["attributes"]["succeeded"] == true).then(|| Moved {
                kind,
                reference: None,
                amount: t["attributes"]["amount_cents"].as_i64().unwrap(),
            })
        })
        .collect()
}
