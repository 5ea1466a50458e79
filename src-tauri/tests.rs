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

/// Pays a charged demo session on the demo's hosted page (as the customer's browser would),
/// then asks the provider through the command layer; returns the paid session's view.
fn pay(main: &WebviewWindow<MockRuntime>, charged: &serde_json::Value) -> serde_json::Value {
    customer_pays(charged);
    let refreshed = call(
        main,
        "refresh_session",
        serde_json::json!({ "id": charged["id"] }),
    );
    assert_eq!(refreshed["status"], "paid", "{refreshed}");
    refreshed
}

/// The customer presses Pay on a charged demo session's hosted page (as their browser would).
fn customer_pays(charged: &serde_json::Value) {
    let url = charged["checkout_url"].as_str().unwrap();
    let paid = kassa_core::http::Http::new(kassa_core::http::HttpConfig::default())
        .unwrap()
        .send(
            "browser",
            &kassa_core::http::Request::new(kassa_core::http::Method::Post, format!("{url}/pay")),
        )
        .unwrap();
    assert_eq!(paid.status, 303);
}

/// The error a command answers with (the UI gets it as `{code, message, ...}`).
fn call_err(
    w: &WebviewWindow<MockRuntime>,
    cmd: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    match get_ipc_response(w, request(cmd, body)) {
        Ok(v) => panic!(
            "{cmd} was expected to fail: {:?}",
            v.deserialize::<serde_json::Value>()
        ),
        Err(e) => e,
    }
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

/// The empty cart's view `app_info` carries (the counter's totals at start, drawn without a
/// quote) is what `quote_cart` answers for an empty cart, in the shop's currency and locale.
#[test]
fn app_info_carries_the_empty_carts_quote_in_the_shops_currency() {
    let dir = data_dir("empty-cart");
    let settings = serde_json::json!({ "shop.currency": "EUR", "shop.locale": "en" });
    std::fs::write(dir.join("settings.json"), settings.to_string()).unwrap();
    let app = app_in(&dir);
    let main = window(&app, "main");
    let info = call(&main, "app_info", serde_json::json!({}));
    let empty = serde_json::json!({ "currency": "EUR", "prices_include_vat": true, "lines": [] });
    let quoted = call(&main, "quote_cart", serde_json::json!({ "cart": empty }));
    assert_eq!(info["empty_cart"], quoted);
    assert_eq!(info["empty_cart"]["chargeable"], false);
    let gross = info["empty_cart"]["gross"].as_str().unwrap();
    assert_eq!(gross, "EUR\u{a0}0.00", "the shop's currency in its locale");
    // When the page asks for a fresh web process (app.js, `quietMoment`): the default.
    assert_eq!(
        info["page_renewal"],
        serde_json::json!({ "after_sales": 100, "quiet_ms": 30000 })
    );
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
    for cmd in super::COMMANDS_FOR_TESTS
        .iter()
        .filter(|c| **c != "customer_state")
    {
        let err = format!(
            "{:?}",
            get_ipc_response(&customer, request(cmd, serde_json::json!({}))).expect_err(cmd)
        );
        assert!(
            err.contains("not allowed"),
            "{cmd} refused for the customer display: {err}"
        );
    }
    // It listens for the status and refunds; it may not send events to the other windows.
    let emit = serde_json::json!({ "event": super::SESSION_EVENT, "payload": {} });
    let err = format!(
        "{:?}",
        call_err(&customer, "plugin:event|emit", emit.clone())
    );
    assert!(err.contains("not allowed"), "emit refused: {err}");
    let listen = serde_json::json!({ "event": super::windows::REFUND_EVENT,
        "target": { "kind": "Any" }, "handler": 7 });
    call(&customer, "plugin:event|listen", listen);
    // The counter window still may (its capability is core:event:default).
    call(&window(&app, "main"), "plugin:event|emit", emit);
}

/// A sale of two lines paid on the demo provider, refunded in two parts through the commands
/// the history's refund form calls: each preview is what the refund then gives back, the
/// refunded amount is their sum, and a third refund is refused before anything is sent.
#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn a_paid_sale_is_refunded_in_two_parts_through_the_commands() {
    use tauri::Listener;
    let app = app_in(&data_dir("refund"));
    let main = window(&app, "main");
    let customer = window(&app, "customer");
    let shown = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = shown.clone();
    customer.listen(super::windows::REFUND_EVENT, move |e| {
        seen.lock().unwrap().push(e.payload().to_string());
    });
    let leaked = std::sync::Arc::new(std::sync::Mutex::new(0));
    let count = leaked.clone();
    main.listen(super::windows::REFUND_EVENT, move |_| {
        *count.lock().unwrap() += 1;
    });
    let mut two = cart(&format!("REFUND-{}", std::process::id()));
    two["lines"].as_array_mut().unwrap().push(serde_json::json!(
        { "name": "Kaffe", "quantity": "2", "unit_price": 3990, "vat_rate": "15", "discount": 0 }));
    let charged = call(
        &main,
        "charge",
        serde_json::json!({ "cart": two, "provider": "demo", "presentation": "qr" }),
    );
    let id = charged["id"].as_str().unwrap().to_string();
    let paid = pay(&main, &charged);
    assert_eq!(paid["can_refund"], true, "{paid}");
    assert_eq!(paid["can_void"], false, "captured at sale: {paid}");

    // First part: one of the two coffees.
    let first = serde_json::json!({ "by": "lines", "lines": [{ "index": 1, "quantity": "1" }] });
    let preview = call(
        &main,
        "refund_preview",
        serde_json::json!({ "id": id, "what": first }),
    );
    assert_eq!(preview["amount_minor"], 3990, "{preview}");
    assert_eq!(
        preview["vat_rows"].as_array().unwrap().len(),
        1,
        "{preview}"
    );
    assert_eq!(preview["vat_rows"][0]["vat_rate"], "15");
    let after = call(
        &main,
        "refund_session",
        serde_json::json!({ "id": id, "what": first, "reason": "returned" }),
    );
    let op = after["operations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (op["kind"].as_str(), op["state"].as_str()),
        (Some("refund"), Some("done")),
        "{op}"
    );
    assert_eq!(op["amount_minor"], preview["amount_minor"]);
    assert_eq!(
        op["vat_rows"], preview["vat_rows"],
        "the refund is what the form showed"
    );
    assert_eq!(after["refunded_minor"], 3990);

    // The rest, whole: the preview says what is left, the refund gives exactly that.
    let rest = serde_json::json!({ "by": "whole" });
    let preview = call(
        &main,
        "refund_preview",
        serde_json::json!({ "id": id, "what": rest }),
    );
    assert_eq!(preview["amount_minor"], 29990 + 3990, "{preview}");
    let after = call(
        &main,
        "refund_session",
        serde_json::json!({ "id": id, "what": rest, "reason": null }),
    );
    assert_eq!(after["refunded_minor"], 29990 + 2 * 3990);
    assert_eq!(after["refunded_amount"], after["amount"]);
    assert_eq!(after["can_refund"], false, "nothing left: {after}");
    let kinds: Vec<_> = after["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["kind"].as_str().unwrap(),
                o["state"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(kinds, ["capture done", "refund done", "refund done"]);

    // Each refused before anything is sent, with the cause's code: nothing is left to refund
    // (preview or refund), a captured sale is not voided, nothing is left to capture, and the
    // demo refunds by API, so a refund made elsewhere is not recorded.
    let refusals = [
        (
            "refund_preview",
            serde_json::json!({ "what": rest }),
            "amount_exceeds",
        ),
        (
            "refund_session",
            serde_json::json!({ "what": { "by": "amount", "amount": 100 } }),
            "amount_exceeds",
        ),
        ("void_session", serde_json::json!({}), "not_voidable"),
        (
            "capture_session",
            serde_json::json!({ "amount": null }),
            "amount_exceeds",
        ),
        (
            "record_refund",
            serde_json::json!({ "what": rest, "note": "bank transfer" }),
            "unsupported",
        ),
    ];
    for (cmd, mut args, code) in refusals {
        args["id"] = id.clone().into();
        let err = call_err(&main, cmd, args);
        assert_eq!(err["code"], code, "{cmd}: {err}");
    }
    // A quantity that is not one is refused beside its field.
    let bad = serde_json::json!({ "by": "lines", "lines": [{ "index": 0, "quantity": "x" }] });
    let err = call_err(
        &main,
        "refund_preview",
        serde_json::json!({ "id": id, "what": bad }),
    );
    assert_eq!(err["problems"][0]["path"], "lines[0].quantity", "{err}");

    // The customer display was told of both refunds, with their amounts; the event is
    // addressed to it, not to the counter window.
    let shown = shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 2, "{shown:?}");
    let amounts: Vec<String> = shown
        .iter()
        .map(|p| {
            serde_json::from_str::<serde_json::Value>(p).unwrap()["amount"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let ops = after["operations"].as_array().unwrap();
    assert_eq!(
        amounts,
        [
            ops[1]["amount"].as_str().unwrap(),
            ops[2]["amount"].as_str().unwrap()
        ]
    );
    assert_eq!(
        *leaked.lock().unwrap(),
        0,
        "the refund event is addressed to the customer display"
    );
}

/// 100 rapid charges of the same cart through the command layer: one session at the provider.
/// A loopback TCP listener standing in for the receipt printer: the bytes of each connection.
fn tcp_printer(prints: usize) -> (String, std::thread::JoinHandle<Vec<Vec<u8>>>) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("tcp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let got = std::thread::spawn(move || {
        (0..prints)
            .map(|_| {
                let (mut conn, _) = listener.accept().unwrap();
                let mut bytes = Vec::new();
                conn.read_to_end(&mut bytes).unwrap();
                bytes
            })
            .collect()
    });
    (url, got)
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn a_receipt_prints_once_then_as_the_one_copy_through_the_commands() {
    let app = app_in(&data_dir("receipt"));
    let main = window(&app, "main");
    // No operator configured: the owner is at the till and nobody is asked for a PIN.
    let ops = call(&main, "operators_state", serde_json::json!({}));
    assert_eq!(ops["current"]["id"], 1, "{ops}");
    assert_eq!(ops["operators"], serde_json::json!([]), "{ops}");
    let charged = call(
        &main,
        "charge",
        serde_json::json!({ "cart": cart(&format!("RCPT-{}", std::process::id())), "provider": "demo", "presentation": "qr" }),
    );
    let id = charged["id"].as_str().unwrap().to_string();
    // Not paid yet: no receipt.
    let err = call_err(&main, "receipt", serde_json::json!({ "id": id }));
    assert_eq!(err["code"], "no_receipt", "{err}");
    pay(&main, &charged);
    let r = call(&main, "receipt", serde_json::json!({ "id": id }));
    assert_eq!(
        (r["kind"].as_str(), r["number"].as_i64()),
        (Some("sale"), Some(1)),
        "{r}"
    );
    let text: Vec<&str> = r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let text = text.join("\n");
    assert!(
        text.contains("Salgskvittering") && text.contains("DEMO"),
        "{text}"
    );
    assert!(r["issued"].is_null());
    // No printer set: named.
    let err = call_err(
        &main,
        "print_receipt",
        serde_json::json!({ "id": id, "copy": false }),
    );
    assert_eq!(err["code"], "no_printer", "{err}");
    let (url, got) = tcp_printer(2);
    call(
        &main,
        "set_setting",
        serde_json::json!({ "key": "printer.url", "value": url }),
    );
    let printed = call(
        &main,
        "print_receipt",
        serde_json::json!({ "id": id, "copy": false }),
    );
    assert!(printed["copy_seq"].is_null(), "{printed}");
    // Again without the copy: refused, and nothing more reaches the printer.
    let err = call_err(
        &main,
        "print_receipt",
        serde_json::json!({ "id": id, "copy": false }),
    );
    assert_eq!(err["code"], "receipt_issued", "{err}");
    let copy = call(
        &main,
        "print_receipt",
        serde_json::json!({ "id": id, "copy": true }),
    );
    assert!(copy["copy_seq"].as_i64().is_some(), "{copy}");
    let err = call_err(
        &main,
        "print_receipt",
        serde_json::json!({ "id": id, "copy": true }),
    );
    assert_eq!(err["code"], "copy_exists", "{err}");
    let prints = got.join().unwrap();
    let ascii = |b: &[u8]| {
        b.iter()
            .filter(|c| c.is_ascii_graphic() || **c == b' ')
            .map(|c| *c as char)
            .collect::<String>()
    };
    assert!(ascii(&prints[0]).contains("Salgskvittering") && !ascii(&prints[0]).contains("KOPI"));
    assert!(ascii(&prints[1]).contains("KOPI"));
    // A wrong PIN for an operator that does not exist is refused by name.
    let err = call_err(
        &main,
        "approve",
        serde_json::json!({ "id": 7, "pin": "0000" }),
    );
    assert!(
        ["no_such_operator", "wrong_pin"].contains(&err["code"].as_str().unwrap()),
        "{err}"
    );
}

/// The header's hub indicator: nothing without `hub.url`; with it, what waits in the outbox
/// (a paid sale's session and journal rows), and no connection state until a sender round has
/// run (the mock app starts no sender). Whole shop with the hub unreachable: `hub_unreachable`.
#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn the_hub_indicator_shows_nothing_without_a_hub_and_what_waits_with_one_and_whole_shop_names_an_unreachable_hub(
) {
    let app = app_in(&data_dir("hub"));
    let main = window(&app, "main");
    let st = call(&main, "hub_status", serde_json::json!({}));
    assert_eq!(st["configured"], false, "{st}");
    call(
        &main,
        "set_setting",
        serde_json::json!({ "key": "hub.url", "value": "postgres://kassa@127.0.0.1:9/shop" }),
    );
    let before = call(&main, "hub_status", serde_json::json!({}));
    assert_eq!(before["configured"], true, "{before}");
    assert!(before["connected"].is_null(), "{before}");
    let charged = call(
        &main,
        "charge",
        serde_json::json!({ "cart": cart(&format!("HUB-{}", std::process::id())), "provider": "demo", "presentation": "qr" }),
    );
    pay(&main, &charged);
    let after = call(&main, "hub_status", serde_json::json!({}));
    assert!(
        after["waiting"].as_i64().unwrap() > before["waiting"].as_i64().unwrap(),
        "a paid sale waits for the hub: {before} then {after}"
    );
    // Whole shop with nobody at the hub's port: the code the UI words for a cashier, and this
    // till's own history still answers from SQLite.
    let err = get_ipc_response(
        &main,
        request("shop_history", serde_json::json!({ "limit": 100 })),
    )
    .expect_err("nobody listens on port 9");
    assert_eq!(err["code"], "hub_unreachable", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("127.0.0.1"),
        "{err}"
    );
    let own = call(&main, "history", serde_json::json!({ "query": {} }));
    assert_eq!(own["sessions"].as_array().unwrap().len(), 1, "{own}");
}

/// Operators added and removed on the settings screen: the fields' problems come with the
/// codes the UI translates, only a manager may do it, the PINs never come back.
#[test]
#[ignore = "needs the OS keyring (make test): the journal's key is made when the till opens"]
fn operators_are_added_and_removed_through_the_commands_by_a_manager() {
    let app = app_in(&data_dir("operators"));
    let main = window(&app, "main");
    let add = |name: &str, role: &str, pin: &str, again: &str| serde_json::json!({ "name": name, "role": role, "pin": pin, "pinAgain": again });
    let err = call_err(
        &main,
        "add_operator",
        add("Ola", "manager", "48120", "48121"),
    );
    assert_eq!(err["code"], "invalid_input", "{err}");
    assert_eq!(err["problems"][0]["path"], "pin_again", "{err}");
    assert_eq!(err["problems"][0]["code"], "pins_differ", "{err}");
    let err = call_err(&main, "add_operator", add("", "manager", "12", "12"));
    let codes: Vec<&str> = err["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["text_length", "pin"], "{err}");
    let err = call_err(&main, "add_operator", add("Ola", "owner", "48120", "48120"));
    assert_eq!(err["code"], "invalid_input", "{err}");
    let ola = call(
        &main,
        "add_operator",
        add("Ola", "manager", "48120", "48120"),
    );
    assert_eq!(
        (ola["id"].as_i64(), ola["role"].as_str()),
        (Some(1), Some("manager"))
    );
    assert!(!ola.to_string().contains("48120"), "{ola}");
    // The owner's PIN-less turn is over: the new manager logs in.
    let st = call(&main, "operators_state", serde_json::json!({}));
    assert!(st["current"].is_null(), "{st}");
    call(
        &main,
        "login",
        serde_json::json!({ "id": 1, "pin": "48120" }),
    );
    call(
        &main,
        "add_operator",
        add("Kari", "cashier", "730215", "730215"),
    );
    call(
        &main,
        "login",
        serde_json::json!({ "id": 2, "pin": "730215" }),
    );
    let err = call_err(&main, "remove_operator", serde_json::json!({ "id": 1 }));
    assert_eq!(err["code"], "manager_required", "{err}");
    call(
        &main,
        "approve",
        serde_json::json!({ "id": 1, "pin": "48120" }),
    );
    let err = call_err(&main, "remove_operator", serde_json::json!({ "id": 1 }));
    assert_eq!(
        err["code"], "invalid_input",
        "the last manager stays: {err}"
    );
    call(
        &main,
        "login",
        serde_json::json!({ "id": 1, "pin": "48120" }),
    );
    let gone = call(&main, "remove_operator", serde_json::json!({ "id": 2 }));
    assert_eq!(gone["name"], "Kari");
    let st = call(&main, "operators_state", serde_json::json!({}));
    assert_eq!(st["operators"].as_array().unwrap().len(), 1, "{st}");
    // A setting's problem carries its code and the values its text names.
    let err = call_err(
        &main,
        "set_setting",
        serde_json::json!({ "key": "printer.columns", "value": "80" }),
    );
    assert_eq!(err["problems"][0]["code"], "printer_columns", "{err}");
    assert_eq!(err["problems"][0]["vars"]["max"], "64", "{err}");
    assert!(
        err["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("characters per line"),
        "the English text stays for the CLI: {err}"
    );
}

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
    let state = kassa_sandbox::demo::read_state(&dir);
    let sessions = state["sessions"].as_object().unwrap().values();
    assert_eq!(
        sessions
            .filter(|s| s["order"]["merchant_reference"] == reference.as_str())
            .count(),
        1,
        "one provider session for {reference}: {state}"
    );
    kassa_sandbox::ledger_journal_keys(&dir);
}

/// A link sale through the commands: a bad phone number is refused naming its field (nothing
/// is created), then the link is made and sent by SMS, listed on the Links screen, paid on the
/// demo's page and seen paid by the one background follower (no refresh asked; opening the
/// sale only nudged it), which tells every screen; then it leaves the Links list, and its
/// receipt is the journal's as for a counter sale.
#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn a_link_sale_is_listed_then_seen_paid_by_the_background_follower() {
    use tauri::Listener;
    let app = app_in(&data_dir("link-sale"));
    let main = window(&app, "main");
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    app.listen_any(super::SESSION_EVENT, move |e| {
        let _ = tx.send(serde_json::from_str(e.payload()).unwrap());
    });
    let reference = format!("LINK-{}", std::process::id());
    let bad = call_err(
        &main,
        "charge",
        serde_json::json!({ "cart": cart(&reference), "provider": "demo", "presentation": "qr",
            "link": { "lifetime": "24h", "phone": "912 34 567" } }),
    );
    assert_eq!(bad["code"], "invalid_input", "{bad}");
    assert_eq!(bad["problems"][0]["path"], "phone", "{bad}");
    assert_eq!(
        call(&main, "links", serde_json::json!({})),
        serde_json::json!([])
    );

    let charged = call(
        &main,
        "charge",
        serde_json::json!({ "cart": cart(&reference), "provider": "demo", "presentation": "webview",
            "link": { "lifetime": "7d", "phone": "+47 912 34 567" } }),
    );
    assert_eq!(charged["sale"], "link", "{charged}");
    assert_eq!(charged["status"], "open", "{charged}");
    assert_eq!(charged["sent"]["channel"], "sms", "{charged}");
    assert_eq!(charged["contact"], charged["sent"]["to"], "{charged}");
    assert!(
        !charged["contact"].as_str().unwrap().contains("91234"),
        "the contact is masked: {charged}"
    );
    // A link is never shown in a window here: its QR code is.
    assert!(charged["qr_svg"].is_string(), "{charged}");
    assert!(app
        .get_webview_window(&format!("checkout-{}", charged["id"].as_str().unwrap()))
        .is_none());
    let links = call(&main, "links", serde_json::json!({}));
    assert_eq!(links.as_array().unwrap().len(), 1, "{links}");
    assert_eq!(links[0]["id"], charged["id"]);

    // The customer pays later, elsewhere; staff open the sale (a nudge, not a status read).
    customer_pays(&charged);
    let opened = call(&main, "session", serde_json::json!({ "id": charged["id"] }));
    assert_eq!(
        opened["status"], "open",
        "opening asks nothing itself: {opened}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let seen = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let v = rx
            .recv_timeout(left)
            .expect("the follower reports the payment");
        if v["id"] == charged["id"] && v["status"] == "paid" {
            break v;
        }
    };
    assert_eq!(seen["sale"], "link", "{seen}");
    assert_eq!(
        call(&main, "links", serde_json::json!({})),
        serde_json::json!([])
    );
    let receipt = call(&main, "receipt", serde_json::json!({ "id": charged["id"] }));
    assert!(receipt["number"].is_number(), "{receipt}");
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
    let refreshed = pay(&main, &charged);
    assert_eq!(refreshed["operations"][0]["kind"], "capture", "{refreshed}");
    let paid_session = call(&main, "session", serde_json::json!({ "id": id }));
    // Then a refund by lines: the form's preview, and the sale's view after it.
    let what = serde_json::json!({ "by": "lines", "lines": [{ "index": 0, "quantity": "1" }] });
    let preview = call(
        &main,
        "refund_preview",
        serde_json::json!({ "id": id, "what": what }),
    );
    let refunded = call(
        &main,
        "refund_session",
        serde_json::json!({ "id": id, "what": what, "reason": "wire" }),
    );
    let got = serde_json::json!({
        "app_info": shape(&call(&main, "app_info", serde_json::json!({}))),
        "quote_cart": shape(&call(&main, "quote_cart", serde_json::json!({ "cart": cart("W") }))),
        "charge": shape(&charged),
        "session": shape(&open_session),
        "paid_session": shape(&paid_session),
        "refund_preview": shape(&preview),
        "receipt": shape(&call(&main, "receipt", serde_json::json!({ "id": id }))),
        "operators_state": shape(&call(&main, "operators_state", serde_json::json!({}))),
        // The refund just made: the sale's newest operation, with its lines.
        "refund_operation": shape(refunded["operations"].as_array().unwrap().last().unwrap()),
        "history": shape(&call(&main, "history", serde_json::json!({ "query": {} }))),
        "settings_view": shape(&call(&main, "settings_view", serde_json::json!({}))),
        // An X report of the day so far (a sale and its refund): its figures and printout.
        "make_report": shape(&call(&main, "make_report", serde_json::json!({ "z": false }))),
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

/// The READY line the benchmarks parse: the page's mark names only (a name with a space or an
/// `=` would break the line's words), each rounded to the millisecond.
#[test]
fn the_ready_line_keeps_only_the_pages_mark_names() {
    let marks = vec![
        ("scripts".to_string(), 33.4),
        ("bad name".to_string(), 1.0),
        ("x=1".to_string(), 2.0),
        (String::new(), 3.0),
        ("ready".to_string(), 144.0),
    ];
    assert_eq!(
        super::ready_line("KASSA_READY", 390, Some(marks)),
        "KASSA_READY 390 ms scripts=33 ready=144"
    );
    assert_eq!(
        super::ready_line("BLANK_READY", 5, None),
        "BLANK_READY 5 ms"
    );
}

/// The main window's initialization script carries what the page's start would ask for:
/// `app_info`'s answer, the same as the command's, and a sale reference.
#[test]
fn the_boot_script_carries_app_infos_answer_once_the_till_is_open() {
    let dir = data_dir("boot");
    let app = app_in(&dir);
    let desk = app.state::<super::Desk>();
    let started = std::time::Instant::now();
    while !desk.opened() {
        assert!(started.elapsed().as_secs() < 30, "the till opens");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let script = super::boot_script(&desk).expect("a boot script once the till is open");
    let json = script
        .split_once("window.kassaBoot = ")
        .and_then(|(_, rest)| rest.rsplit_once("; })();"))
        .map(|(json, _)| json)
        .unwrap_or_else(|| panic!("the script sets window.kassaBoot: {script}"));
    let boot: serde_json::Value = serde_json::from_str(json).unwrap();
    let asked = call(&window(&app, "main"), "app_info", serde_json::json!({}));
    assert_eq!(boot["info"], asked, "the same as app_info answers");
    assert_eq!(boot["info"]["shop_name"], "Kassa");
    let reference = boot["reference"].as_str().unwrap();
    assert!(
        reference.starts_with('K') && reference.len() > 20,
        "a sale reference: {reference}"
    );
}

/// While the till is still opening, the window gets no boot script (the page then asks; the
/// window waits for the till at most `BOOT_WAIT`).
#[test]
fn no_boot_script_while_the_till_is_opening() {
    let (open, opening) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let _ = opening.recv();
        Err(kassa_core::till::TillError::new(
            kassa_core::code::Code::Internal,
            "closed by the test",
        ))
    });
    let desk = super::Desk {
        started: std::time::Instant::now(),
        dir: Err("none".into()),
        till: std::sync::Mutex::new(super::TillSlot::Opening(Some(thread))),
        follower: std::sync::Mutex::new(None),
        customer: std::sync::Mutex::new(None),
        hub: Default::default(),
        page_renewal: super::PageRenewal::DEFAULT,
    };
    assert!(
        !desk.wait_opened(std::time::Duration::from_millis(20)),
        "still opening"
    );
    assert!(super::boot_script(&desk).is_none());
    open.send(()).unwrap();
    assert!(
        desk.wait_opened(std::time::Duration::from_secs(10)),
        "opened"
    );
    let script = super::boot_script(&desk).expect("a boot script once the opening ended");
    assert!(
        script.contains("closed by the test"),
        "the till's error is the page's to show"
    );
}

#[test]
fn page_renewal_reads_sales_and_seconds_or_off() {
    use super::PageRenewal;
    let at = |after_sales, quiet_ms| {
        Some(PageRenewal {
            after_sales,
            quiet_ms,
        })
    };
    assert_eq!(PageRenewal::parse("2,3"), at(2, 3000));
    assert_eq!(PageRenewal::parse(" 100 , 30 "), at(100, 30_000));
    assert_eq!(PageRenewal::parse("off"), at(0, 0));
    for bad in [
        "",
        "100",
        "0,30",
        "100,0",
        "-1,30",
        "1.5,30",
        "100,30,1",
        "100,4294968",
        "on",
    ] {
        assert_eq!(PageRenewal::parse(bad), None, "{bad:?}");
    }
    assert_eq!(
        PageRenewal::DEFAULT,
        PageRenewal {
            after_sales: 100,
            quiet_ms: 30_000
        }
    );
}
