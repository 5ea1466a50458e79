//! Settling an operation whose outcome Kassa does not know (the request may have reached the
//! provider: a timeout after sending, a 5xx, an unreadable answer, a crash after `sent`; a
//! 202 still being processed; a capture the provider makes by itself), from the provider's
//! record of the payment ([`PaymentState`]), never by sending it again.
//!
//! How an operation is found in that record ([`find`]):
//! - a capture the provider makes by itself (`via = session`): captured ≥ its amount is done;
//!   a failed capture of the provider's own (no reference) is failed; else it is still coming;
//! - at a provider that keeps Kassa's reference (`Capabilities::operation_references`:
//!   Dintero's `event_reference`, Klarna's `reference`), a capture or refund is the one whose
//!   reference is the operation's id;
//! - otherwise (and for every void, which carries no reference) the **pre-image rule**: an
//!   operation of the same kind and amount in the record that was not among those read just
//!   before the request was sent (`pre_image`). One is the answer; two are ambiguous (another
//!   till may have done the same), which stays `unknown` for staff to decide. An operation
//!   another of the sale's operations already claimed (its `provider_reference`) is no
//!   candidate, and a sale's unsettled operations are settled newest first: a newer one's
//!   pre-image was read later, so its window is the narrower one. (Without this, an operation
//!   that never arrived, still `unknown`, would claim what a later one did: one provider
//!   operation recorded as two.)
//!
//! Nothing found: a request that never arrived. Until [`SETTLE_AFTER_MS`] after it was sent,
//! it may still be on its way (`unknown`); after that it is `failed` (it never took effect),
//! and a retry is a new operation.

use super::lock::OperationLock;
use super::{data_dir_of, money, session_ref, CheckoutError};
use crate::provider::{
    OperationKind, PaymentState, Provider, ProviderError, ProviderOperation, ProviderOutcome,
};
use crate::store::{
    authorization_due, OperationRecord, OperationState, SessionLog, SessionRecord, StoreError, Via,
};

/// How long after it was sent an operation the provider's record does not show counts as
/// never having arrived. Longer than any request's timeout, so that an answer still on its way
/// is not mistaken for none; short enough that staff can retry the same day.
pub const SETTLE_AFTER_MS: i64 = 10 * 60 * 1000;

/// What the provider's record says about one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Found {
    /// It happened (with the provider's id of it, when it has one).
    Done(Option<String>),
    /// The provider's record says it failed.
    Failed(String),
    /// Started, not finished (Dintero's `INITIATE_*`; a capture the provider still makes).
    Pending,
    /// More than one candidate: Kassa cannot tell which is its own.
    Ambiguous(String),
    /// Not in the record.
    Nothing,
}

/// Finds `op` in the provider's record `state` (see the module doc). `references`: the
/// provider keeps Kassa's operation id on captures and refunds. `claimed`: the provider's ids
/// of operations the sale's other operations of Kassa's already are.
pub(super) fn find(
    op: &OperationRecord,
    state: &PaymentState,
    references: bool,
    claimed: &[&str],
) -> Found {
    if op.via == Via::Session {
        let own_failed = state.operations.iter().any(|o| {
            o.kind == OperationKind::Capture
                && o.reference.is_none()
                && o.outcome == ProviderOutcome::Failed
        });
        return if state.captured >= op.amount {
            let id = state
                .operations
                .iter()
                .find(|o| {
                    o.kind == OperationKind::Capture && o.outcome == ProviderOutcome::Succeeded
                })
                .and_then(|o| o.provider_id.clone());
            Found::Done(id)
        } else if own_failed {
            Found::Failed("the provider's own capture failed".into())
        } else {
            Found::Pending
        };
    }
    if op.kind == OperationKind::Void && state.voided {
        let id = state
            .operations
            .iter()
            .rev()
            .find(|o| o.kind == OperationKind::Void && o.outcome == ProviderOutcome::Succeeded)
            .and_then(|o| o.provider_id.clone());
        return Found::Done(id);
    }
    let candidates: Vec<&ProviderOperation> = if references && op.kind != OperationKind::Void {
        state
            .operations
            .iter()
            .filter(|o| o.reference.as_deref() == Some(op.id.as_str()))
            .collect()
    } else {
        let before: Vec<ProviderOperation> = op
            .pre_image
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        new_since(&before, &state.operations)
            .into_iter()
            .filter(|o| {
                o.kind == op.kind && (op.kind == OperationKind::Void || o.amount == op.amount)
            })
            .filter(|o| {
                !o.provider_id
                    .as_deref()
                    .is_some_and(|id| claimed.contains(&id))
            })
            .collect()
    };
    let with = |outcome| candidates.iter().filter(move |o| o.outcome == outcome);
    let succeeded: Vec<&&ProviderOperation> = with(ProviderOutcome::Succeeded).collect();
    match succeeded.as_slice() {
        [one] => return Found::Done(one.provider_id.clone()),
        [_, _, ..] => {
            return Found::Ambiguous(format!(
            "{} new {} operations of this amount at the provider: which is Kassa's cannot be told",
            succeeded.len(),
            op.kind.as_str()
        ))
        }
        [] => {}
    }
    if with(ProviderOutcome::Pending).next().is_some() {
        Found::Pending
    } else if with(ProviderOutcome::Failed).next().is_some() {
        Found::Failed("the provider's record says it failed".into())
    } else {
        Found::Nothing
    }
}

/// The operations in `now` that were not in `before`: by the provider's id where both have
/// one, else by kind, amount and reference (each earlier operation accounts for one later).
fn new_since<'a>(
    before: &[ProviderOperation],
    now: &'a [ProviderOperation],
) -> Vec<&'a ProviderOperation> {
    let mut unmatched: Vec<&ProviderOperation> = before.iter().collect();
    let mut out = Vec::new();
    for o in now {
        let same = |b: &&ProviderOperation| match (&b.provider_id, &o.provider_id) {
            (Some(x), Some(y)) => x == y,
            _ => b.kind == o.kind && b.amount == o.amount && b.reference == o.reference,
        };
        match unmatched.iter().position(same) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => out.push(o),
        }
    }
    out
}

/// Records what `find` says about `op`. Evidence (the captured and refunded figures of the
/// same read) goes with a done one.
pub(super) fn settle_one(
    log: &mut SessionLog,
    provider: &str,
    currency: &str,
    op: &OperationRecord,
    state: &PaymentState,
    references: bool,
    now: i64,
) -> Result<(), StoreError> {
    let what = format!("{} {}", op.kind.as_str(), money(currency, op.amount));
    let sale = log.operations(&op.session_id)?;
    let claimed: Vec<&str> = sale
        .iter()
        .filter(|o| o.id != op.id && o.kind == op.kind)
        .filter_map(|o| o.provider_reference.as_deref())
        .collect();
    match find(op, state, references, &claimed) {
        Found::Done(reference) => {
            log.record_operation_state(
                &op.id,
                OperationState::Done,
                now,
                reference.as_deref(),
                None,
                &format!(
                    "{what} done: {provider}'s record shows it ({})",
                    state.detail
                ),
            )?;
            evidence(log, &op.id, currency, state, now)?;
        }
        Found::Failed(why) => {
            log.record_operation_state(
                &op.id,
                OperationState::Failed,
                now,
                None,
                Some(&why),
                &format!("{what} failed: {why} ({})", state.detail),
            )?;
        }
        Found::Pending => {}
        Found::Ambiguous(why) => {
            if op.state == OperationState::Sent {
                log.record_operation_state(
                    &op.id,
                    OperationState::Unknown,
                    now,
                    None,
                    Some(&why),
                    &format!("{what} unknown: {why}; check {provider}'s back office"),
                )?;
            }
        }
        Found::Nothing if op.via == Via::Session => {}
        Found::Nothing => {
            let sent_at = op.sent_at.unwrap_or(op.created_at);
            if now - sent_at >= SETTLE_AFTER_MS {
                let why = format!(
                    "not at {provider} {} minutes after it was sent: it never took effect",
                    (now - sent_at) / 60_000
                );
                log.record_operation_state(
                    &op.id,
                    OperationState::Failed,
                    now,
                    None,
                    Some(&why),
                    &format!("{what} failed: {why}; a retry is a new operation"),
                )?;
            } else if op.state == OperationState::Sent {
                log.record_operation_state(
                    &op.id,
                    OperationState::Unknown,
                    now,
                    None,
                    Some("sent, but not (yet) in the provider's record"),
                    &format!(
                        "{what} unknown: {provider} does not show it yet; it is looked for again, \
                         never sent again"
                    ),
                )?;
            }
        }
    }
    Ok(())
}

/// Logs the provider's captured and refunded figures after a done operation.
pub(super) fn evidence(
    log: &mut SessionLog,
    op_id: &str,
    currency: &str,
    state: &PaymentState,
    now: i64,
) -> Result<(), StoreError> {
    log.record_operation_evidence(
        op_id,
        state.captured,
        state.refunded,
        now,
        &format!(
            "read back: captured {}, refunded {} of {} authorized ({})",
            money(currency, state.captured),
            money(currency, state.refunded),
            money(currency, state.authorized),
            state.detail
        ),
    )
}

/// Records when the payment's uncaptured authorization lapses, as a read of the provider's
/// record (`state`) just said, so history can warn before it without asking again.
pub(super) fn expiry(
    log: &mut SessionLog,
    session: &SessionRecord,
    state: &PaymentState,
    now: i64,
    provider: &str,
) -> Result<(), StoreError> {
    log.record_authorization_expiry(&session.id, state.authorization_expires_at, now, provider)
        .map(|_| ())
}

/// One read of the provider's record of paid session `session`'s payment when staff must
/// capture it ([`authorization_due`]) and Kassa does not know yet when its authorization
/// lapses (a `manual` sale just paid; a sale paid before Kassa recorded expiries). A failed
/// read is only logged: the next one tries again.
pub(super) fn learn_expiry(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    now: i64,
) -> Result<(), StoreError> {
    let (session, _) = log.get(&session.id)?;
    let ops = log.operations(&session.id)?;
    let known = session.authorization_expires_at.is_some();
    if known
        || !provider.capabilities().capture
        || !authorization_due(&session, &ops, now).capture_due
    {
        return Ok(());
    }
    match provider.payment_state(&session_ref(&session, now)) {
        Ok(state) => expiry(log, &session, &state, now, provider.name()),
        Err(e) => log.add_event(
            &session.id,
            now,
            "authorization",
            &format!(
                "when the authorization lapses could not be read [{}]: {e}; the next read tries \
                 again",
                e.code()
            ),
        ),
    }
}

/// `requested` operations whose lock the caller took: Kassa stopped before sending them.
pub(super) fn abandoned_requests(
    log: &mut SessionLog,
    ops: &[OperationRecord],
    now: i64,
) -> Result<(), StoreError> {
    for op in ops.iter().filter(|o| o.state == OperationState::Requested) {
        log.record_operation_state(
            &op.id,
            OperationState::Failed,
            now,
            None,
            Some("never sent"),
            &format!(
                "{} failed: never sent (Kassa stopped after recording it and before sending it)",
                op.kind.as_str()
            ),
        )?;
    }
    Ok(())
}

/// Settles `ops` (unsettled operations of `session`, whose operation lock the caller holds):
/// abandoned requests fail, the rest are looked up in one read of the provider's record.
/// Returns the read's error when it failed (the operations then stay as they are).
pub(super) fn settle_with(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    ops: &[OperationRecord],
    now: i64,
) -> Result<Option<ProviderError>, StoreError> {
    abandoned_requests(log, ops, now)?;
    let open: Vec<&OperationRecord> = ops
        .iter()
        .filter(|o| matches!(o.state, OperationState::Sent | OperationState::Unknown))
        .collect();
    if open.is_empty() {
        return Ok(None);
    }
    let state = match provider.payment_state(&session_ref(session, now)) {
        Ok(s) => s,
        Err(e) => return Ok(Some(e)),
    };
    expiry(log, session, &state, now, provider.name())?;
    let references = provider.capabilities().operation_references;
    // Newest first (see the module doc).
    for op in open.into_iter().rev() {
        settle_one(
            log,
            provider.name(),
            &session.currency,
            op,
            &state,
            references,
            now,
        )?;
    }
    Ok(None)
}

/// Settles a paid session's unsettled operations (a status refresh of a paid session): under
/// its operation lock (a living process's operation is left alone), with one read. With none
/// to settle, learns when the authorization lapses if staff must capture it and Kassa does not
/// know yet ([`learn_expiry`]).
pub(super) fn settle_session(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    now: i64,
) -> Result<(), CheckoutError> {
    let ops: Vec<OperationRecord> = log
        .operations(&session.id)?
        .into_iter()
        .filter(|o| !o.state.is_settled())
        .collect();
    if ops.is_empty() {
        return Ok(learn_expiry(log, provider, session, now)?);
    }
    let Some(_lock) = OperationLock::try_acquire(data_dir_of(log), &session.id)? else {
        return Ok(());
    };
    match settle_with(log, provider, session, &ops, now)? {
        None => Ok(()),
        Some(error) => Err(super::failed_call(
            log,
            session,
            now,
            "payment read",
            error,
        )?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(
        kind: OperationKind,
        via: Via,
        amount: i64,
        pre: &[ProviderOperation],
    ) -> OperationRecord {
        OperationRecord {
            id: "op-1".into(),
            session_id: "s".into(),
            kind,
            via,
            amount,
            lines: vec![],
            reason: None,
            state: OperationState::Unknown,
            pre_image: Some(serde_json::to_string(pre).unwrap()),
            provider_reference: None,
            captured_after: None,
            refunded_after: None,
            error: None,
            created_at: 0,
            updated_at: 0,
            sent_at: Some(0),
            operator_id: None,
        }
    }

    fn pop(
        kind: OperationKind,
        id: &str,
        amount: i64,
        reference: Option<&str>,
        outcome: ProviderOutcome,
    ) -> ProviderOperation {
        ProviderOperation {
            kind,
            provider_id: Some(id.into()),
            amount,
            reference: reference.map(Into::into),
            outcome,
        }
    }

    fn state(captured: i64, refunded: i64, ops: Vec<ProviderOperation>) -> PaymentState {
        PaymentState {
            authorized: 1000,
            captured,
            refunded,
            operations: ops,
            ..Default::default()
        }
    }

    use OperationKind::{Capture, Refund, Void};
    use ProviderOutcome::{Failed, Pending, Succeeded};

    #[test]
    fn by_reference_where_the_provider_keeps_it() {
        let o = op(Refund, Via::Api, 300, &[]);
        let mine = pop(Refund, "E2", 300, Some("op-1"), Succeeded);
        let other = pop(Refund, "E3", 300, Some("op-9"), Succeeded);
        assert_eq!(
            find(&o, &state(1000, 600, vec![other.clone(), mine]), true, &[]),
            Found::Done(Some("E2".into()))
        );
        // Another operation of the same amount is not Kassa's.
        assert_eq!(
            find(&o, &state(1000, 300, vec![other.clone()]), true, &[]),
            Found::Nothing
        );
        let started = pop(Refund, "E4", 300, Some("op-1"), Pending);
        assert_eq!(
            find(&o, &state(1000, 300, vec![started]), true, &[]),
            Found::Pending
        );
        let failed = pop(Refund, "E5", 300, Some("op-1"), Failed);
        assert!(matches!(
            find(&o, &state(1000, 0, vec![failed]), true, &[]),
            Found::Failed(_)
        ));
    }

    #[test]
    fn by_the_pre_image_where_it_does_not() {
        let earlier = pop(Refund, "R1", 300, None, Succeeded);
        let o = op(Refund, Via::Api, 300, std::slice::from_ref(&earlier));
        // Only the earlier one: nothing new.
        assert_eq!(
            find(&o, &state(1000, 300, vec![earlier.clone()]), false, &[]),
            Found::Nothing
        );
        // A new one of the same kind and amount: Kassa's.
        let new = pop(Refund, "R2", 300, None, Succeeded);
        assert_eq!(
            find(
                &o,
                &state(1000, 600, vec![earlier.clone(), new.clone()]),
                false,
                &[],
            ),
            Found::Done(Some("R2".into()))
        );
        // Of another amount, or another kind: not Kassa's.
        let other = pop(Refund, "R3", 200, None, Succeeded);
        let capture = pop(Capture, "C1", 300, None, Succeeded);
        assert_eq!(
            find(
                &o,
                &state(1000, 500, vec![earlier.clone(), other, capture]),
                false,
                &[],
            ),
            Found::Nothing
        );
        // One another of the sale's operations already is: not this one's.
        assert_eq!(
            find(
                &o,
                &state(1000, 600, vec![earlier.clone(), new.clone()]),
                false,
                &["R2"],
            ),
            Found::Nothing
        );
        // Two new ones: which is Kassa's cannot be told.
        let twin = pop(Refund, "R4", 300, None, Succeeded);
        assert!(matches!(
            find(
                &o,
                &state(1000, 900, vec![earlier.clone(), new, twin]),
                false,
                &[],
            ),
            Found::Ambiguous(_)
        ));
        // Without provider ids the earlier ones are counted off by kind and amount.
        let anon = |amount| ProviderOperation {
            provider_id: None,
            ..pop(Refund, "", amount, None, Succeeded)
        };
        let o = op(Refund, Via::Api, 300, &[anon(300)]);
        assert_eq!(
            find(&o, &state(1000, 300, vec![anon(300)]), false, &[]),
            Found::Nothing
        );
        assert_eq!(
            find(
                &o,
                &state(1000, 600, vec![anon(300), anon(300)]),
                false,
                &[]
            ),
            Found::Done(None)
        );
    }

    #[test]
    fn a_void_and_a_capture_the_provider_makes_by_itself() {
        let o = op(Void, Via::Api, 1000, &[]);
        let voided = PaymentState {
            voided: true,
            ..state(0, 0, vec![pop(Void, "V1", 1000, None, Succeeded)])
        };
        assert_eq!(find(&o, &voided, true, &[]), Found::Done(Some("V1".into())));
        assert_eq!(find(&o, &state(0, 0, vec![]), true, &[]), Found::Nothing);
        let at_sale = op(Capture, Via::Session, 1000, &[]);
        assert_eq!(
            find(&at_sale, &state(0, 0, vec![]), true, &[]),
            Found::Pending
        );
        assert_eq!(
            find(
                &at_sale,
                &state(1000, 0, vec![pop(Capture, "C1", 1000, None, Succeeded)]),
                true,
                &[],
            ),
            Found::Done(Some("C1".into()))
        );
        assert!(matches!(
            find(
                &at_sale,
                &state(0, 0, vec![pop(Capture, "C1", 1000, None, Failed)]),
                true,
                &[],
            ),
            Found::Failed(_)
        ));
    }
}
