//! What every Opencharge test uses: the notes' keys and parties, the sandbox, a raw HTTP/1.1
//! client that shows every header, signed requests, orders and their signatures, and control
//! calls.

use kassa_core::provider::opencharge::sign::{self, Key};
use kassa_core::secrets::Secret;
use kassa_core::time::parse_http_date;
use kassa_sandbox::{Config, OpenchargeParty, Sandbox};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The notes' TV1 private key and its public key (§B7).
pub(crate) const PRIVATE: &str = "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";
pub(crate) const PUBLIC: &str = "bb50e2d89a4ed70663d080659fe0ad4b9bc3e06c17a227433966cb59ceee020decddbf6e00192011648d13b1c00af770c0c1bb609d4d3a5c98a43772e0e18ef4";
/// The merchant of the notes' examples (onboarded at the merchant gateway).
pub(crate) const MERCHANT: u64 = 500;
/// A merchant that is not onboarded at the merchant gateway.
pub(crate) const NEWCOMER: u64 = 501;

pub(crate) const PG_CREATE: &str = "/opencharge/pg/checkout/create";
pub(crate) const MG_CHECKOUT: &str = "/opencharge/mg/orders/checkout";
pub(crate) const SUCCESS: &str = "https://merchant.example/checkout/success";
pub(crate) const CANCEL: &str = "https://merchant.example/checkout/cancel";
pub(crate) const COMPLETED: &str = "https://merchant.example/checkout/completed";
pub(crate) const CANCELLED: &str = "https://merchant.example/checkout/cancelled";

pub(crate) fn key() -> Key {
    Key::from_hex(&Secret::new(PRIVATE)).unwrap()
}

pub(crate) fn newcomer_key() -> Key {
    Key::from_hex(&Secret::new(sign::sha256_hex(
        b"opencharge test merchant 501",
    )))
    .unwrap()
}

pub(crate) fn sandbox() -> Sandbox {
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

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub(crate) static COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) fn unique() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn new_nonce() -> String {
    format!("req_{:016x}{:016x}", std::process::id(), unique())
}

pub(crate) fn new_order_id() -> String {
    format!("ord_{}", unique())
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    /// Lowercase names, in order, repeats kept.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.all(name).first().copied()
    }

    /// The one `Date` header, as Unix seconds.
    pub(crate) fn date(&self) -> i64 {
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

pub(crate) fn dechunk(mut body: &[u8]) -> Vec<u8> {
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
pub(crate) fn http(
    s: &Sandbox,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Reply {
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
pub(crate) fn auth_headers(
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
pub(crate) fn signed_post(
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
pub(crate) fn post(s: &Sandbox, ocid: u64, key: &Key, path: &str, body: &Value) -> Reply {
    let bytes = body.to_string().into_bytes();
    signed_post(s, ocid, key, now(), &new_nonce(), path, path, &bytes)
}

/// The notes' TV4/TV5 order (no items), with fresh times and a new id.
pub(crate) fn order(id: &str) -> Value {
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
pub(crate) fn order_with_items(id: &str) -> Value {
    let mut o = order(id);
    o["amount"] = json!("25.00");
    o["items"] = json!([
        {"id": "item_001", "name": "Coffee", "quantity": 2, "price": "5.00"},
        {"id": "item_002", "name": "Sandwich", "quantity": 1, "price": "15.00"}
    ]);
    o
}

/// The order signature, recursive canonicalization (§B5 (a)).
pub(crate) fn sign_order(order: &Value, key: &Key) -> String {
    key.sign(sign::canonical_json(order).unwrap().as_bytes())
}

pub(crate) fn create_body(order: &Value, signature: &str) -> Value {
    json!({
        "order": order,
        "signature": signature,
        "merchantOcid": order["ocid"],
        "urls": {"success": SUCCESS, "cancel": CANCEL}
    })
}

pub(crate) fn mg_body(order: &Value, signature: &str) -> Value {
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
pub(crate) fn create(s: &Sandbox, order: &Value) -> Reply {
    post(
        s,
        MERCHANT,
        &key(),
        PG_CREATE,
        &create_body(order, &sign_order(order, &key())),
    )
}

pub(crate) fn assert_error(r: &Reply, status: u16, code: &str) -> Value {
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

pub(crate) fn message(v: &Value) -> &str {
    v["error"]["message"].as_str().unwrap()
}

pub(crate) fn problems(v: &Value) -> Vec<String> {
    v["error"]["details"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no details.problems in {v}"))
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn control(s: &Sandbox, method: &str, path: &str, body: Option<Value>) -> Reply {
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

pub(crate) fn control_order(s: &Sandbox, order_id: &str) -> Value {
    let r = control(s, "GET", &format!("/orders/{order_id}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

pub(crate) fn outcome(s: &Sandbox, order_id: &str, what: &str) -> Reply {
    control(
        s,
        "POST",
        &format!("/orders/{order_id}/outcome"),
        Some(json!({ "outcome": what })),
    )
}

pub(crate) fn gateway(s: &Sandbox, switches: Value) {
    let r = control(s, "PUT", "/gateway", Some(switches));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The path of a URL on the sandbox.
pub(crate) fn path_of(s: &Sandbox, url: &str) -> String {
    url.strip_prefix(&s.url())
        .unwrap_or_else(|| panic!("{url} is not on {}", s.url()))
        .to_string()
}

/// The gateway's answer signature (§B4 "responses SHOULD be signed").
pub(crate) fn assert_signed_answer(r: &Reply, ocid: u64, public_key: &str) {
    assert_eq!(r.header("x-oc-id"), Some(ocid.to_string().as_str()));
    let ts = r.header("x-oc-timestamp").unwrap();
    let text = format!("{ocid}\n{ts}\n{}\n{}", r.status, sign::sha256_hex(&r.body));
    assert!(sign::verify(
        public_key,
        text.as_bytes(),
        r.header("x-oc-signature").unwrap()
    ));
}

pub(crate) fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
