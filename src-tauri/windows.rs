//! Windows and process plumbing: the provider's checkout window (no IPC, navigation fenced,
//! no downloads, an ephemeral private data store), the customer-facing display, the single
//! instance socket, and the main window's remembered size and position.

use kassa_core::provider::OperationKind;
use kassa_core::store::OperationState;
use kassa_core::till::{navigation, provider_domains, Hint, Navigation, SessionView};
use serde::Serialize;
use std::path::Path;
use std::sync::mpsc::Sender;
use tauri::webview::NewWindowResponse;
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

/// The customer display's window label (its capability, `customer-display`, names it).
pub const CUSTOMER_LABEL: &str = "customer";

/// The event addressed to the customer display when a refund is done (payload:
/// [`RefundShown`]). Tauri hands an event to every page listening for its name with no target
/// of its own, whatever window it is addressed to; only the customer display listens for it.
pub const REFUND_EVENT: &str = "refund-done";

/// The label of a session's checkout window. No capability matches `checkout-*`, so the page
/// in it can invoke nothing (see the capability list in `tauri.conf.json`).
pub fn checkout_label(session_id: &str) -> String {
    format!("checkout-{session_id}")
}

/// Opens the provider's page for a session in its own window. Navigation is limited to the
/// checkout URL's origin and the provider's domains; the return URL is only a hint (`hint`
/// tells the background follower, which lets the provider read it and asks now) and closes the window. The webview is ephemeral (WebKit keeps its
/// cookies and storage in memory only) and its data directory is removed when it closes.
pub fn open_checkout<R: Runtime>(
    app: &AppHandle<R>,
    data_dir: &Path,
    session_id: &str,
    provider: &str,
    checkout_url: &str,
    return_url: String,
    hint: Sender<Hint>,
) -> Result<(), String> {
    let label = checkout_label(session_id);
    if let Some(w) = app.get_webview_window(&label) {
        return w.set_focus().map_err(|e| e.to_string());
    }
    let url: tauri::Url = checkout_url
        .parse()
        .map_err(|e| format!("the checkout URL {checkout_url:?} is not a URL: {e}"))?;
    let private_dir = data_dir.join("webview-private").join(&label);
    let domains = provider_domains(provider);
    let start = checkout_url.to_string();
    let closer = app.clone();
    let closing_label = label.clone();
    let id = session_id.to_string();
    let window = WebviewWindowBuilder::new(app, &label, WebviewUrl::External(url))
        .title(format!("Checkout · {provider}"))
        .inner_size(520.0, 760.0)
        .incognito(true)
        .data_directory(private_dir.clone())
        .on_navigation(
            move |to| match navigation(&start, domains, &return_url, to.as_str()) {
                Navigation::Allow => true,
                Navigation::Returned => {
                    let _ = hint.send(Hint::Returned(id.clone(), to.as_str().to_string()));
                    close_later(&closer, &closing_label);
                    false
                }
                Navigation::Block => {
                    eprintln!(
                        "kassa: blocked checkout navigation to {}",
                        to.origin().ascii_serialization()
                    );
                    false
                }
            },
        )
        .on_download(|_, _| false)
        .on_new_window(|_, _| NewWindowResponse::Deny)
        .build()
        .map_err(|e| format!("cannot open the checkout window: {e}"))?;
    window.on_window_event(move |event| {
        if let tauri::WindowEvent::Destroyed = event {
            let _ = std::fs::remove_dir_all(&private_dir);
        }
    });
    Ok(())
}

/// Closes a window from outside the callback that decided it (a navigation handler must not
/// destroy its own webview while WebKit is still deciding).
pub fn close_later<R: Runtime>(app: &AppHandle<R>, label: &str) {
    let app = app.clone();
    let label = label.to_string();
    std::thread::spawn(move || {
        if let Some(w) = app.get_webview_window(&label) {
            let _ = w.destroy();
        }
    });
}

/// Opens (or focuses) the customer-facing display: a second window for a second screen that
/// shows the QR code, the amount and the status. It is Kassa's own page.
pub fn open_customer_display<R: Runtime>(app: &AppHandle<R>) -> Result<(), String> {
    if let Some(w) = app.get_webview_window(CUSTOMER_LABEL) {
        return w.set_focus().map_err(|e| e.to_string());
    }
    WebviewWindowBuilder::new(app, CUSTOMER_LABEL, WebviewUrl::App("customer.html".into()))
        .title("Kassa · customer display")
        .inner_size(640.0, 760.0)
        .build()
        .map(|_| ())
        .map_err(|e| format!("cannot open the customer display: {e}"))
}

/// What the customer display shows of a refund: the amount given back, formatted by the core.
#[derive(Debug, Clone, Serialize)]
pub struct RefundShown {
    pub session_id: String,
    pub reference: String,
    pub amount: String,
    pub demo: bool,
}

/// Tells the customer display about the refund `v` (a sale's view after it) just made, when it
/// is done: a refund the provider accepted but still processes (Dintero's 202) is not yet money
/// back, so the display keeps showing the sale.
pub fn show_refund<R: Runtime>(app: &AppHandle<R>, v: &SessionView) {
    // The operations are oldest first: the refund just made is the last.
    let Some(op) = v.operations.last() else {
        return;
    };
    let refund = matches!(
        op.kind,
        OperationKind::Refund | OperationKind::RefundRecorded
    );
    if !refund || op.state != OperationState::Done {
        return;
    }
    let shown = RefundShown {
        session_id: v.id.clone(),
        reference: v.reference.clone(),
        amount: op.amount.clone(),
        demo: v.demo,
    };
    if app.get_webview_window(CUSTOMER_LABEL).is_some() {
        let _ = app.emit_to(CUSTOMER_LABEL, REFUND_EVENT, shown);
    }
}

// ---- single instance ----------------------------------------------------------------------

/// The socket a running Kassa listens on for "a second launch wants focus".
#[cfg(unix)]
fn socket_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("kassa.sock")
}

/// If another Kassa runs on this data directory, asks it to come to the front and returns
/// true (the caller exits). Otherwise returns false.
#[cfg(unix)]
pub fn hand_over_to_running(data_dir: &Path) -> bool {
    use std::io::Write;
    let path = socket_path(data_dir);
    match std::os::unix::net::UnixStream::connect(&path) {
        Ok(mut s) => s.write_all(b"focus\n").is_ok(),
        Err(e) => {
            if path.exists() {
                eprintln!("kassa: {} answers nothing ({e}): starting", path.display());
            }
            false
        }
    }
}

/// Listens for later launches and focuses the main window when one knocks.
#[cfg(unix)]
pub fn listen_for_second_launch<R: Runtime>(app: &AppHandle<R>, data_dir: &Path) {
    let path = socket_path(data_dir);
    // Nobody answered on it (hand_over_to_running said so): a stale socket from a crash.
    let _ = std::fs::remove_file(&path);
    let listener = match std::os::unix::net::UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kassa: single-instance socket {}: {e}", path.display());
            return;
        }
    };
    let app = app.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stream.is_err() {
                continue;
            }
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }
    });
}

/// Without Unix sockets (Windows) there is no single-instance guard yet: a second launch
/// opens a second counter on the same data directory, which the session log's locking keeps
/// safe (both see the same sessions). Nothing is handed over.
#[cfg(not(unix))]
pub fn hand_over_to_running(_data_dir: &Path) -> bool {
    false
}

/// See the `not(unix)` [`hand_over_to_running`]: says once that there is no guard.
#[cfg(not(unix))]
pub fn listen_for_second_launch<R: Runtime>(_app: &AppHandle<R>, _data_dir: &Path) {
    eprintln!(
        "kassa: no single-instance guard on this platform: a second launch opens a second window"
    );
}

// ---- window state -------------------------------------------------------------------------

const WINDOW_STATE: &str = "window-state.json";

#[derive(serde::Serialize, serde::Deserialize)]
struct WindowState {
    x: i32,
    y: i32,
    width: u32,
    height: u32,
}

/// Restores the main window's last size and position.
pub fn restore_main<R: Runtime>(app: &AppHandle<R>, data_dir: &Path) {
    let Some(w) = app.get_webview_window("main") else {
        return;
    };
    let Some(s) = std::fs::read(data_dir.join(WINDOW_STATE))
        .ok()
        .and_then(|b| serde_json::from_slice::<WindowState>(&b).ok())
    else {
        return;
    };
    if s.width >= 400 && s.height >= 300 {
        let _ = w.set_size(tauri::PhysicalSize::new(s.width, s.height));
        let _ = w.set_position(tauri::PhysicalPosition::new(s.x, s.y));
    }
}

/// Saves the main window's size and position (on close, so the next start reopens it there).
pub fn save_main<R: Runtime>(window: &tauri::Window<R>, data_dir: &Path) {
    let (Ok(pos), Ok(size)) = (window.outer_position(), window.inner_size()) else {
        return;
    };
    let state = WindowState {
        x: pos.x,
        y: pos.y,
        width: size.width,
        height: size.height,
    };
    let tmp = data_dir.join(format!(".{WINDOW_STATE}.tmp"));
    let bytes = serde_json::to_vec(&state).expect("window state serializes");
    if std::fs::write(&tmp, bytes).is_ok() {
        let _ = std::fs::rename(&tmp, data_dir.join(WINDOW_STATE));
    }
}

/// The environment variable with which WebKitGTK draws pages without accelerated compositing.
pub const COMPOSITING_VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Kassa's windows are drawn without WebKitGTK's accelerated compositing unless the shop says
/// otherwise. Kassa's pages have no animation, video or 3-D, so compositing buys them nothing,
/// and it is what made the web process heavy: with it, WebKit keeps GL layers (through Mesa's
/// software renderer where there is no GPU) and the web process held 87–92 MB of its own memory
/// at start against 32 MB without, and grew far more over a day of sales (BENCHMARKS.md,
/// 2026-12-03 third session). It also avoids the blank-window faults some GPU drivers have with
/// WebKitGTK's GL path. Provider checkout windows are drawn the same way.
///
/// WebKit reads the variable when it starts, so this runs first thing in `run`, before any
/// thread exists. A variable the shop has set is left alone: `WEBKIT_DISABLE_COMPOSITING_MODE=0`
/// (WebKit treats any other value, even an empty one, as "off") turns compositing back on.
pub fn prefer_software_rendering() {
    #[cfg(target_os = "linux")]
    if std::env::var_os(COMPOSITING_VAR).is_none() {
        std::env::set_var(COMPOSITING_VAR, "1");
    }
}

/// The environment variable with which JavaScriptCore runs without its JIT compilers (its
/// options are read from `JSC_<name>` variables; WebKit's processes inherit Kassa's).
pub const JIT_VAR: &str = "JSC_useJIT";

/// Kassa's windows run JavaScript in JavaScriptCore's interpreter, without its JIT compilers,
/// unless the shop says otherwise. Kassa's own pages do little work per click (a line, a
/// dialog, a QR image), and the compilers' code and profiles are what their web process kept
/// gaining over a day: without them it held ~6 MB less after start and ~13 MB less after 300
/// sales, with charge → QR unchanged (BENCHMARKS.md, 2026-12-05 seventh session). No JIT also
/// means no writable and executable memory in the process that runs the providers' pages, as
/// browsers' hardened modes do. The providers' checkout windows run the same way: their pages
/// are forms, but a shop whose provider's page feels slow can start Kassa with `JSC_useJIT=1`
/// (a value the shop sets is left as it is).
///
/// Like [`prefer_software_rendering`], this runs first thing in `run`, before any thread.
pub fn prefer_interpreter() {
    #[cfg(target_os = "linux")]
    if std::env::var_os(JIT_VAR).is_none() {
        std::env::set_var(JIT_VAR, "0");
    }
}

/// The environment variable through which glibc's `malloc` takes its settings when a process
/// starts.
pub const TUNABLES_VAR: &str = "GLIBC_TUNABLES";

/// What Kassa puts in [`TUNABLES_VAR`] for WebKit's processes: `malloc`'s mmap threshold fixed
/// at its initial 128 KiB.
pub const TUNABLES: &str = "glibc.malloc.mmap_threshold=131072";

/// WebKit's processes give large blocks (128 KiB and more) back to the system when they free
/// them. By default glibc's `malloc` raises its mmap threshold each time a large block is freed
/// (up to 32 MiB), so later large blocks are carved from the heap, which stays resident after
/// they are freed; a threshold that is set stays where it is (mallopt(3), `M_MMAP_THRESHOLD`).
/// The libraries WebKit draws with allocate through glibc, and the web process was 9 MB
/// lighter after the first sale with it and ~4 MB after 300 (BENCHMARKS.md, 2026-12-05 seventh
/// session). glibc reads the variable when a process starts, so Kassa's own process is not
/// affected, only the processes it starts; a `GLIBC_TUNABLES` the shop has set is left as it
/// is. Like [`prefer_software_rendering`], this runs first thing in `run`, before any thread.
pub fn return_large_blocks() {
    #[cfg(target_os = "linux")]
    if std::env::var_os(TUNABLES_VAR).is_none() {
        std::env::set_var(TUNABLES_VAR, TUNABLES);
    }
}

/// WebKit's rendering, JavaScript and memory as Kassa's windows have them:
/// [`prefer_software_rendering`], [`prefer_interpreter`] and [`return_large_blocks`].
pub fn webkit_environment() {
    prefer_software_rendering();
    prefer_interpreter();
    return_large_blocks();
}

/// Kassa's pages are local and every sale brings a new QR image: WebKit's default cache model
/// (a web browser's) keeps each decoded image in its memory cache, which grew the web process
/// by about 0.7 MB per sale (BENCHMARKS.md). The document-viewer model keeps next to nothing.
/// Checkout windows have their own ephemeral contexts and are not affected.
pub fn minimal_cache<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(target_os = "linux")]
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.with_webview(|wv| {
            use webkit2gtk::{WebContextExt, WebViewExt};
            if let Some(ctx) = wv.inner().context() {
                ctx.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Gives the counter's page, and the customer display's when it is open, a fresh web process:
/// WebKit's process for each is ended (`webkit_web_view_terminate_web_process`) and the page
/// loaded again in a new one. Whatever WebKit kept in the old process over the day goes with
/// it: about 2 MB per 100 sales that neither the page nor a reload can give back
/// (BENCHMARKS.md, issue #25). The counter's page asks for it itself, and only at a quiet
/// moment (app.js, `quietMoment`): an empty counter, nothing open, untouched for a while.
/// Nothing the till keeps is in the pages; each draws itself again as after a reload (~0.25 s).
/// Returns whether the counter's page was renewed (only WebKitGTK can; elsewhere the pages
/// simply stay).
pub fn renew_pages<R: Runtime>(app: &AppHandle<R>) -> bool {
    let renewed = app
        .get_webview_window("main")
        .is_some_and(|w| renew_page(&w));
    if let Some(display) = app.get_webview_window(CUSTOMER_LABEL) {
        renew_page(&display);
    }
    renewed
}

fn renew_page<R: Runtime>(window: &tauri::WebviewWindow<R>) -> bool {
    #[cfg(target_os = "linux")]
    {
        window
            .with_webview(|wv| {
                use webkit2gtk::WebViewExt;
                let view = wv.inner();
                view.terminate_web_process();
                view.reload();
            })
            .is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = window;
        false
    }
}
