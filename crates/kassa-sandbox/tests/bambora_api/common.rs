//! What every Bambora emulator test uses: the sandbox with its test merchant, the API key,
//! requests and their answers, control calls, the test session and payment request bodies,
//! and reading the accept redirect.

use base64::Engine;
use kassa_core::http::{Http, HttpConfig, Method, Request, Response};
use kassa_sandbox::{BamboraAccount, Config, Sandbox};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::io::{Read, Write};

pub(crate) const MERCHANT: &str = "T123456789";
pub(crate) const MD5_KEY: &str = "md5-key-of-T123456789";

pub(crate) fn sandbox() -> Sandbox {
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

pub(crate) fn api_key(access: &str, merchant: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{access}@{merchant}:{secret}"))
    )
}

pub(crate) fn key() -> String {
    api_key("bambora-access-3f9c", MERCHANT, "bambora-s3cret-8b21")
}

pub(crate) fn http(req: Request) -> Response {
    Http::new(HttpConfig::default())
        .unwrap()
        .send("test", &req)
        .unwrap()
}

pub(crate) fn send(req: Request) -> (u16, Value) {
    let r = http(req);
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

pub(crate) fn post(s: &Sandbox, auth: &str, path: &str, body: Value) -> (u16, Value) {
    send(
        Request::new(Method::Post, format!("{}{path}", s.bambora_base_url()))
            .header("authorization", auth.to_string())
            .json(body.to_string().into_bytes()),
    )
}

pub(crate) fn call(s: &Sandbox, method: Method, auth: &str, path: &str) -> (u16, Value) {
    send(
        Request::new(method, format!("{}{path}", s.bambora_base_url()))
            .header("authorization", auth.to_string()),
    )
}

pub(crate) fn control(s: &Sandbox, path: &str, body: Value) -> (u16, String) {
    let r = http(
        Request::new(Method::Post, format!("{}/_control{path}", s.url()))
            .json(body.to_string().into_bytes()),
    );
    (r.status, String::from_utf8(r.body).unwrap())
}

pub(crate) fn page(url: &str) -> (u16, String) {
    let r = http(Request::new(Method::Get, url));
    (r.status, String::from_utf8(r.body).unwrap())
}

/// A plain HTTP/1.1 request on a socket, for what `Http` does not show (the Location header).
pub(crate) fn raw(s: &Sandbox, method: &str, path: &str) -> (u16, Vec<(String, String)>) {
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

/// 3 × 19.99 at 25 % and 0.5 kg at 34.94 a kg, 15 %: amount 7744, VAT 1427.
pub(crate) fn session_body(order_id: &str) -> Value {
    json!({
        "order": {
            "id": order_id, "amount": 7744, "currency": "NOK", "vatamount": 1427,
            "lines": [
                {"id": "kaffe", "linenumber": "1", "description": "Kaffe", "quantity": 3,
                 "unit": "pcs", "unitprice": 1599, "unitpriceinclvat": 1999,
                 "unitpricevatamount": 400, "totalprice": 4798, "totalpriceinclvat": 5997,
                 "totalpricevatamount": 1199, "vat": 25},
                {"id": "ost", "linenumber": "2", "description": "Ost", "quantity": 0.5,
                 "unit": "kg", "unitprice": 3038, "unitpriceinclvat": 3494,
                 "unitpricevatamount": 456, "totalprice": 1519, "totalpriceinclvat": 1747,
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

pub(crate) fn create(s: &Sandbox, order_id: &str) -> (String, String) {
    let (st, v) = post(s, &key(), "/sessions", session_body(order_id));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["meta"]["result"], true);
    (
        v["token"].as_str().unwrap().to_string(),
        v["url"].as_str().unwrap().to_string(),
    )
}

pub(crate) fn outcome(s: &Sandbox, token: &str, what: &str) -> (u16, String) {
    control(
        s,
        &format!("/bambora/sessions/{token}/outcome"),
        json!({"outcome": what}),
    )
}

pub(crate) fn merchant_message(v: &Value) -> &str {
    assert_eq!(v["meta"]["result"], false, "{v}");
    assert!(v["meta"]["message"]["enduser"].is_string());
    v["meta"]["message"]["merchant"].as_str().unwrap()
}

pub(crate) fn percent_decode(v: &str) -> String {
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

pub(crate) fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The query of a redirect URL as ordered, decoded pairs.
pub(crate) fn query(url: &str) -> Vec<(String, String)> {
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

pub(crate) fn request_body(order_id: &str) -> Value {
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

/// Adds a second merchant to the sandbox and returns its API key.
pub(crate) fn other_merchant(s: &Sandbox) -> String {
    let (st, _) = control(
        s,
        "/bambora/accounts",
        json!({"merchant_number": "T987654321", "access_token": "bambora-other-access-5e",
               "secret_token": "bambora-other-secret-d4", "md5_key": "bambora-other-md5-a7"}),
    );
    assert_eq!(st, 204);
    api_key(
        "bambora-other-access-5e",
        "T987654321",
        "bambora-other-secret-d4",
    )
}
