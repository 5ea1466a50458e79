//! `kassa-cli credentials` and `config` as a user runs them, against the real OS keyring
//! (gnome-keyring in a private D-Bus session; `make test` starts it through
//! `tests/with-keyring.sh`). Tests that need it are `#[ignore]`d for a bare `cargo test`.

mod common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Reads an entry with the OS tool an admin would use: a different program, a fresh process.
fn secret_tool_lookup(user: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "kassa", "username", user])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn list_status(dir: &Path, provider: &str, profile: &str, field: &str) -> String {
    let out = cli(dir, &["credentials", "list"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .find_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() >= 4 && cols[0] == provider && cols[1] == profile && cols[2] == field)
                .then(|| cols[3..].join(" "))
        })
        .unwrap_or_else(|| panic!("{provider}/{profile}/{field} not listed"))
}

#[test]
#[ignore = "needs the keyring harness: run through `make test`"]
fn a_secret_set_by_one_process_is_read_by_fresh_ones() {
    let _turn = keyring_lock();
    let dir = DataDir::new("roundtrip");
    let secret = format!("dintero-secret-{}", std::process::id());
    let out = cli(
        &dir.0,
        &["credentials", "set", "dintero", "client_secret"],
        Some(&format!("{secret}\n")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("stored dintero/test/client_secret"));

    // A fresh process of another program finds it, trailing newline stripped.
    assert_eq!(
        secret_tool_lookup("dintero/test/client_secret").as_deref(),
        Some(secret.as_str())
    );
    // A fresh kassa-cli process sees it as set, and never prints it.
    assert_eq!(
        list_status(&dir.0, "dintero", "test", "client_secret"),
        "set"
    );
    assert_eq!(
        list_status(&dir.0, "dintero", "live", "client_secret"),
        "not set"
    );

    // --profile, and the provider's profile setting as the default.
    let live = format!("live-{secret}");
    assert!(cli(
        &dir.0,
        &[
            "credentials",
            "set",
            "dintero",
            "client_secret",
            "--profile",
            "live"
        ],
        Some(&live)
    )
    .status
    .success());
    assert_eq!(
        secret_tool_lookup("dintero/live/client_secret").as_deref(),
        Some(live.as_str())
    );
    assert!(
        cli(&dir.0, &["config", "set", "klarna.profile", "live"], None)
            .status
            .success()
    );
    assert!(cli(
        &dir.0,
        &["credentials", "set", "klarna", "password"],
        Some("klarna-live-pw-3e90")
    )
    .status
    .success());
    assert_eq!(
        secret_tool_lookup("klarna/live/password").as_deref(),
        Some("klarna-live-pw-3e90")
    );

    for (provider, profile, field) in [
        ("dintero", "test", "client_secret"),
        ("dintero", "live", "client_secret"),
        ("klarna", "live", "password"),
    ] {
        let out = cli(
            &dir.0,
            &[
                "credentials",
                "delete",
                provider,
                field,
                "--profile",
                profile,
            ],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(list_status(&dir.0, provider, profile, field), "not set");
    }
    assert_eq!(secret_tool_lookup("dintero/test/client_secret"), None);

    // Deleting what is not there is a clear error naming the entry.
    let out = cli(
        &dir.0,
        &["credentials", "delete", "dintero", "client_secret"],
        None,
    );
    assert_refused(
        &out,
        2,
        "no credential dintero/test/client_secret in the OS keyring",
    );
}

#[test]
fn without_a_keyring_service_the_error_says_what_is_missing() {
    let dir = DataDir::new("nokeyring");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kassa-cli"));
    cmd.arg("--data-dir")
        .arg(&dir.0)
        .args(["credentials", "set", "dintero", "client_secret"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-such-bus", dir.0.display()),
        )
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"never-stored")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("no usable OS keyring"), "{err}");
    assert!(
        err.contains("dbus-run-session") && err.contains("gnome-keyring"),
        "{err}"
    );
    assert!(!err.contains("never-stored"));
    // Nothing fell back to a file.
    assert!(
        std::fs::read_dir(&dir.0).unwrap().next().is_none(),
        "no file may be written"
    );
}

#[test]
fn secrets_are_read_from_stdin_only() {
    let dir = DataDir::new("stdinonly");
    // A value as an extra argument is a usage error (clap: exit 2), never stored.
    let out = cli(
        &dir.0,
        &["credentials", "set", "dintero", "client_secret", "hunter2"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("stored"));
    // Empty input is refused before the keyring is touched.
    let out = cli(
        &dir.0,
        &["credentials", "set", "dintero", "client_secret"],
        Some("\n"),
    );
    assert_refused(&out, 2, "the secret is empty");
}

#[test]
fn bad_settings_and_fields_exit_2_naming_the_key() {
    let dir = DataDir::new("badsettings");
    let cases: &[(&[&str], &str)] = &[
        (
            &["config", "set", "dintero.account_id", "12345678"],
            "dintero.account_id: \"12345678\" is not a Dintero account id",
        ),
        (
            &["config", "set", "dintero.account_id", "P12345678"],
            "dintero.account_id: P12345678 is a live account but dintero.profile is test",
        ),
        (
            &[
                "config",
                "set",
                "opencharge.gateway_url",
                "http://gateway.example",
            ],
            "opencharge.gateway_url: http://gateway.example must use https://",
        ),
        (
            &["config", "set", "stripe.key", "x"],
            "stripe.key: unknown setting group \"stripe\"",
        ),
        (
            &["config", "set", "shop.adress", "Storgata 1"],
            "shop.adress: unknown shop setting (known: shop.name,",
        ),
        (
            &["config", "set", "dintero.client_secret", "x"],
            "dintero.client_secret: is a secret",
        ),
        (
            &["config", "get", "bambora.colour"],
            "bambora.colour: unknown setting for bambora",
        ),
        (
            &["credentials", "set", "dintero", "account_id"],
            "dintero.account_id: dintero has no secret",
        ),
        (
            &["credentials", "set", "stripe", "key"],
            "stripe.key: unknown provider",
        ),
        (
            &[
                "credentials",
                "delete",
                "dintero",
                "client_id",
                "--profile",
                "prod",
            ],
            "--profile: \"prod\" is not a profile",
        ),
    ];
    for (args, want) in cases {
        let out = cli(&dir.0, args, Some("refused-input-6c1d"));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(want),
            "{args:?}: got {:?}",
            stderr(&out)
        );
    }
    assert!(
        !dir.0.join("settings.json").exists(),
        "a refused setting writes nothing"
    );
}

#[test]
fn config_set_get_show() {
    let dir = DataDir::new("config");
    for (k, v) in [
        ("dintero.account_id", "T12345678"),
        ("dintero.base_url", "http://127.0.0.1:8080"),
        ("shop.name", "Butikken på hjørnet"),
        ("default_provider", "dintero"),
        ("shop.org_number", "923609016"),
        ("shop.address", "Storgata 1|9008 Tromsø"),
        ("register.id", "KASSA-1"),
        ("printer.url", "tcp://10.0.0.5"),
    ] {
        let out = cli(&dir.0, &["config", "set", k, v], None);
        assert!(out.status.success(), "{k}: {}", stderr(&out));
    }
    assert_eq!(
        stdout(&cli(&dir.0, &["config", "get", "shop.name"], None)),
        "Butikken på hjørnet\n"
    );
    assert_eq!(
        stdout(&cli(&dir.0, &["config", "get", "dintero.profile_id"], None)),
        "default\n"
    );
    let show = stdout(&cli(&dir.0, &["config", "show"], None));
    assert!(
        show.lines()
            .any(|l| l.starts_with("dintero.base_url") && l.ends_with("http://127.0.0.1:8080")),
        "{show}"
    );
    assert!(
        show.lines()
            .any(|l| l.starts_with("klarna.region") && l.ends_with("eu (default)")),
        "{show}"
    );
    // The receipt's settings: the seller, this register and its printer.
    for (key, shown) in [
        ("shop.org_number", "923609016"),
        ("shop.address", "Storgata 1|9008 Tromsø"),
        ("shop.vat_registered", "true (default)"),
        ("register.id", "KASSA-1"),
        ("printer.url", "tcp://10.0.0.5"),
        ("printer.columns", "48 (default)"),
    ] {
        assert!(
            show.lines()
                .any(|l| l.starts_with(key) && l.ends_with(shown)),
            "{key}: {show}"
        );
    }
    let refused = cli(
        &dir.0,
        &["config", "set", "shop.org_number", "923609017"],
        None,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("shop.org_number: 923609017 is not a valid organisation number"),
        "{}",
        stderr(&refused)
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.0.join("settings.json")).unwrap())
            .unwrap();
    assert_eq!(file["dintero.account_id"], "T12345678");
    // KASSA_DATA_DIR is honoured when --data-dir is absent.
    let out = Command::new(env!("CARGO_BIN_EXE_kassa-cli"))
        .args(["config", "get", "shop.name"])
        .env("KASSA_DATA_DIR", &dir.0)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Butikken på hjørnet\n"
    );
}

/// Every secret set through the CLI, then every other command run with trace logging: no secret
/// appears in the data directory or in any output.
#[test]
#[ignore = "needs the keyring harness: run through `make test`"]
fn no_secret_leaks_into_files_or_output() {
    let _turn = keyring_lock();
    let dir = DataDir::new("leak");
    let tag = std::process::id();
    let mut secrets = Vec::new();
    let mut outputs = Vec::new();
    // Every secret field of every provider, from the core's own table.
    let fields: Vec<(&str, &[&str])> = kassa_core::provider::REGISTRY
        .iter()
        .map(|p| (p.name, p.secrets))
        .collect();
    for (provider, names) in &fields {
        for field in *names {
            let secret = format!("LEAKCHECK-{provider}-{field}-{tag}");
            let out = cli(
                &dir.0,
                &["credentials", "set", provider, field],
                Some(&secret),
            );
            assert!(out.status.success(), "{}", stderr(&out));
            outputs.push(out);
            secrets.push(secret);
        }
    }
    let orders = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/orders/chair.json");
    let runs: Vec<Vec<&str>> = vec![
        vec!["credentials", "list"],
        vec!["config", "show"],
        vec!["config", "set", "dintero.account_id", "T12345678"],
        vec!["config", "get", "dintero.account_id"],
        vec!["config", "set", "dintero.client_secret", "x"],
        vec!["quote", "--order", orders.to_str().unwrap(), "--json"],
    ];
    for args in &runs {
        outputs.push(cli(&dir.0, args, None));
    }
    let mut haystack = String::new();
    for o in &outputs {
        haystack.push_str(&stdout(o));
        haystack.push_str(&stderr(o));
    }
    for entry in walk(&dir.0) {
        haystack.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    assert!(
        haystack.contains("dintero.account_id") || haystack.contains("T12345678"),
        "outputs were captured"
    );
    for s in &secrets {
        assert!(
            !haystack.contains(s.as_str()),
            "a secret leaked: {}",
            s.split('-').nth(1).unwrap_or("")
        );
    }
    for (provider, names) in &fields {
        for field in *names {
            let _ = cli(&dir.0, &["credentials", "delete", provider, field], None);
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
