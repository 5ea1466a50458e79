//! The till after the sale: capture, refund and void of a paid session at its provider, a
//! refund staff made outside Kassa (providers without a refund API), and the preview of what a
//! refund gives back (amount and VAT per rate), for the refund form to show before staff
//! confirm. Each is one call into `checkout`; each returns the session's detail view after.
//! Refunds and voids are a manager's (the operator at the till, or a manager's PIN given on the
//! spot, [`Till::approve`]).

use super::view::{rate_rows, Depth, SessionView};
use super::{ProviderSource, Till, TillError};
use crate::checkout;
use crate::counter::VatRowView;
use crate::money::Currency;
use crate::order::Quantity;
use crate::provider::OperationLine;
use crate::refund::Basis;
use crate::session::SessionId;
use crate::time::now_millis;
use serde::{Deserialize, Serialize};

/// A line and how much of it a refund gives back (`quantity` as typed: `"2"`, `"0.35"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    /// The line's index in the order (0-based).
    pub index: usize,
    pub quantity: String,
}

/// What a refund covers, as the refund form sends it: `{"by": "whole"}`,
/// `{"by": "amount", "amount": 5000}` (minor units) or
/// `{"by": "lines", "lines": [{"index": 0, "quantity": "1"}]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum RefundInput {
    /// A struct variant, not a unit one: serde lets a unit variant of an internally tagged
    /// enum through with any other fields (`{"by": "whole", "amount": 100}` would refund the
    /// whole sale); an empty struct variant refuses them.
    Whole {},
    Amount {
        amount: i64,
    },
    Lines {
        lines: Vec<LineQuantity>,
    },
}

impl RefundInput {
    /// The refund's basis; a quantity that is not one is a field problem (`lines[i].quantity`).
    /// The cashier may type a decimal comma, as at the counter.
    pub fn basis(&self) -> Result<Basis, TillError> {
        Ok(match self {
            RefundInput::Whole {} => Basis::Whole,
            RefundInput::Amount { amount } => Basis::Amount(*amount),
            RefundInput::Lines { lines } => Basis::Lines(
                lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        Quantity::parse(&l.quantity.trim().replace(',', "."))
                            .map(|q| (l.index, q))
                            .map_err(|r| TillError::field(&format!("lines[{i}].quantity"), r))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

/// What a refund would give back: its amount, the VAT per rate, and the lines.
#[derive(Debug, Clone, Serialize)]
pub struct RefundPreview {
    pub amount: String,
    pub amount_minor: i64,
    pub vat_rows: Vec<VatRowView>,
    pub lines: Vec<OperationLine>,
}

impl<P: ProviderSource> Till<P> {
    /// The detail view of a session after an operation, with its provider's capabilities.
    fn after(
        &mut self,
        id: &str,
        caps: crate::provider::Capabilities,
    ) -> Result<SessionView, TillError> {
        self.session_view(id, Depth::Detail, Some(caps))
    }

    /// Captures `amount` (minor units; `None`: everything still authorized) of paid session
    /// `id` at its provider.
    pub fn capture(&mut self, id: &str, amount: Option<i64>) -> Result<SessionView, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        let by = self.acting()?;
        let provider = self.provider_of(id)?;
        let now = now_millis();
        let op = SessionId::generate(now).to_string();
        checkout::capture(&mut self.log, provider.as_ref(), id, amount, &by, &op, now)?;
        self.after(id, provider.capabilities())
    }

    /// Refunds part or all of paid session `id` at its provider.
    pub fn refund(
        &mut self,
        id: &str,
        what: &RefundInput,
        reason: Option<&str>,
    ) -> Result<SessionView, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        let basis = what.basis()?;
        let by = self.manager("refund")?;
        let provider = self.provider_of(id)?;
        let now = now_millis();
        let op = SessionId::generate(now).to_string();
        checkout::refund(
            &mut self.log,
            provider.as_ref(),
            id,
            &basis,
            reason,
            &by,
            &op,
            now,
        )?;
        self.after(id, provider.capabilities())
    }

    /// Voids the uncaptured authorization of paid session `id`.
    pub fn void(&mut self, id: &str) -> Result<SessionView, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        let by = self.manager("void")?;
        let provider = self.provider_of(id)?;
        let now = now_millis();
        let op = SessionId::generate(now).to_string();
        checkout::void(&mut self.log, provider.as_ref(), id, &by, &op, now)?;
        self.after(id, provider.capabilities())
    }

    /// Records a refund staff made outside Kassa (a provider without a refund API), with what
    /// they did (`note`). Never the provider's evidence.
    pub fn record_refund(
        &mut self,
        id: &str,
        what: &RefundInput,
        note: &str,
    ) -> Result<SessionView, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        let basis = what.basis()?;
        let by = self.manager("recorded refund")?;
        let provider = self.provider_of(id)?;
        let now = now_millis();
        let op = SessionId::generate(now).to_string();
        checkout::record_refund(
            &mut self.log,
            provider.as_ref(),
            id,
            &basis,
            note,
            &by,
            &op,
            now,
        )?;
        self.after(id, provider.capabilities())
    }

    /// What a refund of `what` would give back by Kassa's records: amount, VAT per rate and
    /// lines. Asks no provider and records nothing.
    pub fn refund_preview(&self, id: &str, what: &RefundInput) -> Result<RefundPreview, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        let basis = what.basis()?;
        let lines = checkout::preview_refund(&self.log, id, &basis)?;
        let (s, _) = self.log.get(id)?;
        let currency = Currency::from_code(&s.currency);
        let locale = self.locale();
        let fmt = |minor: i64| match currency {
            Some(c) => c.format_display(minor, &locale),
            None => minor.to_string(),
        };
        let amount: i64 = lines.iter().map(|l| l.gross).sum();
        Ok(RefundPreview {
            amount: fmt(amount),
            amount_minor: amount,
            vat_rows: rate_rows(&lines, &fmt),
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(json: &str) -> Result<Basis, TillError> {
        serde_json::from_str::<RefundInput>(json).unwrap().basis()
    }

    #[test]
    fn a_refund_by_lines_takes_the_quantity_as_the_cashier_types_it() {
        let basis = lines(r#"{"by":"lines","lines":[{"index":1,"quantity":" 0,35 "},{"index":0,"quantity":"2"}]}"#)
            .unwrap();
        let want = vec![
            (1, Quantity::parse("0.35").unwrap()),
            (0, Quantity::parse("2").unwrap()),
        ];
        assert_eq!(basis, Basis::Lines(want));
    }

    #[test]
    fn a_quantity_that_is_not_one_is_a_problem_of_its_field() {
        let e = lines(
            r#"{"by":"lines","lines":[{"index":0,"quantity":"1"},{"index":2,"quantity":"abc"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, crate::code::Code::InvalidInput);
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].path, "lines[1].quantity");
    }

    #[test]
    fn the_form_sends_whole_amount_or_lines_and_nothing_else() {
        assert_eq!(lines(r#"{"by":"whole"}"#).unwrap(), Basis::Whole);
        assert_eq!(
            lines(r#"{"by":"amount","amount":5000}"#).unwrap(),
            Basis::Amount(5000)
        );
        for bad in [
            r#"{"by":"all"}"#,
            r#"{"by":"whole","amount":1}"#,
            r#"{"by":"amount"}"#,
        ] {
            assert!(
                serde_json::from_str::<RefundInput>(bad).is_err(),
                "{bad} refused"
            );
        }
    }
}
