//! The outbox to the shop's hub (schema v7): what this till has not yet seen acknowledged.
//!
//! - Sessions and operations: triggers append a note (`hub_outbox`: kind, id, position) each
//!   time a row is written; the sender pushes the row as it is when it reads the note, so a
//!   session that changed three times since the last push is pushed once, as it is now.
//! - The journal: its own `seq` per register is the position (append-only, no gaps).
//! - `hub_pushed`: the highest position the hub acknowledged: the notes' (`notes`), each
//!   register's journal seq (`journal`). Notes at or below it are deleted once they are
//!   [`NOTES_KEPT_MS`] old (journal entries, of course, never are): the scheduler reads the
//!   same notes to learn which sessions changed (`followed.rs`), and a note the sender deleted
//!   before it read them costs it a read of every open session.
//!
//! Positions only grow and every write takes SQLite's one write lock, so a note with a higher
//! position was committed after every lower one: reading `pos > pushed` in order never skips a
//! row that commits later with a lower number (PostgreSQL's sequences would not promise that).
//!
//! Not here: PostgreSQL, the push itself, backoff (the `kassa-hub` crate). Nothing here ever
//! blocks a sale: reading the outbox is one read transaction, acknowledging one small write.

use super::{row_to_session, SessionLog, SessionRecord, StoreError, COLUMNS};
use crate::journal::Entry;
use crate::store::{KeyRecord, OperationRecord};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// What the outbox holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    Session,
    Operation,
    Journal,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Session => "session",
            OutboxKind::Operation => "operation",
            OutboxKind::Journal => "journal",
        }
    }
}

/// One read of the outbox: the rows to push, in order, and the positions they reach.
#[derive(Debug, Clone, Default)]
pub struct OutboxBatch {
    /// Sessions as they are now, each once, with the note's position (the hub keeps the row
    /// with the highest one).
    pub sessions: Vec<(i64, SessionRecord)>,
    pub operations: Vec<(i64, OperationRecord)>,
    /// The highest note position read (sessions and operations share the numbering).
    pub notes_upto: i64,
    /// Journal entries after the acknowledged ones, in (register, seq) order.
    pub journal: Vec<Entry>,
    /// Every register's public keys (few rows; the hub keeps the first copy).
    pub keys: Vec<KeyRecord>,
}

impl OutboxBatch {
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.operations.is_empty() && self.journal.is_empty()
    }
}

/// What waits for the hub, per kind, and since when.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pending {
    pub sessions: i64,
    pub operations: i64,
    pub journal: i64,
    /// When the oldest waiting row was written (Unix ms), if any waits.
    pub oldest_ms: Option<i64>,
    /// When the hub last acknowledged anything (Unix ms).
    pub last_push_ms: Option<i64>,
}

/// The `hub_pushed` row of the notes: they are numbered per database, not per register.
const NOTES: (&str, &str) = ("notes", "");

/// How long an acknowledged note is kept: well past the scheduler's 5 s between reads of the
/// changes, so a sender that pushes within a second does not make it read everything.
pub const NOTES_KEPT_MS: i64 = 10 * 60 * 1000;

impl SessionLog {
    /// The next rows to push: up to `limit` notes and `limit` journal entries.
    pub fn outbox_batch(&self, limit: i64) -> Result<OutboxBatch, StoreError> {
        let err = |e| self.err(e);
        // One read transaction: the notes and the rows they point at are from one moment.
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        let mut batch = OutboxBatch::default();
        let notes_pushed = pushed(&tx, NOTES).map_err(err)?;
        let notes: Vec<(i64, String, String)> = tx
            .prepare_cached(
                "SELECT max(pos), kind, key FROM hub_outbox WHERE pos > ?1
                 GROUP BY kind, key ORDER BY max(pos) LIMIT ?2",
            )
            .and_then(|mut st| {
                st.query_map(params![notes_pushed, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect()
            })
            .map_err(err)?;
        // The notes read end at the highest position among them; LIMIT over groups can leave
        // out a later note of a key already read, which is then pushed again next time.
        batch.notes_upto = notes.iter().map(|n| n.0).max().unwrap_or(notes_pushed);
        for (pos, kind, key) in notes {
            if kind == "session" {
                let s = tx
                    .query_row(
                        &format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"),
                        [&key],
                        row_to_session,
                    )
                    .map_err(err)?;
                batch.sessions.push((pos, s));
            } else {
                let op = super::operations::operation_in(&tx, &self.path, &key)?;
                batch.operations.push((pos, op));
            }
        }
        let registers: Vec<(String, i64)> = tx
            .prepare_cached(
                "SELECT j.register_id, coalesce(p.position, 0) FROM
                   (SELECT DISTINCT register_id FROM journal) j
                   LEFT JOIN hub_pushed p ON p.kind = 'journal' AND p.register_id = j.register_id
                 ORDER BY j.register_id",
            )
            .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(err)?;
        for (register, after) in registers {
            let mut st = tx
                .prepare_cached(&format!(
                    "SELECT {} FROM journal WHERE register_id = ?1 AND seq > ?2
                     ORDER BY seq LIMIT ?3",
                    super::journal::ENTRY_COLUMNS
                ))
                .map_err(err)?;
            let rows = st
                .query_map(
                    params![register, after, limit],
                    super::journal::row_to_entry,
                )
                .and_then(|r| r.collect::<Result<Vec<_>, _>>())
                .map_err(err)?;
            batch.journal.extend(rows);
        }
        drop(tx);
        batch.keys = self.journal_keys()?;
        Ok(batch)
    }

    /// Records what the hub acknowledged: notes up to `notes_upto` (deleted when older than
    /// [`NOTES_KEPT_MS`]), and per register the highest contiguous journal `seq` it holds.
    /// Positions never go back.
    pub fn outbox_acknowledge(
        &mut self,
        notes_upto: i64,
        journal: &[(String, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            let err = |e| StoreError::from_sqlite(&path, e);
            let advance = |kind: &str, register: &str, position: i64| {
                tx.execute(
                    "INSERT INTO hub_pushed (kind, register_id, position, at_ms)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (kind, register_id) DO UPDATE
                       SET position = max(position, excluded.position), at_ms = excluded.at_ms",
                    params![kind, register, position, now],
                )
                .map_err(err)
            };
            advance(NOTES.0, NOTES.1, notes_upto)?;
            for (register, seq) in journal {
                advance("journal", register, *seq)?;
            }
            // A prefix only (below the first young note): the scheduler takes everything
            // below the lowest note left as gone, so a note may never go before a lower one.
            tx.execute(
                "DELETE FROM hub_outbox WHERE pos <= ?1 AND pos <
                   coalesce((SELECT min(pos) FROM hub_outbox WHERE at_ms >= ?2), ?1 + 1)",
                params![notes_upto, now - NOTES_KEPT_MS],
            )
            .map_err(err)?;
            Ok(())
        })
    }

    /// A number that changes when another connection (the till, another process) commits to
    /// the log: SQLite's `data_version`, read without touching a table. The sender asks it
    /// every few hundred milliseconds and reads the outbox only when it moved.
    pub fn changed_elsewhere(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// What waits for the hub.
    pub fn outbox_pending(&self) -> Result<Pending, StoreError> {
        let err = |e| self.err(e);
        let notes_pushed = pushed(&self.conn, NOTES).map_err(err)?;
        let count = |kind: &str| -> Result<(i64, Option<i64>), StoreError> {
            self.conn
                .query_row(
                    "SELECT count(DISTINCT key), min(at_ms) FROM hub_outbox
                     WHERE kind = ?1 AND pos > ?2",
                    params![kind, notes_pushed],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(err)
        };
        let (sessions, s_oldest) = count("session")?;
        let (operations, o_oldest) = count("operation")?;
        let (journal, j_oldest): (i64, Option<i64>) = self
            .conn
            .query_row(
                "SELECT count(*), min(j.at_ms) FROM journal j
                   LEFT JOIN hub_pushed p ON p.kind = 'journal' AND p.register_id = j.register_id
                 WHERE j.seq > coalesce(p.position, 0)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        let last_push_ms = self
            .conn
            .query_row("SELECT max(at_ms) FROM hub_pushed", [], |r| r.get(0))
            .optional()
            .map_err(err)?
            .flatten();
        Ok(Pending {
            sessions,
            operations,
            journal,
            oldest_ms: [s_oldest, o_oldest, j_oldest].into_iter().flatten().min(),
            last_push_ms,
        })
    }
}

fn pushed(conn: &rusqlite::Connection, (kind, register): (&str, &str)) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT position FROM hub_pushed WHERE kind = ?1 AND register_id = ?2",
        [kind, register],
        |r| r.get(0),
    )
    .optional()
    .map(|p| p.unwrap_or(0))
}
