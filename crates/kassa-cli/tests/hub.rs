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

/// The figures of an X as JSON, without what only a till's own X has (its number, when and
/// by whom it was made, the journal entry it became).
fn figures(report: &Value) -> Value {
    let mut v = report.clone();
    for k in ["number", "to", "to_seq", "made_by", "journal_seq"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

fn sum(values: impl IntoIterator<Item = Value>) -> i64 {
    values.into_iter().map(|v| v.as_i64().unwrap()).sum()
}

#[test]
#[ignore = "needs the OS keyring (make test runs it)"]
fn the_shop_wide_x_is_each_tills_own_x_per_register_and_their_sum() {
    let _keyring = keyring_lock();
    kassa_sandbox::ledger(&[HUB_PASSWORD]);
    let cluster = Cluster::start("cli-shop-x", HUB_PASSWORD);
    let a = till("shop-x-a", "A", &cluster);
    let b = till("shop-x-b", "B", &cluster);
    // Till A: two sales of two rates and a refund; till B: a sale closed by a Z (its grand
    // totals carry it, its X does not), then two more.
    let refunded = pay_demo(&a.0, &coffee_and_mug_order(&a));
    pay_demo(&a.0, &order(&a));
    let out = cli(
        &a.0,
        &["refund", &refunded, "--line", "0:1", "--json"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    pay_demo(&b.0, &order(&b));
    let out = cli(&b.0, &["report", "z", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    pay_demo(&b.0, &coffee_and_mug_order(&b));
    pay_demo(&b.0, &order(&b));
    let own: Vec<Value> = [&a.0, &b.0]
        .iter()
        .map(|dir| json(dir, &["report", "x", "--json"]))
        .collect();
    for dir in [&a.0, &b.0] {
        let out = cli(dir, &["hub", "sync"], None);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let shop = json(&a.0, &["report", "x", "--shop", "--json"]);
    let registers = shop["registers"].as_array().unwrap();
    assert_eq!(registers.len(), 2, "{shop}");
    for ((r, own), (dir, id)) in registers.iter().zip(&own).zip([(&a.0, "A"), (&b.0, "B")]) {
        let report = &r["report"];
        assert_eq!(report["register_id"], id);
        assert_eq!(figures(report), figures(own), "register {id}");
        // The hub's reading covers the till's X entry too, which adds nothing.
        assert_eq!(report["to_seq"], own["journal_seq"], "register {id}");
        let c = &r["coverage"];
        assert_eq!(c["head_seq"].as_i64().unwrap(), journal_len(dir), "{c}");
        assert_eq!(
            (&c["waiting"], &c["behind"]),
            (&Value::from(0), &Value::from(false))
        );
    }
    assert!(
        own[0]["returns_count"] == 1 && own[1]["previous_z"] == 1,
        "{own:?}"
    );
    let total = &shop["total"];
    for k in [
        "sales_count",
        "sales_gross",
        "sales_net",
        "returns_count",
        "returns_gross",
        "returns_net",
        "net_gross",
    ] {
        assert_eq!(
            total[k].as_i64().unwrap(),
            sum(own.iter().map(|o| o[k].clone())),
            "{k}"
        );
    }
    for (part, k) in [
        ("grand_total", "sales"),
        ("grand_total", "returns"),
        ("grand_total", "net"),
        ("demo_sales", "amount"),
        ("discounts", "amount"),
        ("voids", "amount"),
    ] {
        assert_eq!(
            total[part][k].as_i64().unwrap(),
            sum(own.iter().map(|o| o[part][k].clone())),
            "{part}.{k}"
        );
    }
    for rate in total["vat"].as_array().unwrap() {
        for k in ["net", "vat", "gross"] {
            let parts = own
                .iter()
                .flat_map(|o| o["vat"].as_array().unwrap().clone())
                .filter(|r| r["rate"] == rate["rate"])
                .map(|r| r[k].clone());
            assert_eq!(
                rate[k].as_i64().unwrap(),
                sum(parts),
                "VAT {} {k}",
                rate["rate"]
            );
        }
    }
    let operators = total["operators"].as_array().unwrap();
    assert_eq!(
        operators.len(),
        2,
        "each till's operator apart: {operators:?}"
    );
    assert_eq!(
        sum(operators.iter().map(|o| o["sales_gross"].clone())),
        total["sales_gross"].as_i64().unwrap()
    );

    // The printout: what it is, each register and the whole shop.
    let out = cli(&a.0, &["report", "x", "--shop"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "X-rapport, hele butikken",
        "Kasse A",
        "Kasse B",
        "Hele butikken",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    let out = cli(&a.0, &["report", "z", "--shop"], None);
    assert_refused(&out, 2, "a Z is each register's own");

    // Till B sells on without pushing: the hub cannot know, and says up to where it knows.
    pay_demo(&b.0, &order(&b));
    let again = json(&a.0, &["report", "x", "--shop", "--json"]);
    assert_eq!(
        again["registers"][1]["report"]["sales_count"],
        own[1]["sales_count"]
    );
    assert!(
        again["registers"][1]["coverage"]["head_seq"]
            .as_i64()
            .unwrap()
            < journal_len(&b.0)
    );

    cluster.stop();
    let out = cli(&a.0, &["report", "x", "--shop"], None);
    assert_refused(&out, 3, "cannot reach the hub");
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
