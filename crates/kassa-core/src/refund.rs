//! What a refund gives back, line by line: pure arithmetic over the sale's priced order and
//! what earlier refunds already gave back. (The same split serves a partial capture.)
//!
//! # The rules (README, "Pricing rules")
//! All in minor units, integers, rounding half away from zero ([`div_round`]):
//!
//! 1. **By lines** (`index`, quantity `q`): a line of quantity `Q` with gross `G` and VAT `V`
//!    gives back, for the cumulative quantity `c` refunded so far, `f(c) = round(G × c / Q)`
//!    gross and `round(V × c / Q)` VAT. A refund of `q` after `c₀` is `f(c₀ + q) − f(c₀)`
//!    (gross and VAT alike; net = gross − VAT), so the parts of a line always sum to the line,
//!    whatever the order of the refunds. A line partly refunded by amount (rule 2) gives back
//!    at most what is left of it, and its last units give back exactly what is left.
//! 2. **By amount** `A`: spread over what is left of each line's gross with the order
//!    discount's largest-remainder rule ([`crate::quote::spread`]: floors first, the missing
//!    units to the largest remainders, ties to the earlier line). Each part's VAT is the VAT
//!    contained in that gross at the line's rate, `round(part × bp / (10000 + bp))` (the part
//!    is an amount paid, VAT included, whether the sale's prices were entered with or without
//!    VAT); a part that is all that is left of a line takes all of its VAT. Parts by amount
//!    return no goods: their quantity is `"0"`.
//! 3. **Whole**: everything left, as rule 1 with each line's remaining quantity.
//!
//! A refund's total is the sum of its lines; what a sale can still give back never goes below
//! zero. Whether the provider has that much captured is `checkout`'s question, not this
//! module's.

use crate::money::{div_round, Decimal};
use crate::order::Quantity;
use crate::provider::OperationLine;
use crate::quote::{spread, PricedOrder};

/// How much of a sale a refund covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// Everything not yet refunded.
    Whole,
    /// An amount in minor units, spread over the lines.
    Amount(i64),
    /// Lines by their 0-based index in the order, with the quantity given back.
    Lines(Vec<(usize, Quantity)>),
}

/// Why a refund (or a capture split) cannot be computed. Each names its cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("the amount must be more than zero (got {0})")]
    NotPositive(i64),
    #[error("{asked} is more than what is left of the sale ({left})")]
    AmountTooLarge { asked: i64, left: i64 },
    #[error("nothing is left to refund")]
    NothingLeft,
    #[error("line {index} does not exist: the sale has {lines} line(s), numbered from 0")]
    NoSuchLine { index: usize, lines: usize },
    #[error("line {0} is given twice")]
    DuplicateLine(usize),
    #[error("line {index}: {asked} is more than what is left of it ({left})")]
    QuantityTooLarge {
        index: usize,
        asked: String,
        left: String,
    },
    #[error("line {index} has nothing left to refund")]
    LineExhausted { index: usize },
    #[error("the session log's record of an earlier operation is unreadable: {0}")]
    BadRecord(String),
}

impl RefundError {
    /// Too much asked (the sale or the line has less left), as opposed to a malformed request.
    pub fn is_too_much(&self) -> bool {
        matches!(
            self,
            RefundError::AmountTooLarge { .. }
                | RefundError::NothingLeft
                | RefundError::QuantityTooLarge { .. }
                | RefundError::LineExhausted { .. }
        )
    }
}

/// What earlier operations took from one line: quantity (thousandths), gross and VAT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    pub milli: i64,
    pub gross: i64,
    pub vat: i64,
}

/// Sums what `earlier` operations' lines took from each line of `order`.
pub fn taken<'a>(
    order: &PricedOrder,
    earlier: impl IntoIterator<Item = &'a OperationLine>,
) -> Result<Vec<Taken>, RefundError> {
    let mut out = vec![Taken::default(); order.lines.len()];
    for l in earlier {
        let t = out.get_mut(l.index).ok_or_else(|| {
            RefundError::BadRecord(format!("line {} is not in the sale", l.index))
        })?;
        t.milli += quantity_milli(&l.quantity)?;
        t.gross += l.gross;
        t.vat += l.vat;
    }
    Ok(out)
}

/// Thousandths of a logged line quantity (`"0"` for a part by amount).
fn quantity_milli(text: &str) -> Result<i64, RefundError> {
    Decimal::parse(text)
        .and_then(|d| d.scaled_to(Quantity::SCALE))
        .filter(|m| *m >= 0)
        .and_then(|m| i64::try_from(m).ok())
        .ok_or_else(|| RefundError::BadRecord(format!("{text:?} is not a quantity")))
}

/// What is left of the sale's gross after `taken`.
pub fn left(order: &PricedOrder, taken: &[Taken]) -> i64 {
    order
        .lines
        .iter()
        .zip(taken)
        .map(|(l, t)| (l.gross - t.gross).max(0))
        .sum()
}

/// The lines a refund on `basis` gives back, given what earlier refunds took (see the module
/// doc for the rules). Never empty: a refund of nothing is an error.
pub fn refund_lines(
    order: &PricedOrder,
    taken: &[Taken],
    basis: &Basis,
) -> Result<Vec<OperationLine>, RefundError> {
    let lines = match basis {
        Basis::Amount(amount) => split_amount(order, taken, *amount)?,
        Basis::Lines(asked) => {
            let mut seen = Vec::with_capacity(asked.len());
            let mut out = Vec::with_capacity(asked.len());
            for (index, q) in asked {
                if seen.contains(index) {
                    return Err(RefundError::DuplicateLine(*index));
                }
                seen.push(*index);
                out.push(by_quantity(order, taken, *index, q.milli())?);
            }
            out
        }
        Basis::Whole => {
            let mut out = Vec::new();
            for (index, (line, t)) in order.lines.iter().zip(taken).enumerate() {
                let rest = line.quantity.milli() - t.milli;
                if rest > 0 && line.gross - t.gross > 0 {
                    out.push(by_quantity(order, taken, index, rest)?);
                }
            }
            out
        }
    };
    if lines.iter().map(|l| l.gross).sum::<i64>() <= 0 {
        return Err(RefundError::NothingLeft);
    }
    Ok(lines)
}

/// Rule 1: `milli` thousandths of line `index` after what was taken.
fn by_quantity(
    order: &PricedOrder,
    taken: &[Taken],
    index: usize,
    milli: i64,
) -> Result<OperationLine, RefundError> {
    let line = order.lines.get(index).ok_or(RefundError::NoSuchLine {
        index,
        lines: order.lines.len(),
    })?;
    let t = taken[index];
    let total = line.quantity.milli();
    let canonical = |m: i64| crate::money::canonical_decimal(i128::from(m), Quantity::SCALE);
    if milli <= 0 || t.milli + milli > total {
        return Err(RefundError::QuantityTooLarge {
            index,
            asked: canonical(milli),
            left: canonical(total - t.milli),
        });
    }
    let (gross_left, vat_left) = (line.gross - t.gross, line.vat - t.vat);
    if gross_left <= 0 {
        return Err(RefundError::LineExhausted { index });
    }
    let (gross, vat) = if t.milli + milli == total {
        // The last units: exactly what is left, so the parts sum to the line.
        (gross_left, vat_left)
    } else {
        let f = |amount: i64, c: i64| {
            div_round(i128::from(amount) * i128::from(c), i128::from(total)) as i64
        };
        let gross = f(line.gross, t.milli + milli) - f(line.gross, t.milli);
        let vat = f(line.vat, t.milli + milli) - f(line.vat, t.milli);
        let gross = gross.min(gross_left);
        (gross, vat.min(vat_left).min(gross))
    };
    Ok(part(order, index, canonical(milli), gross, vat))
}

/// Rule 2: `amount` spread over what is left of each line. Also the split of a partial
/// capture (`taken` then holds what earlier captures took).
pub fn split_amount(
    order: &PricedOrder,
    taken: &[Taken],
    amount: i64,
) -> Result<Vec<OperationLine>, RefundError> {
    if amount <= 0 {
        return Err(RefundError::NotPositive(amount));
    }
    let rest: Vec<i64> = order
        .lines
        .iter()
        .zip(taken)
        .map(|(l, t)| (l.gross - t.gross).max(0))
        .collect();
    let total: i64 = rest.iter().sum();
    if total == 0 {
        return Err(RefundError::NothingLeft);
    }
    if amount > total {
        return Err(RefundError::AmountTooLarge {
            asked: amount,
            left: total,
        });
    }
    let parts = spread(amount, &rest);
    let mut out = Vec::new();
    for (index, (p, r)) in parts.into_iter().zip(&rest).enumerate() {
        if p == 0 {
            continue;
        }
        let line = &order.lines[index];
        let vat_left = (line.vat - taken[index].vat).max(0);
        let vat = if p == *r {
            vat_left
        } else {
            let bp = i128::from(line.vat_rate.basis_points());
            (div_round(i128::from(p) * bp, 10_000 + bp) as i64).min(vat_left)
        };
        out.push(part(order, index, "0".into(), p, vat));
    }
    Ok(out)
}

fn part(
    order: &PricedOrder,
    index: usize,
    quantity: String,
    gross: i64,
    vat: i64,
) -> OperationLine {
    let line = &order.lines[index];
    OperationLine {
        index,
        name: line.name.clone(),
        sku: line.sku.clone(),
        quantity,
        unit: line.unit.clone(),
        vat_rate: line.vat_rate.to_percent_string(),
        gross,
        net: gross - vat,
        vat,
    }
}

/// One VAT rate's share of an operation: what a refund gives back at that rate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RateTotal {
    /// Canonical percent (`"25"`).
    pub vat_rate: String,
    pub net: i64,
    pub vat: i64,
    pub gross: i64,
}

/// An operation's lines summed per VAT rate, highest rate first (for a refund's preview and
/// its receipt).
pub fn per_rate(lines: &[OperationLine]) -> Vec<RateTotal> {
    let mut rows: Vec<(u32, RateTotal)> = Vec::new();
    for l in lines {
        let bp = crate::order::VatRate::parse_percent(&l.vat_rate)
            .map(|r| r.basis_points())
            .unwrap_or(0);
        match rows.iter_mut().find(|(_, r)| r.vat_rate == l.vat_rate) {
            Some((_, r)) => {
                r.net += l.net;
                r.vat += l.vat;
                r.gross += l.gross;
            }
            None => rows.push((
                bp,
                RateTotal {
                    vat_rate: l.vat_rate.clone(),
                    net: l.net,
                    vat: l.vat,
                    gross: l.gross,
                },
            )),
        }
    }
    rows.sort_by_key(|(bp, _)| std::cmp::Reverse(*bp));
    rows.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quote_document;

    fn order(doc: &str) -> PricedOrder {
        quote_document(doc, "R").unwrap()
    }

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap()
    }

    /// 3 × 19.99 at 25 % (gross 5997, VAT 1199) and 0.35 kg at 15 % (gross 4547, VAT 593).
    fn sale() -> PricedOrder {
        order(
            r#"{"currency":"NOK","lines":[
                {"name":"Kaffe","quantity":3,"unit_price":1999,"vat_rate":25},
                {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":15}]}"#,
        )
    }

    fn sums(lines: &[OperationLine]) -> (i64, i64, i64) {
        lines.iter().fold((0, 0, 0), |(g, v, n), l| {
            (g + l.gross, v + l.vat, n + l.net)
        })
    }

    #[test]
    fn parts_of_a_line_follow_the_cumulative_rounding() {
        let o = sale();
        assert_eq!((o.lines[0].gross, o.lines[0].vat), (5997, 1199));
        let none = vec![Taken::default(); 2];
        // One of three: f(1) = round(5997 / 3) = 1999, VAT round(1199 / 3) = round(399.67) = 400.
        let one = refund_lines(&o, &none, &Basis::Lines(vec![(0, q("1"))])).unwrap();
        assert_eq!((one[0].gross, one[0].vat, one[0].net), (1999, 400, 1599));
        assert_eq!(one[0].quantity, "1");
        // The second: f(2) − f(1) = 3998 − 1999; VAT round(799.33) − 400 = 399.
        let t = taken(&o, &one).unwrap();
        let two = refund_lines(&o, &t, &Basis::Lines(vec![(0, q("1"))])).unwrap();
        assert_eq!((two[0].gross, two[0].vat), (1999, 399));
        // The last: exactly what is left.
        let t = taken(&o, one.iter().chain(&two)).unwrap();
        let three = refund_lines(&o, &t, &Basis::Lines(vec![(0, q("1"))])).unwrap();
        assert_eq!((three[0].gross, three[0].vat), (1999, 400));
        let all: Vec<OperationLine> = [one, two, three].concat();
        assert_eq!(sums(&all), (5997, 1199, 4798));
        // Nothing more of that line.
        let t = taken(&o, &all).unwrap();
        let e = refund_lines(&o, &t, &Basis::Lines(vec![(0, q("1"))])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 0: 1 is more than what is left of it (0)"
        );
        assert!(e.is_too_much());
    }

    #[test]
    fn a_refund_by_amount_is_spread_like_the_order_discount() {
        let o = sale();
        let none = vec![Taken::default(); 2];
        // 1000 over 5997 and 4547 (Σ 10544): floors 568 and 431, one unit missing; remainders
        // 5 997 000 mod 10544 = 8008 vs 4 547 000 mod 10544 = 2536 → to line 0: 569 + 431.
        let r = refund_lines(&o, &none, &Basis::Amount(1000)).unwrap();
        assert_eq!(
            r.iter().map(|l| l.gross).collect::<Vec<_>>(),
            vec![569, 431]
        );
        assert_eq!(
            r.iter().map(|l| l.gross).collect::<Vec<_>>(),
            spread(1000, &[5997, 4547])
        );
        // VAT contained: 569 × 2500 / 12500 = 113.8 → 114; 431 × 1500 / 11500 = 56.2 → 56.
        assert_eq!(r.iter().map(|l| l.vat).collect::<Vec<_>>(), vec![114, 56]);
        assert!(r
            .iter()
            .all(|l| l.quantity == "0" && l.net == l.gross - l.vat));
        assert_eq!(per_rate(&r)[0].vat_rate, "25");
    }

    #[test]
    fn whole_is_everything_left() {
        let o = sale();
        let none = vec![Taken::default(); 2];
        let first = refund_lines(&o, &none, &Basis::Amount(1000)).unwrap();
        let t = taken(&o, &first).unwrap();
        let rest = refund_lines(&o, &t, &Basis::Whole).unwrap();
        let all: Vec<OperationLine> = [first, rest.clone()].concat();
        assert_eq!(sums(&all), (o.total.gross, o.total.vat, o.total.net));
        assert_eq!(rest[1].quantity, "0.35");
        let t = taken(&o, &all).unwrap();
        assert_eq!(left(&o, &t), 0);
        assert_eq!(
            refund_lines(&o, &t, &Basis::Whole).unwrap_err(),
            RefundError::NothingLeft
        );
        assert_eq!(
            refund_lines(&o, &t, &Basis::Amount(1)).unwrap_err(),
            RefundError::NothingLeft
        );
    }

    #[test]
    fn a_line_partly_refunded_by_amount_gives_back_what_is_left() {
        let o = sale();
        let none = vec![Taken::default(); 2];
        let by_amount = refund_lines(&o, &none, &Basis::Amount(6000)).unwrap();
        let t = taken(&o, &by_amount).unwrap();
        // Line 0 has 5997 − 3413 = 2584 left; two of three units would be 3998: capped.
        let two = refund_lines(&o, &t, &Basis::Lines(vec![(0, q("2"))])).unwrap();
        assert_eq!(two[0].gross, 5997 - by_amount[0].gross);
        let t = taken(&o, by_amount.iter().chain(&two)).unwrap();
        // Nothing left of the line's money, one unit of goods: refused, not a zero refund.
        assert_eq!(
            refund_lines(&o, &t, &Basis::Lines(vec![(0, q("1"))])).unwrap_err(),
            RefundError::LineExhausted { index: 0 }
        );
    }

    #[test]
    fn refusals_name_their_cause() {
        let o = sale();
        let none = vec![Taken::default(); 2];
        let err = |b: Basis| refund_lines(&o, &none, &b).unwrap_err().to_string();
        assert_eq!(
            err(Basis::Amount(10545)),
            "10545 is more than what is left of the sale (10544)"
        );
        assert_eq!(
            err(Basis::Amount(0)),
            "the amount must be more than zero (got 0)"
        );
        assert_eq!(
            err(Basis::Lines(vec![(2, q("1"))])),
            "line 2 does not exist: the sale has 2 line(s), numbered from 0"
        );
        assert_eq!(
            err(Basis::Lines(vec![(1, q("0.4"))])),
            "line 1: 0.4 is more than what is left of it (0.35)"
        );
        assert_eq!(
            err(Basis::Lines(vec![(0, q("1")), (0, q("1"))])),
            "line 0 is given twice"
        );
        let bad = OperationLine {
            quantity: "-1".into(),
            ..refund_lines(&o, &none, &Basis::Whole).unwrap()[0].clone()
        };
        assert!(matches!(taken(&o, [&bad]), Err(RefundError::BadRecord(_))));
    }
}
