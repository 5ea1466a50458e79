//! The IPC layer with Tauri's mock runtime (no display): permissions per window label, the
//! idempotent charge through the command layer, and the wire shapes `ui/` relies on.

use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

/// A fresh data directory per test.
fn data_dir(test: &str) -> std::path::PathBuf {
    // Under `make test`, among the artifacts the secrets audit scans.
    let base = kassa_sandbox::test_artifacts("data").unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("kassa-ipc-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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

fn app_in(dir: &std::path::Path) -> tauri::App<MockRuntime> {
    super::builder(mock_builder(), Ok(dir.to_path_buf()))
        .build(tauri::generate_context!())
        .expect("app builds with the mock runtime")
}

/// The mock runtime does not open the config's windows; open `label` the way the config does.
fn window(app: &tauri::App<MockRuntime>, label: &str) -> WebviewWindow<MockRuntime> {
    match app.get_webview_window(label) {
        Some(w) => w,
        None => WebviewWindowBuilder::new(app, label, Default::default())
            .build()
            .unwrap(),
    }
}

fn call(w: &WebviewWindow<MockRuntime>, cmd: &str, body: serde_json::Value) -> serde_json::Value {
    get_ipc_response(w, request(cmd, body))
        .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
        .deserialize::<serde_json::Value>()
        .unwrap()
}

fn cart(reference: &str) -> serde_json::Value {
    serde_json::json!({ "currency": "NOK", "prices_include_vat": true, "reference": reference,
        "lines": [ { "name": "Stol", "quantity": "1", "unit_price": 29990, "vat_rate": "25", "discount": 0 } ] })
}

#[test]
fn main_window_can_quote_through_ipc() {
    let app = app_in(&data_dir("quote"));
    let main = window(&app, "main");
    let view = call(
        &main,
        "quote_cart",
        serde_json::json!({ "cart": cart("T-1") }),
    );
    assert_eq!(view["quote"]["total"]["vat"], 5998);
    assert_eq!(view["chargeable"], true);
}

#[test]
fn a_webview_with_an_unknown_label_cannot_invoke_app_commands() {
    let app = app_in(&data_dir("intruder"));
    // Provider checkout windows get labels like this one: no capability names them.
    let intruder = window(&app, "checkout-0190-test");
    for cmd in super::COMMANDS_FOR_TESTS {
        let res = get_ipc_response(&intruder, request(cmd, serde_json::json!({})));
        let err = format!("{:?}", res.expect_err(cmd));
        assert!(
            err.contains("not allowed"),
            "{cmd} refused as not allowed: {err}"
        );
    }
}

/// Every registered command is granted to the counter window: a command added to
/// `commands_list.rs` without its permission in `tauri.conf.json` (or without its handler)
/// fails here. Each is called without arguments, so those that take some are refused for that
/// reason, after the permission check.
#[test]
fn the_main_window_may_call_every_registered_command() {
    let app = app_in(&data_dir("main-acl"));
    let main = window(&app, "main");
    for cmd in super::COMMANDS_FOR_TESTS {
        if let Err(e) = get_ipc_response(&main, request(cmd, serde_json::json!({}))) {
            let e = format!("{e:?}");
            assert!(
                !e.contains("not allowed") && !e.contains("not found"),
                "{cmd} from the main window: {e}"
            );
        }
    }
}

#[test]
fn the_customer_display_may_only_read_its_state() {
    let app = app_in(&data_dir("customer"));
    let customer = window(&app, "customer");
    call(&customer, "customer_state", serde_json::json!({}));
    for cmd in ["charge", "set_credential", "history", "settings_view"] {
        assert!(
            get_ipc_response(&customer, request(cmd, serde_json::json!({}))).is_err(),
            "{cmd} refused for the customer display"
        );
    }
}

/// 100 rapid charges of the same cart through the command layer: one session at the provider.
#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn repeated_charges_of_one_cart_start_one_session() {
    let dir = data_dir("idempotent");
    let app = app_in(&dir);
    let main = window(&app, "main");
    let reference = format!("IDEM-{}", std::process::id());
    let body =
        serde_json::json!({ "cart": cart(&reference), "provider": "demo", "presentation": "qr" });
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (main, body) = (&main, &body);
                s.spawn(move || {
                    (0..25)
                        .map(|_| {
                            call(main, "charge", body.clone())["id"]
                                .as_str()
                                .unwrap()
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(ids.len(), 100);
    assert!(
        ids.iter().all(|id| id == &ids[0]),
        "one session id for all 100 charges"
    );
    let page = call(
        &main,
        "history",
        serde_json::json!({ "query": { "search": reference } }),
    );
    assert_eq!(
        page["sessions"].as_array().unwrap().len(),
        1,
        "one session logged"
    );
    // The demo sandbox saw exactly one create.
    let state = std::fs::read_to_string(dir.join(kassa_sandbox::demo::STATE_FILE)).unwrap();
    assert_eq!(
        state.matches(&reference).count(),
        1,
        "one provider session for {reference}"
    );
    kassa_sandbox::ledger_journal_keys(&dir);
}

/// Reduces a JSON value to its shape: object keys with their shapes, arrays by their first
/// element, scalars by type.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as V;
    match v {
        V::Object(m) => V::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        V::Array(a) => V::Array(a.first().map(shape).into_iter().collect()),
        V::String(_) => "string".into(),
        V::Number(_) => "number".into(),
        V::Bool(_) => "bool".into(),
        V::Null => "null".into(),
    }
}

/// The shapes of what `ui/` receives are pinned in `ui/wire-shapes.json`. A change to a Rust
/// type that the UI reads fails here; update the UI, then rerun with `KASSA_BLESS=1`.
#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn the_wire_shapes_the_ui_reads_are_pinned() {
    let dir = data_dir("wire");
    let app = app_in(&dir);
    let main = window(&app, "main");
    let reference = format!("WIRE-{}", std::process::id());
    let charged = call(
        &main,
        "charge",
        serde_json::json!({ "cart": cart(&reference), "provider": "demo", "presentation": "qr" }),
    );
    let id = charged["id"].as_str().unwrap().to_string();
    let err = get_ipc_response(
        &main,
        request("entry_to_line", serde_json::json!({ "entry": { "name": "x", "quantity": "1", "unit_price": "abc", "vat_rate": "25" } })),
    )
    .expect_err("a bad price is refused");
    let err: serde_json::Value = match err {
        serde_json::Value::Object(_) => err,
        other => panic!("errors reach the UI as objects: {other:?}"),
    };
    let open_session = call(&main, "session", serde_json::json!({ "id": id }));
    // The same sale paid on the demo's page: a paid session's view, with its capture at sale
    // in the operations.
    let url = charged["checkout_url"].as_str().unwrap();
    let paid = kassa_core::http::Http::new(kassa_core::http::HttpConfig::default())
        .unwrap()
        .send(
            "browser",
            &kassa_core::http::Request::new(kassa_core::http::Method::Post, format!("{url}/pay")),
        )
        .unwrap();
    assert_eq!(paid.status, 303);
    let refreshed = call(&main, "refresh_session", serde_json::json!({ "id": id }));
    assert_eq!(refreshed["status"], "paid");
    assert_eq!(refreshed["operations"][0]["kind"], "capture", "{refreshed}");
    let got = serde_json::json!({
        "app_info": shape(&call(&main, "app_info", serde_json::json!({}))),
        "quote_cart": shape(&call(&main, "quote_cart", serde_json::json!({ "cart": cart("W") }))),
        "charge": shape(&charged),
        "session": shape(&open_session),
        "paid_session": shape(&call(&main, "session", serde_json::json!({ "id": id }))),
        "history": shape(&call(&main, "history", serde_json::json!({ "query": {} }))),
        "settings_view": shape(&call(&main, "settings_view", serde_json::json!({}))),
        "error": shape(&err),
    });
    // Whether a credential is set depends on the machine's keyring: pin both possibilities.
    let mut got = got;
    for p in got["settings_view"]["providers"].as_array_mut().unwrap() {
        for s in p["secrets"].as_array_mut().unwrap() {
            s["set"] = "bool|null".into();
        }
    }
    got["settings_view"]["keyring_error"] = "string|null".into();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/wire-shapes.json");
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if std::env::var_os("KASSA_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    kassa_sandbox::ledger_journal_keys(&dir);
    let pinned = std::fs::read_to_string(&path).expect("ui/wire-shapes.json exists");
    assert_eq!(
        pinned, text,
        "the IPC wire shapes changed: update ui/ and rerun with KASSA_BLESS=1"
    );
}

/// A second launch finds the running app's socket and hands over; with no app running, the
/// socket left by a crash answers nothing and the launch goes ahead. (Unix only: elsewhere
/// there is no single-instance guard, see `windows.rs`.)
#[cfg(unix)]
#[test]
fn a_second_launch_hands_over_to_the_running_app() {
    let dir = data_dir("single");
    assert!(
        !super::windows::hand_over_to_running(&dir),
        "nobody runs yet"
    );
    let app = app_in(&dir);
    super::windows::listen_for_second_launch(app.handle(), &dir);
    assert!(
        super::windows::hand_over_to_running(&dir),
        "the running app answers"
    );
    drop(app);
    // A stale socket file (its listener gone, as after a crash) does not stop a launch.
    let stale = dir.join("stale");
    std::fs::create_dir_all(&stale).unwrap();
    drop(std::os::unix::net::UnixListener::bind(stale.join("kassa.sock")).unwrap());
    assert!(!super::windows::hand_over_to_running(&stale));
}
