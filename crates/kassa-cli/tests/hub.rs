//! Several tills and one hub, end to end: `kassa-cli` on two data directories, demo sales with
//! the journal's key in the real OS keyring (`#[ignore]`d for a bare `cargo test`; `make test`
//! runs them in a throwaway keyring), the hub a throwaway PostgreSQL cluster
//! (`kassa_hub::cluster`). The hub's own rules (chain checks, tampering, resends) are tested in
//! `kassa-hub/tests/hub.rs` without a keyring.

mod common;

use common::*;
use kassa_hub::cluster::{self, Cluster};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The throwaway hub's password: distinctive, for the secrets audit's ledger.
const HUB_PASSWORD: &str = "kassa-hub-pw-Vb8sK3nQ5z";

/// A till: its data directory set up for `cluster` as register `register`, the hub's password
/// in the keyring.
fn till(name: &str, register: &str, cluster: &Cluster) -> DataDir {
    let dir = DataDir::new(name);
    // The register first: what a till journals before it has its own id would be register
    // 1's, and two tills' register 1 are refused by the hub as one chain that forks.
    for (k, v) in [("register.id", register.into()), ("hub.url", cluster.url())] {
        let out = cli(&dir.0, &["config", "set", k, &v], None);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    set_password(&dir.0, HUB_PASSWORD);
    dir
}

fn set_password(dir: &Path, password: &str) {
    let out = cli(
        dir,
        &["credentials", "set", "hub", "password"],
        Some(password),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = cli(dir, args, None);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

fn order(dir: &DataDir) -> String {
    let path = dir.0.join("order.json");
    std::fs::write(
        &path,
        r#"{"currency":"NOK","prices_include_vat":true,"lines":[
          {"name":"Bolle","quantity":"1","unit_price":2500,"vat_rate":"15"}]}"#,
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

fn pending(dir: &Path) -> (i64, i64, i64) {
    let s = json(dir, &["hub", "status", "--json"]);
    let p = &s["pending"];
    (
        p["sessions"].as_i64().unwrap(),
        p["operations"].as_i64().unwrap(),
        p["journal"].as_i64().unwrap(),
    )
}

/// The hub, read directly.
fn hub_count(cluster: &Cluster, sql: &str) -> i64 {
    let mut c = postgres::Config::new()
        .user(cluster::USER)
        .password(HUB_PASSWORD)
        .host("127.0.0.1")
        .port(cluster.port)
        .dbname(cluster::DATABASE)
        .connect(postgres::NoTls)
        .unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

fn journal_len(dir: &Path) -> i64 {
    json(dir, &["journal", "list", "--json"])
        .as_array()
        .unwrap()
        .len() as i64
}

/// `kassa-cli hub run` in the background, its (trace) output into a file: a pipe nobody
/// reads would fill and stop it.
fn sender(dir: &Path) -> Child {
    let log = std::fs::File::create(dir.join("hub-run.log")).unwrap();
    kassa_cli(dir, &["hub", "run"], &[])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn stop(mut child: Child, dir: &Path) {
    let _ = child.kill();
    let _ = child.wait();
    keep_text(
        &["hub", "run"],
        &[&std::fs::read(dir.join("hub-run.log")).unwrap()],
    );
}

fn wait_until_pushed(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while pending(dir) != (0, 0, 0) {
        assert!(
            Instant::now() < deadline,
            "still pending: {:?}",
            pending(dir)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "needs the OS keyring (make test runs it)"]
fn two_tills_sell_at_once_to_one_hub_and_a_product_added_on_till_a_is_sold_on_till_b() {
    let _keyring = keyring_lock();
    kassa_sandbox::ledger(&[HUB_PASSWORD]);
    let cluster = Cluster::start("cli-two-tills", HUB_PASSWORD);
    let a = till("hub-a", "A", &cluster);
    let b = till("hub-b", "B", &cluster);
    let out = cli(
        &a.0,
        &[
            "product",
            "add",
            "--sku",
            "BOLLE-7",
            "--name",
            "Skolebolle",
            "--price",
            "34,50",
            "--vat",
            "15",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&a.0, &["hub", "sync", "--json"])["products"], 1);
    assert_eq!(json(&b.0, &["hub", "sync", "--json"])["products"], 1);
    let sold_on_b = pay_demo_of(&b.0, &["--sku", "BOLLE-7"], None);
    let session = json(&b.0, &["session", &sold_on_b, "--json"]);
    assert_eq!(session["gross_minor"], 3450, "{session}");

    // Both senders running while both tills sell.
    let senders = [sender(&a.0), sender(&b.0)];
    let orders = [order(&a), order(&b)];
    std::thread::scope(|s| {
        for (dir, order) in [(&a.0, &orders[0]), (&b.0, &orders[1])] {
            s.spawn(move || {
                for _ in 0..4 {
                    pay_demo(dir, order);
                }
            });
        }
    });
    wait_until_pushed(&a.0);
    wait_until_pushed(&b.0);
    for (s, dir) in senders.into_iter().zip([&a.0, &b.0]) {
        stop(s, dir);
    }
    assert_eq!(
        hub_count(
            &cluster,
            "SELECT count(*) FROM sessions WHERE status = 'paid'"
        ),
        9
    );
    assert_eq!(
        hub_count(&cluster, "SELECT count(*) FROM journal WHERE kind = 'sale'"),
        9
    );
    for (dir, register) in [(&a.0, "A"), (&b.0, "B")] {
        assert_eq!(
            hub_count(
                &cluster,
                &format!("SELECT head_seq FROM registers WHERE register_id = '{register}'")
            ),
            journal_len(dir),
            "register {register}: the hub holds its whole chain"
        );
    }
    assert_eq!(hub_count(&cluster, "SELECT count(*) FROM refusals"), 0);
    let shop = json(&a.0, &["sessions", "--shop", "--json"]);
    let registers: std::collections::BTreeSet<&str> = shop
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["register_id"].as_str().unwrap())
        .collect();
    assert_eq!(shop.as_array().unwrap().len(), 9);
    assert_eq!(registers.into_iter().collect::<Vec<_>>(), ["A", "B"]);
}

#[test]
#[ignore = "needs the OS keyring (make test runs it)"]
fn with_the_hub_down_the_till_sells_and_after_kill_9_mid_push_catches_up_with_nothing_lost_or_twice(
) {
    let _keyring = keyring_lock();
    kassa_sandbox::ledger(&[HUB_PASSWORD]);
    let cluster = Cluster::start("cli-down", HUB_PASSWORD);
    let t = till("hub-down", "1", &cluster);
    let order = order(&t);
    pay_demo(&t.0, &order);
    let out = cli(&t.0, &["hub", "sync"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    cluster.stop();
    for _ in 0..6 {
        pay_demo(&t.0, &order);
    }
    let out = cli(&t.0, &["hub", "sync"], None);
    assert_refused(&out, 3, "cannot reach the hub");
    let status = json(&t.0, &["hub", "status", "--json"]);
    assert_eq!(status["connected"], false);
    assert_eq!(status["pending"]["sessions"], 6, "{status}");
    cluster.restart();
    // Kill the pushing till at different moments of its push; whatever it got through
    // stays on the hub, whatever it did not is pushed by the next run.
    for delay_ms in [5, 20, 40, 60, 90, 130] {
        let child = kassa_cli(&t.0, &["hub", "sync"], &[])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SAFETY: kill(2) on our own child's pid.
        unsafe { kill(child.id() as i32, 9) };
        let _ = { child }.wait();
    }
    let out = cli(&t.0, &["hub", "sync"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(pending(&t.0), (0, 0, 0));
    assert_eq!(hub_count(&cluster, "SELECT count(*) FROM sessions"), 7);
    assert_eq!(
        hub_count(&cluster, "SELECT count(*) FROM journal WHERE kind = 'sale'"),
        7
    );
    assert_eq!(
        hub_count(&cluster, "SELECT count(*) FROM journal"),
        journal_len(&t.0)
    );
    assert_eq!(hub_count(&cluster, "SELECT count(*) FROM refusals"), 0);
}

#[test]
#[ignore = "needs the OS keyring (make test runs it)"]
fn a_wrong_hub_password_is_named_and_the_till_keeps_everything() {
    let _keyring = keyring_lock();
    let wrong = "not-the-hub-pw-Hq2wX9tR";
    kassa_sandbox::ledger(&[HUB_PASSWORD, wrong]);
    let cluster = Cluster::start("cli-password", HUB_PASSWORD);
    let t = till("hub-password", "1", &cluster);
    pay_demo(&t.0, &order(&t));
    set_password(&t.0, wrong);
    let out = cli(&t.0, &["hub", "sync"], None);
    assert_refused(&out, 3, "refused the password of user kassa");
    assert!(stderr(&out).contains("kassa-cli credentials set hub password"));
    assert!(!stderr(&out).contains(wrong));
    let before = pending(&t.0);
    assert!(before.0 == 1 && before.2 > 0, "{before:?}");
    set_password(&t.0, HUB_PASSWORD);
    let out = cli(&t.0, &["hub", "sync"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(hub_count(&cluster, "SELECT count(*) FROM sessions"), 1);
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
