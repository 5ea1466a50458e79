//! Both gateway endpoints end to end: a session, the hosted page, paying or cancelling, the
//! proof, sessions without URLs and expired ones.

use crate::common::{
    assert_error, assert_signed_answer, control, control_order, create, create_body, gateway, http,
    is_lower_hex, key, mg_body, new_order_id, now, order, order_with_items, outcome, path_of, post,
    problems, sandbox, sign_order, CANCEL, CANCELLED, COMPLETED, MERCHANT, MG_CHECKOUT, PG_CREATE,
    PUBLIC, SUCCESS,
};
use kassa_core::provider::opencharge::sign::{self};
use kassa_sandbox::opencharge::{
    merchant_gateway_public_key, payment_gateway_public_key, MERCHANT_GATEWAY_OCID,
    PAYMENT_GATEWAY_OCID,
};
use serde_json::{json, Value};
use std::collections::HashSet;

#[test]
fn checkout_create_page_pay_and_a_proof_that_verifies() {
    let s = sandbox();
    let id = new_order_id();
    let o = order(&id);
    let t0 = now();
    let r = create(&s, &o);
    let t1 = now();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_signed_answer(&r, PAYMENT_GATEWAY_OCID, &payment_gateway_public_key());
    let v = r.json();
    let keys: HashSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        HashSet::from(["checkout_url", "session_id", "expires_at"])
    );
    let session_id = v["session_id"].as_str().unwrap();
    assert!(session_id.starts_with("cs_") && is_lower_hex(&session_id[3..], 32));
    assert_eq!(
        v["checkout_url"],
        format!("{}/opencharge/pg/pay/{session_id}", s.url())
    );
    // min(expiresAt = now + 3600, now + 1800).
    let expires_at = v["expires_at"].as_i64().unwrap();
    assert!((t0 + 1800..=t1 + 1800).contains(&expires_at), "{v}");

    let page = http(
        &s,
        "GET",
        &path_of(&s, v["checkout_url"].as_str().unwrap()),
        &[],
        b"",
    );
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = page.text();
    for part in [
        "Merchant OCID 500",
        "99.99 USD",
        "Order from Merchant Store",
        "<button id=pay",
        "<button id=cancel",
        &format!("action=\"/opencharge/pg/pay/{session_id}/pay\""),
        &format!("action=\"/opencharge/pg/pay/{session_id}/cancel\""),
    ] {
        assert!(html.contains(part), "{part} missing in {html}");
    }

    let c = control_order(&s, &id);
    assert_eq!(c["status"], "pending");
    assert_eq!(c["gateway"], "pg");
    assert_eq!(c["session_id"], session_id);
    assert_eq!(c["order"], o);
    assert_eq!(c["proof"], Value::Null);
    assert_eq!(c["proof_signature"], Value::Null);

    let t0 = now();
    let r = outcome(&s, &id, "pay");
    let t1 = now();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "redirect": SUCCESS }));

    let c = control_order(&s, &id);
    assert_eq!(c["status"], "paid");
    let proof = &c["proof"];
    let signature = c["proof_signature"].as_str().unwrap();
    assert_eq!(signature.len(), 130);
    let canonical = sign::canonical_json(proof).unwrap();
    assert!(sign::verify(
        &payment_gateway_public_key(),
        canonical.as_bytes(),
        signature
    ));
    assert!(!sign::verify(PUBLIC, canonical.as_bytes(), signature));
    assert_eq!(proof["to"], json!({"ocid": MERCHANT, "reference": id}));
    assert_eq!(proof["issuer"], PAYMENT_GATEWAY_OCID);
    assert_eq!(proof["from"]["ocid"], PAYMENT_GATEWAY_OCID);
    assert!(proof["from"]["reference"]
        .as_str()
        .unwrap()
        .starts_with("wallet_"));
    assert_eq!(proof["amount"], "99.99");
    assert_eq!(proof["currency"], "USD");
    let txid = proof["txid"].as_str().unwrap();
    assert!(
        txid.starts_with("tx_") && is_lower_hex(&txid[3..], 32),
        "{txid}"
    );
    assert!((t0..=t1).contains(&proof["timestamp"].as_i64().unwrap()));
    assert_eq!(proof.as_object().unwrap().len(), 7, "{proof}");

    // Paid: the page shows it without buttons; paying again is refused.
    let html = http(
        &s,
        "GET",
        &format!("/opencharge/pg/pay/{session_id}"),
        &[],
        b"",
    )
    .text();
    assert!(html.contains("This order is paid."), "{html}");
    assert!(
        !html.contains("id=pay") && !html.contains("id=cancel"),
        "{html}"
    );
    let again = http(
        &s,
        "POST",
        &format!("/opencharge/pg/pay/{session_id}/pay"),
        &[],
        b"",
    );
    assert_eq!(again.status, 409);
    assert_eq!(outcome(&s, &id, "pay").status, 409);
}

#[test]
fn merchant_gateway_checkout_then_pay_on_the_page() {
    let s = sandbox();
    let id = new_order_id();
    let mut o = order_with_items(&id);
    o["accepts"] = json!([MERCHANT_GATEWAY_OCID]);
    o["expiresAt"] = json!(now() + 600);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_signed_answer(&r, MERCHANT_GATEWAY_OCID, &merchant_gateway_public_key());
    let v = r.json();
    assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    let url = v["redirect_url"].as_str().unwrap();
    let session_id = url
        .strip_prefix(&format!("{}/opencharge/pg/pay/", s.url()))
        .unwrap();
    assert!(session_id.starts_with("cs_"));

    let html = http(&s, "GET", &path_of(&s, url), &[], b"").text();
    for part in [
        "Coffee",
        "Sandwich",
        "2 ×",
        "5.00 USD",
        "25.00 USD",
        "id=pay",
    ] {
        assert!(html.contains(part), "{part} missing in {html}");
    }

    let paid = http(&s, "POST", &format!("{}/pay", path_of(&s, url)), &[], b"");
    assert_eq!(paid.status, 303, "{}", paid.text());
    assert_eq!(paid.header("location"), Some(COMPLETED));
    paid.date();

    let c = control_order(&s, &id);
    assert_eq!(c["gateway"], "mg");
    assert_eq!(c["status"], "paid");
    assert_eq!(c["expires_at"], o["expiresAt"]);
    let proof = &c["proof"];
    assert_eq!(
        proof["to"],
        json!({"ocid": MERCHANT_GATEWAY_OCID, "reference": id})
    );
    assert_eq!(proof["amount"], "25.00");
    assert!(sign::verify(
        &payment_gateway_public_key(),
        sign::canonical_json(proof).unwrap().as_bytes(),
        c["proof_signature"].as_str().unwrap()
    ));

    // The merchant gateway's own schema: no merchantOcid, completed/cancelled required.
    let o = {
        let mut o = order(&new_order_id());
        o["accepts"] = json!([300]);
        o
    };
    let mut body = mg_body(&o, &sign_order(&o, &key()));
    body["merchantOcid"] = json!(MERCHANT);
    body["urls"].as_object_mut().unwrap().remove("cancelled");
    body["urls"]["completed"] = json!("merchant.example/done");
    let v = assert_error(
        &post(&s, MERCHANT, &key(), MG_CHECKOUT, &body),
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(
        problems(&v),
        [
            "merchantOcid is not a field of OrderCheckoutRequest",
            "urls.cancelled is required",
            "urls.completed must be an http(s) URL"
        ]
    );
}

#[test]
fn cancel_on_the_page_redirects_to_the_cancel_url() {
    let s = sandbox();
    let id = new_order_id();
    let r = create(&s, &order(&id));
    assert_eq!(r.status, 200, "{}", r.text());
    let page = path_of(&s, r.json()["checkout_url"].as_str().unwrap());
    let cancel = http(&s, "POST", &format!("{page}/cancel"), &[], b"");
    assert_eq!(cancel.status, 303, "{}", cancel.text());
    assert_eq!(cancel.header("location"), Some(CANCEL));
    let c = control_order(&s, &id);
    assert_eq!(c["status"], "cancelled");
    assert_eq!(c["proof"], Value::Null);
    let html = http(&s, "GET", &page, &[], b"").text();
    assert!(html.contains("This payment was cancelled."), "{html}");
    assert!(!html.contains("id=pay"), "{html}");
    assert_eq!(
        http(&s, "POST", &format!("{page}/pay"), &[], b"").status,
        409
    );
    assert_eq!(
        http(&s, "POST", &format!("{page}/refund"), &[], b"").status,
        404
    );
    assert_eq!(
        http(&s, "GET", "/opencharge/pg/pay/cs_nothing", &[], b"").status,
        404
    );
    // The merchant gateway's cancelled URL.
    let mut o = order(&new_order_id());
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let redirect = outcome(&s, o["id"].as_str().unwrap(), "cancel");
    assert_eq!(redirect.json(), json!({ "redirect": CANCELLED }));
}

#[test]
fn sessions_without_urls_and_expired_sessions() {
    let s = sandbox();
    let o = order(&new_order_id());
    let mut body = create_body(&o, &sign_order(&o, &key()));
    body["urls"] = json!({});
    let r = post(&s, MERCHANT, &key(), PG_CREATE, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let page = path_of(&s, r.json()["checkout_url"].as_str().unwrap());
    let paid = http(&s, "POST", &format!("{page}/pay"), &[], b"");
    assert_eq!(paid.status, 200);
    assert!(
        paid.text().contains("This order is paid."),
        "{}",
        paid.text()
    );

    let o = order(&new_order_id());
    let r = create(&s, &o);
    let session_id = r.json()["session_id"].as_str().unwrap().to_string();
    let expire = control(
        &s,
        "POST",
        &format!("/sessions/{session_id}/outcome"),
        Some(json!({"outcome": "expire"})),
    );
    assert_eq!(expire.json(), json!({ "redirect": null }));
    let c = control(&s, "GET", &format!("/sessions/{session_id}"), None).json();
    assert_eq!(c["status"], "expired");
    let page = format!("/opencharge/pg/pay/{session_id}");
    let html = http(&s, "GET", &page, &[], b"").text();
    assert!(
        html.contains("This checkout session has expired."),
        "{html}"
    );
    assert!(!html.contains("id=pay"), "{html}");
    assert_eq!(
        http(&s, "POST", &format!("{page}/pay"), &[], b"").status,
        409
    );
    assert_eq!(outcome(&s, o["id"].as_str().unwrap(), "pay").status, 409);
    // The gateway's clock also expires sessions: 1800 s later this one is gone.
    let o = order(&new_order_id());
    assert_eq!(create(&s, &o).status, 200);
    gateway(&s, json!({"clock_offset_s": 1801}));
    assert_eq!(
        control_order(&s, o["id"].as_str().unwrap())["status"],
        "expired"
    );
    gateway(&s, json!({"clock_offset_s": 0}));
    assert_eq!(
        control_order(&s, o["id"].as_str().unwrap())["status"],
        "pending"
    );
    let unknown = outcome(&s, o["id"].as_str().unwrap(), "refund");
    assert_eq!(unknown.status, 400);
    assert_eq!(outcome(&s, "ord_unknown", "pay").status, 404);
    assert_eq!(control(&s, "GET", "/orders/ord_unknown", None).status, 404);
}
