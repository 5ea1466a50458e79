//! The till: what a counter shell (the desktop app) does, as plain functions over the session
//! log, the settings, the product list, the keyring and the providers. The Tauri commands are
//! one call each into this module; every amount and status text they show comes from here.
//!
//! - [`Till::charge`] is idempotent per cart reference: a repeated charge of the same cart
//!   (double click, key repeat, a retried IPC call) returns the session already started.
//! - [`follow_all()`] (`follow.rs`) runs the one scheduler (`crate::schedule`) over every open
//!   session on one thread and its own database connection, and reports each change through a
//!   callback; staff's nudges and the checkout window's return URL reach it as [`Hint`]s.
//!   [`LogWatch`] keeps the scheduler up to date with the session log by reading only what
//!   changed (shared with `kassa-cli follow`).
//! - [`navigation()`] (`navigation.rs`) decides where an embedded checkout page may go.
//! - Link sales (`links.rs`): the charge dialog's [`LinkRequest`], the Links screen with
//!   Resend and Renew, the QR as PNG and SVG files, the link slip on the receipt printer.
//! - [`TillError`] (`error.rs`) is flat and serializable: a stable `code` the UI translates into
//!   a cashier's words, the technical `message` one click away, and the session it concerns.
//! - The views the screens show (`view.rs`): sessions, history pages, the settings screen.
//! - After the sale (`after_sale.rs`): capture, refund, void, a refund staff record, and the
//!   preview of a refund's amount and VAT per rate.
//! - Operators (`operators.rs`): who is at the till ([`Till::login`], [`Till::logout`], a
//!   manager's PIN on the spot, [`Till::approve`]). Every action is done as, and journaled
//!   with, the operator at the till; refunds, voids and staff confirmations need a manager.
//!   Settings, credentials (their names) and products changes are journaled.

mod after_sale;
mod day_close;
mod error;
mod follow;
mod links;
mod navigation;
mod notice;
mod operators;
mod receipts;
mod view;

pub use crate::provider::cache::ProviderSource;
pub use after_sale::{LineQuantity, RefundInput, RefundPreview};
pub use day_close::{ReportView, SaftView, ShopReportView};
pub use error::TillError;
pub use follow::{asked, follow_all, FollowSource, Hint, LogWatch, FULL_READ_MS, RESYNC_MS};
pub use links::{LinkRequest, SavedQr};
pub use navigation::{navigation, provider_domains, Navigation};
pub use notice::{notice, Notice};
pub use operators::OperatorView;
pub use view::{
    view, Depth, EventView, FieldView, HistoryPage, HistoryQuery, OperationView, ProductView,
    ProviderChoice, ProviderSettingsView, Receipt, ReceiptLine, SecretView, SessionView,
    SettingsView,
};

use crate::catalog::{self, Catalog, ProductEntry};
use crate::checkout::{self, ChargeRequest, CheckoutError, DEFAULT_RETURN_URL};
use crate::code::Code;
use crate::counter::{self, Cart, CartLine, LineEntry};
use crate::journal::Kind;
use crate::link::Sale;
use crate::money::Currency;
use crate::operator::Authenticated;
use crate::provider::{Capabilities, CapturePolicy, Presentation, Provider};
use crate::secrets::{CredentialKey, Secret, SecretError, SecretStore};
use crate::session::{SessionId, Status};
use crate::settings::{self, Settings, ShopSettings};
use crate::store::{SessionLog, Signer};
use crate::time::now_millis;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// Who is at the till: the owner when no operator is configured, else whoever logged in.
    operator: Option<Authenticated>,
    /// A manager's PIN given on the spot, for the next action that needs a manager.
    approval: Option<Authenticated>,
}

impl<P: ProviderSource> Till<P> {
    /// Opens the settings, the product list and the session log of `dir` (its journal under
    /// this till's register, the signing key from `secrets`), and journals the application's
    /// start. With no operator configured the till runs as the owner; else nobody is logged in
    /// until [`Till::login`].
    pub fn open(
        dir: &Path,
        providers: P,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, TillError> {
        let settings = Settings::load(dir)?;
        let catalog = Catalog::load(dir).map_err(|m| TillError::new(Code::Products, m))?;
        let mut log = SessionLog::open_journaled(
            dir,
            &crate::journal::register_id(&settings),
            secrets.clone(),
        )?;
        let operator = log.owner_if_no_operators()?;
        log.journal_event(&crate::store::NewEvent {
            kind: Kind::AppStart,
            operator_id: operator.as_ref().map(Authenticated::id),
            session_id: None,
            ref_seq: None,
            body: serde_json::json!({"version": env!("CARGO_PKG_VERSION")}),
            at: now_millis(),
        })?;
        Ok(Till {
            dir: dir.to_path_buf(),
            log,
            settings,
            catalog,
            providers,
            secrets,
            charges: HashMap::new(),
            operator,
            approval: None,
        })
    }

    /// The journal's signing key, loaded (or created) now: for a thread that follows a session
    /// on its own connection ([`follow_all()`]), so the keyring is asked once.
    pub fn signer(&mut self) -> Result<Signer, TillError> {
        Ok(self.log.signer(now_millis())?)
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
        let ops = self.log.operations(id)?;
        Ok(view(
            &s,
            &events,
            &ops,
            (&self.locale(), now_millis()),
            depth,
            caps,
        ))
    }

    /// Starts a checkout session for `cart` (whose `reference` identifies the sale), or returns
    /// the one this reference already started. A reference whose session ended unpaid is
    /// refused: the shell asks for a fresh reference before charging again.
    ///
    /// `sale`: a counter sale (`shop.counter_link_minutes`) or a link with its lifetime and the
    /// contact to send it to (validated, and checked against the provider, before anything is
    /// created); `capture` overrides `<provider>.capture` for this sale (a link sale for goods
    /// shipped later: `manual`). What became of the send is in the view's `sent`.
    pub fn charge(
        &mut self,
        cart: &Cart,
        provider_name: &str,
        presentation: Presentation,
        sale: &Sale,
        capture: Option<CapturePolicy>,
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
        let operator = self.acting()?;
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
                capture: capture.unwrap_or_else(|| self.settings.capture_policy(provider_name)),
                sale,
                counter_ms: self.settings.counter_ms(),
                renews: None,
                operator: &operator,
            },
        );
        // Remember the reference once the session is in the log (started, or logged with the
        // failure); a charge that never reached the log leaves the reference free. `&mut self`
        // serializes charges, so no second charge can slip in between.
        if matches!(result, Ok(_) | Err(CheckoutError::Provider { .. })) {
            self.charges.insert(reference, id.as_str().to_string());
        }
        let started = result?;
        let mut v = view(
            &started.session,
            &[],
            &[],
            (&self.locale(), now),
            Depth::Live,
            Some(caps),
        );
        v.sent = started.sent;
        Ok(v)
    }

    /// Where providers send the customer afterwards (`shop.return_url`).
    pub fn return_url(&self) -> String {
        self.settings
            .get("shop.return_url")
            .ok()
            .flatten()
            .unwrap_or_else(|| DEFAULT_RETURN_URL.into())
    }

    /// The provider client of a logged session (for [`follow_all()`] and the webview's hosts).
    pub fn provider_of(&mut self, id: &str) -> Result<Arc<dyn Provider>, TillError> {
        let (s, _) = self.log.get(id)?;
        self.provider(&s.provider, Some(&s.profile))
    }

    /// A session with its receipt, operations and timeline. Starts no provider client for an
    /// unpaid session ("cancel" is offered for every open session, and a provider that cannot
    /// cancel says so when asked); for a paid one the capture, refund and void flags need the
    /// provider's capabilities, so its client is built (when it cannot be, they are off).
    pub fn session(&mut self, id: &str) -> Result<SessionView, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        let caps = if self.log.get(id)?.0.status == Status::Paid {
            self.provider_of(id).ok().map(|p| p.capabilities())
        } else {
            None
        };
        self.session_view(id, Depth::Detail, caps)
    }

    /// Asks the provider now (history's "refresh status").
    pub fn refresh(&mut self, id: &str) -> Result<SessionView, TillError> {
        let provider = self.provider_of(id)?;
        checkout::refresh(&mut self.log, provider.as_ref(), id, now_millis(), true)?;
        self.session_view(id, Depth::Detail, Some(provider.capabilities()))
    }

    /// Staff cancel an open session.
    pub fn cancel(&mut self, id: &str) -> Result<SessionView, TillError> {
        let by = self.acting()?;
        let provider = self.provider_of(id)?;
        checkout::cancel(&mut self.log, provider.as_ref(), id, &by, now_millis())?;
        self.session_view(id, Depth::Detail, Some(provider.capabilities()))
    }

    /// Records what staff say about a session ([`checkout::review`]).
    pub fn review(
        &mut self,
        id: &str,
        verdict: checkout::Verdict,
        note: Option<&str>,
    ) -> Result<SessionView, TillError> {
        let by = match verdict {
            checkout::Verdict::Claimed => self.acting()?,
            _ => self.manager("confirming a payment")?,
        };
        let provider = self.provider_of(id)?;
        let caps = provider.capabilities();
        checkout::review(
            &mut self.log,
            id,
            verdict,
            caps.verifiable_status,
            note,
            &by,
            now_millis(),
        )?;
        self.session_view(id, Depth::Detail, Some(caps))
    }

    /// A page of the history, newest first.
    pub fn history(&self, q: &HistoryQuery) -> Result<HistoryPage, TillError> {
        let limit = q.limit.unwrap_or(50).clamp(1, 500);
        let rows = self
            .log
            .list(&q.filter(self.log.time_zone())?, q.after.as_deref(), limit)?;
        let locale = self.locale();
        let now = now_millis();
        let next = (rows.len() == limit as usize)
            .then(|| rows.last().map(|s| s.id.clone()))
            .flatten();
        let mut sessions = Vec::with_capacity(rows.len());
        for s in &rows {
            // Each row's captured and refunded amounts (one indexed read per row).
            let ops = self.log.operations(&s.id)?;
            sessions.push(view(s, &[], &ops, (&locale, now), Depth::List, None));
        }
        Ok(HistoryPage { sessions, next })
    }

    /// Writes the filtered history as CSV to `path` (atomically); returns the row count.
    pub fn export_csv(&self, q: &HistoryQuery, path: &Path) -> Result<u64, TillError> {
        let filter = q.filter(self.log.time_zone())?;
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
        let default_provider = self.shop().default_provider;
        let providers = crate::provider::REGISTRY
            .iter()
            .map(|spec| {
                let profile = self.settings.profile(spec.name);
                let prefix = format!("{}.", spec.name);
                let mut view = ProviderSettingsView {
                    name: spec.name.into(),
                    title: spec.title.into(),
                    default: default_provider == spec.name,
                    ready: false,
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
                };
                view.ready = view.secrets.iter().all(|s| s.set == Some(true));
                view
            })
            .collect();
        SettingsView {
            shop: all
                .iter()
                .filter(|(k, _, _)| {
                    ["shop.", "register.", "printer."]
                        .iter()
                        .any(|p| k.starts_with(p))
                        || k == "default_provider"
                })
                .map(field)
                .collect(),
            providers,
            products: self
                .catalog
                .products
                .iter()
                .map(|p| self.product_view(p))
                .collect(),
            keyring_error,
        }
    }

    /// A product as the settings screen and the quick keys show it, in the shop's locale.
    fn product_view(&self, p: &catalog::Product) -> ProductView {
        let locale = self.locale();
        let currency = self.currency().ok();
        ProductView {
            sku: p.sku.clone(),
            name: p.name.clone(),
            unit_price: currency.map_or(p.unit_price.to_string(), |c| {
                c.format_display(p.unit_price, &locale)
            }),
            unit_price_input: currency.map_or(p.unit_price.to_string(), |c| {
                c.format_input(p.unit_price, &locale)
            }),
            vat_rate: p.vat_rate.clone(),
            favourite: p.favourite,
        }
    }

    /// The counter's quick keys: the favourite products, in list order.
    pub fn quick_keys(&self) -> Vec<ProductView> {
        self.catalog
            .quick_keys()
            .map(|p| self.product_view(p))
            .collect()
    }

    /// Sets (or, with an empty value, unsets) a setting, validated, and saves atomically; a
    /// manager's change, journaled (key, old and new value: settings hold no secrets).
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<(), TillError> {
        let by = self.manager("changing a setting")?;
        let mut next = self.settings.clone();
        let value = value.trim();
        if value.is_empty() {
            next.unset(key)?;
        } else {
            next.set(key, value)?;
        }
        let before = self.settings.get(key).ok().flatten();
        next.save(&self.dir)?;
        self.settings = next;
        self.providers.forget();
        let after = self.settings.get(key).ok().flatten();
        self.journal_change(
            Kind::SettingsChange,
            &by,
            serde_json::json!({"key": key, "from": before, "to": after}),
        )
    }

    /// Stores a credential in the keyring for the provider's current profile. The value goes
    /// straight to the keyring; an empty value deletes it.
    pub fn set_credential(
        &mut self,
        provider: &str,
        field: &str,
        value: Secret,
    ) -> Result<(), TillError> {
        let by = self.manager("changing a credential")?;
        settings::check_secret_field(provider, field)?;
        let key = settings::credential_key(&self.settings, provider, field);
        let action = if value.expose().is_empty() {
            match self.secrets.delete(&key) {
                Ok(()) | Err(SecretError::Missing(_)) => {}
                Err(e) => return Err(e.into()),
            }
            "deleted"
        } else {
            self.secrets.set(&key, &value)?;
            "set"
        };
        self.providers.forget();
        // The credential's name only: its value never leaves the keyring.
        self.journal_change(
            Kind::SettingsChange,
            &by,
            serde_json::json!({"credential": key.user(), "action": action}),
        )
    }

    /// Makes a harmless authenticated call to the provider; returns what it proved.
    pub fn test_connection(&mut self, provider: &str) -> Result<String, TillError> {
        let p = self.provider(provider, None)?;
        Ok(p.check_connection()?)
    }

    /// Adds or replaces a product; journaled as a price change (old and new price).
    pub fn save_product(&mut self, entry: &ProductEntry) -> Result<(), TillError> {
        let by = self.acting()?;
        let product =
            catalog::entry_to_product(entry, self.currency()?).map_err(TillError::invalid)?;
        let before = self.catalog.find(&product.sku).cloned();
        let mut next = self.catalog.clone();
        next.add(product.clone()).map_err(TillError::invalid)?;
        next.save(&self.dir)
            .map_err(|m| TillError::new(Code::Products, m))?;
        self.catalog = next;
        self.journal_change(
            Kind::PriceChange,
            &by,
            catalog::PriceChange::saved(before.as_ref(), &product).to_json(),
        )
    }

    /// Reads the product list again from `products.json`: the shop's hub sender replaced it
    /// with the hub's changed list (products saved on another till). Nothing is journaled:
    /// each change was journaled by the till that made it.
    pub fn reload_catalog(&mut self) -> Result<(), TillError> {
        self.catalog = Catalog::load(&self.dir).map_err(|m| TillError::new(Code::Products, m))?;
        Ok(())
    }

    /// Removes a product; journaled as a price change (to no price).
    pub fn remove_product(&mut self, sku: &str) -> Result<(), TillError> {
        let by = self.acting()?;
        let before = self.catalog.find(sku).cloned();
        let mut next = self.catalog.clone();
        if !next.remove(sku) {
            return Err(TillError::field("sku", format!("no product {sku:?}")));
        }
        next.save(&self.dir)
            .map_err(|m| TillError::new(Code::Products, m))?;
        self.catalog = next;
        self.journal_change(
            Kind::PriceChange,
            &by,
            catalog::PriceChange::removed(sku, before.as_ref()).to_json(),
        )
    }
}
