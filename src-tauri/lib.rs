//! Kassa's desktop shell: windows, IPC commands and nothing else. Every command is a few lines
//! that call `kassa-core` (mostly `kassa_core::till`); amounts, VAT, statuses and validation
//! all come from the core. Errors reach the UI as `{code, message, session_id?, problems?}`.

mod hub;
mod windows;

// `COMMANDS`: the command names, shared with build.rs (which declares their permissions).
include!("commands_list.rs");

use kassa_core::catalog::ProductEntry;
use kassa_core::code::Code;
use kassa_core::counter::{self, Cart, CartLine, CounterView, LineEntry};
use kassa_core::link::Lifetime;
use kassa_core::link::Sale;
use kassa_core::printing::Issued;
use kassa_core::provider::cache::Clients;
use kassa_core::provider::Presentation;
use kassa_core::provider::Provider;
use kassa_core::secrets::{OsKeyring, Secret};
use kassa_core::settings::{Settings, ShopSettings};
use kassa_core::store::Signer;
use kassa_core::till::{
    self, FollowSource, Hint, HistoryPage, HistoryQuery, LinkRequest, OperatorView, ProviderChoice,
    RefundInput, RefundPreview, ReportView, SaftView, SavedQr, SessionView, SettingsView, Till,
    TillError,
};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

/// The event every window gets when a followed session changes (payload: `SessionView`).
pub const SESSION_EVENT: &str = "session-status";

/// The event the main window gets when the hub's sender replaced the product list with the
/// hub's changed one (no payload): the quick keys and the settings' list are drawn again.
pub const PRODUCTS_EVENT: &str = "products-changed";

type Result<T> = std::result::Result<T, TillError>;

/// Shop settings and providers the counter needs.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub name: &'static str,
    pub version: &'static str,
    #[serde(flatten)]
    pub shop: ShopSettings,
    pub providers: Vec<ProviderChoice>,
    /// The counter's quick keys (favourite products).
    pub quick_keys: Vec<till::ProductView>,
    /// Why the till could not open (settings, product list or session log), for the UI to
    /// show; the defaults are used meanwhile and charging is refused.
    pub settings_error: Option<String>,
    /// The counter's view of an empty cart in the shop's currency and locale (its zero
    /// totals), so the page completes the counter at start without a `quote_cart` round trip.
    pub empty_cart: CounterView,
    /// When the page asks for a fresh web process ([`PageRenewal`]).
    pub page_renewal: PageRenewal,
}

/// When the counter's page asks for a fresh web process (`renew_page`): after `after_sales`
/// charges started in it, at the first moment the counter has been empty, on its own screen
/// and untouched for `quiet_ms`. What WebKit keeps in the page's process nothing else gives
/// back; a fresh process grows fastest over its first sales (BENCHMARKS.md, issue #25: 78 MB
/// after start, 91 after 100 sales, 99 after 1,000), so renewing after 100 holds it near its
/// sale-100 size, and 30 s without a touch on an empty counter is a moment between customers,
/// not a cashier thinking. `KASSA_RENEW_PAGE=<sales>,<seconds>` changes both (the tests' short day), `off`
/// turns it off; anything else is reported on stderr and the defaults kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageRenewal {
    /// 0: never.
    pub after_sales: u32,
    pub quiet_ms: u32,
}

impl PageRenewal {
    pub const DEFAULT: PageRenewal = PageRenewal {
        after_sales: 100,
        quiet_ms: 30_000,
    };
    const VAR: &'static str = "KASSA_RENEW_PAGE";

    /// `<sales>,<seconds>` or `off`.
    pub fn parse(text: &str) -> Option<PageRenewal> {
        if text.trim() == "off" {
            return Some(PageRenewal {
                after_sales: 0,
                quiet_ms: 0,
            });
        }
        let (sales, seconds) = text.split_once(',')?;
        let after_sales: u32 = sales.trim().parse().ok().filter(|&n| n > 0)?;
        let seconds: u32 = seconds.trim().parse().ok().filter(|&n| n > 0)?;
        Some(PageRenewal {
            after_sales,
            quiet_ms: seconds.checked_mul(1000)?,
        })
    }

    /// The environment's, or the default.
    pub fn from_env() -> PageRenewal {
        match std::env::var(Self::VAR) {
            Ok(text) => Self::parse(&text).unwrap_or_else(|| {
                eprintln!(
                    "kassa: {}={text:?} is not <sales>,<seconds> or off; using {},{}",
                    Self::VAR,
                    Self::DEFAULT.after_sales,
                    Self::DEFAULT.quiet_ms / 1000
                );
                Self::DEFAULT
            }),
            Err(_) => Self::DEFAULT,
        }
    }
}

/// State shared by the commands.
pub struct Desk {
    /// When the desk was made, first thing in `run` (before the till opens): READY is timed
    /// from here.
    pub started: Instant,
    dir: std::result::Result<PathBuf, String>,
    till: Mutex<TillSlot>,
    /// The one background follower's hints (`till::follow_all`), once it runs.
    follower: Mutex<Option<Sender<Hint>>>,
    /// What the customer display shows (the last charged session).
    customer: Mutex<Option<SessionView>>,
    /// What the background sender to the shop's hub last saw.
    hub: Arc<Mutex<hub::HubLink>>,
    /// Read once, when the desk is made.
    page_renewal: PageRenewal,
}

type TillResult = std::result::Result<Till<Clients>, TillError>;

/// The till: still opening on its own thread, or open (or why it could not open).
enum TillSlot {
    Opening(Option<std::thread::JoinHandle<TillResult>>),
    Open(Box<TillResult>),
}

impl TillSlot {
    /// Waits for the opening thread the first time.
    fn get(&mut self) -> std::result::Result<&mut Till<Clients>, TillError> {
        if let TillSlot::Opening(opening) = self {
            let opened = opening.take().and_then(|h| h.join().ok());
            *self = TillSlot::Open(Box::new(opened.unwrap_or_else(|| {
                Err(TillError::new(Code::Internal, "opening the till stopped"))
            })));
        }
        match self {
            TillSlot::Open(open) => match open.as_mut() {
                Ok(t) => Ok(t),
                Err(e) => Err(e.clone()),
            },
            TillSlot::Opening(_) => Err(TillError::new(Code::Internal, "opening the till stopped")),
        }
    }
}

impl Desk {
    /// What `app_info` answers: the shop's settings, its providers and quick keys, and the
    /// empty cart's view (the defaults, and why, when the till could not open).
    fn info(&self) -> AppInfo {
        let mut guard = self.till.lock().unwrap_or_else(|p| p.into_inner());
        let (shop, providers, quick_keys, settings_error) = match guard.get() {
            Ok(t) => (t.shop(), t.provider_choices(), t.quick_keys(), None),
            Err(e) => (
                ShopSettings::from_settings(&Settings::default()),
                Vec::new(),
                Vec::new(),
                Some(e.message.clone()),
            ),
        };
        let empty = Cart {
            currency: shop.currency.clone(),
            prices_include_vat: shop.prices_include_vat,
            reference: None,
            discount: 0,
            lines: Vec::new(),
        };
        AppInfo {
            name: "Kassa",
            version: env!("CARGO_PKG_VERSION"),
            empty_cart: counter::view(&empty, &shop.locale, ""),
            shop,
            providers,
            quick_keys,
            settings_error,
            page_renewal: self.page_renewal,
        }
    }

    /// Whether the till's opening thread has finished (without waiting for it).
    fn opened(&self) -> bool {
        match &*self.till.lock().unwrap_or_else(|p| p.into_inner()) {
            TillSlot::Opening(Some(opening)) => opening.is_finished(),
            _ => true,
        }
    }

    /// Waits at most `limit` for the till's opening thread; whether it has finished.
    fn wait_opened(&self, limit: std::time::Duration) -> bool {
        let until = Instant::now() + limit;
        while !self.opened() {
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        true
    }

    /// Starts opening the till of `dir` (the data directory, or why there is none) on a thread
    /// of its own: the session log's open and migrations took ~20 ms of the main thread before
    /// the window was made (a trace of the start, BENCHMARKS.md); now they overlap WebKit's
    /// start, and the page's first command waits for them.
    fn open(dir: std::result::Result<PathBuf, String>) -> Desk {
        let started = Instant::now();
        let till = match &dir {
            Ok(d) => {
                let d = d.clone();
                let open = move || Till::open(&d, clients(&d), Arc::new(OsKeyring));
                match std::thread::Builder::new()
                    .name("kassa-open".into())
                    .spawn(open.clone())
                {
                    Ok(opening) => TillSlot::Opening(Some(opening)),
                    Err(_) => TillSlot::Open(Box::new(open())),
                }
            }
            Err(e) => TillSlot::Open(Box::new(Err(TillError::new(Code::DataDir, e.clone())))),
        };
        Desk {
            started,
            dir,
            till: Mutex::new(till),
            follower: Mutex::new(None),
            customer: Mutex::new(None),
            hub: Arc::default(),
            page_renewal: PageRenewal::from_env(),
        }
    }

    /// Runs `f` with the till (one at a time: charges are serialized, which makes the
    /// reference check of an idempotent charge race-free).
    fn with<T>(&self, f: impl FnOnce(&mut Till<Clients>) -> Result<T>) -> Result<T> {
        let mut guard = self.till.lock().unwrap_or_else(|p| p.into_inner());
        f(guard.get()?)
    }
}

/// The provider clients of data directory `dir`: the demo provider from the sandbox crate,
/// the others from the settings and the OS keyring.
fn clients(dir: &std::path::Path) -> Clients {
    Clients::new(dir, Arc::new(OsKeyring), kassa_sandbox::demo::starter())
}

/// Runs `f` on a blocking thread with the app's state: the core's HTTP client and SQLite
/// calls block, and must neither freeze the window's main thread nor run on an async worker.
async fn blocking<R: Runtime, T: Send + 'static>(
    app: AppHandle<R>,
    f: impl FnOnce(&AppHandle<R>, &Desk) -> Result<T> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(move || f(&app, &app.state::<Desk>()))
        .await
        .map_err(|e| TillError::new(Code::Internal, format!("the command stopped: {e}")))?
}

#[tauri::command]
async fn app_info<R: Runtime>(app: AppHandle<R>) -> Result<AppInfo> {
    blocking(app, |_, desk| Ok(desk.info())).await
}

#[tauri::command]
async fn entry_to_line<R: Runtime>(app: AppHandle<R>, entry: LineEntry) -> Result<CartLine> {
    blocking(app, move |_, desk| desk.with(|t| t.entry_to_line(&entry))).await
}

#[tauri::command]
fn parse_amount(text: String, currency: String) -> Result<i64> {
    till::parse_amount(&text, &currency)
}

#[tauri::command]
async fn quote_cart<R: Runtime>(app: AppHandle<R>, cart: Cart) -> Result<CounterView> {
    blocking(app, move |_, desk| {
        let locale = desk
            .with(|t| Ok(t.shop().locale))
            .unwrap_or_else(|_| "nb".into());
        Ok(counter::view(
            &cart,
            &locale,
            &kassa_core::reference::generate_now(),
        ))
    })
    .await
}

#[tauri::command]
fn new_reference() -> String {
    kassa_core::reference::generate_now()
}

/// Charges the cart (idempotent per `cart.reference`) as a counter sale, or with `link` as a
/// link sale (its lifetime, and whom the provider sends it to), tells the background follower,
/// and opens the checkout window for a counter sale's webview presentation.
#[tauri::command]
async fn charge<R: Runtime>(
    app: AppHandle<R>,
    cart: Cart,
    provider: String,
    presentation: Presentation,
    link: Option<LinkRequest>,
) -> Result<SessionView> {
    blocking(app, move |app, desk| {
        let sale = match &link {
            Some(l) => desk.with(|t| t.link_sale(l))?,
            None => Sale::Counter,
        };
        // A link is paid elsewhere: it is shown as its link and QR code, never in a window here.
        let presentation = if link.is_some() {
            Presentation::Qr
        } else {
            presentation
        };
        let session = desk.with(|t| t.charge(&cart, &provider, presentation, &sale, None))?;
        let hints = hint(app, desk, Hint::Sync);
        if let (Presentation::Webview, Some(url), Some(hints), Ok(dir), false) = (
            presentation,
            &session.checkout_url,
            hints,
            &desk.dir,
            session.is_final,
        ) {
            let return_url = desk.with(|t| Ok(t.return_url()))?;
            windows::open_checkout(
                app,
                dir,
                &session.id,
                &session.provider,
                url,
                return_url,
                hints,
            )
            .map_err(|m| TillError::new(Code::Window, m))?;
        }
        *desk.customer.lock().unwrap() = Some(session.clone());
        // Only the customer display is told: the counter takes the answer. An event to every
        // webview had the counter's page parse and run the whole view, QR included, just
        // before the answer it waits for (charge → QR, BENCHMARKS.md).
        let _ = app.emit_to(windows::CUSTOMER_LABEL, SESSION_EVENT, &session);
        Ok(session)
    })
    .await
}

/// What the background follower asks of the app: the till's provider clients and signing key.
struct DeskSource<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> FollowSource for DeskSource<R> {
    fn provider(&mut self, name: &str, profile: &str) -> Result<Arc<dyn Provider>> {
        self.app
            .state::<Desk>()
            .with(|t| t.provider_named(name, profile))
    }

    fn signer(&mut self) -> Result<Signer> {
        self.app.state::<Desk>().with(|t| t.signer())
    }

    fn locale(&mut self) -> String {
        self.app
            .state::<Desk>()
            .with(|t| Ok(t.shop().locale))
            .unwrap_or_else(|_| "nb".into())
    }
}

/// Sends `h` to the background follower, starting it first if it does not run (at start-up,
/// or after it stopped on an error). Returns its channel, for the checkout window.
fn hint<R: Runtime>(app: &AppHandle<R>, desk: &Desk, h: Hint) -> Option<Sender<Hint>> {
    let mut guard = desk.follower.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(tx) = guard.as_ref() {
        if tx.send(h.clone()).is_ok() {
            return Some(tx.clone());
        }
    }
    let dir = desk.dir.clone().ok()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = tx.send(h);
    *guard = Some(tx.clone());
    let app = app.clone();
    let started = std::thread::Builder::new()
        .name("kassa-follow".into())
        .spawn(move || {
            let mut source = DeskSource { app: app.clone() };
            let result = till::follow_all(&dir, &mut source, rx, |v| changed(&app, v));
            if let Err(e) = result {
                eprintln!("kassa: following the open sessions stopped: {e}");
            }
        });
    if let Err(e) = started {
        eprintln!("kassa: cannot start following the open sessions: {e}");
        *guard = None;
        return None;
    }
    Some(tx)
}

/// A session the follower saw change: its checkout window closes when it is final, the
/// customer display and every screen learn of it, and a link sale that is paid (or needs its
/// payment checked) gets a desktop notification.
fn changed<R: Runtime>(app: &AppHandle<R>, v: SessionView) {
    if v.is_final {
        windows::close_later(app, &windows::checkout_label(&v.id));
    }
    if let Some(desk) = app.try_state::<Desk>() {
        let mut c = desk.customer.lock().unwrap_or_else(|p| p.into_inner());
        if c.as_ref().is_some_and(|c| c.id == v.id) {
            *c = Some(v.clone());
        }
        let locale = desk
            .with(|t| Ok(t.shop().locale))
            .unwrap_or_else(|_| "nb".into());
        if let Some(n) = till::notice(&v, &locale) {
            notify(app, &n);
        }
    }
    let final_state = v.is_final;
    let _ = app.emit(SESSION_EVENT, &v);
    if final_state {
        give_back_freed_memory();
    }
}

/// Hands the memory a finished sale's work freed back to the system. The C allocator (glibc)
/// keeps freed memory in its arenas for reuse: over a day of sales the desktop's process grew
/// about 2 MB per 100 sales while its live heap grew about 0.75 (heaptrack), and one
/// `malloc_trim` in a running till gave back 2.3 MB. Trimming once a session is final keeps the
/// process 2.0–2.3 MB smaller from sale 200 on, but not its slope: pages that still hold some
/// live data cannot be returned (BENCHMARKS.md, 2026-12-03 third session). `malloc_trim(0)`
/// returns every arena's wholly free pages; it runs here, on the follower's thread, so it never
/// holds up a screen. Elsewhere than glibc it does nothing.
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists under its locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Shows a desktop notification through the notification plugin (sent from here: no window
/// is given the plugin's permission). Without the plugin (the IPC tests' mock app) nothing.
fn notify<R: Runtime>(app: &AppHandle<R>, n: &till::Notice) {
    use tauri_plugin_notification::NotificationExt;
    if app
        .try_state::<tauri_plugin_notification::Notification<R>>()
        .is_none()
    {
        return;
    }
    if let Err(e) = app
        .notification()
        .builder()
        .title(&n.summary)
        .body(&n.body)
        .show()
    {
        eprintln!("kassa: the notification {:?} was not shown: {e}", n.summary);
    }
}

/// A session with its timeline. Staff opening an open session nudges the follower: it is
/// asked at once, and often for a minute.
#[tauri::command]
async fn session<R: Runtime>(app: AppHandle<R>, id: String) -> Result<SessionView> {
    blocking(app, move |app, desk| {
        let v = desk.with(|t| t.session(&id))?;
        if !v.is_final && v.status != kassa_core::session::Status::NeedsReview {
            hint(app, desk, Hint::Now(id));
        }
        Ok(v)
    })
    .await
}

#[tauri::command]
async fn refresh_session<R: Runtime>(app: AppHandle<R>, id: String) -> Result<SessionView> {
    blocking(app, move |_, desk| desk.with(|t| t.refresh(&id))).await
}

#[tauri::command]
async fn cancel_session<R: Runtime>(app: AppHandle<R>, id: String) -> Result<SessionView> {
    blocking(app, move |app, desk| {
        let v = desk.with(|t| t.cancel(&id))?;
        windows::close_later(app, &windows::checkout_label(&id));
        hint(app, desk, Hint::Sync);
        let _ = app.emit(SESSION_EVENT, &v);
        Ok(v)
    })
    .await
}

/// Staff's verdict on a session the provider cannot confirm (`claimed`, `paid`, `not_paid`).
#[tauri::command]
async fn review_session<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    verdict: kassa_core::checkout::Verdict,
) -> Result<SessionView> {
    blocking(app, move |app, desk| {
        let v = desk.with(|t| t.review(&id, verdict, None))?;
        windows::close_later(app, &windows::checkout_label(&id));
        hint(app, desk, Hint::Sync);
        let _ = app.emit(SESSION_EVENT, &v);
        Ok(v)
    })
    .await
}

/// The Links screen: every unpaid link sale staff may still act on, newest first.
#[tauri::command]
async fn links<R: Runtime>(app: AppHandle<R>) -> Result<Vec<SessionView>> {
    blocking(app, move |_, desk| desk.with(|t| t.links())).await
}

/// The provider sends open link `id` again (to `to`'s phone or e-mail if given, else to the
/// contact the session log keeps); the view's `sent` says what became of it.
#[tauri::command]
async fn resend_link<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    to: LinkRequest,
) -> Result<SessionView> {
    blocking(app, move |_, desk| desk.with(|t| t.resend(&id, &to))).await
}

/// A new link for the order of expired or cancelled link `id` (a new session; the old one is
/// never reused), followed from now on.
#[tauri::command]
async fn renew_link<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    lifetime: Option<Lifetime>,
) -> Result<SessionView> {
    blocking(app, move |app, desk| {
        let v = desk.with(|t| t.renew(&id, lifetime, &LinkRequest::default()))?;
        hint(app, desk, Hint::Sync);
        let _ = app.emit(SESSION_EVENT, &v);
        Ok(v)
    })
    .await
}

/// Saves link `id`'s QR code as PNG and SVG in the user's Downloads folder (else the data
/// dir), as receipts' PDFs are saved.
#[tauri::command]
async fn save_link_qr<R: Runtime>(app: AppHandle<R>, id: String) -> Result<SavedQr> {
    blocking(app, move |app, desk| {
        let dir = export_dir(app, desk)?;
        desk.with(|t| t.save_link_qr(&id, &dir))
    })
    .await
}

/// Prints link `id`'s slip (QR code, amount, expiry) on the receipt printer.
#[tauri::command]
async fn print_link_slip<R: Runtime>(app: AppHandle<R>, id: String) -> Result<()> {
    blocking(app, move |_, desk| desk.with(|t| t.print_link_slip(&id))).await
}

/// Captures `amount` (minor units; none: all that is still authorized) of a paid sale.
#[tauri::command]
async fn capture_session<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    amount: Option<i64>,
) -> Result<SessionView> {
    blocking(app, move |_, desk| desk.with(|t| t.capture(&id, amount))).await
}

/// Refunds a paid sale (whole, by lines with quantities, or by amount) at its provider; the
/// customer display shows the refund once it is done.
#[tauri::command]
async fn refund_session<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    what: RefundInput,
    reason: Option<String>,
) -> Result<SessionView> {
    blocking(app, move |app, desk| {
        let v = desk.with(|t| t.refund(&id, &what, reason.as_deref()))?;
        windows::show_refund(app, &v);
        Ok(v)
    })
    .await
}

/// Voids the authorization of a paid sale nothing was captured from.
#[tauri::command]
async fn void_session<R: Runtime>(app: AppHandle<R>, id: String) -> Result<SessionView> {
    blocking(app, move |_, desk| desk.with(|t| t.void(&id))).await
}

/// Records a refund staff made outside Kassa (a provider without a refund API), with `note`
/// saying what they did.
#[tauri::command]
async fn record_refund<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    what: RefundInput,
    note: String,
) -> Result<SessionView> {
    blocking(app, move |app, desk| {
        let v = desk.with(|t| t.record_refund(&id, &what, &note))?;
        windows::show_refund(app, &v);
        Ok(v)
    })
    .await
}

/// What a refund would give back (amount, VAT per rate, lines), for the form to show before
/// staff confirm. Sends and records nothing.
#[tauri::command]
async fn refund_preview<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    what: RefundInput,
) -> Result<RefundPreview> {
    blocking(app, move |_, desk| {
        desk.with(|t| t.refund_preview(&id, &what))
    })
    .await
}

#[tauri::command]
async fn history<R: Runtime>(app: AppHandle<R>, query: HistoryQuery) -> Result<HistoryPage> {
    blocking(app, move |_, desk| desk.with(|t| t.history(&query))).await
}

/// Where exports go: the user's Downloads folder, else the data directory.
fn export_dir<R: Runtime>(app: &AppHandle<R>, desk: &Desk) -> Result<PathBuf> {
    app.path()
        .download_dir()
        .ok()
        .filter(|d| d.is_dir())
        .or_else(|| desk.dir.clone().ok())
        .ok_or_else(|| TillError::new(Code::Export, "no folder to write the export to"))
}

#[derive(Serialize)]
struct Exported {
    path: String,
    rows: u64,
}

/// Writes the filtered history as CSV into the user's Downloads folder (else the data dir).
#[tauri::command]
async fn export_csv<R: Runtime>(app: AppHandle<R>, query: HistoryQuery) -> Result<Exported> {
    blocking(app, move |app, desk| {
        let dir = export_dir(app, desk)?;
        let stamp = kassa_core::time::format_rfc3339(kassa_core::time::now_millis())
            .replace([':', '.'], "-");
        let path = dir.join(format!("kassa-sessions-{stamp}.csv"));
        let rows = desk.with(|t| t.export_csv(&query, &path))?;
        Ok(Exported {
            path: path.display().to_string(),
            rows,
        })
    })
    .await
}

/// The receipt of sale `id` (or of its refund or void `operation`) as the journal holds it:
/// the receipt model's lines, its number, whether the original was issued.
#[tauri::command]
async fn receipt<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    operation: Option<String>,
) -> Result<Issued> {
    blocking(app, move |_, desk| {
        desk.with(|t| t.receipt(&id, operation.as_deref()))
    })
    .await
}

/// Prints the receipt on `printer.url`: the original the first time; with `copy` (staff
/// confirmed) the one copy, journaled and marked KOPI.
#[tauri::command]
async fn print_receipt<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    operation: Option<String>,
    copy: bool,
) -> Result<Issued> {
    blocking(app, move |_, desk| {
        desk.with(|t| t.print_receipt(&id, operation.as_deref(), copy))
    })
    .await
}

#[derive(Serialize)]
struct SavedReceipt {
    path: String,
    receipt: Issued,
}

/// Saves the receipt as a PDF in the user's Downloads folder (else the data dir), by the same
/// rule as `print_receipt`.
#[tauri::command]
async fn save_receipt_pdf<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    operation: Option<String>,
    copy: bool,
) -> Result<SavedReceipt> {
    blocking(app, move |app, desk| {
        let dir = export_dir(app, desk)?;
        desk.with(|t| {
            let nr = t.receipt(&id, operation.as_deref())?.number;
            let kind = if operation.is_some() {
                "retur"
            } else {
                "kvittering"
            };
            let name = if copy {
                format!("{kind}-{nr}-kopi.pdf")
            } else {
                format!("{kind}-{nr}.pdf")
            };
            let path = dir.join(name);
            let receipt = t.save_receipt_pdf(&id, operation.as_deref(), copy, &path)?;
            Ok(SavedReceipt {
                path: path.display().to_string(),
                receipt,
            })
        })
    })
    .await
}

#[derive(Serialize)]
struct OperatorsState {
    /// Who is at the till (`null`: operators exist and nobody is logged in).
    current: Option<OperatorView>,
    /// Who can log in (empty: the till runs as the owner and asks nothing).
    operators: Vec<OperatorView>,
}

/// Who is at the till and who can log in.
#[tauri::command]
async fn operators_state<R: Runtime>(app: AppHandle<R>) -> Result<OperatorsState> {
    blocking(app, move |_, desk| {
        desk.with(|t| {
            Ok(OperatorsState {
                current: t.current_operator(),
                operators: t.operators()?,
            })
        })
    })
    .await
}

/// Logs operator `id` in with `pin` (a switch when someone was logged in). The PIN is checked
/// against its Argon2 hash and never kept.
#[tauri::command]
async fn login<R: Runtime>(app: AppHandle<R>, id: i64, pin: String) -> Result<OperatorView> {
    let pin = Secret::new(pin);
    blocking(app, move |_, desk| desk.with(|t| t.login(id, &pin))).await
}

/// Logs the operator at the till out.
#[tauri::command]
async fn logout<R: Runtime>(app: AppHandle<R>) -> Result<()> {
    blocking(app, move |_, desk| desk.with(|t| t.logout())).await
}

/// A manager's PIN on the spot: approves the next action that needs a manager.
#[tauri::command]
async fn approve<R: Runtime>(app: AppHandle<R>, id: i64, pin: String) -> Result<OperatorView> {
    let pin = Secret::new(pin);
    blocking(app, move |_, desk| desk.with(|t| t.approve(id, &pin))).await
}

/// Adds an operator (name, `cashier` or `manager`, the PIN typed twice), by a manager;
/// journaled as `kassa-cli operator add`. Neither PIN is kept or returned.
#[tauri::command]
async fn add_operator<R: Runtime>(
    app: AppHandle<R>,
    name: String,
    role: String,
    pin: String,
    pin_again: String,
) -> Result<OperatorView> {
    let (pin, pin_again) = (Secret::new(pin), Secret::new(pin_again));
    blocking(app, move |_, desk| {
        let role = kassa_core::operator::Role::parse(&role)?;
        desk.with(|t| t.add_operator(&name, role, &pin, &pin_again))
    })
    .await
}

/// Removes operator `id` (kept in the journal, no longer able to log in), by a manager;
/// journaled as `kassa-cli operator remove`.
#[tauri::command]
async fn remove_operator<R: Runtime>(app: AppHandle<R>, id: i64) -> Result<OperatorView> {
    blocking(app, move |_, desk| desk.with(|t| t.remove_operator(id))).await
}

/// The header's hub indicator: whether a hub is configured, whether it answers (the
/// background sender's last round), how much waits in this till's outbox.
#[tauri::command]
async fn hub_status<R: Runtime>(app: AppHandle<R>) -> Result<hub::HubStatus> {
    blocking(app, move |_, desk| {
        let link = desk.hub.lock().unwrap_or_else(|p| p.into_inner()).clone();
        desk.with(|t| hub::status(&t.settings, &t.log, &link))
    })
    .await
}

/// The History screen's Whole shop: the newest `limit` (at most 500) sales of every till from
/// the shop's hub. The till is held only to copy its settings, never while the hub answers.
#[tauri::command]
async fn shop_history<R: Runtime>(app: AppHandle<R>, limit: i64) -> Result<kassa_hub::ShopHistory> {
    blocking(app, move |_, desk| {
        let settings = desk.with(|t| Ok(t.settings.clone()))?;
        hub::shop_history(&settings, limit.clamp(1, 500))
    })
    .await
}

/// Day close's Whole shop X: every register's X from the shop's hub and their total (read,
/// journaled nowhere), by the operator at the till. The till is held only to copy what the
/// reading needs.
#[tauri::command]
async fn shop_report<R: Runtime>(app: AppHandle<R>) -> Result<kassa_core::till::ShopReportView> {
    blocking(app, move |_, desk| {
        let reader = desk.with(|t| t.shop_report_reader())?;
        hub::shop_report(reader)
    })
    .await
}

/// Makes an X report (`z` false) or the day's Z report, journaled in full: its figures and
/// its printout's lines.
#[tauri::command]
async fn make_report<R: Runtime>(app: AppHandle<R>, z: bool) -> Result<ReportView> {
    blocking(app, move |_, desk| {
        desk.with(|t| t.report(z, kassa_core::time::now_millis()))
    })
    .await
}

/// The start reminder: the latest day before today with sales and no Z report, if any.
#[tauri::command]
async fn day_without_z<R: Runtime>(app: AppHandle<R>) -> Result<Option<String>> {
    blocking(app, move |_, desk| {
        desk.with(|t| t.day_without_z(kassa_core::time::now_millis()))
    })
    .await
}

/// Exports the journal of local dates `from`..`to` as a SAF-T Cash Register file into the
/// user's Downloads folder (else the data dir), under its conventional name.
#[tauri::command]
async fn export_saft<R: Runtime>(app: AppHandle<R>, from: String, to: String) -> Result<SaftView> {
    blocking(app, move |app, desk| {
        let dir = export_dir(app, desk)?;
        desk.with(|t| t.export_saft(&from, &to, &dir, kassa_core::time::now_millis()))
    })
    .await
}

#[tauri::command]
async fn settings_view<R: Runtime>(app: AppHandle<R>) -> Result<SettingsView> {
    blocking(app, move |_, desk| desk.with(|t| Ok(t.settings_view()))).await
}

#[tauri::command]
async fn set_setting<R: Runtime>(app: AppHandle<R>, key: String, value: String) -> Result<()> {
    blocking(app, move |_, desk| {
        desk.with(|t| t.set_setting(&key, &value))
    })
    .await
}

/// Writes a credential straight to the keyring (empty: delete). The value is never returned.
#[tauri::command]
async fn set_credential<R: Runtime>(
    app: AppHandle<R>,
    provider: String,
    field: String,
    value: String,
) -> Result<()> {
    let value = Secret::new(value);
    blocking(app, move |_, desk| {
        desk.with(|t| t.set_credential(&provider, &field, value))
    })
    .await
}

#[tauri::command]
async fn test_connection<R: Runtime>(app: AppHandle<R>, provider: String) -> Result<String> {
    blocking(app, move |_, desk| {
        desk.with(|t| t.test_connection(&provider))
    })
    .await
}

#[tauri::command]
async fn save_product<R: Runtime>(app: AppHandle<R>, entry: ProductEntry) -> Result<()> {
    blocking(app, move |_, desk| desk.with(|t| t.save_product(&entry))).await
}

#[tauri::command]
async fn remove_product<R: Runtime>(app: AppHandle<R>, sku: String) -> Result<()> {
    blocking(app, move |_, desk| desk.with(|t| t.remove_product(&sku))).await
}

#[tauri::command]
async fn open_customer_display<R: Runtime>(app: AppHandle<R>) -> Result<()> {
    windows::open_customer_display(&app).map_err(|m| TillError::new(Code::Window, m))
}

/// What the customer display shows when it opens (later changes arrive as events).
#[derive(Serialize)]
struct CustomerState {
    shop_name: String,
    locale: String,
    session: Option<SessionView>,
}

#[tauri::command]
async fn customer_state<R: Runtime>(app: AppHandle<R>) -> Result<CustomerState> {
    blocking(app, |_, desk| {
        let shop = desk.with(|t| Ok(t.shop())).ok();
        Ok(CustomerState {
            shop_name: shop
                .as_ref()
                .map(|s| s.shop_name.clone())
                .unwrap_or_default(),
            locale: shop.map(|s| s.locale).unwrap_or_default(),
            session: desk.customer.lock().unwrap().clone(),
        })
    })
    .await
}

/// The counter's page, at a quiet moment, asks for a fresh web process for itself and the
/// customer display ([`PageRenewal`], [`windows::renew_pages`]). Only the main window's page
/// can ask (its capability alone grants the command); the answer seldom reaches the page,
/// whose process ends.
#[tauri::command]
fn renew_page<R: Runtime>(app: AppHandle<R>) -> bool {
    let renewed = windows::renew_pages(&app);
    log::info!("the counter's page at a quiet moment: renewed in a fresh web process: {renewed}");
    renewed
}

/// Called by the UI once the counter screen has painted. Prints the time since start (used by
/// `make run` and the benchmarks), then the page's own timing marks (`name=ms` since the page's
/// navigation began, in the order they happened), and exits when `KASSA_EXIT_AFTER_READY` is set.
#[tauri::command]
fn ready<R: Runtime>(app: AppHandle<R>, desk: State<'_, Desk>, marks: Option<Vec<(String, f64)>>) {
    let line = ready_line("KASSA_READY", desk.started.elapsed().as_millis(), marks);
    // In the log too: a page drawn again in a fresh process (`renew_page`) shows there.
    log::info!("the counter's page is ready: {line}");
    println!("{line}");
    if std::env::var_os("KASSA_EXIT_AFTER_READY").is_some() {
        app.exit(0);
    }
}

/// How long the main window waits for the till to open, for its boot script (`run`'s setup).
const BOOT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The main window's initialization script, run before the page's own scripts: the answers the
/// page's start would otherwise ask for over IPC (`app_info` and a sale reference) as
/// `window.kassaBoot`, so the counter's first frame is complete without waiting for a round
/// trip (the IPC answers of the start came ~10 ms after the command, behind WebKit's start).
/// None while the till is still opening: the page then asks. A reload of the page
/// (which runs this script again, with what it held when the window was made) asks too: the
/// page marks the session's first start in `sessionStorage`. Shop settings only, no secret.
fn boot_script(desk: &Desk) -> Option<String> {
    if !desk.opened() {
        return None;
    }
    let boot = serde_json::json!({
        "info": desk.info(),
        "reference": kassa_core::reference::generate_now(),
    });
    Some(format!(
        "(() => {{ let used = false; try {{ used = sessionStorage.getItem('kassa.booted') === '1'; }} \
         catch (_) {{ /* no storage */ }} if (!used) window.kassaBoot = {boot}; }})();"
    ))
}

/// Registers state and commands for the data directory `dir`. Generic over the runtime so
/// tests can use the mock runtime.
pub fn builder<R: Runtime>(
    builder: tauri::Builder<R>,
    dir: std::result::Result<PathBuf, String>,
) -> tauri::Builder<R> {
    builder
        .manage(Desk::open(dir))
        .invoke_handler(tauri::generate_handler![
            app_info,
            entry_to_line,
            parse_amount,
            quote_cart,
            new_reference,
            charge,
            session,
            refresh_session,
            cancel_session,
            review_session,
            links,
            resend_link,
            renew_link,
            save_link_qr,
            print_link_slip,
            capture_session,
            refund_session,
            void_session,
            record_refund,
            refund_preview,
            receipt,
            print_receipt,
            save_receipt_pdf,
            operators_state,
            login,
            logout,
            approve,
            add_operator,
            remove_operator,
            hub_status,
            shop_history,
            shop_report,
            history,
            export_csv,
            make_report,
            day_without_z,
            export_saft,
            settings_view,
            set_setting,
            set_credential,
            test_connection,
            save_product,
            remove_product,
            open_customer_display,
            customer_state,
            renew_page,
            ready
        ])
}

/// Reconciles sessions an earlier run left `creating`, `unknown` or `open` past expiry (see
/// `kassa_core::checkout::reconcile`), on a background thread so the counter opens at once.
fn reconcile_in_background() {
    std::thread::spawn(|| {
        let result = kassa_core::paths::data_dir(None).and_then(|dir| {
            let settings = Settings::load(&dir).map_err(|e| e.to_string())?;
            let mut log = kassa_core::store::SessionLog::open_journaled(
                &dir,
                &kassa_core::journal::register_id(&settings),
                Arc::new(OsKeyring),
            )
            .map_err(|e| e.to_string())?;
            let now = kassa_core::time::now_millis();
            kassa_core::checkout::reconcile_with(&mut log, &dir, &mut clients(&dir), &settings, now)
                .map_err(|e| e.to_string())
        });
        match result {
            Ok(done) => {
                for r in done {
                    eprintln!("kassa: reconciled {r}");
                }
            }
            Err(e) => eprintln!("kassa: cannot reconcile the session log: {e}"),
        }
    });
}

/// Starts the desktop app (or hands over to the one already running on this data directory).
/// WebKit's rendering, JavaScript and memory as Kassa's windows have them; the benches' blank
/// window (`examples/blank_window.rs`) takes the same, so that it stays the floor Kassa is
/// measured against.
pub use windows::webkit_environment;

/// The READY line the benchmarks read: `<what> <ms> ms`, then the page's timing marks as
/// `name=ms` words in the order given. Only the page's own mark names (letters) are kept, so
/// the line stays one line of words. Kassa's `ready` and the bench's blank window both print it.
pub fn ready_line(what: &str, ms: u128, marks: Option<Vec<(String, f64)>>) -> String {
    let mut line = format!("{what} {ms} ms");
    for (name, at) in marks.unwrap_or_default() {
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic()) {
            let _ = write!(line, " {name}={at:.0}");
        }
    }
    line
}

pub fn run() {
    windows::webkit_environment();
    kassa_core::logging::init_from_env();
    let dir = kassa_core::paths::data_dir(None).ok();
    if let Some(d) = &dir {
        let _ = std::fs::create_dir_all(d);
        if windows::hand_over_to_running(d) {
            eprintln!(
                "kassa: already running on {}; brought it to the front",
                d.display()
            );
            return;
        }
    }
    reconcile_in_background();
    let setup_dir = dir.clone();
    let event_dir = dir;
    builder(tauri::Builder::default(), kassa_core::paths::data_dir(None))
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            // The main window is made here (`create: false` in tauri.conf.json) to carry the
            // start's answers in its initialization script. The till opened on its own thread
            // since `run` began (~15 ms; setup comes ~50 ms after): a till slower than
            // BOOT_WAIT to open holds the window no longer, and the page then asks for them.
            if let Some(config) = app.config().app.windows.iter().find(|w| w.label == "main") {
                app.state::<Desk>().wait_opened(BOOT_WAIT);
                let mut main = tauri::WebviewWindowBuilder::from_config(app.handle(), config)?;
                if let Some(script) = boot_script(&app.state::<Desk>()) {
                    main = main.initialization_script(script);
                }
                main.build()?;
            }
            windows::minimal_cache(app.handle());
            // Sessions left open by an earlier run or by kassa-cli are followed from the start.
            hint(app.handle(), &app.state::<Desk>(), Hint::Sync);
            if let Some(d) = &setup_dir {
                let handle = app.handle().clone();
                hub::start_sender(d, app.state::<Desk>().hub.clone(), move || {
                    // The till sells from its list in memory: read the new one, then tell the
                    // page (quick keys, the settings' product list).
                    let desk = handle.state::<Desk>();
                    if let Err(e) = desk.with(|t| t.reload_catalog()) {
                        eprintln!("kassa: hub: the product list: {}", e.message);
                    }
                    let _ = handle.emit(PRODUCTS_EVENT, ());
                });
                windows::listen_for_second_launch(app.handle(), d);
                windows::restore_main(app.handle(), d);
            }
            Ok(())
        })
        .on_window_event(move |window, event| {
            if let (tauri::WindowEvent::CloseRequested { .. }, Some(d)) = (event, &event_dir) {
                if window.label() == "main" {
                    windows::save_main(window, d);
                    // The checkout and customer windows go with the counter.
                    window.app_handle().exit(0);
                }
            }
        })
        .run(tauri::generate_context!())
        .expect("error while running Kassa");
}

#[cfg(test)]
const COMMANDS_FOR_TESTS: &[&str] = COMMANDS;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod ui_contract_tests;
