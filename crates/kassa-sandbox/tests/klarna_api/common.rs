//! What every Klarna emulator test uses: the sandbox with two API users (one allowed
//! IN_STORE), hand-built requests with Basic auth, the seed's example order, KP and HPP
//! sessions, the hosted page and its buttons, the controls.

use base64::Engine;
use kassa_core::http::{Http, HttpConfig, Method, Request, Response};
use kassa_sandbox::{Config, KlarnaAccount, Sandbox};
use serde_json::{json, Value};

pub(crate) fn sandbox() -> Sandbox {
    Sandbox::start(
        0,
        Config {
            klarna_accounts: vec![
                KlarnaAccount {
                    username: "PK_shop_31f0".into(),
                    password: "klarna-shop-pw-6d2a".into(),
                    in_store: false,
                },
                KlarnaAccount {
                    username: "PK_till_c9e4".into(),
                    password: "klarna-till-pw-15b8".into(),
                    in_store: true,
                },
            ],
            ..Default::default()
        },
    )
    .unwrap()
}

pub(crate) fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

pub(crate) fn shop() -> String {
    basic("PK_shop_31f0", "klarna-shop-pw-6d2a")
}

pub(crate) fn till() -> String {
    basic("PK_till_c9e4", "klarna-till-pw-15b8")
}

pub(crate) fn raw(req: Request) -> Response {
    Http::new(HttpConfig::default())
        .unwrap()
        .send("test", &req)
        .unwrap()
}

pub(crate) fn send(req: Request) -> (u16, Value) {
    let r = raw(req);
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

pub(crate) fn call(
    s: &Sandbox,
    method: Method,
    auth: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = Request::new(method, format!("{}{path}", s.klarna_base_url()));
    if !auth.is_empty() {
        r = r.header("authorization", auth.to_string());
    }
    if let Some(b) = body {
        r = r.json(b.to_string().into_bytes());
    }
    send(r)
}

pub(crate) fn control(s: &Sandbox, path: &str, body: Value) -> (u16, String) {
    let r = raw(
        Request::new(Method::Post, format!("{}/_control/klarna{path}", s.url()))
            .json(body.to_string().into_bytes()),
    );
    (r.status, String::from_utf8(r.body).unwrap())
}

/// The seed's one-time payment example (docs.klarna.com "Step 1: Initiate a payment").
pub(crate) fn battery() -> Value {
    json!({
        "acquiring_channel": "ECOMMERCE",
        "intent": "buy",
        "purchase_country": "SE",
        "purchase_currency": "SEK",
        "locale": "en-SE",
        "order_amount": 9500,
        "order_tax_amount": 1900,
        "order_lines": [{
            "type": "physical",
            "reference": "19-402",
            "name": "Battery Power Pack",
            "quantity": 1,
            "unit_price": 10000,
            "tax_rate": 2500,
            "total_amount": 9500,
            "total_discount_amount": 500,
            "total_tax_amount": 1900,
            "image_url": "https://www.exampleobjects.com/logo.png",
            "product_url": "https://www.estore.com/products/f2a8d7e34"
        }],
        "merchant_urls": {"authorization": "https://example.com/authorization_callbacks"}
    })
}

pub(crate) fn kp_session(s: &Sandbox, auth: &str, body: Value) -> (u16, Value) {
    call(s, Method::Post, auth, "/payments/v1/sessions", Some(body))
}

pub(crate) fn messages(v: &Value) -> Vec<String> {
    v["error_messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no error_messages in {v}"))
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn assert_bad_value(s: &Sandbox, body: Value, expected: &[&str]) {
    let (st, v) = kp_session(s, &shop(), body);
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error_code"], "BAD_VALUE", "{v}");
    let got = messages(&v);
    for e in expected {
        assert!(
            got.iter().any(|m| m.starts_with(e)),
            "missing {e:?} in {got:?}"
        );
    }
}

/// A KP session and an HPP session on it: `(kp_id, hpp answer)`.
pub(crate) fn hpp_session(s: &Sandbox, auth: &str, kp: Value, hpp: Value) -> (String, Value) {
    let (st, v) = kp_session(s, auth, kp);
    assert_eq!(st, 200, "{v}");
    let kp_id = v["session_id"].as_str().unwrap().to_string();
    let mut hpp = hpp;
    hpp["payment_session_url"] = json!(format!(
        "{}/payments/v1/sessions/{kp_id}",
        s.klarna_base_url()
    ));
    let (st, v) = call(s, Method::Post, auth, "/hpp/v1/sessions", Some(hpp));
    assert_eq!(st, 201, "{v}");
    (kp_id, v)
}

pub(crate) fn urls() -> Value {
    json!({
        "success": "https://shop.example/ok?sid={{session_id}}&token={{authorization_token}}&order={{order_id}}",
        "failure": "https://shop.example/failed?sid={{session_id}}",
        "cancel": "https://shop.example/cancelled",
        "back": "https://shop.example/back"
    })
}

pub(crate) fn placed(s: &Sandbox, mode: &str) -> (String, String) {
    let (_, h) = hpp_session(
        s,
        &shop(),
        battery(),
        json!({"merchant_urls": urls(), "options": {"place_order_mode": mode}}),
    );
    (
        h["session_id"].as_str().unwrap().to_string(),
        h["redirect_url"].as_str().unwrap().to_string(),
    )
}

pub(crate) fn hpp_get(s: &Sandbox, id: &str) -> Value {
    let (st, v) = call(
        s,
        Method::Get,
        &shop(),
        &format!("/hpp/v1/sessions/{id}"),
        None,
    );
    assert_eq!(st, 200, "{v}");
    v
}

pub(crate) fn page(url: &str) -> (u16, String) {
    let r = raw(Request::new(Method::Get, url));
    (r.status, String::from_utf8(r.body).unwrap())
}

pub(crate) fn press(page_url: &str, action: &str) -> Response {
    raw(Request::new(Method::Post, format!("{page_url}/{action}")))
}

/// A NOK sale of two lines (3 × Kaffe at 35.00, 15 % VAT; 1 × Bolle at 25.00, 25 %): 130.00.
pub(crate) fn kaffe_and_bolle() -> Value {
    json!({
        "acquiring_channel": "ECOMMERCE",
        "intent": "buy",
        "purchase_country": "NO",
        "purchase_currency": "NOK",
        "locale": "nb-NO",
        "order_amount": 13000,
        "order_tax_amount": 1870,
        "order_lines": [kaffe_line(3, 0), bolle_line()],
        "merchant_reference1": "K20261121T120000000-7F3A"
    })
}

/// `n` of the Kaffe line (35.00 each, 15 % VAT) less `discount`, VAT as Klarna computes it.
pub(crate) fn kaffe_line(n: i64, discount: i64) -> Value {
    let total = n * 3500 - discount;
    json!({"type": "physical", "reference": "KAFFE", "name": "Kaffe", "quantity": n,
           "unit_price": 3500, "tax_rate": 1500, "total_amount": total,
           "total_discount_amount": discount, "total_tax_amount": (total * 1500 + 5750) / 11500})
}

pub(crate) fn bolle_line() -> Value {
    json!({"type": "physical", "name": "Bolle", "quantity": 1, "unit_price": 2500,
           "tax_rate": 2500, "total_amount": 2500, "total_discount_amount": 0,
           "total_tax_amount": 500})
}

/// The order of a sale paid on the hosted page (`outcome`: `pay` or `pay_pending`) with
/// `place_order_mode` `mode`.
pub(crate) fn paid_order(s: &Sandbox, kp: Value, mode: &str, outcome: &str) -> String {
    let (_, h) = hpp_session(
        s,
        &shop(),
        kp,
        json!({"merchant_urls": urls(), "options": {"place_order_mode": mode}}),
    );
    let id = h["session_id"].as_str().unwrap();
    let (st, body) = control(
        s,
        &format!("/sessions/{id}/outcome"),
        json!({ "outcome": outcome }),
    );
    assert_eq!(st, 200, "{body}");
    hpp_get(s, id)["order_id"].as_str().unwrap().to_string()
}

/// `GET /ordermanagement/v1/orders/{id}` as the shop.
pub(crate) fn order(s: &Sandbox, id: &str) -> Value {
    let (st, v) = call(
        s,
        Method::Get,
        &shop(),
        &format!("/ordermanagement/v1/orders/{id}"),
        None,
    );
    assert_eq!(st, 200, "{v}");
    v
}

/// A new `Klarna-Idempotency-Key`.
pub(crate) fn key() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "0f1c1d2e-3b4a-4c5d-8e9f-{:012x}",
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An Order Management request as the shop: `POST /ordermanagement/v1/orders/{order}{path}`
/// with `key` (none when empty) and `body`.
pub(crate) fn om_request(
    s: &Sandbox,
    order: &str,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> Request {
    let mut r = Request::new(
        Method::Post,
        format!(
            "{}/ordermanagement/v1/orders/{order}{path}",
            s.klarna_base_url()
        ),
    )
    .header("authorization", shop());
    if !key.is_empty() {
        r = r.header("klarna-idempotency-key", key.to_string());
    }
    if let Some(b) = body {
        r = r.json(b.to_string().into_bytes());
    }
    r
}

/// [`om_request`], sent: the whole answer (its headers matter).
pub(crate) fn om_post(
    s: &Sandbox,
    order: &str,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> Response {
    raw(om_request(s, order, path, key, body))
}

/// A capture of the order under a new key.
pub(crate) fn capture(s: &Sandbox, order: &str, body: Value) -> Response {
    om_post(s, order, "/captures", &key(), Some(body))
}

/// A refund of the order under a new key.
pub(crate) fn refund(s: &Sandbox, order: &str, body: Value) -> Response {
    om_post(s, order, "/refunds", &key(), Some(body))
}

/// The answer's body as JSON (`Null` when empty).
pub(crate) fn body_of(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// A refusal in Klarna's OM error shape: `status`, `code`, and a message starting `message`.
pub(crate) fn assert_om_error(r: &Response, status: u16, code: &str, message: &str) {
    let v = body_of(r);
    assert_eq!(
        (r.status, v["error_code"].as_str()),
        (status, Some(code)),
        "{v}"
    );
    assert_eq!(v["correlation_id"].as_str().map(str::len), Some(36), "{v}");
    let messages = messages(&v);
    assert!(
        messages.iter().any(|m| m.starts_with(message)),
        "{message:?} not in {messages:?}"
    );
}

/// `req` as the API user whose `Authorization` is `auth`.
pub(crate) fn as_user(mut req: Request, auth: String) -> Request {
    req.headers.retain(|(name, _)| *name != "authorization");
    req.header("authorization", auth)
}
