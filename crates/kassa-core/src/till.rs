//! The till: what a counter shell (the desktop app) does, as plain functions over the session
//! log, the settings, the product list, the keyring and the providers. The Tauri commands are
//! one call each into this module; every amount and status text they show comes from here.
//!
//! - [`Till::charge`] is idempotent per cart reference: a repeated charge of the same cart
//!   (double click, key repeat, a retried IPC call) returns the session already started.
//! - [`follow`] polls one open session about every 2 s on its own thread and its own database
//!   connection, backs off on errors, and reports each change through a callback.
//! - [`navigation`] decides where an embedded checkout page may go.
//! - [`TillError`] is flat and serializable: a stable `code` the UI translates into a
//!   cashier's words, the technical `message` one click away, and the session it concerns.

use crate::catalog::{self, Catalog, ProductEntry};
use crate::checkout::{self, ChargeRequest, CheckoutError, DEFAULT_RETURN_URL};
use crate::code::Code;
use crate::counter::{self, Cart, CartLine, LineEntry, VatRowView};
use crate::money::Currency;
use crate::order::Problem;
pub use crate::provider::cache::ProviderSource;
use crate::provider::{Capabilities, Presentation, Provider, ProviderError};
use crate::secrets::{CredentialKey, Secret, SecretError, SecretStore};
use crate::session::{SessionId, Status};
use crate::settings::{self, Settings, SettingsError, ShopSettings};
use crate::store::{EventRecord, Filter, SessionLog, SessionRecord, StoreError};
use crate::time::{format_rfc3339, now_millis, parse_utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// How often an open session is polled (the "about every 2 s").
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// The longest wait between polls while the provider keeps failing.
pub const POLL_MAX_BACKOFF: Duration = Duration::from_secs(30);

/// An error as a shell shows it. Never holds a secret (its parts never do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TillError {
    /// Stable: the UI picks its words by this.
    pub code: Code,
    /// The technical detail, for "show details" and the logs.
    pub message: String,
    /// The session the error concerns (it is in the history with this attempt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Field problems (path = the field), for errors shown next to a form field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for TillError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

impl std::error::Error for TillError {}

impl TillError {
    pub fn new(code: Code, message: impl Into<String>) -> TillError {
        TillError {
            code,
            message: message.into(),
            session_id: None,
            problems: Vec::new(),
        }
    }

    /// Field problems: `invalid_input` with one line per problem.
    pub fn invalid(problems: Vec<Problem>) -> TillError {
        let message = problems
            .iter()
            .map(Problem::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        TillError {
            problems,
            ..TillError::new(Code::InvalidInput, message)
        }
    }

    fn field(path: &str, reason: impl Into<String>) -> TillError {
        TillError::invalid(vec![Problem {
            path: path.into(),
            reason: reason.into(),
        }])
    }
}

impl From<StoreError> for TillError {
    fn from(e: StoreError) -> TillError {
        TillError::new(e.code(), e.to_string())
    }
}

impl From<ProviderError> for TillError {
    fn from(e: ProviderError) -> TillError {
        TillError::new(e.code(), e.to_string())
    }
}

impl From<CheckoutError> for TillError {
    fn from(e: CheckoutError) -> TillError {
        let code = e.code();
        match e {
            CheckoutError::Provider {
                session_id, error, ..
            } => TillError {
                session_id: Some(session_id),
                ..TillError::new(code, error.to_string())
            },
            other => TillError::new(code, other.to_string()),
        }
    }
}

impl From<SettingsError> for TillError {
    fn from(e: SettingsError) -> TillError {
        match &e {
            SettingsError::Invalid { key, reason } => TillError::field(key, reason.clone()),
            _ => TillError::new(Code::Settings, e.to_string()),
        }
    }
}

impl From<SecretError> for TillError {
    fn from(e: SecretError) -> TillError {
        let code = match e {
            SecretError::Missing(_) => Code::CredentialMissing,
            _ => Code::Keyring,
        };
        TillError::new(code, e.to_string())
    }
}

/// An amount typed in major units (`"10,50"`) in minor units of `currency`.
pub fn parse_amount(text: &str, currency: &str) -> Result<i64, TillError> {
    let c = Currency::from_code(currency).ok_or_else(|| {
        TillError::field(
            "currency",
            format!("{currency:?} is not a known ISO 4217 currency code"),
        )
    })?;
    c.parse_major(text)
        .map_err(|r| TillError::field("amount", r))
}

/// A provider the charge dialog offers.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderChoice {
    pub name: String,
    pub profile: String,
    pub demo: bool,
    pub default: bool,
}

/// A session as the screens show it. Amounts are formatted for the shop's locale.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: String,
    pub provider: String,
    pub profile: String,
    pub demo: bool,
    pub provider_session_id: Option<String>,
    pub reference: String,
    pub currency: String,
    pub amount: String,
    pub status: Status,
    /// Paid, cancelled, expired or failed: nothing will change any more.
    pub is_final: bool,
    pub checkout_url: Option<String>,
    /// The QR code (SVG) of the checkout URL while the session is open.
    pub qr_svg: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: Option<String>,
    pub last_error: Option<String>,
    /// For `unknown` and `needs_review`: what staff should check.
    pub attention: Option<String>,
    /// Why the session ended, in the provider's or Kassa's words (the last status event).
    pub reason: Option<String>,
    pub can_cancel: bool,
    /// Staff may record that the customer says they paid (an open session at a provider whose
    /// status Kassa cannot read, e.g. Opencharge): the session then needs review.
    pub can_claim: bool,
    /// Staff may record what they found in the provider's back office (`needs_review`, or
    /// `unknown`: a create whose answer never came, which only staff can settle).
    pub can_review: bool,
    /// `staff` when staff, not the provider, confirmed the status.
    pub confirmed_by: Option<String>,
    /// Lines, VAT per rate and totals, from the priced order the session was created with.
    pub receipt: Option<Receipt>,
    /// The event timeline (detail views only).
    pub events: Vec<EventView>,
    /// Set by [`follow`] when the last status read failed (the session keeps its status).
    pub poll_error: Option<TillError>,
}

/// One event of a session's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub at: String,
    pub kind: String,
    pub status: Option<Status>,
    pub detail: String,
}

/// What a paid sale's receipt shows.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub lines: Vec<ReceiptLine>,
    pub vat_rows: Vec<VatRowView>,
    pub net: String,
    pub vat: String,
    pub gross: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReceiptLine {
    pub name: String,
    pub quantity: String,
    pub unit_price: String,
    pub discount: String,
    pub vat_rate: String,
    pub gross: String,
}

/// The logged priced order (the `quote --json` shape), as far as the receipt needs it.
#[derive(Deserialize)]
struct LoggedOrder {
    lines: Vec<LoggedLine>,
    vat_summary: Vec<LoggedVatRow>,
    total: LoggedTotals,
}

#[derive(Deserialize)]
struct LoggedLine {
    name: String,
    quantity: String,
    unit_price: i64,
    discount: i64,
    vat_rate: String,
    gross: i64,
}

#[derive(Deserialize)]
struct LoggedVatRow {
    vat_rate: String,
    net: i64,
    vat: i64,
    gross: i64,
}

#[derive(Deserialize)]
struct LoggedTotals {
    net: i64,
    vat: i64,
    gross: i64,
}

fn receipt(order_json: &str, fmt: &dyn Fn(i64) -> String) -> Option<Receipt> {
    let o: LoggedOrder = serde_json::from_str(order_json).ok()?;
    Some(Receipt {
        lines: o
            .lines
            .into_iter()
            .map(|l| ReceiptLine {
                name: l.name,
                quantity: l.quantity,
                unit_price: fmt(l.unit_price),
                discount: fmt(l.discount),
                vat_rate: l.vat_rate,
                gross: fmt(l.gross),
            })
            .collect(),
        vat_rows: o
            .vat_summary
            .into_iter()
            .map(|r| VatRowView {
                vat_rate: r.vat_rate,
                net: fmt(r.net),
                vat: fmt(r.vat),
                gross: fmt(r.gross),
            })
            .collect(),
        net: fmt(o.total.net),
        vat: fmt(o.total.vat),
        gross: fmt(o.total.gross),
    })
}

/// What staff should check for a session Kassa cannot settle by itself.
fn attention(s: &SessionRecord) -> Option<String> {
    match s.status {
        Status::Unknown => Some(format!(
            "Kassa could not learn from {} whether this session exists or was paid. \
             Refresh it; if it stays unknown, look up reference {} in {}'s portal before \
             charging the customer again.",
            s.provider, s.merchant_reference, s.provider
        )),
        Status::NeedsReview => Some(format!(
            "{} could not confirm this payment in a way Kassa can check. Look up reference {} \
             in {}'s portal, then record here whether it was paid.",
            s.provider, s.merchant_reference, s.provider
        )),
        Status::Creating => Some(
            "The session is being created (or the app stopped while creating it: it is \
             reconciled at the next start)."
                .into(),
        ),
        _ => None,
    }
}

/// How much of a session a view carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// A history row: no QR code, receipt or events.
    List,
    /// The session being charged: the QR code while open, the receipt once paid.
    Live,
    /// The detail view: everything.
    Detail,
}

/// Builds the view of a logged session (`events` give the reason; they are listed only at
/// [`Depth::Detail`]).
pub fn view(
    s: &SessionRecord,
    events: &[EventRecord],
    locale: &str,
    depth: Depth,
    caps: Option<Capabilities>,
) -> SessionView {
    let detail = depth == Depth::Detail;
    let currency = Currency::from_code(&s.currency);
    let fmt = |minor: i64| match currency {
        Some(c) => c.format_display(minor, locale),
        None => minor.to_string(),
    };
    let qr_svg = match (s.status, &s.qr_payload) {
        (Status::Open, Some(p)) if !p.is_empty() && depth != Depth::List => crate::qr::svg(p).ok(),
        _ => None,
    };
    let reason = events
        .iter()
        .rev()
        .find(|e| e.status.is_some())
        .map(|e| e.detail.clone());
    SessionView {
        id: s.id.clone(),
        provider: s.provider.clone(),
        profile: s.profile.clone(),
        demo: s.demo,
        provider_session_id: s.provider_session_id.clone(),
        reference: s.merchant_reference.clone(),
        currency: s.currency.clone(),
        amount: fmt(s.gross_minor),
        status: s.status,
        is_final: s.status.is_final(),
        checkout_url: s.checkout_url.clone(),
        qr_svg,
        created_at: format_rfc3339(s.created_at),
        updated_at: format_rfc3339(s.updated_at),
        expires_at: s.expires_at.map(format_rfc3339),
        last_error: s.last_error.clone(),
        attention: attention(s),
        reason,
        can_cancel: matches!(s.status, Status::Open | Status::Unknown)
            && caps.is_none_or(|c| c.cancel),
        can_claim: s.status == Status::Open && caps.is_some_and(|c| !c.verifiable_status),
        can_review: matches!(s.status, Status::NeedsReview | Status::Unknown),
        confirmed_by: s.confirmed_by.clone(),
        receipt: if detail || (depth == Depth::Live && s.status == Status::Paid) {
            receipt(&s.order_json, &fmt)
        } else {
            None
        },
        events: if detail {
            events
                .iter()
                .map(|e| EventView {
                    at: format_rfc3339(e.at),
                    kind: e.kind.clone(),
                    status: e.status,
                    detail: e.detail.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        poll_error: None,
    }
}

/// History filters as the screen sends them (dates are `YYYY-MM-DD`, UTC days).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoryQuery {
    pub status: Option<String>,
    pub provider: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub search: Option<String>,
    /// The last id of the previous page.
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// One page of the history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPage {
    pub sessions: Vec<SessionView>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

impl HistoryQuery {
    fn filter(&self) -> Result<Filter, TillError> {
        fn nonempty(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let date = |key: &str, v: &Option<String>| -> Result<Option<i64>, TillError> {
            nonempty(v)
                .map(|d| parse_utc(d).map_err(|r| TillError::field(key, r)))
                .transpose()
        };
        Ok(Filter {
            status: nonempty(&self.status)
                .map(|s| Status::parse(s).map_err(|r| TillError::field("status", r)))
                .transpose()?,
            provider: nonempty(&self.provider).map(str::to_string),
            since: date("since", &self.since)?,
            // "until" is inclusive of the whole day the staff picked.
            until: date("until", &self.until)?.map(|t| t + DAY_MS),
            search: nonempty(&self.search).map(str::to_string),
        })
    }
}

/// A setting as the settings screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub key: String,
    /// The value, or its default when not set.
    pub value: Option<String>,
    pub set: bool,
}

/// A secret field: only whether it is set, never its value.
#[derive(Debug, Clone, Serialize)]
pub struct SecretView {
    pub field: String,
    /// `None` when the keyring could not be asked (see `keyring_error`).
    pub set: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderSettingsView {
    pub name: String,
    pub profile: String,
    pub fields: Vec<FieldView>,
    pub secrets: Vec<SecretView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub unit_price_input: String,
    pub vat_rate: String,
}

/// Everything the settings screen shows.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub shop: Vec<FieldView>,
    pub providers: Vec<ProviderSettingsView>,
    pub products: Vec<ProductView>,
    pub keyring_error: Option<String>,
}

/// Where an embedded checkout page tries to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Navigation {
    /// The checkout page or another page of the provider.
    Allow,
    /// The return URL: the customer is done. Only a hint: the status is asked from the
    /// provider.
    Returned,
    /// Anywhere else: refused.
    Block,
}

/// `scheme://host[:port]` of a URL, lowercased; `None` for anything that is not http(s).
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    Some(format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

fn host(origin: &str) -> &str {
    let hp = origin.split_once("://").map_or(origin, |(_, r)| r);
    match hp.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => hp,
    }
}

/// Where the embedded checkout window may navigate: the checkout URL's origin, https pages on
/// the provider's own domains (`provider_domains`, e.g. `dintero.com` allows
/// `checkout.dintero.com`), and the return URL, which ends the page.
pub fn navigation(
    checkout_url: &str,
    provider_domains: &[&str],
    return_url: &str,
    target: &str,
) -> Navigation {
    let Some(to) = origin(target) else {
        // about:blank and data: frames the page itself makes carry no navigation power.
        return if target == "about:blank" {
            Navigation::Allow
        } else {
            Navigation::Block
        };
    };
    let path_of = |u: &str| {
        u.split_once("://")
            .and_then(|(_, r)| {
                r.find('/')
                    .map(|i| r[i..].split(['?', '#']).next().unwrap_or("/").to_string())
            })
            .unwrap_or_else(|| "/".into())
    };
    if origin(return_url).as_deref() == Some(to.as_str())
        && path_of(target).starts_with(&path_of(return_url))
    {
        return Navigation::Returned;
    }
    if origin(checkout_url).as_deref() == Some(to.as_str()) {
        return Navigation::Allow;
    }
    let h = host(&to);
    if to.starts_with("https://")
        && provider_domains
            .iter()
            .any(|d| h == *d || h.ends_with(&format!(".{d}")))
    {
        return Navigation::Allow;
    }
    Navigation::Block
}

/// The domains a provider's hosted checkout pages live on (see [`navigation`]): its spec's
/// [`checkout_domains`](crate::provider::spec::Spec::checkout_domains); none for the demo
/// provider, whose page is on the checkout URL's origin.
pub fn provider_domains(provider: &str) -> &'static [&'static str] {
    crate::provider::spec(provider).map_or(&[], |s| s.checkout_domains)
}

/// The till of one data directory.
pub struct Till<P: ProviderSource> {
    pub dir: PathBuf,
    pub log: SessionLog,
    pub settings: Settings,
    pub catalog: Catalog,
    providers: P,
    secrets: Arc<dyn SecretStore>,
    /// Cart reference → the session its charge started (idempotent charge).
    charges: HashMap<String, String>,
}

impl<P: ProviderSource> Till<P> {
    /// Opens the settings, the product list and the session log of `dir`.
    pub fn open(
        dir: &Path,
        providers: P,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, TillError> {
        let settings = Settings::load(dir)?;
        let catalog = Catalog::load(dir).map_err(|m| TillError::new(Code::Products, m))?;
        let log = SessionLog::open_in(dir)?;
        Ok(Till {
            dir: dir.to_path_buf(),
            log,
            settings,
            catalog,
            providers,
            secrets,
            charges: HashMap::new(),
        })
    }

    pub fn shop(&self) -> ShopSettings {
        ShopSettings::from_settings(&self.settings)
    }

    fn locale(&self) -> String {
        self.shop().locale
    }

    fn currency(&self) -> Result<Currency, TillError> {
        let code = self.shop().currency;
        Currency::from_code(&code)
            .ok_or_else(|| TillError::field("shop.currency", format!("{code:?} is not known")))
    }

    /// A fresh merchant reference for a new cart (or a new attempt at the same cart).
    pub fn new_reference(&self) -> String {
        crate::reference::generate_now()
    }

    /// A typed line: a known SKU (typed or scanned into the item field, no price given)
    /// becomes the product's line; anything else is parsed as typed.
    pub fn entry_to_line(&self, entry: &LineEntry) -> Result<CartLine, TillError> {
        if entry.unit_price.trim().is_empty() {
            if let Some(mut line) = self.catalog.line_for(&entry.name) {
                line.quantity = counter::parse_quantity(&entry.quantity)
                    .map_err(|r| TillError::field("quantity", r))?
                    .to_canonical();
                return Ok(line);
            }
        }
        counter::entry_to_line(entry, self.currency()?).map_err(TillError::invalid)
    }

    /// The providers the charge dialog offers: demo, plus every provider with settings.
    pub fn provider_choices(&self) -> Vec<ProviderChoice> {
        let default = self.shop().default_provider;
        let mut out = vec![ProviderChoice {
            name: "demo".into(),
            profile: "test".into(),
            demo: true,
            default: default == "demo",
        }];
        let explicit: Vec<String> = self
            .settings
            .all()
            .into_iter()
            .filter(|(_, _, set)| *set)
            .map(|(k, _, _)| k)
            .collect();
        for spec in crate::provider::REGISTRY {
            let prefix = format!("{}.", spec.name);
            if default == spec.name || explicit.iter().any(|k| k.starts_with(&prefix)) {
                out.push(ProviderChoice {
                    name: spec.name.into(),
                    profile: self.settings.profile(spec.name),
                    demo: false,
                    default: default == spec.name,
                });
            }
        }
        out
    }

    fn provider(
        &mut self,
        name: &str,
        profile: Option<&str>,
    ) -> Result<Arc<dyn Provider>, TillError> {
        Ok(self.providers.get(&self.settings, name, profile)?)
    }

    fn session_view(
        &self,
        id: &str,
        depth: Depth,
        caps: Option<Capabilities>,
    ) -> Result<SessionView, TillError> {
        let (s, events) = self.log.get(id)?;
        Ok(view(&s, &events, &self.locale(), depth, caps))
    }

    /// Starts a checkout session for `cart` (whose `reference` identifies the sale), or returns
    /// the one this reference already started. A reference whose session ended unpaid is
    /// refused: the shell asks for a fresh reference before charging again.
    pub fn charge(
        &mut self,
        cart: &Cart,
        provider_name: &str,
        presentation: Presentation,
    ) -> Result<SessionView, TillError> {
        let reference = cart
            .reference
            .clone()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| TillError::field("reference", "the cart has no reference"))?;
        let existing = match self.charges.get(&reference) {
            Some(id) => Some(self.log.get(id)?.0),
            None => self.log.find_by_reference(&reference)?,
        };
        if let Some(s) = existing {
            if matches!(
                s.status,
                Status::Cancelled | Status::Expired | Status::Failed
            ) {
                return Err(TillError {
                    session_id: Some(s.id.clone()),
                    ..TillError::new(
                        Code::ReferenceUsed,
                        format!(
                            "reference {reference} was already charged (session {} is {}); \
                             start the charge again",
                            s.id, s.status
                        ),
                    )
                });
            }
            return self.session_view(&s.id, Depth::Live, None);
        }
        let priced = crate::parse_order(&counter::cart_to_document(cart))
            .and_then(|o| crate::price(&o, &reference))
            .map_err(|e| TillError::invalid(e.problems()))?;
        if priced.total.gross <= 0 {
            return Err(TillError::field("total", "there is nothing to charge"));
        }
        let provider = self.provider(provider_name, None)?;
        let caps = provider.capabilities();
        let offered = match presentation {
            Presentation::Qr => caps.qr,
            Presentation::Webview => caps.webview,
        };
        if !offered {
            return Err(TillError::new(
                Code::Unsupported,
                format!(
                    "{provider_name} cannot show its checkout {}",
                    match presentation {
                        Presentation::Qr => "as a QR code",
                        Presentation::Webview => "in the embedded window",
                    }
                ),
            ));
        }
        let return_url = self.return_url();
        let now = now_millis();
        let id = SessionId::generate(now);
        let result = checkout::start(
            &mut self.log,
            &self.dir,
            provider.as_ref(),
            &ChargeRequest {
                order: &priced,
                presentation,
                return_url: &return_url,
                demo: provider_name == "demo",
                id: id.clone(),
                now,
            },
        );
        // Remember the reference once the session is in the log (started, or logged with the
        // failure); a charge that never reached the log leaves the reference free. `&mut self`
        // serializes charges, so no second charge can slip in between.
        if matches!(result, Ok(_) | Err(CheckoutError::Provider { .. })) {
            self.charges.insert(reference, id.as_str().to_string());
        }
        let session = result?;
        Ok(view(&session, &[], &self.locale(), Depth::Live, Some(caps)))
    }

    /// Where providers send the customer afterwards (`shop.return_url`).
    pub fn return_url(&self) -> String {
        self.settings
            .get("shop.return_url")
            .ok()
            .flatten()
            .unwrap_or_else(|| DEFAULT_RETURN_URL.into())
    }

    /// The provider client of a logged session (for [`follow`] and the webview's hosts).
    pub fn provider_of(&mut self, id: &str) -> Result<Arc<dyn Provider>, TillError> {
        let (s, _) = self.log.get(id)?;
        self.provider(&s.provider, Some(&s.profile))
    }

    /// A session with its receipt and timeline. Starts no provider client: "cancel" is offered
    /// for every open session, and a provider that cannot cancel says so when asked.
    pub fn session(&self, id: &str) -> Result<SessionView, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        self.session_view(id, Depth::Detail, None)
    }

    /// Asks the provider now (history's "refresh status").
    pub fn refresh(&mut self, id: &str) -> Result<SessionView, TillError> {
        let provider = self.provider_of(id)?;
        checkout::refresh(&mut self.log, provider.as_ref(), id, now_millis(), true)?;
        self.session_view(id, Depth::Detail, Some(provider.capabilities()))
    }

    /// Staff cancel an open session.
    pub fn cancel(&mut self, id: &str) -> Result<SessionView, TillError> {
        let provider = self.provider_of(id)?;
        checkout::cancel(&mut self.log, provider.as_ref(), id, now_millis())?;
        self.session_view(id, Depth::Detail, Some(provider.capabilities()))
    }

    /// Records what staff say about a session ([`checkout::review`]).
    pub fn review(
        &mut self,
        id: &str,
        verdict: checkout::Verdict,
        note: Option<&str>,
    ) -> Result<SessionView, TillError> {
        let provider = self.provider_of(id)?;
        let caps = provider.capabilities();
        checkout::review(
            &mut self.log,
            id,
            verdict,
            caps.verifiable_status,
            note,
            now_millis(),
        )?;
        self.session_view(id, Depth::Detail, Some(caps))
    }

    /// A page of the history, newest first.
    pub fn history(&self, q: &HistoryQuery) -> Result<HistoryPage, TillError> {
        let limit = q.limit.unwrap_or(50).clamp(1, 500);
        let rows = self.log.list(&q.filter()?, q.after.as_deref(), limit)?;
        let locale = self.locale();
        let next = (rows.len() == limit as usize)
            .then(|| rows.last().map(|s| s.id.clone()))
            .flatten();
        Ok(HistoryPage {
            sessions: rows
                .iter()
                .map(|s| view(s, &[], &locale, Depth::List, None))
                .collect(),
            next,
        })
    }

    /// Writes the filtered history as CSV to `path` (atomically); returns the row count.
    pub fn export_csv(&self, q: &HistoryQuery, path: &Path) -> Result<u64, TillError> {
        let filter = q.filter()?;
        let tmp = path.with_extension("csv.part");
        let fail = |e: std::io::Error| {
            TillError::new(
                Code::Export,
                format!("cannot write {}: {e}", path.display()),
            )
        };
        let write = || -> Result<u64, TillError> {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(fail)?);
            let n = self.log.export_csv(&filter, &mut out)?;
            std::io::Write::flush(&mut out).map_err(fail)?;
            drop(out);
            std::fs::rename(&tmp, path).map_err(fail)?;
            Ok(n)
        };
        // A failed export leaves no half file behind.
        write().inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }

    /// The settings screen's content. Secret fields show only whether they are set.
    pub fn settings_view(&self) -> SettingsView {
        let all = self.settings.all();
        let field = |(k, v, set): &(String, Option<String>, bool)| FieldView {
            key: k.clone(),
            value: v.clone(),
            set: *set,
        };
        let mut keyring_error = None;
        let providers = crate::provider::REGISTRY
            .iter()
            .map(|spec| {
                let profile = self.settings.profile(spec.name);
                let prefix = format!("{}.", spec.name);
                ProviderSettingsView {
                    name: spec.name.into(),
                    fields: all
                        .iter()
                        .filter(|(k, _, _)| k.starts_with(&prefix))
                        .map(field)
                        .collect(),
                    secrets: spec
                        .secrets
                        .iter()
                        .map(|f| SecretView {
                            field: f.to_string(),
                            set: match self
                                .secrets
                                .is_set(&CredentialKey::new(spec.name, &profile, f))
                            {
                                Ok(b) => Some(b),
                                Err(e) => {
                                    keyring_error.get_or_insert(e.to_string());
                                    None
                                }
                            },
                        })
                        .collect(),
                    profile,
                }
            })
            .collect();
        let currency = self.currency().ok();
        let locale = self.locale();
        SettingsView {
            shop: all
                .iter()
                .filter(|(k, _, _)| k.starts_with("shop.") || k == "default_provider")
                .map(field)
                .collect(),
            providers,
            products: self
                .catalog
                .products
                .iter()
                .map(|p| ProductView {
                    sku: p.sku.clone(),
                    name: p.name.clone(),
                    unit_price: currency.map_or(p.unit_price.to_string(), |c| {
                        c.format_display(p.unit_price, &locale)
                    }),
                    unit_price_input: currency
                        .map_or(p.unit_price.to_string(), |c| c.format_plain(p.unit_price)),
                    vat_rate: p.vat_rate.clone(),
                })
                .collect(),
            keyring_error,
        }
    }

    /// Sets (or, with an empty value, unsets) a setting, validated, and saves atomically.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<(), TillError> {
        let mut next = self.settings.clone();
        let value = value.trim();
        if value.is_empty() {
            next.unset(key)?;
        } else {
            next.set(key, value)?;
        }
        next.save(&self.dir)?;
        self.settings = next;
        self.providers.forget();
        Ok(())
    }

    /// Stores a credential in the keyring for the provider's current profile. The value goes
    /// straight to the keyring; an empty value deletes it.
    pub fn set_credential(
        &mut self,
        provider: &str,
        field: &str,
        value: Secret,
    ) -> Result<(), TillError> {
        settings::check_secret_field(provider, field)?;
        let key = CredentialKey::new(provider, &self.settings.profile(provider), field);
        if value.expose().is_empty() {
            match self.secrets.delete(&key) {
                Ok(()) | Err(SecretError::Missing(_)) => {}
                Err(e) => return Err(e.into()),
            }
        } else {
            self.secrets.set(&key, &value)?;
        }
        self.providers.forget();
        Ok(())
    }

    /// Makes a harmless authenticated call to the provider; returns what it proved.
    pub fn test_connection(&mut self, provider: &str) -> Result<String, TillError> {
        let p = self.provider(provider, None)?;
        Ok(p.check_connection()?)
    }

    /// Adds or replaces a product.
    pub fn save_product(&mut self, entry: &ProductEntry) -> Result<(), TillError> {
        let product =
            catalog::entry_to_product(entry, self.currency()?).map_err(TillError::invalid)?;
        let mut next = self.catalog.clone();
        next.add(product).map_err(TillError::invalid)?;
        next.save(&self.dir)
            .map_err(|m| TillError::new(Code::Products, m))?;
        self.catalog = next;
        Ok(())
    }

    pub fn remove_product(&mut self, sku: &str) -> Result<(), TillError> {
        let mut next = self.catalog.clone();
        if !next.remove(sku) {
            return Err(TillError::field("sku", format!("no product {sku:?}")));
        }
        next.save(&self.dir)
            .map_err(|m| TillError::new(Code::Products, m))?;
        self.catalog = next;
        Ok(())
    }
}

/// What [`follow`]'s owner can tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Ask the provider now (staff asked).
    Now,
    /// The checkout window reached the return URL (this one, with what the provider
    /// appended): the provider reads it ([`checkout::returned`]), then is asked.
    Returned(String),
    /// Stop following (the app closes, or another part took over).
    Stop,
}

/// Follows one session until it is final or `needs_review`: polls every [`POLL_INTERVAL`],
/// doubles the wait after each failed read (up to [`POLL_MAX_BACKOFF`]), asks at once on
/// [`Hint::Now`], and calls `on_change` with each new status (and with each failed read, as
/// `poll_error`). Uses its own connection to the session log, so a poll never waits for the
/// screens. Gives up polling two minutes after the session's expiry if the provider cannot
/// be reached; reconciliation picks it up at the next start.
pub fn follow(
    dir: &Path,
    provider: Arc<dyn Provider>,
    id: &str,
    locale: &str,
    hints: Receiver<Hint>,
    mut on_change: impl FnMut(SessionView),
) -> Result<(), TillError> {
    let mut log = SessionLog::open_in(dir)?;
    let caps = Some(provider.capabilities());
    let (first, _) = log.get(id)?;
    let mut last = first.status;
    let expires_at = first.expires_at;
    let mut delay = POLL_INTERVAL;
    loop {
        if last.is_final() || last == Status::NeedsReview {
            return Ok(());
        }
        let returned = match hints.recv_timeout(delay) {
            Ok(Hint::Now) | Err(RecvTimeoutError::Timeout) => None,
            Ok(Hint::Returned(url)) => Some(url),
            Ok(Hint::Stop) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let now = now_millis();
        let result = match &returned {
            Some(url) => checkout::returned(&mut log, provider.as_ref(), id, url, now),
            None => checkout::refresh(&mut log, provider.as_ref(), id, now, false),
        };
        match result {
            Ok(s) => {
                delay = POLL_INTERVAL;
                if s.status != last {
                    last = s.status;
                    let (s, events) = log.get(id)?;
                    on_change(view(&s, &events, locale, Depth::Live, caps));
                }
            }
            Err(e) => {
                let (s, events) = log.get(id)?;
                let mut v = view(&s, &events, locale, Depth::Live, caps);
                v.poll_error = Some(e.into());
                on_change(v);
                delay = (delay * 2).min(POLL_MAX_BACKOFF);
                if expires_at.is_some_and(|t| now > t + 120_000) {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_windows_stay_on_the_provider_and_stop_at_the_return_url() {
        let co = "http://127.0.0.1:4100/dintero/v1/view/T1.abc";
        let ret = "https://kassa.invalid/return";
        let nav = |to: &str| navigation(co, &["dintero.com"], ret, to);
        assert_eq!(
            nav("http://127.0.0.1:4100/dintero/v1/view/T1.abc/pay"),
            Navigation::Allow
        );
        assert_eq!(nav("https://checkout.dintero.com/v1/x"), Navigation::Allow);
        assert_eq!(nav("https://dintero.com/"), Navigation::Allow);
        assert_eq!(
            nav("https://kassa.invalid/return?transaction_id=T1"),
            Navigation::Returned
        );
        assert_eq!(nav("https://kassa.invalid/other"), Navigation::Block);
        assert_eq!(
            nav("http://checkout.dintero.com/"),
            Navigation::Block,
            "https only"
        );
        assert_eq!(nav("https://evil-dintero.com/"), Navigation::Block);
        assert_eq!(nav("https://dintero.com.evil.example/"), Navigation::Block);
        assert_eq!(
            nav("http://127.0.0.1:4101/"),
            Navigation::Block,
            "another port"
        );
        assert_eq!(nav("file:///etc/passwd"), Navigation::Block);
        assert_eq!(nav("tauri://localhost/index.html"), Navigation::Block);
        assert_eq!(nav("about:blank"), Navigation::Allow);
    }

    #[test]
    fn history_dates_are_whole_utc_days() {
        let q = HistoryQuery {
            since: Some("2026-11-20".into()),
            until: Some("2026-11-20".into()),
            status: Some("paid".into()),
            ..Default::default()
        };
        let f = q.filter().unwrap();
        assert_eq!(f.until.unwrap() - f.since.unwrap(), DAY_MS);
        assert_eq!(f.status, Some(Status::Paid));
        let bad = HistoryQuery {
            since: Some("20.11.2026".into()),
            ..Default::default()
        };
        assert_eq!(bad.filter().unwrap_err().problems[0].path, "since");
    }
}
