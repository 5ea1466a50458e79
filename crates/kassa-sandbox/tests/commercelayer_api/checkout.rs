//! Whole sales through the hosted checkout and the order's payment state machine: tax
//! included and excluded, declines, cancelling, expiry, and who may open the page.

use crate::common::{
    add_line, api, assert_errors, attr, cko_urls, control_get, create_link, create_order, errors,
    get, header, in_minutes, integration, order, order_body, outcome, page, patch_order,
    payment_body, payment_method_id, press, raw, ready_order, sales_channel, sandbox, shop,
    shop_link_attrs, us, SHOP_ADDRESS, SHOP_MARKET, US_ADDRESS, US_MARKET,
};
use kassa_core::http::Method;
use kassa_core::time::{now_millis, parse_utc};
use serde_json::{json, Value};

#[test]
fn a_tax_included_sale_from_order_to_paid() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let expires = in_minutes(15);
    let (st, v) = api(
        &s,
        Method::Post,
        &token,
        "/api/orders?include=available_payment_methods",
        Some(order_body(
            json!({"reference": "POS-T1-000123", "reference_origin": "kassa", "language_code": "nb",
                   "customer_email": "counter+t1@shop.example", "expires_at": expires,
                   "return_url": "https://shop.example/done?till=1", "cart_url": "https://shop.example/cart",
                   "metadata": {"till": "T1"}}),
            SHOP_MARKET,
        )),
    );
    assert_eq!(st, 201, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(v["data"]["type"], "orders");
    assert!(v["data"]["links"]["self"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/commercelayer/api/orders/{id}")));
    assert_eq!(v["data"]["meta"]["mode"], "test");
    assert!(v["data"]["meta"]["organization_id"].is_string());
    for (name, value) in [
        ("status", json!("draft")),
        ("payment_status", json!("unpaid")),
        ("fulfillment_status", json!("unfulfilled")),
        ("currency_code", json!("NOK")),
        ("tax_included", json!(true)),
        ("editable", json!(true)),
        ("reference", json!("POS-T1-000123")),
        ("reference_origin", json!("kassa")),
        ("language_code", json!("nb")),
        ("customer_email", json!("counter+t1@shop.example")),
        ("return_url", json!("https://shop.example/done?till=1")),
        ("metadata", json!({"till": "T1"})),
        ("subtotal_amount_cents", json!(0)),
        ("total_amount_with_taxes_cents", json!(0)),
        ("checkout_url", Value::Null),
    ] {
        assert_eq!(attr(&v, name), &value, "{name}");
    }
    assert_eq!(
        parse_utc(attr(&v, "expires_at").as_str().unwrap()).unwrap() / 1000,
        parse_utc(&expires).unwrap() / 1000
    );
    let number = attr(&v, "number").as_str().unwrap();
    assert!(
        !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
        "{number}"
    );
    assert_eq!(attr(&v, "token").as_str().unwrap().len(), 32);
    // The market's one payment method.
    let pm = &v["included"][0];
    assert_eq!(pm["type"], "payment_methods");
    assert_eq!(
        pm["attributes"]["payment_source_type"],
        "checkout_com_payments"
    );
    assert_eq!(pm["attributes"]["name"], "Checkout.com card");
    assert_eq!(pm["attributes"]["currency_code"], "NOK");
    assert_eq!(pm["attributes"]["price_amount_cents"], 0);
    assert_eq!(pm["attributes"]["auto_capture"], false);
    assert_eq!(v["included"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["data"]["relationships"]["available_payment_methods"]["data"],
        json!([{"type": "payment_methods", "id": pm["id"]}])
    );
    let pm_id = pm["id"].as_str().unwrap().to_string();

    // Three lines: a SKU at its 15 % category, a custom line at the default 25 %, and a
    // 20 % stamp whose tax is exactly half a cent.
    let (st, coffee) = add_line(
        &s,
        &token,
        &id,
        json!({"sku_code": "COFFEE-L", "quantity": 3, "unit_amount_cents": 4990, "_external_price": true}),
    );
    assert_eq!(st, 201, "{coffee}");
    assert_eq!(coffee["data"]["type"], "line_items");
    for (name, value) in [
        ("item_type", json!("skus")),
        ("name", json!("COFFEE-L")),
        ("sku_code", json!("COFFEE-L")),
        ("quantity", json!(3)),
        ("unit_amount_cents", json!(4990)),
        ("total_amount_cents", json!(14_970)),
        ("tax_amount_cents", json!(0)),
        ("tax_rate", Value::Null),
        ("currency_code", json!("NOK")),
    ] {
        assert_eq!(attr(&coffee, name), &value, "{name}");
    }
    let (st, wrap) = add_line(
        &s,
        &token,
        &id,
        json!({"name": "Gift wrap", "quantity": 1, "unit_amount_cents": 2999, "reference": "L2"}),
    );
    assert_eq!(st, 201, "{wrap}");
    assert_eq!(attr(&wrap, "item_type"), &Value::Null);
    assert_eq!(attr(&wrap, "reference"), "L2");
    let (st, _) = add_line(
        &s,
        &token,
        &id,
        json!({"sku_code": "STAMP", "quantity": 1, "unit_amount_cents": 3}),
    );
    assert_eq!(st, 201);
    let v = order(&s, &token, &id, "");
    assert_eq!(attr(&v, "status"), "pending", "email + lines");
    assert_eq!(attr(&v, "subtotal_amount_cents"), 17_972);
    assert_eq!(attr(&v, "total_tax_amount_cents"), 0, "no address, no tax");
    assert_eq!(attr(&v, "skus_count"), 4);

    // The shop's address and the payment method: taxes are computed.
    let (st, v) = patch_order(
        &s,
        &token,
        &id,
        json!({"_shipping_address_clone_id": SHOP_ADDRESS, "_billing_address_clone_id": SHOP_ADDRESS}),
        json!({"payment_method": {"data": {"type": "payment_methods", "id": pm_id}}}),
    );
    assert_eq!(st, 200, "{v}");
    // 14970 × 1500/11500 = 1952.61 → 1953; 2999 × 2500/12500 = 599.8 → 600; 3 × 2000/12000 = 0.5 → 1.
    for (name, value) in [
        ("subtotal_amount_cents", 17_972),
        ("total_tax_amount_cents", 2554),
        ("subtotal_tax_amount_cents", 2554),
        ("total_amount_cents", 17_972),
        ("total_amount_with_taxes_cents", 17_972),
        ("total_taxable_amount_cents", 15_418),
        ("tax_calculations_count", 1),
    ] {
        assert_eq!(attr(&v, name), &json!(value), "{name}");
    }
    assert_eq!(attr(&v, "tax_rate"), &Value::Null, "mixed rates");
    let v = order(&s, &token, &id, "?include=line_items,payment_method");
    let lines = v["included"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "line_items")
        .map(|r| {
            (
                r["attributes"]["tax_amount_cents"].as_i64().unwrap(),
                r["attributes"]["tax_rate"].as_f64().unwrap(),
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(lines, [(1953, 0.15), (600, 0.25), (1, 0.2)]);
    assert_eq!(
        v["data"]["relationships"]["payment_method"]["data"],
        json!({"type": "payment_methods", "id": pm_id})
    );

    // The checkout.com payment source (current schema).
    let (st, p) = api(
        &s,
        Method::Post,
        &token,
        "/api/checkout_com_payments",
        Some(payment_body(&id, cko_urls())),
    );
    assert_eq!(st, 201, "{p}");
    let pid = p["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(p["data"]["type"], "checkout_com_payments");
    assert!(attr(&p, "public_key")
        .as_str()
        .unwrap()
        .starts_with("pk_sbox_"));
    let session = attr(&p, "payment_session");
    let ps = session["id"].as_str().unwrap();
    assert!(ps.starts_with("ps_"), "{session}");
    assert!(session["payment_session_secret"]
        .as_str()
        .unwrap()
        .starts_with("pss_"));
    assert!(!session["payment_session_token"]
        .as_str()
        .unwrap()
        .is_empty());
    assert_eq!(
        session["_links"]["self"]["href"],
        format!("https://api.sandbox.checkout.com/payment-sessions/{ps}")
    );
    assert_eq!(attr(&p, "redirect_uri"), &Value::Null);
    assert_eq!(attr(&p, "payment_response"), &Value::Null);
    assert_eq!(attr(&p, "mismatched_amounts"), false);
    assert_eq!(attr(&p, "success_url"), "https://shop.example/3ds/ok");
    let v = order(&s, &token, &id, "?include=payment_source");
    assert_eq!(
        v["data"]["relationships"]["payment_source"]["data"],
        json!({"type": "checkout_com_payments", "id": pid})
    );
    assert_eq!(v["included"][0]["id"], pid.as_str());

    // A link for the customer's phone.
    let link = create_link(&s, &token, &id, shop_link_attrs());
    let link_id = link["id"].as_str().unwrap().to_string();
    let url = link["attributes"]["url"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!("{}/link/{link_id}", s.commercelayer_base_url())
    );
    assert_eq!(link["attributes"]["status"], "active");
    assert_eq!(link["attributes"]["active"], true);
    assert_eq!(link["attributes"]["item_type"], "orders");
    let v = order(&s, &token, &id, "?include=links");
    assert_eq!(
        v["data"]["relationships"]["links"]["data"],
        json!([{"type": "links", "id": link_id}])
    );
    let (st, html) = page(&url);
    assert_eq!(st, 200);
    for needle in [
        "id=pay",
        "id=decline",
        "id=cancel",
        "Gift wrap",
        "179.72 NOK",
        "incl. VAT 25.54 NOK",
    ] {
        assert!(html.contains(needle), "{needle}: {html}");
    }

    // The customer pays.
    let (st, r) = outcome(&s, &id, "pay");
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        r,
        json!({"redirect": format!("https://shop.example/done?till=1&order_id={id}")})
    );
    let v = order(
        &s,
        &token,
        &id,
        "?include=authorizations&fields[orders]=status,payment_status,placed_at,total_amount_with_taxes_cents",
    );
    let mut keys: Vec<&String> = v["data"]["attributes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "payment_status",
            "placed_at",
            "status",
            "total_amount_with_taxes_cents"
        ]
    );
    assert_eq!(attr(&v, "status"), "placed");
    assert_eq!(attr(&v, "payment_status"), "authorized");
    assert!(parse_utc(attr(&v, "placed_at").as_str().unwrap()).is_ok());
    let auth = &v["included"][0];
    assert_eq!(auth["type"], "authorizations");
    assert_eq!(auth["attributes"]["succeeded"], true);
    assert_eq!(auth["attributes"]["amount_cents"], 17_972);
    assert_eq!(auth["attributes"]["message"], "Approved");
    let (st, p) = get(&s, &token, &format!("/api/checkout_com_payments/{pid}"));
    assert_eq!(st, 200);
    assert_eq!(attr(&p, "payment_response")["status"], "Authorized");
    let c = control_get(&s, &format!("/orders/{id}"));
    assert_eq!(c["data"]["attributes"]["fulfillment_status"], "unfulfilled");
    assert_eq!(c["data"]["attributes"]["editable"], false);
    assert_eq!(c["data"]["attributes"]["place_total_amount_cents"], 17_972);

    // The link's page is still served, without buttons; disabled it is gone.
    let (st, html) = page(&url);
    assert_eq!(st, 200);
    assert!(
        html.contains("This order is paid") && !html.contains("id=pay"),
        "{html}"
    );
    let (st, l) = api(
        &s,
        Method::Patch,
        &token,
        &format!("/api/links/{link_id}"),
        Some(json!({"data": {"type": "links", "id": link_id, "attributes": {"_disable": true}}})),
    );
    assert_eq!(st, 200, "{l}");
    assert_eq!(attr(&l, "status"), "disabled");
    assert_eq!(attr(&l, "active"), false);
    assert!(attr(&l, "disabled_at").is_string());
    let (st, html) = page(&url);
    assert_eq!(st, 410);
    assert!(html.contains("This link is no longer active"), "{html}");
    let (st, r) = outcome(&s, &id, "pay");
    assert_eq!(st, 409);
    assert!(r["error"].as_str().unwrap().contains("already paid"), "{r}");
}

#[test]
fn a_tax_excluded_sale_captures_automatically() {
    let s = sandbox();
    let token = integration(&s, &us());
    let o = create_order(
        &s,
        &token,
        US_MARKET,
        json!({"customer_email": "a@b.example"}),
    );
    let id = o["id"].as_str().unwrap();
    for line in [
        json!({"sku_code": "MUG", "quantity": 2, "unit_amount_cents": 1250}),
        json!({"name": "Engraving", "quantity": 1, "unit_amount_cents": 1000}),
        json!({"sku_code": "STICKER", "quantity": 1, "unit_amount_cents": 10}),
    ] {
        assert_eq!(add_line(&s, &token, id, line).0, 201);
    }
    let v = order(&s, &token, id, "");
    assert_eq!(attr(&v, "total_amount_with_taxes_cents"), 3510);
    let pm = payment_method_id(&s, &token, id);
    let (st, v) = patch_order(
        &s,
        &token,
        id,
        json!({"_billing_address_clone_id": US_ADDRESS, "_shipping_address_same_as_billing": true}),
        json!({"payment_method": {"data": {"type": "payment_methods", "id": pm}}}),
    );
    assert_eq!(st, 200, "{v}");
    // 2500 × 5 % = 125; 1000 × 8.25 % = 82.5 → 83; 10 × 5 % = 0.5 → 1 (half away from zero).
    for (name, value) in [
        ("subtotal_amount_cents", 3510),
        ("total_tax_amount_cents", 209),
        ("total_amount_cents", 3719),
        ("total_amount_with_taxes_cents", 3719),
        ("total_taxable_amount_cents", 3510),
    ] {
        assert_eq!(attr(&v, name), &json!(value), "{name}");
    }
    assert_eq!(attr(&v, "currency_code"), "USD");
    assert_eq!(attr(&v, "tax_included"), false);
    let v = order(&s, &token, id, "?include=line_items");
    let taxes: Vec<i64> = v["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["attributes"]["tax_amount_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(taxes, [125, 83, 1]);
    let (st, _) = api(
        &s,
        Method::Post,
        &token,
        "/api/checkout_com_payments",
        Some(payment_body(id, cko_urls())),
    );
    assert_eq!(st, 201);
    let (st, r) = outcome(&s, id, "pay");
    assert_eq!(st, 200);
    assert_eq!(r, json!({"redirect": null}), "no return_url");
    // The payment method captures by itself; the order stays placed (CL's dashboard handles
    // placed + paid orders).
    let v = order(&s, &token, id, "?include=authorizations,captures");
    assert_eq!(attr(&v, "status"), "placed");
    assert_eq!(attr(&v, "payment_status"), "paid");
    assert_eq!(attr(&v, "fulfillment_status"), "not_required");
    assert!(attr(&v, "approved_at").is_null());
    let included = v["included"].as_array().unwrap();
    let of = |ty: &str| -> Vec<&Value> { included.iter().filter(|r| r["type"] == ty).collect() };
    assert_eq!(of("authorizations")[0]["attributes"]["amount_cents"], 3719);
    assert_eq!(
        of("authorizations")[0]["attributes"]["capture_balance_cents"],
        0
    );
    let capture = &of("captures")[0]["attributes"];
    assert_eq!(capture["amount_cents"], 3719);
    assert_eq!(capture["succeeded"], true);
    assert_eq!(capture["refund_balance_cents"], 3719);
}

#[test]
fn the_hosted_checkout_url_needs_a_sales_channel_token() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let id = ready_order(
        &s,
        &token,
        json!({"customer_email": "c@shop.example", "return_url": "https://shop.example/done"}),
    );
    let url = |t: &str| {
        format!(
            "{}/checkout/{id}?accessToken={t}",
            s.commercelayer_base_url()
        )
    };
    let (st, html) = page(&url(&token));
    assert_eq!(st, 401);
    assert!(
        html.contains("an integration token must never be used in a URL"),
        "{html}"
    );
    let (st, _) = page(&format!("{}/checkout/{id}", s.commercelayer_base_url()));
    assert_eq!(st, 401);
    assert_eq!(page(&url("garbage")).0, 401);
    assert_eq!(page(&url(&sales_channel(&s, &us()))).0, 404);
    let sc = sales_channel(&s, &shop());
    let (st, html) = page(&url(&sc));
    assert_eq!(st, 200);
    for needle in ["id=pay", "id=decline", "id=cancel", "99.80 NOK", "COFFEE-L"] {
        assert!(html.contains(needle), "{needle}: {html}");
    }
    // The page's script hook is there when a test sets one.
    let (st, _, _) = raw(
        &s,
        "PUT",
        "/_control/page_script",
        "text/javascript",
        "void 0;",
    );
    assert_eq!(st, 204);
    assert!(page(&url(&sc)).1.contains("/_control/page_script.js"));
    // A button needs the page's access too.
    let (st, _, html) = press(&s, &id, "pay", &token);
    assert_eq!(st, 401, "{html}");
    let (st, headers, _) = press(&s, &id, "pay", &sc);
    assert_eq!(st, 303);
    assert_eq!(
        header(&headers, "location"),
        Some(format!("https://shop.example/done?order_id={id}").as_str())
    );
    assert_eq!(attr(&order(&s, &token, &id, ""), "status"), "placed");
}

#[test]
fn a_declined_card_can_pay_again() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let id = ready_order(
        &s,
        &token,
        json!({"customer_email": "c@shop.example", "cart_url": "https://shop.example/cart"}),
    );
    let link = create_link(&s, &token, &id, shop_link_attrs());
    let via = format!("link:{}", link["id"].as_str().unwrap());
    let (st, _, html) = press(&s, &id, "decline", &via);
    assert_eq!(st, 200);
    assert!(
        html.contains("Your card was declined") && html.contains("id=pay"),
        "{html}"
    );
    let v = order(&s, &token, &id, "?include=payment_source");
    assert_eq!(attr(&v, "status"), "pending");
    assert_eq!(attr(&v, "payment_status"), "unpaid");
    assert_eq!(
        v["included"][0]["attributes"]["payment_response"]["status"],
        "Declined"
    );
    // Back to cart: the cart URL, nothing changes.
    let (st, headers, _) = press(&s, &id, "cancel", &via);
    assert_eq!(st, 303);
    assert_eq!(
        header(&headers, "location"),
        Some("https://shop.example/cart")
    );
    assert_eq!(
        outcome(&s, &id, "cancel").1,
        json!({"redirect": "https://shop.example/cart"})
    );
    let (st, r) = outcome(&s, &id, "pay");
    assert_eq!(st, 200);
    assert_eq!(r, json!({"redirect": null}));
    let v = order(&s, &token, &id, "?include=authorizations,payment_source");
    assert_eq!(attr(&v, "status"), "placed");
    assert_eq!(attr(&v, "payment_status"), "authorized");
    let mut auths: Vec<(bool, Value, i64)> = Vec::new();
    for r in v["included"].as_array().unwrap() {
        if r["type"] == "authorizations" {
            let a = &r["attributes"];
            auths.push((
                a["succeeded"].as_bool().unwrap(),
                a["error_code"].clone(),
                a["amount_cents"].as_i64().unwrap(),
            ));
        } else {
            assert_eq!(r["attributes"]["payment_response"]["status"], "Authorized");
        }
    }
    assert_eq!(
        auths,
        [(false, json!("20051"), 9980), (true, Value::Null, 9980)]
    );
}

#[test]
fn cancelling_voids_the_authorization() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let cancel = |id: &str| patch_order(&s, &token, id, json!({"_cancel": true}), json!({}));
    // A paid (authorized) order: the authorization is voided.
    let paid = ready_order(&s, &token, json!({"customer_email": "c@shop.example"}));
    assert_eq!(outcome(&s, &paid, "pay").0, 200);
    let (st, v) = cancel(&paid);
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "status"), "cancelled");
    assert_eq!(attr(&v, "payment_status"), "voided");
    assert!(attr(&v, "cancelled_at").is_string());
    let v = order(&s, &token, &paid, "?include=authorizations,voids");
    let included = v["included"].as_array().unwrap();
    let void = included.iter().find(|r| r["type"] == "voids").unwrap();
    let auth = included
        .iter()
        .find(|r| r["type"] == "authorizations")
        .unwrap();
    assert_eq!(void["attributes"]["amount_cents"], 9980);
    assert_eq!(void["attributes"]["succeeded"], true);
    assert_eq!(auth["attributes"]["void_balance_cents"], 0);
    assert_eq!(auth["attributes"]["capture_balance_cents"], 0);
    let (st, r) = outcome(&s, &paid, "pay");
    assert_eq!(st, 409);
    assert!(r["error"].as_str().unwrap().contains("cancelled"));
    let (st, v) = cancel(&paid);
    assert_eq!(st, 422);
    let details = assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_cancel")]);
    assert_eq!(details[0].1, "_cancel - the order is already cancelled");
    let (st, v) = add_line(
        &s,
        &token,
        &paid,
        json!({"name": "x", "quantity": 1, "unit_amount_cents": 1}),
    );
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/relationships/order")],
    );
    // A captured order must be refunded instead.
    let captured = ready_order(&s, &token, json!({"customer_email": "c@shop.example"}));
    assert_eq!(outcome(&s, &captured, "pay").0, 200);
    assert_eq!(outcome(&s, &captured, "capture").0, 200);
    let (st, v) = cancel(&captured);
    assert_eq!(st, 422);
    let details = assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_cancel")]);
    assert!(details[0].1.contains("refund instead"));
    let v = order(&s, &token, &captured, "");
    assert_eq!(attr(&v, "status"), "approved");
    assert_eq!(attr(&v, "payment_status"), "paid");
    assert_eq!(attr(&v, "fulfillment_status"), "not_required");
    // Capture needs an authorization.
    let (st, r) = outcome(&s, &captured, "capture");
    assert_eq!(st, 409);
    assert!(r["error"].as_str().unwrap().contains("nothing to capture"));
}

/// Commerce Layer documents `_cancel` for placed orders only; an unplaced order is stopped by
/// moving its `expires_at` to now (notes §4.3), after which it cannot be placed or paid.
#[test]
fn an_unplaced_order_is_not_cancelled_but_expired() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let draft = create_order(&s, &token, SHOP_MARKET, json!({}));
    let draft = draft["id"].as_str().unwrap().to_string();
    let pending = ready_order(
        &s,
        &token,
        json!({"customer_email": "c@shop.example", "expires_at": in_minutes(15)}),
    );
    for (id, status) in [(&draft, "draft"), (&pending, "pending")] {
        let (st, v) = patch_order(&s, &token, id, json!({"_cancel": true}), json!({}));
        assert_eq!(st, 422, "{v}");
        let details = assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_cancel")]);
        assert_eq!(
            details[0].1,
            format!("_cancel - a {status} order is not placed: only placed orders can be cancelled (let it expire instead)")
        );
        assert_eq!(
            v["errors"][0]["meta"],
            json!({"error": "invalid_transition", "status": status})
        );
        assert_eq!(attr(&order(&s, &token, id, ""), "status"), status);
    }
    // A new order must expire in the future; an unplaced one may be expired now.
    let (st, v) = api(
        &s,
        Method::Post,
        &token,
        "/api/orders",
        Some(order_body(
            json!({"expires_at": in_minutes(0)}),
            SHOP_MARKET,
        )),
    );
    assert_eq!(st, 422, "{v}");
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/expires_at")],
    );
    let (st, v) = patch_order(
        &s,
        &token,
        &pending,
        json!({"expires_at": in_minutes(0)}),
        json!({}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "status"), "pending");
    assert!(parse_utc(attr(&v, "expires_at").as_str().unwrap()).unwrap() <= now_millis());
    let (st, r) = outcome(&s, &pending, "pay");
    assert_eq!(st, 409);
    assert_eq!(r, json!({"error": "the order has expired"}));
    let (st, v) = patch_order(&s, &token, &pending, json!({"_place": true}), json!({}));
    assert_eq!(st, 422);
    assert_eq!(errors(&v)[0].3, "_place - the order has expired");
    let (st, html) = page(&format!(
        "{}/checkout/{pending}?accessToken={}",
        s.commercelayer_base_url(),
        sales_channel(&s, &shop())
    ));
    assert_eq!(st, 200);
    assert!(html.contains("This checkout has expired") && !html.contains("id=pay"));
    // An authorization whose placement failed is voided with the authorization's own _cancel
    // ("void a succeeded authorization of a pending order"), which leaves the order unpaid.
    let held = ready_order(&s, &token, json!({"customer_email": "c@shop.example"}));
    assert_eq!(
        outcome(&s, &held, "authorize"),
        (200, json!({"redirect": null}))
    );
    let v = order(&s, &token, &held, "?include=authorizations");
    assert_eq!(attr(&v, "status"), "pending");
    assert_eq!(attr(&v, "payment_status"), "authorized");
    let auth = v["included"][0]["id"].as_str().unwrap().to_string();
    let trigger = |name: &str| {
        api(
            &s,
            Method::Patch,
            &token,
            &format!("/api/authorizations/{auth}?include=voids"),
            Some(
                json!({"data": {"type": "authorizations", "id": auth, "attributes": {name: true}}}),
            ),
        )
    };
    let (st, v) = trigger("_void");
    assert_eq!(st, 422, "{v}");
    assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_void")]);
    let (st, v) = trigger("_cancel");
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "void_balance_cents"), 0);
    assert_eq!(v["included"][0]["attributes"]["amount_cents"], 9980);
    let v = order(&s, &token, &held, "");
    assert_eq!(attr(&v, "payment_status"), "unpaid");
    assert_eq!(attr(&v, "status"), "pending");
}

#[test]
fn an_expired_order_cannot_be_paid() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let id = ready_order(
        &s,
        &token,
        json!({"customer_email": "c@shop.example", "expires_at": in_minutes(15)}),
    );
    let link = create_link(&s, &token, &id, shop_link_attrs());
    let link_id = link["id"].as_str().unwrap();
    assert_eq!(outcome(&s, &id, "expire"), (200, json!({"redirect": null})));
    let (st, r) = outcome(&s, &id, "pay");
    assert_eq!(st, 409);
    assert_eq!(r, json!({"error": "the order has expired"}));
    let v = order(&s, &token, &id, "");
    assert!(parse_utc(attr(&v, "expires_at").as_str().unwrap()).unwrap() <= now_millis());
    assert_eq!(attr(&v, "status"), "pending");
    let (st, l) = get(&s, &token, &format!("/api/links/{link_id}"));
    assert_eq!(st, 200);
    assert_eq!(attr(&l, "status"), "expired");
    assert_eq!(attr(&l, "active"), false);
    let (st, html) = page(&format!("{}/link/{link_id}", s.commercelayer_base_url()));
    assert_eq!(st, 410);
    assert!(html.contains("no longer active"));
    let sc = sales_channel(&s, &shop());
    let (st, html) = page(&format!(
        "{}/checkout/{id}?accessToken={sc}",
        s.commercelayer_base_url()
    ));
    assert_eq!(st, 200);
    assert!(
        html.contains("This checkout has expired") && !html.contains("id=pay"),
        "{html}"
    );
    let (st, _, html) = press(&s, &id, "pay", &sc);
    assert_eq!(st, 409);
    assert!(html.contains("the order has expired"));
    let (st, v) = patch_order(&s, &token, &id, json!({"_place": true}), json!({}));
    assert_eq!(st, 422);
    assert_eq!(errors(&v)[0].3, "_place - the order has expired");
}
