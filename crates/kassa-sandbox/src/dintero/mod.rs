//! The Dintero Checkout emulator: token, sessions-profile, session GET and cancel,
//! transactions GET and list, and a hosted checkout page.
//!
//! Rules come from `../shared/providers/dintero/spec-payments.yaml` (the July 2024 Checkout
//! API spec, `S:n` = line) and NOTES-bambora-dintero-klarna.md §2:
//! - Token (S:1506ff): HTTP Basic with the client id and secret; JSON body with
//!   `grant_type: client_credentials` and `audience: https://api.dintero.com/v1/accounts/{aid}`
//!   for the same account (S:2582ff); answers `access_token`, `token_type: Bearer`,
//!   `expires_in`. Wrong credentials: 401. An audience of another account: 403.
//! - Every other call needs `Authorization: Bearer <token>` of the session's account, else 401
//!   (the spec's AccessForbidden: "invalid JWT token was used").
//! - `POST /v1/sessions-profile` (S:67ff): required `profile_id`, `url.return_url`,
//!   `order.amount` (int32), `order.currency` (ISO 4217), `order.merchant_reference`;
//!   item types per OrderItem (S:4037ff); `vat` is a percent (0–100, at most 2 decimals): a
//!   value between 0 and 1 is refused as a fraction (NOTES §2.12 #1); `line_id`s unique;
//!   unknown item or url fields refused (a misspelt field is silently dropped by Dintero, which
//!   is worse); `callback_url` to localhost refused (S:2650ff). With
//!   `Dintero-Feature-Toggles: strict-session-amounts`, `order.amount` must equal the sum of
//!   item amounts (S:9416ff). Answers 200 with `id` and `url` (and `session` when
//!   `include_session=true`).
//! - `customer` (SessionCustomer, S:2809ff) and `configuration.publish` (PublishConfiguration,
//!   S:4792ff; NOTES-after-sale.md §2): Dintero sends the checkout link by SMS to
//!   `customer.phone_number` ("ITU/E.123 format with international prefix") when creating the
//!   session, and only then (no resend endpoint). The answer's `publish[]` carries each
//!   entry's `id` and `status` (`sent`; `skipped` without a phone number, or for `push`). The
//!   real Dintero sends no SMS for test sessions; the emulator records every `sent` message
//!   for `GET /_control/messages` all the same. Opening the link (`GET /v1/view/{id}`) changes
//!   nothing on the session: its `expires_at` stays the one it was created with.
//! - Sessions have no status field; state shows in `transaction_id`, `cancelled_at`, `events`
//!   and `expires_at` (S:6723ff). Default lifetime when `expires_at` is not sent: 24 h (the
//!   spec gives none; UNCONFIRMED, our choice).
//! - `GET /v1/sessions` (`api::list_sessions`): "List checkout sessions", not in the 2024 spec
//!   snapshot (a subset of the API) but in Dintero's own generated client
//!   (github.com/Dintero/Dintero.Checkout.DotNet `openapi/generated/checkout/docs/SessionApi.md`,
//!   `CheckoutSessionsGet`: `limit` 1–100 default 10, `starting_after`, `id`, `search`,
//!   `transaction_id`, `created_at.gte`/`.lte`, `store_id`; answers an array of sessions) and
//!   Dintero's API changelog (2021-02-01). `search` "will try to match" either merchant
//!   reference or the customer's name: the emulator matches a case-insensitive part of them,
//!   so a client must check the exact reference of what it gets. Unknown parameters: 400
//!   (OURS).
//! - `POST /v1/sessions/{id}/cancel` (S:249ff): voids an INITIATED or AUTHORIZED transaction
//!   (→ AUTHORIZATION_VOIDED) and sets `cancelled_at`; refused with 400 for other states.
//! - Transactions (S:7937ff): `status` one of the spec's values; Pay → AUTHORIZED, Decline →
//!   DECLINED, `capture` → CAPTURED, `on_hold` → ON_HOLD. `events[]` in the spec's
//!   TransactionEvent shape (S:7136ff): `id`, `event`, `transaction_status`, `success`,
//!   `amount`, `items`, `created_at`, `request_id`, `correlation_request_id`,
//!   `event_reference`, `error`. The transaction has no captured or refunded field (neither
//!   has the spec): those are the sums of its successful CAPTURE and REFUND events.
//! - `configuration.auto_capture: true` (S:4771ff): after Pay the transaction is AUTHORIZED,
//!   then captured by Dintero (a CAPTURE event without a reference): at once by default, later
//!   or failing (`success: false`) by control, since the real one may retry for 48 h. A manual
//!   capture while it is pending stops it (S:4789).
//! - After the sale (`operations.rs`, rules in `rules.rs`; facts §1.1–1.7 of the after-sale
//!   notes): `POST /v1/transactions/{id}/capture` (`amount` required; `capture_reference`,
//!   `items`), `/refund` (`amount` required; `reason`, `refund_reference`, `items`), `/void`
//!   (no body). Capture only of AUTHORIZED or PARTIALLY_CAPTURED, at most what is authorized and
//!   not captured; refund only of captured money not yet refunded; void only of an AUTHORIZED
//!   transaction nothing was captured from (a void after part capture is for a few payment
//!   products only, S:658ff, which the sandbox's is not). `items`, when sent, need `line_id`
//!   and an integer `amount` each and must sum to `amount` (OURS: Dintero's own plugin keeps
//!   the sum, whether the server checks it is UNCONFIRMED). The `*_reference` becomes the
//!   event's `event_reference` (S:7302ff). Answers 200 with the transaction, or 202 with an
//!   `event-request-id` header (S:9635ff) when the control says so: then an `INITIATE_*` event
//!   now and the completing event (`correlation_request_id`) later. Refusals: 400 with codes of
//!   ours (TRANSACTION_NOT_CAPTURABLE, CAPTURE_AMOUNT_TOO_LARGE, TRANSACTION_NOT_REFUNDABLE,
//!   REFUND_AMOUNT_TOO_LARGE, TRANSACTION_NOT_VOIDABLE; the spec lists none); an unknown
//!   transaction 404.
//! - Errors: `{"error": {"code", "message", "errors"}}` (S:6987ff). The spec lists no error
//!   codes, so the codes here are ours: BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND.
//!
//! Where: `api.rs` the token, session (create, read, list) and transaction endpoints; `operations.rs` capture,
//! refund and void; `rules.rs` what a session and an operation must be and what paying,
//! declining, cancelling, expiring, capturing, refunding and voiding do; `page.rs` the hosted
//! checkout page; `control.rs` its test controls. This module: the state and the error shape.

mod api;
mod control;
mod operations;
mod page;
mod rules;

use crate::common::{bearer_token, code_message_error, random_from};
use crate::Shared;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kassa_core::time::{format_rfc3339, now_millis};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The demo provider's Dintero API client: not secret, it only opens the embedded sandbox.
pub const DEMO_ACCOUNT_ID: &str = "T00000001";
pub const DEMO_CLIENT_ID: &str = "kassa-demo";
pub const DEMO_CLIENT_SECRET: &str = "kassa-demo-secret";

/// An API client the Dintero emulator accepts.
#[derive(Debug, Clone, Deserialize)]
pub struct DinteroAccount {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl DinteroAccount {
    pub fn demo() -> DinteroAccount {
        DinteroAccount {
            account_id: DEMO_ACCOUNT_ID.into(),
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
        }
    }
}

const AUDIENCE_PREFIX: &str = "https://api.dintero.com/v1/accounts/";
const DEFAULT_TOKEN_LIFETIME: u64 = 3600;
const DEFAULT_SESSION_LIFETIME_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    id: String,
    account: String,
    created_at: i64,
    updated_at: i64,
    expires_at: i64,
    profile_id: String,
    order: Compact,
    url: Compact,
    configuration: Compact,
    transaction_id: Option<String>,
    cancelled_at: Option<i64>,
    cancelled_by: Option<String>,
    events: Vec<(String, i64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Transaction {
    id: String,
    account: String,
    session_id: String,
    merchant_reference: String,
    amount: i64,
    currency: String,
    status: String,
    items: Compact,
    created_at: i64,
    updated_at: i64,
    #[serde(deserialize_with = "events_any_version")]
    events: Vec<Event>,
    /// When Dintero's own capture (`configuration.auto_capture`) happens, while pending.
    #[serde(default)]
    auto_capture_at: Option<i64>,
    /// Whether that capture will fail (`success: false`).
    #[serde(default)]
    auto_capture_fails: bool,
    /// Operations answered 202: done at `due`, completing their `INITIATE_*` event.
    #[serde(default)]
    pending: Vec<Pending>,
}

/// A TransactionEvent (S:7136ff).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Event {
    id: String,
    event: String,
    transaction_status: String,
    success: bool,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    items: Option<Value>,
    #[serde(default)]
    event_reference: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    correlation_request_id: Option<String>,
    #[serde(default)]
    error: Option<Value>,
    created_at: i64,
}

/// A capture, refund or void accepted with 202 and not finished yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// `CAPTURE`, `REFUND` or `VOID`.
    event: String,
    amount: i64,
    items: Option<Value>,
    event_reference: Option<String>,
    request_id: String,
    due: i64,
}

/// Events as saved by this version, or as `(event, status, at)` by sandboxes before it (a demo
/// state file from an earlier Kassa keeps working).
fn events_any_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Event>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        Now(Event),
        Before(String, String, i64),
    }
    let all = Vec::<Any>::deserialize(d)?;
    Ok(all
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Any::Now(e) => e,
            Any::Before(event, status, at) => Event {
                id: format!("E{i}"),
                event,
                transaction_status: status,
                success: true,
                amount: None,
                items: None,
                event_reference: None,
                request_id: None,
                correlation_request_id: None,
                error: None,
                created_at: at,
            },
        })
        .collect())
}

impl Transaction {
    /// The sum of the successful events of `kind` (what Dintero's own plugin reads for the
    /// captured amount, facts §1.4).
    fn sum(&self, kind: &str) -> i64 {
        self.events
            .iter()
            .filter(|e| e.event == kind && e.success)
            .filter_map(|e| e.amount)
            .sum()
    }

    /// The sum of pending (202) operations of `kind`.
    fn pending_sum(&self, kind: &str) -> i64 {
        self.pending
            .iter()
            .filter(|p| p.event == kind)
            .map(|p| p.amount)
            .sum()
    }

    fn push_event(&mut self, mut e: Event) {
        e.id = format!("{}.E{}", self.id, self.events.len());
        self.updated_at = e.created_at;
        self.events.push(e);
    }
}

/// An event of `kind` now, successful, with the transaction's status after it.
fn event(kind: &str, status: &str, amount: Option<i64>, at: i64) -> Event {
    Event {
        id: String::new(),
        event: kind.into(),
        transaction_status: status.into(),
        success: true,
        amount,
        items: None,
        event_reference: None,
        request_id: None,
        correlation_request_id: None,
        error: None,
        created_at: at,
    }
}

/// What the tests set for after-sale operations (`/_control/dintero/auto_capture` and
/// `/_control/dintero/operations`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AfterSaleControls {
    /// Dintero's own capture happens this long after the authorization (0: at once).
    #[serde(default)]
    pub(crate) auto_capture_delay_ms: u64,
    /// Dintero's own capture fails (`success: false`).
    #[serde(default)]
    pub(crate) auto_capture_fails: bool,
    /// Capture, refund and void answer 202 and finish this long after (`None`: 200 at once).
    #[serde(default)]
    pub(crate) async_ms: Option<u64>,
    /// The next n captures, refunds or voids fail (`success: false`, the transaction as it was).
    #[serde(default)]
    pub(crate) fail_next: u32,
}

struct TokenInfo {
    account: String,
    expires_at: i64,
}

/// A JSON value kept as its compact text. A session's order, URLs and configuration and a
/// payment's items are kept all day (the demo's emulator runs inside the till's process) and
/// read only when a session is shown, paid or searched: their text (~600 bytes for a demo
/// order) is held instead of a tree of maps and strings several times its size (the till's
/// memory over a day of sales, BENCHMARKS.md). Saved and answered as the text it holds (a
/// `RawValue`: written to the state file without being parsed again), always on one line, as
/// the state file's lines need.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub(crate) struct Compact(Box<RawValue>);

impl Compact {
    pub(crate) fn new(v: &Value) -> Compact {
        Compact(serde_json::value::to_raw_value(v).expect("a JSON value serializes"))
    }

    /// The value, parsed again (it was valid JSON when kept).
    pub(crate) fn value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl<'de> Deserialize<'de> for Compact {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Compact, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        // A line break outside a string is whitespace (inside one it is escaped): the earlier,
        // pretty-printed state file. Compacted, so the text fits on one line of the log.
        if raw.get().contains('\n') {
            let v: Value = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
            return Ok(Compact::new(&v));
        }
        Ok(Compact(raw))
    }
}

/// What survived a restart before the state file became a log of changes (the whole state in
/// one JSON object); still read, so a demo data directory of an earlier version keeps its
/// sessions.
#[derive(Serialize, Deserialize, Default)]
pub struct Saved {
    sessions: BTreeMap<String, Session>,
    transactions: BTreeMap<String, Transaction>,
}

/// The whole state, borrowed, in [`Saved`]'s shape (what `demo::read_state` shows tests).
#[derive(Serialize)]
pub struct SavedRef<'a> {
    sessions: &'a BTreeMap<String, Session>,
    transactions: &'a BTreeMap<String, Transaction>,
}

/// One line of the state file: a session or a transaction as it is after a change
/// (`{"session": {…}}`, `{"transaction": {…}}`); a later line replaces an earlier one.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Record {
    Session(Session),
    Transaction(Transaction),
}

/// [`Record`] as it is written, borrowed from the emulator.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RecordRef<'a> {
    Session(&'a Session),
    Transaction(&'a Transaction),
}

/// The emulator's state.
pub struct Emulator {
    accounts: HashMap<String, DinteroAccount>,
    tokens: HashMap<String, TokenInfo>,
    token_lifetime: u64,
    sessions: BTreeMap<String, Session>,
    transactions: BTreeMap<String, Transaction>,
    controls: AfterSaleControls,
}

impl Default for Emulator {
    fn default() -> Emulator {
        Emulator {
            accounts: HashMap::new(),
            tokens: HashMap::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            sessions: BTreeMap::new(),
            transactions: BTreeMap::new(),
            controls: AfterSaleControls::default(),
        }
    }
}

impl Emulator {
    pub fn add_account(&mut self, a: DinteroAccount) {
        // The demo's API client is compiled into the app and public: not a secret to audit.
        if a.client_id != DEMO_CLIENT_ID {
            crate::ledger(&[&a.client_id, &a.client_secret]);
        }
        self.accounts.insert(a.account_id.clone(), a);
    }

    /// The whole state, borrowed.
    pub fn saved(&self) -> SavedRef<'_> {
        SavedRef {
            sessions: &self.sessions,
            transactions: &self.transactions,
        }
    }

    pub fn restore(&mut self, s: Saved) {
        self.sessions = s.sessions;
        self.transactions = s.transactions;
    }

    /// Every session and transaction, as the state file's records.
    pub(crate) fn records(&self) -> impl Iterator<Item = RecordRef<'_>> {
        let sessions = self.sessions.values().map(RecordRef::Session);
        sessions.chain(self.transactions.values().map(RecordRef::Transaction))
    }

    /// How many records the state holds.
    pub(crate) fn record_count(&self) -> usize {
        self.sessions.len() + self.transactions.len()
    }

    /// The records a change to `ids` touched: each id's session or transaction with the one it
    /// is linked to (a session's transaction, a transaction's session), so a caller naming
    /// either side of a change never misses the other.
    pub(crate) fn records_of(&self, ids: &[&str]) -> Vec<RecordRef<'_>> {
        let mut sessions = std::collections::BTreeSet::new();
        let mut transactions = std::collections::BTreeSet::new();
        for id in ids {
            if let Some(s) = self.sessions.get(*id) {
                sessions.insert(s.id.as_str());
                transactions.extend(s.transaction_id.as_deref());
            }
            if let Some(t) = self.transactions.get(*id) {
                transactions.insert(t.id.as_str());
                sessions.insert(t.session_id.as_str());
            }
        }
        let sessions = sessions
            .into_iter()
            .filter_map(|id| self.sessions.get(id).map(RecordRef::Session));
        sessions
            .chain(
                transactions
                    .into_iter()
                    .filter_map(|id| self.transactions.get(id).map(RecordRef::Transaction)),
            )
            .collect()
    }

    /// Applies one line of the state file.
    pub(crate) fn apply(&mut self, r: Record) {
        match r {
            Record::Session(s) => {
                self.sessions.insert(s.id.clone(), s);
            }
            Record::Transaction(t) => {
                self.transactions.insert(t.id.clone(), t);
            }
        }
    }

    fn session_json(&self, s: &Session) -> Value {
        let mut v = json!({
            "id": s.id,
            "created_at": format_rfc3339(s.created_at),
            "updated_at": format_rfc3339(s.updated_at),
            "expires_at": format_rfc3339(s.expires_at),
            "order": s.order.value(),
            "url": s.url.value(),
            "configuration": s.configuration.value(),
            "metadata": {"session:profile_id": s.profile_id},
            "events": s.events.iter().enumerate().map(|(i, (name, at))| json!({
                "id": format!("{}-{i}", s.id), "name": name, "created_at": format_rfc3339(*at)
            })).collect::<Vec<_>>(),
        });
        if let Some(t) = &s.transaction_id {
            v["transaction_id"] = json!(t);
        }
        if let Some(at) = s.cancelled_at {
            v["cancelled_at"] = json!(format_rfc3339(at));
            v["cancelled_by"] = json!(s.cancelled_by);
        }
        v
    }
}

fn transaction_json(t: &Transaction) -> Value {
    json!({
        "id": t.id,
        "session_id": t.session_id,
        "merchant_reference": t.merchant_reference,
        "amount": t.amount,
        "currency": t.currency,
        "status": t.status,
        "payment_product": "dintero",
        "payment_product_type": "dintero.sandbox",
        "items": t.items.value(),
        "created_at": format_rfc3339(t.created_at),
        "updated_at": format_rfc3339(t.updated_at),
        "events": t.events.iter().map(|e| {
            let mut v = json!({
                "id": e.id, "event": e.event, "transaction_status": e.transaction_status,
                "success": e.success, "created_at": format_rfc3339(e.created_at),
            });
            for (k, f) in [
                ("event_reference", &e.event_reference),
                ("request_id", &e.request_id),
                ("correlation_request_id", &e.correlation_request_id),
            ] {
                if let Some(x) = f {
                    v[k] = json!(x);
                }
            }
            if let Some(a) = e.amount {
                v["amount"] = json!(a);
            }
            if let Some(i) = &e.items {
                v["items"] = i.clone();
            }
            if let Some(err) = &e.error {
                v["error"] = err.clone();
            }
            v
        }).collect::<Vec<_>>(),
    })
}

/// Dintero's error shape, `{"error": {"code", "message"}}`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    code_message_error(status, code, message)
}

fn bad_request(problems: Vec<String>) -> Response {
    let message = problems.join("; ");
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {
            "code": "BAD_REQUEST",
            "message": message,
            "errors": problems.iter().map(|p| json!({"message": p})).collect::<Vec<_>>(),
        }})),
    )
        .into_response()
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Access forbidden, invalid JWT token was used",
    )
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("{what} was not found"),
    )
}

/// A Dintero-style id: `<account>.<26 base58 characters>`.
fn new_id(account: &str) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    format!("{account}.{}", random_from(26, ALPHABET))
}

fn valid_account_id(aid: &str) -> bool {
    aid.len() == 9
        && matches!(aid.as_bytes()[0], b'T' | b'P')
        && aid[1..].bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/accounts/{aid}/auth/token", post(api::token))
        .route("/v1/sessions-profile", post(api::create_session))
        .route("/v1/sessions", get(api::list_sessions))
        .route("/v1/sessions/{id}", get(api::get_session))
        .route("/v1/sessions/{id}/cancel", post(api::cancel_session))
        .route("/v1/transactions/{id}", get(api::get_transaction))
        .route("/v1/transactions/{id}/capture", post(operations::capture))
        .route("/v1/transactions/{id}/refund", post(operations::refund))
        .route("/v1/transactions/{id}/void", post(operations::void))
        .route("/v1/transactions", get(api::list_transactions))
        .route("/v1/view/{id}", get(page::view))
        .route("/v1/view/{id}/{action}", post(page::view_action))
}

pub(crate) fn control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/dintero/sessions/{id}/outcome", post(control::outcome))
        .route("/dintero/tokens/expire", post(control::expire_tokens))
        .route("/dintero/token_lifetime", put(control::token_lifetime))
        .route("/dintero/accounts", post(control::add_account))
        .route("/dintero/after_sale", put(control::after_sale))
}

/// The account a valid bearer token belongs to.
fn bearer_account(e: &Emulator, headers: &HeaderMap) -> Option<String> {
    let info = e.tokens.get(bearer_token(headers)?)?;
    (info.expires_at > now_millis()).then(|| info.account.clone())
}
