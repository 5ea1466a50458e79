//! The capture a sale starts when it becomes paid under the `at_sale` policy (a counter sale
//! hands the goods over at once), by the provider's [`AtSaleCapture`]:
//!
//! - `ByProvider` (Dintero `auto_capture`, Klarna `CAPTURE_ORDER`, Bambora
//!   `instantcaptureamount`: asked in the create): a capture operation `via = session` is
//!   recorded `sent` in the same transaction as the paid status, then the provider's record is
//!   read: captured ≥ the sale is `done` with that evidence; not yet (Dintero captures
//!   asynchronously, for up to 48 h) it stays `sent` and later reads settle it (`settle.rs`).
//! - `ByKassa` (Commerce Layer, whose auto-capture is the shop's dashboard setting): a capture
//!   by API, recorded `requested` with the paid status under the session's operation lock,
//!   then sent like any other operation (`operation::send`).
//! - `NotNeeded` (Opencharge: a paid transfer is final money): nothing.
//!
//! The sale's journal entry (written with the paid status) records where the money stands by
//! the evidence then: `captured` when the provider's record (read just before, for
//! `ByProvider`) shows it, `capture_pending` while a capture is asked but not shown,
//! `authorized` under the `manual` policy.
//!
//! Recording the capture together with the paid status means a crash cannot leave a paid
//! at-sale session with no capture on record: reconciliation finds the operation. Whatever
//! happens to the capture is recorded on its operation and never turns the paid status into
//! an error for the caller. Sessions logged before the policy was recorded, and payments
//! staff confirmed (no provider evidence), start nothing.

use super::lock::{pause_point, OperationLock};
use super::operation::send;
use super::{data_dir_of, money, session_ref, settle, CheckoutError};
use crate::journal::Standing;
use crate::provider::{AtSaleCapture, CapturePolicy, OperationKind, Provider, StatusReport};
use crate::quote::from_logged;
use crate::session::{SessionId, Status};
use crate::store::{
    NewOperation, OperationState, SessionLog, SessionRecord, StatusChange, StoreError, Via,
};

/// Records that `session` became paid (`report`, which brought `payment_id` when the session
/// had none), with its at-sale capture when the policy and the provider call for one.
pub(super) fn record_paid(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    report: &StatusReport,
    payment_id: Option<&str>,
    now: i64,
    kind: &str,
) -> Result<(), StoreError> {
    let caps = provider.capabilities();
    let how = caps.at_sale_capture;
    let wanted = session.capture_policy == Some(CapturePolicy::AtSale)
        && match how {
            AtSaleCapture::ByProvider => true,
            AtSaleCapture::ByKassa => caps.capture,
            AtSaleCapture::NotNeeded => false,
        };
    // The sale's journal entry says where its money stands by the evidence at hand, never more.
    let change = |operation, standing| StatusChange {
        to: Status::Paid,
        kind,
        detail: &report.detail,
        payment_id,
        operation,
        standing: Some(standing),
        operator_id: None,
    };
    if !wanted {
        let standing = match how {
            // A paid transfer is final money: nothing to capture.
            AtSaleCapture::NotNeeded => Standing::Captured,
            _ => Standing::Authorized,
        };
        log.record_change(&session.id, now, &change(None, standing))?;
        pause_point("paid_recorded");
        // A sale staff capture later: when its authorization lapses, for history to warn.
        return settle::learn_expiry(log, provider, session, now);
    }
    let op_id = SessionId::generate(now).to_string();
    let amount = money(&session.currency, session.gross_minor);
    let op = |via, state| NewOperation {
        id: &op_id,
        session_id: &session.id,
        kind: OperationKind::Capture,
        via,
        amount: session.gross_minor,
        lines: &[],
        reason: None,
        pre_image: None,
        state,
        at: now,
        operator_id: session.operator_id,
    };
    if how == AtSaleCapture::ByProvider {
        // The provider's record first, read once and used twice: for the sale's journal entry
        // (captured only when the provider shows it) and to settle the capture after.
        let mut paid = session.clone();
        if let Some(pid) = payment_id {
            paid.provider_payment_id = Some(pid.to_string());
        }
        let state = provider.payment_state(&session_ref(&paid, now));
        let standing = match &state {
            Ok(s) if s.captured >= session.gross_minor => Standing::Captured,
            _ => Standing::CapturePending,
        };
        let words = format!(
            "capture of {amount} at sale: asked of {} with the session; waiting for its evidence",
            provider.name()
        );
        log.record_change(
            &session.id,
            now,
            &change(
                Some((op(Via::Session, OperationState::Sent), &words)),
                standing,
            ),
        )?;
        pause_point("paid_recorded");
        let (session, _) = log.get(&session.id)?;
        if log.operation(&op_id).is_err() {
            return Ok(()); // another process recorded the payment (and its capture) first
        }
        match state {
            Ok(state) => {
                settle::expiry(log, &session, &state, now, provider.name())?;
                let rec = log.operation(&op_id)?;
                settle::settle_one(
                    log,
                    provider.name(),
                    &session.currency,
                    &rec,
                    &state,
                    caps.operation_references,
                    now,
                )?;
            }
            Err(e) => log.add_operation_event(
                &op_id,
                now,
                &format!(
                    "its evidence could not be read yet [{}]: {e}; the next read settles it",
                    e.code()
                ),
            )?,
        }
        return Ok(());
    }
    let Ok(Some(_lock)) = OperationLock::try_acquire(data_dir_of(log), &session.id) else {
        log.record_change(&session.id, now, &change(None, Standing::Authorized))?;
        return log.add_event(
            &session.id,
            now,
            "capture",
            "capture at sale not started: another operation of this sale is in progress; \
             capture it from the history",
        );
    };
    let words = format!("capture of {amount} at sale requested (by API)");
    log.record_change(
        &session.id,
        now,
        &change(
            Some((op(Via::Api, OperationState::Requested), &words)),
            Standing::CapturePending,
        ),
    )?;
    pause_point("paid_recorded");
    let (session, _) = log.get(&session.id)?;
    if log.operation(&op_id).is_err() {
        return Ok(()); // another process recorded the payment (and its capture) first
    }
    match capture_now(log, provider, &session, &op_id, now) {
        Ok(()) | Err(CheckoutError::Operation { .. }) | Err(CheckoutError::Refused { .. }) => {
            Ok(())
        }
        Err(CheckoutError::Store(e)) => Err(e),
        Err(e) => {
            // On the operation already, or it stays `requested` and reconciliation says so.
            log::warn!(target: "kassa::checkout", "session {}: capture at sale: {e}", session.id);
            Ok(())
        }
    }
}

/// Sends the at-sale capture `op_id` (recorded `requested`, lock held by the caller): reads the
/// provider's operations for the pre-image first; if it cannot, the capture is not sent.
fn capture_now(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    op_id: &str,
    now: i64,
) -> Result<(), CheckoutError> {
    let fail = |log: &mut SessionLog, why: String| {
        log.record_operation_state(
            op_id,
            OperationState::Failed,
            now,
            None,
            Some(&why),
            &format!("capture at sale not sent: {why}; capture it from the history"),
        )
        .map(|_| ())
    };
    let priced = match from_logged(&session.order_json) {
        Ok(p) => p,
        Err(why) => return Ok(fail(log, why)?),
    };
    match provider.payment_state(&session_ref(session, now)) {
        Ok(state) => {
            settle::expiry(log, session, &state, now, provider.name())?;
            log.record_pre_image(
                op_id,
                &serde_json::to_string(&state.operations).expect("operations serialize"),
            )?
        }
        Err(e) => {
            return Ok(fail(
                log,
                format!("the payment could not be read first [{}]: {e}", e.code()),
            )?)
        }
    }
    let op = log.operation(op_id)?;
    send(log, provider, session, &priced, op, now).map(|_| ())
}
