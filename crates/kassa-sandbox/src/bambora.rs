//! The Bambora / Worldline Online Checkout (Europe) emulator: checkout sessions and their
//! payment window, the Merchant API's transaction read, and Payment Requests (payment links
//! the customer opens on their own phone), all under `/bambora`.
//!
//! Not for: capture, credit or delete (the Transaction API), subscriptions, e-mail
//! notifications of payment requests, or calling `url.callbacks` (a till is behind NAT, so
//! Kassa never relies on callbacks: they are validated and then ignored).
//!
//! Sources: `../shared/providers/NOTES-bambora-dintero-klarna.md` §4 (`N:4.x`) and the official
//! "Create Payment" guide (`../shared/seeds/000_17c103cf25b9beba.txt`, `G`). Bambora publishes no
//! machine-readable spec, so much of the exact behaviour is UNCONFIRMED; where it is, the rule
//! below is Kassa's contract with its own client, marked OURS.
//! - Auth (N:4.2, G): `Authorization: Basic base64("{access_token}@{merchant_number}:{secret_token}")`
//!   on every API call; anything else is 401. Calls see only their merchant's objects: another
//!   merchant's session, transaction or payment request is 404 (OURS).
//! - Every API answer carries `meta {result, message {enduser, merchant}, action {code, source,
//!   type}}` (N:4.5). The action codes and the end-user texts are OURS. HTTP statuses (OURS; the
//!   real API's are UNCONFIRMED and its plugins never branch on them): 200, 400 validation (all
//!   problems joined with "; " in `message.merchant`), 401, 404, 409 (a reused order id, a
//!   closed payment request).
//! - `POST /sessions` and `POST /checkout` (G uses `/sessions`, the plugins `/checkout`, N:4.3)
//!   answer `{meta, token, url}` (G). The field names are one pinned shape out of the plugins'
//!   drift (N:4.12 #2, OURS): `order {id, amount, currency, vatamount, lines}`, `url {accept,
//!   decline | cancel, callbacks}`, `instantcaptureamount`, `paymentwindow {id, language}`;
//!   `language`, `customer`, `capturemulti` accepted and ignored. Unknown fields are refused
//!   (OURS: a misspelt field silently dropped is worse).
//! - `order.id` only `[A-Za-z0-9]` (the plugins strip the rest, N:4.12 #3), 1–30 characters
//!   (length limit OURS), unique per merchant across sessions and payment requests (N:4.3).
//!   `order.vatamount` is required (2017 docs, N:4.3). `currency` must be one the sandbox's
//!   acquirer knows a numeric code for (NOK, SEK, DKK, EUR, USD, GBP; OURS).
//! - Orderline (N:4.3): money fields integer minor units, `quantity` a number > 0, `vat` a
//!   percent (0–100, at most 2 decimals). Unlike Dintero's notes, nothing documents a
//!   fraction pitfall for Bambora, and 0.25 % is a legal (if rare) rate, so it is accepted.
//!   Bambora publishes no line arithmetic (N:4.4); the emulator enforces OURS, exactly in
//!   integers: excl. + VAT = incl. for the unit and the total; `unitpriceinclvat` is
//!   `totalpriceinclvat / quantity` rounded (`|q·unit − total| ≤ q/2`); `totalpricevatamount`
//!   is the VAT of `totalpriceinclvat` at `vat` within one minor unit; the lines sum to
//!   `order.amount` and `order.vatamount`.
//! - A session is valid one hour (G). Paying in the window redirects (303) to `url.accept` with
//!   the callback parameters `txnid, orderid, reference, amount, currency (ISO 4217 numeric),
//!   date (YYYYMMDD), time (HHMM), feeid, txnfee, paymenttype, cardno, expmonth, expyear, eci,
//!   issuercountry, hash`, where `hash` = MD5 hex of the values in that order + the merchant's
//!   MD5 key (N:4.7; `walletname`, `subscriptionid`, `tokenid` left out, OURS). Cancel
//!   redirects to `url.decline` (else `url.cancel`) without parameters.
//! - `GET /transactions/{txnid}` (Merchant API, N:4.8) → `{meta, transaction}`. `status` values
//!   are UNCONFIRMED; ours are `authorized` and `captured`. `balance` = captured − credited and
//!   `candelete` = nothing captured (OURS).
//! - Payment Requests (N:4.8): `POST /paymentrequests` `{reference, description, parameters
//!   {order, instantcaptureamount, paymentwindow, url {callbacks}}}` → `{meta, id, url}`;
//!   `GET /paymentrequests/{id}` → `status` `open` or `closed` (only `closed` is confirmed) and
//!   deliberately NO transaction id (whether the real API gives one is UNCONFIRMED);
//!   `DELETE /paymentrequests/{id}` ends an open request (409 once it is closed, OURS). A
//!   request has no expiry here, and a customer leaving the page does not close it (OURS).
//!
//! Test controls (under `/_control`, no auth; unknown id → 404, not possible now → 409 with a
//! text reason, unknown outcome → 400):
//!
//! | request | effect |
//! |---|---|
//! | `POST /_control/bambora/accounts` `{"merchant_number", "access_token", "secret_token", "md5_key"}` | add an API user (204) |
//! | `POST /_control/bambora/sessions/{token}/outcome` `{"outcome": "pay"}` | what the customer does in the window: `pay`, `decline`, `cancel`, or `expire` (the session's expiry becomes now); 200 `{"redirect": URL or null}`, the URL the browser would be sent to |
//! | `POST /_control/bambora/paymentrequests/{id}/outcome` `{"outcome": "pay"}` | what the customer does on the payment request page: `pay` (closes it), `decline`, `cancel` (both leave it open); 200 `{"redirect": null}` |

use crate::common::{
    basic_credentials, escape, is_http_url, is_json, money, page, public_base, random_hex,
};
use crate::control::Outcome;
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kassa_core::http::percent_encode;
use kassa_core::money::{Currency, Decimal, MAX_AMOUNT};
use kassa_core::time::{format_rfc3339, now_millis};
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

const SESSION_LIFETIME_MS: i64 = 3600 * 1000;
const FIRST_TXNID: u64 = 70_000_000_001;
const FIRST_REFERENCE: u64 = 100_000_001;
const MAX_ORDER_ID: usize = 30;
const MAX_REFERENCE: usize = 50;

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

const SESSION_FIELDS: &[&str] = &[
    "order",
    "url",
    "instantcaptureamount",
    "paymentwindow",
    "language",
    "customer",
    "capturemulti",
];
const REQUEST_FIELDS: &[&str] = &["reference", "description", "parameters"];
const PARAMETER_FIELDS: &[&str] = &["order", "instantcaptureamount", "paymentwindow", "url"];
const ORDER_FIELDS: &[&str] = &["id", "amount", "currency", "vatamount", "lines"];
const URL_FIELDS: &[&str] = &["accept", "decline", "cancel", "callbacks"];
const LINE_STRINGS: &[&str] = &["id", "linenumber", "description", "unit"];
const LINE_MONEY: [&str; 6] = [
    "unitprice",
    "unitpriceinclvat",
    "unitpricevatamount",
    "totalprice",
    "totalpriceinclvat",
    "totalpricevatamount",
];
const LINE_FIELDS: &[&str] = &[
    "id",
    "linenumber",
    "description",
    "text",
    "quantity",
    "unit",
    "unitprice",
    "unitpriceinclvat",
    "unitpricevatamount",
    "totalprice",
    "totalpriceinclvat",
    "totalpricevatamount",
    "vat",
];

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
    created_at: i64,
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

    /// Authorizes `order.amount` (capturing `instant_capture` of it) and returns the txnid.
    fn authorize(&mut self, merchant: &str, order: &Order, instant_capture: i64) -> String {
        let id = self.next_txnid.to_string();
        self.next_txnid += 1;
        let reference = self.next_reference.to_string();
        self.next_reference += 1;
        self.transactions.insert(
            id.clone(),
            Transaction {
                id: id.clone(),
                merchant: merchant.into(),
                order_id: order.id.clone(),
                reference,
                currency: order.currency.clone(),
                authorized: order.amount,
                captured: instant_capture,
                created_at: now_millis(),
            },
        );
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

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sessions", post(create_session))
        .route("/checkout", post(create_session))
        .route("/window/{token}", get(window))
        .route("/window/{token}/{action}", post(window_action))
        .route("/transactions/{txnid}", get(get_transaction))
        .route("/paymentrequests", post(create_request))
        .route(
            "/paymentrequests/{id}",
            get(get_request).delete(delete_request),
        )
        .route("/pay/{id}", get(request_page))
        .route("/pay/{id}/{action}", post(request_action))
}

pub(crate) fn control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/bambora/accounts", post(control_add_account))
        .route(
            "/bambora/sessions/{token}/outcome",
            post(control_session_outcome),
        )
        .route(
            "/bambora/paymentrequests/{id}/outcome",
            post(control_request_outcome),
        )
}

// ---------------------------------------------------------------------------------------------
// Validation: every problem is collected, each naming its field.

fn field_path(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn refuse_unknown(obj: &Map<String, Value>, known: &[&str], at: &str, p: &mut Vec<String>) {
    for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        p.push(format!(
            "{} is not a known field (known: {})",
            field_path(at, k),
            known.join(", ")
        ));
    }
}

/// An object field; `None` (with a problem) when it is missing or not an object.
fn object_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    at: &str,
    required: bool,
    p: &mut Vec<String>,
) -> Option<&'a Map<String, Value>> {
    match obj.get(key) {
        Some(Value::Object(o)) => Some(o),
        Some(_) => {
            p.push(format!("{} must be an object", field_path(at, key)));
            None
        }
        None if required => {
            p.push(format!("{} is required", field_path(at, key)));
            None
        }
        None => None,
    }
}

fn string_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    at: &str,
    required: bool,
    p: &mut Vec<String>,
) -> Option<&'a str> {
    match obj.get(key) {
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            p.push(format!("{} must be a string", field_path(at, key)));
            None
        }
        None if required => {
            p.push(format!("{} is required", field_path(at, key)));
            None
        }
        None => None,
    }
}

/// An integer amount in minor units (|x| ≤ MAX_AMOUNT, so sums and products stay exact).
fn int_field(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    required: bool,
    p: &mut Vec<String>,
) -> Option<i64> {
    match obj.get(key) {
        Some(v) => match v.as_i64() {
            Some(n) if n.abs() <= MAX_AMOUNT => Some(n),
            _ => {
                p.push(format!(
                    "{} must be an integer (minor units), got {v}",
                    field_path(at, key)
                ));
                None
            }
        },
        None if required => {
            p.push(format!("{} is required", field_path(at, key)));
            None
        }
        None => None,
    }
}

/// A JSON number read exactly from its text (never through a float's arithmetic).
fn decimal_field(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    p: &mut Vec<String>,
) -> Option<Decimal> {
    match obj.get(key) {
        Some(Value::Number(n)) => match Decimal::parse(&n.to_string()) {
            Some(d) => Some(d),
            None => {
                p.push(format!("{} {n} is out of range", field_path(at, key)));
                None
            }
        },
        Some(v) => {
            p.push(format!(
                "{} must be a JSON number, got {v}",
                field_path(at, key)
            ));
            None
        }
        None => {
            p.push(format!("{} is required", field_path(at, key)));
            None
        }
    }
}

fn absolute_url(obj: &Map<String, Value>, key: &str, at: &str, p: &mut Vec<String>) -> bool {
    match string_field(obj, key, at, false, p) {
        Some(u) if is_http_url(u) => true,
        Some(u) => {
            p.push(format!(
                "{} {u:?} is not an absolute http(s) URL",
                field_path(at, key)
            ));
            false
        }
        None => false,
    }
}

/// `order`, `instantcaptureamount` and `paymentwindow` of a session or of a payment request's
/// `parameters` (`at` is "" or "parameters").
fn validate_payment(obj: &Map<String, Value>, at: &str, p: &mut Vec<String>) {
    let amount = object_field(obj, "order", at, true, p)
        .and_then(|o| validate_order(o, &field_path(at, "order"), p));
    if let Some(ic) = int_field(obj, "instantcaptureamount", at, false, p) {
        if ic < 0 || amount.is_some_and(|a| ic > a) {
            p.push(format!(
                "{} {ic} must be between 0 and order.amount",
                field_path(at, "instantcaptureamount")
            ));
        }
    }
    if let Some(w) = object_field(obj, "paymentwindow", at, false, p) {
        let at = field_path(at, "paymentwindow");
        refuse_unknown(w, &["id", "language"], &at, p);
        if let Some(id) = w.get("id") {
            if id.as_i64().is_none_or(|n| n < 1) {
                p.push(format!("{at}.id must be an integer ≥ 1, got {id}"));
            }
        }
        if let Some(lang) = string_field(w, "language", &at, false, p) {
            let b = lang.as_bytes();
            let shaped = b.len() == 5
                && b[..2].iter().all(u8::is_ascii_lowercase)
                && b[2] == b'-'
                && b[3..].iter().all(u8::is_ascii_uppercase);
            if !shaped {
                p.push(format!("{at}.language {lang:?} must look like \"nb-NO\""));
            }
        }
    }
}

/// Checks an order; returns `order.amount` when it is valid on its own (for instant capture).
fn validate_order(o: &Map<String, Value>, at: &str, p: &mut Vec<String>) -> Option<i64> {
    refuse_unknown(o, ORDER_FIELDS, at, p);
    if let Some(id) = string_field(o, "id", at, true, p) {
        let len = id.chars().count();
        if len == 0 || len > MAX_ORDER_ID || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            p.push(format!(
                "{at}.id {id:?} must be 1–{MAX_ORDER_ID} characters, only A-Z, a-z and 0-9"
            ));
        }
    }
    let amount = int_field(o, "amount", at, true, p).filter(|a| {
        let positive = *a > 0;
        if !positive {
            p.push(format!("{at}.amount {a} must be greater than 0"));
        }
        positive
    });
    if let Some(c) = string_field(o, "currency", at, true, p) {
        if Currency::from_code(c).is_none() {
            p.push(format!("{at}.currency {c:?} is not an ISO 4217 code"));
        } else if numeric_currency(c).is_none() {
            p.push(format!(
                "{at}.currency {c} is not handled by the sandbox's acquirer (DKK, EUR, GBP, NOK, SEK, USD)"
            ));
        }
    }
    let vatamount = int_field(o, "vatamount", at, true, p).filter(|v| {
        if *v < 0 {
            p.push(format!("{at}.vatamount {v} must not be negative"));
        }
        *v >= 0
    });
    let lines = match o.get("lines") {
        None => return amount,
        Some(Value::Array(lines)) if !lines.is_empty() => lines,
        Some(_) => {
            p.push(format!("{at}.lines must be a non-empty array of Orderline"));
            return amount;
        }
    };
    let mut sums = Some((0i64, 0i64));
    for (i, line) in lines.iter().enumerate() {
        let totals = validate_line(line, &format!("{at}.lines[{i}]"), p);
        sums = sums
            .zip(totals)
            .map(|((gross, vat), (g, v))| (gross + g, vat + v));
    }
    if let Some((gross, vat)) = sums {
        if let Some(a) = amount.filter(|a| *a != gross) {
            p.push(format!(
                "{at}.amount {a} must equal the sum of {at}.lines[].totalpriceinclvat ({gross})"
            ));
        }
        if let Some(v) = vatamount.filter(|v| *v != vat) {
            p.push(format!(
                "{at}.vatamount {v} must equal the sum of {at}.lines[].totalpricevatamount ({vat})"
            ));
        }
    }
    amount
}

/// Checks one Orderline; returns its (totalpriceinclvat, totalpricevatamount) for the order
/// sums when both are integers.
fn validate_line(line: &Value, at: &str, p: &mut Vec<String>) -> Option<(i64, i64)> {
    let Some(l) = line.as_object() else {
        p.push(format!("{at} must be an object (Orderline)"));
        return None;
    };
    refuse_unknown(l, LINE_FIELDS, at, p);
    for f in LINE_STRINGS {
        string_field(l, f, at, true, p);
    }
    string_field(l, "text", at, false, p);
    let [up, upi, upva, tp, tpi, tpva] = LINE_MONEY.map(|f| int_field(l, f, at, true, p));
    let quantity = decimal_field(l, "quantity", at, p).filter(|q| {
        let positive = !q.negative && q.units > 0;
        if !positive {
            p.push(format!("{at}.quantity must be greater than 0"));
        }
        positive
    });
    let vat = decimal_field(l, "vat", at, p).filter(|v| match vat_problem(v) {
        Some(problem) => {
            p.push(format!("{at}.vat {}: {problem}", l["vat"]));
            false
        }
        None => true,
    });
    if let (Some(up), Some(upva), Some(upi)) = (up, upva, upi) {
        if up + upva != upi {
            p.push(format!(
                "{at}.unitpriceinclvat {upi} must equal unitprice + unitpricevatamount ({up} + {upva} = {})",
                up + upva
            ));
        }
    }
    if let (Some(tp), Some(tpva), Some(tpi)) = (tp, tpva, tpi) {
        if tp + tpva != tpi {
            p.push(format!(
                "{at}.totalpriceinclvat {tpi} must equal totalprice + totalpricevatamount ({tp} + {tpva} = {})",
                tp + tpva
            ));
        }
    }
    if let (Some(q), Some(upi), Some(tpi)) = (quantity, upi, tpi) {
        if !unit_price_matches(q, upi, tpi) {
            p.push(format!(
                "{at}.unitpriceinclvat {upi} must be totalpriceinclvat {tpi} / quantity {} rounded",
                l["quantity"]
            ));
        }
    }
    if let (Some(vat), Some(tpi), Some(tpva)) = (vat, tpi, tpva) {
        if !vat_matches(vat, tpi, tpva) {
            p.push(format!(
                "{at}.totalpricevatamount {tpva} must be the VAT in totalpriceinclvat {tpi} at {} % (within one minor unit)",
                l["vat"]
            ));
        }
    }
    tpi.zip(tpva)
}

/// Why a VAT rate is not a percent with at most 2 decimals between 0 and 100.
fn vat_problem(v: &Decimal) -> Option<&'static str> {
    let one = 10_i128.checked_pow(v.scale)?;
    if v.negative {
        Some("must not be negative")
    } else if v.scale > 2 {
        Some("must have at most 2 decimals")
    } else if v.units > 100 * one {
        Some("must be a percent between 0 and 100")
    } else {
        None
    }
}

/// `unitpriceinclvat` is `totalpriceinclvat / quantity` rounded: `|q·unit − total| ≤ q/2`,
/// computed with q = units / 10^scale, all in integers.
fn unit_price_matches(q: Decimal, unit: i64, total: i64) -> bool {
    let Some(scale) = 10_i128.checked_pow(q.scale) else {
        return false;
    };
    let diff = q
        .units
        .checked_mul(i128::from(unit))
        .zip(i128::from(total).checked_mul(scale))
        .and_then(|(a, b)| a.checked_sub(b));
    diff.and_then(|d| d.checked_abs()?.checked_mul(2))
        .is_some_and(|d2| d2 <= q.units)
}

/// `totalpricevatamount` is the VAT in `totalpriceinclvat` at `vat` % within one minor unit:
/// `|vat_amount·(100 + vat) − total·vat| ≤ 100 + vat`, scaled by 10^scale of the rate.
fn vat_matches(vat: Decimal, total: i64, vat_amount: i64) -> bool {
    let Some(scale) = 10_i128.checked_pow(vat.scale) else {
        return false;
    };
    let hundred_plus = 100 * scale + vat.units;
    let diff = i128::from(vat_amount) * hundred_plus - i128::from(total) * vat.units;
    diff.abs() <= hundred_plus
}

fn validate_session(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = v.as_object() else {
        return vec!["the body must be a JSON object".into()];
    };
    refuse_unknown(obj, SESSION_FIELDS, "", &mut p);
    validate_payment(obj, "", &mut p);
    if let Some(url) = object_field(obj, "url", "", true, &mut p) {
        refuse_unknown(url, URL_FIELDS, "url", &mut p);
        if !url.contains_key("accept") {
            p.push("url.accept is required".into());
        }
        absolute_url(url, "accept", "url", &mut p);
        if !url.contains_key("decline") && !url.contains_key("cancel") {
            p.push("url.decline or url.cancel is required".into());
        }
        absolute_url(url, "decline", "url", &mut p);
        absolute_url(url, "cancel", "url", &mut p);
        validate_callbacks(url, "url", &mut p);
    }
    p
}

fn validate_callbacks(url: &Map<String, Value>, at: &str, p: &mut Vec<String>) {
    match url.get("callbacks") {
        None => {}
        Some(Value::Array(list)) => {
            for (i, cb) in list.iter().enumerate() {
                let at = format!("{at}.callbacks[{i}]");
                match cb.as_object() {
                    Some(cb) => {
                        refuse_unknown(cb, &["url"], &at, p);
                        if !cb.contains_key("url") {
                            p.push(format!("{at}.url is required"));
                        }
                        absolute_url(cb, "url", &at, p);
                    }
                    None => p.push(format!("{at} must be an object {{\"url\": …}}")),
                }
            }
        }
        Some(_) => p.push(format!("{at}.callbacks must be an array of {{\"url\": …}}")),
    }
}

fn validate_request(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = v.as_object() else {
        return vec!["the body must be a JSON object".into()];
    };
    refuse_unknown(obj, REQUEST_FIELDS, "", &mut p);
    if let Some(r) = string_field(obj, "reference", "", true, &mut p) {
        let len = r.chars().count();
        if len == 0 || len > MAX_REFERENCE {
            p.push(format!(
                "reference must be 1–{MAX_REFERENCE} characters, got {len}"
            ));
        }
    }
    string_field(obj, "description", "", true, &mut p);
    if let Some(params) = object_field(obj, "parameters", "", true, &mut p) {
        refuse_unknown(params, PARAMETER_FIELDS, "parameters", &mut p);
        validate_payment(params, "parameters", &mut p);
        if let Some(url) = object_field(params, "url", "parameters", false, &mut p) {
            refuse_unknown(url, &["callbacks"], "parameters.url", &mut p);
            validate_callbacks(url, "parameters.url", &mut p);
        }
    }
    p
}

// ---------------------------------------------------------------------------------------------
// The Checkout and Merchant APIs.

/// The JSON body of an API call, or why it is not one (a 400).
fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, String> {
    if !is_json(headers) {
        return Err("Content-Type must be application/json".into());
    }
    serde_json::from_slice(body).map_err(|err| format!("the body is not valid JSON: {err}"))
}

/// Records a merchant's order id, or says it is taken (a 409).
fn claim_order_id(e: &mut Emulator, merchant: &str, id: &str) -> Result<(), String> {
    if e.order_ids.insert((merchant.to_string(), id.to_string())) {
        Ok(())
    } else {
        Err(format!(
            "order.id {id:?} is already used by this merchant (order ids must be unique)"
        ))
    }
}

async fn create_session(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let v = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(problem) => return bad_request(vec![problem]),
    };
    let problems = validate_session(&v);
    if !problems.is_empty() {
        return bad_request(problems);
    }
    let order = Order::from_valid(&v["order"]);
    if let Err(taken) = claim_order_id(&mut e, &merchant, &order.id) {
        return conflict(&taken);
    }
    let url = &v["url"];
    let leave = url
        .get("decline")
        .or_else(|| url.get("cancel"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let token = random_hex(16);
    let session = Session {
        merchant,
        expires_at: now_millis() + SESSION_LIFETIME_MS,
        instant_capture: v["instantcaptureamount"].as_i64().unwrap_or(0),
        accept: url["accept"].as_str().unwrap_or_default().into(),
        leave: leave.into(),
        order,
        phase: Phase::Open,
        declined: 0,
    };
    e.sessions.insert(token.clone(), session);
    let url = format!("{}/window/{token}", public_base(&headers, "bambora"));
    ok(json!({"token": token, "url": url}))
}

async fn get_transaction(
    State(s): State<Arc<Shared>>,
    Path(txnid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let Some(t) = e
        .transactions
        .get(&txnid)
        .filter(|t| t.merchant == merchant)
    else {
        return not_found(&format!("transaction {txnid}"));
    };
    let digits = Currency::from_code(&t.currency).map_or(2, |c| c.digits());
    let credited = 0;
    ok(json!({"transaction": {
        "id": t.id,
        "orderid": t.order_id,
        "merchantnumber": t.merchant,
        "reference": t.reference,
        "status": if t.captured > 0 { "captured" } else { "authorized" },
        "createddate": format_rfc3339(t.created_at),
        "currency": {"code": t.currency, "minorunits": digits},
        "total": {
            "authorized": t.authorized,
            "balance": t.captured - credited,
            "captured": t.captured,
            "credited": credited,
            "declined": 0,
            "feeamount": 0,
        },
        "available": {"capture": t.authorized - t.captured, "credit": t.captured - credited},
        "candelete": t.captured == 0,
    }}))
}

async fn create_request(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let v = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(problem) => return bad_request(vec![problem]),
    };
    let problems = validate_request(&v);
    if !problems.is_empty() {
        return bad_request(problems);
    }
    let params = &v["parameters"];
    let order = Order::from_valid(&params["order"]);
    if let Err(taken) = claim_order_id(&mut e, &merchant, &order.id) {
        return conflict(&taken);
    }
    let id = request_id();
    e.requests.insert(
        id.clone(),
        PaymentRequest {
            merchant,
            reference: v["reference"].as_str().unwrap_or_default().into(),
            description: v["description"].as_str().unwrap_or_default().into(),
            created_at: now_millis(),
            order,
            instant_capture: params["instantcaptureamount"].as_i64().unwrap_or(0),
            phase: Phase::Open,
            declined: 0,
        },
    );
    let url = format!("{}/pay/{id}", public_base(&headers, "bambora"));
    ok(json!({"id": id, "url": url}))
}

/// A live (not deleted) payment request of `merchant`.
fn merchant_request<'a>(e: &'a Emulator, merchant: &str, id: &str) -> Option<&'a PaymentRequest> {
    e.requests
        .get(id)
        .filter(|r| r.merchant == merchant && r.phase != Phase::Deleted)
}

async fn get_request(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let Some(r) = merchant_request(&e, &merchant, &id) else {
        return not_found(&format!("payment request {id}"));
    };
    // Deliberately no transaction id: whether Bambora gives one is UNCONFIRMED.
    ok(json!({
        "id": id,
        "status": if matches!(r.phase, Phase::Paid(_)) { "closed" } else { "open" },
        "reference": r.reference,
        "description": r.description,
        "createddate": format_rfc3339(r.created_at),
        "parameters": {"order": {
            "id": r.order.id, "amount": r.order.amount, "currency": r.order.currency,
        }},
    }))
}

async fn delete_request(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let Some(r) = merchant_request(&e, &merchant, &id) else {
        return not_found(&format!("payment request {id}"));
    };
    if matches!(r.phase, Phase::Paid(_)) {
        return conflict("the payment request is closed (it was paid) and cannot be deleted");
    }
    e.requests.get_mut(&id).expect("found above").phase = Phase::Deleted;
    ok(json!({}))
}

// ---------------------------------------------------------------------------------------------
// What the customer does: the payment window (sessions) and the payment request page.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    Pay,
    Decline,
    Cancel,
    Expire,
}

impl Action {
    fn parse(text: &str) -> Option<Action> {
        match text {
            "pay" => Some(Action::Pay),
            "decline" => Some(Action::Decline),
            "cancel" => Some(Action::Cancel),
            "expire" => Some(Action::Expire),
            _ => None,
        }
    }
}

/// Why a session cannot take a payment now, if it cannot.
fn session_closed(s: &Session, now: i64) -> Option<&'static str> {
    match s.phase {
        Phase::Paid(_) => Some("This payment is completed."),
        Phase::Cancelled | Phase::Deleted => Some("This payment was cancelled."),
        Phase::Open if s.expires_at <= now => Some("This payment window has expired."),
        Phase::Open => None,
    }
}

/// Applies a customer action to a session; returns where the browser goes next, if anywhere.
fn session_outcome(
    e: &mut Emulator,
    token: &str,
    action: Action,
) -> Result<Option<String>, String> {
    let now = now_millis();
    let session = e.sessions.get_mut(token).expect("the caller checked");
    if action == Action::Expire {
        session.expires_at = now;
        return Ok(None);
    }
    if let Some(why) = session_closed(session, now) {
        return Err(why.into());
    }
    match action {
        Action::Decline => {
            session.declined += 1;
            Ok(None)
        }
        Action::Cancel => {
            session.phase = Phase::Cancelled;
            Ok(Some(session.leave.clone()))
        }
        _ => {
            let (merchant, order, capture) = (
                session.merchant.clone(),
                session.order.clone(),
                session.instant_capture,
            );
            let txnid = e.authorize(&merchant, &order, capture);
            let session = e.sessions.get_mut(token).expect("exists");
            session.phase = Phase::Paid(txnid.clone());
            let accept = session.accept.clone();
            Ok(Some(e.accept_redirect(&accept, &txnid)))
        }
    }
}

/// Applies a customer action to a payment request (Expire is not one).
fn request_outcome(e: &mut Emulator, id: &str, action: Action) -> Result<(), String> {
    let r = e.requests.get_mut(id).expect("the caller checked");
    match r.phase {
        Phase::Deleted | Phase::Cancelled => {
            return Err("This payment request is no longer available.".into())
        }
        Phase::Paid(_) => return Err("This payment request is closed: it is paid.".into()),
        Phase::Open => {}
    }
    match action {
        Action::Decline => r.declined += 1,
        // Leaving the page does not end the request: only the merchant's DELETE does.
        Action::Cancel => {}
        Action::Expire => return Err("payment requests do not expire".into()),
        Action::Pay => {
            let (merchant, order, capture) =
                (r.merchant.clone(), r.order.clone(), r.instant_capture);
            let txnid = e.authorize(&merchant, &order, capture);
            e.requests.get_mut(id).expect("exists").phase = Phase::Paid(txnid);
        }
    }
    Ok(())
}

/// The order as a table: its lines (or just the amount) and the total.
fn order_table(order: &Order) -> String {
    let mut rows = String::new();
    for line in order.raw["lines"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{} {}</td><td class=n>{}</td></tr>",
            escape(line["description"].as_str().unwrap_or("")),
            escape(&line["quantity"].to_string()),
            escape(line["unit"].as_str().unwrap_or("")),
            escape(&money(
                line["totalpriceinclvat"].as_i64().unwrap_or(0),
                &order.currency
            )),
        ));
    }
    format!(
        "<p class=ref>Order {}</p><table>{rows}<tr class=total><td>Total</td><td></td><td class=n>{}</td></tr></table>",
        escape(&order.id),
        escape(&money(order.amount, &order.currency)),
    )
}

/// Pay / Decline / Cancel as plain forms posting to `{base}/{action}`.
fn buttons(base: &str, order: &Order) -> String {
    format!(
        "<form method=post action=\"{base}/pay\"><button class=pay>Pay {}</button></form>\
         <div class=row><form method=post action=\"{base}/decline\"><button>Decline</button></form>\
         <form method=post action=\"{base}/cancel\"><button>Cancel</button></form></div>",
        escape(&money(order.amount, &order.currency)),
        base = escape(base),
    )
}

fn hosted_page(s: &Shared, title: &str, status: StatusCode, body: &str) -> Response {
    let body = format!(
        "{body}<p class=note>Bambora sandbox (Kassa): no real money moves.</p>{}",
        s.page_script_tag()
    );
    (status, Html(page(title, &body))).into_response()
}

fn state_line(text: &str) -> String {
    format!("<p class=state>{}</p>", escape(text))
}

const WINDOW_TITLE: &str = "Bambora Checkout (sandbox)";
const REQUEST_TITLE: &str = "Bambora payment request (sandbox)";
const DECLINED: &str = "Payment declined: try another card";

fn window_html(s: &Shared, token: &str, session: &Session, status: StatusCode) -> Response {
    let actions = match session_closed(session, now_millis()) {
        Some(why) => state_line(why),
        None if session.declined > 0 => format!(
            "{}{}",
            state_line(DECLINED),
            buttons(&format!("/bambora/window/{token}"), &session.order)
        ),
        None => buttons(&format!("/bambora/window/{token}"), &session.order),
    };
    let body = format!("{}{actions}", order_table(&session.order));
    hosted_page(s, WINDOW_TITLE, status, &body)
}

fn missing_page(s: &Shared, what: &str) -> Response {
    hosted_page(
        s,
        WINDOW_TITLE,
        StatusCode::NOT_FOUND,
        &format!("<p>This {what} does not exist.</p>"),
    )
}

async fn window(State(s): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    let e = s.bambora.lock().unwrap();
    match e.sessions.get(&token) {
        Some(session) => window_html(&s, &token, session, StatusCode::OK),
        None => missing_page(&s, "payment window"),
    }
}

async fn window_action(
    State(s): State<Arc<Shared>>,
    Path((token, action)): Path<(String, String)>,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(action) = Action::parse(&action).filter(|a| *a != Action::Expire) else {
        return missing_page(&s, "page");
    };
    if !e.sessions.contains_key(&token) {
        return missing_page(&s, "payment window");
    }
    match session_outcome(&mut e, &token, action) {
        Ok(Some(to)) => Redirect::to(&to).into_response(),
        Ok(None) => window_html(&s, &token, &e.sessions[&token], StatusCode::OK),
        Err(_) => window_html(&s, &token, &e.sessions[&token], StatusCode::CONFLICT),
    }
}

fn request_html(
    s: &Shared,
    id: &str,
    r: &PaymentRequest,
    status: StatusCode,
    left: bool,
) -> Response {
    let description = format!("<p>{}</p>", escape(&r.description));
    let body = match &r.phase {
        Phase::Deleted | Phase::Cancelled => {
            state_line("This payment request is no longer available.")
        }
        Phase::Paid(_) => format!(
            "{description}{}{}",
            order_table(&r.order),
            state_line("Payment approved.")
        ),
        Phase::Open if left => format!(
            "{}<p><a href=\"/bambora/pay/{}\">Back to the payment</a></p>",
            state_line("You left the payment."),
            escape(id)
        ),
        Phase::Open => {
            let notice = if r.declined > 0 {
                state_line(DECLINED)
            } else {
                String::new()
            };
            format!(
                "{description}{}{notice}{}",
                order_table(&r.order),
                buttons(&format!("/bambora/pay/{id}"), &r.order)
            )
        }
    };
    hosted_page(s, REQUEST_TITLE, status, &body)
}

async fn request_page(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let e = s.bambora.lock().unwrap();
    match e.requests.get(&id) {
        Some(r) => request_html(&s, &id, r, StatusCode::OK, false),
        None => missing_page(&s, "payment request"),
    }
}

async fn request_action(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(action) = Action::parse(&action).filter(|a| *a != Action::Expire) else {
        return missing_page(&s, "page");
    };
    if !e.requests.contains_key(&id) {
        return missing_page(&s, "payment request");
    }
    let status = match request_outcome(&mut e, &id, action) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::CONFLICT,
    };
    let left = action == Action::Cancel && status == StatusCode::OK;
    request_html(&s, &id, &e.requests[&id], status, left)
}

// ---------------------------------------------------------------------------------------------
// Control API.

async fn control_add_account(
    State(s): State<Arc<Shared>>,
    Json(a): Json<BamboraAccount>,
) -> StatusCode {
    s.bambora.lock().unwrap().add_account(a);
    StatusCode::NO_CONTENT
}

async fn control_session_outcome(
    State(s): State<Arc<Shared>>,
    Path(token): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(action) = Action::parse(&o.outcome) else {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "unknown outcome {:?} (pay, decline, cancel, expire)",
                o.outcome
            ),
        )
            .into_response();
    };
    if !e.sessions.contains_key(&token) {
        return (
            StatusCode::NOT_FOUND,
            format!("session {token} was not found"),
        )
            .into_response();
    }
    match session_outcome(&mut e, &token, action) {
        Ok(redirect) => Json(json!({"redirect": redirect})).into_response(),
        Err(m) => (StatusCode::CONFLICT, m).into_response(),
    }
}

async fn control_request_outcome(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(action) = Action::parse(&o.outcome).filter(|a| *a != Action::Expire) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("unknown outcome {:?} (pay, decline, cancel)", o.outcome),
        )
            .into_response();
    };
    if !e.requests.contains_key(&id) {
        return (
            StatusCode::NOT_FOUND,
            format!("payment request {id} was not found"),
        )
            .into_response();
    }
    match request_outcome(&mut e, &id, action) {
        Ok(()) => Json(json!({"redirect": null})).into_response(),
        Err(m) => (StatusCode::CONFLICT, m).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 × 19.99 at 25 % and 0.35 kg at 15 % (unit price derived from the rounded total).
    fn valid() -> Value {
        json!({
            "order": {
                "id": "K1001", "amount": 5997 + 1747, "currency": "NOK",
                "vatamount": 1199 + 228,
                "lines": [
                    {"id": "kaffe", "linenumber": "1", "description": "Kaffe", "quantity": 3,
                     "unit": "pcs", "unitprice": 1599, "unitpriceinclvat": 1999,
                     "unitpricevatamount": 400, "totalprice": 4798, "totalpriceinclvat": 5997,
                     "totalpricevatamount": 1199, "vat": 25},
                    {"id": "ost", "linenumber": "2", "description": "Ost", "quantity": 0.35,
                     "unit": "kg", "unitprice": 4340, "unitpriceinclvat": 4991,
                     "unitpricevatamount": 651, "totalprice": 1519, "totalpriceinclvat": 1747,
                     "totalpricevatamount": 228, "vat": 15, "text": "Norvegia"}
                ]
            },
            "url": {
                "accept": "https://shop.example/accept",
                "decline": "https://shop.example/decline",
                "callbacks": [{"url": "https://shop.example/cb"}]
            },
            "instantcaptureamount": 0,
            "paymentwindow": {"id": 1, "language": "nb-NO"}
        })
    }

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn problems(v: &Value) -> String {
        validate_session(v).join("\n")
    }

    #[test]
    fn a_valid_session_passes() {
        assert_eq!(validate_session(&valid()), Vec::<String>::new());
        let mut v = valid();
        v["order"].as_object_mut().unwrap().remove("lines");
        assert_eq!(validate_session(&v), Vec::<String>::new());
    }

    #[test]
    fn the_unit_price_is_the_total_per_unit_rounded() {
        // 1747 / 0.35 = 4991.43 → 4991; 4990 (a per-kg shelf price) does not round to it.
        assert!(unit_price_matches(dec("0.35"), 4991, 1747));
        assert!(!unit_price_matches(dec("0.35"), 4990, 1747));
        assert!(!unit_price_matches(dec("0.35"), 4992, 1747));
        assert!(unit_price_matches(dec("3"), 1999, 5997));
        assert!(!unit_price_matches(dec("3"), 2000, 5997));
        // 1000 / 3 = 333.33: 3 × 333 is 1 away (≤ q/2 = 1.5), 3 × 334 is 2 away.
        assert!(unit_price_matches(dec("3"), 333, 1000));
        assert!(!unit_price_matches(dec("3"), 334, 1000));
        // Exactly half a unit away is still a rounding.
        assert!(unit_price_matches(dec("2"), 1, 3));
        // Negative lines (discounts) follow the same rule.
        assert!(unit_price_matches(dec("1"), -500, -500));
    }

    #[test]
    fn vat_must_match_within_one_minor_unit() {
        // 5997 at 25 %: exact VAT 1199.4.
        assert!(vat_matches(dec("25"), 5997, 1199));
        assert!(vat_matches(dec("25"), 5997, 1200));
        assert!(!vat_matches(dec("25"), 5997, 1201));
        assert!(!vat_matches(dec("25"), 5997, 1197));
        // 12.5 %: 1125 → 125 exactly.
        assert!(vat_matches(dec("12.5"), 1125, 125));
        assert!(!vat_matches(dec("12.5"), 1125, 127));
        assert!(vat_matches(dec("0"), 1000, 0));
        assert!(!vat_matches(dec("0"), 1000, 2));
    }

    #[test]
    fn vat_is_a_percent_with_two_decimals() {
        assert!(vat_problem(&dec("12.555"))
            .unwrap()
            .contains("at most 2 decimals"));
        assert!(vat_problem(&dec("2500")).is_some());
        assert!(vat_problem(&dec("-25")).is_some());
        for ok in ["0", "0.01", "0.25", "1", "12.5", "25", "100", "25.00"] {
            assert_eq!(vat_problem(&dec(ok)), None, "{ok}");
        }
    }

    #[test]
    fn line_sums_and_order_sums() {
        let mut v = valid();
        v["order"]["lines"][0]["totalprice"] = json!(4797);
        v["order"]["lines"][1]["unitpricevatamount"] = json!(650);
        v["order"]["lines"][1]["totalpricevatamount"] = json!(250);
        v["order"]["lines"][1]["totalprice"] = json!(1497);
        let p = problems(&v);
        for expected in [
            "order.lines[0].totalpriceinclvat 5997 must equal totalprice + totalpricevatamount",
            "order.lines[1].unitpriceinclvat 4991 must equal unitprice + unitpricevatamount",
            "order.lines[1].totalpricevatamount 250 must be the VAT",
            "order.vatamount 1427 must equal the sum of order.lines[].totalpricevatamount (1449)",
        ] {
            assert!(p.contains(expected), "missing {expected:?} in\n{p}");
        }
        let mut v = valid();
        v["order"]["amount"] = json!(8000);
        let p = validate_session(&v);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("must equal the sum") && p[0].contains("8000") && p[0].contains("7744")
        );
    }

    #[test]
    fn fields_types_and_unknown_fields() {
        let mut v = valid();
        v["order"]["id"] = json!("K-1001");
        v["order"]["lines"][0]["quantiy"] = json!(3);
        v["order"]["lines"][1]["unitprice"] = json!("4340");
        v["order"]["lines"][1]["quantity"] = json!(0);
        v["order"]["ordernumber"] = json!("x");
        v["order"]["currency"] = json!("nok");
        v["url"].as_object_mut().unwrap().remove("accept");
        v["url"]["decline"] = json!("/relative");
        v["instantcaptureamount"] = json!(999_999);
        v["paymentwindowid"] = json!(1);
        let p = problems(&v);
        for expected in [
            "order.id \"K-1001\" must be 1–30 characters",
            "order.lines[0].quantiy is not a known field",
            "order.lines[1].unitprice must be an integer",
            "order.lines[1].quantity must be greater than 0",
            "order.ordernumber is not a known field",
            "order.currency \"nok\" is not an ISO 4217 code",
            "url.accept is required",
            "url.decline \"/relative\" is not an absolute http(s) URL",
            "instantcaptureamount 999999 must be between 0 and order.amount",
            "paymentwindowid is not a known field",
        ] {
            assert!(p.contains(expected), "missing {expected:?} in\n{p}");
        }
        let mut v = valid();
        v["order"]["id"] = json!("A".repeat(31));
        v["order"]["lines"] = json!([]);
        v["url"] = json!({"accept": "https://shop.example/ok"});
        let p = problems(&v);
        assert!(p.contains("order.id"), "{p}");
        assert!(p.contains("order.lines must be a non-empty array"), "{p}");
        assert!(p.contains("url.decline or url.cancel is required"), "{p}");
    }

    #[test]
    fn payment_requests_use_the_same_order_rules() {
        let s = valid();
        let mut v = json!({
            "reference": "R-1", "description": "Kassa order",
            "parameters": {"order": s["order"], "instantcaptureamount": 7744,
                           "url": {"callbacks": [{"url": "https://shop.example/cb"}]}}
        });
        assert_eq!(validate_request(&v), Vec::<String>::new());
        v["parameters"]["order"]["lines"][0]["vat"] = json!(12.555);
        v["parameters"]["url"]["accept"] = json!("https://x.example");
        v["termsurl"] = json!("https://x.example/terms");
        v["reference"] = json!("");
        let p = validate_request(&v).join("\n");
        for expected in [
            "parameters.order.lines[0].vat 12.555: must have at most 2 decimals",
            "parameters.url.accept is not a known field",
            "termsurl is not a known field",
            "reference must be 1–50 characters",
        ] {
            assert!(p.contains(expected), "missing {expected:?} in\n{p}");
        }
    }

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
            created_at: 1_795_458_181_000, // 2026-11-23T18:23:01Z
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
