//! Payment Requests: create, read and delete.

use super::rules::validate_request;
use super::{
    conflict, new_order, not_found, ok, request_id, unauthorized, Emulator, PaymentRequest, Phase,
};
use crate::common::public_base;
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kassa_core::time::{format_rfc3339, now_millis};
use serde_json::json;
use std::sync::Arc;

pub(super) async fn create_request(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let (merchant, v, order) = match new_order(
        &mut e,
        &headers,
        &body,
        validate_request,
        "/parameters/order",
    ) {
        Ok(created) => created,
        Err(refused) => return *refused,
    };
    let params = &v["parameters"];
    let id = request_id();
    e.requests.insert(
        id.clone(),
        PaymentRequest {
            merchant,
            reference: v["reference"].as_str().unwrap_or_default().into(),
            description: v["description"].as_str().unwrap_or_default().into(),
            created_at: now_millis(),
            order,
            instant_capture: params["instantcaptureamount"].as_i64().unwrap_or(0),
            phase: Phase::Open,
            declined: 0,
        },
    );
    let url = format!("{}/pay/{id}", public_base(&headers, "bambora"));
    ok(json!({"id": id, "url": url}))
}

/// A live (not deleted) payment request of `merchant`.
fn merchant_request<'a>(e: &'a Emulator, merchant: &str, id: &str) -> Option<&'a PaymentRequest> {
    e.requests
        .get(id)
        .filter(|r| r.merchant == merchant && r.phase != Phase::Deleted)
}

pub(super) async fn get_request(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let Some(r) = merchant_request(&e, &merchant, &id) else {
        return not_found(&format!("payment request {id}"));
    };
    // Deliberately no transaction id: whether Bambora gives one is UNCONFIRMED.
    ok(json!({
        "id": id,
        "status": if matches!(r.phase, Phase::Paid(_)) { "closed" } else { "open" },
        "reference": r.reference,
        "description": r.description,
        "createddate": format_rfc3339(r.created_at),
        "parameters": {"order": {
            "id": r.order.id, "amount": r.order.amount, "currency": r.order.currency,
        }},
    }))
}

pub(super) async fn delete_request(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let Some(r) = merchant_request(&e, &merchant, &id) else {
        return not_found(&format!("payment request {id}"));
    };
    if matches!(r.phase, Phase::Paid(_)) {
        return conflict("the payment request is closed (it was paid) and cannot be deleted");
    }
    e.requests.get_mut(&id).expect("found above").phase = Phase::Deleted;
    ok(json!({}))
}
