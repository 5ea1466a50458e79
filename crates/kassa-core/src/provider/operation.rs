//! After the sale: capture, refund and void in one request shape every provider takes, and the
//! provider's own record of a payment's money ([`PaymentState`]), which is the evidence for
//! each of them.
//!
//! What crosses the provider boundary lives here. Kassa's own record of an operation (its
//! state machine `requested → sent → done | failed | unknown`, the fsyncs around the request,
//! reconciliation after a crash) lives in `store` and `checkout`, which drive these calls.
//!
//! Rules every implementation follows:
//! - An operation request is sent **once** (never `send_idempotent`), except where the
//!   provider deduplicates on its side (Klarna's `Klarna-Idempotency-Key` = [`OperationRequest::id`]).
//!   Whether an unclear outcome happened is answered by [`Provider::payment_state`] (matching
//!   by reference, or by the pre-image rule in `checkout`), never by sending again.
//! - Money counts as captured or refunded only on the provider's figures in
//!   [`PaymentState`]; an answer's 2xx alone is not evidence (Commerce Layer answers 200 with
//!   `succeeded: false`).
//! - Amounts are minor units of the sale's currency; the provider's units and decimal
//!   strings belong in each provider's `wire` module.
//!
//! [`Provider::payment_state`]: super::Provider::payment_state

use crate::quote::PricedOrder;

use super::SessionRef;

/// What a sale's payment does when it is authorized (setting `<provider>.capture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapturePolicy {
    /// Capture the full amount as soon as the payment is authorized: a counter sale hands the
    /// goods over at once. The default.
    #[default]
    AtSale,
    /// Leave the payment authorized; staff capture it later (goods shipped later).
    Manual,
}

impl CapturePolicy {
    pub fn parse(text: &str) -> Result<CapturePolicy, String> {
        match text {
            "at_sale" => Ok(CapturePolicy::AtSale),
            "manual" => Ok(CapturePolicy::Manual),
            other => Err(format!(
                "{other:?} is not a capture policy (at_sale, manual)"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CapturePolicy::AtSale => "at_sale",
            CapturePolicy::Manual => "manual",
        }
    }
}

/// How a provider captures a sale under [`CapturePolicy::AtSale`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AtSaleCapture {
    /// The provider captures by itself, asked for it in the create request (Bambora's
    /// `instantcaptureamount`, Klarna HPP `place_order_mode: CAPTURE_ORDER`, Dintero
    /// `configuration.auto_capture`). Kassa confirms it by reading [`PaymentState::captured`].
    ByProvider,
    /// Kassa captures by API right after the payment is seen authorized (Commerce Layer,
    /// whose auto-capture is the shop's dashboard setting, not a per-sale request).
    ByKassa,
    /// Nothing to capture: a paid session is already final money (Opencharge transfers).
    NotNeeded,
}

/// What an operation does to a sale's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Capture,
    Refund,
    /// Cancels the authorization that was not captured (and the provider's order where that
    /// is the documented way: Klarna `cancel`, Commerce Layer `_cancel`).
    Void,
    /// A refund staff made outside Kassa (Opencharge has no refund API), recorded by staff:
    /// never sent to a provider and never the provider's evidence.
    RefundRecorded,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Capture => "capture",
            OperationKind::Refund => "refund",
            OperationKind::Void => "void",
            OperationKind::RefundRecorded => "refund_recorded",
        }
    }
}

/// One line of the sale (or part of one) that an operation covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OperationLine {
    /// The line's index in the sale's order (0-based, as logged).
    pub index: usize,
    pub name: String,
    pub sku: Option<String>,
    /// How much of the line: a canonical decimal (`"2"`, `"0.35"`), at most the line's quantity;
    /// `"0"` for a part of an operation by amount (`checkout` spreads an amount over the sale's
    /// lines, [`crate::refund`]): money back on this line, no goods. A client whose provider
    /// needs a positive quantity per line sends no lines for such an operation (the amount
    /// alone), as Dintero's does.
    pub quantity: String,
    pub unit: Option<String>,
    /// Canonical percent, as in the order (`"25"`).
    pub vat_rate: String,
    /// What this part of the line is worth, minor units: `gross = net + vat`.
    pub gross: i64,
    pub net: i64,
    pub vat: i64,
}

impl OperationLine {
    /// A part of an operation by amount: money on this line, no goods (quantity zero, however
    /// it is written: `"0"`, `"0.000"`).
    pub fn is_amount_only(&self) -> bool {
        crate::money::Decimal::parse(&self.quantity).is_some_and(|d| d.units == 0)
    }
}

/// A capture, refund or void, as a provider client sends it.
#[derive(Debug, Clone)]
pub struct OperationRequest<'a> {
    /// The sale's session (its provider ids, currency and amount).
    pub session: &'a SessionRef<'a>,
    /// Kassa's id of the operation (a UUIDv7): Klarna's `Klarna-Idempotency-Key` and
    /// `reference`, Dintero's `capture_reference` / `refund_reference`.
    pub id: &'a str,
    pub kind: OperationKind,
    /// Minor units. For a void: the authorization still open, as last read.
    pub amount: i64,
    /// The lines the operation covers, summing to `amount`; empty for a void and for a full
    /// capture. A refund by amount arrives here already split over the sale's lines.
    pub lines: &'a [OperationLine],
    /// Staff's reason for a refund.
    pub reason: Option<&'a str>,
    /// The sale's priced order as it was charged (line ids, SKUs, names).
    pub order: &'a PricedOrder,
}

/// A provider's answer to an operation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationAnswer {
    /// Accepted but not yet done (Dintero's 202): a later [`PaymentState`] read settles it.
    pub pending: bool,
    /// The provider's id of what it did (Klarna `Capture-Id` / `Refund-Id`, a Dintero event
    /// id, a Bambora transaction operation id, a Commerce Layer capture/refund/void id).
    pub provider_reference: Option<String>,
    /// The provider's own words for the session log.
    pub detail: String,
}

/// How one operation stands in the provider's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderOutcome {
    Succeeded,
    Failed,
    /// Started, not finished (Dintero `INITIATE_*` without its result).
    Pending,
}

/// One capture, refund or void in the provider's own record of a payment. (Deserialize: Kassa
/// keeps the list read just before an operation is sent, its pre-image.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProviderOperation {
    pub kind: OperationKind,
    /// The provider's id of it, when it has one.
    pub provider_id: Option<String>,
    pub amount: i64,
    /// The reference Kassa set on it (its operation id), where the provider keeps one
    /// (Dintero `event_reference`, Klarna `reference`).
    pub reference: Option<String>,
    pub outcome: ProviderOutcome,
}

/// The provider's record of a paid session's money, read from the provider: the evidence for
/// every capture, refund and void, and what is still possible.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PaymentState {
    /// Minor units authorized (the sale's amount once paid).
    pub authorized: i64,
    /// Captured so far (successful captures only).
    pub captured: i64,
    /// Refunded so far (successful refunds only).
    pub refunded: i64,
    /// The part of the authorization not captured was voided, cancelled or released.
    pub voided: bool,
    /// When an uncaptured authorization lapses, where the provider says so (Klarna's
    /// `expires_at`) or documents it (Unix ms).
    pub authorization_expires_at: Option<i64>,
    /// The provider's operations on this payment, oldest first.
    pub operations: Vec<ProviderOperation>,
    /// The provider's own words, e.g. `transaction T1.x CAPTURED, captured 299.90 NOK`.
    pub detail: String,
}

impl PaymentState {
    /// What can still be captured.
    pub fn capturable(&self) -> i64 {
        if self.voided {
            0
        } else {
            self.authorized.saturating_sub(self.captured).max(0)
        }
    }

    /// What can still be refunded.
    pub fn refundable(&self) -> i64 {
        self.captured.saturating_sub(self.refunded).max(0)
    }
}
