//! The Opencharge emulator over real HTTP (a raw HTTP/1.1 client, so every header of the
//! answer is visible), with requests signed here with Kassa's core signing functions and the
//! notes' TV1 key: request authentication, the order signature and both canonicalizations,
//! the body rules and error codes, the hosted page, proofs, the gateway clock and `Date`.
//!
//! One test binary, one module per part of the emulator.

mod checkout;
mod clock;
mod common;
mod rules;
mod signatures;
