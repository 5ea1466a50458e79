//! X and Z reports (kassasystemforskrifta §§ 2-8-1 to 2-8-3): a register's totals for the
//! period since its last Z, computed only from the journal's entries of that register, so a
//! report is a plain sum of what the receipts said and never a recomputation from rounded
//! totals.
//!
//! - [`Report`]: what an X or a Z says; its JSON is also the body of its journal entry, in
//!   full (an X is journaled in full too, as Skatteetaten's Q&A asks), and what the SAF-T
//!   export writes as `eventReport`.
//! - [`Reading`] (`reading.rs`): a register's period since its last Z, entry by entry (the
//!   till's X and Z, and the hub's shop-wide X, read it alike).
//! - [`shop`]: the shop-wide X, every register's reading from the hub and their total.
//! - [`Tally`] (`tally.rs`): the running sums over the period's entries, checked arithmetic;
//!   [`Tally::finish`] refuses a report whose breakdowns do not add up to its totals.
//!
//! Definitions (each total is the sum of the entries named):
//! - sales: the `sale` entries (sales receipts), their signed gross and net; returns: the
//!   `return` entries, as positive amounts (a return entry's own amounts are negative);
//! - `vat`: per rate, sales and returns together (net of returns, as SAF-T's
//!   `reportCashSaleVat` writes it), highest rate first, so its gross sums to
//!   `sales_gross - returns_gross`;
//! - `payments` and `operators`: per provider and per operator, sales and returns apart;
//! - discounts: sold lines with a discount (count) and their discounts (amount); copies: the
//!   `copy` entries and the copied receipts' gross; voids: the `void` entries (sales that ended
//!   unpaid: cancelled, expired, failed) and what they would have been; staff-confirmed sales
//!   and staff-recorded returns by their receipts' payment;
//! - in flight: sessions still creating, open, unknown or needing review when the report was
//!   made (from the session log, passed in: a Z never hides money that may still move);
//! - grand totals: the previous Z's grand totals plus this period (the first Z starts at 0 when
//!   the journal began, which Skatteetaten's Q&A allows).
//!
//! Not here: SQL, the period's bounds and the one-Z-per-day rule (`store`), the printout
//! (`receipt::report`), the SAF-T element names (`saft`).

mod reading;
pub mod shop;
mod tally;

pub use reading::Reading;
pub use tally::Tally;

use crate::code::Code;
use crate::journal::body::RateTotals;
use crate::journal::OperatorStamp;
use serde::{Deserialize, Serialize};

/// X (resets nothing) or Z (closes the period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    X,
    Z,
}

impl ReportKind {
    /// `X` / `Z`.
    pub fn letter(self) -> &'static str {
        match self {
            ReportKind::X => "X",
            ReportKind::Z => "Z",
        }
    }
}

/// A number of things and their amount (minor units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountAmount {
    pub count: u64,
    pub amount: i64,
}

/// A means of payment's sales and returns in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTotals {
    /// Kassa's provider name (`dintero`, `demo`).
    pub provider: String,
    /// SAF-T PredefinedBasicID-12 and the mnemonic basicID, as the receipts recorded them.
    pub payment_type: String,
    pub basic_id: String,
    /// Sales receipts paid with it, and their gross.
    pub count: u64,
    pub gross: i64,
    /// Return receipts paid back through it, and their gross (positive).
    pub returns_count: u64,
    pub returns_gross: i64,
}

/// An operator's sales and returns in the period, by means of payment (§ 2-8-2 h).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorTotals {
    pub id: i64,
    /// The name the receipts recorded (the latest in the period).
    pub name: String,
    pub sales_count: u64,
    pub sales_gross: i64,
    pub returns_count: u64,
    pub returns_gross: i64,
    pub payments: Vec<PaymentTotals>,
}

/// A session whose money may still move when the report was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInFlight {
    pub session_id: String,
    /// `creating`, `open`, `unknown` or `needs_review`.
    pub status: String,
    pub provider: String,
    pub gross: i64,
}

/// The sessions still in flight at the report: `open` (creating or open at the provider) and
/// `unknown` (unknown or needing review), each counted and summed, and listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub open: CountAmount,
    pub unknown: CountAmount,
    pub sessions: Vec<SessionInFlight>,
}

impl InFlight {
    /// From the session log's unfinished sessions (status and gross).
    pub fn of(sessions: Vec<SessionInFlight>) -> Result<InFlight, ReportError> {
        let mut f = InFlight::default();
        for s in &sessions {
            let bucket = match s.status.as_str() {
                "creating" | "open" => &mut f.open,
                _ => &mut f.unknown,
            };
            bucket.count += 1;
            bucket.amount = tally::add(bucket.amount, s.gross)?;
        }
        f.sessions = sessions;
        Ok(f)
    }
}

/// Sales, returns and their difference since the register's journal began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrandTotal {
    pub sales: i64,
    /// Positive.
    pub returns: i64,
    pub net: i64,
}

/// Where a report's period starts and ends, and who made it: what the store knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub kind: ReportKind,
    /// Z: the Z number (1, 2, 3… per register); X: the register's X count with this one.
    pub number: i64,
    pub register_id: String,
    /// Local `YYYY-MM-DD HH:MM:SS`: the previous Z (else the register's first entry), and now.
    pub from: String,
    pub to: String,
    /// The journal entries covered: after the previous Z's up to the last before the report.
    pub from_seq: i64,
    pub to_seq: i64,
    /// The previous Z's number, if any.
    pub previous_z: Option<i64>,
    pub made_by: OperatorStamp,
}

/// An X or Z report. Amounts are minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Its kind, number, register, period and maker (flattened: `kind`, `number`, … at the top
    /// of the JSON).
    #[serde(flatten)]
    pub period: Period,
    pub currency: String,
    pub sales_count: u64,
    pub sales_gross: i64,
    pub sales_net: i64,
    pub returns_count: u64,
    /// Positive.
    pub returns_gross: i64,
    pub returns_net: i64,
    /// `sales_gross - returns_gross`.
    pub net_gross: i64,
    pub vat: Vec<RateTotals>,
    pub payments: Vec<PaymentTotals>,
    pub operators: Vec<OperatorTotals>,
    pub discounts: CountAmount,
    pub copies: CountAmount,
    pub voids: CountAmount,
    pub staff_confirmed: CountAmount,
    pub staff_recorded: CountAmount,
    /// Of the sales, those made with the demo provider (no money moved).
    pub demo_sales: CountAmount,
    pub in_flight: InFlight,
    pub grand_total: GrandTotal,
}

impl Report {
    /// `Z-3`, `X-12`: the SAF-T `reportID` (unique across X and Z).
    pub fn report_id(&self) -> String {
        format!("{}-{}", self.period.kind.letter(), self.period.number)
    }
}

/// Why a report cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// An entry Kassa cannot read, or breakdowns that do not add up to their totals: Kassa
    /// prints no report whose figures disagree.
    #[error("cannot make the report: {0}")]
    Inconsistent(String),
}

impl ReportError {
    pub fn code(&self) -> Code {
        Code::ReportInconsistent
    }
}

#[cfg(test)]
mod tests;
