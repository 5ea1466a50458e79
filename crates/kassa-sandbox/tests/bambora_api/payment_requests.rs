//! Payment Requests (open, closed, deleted) and what another merchant can see.

use crate::common::{
    call, control, create, http, key, merchant_message, other_merchant, outcome, page, post, query,
    request_body, sandbox, session_body,
};
use kassa_core::http::{Method, Request};
use kassa_sandbox::Sandbox;
use serde_json::{json, Value};

#[test]
fn payment_requests_open_close_and_delete() {
    let s = sandbox();
    let (st, v) = post(&s, &key(), "/paymentrequests", request_body("PR1"));
    assert_eq!(st, 200, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36);
    let url = v["url"].as_str().unwrap();
    assert_eq!(url, format!("{}/pay/{id}", s.bambora_base_url()));
    let (st, r) = call(&s, Method::Get, &key(), &format!("/paymentrequests/{id}"));
    assert_eq!(st, 200);
    assert_eq!(r["meta"]["result"], true);
    assert_eq!(r["status"], "open");
    assert_eq!(r["reference"], "Till 1 / receipt 42");
    assert_eq!(
        r["parameters"]["order"],
        json!({"id": "PR1", "amount": 7744, "currency": "NOK"})
    );
    assert!(r["createddate"].is_string());
    let (_, html) = page(url);
    assert!(html.contains(&format!("action=\"/bambora/pay/{id}/pay\"")) && html.contains("Kaffe"));

    // Leaving the page and a declined card keep it open.
    let r = http(Request::new(Method::Post, format!("{url}/cancel")));
    assert!(String::from_utf8(r.body)
        .unwrap()
        .contains("You left the payment"));
    let r = http(Request::new(Method::Post, format!("{url}/decline")));
    assert!(String::from_utf8(r.body).unwrap().contains("declined"));
    let (_, r) = call(&s, Method::Get, &key(), &format!("/paymentrequests/{id}"));
    assert_eq!(r["status"], "open");

    // Paid: closed, no transaction id in the answer, and DELETE is refused.
    let r = http(Request::new(Method::Post, format!("{url}/pay")));
    assert_eq!(r.status, 200);
    assert!(String::from_utf8(r.body)
        .unwrap()
        .contains("Payment approved"));
    let (_, r) = call(&s, Method::Get, &key(), &format!("/paymentrequests/{id}"));
    assert_eq!(r["status"], "closed");
    assert!(!r.to_string().contains("70000000"), "{r}");
    let (st, v) = call(
        &s,
        Method::Delete,
        &key(),
        &format!("/paymentrequests/{id}"),
    );
    assert_eq!(st, 409);
    assert!(merchant_message(&v).contains("the payment request is closed"));
    let path = format!("/bambora/paymentrequests/{id}/outcome");
    assert_eq!(control(&s, &path, json!({"outcome": "pay"})).0, 409);

    // An open one is deleted: then 404, and the page says it is gone.
    let (_, v) = post(&s, &key(), "/paymentrequests", request_body("PR2"));
    let id = v["id"].as_str().unwrap().to_string();
    let path = format!("/bambora/paymentrequests/{id}/outcome");
    assert_eq!(control(&s, &path, json!({"outcome": "decline"})).0, 200);
    let (st, v) = call(
        &s,
        Method::Delete,
        &key(),
        &format!("/paymentrequests/{id}"),
    );
    assert_eq!((st, &v["meta"]["result"]), (200, &json!(true)));
    let (st, v) = call(&s, Method::Get, &key(), &format!("/paymentrequests/{id}"));
    assert_eq!((st, &v["meta"]["result"]), (404, &json!(false)));
    assert_eq!(
        call(
            &s,
            Method::Delete,
            &key(),
            &format!("/paymentrequests/{id}")
        )
        .0,
        404
    );
    let (_, html) = page(v_url(&s, &id).as_str());
    assert!(html.contains("no longer available") && !html.contains("/pay\""));
    assert_eq!(control(&s, &path, json!({"outcome": "pay"})).0, 409);

    // The same rules as sessions.
    let mut bad = request_body("PR3");
    bad["parameters"]["order"]["lines"][0]["vat"] = json!(12.555);
    bad["parameters"]["termsurl"] = json!("https://shop.example/terms");
    let (st, v) = post(&s, &key(), "/paymentrequests", bad);
    assert_eq!(st, 400);
    let m = merchant_message(&v);
    assert!(
        m.contains("order.lines[0].vat") && m.contains("parameters.termsurl"),
        "{m}"
    );
}

fn v_url(s: &Sandbox, id: &str) -> String {
    format!("{}/pay/{id}", s.bambora_base_url())
}

#[test]
fn another_merchant_sees_nothing() {
    let s = sandbox();
    let other = other_merchant(&s);
    let (token, _) = create(&s, "MINE1");
    let (_, r) = outcome(&s, &token, "pay");
    let url: Value = serde_json::from_str(&r).unwrap();
    let txnid = query(url["redirect"].as_str().unwrap())[1].1.clone();
    assert_eq!(
        call(&s, Method::Get, &key(), &format!("/transactions/{txnid}")).0,
        200
    );
    let (st, v) = call(&s, Method::Get, &other, &format!("/transactions/{txnid}"));
    assert_eq!(st, 404);
    assert_eq!(v["meta"]["result"], false);
    let (_, v) = post(&s, &key(), "/paymentrequests", request_body("MINE2"));
    let id = v["id"].as_str().unwrap();
    assert_eq!(
        call(&s, Method::Get, &other, &format!("/paymentrequests/{id}")).0,
        404
    );
    assert_eq!(
        call(
            &s,
            Method::Delete,
            &other,
            &format!("/paymentrequests/{id}")
        )
        .0,
        404
    );
    // Order ids are per merchant: the other merchant may use MINE1.
    let (st, v) = post(&s, &other, "/sessions", session_body("MINE1"));
    assert_eq!(st, 200, "{v}");
}
