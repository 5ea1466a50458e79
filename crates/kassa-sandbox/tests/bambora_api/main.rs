//! The Bambora emulator over real HTTP, with hand-built requests (not Kassa's client), so its
//! rules stand on their own: the API key, the `meta` envelope and status codes, the order and
//! line rules, the payment window and its signed accept redirect, the Merchant API transaction
//! and its operations, Payment Requests, and the Transaction API's capture, credit and delete.
//!
//! One test binary (link time on two cores), one module per part of the API.

mod checkout;
mod common;
mod payment_requests;
mod transactions;
