//! A sample receipt without a sale: to see the layout, to try a printer, to look at the PDF.
//!
//! ```sh
//! cargo run -p kassa-core --example receipt                      # the text, 48 columns
//! cargo run -p kassa-core --example receipt -- --columns 42 --pdf /tmp/r.pdf --escpos /tmp/r.bin
//! cargo run -p kassa-core --example receipt -- --printer tcp://10.0.0.5:9100
//! ```
//!
//! The sale is made up (a bakery, two VAT rates, a discount, paid through Dintero); the model,
//! the layout and the outputs are the real ones.

use kassa_core::printer::{self, PrinterUrl};
use kassa_core::receipt::{self, Columns, Market, Operator, Payment, PaymentState};
use kassa_core::receipt::{ReceiptKind, ReceiptMeta, Seller, Stamp};
use std::path::PathBuf;

const ORDER: &str = r#"{
  "reference": "A-1001",
  "currency": "NOK",
  "prices_include_vat": true,
  "lines": [
    { "name": "Rundstykke grovt", "quantity": "2", "unit_price": 1725, "vat_rate": "15" },
    { "name": "Kaffekrus, stentøy", "quantity": "1", "unit_price": 10000, "vat_rate": "25", "discount": 500 },
    { "name": "Laks, røkt", "quantity": "0.35", "unit": "kg", "unit_price": 19900, "vat_rate": "15" }
  ]
}"#;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut columns = Columns::PAPER_80MM;
    let (mut pdf, mut escpos, mut printer) = (None::<PathBuf>, None::<PathBuf>, None::<PrinterUrl>);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--columns" => {
                let n = value()?.parse().map_err(|_| "--columns takes a number")?;
                columns = Columns::new(n)?;
            }
            "--pdf" => pdf = Some(value()?.into()),
            "--escpos" => escpos = Some(value()?.into()),
            "--printer" => printer = Some(PrinterUrl::parse(&value()?)?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let order = kassa_core::quote_document(ORDER, "A-1001").map_err(|e| e.to_string())?;
    let payment = Payment {
        provider: "dintero".into(),
        reference: Some("P00112233.5a8GmD6Q9rF".into()),
        order_reference: order.reference.clone(),
        state: PaymentState::Captured,
        confirmed_by_staff: false,
        demo: false,
    };
    let seller = Seller {
        name: "Demo Bakeri & Kaffe AS".into(),
        address: vec!["Storgata 1".into(), "9008 Tromsø".into()],
        org_number: Some("923609016".into()),
        vat_registered: true,
    };
    let meta = ReceiptMeta {
        kind: ReceiptKind::Sale,
        copy: None,
        number: 1,
        at: Stamp::parse("2026-03-02", "10:15:30").map_err(|e| e.to_string())?,
        register_id: "KASSA-1".into(),
        operator: Operator {
            id: 1,
            name: "Kari Nordmann".into(),
        },
        market: Market::No,
    };
    let doc = receipt::build(&order, &payment, &seller, &meta).map_err(|e| e.to_string())?;
    for line in doc.lines(columns) {
        println!("{}", line.text);
    }
    if let Some(path) = pdf {
        let bytes = receipt::pdf::render(&doc, columns).map_err(|e| e.to_string())?;
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if escpos.is_some() || printer.is_some() {
        let bytes = receipt::escpos::encode(&doc, columns).map_err(|e| e.to_string())?;
        if let Some(path) = escpos {
            printer::save(&path, &bytes).map_err(|e| e.to_string())?;
        }
        if let Some(url) = printer {
            printer::send(&url, &bytes).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
