//! Closing the day end to end: `kassa-cli report x|z` after a day of demo sales, a refund and
//! a copy receipt, with the journal's key in the real OS keyring (`#[ignore]`d for a bare
//! `cargo test`; `make test` runs them in a throwaway keyring). The Z's totals are checked
//! against the sum of the day's receipts as `journal list` shows them, the printout against
//! what a loopback TCP "printer" received, decoded byte by byte.

mod common;

#[path = "../../kassa-core/tests/support/saft_check.rs"]
mod saft_check;

use common::shop::json;
use common::*;
use serde_json::Value;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;

/// 2 × Kaffe 34,50 (15 %) + Krus 100,00 (25 %): 169,00 a sale.
fn order(dir: &DataDir) -> String {
    let path = dir.0.join("order.json");
    std::fs::write(
        &path,
        r#"{"currency":"NOK","prices_include_vat":true,"lines":[
          {"name":"Kaffe","quantity":"2","unit_price":3450,"vat_rate":"15"},
          {"name":"Krus","quantity":"1","unit_price":10000,"vat_rate":"25","discount":500}]}"#,
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

fn journal(dir: &Path) -> Vec<Value> {
    let out = cli(dir, &["journal", "list", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A copy of the receipt of journal entry `seq`, made the way the receipt command makes one
/// (`SessionLog::record_copy`, by the owner): copies need no key, so no keyring here.
fn copy_receipt(dir: &Path, seq: i64) {
    let mut log = kassa_core::store::SessionLog::open_in(dir).unwrap();
    let owner = log.owner_if_no_operators().unwrap().unwrap();
    log.record_copy(seq, &owner, kassa_core::time::now_millis())
        .unwrap();
}

/// What ESC/POS bytes print, line by line: ESC @, ESC t n, ESC E n, GS ! n skipped, ESC d 1
/// ends a line, GS V A 0 is the cut; PC865's Norwegian letters by the code page's table.
fn printed_lines(bytes: &[u8]) -> (Vec<String>, bool) {
    let (mut lines, mut text, mut cut) = (Vec::new(), String::new(), false);
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).copied()) {
            (0x1b, Some(b'@')) => i += 2,
            (0x1b, Some(b'd')) => {
                lines.push(std::mem::take(&mut text));
                i += 3;
            }
            (0x1b, _) => i += 3,
            (0x1d, Some(b'V')) => {
                cut = true;
                i += 4;
            }
            (0x1d, _) => i += 3,
            (b, _) => {
                text.push(match b {
                    0x86 => 'å',
                    0x8f => 'Å',
                    0x91 => 'æ',
                    0x9b => 'ø',
                    0x9d => 'Ø',
                    0xff => ' ',
                    b if b < 0x80 => b as char,
                    other => panic!("byte {other:#04x} is not a character a report prints"),
                });
                i += 1;
            }
        }
    }
    (lines, cut)
}

fn sum(entries: &[Value], kind: &str) -> (u64, i64) {
    let of: Vec<&Value> = entries.iter().filter(|e| e["kind"] == kind).collect();
    (
        of.len() as u64,
        of.iter().map(|e| e["gross_minor"].as_i64().unwrap()).sum(),
    )
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn a_day_of_sales_a_refund_and_a_copy_closes_with_a_z_that_matches_the_receipts() {
    let _keyring = keyring_lock();
    let dir = DataDir::new("day-close");
    let order = order(&dir);
    let sales: Vec<String> = (0..3).map(|_| pay_demo(&dir.0, &order)).collect();
    let out = cli(
        &dir.0,
        &["refund", &sales[0], "--line", "0:1", "--json"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sale_seq = journal(&dir.0)
        .iter()
        .find(|e| e["kind"] == "sale" && e["session_id"] == sales[1].as_str())
        .unwrap()["seq"]
        .as_i64()
        .unwrap();
    copy_receipt(&dir.0, sale_seq);

    // An X first: the totals so far, journaled in full, nothing closed.
    let x = json(&cli(&dir.0, &["report", "x", "--json"], None));
    assert_eq!((&x["kind"], &x["number"]), (&"x".into(), &1.into()));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let printer = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut bytes = Vec::new();
        conn.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let (pdf, escpos) = (dir.0.join("z.pdf"), dir.0.join("z.bin"));
    let out = cli(
        &dir.0,
        &[
            "report",
            "z",
            "--json",
            "--pdf",
            pdf.to_str().unwrap(),
            "--escpos",
            escpos.to_str().unwrap(),
            "--printer",
            &format!("tcp://127.0.0.1:{port}"),
        ],
        None,
    );
    let z = json(&out);
    assert!(
        stderr(&out).contains("Z report 1 of register 1 made"),
        "{}",
        stderr(&out)
    );

    // The Z against the day's receipts, as the journal lists them.
    let entries = journal(&dir.0);
    let (sales_n, sales_gross) = sum(&entries, "sale");
    let (returns_n, returns_gross) = sum(&entries, "return");
    assert_eq!((sales_n, returns_n), (3, 1));
    assert_eq!(z["kind"], "z");
    assert_eq!(z["number"], 1);
    assert_eq!(z["register_id"], "1");
    assert_eq!(z["sales_count"], sales_n);
    assert_eq!(z["sales_gross"], sales_gross);
    assert_eq!(z["returns_count"], returns_n);
    assert_eq!(z["returns_gross"], -returns_gross);
    assert_eq!(z["net_gross"], sales_gross + returns_gross);
    let vat = z["vat"].as_array().unwrap();
    assert_eq!(vat[0]["rate"], "25", "highest rate first");
    assert_eq!(vat[1]["rate"], "15");
    let vat_gross: i64 = vat.iter().map(|v| v["gross"].as_i64().unwrap()).sum();
    assert_eq!(vat_gross, sales_gross + returns_gross);
    for v in vat {
        assert_eq!(
            v["net"].as_i64().unwrap() + v["vat"].as_i64().unwrap(),
            v["gross"].as_i64().unwrap()
        );
    }
    let payments = z["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (
            &payments[0]["provider"],
            &payments[0]["count"],
            &payments[0]["gross"]
        ),
        (&"demo".into(), &3.into(), &sales_gross.into())
    );
    assert_eq!(payments[0]["payment_type"], "12999");
    assert_eq!(z["operators"][0]["id"], 1);
    assert_eq!(z["operators"][0]["sales_gross"], sales_gross);
    let copied = entries.iter().find(|e| e["kind"] == "copy").unwrap();
    assert_eq!(
        (&z["copies"]["count"], &z["copies"]["amount"]),
        (&1.into(), &copied["body"]["gross"])
    );
    assert_eq!(
        (&z["discounts"]["count"], &z["discounts"]["amount"]),
        (&3.into(), &1500.into()),
        "one discounted line a sale, 5 kr each"
    );
    assert_eq!(z["grand_total"]["net"], sales_gross + returns_gross);
    assert_eq!(z["in_flight"]["open"]["count"], 0);
    // Journaled in full: the Z entry's body is the report.
    let z_entry = entries.iter().find(|e| e["kind"] == "z_report").unwrap();
    assert_eq!(z_entry["event_code"], "13009");
    let mut body = z_entry["body"].clone();
    body["journal_seq"] = z_entry["seq"].clone();
    assert_eq!(body, z);
    let x_entry = entries.iter().find(|e| e["kind"] == "x_report").unwrap();
    assert_eq!(
        x_entry["body"]["sales_gross"], sales_gross,
        "the X in full too"
    );

    // The printer got the printout the ESC/POS file holds, in PC865, cut at the end.
    let received = printer.join().unwrap();
    assert_eq!(received, std::fs::read(&escpos).unwrap());
    assert!(received.starts_with(&[0x1b, b'@']));
    let (lines, cut) = printed_lines(&received);
    assert!(cut, "the paper is cut");
    let has = |start: &str, end: &str| {
        lines
            .iter()
            .any(|l| l.trim_start().starts_with(start) && l.ends_with(end))
    };
    assert!(has("Z-rapport", "Z-rapport"), "{lines:#?}");
    assert!(has("Rapport nr.", " 1"), "{lines:#?}");
    assert!(has("Salgskvitteringer (3)", "492,00"), "{lines:#?}");
    assert!(has("Returkvitteringer (1)", "-34,50"), "{lines:#?}");
    assert!(has("Netto salg NOK", "457,50"), "{lines:#?}");
    assert!(has("Kopikvitteringer (1)", "164,00"), "{lines:#?}");
    assert!(has("Operatør", "1 Owner"), "{lines:#?}");
    // The PDF says the same.
    let text = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Z-rapport") && text.contains("457,50"),
        "{text}"
    );

    // A second Z the same day is refused, clearly, and nothing more is journaled.
    let out = cli(&dir.0, &["report", "z"], None);
    assert_refused(&out, 2, "has its Z report of ");
    assert!(
        stderr(&out).contains("one Z per register per day"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("[z_report_exists]"),
        "{}",
        stderr(&out)
    );
    assert_eq!(journal(&dir.0).len(), entries.len());
    // An X still can be made, and it starts after the Z.
    let x2 = json(&cli(&dir.0, &["report", "x", "--json"], None));
    assert_eq!((&x2["sales_count"], &x2["number"]), (&0.into(), &2.into()));
    assert_eq!(x2["grand_total"], z["grand_total"]);
    let out = cli(&dir.0, &["journal", "verify"], None);
    assert!(out.status.success(), "{}", stderr(&out));

    // The day as a SAF-T file: valid against the official XSD (and a strict copy), every
    // signature verified by openssl with the public key the shop hands the tax office.
    let today = entries[0]["local_date"].as_str().unwrap();
    for (k, v) in [
        ("shop.name", "Bakeriet AS"),
        ("shop.org_number", "923609016"),
    ] {
        let out = cli(&dir.0, &["config", "set", k, v], None);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let exports = dir.0.join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let out = cli(
        &dir.0,
        &[
            "saft",
            "--from",
            today,
            "--to",
            today,
            "--out",
            exports.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::path::PathBuf::from(stdout(&out).trim());
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with(&format!(
            "SAF-T Cash Register_923609016_{}",
            today.replace('-', "")
        )) && name.ends_with("_1.xml"),
        "{name}"
    );
    assert!(
        stderr(&out).contains("4 cash transactions"),
        "{}",
        stderr(&out)
    );
    saft_check::validate(&file, &exports);
    let xml = std::fs::read_to_string(&file).unwrap();
    let pem = stdout(&cli(&dir.0, &["journal", "public-key"], None));
    assert_eq!(saft_check::verify_signatures(&xml, &pem, &exports), 4);
    saft_check::check_references(&xml);
    assert!(xml.contains("<reportID>Z-1</reportID>"));
    assert!(xml.contains(&format!(
        "<reportReturnAmnt>{}.{:02}</reportReturnAmnt>",
        -returns_gross / 100,
        -returns_gross % 100
    )));
    let last = journal(&dir.0).pop().unwrap();
    assert_eq!(
        (&last["kind"], &last["event_code"]),
        (&"export".into(), &"13020".into())
    );
    assert_refused(
        &cli(
            &dir.0,
            &[
                "saft",
                "--from",
                "2026-02-30",
                "--to",
                today,
                "--out",
                "x.xml",
            ],
            None,
        ),
        2,
        "--from: \"2026-02-30\" is not a date",
    );
}
