//! The Bambora controls (under `/_control/bambora`): API users and the customer's outcomes.

use super::rules::{self, Action};
use super::BamboraAccount;
use crate::control::Outcome;
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

pub(super) async fn add_account(
    State(s): State<Arc<Shared>>,
    Json(a): Json<BamboraAccount>,
) -> StatusCode {
    s.bambora.lock().unwrap().add_account(a);
    StatusCode::NO_CONTENT
}

pub(super) async fn session_outcome(
    State(s): State<Arc<Shared>>,
    Path(token): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(action) = Action::parse(&o.outcome) else {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "unknown outcome {:?} (pay, pay_capture_declined, decline, cancel, expire)",
                o.outcome
            ),
        )
            .into_response();
    };
    if !e.sessions.contains_key(&token) {
        return (
            StatusCode::NOT_FOUND,
            format!("session {token} was not found"),
        )
            .into_response();
    }
    match rules::session_outcome(&mut e, &token, action) {
        Ok(redirect) => Json(json!({"redirect": redirect})).into_response(),
        Err(m) => (StatusCode::CONFLICT, m).into_response(),
    }
}

pub(super) async fn request_outcome(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(action) = Action::parse(&o.outcome).filter(|a| *a != Action::Expire) else {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "unknown outcome {:?} (pay, pay_capture_declined, decline, cancel)",
                o.outcome
            ),
        )
            .into_response();
    };
    if !e.requests.contains_key(&id) {
        return (
            StatusCode::NOT_FOUND,
            format!("payment request {id} was not found"),
        )
            .into_response();
    }
    match rules::request_outcome(&mut e, &id, action) {
        Ok(()) => Json(json!({"redirect": null})).into_response(),
        Err(m) => (StatusCode::CONFLICT, m).into_response(),
    }
}
