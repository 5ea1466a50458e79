//! The provider framework: one trait every payment provider implements, the capability list,
//! and the errors provider clients return.
//!
//! Each provider lives in its own module (`provider::<name>`): a client (URLs, auth, request
//! building, response and error handling) and a `wire` module with the provider's own field
//! names and the mapping to and from Kassa's types. The rest of Kassa sees only [`Provider`].
//!
//! Rules every implementation follows:
//! - `paid` only on the provider's evidence (each module documents what counts); a redirect
//!   to a return URL is never evidence.
//! - `create` is never retried blindly: the caller ([`crate::checkout`]) marks a session
//!   `unknown` when a create may have reached the provider, and reconciliation asks before
//!   anything is created again. Status reads retry (see [`crate::http`]).
//! - Errors keep the provider's code, message and HTTP status, and never hold a secret.

pub mod bambora;
pub mod commercelayer;
pub mod dintero;
pub mod klarna;
pub mod opencharge;

use crate::http::{Http, Response};
use crate::quote::{PricedLine, PricedOrder};
use crate::secrets::{CredentialKey, Secret, SecretStore};
use crate::session::{SessionId, Status};
use crate::settings::Settings;
use std::fmt;

/// How the checkout URL will be shown (`"qr"` or `"webview"` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presentation {
    /// A QR code the customer scans with their own phone.
    Qr,
    /// The provider's page in a window on the till.
    Webview,
}

/// What a provider can do; the UI and the CLI consult it before offering an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    /// An open session can be cancelled at the provider.
    pub cancel: bool,
    /// The checkout URL works on the customer's phone (QR).
    pub qr: bool,
    /// The checkout URL works in the embedded webview.
    pub webview: bool,
    /// The provider's status answers are machine-checkable evidence of payment.
    pub verifiable_status: bool,
    /// A session whose create got no answer can be looked up by merchant reference.
    pub find_by_reference: bool,
}

/// Everything a provider needs to create a checkout session.
#[derive(Debug, Clone)]
pub struct CreateRequest<'a> {
    pub session_id: &'a SessionId,
    pub order: &'a PricedOrder,
    /// Where the provider sends the customer after paying.
    pub return_url: &'a str,
    /// Where the provider sends the customer after cancelling (providers without a separate
    /// cancel URL use `return_url`).
    pub cancel_url: &'a str,
    pub presentation: Presentation,
    /// Now and the session's requested expiry (Unix ms).
    pub now: i64,
    pub expires_at: i64,
}

/// The provider's answer to a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub provider_session_id: String,
    pub checkout_url: String,
    /// What the QR code encodes: only the checkout URL.
    pub qr_payload: String,
    pub expires_at: Option<i64>,
    /// What else the provider said that the session log should keep (appended to the
    /// `opened` event), e.g. Commerce Layer's checkout.com payment session id.
    pub detail: Option<String>,
}

/// A session as the provider client needs to look it up.
#[derive(Debug, Clone)]
pub struct SessionRef<'a> {
    pub provider_session_id: Option<&'a str>,
    pub merchant_reference: &'a str,
    /// The amount and currency the customer must pay: evidence of a smaller payment is not
    /// `paid`.
    pub gross: i64,
    pub currency: &'a str,
    pub now: i64,
    /// When the session expires (as the provider said at create, or Kassa's own limit).
    pub expires_at: Option<i64>,
    /// The provider's id of the payment, where it differs from the session's and arrived
    /// later (Bambora's `txnid` from a verified accept URL).
    pub provider_payment_id: Option<&'a str>,
}

/// What the provider says about a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub status: Status,
    /// The provider's own words, e.g. `transaction T12345678.4x… AUTHORIZED`.
    pub detail: String,
}

/// What a provider made of the return URL an embedded checkout window reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Returned {
    /// A payment id the URL carried and the provider verified (e.g. Bambora's `txnid` after its
    /// MD5 `hash` matched): kept in the session log for later status reads.
    pub payment_id: Option<String>,
    /// A status the URL settles by itself (the customer cancelled; a forged hash needs
    /// review). `None`: ask the provider ([`Provider::status`]).
    pub report: Option<StatusReport>,
}

/// The one interface Kassa has to a payment provider.
pub trait Provider: Send + Sync {
    /// The name sessions are logged under (`dintero`, `demo`, …).
    fn name(&self) -> &str;
    /// `test` or `live`.
    fn profile(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    /// Creates a checkout session. Never retried by the client.
    fn create(&self, req: &CreateRequest) -> Result<Created, ProviderError>;
    /// Reads a session's status.
    fn status(&self, session: &SessionRef) -> Result<StatusReport, ProviderError>;
    /// Cancels an unpaid session and reports the status after it.
    fn cancel(&self, session: &SessionRef) -> Result<StatusReport, ProviderError> {
        let _ = session;
        Err(self.unsupported("cancel"))
    }
    /// Looks for a session (or its payment) by merchant reference, for a create that got no
    /// answer. `Ok(None)`: the provider has no payment for this reference.
    fn find_by_reference(
        &self,
        session: &SessionRef,
    ) -> Result<Option<StatusReport>, ProviderError> {
        let _ = session;
        Err(self.unsupported("find_by_reference"))
    }
    /// The embedded checkout window reached the return URL (`url`, with whatever the provider
    /// appended). A return is never itself proof of payment: providers whose return carries
    /// evidence check it here, and Kassa then asks [`Provider::status`]. Default: nothing to
    /// read, ask the provider.
    fn returned(&self, session: &SessionRef, url: &str) -> Result<Returned, ProviderError> {
        let _ = (session, url);
        Ok(Returned::default())
    }
    /// Makes a harmless authenticated call (no session is created) and says what it proved,
    /// for the settings screen's "test connection".
    fn check_connection(&self) -> Result<String, ProviderError> {
        Err(self.unsupported("test connection"))
    }
    /// The error for an operation this provider does not support.
    fn unsupported(&self, operation: &'static str) -> ProviderError {
        ProviderError::new(self.name(), ErrorKind::Unsupported { operation })
    }
}

/// Builds the client of a configured provider from the settings and the keyring.
/// `profile`: `test` or `live`, default the provider's `profile` setting. The demo provider is
/// built by the shells (it needs the sandbox, which the core does not depend on).
pub fn from_settings(
    name: &str,
    profile: Option<&str>,
    settings: &Settings,
    secrets: &dyn SecretStore,
    http: &Http,
) -> Result<Box<dyn Provider>, ProviderError> {
    let config = |m: String| ProviderError::new(name, ErrorKind::Config(m));
    let profile = profile
        .map(str::to_string)
        .unwrap_or_else(|| settings.profile(name));
    crate::settings::check_profile(&profile).map_err(|e| config(e.to_string()))?;
    let setting = |key: &str| -> Result<Option<String>, ProviderError> {
        settings
            .get(&format!("{name}.{key}"))
            .map_err(|e| config(e.to_string()))
    };
    let required = |key: &str| -> Result<String, ProviderError> {
        setting(key)?.ok_or_else(|| {
            config(format!(
                "{name}.{key} is not set (kassa-cli config set {name}.{key} …)"
            ))
        })
    };
    let secret = |field: &str| -> Result<Secret, ProviderError> {
        secrets
            .get(&CredentialKey::new(name, &profile, field))
            .map_err(|e| match e {
                // A credential never set is a setup problem like a missing setting; a keyring
                // that is absent, locked or refusing is a system problem.
                crate::secrets::SecretError::Missing(_) => config(e.to_string()),
                _ => ProviderError::new(name, ErrorKind::Credentials(e.to_string())),
            })
    };
    match name {
        "dintero" => {
            let cfg = dintero::DinteroConfig {
                label: "dintero".into(),
                account_id: required("account_id")?,
                profile_id: required("profile_id")?,
                base_url: setting("base_url")?,
                client_id: secret("client_id")?,
                client_secret: secret("client_secret")?,
                profile,
            };
            Ok(Box::new(dintero::Dintero::new(cfg, http.clone())?))
        }
        "bambora" => {
            let md5_key = match secret("md5_key") {
                Ok(k) => Some(k),
                // Only the webview's accept URL needs it; the QR flow works without.
                Err(ProviderError {
                    kind: ErrorKind::Config(_),
                    ..
                }) => None,
                Err(e) => return Err(e),
            };
            let cfg = bambora::BamboraConfig {
                label: "bambora".into(),
                merchant_number: required("merchant_number")?,
                payment_window_id: required("payment_window_id")?
                    .parse()
                    .map_err(|_| config("bambora.payment_window_id is not a number".into()))?,
                session_path: required("session_path")?,
                language: bambora::language(&settings.get("shop.locale").ok().flatten().unwrap_or_default()),
                base_url: setting("base_url")?,
                access_token: secret("access_token")?,
                secret_token: secret("secret_token")?,
                md5_key,
                profile,
            };
            Ok(Box::new(bambora::Bambora::new(cfg, http.clone())))
        }
        "klarna" => {
            let shop = crate::settings::ShopSettings::from_settings(settings);
            let cfg = klarna::KlarnaConfig {
                label: "klarna".into(),
                region: required("region")?,
                acquiring_channel: required("acquiring_channel")?,
                purchase_country: klarna::purchase_country(
                    setting("purchase_country")?.as_deref(),
                    &shop.currency,
                )
                .map_err(config)?,
                language: shop.locale,
                base_url: setting("base_url")?,
                username: secret("username")?,
                password: secret("password")?,
                profile,
            };
            Ok(Box::new(klarna::Klarna::new(cfg, http.clone())))
        }
        "opencharge" => {
            let ocid = |key: &str| -> Result<u64, ProviderError> {
                required(key)?
                    .parse()
                    .map_err(|_| config(format!("opencharge.{key} is not an OCID")))
            };
            let cfg = opencharge::OpenchargeConfig {
                label: "opencharge".into(),
                ocid: ocid("ocid")?,
                gateway_url: required("gateway_url")?,
                gateway_ocid: ocid("gateway_ocid")?,
                mode: opencharge::Mode::parse(&required("mode")?).map_err(config)?,
                sign_items: required("sign_items")? == "true",
                private_key: secret("private_key")?,
                profile,
            };
            Ok(Box::new(opencharge::Opencharge::new(cfg, http.clone())?))
        }
        "commercelayer" => {
            let shop = crate::settings::ShopSettings::from_settings(settings);
            let cfg = commercelayer::CommerceLayerConfig {
                label: "commercelayer".into(),
                organization: required("organization")?,
                market_id: required("market")?,
                address_id: required("address_id")?,
                language: shop.locale,
                base_url: setting("base_url")?,
                client_id: secret("client_id")?,
                client_secret: secret("client_secret")?,
                sales_channel_client_id: secret("sales_channel_client_id")?,
                profile,
            };
            Ok(Box::new(commercelayer::CommerceLayer::new(cfg, http.clone())))
        }
        other => Err(ProviderError::new(
            other,
            ErrorKind::Config(format!(
                "{other:?} is not a provider (demo, dintero, bambora, klarna, commercelayer, opencharge)"
            )),
        )),
    }
}

/// A provider call that failed, with the provider's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub provider: String,
    pub kind: ErrorKind,
}

/// Why a provider call failed. None of these ever holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A setting is missing or wrong.
    Config(String),
    /// The keyring is absent, locked or refused (a credential never set is `Config`).
    Credentials(String),
    Unsupported {
        operation: &'static str,
    },
    /// The connection could not be made: the request never left the machine.
    Connect(String),
    /// No answer in time. `sent`: the request may have reached the provider.
    Timeout {
        sent: bool,
        seconds: u64,
    },
    /// The connection broke after the request was sent.
    Network(String),
    /// 401/403: wrong or expired credentials, or not allowed.
    Auth {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// 429, with the provider's Retry-After in seconds when given.
    RateLimited {
        retry_after: Option<u64>,
    },
    /// 5xx.
    Server {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// 404.
    NotFound {
        what: String,
    },
    /// Another 4xx: the provider refused the request.
    Rejected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// A body that is not what the API documents: not JSON, truncated, wrong content type,
    /// missing fields.
    BadResponse {
        status: u16,
        detail: String,
    },
    /// The provider computed the order differently from Kassa's quote (Commerce Layer's tax):
    /// nothing is shown to the customer.
    Mismatch(String),
}

impl ProviderError {
    pub fn new(provider: &str, kind: ErrorKind) -> ProviderError {
        ProviderError {
            provider: provider.to_string(),
            kind,
        }
    }

    /// A stable code for the UI and scripts.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::Config(_) => "provider_config",
            ErrorKind::Credentials(_) => "credentials",
            ErrorKind::Unsupported { .. } => "unsupported",
            ErrorKind::Connect(_) => "network_unreachable",
            ErrorKind::Timeout { .. } => "timeout",
            ErrorKind::Network(_) => "network",
            ErrorKind::Auth { .. } => "provider_auth",
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::Server { .. } => "provider_unavailable",
            ErrorKind::NotFound { .. } => "provider_not_found",
            ErrorKind::Rejected { .. } => "provider_rejected",
            ErrorKind::BadResponse { .. } => "provider_bad_response",
            ErrorKind::Mismatch(_) => "provider_mismatch",
        }
    }

    /// Whether a create that failed this way may nevertheless have created a session at the
    /// provider (so the session becomes `unknown`, not `failed`). Only errors that prove the
    /// provider did not act are "no": no connection, a 4xx refusal, 429, a local problem.
    pub fn may_have_reached_provider(&self) -> bool {
        match self.kind {
            ErrorKind::Timeout { sent, .. } => sent,
            ErrorKind::Network(_) | ErrorKind::Server { .. } | ErrorKind::BadResponse { .. } => {
                true
            }
            _ => false,
        }
    }

    /// Whether a status read that failed this way is worth retrying.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Connect(_)
                | ErrorKind::Timeout { .. }
                | ErrorKind::Network(_)
                | ErrorKind::RateLimited { .. }
                | ErrorKind::Server { .. }
        )
    }
}

fn with_code(code: &Option<String>) -> String {
    code.as_deref().map(|c| format!(" {c}")).unwrap_or_default()
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.provider;
        match &self.kind {
            ErrorKind::Config(m) => write!(f, "{p} is not set up: {m}"),
            ErrorKind::Credentials(m) => write!(f, "{p} credentials: {m}"),
            ErrorKind::Unsupported { operation } => {
                write!(f, "{p} does not support {operation}")
            }
            ErrorKind::Connect(m) => write!(f, "cannot reach {p}: {m}"),
            ErrorKind::Timeout {
                sent: true,
                seconds,
            } => write!(
                f,
                "{p} did not answer within {seconds} s (the request may have arrived)"
            ),
            ErrorKind::Timeout {
                sent: false,
                seconds,
            } => {
                write!(f, "cannot reach {p}: no connection within {seconds} s")
            }
            ErrorKind::Network(m) => write!(f, "the connection to {p} broke: {m}"),
            ErrorKind::Auth {
                status,
                code,
                message,
            } => write!(
                f,
                "{p} refused the credentials (HTTP {status}{}): {message}",
                with_code(code)
            ),
            ErrorKind::RateLimited { retry_after } => match retry_after {
                Some(s) => write!(f, "{p} is rate limiting (HTTP 429); retry after {s} s"),
                None => write!(f, "{p} is rate limiting (HTTP 429)"),
            },
            ErrorKind::Server {
                status,
                code,
                message,
            } => write!(
                f,
                "{p} has a problem (HTTP {status}{}): {message}",
                with_code(code)
            ),
            ErrorKind::NotFound { what } => write!(f, "{p} does not know {what} (HTTP 404)"),
            ErrorKind::Rejected {
                status,
                code,
                message,
            } => write!(
                f,
                "{p} refused the request (HTTP {status}{}): {message}",
                with_code(code)
            ),
            ErrorKind::Mismatch(m) => write!(f, "{p} disagrees with Kassa's quote: {m}"),
            ErrorKind::BadResponse { status, detail } => {
                write!(f, "{p} sent an unreadable answer (HTTP {status}): {detail}")
            }
        }
    }
}

impl std::error::Error for ProviderError {}

// Helpers every provider client shares.

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
        let unit = line
            .unit
            .as_deref()
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        format!("{} {}{unit}", line.name, line.quantity.to_canonical())
    };
    (1, amount, name)
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
}
