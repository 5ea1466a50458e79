//! [`Code`]: the stable code every error Kassa shows carries, to the UI (`{code, message, …}`)
//! and to scripts (`kassa-cli` prints it in brackets). The UI picks a cashier's words by it
//! (`ui/i18n.js`, `err.<code>`) and never reads the message, which is for "details" and logs.
//!
//! One enum for all of Kassa's errors, so the UI's vocabulary is one list. The rule (from
//! GitButler's `but-error`): add a variant only when an error returns it, and give it an `en`
//! and an `nb` text in `ui/i18n.js` in the same change (the app's tests fail otherwise). The
//! wire strings are the variant names in snake_case and never change: the UI and scripts
//! match on them.

/// A stable code enum: serialized as each variant's snake_case name (`$text`, which must be
/// that name), with `ALL` in declaration order and `as_str`. Shared with
/// [`crate::field_code::FieldCode`].
macro_rules! stable_codes {
    ($(#[$enum_doc:meta])* $name:ident { $($(#[$doc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire string (what serde writes).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }
    };
}
pub(crate) use stable_codes;

stable_codes! {
/// A stable error code. Serialized as its snake_case name, e.g. `provider_auth`.
Code {
    // ---- a provider call (`ProviderError`) ----
    /// A provider setting is missing or wrong, or a credential was never set.
    ProviderConfig = "provider_config",
    /// The keyring is absent, locked or refused while building a provider client.
    Credentials = "credentials",
    /// The provider does not support the operation (or the presentation).
    Unsupported = "unsupported",
    /// The connection could not be made: nothing was sent.
    NetworkUnreachable = "network_unreachable",
    /// No answer in time.
    Timeout = "timeout",
    /// The connection broke after the request was sent.
    Network = "network",
    /// 401/403: the provider refused the credentials.
    ProviderAuth = "provider_auth",
    /// 429.
    RateLimited = "rate_limited",
    /// 5xx.
    ProviderUnavailable = "provider_unavailable",
    /// 404: the provider does not know the session.
    ProviderNotFound = "provider_not_found",
    /// Another 4xx: the provider refused the request.
    ProviderRejected = "provider_rejected",
    /// An answer that is not what the provider's API documents.
    ProviderBadResponse = "provider_bad_response",
    /// The provider computed the order differently from Kassa's quote.
    ProviderMismatch = "provider_mismatch",

    // ---- the session log (`StoreError`) ----
    /// `sessions.db` is not an SQLite database.
    StoreNotADatabase = "store_not_a_database",
    /// `sessions.db` is another program's database.
    StoreNotKassa = "store_not_kassa",
    /// `sessions.db` was written by a newer Kassa.
    StoreNewerVersion = "store_newer_version",
    /// The session log cannot be written (read-only disk or file).
    StoreReadOnly = "store_read_only",
    /// The disk is full.
    StoreDiskFull = "store_disk_full",
    /// Another process holds the session log too long.
    StoreBusy = "store_busy",
    /// The session log is damaged.
    StoreCorrupt = "store_corrupt",
    /// The session log cannot be opened.
    StoreCannotOpen = "store_cannot_open",
    /// No session with that id.
    SessionNotFound = "session_not_found",
    /// The session's status does not allow the change (e.g. cancelling a paid session).
    IllegalTransition = "illegal_transition",
    /// Another session-log failure.
    StoreError = "store_error",

    // ---- a checkout step (`CheckoutError`) ----
    /// The in-flight lock of a new session could not be taken.
    LockFailed = "lock_failed",
    /// A capture, refund or void of a session that is not paid.
    NotPaid = "not_paid",
    /// More than can be captured or refunded (of the sale, or of a line).
    AmountExceeds = "amount_exceeds",
    /// A void of an authorization that was captured (or already voided).
    NotVoidable = "not_voidable",
    /// Kassa lacks the provider's id of the payment the operation needs.
    NoPaymentId = "no_payment_id",
    /// Another capture, refund or void of the sale is in progress (or the provider is still
    /// capturing it by itself).
    OperationInProgress = "operation_in_progress",

    // ---- payment links ----
    /// The provider cannot send this link (by this channel, or again): copy the link.
    CannotSend = "cannot_send",
    /// Only an expired or cancelled link is renewed (and only once); only an open one is sent.
    NotRenewable = "not_renewable",
    // ---- the journal and operators (`StoreError`, `OperatorError`) ----
    /// The journal's signing key cannot be had from the OS keyring (so no sale or refund may
    /// start), or a sale's amounts cannot be signed.
    SigningKey = "signing_key",
    /// A receipt was copied already (one copy per receipt).
    CopyExists = "copy_exists",
    /// The session has no such receipt in the journal (not paid, or not refunded).
    NoReceipt = "no_receipt",
    /// The register has its Z report of today already (one Z per register per day).
    ZReportExists = "z_report_exists",
    /// A report's figures (or an entry it reads) do not add up: no report is made.
    ReportInconsistent = "report_inconsistent",
    /// The PIN was wrong.
    WrongPin = "wrong_pin",
    /// No such operator (or removed).
    NoSuchOperator = "no_such_operator",
    /// A cashier asked for what needs a manager (refund, void, staff confirmations).
    ManagerRequired = "manager_required",
    /// Operators are configured and nobody is logged in.
    LoginRequired = "login_required",

    // ---- receipts and the receipt printer (`PrintingError`, `ReceiptError`, `PrintError`) ----
    /// The original receipt was printed or saved already: a second one is a copy.
    ReceiptIssued = "receipt_issued",
    /// The shop's details a receipt must show are missing (the organisation number).
    ReceiptIncomplete = "receipt_incomplete",
    /// The receipt could not be made (figures that do not add up, a PDF or ESC/POS failure).
    ReceiptError = "receipt_error",
    /// No receipt printer is set (`printer.url`).
    NoPrinter = "no_printer",
    /// The receipt printer cannot be reached or is not connected: nothing was printed.
    PrinterUnreachable = "printer_unreachable",
    /// This user may not write to the printer's device file, or its port cannot be set up.
    PrinterPermission = "printer_permission",
    /// The printer stopped part way (paper, cover, cable).
    PrinterInterrupted = "printer_interrupted",
    /// A receipt file (PDF, ESC/POS) could not be written.
    FileWrite = "file_write",

    // ---- the till's operations (`TillError`) ----
    /// Field problems (the error lists them).
    InvalidInput = "invalid_input",
    /// `settings.json` cannot be read or written.
    Settings = "settings",
    /// A credential is not in the keyring.
    CredentialMissing = "credential_missing",
    /// The keyring is absent, locked or refused.
    Keyring = "keyring",
    /// The cart's reference was already charged and that session ended unpaid.
    ReferenceUsed = "reference_used",
    /// The product list cannot be read or written.
    Products = "products",
    /// The shop's hub cannot be reached (down, network): shop-wide views wait; selling does not.
    HubUnreachable = "hub_unreachable",
    /// The shop's hub refused (password, not set up, a newer or foreign database).
    Hub = "hub",
    /// The history export cannot be written.
    Export = "export",

    // ---- the desktop shell ----
    /// Kassa has no data directory (no home directory, or it cannot be created).
    DataDir = "data_dir",
    /// A window could not be opened.
    Window = "window",
    /// A command stopped unexpectedly (a bug).
    Internal = "internal",
}
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn the_wire_strings_are_what_serde_writes_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str()),
                "{code:?}"
            );
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
        assert_eq!(Code::ProviderAuth.to_string(), "provider_auth");
    }
}
