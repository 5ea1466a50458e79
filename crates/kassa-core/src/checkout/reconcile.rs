//! Start-up reconciliation: sessions and operations an earlier run left unfinished (a crash,
//! a lost answer), settled by asking the provider, never by sending anything again.

use super::lock::{InFlight, OperationLock};
use super::{apply, session_ref, settle, unanswered};
use crate::provider::cache::ProviderSource;
use crate::provider::spec::SettingValues;
use crate::provider::{Provider, ProviderError};
use crate::session::Status;
use crate::store::{OperationRecord, OperationState, SessionLog, StoreError};
use std::collections::BTreeMap;
use std::path::Path;

/// Builds the provider client for a logged session's provider name and profile.
pub type ProviderFor<'a> =
    dyn FnMut(&str, &str) -> Result<std::sync::Arc<dyn Provider>, ProviderError> + 'a;

/// What reconciliation did with one session (or one of its operations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// The session.
    pub id: String,
    pub from: Status,
    pub to: Status,
    pub note: String,
    /// The operation (capture, refund, void, or `send` for a link's send a crash cut short)
    /// this is about; `from` and `to` are then the session's status, unchanged, and `note`
    /// says what became of the operation.
    pub operation: Option<String>,
}

impl std::fmt::Display for Reconciled {
    /// `session <id>: open → paid (<note>)`, or for an operation `session <id>: <note>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.operation {
            None => write!(
                f,
                "session {}: {} → {} ({})",
                self.id, self.from, self.to, self.note
            ),
            Some(_) => write!(f, "session {}: {}", self.id, self.note),
        }
    }
}

/// Reconciles sessions left `creating` (by a process that is gone), `unknown`, or `open` past
/// their expiry, then operations left `requested`, `sent` or `unknown`
/// ([`reconcile_operations`]). `provider_for(name, profile)` builds the client for a logged
/// session (or fails, e.g. when its credentials are gone); the session is then marked
/// `unknown` with the reason. Never marks anything paid, captured or refunded without the
/// provider's evidence, and never sends an operation again.
pub fn reconcile(
    log: &mut SessionLog,
    data_dir: &Path,
    provider_for: &mut ProviderFor,
    now: i64,
) -> Result<Vec<Reconciled>, StoreError> {
    let mut done = Vec::new();
    for session in log.needing_reconciliation(now)? {
        let from = session.status;
        if from == Status::Creating {
            if !InFlight::abandoned(data_dir, &session.id) {
                continue; // a living process is creating it right now
            }
            log.record_status(
                &session.id,
                Status::Unknown,
                now,
                "reconcile",
                "Kassa stopped after recording the intent and before recording the provider's answer",
                None,
                true,
            )?;
        }
        let (current, _) = log.get(&session.id)?;
        let outcome = match provider_for(&session.provider, &session.profile) {
            Err(e) => Err(e),
            // A create that got no answer: what the provider holds for its reference.
            Ok(p) if current.provider_session_id.is_none() => {
                unanswered::settle(log, p.as_ref(), &current, now, "reconcile")?
            }
            Ok(p) => match p.status(&session_ref(&current, now)) {
                Ok(report) => match apply(
                    log,
                    p.as_ref(),
                    &current,
                    &report,
                    now,
                    "reconcile",
                    false,
                    None,
                ) {
                    Ok(()) => Ok(report.detail),
                    // Paid at the provider, but its receipt cannot be signed now: nothing is
                    // recorded (a paid sale never lacks its entry); the next start records it.
                    Err(StoreError::SigningKey { detail }) => {
                        let note = format!(
                            "{} says {} ({}), not recorded yet: {detail}",
                            session.provider, report.status, report.detail
                        );
                        log.add_event(&session.id, now, "reconcile", &note)?;
                        Ok(note)
                    }
                    Err(e) => return Err(e),
                },
                Err(e) => Err(e),
            },
        };
        let note = match outcome {
            Ok(note) => note,
            Err(error) => {
                let detail = format!(
                    "cannot ask {} now [{}]: {error}",
                    session.provider,
                    error.code()
                );
                if current.status != Status::Unknown {
                    log.record_status(
                        &session.id,
                        Status::Unknown,
                        now,
                        "reconcile",
                        &detail,
                        Some(&error.to_string()),
                        true,
                    )?;
                }
                detail
            }
        };
        if from == Status::Creating {
            InFlight::clear(data_dir, &session.id);
        }
        let to = log.get(&session.id)?.0.status;
        log::info!(target: "kassa::checkout", "session {}: reconciled {from} → {to}: {note}", session.id);
        if to != from {
            done.push(Reconciled {
                id: session.id.clone(),
                from,
                to,
                note,
                operation: None,
            });
        }
    }
    done.extend(reconcile_operations(log, data_dir, provider_for, now)?);
    done.extend(reconcile_sends(log, data_dir, now)?);
    Ok(done)
}

/// Sends of a link a process that is gone left unfinished (its send lock free, the attempt
/// recorded, no outcome): whether the provider sent the message is unknown, and none of the
/// sending providers lets Kassa read it back, so the session gets a `send_unknown` event and
/// nothing is sent again. Asks no provider.
pub fn reconcile_sends(
    log: &mut SessionLog,
    data_dir: &Path,
    now: i64,
) -> Result<Vec<Reconciled>, StoreError> {
    let mut done = Vec::new();
    for (id, _lock) in OperationLock::abandoned_sends(data_dir) {
        let session = match log.get(&id) {
            Ok((s, _)) => s,
            // A lock of a session this log does not have: nothing to say, the file goes.
            Err(StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let note = format!(
            "Kassa stopped while sending the link through {} (the attempt is logged, its \
             answer is not): whether the customer got it is unknown, and Kassa does not send it \
             again by itself (ask the customer, or Resend)",
            session.provider
        );
        log.add_event(&id, now, "send_unknown", &note)?;
        log::warn!(target: "kassa::checkout", "session {id}: {note}");
        done.push(Reconciled {
            id,
            from: session.status,
            to: session.status,
            note,
            operation: Some("send".into()),
        });
    }
    Ok(done)
}

/// Reconciles operations left unsettled, one session at a time under its operation lock (a
/// session whose lock a living process holds is left alone): a `requested` one was never sent
/// (Kassa stopped before sending it) and becomes `failed` without any request; `sent` and
/// `unknown` ones are settled by one read of the provider's record of the payment
/// ([`settle`](super::settle)), and stay as they are when it cannot be read.
pub fn reconcile_operations(
    log: &mut SessionLog,
    data_dir: &Path,
    provider_for: &mut ProviderFor,
    now: i64,
) -> Result<Vec<Reconciled>, StoreError> {
    let mut by_session: BTreeMap<String, Vec<OperationRecord>> = BTreeMap::new();
    for op in log.unsettled_operations()? {
        by_session
            .entry(op.session_id.clone())
            .or_default()
            .push(op);
    }
    let mut done = Vec::new();
    for (id, ops) in by_session {
        let Ok(Some(_lock)) = OperationLock::try_acquire(data_dir, &id) else {
            continue; // a living process is sending one of them right now
        };
        let (session, _) = log.get(&id)?;
        let before: Vec<(String, OperationState)> =
            ops.iter().map(|o| (o.id.clone(), o.state)).collect();
        let provider = provider_for(&session.provider, &session.profile);
        let read_error = match &provider {
            Ok(p) => match settle::settle_with(log, p.as_ref(), &session, &ops, now) {
                Ok(e) => e,
                // A refund done at the provider whose return receipt cannot be signed now
                // stays unsettled (never done without its entry); the next start settles it.
                Err(StoreError::SigningKey { detail }) => {
                    log::warn!(target: "kassa::checkout", "session {id}: operations not settled: {detail}");
                    continue;
                }
                Err(e) => return Err(e),
            },
            Err(e) => {
                settle::abandoned_requests(log, &ops, now)?;
                Some(e.clone())
            }
        };
        for (op_id, from) in before {
            let after = log.operation(&op_id)?;
            let note = match (&read_error, after.state == from) {
                (Some(e), true) => format!(
                    "{} {op_id} stays {from}: cannot read {} now [{}]: {e}",
                    after.kind.as_str(),
                    session.provider,
                    e.code()
                ),
                _ => format!(
                    "{} {op_id}: {from} → {}{}",
                    after.kind.as_str(),
                    after.state,
                    after
                        .error
                        .as_deref()
                        .filter(|_| after.state != from)
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ),
            };
            log::info!(target: "kassa::checkout", "session {id}: reconciled {note}");
            if after.state != from {
                done.push(Reconciled {
                    id: id.clone(),
                    from: session.status,
                    to: session.status,
                    note,
                    operation: Some(op_id),
                });
            }
        }
    }
    Ok(done)
}

/// [`reconcile`] with the clients of `source` (the shells' [`crate::provider::cache::Clients`]),
/// at start-up. Starts no provider (nor the demo's sandbox) when nothing needs reconciling.
pub fn reconcile_with(
    log: &mut SessionLog,
    data_dir: &Path,
    source: &mut dyn ProviderSource,
    settings: &dyn SettingValues,
    now: i64,
) -> Result<Vec<Reconciled>, StoreError> {
    // Contacts of links that ended unpaid a while ago are not needed any more.
    log.forget_contacts(now)?;
    if log.needing_reconciliation(now)?.is_empty() && log.unsettled_operations()?.is_empty() {
        // Sends cut short need no provider either.
        return reconcile_sends(log, data_dir, now);
    }
    let mut provider_for = |name: &str, profile: &str| source.get(settings, name, Some(profile));
    reconcile(log, data_dir, &mut provider_for, now)
}
