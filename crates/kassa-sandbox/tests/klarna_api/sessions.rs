//! Klarna Payments sessions, the Hosted Payment Page sessions, the hosted page and its QR code,
//! and the orders a payment places.

use crate::common::{
    assert_bad_value, basic, battery, call, control, hpp_get, hpp_session, kp_session, messages,
    page, placed, press, raw, sandbox, shop, till, urls,
};
use kassa_core::http::{Method, Request};
use kassa_core::time::parse_utc;
use kassa_sandbox::Sandbox;
use serde_json::{json, Value};

#[test]
fn every_call_needs_the_accounts_basic_credentials() {
    let s = sandbox();
    for auth in [
        String::new(),
        basic("PK_shop_31f0", "wrong"),
        "Bearer x".into(),
    ] {
        let (st, v) = kp_session(&s, &auth, battery());
        assert_eq!(st, 401, "{v}");
        assert_eq!(v["error_code"], "UNAUTHORIZED");
        assert!(v["error_messages"].is_array());
        assert_eq!(v["correlation_id"].as_str().unwrap().len(), 36);
    }
    let (st, v) = kp_session(&s, &shop(), battery());
    assert_eq!(st, 200, "{v}");
    let id = v["session_id"].as_str().unwrap();
    // Another account's session does not exist for it.
    let path = format!("/payments/v1/sessions/{id}");
    assert_eq!(call(&s, Method::Get, &till(), &path, None).0, 404);
    assert_eq!(call(&s, Method::Get, "", &path, None).0, 401);
    // Accounts can be added at run time.
    let (st, _) = control(
        &s,
        "/accounts",
        json!({"username": "PK_new_7a3c5e", "password": "klarna-new-pw-e04d"}),
    );
    assert_eq!(st, 204);
    assert_eq!(
        kp_session(&s, &basic("PK_new_7a3c5e", "klarna-new-pw-e04d"), battery()).0,
        200
    );
}

#[test]
fn the_docs_example_creates_a_session() {
    let s = sandbox();
    let (st, v) = kp_session(&s, &shop(), battery());
    assert_eq!(st, 200, "{v}");
    let id = v["session_id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert!(!v["client_token"].as_str().unwrap().is_empty());
    assert_eq!(v["payment_method_categories"][0]["identifier"], "klarna");
    assert_eq!(v["payment_method_categories"][0]["name"], "Pay with Klarna");
    assert!(v["payment_method_categories"][0]["asset_urls"]["standard"].is_string());
    let (st, g) = call(
        &s,
        Method::Get,
        &shop(),
        &format!("/payments/v1/sessions/{id}"),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(g["status"], "incomplete");
    assert_eq!(g["order_amount"], 9500);
    assert_eq!(g["order_lines"], battery()["order_lines"]);
    let expires = parse_utc(g["expires_at"].as_str().unwrap()).unwrap();
    let in_hours = (expires - kassa_core::time::now_millis()) as f64 / 3_600_000.0;
    assert!((47.9..=48.0).contains(&in_hours), "{in_hours}");
}

#[test]
fn each_amount_rule_is_a_bad_value_naming_its_path() {
    let s = sandbox();
    // total_amount ≠ quantity × unit_price − total_discount_amount.
    let mut v = battery();
    v["order_lines"][0]["total_discount_amount"] = json!(400);
    assert_bad_value(&s, v, &["Bad value: order_lines[0].total_amount"]);
    // total_tax_amount more than 1 off the tax-included formula (and the order sum follows).
    let mut v = battery();
    v["order_lines"][0]["total_tax_amount"] = json!(1898);
    v["order_tax_amount"] = json!(1898);
    assert_bad_value(&s, v, &["Bad value: order_lines[0].total_tax_amount"]);
    let mut v = battery();
    v["order_lines"][0]["total_tax_amount"] = json!(1901);
    v["order_tax_amount"] = json!(1901);
    assert_eq!(kp_session(&s, &shop(), v).0, 200, "±1 is allowed");
    // The order sums.
    let mut v = battery();
    v["order_amount"] = json!(9600);
    assert_bad_value(&s, v, &["Bad value: order_amount"]);
    let mut v = battery();
    v["order_tax_amount"] = json!(2000);
    assert_bad_value(&s, v, &["Bad value: order_tax_amount"]);
    // Required here: intent buy and order_tax_amount; a known currency.
    let mut v = battery();
    v.as_object_mut().unwrap().remove("intent");
    v.as_object_mut().unwrap().remove("order_tax_amount");
    v["purchase_currency"] = json!("ABC");
    assert_bad_value(
        &s,
        v,
        &[
            "Bad value: intent",
            "Bad value: order_tax_amount",
            "Bad value: purchase_currency",
        ],
    );
    let mut v = battery();
    v["intent"] = json!("buy_and_tokenize");
    let (_, answer) = kp_session(&s, &shop(), v);
    assert_eq!(messages(&answer), ["Bad value: intent"]);
}

#[test]
fn schema_violations_are_refused() {
    let s = sandbox();
    let mut v = battery();
    v["order_lines"][0]["quantity"] = json!(1.5);
    assert_bad_value(
        &s,
        v,
        &["Bad value: order_lines[0].quantity (must be an integer)"],
    );
    let mut v = battery();
    v["order_lines"][0]["tax_rate"] = json!(25000);
    assert_bad_value(
        &s,
        v,
        &["Bad value: order_lines[0].tax_rate (must be at most 10000)"],
    );
    let mut v = battery();
    v["order_lines"][0]["vat"] = json!(25);
    assert_bad_value(
        &s,
        v,
        &["Bad value: order_lines[0].vat (is not a field of order_line)"],
    );
    let mut v = battery();
    v["client_token"] = json!("mine");
    assert_bad_value(&s, v, &["Bad value: client_token (is read-only)"]);
    let mut v = battery();
    v["acquiring_channel"] = json!("in_store");
    v.as_object_mut().unwrap().remove("purchase_country");
    assert_bad_value(
        &s,
        v,
        &[
            "Bad value: acquiring_channel (must be one of ECOMMERCE",
            "Bad value: purchase_country (is required)",
        ],
    );
    // Not JSON.
    let r = raw(Request::new(
        Method::Post,
        format!("{}/payments/v1/sessions", s.klarna_base_url()),
    )
    .header("authorization", shop())
    .json(b"{".to_vec()));
    assert_eq!(r.status, 400);
}

#[test]
fn in_store_needs_the_agreement() {
    let s = sandbox();
    let mut v = battery();
    v["acquiring_channel"] = json!("IN_STORE");
    let (st, answer) = kp_session(&s, &shop(), v.clone());
    assert_eq!(st, 403, "{answer}");
    assert_eq!(answer["error_code"], "NOT_ALLOWED");
    assert_eq!(kp_session(&s, &till(), v).0, 200);
}

#[test]
fn hpp_sessions_hang_off_a_kp_session_of_the_same_account() {
    let s = sandbox();
    let (kp_id, h) = hpp_session(&s, &shop(), battery(), json!({"merchant_urls": urls()}));
    let id = h["session_id"].as_str().unwrap();
    let base = s.klarna_base_url();
    assert_eq!(h["session_url"], format!("{base}/hpp/v1/sessions/{id}"));
    assert_eq!(h["redirect_url"], format!("{base}/hpp/pay/{id}"));
    assert_eq!(h["qr_code_url"], format!("{base}/hpp/pay/{id}/qr"));
    assert_eq!(
        h["distribution_url"],
        format!("{base}/hpp/v1/sessions/{id}/distribution")
    );
    // It expires an hour before its KP session.
    let (_, kp) = call(
        &s,
        Method::Get,
        &shop(),
        &format!("/payments/v1/sessions/{kp_id}"),
        None,
    );
    let kp_expiry = parse_utc(kp["expires_at"].as_str().unwrap()).unwrap();
    let hpp_expiry = parse_utc(h["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(kp_expiry - hpp_expiry, 3_600_000);
    let g = hpp_get(&s, id);
    assert_eq!(g["status"], "WAITING");
    assert!(g.get("order_id").is_none() && g.get("authorization_token").is_none());

    // IN_STORE: no redirect_url ("ECOMMERCE only"), the QR code instead.
    let mut in_store = battery();
    in_store["acquiring_channel"] = json!("IN_STORE");
    let (_, h) = hpp_session(&s, &till(), in_store, json!({}));
    assert!(h.get("redirect_url").is_none(), "{h}");
    assert!(h["qr_code_url"].is_string());

    // payment_session_url: unknown, another account's, not a KP session URL.
    for url in [
        format!("{base}/payments/v1/sessions/00000000-0000-4000-8000-000000000000"),
        format!("{base}/payments/v1/sessions/{kp_id}/x"),
        format!("{base}/hpp/v1/sessions/{id}"),
    ] {
        let (st, v) = call(
            &s,
            Method::Post,
            &shop(),
            "/hpp/v1/sessions",
            Some(json!({"payment_session_url": url})),
        );
        assert_eq!(st, 400, "{url}: {v}");
        assert_eq!(messages(&v), ["Bad value: payment_session_url"]);
    }
    let url = format!("{base}/payments/v1/sessions/{kp_id}");
    let (st, _) = call(
        &s,
        Method::Post,
        &till(),
        "/hpp/v1/sessions",
        Some(json!({"payment_session_url": url})),
    );
    assert_eq!(st, 400);
    // Schema: the mode's enum, unknown fields; merchant URLs must be URLs.
    let (st, v) = call(
        &s,
        Method::Post,
        &shop(),
        "/hpp/v1/sessions",
        Some(
            json!({"payment_session_url": url, "options": {"place_order_mode": "AUTO"},
                    "merchant_urls": {"success": "not a url", "sucess": "https://x.example"}}),
        ),
    );
    assert_eq!(st, 400);
    let m = messages(&v).join("\n");
    assert!(
        m.contains("options.place_order_mode (must be one of PLACE_ORDER, CAPTURE_ORDER, NONE)")
            && m.contains("merchant_urls.sucess (is not a field of MerchantUrlsV1)"),
        "{m}"
    );
    // An expired KP session: 404.
    let (st, _) = control(&s, &format!("/payment_sessions/{kp_id}/expire"), json!({}));
    assert_eq!(st, 204);
    let (st, v) = call(
        &s,
        Method::Post,
        &shop(),
        "/hpp/v1/sessions",
        Some(json!({"payment_session_url": url})),
    );
    assert_eq!(st, 404);
    assert_eq!(messages(&v), ["Payment session has expired"]);
}

#[test]
fn paying_on_the_hosted_page_places_the_order() {
    let s = sandbox();
    let (id, page_url) = placed(&s, "PLACE_ORDER");
    let (st, html) = page(&page_url);
    assert_eq!(st, 200);
    assert!(
        html.contains("Battery Power Pack") && html.contains("95.00 SEK"),
        "{html}"
    );
    for action in ["pay", "pay_pending", "decline", "back", "cancel"] {
        assert!(
            html.contains(&format!("/klarna/hpp/pay/{id}/{action}\"")),
            "{action}"
        );
    }
    assert!(html.contains("Pay (fraud check pending)"));
    assert_eq!(hpp_get(&s, &id)["status"], "IN_PROGRESS");

    let r = press(&page_url, "pay");
    assert_eq!(r.status, 303);
    let g = hpp_get(&s, &id);
    assert_eq!(g["status"], "COMPLETED");
    let token = g["authorization_token"].as_str().unwrap();
    let order_id = g["order_id"].as_str().unwrap();
    assert!(!g["klarna_reference"].as_str().unwrap().is_empty());
    let (st, page_after) = page(&page_url);
    assert_eq!(st, 200);
    assert!(page_after.contains("Payment completed.") && !page_after.contains("<form"));
    // Paying twice is impossible (the placeholders are checked in `redirects_carry_...`).
    let (st, again) = control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    assert_eq!(st, 409);
    assert!(again.contains("COMPLETED"), "{again}");
    assert!(!token.is_empty());

    let (st, o) = call(
        &s,
        Method::Get,
        &shop(),
        &format!("/ordermanagement/v1/orders/{order_id}"),
        None,
    );
    assert_eq!(st, 200, "{o}");
    assert_eq!(o["status"], "AUTHORIZED");
    assert_eq!(o["fraud_status"], "ACCEPTED");
    for (field, amount) in [
        ("order_amount", 9500),
        ("original_order_amount", 9500),
        ("captured_amount", 0),
        ("refunded_amount", 0),
        ("remaining_authorized_amount", 9500),
    ] {
        assert_eq!(o[field], amount, "{field}");
    }
    assert_eq!(o["purchase_currency"], "SEK");
    assert_eq!(o["purchase_country"], "SE");
    assert_eq!(o["order_lines"], battery()["order_lines"]);
    assert_eq!(o["klarna_reference"], g["klarna_reference"]);
    assert!(o["created_at"].is_string() && o["expires_at"].is_string());
    // The KP session now has its order; another account cannot see the order.
    let (st, o2) = call(
        &s,
        Method::Get,
        &till(),
        &format!("/ordermanagement/v1/orders/{order_id}"),
        None,
    );
    assert_eq!(st, 404);
    assert_eq!(o2["error_code"], "NO_SUCH_ORDER");
    // A completed session cannot be disabled.
    let (st, v) = call(
        &s,
        Method::Delete,
        &shop(),
        &format!("/hpp/v1/sessions/{id}"),
        None,
    );
    assert_eq!(st, 400, "{v}");
    assert!(v["error_code"].is_string());
}

#[test]
fn redirects_carry_the_placeholders() {
    let s = sandbox();
    let (id, _) = placed(&s, "PLACE_ORDER");
    let (st, body) = control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    assert_eq!(st, 200, "{body}");
    let redirect: Value = serde_json::from_str(&body).unwrap();
    let g = hpp_get(&s, &id);
    assert_eq!(
        redirect["redirect"],
        format!(
            "https://shop.example/ok?sid={id}&token={}&order={}",
            g["authorization_token"].as_str().unwrap(),
            g["order_id"].as_str().unwrap()
        )
    );
    // The page's buttons redirect the same way (303).
    let (id, page_url) = placed(&s, "NONE");
    let r = press(&page_url, "decline");
    assert_eq!(r.status, 303);
    assert_eq!(hpp_get(&s, &id)["status"], "FAILED");
    let (id, page_url) = placed(&s, "NONE");
    assert_eq!(press(&page_url, "back").status, 303);
    assert_eq!(hpp_get(&s, &id)["status"], "BACK");
    // BACK can still pay; NONE mode places no order.
    assert_eq!(press(&page_url, "pay").status, 303);
    let g = hpp_get(&s, &id);
    assert_eq!(g["status"], "COMPLETED");
    assert!(g["authorization_token"].is_string() && g.get("order_id").is_none());
    // Without a merchant URL the page shows the state.
    let (_, h) = hpp_session(&s, &shop(), battery(), json!({}));
    let page_url = h["redirect_url"].as_str().unwrap();
    let r = press(page_url, "cancel");
    assert_eq!(r.status, 200);
    assert!(String::from_utf8(r.body)
        .unwrap()
        .contains("Payment cancelled."));
    assert_eq!(
        hpp_get(&s, h["session_id"].as_str().unwrap())["status"],
        "CANCELLED"
    );
}

#[test]
fn pending_rejected_and_captured_orders() {
    let s = sandbox();
    let (id, page_url) = placed(&s, "PLACE_ORDER");
    assert_eq!(press(&page_url, "pay_pending").status, 303);
    let g = hpp_get(&s, &id);
    assert_eq!(g["status"], "COMPLETED");
    let order_id = g["order_id"].as_str().unwrap().to_string();
    let order = |s: &Sandbox| {
        call(
            s,
            Method::Get,
            &shop(),
            &format!("/ordermanagement/v1/orders/{order_id}"),
            None,
        )
        .1
    };
    assert_eq!(order(&s)["fraud_status"], "PENDING");
    let fraud = format!("/orders/{order_id}/fraud");
    assert_eq!(
        control(&s, &fraud, json!({"fraud_status": "ACCEPTED"})).0,
        204
    );
    assert_eq!(order(&s)["fraud_status"], "ACCEPTED");
    assert_eq!(
        control(&s, &fraud, json!({"fraud_status": "REJECTED"})).0,
        409
    );

    // reject: COMPLETED, but the order's fraud status is REJECTED.
    let (id, _) = placed(&s, "PLACE_ORDER");
    let (st, _) = control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "reject"}),
    );
    assert_eq!(st, 200);
    let g = hpp_get(&s, &id);
    assert_eq!(g["status"], "COMPLETED");
    let (_, o) = call(
        &s,
        Method::Get,
        &shop(),
        &format!(
            "/ordermanagement/v1/orders/{}",
            g["order_id"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(o["fraud_status"], "REJECTED");

    // CAPTURE_ORDER captures the whole order.
    let (id, _) = placed(&s, "CAPTURE_ORDER");
    control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    let g = hpp_get(&s, &id);
    let (_, o) = call(
        &s,
        Method::Get,
        &shop(),
        &format!(
            "/ordermanagement/v1/orders/{}",
            g["order_id"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(o["status"], "CAPTURED");
    assert_eq!(o["captured_amount"], 9500);
    assert_eq!(o["remaining_authorized_amount"], 0);
}

#[test]
fn disabled_and_expired_sessions_cannot_be_paid() {
    let s = sandbox();
    let (id, page_url) = placed(&s, "PLACE_ORDER");
    let (st, _) = call(
        &s,
        Method::Delete,
        &shop(),
        &format!("/hpp/v1/sessions/{id}"),
        None,
    );
    assert_eq!(st, 204);
    assert_eq!(hpp_get(&s, &id)["status"], "DISABLED");
    assert_eq!(press(&page_url, "pay").status, 409);
    let (st, html) = page(&page_url);
    assert_eq!(st, 200);
    assert!(!html.contains("<form"));
    let (st, _) = control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    assert_eq!(st, 409);
    let (st, v) = call(
        &s,
        Method::Delete,
        &shop(),
        "/hpp/v1/sessions/00000000-0000-4000-8000-000000000000",
        None,
    );
    assert_eq!((st, v["error_code"].as_str()), (404, Some("NOT_FOUND")));

    let (id, page_url) = placed(&s, "PLACE_ORDER");
    let (st, body) = control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "open"}),
    );
    assert_eq!((st, body.as_str()), (200, "{\"redirect\":null}"));
    assert_eq!(hpp_get(&s, &id)["status"], "IN_PROGRESS");
    let (st, _) = control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "expire"}),
    );
    assert_eq!(st, 200);
    let (st, text) = control(
        &s,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    assert_eq!(st, 409, "{text}");
    assert_eq!(press(&page_url, "pay").status, 409);
    let (_, html) = page(&page_url);
    assert!(html.contains("expired") && !html.contains("<form"));
    let g = hpp_get(&s, &id);
    assert_eq!(g["status"], "IN_PROGRESS");
    assert!(g.get("authorization_token").is_none());
}

#[test]
fn the_qr_code_is_an_svg_of_the_page() {
    let s = sandbox();
    let mut in_store = battery();
    in_store["acquiring_channel"] = json!("IN_STORE");
    let (_, h) = hpp_session(&s, &till(), in_store, json!({}));
    let r = raw(Request::new(
        Method::Get,
        h["qr_code_url"].as_str().unwrap(),
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type.as_deref(), Some("image/svg+xml"));
    assert!(String::from_utf8(r.body).unwrap().contains("<svg"));
    let r = raw(Request::new(
        Method::Get,
        format!("{}/hpp/pay/nothere/qr", s.klarna_base_url()),
    ));
    assert_eq!(r.status, 404);
}
