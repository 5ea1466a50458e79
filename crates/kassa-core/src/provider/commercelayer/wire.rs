//! Commerce Layer's JSON:API documents (resource metadata schema v7.9.16, NOTES Part A) and the
//! pure mapping from Kassa's quote and to Kassa's statuses and payment states.

use crate::money::Currency;
use crate::provider::common::integer_line;
use crate::provider::operation::{OperationKind, PaymentState, ProviderOperation, ProviderOutcome};
use crate::quote::{PricedLine, PricedOrder};
use crate::session::Status;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A JSON:API document with one resource.
#[derive(Debug, Deserialize)]
pub struct Doc {
    pub data: Resource,
    #[serde(default)]
    pub included: Vec<Resource>,
}

/// A JSON:API document with a list.
#[derive(Debug, Deserialize)]
pub struct ListDoc {
    pub data: Vec<Resource>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl Resource {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Value::as_str)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.attributes.get(name).and_then(Value::as_i64)
    }
}

/// JSON:API error document (NOTES §A13).
#[derive(Debug, Deserialize)]
pub struct ErrorDoc {
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorItem {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub source: Option<ErrorSource>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorSource {
    #[serde(default)]
    pub pointer: Option<String>,
}

impl ErrorDoc {
    /// The first code and every error as `CODE: detail (pointer)`, joined.
    pub fn summary(&self) -> (Option<String>, String) {
        let code = self.errors.iter().find_map(|e| e.code.clone());
        let text = self
            .errors
            .iter()
            .map(|e| {
                let what = e
                    .detail
                    .as_deref()
                    .or(e.title.as_deref())
                    .unwrap_or("no detail");
                let at = e
                    .source
                    .as_ref()
                    .and_then(|s| s.pointer.as_deref())
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                match &e.code {
                    Some(c) => format!("{c}: {what}{at}"),
                    None => format!("{what}{at}"),
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        (code, text)
    }
}

/// `POST /api/orders`: market, reference, language, expiry, and Kassa's return URLs (the hosted
/// checkout's thank-you and back-to-cart links).
pub fn order_create(
    market_id: &str,
    reference: &str,
    language: &str,
    expires_at: &str,
    return_url: &str,
    cart_url: &str,
) -> Value {
    json!({"data": {
        "type": "orders",
        "attributes": {
            "reference": reference,
            "reference_origin": "kassa",
            "language_code": language,
            "expires_at": expires_at,
            "return_url": return_url,
            "cart_url": cart_url,
        },
        "relationships": {"market": {"data": {"type": "markets", "id": market_id}}},
    }})
}

/// The amount a line is priced at in Commerce Layer: gross when the price list includes tax
/// (the shop's prices include VAT), else net (Commerce Layer adds the tax).
pub fn line_amount(line: &PricedLine, prices_include_vat: bool) -> i64 {
    if prices_include_vat {
        line.gross
    } else {
        line.net
    }
}

/// `POST /api/line_items` for one Kassa line: the SKU when it has one (its tax category decides
/// the rate), always with Kassa's price (`unit_amount_cents` + `_external_price`, which needs
/// the integration token, NOTES §A6), whole quantities as `common::integer_line` makes them.
pub fn line_item(
    order_id: &str,
    index: usize,
    line: &PricedLine,
    prices_include_vat: bool,
) -> Value {
    let (quantity, unit, name) = integer_line(line, line_amount(line, prices_include_vat));
    let mut attributes = json!({
        "quantity": quantity,
        "name": name.chars().take(255).collect::<String>(),
        "unit_amount_cents": unit,
        "_external_price": true,
        "reference": format!("line-{}", index + 1),
        "reference_origin": "kassa",
    });
    if let Some(sku) = &line.sku {
        attributes["sku_code"] = json!(sku);
    }
    json!({"data": {
        "type": "line_items",
        "attributes": attributes,
        "relationships": {"order": {"data": {"type": "orders", "id": order_id}}},
    }})
}

/// `PATCH /api/orders/{id}`: the shop's address as billing and shipping address (so the tax
/// calculator runs, NOTES §A7) and the checkout.com payment method.
pub fn order_prepare(order_id: &str, address_id: &str, payment_method_id: &str) -> Value {
    json!({"data": {
        "type": "orders",
        "id": order_id,
        "attributes": {
            "_billing_address_clone_id": address_id,
            "_shipping_address_clone_id": address_id,
        },
        "relationships": {"payment_method": {"data": {"type": "payment_methods", "id": payment_method_id}}},
    }})
}

/// `POST /api/checkout_com_payments` with the current schema (NOTES §A10.1): `success_url`,
/// `failure_url` and the order; no `payment_type`, no `session_id` (removed in 2025).
pub fn checkout_com_payment(order_id: &str, success_url: &str, failure_url: &str) -> Value {
    json!({"data": {
        "type": "checkout_com_payments",
        "attributes": {"success_url": success_url, "failure_url": failure_url},
        "relationships": {"order": {"data": {"type": "orders", "id": order_id}}},
    }})
}

/// `POST /api/links` to the order (NOTES §A11.2): the sales channel fetches its own token when
/// the link is opened, so the URL carries none.
pub fn link(
    order_id: &str,
    reference: &str,
    sales_channel_client_id: &str,
    market_id: &str,
    expires_at: &str,
) -> Value {
    json!({"data": {
        "type": "links",
        "attributes": {
            "name": format!("Kassa {reference}"),
            "client_id": sales_channel_client_id,
            "scope": format!("market:id:{market_id}"),
            "expires_at": expires_at,
        },
        "relationships": {"item": {"data": {"type": "orders", "id": order_id}}},
    }})
}

/// A trigger-attribute PATCH (`_disable`, `_cancel`, `_void`, `_approve_and_capture`).
pub fn trigger(kind: &str, id: &str, trigger: &str) -> Value {
    json!({"data": {"type": kind, "id": id, "attributes": {trigger: true}}})
}

/// A trigger with its amount: an authorization's `_capture` + `_capture_amount_cents`, a
/// capture's `_refund` + `_refund_amount_cents`. The amount is always sent, also for the whole
/// balance, so that what Commerce Layer does is what Kassa recorded before sending.
pub fn trigger_amount(kind: &str, id: &str, trigger: &str, amount: i64) -> Value {
    json!({"data": {"type": kind, "id": id, "attributes": {
        trigger: true,
        format!("{trigger}_amount_cents"): amount,
    }}})
}

/// `PATCH /api/orders/{id}` `expires_at`: an unplaced order whose deadline has passed can no
/// longer be placed (the way to stop one, notes §4.3).
pub fn expire(order_id: &str, at: &str) -> Value {
    json!({"data": {"type": "orders", "id": order_id, "attributes": {"expires_at": at}}})
}

/// Tags a transaction with Kassa's operation id (a transaction takes no reference when a
/// trigger makes it; `reference` is updatable afterwards).
pub fn tag(kind: &str, id: &str, operation_id: &str) -> Value {
    json!({"data": {"type": kind, "id": id, "attributes": {
        "reference": operation_id,
        "reference_origin": REFERENCE_ORIGIN,
    }}})
}

/// The `reference_origin` of what Kassa made or tagged.
pub const REFERENCE_ORIGIN: &str = "kassa";

/// The `include` and sparse fields of an order read for its payment: the transactions and
/// what Kassa needs of each.
pub const PAYMENT_FIELDS: &str = "include=authorizations,captures,voids,refunds\
    &fields[orders]=number,status,payment_status,total_amount_with_taxes_cents,currency_code\
    &fields[authorizations]=amount_cents,succeeded,capture_balance_cents,void_balance_cents,created_at\
    &fields[captures]=amount_cents,succeeded,refund_balance_cents,message,error_code,error_detail,reference,reference_origin,created_at\
    &fields[voids]=amount_cents,succeeded,message,error_code,error_detail,reference,reference_origin,created_at\
    &fields[refunds]=amount_cents,succeeded,message,error_code,error_detail,reference,reference_origin,created_at";

/// One payment transaction as Commerce Layer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: String,
    /// `authorizations`, `captures`, `voids` or `refunds`.
    pub kind: String,
    pub amount: i64,
    /// Only a succeeded transaction moved money (a gateway failure is a 200 with
    /// `succeeded: false`).
    pub succeeded: bool,
    /// Authorizations: what can still be captured / voided; captures: still be refunded.
    pub balance: i64,
    pub void_balance: i64,
    /// Kassa's operation id, when Kassa tagged it (`reference_origin: kassa`).
    pub reference: Option<String>,
    /// The gateway's words: `message`, `error_code`, `error_detail`.
    pub message: String,
    pub error_code: Option<String>,
    pub created_at: Option<i64>,
}

impl Transaction {
    fn of(r: &Resource) -> Option<Transaction> {
        if !matches!(
            r.kind.as_str(),
            "authorizations" | "captures" | "voids" | "refunds"
        ) {
            return None;
        }
        let balance = match r.kind.as_str() {
            "authorizations" => r.int("capture_balance_cents"),
            "captures" => r.int("refund_balance_cents"),
            _ => None,
        };
        let reference = r
            .str("reference")
            .filter(|_| r.str("reference_origin") == Some(REFERENCE_ORIGIN));
        let message = [r.str("message"), r.str("error_detail")]
            .into_iter()
            .flatten()
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>();
        let mut said = Vec::new();
        for m in message {
            if !said.contains(&m) {
                said.push(m);
            }
        }
        Some(Transaction {
            id: r.id.clone(),
            kind: r.kind.clone(),
            amount: r.int("amount_cents")?,
            succeeded: r.attributes.get("succeeded").and_then(Value::as_bool)?,
            balance: balance.unwrap_or(0),
            void_balance: r.int("void_balance_cents").unwrap_or(0),
            reference: reference.map(str::to_string),
            message: said.join(": "),
            error_code: r.str("error_code").map(str::to_string),
            created_at: r
                .str("created_at")
                .and_then(|t| crate::time::parse_utc(t).ok()),
        })
    }

    fn operation_kind(&self) -> Option<OperationKind> {
        match self.kind.as_str() {
            "captures" => Some(OperationKind::Capture),
            "voids" => Some(OperationKind::Void),
            "refunds" => Some(OperationKind::Refund),
            _ => None,
        }
    }
}

/// An order's transactions, oldest first (as Commerce Layer lists them; `created_at` orders
/// them where it is given).
pub fn transactions(doc: &Doc) -> Vec<Transaction> {
    let mut list: Vec<Transaction> = doc.included.iter().filter_map(Transaction::of).collect();
    list.sort_by_key(|t| t.created_at.unwrap_or(i64::MAX));
    list
}

/// The transaction of `kind` in `doc` that is not among `before` (the ids read just before a
/// trigger): what the trigger made.
pub fn made_by_trigger(doc: &Doc, kind: &str, before: &[String]) -> Option<Transaction> {
    transactions(doc)
        .into_iter()
        .rev()
        .find(|t| t.kind == kind && !before.contains(&t.id))
}

/// The authorization the payment's captures and voids draw on: the newest succeeded one.
pub fn authorization(list: &[Transaction]) -> Option<&Transaction> {
    list.iter()
        .rev()
        .find(|t| t.kind == "authorizations" && t.succeeded)
}

/// The capture a refund of `amount` goes to: the newest succeeded one whose balance covers it
/// (Commerce Layer refunds "the most recent successful capture" by default, CL-RETDOC), else
/// the one with the most left to refund; `None` when nothing succeeded was captured.
pub fn capture_for_refund(list: &[Transaction], amount: i64) -> Option<&Transaction> {
    let captures = || list.iter().filter(|t| t.kind == "captures" && t.succeeded);
    captures()
        .rev()
        .find(|t| t.balance >= amount)
        .or_else(|| captures().max_by_key(|t| t.balance))
}

/// `299.90 NOK` (minor units when the currency is unknown).
pub fn money(minor: i64, currency: &str) -> String {
    match Currency::from_code(currency) {
        Some(c) => format!("{} {currency}", c.format_plain(minor)),
        None => format!("{minor} (minor units) {currency}"),
    }
}

/// How long a checkout.com card authorization is assumed to hold: Commerce Layer does not
/// document it (UNCONFIRMED, notes §4.7); card practice is 7 days.
const AUTHORIZATION_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

/// The payment state of an order read with [`PAYMENT_FIELDS`]: amounts from the succeeded
/// transactions only. `Err` for amounts no payment can have (negative, or beyond what minor
/// units hold).
pub fn payment_state(doc: &Doc, currency: &str) -> Result<PaymentState, String> {
    let list = transactions(doc);
    if let Some(t) = list.iter().find(|t| t.amount < 0) {
        return Err(format!("{} {} has a negative amount", t.kind, t.id));
    }
    let sum = |kind: &str| -> Result<i64, String> {
        list.iter()
            .filter(|t| t.kind == kind && t.succeeded)
            .try_fold(0i64, |acc, t| acc.checked_add(t.amount))
            .ok_or_else(|| format!("the amounts of the order's {kind} overflow"))
    };
    let (authorized, captured, refunded) =
        (sum("authorizations")?, sum("captures")?, sum("refunds")?);
    let voided = list.iter().any(|t| t.kind == "voids" && t.succeeded);
    let open = authorization(&list).filter(|a| a.balance > 0 && !voided);
    let o = &doc.data;
    let mut detail = format!(
        "Commerce Layer order {}: order {}, payment {}; authorized {}, captured {}, refunded {}",
        o.str("number").unwrap_or(&o.id),
        o.str("status").unwrap_or("(none)"),
        o.str("payment_status").unwrap_or("(none)"),
        money(authorized, currency),
        money(captured, currency),
        money(refunded, currency),
    );
    if voided {
        detail.push_str(", authorization voided");
    }
    let failed = list
        .iter()
        .filter(|t| !t.succeeded && t.kind != "authorizations")
        .count();
    if failed > 0 {
        detail.push_str(&format!(", {failed} declined by the gateway"));
    }
    Ok(PaymentState {
        authorized,
        captured,
        refunded,
        voided,
        authorization_expires_at: open
            .and_then(|a| a.created_at)
            .and_then(|t| t.checked_add(AUTHORIZATION_LIFETIME_MS)),
        operations: list
            .iter()
            .filter_map(|t| {
                Some(ProviderOperation {
                    kind: t.operation_kind()?,
                    provider_id: Some(t.id.clone()),
                    amount: t.amount,
                    reference: t.reference.clone(),
                    outcome: if t.succeeded {
                        ProviderOutcome::Succeeded
                    } else {
                        ProviderOutcome::Failed
                    },
                })
            })
            .collect(),
        detail,
    })
}

/// Compares Commerce Layer's totals with Kassa's quote. `Err` says what differs, with both
/// figures and the lines whose tax differs.
pub fn compare(order: &Doc, quote: &PricedOrder) -> Result<(), String> {
    let o = &order.data;
    let c = &quote.currency;
    let money = |m: i64| format!("{} {}", c.format_plain(m), c.code());
    let mut diffs = Vec::new();
    if o.str("currency_code") != Some(c.code()) {
        diffs.push(format!(
            "currency {} (Kassa {})",
            o.str("currency_code").unwrap_or("none"),
            c.code()
        ));
    }
    let total = o.int("total_amount_with_taxes_cents");
    if total != Some(quote.total.gross) {
        diffs.push(format!(
            "total {} (Kassa {})",
            total.map_or("missing".into(), money),
            money(quote.total.gross)
        ));
    }
    let tax = o.int("total_tax_amount_cents");
    if tax != Some(quote.total.vat) {
        diffs.push(format!(
            "tax {} (Kassa VAT {})",
            tax.map_or("missing".into(), money),
            money(quote.total.vat)
        ));
    }
    if diffs.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = order
        .included
        .iter()
        .filter(|r| r.kind == "line_items")
        .filter_map(|r| {
            let n: usize = r.str("reference")?.strip_prefix("line-")?.parse().ok()?;
            let l = quote.lines.get(n.checked_sub(1)?)?;
            let tax = r.int("tax_amount_cents")?;
            (tax != l.vat).then(|| {
                format!(
                    "{:?}: tax {} (Kassa {} % VAT {})",
                    l.name,
                    money(tax),
                    l.vat_rate.to_percent_string(),
                    money(l.vat)
                )
            })
        })
        .collect();
    let mut text = format!(
        "Commerce Layer's order {} has {}",
        o.str("number").unwrap_or(&o.id),
        diffs.join(", ")
    );
    if !lines.is_empty() {
        text.push_str(&format!("; lines: {}", lines.join(", ")));
    }
    text.push_str(
        ". Kassa shows no payment link for an amount the cashier did not see: check the \
         market's tax calculator (one rate per tax category) and whether its price list \
         includes tax (shop.prices_include_vat)",
    );
    Err(text)
}

/// What the order's `status` and `payment_status` mean for the sale (NOTES §A12). `gross`: the
/// sale's amount; a payment for another amount needs review.
pub fn order_status(
    status: &str,
    payment: &str,
    total: Option<i64>,
    currency: Option<&str>,
    gross: i64,
    sale_currency: &str,
    expired: bool,
) -> (Status, String) {
    let said = format!("order {status}, payment {payment}");
    let amount_ok = total == Some(gross) && currency == Some(sale_currency);
    match (status, payment) {
        ("cancelled", _) => (Status::Cancelled, said),
        // Authorized for the whole amount; `partially_paid`: part of it captured since.
        ("placed" | "approved", "authorized" | "paid" | "partially_paid" | "partially_refunded")
            if amount_ok =>
        {
            (Status::Paid, said)
        }
        ("placed" | "approved", "authorized" | "paid" | "partially_paid" | "partially_refunded") => (
            Status::NeedsReview,
            format!(
                "{said}, but for {} {} instead of the sale's amount: check the order in Commerce Layer",
                total.map_or("?".into(), |t| t.to_string()),
                currency.unwrap_or("?")
            ),
        ),
        ("placed" | "approved", "voided" | "refunded") => (Status::Cancelled, said),
        ("placed" | "approved", _) => (
            Status::NeedsReview,
            format!("{said}: not a full payment Kassa can accept; check the order in Commerce Layer"),
        ),
        ("draft" | "pending", _) if expired => (
            Status::Expired,
            format!("{said}; the order expired unpaid"),
        ),
        ("draft" | "pending" | "placing" | "editing", _) => (Status::Open, said),
        _ => (
            Status::NeedsReview,
            format!("{said}: a status Kassa does not know; check the order in Commerce Layer"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::parse_order;
    use crate::quote::price;

    fn quote() -> PricedOrder {
        price(
            &parse_order(
                r#"{"currency":"NOK","prices_include_vat":true,"lines":[
                  {"name":"Kaffe","sku":"COFFEE","quantity":"2","unit_price":3500,"vat_rate":"25"},
                  {"name":"Bolle","quantity":"3","unit_price":1000,"vat_rate":"15","discount":100}]}"#,
            )
            .unwrap(),
            "R-1",
        )
        .unwrap()
    }

    #[test]
    fn line_items_carry_kassas_price_in_whole_quantities() {
        let q = quote();
        let a = line_item("ord1", 0, &q.lines[0], true);
        assert_eq!(a["data"]["attributes"]["sku_code"], "COFFEE");
        assert_eq!(a["data"]["attributes"]["quantity"], 2);
        assert_eq!(a["data"]["attributes"]["unit_amount_cents"], 3500);
        assert_eq!(a["data"]["attributes"]["_external_price"], true);
        assert_eq!(a["data"]["relationships"]["order"]["data"]["id"], "ord1");
        // 3 × 10.00 − 1.00 = 29.00 does not divide by 3: one line at 29.00.
        let b = line_item("ord1", 1, &q.lines[1], true);
        assert_eq!(b["data"]["attributes"]["quantity"], 1);
        assert_eq!(b["data"]["attributes"]["unit_amount_cents"], 2900);
        assert_eq!(b["data"]["attributes"]["name"], "3 × Bolle");
        assert!(b["data"]["attributes"].get("sku_code").is_none());
        assert_eq!(b["data"]["attributes"]["reference"], "line-2");
        // Net prices when the price list excludes tax.
        let n = line_item("ord1", 0, &q.lines[0], false);
        assert_eq!(
            n["data"]["attributes"]["unit_amount_cents"],
            q.lines[0].net / 2
        );
    }

    #[test]
    fn the_payment_source_uses_the_current_schema() {
        let p = checkout_com_payment("ord1", "https://k/ok", "https://k/fail");
        let attrs = p["data"]["attributes"].as_object().unwrap();
        assert_eq!(
            attrs.keys().collect::<Vec<_>>(),
            vec!["failure_url", "success_url"]
        );
        assert_eq!(p["data"]["type"], "checkout_com_payments");
    }

    fn doc(total: i64, tax: i64, line_tax: i64) -> Doc {
        serde_json::from_value(json!({
            "data": {"id": "ord1", "type": "orders", "attributes": {
                "number": "1234", "currency_code": "NOK",
                "total_amount_with_taxes_cents": total, "total_tax_amount_cents": tax}},
            "included": [
                {"id": "l1", "type": "line_items", "attributes": {"reference": "line-1", "tax_amount_cents": 1400}},
                {"id": "l2", "type": "line_items", "attributes": {"reference": "line-2", "tax_amount_cents": line_tax}}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn totals_and_tax_are_compared_with_the_quote() {
        let q = quote();
        assert_eq!((q.total.gross, q.total.vat), (9900, 1778));
        assert_eq!(compare(&doc(9900, 1778, 378), &q), Ok(()));
        // Commerce Layer taxed the 15 % line at 25 %: 2900 × 25/125 = 580.
        let e = compare(&doc(9900, 1980, 580), &q).unwrap_err();
        assert!(e.contains("tax 19.80 NOK (Kassa VAT 17.78 NOK)"), "{e}");
        assert!(
            e.contains("\"Bolle\": tax 5.80 NOK (Kassa 15 % VAT 3.78 NOK)"),
            "{e}"
        );
        assert!(!e.contains("Kaffe"), "{e}");
        let e = compare(&doc(12375, 2475, 378), &q).unwrap_err();
        assert!(e.contains("total 123.75 NOK (Kassa 99.00 NOK)"), "{e}");
    }

    #[test]
    fn statuses_map_every_documented_value() {
        let s = |st, pay, total| order_status(st, pay, total, Some("NOK"), 9900, "NOK", false).0;
        assert_eq!(s("placed", "authorized", Some(9900)), Status::Paid);
        assert_eq!(s("approved", "paid", Some(9900)), Status::Paid);
        // Auto-capture leaves the order placed; a part captured in manual is partly paid.
        assert_eq!(s("placed", "paid", Some(9900)), Status::Paid);
        assert_eq!(s("placed", "partially_paid", Some(9900)), Status::Paid);
        assert_eq!(s("placed", "authorized", Some(9800)), Status::NeedsReview);
        assert_eq!(
            s("placed", "partially_authorized", Some(9900)),
            Status::NeedsReview
        );
        assert_eq!(s("placed", "free", Some(9900)), Status::NeedsReview);
        assert_eq!(s("placed", "unpaid", Some(9900)), Status::NeedsReview);
        assert_eq!(s("cancelled", "voided", Some(9900)), Status::Cancelled);
        assert_eq!(s("cancelled", "refunded", Some(9900)), Status::Cancelled);
        assert_eq!(s("approved", "refunded", Some(9900)), Status::Cancelled);
        for open in ["draft", "pending", "placing", "editing"] {
            assert_eq!(s(open, "unpaid", Some(9900)), Status::Open);
        }
        assert_eq!(
            order_status(
                "pending",
                "unpaid",
                Some(9900),
                Some("NOK"),
                9900,
                "NOK",
                true
            )
            .0,
            Status::Expired
        );
        assert_eq!(
            order_status(
                "placing",
                "unpaid",
                Some(9900),
                Some("NOK"),
                9900,
                "NOK",
                true
            )
            .0,
            Status::Open
        );
        assert_eq!(s("archived", "unpaid", Some(9900)), Status::NeedsReview);
        assert_eq!(
            order_status(
                "placed",
                "authorized",
                Some(9900),
                Some("SEK"),
                9900,
                "NOK",
                false
            )
            .0,
            Status::NeedsReview
        );
    }

    fn tx(ty: &str, id: &str, amount: i64, ok: bool, extra: Value) -> Value {
        let mut attributes = json!({"amount_cents": amount, "succeeded": ok,
            "created_at": format!("2026-12-03T10:00:0{}.000Z", id.len() % 10)});
        for (k, v) in extra.as_object().unwrap() {
            attributes[k] = v.clone();
        }
        json!({"id": id, "type": ty, "attributes": attributes})
    }

    fn payment_doc(included: Vec<Value>) -> Doc {
        serde_json::from_value(json!({
            "data": {"id": "ord1", "type": "orders", "attributes": {
                "number": "1234", "status": "placed", "payment_status": "partially_refunded"}},
            "included": included,
        }))
        .unwrap()
    }

    #[test]
    fn the_payment_state_counts_succeeded_transactions_only() {
        let doc = payment_doc(vec![
            tx(
                "authorizations",
                "a",
                9900,
                false,
                json!({"capture_balance_cents": 0}),
            ),
            tx(
                "authorizations",
                "aa",
                9900,
                true,
                json!({"capture_balance_cents": 4900}),
            ),
            tx(
                "captures",
                "ccc",
                5000,
                true,
                json!({"refund_balance_cents": 3000,
                "reference": "op-1", "reference_origin": "kassa"}),
            ),
            tx(
                "captures",
                "cccc",
                4900,
                false,
                json!({"message": "Declined - Do not honour",
                "error_detail": "Declined - Do not honour", "error_code": "20005"}),
            ),
            tx(
                "refunds",
                "rrrrr",
                2000,
                true,
                json!({"reference": "ERP-9", "reference_origin": "erp"}),
            ),
            json!({"id": "l1", "type": "line_items", "attributes": {"amount_cents": 1}}),
        ]);
        let p = payment_state(&doc, "NOK").unwrap();
        assert_eq!((p.authorized, p.captured, p.refunded), (9900, 5000, 2000));
        assert_eq!(
            (p.capturable(), p.refundable(), p.voided),
            (4900, 3000, false)
        );
        let ops: Vec<_> = p
            .operations
            .iter()
            .map(|o| (o.kind, o.amount, o.reference.as_deref(), o.outcome))
            .collect();
        // Only Kassa's own references count as Kassa's.
        assert_eq!(
            ops,
            [
                (
                    OperationKind::Capture,
                    5000,
                    Some("op-1"),
                    ProviderOutcome::Succeeded
                ),
                (OperationKind::Capture, 4900, None, ProviderOutcome::Failed),
                (
                    OperationKind::Refund,
                    2000,
                    None,
                    ProviderOutcome::Succeeded
                ),
            ]
        );
        assert_eq!(
            p.authorization_expires_at,
            Some(crate::time::parse_utc("2026-12-10T10:00:02Z").unwrap())
        );
        assert_eq!(
            p.detail,
            "Commerce Layer order 1234: order placed, payment partially_refunded; authorized 99.00 NOK, captured 50.00 NOK, refunded 20.00 NOK, 1 declined by the gateway"
        );
        let failed = made_by_trigger(&doc, "captures", &["ccc".into()]).unwrap();
        assert_eq!((failed.id.as_str(), failed.succeeded), ("cccc", false));
        assert_eq!(failed.message, "Declined - Do not honour");
        assert!(made_by_trigger(&doc, "captures", &["ccc".into(), "cccc".into()]).is_none());
        // Negative amounts are no payment's.
        let bad = payment_doc(vec![tx("captures", "c", -1, true, json!({}))]);
        assert!(payment_state(&bad, "NOK").unwrap_err().contains("negative"));
    }

    #[test]
    fn a_refund_goes_to_the_newest_capture_that_covers_it() {
        let doc = payment_doc(vec![
            tx(
                "captures",
                "c",
                6000,
                true,
                json!({"refund_balance_cents": 6000}),
            ),
            tx(
                "captures",
                "cc",
                3000,
                true,
                json!({"refund_balance_cents": 2000}),
            ),
            tx(
                "captures",
                "ccc",
                9000,
                false,
                json!({"refund_balance_cents": 0}),
            ),
        ]);
        let list = transactions(&doc);
        let to = |amount| capture_for_refund(&list, amount).map(|t| t.id.as_str());
        assert_eq!(to(2000), Some("cc"));
        assert_eq!(to(2001), Some("c"));
        // Nothing covers it: the one with the most left (Commerce Layer refuses the rest).
        assert_eq!(to(7000), Some("c"));
        assert_eq!(capture_for_refund(&[], 1).map(|t| t.id.clone()), None);
    }

    #[test]
    fn triggers_carry_their_amount() {
        assert_eq!(
            trigger_amount("captures", "c1", "_refund", 1500),
            json!({"data": {"type": "captures", "id": "c1", "attributes": {
                "_refund": true, "_refund_amount_cents": 1500}}})
        );
        assert_eq!(
            trigger_amount("authorizations", "a1", "_capture", 9900)["data"]["attributes"]
                ["_capture_amount_cents"],
            9900
        );
        assert_eq!(
            tag("refunds", "r1", "op-7")["data"]["attributes"],
            json!({"reference": "op-7", "reference_origin": "kassa"})
        );
        assert_eq!(
            expire("o1", "2026-12-03T10:00:00.000Z")["data"],
            json!({"type": "orders", "id": "o1", "attributes": {"expires_at": "2026-12-03T10:00:00.000Z"}})
        );
    }

    #[test]
    fn errors_keep_every_code_and_pointer() {
        let d: ErrorDoc = serde_json::from_value(json!({"errors": [
            {"title": "is not valid", "detail": "sku_code - is not valid", "code": "VALIDATION_ERROR",
             "status": "422", "source": {"pointer": "/data/attributes/sku_code"}},
            {"title": "must be greater than 0", "code": "VALIDATION_ERROR", "status": "422"}
        ]}))
        .unwrap();
        let (code, text) = d.summary();
        assert_eq!(code.as_deref(), Some("VALIDATION_ERROR"));
        assert_eq!(
            text,
            "VALIDATION_ERROR: sku_code - is not valid (/data/attributes/sku_code); VALIDATION_ERROR: must be greater than 0"
        );
    }
}
