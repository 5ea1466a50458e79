//! The Checkout API: the token, `sessions-profile`, session GET and cancel, transaction GET
//! and list.

use super::rules::{advance, cancel, publish_statuses, validate_session};
use super::{
    bad_request, bearer_account, error, new_id, not_found, transaction_json, unauthorized,
    valid_account_id, Compact, Session, TokenInfo, AUDIENCE_PREFIX, DEFAULT_SESSION_LIFETIME_MS,
};
use crate::common::{basic_credentials, is_json, public_base};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kassa_core::time::{now_millis, parse_utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) async fn token(
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
pub(super) struct IncludeSession {
    include_session: Option<String>,
}

pub(super) async fn create_session(
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
        order: Compact::new(&v["order"]),
        url: Compact::new(&v["url"]),
        configuration: Compact::new(v.get("configuration").unwrap_or(&json!({}))),
        transaction_id: None,
        cancelled_at: None,
        cancelled_by: None,
        events: vec![("INITIATED".into(), now)],
    };
    let base = public_base(&headers, "dintero");
    let url = format!("{base}/v1/view/{id}");
    let mut publish = Vec::new();
    for (i, (channel, kind, status)) in publish_statuses(&v).into_iter().enumerate() {
        if status == "sent" {
            s.record_message(crate::control::Message {
                provider: "dintero",
                channel: &channel,
                to: v
                    .pointer("/customer/phone_number")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                link: &url,
                session: &id,
                extra: json!({"type": kind}),
            });
        }
        publish.push(json!({"id": format!("{id}-publish-{i}"), "channel": channel, "type": kind, "status": status}));
    }
    let mut answer = json!({"id": id, "url": url});
    if !publish.is_empty() {
        answer["publish"] = json!(publish);
    }
    if q.include_session.as_deref() == Some("true") {
        answer["session"] = e.session_json(&session);
    }
    e.sessions.insert(id.clone(), session);
    s.persist(&e, &[&id]);
    Json(answer).into_response()
}

pub(super) async fn get_session(
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

/// `GET /v1/sessions` ("List checkout sessions", `checkout_sessions_get`; not in the 2024 spec
/// snapshot, see the module docs): `limit` 1–100 (default 10), `starting_after` (a session id:
/// the sessions after it), `search` (a case-insensitive part of `order.merchant_reference`,
/// `order.merchant_reference_2` or the customer's `{first_name} {last_name}`: Dintero "will try
/// to match", so a search may answer more than the one session asked for), `id`,
/// `transaction_id` and `store_id` (repeatable), `created_at.gte` / `created_at.lte` (ISO 8601,
/// UTC when no zone is given). Newest first (Dintero's order is UNCONFIRMED). A parameter it
/// does not know is refused (400), so a misspelt filter never reads as "no such session".
pub(super) async fn list_sessions(
    State(s): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let e = s.dintero.lock().unwrap();
    let Some(account) = bearer_account(&e, &headers) else {
        return unauthorized();
    };
    let one = |name: &str| q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let all = |name: &str| -> Vec<&str> {
        q.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let mut problems = Vec::new();
    const KNOWN: [&str; 8] = [
        "limit",
        "starting_after",
        "id",
        "search",
        "transaction_id",
        "created_at.gte",
        "created_at.lte",
        "store_id",
    ];
    for (k, _) in q.iter().filter(|(k, _)| !KNOWN.contains(&k.as_str())) {
        problems.push(format!("{k} is not a query parameter of GET /v1/sessions"));
    }
    for (k, v) in q
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "id" | "transaction_id" | "store_id"))
    {
        if q.iter().filter(|(other, _)| other == k).count() > 1 {
            problems.push(format!("{k} is given more than once ({v:?} among them)"));
        }
    }
    let limit = match one("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            problems.push("limit must be between 1 and 100".into());
            10
        }
    };
    let mut bound = |name: &str| {
        one(name).and_then(|t| {
            let t = if t.len() == 10 {
                format!("{t}T00:00:00Z")
            } else {
                t.to_string()
            };
            let has_zone = t.ends_with('Z') || t.get(10..).is_some_and(|r| r.contains(['+', '-']));
            let zoned = if has_zone { t } else { format!("{t}Z") };
            parse_utc(&zoned)
                .map_err(|_| {
                    problems.push(format!("{name} {zoned:?} is not an ISO 8601 date-time"))
                })
                .ok()
        })
    };
    let (after, before) = (bound("created_at.gte"), bound("created_at.lte"));
    if !problems.is_empty() {
        return bad_request(problems);
    }
    let search = one("search").map(str::to_lowercase);
    let (ids, tids, stores) = (all("id"), all("transaction_id"), all("store_id"));
    let mut list: Vec<&Session> = e
        .sessions
        .values()
        .filter(|x| x.account == account)
        .filter(|x| ids.is_empty() || ids.contains(&x.id.as_str()))
        .filter(|x| {
            tids.is_empty()
                || x.transaction_id
                    .as_deref()
                    .is_some_and(|t| tids.contains(&t))
        })
        .filter(|x| {
            stores.is_empty()
                || x.order
                    .value()
                    .pointer("/store/id")
                    .and_then(Value::as_str)
                    .is_some_and(|st| stores.contains(&st))
        })
        .filter(|x| after.is_none_or(|t| x.created_at >= t))
        .filter(|x| before.is_none_or(|t| x.created_at <= t))
        .filter(|x| search.as_deref().is_none_or(|w| matches_search(x, w)))
        .collect();
    list.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    if let Some(cursor) = one("starting_after") {
        match list.iter().position(|x| x.id == cursor) {
            Some(i) => list.drain(..=i).for_each(drop),
            None => {
                return bad_request(vec![format!(
                    "starting_after {cursor:?} is not a session of this account"
                )])
            }
        }
    }
    let page: Vec<Value> = list
        .into_iter()
        .take(limit)
        .map(|x| e.session_json(x))
        .collect();
    Json(page).into_response()
}

/// Whether a session matches a lowercased `search`: part of either merchant reference or of
/// the customer's `{first_name} {last_name}`.
fn matches_search(x: &Session, search: &str) -> bool {
    let order = x.order.value();
    let text = |p: &str| {
        order
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::to_lowercase)
    };
    let name = |p: &str| {
        let c = |f: &str| {
            order
                .pointer(&format!("{p}/{f}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        format!("{} {}", c("first_name"), c("last_name")).to_lowercase()
    };
    [text("/merchant_reference"), text("/merchant_reference_2")]
        .into_iter()
        .flatten()
        .chain([name("/billing_address"), name("/shipping_address")])
        .any(|t| t.contains(search))
}

pub(super) async fn cancel_session(
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
            s.persist(&e, &[&id]);
            Json(v).into_response()
        }
        Err(msg) => bad_request(vec![msg]),
    }
}

pub(super) async fn get_transaction(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut e = s.dintero.lock().unwrap();
    let Some(account) = bearer_account(&e, &headers) else {
        return unauthorized();
    };
    let now = now_millis();
    match e.transactions.get_mut(&id).filter(|t| t.account == account) {
        Some(t) => {
            let changed = advance(t, now);
            let v = transaction_json(t);
            if changed {
                s.persist(&e, &[&id]);
            }
            Json(v).into_response()
        }
        None => not_found(&format!("transaction {id}")),
    }
}

pub(super) async fn list_transactions(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut e = s.dintero.lock().unwrap();
    let Some(account) = bearer_account(&e, &headers) else {
        return unauthorized();
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return bad_request(vec!["limit must be between 1 and 100".into()]),
    };
    let now = now_millis();
    let mut changed = Vec::new();
    for t in e.transactions.values_mut().filter(|t| t.account == account) {
        if advance(t, now) {
            changed.push(t.id.clone());
        }
    }
    if !changed.is_empty() {
        let ids: Vec<&str> = changed.iter().map(String::as_str).collect();
        s.persist(&e, &ids);
    }
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
