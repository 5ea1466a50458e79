//! What every Commerce Layer test uses: the two organizations, the sandbox, requests with
//! JSON:API headers, the error lists, and builders for orders, lines, payment sources, links
//! and control calls.

use kassa_core::http::{Http, HttpConfig, Method, Request, Response};
use kassa_core::time::{format_rfc3339, now_millis};
use kassa_sandbox::commercelayer::Sku;
use kassa_sandbox::{CommerceLayerAccount, Config, Sandbox};
use serde_json::{json, Value};
use std::io::{Read, Write};

pub(crate) const JSON_API: &str = "application/vnd.api+json";
pub(crate) const SHOP_MARKET: &str = "kGbnLhkXyZ";
pub(crate) const SHOP_ADDRESS: &str = "wQpLmNbVcX";
pub(crate) const US_MARKET: &str = "MqwErtyUio";
pub(crate) const US_ADDRESS: &str = "ZxCvBnMaSd";

/// A Norwegian shop: prices include VAT, 25 % by default, coffee at 15 %, stamps at 20 %.
pub(crate) fn shop() -> CommerceLayerAccount {
    CommerceLayerAccount {
        client_id: "cl-int-shop-5d21".into(),
        client_secret: "cl-shop-secret-0a9f".into(),
        sales_channel_client_id: "cl-sc-shop-6e14".into(),
        market_id: SHOP_MARKET.into(),
        address_id: SHOP_ADDRESS.into(),
        currency: "NOK".into(),
        tax_included: true,
        default_tax_rate_bp: 2500,
        skus: vec![
            Sku {
                code: "COFFEE-L".into(),
                tax_rate_bp: 1500,
            },
            Sku {
                code: "STAMP".into(),
                tax_rate_bp: 2000,
            },
        ],
        auto_capture: false,
    }
}

/// A US store: prices exclude sales tax (8.25 % by default, mugs and stickers at 5 %), and
/// the payment method captures automatically.
pub(crate) fn us() -> CommerceLayerAccount {
    CommerceLayerAccount {
        client_id: "cl-int-us-b3c8".into(),
        client_secret: "cl-us-secret-2f6d".into(),
        sales_channel_client_id: "cl-sc-us-9a07".into(),
        market_id: US_MARKET.into(),
        address_id: US_ADDRESS.into(),
        currency: "USD".into(),
        tax_included: false,
        default_tax_rate_bp: 825,
        skus: vec![
            Sku {
                code: "MUG".into(),
                tax_rate_bp: 500,
            },
            Sku {
                code: "STICKER".into(),
                tax_rate_bp: 500,
            },
        ],
        auto_capture: true,
    }
}

pub(crate) fn sandbox() -> Sandbox {
    Sandbox::start(
        0,
        Config {
            commercelayer_accounts: vec![shop(), us()],
            ..Default::default()
        },
    )
    .unwrap()
}

pub(crate) fn send(req: Request) -> Response {
    let config = HttpConfig {
        attempts: 1,
        ..HttpConfig::default()
    };
    Http::new(config).unwrap().send("test", &req).unwrap()
}

pub(crate) fn json_of(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

pub(crate) fn text_of(r: &Response) -> String {
    String::from_utf8(r.body.clone()).unwrap()
}

pub(crate) fn token_request(s: &Sandbox, body: Value) -> Response {
    send(
        Request::new(
            Method::Post,
            format!("{}/oauth/token", s.commercelayer_base_url()),
        )
        .json(body.to_string().into_bytes()),
    )
}

pub(crate) fn integration(s: &Sandbox, who: &CommerceLayerAccount) -> String {
    let r = token_request(
        s,
        json!({"grant_type": "client_credentials", "client_id": who.client_id,
               "client_secret": who.client_secret}),
    );
    assert_eq!(r.status, 200, "{}", text_of(&r));
    json_of(&r)["access_token"].as_str().unwrap().to_string()
}

pub(crate) fn sales_channel(s: &Sandbox, who: &CommerceLayerAccount) -> String {
    let r = token_request(
        s,
        json!({"grant_type": "client_credentials", "client_id": who.sales_channel_client_id,
               "scope": format!("market:id:{}", who.market_id)}),
    );
    assert_eq!(r.status, 200, "{}", text_of(&r));
    json_of(&r)["access_token"].as_str().unwrap().to_string()
}

/// An API request with JSON:API headers.
pub(crate) fn api_request(
    s: &Sandbox,
    method: Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> Request {
    let mut r = Request::new(method, format!("{}{path}", s.commercelayer_base_url()))
        .header("accept", JSON_API)
        .header("authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        r = r.header("content-type", JSON_API);
        r.body = Some(b.to_string().into_bytes());
    }
    r
}

pub(crate) fn api(
    s: &Sandbox,
    method: Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let r = send(api_request(s, method, token, path, body));
    if r.status != 204 {
        assert_eq!(r.content_type.as_deref(), Some(JSON_API), "{}", text_of(&r));
    }
    (r.status, json_of(&r))
}

pub(crate) fn get(s: &Sandbox, token: &str, path: &str) -> (u16, Value) {
    api(s, Method::Get, token, path, None)
}

/// `(status, code, pointer or parameter, detail)` of each error.
pub(crate) fn errors(v: &Value) -> Vec<(String, String, String, String)> {
    v["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {v}"))
        .iter()
        .map(|e| {
            let source = e["source"]["pointer"]
                .as_str()
                .or(e["source"]["parameter"].as_str())
                .unwrap_or_default();
            assert!(e["title"].is_string(), "{e}");
            (
                e["status"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
                source.to_string(),
                e["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Asserts the answer is exactly these errors (`status`, `code`, `pointer`), in any order,
/// and returns their details by pointer.
pub(crate) fn assert_errors(
    status: u16,
    v: &Value,
    expected: &[(&str, &str)],
) -> Vec<(String, String)> {
    let got = errors(v);
    let mut pairs: Vec<(String, String)> = got
        .iter()
        .map(|(_, c, p, _)| (c.clone(), p.clone()))
        .collect();
    pairs.sort();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
    want.sort();
    assert_eq!(pairs, want, "{v}");
    for (st, ..) in &got {
        assert_eq!(st, &status.to_string(), "{v}");
    }
    got.into_iter().map(|(_, _, p, d)| (p, d)).collect()
}

pub(crate) fn detail_at(details: &[(String, String)], pointer: &str) -> String {
    details
        .iter()
        .find(|(p, _)| p == pointer)
        .map(|(_, d)| d.clone())
        .unwrap_or_else(|| panic!("no error at {pointer}: {details:?}"))
}

pub(crate) fn order_body(attrs: Value, market: &str) -> Value {
    json!({"data": {"type": "orders", "attributes": attrs,
        "relationships": {"market": {"data": {"type": "markets", "id": market}}}}})
}

pub(crate) fn in_minutes(m: i64) -> String {
    format_rfc3339(now_millis() + m * 60_000)
}

pub(crate) fn create_order(s: &Sandbox, token: &str, market: &str, attrs: Value) -> Value {
    let (st, v) = api(
        s,
        Method::Post,
        token,
        "/api/orders",
        Some(order_body(attrs, market)),
    );
    assert_eq!(st, 201, "{v}");
    v["data"].clone()
}

pub(crate) fn line_body(order_id: &str, attrs: Value) -> Value {
    json!({"data": {"type": "line_items", "attributes": attrs,
        "relationships": {"order": {"data": {"type": "orders", "id": order_id}}}}})
}

pub(crate) fn add_line(s: &Sandbox, token: &str, order_id: &str, attrs: Value) -> (u16, Value) {
    api(
        s,
        Method::Post,
        token,
        "/api/line_items",
        Some(line_body(order_id, attrs)),
    )
}

pub(crate) fn patch_order(
    s: &Sandbox,
    token: &str,
    id: &str,
    attrs: Value,
    rels: Value,
) -> (u16, Value) {
    let body =
        json!({"data": {"type": "orders", "id": id, "attributes": attrs, "relationships": rels}});
    api(
        s,
        Method::Patch,
        token,
        &format!("/api/orders/{id}"),
        Some(body),
    )
}

pub(crate) fn order(s: &Sandbox, token: &str, id: &str, query: &str) -> Value {
    let (st, v) = get(s, token, &format!("/api/orders/{id}{query}"));
    assert_eq!(st, 200, "{v}");
    v
}

pub(crate) fn payment_method_id(s: &Sandbox, token: &str, order_id: &str) -> String {
    let v = order(s, token, order_id, "?include=available_payment_methods");
    v["included"][0]["id"].as_str().unwrap().to_string()
}

pub(crate) fn payment_body(order_id: &str, attrs: Value) -> Value {
    json!({"data": {"type": "checkout_com_payments", "attributes": attrs,
        "relationships": {"order": {"data": {"type": "orders", "id": order_id}}}}})
}

pub(crate) fn cko_urls() -> Value {
    json!({"success_url": "https://shop.example/3ds/ok", "failure_url": "https://shop.example/3ds/failed"})
}

pub(crate) fn link_body(order_id: &str, attrs: Value) -> Value {
    json!({"data": {"type": "links", "attributes": attrs,
        "relationships": {"item": {"data": {"type": "orders", "id": order_id}}}}})
}

pub(crate) fn shop_link_attrs() -> Value {
    json!({"name": "POS-T1-000123", "client_id": "cl-sc-shop-6e14",
           "scope": format!("market:id:{SHOP_MARKET}"), "expires_at": in_minutes(15)})
}

pub(crate) fn create_link(s: &Sandbox, token: &str, order_id: &str, attrs: Value) -> Value {
    let (st, v) = api(
        s,
        Method::Post,
        token,
        "/api/links",
        Some(link_body(order_id, attrs)),
    );
    assert_eq!(st, 201, "{v}");
    v["data"].clone()
}

/// A shop order with one coffee line, the shop's address, the payment method and a
/// checkout.com payment source: ready to be paid on the hosted checkout.
pub(crate) fn ready_order(s: &Sandbox, token: &str, attrs: Value) -> String {
    let o = create_order(s, token, SHOP_MARKET, attrs);
    let id = o["id"].as_str().unwrap().to_string();
    let (st, v) = add_line(
        s,
        token,
        &id,
        json!({"sku_code": "COFFEE-L", "quantity": 2, "unit_amount_cents": 4990}),
    );
    assert_eq!(st, 201, "{v}");
    let pm = payment_method_id(s, token, &id);
    let (st, v) = patch_order(
        s,
        token,
        &id,
        json!({"_shipping_address_clone_id": SHOP_ADDRESS}),
        json!({"payment_method": {"data": {"type": "payment_methods", "id": pm}}}),
    );
    assert_eq!(st, 200, "{v}");
    let (st, v) = api(
        s,
        Method::Post,
        token,
        "/api/checkout_com_payments",
        Some(payment_body(&id, cko_urls())),
    );
    assert_eq!(st, 201, "{v}");
    id
}

pub(crate) fn control(s: &Sandbox, path: &str, body: Value) -> (u16, Value) {
    let r = send(
        Request::new(
            Method::Post,
            format!("{}/_control/commercelayer{path}", s.url()),
        )
        .json(body.to_string().into_bytes()),
    );
    (r.status, json_of(&r))
}

pub(crate) fn outcome(s: &Sandbox, order_id: &str, what: &str) -> (u16, Value) {
    control(
        s,
        &format!("/orders/{order_id}/outcome"),
        json!({ "outcome": what }),
    )
}

pub(crate) fn control_get(s: &Sandbox, path: &str) -> Value {
    let r = send(Request::new(
        Method::Get,
        format!("{}/_control/commercelayer{path}", s.url()),
    ));
    assert_eq!(r.status, 200, "{}", text_of(&r));
    json_of(&r)
}

/// A plain HTTP/1.1 request on a socket, for what `Http` does not do (PUT) or show (headers):
/// `(status, lower-case headers, body)`.
pub(crate) fn raw(
    s: &Sandbox,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    write!(
        tcp,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        s.addr(),
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    tcp.read_to_string(&mut text).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
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
    (status, headers, rest.to_string())
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A `PUT` to a Commerce Layer control (`Http` does not do PUT): `(status, body)`.
pub(crate) fn put_control(s: &Sandbox, path: &str, body: Value) -> (u16, String) {
    let (st, _, text) = raw(
        s,
        "PUT",
        &format!("/_control/commercelayer{path}"),
        "application/json",
        &body.to_string(),
    );
    (st, text)
}

pub(crate) fn set_token_lifetime(s: &Sandbox, seconds: u64) {
    let (st, body) = put_control(s, "/token_lifetime", json!({ "seconds": seconds }));
    assert_eq!(st, 204, "{body}");
}

/// Moves the emulator's clock `offset_s` ahead of the machine's.
pub(crate) fn set_clock(s: &Sandbox, offset_s: i64) {
    let (st, body) = put_control(s, "/clock", json!({ "offset_s": offset_s }));
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "offset_s": offset_s })
    );
}

/// Presses a button of the hosted checkout page as the browser's form does.
pub(crate) fn press(
    s: &Sandbox,
    order_id: &str,
    action: &str,
    access: &str,
) -> (u16, Vec<(String, String)>, String) {
    raw(
        s,
        "POST",
        &format!("/commercelayer/checkout/{order_id}/{action}"),
        "application/x-www-form-urlencoded",
        &format!("access={}", kassa_core::http::percent_encode(access)),
    )
}

pub(crate) fn page(url: &str) -> (u16, String) {
    let r = send(Request::new(Method::Get, url));
    (r.status, text_of(&r))
}

pub(crate) fn attr<'a>(v: &'a Value, name: &str) -> &'a Value {
    &v["data"]["attributes"][name]
}

/// A shop order the customer paid (placed, authorized for 99.80 NOK): `(order id,
/// authorization id)`.
pub(crate) fn paid_order(s: &Sandbox, token: &str) -> (String, String) {
    let id = ready_order(s, token, json!({"customer_email": "c@shop.example"}));
    assert_eq!(outcome(s, &id, "pay").0, 200);
    let v = order(s, token, &id, "?include=authorizations");
    let auth = included(&v, "authorizations")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (id, auth)
}

/// A `PATCH /api/<ty>/{id}{query}` with these attributes (a trigger answered with what
/// `query` includes).
pub(crate) fn patch_resource(
    s: &Sandbox,
    token: &str,
    ty: &str,
    id: &str,
    query: &str,
    attrs: Value,
) -> (u16, Value) {
    api(
        s,
        Method::Patch,
        token,
        &format!("/api/{ty}/{id}{query}"),
        Some(json!({"data": {"type": ty, "id": id, "attributes": attrs}})),
    )
}

/// The included resources of type `ty`, in order.
pub(crate) fn included(v: &Value, ty: &str) -> Vec<Value> {
    v["included"]
        .as_array()
        .map(|list| list.iter().filter(|r| r["type"] == ty).cloned().collect())
        .unwrap_or_default()
}

/// Which transactions the gateway declines from now on.
pub(crate) fn decline(s: &Sandbox, kinds: &[&str]) {
    let (st, body) = put_control(s, "/gateway", json!({ "decline": kinds }));
    assert_eq!(st, 200, "{body}");
}

/// The fields of `resource` (`order`, `capture`, ...) in the official resource metadata (the
/// subset kept in `spec/commercelayer-resources-subset.json`): name → type and flags.
pub(crate) fn metadata_fields(resource: &str) -> serde_json::Map<String, Value> {
    let resources: Value = serde_json::from_str(include_str!(
        "../../spec/commercelayer-resources-subset.json"
    ))
    .unwrap();
    resources
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == resource)
        .unwrap_or_else(|| panic!("{resource} is not in the subset"))["attributes"]["fields"]
        .as_object()
        .unwrap()
        .clone()
}

/// A value of the field's type that its rules accept (for a body with every field).
pub(crate) fn sample_value(name: &str, field: &Value) -> Value {
    match field["type"].as_str().unwrap() {
        "boolean" => json!(false),
        "integer" => json!(1),
        "object" => json!({}),
        "datetime" => json!(in_minutes(60)),
        _ if name.ends_with("_url") => json!("https://shop.example/x"),
        _ => json!("x"),
    }
}

/// `v` answered a body with every field of `resource`: a field the metadata does not mark
/// `flag` (`creatable`, `updatable`) must be refused, and one it marks may be refused only as
/// not emulated (or removed).
pub(crate) fn assert_refusals_follow_the_metadata(resource: &str, flag: &str, v: &Value) {
    let refused: Vec<(String, String)> = errors(v)
        .into_iter()
        .map(|(_, _, p, d)| (p.trim_start_matches("/data/attributes/").to_string(), d))
        .collect();
    for (name, f) in &metadata_fields(resource) {
        let writable = f[flag] == true;
        match refused.iter().find(|(n, _)| n == name) {
            None => assert!(writable, "{resource}.{name} is read-only but accepted"),
            Some((_, d)) if writable => assert!(
                d.contains("does not emulate") || d.contains("removed"),
                "{resource}.{name} is writable ({flag}) but refused: {d}"
            ),
            Some(_) => {}
        }
    }
}
