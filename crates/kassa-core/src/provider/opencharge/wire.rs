//! Opencharge's JSON (the payment and merchant gateway OpenAPI files, NOTES §B5, §B8, §B9,
//! §B12) and the mapping from a priced order. Field order follows the spec's examples (the
//! request body keeps it; only the order *signature* sorts keys).

use crate::money::Currency;
use crate::provider::common::integer_line;
use crate::quote::PricedOrder;
use serde::{Deserialize, Serialize};

/// The order Kassa signs (schema `Order`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub ocid: u64,
    pub reference: String,
    pub amount: String,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Item>>,
    pub memo: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepts: Vec<u64>,
}

/// Schema `OrderItem`: `price` is the unit price (the seed's example: 2 × "5.00" + 1 × "5.00"
/// makes "15.00", §B12); `quantity` an integer (the schema says number: no floats in signed JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub quantity: i64,
    pub price: String,
}

/// Decimal digits of Opencharge amounts: two (what every example uses, even for zero-decimal
/// UGX), three for the three-decimal currencies. UNCONFIRMED (NOTES §B12, §E14): agree the
/// format with each gateway; this function is the one place to change it.
pub fn amount_digits(currency: &Currency) -> u32 {
    u32::from(currency.digits()).max(2)
}

/// Minor units as an Opencharge decimal string (`29990` NOK → `"299.90"`, `1000` ISK →
/// `"1000.00"`).
pub fn amount(minor: i64, currency: &Currency) -> String {
    let digits = amount_digits(currency);
    let extra = digits - u32::from(currency.digits());
    let units = i128::from(minor) * 10i128.pow(extra);
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs().to_string();
    let width = digits as usize + 1;
    let padded = format!("{abs:0>width$}");
    let (int, frac) = padded.split_at(padded.len() - digits as usize);
    format!("{sign}{int}.{frac}")
}

/// The signed order of a priced order. Times are the gateway's (corrected) Unix seconds.
pub fn order(
    id: &str,
    o: &PricedOrder,
    merchant: u64,
    gateway: u64,
    with_items: bool,
    created_at: i64,
    expires_at: i64,
) -> Result<Order, String> {
    let c = &o.currency;
    let items = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (quantity, unit, name) = integer_line(l, l.gross);
            Item {
                id: (i + 1).to_string(),
                name: name.chars().take(200).collect(),
                quantity,
                price: amount(unit, c),
            }
        })
        .collect::<Vec<_>>();
    if o.total.gross <= 0 {
        return Err("an Opencharge order needs a positive amount".into());
    }
    Ok(Order {
        id: id.to_string(),
        ocid: merchant,
        reference: o.reference.clone(),
        amount: amount(o.total.gross, c),
        currency: c.code().to_string(),
        items: with_items.then_some(items),
        memo: memo(o),
        created_at,
        expires_at,
        accepts: vec![gateway],
    })
}

/// VAT has no field in Opencharge (§B12): the memo names it, per rate.
pub fn memo(o: &PricedOrder) -> String {
    let rates = o
        .vat_summary
        .iter()
        .map(|r| {
            format!(
                "{} % {}",
                r.vat_rate.to_percent_string(),
                o.currency.format_plain(r.vat)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} incl. VAT {} {} ({rates})",
        o.reference,
        o.currency.format_plain(o.total.vat),
        o.currency.code()
    )
}

/// `POST /checkout/create` (schema `CheckoutCreateRequest`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutCreate<'a> {
    pub order: &'a Order,
    pub signature: &'a str,
    pub merchant_ocid: u64,
    pub urls: PgUrls<'a>,
}

#[derive(Debug, Serialize)]
pub struct PgUrls<'a> {
    pub success: &'a str,
    pub cancel: &'a str,
}

/// `POST /orders/checkout` (schema `OrderCheckoutRequest`): no `merchantOcid`.
#[derive(Debug, Serialize)]
pub struct OrdersCheckout<'a> {
    pub order: &'a Order,
    pub signature: &'a str,
    pub urls: MgUrls<'a>,
}

#[derive(Debug, Serialize)]
pub struct MgUrls<'a> {
    pub completed: &'a str,
    pub cancelled: &'a str,
}

/// Schema `CheckoutCreateResponse`.
#[derive(Debug, Deserialize)]
pub struct CheckoutCreated {
    pub checkout_url: String,
    pub session_id: String,
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// Schema `OrderCheckoutResponse`.
#[derive(Debug, Deserialize)]
pub struct OrdersCheckedOut {
    pub redirect_url: String,
}

/// Schema `Error`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::parse_order;
    use crate::provider::opencharge::sign::canonical_json;
    use crate::quote::price;

    fn priced(json: &str) -> PricedOrder {
        price(&parse_order(json).unwrap(), "R-1").unwrap()
    }

    #[test]
    fn amounts_have_two_or_three_decimals() {
        let c = |s| Currency::from_code(s).unwrap();
        assert_eq!(amount(29990, &c("NOK")), "299.90");
        assert_eq!(amount(5, &c("EUR")), "0.05");
        assert_eq!(amount(1000, &c("ISK")), "1000.00");
        assert_eq!(amount(1234, &c("KWD")), "1.234");
    }

    #[test]
    fn items_multiply_to_the_amount_and_the_order_has_no_floats() {
        let o = priced(
            r#"{"currency":"NOK","prices_include_vat":true,"lines":[
              {"name":"Kaffe","quantity":"3","unit_price":3333,"vat_rate":"15"},
              {"name":"Bolle","quantity":"2","unit_price":2500,"vat_rate":"15"},
              {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":19900,"vat_rate":"15","discount":100}]}"#,
        );
        let ord = order("ks_1", &o, 500, 100, true, 1_700_000_000, 1_700_000_900).unwrap();
        let items = ord.items.as_ref().unwrap();
        let cents = |s: &str| s.replace('.', "").parse::<i64>().unwrap();
        let sum: i64 = items.iter().map(|i| i.quantity * cents(&i.price)).sum();
        assert_eq!(sum, cents(&ord.amount));
        assert_eq!(cents(&ord.amount), o.total.gross);
        assert_eq!((items[0].quantity, items[0].price.as_str()), (3, "33.33"));
        assert_eq!((items[1].quantity, items[1].price.as_str()), (2, "25.00"));
        assert_eq!(items[2].quantity, 1);
        assert_eq!(items[2].name, "Ost 0.35 kg");
        assert_eq!(ord.accepts, vec![100]);
        assert!(ord.memo.contains("incl. VAT"), "{}", ord.memo);
        canonical_json(&serde_json::to_value(&ord).unwrap()).unwrap();
        let without = order("ks_1", &o, 500, 100, false, 1, 2).unwrap();
        assert!(!serde_json::to_string(&without).unwrap().contains("items"));
    }

    #[test]
    fn the_body_keeps_the_spec_field_order() {
        let o = priced(
            r#"{"currency":"USD","prices_include_vat":true,"lines":[{"name":"A","quantity":"1","unit_price":9999,"vat_rate":"0"}]}"#,
        );
        let ord = order("ord_abc123", &o, 500, 100, false, 1706313600, 1706400000).unwrap();
        let body = serde_json::to_string(&CheckoutCreate {
            order: &ord,
            signature: "s",
            merchant_ocid: 500,
            urls: PgUrls {
                success: "https://m.example/ok",
                cancel: "https://m.example/no",
            },
        })
        .unwrap();
        assert!(
            body.starts_with(r#"{"order":{"id":"ord_abc123","ocid":500,"reference":"R-1","amount":"99.99","currency":"USD","memo":"#),
            "{body}"
        );
        assert!(body.ends_with(r#""createdAt":1706313600,"expiresAt":1706400000,"accepts":[100]},"signature":"s","merchantOcid":500,"urls":{"success":"https://m.example/ok","cancel":"https://m.example/no"}}"#), "{body}");
    }
}
