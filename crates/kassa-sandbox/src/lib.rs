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
//! | `GET /_control/messages` | every link a provider "sent" to a customer (Klarna's distribution, Dintero's publish, Bambora's e-mail notification): `[{provider, channel, to, link, session, extra, at}]` |
//! | `POST /_control/dintero/sessions/{id}/outcome` `{"outcome": "pay"}` | what the customer does: `pay`, `capture`, `decline`, `cancel`, `on_hold`, `expire` |
//! | `POST /_control/dintero/tokens/expire` | every issued token becomes invalid (401) |
//! | `PUT /_control/dintero/token_lifetime` `{"seconds": 2}` | `expires_in` of new tokens |
//! | `POST /_control/dintero/accounts` `{"account_id", "client_id", "client_secret"}` | add an API client |
//! | `PUT /_control/dintero/after_sale` `{"auto_capture_delay_ms": 0, "auto_capture_fails": false, "async_ms": null, "fail_next": 0}` | Dintero's own capture (`auto_capture`) this late or failing; capture, refund and void answered 202 and finished `async_ms` later; the next `fail_next` of them failing (`success: false`) |
//! | `POST /_control/bambora/accounts` `{"merchant_number", "access_token", "secret_token", "md5_key"}` | add a Bambora API user |
//! | `POST /_control/bambora/sessions/{token}/outcome` `{"outcome": "pay"}` | the payment window: `pay`, `pay_capture_declined` (the instant capture fails), `decline`, `cancel`, `expire`; answers `{"redirect": url}` |
//! | `POST /_control/bambora/paymentrequests/{id}/outcome` `{"outcome": "pay"}` | the payment request's page: `pay`, `pay_capture_declined`, `decline`, `cancel` |
//! | `POST /_control/klarna/accounts` `{"username", "password", "in_store"}` | add a Klarna API user (`in_store`: the agreement allows IN_STORE/TELESALES) |
//! | `POST /_control/klarna/sessions/{hpp id}/outcome` `{"outcome": "pay"}` | the hosted page: `open`, `pay`, `pay_pending`, `reject`, `decline`, `cancel`, `back`, `expire`; answers `{"redirect": url}` |
//! | `POST /_control/klarna/orders/{id}/fraud` `{"fraud_status": "ACCEPTED"}` | resolve a PENDING fraud check |
//! | `POST /_control/klarna/orders/{id}/expire` | the order's authorization reaches its `expires_at` now (an uncaptured rest is EXPIRED) |
//! | `POST /_control/klarna/payment_sessions/{kp id}/expire` | expire a Payments session and its pages |
//! | `POST /_control/commercelayer/accounts` `{"client_id", "client_secret", "sales_channel_client_id", "market_id", "address_id", "currency", "tax_included", "default_tax_rate_bp", "skus": [{"code", "tax_rate_bp"}], "auto_capture"}` | add a Commerce Layer organization (integration + sales channel + market) |
//! | `POST /_control/commercelayer/orders/{id}/outcome` `{"outcome": "pay"}` | the hosted checkout: `pay`, `decline`, `authorize`, `cancel` (back to cart), `capture`, `expire`; answers `{"redirect": url or null}`, 409 when not possible |
//! | `GET /_control/commercelayer/orders/{id}` | the order with its line items, payment source, links and transactions |
//! | `PUT /_control/commercelayer/gateway` `{"decline": ["captures", "voids", "refunds"]}` | the Commerce Layer gateway declines these transactions (`succeeded: false`) |
//! | `POST /_control/commercelayer/tokens/expire` | every issued Commerce Layer token becomes expired (401) |
//! | `PUT /_control/commercelayer/token_lifetime` `{"seconds": 2}` | `expires_in` of new tokens |
//! | `GET /_control/commercelayer/stats` | `{"token_requests": n}` |
//! | `PUT /_control/commercelayer/clock` `{"offset_s": 3600}` | the emulator's clock runs this far ahead of the machine's (negative: behind): token expiry, order and link times; answers `{"offset_s"}` |
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
mod common;
mod control;
pub mod demo;
pub mod dintero;
#[cfg(feature = "all-providers")]
pub mod klarna;
mod ledger;
#[cfg(feature = "all-providers")]
pub mod openapi;
#[cfg(feature = "all-providers")]
pub mod opencharge;
mod state_file;

#[cfg(feature = "all-providers")]
pub use bambora::BamboraAccount;
#[cfg(feature = "all-providers")]
pub use commercelayer::CommerceLayerAccount;
pub use control::{Fault, FaultKind};
pub use dintero::{DinteroAccount, DEMO_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
#[cfg(feature = "all-providers")]
pub use klarna::KlarnaAccount;
pub use ledger::{ledger, ledger_journal_keys, test_artifacts};
#[cfg(feature = "all-providers")]
pub use opencharge::OpenchargeParty;

use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How to start a sandbox.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Keep the emulated sessions in this JSON file across restarts (the demo provider does,
    /// so `kassa-cli status` works in a later process).
    pub state_file: Option<PathBuf>,
    /// Faults injected from the start (as `POST /_control/faults` would): for a sandbox whose
    /// control API a test cannot reach in time (the demo's, inside the process under test).
    pub faults: Vec<Fault>,
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

/// Shared by every handler.
pub(crate) struct Shared {
    pub(crate) controls: Mutex<control::Controls>,
    pub(crate) requests: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) dintero: Mutex<dintero::Emulator>,
    #[cfg(feature = "all-providers")]
    pub(crate) bambora: Mutex<bambora::Emulator>,
    #[cfg(feature = "all-providers")]
    pub(crate) klarna: Mutex<klarna::Emulator>,
    #[cfg(feature = "all-providers")]
    pub(crate) commercelayer: Mutex<commercelayer::Emulator>,
    #[cfg(feature = "all-providers")]
    pub(crate) opencharge: Mutex<opencharge::Emulator>,
    state: Option<Mutex<state_file::StateFile>>,
}

impl Shared {
    /// The `<script>` tag hosted pages include when a page script is set.
    pub(crate) fn page_script_tag(&self) -> &'static str {
        self.controls.lock().unwrap().page_script_tag()
    }

    /// Records in the state file, if any, what a change to `ids` (Dintero sessions or
    /// transactions, either side of a sale) made of them: appended, so a change costs the
    /// same however many sessions the day holds (`state_file`).
    pub(crate) fn persist(&self, d: &dintero::Emulator, ids: &[&str]) {
        if let Some(state) = &self.state {
            state.lock().unwrap().changed(d, ids);
        }
    }
}

/// The Dintero emulator's sessions and transactions kept in `path` (a [`Config::state_file`]),
/// as one JSON object: `{"sessions": {id: …}, "transactions": {id: …}}`. No file is an empty
/// state; a file that cannot be read, or a line in it that is not a record, is an error.
pub fn read_state_file(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let mut e = dintero::Emulator::default();
    match std::fs::read(path) {
        Ok(bytes) => state_file::read_strict(&bytes, &mut e)?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err.to_string()),
    }
    serde_json::to_value(e.saved()).map_err(|err| err.to_string())
}

fn build(config: Config) -> Arc<Shared> {
    let mut emulator = dintero::Emulator::default();
    let state = config
        .state_file
        .map(|p| Mutex::new(state_file::StateFile::open(p, &mut emulator)));
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
        controls: Mutex::new(control::Controls::with_faults(config.faults)),
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
        state,
    })
}

fn router(shared: Arc<Shared>) -> Router {
    let control = control::routes().merge(dintero::control_routes());
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
    let providers = providers.layer(axum::middleware::from_fn_with_state(
        shared.clone(),
        control::faults,
    ));
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
    /// The value for `bambora.base_url` (one base for the Checkout, Merchant and Transaction
    /// APIs and the payment window).
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
