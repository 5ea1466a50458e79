//! Kassa's core: everything a counter checkout does, with no user interface and no Tauri.
//!
//! - [`money`]: currencies, minor units, rounding, formatting.
//! - [`order`]: the order document and its strict parser.
//! - [`quote`]: the pricing rules (line amounts, discounts, VAT, totals).
//! - [`reference`](mod@reference): merchant references for orders that come without one.
//! - [`secrets`], [`settings`], [`paths`]: credentials in the OS keyring, settings, the data dir.
//! - [`session`], [`store`]: the checkout session's status model and the SQLite session log.
//! - [`journal`]: the electronic journal's entries, chain and Skatteetaten signatures (written
//!   by `store` with what they record); [`operator`]: operators, PINs, roles.
//! - [`provider`], [`http`]: the provider trait and registry, one folder per provider (client,
//!   wire mapping, spec), the client cache the shells share; the shared HTTP client.
//! - [`refund`]: what a refund gives back per line (by lines, by amount, whole).
//! - [`report`]: X and Z reports, sums of the journal's entries of a period.
//! - [`checkout`]: intent → provider → log, status refresh, cancel, start-up reconciliation;
//!   capture, refund and void, recorded before they are sent.
//! - [`till`]: the counter shell's operations (idempotent charge, following a session,
//!   history, settings, products); [`catalog`]: the product list.
//! - [`code`]: the stable error codes every error carries to the UI; [`field_code`]: the
//!   stable codes of a field's validation failures, which the UI translates.
//! - [`saft`]: the SAF-T Cash Register export of the journal (streaming XML).
//! - [`receipt`]: the receipt model and its outputs (text lines, PDF, ESC/POS);
//!   [`printer`]: where the bytes go (network, USB, serial printers, a file).
//! - [`qr`]: QR codes as SVG. [`time`]: UTC timestamps.
//!
//! Modules import each other in one direction only (`tests/module_graph.rs`).
//!
//! The desktop app (`src-tauri/`) and `kassa-cli` are thin shells over these modules.

pub mod catalog;
pub mod checkout;
pub mod code;
pub mod counter;
pub mod field_code;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod journal;
pub mod link;
pub mod logging;
pub mod money;
pub mod operator;
pub mod order;
pub mod paths;
pub(crate) mod pause;
pub mod printer;
pub mod printing;
pub mod provider;
pub mod qr;
pub mod quote;
pub mod receipt;
pub mod reference;
pub mod refund;
pub mod report;
pub mod saft;
pub mod schedule;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod store;
pub mod till;
pub mod time;

pub use money::Currency;
pub use order::{parse_order, Order, OrderError, OrderLine, Problem, Quantity, VatRate};
pub use quote::{price, quote_document, PricedLine, PricedOrder, Totals, VatRow};
