//! `kassa-cli quote` as a user runs it: snapshots of `--json` for the example orders in the
//! repository's `tests/orders/`, the table form, standard input, and the bad-input contract.
//! Regenerate the snapshots (after checking the change by hand!) with `UPDATE_SNAPSHOTS=1`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn orders_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/orders")
}

fn cli(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kassa-cli"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kassa-cli runs");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // The command may exit without reading its input (e.g. a usage error).
            let _ = input.write_all(text.as_bytes());
        }
    }
    child.wait_with_output().unwrap()
}

#[test]
fn json_snapshots_of_the_example_orders() {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(orders_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for order in entries {
        let name = order.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") || name.ends_with(".quote.json") {
            continue;
        }
        let out = cli(
            &["quote", "--order", order.to_str().unwrap(), "--json"],
            None,
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8(out.stdout).unwrap();
        let snapshot = order.with_extension("quote.json");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&snapshot, &got).unwrap();
        }
        let want = std::fs::read_to_string(&snapshot)
            .unwrap_or_else(|_| panic!("missing snapshot {}", snapshot.display()));
        assert_eq!(got, want, "{name} differs from its snapshot");

        // Whatever the order, the printed totals are the sums of the printed lines.
        let v: serde_json::Value = serde_json::from_str(&got).unwrap();
        for field in ["net", "vat", "gross"] {
            let sum: i64 = v["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l[field].as_i64().unwrap())
                .sum();
            assert_eq!(
                v["total"][field].as_i64().unwrap(),
                sum,
                "{name}: total.{field}"
            );
            let by_rate: i64 = v["vat_summary"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r[field].as_i64().unwrap())
                .sum();
            assert_eq!(by_rate, sum, "{name}: vat_summary {field}");
        }
        checked += 1;
    }
    assert!(checked >= 5, "expected the example orders, found {checked}");
}

#[test]
fn the_documented_example_prints_the_documented_json() {
    let out = cli(
        &[
            "quote",
            "--order",
            orders_dir().join("chair.json").to_str().unwrap(),
            "--json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = serde_json::json!({
      "reference": "A-1001", "currency": "NOK", "prices_include_vat": true,
      "lines": [ { "name": "Stablestol", "sku": "chair-1", "quantity": "1",
                   "unit_price": 29990, "discount": 0, "vat_rate": "25",
                   "net": 23992, "vat": 5998, "gross": 29990 } ],
      "vat_summary": [ { "vat_rate": "25", "net": 23992, "vat": 5998, "gross": 29990 } ],
      "total": { "net": 23992, "vat": 5998, "gross": 29990 }
    });
    assert_eq!(v, want);
}

#[test]
fn table_shows_major_units() {
    let out = cli(
        &[
            "quote",
            "--order",
            orders_dir().join("mixed-rates.json").to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Order A-1002 (NOK, prices include VAT)"),
        "{text}"
    );
    assert!(text.contains("Stablestol [chair-1]"), "{text}");
    assert!(text.contains("Total to pay: 774.70 NOK"), "{text}");
}

#[test]
fn reads_standard_input_and_generates_a_reference() {
    let doc =
        r#"{"currency":"NOK","lines":[{"name":"x","quantity":1,"unit_price":100,"vat_rate":25}]}"#;
    let out = cli(&["quote", "--order", "-", "--json"], Some(doc));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference = v["reference"].as_str().unwrap();
    assert!(
        reference.starts_with('K') && reference.len() <= 64,
        "{reference}"
    );
    assert_eq!(v["total"]["gross"], 100);
}

#[test]
fn bad_input_exits_2_with_one_line_per_problem() {
    let doc = r#"{"currency":"NOK","lines":[
        {"name":"a","quantity":1,"unit_price":100,"vat_rate":"25"},
        {"name":"b","quantity":1,"unit_price":100,"vat_rate":"25"},
        {"name":"c","quantity":1,"unit_price":100,"vat_rate":125,"discont":5}]}"#;
    let out = cli(&["quote", "--order", "-"], Some(doc));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        vec![
            "lines[2].discont: unknown field (expected one of: sku, name, quantity, unit, unit_price, vat_rate, discount)",
            "lines[2].vat_rate: 125 is above 100",
        ]
    );

    let out = cli(
        &["quote", "--order", "-"],
        Some("{\n \"currency\": \"NOK\",,\n}"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("$: malformed JSON at line 2, column 20: key must be a string"),
        "{err}"
    );

    let out = cli(&["quote", "--order", "/nonexistent/order.json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/order.json"));
}
