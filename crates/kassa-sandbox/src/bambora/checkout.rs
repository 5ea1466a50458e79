//! The Checkout API (`POST /sessions`, `POST /checkout`) and the Merchant API's
//! `GET /transactions/{txnid}`.

use super::rules::validate_session;
use super::{new_order, not_found, ok, unauthorized, Phase, Session, SESSION_LIFETIME_MS};
use crate::common::{public_base, random_hex};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kassa_core::money::Currency;
use kassa_core::time::{format_rfc3339, now_millis};
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

pub(super) async fn get_transaction(
    State(s): State<Arc<Shared>>,
    Path(txnid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let Some(t) = e
        .transactions
        .get(&txnid)
        .filter(|t| t.merchant == merchant)
    else {
        return not_found(&format!("transaction {txnid}"));
    };
    let digits = Currency::from_code(&t.currency).map_or(2, |c| c.digits());
    let credited = 0;
    ok(json!({"transaction": {
        "id": t.id,
        "orderid": t.order_id,
        "merchantnumber": t.merchant,
        "reference": t.reference,
        "status": if t.captured > 0 { "captured" } else { "authorized" },
        "createddate": format_rfc3339(t.created_at),
        "currency": {"code": t.currency, "minorunits": digits},
        "total": {
            "authorized": t.authorized,
            "balance": t.captured - credited,
            "captured": t.captured,
            "credited": credited,
            "declined": 0,
            "feeamount": 0,
        },
        "available": {"capture": t.authorized - t.captured, "credit": t.captured - credited},
        "candelete": t.captured == 0,
    }}))
}
