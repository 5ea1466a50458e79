//! The `operators` table (schema v6, [`crate::operator`] says what an operator is) and the
//! only places an [`Authenticated`] operator is made: a PIN checked against its Argon2 hash
//! ([`SessionLog::login`]), or the owner of a till with no operators
//! ([`SessionLog::owner_if_no_operators`]).
//!
//! Logins, refused PINs, logouts and every change of the operators are journaled, with the
//! operator's id and name, never a PIN. Operators are never deleted (the journal and the SAF-T
//! export name them): removal is a mark, after which they cannot log in.

use super::{journal, SessionLog, StoreError};
use crate::journal::Kind;
use crate::operator::{
    check_id, check_name, hash_pin, pin_matches, Authenticated, Operator, OperatorError, Role,
    OWNER_ID, OWNER_NAME,
};
use crate::secrets::Secret;
use rusqlite::{params, OptionalExtension};

/// An operator to add.
#[derive(Debug, Clone)]
pub struct NewOperator<'a> {
    /// `None`: the next free id (1 for the first).
    pub id: Option<i64>,
    pub name: &'a str,
    pub role: Role,
    pub pin: &'a Secret,
}

fn row_to_operator(r: &rusqlite::Row) -> rusqlite::Result<Operator> {
    let role: String = r.get(2)?;
    Ok(Operator {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
        })?,
        created_ms: r.get(3)?,
        removed_ms: r.get(4)?,
    })
}

const OP_COLUMNS: &str = "id, name, role, created_ms, removed_ms";

/// Journals that `by` `action`ed (added, removed) `op`, in the caller's transaction.
fn changed(
    tx: &rusqlite::Connection,
    path: &std::path::Path,
    ctx: &journal::Ctx,
    by: &Authenticated,
    action: &str,
    op: &Operator,
    now: i64,
) -> Result<(), StoreError> {
    journal::append_event(
        tx,
        path,
        ctx,
        &journal::NewEvent {
            kind: Kind::OperatorChange,
            operator_id: Some(by.id()),
            session_id: None,
            ref_seq: None,
            body: serde_json::json!({"action": action, "operator": op}),
            at: now,
        },
    )
    .map(|_| ())
}

impl SessionLog {
    /// Every operator ever added (removed ones marked), by id.
    pub fn operators(&self) -> Result<Vec<Operator>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {OP_COLUMNS} FROM operators ORDER BY id"))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], row_to_operator)
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn active_operators(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM operators WHERE removed_ms IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The owner (operator 1, a manager) when no operator is configured: a new install works
    /// with no set-up. `None` once one is: then someone logs in.
    pub fn owner_if_no_operators(&self) -> Result<Option<Authenticated>, StoreError> {
        Ok((self.active_operators()? == 0)
            .then(|| Authenticated::new(OWNER_ID, OWNER_NAME.into(), Role::Manager, false)))
    }

    /// Checks operator `id`'s PIN and journals the login (`approval`: a manager's PIN given on
    /// the spot for one action, said in the entry). A wrong PIN is journaled as a refused
    /// login (the id tried, never the PIN) and refused.
    pub fn login(
        &mut self,
        id: i64,
        pin: &Secret,
        approval: bool,
        now: i64,
    ) -> Result<Authenticated, StoreError> {
        check_id(id)?;
        let row: Option<(Operator, String)> = self
            .conn
            .query_row(
                &format!("SELECT {OP_COLUMNS}, pin_phc FROM operators WHERE id = ?1"),
                [id],
                |r| Ok((row_to_operator(r)?, r.get(5)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let refused = |log: &mut SessionLog, why: OperatorError| -> StoreError {
            let event = journal::NewEvent {
                kind: Kind::LoginFailed,
                operator_id: matches!(why, OperatorError::WrongPin { .. }).then_some(id),
                session_id: None,
                ref_seq: None,
                body: serde_json::json!({"id": id, "why": why.to_string()}),
                at: now,
            };
            if let Err(e) = log.journal_event(&event) {
                log::warn!(target: "kassa::journal", "a refused login was not journaled: {e}");
            }
            StoreError::Operator(why)
        };
        let Some((op, phc)) = row else {
            return Err(refused(self, OperatorError::NoSuchOperator { id }));
        };
        if op.removed_ms.is_some() {
            return Err(refused(self, OperatorError::Removed { id }));
        }
        if !pin_matches(&phc, pin) {
            return Err(refused(self, OperatorError::WrongPin { id }));
        }
        let who = Authenticated::new(op.id, op.name.clone(), op.role, true);
        self.journal_event(&journal::NewEvent {
            kind: Kind::Login,
            operator_id: Some(op.id),
            session_id: None,
            ref_seq: None,
            body: serde_json::json!({
                "operator": who.stamp(),
                "role": op.role,
                "approval": approval,
            }),
            at: now,
        })?;
        Ok(who)
    }

    /// Journals that `who` logged out (or was switched away from). The owner of a till with no
    /// operators never logged in, so nothing is journaled for them.
    pub fn logout(&mut self, who: &Authenticated, now: i64) -> Result<(), StoreError> {
        if !who.by_pin() {
            return Ok(());
        }
        self.journal_event(&journal::NewEvent {
            kind: Kind::Logout,
            operator_id: Some(who.id()),
            session_id: None,
            ref_seq: None,
            body: serde_json::json!({"operator": who.stamp()}),
            at: now,
        })
        .map(|_| ())
    }

    /// Adds an operator (by a manager; the first must be a manager), PIN hashed, and journals
    /// it. Returns the operator.
    pub fn add_operator(
        &mut self,
        by: &Authenticated,
        new: &NewOperator,
        now: i64,
    ) -> Result<Operator, StoreError> {
        by.require_manager("adding an operator")?;
        let name = check_name(new.name)?;
        if let Some(id) = new.id {
            check_id(id)?;
        }
        let phc = hash_pin(new.pin)?;
        let path = self.path.clone();
        let ctx = self.ctx();
        let op = self.write(true, |tx| {
            let err = |e| StoreError::from_sqlite(&path, e);
            let active: i64 = tx
                .query_row(
                    "SELECT count(*) FROM operators WHERE removed_ms IS NULL",
                    [],
                    |r| r.get(0),
                )
                .map_err(err)?;
            if active == 0 && new.role != Role::Manager {
                return Err(OperatorError::FirstMustBeManager.into());
            }
            let id = match new.id {
                Some(id) => id,
                None => tx
                    .query_row("SELECT coalesce(max(id), 0) + 1 FROM operators", [], |r| {
                        r.get(0)
                    })
                    .map_err(err)?,
            };
            let taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM operators WHERE id = ?1)",
                    [id],
                    |r| r.get(0),
                )
                .map_err(err)?;
            if taken {
                return Err(OperatorError::IdTaken { id }.into());
            }
            tx.execute(
                "INSERT INTO operators (id, name, role, pin_phc, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, name, new.role.as_str(), phc, now],
            )
            .map_err(err)?;
            let op = Operator {
                id,
                name: name.clone(),
                role: new.role,
                created_ms: now,
                removed_ms: None,
            };
            changed(tx, &path, &ctx, by, "added", &op, now)?;
            Ok(op)
        })?;
        Ok(op)
    }

    /// Removes operator `id` (by a manager; never the last manager) and journals it.
    pub fn remove_operator(
        &mut self,
        by: &Authenticated,
        id: i64,
        now: i64,
    ) -> Result<Operator, StoreError> {
        by.require_manager("removing an operator")?;
        let path = self.path.clone();
        let ctx = self.ctx();
        self.write(true, |tx| {
            let err = |e| StoreError::from_sqlite(&path, e);
            let op = tx
                .query_row(
                    &format!("SELECT {OP_COLUMNS} FROM operators WHERE id = ?1"),
                    [id],
                    row_to_operator,
                )
                .optional()
                .map_err(err)?
                .filter(|o| o.removed_ms.is_none())
                .ok_or(OperatorError::NoSuchOperator { id })?;
            if op.role == Role::Manager {
                let managers: i64 = tx
                    .query_row(
                        "SELECT count(*) FROM operators
                         WHERE removed_ms IS NULL AND role = 'manager'",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(err)?;
                if managers <= 1 {
                    return Err(OperatorError::LastManager { id }.into());
                }
            }
            tx.execute(
                "UPDATE operators SET removed_ms = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(err)?;
            let op = Operator {
                removed_ms: Some(now),
                ..op
            };
            changed(tx, &path, &ctx, by, "removed", &op, now)?;
            Ok(op)
        })
    }
}
