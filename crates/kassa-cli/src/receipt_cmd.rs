//! `kassa-cli receipt <id>`: a sale's receipt, or a return's (`--return OP`), as the journal
//! holds it (`kassa_core::printing`). Without an output it prints the receipt's lines (a look,
//! nothing issued). `--printer`, `--pdf` and `--escpos` issue the original the first time;
//! after that they are refused unless `--copy`, which journals the one copy the journal allows
//! and marks it KOPI. `--printer` without a URL uses `printer.url`.
//!
//! Exit status: 0 made (and sent), 2 no such receipt, the original issued already, a second
//! copy, a missing organisation number; 3 the printer or a file failed (the sale stays
//! complete: print it again later).

use crate::station::{store_failure, Station};
use crate::Failure;
use kassa_core::printer::PrinterUrl;
use kassa_core::printing::{self, Issued, Output, Paper, PrintingError, Which};
use kassa_core::time::now_millis;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ReceiptArgs {
    /// Kassa's session id.
    pub id: String,
    /// The return receipt of this refund or void (its operation id) instead of the sales
    /// receipt.
    #[arg(long = "return", value_name = "OPERATION")]
    pub return_of: Option<String>,
    /// Make the copy (journaled, marked KOPI; one per receipt).
    #[arg(long)]
    pub copy: bool,
    /// Save it as a PDF (80 mm wide).
    #[arg(long, value_name = "FILE")]
    pub pdf: Option<PathBuf>,
    /// Write its ESC/POS bytes to a file.
    #[arg(long, value_name = "FILE")]
    pub escpos: Option<PathBuf>,
    /// Print it on the receipt printer: URL (tcp://host:9100, usb://VID:PID, serial:///dev/…),
    /// or printer.url when given without one.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub printer: Option<String>,
    /// Print the receipt (its model and lines) as JSON.
    #[arg(long)]
    pub json: bool,
}

fn failure(e: PrintingError) -> Failure {
    match e {
        PrintingError::Store(s) => store_failure(s),
        PrintingError::Print(_) => Failure::System(format!("{e} [{}]", e.code())),
        PrintingError::Receipt(kassa_core::receipt::ReceiptError::Output { .. }) => {
            Failure::System(format!("{e} [{}]", e.code()))
        }
        _ => Failure::Invalid(format!("{e} [{}]", e.code())),
    }
}

pub fn receipt(dir: &Path, args: ReceiptArgs) -> Result<(), Failure> {
    let mut station = Station::open_without_reconciling(dir)?;
    let paper = Paper::from_settings(&station.settings);
    let which = match &args.return_of {
        Some(op) => Which::Return(op),
        None => Which::Sale,
    };
    let mut outputs = Vec::new();
    if let Some(url) = &args.printer {
        let url = if url.is_empty() {
            station
                .settings
                .printer()
                .ok_or_else(|| failure(PrintingError::NoPrinter))?
        } else {
            PrinterUrl::parse(url).map_err(|e| Failure::Invalid(format!("--printer: {e}")))?
        };
        outputs.push(Output::Printer(url));
    }
    if let Some(p) = &args.pdf {
        outputs.push(Output::Pdf(p.clone()));
    }
    if let Some(p) = &args.escpos {
        outputs.push(Output::EscPos(p.clone()));
    }
    let now = now_millis();
    let made = if args.copy {
        // The copy is journaled once, then sent to every output asked for.
        let by = station.operator()?;
        let mut outputs = outputs.iter();
        let made = printing::copy(
            &mut station.log,
            &paper,
            &args.id,
            which,
            outputs.next(),
            &by,
            now,
        )
        .map_err(failure)?;
        for output in outputs {
            printing::send_made(&made, &paper, output).map_err(failure)?;
        }
        made
    } else if let Some((first, rest)) = outputs.split_first() {
        let made = printing::issue_original(&mut station.log, &paper, &args.id, which, first, now)
            .map_err(failure)?;
        // The same original to the other outputs (one issue: e.g. printed and kept as PDF).
        for output in rest {
            printing::send_made(&made, &paper, output).map_err(failure)?;
        }
        made
    } else {
        printing::view(&station.log, &paper, &args.id, which).map_err(failure)?
    };
    show(&made, args.json);
    Ok(())
}

fn show(made: &Issued, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(made).expect("a receipt serializes")
        );
        return;
    }
    for line in &made.lines {
        println!("{line}");
    }
}
