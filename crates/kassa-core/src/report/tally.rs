//! The running sums of a report over its period's journal entries, one entry at a time (a
//! period is never held in memory), with checked arithmetic.

use super::{
    CountAmount, GrandTotal, InFlight, OperatorTotals, PaymentTotals, Period, Report, ReportError,
};
use crate::journal::body::{rate_totals, Payment, RateTotals};
use crate::journal::{Entry, Kind, OperatorStamp};
use std::collections::BTreeMap;

/// `a + b`, or the report is refused (no total wraps around).
pub(super) fn add(a: i64, b: i64) -> Result<i64, ReportError> {
    a.checked_add(b)
        .ok_or_else(|| ReportError::Inconsistent("a total overflows".into()))
}

fn sub(a: i64, b: i64) -> Result<i64, ReportError> {
    a.checked_sub(b)
        .ok_or_else(|| ReportError::Inconsistent("a total overflows".into()))
}

fn neg(a: i64) -> Result<i64, ReportError> {
    a.checked_neg()
        .ok_or_else(|| ReportError::Inconsistent("a total overflows".into()))
}

fn bump(c: &mut CountAmount, amount: i64) -> Result<(), ReportError> {
    c.count += 1;
    c.amount = add(c.amount, amount)?;
    Ok(())
}

/// An operator's sums so far (the payments keyed by basicID until the end).
#[derive(Debug)]
struct OperatorSums {
    totals: OperatorTotals,
    payments: BTreeMap<String, PaymentTotals>,
}

/// The sums so far. Feed it the period's entries in order ([`Tally::add`]), then
/// [`Tally::finish`].
#[derive(Debug, Default)]
pub struct Tally {
    currency: Option<String>,
    sales: CountAmount,
    sales_net: i64,
    returns: CountAmount,
    returns_net: i64,
    /// Per rate: net, VAT, gross (sales positive, returns negative).
    vat: BTreeMap<String, (i64, i64, i64)>,
    payments: BTreeMap<String, PaymentTotals>,
    /// By register (empty for a till's own report) and operator id: operator ids are each
    /// till's own, so a shop's total keeps one row per till's operator.
    operators: BTreeMap<(String, i64), OperatorSums>,
    discounts: CountAmount,
    copies: CountAmount,
    voids: CountAmount,
    staff_confirmed: CountAmount,
    staff_recorded: CountAmount,
    demo_sales: CountAmount,
    previous: GrandTotal,
}

impl Tally {
    /// A tally that adds to `previous`, the grand totals of the register's last Z (zero when
    /// there is none).
    pub fn new(previous: GrandTotal) -> Tally {
        Tally {
            previous,
            ..Tally::default()
        }
    }

    fn currency(&mut self, e: &Entry, currency: &str) -> Result<(), ReportError> {
        match &self.currency {
            None => self.currency = Some(currency.to_string()),
            Some(c) if c == currency => {}
            Some(c) => {
                return Err(ReportError::Inconsistent(format!(
                    "entry {} is in {currency}, the period's receipts before it in {c}; a report \
                     sums one currency",
                    e.seq
                )))
            }
        }
        Ok(())
    }

    fn signed(e: &Entry) -> Result<(i64, i64), ReportError> {
        match (e.gross_minor, e.net_minor) {
            (Some(g), Some(n)) => Ok((g, n)),
            _ => Err(ReportError::Inconsistent(format!(
                "entry {} is a {} without its signed amounts",
                e.seq, e.kind
            ))),
        }
    }

    fn rates(&mut self, rows: &[RateTotals]) -> Result<(), ReportError> {
        for r in rows {
            let t = self.vat.entry(r.rate.clone()).or_default();
            *t = (add(t.0, r.net)?, add(t.1, r.vat)?, add(t.2, r.gross)?);
        }
        Ok(())
    }

    /// Adds a payment's sale (`returned` false) or return of `gross` (positive) to the
    /// provider's totals and the operator's.
    fn payment(
        &mut self,
        p: &Payment,
        who: &OperatorStamp,
        gross: i64,
        returned: bool,
    ) -> Result<(), ReportError> {
        let new = || PaymentTotals {
            provider: p.provider.clone(),
            payment_type: p.payment_type.clone(),
            basic_id: p.basic_id.clone(),
            count: 0,
            gross: 0,
            returns_count: 0,
            returns_gross: 0,
        };
        let op = self
            .operators
            .entry((String::new(), who.id))
            .or_insert_with(|| OperatorSums {
                totals: OperatorTotals {
                    id: who.id,
                    name: who.name.clone(),
                    sales_count: 0,
                    sales_gross: 0,
                    returns_count: 0,
                    returns_gross: 0,
                    payments: Vec::new(),
                },
                payments: BTreeMap::new(),
            });
        let t = &mut op.totals;
        t.name.clone_from(&who.name);
        if returned {
            t.returns_count += 1;
            t.returns_gross = add(t.returns_gross, gross)?;
        } else {
            t.sales_count += 1;
            t.sales_gross = add(t.sales_gross, gross)?;
        }
        for totals in [
            self.payments.entry(p.basic_id.clone()).or_insert_with(new),
            op.payments.entry(p.basic_id.clone()).or_insert_with(new),
        ] {
            if returned {
                totals.returns_count += 1;
                totals.returns_gross = add(totals.returns_gross, gross)?;
            } else {
                totals.count += 1;
                totals.gross = add(totals.gross, gross)?;
            }
        }
        Ok(())
    }

    /// Adds one entry of the period. Kinds that move no money and count nothing (logins,
    /// settings, an earlier X) add nothing.
    pub fn add(&mut self, e: &Entry) -> Result<(), ReportError> {
        let unreadable = |what: String| ReportError::Inconsistent(what);
        match e.kind {
            Kind::Sale => {
                let (gross, net) = Tally::signed(e)?;
                let body = e.sale().map_err(unreadable)?;
                self.currency(e, &body.currency)?;
                bump(&mut self.sales, gross)?;
                self.sales_net = add(self.sales_net, net)?;
                self.rates(&body.vat)?;
                self.payment(&body.payment, &body.operator, gross, false)?;
                for line in body.order["lines"].as_array().into_iter().flatten() {
                    let discount = line["discount"].as_i64().unwrap_or(0);
                    if discount != 0 {
                        bump(&mut self.discounts, discount)?;
                    }
                }
                if body.payment.confirmed_by.as_deref() == Some("staff") {
                    bump(&mut self.staff_confirmed, gross)?;
                }
                if body.demo {
                    bump(&mut self.demo_sales, gross)?;
                }
            }
            Kind::Return => {
                let (gross, net) = Tally::signed(e)?;
                let body = e.return_body().map_err(unreadable)?;
                self.currency(e, &body.currency)?;
                // A return entry's amounts are negative; a report shows returns as positive.
                bump(&mut self.returns, neg(gross)?)?;
                self.returns_net = sub(self.returns_net, net)?;
                self.rates(&body.vat)?;
                self.payment(&body.payment, &body.operator, neg(gross)?, true)?;
                if body.payment.confirmed_by.as_deref() == Some("staff") {
                    bump(&mut self.staff_recorded, neg(gross)?)?;
                }
            }
            Kind::Copy => {
                let v = e.body_json().map_err(unreadable)?;
                let gross = v["gross"].as_i64().ok_or_else(|| {
                    ReportError::Inconsistent(format!("copy entry {} has no gross", e.seq))
                })?;
                bump(&mut self.copies, gross)?;
            }
            Kind::Void => {
                let v = e.body_json().map_err(unreadable)?;
                let gross = v["total"]["gross"].as_i64().ok_or_else(|| {
                    ReportError::Inconsistent(format!("void entry {} has no total", e.seq))
                })?;
                bump(&mut self.voids, gross)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds a whole register's report (the shop-wide total of `report::shop`): every figure
    /// summed with checked arithmetic, VAT per rate and payments per means of payment merged,
    /// each register's operators kept apart and named with their register, the grand totals
    /// of all registers added. [`Tally::finish`] then checks the total as it checks a
    /// register's report.
    pub fn absorb(&mut self, r: &Report) -> Result<(), ReportError> {
        let register = &r.period.register_id;
        if r.sales_count + r.returns_count > 0 {
            match &self.currency {
                None => self.currency = Some(r.currency.clone()),
                Some(c) if *c == r.currency => {}
                Some(c) => {
                    return Err(ReportError::Inconsistent(format!(
                        "register {register} sells in {}, another register in {c}; a report sums \
                         one currency",
                        r.currency
                    )))
                }
            }
        }
        let plus = |c: &mut CountAmount, o: CountAmount| -> Result<(), ReportError> {
            c.count += o.count;
            c.amount = add(c.amount, o.amount)?;
            Ok(())
        };
        plus(
            &mut self.sales,
            CountAmount {
                count: r.sales_count,
                amount: r.sales_gross,
            },
        )?;
        plus(
            &mut self.returns,
            CountAmount {
                count: r.returns_count,
                amount: r.returns_gross,
            },
        )?;
        self.sales_net = add(self.sales_net, r.sales_net)?;
        self.returns_net = add(self.returns_net, r.returns_net)?;
        self.rates(&r.vat)?;
        let merge = |into: &mut PaymentTotals, p: &PaymentTotals| -> Result<(), ReportError> {
            into.count += p.count;
            into.gross = add(into.gross, p.gross)?;
            into.returns_count += p.returns_count;
            into.returns_gross = add(into.returns_gross, p.returns_gross)?;
            Ok(())
        };
        let empty = |p: &PaymentTotals| PaymentTotals {
            count: 0,
            gross: 0,
            returns_count: 0,
            returns_gross: 0,
            ..p.clone()
        };
        for p in &r.payments {
            let into = self
                .payments
                .entry(p.basic_id.clone())
                .or_insert_with(|| empty(p));
            merge(into, p)?;
        }
        for o in &r.operators {
            let mut payments = BTreeMap::new();
            for p in &o.payments {
                merge(
                    payments
                        .entry(p.basic_id.clone())
                        .or_insert_with(|| empty(p)),
                    p,
                )?;
            }
            let sums = OperatorSums {
                totals: OperatorTotals {
                    name: format!("{} ({register})", o.name),
                    payments: Vec::new(),
                    ..o.clone()
                },
                payments,
            };
            if self
                .operators
                .insert((register.clone(), o.id), sums)
                .is_some()
            {
                return Err(ReportError::Inconsistent(format!(
                    "register {register} is in the shop's total twice"
                )));
            }
        }
        plus(&mut self.discounts, r.discounts)?;
        plus(&mut self.copies, r.copies)?;
        plus(&mut self.voids, r.voids)?;
        plus(&mut self.staff_confirmed, r.staff_confirmed)?;
        plus(&mut self.staff_recorded, r.staff_recorded)?;
        plus(&mut self.demo_sales, r.demo_sales)?;
        // The registers' grand totals before their periods, so that `finish` adds the periods
        // back once.
        self.previous.sales = add(
            self.previous.sales,
            sub(r.grand_total.sales, r.sales_gross)?,
        )?;
        self.previous.returns = add(
            self.previous.returns,
            sub(r.grand_total.returns, r.returns_gross)?,
        )?;
        Ok(())
    }

    /// The report: the sums with the period and the sessions in flight. Refused when a
    /// breakdown (VAT, payments, operators) does not come to its total.
    pub fn finish(self, period: Period, in_flight: InFlight) -> Result<Report, ReportError> {
        let vat = rate_totals(
            self.vat
                .iter()
                .map(|(rate, &(net, vat, gross))| (rate.as_str(), net, vat, gross)),
        );
        let net_gross = sub(self.sales.amount, self.returns.amount)?;
        let sum = |f: &dyn Fn(&RateTotals) -> i64| vat.iter().map(f).try_fold(0, add);
        let (vat_net, vat_vat, vat_gross) =
            (sum(&|r| r.net)?, sum(&|r| r.vat)?, sum(&|r| r.gross)?);
        if vat_gross != net_gross || add(vat_net, vat_vat)? != vat_gross {
            return Err(ReportError::Inconsistent(format!(
                "VAT per rate comes to {vat_net} + {vat_vat} = {vat_gross}, the receipts to \
                 {net_gross}"
            )));
        }
        if vat_net != sub(self.sales_net, self.returns_net)? {
            return Err(ReportError::Inconsistent(format!(
                "VAT bases come to {vat_net}, the receipts' amounts excl. VAT to {}",
                self.sales_net - self.returns_net
            )));
        }
        let payments: Vec<PaymentTotals> = self.payments.into_values().collect();
        let operators: Vec<OperatorTotals> = self
            .operators
            .into_values()
            .map(|o| OperatorTotals {
                payments: o.payments.into_values().collect(),
                ..o.totals
            })
            .collect();
        let by_payment = payments.iter().map(|p| p.gross).try_fold(0, add)?;
        let by_payment_returns = payments.iter().map(|p| p.returns_gross).try_fold(0, add)?;
        let by_operator = operators.iter().map(|o| o.sales_gross).try_fold(0, add)?;
        if by_payment != self.sales.amount
            || by_operator != self.sales.amount
            || by_payment_returns != self.returns.amount
        {
            return Err(ReportError::Inconsistent(format!(
                "sales per means of payment ({by_payment}) or per operator ({by_operator}) do not \
                 come to the sales receipts' {}",
                self.sales.amount
            )));
        }
        let sales = add(self.previous.sales, self.sales.amount)?;
        let returns = add(self.previous.returns, self.returns.amount)?;
        Ok(Report {
            period,
            currency: self.currency.unwrap_or_else(|| "NOK".into()),
            sales_count: self.sales.count,
            sales_gross: self.sales.amount,
            sales_net: self.sales_net,
            returns_count: self.returns.count,
            returns_gross: self.returns.amount,
            returns_net: self.returns_net,
            net_gross,
            vat,
            payments,
            operators,
            discounts: self.discounts,
            copies: self.copies,
            voids: self.voids,
            staff_confirmed: self.staff_confirmed,
            staff_recorded: self.staff_recorded,
            demo_sales: self.demo_sales,
            in_flight,
            grand_total: GrandTotal {
                sales,
                returns,
                net: sub(sales, returns)?,
            },
        })
    }
}
