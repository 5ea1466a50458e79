//! The test controls every provider shares, under `/_control` (the table is in the crate
//! doc): latency and injected faults on provider requests, the page script hosted pages load
//! and what it reports, request and connection counts; and the request bodies of the
//! providers' own controls (an outcome, a token lifetime).
//!
//! Not for: one provider's controls (accounts, outcomes, its clock): those live in
//! `<provider>/control.rs`. The control API has no authentication: the server only ever binds
//! a loopback address.

use crate::Shared;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    Status { status: u16 },
    RateLimit { retry_after: u64 },
    Timeout { ms: u64 },
    Truncated,
    NotJson,
    WrongContentType,
}

#[derive(Default)]
pub(crate) struct Controls {
    latency_ms: u64,
    faults: Vec<Fault>,
    /// A script every hosted checkout page loads (`PUT /_control/page_script`), as a
    /// customer's browser would run the page's own code: tests use it to act inside an
    /// embedded checkout window that no WebDriver can reach.
    page_script: Option<String>,
    /// What page scripts reported (`POST /_control/reports`).
    reports: Vec<String>,
    /// Every message a provider "sent" to a customer (a link by SMS or e-mail), in order:
    /// the emulators send nothing, so tests read here what would have gone out
    /// (`GET /_control/messages`).
    messages: Vec<serde_json::Value>,
}

impl Controls {
    /// The controls a sandbox starts with: no latency, these faults.
    pub(crate) fn with_faults(faults: Vec<Fault>) -> Controls {
        Controls {
            faults,
            ..Controls::default()
        }
    }

    /// The `<script>` tag hosted pages include when a page script is set.
    pub(crate) fn page_script_tag(&self) -> &'static str {
        if self.page_script.is_some() {
            "<script src=\"/_control/page_script.js\"></script>"
        } else {
            ""
        }
    }
}

/// What the customer (or a test) does on a provider's hosted page: `{"outcome": "pay"}`.
#[derive(Deserialize)]
pub(crate) struct Outcome {
    pub(crate) outcome: String,
}

/// `{"seconds": 2}`: the `expires_in` of the tokens a provider issues from now on.
#[derive(Deserialize)]
pub(crate) struct Lifetime {
    pub(crate) seconds: u64,
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/latency", put(set_latency))
        .route("/faults", post(add_faults))
        .route("/faults", delete(clear_faults))
        .route("/stats", get(stats))
        .route("/page_script", put(set_page_script))
        .route("/page_script", delete(clear_page_script))
        .route("/page_script.js", get(page_script))
        .route("/reports", post(add_report))
        .route("/reports", get(reports))
        .route("/messages", get(messages))
}

/// A message a provider would have sent to a customer, as `GET /_control/messages` lists it.
pub(crate) struct Message<'a> {
    /// `klarna`, `dintero`, `bambora`.
    pub(crate) provider: &'a str,
    /// `sms` or `email`.
    pub(crate) channel: &'a str,
    /// The phone number or address as the provider got it.
    pub(crate) to: &'a str,
    /// The link the message carries.
    pub(crate) link: &'a str,
    /// The provider's id of what was sent (HPP session, Dintero session, payment request).
    pub(crate) session: &'a str,
    /// What else the provider got (e.g. Klarna's `phone_country`, Bambora's `message`).
    pub(crate) extra: serde_json::Value,
}

impl Shared {
    /// Records a message a provider "sent" (see [`Controls::messages`]).
    pub(crate) fn record_message(&self, m: Message) {
        let at = kassa_core::time::format_rfc3339(kassa_core::time::now_millis());
        self.controls
            .lock()
            .unwrap()
            .messages
            .push(serde_json::json!({
                "provider": m.provider,
                "channel": m.channel,
                "to": m.to,
                "link": m.link,
                "session": m.session,
                "extra": m.extra,
                "at": at,
            }));
    }
}

async fn messages(State(s): State<Arc<Shared>>) -> Json<Vec<serde_json::Value>> {
    Json(s.controls.lock().unwrap().messages.clone())
}

#[derive(Deserialize)]
struct Latency {
    ms: u64,
}

async fn set_latency(State(s): State<Arc<Shared>>, Json(l): Json<Latency>) -> StatusCode {
    s.controls.lock().unwrap().latency_ms = l.ms;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Faults {
    faults: Vec<Fault>,
}

async fn add_faults(State(s): State<Arc<Shared>>, Json(f): Json<Faults>) -> StatusCode {
    s.controls.lock().unwrap().faults.extend(f.faults);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(s): State<Arc<Shared>>) -> StatusCode {
    s.controls.lock().unwrap().faults.clear();
    StatusCode::NO_CONTENT
}

async fn set_page_script(State(s): State<Arc<Shared>>, body: String) -> StatusCode {
    s.controls.lock().unwrap().page_script = Some(body);
    StatusCode::NO_CONTENT
}

async fn clear_page_script(State(s): State<Arc<Shared>>) -> StatusCode {
    s.controls.lock().unwrap().page_script = None;
    StatusCode::NO_CONTENT
}

async fn page_script(State(s): State<Arc<Shared>>) -> Response {
    match s.controls.lock().unwrap().page_script.clone() {
        Some(js) => ([("content-type", "text/javascript")], js).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn add_report(State(s): State<Arc<Shared>>, body: String) -> StatusCode {
    s.controls.lock().unwrap().reports.push(body);
    StatusCode::NO_CONTENT
}

async fn reports(State(s): State<Arc<Shared>>) -> Json<Vec<String>> {
    Json(s.controls.lock().unwrap().reports.clone())
}

async fn stats(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "requests": s.requests.load(Ordering::Relaxed),
        "connections": s.connections.load(Ordering::Relaxed),
    }))
}

/// Latency and injected faults for every provider request.
pub(crate) async fn faults(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let method = req.method().as_str().to_string();
    // The path after the provider prefix (`/dintero/v1/...` → `/v1/...`).
    let path = req.uri().path().to_string();
    let (latency, fault) = {
        let mut c = s.controls.lock().unwrap();
        let found = c.faults.iter().position(|f| {
            f.times > 0
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(&method))
                && f.path.as_deref().is_none_or(|p| path.contains(p))
        });
        let fault = found.map(|i| {
            c.faults[i].times -= 1;
            let f = c.faults[i].kind.clone();
            if c.faults[i].times == 0 {
                c.faults.remove(i);
            }
            f
        });
        (c.latency_ms, fault)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match fault {
        None => next.run(req).await,
        Some(FaultKind::Status { status }) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            provider_error(
                &path,
                code,
                "SANDBOX_INJECTED",
                &format!("injected HTTP {status}"),
            )
        }
        Some(FaultKind::RateLimit { retry_after }) => {
            let mut r = provider_error(
                &path,
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "rate limit exceeded",
            );
            r.headers_mut()
                .insert("retry-after", HeaderValue::from(retry_after));
            r
        }
        Some(FaultKind::Timeout { ms }) => {
            let r = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            r
        }
        Some(FaultKind::Truncated) => {
            let (parts, body) = next.run(req).await.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            let mut r = Response::from_parts(parts, Body::from(cut.clone()));
            r.headers_mut()
                .insert("content-length", HeaderValue::from(cut.len()));
            r
        }
        Some(FaultKind::NotJson) => {
            let _ = next.run(req).await;
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response()
        }
        Some(FaultKind::WrongContentType) => {
            let mut r = next.run(req).await;
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static("text/html"));
            r
        }
    }
}

/// An error answer in the shape of the provider whose path this is.
fn provider_error(path: &str, status: StatusCode, code: &str, message: &str) -> Response {
    #[cfg(feature = "all-providers")]
    {
        if path.starts_with("/bambora") {
            return crate::bambora::error(status, code, message);
        } else if path.starts_with("/klarna") {
            return crate::klarna::error(status, code, message);
        } else if path.starts_with("/commercelayer") {
            return crate::commercelayer::error(status, code, message);
        } else if path.starts_with("/opencharge") {
            return crate::opencharge::error(status, code, message);
        }
    }
    let _ = path;
    crate::dintero::error(status, code, message)
}
