//! `kassa-cli capture`, `refund` and `void` end to end over loopback: CLI → checkout (the
//! operation records) → the provider's client → the sandbox's emulator, the session log on a
//! real SQLite file. Every sale needs the OS keyring (the journal's signing key; Dintero's and
//! Opencharge's credentials too), so they are `#[ignore]`d for a bare `cargo test`; `make test`
//! runs them in a throwaway keyring.
//!
//! What each provider's sale needs here is one [`Sale`] row: its shop, how a sale is paid in
//! the sandbox, and what its capture at sale does. Klarna, Bambora and Commerce Layer plug in
//! with a row each.

mod common;
use common::shop::*;
use common::*;
use serde_json::Value;
use std::process::Output;

/// How one provider's sales are made and paid in these tests.
pub struct Sale {
    pub provider: &'static str,
    /// Charges the shop's order and has the customer pay: the session id (paid).
    pub pay: fn(&Shop) -> String,
}

/// Dintero: charge (QR), the customer pays on the hosted page, a status read sees it paid.
fn pay_dintero(shop: &Shop) -> String {
    let (id, psid, _) = shop.open(false);
    shop.outcome(&format!("/dintero/sessions/{psid}"), "pay");
    assert_eq!(shop.status(&id)["status"], "paid");
    id
}

const DINTERO: Sale = Sale {
    provider: "dintero",
    pay: pay_dintero,
};

fn op(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    json(out)
}

/// The order's lines as charged (`session --json`): (gross, vat) each.
fn lines(s: &Value) -> Vec<(i64, i64)> {
    s["order"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["gross"].as_i64().unwrap(), l["vat"].as_i64().unwrap()))
        .collect()
}

/// Refunds by lines twice, by amount, the rest, then every refusal: the refund rules through
/// the whole stack, at any provider that refunds by API.
fn refunds_in_parts(shop: &Shop, id: &str) {
    let s = shop.session(id);
    let gross = s["gross_minor"].as_i64().unwrap();
    assert_eq!(s["captured_amount"], gross, "captured at sale: {s}");
    let l = lines(&s);
    // One of three coffees: a third of the line, VAT with the cumulative rounding.
    let r1 = op(&shop.cli(&["refund", id, "--line", "0:1", "--reason", "spilt", "--json"]));
    let third = (l[0].0 as f64 / 3.0).round() as i64;
    assert_eq!(r1["state"], "done", "{r1}");
    assert_eq!(r1["amount"], third, "{r1}");
    assert_eq!(r1["lines"][0]["quantity"], "1");
    assert_eq!(r1["kind"], "refund");
    assert!(r1["provider_reference"].is_string(), "{r1}");
    // Two more lines at once: the second coffee and the buns.
    let r2 = op(&shop.cli(&["refund", id, "--line", "0:1", "--line", "2:2", "--json"]));
    assert_eq!(r2["lines"].as_array().unwrap().len(), 2);
    assert_eq!(r2["lines"][1]["gross"], l[2].0, "all of line 2: {r2}");
    // Beyond what is left of a line: refused, nothing sent.
    assert_refused(
        &shop.cli(&["refund", id, "--line", "2:1"]),
        2,
        "line 2: 1 is more than what is left of it (0)",
    );
    assert_refused(
        &shop.cli(&["refund", id, "--line", "7:1"]),
        2,
        "line 7 does not exist",
    );
    // By amount, then everything left.
    let r3 = op(&shop.cli(&["refund", id, "--amount", "500", "--json"]));
    assert_eq!(r3["amount"], 500);
    assert!(
        r3["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["quantity"] == "0"),
        "{r3}"
    );
    let r4 = op(&shop.cli(&["refund", id, "--json"]));
    let refunded: i64 = [&r1, &r2, &r3, &r4]
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(refunded, gross);
    // Nothing more.
    assert_refused(
        &shop.cli(&["refund", id, "--amount", "1"]),
        2,
        "amount_exceeds",
    );
    assert_refused(&shop.cli(&["refund", id]), 2, "nothing");
    assert_refused(&shop.cli(&["void", id]), 2, "refund it instead");
    // The session: captured and refunded, each operation with its evidence.
    let s = shop.session(id);
    assert_eq!(
        (s["captured_amount"].as_i64(), s["refunded_amount"].as_i64()),
        (Some(gross), Some(gross))
    );
    let ops = s["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 5, "{s}");
    assert_eq!(ops[0]["kind"], "capture");
    assert!(
        ops.iter()
            .all(|o| o["state"] == "done" && o["at"].is_string()),
        "{s}"
    );
    assert_eq!(ops[4]["refunded_after"], gross);
    // Each refused attempt is in the session's events.
    assert!(
        events(&s).matches("refund refused").count() >= 4,
        "{}",
        events(&s)
    );
    // The CSV's last columns.
    let out = shop.cli(&["export", "--csv", "-"]);
    let csv = stdout(&out);
    let row = csv.lines().find(|r| r.starts_with(id)).unwrap();
    assert!(
        row.ends_with(&format!(
            ",{gross},{gross},{},{}",
            money(gross),
            money(gross)
        )),
        "{row}"
    );
}

fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn dintero_refunds_whole_by_amount_and_by_lines() {
    let shop = Shop::for_provider("as-dintero-refunds", DINTERO.provider);
    let id = (DINTERO.pay)(&shop);
    refunds_in_parts(&shop, &id);
    assert_no_secret_stored(&shop.dir.0, &[DINTERO_CLIENT_SECRET]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn dintero_manual_capture_in_parts_and_void() {
    let shop = Shop::for_provider("as-dintero-manual", "dintero");
    shop.config("dintero.capture", "manual");
    let id = pay_dintero(&shop);
    let s = shop.session(&id);
    let gross = s["gross_minor"].as_i64().unwrap();
    assert_eq!(
        (s["capture_policy"].as_str(), s["captured_amount"].as_i64()),
        (Some("manual"), Some(0))
    );
    assert!(s["operations"].as_array().unwrap().is_empty());
    // Authorized, not captured: no refund yet.
    assert_refused(
        &shop.cli(&["refund", &id, "--amount", "100"]),
        2,
        "nothing is captured",
    );
    assert_refused(
        &shop.cli(&["capture", &id, "--amount", "0"]),
        2,
        "more than zero",
    );
    assert_refused(
        &shop.cli(&["capture", &id, "--amount", &(gross + 1).to_string()]),
        2,
        "more than can be captured",
    );
    let c1 = op(&shop.cli(&["capture", &id, "--amount", "1000", "--json"]));
    assert_eq!(
        (
            c1["state"].as_str(),
            c1["amount"].as_i64(),
            c1["via"].as_str()
        ),
        (Some("done"), Some(1000), Some("api"))
    );
    assert_eq!(c1["captured_after"], 1000);
    let lines_sum: i64 = c1["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["gross"].as_i64().unwrap())
        .sum();
    assert_eq!(
        lines_sum, 1000,
        "a part capture is spread over the lines: {c1}"
    );
    // Once part captured, the authorization is not voided (Dintero: not for this product).
    assert_refused(&shop.cli(&["void", &id]), 2, "refund it instead");
    let c2 = op(&shop.cli(&["capture", &id, "--json"]));
    assert_eq!(c2["amount"], gross - 1000);
    assert_refused(&shop.cli(&["capture", &id]), 2, "nothing left to capture");
    let r = op(&shop.cli(&["refund", &id, "--amount", "700", "--json"]));
    assert_eq!(r["refunded_after"], 700);
    // Another sale, voided while only authorized; then nothing can be captured.
    let id2 = pay_dintero(&shop);
    let v = op(&shop.cli(&["void", &id2, "--json"]));
    assert_eq!(
        (
            v["kind"].as_str(),
            v["state"].as_str(),
            v["amount"].as_i64()
        ),
        (Some("void"), Some("done"), Some(gross))
    );
    assert_refused(&shop.cli(&["void", &id2]), 2, "already voided");
    assert_refused(&shop.cli(&["capture", &id2]), 2, "voided");
    // The text form.
    let out = shop.cli(&["session", &id]);
    let text = stdout(&out);
    assert!(
        text.contains("capture    manual") && text.contains("operations:"),
        "{text}"
    );
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn refusals_name_their_cause_and_send_nothing() {
    let shop = Shop::for_provider("as-refusals", "dintero");
    // An open (unpaid) session.
    let (id, _, _) = shop.open(false);
    assert_refused(
        &shop.cli(&["refund", &id]),
        2,
        "only a paid sale is refunded",
    );
    assert_refused(
        &shop.cli(&["capture", &id]),
        2,
        "only a paid sale is captured",
    );
    assert_refused(&shop.cli(&["void", &id]), 2, "only a paid sale is voided");
    // Bad arguments, before anything is opened.
    assert_refused(
        &shop.cli(&["refund", &id, "--line", "0"]),
        2,
        "expected N:QTY",
    );
    assert_refused(
        &shop.cli(&["refund", &id, "--line", "0:-1"]),
        2,
        "--line 0:-1",
    );
    assert_refused(
        &shop.cli(&["refund", &id, "--amount", "5", "--line", "0:1"]),
        2,
        "cannot be used with",
    );
    assert_refused(&shop.cli(&["refund", &id, "--recorded"]), 2, "--note");
    assert_refused(&shop.cli(&["refund", "not-an-id"]), 2, "not-an-id");
    // Dintero refunds by API: a recorded refund is refused.
    let id = pay_dintero(&shop);
    assert_refused(
        &shop.cli(&[
            "refund",
            &id,
            "--recorded",
            "--note",
            "cash back",
            "--amount",
            "100",
        ]),
        2,
        "refunds by API",
    );
    let requests = |shop: &Shop| {
        control_get(&shop.sandbox, "/stats")["requests"]
            .as_u64()
            .unwrap()
    };
    let before = requests(&shop);
    assert_refused(
        &shop.cli(&["refund", &id, "--amount", "99999999"]),
        2,
        "more than what is left",
    );
    // Refused by Kassa: the read of the payment, nothing sent (the token is cached per process).
    assert!(
        requests(&shop) - before <= 2,
        "only a token and the payment read"
    );
    let s = shop.session(&id);
    assert_eq!(
        s["operations"].as_array().unwrap().len(),
        1,
        "only the capture at sale: {s}"
    );
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn the_demo_refunds_too() {
    let dir = DataDir::new("as-demo");
    let order = dir.0.join("order.json");
    std::fs::write(&order, ORDER).unwrap();
    let id = pay_demo(&dir.0, order.to_str().unwrap());
    let cli = |args: &[&str]| common::cli(&dir.0, args, None);
    let s: Value = serde_json::from_str(&stdout(&cli(&["session", &id, "--json"]))).unwrap();
    assert_eq!(s["provider"], "demo");
    assert_eq!(s["capture_policy"], "at_sale", "the demo captures at sale");
    let gross = s["gross_minor"].as_i64().unwrap();
    assert_eq!(s["captured_amount"], gross);
    let r = json(&cli(&["refund", &id, "--line", "1:0.1", "--json"]));
    assert_eq!(
        (r["state"].as_str(), r["lines"][0]["quantity"].as_str()),
        (Some("done"), Some("0.1")),
        "{r}"
    );
    let r2 = json(&cli(&["refund", &id, "--line", "1:0.1", "--json"]));
    assert_eq!(r2["state"], "done");
    assert_refused(
        &cli(&["refund", &id, "--line", "1:0.2"]),
        2,
        "is more than what is left of it (0.15)",
    );
    let out = cli(&["refund", &id, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s: Value = serde_json::from_str(&stdout(&cli(&["session", &id, "--json"]))).unwrap();
    assert_eq!(s["refunded_amount"], gross, "{s}");
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn opencharge_refunds_are_recorded_by_staff() {
    let shop = Shop::for_provider("as-opencharge", "opencharge");
    let (id, _, _) = shop.open(false);
    for verdict in ["claimed", "paid"] {
        let out = shop.cli(&[
            "review",
            &id,
            verdict,
            "--note",
            "seen in the gateway",
            "--json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // No refund API: refused, saying how to record one.
    assert_refused(
        &shop.cli(&["refund", &id, "--amount", "500"]),
        2,
        "--recorded --note",
    );
    assert_refused(&shop.cli(&["capture", &id]), 2, "no capture API");
    let r = op(&shop.cli(&[
        "refund",
        &id,
        "--recorded",
        "--amount",
        "500",
        "--note",
        "bank transfer 4711",
        "--json",
    ]));
    assert_eq!(
        (
            r["kind"].as_str(),
            r["via"].as_str(),
            r["state"].as_str(),
            r["reason"].as_str()
        ),
        (
            Some("refund_recorded"),
            Some("staff"),
            Some("done"),
            Some("bank transfer 4711")
        )
    );
    assert!(
        r["provider_reference"].is_null() && r["refunded_after"].is_null(),
        "never the provider's evidence: {r}"
    );
    let s = shop.session(&id);
    let gross = s["gross_minor"].as_i64().unwrap();
    assert_eq!(s["refunded_amount"], 500);
    let op_events = s["operations"][0]["events"].to_string();
    assert!(
        op_events.contains("not opencharge's evidence"),
        "{op_events}"
    );
    let rest = gross - 500;
    assert_refused(
        &shop.cli(&[
            "refund",
            &id,
            "--recorded",
            "--note",
            "x",
            "--amount",
            &(rest + 1).to_string(),
        ]),
        2,
        "more than",
    );
    let r = op(&shop.cli(&[
        "refund",
        &id,
        "--recorded",
        "--note",
        "the rest in cash",
        "--json",
    ]));
    assert_eq!(r["amount"], rest);
}
