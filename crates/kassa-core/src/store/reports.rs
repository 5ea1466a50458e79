//! X and Z reports as the session log makes them ([`crate::report`] says what they contain):
//! each in one write transaction that reads the period's entries, the sessions still in
//! flight and the previous Z, and appends the report's full content as its journal entry. For
//! a Z that entry is what closes the period (the next one starts after it), so the totals and
//! the close can never disagree, and two tills on one database cannot both close the same
//! period. One Z per register per local day: checked here for a clear refusal, and held by the
//! unique index `journal_one_z_per_day` whoever writes the file.
//!
//! Also the start reminder: the most recent local day with receipts and no Z after them.

use super::journal::{append, entry_in, row_to_entry, to_json, NewEntry, ENTRY_COLUMNS};
use super::{SessionLog, StoreError};
use crate::journal::{Entry, Kind};
use crate::operator::Authenticated;
use crate::report::{InFlight, Reading, Report, ReportKind, SessionInFlight};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// The register's last Z entry, if any.
fn last_z(tx: &Connection, path: &Path, register: &str) -> Result<Option<Entry>, StoreError> {
    tx.query_row(
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM journal WHERE register_id = ?1 AND kind = 'z_report'
             ORDER BY seq DESC LIMIT 1"
        ),
        [register],
        row_to_entry,
    )
    .optional()
    .map_err(|e| StoreError::from_sqlite(path, e))
}

fn report_of(path: &Path, e: &Entry) -> Result<Report, StoreError> {
    serde_json::from_str(&e.body).map_err(|x| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("journal entry {} ({}) is not a report ({x})", e.seq, e.kind),
    })
}

fn in_flight(tx: &Connection, path: &Path) -> Result<InFlight, StoreError> {
    let err = |e| StoreError::from_sqlite(path, e);
    let mut st = tx
        .prepare_cached(
            "SELECT id, status, provider, gross_minor FROM sessions
             WHERE status IN ('creating', 'open', 'unknown', 'needs_review') ORDER BY id",
        )
        .map_err(err)?;
    let sessions = st
        .query_map([], |r| {
            Ok(SessionInFlight {
                session_id: r.get(0)?,
                status: r.get(1)?,
                provider: r.get(2)?,
                gross: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(err)?;
    InFlight::of(sessions).map_err(StoreError::Report)
}

impl SessionLog {
    /// Makes an X report of this log's register by `by` now, journals it in full (13008) and
    /// returns its entry and content. Resets nothing.
    pub fn x_report(
        &mut self,
        by: &Authenticated,
        now: i64,
    ) -> Result<(Entry, Report), StoreError> {
        let made = self.report(ReportKind::X, by, now)?;
        crate::pause::pause_point("report_committed");
        Ok(made)
    }

    /// Makes the Z report of this log's register by `by` now: the period since the last Z,
    /// journaled in full (13009) in the transaction that closes it. Refused
    /// ([`StoreError::ZExists`]) when the register has a Z of today's local date.
    pub fn z_report(
        &mut self,
        by: &Authenticated,
        now: i64,
    ) -> Result<(Entry, Report), StoreError> {
        let made = self.report(ReportKind::Z, by, now)?;
        crate::pause::pause_point("report_committed");
        Ok(made)
    }

    fn report(
        &mut self,
        kind: ReportKind,
        by: &Authenticated,
        now: i64,
    ) -> Result<(Entry, Report), StoreError> {
        let path = self.path.clone();
        let ctx = self.ctx();
        self.write(true, |tx| {
            let register = ctx.register_id.as_str();
            let err = |e| StoreError::from_sqlite(&path, e);
            let today = ctx.zone.stamp(now);
            if kind == ReportKind::Z {
                let made: Option<(i64, String)> = tx
                    .query_row(
                        "SELECT seq, local_time FROM journal
                         WHERE register_id = ?1 AND kind = 'z_report' AND local_date = ?2",
                        params![register, today.date],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(err)?;
                if let Some((seq, time)) = made {
                    let previous = entry_in(tx, &path, register, seq)?;
                    return Err(StoreError::ZExists {
                        register_id: register.to_string(),
                        date: today.date.clone(),
                        time,
                        number: previous
                            .map(|e| report_of(&path, &e))
                            .transpose()?
                            .map_or(0, |r| r.period.number),
                    });
                }
            }
            let previous = last_z(tx, &path, register)?;
            let previous_report = previous.as_ref().map(|e| report_of(&path, e)).transpose()?;
            let number = match kind {
                ReportKind::Z => previous_report.as_ref().map_or(0, |r| r.period.number) + 1,
                ReportKind::X => {
                    tx.query_row(
                        "SELECT count(*) FROM journal WHERE register_id = ?1 AND kind = 'x_report'",
                        [register],
                        |r| r.get::<_, i64>(0),
                    )
                    .map_err(err)?
                        + 1
                }
            };
            let mut reading = Reading::start(
                kind,
                register,
                previous.as_ref().zip(previous_report.as_ref()),
            );
            let mut st = tx
                .prepare(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM journal WHERE register_id = ?1 AND seq >= ?2
                     ORDER BY seq"
                ))
                .map_err(err)?;
            let mut rows = st
                .query(params![register, reading.from_seq()])
                .map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                let e = row_to_entry(row).map_err(err)?;
                reading.add(&e).map_err(StoreError::Report)?;
            }
            drop(rows);
            drop(st);
            let report = reading
                .finish(
                    number,
                    format!("{} {}", today.date, today.time),
                    by.stamp(),
                    in_flight(tx, &path)?,
                )
                .map_err(StoreError::Report)?;
            let entry_kind = match kind {
                ReportKind::X => Kind::XReport,
                ReportKind::Z => Kind::ZReport,
            };
            let entry = append(
                tx,
                &path,
                &ctx,
                NewEntry::new(register, entry_kind, now, Some(by.id()), to_json(&report)),
            )?;
            crate::pause::pause_point("report_appended");
            Ok((entry, report))
        })
    }

    /// The report an X or Z entry holds.
    pub fn report_in(&self, entry: &Entry) -> Result<Report, StoreError> {
        report_of(&self.path, entry)
    }

    /// The start reminder: the latest local date before `now`'s with sales or return receipts
    /// of this register after its last Z (a day that was not closed), if any. A day with only
    /// logins or settings changes needs no Z.
    pub fn day_without_z(&self, now: i64) -> Result<Option<String>, StoreError> {
        let register = self.register_id();
        let today = self.ctx().zone.stamp(now).date;
        let after = last_z(&self.conn, &self.path, register)?.map_or(0, |e| e.seq);
        self.conn
            .query_row(
                "SELECT max(local_date) FROM journal WHERE register_id = ?1 AND seq > ?2
                   AND kind IN ('sale', 'return') AND local_date < ?3",
                params![register, after, today],
                |r| r.get::<_, Option<String>>(0),
            )
            .map_err(|e| self.err(e))
    }
}
