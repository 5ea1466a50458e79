//! The journal's tables (schema v6, [`crate::journal`] says what an entry is): `journal`,
//! `journal_keys` (public keys only) and the transactions that write entries together with what
//! they record, so an entry exists exactly when its fact does:
//!
//! - a session that becomes `paid` gets its signed sale entry in the transaction of the paid
//!   status (also when reconciliation sees the payment after a crash: the same code path), and a
//!   staff-confirmed one a `staff_confirmed` entry too;
//! - one that ends `cancelled`, `expired` or `failed` a `void` entry;
//! - a refund, recorded refund or void that becomes `done` its signed return entry (and a
//!   recorded one a `staff_recorded` entry), in the transaction of `done` (`operations.rs`).
//!
//! Unique indexes hold "exactly once" whoever writes the file (one sale and one void per
//! session, one return per operation, one copy per receipt), triggers refuse `UPDATE` and
//! `DELETE`. Numbers are taken inside the write transaction (`BEGIN IMMEDIATE`), so two
//! processes never take the same one and none is skipped.
//!
//! The signing key: generated on first use, kept only in the OS keyring (one Base64 line),
//! loaded once per process ([`SessionLog::signer`]); the public key and its version go into
//! `journal_keys`, so verification needs no keyring. A status change that needs a signature is
//! refused when the key cannot be had: the session then stays as it was and the next read
//! records it (never a paid sale without its receipt entry).

use super::{row_to_session, SessionLog, SessionRecord, StoreError, COLUMNS};
use crate::journal::body::{
    rate_totals, returned, CopyBody, OperatorStamp, Payment, RateTotals, ReturnBody, SaleBody,
    Standing, Totals, VoidBody,
};
use crate::journal::{
    self, check_currency, entry_hash, Entry, Failure, Fields, Kind, RegisterSummary, SigningKey,
    Verifier, Zone, GENESIS,
};
use crate::operator::{Authenticated, OWNER_ID, OWNER_NAME};
use crate::provider::OperationKind;
use crate::secrets::SecretStore;
use crate::session::Status;
use crate::store::OperationRecord;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// How a session log writes its journal: which register, in which time zone, and where the
/// signing key comes from.
pub(super) struct Journaling {
    register_id: String,
    zone: Zone,
    keyring: Option<Arc<dyn SecretStore>>,
    signer: Option<Signer>,
}

impl Default for Journaling {
    fn default() -> Self {
        Journaling {
            register_id: journal::DEFAULT_REGISTER.to_string(),
            zone: Zone::system(),
            keyring: None,
            signer: None,
        }
    }
}

/// A register's signing key, loaded from the keyring, with its version. Cheap to clone (a
/// thread that follows a session gets the one its till loaded); prints without the key.
#[derive(Clone)]
pub struct Signer {
    key: Arc<SigningKey>,
    register_id: String,
    version: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("register_id", &self.register_id)
            .field("version", &self.version)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Signer {
    pub fn register_id(&self) -> &str {
        &self.register_id
    }
    pub fn key_version(&self) -> &str {
        &self.version
    }
    /// The public key (SPKI PEM).
    pub fn public_key_pem(&self) -> &str {
        self.key.public_key_pem()
    }
}

/// One row of `journal_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub register_id: String,
    pub key_version: String,
    /// Ties the keyring entry to this database ([`journal::key_credential`]).
    pub key_id: String,
    pub public_key_pem: String,
    pub created_ms: i64,
}

/// An event to journal ([`SessionLog::journal_event`]): anything but a receipt (sales, returns,
/// copies and voids have their own paths).
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: Kind,
    /// Who did it; `None` when no operator did (an application start before a login).
    pub operator_id: Option<i64>,
    pub session_id: Option<&'a str>,
    pub ref_seq: Option<i64>,
    /// What happened (never a secret: a setting's name, not a credential's value).
    pub body: serde_json::Value,
    pub at: i64,
}

/// Which entries [`SessionLog::journal_each`] reads; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    pub register_id: Option<String>,
    /// Local dates, `YYYY-MM-DD`, inclusive.
    pub from_date: Option<String>,
    pub to_date: Option<String>,
    pub kind: Option<Kind>,
    pub session_id: Option<String>,
}

/// What `journal verify` found: every register's summary, or the first entry that does not
/// verify.
pub type Verification = Result<Vec<RegisterSummary>, Failure>;

/// The facts of a status change the journal needs beyond the session row.
#[derive(Debug, Clone, Default)]
pub(super) struct Outcome<'a> {
    /// A sale's standing by the evidence at hand (`None`: authorized, never more than shown).
    pub standing: Option<Standing>,
    /// Who made the change (a cancel, a staff verdict); `None`: the session's operator.
    pub operator_id: Option<i64>,
    /// Staff confirmed it (a payment the provider could not): staff's words.
    pub staff: Option<&'a str>,
    /// The provider's (or Kassa's) words for the change.
    pub evidence: &'a str,
}

/// What a journal write needs from the session log, cloned out of it so a write transaction
/// (which borrows the log) can use it.
#[derive(Clone)]
pub(super) struct Ctx {
    pub register_id: String,
    pub zone: Zone,
    pub signer: Option<Signer>,
}

pub(super) const ENTRY_COLUMNS: &str =
    "register_id, seq, kind, event_code, at_ms, local_date, local_time, \
    operator_id, session_id, operation_id, ref_seq, nr, gross_minor, net_minor, signature, \
    key_version, body, prev_hash, hash";

pub(super) fn row_to_entry(r: &rusqlite::Row) -> rusqlite::Result<Entry> {
    let bad = |i: usize, e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    };
    let hash = |i: usize| -> rusqlite::Result<[u8; 32]> {
        let v: Vec<u8> = r.get(i)?;
        v.try_into()
            .map_err(|_| bad(i, "a hash is 32 bytes".into()))
    };
    Ok(Entry {
        register_id: r.get(0)?,
        seq: r.get(1)?,
        kind: Kind::parse(&r.get::<_, String>(2)?).map_err(|e| bad(2, e))?,
        event_code: r.get(3)?,
        at_ms: r.get(4)?,
        local_date: r.get(5)?,
        local_time: r.get(6)?,
        operator_id: r.get(7)?,
        session_id: r.get(8)?,
        operation_id: r.get(9)?,
        ref_seq: r.get(10)?,
        nr: r.get(11)?,
        gross_minor: r.get(12)?,
        net_minor: r.get(13)?,
        signature: r.get(14)?,
        key_version: r.get(15)?,
        body: r.get(16)?,
        prev_hash: hash(17)?,
        hash: hash(18)?,
    })
}

/// An entry about to be appended.
pub(super) struct NewEntry<'a> {
    register_id: &'a str,
    kind: Kind,
    at: i64,
    operator_id: Option<i64>,
    session_id: Option<&'a str>,
    operation_id: Option<&'a str>,
    ref_seq: Option<i64>,
    /// A sale's or return's amounts incl. and excl. VAT: numbered and signed.
    signed: Option<(i64, i64)>,
    body: String,
}

impl<'a> NewEntry<'a> {
    /// An entry of `kind` about nothing in particular (no session, operation or reference,
    /// unsigned); what it is about goes on top (`NewEntry { session_id, ..NewEntry::new(…) }`).
    pub(super) fn new(
        register_id: &'a str,
        kind: Kind,
        at: i64,
        operator_id: Option<i64>,
        body: String,
    ) -> NewEntry<'a> {
        NewEntry {
            register_id,
            kind,
            at,
            operator_id,
            session_id: None,
            operation_id: None,
            ref_seq: None,
            signed: None,
            body,
        }
    }
}

/// Appends an entry in the caller's write transaction: the register's next `seq` (and, signed,
/// next `nr` with the previous signature), the local date and time, the chain hash.
pub(super) fn append(
    tx: &Connection,
    path: &Path,
    ctx: &Ctx,
    e: NewEntry,
) -> Result<Entry, StoreError> {
    let err = |x| StoreError::from_sqlite(path, x);
    let (last_seq, prev_hash): (i64, Option<Vec<u8>>) = tx
        .query_row(
            "SELECT seq, hash FROM journal WHERE register_id = ?1 ORDER BY seq DESC LIMIT 1",
            [e.register_id],
            |r| Ok((r.get(0)?, Some(r.get(1)?))),
        )
        .optional()
        .map_err(err)?
        .unwrap_or((0, None));
    let prev_hash: [u8; 32] = match prev_hash {
        Some(h) => h.try_into().map_err(|_| StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("journal entry {last_seq} has no 32-byte hash"),
        })?,
        None => GENESIS,
    };
    let stamp = ctx.zone.stamp(e.at);
    let mut entry = Entry {
        register_id: e.register_id.to_string(),
        seq: last_seq + 1,
        kind: e.kind,
        event_code: e.kind.event_code().to_string(),
        at_ms: e.at,
        local_date: stamp.date,
        local_time: stamp.time,
        operator_id: e.operator_id,
        session_id: e.session_id.map(str::to_string),
        operation_id: e.operation_id.map(str::to_string),
        ref_seq: e.ref_seq,
        nr: None,
        gross_minor: None,
        net_minor: None,
        signature: None,
        key_version: None,
        body: e.body,
        prev_hash,
        hash: [0; 32],
    };
    if let Some((gross, net)) = e.signed {
        let signer = ctx
            .signer
            .as_ref()
            .filter(|s| s.register_id == e.register_id)
            .ok_or_else(|| StoreError::SigningKey {
                detail: format!(
                    "the journal's signing key of register {} is not loaded; nothing was recorded",
                    e.register_id
                ),
            })?;
        let (last_nr, prev_sig): (i64, String) = tx
            .query_row(
                "SELECT nr, signature FROM journal WHERE register_id = ?1 AND nr IS NOT NULL
                 ORDER BY nr DESC LIMIT 1",
                [e.register_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err)?
            .unwrap_or((0, journal::signature::FIRST_LINK.to_string()));
        let nr = last_nr + 1;
        let sign_err = |x: journal::SignatureError| StoreError::SigningKey {
            detail: format!("receipt {nr} cannot be signed: {x}; nothing was recorded"),
        };
        let text = journal::signature::signed_text(
            &prev_sig,
            &entry.local_date,
            &entry.local_time,
            nr,
            gross,
            net,
        )
        .map_err(sign_err)?;
        entry.nr = Some(nr);
        entry.gross_minor = Some(gross);
        entry.net_minor = Some(net);
        entry.signature = Some(signer.key.sign(&text).map_err(sign_err)?);
        entry.key_version = Some(signer.version.clone());
    }
    entry.hash = entry_hash(&entry.prev_hash, &entry.fields());
    let f: Fields = entry.fields();
    tx.prepare_cached(&format!(
        "INSERT INTO journal ({ENTRY_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            f.register_id,
            f.seq,
            f.kind,
            f.event_code,
            f.at_ms,
            f.local_date,
            f.local_time,
            f.operator_id,
            f.session_id,
            f.operation_id,
            f.ref_seq,
            f.nr,
            f.gross_minor,
            f.net_minor,
            f.signature,
            f.key_version,
            f.body,
            &entry.prev_hash[..],
            &entry.hash[..],
        ])
    })
    .map_err(err)?;
    log::info!(
        target: "kassa::journal",
        "register {} entry {}: {}{}",
        entry.register_id,
        entry.seq,
        entry.kind,
        entry.nr.map(|n| format!(" (receipt {n})")).unwrap_or_default()
    );
    Ok(entry)
}

pub(super) fn to_json<T: Serialize>(body: &T) -> String {
    serde_json::to_string(body).expect("a journal body serializes")
}

/// The operator `id` as the journal records them: the name they have now (stored with the
/// entry, so a later rename or removal changes nothing written).
fn stamp_of(tx: &Connection, path: &Path, id: i64) -> Result<OperatorStamp, StoreError> {
    let name: Option<String> = tx
        .query_row("SELECT name FROM operators WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    Ok(OperatorStamp {
        id,
        name: name.unwrap_or_else(|| {
            if id == OWNER_ID {
                OWNER_NAME.to_string()
            } else {
                format!("operator {id}")
            }
        }),
    })
}

fn session_in(tx: &Connection, path: &Path, id: &str) -> Result<SessionRecord, StoreError> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"),
        [id],
        row_to_session,
    )
    .optional()
    .map_err(|e| StoreError::from_sqlite(path, e))?
    .ok_or_else(|| StoreError::NotFound { id: id.to_string() })
}

fn payment_of(s: &SessionRecord, standing: Standing, evidence: &str, staff: bool) -> Payment {
    let (code, basic_id) = journal::body::payment_type(&s.provider);
    Payment {
        provider: s.provider.clone(),
        profile: s.profile.clone(),
        payment_type: code.to_string(),
        basic_id,
        reference: s
            .provider_payment_id
            .clone()
            .or_else(|| s.provider_session_id.clone()),
        standing,
        confirmed_by: staff.then(|| "staff".to_string()),
        evidence: evidence.chars().take(500).collect(),
    }
}

/// Journals what a status change of session `id` to `to` means, in the caller's transaction
/// (after the session's row was updated): a paid session's sale (and, confirmed by staff, a
/// `staff_confirmed` entry); an unpaid end's void. Other statuses journal nothing.
pub(super) fn on_status(
    tx: &Connection,
    path: &Path,
    ctx: &Ctx,
    id: &str,
    to: Status,
    now: i64,
    o: &Outcome,
) -> Result<(), StoreError> {
    if !matches!(
        to,
        Status::Paid | Status::Cancelled | Status::Expired | Status::Failed
    ) {
        return Ok(());
    }
    let s = session_in(tx, path, id)?;
    let seller = s.operator_id.unwrap_or(OWNER_ID);
    if to != Status::Paid {
        let body = VoidBody {
            session_id: s.id.clone(),
            merchant_reference: s.merchant_reference.clone(),
            provider: s.provider.clone(),
            demo: s.demo,
            status: to.as_str().to_string(),
            currency: s.currency.clone(),
            total: Totals {
                gross: s.gross_minor,
                net: s.net_minor,
                vat: s.vat_minor,
            },
            detail: o.evidence.chars().take(500).collect(),
        };
        append(
            tx,
            path,
            ctx,
            NewEntry {
                session_id: Some(&s.id),
                ..NewEntry::new(
                    &ctx.register_id,
                    Kind::Void,
                    now,
                    Some(o.operator_id.unwrap_or(seller)),
                    to_json(&body),
                )
            },
        )?;
        return Ok(());
    }
    check_currency(&s.currency).map_err(|detail| StoreError::SigningKey { detail })?;
    let order: serde_json::Value =
        serde_json::from_str(&s.order_json).map_err(|e| StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("session {id}: its order is not JSON ({e})"),
        })?;
    let vat: Vec<RateTotals> = rate_totals(
        order["vat_summary"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["vat_rate"].as_str().unwrap_or(""),
                    r["net"].as_i64().unwrap_or(0),
                    r["vat"].as_i64().unwrap_or(0),
                    r["gross"].as_i64().unwrap_or(0),
                )
            }),
    );
    let body = SaleBody {
        session_id: s.id.clone(),
        merchant_reference: s.merchant_reference.clone(),
        demo: s.demo,
        currency: s.currency.clone(),
        operator: stamp_of(tx, path, seller)?,
        order,
        vat,
        total: Totals {
            gross: s.gross_minor,
            net: s.net_minor,
            vat: s.vat_minor,
        },
        payment: payment_of(
            &s,
            o.standing.unwrap_or(Standing::Authorized),
            o.staff.unwrap_or(o.evidence),
            o.staff.is_some(),
        ),
    };
    let sale = append(
        tx,
        path,
        ctx,
        NewEntry {
            session_id: Some(&s.id),
            signed: Some((s.gross_minor, s.net_minor)),
            ..NewEntry::new(
                &ctx.register_id,
                Kind::Sale,
                now,
                Some(seller),
                to_json(&body),
            )
        },
    )?;
    if let Some(note) = o.staff {
        append(
            tx,
            path,
            ctx,
            NewEntry {
                session_id: Some(&s.id),
                ref_seq: Some(sale.seq),
                ..NewEntry::new(
                    &ctx.register_id,
                    Kind::StaffConfirmed,
                    now,
                    Some(o.operator_id.unwrap_or(seller)),
                    to_json(&serde_json::json!({
                        "session_id": s.id,
                        "receipt_nr": sale.nr,
                        "note": note,
                    })),
                )
            },
        )?;
    }
    Ok(())
}

/// Whether an operation of this kind is a return when done.
pub(super) fn is_return(kind: OperationKind) -> bool {
    matches!(
        kind,
        OperationKind::Refund | OperationKind::RefundRecorded | OperationKind::Void
    )
}

/// Journals a refund, recorded refund or void that is done (in the caller's transaction): its
/// signed return entry with the lines that went back (a void: the whole sale), and for a
/// refund staff recorded a `staff_recorded` entry.
pub(super) fn on_done(
    tx: &Connection,
    path: &Path,
    ctx: &Ctx,
    op: &OperationRecord,
    now: i64,
) -> Result<(), StoreError> {
    if !is_return(op.kind) {
        return Ok(());
    }
    let s = session_in(tx, path, &op.session_id)?;
    check_currency(&s.currency).map_err(|detail| StoreError::SigningKey { detail })?;
    let corrupt = |detail: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("session {}: {detail}", s.id),
    };
    let lines = if op.lines.is_empty() {
        // A void (or an operation logged without lines): the amount spread over the sale.
        let order = crate::quote::from_logged(&s.order_json).map_err(corrupt)?;
        let none =
            crate::refund::taken(&order, std::iter::empty()).map_err(|e| corrupt(e.to_string()))?;
        crate::refund::split_amount(&order, &none, op.amount).map_err(|e| corrupt(e.to_string()))?
    } else {
        op.lines.clone()
    };
    let lines: Vec<_> = lines.iter().map(returned).collect();
    let total = lines.iter().fold(Totals::default(), |t, l| Totals {
        gross: t.gross + l.gross,
        net: t.net + l.net,
        vat: t.vat + l.vat,
    });
    let vat = rate_totals(
        lines
            .iter()
            .map(|l| (l.vat_rate.as_str(), l.net, l.vat, l.gross)),
    );
    let sale: Option<(i64, i64)> = tx
        .query_row(
            "SELECT seq, nr FROM journal WHERE kind = 'sale' AND session_id = ?1",
            [&s.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    let staff = op.kind == OperationKind::RefundRecorded;
    let operator_id = op.operator_id.or(s.operator_id).unwrap_or(OWNER_ID);
    let standing = if op.kind == OperationKind::Void {
        Standing::Voided
    } else {
        Standing::Refunded
    };
    let evidence = match (&op.reason, &op.provider_reference) {
        (Some(note), _) if staff => format!("recorded by staff: {note}"),
        (_, Some(r)) => format!("{} {} done, reference {r}", s.provider, op.kind.as_str()),
        _ => format!("{} {} done", s.provider, op.kind.as_str()),
    };
    let mut payment = payment_of(&s, standing, &evidence, staff);
    if let Some(r) = &op.provider_reference {
        payment.reference = Some(r.clone());
    }
    let body = ReturnBody {
        session_id: s.id.clone(),
        operation_id: op.id.clone(),
        operation: op.kind.as_str().to_string(),
        original_nr: sale.map(|s| s.1),
        original_seq: sale.map(|s| s.0),
        demo: s.demo,
        currency: s.currency.clone(),
        operator: stamp_of(tx, path, operator_id)?,
        reason: op.reason.clone(),
        lines,
        vat,
        total,
        payment,
    };
    let ret = append(
        tx,
        path,
        ctx,
        NewEntry {
            session_id: Some(&s.id),
            operation_id: Some(&op.id),
            ref_seq: sale.map(|s| s.0),
            signed: Some((total.gross, total.net)),
            ..NewEntry::new(
                &ctx.register_id,
                Kind::Return,
                now,
                Some(operator_id),
                to_json(&body),
            )
        },
    )?;
    if staff {
        append(
            tx,
            path,
            ctx,
            NewEntry {
                session_id: Some(&s.id),
                operation_id: Some(&op.id),
                ref_seq: Some(ret.seq),
                ..NewEntry::new(
                    &ctx.register_id,
                    Kind::StaffRecorded,
                    now,
                    Some(operator_id),
                    to_json(&serde_json::json!({
                        "session_id": s.id,
                        "operation_id": op.id,
                        "receipt_nr": ret.nr,
                        "note": op.reason,
                    })),
                )
            },
        )?;
    }
    Ok(())
}

/// Appends an event in the caller's write transaction (an operator's change with its row).
pub(super) fn append_event(
    tx: &Connection,
    path: &Path,
    ctx: &Ctx,
    event: &NewEvent,
) -> Result<Entry, StoreError> {
    append(
        tx,
        path,
        ctx,
        NewEntry {
            session_id: event.session_id,
            ref_seq: event.ref_seq,
            ..NewEntry::new(
                &ctx.register_id,
                event.kind,
                event.at,
                event.operator_id,
                event.body.to_string(),
            )
        },
    )
}

fn new_key_id() -> String {
    let mut b = [0u8; 8];
    // The id only tells databases apart; the clock stands in if the OS has no randomness.
    if getrandom::fill(&mut b).is_err() {
        b = (crate::time::now_millis() as u64).to_le_bytes();
    }
    journal::hex(&b)
}

impl SessionLog {
    /// Opens the session log of `data_dir` ([`SessionLog::open_in`]) as a shell uses it: its
    /// journal under `register_id`, the signing key from `keyring` (the OS keyring).
    pub fn open_journaled(
        data_dir: &Path,
        register_id: &str,
        keyring: Arc<dyn SecretStore>,
    ) -> Result<SessionLog, StoreError> {
        let mut log = SessionLog::open_in(data_dir)?;
        log.set_register(register_id);
        log.use_keyring(keyring);
        Ok(log)
    }

    /// Journals the sales receipt of each paid session in `sales` (its id and when it was
    /// paid) in one transaction, `synchronous=NORMAL`: benchmarks and imports of sessions
    /// [`SessionLog::bulk_load`] loaded as paid, through the same code as a live sale (signed,
    /// numbered, chained). Needs the signing key.
    pub fn bulk_journal_sales<'a>(
        &mut self,
        sales: impl IntoIterator<Item = (&'a str, i64)>,
    ) -> Result<u64, StoreError> {
        let path = self.path.clone();
        let ctx = self.ctx_signing(true, crate::time::now_millis())?;
        self.write(false, |tx| {
            let mut n = 0;
            for (id, at) in sales {
                let o = Outcome {
                    standing: Some(Standing::Captured),
                    evidence: "bulk load",
                    ..Outcome::default()
                };
                on_status(tx, &path, &ctx, id, Status::Paid, at, &o)?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// The register this log journals under (default `"1"`).
    pub fn register_id(&self) -> &str {
        &self.journaling.register_id
    }

    /// Journals under `register_id` from now on (the setting `register.id`).
    pub fn set_register(&mut self, register_id: &str) {
        if self.journaling.register_id != register_id {
            self.journaling.register_id = register_id.to_string();
            self.journaling.signer = None;
        }
    }

    /// The time zone of the journal's local dates and times (default: the system's).
    pub fn set_time_zone(&mut self, zone: Zone) {
        self.journaling.zone = zone;
    }

    /// The till's time zone the journal's local dates are written in (history's days too).
    pub fn time_zone(&self) -> &Zone {
        &self.journaling.zone
    }

    /// Takes the journal's signing key from `keyring` (the OS keyring in the shells), when it
    /// is first needed.
    pub fn use_keyring(&mut self, keyring: Arc<dyn SecretStore>) {
        self.journaling.keyring = Some(keyring);
    }

    /// Signs with a key another connection loaded ([`SessionLog::signer`]), e.g. the thread
    /// that follows a session, so the keyring is asked once per process.
    pub fn use_signer(&mut self, signer: Signer) {
        self.journaling.register_id = signer.register_id.clone();
        self.journaling.signer = Some(signer);
    }

    pub(super) fn ctx(&self) -> Ctx {
        Ctx {
            register_id: self.journaling.register_id.clone(),
            zone: self.journaling.zone.clone(),
            signer: self.journaling.signer.clone(),
        }
    }

    /// [`Ctx`] with the signing key loaded when `needed` (a paid sale, a return).
    pub(super) fn ctx_signing(&mut self, needed: bool, now: i64) -> Result<Ctx, StoreError> {
        if needed {
            self.signer(now)?;
        }
        Ok(self.ctx())
    }

    /// The register's signing key: loaded from the keyring once, or created on first use (1024
    /// bits; the private key into the keyring, the public key and its version into
    /// `journal_keys`, and a `key_created` entry). A sale or refund calls this before anything
    /// starts: when it fails, nothing may.
    pub fn signer(&mut self, now: i64) -> Result<Signer, StoreError> {
        if let Some(s) = &self.journaling.signer {
            if s.register_id == self.journaling.register_id {
                return Ok(s.clone());
            }
        }
        let register = self.journaling.register_id.clone();
        let Some(keyring) = self.journaling.keyring.clone() else {
            return Err(StoreError::SigningKey {
                detail: format!(
                    "the journal's signing key of register {register} is not available (this \
                     session log was opened without the OS keyring); no sale can be recorded"
                ),
            });
        };
        let signer = match self.current_key(&register)? {
            Some(k) => load_key(keyring.as_ref(), &k)?,
            None => self.create_key(keyring.as_ref(), &register, now)?,
        };
        self.journaling.signer = Some(signer.clone());
        Ok(signer)
    }

    fn create_key(
        &mut self,
        keyring: &dyn SecretStore,
        register: &str,
        now: i64,
    ) -> Result<Signer, StoreError> {
        let path = self.path.clone();
        let ctx = self.ctx();
        self.write(true, |tx| {
            // Under the write lock: another process may have created it meanwhile.
            if let Some(k) = key_in(tx, &path, register)? {
                return load_key(keyring, &k);
            }
            let key = SigningKey::generate().map_err(|e| StoreError::SigningKey {
                detail: format!("cannot generate the journal's signing key: {e}"),
            })?;
            let key_id = new_key_id();
            let cred = journal::key_credential(register, "1", &key_id);
            // The keyring first: a crash after it leaves an unused entry, never a public key
            // whose private key is nowhere.
            keyring.set(&cred, &key.to_secret()).map_err(|e| StoreError::SigningKey {
                detail: format!(
                    "cannot store the journal's new signing key in the OS keyring ({}): {e}",
                    cred.user()
                ),
            })?;
            tx.execute(
                "INSERT INTO journal_keys (register_id, key_version, key_id, public_key_pem,
                     created_ms) VALUES (?1, '1', ?2, ?3, ?4)",
                params![register, key_id, key.public_key_pem(), now],
            )
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
            append(
                tx,
                &path,
                &ctx,
                NewEntry::new(
                    register,
                    Kind::KeyCreated,
                    now,
                    None,
                    to_json(&serde_json::json!({
                        "key_version": "1",
                        "public_key_pem": key.public_key_pem(),
                    })),
                ),
            )?;
            log::info!(target: "kassa::journal", "register {register}: signing key version 1 created ({})", cred.user());
            Ok(Signer {
                key: Arc::new(key),
                register_id: register.to_string(),
                version: "1".into(),
            })
        })
    }

    /// The newest key of `register`, if one was created.
    pub fn current_key(&self, register: &str) -> Result<Option<KeyRecord>, StoreError> {
        key_in(&self.conn, &self.path, register)
    }

    /// Every public key of the journal (all registers, all versions).
    pub fn journal_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT register_id, key_version, key_id, public_key_pem, created_ms
                 FROM journal_keys ORDER BY register_id, CAST(key_version AS INTEGER)",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], row_to_key)
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Appends an event ([`NewEvent`]); sales, returns, copies and voids are refused here
    /// (they are written with what they record). Returns the entry.
    pub fn journal_event(&mut self, event: &NewEvent) -> Result<Entry, StoreError> {
        if matches!(
            event.kind,
            Kind::Sale | Kind::Return | Kind::Copy | Kind::Void
        ) {
            return Err(StoreError::Other {
                path: self.path.clone(),
                detail: format!(
                    "a {} is journaled with what it records, not as an event",
                    event.kind
                ),
            });
        }
        let path = self.path.clone();
        let ctx = self.ctx();
        self.write(true, |tx| append_event(tx, &path, &ctx, event))
    }

    /// Journals a copy of the receipt of entry `original_seq` (a sale or a return of this
    /// log's register) by `by`, and returns the copy's entry. Refused for anything but a
    /// receipt, and for a receipt copied already: Norway allows one copy per receipt.
    pub fn record_copy(
        &mut self,
        original_seq: i64,
        by: &Authenticated,
        now: i64,
    ) -> Result<Entry, StoreError> {
        let path = self.path.clone();
        let ctx = self.ctx();
        self.write(true, |tx| {
            let original = entry_in(tx, &path, &ctx.register_id, original_seq)?.ok_or_else(|| {
                StoreError::NoReceipt {
                    what: format!(
                        "no journal entry {original_seq} in register {}",
                        ctx.register_id
                    ),
                }
            })?;
            let (Some(nr), Some(gross)) = (original.nr, original.gross_minor) else {
                return Err(StoreError::NoReceipt {
                    what: format!(
                        "journal entry {original_seq} is a {}, not a sales or return receipt",
                        original.kind
                    ),
                });
            };
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT seq FROM journal WHERE register_id = ?1 AND kind = 'copy' AND ref_seq = ?2",
                    params![ctx.register_id, original_seq],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| StoreError::from_sqlite(&path, e))?;
            if let Some(copy_seq) = existing {
                return Err(StoreError::CopyExists {
                    register_id: ctx.register_id.clone(),
                    nr,
                    copy_seq,
                });
            }
            let currency = original
                .body_json()
                .ok()
                .and_then(|b| b["currency"].as_str().map(str::to_string))
                .unwrap_or_default();
            let body = CopyBody {
                original_kind: original.kind.as_str().to_string(),
                original_nr: nr,
                original_seq,
                session_id: original.session_id.clone(),
                operator: by.stamp(),
                gross,
                currency,
            };
            append(
                tx,
                &path,
                &ctx,
                NewEntry {
                    session_id: original.session_id.as_deref(),
                    operation_id: original.operation_id.as_deref(),
                    ref_seq: Some(original_seq),
                    ..NewEntry::new(&ctx.register_id, Kind::Copy, now, Some(by.id()), to_json(&body))
                },
            )
            .inspect(|_| crate::pause::pause_point("copy_appended"))
        })
    }

    /// The sale entry (sales receipt) of session `id`, if it was paid.
    pub fn sale_entry(&self, session_id: &str) -> Result<Option<Entry>, StoreError> {
        self.one_entry("kind = 'sale' AND session_id = ?1", session_id)
    }

    /// The return entry (return receipt) of operation `operation_id`, if it is done.
    pub fn return_entry(&self, operation_id: &str) -> Result<Option<Entry>, StoreError> {
        self.one_entry("kind = 'return' AND operation_id = ?1", operation_id)
    }

    /// The copy of the receipt of entry `original_seq` of this log's register, if one was made.
    pub fn copy_of(&self, original_seq: i64) -> Result<Option<Entry>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM journal
                     WHERE register_id = ?1 AND kind = 'copy' AND ref_seq = ?2"
                ),
                params![self.journaling.register_id, original_seq],
                row_to_entry,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Entry `seq` of `register`.
    pub fn journal_entry(&self, register: &str, seq: i64) -> Result<Option<Entry>, StoreError> {
        entry_in(&self.conn, &self.path, register, seq)
    }

    fn one_entry(&self, cond: &str, arg: &str) -> Result<Option<Entry>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM journal WHERE {cond}"),
                [arg],
                row_to_entry,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Calls `f` with each entry that passes `filter`, by register then number, one row at a
    /// time (a year of a busy till is never held in memory).
    pub fn journal_each(
        &self,
        filter: &JournalFilter,
        mut f: impl FnMut(Entry) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        use rusqlite::types::Value;
        let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM journal WHERE 1");
        let mut args: Vec<Value> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, v: Value| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(r) = &filter.register_id {
            push(&mut sql, " AND register_id = ?", Value::Text(r.clone()));
        }
        if let Some(d) = &filter.from_date {
            push(&mut sql, " AND local_date >= ?", Value::Text(d.clone()));
        }
        if let Some(d) = &filter.to_date {
            push(&mut sql, " AND local_date <= ?", Value::Text(d.clone()));
        }
        if let Some(k) = filter.kind {
            push(&mut sql, " AND kind = ?", Value::Text(k.as_str().into()));
        }
        if let Some(s) = &filter.session_id {
            push(&mut sql, " AND session_id = ?", Value::Text(s.clone()));
        }
        sql.push_str(" ORDER BY register_id, seq");
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = st
            .query(rusqlite::params_from_iter(args.iter()))
            .map_err(|e| self.err(e))?;
        let mut n = 0;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            f(row_to_entry(row).map_err(|e| self.err(e))?)?;
            n += 1;
        }
        Ok(n)
    }

    /// The entries that pass `filter` ([`SessionLog::journal_each`] into a list).
    pub fn journal_entries(&self, filter: &JournalFilter) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        self.journal_each(filter, |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    /// `journal verify`: recomputes every register's chain and every signature (the public
    /// keys from `journal_keys`, no keyring), then checks that every sale paid and every
    /// refund, recorded refund or void done since the journal began has its receipt entry
    /// (which finds a receipt deleted from the end of the chain, where no later entry points
    /// at it). The outer error is the database's; the inner one the first entry that fails.
    pub fn verify_journal(&self) -> Result<Verification, StoreError> {
        let keys: HashMap<(String, String), String> = self
            .journal_keys()?
            .into_iter()
            .map(|k| ((k.register_id, k.key_version), k.public_key_pem))
            .collect();
        let mut verifier = Verifier::new(keys);
        let mut failure = None;
        self.journal_each(&JournalFilter::default(), |e| {
            if failure.is_none() {
                if let Err(f) = verifier.check(&e) {
                    failure = Some(f);
                }
            }
            Ok(())
        })?;
        if let Some(f) = failure {
            return Ok(Err(f));
        }
        let summary = verifier.summary();
        // Sessions and operations written since v6 carry their operator; older ones (and bulk
        // imports) predate the journal.
        let missing: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT 'session ' || id, 'it is paid but has no sales receipt in the journal'
                 FROM sessions s WHERE status = 'paid' AND operator_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.kind = 'sale' AND j.session_id = s.id)
                 UNION ALL
                 SELECT kind || ' ' || id, 'it is done but has no return receipt in the journal'
                 FROM operations o WHERE state = 'done' AND operator_id IS NOT NULL
                   AND kind IN ('refund', 'refund_recorded', 'void')
                   AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.kind = 'return' AND j.operation_id = o.id)
                 LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some((what, why)) = missing {
            let last = summary.last();
            return Ok(Err(Failure {
                register_id: last.map(|s| s.register_id.clone()).unwrap_or_default(),
                seq: last.map_or(0, |s| s.entries),
                why: format!("{what}: {why} (a receipt deleted from the journal?)"),
            }));
        }
        Ok(Ok(summary))
    }
}

fn row_to_key(r: &rusqlite::Row) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        register_id: r.get(0)?,
        key_version: r.get(1)?,
        key_id: r.get(2)?,
        public_key_pem: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

fn key_in(conn: &Connection, path: &Path, register: &str) -> Result<Option<KeyRecord>, StoreError> {
    conn.query_row(
        "SELECT register_id, key_version, key_id, public_key_pem, created_ms FROM journal_keys
         WHERE register_id = ?1 ORDER BY CAST(key_version AS INTEGER) DESC LIMIT 1",
        [register],
        row_to_key,
    )
    .optional()
    .map_err(|e| StoreError::from_sqlite(path, e))
}

pub(super) fn entry_in(
    conn: &Connection,
    path: &Path,
    register: &str,
    seq: i64,
) -> Result<Option<Entry>, StoreError> {
    conn.query_row(
        &format!("SELECT {ENTRY_COLUMNS} FROM journal WHERE register_id = ?1 AND seq = ?2"),
        params![register, seq],
        row_to_entry,
    )
    .optional()
    .map_err(|e| StoreError::from_sqlite(path, e))
}

/// Reads a key from the keyring and checks it is the one whose public key the journal holds.
fn load_key(keyring: &dyn SecretStore, k: &KeyRecord) -> Result<Signer, StoreError> {
    let cred = journal::key_credential(&k.register_id, &k.key_version, &k.key_id);
    let secret = keyring.get(&cred).map_err(|e| StoreError::SigningKey {
        detail: format!(
            "the journal's signing key of register {} (version {}) cannot be read from the OS \
             keyring ({}): {e}",
            k.register_id,
            k.key_version,
            cred.user()
        ),
    })?;
    let key = SigningKey::from_secret(&secret).map_err(|e| StoreError::SigningKey {
        detail: format!("the keyring entry {}: {e}", cred.user()),
    })?;
    if key.public_key_pem() != k.public_key_pem {
        return Err(StoreError::SigningKey {
            detail: format!(
                "the keyring entry {} is not the key whose public key the journal holds \
                 (version {}); no sale can be signed with it",
                cred.user(),
                k.key_version
            ),
        });
    }
    Ok(Signer {
        key: Arc::new(key),
        register_id: k.register_id.clone(),
        version: k.key_version.clone(),
    })
}
