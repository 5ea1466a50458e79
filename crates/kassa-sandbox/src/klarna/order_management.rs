//! Order Management v1: read an order and its captures and refunds; capture, refund, cancel
//! and release the remaining authorization, each with a `Klarna-Idempotency-Key`.
//!
//! Rules (OM = `spec/klarna-ordermanagement-v1-openapi.json`; facts = the after-sale facts
//! §2; K-ERR, K-REFUND, K-CAP: Klarna's docs as the facts quote them):
//! - Every POST: auth (401), then the key (a UUID, else `400 BAD_VALUE`; required here, see
//!   the module doc of `klarna`), then the first answer under the same key within 24 h is
//!   answered again (status, headers, body) before anything else is looked at. Every answer a
//!   POST's handler gives is kept under its key, refusals included ("both requests will
//!   generate the same response", K-RETRY).
//! - `POST …/captures` (OM `CaptureObject`): the body passes the schema (400 `BAD_VALUE`);
//!   an unknown order is `404 NO_SUCH_ORDER` (OM `No_such_order_error_message`); the lines'
//!   arithmetic and their sum, and an amount of 0, are `400 BAD_VALUE` (ours, see
//!   [`operation_rules`]); then `403 CAPTURE_NOT_ALLOWED` (OM) unless the order is
//!   AUTHORIZED or PART_CAPTURED, not expired, its fraud status ACCEPTED, and
//!   `captured_amount ≤ remaining_authorized_amount` (K-CAP, K-ERR: "the captured amount
//!   might be higher than the remaining authorized amount"). Answers 201 with no body and the
//!   headers `Capture-Id` and `Location` (the capture's URI) (OM, K-CAP).
//! - `POST …/refunds` (OM `RefundObject`): as captures, but an unknown order is
//!   `404 NOT_FOUND` (OM `Not_found_error_message`: Klarna's codes differ per endpoint), and
//!   `403 REFUND_NOT_ALLOWED` "Order has no captures. Refund not possible" (K-ERR) or
//!   "Over refund is not allowed. Refund not possible." (K-REFUND) when `refunded_amount`
//!   exceeds what is captured and not refunded. Refunds are allowed on CAPTURED, CLOSED and
//!   EXPIRED orders with captures. Answers 201 with `Refund-Id` and `Location`.
//! - `POST …/cancel`: 204 for an AUTHORIZED order without captures; else
//!   `403 CANCEL_NOT_ALLOWED` ("Order has previous captures. Cancel not possible", K-ERR; our
//!   words for a cancelled, closed or expired order). OM documents no 404 here: an unknown
//!   order is `404 NO_SUCH_ORDER`, as on reads (UNCONFIRMED).
//! - `POST …/release-remaining-authorization`: 204 for a PART_CAPTURED order, which becomes
//!   CLOSED with nothing left to capture (the status is our choice, UNCONFIRMED); else
//!   `403 NOT_ALLOWED`: "Can not release when order is cancelled or has no captures." (OM),
//!   "Order is fully captured. Remaining authorization cannot be released." (Klarna's
//!   release docs), our words for a closed or expired order. Unknown order: as cancel.
//! - `GET …/orders/{id}`: OM `Order` with `captured_amount`, `refunded_amount`,
//!   `remaining_authorized_amount`, `captures[]` and `refunds[]` (with the `reference` sent,
//!   oldest first), `expires_at`; `404 NO_SUCH_ORDER`. `GET …/captures` and
//!   `…/captures/{capture_id}` (`404 NO_SUCH_ORDER` for either unknown, OM), `GET
//!   …/refunds/{refund_id}` (`404 NOT_FOUND`, OM). A capture's `refunded_amount` is the
//!   order's refunds laid on its captures oldest first (how Klarna allocates them is
//!   UNCONFIRMED).

use super::rules::operation_rules;
use super::{
    bad_value, error_body, is_uuid, json_body, new_uuid, unauthorized, Answer, Emulator, Movement,
    Order, IDEMPOTENCY_WINDOW_MS, OM_SPEC,
};
use crate::common::public_base;
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kassa_core::time::{format_rfc3339, now_millis};
use serde_json::{json, Value};
use std::sync::Arc;

/// OM `Capture` or `Refund`: `names` are its id, amount and time fields.
fn movement_json(m: &Movement, (id, amount, at): (&str, &str, &str)) -> Value {
    let mut v = json!({
        id: m.id,
        amount: m.amount,
        at: format_rfc3339(m.at),
        "order_lines": if m.order_lines.is_array() { m.order_lines.clone() } else { json!([]) },
    });
    if let Some(r) = &m.reference {
        v["reference"] = json!(r);
    }
    if let Some(d) = &m.description {
        v["description"] = json!(d);
    }
    v
}

fn capture_json(order: &Order, c: &Movement, refunded: i64) -> Value {
    let mut v = movement_json(c, ("capture_id", "captured_amount", "captured_at"));
    let n = order
        .captures
        .iter()
        .position(|x| x.id == c.id)
        .unwrap_or(0)
        + 1;
    v["klarna_reference"] = json!(format!("{}-{n}", order.klarna_reference));
    v["refunded_amount"] = json!(refunded);
    v
}

fn refund_json(r: &Movement) -> Value {
    movement_json(r, ("refund_id", "refunded_amount", "refunded_at"))
}

/// The order's captures with what of its refunds each carries (oldest capture first).
fn captures_json(o: &Order) -> Vec<Value> {
    let mut refunds_left = o.refunded();
    o.captures
        .iter()
        .map(|c| {
            let share = refunds_left.min(c.amount);
            refunds_left -= share;
            capture_json(o, c, share)
        })
        .collect()
}

fn order_json(id: &str, o: &Order, now: i64) -> Value {
    let mut v = json!({
        "order_id": id,
        "status": o.status(now),
        "fraud_status": o.fraud_status,
        "order_amount": o.order_amount,
        "original_order_amount": o.order_amount,
        "captured_amount": o.captured(),
        "refunded_amount": o.refunded(),
        "remaining_authorized_amount": o.remaining(now),
        "purchase_currency": o.session["purchase_currency"],
        "purchase_country": o.session["purchase_country"],
        "order_lines": o.session["order_lines"],
        "klarna_reference": o.klarna_reference,
        "created_at": format_rfc3339(o.created_at),
        "expires_at": format_rfc3339(o.expires_at),
        "captures": captures_json(o),
        "refunds": o.refunds.iter().map(refund_json).collect::<Vec<_>>(),
    });
    for key in ["merchant_reference1", "merchant_reference2", "locale"] {
        if let Some(x) = o.session.get(key) {
            v[key] = x.clone();
        }
    }
    v
}

fn answer(status: StatusCode, code: &str, message: String) -> Answer {
    Answer {
        at: now_millis(),
        status,
        headers: Vec::new(),
        body: Some(error_body(code, vec![message])),
    }
}

fn no_such_order() -> Answer {
    answer(
        StatusCode::NOT_FOUND,
        "NO_SUCH_ORDER",
        "No such order".into(),
    )
}

/// The refunds endpoint's unknown order (OM `Not_found_error_message`).
fn order_not_found() -> Answer {
    answer(StatusCode::NOT_FOUND, "NOT_FOUND", "Order not found".into())
}

fn no_content() -> Answer {
    Answer {
        at: now_millis(),
        status: StatusCode::NO_CONTENT,
        headers: Vec::new(),
        body: None,
    }
}

fn bad_value_answer(paths: Vec<String>) -> Answer {
    let messages = paths.iter().map(|p| format!("Bad value: {p}")).collect();
    Answer {
        at: now_millis(),
        status: StatusCode::BAD_REQUEST,
        headers: Vec::new(),
        body: Some(error_body("BAD_VALUE", messages)),
    }
}

/// An order of the account, or `None`.
fn order_of<'a>(e: &'a Emulator, account: &str, id: &str) -> Option<&'a Order> {
    e.orders.get(id).filter(|o| o.account == account)
}

pub(super) async fn get_order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    match order_of(&e, &account, &id) {
        Some(o) => Json(order_json(&id, o, now_millis())).into_response(),
        None => no_such_order().response(),
    }
}

pub(super) async fn list_captures(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    match order_of(&e, &account, &id) {
        Some(o) => Json(captures_json(o)).into_response(),
        None => no_such_order().response(),
    }
}

pub(super) async fn get_capture(
    State(s): State<Arc<Shared>>,
    Path((id, capture_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    let found = order_of(&e, &account, &id).and_then(|o| {
        let i = o.captures.iter().position(|c| c.id == capture_id)?;
        Some(captures_json(o).swap_remove(i))
    });
    match found {
        Some(c) => Json(c).into_response(),
        None => answer(
            StatusCode::NOT_FOUND,
            "NO_SUCH_ORDER",
            "No such order or capture".into(),
        )
        .response(),
    }
}

pub(super) async fn get_refund(
    State(s): State<Arc<Shared>>,
    Path((id, refund_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    let found = order_of(&e, &account, &id)
        .and_then(|o| o.refunds.iter().find(|r| r.id == refund_id))
        .map(refund_json);
    match found {
        Some(r) => Json(r).into_response(),
        None => answer(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Order or refund not found".into(),
        )
        .response(),
    }
}

/// What every Order Management POST does around its own work (`act`): auth, the idempotency
/// key, the answer kept under the key (see the module docs).
fn idempotent_post(
    s: &Shared,
    headers: &HeaderMap,
    act: impl FnOnce(&mut Emulator, &str, i64) -> Answer,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    let Some(account) = e.account(headers) else {
        return unauthorized();
    };
    let key = headers
        .get("klarna-idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    if !is_uuid(&key) {
        return bad_value(vec![
            "Klarna-Idempotency-Key (a UUID is required on every Order Management POST)".into(),
        ]);
    }
    let now = now_millis();
    e.idempotency
        .retain(|_, a| now - a.at < IDEMPOTENCY_WINDOW_MS);
    if let Some(first) = e.idempotency.get(&(account.clone(), key.clone())) {
        return first.response();
    }
    let answer = act(&mut e, &account, now);
    let r = answer.response();
    e.idempotency.insert((account, key), answer);
    r
}

/// A capture's or refund's body: valid against `schema` (else 400), for an order of the
/// account (else `not_found`), within Klarna's rules on it (else 400).
fn operation_body(
    e: &Emulator,
    account: &str,
    id: &str,
    (headers, body): (&HeaderMap, &[u8]),
    (schema, amount): (&str, &str),
    not_found: fn() -> Answer,
) -> Result<Value, Answer> {
    let v = json_body(headers, body, &OM_SPEC, schema).map_err(bad_value_answer)?;
    if order_of(e, account, id).is_none() {
        return Err(not_found());
    }
    let bad = operation_rules(&v, amount);
    if bad.is_empty() {
        Ok(v)
    } else {
        Err(bad_value_answer(bad))
    }
}

/// A capture or refund made now from its request body `v` (`amount` its amount field), and
/// Klarna's 201 for it: no body, its id in `id_header` and its URI in `Location`, under
/// `{base}/ordermanagement/v1/orders/{order}/{kind}/`.
fn created(
    v: &Value,
    amount: &str,
    (base, order, kind, id_header): (&str, &str, &str, &'static str),
    now: i64,
) -> (Movement, Answer) {
    let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let id = new_uuid();
    let answer = Answer {
        at: now,
        status: StatusCode::CREATED,
        headers: vec![
            (
                "location",
                format!("{base}/ordermanagement/v1/orders/{order}/{kind}/{id}"),
            ),
            (id_header, id.clone()),
        ],
        body: None,
    };
    let movement = Movement {
        id,
        amount: v[amount].as_i64().unwrap_or(0),
        at: now,
        reference: text("reference"),
        description: text("description"),
        order_lines: v.get("order_lines").cloned().unwrap_or(Value::Null),
    };
    (movement, answer)
}

pub(super) async fn capture(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = public_base(&headers, "klarna");
    idempotent_post(&s, &headers, |e, account, now| {
        let request = (&headers, &body[..]);
        let schema = ("CaptureObject", "captured_amount");
        let v = match operation_body(e, account, &id, request, schema, no_such_order) {
            Ok(v) => v,
            Err(a) => return a,
        };
        let o = e.orders.get_mut(&id).expect("checked");
        let amount = v["captured_amount"].as_i64().unwrap_or(0);
        let refuse = |m: String| answer(StatusCode::FORBIDDEN, "CAPTURE_NOT_ALLOWED", m);
        match o.status(now) {
            "AUTHORIZED" | "PART_CAPTURED" => {}
            "EXPIRED" => return refuse(format!("Order {id} is expired. Capture not possible.")),
            "CANCELLED" => {
                return refuse(format!("Order {id} is cancelled. Capture not possible."))
            }
            status => {
                return refuse(format!(
                    "Order {id} is {status}: nothing is left to capture. Capture not possible."
                ))
            }
        }
        if o.fraud_status != "ACCEPTED" {
            return refuse(format!(
                "Order {id} has fraud status {}. Capture not possible.",
                o.fraud_status
            ));
        }
        let remaining = o.remaining(now);
        if amount > remaining {
            return refuse(format!(
                "Captured amount {amount} is higher than the remaining authorized amount {remaining}. Capture not possible."
            ));
        }
        let (capture, created) = created(
            &v,
            "captured_amount",
            (&base, &id, "captures", "capture-id"),
            now,
        );
        o.captures.push(capture);
        o.status = if o.captured() == o.order_amount {
            "CAPTURED"
        } else {
            "PART_CAPTURED"
        };
        o.capture_when_accepted = false;
        created
    })
}

pub(super) async fn refund(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = public_base(&headers, "klarna");
    idempotent_post(&s, &headers, |e, account, now| {
        let request = (&headers, &body[..]);
        let schema = ("RefundObject", "refunded_amount");
        let v = match operation_body(e, account, &id, request, schema, order_not_found) {
            Ok(v) => v,
            Err(a) => return a,
        };
        let o = e.orders.get_mut(&id).expect("checked");
        let amount = v["refunded_amount"].as_i64().unwrap_or(0);
        let refuse = |m: &str| answer(StatusCode::FORBIDDEN, "REFUND_NOT_ALLOWED", m.into());
        if o.captures.is_empty() {
            return refuse("Order has no captures. Refund not possible");
        }
        if amount > o.captured() - o.refunded() {
            return refuse("Over refund is not allowed. Refund not possible.");
        }
        let (refund, created) = created(
            &v,
            "refunded_amount",
            (&base, &id, "refunds", "refund-id"),
            now,
        );
        o.refunds.push(refund);
        created
    })
}

pub(super) async fn cancel_order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    idempotent_post(&s, &headers, |e, account, now| {
        let Some(o) = e.orders.get_mut(&id).filter(|o| o.account == account) else {
            return no_such_order();
        };
        let refuse = |m: String| answer(StatusCode::FORBIDDEN, "CANCEL_NOT_ALLOWED", m);
        if !o.captures.is_empty() {
            return refuse("Order has previous captures. Cancel not possible".into());
        }
        match o.status(now) {
            "AUTHORIZED" => {
                o.status = "CANCELLED";
                o.capture_when_accepted = false;
                no_content()
            }
            status => refuse(format!(
                "Cancel not allowed: the order is {status} (only an AUTHORIZED order without captures can be cancelled)"
            )),
        }
    })
}

pub(super) async fn release_remaining_authorization(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    idempotent_post(&s, &headers, |e, account, now| {
        let Some(o) = e.orders.get_mut(&id).filter(|o| o.account == account) else {
            return no_such_order();
        };
        let refuse = |m: String| answer(StatusCode::FORBIDDEN, "NOT_ALLOWED", m);
        match o.status(now) {
            "PART_CAPTURED" => {
                o.status = "CLOSED";
                no_content()
            }
            "CANCELLED" | "AUTHORIZED" => {
                refuse("Can not release when order is cancelled or has no captures.".into())
            }
            "CAPTURED" => refuse(
                "Order is fully captured. Remaining authorization cannot be released.".into(),
            ),
            status => refuse(format!(
                "Remaining authorization cannot be released: the order is {status}."
            )),
        }
    })
}
