//! The counter screen's model: typed entries become order lines, and a priced order becomes the
//! strings the screen shows. The UI renders these; it does no arithmetic of its own.
//!
//! Not for: pricing rules (see [`crate::quote`]) or parsing order files (see [`crate::order`]).

use crate::money::Currency;
use crate::order::{parse_order, validate_reference, Problem, Quantity, VatRate};
use crate::quote::{price, PricedOrder};
use serde::{Deserialize, Serialize};

/// What a cashier typed into the line form. Amounts are in major units as typed (`"299,90"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineEntry {
    #[serde(default)]
    pub sku: String,
    pub name: String,
    pub quantity: String,
    pub unit_price: String,
    pub vat_rate: String,
    #[serde(default)]
    pub discount: String,
}

/// A line of the cart in Kassa's order format (minor units), as the core produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sku: Option<String>,
    pub name: String,
    pub quantity: String,
    pub unit_price: i64,
    pub vat_rate: String,
    pub discount: i64,
}

/// The whole cart as the UI keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cart {
    pub currency: String,
    pub prices_include_vat: bool,
    #[serde(default)]
    pub reference: Option<String>,
    /// Order discount in minor units.
    #[serde(default)]
    pub discount: i64,
    pub lines: Vec<CartLine>,
}

/// Turns a typed line into a cart line, or says which field is wrong (paths are the entry's
/// field names: `name`, `quantity`, `unit_price`, `vat_rate`, `discount`).
pub fn entry_to_line(entry: &LineEntry, currency: Currency) -> Result<CartLine, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut bad = |path: &str, reason: String| {
        problems.push(Problem {
            path: path.to_string(),
            reason,
            ..Default::default()
        });
    };
    let name = entry.name.trim();
    let sku = entry.sku.trim();
    // A scanned SKU with no name still makes a readable line.
    let name = if name.is_empty() { sku } else { name };
    if name.is_empty() {
        bad("name", "enter a name or a SKU".into());
    }
    let quantity = parse_quantity(&entry.quantity)
        .map_err(|r| bad("quantity", r))
        .ok();
    let unit_price = currency
        .parse_major(&entry.unit_price)
        .map_err(|r| bad("unit_price", r))
        .ok();
    let discount = if entry.discount.trim().is_empty() {
        Some(0)
    } else {
        currency
            .parse_major(&entry.discount)
            .map_err(|r| bad("discount", r))
            .ok()
    };
    let vat = VatRate::parse_percent(entry.vat_rate.trim().trim_end_matches('%').trim())
        .map_err(|r| bad("vat_rate", r))
        .ok();
    match (quantity, unit_price, discount, vat) {
        (Some(q), Some(p), Some(d), Some(v)) if problems.is_empty() => Ok(CartLine {
            sku: (!sku.is_empty()).then(|| sku.to_string()),
            name: name.to_string(),
            quantity: q.to_canonical(),
            unit_price: p,
            vat_rate: v.to_percent_string(),
            discount: d,
        }),
        _ => Err(problems),
    }
}

/// The cart as an order document (Kassa's JSON format), so it goes through the one strict parser.
/// A typed quantity: empty is 1, and the cashier may type a decimal comma; the rule itself
/// is the order file's ([`Quantity::parse`]).
pub fn parse_quantity(text: &str) -> Result<Quantity, String> {
    let text = text.trim().replace(',', ".");
    Quantity::parse(if text.is_empty() { "1" } else { &text })
}

pub fn cart_to_document(cart: &Cart) -> String {
    serde_json::json!({
        "reference": cart.reference,
        "currency": cart.currency,
        "prices_include_vat": cart.prices_include_vat,
        "discount": cart.discount,
        "lines": cart.lines,
    })
    .to_string()
}

/// What the counter screen shows for a cart: every amount already formatted.
#[derive(Debug, Clone, Serialize)]
pub struct CounterView {
    /// The priced order in Kassa's quote JSON shape (amounts in minor units).
    pub quote: Option<PricedOrder>,
    pub lines: Vec<LineView>,
    pub vat_rows: Vec<VatRowView>,
    pub net: String,
    pub vat: String,
    pub gross: String,
    pub discount: String,
    /// Whether the cart can be charged (at least one line, a positive total, no problems).
    pub chargeable: bool,
    /// Problems with the cart, with paths into it (`lines[1].discount`, `discount`).
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub name: String,
    pub sku: Option<String>,
    pub quantity: String,
    pub unit_price: String,
    pub discount: String,
    pub vat_rate: String,
    pub gross: String,
    /// The unit price and the line's own discount as plain decimals with the locale's decimal
    /// separator, to refill the line form.
    pub unit_price_input: String,
    pub line_discount_input: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VatRowView {
    pub vat_rate: String,
    pub net: String,
    pub vat: String,
    pub gross: String,
}

/// Prices a cart for the screen. An empty cart is a valid, empty view (not an error).
pub fn view(cart: &Cart, locale: &str, fallback_reference: &str) -> CounterView {
    let currency = Currency::from_code(&cart.currency);
    let fmt = |minor: i64| match currency {
        Some(c) => c.format_display(minor, locale),
        None => minor.to_string(),
    };
    let empty = CounterView {
        quote: None,
        lines: Vec::new(),
        vat_rows: Vec::new(),
        net: fmt(0),
        vat: fmt(0),
        gross: fmt(0),
        discount: fmt(cart.discount),
        chargeable: false,
        problems: Vec::new(),
    };
    if cart.lines.is_empty() {
        return empty;
    }
    if let Some(Err(reason)) = cart.reference.as_deref().map(validate_reference) {
        return CounterView {
            problems: vec![Problem {
                path: "reference".into(),
                reason,
                ..Default::default()
            }],
            ..empty
        };
    }
    let priced = parse_order(&cart_to_document(cart)).and_then(|o| price(&o, fallback_reference));
    match priced {
        Err(e) => CounterView {
            problems: e.problems(),
            ..empty
        },
        Ok(q) => CounterView {
            lines: q
                .lines
                .iter()
                .map(|l| LineView {
                    name: l.name.clone(),
                    sku: l.sku.clone(),
                    quantity: l.quantity.to_canonical(),
                    unit_price: fmt(l.unit_price),
                    discount: fmt(l.discount()),
                    vat_rate: l.vat_rate.to_percent_string(),
                    gross: fmt(l.gross),
                    unit_price_input: q.currency.format_input(l.unit_price, locale),
                    line_discount_input: q.currency.format_input(l.line_discount, locale),
                })
                .collect(),
            vat_rows: q
                .vat_summary
                .iter()
                .map(|r| VatRowView {
                    vat_rate: r.vat_rate.to_percent_string(),
                    net: fmt(r.net),
                    vat: fmt(r.vat),
                    gross: fmt(r.gross),
                })
                .collect(),
            net: fmt(q.total.net),
            vat: fmt(q.total.vat),
            gross: fmt(q.total.gross),
            discount: fmt(cart.discount),
            chargeable: q.total.gross > 0,
            problems: Vec::new(),
            quote: Some(q),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nok() -> Currency {
        Currency::from_code("NOK").unwrap()
    }

    fn entry(name: &str, qty: &str, price: &str, vat: &str, discount: &str) -> LineEntry {
        LineEntry {
            sku: String::new(),
            name: name.into(),
            quantity: qty.into(),
            unit_price: price.into(),
            vat_rate: vat.into(),
            discount: discount.into(),
        }
    }

    #[test]
    fn typed_entries_become_minor_units() {
        let line = entry_to_line(&entry("Stol", "2", "299,90", "25", "10"), nok()).unwrap();
        assert_eq!(line.unit_price, 29990);
        assert_eq!(line.discount, 1000);
        assert_eq!(line.quantity, "2");
        let line = entry_to_line(&entry("Epler", "0,350", "49.90", "15 %", ""), nok()).unwrap();
        assert_eq!(
            (line.quantity.as_str(), line.vat_rate.as_str()),
            ("0.35", "15")
        );
    }

    #[test]
    fn bad_entries_name_the_field() {
        let err = entry_to_line(&entry("", "x", "1.999", "150", "-1"), nok()).unwrap_err();
        let paths: Vec<&str> = err.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["name", "quantity", "unit_price", "discount", "vat_rate"]
        );
    }

    #[test]
    fn view_formats_every_amount() {
        let cart = Cart {
            currency: "NOK".into(),
            prices_include_vat: true,
            reference: None,
            discount: 0,
            lines: vec![entry_to_line(&entry("Stol", "1", "299.90", "25", ""), nok()).unwrap()],
        };
        let v = view(&cart, "en", "R-1");
        assert!(v.chargeable);
        assert_eq!(v.gross, "NOK\u{a0}299.90");
        assert_eq!(v.vat_rows[0].vat, "NOK\u{a0}59.98");
        let empty = view(
            &Cart {
                lines: vec![],
                ..cart
            },
            "nb",
            "R-1",
        );
        assert!(!empty.chargeable);
        assert_eq!(empty.gross, "0,00\u{a0}kr");
    }

    #[test]
    fn view_reports_cart_problems() {
        let cart = Cart {
            currency: "NOK".into(),
            prices_include_vat: true,
            reference: None,
            discount: 50_000,
            lines: vec![entry_to_line(&entry("Stol", "1", "299.90", "25", ""), nok()).unwrap()],
        };
        let v = view(&cart, "en", "R-1");
        assert!(!v.chargeable);
        assert_eq!(v.problems[0].path, "discount");
    }
}
