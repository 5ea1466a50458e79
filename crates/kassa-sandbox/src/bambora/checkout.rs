//! The Checkout API's sessions (`POST /sessions`, `POST /checkout`).

use super::rules::validate_session;
use super::{new_order, ok, Phase, Session, SESSION_LIFETIME_MS};
use crate::common::{public_base, random_hex};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use kassa_core::time::now_millis;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) async fn create_session(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let (merchant, v, order) = match new_order(&mut e, &headers, &body, validate_session, "/order")
    {
        Ok(created) => created,
        Err(refused) => return *refused,
    };
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
        capture_multi: v["capturemulti"].as_bool().unwrap_or(false),
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
