//! Order Management v1: read and cancel an order; `Klarna-Idempotency-Key` on every POST.

use super::{bad_value, error_body, is_uuid, unauthorized, Answer, Order, IDEMPOTENCY_WINDOW_MS};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kassa_core::time::{format_rfc3339, now_millis};
use serde_json::{json, Value};
use std::sync::Arc;

fn order_json(id: &str, o: &Order) -> Value {
    let remaining = if o.status == "AUTHORIZED" {
        o.order_amount - o.captured_amount
    } else {
        0
    };
    let captures: Vec<Value> = o
        .capture
        .iter()
        .map(|(cid, at)| {
            json!({"capture_id": cid, "captured_amount": o.captured_amount,
                   "captured_at": format_rfc3339(*at)})
        })
        .collect();
    let mut v = json!({
        "order_id": id,
        "status": o.status,
        "fraud_status": o.fraud_status,
        "order_amount": o.order_amount,
        "original_order_amount": o.order_amount,
        "captured_amount": o.captured_amount,
        "refunded_amount": 0,
        "remaining_authorized_amount": remaining,
        "purchase_currency": o.session["purchase_currency"],
        "purchase_country": o.session["purchase_country"],
        "order_lines": o.session["order_lines"],
        "klarna_reference": o.klarna_reference,
        "created_at": format_rfc3339(o.created_at),
        "expires_at": format_rfc3339(o.expires_at),
        "captures": captures,
        "refunds": [],
    });
    for key in ["merchant_reference1", "merchant_reference2", "locale"] {
        if let Some(x) = o.session.get(key) {
            v[key] = x.clone();
        }
    }
    v
}

fn no_such_order() -> Answer {
    Answer {
        at: now_millis(),
        status: StatusCode::NOT_FOUND,
        body: Some(error_body("NO_SUCH_ORDER", vec!["No such order".into()])),
    }
}

pub(super) async fn get_order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    match e.orders.get(&id).filter(|o| o.account == account) {
        Some(o) => Json(order_json(&id, o)).into_response(),
        None => no_such_order().response(),
    }
}

pub(super) async fn cancel_order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    let key = headers
        .get("klarna-idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    if !is_uuid(&key) {
        return bad_value(vec![
            "Klarna-Idempotency-Key (a UUID is required on every Order Management POST)".into(),
        ]);
    }
    let now = now_millis();
    e.idempotency
        .retain(|_, a| now - a.at < IDEMPOTENCY_WINDOW_MS);
    if let Some(first) = e.idempotency.get(&(account.clone(), key.clone())) {
        return first.response();
    }
    let answer = match e.orders.get_mut(&id).filter(|o| o.account == account) {
        None => no_such_order(),
        Some(o) if o.status == "AUTHORIZED" => {
            o.status = "CANCELLED";
            o.capture_when_accepted = false;
            Answer {
                at: now,
                status: StatusCode::NO_CONTENT,
                body: None,
            }
        }
        Some(o) => Answer {
            at: now,
            status: StatusCode::FORBIDDEN,
            body: Some(error_body(
                "CANCEL_NOT_ALLOWED",
                vec![format!(
                    "Cancel not allowed: the order is {} (only an AUTHORIZED order without captures can be cancelled)",
                    o.status
                )],
            )),
        },
    };
    let r = answer.response();
    e.idempotency.insert((account, key), answer);
    r
}
