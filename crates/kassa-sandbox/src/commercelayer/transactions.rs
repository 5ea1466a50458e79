//! The transaction resources: `authorizations`, `captures`, `voids` and `refunds` (read,
//! update with their triggers; never created by a request), and how they are rendered.
//!
//! Rules (CL = `core-api-public-resources.json`, resources `authorization`, `capture`,
//! `void`, `refund`):
//! - Actions `list, retrieve, update` only: `GET` and `PATCH /api/<type>/{id}`; `POST
//!   /api/<type>` → `405` (transactions are made by triggers on their parents). An id of
//!   another organization, or of another type, is `404 RECORD_NOT_FOUND`.
//! - Every request needs an integration token: `_capture`, `_refund` and the order triggers
//!   "cannot be passed by sales channels" (CL order fields, notes §4.5); a sales channel gets
//!   `401 UNAUTHORIZED` "... requires an integration token".
//! - Updatable: `reference`, `reference_origin`, `metadata` on all four; triggers
//!   `_capture` + `_capture_amount_cents` (integer), `_void`, `_cancel` on authorizations,
//!   `_refund` + `_refund_amount_cents` (integer) on captures (their rules: `gateway.rs`).
//!   The answer is `200` with the updated resource; `include=` its transactions
//!   (authorizations: `captures`, `voids`; captures: `reference_authorization`, `refunds`;
//!   voids: `reference_authorization`; refunds: `reference_capture`) finds what a trigger made.
//! - Read-only attributes (balances, `amount_cents`, ...) are `400 PARAM_NOT_ALLOWED`.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - Lists are not emulated (the order's `include=` reads them). `_forward`, the updatable
//!   `succeeded`, and a capture's `_cancel` (for captures of pending orders, which the sandbox
//!   never makes) are refused as not emulated.
//! - An amount without its trigger (`_capture_amount_cents` without `_capture: true`) and
//!   two triggers in one request are `422` at the attribute (real CL may ignore them).

use super::auth::{api_caller, integration_only};
use super::errors::{
    api_json, check, error, invalid_attr, record_not_found, ApiError, ApiResult, Errors,
};
use super::gateway::{self, capture_balance, refund_balance, void_balance, Refusal};
use super::jsonapi::Kind::{Bool, Int};
use super::jsonapi::{
    document, ident, map, parse_doc, parse_query, resource, Fields, Kind, Opts, REFERENCE_ATTRS,
};
use super::{time_value, Acct, Call, Emulator, Order, Transaction, TxKind, PAYMENT_SOURCE_TYPE};
use crate::common::public_base;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

/// The relationships of a transaction of `kind`, and which of them `include=` can name.
fn relationships(kind: TxKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        TxKind::Authorization => (
            &["order", "payment_source", "captures", "voids"],
            &["captures", "voids"],
        ),
        TxKind::Capture => (
            &[
                "order",
                "payment_source",
                "reference_authorization",
                "refunds",
                "return",
            ],
            &["reference_authorization", "refunds"],
        ),
        TxKind::Void => (
            &["order", "payment_source", "reference_authorization"],
            &["reference_authorization"],
        ),
        TxKind::Refund => (
            &["order", "payment_source", "reference_capture", "return"],
            &["reference_capture"],
        ),
    }
}

const INCLUDES_NOT_EMULATED: &[&str] = &[
    "order",
    "payment_source",
    "return",
    "attachments",
    "events",
    "versions",
    "event_stores",
];

/// The transactions relationship `name` of `t` links to.
fn related<'o>(o: &'o Order, t: &Transaction, name: &str) -> Vec<&'o Transaction> {
    let children = |kind: TxKind| {
        o.transactions(kind)
            .filter(|c| c.parent.as_deref() == Some(&t.id))
            .collect()
    };
    match name {
        "captures" => children(TxKind::Capture),
        "voids" => children(TxKind::Void),
        "refunds" => children(TxKind::Refund),
        "reference_authorization" | "reference_capture" => o
            .transactions
            .iter()
            .filter(|p| t.parent.as_deref() == Some(&p.id))
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn transaction_resource(
    o: &Order,
    t: &Transaction,
    acct: &Acct,
    base: &str,
    include: &[String],
) -> Value {
    let mut a = map(vec![
        ("number", json!(t.number)),
        ("type", json!(t.kind.ty())),
        ("payment_method_type", json!(PAYMENT_SOURCE_TYPE)),
        ("currency_code", json!(acct.a.currency)),
        ("amount_cents", json!(t.amount_cents)),
        ("succeeded", json!(t.succeeded)),
        ("message", json!(t.message)),
        ("error_code", json!(t.error_code)),
        ("error_detail", json!(t.error_detail)),
        ("token", json!(t.gateway_transaction_id)),
        ("gateway_transaction_id", json!(t.gateway_transaction_id)),
        ("created_at", time_value(Some(t.created_at))),
        ("updated_at", time_value(Some(t.updated_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    match t.kind {
        TxKind::Authorization => {
            let balance = capture_balance(o, t);
            for name in [
                "cvv_code",
                "cvv_message",
                "avs_code",
                "avs_message",
                "fraud_review",
            ] {
                a.insert(name.into(), Value::Null);
            }
            a.insert("capture_amount_cents".into(), json!(balance));
            a.insert("capture_balance_cents".into(), json!(balance));
            a.insert("void_balance_cents".into(), json!(void_balance(o, t)));
        }
        TxKind::Capture => {
            let balance = refund_balance(o, t);
            a.insert("refund_amount_cents".into(), json!(balance));
            a.insert("refund_balance_cents".into(), json!(balance));
        }
        TxKind::Void | TxKind::Refund => {}
    }
    for (k, v) in &t.attrs {
        a.insert(k.clone(), v.clone());
    }
    let (names, _) = relationships(t.kind);
    let rels: Vec<(&str, Option<Value>)> = names
        .iter()
        .map(|name| {
            let data = include.iter().any(|i| i == name).then(|| {
                let list = related(o, t, name);
                let idents = list.iter().map(|r| ident(r.kind.ty(), &r.id));
                if name.starts_with("reference_") {
                    idents.into_iter().next().unwrap_or(Value::Null)
                } else {
                    Value::Array(idents.collect())
                }
            });
            (*name, data)
        })
        .collect();
    resource(base, t.kind.ty(), &t.id, acct, a, &rels)
}

/// The document of `t` with what `opts` includes.
fn transaction_document(
    o: &Order,
    t: &Transaction,
    acct: &Acct,
    base: &str,
    opts: &Opts,
) -> Result<Value, Errors> {
    let included = opts
        .include
        .iter()
        .flat_map(|name| related(o, t, name))
        .map(|r| transaction_resource(o, r, acct, base, &[]))
        .collect();
    document(
        transaction_resource(o, t, acct, base, &opts.include),
        included,
        opts,
    )
}

fn opts(kind: TxKind, q: &[(String, String)]) -> Result<Opts, Errors> {
    let (_, includes) = relationships(kind);
    parse_query(q, kind.ty(), includes, INCLUDES_NOT_EMULATED, false)
}

/// The id of the order of `account` that has transaction `id` of `kind`.
fn order_of(e: &Emulator, account: &str, kind: TxKind, id: &str) -> Result<String, Errors> {
    e.orders
        .values()
        .filter(|o| o.account == account)
        .find(|o| o.transactions(kind).any(|t| t.id == id))
        .map(|o| o.id.clone())
        .ok_or_else(|| record_not_found(id).into())
}

pub(super) fn get(e: &Emulator, call: &Call, kind: TxKind) -> ApiResult {
    let now = e.now();
    let c = api_caller(e, &call.headers, false, now)?;
    integration_only(&c, &format!("Reading {}", kind.ty()))?;
    let opts = opts(kind, &call.query)?;
    let o = &e.orders[&order_of(e, &c.account, kind, &call.id)?];
    let t = o
        .transactions
        .iter()
        .find(|t| t.id == call.id)
        .expect("found");
    let base = public_base(&call.headers, "commercelayer");
    let v = transaction_document(o, t, e.acct(&o.account), &base, &opts)?;
    Ok(api_json(StatusCode::OK, &v))
}

/// The triggers a transaction of `kind` takes, each with the amount that may go with it.
fn triggers(kind: TxKind) -> &'static [(&'static str, Option<&'static str>)] {
    match kind {
        TxKind::Authorization => &[
            ("_capture", Some("_capture_amount_cents")),
            ("_void", None),
            ("_cancel", None),
        ],
        TxKind::Capture => &[("_refund", Some("_refund_amount_cents"))],
        TxKind::Void | TxKind::Refund => &[],
    }
}

fn update_attrs(kind: TxKind) -> &'static [(&'static str, Kind)] {
    match kind {
        TxKind::Authorization => &[
            ("_capture", Bool),
            ("_capture_amount_cents", Int),
            ("_void", Bool),
            ("_cancel", Bool),
        ],
        TxKind::Capture => &[("_refund", Bool), ("_refund_amount_cents", Int)],
        TxKind::Void | TxKind::Refund => &[],
    }
}

fn not_emulated(kind: TxKind) -> &'static [&'static str] {
    match kind {
        TxKind::Capture => &["_forward", "succeeded", "_cancel"],
        _ => &["_forward", "succeeded"],
    }
}

impl Refusal {
    pub(super) fn error(self) -> ApiError {
        let code = self.meta["error"].as_str().unwrap_or("invalid").to_string();
        invalid_attr(self.attr, &self.message, &code).meta(self.meta)
    }
}

pub(super) fn update(e: &mut Emulator, call: &Call, kind: TxKind) -> ApiResult {
    let now = e.now();
    let c = api_caller(e, &call.headers, true, now)?;
    integration_only(&c, &format!("Updating {}", kind.ty()))?;
    let opts = opts(kind, &call.query)?;
    let order_id = order_of(e, &c.account, kind, &call.id)?;
    let doc = parse_doc(&call.body, kind.ty(), Some(&call.id))?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, update_attrs(kind)],
        not_emulated: not_emulated(kind),
        removed: &[],
        rels: &[],
        rels_not_emulated: &[],
    };
    check(fields.names(&doc))?;
    let mut errs = fields.kinds(&doc);
    let fired: Vec<(&str, Option<&str>)> = triggers(kind)
        .iter()
        .copied()
        .filter(|(name, _)| doc.flag(name))
        .collect();
    for (name, amount) in triggers(kind) {
        if let Some(amount) = amount {
            if doc.get(amount).is_some() && !doc.flag(name) {
                errs.push(invalid_attr(
                    amount,
                    &format!("can only be sent with {name}: true"),
                    "invalid",
                ));
            }
        }
    }
    for (name, _) in fired.iter().skip(1) {
        errs.push(invalid_attr(
            name,
            &format!(
                "cannot be sent with {}: send one trigger at a time",
                fired[0].0
            ),
            "invalid",
        ));
    }
    check(errs)?;
    let mut o = e.orders[&order_id].clone();
    if let Some((name, amount)) = fired.first() {
        let amount = amount.and_then(|a| doc.int(a));
        let declines = |k: TxKind| e.declines.contains(&k);
        let id = call.id.as_str();
        let done = match *name {
            "_capture" => gateway::capture(&mut o, id, amount, declines(TxKind::Capture), now),
            "_void" | "_cancel" => gateway::void(&mut o, id, name, declines(TxKind::Void), now),
            _ => gateway::refund(&mut o, id, amount, declines(TxKind::Refund), now),
        };
        done.map_err(|r| Errors::from(r.error()))?;
        o.updated_at = now;
    }
    let attrs = doc.reference_attrs();
    if !attrs.is_empty() {
        let t = o
            .transactions
            .iter_mut()
            .find(|t| t.id == call.id)
            .expect("found");
        t.attrs.extend(attrs);
        t.updated_at = now;
    }
    let base = public_base(&call.headers, "commercelayer");
    let t = o
        .transactions
        .iter()
        .find(|t| t.id == call.id)
        .expect("found");
    let v = transaction_document(&o, t, e.acct(&o.account), &base, &opts)?;
    e.orders.insert(order_id, o);
    Ok(api_json(StatusCode::OK, &v))
}

/// `POST /api/<type>`: transactions are never created by a request.
pub(super) fn not_creatable(kind: TxKind) -> Response {
    let made_by = match kind {
        TxKind::Authorization => "the hosted checkout's payment (or the order's _authorize)",
        TxKind::Capture => {
            "_capture on an authorization, or the order's _capture / _approve_and_capture"
        }
        TxKind::Void => "_void on an authorization, or the order's _cancel",
        TxKind::Refund => "_refund on a capture",
    };
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        &format!(
            "{} cannot be created (actions: list, retrieve, update): they are made by {made_by}.",
            kind.ty()
        ),
    )
}
