//! Pricing: from an [`Order`] to exact net, VAT and gross amounts per line, per rate and in total.
//!
//! # The rules
//! All arithmetic is on integers (minor units; quantities in thousandths; VAT rates in basis
//! points), checked, with intermediate products in `i128`. Rounding is **half away from zero**
//! at minor-unit precision ([`crate::money::div_round`]), exactly once per step:
//!
//! 1. **Line amount** `a_i = round(quantity × unit_price) − line discount`. A line discount
//!    larger than the line is an error.
//! 2. **Order discount** `D` is spread over the lines in proportion to `a_i` (with `A = Σ a_i`):
//!    each line first gets `floor(D × a_i / A)`; the minor units still missing go one each to
//!    the lines with the largest remainders `D × a_i mod A`, ties to the earlier line. The parts
//!    sum to exactly `D`. `D > A` is an error. The line's amount is then `a_i − share_i`.
//! 3. **VAT** with rate `bp` basis points:
//!    - prices include VAT: the amount is gross; `vat = round(gross × bp / (10000 + bp))`,
//!      `net = gross − vat`;
//!    - prices exclude VAT: the amount is net; `vat = round(net × bp / 10000)`,
//!      `gross = net + vat`.
//! 4. **Totals** are the sums of the line values; the VAT summary has one row per rate (highest
//!    rate first) with the sums of that rate's lines. Nothing is recomputed from a total, so
//!    every total equals the sum of its lines by construction.
//! 5. Every amount is at most [`MAX_AMOUNT`] (10^12 minor units); beyond it is an error, never
//!    a wrap. An order whose total is zero is refused (there is nothing to charge).
//!
//! Why VAT per line and not per rate group: providers (Klarna, Dintero, Bambora) check each
//! line's tax and require the order's tax to equal the sum of the lines' tax, so the per-line
//! figure is the one every party can agree on. Per line, the VAT is within ±1 minor unit of
//! Klarna's check `gross − gross × 10000 / (10000 + bp)` (it is the same quotient, rounded).
//!
//! This module does not convert to any provider's units (percent strings, basis points,
//! decimal strings); that belongs to each provider's wire mapping.

use crate::money::{div_round, Currency, MAX_AMOUNT};
use crate::order::{Order, OrderError, Problem, Quantity, VatRate};
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

/// A priced order: what the screen, the receipt, the provider and the session log all show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOrder {
    pub reference: String,
    pub currency: Currency,
    pub prices_include_vat: bool,
    pub lines: Vec<PricedLine>,
    /// One row per VAT rate, highest rate first.
    pub vat_summary: Vec<VatRow>,
    pub total: Totals,
}

/// A priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub name: String,
    pub sku: Option<String>,
    pub unit: Option<String>,
    pub quantity: Quantity,
    /// As entered (VAT included or not, per the order).
    pub unit_price: i64,
    pub vat_rate: VatRate,
    /// `round(quantity × unit_price)`, before any discount.
    pub amount_before_discount: i64,
    /// The line's own discount.
    pub line_discount: i64,
    /// This line's share of the order discount.
    pub order_discount_share: i64,
    pub net: i64,
    pub vat: i64,
    pub gross: i64,
}

impl PricedLine {
    /// The line's total discount: its own plus its share of the order discount.
    pub fn discount(&self) -> i64 {
        self.line_discount + self.order_discount_share
    }
}

/// Net, VAT and gross of one VAT rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatRow {
    pub vat_rate: VatRate,
    pub net: i64,
    pub vat: i64,
    pub gross: i64,
}

/// Net, VAT and gross amounts; `net + vat = gross` always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    pub net: i64,
    pub vat: i64,
    pub gross: i64,
}

impl Totals {
    fn checked_add(self, net: i64, vat: i64, gross: i64) -> Option<Totals> {
        let t = Totals {
            net: self.net.checked_add(net)?,
            vat: self.vat.checked_add(vat)?,
            gross: self.gross.checked_add(gross)?,
        };
        (t.gross <= MAX_AMOUNT).then_some(t)
    }
}

/// Parses and prices an order document in one step.
pub fn quote_document(text: &str, fallback_reference: &str) -> Result<PricedOrder, OrderError> {
    price(&crate::order::parse_order(text)?, fallback_reference)
}

/// Prices a validated order. `fallback_reference` is used when the order has none (the caller
/// generates it, so this stays deterministic).
pub fn price(order: &Order, fallback_reference: &str) -> Result<PricedOrder, OrderError> {
    let mut problems: Vec<Problem> = Vec::new();
    let add = |problems: &mut Vec<Problem>, path: String, reason: String| {
        problems.push(Problem {
            path,
            reason,
            ..Default::default()
        })
    };

    // Rule 1: line amounts after line discounts.
    let mut before = Vec::with_capacity(order.lines.len());
    let mut after_line_discount = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let raw = div_round(
            i128::from(line.quantity.milli()) * i128::from(line.unit_price),
            1000,
        );
        if raw > i128::from(MAX_AMOUNT) {
            add(
                &mut problems,
                format!("lines[{i}]"),
                format!("line amount {raw} is above the maximum {MAX_AMOUNT}"),
            );
            before.push(0);
            after_line_discount.push(0);
            continue;
        }
        let raw = raw as i64; // ≤ MAX_AMOUNT, checked just above
        if line.discount > raw {
            add(
                &mut problems,
                format!("lines[{i}].discount"),
                format!("{} is more than the line amount {raw}", line.discount),
            );
        }
        before.push(raw);
        after_line_discount.push((raw - line.discount).max(0));
    }
    let subtotal: i128 = after_line_discount.iter().map(|a| i128::from(*a)).sum();
    if problems.is_empty() && subtotal > i128::from(MAX_AMOUNT) {
        add(
            &mut problems,
            "lines".into(),
            format!("the order amount {subtotal} is above the maximum {MAX_AMOUNT}"),
        );
    }
    if problems.is_empty() && i128::from(order.discount) > subtotal {
        add(
            &mut problems,
            "discount".into(),
            format!(
                "{} is more than the order amount {subtotal}",
                order.discount
            ),
        );
    }
    if problems.is_empty() && subtotal == i128::from(order.discount) {
        add(
            &mut problems,
            "$".into(),
            "the order total is zero: there is nothing to charge".into(),
        );
    }
    if !problems.is_empty() {
        return Err(OrderError::Invalid(problems));
    }

    // Rule 2: spread the order discount.
    let shares = spread(order.discount, &after_line_discount);

    // Rule 3: VAT per line.
    let mut lines = Vec::with_capacity(order.lines.len());
    let mut total = Totals::default();
    let overflow = || {
        OrderError::Invalid(vec![Problem {
            path: "$".into(),
            reason: format!("the order total is above the maximum {MAX_AMOUNT}"),
            ..Default::default()
        }])
    };
    for (i, line) in order.lines.iter().enumerate() {
        let amount = after_line_discount[i] - shares[i];
        let (net, vat, gross) =
            split_vat(amount, line.vat_rate, order.prices_include_vat).ok_or_else(overflow)?;
        total = total.checked_add(net, vat, gross).ok_or_else(overflow)?;
        lines.push(PricedLine {
            name: line.name.clone(),
            sku: line.sku.clone(),
            unit: line.unit.clone(),
            quantity: line.quantity,
            unit_price: line.unit_price,
            vat_rate: line.vat_rate,
            amount_before_discount: before[i],
            line_discount: line.discount,
            order_discount_share: shares[i],
            net,
            vat,
            gross,
        });
    }

    // Rule 4: the VAT summary, highest rate first. Each row's sums are bounded by the total.
    let mut vat_summary: Vec<VatRow> = Vec::new();
    for line in &lines {
        match vat_summary.iter_mut().find(|r| r.vat_rate == line.vat_rate) {
            Some(row) => {
                row.net += line.net;
                row.vat += line.vat;
                row.gross += line.gross;
            }
            None => vat_summary.push(VatRow {
                vat_rate: line.vat_rate,
                net: line.net,
                vat: line.vat,
                gross: line.gross,
            }),
        }
    }
    vat_summary.sort_by_key(|row| std::cmp::Reverse(row.vat_rate));

    Ok(PricedOrder {
        reference: order
            .reference
            .clone()
            .unwrap_or_else(|| fallback_reference.to_string()),
        currency: order.currency,
        prices_include_vat: order.prices_include_vat,
        lines,
        vat_summary,
        total,
    })
}

/// Splits an amount into (net, vat, gross) at `rate`; `None` if gross would pass [`MAX_AMOUNT`].
pub fn split_vat(amount: i64, rate: VatRate, prices_include_vat: bool) -> Option<(i64, i64, i64)> {
    let bp = i128::from(rate.basis_points());
    let a = i128::from(amount);
    if prices_include_vat {
        let vat = i64::try_from(div_round(a * bp, 10_000 + bp)).ok()?;
        Some((amount - vat, vat, amount))
    } else {
        let vat = i64::try_from(div_round(a * bp, 10_000)).ok()?;
        let gross = amount.checked_add(vat).filter(|g| *g <= MAX_AMOUNT)?;
        Some((amount, vat, gross))
    }
}

/// Spreads `discount` over `amounts` in proportion (largest remainder, ties to the earlier
/// line). Requires `0 ≤ discount ≤ Σ amounts`. The parts sum to exactly `discount`.
pub fn spread(discount: i64, amounts: &[i64]) -> Vec<i64> {
    let total: i128 = amounts.iter().map(|a| i128::from(*a)).sum();
    if discount == 0 || total == 0 {
        return vec![0; amounts.len()];
    }
    let d = i128::from(discount);
    let mut parts: Vec<i64> = Vec::with_capacity(amounts.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(amounts.len());
    for (i, a) in amounts.iter().enumerate() {
        let product = d * i128::from(*a);
        // floor(D × a / A) ≤ D, which is an i64.
        parts.push((product / total) as i64);
        remainders.push((product % total, i));
    }
    let missing = discount - parts.iter().sum::<i64>();
    // Largest remainder first; among equals, the earlier line first.
    remainders.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    for (_, i) in remainders.into_iter().take(missing as usize) {
        parts[i] += 1;
    }
    parts
}

// The `--json` wire shape of a priced order, as documented in the README. Written by hand so the
// shape stays exactly that (rates and quantities as canonical strings, `discount` as the line's
// total discount) while the Rust types keep the richer fields.
impl Serialize for PricedOrder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("PricedOrder", 6)?;
        st.serialize_field("reference", &self.reference)?;
        st.serialize_field("currency", self.currency.code())?;
        st.serialize_field("prices_include_vat", &self.prices_include_vat)?;
        st.serialize_field("lines", &self.lines)?;
        st.serialize_field("vat_summary", &self.vat_summary)?;
        st.serialize_field("total", &self.total)?;
        st.end()
    }
}

impl Serialize for PricedLine {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("PricedLine", 9)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("sku", &self.sku)?;
        st.serialize_field("quantity", &self.quantity.to_canonical())?;
        st.serialize_field("unit_price", &self.unit_price)?;
        st.serialize_field("discount", &self.discount())?;
        st.serialize_field("vat_rate", &self.vat_rate.to_percent_string())?;
        st.serialize_field("net", &self.net)?;
        st.serialize_field("vat", &self.vat)?;
        st.serialize_field("gross", &self.gross)?;
        st.end()
    }
}

impl Serialize for VatRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("VatRow", 4)?;
        st.serialize_field("vat_rate", &self.vat_rate.to_percent_string())?;
        st.serialize_field("net", &self.net)?;
        st.serialize_field("vat", &self.vat)?;
        st.serialize_field("gross", &self.gross)?;
        st.end()
    }
}

/// The priced order as the session log keeps it: the `--json` shape above plus each line's
/// `unit` (when it has one), which refunds by line need and the `--json` shape leaves out.
pub fn to_logged(order: &PricedOrder) -> String {
    let mut v = serde_json::to_value(order).expect("a priced order serializes");
    if let Some(lines) = v["lines"].as_array_mut() {
        for (json, line) in lines.iter_mut().zip(&order.lines) {
            if let Some(unit) = &line.unit {
                json["unit"] = serde_json::Value::String(unit.clone());
            }
        }
    }
    v.to_string()
}

/// Reads back a priced order as the session log keeps it ([`to_logged`], or the plain
/// `--json` shape of logs written before units were kept). The log keeps a line's total
/// discount only, so it comes back as the line's own discount (`order_discount_share` 0);
/// `amount_before_discount` is recomputed from quantity and unit price (rule 1). Every
/// amount is as logged, never recomputed.
pub fn from_logged(json: &str) -> Result<PricedOrder, String> {
    #[derive(serde::Deserialize)]
    struct Logged {
        reference: String,
        currency: String,
        prices_include_vat: bool,
        lines: Vec<LoggedLine>,
        vat_summary: Vec<LoggedRow>,
        total: LoggedRow,
    }
    #[derive(serde::Deserialize)]
    struct LoggedLine {
        name: String,
        sku: Option<String>,
        #[serde(default)]
        unit: Option<String>,
        quantity: String,
        unit_price: i64,
        discount: i64,
        vat_rate: String,
        net: i64,
        vat: i64,
        gross: i64,
    }
    #[derive(serde::Deserialize)]
    struct LoggedRow {
        #[serde(default)]
        vat_rate: Option<String>,
        net: i64,
        vat: i64,
        gross: i64,
    }
    let o: Logged =
        serde_json::from_str(json).map_err(|e| format!("the logged order is not readable: {e}"))?;
    let currency = Currency::from_code(&o.currency)
        .ok_or_else(|| format!("the logged order's currency {:?} is unknown", o.currency))?;
    let rate = |r: &str| VatRate::parse_percent(r).map_err(|e| format!("logged order: {e}"));
    let mut lines = Vec::with_capacity(o.lines.len());
    for l in o.lines {
        let quantity = Quantity::parse(&l.quantity).map_err(|e| format!("logged order: {e}"))?;
        let before = div_round(
            i128::from(quantity.milli()) * i128::from(l.unit_price),
            1000,
        );
        lines.push(PricedLine {
            name: l.name,
            sku: l.sku,
            unit: l.unit,
            quantity,
            unit_price: l.unit_price,
            vat_rate: rate(&l.vat_rate)?,
            amount_before_discount: i64::try_from(before).unwrap_or(i64::MAX),
            line_discount: l.discount,
            order_discount_share: 0,
            net: l.net,
            vat: l.vat,
            gross: l.gross,
        });
    }
    let mut vat_summary = Vec::with_capacity(o.vat_summary.len());
    for r in o.vat_summary {
        vat_summary.push(VatRow {
            vat_rate: rate(r.vat_rate.as_deref().unwrap_or_default())?,
            net: r.net,
            vat: r.vat,
            gross: r.gross,
        });
    }
    Ok(PricedOrder {
        reference: o.reference,
        currency,
        prices_include_vat: o.prices_include_vat,
        lines,
        vat_summary,
        total: Totals {
            net: o.total.net,
            vat: o.total.vat,
            gross: o.total.gross,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::parse_order;

    fn quote(doc: &str) -> PricedOrder {
        price(&parse_order(doc).unwrap(), "GEN-1").unwrap()
    }

    fn err(doc: &str) -> String {
        price(&parse_order(doc).unwrap(), "GEN-1")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_documented_example() {
        let q = quote(
            r#"{"reference":"A-1001","currency":"NOK","lines":[{"sku":"chair-1","name":"Stablestol",
                "quantity":"1","unit":"pcs","unit_price":29990,"vat_rate":"25"}]}"#,
        );
        let l = &q.lines[0];
        // 29990 × 2500 / 12500 = 5998 exactly.
        assert_eq!((l.net, l.vat, l.gross), (23992, 5998, 29990));
        assert_eq!(
            q.total,
            Totals {
                net: 23992,
                vat: 5998,
                gross: 29990
            }
        );
        assert_eq!(q.reference, "A-1001");
    }

    #[test]
    fn vat_inclusive_line_with_discount() {
        // 2 × 149.90 = 299.80, minus 20.00 = 279.80 gross.
        // VAT = 27980 × 2500 / 12500 = 5596 exactly; net 22384.
        let q = quote(
            r#"{"currency":"NOK","lines":[{"name":"Pute","quantity":2,"unit_price":14990,
                "vat_rate":25,"discount":2000}]}"#,
        );
        let l = &q.lines[0];
        assert_eq!(
            (l.net, l.vat, l.gross, l.discount()),
            (22384, 5596, 27980, 2000)
        );
        // 99.99 at 25 %: 9999 × 0.2 = 1999.8 → 2000 (rounded once, half away from zero).
        let q = quote(
            r#"{"currency":"NOK","lines":[{"name":"x","quantity":1,"unit_price":9999,"vat_rate":25}]}"#,
        );
        assert_eq!((q.lines[0].net, q.lines[0].vat), (7999, 2000));
    }

    #[test]
    fn mixed_rates_in_one_order() {
        let q = quote(
            r#"{"currency":"NOK","lines":[
                {"name":"Stol","quantity":1,"unit_price":29990,"vat_rate":25},
                {"name":"Brød","quantity":1,"unit_price":4990,"vat_rate":15},
                {"name":"Kino","quantity":1,"unit_price":12000,"vat_rate":12},
                {"name":"Avis","quantity":1,"unit_price":3500,"vat_rate":0}]}"#,
        );
        // 4990 × 1500 / 11500 = 650.87 → 651; 12000 × 1200 / 11200 = 1285.71 → 1286.
        let vats: Vec<i64> = q.lines.iter().map(|l| l.vat).collect();
        assert_eq!(vats, vec![5998, 651, 1286, 0]);
        let rates: Vec<String> = q
            .vat_summary
            .iter()
            .map(|r| r.vat_rate.to_percent_string())
            .collect();
        assert_eq!(rates, vec!["25", "15", "12", "0"]);
        assert_eq!(
            q.total,
            Totals {
                net: 42545,
                vat: 7935,
                gross: 50480
            }
        );
    }

    #[test]
    fn order_discount_spread_over_three_rates() {
        // Amounts 10000, 5000, 2500 (A = 17500), D = 1000:
        // 1000×10000/17500 = 571.43, ×5000 = 285.71, ×2500 = 142.86 → floors 571, 285, 142 = 998;
        // the 2 missing units go to the largest remainders: line 1 (.71, 12500) and line 2 (.86, 15000)
        // → 571, 286, 143.
        let q = quote(
            r#"{"currency":"NOK","discount":1000,"lines":[
                {"name":"a","quantity":1,"unit_price":10000,"vat_rate":25},
                {"name":"b","quantity":1,"unit_price":5000,"vat_rate":15},
                {"name":"c","quantity":1,"unit_price":2500,"vat_rate":12}]}"#,
        );
        let shares: Vec<i64> = q.lines.iter().map(|l| l.order_discount_share).collect();
        assert_eq!(shares, vec![571, 286, 143]);
        let gross: Vec<i64> = q.lines.iter().map(|l| l.gross).collect();
        assert_eq!(gross, vec![9429, 4714, 2357]);
        assert_eq!(q.total.gross, 16500);
    }

    #[test]
    fn discount_ties_go_to_the_earlier_line() {
        assert_eq!(spread(1, &[100, 100, 100]), vec![1, 0, 0]);
        assert_eq!(spread(2, &[100, 100, 100]), vec![1, 1, 0]);
        assert_eq!(spread(300, &[100, 100, 100]), vec![100, 100, 100]);
        assert_eq!(spread(0, &[5, 7]), vec![0, 0]);
    }

    #[test]
    fn three_decimal_quantities() {
        // 0.350 kg × 49.90 = 17.465 → 17.47 (half away from zero).
        let q = quote(
            r#"{"currency":"NOK","lines":[{"name":"Epler","quantity":"0.350","unit":"kg","unit_price":4990,"vat_rate":15}]}"#,
        );
        assert_eq!(q.lines[0].gross, 1747);
        // 0.333 × 100 = 33.3 → 33.
        let q = quote(
            r#"{"currency":"NOK","lines":[{"name":"x","quantity":"0.333","unit_price":100,"vat_rate":0}]}"#,
        );
        assert_eq!(q.lines[0].gross, 33);
    }

    #[test]
    fn jpy_and_kwd() {
        // JPY has no minor unit: 1 yen is the smallest step. 1080 incl. 8 % → vat 80.
        let q = quote(
            r#"{"currency":"JPY","lines":[{"name":"Bento","quantity":1,"unit_price":1080,"vat_rate":8}]}"#,
        );
        assert_eq!((q.lines[0].net, q.lines[0].vat), (1000, 80));
        // KWD has 3 digits: 1.250 KWD excl. 5 % → vat 0.0625 KWD = 62.5 fils → 63.
        let q = quote(
            r#"{"currency":"KWD","prices_include_vat":false,"lines":[{"name":"x","quantity":1,"unit_price":1250,"vat_rate":5}]}"#,
        );
        assert_eq!(
            (q.lines[0].net, q.lines[0].vat, q.lines[0].gross),
            (1250, 63, 1313)
        );
    }

    #[test]
    fn vat_exclusive_prices() {
        // 3 × 19.99 = 59.97 net; vat 25 % = 14.9925 → 14.99; gross 74.96.
        let q = quote(
            r#"{"currency":"EUR","prices_include_vat":false,"lines":[{"name":"x","quantity":3,"unit_price":1999,"vat_rate":25}]}"#,
        );
        assert_eq!(
            (q.lines[0].net, q.lines[0].vat, q.lines[0].gross),
            (5997, 1499, 7496)
        );
    }

    #[test]
    fn the_eleven_eleven_rate() {
        // 10000 × 1111 / 11111 = 999.91 → 1000.
        let q = quote(
            r#"{"currency":"NOK","lines":[{"name":"x","quantity":1,"unit_price":10000,"vat_rate":"11.11"}]}"#,
        );
        assert_eq!((q.lines[0].net, q.lines[0].vat), (9000, 1000));
        assert_eq!(q.vat_summary[0].vat_rate.to_percent_string(), "11.11");
    }

    #[test]
    fn refuses_what_cannot_be_charged() {
        assert_eq!(
            err(
                r#"{"currency":"NOK","lines":[{"name":"x","quantity":1,"unit_price":400,"vat_rate":25,"discount":500}]}"#
            ),
            "lines[0].discount: 500 is more than the line amount 400"
        );
        assert_eq!(
            err(
                r#"{"currency":"NOK","discount":401,"lines":[{"name":"x","quantity":1,"unit_price":400,"vat_rate":25}]}"#
            ),
            "discount: 401 is more than the order amount 400"
        );
        assert_eq!(
            err(
                r#"{"currency":"NOK","lines":[{"name":"x","quantity":1,"unit_price":0,"vat_rate":25}]}"#
            ),
            "$: the order total is zero: there is nothing to charge"
        );
        assert_eq!(
            err(
                r#"{"currency":"NOK","discount":400,"lines":[{"name":"x","quantity":1,"unit_price":400,"vat_rate":25}]}"#
            ),
            "$: the order total is zero: there is nothing to charge"
        );
        assert_eq!(
            err(
                r#"{"currency":"NOK","lines":[{"name":"x","quantity":1000000,"unit_price":1000000000000,"vat_rate":25}]}"#
            ),
            "lines[0]: line amount 1000000000000000000 is above the maximum 1000000000000"
        );
        assert_eq!(
            err(
                r#"{"currency":"NOK","prices_include_vat":false,"lines":[{"name":"x","quantity":1,"unit_price":1000000000000,"vat_rate":25}]}"#
            ),
            "$: the order total is above the maximum 1000000000000"
        );
    }

    #[test]
    fn the_logged_order_reads_back_as_priced() {
        let q = quote(
            r#"{"currency":"NOK","discount":300,"lines":[
                {"sku":"ost-1","name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":15},
                {"name":"Bolle","quantity":3,"unit_price":2500,"vat_rate":25,"discount":100}]}"#,
        );
        let logged = to_logged(&q);
        assert!(logged.contains(r#""unit":"kg""#), "{logged}");
        let back = from_logged(&logged).unwrap();
        // Everything as priced, except that a line's discount comes back as one figure.
        for (b, l) in back.lines.iter().zip(&q.lines) {
            assert_eq!(
                (b.net, b.vat, b.gross, b.discount(), b.quantity, &b.unit),
                (l.net, l.vat, l.gross, l.discount(), l.quantity, &l.unit)
            );
            assert_eq!(b.amount_before_discount, l.amount_before_discount);
        }
        assert_eq!((back.total, &back.vat_summary), (q.total, &q.vat_summary));
        // A log written before units were kept: the plain `--json` shape.
        let plain = serde_json::to_string(&q).unwrap();
        assert_eq!(from_logged(&plain).unwrap().lines[0].unit, None);
        assert!(from_logged("{}").unwrap_err().contains("not readable"));
    }

    #[test]
    fn generated_reference_when_absent() {
        let q = quote(
            r#"{"currency":"NOK","lines":[{"name":"x","quantity":1,"unit_price":100,"vat_rate":25}]}"#,
        );
        assert_eq!(q.reference, "GEN-1");
    }
}
