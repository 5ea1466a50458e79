//! What every emulator shares: reading a request (auth headers, JSON bodies, URLs, the
//! sandbox's public base), random ids, the emulators' clock, the hosted pages' HTML shell and
//! money formatting, and the one error shape two providers have in common.
//!
//! Not for: anything one provider does (its ids, errors, rules and pages stay in its folder)
//! or the test controls (`control.rs`). A helper moves here when a second emulator needs it.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kassa_core::money::Currency;
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Requests

/// The body is labelled JSON (`application/json`, any parameters).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"))
}

/// HTTP Basic `user:password`, if the request carries it.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// The token of `Authorization: Bearer <token>`, if there is a non-empty one.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// An absolute http(s) URL (the emulators' check of the URLs a shop sends).
pub(crate) fn is_http_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && s.len() > "https://".len()
}

/// `http://host:port/<provider>`, from the request's Host header (the sandbox is on
/// loopback, so the URLs it hands out are the ones the request came in on).
/// An e-mail address as the emulators check one where the provider publishes no rule:
/// `local@domain.tld`, no whitespace (OURS; each provider's module says where it applies).
#[cfg(feature = "all-providers")]
pub(crate) fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !text.contains(char::is_whitespace)
        && domain
            .rsplit_once('.')
            .is_some_and(|(name, tld)| !name.is_empty() && tld.len() >= 2)
}

pub(crate) fn public_base(headers: &HeaderMap, provider: &str) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/{provider}")
}

// ---------------------------------------------------------------------------------------------
// Ids

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    bytes
}

/// `n` characters drawn uniformly from `alphabet`.
pub(crate) fn random_from(n: usize, alphabet: &[u8]) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes::<32>() {
            // Rejection sampling keeps the characters uniform.
            let limit = 256 - 256 % alphabet.len();
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// `bytes` random bytes as lower-case hex.
#[cfg(feature = "all-providers")]
pub(crate) fn random_hex(bytes: usize) -> String {
    random_from(2 * bytes, b"0123456789abcdef")
}

// ---------------------------------------------------------------------------------------------
// The clock

/// An emulator's clock: the machine's clock plus an offset the control API sets, so that
/// tests move an emulator through time (a token's expiry, a till whose clock is wrong) instead
/// of sleeping.
#[cfg(feature = "all-providers")]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    offset_s: i64,
}

#[cfg(feature = "all-providers")]
impl Clock {
    pub(crate) fn set_offset_s(&mut self, offset_s: i64) {
        self.offset_s = offset_s;
    }

    /// Unix seconds.
    pub(crate) fn now_s(self) -> i64 {
        kassa_core::time::now_millis()
            .div_euclid(1000)
            .saturating_add(self.offset_s)
    }

    /// Unix milliseconds.
    pub(crate) fn now_ms(self) -> i64 {
        kassa_core::time::now_millis().saturating_add(self.offset_s.saturating_mul(1000))
    }
}

// ---------------------------------------------------------------------------------------------
// Hosted pages

/// Text for HTML (element content and quoted attribute values).
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// An amount for a customer's eyes: `59.97 NOK`.
pub(crate) fn money(minor: i64, currency: &str) -> String {
    match Currency::from_code(currency) {
        Some(c) => format!("{} {currency}", c.format_plain(minor)),
        None => format!("{minor} (minor units) {currency}"),
    }
}

/// A hosted page: `body` (HTML) under the escaped `title`, with the sandbox's one style.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\"><title>{t}</title>\
         <style>body{{font:18px system-ui,sans-serif;max-width:32em;margin:2em auto;padding:0 1em;color:#1b1b1b}}\
         table{{width:100%;border-collapse:collapse}}td{{padding:.4em 0;border-bottom:1px solid #ddd}}.n{{text-align:right}}\
         .total td{{font-weight:700;border:0}}button{{font:inherit;padding:.8em 1.4em;margin:.5em .5em 0 0;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer}}\
         .pay{{background:#0b6e4f;color:#fff;border-color:#0b6e4f;width:100%}}.row{{display:flex}}.note,.ref{{color:#555;font-size:.85em}}.state{{font-weight:700}}</style>\
         </head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}

// ---------------------------------------------------------------------------------------------
// Errors

/// `{"error": {"code", "message"}}`: the error shape of Dintero and of Opencharge (each
/// provider's module says which shape is its own).
pub(crate) fn code_message_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}
