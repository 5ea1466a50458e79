//! The Commerce Layer emulator over real HTTP, with hand-built requests (not Kassa's client), so
//! its rules stand on their own: tokens and their limits, JSON:API media types and errors,
//! orders, line items and their tax arithmetic, the checkout.com payment source, links, the
//! hosted checkout, the order's payment state machine, and the transactions (captures, voids,
//! refunds) its triggers make.
//!
//! One test binary (link time on two cores), one module per resource.

mod auth;
mod checkout;
mod common;
mod jsonapi;
mod line_items;
mod links;
mod orders;
mod payments;
mod transactions;
