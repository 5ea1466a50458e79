//! The JSON:API machinery every resource uses: media types, request documents and the two
//! passes that check them (names, then values), query parameters (`include`, sparse
//! fieldsets, the reference filter, pages) and the answer documents. Not for: one resource's
//! attributes and checks (its own file).
//!
//! Rules:
//! - Every `/api` request: `Authorization: Bearer` (missing, unknown, expired → `401
//!   UNAUTHORIZED`), `Accept` must include `application/vnd.api+json` (`406 NOT_ACCEPTABLE`),
//!   writes must have `Content-Type: application/vnd.api+json` exactly (`415
//!   UNSUPPORTED_MEDIA_TYPE`). Answers are `application/vnd.api+json` JSON:API documents;
//!   resources carry `links.self`, `attributes`, `relationships` (`links.self`/`related`
//!   always, `data` only for included relationships) and `meta {mode: test, organization_id}`.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - Auth is checked before `Accept`/`Content-Type` (the real order is UNCONFIRMED); a missing
//!   `Accept` header is a 406 (strict; real CL may treat it as `*/*`: UNCONFIRMED);
//!   `Content-Type` with media type parameters is a 415 (JSON:API 1.0).
//! - The code for an attribute that is unknown or not writable is `400 PARAM_NOT_ALLOWED`
//!   (UNCONFIRMED, NOTES A10.1: "most likely rejected as unknown attributes (400)"); the detail
//!   of `payment_type`/`session_id` says they were removed (the real text is UNCONFIRMED).
//!   Real, writable attributes the sandbox does not emulate (`coupon_code`, `bundle_code`,
//!   `image_url`, `_authorize`, `domain`, ...) are refused the same way, the detail saying "a real
//!   Commerce Layer field that the Kassa sandbox does not emulate". Booleans must be JSON booleans and integers JSON integers
//!   (real CL may cast `"1"`: UNCONFIRMED); `unit_amount_cents` and `quantity` are at most
//!   2147483647 (UNCONFIRMED).
//! - Lists filter only by `filter[q][reference_eq]` (the predicate's name is UNCONFIRMED,
//!   NOTES A15); any other filter is `400 FILTER_NOT_ALLOWED` and `sort` is
//!   `400 PARAM_NOT_ALLOWED` ("does not emulate").

use super::errors::{
    attr_ptr, bad_request, check, invalid_attr, not_allowed, rel_ptr, ApiError, Errors,
    NOT_EMULATED,
};
use super::{parse_time, Acct};
use crate::common::is_http_url;
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use Kind::{Obj, Str};

pub(super) const JSON_API: &str = "application/vnd.api+json";

const PAGE_SIZE_DEFAULT: usize = 10;
const PAGE_SIZE_MAX: usize = 25;

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// `Accept` must include `application/vnd.api+json` (else 406); a write's `Content-Type` must
/// be exactly that (else 415).
pub(super) fn check_media_types(headers: &HeaderMap, write: bool) -> Result<(), Errors> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let accepts = accept.split(',').any(|range| {
        range
            .split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case(JSON_API))
    });
    if !accepts {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "Not acceptable",
            format!("All requests must use the '{JSON_API}' Accept header. This request specified '{accept}'."),
        )
        .into());
    }
    if write {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !ct.trim().eq_ignore_ascii_case(JSON_API) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Unsupported media type",
                format!("All requests that create or update must use the '{JSON_API}' Content-Type. This request specified '{ct}'."),
            )
            .into());
        }
    }
    Ok(())
}

/// A JSON:API request document, its shape checked.
pub(super) struct Doc {
    pub(super) attrs: Map<String, Value>,
    /// Relationship name → `null` or `{"type", "id"}`.
    pub(super) rels: Map<String, Value>,
}

impl Doc {
    /// A non-null attribute.
    pub(super) fn get(&self, name: &str) -> Option<&Value> {
        self.attrs.get(name).filter(|v| !v.is_null())
    }

    pub(super) fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    pub(super) fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_i64)
    }

    pub(super) fn flag(&self, name: &str) -> bool {
        self.get(name) == Some(&Value::Bool(true))
    }

    /// The `reference`, `reference_origin` and `metadata` it sets: every resource keeps them
    /// as sent.
    pub(super) fn reference_attrs(&self) -> Map<String, Value> {
        REFERENCE_ATTRS
            .iter()
            .filter_map(|(name, _)| Some((name.to_string(), self.attrs.get(*name)?.clone())))
            .collect()
    }

    /// `None`: absent; `Some(None)`: `null`; else `(type, id)`.
    pub(super) fn rel(&self, name: &str) -> Option<Option<(&str, &str)>> {
        let d = self.rels.get(name)?;
        Some(
            d.get("type")
                .and_then(Value::as_str)
                .zip(d.get("id").and_then(Value::as_str)),
        )
    }
}

/// `{"data": {"type", "id"}}` or `{"data": null}`.
fn linkage(r: &Value) -> Option<Value> {
    let o = r.as_object()?;
    let d = o.get("data").filter(|_| o.len() == 1)?;
    match d {
        Value::Null => Some(Value::Null),
        Value::Object(m)
            if m.len() == 2
                && m.get("type").is_some_and(Value::is_string)
                && m.get("id").is_some_and(Value::is_string) =>
        {
            Some(d.clone())
        }
        _ => None,
    }
}

/// Checks the document's shape: `data` with `type` (= `ty`), `id` (only on update, equal to
/// the path's), `attributes` and `relationships` objects.
pub(super) fn parse_doc(body: &[u8], ty: &str, path_id: Option<&str>) -> Result<Doc, Errors> {
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        bad_request(
            "BAD_REQUEST",
            "Bad request",
            format!("The request body is not valid JSON: {e}"),
        )
    })?;
    let Some(obj) = root.as_object() else {
        return Err(bad_request(
            "INVALID_DATA_FORMAT",
            "Invalid data format",
            "The request body must be a JSON object with a data member.",
        )
        .into());
    };
    let mut errs: Vec<ApiError> = obj
        .keys()
        .filter(|k| *k != "data")
        .map(|k| not_allowed(format!("/{k}"), k, None))
        .collect();
    let Some(data) = obj.get("data").and_then(Value::as_object) else {
        errs.push(
            bad_request(
                "PARAM_MISSING",
                "Missing Parameter",
                "The required parameter, data, is missing.",
            )
            .at("/data"),
        );
        return Err(Errors(errs));
    };
    for k in data.keys() {
        if !["type", "id", "attributes", "relationships"].contains(&k.as_str()) {
            errs.push(not_allowed(format!("/data/{k}"), k, None));
        }
    }
    match data.get("type") {
        None => errs.push(
            bad_request(
                "PARAM_MISSING",
                "Missing Parameter",
                "The required parameter, type, is missing.",
            )
            .at("/data/type"),
        ),
        Some(t) if t.as_str() == Some(ty) => {}
        Some(t) => {
            let shown = t.as_str().map_or_else(|| t.to_string(), str::to_string);
            errs.push(
                bad_request(
                    "TYPE_MISMATCH",
                    "Type Mismatch",
                    format!("{shown} is not a valid type for this operation."),
                )
                .at("/data/type"),
            );
        }
    }
    match (data.get("id"), path_id) {
        (None, None) => {}
        (Some(_), None) => errs.push(not_allowed(
            "/data/id".into(),
            "id",
            Some("ids are assigned by Commerce Layer"),
        )),
        (None, Some(_)) => errs.push(
            bad_request(
                "PARAM_MISSING",
                "Missing Parameter",
                "The required parameter, id, is missing.",
            )
            .at("/data/id"),
        ),
        (Some(v), Some(p)) => {
            if v.as_str() != Some(p) {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                errs.push(
                    bad_request(
                        "KEY_NOT_INCLUDED_IN_URL",
                        "Key is not included in URL",
                        format!("The URL does not support the key {shown}"),
                    )
                    .at("/data/id"),
                );
            }
        }
    }
    let attrs = match data.get("attributes") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            errs.push(
                bad_request(
                    "INVALID_DATA_FORMAT",
                    "Invalid data format",
                    "attributes must be an object.",
                )
                .at("/data/attributes"),
            );
            Map::new()
        }
    };
    let mut rels = Map::new();
    match data.get("relationships") {
        None => {}
        Some(Value::Object(m)) => {
            for (name, r) in m {
                match linkage(r) {
                    Some(d) => {
                        rels.insert(name.clone(), d);
                    }
                    None => errs.push(
                        bad_request(
                            "INVALID_LINKS_OBJECT",
                            "Invalid Links Object",
                            "Data is not a valid Links Object.",
                        )
                        .at(rel_ptr(name)),
                    ),
                }
            }
        }
        Some(_) => errs.push(
            bad_request(
                "INVALID_DATA_FORMAT",
                "Invalid data format",
                "relationships must be an object.",
            )
            .at("/data/relationships"),
        ),
    }
    check(errs)?;
    Ok(Doc { attrs, rels })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    Bool,
    Int,
    Obj,
    Time,
    Url,
    Email,
    Lang,
}

/// What a resource accepts in a create or an update.
pub(super) struct Fields<'a> {
    pub(super) attrs: &'a [&'a [(&'a str, Kind)]],
    /// Real writable attributes the sandbox does not emulate.
    pub(super) not_emulated: &'a [&'a str],
    /// Attributes Commerce Layer removed, with what the detail says.
    pub(super) removed: &'a [(&'a str, &'a str)],
    pub(super) rels: &'a [&'a str],
    pub(super) rels_not_emulated: &'a [&'a str],
}

impl Fields<'_> {
    pub(super) fn kind(&self, name: &str) -> Option<Kind> {
        self.attrs
            .iter()
            .flat_map(|list| list.iter())
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }

    /// Pass one (400): names that are not accepted.
    pub(super) fn names(&self, doc: &Doc) -> Vec<ApiError> {
        let mut errs = Vec::new();
        for name in doc.attrs.keys() {
            if self.kind(name).is_some() {
                continue;
            }
            let hint = if let Some((_, why)) = self.removed.iter().find(|(n, _)| n == name) {
                Some(*why)
            } else if self.not_emulated.contains(&name.as_str()) {
                Some(NOT_EMULATED)
            } else {
                None
            };
            errs.push(not_allowed(attr_ptr(name), name, hint));
        }
        for name in doc.rels.keys() {
            if self.rels.contains(&name.as_str()) {
                continue;
            }
            let hint = self
                .rels_not_emulated
                .contains(&name.as_str())
                .then_some(NOT_EMULATED);
            errs.push(not_allowed(rel_ptr(name), name, hint));
        }
        errs
    }

    /// Pass two (422): the values' types (`null` passes; the handlers decide what it means).
    pub(super) fn kinds(&self, doc: &Doc) -> Vec<ApiError> {
        let mut errs = Vec::new();
        for (name, v) in &doc.attrs {
            let Some(kind) = self.kind(name) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            let s = v.as_str();
            let problem = match kind {
                Kind::Str => (!v.is_string()).then_some("must be a string"),
                Kind::Bool => (!v.is_boolean()).then_some("must be true or false"),
                Kind::Int => v.as_i64().is_none().then_some("must be an integer"),
                Kind::Obj => (!v.is_object()).then_some("must be an object"),
                Kind::Time => s
                    .and_then(parse_time)
                    .is_none()
                    .then_some("must be an RFC 3339 date-time"),
                Kind::Url => (!s
                    .is_some_and(|u| is_http_url(u) && !u.contains(char::is_whitespace)))
                .then_some("must be an http(s) URL"),
                Kind::Email => (!s.is_some_and(valid_email)).then_some("is invalid"),
                Kind::Lang => (!s
                    .is_some_and(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase())))
                .then_some("must be an ISO 639-1 language code"),
            };
            if let Some(message) = problem {
                let error = if kind == Kind::Int {
                    "not_an_integer"
                } else {
                    "invalid"
                };
                errs.push(invalid_attr(name, message, error));
            }
        }
        errs
    }
}

/// The query parameters of an API request.
#[derive(Default)]
pub(super) struct Opts {
    pub(super) include: Vec<String>,
    pub(super) fields: HashMap<String, Vec<String>>,
    pub(super) reference_eq: Option<String>,
    pub(super) page_size: usize,
    pub(super) page_number: usize,
}

const RESOURCE_TYPES: &[&str] = &[
    "orders",
    "line_items",
    "payment_methods",
    "checkout_com_payments",
    "links",
    "authorizations",
    "captures",
    "voids",
    "refunds",
    "markets",
    "price_lists",
];

const REFERENCE_FILTER: &str = "filter[q][reference_eq]";

/// Parses `include`, `fields[...]` and, for lists, the reference filter and the page.
pub(super) fn parse_query(
    q: &[(String, String)],
    resource: &str,
    includes: &[&str],
    includes_not_emulated: &[&str],
    list: bool,
) -> Result<Opts, Errors> {
    let mut o = Opts {
        page_size: PAGE_SIZE_DEFAULT,
        page_number: 1,
        ..Opts::default()
    };
    let mut errs = Vec::new();
    for (key, value) in q {
        if key == "include" {
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if includes.contains(&name) {
                    if !o.include.iter().any(|i| i == name) {
                        o.include.push(name.to_string());
                    }
                } else {
                    let hint = if includes_not_emulated.contains(&name) {
                        format!(" ({NOT_EMULATED})")
                    } else {
                        String::new()
                    };
                    errs.push(
                        bad_request(
                            "INVALID_INCLUDE",
                            "Invalid field",
                            format!("{name} is not a valid relationship of {resource}{hint}"),
                        )
                        .param("include"),
                    );
                }
            }
        } else if let Some(ty) = key
            .strip_prefix("fields[")
            .and_then(|k| k.strip_suffix(']'))
        {
            if RESOURCE_TYPES.contains(&ty) {
                let names = value
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect();
                o.fields.insert(ty.to_string(), names);
            } else {
                errs.push(
                    bad_request(
                        "INVALID_RESOURCE",
                        "Invalid resource",
                        format!("{ty} is not a valid resource."),
                    )
                    .param(key),
                );
            }
        } else if list && key == REFERENCE_FILTER {
            o.reference_eq = Some(value.clone());
        } else if list && key.starts_with("filter[") {
            errs.push(
                bad_request(
                    "FILTER_NOT_ALLOWED",
                    "Filter not allowed",
                    format!(
                        "{key} is not allowed: the Kassa sandbox only emulates {REFERENCE_FILTER}."
                    ),
                )
                .param(key),
            );
        } else if list && (key == "page[size]" || key == "page[number]") {
            let max = if key == "page[size]" {
                PAGE_SIZE_MAX
            } else {
                usize::MAX
            };
            match value.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => {
                    if key == "page[size]" {
                        o.page_size = n;
                    } else {
                        o.page_number = n;
                    }
                }
                _ => errs.push(
                    bad_request(
                        "INVALID_PAGE_VALUE",
                        "Invalid page value",
                        format!("{value} is not a valid value for {key}."),
                    )
                    .param(key),
                ),
            }
        } else {
            let hint = if key == "sort" || (!list && key.starts_with("filter[")) {
                format!(": {NOT_EMULATED}")
            } else {
                ".".to_string()
            };
            errs.push(
                bad_request(
                    "PARAM_NOT_ALLOWED",
                    "Param not allowed",
                    format!("{key} is not allowed{hint}"),
                )
                .param(key),
            );
        }
    }
    check(errs)?;
    Ok(o)
}

/// Keeps only the requested fields (`fields[<type>]`) of a rendered resource.
fn apply_fields(r: &mut Value, o: &Opts) -> Result<(), Errors> {
    let Some(ty) = r["type"].as_str().map(str::to_string) else {
        return Ok(());
    };
    let Some(names) = o.fields.get(&ty) else {
        return Ok(());
    };
    let mut errs = Vec::new();
    for n in names {
        let known = r["attributes"].get(n).is_some() || r["relationships"].get(n).is_some();
        if !known {
            errs.push(
                bad_request(
                    "INVALID_FIELD",
                    "Invalid field",
                    format!("{n} is not a valid field for {ty}."),
                )
                .param(&format!("fields[{ty}]")),
            );
        }
    }
    check(errs)?;
    for part in ["attributes", "relationships"] {
        if let Some(m) = r.get_mut(part).and_then(Value::as_object_mut) {
            m.retain(|k, _| names.contains(k));
        }
    }
    Ok(())
}

/// The JSON:API document: `data` (one or a list) and `included`, with sparse fieldsets.
pub(super) fn document(mut data: Value, included: Vec<Value>, o: &Opts) -> Result<Value, Errors> {
    match &mut data {
        Value::Array(list) => {
            for r in list.iter_mut() {
                apply_fields(r, o)?;
            }
        }
        r => apply_fields(r, o)?,
    }
    let mut doc = json!({ "data": data });
    if !o.include.is_empty() {
        let mut seen = HashSet::new();
        let mut list = Vec::new();
        for mut r in included {
            let key = (r["type"].to_string(), r["id"].to_string());
            if seen.insert(key) {
                apply_fields(&mut r, o)?;
                list.push(r);
            }
        }
        doc["included"] = Value::Array(list);
    }
    Ok(doc)
}

fn meta(acct: &Acct) -> Value {
    json!({"mode": "test", "organization_id": acct.organization_id})
}

fn rel_links(base: &str, ty: &str, id: &str, name: &str) -> Value {
    json!({"links": {
        "self": format!("{base}/api/{ty}/{id}/relationships/{name}"),
        "related": format!("{base}/api/{ty}/{id}/{name}"),
    }})
}

pub(super) fn resource(
    base: &str,
    ty: &str,
    id: &str,
    acct: &Acct,
    attributes: Map<String, Value>,
    rels: &[(&str, Option<Value>)],
) -> Value {
    let mut relationships = Map::new();
    for (name, data) in rels {
        let mut r = rel_links(base, ty, id, name);
        if let Some(d) = data {
            r["data"] = d.clone();
        }
        relationships.insert(name.to_string(), r);
    }
    json!({
        "id": id,
        "type": ty,
        "links": {"self": format!("{base}/api/{ty}/{id}")},
        "attributes": attributes,
        "relationships": relationships,
        "meta": meta(acct),
    })
}

pub(super) fn map(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

pub(super) fn ident(ty: &str, id: &str) -> Value {
    json!({"type": ty, "id": id})
}

pub(super) const REFERENCE_ATTRS: &[(&str, Kind)] = &[
    ("reference", Str),
    ("reference_origin", Str),
    ("metadata", Obj),
];
