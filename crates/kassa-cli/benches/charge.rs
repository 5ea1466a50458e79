//! Charge → URL ready, per provider, against the sandbox with injected latency on every
//! provider request (issue #10, speed 1). A benchmark: it reports, it asserts no time.
//!
//! - **warm**: one process, the core's `Till` (the desktop app's path: intent commit, provider
//!   create, answer commit) with the providers' clients built once, as a running till has them
//!   (tokens cached, connections kept alive). Warm-up charges first, then `--runs` measured.
//! - **cold**: a new `kassa-cli charge` process per charge (what a script pays): process start,
//!   keyring reads, TLS roots, tokens and new connections.
//!
//! Requests and new connections per charge come from the sandbox's `GET /_control/stats`.
//! The demo provider's emulator lives inside the charging process: warm, its own sandbox gets
//! the same latency; cold, nothing can reach it, so its line runs without injected latency.
//!
//! - **day** (`--day N`, instead of the above): one till charging the demo provider N times
//!   with no injected latency, the median and p95 of each hundred charges: whether a charge
//!   costs the same late in the day as at its start (the demo's emulator keeps every session
//!   of the day, as a provider does), and the process's PSS after each hundred.
//!
//! Needs the OS keyring (the credentials are stored there, as in a shop):
//! `scripts/kassa.sh bench` runs it inside a private keyring session. Options:
//! `cargo bench -p kassa-cli --bench charge -- [--runs N] [--cold-runs N] [--latency MS] [--day N]`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::shop::*;
use common::DataDir;
use kassa_core::counter::{Cart, CartLine};
use kassa_core::provider::cache::Clients;
use kassa_core::provider::Presentation;
use kassa_core::secrets::{OsKeyring, Secret};
use kassa_core::till::Till;
use kassa_sandbox::Sandbox;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROVIDERS: [&str; 6] = [
    "demo",
    "dintero",
    "bambora",
    "klarna",
    "commercelayer",
    "opencharge",
];

struct Options {
    runs: usize,
    cold_runs: usize,
    latency_ms: u64,
    day: Option<usize>,
}

fn options() -> Options {
    let mut o = Options {
        runs: 30,
        cold_runs: 10,
        latency_ms: 50,
        day: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<u64>().expect("a number"))
    };
    if let Some(v) = value("--runs") {
        o.runs = v as usize;
    }
    if let Some(v) = value("--cold-runs") {
        o.cold_runs = v as usize;
    }
    if let Some(v) = value("--latency") {
        o.latency_ms = v;
    }
    o.day = value("--day").map(|v| v as usize);
    o
}

/// The shared fixture's three-line sale (a weighed line, line and order discounts).
fn cart(reference: String) -> Cart {
    let line =
        |sku: Option<&str>, name: &str, q: &str, price: i64, vat: &str, discount: i64| CartLine {
            sku: sku.map(str::to_string),
            name: name.into(),
            quantity: q.into(),
            unit_price: price,
            vat_rate: vat.into(),
            discount,
        };
    Cart {
        currency: "NOK".into(),
        prices_include_vat: true,
        reference: Some(reference),
        discount: 500,
        lines: vec![
            line(Some("kaffe-1"), "Kaffe", "3", 1999, "15", 100),
            line(Some("ost-1"), "Hvitost", "0.35", 12990, "15", 0),
            line(None, "Bolle", "2", 2500, "25", 0),
        ],
    }
}

/// Requests and connections a sandbox has served. Each control call opens one connection of
/// its own (a fresh client), which [`Counted::since`] subtracts.
#[derive(Clone, Copy)]
struct Counted {
    requests: u64,
    connections: u64,
}

impl Counted {
    fn read(origin: &str) -> Counted {
        let v = http_json("GET", &format!("{origin}/_control/stats"), None);
        Counted {
            requests: v["requests"].as_u64().unwrap(),
            connections: v["connections"].as_u64().unwrap(),
        }
    }

    /// Per charge, between `self` (read before) and a read now.
    fn since(self, origin: &str, charges: usize) -> (f64, f64) {
        let now = Counted::read(origin);
        let n = charges as f64;
        (
            (now.requests - self.requests) as f64 / n,
            // The read that produced `now` came on a connection of its own.
            (now.connections - self.connections - 1) as f64 / n,
        )
    }
}

fn http_json(method: &str, url: &str, body: Option<&str>) -> serde_json::Value {
    use kassa_core::http::{Http, HttpConfig, Method, Request};
    let m = match method {
        "GET" => Method::Get,
        "PUT" => Method::Put,
        _ => Method::Post,
    };
    let mut req = Request::new(m, url);
    if let Some(b) = body {
        req = req.json(b.as_bytes().to_vec());
    }
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send("bench", &req)
        .unwrap();
    assert!(r.status < 300, "{method} {url} → {}", r.status);
    serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null)
}

fn set_latency(origin: &str, ms: u64) {
    http_json(
        "PUT",
        &format!("{origin}/_control/latency"),
        Some(&format!(r#"{{"ms":{ms}}}"#)),
    );
}

fn origin_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let host = rest.split('/').next().unwrap();
    format!("http://{host}")
}

struct Line {
    provider: &'static str,
    mode: &'static str,
    latency_ms: u64,
    runs: usize,
    median: Duration,
    p95: Duration,
    requests: Option<f64>,
    connections: Option<f64>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn summarize(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95))
}

/// Settings and keyring entries for all five providers at `sandbox`, written through the
/// till as the settings screen does.
fn configure(till: &mut Till<Clients>, sandbox: &Sandbox) {
    let url = sandbox.url();
    let settings = [
        ("dintero.account_id", DINTERO_ACCOUNT.into()),
        ("dintero.base_url", sandbox.dintero_base_url()),
        ("bambora.base_url", format!("{url}/bambora")),
        ("bambora.merchant_number", MERCHANT.into()),
        ("klarna.base_url", format!("{url}/klarna")),
        ("commercelayer.base_url", format!("{url}/commercelayer")),
        ("commercelayer.organization", "kassa-shop".into()),
        ("commercelayer.market", CL_MARKET.into()),
        ("commercelayer.address_id", CL_ADDRESS.into()),
        (
            "opencharge.gateway_url",
            sandbox.opencharge_payment_gateway_url(),
        ),
        ("opencharge.ocid", OC_OCID.to_string()),
        ("opencharge.gateway_ocid", "100".into()),
    ];
    for (k, v) in settings {
        till.set_setting(k, &v).unwrap();
    }
    let secrets = [
        ("dintero", "client_id", DINTERO_CLIENT_ID),
        ("dintero", "client_secret", DINTERO_CLIENT_SECRET),
        ("bambora", "access_token", ACCESS_TOKEN),
        ("bambora", "secret_token", SECRET_TOKEN),
        ("bambora", "md5_key", MD5_KEY),
        ("klarna", "username", KLARNA_USER),
        ("klarna", "password", KLARNA_PASSWORD),
        ("commercelayer", "client_id", CL_CLIENT_ID),
        ("commercelayer", "client_secret", CL_CLIENT_SECRET),
        ("commercelayer", "sales_channel_client_id", CL_SALES_CHANNEL),
        ("opencharge", "private_key", OC_PRIVATE_KEY),
    ];
    for (provider, field, value) in secrets {
        till.set_credential(provider, field, Secret::new(value.to_string()))
            .unwrap_or_else(|e| {
                panic!(
                    "{provider}.{field}: {} (run inside a keyring session: scripts/kassa.sh bench)",
                    e.message
                )
            });
    }
}

fn warm(till: &mut Till<Clients>, sandbox: &Sandbox, provider: &'static str, o: &Options) -> Line {
    let charge = |till: &mut Till<Clients>| -> (Duration, String) {
        let c = cart(till.new_reference());
        let t = Instant::now();
        let view = till
            .charge(
                &c,
                provider,
                Presentation::Qr,
                &kassa_core::link::Sale::Counter,
                None,
            )
            .unwrap_or_else(|e| panic!("{provider}: {} {}", e.code, e.message));
        let elapsed = t.elapsed();
        (
            elapsed,
            view.checkout_url.expect("an open session has a URL"),
        )
    };
    // Warm-up: builds the client, fetches tokens, opens connections. The demo's sandbox
    // exists only after its first charge; its origin is the checkout URL's.
    let (_, url) = charge(till);
    let origin = if provider == "demo" {
        origin_of(&url)
    } else {
        sandbox.url()
    };
    set_latency(&origin, o.latency_ms);
    for _ in 0..2 {
        charge(till);
    }
    let before = Counted::read(&origin);
    let times: Vec<Duration> = (0..o.runs).map(|_| charge(till).0).collect();
    let (requests, connections) = before.since(&origin, o.runs);
    set_latency(&origin, 0);
    let (median, p95) = summarize(times);
    Line {
        provider,
        mode: "warm",
        latency_ms: o.latency_ms,
        runs: o.runs,
        median,
        p95,
        requests: Some(requests),
        connections: Some(connections),
    }
}

fn cold(dir: &DataDir, sandbox: &Sandbox, provider: &'static str, o: &Options) -> Line {
    let order = dir.0.join("order.json");
    std::fs::write(&order, ORDER).unwrap();
    let latency = if provider == "demo" { 0 } else { o.latency_ms };
    set_latency(&sandbox.url(), latency);
    let before = Counted::read(&sandbox.url());
    let times: Vec<Duration> = (0..o.cold_runs)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_kassa-cli"))
                .arg("--data-dir")
                .arg(&dir.0)
                .args(["charge", "--provider", provider, "--json", "--order"])
                .arg(&order)
                .output()
                .unwrap();
            let elapsed = t.elapsed();
            assert!(
                out.status.success(),
                "{provider}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            elapsed
        })
        .collect();
    let (requests, connections) = before.since(&sandbox.url(), o.cold_runs);
    set_latency(&sandbox.url(), 0);
    let (median, p95) = summarize(times);
    let counted = provider != "demo";
    Line {
        provider,
        mode: "cold",
        latency_ms: latency,
        runs: o.cold_runs,
        median,
        p95,
        requests: counted.then_some(requests),
        connections: counted.then_some(connections),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// This process's proportional set size (Linux), in MB: the till, its session log and the
/// demo's emulator with every session of the day.
fn pss_mb() -> String {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kib| format!("{:.1} MB", kib / 1024.0))
        .unwrap_or_else(|| "n/a".into())
}

/// `--day N`: N demo charges in one till, reported per hundred.
fn day(sales: usize) {
    let dir = DataDir::new("bench-charge-day");
    let mut till = Till::open(
        &dir.0,
        Clients::new(&dir.0, Arc::new(OsKeyring), kassa_sandbox::demo::starter()),
        Arc::new(OsKeyring),
    )
    .unwrap();
    let mut table = String::from(
        "| demo charges | median | p95 | the process's PSS after them |\n|---|---|---|---|\n",
    );
    let mut times = Vec::new();
    for i in 1..=sales {
        let c = cart(till.new_reference());
        let t = Instant::now();
        till.charge(
            &c,
            "demo",
            Presentation::Qr,
            &kassa_core::link::Sale::Counter,
            None,
        )
        .unwrap_or_else(|e| panic!("demo charge {i}: {} {}", e.code, e.message));
        times.push(t.elapsed());
        if i % 100 == 0 || i == sales {
            let first = i - times.len() + 1;
            let (median, p95) = summarize(std::mem::take(&mut times));
            let line = format!(
                "| {first}–{i} | {} ms | {} ms | {} |\n",
                ms(median),
                ms(p95),
                pss_mb()
            );
            eprint!("{line}");
            table.push_str(&line);
        }
    }
    print!("{table}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("charge-day.md"), &table).unwrap();
}

fn main() {
    let o = options();
    if let Some(sales) = o.day {
        return day(sales);
    }
    let dir = DataDir::new("bench-charge");
    let sandbox = Sandbox::start(0, sandbox_config()).unwrap();
    let mut till = Till::open(
        &dir.0,
        Clients::new(&dir.0, Arc::new(OsKeyring), kassa_sandbox::demo::starter()),
        Arc::new(OsKeyring),
    )
    .unwrap();
    configure(&mut till, &sandbox);

    let mut lines = Vec::new();
    for p in PROVIDERS {
        let line = warm(&mut till, &sandbox, p, &o);
        eprintln!("warm {p}: median {} ms", ms(line.median));
        lines.push(line);
    }
    drop(till);
    for p in PROVIDERS {
        let line = cold(&dir, &sandbox, p, &o);
        eprintln!("cold {p}: median {} ms", ms(line.median));
        lines.push(line);
    }

    let mut table = String::from(
        "| provider | process | latency/request | runs | median | p95 | requests/charge | new connections/charge | median over one round trip (goal ≤ +5 ms) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for l in &lines {
        let per = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into());
        // Requests may overlap (Commerce Layer's lines), so the floor is one round trip.
        let over = l.median.as_secs_f64() * 1000.0 - l.latency_ms as f64;
        let overhead = (l.latency_ms > 0).then(|| {
            let verdict = if over <= 5.0 { "met" } else { "missed" };
            format!("+{over:.1} ms ({verdict})")
        });
        table.push_str(&format!(
            "| {} | {} | {} ms | {} | {} ms | {} ms | {} | {} | {} |\n",
            l.provider,
            l.mode,
            l.latency_ms,
            l.runs,
            ms(l.median),
            ms(l.p95),
            per(l.requests),
            per(l.connections),
            overhead.unwrap_or_else(|| "n/a".into()),
        ));
    }
    print!("{table}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("charge.md"), &table).unwrap();
}
