//! A sale's checkout session from intent to final status: the provider calls, in the order
//! that keeps the session log truthful through crashes and network failures.
//!
//! - [`start`]: take the in-flight lock, commit the `creating` intent (fsync), ask the
//!   provider, commit its answer (fsync) and only then hand the URL back for showing.
//!   A create that fails in a way that proves the provider did nothing becomes `failed`;
//!   one that may have reached the provider (timeout after sending, broken connection, 5xx,
//!   an unreadable 2xx) becomes `unknown`, and is never retried blindly.
//! - [`refresh`]: ask the provider and record what it says ([`crate::session::Status`] rules).
//! - [`cancel`]: staff cancel an open session.
//! - [`reconcile`]: at start, look at sessions left `creating`, `unknown`, or `open` past
//!   expiry; ask the provider where it can tell, else mark `unknown` with the reason; and at
//!   operations left `requested`, `sent` or `unknown` (`reconcile.rs`).
//! - After the sale (`operation.rs`): [`capture`], [`refund`], [`void`] (recorded before they
//!   are sent, sent once, settled by the provider's record, never sent twice) and
//!   [`record_refund`] (a refund staff made outside Kassa); `settle.rs` matches an operation
//!   whose outcome is unclear with the provider's record; `at_sale.rs` captures a sale that
//!   became paid under the `at_sale` policy.
//! - Every status read that brings the provider's payment id (Dintero's transaction, Klarna's
//!   order) records it as the session's `provider_payment_id`, which those operations need.
//!
//! A create in flight holds an exclusive lock on `inflight/<session id>.lock` in the data
//! directory, an operation `inflight/<session id>.op.lock` (`lock.rs`). The OS drops them when
//! the process dies (even by `kill -9`), so reconciliation in another process knows a `creating`
//! row or a `requested` operation whose lock it can take was abandoned, and leaves alone what
//! a living process (the desktop app, another `kassa-cli`) is still doing.
//!
//! Not here: provider wire formats (`provider::*`), SQL (`store`), refund arithmetic
//! (`refund`), polling cadence (the shells).

mod at_sale;
mod link;
pub(crate) mod lock;
mod operation;
mod reconcile;
mod settle;
mod unanswered;

pub use link::{renew, resend, Delivery, Renewal};
pub use operation::{capture, preview_refund, record_refund, refund, void};
pub use reconcile::{reconcile, reconcile_with, ProviderFor, Reconciled};
pub use settle::SETTLE_AFTER_MS;

use lock::{pause_point, InFlight};

use crate::code::Code;
use crate::link::{LinkError, Sale};
use crate::operator::{Authenticated, OperatorError};
use crate::provider::common::with_query;
use crate::provider::{
    CapturePolicy, CreateRequest, Presentation, Provider, ProviderError, SessionRef, StatusReport,
    CANCELLED_MARK,
};
use crate::quote::PricedOrder;
use crate::session::{SessionId, Status};
use crate::store::{
    LinkIntent, NewSession, Opened, OperationRecord, SessionLog, SessionRecord, StatusChange,
    StoreError,
};
use std::path::Path;

/// Where the provider sends the customer after paying when `shop.return_url` is not set. The
/// `.invalid` domain never resolves (RFC 2606): the embedded webview stops at it, and a phone
/// shows a "cannot open" page after paying, so shops should set `shop.return_url`.
pub const DEFAULT_RETURN_URL: &str = "https://kassa.invalid/return";

/// Why a checkout step failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The provider call failed; the session is logged with `status` and the error.
    #[error("{error}")]
    Provider {
        session_id: String,
        status: Status,
        error: ProviderError,
    },
    #[error("{0}")]
    Lock(String),
    /// A sale refused before anything was recorded or created (a link's date already past, a
    /// contact the provider cannot send to): nothing happened.
    #[error("{message}")]
    NotStarted { code: Code, message: String },
    /// A capture, refund or void refused before anything was sent (the session is not paid,
    /// the amount is more than is left, the provider has no such API…): `code` and `message`
    /// name the cause. The attempt is logged as a session event.
    #[error("{message}")]
    Refused {
        session_id: String,
        code: Code,
        message: String,
    },
    /// A capture, refund or void whose request failed or whose outcome is unclear:
    /// `operation` is its record after (`failed`: the provider did nothing; `unknown`: it may
    /// have, and reading the provider settles it, never a second request).
    #[error("{error}")]
    Operation {
        operation: Box<OperationRecord>,
        error: ProviderError,
    },
}

impl CheckoutError {
    /// The code the UI shows this error by.
    pub fn code(&self) -> Code {
        match self {
            CheckoutError::Store(e) => e.code(),
            CheckoutError::Provider { error, .. } | CheckoutError::Operation { error, .. } => {
                error.code()
            }
            CheckoutError::Lock(_) => Code::LockFailed,
            CheckoutError::NotStarted { code, .. } => *code,
            CheckoutError::Refused { code, .. } => *code,
        }
    }
}

impl From<OperatorError> for CheckoutError {
    fn from(e: OperatorError) -> Self {
        CheckoutError::Store(StoreError::Operator(e))
    }
}

/// What [`start`] needs besides the provider.
pub struct ChargeRequest<'a> {
    pub order: &'a PricedOrder,
    pub presentation: Presentation,
    pub return_url: &'a str,
    pub demo: bool,
    pub id: SessionId,
    pub now: i64,
    /// What the payment does when authorized (`<provider>.capture`, or a link sale's own
    /// choice), recorded on the session.
    pub capture: CapturePolicy,
    /// A counter sale or a link, with its lifetime and whom to send it to.
    pub sale: &'a Sale,
    /// A counter sale's lifetime (`shop.counter_link_minutes`), in ms.
    pub counter_ms: i64,
    /// The session this one renews (a link that expired or was cancelled).
    pub renews: Option<&'a str>,
    /// Who sells: the sale's receipt names them.
    pub operator: &'a Authenticated,
}

/// A started session and, when the sale asked for it, what became of sending its link.
#[derive(Debug, Clone)]
pub struct Started {
    pub session: SessionRecord,
    pub sent: Option<Delivery>,
}

impl From<LinkError> for CheckoutError {
    fn from(e: LinkError) -> CheckoutError {
        let code = match e {
            LinkError::Past { .. } => Code::InvalidInput,
            LinkError::CannotSend { .. } | LinkError::CannotResend { .. } => Code::CannotSend,
        };
        CheckoutError::NotStarted {
            code,
            message: e.to_string(),
        }
    }
}

/// Creates a checkout session for `order` at `provider`, logging every step.
/// On success the session is `open` and committed: the URL may be shown. A link sale's
/// lifetime and contact are checked against the provider's rules before anything is recorded;
/// its link is sent after the session is committed (or by the provider at creation), and a
/// failed send leaves the session open with the error as an event (copy the link instead).
///
/// First of all, before anything is recorded or sent, the journal's signing key must be at hand
/// (loaded from the keyring, or created on first use) and the amounts signable: a sale that
/// could be paid but not get its signed receipt entry never starts.
pub fn start(
    log: &mut SessionLog,
    data_dir: &Path,
    provider: &dyn Provider,
    req: &ChargeRequest,
) -> Result<Started, CheckoutError> {
    // The link's lifetime and contact first: a refusal of what staff typed creates nothing,
    // not even the journal's key.
    let id = req.id.as_str();
    let rules = provider.capabilities().link;
    let expiry = crate::link::expiry(req.sale, req.now, req.counter_ms, &rules)?;
    let contact = req.sale.send();
    crate::link::check_send(provider.name(), &rules, contact)?;
    if let Some(c) = contact {
        provider
            .check_contact(c)
            .map_err(|e| CheckoutError::NotStarted {
                code: e.code(),
                message: e.to_string(),
            })?;
    }
    crate::journal::check_currency(req.order.currency.code())
        .map_err(|detail| StoreError::SigningKey { detail })?;
    log.signer(req.now).map_err(|e| match e {
        StoreError::SigningKey { detail } => StoreError::SigningKey {
            detail: format!("no sale can start: {detail}"),
        },
        other => other,
    })?;
    let _lock = InFlight::acquire(data_dir, id)?;
    log.record_intent(&NewSession {
        id: req.id.clone(),
        provider: provider.name(),
        profile: provider.profile(),
        demo: req.demo,
        order: req.order,
        created_at: req.now,
        capture_policy: Some(req.capture),
        link: matches!(req.sale, Sale::Link(_)).then_some(LinkIntent {
            requested_expires_at: expiry.requested,
            contact,
            renews: req.renews,
        }),
        operator_id: Some(req.operator.id()),
    })?;
    log::info!(
        target: "kassa::checkout",
        "session {id}: intent recorded ({}, {:?})",
        provider.name(),
        req.presentation
    );
    pause_point("after_intent");
    let expires_at = expiry.asked;
    let cancel_url = with_query(req.return_url, "kassa", CANCELLED_MARK);
    let result = provider.create(&CreateRequest {
        session_id: &req.id,
        order: req.order,
        return_url: req.return_url,
        cancel_url: &cancel_url,
        presentation: req.presentation,
        capture: req.capture,
        now: req.now,
        expires_at,
        sale: req.sale.kind(),
        send: contact,
    });
    pause_point("after_response");
    let now = crate::time::now_millis().max(req.now);
    match result {
        Ok(created) => {
            log::info!(
                target: "kassa::checkout",
                "session {id}: {} session {} created",
                provider.name(),
                created.provider_session_id
            );
            log.record_opened(
                &req.id,
                &Opened {
                    provider_session_id: &created.provider_session_id,
                    checkout_url: &created.checkout_url,
                    qr_payload: &created.qr_payload,
                    expires_at: created.expires_at,
                },
                now,
                &format!(
                    "{} session {} created, expires {}{}",
                    provider.name(),
                    created.provider_session_id,
                    created
                        .expires_at
                        .map(crate::time::format_rfc3339)
                        .unwrap_or_else(|| "(not said)".into()),
                    created
                        .detail
                        .as_deref()
                        .map(|d| format!("; {d}"))
                        .unwrap_or_default()
                ),
            )?;
            if expiry.clamped() {
                log.add_event(
                    id,
                    now,
                    "lifetime",
                    &format!(
                        "asked to expire at {}; {} keeps a link at most {}",
                        crate::time::format_rfc3339(expiry.requested),
                        provider.name(),
                        link::duration_text(rules.max_ms)
                    ),
                )?;
            }
            let sent = match (contact, created.sent) {
                (Some(c), Some(sent)) => Some(link::record_sent(log, id, c, Ok(sent), now)?),
                (Some(c), None) => {
                    let session = log.get(id)?.0;
                    Some(link::send(log, provider, &session, c, now)?)
                }
                (None, _) => None,
            };
            Ok(Started {
                session: log.get(id)?.0,
                sent,
            })
        }
        Err(error) => {
            let status = if error.may_have_reached_provider() {
                Status::Unknown
            } else {
                Status::Failed
            };
            log::warn!(target: "kassa::checkout", "session {id}: create failed, {status}: {error}");
            let why = if status == Status::Unknown {
                " (the request may have reached the provider: reconciliation will ask before anything is created again)"
            } else {
                ""
            };
            log.record_status(
                id,
                status,
                now,
                "error",
                &format!("create failed [{}]: {error}{why}", error.code()),
                Some(&error.to_string()),
                true,
            )?;
            Err(CheckoutError::Provider {
                session_id: id.to_string(),
                status,
                error,
            })
        }
    }
}

/// An amount for the session log: `299.90 NOK` (minor units for an unknown currency).
fn money(currency: &str, minor: i64) -> String {
    match crate::money::Currency::from_code(currency) {
        Some(c) => format!("{} {currency}", c.format_plain(minor)),
        None => format!("{minor} (minor units of {currency})"),
    }
}

/// The data directory of a session log (`sessions.db` lives in it): where the locks go.
fn data_dir_of(log: &SessionLog) -> &Path {
    log.path().parent().unwrap_or(Path::new("."))
}

fn session_ref(s: &SessionRecord, now: i64) -> SessionRef<'_> {
    SessionRef {
        provider_session_id: s.provider_session_id.as_deref(),
        merchant_reference: &s.merchant_reference,
        gross: s.gross_minor,
        currency: &s.currency,
        now,
        expires_at: s.expires_at,
        provider_payment_id: s.provider_payment_id.as_deref(),
    }
}

/// Asks the provider for a session's status and records it. A final session is returned as
/// logged, without asking, except that a paid one's operations whose outcome Kassa does not
/// know yet are settled by reading the provider's record of its payment. `record_unchanged`: log the answer even when nothing changed (an
/// explicit status request) rather than only changes (background polling).
pub fn refresh(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    now: i64,
    record_unchanged: bool,
) -> Result<SessionRecord, CheckoutError> {
    let session = log.session(id)?;
    if session.status.is_final() {
        if session.status == Status::Paid {
            settle::settle_session(log, provider, &session, now)?;
            return Ok(log.session(id)?);
        }
        return Ok(session);
    }
    if session.provider_session_id.is_none() {
        // Only a session whose create got no answer: what the provider holds for its reference.
        return match unanswered::settle(log, provider, &session, now, "status")? {
            Ok(_) => Ok(log.get(id)?.0),
            Err(error) => Err(failed_call(log, &session, now, "status read", error)?),
        };
    }
    match provider.status(&session_ref(&session, now)) {
        Ok(report) => {
            apply(
                log,
                provider,
                &session,
                &report,
                now,
                "status",
                record_unchanged,
                None,
            )?;
        }
        Err(error) => return Err(failed_call(log, &session, now, "status read", error)?),
    }
    Ok(log.session(id)?)
}

/// The embedded checkout window of session `id` reached the return URL `url`: the provider
/// reads what the URL carries (a verified payment id is logged, a forged one is not), then the
/// status is asked from the provider unless the URL settled it. Returns the session after.
pub fn returned(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    url: &str,
    now: i64,
) -> Result<SessionRecord, CheckoutError> {
    let (session, _) = log.get(id)?;
    if session.status.is_final() {
        return Ok(session);
    }
    match provider.returned(&session_ref(&session, now), url) {
        Ok(r) => {
            if let Some(pid) = &r.payment_id {
                log.record_payment_id(
                    id,
                    pid,
                    now,
                    "returned",
                    &format!(
                        "the checkout window returned with {} payment {pid} (verified)",
                        provider.name()
                    ),
                )?;
            }
            match r.report {
                Some(report) => {
                    let (session, _) = log.get(id)?;
                    apply(
                        log, provider, &session, &report, now, "returned", true, None,
                    )?;
                    Ok(log.get(id)?.0)
                }
                None => refresh(log, provider, id, now, true),
            }
        }
        Err(error) => Err(failed_call(log, &session, now, "return URL check", error)?),
    }
}

/// The event text for a session whose create got no answer and whose provider has no payment
/// for its reference: nobody can have paid, since the URL was never shown.
fn no_payment(provider: &str, reference: &str) -> String {
    format!("{provider} has no payment for reference {reference}; the checkout URL was never shown")
}

/// Logs a failed status read or cancel (the status stays; the error becomes `last_error`) and
/// returns the error for the caller.
fn failed_call(
    log: &mut SessionLog,
    session: &SessionRecord,
    now: i64,
    what: &str,
    error: ProviderError,
) -> Result<CheckoutError, StoreError> {
    log.record_status(
        &session.id,
        session.status,
        now,
        "error",
        &format!("{what} failed [{}]: {error}", error.code()),
        Some(&error.to_string()),
        true,
    )?;
    Ok(CheckoutError::Provider {
        session_id: session.id.clone(),
        status: session.status,
        error,
    })
}

/// Records a provider report: the payment id it brings (when the session has none yet), then
/// the status. A report the status model does not allow from the logged status (e.g. `open`
/// for a session Kassa marked `needs_review`) is kept as an event. A session that becomes paid
/// under the `at_sale` capture policy starts its capture ([`at_sale`]); that never turns the
/// paid status into an error. `by`: who caused the change (staff cancelling), for its journal
/// entry; `None`: the session's operator.
// Eight plain arguments read better at the call sites than a one-use struct.
#[allow(clippy::too_many_arguments)]
fn apply(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    report: &StatusReport,
    now: i64,
    kind: &str,
    record_unchanged: bool,
    by: Option<i64>,
) -> Result<(), StoreError> {
    let from = session.status;
    let learned = report
        .payment_id
        .as_deref()
        .filter(|pid| session.provider_payment_id.is_none() && !pid.is_empty());
    let changes = from != report.status;
    if changes && from.can_become(report.status) {
        // The payment id goes with the status change, in its transaction and event.
        if report.status == Status::Paid {
            pause_point("paid_seen");
            return at_sale::record_paid(log, provider, session, report, learned, now, kind);
        }
        return log.record_change(
            &session.id,
            now,
            &StatusChange {
                to: report.status,
                kind,
                detail: &report.detail,
                payment_id: learned,
                operation: None,
                standing: None,
                operator_id: by,
            },
        );
    }
    if let Some(pid) = learned {
        log.record_payment_id(
            &session.id,
            pid,
            now,
            kind,
            &format!("{} payment id {pid} recorded", provider.name()),
        )?;
    }
    if changes {
        return log.add_event(
            &session.id,
            now,
            kind,
            &format!(
                "provider says {} ({}); kept {from}",
                report.status, report.detail
            ),
        );
    }
    log.record_status(
        &session.id,
        report.status,
        now,
        kind,
        &report.detail,
        None,
        record_unchanged,
    )
    .map(|_| ())
}

/// Staff (`by`, any role: nothing was paid) cancel an open session at the provider.
pub fn cancel(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    by: &Authenticated,
    now: i64,
) -> Result<SessionRecord, CheckoutError> {
    let (session, _) = log.get(id)?;
    if session.status.is_final() {
        return Err(CheckoutError::Store(StoreError::IllegalTransition {
            id: id.to_string(),
            from: session.status,
            to: Status::Cancelled,
        }));
    }
    log.add_event(
        id,
        now,
        "cancel_requested",
        &format!("cancel requested by staff (operator {})", by.id()),
    )?;
    match provider.cancel(&session_ref(&session, now)) {
        Ok(report) => {
            apply(
                log,
                provider,
                &session,
                &report,
                now,
                "cancel",
                true,
                Some(by.id()),
            )?;
            Ok(log.get(id)?.0)
        }
        Err(error) => Err(failed_call(log, &session, now, "cancel", error)?),
    }
}

/// What staff say about a session the provider cannot settle by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The customer says they have paid (an open session at a provider without a status
    /// Kassa can read): the session needs review.
    Claimed,
    /// Staff checked the provider's back office and found the payment.
    Paid,
    /// Staff checked and found no payment.
    NotPaid,
}

impl Verdict {
    pub fn parse(text: &str) -> Result<Verdict, String> {
        match text {
            "claimed" => Ok(Verdict::Claimed),
            "paid" => Ok(Verdict::Paid),
            "not_paid" | "not-paid" => Ok(Verdict::NotPaid),
            other => Err(format!(
                "{other:?} is not a verdict (claimed, paid, not-paid)"
            )),
        }
    }
}

/// Records what staff say about session `id`. `verifiable`: the session's provider reports
/// payments Kassa can check, so a customer's claim is not taken (Kassa follows the provider).
/// `paid` and `not_paid` need a session in `needs_review` or `unknown` (a create whose answer
/// never arrived, at a provider that cannot be asked by reference: only staff can settle it)
/// and are logged as confirmed by staff ([`SessionLog::record_staff_verdict`]), never as the
/// provider's evidence; they need a manager (`by`). A confirmed payment gets its signed sales
/// receipt in the journal, so the journal's key must be at hand.
pub fn review(
    log: &mut SessionLog,
    id: &str,
    verdict: Verdict,
    verifiable: bool,
    note: Option<&str>,
    by: &Authenticated,
    now: i64,
) -> Result<SessionRecord, CheckoutError> {
    let (session, _) = log.get(id)?;
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| format!(": {}", n.chars().take(300).collect::<String>()))
        .unwrap_or_default();
    let refuse = |to: Status| {
        CheckoutError::Store(StoreError::IllegalTransition {
            id: id.to_string(),
            from: session.status,
            to,
        })
    };
    match verdict {
        Verdict::Claimed => {
            if session.status != Status::Open || verifiable {
                return Err(refuse(Status::NeedsReview));
            }
            log.record_status(
                id,
                Status::NeedsReview,
                now,
                "staff",
                &format!(
                    "staff say the customer has paid{note}; check {} and confirm",
                    session.provider
                ),
                None,
                true,
            )?;
        }
        Verdict::Paid | Verdict::NotPaid => {
            let (to, what) = match verdict {
                Verdict::Paid => (Status::Paid, "payment confirmed by staff"),
                _ => (Status::Failed, "no payment found by staff"),
            };
            if !matches!(session.status, Status::NeedsReview | Status::Unknown) {
                return Err(refuse(to));
            }
            by.require_manager(match verdict {
                Verdict::Paid => "confirming a payment",
                _ => "recording that nothing was paid",
            })?;
            log.record_staff_verdict(
                id,
                to,
                by,
                now,
                &format!(
                    "{what} (operator {}) after checking {} (not the provider's evidence){note}",
                    by.id(),
                    session.provider
                ),
            )?;
        }
    }
    Ok(log.get(id)?.0)
}

#[cfg(test)]
mod tests;
