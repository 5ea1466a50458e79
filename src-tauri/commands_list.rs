/// Every IPC command the app exposes. Each one gets an `allow-<name>` permission from
/// tauri-build; `tauri.conf.json` grants them to the `main` window only.
pub const COMMANDS: &[&str] = &["app_info", "entry_to_line", "parse_amount", "quote_cart", "ready"];
