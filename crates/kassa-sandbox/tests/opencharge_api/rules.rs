//! The body, order and amount rules and their error codes, and the spec files behind them.

use crate::common::{
    assert_error, control, control_order, create, create_body, key, message, mg_body, new_nonce,
    new_order_id, newcomer_key, now, order, order_with_items, post, problems, sandbox, sign_order,
    signed_post, MERCHANT, MG_CHECKOUT, NEWCOMER, PG_CREATE,
};
use kassa_sandbox::opencharge::{MERCHANT_GATEWAY_OCID, PAYMENT_GATEWAY_OCID};
use serde_json::{json, Value};
use std::collections::HashSet;

#[test]
fn the_amount_must_be_the_sum_of_the_items() {
    let s = sandbox();
    let mut o = order_with_items(&new_order_id());
    o["amount"] = json!("20.00");
    let v = assert_error(&create(&s, &o), 400, "AMOUNT_MISMATCH");
    assert_eq!(
        v["error"]["details"],
        json!({"amount": "20.00", "itemsTotal": "25.00"})
    );
    // Three decimals compare exactly: 3 × 0.333 = 0.999.
    let mut o = order(&new_order_id());
    o["currency"] = json!("KWD");
    o["amount"] = json!("0.999");
    o["items"] = json!([{"id": "i", "name": "Tea", "quantity": 3, "price": "0.333"}]);
    assert_eq!(create(&s, &o).status, 200);
    o["id"] = json!(new_order_id());
    o["amount"] = json!("1.00");
    let v = assert_error(&create(&s, &o), 400, "AMOUNT_MISMATCH");
    assert_eq!(
        v["error"]["details"],
        json!({"amount": "1.00", "itemsTotal": "0.999"})
    );
}

#[test]
fn schema_and_format_problems_are_invalid_request() {
    let s = sandbox();
    // Floats cannot be signed canonically: any signature will do, the body is refused first.
    let dummy = "00".repeat(65);
    let mut o = order_with_items(&new_order_id());
    o["items"][0]["quantity"] = json!(1.5);
    o["amount"] = json!(99.99);
    o["extra"] = json!(true);
    let v = assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &create_body(&o, &dummy)),
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(
        problems(&v),
        [
            "order.amount must be a string",
            "order.extra is not a field of Order",
            "order.items[0].quantity must be an integer of at least 1"
        ]
    );
    let rule = "must be a decimal string with 2 or 3 decimals and no sign, like \"10.00\"";
    let cases: [(&str, Value, String); 7] = [
        ("amount", json!("10.5"), format!("order.amount {rule}")),
        ("amount", json!("010.00"), format!("order.amount {rule}")),
        ("amount", json!("-1.00"), format!("order.amount {rule}")),
        (
            "amount",
            json!("0.00"),
            "order.amount must be more than 0".into(),
        ),
        (
            "currency",
            json!("usd"),
            "order.currency must be three capital letters (ISO 4217)".into(),
        ),
        (
            "createdAt",
            json!("1706313600"),
            "order.createdAt must be an integer".into(),
        ),
        (
            "items",
            json!([{"id": "i", "name": "x", "quantity": 0, "price": "1.0"}]),
            "order.items[0].quantity must be an integer of at least 1".into(),
        ),
    ];
    for (field, value, expected) in cases {
        let mut o = order(&new_order_id());
        o[field] = value;
        let r = post(&s, MERCHANT, &key(), PG_CREATE, &create_body(&o, &dummy));
        let v = assert_error(&r, 400, "INVALID_REQUEST");
        let p = problems(&v);
        assert_eq!(p[0], expected, "{field}: {p:?}");
    }
    // Missing fields, a bad URL, no JSON.
    let o = order(&new_order_id());
    let mut body = create_body(&o, &sign_order(&o, &key()));
    body.as_object_mut().unwrap().remove("merchantOcid");
    body["urls"]["cancel"] = json!("javascript:alert(1)");
    let v = assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &body),
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(
        problems(&v),
        [
            "merchantOcid is required",
            "urls.cancel must be an http(s) URL"
        ]
    );
    let bytes = b"{\"order\":";
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        now(),
        &new_nonce(),
        PG_CREATE,
        PG_CREATE,
        bytes,
    );
    let v = assert_error(&r, 400, "INVALID_REQUEST");
    assert!(problems(&v)[0].starts_with("the body is not JSON"), "{v}");
    // A valid order after all that.
    assert_eq!(create(&s, &order(&new_order_id())).status, 200);
}

#[test]
fn the_gateway_must_be_an_accepted_settlement_provider() {
    let s = sandbox();
    let mut o = order(&new_order_id());
    o["accepts"] = json!([101, 102, 300]);
    let v = assert_error(&create(&s, &o), 400, "SETTLEMENT_NOT_SUPPORTED");
    assert_eq!(v["error"]["details"]["gateway"], PAYMENT_GATEWAY_OCID);
    let mut o = order(&new_order_id());
    o.as_object_mut().unwrap().remove("accepts");
    assert_error(&create(&s, &o), 400, "SETTLEMENT_NOT_SUPPORTED");
    // The merchant gateway needs its own OCID (300).
    let o = order(&new_order_id());
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 400, "SETTLEMENT_NOT_SUPPORTED");
    assert_eq!(v["error"]["details"]["gateway"], MERCHANT_GATEWAY_OCID);
}

#[test]
fn expired_orders_are_refused() {
    let s = sandbox();
    let mut o = order(&new_order_id());
    let past = now() - 1;
    o["expiresAt"] = json!(past);
    let v = assert_error(&create(&s, &o), 400, "SESSION_EXPIRED");
    assert_eq!(v["error"]["details"]["expiresAt"], past);
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    assert_error(&r, 400, "ORDER_EXPIRED");
    // expiresAt is optional at the payment gateway, required at the merchant gateway.
    let mut o = order(&new_order_id());
    o.as_object_mut().unwrap().remove("expiresAt");
    let r = create(&s, &o);
    assert_eq!(r.status, 200, "{}", r.text());
    o["id"] = json!(new_order_id());
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 400, "INVALID_REQUEST");
    assert_eq!(
        problems(&v),
        ["order.expiresAt is required by this merchant gateway"]
    );
    // createdAt more than 300 s ahead of the gateway.
    let mut o = order(&new_order_id());
    o["createdAt"] = json!(now() + 400);
    let v = assert_error(&create(&s, &o), 400, "INVALID_REQUEST");
    assert!(message(&v).contains("order.createdAt"), "{v}");
}

#[test]
fn the_merchant_gateway_needs_an_onboarded_merchant() {
    let s = sandbox();
    let mut o = order(&new_order_id());
    o["ocid"] = json!(NEWCOMER);
    o["accepts"] = json!([100, 300]);
    let signature = sign_order(&o, &newcomer_key());
    let r = post(
        &s,
        NEWCOMER,
        &newcomer_key(),
        MG_CHECKOUT,
        &mg_body(&o, &signature),
    );
    let v = assert_error(&r, 401, "MERCHANT_NOT_REGISTERED");
    assert_eq!(
        message(&v),
        "OCID 501 is not onboarded at this merchant gateway"
    );
    // The payment gateway takes any known party.
    let r = post(
        &s,
        NEWCOMER,
        &newcomer_key(),
        PG_CREATE,
        &create_body(&o, &signature),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Onboarded now (the same order id was used at the PG: a new one).
    let r = control(
        &s,
        "POST",
        "/merchants",
        Some(
            json!({"ocid": NEWCOMER, "public_key": newcomer_key().public_key_hex(), "onboarded": true}),
        ),
    );
    assert_eq!(r.status, 204);
    o["id"] = json!(new_order_id());
    let signature = sign_order(&o, &newcomer_key());
    let r = post(
        &s,
        NEWCOMER,
        &newcomer_key(),
        MG_CHECKOUT,
        &mg_body(&o, &signature),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // order.ocid must be the caller.
    let mut o = order(&new_order_id());
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        NEWCOMER,
        &newcomer_key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 400, "INVALID_REQUEST");
    assert_eq!(message(&v), "order.ocid 500 is not X-OC-ID 501");
}

#[test]
fn an_order_id_is_used_once_per_merchant() {
    let s = sandbox();
    let id = new_order_id();
    let mut o = order(&id);
    o["accepts"] = json!([100, 300]);
    assert_eq!(create(&s, &o).status, 200);
    let v = assert_error(&create(&s, &o), 400, "SESSION_USED");
    assert!(message(&v).contains(&id), "{v}");
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    assert_error(&r, 400, "SESSION_USED");
    // Another merchant's order with the same id is another order.
    let mut other = o.clone();
    other["ocid"] = json!(NEWCOMER);
    let body = create_body(&other, &sign_order(&other, &newcomer_key()));
    let r = post(&s, NEWCOMER, &newcomer_key(), PG_CREATE, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    // The control API finds the newest session of the id.
    assert_eq!(control_order(&s, &id)["merchant_ocid"], NEWCOMER);
}

/// The schemas the emulator validates with use only keywords the validator knows, and the
/// codes it answers are where the module doc says.
#[test]
fn the_spec_files_back_the_rules() {
    let pg: Value = serde_json::from_str(include_str!(
        "../../spec/opencharge-payment-gateway-api.openapi.json"
    ))
    .unwrap();
    let mg: Value = serde_json::from_str(include_str!(
        "../../spec/opencharge-merchant-gateway-api.openapi.json"
    ))
    .unwrap();
    const KNOWN: &[&str] = &[
        "$ref",
        "type",
        "required",
        "properties",
        "items",
        "enum",
        "format",
        "description",
    ];
    fn walk(schema: &Value, spec: &Value, seen: &mut HashSet<String>, at: &str) {
        if !seen.insert(at.to_string()) {
            return;
        }
        for (k, v) in schema.as_object().unwrap() {
            assert!(KNOWN.contains(&k.as_str()), "{at}: keyword {k}");
            match k.as_str() {
                "$ref" => {
                    let target = v.as_str().unwrap();
                    let s = spec.pointer(target.strip_prefix('#').unwrap()).unwrap();
                    walk(s, spec, seen, target);
                }
                "items" => walk(v, spec, seen, &format!("{at}/items")),
                "properties" => {
                    for (name, p) in v.as_object().unwrap() {
                        walk(p, spec, seen, &format!("{at}/{name}"));
                    }
                }
                _ => {}
            }
        }
    }
    let mut seen = HashSet::new();
    walk(
        &pg["components"]["schemas"]["CheckoutCreateRequest"],
        &pg,
        &mut seen,
        "pg",
    );
    walk(
        &mg["components"]["schemas"]["OrderCheckoutRequest"],
        &mg,
        &mut seen,
        "mg",
    );
    assert!(seen.len() > 15, "{seen:?}");

    let codes = |spec: &Value| -> Vec<String> {
        spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    let (pg_codes, mg_codes) = (codes(&pg), codes(&mg));
    for c in [
        "INVALID_SIGNATURE",
        "TIMESTAMP_EXPIRED",
        "NONCE_REUSED",
        "UNKNOWN_OCID",
        "SESSION_EXPIRED",
        "SESSION_USED",
    ] {
        assert!(pg_codes.contains(&c.to_string()), "{c}");
    }
    for c in [
        "INVALID_SIGNATURE",
        "TIMESTAMP_EXPIRED",
        "NONCE_REUSED",
        "UNKNOWN_OCID",
        "MERCHANT_NOT_REGISTERED",
        "ORDER_EXPIRED",
    ] {
        assert!(mg_codes.contains(&c.to_string()), "{c}");
    }
    // Codes of our own or from the docs' pages, in neither enum (documented as such).
    for c in [
        "INVALID_REQUEST",
        "AMOUNT_MISMATCH",
        "SETTLEMENT_NOT_SUPPORTED",
    ] {
        assert!(!pg_codes.contains(&c.to_string()) && !mg_codes.contains(&c.to_string()));
    }
    for (spec, path) in [(&pg, "/checkout/create"), (&mg, "/orders/checkout")] {
        let responses = spec["paths"][path]["post"]["responses"]
            .as_object()
            .unwrap();
        let statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(statuses, ["200", "400", "401"], "{path}");
    }
    assert_eq!(
        mg["components"]["schemas"]["OrderCheckoutRequest"]["properties"]["urls"]["required"],
        json!(["completed", "cancelled"])
    );
}
