//! Checkout sessions: the API key and the envelope, the order and line rules, unique order
//! ids, the payment window, its signed accept redirect and the Merchant API's transaction.

use crate::common::{
    api_key, call, create, http, key, md5_hex, merchant_message, outcome, page, post, query, raw,
    request_body, sandbox, send, session_body, MD5_KEY, MERCHANT,
};
use base64::Engine;
use kassa_core::http::{Method, Request};
use serde_json::{json, Value};

#[test]
fn a_wrong_api_key_is_401_with_the_envelope() {
    let s = sandbox();
    for auth in [
        api_key("bambora-access-3f9c", MERCHANT, "wrong-secret"),
        api_key("wrong", MERCHANT, "bambora-s3cret-8b21"),
        api_key("bambora-access-3f9c", "T999999999", "bambora-s3cret-8b21"),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("access:s3cret")
        ),
        "Bearer access".to_string(),
    ] {
        let (st, v) = post(&s, &auth, "/sessions", session_body("A1"));
        assert_eq!(st, 401, "{auth}");
        let m = merchant_message(&v);
        assert!(
            m.contains("access token, merchant number or secret token is wrong"),
            "{m}"
        );
        assert!(!m.contains("bambora-s3cret-8b21") && !v.to_string().contains("wrong-secret"));
        assert!(v["meta"]["action"]["code"].is_string());
    }
    let (st, _) = call(&s, Method::Get, "", "/transactions/70000000001");
    assert_eq!(st, 401);
}

#[test]
fn a_session_gets_a_token_and_a_payment_window() {
    let s = sandbox();
    let (token, url) = create(&s, "K1001");
    assert_eq!(token.len(), 32);
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(url, format!("{}/window/{token}", s.bambora_base_url()));
    let (st, html) = page(&url);
    assert_eq!(st, 200);
    for needle in [
        "K1001",
        "Kaffe",
        "Ost",
        "59.97 NOK",
        "77.44 NOK",
        &format!("action=\"/bambora/window/{token}/pay\""),
        &format!("action=\"/bambora/window/{token}/decline\""),
        &format!("action=\"/bambora/window/{token}/cancel\""),
        ">Decline<",
        ">Cancel<",
    ] {
        assert!(html.contains(needle), "missing {needle} in {html}");
    }
    // /checkout is the same endpoint (the plugins' path).
    let (st, v) = post(&s, &key(), "/checkout", session_body("K1002"));
    assert_eq!(st, 200, "{v}");
    // JSON only.
    let (st, v) = send(
        Request::new(Method::Post, format!("{}/sessions", s.bambora_base_url()))
            .header("authorization", key())
            .header("content-type", "text/plain"),
    );
    assert_eq!(st, 400);
    assert!(merchant_message(&v).contains("application/json"));
}

/// A change that breaks one rule of a valid session body.
type Change = fn(&mut Value);

#[test]
fn every_rule_is_refused_naming_its_field() {
    let s = sandbox();
    let cases: Vec<(Change, &[&str])> = vec![
        (
            |v| v["order"]["amount"] = json!(8000),
            &["order.amount 8000 must equal the sum", "7744"],
        ),
        (
            |v| v["order"]["vatamount"] = json!(1400),
            &["order.vatamount 1400 must equal the sum", "1427"],
        ),
        (
            |v| v["order"]["lines"][0]["vat"] = json!(125),
            &["order.lines[0].vat", "between 0 and 100"],
        ),
        (
            |v| v["order"]["lines"][1]["vat"] = json!(15.125),
            &["order.lines[1].vat", "at most 2 decimals"],
        ),
        (
            |v| v["order"]["lines"][1]["totalpricevatamount"] = json!(200),
            &["order.lines[1].totalpricevatamount"],
        ),
        (
            |v| v["order"]["lines"][1]["unitpriceinclvat"] = json!(4990),
            &["order.lines[1].unitpriceinclvat"],
        ),
        (
            |v| v["order"]["lines"][0]["vatrate"] = json!(25),
            &["order.lines[0].vatrate is not a known field"],
        ),
        (
            |v| v["order"]["total"] = json!(7744),
            &["order.total is not a known field"],
        ),
        (
            |v| v["url"]["immediateredirecttoaccept"] = json!(1),
            &["url.immediateredirecttoaccept is not a known field"],
        ),
        (
            |v| v["paymentwindowid"] = json!(1),
            &["paymentwindowid is not a known field"],
        ),
        (
            |v| v["order"]["id"] = json!("K-1001"),
            &["order.id \"K-1001\""],
        ),
        (
            |v| v["order"]["id"] = json!("K1234567890123456789012345678901"),
            &["order.id"],
        ),
        (
            |v| {
                v["url"].as_object_mut().unwrap().remove("accept");
            },
            &["url.accept is required"],
        ),
        (
            |v| v["url"]["accept"] = json!("/accept"),
            &["url.accept \"/accept\" is not an absolute"],
        ),
        (
            |v| v["order"]["amount"] = json!(77.44),
            &["order.amount must be an integer"],
        ),
        (
            |v| v["order"]["currency"] = json!("NOKK"),
            &["order.currency"],
        ),
        (
            |v| {
                v["order"].as_object_mut().unwrap().remove("vatamount");
            },
            &["order.vatamount is required"],
        ),
        (
            |v| v["instantcaptureamount"] = json!(7745),
            &["instantcaptureamount 7745"],
        ),
    ];
    for (i, (change, expected)) in cases.into_iter().enumerate() {
        let mut body = session_body(&format!("V{i}"));
        change(&mut body);
        let (st, v) = post(&s, &key(), "/sessions", body);
        assert_eq!(st, 400, "case {i}: {v}");
        let m = merchant_message(&v);
        for e in expected {
            assert!(m.contains(e), "case {i}: missing {e:?} in {m}");
        }
    }
    // All problems at once, joined with "; ".
    let mut body = session_body("V99");
    body["order"]["amount"] = json!(8000);
    body["order"]["lines"][0]["vat"] = json!(0.25);
    body["url"].as_object_mut().unwrap().remove("accept");
    let (_, v) = post(&s, &key(), "/sessions", body);
    assert!(merchant_message(&v).split("; ").count() >= 3, "{v}");
}

#[test]
fn an_order_id_is_used_once_per_merchant() {
    let s = sandbox();
    create(&s, "DUP1");
    let (st, v) = post(&s, &key(), "/sessions", session_body("DUP1"));
    assert_eq!(st, 409);
    assert!(merchant_message(&v).contains("DUP1"));
    // Payment requests share the order ids.
    let (st, _) = post(&s, &key(), "/paymentrequests", request_body("DUP1"));
    assert_eq!(st, 409);
    // A refused session does not use up its id.
    let mut bad = session_body("FRESH1");
    bad["order"]["amount"] = json!(1);
    assert_eq!(post(&s, &key(), "/sessions", bad).0, 400);
    create(&s, "FRESH1");
}

#[test]
fn paying_redirects_to_accept_with_signed_parameters() {
    let s = sandbox();
    let (token, _) = create(&s, "PAY1");
    let (st, body) = outcome(&s, &token, "pay");
    assert_eq!(st, 200, "{body}");
    let redirect: Value = serde_json::from_str(&body).unwrap();
    let url = redirect["redirect"].as_str().unwrap();
    assert!(
        url.starts_with("https://shop.example/accept?till=1&txnid="),
        "{url}"
    );
    let params: Vec<(String, String)> = query(url).into_iter().skip(1).collect(); // till=1 is the shop's
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "txnid",
            "orderid",
            "reference",
            "amount",
            "currency",
            "date",
            "time",
            "feeid",
            "txnfee",
            "paymenttype",
            "cardno",
            "expmonth",
            "expyear",
            "eci",
            "issuercountry",
            "hash"
        ]
    );
    let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("orderid"), "PAY1");
    assert_eq!(get("amount"), "7744");
    assert_eq!(get("currency"), "578");
    assert_eq!(get("date").len(), 8);
    assert_eq!(get("time").len(), 4);
    assert!(get("txnid").bytes().all(|b| b.is_ascii_digit()));
    // The hash: MD5 of the values in order, then the MD5 key.
    let values: String = params[..15].iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(get("hash"), md5_hex(&format!("{values}{MD5_KEY}")));
    assert_ne!(get("hash"), md5_hex(&format!("{values}another-key")));

    // The Merchant API shows the authorization (and the instant capture).
    let txnid = get("txnid");
    let (st, v) = call(&s, Method::Get, &key(), &format!("/transactions/{txnid}"));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["meta"]["result"], true);
    let t = &v["transaction"];
    assert_eq!(t["id"], txnid.as_str());
    assert_eq!(t["orderid"], "PAY1");
    assert_eq!(t["merchantnumber"], MERCHANT);
    assert_eq!(t["reference"], get("reference").as_str());
    assert_eq!(t["total"]["authorized"], 7744);
    assert_eq!(t["total"]["captured"], 7744);
    assert_eq!(t["currency"], json!({"code": "NOK", "minorunits": 2}));
    assert!(t["createddate"].is_string() && t["status"].is_string());
    // Paid: no second payment, and the window shows the state instead of the buttons.
    let (st, msg) = outcome(&s, &token, "pay");
    assert_eq!(st, 409, "{msg}");
    let (_, html) = page(&format!("{}/window/{token}", s.bambora_base_url()));
    assert!(!html.contains("/pay\"") && html.contains("class=state"));
    let (st, v) = call(&s, Method::Get, &key(), "/transactions/70009999999");
    assert_eq!(st, 404);
    assert_eq!(v["meta"]["result"], false);
}

#[test]
fn decline_keeps_the_session_payable_and_cancel_goes_to_decline() {
    let s = sandbox();
    let (token, url) = create(&s, "DEC1");
    let (st, body) = outcome(&s, &token, "decline");
    assert_eq!((st, body.as_str()), (200, r#"{"redirect":null}"#));
    let (_, html) = page(&url);
    assert!(html.contains("Payment declined: try another card") && html.contains("/pay\""));
    // The form's decline answers the page again, with the line.
    let r = http(Request::new(Method::Post, format!("{url}/decline")));
    let html = String::from_utf8(r.body).unwrap();
    assert_eq!(r.status, 200);
    assert!(html.contains("Payment declined: try another card") && html.contains("/pay\""));
    assert_eq!(outcome(&s, &token, "pay").0, 200);

    let (token, _) = create(&s, "CAN1");
    let (st, body) = outcome(&s, &token, "cancel");
    assert_eq!(st, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["redirect"],
        "https://shop.example/decline"
    );
    assert_eq!(outcome(&s, &token, "pay").0, 409);
    // Without url.decline, cancel goes to url.cancel.
    let mut body = session_body("CAN2");
    body["url"] = json!({"accept": "https://shop.example/a", "cancel": "https://shop.example/c"});
    let (_, v) = post(&s, &key(), "/sessions", body);
    let (_, r) = outcome(&s, v["token"].as_str().unwrap(), "cancel");
    assert!(r.contains("https://shop.example/c"), "{r}");
}

#[test]
fn an_expired_session_refuses_payment() {
    let s = sandbox();
    let (token, url) = create(&s, "EXP1");
    assert_eq!(outcome(&s, &token, "expire").0, 200);
    let (st, msg) = outcome(&s, &token, "pay");
    assert_eq!(st, 409);
    assert!(msg.contains("expired"), "{msg}");
    let (_, html) = page(&url);
    assert!(html.contains("expired") && !html.contains("/pay\""));
    let (st, _) = raw(&s, "POST", &format!("/bambora/window/{token}/pay"));
    assert_eq!(st, 409);
    assert_eq!(
        outcome(&s, "0123456789abcdef0123456789abcdef", "pay").0,
        404
    );
}

#[test]
fn the_pay_form_redirects_303_to_accept() {
    let s = sandbox();
    let (token, _) = create(&s, "FORM1");
    let (st, headers) = raw(&s, "POST", &format!("/bambora/window/{token}/pay"));
    assert_eq!(st, 303);
    let location = &headers.iter().find(|(k, _)| k == "location").unwrap().1;
    assert!(
        location.starts_with("https://shop.example/accept?till=1&txnid="),
        "{location}"
    );
    let q = query(location);
    let values: String = q[1..16].iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(q[16].1, md5_hex(&format!("{values}{MD5_KEY}")));
    // Cancel posts redirect to the decline URL without parameters.
    let (token, _) = create(&s, "FORM2");
    let (st, headers) = raw(&s, "POST", &format!("/bambora/window/{token}/cancel"));
    assert_eq!(st, 303);
    assert!(headers.contains(&("location".into(), "https://shop.example/decline".into())));
}
