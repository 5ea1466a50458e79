//! Kassa's core: everything a counter checkout does, with no user interface and no Tauri.
//!
//! - [`money`]: currencies, minor units, rounding, formatting.
//! - [`order`]: the order document and its strict parser.
//! - [`quote`]: the pricing rules (line amounts, discounts, VAT, totals).
//! - [`reference`]: merchant references for orders that come without one.
//!
//! The desktop app (`src-tauri/`) and `kassa-cli` are thin shells over these modules.

pub mod counter;
pub mod money;
pub mod order;
pub mod paths;
pub mod quote;
pub mod reference;
pub mod secrets;
pub mod settings;

pub use money::Currency;
pub use order::{parse_order, Order, OrderError, OrderLine, Problem, Quantity, VatRate};
pub use quote::{price, PricedLine, PricedOrder, Totals, VatRow};

/// Parses and prices an order document in one step.
pub fn quote_document(text: &str, fallback_reference: &str) -> Result<PricedOrder, OrderError> {
    price(&parse_order(text)?, fallback_reference)
}
