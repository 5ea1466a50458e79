//! Kassa's provider sandbox: strict emulators of the payment providers' HTTP APIs on a
//! loopback port, for tests, benchmarks and the demo provider.
//!
//! Each provider is served at its real paths under a prefix: Dintero at `/dintero` (so
//! `dintero.base_url = http://127.0.0.1:PORT/dintero`), Bambora at `/bambora`, Klarna at
//! `/klarna`, Commerce Layer at `/commercelayer` (auth, Core API, hosted checkout and links on
//! one origin), Opencharge's payment gateway at `/opencharge/pg` and its merchant gateway at
//! `/opencharge/mg` (the values for `opencharge.gateway_url`). The emulators check what the real
//! services check (auth, required fields and types, amount rules) and answer with the real
//! error shapes and status codes; each module documents its sources and its own choices.
//!
//! Test controls live under `/_control` on the same server:
//!
//! | request | effect |
//! |---|---|
//! | `PUT /_control/latency` `{"ms": 50}` | delay every provider request |
//! | `POST /_control/faults` `{"faults": [{"method": "GET", "path": "/v1/sessions/", "kind": "status", "status": 503, "times": 2}]}` | inject faults (kinds below) into matching requests |
//! | `DELETE /_control/faults` | clear injected faults |
//! | `GET /_control/stats` | requests and connections served so far |
//! | `POST /_control/dintero/sessions/{id}/outcome` `{"outcome": "pay"}` | what the customer does: `pay`, `capture`, `decline`, `cancel`, `on_hold`, `expire` |
//! | `POST /_control/dintero/tokens/expire` | every issued token becomes invalid (401) |
//! | `PUT /_control/dintero/token_lifetime` `{"seconds": 2}` | `expires_in` of new tokens |
//! | `POST /_control/dintero/accounts` `{"account_id", "client_id", "client_secret"}` | add an API client |
//! | `POST /_control/bambora/accounts` `{"merchant_number", "access_token", "secret_token", "md5_key"}` | add a Bambora API user |
//! | `POST /_control/bambora/sessions/{token}/outcome` `{"outcome": "pay"}` | the payment window: `pay`, `decline`, `cancel`, `expire`; answers `{"redirect": url}` |
//! | `POST /_control/bambora/paymentrequests/{id}/outcome` `{"outcome": "pay"}` | the payment request's page: `pay`, `decline`, `cancel` |
//! | `POST /_control/klarna/accounts` `{"username", "password", "in_store"}` | add a Klarna API user (`in_store`: the agreement allows IN_STORE/TELESALES) |
//! | `POST /_control/klarna/sessions/{hpp id}/outcome` `{"outcome": "pay"}` | the hosted page: `open`, `pay`, `pay_pending`, `reject`, `decline`, `cancel`, `back`, `expire`; answers `{"redirect": url}` |
//! | `POST /_control/klarna/orders/{id}/fraud` `{"fraud_status": "ACCEPTED"}` | resolve a PENDING fraud check |
//! | `POST /_control/klarna/payment_sessions/{kp id}/expire` | expire a Payments session and its pages |
//! | `POST /_control/commercelayer/accounts` `{"client_id", "client_secret", "sales_channel_client_id", "market_id", "address_id", "currency", "tax_included", "default_tax_rate_bp", "skus": [{"code", "tax_rate_bp"}], "auto_capture"}` | add a Commerce Layer organization (integration + sales channel + market) |
//! | `POST /_control/commercelayer/orders/{id}/outcome` `{"outcome": "pay"}` | the hosted checkout: `pay`, `decline`, `cancel` (back to cart), `capture`, `expire`; answers `{"redirect": url or null}`, 409 when not possible |
//! | `GET /_control/commercelayer/orders/{id}` | the order with its line items, payment source, links and authorizations |
//! | `POST /_control/commercelayer/tokens/expire` | every issued Commerce Layer token becomes expired (401) |
//! | `PUT /_control/commercelayer/token_lifetime` `{"seconds": 2}` | `expires_in` of new tokens |
//! | `GET /_control/commercelayer/stats` | `{"token_requests": n}` |
//! | `POST /_control/opencharge/merchants` `{"ocid": 500, "public_key": "<128 hex>", "onboarded": true}` | register a merchant (the registry stand-in); `onboarded`: at the merchant gateway |
//! | `PUT /_control/opencharge/gateway` `{"canonicalization": "recursive" \| "replacer", "clock_offset_s": 0}` | both gateways: how they canonicalize orders, and their clock (and `Date` header) offset |
//! | `POST /_control/opencharge/orders/{order id}/outcome` `{"outcome": "pay"}` | the hosted page: `pay`, `cancel`, `expire`; answers `{"redirect": url \| null}` (also `/opencharge/sessions/{session id}/outcome`) |
//! | `GET /_control/opencharge/orders/{order id}` | the session: status, gateway, the order as received, the signed proof once paid (also by session id) |
//!
//! Fault kinds: `status` (answer `status` with the provider's error shape), `rate_limit`
//! (429 with `Retry-After: retry_after`), `timeout` (do the work, then wait `ms` before
//! answering: the worst case, a create that happened but whose answer is lost), `truncated`
//! (the real answer cut in half), `not_json` (an HTML body labelled JSON), `wrong_content_type`
//! (the real JSON labelled `text/html`). `path` matches as a substring of the path after the
//! provider prefix; `method` and `path` are optional; `times` defaults to 1.
//!
//! The control API has no authentication: the server only ever binds a loopback address.
//!
//! The `all-providers` feature (on by default; the tests, benches and `kassa-cli sandbox` use
//! it) builds every emulator. Without it only the Dintero emulator is compiled, the one the demo
//! provider runs: the desktop app links that, not four test emulators and their OpenAPI files.

#[cfg(feature = "all-providers")]
pub mod bambora;
#[cfg(feature = "all-providers")]
pub mod commercelayer;
pub mod demo;
pub mod dintero;
#[cfg(feature = "all-providers")]
pub mod klarna;
#[cfg(feature = "all-providers")]
pub mod openapi;
#[cfg(feature = "all-providers")]
pub mod opencharge;

#[cfg(feature = "all-providers")]
pub use bambora::BamboraAccount;
#[cfg(feature = "all-providers")]
pub use commercelayer::CommerceLayerAccount;
#[cfg(feature = "all-providers")]
pub use klarna::KlarnaAccount;
#[cfg(feature = "all-providers")]
pub use opencharge::OpenchargeParty;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The demo provider's Dintero API client: not secret, it only opens the embedded sandbox.
pub const DEMO_ACCOUNT_ID: &str = "T00000001";
pub const DEMO_CLIENT_ID: &str = "kassa-demo";
pub const DEMO_CLIENT_SECRET: &str = "kassa-demo-secret";

/// An API client the Dintero emulator accepts.
#[derive(Debug, Clone, Deserialize)]
pub struct DinteroAccount {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl DinteroAccount {
    pub fn demo() -> DinteroAccount {
        DinteroAccount {
            account_id: DEMO_ACCOUNT_ID.into(),
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
        }
    }
}

/// How to start a sandbox.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Keep the emulated sessions in this JSON file across restarts (the demo provider does,
    /// so `kassa-cli status` works in a later process).
    pub state_file: Option<PathBuf>,
    pub dintero_accounts: Vec<DinteroAccount>,
    #[cfg(feature = "all-providers")]
    pub bambora_accounts: Vec<BamboraAccount>,
    #[cfg(feature = "all-providers")]
    pub klarna_accounts: Vec<KlarnaAccount>,
    #[cfg(feature = "all-providers")]
    pub commercelayer_accounts: Vec<CommerceLayerAccount>,
    /// Merchants (OCID + public key) the Opencharge gateways know and accept.
    #[cfg(feature = "all-providers")]
    pub opencharge_merchants: Vec<OpenchargeParty>,
}

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
struct Controls {
    latency_ms: u64,
    faults: Vec<Fault>,
    /// A script every hosted checkout page loads (`PUT /_control/page_script`), as a
    /// customer's browser would run the page's own code: tests use it to act inside an
    /// embedded checkout window that no WebDriver can reach.
    page_script: Option<String>,
    /// What page scripts reported (`POST /_control/reports`).
    reports: Vec<String>,
}

/// Shared by every handler.
pub(crate) struct Shared {
    controls: Mutex<Controls>,
    requests: AtomicU64,
    connections: AtomicU64,
    pub(crate) dintero: Mutex<dintero::Emulator>,
    #[cfg(feature = "all-providers")]
    pub(crate) bambora: Mutex<bambora::Emulator>,
    #[cfg(feature = "all-providers")]
    pub(crate) klarna: Mutex<klarna::Emulator>,
    #[cfg(feature = "all-providers")]
    pub(crate) commercelayer: Mutex<commercelayer::Emulator>,
    #[cfg(feature = "all-providers")]
    pub(crate) opencharge: Mutex<opencharge::Emulator>,
    state_file: Option<PathBuf>,
}

impl Shared {
    /// The `<script>` tag hosted pages include when a page script is set.
    pub(crate) fn page_script_tag(&self) -> &'static str {
        if self.controls.lock().unwrap().page_script.is_some() {
            "<script src=\"/_control/page_script.js\"></script>"
        } else {
            ""
        }
    }

    /// Writes the emulators' state to the state file, if any (atomically).
    pub(crate) fn persist(&self, d: &dintero::Emulator) {
        let Some(path) = &self.state_file else { return };
        let Ok(text) = serde_json::to_vec_pretty(&d.saved()) else {
            return;
        };
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

/// The test suite's secrets audit: when `KASSA_TEST_SECRETS` names a file, every credential an
/// emulator is given and every API access token it issues is appended to it, one per line, so
/// that `scripts/secrets-scan.sh` can check after the whole suite that none of them reached a
/// database, a log, a config file or captured output. The demo provider's emulator only ever
/// holds the public demo account, so nothing private can be written even in a shipped app.
pub fn ledger(secrets: &[&str]) {
    let Some(path) = std::env::var_os("KASSA_TEST_SECRETS") else {
        return;
    };
    let text: String = secrets
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| format!("{s}\n"))
        .collect();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut f) = file {
        use std::io::Write;
        let _ = f.write_all(text.as_bytes());
    }
}

/// The test suite's artifacts for the same audit: `$KASSA_TEST_ARTIFACTS/<sub>/` (created), where
/// `make test` keeps data directories (`data`) and captured output (`output`); None when the
/// variable is not set (then tests use and remove temporary directories).
pub fn test_artifacts(sub: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("KASSA_TEST_ARTIFACTS")?).join(sub);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

fn build(config: Config) -> Arc<Shared> {
    let mut emulator = dintero::Emulator::default();
    if let Some(saved) = config
        .state_file
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        emulator.restore(saved);
    }
    for a in config.dintero_accounts {
        emulator.add_account(a);
    }
    #[cfg(feature = "all-providers")]
    let (bambora, klarna, commercelayer, opencharge) = {
        let mut bambora = bambora::Emulator::default();
        for a in config.bambora_accounts {
            bambora.add_account(a);
        }
        let mut klarna = klarna::Emulator::default();
        for a in config.klarna_accounts {
            klarna.add_account(a);
        }
        let mut commercelayer = commercelayer::Emulator::default();
        for a in config.commercelayer_accounts {
            commercelayer.add_account(a);
        }
        let mut opencharge = opencharge::Emulator::default();
        for m in config.opencharge_merchants {
            opencharge.add_merchant(m);
        }
        (bambora, klarna, commercelayer, opencharge)
    };
    Arc::new(Shared {
        controls: Mutex::new(Controls::default()),
        requests: AtomicU64::new(0),
        connections: AtomicU64::new(0),
        dintero: Mutex::new(emulator),
        #[cfg(feature = "all-providers")]
        bambora: Mutex::new(bambora),
        #[cfg(feature = "all-providers")]
        klarna: Mutex::new(klarna),
        #[cfg(feature = "all-providers")]
        commercelayer: Mutex::new(commercelayer),
        #[cfg(feature = "all-providers")]
        opencharge: Mutex::new(opencharge),
        state_file: config.state_file,
    })
}

fn router(shared: Arc<Shared>) -> Router {
    let control = Router::new()
        .route("/latency", put(set_latency))
        .route("/faults", post(add_faults))
        .route("/faults", delete(clear_faults))
        .route("/stats", get(stats))
        .route("/page_script", put(set_page_script))
        .route("/page_script", delete(clear_page_script))
        .route("/page_script.js", get(page_script))
        .route("/reports", post(add_report))
        .route("/reports", get(reports))
        .merge(dintero::control_routes());
    let providers = Router::new().nest("/dintero", dintero::routes());
    #[cfg(feature = "all-providers")]
    let (control, providers) = (
        control
            .merge(bambora::control_routes())
            .merge(klarna::control_routes())
            .merge(commercelayer::control_routes())
            .merge(opencharge::control_routes()),
        providers
            .nest("/bambora", bambora::routes())
            .nest("/klarna", klarna::routes())
            .nest("/commercelayer", commercelayer::routes())
            .nest("/opencharge", opencharge::routes()),
    );
    let providers = providers.layer(axum::middleware::from_fn_with_state(shared.clone(), faults));
    Router::new()
        .nest("/_control", control)
        .merge(providers)
        .with_state(shared)
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let shared = build(config);
    let counter = shared.clone();
    let listener = listener.tap_io(move |tcp| {
        counter.connections.fetch_add(1, Ordering::Relaxed);
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A sandbox running on a background thread; stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts on `127.0.0.1:port` (0: any free port).
    pub fn start(port: u16, config: Config) -> std::io::Result<Sandbox> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("kassa-sandbox".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let _ = serve(listener, config, async {
                        let _ = stopped.await;
                    })
                    .await;
                });
            })?;
        ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the sandbox thread stopped"))??;
        Ok(Sandbox {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The value for `dintero.base_url`.
    pub fn dintero_base_url(&self) -> String {
        format!("{}/dintero", self.url())
    }

    #[cfg(feature = "all-providers")]
    /// The value for `bambora.base_url` (one base for the Checkout and Merchant APIs and the
    /// payment window).
    pub fn bambora_base_url(&self) -> String {
        format!("{}/bambora", self.url())
    }

    #[cfg(feature = "all-providers")]
    /// The value for `klarna.base_url` (Payments, HPP and Order Management).
    pub fn klarna_base_url(&self) -> String {
        format!("{}/klarna", self.url())
    }

    #[cfg(feature = "all-providers")]
    /// The value for `commercelayer.base_url` (auth, the Core API, hosted checkout, links).
    pub fn commercelayer_base_url(&self) -> String {
        format!("{}/commercelayer", self.url())
    }

    #[cfg(feature = "all-providers")]
    /// The Opencharge payment gateway (`POST /checkout/create`): `opencharge.gateway_url` in
    /// mode `checkout_create`. Its OCID is [`opencharge::PAYMENT_GATEWAY_OCID`].
    pub fn opencharge_payment_gateway_url(&self) -> String {
        format!("{}/opencharge/pg", self.url())
    }

    #[cfg(feature = "all-providers")]
    /// The Opencharge merchant gateway (`POST /orders/checkout`): `opencharge.gateway_url` in
    /// mode `orders_checkout`. Its OCID is [`opencharge::MERCHANT_GATEWAY_OCID`].
    pub fn opencharge_merchant_gateway_url(&self) -> String {
        format!("{}/opencharge/mg", self.url())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
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
async fn faults(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
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
            return bambora::error(status, code, message);
        } else if path.starts_with("/klarna") {
            return klarna::error(status, code, message);
        } else if path.starts_with("/commercelayer") {
            return commercelayer::error(status, code, message);
        } else if path.starts_with("/opencharge") {
            return opencharge::error(status, code, message);
        }
    }
    let _ = path;
    dintero::error(status, code, message)
}
