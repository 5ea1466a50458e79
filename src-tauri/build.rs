//! Declares the app's IPC commands so that each needs an explicit capability grant per window.
fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(kassa_app_commands::COMMANDS)),
    )
    .expect("failed to run tauri-build");
}

/// The app's command names, shared with `src-tauri/lib.rs` through `include!` so the list is
/// written once.
mod kassa_app_commands {
    include!("commands_list.rs");
}
