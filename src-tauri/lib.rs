//! Kassa's desktop shell: windows, IPC commands and nothing else. Every command is a few lines
//! that call `kassa-core`; amounts, VAT and validation all come from the core.

use kassa_core::counter::{self, Cart, CartLine, CounterView, LineEntry};
use kassa_core::settings::{Settings, ShopSettings};
use kassa_core::{Currency, Problem};
use serde::Serialize;
use std::time::Instant;
use tauri::{Runtime, State};

/// An error as the UI receives it: a stable `code` to branch on and a `message` for people,
/// plus field problems where there are any.
#[derive(Debug, Serialize)]
pub struct UiError {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl UiError {
    fn invalid(problems: Vec<Problem>) -> UiError {
        let message = problems
            .iter()
            .map(Problem::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        UiError {
            code: "invalid_input",
            message,
            problems,
        }
    }
}

/// Shop settings the counter needs, from the data directory's settings (see `kassa-cli config`).
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub name: &'static str,
    pub version: &'static str,
    #[serde(flatten)]
    pub shop: ShopSettings,
    /// Why the settings could not be read (the defaults are used meanwhile), for the UI to show.
    pub settings_error: Option<String>,
}

/// State shared by the commands.
pub struct AppState {
    pub started: Instant,
    pub info: AppInfo,
}

fn load_app_info() -> AppInfo {
    let loaded = kassa_core::paths::data_dir(None)
        .and_then(|dir| Settings::load(&dir).map_err(|e| e.to_string()));
    let (settings, settings_error) = match loaded {
        Ok(s) => (s, None),
        Err(e) => (Settings::default(), Some(e)),
    };
    AppInfo {
        name: "Kassa",
        version: env!("CARGO_PKG_VERSION"),
        shop: ShopSettings::from_settings(&settings),
        settings_error,
    }
}

#[tauri::command]
fn app_info(state: State<'_, AppState>) -> AppInfo {
    state.info.clone()
}

#[tauri::command]
fn entry_to_line(entry: LineEntry, currency: String) -> Result<CartLine, UiError> {
    let currency = parse_currency(&currency)?;
    counter::entry_to_line(&entry, currency).map_err(UiError::invalid)
}

#[tauri::command]
fn parse_amount(text: String, currency: String) -> Result<i64, UiError> {
    let currency = parse_currency(&currency)?;
    currency.parse_major(&text).map_err(|reason| {
        UiError::invalid(vec![Problem {
            path: "amount".into(),
            reason,
        }])
    })
}

#[tauri::command]
fn quote_cart(cart: Cart, state: State<'_, AppState>) -> CounterView {
    counter::view(
        &cart,
        &state.info.shop.locale,
        &kassa_core::reference::generate_now(),
    )
}

/// Called by the UI once the counter screen has painted. Prints the time since start (used by
/// `make run` and the benchmarks) and exits when `KASSA_EXIT_AFTER_READY` is set.
#[tauri::command]
fn ready<R: Runtime>(app: tauri::AppHandle<R>, state: State<'_, AppState>) {
    println!("KASSA_READY {} ms", state.started.elapsed().as_millis());
    if std::env::var_os("KASSA_EXIT_AFTER_READY").is_some() {
        app.exit(0);
    }
}

fn parse_currency(code: &str) -> Result<Currency, UiError> {
    Currency::from_code(code).ok_or_else(|| {
        UiError::invalid(vec![Problem {
            path: "currency".into(),
            reason: format!("{code:?} is not a known ISO 4217 currency code"),
        }])
    })
}

/// Registers state and commands. Generic over the runtime so tests can use the mock runtime.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    let info = load_app_info();
    builder
        .manage(AppState {
            started: Instant::now(),
            info,
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            entry_to_line,
            parse_amount,
            quote_cart,
            ready
        ])
}

/// Reconciles sessions an earlier run left `creating`, `unknown` or `open` past expiry (see
/// `kassa_core::checkout::reconcile`), on a background thread so the counter opens at once.
fn reconcile_in_background() {
    std::thread::spawn(|| {
        let result = kassa_core::paths::data_dir(None).and_then(|dir| {
            let settings = Settings::load(&dir).map_err(|e| e.to_string())?;
            let mut log =
                kassa_core::store::SessionLog::open_in(&dir).map_err(|e| e.to_string())?;
            kassa_sandbox::demo::Providers::new(&dir)
                .reconcile(&mut log, &settings, kassa_core::time::now_millis())
                .map_err(|e| e.to_string())
        });
        match result {
            Ok(done) => {
                for r in done {
                    eprintln!(
                        "kassa: reconciled session {}: {} → {} ({})",
                        r.id, r.from, r.to, r.note
                    );
                }
            }
            Err(e) => eprintln!("kassa: cannot reconcile the session log: {e}"),
        }
    });
}

/// Starts the desktop app.
pub fn run() {
    reconcile_in_background();
    builder(tauri::Builder::default())
        .run(tauri::generate_context!())
        .expect("error while running Kassa");
}

#[cfg(test)]
mod tests {
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::WebviewWindowBuilder;

    fn request(cmd: &str, body: serde_json::Value) -> InvokeRequest {
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        }
    }

    fn app() -> tauri::App<tauri::test::MockRuntime> {
        super::builder(mock_builder())
            .build(tauri::generate_context!())
            .expect("app builds with the mock runtime")
    }

    /// The mock runtime does not open the config's windows; open `main` the way the config does.
    fn main_window(
        app: &tauri::App<tauri::test::MockRuntime>,
    ) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
        match app.get_webview_window("main") {
            Some(w) => w,
            None => WebviewWindowBuilder::new(app, "main", Default::default())
                .build()
                .unwrap(),
        }
    }

    fn cart_body() -> serde_json::Value {
        serde_json::json!({ "cart": { "currency": "NOK", "prices_include_vat": true, "lines": [
            { "name": "Stol", "quantity": "1", "unit_price": 29990, "vat_rate": "25", "discount": 0 } ] } })
    }

    #[test]
    fn main_window_can_quote_through_ipc() {
        let app = app();
        let main = main_window(&app);
        let view = get_ipc_response(&main, request("quote_cart", cart_body()))
            .expect("the main window may call quote_cart")
            .deserialize::<serde_json::Value>()
            .unwrap();
        assert_eq!(view["quote"]["total"]["vat"], 5998);
        assert_eq!(view["chargeable"], true);
    }

    #[test]
    fn a_webview_with_an_unknown_label_cannot_invoke_app_commands() {
        let app = app();
        // Provider checkout windows get labels like this one: no capability names them.
        let intruder = WebviewWindowBuilder::new(&app, "checkout-1", Default::default())
            .build()
            .unwrap();
        for cmd in ["quote_cart", "app_info", "ready"] {
            let res = get_ipc_response(&intruder, request(cmd, cart_body()));
            assert!(
                res.is_err(),
                "{cmd} must be refused for an unknown window label"
            );
        }
    }

    use tauri::Manager;
}
