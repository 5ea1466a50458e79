//! Links to an order's hosted checkout: create, read, update.
//!
//! Rules:
//! - Links (NOTES A11): `POST /api/links` (`name`, `client_id` = the account's sales channel,
//!   `scope` = `market:id:<market>`, optional `starts_at`, `expires_at` (future, after
//!   `starts_at`, default one month), `params`, relationship `item` = an order), `GET` and
//!   `PATCH /api/links/{id}` (`_disable`, `_enable` and the attributes of create). `url` is
//!   `<base>/link/<id>` (real: `https://commercelayer.link/...`); `status` is `disabled`,
//!   `expired`, `pending` (before `starts_at`) or `active`.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - Links: only `orders` items (`skus`/`sku_lists` are `422`); an unknown order is 404;
//!   `domain` is not emulated. A link page before `starts_at` is a 403 page.

use super::auth::{api_caller, integration_only};
use super::errors::{
    api_json, blank_attr, check, invalid_attr, record_not_found, ApiError, ApiResult,
};
use super::jsonapi::Kind::{Bool, Obj, Str, Time};
use super::jsonapi::{
    document, ident, map, parse_doc, parse_query, resource, Doc, Fields, Kind, REFERENCE_ATTRS,
};
use super::orders::related_order;
use super::{parse_time, rand_id, time_value, Acct, Call, Emulator, Link};
use crate::common::public_base;
use axum::http::StatusCode;
use serde_json::{json, Value};

const LINK_DEFAULT_LIFETIME_MS: i64 = 30 * 24 * 3600 * 1000;

pub(super) fn link_resource(e: &Emulator, l: &Link, base: &str, now: i64) -> Value {
    let acct = e.acct(&l.account);
    let status = l.status(now);
    let mut a = map(vec![
        ("name", json!(l.name)),
        ("client_id", json!(l.client_id)),
        ("scope", json!(l.scope)),
        ("starts_at", time_value(Some(l.starts_at))),
        ("expires_at", time_value(Some(l.expires_at))),
        ("active", json!(status == "active")),
        ("status", json!(status)),
        ("domain", json!("commercelayer.link")),
        ("url", json!(format!("{base}/link/{}", l.id))),
        ("item_type", json!("orders")),
        ("params", l.params.clone()),
        ("disabled_at", time_value(l.disabled_at)),
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
        "links",
        &l.id,
        acct,
        a,
        &[
            ("item", Some(ident("orders", &l.order_id))),
            ("events", None),
        ],
    )
}

const LINK_ATTRS: &[(&str, Kind)] = &[
    ("name", Str),
    ("client_id", Str),
    ("scope", Str),
    ("starts_at", Time),
    ("expires_at", Time),
    ("params", Obj),
    ("_disable", Bool),
    ("_enable", Bool),
];
const LINK_CREATE_ONLY: &[(&str, Kind)] = &[("item_type", Str)];

/// The rules of a link's attributes, against the values it will have.
fn link_rules(doc: &Doc, acct: &Acct, starts_at: i64, expires_at: i64, now: i64) -> Vec<ApiError> {
    let mut errs = Vec::new();
    if let Some(id) = doc.str("client_id") {
        if id != acct.a.sales_channel_client_id {
            errs.push(invalid_attr(
                "client_id",
                "is not the client id of a sales channel of this organization",
                "invalid",
            ));
        }
    }
    if let Some(sc) = doc.str("scope") {
        if sc != acct.scope() {
            errs.push(invalid_attr(
                "scope",
                &format!("must be {} (the sales channel's market)", acct.scope()),
                "invalid",
            ));
        }
    }
    if doc.get("expires_at").is_some() && expires_at <= now {
        errs.push(invalid_attr(
            "expires_at",
            "must be in the future",
            "greater_than",
        ));
    } else if expires_at <= starts_at {
        errs.push(invalid_attr(
            "expires_at",
            "must be after starts_at",
            "greater_than",
        ));
    }
    if doc.flag("_disable") && doc.flag("_enable") {
        errs.push(invalid_attr(
            "_enable",
            "cannot be sent with _disable",
            "invalid",
        ));
    }
    if let Some(t) = doc.str("item_type") {
        if t != "orders" {
            errs.push(invalid_attr(
                "item_type",
                "only orders links are emulated by the Kassa sandbox",
                "inclusion",
            ));
        }
    }
    errs
}

pub(super) fn create(e: &mut Emulator, call: &Call) -> ApiResult {
    let (q, headers, body) = (&call.query[..], &call.headers, &call.body[..]);
    let now = e.now();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Managing links")?;
    let opts = parse_query(q, "links", &[], &["item", "events"], false)?;
    let doc = parse_doc(body, "links", None)?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, LINK_ATTRS, LINK_CREATE_ONLY],
        not_emulated: &["domain"],
        removed: &[],
        rels: &["item"],
        rels_not_emulated: &[],
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    for name in ["name", "client_id", "scope"] {
        if doc.str(name).is_none_or(|v| v.trim().is_empty()) {
            errs.push(blank_attr(name));
        }
    }
    let not_an_order = (
        "only orders links are emulated by the Kassa sandbox",
        "inclusion",
    );
    let order_id =
        related_order(e, &doc, "item", &c.account, not_an_order, &mut errs)?.map(|o| o.id.clone());
    let starts_at = doc.str("starts_at").and_then(parse_time).unwrap_or(now);
    let expires_at = doc
        .str("expires_at")
        .and_then(parse_time)
        .unwrap_or(now + LINK_DEFAULT_LIFETIME_MS);
    errs.extend(link_rules(&doc, &acct, starts_at, expires_at, now));
    check(errs)?;
    let attrs = doc.reference_attrs();
    let l = Link {
        id: rand_id(10),
        account: c.account,
        order_id: order_id.expect("checked above"),
        name: doc.str("name").unwrap_or_default().to_string(),
        client_id: doc.str("client_id").unwrap_or_default().to_string(),
        scope: doc.str("scope").unwrap_or_default().to_string(),
        starts_at,
        expires_at,
        disabled_at: doc.flag("_disable").then_some(now),
        params: doc.get("params").cloned().unwrap_or(json!({})),
        attrs,
        created_at: now,
        updated_at: now,
    };
    let base = public_base(headers, "commercelayer");
    let v = document(link_resource(e, &l, &base, now), Vec::new(), &opts)?;
    e.links.insert(l.id.clone(), l);
    Ok(api_json(StatusCode::CREATED, &v))
}

pub(super) fn get(e: &Emulator, call: &Call) -> ApiResult {
    let (id, q, headers) = (call.id.as_str(), &call.query[..], &call.headers);
    let now = e.now();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Managing links")?;
    let opts = parse_query(q, "links", &[], &["item", "events"], false)?;
    let l = e
        .links
        .get(id)
        .filter(|l| l.account == c.account)
        .ok_or_else(|| record_not_found(id))?;
    let v = document(
        link_resource(e, l, &public_base(headers, "commercelayer"), now),
        Vec::new(),
        &opts,
    )?;
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
    integration_only(&c, "Managing links")?;
    let opts = parse_query(q, "links", &[], &["item", "events"], false)?;
    if e.links.get(id).is_none_or(|l| l.account != c.account) {
        return Err(record_not_found(id).into());
    }
    let doc = parse_doc(body, "links", Some(id))?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, LINK_ATTRS],
        not_emulated: &["domain"],
        removed: &[],
        rels: &[],
        rels_not_emulated: &["item"],
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    for name in ["name", "client_id", "scope"] {
        if doc.attrs.contains_key(name) && doc.str(name).is_none_or(|v| v.trim().is_empty()) {
            errs.push(blank_attr(name));
        }
    }
    let l = &e.links[id];
    let starts_at = doc
        .str("starts_at")
        .and_then(parse_time)
        .unwrap_or(l.starts_at);
    let expires_at = doc
        .str("expires_at")
        .and_then(parse_time)
        .unwrap_or(l.expires_at);
    errs.extend(link_rules(&doc, &acct, starts_at, expires_at, now));
    check(errs)?;
    let l = e.links.get_mut(id).expect("checked above");
    for (name, field) in [
        ("name", &mut l.name),
        ("client_id", &mut l.client_id),
        ("scope", &mut l.scope),
    ] {
        if let Some(v) = doc.str(name) {
            *field = v.to_string();
        }
    }
    l.starts_at = starts_at;
    l.expires_at = expires_at;
    if let Some(p) = doc.attrs.get("params") {
        l.params = if p.is_null() { json!({}) } else { p.clone() };
    }
    if doc.flag("_disable") && l.disabled_at.is_none() {
        l.disabled_at = Some(now);
    }
    if doc.flag("_enable") {
        l.disabled_at = None;
    }
    l.attrs.extend(doc.reference_attrs());
    l.updated_at = now;
    let base = public_base(headers, "commercelayer");
    let v = document(
        link_resource(e, &e.links[id], &base, now),
        Vec::new(),
        &opts,
    )?;
    Ok(api_json(StatusCode::OK, &v))
}
