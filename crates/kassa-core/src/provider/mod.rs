//! The provider framework: one trait every payment provider implements, the capability list,
//! and the errors provider clients return.
//!
//! Each provider lives in its own module (`provider::<name>`): a client (URLs, auth, request
//! building, response and error handling) and a `wire` module with the provider's own field
//! names and the mapping to and from Kassa's types. The rest of Kassa sees only [`Provider`].
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

mod client;
pub(crate) mod common;
mod error;

pub use client::ClientBase;
pub use common::{api_url, is_cancel_return, query_pairs, CANCELLED_MARK};
pub use error::{ErrorKind, ProviderError};

use crate::http::Http;
use crate::quote::PricedOrder;
use crate::secrets::{CredentialKey, Secret, SecretStore};
use crate::session::{SessionId, Status};
use crate::settings::Settings;

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
    /// Now and the session's requested expiry (Unix ms).
    pub now: i64,
    pub expires_at: i64,
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
    /// The embedded checkout window reached the return URL (`url`, with whatever the provider
    /// appended). A return is never itself proof of payment: providers whose return carries
    /// evidence check it here, and Kassa then asks [`Provider::status`]. Default: nothing to
    /// read, ask the provider.
    fn returned(&self, session: &SessionRef, url: &str) -> Result<Returned, ProviderError> {
        let _ = (session, url);
        Ok(Returned::default())
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

/// Builds the client of a configured provider from the settings and the keyring.
/// `profile`: `test` or `live`, default the provider's `profile` setting. The demo provider is
/// built by the shells (it needs the sandbox, which the core does not depend on).
pub fn from_settings(
    name: &str,
    profile: Option<&str>,
    settings: &Settings,
    secrets: &dyn SecretStore,
    http: &Http,
) -> Result<Box<dyn Provider>, ProviderError> {
    let config = |m: String| ProviderError::new(name, ErrorKind::Config(m));
    let profile = profile
        .map(str::to_string)
        .unwrap_or_else(|| settings.profile(name));
    crate::settings::check_profile(&profile).map_err(|e| config(e.to_string()))?;
    let setting = |key: &str| -> Result<Option<String>, ProviderError> {
        settings
            .get(&format!("{name}.{key}"))
            .map_err(|e| config(e.to_string()))
    };
    let required = |key: &str| -> Result<String, ProviderError> {
        setting(key)?.ok_or_else(|| {
            config(format!(
                "{name}.{key} is not set (kassa-cli config set {name}.{key} …)"
            ))
        })
    };
    let secret = |field: &str| -> Result<Secret, ProviderError> {
        secrets
            .get(&CredentialKey::new(name, &profile, field))
            .map_err(|e| match e {
                // A credential never set is a setup problem like a missing setting; a keyring
                // that is absent, locked or refusing is a system problem.
                crate::secrets::SecretError::Missing(_) => config(e.to_string()),
                _ => ProviderError::new(name, ErrorKind::Credentials(e.to_string())),
            })
    };
    match name {
        "dintero" => {
            let cfg = dintero::DinteroConfig {
                label: "dintero".into(),
                account_id: required("account_id")?,
                profile_id: required("profile_id")?,
                base_url: setting("base_url")?,
                client_id: secret("client_id")?,
                client_secret: secret("client_secret")?,
                profile,
            };
            Ok(Box::new(dintero::Dintero::new(cfg, http.clone())?))
        }
        "bambora" => {
            let md5_key = match secret("md5_key") {
                Ok(k) => Some(k),
                // Only the webview's accept URL needs it; the QR flow works without.
                Err(ProviderError {
                    kind: ErrorKind::Config(_),
                    ..
                }) => None,
                Err(e) => return Err(e),
            };
            let cfg = bambora::BamboraConfig {
                label: "bambora".into(),
                merchant_number: required("merchant_number")?,
                payment_window_id: required("payment_window_id")?
                    .parse()
                    .map_err(|_| config("bambora.payment_window_id is not a number".into()))?,
                session_path: required("session_path")?,
                language: bambora::language(&settings.get("shop.locale").ok().flatten().unwrap_or_default()),
                base_url: setting("base_url")?,
                access_token: secret("access_token")?,
                secret_token: secret("secret_token")?,
                md5_key,
                profile,
            };
            Ok(Box::new(bambora::Bambora::new(cfg, http.clone())))
        }
        "klarna" => {
            let shop = crate::settings::ShopSettings::from_settings(settings);
            let cfg = klarna::KlarnaConfig {
                label: "klarna".into(),
                region: required("region")?,
                acquiring_channel: required("acquiring_channel")?,
                purchase_country: klarna::purchase_country(
                    setting("purchase_country")?.as_deref(),
                    &shop.currency,
                )
                .map_err(config)?,
                language: shop.locale,
                base_url: setting("base_url")?,
                username: secret("username")?,
                password: secret("password")?,
                profile,
            };
            Ok(Box::new(klarna::Klarna::new(cfg, http.clone())))
        }
        "opencharge" => {
            let ocid = |key: &str| -> Result<u64, ProviderError> {
                required(key)?
                    .parse()
                    .map_err(|_| config(format!("opencharge.{key} is not an OCID")))
            };
            let cfg = opencharge::OpenchargeConfig {
                label: "opencharge".into(),
                ocid: ocid("ocid")?,
                gateway_url: required("gateway_url")?,
                gateway_ocid: ocid("gateway_ocid")?,
                mode: opencharge::Mode::parse(&required("mode")?).map_err(config)?,
                sign_items: required("sign_items")? == "true",
                private_key: secret("private_key")?,
                profile,
            };
            Ok(Box::new(opencharge::Opencharge::new(cfg, http.clone())?))
        }
        "commercelayer" => {
            let shop = crate::settings::ShopSettings::from_settings(settings);
            let cfg = commercelayer::CommerceLayerConfig {
                label: "commercelayer".into(),
                organization: required("organization")?,
                market_id: required("market")?,
                address_id: required("address_id")?,
                language: shop.locale,
                base_url: setting("base_url")?,
                client_id: secret("client_id")?,
                client_secret: secret("client_secret")?,
                sales_channel_client_id: secret("sales_channel_client_id")?,
                profile,
            };
            Ok(Box::new(commercelayer::CommerceLayer::new(cfg, http.clone())))
        }
        other => Err(ProviderError::new(
            other,
            ErrorKind::Config(format!(
                "{other:?} is not a provider (demo, dintero, bambora, klarna, commercelayer, opencharge)"
            )),
        )),
    }
}
