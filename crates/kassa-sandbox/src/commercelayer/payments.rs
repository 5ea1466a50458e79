//! The checkout.com payment source (create and read), and how it and the order's payment
//! method are rendered.
//!
//! Rules:
//! - `POST /api/checkout_com_payments` (the CURRENT schema, NOTES A10.1): `success_url` and
//!   `failure_url` required (http(s)); optional `token`, `reference`, `reference_origin`,
//!   `metadata`; `payment_type` and `session_id` were removed in 2025 and are refused
//!   (`400 PARAM_NOT_ALLOWED` at their pointer, the detail says so). The order needs the
//!   checkout.com payment method. Answers `public_key`, `payment_session` and becomes the
//!   order's `payment_source`. `GET /api/checkout_com_payments/{id}` reads it back.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - `POST /api/checkout_com_payments` without `token` succeeds, as CL's own hosted checkout
//!   does it although the schema marks `token` required (UNCONFIRMED, NOTES A10.2 and E1).

use super::auth::{api_caller, integration_only};
use super::errors::{api_json, blank_attr, check, invalid_rel, record_not_found, ApiResult};
use super::jsonapi::Kind::{Str, Url};
use super::jsonapi::{
    document, map, parse_doc, parse_query, resource, Fields, Kind, REFERENCE_ATTRS,
};
use super::orders::related_order;
use super::rules::amounts;
use super::{rand_id, rand_lower, time_value, Acct, Call, Emulator, Payment, PAYMENT_SOURCE_TYPE};
use crate::common::{public_base, random_from, random_hex};
use axum::http::StatusCode;
use serde_json::{json, Value};

pub(super) fn payment_method_resource(acct: &Acct, base: &str) -> Value {
    let a = map(vec![
        ("name", json!("Checkout.com card")),
        ("payment_source_type", json!(PAYMENT_SOURCE_TYPE)),
        ("currency_code", json!(acct.a.currency)),
        ("moto", json!(false)),
        ("require_capture", json!(true)),
        ("auto_place", json!(false)),
        ("auto_capture", json!(acct.a.auto_capture)),
        ("price_amount_cents", json!(0)),
        ("auto_capture_max_amount_cents", Value::Null),
        ("disabled_at", Value::Null),
        ("created_at", time_value(Some(acct.created_at))),
        ("updated_at", time_value(Some(acct.created_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    resource(
        base,
        "payment_methods",
        &acct.payment_method_id,
        acct,
        a,
        &[("market", None), ("payment_gateway", None)],
    )
}

pub(super) fn payment_resource(e: &Emulator, p: &Payment, base: &str) -> Value {
    let acct = e.acct(&p.account);
    let current = e
        .orders
        .get(&p.order_id)
        .map(|o| amounts(o, acct).total)
        .unwrap_or(0);
    let instrument = p
        .authorized_amount
        .map(|_| json!({"issuer": "Kassa Sandbox Bank", "card_type": "credit"}))
        .unwrap_or(Value::Null);
    let mut a = map(vec![
        ("public_key", json!(p.public_key)),
        ("token", json!(p.token)),
        (
            "payment_session",
            json!({
                "id": p.session_id,
                "payment_session_secret": p.session_secret,
                "payment_session_token": p.session_token,
                "_links": {"self": {"href": format!("https://api.sandbox.checkout.com/payment-sessions/{}", p.session_id)}},
            }),
        ),
        ("success_url", json!(p.success_url)),
        ("failure_url", json!(p.failure_url)),
        ("source_id", Value::Null),
        ("customer_token", Value::Null),
        ("redirect_uri", Value::Null),
        (
            "payment_response",
            p.payment_response.clone().unwrap_or(Value::Null),
        ),
        (
            "mismatched_amounts",
            json!(p.authorized_amount.is_some_and(|x| x != current)),
        ),
        ("payment_instrument", instrument),
        ("created_at", time_value(Some(p.created_at))),
        ("updated_at", time_value(Some(p.updated_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    for (k, v) in &p.attrs {
        a.insert(k.clone(), v.clone());
    }
    resource(
        base,
        PAYMENT_SOURCE_TYPE,
        &p.id,
        acct,
        a,
        &[("order", None), ("payment_gateway", None)],
    )
}

const CKO_ATTRS: &[(&str, Kind)] = &[("success_url", Url), ("failure_url", Url), ("token", Str)];
const CKO_REMOVED: &[(&str, &str)] = &[
    (
        "payment_type",
        "payment_type was removed from checkout_com_payments in 2025 (schema v7.9.0); create the payment source with success_url and failure_url only",
    ),
    (
        "session_id",
        "session_id was removed from checkout_com_payments in 2025 (schema v7.8.6); the payment session is created by Commerce Layer (payment_session)",
    ),
];

pub(super) fn create(e: &mut Emulator, call: &Call) -> ApiResult {
    let (q, headers, body) = (&call.query[..], &call.headers, &call.body[..]);
    let now = e.now();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Creating a checkout.com payment source")?;
    let opts = parse_query(
        q,
        PAYMENT_SOURCE_TYPE,
        &[],
        &["order", "payment_gateway"],
        false,
    )?;
    let doc = parse_doc(body, PAYMENT_SOURCE_TYPE, None)?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, CKO_ATTRS],
        not_emulated: &[],
        removed: CKO_REMOVED,
        rels: &["order"],
        rels_not_emulated: &[],
    };
    check(fields.names(&doc))?;
    let mut errs = fields.kinds(&doc);
    for name in ["success_url", "failure_url"] {
        if doc.get(name).is_none() {
            errs.push(blank_attr(name));
        }
    }
    let not_an_order = ("must be an orders resource", "invalid");
    let order = related_order(e, &doc, "order", &c.account, not_an_order, &mut errs)?;
    if let Some(o) = order {
        if o.payment_method.is_none() {
            errs.push(invalid_rel(
                "order",
                "the order has no checkout.com payment method (set its payment_method first)",
                "invalid",
            ));
        }
        if !o.editable() {
            errs.push(invalid_rel(
                "order",
                &format!("is not editable (the order is {})", o.status),
                "not_editable",
            ));
        }
    }
    let order_id = order.map(|o| o.id.clone());
    check(errs)?;
    let order_id = order_id.expect("checked above");
    let session = format!("ps_{}", rand_lower(26));
    let attrs = doc.reference_attrs();
    let p = Payment {
        id: rand_id(10),
        account: c.account,
        order_id: order_id.clone(),
        success_url: doc.str("success_url").unwrap_or_default().to_string(),
        failure_url: doc.str("failure_url").unwrap_or_default().to_string(),
        token: doc.str("token").map(str::to_string),
        attrs,
        public_key: format!("pk_sbox_{}", rand_lower(26)),
        session_secret: format!("pss_{}", random_hex(16)),
        session_token: random_from(
            40,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        ),
        session_id: session,
        payment_response: None,
        authorized_amount: None,
        created_at: now,
        updated_at: now,
    };
    let pid = p.id.clone();
    e.payments.insert(pid.clone(), p);
    if let Some(o) = e.orders.get_mut(&order_id) {
        o.payment_source = Some(pid.clone());
        o.updated_at = now;
    }
    let base = public_base(headers, "commercelayer");
    let v = document(
        payment_resource(e, &e.payments[&pid], &base),
        Vec::new(),
        &opts,
    )?;
    Ok(api_json(StatusCode::CREATED, &v))
}

pub(super) fn get(e: &Emulator, call: &Call) -> ApiResult {
    let (id, q, headers) = (call.id.as_str(), &call.query[..], &call.headers);
    let now = e.now();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Reading a payment source")?;
    let opts = parse_query(
        q,
        PAYMENT_SOURCE_TYPE,
        &[],
        &["order", "payment_gateway"],
        false,
    )?;
    let p = e
        .payments
        .get(id)
        .filter(|p| p.account == c.account)
        .ok_or_else(|| record_not_found(id))?;
    let v = document(
        payment_resource(e, p, &public_base(headers, "commercelayer")),
        Vec::new(),
        &opts,
    )?;
    Ok(api_json(StatusCode::OK, &v))
}
