//! The provider framework: one trait every payment provider implements, the capability list,
//! the registry of providers, and the errors provider clients return.
//!
//! Each provider lives in its own folder (`provider::<name>`): a client (URLs, auth, request
//! building, response and error handling) built on [`ClientBase`], a `wire` module with the
//! provider's own field names and the mapping to and from Kassa's types, a `spec` (its
//! settings, secrets, checkout domains and how to build the client, listed in [`REGISTRY`])
//! and its fuzz entry point. The rest of Kassa sees only [`Provider`] and the specs. What the
//! clients share (`client`, `common`, `error`, `spec`) names no provider.
//!
//! Rules every implementation follows:
//! - `paid` only on the provider's evidence (each module documents what counts); a redirect
//!   to a return URL is never evidence.
//! - `create` is never retried blindly: the caller ([`crate::checkout`]) marks a session
//!   `unknown` when a create may have reached the provider, and reconciliation asks before
//!   anything is created again. Status reads retry (see [`crate::http`]).
//! - Errors keep the provider's code, message and HTTP status, and never hold a secret.

pub mod bambora;
pub mod commercelayer;
pub mod dintero;
pub mod klarna;
pub mod opencharge;

pub mod cache;
mod client;
pub(crate) mod common;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod fuzz;
pub mod operation;
pub mod spec;

pub use client::ClientBase;
pub use common::{api_url, is_cancel_return, query_pairs, CANCELLED_MARK};
pub use error::{ErrorKind, ProviderError};
pub use operation::{
    AtSaleCapture, CapturePolicy, OperationAnswer, OperationKind, OperationLine, OperationRequest,
    PaymentState, ProviderOperation, ProviderOutcome,
};

use crate::http::Http;
use crate::link::{Channel, Contact, LinkRules, SaleKind};
use crate::quote::PricedOrder;
use crate::secrets::SecretStore;
use crate::session::{SessionId, Status};
use spec::{SettingValues, Setup, Spec};

/// How the checkout URL will be shown (`"qr"` or `"webview"` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presentation {
    /// A QR code the customer scans with their own phone.
    Qr,
    /// The provider's page in a window on the till.
    Webview,
}

/// What a provider can do; the UI and the CLI consult it before offering an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    /// An open session can be cancelled at the provider.
    pub cancel: bool,
    /// The checkout URL works on the customer's phone (QR).
    pub qr: bool,
    /// The checkout URL works in the embedded webview.
    pub webview: bool,
    /// The provider's status answers are machine-checkable evidence of payment.
    pub verifiable_status: bool,
    /// A session whose create got no answer can be looked up by merchant reference.
    pub find_by_reference: bool,
    /// How a sale is captured under [`CapturePolicy::AtSale`].
    pub at_sale_capture: AtSaleCapture,
    /// An authorized payment can be captured by API ([`Provider::capture`]).
    pub capture: bool,
    /// A captured payment can be refunded by API ([`Provider::refund`]).
    pub refund: bool,
    /// Refunds carry the refunded order lines to the provider (else an amount only; Kassa
    /// still records which lines a refund covers).
    pub refund_lines: bool,
    /// An authorization not captured can be voided by API ([`Provider::void`]).
    pub void: bool,
    /// The provider keeps Kassa's operation id on its captures and refunds, so whether an
    /// operation with an unclear outcome happened is found by that reference; otherwise
    /// `checkout` compares the provider's operations with those read just before sending.
    pub operation_references: bool,
    /// Link sales: how long the provider keeps a link payable and whether it sends links
    /// itself ([`Provider::send_link`]).
    pub link: LinkRules,
}

/// Everything a provider needs to create a checkout session.
#[derive(Debug, Clone)]
pub struct CreateRequest<'a> {
    pub session_id: &'a SessionId,
    pub order: &'a PricedOrder,
    /// Where the provider sends the customer after paying.
    pub return_url: &'a str,
    /// Where the provider sends the customer after cancelling (providers without a separate
    /// cancel URL use `return_url`).
    pub cancel_url: &'a str,
    pub presentation: Presentation,
    /// Capture at once when authorized, or leave authorized ([`Capabilities::at_sale_capture`]
    /// says how the provider does the former).
    pub capture: CapturePolicy,
    /// Now and the session's requested expiry (Unix ms), already within
    /// [`LinkRules::max_ms`].
    pub now: i64,
    pub expires_at: i64,
    /// A counter sale or a link the customer pays later (Bambora: a Payment Request).
    pub sale: SaleKind,
    /// Send the link to this customer where the provider sends only at creation (Dintero's
    /// `publish`); others send after the create ([`Provider::send_link`]).
    pub send: Option<&'a Contact>,
}

/// The provider's answer to a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub provider_session_id: String,
    pub checkout_url: String,
    /// What the QR code encodes: only the checkout URL.
    pub qr_payload: String,
    pub expires_at: Option<i64>,
    /// What else the provider said that the session log should keep (appended to the
    /// `opened` event), e.g. Commerce Layer's checkout.com payment session id.
    pub detail: Option<String>,
    /// What the provider said about sending the link at creation (only where
    /// [`CreateRequest::send`] was given and the provider sends at creation).
    pub sent: Option<Sent>,
}

/// A checkout session the provider holds for a merchant reference, found after a create whose
/// answer Kassa never recorded ([`Provider::find_session`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSession {
    pub provider_session_id: String,
    /// The session's checkout URL (what the customer was sent, where the provider sent it).
    pub checkout_url: String,
    pub expires_at: Option<i64>,
    /// What the session says now (open, paid, expired, …).
    pub report: StatusReport,
}

/// The provider's answer to sending a link to the customer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    pub channel: Channel,
    /// The provider's own word for the delivery (Dintero's `publish[].status`: `sent`,
    /// `skipped`, `failed`; Klarna and Bambora answer only that they took it: `accepted`).
    pub status: String,
    /// What the session log keeps: the provider's words, with the contact masked.
    pub detail: String,
}

/// A session as the provider client needs to look it up.
#[derive(Debug, Clone)]
pub struct SessionRef<'a> {
    pub provider_session_id: Option<&'a str>,
    pub merchant_reference: &'a str,
    /// The amount and currency the customer must pay: evidence of a smaller payment is not
    /// `paid`.
    pub gross: i64,
    pub currency: &'a str,
    pub now: i64,
    /// When the session expires (as the provider said at create, or Kassa's own limit).
    pub expires_at: Option<i64>,
    /// The provider's id of the payment, where it differs from the session's and arrived
    /// later (Bambora's `txnid` from a verified accept URL).
    pub provider_payment_id: Option<&'a str>,
}

/// What the provider says about a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub status: Status,
    /// The provider's own words, e.g. `transaction T12345678.4x… AUTHORIZED`.
    pub detail: String,
    /// The provider's id of the payment, when this read saw one and it differs from the
    /// session's id (Dintero's transaction id, Klarna's order id): `checkout` records it as
    /// the session's `provider_payment_id`, which capture, refund and void need.
    pub payment_id: Option<String>,
}

/// What a provider made of the return URL an embedded checkout window reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Returned {
    /// A payment id the URL carried and the provider verified (e.g. Bambora's `txnid` after its
    /// MD5 `hash` matched): kept in the session log for later status reads.
    pub payment_id: Option<String>,
    /// A status the URL settles by itself (the customer cancelled; a forged hash needs
    /// review). `None`: ask the provider ([`Provider::status`]).
    pub report: Option<StatusReport>,
}

/// The one interface Kassa has to a payment provider.
pub trait Provider: Send + Sync {
    /// The client's name, profile, capabilities and HTTP plumbing.
    fn base(&self) -> &ClientBase;
    /// The name sessions are logged under (`dintero`, `demo`, …).
    fn name(&self) -> &str {
        self.base().label()
    }
    /// `test` or `live`.
    fn profile(&self) -> &str {
        self.base().profile()
    }
    fn capabilities(&self) -> Capabilities {
        self.base().capabilities()
    }
    /// Creates a checkout session. Never retried by the client.
    fn create(&self, req: &CreateRequest) -> Result<Created, ProviderError>;
    /// Reads a session's status.
    fn status(&self, session: &SessionRef) -> Result<StatusReport, ProviderError>;
    /// Cancels an unpaid session and reports the status after it.
    fn cancel(&self, session: &SessionRef) -> Result<StatusReport, ProviderError> {
        let _ = session;
        Err(self.unsupported("cancel"))
    }
    /// Looks for a session (or its payment) by merchant reference, for a create that got no
    /// answer. `Ok(None)`: the provider has no payment for this reference.
    fn find_by_reference(
        &self,
        session: &SessionRef,
    ) -> Result<Option<StatusReport>, ProviderError> {
        let _ = session;
        Err(self.unsupported("find_by_reference"))
    }
    /// Looks for the checkout session itself (not only its payment) by merchant reference, for
    /// a link whose create got no answer: the provider may have created it and sent it to the
    /// customer during the create (Dintero's `publish`), so the customer may hold a live link.
    /// `Ok(None)`: the provider holds no session with this reference (the create never reached
    /// it, so nothing was sent). Providers that cannot look one up refuse with
    /// [`ErrorKind::Unsupported`].
    fn find_session(&self, session: &SessionRef) -> Result<Option<FoundSession>, ProviderError> {
        let _ = session;
        Err(self.unsupported("finding a checkout session by reference"))
    }
    /// The embedded checkout window reached the return URL (`url`, with whatever the provider
    /// appended). A return is never itself proof of payment: providers whose return carries
    /// evidence check it here, and Kassa then asks [`Provider::status`]. Default: nothing to
    /// read, ask the provider.
    fn returned(&self, session: &SessionRef, url: &str) -> Result<Returned, ProviderError> {
        let _ = (session, url);
        Ok(Returned::default())
    }
    /// The provider's record of a paid session's money: authorized, captured and refunded
    /// amounts and its operations ([`PaymentState`]), the evidence for capture, refund and
    /// void. Uses the provider's payment id ([`SessionRef::provider_payment_id`]) where it
    /// differs from the session's.
    fn payment_state(&self, session: &SessionRef) -> Result<PaymentState, ProviderError> {
        let _ = session;
        Err(self.unsupported("reading the payment"))
    }
    /// Captures `op.amount` of an authorized payment. Sent once (see [`operation`]).
    fn capture(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        let _ = op;
        Err(self.unsupported("capture"))
    }
    /// Refunds `op.amount` (with `op.lines` where the provider takes lines) of a captured
    /// payment. Sent once.
    fn refund(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        let _ = op;
        Err(self.unsupported("refund"))
    }
    /// Voids the authorization that was not captured. Sent once.
    fn void(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        let _ = op;
        Err(self.unsupported("void"))
    }
    /// Refuses a contact this provider cannot send to (checked before anything is created).
    fn check_contact(&self, to: &Contact) -> Result<(), ProviderError> {
        let _ = to;
        Ok(())
    }
    /// Sends an open session's link to the customer through the provider (Klarna's
    /// distribution, Bambora's e-mail notification). Providers that cannot
    /// ([`LinkRules::resend`]) refuse with [`ErrorKind::Unsupported`]. Sent once: a message
    /// is not worth the risk of a second one.
    fn send_link(&self, session: &SessionRef, to: &Contact) -> Result<Sent, ProviderError> {
        let _ = (session, to);
        Err(self.unsupported("sending the link (copy the link or its QR code instead)"))
    }
    /// Makes a harmless authenticated call (no session is created) and says what it proved,
    /// for the settings screen's "test connection".
    fn check_connection(&self) -> Result<String, ProviderError> {
        Err(self.unsupported("test connection"))
    }
    /// The error for an operation this provider does not support.
    fn unsupported(&self, operation: &'static str) -> ProviderError {
        ProviderError::new(self.name(), ErrorKind::Unsupported { operation })
    }
}

/// Every provider Kassa knows, in the order the settings screen lists them. The demo provider
/// is not here: the shells supply it ([`cache::Clients`]), and it needs no settings. A new
/// provider is its own folder (`provider/<name>/`: client, `wire`, `spec`) plus one line here.
pub const REGISTRY: &[&Spec] = &[
    &bambora::spec::SPEC,
    &dintero::spec::SPEC,
    &klarna::spec::SPEC,
    &commercelayer::spec::SPEC,
    &opencharge::spec::SPEC,
];

/// The spec of the provider called `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    REGISTRY.iter().copied().find(|p| p.name == name)
}

/// The providers' names, for messages: `bambora, dintero, …`.
pub fn names() -> String {
    REGISTRY
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the client of a configured provider from the settings and the keyring.
/// `profile`: `test` or `live`, default the provider's `profile` setting. The demo provider is
/// built by the shells (it needs the sandbox, which the core does not depend on).
pub fn from_settings(
    name: &str,
    profile: Option<&str>,
    values: &dyn SettingValues,
    secrets: &dyn SecretStore,
    http: &Http,
) -> Result<Box<dyn Provider>, ProviderError> {
    let config = |m: String| ProviderError::new(name, ErrorKind::Config(m));
    let profile = profile.map(str::to_string).unwrap_or_else(|| {
        values
            .value(&format!("{name}.profile"))
            .unwrap_or_else(|| "test".into())
    });
    spec::valid_profile(&profile).map_err(|r| config(format!("--profile: {r}")))?;
    let spec = spec(name)
        .ok_or_else(|| config(format!("{name:?} is not a provider (demo, {})", names())))?;
    (spec.build)(&Setup {
        name: spec.name,
        profile,
        values,
        secrets,
        http,
    })
}
