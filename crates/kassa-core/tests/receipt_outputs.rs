//! Receipts through real parts: ESC/POS over TCP to a loopback listener that stands in for the
//! printer (the test decodes what it received: the code page, the text in PC865, the styles,
//! the cut), and PDFs read back with poppler's `pdftotext`, `pdffonts` and `pdfinfo`. Both are
//! compared with the receipt model's own lines, so the outputs cannot drift from the model.
//!
//! The decoder here is the test's own (its own bytes for the Norwegian letters, its own list of
//! the commands a receipt may contain), not the code under test's.

use kassa_core::printer::{self, PrintError, PrinterUrl, Timeouts};
use kassa_core::provider::CapturePolicy;
use kassa_core::receipt::{self, Columns, Line, Market, Operator, Payment, ReceiptDoc};
use kassa_core::receipt::{ReceiptKind, ReceiptMeta, Seller, Size, Stamp};
use kassa_core::session::Status;
use kassa_core::store::SessionRecord;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const CHECKOUT_URL: &str = "https://checkout.test.dintero.com/v1/view/T11223344.c0ffee42Qr";

/// A sale with Norwegian letters, characters PC865 lacks (– and €), an amount with a thousands
/// separator, two VAT rates; paid through Dintero, whose session had a checkout URL and QR.
fn receipt(demo: bool, copy: bool) -> ReceiptDoc {
    let order = kassa_core::quote_document(
        r#"{
          "reference": "K-2044",
          "currency": "NOK",
          "prices_include_vat": true,
          "lines": [
            { "name": "Brødkurv – stor (€-modell)", "quantity": "1", "unit_price": 124900, "vat_rate": "25" },
            { "name": "Skolebrød", "quantity": "3", "unit_price": 2990, "vat_rate": "15" },
            { "name": "Blåbærsyltetøy, økologisk fra Ålesund", "quantity": "1", "unit_price": 8950, "vat_rate": "15", "discount": 950 }
          ]
        }"#,
        "unused",
    )
    .unwrap();
    let session = SessionRecord {
        id: "0190b2a4-0000-7000-8000-0000000000aa".into(),
        provider: "dintero".into(),
        profile: "test".into(),
        demo,
        provider_session_id: Some("T11223344.c0ffee42Qr".into()),
        merchant_reference: order.reference.clone(),
        currency: "NOK".into(),
        gross_minor: order.total.gross,
        net_minor: order.total.net,
        vat_minor: order.total.vat,
        order_json: kassa_core::quote::to_logged(&order),
        checkout_url: Some(CHECKOUT_URL.into()),
        qr_payload: Some(CHECKOUT_URL.into()),
        status: Status::Paid,
        created_at: 0,
        updated_at: 0,
        expires_at: None,
        last_error: None,
        provider_payment_id: None,
        confirmed_by: None,
        capture_policy: Some(CapturePolicy::Manual),
        authorization_expires_at: None,
        sale: kassa_core::link::SaleKind::Counter,
        requested_expires_at: None,
        contact: None,
        contact_masked: None,
        renews: None,
        operator_id: Some(1),
    };
    let seller = Seller {
        name: "Bakeriet på Torget AS".into(),
        address: vec!["Torget 5".into(), "6002 Ålesund".into()],
        org_number: Some("974760673".into()),
        vat_registered: true,
    };
    let meta = ReceiptMeta {
        kind: ReceiptKind::Sale,
        copy: copy.then(|| Stamp::parse("2026-12-03", "14:02:09").unwrap()),
        number: 2044,
        at: Stamp::parse("2026-12-03", "13:58:41").unwrap(),
        register_id: "KASSA-2".into(),
        operator: Operator {
            id: 7,
            name: "Øystein Å".into(),
        },
        market: Market::No,
    };
    let payment = Payment::from_session(&session, &[]);
    receipt::build(&order, &payment, &seller, &meta).unwrap()
}

fn columns(n: usize) -> Columns {
    Columns::new(n).unwrap()
}

// ---- ESC/POS ---------------------------------------------------------------------------

/// What a printer would do with the bytes: lines of text with their style, and the commands
/// that are not text.
#[derive(Debug, Default)]
struct Printed {
    lines: Vec<(String, Size, bool)>,
    code_page: Option<u8>,
    initialised: bool,
    cut: bool,
}

/// CP865's upper half for the characters these receipts use, written out byte by byte from the
/// code page's published table (not from the code under test).
fn cp865(b: u8) -> char {
    match b {
        0x81 => 'ü',
        0x82 => 'é',
        0x86 => 'å',
        0x8f => 'Å',
        0x91 => 'æ',
        0x92 => 'Æ',
        0x94 => 'ö',
        0x99 => 'Ö',
        0x9b => 'ø',
        0x9d => 'Ø',
        0xff => '\u{a0}',
        other => panic!("byte {other:#04x} is not a character these receipts use"),
    }
}

fn decode(bytes: &[u8]) -> Printed {
    let mut p = Printed::default();
    let (mut bold, mut double) = (false, false);
    let mut text = String::new();
    let mut style = None;
    let mut i = 0;
    while i < bytes.len() {
        assert!(!p.cut, "nothing may follow the cut: {:02x?}", &bytes[i..]);
        let arg = |k: usize| {
            *bytes
                .get(i + k)
                .unwrap_or_else(|| panic!("a command cut short at {i}"))
        };
        match bytes[i] {
            0x1b => {
                match arg(1) {
                    b'@' => p.initialised = true,
                    b't' => p.code_page = Some(arg(2)),
                    b'E' => bold = arg(2) & 1 == 1,
                    b'd' => {
                        let (b, d) = style.take().unwrap_or((bold, double));
                        let size = if d { Size::Double } else { Size::Normal };
                        p.lines.push((std::mem::take(&mut text), size, b));
                        assert_eq!(arg(2), 1, "one line feed per line");
                    }
                    other => panic!("ESC {other:#04x} is not a command a receipt sends"),
                }
                i += if arg(1) == b'@' { 2 } else { 3 };
            }
            0x1d => match arg(1) {
                b'!' => {
                    double = match arg(2) {
                        0x00 => false,
                        0x11 => true,
                        n => panic!("GS ! {n:#04x}: only normal and double size"),
                    };
                    i += 3;
                }
                b'V' => {
                    assert_eq!((arg(2), arg(3)), (b'A', 0), "a full cut after feeding");
                    p.cut = true;
                    i += 4;
                }
                other => {
                    panic!("GS {other:#04x} is not a command a receipt sends (QR codes are GS ( k)")
                }
            },
            b if b < 0x20 || b == 0x7f => panic!("control byte {b:#04x} at {i}"),
            b => {
                style.get_or_insert((bold, double));
                text.push(if b < 0x80 { b as char } else { cp865(b) });
                i += 1;
            }
        }
    }
    assert!(text.is_empty(), "text after the last line: {text:?}");
    p
}

/// The model's lines as the printer must print them: the same text and styles.
fn expected(lines: &[Line]) -> Vec<(String, Size, bool)> {
    lines
        .iter()
        .map(|l| (l.text.clone(), l.size, l.bold))
        .collect()
}

/// A listener on a free loopback port that collects everything one connection sends.
fn printer_on_loopback() -> (PrinterUrl, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut bytes = Vec::new();
        conn.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let url = PrinterUrl::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
    (url, received)
}

#[test]
fn a_network_printer_gets_the_receipt_in_pc865_and_cuts_it() {
    for (width, copy) in [(48, false), (42, true)] {
        let doc = receipt(false, copy);
        let (url, received) = printer_on_loopback();
        let bytes = receipt::escpos::encode(&doc, columns(width)).unwrap();
        printer::send(&url, &bytes).unwrap();
        let got = received.join().unwrap();
        assert_eq!(got, bytes, "the printer got every byte, once");

        let printed = decode(&got);
        assert!(printed.initialised && printed.cut);
        assert_eq!(printed.code_page, Some(5), "ESC t 5: PC865, Nordic");
        let model = doc.lines(columns(width));
        assert_eq!(printed.lines, expected(&model));
        // The Norwegian letters as they are, the characters PC865 lacks stood in for, every
        // line within the paper.
        let text: Vec<&str> = printed.lines.iter().map(|l| l.0.as_str()).collect();
        let all = text.join("\n");
        for s in [
            "Ålesund",
            "Blåbærsyltetøy",
            "økologisk",
            "Øystein Å",
            "Brødkurv - stor (EUR-modell)",
        ] {
            assert!(all.contains(s), "{s} in\n{all}");
        }
        assert!(all.contains("1\u{a0}249,00"), "{all}");
        assert_eq!(
            printed.lines[usize::from(copy) * 2].0.trim(),
            "Salgskvittering"
        );
        assert_eq!(printed.lines[usize::from(copy) * 2].1, Size::Double);
        if copy {
            assert_eq!(printed.lines[0].0.trim(), "KOPI");
            assert_eq!(
                printed.lines.last().unwrap().0.trim(),
                "IKKE KVITTERING FOR KJØP"
            );
        }
        assert!(text.iter().all(|l| l.chars().count() <= width));
    }
}

#[test]
fn an_unreachable_printer_is_named_with_the_cause_and_what_to_do() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = PrinterUrl::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let bytes = receipt::escpos::encode(&receipt(false, false), columns(48)).unwrap();
    let e = printer::send(&url, &bytes).unwrap_err();
    assert!(matches!(e, PrintError::Unreachable { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "receipt printer 127.0.0.1:{port} is not reachable (connection refused): check that \
             it is switched on and connected, and that printer.url is right"
        )
    );
    let e = printer::send(&PrinterUrl::parse("tcp://printer.invalid").unwrap(), &bytes)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "receipt printer printer.invalid:9100 is not reachable (cannot resolve printer.invalid"
        ),
        "{e}"
    );
}

#[test]
fn a_printer_that_stops_taking_data_times_out_and_says_how_far_it_got() {
    // Accepts, then never reads: once the socket buffers are full, the write blocks.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        drop(conn);
    });
    let url = PrinterUrl::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let t = Timeouts {
        connect: Duration::from_secs(1),
        write: Duration::from_millis(300),
    };
    let total = 64 << 20;
    let e = printer::send_with(&url, &vec![b'x'; total], t).unwrap_err();
    let PrintError::Interrupted { sent, .. } = e else {
        panic!("{e}")
    };
    assert!(sent > 0 && sent < total, "{sent}");
    assert!(e.to_string().ends_with(
        "(it took nothing for 0.3 s): check paper, cover and cable, then print the receipt again"
    ));
    holder.join().unwrap();
}

// ---- PDF --------------------------------------------------------------------------------

fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(pdf)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {tool} ({e}): install poppler-utils (make setup does, or \
                 apt-get install poppler-utils)"
            )
        });
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write_pdf(doc: &ReceiptDoc, width: usize, name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("kassa-receipt-{name}-{}.pdf", std::process::id()));
    std::fs::write(&path, receipt::pdf::render(doc, columns(width)).unwrap()).unwrap();
    path
}

/// Words per non-empty line: `pdftotext -layout` keeps the lines but not every run of spaces.
fn words(lines: impl Iterator<Item = String>) -> Vec<String> {
    lines
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_pdf_says_what_the_model_says_line_by_line() {
    for (width, demo, copy) in [(48, false, false), (42, true, true)] {
        let doc = receipt(demo, copy);
        let path = write_pdf(&doc, width, &format!("{width}"));
        let text = poppler("pdftotext", &["-layout"], &path);
        let model = words(doc.lines(columns(width)).into_iter().map(|l| l.text));
        assert_eq!(words(text.lines().map(str::to_string)), model, "{text}");
        // The PDF shows what the paper shows, stand-ins included.
        assert!(text.contains("Blåbærsyltetøy") && text.contains("Brødkurv - stor (EUR-modell)"));
        if demo {
            assert!(text.contains("DEMO - ingen ekte penger"));
        }
        // 80 mm wide (226.77 pt), as tall as the receipt; the two standard Courier fonts.
        let info = poppler("pdfinfo", &[], &path);
        let size = info.lines().find(|l| l.starts_with("Page size:")).unwrap();
        assert!(size.contains("226.772 x"), "{size}");
        assert!(
            info.lines()
                .any(|l| l.starts_with("Pages:") && l.ends_with(" 1")),
            "{info}"
        );
        let fonts = poppler("pdffonts", &[], &path);
        for font in ["Courier ", "Courier-Bold "] {
            let row = fonts
                .lines()
                .find(|l| l.starts_with(font))
                .unwrap_or_else(|| panic!("{font} in {fonts}"));
            let row: Vec<&str> = row.split_whitespace().collect();
            // name, "Type 1", encoding, embedded, subset, ToUnicode, object, generation
            assert_eq!(&row[1..6], ["Type", "1", "WinAnsi", "no", "no"], "{row:?}");
        }
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn the_same_receipt_gives_the_same_pdf_and_a_longer_one_a_taller_page() {
    let doc = receipt(false, false);
    let a = receipt::pdf::render(&doc, columns(48)).unwrap();
    assert_eq!(a, receipt::pdf::render(&doc, columns(48)).unwrap());
    let height = |doc: &ReceiptDoc, name: &str| {
        let path = write_pdf(doc, 48, name);
        let info = poppler("pdfinfo", &[], &path);
        std::fs::remove_file(&path).unwrap();
        let size = info
            .lines()
            .find(|l| l.starts_with("Page size:"))
            .unwrap()
            .to_string();
        size.split_whitespace()
            .nth(4)
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    // A copy has six more lines (two markers at the top, the copy's print time, a rule and
    // the two markers again at the foot): the page grows with it.
    assert!(height(&receipt(false, true), "tall") > height(&doc, "short"));
}

// ---- both -------------------------------------------------------------------------------

#[test]
fn the_checkout_url_and_its_qr_code_are_on_no_receipt() {
    let doc = receipt(false, false);
    let path = write_pdf(&doc, 48, "url");
    let text = poppler("pdftotext", &["-layout"], &path);
    std::fs::remove_file(&path).unwrap();
    let escpos = receipt::escpos::encode(&doc, columns(48)).unwrap();
    let printed = String::from_utf8_lossy(&escpos);
    for output in [text.as_str(), &printed] {
        assert!(!output.contains(CHECKOUT_URL), "{output}");
        assert!(
            !output.contains("https://") && !output.contains("checkout.test"),
            "{output}"
        );
    }
    // GS ( k is ESC/POS's 2D-code command (QR); the decoder also refuses any GS but ! and V.
    assert!(!escpos.windows(3).any(|w| w == b"\x1d(k"));
    decode(&escpos);
    // The reference is printed (it identifies the payment at Dintero), the URL is not.
    assert!(text.contains("Referanse T11223344.c0ffee42Qr"), "{text}");
}
