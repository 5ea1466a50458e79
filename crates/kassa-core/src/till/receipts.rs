//! The receipts the counter and history show and print (`crate::printing`): the receipt of a
//! sale or a return as the journal holds it, printed on `printer.url` or saved as a PDF. The
//! first print or PDF is the original; the next is the copy (the UI asks staff to confirm it),
//! journaled with the operator at the till; a second copy is refused.

use super::{ProviderSource, Till, TillError};
use crate::printing::{self, Issued, Output, Paper, PrintingError, Which};
use crate::time::now_millis;
use std::path::Path;

fn which(operation: Option<&str>) -> Which<'_> {
    match operation {
        Some(op) => Which::Return(op),
        None => Which::Sale,
    }
}

impl<P: ProviderSource> Till<P> {
    /// The receipt of sale `id` (or of its refund or void `operation`), to look at.
    pub fn receipt(&self, id: &str, operation: Option<&str>) -> Result<Issued, TillError> {
        let paper = Paper::from_settings(&self.settings);
        Ok(printing::view(&self.log, &paper, id, which(operation))?)
    }

    /// Prints the receipt on `printer.url`: the original the first time, else the copy when
    /// `copy` (staff confirmed it), else refused with `receipt_issued`.
    pub fn print_receipt(
        &mut self,
        id: &str,
        operation: Option<&str>,
        copy: bool,
    ) -> Result<Issued, TillError> {
        let url = self.settings.printer().ok_or(PrintingError::NoPrinter)?;
        self.issue(id, operation, copy, &Output::Printer(url))
    }

    /// Saves the receipt as a PDF at `path`, by the same rule as [`Till::print_receipt`].
    pub fn save_receipt_pdf(
        &mut self,
        id: &str,
        operation: Option<&str>,
        copy: bool,
        path: &Path,
    ) -> Result<Issued, TillError> {
        self.issue(id, operation, copy, &Output::Pdf(path.to_path_buf()))
    }

    fn issue(
        &mut self,
        id: &str,
        operation: Option<&str>,
        copy: bool,
        output: &Output,
    ) -> Result<Issued, TillError> {
        let paper = Paper::from_settings(&self.settings);
        let now = now_millis();
        if copy {
            let by = self.acting()?;
            Ok(printing::copy(
                &mut self.log,
                &paper,
                id,
                which(operation),
                Some(output),
                &by,
                now,
            )?)
        } else {
            Ok(printing::issue_original(
                &mut self.log,
                &paper,
                id,
                which(operation),
                output,
                now,
            )?)
        }
    }
}
