//! Klarna Payments v1, Hosted Payment Page v1 and Order Management v1 wire types, and the pure
//! mapping from Kassa's quote. No I/O here.
//!
//! Sources: the OpenAPI files in `../shared/providers/klarna/` (`session_create`,
//! `order_line`, HPP `SessionCreationRequestV1`, OM `MerchantOrderDto`) and
//! NOTES-bambora-dintero-klarna.md §3.
//!
//! Order lines hold Klarna's rules by construction (NOTES §3.4):
//! - `unit_price` includes tax and excludes discount; `total_amount = quantity × unit_price −
//!   total_discount_amount` exactly, and `total_amount` is the quote's line gross;
//! - `total_tax_amount` is the quote's line VAT, which is within ±1 of Klarna's
//!   `total_amount − total_amount × 10000 / (10000 + tax_rate)` (quote.rs proves it for prices
//!   with and without VAT); `tax_rate` in basis points;
//! - `order_amount` / `order_tax_amount` are the quote's totals, the sums of the lines.
//!
//! How a line becomes `quantity × unit_price − discount`: with `gb` the line's gross before any
//! discount (its `round(quantity × unit_price)` when prices include VAT, else that net amount
//! plus its VAT, rounded), a whole quantity `n` gets `unit_price = ⌈gb / n⌉` (exactly the
//! entered price when prices include VAT) and the discount `n × unit_price − gross` (the real
//! discount, plus less than one minor unit per piece of rounding when prices exclude VAT). A
//! weighed quantity (`0.35`) cannot be sent, since Klarna's quantity is an integer: the line
//! becomes quantity 1 at `gb` with the weight in its name ("Ost 0.35 kg").
//!
//! Captures and refunds carry the lines they cover (OM `order_line`, [`operation_line`]) by
//! the same rules: a part of a line counted in pieces keeps the charged line's `unit_price`
//! (so the customer sees the price they paid), with the discount making up the difference to
//! the part's gross; a part of a weighed line is one piece at its gross with the part's weight
//! in the name. Each line's `total_tax_amount` is the part's VAT as Kassa split it, and
//! `Σ total_amount` is the operation's amount. Whether Klarna requires that sum is UNCONFIRMED
//! (facts §2.3); Kassa always satisfies it, and the emulator holds it (our rule).

use crate::money::div_round;
use crate::order::{Quantity, VatRate};
use crate::provider::common::measured_name;
use crate::provider::{
    CapturePolicy, OperationKind, OperationLine, PaymentState, ProviderOperation, ProviderOutcome,
};
use crate::quote::{PricedLine, PricedOrder};
use crate::session::Status;
use serde::{Deserialize, Serialize};

/// Klarna's limit for `unit_price` and `total_amount` (int64 ≤ 100000000, `order_line`).
pub const MAX_LINE_AMOUNT: i64 = 100_000_000;

/// Klarna's limit for one capture's `captured_amount` and one refund's `refunded_amount`
/// (OM `CaptureObject` and `RefundObject`: int64, 0…100000000).
pub const MAX_OPERATION_AMOUNT: i64 = 100_000_000;

/// At most this many `order_lines` in a capture or a refund (OM `CaptureObject`,
/// `RefundObject`: `maxItems` 1000).
pub const MAX_OPERATION_LINES: usize = 1000;

/// `POST /payments/v1/sessions` (`session_create`).
#[derive(Debug, Serialize)]
pub struct SessionCreate<'a> {
    pub acquiring_channel: &'a str,
    pub intent: &'static str,
    pub purchase_country: &'a str,
    pub purchase_currency: &'a str,
    pub locale: String,
    pub order_amount: i64,
    pub order_tax_amount: i64,
    pub order_lines: Vec<OrderLine>,
    pub merchant_reference1: &'a str,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct OrderLine {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub name: String,
    pub quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity_unit: Option<String>,
    pub unit_price: i64,
    pub tax_rate: u32,
    pub total_amount: i64,
    pub total_discount_amount: i64,
    pub total_tax_amount: i64,
}

/// `merchant_session` (the parts Kassa needs).
#[derive(Debug, Deserialize)]
pub struct SessionCreated {
    pub session_id: String,
}

/// `POST /hpp/v1/sessions` (`SessionCreationRequestV1`).
#[derive(Debug, Serialize)]
pub struct HppCreate<'a> {
    pub payment_session_url: String,
    pub merchant_urls: MerchantUrls<'a>,
    pub options: HppOptions,
}

/// Browser redirects only: no `status_update` (a till behind NAT cannot receive it; Kassa
/// polls). No `back` either: Klarna's own back button then stays on Klarna's page, where the
/// customer can still pay.
#[derive(Debug, Serialize)]
pub struct MerchantUrls<'a> {
    pub success: &'a str,
    pub cancel: &'a str,
    pub failure: &'a str,
    pub error: &'a str,
}

#[derive(Debug, Serialize)]
pub struct HppOptions {
    /// See [`place_order_mode`].
    pub place_order_mode: &'static str,
}

/// HPP `options.place_order_mode` for a capture policy. Both make Klarna place the order
/// itself, so `order_id` arrives with COMPLETED and no 60-minute authorization token has to be
/// redeemed (NOTES §3.14 #6). `CAPTURE_ORDER` also captures it, which Klarna's HPP guide says
/// "should be used when goods are directly given to the Consumer (… In-store…)" and does even
/// if the redirect to the till fails (facts §2.1): a counter sale, atomic with the payment.
/// `PLACE_ORDER` leaves it authorized for staff to capture (`manual`).
///
/// UNCONFIRMED (facts §9 #2): whether `CAPTURE_ORDER` needs Klarna's approval for automatic
/// capture, and what it does while the fraud check is PENDING. Kassa's reading: Klarna
/// captures once the order is ACCEPTED; a paid order that is still not captured is visible in
/// [`payment_state`], and staff (or `checkout`) capture it by API.
pub fn place_order_mode(policy: CapturePolicy) -> &'static str {
    match policy {
        CapturePolicy::AtSale => "CAPTURE_ORDER",
        CapturePolicy::Manual => "PLACE_ORDER",
    }
}

/// `POST /hpp/v1/sessions/{id}/distribution` (`DistributionRequestV1`, hpp-v1-openapi.yml):
/// `method` `sms` with `contact_information.phone` and `phone_country` (ISO 3166 alpha-2),
/// or `email` with `contact_information.email` ("Only required if distribution method is
/// …", `DistributionContactV1`). `template` is left out: "not used and might be removed".
#[derive(Debug, Serialize)]
pub struct Distribution<'a> {
    pub method: &'static str,
    pub contact_information: DistributionContact<'a>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum DistributionContact<'a> {
    Sms {
        phone: &'a str,
        phone_country: &'a str,
    },
    Email {
        email: &'a str,
    },
}

/// `SessionCreationResponseV1`.
#[derive(Debug, Deserialize)]
pub struct HppCreated {
    pub session_id: String,
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default)]
    pub qr_code_url: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// `SessionResponseV1` (`GET /hpp/v1/sessions/{id}`).
#[derive(Debug, Deserialize)]
pub struct HppRead {
    pub status: String,
    /// When the status last changed (`IN_PROGRESS`: when the page was opened).
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub order_id: Option<String>,
}

/// OM `Order` (`GET /ordermanagement/v1/orders/{id}`; the fields Kassa reads). The money
/// fields are optional here so that a status read needs only what it checks; the payment read
/// ([`payment_state`]) requires them.
#[derive(Debug, Deserialize)]
pub struct OmOrder {
    pub order_id: String,
    pub status: String,
    #[serde(default)]
    pub fraud_status: Option<String>,
    pub order_amount: i64,
    pub purchase_currency: String,
    #[serde(default)]
    pub klarna_reference: Option<String>,
    #[serde(default)]
    pub captured_amount: Option<i64>,
    #[serde(default)]
    pub refunded_amount: Option<i64>,
    #[serde(default)]
    pub remaining_authorized_amount: Option<i64>,
    /// "The order can only be captured until this time" (ISO 8601).
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub captures: Vec<OmCapture>,
    #[serde(default)]
    pub refunds: Vec<OmRefund>,
}

/// OM `Capture`.
#[derive(Debug, Deserialize)]
pub struct OmCapture {
    pub capture_id: String,
    pub captured_amount: i64,
    #[serde(default)]
    pub captured_at: Option<String>,
    /// What Kassa sent as `reference`: its operation id.
    #[serde(default)]
    pub reference: Option<String>,
}

/// OM `Refund`.
#[derive(Debug, Deserialize)]
pub struct OmRefund {
    #[serde(default)]
    pub refund_id: Option<String>,
    pub refunded_amount: i64,
    #[serde(default)]
    pub refunded_at: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
}

/// `POST /ordermanagement/v1/orders/{id}/captures` (OM `CaptureObject`).
#[derive(Debug, Serialize)]
pub struct CaptureBody<'a> {
    pub captured_amount: i64,
    /// Kassa's operation id, which the order's `captures[]` keep.
    pub reference: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub order_lines: Vec<OrderLine>,
}

/// `POST /ordermanagement/v1/orders/{id}/refunds` (OM `RefundObject`).
#[derive(Debug, Serialize)]
pub struct RefundBody<'a> {
    pub refunded_amount: i64,
    /// Kassa's operation id, which the order's `refunds[]` keep.
    pub reference: &'a str,
    /// Staff's reason. Klarna shows it to the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub order_lines: Vec<OrderLine>,
}

/// Klarna's v1 error body (`ErrorV2`).
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_messages: Vec<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
}

/// One Kassa line as a Klarna order line (see the module docs).
pub fn order_line(line: &PricedLine, prices_include_vat: bool) -> Result<OrderLine, String> {
    let bp = line.vat_rate.basis_points();
    let abd = line.amount_before_discount;
    let gross_before = if prices_include_vat {
        abd
    } else {
        i64::try_from(div_round(i128::from(abd) * i128::from(10_000 + bp), 10_000))
            .map_err(|_| "amount out of range".to_string())?
    };
    let milli = line.quantity.milli();
    let (quantity, unit_price, name) = if line.quantity.is_whole() && milli > 0 {
        let n = milli / 1000;
        let unit = (gross_before + n - 1) / n;
        (n, unit, line.name.clone())
    } else {
        (1, gross_before, measured_name(line))
    };
    let discount = quantity * unit_price - line.gross;
    if unit_price > MAX_LINE_AMOUNT || line.gross > MAX_LINE_AMOUNT {
        return Err(format!(
            "line {:?} is above Klarna's limit of {MAX_LINE_AMOUNT} minor units per line",
            line.name
        ));
    }
    Ok(OrderLine {
        kind: "physical",
        reference: line.sku.clone().map(|s| s.chars().take(255).collect()),
        name: name.chars().take(255).collect(),
        quantity,
        quantity_unit: line
            .unit
            .as_deref()
            .filter(|_| line.quantity.is_whole())
            .map(|u| u.chars().take(8).collect()),
        unit_price,
        tax_rate: bp,
        total_amount: line.gross,
        total_discount_amount: discount,
        total_tax_amount: line.vat,
    })
}

/// The KP session body.
pub fn session_create<'a>(
    order: &'a PricedOrder,
    channel: &'a str,
    country: &'a str,
    locale: String,
) -> Result<SessionCreate<'a>, String> {
    Ok(SessionCreate {
        acquiring_channel: channel,
        intent: "buy",
        purchase_country: country,
        purchase_currency: order.currency.code(),
        locale,
        order_amount: order.total.gross,
        order_tax_amount: order.total.vat,
        order_lines: order
            .lines
            .iter()
            .map(|l| order_line(l, order.prices_include_vat))
            .collect::<Result<_, _>>()?,
        merchant_reference1: &order.reference,
    })
}

/// A capture's or refund's `order_lines`: `lines` as Klarna order lines (see the module docs),
/// or, for a capture of the whole sale without lines, the sale's lines as charged. Empty
/// (Klarna takes the amount alone) for a part without lines, and above Klarna's 1000 lines,
/// which no sale Klarna accepted can reach (its create takes at most 1000 lines too).
/// `Σ total_amount` is `amount`, else the lines are Kassa's mistake and nothing is sent.
///
/// Also empty for an operation by amount, whose parts `checkout` spreads over the sale's lines
/// with quantity 0 (money back, no goods; [`crate::refund`], a partial capture likewise).
/// Klarna's arithmetic cannot carry such a part: a line's `total_amount` is `quantity ×
/// unit_price − total_discount_amount` with a discount of at least 0, so quantity 0 is worth
/// nothing, and sending it as one piece (as Bambora's client does) would show the customer a
/// returned article that never came back. `order_lines` are optional on both captures and
/// refunds (OM `CaptureObject`, `RefundObject`), so the amount goes alone, as Dintero's
/// client sends it; Kassa keeps the split in its own record.
pub fn operation_lines(
    order: &PricedOrder,
    lines: &[OperationLine],
    amount: i64,
) -> Result<Vec<OrderLine>, String> {
    if lines.iter().any(OperationLine::is_amount_only) {
        return Ok(Vec::new());
    }
    let out: Vec<OrderLine> = if lines.is_empty() && amount == order.total.gross {
        order
            .lines
            .iter()
            .map(|l| order_line(l, order.prices_include_vat))
            .collect::<Result<_, _>>()?
    } else {
        lines
            .iter()
            .map(|l| operation_line(l, order))
            .collect::<Result<_, _>>()?
    };
    if out.len() > MAX_OPERATION_LINES {
        return Ok(Vec::new());
    }
    let sum: i64 = out.iter().map(|l| l.total_amount).sum();
    if !out.is_empty() && sum != amount {
        return Err(format!(
            "the operation's lines add up to {sum}, not its amount {amount}"
        ));
    }
    Ok(out)
}

/// One part of a charged line (`op`) as a Klarna order line (see the module docs).
pub fn operation_line(op: &OperationLine, order: &PricedOrder) -> Result<OrderLine, String> {
    let charged = order
        .lines
        .get(op.index)
        .ok_or_else(|| format!("line {} is not in the sale", op.index))?;
    let quantity = Quantity::parse(&op.quantity).map_err(|m| format!("line {}: {m}", op.index))?;
    let rate = VatRate::parse_percent(&op.vat_rate)
        .map_err(|m| format!("line {}: VAT rate {m}", op.index))?;
    if op.gross < 0 || op.gross > MAX_LINE_AMOUNT {
        return Err(format!(
            "line {}: {} is outside Klarna's 0…{MAX_LINE_AMOUNT} minor units per line",
            op.index, op.gross
        ));
    }
    let part = PricedLine {
        name: op.name.clone(),
        unit: op.unit.clone().or_else(|| charged.unit.clone()),
        quantity,
        ..charged.clone()
    };
    let (count, unit_price, name) = if charged.quantity.is_whole() && quantity.is_whole() {
        let n = quantity.milli() / 1000;
        let charged_unit = order_line(charged, order.prices_include_vat)?.unit_price;
        // The charged unit price, unless this part is worth more than that many pieces at
        // it (a split can give a part one minor unit more than its share): then the smallest
        // unit price that covers it, as for the charge.
        let unit = if n * charged_unit >= op.gross {
            charged_unit
        } else {
            (op.gross + n - 1) / n
        };
        (n, unit, op.name.clone())
    } else {
        (1, op.gross, measured_name(&part))
    };
    Ok(OrderLine {
        kind: "physical",
        reference: op.sku.clone().map(|s| s.chars().take(255).collect()),
        name: name.chars().take(255).collect(),
        quantity: count,
        quantity_unit: part
            .unit
            .as_deref()
            .filter(|_| charged.quantity.is_whole() && quantity.is_whole())
            .map(|u| u.chars().take(8).collect()),
        unit_price,
        tax_rate: rate.basis_points(),
        total_amount: op.gross,
        total_discount_amount: count * unit_price - op.gross,
        total_tax_amount: op.vat,
    })
}

/// An OM order as Kassa's evidence of a payment's money (`currency`: the sale's).
///
/// - `authorized` is `order_amount`; `captured` and `refunded` are the order's own totals
///   (required here: missing, they would read as nothing captured).
/// - `voided`: nothing more can be captured although not everything was: the order is
///   CANCELLED, EXPIRED, or its `remaining_authorized_amount` is 0 below the order amount
///   (released after a partial capture). An expired authorization counts as voided because
///   it is as final for Kassa (the contract has no separate state); the detail names it.
/// - operations: the captures and refunds with their `reference` (Kassa's operation id),
///   oldest first by Klarna's times, then a void (cancel or release, which carry no id or
///   time) for the amount let go.
/// - `authorization_expires_at`: the order's `expires_at` while something is capturable.
pub fn payment_state(o: &OmOrder, currency: &str) -> Result<PaymentState, String> {
    let (Some(captured), Some(refunded)) = (o.captured_amount, o.refunded_amount) else {
        return Err(format!(
            "order {} lacks captured_amount or refunded_amount",
            o.order_id
        ));
    };
    if !o.purchase_currency.eq_ignore_ascii_case(currency) {
        return Err(format!(
            "order {} is in {}, the sale in {currency}",
            o.order_id, o.purchase_currency
        ));
    }
    let amounts = [Some(o.order_amount), Some(captured), Some(refunded)]
        .into_iter()
        .chain(o.captures.iter().map(|c| Some(c.captured_amount)))
        .chain(o.refunds.iter().map(|r| Some(r.refunded_amount)))
        .chain([o.remaining_authorized_amount]);
    if amounts.flatten().any(|a| a < 0) {
        return Err(format!("order {} has a negative amount", o.order_id));
    }
    let lapsed = matches!(o.status.as_str(), "CANCELLED" | "EXPIRED");
    let released = captured < o.order_amount && o.remaining_authorized_amount == Some(0);
    let voided = lapsed || released;
    let at = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| crate::time::parse_utc(t).ok())
            .unwrap_or(i64::MAX)
    };
    let mut timed: Vec<(i64, ProviderOperation)> = o
        .captures
        .iter()
        .map(|c| {
            let op = ProviderOperation {
                kind: OperationKind::Capture,
                provider_id: Some(c.capture_id.clone()),
                amount: c.captured_amount,
                reference: c.reference.clone(),
                outcome: ProviderOutcome::Succeeded,
            };
            (at(&c.captured_at), op)
        })
        .chain(o.refunds.iter().map(|r| {
            let op = ProviderOperation {
                kind: OperationKind::Refund,
                provider_id: r.refund_id.clone(),
                amount: r.refunded_amount,
                reference: r.reference.clone(),
                outcome: ProviderOutcome::Succeeded,
            };
            (at(&r.refunded_at), op)
        }))
        .collect();
    // Stable: same-time (or untimed) operations keep Klarna's order, captures first.
    timed.sort_by_key(|(t, _)| *t);
    let mut operations: Vec<ProviderOperation> = timed.into_iter().map(|(_, op)| op).collect();
    if voided && o.status != "EXPIRED" {
        operations.push(ProviderOperation {
            kind: OperationKind::Void,
            provider_id: None,
            amount: o.order_amount - captured,
            reference: None,
            outcome: ProviderOutcome::Succeeded,
        });
    }
    let mut state = PaymentState {
        authorized: o.order_amount,
        captured,
        refunded,
        voided,
        authorization_expires_at: None,
        operations,
        detail: format!(
            "Klarna order {}{} {}: authorized {}, captured {captured}, refunded {refunded}, \
             remaining {} {}",
            o.order_id,
            o.klarna_reference
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            o.status,
            o.order_amount,
            o.remaining_authorized_amount
                .map_or_else(|| "unknown".to_string(), |r| r.to_string()),
            o.purchase_currency
        ),
    };
    if state.capturable() > 0 {
        state.authorization_expires_at = o
            .expires_at
            .as_deref()
            .and_then(|t| crate::time::parse_utc(t).ok());
    }
    Ok(state)
}

/// What an HPP session's status says before the order is read.
#[derive(Debug, PartialEq, Eq)]
pub enum HppState {
    /// COMPLETED with an order: its status and fraud check decide.
    Order(String),
    Done(Status, String),
}

/// Maps an HPP session (NOTES §3.7; statuses other than WAITING, IN_PROGRESS and COMPLETED have
/// UNCONFIRMED finality: CANCELLED, FAILED, DISABLED and ERROR are taken as final).
pub fn hpp_state(id: &str, h: &HppRead, now: i64) -> HppState {
    let expired = h
        .expires_at
        .as_deref()
        .and_then(|t| crate::time::parse_utc(t).ok())
        .is_some_and(|t| t <= now);
    let done = |status, words: String| HppState::Done(status, format!("Klarna page {id} {words}"));
    match h.status.as_str() {
        "COMPLETED" => match &h.order_id {
            Some(o) => HppState::Order(o.clone()),
            None => done(
                Status::NeedsReview,
                "COMPLETED without an order id (place_order_mode not honoured?)".into(),
            ),
        },
        "WAITING" | "IN_PROGRESS" | "BACK" | "MANUAL_ID_CHECK" if expired => {
            done(Status::Expired, format!("expired while {}", h.status))
        }
        "WAITING" | "IN_PROGRESS" | "BACK" | "MANUAL_ID_CHECK" => {
            done(Status::Open, h.status.clone())
        }
        "CANCELLED" => done(Status::Cancelled, "CANCELLED by the customer".into()),
        "DISABLED" => done(Status::Cancelled, "DISABLED".into()),
        "FAILED" | "ERROR" => done(Status::Failed, h.status.clone()),
        other => done(
            Status::Unknown,
            format!("has status {other:?}, which Kassa does not know"),
        ),
    }
}

/// Maps an Order Management order. Paid: authorized (or captured), fraud check ACCEPTED, for at
/// least the order's amount in its currency. `fraud_status: PENDING` is not paid (NOTES §3.8).
pub fn order_status(o: &OmOrder, gross: i64, currency: &str) -> (Status, String) {
    let fraud = o.fraud_status.as_deref().unwrap_or("(none)");
    let detail = format!(
        "Klarna order {}{} {} fraud {} ({} {})",
        o.order_id,
        o.klarna_reference
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default(),
        o.status,
        fraud,
        o.order_amount,
        o.purchase_currency
    );
    let status = match (o.status.as_str(), fraud) {
        // Klarna may cancel a rejected order itself: the rejection is what staff need to know.
        (_, "REJECTED") => Status::Failed,
        ("CANCELLED", _) => Status::Cancelled,
        (_, "PENDING") => {
            return (
                Status::Open,
                format!("{detail}: Klarna's fraud check is pending, not paid yet"),
            )
        }
        ("AUTHORIZED" | "PART_CAPTURED" | "CAPTURED", "ACCEPTED") => {
            if o.order_amount >= gross && o.purchase_currency == currency {
                Status::Paid
            } else {
                return (
                    Status::NeedsReview,
                    format!("{detail}: does not cover the order ({gross} {currency})"),
                );
            }
        }
        // EXPIRED, CLOSED, a missing fraud status, or anything newer than the spec.
        _ => Status::NeedsReview,
    };
    (status, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(doc: &str) -> PricedOrder {
        crate::quote_document(doc, "K1").unwrap()
    }

    /// Klarna's rules, checked as the emulator and Klarna check them.
    fn klarna_accepts(s: &SessionCreate) -> Result<(), String> {
        lines_accepted(&s.order_lines, s.order_amount, s.order_tax_amount)
    }

    /// Klarna's rules on order lines and their sums (`amount`, `tax`).
    fn lines_accepted(lines: &[OrderLine], amount: i64, tax: i64) -> Result<(), String> {
        let mut sum = 0;
        let mut tax_sum = 0;
        for (i, l) in lines.iter().enumerate() {
            if l.total_amount != l.quantity * l.unit_price - l.total_discount_amount {
                return Err(format!("order_lines[{i}].total_amount"));
            }
            if l.total_discount_amount < 0 || l.quantity < 0 {
                return Err(format!("order_lines[{i}] negative"));
            }
            let r = i128::from(l.tax_rate);
            if (i128::from(l.total_tax_amount) * (10_000 + r) - i128::from(l.total_amount) * r)
                .abs()
                > 10_000 + r
            {
                return Err(format!("order_lines[{i}].total_tax_amount"));
            }
            sum += l.total_amount;
            tax_sum += l.total_tax_amount;
        }
        if sum != amount || tax_sum != tax {
            return Err("order sums".into());
        }
        Ok(())
    }

    #[test]
    fn the_seed_example_and_weighed_goods() {
        let o = priced(
            r#"{"currency":"SEK","lines":[
                {"sku":"19-402","name":"Battery Power Pack","quantity":"1","unit_price":10000,"vat_rate":"25","discount":500},
                {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":"12"}]}"#,
        );
        let s = session_create(&o, "ECOMMERCE", "SE", "sv-SE".into()).unwrap();
        assert_eq!(
            s.order_lines[0],
            OrderLine {
                kind: "physical",
                reference: Some("19-402".into()),
                name: "Battery Power Pack".into(),
                quantity: 1,
                quantity_unit: None,
                unit_price: 10000,
                tax_rate: 2500,
                total_amount: 9500,
                total_discount_amount: 500,
                total_tax_amount: 1900,
            }
        );
        assert_eq!(s.order_lines[1].name, "Ost 0.35 kg");
        assert_eq!(s.order_lines[1].quantity, 1);
        assert_eq!(s.order_lines[1].unit_price, 4547); // round(0.35 × 129.90)
        assert_eq!(s.order_lines[1].quantity_unit, None);
        klarna_accepts(&s).unwrap();
    }

    #[test]
    fn prices_without_vat_and_order_discounts_still_add_up() {
        let o = priced(
            r#"{"currency":"NOK","prices_include_vat":false,"discount":333,"lines":[
                {"name":"A","quantity":"3","unit_price":1999,"vat_rate":"25"},
                {"name":"B","quantity":"7","unit_price":1,"vat_rate":"15"},
                {"name":"C","quantity":"1.5","unit_price":999,"vat_rate":"12"}]}"#,
        );
        let s = session_create(&o, "ECOMMERCE", "NO", "nb-NO".into()).unwrap();
        klarna_accepts(&s).unwrap();
    }

    #[test]
    fn completed_is_not_paid_until_the_order_says_so() {
        let h = |status: &str, order: Option<&str>| HppRead {
            status: status.into(),
            updated_at: None,
            expires_at: Some("2099-01-01T00:00:00Z".into()),
            order_id: order.map(str::to_string),
        };
        assert_eq!(
            hpp_state("h", &h("COMPLETED", Some("o1")), 0),
            HppState::Order("o1".into())
        );
        assert!(matches!(
            hpp_state("h", &h("COMPLETED", None), 0),
            HppState::Done(Status::NeedsReview, _)
        ));
        assert!(matches!(
            hpp_state("h", &h("IN_PROGRESS", None), 0),
            HppState::Done(Status::Open, _)
        ));
        assert!(matches!(
            hpp_state("h", &h("IN_PROGRESS", None), i64::MAX),
            HppState::Done(Status::Expired, _)
        ));
        assert!(matches!(
            hpp_state("h", &h("DISABLED", None), 0),
            HppState::Done(Status::Cancelled, _)
        ));
        assert!(matches!(
            hpp_state("h", &h("FAILED", None), 0),
            HppState::Done(Status::Failed, _)
        ));
        assert!(matches!(
            hpp_state("h", &h("NEW_THING", None), 0),
            HppState::Done(Status::Unknown, _)
        ));
        let o = |status: &str, fraud: &str, amount: i64| -> OmOrder {
            serde_json::from_value(serde_json::json!({"order_id": "o1", "status": status,
                "fraud_status": fraud, "order_amount": amount, "purchase_currency": "NOK"}))
            .unwrap()
        };
        assert_eq!(
            order_status(&o("AUTHORIZED", "ACCEPTED", 9500), 9500, "NOK").0,
            Status::Paid
        );
        assert_eq!(
            order_status(&o("CAPTURED", "ACCEPTED", 9500), 9500, "NOK").0,
            Status::Paid
        );
        assert_eq!(
            order_status(&o("AUTHORIZED", "PENDING", 9500), 9500, "NOK").0,
            Status::Open
        );
        assert_eq!(
            order_status(&o("AUTHORIZED", "REJECTED", 9500), 9500, "NOK").0,
            Status::Failed
        );
        assert_eq!(
            order_status(&o("AUTHORIZED", "ACCEPTED", 9400), 9500, "NOK").0,
            Status::NeedsReview
        );
        assert_eq!(
            order_status(&o("CANCELLED", "ACCEPTED", 9500), 9500, "NOK").0,
            Status::Cancelled
        );
        assert_eq!(
            order_status(&o("EXPIRED", "ACCEPTED", 9500), 9500, "NOK").0,
            Status::NeedsReview
        );
    }

    #[test]
    fn at_sale_captures_with_the_order_and_manual_only_places_it() {
        assert_eq!(place_order_mode(CapturePolicy::AtSale), "CAPTURE_ORDER");
        assert_eq!(place_order_mode(CapturePolicy::Manual), "PLACE_ORDER");
    }

    fn part(
        index: usize,
        name: &str,
        quantity: &str,
        rate: &str,
        gross: i64,
        vat: i64,
    ) -> OperationLine {
        OperationLine {
            index,
            name: name.into(),
            sku: None,
            quantity: quantity.into(),
            unit: None,
            vat_rate: rate.into(),
            gross,
            net: gross - vat,
            vat,
        }
    }

    /// The lines of an operation, checked as the emulator and Klarna check an order's lines.
    fn accepted(lines: &[OrderLine], amount: i64) {
        let tax = lines.iter().map(|l| l.total_tax_amount).sum();
        lines_accepted(lines, amount, tax).unwrap();
    }

    #[test]
    fn a_whole_capture_sends_the_sale_as_charged() {
        let o = priced(
            r#"{"currency":"NOK","discount":100,"lines":[
                {"sku":"K1","name":"Kaffe","quantity":"3","unit_price":3500,"vat_rate":"15"},
                {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":"15"}]}"#,
        );
        let lines = operation_lines(&o, &[], o.total.gross).unwrap();
        let charged = session_create(&o, "ECOMMERCE", "NO", "nb-NO".into()).unwrap();
        assert_eq!(lines, charged.order_lines);
        accepted(&lines, o.total.gross);
        // A part without lines goes as an amount alone.
        assert_eq!(operation_lines(&o, &[], 100).unwrap(), vec![]);
    }

    #[test]
    fn a_part_by_amount_goes_as_the_amount_alone() {
        let o = priced(
            r#"{"currency":"NOK","lines":[
                {"name":"Kaffe","quantity":"3","unit_price":3500,"vat_rate":"15"},
                {"name":"Bolle","quantity":"1","unit_price":2500,"vat_rate":"25"}]}"#,
        );
        // 10.00 spread over both lines as checkout spreads an amount (10500 : 2500 of the
        // sale, largest remainders): quantity 0 each.
        let split = [
            part(0, "Kaffe", "0", "15", 808, 105),
            part(1, "Bolle", "0", "25", 192, 38),
        ];
        assert_eq!(operation_lines(&o, &split, 1000).unwrap(), vec![]);
        // However the zero is written.
        let zero = part(0, "Kaffe", "0.000", "15", 1000, 130);
        assert_eq!(operation_lines(&o, &[zero], 1000).unwrap(), vec![]);
    }

    #[test]
    fn a_part_of_a_line_keeps_the_price_paid_and_a_weighed_part_its_weight() {
        let o = priced(
            r#"{"currency":"NOK","lines":[
                {"sku":"K1","name":"Kaffe","quantity":"3","unit":"pcs","unit_price":3500,"vat_rate":"15","discount":200},
                {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":"15"}]}"#,
        );
        // 3 × 35.00 − 2.00 = 103.00; two pieces are 68.67 of it (VAT 8.96).
        let mut kaffe = part(0, "Kaffe", "2", "15", 6867, 896);
        kaffe.sku = Some("K1".into());
        kaffe.unit = Some("pcs".into());
        let ost = part(1, "Ost", "0.2", "15", 2598, 339);
        let lines = operation_lines(&o, &[kaffe.clone(), ost], 6867 + 2598).unwrap();
        assert_eq!(
            lines[0],
            OrderLine {
                kind: "physical",
                reference: Some("K1".into()),
                name: "Kaffe".into(),
                quantity: 2,
                quantity_unit: Some("pcs".into()),
                unit_price: 3500,
                tax_rate: 1500,
                total_amount: 6867,
                total_discount_amount: 133,
                total_tax_amount: 896,
            }
        );
        assert_eq!(
            (
                lines[1].name.as_str(),
                lines[1].quantity,
                lines[1].unit_price
            ),
            ("Ost 0.2 kg", 1, 2598)
        );
        assert_eq!(lines[1].total_discount_amount, 0);
        accepted(&lines, 6867 + 2598);
        // A part worth more than its pieces at the price paid (a split's extra minor unit).
        let mut dear = kaffe.clone();
        dear.quantity = "1".into();
        dear.gross = 3501;
        dear.vat = 457;
        let l = operation_line(&dear, &o).unwrap();
        assert_eq!(
            (l.quantity, l.unit_price, l.total_discount_amount),
            (1, 3501, 0)
        );
    }

    #[test]
    fn lines_that_do_not_add_up_or_do_not_exist_are_refused_before_sending() {
        let o = priced(
            r#"{"currency":"NOK","lines":[{"name":"Kaffe","quantity":"3","unit_price":3500,"vat_rate":"15"}]}"#,
        );
        let kaffe = part(0, "Kaffe", "1", "15", 3500, 457);
        assert!(operation_lines(&o, std::slice::from_ref(&kaffe), 3501)
            .unwrap_err()
            .contains("add up to 3500, not its amount 3501"));
        let mut elsewhere = kaffe.clone();
        elsewhere.index = 4;
        assert!(operation_lines(&o, &[elsewhere], 3500)
            .unwrap_err()
            .contains("line 4 is not in the sale"));
        let mut bad = kaffe;
        bad.quantity = "-1".into();
        assert!(operation_lines(&o, &[bad], 3500)
            .unwrap_err()
            .contains("line 0"));
    }

    fn om(v: serde_json::Value) -> OmOrder {
        let mut base = serde_json::json!({"order_id": "o1", "status": "AUTHORIZED",
            "fraud_status": "ACCEPTED", "order_amount": 10000, "purchase_currency": "NOK",
            "captured_amount": 0, "refunded_amount": 0, "remaining_authorized_amount": 10000,
            "expires_at": "2026-12-19T12:00:00.000Z", "captures": [], "refunds": []});
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn the_order_is_the_evidence_of_captures_and_refunds() {
        let fresh = payment_state(&om(serde_json::json!({})), "NOK").unwrap();
        assert_eq!(
            (fresh.authorized, fresh.captured, fresh.refunded),
            (10000, 0, 0)
        );
        assert!(!fresh.voided && fresh.operations.is_empty());
        assert_eq!(fresh.capturable(), 10000);
        assert_eq!(
            fresh.authorization_expires_at,
            Some(crate::time::parse_utc("2026-12-19T12:00:00Z").unwrap())
        );
        assert!(
            fresh
                .detail
                .contains("AUTHORIZED: authorized 10000, captured 0"),
            "{}",
            fresh.detail
        );

        let s = payment_state(
            &om(serde_json::json!({"status": "PART_CAPTURED", "captured_amount": 7000,
                "refunded_amount": 2500, "remaining_authorized_amount": 3000,
                "refunds": [{"refund_id": "r1", "refunded_amount": 2500,
                             "refunded_at": "2026-11-22T10:00:00Z", "reference": "op-3"}],
                "captures": [
                    {"capture_id": "c2", "captured_amount": 2000, "captured_at": "2026-11-23T10:00:00Z", "reference": "op-4"},
                    {"capture_id": "c1", "captured_amount": 5000, "captured_at": "2026-11-21T10:00:00Z"}]})),
            "nok",
        )
        .unwrap();
        let ops: Vec<_> = s
            .operations
            .iter()
            .map(|o| {
                (
                    o.kind,
                    o.provider_id.as_deref(),
                    o.amount,
                    o.reference.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            ops,
            [
                (OperationKind::Capture, Some("c1"), 5000, None),
                (OperationKind::Refund, Some("r1"), 2500, Some("op-3")),
                (OperationKind::Capture, Some("c2"), 2000, Some("op-4")),
            ]
        );
        assert_eq!((s.capturable(), s.refundable()), (3000, 4500));
        assert!(s
            .operations
            .iter()
            .all(|o| o.outcome == ProviderOutcome::Succeeded));
    }

    #[test]
    fn cancelled_released_and_expired_orders_have_nothing_left_to_capture() {
        let cancelled = payment_state(
            &om(serde_json::json!({"status": "CANCELLED", "remaining_authorized_amount": 0})),
            "NOK",
        )
        .unwrap();
        assert!(cancelled.voided);
        assert_eq!(cancelled.capturable(), 0);
        assert_eq!(cancelled.authorization_expires_at, None);
        assert_eq!(
            cancelled.operations.last().map(|o| (o.kind, o.amount)),
            Some((OperationKind::Void, 10000))
        );
        let released = payment_state(
            &om(
                serde_json::json!({"status": "CLOSED", "captured_amount": 4000,
                "remaining_authorized_amount": 0,
                "captures": [{"capture_id": "c1", "captured_amount": 4000}]}),
            ),
            "NOK",
        )
        .unwrap();
        assert!(released.voided);
        assert_eq!(released.refundable(), 4000);
        assert_eq!(
            released.operations.last().map(|o| (o.kind, o.amount)),
            Some((OperationKind::Void, 6000))
        );
        let expired = payment_state(&om(serde_json::json!({"status": "EXPIRED"})), "NOK").unwrap();
        assert!(expired.voided && expired.operations.is_empty());
        assert!(expired.detail.contains("EXPIRED"));
        // Fully captured: nothing voided, nothing capturable, no expiry to warn of.
        let captured = payment_state(
            &om(
                serde_json::json!({"status": "CAPTURED", "captured_amount": 10000,
                "remaining_authorized_amount": 0}),
            ),
            "NOK",
        )
        .unwrap();
        assert!(!captured.voided);
        assert_eq!(
            (captured.capturable(), captured.authorization_expires_at),
            (0, None)
        );
    }

    #[test]
    fn an_order_without_its_totals_or_in_another_currency_is_no_evidence() {
        let mut o = om(serde_json::json!({}));
        o.captured_amount = None;
        assert!(payment_state(&o, "NOK")
            .unwrap_err()
            .contains("captured_amount"));
        assert!(payment_state(&om(serde_json::json!({})), "SEK")
            .unwrap_err()
            .contains("in NOK, the sale in SEK"));
        assert!(
            payment_state(&om(serde_json::json!({"refunded_amount": -1})), "NOK")
                .unwrap_err()
                .contains("negative")
        );
    }
}
