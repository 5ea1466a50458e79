//! Klarna Payments v1: create and read a session.

use super::rules::session_rules;
use super::{
    bad_value, client_token, error, json_body, new_uuid, not_found, unauthorized, KpSession,
    ASSET_URL, KP_SESSION_LIFETIME_MS, KP_SPEC,
};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kassa_core::time::{format_rfc3339, now_millis};
use serde_json::{json, Value};
use std::sync::Arc;

fn payment_method_categories() -> Value {
    json!([{
        "identifier": "klarna",
        "name": "Pay with Klarna",
        "asset_urls": {"descriptive": ASSET_URL, "standard": ASSET_URL},
    }])
}

pub(super) async fn create_session(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    let v = match json_body(&headers, &body, &KP_SPEC, "session_create") {
        Ok(v) => v,
        Err(problems) => return bad_value(problems),
    };
    let bad = session_rules(&v);
    if !bad.is_empty() {
        return bad_value(bad);
    }
    if let Some(channel @ ("IN_STORE" | "TELESALES")) =
        v.get("acquiring_channel").and_then(Value::as_str)
    {
        if !e.accounts[&account].in_store {
            return error(
                StatusCode::FORBIDDEN,
                "NOT_ALLOWED",
                &format!("acquiring_channel {channel} is not part of the merchant agreement"),
            );
        }
    }
    let id = new_uuid();
    let token = client_token(&id);
    e.kp_sessions.insert(
        id.clone(),
        KpSession {
            account,
            body: v,
            client_token: token.clone(),
            expires_at: now_millis() + KP_SESSION_LIFETIME_MS,
            authorization_token: None,
            order_id: None,
        },
    );
    Json(json!({
        "session_id": id,
        "client_token": token,
        "payment_method_categories": payment_method_categories(),
    }))
    .into_response()
}

pub(super) async fn get_session(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    let Some(k) = e.kp_sessions.get(&id).filter(|k| k.account == account) else {
        return not_found("Invalid session id");
    };
    if k.expires_at <= now_millis() {
        return not_found("Session has expired");
    }
    let mut v = k.body.clone();
    v["client_token"] = json!(k.client_token);
    v["payment_method_categories"] = payment_method_categories();
    v["status"] = json!(if k.order_id.is_some() {
        "complete"
    } else {
        "incomplete"
    });
    v["expires_at"] = json!(format_rfc3339(k.expires_at));
    if let Some(t) = &k.authorization_token {
        v["authorization_token"] = json!(t);
    }
    Json(v).into_response()
}
