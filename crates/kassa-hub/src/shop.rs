//! Shop-wide reads: every till's sessions as the hub holds them.

use crate::{Hub, HubError};
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
