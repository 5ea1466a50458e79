//! The one HTTP client all provider clients share.
//!
//! - reqwest (blocking) on rustls with the *ring* provider, trusting the operating system's
//!   root store (a shop behind a corporate TLS proxy has its CA there), no OpenSSL.
//! - One client per process: connections are kept alive and reused across requests.
//! - Connect and total timeouts; a `User-Agent` naming Kassa and its version.
//! - [`Http::send`] tries once. [`Http::send_idempotent`] (status reads, token requests)
//!   retries connection errors, timeouts, 5xx and 429 with backoff, honouring `Retry-After`
//!   up to [`HttpConfig::max_retry_after`]; a longer wait is reported, not slept.
//!
//! Requests carry secrets in headers; [`Request`]'s `Debug` prints no header values, and no
//! error here quotes a request.
//!
//! This module knows nothing of any provider's API and depends on nothing else in Kassa: error
//! bodies are handed back raw, and a request that got no answer is an [`HttpError`], which each
//! provider client maps into its own error (naming itself).

use std::sync::Arc;
use std::time::Duration;

/// Why a request got no answer. Never quotes the request (its headers hold credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The connection could not be made (including the TLS handshake): the request never left
    /// the machine.
    Connect(String),
    /// No answer in time. `sent`: the request may have reached the server.
    Timeout { sent: bool, seconds: u64 },
    /// The connection broke after the request was sent.
    Network(String),
    /// A URL the client cannot send to (a setting is wrong): nothing was sent.
    BadUrl(String),
}

impl HttpError {
    /// Whether trying again may help: everything but a bad URL.
    pub fn is_transient(&self) -> bool {
        !matches!(self, HttpError::BadUrl(_))
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Connect(m) => write!(f, "cannot connect: {m}"),
            HttpError::Timeout {
                sent: true,
                seconds,
            } => write!(
                f,
                "no answer within {seconds} s (the request may have arrived)"
            ),
            HttpError::Timeout {
                sent: false,
                seconds,
            } => write!(f, "no connection within {seconds} s"),
            HttpError::Network(m) => write!(f, "the connection broke: {m}"),
            HttpError::BadUrl(m) => write!(f, "bad request URL: {m}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// Timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// For the whole request, including reading the body.
    pub timeout: Duration,
    /// Attempts for idempotent requests (1 = no retry).
    pub attempts: u32,
    /// First backoff; doubled after each retry.
    pub backoff: Duration,
    /// The longest `Retry-After` Kassa waits for; longer ones fail the request.
    pub max_retry_after: Duration,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            attempts: 3,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl HttpConfig {
    /// The defaults, with the total timeout from `KASSA_HTTP_TIMEOUT` (seconds) when set.
    pub fn from_env() -> HttpConfig {
        let mut c = HttpConfig::default();
        if let Some(s) = std::env::var("KASSA_HTTP_TIMEOUT")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s > 0.0 && *s <= 600.0)
        {
            c.timeout = Duration::from_millis((s * 1000.0) as u64);
            // The connect must give up before the whole request does: when both end at once
            // the total timeout wins, and a request that never left is reported as one that may
            // have arrived (`unknown`, not `failed`).
            c.connect_timeout = c.connect_timeout.min(c.timeout / 2);
        }
        c
    }
}

/// An HTTP method Kassa uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
    Patch,
    Put,
}

/// A request, built by a provider client.
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values may hold credentials: names only.
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names)
            .field("body_len", &self.body.as_ref().map(|b| b.len()))
            .finish()
    }
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }

    /// A JSON body (and its content type).
    pub fn json(mut self, body: Vec<u8>) -> Request {
        self.headers
            .push(("content-type", "application/json".into()));
        self.body = Some(body);
        self
    }
}

/// A response, read in full.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<u64>,
    /// The `Date` header (the server's clock, RFC 9110 IMF-fixdate), as sent.
    pub date: Option<String>,
    /// Every header, names in lower case, values as sent (those that are not visible ASCII
    /// are left out): some answers carry their result there (Klarna's `Capture-Id`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_json(&self) -> bool {
        self.content_type
            .as_deref()
            .map(|c| {
                let c = c.to_ascii_lowercase();
                c.starts_with("application/json") || c.contains("+json")
            })
            .unwrap_or(false)
    }

    /// The first value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The shared client. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    client: reqwest::blocking::Client,
    config: Arc<HttpConfig>,
}

impl Http {
    /// Builds the client: loads the OS root certificates and sets the timeouts.
    pub fn new(config: HttpConfig) -> Result<Http, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // One unreadable certificate must not take the others down with it.
            let _ = roots.add(cert);
        }
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::blocking::Client::builder()
            .use_preconfigured_tls(tls)
            .user_agent(concat!("Kassa/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            // A payment API that redirects is misconfigured or spoofed: report, never follow.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        Ok(Http {
            client,
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends once. Used for requests that must not be repeated (creating a session). `label`
    /// names the caller in the log.
    pub fn send(&self, label: &str, req: &Request) -> Result<Response, HttpError> {
        self.attempt(label, req)
    }

    /// Sends a request that is safe to repeat, retrying transient failures.
    pub fn send_idempotent(&self, label: &str, req: &Request) -> Result<Response, HttpError> {
        let mut backoff = self.config.backoff;
        let mut attempt = 1;
        loop {
            let last = attempt >= self.config.attempts;
            let result = self.attempt(label, req);
            let wait = match &result {
                Ok(r) if r.status == 429 && !last => match r.retry_after {
                    // Longer than Kassa waits at a till: hand the 429 back now.
                    Some(s) if Duration::from_secs(s) > self.config.max_retry_after => None,
                    Some(s) => Some(Duration::from_secs(s)),
                    None => Some(backoff),
                },
                Ok(r) if r.status >= 500 && !last => Some(backoff),
                Err(e) if e.is_transient() && !last => Some(backoff),
                _ => None,
            };
            match wait {
                Some(w) => std::thread::sleep(w),
                None => return result,
            }
            backoff *= 2;
            attempt += 1;
        }
    }

    fn attempt(&self, label: &str, req: &Request) -> Result<Response, HttpError> {
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
            Method::Patch => reqwest::Method::PATCH,
            Method::Put => reqwest::Method::PUT,
        };
        let mut b = self.client.request(method.clone(), &req.url);
        for (name, value) in &req.headers {
            b = b.header(*name, value);
        }
        if let Some(body) = &req.body {
            b = b.body(body.clone());
        }
        let seconds = self.config.timeout.as_secs().max(1);
        let started = std::time::Instant::now();
        // The URL without its query, for the log.
        let path = req.url.split(['?', '#']).next().unwrap_or_default();
        log::trace!(
            target: "kassa::http",
            "{label}: {method} {path}: headers {:?}, body {} bytes",
            req.headers.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            req.body.as_ref().map_or(0, Vec::len)
        );
        let classify = |e: reqwest::Error| -> HttpError {
            // reqwest's messages name the URL, never a header; drop the URL anyway (its
            // query could one day hold something private) and keep the cause.
            let cause = error_chain(&e);
            let error = if e.is_connect() {
                if e.is_timeout() {
                    HttpError::Timeout {
                        sent: false,
                        seconds: self.config.connect_timeout.as_secs().max(1),
                    }
                } else {
                    // Connecting includes the TLS handshake: a failed one says why in words a
                    // shop can act on. Only here: a TLS error while reading an answer comes
                    // after the request was sent, and stays a network error.
                    HttpError::Connect(tls_failure(&e, &req.url).unwrap_or(cause))
                }
            } else if e.is_timeout() {
                HttpError::Timeout {
                    sent: true,
                    seconds,
                }
            } else if e.is_builder() {
                HttpError::BadUrl(cause)
            } else {
                HttpError::Network(cause)
            };
            log::debug!(
                target: "kassa::http",
                "{label}: {method} {path} failed after {} ms: {error}",
                started.elapsed().as_millis()
            );
            error
        };
        let resp = b.send().map_err(&classify)?;
        let status = resp.status().as_u16();
        let header = |n: reqwest::header::HeaderName| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| v.trim().parse().ok());
        let date = header(reqwest::header::DATE);
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = resp.bytes().map_err(&classify)?.to_vec();
        log::debug!(
            target: "kassa::http",
            "{label}: {method} {path} → {status} ({} bytes, {} ms)",
            body.len(),
            started.elapsed().as_millis()
        );
        Ok(Response {
            status,
            content_type,
            retry_after,
            date,
            headers,
            body,
        })
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters: safe in a path segment
/// and in a query value.
pub fn percent_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a TLS failure somewhere in `e`'s causes means, in words a shop can act on, naming the
/// host and port of `url` (never its path or query); `None` when `e` is not a TLS failure.
fn tls_failure(e: &reqwest::Error, url: &str) -> Option<String> {
    let tls = rustls_cause(std::error::Error::source(e)?)?;
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "the server".into());
    Some(tls_refusal(
        tls,
        &host,
        "a TLS proxy's own CA must be in the system's certificate store",
    ))
}

/// The rustls error among `e` and its causes. Clients (reqwest, tokio-postgres) hand it over
/// inside nested `io::Error`s, whose `source()` skips what they wrap.
pub fn rustls_cause<'a>(
    mut cause: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    loop {
        if let Some(t) = cause.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        cause = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => inner,
            None => cause.source()?,
        };
    }
}

/// A refused TLS handshake with `host` in words a shop can act on; rustls's own text
/// (`invalid peer certificate: UnknownIssuer`) says little. `trust_hint` says where a
/// certificate authority the shop trusts would go (the system's store, a setting).
pub fn tls_refusal(tls: &rustls::Error, host: &str, trust_hint: &str) -> String {
    use rustls::CertificateError as C;
    let cert = |what: &str| format!("the TLS certificate of {host} {what}");
    let untrusted = format!("is not trusted (self-signed or unknown issuer; {trust_hint})");
    match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature => cert(&untrusted),
            // webpki's name for a self-signed certificate marked as a CA, which is what
            // `openssl req -x509` makes by default.
            C::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => cert(&untrusted),
            C::Expired | C::ExpiredContext { .. } => cert("has expired"),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                cert("is not valid yet (is this computer's clock right?)")
            }
            C::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                // webpki writes them as `DnsName("hub.example")`, `IpAddress(10.0.0.9)`.
                let names: Vec<&str> = presented
                    .iter()
                    .map(|n| {
                        n.trim_start_matches("DnsName(\"")
                            .trim_start_matches("IpAddress(")
                            .trim_end_matches(')')
                            .trim_end_matches('"')
                    })
                    .collect();
                cert(&format!(
                    "was issued for another name ({})",
                    names.join(", ")
                ))
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                cert("was issued for another name")
            }
            C::Revoked => cert("has been revoked"),
            _ => cert(&format!("was refused ({tls})")),
        },
        other => format!("the TLS handshake with {host} failed ({other})"),
    }
}

/// The innermost causes of an error, without the URL reqwest puts in its own message.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        "connection failed".into()
    } else {
        parts.join(": ")
    }
}
