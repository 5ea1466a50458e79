//! The electronic journal: everything the till does that matters to the books, append-only,
//! numbered per register without gaps, chained, and (sales and returns) signed per
//! Skatteetaten's rule. What the receipt, the X and Z reports and the SAF-T export read.
//!
//! - [`Kind`] (`kind.rs`): what an entry records and its SAF-T event code (PredefinedBasicID-13).
//! - [`Entry`]: one row of the `journal` table. `seq` numbers every entry of a register
//!   (SAF-T `eventID`); `nr` numbers the signed ones, sales and returns in one series (the
//!   receipt number, SAF-T `nr`/`transID`).
//! - `chain.rs`: the SHA-256 chain over each entry's canonical fields.
//! - `signature.rs`: Skatteetaten's signed text and RSA-SHA1 signature ([`SigningKey`]).
//! - `local_time.rs`: the local date and time stored with each entry ([`Zone`]).
//! - `body.rs`: what an entry says (sale, return, void, copy), as JSON.
//! - `verify.rs`: the rules `journal verify` checks ([`Verifier`]).
//!
//! Not here: SQL, the key's keyring entry and the transactions that write entries together
//! with a session's status or an operation's outcome (`store::journal`), operators and PINs
//! (`operator`), receipt layout (the receipt module).

pub mod body;
mod chain;
mod kind;
mod local_time;
pub mod signature;
mod verify;

pub use body::{OperatorStamp, Payment, Standing, Totals};
pub use chain::{entry_hash, hex, Fields, GENESIS};
pub use kind::Kind;
pub use local_time::{LocalStamp, Zone};
pub use signature::{SignatureError, SigningKey};
pub use verify::{Failure, RegisterSummary, Verifier};

use crate::provider::spec::SettingValues;
use crate::secrets::CredentialKey;
use serde::Serialize;

/// The register a till journals under when none is set: `register.id`, else `"1"`.
pub const DEFAULT_REGISTER: &str = "1";

/// The register id of this till: the setting `register.id` when it exists and is set, else
/// [`DEFAULT_REGISTER`].
pub fn register_id(values: &dyn SettingValues) -> String {
    values
        .value("register.id")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_REGISTER.to_string())
}

/// The keyring entry of a register's signing key: service `kassa`, user
/// `journal/<register>/signing-key-v<version>-<key id>`. The key id (random, kept with the
/// public key in the database) ties the entry to one database, so two data directories on one
/// keyring never share or overwrite a key.
pub fn key_credential(register_id: &str, version: &str, key_id: &str) -> CredentialKey {
    CredentialKey::new(
        "journal",
        register_id,
        &format!("signing-key-v{version}-{key_id}"),
    )
}

/// Skatteetaten's rule writes amounts with two decimals: only currencies whose minor unit is a
/// hundredth (NOK, SEK, DKK, EUR) can be signed. Checked before a sale starts.
pub fn check_currency(code: &str) -> Result<(), String> {
    match crate::money::Currency::from_code(code) {
        Some(c) if c.digits() == 2 => Ok(()),
        Some(c) => Err(format!(
            "the journal signs amounts with two decimals (Skatteetaten's rule), and {code} has {}; \
             a {code} sale cannot be signed",
            c.digits()
        )),
        None => Err(format!("{code:?} is not a known currency")),
    }
}

/// One journal entry, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub register_id: String,
    /// 1, 2, 3… per register, no gaps (SAF-T `eventID`).
    pub seq: i64,
    pub kind: Kind,
    /// PredefinedBasicID-13.
    pub event_code: String,
    /// UTC, Unix milliseconds (ordering and ranges; never turned back into local time).
    pub at_ms: i64,
    /// The till's local date and time when the entry was written (`YYYY-MM-DD`, `HH:MM:SS`).
    pub local_date: String,
    pub local_time: String,
    /// The operator; `None` for what no operator did (an application start before anyone
    /// logged in, the key's creation).
    pub operator_id: Option<i64>,
    /// The checkout session (sale, return, void, copy of their receipts).
    pub session_id: Option<String>,
    /// The operation (refund, recorded refund, void) a return is.
    pub operation_id: Option<String>,
    /// The entry this one refers to (a copy: the copied receipt's entry; a staff confirmation
    /// or record: the sale's or return's entry).
    pub ref_seq: Option<i64>,
    /// Sales and returns: the receipt number, 1, 2, 3… per register, no gaps.
    pub nr: Option<i64>,
    /// Sales and returns: amounts incl. and excl. VAT, minor units (negative for returns).
    pub gross_minor: Option<i64>,
    pub net_minor: Option<i64>,
    /// Sales and returns: Skatteetaten's signature (Base64) and the key's version.
    pub signature: Option<String>,
    pub key_version: Option<String>,
    /// What the entry says (`body.rs`), JSON exactly as written.
    pub body: String,
    #[serde(serialize_with = "ser_hex")]
    pub prev_hash: [u8; 32],
    #[serde(serialize_with = "ser_hex")]
    pub hash: [u8; 32],
}

fn ser_hex<S: serde::Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex(h))
}

impl Entry {
    /// The hashed columns.
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            register_id: &self.register_id,
            seq: self.seq,
            kind: self.kind.as_str(),
            event_code: &self.event_code,
            at_ms: self.at_ms,
            local_date: &self.local_date,
            local_time: &self.local_time,
            operator_id: self.operator_id,
            session_id: self.session_id.as_deref(),
            operation_id: self.operation_id.as_deref(),
            ref_seq: self.ref_seq,
            nr: self.nr,
            gross_minor: self.gross_minor,
            net_minor: self.net_minor,
            signature: self.signature.as_deref(),
            key_version: self.key_version.as_deref(),
            body: &self.body,
        }
    }

    /// The body as JSON.
    pub fn body_json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_str(&self.body).map_err(|e| format!("is not JSON ({e})"))
    }

    /// A sale's or return's `total` as its body says.
    pub fn body_total(&self) -> Result<Totals, String> {
        let v = self.body_json()?;
        serde_json::from_value(v["total"].clone()).map_err(|e| format!("has no total ({e})"))
    }

    /// A sale's body.
    pub fn sale(&self) -> Result<body::SaleBody, String> {
        serde_json::from_str(&self.body)
            .map_err(|e| format!("entry {}: not a sale body ({e})", self.seq))
    }

    /// A return's body.
    pub fn return_body(&self) -> Result<body::ReturnBody, String> {
        serde_json::from_str(&self.body)
            .map_err(|e| format!("entry {}: not a return body ({e})", self.seq))
    }
}
