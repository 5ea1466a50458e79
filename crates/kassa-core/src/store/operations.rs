//! The `operations` table (schema v4): every capture, refund and void of a session's money,
//! and every refund staff recorded, as Kassa's own record of it.
//!
//! An operation's life ([`OperationState`]):
//!
//! ```text
//! requested ──► sent ──► done | failed | unknown
//!     │                              │
//!     └──► failed (never sent)        └──► done | failed   (settled by reading the provider)
//! ```
//!
//! - `requested` is committed (fsync) before the request exists, with what was asked (kind,
//!   amount, lines, reason) and, for matching later, the provider's operations read just before
//!   (`pre_image`); `sent` is committed (fsync) just before the request leaves, so after a
//!   crash `requested` means "never sent" and `sent` means "may have been sent"; the outcome is
//!   committed (fsync) as soon as it is known. A capture the provider makes by itself (the
//!   session's own mechanism, `via = session`) starts `sent` or `done`; a refund staff recorded
//!   (`via = staff`) starts and stays `done`.
//! - What was asked never changes, a settled operation (`done`, `failed`) only gains its
//!   evidence (the provider's captured and refunded figures read back after it), once, and no
//!   operation is deleted: triggers refuse anything else, whoever writes the file.
//! - Every state change also appends a session event (with the operation's id), so the
//!   session's timeline tells the whole story.

use super::{insert_event_of, journal, status_of, SessionLog, SessionRecord, StoreError};
use crate::provider::{CapturePolicy, OperationKind, OperationLine};
use crate::session::Status;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;

/// Where an operation is in its life (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationState {
    /// Recorded; the request does not exist yet.
    Requested,
    /// The request is (or was about to be) on its way; also an operation the provider
    /// accepted but has not finished (Dintero's 202), and a capture the provider makes by
    /// itself that it has not shown yet.
    Sent,
    /// The provider did it: its answer, or its record read back.
    Done,
    /// Provably not done: refused, never sent, or the provider's record says it failed.
    Failed,
    /// The request may have reached the provider and its answer was unclear: the provider's
    /// record settles it (never a second request).
    Unknown,
}

impl OperationState {
    pub const ALL: [OperationState; 5] = [
        OperationState::Requested,
        OperationState::Sent,
        OperationState::Done,
        OperationState::Failed,
        OperationState::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationState::Requested => "requested",
            OperationState::Sent => "sent",
            OperationState::Done => "done",
            OperationState::Failed => "failed",
            OperationState::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Result<OperationState, String> {
        OperationState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not an operation state"))
    }

    /// Done or failed: nothing moves it any more.
    pub fn is_settled(self) -> bool {
        matches!(self, OperationState::Done | OperationState::Failed)
    }

    /// Whether `self → to` is allowed (the same rule as the `operations_transitions` trigger).
    pub fn can_become(self, to: OperationState) -> bool {
        use OperationState::*;
        match self {
            Requested => matches!(to, Sent | Failed),
            Sent => matches!(to, Done | Failed | Unknown),
            Unknown => matches!(to, Done | Failed),
            Done | Failed => false,
        }
    }
}

impl std::fmt::Display for OperationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asks for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The provider does it by itself, asked in the session's create (Dintero's
    /// `auto_capture`, Klarna's `CAPTURE_ORDER`, Bambora's `instantcaptureamount`).
    Session,
    /// Kassa sends a request to the provider's API.
    Api,
    /// Staff did it outside Kassa and recorded it (never the provider's evidence).
    Staff,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Session => "session",
            Via::Api => "api",
            Via::Staff => "staff",
        }
    }

    fn parse(text: &str) -> Result<Via, String> {
        [Via::Session, Via::Api, Via::Staff]
            .into_iter()
            .find(|v| v.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not an operation's via"))
    }
}

fn parse_kind(text: &str) -> Result<OperationKind, String> {
    [
        OperationKind::Capture,
        OperationKind::Refund,
        OperationKind::Void,
        OperationKind::RefundRecorded,
    ]
    .into_iter()
    .find(|k| k.as_str() == text)
    .ok_or_else(|| format!("{text:?} is not an operation kind"))
}

/// An operation about to be recorded.
#[derive(Debug, Clone)]
pub struct NewOperation<'a> {
    /// Kassa's id of the operation (a UUIDv7).
    pub id: &'a str,
    pub session_id: &'a str,
    pub kind: OperationKind,
    pub via: Via,
    /// Minor units of the session's currency.
    pub amount: i64,
    pub lines: &'a [OperationLine],
    pub reason: Option<&'a str>,
    /// The provider's operations as read just before (JSON), for matching after an unclear
    /// outcome.
    pub pre_image: Option<&'a str>,
    /// `requested` (api), `sent` or `done` (via the session), `done` (staff).
    pub state: OperationState,
    pub at: i64,
    /// Who asked for it (a return's receipt names them); the sale's operator for a capture the
    /// sale starts.
    pub operator_id: Option<i64>,
}

/// One row of `operations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationRecord {
    pub id: String,
    pub session_id: String,
    pub kind: OperationKind,
    pub via: Via,
    pub amount: i64,
    pub lines: Vec<OperationLine>,
    pub reason: Option<String>,
    pub state: OperationState,
    #[serde(skip)]
    pub pre_image: Option<String>,
    pub provider_reference: Option<String>,
    /// The provider's captured and refunded totals read back after the operation was done.
    pub captured_after: Option<i64>,
    pub refunded_after: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
    /// Who asked for it (`None`: before v6).
    pub operator_id: Option<i64>,
}

/// A session's money by Kassa's own records: what its done operations captured and refunded,
/// and what is still on its way (`requested`, `sent` or `unknown`: it may yet happen, so
/// nothing is promised twice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OperationsMoney {
    pub captured: i64,
    pub refunded: i64,
    pub capturing: i64,
    pub refunding: i64,
    /// A void is done or on its way.
    pub voided: bool,
}

/// Sums a session's operations ([`SessionLog::operations`]).
pub fn money_of(ops: &[OperationRecord]) -> OperationsMoney {
    let mut m = OperationsMoney::default();
    for op in ops.iter().filter(|o| o.state != OperationState::Failed) {
        let done = op.state == OperationState::Done;
        match op.kind {
            OperationKind::Capture if done => m.captured += op.amount,
            OperationKind::Capture => m.capturing += op.amount,
            OperationKind::Refund | OperationKind::RefundRecorded if done => {
                m.refunded += op.amount
            }
            OperationKind::Refund | OperationKind::RefundRecorded => m.refunding += op.amount,
            OperationKind::Void => m.voided = true,
        }
    }
    m
}

/// How long before an authorization's known expiry the history warns ([`AuthorizationDue`]):
/// two days, time for staff to see it and capture. Change here.
pub const EXPIRY_WARNING_MS: i64 = 2 * 24 * 3600 * 1000;

/// What a paid sale's authorization waits for, from the session log alone (no provider asked):
/// what history shows as "authorized, not captured" and warns about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AuthorizationDue {
    /// Authorized and not (fully) captured, nothing capturing or voiding it, and nobody else
    /// will capture it: the policy is `manual`, or the capture at sale failed. Not for a
    /// payment staff confirmed (no provider evidence of an authorization: Opencharge, a
    /// Bambora QR sale) nor a sale logged before Kassa recorded the policy.
    pub capture_due: bool,
    /// `capture_due`, and the provider's known expiry
    /// ([`SessionRecord::authorization_expires_at`]) is within [`EXPIRY_WARNING_MS`] of `now`,
    /// or past.
    pub expires_soon: bool,
}

/// [`AuthorizationDue`] of session `s` with its operations `ops`, at `now`.
pub fn authorization_due(s: &SessionRecord, ops: &[OperationRecord], now: i64) -> AuthorizationDue {
    let m = money_of(ops);
    let capture_failed = ops
        .iter()
        .any(|o| o.kind == OperationKind::Capture && o.state == OperationState::Failed);
    let waits = match s.capture_policy {
        Some(CapturePolicy::Manual) => true,
        Some(CapturePolicy::AtSale) => capture_failed,
        None => false,
    };
    let capture_due = s.status == Status::Paid
        && s.confirmed_by.is_none()
        && waits
        && !m.voided
        && m.captured + m.capturing < s.gross_minor;
    AuthorizationDue {
        capture_due,
        expires_soon: capture_due
            && s.authorization_expires_at
                .is_some_and(|t| t.saturating_sub(now) <= EXPIRY_WARNING_MS),
    }
}

const OP_COLUMNS: &str = "id, session_id, kind, via, amount, lines, reason, state, pre_image, \
    provider_reference, captured_after, refunded_after, error, created_at, updated_at, sent_at, \
    operator_id";

fn row_to_operation(r: &rusqlite::Row) -> rusqlite::Result<OperationRecord> {
    let bad = |i: usize, e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    };
    let lines: String = r.get(5)?;
    Ok(OperationRecord {
        id: r.get(0)?,
        session_id: r.get(1)?,
        kind: parse_kind(&r.get::<_, String>(2)?).map_err(|e| bad(2, e))?,
        via: Via::parse(&r.get::<_, String>(3)?).map_err(|e| bad(3, e))?,
        amount: r.get(4)?,
        lines: serde_json::from_str(&lines).map_err(|e| bad(5, e.to_string()))?,
        reason: r.get(6)?,
        state: OperationState::parse(&r.get::<_, String>(7)?).map_err(|e| bad(7, e))?,
        pre_image: r.get(8)?,
        provider_reference: r.get(9)?,
        captured_after: r.get(10)?,
        refunded_after: r.get(11)?,
        error: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        sent_at: r.get(15)?,
        operator_id: r.get(16)?,
    })
}

pub(super) fn operation_in(
    conn: &Connection,
    path: &Path,
    id: &str,
) -> Result<OperationRecord, StoreError> {
    conn.query_row(
        &format!("SELECT {OP_COLUMNS} FROM operations WHERE id = ?1"),
        [id],
        row_to_operation,
    )
    .optional()
    .map_err(|e| StoreError::from_sqlite(path, e))?
    .ok_or_else(|| StoreError::NoOperation { id: id.to_string() })
}

/// Appends the session event of an operation's change.
pub(super) fn operation_event(
    tx: &Connection,
    path: &Path,
    op: &OperationRecord,
    at: i64,
    detail: &str,
) -> Result<(), StoreError> {
    insert_event_of(
        tx,
        path,
        &op.session_id,
        at,
        op.kind.as_str(),
        None,
        detail,
        Some(&op.id),
    )
}

pub(super) fn insert_operation(
    tx: &Connection,
    path: &Path,
    op: &NewOperation,
) -> Result<(), StoreError> {
    let lines = serde_json::to_string(op.lines).expect("operation lines serialize");
    tx.execute(
        "INSERT INTO operations (id, session_id, kind, via, amount, lines, reason, state,
             pre_image, created_at, updated_at, sent_at, operator_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)",
        params![
            op.id,
            op.session_id,
            op.kind.as_str(),
            op.via.as_str(),
            op.amount,
            lines,
            op.reason,
            op.state.as_str(),
            op.pre_image,
            op.at,
            (op.state != OperationState::Requested).then_some(op.at),
            op.operator_id,
        ],
    )
    .map(|_| ())
    .map_err(|e| StoreError::from_sqlite(path, e))
}

impl SessionLog {
    /// Records a new operation and its event, durably (before any request exists).
    /// One that starts `done` and gives money back (a refund staff recorded) gets its return
    /// receipt in the journal in the same transaction.
    pub fn record_operation(&mut self, op: &NewOperation, detail: &str) -> Result<(), StoreError> {
        let path = self.path.clone();
        let done = op.state == OperationState::Done;
        let ctx = self.ctx_signing(done && journal::is_return(op.kind), op.at)?;
        self.write(true, |tx| {
            status_of(tx, &path, op.session_id)?;
            insert_operation(tx, &path, op)?;
            let rec = operation_in(tx, &path, op.id)?;
            operation_event(tx, &path, &rec, op.at, detail)?;
            if done {
                journal::on_done(tx, &path, &ctx, &rec, op.at)?;
            }
            Ok(())
        })
    }

    /// Moves an operation to `to` (validated), with the provider's reference and the error
    /// when given, and its event; durably. `sent` stamps `sent_at`. Staying in the same state
    /// records the event (and a reference or error that arrived) and changes nothing else; an
    /// operation another process settled meanwhile is left as it is. Returns the operation
    /// after. A refund or void that becomes `done` gets its return receipt in the journal in
    /// the same transaction (refused, and nothing recorded, when the signing key cannot be
    /// had: the operation stays as it was and the next read of the provider settles it).
    pub fn record_operation_state(
        &mut self,
        id: &str,
        to: OperationState,
        now: i64,
        provider_reference: Option<&str>,
        error: Option<&str>,
        detail: &str,
    ) -> Result<OperationRecord, StoreError> {
        let path = self.path.clone();
        let returns = to == OperationState::Done && journal::is_return(self.operation(id)?.kind);
        let ctx = self.ctx_signing(returns, now)?;
        self.write(true, |tx| {
            let op = operation_in(tx, &path, id)?;
            if op.state == to || op.state.is_settled() {
                if !op.state.is_settled() && (provider_reference.is_some() || error.is_some()) {
                    tx.execute(
                        "UPDATE operations SET provider_reference = coalesce(?2, provider_reference),
                             error = coalesce(?3, error), updated_at = ?4 WHERE id = ?1",
                        params![id, provider_reference, error, now],
                    )
                    .map_err(|e| StoreError::from_sqlite(&path, e))?;
                }
                if op.state == to {
                    operation_event(tx, &path, &op, now, detail)?;
                }
                return operation_in(tx, &path, id);
            }
            if !op.state.can_become(to) {
                return Err(StoreError::OperationTransition {
                    id: id.to_string(),
                    from: op.state,
                    to,
                });
            }
            tx.execute(
                "UPDATE operations SET state = ?2, updated_at = ?3,
                     sent_at = CASE WHEN ?2 = 'sent' THEN ?3 ELSE sent_at END,
                     provider_reference = coalesce(?4, provider_reference),
                     error = coalesce(?5, error)
                 WHERE id = ?1",
                params![id, to.as_str(), now, provider_reference, error],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            operation_event(tx, &path, &op, now, detail)?;
            let after = operation_in(tx, &path, id)?;
            if to == OperationState::Done {
                journal::on_done(tx, &path, &ctx, &after, now)?;
            }
            Ok(after)
        })
    }

    /// Keeps the provider's operations read just before a `requested` operation is sent (for
    /// an operation recorded before that read: the capture a sale's payment starts).
    pub fn record_pre_image(&mut self, id: &str, pre_image: &str) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            tx.execute(
                "UPDATE operations SET pre_image = ?2 WHERE id = ?1 AND state = 'requested'",
                params![id, pre_image],
            )
            .map(|_| ())
            .map_err(|e| StoreError::from_sqlite(&path, e))
        })
    }

    /// Records the provider's captured and refunded totals read back after a done operation
    /// (its evidence), with its event. Only once per operation.
    pub fn record_operation_evidence(
        &mut self,
        id: &str,
        captured: i64,
        refunded: i64,
        now: i64,
        detail: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            let op = operation_in(tx, &path, id)?;
            if op.captured_after.is_some() {
                return Ok(());
            }
            tx.execute(
                "UPDATE operations SET captured_after = ?2, refunded_after = ?3, updated_at = ?4
                 WHERE id = ?1",
                params![id, captured, refunded, now],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            operation_event(tx, &path, &op, now, detail)
        })
    }

    /// Appends an event about an operation that changes nothing (a refused attempt is logged
    /// on the session with [`SessionLog::add_event`] instead: it has no operation).
    pub fn add_operation_event(
        &mut self,
        id: &str,
        now: i64,
        detail: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            let op = operation_in(tx, &path, id)?;
            operation_event(tx, &path, &op, now, detail)
        })
    }

    /// One operation.
    pub fn operation(&self, id: &str) -> Result<OperationRecord, StoreError> {
        operation_in(&self.conn, &self.path, id)
    }

    /// A session's operations, oldest first.
    pub fn operations(&self, session_id: &str) -> Result<Vec<OperationRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {OP_COLUMNS} FROM operations WHERE session_id = ?1 ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([session_id], row_to_operation)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Operations not settled (`requested`, `sent`, `unknown`), oldest first: what
    /// reconciliation looks at (indexed).
    pub fn unsettled_operations(&self) -> Result<Vec<OperationRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {OP_COLUMNS} FROM operations
                 WHERE state IN ('requested', 'sent', 'unknown') ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], row_to_operation)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rust_rule_is_the_trigger_rule() {
        use OperationState::*;
        let allowed: Vec<(OperationState, OperationState)> = OperationState::ALL
            .into_iter()
            .flat_map(|a| OperationState::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Requested, Sent),
                (Requested, Failed),
                (Sent, Done),
                (Sent, Failed),
                (Sent, Unknown),
                (Unknown, Done),
                (Unknown, Failed),
            ]
        );
        let migration = super::super::MIGRATIONS[3];
        assert!(migration.contains(
            "NOT ((OLD.state = 'requested' AND NEW.state IN ('sent', 'failed'))
               OR (OLD.state = 'sent' AND NEW.state IN ('done', 'failed', 'unknown'))
               OR (OLD.state = 'unknown' AND NEW.state IN ('done', 'failed')))"
        ));
    }
}
