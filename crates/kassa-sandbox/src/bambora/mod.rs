//! The Bambora / Worldline Online Checkout (Europe) emulator: checkout sessions and their
//! payment window, the Merchant API's transaction and operations reads, the Transaction API's
//! capture, credit and delete, and Payment Requests (payment links the customer opens on their
//! own phone), all under `/bambora` (one prefix for Bambora's several hosts: their paths do
//! not collide).
//!
//! Not for: subscriptions, the Data API's response
//! codes, or calling `url.callbacks` (a till is behind NAT, so Kassa never relies on
//! callbacks: they are validated and then ignored).
//!
//! Sources: `../shared/providers/NOTES-bambora-dintero-klarna.md` §4 (`N:4.x`), the official
//! "Create Payment" guide (`../shared/seeds/000_17c103cf25b9beba.txt`, `G`),
//! `../shared/providers/NOTES-after-sale.md` §1 (`A`), and Bambora's official plugins for what
//! they send and read after the sale: the WooCommerce plugin (`W`: bambora/checkout-woocommerce
//! @ b3395d3b5c44, `bambora-online-checkout.php` and `lib/`) and the Magento module (`M`:
//! bambora/checkout-magento-v2.x @ ff19d84eafff, `Model/Api/Checkout/`). Bambora publishes no
//! machine-readable spec, so much of the exact behaviour is UNCONFIRMED; where it is, the rule
//! below is Kassa's contract with its own client, marked OURS.
//! - Auth (N:4.2, G): `Authorization: Basic base64("{access_token}@{merchant_number}:{secret_token}")`
//!   on every API call; anything else is 401. Calls see only their merchant's objects: another
//!   merchant's session, transaction or payment request is 404 (OURS).
//! - Every API answer carries `meta {result, message {enduser, merchant}, action {code, source,
//!   type}}` (N:4.5). The action codes and the end-user texts are OURS. HTTP statuses (OURS; the
//!   real API's are UNCONFIRMED and its plugins never branch on them): 200, 400 validation (all
//!   problems joined with "; " in `message.merchant`), 401, 404, 409 (a reused order id, a
//!   closed payment request, a capture, credit or delete the transaction does not allow now).
//! - `POST /sessions` and `POST /checkout` (G uses `/sessions`, the plugins `/checkout`, N:4.3)
//!   answer `{meta, token, url}` (G). The field names are one pinned shape out of the plugins'
//!   drift (N:4.12 #2, OURS): `order {id, amount, currency, vatamount, lines}`, `url {accept,
//!   decline | cancel, callbacks}`, `instantcaptureamount`, `paymentwindow {id, language}`;
//!   `capturemulti` (see capture below); `language` and `customer` accepted and ignored. Unknown fields are refused
//!   (OURS: a misspelt field silently dropped is worse).
//! - `order.id` only `[A-Za-z0-9]` (the plugins strip the rest, N:4.12 #3), 1–30 characters
//!   (length limit OURS), unique per merchant across sessions and payment requests (N:4.3).
//!   `order.vatamount` is required (2017 docs, N:4.3). `currency` must be one the sandbox's
//!   acquirer knows a numeric code for (NOK, SEK, DKK, EUR, USD, GBP; OURS).
//! - Orderline (N:4.3): money fields integer minor units, `quantity` a number > 0, `vat` a
//!   percent (0–100, at most 2 decimals). Unlike Dintero's notes, nothing documents a
//!   fraction pitfall for Bambora, and 0.25 % is a legal (if rare) rate, so it is accepted.
//!   Bambora publishes no line arithmetic (N:4.4); the emulator enforces OURS, exactly in
//!   integers: excl. + VAT = incl. for the unit and the total; every line is exact, `quantity ×
//!   unitpriceinclvat = totalpriceinclvat` (the check W makes on Σ before sending, in
//!   `create_bambora_orderlines_rounding_fee`, here per line: a line priced by a rounded unit,
//!   3 × 1667 for 5000, is refused);
//!   `totalpricevatamount` is the VAT of `totalpriceinclvat` at `vat` within one minor unit; the
//!   lines sum to `order.amount` and `order.vatamount`. `capturemulti` must be a boolean.
//! - A session is valid one hour (G). Paying in the window redirects (303) to `url.accept` with
//!   the callback parameters `txnid, orderid, reference, amount, currency (ISO 4217 numeric),
//!   date (YYYYMMDD), time (HHMM), feeid, txnfee, paymenttype, cardno, expmonth, expyear, eci,
//!   issuercountry, hash`, where `hash` = MD5 hex of the values in that order + the merchant's
//!   MD5 key (N:4.7; `walletname`, `subscriptionid`, `tokenid` left out, OURS). Cancel
//!   redirects to `url.decline` (else `url.cancel`) without parameters.
//! - `GET /transactions/{txnid}` (Merchant API, N:4.8, M `Response/Models/Transaction.php`,
//!   `Total.php`, `Available.php`) → `{meta, transaction}` with
//!   `total {authorized, balance, captured, credited, declined, feeamount}`, `available {capture,
//!   credit}` and `candelete`. `status` values are UNCONFIRMED; ours are `authorized`,
//!   `captured` and `deleted`. `balance` = captured − credited; `available.credit` the same;
//!   `available.capture` = authorized − captured, 0 once deleted or once captured without
//!   `capturemulti`; `candelete` = nothing captured and not deleted (OURS).
//! - `GET /transactions/{txnid}/transactionoperations` (M `Merchant.php`,
//!   `TransactionOperation.php`) → `{meta, transactionoperations}`:
//!   `id` (a number), `action` (`authorize|capture|credit|delete`), `subaction`, `status`
//!   (`approved`, else `declined` here: W and M treat all but `approved` as failed), `amount`,
//!   `currency`, `createddate`, `actioncode`,
//!   `parenttransactionoperationid` and the operations it holds. An instant capture is held by
//!   its authorization; later operations stand beside it (OURS). No reference of the merchant's.
//! - Instant capture (G; W's event texts "Instantly captured full amount", "Instant capture
//!   failed"): paying with `instantcaptureamount` > 0 adds an approved `capture` `fullinstant`
//!   (or `partlyinstant`) under the authorization and captures it; the
//!   `pay_capture_declined` outcome makes the acquirer decline it instead (nothing captured, the
//!   authorization stands) so a client's fallback can be tested.
//! - `POST /transactions/{txnid}/capture` and `…/credit` (Transaction API, A; W
//!   `lib/bambora-online-checkout-api.php`, M `Request/Capture.php`, `Credit.php`) take
//!   `{amount, currency, invoicelines?}`: `amount` an integer ≥ 1 (the plugins' guard),
//!   `currency` the transaction's, `invoicelines` Orderlines by the order's rules summing to
//!   `amount`, except that a line's VAT is only checked to lie between 0 and its total (OURS:
//!   such a line is often a part of an order line carrying its share of that line's VAT, a few
//!   roundings from the VAT in its own total after several partial refunds); anything else is
//!   400 naming the field. Capture: at most
//!   `available.capture`, once only without `capturemulti` (the 2017 guide: "allow you to capture
//!   further later. Default is false"), not after a delete. Credit: at most `available.credit`
//!   (captured − credited), nothing when nothing is captured. `POST …/delete` (no body; one sent
//!   is not read; W posts none) only while `candelete` (W offers Delete only then). A refusal is
//!   409 with `meta.result` false and the rule in `message.merchant` (OURS: the real statuses
//!   are UNCONFIRMED; W shows `message.merchant`). Success: `{meta,
//!   transactionoperations: [the new operation]}` (as Magento reads it). No idempotency (none is
//!   documented): the same request twice does it twice.
//! - Payment Requests (N:4.8): `POST /paymentrequests` `{reference, description, parameters
//!   {order, instantcaptureamount, paymentwindow, url {callbacks}}}` → `{meta, id, url}`;
//!   `GET /paymentrequests/{id}` → `status` `open` or `closed` (only `closed` is confirmed) and
//!   deliberately NO transaction id (whether the real API gives one is UNCONFIRMED);
//!   `DELETE /paymentrequests/{id}` ends an open request (409 once it is closed, OURS). A
//!   request has no expiry here, and a customer leaving the page does not close it (OURS).
//!   Opening its page (`GET /pay/{id}`) changes nothing on it.
//! - `POST /paymentrequests/{id}/email-notifications` (N:4.8, NOTES-after-sale.md §2) `{to
//!   {email, name}, replyto? {email, name}, message?}`: Bambora e-mails the request's link.
//!   `to.email` must be an address (`local@domain.tld`) and `to.name` a non-empty string;
//!   `replyto` the same shape when present, `message` a string; unknown fields refused (all
//!   OURS: no published schema). Only an open request is sent (a closed one: 409; a deleted
//!   one: 404). Answers `{meta}`; the message goes to `GET /_control/messages`. Any number of
//!   times (a resend is a second e-mail; no limit is documented).
//!
//! Test controls (under `/_control`, no auth; unknown id → 404, not possible now → 409 with a
//! text reason, unknown outcome → 400):
//!
//! | request | effect |
//! |---|---|
//! | `POST /_control/bambora/accounts` `{"merchant_number", "access_token", "secret_token", "md5_key"}` | add an API user (204) |
//! | `POST /_control/bambora/sessions/{token}/outcome` `{"outcome": "pay"}` | what the customer does in the window: `pay`, `pay_capture_declined` (paid, but the instant capture is declined), `decline`, `cancel`, or `expire` (the session's expiry becomes now); 200 `{"redirect": URL or null}`, the URL the browser would be sent to |
//! | `POST /_control/bambora/paymentrequests/{id}/outcome` `{"outcome": "pay"}` | what the customer does on the payment request page: `pay` (closes it), `pay_capture_declined`, `decline`, `cancel` (both leave it open); 200 `{"redirect": null}` |
//!
//! Where: `checkout.rs` the Checkout API's sessions; `transactions.rs` the Merchant API's reads
//! and the Transaction API's capture, credit and delete; `payment_requests.rs` Payment Requests;
//! `rules.rs` what a session, an order, its lines and a capture's or credit's body must be
//! (every field and sum rule above), what the customer's actions do, and what a capture,
//! credit or delete does to a transaction; `page.rs` the payment window and the payment request
//! page; `control.rs` the test controls. This module: the state (transactions with their
//! operations), the accept parameters and the answer shapes.

mod checkout;
mod control;
mod page;
mod payment_requests;
mod rules;
mod transactions;

use rules::claim_order_id;

use crate::common::{basic_credentials, is_json, random_hex};
use crate::Shared;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kassa_core::http::percent_encode;
use kassa_core::time::{format_rfc3339, now_millis};
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

const SESSION_LIFETIME_MS: i64 = 3600 * 1000;
const FIRST_TXNID: u64 = 70_000_000_001;
const FIRST_REFERENCE: u64 = 100_000_001;
const FIRST_OPERATION: u64 = 500_000_001;

/// ISO 4217 numeric codes: the accept and callback `currency` parameter is numeric (N:4.7).
const NUMERIC_CURRENCIES: &[(&str, &str)] = &[
    ("DKK", "208"),
    ("EUR", "978"),
    ("GBP", "826"),
    ("NOK", "578"),
    ("SEK", "752"),
    ("USD", "840"),
];

/// The sandbox's test card, as the accept parameters report it.
const CARD_NO: &str = "457199XXXXXX1234";

/// An API user the emulator accepts, with the merchant number's MD5 key.
#[derive(Clone, Deserialize)]
pub struct BamboraAccount {
    pub merchant_number: String,
    pub access_token: String,
    pub secret_token: String,
    pub md5_key: String,
}

impl fmt::Debug for BamboraAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BamboraAccount")
            .field("merchant_number", &self.merchant_number)
            .field("access_token", &self.access_token)
            .field("secret_token", &"<redacted>")
            .field("md5_key", &"<redacted>")
            .finish()
    }
}

/// The parts of a validated order the emulator acts on; `raw` keeps the lines for the page.
#[derive(Debug, Clone)]
struct Order {
    id: String,
    amount: i64,
    currency: String,
    raw: Value,
}

impl Order {
    /// From an order that passed [`validate_payment`].
    fn from_valid(v: &Value) -> Order {
        Order {
            id: v["id"].as_str().unwrap_or_default().into(),
            amount: v["amount"].as_i64().unwrap_or(0),
            currency: v["currency"].as_str().unwrap_or_default().into(),
            raw: v.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Open,
    /// Paid: the transaction's id.
    Paid(String),
    Cancelled,
    /// Payment requests only: ended by the merchant's DELETE.
    Deleted,
}

/// A checkout session and its payment window.
struct Session {
    merchant: String,
    expires_at: i64,
    order: Order,
    instant_capture: i64,
    capture_multi: bool,
    accept: String,
    /// `url.decline`, else `url.cancel`: where Cancel sends the customer.
    leave: String,
    phase: Phase,
    declined: u32,
}

struct PaymentRequest {
    merchant: String,
    reference: String,
    description: String,
    created_at: i64,
    order: Order,
    instant_capture: i64,
    phase: Phase,
    declined: u32,
}

struct Transaction {
    id: String,
    merchant: String,
    order_id: String,
    reference: String,
    currency: String,
    authorized: i64,
    captured: i64,
    credited: i64,
    deleted: bool,
    /// The session asked for `capturemulti: true`: captures until the authorization is used.
    capture_multi: bool,
    /// A capture without `capturemulti` happened: the rest can no longer be captured.
    capture_closed: bool,
    created_at: i64,
    /// Oldest first; an instant capture is the child of the authorization.
    operations: Vec<Operation>,
}

impl Transaction {
    fn available_capture(&self) -> i64 {
        if self.deleted || self.capture_closed {
            0
        } else {
            self.authorized - self.captured
        }
    }

    fn available_credit(&self) -> i64 {
        self.captured - self.credited
    }

    fn can_delete(&self) -> bool {
        !self.deleted && self.captured == 0
    }
}

/// One transaction operation (M `TransactionOperation.php`).
struct Operation {
    id: u64,
    parent: Option<u64>,
    /// `authorize`, `capture`, `credit` or `delete`.
    action: &'static str,
    subaction: &'static str,
    amount: i64,
    approved: bool,
    created_at: i64,
}

/// What paying does besides authorizing: the instant capture asked for at creation, whether
/// later captures may follow one another, and whether the acquirer declines the instant
/// capture (the `pay_capture_declined` outcome).
#[derive(Debug, Clone, Copy)]
struct Capture {
    instant: i64,
    multi: bool,
    declined: bool,
}

/// The emulator's state.
pub struct Emulator {
    accounts: HashMap<String, BamboraAccount>,
    sessions: BTreeMap<String, Session>,
    requests: BTreeMap<String, PaymentRequest>,
    transactions: BTreeMap<String, Transaction>,
    /// (merchant number, order id) of every session and payment request.
    order_ids: HashSet<(String, String)>,
    next_txnid: u64,
    next_reference: u64,
    next_operation: u64,
}

impl Default for Emulator {
    fn default() -> Emulator {
        Emulator {
            accounts: HashMap::new(),
            sessions: BTreeMap::new(),
            requests: BTreeMap::new(),
            transactions: BTreeMap::new(),
            order_ids: HashSet::new(),
            next_txnid: FIRST_TXNID,
            next_reference: FIRST_REFERENCE,
            next_operation: FIRST_OPERATION,
        }
    }
}

impl Emulator {
    pub fn add_account(&mut self, a: BamboraAccount) {
        crate::ledger(&[&a.access_token, &a.secret_token, &a.md5_key]);
        self.accounts.insert(a.merchant_number.clone(), a);
    }

    /// The merchant number of a valid API key, if the request carries one.
    fn merchant(&self, headers: &HeaderMap) -> Option<String> {
        let (user, secret) = basic_credentials(headers)?;
        let (access, merchant) = user.rsplit_once('@')?;
        self.accounts
            .get(merchant)
            .filter(|a| a.access_token == access && a.secret_token == secret)
            .map(|a| a.merchant_number.clone())
    }

    /// Authorizes `order.amount` (capturing `capture.instant` of it, unless the acquirer
    /// declines that) and returns the txnid.
    fn authorize(&mut self, merchant: &str, order: &Order, capture: Capture) -> String {
        let id = self.next_txnid.to_string();
        self.next_txnid += 1;
        let reference = self.next_reference.to_string();
        self.next_reference += 1;
        let now = now_millis();
        let mut t = Transaction {
            id: id.clone(),
            merchant: merchant.into(),
            order_id: order.id.clone(),
            reference,
            currency: order.currency.clone(),
            authorized: order.amount,
            captured: 0,
            credited: 0,
            deleted: false,
            capture_multi: capture.multi,
            capture_closed: false,
            created_at: now,
            operations: Vec::new(),
        };
        let authorization = self.operation(&mut t, None, "authorize", "ssl", order.amount, true);
        if capture.instant > 0 {
            let subaction = if capture.instant == order.amount {
                "fullinstant"
            } else {
                "partlyinstant"
            };
            let approved = !capture.declined;
            self.operation(
                &mut t,
                Some(authorization),
                "capture",
                subaction,
                capture.instant,
                approved,
            );
            if approved {
                t.captured = capture.instant;
                t.capture_closed = !capture.multi;
            }
        }
        self.transactions.insert(id.clone(), t);
        id
    }

    /// Records an operation on `t` and returns its id.
    fn operation(
        &mut self,
        t: &mut Transaction,
        parent: Option<u64>,
        action: &'static str,
        subaction: &'static str,
        amount: i64,
        approved: bool,
    ) -> u64 {
        let id = self.next_operation;
        self.next_operation += 1;
        t.operations.push(Operation {
            id,
            parent,
            action,
            subaction,
            amount,
            approved,
            created_at: now_millis(),
        });
        id
    }

    /// Where the browser goes after paying: `accept` with the signed callback parameters.
    fn accept_redirect(&self, accept: &str, txnid: &str) -> String {
        let t = &self.transactions[txnid];
        let key = self
            .accounts
            .get(&t.merchant)
            .map(|a| a.md5_key.as_str())
            .unwrap_or_default();
        let sep = if accept.contains('?') { '&' } else { '?' };
        let query: Vec<String> = accept_params(t, key)
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        format!("{accept}{sep}{}", query.join("&"))
    }
}

/// The accept/callback parameters in Bambora's order, `hash` last (N:4.7).
fn accept_params(t: &Transaction, md5_key: &str) -> Vec<(&'static str, String)> {
    let stamp = format_rfc3339(t.created_at); // 2026-11-21T18:23:01.123Z
    let date = format!("{}{}{}", &stamp[0..4], &stamp[5..7], &stamp[8..10]);
    let time = format!("{}{}", &stamp[11..13], &stamp[14..16]);
    let mut params: Vec<(&'static str, String)> = vec![
        ("txnid", t.id.clone()),
        ("orderid", t.order_id.clone()),
        ("reference", t.reference.clone()),
        ("amount", t.authorized.to_string()),
        (
            "currency",
            numeric_currency(&t.currency).unwrap_or("000").into(),
        ),
        ("date", date),
        ("time", time),
        ("feeid", "0".into()),
        ("txnfee", "0".into()),
        ("paymenttype", "1".into()),
        ("cardno", CARD_NO.into()),
        ("expmonth", "12".into()),
        ("expyear", "30".into()),
        ("eci", "7".into()),
        ("issuercountry", "NOR".into()),
    ];
    let mut signed: String = params.iter().map(|(_, v)| v.as_str()).collect();
    signed.push_str(md5_key);
    params.push(("hash", md5_hex(&signed)));
    params
}

fn numeric_currency(code: &str) -> Option<&'static str> {
    NUMERIC_CURRENCIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A UUID-shaped payment request id.
fn request_id() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn meta_ok() -> Value {
    json!({
        "result": true,
        "message": {"enduser": "", "merchant": ""},
        "action": {"code": "0", "source": "ePay", "type": "Success"},
    })
}

/// A successful answer: `body` with `meta.result` true.
fn ok(mut body: Value) -> Response {
    body["meta"] = meta_ok();
    Json(body).into_response()
}

/// Bambora's error shape: `meta.result` false, the reason in `message.merchant`.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"meta": {
            "result": false,
            "message": {
                "enduser": "The payment could not be completed. Please try again or ask the shop for help.",
                "merchant": message,
            },
            "action": {"code": code, "source": "ePay", "type": "GeneralError"},
        }})),
    )
        .into_response()
}

fn bad_request(problems: Vec<String>) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        &problems.join("; "),
    )
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "AUTHENTICATION_FAILED",
        "Authentication failed: the access token, merchant number or secret token is wrong",
    )
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("{what} was not found"),
    )
}

fn conflict(message: &str) -> Response {
    error(StatusCode::CONFLICT, "CONFLICT", message)
}

/// The JSON body of an API call, or why it is not one (a 400).
fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, String> {
    if !is_json(headers) {
        return Err("Content-Type must be application/json".into());
    }
    serde_json::from_slice(body).map_err(|err| format!("the body is not valid JSON: {err}"))
}

/// What creating a session or a payment request starts with, in this order: the merchant of
/// the API key (else 401), the JSON body (400), `validate`'s problems (400, all at once), and
/// the order at `order_at` (a JSON pointer), whose id this claims for the merchant (409 when
/// taken). Err: the answer.
fn new_order(
    e: &mut Emulator,
    headers: &HeaderMap,
    body: &[u8],
    validate: fn(&Value) -> Vec<String>,
    order_at: &str,
) -> Result<(String, Value, Order), Box<Response>> {
    let merchant = e.merchant(headers).ok_or_else(unauthorized)?;
    let v = json_body(headers, body).map_err(|problem| bad_request(vec![problem]))?;
    let problems = validate(&v);
    if !problems.is_empty() {
        return Err(bad_request(problems).into());
    }
    let order = Order::from_valid(v.pointer(order_at).unwrap_or(&Value::Null));
    claim_order_id(e, &merchant, &order.id).map_err(|taken| conflict(&taken))?;
    Ok((merchant, v, order))
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sessions", post(checkout::create_session))
        .route("/checkout", post(checkout::create_session))
        .route("/window/{token}", get(page::window))
        .route("/window/{token}/{action}", post(page::window_action))
        .route("/transactions/{txnid}", get(transactions::get_transaction))
        .route(
            "/transactions/{txnid}/transactionoperations",
            get(transactions::get_operations),
        )
        // capture, credit, delete (the Transaction API)
        .route(
            "/transactions/{txnid}/{operation}",
            post(transactions::operation),
        )
        .route("/paymentrequests", post(payment_requests::create_request))
        .route(
            "/paymentrequests/{id}",
            get(payment_requests::get_request).delete(payment_requests::delete_request),
        )
        .route(
            "/paymentrequests/{id}/email-notifications",
            post(payment_requests::email_notification),
        )
        .route("/pay/{id}", get(page::request_page))
        .route("/pay/{id}/{action}", post(page::request_action))
}

pub(crate) fn control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/bambora/accounts", post(control::add_account))
        .route(
            "/bambora/sessions/{token}/outcome",
            post(control::session_outcome),
        )
        .route(
            "/bambora/paymentrequests/{id}/outcome",
            post(control::request_outcome),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_the_accept_parameters() {
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            md5_hex("The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        let t = Transaction {
            id: "70000000001".into(),
            merchant: "T123456789".into(),
            order_id: "K1".into(),
            reference: "100000001".into(),
            currency: "NOK".into(),
            authorized: 5997,
            captured: 0,
            credited: 0,
            deleted: false,
            capture_multi: false,
            capture_closed: false,
            created_at: 1_795_458_181_000, // 2026-11-23T18:23:01Z
            operations: Vec::new(),
        };
        let params = accept_params(&t, "secret");
        let names: Vec<&str> = params.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names.join(","),
            "txnid,orderid,reference,amount,currency,date,time,feeid,txnfee,paymenttype,cardno,expmonth,expyear,eci,issuercountry,hash"
        );
        let values: String = params[..15].iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            format!("70000000001K11000000015997578202611231823001{CARD_NO}12307NOR")
        );
        assert_eq!(params[15].1, md5_hex(&format!("{values}secret")));
    }
}
