//! The shop-wide X: every register's X over the entries the hub holds of it, and their total.
//!
//! Each register's reading is made by the same [`super::Reading`] and [`super::Tally`] as the
//! till's own X, over the same entries, so its figures are the till's for the entries the hub
//! has. The total is those readings absorbed into one more tally ([`Tally::absorb`]), checked
//! by [`Tally::finish`] like any report: every figure of the total is the sum of the
//! registers'. A register's rows still in its till's outbox are not known to the hub; each
//! reading says what it covers ([`Coverage`]), and which registers may be behind.
//!
//! A shop-wide X is a reading for the shop's management, not a register's X report under
//! kassasystemforskrifta: it is numbered 0 and journaled nowhere (each till's own X and Z stay
//! its own, made from its own journal).

use super::{InFlight, Period, Report, ReportError, ReportKind, Tally};
use crate::journal::OperatorStamp;
use serde::{Deserialize, Serialize};

/// A register whose last push is older than this may have sold since (its sender pushes every
/// second while the hub answers).
pub const QUIET_AFTER_MS: i64 = 60_000;

/// What the hub knew of a register when the shop's X was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The register's highest entry the hub holds (its head; every entry before it is there
    /// too): the reading covers the register's entries up to this one.
    pub head_seq: i64,
    /// That entry's local date and time on the till (`YYYY-MM-DD HH:MM:SS`).
    pub head_at: Option<String>,
    /// The till's last push that reached the hub (the hub's clock, Unix ms; local text), if the
    /// hub has heard from it since it recorded pushes.
    pub last_push_ms: Option<i64>,
    pub last_push: Option<String>,
    /// Rows (sessions, operations, journal entries) still waiting in the till's outbox after
    /// that push.
    pub waiting: Option<i64>,
    /// Rows of this register may be missing from the reading: some waited at its last push, or
    /// it has not pushed for [`QUIET_AFTER_MS`], or never since pushes are recorded.
    pub behind: bool,
}

impl Coverage {
    /// From what the hub holds, at `now` (Unix ms, the hub's clock).
    pub fn new(
        head_seq: i64,
        head_at: Option<String>,
        last_push: Option<(i64, String, i64)>,
        now: i64,
    ) -> Coverage {
        let behind = match &last_push {
            Some((at, _, waiting)) => *waiting > 0 || now - at > QUIET_AFTER_MS,
            None => true,
        };
        Coverage {
            head_seq,
            head_at,
            last_push_ms: last_push.as_ref().map(|p| p.0),
            last_push: last_push.as_ref().map(|p| p.1.clone()),
            waiting: last_push.map(|p| p.2),
            behind,
        }
    }
}

/// One register's part of the shop-wide X.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterReading {
    pub report: Report,
    pub coverage: Coverage,
}

/// The shop-wide X: per register and the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopReport {
    /// When it was read (local `YYYY-MM-DD HH:MM:SS`).
    pub made: String,
    pub made_by: OperatorStamp,
    pub registers: Vec<RegisterReading>,
    /// Every figure the sum of the registers'. Its period: kind X, number 0, `register_id` the
    /// registers' ids joined by ", ", from the earliest register's start to now; `from_seq`
    /// and `to_seq` are 0 (each register numbers its own entries).
    pub total: Report,
}

impl ShopReport {
    /// The total of `registers` (see [`Tally::absorb`]).
    pub fn new(
        made: String,
        made_by: OperatorStamp,
        registers: Vec<RegisterReading>,
    ) -> Result<ShopReport, ReportError> {
        let mut tally = Tally::new(Default::default());
        let mut in_flight = Vec::new();
        for r in &registers {
            tally.absorb(&r.report)?;
            in_flight.extend(r.report.in_flight.sessions.iter().cloned());
        }
        let period = Period {
            kind: ReportKind::X,
            number: 0,
            register_id: registers
                .iter()
                .map(|r| r.report.period.register_id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            from: registers
                .iter()
                .map(|r| r.report.period.from.clone())
                .min()
                .unwrap_or_else(|| made.clone()),
            to: made.clone(),
            from_seq: 0,
            to_seq: 0,
            previous_z: None,
            made_by: made_by.clone(),
        };
        let total = tally.finish(period, InFlight::of(in_flight)?)?;
        Ok(ShopReport {
            made,
            made_by,
            registers,
            total,
        })
    }

    /// The registers whose figures may be missing rows.
    pub fn behind(&self) -> impl Iterator<Item = &RegisterReading> {
        self.registers.iter().filter(|r| r.coverage.behind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_register_is_behind_when_rows_waited_it_went_quiet_or_never_pushed() {
        let now = 1_000_000;
        let pushed = |ago: i64, waiting: i64| Some((now - ago, "then".to_string(), waiting));
        assert!(!Coverage::new(7, None, pushed(1_000, 0), now).behind);
        assert!(Coverage::new(7, None, pushed(1_000, 3), now).behind);
        assert!(!Coverage::new(7, None, pushed(QUIET_AFTER_MS, 0), now).behind);
        assert!(Coverage::new(7, None, pushed(QUIET_AFTER_MS + 1, 0), now).behind);
        let never = Coverage::new(7, None, None, now);
        assert!(never.behind && never.waiting.is_none() && never.last_push.is_none());
    }
}
