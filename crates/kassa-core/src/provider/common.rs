//! Helpers every provider client shares: Basic auth, bearer-token answers, JSON and error
//! bodies, error mapping by HTTP status, URLs and query strings, the cancel-return mark, and
//! integer lines. Nothing here knows any one provider (their modules build on this one).

use super::error::{ErrorKind, ProviderError};
use crate::http::Response;
use crate::quote::PricedLine;
use crate::secrets::Secret;

/// The URL of a provider API call: the real host (`real_origin`, e.g.
/// `https://checkout.dintero.com`) unless `<provider>.base_url` is set, in which case the base
/// URL replaces the scheme and host (and may add a path prefix) while the API path stays the
/// real one. One base URL serves all of a provider's hosts, whose paths do not collide.
///
/// ```
/// use kassa_core::provider::api_url;
/// assert_eq!(api_url("https://checkout.dintero.com", None, "/v1/sessions-profile"),
///            "https://checkout.dintero.com/v1/sessions-profile");
/// assert_eq!(api_url("https://checkout.dintero.com", Some("http://127.0.0.1:8080"), "/v1/sessions-profile"),
///            "http://127.0.0.1:8080/v1/sessions-profile");
/// ```
pub fn api_url(real_origin: &str, base_url: Option<&str>, path: &str) -> String {
    let origin = base_url.unwrap_or(real_origin).trim_end_matches('/');
    if path.starts_with('/') {
        format!("{origin}{path}")
    } else {
        format!("{origin}/{path}")
    }
}

/// The value of the `kassa` query parameter Kassa adds to the return URL to make the cancel
/// URL of providers that have one (`…/return?kassa=cancelled`).
pub const CANCELLED_MARK: &str = "cancelled";

/// Whether `url` is the cancel URL [`crate::checkout::start`] gave the provider (the customer gave up).
pub fn is_cancel_return(url: &str) -> bool {
    query_pairs(url)
        .iter()
        .any(|(k, v)| k == "kassa" && v == CANCELLED_MARK)
}

/// `Basic base64(user:password)`, kept in a [`Secret`].
pub(crate) fn basic_auth(user: &str, password: &str) -> Secret {
    use base64::Engine;
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    ))
}

/// A line as a whole quantity and unit price whose product is exactly `amount` (the line's
/// total after discounts, in the provider's terms): `n × (amount / n)` when the quantity is a
/// whole `n` that divides the amount, else one unit at the full amount with the quantity in the
/// name (`"3 × Kaffe"`, `"Ost 0.35 kg"`). For providers whose quantities are integers and
/// which check `Σ quantity × price` against the total (Commerce Layer, Opencharge).
pub(crate) fn integer_line(line: &PricedLine, amount: i64) -> (i64, i64, String) {
    let milli = line.quantity.milli();
    let n = milli / 1000;
    if line.quantity.is_whole() && n > 0 && amount % n == 0 {
        return (n, amount / n, line.name.clone());
    }
    let name = if line.quantity.is_whole() {
        format!("{n} × {}", line.name)
    } else {
        measured_name(line)
    };
    (1, amount, name)
}

/// A weighed or measured line's name with its quantity and unit (`"Ost 0.35 kg"`), for
/// providers that get such a line as one unit at its full amount.
pub(crate) fn measured_name(line: &PricedLine) -> String {
    let unit = line
        .unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    format!("{} {}{unit}", line.name, line.quantity.to_canonical())
}

/// A provider's text, cut to 300 characters (error bodies can be long).
pub(crate) fn clip(text: &str) -> String {
    let t: String = text.chars().take(300).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// Says what an error body was when it is not the provider's documented error JSON.
pub(crate) fn describe_body(resp: &Response, provider: &str) -> String {
    if resp.body.is_empty() {
        return "no error details".into();
    }
    let ct = resp.content_type.as_deref().unwrap_or("no content type");
    if resp.is_json() {
        format!(
            "an error body Kassa cannot read ({} bytes of {ct})",
            resp.body.len()
        )
    } else {
        format!(
            "a {ct} body of {} bytes, not {provider}'s JSON error",
            resp.body.len()
        )
    }
}

/// The error for a non-2xx answer, by HTTP status; `code` and `message` are what the
/// provider's error body said.
pub(crate) fn status_error(
    provider: &str,
    resp: &Response,
    what: &str,
    code: Option<String>,
    message: String,
) -> ProviderError {
    let status = resp.status;
    ProviderError::new(
        provider,
        match status {
            401 | 403 => ErrorKind::Auth {
                status,
                code,
                message,
            },
            404 => ErrorKind::NotFound {
                what: what.to_string(),
            },
            429 => ErrorKind::RateLimited {
                retry_after: resp.retry_after,
            },
            500..=599 => ErrorKind::Server {
                status,
                code,
                message,
            },
            _ => ErrorKind::Rejected {
                status,
                code,
                message,
            },
        },
    )
}

/// An OAuth 2 token endpoint's answer (Dintero S:8593ff, Commerce Layer NOTES §A3). Not
/// `Debug`: it holds the token.
#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    expires_in: u64,
}

/// The longest token lifetime Kassa believes: a day (providers' tokens live hours). `Instant`
/// cannot hold an arbitrary one (`expires_in: 1e19` made `Instant + life` panic).
const MAX_TOKEN_LIFE: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Reads a token endpoint's (2xx) answer: the bearer token and how long to use it, which is
/// its lifetime less `early`, or less `1/share` of a lifetime too short for that, so that no
/// request carries a token that expires in flight. Errors never quote the body (it holds the
/// token).
pub(crate) fn bearer_token(
    provider: &str,
    resp: &Response,
    early: std::time::Duration,
    share: u32,
) -> Result<(Secret, std::time::Duration), ProviderError> {
    if !resp.is_json() {
        // Reuses the "expected JSON" wording without parsing a body that holds a token.
        return Err(parse_json::<serde_json::Value>(provider, resp).unwrap_err());
    }
    let bad = |detail: String| {
        ProviderError::new(
            provider,
            ErrorKind::BadResponse {
                status: resp.status,
                detail,
            },
        )
    };
    // serde's messages can quote values; this body holds the token, so say less.
    let t: TokenAnswer = serde_json::from_slice(&resp.body)
        .map_err(|_| bad("the token answer lacks access_token, token_type or expires_in".into()))?;
    if !t.token_type.eq_ignore_ascii_case("bearer") {
        return Err(bad(format!(
            "token_type is {:?}, expected Bearer",
            t.token_type
        )));
    }
    let life = std::time::Duration::from_secs(t.expires_in).min(MAX_TOKEN_LIFE);
    let margin = early.min(life / share);
    Ok((Secret::new(t.access_token), life - margin))
}

/// Parses a JSON answer, or says why it is not one.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    resp: &Response,
) -> Result<T, ProviderError> {
    if !resp.is_json() {
        return Err(ProviderError::new(
            provider,
            ErrorKind::BadResponse {
                status: resp.status,
                detail: format!(
                    "expected JSON, got {}",
                    resp.content_type.as_deref().unwrap_or("no content type")
                ),
            },
        ));
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        ProviderError::new(
            provider,
            ErrorKind::BadResponse {
                status: resp.status,
                detail: format!("not the documented JSON ({e})"),
            },
        )
    })
}

/// The query parameters of a URL in the order they appear, percent-decoded (`+` is a space).
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .unwrap_or("");
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match u8::from_str_radix(text.get(i + 1..i + 3).unwrap_or(""), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `key=value` to a URL's query.
pub(crate) fn with_query(url: &str, key: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}{key}={}", crate::http::percent_encode(value));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn bearer_tokens_are_used_for_their_life_less_a_margin_and_at_most_a_day() {
        use std::time::Duration;
        let answer = |body: &str| crate::http::Response {
            status: 200,
            content_type: Some("application/json".into()),
            retry_after: None,
            date: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let read = |body: &str| super::bearer_token("p", &answer(body), Duration::from_secs(60), 2);
        let (token, use_for) =
            read(r#"{"access_token":"tok-1","token_type":"bearer","expires_in":3600}"#).unwrap();
        assert_eq!(token.expose(), "tok-1");
        assert_eq!(use_for, Duration::from_secs(3540));
        // A short lifetime: renewed halfway.
        let (_, use_for) =
            read(r#"{"access_token":"t","token_type":"Bearer","expires_in":60}"#).unwrap();
        assert_eq!(use_for, Duration::from_secs(30));
        // An absurd lifetime counts as a day (Instant + u64::MAX seconds panics).
        let (_, use_for) =
            read(r#"{"access_token":"t","token_type":"Bearer","expires_in":18446744073709551615}"#)
                .unwrap();
        assert_eq!(use_for, Duration::from_secs(86_400 - 60));
        let _ = std::time::Instant::now() + use_for;
        // Errors never quote the body, which holds the token.
        let e =
            read(r#"{"access_token":"secret-tok","token_type":"mac","expires_in":1}"#).unwrap_err();
        assert!(e.to_string().contains("expected Bearer"), "{e}");
        let e = read(r#"{"access_token":"secret-tok"}"#).unwrap_err();
        assert!(!e.to_string().contains("secret-tok"), "{e}");
    }

    use super::*;

    #[test]
    fn basic_auth_matches_rfc_7617() {
        // RFC 7617 §2's example.
        assert_eq!(
            basic_auth("Aladdin", "open sesame").expose(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn query_pairs_keep_order_and_decode() {
        assert_eq!(
            query_pairs("https://x.example/r?b=2&a=%C3%A5+x&c=&d#frag"),
            vec![
                ("b".into(), "2".into()),
                ("a".into(), "å x".into()),
                ("c".into(), "".into()),
                ("d".into(), "".into()),
            ]
        );
        assert_eq!(query_pairs("https://x.example/r"), vec![]);
        assert_eq!(
            query_pairs("https://x.example/r?x=%zz%4"),
            vec![("x".into(), "%zz%4".into())]
        );
    }

    #[test]
    fn with_query_appends() {
        assert_eq!(with_query("https://a/r", "k", "v w"), "https://a/r?k=v%20w");
        assert_eq!(
            with_query("https://a/r?x=1#f", "k", "v"),
            "https://a/r?x=1&k=v#f"
        );
    }

    #[test]
    fn base_url_replaces_scheme_and_host_and_keeps_the_path() {
        let s = |o| api_url("https://api.v1.checkout.bambora.com", o, "/sessions");
        assert_eq!(s(None), "https://api.v1.checkout.bambora.com/sessions");
        assert_eq!(
            s(Some("http://127.0.0.1:9000/")),
            "http://127.0.0.1:9000/sessions"
        );
        assert_eq!(
            s(Some("https://staging.example/bambora")),
            "https://staging.example/bambora/sessions"
        );
        assert_eq!(
            api_url(
                "https://auth.commercelayer.io",
                Some("http://localhost:8080"),
                "oauth/token"
            ),
            "http://localhost:8080/oauth/token"
        );
    }
}
