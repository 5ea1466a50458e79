//! Links to an order's hosted checkout.

use crate::common::{
    api, assert_errors, attr, create_link, create_order, detail_at, in_minutes, integration,
    link_body, page, sandbox, shop, shop_link_attrs, SHOP_MARKET, US_MARKET,
};
use kassa_core::http::Method;
use kassa_core::time::{format_rfc3339, now_millis, parse_utc};
use serde_json::{json, Value};

#[test]
fn links_are_validated() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let o = create_order(&s, &token, SHOP_MARKET, json!({}));
    let id = o["id"].as_str().unwrap();
    let post = |body: Value| api(&s, Method::Post, &token, "/api/links", Some(body));
    let (st, v) = post(link_body(
        id,
        json!({"client_id": "cl-sc-us-9a07", "scope": format!("market:id:{US_MARKET}"),
               "expires_at": format_rfc3339(now_millis() - 1000)}),
    ));
    assert_eq!(st, 422);
    let details = assert_errors(
        422,
        &v,
        &[
            ("VALIDATION_ERROR", "/data/attributes/name"),
            ("VALIDATION_ERROR", "/data/attributes/client_id"),
            ("VALIDATION_ERROR", "/data/attributes/scope"),
            ("VALIDATION_ERROR", "/data/attributes/expires_at"),
        ],
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/scope"),
        format!("scope - must be market:id:{SHOP_MARKET} (the sales channel's market)")
    );
    let mut body = link_body(id, shop_link_attrs());
    body["data"]["relationships"]["item"]["data"] = json!({"type": "skus", "id": "x"});
    let (st, v) = post(body);
    assert_eq!(st, 422);
    assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/relationships/item")]);
    let mut attrs = shop_link_attrs();
    attrs["domain"] = json!("pay.shop.example");
    let (st, v) = post(link_body(id, attrs));
    assert_eq!(st, 400);
    assert_errors(400, &v, &[("PARAM_NOT_ALLOWED", "/data/attributes/domain")]);
    // Before starts_at a link is pending; it defaults to a one-month life.
    let mut attrs = shop_link_attrs();
    attrs["starts_at"] = json!(in_minutes(10));
    attrs.as_object_mut().unwrap().remove("expires_at");
    let link = create_link(&s, &token, id, attrs);
    let link_id = link["id"].as_str().unwrap();
    assert_eq!(link["attributes"]["status"], "pending");
    let expires = parse_utc(link["attributes"]["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires - now_millis()) as f64 / 86_400_000.0;
    assert!((29.9..=30.0).contains(&days), "{days}");
    let (st, _) = page(&format!("{}/link/{link_id}", s.commercelayer_base_url()));
    assert_eq!(st, 403);
    let patch = |attrs: Value| {
        api(
            &s,
            Method::Patch,
            &token,
            &format!("/api/links/{link_id}"),
            Some(json!({"data": {"type": "links", "id": link_id, "attributes": attrs}})),
        )
    };
    let (st, v) = patch(json!({"starts_at": in_minutes(-1), "_disable": true}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "status"), "disabled");
    let (st, v) = patch(json!({"_enable": true}));
    assert_eq!(st, 200);
    assert_eq!(attr(&v, "status"), "active");
    let (st, _) = page(&format!("{}/link/{link_id}", s.commercelayer_base_url()));
    assert_eq!(st, 200);
    let (st, v) = patch(json!({"item_type": "skus"}));
    assert_eq!(st, 400);
    assert_errors(
        400,
        &v,
        &[("PARAM_NOT_ALLOWED", "/data/attributes/item_type")],
    );
    let (st, v) = patch(json!({"expires_at": in_minutes(-20)}));
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/expires_at")],
    );
}
