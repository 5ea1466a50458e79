//! The Opencharge controls (under `/_control/opencharge`): parties, the gateways' switches
//! and clock, sessions and the customer's outcomes.

use super::{is_match, rules, Emulator, OpenchargeParty, Switches};
use crate::control::Outcome;
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) async fn add_merchant(
    State(s): State<Arc<Shared>>,
    Json(p): Json<OpenchargeParty>,
) -> Response {
    if !is_match("^[0-9a-fA-F]{128}$", &p.public_key) {
        return (
            StatusCode::BAD_REQUEST,
            "public_key must be 128 hexadecimal characters (X ‖ Y without 04)",
        )
            .into_response();
    }
    s.opencharge.lock().unwrap().add_merchant(p);
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn gateway(State(s): State<Arc<Shared>>, Json(sw): Json<Switches>) -> Response {
    let mut e = s.opencharge.lock().unwrap();
    e.switches = sw;
    e.clock.set_offset_s(sw.clock_offset_s);
    Json(json!({
        "canonicalization": sw.canonicalization.as_str(),
        "clock_offset_s": sw.clock_offset_s,
    }))
    .into_response()
}

fn session_json(e: &Emulator, id: &str) -> Response {
    let now = e.now();
    let Some(s) = e.sessions.get(id) else {
        return (
            StatusCode::NOT_FOUND,
            format!("checkout session {id} was not found"),
        )
            .into_response();
    };
    let (proof, signature) = match &s.proof {
        Some((p, sig)) => (p.clone(), json!(sig)),
        None => (Value::Null, Value::Null),
    };
    Json(json!({
        "session_id": id,
        "status": s.status(now).as_str(),
        "gateway": s.gateway.as_str(),
        "merchant_ocid": s.merchant,
        "expires_at": s.expires_at,
        "order": s.order,
        "proof": proof,
        "proof_signature": signature,
    }))
    .into_response()
}

fn order_not_found(order_id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("no checkout session for order id {order_id}"),
    )
        .into_response()
}

pub(super) async fn order(State(s): State<Arc<Shared>>, Path(order_id): Path<String>) -> Response {
    let e = s.opencharge.lock().unwrap();
    match e.session_of_order(&order_id) {
        Some(id) => session_json(&e, &id),
        None => order_not_found(&order_id),
    }
}

pub(super) async fn session(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    session_json(&s.opencharge.lock().unwrap(), &id)
}

fn outcome_answer(e: &mut Emulator, id: &str, what: &str) -> Response {
    match rules::outcome(e, id, what) {
        Ok(redirect) => Json(json!({ "redirect": redirect })).into_response(),
        Err((status, m)) => (status, m).into_response(),
    }
}

pub(super) async fn order_outcome(
    State(s): State<Arc<Shared>>,
    Path(order_id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.opencharge.lock().unwrap();
    match e.session_of_order(&order_id) {
        Some(id) => outcome_answer(&mut e, &id, &o.outcome),
        None => order_not_found(&order_id),
    }
}

pub(super) async fn session_outcome(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    outcome_answer(&mut s.opencharge.lock().unwrap(), &id, &o.outcome)
}
