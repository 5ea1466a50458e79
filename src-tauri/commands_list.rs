/// Every IPC command the app exposes. Each one gets an `allow-<name>` permission from
/// tauri-build; `tauri.conf.json` grants them to the `main` window (and `customer-state` to the
/// customer display). Provider checkout windows (`checkout-*`) get none.
pub const COMMANDS: &[&str] = &[
    "app_info",
    "entry_to_line",
    "parse_amount",
    "quote_cart",
    "new_reference",
    "charge",
    "session",
    "refresh_session",
    "cancel_session",
    "review_session",
    "history",
    "export_csv",
    "settings_view",
    "set_setting",
    "set_credential",
    "test_connection",
    "save_product",
    "remove_product",
    "open_customer_display",
    "customer_state",
    "ready",
];
