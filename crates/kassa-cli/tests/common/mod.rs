//! Helpers the CLI's integration tests share: a throwaway data directory, running
//! `kassa-cli`, and the keyring turn-taking lock.
#![allow(dead_code)] // each test binary uses a different subset

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
        let dir = std::env::temp_dir().join(format!("kassa-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        DataDir(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn cli(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    cli_env(dir, args, stdin, &[])
}

pub fn cli_env(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kassa-cli"));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "trace");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // The command may exit without reading its input (e.g. a usage error).
            let _ = input.write_all(text.as_bytes());
        }
    }
    child.wait_with_output().unwrap()
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
