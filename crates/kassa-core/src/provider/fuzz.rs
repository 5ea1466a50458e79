//! What every provider's fuzz entry point (`provider/<name>/fuzz.rs`) shares: the input
//! layout, the sales and clock the answers are checked against, and the checks any provider's
//! errors must pass. Compiled only for tests and the `fuzzing` feature (`fuzz/`, the corpus
//! replay in `tests/fuzz_corpus.rs`).
//!
//! Input layout, the same for every provider (missing bytes count as zero):
//! - byte 0 picks the parser (modulo the provider's number of parsers, see each entry point);
//! - byte 1 picks the HTTP status from [`STATUSES`];
//! - byte 2: bits 0–2 pick the content type from [`CONTENT_TYPES`], bit 3 adds
//!   `Retry-After: 30`, bits 4–5 pick the sale the answer is checked against ([`SALES`]);
//! - the rest is the body (for the return-URL parsers: the URL the window reached).

use super::common::is_cancel_return;
use super::{ErrorKind, ProviderError, Returned, SessionRef};
use crate::http::{Http, HttpConfig, Response};
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
pub(crate) const NOW: i64 = 1_795_262_400_000;
/// Kassa's own expiry of the fuzzed session.
pub(crate) const EXPIRES_AT: i64 = NOW + 15 * 60 * 1000;
/// A token value no error message can contain by accident (`Debug` escapes its control
/// characters), for the "a token never reaches an error" check.
const CANARY: &str = "CANARY\u{1}token\u{2}SECRET";

/// A fuzz input: the parser to call, the answer, the sale.
pub(crate) struct Input<'a> {
    pub pick: u8,
    pub resp: Response,
    pub body: &'a [u8],
    pub sale: &'static PricedOrder,
}

pub(crate) fn input(data: &[u8]) -> Input<'_> {
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
            headers: Vec::new(),
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

pub(crate) fn http() -> Http {
    static HTTP: OnceLock<Http> = OnceLock::new();
    HTTP.get_or_init(|| Http::new(HttpConfig::default()).expect("the HTTP client starts"))
        .clone()
}

pub(crate) fn session<'a>(sale: &'a PricedOrder, provider_session_id: &'a str) -> SessionRef<'a> {
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
pub(crate) fn error_reads(e: &ProviderError) {
    assert!(!e.code().as_str().is_empty());
    assert!(!e.to_string().is_empty());
}

/// A non-2xx answer's error follows its HTTP status.
pub(crate) fn follows_status(e: &ProviderError, resp: &Response) {
    error_reads(e);
    let s = resp.status;
    let ok = match &e.kind {
        ErrorKind::Auth { status, .. } => matches!(s, 401 | 403) && *status == s,
        ErrorKind::NotFound { .. } => s == 404,
        ErrorKind::RateLimited { retry_after } => s == 429 && *retry_after == resp.retry_after,
        ErrorKind::Server { status, .. } => (500..600).contains(&s) && *status == s,
        // A 403 may also refuse the operation rather than the credentials (Klarna's
        // `*_NOT_ALLOWED`: an over-refund, a cancel after a capture).
        ErrorKind::Rejected { status, .. } => {
            !matches!(s, 401 | 404 | 429 | 500..=599) && *status == s
        }
        _ => false,
    };
    assert!(ok, "HTTP {s} gave {:?}", e.kind);
}

/// Error bodies are cut for the screen: a provider's words are at most 300 characters (+ `…`).
pub(crate) fn clipped(e: &ProviderError) {
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
pub(crate) fn token_read(
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
pub(crate) fn covers(
    status: Status,
    amount: Option<i64>,
    currency: Option<&str>,
    sale: &PricedOrder,
) {
    if status == Status::Paid {
        assert!(amount.is_some_and(|a| a >= sale.total.gross), "{amount:?}");
        assert_eq!(currency, Some(sale.currency.code()));
    }
}

/// What a provider made of a return URL it cannot verify: never proof of payment. The cancel
/// URL cancels; any other return needs review.
pub(crate) fn unverified_return(r: Returned, url: &str) {
    let want = if is_cancel_return(url) {
        Status::Cancelled
    } else {
        Status::NeedsReview
    };
    assert_eq!(r.report.map(|r| r.status), Some(want));
    assert_eq!(r.payment_id, None);
}
