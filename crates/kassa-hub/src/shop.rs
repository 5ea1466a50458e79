//! Shop-wide reads: every till's sessions as the hub holds them, and the shop-wide X
//! (`kassa_core::report::shop`): each register's period since its last Z, read from the
//! entries the hub holds with the core's own [`Reading`], and their total.

use crate::{Hub, HubError};
use kassa_core::journal::{Entry, Kind, OperatorStamp, Zone};
use kassa_core::money::Currency;
use kassa_core::report::shop::{Coverage, RegisterReading, ShopReport};
use kassa_core::report::{InFlight, Reading, Report, ReportKind, SessionInFlight};
use kassa_core::settings::{Settings, ShopSettings};
use kassa_core::time::format_rfc3339;
use postgres::fallible_iterator::FallibleIterator;
use serde::Serialize;

/// One session of any till.
#[derive(Debug, Clone, Serialize)]
pub struct ShopSession {
    pub register_id: String,
    pub id: String,
    pub provider: String,
    pub demo: bool,
    pub reference: String,
    pub currency: String,
    pub amount: i64,
    pub status: String,
    pub created_ms: i64,
}

/// A sale of any till, as the Whole shop history lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ShopSale {
    /// The till (register) that sold it.
    pub register_id: String,
    /// Sold on this till: its detail and receipt open from this till's own history.
    pub this_till: bool,
    pub id: String,
    pub reference: String,
    pub provider: String,
    pub demo: bool,
    /// Formatted in the shop's currency and locale.
    pub amount: String,
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
}

/// The Whole shop history: the newest sales of every till, as the hub holds them.
#[derive(Debug, Clone, Serialize)]
pub struct ShopHistory {
    pub register_id: String,
    pub sessions: Vec<ShopSale>,
}

/// The Whole shop history of the till whose settings are `settings`: the newest `limit`
/// sessions of every till, amounts in the shop's currency and locale, this till's marked.
pub fn shop_history(hub: &Hub, settings: &Settings, limit: i64) -> Result<ShopHistory, HubError> {
    let rows = shop_sessions(hub, limit)?;
    let locale = ShopSettings::from_settings(settings).locale;
    let register_id = settings.register_id();
    Ok(ShopHistory {
        sessions: rows
            .into_iter()
            .map(|s| ShopSale {
                this_till: s.register_id == register_id,
                amount: match Currency::from_code(&s.currency) {
                    Some(c) => c.format_display(s.amount, &locale),
                    None => format!("{} {}", s.amount, s.currency),
                },
                created_at: format_rfc3339(s.created_ms),
                register_id: s.register_id,
                id: s.id,
                reference: s.reference,
                provider: s.provider,
                demo: s.demo,
                status: s.status,
            })
            .collect(),
        register_id,
    })
}

/// The newest `limit` sessions of the shop.
pub fn shop_sessions(hub: &Hub, limit: i64) -> Result<Vec<ShopSession>, HubError> {
    let mut conn = hub.connection()?;
    let rows = conn
        .query(
            "SELECT register_id, id, provider, demo, merchant_reference, currency, gross_minor,
                    status, created_ms
             FROM sessions ORDER BY created_ms DESC, id DESC LIMIT $1",
            &[&limit],
        )
        .map_err(|e| hub.named(e.into()))?;
    Ok(rows
        .iter()
        .map(|r| ShopSession {
            register_id: r.get(0),
            id: r.get(1),
            provider: r.get(2),
            demo: r.get(3),
            reference: r.get(4),
            currency: r.get(5),
            amount: r.get(6),
            status: r.get(7),
            created_ms: r.get(8),
        })
        .collect())
}

/// The hub's journal columns in [`Entry`]'s order (`entry`).
const ENTRY_COLUMNS: &str = "register_id, seq, kind, event_code, at_ms, local_date, local_time, \
    operator_id, session_id, operation_id, ref_seq, nr, gross_minor, net_minor, signature, \
    key_version, body, prev_hash, hash";

fn entry(r: &postgres::Row) -> Result<Entry, HubError> {
    let kind: String = r.get(2);
    let hash = |i: usize| -> Result<[u8; 32], HubError> {
        let v: Vec<u8> = r.get(i);
        v.try_into()
            .map_err(|_| HubError::Database("a journal hash is not 32 bytes".into()))
    };
    Ok(Entry {
        register_id: r.get(0),
        seq: r.get(1),
        kind: Kind::parse(&kind).map_err(HubError::Database)?,
        event_code: r.get(3),
        at_ms: r.get(4),
        local_date: r.get(5),
        local_time: r.get(6),
        operator_id: r.get(7),
        session_id: r.get(8),
        operation_id: r.get(9),
        ref_seq: r.get(10),
        nr: r.get(11),
        gross_minor: r.get(12),
        net_minor: r.get(13),
        signature: r.get(14),
        key_version: r.get(15),
        body: r.get(16),
        prev_hash: hash(17)?,
        hash: hash(18)?,
    })
}

/// The shop-wide X now, read by `made_by`; local times in `zone` (the reading till's).
///
/// One read-only snapshot (`REPEATABLE READ`), so a push arriving meanwhile is in every figure
/// or in none. Each register: its last Z the hub holds, its entries after it summed by the
/// core's [`Reading`] (as its till's own X sums them), its sessions in flight as last pushed,
/// and what the hub knows of its coverage (`till_pushes`).
pub fn shop_x(hub: &Hub, zone: &Zone, made_by: OperatorStamp) -> Result<ShopReport, HubError> {
    let mut conn = hub.connection()?;
    let made = |e: postgres::Error| hub.named(e.into());
    let mut tx = conn
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(made)?;
    let now: i64 = tx
        .query_one("SELECT (extract(epoch FROM now()) * 1000)::bigint", &[])
        .map_err(made)?
        .get(0);
    let stamp = |ms: i64| {
        let s = zone.stamp(ms);
        format!("{} {}", s.date, s.time)
    };
    let registers = tx
        .query(
            "SELECT r.register_id, r.head_seq, j.local_date || ' ' || j.local_time,
                    (extract(epoch FROM p.pushed_at) * 1000)::bigint, p.waiting
             FROM registers r
             LEFT JOIN journal j ON j.register_id = r.register_id AND j.seq = r.head_seq
             LEFT JOIN till_pushes p ON p.register_id = r.register_id
             ORDER BY r.register_id",
            &[],
        )
        .map_err(made)?;
    let mut readings = Vec::with_capacity(registers.len());
    for row in &registers {
        let register: String = row.get(0);
        let pushed: Option<i64> = row.get(3);
        let waiting: Option<i64> = row.get(4);
        let coverage = Coverage::new(
            row.get(1),
            row.get(2),
            pushed.map(|at| (at, stamp(at), waiting.unwrap_or(0))),
            now,
        );
        readings.push(RegisterReading {
            report: register_x(&mut tx, &register, made_by.clone(), stamp(now))
                .map_err(|e| hub.named(e))?,
            coverage,
        });
    }
    tx.commit().map_err(made)?;
    Ok(ShopReport::new(stamp(now), made_by, readings)?)
}

/// One register's X over the entries the hub holds (numbered 0: it is journaled nowhere).
fn register_x(
    tx: &mut postgres::Transaction,
    register: &str,
    made_by: OperatorStamp,
    to: String,
) -> Result<Report, HubError> {
    let last_z = tx
        .query_opt(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM journal WHERE register_id = $1 AND kind = 'z_report'
                 ORDER BY seq DESC LIMIT 1"
            ),
            &[&register],
        )?
        .map(|r| entry(&r))
        .transpose()?;
    let last_report: Option<Report> = last_z
        .as_ref()
        .map(|e| {
            serde_json::from_str(&e.body).map_err(|x| {
                HubError::Database(format!(
                    "register {register} entry {} is not a Z report ({x})",
                    e.seq
                ))
            })
        })
        .transpose()?;
    let mut reading = Reading::start(
        ReportKind::X,
        register,
        last_z.as_ref().zip(last_report.as_ref()),
    );
    // Streamed: a period is never held in memory.
    let from = reading.from_seq();
    let mut rows = tx.query_raw(
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM journal WHERE register_id = $1 AND seq >= $2 ORDER BY seq"
        ),
        [&register as &(dyn postgres::types::ToSql + Sync), &from],
    )?;
    while let Some(row) = rows.next()? {
        reading.add(&entry(&row)?)?;
    }
    drop(rows);
    let in_flight = tx
        .query(
            "SELECT id, status, provider, gross_minor FROM sessions
             WHERE register_id = $1 AND status IN ('creating', 'open', 'unknown', 'needs_review')
             ORDER BY id",
            &[&register],
        )?
        .iter()
        .map(|r| SessionInFlight {
            session_id: r.get(0),
            status: r.get(1),
            provider: r.get(2),
            gross: r.get(3),
        })
        .collect();
    Ok(reading.finish(0, to, made_by, InFlight::of(in_flight)?)?)
}
