//! The Dintero controls (under `/_control/dintero`): the customer's outcome, token expiry and
//! lifetime, API clients, and how after-sale operations behave (Dintero's own capture late or
//! failing, operations answered 202 or failing).

use super::{rules, AfterSaleControls, DinteroAccount};
use crate::control::{Lifetime, Outcome};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;

pub(super) async fn outcome(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.dintero.lock().unwrap();
    match rules::outcome(&mut e, &id, &o.outcome) {
        Ok(()) => {
            s.persist(&e, &[&id]);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(m) => (StatusCode::CONFLICT, m).into_response(),
    }
}

pub(super) async fn expire_tokens(State(s): State<Arc<Shared>>) -> StatusCode {
    s.dintero.lock().unwrap().tokens.clear();
    StatusCode::NO_CONTENT
}

pub(super) async fn token_lifetime(
    State(s): State<Arc<Shared>>,
    Json(l): Json<Lifetime>,
) -> StatusCode {
    s.dintero.lock().unwrap().token_lifetime = l.seconds;
    StatusCode::NO_CONTENT
}

pub(super) async fn add_account(
    State(s): State<Arc<Shared>>,
    Json(a): Json<DinteroAccount>,
) -> StatusCode {
    s.dintero.lock().unwrap().add_account(a);
    StatusCode::NO_CONTENT
}

/// `PUT /_control/dintero/after_sale` `{"auto_capture_delay_ms", "auto_capture_fails",
/// "async_ms", "fail_next"}` (all optional): replaces the after-sale controls.
pub(super) async fn after_sale(
    State(s): State<Arc<Shared>>,
    Json(c): Json<AfterSaleControls>,
) -> StatusCode {
    s.dintero.lock().unwrap().controls = c;
    StatusCode::NO_CONTENT
}
