//! The SAF-T export at scale: `cargo bench -p kassa-core --bench saft_export [-- SALES]`
//! (default 1 000 000). Builds a journal of SALES signed sales receipts spread over 2026 in
//! `<target dir>/bench-saft/SALES/` (reused when it already has them; the build signs every receipt
//! with RSA-1024, so it takes a while once), then exports the whole year in a fresh process
//! and prints its time, the file's size and the process's peak resident memory (`VmHWM`),
//! which stays flat as SALES grows because the export streams. BENCHMARKS.md has the figures.
//!
//! A plain program like `session_log.rs`: one long operation on one large file.

use kassa_core::catalog::Catalog;
use kassa_core::receipt::Seller;
use kassa_core::saft::{export, ExportRequest};
use kassa_core::session::{SessionId, Status};
use kassa_core::store::{NewSession, SessionLog};
use kassa_core::{quote_document, PricedOrder};
use std::path::{Path, PathBuf};
use std::time::Instant;

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const YEAR_MS: i64 = 365 * 86_400_000;

fn orders() -> Vec<PricedOrder> {
    let lines = [
        r#"{"name":"Stablestol","sku":"chair-1","quantity":"1","unit_price":29990,"vat_rate":"25"}"#,
        r#"{"name":"Kaffe","quantity":"2","unit_price":3900,"vat_rate":"15"},{"name":"Bolle","quantity":"3","unit_price":2500,"vat_rate":"15","discount":500}"#,
        r#"{"name":"Epler","quantity":"1.235","unit":"kg","unit_price":3490,"vat_rate":"15"},{"name":"Pose","quantity":"1","unit_price":300,"vat_rate":"25"},{"name":"Avis","quantity":"1","unit_price":4500,"vat_rate":"0"}"#,
    ];
    lines
        .iter()
        .map(|l| {
            quote_document(
                &format!(r#"{{"currency":"NOK","prices_include_vat":true,"lines":[{l}]}}"#),
                "X",
            )
            .unwrap()
        })
        .collect()
}

fn open(path: &Path) -> SessionLog {
    let mut log = SessionLog::open(path).unwrap();
    // The benchmark's key lives in this process's memory keyring; the export reads only the
    // public parts, so a later run's fresh keyring does not matter.
    log.use_keyring(kassa_core::secrets::memory::shared());
    log.set_time_zone(kassa_core::journal::Zone::named("Europe/Oslo").unwrap());
    log
}

fn receipts(log: &SessionLog) -> i64 {
    let mut n = 0;
    log.receipts_each("1", "2026-01-01", "2026-12-31", |_, _| {
        n += 1;
        Ok(())
    })
    .unwrap();
    n
}

fn build(dir: &Path, n: i64) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("sessions.db");
    if path.exists() && receipts(&open(&path)) == n {
        return path;
    }
    for f in ["sessions.db", "sessions.db-wal", "sessions.db-shm"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    let mut log = open(&path);
    let orders = orders();
    let providers = ["demo", "dintero", "bambora", "klarna", "opencharge"];
    // Spread over the year, the last sale well before midnight of 31 December in Oslo.
    let step = (YEAR_MS - 2 * 86_400_000) / n.max(1);
    let t = Instant::now();
    let all: Vec<i64> = (0..n).collect();
    for chunk in all.chunks(50_000) {
        let sessions: Vec<(NewSession, Status)> = chunk
            .iter()
            .map(|&i| {
                let at = T0 + i * step;
                (
                    NewSession {
                        id: SessionId::new(at, i as u128 * 0x9E37_79B9_7F4A_7C15),
                        provider: providers[i as usize % providers.len()],
                        profile: "test",
                        demo: i % 5 == 0,
                        order: &orders[i as usize % orders.len()],
                        created_at: at,
                        capture_policy: None,
                        operator_id: Some(1),
                        link: None,
                    },
                    Status::Paid,
                )
            })
            .collect();
        let ids: Vec<(String, i64)> = sessions
            .iter()
            .map(|(s, _)| (s.id.to_string(), s.created_at + 1000))
            .collect();
        log.bulk_load(sessions).unwrap();
        log.bulk_journal_sales(ids.iter().map(|(id, at)| (id.as_str(), *at)))
            .unwrap();
        eprintln!(
            "  {} of {n} sales journaled, {:.0} s",
            chunk[chunk.len() - 1] + 1,
            t.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "built {n} signed sales in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    path
}

/// `VmHWM` of this process, KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child process: export the year from `db` into `out`, print one line of figures.
fn export_only(db: &Path, out: &Path) {
    let mut log = open(db);
    let owner = log.owner_if_no_operators().unwrap().unwrap();
    let before = peak_rss_kib();
    let t = Instant::now();
    let done = export(
        &mut log,
        &ExportRequest {
            from: "2026-01-01",
            to: "2026-12-31",
            out,
            seller: &Seller {
                name: "Benk AS".into(),
                address: vec!["Storgata 1, 9008 Tromsø".into()],
                org_number: Some("923609016".into()),
                vat_registered: true,
            },
            catalog: &Catalog::default(),
            by: &owner,
            now: T0 + YEAR_MS + 3_600_000,
        },
    )
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} {} {} {secs:.2} {before} {}",
        done.transactions,
        done.events,
        done.bytes,
        peak_rss_kib()
    );
    let _ = std::fs::remove_file(&done.path);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--export-only") {
        export_only(Path::new(&args[i + 1]), Path::new(&args[i + 2]));
        return;
    }
    let n: i64 = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse().expect("SALES is a number"))
        .unwrap_or(1_000_000);
    // The target directory in use (CARGO_TARGET_DIR), else the workspace's.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("bench-saft").join(n.to_string());
    let db = build(&dir, n);
    let out = dir.join("export.xml");
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--export-only")
        .arg(&db)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let line = String::from_utf8_lossy(&child.stdout);
    let f: Vec<f64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let (tx, events, bytes, secs, before, peak) = (f[0], f[1], f[2], f[3], f[4], f[5]);
    println!("| sales receipts | events | file | time | per second | peak RSS (before export) |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {tx:.0} | {events:.0} | {:.0} MiB | {secs:.1} s | {:.0} transactions | {:.0} MiB ({:.0} MiB) |",
        bytes / 1048576.0,
        tx / secs,
        peak / 1024.0,
        before / 1024.0
    );
}
