//! Random valid order documents for the property tests that charge (and refund) through the
//! emulators (`provider_properties.rs`, `bambora_after_sale.rs`): whole and weighed
//! quantities, any VAT rate, line and order discounts, prices with or without VAT, NOK, SEK or
//! EUR, and a SKU per VAT rate (`vat-<bp>`: the Commerce Layer accounts tax each SKU at it).

use proptest::prelude::*;

/// A random valid order document: whole and weighed quantities, any VAT rate, line and order
/// discounts, prices with or without VAT.
pub(crate) fn order() -> impl Strategy<Value = String> {
    let line = (
        prop_oneof![(1i64..=12).prop_map(|q| q * 1000), 1i64..=20_000],
        1i64..=2_000_000,
        prop_oneof![
            Just(2500u32),
            Just(1500),
            Just(1200),
            Just(0),
            0u32..=10_000
        ],
        0i64..=900,
    );
    (
        proptest::collection::vec(line, 1..6),
        any::<bool>(),
        0i64..=500,
        prop_oneof![Just("NOK"), Just("SEK"), Just("EUR")],
    )
        .prop_map(|(lines, incl, order_permille, currency)| {
            let mut subtotal = 0i128;
            let lines: Vec<serde_json::Value> = lines
                .iter()
                .enumerate()
                .map(|(i, &(milli, price, bp, permille))| {
                    let amount = (i128::from(milli) * i128::from(price) + 500) / 1000;
                    let discount = (amount * i128::from(permille) / 1000) as i64;
                    subtotal += amount - i128::from(discount);
                    serde_json::json!({
                        "sku": format!("vat-{bp}"),
                        "name": format!("Item {i}"),
                        "unit": if milli % 1000 == 0 { "pcs" } else { "kg" },
                        "quantity": format!("{}.{:03}", milli / 1000, milli % 1000),
                        "unit_price": price,
                        "vat_rate": format!("{}.{:02}", bp / 100, bp % 100),
                        "discount": discount,
                    })
                })
                .collect();
            serde_json::json!({
                "currency": currency,
                "prices_include_vat": incl,
                "discount": (subtotal * i128::from(order_permille) / 1000) as i64,
                "lines": lines,
            })
            .to_string()
        })
}
