//! `kassa-cli journal verify|list|public-key`, `operator add|list|remove` and `--operator`, end
//! to end: demo sales on loopback, the session log on a real SQLite file, the journal's key in
//! the real OS keyring (`#[ignore]`d for a bare `cargo test`; `make test` runs them in a
//! throwaway keyring). The signatures are checked again by `openssl`, independently of Kassa's
//! code, and tampering is tried on a copy of the database, never the original.

mod common;

#[path = "../../kassa-core/tests/support/saft_check.rs"]
mod saft_check;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// PINs of the operators these tests add: distinctive, so the secrets audit can look for them.
const MANAGER_PIN: &str = "6180339887498";
const CASHIER_PIN: &str = "2718281828459045";

fn journal(dir: &Path) -> Vec<Value> {
    ok_json(&cli(dir, &["journal", "list", "--json"], None))
        .as_array()
        .unwrap()
        .clone()
}

fn kinds(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// `kassa-cli --operator ID …` with its PIN in `KASSA_PIN`.
fn as_operator(dir: &Path, id: &str, pin: &str, args: &[&str]) -> Output {
    let mut all = vec!["--operator", id];
    all.extend_from_slice(args);
    cli_env(dir, &all, None, &[("KASSA_PIN", pin)])
}

/// A manager (1, "Ola") and a cashier (2, "Kari").
fn two_operators(dir: &Path) {
    let out = cli(
        dir,
        &["operator", "add", "--name", "Ola", "--role", "manager"],
        Some(MANAGER_PIN),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "added operator 1 (Ola, manager)");
    let out = cli_env(
        dir,
        &[
            "--operator",
            "1",
            "operator",
            "add",
            "--name",
            "Kari",
            "--role",
            "cashier",
        ],
        Some(CASHIER_PIN),
        &[("KASSA_PIN", MANAGER_PIN)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Rebuilds each signed entry's text (Skatteetaten's rule) and checks its signature with
/// `openssl dgst -sha1 -verify` and the public key `journal public-key` printed: no Kassa code
/// in the check. Returns how many were checked.
fn openssl_checks(dir: &Path, entries: &[Value], public_pem: &str) -> usize {
    let work = dir.join("openssl");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("pub.pem"), public_pem).unwrap();
    let amount = |minor: i64| {
        format!(
            "{}{}.{:02}",
            if minor < 0 { "-" } else { "" },
            minor.abs() / 100,
            minor.abs() % 100
        )
    };
    let mut previous = "0".to_string();
    let mut n = 0;
    for e in entries.iter().filter(|e| !e["nr"].is_null()) {
        let text = format!(
            "{previous};{};{};{};{};{}",
            e["local_date"].as_str().unwrap(),
            e["local_time"].as_str().unwrap(),
            e["nr"],
            amount(e["gross_minor"].as_i64().unwrap()),
            amount(e["net_minor"].as_i64().unwrap())
        );
        let sig = e["signature"].as_str().unwrap();
        saft_check::openssl_verify(&work, &text, sig)
            .unwrap_or_else(|err| panic!("receipt {}: {err}", e["nr"]));
        previous = sig.to_string();
        n += 1;
    }
    n
}

#[test]
fn without_a_keyring_no_sale_starts_and_nothing_is_recorded() {
    let dir = DataDir::new("j-nokeyring");
    let order = coffee_and_mug_order(&dir);
    let out = cli_env(
        &dir.0,
        &["charge", "--order", &order, "--json"],
        None,
        &[
            (
                "DBUS_SESSION_BUS_ADDRESS",
                &format!("unix:path={}/no-such-bus", dir.0.display()),
            ),
            ("DISPLAY", ""),
        ],
    );
    assert_refused(&out, 3, "no sale can start: ");
    let err = stderr(&out);
    assert!(
        err.contains("[signing_key]") && err.contains("no usable OS keyring"),
        "{err}"
    );
    assert_eq!(stdout(&out), "", "no URL was shown");
    let sessions = ok_json(&cli(&dir.0, &["sessions", "--json"], None));
    assert_eq!(sessions, Value::Array(vec![]), "no session was created");
    assert!(journal(&dir.0).is_empty(), "no key, no entry");
}

#[test]
fn operators_pins_and_roles_on_the_command_line() {
    let dir = DataDir::new("j-operators");
    let out = cli(&dir.0, &["operator", "list"], None);
    assert!(stdout(&out).contains("no operators: Kassa runs as operator 1, the owner"));
    // The first operator must be a manager; nobody else is there to add the rest.
    assert_refused(
        &cli(
            &dir.0,
            &["operator", "add", "--name", "Kari", "--role", "cashier"],
            Some(CASHIER_PIN),
        ),
        2,
        "the first operator must be a manager",
    );
    assert_refused(
        &cli(
            &dir.0,
            &["operator", "add", "--name", "Ola", "--role", "manager"],
            Some("12ab-not-a-pin-7f3e"),
        ),
        2,
        "a PIN is 4 to 16 digits",
    );
    two_operators(&dir.0);
    let list = ok_json(&cli(&dir.0, &["operator", "list", "--json"], None));
    assert_eq!(list[0]["name"], "Ola");
    assert_eq!(list[1]["role"], "cashier");
    assert!(!list.to_string().contains("argon2"), "never the PIN's hash");
    // Operators exist: acting needs --operator and the right PIN.
    assert_refused(
        &cli(&dir.0, &["config", "set", "shop.name", "Bakeriet"], None),
        2,
        "[login_required]",
    );
    assert_refused(
        &as_operator(
            &dir.0,
            "1",
            "9304718265530",
            &["config", "set", "shop.name", "X"],
        ),
        2,
        "wrong PIN for operator 1 [wrong_pin]",
    );
    assert_refused(
        &as_operator(
            &dir.0,
            "2",
            CASHIER_PIN,
            &["config", "set", "shop.name", "X"],
        ),
        2,
        "changing a setting needs a manager: operator 2 (Kari) is a cashier",
    );
    let out = as_operator(
        &dir.0,
        "1",
        MANAGER_PIN,
        &["config", "set", "shop.name", "Bakeriet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = as_operator(&dir.0, "1", MANAGER_PIN, &["operator", "remove", "2"]);
    assert_eq!(stdout(&out).trim(), "removed operator 2 (Kari)");
    assert_refused(
        &as_operator(&dir.0, "1", MANAGER_PIN, &["operator", "remove", "1"]),
        2,
        "the last manager",
    );
    let entries = journal(&dir.0);
    assert_eq!(
        kinds(&entries),
        [
            "operator_change",
            "login",
            "operator_change",
            "logout",
            "login_failed",
            "login",
            "logout",
            "login",
            "settings_change",
            "logout",
            "login",
            "operator_change",
            "logout",
            "login",
            "logout"
        ]
    );
    let change = entries
        .iter()
        .find(|e| e["kind"] == "settings_change")
        .unwrap();
    assert_eq!(change["operator_id"], 1);
    assert_eq!(change["event_code"], "13999");
    assert_eq!(
        (&change["body"]["key"], &change["body"]["to"]),
        (&"shop.name".into(), &"Bakeriet".into())
    );
    let text = serde_json::to_string(&entries).unwrap();
    for pin in [MANAGER_PIN, CASHIER_PIN] {
        assert!(!text.contains(pin), "a PIN in the journal");
    }
    let out = cli(&dir.0, &["journal", "verify"], None);
    assert!(stdout(&out).starts_with("journal verified: register 1: 15 entries, 0 signed"));
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn a_day_of_sales_and_a_refund_verifies_and_openssl_agrees_with_every_signature() {
    let dir = DataDir::new("j-day");
    let order = coffee_and_mug_order(&dir);
    let a = pay_demo(&dir.0, &order);
    let b = pay_demo(&dir.0, &order);
    let out = cli(&dir.0, &["refund", &a, "--line", "0:1", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(&dir.0, &["journal", "verify"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with(
            "journal verified: register 1: 4 entries, 3 signed receipts (key version 1), last hash "
        ),
        "{}",
        stdout(&out)
    );
    let entries = journal(&dir.0);
    assert_eq!(kinds(&entries), ["key_created", "sale", "sale", "return"]);
    let sale_a = &entries[1];
    assert_eq!(
        (
            &sale_a["session_id"],
            &sale_a["nr"],
            &sale_a["gross_minor"],
            &sale_a["net_minor"]
        ),
        (
            &Value::from(a.as_str()),
            &1.into(),
            &16900.into(),
            &14000.into()
        )
    );
    assert_eq!(sale_a["event_code"], "13012");
    assert_eq!(sale_a["body"]["demo"], true);
    assert_eq!(sale_a["body"]["payment"]["standing"], "captured");
    assert_eq!(sale_a["body"]["operator"]["id"], 1);
    assert_eq!(entries[2]["session_id"], b.as_str());
    let ret = &entries[3];
    assert_eq!(
        (
            &ret["nr"],
            &ret["gross_minor"],
            &ret["net_minor"],
            &ret["body"]["original_nr"]
        ),
        (&3.into(), &(-3450).into(), &(-3000).into(), &1.into())
    );
    // The public key, as the shop hands it to the tax office, and openssl's own check.
    let out = cli(&dir.0, &["journal", "public-key"], None);
    let pem = stdout(&out);
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    assert!(stderr(&out).contains("key version 1"));
    assert_eq!(openssl_checks(&dir.0, &entries, &pem), 3);
    // By the till's local date: today has them all, tomorrow none.
    let today = entries[0]["local_date"].as_str().unwrap();
    let on = |from: &str, to: &str| {
        ok_json(&cli(
            &dir.0,
            &["journal", "list", "--json", "--from", from, "--to", to],
            None,
        ))
        .as_array()
        .unwrap()
        .len()
    };
    assert_eq!(on(today, today), 4);
    assert_eq!(on("2999-01-01", "2999-12-31"), 0);
    assert_refused(
        &cli(&dir.0, &["journal", "list", "--from", "today"], None),
        2,
        "not a date",
    );
    let table = stdout(&cli(&dir.0, &["journal", "list"], None));
    assert!(table.contains("sale") && table.contains("13013"), "{table}");
}

/// A copy of `dir`'s database in a fresh data directory, its triggers dropped, `sql` applied:
/// what `journal verify` says of it.
fn tampered(dir: &DataDir, name: &str, sql: &str) -> Output {
    let copy = DataDir::new(name);
    let db = rusqlite::Connection::open(dir.0.join("sessions.db")).unwrap();
    db.execute(
        "VACUUM INTO ?1",
        [copy.0.join("sessions.db").to_str().unwrap()],
    )
    .unwrap();
    let c = rusqlite::Connection::open(copy.0.join("sessions.db")).unwrap();
    c.execute_batch(&format!(
        "DROP TRIGGER journal_append_only_update; DROP TRIGGER journal_append_only_delete; {sql}"
    ))
    .unwrap();
    drop(c);
    cli(&copy.0, &["journal", "verify"], None)
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn tampering_with_a_copy_is_found_and_the_entry_named() {
    let dir = DataDir::new("j-tamper");
    let order = coffee_and_mug_order(&dir);
    for _ in 0..3 {
        pay_demo(&dir.0, &order);
    }
    // key_created (1), sales 2, 3, 4 (receipts 1, 2, 3).
    let out = tampered(
        &dir,
        "j-amount",
        "UPDATE journal SET gross_minor = 16800 WHERE nr = 2",
    );
    assert_refused(
        &out,
        1,
        "the journal does not verify: entry 3 (register 1): its hash does not match its content",
    );
    let out = tampered(&dir, "j-delete", "DELETE FROM journal WHERE seq = 3");
    assert_refused(
        &out,
        1,
        "entry 4 (register 1): it follows entry 2: entry 3 is missing",
    );
    let out = tampered(
        &dir,
        "j-swap",
        "UPDATE journal SET seq = 1000 WHERE seq = 2;
         UPDATE journal SET seq = 2 WHERE seq = 3;
         UPDATE journal SET seq = 3 WHERE seq = 1000;",
    );
    assert_refused(&out, 1, "entry 2 (register 1): its previous hash");
    let out = tampered(&dir, "j-tail", "DELETE FROM journal WHERE seq = 4");
    assert_refused(&out, 1, "is paid but has no sales receipt in the journal");
    // The original is untouched and verifies.
    let out = cli(&dir.0, &["journal", "verify"], None);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn a_cashier_sells_and_only_a_manager_refunds() {
    let dir = DataDir::new("j-roles");
    let order = coffee_and_mug_order(&dir);
    two_operators(&dir.0);
    let id = pay_demo_as(&dir.0, &order, Some(("2", CASHIER_PIN)));
    assert_refused(
        &as_operator(&dir.0, "2", CASHIER_PIN, &["refund", &id]),
        2,
        "refund needs a manager: operator 2 (Kari) is a cashier",
    );
    let out = as_operator(&dir.0, "1", MANAGER_PIN, &["refund", &id, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let entries = journal(&dir.0);
    let sale = entries.iter().find(|e| e["kind"] == "sale").unwrap();
    assert_eq!(
        (&sale["operator_id"], &sale["body"]["operator"]["name"]),
        (&2.into(), &"Kari".into())
    );
    let ret = entries.iter().find(|e| e["kind"] == "return").unwrap();
    assert_eq!(
        (&ret["operator_id"], &ret["body"]["operator"]["name"]),
        (&1.into(), &"Ola".into())
    );
    assert_eq!(ret["gross_minor"], -16900);
    let out = cli(&dir.0, &["journal", "verify"], None);
    assert!(out.status.success(), "{}", stderr(&out));
}
