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
use crate::provider::{
    OperationAnswer, OperationKind, OperationLine, PaymentState, ProviderOperation, ProviderOutcome,
};
use crate::quote::PricedOrder;
use crate::session::Status;
use crate::time::parse_utc;
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
    /// Only for a link Dintero sends by SMS (`SessionCustomer`, S:2809ff).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<SessionCustomer<'a>>,
    pub configuration: Configuration,
    pub expires_at: String,
}

/// `customer` (S:2809ff): `phone_number` in E.123 with the international prefix (`+47…`),
/// which is E.164 with its `+`.
#[derive(Debug, Serialize)]
pub struct SessionCustomer<'a> {
    pub phone_number: &'a str,
}

/// One `configuration.publish` entry (PublishConfiguration, S:4792ff): Kassa asks only for
/// `{channel: sms, type: checkout-link}`.
#[derive(Debug, Serialize)]
pub struct Publish {
    pub channel: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A `publish[]` entry of the create's answer: `status` `sent`, `skipped` (not sendable to
/// the session's customer) or `failed` (S:4815ff). Dintero sends no SMS for test sessions.
#[derive(Debug, Deserialize)]
pub struct Published {
    pub channel: String,
    #[serde(default)]
    pub status: Option<String>,
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
    /// `in_store` (S:6013ff) for a counter sale: the payment happens in a physical store. A
    /// link sale leaves it out (Dintero's default, `ecommerce`: the customer pays elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<&'static str>,
    /// `true` under the at-sale capture policy: Dintero captures the transaction by itself once
    /// it is authorized (AutoCaptureConfiguration, S:4771ff), asynchronously and retrying for
    /// up to 48 h. Left out (Dintero's default, false) under the manual policy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_capture: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub publish: Vec<Publish>,
}

/// `SessionCreated` (S:9593ff); `session` is present because Kassa asks with
/// `include_session=true`, which saves a GET for the expiry.
#[derive(Debug, Deserialize)]
pub struct SessionCreated {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub publish: Vec<Published>,
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
    /// Only its `merchant_reference` is read: a session search matches loosely (below).
    #[serde(default)]
    pub order: Option<SessionReadOrder>,
}

/// A session's `order` as far as Kassa reads it.
#[derive(Debug, Deserialize)]
pub struct SessionReadOrder {
    #[serde(default)]
    pub merchant_reference: Option<String>,
}

impl SessionRead {
    /// Whether the session is the one created with `reference`. `GET /v1/sessions?search=`
    /// "will try to match" merchant_reference, merchant_reference_2 or the customer's name
    /// (Dintero's SessionApi, below), so every hit is checked for the exact reference.
    pub fn has_reference(&self, reference: &str) -> bool {
        self.order
            .as_ref()
            .and_then(|o| o.merchant_reference.as_deref())
            == Some(reference)
    }
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
    /// What happened to the transaction, oldest first (TransactionEvent, S:7136ff): the only
    /// record of what was captured and refunded (the transaction has no such field, facts
    /// §1.4).
    #[serde(default)]
    pub events: Vec<TransactionEvent>,
    /// e.g. `payex.creditcard`, `vipps`, `klarna.klarna`, `collector.invoice`: how long the
    /// authorization holds depends on it ([`authorization_lifetime`]).
    #[serde(default)]
    pub payment_product_type: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// How long Kassa assumes a Dintero authorization holds, by payment product type (facts §1.8,
/// Dintero's knowledge base "Duration of authorizations"; nothing in the transaction says it
/// except Klarna's `klarna:authorization_expiration`, which wins where present):
/// - cards and Vipps: "approximately 7 days, depending on the end customer's bank" (Vipps:
///   Visa 7, Mastercard 30; the shorter is taken);
/// - `klarna.*`: 28 days (renewable in Dintero's backoffice);
/// - Walley (`collector.*`): 90 days on one Dintero page, 60 on its Swedish FAQ
///   (UNCONFIRMED which): the shorter, so the warning is never late;
/// - any other or unknown product (including the emulator's `dintero.sandbox`): the card
///   figure, the shortest documented, for the same reason.
///
/// Counted from the successful AUTHORIZE event (else the transaction's `created_at`). Change
/// the figures here.
pub fn authorization_lifetime(payment_product_type: Option<&str>) -> i64 {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    const CARD_DAYS: i64 = 7;
    const KLARNA_DAYS: i64 = 28;
    const WALLEY_DAYS: i64 = 60;
    let product = payment_product_type.unwrap_or("");
    let days = if product.starts_with("klarna.") {
        KLARNA_DAYS
    } else if product.starts_with("collector.") {
        WALLEY_DAYS
    } else {
        CARD_DAYS
    };
    days * DAY_MS
}

/// One TransactionEvent (S:7136–7312).
#[derive(Debug, Deserialize)]
pub struct TransactionEvent {
    #[serde(default)]
    pub id: Option<String>,
    /// INITIALIZE, AUTHORIZE, CAPTURE, REFUND, VOID, INITIATE_CAPTURE, INITIATE_REFUND,
    /// INITIATE_VOID, SETTLEMENT (S:7158ff).
    pub event: String,
    #[serde(default)]
    pub success: Option<bool>,
    /// Typed `number` in the spec (S:7261): read exactly, a fraction is refused.
    #[serde(default)]
    pub amount: Option<serde_json::Number>,
    /// The `capture_reference` / `refund_reference` Kassa sent (its operation id, S:7302ff).
    #[serde(default)]
    pub event_reference: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    /// On the CAPTURE/REFUND/VOID that completes an `INITIATE_*` (the 202's request id, S:7294).
    #[serde(default)]
    pub correlation_request_id: Option<String>,
    #[serde(default)]
    pub error: Option<EventError>,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub metadata: Option<EventMetadata>,
}

/// The part of an event's `metadata` Kassa reads (`TransactionKlarna`, S:7537ff).
#[derive(Debug, Default, Deserialize)]
pub struct EventMetadata {
    /// When a Klarna-backed authorization lapses (ISO 8601), as Klarna told Dintero.
    #[serde(rename = "klarna:authorization_expiration", default)]
    pub klarna_authorization_expiration: Option<String>,
}

/// A failed event's `error` (S:7234ff).
#[derive(Debug, Deserialize)]
pub struct EventError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `POST /v1/transactions/{id}/capture` body (S:416ff).
#[derive(Debug, Serialize)]
pub struct CaptureBody {
    pub amount: i64,
    /// Kassa's operation id: becomes the CAPTURE event's `event_reference`.
    pub capture_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<OrderItem>>,
}

/// `POST /v1/transactions/{id}/refund` body (S:572ff).
#[derive(Debug, Serialize)]
pub struct RefundBody {
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Kassa's operation id: becomes the REFUND event's `event_reference`.
    pub refund_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<OrderItem>>,
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

/// The item of line `i` of the order (`line_id` = i + 1) for `quantity`, `gross` and `vat`.
fn item(order: &PricedOrder, i: usize, quantity: String, gross: i64, vat: i64) -> OrderItem {
    let line = &order.lines[i];
    OrderItem {
        id: line
            .sku
            .clone()
            .unwrap_or_else(|| format!("line-{}", i + 1)),
        line_id: (i + 1).to_string(),
        description: line.name.clone(),
        quantity: raw_number(quantity),
        amount: gross,
        vat_amount: vat,
        vat: raw_number(canonical_decimal(
            i128::from(line.vat_rate.basis_points()),
            2,
        )),
    }
}

/// Builds the create body from the priced order; `auto_capture` under the at-sale policy; a
/// link sale (`link`) without `configuration.channel`, and with `sms_to`, Dintero's SMS.
pub fn session_request<'a>(
    order: &'a PricedOrder,
    profile_id: &'a str,
    return_url: &'a str,
    expires_at: String,
    auto_capture: bool,
    link: bool,
    sms_to: Option<&'a str>,
) -> SessionProfileRequest<'a> {
    let items = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| item(order, i, line.quantity.to_canonical(), line.gross, line.vat))
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
        customer: sms_to.map(|phone_number| SessionCustomer { phone_number }),
        configuration: Configuration {
            channel: (!link).then_some("in_store"),
            auto_capture,
            publish: sms_to
                .map(|_| Publish {
                    channel: "sms",
                    kind: "checkout-link",
                })
                .into_iter()
                .collect(),
        },
        expires_at,
    }
}

/// The `items` of a capture or refund: the operation's lines by their `line_id` (the order's
/// line index + 1, as at create), with the quantity, gross and VAT of the part, summing to the
/// operation's amount. None for an operation by amount only (its parts return no goods,
/// quantity `"0"`, which Dintero's positive `quantity` cannot say; the amount alone is a valid
/// request, S:416ff, and Kassa keeps the split in its own record).
pub fn operation_items(order: &PricedOrder, lines: &[OperationLine]) -> Option<Vec<OrderItem>> {
    let by_quantity = !lines.is_empty()
        && lines
            .iter()
            .all(|l| !l.is_amount_only() && l.index < order.lines.len());
    by_quantity.then(|| {
        lines
            .iter()
            .map(|l| item(order, l.index, l.quantity.clone(), l.gross, l.vat))
            .collect()
    })
}

/// An event's amount, exactly: an integer of minor units, or why not.
fn event_amount(e: &TransactionEvent) -> Result<i64, String> {
    match &e.amount {
        None => Ok(0),
        Some(n) => n.as_i64().ok_or_else(|| {
            format!(
                "event {} has amount {n}, not an integer of minor units",
                e.id.as_deref().unwrap_or(&e.event)
            )
        }),
    }
}

/// The provider's record of a payment from its transaction: authorized (the transaction's
/// amount once authorized), captured and refunded (the sums of the successful CAPTURE and
/// REFUND events: the transaction has no such fields, facts §1.4), voided (status
/// AUTHORIZATION_VOIDED or a successful VOID), and its operations. An `INITIATE_*` event whose
/// completing event (same request id) is there is that event; without it, it is pending.
pub fn payment_state(t: &Transaction) -> Result<PaymentState, String> {
    let kind = |event: &str| match event.trim_start_matches("INITIATE_") {
        "CAPTURE" => Some(OperationKind::Capture),
        "REFUND" => Some(OperationKind::Refund),
        "VOID" => Some(OperationKind::Void),
        _ => None,
    };
    let completed = |e: &TransactionEvent| {
        e.request_id.as_deref().is_some_and(|r| {
            t.events
                .iter()
                .any(|c| c.correlation_request_id.as_deref() == Some(r))
        })
    };
    let mut state = PaymentState::default();
    let mut authorized = false;
    for e in &t.events {
        let success = e.success.unwrap_or(true);
        if e.event == "AUTHORIZE" && success {
            authorized = true;
        }
        let Some(k) = kind(&e.event) else { continue };
        let amount = event_amount(e)?;
        let initiated = e.event.starts_with("INITIATE_");
        if initiated && completed(e) {
            continue;
        }
        let outcome = match (initiated, success) {
            (true, true) => ProviderOutcome::Pending,
            (_, false) => ProviderOutcome::Failed,
            (false, true) => ProviderOutcome::Succeeded,
        };
        if outcome == ProviderOutcome::Succeeded {
            match k {
                OperationKind::Capture => state.captured += amount,
                OperationKind::Refund => state.refunded += amount,
                _ => state.voided = true,
            }
        }
        state.operations.push(ProviderOperation {
            kind: k,
            provider_id: e.id.clone(),
            amount,
            reference: e.event_reference.clone(),
            outcome,
        });
    }
    // A transaction captured at once (Swish, auto-capture) may have no AUTHORIZE event.
    if authorized || state.captured > 0 || t.status != "INITIATED" {
        state.authorized = t.amount;
    }
    state.voided |= t.status == "AUTHORIZATION_VOIDED";
    if state.capturable() > 0 {
        state.authorization_expires_at = authorization_expiry(t);
    }
    state.detail = format!(
        "transaction {} {}: captured {}, refunded {} of {} {}",
        t.id, t.status, state.captured, state.refunded, t.amount, t.currency
    );
    Ok(state)
}

/// When `t`'s authorization lapses: Klarna's own date where Dintero relays it, else the
/// product's lifetime ([`authorization_lifetime`]) from the authorization. `None` without a
/// time Kassa can read.
fn authorization_expiry(t: &Transaction) -> Option<i64> {
    let parse = |text: &Option<String>| text.as_deref().and_then(|d| parse_utc(d).ok());
    let klarna = t
        .events
        .iter()
        .rev()
        .find_map(|e| parse(&e.metadata.as_ref()?.klarna_authorization_expiration));
    klarna.or_else(|| {
        let authorized = t
            .events
            .iter()
            .find(|e| e.event == "AUTHORIZE" && e.success != Some(false))
            .and_then(|e| parse(&e.created_at))
            .or_else(|| parse(&t.created_at))?;
        authorized.checked_add(authorization_lifetime(t.payment_product_type.as_deref()))
    })
}

/// Reads the answer (200, the transaction) to a capture, refund (`reference` = Kassa's
/// operation id) or void: the event the operation made. A failed one (`success: false`) is the
/// provider's refusal (`Err` with its code and words): "check that the response indicates a
/// successful capture" (D-TM).
pub fn operation_answer(
    t: &Transaction,
    kind: OperationKind,
    reference: Option<&str>,
) -> Result<OperationAnswer, (Option<String>, String)> {
    let name = match kind {
        OperationKind::Capture => "CAPTURE",
        OperationKind::Refund => "REFUND",
        _ => "VOID",
    };
    let made = t.events.iter().rev().find(|e| {
        e.event == name && (reference.is_none() || e.event_reference.as_deref() == reference)
    });
    let Some(e) = made else {
        return Err((
            None,
            format!(
                "transaction {} ({}) shows no {name} event for this request",
                t.id, t.status
            ),
        ));
    };
    if e.success == Some(false) {
        let (code, message) = e
            .error
            .as_ref()
            .map(|x| (x.code.clone(), x.message.clone().unwrap_or_default()))
            .unwrap_or((None, String::new()));
        return Err((
            code,
            format!("the {} failed at Dintero: {message}", name.to_lowercase()),
        ));
    }
    Ok(OperationAnswer {
        pending: false,
        provider_reference: e.id.clone(),
        detail: format!(
            "transaction {} {} ({name} {})",
            t.id,
            t.status,
            e.amount.as_ref().map(|a| a.to_string()).unwrap_or_default()
        ),
    })
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
        let req = session_request(
            &order,
            "default",
            "https://shop.example/r",
            "T".into(),
            false,
            false,
            None,
        );
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
        assert!(json.get("customer").is_none() && json["configuration"].get("publish").is_none());
        // A link sent by SMS: the customer's phone and one publish entry, no in-store channel.
        let link = serde_json::to_value(session_request(
            &order,
            "default",
            "https://shop.example/r",
            "T".into(),
            false,
            true,
            Some("+4791234567"),
        ))
        .unwrap();
        assert_eq!(
            link["customer"],
            serde_json::json!({"phone_number": "+4791234567"})
        );
        assert_eq!(
            link["configuration"]["publish"],
            serde_json::json!([{"channel": "sms", "type": "checkout-link"}])
        );
        assert!(link["configuration"].get("channel").is_none());
    }

    #[test]
    fn twelve_and_a_half_percent_is_an_exact_number() {
        let order = quote_document(
            r#"{"currency":"NOK","prices_include_vat":true,"lines":[
                {"name":"A","quantity":"1","unit_price":10000,"vat_rate":"12.5"}]}"#,
            "X",
        )
        .unwrap();
        let req = session_request(
            &order,
            "default",
            "https://r",
            "T".into(),
            false,
            false,
            None,
        );
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
            events: Vec::new(),
            payment_product_type: None,
            created_at: None,
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

    /// A session search matches loosely: only the exact reference is the session asked for.
    #[test]
    fn a_listed_session_is_the_one_with_exactly_the_reference() {
        let list: Vec<SessionRead> = serde_json::from_value(serde_json::json!([
            {"id": "T1.a", "order": {"merchant_reference": "K-4711-2", "amount": 1}},
            {"id": "T1.b", "order": {"merchant_reference": "K-4711", "amount": 1}},
            {"id": "T1.c"}
        ]))
        .unwrap();
        let found: Vec<&str> = list
            .iter()
            .filter(|s| s.has_reference("K-4711"))
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(found, ["T1.b"]);
    }

    #[test]
    fn session_without_transaction() {
        let s = |cancelled: Option<&str>, expires: &str, events: &[&str]| SessionRead {
            id: "T1.x".into(),
            expires_at: Some(expires.into()),
            transaction_id: None,
            cancelled_at: cancelled.map(Into::into),
            order: None,
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
    fn transaction(status: &str, events: serde_json::Value) -> Transaction {
        serde_json::from_value(serde_json::json!({
            "id": "T12345678.abc", "status": status, "amount": 1000, "currency": "NOK",
            "events": events
        }))
        .unwrap()
    }

    #[test]
    fn the_payment_record_is_the_sum_of_successful_events() {
        let t = transaction(
            "PARTIALLY_REFUNDED",
            serde_json::json!([
                {"id": "E0", "event": "INITIALIZE", "success": true, "amount": 1000},
                {"id": "E1", "event": "AUTHORIZE", "success": true, "amount": 1000},
                {"id": "E2", "event": "CAPTURE", "success": true, "amount": 1000},
                {"id": "E3", "event": "REFUND", "success": false, "amount": 300, "event_reference": "op-1"},
                {"id": "E4", "event": "REFUND", "success": true, "amount": 300, "event_reference": "op-2"},
                {"id": "E5", "event": "INITIATE_REFUND", "success": true, "amount": 200, "event_reference": "op-3", "request_id": "R1"},
                {"id": "E6", "event": "INITIATE_REFUND", "success": true, "amount": 100, "event_reference": "op-4", "request_id": "R2"},
                {"id": "E7", "event": "REFUND", "success": true, "amount": 100, "event_reference": "op-4", "correlation_request_id": "R2"}
            ]),
        );
        let s = payment_state(&t).unwrap();
        assert_eq!((s.authorized, s.captured, s.refunded), (1000, 1000, 400));
        assert_eq!((s.capturable(), s.refundable(), s.voided), (0, 600, false));
        let outcomes: Vec<(Option<&str>, ProviderOutcome)> = s
            .operations
            .iter()
            .map(|o| (o.reference.as_deref(), o.outcome))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (None, ProviderOutcome::Succeeded),
                (Some("op-1"), ProviderOutcome::Failed),
                (Some("op-2"), ProviderOutcome::Succeeded),
                // Started, not finished; the finished one counts once, as itself.
                (Some("op-3"), ProviderOutcome::Pending),
                (Some("op-4"), ProviderOutcome::Succeeded),
            ]
        );
        // Amounts are exact: a fraction is not a Dintero amount.
        let odd = transaction(
            "CAPTURED",
            serde_json::json!([{"event": "CAPTURE", "success": true, "amount": 10.5}]),
        );
        assert!(payment_state(&odd).unwrap_err().contains("not an integer"));
        let voided = transaction(
            "AUTHORIZATION_VOIDED",
            serde_json::json!([{"event": "AUTHORIZE", "success": true}, {"event": "VOID", "success": true, "amount": 1000}]),
        );
        assert_eq!(payment_state(&voided).unwrap().capturable(), 0);
    }

    #[test]
    fn an_authorization_lapses_by_its_payment_product_or_klarnas_own_date() {
        let day = 24 * 3600 * 1000;
        let at = parse_utc("2026-12-01T10:00:00Z").unwrap();
        let t = |product: &str, status: &str, events: serde_json::Value| -> Transaction {
            serde_json::from_value(serde_json::json!({
                "id": "T1.a", "status": status, "amount": 1000, "currency": "NOK",
                "payment_product_type": product, "created_at": "2026-12-01T09:59:00Z",
                "events": events
            }))
            .unwrap()
        };
        let authorized = serde_json::json!([
            {"event": "AUTHORIZE", "success": true, "amount": 1000, "created_at": "2026-12-01T10:00:00Z"}
        ]);
        let lapses = |tx: &Transaction| payment_state(tx).unwrap().authorization_expires_at;
        for (product, days) in [
            ("payex.creditcard", 7),
            ("vipps", 7),
            ("klarna.klarna", 28),
            ("collector.invoice", 60),
            ("dintero.sandbox", 7),
        ] {
            let tx = t(product, "AUTHORIZED", authorized.clone());
            assert_eq!(lapses(&tx), Some(at + days * day), "{product}");
        }
        // Klarna's own date, relayed by Dintero, wins.
        let relayed = serde_json::json!([
            {"event": "AUTHORIZE", "success": true, "amount": 1000, "created_at": "2026-12-01T10:00:00Z",
             "metadata": {"klarna:authorization_expiration": "2026-12-20T15:00:00Z"}}
        ]);
        assert_eq!(
            lapses(&t("klarna.klarna", "AUTHORIZED", relayed)),
            Some(parse_utc("2026-12-20T15:00:00Z").unwrap())
        );
        // Without an AUTHORIZE event's time: the transaction's.
        let bare = serde_json::json!([{"event": "AUTHORIZE", "success": true, "amount": 1000}]);
        assert_eq!(
            lapses(&t("vipps", "AUTHORIZED", bare)),
            Some(parse_utc("2026-12-01T09:59:00Z").unwrap() + 7 * day)
        );
        // Nothing left to capture: nothing lapses.
        let captured = serde_json::json!([
            {"event": "AUTHORIZE", "success": true, "amount": 1000, "created_at": "2026-12-01T10:00:00Z"},
            {"event": "CAPTURE", "success": true, "amount": 1000}
        ]);
        assert_eq!(lapses(&t("vipps", "CAPTURED", captured)), None);
    }

    #[test]
    fn a_refund_answer_is_its_own_event_and_a_failed_one_is_a_refusal() {
        let t = transaction(
            "PARTIALLY_REFUNDED",
            serde_json::json!([
                {"id": "E4", "event": "REFUND", "success": true, "amount": 300, "event_reference": "op-2"},
                {"id": "E5", "event": "REFUND", "success": false, "amount": 300, "event_reference": "op-5",
                 "error": {"code": "DECLINED", "message": "the processor said no"}}
            ]),
        );
        let a = operation_answer(&t, OperationKind::Refund, Some("op-2")).unwrap();
        assert_eq!(a.provider_reference.as_deref(), Some("E4"));
        let (code, m) = operation_answer(&t, OperationKind::Refund, Some("op-5")).unwrap_err();
        assert_eq!(code.as_deref(), Some("DECLINED"));
        assert!(m.contains("the processor said no"), "{m}");
        assert!(operation_answer(&t, OperationKind::Refund, Some("op-9")).is_err());
    }

    #[test]
    fn items_only_for_operations_by_line() {
        let order = quote_document(
            r#"{"currency":"NOK","lines":[
                {"name":"Kaffe","quantity":"3","unit_price":1999,"vat_rate":"25"},
                {"name":"Ost","sku":"O1","quantity":"0.35","unit_price":12990,"vat_rate":"15"}]}"#,
            "X",
        )
        .unwrap();
        // 0.1 of 0.35 kg (gross 4547, VAT 593: round(4547 × 0.1 / 0.35) = 1299, VAT 169).
        let part = |quantity: &str| OperationLine {
            index: 1,
            name: "Ost".into(),
            sku: Some("O1".into()),
            quantity: quantity.into(),
            unit: None,
            vat_rate: "15".into(),
            gross: 1299,
            net: 1130,
            vat: 169,
        };
        let by_line = [part("0.1")];
        let items = operation_items(&order, &by_line).unwrap();
        let v = serde_json::to_value(&items).unwrap();
        assert_eq!(v[0]["line_id"], "2");
        assert_eq!(v[0]["id"], "O1");
        assert_eq!(serde_json::to_string(&v[0]["quantity"]).unwrap(), "0.1");
        assert_eq!(
            (v[0]["amount"].as_i64(), v[0]["vat_amount"].as_i64()),
            (Some(1299), Some(169))
        );
        // A part of a refund by amount returns no goods: no items.
        assert!(operation_items(&order, &[part("0")]).is_none());
        assert!(operation_items(&order, &[]).is_none());
    }
}
