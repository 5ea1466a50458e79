//! The Klarna emulator over real HTTP, with hand-built requests (not Kassa's client), so its
//! rules stand on their own: auth, error shapes and status codes, the schema and amount rules,
//! the HPP session life cycle and hosted page, and Order Management (captures, refunds,
//! cancel, release, idempotency).
//!
//! One test binary, one module per API.

mod common;
mod order_management;
mod sessions;
