//! Property tests of the pricing rules over random valid orders (and of refunds of them), and
//! of the parser over random input (it must never panic).

use kassa_core::provider::OperationLine;
use kassa_core::quote::spread;
use kassa_core::refund::{left, refund_lines, taken, Basis};
use kassa_core::Quantity;
use kassa_core::{parse_order, quote_document};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Line {
    milli_qty: i64,
    unit_price: i64,
    bp: u32,
    discount_permille: i64,
}

fn line() -> impl Strategy<Value = Line> {
    (
        prop_oneof![(1i64..=20).prop_map(|q| q * 1000), 1i64..=50_000],
        0i64..=5_000_000,
        prop_oneof![
            Just(2500u32),
            Just(1500),
            Just(1200),
            Just(0),
            Just(1111),
            Just(600),
            0u32..=10_000
        ],
        prop_oneof![Just(0i64), 0i64..=1000],
    )
        .prop_map(|(milli_qty, unit_price, bp, discount_permille)| Line {
            milli_qty,
            unit_price,
            bp,
            discount_permille,
        })
}

fn decimal(units: i64, scale: u32) -> String {
    let div = 10i64.pow(scale);
    format!(
        "{}.{:0width$}",
        units / div,
        units % div,
        width = scale as usize
    )
}

/// Builds an order document with line discounts no larger than the lines, so it is valid
/// unless the total is zero. (The line amount here is computed independently of the core:
/// round half up, which equals half away from zero for non-negative values.)
fn document(currency: &str, incl: bool, lines: &[Line], order_discount_permille: i64) -> String {
    let mut subtotal: i128 = 0;
    let json_lines: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            let amount = (i128::from(l.milli_qty) * i128::from(l.unit_price) * 2 + 1000) / 2000;
            let discount = (amount * i128::from(l.discount_permille) / 1000) as i64;
            subtotal += amount - i128::from(discount);
            serde_json::json!({
                "name": "item",
                "quantity": decimal(l.milli_qty, 3),
                "unit_price": l.unit_price,
                "vat_rate": decimal(i64::from(l.bp), 2),
                "discount": discount,
            })
        })
        .collect();
    let discount = (subtotal * i128::from(order_discount_permille) / 1000) as i64;
    serde_json::json!({
        "currency": currency, "prices_include_vat": incl, "discount": discount, "lines": json_lines
    })
    .to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn totals_are_sums_of_lines_and_lines_balance(
        lines in prop::collection::vec(line(), 1..12),
        incl in any::<bool>(),
        currency in prop_oneof![Just("NOK"), Just("JPY"), Just("KWD"), Just("EUR")],
        order_discount_permille in prop_oneof![Just(0i64), 0i64..=1000],
    ) {
        let doc = document(currency, incl, &lines, order_discount_permille);
        let q = match quote_document(&doc, "P-1") {
            Ok(q) => q,
            Err(e) => {
                // The only refusal a generated order may get is a zero total.
                prop_assert!(e.to_string().contains("total is zero"), "{e}");
                return Ok(());
            }
        };
        let (mut net, mut vat, mut gross) = (0i64, 0i64, 0i64);
        for l in &q.lines {
            prop_assert_eq!(l.net + l.vat, l.gross);
            prop_assert!(l.net >= 0 && l.vat >= 0);
            // Klarna's check: the line's tax within ±1 of gross − gross×10000/(10000+bp).
            if incl {
                let bp = i128::from(l.vat_rate.basis_points());
                let g = i128::from(l.gross);
                let klarna = g - g * 10_000 / (10_000 + bp);
                prop_assert!((i128::from(l.vat) - klarna).abs() <= 1, "vat {} vs klarna {}", l.vat, klarna);
            }
            net += l.net;
            vat += l.vat;
            gross += l.gross;
        }
        prop_assert_eq!((q.total.net, q.total.vat, q.total.gross), (net, vat, gross));
        let rows = q.vat_summary.iter().fold((0, 0, 0), |a, r| (a.0 + r.net, a.1 + r.vat, a.2 + r.gross));
        prop_assert_eq!(rows, (net, vat, gross));
        prop_assert!(q.vat_summary.windows(2).all(|w| w[0].vat_rate > w[1].vat_rate));
        let order = parse_order(&doc).unwrap();
        let shares: i64 = q.lines.iter().map(|l| l.order_discount_share).sum();
        prop_assert_eq!(shares, order.discount);
    }

    #[test]
    fn discount_parts_sum_exactly(
        discount_permille in 0i64..=1000,
        amounts in prop::collection::vec(0i64..=1_000_000_000, 1..40),
    ) {
        let total: i64 = amounts.iter().sum();
        let discount = (i128::from(total) * i128::from(discount_permille) / 1000) as i64;
        let parts = spread(discount, &amounts);
        prop_assert_eq!(parts.iter().sum::<i64>(), discount);
        for (p, a) in parts.iter().zip(&amounts) {
            prop_assert!(*p >= 0 && p <= a, "part {p} of amount {a}");
        }
    }

    /// Any sequence of refunds (by amount, by lines, whole) of any order: each refund is the sum
    /// of its lines and balances per line, no line gives back more than it had, the sale never
    /// gives back more than its total, and a final whole refund brings every figure to exactly
    /// the order's total.
    #[test]
    fn refunds_sum_to_the_sale_in_any_order(
        lines in prop::collection::vec(line(), 1..8),
        incl in any::<bool>(),
        order_discount_permille in prop_oneof![Just(0i64), 0i64..=1000],
        steps in prop::collection::vec((0u8..3, 0usize..8, 1i64..=20_000, 1i64..=1_000_000), 0..8),
    ) {
        let doc = document("NOK", incl, &lines, order_discount_permille);
        let Ok(q) = quote_document(&doc, "P-1") else { return Ok(()) };
        let mut done: Vec<OperationLine> = Vec::new();
        for (kind, index, milli, amount) in steps {
            let t = taken(&q, &done).unwrap();
            let basis = match kind {
                0 => Basis::Amount(amount),
                1 => Basis::Lines(vec![(index, Quantity::from_milli(milli).unwrap())]),
                _ => Basis::Whole,
            };
            let before = left(&q, &t);
            match refund_lines(&q, &t, &basis) {
                Ok(r) => {
                    let total: i64 = r.iter().map(|l| l.gross).sum();
                    prop_assert!(total > 0 && total <= before, "{total} of {before}");
                    if let Basis::Amount(a) = basis {
                        prop_assert_eq!(total, a);
                    }
                    for l in &r {
                        prop_assert_eq!(l.net + l.vat, l.gross);
                        prop_assert!(l.gross >= 0 && l.vat >= 0 && l.net >= 0, "{l:?}");
                        let line = &q.lines[l.index];
                        prop_assert!(l.gross <= line.gross - t[l.index].gross, "{l:?}");
                    }
                    done.extend(r);
                }
                // A refusal is of too much, or of a line that does not exist.
                Err(e) => prop_assert!(
                    e.is_too_much() || index >= q.lines.len() || amount <= 0,
                    "{e}"
                ),
            }
        }
        let t = taken(&q, &done).unwrap();
        if left(&q, &t) > 0 {
            done.extend(refund_lines(&q, &t, &Basis::Whole).unwrap());
        }
        let sums = done.iter().fold((0, 0, 0), |a, l| (a.0 + l.net, a.1 + l.vat, a.2 + l.gross));
        prop_assert_eq!(sums, (q.total.net, q.total.vat, q.total.gross));
        for (i, line) in q.lines.iter().enumerate() {
            let of_line = done.iter().filter(|l| l.index == i);
            let (v, g) = of_line.fold((0, 0), |a, l| (a.0 + l.vat, a.1 + l.gross));
            prop_assert_eq!((v, g), (line.vat, line.gross), "line {}", i);
        }
    }

    #[test]
    fn the_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = quote_document(&text, "P-1");
    }

    #[test]
    fn the_parser_never_panics_on_json_shaped_input(
        tokens in prop::collection::vec(prop_oneof![
            Just("{".to_string()), Just("}".to_string()), Just("[".to_string()),
            Just("]".to_string()), Just(",".to_string()), Just(":".to_string()),
            Just("\"lines\"".to_string()), Just("\"currency\"".to_string()),
            Just("\"NOK\"".to_string()), Just("\"quantity\"".to_string()),
            Just("\"unit_price\"".to_string()), Just("\"vat_rate\"".to_string()),
            Just("\"name\"".to_string()), Just("\"discount\"".to_string()),
            Just("null".to_string()), Just("true".to_string()),
            any::<i64>().prop_map(|n| n.to_string()), "[0-9.eE+-]{1,30}",
        ], 0..60)
    ) {
        let _ = quote_document(&tokens.concat(), "P-1");
    }
}
