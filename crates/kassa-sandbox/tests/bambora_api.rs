//! The Bambora emulator over real HTTP, with hand-built requests (not Kassa's client), so its
//! rules stand on their own: the API key, the `meta` envelope and status codes, the order and
//! line rules, the payment window and its signed accept redirect, the Merchant API transaction,
//! and Payment Requests.

use base64::Engine;
use kassa_core::http::{Http, HttpConfig, Method, Request, Response};
use kassa_sandbox::{BamboraAccount, Config, Sandbox};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::io::{Read, Write};

const MERCHANT: &str = "T123456789";
const MD5_KEY: &str = "md5-key-of-T123456789";

fn sandbox() -> Sandbox {
    Sandbox::start(
        0,
        Config {
            bambora_accounts: vec![BamboraAccount {
                merchant_number: MERCHANT.into(),
                access_token: "bambora-access-3f9c".into(),
                secret_token: "bambora-s3cret-8b21".into(),
                md5_key: MD5_KEY.into(),
            }],
            ..Default::default()
        },
    )
    .unwrap()
}

fn api_key(access: &str, merchant: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{access}@{merchant}:{secret}"))
    )
}

fn key() -> String {
    api_key("bambora-access-3f9c", MERCHANT, "bambora-s3cret-8b21")
}

fn http(req: Request) -> Response {
    Http::new(HttpConfig::default())
        .unwrap()
        .send("test", &req)
        .unwrap()
}

fn send(req: Request) -> (u16, Value) {
    let r = http(req);
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

fn post(s: &Sandbox, auth: &str, path: &str, body: Value) -> (u16, Value) {
    send(
        Request::new(Method::Post, format!("{}{path}", s.bambora_base_url()))
            .header("authorization", auth.to_string())
            .json(body.to_string().into_bytes()),
    )
}

fn call(s: &Sandbox, method: Method, auth: &str, path: &str) -> (u16, Value) {
    send(
        Request::new(method, format!("{}{path}", s.bambora_base_url()))
            .header("authorization", auth.to_string()),
    )
}

fn control(s: &Sandbox, path: &str, body: Value) -> (u16, String) {
    let r = http(
        Request::new(Method::Post, format!("{}/_control{path}", s.url()))
            .json(body.to_string().into_bytes()),
    );
    (r.status, String::from_utf8(r.body).unwrap())
}

fn page(url: &str) -> (u16, String) {
    let r = http(Request::new(Method::Get, url));
    (r.status, String::from_utf8(r.body).unwrap())
}

/// A plain HTTP/1.1 request on a socket, for what `Http` does not show (the Location header).
fn raw(s: &Sandbox, method: &str, path: &str) -> (u16, Vec<(String, String)>) {
    let mut tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    write!(
        tcp,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        s.addr()
    )
    .unwrap();
    let mut text = String::new();
    tcp.read_to_string(&mut text).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    (status, headers)
}

/// 3 × 19.99 at 25 % and 0.35 kg at 15 %: amount 7744, VAT 1427.
fn session_body(order_id: &str) -> Value {
    json!({
        "order": {
            "id": order_id, "amount": 7744, "currency": "NOK", "vatamount": 1427,
            "lines": [
                {"id": "kaffe", "linenumber": "1", "description": "Kaffe", "quantity": 3,
                 "unit": "pcs", "unitprice": 1599, "unitpriceinclvat": 1999,
                 "unitpricevatamount": 400, "totalprice": 4798, "totalpriceinclvat": 5997,
                 "totalpricevatamount": 1199, "vat": 25},
                {"id": "ost", "linenumber": "2", "description": "Ost", "quantity": 0.35,
                 "unit": "kg", "unitprice": 4340, "unitpriceinclvat": 4991,
                 "unitpricevatamount": 651, "totalprice": 1519, "totalpriceinclvat": 1747,
                 "totalpricevatamount": 228, "vat": 15}
            ]
        },
        "url": {
            "accept": "https://shop.example/accept?till=1",
            "decline": "https://shop.example/decline",
            "callbacks": [{"url": "https://shop.example/callback"}]
        },
        "instantcaptureamount": 7744,
        "paymentwindow": {"id": 1, "language": "nb-NO"}
    })
}

fn create(s: &Sandbox, order_id: &str) -> (String, String) {
    let (st, v) = post(s, &key(), "/sessions", session_body(order_id));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["meta"]["result"], true);
    (
        v["token"].as_str().unwrap().to_string(),
        v["url"].as_str().unwrap().to_string(),
    )
}

fn outcome(s: &Sandbox, token: &str, what: &str) -> (u16, String) {
    control(
        s,
        &format!("/bambora/sessions/{token}/outcome"),
        json!({"outcome": what}),
    )
}

fn merchant_message(v: &Value) -> &str {
    assert_eq!(v["meta"]["result"], false, "{v}");
    assert!(v["meta"]["message"]["enduser"].is_string());
    v["meta"]["message"]["merchant"].as_str().unwrap()
}

fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The query of a redirect URL as ordered, decoded pairs.
fn query(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), percent_decode(v))
        })
        .collect()
}

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

fn request_body(order_id: &str) -> Value {
    let s = session_body(order_id);
    json!({
        "reference": "Till 1 / receipt 42",
        "description": "Kassa purchase",
        "parameters": {
            "order": s["order"],
            "instantcaptureamount": 0,
            "paymentwindow": {"id": 1, "language": "nb-NO"},
            "url": {"callbacks": [{"url": "https://shop.example/callback"}]}
        }
    })
}

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
    let (st, _) = control(
        &s,
        "/bambora/accounts",
        json!({"merchant_number": "T987654321", "access_token": "bambora-other-access-5e",
               "secret_token": "bambora-other-secret-d4", "md5_key": "bambora-other-md5-a7"}),
    );
    assert_eq!(st, 204);
    let other = api_key(
        "bambora-other-access-5e",
        "T987654321",
        "bambora-other-secret-d4",
    );
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
