//! What the one scheduler (`crate::schedule`) reads of the session log: for each open or
//! unknown session only what decides when to ask whom ([`FollowedSession`], no order, no URL),
//! and which sessions changed since its last read.
//!
//! - "Changed since" is the hub's outbox (`outbox.rs`, schema v8): a trigger notes every
//!   insert and update of a session, in the writer's transaction, at a position one above the
//!   last. Writers are serialised, so a position is committed after every lower one, and a
//!   read of `pos > after` in one read transaction misses nothing committed before it,
//!   whichever process or connection wrote it.
//! - The hub's sender deletes the notes it pushed (a prefix, `pos <= acknowledged`). Notes past
//!   a reader's position may so be gone before it reads them: [`SessionLog::followed_changes`]
//!   then says so (`None`), and the reader reads every open session instead
//!   ([`SessionLog::followed_sessions`]).
//!
//! Not for: what a status means, or asking anyone (`checkout`, `till::follow`).

use super::{SessionLog, StoreError};
use crate::link::SaleKind;
use crate::session::Status;
use rusqlite::OptionalExtension;

/// What the scheduler needs of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedSession {
    pub id: String,
    pub provider: String,
    pub profile: String,
    pub sale: SaleKind,
    pub status: Status,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

impl FollowedSession {
    /// Whether the scheduler follows it: open, or unknown (a create whose answer was lost).
    pub fn is_followed(&self) -> bool {
        matches!(self.status, Status::Open | Status::Unknown)
    }
}

const FOLLOWED_COLUMNS: &str = "id, provider, profile, sale, status, created_at, expires_at";

fn row_to_followed(r: &rusqlite::Row) -> rusqlite::Result<FollowedSession> {
    let text = |i: usize, e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    };
    Ok(FollowedSession {
        id: r.get(0)?,
        provider: r.get(1)?,
        profile: r.get(2)?,
        sale: SaleKind::parse(&r.get::<_, String>(3)?).map_err(|e| text(3, e.to_string()))?,
        status: Status::parse(&r.get::<_, String>(4)?).map_err(|e| text(4, e.to_string()))?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
    })
}

/// The highest change note position ever given (0 before the first).
fn last_position(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'hub_outbox'), 0)",
        [],
        |r| r.get(0),
    )
}

impl SessionLog {
    /// Every open and unknown session, and the change note position this read reflects (for
    /// [`SessionLog::followed_changes`]); one read transaction, so the two agree.
    pub fn followed_sessions(&self) -> Result<(Vec<FollowedSession>, i64), StoreError> {
        let err = |e| self.err(e);
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        let position = last_position(&tx).map_err(err)?;
        let sessions = tx
            .prepare_cached(&format!(
                "SELECT {FOLLOWED_COLUMNS} FROM sessions
                 WHERE status IN ('open', 'unknown') ORDER BY id"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([], row_to_followed)?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok((sessions, position))
    }

    /// The sessions (any status) written after change note position `after`, each once, and
    /// the position this read reaches; `None` when notes after `after` were already deleted
    /// (pushed to the hub), so the changes cannot be told: read every open session instead.
    pub fn followed_changes(
        &self,
        after: i64,
    ) -> Result<Option<(Vec<FollowedSession>, i64)>, StoreError> {
        let err = |e| self.err(e);
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        let position = last_position(&tx).map_err(err)?;
        if position <= after {
            return Ok(Some((Vec::new(), after)));
        }
        // Notes are numbered without gaps and deleted from the lowest up: everything below
        // the lowest left (everything, when none is left) is gone.
        let lowest: Option<i64> = tx
            .query_row("SELECT min(pos) FROM hub_outbox", [], |r| r.get(0))
            .optional()
            .map_err(err)?
            .flatten();
        let gone_upto = lowest.map_or(position, |l| l - 1);
        if gone_upto > after {
            return Ok(None);
        }
        let sessions = tx
            .prepare_cached(&format!(
                "SELECT {FOLLOWED_COLUMNS} FROM sessions WHERE id IN
                 (SELECT key FROM hub_outbox WHERE pos > ?1 AND pos <= ?2 AND kind = 'session')
                 ORDER BY id"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([after, position], row_to_followed)?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Some((sessions, position)))
    }
}
