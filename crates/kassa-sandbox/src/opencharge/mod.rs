//! The Opencharge emulator: a payment gateway (OCID [`PAYMENT_GATEWAY_OCID`], `POST
//! /checkout/create` and its hosted checkout page) under `/opencharge/pg`, and a merchant
//! gateway (OCID [`MERCHANT_GATEWAY_OCID`], `POST /orders/checkout`) under `/opencharge/mg`.
//!
//! Sources: the spec files in `spec/` (see `spec/opencharge-SOURCE.txt`:
//! `opencharge-payment-gateway-api.openapi.json`, `opencharge-merchant-gateway-api.openapi.json`,
//! verbatim from github.com/openchargenetwork/docs @ b3762d6), NOTES-commercelayer-opencharge.md
//! Part B (§B2–§B13), and the docs pages the notes cite (`payment-gateway-api/endpoint/
//! checkout-create.mdx`, `merchant-gateway-api/endpoint/orders-checkout.mdx`,
//! `merchant-gateway-api/merchant-onboarding.mdx`, `guides/protocol/error-codes.mdx`). The
//! cryptography is Kassa's own [`kassa_core::provider::opencharge::sign`] (tested against the
//! notes' vectors); only the "replacer" canonicalization below is implemented here.
//! The protocol is a v0.1 draft with no public implementation: where the sources are silent or
//! contradict each other the choice is marked "our choice" or UNCONFIRMED.
//!
//! # Request authentication (both gateways, every POST; §B4)
//! Headers `X-OC-ID`, `X-OC-Timestamp`, `X-OC-Nonce`, `X-OC-Signature`, checked in this order
//! (the order is our choice; the docs' middleware sketches differ among themselves):
//! 1. a header missing or malformed → `401 INVALID_SIGNATURE` naming the header. Formats (our
//!    choice): `X-OC-ID` a decimal u64 without leading zeros, `X-OC-Timestamp`
//!    `^(0|[1-9][0-9]*)$` (no sign, no leading zeros: §B4.4), `X-OC-Nonce` 1–256 visible ASCII
//!    characters, `X-OC-Signature` 128 or 130 hex characters (§B6: `v` is ignored);
//! 2. `X-OC-ID` not a known party → `401 UNKNOWN_OCID`. The parties configured here
//!    ([`OpenchargeParty`]) stand in for the registry and the merchant's `metadata.json`
//!    (`config.publicKey`); nothing is fetched;
//! 3. `|X-OC-Timestamp − gateway now| > 300` → `401 TIMESTAMP_EXPIRED` with `details:
//!    {"serverTime", "timestamp"}` (300 s itself passes);
//! 4. the signature over `sign::canonical_request(X-OC-ID as sent, timestamp, nonce, METHOD,
//!    path, body)` with the party's key → else `401 INVALID_SIGNATURE`. `path` is the full path
//!    as received, *including* `/opencharge/pg` or `/opencharge/mg`, plus `?query` if any
//!    (§B4 interpretation 1; UNCONFIRMED, NOTES Part E 11); the body is hashed as the raw bytes
//!    received (the spec's text; the docs' Express verifier re-serializes the parsed body:
//!    UNCONFIRMED, §B4.2);
//! 5. the nonce already used by this OCID within the last 600 s → `401 NONCE_REUSED` (600 s,
//!    twice the timestamp window, is our choice). Only nonces of requests that passed 1–4 are
//!    remembered, and they stay remembered when the body is then refused.
//!
//! # Errors
//! Every error is `{"error": {"code", "message", "details"?}}` (the spec's `Error`). Statuses
//! (§B8 and the docs' handlers): request signature, timestamp, nonce and unknown OCID → 401.
//! Two statuses follow the docs' own handlers rather than a first reading of §B8 (which would
//! give 401 for any bad signature and 403 for an unregistered merchant):
//! - the **order** signature failing → `400 INVALID_SIGNATURE` ("the order signature does not
//!   verify"): both docs handlers (checkout-create.mdx, orders-checkout.mdx) answer 400, and the
//!   OpenAPI's 400 reads "Invalid request or signature" while 401 is "Authentication failed";
//! - `MERCHANT_NOT_REGISTERED` → 401: orders-checkout.mdx and merchant-onboarding.mdx answer 401;
//!   the operation lists only 200/400/401, and 403 belongs to `CONNECTION_REFUSED`
//!   (error-codes.mdx).
//!
//! Codes outside the spec's enums: `INVALID_REQUEST` (400; our choice) for a body that breaks
//! the schema or the rules below, with every problem in the message and in `details.problems`;
//! `AMOUNT_MISMATCH` (400, from error-codes.mdx); `SETTLEMENT_NOT_SUPPORTED` (400, from the MG
//! docs handler, in neither enum); `NOT_FOUND` (404) and `METHOD_NOT_ALLOWED` (405) for other
//! paths and methods (our choice).
//!
//! # `POST /opencharge/pg/checkout/create` (§B8)
//! After authentication, in this order:
//! 1. `Content-Type: application/json` (our choice) and a JSON body passing the spec's
//!    `CheckoutCreateRequest` schema with [`crate::openapi`] (strict: unknown fields are refused),
//!    plus our rules: `order.amount` `^(0|[1-9][0-9]*)\.[0-9]{2,3}$` and more than 0 (the notes
//!    recommend two decimals, three for 3-decimal currencies; the spec has no rule, Part E 14),
//!    `order.currency` `^[A-Z]{3}$` (no ISO 4217 list), each item `quantity` an integer ≥ 1 (the
//!    schema says `number`; §B5 recommends integers), each `price` a decimal as `amount`,
//!    `urls.success`/`urls.cancel` http(s) URLs (`format: uri` is not checked by the validator)
//!    → `400 INVALID_REQUEST`;
//! 2. `order.ocid == merchantOcid` → else `400 INVALID_REQUEST` (our choice); `merchantOcid` a
//!    known party → else `401 UNKNOWN_OCID` (our choice; "OCID not found in registry"). The
//!    caller (`X-OC-ID`) may be any known party: a merchant acting as its own merchant gateway
//!    (§B2) is allowed;
//! 3. `signature` (128 or 130 hex) over the gateway's canonicalization of `order` as received,
//!    with `merchantOcid`'s key → else `400 INVALID_SIGNATURE` (see Errors);
//! 4. with `items`: `amount == Σ price × quantity` (unit prices, §B12), compared exactly in
//!    thousandths → else `400 AMOUNT_MISMATCH` with `details: {"amount", "itemsTotal"}` (our
//!    choice: the spec has no such rule);
//! 5. `createdAt` at most 300 s in the gateway's future → else `400 INVALID_REQUEST` (our
//!    choice); `expiresAt`, when present, in the gateway's future → else `400 SESSION_EXPIRED`
//!    with `details: {"serverTime", "expiresAt"}` (our choice of code, from the PG enum);
//! 6. `order.accepts` contains 100 (direct settlement, §B2/§B11) → else `400
//!    SETTLEMENT_NOT_SUPPORTED` (a missing `accepts` too);
//! 7. an order `id` this merchant already used, at either gateway and whatever became of it →
//!    `400 SESSION_USED` (our choice: `/orders/create/{sessionId}` answers 410 for a used
//!    session, but `/checkout/create` lists only 400 and 401).
//!
//! Answers 200 `{"checkout_url": "<base>/opencharge/pg/pay/<session_id>", "session_id":
//! "cs_<32 hex>", "expires_at": min(order.expiresAt, now + 1800)}` (30 min as the docs' example
//! handler; `<base>` from the request's `Host`).
//!
//! # `POST /opencharge/mg/orders/checkout` (§B9)
//! Authentication as above; then `X-OC-ID` must be onboarded here (`onboarded: true`) → else
//! `401 MERCHANT_NOT_REGISTERED` (see Errors). Then as `/checkout/create` with these
//! differences: the schema is `OrderCheckoutRequest` (no `merchantOcid`; `urls.completed` and
//! `urls.cancelled` required, `urls.order` an optional array, all http(s)); `order.ocid` must be
//! `X-OC-ID`; `order.expiresAt` is REQUIRED (our choice, stricter than the docs' handler, which
//! skips the check without it: a missing one is `INVALID_REQUEST`) and must be in the future →
//! else `400 ORDER_EXPIRED`; `order.accepts` must contain 300. The merchant gateway then creates a
//! payment-gateway session itself (no HTTP call; as if it had called `/checkout/create` with
//! `success`/`cancel` = `completed`/`cancelled`) and answers 200 `{"redirect_url": <its
//! checkout_url>}`.
//!
//! # Canonicalization of the order signature (§B5; NOTES Part E 9, UNCONFIRMED)
//! Switched with `PUT /_control/opencharge/gateway`, for both gateways:
//! - `recursive` (default, §B5 (a)): [`sign::canonical_json`], keys sorted at every depth;
//! - `replacer` (§B5 (b)): JavaScript's `JSON.stringify(order, Object.keys(order).sort())`, see
//!   [`replacer_json`]: nested objects keep only the keys that are also top-level keys, so item
//!   names, quantities and prices are not signed and an order with items signed recursively
//!   does not verify. Orders without nested objects verify under both.
//!
//! # The gateways' clock
//! Gateway now = the machine's clock + `clock_offset_s` (a till whose clock is wrong is emulated
//! by offsetting the gateways). It drives the timestamp window, the expiry checks, the proofs'
//! `timestamp` and the `Date` header (IMF-fixdate, [`http_date`]) that this module sets on every
//! answer it produces under `/opencharge` (API, pages, 404/405), so hyper adds no second one.
//! Faults injected by lib.rs's middleware are answered outside this module and carry hyper's
//! `Date` from the machine clock.
//!
//! Answers of the two POST endpoints (errors included) are signed as §B4's "responses SHOULD be
//! signed": `X-OC-ID` (100 or 300), `X-OC-Timestamp`, `X-OC-Signature` over `ocid \n timestamp
//! \n status \n sha256(body)` with the gateway's key ([`payment_gateway_public_key`],
//! [`merchant_gateway_public_key`]; fixed keys, the SHA-256 of a label). Emitting them is our
//! choice; nobody in the docs verifies them, so Kassa must not require them.
//!
//! # The hosted page (the customer's browser; no auth)
//! `GET /opencharge/pg/pay/{session_id}`: the merchant OCID, amount and currency, the items,
//! the memo, and buttons `Pay` (`id=pay`) and `Cancel` (`id=cancel`) posting to
//! `/opencharge/pg/pay/{session_id}/{pay|cancel}`, which answers `303` to `urls.success` /
//! `urls.completed` or `urls.cancel` / `urls.cancelled` exactly as given (no query added: the
//! docs add none, UNCONFIRMED for real gateways), or a page saying paid/cancelled without a
//! URL. A paid, cancelled or expired session shows its state and no buttons; acting on it is a
//! `409` page. Paying creates a transaction proof (§B11) signed by the payment gateway over
//! `canonical_json(proof)`: `{"txid": "tx_<hex>", "issuer": 100, "from": {"ocid": 100,
//! "reference": "wallet_<hex>"}, "to": {"ocid": <see below>, "reference": <order.id>}, "amount",
//! "currency", "timestamp"}` (no `memo`). `to.ocid` is `merchantOcid` for `/checkout/create`
//! (direct settlement: 100 is in `accepts`, §B2/§B11; the docs' handler credits the calling
//! gateway, `X-OC-ID`, which is the same party when a merchant is its own merchant gateway) and
//! 300 on the merchant gateway path (the payment gateway credits the gateway that called it). The proof is only kept (read it with the control API): the real
//! gateway POSTs it to the merchant's public `/transfer/webhook`, which a till cannot host; the
//! merchant gateway's own proof to the merchant is not emulated.
//!
//! # Controls (under `/_control`)
//!
//! | request | effect |
//! |---|---|
//! | `POST /_control/opencharge/merchants` `{"ocid": 500, "public_key": "<128 hex>", "onboarded": true}` | register a party (the registry stand-in); `onboarded` (default `true`): onboarded at the merchant gateway |
//! | `PUT /_control/opencharge/gateway` `{"canonicalization": "recursive" \| "replacer", "clock_offset_s": 0}` | both gateways' behaviour; an omitted field goes back to its default (`recursive`, `0`); answers the settings |
//! | `POST /_control/opencharge/orders/{order_id}/outcome` `{"outcome": "pay"}` | the customer on the hosted page: `pay`, `cancel`, `expire`; answers `{"redirect": url \| null}` (the session of the merchant's order id, the newest if several merchants used the id) |
//! | `POST /_control/opencharge/sessions/{session_id}/outcome` `{"outcome": "pay"}` | the same, by session id |
//! | `GET /_control/opencharge/orders/{order_id}` | `{"session_id", "status": "pending" \| "paid" \| "cancelled" \| "expired", "gateway": "pg" \| "mg", "merchant_ocid", "expires_at", "order": <as received>, "proof": {...} \| null, "proof_signature": "..." \| null}` |
//! | `GET /_control/opencharge/sessions/{session_id}` | the same, by session id |
//!
//! Control errors are plain text: 404 for an unknown order or session, 409 for a session that
//! is no longer pending, 400 for an unknown outcome or a bad public key.
//!
//! Where: `signatures.rs` request authentication and the order canonicalizations;
//! `rules.rs` the body, order and amount rules (steps 1–7 above) and what the customer's
//! actions do (the proof); `checkout.rs` the two gateway endpoints; `page.rs` the hosted page;
//! `control.rs` the test controls. This module: the gateways, their keys and clock, the state,
//! and the error and answer shapes.

mod checkout;
mod control;
mod page;
mod rules;
mod signatures;

pub use signatures::replacer_json;

use crate::common::{code_message_error, Clock};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kassa_core::provider::opencharge::sign;
use kassa_core::secrets::Secret;
use regex::Regex;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

/// The payment gateway's OCID.
pub const PAYMENT_GATEWAY_OCID: u64 = 100;
/// The merchant gateway's OCID.
pub const MERCHANT_GATEWAY_OCID: u64 = 300;

/// `X-OC-Timestamp` may be this far from the gateway's clock (§B4), and `createdAt` this far
/// in its future.
const WINDOW_S: i64 = 300;
/// How long a nonce stays used (our choice).
const NONCE_WINDOW_S: i64 = 600;
/// A checkout session's longest life (the docs' example handler).
const SESSION_LIFETIME_S: i64 = 1800;

fn spec(text: &str) -> Value {
    serde_json::from_str(text).expect("the embedded Opencharge spec is JSON")
}

static PG_SPEC: LazyLock<Value> = LazyLock::new(|| {
    spec(include_str!(
        "../../spec/opencharge-payment-gateway-api.openapi.json"
    ))
});
static MG_SPEC: LazyLock<Value> = LazyLock::new(|| {
    spec(include_str!(
        "../../spec/opencharge-merchant-gateway-api.openapi.json"
    ))
});

fn gateway_key(label: &str) -> sign::Key {
    sign::Key::from_hex(&Secret::new(sign::sha256_hex(label.as_bytes())))
        .expect("a SHA-256 digest is a valid secp256k1 key")
}

static PG_KEY: LazyLock<sign::Key> = LazyLock::new(|| gateway_key("kassa-sandbox opencharge pg"));
static MG_KEY: LazyLock<sign::Key> = LazyLock::new(|| gateway_key("kassa-sandbox opencharge mg"));

/// The payment gateway's public key (128 hex): proofs and its answers verify with it.
pub fn payment_gateway_public_key() -> String {
    PG_KEY.public_key_hex()
}

/// The merchant gateway's public key (128 hex): its answers verify with it.
pub fn merchant_gateway_public_key() -> String {
    MG_KEY.public_key_hex()
}

fn yes() -> bool {
    true
}

/// A party the gateways know: its OCID and public key (128 hex, §B3), the stand-in for the
/// registry and its `metadata.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenchargeParty {
    pub ocid: u64,
    pub public_key: String,
    /// Onboarded at the merchant gateway (`POST /orders/checkout` needs it).
    #[serde(default = "yes")]
    pub onboarded: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Canonicalization {
    #[default]
    Recursive,
    Replacer,
}

impl Canonicalization {
    fn as_str(self) -> &'static str {
        match self {
            Canonicalization::Recursive => "recursive",
            Canonicalization::Replacer => "replacer",
        }
    }

    fn apply(self, order: &Value) -> Result<String, String> {
        match self {
            Canonicalization::Recursive => sign::canonical_json(order),
            Canonicalization::Replacer => replacer_json(order),
        }
    }
}

/// The behaviour switches (`PUT /_control/opencharge/gateway`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Switches {
    #[serde(default)]
    canonicalization: Canonicalization,
    #[serde(default)]
    clock_offset_s: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gateway {
    Pg,
    Mg,
}

impl Gateway {
    fn as_str(self) -> &'static str {
        match self {
            Gateway::Pg => "pg",
            Gateway::Mg => "mg",
        }
    }

    fn ocid(self) -> u64 {
        match self {
            Gateway::Pg => PAYMENT_GATEWAY_OCID,
            Gateway::Mg => MERCHANT_GATEWAY_OCID,
        }
    }

    fn key(self) -> &'static sign::Key {
        match self {
            Gateway::Pg => &PG_KEY,
            Gateway::Mg => &MG_KEY,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Paid,
    Cancelled,
    Expired,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Paid => "paid",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
        }
    }
}

struct Session {
    /// Creation order (the newest session wins an order-id lookup).
    seq: u64,
    gateway: Gateway,
    merchant: u64,
    order: Value,
    /// `urls.success` / `urls.completed`.
    success: Option<String>,
    /// `urls.cancel` / `urls.cancelled`.
    cancel: Option<String>,
    expires_at: i64,
    status: Status,
    /// The transaction proof and the payment gateway's signature of it.
    proof: Option<(Value, String)>,
}

impl Session {
    /// The status on the gateway's clock (a pending session past its expiry is expired).
    fn status(&self, now: i64) -> Status {
        if self.status == Status::Pending && now >= self.expires_at {
            Status::Expired
        } else {
            self.status
        }
    }
}

/// The emulator's state.
#[derive(Default)]
pub struct Emulator {
    parties: BTreeMap<u64, OpenchargeParty>,
    switches: Switches,
    /// Both gateways' clock, offset by `switches.clock_offset_s`.
    clock: Clock,
    /// `(OCID, nonce)` → when it was used (gateway seconds).
    nonces: HashMap<(u64, String), i64>,
    sessions: BTreeMap<String, Session>,
    next_seq: u64,
}

impl Emulator {
    /// Registers (or replaces) a party.
    pub fn add_merchant(&mut self, party: OpenchargeParty) {
        self.parties.insert(party.ocid, party);
    }

    /// The gateways' clock: Unix seconds.
    fn now(&self) -> i64 {
        self.clock.now_s()
    }

    /// The newest session of a merchant's order id.
    fn session_of_order(&self, order_id: &str) -> Option<String> {
        self.sessions
            .iter()
            .filter(|(_, s)| s.order["id"].as_str() == Some(order_id))
            .max_by_key(|(_, s)| s.seq)
            .map(|(id, _)| id.clone())
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 IMF-fixdate) for Unix seconds.
pub fn http_date(unix_s: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_s.div_euclid(86_400);
    let rem = unix_s.rem_euclid(86_400);
    let (y, m, d) = kassa_core::time::civil_from_days(days);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whether `s` matches `pattern` (compiled once).
fn is_match(pattern: &'static str, s: &str) -> bool {
    static CACHE: LazyLock<std::sync::Mutex<HashMap<&'static str, Regex>>> =
        LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| Regex::new(pattern).expect("a valid pattern"))
        .is_match(s)
}

/// A refused request: the spec's `Error` body.
struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<Value>,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    fn details(mut self, details: Value) -> Failure {
        self.details = Some(details);
        self
    }

    fn body(&self) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(d) = &self.details {
            error["details"] = d.clone();
        }
        json!({ "error": error })
    }
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> Failure {
    Failure::new(StatusCode::UNAUTHORIZED, code, message)
}

fn bad_request(code: &'static str, message: impl Into<String>) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, code, message)
}

/// Opencharge's error shape, `{"error": {"code", "message"}}` (used by lib.rs for injected
/// faults; no `Date` is set here, so hyper adds the machine clock's).
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    code_message_error(status, code, message)
}

/// Sets the `Date` header (the gateway's clock).
fn dated(mut r: Response, now: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&http_date(now)) {
        r.headers_mut().insert("date", v);
    }
    r
}

/// A JSON answer of a gateway: dated and signed (§B4 "responses SHOULD be signed").
fn api_answer(gateway: Gateway, now: i64, answer: Result<Value, Failure>) -> Response {
    let (status, body) = match answer {
        Ok(v) => (StatusCode::OK, v),
        Err(f) => (f.status, f.body()),
    };
    let bytes = body.to_string().into_bytes();
    let ocid = gateway.ocid();
    let text = format!(
        "{ocid}\n{now}\n{}\n{}",
        status.as_u16(),
        sign::sha256_hex(&bytes)
    );
    let signature = gateway.key().sign(text.as_bytes());
    let mut r = (
        status,
        [("content-type", "application/json")],
        Bytes::from(bytes),
    )
        .into_response();
    let h = r.headers_mut();
    h.insert("x-oc-id", HeaderValue::from(ocid));
    h.insert("x-oc-timestamp", HeaderValue::from(now));
    if let Ok(v) = HeaderValue::from_str(&signature) {
        h.insert("x-oc-signature", v);
    }
    dated(r, now)
}

async fn not_found(State(s): State<Arc<Shared>>, OriginalUri(uri): OriginalUri) -> Response {
    let now = s.opencharge.lock().unwrap().now();
    let f = Failure::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("no Opencharge endpoint at {}", uri.path()),
    );
    dated((f.status, Json(f.body())).into_response(), now)
}

async fn method_not_allowed(
    State(s): State<Arc<Shared>>,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let now = s.opencharge.lock().unwrap().now();
    let f = Failure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not allowed on {}", uri.path()),
    );
    dated((f.status, Json(f.body())).into_response(), now)
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/pg/checkout/create",
            post(checkout::endpoint(Gateway::Pg, checkout::checkout_create)),
        )
        .route(
            "/mg/orders/checkout",
            post(checkout::endpoint(Gateway::Mg, checkout::orders_checkout)),
        )
        .route("/pg/pay/{id}", get(page::hosted_page))
        .route("/pg/pay/{id}/{action}", post(page::page_action))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}

pub(crate) fn control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/opencharge/merchants", post(control::add_merchant))
        .route("/opencharge/gateway", put(control::gateway))
        .route("/opencharge/orders/{id}", get(control::order))
        .route(
            "/opencharge/orders/{id}/outcome",
            post(control::order_outcome),
        )
        .route("/opencharge/sessions/{id}", get(control::session))
        .route(
            "/opencharge/sessions/{id}/outcome",
            post(control::session_outcome),
        )
}
