//! The floor for Kassa's start and memory benchmarks (`benches/desktop.rs`): the smallest Tauri 2
//! app, built from the same workspace and profile as Kassa, with one window of Kassa's size and
//! an empty page, drawn as Kassa's windows are (`kassa_app::webkit_environment`). Once the page has painted (two animation frames, as `ui/app.js` waits) it
//! invokes `ready` through the same IPC path and ACL as Kassa (the `allow-ready` permission of
//! the app manifest in `src-tauri/build.rs`), which prints `BLANK_READY <ms> ms` on stdout.
//!
//! It also gives the floor of charge → QR: `floor_view`, which the bench invokes from a script
//! it runs in the page (never the page itself, so nothing of it runs at start), answers at once
//! a view shaped like the one Kassa's `charge` answers, around the QR code's SVG Kassa sent; the
//! script shows that SVG in an image as Kassa's page does and times the frame that has it.
//!
//! Not a demo of anything: it only exists to be measured. Build it with
//! `cargo build --release --example blank_window`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// When the app started, for the `ready` report.
struct Started(Instant);

/// Prints the time since start and the page's timing marks, as Kassa's `ready` does.
#[tauri::command]
fn ready(started: tauri::State<'_, Started>, marks: Option<Vec<(String, f64)>>) {
    let ms = started.0.elapsed().as_millis();
    println!("{}", kassa_app::ready_line("BLANK_READY", ms, marks));
}

/// The QR code's SVG `floor_view` answers in its view: the bench hands over the one Kassa sent
/// in its last charge (the same bytes), once, before it times anything.
#[derive(Default)]
struct FloorSvg(Mutex<String>);

/// The bench's IPC floor: with `svg`, keeps it and answers null; without, answers a view shaped
/// like the one Kassa's `charge` answers (a session's fields around the kept SVG, marked with a
/// count so that each answer is a new picture to the page), made in microseconds, at once on
/// the async runtime's thread that took the call, or (`blocking`) from a blocking thread as
/// Kassa's commands answer (`blocking` in `src-tauri/lib.rs`).
#[tauri::command]
async fn floor_view(
    kept: tauri::State<'_, FloorSvg>,
    blocking: bool,
    svg: Option<String>,
) -> Result<Option<serde_json::Value>, ()> {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    if let Some(svg) = svg {
        *kept.0.lock().unwrap() = svg;
        return Ok(None);
    }
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let svg = kept
        .0
        .lock()
        .unwrap()
        .replacen("<svg ", &format!("<svg data-n=\"{n}\" "), 1);
    let answer = move || {
        serde_json::json!({
            "id": format!("0190f1e2-floor-view-{n}"),
            "reference": "K-20261203-0001",
            "provider": "demo",
            "profile": "test",
            "status": "open",
            "is_final": false,
            "amount": "kr 49,90",
            "checkout_url": "http://127.0.0.1:40000/dintero/v1/view/T12345678.floorview",
            "qr_svg": svg,
            "sale": "counter",
            "can_cancel": true,
            "can_claim": false,
            "expires_at": "2026-12-03T22:30:00Z",
            "updated_at": "2026-12-03T22:15:00Z",
        })
    };
    Ok(Some(if blocking {
        tauri::async_runtime::spawn_blocking(answer).await.unwrap()
    } else {
        answer()
    }))
}

fn main() {
    // WebKit's rendering, JavaScript and memory as Kassa's windows have them (no accelerated
    // compositing, no JIT, glibc's mmap threshold fixed, unless the environment says otherwise),
    // so the floor is the same.
    kassa_app::webkit_environment();
    tauri::Builder::default()
        .manage(Started(Instant::now()))
        .manage(FloorSvg::default())
        .invoke_handler(tauri::generate_handler![ready, floor_view])
        .run(tauri::generate_context!(
            "examples/blank_window/tauri.conf.json"
        ))
        .expect("error while running the blank window");
}
