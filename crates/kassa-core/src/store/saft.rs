//! What the SAF-T export reads from the session log beyond `journal_each`: a period's receipts
//! streamed in receipt-number order with whether each was copied, the signature the period's
//! chain starts from, and the till's local time.

use super::journal::{row_to_entry, ENTRY_COLUMNS};
use super::{SessionLog, StoreError};
use crate::journal::{Entry, LocalStamp};
use rusqlite::{params, OptionalExtension};

impl SessionLog {
    /// The till's local date and time of `at_ms`, in the journal's time zone.
    pub fn local_stamp(&self, at_ms: i64) -> LocalStamp {
        self.ctx().zone.stamp(at_ms)
    }

    /// The signature of `register`'s last sales or return receipt dated before `from_date`
    /// (`YYYY-MM-DD`), or Skatteetaten's first link `0`: what the period's first signature
    /// was chained to.
    pub fn signature_before(&self, register: &str, from_date: &str) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT signature FROM journal WHERE register_id = ?1 AND nr IS NOT NULL
                   AND local_date < ?2 ORDER BY nr DESC LIMIT 1",
                params![register, from_date],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .unwrap_or_else(|| crate::journal::signature::FIRST_LINK.to_string()))
    }

    /// Calls `f` with each sales and return receipt of `register` dated `from_date` to
    /// `to_date` (inclusive), by receipt number, and whether a copy of it was printed; one row
    /// at a time (a year of a busy till is never held in memory).
    pub fn receipts_each(
        &self,
        register: &str,
        from_date: &str,
        to_date: &str,
        mut f: impl FnMut(Entry, bool) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let columns: Vec<String> = ENTRY_COLUMNS
            .split(',')
            .map(|c| format!("j.{}", c.trim()))
            .collect();
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {}, EXISTS (SELECT 1 FROM journal c WHERE c.register_id = j.register_id
                     AND c.kind = 'copy' AND c.ref_seq = j.seq)
                 FROM journal j WHERE j.register_id = ?1 AND j.nr IS NOT NULL
                   AND j.local_date >= ?2 AND j.local_date <= ?3 ORDER BY j.nr",
                columns.join(", ")
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = st
            .query(params![register, from_date, to_date])
            .map_err(|e| self.err(e))?;
        let mut n = 0;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let copied: bool = row.get(19).map_err(|e| self.err(e))?;
            f(row_to_entry(row).map_err(|e| self.err(e))?, copied)?;
            n += 1;
        }
        Ok(n)
    }
}
