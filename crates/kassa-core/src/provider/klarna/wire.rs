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

use crate::money::div_round;
use crate::provider::common::measured_name;
use crate::quote::{PricedLine, PricedOrder};
use crate::session::Status;
use serde::{Deserialize, Serialize};

/// Klarna's limit for `unit_price` and `total_amount` (int64 ≤ 100000000, `order_line`).
pub const MAX_LINE_AMOUNT: i64 = 100_000_000;

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
    /// `PLACE_ORDER`: Klarna places the order itself, so `order_id` arrives with COMPLETED
    /// and no 60-minute authorization token has to be redeemed (NOTES §3.14 #6).
    pub place_order_mode: &'static str,
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
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub order_id: Option<String>,
}

/// `MerchantOrderDto` (the fields Kassa checks).
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
        let mut sum = 0;
        let mut tax = 0;
        for (i, l) in s.order_lines.iter().enumerate() {
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
            tax += l.total_tax_amount;
        }
        if sum != s.order_amount || tax != s.order_tax_amount {
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
        let o = |status: &str, fraud: &str, amount| OmOrder {
            order_id: "o1".into(),
            status: status.into(),
            fraud_status: Some(fraud.into()),
            order_amount: amount,
            purchase_currency: "NOK".into(),
            klarna_reference: None,
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
}
