//! Line items: create and read.
//!
//! Rules:
//! - `POST /api/line_items` (NOTES A6): relationship `order` (404 if unknown, 422 unless
//!   `draft`/`pending`); `quantity` integer ≥ 1 (required); `sku_code` one of the account's
//!   SKUs ("sku_code - is not valid"); `name` and `unit_amount_cents` (integer ≥ 0) required
//!   without `sku_code`; `_external_price`, `_update_quantity`, `reference`,
//!   `reference_origin`, `metadata`. Anything else is `400 PARAM_NOT_ALLOWED`, read-only
//!   fields included. `GET /api/line_items/{id}` reads one back.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - A SKU line without `unit_amount_cents` is `422` "has no price": the sandbox has no price
//!   list entries. A SKU line's `name` defaults to its code. `_update_quantity` with a
//!   `sku_code` already on the order SETS that line's quantity (and its price, if sent) so a
//!   retried POST is idempotent, answering 201 with that line (set vs. add is UNCONFIRMED).

use super::auth::{api_caller, integration_only};
use super::errors::{
    api_json, blank_attr, check, invalid_attr, invalid_rel, record_not_found, ApiResult,
};
use super::jsonapi::Kind::{Bool, Int, Str};
use super::jsonapi::{
    document, map, parse_doc, parse_query, resource, Fields, Kind, REFERENCE_ATTRS,
};
use super::orders::related_order;
use super::rules::{amounts, rate_value, LineAmounts};
use super::{rand_id, time_value, Acct, Call, Emulator, Line};
use crate::common::public_base;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// Integer attributes are 4-byte integers (UNCONFIRMED).
const MAX_INT: i64 = i32::MAX as i64;
/// No order total beyond what a JSON number holds exactly.
const MAX_ORDER_CENTS: i128 = (1 << 53) - 1;

pub(super) fn line_resource(l: &Line, la: &LineAmounts, acct: &Acct, base: &str) -> Value {
    let mut a = map(vec![
        ("sku_code", json!(l.sku_code)),
        ("bundle_code", Value::Null),
        ("quantity", json!(l.quantity)),
        ("currency_code", json!(acct.a.currency)),
        ("unit_amount_cents", json!(l.unit_amount_cents)),
        ("compare_at_amount_cents", Value::Null),
        ("options_amount_cents", json!(0)),
        ("discount_cents", json!(0)),
        ("total_amount_cents", json!(la.total)),
        ("tax_amount_cents", json!(la.tax)),
        ("tax_rate", rate_value(la.rate_bp)),
        ("tax_breakdown", Value::Null),
        ("discount_breakdown", Value::Null),
        ("name", json!(l.name)),
        ("image_url", Value::Null),
        (
            "item_type",
            if l.sku_code.is_some() {
                json!("skus")
            } else {
                Value::Null
            },
        ),
        ("_external_price", json!(l.external_price)),
        ("frequency", Value::Null),
        ("circuit_state", json!("closed")),
        ("circuit_failure_count", json!(0)),
        ("created_at", time_value(Some(l.created_at))),
        ("updated_at", time_value(Some(l.updated_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    for (k, v) in &l.attrs {
        a.insert(k.clone(), v.clone());
    }
    resource(
        base,
        "line_items",
        &l.id,
        acct,
        a,
        &[("order", None), ("item", None)],
    )
}

const LINE_ATTRS: &[(&str, Kind)] = &[
    ("quantity", Int),
    ("sku_code", Str),
    ("name", Str),
    ("unit_amount_cents", Int),
    ("_external_price", Bool),
    ("_update_quantity", Bool),
];
const LINE_NOT_EMULATED: &[&str] = &[
    "bundle_code",
    "compare_at_amount_cents",
    "image_url",
    "item_type",
    "frequency",
    "_reserve_stock",
    "_reset_restocked_quantity",
];

pub(super) fn get(e: &Emulator, call: &Call) -> ApiResult {
    let (id, q, headers) = (call.id.as_str(), &call.query[..], &call.headers);
    let now = e.now();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Reading line items")?;
    let opts = parse_query(q, "line_items", &[], &["order", "item", "sku"], false)?;
    let (o, index) = e
        .orders
        .values()
        .filter(|o| o.account == c.account)
        .find_map(|o| o.lines.iter().position(|l| l.id == id).map(|i| (o, i)))
        .ok_or_else(|| record_not_found(id))?;
    let acct = e.acct(&o.account);
    let am = amounts(o, acct);
    let data = line_resource(
        &o.lines[index],
        &am.lines[index],
        acct,
        &public_base(headers, "commercelayer"),
    );
    let v = document(data, Vec::new(), &opts)?;
    Ok(api_json(StatusCode::OK, &v))
}

pub(super) fn create(e: &mut Emulator, call: &Call) -> ApiResult {
    let (q, headers, body) = (&call.query[..], &call.headers, &call.body[..]);
    let now = e.now();
    let c = api_caller(e, headers, true, now)?;
    integration_only(
        &c,
        "Creating line items (unit_amount_cents cannot be passed by sales channels)",
    )?;
    let opts = parse_query(q, "line_items", &[], &["order", "item", "sku"], false)?;
    let doc = parse_doc(body, "line_items", None)?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, LINE_ATTRS],
        not_emulated: LINE_NOT_EMULATED,
        removed: &[],
        rels: &["order"],
        rels_not_emulated: &["item", "tags"],
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    let not_an_order = ("must be an orders resource", "invalid");
    let order_id =
        related_order(e, &doc, "order", &c.account, not_an_order, &mut errs)?.map(|o| o.id.clone());
    let quantity = doc.int("quantity");
    match doc.get("quantity") {
        None => errs.push(blank_attr("quantity")),
        Some(_) => match quantity {
            Some(n) if n < 1 => errs.push(
                invalid_attr("quantity", "must be greater than 0", "greater_than")
                    .meta(json!({"error": "greater_than", "value": n, "count": 0})),
            ),
            Some(n) if n > MAX_INT => errs.push(invalid_attr(
                "quantity",
                &format!("must be less than or equal to {MAX_INT}"),
                "less_than_or_equal_to",
            )),
            _ => {}
        },
    }
    let sku = doc.str("sku_code").map(str::to_string);
    if let Some(code) = &sku {
        if acct.sku_rate(code).is_none() {
            errs.push(invalid_attr("sku_code", "is not valid", "invalid"));
        }
    } else if doc.str("name").is_none_or(|n| n.trim().is_empty()) {
        errs.push(blank_attr("name"));
    }
    let unit = doc.int("unit_amount_cents");
    match unit {
        Some(u) if u < 0 => errs.push(invalid_attr(
            "unit_amount_cents",
            "must be greater than or equal to 0",
            "greater_than_or_equal_to",
        )),
        Some(u) if u > MAX_INT => errs.push(invalid_attr(
            "unit_amount_cents",
            &format!("must be less than or equal to {MAX_INT}"),
            "less_than_or_equal_to",
        )),
        Some(_) => {}
        None if doc.get("unit_amount_cents").is_some() => {}
        None if sku.is_some() => errs.push(invalid_attr(
            "unit_amount_cents",
            "has no price: the Kassa sandbox has no price list entries, send unit_amount_cents",
            "no_price",
        )),
        None => errs.push(blank_attr("unit_amount_cents")),
    }
    if let Some(o) = order_id.as_ref().and_then(|id| e.orders.get(id)) {
        if !o.editable() {
            errs.push(invalid_rel(
                "order",
                &format!("is not editable (the order is {})", o.status),
                "not_editable",
            ));
        }
    }
    check(errs)?;
    let (Some(order_id), Some(quantity), Some(unit)) = (order_id, quantity, unit) else {
        return Err(blank_attr("quantity").into());
    };
    let mut o = e.orders[&order_id].clone();
    let merge = match &sku {
        Some(code) if doc.flag("_update_quantity") => o
            .lines
            .iter()
            .position(|l| l.sku_code.as_ref() == Some(code)),
        _ => None,
    };
    let extra = doc.reference_attrs();
    let index = match merge {
        Some(i) => {
            let l = &mut o.lines[i];
            l.quantity = quantity;
            l.unit_amount_cents = unit;
            if let Some(n) = doc.str("name") {
                l.name = n.to_string();
            }
            if doc.get("_external_price").is_some() {
                l.external_price = doc.flag("_external_price");
            }
            l.attrs.extend(extra);
            l.updated_at = now;
            i
        }
        None => {
            o.lines.push(Line {
                id: rand_id(10),
                name: doc
                    .str("name")
                    .map(str::to_string)
                    .or_else(|| sku.clone())
                    .unwrap_or_default(),
                sku_code: sku,
                quantity,
                unit_amount_cents: unit,
                external_price: doc.flag("_external_price"),
                attrs: extra,
                created_at: now,
                updated_at: now,
            });
            o.lines.len() - 1
        }
    };
    let am = amounts(&o, &acct);
    let with_taxes = i128::from(am.total);
    if i128::from(am.subtotal) > MAX_ORDER_CENTS || with_taxes > MAX_ORDER_CENTS {
        return Err(invalid_attr(
            "quantity",
            "makes the order total too large",
            "less_than_or_equal_to",
        )
        .into());
    }
    o.refresh_status();
    o.updated_at = now;
    let base = public_base(headers, "commercelayer");
    let data = line_resource(&o.lines[index], &am.lines[index], &acct, &base);
    let v = document(data, Vec::new(), &opts)?;
    e.orders.insert(order_id, o);
    Ok(api_json(StatusCode::CREATED, &v))
}
