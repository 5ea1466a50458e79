//! The session log at scale: `cargo bench -p kassa-core --bench session_log [-- SESSIONS]`
//! (default 1 000 000). Builds a database of SESSIONS sessions in `target/bench-session-log/`
//! (reused when it already has that many), then measures the operations a till does and
//! prints a Markdown table (BENCHMARKS.md has the figures and the machine).
//!
//! A plain program rather than criterion: each measurement is a distribution of real
//! operations on one large file, and criterion's dependency tree would double the build.

use kassa_core::session::{SessionId, Status};
use kassa_core::store::{Filter, NewSession, SessionLog};
use kassa_core::{quote_document, PricedOrder};
use std::time::{Duration, Instant};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn orders() -> Vec<PricedOrder> {
    let lines = [
        r#"{"name":"Stablestol","sku":"chair-1","quantity":"1","unit_price":29990,"vat_rate":"25"}"#,
        r#"{"name":"Kaffe","quantity":"2","unit_price":3900,"vat_rate":"15"},{"name":"Bolle","quantity":"3","unit_price":2500,"vat_rate":"15"}"#,
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

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn measure(name: &str, n: usize, mut f: impl FnMut(usize)) {
    let mut samples: Vec<Duration> = (0..n)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed()
        })
        .collect();
    let p50 = percentile(&mut samples, 0.5);
    let p99 = percentile(&mut samples, 0.99);
    println!("| {name} | {n} | {} | {} |", ms(p50), ms(p99));
}

fn main() {
    let n: i64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse().expect("SESSIONS is a number"))
        .unwrap_or(1_000_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/bench-session-log")
        .join(n.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sessions.db");
    let orders = orders();
    let statuses = [
        Status::Paid,
        Status::Paid,
        Status::Paid,
        Status::Paid,
        Status::Cancelled,
        Status::Expired,
        Status::Failed,
        Status::Paid,
        Status::Paid,
        Status::NeedsReview,
    ];
    let providers = ["demo", "dintero", "bambora", "klarna"];
    let mut log = SessionLog::open(&path).unwrap();
    let have = log.count().unwrap();
    if have != n {
        drop(log);
        for f in ["sessions.db", "sessions.db-wal", "sessions.db-shm"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        log = SessionLog::open(&path).unwrap();
        let t = Instant::now();
        let step = 86_400_000 * 300 / n.max(1); // spread over 300 days
        let mut refs = Vec::with_capacity(n as usize);
        for i in 0..n {
            refs.push(format!("K-BENCH-{i:08}"));
        }
        let mut orders_by_ref: Vec<PricedOrder> = Vec::with_capacity(n as usize);
        for (i, r) in refs.iter().enumerate() {
            let mut o = orders[i % orders.len()].clone();
            o.reference = r.clone();
            orders_by_ref.push(o);
        }
        for chunk in (0..n).collect::<Vec<_>>().chunks(50_000) {
            log.bulk_load(chunk.iter().map(|&i| {
                let at = T0 + i * step;
                (
                    NewSession {
                        id: SessionId::new(at, i as u128 * 0x9E37_79B9_7F4A_7C15),
                        provider: providers[i as usize % providers.len()],
                        profile: "test",
                        demo: i % 4 == 0,
                        order: &orders_by_ref[i as usize],
                        created_at: at,
                        capture_policy: None,
                        link: None,
                        operator_id: None,
                    },
                    statuses[i as usize % statuses.len()],
                )
            }))
            .unwrap();
        }
        eprintln!("built {n} sessions in {:.1} s", t.elapsed().as_secs_f64());
    }
    let size: u64 = ["sessions.db", "sessions.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "session log: {n} sessions, {:.0} MiB on disk ({})\n",
        size as f64 / 1048576.0,
        path.display()
    );
    println!("| operation | runs | p50 | p99 |");
    println!("|---|---|---|---|");
    let now = T0 + 86_400_000 * 301;
    let mut new_ids = Vec::new();
    measure("record intent (`synchronous=FULL`, fsync)", 200, |i| {
        let id = SessionId::new(now + i as i64, 42);
        log.record_intent(&NewSession {
            id: id.clone(),
            provider: "dintero",
            profile: "test",
            demo: false,
            order: &orders[i % orders.len()],
            created_at: now + i as i64,
            capture_policy: Some(kassa_core::provider::CapturePolicy::AtSale),
            link: None,
            operator_id: Some(1),
        })
        .unwrap();
        new_ids.push(id.to_string());
    });
    measure("status change (FULL, fsync)", 200, |i| {
        log.record_status(&new_ids[i], Status::Failed, now, "bench", "x", None, true)
            .unwrap();
    });
    measure("event without a status change (NORMAL)", 200, |i| {
        log.add_event(&new_ids[i], now, "bench", "poll").unwrap();
    });
    let log = &log;
    let page = |f: Filter| {
        move |_| {
            let rows = log.list(&f, None, 50).unwrap();
            assert!(!rows.is_empty());
        }
    };
    measure(
        "history page 1 (50 rows), no filter",
        100,
        page(Filter::default()),
    );
    measure(
        "history page 1, status = expired",
        100,
        page(Filter {
            status: Some(Status::Expired),
            ..Filter::default()
        }),
    );
    measure(
        "history page 1, provider = klarna and status = paid",
        100,
        page(Filter {
            status: Some(Status::Paid),
            provider: Some("klarna".into()),
            ..Filter::default()
        }),
    );
    measure(
        "history page 1, one day 150 days ago",
        100,
        page(Filter {
            since: Some(T0 + 86_400_000 * 150),
            until: Some(T0 + 86_400_000 * 151),
            ..Filter::default()
        }),
    );
    let target = format!("K-BENCH-{:08}", n / 3);
    measure("search by reference (substring, full scan)", 5, |_| {
        let f = Filter {
            search: Some(target.clone()),
            ..Filter::default()
        };
        assert_eq!(log.list(&f, None, 50).unwrap().len(), 1);
    });
    let csv = dir.join("export.csv");
    measure("CSV export of all rows", 1, |_| {
        let file = std::fs::File::create(&csv).unwrap();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let rows = log.export_csv(&Filter::default(), &mut out).unwrap();
        assert_eq!(rows, n as u64 + 200);
    });
    let _ = std::fs::remove_file(&csv);
}
