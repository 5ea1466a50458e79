//! The session log: every checkout session Kassa starts, in a local SQLite database
//! (`sessions.db` in the data directory), from the intent until its final status.
//!
//! - WAL mode; `busy_timeout` so the desktop app and `kassa-cli` can use one database at once;
//!   writes take the write lock up front (`BEGIN IMMEDIATE`) so two writers queue instead of
//!   failing on a lock upgrade.
//! - `synchronous=FULL` for every commit that changes a session's status (the intent, the
//!   provider's answer, paid/cancelled/...), so they survive a power cut; `NORMAL` (durable
//!   across a crash of Kassa, not of the machine) for events that change no status, such as a
//!   poll result. `BENCHMARKS.md` has the measured cost of each.
//! - Embedded, forward-only migrations ([`MIGRATIONS`]) run in one transaction at open; a
//!   database written by a newer Kassa, or a SQLite file that is not Kassa's, is refused and
//!   left untouched.
//! - `session_events` is append-only: triggers refuse `UPDATE` and `DELETE`.
//! - `operations` (schema v4, [`operations`](self::operations)): each capture, refund or void
//!   of a session's money, recorded before its request; triggers hold what cannot change
//!   (what was asked, a settled outcome) and the state machine, and refuse `DELETE`.
//! - No secret is ever written here: rows hold the priced order, ids, URLs and provider
//!   messages, which provider clients build without credentials.
//!
//! This module validates status and operation transitions ([`Status::can_become`],
//! [`OperationState::can_become`]) but knows nothing of providers or HTTP (it keeps the
//! operation kinds and lines of `provider::operation`, which are data); `checkout` drives it.
//! `export.rs` writes the CSV export.

mod export;
mod followed;
mod journal;
mod operations;
mod operators;
mod outbox;
mod reports;
mod saft;

pub use followed::FollowedSession;
pub use journal::{JournalFilter, KeyRecord, NewEvent, Signer, Verification};
pub use operations::{
    authorization_due, money_of, AuthorizationDue, NewOperation, OperationRecord, OperationState,
    OperationsMoney, Via, EXPIRY_WARNING_MS,
};
pub use operators::NewOperator;
pub use outbox::{OutboxBatch, OutboxKind, Pending, NOTES_KEPT_MS};

use crate::code::Code;
use crate::journal::Standing;
use crate::link::{Contact, SaleKind};
use crate::operator::{Authenticated, OperatorError};
use crate::provider::CapturePolicy;
use crate::quote::PricedOrder;
use crate::session::{SessionId, Status};
use crate::time::format_rfc3339;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The database file's name in the data directory.
pub const FILE_NAME: &str = "sessions.db";

/// `PRAGMA application_id` of a Kassa session log ("KASS").
const APPLICATION_ID: i32 = 0x4B41_5353;

/// The schema, one entry per version: `MIGRATIONS[n]` takes a database from version `n` to
/// `n + 1`. Never edit a released entry; append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: sessions and their events.
    "CREATE TABLE sessions (
        id TEXT NOT NULL UNIQUE,
        provider TEXT NOT NULL,
        profile TEXT NOT NULL,
        demo INTEGER NOT NULL DEFAULT 0,
        provider_session_id TEXT,
        merchant_reference TEXT NOT NULL,
        currency TEXT NOT NULL,
        gross_minor INTEGER NOT NULL,
        net_minor INTEGER NOT NULL,
        vat_minor INTEGER NOT NULL,
        order_json TEXT NOT NULL,
        checkout_url TEXT,
        qr_payload TEXT,
        status TEXT NOT NULL CHECK (status IN ('creating','open','paid','cancelled','expired',
                                               'failed','unknown','needs_review')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_error TEXT
    ) STRICT;
    CREATE INDEX sessions_by_status ON sessions (status, id);
    CREATE INDEX sessions_by_provider ON sessions (provider, id);
    CREATE INDEX sessions_by_reference ON sessions (merchant_reference);
    CREATE TABLE session_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions (id),
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT,
        detail TEXT NOT NULL
    ) STRICT;
    CREATE INDEX session_events_by_session ON session_events (session_id, seq);
    CREATE TRIGGER session_events_append_only_update BEFORE UPDATE ON session_events
        BEGIN SELECT RAISE(ABORT, 'session_events is append-only'); END;
    CREATE TRIGGER session_events_append_only_delete BEFORE DELETE ON session_events
        BEGIN SELECT RAISE(ABORT, 'session_events is append-only'); END;",
    // 2: the provider's id of the payment, when it arrives after the session's (Bambora's
    // txnid from a verified accept URL).
    "ALTER TABLE sessions ADD COLUMN provider_payment_id TEXT;",
    // 3: who confirmed a payment when the provider cannot (Opencharge; a needs_review session
    // staff checked in the provider's back office): NULL is the provider's own evidence.
    "ALTER TABLE sessions ADD COLUMN confirmed_by TEXT
        CHECK (confirmed_by IS NULL OR confirmed_by = 'staff');",
    // 4: after the sale. The capture policy a session was created with (NULL before v4), the
    // operations on its money (capture, refund, void, a refund staff recorded), each recorded
    // before its request (see `operations.rs` for the rules the triggers hold), and the
    // operation an event belongs to.
    "ALTER TABLE sessions ADD COLUMN capture_policy TEXT
        CHECK (capture_policy IS NULL OR capture_policy IN ('at_sale', 'manual'));
    ALTER TABLE session_events ADD COLUMN operation_id TEXT;
    CREATE TABLE operations (
        id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL REFERENCES sessions (id),
        kind TEXT NOT NULL CHECK (kind IN ('capture', 'refund', 'void', 'refund_recorded')),
        via TEXT NOT NULL CHECK (via IN ('session', 'api', 'staff')),
        amount INTEGER NOT NULL CHECK (amount >= 0),
        lines TEXT NOT NULL,
        reason TEXT,
        state TEXT NOT NULL CHECK (state IN ('requested', 'sent', 'done', 'failed', 'unknown')),
        pre_image TEXT,
        provider_reference TEXT,
        captured_after INTEGER,
        refunded_after INTEGER,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        sent_at INTEGER
    ) STRICT;
    CREATE INDEX operations_by_session ON operations (session_id, id);
    CREATE INDEX operations_unsettled ON operations (state)
        WHERE state IN ('requested', 'sent', 'unknown');
    CREATE TRIGGER operations_first_state BEFORE INSERT ON operations
        WHEN NOT ((NEW.via = 'api' AND NEW.state = 'requested' AND NEW.kind <> 'refund_recorded')
               OR (NEW.via = 'session' AND NEW.state IN ('sent', 'done') AND NEW.kind = 'capture')
               OR (NEW.via = 'staff' AND NEW.state = 'done' AND NEW.kind = 'refund_recorded'))
        BEGIN SELECT RAISE(ABORT, 'an operation starts requested (api), sent or done (a capture by the session) or done (a refund staff recorded)'); END;
    CREATE TRIGGER operations_fixed BEFORE UPDATE ON operations
        WHEN NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id
          OR NEW.kind IS NOT OLD.kind OR NEW.via IS NOT OLD.via OR NEW.amount IS NOT OLD.amount
          OR NEW.lines IS NOT OLD.lines OR NEW.reason IS NOT OLD.reason
          OR NEW.created_at IS NOT OLD.created_at
          OR (OLD.state <> 'requested' AND NEW.pre_image IS NOT OLD.pre_image)
          OR (OLD.sent_at IS NOT NULL AND NEW.sent_at IS NOT OLD.sent_at)
        BEGIN SELECT RAISE(ABORT, 'what an operation asked for never changes'); END;
    CREATE TRIGGER operations_transitions BEFORE UPDATE OF state ON operations
        WHEN NEW.state <> OLD.state
         AND NOT ((OLD.state = 'requested' AND NEW.state IN ('sent', 'failed'))
               OR (OLD.state = 'sent' AND NEW.state IN ('done', 'failed', 'unknown'))
               OR (OLD.state = 'unknown' AND NEW.state IN ('done', 'failed')))
        BEGIN SELECT RAISE(ABORT, 'illegal operation state transition'); END;
    CREATE TRIGGER operations_settled BEFORE UPDATE ON operations
        WHEN OLD.state IN ('done', 'failed')
         AND (NEW.state IS NOT OLD.state OR NEW.provider_reference IS NOT OLD.provider_reference
              OR NEW.error IS NOT OLD.error
              OR (OLD.captured_after IS NOT NULL AND NEW.captured_after IS NOT OLD.captured_after)
              OR (OLD.refunded_after IS NOT NULL AND NEW.refunded_after IS NOT OLD.refunded_after))
        BEGIN SELECT RAISE(ABORT, 'a done or failed operation only gains its evidence, once'); END;
    CREATE TRIGGER operations_kept BEFORE DELETE ON operations
        BEGIN SELECT RAISE(ABORT, 'operations are never deleted'); END;",
    // 5: when the payment's uncaptured authorization lapses, as the provider's record said
    // when Kassa last read it (Unix ms; NULL: not read, or nothing left to lapse), so history
    // warns before it without asking the provider.
    "ALTER TABLE sessions ADD COLUMN authorization_expires_at INTEGER;",
    // 6: the journal (`journal.rs`), its public keys, the operators (`operators.rs`), and who
    // started each session and asked for each operation (NULL: before v6, or imported).
    "ALTER TABLE sessions ADD COLUMN operator_id INTEGER;
    ALTER TABLE operations ADD COLUMN operator_id INTEGER;
    CREATE TABLE journal (
        register_id TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 1),
        kind TEXT NOT NULL,
        event_code TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        local_date TEXT NOT NULL
            CHECK (local_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
        local_time TEXT NOT NULL CHECK (local_time GLOB '[0-2][0-9]:[0-5][0-9]:[0-5][0-9]'),
        operator_id INTEGER,
        session_id TEXT,
        operation_id TEXT,
        ref_seq INTEGER,
        nr INTEGER CHECK (nr >= 1),
        gross_minor INTEGER,
        net_minor INTEGER,
        signature TEXT,
        key_version TEXT,
        body TEXT NOT NULL,
        prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
        hash BLOB NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (register_id, seq),
        UNIQUE (register_id, nr),
        CHECK ((kind IN ('sale', 'return')) = (nr IS NOT NULL AND gross_minor IS NOT NULL
            AND net_minor IS NOT NULL AND signature IS NOT NULL AND key_version IS NOT NULL))
    ) STRICT;
    CREATE UNIQUE INDEX journal_one_sale_per_session ON journal (session_id) WHERE kind = 'sale';
    CREATE UNIQUE INDEX journal_one_void_per_session ON journal (session_id) WHERE kind = 'void';
    CREATE UNIQUE INDEX journal_one_return_per_operation ON journal (operation_id)
        WHERE kind = 'return';
    CREATE UNIQUE INDEX journal_one_copy_per_receipt ON journal (register_id, ref_seq)
        WHERE kind = 'copy';
    CREATE UNIQUE INDEX journal_one_z_per_day ON journal (register_id, local_date)
        WHERE kind = 'z_report';
    CREATE INDEX journal_by_date ON journal (register_id, local_date, seq);
    CREATE INDEX journal_by_session ON journal (session_id) WHERE session_id IS NOT NULL;
    CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    CREATE TRIGGER journal_append_only_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    CREATE TABLE journal_keys (
        register_id TEXT NOT NULL,
        key_version TEXT NOT NULL,
        key_id TEXT NOT NULL,
        public_key_pem TEXT NOT NULL CHECK (public_key_pem LIKE '-----BEGIN PUBLIC KEY-----%'),
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (register_id, key_version)
    ) STRICT;
    CREATE TRIGGER journal_keys_append_only_update BEFORE UPDATE ON journal_keys
        BEGIN SELECT RAISE(ABORT, 'journal keys are append-only'); END;
    CREATE TRIGGER journal_keys_append_only_delete BEFORE DELETE ON journal_keys
        BEGIN SELECT RAISE(ABORT, 'journal keys are append-only'); END;
    CREATE TABLE operators (
        id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 999999),
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        role TEXT NOT NULL CHECK (role IN ('cashier', 'manager')),
        pin_phc TEXT NOT NULL CHECK (pin_phc LIKE '$argon2%'),
        created_ms INTEGER NOT NULL,
        removed_ms INTEGER
    ) STRICT;
    CREATE TRIGGER operators_kept BEFORE DELETE ON operators
        BEGIN SELECT RAISE(ABORT, 'operators are never deleted (the journal names them)'); END;
    CREATE TRIGGER operators_fixed BEFORE UPDATE ON operators
        WHEN NEW.id IS NOT OLD.id OR NEW.name IS NOT OLD.name OR NEW.role IS NOT OLD.role
          OR NEW.created_ms IS NOT OLD.created_ms OR OLD.removed_ms IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'an operator only changes their PIN, or is removed once'); END;",
    // 7: remote payment links. Whether a session is a counter sale or a link the customer pays
    // later; the expiry staff asked for (the provider's confirmed one stays `expires_at`);
    // the customer's contact while the sale can still be paid or renewed (`contact`, see
    // `CONTACT_KEPT_MS`) and its masked form for good; the session a renewed link replaces
    // (each session is renewed at most once: a session is never reused). A paid sale forgets
    // the contact at once, whoever records the payment.
    "ALTER TABLE sessions ADD COLUMN sale TEXT NOT NULL DEFAULT 'counter'
        CHECK (sale IN ('counter', 'link'));
    ALTER TABLE sessions ADD COLUMN requested_expires_at INTEGER;
    ALTER TABLE sessions ADD COLUMN contact TEXT;
    ALTER TABLE sessions ADD COLUMN contact_masked TEXT;
    ALTER TABLE sessions ADD COLUMN renews TEXT REFERENCES sessions (id);
    CREATE INDEX sessions_links ON sessions (status, id) WHERE sale = 'link';
    CREATE UNIQUE INDEX sessions_renewed_once ON sessions (renews) WHERE renews IS NOT NULL;
    CREATE TRIGGER sessions_paid_forgets_contact AFTER UPDATE OF status ON sessions
        WHEN NEW.status = 'paid' AND NEW.contact IS NOT NULL
        BEGIN UPDATE sessions SET contact = NULL WHERE id = NEW.id; END;",
    // 8: the outbox to the shop's hub
    // (`outbox.rs`). Triggers note every session and operation written (the sender pushes the
    // row as it is then); the journal needs no note, its `seq` is the position. `hub_pushed`
    // holds the highest position the hub acknowledged: the notes' (sessions and operations share
    // their numbering) and each register's journal seq. What was there
    // before the hub is noted once, here.
    "CREATE TABLE hub_outbox (
        pos INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('session', 'operation')),
        key TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE hub_pushed (
        kind TEXT NOT NULL CHECK (kind IN ('notes', 'journal')),
        register_id TEXT NOT NULL,
        position INTEGER NOT NULL CHECK (position >= 0),
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (kind, register_id)
    ) STRICT;
    CREATE TRIGGER hub_outbox_session_new AFTER INSERT ON sessions
        BEGIN INSERT INTO hub_outbox (kind, key, at_ms) VALUES ('session', NEW.id, NEW.updated_at); END;
    CREATE TRIGGER hub_outbox_session_changed AFTER UPDATE ON sessions
        BEGIN INSERT INTO hub_outbox (kind, key, at_ms) VALUES ('session', NEW.id, NEW.updated_at); END;
    CREATE TRIGGER hub_outbox_operation_new AFTER INSERT ON operations
        BEGIN INSERT INTO hub_outbox (kind, key, at_ms) VALUES ('operation', NEW.id, NEW.updated_at); END;
    CREATE TRIGGER hub_outbox_operation_changed AFTER UPDATE ON operations
        BEGIN INSERT INTO hub_outbox (kind, key, at_ms) VALUES ('operation', NEW.id, NEW.updated_at); END;
    INSERT INTO hub_outbox (kind, key, at_ms)
        SELECT 'session', id, updated_at FROM sessions ORDER BY id;
    INSERT INTO hub_outbox (kind, key, at_ms)
        SELECT 'operation', id, updated_at FROM operations ORDER BY id;",
];

/// How long after a link sale ended unpaid (expired, cancelled, failed) the session log keeps
/// the customer's full contact, so staff can renew the link and send it to the same customer:
/// 7 days. Then only the masked form is kept ([`SessionLog::forget_contacts`], run by every
/// reconciliation). A paid sale forgets it at once (a trigger); a renewed one hands it to the
/// session that replaces it. Why keep it at all: Resend and Renew need it, and the shop should
/// not ask the customer again; why not longer: nothing else needs it.
pub const CONTACT_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

/// How long after it ended unpaid an unrenewed link sale is still listed by
/// [`SessionLog::links`] (to be renewed): as long as its contact is kept.
pub const LINKS_LISTED_MS: i64 = CONTACT_KEPT_MS;

/// Why the session log could not do what was asked. Each names the file and the cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a SQLite database (corrupt or another kind of file); Kassa left it untouched. Move it away to start a new session log")]
    NotADatabase { path: PathBuf },
    #[error("{path} is a SQLite database but not Kassa's session log; Kassa left it untouched")]
    NotKassa { path: PathBuf },
    #[error("{path} was written by a newer Kassa (schema version {found}; this Kassa knows up to {supported}); update Kassa. The file was left untouched")]
    NewerDatabase {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "cannot write the session log {path}: the file or its directory is read-only ({detail})"
    )]
    ReadOnly { path: PathBuf, detail: String },
    #[error("cannot write the session log {path}: the disk is full; nothing was recorded. Free some space and try again")]
    DiskFull { path: PathBuf },
    #[error(
        "the session log {path} is busy (another Kassa is writing and did not finish within 5 s)"
    )]
    Busy { path: PathBuf },
    #[error("the session log {path} is damaged: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("cannot open the session log {path}: {detail}")]
    CannotOpen { path: PathBuf, detail: String },
    #[error("no session {id} in the session log")]
    NotFound { id: String },
    #[error("session {id} cannot go from {from} to {to}")]
    IllegalTransition {
        id: String,
        from: Status,
        to: Status,
    },
    #[error("no operation {id} in the session log")]
    NoOperation { id: String },
    #[error("operation {id} cannot go from {from} to {to}")]
    OperationTransition {
        id: String,
        from: OperationState,
        to: OperationState,
    },
    /// The journal's signing key cannot be had (keyring), or a receipt cannot be signed:
    /// nothing was recorded.
    #[error("{detail}")]
    SigningKey { detail: String },
    #[error("receipt {nr} (register {register_id}) was copied already (journal entry {copy_seq}): only one copy per receipt is allowed")]
    CopyExists {
        register_id: String,
        nr: i64,
        copy_seq: i64,
    },
    #[error("{what}")]
    NoReceipt { what: String },
    #[error("register {register_id} has its Z report of {date} already (Z {number}, made at {time}): one Z per register per day. An X report shows the totals without closing the day")]
    ZExists {
        register_id: String,
        date: String,
        time: String,
        number: i64,
    },
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Operator(#[from] OperatorError),
    #[error("session log {path}: {detail}")]
    Other { path: PathBuf, detail: String },
}

impl StoreError {
    /// A stable code for the UI and scripts.
    pub fn code(&self) -> Code {
        match self {
            StoreError::NotADatabase { .. } => Code::StoreNotADatabase,
            StoreError::NotKassa { .. } => Code::StoreNotKassa,
            StoreError::NewerDatabase { .. } => Code::StoreNewerVersion,
            StoreError::ReadOnly { .. } => Code::StoreReadOnly,
            StoreError::DiskFull { .. } => Code::StoreDiskFull,
            StoreError::Busy { .. } => Code::StoreBusy,
            StoreError::Corrupt { .. } => Code::StoreCorrupt,
            StoreError::CannotOpen { .. } => Code::StoreCannotOpen,
            StoreError::NotFound { .. } => Code::SessionNotFound,
            StoreError::IllegalTransition { .. } | StoreError::OperationTransition { .. } => {
                Code::IllegalTransition
            }
            StoreError::NoOperation { .. } => Code::StoreError,
            StoreError::SigningKey { .. } => Code::SigningKey,
            StoreError::CopyExists { .. } => Code::CopyExists,
            StoreError::NoReceipt { .. } => Code::NoReceipt,
            StoreError::ZExists { .. } => Code::ZReportExists,
            StoreError::Report(e) => e.code(),
            StoreError::Operator(e) => e.code(),
            StoreError::Other { .. } => Code::StoreError,
        }
    }

    fn from_sqlite(path: &Path, e: rusqlite::Error) -> StoreError {
        let path = path.to_path_buf();
        let detail = e.to_string();
        let code = e.sqlite_error_code();
        // SQLite reports a full or read-only disk in several ways (a failed open of the WAL
        // or shared-memory file, an I/O error on write): look at the directory to tell.
        if matches!(
            code,
            Some(ErrorCode::CannotOpen | ErrorCode::SystemIoFailure | ErrorCode::ReadOnly)
        ) {
            match probe_dir(&path) {
                Probe::Full => return StoreError::DiskFull { path },
                Probe::ReadOnly(why) if code != Some(ErrorCode::ReadOnly) => {
                    return StoreError::ReadOnly {
                        path,
                        detail: format!("{detail}; {why}"),
                    }
                }
                _ => {}
            }
        }
        match code {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
            Some(ErrorCode::DiskFull) => StoreError::DiskFull { path },
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) => {
                StoreError::ReadOnly { path, detail }
            }
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
                StoreError::Busy { path }
            }
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt { path, detail },
            Some(ErrorCode::CannotOpen) => StoreError::CannotOpen { path, detail },
            _ => StoreError::Other { path, detail },
        }
    }
}

enum Probe {
    Writable,
    Full,
    ReadOnly(String),
}

/// Writes 4 KiB beside the database (and removes it) to see whether the disk has room and
/// the directory takes writes.
fn probe_dir(path: &Path) -> Probe {
    let probe = path.with_extension("space-probe");
    let result = std::fs::File::create(&probe)
        .and_then(|mut f| f.write_all(&[0; 4096]).and_then(|_| f.sync_all()));
    let _ = std::fs::remove_file(&probe);
    match result {
        Ok(()) => Probe::Writable,
        Err(e) if matches!(e.raw_os_error(), Some(28) | Some(122)) => Probe::Full,
        Err(e) if matches!(e.raw_os_error(), Some(30) | Some(13) | Some(1)) => {
            Probe::ReadOnly(e.to_string())
        }
        Err(_) => Probe::Writable,
    }
}

/// A session about to be created at a provider: what the intent row records.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id: SessionId,
    pub provider: &'a str,
    pub profile: &'a str,
    pub demo: bool,
    pub order: &'a PricedOrder,
    pub created_at: i64,
    /// What the payment does when authorized (`<provider>.capture`); `None` for imports.
    pub capture_policy: Option<CapturePolicy>,
    /// The operator who started the sale (its receipt names them); `None` for imports, which
    /// the journal does not cover.
    pub operator_id: Option<i64>,
    /// A link sale's own facts; `None`: a counter sale.
    pub link: Option<LinkIntent<'a>>,
}

/// What the intent of a link sale records besides the order.
#[derive(Debug, Clone, Copy)]
pub struct LinkIntent<'a> {
    /// When staff asked it to expire (before the provider's limit).
    pub requested_expires_at: i64,
    /// Whom the link is sent to (kept as [`CONTACT_KEPT_MS`] says, masked for good).
    pub contact: Option<&'a Contact>,
    /// The session this one renews.
    pub renews: Option<&'a str>,
}

/// One row of `sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    pub id: String,
    pub provider: String,
    pub profile: String,
    pub demo: bool,
    pub provider_session_id: Option<String>,
    pub merchant_reference: String,
    pub currency: String,
    pub gross_minor: i64,
    pub net_minor: i64,
    pub vat_minor: i64,
    /// The priced order as sent (the `kassa-cli quote --json` shape).
    #[serde(skip)]
    pub order_json: String,
    pub checkout_url: Option<String>,
    pub qr_payload: Option<String>,
    pub status: Status,
    #[serde(serialize_with = "ser_time")]
    pub created_at: i64,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: i64,
    #[serde(serialize_with = "ser_opt_time")]
    pub expires_at: Option<i64>,
    pub last_error: Option<String>,
    /// The provider's id of the payment when it differs from the session's (see
    /// [`SessionLog::record_payment_id`]).
    pub provider_payment_id: Option<String>,
    /// `staff` when staff, not the provider, confirmed the status (see
    /// [`SessionLog::record_staff_verdict`]); `None`: the provider's own evidence.
    pub confirmed_by: Option<String>,
    /// The capture policy at the time of sale (`None`: logged before Kassa recorded it).
    pub capture_policy: Option<CapturePolicy>,
    /// When the payment's uncaptured authorization lapses, as the provider's record said when
    /// Kassa last read it ([`SessionLog::record_authorization_expiry`]); `None`: not read, or
    /// nothing left to lapse.
    #[serde(serialize_with = "ser_opt_time")]
    pub authorization_expires_at: Option<i64>,
    /// The operator who started the sale (`None`: before v6, or imported).
    pub operator_id: Option<i64>,
    /// A counter sale or a link (schema v6; older sessions are counter sales).
    pub sale: SaleKind,
    /// A link's expiry as staff asked for it; `expires_at` is what the provider confirmed.
    #[serde(serialize_with = "ser_opt_time")]
    pub requested_expires_at: Option<i64>,
    /// The customer's contact as stored (`sms:+47…`, `email:…`) while it is kept
    /// ([`CONTACT_KEPT_MS`]); never serialized: views show [`SessionRecord::contact_masked`].
    #[serde(skip)]
    pub contact: Option<String>,
    /// The contact as staff may see it for good (`+47******67`).
    pub contact_masked: Option<String>,
    /// The session this link renews.
    pub renews: Option<String>,
}

impl SessionRecord {
    /// The customer's contact while the session log keeps it.
    pub fn contact(&self) -> Option<Contact> {
        self.contact
            .as_deref()
            .and_then(|c| Contact::from_stored(c).ok())
    }
}

/// One row of `session_events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    pub seq: i64,
    #[serde(serialize_with = "ser_time")]
    pub at: i64,
    pub kind: String,
    /// The status the session entered with this event, if it changed.
    pub status: Option<Status>,
    pub detail: String,
    /// The operation (capture, refund, void) the event is about, if any.
    pub operation_id: Option<String>,
}

fn ser_time<S: serde::Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_rfc3339(*t))
}

fn ser_opt_time<S: serde::Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// A status change and what comes with it ([`SessionLog::record_change`]).
#[derive(Debug, Clone)]
pub struct StatusChange<'a> {
    pub to: Status,
    /// The event's kind (`status`, `reconcile`, …) and words.
    pub kind: &'a str,
    pub detail: &'a str,
    /// The provider's payment id the read brought, kept when the session has none yet.
    pub payment_id: Option<&'a str>,
    /// The operation the new status starts, and its event's words.
    pub operation: Option<(NewOperation<'a>, &'a str)>,
    /// A sale that becomes paid: where its money stands by the evidence at hand (its journal
    /// entry says so); `None`: authorized (never more than was shown).
    pub standing: Option<Standing>,
    /// Who made the change (staff cancelling); `None`: the session's operator.
    pub operator_id: Option<i64>,
}

/// What the provider answered to a create: recorded before the URL is shown.
#[derive(Debug, Clone)]
pub struct Opened<'a> {
    pub provider_session_id: &'a str,
    pub checkout_url: &'a str,
    pub qr_payload: &'a str,
    pub expires_at: Option<i64>,
}

/// Filters for [`SessionLog::list`] and [`SessionLog::export_csv`]; all optional, combined
/// with AND.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub provider: Option<String>,
    /// Created at or after (Unix ms).
    pub since: Option<i64>,
    /// Created before (Unix ms).
    pub until: Option<i64>,
    /// Text contained in the merchant reference or the provider's session id
    /// (case-insensitive for ASCII).
    pub search: Option<String>,
}

/// An open session log.
pub struct SessionLog {
    conn: Connection,
    path: PathBuf,
    /// The register, time zone and signing key of the journal entries this log writes.
    journaling: journal::Journaling,
}

const COLUMNS: &str = "id, provider, profile, demo, provider_session_id, merchant_reference, \
    currency, gross_minor, net_minor, vat_minor, order_json, checkout_url, qr_payload, status, \
    created_at, updated_at, expires_at, last_error, provider_payment_id, confirmed_by, \
    capture_policy, authorization_expires_at, operator_id, sale, requested_expires_at, \
    contact, contact_masked, renews";

impl SessionLog {
    /// Opens (creating if needed) `sessions.db` in `data_dir` and brings its schema up to date.
    pub fn open_in(data_dir: &Path) -> Result<SessionLog, StoreError> {
        SessionLog::open(&data_dir.join(FILE_NAME))
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SessionLog, StoreError> {
        // Two processes opening a new database at once can meet SQLITE_BUSY where SQLite
        // does not call the busy handler (switching to WAL, recovering a hot journal): the
        // same 5 s patience, by hand.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match SessionLog::open_once(path) {
                Err(StoreError::Busy { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                result => return result,
            }
        }
    }

    fn open_once(path: &Path) -> Result<SessionLog, StoreError> {
        let err = |e| StoreError::from_sqlite(path, e);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| match e.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                    StoreError::ReadOnly {
                        path: path.to_path_buf(),
                        detail: e.to_string(),
                    }
                }
                _ => StoreError::CannotOpen {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                },
            })?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        // The first read of the header: a non-SQLite file fails here, before anything is written.
        // One statement, so one read transaction: another process may be creating the schema
        // right now, and separate reads could see half of its work.
        let (app_id, tables, version): (i32, i64, i64) = conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id),
                        (SELECT count(*) FROM sqlite_schema),
                        (SELECT user_version FROM pragma_user_version)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(err)?;
        if (app_id == 0 && tables > 0) || (app_id != 0 && app_id != APPLICATION_ID) {
            return Err(StoreError::NotKassa {
                path: path.to_path_buf(),
            });
        }
        // Refuse a newer schema before switching the journal mode (which writes).
        check_version(path, version)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Other {
                path: path.to_path_buf(),
                detail: format!("cannot switch to WAL mode (journal mode is {mode})"),
            });
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(err)?;
        let mut log = SessionLog {
            conn,
            path: path.to_path_buf(),
            journaling: journal::Journaling::default(),
        };
        log.migrate()?;
        Ok(log)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.path, e)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::from_sqlite(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        // Read again under the write lock: another process may have migrated meanwhile.
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        check_version(&path, version)?;
        if version == MIGRATIONS.len() as i64 {
            return Ok(());
        }
        tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))
            .map_err(err)?;
        for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(err)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", from + 1))
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Runs `f` in an immediate transaction, with `synchronous=FULL` when `durable`.
    fn write<T>(
        &mut self,
        durable: bool,
        f: impl FnOnce(&rusqlite::Transaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if durable {
            self.conn
                .execute_batch("PRAGMA synchronous=FULL")
                .map_err(|e| self.err(e))?;
        }
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| StoreError::from_sqlite(&self.path, e))?;
            let value = f(&tx)?;
            tx.commit()
                .map_err(|e| StoreError::from_sqlite(&self.path, e))?;
            Ok(value)
        })();
        if durable {
            // Best effort: a failure here only costs speed, never durability.
            let _ = self.conn.execute_batch("PRAGMA synchronous=NORMAL");
        }
        result
    }

    /// Records the intent (status `creating`) and its event, durably, before the provider is
    /// asked.
    pub fn record_intent(&mut self, s: &NewSession) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(true, |tx| insert_intent(tx, &path, s))
    }

    /// Loads many sessions in one transaction, each with its intent event and, when `status`
    /// is not `creating`, one event setting it (benchmarks and imports; `synchronous=NORMAL`;
    /// no transition rules: the caller vouches for the history).
    pub fn bulk_load<'a>(
        &mut self,
        sessions: impl IntoIterator<Item = (NewSession<'a>, Status)>,
    ) -> Result<u64, StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            let mut n = 0;
            for (s, status) in sessions {
                insert_intent(tx, &path, &s)?;
                if status != Status::Creating {
                    tx.execute(
                        "UPDATE sessions SET status = ?2 WHERE id = ?1",
                        params![s.id.as_str(), status.as_str()],
                    )
                    .map_err(|e| StoreError::from_sqlite(&path, e))?;
                    insert_event(
                        tx,
                        &path,
                        s.id.as_str(),
                        s.created_at,
                        "import",
                        Some(status),
                        "",
                    )?;
                }
                n += 1;
            }
            Ok(n)
        })
    }

    /// Records the provider's answer to a create: status `open`, its id, URL and expiry.
    pub fn record_opened(
        &mut self,
        id: &SessionId,
        opened: &Opened,
        now: i64,
        detail: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(true, |tx| {
            let from = status_of(tx, &path, id.as_str())?;
            check_transition(id.as_str(), from, Status::Open)?;
            tx.execute(
                "UPDATE sessions SET provider_session_id = ?2, checkout_url = ?3, qr_payload = ?4,
                     expires_at = ?5, status = 'open', updated_at = ?6, last_error = NULL
                 WHERE id = ?1",
                params![
                    id.as_str(),
                    opened.provider_session_id,
                    opened.checkout_url,
                    opened.qr_payload,
                    opened.expires_at,
                    now
                ],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            insert_event(
                tx,
                &path,
                id.as_str(),
                now,
                "created",
                Some(Status::Open),
                detail,
            )
        })
    }

    /// Records an observed status. A change is validated and committed durably with its event;
    /// an unchanged status is recorded as an event only when `record_unchanged` (e.g. an
    /// explicit `kassa-cli status`), so background polling does not flood the log.
    /// `error` (when given) becomes the session's `last_error`. Returns whether the status
    /// changed.
    // Eight plain arguments read better at the call sites than a one-use struct.
    #[allow(clippy::too_many_arguments)]
    pub fn record_status(
        &mut self,
        id: &str,
        to: Status,
        now: i64,
        kind: &str,
        detail: &str,
        error: Option<&str>,
        record_unchanged: bool,
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let from = status_of(&self.conn, &path, id)?;
        if from == to {
            if record_unchanged || error.is_some() {
                self.write(false, |tx| {
                    if let Some(e) = error {
                        tx.execute(
                            "UPDATE sessions SET last_error = ?2, updated_at = ?3 WHERE id = ?1",
                            params![id, e, now],
                        )
                        .map_err(|e| StoreError::from_sqlite(&path, e))?;
                    }
                    insert_event(tx, &path, id, now, kind, None, detail)
                })?;
            }
            return Ok(false);
        }
        let ctx = self.ctx_signing(to == Status::Paid, now)?;
        self.write(true, |tx| {
            // Re-read under the write lock: another process may have moved it.
            let from = status_of(tx, &path, id)?;
            if from == to {
                return insert_event(tx, &path, id, now, kind, None, detail).map(|_| false);
            }
            check_transition(id, from, to)?;
            tx.execute(
                "UPDATE sessions SET status = ?2, updated_at = ?3,
                     last_error = coalesce(?4, last_error)
                 WHERE id = ?1",
                params![id, to.as_str(), now, error],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            insert_event(tx, &path, id, now, kind, Some(to), detail)?;
            let outcome = journal::Outcome {
                evidence: error.unwrap_or(detail),
                ..Default::default()
            };
            journal::on_status(tx, &path, &ctx, id, to, now, &outcome).map(|_| true)
        })
    }

    /// Records a status change with what comes with it, in one transaction (so either all of
    /// it is in the log or none): the provider's payment id the same read brought (kept only
    /// when the session has none yet; said in the event), and the operation the new status
    /// starts (the capture of a sale that became paid under the at-sale policy) with its own
    /// event. The transition rules are [`SessionLog::record_status`]'s.
    pub fn record_change(
        &mut self,
        id: &str,
        now: i64,
        change: &StatusChange,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let ctx = self.ctx_signing(change.to == Status::Paid, now)?;
        self.write(true, |tx| {
            let from = status_of(tx, &path, id)?;
            if from == change.to {
                // Another process recorded it meanwhile (with its operation and its journal
                // entry): an event only.
                return insert_event(tx, &path, id, now, change.kind, None, change.detail);
            }
            check_transition(id, from, change.to)?;
            tx.execute(
                "UPDATE sessions SET status = ?2, updated_at = ?3,
                     provider_payment_id = coalesce(provider_payment_id, ?4)
                 WHERE id = ?1",
                params![id, change.to.as_str(), now, change.payment_id],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            insert_event(
                tx,
                &path,
                id,
                now,
                change.kind,
                Some(change.to),
                change.detail,
            )?;
            if let Some((op, detail)) = &change.operation {
                operations::insert_operation(tx, &path, op)?;
                let rec = operations::operation_in(tx, &path, op.id)?;
                operations::operation_event(tx, &path, &rec, op.at, detail)?;
            }
            let outcome = journal::Outcome {
                standing: change.standing,
                operator_id: change.operator_id,
                staff: None,
                evidence: change.detail,
            };
            journal::on_status(tx, &path, &ctx, id, change.to, now, &outcome)
        })
    }

    /// Records the provider's id of the payment (verified by the provider client, or read from
    /// the provider) with an event of `kind`, durably. The status does not change here.
    pub fn record_payment_id(
        &mut self,
        id: &str,
        payment_id: &str,
        now: i64,
        kind: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(true, |tx| {
            status_of(tx, &path, id)?;
            tx.execute(
                "UPDATE sessions SET provider_payment_id = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, payment_id, now],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            insert_event(tx, &path, id, now, kind, None, detail)
        })
    }

    /// Records when the payment's uncaptured authorization lapses, as a read of the provider's
    /// record of the payment just said (`None`: nothing left to lapse, or not documented).
    /// Changes nothing when the log already says so; a new date gets an event naming it
    /// (`provider`'s words). Returns whether it changed.
    pub fn record_authorization_expiry(
        &mut self,
        id: &str,
        expires_at: Option<i64>,
        now: i64,
        provider: &str,
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            status_of(tx, &path, id)?;
            let changed = tx
                .execute(
                    "UPDATE sessions SET authorization_expires_at = ?2
                     WHERE id = ?1 AND authorization_expires_at IS NOT ?2",
                    params![id, expires_at],
                )
                .map_err(|e| StoreError::from_sqlite(&path, e))?
                > 0;
            if let (true, Some(at)) = (changed, expires_at) {
                insert_event(
                    tx,
                    &path,
                    id,
                    now,
                    "authorization",
                    None,
                    &format!(
                        "the authorization lapses at {} unless captured (by {provider}'s record)",
                        format_rfc3339(at)
                    ),
                )?;
            }
            Ok(changed)
        })
    }

    /// Records a status staff decided (a payment the provider cannot confirm, checked in its
    /// back office), marked `confirmed_by = 'staff'` so nobody mistakes it for the provider's
    /// evidence. The transition rules are the same as for provider reports.
    /// `by` is the manager who checked; a payment they confirm gets its sales receipt in the
    /// journal (marked confirmed by staff) and a `staff_confirmed` entry naming them.
    pub fn record_staff_verdict(
        &mut self,
        id: &str,
        to: Status,
        by: &Authenticated,
        now: i64,
        detail: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let ctx = self.ctx_signing(to == Status::Paid, now)?;
        self.write(true, |tx| {
            let from = status_of(tx, &path, id)?;
            check_transition(id, from, to)?;
            tx.execute(
                "UPDATE sessions SET status = ?2, updated_at = ?3, confirmed_by = 'staff'
                 WHERE id = ?1",
                params![id, to.as_str(), now],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            insert_event(tx, &path, id, now, "staff", Some(to), detail)?;
            let outcome = journal::Outcome {
                // Staff saw the payment in the provider's back office: the money is there, by
                // their word, which the entry says.
                standing: Some(Standing::Captured),
                operator_id: Some(by.id()),
                staff: (to == Status::Paid).then_some(detail),
                evidence: detail,
            };
            journal::on_status(tx, &path, &ctx, id, to, now, &outcome)
        })
    }

    /// Appends an event that changes no status (e.g. "cancel requested by staff").
    pub fn add_event(
        &mut self,
        id: &str,
        now: i64,
        kind: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.append_event(id, now, kind, detail, false)
    }

    /// An event without a status change; `durable`: committed with a full sync (an event that
    /// must survive a crash right after it, as a send's attempt).
    fn append_event(
        &mut self,
        id: &str,
        now: i64,
        kind: &str,
        detail: &str,
        durable: bool,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(durable, |tx| {
            status_of(tx, &path, id)?;
            insert_event(tx, &path, id, now, kind, None, detail)
        })
    }

    /// Session `id` without its events: what a status read needs (the scheduler reads a
    /// session before and after each, so the statement is cached).
    pub fn session(&self, id: &str) -> Result<SessionRecord, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"))
            .and_then(|mut stmt| stmt.query_row([id], row_to_session).optional())
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound { id: id.to_string() })
    }

    /// Records that session `id`'s link is about to be sent to the customer (event
    /// `send_requested`), durably, before the request leaves: a send Kassa stops in the middle
    /// of is in the log, and its outcome is then said unknown (`send_unknown`), never guessed.
    pub fn record_send_attempt(
        &mut self,
        id: &str,
        now: i64,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.append_event(id, now, "send_requested", detail, true)
    }

    /// One session and its events, oldest event first.
    pub fn get(&self, id: &str) -> Result<(SessionRecord, Vec<EventRecord>), StoreError> {
        let session = self.session(id)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, at, kind, status, detail, operation_id FROM session_events
                 WHERE session_id = ?1 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let events = stmt
            .query_map([id], |r| {
                Ok(EventRecord {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    kind: r.get(2)?,
                    status: r
                        .get::<_, Option<String>>(3)?
                        .map(|s| Status::parse(&s).unwrap_or(Status::Unknown)),
                    detail: r.get(4)?,
                    operation_id: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok((session, events))
    }

    /// The newest session with exactly this merchant reference, if any (indexed).
    pub fn find_by_reference(&self, reference: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM sessions WHERE merchant_reference = ?1
                     ORDER BY id DESC LIMIT 1"
                ),
                [reference],
                row_to_session,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// A page of sessions, newest first. `after` is the last id of the previous page (keyset
    /// pagination: a page costs the same however deep it is).
    pub fn list(
        &self,
        filter: &Filter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let (sql, args) = filtered_select(COLUMNS, filter, after, Some(limit));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), row_to_session)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Sessions a start-up reconciliation must look at: `creating` and `unknown` ones, and
    /// `open` ones past their expiry. Oldest first.
    pub fn needing_reconciliation(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sessions
                 WHERE status IN ('creating', 'unknown')
                    OR (status = 'open' AND expires_at IS NOT NULL AND expires_at <= ?1)
                 ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([now], row_to_session)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Link sales staff may still act on, newest first: not paid, not renewed by another
    /// session, and either not final or ended within [`LINKS_LISTED_MS`] of `now` (to be
    /// renewed). What the Links screen and `kassa-cli links` list.
    pub fn links(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sessions AS s
                 WHERE sale = 'link' AND status <> 'paid'
                   AND NOT EXISTS (SELECT 1 FROM sessions AS r WHERE r.renews = s.id)
                   AND (status NOT IN ('cancelled', 'expired', 'failed') OR updated_at >= ?1)
                 ORDER BY id DESC"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([now - LINKS_LISTED_MS], row_to_session)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Every session a provider is still asked about (open, or `unknown`), oldest first, with
    /// what a scheduler needs to pace its reads: the sale kind, creation and expiry
    /// ([`SessionRecord::sale`], `created_at`, `expires_at`) and the provider and profile.
    pub fn open_sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sessions WHERE status IN ('open', 'unknown') ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], row_to_session)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The session that renews `id`, if any.
    pub fn renewed_by(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT id FROM sessions WHERE renews = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records `contact` as the customer of session `id` (staff gave one to send to).
    pub fn record_contact(
        &mut self,
        id: &str,
        contact: &Contact,
        now: i64,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            status_of(tx, &path, id)?;
            tx.execute(
                "UPDATE sessions SET contact = ?2, contact_masked = ?3 WHERE id = ?1",
                params![id, contact.stored(), contact.masked()],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            insert_event(
                tx,
                &path,
                id,
                now,
                "contact",
                None,
                &format!(
                    "the customer's {} is {}",
                    contact.channel(),
                    contact.masked()
                ),
            )
        })
    }

    /// Forgets the full contact of `id` (its masked form stays), with an event saying why.
    pub fn forget_contact(&mut self, id: &str, now: i64, why: &str) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            status_of(tx, &path, id)?;
            let n = tx
                .execute(
                    "UPDATE sessions SET contact = NULL WHERE id = ?1 AND contact IS NOT NULL",
                    [id],
                )
                .map_err(|e| StoreError::from_sqlite(&path, e))?;
            if n > 0 {
                insert_event(tx, &path, id, now, "contact", None, why)?;
            }
            Ok(())
        })
    }

    /// Forgets the full contacts of link sales that ended unpaid more than
    /// [`CONTACT_KEPT_MS`] before `now` (paid ones forgot theirs when paid). Returns how many.
    pub fn forget_contacts(&mut self, now: i64) -> Result<u64, StoreError> {
        let path = self.path.clone();
        self.write(false, |tx| {
            let ids: Vec<String> = tx
                .prepare(
                    "SELECT id FROM sessions WHERE contact IS NOT NULL
                       AND status IN ('cancelled', 'expired', 'failed') AND updated_at < ?1",
                )
                .and_then(|mut st| {
                    st.query_map([now - CONTACT_KEPT_MS], |r| r.get(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(|e| StoreError::from_sqlite(&path, e))?;
            for id in &ids {
                tx.execute("UPDATE sessions SET contact = NULL WHERE id = ?1", [id])
                    .map_err(|e| StoreError::from_sqlite(&path, e))?;
                insert_event(
                    tx,
                    &path,
                    id,
                    now,
                    "contact",
                    None,
                    "the customer's contact forgotten (kept 7 days after the link ended unpaid); its masked form stays",
                )?;
            }
            Ok(ids.len() as u64)
        })
    }

    /// The number of sessions (all statuses).
    pub fn count(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

fn check_version(path: &Path, version: i64) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::NewerDatabase {
            path: path.to_path_buf(),
            found: version,
            supported,
        });
    }
    Ok(())
}

fn check_transition(id: &str, from: Status, to: Status) -> Result<(), StoreError> {
    if from.can_become(to) {
        Ok(())
    } else {
        Err(StoreError::IllegalTransition {
            id: id.to_string(),
            from,
            to,
        })
    }
}

fn status_of(conn: &Connection, path: &Path, id: &str) -> Result<Status, StoreError> {
    // Cached: every status read of the scheduler's asks it.
    let s: Option<String> = conn
        .prepare_cached("SELECT status FROM sessions WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id], |r| r.get(0)).optional())
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    let s = s.ok_or_else(|| StoreError::NotFound { id: id.to_string() })?;
    Status::parse(&s).map_err(|detail| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail,
    })
}

fn insert_intent(tx: &Connection, path: &Path, s: &NewSession) -> Result<(), StoreError> {
    let order_json = crate::quote::to_logged(s.order);
    let link = s.link.as_ref();
    let contact = link.and_then(|l| l.contact);
    tx.execute(
        "INSERT INTO sessions (id, provider, profile, demo, merchant_reference, currency,
             gross_minor, net_minor, vat_minor, order_json, status, created_at, updated_at,
             capture_policy, operator_id, sale, requested_expires_at, contact, contact_masked,
             renews)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'creating', ?11, ?11, ?12, ?13, ?14,
                 ?15, ?16, ?17, ?18)",
        params![
            s.id.as_str(),
            s.provider,
            s.profile,
            s.demo,
            s.order.reference,
            s.order.currency.code(),
            s.order.total.gross,
            s.order.total.net,
            s.order.total.vat,
            order_json,
            s.created_at,
            s.capture_policy.map(CapturePolicy::as_str),
            s.operator_id,
            if link.is_some() { "link" } else { "counter" },
            link.map(|l| l.requested_expires_at),
            contact.map(Contact::stored),
            contact.map(Contact::masked),
            link.and_then(|l| l.renews),
        ],
    )
    .map_err(|e| StoreError::from_sqlite(path, e))?;
    let mut detail = format!(
        "intent recorded: {} {} at {} ({})",
        s.order.currency.format_plain(s.order.total.gross),
        s.order.currency.code(),
        s.provider,
        s.profile
    );
    if let Some(l) = link {
        detail.push_str(&format!(
            "; a link sale to expire at {}",
            format_rfc3339(l.requested_expires_at)
        ));
        if let Some(c) = l.contact {
            detail.push_str(&format!(
                ", to be sent by {} to {}",
                c.channel(),
                c.masked()
            ));
        }
        if let Some(old) = l.renews {
            detail.push_str(&format!(", renewing session {old}"));
        }
    }
    insert_event(
        tx,
        path,
        s.id.as_str(),
        s.created_at,
        "intent",
        Some(Status::Creating),
        &detail,
    )
}

fn insert_event(
    tx: &Connection,
    path: &Path,
    id: &str,
    at: i64,
    kind: &str,
    status: Option<Status>,
    detail: &str,
) -> Result<(), StoreError> {
    insert_event_of(tx, path, id, at, kind, status, detail, None)
}

/// [`insert_event`] for an event about one operation.
#[allow(clippy::too_many_arguments)]
fn insert_event_of(
    tx: &Connection,
    path: &Path,
    id: &str,
    at: i64,
    kind: &str,
    status: Option<Status>,
    detail: &str,
    operation_id: Option<&str>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO session_events (session_id, at, kind, status, detail, operation_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id,
            at,
            kind,
            status.map(|s| s.as_str()),
            detail,
            operation_id
        ])
    })
    .map(|_| ())
    .map_err(|e| StoreError::from_sqlite(path, e))
}

fn row_to_session(r: &rusqlite::Row) -> rusqlite::Result<SessionRecord> {
    let status: String = r.get(13)?;
    Ok(SessionRecord {
        id: r.get(0)?,
        provider: r.get(1)?,
        profile: r.get(2)?,
        demo: r.get(3)?,
        provider_session_id: r.get(4)?,
        merchant_reference: r.get(5)?,
        currency: r.get(6)?,
        gross_minor: r.get(7)?,
        net_minor: r.get(8)?,
        vat_minor: r.get(9)?,
        order_json: r.get(10)?,
        checkout_url: r.get(11)?,
        qr_payload: r.get(12)?,
        status: Status::parse(&status).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(13, rusqlite::types::Type::Text, e.into())
        })?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
        expires_at: r.get(16)?,
        last_error: r.get(17)?,
        provider_payment_id: r.get(18)?,
        confirmed_by: r.get(19)?,
        capture_policy: r
            .get::<_, Option<String>>(20)?
            .map(|p| CapturePolicy::parse(&p))
            .transpose()
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(20, rusqlite::types::Type::Text, e.into())
            })?,
        authorization_expires_at: r.get(21)?,
        operator_id: r.get(22)?,
        sale: SaleKind::parse(&r.get::<_, String>(23)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(23, rusqlite::types::Type::Text, e.into())
        })?,
        requested_expires_at: r.get(24)?,
        contact: r.get(25)?,
        contact_masked: r.get(26)?,
        renews: r.get(27)?,
    })
}

/// Builds `SELECT cols FROM sessions WHERE … ORDER BY id DESC [LIMIT n]`. Ids are UUIDv7, so
/// ordering by id is ordering by creation time, and a time range is an id range (which the
/// primary-key index answers without touching other rows).
fn filtered_select(
    cols: &str,
    f: &Filter,
    after: Option<&str>,
    limit: Option<u32>,
) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = format!("SELECT {cols} FROM sessions WHERE 1");
    let mut args: Vec<Value> = Vec::new();
    let mut push = |sql: &mut String, clause: &str, v: Value| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(s) = f.status {
        push(&mut sql, " AND status = ?", Value::Text(s.as_str().into()));
    }
    if let Some(p) = &f.provider {
        push(&mut sql, " AND provider = ?", Value::Text(p.clone()));
    }
    if let Some(t) = f.since {
        push(
            &mut sql,
            " AND id >= ?",
            Value::Text(SessionId::lower_bound(t)),
        );
    }
    if let Some(t) = f.until {
        push(
            &mut sql,
            " AND id < ?",
            Value::Text(SessionId::lower_bound(t)),
        );
    }
    if let Some(a) = after {
        push(&mut sql, " AND id < ?", Value::Text(a.to_string()));
    }
    if let Some(text) = f.search.as_deref().filter(|t| !t.is_empty()) {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        push(
            &mut sql,
            " AND (merchant_reference LIKE ? ESCAPE '\\'",
            Value::Text(pattern.clone()),
        );
        push(
            &mut sql,
            " OR provider_session_id LIKE ? ESCAPE '\\')",
            Value::Text(pattern),
        );
    }
    sql.push_str(" ORDER BY id DESC");
    if let Some(n) = limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    (sql, args)
}
