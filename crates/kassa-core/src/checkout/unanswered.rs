//! A create whose answer Kassa never recorded (a crash, a lost answer): what the provider holds
//! for the session's merchant reference decides its status, read once, never created again.
//!
//! - A payment for the reference: its status, as any status read ([`apply`]).
//! - No payment, a counter sale: `failed`. Its URL was never shown, so nobody can pay it.
//! - No payment, a link: the provider may have created the session and sent its link to the
//!   customer during the create (Dintero's `publish` sends the SMS then), so the session itself
//!   is looked up ([`Provider::find_session`]). Found: recorded as opened and followed like any
//!   open link (the customer may hold it). Not found: `failed`, nothing was created or sent.
//!   The provider cannot look sessions up: `needs_review` when the link was to be sent to the
//!   customer (nobody can tell whether the customer holds a link, staff decide), else it stays
//!   `unknown` (as when the provider cannot be asked).

use super::{apply, no_payment, session_ref};
use crate::provider::{ErrorKind, FoundSession, Provider, ProviderError};
use crate::session::{SessionId, Status};
use crate::store::{Opened, SessionLog, SessionRecord, StoreError};

/// Settles session `session` (no provider session id: its create got no answer) from what
/// `provider` holds for its reference. `Ok(Err(_))`: the provider could not be asked; nothing
/// was recorded and the caller says so. `Ok(Ok(note))`: what was recorded.
pub(super) fn settle(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    now: i64,
    kind: &str,
) -> Result<Result<String, ProviderError>, StoreError> {
    let r = session_ref(session, now);
    match provider.find_by_reference(&r) {
        Ok(Some(report)) => {
            return match apply(log, provider, session, &report, now, kind, false, None) {
                Ok(()) => Ok(Ok(report.detail)),
                // Paid at the provider, but its receipt cannot be signed now: nothing is
                // recorded (a paid sale never lacks its entry); the next read records it.
                Err(StoreError::SigningKey { detail }) => {
                    let note = format!(
                        "{} says {} ({}), not recorded yet: {detail}",
                        session.provider, report.status, report.detail
                    );
                    log.add_event(&session.id, now, kind, &note)?;
                    Ok(Ok(note))
                }
                Err(e) => Err(e),
            };
        }
        Ok(None) => {}
        Err(e) => return Ok(Err(e)),
    }
    if session.sale != crate::link::SaleKind::Link {
        let detail = no_payment(&session.provider, &session.merchant_reference);
        log.record_status(&session.id, Status::Failed, now, kind, &detail, None, true)?;
        return Ok(Ok(detail));
    }
    match provider.find_session(&r) {
        Ok(Some(found)) => follow_found(log, provider, session, &found, now, kind).map(Ok),
        Ok(None) => {
            let detail = format!(
                "{} has neither a payment nor a session for reference {}: the link was never \
                 created, so nothing was sent",
                session.provider, session.merchant_reference
            );
            log.record_status(&session.id, Status::Failed, now, kind, &detail, None, true)?;
            Ok(Ok(detail))
        }
        Err(e) if matches!(e.kind, ErrorKind::Unsupported { .. }) => {
            let Some(to) = session.contact_masked.as_deref() else {
                return Ok(Err(e));
            };
            let detail = format!(
                "{} cannot be asked whether it created this link and sent it to {to} (it has no \
                 payment for reference {}): check with {} before charging the order again",
                session.provider, session.merchant_reference, session.provider
            );
            log.record_status(
                &session.id,
                Status::NeedsReview,
                now,
                kind,
                &detail,
                None,
                true,
            )?;
            Ok(Ok(detail))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// Records a session found by reference as opened, then what it says now when that is not
/// `open` (paid, expired, cancelled).
fn follow_found(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    found: &FoundSession,
    now: i64,
    kind: &str,
) -> Result<String, StoreError> {
    // Every logged id was made by `SessionId::new`; one that is not is a damaged log.
    let sid = SessionId::parse(&session.id).map_err(|detail| StoreError::Corrupt {
        path: log.path().to_path_buf(),
        detail,
    })?;
    let note = format!(
        "{} session {} found by reference {} after the create's answer was lost: followed as an \
         open link (the customer may hold it), expires {}",
        session.provider,
        found.provider_session_id,
        session.merchant_reference,
        found
            .expires_at
            .map(crate::time::format_rfc3339)
            .unwrap_or_else(|| "(not said)".into())
    );
    log.record_opened(
        &sid,
        &Opened {
            provider_session_id: &found.provider_session_id,
            checkout_url: &found.checkout_url,
            qr_payload: &found.checkout_url,
            expires_at: found.expires_at.or(session.expires_at),
        },
        now,
        &note,
    )?;
    if found.report.status != Status::Open {
        let (opened, _) = log.get(&session.id)?;
        apply(log, provider, &opened, &found.report, now, kind, true, None)?;
    }
    Ok(note)
}
