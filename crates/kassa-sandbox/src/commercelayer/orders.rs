//! Orders: create, read, list, update (with the triggers of `rules.rs`), and how an order and
//! what it includes are rendered.
//!
//! Rules:
//! - Orders: `POST /api/orders` takes the creatable attributes of `order` listed in
//!   `ORDER_ATTRS` and the `market` relationship (required, the account's market, else `422`
//!   at `/data/relationships/market`); `expires_at` must be in the future; URLs must be
//!   http(s). A new order is `draft`/`unpaid`/`unfulfilled`, with a numeric `number`, a random
//!   `token`, the market's `currency_code` and the price list's `tax_included`.
//!   `GET /api/orders/{id}`, `GET /api/orders?filter[q][reference_eq]=R` (newest first,
//!   `page[size]` 1–25 (default 10), `page[number]`), `PATCH /api/orders/{id}`; all support
//!   `include=` (`line_items`, `available_payment_methods`, `payment_method`, `payment_source`,
//!   `links`, `authorizations`, `captures`, `voids`, `refunds`, `market`) and sparse
//!   fieldsets `fields[<type>]=a,b`.
//! - `PATCH /api/orders/{id}` (NOTES A8/A9/A12): `data.id` must be the path id
//!   (`400 KEY_NOT_INCLUDED_IN_URL`); the plain attributes of create; triggers
//!   `_billing_address_clone_id` / `_shipping_address_clone_id` (must be the account's
//!   `address_id`), `_shipping_address_same_as_billing`, `_billing_address_same_as_shipping`,
//!   `_update_taxes`, `_refresh`, `_place`, `_cancel`, `_approve`, `_capture`,
//!   `_approve_and_capture` (their rules: `rules.rs`); relationship `payment_method` (the
//!   account's one). A PATCH is atomic: any error leaves the order unchanged. Every update
//!   needs an integration token (a sales channel gets `401`).
//! - `expires_at` (CL: "Cannot be passed by sales channels", creatable and updatable): on
//!   create it must be in the future; on a `draft`/`pending` order an update may set it to now
//!   or the past, and the order is then expired at once: `_place` and the hosted checkout
//!   refuse it, its status stays `draft`/`pending` (CL's status enum has no `expired`). That a
//!   past value is accepted is UNCONFIRMED (notes §4.3); our reading: the metadata sets no
//!   bound, and CL's timed checkout describes expiry as hard enforcement at the deadline, so
//!   a deadline of now is the documented way to stop an unplaced order (Kassa's cancel).
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - Status: `draft` becomes `pending` once the order has a line item and a `customer_email`
//!   or a shipping address (and falls back to `draft` if the email is removed again). Only
//!   `draft`/`pending` orders are editable; on other orders only `reference`,
//!   `reference_origin` and `metadata` may change.
//! - Order `checkout_url` is null (the legacy URL is UNCONFIRMED, NOTES A11 item 3).
//!   `payment_source_details` is null.
//! - Addresses are cloned into new address ids but have no readable resource here
//!   (`include=shipping_address` is `400 INVALID_INCLUDE`).

use super::auth::{api_caller, integration_only};
use super::errors::{
    api_json, check, invalid_attr, invalid_rel, record_not_found, ApiError, ApiResult, Errors,
};
use super::jsonapi::Kind::{Bool, Email, Lang, Obj, Str, Time, Url};
use super::jsonapi::{
    document, ident, map, parse_doc, parse_query, resource, Doc, Fields, Kind, Opts,
    REFERENCE_ATTRS,
};
use super::line_items::line_resource;
use super::links::link_resource;
use super::markets::market_resource;
use super::payments::{payment_method_resource, payment_resource};
use super::rules::{
    amounts, approve, approve_and_capture, cancel, capture_order, place, rate_value,
};
use super::transactions::transaction_resource;
use super::{
    parse_time, rand_id, time_value, Acct, Call, Emulator, Link, Order, TxKind, PAYMENT_SOURCE_TYPE,
};
use crate::common::{public_base, random_hex};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

const ORDER_RELS: &[&str] = &[
    "market",
    "customer",
    "shipping_address",
    "billing_address",
    "available_payment_methods",
    "payment_method",
    "payment_source",
    "line_items",
    "authorizations",
    "captures",
    "voids",
    "refunds",
    "links",
];
pub(super) const ORDER_INCLUDES: &[&str] = &[
    "market",
    "line_items",
    "available_payment_methods",
    "payment_method",
    "payment_source",
    "links",
    "authorizations",
    "captures",
    "voids",
    "refunds",
];
const ORDER_INCLUDES_NOT_EMULATED: &[&str] = &[
    "customer",
    "shipping_address",
    "billing_address",
    "store",
    "shipments",
    "transactions",
    "returns",
    "attachments",
    "tags",
];

fn order_links<'a>(e: &'a Emulator, o: &Order) -> Vec<&'a Link> {
    let mut list: Vec<&Link> = e.links.values().filter(|l| l.order_id == o.id).collect();
    list.sort_by_key(|l| l.created_at);
    list
}

fn order_rel_data(e: &Emulator, o: &Order, name: &str) -> Value {
    let acct = e.acct(&o.account);
    match name {
        "market" => ident("markets", &acct.a.market_id),
        "available_payment_methods" => json!([ident("payment_methods", &acct.payment_method_id)]),
        "payment_method" => o
            .payment_method
            .as_deref()
            .map_or(Value::Null, |id| ident("payment_methods", id)),
        "payment_source" => o
            .payment_source
            .as_deref()
            .map_or(Value::Null, |id| ident(PAYMENT_SOURCE_TYPE, id)),
        "line_items" => Value::Array(o.lines.iter().map(|l| ident("line_items", &l.id)).collect()),
        "authorizations" | "captures" | "voids" | "refunds" => {
            let kind = TxKind::from_ty(name).expect("a transaction type");
            Value::Array(
                o.transactions(kind)
                    .map(|t| ident(kind.ty(), &t.id))
                    .collect(),
            )
        }
        "links" => Value::Array(
            order_links(e, o)
                .iter()
                .map(|l| ident("links", &l.id))
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn order_included(e: &Emulator, o: &Order, name: &str, base: &str, now: i64) -> Vec<Value> {
    let acct = e.acct(&o.account);
    match name {
        "market" => vec![market_resource(acct, base, false)],
        "available_payment_methods" => vec![payment_method_resource(acct, base)],
        "payment_method" if o.payment_method.is_some() => {
            vec![payment_method_resource(acct, base)]
        }
        "payment_source" => o
            .payment_source
            .as_ref()
            .and_then(|id| e.payments.get(id))
            .map(|p| vec![payment_resource(e, p, base)])
            .unwrap_or_default(),
        "line_items" => {
            let am = amounts(o, acct);
            o.lines
                .iter()
                .zip(&am.lines)
                .map(|(l, la)| line_resource(l, la, acct, base))
                .collect()
        }
        "authorizations" | "captures" | "voids" | "refunds" => {
            let kind = TxKind::from_ty(name).expect("a transaction type");
            o.transactions(kind)
                .map(|t| transaction_resource(o, t, acct, base, &[]))
                .collect()
        }
        "links" => order_links(e, o)
            .iter()
            .map(|l| link_resource(e, l, base, now))
            .collect(),
        _ => Vec::new(),
    }
}

fn order_resource(e: &Emulator, o: &Order, base: &str, include: &[String]) -> Value {
    let acct = e.acct(&o.account);
    let am = amounts(o, acct);
    let skus_count: i64 = o
        .lines
        .iter()
        .filter(|l| l.sku_code.is_some())
        .map(|l| l.quantity)
        .sum();
    let mut a = map(vec![
        ("number", json!(o.number)),
        ("affiliate_code", Value::Null),
        ("autorefresh", json!(true)),
        ("place_async", json!(false)),
        ("status", json!(o.status)),
        ("payment_status", json!(o.payment_status)),
        ("fulfillment_status", json!(o.fulfillment_status)),
        ("guest", json!(false)),
        ("editable", json!(o.editable())),
        ("customer_email", Value::Null),
        ("language_code", json!("en")),
        ("currency_code", json!(acct.a.currency)),
        ("tax_included", json!(acct.a.tax_included)),
        ("tax_rate", rate_value(am.rate_bp)),
        ("freight_taxable", json!(false)),
        ("payment_method_taxable", json!(false)),
        ("adjustment_taxable", json!(false)),
        ("gift_card_taxable", json!(false)),
        ("requires_billing_info", json!(false)),
        ("country_code", Value::Null),
        ("shipping_country_code_lock", Value::Null),
        ("subtotal_amount_cents", json!(am.subtotal)),
        ("shipping_amount_cents", json!(0)),
        ("payment_method_amount_cents", json!(0)),
        ("discount_amount_cents", json!(0)),
        ("adjustment_amount_cents", json!(0)),
        ("gift_card_amount_cents", json!(0)),
        ("total_tax_amount_cents", json!(am.tax)),
        ("subtotal_tax_amount_cents", json!(am.tax)),
        ("shipping_tax_amount_cents", json!(0)),
        ("payment_method_tax_amount_cents", json!(0)),
        ("adjustment_tax_amount_cents", json!(0)),
        ("total_amount_cents", json!(am.total)),
        ("total_taxable_amount_cents", json!(am.taxable)),
        ("subtotal_taxable_amount_cents", json!(am.taxable)),
        ("shipping_taxable_amount_cents", json!(0)),
        ("payment_method_taxable_amount_cents", json!(0)),
        ("adjustment_taxable_amount_cents", json!(0)),
        ("total_amount_with_taxes_cents", json!(am.total)),
        ("fees_amount_cents", json!(0)),
        ("duty_amount_cents", json!(0)),
        ("place_total_amount_cents", json!(o.place_total)),
        ("skus_count", json!(skus_count)),
        ("line_item_options_count", json!(0)),
        ("shipments_count", json!(0)),
        ("tax_calculations_count", json!(o.tax_calculations)),
        ("validations_count", json!(0)),
        ("errors_count", json!(0)),
        ("payment_source_details", Value::Null),
        ("token", json!(o.token)),
        ("cart_url", Value::Null),
        ("return_url", Value::Null),
        ("terms_url", Value::Null),
        ("privacy_url", Value::Null),
        ("checkout_url", Value::Null),
        ("placed_at", time_value(o.placed_at)),
        ("approved_at", time_value(o.approved_at)),
        ("cancelled_at", time_value(o.cancelled_at)),
        ("payment_updated_at", time_value(o.payment_updated_at)),
        (
            "fulfillment_updated_at",
            time_value(o.fulfillment_updated_at),
        ),
        ("refreshed_at", time_value(o.refreshed_at)),
        ("archived_at", Value::Null),
        ("subscription_created_at", Value::Null),
        ("expires_at", time_value(o.expires_at)),
        ("expiration_info", Value::Null),
        ("circuit_state", json!("closed")),
        ("circuit_failure_count", json!(0)),
        ("created_at", time_value(Some(o.created_at))),
        ("updated_at", time_value(Some(o.updated_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    for (k, v) in &o.attrs {
        a.insert(k.clone(), v.clone());
    }
    let rels: Vec<(&str, Option<Value>)> = ORDER_RELS
        .iter()
        .map(|name| {
            let data = include
                .iter()
                .any(|i| i == name)
                .then(|| order_rel_data(e, o, name));
            (*name, data)
        })
        .collect();
    resource(base, "orders", &o.id, acct, a, &rels)
}

pub(super) fn order_document(
    e: &Emulator,
    o: &Order,
    base: &str,
    opts: &Opts,
    now: i64,
) -> Result<Value, Errors> {
    let data = order_resource(e, o, base, &opts.include);
    let included = opts
        .include
        .iter()
        .flat_map(|name| order_included(e, o, name, base, now))
        .collect();
    document(data, included, opts)
}

/// The creatable (and updatable) plain attributes of `order` the sandbox keeps.
const ORDER_ATTRS: &[(&str, Kind)] = &[
    ("language_code", Lang),
    ("customer_email", Email),
    ("expires_at", Time),
    ("expiration_info", Obj),
    ("return_url", Url),
    ("cart_url", Url),
    ("terms_url", Url),
    ("privacy_url", Url),
    ("guest", Bool),
    ("autorefresh", Bool),
    ("place_async", Bool),
    ("freight_taxable", Bool),
    ("payment_method_taxable", Bool),
    ("adjustment_taxable", Bool),
    ("gift_card_taxable", Bool),
    ("affiliate_code", Str),
    ("shipping_country_code_lock", Str),
];
/// The update-only triggers the sandbox acts on.
const ORDER_TRIGGERS: &[(&str, Kind)] = &[
    ("_billing_address_clone_id", Str),
    ("_shipping_address_clone_id", Str),
    ("_shipping_address_same_as_billing", Bool),
    ("_billing_address_same_as_shipping", Bool),
    ("_update_taxes", Bool),
    ("_refresh", Bool),
    ("_place", Bool),
    ("_cancel", Bool),
    ("_approve", Bool),
    ("_capture", Bool),
    ("_approve_and_capture", Bool),
];
const ORDER_CREATE_NOT_EMULATED: &[&str] = &[
    "number",
    "customer_password",
    "coupon_code",
    "gift_card_code",
    "gift_card_or_coupon_code",
];
const ORDER_UPDATE_NOT_EMULATED: &[&str] = &[
    "number",
    "customer_password",
    "coupon_code",
    "gift_card_code",
    "gift_card_or_coupon_code",
    "_archive",
    "_unarchive",
    "_pending",
    "_authorize",
    "_authorization_amount_cents",
    "_refund",
    "_fulfill",
    "_nullify_payment_source",
    "_fix_payment_source",
    "_customer_payment_source_id",
    "_commit_invoice",
    "_refund_invoice",
    "_save_payment_source_to_customer_wallet",
    "_save_shipping_address_to_customer_address_book",
    "_save_billing_address_to_customer_address_book",
    "_refresh_prices",
    "_validate",
    "_create_subscriptions",
    "_start_editing",
    "_stop_editing",
    "_reset_circuit",
    "_add_tags",
    "_remove_tags",
];
const ORDER_RELS_NOT_EMULATED: &[&str] = &[
    "customer",
    "shipping_address",
    "billing_address",
    "store",
    "payment_source",
    "tags",
];
/// What may still change on an order that is no longer editable.
const ALWAYS_EDITABLE: &[&str] = &["reference", "reference_origin", "metadata"];

/// Checks `market` and `payment_method` relationships and the plain attributes' rules. A new
/// order's `expires_at` must be in the future; an update may set it to now or the past,
/// which expires the order at once (see `update`).
fn order_value_rules(doc: &Doc, acct: &Acct, now: Option<i64>, errs: &mut Vec<ApiError>) {
    if let Some((t, now)) = doc.str("expires_at").and_then(parse_time).zip(now) {
        if t <= now {
            errs.push(invalid_attr(
                "expires_at",
                "must be in the future",
                "greater_than",
            ));
        }
    }
    match doc.rel("market") {
        None => {}
        Some(None) => errs.push(invalid_rel("market", "can't be blank", "blank")),
        Some(Some(m)) if m != ("markets", acct.a.market_id.as_str()) => errs.push(invalid_rel(
            "market",
            "is not the market of these credentials",
            "invalid",
        )),
        Some(Some(_)) => {}
    }
    if let Some(Some(pm)) = doc.rel("payment_method") {
        if pm != ("payment_methods", acct.payment_method_id.as_str()) {
            errs.push(invalid_rel(
                "payment_method",
                "is not a payment method of the order's market",
                "invalid",
            ));
        }
    }
}

/// The order a create's relationship `rel` names, if it is one of `account`'s (else 404);
/// `None`, with a 422 in `errs`, when the relationship is missing or names something else
/// (`not_an_order`: that 422's message and error).
pub(super) fn related_order<'e>(
    e: &'e Emulator,
    doc: &Doc,
    rel: &str,
    account: &str,
    not_an_order: (&str, &str),
    errs: &mut Vec<ApiError>,
) -> Result<Option<&'e Order>, Errors> {
    match doc.rel(rel).flatten() {
        None => {
            errs.push(invalid_rel(rel, "can't be blank", "blank"));
            Ok(None)
        }
        Some(("orders", oid)) => match e.orders.get(oid).filter(|o| o.account == account) {
            Some(o) => Ok(Some(o)),
            None => Err(record_not_found(oid).into()),
        },
        Some(_) => {
            let (message, error) = not_an_order;
            errs.push(invalid_rel(rel, message, error));
            Ok(None)
        }
    }
}

/// Stores the plain attributes of a create or update.
fn apply_order_attrs(o: &mut Order, doc: &Doc) {
    for (name, v) in &doc.attrs {
        if name == "expires_at" {
            o.expires_at = v.as_str().and_then(parse_time);
        } else if ORDER_ATTRS
            .iter()
            .chain(REFERENCE_ATTRS)
            .any(|(n, _)| n == name)
        {
            o.attrs.insert(name.clone(), v.clone());
        }
    }
    if let Some(pm) = doc.rel("payment_method") {
        o.payment_method = pm.map(|(_, id)| id.to_string());
    }
}

fn order_opts(q: &[(String, String)], list: bool) -> Result<Opts, Errors> {
    parse_query(
        q,
        "orders",
        ORDER_INCLUDES,
        ORDER_INCLUDES_NOT_EMULATED,
        list,
    )
}

pub(super) fn create(e: &mut Emulator, call: &Call) -> ApiResult {
    let (q, headers, body) = (&call.query[..], &call.headers, &call.body[..]);
    let now = e.now();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Creating an order")?;
    let opts = order_opts(q, false)?;
    let doc = parse_doc(body, "orders", None)?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, ORDER_ATTRS],
        not_emulated: ORDER_CREATE_NOT_EMULATED,
        removed: &[],
        rels: &["market", "payment_method"],
        rels_not_emulated: ORDER_RELS_NOT_EMULATED,
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    if doc.rel("market").is_none() {
        errs.push(invalid_rel("market", "can't be blank", "blank"));
    }
    order_value_rules(&doc, &acct, Some(now), &mut errs);
    check(errs)?;
    let seq = e.next_seq();
    let mut o = Order {
        id: rand_id(10),
        account: c.account,
        seq,
        number: (1_000_000 + seq).to_string(),
        token: random_hex(16),
        status: "draft",
        payment_status: "unpaid",
        fulfillment_status: "unfulfilled",
        attrs: Map::new(),
        expires_at: None,
        billing_address: None,
        shipping_address: None,
        payment_method: None,
        payment_source: None,
        lines: Vec::new(),
        transactions: Vec::new(),
        tax_calculations: 0,
        place_total: None,
        created_at: now,
        updated_at: now,
        placed_at: None,
        approved_at: None,
        cancelled_at: None,
        payment_updated_at: None,
        fulfillment_updated_at: None,
        refreshed_at: None,
    };
    apply_order_attrs(&mut o, &doc);
    o.refresh_status();
    let base = public_base(headers, "commercelayer");
    let v = order_document(e, &o, &base, &opts, now)?;
    e.orders.insert(o.id.clone(), o);
    Ok(api_json(StatusCode::CREATED, &v))
}

pub(super) fn get(e: &Emulator, call: &Call) -> ApiResult {
    let (id, q, headers) = (call.id.as_str(), &call.query[..], &call.headers);
    let now = e.now();
    let c = api_caller(e, headers, false, now)?;
    let opts = order_opts(q, false)?;
    let o = e
        .orders
        .get(id)
        .filter(|o| o.account == c.account)
        .ok_or_else(|| record_not_found(id))?;
    let v = order_document(e, o, &public_base(headers, "commercelayer"), &opts, now)?;
    Ok(api_json(StatusCode::OK, &v))
}

pub(super) fn list(e: &Emulator, call: &Call) -> ApiResult {
    let (q, headers) = (&call.query[..], &call.headers);
    let now = e.now();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Listing orders")?;
    let opts = order_opts(q, true)?;
    let mut found: Vec<&Order> = e
        .orders
        .values()
        .filter(|o| o.account == c.account)
        .filter(|o| {
            opts.reference_eq
                .as_deref()
                .is_none_or(|r| o.attr_str("reference") == Some(r))
        })
        .collect();
    found.sort_by_key(|o| std::cmp::Reverse(o.seq));
    let count = found.len();
    let base = public_base(headers, "commercelayer");
    let mut data = Vec::new();
    let mut included = Vec::new();
    for o in found
        .iter()
        .skip((opts.page_number - 1).saturating_mul(opts.page_size))
        .take(opts.page_size)
    {
        data.push(order_resource(e, o, &base, &opts.include));
        for name in &opts.include {
            included.extend(order_included(e, o, name, &base, now));
        }
    }
    let mut v = document(Value::Array(data), included, &opts)?;
    v["meta"] = json!({
        "record_count": count,
        "page_count": count.div_ceil(opts.page_size),
    });
    Ok(api_json(StatusCode::OK, &v))
}

pub(super) fn update(e: &mut Emulator, call: &Call) -> ApiResult {
    let (id, q, headers, body) = (
        call.id.as_str(),
        &call.query[..],
        &call.headers,
        &call.body[..],
    );
    let now = e.now();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Updating an order")?;
    let opts = order_opts(q, false)?;
    let mut o = e
        .orders
        .get(id)
        .filter(|o| o.account == c.account)
        .cloned()
        .ok_or_else(|| record_not_found(id))?;
    let doc = parse_doc(body, "orders", Some(id))?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, ORDER_ATTRS, ORDER_TRIGGERS],
        not_emulated: ORDER_UPDATE_NOT_EMULATED,
        removed: &[],
        rels: &["market", "payment_method"],
        rels_not_emulated: ORDER_RELS_NOT_EMULATED,
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    order_value_rules(&doc, &acct, None, &mut errs);
    if !o.editable() {
        let frozen = |name: &str| {
            invalid_attr(
                name,
                &format!("cannot be changed once the order is {}", o.status),
                "not_editable",
            )
        };
        for name in doc.attrs.keys() {
            let plain = !name.starts_with('_') && !ALWAYS_EDITABLE.contains(&name.as_str());
            let address = name.contains("address");
            if plain || address {
                errs.push(frozen(name));
            }
        }
        if doc.rel("payment_method").is_some() {
            errs.push(invalid_rel(
                "payment_method",
                &format!("cannot be changed once the order is {}", o.status),
                "not_editable",
            ));
        }
    }
    for name in ["_billing_address_clone_id", "_shipping_address_clone_id"] {
        if let Some(a) = doc.str(name) {
            if a != acct.a.address_id {
                errs.push(invalid_attr(
                    name,
                    &format!("address {a} was not found"),
                    "invalid",
                ));
            }
        }
    }
    let billing_after =
        o.billing_address.is_some() || doc.str("_billing_address_clone_id").is_some();
    let shipping_after =
        o.shipping_address.is_some() || doc.str("_shipping_address_clone_id").is_some();
    if doc.flag("_shipping_address_same_as_billing") && !billing_after {
        errs.push(invalid_attr(
            "_shipping_address_same_as_billing",
            "the order has no billing address to clone",
            "blank",
        ));
    }
    if doc.flag("_billing_address_same_as_shipping") && !shipping_after {
        errs.push(invalid_attr(
            "_billing_address_same_as_shipping",
            "the order has no shipping address to clone",
            "blank",
        ));
    }
    check(errs)?;

    apply_order_attrs(&mut o, &doc);
    let mut addressed = false;
    if doc.str("_billing_address_clone_id").is_some() {
        o.billing_address = Some(rand_id(10));
        addressed = true;
    }
    if doc.str("_shipping_address_clone_id").is_some() {
        o.shipping_address = Some(rand_id(10));
        addressed = true;
    }
    if doc.flag("_shipping_address_same_as_billing") {
        o.shipping_address = Some(rand_id(10));
        addressed = true;
    }
    if doc.flag("_billing_address_same_as_shipping") {
        o.billing_address = Some(rand_id(10));
        addressed = true;
    }
    if o.shipping_address.is_some() && (addressed || doc.flag("_update_taxes")) {
        o.tax_calculations += 1;
    }
    if doc.flag("_refresh") {
        o.refreshed_at = Some(now);
    }
    o.refresh_status();
    let total = amounts(&o, &acct).total;
    let declined = |k: TxKind| e.declines.contains(&k);
    let mut trigger_errs = Vec::new();
    // In the order a request that names several would need them.
    let fired = [
        (
            "_place",
            doc.flag("_place").then(|| place(&mut o, total, now)),
        ),
        (
            "_approve",
            doc.flag("_approve").then(|| approve(&mut o, now)),
        ),
        (
            "_approve_and_capture",
            doc.flag("_approve_and_capture")
                .then(|| approve_and_capture(&mut o, declined(TxKind::Capture), now)),
        ),
        (
            "_capture",
            doc.flag("_capture")
                .then(|| capture_order(&mut o, declined(TxKind::Capture), now)),
        ),
        (
            "_cancel",
            doc.flag("_cancel")
                .then(|| cancel(&mut o, declined(TxKind::Void), now)),
        ),
    ];
    for (_, result) in fired {
        if let Some(Err(refusal)) = result {
            trigger_errs.push(refusal.error());
        }
    }
    check(trigger_errs)?;
    o.refresh_status();
    o.updated_at = now;
    let base = public_base(headers, "commercelayer");
    let v = order_document(e, &o, &base, &opts, now)?;
    e.orders.insert(o.id.clone(), o);
    Ok(api_json(StatusCode::OK, &v))
}
