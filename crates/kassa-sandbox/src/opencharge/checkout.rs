//! The two gateway endpoints: the payment gateway's `POST /checkout/create` and the merchant
//! gateway's `POST /orders/checkout`, which both create a session at the payment gateway.

use super::rules::{check_order, parse_body};
use super::signatures::authenticate;
use super::{api_answer, bad_request, unauthorized, Emulator, Failure, Gateway, Session, Status};
use crate::common::{public_base, random_hex};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

/// Creates a pending checkout session at the payment gateway; answers its id.
fn create_session(
    e: &mut Emulator,
    gateway: Gateway,
    merchant: u64,
    urls: (&str, &str),
    v: &Value,
    expires_at: i64,
) -> String {
    let id = format!("cs_{}", random_hex(16));
    let url = |name: &str| {
        v["urls"]
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    e.next_seq += 1;
    let session = Session {
        seq: e.next_seq,
        gateway,
        merchant,
        order: v["order"].clone(),
        success: url(urls.0),
        cancel: url(urls.1),
        expires_at,
        status: Status::Pending,
        proof: None,
    };
    e.sessions.insert(id.clone(), session);
    id
}

fn body_or_failure(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Failure> {
    body.map_err(|r| Failure::new(r.status(), "INVALID_REQUEST", r.body_text()))
}

/// A POST to one of the gateways, as received.
pub(super) struct Post<'a> {
    uri: &'a axum::http::Uri,
    headers: &'a HeaderMap,
    body: Result<Bytes, BytesRejection>,
}

pub(super) fn checkout_create(e: &mut Emulator, now: i64, req: Post) -> Result<Value, Failure> {
    let body = body_or_failure(req.body)?;
    authenticate(e, now, "POST", req.uri, req.headers, &body)?;
    let v = parse_body(Gateway::Pg, req.headers, &body)?;
    let merchant = v["merchantOcid"].as_u64().unwrap_or(0);
    if v["order"]["ocid"].as_u64() != Some(merchant) {
        return Err(bad_request(
            "INVALID_REQUEST",
            format!(
                "order.ocid {} is not merchantOcid {}",
                v["order"]["ocid"], v["merchantOcid"]
            ),
        ));
    }
    let expires_at = check_order(e, now, Gateway::Pg, merchant, &v)?;
    let id = create_session(
        e,
        Gateway::Pg,
        merchant,
        ("success", "cancel"),
        &v,
        expires_at,
    );
    Ok(json!({
        "checkout_url": format!("{}/pg/pay/{id}", public_base(req.headers, "opencharge")),
        "session_id": id,
        "expires_at": expires_at,
    }))
}

pub(super) fn orders_checkout(e: &mut Emulator, now: i64, req: Post) -> Result<Value, Failure> {
    let body = body_or_failure(req.body)?;
    let merchant = authenticate(e, now, "POST", req.uri, req.headers, &body)?;
    if !e.parties[&merchant].onboarded {
        return Err(unauthorized(
            "MERCHANT_NOT_REGISTERED",
            format!("OCID {merchant} is not onboarded at this merchant gateway"),
        ));
    }
    let v = parse_body(Gateway::Mg, req.headers, &body)?;
    if v["order"]["ocid"].as_u64() != Some(merchant) {
        return Err(bad_request(
            "INVALID_REQUEST",
            format!(
                "order.ocid {} is not X-OC-ID {merchant}",
                v["order"]["ocid"]
            ),
        ));
    }
    let expires_at = check_order(e, now, Gateway::Mg, merchant, &v)?;
    let id = create_session(
        e,
        Gateway::Mg,
        merchant,
        ("completed", "cancelled"),
        &v,
        expires_at,
    );
    Ok(json!({ "redirect_url": format!("{}/pg/pay/{id}", public_base(req.headers, "opencharge")) }))
}

/// What one gateway endpoint answers to a POST, on the gateway's clock (`now`).
pub(super) type Answer = fn(&mut Emulator, i64, Post) -> Result<Value, Failure>;

/// The handler of a gateway's POST endpoint: locks the emulator, reads the gateway's clock,
/// runs `answer` and sends what it answers dated and signed by `gateway` ([`api_answer`]).
pub(super) fn endpoint(
    gateway: Gateway,
    answer: Answer,
) -> impl Fn(
    State<Arc<Shared>>,
    OriginalUri,
    HeaderMap,
    Result<Bytes, BytesRejection>,
) -> std::future::Ready<Response>
       + Clone
       + Send
       + Sync
       + 'static {
    move |State(s), OriginalUri(uri), headers, body| {
        let mut e = s.opencharge.lock().unwrap();
        let now = e.now();
        let req = Post {
            uri: &uri,
            headers: &headers,
            body,
        };
        std::future::ready(api_answer(gateway, now, answer(&mut e, now, req)))
    }
}
