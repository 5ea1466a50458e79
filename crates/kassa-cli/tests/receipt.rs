//! `kassa-cli receipt` end to end: demo sales on loopback, the session log and journal on a
//! real SQLite file, the journal's key in the real OS keyring (`#[ignore]`d for a bare
//! `cargo test`; `make test` runs them in a throwaway keyring), a loopback TCP listener in place
//! of the receipt printer (the test reads the bytes it got), PDFs read back with poppler's
//! `pdftotext`. The rules: the original is issued once, the second print is the copy (journaled,
//! KOPI), a second copy is refused, a printer that is off loses nothing.

mod common;

use common::*;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;

fn kinds(dir: &Path) -> Vec<String> {
    ok_json(&cli(dir, &["journal", "list", "--json"], None))
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// A printer on a free loopback port: the bytes of one connection.
fn printer() -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("tcp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let got = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut bytes = Vec::new();
        conn.read_to_end(&mut bytes).unwrap();
        bytes
    });
    (url, got)
}

/// What the printer printed: the bytes 0x20..0x7e as text (the receipt's ASCII; PC865 only
/// differs above 0x7f), each run of other bytes as one space.
fn printed_text(bytes: &[u8]) -> String {
    let mut text = String::new();
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            text.push(b as char);
        } else if !text.ends_with(' ') {
            text.push(' ');
        }
    }
    text
}

fn has_cut(bytes: &[u8]) -> bool {
    // GS V: cut the paper.
    bytes.windows(2).any(|w| w == [0x1d, 0x56])
}

fn pdf_text(path: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed by make setup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn a_receipt_is_issued_once_copied_once_and_a_printer_that_is_off_loses_nothing() {
    let dir = DataDir::new("r-issue");
    let order = coffee_and_mug_order(&dir);
    let a = pay_demo(&dir.0, &order);
    let b = pay_demo(&dir.0, &order);

    // Looking at it issues nothing, and it is what the journal says: number, total, DEMO.
    let view = ok_json(&cli(&dir.0, &["receipt", &b, "--json"], None));
    assert_eq!(
        (view["kind"].as_str(), view["number"].as_i64()),
        (Some("sale"), Some(2))
    );
    assert!(view["issued"].is_null());
    let lines: Vec<String> = view["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let text = lines.join("\n");
    assert!(text.contains("Salgskvittering"), "{text}");
    assert!(text.contains("DEMO"), "{text}");
    assert!(text.contains("169,00"), "the total: {text}");
    assert!(!text.contains("KOPI"), "{text}");
    let plain = stdout(&cli(&dir.0, &["receipt", &b], None));
    assert_eq!(plain.lines().collect::<Vec<_>>(), lines);

    // A printer that is off: a clear error, exit 3, and the original is still to be printed.
    let off = TcpListener::bind("127.0.0.1:0").unwrap();
    let off_url = format!("tcp://127.0.0.1:{}", off.local_addr().unwrap().port());
    drop(off);
    assert_refused(
        &cli(&dir.0, &["receipt", &a, "--printer", &off_url], None),
        3,
        "is not reachable",
    );
    assert_eq!(kinds(&dir.0), ["key_created", "sale", "sale"]);

    // The original on the printer: the receipt's text, the cut.
    let (url, got) = printer();
    let out = cli(&dir.0, &["receipt", &a, "--printer", &url], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = got.join().unwrap();
    let paper = printed_text(&bytes);
    assert!(paper.contains("Salgskvittering"), "{paper}");
    assert!(paper.contains("Kaffe") && paper.contains("Krus"), "{paper}");
    assert!(!paper.contains("KOPI"), "{paper}");
    assert!(has_cut(&bytes));

    // Again: refused (it would be a second original), nothing journaled.
    assert_refused(
        &cli(
            &dir.0,
            &[
                "receipt",
                &a,
                "--pdf",
                dir.0.join("again.pdf").to_str().unwrap(),
            ],
            None,
        ),
        2,
        "receipt_issued",
    );
    assert!(!dir.0.join("again.pdf").exists());
    assert_eq!(kinds(&dir.0), ["key_created", "sale", "sale"]);
    let view = ok_json(&cli(&dir.0, &["receipt", &a, "--json"], None));
    assert!(
        view["issued"]
            .as_str()
            .unwrap()
            .starts_with("printed on tcp://127.0.0.1:"),
        "{view}"
    );

    // The copy, as a PDF: marked KOPI, journaled once with the original's number.
    let pdf = dir.0.join("copy.pdf");
    let out = cli(
        &dir.0,
        &["receipt", &a, "--copy", "--pdf", pdf.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = pdf_text(&pdf);
    assert!(text.contains("KOPI"), "{text}");
    assert!(text.contains("Salgskvittering"), "{text}");
    assert!(text.contains("169,00"), "{text}");
    let entries = ok_json(&cli(&dir.0, &["journal", "list", "--json"], None));
    let copy = entries.as_array().unwrap().last().unwrap().clone();
    assert_eq!(copy["kind"], "copy");
    assert_eq!(copy["event_code"], "13014");
    assert_eq!(copy["body"]["original_nr"], 1);
    assert_eq!(copy["body"]["gross"], 16900);

    // A second copy: refused by the journal, nothing printed.
    assert_refused(
        &cli(&dir.0, &["receipt", &a, "--copy"], None),
        2,
        "copy_exists",
    );
    assert_eq!(kinds(&dir.0), ["key_created", "sale", "sale", "copy"]);

    // The return receipt of a refund: negative, naming the sale it returns.
    let refund = ok_json(&cli(
        &dir.0,
        &["refund", &b, "--line", "0:1", "--json"],
        None,
    ));
    let op = refund["id"].as_str().unwrap();
    let ret = ok_json(&cli(
        &dir.0,
        &["receipt", &b, "--return", op, "--json"],
        None,
    ));
    assert_eq!(
        (ret["kind"].as_str(), ret["number"].as_i64()),
        (Some("return"), Some(3))
    );
    let text: Vec<&str> = ret["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let text = text.join("\n");
    assert!(text.contains("Returkvittering"), "{text}");
    assert!(text.contains("-34,50"), "{text}");
    // A sale's id with another sale's operation, or an unpaid session: no receipt.
    assert_refused(
        &cli(&dir.0, &["receipt", &a, "--return", op], None),
        2,
        "no_receipt",
    );
    let out = cli(&dir.0, &["journal", "verify"], None);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn a_printer_url_comes_from_the_settings_and_a_missing_one_is_named() {
    let dir = DataDir::new("r-settings");
    let order = coffee_and_mug_order(&dir);
    let a = pay_demo(&dir.0, &order);
    assert_refused(
        &cli(&dir.0, &["receipt", &a, "--printer"], None),
        2,
        "printer.url",
    );
    let (url, got) = printer();
    let out = cli(&dir.0, &["config", "set", "printer.url", &url], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(&dir.0, &["receipt", &a, "--printer"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(printed_text(&got.join().unwrap()).contains("Salgskvittering"));
    // A session that is not paid has no receipt.
    assert_refused(
        &cli(
            &dir.0,
            &["receipt", "0190b2a4-0000-7000-8000-000000000001"],
            None,
        ),
        2,
        "no_receipt",
    );
}
