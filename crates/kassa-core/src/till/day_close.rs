//! Closing the day at the counter: the X and Z reports (made and journaled by the session log,
//! shown as the receipt model's lines, so the screen shows what the printer prints), the SAF-T
//! export, and the start reminder of a day with sales and no Z.

use super::{ProviderSource, Till, TillError};
use crate::code::Code;
use crate::journal::{OperatorStamp, Zone};
use crate::receipt::{build_report, build_shop_report, Columns, Market, ReceiptDoc, Seller};
use crate::report::shop::ShopReport;
use crate::report::{Report, ReportKind};
use crate::saft::{ExportRequest, SaftError};
use crate::settings::Settings;
use serde::Serialize;
use std::path::Path;

/// A report as the screen shows it: its figures and its printout's lines.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub report: Report,
    /// The printout, one text line each (the receipt model's layout at `printer.columns`).
    pub lines: Vec<String>,
}

/// The shop-wide X (read from the shop's hub) as the Day close screen shows it: its figures,
/// its printout's lines and the registers that may be behind.
#[derive(Debug, Clone, Serialize)]
pub struct ShopReportView {
    pub report: ShopReport,
    pub lines: Vec<String>,
    /// Registers whose rows may not all be on the hub (their coverage says up to where).
    pub behind: Vec<String>,
}

impl ShopReportView {
    /// Lays `report` out as the till's own X is (`settings`: the seller and the paper).
    pub fn new(report: ShopReport, settings: &Settings) -> Result<ShopReportView, TillError> {
        let doc = build_shop_report(&report, &Seller::from_settings(settings), Market::No)
            .map_err(|e| TillError::new(Code::ReportInconsistent, e.to_string()))?;
        let behind = report
            .behind()
            .map(|r| r.report.period.register_id.clone())
            .collect();
        Ok(ShopReportView {
            lines: lines(&doc, settings)?,
            report,
            behind,
        })
    }
}

/// A printout's lines at the till's paper width.
fn lines(doc: &ReceiptDoc, settings: &Settings) -> Result<Vec<String>, TillError> {
    let columns =
        Columns::new(settings.printer_columns()).map_err(|m| TillError::new(Code::Settings, m))?;
    Ok(doc.lines(columns).into_iter().map(|l| l.text).collect())
}

/// A finished SAF-T export.
#[derive(Debug, Clone, Serialize)]
pub struct SaftView {
    pub path: String,
    pub events: u64,
    pub transactions: u64,
}

impl From<SaftError> for TillError {
    fn from(e: SaftError) -> TillError {
        match e {
            SaftError::Store(s) => s.into(),
            SaftError::Invalid(m) => TillError::new(Code::InvalidInput, m),
            other => TillError::new(Code::Export, other.to_string()),
        }
    }
}

impl<P: ProviderSource> Till<P> {
    /// Makes an X (`z` false) or the day's Z report as the operator at the till, journaled in
    /// full; a second Z the same day is refused (`z_report_exists`).
    pub fn report(&mut self, z: bool, now: i64) -> Result<ReportView, TillError> {
        let who = self.acting()?;
        let (_, report) = if z {
            self.log.z_report(&who, now)?
        } else {
            self.log.x_report(&who, now)?
        };
        let doc = build_report(&report, &Seller::from_settings(&self.settings), Market::No)
            .map_err(|e| TillError::new(Code::ReportInconsistent, e.to_string()))?;
        let lines = lines(&doc, &self.settings)?;
        debug_assert!(report.period.kind == if z { ReportKind::Z } else { ReportKind::X });
        Ok(ReportView { report, lines })
    }

    /// What reading the shop-wide X needs from this till, copied so that the till is not held
    /// while the hub answers: who reads it (an operator must be at the till, as for an X), the
    /// till's time zone and its settings.
    pub fn shop_report_reader(&self) -> Result<(OperatorStamp, Zone, Settings), TillError> {
        Ok((
            self.acting()?.stamp(),
            self.log.time_zone().clone(),
            self.settings.clone(),
        ))
    }

    /// Exports the journal of local dates `from` to `to` as a SAF-T Cash Register file in
    /// `dir` (its conventional name), journaled.
    pub fn export_saft(
        &mut self,
        from: &str,
        to: &str,
        dir: &Path,
        now: i64,
    ) -> Result<SaftView, TillError> {
        let who = self.acting()?;
        let seller = Seller::from_settings(&self.settings);
        let done = crate::saft::export(
            &mut self.log,
            &ExportRequest {
                from,
                to,
                out: dir,
                seller: &seller,
                catalog: &self.catalog,
                by: &who,
                now,
            },
        )?;
        Ok(SaftView {
            path: done.path.display().to_string(),
            events: done.events,
            transactions: done.transactions,
        })
    }

    /// The start reminder: the latest day before today with receipts and no Z after them.
    pub fn day_without_z(&self, now: i64) -> Result<Option<String>, TillError> {
        Ok(self.log.day_without_z(now)?)
    }
}
