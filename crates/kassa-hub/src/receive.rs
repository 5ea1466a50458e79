//! The hub's side of a push: what one till delivers, checked and stored in one transaction.
//!
//! Journal entries, per register in `seq` order: each must be the register's next entry, link
//! to the one before (`prev_hash`) and hash to what it says (recomputed with
//! `kassa_core::journal::entry_hash`, the till's own chain code). The first entry that fails
//! is refused with its reason, kept in `refusals` (so the shop sees it, whichever till
//! pushes), and nothing after it of that register is taken: a gap or a broken link is never
//! silently accepted. Entries the hub already holds (a resend after a lost acknowledgement)
//! are skipped when identical and refused when not (the `journal_link` trigger).
//! Sessions and operations: the row as the till has it now, kept when its outbox position is
//! higher than the one the hub holds (`INSERT … ON CONFLICT … WHERE version <`), so a resend
//! or a late batch never takes a row back in time. Price changes in accepted entries update
//! the shared product list (the last one the hub receives wins).
//!
//! The acknowledgement is each register's head: the highest contiguous `seq` the hub holds.

use crate::HubError;
use kassa_core::catalog::PriceChange;
use kassa_core::journal::{entry_hash, hex, Entry, Kind, GENESIS};
use kassa_core::store::{KeyRecord, OperationRecord, SessionRecord};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a till delivers in one push.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// The till's register (its sessions and operations are filed under it).
    pub register_id: String,
    /// Each with its outbox position.
    pub sessions: Vec<(i64, SessionRecord)>,
    pub operations: Vec<(i64, OperationRecord)>,
    /// In (register, seq) order.
    pub journal: Vec<Entry>,
    pub keys: Vec<KeyRecord>,
}

/// A journal entry the hub would not take, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub register_id: String,
    pub seq: i64,
    pub reason: String,
}

/// What the hub holds after a delivery.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Acknowledgement {
    /// Per register seen in the delivery: the highest contiguous `seq` the hub holds.
    pub journal: Vec<(String, i64)>,
    pub refusals: Vec<Refusal>,
    /// Journal entries newly stored (not counting resends).
    pub stored: u64,
}

/// Stores a delivery (see the module doc). The transaction commits everything that passed;
/// refusals are recorded after it.
pub fn receive(client: &mut postgres::Client, d: &Delivery) -> Result<Acknowledgement, HubError> {
    let mut ack = Acknowledgement::default();
    let mut tx = client.transaction()?;
    for k in &d.keys {
        tx.execute(
            "INSERT INTO journal_keys (register_id, key_version, key_id, public_key_pem, created_ms)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&k.register_id, &k.key_version, &k.key_id, &k.public_key_pem, &k.created_ms],
        )?;
    }
    let mut by_register: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in &d.journal {
        by_register.entry(&e.register_id).or_default().push(e);
    }
    let insert = tx.prepare(
        "INSERT INTO journal (register_id, seq, kind, event_code, at_ms, local_date, local_time,
            operator_id, session_id, operation_id, ref_seq, nr, gross_minor, net_minor,
            signature, key_version, body, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT (register_id, seq) DO NOTHING",
    )?;
    for (register, entries) in &by_register {
        // Lock the register's head: two tills with the same register id (a misconfiguration)
        // queue here instead of interleaving.
        tx.execute(
            "INSERT INTO registers (register_id, head_seq, head_hash) VALUES ($1, 0, $2)
             ON CONFLICT (register_id) DO NOTHING",
            &[register, &GENESIS.as_slice()],
        )?;
        let row = tx.query_one(
            "SELECT head_seq, head_hash FROM registers WHERE register_id = $1 FOR UPDATE",
            &[register],
        )?;
        let (mut head_seq, head_hash): (i64, Vec<u8>) = (row.get(0), row.get(1));
        let mut head_hash: [u8; 32] = head_hash.try_into().unwrap_or(GENESIS);
        for e in entries {
            let reason = if e.seq <= head_seq {
                // A resend after a lost acknowledgement is identical (the trigger skips it);
                // anything else is another till journaling under the same register id.
                let held: Vec<u8> = tx
                    .query_one(
                        "SELECT hash FROM journal WHERE register_id = $1 AND seq = $2",
                        &[register, &e.seq],
                    )?
                    .get(0);
                (held != e.hash).then(|| {
                    "it differs from the entry the hub holds under that number (another till \
                     with the same register.id?)"
                        .to_string()
                })
            } else if entry_hash(&e.prev_hash, &e.fields()) != e.hash {
                Some(format!(
                    "its hash does not match its content (changed after it was written; it says {})",
                    hex(&e.hash)
                ))
            } else if e.seq != head_seq + 1 {
                Some(format!(
                    "entries {}..{} are missing before it (the hub holds up to {head_seq})",
                    head_seq + 1,
                    e.seq - 1
                ))
            } else if e.prev_hash != head_hash {
                Some(format!(
                    "it does not link to entry {head_seq} (its previous hash is {}, entry {head_seq}'s hash is {})",
                    hex(&e.prev_hash),
                    hex(&head_hash)
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                ack.refusals.push(Refusal {
                    register_id: register.to_string(),
                    seq: e.seq,
                    reason,
                });
                break;
            }
            let n = tx.execute(
                &insert,
                &[
                    &e.register_id,
                    &e.seq,
                    &e.kind.as_str(),
                    &e.event_code,
                    &e.at_ms,
                    &e.local_date,
                    &e.local_time,
                    &e.operator_id,
                    &e.session_id,
                    &e.operation_id,
                    &e.ref_seq,
                    &e.nr,
                    &e.gross_minor,
                    &e.net_minor,
                    &e.signature,
                    &e.key_version,
                    &e.body,
                    &e.prev_hash.as_slice(),
                    &e.hash.as_slice(),
                ],
            )?;
            if e.seq > head_seq {
                head_seq = e.seq;
                head_hash = e.hash;
                ack.stored += n;
                if e.kind == Kind::PriceChange {
                    apply_price_change(&mut tx, e)?;
                }
            }
        }
        ack.journal.push((register.to_string(), head_seq));
    }
    for (pos, s) in &d.sessions {
        let record = serde_json::to_value(s).map_err(|e| HubError::Database(e.to_string()))?;
        tx.execute(
            "INSERT INTO sessions (id, register_id, provider, demo, merchant_reference, currency,
                gross_minor, status, created_ms, updated_ms, operator_id, record, order_json, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,
                updated_ms = EXCLUDED.updated_ms, record = EXCLUDED.record,
                version = EXCLUDED.version
             WHERE sessions.version < EXCLUDED.version",
            &[
                &s.id,
                &d.register_id,
                &s.provider,
                &s.demo,
                &s.merchant_reference,
                &s.currency,
                &s.gross_minor,
                &s.status.as_str(),
                &s.created_at,
                &s.updated_at,
                &s.operator_id,
                &record,
                &s.order_json,
                pos,
            ],
        )?;
    }
    for (pos, op) in &d.operations {
        let record = serde_json::to_value(op).map_err(|e| HubError::Database(e.to_string()))?;
        tx.execute(
            "INSERT INTO operations (id, session_id, register_id, kind, state, amount, updated_ms,
                record, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state,
                updated_ms = EXCLUDED.updated_ms, record = EXCLUDED.record,
                version = EXCLUDED.version
             WHERE operations.version < EXCLUDED.version",
            &[
                &op.id,
                &op.session_id,
                &d.register_id,
                &op.kind.as_str(),
                &op.state.as_str(),
                &op.amount,
                &op.updated_at,
                &record,
                pos,
            ],
        )?;
    }
    tx.commit()?;
    for r in &ack.refusals {
        client.execute(
            "INSERT INTO refusals (register_id, seq, reason) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&r.register_id, &r.seq, &r.reason],
        )?;
        log::warn!(
            "hub: register {} entry {} refused: {}",
            r.register_id,
            r.seq,
            r.reason
        );
    }
    Ok(ack)
}

/// A price change (`kassa_core::catalog::PriceChange`, what `till::save_product` and
/// `kassa-cli product` journal): the product as it became, or removed.
fn apply_price_change(tx: &mut postgres::Transaction, e: &Entry) -> Result<(), HubError> {
    let change: PriceChange = serde_json::from_str(&e.body).map_err(|err| {
        HubError::Database(format!(
            "register {} entry {}: not a price change ({err})",
            e.register_id, e.seq
        ))
    })?;
    match change.product() {
        Some(p) => {
            tx.execute(
                "INSERT INTO products (sku, name, unit_price, vat_rate, removed, changed_by, changed_seq)
                 VALUES ($1, $2, $3, $4, false, $5, $6)
                 ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name,
                    unit_price = EXCLUDED.unit_price, vat_rate = EXCLUDED.vat_rate,
                    removed = false, changed_by = EXCLUDED.changed_by,
                    changed_seq = EXCLUDED.changed_seq",
                &[&p.sku, &p.name, &p.unit_price, &p.vat_rate, &e.register_id, &e.seq],
            )?;
        }
        None => {
            tx.execute(
                "UPDATE products SET removed = true, changed_by = $2, changed_seq = $3
                 WHERE sku = $1",
                &[&change.sku, &e.register_id, &e.seq],
            )?;
        }
    }
    Ok(())
}
