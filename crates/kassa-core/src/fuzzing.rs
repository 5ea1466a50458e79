//! Entry points for the fuzz targets in `fuzz/` and for the corpus replay test
//! (`tests/fuzz_corpus.rs`): one function per provider that feeds arbitrary bytes to every
//! function turning that provider's HTTP answers (and return URLs) into Kassa's types, and
//! checks what can be checked about the result. Any input must give a value or a clean
//! [`ProviderError`], never a panic.
//!
//! Not an API: hidden from the docs, called by nothing in Kassa, and free to change with the
//! parsers it reaches.
//!
//! Input layout, the same for every provider (missing bytes count as zero):
//! - byte 0 picks the parser (modulo the provider's number of parsers, see each function);
//! - byte 1 picks the HTTP status from [`STATUSES`];
//! - byte 2: bits 0–2 pick the content type from [`CONTENT_TYPES`], bit 3 adds
//!   `Retry-After: 30`, bits 4–5 pick the sale the answer is checked against ([`SALES`]);
//! - the rest is the body (for the return-URL parsers: the URL the window reached).

use crate::http::{Http, HttpConfig, Response};
use crate::provider::bambora::{Bambora, BamboraConfig};
use crate::provider::commercelayer::{CommerceLayer, CommerceLayerConfig};
use crate::provider::common::parse_json;
use crate::provider::dintero::{Dintero, DinteroConfig};
use crate::provider::klarna::{Klarna, KlarnaConfig};
use crate::provider::opencharge::{sign, Mode, Opencharge, OpenchargeConfig};
use crate::provider::{
    bambora, commercelayer, dintero, is_cancel_return, klarna, opencharge, query_pairs, ErrorKind,
    Provider, ProviderError, SessionRef,
};
use crate::quote::PricedOrder;
use crate::secrets::Secret;
use crate::session::Status;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The HTTP statuses byte 1 picks from: the documented ones, and a few no API should send.
pub const STATUSES: [u16; 16] = [
    200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 302, 0, 999,
];

/// The content types bits 0–2 of byte 2 pick from.
pub const CONTENT_TYPES: [Option<&str>; 8] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/vnd.api+json"),
    Some("text/html; charset=utf-8"),
    None,
    Some("application/problem+json"),
    Some("image/png"),
    Some("image/svg+xml"),
];

/// The sales bits 4–5 of byte 2 pick from (the amount and currency a payment must cover).
pub const SALES: [&str; 4] = [
    r#"{"currency":"NOK","prices_include_vat":true,"reference":"K20261121T120000000-7F3A","lines":[
        {"name":"Kaffe","sku":"KAFFE","quantity":"3","unit_price":3500,"vat_rate":"15"},
        {"name":"Bolle","quantity":"1","unit_price":2500,"vat_rate":"25"}]}"#,
    r#"{"currency":"SEK","prices_include_vat":false,"reference":"R-2","lines":[
        {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":19900,"vat_rate":"12"}]}"#,
    r#"{"currency":"EUR","prices_include_vat":true,"discount":100,"lines":[
        {"name":"A","quantity":"2","unit_price":999,"vat_rate":"24"},
        {"name":"B","quantity":"1","unit_price":1,"vat_rate":"0"}]}"#,
    r#"{"currency":"KWD","prices_include_vat":true,"reference":"kw-1","lines":[
        {"name":"Tea","quantity":"1","unit_price":1250,"vat_rate":"5"}]}"#,
];

/// The fuzzed "now": 2026-11-21T12:00:00Z.
const NOW: i64 = 1_795_262_400_000;
/// Kassa's own expiry of the fuzzed session.
const EXPIRES_AT: i64 = NOW + 15 * 60 * 1000;
/// Bambora's MD5 key and the Opencharge merchant key (the notes' test vector) of the clients.
const MD5_KEY: &str = "fuzz-md5-key";
const OC_PRIVATE: &str = "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";
/// A token value no error message can contain by accident (`Debug` escapes its control
/// characters), for the "a token never reaches an error" check.
const CANARY: &str = "CANARY\u{1}token\u{2}SECRET";

/// A fuzz input: the parser to call, the answer, the sale.
struct Input<'a> {
    pick: u8,
    resp: Response,
    body: &'a [u8],
    sale: &'static PricedOrder,
}

fn input(data: &[u8]) -> Input<'_> {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let flags = byte(2);
    let body = data.get(3..).unwrap_or(&[]);
    Input {
        pick: byte(0),
        resp: Response {
            status: STATUSES[usize::from(byte(1)) % STATUSES.len()],
            content_type: CONTENT_TYPES[usize::from(flags & 7)].map(str::to_string),
            retry_after: (flags & 8 != 0).then_some(30),
            date: None,
            body: body.to_vec(),
        },
        body,
        sale: &sales()[usize::from(flags >> 4) & 3],
    }
}

fn sales() -> &'static [PricedOrder] {
    static SALES_PRICED: OnceLock<Vec<PricedOrder>> = OnceLock::new();
    SALES_PRICED.get_or_init(|| {
        SALES
            .iter()
            .map(|doc| crate::quote_document(doc, "K-FUZZ").expect("the fuzz sales price"))
            .collect()
    })
}

fn http() -> Http {
    static HTTP: OnceLock<Http> = OnceLock::new();
    HTTP.get_or_init(|| Http::new(HttpConfig::default()).expect("the HTTP client starts"))
        .clone()
}

fn session<'a>(sale: &'a PricedOrder, provider_session_id: &'a str) -> SessionRef<'a> {
    SessionRef {
        provider_session_id: Some(provider_session_id),
        merchant_reference: &sale.reference,
        gross: sale.total.gross,
        currency: sale.currency.code(),
        now: NOW,
        expires_at: Some(EXPIRES_AT),
        provider_payment_id: None,
    }
}

/// What every error must allow: a stable code and a message.
fn error_reads(e: &ProviderError) {
    assert!(!e.code().is_empty());
    assert!(!e.to_string().is_empty());
}

/// A non-2xx answer's error follows its HTTP status.
fn follows_status(e: &ProviderError, resp: &Response) {
    error_reads(e);
    let s = resp.status;
    let ok = match &e.kind {
        ErrorKind::Auth { status, .. } => matches!(s, 401 | 403) && *status == s,
        ErrorKind::NotFound { .. } => s == 404,
        ErrorKind::RateLimited { retry_after } => s == 429 && *retry_after == resp.retry_after,
        ErrorKind::Server { status, .. } => (500..600).contains(&s) && *status == s,
        ErrorKind::Rejected { status, .. } => {
            !matches!(s, 401 | 403 | 404 | 429 | 500..=599) && *status == s
        }
        _ => false,
    };
    assert!(ok, "HTTP {s} gave {:?}", e.kind);
}

/// Error bodies are cut for the screen: a provider's words are at most 300 characters (+ `…`).
fn clipped(e: &ProviderError) {
    if let ErrorKind::Auth { message, .. }
    | ErrorKind::Server { message, .. }
    | ErrorKind::Rejected { message, .. } = &e.kind
    {
        assert!(message.chars().count() <= 301, "{} chars", message.len());
    }
}

/// The answer with its `access_token` (when the body is a JSON object) replaced by [`CANARY`].
fn with_canary(resp: &Response) -> Option<Response> {
    let mut v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
    let slot = v.as_object_mut()?.get_mut("access_token")?;
    slot.as_str()?;
    *slot = serde_json::Value::String(CANARY.into());
    Some(Response {
        body: serde_json::to_vec(&v).expect("a JSON value serializes"),
        ..resp.clone()
    })
}

/// A token answer read: the token is what the answer said, its use ends within a day, and an
/// error never quotes it.
fn token_read(
    read: impl Fn(&Response) -> Result<(Secret, Duration), ProviderError>,
    resp: &Response,
    prefix: &str,
) {
    if let Ok((_, renew_after)) = read(resp) {
        assert!(renew_after <= Duration::from_secs(86_400));
        assert!(Instant::now().checked_add(renew_after).is_some());
    }
    let Some(marked) = with_canary(resp) else {
        return;
    };
    match read(&marked) {
        Ok((token, _)) => {
            assert_eq!(token.expose(), format!("{prefix}{CANARY}"));
            assert_eq!(format!("{token:?}"), format!("{:?}", Secret::new("x")));
        }
        Err(e) => {
            error_reads(&e);
            assert!(!format!("{e} {e:?}").contains(CANARY), "{e}");
        }
    }
}

/// `paid` needs the provider's word for at least the sale's amount in its currency.
fn covers(status: Status, amount: Option<i64>, currency: Option<&str>, sale: &PricedOrder) {
    if status == Status::Paid {
        assert!(amount.is_some_and(|a| a >= sale.total.gross), "{amount:?}");
        assert_eq!(currency, Some(sale.currency.code()));
    }
}

/// The order parser and the pricing behind it: any text gives a priced order or a clean error,
/// and a priced order's totals are the sums of its lines.
pub fn order_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(q) = crate::quote_document(text, "FUZZ-1") {
        let gross: i64 = q.lines.iter().map(|l| l.gross).sum();
        let vat: i64 = q.lines.iter().map(|l| l.vat).sum();
        assert_eq!(q.total.gross, gross);
        assert_eq!(q.total.vat, vat);
        assert!(q.lines.iter().all(|l| l.net + l.vat == l.gross));
    }
}

/// Dintero: 0 error answers, 1 token answer, 2 sessions-profile answer, 3 session, 4
/// transaction, 5 transaction list (lookup by reference).
pub fn dintero_response(data: &[u8]) {
    let Input {
        pick, resp, sale, ..
    } = input(data);
    let client = Dintero::new(
        DinteroConfig {
            label: "dintero".into(),
            profile: "test".into(),
            account_id: "T12345678".into(),
            profile_id: "default".into(),
            base_url: None,
            client_id: Secret::new("id"),
            client_secret: Secret::new("secret"),
        },
        http(),
    )
    .expect("a valid test config");
    match pick % 6 {
        0 => match client.check(resp.clone(), "fuzz") {
            Ok(r) => {
                assert!((200..300).contains(&resp.status));
                assert_eq!(r.body, resp.body);
            }
            Err(e) => {
                follows_status(&e, &resp);
                clipped(&e);
            }
        },
        1 => token_read(|r| client.read_token(r), &resp, "Bearer "),
        2 => match client.created(&resp, EXPIRES_AT) {
            Ok(c) => {
                assert_eq!(c.qr_payload, c.checkout_url);
                assert!(c.expires_at.is_some());
            }
            Err(e) => error_reads(&e),
        },
        3 => {
            if let Ok(s) = parse_json::<dintero::wire::SessionRead>("dintero", &resp) {
                match dintero::wire::session_state(&s, NOW) {
                    dintero::wire::SessionState::HasTransaction(t) => {
                        assert_eq!(Some(t), s.transaction_id)
                    }
                    dintero::wire::SessionState::Done(status, _) => {
                        // A session without its transaction is never evidence of payment.
                        assert!(s.transaction_id.is_none());
                        assert_ne!(status, Status::Paid);
                    }
                }
            }
        }
        4 | 5 => {
            let list = if pick % 6 == 4 {
                parse_json::<dintero::wire::Transaction>("dintero", &resp).map(|t| vec![t])
            } else {
                parse_json::<Vec<dintero::wire::Transaction>>("dintero", &resp)
            };
            for t in list.iter().flatten() {
                let (status, _) =
                    dintero::wire::transaction_status(t, sale.total.gross, sale.currency.code());
                if status == Status::Paid {
                    assert!(matches!(
                        t.status.as_str(),
                        "AUTHORIZED" | "CAPTURED" | "PARTIALLY_CAPTURED"
                    ));
                }
                covers(status, Some(t.amount), Some(&t.currency), sale);
            }
        }
        _ => unreachable!(),
    }
}

/// Bambora: 0 the `meta` envelope and HTTP status of any answer, 1 checkout session created,
/// 2 payment request created, 3 payment request read, 4 transaction, 5 accept/decline URL as
/// it came, 6 accept URL signed with the right MD5 key, 7 accept URL without an MD5 key.
pub fn bambora_response(data: &[u8]) {
    let Input {
        pick,
        resp,
        body,
        sale,
    } = input(data);
    let client = |md5_key: Option<&str>| {
        Bambora::new(
            BamboraConfig {
                label: "bambora".into(),
                profile: "test".into(),
                merchant_number: "T123456789".into(),
                payment_window_id: 1,
                session_path: "sessions".into(),
                language: "nb-NO".into(),
                base_url: None,
                access_token: Secret::new("access"),
                secret_token: Secret::new("secret"),
                md5_key: md5_key.map(Secret::new),
            },
            http(),
        )
    };
    let b = client(Some(MD5_KEY));
    let answer = || {
        let r = b.answer(resp.clone(), "fuzz");
        match &r {
            Ok(_) => {
                assert!((200..300).contains(&resp.status));
                let meta = serde_json::from_slice::<bambora::wire::Envelope>(&resp.body);
                assert!(meta.is_ok_and(|e| e.meta.result));
            }
            Err(e) if !(200..300).contains(&resp.status) => follows_status(e, &resp),
            Err(e) => error_reads(e),
        }
        if let Err(e) = &r {
            clipped(e);
        }
        r.ok()
    };
    let url = String::from_utf8_lossy(body);
    match pick % 8 {
        0 => {
            answer();
        }
        1 => {
            if let Some(r) = answer() {
                let _ = parse_json::<bambora::wire::SessionCreated>("bambora", &r);
            }
        }
        2 => {
            if let Some(r) = answer() {
                let _ = parse_json::<bambora::wire::PaymentRequestCreated>("bambora", &r);
            }
        }
        3 => {
            if let Some(r) = answer() {
                let _ = parse_json::<bambora::wire::PaymentRequestRead>("bambora", &r);
            }
        }
        4 => {
            let read = answer()
                .and_then(|r| parse_json::<bambora::wire::TransactionRead>("bambora", &r).ok());
            if let Some(t) = read.map(|r| r.transaction) {
                let (status, _) =
                    bambora::wire::transaction_status(&t, sale.total.gross, sale.currency.code());
                if status == Status::Paid {
                    assert!(t.total.credited <= 0);
                }
                covers(
                    status,
                    Some(t.total.authorized),
                    Some(&t.currency.code),
                    sale,
                );
            }
        }
        5 => bambora_return(&b, sale, &url, false),
        6 => {
            if let Some(signed) = signed_accept_url(&url) {
                bambora_return(&b, sale, &signed, true);
            }
        }
        7 => {
            let r = client(None)
                .returned(&session(sale, "checkout/tok"), &url)
                .expect("returned reads a URL without I/O");
            let want = if is_cancel_return(&url) {
                Status::Cancelled
            } else {
                Status::NeedsReview
            };
            assert_eq!(r.report.map(|r| r.status), Some(want));
            assert_eq!(r.payment_id, None);
        }
        _ => unreachable!(),
    }
}

/// The MD5 of an accept URL as NOTES §4.7 defines it, computed here independently of
/// [`bambora::wire::hash_matches`]: the values of Bambora's parameters (from the first
/// `txnid` on; the shop's own come before it) in order, without `hash`, then the key.
fn accept_hash(params: &[(String, String)]) -> String {
    use md5::{Digest, Md5};
    let start = params
        .iter()
        .position(|(k, _)| k == "txnid")
        .unwrap_or(params.len());
    let mut md5 = Md5::new();
    for (_, v) in params[start..].iter().filter(|(k, _)| k != "hash") {
        md5.update(v.as_bytes());
    }
    md5.update(MD5_KEY.as_bytes());
    md5.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `url` with the right `hash` appended, when it has no hash and no fragment of its own.
fn signed_accept_url(url: &str) -> Option<String> {
    if url.contains('#') || query_pairs(url).iter().any(|(k, _)| k == "hash") {
        return None;
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!(
        "{url}{sep}hash={}",
        accept_hash(&query_pairs(&format!("{url}{sep}")))
    ))
}

fn bambora_return(b: &Bambora, sale: &PricedOrder, url: &str, signed: bool) {
    let r = b
        .returned(&session(sale, "checkout/tok"), url)
        .expect("returned reads a URL without I/O");
    let params = query_pairs(url);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if is_cancel_return(url) {
        assert_eq!(r.report.map(|r| r.status), Some(Status::Cancelled));
        return;
    }
    match &r.payment_id {
        Some(txnid) => {
            // Accepted: the hash was right, the order is this sale's; the status is asked next.
            assert!(r.report.is_none());
            assert_eq!(Some(txnid), get("txnid"));
            assert!(get("hash").is_some_and(|h| h.eq_ignore_ascii_case(&accept_hash(&params))));
            let order = bambora::wire::order_id(&sale.reference);
            assert!(get("orderid").is_none_or(|o| *o == order));
        }
        None => {
            assert_eq!(r.report.map(|r| r.status), Some(Status::NeedsReview));
            if signed {
                // A correctly signed URL is refused only without a txnid or for another order.
                let order = bambora::wire::order_id(&sale.reference);
                assert!(get("txnid").is_none() || get("orderid").is_some_and(|o| *o != order));
            }
        }
    }
}

/// Klarna: 0 error answers, 1 payments session created, 2 hosted page created, 3 hosted page
/// read, 4 Order Management order, 5 the QR image answer.
pub fn klarna_response(data: &[u8]) {
    let Input {
        pick, resp, sale, ..
    } = input(data);
    let k = Klarna::new(
        KlarnaConfig {
            label: "klarna".into(),
            profile: "test".into(),
            region: "eu".into(),
            acquiring_channel: "ECOMMERCE".into(),
            purchase_country: "NO".into(),
            language: "nb".into(),
            base_url: None,
            username: Secret::new("user"),
            password: Secret::new("password"),
        },
        http(),
    );
    let answer = || match k.answer(resp.clone(), "fuzz") {
        Ok(r) => {
            assert!((200..300).contains(&resp.status));
            Some(r)
        }
        Err(e) => {
            follows_status(&e, &resp);
            None
        }
    };
    match pick % 6 {
        0 => {
            answer();
        }
        1 => {
            if let Some(r) = answer() {
                let _ = parse_json::<klarna::wire::SessionCreated>("klarna", &r);
            }
        }
        2 => {
            let created =
                answer().and_then(|r| parse_json::<klarna::wire::HppCreated>("klarna", &r).ok());
            if let Some(t) = created.and_then(|c| c.expires_at) {
                let _ = crate::time::parse_utc(&t);
            }
        }
        3 => {
            let read =
                answer().and_then(|r| parse_json::<klarna::wire::HppRead>("klarna", &r).ok());
            if let Some(h) = read {
                match klarna::wire::hpp_state("hpp-1", &h, NOW) {
                    klarna::wire::HppState::Order(o) => {
                        assert_eq!(h.status, "COMPLETED");
                        assert_eq!(Some(o), h.order_id);
                    }
                    // The page alone is never evidence of payment.
                    klarna::wire::HppState::Done(status, _) => assert_ne!(status, Status::Paid),
                }
            }
        }
        4 => {
            let read =
                answer().and_then(|r| parse_json::<klarna::wire::OmOrder>("klarna", &r).ok());
            if let Some(o) = read {
                let (status, _) =
                    klarna::wire::order_status(&o, sale.total.gross, sale.currency.code());
                if status == Status::Paid {
                    assert_eq!(o.fraud_status.as_deref(), Some("ACCEPTED"));
                }
                covers(
                    status,
                    Some(o.order_amount),
                    Some(&o.purchase_currency),
                    sale,
                );
            }
        }
        5 => {
            let url = "https://pay.playground.klarna.com/qr/hpp-1.png";
            match k.qr_data_url(url, &resp) {
                Ok(data_url) => {
                    use base64::Engine;
                    assert!((200..300).contains(&resp.status));
                    let (head, b64) = data_url.split_once(";base64,").expect("a data: URL");
                    assert!(head.starts_with("data:image/"), "{head}");
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .expect("valid base64");
                    assert_eq!(bytes, resp.body);
                    assert!(!bytes.is_empty() && bytes.len() <= 512 * 1024);
                }
                Err(e) => error_reads(&e),
            }
        }
        _ => unreachable!(),
    }
}

/// Commerce Layer: 0 JSON:API error documents, 1 token answer, 2 an order document (its
/// status, and [`commercelayer::wire::compare`] against the sale), 3 an order list (lookup by
/// reference), 4 the return URL.
pub fn commercelayer_response(data: &[u8]) {
    let Input {
        pick,
        resp,
        body,
        sale,
    } = input(data);
    let cl = CommerceLayer::new(
        CommerceLayerConfig {
            label: "commercelayer".into(),
            profile: "test".into(),
            organization: "kassa-shop".into(),
            market_id: "kGbnLhkXyZ".into(),
            address_id: "AbCd".into(),
            language: "nb".into(),
            base_url: None,
            client_id: Secret::new("id"),
            client_secret: Secret::new("secret"),
            sales_channel_client_id: Secret::new("sc"),
        },
        http(),
    );
    let checked = || match cl.check(resp.clone(), "fuzz") {
        Ok(r) => {
            assert!((200..300).contains(&resp.status));
            Some(r)
        }
        Err(e) => {
            follows_status(&e, &resp);
            clipped(&e);
            None
        }
    };
    let s = session(sale, "ord-1");
    let report = |o: &commercelayer::wire::Resource| {
        let r = cl.report(o, &s);
        covers(
            r.status,
            o.int("total_amount_with_taxes_cents"),
            o.str("currency_code"),
            sale,
        );
        if r.status == Status::Paid {
            assert_eq!(
                o.int("total_amount_with_taxes_cents"),
                Some(sale.total.gross)
            );
        }
    };
    match pick % 5 {
        0 => {
            checked();
        }
        1 => token_read(|r| cl.read_token(r), &resp, ""),
        2 => {
            let doc = checked()
                .and_then(|r| parse_json::<commercelayer::wire::Doc>("commercelayer", &r).ok());
            if let Some(doc) = doc {
                report(&doc.data);
                let o = &doc.data;
                let same = o.str("currency_code") == Some(sale.currency.code())
                    && o.int("total_amount_with_taxes_cents") == Some(sale.total.gross)
                    && o.int("total_tax_amount_cents") == Some(sale.total.vat);
                match commercelayer::wire::compare(&doc, sale) {
                    Ok(()) => assert!(same),
                    Err(m) => assert!(!same && !m.is_empty()),
                }
            }
        }
        3 => {
            let list = checked()
                .and_then(|r| parse_json::<commercelayer::wire::ListDoc>("commercelayer", &r).ok());
            for o in list.iter().flat_map(|l| &l.data) {
                report(o);
            }
        }
        4 => {
            // Only a cancel return acts (it cancels the order over HTTP); any other return is
            // no evidence and asks nothing.
            let url = String::from_utf8_lossy(body);
            if !is_cancel_return(&url) {
                let r = cl.returned(&s, &url).expect("no I/O for a plain return");
                assert_eq!(r, Default::default());
            }
        }
        _ => unreachable!(),
    }
}

/// Opencharge: 0 refusals (error bodies), 1 `/checkout/create` answer, 2 `/orders/checkout`
/// answer, 3 the gateway's clock from `Date` (the body's first line) or `serverTime`, then a
/// create answer, 4 the return URL, 5 a signature check (the body's first line is the
/// signature), 6 sign and verify the body, 7 the canonical JSON of signed objects.
pub fn opencharge_response(data: &[u8]) {
    let Input {
        pick,
        mut resp,
        body,
        sale,
    } = input(data);
    let client = |mode| {
        Opencharge::new(
            OpenchargeConfig {
                label: "opencharge".into(),
                profile: "test".into(),
                ocid: 500,
                gateway_url: "https://gw.example/opencharge".into(),
                gateway_ocid: 100,
                mode,
                sign_items: true,
                private_key: Secret::new(OC_PRIVATE),
            },
            http(),
        )
        .expect("a valid test key")
    };
    let created = |oc: &Opencharge, resp: &Response, corrected: bool| match oc
        .created(resp, "ks_1", EXPIRES_AT, corrected)
    {
        Ok(c) => {
            assert!(c.expires_at.is_some_and(|t| t <= EXPIRES_AT));
            assert!(c.checkout_url.starts_with("http"));
            assert_eq!(c.qr_payload, c.checkout_url);
            c.detail.is_some()
        }
        Err(e) => {
            error_reads(&e);
            false
        }
    };
    match pick % 8 {
        0 => {
            let e = client(Mode::CheckoutCreate).refusal(&resp);
            follows_status(&e, &resp);
            if let Ok(b) = serde_json::from_slice::<opencharge::wire::ErrorBody>(&resp.body) {
                let code = match &e.kind {
                    ErrorKind::Auth { code, .. }
                    | ErrorKind::Server { code, .. }
                    | ErrorKind::Rejected { code, .. } => code.clone(),
                    _ => Some(b.error.code.clone()),
                };
                assert_eq!(code, Some(b.error.code));
            }
        }
        1 => {
            created(&client(Mode::CheckoutCreate), &resp, pick & 8 != 0);
        }
        2 => {
            let oc = client(Mode::OrdersCheckout);
            if let Ok(c) = oc.created(&resp, "ks_1", EXPIRES_AT, false) {
                assert_eq!(c.provider_session_id, "ks_1");
            }
        }
        3 => {
            let (date, rest) = split_line(body);
            resp.date = Some(String::from_utf8_lossy(date).into_owned());
            resp.body = rest.to_vec();
            let oc = client(Mode::CheckoutCreate);
            oc.measure(&resp, NOW, NOW + 40);
            assert!(!oc.offset_text().is_empty());
            let noted = created(&oc, &resp, false);
            if noted {
                assert!(oc.offset_text() != "matches the gateway's");
            }
        }
        4 => {
            let url = String::from_utf8_lossy(body);
            let r = client(Mode::CheckoutCreate)
                .returned(&session(sale, "ks_1"), &url)
                .expect("returned reads a URL without I/O");
            // A return is never proof of payment.
            let want = if is_cancel_return(&url) {
                Status::Cancelled
            } else {
                Status::NeedsReview
            };
            assert_eq!(r.report.map(|r| r.status), Some(want));
            assert_eq!(r.payment_id, None);
        }
        5 => {
            let (signature, text) = split_line(body);
            let public = client(Mode::CheckoutCreate).public_key_hex();
            let _ = sign::verify(&public, text, &String::from_utf8_lossy(signature));
            let _ = sign::verify(&String::from_utf8_lossy(signature), text, &"0".repeat(128));
        }
        6 => {
            let key = sign::Key::from_hex(&Secret::new(OC_PRIVATE)).expect("a valid key");
            let public = key.public_key_hex();
            let signature = key.sign(body);
            assert!(sign::verify(&public, body, &signature));
            assert!(sign::verify(&public, body, &signature[..128]));
            let mut other = body.to_vec();
            other.push(b'x');
            assert!(!sign::verify(&public, &other, &signature));
        }
        7 => {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
                if let Ok(c) = sign::canonical_json(&v) {
                    let back: serde_json::Value =
                        serde_json::from_str(&c).expect("canonical JSON is JSON");
                    assert_eq!(back, v);
                    assert_eq!(sign::canonical_json(&back).as_deref(), Ok(c.as_str()));
                }
            }
        }
        _ => unreachable!(),
    }
}

/// The bytes before the first `\n`, and those after it.
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}
