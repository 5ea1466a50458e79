//! What the screens show, built from the session log: [`SessionView`] (every amount
//! formatted for the shop's locale, the QR code, the receipt, what staff should check), the
//! history's query and pages, the settings screen's content, the charge dialog's providers.
//! Nothing here asks a provider or writes anything.

use super::TillError;
use crate::counter::VatRowView;
use crate::link::SaleKind;
use crate::money::Currency;
use crate::provider::{Capabilities, OperationKind, OperationLine};
use crate::refund::RateTotal;
use crate::session::Status;
use crate::store::{
    authorization_due, money_of, EventRecord, Filter, OperationRecord, OperationState,
    SessionRecord, Via,
};
use crate::time::format_rfc3339;
use serde::{Deserialize, Serialize};

/// A provider the charge dialog offers.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderChoice {
    pub name: String,
    pub profile: String,
    pub demo: bool,
    pub default: bool,
}

/// A session as the screens show it. Amounts are formatted for the shop's locale.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: String,
    pub provider: String,
    pub profile: String,
    pub demo: bool,
    pub provider_session_id: Option<String>,
    pub reference: String,
    pub currency: String,
    pub amount: String,
    pub status: Status,
    /// Paid, cancelled, expired or failed: nothing will change any more.
    pub is_final: bool,
    pub checkout_url: Option<String>,
    /// The QR code (SVG) of the checkout URL while the session is open.
    pub qr_svg: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: Option<String>,
    pub last_error: Option<String>,
    /// For `unknown` and `needs_review`: what staff should check.
    pub attention: Option<String>,
    /// Why the session ended, in the provider's or Kassa's words (the last status event).
    pub reason: Option<String>,
    pub can_cancel: bool,
    /// Staff may record that the customer says they paid (an open session at a provider whose
    /// status Kassa cannot read, e.g. Opencharge): the session then needs review.
    pub can_claim: bool,
    /// Staff may record what they found in the provider's back office (`needs_review`, or
    /// `unknown`: a create whose answer never came, which only staff can settle).
    pub can_review: bool,
    /// `staff` when staff, not the provider, confirmed the status.
    pub confirmed_by: Option<String>,
    /// `at_sale` or `manual` (`None`: logged before Kassa recorded the policy).
    pub capture_policy: Option<String>,
    /// What the sale's done operations captured and refunded (refunds staff recorded
    /// included), formatted and in minor units.
    pub captured_amount: String,
    pub captured_minor: i64,
    pub refunded_amount: String,
    pub refunded_minor: i64,
    /// The sale's captures, refunds and voids, oldest first (detail and live views).
    pub operations: Vec<OperationView>,
    /// The provider can capture (more of) this paid sale by API: authorized, not all
    /// captured, not voided, no capture of the provider's own still on its way.
    pub can_capture: bool,
    /// The provider can refund by API and there is captured money not yet refunded (for a
    /// sale logged before Kassa recorded captures: anything not yet refunded).
    pub can_refund: bool,
    /// The provider can void this paid sale's authorization: nothing captured or on its way.
    pub can_void: bool,
    /// The provider has no refund API: staff may record a refund they made outside Kassa.
    pub can_record_refund: bool,
    /// When the payment's uncaptured authorization lapses (RFC 3339), as the provider's record
    /// said when Kassa last read it (`None`: not read, nothing left to lapse, or not documented).
    pub authorization_expires_at: Option<String>,
    /// "Authorized, not captured": staff must capture it (the policy is `manual`, or the
    /// capture at sale failed), and nothing is capturing or voiding it.
    pub capture_due: bool,
    /// `capture_due` and the authorization lapses within two days (or has):
    /// [`crate::store::EXPIRY_WARNING_MS`].
    pub expires_soon: bool,
    /// Lines, VAT per rate and totals, from the priced order the session was created with.
    pub receipt: Option<Receipt>,
    /// The event timeline (detail views only).
    pub events: Vec<EventView>,
    /// Set by the follower ([`follow_all`](super::follow_all())) when the last status read failed (the session keeps its status).
    pub poll_error: Option<TillError>,
    /// `counter` or `link`.
    pub sale: SaleKind,
    /// A link's expiry as staff asked for it (RFC 3339); `expires_at` is what the provider
    /// confirmed, the one to show.
    pub requested_expires_at: Option<String>,
    /// Whom the link was sent to, masked (`+47******67`).
    pub contact: Option<String>,
    /// The session this link renews.
    pub renews: Option<String>,
    /// An expired or cancelled link sale: staff may renew it (a new session for the order).
    pub can_renew: bool,
    /// An open link the provider can send again ([`crate::link::LinkRules::resend`]).
    pub can_resend: bool,
    /// What became of sending the link, on the answer to the charge that sent it.
    pub sent: Option<crate::checkout::Delivery>,
}

/// A capture, refund or void of a sale, as the timeline shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OperationView {
    pub id: String,
    pub kind: OperationKind,
    /// `session` (the provider by itself, at sale), `api` (Kassa asked), `staff` (recorded).
    pub via: Via,
    pub state: OperationState,
    pub amount: String,
    pub amount_minor: i64,
    /// The lines it covers (minor units), and the same per VAT rate, formatted.
    pub lines: Vec<OperationLine>,
    pub vat_rows: Vec<VatRowView>,
    pub reason: Option<String>,
    pub provider_reference: Option<String>,
    pub error: Option<String>,
    /// The provider's captured and refunded totals read back after it (its evidence).
    pub captured_after: Option<String>,
    pub refunded_after: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// VAT rate rows of an operation's lines, formatted.
pub(super) fn rate_rows(lines: &[OperationLine], fmt: &dyn Fn(i64) -> String) -> Vec<VatRowView> {
    crate::refund::per_rate(lines)
        .into_iter()
        .map(|r: RateTotal| VatRowView {
            vat_rate: r.vat_rate,
            net: fmt(r.net),
            vat: fmt(r.vat),
            gross: fmt(r.gross),
        })
        .collect()
}

/// One event of a session's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub at: String,
    pub kind: String,
    pub status: Option<Status>,
    pub detail: String,
}

/// What a paid sale's receipt shows.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub lines: Vec<ReceiptLine>,
    pub vat_rows: Vec<VatRowView>,
    pub net: String,
    pub vat: String,
    pub gross: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReceiptLine {
    pub name: String,
    pub quantity: String,
    pub unit_price: String,
    pub discount: String,
    pub vat_rate: String,
    pub gross: String,
}

fn receipt(order_json: &str, fmt: &dyn Fn(i64) -> String) -> Option<Receipt> {
    let o = crate::quote::from_logged(order_json).ok()?;
    Some(Receipt {
        lines: o
            .lines
            .iter()
            .map(|l| ReceiptLine {
                name: l.name.clone(),
                quantity: l.quantity.to_canonical(),
                unit_price: fmt(l.unit_price),
                discount: fmt(l.discount()),
                vat_rate: l.vat_rate.to_percent_string(),
                gross: fmt(l.gross),
            })
            .collect(),
        vat_rows: o
            .vat_summary
            .iter()
            .map(|r| VatRowView {
                vat_rate: r.vat_rate.to_percent_string(),
                net: fmt(r.net),
                vat: fmt(r.vat),
                gross: fmt(r.gross),
            })
            .collect(),
        net: fmt(o.total.net),
        vat: fmt(o.total.vat),
        gross: fmt(o.total.gross),
    })
}

/// What staff should check for a session Kassa cannot settle by itself.
fn attention(s: &SessionRecord) -> Option<String> {
    match s.status {
        Status::Unknown => Some(format!(
            "Kassa could not learn from {} whether this session exists or was paid. \
             Refresh it; if it stays unknown, look up reference {} in {}'s portal before \
             charging the customer again.",
            s.provider, s.merchant_reference, s.provider
        )),
        Status::NeedsReview => Some(format!(
            "{} could not confirm this payment in a way Kassa can check. Look up reference {} \
             in {}'s portal, then record here whether it was paid.",
            s.provider, s.merchant_reference, s.provider
        )),
        Status::Creating => Some(
            "The session is being created (or the app stopped while creating it: it is \
             reconciled at the next start)."
                .into(),
        ),
        _ => None,
    }
}

/// How much of a session a view carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// A history row: no QR code, receipt or events.
    List,
    /// The session being charged: the QR code while open, the receipt once paid.
    Live,
    /// The detail view: everything.
    Detail,
}

/// Builds the view of a logged session (`events` give the reason; they are listed only at
/// [`Depth::Detail`]; `ops` are its operations) at `now` (for the authorization's warning).
/// The capture, refund and void flags need the provider's capabilities (`caps`); without them
/// they are off.
pub fn view(
    s: &SessionRecord,
    events: &[EventRecord],
    ops: &[OperationRecord],
    (locale, now): (&str, i64),
    depth: Depth,
    caps: Option<Capabilities>,
) -> SessionView {
    let detail = depth == Depth::Detail;
    let currency = Currency::from_code(&s.currency);
    let fmt = |minor: i64| match currency {
        Some(c) => c.format_display(minor, locale),
        None => minor.to_string(),
    };
    let qr_svg = match (s.status, &s.qr_payload) {
        (Status::Open, Some(p)) if !p.is_empty() && depth != Depth::List => crate::qr::svg(p).ok(),
        _ => None,
    };
    let reason = events
        .iter()
        .rev()
        .find(|e| e.status.is_some())
        .map(|e| e.detail.clone());
    let m = money_of(ops);
    let due = authorization_due(s, ops, now);
    let paid = s.status == Status::Paid;
    let at_sale_pending = ops.iter().any(|o| {
        o.via == Via::Session && o.kind == OperationKind::Capture && !o.state.is_settled()
    });
    let refunds_left = m.refunded + m.refunding < s.gross_minor;
    // A sale logged before Kassa recorded captures has no capture on record to go by.
    let captured_known = m.captured > 0 || s.capture_policy.is_none();
    SessionView {
        id: s.id.clone(),
        provider: s.provider.clone(),
        profile: s.profile.clone(),
        demo: s.demo,
        provider_session_id: s.provider_session_id.clone(),
        reference: s.merchant_reference.clone(),
        currency: s.currency.clone(),
        amount: fmt(s.gross_minor),
        status: s.status,
        is_final: s.status.is_final(),
        checkout_url: s.checkout_url.clone(),
        qr_svg,
        created_at: format_rfc3339(s.created_at),
        updated_at: format_rfc3339(s.updated_at),
        expires_at: s.expires_at.map(format_rfc3339),
        last_error: s.last_error.clone(),
        attention: attention(s),
        reason,
        can_cancel: matches!(s.status, Status::Open | Status::Unknown)
            && caps.is_none_or(|c| c.cancel),
        can_claim: s.status == Status::Open && caps.is_some_and(|c| !c.verifiable_status),
        can_review: matches!(s.status, Status::NeedsReview | Status::Unknown),
        confirmed_by: s.confirmed_by.clone(),
        capture_policy: s.capture_policy.map(|p| p.as_str().to_string()),
        captured_amount: fmt(m.captured),
        captured_minor: m.captured,
        refunded_amount: fmt(m.refunded),
        refunded_minor: m.refunded,
        operations: if depth == Depth::List {
            Vec::new()
        } else {
            ops.iter()
                .map(|o| OperationView {
                    id: o.id.clone(),
                    kind: o.kind,
                    via: o.via,
                    state: o.state,
                    amount: fmt(o.amount),
                    amount_minor: o.amount,
                    lines: o.lines.clone(),
                    vat_rows: rate_rows(&o.lines, &fmt),
                    reason: o.reason.clone(),
                    provider_reference: o.provider_reference.clone(),
                    error: o.error.clone(),
                    captured_after: o.captured_after.map(fmt),
                    refunded_after: o.refunded_after.map(fmt),
                    created_at: format_rfc3339(o.created_at),
                    updated_at: format_rfc3339(o.updated_at),
                })
                .collect()
        },
        can_capture: paid
            && caps.is_some_and(|c| c.capture)
            && !m.voided
            && !at_sale_pending
            && m.captured + m.capturing < s.gross_minor,
        can_refund: paid && caps.is_some_and(|c| c.refund) && captured_known && refunds_left,
        can_void: paid
            && caps.is_some_and(|c| c.void)
            && !m.voided
            && m.captured == 0
            && m.capturing == 0,
        can_record_refund: paid && caps.is_some_and(|c| !c.refund) && refunds_left,
        authorization_expires_at: s.authorization_expires_at.map(format_rfc3339),
        sale: s.sale,
        requested_expires_at: s.requested_expires_at.map(format_rfc3339),
        contact: s.contact_masked.clone(),
        renews: s.renews.clone(),
        can_renew: s.sale == SaleKind::Link
            && matches!(s.status, Status::Expired | Status::Cancelled),
        can_resend: s.sale == SaleKind::Link
            && s.status == Status::Open
            && caps.is_some_and(|c| c.link.resend),
        sent: None,
        capture_due: due.capture_due,
        expires_soon: due.expires_soon,
        receipt: if detail || (depth == Depth::Live && s.status == Status::Paid) {
            receipt(&s.order_json, &fmt)
        } else {
            None
        },
        events: if detail {
            events
                .iter()
                .map(|e| EventView {
                    at: format_rfc3339(e.at),
                    kind: e.kind.clone(),
                    status: e.status,
                    detail: e.detail.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        poll_error: None,
    }
}

/// History filters as the screen sends them (dates are `YYYY-MM-DD`, UTC days).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoryQuery {
    pub status: Option<String>,
    pub provider: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub search: Option<String>,
    /// The last id of the previous page.
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// One page of the history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPage {
    pub sessions: Vec<SessionView>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

impl HistoryQuery {
    /// The session log's filter for this query; dates are the shop's local days in `zone` (the
    /// till's time zone): from the first instant of `since` to the end of `until`.
    pub(crate) fn filter(&self, zone: &crate::journal::Zone) -> Result<Filter, TillError> {
        fn nonempty(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let date = |key: &str, v: &Option<String>, end: bool| -> Result<Option<i64>, TillError> {
            nonempty(v)
                .map(|d| {
                    if end {
                        zone.day_end_ms(d)
                    } else {
                        zone.day_start_ms(d)
                    }
                    .map_err(|r| TillError::field(key, r))
                })
                .transpose()
        };
        Ok(Filter {
            status: nonempty(&self.status)
                .map(|s| Status::parse(s).map_err(|r| TillError::field("status", r)))
                .transpose()?,
            provider: nonempty(&self.provider).map(str::to_string),
            since: date("since", &self.since, false)?,
            // "until" is inclusive of the whole day the staff picked.
            until: date("until", &self.until, true)?,
            search: nonempty(&self.search).map(str::to_string),
        })
    }
}

/// A setting as the settings screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub key: String,
    /// The value, or its default when not set.
    pub value: Option<String>,
    pub set: bool,
}

/// A secret field: only whether it is set, never its value.
#[derive(Debug, Clone, Serialize)]
pub struct SecretView {
    pub field: String,
    /// `None` when the keyring could not be asked (see `keyring_error`).
    pub set: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderSettingsView {
    pub name: String,
    /// The name people know it by (`Bambora (Worldline)`).
    pub title: String,
    pub profile: String,
    /// The shop's default provider (`default_provider`).
    pub default: bool,
    /// Every credential of the profile is in the keyring (its settings are checked when set).
    pub ready: bool,
    pub fields: Vec<FieldView>,
    pub secrets: Vec<SecretView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub unit_price_input: String,
    pub vat_rate: String,
    /// A quick key on the counter.
    pub favourite: bool,
}

/// Everything the settings screen shows.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub shop: Vec<FieldView>,
    pub providers: Vec<ProviderSettingsView>,
    pub products: Vec<ProductView>,
    pub keyring_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_dates_are_the_shops_local_days() {
        const DAY_MS: i64 = 24 * 3600 * 1000;
        let q = HistoryQuery {
            since: Some("2026-11-20".into()),
            until: Some("2026-11-20".into()),
            status: Some("paid".into()),
            ..Default::default()
        };
        let oslo = crate::journal::Zone::named("Europe/Oslo").unwrap();
        let f = q.filter(&oslo).unwrap();
        assert_eq!(f.until.unwrap() - f.since.unwrap(), DAY_MS);
        // Local midnight in Oslo (UTC+1 in November), not UTC's.
        assert_eq!(f.since, Some(1_795_129_200_000));
        assert_eq!(f.status, Some(Status::Paid));
        let bad = HistoryQuery {
            since: Some("20.11.2026".into()),
            ..Default::default()
        };
        assert_eq!(bad.filter(&oslo).unwrap_err().problems[0].path, "since");
    }
}
