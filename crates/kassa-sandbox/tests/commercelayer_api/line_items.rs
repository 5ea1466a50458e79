//! Line items and their validation.

use crate::common::{
    add_line, api, assert_errors, attr, create_order, detail_at, errors, get, integration, order,
    sandbox, shop, us, SHOP_MARKET,
};
use kassa_core::http::Method;
use serde_json::json;

#[test]
fn line_items_are_validated() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let o = create_order(&s, &token, SHOP_MARKET, json!({}));
    let id = o["id"].as_str().unwrap();
    let (st, v) = add_line(
        &s,
        &token,
        id,
        json!({"sku_code": "COFFEE-L", "quantity": 0, "unit_amount_cents": 100}),
    );
    assert_eq!(st, 422);
    let details = assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/quantity")],
    );
    assert_eq!(details[0].1, "quantity - must be greater than 0");
    assert_eq!(v["errors"][0]["meta"]["error"], "greater_than");
    let (st, v) = add_line(
        &s,
        &token,
        id,
        json!({"sku_code": "TEA", "quantity": "2", "unit_amount_cents": 1.5}),
    );
    assert_eq!(st, 422);
    let details = assert_errors(
        422,
        &v,
        &[
            ("VALIDATION_ERROR", "/data/attributes/sku_code"),
            ("VALIDATION_ERROR", "/data/attributes/quantity"),
            ("VALIDATION_ERROR", "/data/attributes/unit_amount_cents"),
        ],
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/sku_code"),
        "sku_code - is not valid"
    );
    assert_eq!(
        detail_at(&details, "/data/attributes/quantity"),
        "quantity - must be an integer"
    );
    // A SKU has no catalog price here; a custom line needs a name and a price.
    let (st, v) = add_line(
        &s,
        &token,
        id,
        json!({"sku_code": "COFFEE-L", "quantity": 1}),
    );
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/unit_amount_cents")],
    );
    assert_eq!(v["errors"][0]["meta"]["error"], "no_price");
    let (st, v) = add_line(&s, &token, id, json!({"quantity": 1}));
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[
            ("VALIDATION_ERROR", "/data/attributes/name"),
            ("VALIDATION_ERROR", "/data/attributes/unit_amount_cents"),
        ],
    );
    let (st, v) = add_line(
        &s,
        &token,
        id,
        json!({"name": "Refund", "quantity": 1, "unit_amount_cents": -100}),
    );
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/unit_amount_cents")],
    );
    // The order relationship.
    let (st, v) = add_line(
        &s,
        &token,
        "nOsUcHoRdEr",
        json!({"name": "x", "quantity": 1, "unit_amount_cents": 1}),
    );
    assert_eq!(st, 404);
    assert_eq!(
        errors(&v)[0].3,
        "The record identified by nOsUcHoRdEr could not be found."
    );
    let (st, v) = api(
        &s,
        Method::Post,
        &token,
        "/api/line_items",
        Some(
            json!({"data": {"type": "line_items", "attributes": {"name": "x", "quantity": 1, "unit_amount_cents": 1}}}),
        ),
    );
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/relationships/order")],
    );
    // _update_quantity merges into the line of the same SKU (a retry does not duplicate).
    let first = json!({"sku_code": "COFFEE-L", "quantity": 2, "unit_amount_cents": 4990, "_update_quantity": true});
    let (st, a) = add_line(&s, &token, id, first);
    assert_eq!(st, 201);
    let again = json!({"sku_code": "COFFEE-L", "quantity": 3, "unit_amount_cents": 4990, "_update_quantity": true});
    let (st, b) = add_line(&s, &token, id, again);
    assert_eq!(st, 201);
    assert_eq!(a["data"]["id"], b["data"]["id"]);
    assert_eq!(attr(&b, "quantity"), 3);
    assert_eq!(attr(&b, "total_amount_cents"), 14_970);
    // Its self link reads it back (for this organization only).
    let self_link = b["data"]["links"]["self"].as_str().unwrap();
    let path = format!("/api/line_items/{}", b["data"]["id"].as_str().unwrap());
    assert_eq!(self_link, format!("{}{path}", s.commercelayer_base_url()));
    let (st, l) = get(&s, &token, &path);
    assert_eq!(st, 200, "{l}");
    assert_eq!(attr(&l, "quantity"), 3);
    assert_eq!(get(&s, &integration(&s, &us()), &path).0, 404);
    let plain = json!({"sku_code": "COFFEE-L", "quantity": 1, "unit_amount_cents": 4990});
    assert_eq!(add_line(&s, &token, id, plain).0, 201);
    let v = order(&s, &token, id, "?include=line_items");
    assert_eq!(v["included"].as_array().unwrap().len(), 2);
    assert_eq!(attr(&v, "subtotal_amount_cents"), 19_960);
    assert_eq!(attr(&v, "status"), "draft", "no email and no address yet");
}
