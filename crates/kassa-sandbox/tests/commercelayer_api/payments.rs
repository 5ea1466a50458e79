//! The checkout.com payment source.

use crate::common::{
    api, assert_errors, cko_urls, create_order, detail_at, integration, payment_body, sandbox,
    shop, SHOP_MARKET,
};
use kassa_core::http::Method;
use serde_json::{json, Value};

#[test]
fn payment_sources_use_the_current_schema() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let o = create_order(&s, &token, SHOP_MARKET, json!({}));
    let id = o["id"].as_str().unwrap();
    let post = |attrs: Value, order_id: &str| {
        api(
            &s,
            Method::Post,
            &token,
            "/api/checkout_com_payments",
            Some(payment_body(order_id, attrs)),
        )
    };
    // The seed's attributes were removed in 2025.
    let mut attrs = cko_urls();
    attrs["payment_type"] = json!("token");
    attrs["session_id"] = json!("sid_y3oqhf46pyzuxjbcn2giaqnb44");
    let (st, v) = post(attrs, id);
    assert_eq!(st, 400);
    let details = assert_errors(
        400,
        &v,
        &[
            ("PARAM_NOT_ALLOWED", "/data/attributes/payment_type"),
            ("PARAM_NOT_ALLOWED", "/data/attributes/session_id"),
        ],
    );
    for (_, d) in &details {
        assert!(
            d.contains("was removed from checkout_com_payments in 2025"),
            "{d}"
        );
    }
    // Both URLs are required, as http(s) URLs; and the order needs its payment method.
    let (st, v) = post(json!({"failure_url": "ftp://shop.example/x"}), id);
    assert_eq!(st, 422);
    let details = assert_errors(
        422,
        &v,
        &[
            ("VALIDATION_ERROR", "/data/attributes/success_url"),
            ("VALIDATION_ERROR", "/data/attributes/failure_url"),
            ("VALIDATION_ERROR", "/data/relationships/order"),
        ],
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/success_url"),
        "success_url - can't be blank"
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/failure_url"),
        "failure_url - must be an http(s) URL"
    );
    assert!(
        detail_at(&details, "/data/relationships/order").contains("no checkout.com payment method")
    );
    let blank = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"]["pointer"] == "/data/attributes/success_url")
        .unwrap();
    assert_eq!(blank["meta"]["error"], "blank");
    assert_eq!(blank["title"], "can't be blank");
    let (st, v) = post(cko_urls(), "nOsUcHoRdEr");
    assert_eq!(st, 404);
    assert_errors(404, &v, &[("RECORD_NOT_FOUND", "")]);
    // Update-only triggers are not creatable.
    let mut attrs = cko_urls();
    attrs["_authorize"] = json!(true);
    let (st, v) = post(attrs, id);
    assert_eq!(st, 400);
    assert_errors(
        400,
        &v,
        &[("PARAM_NOT_ALLOWED", "/data/attributes/_authorize")],
    );
}
