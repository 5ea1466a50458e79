//! Bambora / Worldline Online Checkout's wire types (the provider's own field names) and the
//! pure mapping between them and Kassa's types. No I/O here.
//!
//! Sources: NOTES-bambora-dintero-klarna.md §4 (the official plugins' models and the 2017
//! Checkout guide) and the seed `000_*` (the `/sessions` example). There is no machine-readable
//! spec; field names follow the `/sessions` examples (`order.id`, `order.amount`, `url.decline`).
//!
//! Line arithmetic (NOTES §4.4): the line **totals** come straight from Kassa's quote
//! (`totalpriceinclvat` = the line's gross, `totalpricevatamount` its VAT, `totalprice` its
//! net), so Σ totalpriceinclvat = `order.amount` and Σ totalpricevatamount = `order.vatamount`
//! hold exactly. Bambora lines have no discount field, so the unit prices are the line totals
//! divided by the quantity, rounded half away from zero: informational, within half a minor
//! unit per piece of the total. No "rounding adjustment" line is added: whether Bambora checks
//! Σ quantity × unitpriceinclvat against the amount is UNCONFIRMED (the WooCommerce plugin
//! checks it on its own side); if a real account refuses an order for it, the fix is to split
//! such a line in two (n−k pieces at u and k at u+1), here.

use crate::money::{canonical_decimal, div_round};
use crate::quote::PricedOrder;
use crate::session::Status;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `POST /sessions` (or `/checkout`) body.
#[derive(Debug, Serialize)]
pub struct CheckoutRequest<'a> {
    pub order: Order<'a>,
    pub url: Urls<'a>,
    /// The whole amount: a counter sale hands the goods over at once.
    pub instantcaptureamount: i64,
    pub paymentwindow: PaymentWindow<'a>,
}

#[derive(Debug, Serialize)]
pub struct Order<'a> {
    pub id: String,
    pub amount: i64,
    pub currency: &'a str,
    pub vatamount: i64,
    pub lines: Vec<Line>,
}

#[derive(Debug, Serialize)]
pub struct Line {
    pub id: String,
    pub linenumber: String,
    pub description: String,
    pub text: String,
    /// An exact JSON number from Kassa's decimal text (`3`, `0.35`), never a float.
    pub quantity: Box<RawValue>,
    pub unit: String,
    pub unitprice: i64,
    pub unitpriceinclvat: i64,
    pub unitpricevatamount: i64,
    pub totalprice: i64,
    pub totalpriceinclvat: i64,
    pub totalpricevatamount: i64,
    /// Percent as an exact JSON number (`25`, `12.5`).
    pub vat: Box<RawValue>,
}

#[derive(Debug, Serialize)]
pub struct Urls<'a> {
    pub accept: &'a str,
    pub decline: &'a str,
}

#[derive(Debug, Serialize)]
pub struct PaymentWindow<'a> {
    pub id: u32,
    pub language: &'a str,
}

/// `POST /paymentrequests` body (NOTES §4.8, the WooCommerce/PrestaShop models).
#[derive(Debug, Serialize)]
pub struct PaymentRequestBody<'a> {
    pub reference: String,
    pub description: String,
    pub parameters: PaymentRequestParameters<'a>,
}

#[derive(Debug, Serialize)]
pub struct PaymentRequestParameters<'a> {
    pub order: Order<'a>,
    pub instantcaptureamount: i64,
    pub paymentwindow: PaymentWindow<'a>,
}

/// The `meta` envelope of every answer (NOTES §4.5).
#[derive(Debug, Deserialize)]
pub struct Meta {
    pub result: bool,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub action: Option<Action>,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub enduser: Option<String>,
    #[serde(default)]
    pub merchant: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Action {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

/// Any answer, read for its `meta` only.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub meta: Meta,
}

/// `{meta, token, url}` of a checkout session.
#[derive(Debug, Deserialize)]
pub struct SessionCreated {
    pub token: String,
    pub url: String,
}

/// `{meta, id, url}` of a payment request.
#[derive(Debug, Deserialize)]
pub struct PaymentRequestCreated {
    pub id: String,
    pub url: String,
}

/// `GET /paymentrequests/{id}`: only `status` matters (only `"closed"` is a confirmed value).
#[derive(Debug, Deserialize)]
pub struct PaymentRequestRead {
    pub status: String,
}

/// `GET merchant…/transactions/{txnid}` (NOTES §4.8).
#[derive(Debug, Deserialize)]
pub struct TransactionRead {
    pub transaction: Transaction,
}

#[derive(Debug, Deserialize)]
pub struct Transaction {
    pub id: String,
    #[serde(default)]
    pub orderid: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    pub currency: TransactionCurrency,
    pub total: Total,
}

#[derive(Debug, Deserialize)]
pub struct TransactionCurrency {
    pub code: String,
}

#[derive(Debug, Deserialize)]
pub struct Total {
    pub authorized: i64,
    #[serde(default)]
    pub captured: i64,
    #[serde(default)]
    pub credited: i64,
    #[serde(default)]
    pub declined: i64,
}

fn raw_number(text: String) -> Box<RawValue> {
    // Kassa's canonical decimals ("1", "0.35", "12.5") are valid JSON numbers.
    RawValue::from_string(text).expect("a canonical decimal is a JSON number")
}

/// Bambora's order id: the merchant reference with everything but ASCII letters and digits
/// removed (all official plugins do so), at most 30 characters. Kassa's generated references
/// (`K20261121T182301123-7F3A`) stay unique without the dash.
pub fn order_id(reference: &str) -> String {
    reference
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(30)
        .collect()
}

/// The order with its lines, from the quote.
pub fn order(order: &PricedOrder) -> Order<'_> {
    let lines = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let q = i128::from(l.quantity.milli());
            let per_unit = |amount: i64| div_round(i128::from(amount) * 1000, q) as i64;
            let unit_gross = per_unit(l.gross);
            let unit_vat = per_unit(l.vat);
            Line {
                id: l.sku.clone().unwrap_or_else(|| format!("line{}", i + 1)),
                linenumber: (i + 1).to_string(),
                description: l.name.clone(),
                text: l.name.clone(),
                quantity: raw_number(l.quantity.to_canonical()),
                // No unit given: pieces for whole quantities; a weighed amount's unit is unknown.
                unit: l
                    .unit
                    .clone()
                    .unwrap_or_else(|| if l.quantity.is_whole() { "pcs" } else { "" }.into()),
                unitprice: unit_gross - unit_vat,
                unitpriceinclvat: unit_gross,
                unitpricevatamount: unit_vat,
                totalprice: l.net,
                totalpriceinclvat: l.gross,
                totalpricevatamount: l.vat,
                vat: raw_number(canonical_decimal(i128::from(l.vat_rate.basis_points()), 2)),
            }
        })
        .collect();
    Order {
        id: order_id(&order.reference),
        amount: order.total.gross,
        currency: order.currency.code(),
        vatamount: order.total.vat,
        lines,
    }
}

/// Maps a Merchant API transaction to a status. Paid only when Bambora reports at least the
/// order's amount authorized, in its currency, and nothing credited back.
pub fn transaction_status(t: &Transaction, gross: i64, currency: &str) -> (Status, String) {
    let detail = format!(
        "transaction {} {}authorized {} captured {} {}",
        t.id,
        t.status
            .as_deref()
            .map(|s| format!("{s}: "))
            .unwrap_or_default(),
        t.total.authorized,
        t.total.captured,
        t.currency.code
    );
    if t.total.credited > 0 {
        return (
            Status::NeedsReview,
            format!("{detail}; {} credited back", t.total.credited),
        );
    }
    if t.total.authorized >= gross && t.currency.code == currency {
        return (Status::Paid, detail);
    }
    (
        Status::NeedsReview,
        format!("{detail}: does not cover the order ({gross} {currency})"),
    )
}

/// The MD5 `hash` check of an accept URL (NOTES §4.7): MD5 over the values of the parameters
/// in the order received, `hash` left out, followed by the MD5 key; compared as hex, ignoring
/// case. `own` are the parameters the accept URL had before Bambora appended its own (the
/// shop's `return_url` may carry a query): they are not part of the hash.
pub fn hash_matches(params: &[(String, String)], own: &[(String, String)], md5_key: &str) -> bool {
    use md5::{Digest, Md5};
    let Some(expected) = params.iter().find(|(k, _)| k == "hash").map(|(_, v)| v) else {
        return false;
    };
    let mut hasher = Md5::new();
    let mut skip_own: Vec<&(String, String)> = own.iter().collect();
    for p in params {
        if p.0 == "hash" {
            continue;
        }
        if let Some(i) = skip_own.iter().position(|o| *o == p) {
            skip_own.remove(i);
            continue;
        }
        hasher.update(p.1.as_bytes());
    }
    hasher.update(md5_key.as_bytes());
    let got: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    got.eq_ignore_ascii_case(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(doc: &str) -> PricedOrder {
        crate::quote_document(doc, "K20261121T182301123-7F3A").unwrap()
    }

    #[test]
    fn lines_sum_to_the_order_and_units_are_rounded_totals() {
        let o = priced(
            r#"{"currency":"NOK","prices_include_vat":true,"discount":100,"lines":[
                {"name":"Kaffe","quantity":"3","unit_price":1999,"vat_rate":"25"},
                {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":"15"}]}"#,
        );
        let w = order(&o);
        assert_eq!(w.id, "K20261121T1823011237F3A");
        let sum: i64 = w.lines.iter().map(|l| l.totalpriceinclvat).sum();
        let vat: i64 = w.lines.iter().map(|l| l.totalpricevatamount).sum();
        assert_eq!(sum, w.amount);
        assert_eq!(vat, w.vatamount);
        for (l, p) in w.lines.iter().zip(&o.lines) {
            assert_eq!(l.totalprice + l.totalpricevatamount, l.totalpriceinclvat);
            assert_eq!(l.unitprice + l.unitpricevatamount, l.unitpriceinclvat);
            let q = i128::from(p.quantity.milli());
            let diff =
                (q * i128::from(l.unitpriceinclvat) - 1000 * i128::from(l.totalpriceinclvat)).abs();
            assert!(
                2 * diff <= q,
                "{} × {} vs {}",
                p.quantity.to_canonical(),
                l.unitpriceinclvat,
                l.totalpriceinclvat
            );
        }
        assert_eq!(w.lines[1].quantity.get(), "0.35");
        assert_eq!(w.lines[1].vat.get(), "15");
        assert_eq!(w.lines[1].unit, "kg");
    }

    #[test]
    fn the_accept_hash_is_md5_of_the_values_in_order_plus_the_key() {
        let p = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        // md5("70000000001" + "K1" + "9500" + "578" + "secretkey")
        use md5::{Digest, Md5};
        let h: String = Md5::digest(b"70000000001K19500578secretkey")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let good = p(&[
            ("txnid", "70000000001"),
            ("orderid", "K1"),
            ("amount", "9500"),
            ("currency", "578"),
            ("hash", &h),
        ]);
        assert!(hash_matches(&good, &[], "secretkey"));
        assert!(!hash_matches(&good, &[], "otherkey"));
        // Upper-case hex is the same hash.
        let upper = p(&[
            ("txnid", "70000000001"),
            ("orderid", "K1"),
            ("amount", "9500"),
            ("currency", "578"),
            ("hash", &h.to_uppercase()),
        ]);
        assert!(hash_matches(&upper, &[], "secretkey"));
        // A changed amount, a reordered pair, or no hash at all: refused.
        let forged = p(&[
            ("txnid", "70000000001"),
            ("orderid", "K1"),
            ("amount", "1"),
            ("currency", "578"),
            ("hash", &h),
        ]);
        assert!(!hash_matches(&forged, &[], "secretkey"));
        let reordered = p(&[
            ("orderid", "K1"),
            ("txnid", "70000000001"),
            ("amount", "9500"),
            ("currency", "578"),
            ("hash", &h),
        ]);
        assert!(!hash_matches(&reordered, &[], "secretkey"));
        assert!(!hash_matches(&good[..4], &[], "secretkey"));
        // The shop's own return-URL parameters are not part of the hash.
        let mut with_own = p(&[("shop", "1")]);
        with_own.extend(good.clone());
        assert!(hash_matches(&with_own, &p(&[("shop", "1")]), "secretkey"));
        assert!(!hash_matches(&with_own, &[], "secretkey"));
    }

    #[test]
    fn only_a_covering_authorization_is_paid() {
        let t = |authorized, credited, code: &str| Transaction {
            id: "7".into(),
            orderid: None,
            status: None,
            currency: TransactionCurrency { code: code.into() },
            total: Total {
                authorized,
                captured: 0,
                credited,
                declined: 0,
            },
        };
        assert_eq!(
            transaction_status(&t(9500, 0, "NOK"), 9500, "NOK").0,
            Status::Paid
        );
        assert_eq!(
            transaction_status(&t(9499, 0, "NOK"), 9500, "NOK").0,
            Status::NeedsReview
        );
        assert_eq!(
            transaction_status(&t(9500, 0, "SEK"), 9500, "NOK").0,
            Status::NeedsReview
        );
        assert_eq!(
            transaction_status(&t(9500, 100, "NOK"), 9500, "NOK").0,
            Status::NeedsReview
        );
        assert_eq!(
            transaction_status(&t(0, 0, "NOK"), 9500, "NOK").0,
            Status::NeedsReview
        );
    }
}
