//! `kassa-cli charge`, `status`, `cancel`, `sessions`, `session` and `export` end to end over
//! loopback: CLI → Dintero client → the sandbox's Dintero emulator, with the session log on a
//! real SQLite file. Every sale needs the OS keyring (the journal's signing key lives only
//! there, and a Dintero account's credentials too), so those tests are `#[ignore]`d for a bare
//! `cargo test`; `make test` runs them inside a throwaway gnome-keyring.

mod common;
use common::*;
use kassa_core::http::{Http, HttpConfig, Method, Request};
use kassa_sandbox::{Config, DinteroAccount, Sandbox};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "T12345678";
const CLIENT_ID: &str = "charge-test-client";
const CLIENT_SECRET: &str = "charge-test-secret-4f9a";

fn order_file() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/orders/chair.json").to_string()
}

fn http() -> Http {
    Http::new(HttpConfig::default()).unwrap()
}

/// Sends a request to the sandbox (control API or hosted page) and returns the status.
fn send(method: Method, url: &str, body: Option<&str>) -> u16 {
    let mut r = Request::new(method, url);
    if let Some(b) = body {
        r = r.json(b.as_bytes().to_vec());
    }
    http().send("sandbox", &r).unwrap().status
}

fn control(sandbox: &Sandbox, path: &str, body: &str) {
    let status = send(
        Method::Post,
        &format!("{}/_control{path}", sandbox.url()),
        Some(body),
    );
    assert!(status < 300, "control {path} → {status}");
}

/// The provider requests the sandbox has served so far (`/_control/stats`).
fn requests_served(sandbox: &Sandbox) -> u64 {
    let r = http()
        .send(
            "sandbox",
            &Request::new(Method::Get, format!("{}/_control/stats", sandbox.url())),
        )
        .unwrap();
    serde_json::from_slice::<Value>(&r.body).unwrap()["requests"]
        .as_u64()
        .unwrap()
}

/// Waits until `done` says so, for at most 15 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn json(o: &Output) -> Value {
    let text = stdout(o);
    serde_json::from_str(text.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}\nstderr: {}", stderr(o)))
}

fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kassa-cli"));
    cmd.arg("--data-dir").arg(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the first line the child prints (the `--json` session object).
fn first_line(child: &mut Child) -> (Value, BufReader<std::process::ChildStdout>) {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let v = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (v, reader)
}

fn session(dir: &Path, id: &str) -> Value {
    let out = cli(dir, &["session", id, "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn event_kinds(s: &Value) -> Vec<String> {
    s["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["status"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn demo_sale_runs_with_no_settings_at_all() {
    let dir = DataDir::new("demo-sale");
    let qr = dir.0.join("qr.svg");
    let mut child = spawn(
        &dir.0,
        &[
            "charge",
            "--order",
            &order_file(),
            "--json",
            "--wait",
            "--interval",
            "0.1",
            "--qr-svg",
            qr.to_str().unwrap(),
        ],
        &[],
    );
    let (created, mut rest) = first_line(&mut child);
    assert_eq!(
        created["provider"], "demo",
        "no settings: the demo provider"
    );
    assert_eq!(created["status"], "open");
    assert_eq!(created["amount"], 29990);
    let url = created["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(std::fs::read_to_string(&qr).unwrap().contains("<svg"));
    // The customer presses Pay on the hosted page (its form posts here and redirects to the
    // shop's return URL).
    assert_eq!(send(Method::Get, &url, None), 200);
    assert_eq!(send(Method::Post, &format!("{url}/pay"), None), 303);
    let status = child.wait().unwrap();
    let mut more = String::new();
    std::io::Read::read_to_string(&mut rest, &mut more).unwrap();
    assert!(status.success(), "exit {status:?}; {more}");
    assert!(more.contains(r#""status":"paid""#), "{more}");

    let id = created["id"].as_str().unwrap();
    let s = session(&dir.0, id);
    assert_eq!(s["status"], "paid");
    assert_eq!(s["demo"], true);
    assert_eq!(
        event_kinds(&s),
        ["intent:creating", "created:open", "status:paid"]
    );
    // The demo captures at sale (Dintero's auto_capture, done at once by the emulator): the
    // transaction is already CAPTURED when the paid status is read.
    let paid = s["events"][2]["detail"].as_str().unwrap();
    assert!(
        paid.contains("AUTHORIZED") || paid.contains("CAPTURED"),
        "{paid}"
    );
    assert_eq!(s["captured_amount"], 29990, "{s}");
    assert_eq!(s["operations"][0]["kind"], "capture");
    assert_eq!(s["operations"][0]["state"], "done");
    // A later process reads the demo session's status from the persisted demo state.
    let out = cli(&dir.0, &["status", id, "--json"], None);
    assert_eq!(json(&out)["status"], "paid");
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn two_processes_write_the_session_log_at_once() {
    let dir = DataDir::new("two-writers");
    let children: Vec<Child> = (0..6)
        .map(|_| spawn(&dir.0, &["charge", "--order", &order_file(), "--json"], &[]))
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = cli(&dir.0, &["sessions", "--json"], None);
    let list: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(list.len(), 6);
    assert!(list.iter().all(|s| s["status"] == "open"));
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn sessions_export_and_bad_arguments() {
    let dir = DataDir::new("export");
    for _ in 0..3 {
        let out = cli(&dir.0, &["charge", "--order", &order_file()], None);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let csv = dir.0.join("out.csv");
    let out = cli(
        &dir.0,
        &["export", "--csv", csv.to_str().unwrap(), "--status", "open"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.contains(",NOK,29990,23992,5998,299.90,239.92,59.98,"),
        "{text}"
    );
    let out = cli(&dir.0, &["sessions", "--limit", "2"], None);
    assert!(stdout(&out).contains("(more: --after "), "{}", stdout(&out));
    assert_refused(
        &cli(&dir.0, &["sessions", "--status", "PAID"], None),
        2,
        "not a session status",
    );
    assert_refused(
        &cli(&dir.0, &["sessions", "--since", "yesterday"], None),
        2,
        "--since",
    );
    assert_refused(
        &cli(&dir.0, &["session", "nope"], None),
        2,
        "not a Kassa session id",
    );
    assert_refused(
        &cli(
            &dir.0,
            &["session", "01a1ff58-f003-7fff-bfff-ffffffffffff"],
            None,
        ),
        2,
        "no session 01a1ff58-f003-7fff-bfff-ffffffffffff",
    );
    assert_refused(
        &cli(&dir.0, &["charge", "--order", "-"], Some("{\"lines\": []}")),
        2,
        "lines",
    );
}

#[test]
fn a_broken_session_log_is_a_clear_error_and_stays_untouched() {
    let dir = DataDir::new("corrupt");
    let junk = b"not a database at all\n".repeat(100);
    std::fs::write(dir.0.join("sessions.db"), &junk).unwrap();
    let out = cli(&dir.0, &["charge", "--order", &order_file()], None);
    assert_refused(&out, 3, "is not a SQLite database");
    assert_eq!(std::fs::read(dir.0.join("sessions.db")).unwrap(), junk);
}

/// A read-only or full file system, made with a private mount namespace (`unshare`), so the
/// test needs no root: the commands run as the namespace's root on a tiny tmpfs.
#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn read_only_and_full_disks_are_clear_errors_and_lose_nothing() {
    if Command::new("unshare")
        .args(["-Urm", "true"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        panic!("this test needs `unshare -Urm` (util-linux and unprivileged user namespaces)");
    }
    let dir = DataDir::new("disk");
    let mnt = dir.0.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let bin = env!("CARGO_BIN_EXE_kassa-cli");
    let order = order_file();
    let script = format!(
        r#"set -u
        mount -t tmpfs -o size=400k tmpfs {mnt}
        K="{bin} --data-dir {mnt}/data"
        $K charge --order {order} --json > {out}/first.json || exit 10
        # Full: fill the rest of the tmpfs, then try another sale.
        dd if=/dev/zero of={mnt}/filler bs=4k 2>/dev/null
        $K charge --order {order} > /dev/null 2> {out}/full.err; echo $? > {out}/full.code
        rm {mnt}/filler
        $K sessions --json > {out}/after-full.json || exit 11
        # Read-only.
        mount -o remount,ro {mnt}
        $K charge --order {order} > /dev/null 2> {out}/ro.err; echo $? > {out}/ro.code
        $K sessions --json > {out}/after-ro.json 2> {out}/after-ro.err; echo $? > {out}/after-ro.code
        "#,
        mnt = mnt.display(),
        out = dir.0.display(),
    );
    let run = Command::new("unshare")
        .args(["-Urm", "sh", "-xc", &script])
        .output()
        .unwrap();
    assert!(run.status.success(), "script failed: {}", stderr(&run));
    let read = |f: &str| std::fs::read_to_string(dir.0.join(f)).unwrap();
    let first: Value = serde_json::from_str(&read("first.json")).unwrap();
    assert_eq!(read("full.code").trim(), "3");
    assert!(
        read("full.err").contains("disk is full"),
        "{}",
        read("full.err")
    );
    let after: Vec<Value> = serde_json::from_str(&read("after-full.json")).unwrap();
    assert!(
        after.iter().any(|s| s["id"] == first["id"]),
        "the first sale survived"
    );
    assert_eq!(read("ro.code").trim(), "3");
    assert!(read("ro.err").contains("read-only"), "{}", read("ro.err"));
}

// ---- A configured Dintero account (keyring) against the sandbox's emulator ----

struct Dintero {
    dir: DataDir,
    sandbox: Sandbox,
    _keyring: std::sync::MutexGuard<'static, ()>,
}

impl Dintero {
    /// A data dir configured for Dintero at a fresh sandbox that knows `secret` for the account.
    fn new(name: &str, secret: &str) -> Dintero {
        let guard = keyring_lock();
        let dir = DataDir::new(name);
        let sandbox = Sandbox::start(
            0,
            Config {
                state_file: None,
                dintero_accounts: vec![DinteroAccount {
                    account_id: ACCOUNT.into(),
                    client_id: CLIENT_ID.into(),
                    client_secret: secret.into(),
                }],
                ..Default::default()
            },
        )
        .unwrap();
        for (k, v) in [
            ("dintero.account_id", ACCOUNT.to_string()),
            ("dintero.base_url", sandbox.dintero_base_url()),
            ("default_provider", "dintero".to_string()),
        ] {
            let out = cli(&dir.0, &["config", "set", k, &v], None);
            assert!(out.status.success(), "{}", stderr(&out));
        }
        for (field, value) in [("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)] {
            let out = cli(
                &dir.0,
                &["credentials", "set", "dintero", field, "--profile", "test"],
                Some(value),
            );
            assert!(out.status.success(), "{}", stderr(&out));
        }
        Dintero {
            dir,
            sandbox,
            _keyring: guard,
        }
    }

    fn cli(&self, args: &[&str]) -> Output {
        cli_env(&self.dir.0, args, None, &[("KASSA_HTTP_TIMEOUT", "2")])
    }

    /// An open session: (Kassa id, Dintero session id).
    fn open(&self) -> (String, String) {
        let out = self.cli(&["charge", "--order", &order_file(), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["provider"], "dintero");
        assert_eq!(v["status"], "open");
        (
            v["id"].as_str().unwrap().into(),
            v["provider_session_id"].as_str().unwrap().into(),
        )
    }

    fn outcome(&self, dintero_id: &str, what: &str) {
        control(
            &self.sandbox,
            &format!("/dintero/sessions/{dintero_id}/outcome"),
            &format!(r#"{{"outcome":"{what}"}}"#),
        );
    }

    fn faults(&self, faults: &str) {
        control(
            &self.sandbox,
            "/faults",
            &format!(r#"{{"faults":[{faults}]}}"#),
        );
    }

    fn status(&self, id: &str) -> Value {
        let out = self.cli(&["status", id, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        json(&out)
    }
}

/// No file in the data directory (the session log with its WAL, settings, locks) holds a
/// credential, in any encoding a request carried it in.
fn assert_no_secret_stored(dir: &Path) {
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&p).unwrap();
            for needle in [CLIENT_SECRET, CLIENT_ID, basic.as_str()] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{} holds a credential",
                    p.display()
                );
            }
        }
    }
    assert!(files >= 2, "the session log and settings were checked");
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn dintero_outcomes_map_to_statuses() {
    let d = Dintero::new("dintero-outcomes", CLIENT_SECRET);
    for (outcome, expected) in [
        ("pay", "paid"),
        ("capture", "paid"),
        ("decline", "failed"),
        ("cancel", "cancelled"),
        ("expire", "expired"),
        ("on_hold", "open"),
    ] {
        let (id, did) = d.open();
        d.outcome(&did, outcome);
        assert_eq!(d.status(&id)["status"], expected, "{outcome}");
        let s = session(&d.dir.0, &id);
        let kinds = event_kinds(&s);
        assert_eq!(kinds[0], "intent:creating");
        assert_eq!(kinds[1], "created:open");
        assert!(kinds.last().unwrap().starts_with("status:"), "{kinds:?}");
    }
    // Staff cancel an open session.
    let (id, _) = d.open();
    let out = d.cli(&["cancel", &id, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["status"], "cancelled");
    assert!(event_kinds(&session(&d.dir.0, &id)).contains(&"cancel_requested:-".to_string()));
    assert_refused(&d.cli(&["cancel", &id]), 2, "already cancelled");
    // --wait ends with exit 1 on a decline.
    let mut child = spawn(
        &d.dir.0,
        &[
            "charge",
            "--order",
            &order_file(),
            "--json",
            "--wait",
            "--interval",
            "0.1",
        ],
        &[],
    );
    let (v, _rest) = first_line(&mut child);
    d.outcome(v["provider_session_id"].as_str().unwrap(), "decline");
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert_no_secret_stored(&d.dir.0);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn an_expired_token_is_renewed_once_on_401() {
    let d = Dintero::new("dintero-token", CLIENT_SECRET);
    let mut child = spawn(
        &d.dir.0,
        &[
            "charge",
            "--order",
            &order_file(),
            "--json",
            "--wait",
            "--interval",
            "0.1",
        ],
        &[],
    );
    let (v, _rest) = first_line(&mut child);
    // The waiting process holds a cached token: invalidate it, then let the customer pay.
    control(&d.sandbox, "/dintero/tokens/expire", "{}");
    // The next status read is refused (401), a token fetched and the read sent again: three
    // requests, which the waiting process makes only by renewing. Then the customer pays.
    let expired_at = requests_served(&d.sandbox);
    wait_until("the waiting process renewed its token", || {
        requests_served(&d.sandbox) >= expired_at + 3
    });
    d.outcome(v["provider_session_id"].as_str().unwrap(), "pay");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let s = session(&d.dir.0, v["id"].as_str().unwrap());
    assert_eq!(s["status"], "paid");
    assert!(
        !event_kinds(&s).iter().any(|k| k.starts_with("error")),
        "{s}"
    );
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn a_wrong_secret_is_a_clear_401_and_is_logged() {
    let d = Dintero::new("dintero-401", "the-sandbox-expects-another-secret");
    let out = d.cli(&["charge", "--order", &order_file(), "--json"]);
    assert_refused(
        &out,
        3,
        "dintero refused the credentials (HTTP 401 UNAUTHORIZED): invalid client credentials",
    );
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !all.contains(CLIENT_SECRET) && !all.contains(CLIENT_ID),
        "{all}"
    );
    let list = d.cli(&["sessions", "--json"]);
    let list: Vec<Value> = serde_json::from_str(&stdout(&list)).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["status"], "failed",
        "a refused create never reached Dintero"
    );
    assert!(list[0]["last_error"].as_str().unwrap().contains("HTTP 401"));
    // A credential never set is a setup problem (exit 2), named with its keyring entry.
    let out = d.cli(&[
        "credentials",
        "delete",
        "dintero",
        "client_secret",
        "--profile",
        "test",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_refused(
        &d.cli(&["charge", "--order", &order_file()]),
        2,
        "no credential dintero/test/client_secret in the OS keyring",
    );
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn status_reads_retry_transient_faults_and_report_the_rest() {
    let d = Dintero::new("dintero-read-faults", CLIENT_SECRET);
    let (id, did) = d.open();
    d.outcome(&did, "pay");
    // Two 503s, then a 429 with Retry-After: the read retries through them.
    d.faults(r#"{"method":"GET","path":"/v1/sessions/","kind":"status","status":503,"times":2}"#);
    assert_eq!(d.status(&id)["status"], "paid");

    let (id, _) = d.open();
    d.faults(r#"{"method":"GET","kind":"rate_limit","retry_after":1}"#);
    let t = Instant::now();
    assert_eq!(d.status(&id)["status"], "open");
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );

    for (fault, message) in [
        (
            r#""kind":"status","status":503,"times":3"#,
            "has a problem (HTTP 503 SANDBOX_INJECTED)",
        ),
        (
            r#""kind":"rate_limit","retry_after":3600"#,
            "rate limiting (HTTP 429); retry after 3600 s",
        ),
        (r#""kind":"not_json""#, "not the documented JSON"),
        (
            r#""kind":"wrong_content_type""#,
            "expected JSON, got text/html",
        ),
        (r#""kind":"truncated""#, "not the documented JSON"),
        // Every attempt times out (a single timeout is retried like a 503).
        (
            r#""kind":"timeout","ms":2500,"times":3"#,
            "did not answer within 2 s",
        ),
    ] {
        d.faults(&format!(r#"{{"method":"GET",{fault}}}"#));
        let out = d.cli(&["status", &id, "--json"]);
        assert_refused(&out, 3, message);
        send(
            Method::Delete,
            &format!("{}/_control/faults", d.sandbox.url()),
            None,
        );
        let s = session(&d.dir.0, &id);
        assert_eq!(s["status"], "open", "a failed read changes nothing");
        assert!(s["last_error"].as_str().unwrap().contains(message), "{s}");
        assert!(event_kinds(&s).last().unwrap().starts_with("error:"));
    }
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn create_faults_are_failed_or_unknown_and_reconciled() {
    let d = Dintero::new("dintero-create-faults", CLIENT_SECRET);
    let post = r#""method":"POST","path":"/v1/sessions-profile""#;
    for (fault, status, message) in [
        (
            r#""kind":"status","status":400"#,
            "failed",
            "refused the request (HTTP 400 SANDBOX_INJECTED)",
        ),
        (
            r#""kind":"rate_limit","retry_after":5"#,
            "failed",
            "rate limiting",
        ),
        (r#""kind":"status","status":502"#, "unknown", "HTTP 502"),
        (
            r#""kind":"truncated""#,
            "unknown",
            "not the documented JSON",
        ),
        (
            r#""kind":"timeout","ms":4000"#,
            "unknown",
            "did not answer within 2 s",
        ),
    ] {
        d.faults(&format!("{{{post},{fault}}}"));
        let out = d.cli(&["charge", "--order", &order_file(), "--json"]);
        assert_refused(&out, 3, message);
        assert!(
            stderr(&out).contains(&format!(" is {status};")),
            "{}",
            stderr(&out)
        );
        // The next command reconciles an unknown create by merchant reference: Dintero has
        // no payment for it (its URL was never shown), so it is failed, never paid.
        let list = d.cli(&["sessions", "--json"]);
        let list: Vec<Value> = serde_json::from_str(&stdout(&list)).unwrap();
        let s = session(&d.dir.0, list[0]["id"].as_str().unwrap());
        assert_eq!(s["status"], "failed", "{fault}: {s}");
        if status == "unknown" {
            let kinds = event_kinds(&s);
            assert_eq!(kinds[1], "error:unknown", "{kinds:?}");
            assert_eq!(kinds.last().unwrap(), "reconcile:failed", "{kinds:?}");
        }
    }
    assert_no_secret_stored(&d.dir.0);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn kill_9_between_intent_and_answer_then_reconcile() {
    let d = Dintero::new("dintero-kill", CLIENT_SECRET);
    // Dintero creates the session but its answer takes 20 s: kill the till meanwhile.
    d.faults(r#"{"method":"POST","path":"/v1/sessions-profile","kind":"timeout","ms":20000}"#);
    let mut child = spawn(
        &d.dir.0,
        &["charge", "--order", &order_file(), "--json"],
        &[("KASSA_HTTP_TIMEOUT", "60")],
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let id = loop {
        // Listing reconciles too, but must leave a create that a living process holds alone.
        let out = d.cli(&["sessions", "--json"]);
        let list: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
        if let Some(s) = list.first() {
            assert_eq!(s["status"], "creating", "in flight: not reconciled");
            break s["id"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no intent recorded");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The token request and the create have reached Dintero (which is still answering).
    wait_until("the create reached the sandbox", || {
        requests_served(&d.sandbox) >= 2
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let out = d.cli(&["sessions", "--json"]);
    assert!(
        stderr(&out).contains(&format!("reconciled session {id}: creating → failed")),
        "{}",
        stderr(&out)
    );
    let s = session(&d.dir.0, &id);
    assert_eq!(s["status"], "failed");
    assert_eq!(
        event_kinds(&s),
        ["intent:creating", "reconcile:unknown", "reconcile:failed"]
    );
    assert!(!d.dir.0.join("inflight").join(format!("{id}.lock")).exists());
}
