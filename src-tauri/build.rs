//! Declares the app's IPC commands so that each needs an explicit capability grant per window.
fn main() {
    // The package's examples share its app manifest: the blank window's bench-only command is
    // declared here too. No Kassa window is granted it, and Kassa has no handler for it.
    let commands: Vec<&'static str> = kassa_app_commands::COMMANDS
        .iter()
        .chain(BLANK_WINDOW_COMMANDS)
        .copied()
        .collect();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands.leak())),
    )
    .expect("failed to run tauri-build");
}

/// `examples/blank_window.rs`'s command besides `ready`: the IPC floor `benches/desktop.rs`
/// measures (a constant view answered at once).
const BLANK_WINDOW_COMMANDS: &[&str] = &["floor_view"];

/// The app's command names, shared with `src-tauri/lib.rs` through `include!` so the list is
/// written once.
mod kassa_app_commands {
    include!("commands_list.rs");
}
