//! Bambora / Worldline Online Checkout's wire types (the provider's own field names) and the
//! pure mapping between them and Kassa's types. No I/O here.
//!
//! Sources: NOTES-bambora-dintero-klarna.md §4 (the official plugins' models and the 2017
//! Checkout guide), the seed `000_*` (the `/sessions` example), NOTES-after-sale.md §1, and for
//! what the plugins send and read after the sale the WooCommerce plugin (bambora/checkout-
//! woocommerce @ b3395d3b5c44) and the Magento module (bambora/checkout-magento-v2.x @
//! ff19d84eafff, `Model/Api/Checkout/`). There is no machine-readable spec; field names follow
//! the `/sessions` examples (`order.id`, `order.amount`, `url.decline`) and the plugins'
//! capture/credit bodies and response models.
//!
//! # Lines: no rounding line; every line exact
//! Bambora's plugins check `Σ quantity × unitpriceinclvat` against the order's total and, when
//! their float arithmetic misses it, append a 0 % "Rounding adjustment" line. Kassa does not:
//! it builds its lines so that **every line** satisfies `quantity × unitpriceinclvat =
//! totalpriceinclvat` exactly, and the line totals are the quote's, so the plugins' invariant
//! holds by construction:
//! - a whole quantity `n` whose total `T` divides by `n`: one line at `T / n` (as always);
//! - a whole quantity whose total does not divide (a spread discount: 3 pcs for 5000): **two
//!   lines** of the same article, `T mod n` pieces at `⌊T/n⌋ + 1` and the rest at `⌊T/n⌋`
//!   (2 × 1667 + 1 × 1666); the line's VAT is shared between the two in proportion to their
//!   totals (rounded; the second takes the rest), so the VAT still sums to the quote's;
//! - a weighed quantity (0.35 kg): **quantity 1** at the line's total, the weight in the text
//!   (`Ost 0.35 kg`), unit `pcs`: a decimal quantity times an integer price is rarely an integer
//!   number of minor units, and Bambora's own arithmetic (the plugins' is PHP floats) is unknown.
//!
//! Why not the plugins' line: it exists only because their lines come from floats that do not
//! sum, while Kassa's already do; a 0 % line would put VAT under the wrong rate for Bambora and
//! invoice acquirers (Walley), would have to be shared out again on every credit by lines, and
//! cannot express a fraction of a minor unit (0.35 × 2997 = 1048.95). Whether Bambora's server
//! checks the identity at all is UNCONFIRMED; exact lines are right either way. The same
//! builder makes the create's order lines and the `invoicelines` of captures and credits
//! ([`invoice_lines`]), so a credit of part of a line is shaped like its charge. `linenumber`
//! counts the lines of one request (as the plugins do); `id` is the SKU, else `line{N+1}` for
//! Kassa's line N, the same on both parts of a split line.
//!
//! # After the sale
//! The Merchant API's transaction (`total.{authorized, captured, credited}`, `available.
//! {capture, credit}`, `candelete`) and its operations list are the evidence
//! ([`payment_state`]). An operation counts only with `status: "approved"` (what the plugins
//! show as done; every other status they show as failed). Bambora keeps no reference of ours on
//! an operation: `checkout` matches by the operations read before sending.

use crate::money::{canonical_decimal, div_round};
use crate::order::Quantity;
use crate::provider::common::measured_name;
use crate::provider::{
    OperationKind, OperationLine, OperationRequest, PaymentState, ProviderOperation,
    ProviderOutcome,
};
use crate::quote::{PricedLine, PricedOrder};
use crate::session::Status;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `POST /sessions` (or `/checkout`) body.
#[derive(Debug, Serialize)]
pub struct CheckoutRequest<'a> {
    pub order: Order<'a>,
    pub url: Urls<'a>,
    /// The whole amount when the sale is captured at once (a counter sale hands the goods
    /// over), 0 when staff capture later (as the WooCommerce plugin sends without instant
    /// capture).
    pub instantcaptureamount: i64,
    /// Sent (`true`) only with manual capture, so staff can capture a sale in parts: the 2017
    /// Checkout guide says that without it the first capture is the only one. Whether today's
    /// API still needs it is UNCONFIRMED (the plugins stopped sending it); Kassa reads what is
    /// left to capture from `available.capture` either way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capturemulti: Option<bool>,
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

/// `POST /paymentrequests/{id}/email-notifications` body (NOTES §4.8: `{to{email,name},
/// replyto{email,name}, message}`). Kassa knows no name for the customer and sends the address
/// as the name (what a mail client would show anyway); no `replyto` (Bambora's default
/// sender) and no `message` (Bambora's own text with the link).
#[derive(Debug, Serialize)]
pub struct EmailNotification<'a> {
    pub to: Recipient<'a>,
}

#[derive(Debug, Serialize)]
pub struct Recipient<'a> {
    pub email: &'a str,
    pub name: &'a str,
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
    pub id: Text,
    #[serde(default)]
    pub orderid: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    pub currency: TransactionCurrency,
    pub total: Total,
    /// What can still be captured and credited (Magento's `Available.php`); absent in answers
    /// that predate it, when only the operations say what happened.
    #[serde(default)]
    pub available: Option<Available>,
    /// Whether the authorization can still be deleted (voided).
    #[serde(default)]
    pub candelete: bool,
    /// When the transaction was made (authorized), RFC 3339 (BM `Transaction.php`).
    #[serde(default)]
    pub createddate: Option<String>,
}

/// How long Kassa assumes an uncaptured Bambora card authorization holds, from the
/// transaction's `createddate`. Bambora documents none (UNCONFIRMED, facts §3.9): card
/// authorizations are issuer holds of typically 5–7 days (the card schemes' practice, which
/// Dintero's knowledge base also states for cards), so 7 days, and history warns two days
/// before. Change here.
pub const AUTHORIZATION_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

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

#[derive(Debug, Deserialize)]
pub struct Available {
    pub capture: i64,
    pub credit: i64,
}

/// An id or code Bambora may write as a JSON number (`txnid` is an int64) or as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(i64),
            Text(String),
        }
        Ok(Text(match Either::deserialize(d)? {
            Either::Number(n) => n.to_string(),
            Either::Text(t) => t,
        }))
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `{meta, transactionoperations}`: the operations list (`GET merchant…/transactions/{txnid}/
/// transactionoperations`) and the answer to a capture, credit or delete (Magento's
/// `TransactionOperation.php`; it reads the new operation's `id` from the answer).
#[derive(Debug, Deserialize)]
pub struct Operations {
    #[serde(default)]
    pub transactionoperations: Vec<TransactionOperation>,
}

/// One transaction operation; an operation may hold others (`transactionoperations`: an
/// instant capture under its authorization).
#[derive(Debug, Deserialize)]
pub struct TransactionOperation {
    pub id: Text,
    #[serde(default)]
    pub amount: i64,
    /// `authorize`, `capture`, `credit` or `delete`.
    pub action: String,
    #[serde(default)]
    pub subaction: Option<String>,
    /// `approved` when it happened.
    pub status: String,
    /// Why it was not approved (look-up via the Data API's response codes).
    #[serde(default)]
    pub actioncode: Option<Text>,
    #[serde(default)]
    pub transactionoperations: Vec<TransactionOperation>,
}

/// `POST transaction…/transactions/{txnid}/capture` and `…/credit` (NOTES-after-sale.md §1;
/// Magento's `Request/Capture.php`, `Credit.php`). Delete has no body.
#[derive(Debug, Serialize)]
pub struct OperationBody<'a> {
    pub amount: i64,
    pub currency: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoicelines: Option<Vec<Line>>,
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
    Order {
        id: order_id(&order.reference),
        amount: order.total.gross,
        currency: order.currency.code(),
        vatamount: order.total.vat,
        lines: lines(order.lines.iter().map(Cow::Borrowed).enumerate()),
    }
}

/// Bambora's lines for Kassa's lines (index in the order, the line or the part of it an
/// operation covers), by the rules in the module doc: each line exact, a whole quantity that
/// does not divide its total as two lines, a weighed one as quantity 1.
fn lines<'a>(kassa: impl Iterator<Item = (usize, Cow<'a, PricedLine>)>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for (index, line) in kassa {
        let id = line
            .sku
            .clone()
            .unwrap_or_else(|| format!("line{}", index + 1));
        for part in parts(&line) {
            let unit_vat = div_round(i128::from(part.vat), i128::from(part.quantity)) as i64;
            out.push(Line {
                id: id.clone(),
                linenumber: (out.len() + 1).to_string(),
                description: part.text.clone(),
                text: part.text,
                quantity: raw_number(part.quantity.to_string()),
                unit: part.unit,
                unitprice: part.unit_gross - unit_vat,
                unitpriceinclvat: part.unit_gross,
                unitpricevatamount: unit_vat,
                totalprice: part.gross - part.vat,
                totalpriceinclvat: part.gross,
                totalpricevatamount: part.vat,
                vat: raw_number(canonical_decimal(
                    i128::from(line.vat_rate.basis_points()),
                    2,
                )),
            });
        }
    }
    out
}

/// One Bambora line's share of a Kassa line: `quantity × unit_gross = gross` exactly.
struct Part {
    quantity: i64,
    unit_gross: i64,
    gross: i64,
    vat: i64,
    text: String,
    unit: String,
}

fn parts(line: &PricedLine) -> Vec<Part> {
    let milli = line.quantity.milli();
    if !line.quantity.is_whole() {
        return vec![Part {
            quantity: 1,
            unit_gross: line.gross,
            gross: line.gross,
            vat: line.vat,
            text: measured_name(line),
            unit: "pcs".into(),
        }];
    }
    let n = milli / 1000;
    let part = |quantity: i64, unit_gross: i64, vat: i64| Part {
        quantity,
        unit_gross,
        gross: quantity * unit_gross,
        vat,
        text: line.name.clone(),
        unit: line.unit.clone().unwrap_or_else(|| "pcs".into()),
    };
    let (unit, more) = (line.gross.div_euclid(n), line.gross.rem_euclid(n));
    if more == 0 {
        return vec![part(n, unit, line.vat)];
    }
    // `more` pieces carry one minor unit more than the rest; the line's VAT is shared in
    // proportion to the money. (For a quote's line this is within a minor unit of the VAT in
    // each part's total; for a refunded part, whose VAT is its share of the line's, it keeps
    // the two parts as close to that as the part itself is.)
    let first = more * (unit + 1);
    let first_vat = if line.gross > 0 {
        div_round(
            i128::from(line.vat) * i128::from(first),
            i128::from(line.gross),
        ) as i64
    } else {
        0
    };
    vec![
        part(more, unit + 1, first_vat),
        part(n - more, unit, line.vat - first_vat),
    ]
}

/// The `invoicelines` of a capture or credit covering `covered` (parts of the order's lines,
/// as `checkout` chose them): each shaped like its charge, by the same line rules; a part of an
/// amount (quantity 0: no goods) as one unit at its amount, named so. `Err` names a line the
/// order does not have or a quantity that is not one.
pub fn invoice_lines(order: &PricedOrder, covered: &[OperationLine]) -> Result<Vec<Line>, String> {
    let parts = covered
        .iter()
        .map(|c| {
            let line = order.lines.get(c.index).ok_or_else(|| {
                format!(
                    "line {} is not in the order (it has {} lines)",
                    c.index,
                    order.lines.len()
                )
            })?;
            // The charged line, carrying the covered quantity and amounts.
            let mut part = PricedLine {
                net: c.net,
                vat: c.vat,
                gross: c.gross,
                ..line.clone()
            };
            if c.is_amount_only() {
                // A part of an amount spread over the lines returns no goods (`checkout` gives
                // it quantity 0): one unit of money at the line's VAT rate.
                part.quantity = Quantity::from_milli(1000).expect("1 is a quantity");
                part.name = format!("{} (amount only)", line.name);
                part.unit = None;
            } else {
                part.quantity = Quantity::parse(&c.quantity)
                    .map_err(|why| format!("line {}: quantity {why}", c.index))?;
            }
            Ok((c.index, Cow::Owned(part)))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(lines(parts.into_iter()))
}

/// The body of a capture or credit. Lines go with it whenever Kassa knows them (invoice
/// payment types need them; Magento sends them on every capture and credit): `op.lines`, or
/// for the whole order's amount without lines (a full capture) the order's own lines. A part
/// by amount that `checkout` did not split over lines goes as an amount only. `Err`: the
/// lines do not sum to the amount, or name no line of the order; nothing is sent.
pub fn operation_body<'a>(op: &OperationRequest<'a>) -> Result<OperationBody<'a>, String> {
    let invoicelines = if !op.lines.is_empty() {
        let sum: i64 = op.lines.iter().map(|l| l.gross).sum();
        if sum != op.amount {
            return Err(format!(
                "the lines sum to {sum}, not the amount {} {}",
                op.amount, op.session.currency
            ));
        }
        Some(invoice_lines(op.order, op.lines)?)
    } else if op.amount == op.order.total.gross {
        Some(order(op.order).lines)
    } else {
        None
    };
    Ok(OperationBody {
        amount: op.amount,
        currency: op.session.currency,
        invoicelines,
    })
}

/// The operation kind of a Bambora action.
fn kind(action: &str) -> Option<OperationKind> {
    match action {
        "capture" => Some(OperationKind::Capture),
        "credit" => Some(OperationKind::Refund),
        "delete" => Some(OperationKind::Void),
        _ => None,
    }
}

/// Every operation, each before the ones it holds (an authorization, then its instant
/// capture), in Bambora's order.
pub fn flatten(ops: &[TransactionOperation]) -> Vec<&TransactionOperation> {
    let mut out = Vec::new();
    let mut stack: Vec<&TransactionOperation> = ops.iter().rev().collect();
    while let Some(op) = stack.pop() {
        out.push(op);
        stack.extend(op.transactionoperations.iter().rev());
    }
    out
}

fn approved(op: &TransactionOperation) -> bool {
    op.status == "approved"
}

/// The payment as Bambora records it: the transaction's totals (captured = `total.captured`,
/// refunded = `total.credited`) and its captures, credits and deletes. Voided when a delete was
/// approved, or when Bambora offers less to capture than was authorized and not captured (the
/// rest released, e.g. after a capture without `capturemulti`).
pub fn payment_state(t: &Transaction, ops: &[TransactionOperation]) -> PaymentState {
    let all = flatten(ops);
    let deleted = all.iter().any(|op| op.action == "delete" && approved(op));
    let released = t
        .available
        .as_ref()
        .is_some_and(|a| a.capture < t.total.authorized.saturating_sub(t.total.captured));
    let operations = all
        .iter()
        .filter_map(|op| {
            Some(ProviderOperation {
                kind: kind(&op.action)?,
                provider_id: Some(op.id.0.clone()),
                amount: op.amount,
                reference: None,
                outcome: if approved(op) {
                    ProviderOutcome::Succeeded
                } else {
                    ProviderOutcome::Failed
                },
            })
        })
        .collect();
    let failed: Vec<String> = all
        .iter()
        .filter(|op| !approved(op) && kind(&op.action).is_some())
        .map(|op| {
            format!(
                "; {} {} {} {}",
                op.action,
                op.subaction.as_deref().unwrap_or(""),
                op.status,
                op.actioncode
                    .as_ref()
                    .map(|c| format!("(code {c})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    PaymentState {
        authorized: t.total.authorized,
        captured: t.total.captured,
        refunded: t.total.credited,
        voided: deleted || released,
        // While something is left to capture: the assumed card hold from the authorization.
        authorization_expires_at: t
            .createddate
            .as_deref()
            .filter(|_| !(deleted || released) && t.total.captured < t.total.authorized)
            .and_then(|d| crate::time::parse_utc(d).ok())
            .and_then(|at| at.checked_add(AUTHORIZATION_LIFETIME_MS)),
        operations,
        detail: format!(
            "transaction {} {}authorized {} captured {} credited {} {}{}{}",
            t.id,
            t.status
                .as_deref()
                .map(|s| format!("{s}: "))
                .unwrap_or_default(),
            t.total.authorized,
            t.total.captured,
            t.total.credited,
            t.currency.code,
            if deleted { ", deleted" } else { "" },
            failed.concat()
        ),
    }
}

/// What Bambora's answer to a capture, credit or delete says: the operation it made (the last
/// one of that action, as Magento keeps it). `Err` with its status and code when Bambora
/// answered `meta.result: true` but did not approve the operation.
pub fn operation_done<'a>(
    answer: &'a Operations,
    action: &str,
) -> Result<Option<&'a TransactionOperation>, (String, Option<String>)> {
    let op = flatten(&answer.transactionoperations)
        .into_iter()
        .rev()
        .find(|op| op.action == action);
    match op {
        Some(op) if !approved(op) => Err((
            format!(
                "Bambora did not approve the {action}: operation {} is {:?}",
                op.id, op.status
            ),
            op.actioncode.as_ref().map(|c| c.0.clone()),
        )),
        other => Ok(other),
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

    /// Every line exact, and the lines sum to the amount and the VAT.
    fn assert_exact(lines: &[Line], amount: i64, vat: i64) {
        for l in lines {
            let q: i64 = l.quantity.get().parse().expect("a whole quantity");
            assert_eq!(q * l.unitpriceinclvat, l.totalpriceinclvat, "{l:?}");
            assert_eq!(l.totalprice + l.totalpricevatamount, l.totalpriceinclvat);
            assert_eq!(l.unitprice + l.unitpricevatamount, l.unitpriceinclvat);
        }
        let numbers: Vec<&str> = lines.iter().map(|l| l.linenumber.as_str()).collect();
        let expected: Vec<String> = (1..=lines.len()).map(|n| n.to_string()).collect();
        assert_eq!(numbers, expected);
        assert_eq!(
            lines.iter().map(|l| l.totalpriceinclvat).sum::<i64>(),
            amount
        );
        assert_eq!(
            lines.iter().map(|l| l.totalpricevatamount).sum::<i64>(),
            vat
        );
    }

    #[test]
    fn every_line_is_exact_and_the_lines_sum_to_the_order() {
        let o = priced(
            r#"{"currency":"NOK","prices_include_vat":true,"discount":100,"lines":[
                {"name":"Kaffe","quantity":"3","unit_price":1999,"vat_rate":"25"},
                {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":"15"}]}"#,
        );
        let w = order(&o);
        assert_eq!(w.id, "K20261121T1823011237F3A");
        assert_exact(&w.lines, w.amount, w.vatamount);
        // 3 × Kaffe after its share of the discount (5940) divides by 3: one line, as always.
        assert_eq!(o.lines[0].gross, 5940);
        assert_eq!(w.lines.len(), 2);
        let kaffe = &w.lines[0];
        assert_eq!(
            (
                kaffe.quantity.get(),
                kaffe.unitpriceinclvat,
                kaffe.unit.as_str()
            ),
            ("3", 1980, "pcs")
        );
        assert_eq!((kaffe.id.as_str(), kaffe.text.as_str()), ("line1", "Kaffe"));
        // The weighed line: quantity 1 at its total, the weight in the text.
        let ost = &w.lines[1];
        assert_eq!(ost.quantity.get(), "1");
        assert_eq!(ost.unitpriceinclvat, o.lines[1].gross);
        assert_eq!(ost.unitpricevatamount, o.lines[1].vat);
        assert_eq!(
            (ost.text.as_str(), ost.description.as_str()),
            ("Ost 0.35 kg", "Ost 0.35 kg")
        );
        assert_eq!(ost.unit, "pcs");
        assert_eq!(ost.vat.get(), "15");
    }

    /// 3 pcs for 5000 (a spread discount) at 25 %, and 0.35 kg of cheese at 15 %.
    fn spread_order() -> PricedOrder {
        priced(
            r#"{"currency":"NOK","prices_include_vat":true,"lines":[
                {"name":"Kaffe","sku":"KAFFE-1","quantity":"3","unit_price":2000,"discount":1000,"vat_rate":"25"},
                {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":"15"}]}"#,
        )
    }

    #[test]
    fn a_total_that_does_not_divide_goes_as_two_exact_lines() {
        let o = spread_order();
        assert_eq!((o.lines[0].gross, o.lines[0].vat), (5000, 1000));
        let w = order(&o);
        assert_exact(&w.lines, w.amount, w.vatamount);
        let got: Vec<(&str, &str, i64, i64, i64)> = w
            .lines
            .iter()
            .map(|l| {
                (
                    l.id.as_str(),
                    l.quantity.get(),
                    l.unitpriceinclvat,
                    l.totalpriceinclvat,
                    l.totalpricevatamount,
                )
            })
            .collect();
        // 2 × 1667 + 1 × 1666; VAT 667 (the VAT in 3334 at 25 %) + 333 = the line's 1000.
        assert_eq!(
            got,
            [
                ("KAFFE-1", "2", 1667, 3334, 667),
                ("KAFFE-1", "1", 1666, 1666, 333),
                ("line2", "1", 4547, 4547, 593),
            ]
        );
        assert_eq!(w.lines[0].text, "Kaffe");
        assert_eq!(w.lines[1].unitpricevatamount, 333);
    }

    fn covered(index: usize, quantity: &str, gross: i64, vat: i64) -> OperationLine {
        OperationLine {
            index,
            name: String::new(),
            sku: None,
            quantity: quantity.into(),
            unit: None,
            vat_rate: String::new(),
            gross,
            net: gross - vat,
            vat,
        }
    }

    #[test]
    fn invoice_lines_are_built_like_the_charge() {
        let o = spread_order();
        // 2 of the 3 Kaffe (3334 with 667 VAT) and 0.2 kg of the cheese.
        let lines = invoice_lines(
            &o,
            &[covered(0, "2", 3334, 667), covered(1, "0.2", 2598, 339)],
        )
        .unwrap();
        assert_exact(&lines, 3334 + 2598, 667 + 339);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0].id.as_str(), lines[0].quantity.get()),
            ("KAFFE-1", "2")
        );
        assert_eq!(lines[0].unitpriceinclvat, 1667);
        assert_eq!(lines[1].text, "Ost 0.2 kg");
        // A part that does not divide splits too: 2 pieces for 3333.
        let lines = invoice_lines(&o, &[covered(0, "2", 3333, 667)]).unwrap();
        assert_exact(&lines, 3333, 667);
        assert_eq!(lines.len(), 2);
        // A part of an amount spread over the lines (quantity 0: no goods) is one unit at its
        // amount, at the line's rate, named so.
        let lines = invoice_lines(
            &o,
            &[covered(0, "0", 1234, 247), covered(1, "0.000", 10, 1)],
        )
        .unwrap();
        assert_exact(&lines, 1244, 248);
        let got: Vec<(&str, &str, &str, &str)> = lines
            .iter()
            .map(|l| {
                (
                    l.id.as_str(),
                    l.quantity.get(),
                    l.text.as_str(),
                    l.unit.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("KAFFE-1", "1", "Kaffe (amount only)", "pcs"),
                ("line2", "1", "Ost (amount only)", "pcs")
            ]
        );
        assert_eq!((lines[0].vat.get(), lines[1].vat.get()), ("25", "15"));
        // A line the order does not have, a quantity that is not one.
        let e = invoice_lines(&o, &[covered(2, "1", 1, 0)]).unwrap_err();
        assert!(e.contains("line 2 is not in the order"), "{e}");
        let e = invoice_lines(&o, &[covered(0, "x", 1, 0)]).unwrap_err();
        assert!(e.contains("line 0: quantity"), "{e}");
    }

    fn op<'a>(
        session: &'a crate::provider::SessionRef<'a>,
        order: &'a PricedOrder,
        amount: i64,
        lines: &'a [OperationLine],
    ) -> OperationRequest<'a> {
        OperationRequest {
            session,
            id: "0190a1b2-0000-7000-8000-000000000001",
            kind: OperationKind::Refund,
            amount,
            lines,
            reason: None,
            order,
        }
    }

    #[test]
    fn an_operation_sends_lines_whenever_kassa_knows_them() {
        let o = spread_order();
        let s = crate::provider::SessionRef {
            provider_session_id: Some("checkout/t"),
            merchant_reference: "K1",
            gross: o.total.gross,
            currency: "NOK",
            now: 0,
            expires_at: None,
            provider_payment_id: Some("70000000001"),
        };
        let json = |b: &OperationBody| serde_json::to_value(b).unwrap();
        // The whole amount without lines: the order's own lines.
        let b = operation_body(&op(&s, &o, o.total.gross, &[])).unwrap();
        assert_eq!(json(&b)["invoicelines"].as_array().unwrap().len(), 3);
        assert_eq!(json(&b)["currency"], "NOK");
        // Lines given: those; a part by amount only: no lines.
        let part = [covered(1, "0.35", 4547, 593)];
        let b = operation_body(&op(&s, &o, 4547, &part)).unwrap();
        assert_eq!(json(&b)["invoicelines"][0]["totalpriceinclvat"], 4547);
        let b = operation_body(&op(&s, &o, 100, &[])).unwrap();
        assert_eq!(
            json(&b),
            serde_json::json!({"amount": 100, "currency": "NOK"})
        );
        // Lines that do not sum to the amount are not sent.
        let e = operation_body(&op(&s, &o, 4548, &part)).unwrap_err();
        assert!(
            e.contains("the lines sum to 4547, not the amount 4548 NOK"),
            "{e}"
        );
    }

    fn read<T: serde::de::DeserializeOwned>(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_payment_state_is_bambora_totals_and_operations() {
        let t: TransactionRead = read(
            r#"{"transaction":{"id":70000000001,"status":"captured","currency":{"code":"NOK"},
                "total":{"authorized":10000,"captured":10000,"credited":2500,"declined":0},
                "available":{"capture":0,"credit":7500},"candelete":false}}"#,
        );
        let ops: Operations = read(
            r#"{"transactionoperations":[
                {"id":11,"action":"authorize","subaction":"ssl","status":"approved","amount":10000,
                 "transactionoperations":[{"id":12,"action":"capture","subaction":"fullinstant","status":"approved","amount":10000}]},
                {"id":"13","action":"credit","subaction":"partly","status":"approved","amount":2500},
                {"id":14,"action":"credit","subaction":"partly","status":"declined","amount":9000,"actioncode":"905"}]}"#,
        );
        let p = payment_state(&t.transaction, &ops.transactionoperations);
        assert_eq!(
            (p.authorized, p.captured, p.refunded, p.voided),
            (10000, 10000, 2500, false)
        );
        assert_eq!((p.capturable(), p.refundable()), (0, 7500));
        let got: Vec<(OperationKind, &str, i64, ProviderOutcome)> = p
            .operations
            .iter()
            .map(|o| {
                (
                    o.kind,
                    o.provider_id.as_deref().unwrap(),
                    o.amount,
                    o.outcome,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    OperationKind::Capture,
                    "12",
                    10000,
                    ProviderOutcome::Succeeded
                ),
                (
                    OperationKind::Refund,
                    "13",
                    2500,
                    ProviderOutcome::Succeeded
                ),
                (OperationKind::Refund, "14", 9000, ProviderOutcome::Failed),
            ]
        );
        assert!(p.operations.iter().all(|o| o.reference.is_none()));
        assert!(p.detail.contains("transaction 70000000001 captured: authorized 10000 captured 10000 credited 2500 NOK"), "{}", p.detail);
        assert!(
            p.detail.contains("credit partly declined (code 905)"),
            "{}",
            p.detail
        );
    }

    #[test]
    fn voided_when_deleted_or_the_rest_is_released() {
        let t = |captured: i64, available: &str| -> Transaction {
            read::<TransactionRead>(&format!(
                r#"{{"transaction":{{"id":"7","currency":{{"code":"NOK"}},
                    "total":{{"authorized":10000,"captured":{captured}}}{available}}}}}"#
            ))
            .transaction
        };
        let deleted: Operations = read(
            r#"{"transactionoperations":[{"id":1,"action":"authorize","status":"approved","amount":10000},
                {"id":2,"action":"delete","subaction":"instant","status":"approved","amount":0}]}"#,
        );
        let none: Operations = read(r#"{"transactionoperations":[]}"#);
        let available = |capture| format!(r#","available":{{"capture":{capture},"credit":0}}"#);
        // Authorized, nothing captured: capturable.
        let p = payment_state(&t(0, &available(10000)), &none.transactionoperations);
        assert_eq!((p.voided, p.capturable()), (false, 10000));
        // Deleted.
        let p = payment_state(&t(0, &available(0)), &deleted.transactionoperations);
        assert_eq!((p.voided, p.capturable()), (true, 0));
        assert!(p.detail.contains(", deleted"));
        // Captured in part, and Bambora offers no more: the rest is released.
        let p = payment_state(&t(4000, &available(0)), &none.transactionoperations);
        assert_eq!((p.voided, p.capturable(), p.refundable()), (true, 0, 4000));
        // Captured in part with more to capture.
        let p = payment_state(&t(4000, &available(6000)), &none.transactionoperations);
        assert_eq!((p.voided, p.capturable()), (false, 6000));
        // Without `available` only a delete voids.
        let p = payment_state(&t(4000, ""), &none.transactionoperations);
        assert!(!p.voided);
    }

    #[test]
    fn an_uncaptured_authorization_is_assumed_to_hold_seven_days() {
        let t = |captured: i64, date: &str| -> Transaction {
            read::<TransactionRead>(&format!(
                r#"{{"transaction":{{"id":"7","currency":{{"code":"NOK"}},"createddate":"{date}",
                    "total":{{"authorized":10000,"captured":{captured}}},
                    "available":{{"capture":{},"credit":{captured}}}}}}}"#,
                10000 - captured
            ))
            .transaction
        };
        let none: Operations = read(r#"{"transactionoperations":[]}"#);
        let at = crate::time::parse_utc("2026-12-01T10:00:00Z").unwrap();
        let p = payment_state(&t(0, "2026-12-01T10:00:00Z"), &none.transactionoperations);
        assert_eq!(p.authorization_expires_at, Some(at + 7 * 24 * 3600 * 1000));
        // Part captured: the rest still lapses.
        let p = payment_state(
            &t(4000, "2026-12-01T10:00:00Z"),
            &none.transactionoperations,
        );
        assert!(p.authorization_expires_at.is_some());
        // Nothing left to lapse, or no date Kassa can read: none.
        let p = payment_state(
            &t(10000, "2026-12-01T10:00:00Z"),
            &none.transactionoperations,
        );
        assert_eq!(p.authorization_expires_at, None);
        let p = payment_state(&t(0, "yesterday"), &none.transactionoperations);
        assert_eq!(p.authorization_expires_at, None);
    }

    #[test]
    fn an_operation_answer_names_the_operation_or_why_it_was_not_approved() {
        let ok: Operations = read(
            r#"{"transactionoperations":[{"id":21,"action":"capture","subaction":"partly","status":"approved","amount":500}]}"#,
        );
        assert_eq!(operation_done(&ok, "capture").unwrap().unwrap().id.0, "21");
        let no: Operations = read(
            r#"{"transactionoperations":[{"id":22,"action":"credit","status":"declined","amount":500,"actioncode":"100"}]}"#,
        );
        let (message, code) = operation_done(&no, "credit").unwrap_err();
        assert!(
            message.contains("did not approve the credit: operation 22 is \"declined\""),
            "{message}"
        );
        assert_eq!(code.as_deref(), Some("100"));
        let empty: Operations = read("{}");
        assert!(operation_done(&empty, "delete").unwrap().is_none());
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
            id: Text("7".into()),
            orderid: None,
            status: None,
            currency: TransactionCurrency { code: code.into() },
            total: Total {
                authorized,
                captured: 0,
                credited,
                declined: 0,
            },
            available: None,
            candelete: false,
            createddate: None,
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
