//! A link sale after its create: sending its link (at the start, again on Resend) and renewing
//! a link that expired or was cancelled as a new session for the same order.
//!
//! - A send ([`send`]) is recorded before its request (`send_requested`, durably) and after it
//!   (`sent`, `send_failed`, or `send_unknown` when no answer came), with the contact masked; a
//!   failed send leaves the session open (the link can still be copied). Sends are never
//!   retried by Kassa: a second message is worse than a missing one staff can see, so a send
//!   a crash cut short is said unknown at the next start, never repeated.
//! - [`renew`] never reuses a session: the new one has its own id and merchant reference
//!   (`<reference>-R<n>`, because providers refuse an order id twice: Bambora, Opencharge) and
//!   records which session it renews; each session is renewed at most once (the session log's
//!   unique index), and the old session's contact moves to the new one.

use super::lock::{pause_point, OperationLock};
use super::{session_ref, start, ChargeRequest, CheckoutError, Started};
use crate::code::Code;
use crate::link::{Channel, Contact, Lifetime, LinkError, LinkSale, Sale, SaleKind};
use crate::operator::Authenticated;
use crate::provider::{Presentation, Provider, ProviderError, Sent};
use crate::session::{SessionId, Status};
use crate::store::{SessionLog, SessionRecord, StoreError};
use std::path::Path;

/// What became of sending a link: the `sent` object of `kassa-cli charge --json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub channel: Channel,
    /// The contact, masked.
    pub to: String,
    /// The provider's word (`sent`, `skipped`, `failed`, `accepted`), or `error` when the
    /// request failed.
    pub status: String,
    /// The provider's error when the request failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Sends session `s`'s link to `to` through `provider`, once: under the session's send lock
/// (another process sending it now: refused), the attempt recorded durably first
/// (`send_requested`), then the request, then its outcome (`sent`, `send_failed`, or
/// `send_unknown` when the request may have reached the provider without an answer). A process
/// killed in between leaves the attempt in the log; the next start says its outcome is unknown
/// ([`super::reconcile`]). Never retried.
pub(super) fn send(
    log: &mut SessionLog,
    provider: &dyn Provider,
    s: &SessionRecord,
    to: &Contact,
    now: i64,
) -> Result<Delivery, CheckoutError> {
    let dir = super::data_dir_of(log).to_path_buf();
    let Some(_sending) = OperationLock::try_acquire_send(&dir, &s.id)? else {
        return Err(refused(
            s,
            Code::OperationInProgress,
            format!(
                "session {}: another Kassa is sending its link right now",
                s.id
            ),
        ));
    };
    log.record_send_attempt(
        &s.id,
        now,
        &format!(
            "sending the link by {} to {} through {} (once: if Kassa stops before the answer, \
             whether it went out is unknown)",
            to.channel(),
            to.masked(),
            provider.name()
        ),
    )?;
    pause_point("send_after_requested");
    let result = provider.send_link(&session_ref(s, now), to);
    pause_point("send_after_response");
    let now = crate::time::now_millis().max(now);
    Ok(record_sent(log, &s.id, to, result, now)?)
}

/// Records what a send did as an event and returns it.
pub(super) fn record_sent(
    log: &mut SessionLog,
    id: &str,
    to: &Contact,
    result: Result<Sent, ProviderError>,
    now: i64,
) -> Result<Delivery, StoreError> {
    let masked = to.masked();
    match result {
        Err(e) if e.may_have_reached_provider() => {
            log::warn!(target: "kassa::checkout", "session {id}: sending the link got no answer: {e}");
            log.add_event(
                id,
                now,
                "send_unknown",
                &format!(
                    "sending the link by {} to {masked} got no answer [{}]: {e}; whether {} sent it \
                     is unknown, and Kassa does not send it again by itself (ask the customer, \
                     or Resend)",
                    to.channel(),
                    e.code(),
                    e.provider
                ),
            )?;
            Ok(Delivery {
                channel: to.channel(),
                to: masked,
                status: "unknown".into(),
                error: Some(format!("{e} [{}]", e.code())),
            })
        }
        Ok(sent) => {
            log.add_event(id, now, "sent", &sent.detail)?;
            Ok(Delivery {
                channel: sent.channel,
                to: masked,
                status: sent.status,
                error: None,
            })
        }
        Err(e) => {
            log::warn!(target: "kassa::checkout", "session {id}: sending the link failed: {e}");
            log.add_event(
                id,
                now,
                "send_failed",
                &format!(
                    "sending the link by {} to {masked} failed [{}]: {e}; the link can still be copied",
                    to.channel(),
                    e.code()
                ),
            )?;
            Ok(Delivery {
                channel: to.channel(),
                to: masked,
                status: "error".into(),
                error: Some(format!("{e} [{}]", e.code())),
            })
        }
    }
}

/// `47 h`, `30 days`, `30 min`: a provider's limit in a sentence.
pub(super) fn duration_text(ms: i64) -> String {
    let minutes = ms / 60_000;
    if minutes % (24 * 60) == 0 {
        format!("{} days", minutes / (24 * 60))
    } else if minutes % 60 == 0 {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}

fn refused(s: &SessionRecord, code: Code, message: String) -> CheckoutError {
    CheckoutError::Refused {
        session_id: s.id.clone(),
        code,
        message,
    }
}

/// Sends an open link's URL to the customer again, through the provider: to `to` (which then
/// becomes the session's contact), or else to the contact the session log keeps. Refused with
/// [`Code::CannotSend`] where the provider cannot send again (Dintero sends only at creation;
/// Commerce Layer and Opencharge never): copy the link instead.
pub fn resend(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    to: Option<&Contact>,
    now: i64,
) -> Result<(SessionRecord, Delivery), CheckoutError> {
    let (s, _) = log.get(id)?;
    if s.status != Status::Open {
        return Err(refused(
            &s,
            Code::NotRenewable,
            format!(
                "session {id} is {}: only an open link can be sent{}",
                s.status,
                if matches!(s.status, Status::Expired | Status::Cancelled) {
                    " (renew it: a new link for the same order)"
                } else {
                    ""
                }
            ),
        ));
    }
    let rules = provider.capabilities().link;
    if !rules.resend {
        return Err(LinkError::CannotResend {
            provider: provider.name().to_string(),
        }
        .into());
    }
    let contact = match to.cloned().or_else(|| s.contact()) {
        Some(c) => c,
        None => {
            return Err(refused(
                &s,
                Code::InvalidInput,
                format!("session {id} has no customer contact: give a phone number or an e-mail address to send to"),
            ))
        }
    };
    crate::link::check_send(provider.name(), &rules, Some(&contact))?;
    provider
        .check_contact(&contact)
        .map_err(|e| refused(&s, e.code(), e.to_string()))?;
    if to.is_some() {
        log.record_contact(id, &contact, now)?;
    }
    let delivery = send(log, provider, &s, &contact, now)?;
    Ok((log.get(id)?.0, delivery))
}

/// What a renewal may change; the rest is the old session's.
#[derive(Debug, Clone, Default)]
pub struct Renewal {
    /// The new link's lifetime; default: as long as the old one was asked to live.
    pub lifetime: Option<Lifetime>,
    /// Send it to this contact; default: the old session's contact, while it is kept.
    pub send: Option<Contact>,
    /// Where the provider sends the customer after paying (`shop.return_url`); default
    /// [`super::DEFAULT_RETURN_URL`].
    pub return_url: Option<String>,
}

/// A new session for the order of link `id`, which expired or was cancelled (a session is
/// never reused). `provider` is the old session's provider and profile.
#[allow(clippy::too_many_arguments)]
pub fn renew(
    log: &mut SessionLog,
    data_dir: &Path,
    provider: &dyn Provider,
    id: &str,
    renewal: &Renewal,
    new_id: SessionId,
    operator: &Authenticated,
    now: i64,
) -> Result<Started, CheckoutError> {
    let (old, _) = log.get(id)?;
    if old.sale != SaleKind::Link {
        return Err(refused(
            &old,
            Code::NotRenewable,
            format!("session {id} is a counter sale: charge the order again instead"),
        ));
    }
    if !matches!(old.status, Status::Expired | Status::Cancelled) {
        let why = match old.status {
            Status::Paid => "it is paid".to_string(),
            Status::Open => "it is still open (cancel it first, or resend it)".to_string(),
            other => format!("it is {other}; only an expired or cancelled link is renewed"),
        };
        return Err(refused(
            &old,
            Code::NotRenewable,
            format!("session {id} cannot be renewed: {why}"),
        ));
    }
    if let Some(by) = log.renewed_by(id)? {
        return Err(refused(
            &old,
            Code::NotRenewable,
            format!("session {id} was already renewed by session {by}"),
        ));
    }
    let mut order = crate::quote::from_logged(&old.order_json).map_err(|m| {
        CheckoutError::Store(StoreError::Corrupt {
            path: log.path().to_path_buf(),
            detail: format!("session {id}: {m}"),
        })
    })?;
    order.reference = renewed_reference(log, &old)?;
    let lifetime = renewal.lifetime.unwrap_or_else(|| {
        let asked = old
            .requested_expires_at
            .or(old.expires_at)
            .unwrap_or(old.created_at);
        Lifetime::Until(now + (asked - old.created_at).max(3600 * 1000))
    });
    let sale = Sale::Link(LinkSale {
        lifetime,
        send: renewal.send.clone().or_else(|| old.contact()),
    });
    let started = start(
        log,
        data_dir,
        provider,
        &ChargeRequest {
            order: &order,
            presentation: Presentation::Qr,
            return_url: renewal
                .return_url
                .as_deref()
                .unwrap_or(super::DEFAULT_RETURN_URL),
            demo: old.demo,
            id: new_id,
            now,
            capture: old
                .capture_policy
                .unwrap_or(crate::provider::CapturePolicy::AtSale),
            sale: &sale,
            counter_ms: 0,
            renews: Some(id),
            operator,
        },
    )?;
    log.add_event(
        id,
        now,
        "renewed",
        &format!("renewed by session {}", started.session.id),
    )?;
    log.forget_contact(
        id,
        now,
        &format!(
            "the customer's contact moved to session {}",
            started.session.id
        ),
    )?;
    Ok(started)
}

/// `<original reference>-R<n>` for the n-th renewal of an order.
fn renewed_reference(log: &SessionLog, old: &SessionRecord) -> Result<String, StoreError> {
    let mut depth = 1;
    let mut at = old.renews.clone();
    while let Some(prev) = at {
        depth += 1;
        at = log.get(&prev)?.0.renews;
    }
    let base = match old.merchant_reference.rsplit_once("-R") {
        Some((b, n)) if old.renews.is_some() && n.bytes().all(|c| c.is_ascii_digit()) => b,
        _ => &old.merchant_reference,
    };
    let base: String = base.chars().take(56).collect();
    Ok(format!("{base}-R{depth}"))
}
