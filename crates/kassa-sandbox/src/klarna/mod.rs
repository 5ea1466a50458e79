//! The Klarna emulator: Klarna Payments v1 sessions, the Hosted Payment Page v1 (API, hosted
//! page and QR code) and Order Management v1 (reads, captures, refunds, cancel, release), at
//! their real paths under `/klarna` (so `klarna.base_url = http://127.0.0.1:PORT/klarna` serves
//! all three APIs).
//!
//! Rules come from the OpenAPI files in `spec/` (see `spec/klarna-SOURCE.txt`: KP = Payments,
//! HPP = Hosted Payment Page, OM = Order Management), NOTES-bambora-dintero-klarna.md §3 and
//! the after-sale facts (`19-after-sale-facts.md` §2, "facts" below):
//! - Auth (NOTES §3.2): HTTP Basic `username:password` of a configured account on every API
//!   call; missing or wrong → 401. Sessions and orders belong to the account that made them:
//!   another account gets 404 as for an unknown id. The hosted page and its QR code need no
//!   auth (the customer's browser opens them).
//! - Errors (KP `ErrorV2`, OM `ErrorMessageDto`, NOTES §3.3): `{"error_code", "error_messages":
//!   [...], "correlation_id": <uuid>}`. Field problems are `400 BAD_VALUE` with one
//!   `"Bad value: <path>"` per problem; schema problems add the reason in parentheses
//!   (`"Bad value: order_lines[0].quantity (must be an integer)"`).
//! - `POST /payments/v1/sessions`: the body must pass the KP spec's `session_create` schema
//!   (all problems at once; strict: unknown fields and readOnly fields such as `client_token`
//!   are refused, see [`crate::openapi`]). Then Klarna's rules (NOTES §3.4): per line
//!   `total_amount = quantity × unit_price − total_discount_amount`, `total_tax_amount` within
//!   ±1 of `total_amount − total_amount × 10000 / (10000 + tax_rate)` (compared exactly in
//!   integers) and not positive on `type: discount` lines, `type` one of the values the spec's
//!   description lists; `order_amount = Σ total_amount`, `order_tax_amount = Σ
//!   total_tax_amount`. Our choices, stricter than the spec: `intent` must be present and
//!   `buy` (Kassa only makes one-time purchases), `order_tax_amount` must be present (the spec
//!   leaves it optional; every Kassa market taxes), and `purchase_currency` must be an ISO 4217
//!   code. `acquiring_channel` `IN_STORE`/`TELESALES` "should be defined in the agreement"
//!   (KP spec): refused with `403 NOT_ALLOWED` unless the account has `in_store: true`.
//!   Answers 200 `merchant_session`. A KP session lives 48 h (NOTES §3.3).
//! - `GET /payments/v1/sessions/{id}`: the session as sent plus `client_token`,
//!   `payment_method_categories`, `status` (`incomplete`; `complete` once an order was placed),
//!   `expires_at` and `authorization_token` once authorized. 404 once expired.
//! - `POST /hpp/v1/sessions` (HPP `SessionCreationRequestV1`, NOTES §3.5): `payment_session_url`
//!   must end in `/payments/v1/sessions/{id}` of a session of the same account (Klarna checks
//!   the region host; the emulator only the path) that is not authorized yet, else
//!   `400 "Bad value: payment_session_url"`; an expired KP session → `404 "Payment session has
//!   expired"`. `merchant_urls` must be http(s) URLs (ours). `options.place_order_mode`
//!   defaults to `NONE` (Klarna's HPP guide, facts §2.1). Answers 201 with `session_id`,
//!   `session_url`, `redirect_url` (only for the `ECOMMERCE` channel: "ECOMMERCE only"),
//!   `qr_code_url`, `distribution_url` and `expires_at` = the KP session's expiry − 1 h.
//! - HPP status (NOTES §3.7): `WAITING` → `IN_PROGRESS` (page opened) → `COMPLETED` |
//!   `FAILED` | `CANCELLED` | `BACK` (can still pay); `DISABLED` after `DELETE` (204; 400 once
//!   `COMPLETED`). A session past `expires_at` keeps its status but cannot be paid.
//!   On payment the session gets an `authorization_token`; with `PLACE_ORDER`/`CAPTURE_ORDER`
//!   an OM order is placed (`order_id`, `klarna_reference`), `CAPTURE_ORDER` also captures it
//!   in full (a capture without `reference`) once its fraud status is ACCEPTED (what Klarna
//!   does while it is PENDING is UNCONFIRMED, facts §9 #2). The browser then goes to
//!   `merchant_urls.success` with `{{session_id}}`, `{{authorization_token}}`, `{{order_id}}`
//!   replaced (the last placeholder's name is UNCONFIRMED), or to `failure`/`cancel`/`back`.
//! - OM, see `order_management.rs` for each endpoint's rules and answers. The order's status
//!   (facts §2.4): AUTHORIZED → PART_CAPTURED → CAPTURED by captures; AUTHORIZED → CANCELLED by
//!   cancel; PART_CAPTURED → CLOSED by release (the status after a release is UNCONFIRMED:
//!   our choice); AUTHORIZED or PART_CAPTURED → EXPIRED past `expires_at` (placed + 28 days,
//!   account-specific at Klarna; a control moves it). Refunds change no status.
//!   `Klarna-Idempotency-Key` (NOTES §3.11, facts §2.5): optional in the spec, REQUIRED here
//!   (a UUID) on every OM POST so Kassa always sends one; the same key within 24 h gets the
//!   first answer again, status, body and headers, without acting twice ("only the key
//!   matters": a different body under the same key gets the first answer too). A REJECTED
//!   order is CANCELLED (our choice, UNCONFIRMED).
//! - `POST /hpp/v1/sessions/{id}/distribution` (HPP `DistributionRequestV1`, NOTES §3.6,
//!   NOTES-after-sale.md §2): the body must pass the spec's schema (`method` `sms`, `email` or
//!   `token`); then what the method needs ("Only required if distribution method is …"):
//!   `contact_information.phone` and `phone_country` (ISO 3166 alpha-2) for `sms`, `email` for
//!   `email`, `access_id` for `token`, else `400 "Bad value: contact_information.phone"`.
//!   Klarna validates the contact (NOTES §3.6) by rules it does not publish; ours: a phone is 6
//!   to 15 digits, optionally after `+` (spaces and hyphens ignored; national numbers like the
//!   spec's `07000212345` pass), an address is `local@domain.tld`. A page that cannot be paid
//!   any more (disabled, completed, cancelled, failed, or past `expires_at`) → `400
//!   BAD_REQUEST` ("session is disabled by merchant" is the spec's; the expired case is ours,
//!   UNCONFIRMED). The playground's caps (20 SMS and 100 e-mails a day per account, NOTES
//!   §3.6) → 400 as well (Klarna's answer to the cap is UNCONFIRMED). Answers `201` with no
//!   body; the message goes to `GET /_control/messages`. Delivery and opening the link change
//!   nothing on the session: its `expires_at` stays the one it was created with.
//! - Not emulated: KP session update, authorizations (`place order` for `NONE` mode), OM order
//!   updates (amount, addresses, references), extend authorization,
//!   shipping info, capture due dates, status callbacks.
//!
//! Where: `payments.rs` Klarna Payments sessions; `hpp.rs` the Hosted Payment Page API;
//! `order_management.rs` Order Management (reads, captures, refunds, cancel, release,
//! idempotency); `rules.rs` Klarna's arithmetic on order lines, the session rules and what
//! the customer's actions do (authorization, placing and capturing the order); `page.rs` the
//! hosted page and its QR code; `control.rs` the test controls. This module: the state, ids
//! and the error shape.

mod control;
mod hpp;
mod order_management;
mod page;
mod payments;
mod rules;

use crate::common::{basic_credentials, is_json, random_bytes};
use crate::openapi;
use crate::Shared;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

const HOUR_MS: i64 = 3600 * 1000;
const KP_SESSION_LIFETIME_MS: i64 = 48 * HOUR_MS;
const AUTHORIZATION_LIFETIME_MS: i64 = 28 * 24 * HOUR_MS;
const IDEMPOTENCY_WINDOW_MS: i64 = 24 * HOUR_MS;
const ASSET_URL: &str = "https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg";

fn spec(text: &str) -> Value {
    serde_json::from_str(text).expect("the embedded Klarna spec is JSON")
}

static KP_SPEC: LazyLock<Value> =
    LazyLock::new(|| spec(include_str!("../../spec/klarna-payments-v1-openapi.json")));
static HPP_SPEC: LazyLock<Value> =
    LazyLock::new(|| spec(include_str!("../../spec/klarna-hpp-v1-openapi.json")));
static OM_SPEC: LazyLock<Value> = LazyLock::new(|| {
    spec(include_str!(
        "../../spec/klarna-ordermanagement-v1-openapi.json"
    ))
});

/// An API user the emulator accepts.
#[derive(Debug, Clone, Deserialize)]
pub struct KlarnaAccount {
    pub username: String,
    pub password: String,
    /// The agreement allows the `IN_STORE` and `TELESALES` acquiring channels.
    #[serde(default)]
    pub in_store: bool,
}

struct KpSession {
    account: String,
    /// The create request as sent.
    body: Value,
    client_token: String,
    expires_at: i64,
    authorization_token: Option<String>,
    order_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HppStatus {
    Waiting,
    Back,
    InProgress,
    Completed,
    Cancelled,
    Failed,
    Disabled,
}

impl HppStatus {
    fn as_str(self) -> &'static str {
        match self {
            HppStatus::Waiting => "WAITING",
            HppStatus::Back => "BACK",
            HppStatus::InProgress => "IN_PROGRESS",
            HppStatus::Completed => "COMPLETED",
            HppStatus::Cancelled => "CANCELLED",
            HppStatus::Failed => "FAILED",
            HppStatus::Disabled => "DISABLED",
        }
    }

    fn is_final(self) -> bool {
        matches!(
            self,
            HppStatus::Completed | HppStatus::Cancelled | HppStatus::Failed | HppStatus::Disabled
        )
    }
}

struct HppSession {
    account: String,
    kp_session: String,
    merchant_urls: Value,
    place_order_mode: String,
    status: HppStatus,
    updated_at: i64,
    expires_at: i64,
    authorization_token: Option<String>,
    order_id: Option<String>,
    klarna_reference: Option<String>,
}

struct Order {
    account: String,
    /// AUTHORIZED, PART_CAPTURED, CAPTURED, CANCELLED or CLOSED; EXPIRED is read from the
    /// clock ([`Order::status`]).
    status: &'static str,
    fraud_status: String,
    order_amount: i64,
    captures: Vec<Movement>,
    refunds: Vec<Movement>,
    /// CAPTURE_ORDER with a PENDING fraud status: capture once ACCEPTED.
    capture_when_accepted: bool,
    /// The KP session's body (currency, country, lines, references, locale).
    session: Value,
    klarna_reference: String,
    created_at: i64,
    expires_at: i64,
}

impl Order {
    fn captured(&self) -> i64 {
        self.captures.iter().map(|c| c.amount).sum()
    }

    fn refunded(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    /// The status as read now: an authorization that is still open lapses at `expires_at`.
    fn status(&self, now: i64) -> &'static str {
        match self.status {
            "AUTHORIZED" | "PART_CAPTURED" if now >= self.expires_at => "EXPIRED",
            s => s,
        }
    }

    /// What can still be captured now.
    fn remaining(&self, now: i64) -> i64 {
        match self.status(now) {
            "AUTHORIZED" | "PART_CAPTURED" => self.order_amount - self.captured(),
            _ => 0,
        }
    }
}

/// A capture or a refund, as the emulator keeps it (OM `Capture`, `Refund`).
struct Movement {
    id: String,
    amount: i64,
    at: i64,
    /// What the merchant sent: its `reference` (Kassa's operation id), the `description`
    /// shown to the customer, the `order_lines` (`Null` when none were sent).
    reference: Option<String>,
    description: Option<String>,
    order_lines: Value,
}

/// An Order Management answer, kept for its idempotency key: status, headers and body.
struct Answer {
    at: i64,
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl Answer {
    fn response(&self) -> Response {
        let mut r = match &self.body {
            Some(b) => (self.status, Json(b.clone())).into_response(),
            None => self.status.into_response(),
        };
        for (name, value) in &self.headers {
            if let Ok(v) = axum::http::HeaderValue::from_str(value) {
                r.headers_mut().insert(*name, v);
            }
        }
        r
    }
}

/// The emulator's state.
#[derive(Default)]
pub struct Emulator {
    accounts: HashMap<String, KlarnaAccount>,
    kp_sessions: BTreeMap<String, KpSession>,
    hpp_sessions: BTreeMap<String, HppSession>,
    orders: BTreeMap<String, Order>,
    /// `(account, Klarna-Idempotency-Key)` → the first answer.
    idempotency: HashMap<(String, String), Answer>,
    /// Links distributed per (account, method, day since the epoch): the playground's daily
    /// caps ([`hpp::DAILY_SMS`], [`hpp::DAILY_EMAILS`]).
    distributed: HashMap<(String, &'static str, i64), u32>,
}

impl Emulator {
    pub fn add_account(&mut self, a: KlarnaAccount) {
        crate::ledger(&[&a.username, &a.password]);
        self.accounts.insert(a.username.clone(), a);
    }

    /// The account whose HTTP Basic credentials the request carries.
    fn account(&self, headers: &HeaderMap) -> Option<String> {
        let (user, pass) = basic_credentials(headers)?;
        let a = self.accounts.get(&user)?;
        (a.password == pass).then_some(user)
    }
}

/// A random (version 4) UUID.
fn new_uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A customer-facing short reference, like Klarna's `klarna_reference`.
fn short_reference() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    random_bytes::<8>()
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// A JWT-shaped opaque client token, as Klarna's (only the JS SDK reads it).
fn client_token(session_id: &str) -> String {
    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let sig: String = random_bytes::<16>()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    format!(
        "{}.{}.{sig}",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(json!({"session_id": session_id, "issuer": "kassa-sandbox"}))
    )
}

fn error_body(code: &str, messages: Vec<String>) -> Value {
    json!({"error_code": code, "error_messages": messages, "correlation_id": new_uuid()})
}

/// Klarna's v1 error shape.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(error_body(code, vec![message.to_string()]))).into_response()
}

/// `400 BAD_VALUE` with one `"Bad value: <path>"` message per problem.
fn bad_value(paths: Vec<String>) -> Response {
    let messages = paths.iter().map(|p| format!("Bad value: {p}")).collect();
    (
        StatusCode::BAD_REQUEST,
        Json(error_body("BAD_VALUE", messages)),
    )
        .into_response()
}

fn unauthorized() -> Response {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Unauthorized: HTTP Basic credentials of an API user are required",
    );
    r.headers_mut().insert(
        "www-authenticate",
        axum::http::HeaderValue::from_static("Basic realm=\"Klarna\""),
    );
    r
}

fn not_found(message: &str) -> Response {
    error(StatusCode::NOT_FOUND, "NOT_FOUND", message)
}

/// The body as JSON that passes `schema` of `spec`, else the problems for [`bad_value`].
fn json_body(
    headers: &HeaderMap,
    body: &[u8],
    spec: &Value,
    schema: &str,
) -> Result<Value, Vec<String>> {
    if !is_json(headers) {
        return Err(vec!["Content-Type (must be application/json)".into()]);
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| vec![format!("body (not valid JSON: {e})")])?;
    let problems: Vec<String> = openapi::validate(spec, schema, &v)
        .iter()
        .map(|p| {
            let path = if p.path.is_empty() { "body" } else { &p.path };
            format!("{path} ({})", p.message)
        })
        .collect();
    if problems.is_empty() {
        Ok(v)
    } else {
        Err(problems)
    }
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/payments/v1/sessions", post(payments::create_session))
        .route("/payments/v1/sessions/{id}", get(payments::get_session))
        .route("/hpp/v1/sessions", post(hpp::create_session))
        .route(
            "/hpp/v1/sessions/{id}",
            get(hpp::get_session).delete(hpp::disable_session),
        )
        .route(
            "/hpp/v1/sessions/{id}/distribution",
            post(hpp::distribute_session),
        )
        .route("/hpp/pay/{id}", get(page::hosted_page))
        .route("/hpp/pay/{id}/qr", get(page::qr_code))
        .route("/hpp/pay/{id}/{action}", post(page::page_action))
        .route(
            "/ordermanagement/v1/orders/{id}",
            get(order_management::get_order),
        )
        .route(
            "/ordermanagement/v1/orders/{id}/captures",
            get(order_management::list_captures).post(order_management::capture),
        )
        .route(
            "/ordermanagement/v1/orders/{id}/captures/{capture_id}",
            get(order_management::get_capture),
        )
        .route(
            "/ordermanagement/v1/orders/{id}/refunds",
            post(order_management::refund),
        )
        .route(
            "/ordermanagement/v1/orders/{id}/refunds/{refund_id}",
            get(order_management::get_refund),
        )
        .route(
            "/ordermanagement/v1/orders/{id}/cancel",
            post(order_management::cancel_order),
        )
        .route(
            "/ordermanagement/v1/orders/{id}/release-remaining-authorization",
            post(order_management::release_remaining_authorization),
        )
}

pub(crate) fn control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/klarna/accounts", post(control::add_account))
        .route("/klarna/sessions/{id}/outcome", post(control::outcome))
        .route("/klarna/orders/{id}/fraud", post(control::fraud))
        .route("/klarna/orders/{id}/expire", post(control::expire_order))
        .route(
            "/klarna/payment_sessions/{id}/expire",
            post(control::expire_kp_session),
        )
}

#[cfg(test)]
mod tests {
    use super::hpp::kp_session_id;
    use super::rules::{LINE_TYPES, OM_LINE_TYPES};
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_and_tokens() {
        let u = new_uuid();
        assert!(is_uuid(&u) && &u[14..15] == "4", "{u}");
        assert!(!is_uuid("not-a-uuid") && !is_uuid(&u.replace('-', "x")));
        assert_eq!(short_reference().len(), 8);
        assert_eq!(client_token("s").split('.').count(), 3);
        assert_eq!(
            kp_session_id("http://h/klarna/payments/v1/sessions/abc"),
            Some("abc")
        );
        assert_eq!(kp_session_id("http://h/payments/v1/sessions/abc/x"), None);
        assert_eq!(kp_session_id("http://h/payments/v1/sessions/"), None);
        assert_eq!(kp_session_id("http://h/hpp/v1/sessions/abc"), None);
    }

    /// Every keyword the request schemas use is one the validator checks (or documentation).
    #[test]
    fn the_validator_understands_the_klarna_schemas() {
        const KNOWN: &[&str] = &[
            "$ref",
            "type",
            "required",
            "properties",
            "readOnly",
            "enum",
            "minLength",
            "maxLength",
            "minimum",
            "maximum",
            "minItems",
            "maxItems",
            "uniqueItems",
            "items",
            "pattern",
            "format",
            "description",
            "example",
            "title",
        ];
        fn walk(schema: &Value, at: &str, spec: &Value, seen: &mut HashSet<String>) {
            if !seen.insert(at.to_string()) {
                return;
            }
            let Some(obj) = schema.as_object() else {
                return;
            };
            for (k, v) in obj {
                assert!(KNOWN.contains(&k.as_str()), "{at}: keyword {k}");
                match k.as_str() {
                    "$ref" => {
                        let target = v.as_str().unwrap();
                        let s = spec.pointer(target.strip_prefix('#').unwrap()).unwrap();
                        walk(s, target, spec, seen);
                    }
                    "items" => walk(v, &format!("{at}/items"), spec, seen),
                    "properties" => {
                        for (name, p) in v.as_object().unwrap() {
                            walk(p, &format!("{at}/{name}"), spec, seen);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut seen = HashSet::new();
        let kp = &*KP_SPEC;
        walk(
            &kp["components"]["schemas"]["session_create"],
            "kp",
            kp,
            &mut seen,
        );
        let hpp = &*HPP_SPEC;
        let req = &hpp["components"]["schemas"]["SessionCreationRequestV1"];
        walk(req, "hpp", hpp, &mut seen);
        let om = &*OM_SPEC;
        for schema in ["CaptureObject", "RefundObject"] {
            walk(&om["components"]["schemas"][schema], schema, om, &mut seen);
        }
        assert!(seen.len() > 30);
    }

    /// The paths, statuses and enums the emulator uses are the spec files'.
    #[test]
    fn rules_match_the_spec_files() {
        let kp = &*KP_SPEC;
        assert!(kp["paths"]["/payments/v1/sessions"]["post"].is_object());
        assert!(kp["paths"]["/payments/v1/sessions/{session_id}"]["get"].is_object());
        let desc = kp["components"]["schemas"]["order_line"]["properties"]["type"]["description"]
            .as_str()
            .unwrap();
        for t in LINE_TYPES {
            assert!(desc.contains(t), "{t}");
        }
        let hpp = &*HPP_SPEC;
        let statuses =
            &hpp["components"]["schemas"]["SessionResponseV1"]["properties"]["status"]["enum"];
        for s in [
            HppStatus::Waiting,
            HppStatus::Back,
            HppStatus::InProgress,
            HppStatus::Completed,
            HppStatus::Cancelled,
            HppStatus::Failed,
            HppStatus::Disabled,
        ] {
            assert!(statuses.as_array().unwrap().contains(&json!(s.as_str())));
        }
        assert_eq!(
            hpp["components"]["schemas"]["OptionsV1"]["properties"]["place_order_mode"]["enum"],
            json!(["PLACE_ORDER", "CAPTURE_ORDER", "NONE"])
        );
        let created = &hpp["paths"]["/hpp/v1/sessions"]["post"]["responses"];
        assert!(created["201"].is_object() && created["404"].is_object());
        let response = &hpp["components"]["schemas"]["SessionCreationResponseV1"]["properties"];
        for field in [
            "session_id",
            "session_url",
            "redirect_url",
            "qr_code_url",
            "distribution_url",
            "expires_at",
        ] {
            assert!(response[field].is_object(), "{field}");
        }
        let om = &*OM_SPEC;
        let statuses = &om["components"]["schemas"]["Order"]["properties"]["status"]["enum"];
        for s in ["AUTHORIZED", "CAPTURED", "CANCELLED"] {
            assert!(statuses.as_array().unwrap().contains(&json!(s)));
        }
        let cancel = &om["paths"]["/ordermanagement/v1/orders/{order_id}/cancel"]["post"];
        assert_eq!(cancel["parameters"][0]["name"], "Klarna-Idempotency-Key");
        assert!(cancel["responses"]["204"].is_object() && cancel["responses"]["403"].is_object());
    }

    /// Each Order Management endpoint the emulator serves is in the spec with the statuses it
    /// answers, its 404 carries the error code the spec's schema for it names (Klarna's codes
    /// differ per endpoint), and 201s document the headers the emulator sets.
    #[test]
    fn order_management_answers_match_the_spec_file() {
        let om = &*OM_SPEC;
        let code_of = |op: &Value, status: &str| -> Option<String> {
            let content = op["responses"][status]["content"].as_object()?;
            let schema = content.values().next()?["schema"]["$ref"].as_str()?;
            let s = om.pointer(schema.strip_prefix('#')?)?;
            s["properties"]["error_code"]["example"]
                .as_str()
                .map(str::to_string)
        };
        let orders = "/ordermanagement/v1/orders/{order_id}";
        for (path, method, statuses, not_found) in [
            ("", "get", &["200", "404"][..], Some("NO_SUCH_ORDER")),
            (
                "/captures",
                "get",
                &["200", "404"][..],
                Some("NO_SUCH_ORDER"),
            ),
            (
                "/captures",
                "post",
                &["201", "403", "404"][..],
                Some("NO_SUCH_ORDER"),
            ),
            (
                "/captures/{capture_id}",
                "get",
                &["200", "404"][..],
                Some("NO_SUCH_ORDER"),
            ),
            (
                "/refunds",
                "post",
                &["201", "403", "404"][..],
                Some("NOT_FOUND"),
            ),
            (
                "/refunds/{refund_id}",
                "get",
                &["200", "404"][..],
                Some("NOT_FOUND"),
            ),
            ("/cancel", "post", &["204", "403"][..], None),
            (
                "/release-remaining-authorization",
                "post",
                &["204", "403"][..],
                None,
            ),
        ] {
            let op = &om["paths"][format!("{orders}{path}")][method];
            assert!(op.is_object(), "{method} {path}");
            for st in statuses {
                assert!(op["responses"][*st].is_object(), "{method} {path} {st}");
            }
            assert_eq!(code_of(op, "404").as_deref(), not_found, "{method} {path}");
            if method == "post" {
                assert_eq!(op["parameters"][0]["name"], "Klarna-Idempotency-Key");
            }
        }
        let post = |path: &str| &om["paths"][format!("{orders}{path}")]["post"];
        for (path, forbidden) in [
            ("/captures", "CAPTURE_NOT_ALLOWED"),
            ("/refunds", "REFUND_NOT_ALLOWED"),
            ("/cancel", "CANCEL_NOT_ALLOWED"),
            ("/release-remaining-authorization", "NOT_ALLOWED"),
        ] {
            assert_eq!(
                code_of(post(path), "403").as_deref(),
                Some(forbidden),
                "{path}"
            );
        }
        for (path, id) in [("/captures", "Capture-Id"), ("/refunds", "Refund-Id")] {
            let headers = &post(path)["responses"]["201"]["headers"];
            assert!(
                headers[id].is_object() && headers["Location"].is_object(),
                "{path}"
            );
        }
        let schemas = &om["components"]["schemas"];
        for (schema, amount) in [
            ("CaptureObject", "captured_amount"),
            ("RefundObject", "refunded_amount"),
        ] {
            assert_eq!(schemas[schema]["required"], json!([amount]));
            assert_eq!(
                schemas[schema]["properties"][amount]["maximum"],
                100_000_000
            );
            assert_eq!(
                schemas[schema]["properties"]["order_lines"]["maxItems"],
                1000
            );
        }
        let types = schemas["order_line"]["properties"]["type"]["pattern"]
            .as_str()
            .unwrap();
        assert_eq!(types.split('|').collect::<Vec<_>>(), OM_LINE_TYPES);
        let statuses = &schemas["Order"]["properties"]["status"]["enum"];
        for s in [
            "AUTHORIZED",
            "PART_CAPTURED",
            "CAPTURED",
            "CANCELLED",
            "EXPIRED",
            "CLOSED",
        ] {
            assert!(statuses.as_array().unwrap().contains(&json!(s)), "{s}");
        }
    }
}
