//! The Klarna controls (under `/_control/klarna`): API users, the customer's outcome, the
//! fraud check's end, a Payments session's expiry, an order's authorization expiry.

use super::rules::{self, capture_if_due};
use super::KlarnaAccount;
use crate::control::Outcome;
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kassa_core::time::now_millis;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub(super) async fn add_account(
    State(s): State<Arc<Shared>>,
    Json(a): Json<KlarnaAccount>,
) -> StatusCode {
    s.klarna.lock().unwrap().add_account(a);
    StatusCode::NO_CONTENT
}

pub(super) async fn outcome(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    match rules::outcome(&mut e, &id, &o.outcome) {
        Ok(redirect) => Json(json!({ "redirect": redirect })).into_response(),
        Err(m) => (StatusCode::CONFLICT, m).into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct Fraud {
    fraud_status: String,
}

/// Klarna's manual review of a PENDING order ends.
pub(super) async fn fraud(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(f): Json<Fraud>,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    let Some(o) = e.orders.get_mut(&id) else {
        return (StatusCode::CONFLICT, format!("order {id} was not found")).into_response();
    };
    if o.fraud_status != "PENDING" {
        return (
            StatusCode::CONFLICT,
            format!(
                "the order's fraud status is {}, not PENDING",
                o.fraud_status
            ),
        )
            .into_response();
    }
    match f.fraud_status.as_str() {
        "ACCEPTED" => {
            o.fraud_status = "ACCEPTED".into();
            capture_if_due(o, now_millis());
        }
        "REJECTED" => {
            o.fraud_status = "REJECTED".into();
            if o.status == "AUTHORIZED" {
                o.status = "CANCELLED";
            }
        }
        other => {
            return (
                StatusCode::CONFLICT,
                format!("fraud_status {other:?} is not ACCEPTED or REJECTED"),
            )
                .into_response()
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The KP session reaches its 48 h: it and its HPP sessions expire now.
pub(super) async fn expire_kp_session(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    let now = now_millis();
    let Some(k) = e.kp_sessions.get_mut(&id) else {
        return (
            StatusCode::CONFLICT,
            format!("payment session {id} was not found"),
        )
            .into_response();
    };
    k.expires_at = now;
    for h in e.hpp_sessions.values_mut().filter(|h| h.kp_session == id) {
        h.expires_at = h.expires_at.min(now);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The order's authorization reaches its `expires_at` now: an open authorization is EXPIRED.
pub(super) async fn expire_order(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut e = s.klarna.lock().unwrap();
    let Some(o) = e.orders.get_mut(&id) else {
        return (StatusCode::CONFLICT, format!("order {id} was not found")).into_response();
    };
    o.expires_at = o.expires_at.min(now_millis());
    StatusCode::NO_CONTENT.into_response()
}
