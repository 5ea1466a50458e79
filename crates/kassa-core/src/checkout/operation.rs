//! After the sale: capture, refund and void of a paid session's money at its provider
//! ([`capture`], [`refund`], [`void`]), a refund staff made outside Kassa ([`record_refund`]),
//! and what a refund would give back ([`preview_refund`]).
//!
//! An operation at the provider goes, in this order:
//! 1. **Validate**, sending nothing: the session is paid; the provider has the operation; the
//!    provider's record of the payment, read now ([`Provider::payment_state`], which also needs
//!    the provider's payment id, learned from a status read when the session lacks it) and
//!    Kassa's own records both allow the amount (Kassa's count what is still on its way as
//!    spent); a void only of an authorization nothing was captured from. A refusal names its
//!    cause ([`CheckoutError::Refused`]) and is logged as a session event.
//! 2. Take the session's operation lock (one operation in flight per session; a living
//!    process's is refused, "in progress"); settle the session's unsettled operations with the
//!    same read.
//! 3. Record `requested` (fsync) with the provider's operations just read (the pre-image),
//!    then `sent` (fsync), then send **once**, then record the answer (fsync): `done`, `sent`
//!    while the provider is still processing (Dintero's 202), `failed` when the error proves
//!    the provider did nothing (no connection, a 4xx refusal, 429), `unknown` when it may have
//!    acted (timeout after sending, 5xx, an unreadable answer). An unknown one is looked up in
//!    the provider's record at once and by every later read (`settle.rs`); it is never sent
//!    again: a retry is a new operation.
//! 4. After `done`, read the provider's record back and log its captured and refunded figures
//!    as the operation's evidence.
//!
//! `KASSA_PAUSE_AT=op_after_requested|op_after_sent|op_after_response` stops at those steps for
//! the kill -9 harness (`lock::pause_point`).

use super::lock::{pause_point, OperationLock};
use super::{data_dir_of, failed_call, money, session_ref, settle, CheckoutError};
use crate::code::Code;
use crate::operator::Authenticated;
use crate::provider::{
    ErrorKind, OperationKind, OperationLine, OperationRequest, PaymentState, Provider,
};
use crate::quote::{from_logged, PricedOrder};
use crate::refund::{self, Basis, RefundError};
use crate::session::Status;
use crate::store::{
    money_of, NewOperation, OperationRecord, OperationState, SessionLog, SessionRecord, StoreError,
    Via,
};

/// What staff ask the provider to do.
#[derive(Debug, Clone)]
enum Ask<'a> {
    /// `None`: everything that can still be captured.
    Capture(Option<i64>),
    Refund(&'a Basis),
    Void,
}

impl Ask<'_> {
    fn kind(&self) -> OperationKind {
        match self {
            Ask::Capture(_) => OperationKind::Capture,
            Ask::Refund(_) => OperationKind::Refund,
            Ask::Void => OperationKind::Void,
        }
    }
}

/// Captures `amount` (default: all that can still be captured) of paid session `id`'s
/// authorization at its provider, asked by `by` (any role). `op_id`: the new operation's id (a
/// UUIDv7).
pub fn capture(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    amount: Option<i64>,
    by: &Authenticated,
    op_id: &str,
    now: i64,
) -> Result<OperationRecord, CheckoutError> {
    run(
        log,
        provider,
        id,
        Ask::Capture(amount),
        None,
        by,
        op_id,
        now,
    )
}

/// Refunds part or all of paid session `id` at its provider ([`Basis`]: whole, an amount, or
/// lines with quantities; see [`crate::refund`] for what each line gives back). Needs a
/// manager (`by`).
// Eight plain arguments read better at the call sites than a one-use struct.
#[allow(clippy::too_many_arguments)]
pub fn refund(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    basis: &Basis,
    reason: Option<&str>,
    by: &Authenticated,
    op_id: &str,
    now: i64,
) -> Result<OperationRecord, CheckoutError> {
    run(
        log,
        provider,
        id,
        Ask::Refund(basis),
        reason,
        by,
        op_id,
        now,
    )
}

/// Voids the authorization of paid session `id` that nothing was captured from. Needs a
/// manager (`by`).
pub fn void(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    by: &Authenticated,
    op_id: &str,
    now: i64,
) -> Result<OperationRecord, CheckoutError> {
    run(log, provider, id, Ask::Void, None, by, op_id, now)
}

/// Before an operation that gives money back: a manager asks, and the journal's signing key is
/// at hand (its return receipt is signed when it is done; without the key it could be done at
/// the provider and not recorded).
fn may_give_back(
    log: &mut SessionLog,
    by: &Authenticated,
    what: &str,
    now: i64,
) -> Result<(), CheckoutError> {
    by.require_manager(what)?;
    log.signer(now).map_err(|e| match e {
        StoreError::SigningKey { detail } => StoreError::SigningKey {
            detail: format!("no {what} can start: {detail}"),
        },
        other => other,
    })?;
    Ok(())
}

/// Records a refund staff made outside Kassa (providers without a refund API, e.g.
/// Opencharge): `refund_recorded`, done at once, `note` saying what staff did, never sent and
/// never the provider's evidence, like a payment staff confirmed. Refused for a provider that
/// refunds by API (its own record is the evidence there). Needs a manager (`by`).
#[allow(clippy::too_many_arguments)]
pub fn record_refund(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    basis: &Basis,
    note: &str,
    by: &Authenticated,
    op_id: &str,
    now: i64,
) -> Result<OperationRecord, CheckoutError> {
    let kind = OperationKind::RefundRecorded;
    may_give_back(log, by, "recorded refund", now)?;
    let (session, _) = log.get(id)?;
    if session.status != Status::Paid {
        return Err(not_paid(log, &session, kind, now));
    }
    if provider.capabilities().refund {
        let m = format!(
            "{} refunds by API: refund with it (its record is the evidence), not by recording a \
             refund made elsewhere",
            provider.name()
        );
        return Err(refused(log, id, kind, Code::Unsupported, m, now));
    }
    let note = note.trim();
    if note.is_empty() {
        let m = "a recorded refund needs a note saying what staff did (e.g. the transfer's \
                 reference)"
            .to_string();
        return Err(refused(log, id, kind, Code::InvalidInput, m, now));
    }
    let priced = logged_order(&session, log)?;
    let Some(_lock) = OperationLock::try_acquire(data_dir_of(log), id)? else {
        return Err(in_progress(log, id, kind, now));
    };
    let ops = log.operations(id)?;
    let (amount, lines) = match refund_plan(&session, &priced, &ops, None, basis) {
        Ok(p) => p,
        Err((code, m)) => return Err(refused(log, id, kind, code, m, now)),
    };
    let note: String = note.chars().take(300).collect();
    log.record_operation(
        &NewOperation {
            id: op_id,
            session_id: id,
            kind,
            via: Via::Staff,
            amount,
            lines: &lines,
            reason: Some(&note),
            pre_image: None,
            state: OperationState::Done,
            at: now,
            operator_id: Some(by.id()),
        },
        &format!(
            "refund of {} recorded by staff (made outside Kassa; not {}'s evidence): {note}",
            money(&session.currency, amount),
            provider.name()
        ),
    )?;
    Ok(log.operation(op_id)?)
}

/// The lines (with amount and VAT) a refund on `basis` of session `id` would give back by
/// Kassa's own records, for a form to show before staff confirm. Asks no provider and records
/// nothing; the refund itself checks the provider's record too.
pub fn preview_refund(
    log: &SessionLog,
    id: &str,
    basis: &Basis,
) -> Result<Vec<OperationLine>, CheckoutError> {
    let (session, _) = log.get(id)?;
    let refuse = |code, message| CheckoutError::Refused {
        session_id: id.to_string(),
        code,
        message,
    };
    if session.status != Status::Paid {
        return Err(refuse(
            Code::NotPaid,
            format!(
                "session {id} is {}: only a paid sale is refunded",
                session.status
            ),
        ));
    }
    let priced = from_logged(&session.order_json).map_err(|d| corrupt(log, d))?;
    let ops = log.operations(id)?;
    refund_plan(&session, &priced, &ops, None, basis)
        .map(|(_, lines)| lines)
        .map_err(|(code, m)| refuse(code, m))
}

#[allow(clippy::too_many_arguments)]
fn run(
    log: &mut SessionLog,
    provider: &dyn Provider,
    id: &str,
    ask: Ask,
    reason: Option<&str>,
    by: &Authenticated,
    op_id: &str,
    now: i64,
) -> Result<OperationRecord, CheckoutError> {
    let kind = ask.kind();
    if kind != OperationKind::Capture {
        may_give_back(log, by, kind.as_str(), now)?;
    }
    let (session, _) = log.get(id)?;
    if session.status != Status::Paid {
        return Err(not_paid(log, &session, kind, now));
    }
    let caps = provider.capabilities();
    let supported = match kind {
        OperationKind::Capture => caps.capture,
        OperationKind::Refund => caps.refund,
        _ => caps.void,
    };
    if !supported {
        let m = unsupported(provider.name(), kind);
        return Err(refused(log, id, kind, Code::Unsupported, m, now));
    }
    let priced = logged_order(&session, log)?;
    let Some(_lock) = OperationLock::try_acquire(data_dir_of(log), id)? else {
        return Err(in_progress(log, id, kind, now));
    };
    let session = learn_payment_id(log, provider, session, now)?;
    let state = read_state(log, provider, &session, kind, now)?;
    // The session's unsettled operations first, with the same read: what they did counts.
    let unsettled: Vec<OperationRecord> = log
        .operations(id)?
        .into_iter()
        .filter(|o| !o.state.is_settled())
        .collect();
    settle::abandoned_requests(log, &unsettled, now)?;
    // Newest first: a newer one's pre-image narrows what it can be (settle.rs).
    for op in unsettled
        .iter()
        .rev()
        .filter(|o| o.state != OperationState::Requested)
    {
        settle::settle_one(
            log,
            provider.name(),
            &session.currency,
            op,
            &state,
            caps.operation_references,
            now,
        )?;
    }
    let ops = log.operations(id)?;
    let (amount, lines) = match plan(&ask, &session, &priced, &ops, &state, provider.name()) {
        Ok(p) => p,
        Err((code, m)) => return Err(refused(log, id, kind, code, m, now)),
    };
    let pre_image = serde_json::to_string(&state.operations).expect("operations serialize");
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(300).collect::<String>());
    log.record_operation(
        &NewOperation {
            id: op_id,
            session_id: id,
            kind,
            via: Via::Api,
            amount,
            lines: &lines,
            reason: reason.as_deref(),
            pre_image: Some(&pre_image),
            state: OperationState::Requested,
            at: now,
            operator_id: Some(by.id()),
        },
        &format!(
            "{} of {} requested by staff{}",
            kind.as_str(),
            money(&session.currency, amount),
            reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
    )?;
    log::info!(target: "kassa::checkout", "session {id}: {} {op_id} requested", kind.as_str());
    pause_point("op_after_requested");
    let op = log.operation(op_id)?;
    send(log, provider, &session, &priced, op, now)
}

/// Steps 3 and 4 for a `requested` operation whose lock the caller holds: `sent`, the request
/// (once), the answer, the evidence. Also the capture a sale starts at payment (`at_sale.rs`).
pub(super) fn send(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    priced: &PricedOrder,
    op: OperationRecord,
    now: i64,
) -> Result<OperationRecord, CheckoutError> {
    let name = provider.name();
    let what = format!(
        "{} {}",
        op.kind.as_str(),
        money(&session.currency, op.amount)
    );
    log.record_operation_state(
        &op.id,
        OperationState::Sent,
        now,
        None,
        None,
        &format!("{what} sent to {name}"),
    )?;
    pause_point("op_after_sent");
    let sref = session_ref(session, now);
    let req = OperationRequest {
        session: &sref,
        id: &op.id,
        kind: op.kind,
        amount: op.amount,
        lines: &op.lines,
        reason: op.reason.as_deref(),
        order: priced,
    };
    let result = match op.kind {
        OperationKind::Capture => provider.capture(&req),
        OperationKind::Refund => provider.refund(&req),
        OperationKind::Void => provider.void(&req),
        OperationKind::RefundRecorded => Err(provider.unsupported("sending a recorded refund")),
    };
    pause_point("op_after_response");
    let references = provider.capabilities().operation_references;
    match result {
        Ok(answer) if answer.pending => Ok(log.record_operation_state(
            &op.id,
            OperationState::Sent,
            now,
            answer.provider_reference.as_deref(),
            None,
            &format!(
                "{what} accepted by {name}, not finished yet ({}): the next read settles it",
                answer.detail
            ),
        )?),
        Ok(answer) => {
            log.record_operation_state(
                &op.id,
                OperationState::Done,
                now,
                answer.provider_reference.as_deref(),
                None,
                &format!("{what} done: {}", answer.detail),
            )?;
            match provider.payment_state(&sref) {
                Ok(state) => {
                    settle::evidence(log, &op.id, &session.currency, &state, now)?;
                    settle::expiry(log, session, &state, now, name)?;
                }
                Err(e) => log.add_operation_event(
                    &op.id,
                    now,
                    &format!("its evidence could not be read back [{}]: {e}", e.code()),
                )?,
            }
            Ok(log.operation(&op.id)?)
        }
        Err(error) if error.may_have_reached_provider() => {
            log::warn!(target: "kassa::checkout", "session {}: {} {} unknown: {error}", session.id, op.kind.as_str(), op.id);
            log.record_operation_state(
                &op.id,
                OperationState::Unknown,
                now,
                None,
                Some(&error.to_string()),
                &format!(
                    "{what} unknown [{}]: {error} (the request may have reached {name}: its \
                     record settles it; it is never sent again)",
                    error.code()
                ),
            )?;
            // The provider may already show it (the answer was lost, not the work).
            if let Ok(state) = provider.payment_state(&sref) {
                settle::expiry(log, session, &state, now, name)?;
                let op = log.operation(&op.id)?;
                settle::settle_one(log, name, &session.currency, &op, &state, references, now)?;
            }
            let op = log.operation(&op.id)?;
            if op.state == OperationState::Done {
                Ok(op)
            } else {
                Err(CheckoutError::Operation {
                    operation: Box::new(op),
                    error,
                })
            }
        }
        Err(error) => {
            log::warn!(target: "kassa::checkout", "session {}: {} {} failed: {error}", session.id, op.kind.as_str(), op.id);
            let op = log.record_operation_state(
                &op.id,
                OperationState::Failed,
                now,
                None,
                Some(&error.to_string()),
                &format!("{what} failed [{}]: {error}", error.code()),
            )?;
            Err(CheckoutError::Operation {
                operation: Box::new(op),
                error,
            })
        }
    }
}

/// The amount and lines of an operation, or why it cannot be done (code and words). Pure: the
/// session, its priced order, its operations (settled as far as the read allowed) and the
/// provider's record of the payment, read now.
fn plan(
    ask: &Ask,
    session: &SessionRecord,
    order: &PricedOrder,
    ops: &[OperationRecord],
    state: &PaymentState,
    provider: &str,
) -> Result<(i64, Vec<OperationLine>), (Code, String)> {
    let m = money_of(ops);
    let cur = |v: i64| money(&session.currency, v);
    let at_sale_pending = ops.iter().any(|o| {
        o.via == Via::Session && o.kind == OperationKind::Capture && !o.state.is_settled()
    });
    match ask {
        Ask::Capture(asked) => {
            if at_sale_pending {
                return Err((
                    Code::OperationInProgress,
                    format!(
                        "{provider} is capturing this sale by itself (asked with the session) and \
                         does not show it yet; refresh the session to look again"
                    ),
                ));
            }
            if let Some(a) = asked.filter(|a| *a <= 0) {
                return Err((
                    Code::InvalidInput,
                    format!("the amount must be more than zero (got {a})"),
                ));
            }
            if m.voided || state.voided {
                return Err((
                    Code::AmountExceeds,
                    "nothing left to capture: the authorization was voided".into(),
                ));
            }
            let ours = session.gross_minor - m.captured - m.capturing;
            let theirs = state.capturable();
            let left = ours.min(theirs);
            if left <= 0 {
                return Err((
                    Code::AmountExceeds,
                    format!(
                        "nothing left to capture: {provider} has captured {} of {}",
                        cur(state.captured),
                        cur(state.authorized)
                    ),
                ));
            }
            let amount = asked.unwrap_or(left);
            if amount > left {
                return Err((
                    Code::AmountExceeds,
                    format!(
                        "{} is more than can be captured ({}: {provider} has {} authorized and \
                         not captured; Kassa's records leave {})",
                        cur(amount),
                        cur(left),
                        cur(theirs),
                        cur(ours)
                    ),
                ));
            }
            let lines = if amount == session.gross_minor {
                Vec::new()
            } else {
                let captures = ops
                    .iter()
                    .filter(|o| o.kind == OperationKind::Capture)
                    .filter(|o| o.state != OperationState::Failed)
                    .flat_map(|o| &o.lines);
                let taken = refund::taken(order, captures).map_err(refund_error)?;
                refund::split_amount(order, &taken, amount).map_err(refund_error)?
            };
            Ok((amount, lines))
        }
        Ask::Refund(basis) => {
            if state.captured <= 0 {
                return Err((
                    Code::AmountExceeds,
                    format!(
                        "nothing is captured at {provider} yet: a payment that is only \
                         authorized is voided, not refunded"
                    ),
                ));
            }
            refund_plan(
                session,
                order,
                ops,
                Some((provider, state.refundable())),
                basis,
            )
        }
        Ask::Void => {
            if m.voided || state.voided {
                return Err((
                    Code::NotVoidable,
                    "the authorization was already voided".into(),
                ));
            }
            let captured = state.captured.max(m.captured);
            if captured > 0 {
                return Err((
                    Code::NotVoidable,
                    format!(
                        "{provider} has captured {} of this sale: only an authorization nothing \
                         was captured from is voided; refund it instead",
                        cur(captured)
                    ),
                ));
            }
            if at_sale_pending || m.capturing > 0 {
                return Err((
                    Code::OperationInProgress,
                    format!("this sale is being captured at {provider}; refresh it to look again"),
                ));
            }
            let amount = state.capturable();
            if amount <= 0 {
                return Err((
                    Code::NotVoidable,
                    format!("{provider} shows nothing authorized to void"),
                ));
            }
            Ok((amount, Vec::new()))
        }
    }
}

/// A refund's amount and lines by Kassa's records and, when given, the provider's refundable
/// amount (`None`: a refund staff record, or a preview). A whole refund at a provider that
/// has less captured than the sale has left is everything the provider can refund.
fn refund_plan(
    session: &SessionRecord,
    order: &PricedOrder,
    ops: &[OperationRecord],
    provider: Option<(&str, i64)>,
    basis: &Basis,
) -> Result<(i64, Vec<OperationLine>), (Code, String)> {
    let m = money_of(ops);
    let cur = |v: i64| money(&session.currency, v);
    let refunds = ops
        .iter()
        .filter(|o| {
            matches!(
                o.kind,
                OperationKind::Refund | OperationKind::RefundRecorded
            )
        })
        .filter(|o| o.state != OperationState::Failed)
        .flat_map(|o| &o.lines);
    let taken = refund::taken(order, refunds).map_err(refund_error)?;
    let mut ours = session.gross_minor - m.refunded - m.refunding;
    if m.captured > 0 {
        ours = ours.min(m.captured - m.refunded - m.refunding);
    }
    let left = provider.map_or(ours, |(_, theirs)| ours.min(theirs));
    let basis = match basis {
        Basis::Whole if left > 0 && left < refund::left(order, &taken) => Basis::Amount(left),
        other => other.clone(),
    };
    let lines = refund::refund_lines(order, &taken, &basis).map_err(refund_error)?;
    let amount: i64 = lines.iter().map(|l| l.gross).sum();
    if amount > left {
        let why = match provider {
            Some((name, theirs)) => format!(
                "{name} has {} captured and not refunded; Kassa's records leave {}",
                cur(theirs),
                cur(ours)
            ),
            None => format!("Kassa's records leave {}", cur(ours)),
        };
        return Err((
            Code::AmountExceeds,
            format!(
                "{} is more than can be refunded ({}: {why})",
                cur(amount),
                cur(left.max(0))
            ),
        ));
    }
    Ok((amount, lines))
}

fn refund_error(e: RefundError) -> (Code, String) {
    let code = match &e {
        e if e.is_too_much() => Code::AmountExceeds,
        RefundError::BadRecord(_) => Code::StoreCorrupt,
        _ => Code::InvalidInput,
    };
    (code, e.to_string())
}

/// Logs a refused attempt as a session event and returns its error.
fn refused(
    log: &mut SessionLog,
    id: &str,
    kind: OperationKind,
    code: Code,
    message: String,
    now: i64,
) -> CheckoutError {
    // The refusal is the answer; a log that cannot take its event must not hide it.
    if let Err(e) = log.add_event(
        id,
        now,
        kind.as_str(),
        &format!("{} refused [{code}]: {message}", kind.as_str()),
    ) {
        log::warn!(target: "kassa::checkout", "session {id}: refusal not logged: {e}");
    }
    CheckoutError::Refused {
        session_id: id.to_string(),
        code,
        message,
    }
}

fn not_paid(
    log: &mut SessionLog,
    session: &SessionRecord,
    kind: OperationKind,
    now: i64,
) -> CheckoutError {
    let done = match kind {
        OperationKind::Capture => "captured",
        OperationKind::Void => "voided",
        _ => "refunded",
    };
    let m = format!(
        "session {} is {}: only a paid sale is {done}",
        session.id, session.status
    );
    refused(log, &session.id, kind, Code::NotPaid, m, now)
}

fn in_progress(log: &mut SessionLog, id: &str, kind: OperationKind, now: i64) -> CheckoutError {
    let m = "another capture, refund or void of this sale is in progress (in another window \
             or kassa-cli); try again when it is done"
        .to_string();
    refused(log, id, kind, Code::OperationInProgress, m, now)
}

fn unsupported(provider: &str, kind: OperationKind) -> String {
    match kind {
        OperationKind::Refund => format!(
            "{provider} has no refund API: refund the customer another way and record it in \
             Kassa as a refund made outside Kassa (staff-recorded, not {provider}'s evidence)"
        ),
        OperationKind::Capture => format!(
            "{provider} has no capture API: a paid {provider} sale needs no capture, or is \
             captured in {provider}'s back office"
        ),
        _ => format!("{provider} has no API to void an authorization"),
    }
}

fn corrupt(log: &SessionLog, detail: String) -> CheckoutError {
    CheckoutError::Store(StoreError::Corrupt {
        path: log.path().to_path_buf(),
        detail,
    })
}

fn logged_order(session: &SessionRecord, log: &SessionLog) -> Result<PricedOrder, CheckoutError> {
    from_logged(&session.order_json)
        .map_err(|d| corrupt(log, format!("session {}: {d}", session.id)))
}

/// The session with the provider's payment id: a status read learns it when the session has
/// none yet (a sale paid before Kassa recorded it). A failed read is only logged: the payment
/// read that follows says whether the id is needed.
fn learn_payment_id(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: SessionRecord,
    now: i64,
) -> Result<SessionRecord, CheckoutError> {
    if session.provider_payment_id.is_some() || session.provider_session_id.is_none() {
        return Ok(session);
    }
    match provider.status(&session_ref(&session, now)) {
        Ok(report) => {
            if let Some(pid) = report.payment_id.filter(|p| !p.is_empty()) {
                log.record_payment_id(
                    &session.id,
                    &pid,
                    now,
                    "status",
                    &format!("{} payment id {pid} recorded", provider.name()),
                )?;
                return Ok(log.get(&session.id)?.0);
            }
        }
        Err(e) => log.add_event(
            &session.id,
            now,
            "status",
            &format!("status read failed [{}]: {e}", e.code()),
        )?,
    }
    Ok(session)
}

/// The provider's record of the payment, read now. A client that lacks what it needs to read
/// it (the provider's payment id) says so with a configuration error: that is a refusal (the
/// sale cannot be operated on from Kassa), the rest are provider errors.
fn read_state(
    log: &mut SessionLog,
    provider: &dyn Provider,
    session: &SessionRecord,
    kind: OperationKind,
    now: i64,
) -> Result<PaymentState, CheckoutError> {
    match provider.payment_state(&session_ref(session, now)) {
        Ok(state) => {
            settle::expiry(log, session, &state, now, provider.name())?;
            Ok(state)
        }
        Err(e) if matches!(e.kind, ErrorKind::Config(_)) => Err(refused(
            log,
            &session.id,
            kind,
            Code::NoPaymentId,
            e.to_string(),
            now,
        )),
        Err(e) if matches!(e.kind, ErrorKind::Unsupported { .. }) => Err(refused(
            log,
            &session.id,
            kind,
            Code::Unsupported,
            e.to_string(),
            now,
        )),
        Err(e) => Err(failed_call(log, session, now, "payment read", e)?),
    }
}
