//! The JSON:API conventions every resource follows: media types, refused attributes,
//! sparse fieldsets and includes, and the writable fields against the resource metadata.

use crate::common::{
    add_line, api, api_request, assert_errors, assert_refusals_follow_the_metadata, control_get,
    create_order, detail_at, get, integration, json_of, metadata_fields, order, order_body,
    sample_value, sandbox, send, shop, JSON_API, SHOP_MARKET, US_MARKET,
};
use kassa_core::http::{Method, Request};
use kassa_core::time::{format_rfc3339, now_millis};
use serde_json::json;

#[test]
fn media_types_are_json_api() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let url = format!("{}/api/markets/{SHOP_MARKET}", s.commercelayer_base_url());
    let auth = format!("Bearer {token}");
    for accept in [None, Some("application/json"), Some("*/*")] {
        let mut r = Request::new(Method::Get, url.clone()).header("authorization", auth.clone());
        if let Some(a) = accept {
            r = r.header("accept", a);
        }
        let r = send(r);
        assert_eq!(r.status, 406, "{accept:?}");
        assert_eq!(r.content_type.as_deref(), Some(JSON_API));
        assert_eq!(json_of(&r)["errors"][0]["code"], "NOT_ACCEPTABLE");
    }
    let r = send(
        Request::new(Method::Get, url)
            .header("authorization", auth.clone())
            .header("accept", format!("application/json, {JSON_API}")),
    );
    assert_eq!(r.status, 200);
    assert_eq!(json_of(&r)["data"]["type"], "markets");
    // Writes need the JSON:API content type, without parameters.
    let body = order_body(json!({}), SHOP_MARKET).to_string().into_bytes();
    for ct in [
        "application/json",
        "application/vnd.api+json; charset=utf-8",
    ] {
        let mut r = Request::new(
            Method::Post,
            format!("{}/api/orders", s.commercelayer_base_url()),
        )
        .header("authorization", auth.clone())
        .header("accept", JSON_API)
        .header("content-type", ct);
        r.body = Some(body.clone());
        let r = send(r);
        assert_eq!(r.status, 415, "{ct}");
        assert_eq!(json_of(&r)["errors"][0]["code"], "UNSUPPORTED_MEDIA_TYPE");
    }
    // Not JSON at all.
    let mut r = api_request(&s, Method::Post, &token, "/api/orders", Some(json!({})));
    r.body = Some(b"{not json".to_vec());
    let r = send(r);
    assert_eq!(r.status, 400);
    assert_eq!(json_of(&r)["errors"][0]["code"], "BAD_REQUEST");
}

#[test]
fn unknown_and_read_only_attributes_are_refused() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let (st, v) = api(
        &s,
        Method::Post,
        &token,
        "/api/orders",
        Some(order_body(
            json!({"status": "placed", "foo": 1, "coupon_code": "SUMMER", "reference": "ok"}),
            SHOP_MARKET,
        )),
    );
    assert_eq!(st, 400);
    let details = assert_errors(
        400,
        &v,
        &[
            ("PARAM_NOT_ALLOWED", "/data/attributes/status"),
            ("PARAM_NOT_ALLOWED", "/data/attributes/foo"),
            ("PARAM_NOT_ALLOWED", "/data/attributes/coupon_code"),
        ],
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/foo"),
        "foo is not allowed."
    );
    assert!(detail_at(&details, "/data/attributes/coupon_code").contains("does not emulate"));
    // Client ids and unknown members of data.
    let mut body = order_body(json!({}), SHOP_MARKET);
    body["data"]["id"] = json!("myOwnId");
    body["data"]["meta"] = json!({});
    let (st, v) = api(&s, Method::Post, &token, "/api/orders", Some(body));
    assert_eq!(st, 400);
    assert_errors(
        400,
        &v,
        &[
            ("PARAM_NOT_ALLOWED", "/data/id"),
            ("PARAM_NOT_ALLOWED", "/data/meta"),
        ],
    );
    let mut body = order_body(json!({}), SHOP_MARKET);
    body["data"]["type"] = json!("order");
    let (st, v) = api(&s, Method::Post, &token, "/api/orders", Some(body));
    assert_eq!(st, 400);
    assert_errors(400, &v, &[("TYPE_MISMATCH", "/data/type")]);
    // Values: all problems at once.
    let (st, v) = api(
        &s,
        Method::Post,
        &token,
        "/api/orders",
        Some(json!({"data": {"type": "orders", "attributes": {
            "expires_at": format_rfc3339(now_millis() - 60_000), "customer_email": "not an email",
            "return_url": "shop.example/done", "language_code": "Norwegian", "guest": "yes"}}})),
    );
    assert_eq!(st, 422);
    let details = assert_errors(
        422,
        &v,
        &[
            ("VALIDATION_ERROR", "/data/attributes/expires_at"),
            ("VALIDATION_ERROR", "/data/attributes/customer_email"),
            ("VALIDATION_ERROR", "/data/attributes/return_url"),
            ("VALIDATION_ERROR", "/data/attributes/language_code"),
            ("VALIDATION_ERROR", "/data/attributes/guest"),
            ("VALIDATION_ERROR", "/data/relationships/market"),
        ],
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/expires_at"),
        "expires_at - must be in the future"
    );
    assert_eq!(
        detail_at(&details, "/data/relationships/market"),
        "market - can't be blank"
    );
    // Another organization's market.
    let (st, v) = api(
        &s,
        Method::Post,
        &token,
        "/api/orders",
        Some(order_body(json!({}), US_MARKET)),
    );
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/relationships/market")],
    );
    // An expires_at with an offset is a valid RFC 3339 time.
    let o = create_order(
        &s,
        &token,
        SHOP_MARKET,
        json!({"expires_at": "2999-01-01T12:00:00+02:00"}),
    );
    assert_eq!(o["attributes"]["expires_at"], "2999-01-01T10:00:00.000Z");
    // Read-only line item fields.
    let id = o["id"].as_str().unwrap();
    let (st, v) = add_line(
        &s,
        &token,
        id,
        json!({"name": "x", "quantity": 1, "unit_amount_cents": 100, "total_amount_cents": 100,
               "tax_amount_cents": 20, "image_url": "https://x.example/i.png"}),
    );
    assert_eq!(st, 400);
    let details = assert_errors(
        400,
        &v,
        &[
            ("PARAM_NOT_ALLOWED", "/data/attributes/total_amount_cents"),
            ("PARAM_NOT_ALLOWED", "/data/attributes/tax_amount_cents"),
            ("PARAM_NOT_ALLOWED", "/data/attributes/image_url"),
        ],
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/tax_amount_cents"),
        "tax_amount_cents is not allowed."
    );
    assert!(order(&s, &token, id, "")["data"]["relationships"]["line_items"]["data"].is_null());
    let c = control_get(&s, &format!("/orders/{id}"));
    assert_eq!(c["data"]["relationships"]["line_items"]["data"], json!([]));
}

#[test]
fn sparse_fieldsets_and_includes() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let o = create_order(&s, &token, SHOP_MARKET, json!({}));
    let id = o["id"].as_str().unwrap();
    let v = order(&s, &token, id, "?fields[orders]=status,payment_status");
    assert_eq!(
        v["data"]["attributes"],
        json!({"status": "draft", "payment_status": "unpaid"})
    );
    assert_eq!(v["data"]["relationships"], json!({}));
    assert!(v.get("included").is_none());
    // Without include, relationships carry links but no data.
    let v = order(&s, &token, id, "");
    let rel = &v["data"]["relationships"]["line_items"];
    assert!(rel["links"]["related"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/orders/{id}/line_items")));
    assert!(rel.get("data").is_none());
    let bad = [
        (
            "?fields[orders]=status,nope",
            "INVALID_FIELD",
            "fields[orders]",
        ),
        ("?fields[widgets]=a", "INVALID_RESOURCE", "fields[widgets]"),
        ("?include=customer", "INVALID_INCLUDE", "include"),
        ("?include=line_items.item", "INVALID_INCLUDE", "include"),
        ("?sort=-created_at", "PARAM_NOT_ALLOWED", "sort"),
        ("?foo=bar", "PARAM_NOT_ALLOWED", "foo"),
    ];
    for (query, code, param) in bad {
        let (st, v) = get(&s, &token, &format!("/api/orders/{id}{query}"));
        assert_eq!(st, 400, "{query}");
        assert_errors(400, &v, &[(code, param)]);
    }
    let (st, m) = get(&s, &token, &format!("/api/markets/{SHOP_MARKET}"));
    assert_eq!(st, 200);
    assert_eq!(m["data"]["type"], "markets");
    assert!(m["data"]["attributes"]["name"].is_string());
    assert!(m.get("included").is_none());
    assert_eq!(get(&s, &token, "/api/markets/nOtOuRmArKeT").0, 404);
}

/// Every writable field the official resource metadata lists (the subset kept in
/// `spec/commercelayer-resources-subset.json`) is either emulated or refused as "not
/// emulated", and every read-only one is refused.
#[test]
fn the_writable_fields_match_the_resource_metadata() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let o = create_order(&s, &token, SHOP_MARKET, json!({}));
    let id = o["id"].as_str().unwrap().to_string();
    let cases = [
        ("order", "orders", "creatable"),
        ("order", "orders", "updatable"),
        ("line_item", "line_items", "creatable"),
        ("checkout_com_payment", "checkout_com_payments", "creatable"),
        ("link", "links", "creatable"),
    ];
    for (resource, ty, flag) in cases {
        let all = metadata_fields(resource);
        let mut attrs = serde_json::Map::new();
        for (name, f) in &all {
            attrs.insert(name.clone(), sample_value(name, f));
        }
        let mut body = json!({"data": {"type": ty, "attributes": attrs}});
        let path = if flag == "updatable" {
            body["data"]["id"] = json!(id);
            format!("/api/{ty}/{id}")
        } else {
            format!("/api/{ty}")
        };
        let method = if flag == "updatable" {
            Method::Patch
        } else {
            Method::Post
        };
        let (st, v) = api(&s, method, &token, &path, Some(body));
        assert_eq!(st, 400, "{resource}: {v}");
        assert_refusals_follow_the_metadata(resource, flag, &v);
    }
}
