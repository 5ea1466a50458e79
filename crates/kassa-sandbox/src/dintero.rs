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
//! - Sessions have no status field; state shows in `transaction_id`, `cancelled_at`, `events`
//!   and `expires_at` (S:6723ff). Default lifetime when `expires_at` is not sent: 24 h (the
//!   spec gives none; UNCONFIRMED, our choice).
//! - `POST /v1/sessions/{id}/cancel` (S:249ff): voids an INITIATED or AUTHORIZED transaction
//!   (→ AUTHORIZATION_VOIDED) and sets `cancelled_at`; refused with 400 for other states.
//! - Transactions (S:7937ff): `status` one of the spec's values; Pay → AUTHORIZED, Decline →
//!   DECLINED, `capture` → CAPTURED, `on_hold` → ON_HOLD.
//! - Errors: `{"error": {"code", "message", "errors"}}` (S:6987ff). The spec lists no error
//!   codes, so the codes here are ours: BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND.

use crate::common::{
    basic_credentials, bearer_token, code_message_error, escape, is_http_url, is_json, money, page,
    public_base, random_from,
};
use crate::control::{Lifetime, Outcome};
use crate::{DinteroAccount, Shared};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kassa_core::http::percent_encode;
use kassa_core::time::{format_rfc3339, now_millis, parse_utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const AUDIENCE_PREFIX: &str = "https://api.dintero.com/v1/accounts/";
const DEFAULT_TOKEN_LIFETIME: u64 = 3600;
const DEFAULT_SESSION_LIFETIME_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Session {
    id: String,
    account: String,
    created_at: i64,
    updated_at: i64,
    expires_at: i64,
    profile_id: String,
    order: Value,
    url: Value,
    configuration: Value,
    transaction_id: Option<String>,
    cancelled_at: Option<i64>,
    cancelled_by: Option<String>,
    events: Vec<(String, i64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Transaction {
    id: String,
    account: String,
    session_id: String,
    merchant_reference: String,
    amount: i64,
    currency: String,
    status: String,
    items: Value,
    created_at: i64,
    updated_at: i64,
    events: Vec<(String, String, i64)>,
}

struct TokenInfo {
    account: String,
    expires_at: i64,
}

/// What survives a restart (the demo provider's state file).
#[derive(Serialize, Deserialize, Default)]
pub struct Saved {
    sessions: BTreeMap<String, Session>,
    transactions: BTreeMap<String, Transaction>,
}

/// The emulator's state.
pub struct Emulator {
    accounts: HashMap<String, DinteroAccount>,
    tokens: HashMap<String, TokenInfo>,
    token_lifetime: u64,
    sessions: BTreeMap<String, Session>,
    transactions: BTreeMap<String, Transaction>,
}

impl Default for Emulator {
    fn default() -> Emulator {
        Emulator {
            accounts: HashMap::new(),
            tokens: HashMap::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            sessions: BTreeMap::new(),
            transactions: BTreeMap::new(),
        }
    }
}

impl Emulator {
    pub fn add_account(&mut self, a: DinteroAccount) {
        // The demo's API client is compiled into the app and public: not a secret to audit.
        if a.client_id != crate::DEMO_CLIENT_ID {
            crate::ledger(&[&a.client_id, &a.client_secret]);
        }
        self.accounts.insert(a.account_id.clone(), a);
    }

    pub fn saved(&self) -> Saved {
        Saved {
            sessions: self.sessions.clone(),
            transactions: self.transactions.clone(),
        }
    }

    pub fn restore(&mut self, s: Saved) {
        self.sessions = s.sessions;
        self.transactions = s.transactions;
    }

    fn session_json(&self, s: &Session) -> Value {
        let mut v = json!({
            "id": s.id,
            "created_at": format_rfc3339(s.created_at),
            "updated_at": format_rfc3339(s.updated_at),
            "expires_at": format_rfc3339(s.expires_at),
            "order": s.order,
            "url": s.url,
            "configuration": s.configuration,
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
        "items": t.items,
        "created_at": format_rfc3339(t.created_at),
        "updated_at": format_rfc3339(t.updated_at),
        "events": t.events.iter().map(|(event, status, at)| json!({
            "event": event, "transaction_status": status, "success": true,
            "created_at": format_rfc3339(*at)
        })).collect::<Vec<_>>(),
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
        .route("/v1/accounts/{aid}/auth/token", post(token))
        .route("/v1/sessions-profile", post(create_session))
        .route("/v1/sessions/{id}", get(get_session))
        .route("/v1/sessions/{id}/cancel", post(cancel_session))
        .route("/v1/transactions/{id}", get(get_transaction))
        .route("/v1/transactions", get(list_transactions))
        .route("/v1/view/{id}", get(view))
        .route("/v1/view/{id}/{action}", post(view_action))
}

pub(crate) fn control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/dintero/sessions/{id}/outcome", post(control_outcome))
        .route("/dintero/tokens/expire", post(control_expire_tokens))
        .route("/dintero/token_lifetime", put(control_token_lifetime))
        .route("/dintero/accounts", post(control_add_account))
}

/// The account a valid bearer token belongs to.
fn bearer_account(e: &Emulator, headers: &HeaderMap) -> Option<String> {
    let info = e.tokens.get(bearer_token(headers)?)?;
    (info.expires_at > now_millis()).then(|| info.account.clone())
}

async fn token(
    State(s): State<Arc<Shared>>,
    Path(aid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !valid_account_id(&aid) {
        return not_found(&format!("account {aid}"));
    }
    let mut e = s.dintero.lock().unwrap();
    let Some((client_id, secret)) = basic_credentials(&headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "client credentials are required (HTTP Basic client_id:client_secret)",
        );
    };
    let known = e
        .accounts
        .get(&aid)
        .is_some_and(|a| a.client_id == client_id && a.client_secret == secret);
    if !known {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "invalid client credentials",
        );
    }
    if !is_json(&headers) {
        return bad_request(vec!["content-type must be application/json".into()]);
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return bad_request(vec!["body is not valid JSON".into()]);
    };
    let mut problems = Vec::new();
    match v.get("grant_type").and_then(Value::as_str) {
        Some("client_credentials") => {}
        Some(g) => problems.push(format!("grant_type {g:?} is not supported for API clients")),
        None => problems.push("grant_type is required".into()),
    }
    let audience = v.get("audience").and_then(Value::as_str);
    if audience.is_none() {
        problems.push("audience is required for client_credentials".into());
    }
    if !problems.is_empty() {
        return bad_request(problems);
    }
    if audience != Some(&format!("{AUDIENCE_PREFIX}{aid}")) {
        return error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "the audience must be a grant associated with the client",
        );
    }
    let token = new_id("tok").replace('.', "_");
    crate::ledger(&[&token]);
    let lifetime = e.token_lifetime;
    e.tokens.insert(
        token.clone(),
        TokenInfo {
            account: aid,
            expires_at: now_millis() + lifetime as i64 * 1000,
        },
    );
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": lifetime}))
        .into_response()
}

#[derive(Deserialize)]
struct IncludeSession {
    include_session: Option<String>,
}

const ITEM_FIELDS: &[&str] = &[
    "id",
    "line_id",
    "description",
    "quantity",
    "amount",
    "vat_amount",
    "vat",
    "type",
    "groups",
    "unit_volume",
    "unit_weight",
    "unit_dimensional_weight",
    "fee_split",
    "splits",
    "thumbnail_url",
    "emd",
    "eligible_for_discount",
    "is_changed",
    "discount_lines",
];
const URL_FIELDS: &[&str] = &["return_url", "callback_url", "merchant_terms_url"];

fn is_int32(v: &Value) -> bool {
    v.as_i64()
        .is_some_and(|n| (i32::MIN as i64..=i32::MAX as i64).contains(&n))
}

/// The problems of a `sessions-profile` body, each naming its field.
fn validate_session(v: &Value, strict_amounts: bool) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = v.as_object() else {
        return vec!["the body must be a JSON object".into()];
    };
    match obj.get("profile_id") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => p.push("profile_id must be a non-empty string".into()),
        None => p.push("profile_id is required".into()),
    }
    match obj.get("url").and_then(Value::as_object) {
        None => p.push("url is required (an object with return_url)".into()),
        Some(url) => {
            for k in url.keys().filter(|k| !URL_FIELDS.contains(&k.as_str())) {
                p.push(format!("url.{k} is not a field of SessionUrls"));
            }
            match url.get("return_url").and_then(Value::as_str) {
                Some(u) if is_http_url(u) => {}
                Some(u) => p.push(format!("url.return_url {u:?} is not an absolute URL")),
                None => p.push("url.return_url is required".into()),
            }
            if let Some(cb) = url.get("callback_url") {
                match cb.as_str() {
                    Some(u) if u.contains("://localhost") || u.contains("://127.") => p.push(
                        "url.callback_url must be reachable from Dintero (not localhost)".into(),
                    ),
                    Some(u) if is_http_url(u) => {}
                    _ => p.push("url.callback_url must be an http(s) URL".into()),
                }
            }
        }
    }
    if let Some(t) = obj.get("expires_at") {
        match t.as_str().map(parse_utc) {
            Some(Ok(at)) if at > now_millis() => {}
            Some(Ok(_)) => p.push("expires_at must be in the future".into()),
            _ => p.push("expires_at must be a date-time (RFC 3339)".into()),
        }
    }
    if let Some(c) = obj.get("configuration") {
        match c.get("channel").map(|c| c.as_str()) {
            None | Some(Some("in_app" | "in_store" | "ecommerce")) => {}
            Some(_) => {
                p.push("configuration.channel must be one of in_app, in_store, ecommerce".into())
            }
        }
    }
    let Some(order) = obj.get("order").and_then(Value::as_object) else {
        p.push("order is required".into());
        return p;
    };
    let amount = order.get("amount");
    match amount {
        Some(a) if is_int32(a) && a.as_i64() >= Some(0) => {}
        Some(_) => {
            p.push("order.amount must be a non-negative integer (minor units, int32)".into())
        }
        None => p.push("order.amount is required".into()),
    }
    match order.get("currency").and_then(Value::as_str) {
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {}
        Some(c) => p.push(format!("order.currency {c:?} is not an ISO 4217 code")),
        None => p.push("order.currency is required".into()),
    }
    match order.get("merchant_reference") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => p.push("order.merchant_reference must be a non-empty string".into()),
        None => p.push("order.merchant_reference is required".into()),
    }
    if let Some(va) = order.get("vat_amount") {
        if !is_int32(va) {
            p.push("order.vat_amount must be an integer (minor units)".into());
        }
    }
    let mut sum: i64 = 0;
    let mut line_ids = std::collections::HashSet::new();
    match order.get("items") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let at = |f: &str| format!("order.items[{i}].{f}");
                let Some(item) = item.as_object() else {
                    p.push(format!("order.items[{i}] must be an object"));
                    continue;
                };
                for k in item.keys().filter(|k| !ITEM_FIELDS.contains(&k.as_str())) {
                    p.push(format!("{} is not a field of OrderItem", at(k)));
                }
                for f in ["id", "line_id", "description"] {
                    if let Some(v) = item.get(f) {
                        if !v.is_string() {
                            p.push(format!("{} must be a string", at(f)));
                        }
                    }
                }
                if let Some(l) = item.get("line_id").and_then(Value::as_str) {
                    if !line_ids.insert(l.to_string()) {
                        p.push(format!("{} {l:?} is not unique", at("line_id")));
                    }
                }
                match item.get("quantity") {
                    Some(q) if q.as_f64().is_some_and(|q| q > 0.0) => {}
                    Some(_) => p.push(format!("{} must be a positive number", at("quantity"))),
                    None => {}
                }
                match item.get("amount") {
                    Some(a) if is_int32(a) => sum += a.as_i64().unwrap_or(0),
                    Some(_) => p.push(format!("{} must be an integer (minor units)", at("amount"))),
                    None => p.push(format!("{} is required", at("amount"))),
                }
                if let Some(va) = item.get("vat_amount") {
                    if !is_int32(va) {
                        p.push(format!(
                            "{} must be an integer (minor units)",
                            at("vat_amount")
                        ));
                    }
                }
                if let Some(vat) = item.get("vat") {
                    match vat.as_f64() {
                        Some(r) if r > 0.0 && r < 1.0 => p.push(format!(
                            "{} {r} looks like a fraction; vat is a percent (25 for 25 %)",
                            at("vat")
                        )),
                        Some(r) if (0.0..=100.0).contains(&r) && two_decimals(vat) => {}
                        _ => p.push(format!(
                            "{} must be a percent between 0 and 100 with at most 2 decimals",
                            at("vat")
                        )),
                    }
                }
            }
        }
        Some(_) => p.push("order.items must be an array".into()),
    }
    if let Some(ship) = order.get("shipping_option") {
        sum += ship.get("amount").and_then(Value::as_i64).unwrap_or(0);
    }
    if strict_amounts {
        if let Some(a) = amount.and_then(Value::as_i64) {
            if a != sum {
                p.push(format!(
                    "order.amount {a} must equal the sum of order.items amount and shipping_option.amount ({sum}) (strict-session-amounts)"
                ));
            }
        }
    }
    p
}

fn two_decimals(v: &Value) -> bool {
    let text = v.to_string();
    match text.split_once('.') {
        Some((_, frac)) => frac.len() <= 2 && !frac.contains(['e', 'E']),
        None => !text.contains(['e', 'E']),
    }
}

async fn create_session(
    State(s): State<Arc<Shared>>,
    Query(q): Query<IncludeSession>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut e = s.dintero.lock().unwrap();
    let Some(account) = bearer_account(&e, &headers) else {
        return unauthorized();
    };
    let toggles: Vec<String> = headers
        .get_all("dintero-feature-toggles")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|t| t.trim().to_string()))
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(t) = toggles.iter().find(|t| *t != "strict-session-amounts") {
        return bad_request(vec![format!(
            "Dintero-Feature-Toggles: {t:?} is not a known toggle (strict-session-amounts)"
        )]);
    }
    if !is_json(&headers) {
        return bad_request(vec!["content-type must be application/json".into()]);
    }
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(err) => return bad_request(vec![format!("body is not valid JSON: {err}")]),
    };
    let problems = validate_session(&v, !toggles.is_empty());
    if !problems.is_empty() {
        return bad_request(problems);
    }
    let now = now_millis();
    let id = new_id(&account);
    let expires_at = v
        .get("expires_at")
        .and_then(Value::as_str)
        .and_then(|t| parse_utc(t).ok())
        .unwrap_or(now + DEFAULT_SESSION_LIFETIME_MS);
    let session = Session {
        id: id.clone(),
        account,
        created_at: now,
        updated_at: now,
        expires_at,
        profile_id: v["profile_id"].as_str().unwrap_or_default().to_string(),
        order: v["order"].clone(),
        url: v["url"].clone(),
        configuration: v.get("configuration").cloned().unwrap_or(json!({})),
        transaction_id: None,
        cancelled_at: None,
        cancelled_by: None,
        events: vec![("INITIATED".into(), now)],
    };
    let base = public_base(&headers, "dintero");
    let mut answer = json!({"id": id, "url": format!("{base}/v1/view/{id}")});
    if q.include_session.as_deref() == Some("true") {
        answer["session"] = e.session_json(&session);
    }
    e.sessions.insert(id, session);
    s.persist(&e);
    Json(answer).into_response()
}

async fn get_session(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.dintero.lock().unwrap();
    let Some(account) = bearer_account(&e, &headers) else {
        return unauthorized();
    };
    match e.sessions.get(&id).filter(|s| s.account == account) {
        Some(session) => Json(e.session_json(session)).into_response(),
        None => not_found(&format!("session {id}")),
    }
}

async fn cancel_session(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut e = s.dintero.lock().unwrap();
    let Some(account) = bearer_account(&e, &headers) else {
        return unauthorized();
    };
    if e.sessions.get(&id).is_none_or(|s| s.account != account) {
        return not_found(&format!("session {id}"));
    }
    match cancel(&mut e, &id, "merchant") {
        Ok(()) => {
            let v = e.session_json(&e.sessions[&id]);
            s.persist(&e);
            Json(v).into_response()
        }
        Err(msg) => bad_request(vec![msg]),
    }
}

/// Cancels a session: voids its INITIATED or AUTHORIZED transaction (S:249ff).
fn cancel(e: &mut Emulator, id: &str, by: &str) -> Result<(), String> {
    let now = now_millis();
    let tid = e.sessions[id].transaction_id.clone();
    if let Some(tid) = tid {
        let t = e
            .transactions
            .get_mut(&tid)
            .expect("a session's transaction exists");
        match t.status.as_str() {
            "INITIATED" | "AUTHORIZED" | "ON_HOLD" => {
                t.status = "AUTHORIZATION_VOIDED".into();
                t.updated_at = now;
                t.events.push(("VOID".into(), t.status.clone(), now));
            }
            "AUTHORIZATION_VOIDED" => {}
            other => {
                return Err(format!(
                    "Cancel is not allowed when the transaction is {other} (only INITIATED or AUTHORIZED)"
                ))
            }
        }
    }
    let session = e.sessions.get_mut(id).expect("checked above");
    if session.cancelled_at.is_none() {
        session.cancelled_at = Some(now);
        session.cancelled_by = Some(by.into());
        session.updated_at = now;
        session.events.push(("CANCELLED".into(), now));
    }
    Ok(())
}

async fn get_transaction(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.dintero.lock().unwrap();
    let Some(account) = bearer_account(&e, &headers) else {
        return unauthorized();
    };
    match e.transactions.get(&id).filter(|t| t.account == account) {
        Some(t) => Json(transaction_json(t)).into_response(),
        None => not_found(&format!("transaction {id}")),
    }
}

async fn list_transactions(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let e = s.dintero.lock().unwrap();
    let Some(account) = bearer_account(&e, &headers) else {
        return unauthorized();
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return bad_request(vec!["limit must be between 1 and 100".into()]),
    };
    let list: Vec<Value> = e
        .transactions
        .values()
        .filter(|t| t.account == account)
        .filter(|t| {
            q.get("merchant_reference")
                .is_none_or(|r| *r == t.merchant_reference)
        })
        .filter(|t| q.get("session_id").is_none_or(|r| *r == t.session_id))
        .take(limit)
        .map(transaction_json)
        .collect();
    Json(list).into_response()
}

/// What the customer (or a test) does with a session.
fn outcome(e: &mut Emulator, id: &str, what: &str) -> Result<(), String> {
    let now = now_millis();
    let Some(session) = e.sessions.get(id) else {
        return Err(format!("session {id} was not found"));
    };
    if what == "cancel" {
        return cancel(e, id, "customer");
    }
    if what == "expire" {
        let s = e.sessions.get_mut(id).expect("checked");
        s.expires_at = now;
        s.updated_at = now;
        return Ok(());
    }
    if session.cancelled_at.is_some() {
        return Err("this checkout was cancelled".into());
    }
    if session.expires_at <= now {
        return Err("this checkout has expired".into());
    }
    let (status, event, session_event) = match what {
        "pay" => ("AUTHORIZED", "AUTHORIZE", "AUTHORIZED"),
        "capture" => ("CAPTURED", "CAPTURE", "AUTHORIZED"),
        "on_hold" => ("ON_HOLD", "AUTHORIZE", "ON_HOLD_CALLBACK_SENT"),
        "decline" => ("DECLINED", "AUTHORIZE", "DECLINED"),
        other => return Err(format!("unknown outcome {other:?}")),
    };
    if let Some(tid) = &session.transaction_id {
        let t = e.transactions.get_mut(tid).expect("exists");
        if matches!(t.status.as_str(), "AUTHORIZED" | "CAPTURED") && what != "capture" {
            return Err(format!("this checkout is already paid ({})", t.status));
        }
        t.status = status.into();
        t.updated_at = now;
        t.events.push((event.into(), status.into(), now));
    } else {
        let tid = new_id(&session.account);
        let t = Transaction {
            id: tid.clone(),
            account: session.account.clone(),
            session_id: id.into(),
            merchant_reference: session.order["merchant_reference"]
                .as_str()
                .unwrap_or_default()
                .into(),
            amount: session.order["amount"].as_i64().unwrap_or(0),
            currency: session.order["currency"]
                .as_str()
                .unwrap_or_default()
                .into(),
            status: status.into(),
            items: session.order.get("items").cloned().unwrap_or(json!([])),
            created_at: now,
            updated_at: now,
            events: vec![
                ("INITIALIZE".into(), "INITIATED".into(), now),
                (event.into(), status.into(), now),
            ],
        };
        e.transactions.insert(tid.clone(), t);
        e.sessions.get_mut(id).expect("exists").transaction_id = Some(tid);
    }
    let s = e.sessions.get_mut(id).expect("exists");
    s.events.push((session_event.into(), now));
    if what != "decline" {
        s.events.push(("COMPLETED".into(), now));
    }
    s.updated_at = now;
    Ok(())
}

async fn control_outcome(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.dintero.lock().unwrap();
    match outcome(&mut e, &id, &o.outcome) {
        Ok(()) => {
            s.persist(&e);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(m) => (StatusCode::CONFLICT, m).into_response(),
    }
}

async fn control_expire_tokens(State(s): State<Arc<Shared>>) -> StatusCode {
    s.dintero.lock().unwrap().tokens.clear();
    StatusCode::NO_CONTENT
}

async fn control_token_lifetime(
    State(s): State<Arc<Shared>>,
    Json(l): Json<Lifetime>,
) -> StatusCode {
    s.dintero.lock().unwrap().token_lifetime = l.seconds;
    StatusCode::NO_CONTENT
}

async fn control_add_account(
    State(s): State<Arc<Shared>>,
    Json(a): Json<DinteroAccount>,
) -> StatusCode {
    s.dintero.lock().unwrap().add_account(a);
    StatusCode::NO_CONTENT
}

/// The hosted checkout page: the order and Pay / Decline / Cancel. Plain HTML, no script.
async fn view(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let e = s.dintero.lock().unwrap();
    let Some(session) = e.sessions.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "Checkout not found",
                "<p>This checkout does not exist.</p>",
            )),
        )
            .into_response();
    };
    let currency = session.order["currency"].as_str().unwrap_or_default();
    let mut rows = String::new();
    for item in session.order["items"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            escape(item["description"].as_str().unwrap_or("")),
            escape(&item["quantity"].to_string()),
            escape(&money(item["amount"].as_i64().unwrap_or(0), currency)),
        ));
    }
    let total = money(session.order["amount"].as_i64().unwrap_or(0), currency);
    let now = now_millis();
    let state = if session.cancelled_at.is_some() {
        Some("This checkout was cancelled.".to_string())
    } else if let Some(t) = session
        .transaction_id
        .as_ref()
        .and_then(|t| e.transactions.get(t))
    {
        (t.status != "DECLINED").then(|| format!("Payment {}.", t.status.to_lowercase()))
    } else if session.expires_at <= now {
        Some("This checkout has expired.".to_string())
    } else {
        None
    };
    let actions = match state {
        Some(m) => format!("<p class=state>{}</p>", escape(&m)),
        None => format!(
            "<form method=post action=\"/dintero/v1/view/{id}/pay\"><button class=pay>Pay {}</button></form>\
             <div class=row><form method=post action=\"/dintero/v1/view/{id}/decline\"><button>Decline</button></form>\
             <form method=post action=\"/dintero/v1/view/{id}/cancel\"><button>Cancel</button></form></div>",
            escape(&total),
            id = escape(&id)
        ),
    };
    let body = format!(
        "<p class=ref>Order {}</p><table>{rows}<tr class=total><td>Total</td><td></td><td class=n>{}</td></tr></table>{actions}\
         <p class=note>Dintero sandbox (Kassa): no real money moves.</p>",
        escape(session.order["merchant_reference"].as_str().unwrap_or("")),
        escape(&total),
    );
    let script = s.page_script_tag();
    Html(page(
        "Dintero Checkout (sandbox)",
        &format!("{body}{script}"),
    ))
    .into_response()
}

/// A button on the hosted page: moves the session, then redirects to the return URL with
/// Dintero's query parameters (`transaction_id` on success, `error` otherwise).
async fn view_action(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let mut e = s.dintero.lock().unwrap();
    let what = match action.as_str() {
        "pay" => "pay",
        "decline" => "decline",
        "cancel" => "cancel",
        _ => return not_found("page"),
    };
    if let Err(m) = outcome(&mut e, &id, what) {
        return (
            StatusCode::CONFLICT,
            Html(page("Checkout", &format!("<p>{}</p>", escape(&m)))),
        )
            .into_response();
    }
    s.persist(&e);
    let session = &e.sessions[&id];
    let mut params: Map<String, Value> = Map::new();
    params.insert("session_id".into(), json!(id));
    params.insert(
        "merchant_reference".into(),
        session.order["merchant_reference"].clone(),
    );
    match what {
        "pay" => {
            params.insert("transaction_id".into(), json!(session.transaction_id));
        }
        "decline" => {
            params.insert("error".into(), json!("failed"));
        }
        _ => {
            params.insert("error".into(), json!("cancelled"));
        }
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v.as_str().unwrap_or_default())))
        .collect();
    let return_url = session.url["return_url"].as_str().unwrap_or("/");
    let sep = if return_url.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{return_url}{sep}{}", query.join("&"))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        json!({
            "profile_id": "default",
            "url": {"return_url": "https://shop.example/return"},
            "order": {
                "amount": 5997 + 1000, "currency": "NOK", "merchant_reference": "R-1",
                "vat_amount": 1199 + 130,
                "items": [
                    {"id": "k", "line_id": "1", "description": "Kaffe", "quantity": 3,
                     "amount": 5997, "vat_amount": 1199, "vat": 25},
                    {"id": "b", "line_id": "2", "description": "Bolle", "quantity": 0.5,
                     "amount": 1000, "vat_amount": 130, "vat": 15}
                ]
            },
            "configuration": {"channel": "in_store"}
        })
    }

    #[test]
    fn a_valid_session_passes() {
        assert_eq!(validate_session(&valid(), true), Vec::<String>::new());
    }

    #[test]
    fn strict_amounts_require_the_sum() {
        let mut v = valid();
        v["order"]["amount"] = json!(7000);
        let p = validate_session(&v, true);
        assert!(
            p[0].contains("must equal the sum") && p[0].contains("6997"),
            "{p:?}"
        );
        // Without the toggle Dintero accepts it (and fails later): so does the emulator.
        assert!(validate_session(&v, false).is_empty());
    }

    #[test]
    fn vat_is_a_percent_not_a_fraction() {
        let mut v = valid();
        v["order"]["items"][0]["vat"] = json!(0.25);
        assert!(validate_session(&v, true)[0].contains("looks like a fraction"));
        v["order"]["items"][0]["vat"] = json!(12.555);
        assert!(validate_session(&v, true)[0].contains("at most 2 decimals"));
        v["order"]["items"][0]["vat"] = json!(2500);
        assert!(!validate_session(&v, true).is_empty());
        v["order"]["items"][0]["vat"] = json!(12.5);
        assert!(validate_session(&v, true).is_empty());
    }

    #[test]
    fn required_fields_types_and_unique_lines() {
        let mut v = valid();
        v["order"]["items"][1]["line_id"] = json!("1");
        v["order"]["items"][0]["amount"] = json!("5997");
        v["order"]["items"][0]["vat_amout"] = json!(1);
        v["order"].as_object_mut().unwrap().remove("currency");
        v.as_object_mut().unwrap().remove("profile_id");
        v["url"] = json!({"return_url": "/relative"});
        let p = validate_session(&v, false).join("\n");
        for expected in [
            "profile_id is required",
            "url.return_url \"/relative\" is not an absolute URL",
            "order.currency is required",
            "order.items[0].vat_amout is not a field of OrderItem",
            "order.items[0].amount must be an integer",
            "order.items[1].line_id \"1\" is not unique",
        ] {
            assert!(p.contains(expected), "missing {expected:?} in\n{p}");
        }
        let mut v = valid();
        v["url"]["callback_url"] = json!("http://127.0.0.1:9/cb");
        assert!(validate_session(&v, true)[0].contains("not localhost"));
        v["order"]["amount"] = json!(3_000_000_000i64);
        assert!(validate_session(&v, false)
            .iter()
            .any(|m| m.contains("int32")));
    }

    /// The emulator's rules against the spec file itself: the fields it requires and the
    /// toggle it knows are the spec's, and the transaction statuses it produces are in the
    /// spec's enum.
    #[test]
    fn rules_match_the_spec_file() {
        // A copy of ../shared/providers/dintero/spec-payments.yaml (see spec/dintero-SOURCE.txt).
        check_spec(include_str!("../spec/dintero-spec-payments.yaml"));
    }

    fn check_spec(spec: &str) {
        for needle in [
            "strict-session-amounts",
            "/sessions-profile:",
            "/sessions/{session_id}/cancel:",
            "/transactions/{id}:",
            "/accounts/{oid}/auth/token:",
            "return_url",
            "merchant_reference",
            "line_id",
        ] {
            assert!(spec.contains(needle), "spec lacks {needle}");
        }
        for status in [
            "AUTHORIZED",
            "CAPTURED",
            "DECLINED",
            "ON_HOLD",
            "AUTHORIZATION_VOIDED",
        ] {
            assert!(
                spec.contains(&format!("- {status}")),
                "spec enum lacks {status}"
            );
        }
        for field in ITEM_FIELDS {
            assert!(
                spec.contains(&format!("{field}:")),
                "OrderItem field {field} not in the spec"
            );
        }
    }
}
