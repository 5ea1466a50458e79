//! The shop's hub: several tills, one PostgreSQL.
//!
//! Each till's SQLite stays its system of record (it sells with the network down); the hub is
//! fed from it. The till's outbox (`kassa_core::store`, schema v7) says what the hub has not
//! acknowledged; [`push`] ships it in order and idempotently, and the hub ([`receive`]) checks
//! every register's journal chain as entries arrive, refusing a gap, a broken link or an entry
//! whose content does not match its hash, and recording why ([`Refusal`]). Journal entries
//! never conflict (they are keyed by register and number), so they are shipped, never merged.
//! The product list lives on the hub, folded from the price changes each till journals; tills
//! pull it into their `products.json` cache ([`products`]).
//!
//! - `connect.rs`: `hub.url` and the keyring's password to a [`Hub`] (a small pool).
//! - `tls.rs`: TLS to a hub elsewhere (rustls, verified against the platform's roots and
//!   `hub.ca_file`; `sslmode` read as libpq reads it, never falling back to plaintext).
//! - `schema.rs`: the hub's migrations and the journal's rules as triggers.
//! - `receive.rs`: the hub's side of a push (chain checks, upserts, products).
//! - `push.rs`: the till's side: one push, and the sender loop with backoff ([`Sender`]).
//! - `products.rs`: pulling the shared product list into the cache.
//! - `shop.rs`: shop-wide reads (sessions of every till, the shop-wide X).
//! - `cluster.rs`, `demo_till.rs` (`test-support` only): a throwaway PostgreSQL cluster; a
//!   till's session log with paid demo sales signed by the in-memory keyring.
//!
//! Not here: the desktop indicator, a shop-wide Z (a Z is each register's own, made on its till).

#[cfg(feature = "test-support")]
pub mod cluster;
mod connect;
#[cfg(feature = "test-support")]
pub mod demo_till;
mod products;
mod push;
mod receive;
pub mod schema;
mod shop;
mod tls;

pub use connect::{Hub, Pooled};
pub use products::{pull_products, pull_products_if_changed};
pub use push::{push_once, sync, PushReport, Sender, SenderState, SyncReport};
pub use receive::{receive, Acknowledgement, Delivery, Refusal};
pub use shop::{shop_history, shop_sessions, shop_x, ShopHistory, ShopSale, ShopSession};

/// Why the hub could not be used. Nothing a till records is ever lost on any of these: the
/// outbox keeps it until the hub acknowledges it.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("no hub is set up (set hub.url, e.g. `kassa-cli config set hub.url postgres://kassa@127.0.0.1:5432/shop`)")]
    NotConfigured,
    #[error("hub.url: {0}")]
    BadUrl(String),
    #[error("cannot reach the hub at {target}: {detail}; the till keeps selling and pushes when it is back")]
    Unreachable { target: String, detail: String },
    #[error("the hub at {target} refused the password of user {user} (set it with `kassa-cli credentials set hub password`); nothing was lost, the outbox waits")]
    WrongPassword { target: String, user: String },
    #[error("the hub database is not Kassa's hub (it has tables of another program); Kassa left it untouched")]
    NotKassa,
    #[error("the hub was set up by a newer Kassa (schema version {found}; this Kassa knows up to {supported}); update Kassa")]
    NewerHub { found: i64, supported: i64 },
    /// TLS to the hub failed or could not be set up: a certificate not trusted or for another
    /// name, a hub that does not offer TLS, an unreadable `hub.ca_file`. Never retried in
    /// plaintext.
    #[error("the hub at {target}: {detail}; nothing was lost, the outbox waits")]
    Tls { target: String, detail: String },
    #[error("the OS keyring: {0}")]
    Keyring(String),
    #[error("the till's session log: {0}")]
    Store(#[from] kassa_core::store::StoreError),
    #[error("the product cache: {0}")]
    Products(String),
    #[error("the hub: {0}")]
    Database(String),
    #[error("the shop-wide report: {0}")]
    Report(#[from] kassa_core::report::ReportError),
}

impl HubError {
    /// The hub cannot be reached now (down, network): worth retrying with backoff.
    pub fn is_transient(&self) -> bool {
        matches!(self, HubError::Unreachable { .. })
    }
}

impl From<postgres::Error> for HubError {
    fn from(e: postgres::Error) -> HubError {
        if e.is_closed() || e.as_db_error().is_none() && e.to_string().contains("connect") {
            return HubError::Unreachable {
                target: "the hub".into(),
                detail: e.to_string(),
            };
        }
        match e.as_db_error() {
            Some(db) => HubError::Database(format!("{} ({})", db.message(), db.code().code())),
            None => HubError::Unreachable {
                target: "the hub".into(),
                detail: e.to_string(),
            },
        }
    }
}
