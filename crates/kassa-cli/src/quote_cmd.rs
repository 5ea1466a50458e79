//! `kassa-cli quote`: prints a priced order as a table or as JSON.

use crate::{read_input, Failure};
use kassa_core::{quote_document, PricedOrder};

pub fn run(order_path: &str, json: bool) -> Result<(), Failure> {
    let text = read_input(order_path)?;
    let priced = quote_document(&text, &kassa_core::reference::generate_now())
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    if json {
        let out = serde_json::to_string_pretty(&priced)
            .map_err(|e| Failure::System(format!("cannot write JSON: {e}")))?;
        println!("{out}");
    } else {
        print!("{}", table(&priced));
    }
    Ok(())
}

/// The human-readable form: amounts in major units of the order's currency.
fn table(q: &PricedOrder) -> String {
    let c = q.currency;
    let money = |minor: i64| c.format_plain(minor);
    let mut out = String::new();
    let basis = if q.prices_include_vat {
        "prices include VAT"
    } else {
        "prices exclude VAT"
    };
    out.push_str(&format!(
        "Order {} ({}, {basis})\n\n",
        q.reference,
        c.code()
    ));
    out.push_str(&format!(
        "{:<32} {:>9} {:>12} {:>10} {:>6} {:>12}\n",
        "Item", "Qty", "Unit price", "Discount", "VAT", "Amount"
    ));
    for l in &q.lines {
        let name = match &l.sku {
            Some(sku) => format!("{} [{sku}]", l.name),
            None => l.name.clone(),
        };
        let qty = match &l.unit {
            Some(u) => format!("{} {u}", l.quantity.to_canonical()),
            None => l.quantity.to_canonical(),
        };
        out.push_str(&format!(
            "{:<32} {:>9} {:>12} {:>10} {:>6} {:>12}\n",
            truncate(&name, 32),
            qty,
            money(l.unit_price),
            money(l.discount()),
            format!("{}%", l.vat_rate.to_percent_string()),
            money(l.gross),
        ));
    }
    out.push_str(&format!(
        "\n{:<8} {:>14} {:>14} {:>14}\n",
        "VAT", "Net", "VAT", "Gross"
    ));
    for r in &q.vat_summary {
        out.push_str(&format!(
            "{:<8} {:>14} {:>14} {:>14}\n",
            format!("{}%", r.vat_rate.to_percent_string()),
            money(r.net),
            money(r.vat),
            money(r.gross)
        ));
    }
    out.push_str(&format!(
        "{:<8} {:>14} {:>14} {:>14}\n\nTotal to pay: {} {}\n",
        "Total",
        money(q.total.net),
        money(q.total.vat),
        money(q.total.gross),
        money(q.total.gross),
        c.code()
    ));
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}
