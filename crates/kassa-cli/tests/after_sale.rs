//! `kassa-cli capture`, `refund` and `void` end to end over loopback: CLI → checkout (the
//! operation records) → the provider's client → the sandbox's emulator, the session log on a
//! real SQLite file. Every sale needs the OS keyring (the journal's signing key; Dintero's and
//! Opencharge's credentials too), so they are `#[ignore]`d for a bare `cargo test`; `make test`
//! runs them in a throwaway keyring.
//!
//! What each provider's sale needs here is one [`Sale`] row: its shop's provider, how a sale is
//! paid in the sandbox ([`Shop::sell`]: Bambora in the till's window, whose accept URL brings
//! the transaction id, the others by QR), and how long its authorization is held. The same
//! tests run for every row: refunds in parts of a sale captured at sale, manual captures in
//! parts and a void, and the warning before an authorization lapses. Every refusal is checked
//! against the emulator's own record: nothing moved.

mod common;
use common::held::moved_of;
use common::shop::*;
use common::*;
use serde_json::Value;
use std::process::Output;

/// How one provider's sales are made and paid in these tests.
pub struct Sale {
    pub provider: &'static str,
    /// Charges the shop's order and has the customer pay: the session id (paid).
    pub pay: fn(&Shop) -> String,
    /// How long the provider's record says (or Kassa assumes, where it does not) an uncaptured
    /// authorization holds, in days.
    pub authorization_days: i64,
}

const DINTERO: Sale = Sale {
    provider: "dintero",
    pay: |shop| shop.sell("dintero"),
    // The emulator's payment product is no card type Dintero names: the shortest it documents.
    authorization_days: 7,
};

const KLARNA: Sale = Sale {
    provider: "klarna",
    pay: |shop| shop.sell("klarna"),
    // The order's `expires_at` (the emulated account's 28 days).
    authorization_days: 28,
};

const BAMBORA: Sale = Sale {
    provider: "bambora",
    pay: |shop| shop.sell("bambora"),
    // Assumed: Bambora documents none.
    authorization_days: 7,
};

const COMMERCELAYER: Sale = Sale {
    provider: "commercelayer",
    pay: |shop| shop.sell("commercelayer"),
    // Assumed: Commerce Layer documents none.
    authorization_days: 7,
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

/// The refunds `sale`'s emulator holds for session `id`: (count, sum).
fn refunds_held(shop: &Shop, sale: &Sale, id: &str) -> (usize, i64) {
    let held = moved_of(shop, sale.provider, &shop.session(id), "refund");
    (held.len(), held.iter().map(|m| m.amount).sum())
}

/// Refunds by lines twice, by amount, the rest, then every refusal: the refund rules through
/// the whole stack, at any provider that refunds by API. The emulator's own record holds
/// exactly the four refunds, and nothing of the refused ones.
fn refunds_in_parts(shop: &Shop, sale: &Sale, id: &str) {
    let s = shop.session(id);
    let gross = s["gross_minor"].as_i64().unwrap();
    assert_eq!(s["captured_amount"], gross, "captured at sale: {s}");
    assert_eq!(s["capture_due"], false, "{s}");
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
    let two = r1["amount"].as_i64().unwrap() + r2["amount"].as_i64().unwrap();
    assert_eq!(refunds_held(shop, sale, id), (2, two));
    // Beyond what is left of a line, or of the sale: refused, nothing sent.
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
    assert_refused(
        &shop.cli(&["refund", id, "--amount", &(gross - two + 1).to_string()]),
        2,
        "more than",
    );
    assert_eq!(
        refunds_held(shop, sale, id),
        (2, two),
        "nothing moved at {}",
        sale.provider
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
    // The emulator: the four refunds, once each, adding up to the sale.
    assert_eq!(refunds_held(shop, sale, id), (4, gross));
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
        events(&s).matches("refund refused").count() >= 5,
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

/// Days from now to an RFC 3339 time.
fn days_until(at: &Value) -> f64 {
    let t = kassa_core::time::parse_utc(at.as_str().unwrap_or_else(|| panic!("{at}"))).unwrap();
    (t - kassa_core::time::now_millis()) as f64 / 86_400_000.0
}

/// Under `manual`: the sale shows "authorized, not captured" with when its authorization
/// lapses, and warns two days before; staff capture it in parts (a refusal of too much moves
/// nothing); a second sale is voided, after which nothing can be captured.
fn manual_capture_in_parts_and_void(name: &str, sale: &Sale) {
    let shop = Shop::for_provider(name, sale.provider);
    shop.config(&format!("{}.capture", sale.provider), "manual");
    let id = (sale.pay)(&shop);
    let s = shop.session(&id);
    let gross = s["gross_minor"].as_i64().unwrap();
    assert_eq!(
        (s["capture_policy"].as_str(), s["captured_amount"].as_i64()),
        (Some("manual"), Some(0))
    );
    assert!(s["operations"].as_array().unwrap().is_empty(), "{s}");
    // Authorized, not captured, and when it lapses (read when it was paid).
    assert_eq!(
        (s["capture_due"].as_bool(), s["expires_soon"].as_bool()),
        (Some(true), Some(false))
    );
    let days = days_until(&s["authorization_expires_at"]);
    let want = sale.authorization_days as f64;
    assert!((want - 0.01..=want).contains(&days), "{days} days: {s}");
    let text = stdout(&shop.cli(&["session", &id]));
    assert!(
        text.contains("authorized, not captured: capture before"),
        "{text}"
    );
    let list = stdout(&shop.cli(&["sessions"]));
    assert!(
        list.contains("authorized, not captured: capture before"),
        "{list}"
    );
    // Two days before it lapses, history warns.
    shop.age_authorization(&id, 36 * 3600 * 1000);
    let s = shop.session(&id);
    assert_eq!(s["expires_soon"], true, "{s}");
    let list = stdout(&shop.cli(&["sessions"]));
    assert!(
        list.contains("WARNING: authorized, not captured; the authorization lapses at")
            && list.contains(&format!("kassa-cli capture {id}")),
        "{list}"
    );
    // Authorized, not captured: no refund yet; no capture of nothing or of too much.
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
    assert!(
        moved_of(&shop, sale.provider, &shop.session(&id), "capture").is_empty(),
        "nothing captured at {}",
        sale.provider
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
    // Still due, until all is captured.
    assert_eq!(shop.session(&id)["capture_due"], true);
    // Part captured: the rest is not voided here (captured money is refunded instead).
    assert_refused(&shop.cli(&["void", &id]), 2, "refund it instead");
    let c2 = op(&shop.cli(&["capture", &id, "--json"]));
    assert_eq!(c2["amount"], gross - 1000);
    assert_refused(&shop.cli(&["capture", &id]), 2, "nothing left to capture");
    let held = moved_of(&shop, sale.provider, &shop.session(&id), "capture");
    assert_eq!(
        held.iter().map(|m| m.amount).collect::<Vec<_>>(),
        [1000, gross - 1000],
        "{held:?}"
    );
    // Captured: nothing due, nothing left to lapse, no warning.
    let s = shop.session(&id);
    assert_eq!(
        (
            s["capture_due"].as_bool(),
            s["expires_soon"].as_bool(),
            s["authorization_expires_at"].is_null()
        ),
        (Some(false), Some(false), true),
        "{s}"
    );
    assert!(!stdout(&shop.cli(&["sessions"])).contains("authorized, not captured"));
    let r = op(&shop.cli(&["refund", &id, "--amount", "700", "--json"]));
    assert_eq!(r["refunded_after"], 700);
    // Another sale, voided while only authorized; then nothing can be captured.
    let id2 = (sale.pay)(&shop);
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
    let s2 = shop.session(&id2);
    assert_eq!(s2["capture_due"], false, "a voided sale is not due: {s2}");
    assert!(moved_of(&shop, sale.provider, &s2, "capture").is_empty());
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
fn dintero_refunds_whole_by_amount_and_by_lines() {
    let shop = Shop::for_provider("as-dintero-refunds", DINTERO.provider);
    let id = (DINTERO.pay)(&shop);
    refunds_in_parts(&shop, &DINTERO, &id);
    assert_no_secret_stored(&shop.dir.0, &[DINTERO_CLIENT_SECRET]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn dintero_manual_capture_in_parts_and_void() {
    manual_capture_in_parts_and_void("as-dintero-manual", &DINTERO);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn klarna_refunds_whole_by_amount_and_by_lines() {
    let shop = Shop::for_provider("as-klarna-refunds", KLARNA.provider);
    let id = (KLARNA.pay)(&shop);
    refunds_in_parts(&shop, &KLARNA, &id);
    assert_no_secret_stored(&shop.dir.0, &[KLARNA_PASSWORD]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn klarna_manual_capture_in_parts_and_void() {
    manual_capture_in_parts_and_void("as-klarna-manual", &KLARNA);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn bambora_refunds_whole_by_amount_and_by_lines() {
    let shop = Shop::for_provider("as-bambora-refunds", BAMBORA.provider);
    let id = (BAMBORA.pay)(&shop);
    refunds_in_parts(&shop, &BAMBORA, &id);
    assert_no_secret_stored(&shop.dir.0, &[ACCESS_TOKEN, SECRET_TOKEN, MD5_KEY]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn bambora_manual_capture_in_parts_and_void() {
    manual_capture_in_parts_and_void("as-bambora-manual", &BAMBORA);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn commercelayer_refunds_whole_by_amount_and_by_lines() {
    let shop = Shop::for_provider("as-cl-refunds", COMMERCELAYER.provider);
    let id = (COMMERCELAYER.pay)(&shop);
    refunds_in_parts(&shop, &COMMERCELAYER, &id);
    assert_no_secret_stored(
        &shop.dir.0,
        &[CL_CLIENT_ID, CL_CLIENT_SECRET, CL_SALES_CHANNEL],
    );
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn commercelayer_manual_capture_in_parts_and_void() {
    manual_capture_in_parts_and_void("as-cl-manual", &COMMERCELAYER);
}

/// A Bambora QR sale (a payment request) has no transaction id, and Bambora documents no way
/// to find it: after staff confirm the payment, capture, refund and void are refused with that
/// reason, and nothing but the payment request's status read reaches Bambora.
#[test]
#[ignore = "needs the OS keyring (make test)"]
fn bambora_qr_sales_are_refused_with_the_reason_and_nothing_is_sent() {
    let shop = Shop::for_provider("as-bambora-qr", "bambora");
    let (id, psid, _) = shop.open(false);
    assert!(psid.starts_with("paymentrequest/"), "{psid}");
    shop.outcome(
        &format!(
            "/bambora/paymentrequests/{}",
            psid.split_once('/').unwrap().1
        ),
        "pay",
    );
    assert_eq!(shop.status(&id)["status"], "needs_review");
    let out = shop.cli(&[
        "review",
        &id,
        "paid",
        "--note",
        "seen in the back office",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let requests = || {
        control_get(&shop.sandbox, "/stats")["requests"]
            .as_u64()
            .unwrap()
    };
    for args in [
        vec!["refund", id.as_str(), "--amount", "500"],
        vec!["capture", id.as_str()],
        vec!["void", id.as_str()],
    ] {
        let before = requests();
        let out = shop.cli(&args);
        assert_refused(
            &out,
            2,
            "of a QR sale: Bambora does not tell Kassa the transaction of a payment request; \
             capture/refund it in the Bambora back office",
        );
        // Only the status read that looks for the transaction id (the payment request's).
        assert!(
            requests() - before <= 1,
            "{args:?}: sent more than a status read"
        );
    }
    let s = shop.session(&id);
    assert!(s["operations"].as_array().unwrap().is_empty(), "{s}");
    assert_eq!(
        s["capture_due"], false,
        "staff's verdict is no authorization Kassa knows"
    );
    assert!(
        events(&s).matches("refused [unsupported]").count() == 3,
        "{}",
        events(&s)
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
    let id = shop.sell("dintero");
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
