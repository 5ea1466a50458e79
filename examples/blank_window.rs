//! The floor for Kassa's start and memory benchmarks (`benches/desktop.rs`): the smallest Tauri 2
//! app, built from the same workspace and profile as Kassa, with one window of Kassa's size and
//! an empty page, drawn as Kassa's windows are (`kassa_app::prefer_software_rendering`). Once the page has painted (two animation frames, as `ui/app.js` waits) it
//! invokes `ready` through the same IPC path and ACL as Kassa (the `allow-ready` permission of
//! the app manifest in `src-tauri/build.rs`), which prints `BLANK_READY <ms> ms` on stdout.
//!
//! Not a demo of anything: it only exists to be measured. Build it with
//! `cargo build --release --example blank_window`.

use std::time::Instant;

/// When the app started, for the `ready` report.
struct Started(Instant);

/// Prints the time since start and the page's timing marks, as Kassa's `ready` does.
#[tauri::command]
fn ready(started: tauri::State<'_, Started>, marks: Option<Vec<(String, f64)>>) {
    let marks: String = marks
        .unwrap_or_default()
        .iter()
        .filter(|(name, _)| name.chars().all(|c| c.is_ascii_alphabetic()))
        .map(|(name, ms)| format!(" {name}={ms:.0}"))
        .collect();
    println!("BLANK_READY {} ms{marks}", started.0.elapsed().as_millis());
}

fn main() {
    // WebKit's rendering as Kassa's windows have it (no accelerated compositing unless
    // WEBKIT_DISABLE_COMPOSITING_MODE says otherwise), so the floor is drawn the same way.
    kassa_app::prefer_software_rendering();
    tauri::Builder::default()
        .manage(Started(Instant::now()))
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!(
            "examples/blank_window/tauri.conf.json"
        ))
        .expect("error while running the blank window");
}
