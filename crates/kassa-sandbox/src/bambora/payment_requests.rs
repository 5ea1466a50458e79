//! Payment Requests: create, read, delete and e-mail.

use super::rules::validate_request;
use super::{
    bad_request, conflict, json_body, new_order, not_found, ok, request_id, unauthorized, Emulator,
    PaymentRequest, Phase,
};
use crate::common::{is_email, public_base};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kassa_core::time::{format_rfc3339, now_millis};
use serde_json::{json, Value};
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

/// `{email, name}` of `to` or `replyto`: its problems.
fn recipient_problems(v: &Value, field: &str) -> Vec<String> {
    let Some(r) = v.as_object() else {
        return vec![format!("{field} must be an object with email and name")];
    };
    let mut p = Vec::new();
    if !r.get("email").and_then(Value::as_str).is_some_and(is_email) {
        p.push(format!("{field}.email must be an e-mail address"));
    }
    if r.get("name")
        .and_then(Value::as_str)
        .is_none_or(|n| n.trim().is_empty())
    {
        p.push(format!("{field}.name is required"));
    }
    p.extend(
        r.keys()
            .filter(|k| !matches!(k.as_str(), "email" | "name"))
            .map(|k| format!("{field}.{k} is not a field of a recipient")),
    );
    p
}

/// `POST /paymentrequests/{id}/email-notifications`: e-mails the request's link (here: records
/// it for `GET /_control/messages`).
pub(super) async fn email_notification(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let e = s.bambora.lock().unwrap();
    let Some(merchant) = e.merchant(&headers) else {
        return unauthorized();
    };
    let Some(r) = merchant_request(&e, &merchant, &id) else {
        return not_found(&format!("payment request {id}"));
    };
    let v = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(problem) => return bad_request(vec![problem]),
    };
    let mut problems = Vec::new();
    match v.get("to") {
        Some(to) => problems.extend(recipient_problems(to, "to")),
        None => problems.push("to is required".into()),
    }
    if let Some(reply) = v.get("replyto") {
        problems.extend(recipient_problems(reply, "replyto"));
    }
    if v.get("message").is_some_and(|m| !m.is_string()) {
        problems.push("message must be a string".into());
    }
    for k in v.as_object().into_iter().flat_map(|o| o.keys()) {
        if !matches!(k.as_str(), "to" | "replyto" | "message") {
            problems.push(format!("{k} is not a field of an e-mail notification"));
        }
    }
    if !problems.is_empty() {
        return bad_request(problems);
    }
    if matches!(r.phase, Phase::Paid(_)) {
        return conflict("the payment request is closed (it was paid); nothing to send");
    }
    let link = format!("{}/pay/{id}", public_base(&headers, "bambora"));
    s.record_message(crate::control::Message {
        provider: "bambora",
        channel: "email",
        to: v["to"]["email"].as_str().unwrap_or_default(),
        link: &link,
        session: &id,
        extra: json!({"name": v["to"]["name"], "message": v.get("message")}),
    });
    ok(json!({}))
}
