//! Order Management: reads, captures, refunds, cancel and release, their idempotency keys, and
//! the at-sale capture (HPP `CAPTURE_ORDER`), each rule checked against the OM spec and Klarna's
//! documented errors (see `kassa_sandbox::klarna`'s `order_management` module docs).

use crate::common::{
    as_user, assert_om_error, basic, body_of, call, capture, control, hpp_get, kaffe_and_bolle,
    kaffe_line, key, messages, om_post, om_request, order, paid_order, placed, raw, refund,
    sandbox, send, shop, till,
};
use kassa_core::http::{Method, Request};
use serde_json::json;

#[test]
fn order_cancel_needs_an_idempotency_key_and_is_idempotent() {
    let s = sandbox();
    let (id, _) = placed(&s, "PLACE_ORDER");
    control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    let order_id = hpp_get(&s, &id)["order_id"].as_str().unwrap().to_string();
    let cancel = |key: Option<&str>| {
        let mut r = Request::new(
            Method::Post,
            format!(
                "{}/ordermanagement/v1/orders/{order_id}/cancel",
                s.klarna_base_url()
            ),
        )
        .header("authorization", shop());
        if let Some(k) = key {
            r = r.header("klarna-idempotency-key", k.to_string());
        }
        send(r)
    };
    let (st, v) = cancel(None);
    assert_eq!(st, 400);
    assert!(messages(&v)[0].starts_with("Bad value: Klarna-Idempotency-Key"));
    assert_eq!(cancel(Some("retry-1")).0, 400);
    let key = "6f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f";
    assert_eq!(cancel(Some(key)).0, 204);
    assert_eq!(cancel(Some(key)).0, 204, "the same key: the same answer");
    let (_, o) = call(
        &s,
        Method::Get,
        &shop(),
        &format!("/ordermanagement/v1/orders/{order_id}"),
        None,
    );
    assert_eq!(o["status"], "CANCELLED");
    assert_eq!(o["remaining_authorized_amount"], 0);
    let (st, v) = cancel(Some("7f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"));
    assert_eq!(st, 403, "a new key acts again: already cancelled");
    assert_eq!(v["error_code"], "CANCEL_NOT_ALLOWED");

    // A captured order cannot be cancelled.
    let (id, _) = placed(&s, "CAPTURE_ORDER");
    control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    let captured = hpp_get(&s, &id)["order_id"].as_str().unwrap().to_string();
    let (st, v) = send(
        Request::new(
            Method::Post,
            format!(
                "{}/ordermanagement/v1/orders/{captured}/cancel",
                s.klarna_base_url()
            ),
        )
        .header("authorization", shop())
        .header(
            "klarna-idempotency-key",
            "8f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f",
        ),
    );
    assert_eq!(st, 403);
    assert_eq!(v["error_code"], "CANCEL_NOT_ALLOWED");
}

#[test]
fn captures_take_at_most_the_remaining_authorization() {
    let s = sandbox();
    let id = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    let o = order(&s, &id);
    assert_eq!(
        (
            o["status"].as_str(),
            o["remaining_authorized_amount"].as_i64()
        ),
        (Some("AUTHORIZED"), Some(13000))
    );

    // Two of the three coffees, with the lines and Kassa's reference.
    let k = key();
    let body = json!({"captured_amount": 7000, "reference": "op-1", "description": "Delivered",
                      "order_lines": [kaffe_line(2, 0)]});
    let r = om_post(&s, &id, "/captures", &k, Some(body));
    assert_eq!(r.status, 201, "{}", body_of(&r));
    assert!(r.body.is_empty(), "201 Created has no body");
    let capture_id = r.header("capture-id").unwrap().to_string();
    assert_eq!(capture_id.len(), 36);
    let location = r.header("location").unwrap().to_string();
    assert!(
        location.ends_with(&format!(
            "/klarna/ordermanagement/v1/orders/{id}/captures/{capture_id}"
        )),
        "{location}"
    );
    let o = order(&s, &id);
    assert_eq!(o["status"], "PART_CAPTURED");
    for (field, amount) in [
        ("captured_amount", 7000),
        ("refunded_amount", 0),
        ("remaining_authorized_amount", 6000),
    ] {
        assert_eq!(o[field], amount, "{field}");
    }
    let c = &o["captures"][0];
    assert_eq!(
        (c["capture_id"].as_str(), c["captured_amount"].as_i64()),
        (Some(capture_id.as_str()), Some(7000))
    );
    assert_eq!(
        (c["reference"].as_str(), c["description"].as_str()),
        (Some("op-1"), Some("Delivered"))
    );
    assert_eq!(c["order_lines"], json!([kaffe_line(2, 0)]));
    assert!(c["captured_at"].is_string());
    // The capture at its Location, and in the list.
    let auth = |r: Request| r.header("authorization", shop());
    let (st, at_location) = send(auth(Request::new(Method::Get, location)));
    assert_eq!((st, &at_location), (200, c));

    // More than remains: refused, nothing captured.
    let r = capture(&s, &id, json!({"captured_amount": 6001}));
    assert_om_error(
        &r,
        403,
        "CAPTURE_NOT_ALLOWED",
        "Captured amount 6001 is higher than the remaining authorized amount 6000",
    );
    assert_eq!(order(&s, &id)["captured_amount"], 7000);
    // The rest, without lines: CAPTURED, nothing remains.
    let r = capture(&s, &id, json!({"captured_amount": 6000}));
    assert_eq!(r.status, 201);
    let o = order(&s, &id);
    assert_eq!(
        (
            o["status"].as_str(),
            o["remaining_authorized_amount"].as_i64()
        ),
        (Some("CAPTURED"), Some(0))
    );
    let r = capture(&s, &id, json!({"captured_amount": 1}));
    assert_om_error(
        &r,
        403,
        "CAPTURE_NOT_ALLOWED",
        &format!("Order {id} is CAPTURED"),
    );
    let (st, list) = call(
        &s,
        Method::Get,
        &shop(),
        &format!("/ordermanagement/v1/orders/{id}/captures"),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["captured_amount"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [7000, 6000]
    );
}

#[test]
fn a_capture_must_be_a_valid_capture_object_with_lines_that_add_up() {
    let s = sandbox();
    let id = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    let bad = |body: serde_json::Value, expected: &[&str]| {
        let r = capture(&s, &id, body.clone());
        let v = body_of(&r);
        assert_eq!(
            (r.status, v["error_code"].as_str()),
            (400, Some("BAD_VALUE")),
            "{body}: {v}"
        );
        let got = messages(&v);
        for e in expected {
            assert!(got.iter().any(|m| m.starts_with(e)), "{e:?} not in {got:?}");
        }
    };
    bad(json!({}), &["Bad value: captured_amount (is required)"]);
    bad(
        json!({"captured_amount": "7000"}),
        &["Bad value: captured_amount (must be an integer)"],
    );
    bad(
        json!({"captured_amount": 70.5}),
        &["Bad value: captured_amount (must be an integer)"],
    );
    bad(
        json!({"captured_amount": 100_000_001}),
        &["Bad value: captured_amount (must be at most 100000000)"],
    );
    bad(
        json!({"captured_amount": -1}),
        &["Bad value: captured_amount (must be at least 0)"],
    );
    bad(
        json!({"captured_amount": 0}),
        &["Bad value: captured_amount (must be at least 1)"],
    );
    bad(
        json!({"captured_amount": 100, "reference": "x".repeat(256)}),
        &["Bad value: reference (must be at most 255"],
    );
    bad(
        json!({"captured_amount": 100, "amount": 100}),
        &["Bad value: amount (is not a field"],
    );
    bad(
        json!({"captured_amount": 100, "order_lines": [{"name": "Kaffe", "quantity": 1}]}),
        &[
            "Bad value: order_lines[0].total_amount (is required)",
            "Bad value: order_lines[0].unit_price (is required)",
        ],
    );
    bad(
        json!({"captured_amount": 3500, "order_lines": [{"name": "Kaffe", "quantity": "1", "unit_price": 3500, "total_amount": 3500}]}),
        &["Bad value: order_lines[0].quantity (must be an integer)"],
    );
    bad(
        json!({"captured_amount": 3500, "order_lines": vec![kaffe_line(1, 0); 1001]}),
        &["Bad value: order_lines (must have at most 1000 items)"],
    );
    // Klarna's arithmetic, as on the session: total = quantity × unit_price − discount, the tax.
    let mut wrong = kaffe_line(2, 0);
    wrong["total_amount"] = json!(6999);
    wrong["total_tax_amount"] = json!(913);
    bad(
        json!({"captured_amount": 6999, "order_lines": [wrong]}),
        &["Bad value: order_lines[0].total_amount"],
    );
    let mut wrong = kaffe_line(2, 0);
    wrong["total_tax_amount"] = json!(1000);
    bad(
        json!({"captured_amount": 7000, "order_lines": [wrong]}),
        &["Bad value: order_lines[0].total_tax_amount"],
    );
    let mut wrong = kaffe_line(2, 0);
    wrong["type"] = json!("service");
    bad(
        json!({"captured_amount": 7000, "order_lines": [wrong]}),
        &["Bad value: order_lines[0].type"],
    );
    // Our rule: the lines are what is captured.
    bad(
        json!({"captured_amount": 7001, "order_lines": [kaffe_line(2, 0)]}),
        &["Bad value: order_lines (their total_amount adds up to 7000, not captured_amount)"],
    );
    assert_eq!(order(&s, &id)["captured_amount"], 0, "nothing was captured");

    // The key, the credentials, the order.
    let r = om_post(
        &s,
        &id,
        "/captures",
        "",
        Some(json!({"captured_amount": 100})),
    );
    assert_om_error(&r, 400, "BAD_VALUE", "Bad value: Klarna-Idempotency-Key");
    let r = om_post(
        &s,
        &id,
        "/captures",
        "retry-1",
        Some(json!({"captured_amount": 100})),
    );
    assert_om_error(&r, 400, "BAD_VALUE", "Bad value: Klarna-Idempotency-Key");
    let r = raw(as_user(
        om_request(
            &s,
            &id,
            "/captures",
            &key(),
            Some(json!({"captured_amount": 100})),
        ),
        basic("PK_shop_31f0", "wrong"),
    ));
    assert_eq!(r.status, 401);
    let unknown = "00000000-0000-4000-8000-000000000000";
    let r = capture(&s, unknown, json!({"captured_amount": 100}));
    assert_om_error(&r, 404, "NO_SUCH_ORDER", "No such order");
    let (st, v) = send(as_user(
        om_request(
            &s,
            &id,
            "/captures",
            &key(),
            Some(json!({"captured_amount": 100})),
        ),
        till(),
    ));
    assert_eq!(
        (st, v["error_code"].as_str()),
        (404, Some("NO_SUCH_ORDER")),
        "another account's order"
    );
}

#[test]
fn pending_cancelled_and_expired_orders_cannot_be_captured() {
    let s = sandbox();
    let capture = |id: &str| capture(&s, id, json!({"captured_amount": 100}));
    let pending = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay_pending");
    assert_om_error(
        &capture(&pending),
        403,
        "CAPTURE_NOT_ALLOWED",
        &format!("Order {pending} has fraud status PENDING"),
    );
    let r = om_post(&s, &pending, "/cancel", &key(), None);
    assert_eq!(r.status, 204);
    assert_om_error(
        &capture(&pending),
        403,
        "CAPTURE_NOT_ALLOWED",
        &format!("Order {pending} is cancelled"),
    );

    let expiring = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    assert_eq!(capture(&expiring).status, 201);
    let (st, _) = control(&s, &format!("/orders/{expiring}/expire"), json!({}));
    assert_eq!(st, 204);
    let o = order(&s, &expiring);
    assert_eq!(
        (
            o["status"].as_str(),
            o["remaining_authorized_amount"].as_i64()
        ),
        (Some("EXPIRED"), Some(0))
    );
    assert_om_error(
        &capture(&expiring),
        403,
        "CAPTURE_NOT_ALLOWED",
        &format!("Order {expiring} is expired. Capture not possible."),
    );
    // What was captured before the expiry can still be refunded.
    let r = refund(&s, &expiring, json!({"refunded_amount": 100}));
    assert_eq!(r.status, 201, "{}", body_of(&r));
}

#[test]
fn refunds_are_of_captured_money_only() {
    let s = sandbox();
    let id = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    let refund = |body| refund(&s, &id, body);
    // Nothing captured yet.
    assert_om_error(
        &refund(json!({"refunded_amount": 100})),
        403,
        "REFUND_NOT_ALLOWED",
        "Order has no captures. Refund not possible",
    );
    assert_eq!(
        capture(&s, &id, json!({"captured_amount": 9500})).status,
        201
    );
    assert_om_error(
        &refund(json!({"refunded_amount": 9501})),
        403,
        "REFUND_NOT_ALLOWED",
        "Over refund is not allowed. Refund not possible.",
    );

    // One coffee back, with its line, reason and reference; then the rest of what was captured.
    let r = refund(
        json!({"refunded_amount": 3500, "reference": "op-2", "description": "Kald kaffe",
                          "order_lines": [kaffe_line(1, 0)]}),
    );
    assert_eq!(r.status, 201, "{}", body_of(&r));
    assert!(r.body.is_empty());
    let refund_id = r.header("refund-id").unwrap().to_string();
    let location = r.header("location").unwrap().to_string();
    assert!(
        location.ends_with(&format!(
            "/ordermanagement/v1/orders/{id}/refunds/{refund_id}"
        )),
        "{location}"
    );
    let (st, at_location) =
        send(Request::new(Method::Get, location).header("authorization", shop()));
    assert_eq!(st, 200);
    assert_eq!(
        (
            at_location["refund_id"].as_str(),
            at_location["refunded_amount"].as_i64()
        ),
        (Some(refund_id.as_str()), Some(3500))
    );
    assert_eq!(
        (
            at_location["reference"].as_str(),
            at_location["description"].as_str()
        ),
        (Some("op-2"), Some("Kald kaffe"))
    );
    assert_eq!(at_location["order_lines"], json!([kaffe_line(1, 0)]));
    assert_om_error(
        &refund(json!({"refunded_amount": 6001})),
        403,
        "REFUND_NOT_ALLOWED",
        "Over refund is not allowed",
    );
    assert_eq!(
        refund(json!({"refunded_amount": 6000, "reference": "op-3"})).status,
        201
    );
    assert_om_error(
        &refund(json!({"refunded_amount": 1})),
        403,
        "REFUND_NOT_ALLOWED",
        "Over refund is not allowed",
    );
    let o = order(&s, &id);
    assert_eq!(
        (o["captured_amount"].as_i64(), o["refunded_amount"].as_i64()),
        (Some(9500), Some(9500))
    );
    assert_eq!(o["status"], "PART_CAPTURED", "a refund changes no status");
    let references: Vec<_> = o["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reference"].as_str().unwrap())
        .collect();
    assert_eq!(references, ["op-2", "op-3"]);
    assert_eq!(o["captures"][0]["refunded_amount"], 9500);

    // The body's rules; an unknown order or refund is NOT_FOUND here, not NO_SUCH_ORDER.
    for (body, message) in [
        (json!({}), "Bad value: refunded_amount (is required)"),
        (
            json!({"refunded_amount": "1"}),
            "Bad value: refunded_amount (must be an integer)",
        ),
        (
            json!({"refunded_amount": 0}),
            "Bad value: refunded_amount (must be at least 1)",
        ),
        (
            json!({"refunded_amount": 100_000_001}),
            "Bad value: refunded_amount (must be at most 100000000)",
        ),
        (
            json!({"refunded_amount": 1, "description": "x".repeat(256)}),
            "Bad value: description (must be at most 255",
        ),
        (
            json!({"refunded_amount": 3499, "order_lines": [kaffe_line(1, 0)]}),
            "Bad value: order_lines (their total_amount adds up to 3500",
        ),
    ] {
        assert_om_error(&refund(body), 400, "BAD_VALUE", message);
    }
    let unknown = "00000000-0000-4000-8000-000000000000";
    let r = om_post(
        &s,
        unknown,
        "/refunds",
        &key(),
        Some(json!({"refunded_amount": 1})),
    );
    assert_om_error(&r, 404, "NOT_FOUND", "Order not found");
    let (st, v) = call(
        &s,
        Method::Get,
        &shop(),
        &format!("/ordermanagement/v1/orders/{id}/refunds/{unknown}"),
        None,
    );
    assert_eq!((st, v["error_code"].as_str()), (404, Some("NOT_FOUND")));
    let (st, v) = call(
        &s,
        Method::Get,
        &shop(),
        &format!("/ordermanagement/v1/orders/{id}/captures/{unknown}"),
        None,
    );
    assert_eq!((st, v["error_code"].as_str()), (404, Some("NO_SUCH_ORDER")));
}

#[test]
fn a_key_gets_its_first_answer_again_status_body_and_headers() {
    let s = sandbox();
    let id = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    let post = |path: &str, k: &str, body| om_post(&s, &id, path, k, Some(body));
    let k = key();
    let first = post(
        "/captures",
        &k,
        json!({"captured_amount": 5000, "reference": "op-1"}),
    );
    assert_eq!(first.status, 201);
    // The same key, even with another body ("only the key matters"): the first answer.
    let again = post("/captures", &k, json!({"captured_amount": 8000}));
    assert_eq!(again.status, 201);
    for h in ["capture-id", "location"] {
        assert_eq!(again.header(h), first.header(h), "{h}");
    }
    let o = order(&s, &id);
    assert_eq!(
        (
            o["captured_amount"].as_i64(),
            o["captures"].as_array().unwrap().len()
        ),
        (Some(5000), 1)
    );

    // A refusal is kept too: the same key answers it again, byte for byte.
    let k = key();
    let refused = post("/refunds", &k, json!({"refunded_amount": 5001}));
    assert_om_error(&refused, 403, "REFUND_NOT_ALLOWED", "Over refund");
    let again = post("/refunds", &k, json!({"refunded_amount": 1}));
    assert_eq!((again.status, &again.body), (403, &refused.body));
    assert_eq!(order(&s, &id)["refunded_amount"], 0);
    // A refund's headers replay as well; a new key is a new refund.
    let k = key();
    let first = post("/refunds", &k, json!({"refunded_amount": 100}));
    let again = post("/refunds", &k, json!({"refunded_amount": 100}));
    assert_eq!(first.status, 201);
    for h in ["refund-id", "location"] {
        assert!(first.header(h).is_some());
        assert_eq!(again.header(h), first.header(h), "{h}");
    }
    assert_eq!(refund(&s, &id, json!({"refunded_amount": 100})).status, 201);
    assert_eq!(order(&s, &id)["refunded_amount"], 200);
    // Keys are per account: the same key from another account is that account's own.
    let (st, _) = send(as_user(
        om_request(
            &s,
            &id,
            "/refunds",
            &k,
            Some(json!({"refunded_amount": 100})),
        ),
        till(),
    ));
    assert_eq!(st, 404);
}

#[test]
fn after_a_partial_capture_the_rest_is_released_not_cancelled() {
    let s = sandbox();
    let id = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    let release = |id: &str| om_post(&s, id, "/release-remaining-authorization", &key(), None);
    assert_om_error(
        &release(&id),
        403,
        "NOT_ALLOWED",
        "Can not release when order is cancelled or has no captures.",
    );
    assert_eq!(
        capture(&s, &id, json!({"captured_amount": 2500})).status,
        201
    );
    assert_om_error(
        &om_post(&s, &id, "/cancel", &key(), None),
        403,
        "CANCEL_NOT_ALLOWED",
        "Order has previous captures. Cancel not possible",
    );
    let r = release(&id);
    assert_eq!((r.status, r.body.is_empty()), (204, true));
    let o = order(&s, &id);
    assert_eq!(
        (
            o["status"].as_str(),
            o["remaining_authorized_amount"].as_i64(),
            o["captured_amount"].as_i64()
        ),
        (Some("CLOSED"), Some(0), Some(2500))
    );
    assert_om_error(
        &release(&id),
        403,
        "NOT_ALLOWED",
        "Remaining authorization cannot be released: the order is CLOSED",
    );
    let r = capture(&s, &id, json!({"captured_amount": 1}));
    assert_om_error(
        &r,
        403,
        "CAPTURE_NOT_ALLOWED",
        &format!("Order {id} is CLOSED"),
    );
    // What was captured can still be refunded.
    assert_eq!(
        refund(&s, &id, json!({"refunded_amount": 2500})).status,
        201
    );

    // A fully captured order has nothing to release; a cancelled one neither.
    let full = paid_order(&s, kaffe_and_bolle(), "CAPTURE_ORDER", "pay");
    assert_om_error(
        &release(&full),
        403,
        "NOT_ALLOWED",
        "Order is fully captured. Remaining authorization cannot be released.",
    );
    let cancelled = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    assert_eq!(om_post(&s, &cancelled, "/cancel", &key(), None).status, 204);
    assert_om_error(
        &release(&cancelled),
        403,
        "NOT_ALLOWED",
        "Can not release when order is cancelled",
    );
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_om_error(&release(unknown), 404, "NO_SUCH_ORDER", "No such order");
    assert_om_error(
        &om_post(&s, unknown, "/cancel", &key(), None),
        404,
        "NO_SUCH_ORDER",
        "No such order",
    );
}

#[test]
fn capture_order_captures_the_whole_order_at_sale() {
    let s = sandbox();
    let id = paid_order(&s, kaffe_and_bolle(), "CAPTURE_ORDER", "pay");
    let o = order(&s, &id);
    assert_eq!(
        (
            o["status"].as_str(),
            o["captured_amount"].as_i64(),
            o["remaining_authorized_amount"].as_i64()
        ),
        (Some("CAPTURED"), Some(13000), Some(0))
    );
    let captures = o["captures"].as_array().unwrap();
    assert_eq!(captures.len(), 1);
    assert_eq!(captures[0]["captured_amount"], 13000);
    assert!(
        captures[0].get("reference").is_none(),
        "Klarna's own capture carries no reference"
    );
    assert_eq!(captures[0]["order_lines"], o["order_lines"]);
    // While the fraud check is pending nothing is captured; once accepted, everything.
    let pending = paid_order(&s, kaffe_and_bolle(), "CAPTURE_ORDER", "pay_pending");
    assert_eq!(order(&s, &pending)["captured_amount"], 0);
    assert_eq!(
        control(
            &s,
            &format!("/orders/{pending}/fraud"),
            json!({"fraud_status": "ACCEPTED"})
        )
        .0,
        204
    );
    let o = order(&s, &pending);
    assert_eq!(
        (o["status"].as_str(), o["captured_amount"].as_i64()),
        (Some("CAPTURED"), Some(13000))
    );
    // PLACE_ORDER leaves it authorized.
    let placed = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    assert_eq!(order(&s, &placed)["captured_amount"], 0);
}

#[test]
fn injected_faults_reach_the_new_endpoints() {
    let s = sandbox();
    let id = paid_order(&s, kaffe_and_bolle(), "PLACE_ORDER", "pay");
    let fault = |f: serde_json::Value| {
        let r = raw(
            Request::new(Method::Post, format!("{}/_control/faults", s.url()))
                .json(json!({"faults": [f]}).to_string().into_bytes()),
        );
        assert_eq!(r.status, 204);
    };
    // 503 before the emulator acts: Klarna's error shape, nothing captured, the key unused.
    fault(json!({"method": "POST", "path": "/captures", "kind": "status", "status": 503}));
    let k = key();
    let body = json!({"captured_amount": 1000});
    let r = om_post(&s, &id, "/captures", &k, Some(body.clone()));
    assert_om_error(&r, 503, "SANDBOX_INJECTED", "injected HTTP 503");
    assert_eq!(order(&s, &id)["captured_amount"], 0);
    let first = om_post(&s, &id, "/captures", &k, Some(body.clone()));
    assert_eq!(first.status, 201);
    // 429 with Retry-After.
    fault(json!({"path": "/refunds", "kind": "rate_limit", "retry_after": 7}));
    let r = refund(&s, &id, json!({"refunded_amount": 100}));
    assert_eq!((r.status, r.retry_after), (429, Some(7)));
    // The answer lost after the work: the capture happened; the same key tells what it was.
    fault(json!({"path": "/captures", "kind": "timeout", "ms": 1500}));
    let impatient = kassa_core::http::Http::new(kassa_core::http::HttpConfig {
        timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    })
    .unwrap();
    let k = key();
    let lost = impatient.send(
        "test",
        &om_request(
            &s,
            &id,
            "/captures",
            &k,
            Some(json!({"captured_amount": 2000, "reference": "op-lost"})),
        ),
    );
    assert!(
        matches!(
            lost,
            Err(kassa_core::http::HttpError::Timeout { sent: true, .. })
        ),
        "{lost:?}"
    );
    let o = order(&s, &id);
    assert_eq!(o["captured_amount"], 3000);
    assert_eq!(o["captures"][1]["reference"], "op-lost");
    let again = om_post(
        &s,
        &id,
        "/captures",
        &k,
        Some(json!({"captured_amount": 2000})),
    );
    assert_eq!(
        (again.status, again.header("capture-id")),
        (201, o["captures"][1]["capture_id"].as_str())
    );
    assert_eq!(order(&s, &id)["captured_amount"], 3000);
    // Not JSON, and a truncated order read.
    fault(json!({"path": "/release-remaining-authorization", "kind": "not_json"}));
    let r = om_post(&s, &id, "/release-remaining-authorization", &key(), None);
    assert_eq!((r.status, r.is_json()), (200, true));
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    assert_eq!(
        order(&s, &id)["status"],
        "CLOSED",
        "the emulator acted before the fault"
    );
    fault(json!({"method": "GET", "path": "/ordermanagement/", "kind": "truncated"}));
    let (st, v) = call(
        &s,
        Method::Get,
        &shop(),
        &format!("/ordermanagement/v1/orders/{id}"),
        None,
    );
    assert_eq!((st, v), (200, serde_json::Value::Null));
}
