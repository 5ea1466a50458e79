//! `kassa-cli report x|z [--json] [--pdf FILE] [--escpos FILE] [--printer URL]`: the day's X
//! (resets nothing) or Z (closes the period; one per register per day) report, made and
//! journaled in full by the core (`SessionLog::x_report`/`z_report`), shown through the
//! receipt model's lines (`receipt::build_report`): the same printout on the terminal, in the
//! PDF and on the thermal printer.
//!
//! The station reconciles first, so sessions a crash left open are settled (or shown as in
//! flight) before the totals are taken.
//!
//! `report x --shop`: the shop-wide X from the hub (`kassa_hub::shop_x`): every register's X
//! over the entries the hub holds, and their total, in the same printout; journaled nowhere,
//! and no reconciling here (it reads the hub, not this till's sessions).

use crate::station::{store_failure, Station};
use crate::Failure;
use kassa_core::printer::{self, PrinterUrl};
use kassa_core::receipt::{self, Columns, Market, Seller};
use kassa_core::report::ReportKind;
use kassa_core::secrets::OsKeyring;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// `x` (the totals so far; resets nothing) or `z` (closes the day; once per day).
    #[arg(value_parser = ["x", "z"])]
    kind: String,
    /// Print the report as JSON (amounts in minor units) instead of the printout's text.
    #[arg(long)]
    json: bool,
    /// X only: the whole shop's X from the hub, per register and the total (needs `hub.url`;
    /// registers with rows still in their till's outbox are marked as behind).
    #[arg(long)]
    shop: bool,
    /// Also save the printout as a PDF (80 mm roll).
    #[arg(long, value_name = "FILE")]
    pdf: Option<PathBuf>,
    /// Also save the printout as ESC/POS bytes.
    #[arg(long, value_name = "FILE")]
    escpos: Option<PathBuf>,
    /// Also print it: `tcp://host:9100`, `usb://VID:PID`, `serial:///dev/ttyUSB0` (default for
    /// none of these flags: nothing is printed).
    #[arg(long, value_name = "URL")]
    printer: Option<String>,
}

pub fn run(dir: &std::path::Path, args: &ReportArgs) -> Result<(), Failure> {
    let printer_url = args
        .printer
        .as_deref()
        .map(|u| PrinterUrl::parse(u).map_err(|e| Failure::Invalid(format!("--printer: {e}"))))
        .transpose()?;
    if args.shop {
        return shop(dir, args, printer_url.as_ref());
    }
    let mut station = Station::open(dir)?;
    let who = station.operator()?;
    let now = kassa_core::time::now_millis();
    let (entry, report) = match args.kind.as_str() {
        "z" => station.log.z_report(&who, now),
        _ => station.log.x_report(&who, now),
    }
    .map_err(store_failure)?;
    let seller = Seller::from_settings(&station.settings);
    let output = |e: receipt::ReceiptError| {
        Failure::System(format!(
            "the report was made and journaled (entry {}), but cannot be shown: {e}",
            entry.seq
        ))
    };
    let doc = receipt::build_report(&report, &seller, Market::No).map_err(output)?;
    let mut v = serde_json::to_value(&report).expect("a report serializes");
    v["journal_seq"] = entry.seq.into();
    let made = format!(
        "the {} report was made and journaled as entry {}; `kassa-cli journal list` shows it",
        report.period.kind.letter(),
        entry.seq
    );
    show(
        &doc,
        &v,
        &station.settings,
        args,
        printer_url.as_ref(),
        &made,
    )?;
    if report.period.kind == ReportKind::Z {
        eprintln!(
            "Z report {} of register {} made and journaled (entry {}); the next period starts now",
            report.period.number, report.period.register_id, entry.seq
        );
    }
    Ok(())
}

/// `report x --shop`.
fn shop(
    dir: &std::path::Path,
    args: &ReportArgs,
    printer_url: Option<&PrinterUrl>,
) -> Result<(), Failure> {
    if args.kind == "z" {
        return Err(Failure::Invalid(
            "--shop: a Z is each register's own (it closes that till's day); make it on each \
             till with `kassa-cli report z`. `report x --shop` reads the whole shop."
                .into(),
        ));
    }
    let mut station = Station::open_without_reconciling(dir)?;
    let who = station.operator()?;
    let hub = kassa_hub::Hub::from_settings(&station.settings, &OsKeyring)
        .map_err(crate::hub_cmd::hub_failure)?;
    let shop = kassa_hub::shop_x(&hub, station.log.time_zone(), who.stamp())
        .map_err(crate::hub_cmd::hub_failure)?;
    let seller = Seller::from_settings(&station.settings);
    let doc = receipt::build_shop_report(&shop, &seller, Market::No)
        .map_err(|e| Failure::System(format!("the shop-wide X cannot be shown: {e}")))?;
    let v = serde_json::to_value(&shop).expect("a report serializes");
    show(
        &doc,
        &v,
        &station.settings,
        args,
        printer_url,
        "the shop-wide X was read from the hub (it is journaled nowhere)",
    )?;
    for r in shop.behind() {
        let c = &r.coverage;
        eprintln!(
            "register {} may be behind: the hub holds its entries up to {}; last push {}{}",
            r.report.period.register_id,
            c.head_seq,
            c.last_push.as_deref().unwrap_or("never"),
            match c.waiting {
                Some(n) if n > 0 => format!(", {n} rows were still waiting on the till then"),
                _ => String::new(),
            }
        );
    }
    Ok(())
}

/// The report on the terminal (its printout, or `json` with `--json`), and into the files and
/// printer asked for; `made` says what happened before, for an error here.
fn show(
    doc: &receipt::ReceiptDoc,
    json: &serde_json::Value,
    settings: &kassa_core::settings::Settings,
    args: &ReportArgs,
    printer_url: Option<&PrinterUrl>,
    made: &str,
) -> Result<(), Failure> {
    let output =
        |e: receipt::ReceiptError| Failure::System(format!("{made}, but cannot be shown: {e}"));
    let columns = Columns::new(settings.printer_columns()).map_err(Failure::Invalid)?;
    let lines = doc.lines(columns);
    if args.json {
        println!("{json}");
    } else {
        for l in &lines {
            println!("{}", l.text);
        }
    }
    let printed = |e: printer::PrintError| Failure::System(format!("{e} ({made})"));
    if let Some(path) = &args.pdf {
        let bytes = receipt::pdf::render_lines(&lines, columns).map_err(output)?;
        printer::save(path, &bytes).map_err(printed)?;
    }
    if args.escpos.is_some() || printer_url.is_some() {
        let bytes = receipt::escpos::encode_lines(&lines, columns).map_err(output)?;
        if let Some(path) = &args.escpos {
            printer::save(path, &bytes).map_err(printed)?;
        }
        if let Some(url) = printer_url {
            printer::send(url, &bytes).map_err(printed)?;
        }
    }
    Ok(())
}
