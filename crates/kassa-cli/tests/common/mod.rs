//! Helpers the CLI's integration tests share: a throwaway data directory, running
//! `kassa-cli`, and the keyring turn-taking lock.
#![allow(dead_code)] // each test binary uses a different subset

pub mod held;
pub mod shop;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The keyring is one shared store: tests that write the same entries take turns.
pub static KEYRING: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn keyring_lock() -> std::sync::MutexGuard<'static, ()> {
    KEYRING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn new(name: &str) -> DataDir {
        // Under `make test`, in the secrets audit's artifacts (kept); else a temporary directory.
        let base = artifacts("data").unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("kassa-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        DataDir(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        // The journal keys this directory's commands created are what the audit looks for too.
        kassa_sandbox::ledger_journal_keys(&self.0);
        // The secrets audit (`make test`) scans every data directory after the suite.
        if std::env::var_os("KASSA_TEST_ARTIFACTS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Where `make test` keeps data directories and output for the secrets audit.
pub use kassa_sandbox::test_artifacts as artifacts;

/// Appends a command's captured output to the audit's output directory.
fn keep_output(args: &[&str], out: &Output) {
    keep_text(args, &[&out.stdout, &out.stderr]);
}

/// Appends output a test read itself (e.g. from a process it killed) to the audit's output
/// directory, after the command line. Under `make test` a write that fails fails the test: the
/// audit must not pass on output it never saw.
pub fn keep_text(args: &[&str], parts: &[&[u8]]) {
    if let Some(dir) = artifacts("output") {
        let path = dir.join(format!("kassa-cli-{}.log", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        writeln!(f, "$ kassa-cli {}", args.join(" ")).unwrap();
        for part in parts {
            f.write_all(part).unwrap();
        }
    }
}

/// `kassa-cli --data-dir DIR ARGS…` with trace logging (what the secrets audit scans) and `env`.
pub fn kassa_cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kassa-cli"));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "trace");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub fn cli(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    cli_env(dir, args, stdin, &[])
}

pub fn cli_env(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut child = kassa_cli(dir, args, env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // What the suite puts in the keyring is what the audit looks for afterwards; so are
    // operators' PINs.
    if let (["credentials", "set", ..] | ["operator", "add", ..], Some(secret)) = (args, stdin) {
        kassa_sandbox::ledger(&[secret.trim()]);
    }
    if let Some((_, pin)) = env.iter().find(|(k, _)| *k == "KASSA_PIN") {
        kassa_sandbox::ledger(&[pin]);
    }
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // The command may exit without reading its input (e.g. a usage error).
            let _ = input.write_all(text.as_bytes());
        }
    }
    let out = child.wait_with_output().unwrap();
    keep_output(args, &out);
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that a command failed with `code` and that its error output contains `text`.
pub fn assert_refused(out: &Output, code: i32, text: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
    assert!(
        stderr(out).contains(text),
        "expected {text:?} in {:?}",
        stderr(out)
    );
}

/// A demo sale of the order file `order`, paid on the demo's page while `charge --wait` runs
/// (the page lives in that process; later commands start the demo's sandbox again from its
/// saved state): the session id. The command's output goes to the secrets audit.
pub fn pay_demo(dir: &Path, order: &str) -> String {
    pay_demo_as(dir, order, None)
}

/// [`pay_demo`] sold by `operator` (its id and PIN).
pub fn pay_demo_as(dir: &Path, order: &str, operator: Option<(&str, &str)>) -> String {
    pay_demo_of(dir, &["--order", order], operator)
}

/// [`pay_demo_as`] of what `what` names: `--order FILE`, or `--sku SKU` (repeated).
pub fn pay_demo_of(dir: &Path, what: &[&str], operator: Option<(&str, &str)>) -> String {
    use std::io::{BufRead, BufReader, Read};
    let mut args = vec!["charge"];
    args.extend_from_slice(what);
    args.extend(["--json", "--wait", "--interval", "0.1"]);
    let mut env = Vec::new();
    if let Some((id, pin)) = operator {
        args.extend(["--operator", id]);
        env.push(("KASSA_PIN", pin));
        kassa_sandbox::ledger(&[pin]);
    }
    let mut child = kassa_cli(dir, &args, &env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let created: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let url = created["url"].as_str().unwrap();
    let paid = kassa_core::http::Http::new(kassa_core::http::HttpConfig::default())
        .unwrap()
        .send(
            "browser",
            &kassa_core::http::Request::new(kassa_core::http::Method::Post, format!("{url}/pay")),
        )
        .unwrap();
    assert_eq!(paid.status, 303);
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    keep_text(&args, &[line.as_bytes(), rest.as_bytes(), &out.stderr]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    created["id"].as_str().unwrap().to_string()
}

/// An order file in `dir`: 2 × Kaffe 34,50 (15 %) + Krus 100,00 (25 %), 169,00 a sale (the
/// journal's and the receipts' tests).
pub fn coffee_and_mug_order(dir: &DataDir) -> String {
    let path = dir.0.join("order.json");
    std::fs::write(
        &path,
        r#"{"currency":"NOK","prices_include_vat":true,"lines":[
          {"name":"Kaffe","quantity":"2","unit_price":3450,"vat_rate":"15"},
          {"name":"Krus","quantity":"1","unit_price":10000,"vat_rate":"25"}]}"#,
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// The whole standard output of a command that succeeded, as JSON (pretty or not).
pub fn ok_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}
