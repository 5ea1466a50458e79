//! A register's period since its last Z, read entry by entry: what the till's own X and Z
//! (`store::reports`) and the hub's shop-wide X (`kassa-hub`, over the entries the tills
//! pushed) share, so both sum the same entries with the same [`Tally`] and bound the period
//! the same way.

use super::{GrandTotal, InFlight, Period, Report, ReportError, ReportKind, Tally};
use crate::journal::{Entry, OperatorStamp};

/// The period being read: where it starts (after the previous Z) and what it has summed.
#[derive(Debug)]
pub struct Reading {
    kind: ReportKind,
    register_id: String,
    /// The previous Z's local date and time, and its number.
    previous_z: Option<(String, i64)>,
    from_seq: i64,
    to_seq: i64,
    first: Option<String>,
    tally: Tally,
}

impl Reading {
    /// A reading of `register_id` after `previous_z`, its last Z entry and that entry's report
    /// (none: from the register's first entry, the grand totals from zero).
    pub fn start(
        kind: ReportKind,
        register_id: &str,
        previous_z: Option<(&Entry, &Report)>,
    ) -> Reading {
        let from_seq = previous_z.map_or(1, |(e, _)| e.seq + 1);
        Reading {
            kind,
            register_id: register_id.to_string(),
            previous_z: previous_z.map(|(e, r)| {
                (
                    format!("{} {}", e.local_date, e.local_time),
                    r.period.number,
                )
            }),
            from_seq,
            to_seq: from_seq - 1,
            first: None,
            tally: Tally::new(previous_z.map_or(GrandTotal::default(), |(_, r)| r.grand_total)),
        }
    }

    /// The first entry of the period: feed [`Reading::add`] the register's entries from here
    /// on, in order.
    pub fn from_seq(&self) -> i64 {
        self.from_seq
    }

    /// Adds the period's next entry.
    pub fn add(&mut self, e: &Entry) -> Result<(), ReportError> {
        if self.first.is_none() {
            self.first = Some(format!("{} {}", e.local_date, e.local_time));
        }
        self.to_seq = e.seq;
        self.tally.add(e)
    }

    /// The report: numbered `number`, made at local `to` (`YYYY-MM-DD HH:MM:SS`) by
    /// `made_by`, with the sessions in flight.
    pub fn finish(
        self,
        number: i64,
        to: String,
        made_by: OperatorStamp,
        in_flight: InFlight,
    ) -> Result<Report, ReportError> {
        let from = self
            .previous_z
            .as_ref()
            .map(|(at, _)| at.clone())
            .or(self.first)
            .unwrap_or_else(|| to.clone());
        let period = Period {
            kind: self.kind,
            number,
            register_id: self.register_id,
            from,
            to,
            from_seq: self.from_seq,
            to_seq: self.to_seq,
            previous_z: self.previous_z.map(|(_, n)| n),
            made_by,
        };
        self.tally.finish(period, in_flight)
    }
}
