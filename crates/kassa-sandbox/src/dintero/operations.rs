//! After the sale: `POST /v1/transactions/{id}/capture`, `/refund` and `/void` (S:372–727).
//! The rules (what each needs, what it does) are in `rules.rs`; this file is the HTTP around
//! them: the bearer token of the transaction's account, the body, the answer (200 with the
//! transaction, or 202 with `event-request-id`) and the error shape.

use super::rules::{advance, operate, refusal, validate_operation, Done, Operation};
use super::{bad_request, bearer_account, error, not_found, transaction_json, unauthorized};
use crate::common::is_json;
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kassa_core::time::now_millis;
use serde_json::Value;
use std::sync::Arc;

pub(super) async fn capture(
    s: State<Arc<Shared>>,
    id: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(s, id, headers, body, "CAPTURE")
}

pub(super) async fn refund(
    s: State<Arc<Shared>>,
    id: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(s, id, headers, body, "REFUND")
}

/// The void takes no body (S:648ff): whatever is sent is ignored.
pub(super) async fn void(s: State<Arc<Shared>>, id: Path<String>, headers: HeaderMap) -> Response {
    handle(s, id, headers, Bytes::new(), "VOID")
}

fn handle(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    kind: &str,
) -> Response {
    let mut guard = s.dintero.lock().unwrap();
    let e = &mut *guard;
    let Some(account) = bearer_account(e, &headers) else {
        return unauthorized();
    };
    let now = now_millis();
    let Some(t) = e.transactions.get_mut(&id).filter(|t| t.account == account) else {
        return not_found(&format!("transaction {id}"));
    };
    if advance(t, now) {
        s.persist(e, &[&id]);
    }
    let t = e.transactions.get_mut(&id).expect("found above");
    let op = if kind == "VOID" {
        Operation {
            amount: t.amount - t.sum("CAPTURE"),
            reference: None,
            items: None,
        }
    } else {
        if !is_json(&headers) {
            return bad_request(vec!["content-type must be application/json".into()]);
        }
        let v: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(err) => return bad_request(vec![format!("body is not valid JSON: {err}")]),
        };
        match validate_operation(kind, &v) {
            Ok(op) => op,
            Err(problems) => return bad_request(problems),
        }
    };
    if let Some((code, message)) = refusal(t, kind, op.amount) {
        return error(StatusCode::BAD_REQUEST, code, &message);
    }
    let done = operate(t, &mut e.controls, kind, op, now);
    let answer = transaction_json(&e.transactions[&id]);
    s.persist(e, &[&id]);
    match done {
        Done::Now => Json(answer).into_response(),
        Done::Later(request_id) => {
            let mut r = (StatusCode::ACCEPTED, Json(answer)).into_response();
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                r.headers_mut().insert("event-request-id", v);
            }
            r
        }
    }
}
