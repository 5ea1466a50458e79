//! Orders: finding them by reference, and checked, atomic updates.

use crate::common::{
    add_line, api, assert_errors, attr, create_order, detail_at, errors, get, integration, order,
    patch_order, sandbox, shop, us, SHOP_MARKET,
};
use kassa_core::http::Method;
use serde_json::{json, Value};

#[test]
fn orders_are_found_by_reference() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let first = create_order(&s, &token, SHOP_MARKET, json!({"reference": "POS-A"}));
    create_order(&s, &token, SHOP_MARKET, json!({"reference": "POS-B"}));
    let third = create_order(&s, &token, SHOP_MARKET, json!({"reference": "POS-A"}));
    let (st, v) = get(&s, &token, "/api/orders?filter[q][reference_eq]=POS-A");
    assert_eq!(st, 200, "{v}");
    let ids: Vec<&Value> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["id"])
        .collect();
    assert_eq!(ids, [&third["id"], &first["id"]], "newest first");
    assert_eq!(v["meta"], json!({"record_count": 2, "page_count": 1}));
    let (_, v) = get(
        &s,
        &token,
        "/api/orders?filter%5Bq%5D%5Breference_eq%5D=POS-A&page[size]=1&page[number]=2",
    );
    assert_eq!(v["data"][0]["id"], first["id"]);
    assert_eq!(v["meta"]["page_count"], 2);
    let (_, v) = get(&s, &token, "/api/orders?filter[q][reference_eq]=POS-C");
    assert_eq!(v["data"], json!([]));
    let (st, v) = get(&s, &token, "/api/orders?filter[q][status_eq]=draft");
    assert_eq!(st, 400);
    assert_errors(400, &v, &[("FILTER_NOT_ALLOWED", "filter[q][status_eq]")]);
    let (st, v) = get(&s, &token, "/api/orders?page[size]=26");
    assert_eq!(st, 400);
    assert_errors(400, &v, &[("INVALID_PAGE_VALUE", "page[size]")]);
    // Another organization's orders are not in its list.
    let us_token = integration(&s, &us());
    let (_, v) = get(&s, &us_token, "/api/orders?filter[q][reference_eq]=POS-A");
    assert_eq!(v["data"], json!([]));
}

#[test]
fn updates_are_checked_and_atomic() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let o = create_order(
        &s,
        &token,
        SHOP_MARKET,
        json!({"reference": "before", "customer_email": "c@shop.example"}),
    );
    let id = o["id"].as_str().unwrap();
    assert_eq!(
        add_line(
            &s,
            &token,
            id,
            json!({"name": "Cake", "quantity": 1, "unit_amount_cents": 4500})
        )
        .0,
        201
    );
    let path = format!("/api/orders/{id}");
    let (st, v) = api(
        &s,
        Method::Patch,
        &token,
        &path,
        Some(json!({"data": {"type": "orders", "id": "someOther", "attributes": {}}})),
    );
    assert_eq!(st, 400);
    assert_errors(400, &v, &[("KEY_NOT_INCLUDED_IN_URL", "/data/id")]);
    let (st, v) = api(
        &s,
        Method::Patch,
        &token,
        &path,
        Some(json!({"data": {"type": "orders", "attributes": {}}})),
    );
    assert_eq!(st, 400);
    assert_errors(400, &v, &[("PARAM_MISSING", "/data/id")]);
    let (st, v) = patch_order(
        &s,
        &token,
        id,
        json!({"_shipping_address_clone_id": "nOtOuRs", "_shipping_address_same_as_billing": true}),
        json!({"payment_method": {"data": {"type": "payment_methods", "id": "nOtOuRs"}},
               "customer": {"data": {"type": "customers", "id": "x"}}}),
    );
    assert_eq!(st, 400);
    let details = assert_errors(
        400,
        &v,
        &[("PARAM_NOT_ALLOWED", "/data/relationships/customer")],
    );
    assert!(details[0].1.contains("does not emulate"));
    let (st, v) = patch_order(
        &s,
        &token,
        id,
        json!({"_shipping_address_clone_id": "nOtOuRs", "_shipping_address_same_as_billing": true}),
        json!({"payment_method": {"data": {"type": "payment_methods", "id": "nOtOuRs"}}}),
    );
    assert_eq!(st, 422);
    let details = assert_errors(
        422,
        &v,
        &[
            (
                "VALIDATION_ERROR",
                "/data/attributes/_shipping_address_clone_id",
            ),
            (
                "VALIDATION_ERROR",
                "/data/attributes/_shipping_address_same_as_billing",
            ),
            ("VALIDATION_ERROR", "/data/relationships/payment_method"),
        ],
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/_shipping_address_clone_id"),
        "_shipping_address_clone_id - address nOtOuRs was not found"
    );
    // _place without an authorized payment fails, and nothing else of the PATCH is applied.
    let (st, v) = patch_order(
        &s,
        &token,
        id,
        json!({"reference": "after", "_place": true}),
        json!({}),
    );
    assert_eq!(st, 422);
    let details = assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_place")]);
    assert!(details[0].1.contains("not authorized"));
    let v = order(&s, &token, id, "");
    assert_eq!(attr(&v, "reference"), "before");
    assert_eq!(attr(&v, "status"), "pending");
    // Removing the email makes it a draft again; an order for 0 is placed as free.
    let (st, v) = patch_order(&s, &token, id, json!({"customer_email": null}), json!({}));
    assert_eq!(st, 200);
    assert_eq!(attr(&v, "status"), "draft");
    let (st, v) = patch_order(&s, &token, id, json!({"_place": true}), json!({}));
    assert_eq!(st, 422);
    assert!(errors(&v)[0].3.contains("not pending"));
    let free = create_order(
        &s,
        &token,
        SHOP_MARKET,
        json!({"customer_email": "c@shop.example"}),
    );
    let free_id = free["id"].as_str().unwrap();
    let line = json!({"name": "Sample", "quantity": 1, "unit_amount_cents": 0});
    assert_eq!(add_line(&s, &token, free_id, line).0, 201);
    let (st, v) = patch_order(&s, &token, free_id, json!({"_place": true}), json!({}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "status"), "placed");
    assert_eq!(attr(&v, "payment_status"), "free");
    // A placed order keeps its plain attributes; its reference may change; _place is idempotent.
    let (st, v) = patch_order(
        &s,
        &token,
        free_id,
        json!({"language_code": "de"}),
        json!({}),
    );
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/language_code")],
    );
    let (st, v) = patch_order(
        &s,
        &token,
        free_id,
        json!({"reference": "R2", "_place": true}),
        json!({}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "reference"), "R2");
}
