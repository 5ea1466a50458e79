//! The Commerce Layer controls (under `/_control/commercelayer`; the table is in the module
//! doc): organizations, outcomes, orders, tokens and the clock.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - `PUT /_control/commercelayer/token_lifetime` sets `expires_in` for both kinds of token.
//! - `PUT /_control/commercelayer/gateway` `{"decline": ["captures", "voids", "refunds"]}`:
//!   the gateway declines those transactions from now on (an empty list: none), for every
//!   organization; an authorization is declined by the `decline` outcome instead.

use super::jsonapi::Opts;
use super::orders::{order_document, ORDER_INCLUDES};
use super::{rules, CommerceLayerAccount, TxKind};
use crate::common::public_base;
use crate::control::{Lifetime, Outcome};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) async fn add_account(
    State(s): State<Arc<Shared>>,
    Json(a): Json<CommerceLayerAccount>,
) -> Response {
    let too_high = a.default_tax_rate_bp > 10_000 || a.skus.iter().any(|k| k.tax_rate_bp > 10_000);
    if too_high {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "tax rates are basis points: at most 10000"})),
        )
            .into_response();
    }
    s.commercelayer.lock().unwrap().add_account(a);
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn outcome(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.commercelayer.lock().unwrap();
    let now = e.now();
    match rules::outcome(&mut e, &id, &o.outcome, now) {
        Ok(redirect) => Json(json!({ "redirect": redirect })).into_response(),
        Err(m) => (StatusCode::CONFLICT, Json(json!({ "error": m }))).into_response(),
    }
}

pub(super) async fn order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.commercelayer.lock().unwrap();
    let Some(o) = e.orders.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("order {id} was not found")})),
        )
            .into_response();
    };
    // What the order holds, not what the market offers.
    let opts = Opts {
        include: ORDER_INCLUDES
            .iter()
            .filter(|n| {
                !matches!(
                    **n,
                    "market" | "available_payment_methods" | "payment_method"
                )
            })
            .map(|n| n.to_string())
            .collect(),
        ..Opts::default()
    };
    match order_document(
        &e,
        o,
        &public_base(&headers, "commercelayer"),
        &opts,
        e.now(),
    ) {
        Ok(v) => Json(v).into_response(),
        Err(errs) => errs.into_response(),
    }
}

pub(super) async fn expire_tokens(State(s): State<Arc<Shared>>) -> StatusCode {
    let mut e = s.commercelayer.lock().unwrap();
    let now = e.now();
    for t in e.tokens.values_mut() {
        t.expires_at = t.expires_at.min(now);
    }
    StatusCode::NO_CONTENT
}

/// `{"offset_s": 3600}`: how far the emulator's clock runs ahead of the machine's (negative:
/// behind).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClockOffset {
    offset_s: i64,
}

/// Moves the emulator's clock, so that tests reach a token's or an order's expiry without
/// waiting for it.
pub(super) async fn clock(State(s): State<Arc<Shared>>, Json(c): Json<ClockOffset>) -> Json<Value> {
    s.commercelayer
        .lock()
        .unwrap()
        .clock
        .set_offset_s(c.offset_s);
    Json(json!({ "offset_s": c.offset_s }))
}

pub(super) async fn token_lifetime(
    State(s): State<Arc<Shared>>,
    Json(l): Json<Lifetime>,
) -> StatusCode {
    s.commercelayer.lock().unwrap().token_lifetime = Some(l.seconds);
    StatusCode::NO_CONTENT
}

pub(super) async fn stats(State(s): State<Arc<Shared>>) -> Json<Value> {
    let e = s.commercelayer.lock().unwrap();
    Json(json!({ "token_requests": e.token_requests }))
}

/// `{"decline": ["captures", "voids", "refunds"]}`: which transactions the gateway declines.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Gateway {
    decline: Vec<String>,
}

pub(super) async fn gateway(State(s): State<Arc<Shared>>, Json(g): Json<Gateway>) -> Response {
    let mut kinds = Vec::new();
    for ty in &g.decline {
        match TxKind::from_ty(ty).filter(|k| *k != TxKind::Authorization) {
            Some(k) => kinds.push(k),
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": format!(
                        "{ty:?} is not a transaction the gateway can decline here (captures, voids, refunds; an authorization: the decline outcome)"
                    )})),
                )
                    .into_response()
            }
        }
    }
    s.commercelayer.lock().unwrap().declines = kinds;
    Json(json!({ "decline": g.decline })).into_response()
}
