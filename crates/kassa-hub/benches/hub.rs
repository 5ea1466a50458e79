//! The hub's figures (BENCHMARKS.md, "The shop hub"), on a throwaway local cluster:
//!
//! 1. catch-up: one till sells `KASSA_HUB_BENCH_BACKLOG` (5,000) sales with the hub out of
//!    reach, then one push ships them all: its wall time.
//! 2. lag: ten tills (threads, each its own data directory and SQLite) sell one sale a second
//!    for `KASSA_HUB_BENCH_SECONDS` (600), each with the sender `kassa-cli hub run` and the
//!    desktop run ([`Sender`]: settings read each round, the hub's connection and the keyring's
//!    password kept; a push as soon as the till commits, seen by looking every
//!    `KASSA_HUB_BENCH_POLL_MS`, 200 as shipped); the push lag of every sale
//!    entry (the hub's transaction time minus the sale's journal time, one machine so one
//!    clock): p50, p99, max; the hub's CPU (PostgreSQL's processes, from /proc).
//!
//! With `KASSA_HUB_BENCH_TLS=1` both run over TLS (the cluster with `ssl=on` and a certificate
//! from a test CA, the tills with `verify-full` against it through `hub.ca_file`), as a hub on
//! another machine is reached.
//!
//! The clusters run with fsync and synchronous commit on, as a hub should. Sales are signed
//! with the core's in-memory keyring (no OS keyring needed); each is an
//! intent, an unknown and a paid status with its signed entry, as a demo sale writes them.

use kassa_core::secrets::Secret;
use kassa_core::settings::HubUrl;
use kassa_core::time::now_millis;
use kassa_hub::cluster::Cluster;
use kassa_hub::demo_till::{configure_hub, open, sell};
use kassa_hub::{push_once, Hub, Sender};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "hub-bench-pw-Jc6vR1yN8d";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn till_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kassa-hub-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The name the TLS cluster's certificate carries; the tills reach it at 127.0.0.1.
const TLS_NAME: &str = "hub.shop.test";

fn start(name: &str, tls: bool) -> Cluster {
    Cluster::start_opts(name, PASSWORD, true, tls.then_some(&[TLS_NAME][..]))
}

/// What a till's `hub.url` and `hub.ca_file` say for `cluster`.
fn hub_settings(cluster: &Cluster) -> (String, Option<PathBuf>) {
    match cluster.ca_file() {
        Some(ca) => (
            format!(
                "postgres://kassa@{TLS_NAME}:{}/shop?hostaddr=127.0.0.1",
                cluster.port
            ),
            Some(ca.to_path_buf()),
        ),
        None => (cluster.url(), None),
    }
}

fn hub(cluster: &Cluster) -> Hub {
    let (url, ca) = hub_settings(cluster);
    Hub::new(
        HubUrl::parse(&url).unwrap(),
        Some(&Secret::new(PASSWORD.to_string())),
    )
    .with_ca_file(ca)
}

/// CPU seconds of the cluster's postmaster and its children (live ones and those that ended).
fn hub_cpu_seconds(cluster: &Cluster) -> f64 {
    let pid: u32 = std::fs::read_to_string(cluster.dir().join("data/postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let (this, ppid): (u32, u32) = (
            entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            f[1].parse().unwrap_or(0),
        );
        if this == pid || ppid == pid {
            let n = |i: usize| f[i].parse::<f64>().unwrap_or(0.0);
            // utime, stime; for the postmaster also its ended children's cutime, cstime.
            total += n(11) + n(12);
            if this == pid {
                total += n(13) + n(14);
            }
        }
    }
    total / ticks
}

fn main() {
    let backlog = env("KASSA_HUB_BENCH_BACKLOG", 5000);
    let seconds = env("KASSA_HUB_BENCH_SECONDS", 600);
    let tills = env("KASSA_HUB_BENCH_TILLS", 10);
    let poll_ms = env(
        "KASSA_HUB_BENCH_POLL_MS",
        Sender::new(std::path::Path::new(".")).poll.as_millis() as u64,
    );
    let tls = env("KASSA_HUB_BENCH_TLS", 0) == 1;

    // 1. A busy day offline, then one push.
    let cluster = start("bench-catchup", tls);
    let dir = till_dir("catchup");
    let mut log = open(&dir, "OFF-1");
    let t = Instant::now();
    for i in 0..backlog {
        sell(&mut log, now_millis(), &format!("C-{i}"));
    }
    let selling = t.elapsed();
    let pending = log.outbox_pending().unwrap();
    let hub1 = hub(&cluster);
    let t = Instant::now();
    let report = push_once(&mut log, &hub1, "OFF-1").unwrap();
    let catchup = t.elapsed();
    assert!(report.refusals.is_empty());
    assert_eq!(log.outbox_pending().unwrap().journal, 0);
    println!(
        "catch-up: {backlog} sales ({} journal entries, {} session notes) sold offline in {:.1} s, pushed in {:.2} s ({:.0} entries/s){}",
        pending.journal,
        pending.sessions,
        selling.as_secs_f64(),
        catchup.as_secs_f64(),
        pending.journal as f64 / catchup.as_secs_f64(),
        if tls { ", over TLS" } else { "" },
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);

    // 2. Ten tills, one sale a second each, a sender each.
    let cluster = Arc::new(start("bench-lag", tls));
    let cpu_before = hub_cpu_seconds(&cluster);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let mut dirs = Vec::new();
    for n in 0..tills {
        let register = format!("T{n:02}");
        let dir = till_dir(&register);
        dirs.push(dir.clone());
        let (url, ca) = hub_settings(&cluster);
        let stop_s = stop.clone();
        let reg = register.clone();
        let d = dir.clone();
        threads.push(std::thread::spawn(move || {
            // The till as a shop sets it up: its settings file and the hub's password in a
            // keyring, read by the sender.
            let keyring = configure_hub(&d, &reg, &url, ca.as_deref(), PASSWORD);
            let sender = Sender {
                poll: Duration::from_millis(poll_ms),
                ..Sender::new(&d)
            };
            sender.run(&keyring, &stop_s, |_| {});
            // What the last second sold.
            let hub = Hub::new(
                HubUrl::parse(&url).unwrap(),
                Some(&Secret::new(PASSWORD.to_string())),
            )
            .with_ca_file(ca);
            push_once(&mut open(&d, &reg), &hub, &reg).unwrap();
        }));
        let stop_t = stop.clone();
        threads.push(std::thread::spawn(move || {
            let mut log = open(&dir, &register);
            // Staggered, so the ten tills do not sell in lockstep.
            std::thread::sleep(Duration::from_millis(n * 97));
            let start = Instant::now();
            let mut i = 0u64;
            while !stop_t.load(Ordering::Relaxed) {
                sell(&mut log, now_millis(), &format!("{register}-{i}"));
                i += 1;
                let next = start + Duration::from_secs(i);
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let cpu = hub_cpu_seconds(&cluster) - cpu_before;
    let hub2 = hub(&cluster);
    let mut conn = hub2.connection().unwrap();
    let row = conn
        .query_one(
            "SELECT count(*),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
                percentile_cont(0.99) WITHIN GROUP (ORDER BY lag),
                max(lag)
             FROM (SELECT (extract(epoch FROM received_at) * 1000 - at_ms)::float8 AS lag
                   FROM journal WHERE kind = 'sale') l",
            &[],
        )
        .unwrap();
    let (n, p50, p99, max): (i64, f64, f64, f64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    println!(
        "lag: {tills} tills x 1 sale/s for {seconds} s: {n} sales; push lag p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (the sender looking every {poll_ms} ms{}); hub CPU {:.1} s = {:.1} % of one core",
        p50,
        p99,
        max,
        if tls { ", over TLS" } else { "" },
        cpu,
        100.0 * cpu / seconds as f64
    );
    drop(conn);
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}
