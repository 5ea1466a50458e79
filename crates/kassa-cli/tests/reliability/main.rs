//! Issue #10's reliability harness, end to end through `kassa-cli` against the sandbox's
//! emulators of the five real providers (the credentials live in the OS keyring, so these tests
//! are `#[ignore]`d for a bare `cargo test`; `make test` runs them in a throwaway keyring):
//!
//! - a charge `kill -9`ed at every step (intent logged; create in flight; provider answered but
//!   the answer not logged; polling; paid seen but not recorded; paid and its receipt entry
//!   recorded, the capture not settled), then the commands a restarted till runs: each session
//!   is in the log exactly once and its status agrees with what the emulator itself holds;
//! - every fault a create request can meet (refused, no connection, no answer, 5xx, 429, bad
//!   bodies, an untrusted certificate): named in the error, logged, and never paid;
//! - receipt copies and X and Z reports killed mid-way (`journal_records.rs`): whole or none,
//!   one copy and one Z a day at most;
//! - a link's charge (sent by SMS) and its renewal killed mid-way (`links.rs`): one session and
//!   one message at most, never a reused session, a second renewal refused, and a session
//!   Dintero created (and sent) before the kill found by its reference and followed as an open
//!   link, never settled `failed`; a link's send and resend killed mid-way and faulted: every
//!   message has its logged attempt, a cut-short or unanswered one is said `send_unknown`,
//!   nothing is sent again by Kassa itself;
//! - the journal after each till's crashes ([`Receipts`]): every paid sale has exactly one sales
//!   receipt entry and every done refund or void one return entry (0 missing, 0 twice), an
//!   unpaid sale none, and `journal verify` passes.
//!
//! The demo provider is left out of the charge harness: its emulator runs inside the
//! `kassa-cli` process, so a `kill -9` takes the provider down with the till and there is no
//! session page left to pay on. Single-case versions of these live in `charge.rs` (Dintero) and
//! the provider test files. Captures and refunds (`after_sale.rs`) have their own harness,
//! the demo included (its emulator's saved state outlives the process).

mod after_sale;
#[path = "../common/mod.rs"]
mod common;
mod journal_records;
mod links;
use common::shop::*;
use common::*;
use kassa_core::http::{Http, HttpConfig, Method, Request};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const PROVIDERS: [&str; 5] = [
    "dintero",
    "bambora",
    "klarna",
    "commercelayer",
    "opencharge",
];

/// How long any one wait in these tests may take before it is a failure (a safety net, not a
/// measurement: every wait normally ends in well under a second).
const SAFETY: Duration = Duration::from_secs(60);

/// The create request the faults aim at: the POST whose answer carries the id Kassa records as
/// the provider's session id (QR presentation). Klarna's KP session (`/payments/v1/sessions`)
/// and Commerce Layer's line items, payment source and link are the other POSTs of a create.
fn create_path(provider: &str) -> &'static str {
    match provider {
        "dintero" => "/v1/sessions-profile",
        "bambora" => "/paymentrequests",
        "klarna" => "/hpp/v1/sessions",
        "commercelayer" => "/api/orders",
        "opencharge" => "/pg/checkout/create",
        other => panic!("{other}?"),
    }
}

/// How many requests a create sends up to and including [`create_path`]'s, in a fresh process
/// whose log has nothing to reconcile: Dintero and Commerce Layer fetch a token first, Klarna
/// creates the KP session first.
fn requests_to_create(provider: &str) -> u64 {
    match provider {
        "dintero" | "klarna" | "commercelayer" => 2,
        _ => 1,
    }
}

fn http() -> Http {
    Http::new(HttpConfig::default()).unwrap()
}

/// A GET at the sandbox: (HTTP status, JSON body or null).
fn get(url: &str, headers: &[(&'static str, String)]) -> (u16, Value) {
    let mut r = Request::new(Method::Get, url);
    for (k, v) in headers {
        r = r.header(k, v.clone());
    }
    let resp = http().send("sandbox", &r).unwrap();
    let body = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    (resp.status, body)
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn clear_faults(shop: &Shop) {
    let r = http()
        .send(
            "sandbox",
            &Request::new(
                Method::Delete,
                format!("{}/_control/faults", shop.sandbox.url()),
            ),
        )
        .unwrap();
    assert!(r.status < 300);
}

/// Every session in the shop's log, after the reconciliation `sessions` runs first.
fn list(shop: &Shop) -> Vec<Value> {
    let out = shop.cli(&["sessions", "--json", "--limit", "1000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn ids(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// A `kassa-cli` command running in the background (a charge, a refund…), its output read line
/// by line.
struct Running {
    child: Child,
    args: Vec<String>,
    out: Receiver<String>,
    err: Receiver<String>,
    said: Vec<String>,
    /// Every line read from either stream, kept for the secrets audit when it is killed.
    seen: Vec<String>,
}

impl Running {
    /// `kassa-cli charge --order <the shop's order> --json <extra>`.
    fn charge(shop: &Shop, extra: &[&str], env: &[(&str, &str)]) -> Running {
        let mut args = vec!["charge", "--order", &shop.order, "--json"];
        args.extend_from_slice(extra);
        Running::start(&shop.dir.0, &args, env)
    }

    fn start(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut child = kassa_cli(dir, args, env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        fn lines(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        }
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        Running {
            child,
            args: args.iter().map(|a| a.to_string()).collect(),
            out,
            err,
            said: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// The first line on standard output (the `--json` session object).
    fn first_json(&mut self) -> Value {
        match self.out.recv_timeout(SAFETY) {
            Ok(line) => {
                let line = self.saw(line);
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
            }
            Err(e) => panic!("no session printed ({e}); stderr: {:?}", self.drain_err()),
        }
    }

    /// Waits for `text` on standard error (the pause point's `KASSA_PAUSED <step>`).
    fn wait_stderr(&mut self, text: &str) {
        let deadline = Instant::now() + SAFETY;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.err.recv_timeout(left) {
                Ok(line) if line.contains(text) => {
                    self.saw(line);
                    return;
                }
                Ok(line) => {
                    let line = self.saw(line);
                    self.said.push(line)
                }
                Err(e) => panic!("no {text:?} ({e}); stderr: {:?}", self.said),
            }
        }
    }

    fn drain_err(&mut self) -> Vec<String> {
        while let Ok(l) = self.err.recv_timeout(Duration::from_millis(200)) {
            let l = self.saw(l);
            self.said.push(l);
        }
        self.said.clone()
    }

    fn saw(&mut self, line: String) -> String {
        self.seen.push(line.clone());
        line
    }

    /// `kill -9` (`Child::kill` is SIGKILL on Unix). Panics if it had already exited: then the
    /// step under test was not where the process was.
    fn kill9(mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let command = self.args[0].clone();
            panic!(
                "kassa-cli {command} ended by itself ({status}); stderr: {:?}",
                self.drain_err()
            );
        }
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        // The readers end with the pipes: whatever they still hold goes to the audit too.
        let rest: Vec<String> = self.out.iter().chain(self.err.iter()).collect();
        let text = self
            .seen
            .iter()
            .chain(&rest)
            .fold(String::new(), |t, l| t + l + "\n");
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        keep_text(&args, &[text.as_bytes()]);
    }
}

// ---- What the emulator itself holds ----

/// What an emulator says about a sale, read from its control API or its own API (never through
/// Kassa's clients). `None`: this emulator cannot be asked without the provider's session id.
struct Emulated {
    exists: Option<bool>,
    paid: Option<bool>,
    said: String,
}

impl Emulated {
    fn unknown(why: &str) -> Emulated {
        Emulated {
            exists: None,
            paid: None,
            said: why.into(),
        }
    }
}

/// The emulator's view of the logged session `s` (the `session --json` object).
fn emulated(shop: &Shop, provider: &str, s: &Value) -> Emulated {
    let base = shop.sandbox.url();
    let reference = s["merchant_reference"].as_str().unwrap();
    let psid = s["provider_session_id"].as_str();
    match provider {
        // The emulator's saved state: its sessions (by the order's merchant reference) and
        // their transactions.
        "dintero" => {
            let state = shop.dintero_state();
            let by_ref = |kind: &str, field: &dyn Fn(&Value) -> &Value| -> Vec<Value> {
                state[kind]
                    .as_object()
                    .map(|m| {
                        m.values()
                            .filter(|v| field(v).as_str() == Some(reference))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let sessions = by_ref("sessions", &|v| &v["order"]["merchant_reference"]);
            let txns = by_ref("transactions", &|v| &v["merchant_reference"]);
            let paid = txns
                .iter()
                .any(|t| matches!(t["status"].as_str(), Some("AUTHORIZED" | "CAPTURED")));
            Emulated {
                exists: Some(!sessions.is_empty()),
                paid: Some(paid),
                said: format!(
                    "{} session(s), transactions {:?}",
                    sessions.len(),
                    txns.iter().map(|t| &t["status"]).collect::<Vec<_>>()
                ),
            }
        }
        // The Payment Request API (a QR sale), as the merchant.
        "bambora" => match psid.and_then(|p| p.strip_prefix("paymentrequest/")) {
            Some(id) => {
                let auth = basic(&format!("{ACCESS_TOKEN}@{MERCHANT}"), SECRET_TOKEN);
                let (status, v) = get(
                    &format!("{base}/bambora/paymentrequests/{id}"),
                    &[("authorization", auth)],
                );
                Emulated {
                    exists: Some(status == 200),
                    paid: Some(v["status"] == "closed"),
                    said: format!("payment request {id}: HTTP {status} {}", v["status"]),
                }
            }
            None => Emulated::unknown("Bambora cannot be searched by reference"),
        },
        // The HPP session, and the order it completed into (Order Management).
        "klarna" => match psid {
            Some(hpp) => {
                let auth = [("authorization", basic(KLARNA_USER, KLARNA_PASSWORD))];
                let (status, v) = get(&format!("{base}/klarna/hpp/v1/sessions/{hpp}"), &auth);
                let mut said = format!("HPP {hpp}: HTTP {status} {}", v["status"]);
                let paid = match v["order_id"].as_str() {
                    Some(order) => {
                        let (_, o) = get(
                            &format!("{base}/klarna/ordermanagement/v1/orders/{order}"),
                            &auth,
                        );
                        said.push_str(&format!(
                            ", order {order} {} fraud {} amount {}",
                            o["status"], o["fraud_status"], o["order_amount"]
                        ));
                        o["fraud_status"] == "ACCEPTED"
                            && matches!(o["status"].as_str(), Some("AUTHORIZED" | "CAPTURED"))
                            && o["order_amount"] == s["gross_minor"]
                    }
                    None => false,
                };
                Emulated {
                    exists: Some(status == 200),
                    paid: Some(paid),
                    said,
                }
            }
            None => Emulated::unknown("Klarna cannot be searched by reference"),
        },
        // The order: by id through the control API, else by reference through the Core API.
        "commercelayer" => {
            let orders: Vec<Value> = match psid {
                Some(id) => {
                    let (status, v) =
                        get(&format!("{base}/_control/commercelayer/orders/{id}"), &[]);
                    if status == 200 {
                        vec![v["data"].clone()]
                    } else {
                        vec![]
                    }
                }
                None => {
                    let (status, v) = get(
                        &format!(
                            "{base}/commercelayer/api/orders?filter[q][reference_eq]={reference}"
                        ),
                        &[
                            ("authorization", format!("Bearer {}", cl_token(shop))),
                            ("accept", "application/vnd.api+json".into()),
                        ],
                    );
                    assert_eq!(status, 200, "{v}");
                    v["data"].as_array().cloned().unwrap_or_default()
                }
            };
            let states: Vec<(String, String)> = orders
                .iter()
                .map(|o| {
                    let a = &o["attributes"];
                    (
                        a["status"].as_str().unwrap_or("?").to_string(),
                        a["payment_status"].as_str().unwrap_or("?").to_string(),
                    )
                })
                .collect();
            Emulated {
                exists: Some(!orders.is_empty()),
                paid: Some(states.iter().any(|(st, pay)| {
                    matches!(st.as_str(), "placed" | "approved")
                        && matches!(pay.as_str(), "authorized" | "paid")
                })),
                said: format!("orders {states:?}"),
            }
        }
        // The checkout session of the order (Kassa's session id is the order id).
        "opencharge" => {
            let id = s["id"].as_str().unwrap();
            let (status, v) = get(&format!("{base}/_control/opencharge/orders/{id}"), &[]);
            Emulated {
                exists: Some(status == 200),
                paid: Some(v["status"] == "paid"),
                said: format!("order {id}: HTTP {status} {}", v["status"]),
            }
        }
        other => panic!("{other}?"),
    }
}

/// An integration token of the test's Commerce Layer organization (one per call: the emulator
/// allows 30 a minute, and the harness asks a handful of times).
fn cl_token(shop: &Shop) -> String {
    let body = serde_json::json!({
        "grant_type": "client_credentials",
        "client_id": CL_CLIENT_ID,
        "client_secret": CL_CLIENT_SECRET,
    });
    let r = http()
        .send(
            "sandbox",
            &Request::new(
                Method::Post,
                format!("{}/commercelayer/oauth/token", shop.sandbox.url()),
            )
            .json(body.to_string().into_bytes()),
        )
        .unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {v}"))
        .to_string()
}

/// The control path of a session the customer acts on (`Shop::outcome`).
fn page(provider: &str, created: &Value) -> String {
    let psid = created["provider_session_id"].as_str().unwrap();
    let after_slash = || psid.split_once('/').unwrap().1;
    match provider {
        "dintero" => format!("/dintero/sessions/{psid}"),
        "bambora" => format!("/bambora/paymentrequests/{}", after_slash()),
        "klarna" => format!("/klarna/sessions/{psid}"),
        "commercelayer" => format!("/commercelayer/orders/{psid}"),
        "opencharge" => format!("/opencharge/orders/{}", created["id"].as_str().unwrap()),
        other => panic!("{other}?"),
    }
}

// ---- the journal after the crashes ----

/// What a till's journal holds against its sessions and operations, read from the database
/// with plain SQL (not through Kassa's code), and whether `journal verify` passes.
#[derive(Debug, Default)]
pub struct Receipts {
    /// Paid sessions, and sales receipt entries.
    pub paid: u32,
    pub sales: u32,
    /// Done refunds, recorded refunds and voids, and return receipt entries.
    pub returns_done: u32,
    pub returns: u32,
    /// A paid sale or done return without its entry; one with more than one.
    pub missing: u32,
    pub duplicate: u32,
    /// A receipt for an unpaid sale or an operation not done.
    pub unfounded: u32,
    pub verified: u32,
    pub tills: u32,
    pub problems: Vec<String>,
}

impl Receipts {
    /// Adds the till at `dir` (after the commands a restarted till runs).
    pub fn add(&mut self, dir: &std::path::Path) {
        let db = rusqlite::Connection::open(dir.join("sessions.db")).unwrap();
        let rows = |sql: &str| -> Vec<(String, String, i64)> {
            let mut st = db.prepare(sql).unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let mut count = |what: &str, id: &str, founded: bool, entries: i64| -> bool {
            match (founded, entries) {
                (true, 0) => {
                    self.missing += 1;
                    self.problems.push(format!("{what} {id}: no receipt entry"));
                }
                (true, 1) | (false, 0) => {}
                (true, n) => {
                    self.duplicate += 1;
                    self.problems
                        .push(format!("{what} {id}: {n} receipt entries"));
                }
                (false, n) => {
                    self.unfounded += 1;
                    self.problems
                        .push(format!("{what} {id}: {n} receipt entries, not done"));
                }
            }
            founded
        };
        for (id, status, n) in rows(
            "SELECT id, status, (SELECT count(*) FROM journal j
                                 WHERE j.kind = 'sale' AND j.session_id = s.id)
             FROM sessions s",
        ) {
            if count("session", &id, status == "paid", n) {
                self.paid += 1;
                self.sales += n as u32;
            }
        }
        for (id, state, n) in rows(
            "SELECT id, state, (SELECT count(*) FROM journal j
                                WHERE j.kind = 'return' AND j.operation_id = o.id)
             FROM operations o WHERE kind IN ('refund', 'refund_recorded', 'void')",
        ) {
            if count("operation", &id, state == "done", n) {
                self.returns_done += 1;
                self.returns += n as u32;
            }
        }
        self.tills += 1;
        let out = cli(dir, &["journal", "verify"], None);
        if out.status.success() {
            self.verified += 1;
        } else {
            self.problems
                .push(format!("journal verify: {}", stderr(&out)));
        }
    }

    /// The figures for a `RELIABILITY` line.
    pub fn figures(&self) -> String {
        format!(
            "paid={} sale_receipts={} returns_done={} return_receipts={} missing_receipts={} \
             duplicate_receipts={} unfounded_receipts={} verified={}/{}",
            self.paid,
            self.sales,
            self.returns_done,
            self.returns,
            self.missing,
            self.duplicate,
            self.unfounded,
            self.verified,
            self.tills
        )
    }

    /// Fails the test on any problem.
    pub fn assert_sound(&self) {
        assert!(self.problems.is_empty(), "{}", self.problems.join("\n"));
        assert_eq!(
            (self.missing, self.duplicate, self.unfounded, self.verified),
            (0, 0, 0, self.tills)
        );
    }
}

// ---- kill -9 at every step ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `KASSA_PAUSE_AT=after_intent`: `creating` is committed, the provider not yet asked.
    AfterIntent,
    /// The create request reached the emulator, which did the work but holds its answer.
    InFlight,
    /// `KASSA_PAUSE_AT=after_response`: the answer is in memory, not in the log.
    AfterResponse,
    /// `charge --wait`: the session is open and the till polls; `paid`: the customer paid
    /// before the kill.
    Polling { paid: bool },
    /// `charge --wait`, the customer paid, and the till stopped at `KASSA_PAUSE_AT=<at>`:
    /// `paid_seen` (a read said paid, nothing recorded) or `paid_recorded` (the paid status and
    /// its sales receipt entry committed, the capture at sale not settled). Only providers whose
    /// status reports a payment ([`reports_paid`]).
    Paying { at: &'static str },
}

/// Whether the provider's status read reports a payment (Bambora's QR payment request ends in
/// needs_review, Opencharge has no status endpoint).
fn reports_paid(provider: &str) -> bool {
    matches!(provider, "dintero" | "klarna" | "commercelayer")
}

/// What the session log must say once the restarted till has reconciled and asked again, per
/// provider: each provider's `find_by_reference` decides the steps without a provider id.
/// - Dintero looks for *payments* by reference: none (the URL never left the killed process,
///   so nobody could pay) → failed, also when the emulator holds the unpaid session.
/// - Commerce Layer finds the order by reference: it exists unpaid → open (no URL is shown).
/// - Bambora, Klarna and Opencharge cannot search by reference → unknown (Kassa cannot tell;
///   nothing is retried blindly).
/// - Polling: Dintero, Klarna and Commerce Layer report the payment; Bambora's payment request
///   reports "closed" without a verifiable transaction → needs_review; Opencharge has no status
///   endpoint → open until staff confirm.
fn expected(provider: &str, step: Step) -> &'static str {
    match (provider, step) {
        (_, Step::Polling { paid: false }) => "open",
        (_, Step::Paying { .. }) => "paid",
        ("dintero" | "klarna" | "commercelayer", Step::Polling { paid: true }) => "paid",
        ("bambora", Step::Polling { paid: true }) => "needs_review",
        ("opencharge", Step::Polling { paid: true }) => "open",
        ("dintero", _) => "failed",
        ("commercelayer", Step::AfterIntent) => "failed",
        ("commercelayer", _) => "open",
        _ => "unknown",
    }
}

/// Runs one charge of `shop` to `step` and kills it there; returns the Kassa id when the
/// charge printed it.
fn crash(shop: &Shop, provider: &str, step: Step) -> Option<String> {
    let timeout = [("KASSA_HTTP_TIMEOUT", "60")];
    match step {
        Step::AfterIntent | Step::AfterResponse => {
            let at = if step == Step::AfterIntent {
                "after_intent"
            } else {
                "after_response"
            };
            let mut c = Running::charge(shop, &[], &[("KASSA_PAUSE_AT", at), timeout[0]]);
            c.wait_stderr(&format!("KASSA_PAUSED {at}"));
            c.kill9();
            None
        }
        Step::InFlight => {
            // The emulator does the work, then holds the answer for 15 s: the sandbox's worst
            // case, a create that happened but whose answer is lost.
            shop.faults(&format!(
                r#"{{"method":"POST","path":"{}","kind":"timeout","ms":15000}}"#,
                create_path(provider)
            ));
            let requests = || {
                control_get(&shop.sandbox, "/stats")["requests"]
                    .as_u64()
                    .unwrap()
            };
            let before = requests();
            let c = Running::charge(shop, &[], &timeout);
            // In flight: the intent is logged, the sandbox has seen every request of the create
            // up to the held one, and nothing more comes (the emulator has done the work).
            let db = rusqlite::Connection::open(shop.dir.0.join("sessions.db")).unwrap();
            let deadline = Instant::now() + SAFETY;
            let mut last = (0, 0);
            loop {
                assert!(Instant::now() < deadline, "the create never got in flight");
                std::thread::sleep(Duration::from_millis(150));
                let creating = db
                    .query_row(
                        "SELECT count(*) FROM sessions WHERE status = 'creating'",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                    .unwrap();
                let now = requests();
                let stable = if now == last.0 { last.1 + 1 } else { 0 };
                last = (now, stable);
                if creating == 1 && now >= before + requests_to_create(provider) && stable >= 2 {
                    break;
                }
            }
            c.kill9();
            None
        }
        Step::Paying { at } => {
            let mut c = Running::charge(
                shop,
                &["--wait", "--interval", "0.2"],
                &[("KASSA_PAUSE_AT", at), timeout[0]],
            );
            let created = c.first_json();
            shop.outcome(&page(provider, &created), "pay");
            c.wait_stderr(&format!("KASSA_PAUSED {at}"));
            c.kill9();
            Some(created["id"].as_str().unwrap().to_string())
        }
        Step::Polling { paid } => {
            // A long interval: the till sleeps between polls when it is killed.
            let mut c = Running::charge(shop, &["--wait", "--interval", "60"], &timeout);
            let created = c.first_json();
            assert_eq!(created["status"], "open", "{created}");
            if paid {
                shop.outcome(&page(provider, &created), "pay");
            }
            c.kill9();
            Some(created["id"].as_str().unwrap().to_string())
        }
    }
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn kill_9_at_every_charge_step_then_reconcile() {
    let steps = [
        // First: the emulator holds its answer for 15 s while the other steps run, and the log
        // has nothing to reconcile (`requests_to_create`).
        Step::InFlight,
        Step::AfterIntent,
        Step::AfterResponse,
        Step::Polling { paid: true },
        Step::Polling { paid: false },
        Step::Paying { at: "paid_seen" },
        Step::Paying {
            at: "paid_recorded",
        },
    ];
    let (mut sessions, mut missing, mut paid_without_evidence) = (0, 0, 0);
    let mut failed_but_emulated = Vec::new();
    let mut problems = Vec::new();
    let mut receipts = Receipts::default();
    for provider in PROVIDERS {
        let shop = Shop::for_provider(&format!("crash-{provider}"), provider);
        let mut started = Vec::new();
        let steps: Vec<Step> = steps
            .into_iter()
            .filter(|s| !matches!(s, Step::Paying { .. }) || reports_paid(provider))
            .collect();
        for &step in &steps {
            let before = ids(&list(&shop));
            let printed = crash(&shop, provider, step);
            // The next command, as a restarted till runs it: reconcile and list…
            let rows = list(&shop);
            let new: Vec<String> = ids(&rows).difference(&before).cloned().collect();
            let id = match new.as_slice() {
                [id] => id.clone(),
                _ => {
                    missing += 1;
                    problems.push(format!("{provider} {step:?}: new rows {new:?}"));
                    continue;
                }
            };
            if let Some(p) = &printed {
                assert_eq!(p, &id, "{provider} {step:?}");
            }
            started.push(id.clone());
            // …then ask again about what is not settled.
            let row = rows.iter().find(|r| r["id"] == id.as_str()).unwrap();
            if matches!(row["status"].as_str(), Some("open" | "unknown")) {
                let out = shop.cli(&["status", &id, "--json"]);
                let code = out.status.code();
                if code != Some(0) && !(row["status"] == "unknown" && code == Some(3)) {
                    problems.push(format!(
                        "{provider} {step:?}: status exit {code:?}: {}",
                        stderr(&out)
                    ));
                }
            }
            let s = shop.session(&id);
            sessions += 1;
            let status = s["status"].as_str().unwrap();
            let emu = emulated(&shop, provider, &s);
            let line = format!(
                "{provider} {step:?}: Kassa {status}; emulator: exists {:?}, paid {:?} ({})\n{}",
                emu.exists,
                emu.paid,
                emu.said,
                events(&s)
            );
            eprintln!("{provider} {step:?}: {status} (emulator: {})", emu.said);
            if status != expected(provider, step) {
                problems.push(format!("expected {}: {line}", expected(provider, step)));
            }
            // Paid only on the emulator's evidence; Opencharge only ever by staff.
            if status == "paid"
                && (emu.paid != Some(true)
                    || provider == "opencharge"
                    || !s["confirmed_by"].is_null())
            {
                paid_without_evidence += 1;
                problems.push(format!("paid without evidence: {line}"));
            }
            // Failed only when nothing can be paid: no payment, and either no session at the
            // emulator or (Dintero's documented case) one whose URL nobody ever saw.
            if status == "failed" {
                let unseen = s["checkout_url"].is_null()
                    && events(&s).contains("the checkout URL was never shown");
                match emu.exists {
                    _ if emu.paid == Some(true) => {
                        problems.push(format!("failed but paid: {line}"))
                    }
                    Some(false) => {}
                    Some(true) if unseen && provider == "dintero" => {
                        failed_but_emulated.push(format!("{provider} {step:?}"))
                    }
                    _ => problems.push(format!("failed with a payable session: {line}")),
                }
            }
            // A payment the emulator holds for a session Kassa can ask about is not lost.
            if emu.paid == Some(true)
                && !matches!(status, "paid" | "needs_review")
                && provider != "opencharge"
            {
                problems.push(format!("a payment Kassa does not report: {line}"));
            }
            // A create whose answer never came, at a provider that cannot be searched by
            // reference: staff settle it after looking in the back office.
            if status == "unknown" {
                let out = shop.cli(&["review", &id, "not-paid", "--json"]);
                let v = json(&out);
                if v["status"] != "failed" || v["confirmed_by"] != "staff" {
                    problems.push(format!("staff could not settle {line}: {v}"));
                }
            }
        }
        // Every charge started is in the log exactly once.
        let rows = list(&shop);
        let logged: Vec<String> = rows
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        for id in &started {
            let n = logged.iter().filter(|l| *l == id).count();
            if n != 1 {
                missing += 1;
                problems.push(format!("{provider}: session {id} logged {n} times"));
            }
        }
        if logged.len() != steps.len() {
            problems.push(format!(
                "{provider}: {} rows for {} charges",
                logged.len(),
                steps.len()
            ));
        }
        receipts.add(&shop.dir.0);
    }
    eprintln!(
        "failed while the emulator holds an unpaid session whose URL was never shown (documented \
         for Dintero, whose API finds payments, not sessions, by reference): {failed_but_emulated:?}"
    );
    println!(
        "RELIABILITY crash providers={} steps=6 sessions={sessions} missing={missing} \
         paid_without_evidence={paid_without_evidence}",
        PROVIDERS.len()
    );
    println!("RELIABILITY crash-journal {}", receipts.figures());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert_eq!((missing, paid_without_evidence), (0, 0));
    receipts.assert_sound();
}

// ---- every fault a create can meet ----

/// A loopback TLS server presenting the self-signed certificate of `tests/fixtures/`: every
/// handshake fails on the client's side (Kassa trusts the system's roots only).
fn tls_server() -> SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let fixture = |f: &str| format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(fixture("self-signed.cert.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("self-signed.key.pem")).unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let mut tls = rustls::ServerConnection::new(config.clone()).unwrap();
            while tls.is_handshaking() {
                if tls.complete_io(&mut tcp).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

/// A loopback listener that never accepts and whose accept queue is full, so the kernel drops
/// new SYNs: a connect there hangs until the client's connect timeout, as with a provider whose
/// host does not answer. Returns the address and what keeps the queue full.
fn unanswering_listener() -> (SocketAddr, socket2::Socket, Vec<TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => queued.push(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => break,
            Err(e) => panic!("filling the accept queue: {e}"),
        }
        assert!(queued.len() < 64, "the accept queue never filled");
    }
    (addr, socket, queued)
}

/// A loopback port nothing listens on, held by a bound socket that never listens: a connect
/// there is refused, and no server the test starts later can be given the port (a port only
/// looked up and let go was, once, the sandbox's next, and "connection refused" was answered).
fn closed_port() -> (SocketAddr, socket2::Socket) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    (socket.local_addr().unwrap().as_socket().unwrap(), socket)
}

/// How a fault is made for one create.
enum Make {
    /// The provider's base URL (gateway URL) points here: `scheme://addr` + the sandbox path.
    Url(&'static str, SocketAddr),
    /// A sandbox fault on the provider's create request (the JSON after method and path).
    Fault(&'static str),
}

struct FaultCase {
    name: &'static str,
    make: Make,
    /// What the error must say: the cause, in words.
    says: String,
    /// The status the create leaves: failed when the provider provably did nothing.
    status: &'static str,
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn every_provider_fault_on_create_is_named_and_logged() {
    let tls = tls_server();
    let (silent, _listener, _queued) = unanswering_listener();
    let (closed, _held) = closed_port();
    let case = |name, make, says: &str, status| FaultCase {
        name,
        make,
        says: says.to_string(),
        status,
    };
    let cases = [
        case(
            "connection refused",
            Make::Url("http", closed),
            "Connection refused",
            "failed",
        ),
        case(
            "connect timeout",
            Make::Url("http", silent),
            "no connection within",
            "failed",
        ),
        case(
            "untrusted certificate",
            Make::Url("https", tls),
            &format!("the TLS certificate of {tls} is not trusted (self-signed or unknown issuer"),
            "failed",
        ),
        case(
            "timeout after sending",
            Make::Fault(r#""kind":"timeout","ms":4000"#),
            "did not answer within 2 s",
            "unknown",
        ),
        case(
            "HTTP 500",
            Make::Fault(r#""kind":"status","status":500"#),
            "has a problem (HTTP 500",
            "unknown",
        ),
        case(
            "HTTP 502",
            Make::Fault(r#""kind":"status","status":502"#),
            "has a problem (HTTP 502",
            "unknown",
        ),
        case(
            "HTTP 503",
            Make::Fault(r#""kind":"status","status":503"#),
            "has a problem (HTTP 503",
            "unknown",
        ),
        case(
            "HTTP 429",
            Make::Fault(r#""kind":"rate_limit","retry_after":7"#),
            "is rate limiting (HTTP 429); retry after 7 s",
            "failed",
        ),
        case(
            "malformed JSON",
            Make::Fault(r#""kind":"not_json""#),
            "not the documented JSON",
            "unknown",
        ),
        case(
            "truncated JSON",
            Make::Fault(r#""kind":"truncated""#),
            "not the documented JSON",
            "unknown",
        ),
        case(
            "wrong content type",
            Make::Fault(r#""kind":"wrong_content_type""#),
            "expected JSON, got text/html",
            "unknown",
        ),
    ];
    let (mut tried, mut logged, mut unclear) = (0, 0, 0);
    let mut problems = Vec::new();
    for provider in PROVIDERS {
        let shop = Shop::for_provider(&format!("faults-{provider}"), provider);
        let (setting, good) = shop.base_setting(provider);
        // The sandbox's path of the provider (`/dintero`, `/opencharge/pg`).
        let prefix = &good[good.find("://").unwrap() + 3..];
        let prefix = &prefix[prefix.find('/').unwrap()..];
        for c in &cases {
            let before = ids(&list(&shop));
            match &c.make {
                Make::Url(scheme, addr) => {
                    shop.config(&setting, &format!("{scheme}://{addr}{prefix}"))
                }
                Make::Fault(f) => shop.faults(&format!(
                    r#"{{"method":"POST","path":"{}",{f}}}"#,
                    create_path(provider)
                )),
            }
            let out = shop.cli(&["charge", "--order", &shop.order, "--json"]);
            shop.config(&setting, &good);
            clear_faults(&shop);
            tried += 1;
            // What the command said, without the trace log `cli_env` turns on.
            let err: String = stderr(&out)
                .lines()
                .filter(|l| l.starts_with("kassa-cli:") || l.starts_with("session "))
                .map(|l| format!("{l}\n"))
                .collect();
            let what = format!(
                "{provider}, {}: exit {:?}, {err}",
                c.name,
                out.status.code()
            );
            eprint!("{provider}, {}: {err}", c.name);
            if out.status.code() != Some(3) {
                problems.push(format!("not the error exit 3: {what}"));
            }
            if !err.contains(&c.says) {
                unclear += 1;
                problems.push(format!("does not say {:?}: {what}", c.says));
            }
            // Logged before reconciliation with the status the error proves…
            if !err.contains(&format!(" is {};", c.status)) {
                problems.push(format!("not logged as {}: {what}", c.status));
            }
            // …and there after the next command has reconciled it.
            let rows = list(&shop);
            let new: Vec<String> = ids(&rows).difference(&before).cloned().collect();
            let [id] = new.as_slice() else {
                problems.push(format!("new rows {new:?}: {what}"));
                continue;
            };
            let s = shop.session(id);
            let first_error = s["events"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["kind"] == "error");
            let ok = s["last_error"]
                .as_str()
                .is_some_and(|e| e.contains(&c.says))
                && first_error.is_some_and(|e| {
                    e["status"] == c.status && e["detail"].as_str().unwrap().contains(&c.says)
                })
                && s["checkout_url"].is_null()
                && s["status"] != "paid";
            if ok {
                logged += 1;
            } else {
                problems.push(format!("not logged as it happened: {what}\n{s}"));
            }
        }
        assert_no_secret_stored(
            &shop.dir.0,
            &[
                DINTERO_CLIENT_SECRET,
                SECRET_TOKEN,
                MD5_KEY,
                KLARNA_PASSWORD,
                CL_CLIENT_SECRET,
                OC_PRIVATE_KEY,
            ],
        );
    }
    println!(
        "RELIABILITY faults kinds={} providers={} tried={tried} logged={logged} unclear={unclear}",
        cases.len(),
        PROVIDERS.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert_eq!((logged, unclear), (tried, 0));
}
