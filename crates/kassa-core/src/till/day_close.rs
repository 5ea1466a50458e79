//! Closing the day at the counter: the X and Z reports (made and journaled by the session log,
//! shown as the receipt model's lines, so the screen shows what the printer prints), the SAF-T
//! export, and the start reminder of a day with sales and no Z.

use super::{ProviderSource, Till, TillError};
use crate::code::Code;
use crate::receipt::{build_report, Columns, Market, Seller};
use crate::report::{Report, ReportKind};
use crate::saft::{ExportRequest, SaftError};
use serde::Serialize;
use std::path::Path;

/// A report as the screen shows it: its figures and its printout's lines.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub report: Report,
    /// The printout, one text line each (the receipt model's layout at `printer.columns`).
    pub lines: Vec<String>,
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
        let columns = Columns::new(self.settings.printer_columns())
            .map_err(|m| TillError::new(Code::Settings, m))?;
        let lines = doc.lines(columns).into_iter().map(|l| l.text).collect();
        debug_assert!(report.period.kind == if z { ReportKind::Z } else { ReportKind::X });
        Ok(ReportView { report, lines })
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
