//! The Opencharge emulator over real HTTP (a raw HTTP/1.1 client, so every header of the
//! answer is visible), with requests signed here with Kassa's core signing functions and the
//! notes' TV1 key: request authentication, the order signature and both canonicalizations,
//! the body rules and error codes, the hosted page, proofs, the gateway clock and `Date`.

use kassa_core::provider::opencharge::sign::{self, Key};
use kassa_core::secrets::Secret;
use kassa_core::time::parse_http_date;
use kassa_sandbox::opencharge::{
    http_date, merchant_gateway_public_key, payment_gateway_public_key, replacer_json,
    MERCHANT_GATEWAY_OCID, PAYMENT_GATEWAY_OCID,
};
use kassa_sandbox::{Config, OpenchargeParty, Sandbox};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The notes' TV1 private key and its public key (§B7).
const PRIVATE: &str = "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";
const PUBLIC: &str = "bb50e2d89a4ed70663d080659fe0ad4b9bc3e06c17a227433966cb59ceee020decddbf6e00192011648d13b1c00af770c0c1bb609d4d3a5c98a43772e0e18ef4";
/// The merchant of the notes' examples (onboarded at the merchant gateway).
const MERCHANT: u64 = 500;
/// A merchant that is not onboarded at the merchant gateway.
const NEWCOMER: u64 = 501;

const PG_CREATE: &str = "/opencharge/pg/checkout/create";
const MG_CHECKOUT: &str = "/opencharge/mg/orders/checkout";
const SUCCESS: &str = "https://merchant.example/checkout/success";
const CANCEL: &str = "https://merchant.example/checkout/cancel";
const COMPLETED: &str = "https://merchant.example/checkout/completed";
const CANCELLED: &str = "https://merchant.example/checkout/cancelled";

fn key() -> Key {
    Key::from_hex(&Secret::new(PRIVATE)).unwrap()
}

fn newcomer_key() -> Key {
    Key::from_hex(&Secret::new(sign::sha256_hex(
        b"opencharge test merchant 501",
    )))
    .unwrap()
}

fn sandbox() -> Sandbox {
    assert_eq!(key().public_key_hex(), PUBLIC);
    Sandbox::start(
        0,
        Config {
            opencharge_merchants: vec![
                OpenchargeParty {
                    ocid: MERCHANT,
                    public_key: PUBLIC.into(),
                    onboarded: true,
                },
                OpenchargeParty {
                    ocid: NEWCOMER,
                    public_key: newcomer_key().public_key_hex(),
                    onboarded: false,
                },
            ],
            ..Default::default()
        },
    )
    .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

fn new_nonce() -> String {
    format!("req_{:016x}{:016x}", std::process::id(), unique())
}

fn new_order_id() -> String {
    format!("ord_{}", unique())
}

struct Reply {
    status: u16,
    /// Lowercase names, in order, repeats kept.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.all(name).first().copied()
    }

    /// The one `Date` header, as Unix seconds.
    fn date(&self) -> i64 {
        let dates = self.all("date");
        assert_eq!(
            dates.len(),
            1,
            "exactly one Date header: {:?}",
            self.headers
        );
        parse_http_date(dates[0]).unwrap_or_else(|| panic!("not IMF-fixdate: {}", dates[0])) / 1000
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&body[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// One request on a fresh connection.
fn http(s: &Sandbox, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(s.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        s.addr(),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

/// The `X-OC-*` headers of a request signed over `signed_path`.
fn auth_headers(
    ocid: u64,
    key: &Key,
    ts: i64,
    nonce: &str,
    signed_path: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let text = sign::canonical_request(&ocid.to_string(), ts, nonce, "POST", signed_path, body);
    vec![
        ("Content-Type", "application/json".into()),
        ("X-OC-ID", ocid.to_string()),
        ("X-OC-Timestamp", ts.to_string()),
        ("X-OC-Nonce", nonce.to_string()),
        ("X-OC-Signature", key.sign(text.as_bytes())),
    ]
}

/// A POST signed for `signed_path` and sent to `sent_path`.
#[allow(clippy::too_many_arguments)]
fn signed_post(
    s: &Sandbox,
    ocid: u64,
    key: &Key,
    ts: i64,
    nonce: &str,
    signed_path: &str,
    sent_path: &str,
    body: &[u8],
) -> Reply {
    let headers = auth_headers(ocid, key, ts, nonce, signed_path, body);
    http(s, "POST", sent_path, &headers, body)
}

/// A correctly signed POST (fresh timestamp and nonce) of compact JSON.
fn post(s: &Sandbox, ocid: u64, key: &Key, path: &str, body: &Value) -> Reply {
    let bytes = body.to_string().into_bytes();
    signed_post(s, ocid, key, now(), &new_nonce(), path, path, &bytes)
}

/// The notes' TV4/TV5 order (no items), with fresh times and a new id.
fn order(id: &str) -> Value {
    let t = now();
    json!({
        "id": id,
        "ocid": MERCHANT,
        "reference": "INV-001",
        "amount": "99.99",
        "currency": "USD",
        "memo": "Order from Merchant Store",
        "createdAt": t,
        "expiresAt": t + 3600,
        "accepts": [100, 101, 102]
    })
}

/// The spec's `/orders/create` example items: 2 × 5.00 + 1 × 15.00 = 25.00.
fn order_with_items(id: &str) -> Value {
    let mut o = order(id);
    o["amount"] = json!("25.00");
    o["items"] = json!([
        {"id": "item_001", "name": "Coffee", "quantity": 2, "price": "5.00"},
        {"id": "item_002", "name": "Sandwich", "quantity": 1, "price": "15.00"}
    ]);
    o
}

/// The order signature, recursive canonicalization (§B5 (a)).
fn sign_order(order: &Value, key: &Key) -> String {
    key.sign(sign::canonical_json(order).unwrap().as_bytes())
}

fn create_body(order: &Value, signature: &str) -> Value {
    json!({
        "order": order,
        "signature": signature,
        "merchantOcid": order["ocid"],
        "urls": {"success": SUCCESS, "cancel": CANCEL}
    })
}

fn mg_body(order: &Value, signature: &str) -> Value {
    json!({
        "order": order,
        "signature": signature,
        "urls": {
            "order": [format!("https://merchant.example/orders/{}", order["id"].as_str().unwrap())],
            "completed": COMPLETED,
            "cancelled": CANCELLED
        }
    })
}

/// `/checkout/create` of a signed order by the merchant acting as its own merchant gateway.
fn create(s: &Sandbox, order: &Value) -> Reply {
    post(
        s,
        MERCHANT,
        &key(),
        PG_CREATE,
        &create_body(order, &sign_order(order, &key())),
    )
}

fn assert_error(r: &Reply, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{:?}",
        r.headers
    );
    let v = r.json();
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    v
}

fn message(v: &Value) -> &str {
    v["error"]["message"].as_str().unwrap()
}

fn problems(v: &Value) -> Vec<String> {
    v["error"]["details"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no details.problems in {v}"))
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

fn control(s: &Sandbox, method: &str, path: &str, body: Option<Value>) -> Reply {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let headers = if bytes.is_empty() {
        vec![]
    } else {
        vec![("Content-Type", "application/json".to_string())]
    };
    http(
        s,
        method,
        &format!("/_control/opencharge{path}"),
        &headers,
        &bytes,
    )
}

fn control_order(s: &Sandbox, order_id: &str) -> Value {
    let r = control(s, "GET", &format!("/orders/{order_id}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn outcome(s: &Sandbox, order_id: &str, what: &str) -> Reply {
    control(
        s,
        "POST",
        &format!("/orders/{order_id}/outcome"),
        Some(json!({ "outcome": what })),
    )
}

fn gateway(s: &Sandbox, switches: Value) {
    let r = control(s, "PUT", "/gateway", Some(switches));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The path of a URL on the sandbox.
fn path_of(s: &Sandbox, url: &str) -> String {
    url.strip_prefix(&s.url())
        .unwrap_or_else(|| panic!("{url} is not on {}", s.url()))
        .to_string()
}

/// The gateway's answer signature (§B4 "responses SHOULD be signed").
fn assert_signed_answer(r: &Reply, ocid: u64, public_key: &str) {
    assert_eq!(r.header("x-oc-id"), Some(ocid.to_string().as_str()));
    let ts = r.header("x-oc-timestamp").unwrap();
    let text = format!("{ocid}\n{ts}\n{}\n{}", r.status, sign::sha256_hex(&r.body));
    assert!(sign::verify(
        public_key,
        text.as_bytes(),
        r.header("x-oc-signature").unwrap()
    ));
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

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
fn a_tampered_body_or_another_path_does_not_verify() {
    let s = sandbox();
    let o = order(&new_order_id());
    let body = create_body(&o, &sign_order(&o, &key())).to_string();
    let ts = now();

    // One byte changed after signing.
    let nonce = new_nonce();
    let mut headers = auth_headers(MERCHANT, &key(), ts, &nonce, PG_CREATE, body.as_bytes());
    let tampered = body.replace("checkout/success", "checkout/succesS");
    assert_eq!(tampered.len(), body.len());
    let r = http(&s, "POST", PG_CREATE, &headers, tampered.as_bytes());
    let v = assert_error(&r, 401, "INVALID_SIGNATURE");
    assert_eq!(message(&v), "the request signature does not verify");

    // The path without the gateway's base path (/opencharge/pg).
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        ts,
        &new_nonce(),
        "/checkout/create",
        PG_CREATE,
        body.as_bytes(),
    );
    assert_error(&r, 401, "INVALID_SIGNATURE");
    // The query is part of the signed path.
    let with_query = format!("{PG_CREATE}?lang=en");
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        ts,
        &new_nonce(),
        PG_CREATE,
        &with_query,
        body.as_bytes(),
    );
    assert_error(&r, 401, "INVALID_SIGNATURE");
    // Another method signed.
    let nonce = new_nonce();
    let text = sign::canonical_request("500", ts, &nonce, "PUT", PG_CREATE, body.as_bytes());
    headers = auth_headers(MERCHANT, &key(), ts, &nonce, PG_CREATE, body.as_bytes());
    headers[4].1 = key().sign(text.as_bytes());
    assert_error(
        &http(&s, "POST", PG_CREATE, &headers, body.as_bytes()),
        401,
        "INVALID_SIGNATURE",
    );
    // Another key.
    let r = signed_post(
        &s,
        MERCHANT,
        &newcomer_key(),
        ts,
        &new_nonce(),
        PG_CREATE,
        PG_CREATE,
        body.as_bytes(),
    );
    assert_error(&r, 401, "INVALID_SIGNATURE");

    // The same bytes, path and query signed as sent pass (none of the refused nonces was
    // remembered, so the first one can be used now).
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        ts,
        &nonce,
        &with_query,
        &with_query,
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn headers_missing_or_malformed_are_named() {
    let s = sandbox();
    let o = order(&new_order_id());
    let body = create_body(&o, &sign_order(&o, &key())).to_string();
    let good = auth_headers(
        MERCHANT,
        &key(),
        now(),
        &new_nonce(),
        PG_CREATE,
        body.as_bytes(),
    );
    let cases: [(usize, Option<&str>, &str); 6] = [
        (3, None, "X-OC-Nonce is missing"),
        (1, None, "X-OC-ID is missing"),
        (1, Some("0500"), "X-OC-ID must be a decimal OCID"),
        (
            2,
            Some("1e9"),
            "X-OC-Timestamp must be Unix seconds in decimal",
        ),
        (
            2,
            Some("-5"),
            "X-OC-Timestamp must be Unix seconds in decimal",
        ),
        (
            4,
            Some("abc"),
            "X-OC-Signature must be 128 or 130 hexadecimal characters",
        ),
    ];
    for (index, value, expected) in cases {
        let mut headers = good.clone();
        match value {
            Some(v) => headers[index].1 = v.to_string(),
            None => {
                headers.remove(index);
            }
        }
        let r = http(&s, "POST", PG_CREATE, &headers, body.as_bytes());
        let v = assert_error(&r, 401, "INVALID_SIGNATURE");
        assert_eq!(message(&v), expected);
    }
}

#[test]
fn a_nonce_is_used_once_per_ocid() {
    let s = sandbox();
    let nonce = new_nonce();
    let send = |ocid: u64, key: &Key, id: &str| {
        let o = order(id);
        let body = create_body(&o, &sign_order(&o, &self::key())).to_string();
        signed_post(
            &s,
            ocid,
            key,
            now(),
            &nonce,
            PG_CREATE,
            PG_CREATE,
            body.as_bytes(),
        )
    };
    let first = send(MERCHANT, &key(), &new_order_id());
    assert_eq!(first.status, 200, "{}", first.text());
    let v = assert_error(
        &send(MERCHANT, &key(), &new_order_id()),
        401,
        "NONCE_REUSED",
    );
    assert!(message(&v).contains(&nonce), "{v}");
    // Another caller (merchant 501 acting as merchant 500's gateway) may use the same nonce.
    let other = send(NEWCOMER, &newcomer_key(), &new_order_id());
    assert_eq!(other.status, 200, "{}", other.text());
}

#[test]
fn the_timestamp_window_is_300_seconds() {
    let s = sandbox();
    for offset in [-301, 301] {
        let o = order(&new_order_id());
        let body = create_body(&o, &sign_order(&o, &key())).to_string();
        let ts = now() + offset;
        let t0 = now();
        let r = signed_post(
            &s,
            MERCHANT,
            &key(),
            ts,
            &new_nonce(),
            PG_CREATE,
            PG_CREATE,
            body.as_bytes(),
        );
        let t1 = now();
        let v = assert_error(&r, 401, "TIMESTAMP_EXPIRED");
        assert_eq!(v["error"]["details"]["timestamp"], ts);
        let server = v["error"]["details"]["serverTime"].as_i64().unwrap();
        assert!((t0..=t1).contains(&server), "{v}");
        assert_signed_answer(&r, PAYMENT_GATEWAY_OCID, &payment_gateway_public_key());
    }
    for offset in [-290, 290] {
        let o = order(&new_order_id());
        let body = create_body(&o, &sign_order(&o, &key())).to_string();
        let r = signed_post(
            &s,
            MERCHANT,
            &key(),
            now() + offset,
            &new_nonce(),
            PG_CREATE,
            PG_CREATE,
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{offset}: {}", r.text());
    }
}

#[test]
fn the_clock_offset_moves_the_date_header_and_the_window() {
    let s = sandbox();
    let o = order(&new_order_id());
    let t0 = now();
    let r = create(&s, &o);
    let t1 = now();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!((t0..=t1).contains(&r.date()));
    let page = http(
        &s,
        "GET",
        &path_of(&s, r.json()["checkout_url"].as_str().unwrap()),
        &[],
        b"",
    );
    assert!((t0..=now()).contains(&page.date()));

    let r = control(&s, "PUT", "/gateway", Some(json!({"clock_offset_s": 3600})));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"canonicalization": "recursive", "clock_offset_s": 3600})
    );

    // The till's clock (the machine's) is now an hour behind the gateway's.
    let o = order(&new_order_id());
    let t0 = now();
    let r = create(&s, &o);
    let t1 = now();
    let v = assert_error(&r, 401, "TIMESTAMP_EXPIRED");
    let server = v["error"]["details"]["serverTime"].as_i64().unwrap();
    assert!((t0 + 3600..=t1 + 3600).contains(&server), "{v}");
    assert!((t0 + 3600..=t1 + 3600).contains(&r.date()));

    // A till that follows the gateway's clock passes.
    let mut o = order(&new_order_id());
    let ts = now() + 3600;
    o["createdAt"] = json!(ts);
    o["expiresAt"] = json!(ts + 7200);
    let body = create_body(&o, &sign_order(&o, &key())).to_string();
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        ts,
        &new_nonce(),
        PG_CREATE,
        PG_CREATE,
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let expires_at = r.json()["expires_at"].as_i64().unwrap();
    assert!((ts + 1800..=now() + 3600 + 1800).contains(&expires_at));
    let page = http(
        &s,
        "GET",
        &path_of(&s, r.json()["checkout_url"].as_str().unwrap()),
        &[],
        b"",
    );
    assert!((ts..=now() + 3600).contains(&page.date()));
    // An order created at the machine's time an hour ago (gateway time) expires at its own
    // expiresAt: one hour after creation is "now" for the gateway.
    let o = order(&new_order_id());
    let body = create_body(&o, &sign_order(&o, &key())).to_string();
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        now() + 3600,
        &new_nonce(),
        PG_CREATE,
        PG_CREATE,
        body.as_bytes(),
    );
    assert_error(&r, 400, "SESSION_EXPIRED");

    // Other answers under /opencharge carry the gateway's Date too.
    let missing = http(&s, "GET", "/opencharge/pg/nothing", &[], b"");
    assert_error(&missing, 404, "NOT_FOUND");
    assert!((t0 + 3600..=now() + 3600).contains(&missing.date()));
    let wrong_method = http(&s, "GET", PG_CREATE, &[], b"");
    assert_error(&wrong_method, 405, "METHOD_NOT_ALLOWED");
    assert!((t0 + 3600..=now() + 3600).contains(&wrong_method.date()));

    gateway(&s, json!({}));
    let r = create(&s, &order(&new_order_id()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!((t0..=now()).contains(&r.date()));
}

#[test]
fn unknown_ocids_are_refused() {
    let s = sandbox();
    let o = order(&new_order_id());
    let r = post(
        &s,
        999,
        &key(),
        PG_CREATE,
        &create_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 401, "UNKNOWN_OCID");
    assert_eq!(message(&v), "OCID 999 is not in the registry");
    // A known caller for an unknown merchant.
    let mut o = order(&new_order_id());
    o["ocid"] = json!(999);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        PG_CREATE,
        &create_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 401, "UNKNOWN_OCID");
    assert_eq!(message(&v), "merchantOcid 999 is not in the registry");
    // order.ocid and merchantOcid must agree.
    let o = order(&new_order_id());
    let mut body = create_body(&o, &sign_order(&o, &key()));
    body["merchantOcid"] = json!(NEWCOMER);
    let v = assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &body),
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(message(&v), "order.ocid 500 is not merchantOcid 501");
    // A party registered later is known.
    let later = Key::from_hex(&Secret::new(sign::sha256_hex(b"merchant 777"))).unwrap();
    let r = control(
        &s,
        "POST",
        "/merchants",
        Some(json!({"ocid": 777, "public_key": later.public_key_hex()})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let bad = control(
        &s,
        "POST",
        "/merchants",
        Some(json!({"ocid": 778, "public_key": "02bb50"})),
    );
    assert_eq!(bad.status, 400);
    let mut o = order(&new_order_id());
    o["ocid"] = json!(777);
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        777,
        &later,
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &later)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn the_canonicalization_switch_decides_which_order_signatures_verify() {
    let s = sandbox();
    let replacer_signed = |o: &Value| key().sign(replacer_json(o).unwrap().as_bytes());
    // recursive (the default): items signed recursively pass, replacer-signed ones do not.
    let o = order_with_items(&new_order_id());
    assert_eq!(create(&s, &o).status, 200);
    let o = order_with_items(&new_order_id());
    let body = create_body(&o, &replacer_signed(&o));
    let v = assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &body),
        400,
        "INVALID_SIGNATURE",
    );
    assert_eq!(message(&v), "the order signature does not verify");
    let o = order(&new_order_id());
    assert_eq!(create(&s, &o).status, 200);

    gateway(&s, json!({"canonicalization": "replacer"}));
    let o = order_with_items(&new_order_id());
    let v = assert_error(&create(&s, &o), 400, "INVALID_SIGNATURE");
    assert_eq!(message(&v), "the order signature does not verify");
    let o = order_with_items(&new_order_id());
    let r = post(
        &s,
        MERCHANT,
        &key(),
        PG_CREATE,
        &create_body(&o, &replacer_signed(&o)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Without items both canonicalizations give the same bytes.
    let o = order(&new_order_id());
    assert_eq!(
        replacer_json(&o).unwrap(),
        sign::canonical_json(&o).unwrap()
    );
    assert_eq!(create(&s, &o).status, 200);
    // The merchant gateway uses the same switch.
    let mut o = order_with_items(&new_order_id());
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    assert_error(&r, 400, "INVALID_SIGNATURE");
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &replacer_signed(&o)),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    gateway(&s, json!({}));
    let o = order_with_items(&new_order_id());
    let body = create_body(&o, &replacer_signed(&o));
    assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &body),
        400,
        "INVALID_SIGNATURE",
    );
    let bad = control(
        &s,
        "PUT",
        "/gateway",
        Some(json!({"canonicalization": "sorted"})),
    );
    assert_ne!(bad.status, 200);
}

#[test]
fn the_replacer_canonicalization_is_javascripts() {
    // The notes' example (§B5 (b), checked with Node).
    let v = json!({"id":"ord_1","ocid":500,"items":[{"id":"i1","name":"Coffee","quantity":2,"price":"5.00"}],"amount":"10.00"});
    assert_eq!(
        replacer_json(&v).unwrap(),
        r#"{"amount":"10.00","id":"ord_1","items":[{"id":"i1"}],"ocid":500}"#
    );
    // TV4 (no nested objects): the same bytes as the recursive form, and its signature.
    let tv4 = json!({"id":"ord_abc123","ocid":500,"reference":"INV-001","amount":"99.99","currency":"USD","memo":"Order from Merchant Store","createdAt":1706313600,"expiresAt":1706400000,"accepts":[100,101,102]});
    let text = replacer_json(&tv4).unwrap();
    assert_eq!(
        text,
        r#"{"accepts":[100,101,102],"amount":"99.99","createdAt":1706313600,"currency":"USD","expiresAt":1706400000,"id":"ord_abc123","memo":"Order from Merchant Store","ocid":500,"reference":"INV-001"}"#
    );
    assert_eq!(key().sign(text.as_bytes()), "1a1247997ef0eeda4bb225e481a89ce57e3398ce24f8be1def250ff8c55e77e168daf4e6c68ba52118c89bc94f20f3040a181cfe8d8bd2c53792139252d7b1561c");
    // A proof (TV2): from/to keep no keys (§B5).
    let tv2 = json!({"txid":"test_tx_001","issuer":100,"from":{"ocid":200,"reference":"paypal_tx_123"},"to":{"ocid":300,"reference":"momo_tx_789"},"amount":"10000.00","currency":"UGX","timestamp":1706500500});
    assert_eq!(
        replacer_json(&tv2).unwrap(),
        r#"{"amount":"10000.00","currency":"UGX","from":{},"issuer":100,"timestamp":1706500500,"to":{},"txid":"test_tx_001"}"#
    );
    // Nested keys that are top-level keys stay, in the allow-list's order, at any depth.
    let nested = json!({"b": [{"z": 1, "b": [2, {"a": "x"}], "a": {"a": "é\n"}}], "a": 0});
    assert_eq!(
        replacer_json(&nested).unwrap(),
        r#"{"a":0,"b":[{"a":{"a":"é\n"},"b":[2,{"a":"x"}]}]}"#
    );
    // Floats are refused, as by the recursive form.
    let err = replacer_json(&json!({"a": [{"a": 1.5}]})).unwrap_err();
    assert!(err.contains("$.a[0].a"), "{err}");
}

#[test]
fn a_128_hex_order_signature_is_accepted() {
    let s = sandbox();
    let o = order_with_items(&new_order_id());
    let signature = sign_order(&o, &key());
    assert_eq!(signature.len(), 130);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        PG_CREATE,
        &create_body(&o, &signature[..128]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for bad in [&signature[..129], &signature[..64]] {
        let o = order(&new_order_id());
        let r = post(&s, MERCHANT, &key(), PG_CREATE, &create_body(&o, bad));
        assert_error(&r, 400, "INVALID_SIGNATURE");
    }
}

#[test]
fn the_amount_must_be_the_sum_of_the_items() {
    let s = sandbox();
    let mut o = order_with_items(&new_order_id());
    o["amount"] = json!("20.00");
    let v = assert_error(&create(&s, &o), 400, "AMOUNT_MISMATCH");
    assert_eq!(
        v["error"]["details"],
        json!({"amount": "20.00", "itemsTotal": "25.00"})
    );
    // Three decimals compare exactly: 3 × 0.333 = 0.999.
    let mut o = order(&new_order_id());
    o["currency"] = json!("KWD");
    o["amount"] = json!("0.999");
    o["items"] = json!([{"id": "i", "name": "Tea", "quantity": 3, "price": "0.333"}]);
    assert_eq!(create(&s, &o).status, 200);
    o["id"] = json!(new_order_id());
    o["amount"] = json!("1.00");
    let v = assert_error(&create(&s, &o), 400, "AMOUNT_MISMATCH");
    assert_eq!(
        v["error"]["details"],
        json!({"amount": "1.00", "itemsTotal": "0.999"})
    );
}

#[test]
fn schema_and_format_problems_are_invalid_request() {
    let s = sandbox();
    // Floats cannot be signed canonically: any signature will do, the body is refused first.
    let dummy = "00".repeat(65);
    let mut o = order_with_items(&new_order_id());
    o["items"][0]["quantity"] = json!(1.5);
    o["amount"] = json!(99.99);
    o["extra"] = json!(true);
    let v = assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &create_body(&o, &dummy)),
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(
        problems(&v),
        [
            "order.amount must be a string",
            "order.extra is not a field of Order",
            "order.items[0].quantity must be an integer of at least 1"
        ]
    );
    let rule = "must be a decimal string with 2 or 3 decimals and no sign, like \"10.00\"";
    let cases: [(&str, Value, String); 7] = [
        ("amount", json!("10.5"), format!("order.amount {rule}")),
        ("amount", json!("010.00"), format!("order.amount {rule}")),
        ("amount", json!("-1.00"), format!("order.amount {rule}")),
        (
            "amount",
            json!("0.00"),
            "order.amount must be more than 0".into(),
        ),
        (
            "currency",
            json!("usd"),
            "order.currency must be three capital letters (ISO 4217)".into(),
        ),
        (
            "createdAt",
            json!("1706313600"),
            "order.createdAt must be an integer".into(),
        ),
        (
            "items",
            json!([{"id": "i", "name": "x", "quantity": 0, "price": "1.0"}]),
            "order.items[0].quantity must be an integer of at least 1".into(),
        ),
    ];
    for (field, value, expected) in cases {
        let mut o = order(&new_order_id());
        o[field] = value;
        let r = post(&s, MERCHANT, &key(), PG_CREATE, &create_body(&o, &dummy));
        let v = assert_error(&r, 400, "INVALID_REQUEST");
        let p = problems(&v);
        assert_eq!(p[0], expected, "{field}: {p:?}");
    }
    // Missing fields, a bad URL, no JSON.
    let o = order(&new_order_id());
    let mut body = create_body(&o, &sign_order(&o, &key()));
    body.as_object_mut().unwrap().remove("merchantOcid");
    body["urls"]["cancel"] = json!("javascript:alert(1)");
    let v = assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &body),
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(
        problems(&v),
        [
            "merchantOcid is required",
            "urls.cancel must be an http(s) URL"
        ]
    );
    let bytes = b"{\"order\":";
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        now(),
        &new_nonce(),
        PG_CREATE,
        PG_CREATE,
        bytes,
    );
    let v = assert_error(&r, 400, "INVALID_REQUEST");
    assert!(problems(&v)[0].starts_with("the body is not JSON"), "{v}");
    // A valid order after all that.
    assert_eq!(create(&s, &order(&new_order_id())).status, 200);
}

#[test]
fn the_gateway_must_be_an_accepted_settlement_provider() {
    let s = sandbox();
    let mut o = order(&new_order_id());
    o["accepts"] = json!([101, 102, 300]);
    let v = assert_error(&create(&s, &o), 400, "SETTLEMENT_NOT_SUPPORTED");
    assert_eq!(v["error"]["details"]["gateway"], PAYMENT_GATEWAY_OCID);
    let mut o = order(&new_order_id());
    o.as_object_mut().unwrap().remove("accepts");
    assert_error(&create(&s, &o), 400, "SETTLEMENT_NOT_SUPPORTED");
    // The merchant gateway needs its own OCID (300).
    let o = order(&new_order_id());
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 400, "SETTLEMENT_NOT_SUPPORTED");
    assert_eq!(v["error"]["details"]["gateway"], MERCHANT_GATEWAY_OCID);
}

#[test]
fn expired_orders_are_refused() {
    let s = sandbox();
    let mut o = order(&new_order_id());
    let past = now() - 1;
    o["expiresAt"] = json!(past);
    let v = assert_error(&create(&s, &o), 400, "SESSION_EXPIRED");
    assert_eq!(v["error"]["details"]["expiresAt"], past);
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    assert_error(&r, 400, "ORDER_EXPIRED");
    // expiresAt is optional at the payment gateway, required at the merchant gateway.
    let mut o = order(&new_order_id());
    o.as_object_mut().unwrap().remove("expiresAt");
    let r = create(&s, &o);
    assert_eq!(r.status, 200, "{}", r.text());
    o["id"] = json!(new_order_id());
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 400, "INVALID_REQUEST");
    assert_eq!(
        problems(&v),
        ["order.expiresAt is required by this merchant gateway"]
    );
    // createdAt more than 300 s ahead of the gateway.
    let mut o = order(&new_order_id());
    o["createdAt"] = json!(now() + 400);
    let v = assert_error(&create(&s, &o), 400, "INVALID_REQUEST");
    assert!(message(&v).contains("order.createdAt"), "{v}");
}

#[test]
fn the_merchant_gateway_needs_an_onboarded_merchant() {
    let s = sandbox();
    let mut o = order(&new_order_id());
    o["ocid"] = json!(NEWCOMER);
    o["accepts"] = json!([100, 300]);
    let signature = sign_order(&o, &newcomer_key());
    let r = post(
        &s,
        NEWCOMER,
        &newcomer_key(),
        MG_CHECKOUT,
        &mg_body(&o, &signature),
    );
    let v = assert_error(&r, 401, "MERCHANT_NOT_REGISTERED");
    assert_eq!(
        message(&v),
        "OCID 501 is not onboarded at this merchant gateway"
    );
    // The payment gateway takes any known party.
    let r = post(
        &s,
        NEWCOMER,
        &newcomer_key(),
        PG_CREATE,
        &create_body(&o, &signature),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Onboarded now (the same order id was used at the PG: a new one).
    let r = control(
        &s,
        "POST",
        "/merchants",
        Some(
            json!({"ocid": NEWCOMER, "public_key": newcomer_key().public_key_hex(), "onboarded": true}),
        ),
    );
    assert_eq!(r.status, 204);
    o["id"] = json!(new_order_id());
    let signature = sign_order(&o, &newcomer_key());
    let r = post(
        &s,
        NEWCOMER,
        &newcomer_key(),
        MG_CHECKOUT,
        &mg_body(&o, &signature),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // order.ocid must be the caller.
    let mut o = order(&new_order_id());
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        NEWCOMER,
        &newcomer_key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 400, "INVALID_REQUEST");
    assert_eq!(message(&v), "order.ocid 500 is not X-OC-ID 501");
}

#[test]
fn an_order_id_is_used_once_per_merchant() {
    let s = sandbox();
    let id = new_order_id();
    let mut o = order(&id);
    o["accepts"] = json!([100, 300]);
    assert_eq!(create(&s, &o).status, 200);
    let v = assert_error(&create(&s, &o), 400, "SESSION_USED");
    assert!(message(&v).contains(&id), "{v}");
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    assert_error(&r, 400, "SESSION_USED");
    // Another merchant's order with the same id is another order.
    let mut other = o.clone();
    other["ocid"] = json!(NEWCOMER);
    let body = create_body(&other, &sign_order(&other, &newcomer_key()));
    let r = post(&s, NEWCOMER, &newcomer_key(), PG_CREATE, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    // The control API finds the newest session of the id.
    assert_eq!(control_order(&s, &id)["merchant_ocid"], NEWCOMER);
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

#[test]
fn http_dates_are_imf_fixdate() {
    assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    assert_eq!(http_date(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT");
    for t in [
        0i64,
        1,
        86_399,
        1_706_313_600,
        4_102_444_800,
        253_402_300_799,
    ] {
        assert_eq!(parse_http_date(&http_date(t)), Some(t * 1000), "{t}");
    }
}

/// The schemas the emulator validates with use only keywords the validator knows, and the
/// codes it answers are where the module doc says.
#[test]
fn the_spec_files_back_the_rules() {
    let pg: Value = serde_json::from_str(include_str!(
        "../spec/opencharge-payment-gateway-api.openapi.json"
    ))
    .unwrap();
    let mg: Value = serde_json::from_str(include_str!(
        "../spec/opencharge-merchant-gateway-api.openapi.json"
    ))
    .unwrap();
    const KNOWN: &[&str] = &[
        "$ref",
        "type",
        "required",
        "properties",
        "items",
        "enum",
        "format",
        "description",
    ];
    fn walk(schema: &Value, spec: &Value, seen: &mut HashSet<String>, at: &str) {
        if !seen.insert(at.to_string()) {
            return;
        }
        for (k, v) in schema.as_object().unwrap() {
            assert!(KNOWN.contains(&k.as_str()), "{at}: keyword {k}");
            match k.as_str() {
                "$ref" => {
                    let target = v.as_str().unwrap();
                    let s = spec.pointer(target.strip_prefix('#').unwrap()).unwrap();
                    walk(s, spec, seen, target);
                }
                "items" => walk(v, spec, seen, &format!("{at}/items")),
                "properties" => {
                    for (name, p) in v.as_object().unwrap() {
                        walk(p, spec, seen, &format!("{at}/{name}"));
                    }
                }
                _ => {}
            }
        }
    }
    let mut seen = HashSet::new();
    walk(
        &pg["components"]["schemas"]["CheckoutCreateRequest"],
        &pg,
        &mut seen,
        "pg",
    );
    walk(
        &mg["components"]["schemas"]["OrderCheckoutRequest"],
        &mg,
        &mut seen,
        "mg",
    );
    assert!(seen.len() > 15, "{seen:?}");

    let codes = |spec: &Value| -> Vec<String> {
        spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    let (pg_codes, mg_codes) = (codes(&pg), codes(&mg));
    for c in [
        "INVALID_SIGNATURE",
        "TIMESTAMP_EXPIRED",
        "NONCE_REUSED",
        "UNKNOWN_OCID",
        "SESSION_EXPIRED",
        "SESSION_USED",
    ] {
        assert!(pg_codes.contains(&c.to_string()), "{c}");
    }
    for c in [
        "INVALID_SIGNATURE",
        "TIMESTAMP_EXPIRED",
        "NONCE_REUSED",
        "UNKNOWN_OCID",
        "MERCHANT_NOT_REGISTERED",
        "ORDER_EXPIRED",
    ] {
        assert!(mg_codes.contains(&c.to_string()), "{c}");
    }
    // Codes of our own or from the docs' pages, in neither enum (documented as such).
    for c in [
        "INVALID_REQUEST",
        "AMOUNT_MISMATCH",
        "SETTLEMENT_NOT_SUPPORTED",
    ] {
        assert!(!pg_codes.contains(&c.to_string()) && !mg_codes.contains(&c.to_string()));
    }
    for (spec, path) in [(&pg, "/checkout/create"), (&mg, "/orders/checkout")] {
        let responses = spec["paths"][path]["post"]["responses"]
            .as_object()
            .unwrap();
        let statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(statuses, ["200", "400", "401"], "{path}");
    }
    assert_eq!(
        mg["components"]["schemas"]["OrderCheckoutRequest"]["properties"]["urls"]["required"],
        json!(["completed", "cancelled"])
    );
}
