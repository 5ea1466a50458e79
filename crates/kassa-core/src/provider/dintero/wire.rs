//! Dintero Checkout's wire types (the provider's own field names) and the pure mapping between
//! them and Kassa's types. No I/O here.
//!
//! Sources: `../shared/providers/dintero/spec-payments.yaml` (the July 2024 Checkout API
//! spec; line numbers below as `S:n`) and NOTES-bambora-dintero-klarna.md §2.
//!
//! Amounts: `order.amount` and each item's `amount` are gross (VAT and discounts included) in
//! minor units, and an item's `amount` is the line total, not a unit price (S:4506, S:4037ff).
//! `vat` is a percent (`25`, `12.5`), never a fraction (S: OrderItem.vat). `vat_amount` is
//! "only used for display" by Dintero, but Kassa sends the quote's exact figures, so
//! Σ items.amount = order.amount and Σ items.vat_amount = order.vat_amount always hold
//! (the `strict-session-amounts` toggle makes Dintero check the first).

use crate::money::canonical_decimal;
use crate::quote::PricedOrder;
use crate::session::Status;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `POST /v1/accounts/{aid}/auth/token` body (S:1506ff, S:2582ff).
#[derive(Debug, Serialize)]
pub struct TokenRequest {
    pub grant_type: &'static str,
    pub audience: String,
}

/// `POST /v1/sessions-profile` body (S:67ff, SessionProfile S:6437ff).
#[derive(Debug, Serialize)]
pub struct SessionProfileRequest<'a> {
    pub profile_id: &'a str,
    pub order: SessionOrder<'a>,
    pub url: SessionUrls<'a>,
    pub configuration: Configuration,
    pub expires_at: String,
}

#[derive(Debug, Serialize)]
pub struct SessionOrder<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub merchant_reference: &'a str,
    pub vat_amount: i64,
    pub items: Vec<OrderItem>,
}

#[derive(Debug, Serialize)]
pub struct OrderItem {
    pub id: String,
    pub line_id: String,
    pub description: String,
    /// A JSON number written from Kassa's exact decimal text (`1`, `0.25`), never a float.
    pub quantity: Box<RawValue>,
    pub amount: i64,
    pub vat_amount: i64,
    /// Percent as an exact JSON number (`25`, `12.5`).
    pub vat: Box<RawValue>,
}

/// `url` (S:2732ff). No `callback_url`: a till behind NAT cannot receive it; Kassa polls.
#[derive(Debug, Serialize)]
pub struct SessionUrls<'a> {
    pub return_url: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Configuration {
    /// `in_store` (S:6013ff): the payment happens in a physical store.
    pub channel: &'static str,
}

/// `SessionCreated` (S:9593ff); `session` is present because Kassa asks with
/// `include_session=true`, which saves a GET for the expiry.
#[derive(Debug, Deserialize)]
pub struct SessionCreated {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub session: Option<SessionRead>,
}

/// The parts of a session (`GET /v1/sessions/{id}`, S:123ff) that tell its state. Dintero
/// sessions have no status field: it follows from these (S:6737ff, S:6881ff, S:6977ff).
#[derive(Debug, Deserialize)]
pub struct SessionRead {
    pub id: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    #[serde(default)]
    pub events: Vec<SessionEvent>,
}

#[derive(Debug, Deserialize)]
pub struct SessionEvent {
    pub name: String,
}

/// `GET /v1/transactions/{id}` (S:728ff, Transaction S:7937ff): the fields Kassa checks.
#[derive(Debug, Deserialize)]
pub struct Transaction {
    pub id: String,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub merchant_reference: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
}

/// Dintero's error body (S:6987ff): `{"error": {"code", "message", "errors"}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorInner,
}

#[derive(Debug, Deserialize)]
pub struct ErrorInner {
    #[serde(default)]
    pub code: Option<String>,
    pub message: String,
}

fn raw_number(text: String) -> Box<RawValue> {
    // Kassa's canonical decimals ("1", "0.25", "12.5") are valid JSON numbers.
    RawValue::from_string(text).expect("a canonical decimal is a JSON number")
}

/// Builds the create body from the priced order.
pub fn session_request<'a>(
    order: &'a PricedOrder,
    profile_id: &'a str,
    return_url: &'a str,
    expires_at: String,
) -> SessionProfileRequest<'a> {
    let items = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| OrderItem {
            id: line
                .sku
                .clone()
                .unwrap_or_else(|| format!("line-{}", i + 1)),
            line_id: (i + 1).to_string(),
            description: line.name.clone(),
            quantity: raw_number(line.quantity.to_canonical()),
            amount: line.gross,
            vat_amount: line.vat,
            vat: raw_number(canonical_decimal(
                i128::from(line.vat_rate.basis_points()),
                2,
            )),
        })
        .collect();
    SessionProfileRequest {
        profile_id,
        order: SessionOrder {
            amount: order.total.gross,
            currency: order.currency.code(),
            merchant_reference: &order.reference,
            vat_amount: order.total.vat,
            items,
        },
        url: SessionUrls { return_url },
        configuration: Configuration {
            channel: "in_store",
        },
        expires_at,
    }
}

/// What a session says without its transaction.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionState {
    /// A transaction exists: its status decides.
    HasTransaction(String),
    Done(Status, String),
}

/// Maps a session to a status (the transaction, if any, is read next).
pub fn session_state(s: &SessionRead, now: i64) -> SessionState {
    if let Some(t) = &s.transaction_id {
        return SessionState::HasTransaction(t.clone());
    }
    if let Some(at) = &s.cancelled_at {
        return SessionState::Done(Status::Cancelled, format!("session cancelled at {at}"));
    }
    if s.events.iter().any(|e| e.name == "FAILED") {
        return SessionState::Done(Status::Failed, "session FAILED".into());
    }
    let expired = s
        .expires_at
        .as_deref()
        .and_then(|t| crate::time::parse_utc(t).ok())
        .is_some_and(|t| t <= now);
    if expired {
        return SessionState::Done(
            Status::Expired,
            format!(
                "session expired at {} without a transaction",
                s.expires_at.as_deref().unwrap_or("")
            ),
        );
    }
    SessionState::Done(Status::Open, "session open, no transaction yet".into())
}

/// Maps a transaction to a status. Paid only when Dintero reports `AUTHORIZED`, `CAPTURED` or
/// `PARTIALLY_CAPTURED` *and* the amount and currency cover the order; `ON_HOLD` and
/// `INITIATED` are still pending (S:2751ff). Refund states on a session Kassa has not yet
/// seen paid go to `needs_review`: money moved and came back outside this till.
pub fn transaction_status(t: &Transaction, gross: i64, currency: &str) -> (Status, String) {
    let detail = format!(
        "transaction {} {} ({} {})",
        t.id, t.status, t.amount, t.currency
    );
    let status = match t.status.as_str() {
        "AUTHORIZED" | "CAPTURED" | "PARTIALLY_CAPTURED" => {
            if t.amount >= gross && t.currency == currency {
                Status::Paid
            } else {
                return (
                    Status::NeedsReview,
                    format!("{detail}: does not cover the order ({gross} {currency})"),
                );
            }
        }
        "INITIATED" | "ON_HOLD" => Status::Open,
        "AUTHORIZATION_VOIDED" => Status::Cancelled,
        "DECLINED" | "FAILED" => Status::Failed,
        "REFUNDED" | "PARTIALLY_REFUNDED" | "PARTIALLY_CAPTURED_REFUNDED" => Status::NeedsReview,
        // `UNKNOWN` and any status newer than the spec: Kassa cannot tell.
        _ => Status::Unknown,
    };
    (status, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quote_document;

    #[test]
    fn items_sum_to_the_order_and_use_percent() {
        let order = quote_document(
            r#"{"currency":"NOK","prices_include_vat":true,"reference":"R-1","lines":[
                {"name":"Kaffe","quantity":"3","unit_price":1999,"vat_rate":"25"},
                {"name":"Bolle","sku":"B1","quantity":"0.5","unit_price":1000,"vat_rate":"15"}
            ]}"#,
            "X",
        )
        .unwrap();
        let req = session_request(&order, "default", "https://shop.example/r", "T".into());
        let json = serde_json::to_value(&req).unwrap();
        let items = json["order"]["items"].as_array().unwrap();
        // NOTES §2.4's worked example: 3 × 19.99 @ 25 % → amount 5997, vat_amount 1199.
        assert_eq!(items[0]["amount"], 5997);
        assert_eq!(items[0]["vat_amount"], 1199);
        assert_eq!(items[0]["vat"], 25);
        assert_eq!(items[0]["quantity"], 3);
        assert_eq!(items[0]["id"], "line-1");
        assert_eq!(items[1]["id"], "B1");
        assert_eq!(items[1]["line_id"], "2");
        assert_eq!(serde_json::to_string(&items[1]["quantity"]).unwrap(), "0.5");
        let sum: i64 = items.iter().map(|i| i["amount"].as_i64().unwrap()).sum();
        assert_eq!(json["order"]["amount"], sum);
        let vat: i64 = items
            .iter()
            .map(|i| i["vat_amount"].as_i64().unwrap())
            .sum();
        assert_eq!(json["order"]["vat_amount"], vat);
        assert_eq!(json["configuration"]["channel"], "in_store");
        assert!(json["url"].get("callback_url").is_none());
    }

    #[test]
    fn twelve_and_a_half_percent_is_an_exact_number() {
        let order = quote_document(
            r#"{"currency":"NOK","prices_include_vat":true,"lines":[
                {"name":"A","quantity":"1","unit_price":10000,"vat_rate":"12.5"}]}"#,
            "X",
        )
        .unwrap();
        let req = session_request(&order, "default", "https://r", "T".into());
        let text = serde_json::to_string(&req).unwrap();
        assert!(text.contains(r#""vat":12.5"#), "{text}");
    }

    fn txn(status: &str, amount: i64) -> Transaction {
        Transaction {
            id: "T12345678.abc".into(),
            status: status.into(),
            amount,
            currency: "NOK".into(),
            merchant_reference: None,
            session_id: None,
        }
    }

    #[test]
    fn only_authorized_or_captured_covering_the_order_is_paid() {
        assert_eq!(
            transaction_status(&txn("AUTHORIZED", 100), 100, "NOK").0,
            Status::Paid
        );
        assert_eq!(
            transaction_status(&txn("CAPTURED", 100), 100, "NOK").0,
            Status::Paid
        );
        assert_eq!(
            transaction_status(&txn("ON_HOLD", 100), 100, "NOK").0,
            Status::Open
        );
        assert_eq!(
            transaction_status(&txn("INITIATED", 100), 100, "NOK").0,
            Status::Open
        );
        assert_eq!(
            transaction_status(&txn("DECLINED", 100), 100, "NOK").0,
            Status::Failed
        );
        assert_eq!(
            transaction_status(&txn("AUTHORIZATION_VOIDED", 100), 100, "NOK").0,
            Status::Cancelled
        );
        assert_eq!(
            transaction_status(&txn("AUTHORIZED", 99), 100, "NOK").0,
            Status::NeedsReview
        );
        assert_eq!(
            transaction_status(&txn("AUTHORIZED", 100), 100, "SEK").0,
            Status::NeedsReview
        );
        assert_eq!(
            transaction_status(&txn("REFUNDED", 100), 100, "NOK").0,
            Status::NeedsReview
        );
        assert_eq!(
            transaction_status(&txn("BRAND_NEW", 100), 100, "NOK").0,
            Status::Unknown
        );
    }

    #[test]
    fn session_without_transaction() {
        let s = |cancelled: Option<&str>, expires: &str, events: &[&str]| SessionRead {
            id: "T1.x".into(),
            expires_at: Some(expires.into()),
            transaction_id: None,
            cancelled_at: cancelled.map(Into::into),
            events: events
                .iter()
                .map(|n| SessionEvent {
                    name: n.to_string(),
                })
                .collect(),
        };
        let now = crate::time::parse_utc("2026-11-21T12:00:00Z").unwrap();
        let open = s(None, "2026-11-21T12:15:00Z", &["INITIATED"]);
        assert!(matches!(
            session_state(&open, now),
            SessionState::Done(Status::Open, _)
        ));
        let gone = s(None, "2026-11-21T11:59:59.999Z", &[]);
        assert!(matches!(
            session_state(&gone, now),
            SessionState::Done(Status::Expired, _)
        ));
        let c = s(Some("2026-11-21T11:00:00Z"), "2026-11-21T12:15:00Z", &[]);
        assert!(matches!(
            session_state(&c, now),
            SessionState::Done(Status::Cancelled, _)
        ));
        let f = s(None, "2026-11-21T12:15:00Z", &["PAY_FAILED", "FAILED"]);
        assert!(matches!(
            session_state(&f, now),
            SessionState::Done(Status::Failed, _)
        ));
    }
}
