//! Commerce Layer: an order with Kassa's lines, its tax checked against Kassa's quote, a
//! checkout.com payment source, and a customer URL (a Link for the QR code, the hosted checkout
//! for the till's window); the order's status says whether it was paid.
//!
//! Facts and choices (NOTES-commercelayer-opencharge.md Part A, seed `003_*`, which is outdated
//! where the notes say so):
//! - **Hosts**: auth `https://auth.commercelayer.io`, API `https://<organization>.commercelayer.io`,
//!   hosted checkout `https://<organization>.commercelayer.app/checkout/<order id>`;
//!   `commercelayer.base_url` replaces all three origins (the sandbox serves them on one).
//! - **Tokens** (§A3): OAuth `client_credentials`. The integration token (client id + secret
//!   from the keyring) makes every API call: custom prices and links are integration-only. The
//!   sales-channel token (its client id, no secret, scope `market:id:<market>`) is fetched only
//!   for the window's hosted checkout URL. Both are cached per process and renewed 15 minutes
//!   before expiry (or at three quarters of a short lifetime); a 401 fetches a new one once. The
//!   auth endpoint allows 30 requests a minute per IP, so caching is not optional.
//! - **Order** (§A5, §A6, §A7, §A16): `POST /api/orders?include=available_payment_methods`
//!   (market, `reference`, `language_code`, `expires_at` = Kassa's limit, `return_url`,
//!   `cart_url` = Kassa's return and cancel URLs); one `POST /api/line_items` per Kassa line
//!   with Kassa's price (`unit_amount_cents` + `_external_price`), by `sku_code` when the line
//!   has a SKU (its tax category decides the rate) else named; then one `PATCH` sets the shop's
//!   address (`commercelayer.address_id`, cloned as billing and shipping address so the tax
//!   calculator runs) and the market's checkout.com payment method, and its answer is the
//!   order read back (`?include=line_items`).
//! - **Tax check**: `total_amount_with_taxes_cents`, `total_tax_amount_cents` and the currency
//!   must equal the quote's gross, VAT and currency; otherwise the charge stops with both
//!   figures and the differing lines ([`ErrorKind::Mismatch`]), before any URL exists. Commerce
//!   Layer's rounding is UNCONFIRMED (§E4); Kassa rounds VAT per line, half away from zero.
//! - **Payment source** (§A10): `POST /api/checkout_com_payments` with the current schema,
//!   `success_url` and `failure_url` (both Kassa's return URL) and the order; never the removed
//!   `payment_type`/`session_id`. The answer's `payment_session` id and `redirect_uri` are kept
//!   in the session log (the session secret is not).
//! - **URL** (§A11): QR → `POST /api/links` (sales-channel client id and scope, the order,
//!   `expires_at`): a short URL with no token in it that Kassa can disable. Window → the
//!   hosted checkout with `?accessToken=<sales-channel token>`. That token is public by
//!   Commerce Layer's design (sales channels are "safe to expose client-side", market scope,
//!   no custom prices, 4 h), so the URL is logged like any checkout URL; the integration token
//!   never leaves the request headers.
//! - **Round trips**: the lines are sent at once (one round trip for all of them), and so are
//!   the payment source and the link: a QR charge costs four sequential round trips (order,
//!   lines, PATCH, source + link) whatever the number of lines; each is a reused connection.
//! - **Status** (§A12): `GET /api/orders/{id}` (sparse fields); see [`wire::order_status`].
//!   `placed`/`approved` with `authorized` or `paid` for the sale's amount is paid.
//! - **Cancel** (an unpaid sale): every active link of the order is disabled; an order that
//!   is not placed (draft, pending) is then expired, because Commerce Layer documents
//!   `_cancel` for placed orders only ("Tried as a new user would", issue 19; the sandbox
//!   refuses it like the notes describe): its `expires_at` becomes now, after which it "can
//!   no longer be placed" (notes §4.3; a past deadline on update is UNCONFIRMED, see
//!   `CommerceLayer::expire`), and an authorization whose placement failed is voided. A
//!   placed order that is not paid gets `_cancel`. A paid order is reported paid (it needs a
//!   void or a refund). The customer's "back to cart" (Kassa's cancel URL in the window)
//!   cancels the same way.
//! - **After the sale** (notes §4, §8; the transactions are never created by a request, only
//!   by triggers, and every trigger needs the integration token):
//!   - Payment state: `GET /api/orders/{id}?include=authorizations,captures,voids,refunds`;
//!     only `succeeded` transactions count (a declining gateway answers 200 with
//!     `succeeded: false`, which Kassa reports as a refusal with the gateway's code).
//!   - Capture: at sale by Kassa ([`AtSaleCapture::ByKassa`]): the payment method's
//!     `auto_capture` is the shop's dashboard setting for the market, so Kassa captures right
//!     after `paid` unless the payment state already shows it captured; `manual` leaves it
//!     to staff. See [`Provider::capture`] for which trigger.
//!   - Refund: a capture's `_refund` with `_refund_amount_cents`. **Not by lines**: Commerce
//!     Layer's way to refund lines is a return (`returns` + `return_line_items`, then
//!     `_request`, `_approve`, `_ship`/`_receive`, `_refund`: five triggers, none idempotent),
//!     which needs a fulfilled order and SKU line items (CL-RETDOC, CL-APP), while Kassa's
//!     counter orders are `not_required` and carry lines without SKUs, whole-quantity lines
//!     merged when a discount does not divide and weighed lines as quantity 1; and even then
//!     the refunded amount is given by hand. So a refund by lines is sent as its amount
//!     (`refund_lines: false`); Kassa's own record keeps the lines.
//!   - Void: the placed order's `_cancel`, else the authorization's `_void`.
//!   - Matching: Commerce Layer takes no reference of Kassa's at creation
//!     (`operation_references: false`): `checkout` compares the transactions with those read
//!     before sending. After a clear success Kassa tags the new transaction with its
//!     operation id (`reference`, `reference_origin: kassa`), so later reads name it.
//!   - UNCONFIRMED, and what the code does: whether Commerce Layer voids the rest of a partly
//!     captured authorization (Kassa does not ask; it lapses); an authorization's lifetime
//!     (7 days assumed for cards, notes §4.7); whether auto-capture leaves the order `placed`
//!     (the sandbox's reading) or `approved` (either reads as paid).
//! - **Lookup** (§A15): a create that got no answer is found by
//!   `filter[q][reference_eq]=<reference>` (predicate name UNCONFIRMED).
//! - Errors: JSON:API `errors[]`, every code, detail and pointer kept.

mod after_sale;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod spec;
pub mod wire;

use super::client::TokenCache;
use super::common::{bearer_token, clip, describe_body, is_cancel_return};
use crate::http::{percent_encode, Http, Method, Request, Response};
use crate::link::{LinkRules, SaleKind};
use crate::provider::{
    AtSaleCapture, Capabilities, CapturePolicy, ClientBase, CreateRequest, Created, ErrorKind,
    OperationAnswer, OperationRequest, PaymentState, Presentation, Provider, ProviderError,
    Returned, SessionRef, StatusReport,
};
use crate::secrets::Secret;
use crate::session::Status;
use crate::time::{format_rfc3339, parse_utc};
use std::time::Duration;

const AUTH_ORIGIN: &str = "https://auth.commercelayer.io";
const JSON_API: &str = "application/vnd.api+json";

/// What a Commerce Layer client needs. Secrets stay in [`Secret`]s until a request needs them.
#[derive(Debug, Clone)]
pub struct CommerceLayerConfig {
    pub label: String,
    pub profile: String,
    /// The organization's slug (`<slug>.commercelayer.io`).
    pub organization: String,
    /// The market's id.
    pub market_id: String,
    /// The shop's address record (billing and shipping address of counter orders).
    pub address_id: String,
    /// The hosted checkout's language (`nb`).
    pub language: String,
    pub base_url: Option<String>,
    pub client_id: Secret,
    pub client_secret: Secret,
    pub sales_channel_client_id: Secret,
}

/// The client the unit tests and the fuzz entry point share: a test organization, no base
/// URL.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn test_config() -> CommerceLayerConfig {
    CommerceLayerConfig {
        label: "commercelayer".into(),
        profile: "test".into(),
        organization: "kassa-shop".into(),
        market_id: "kGbnLhkXyZ".into(),
        address_id: "AbCd".into(),
        language: "nb".into(),
        base_url: None,
        client_id: Secret::new("id"),
        client_secret: Secret::new("secret"),
        sales_channel_client_id: Secret::new("sc"),
    }
}

/// What Commerce Layer's client can do.
const CAPABILITIES: Capabilities = Capabilities {
    cancel: true,
    qr: true,
    webview: true,
    verifiable_status: true,
    find_by_reference: true,
    // The payment method's `auto_capture` is the shop's dashboard setting for the whole market,
    // not something a sale can ask for: Kassa captures by API right after `paid`, unless the
    // payment state already shows the capture.
    at_sale_capture: AtSaleCapture::ByKassa,
    capture: true,
    refund: true,
    // Returns need a fulfilled order and SKU lines and five triggers: Kassa refunds captures
    // by amount (see the module doc).
    refund_lines: false,
    void: true,
    // A trigger makes the transaction; nothing can carry Kassa's id at creation.
    operation_references: false,
    link: LinkRules {
        max_ms: LINK_MAX_MS,
        sms: false,
        email: false,
        resend: false,
    },
};

/// The longest a Commerce Layer link is kept payable: 30 days. A link's `expires_at` "must be
/// after starts_at" and is "optional, default to one month since current time"
/// (core-api-public-resources.json, `link`); no maximum is documented (UNCONFIRMED), so Kassa
/// asks for at most Commerce Layer's own default. The order gets the same `expires_at` (timed
/// checkout), which Kassa also uses to end an unpaid order. A link sale always goes through a
/// Link (short URL, no token in it): the hosted checkout's URL carries a sales-channel token
/// that lives 4 h by default. Commerce Layer sends nothing itself (NOTES-after-sale.md §2).
pub const LINK_MAX_MS: i64 = 30 * 24 * 3600 * 1000;

/// A Commerce Layer client.
pub struct CommerceLayer {
    base: ClientBase,
    config: CommerceLayerConfig,
    integration: TokenCache,
    sales_channel: TokenCache,
}

/// Which credentials a token is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integration,
    SalesChannel,
}

impl CommerceLayer {
    pub fn new(config: CommerceLayerConfig, http: Http) -> CommerceLayer {
        CommerceLayer {
            base: ClientBase::new(
                &config.label,
                &config.profile,
                CAPABILITIES,
                config.base_url.clone(),
                http,
            ),
            config,
            integration: TokenCache::new(),
            sales_channel: TokenCache::new(),
        }
    }

    fn error(&self, kind: ErrorKind) -> ProviderError {
        self.base.error(kind)
    }

    fn api(&self, path: &str) -> String {
        let origin = format!("https://{}.commercelayer.io", self.config.organization);
        self.base.url(&origin, path)
    }

    /// The hosted checkout URL of an order, with a sales-channel token.
    fn hosted_checkout(&self, order_id: &str, token: &str) -> String {
        let origin = format!("https://{}.commercelayer.app", self.config.organization);
        format!(
            "{}?accessToken={}",
            self.base
                .url(&origin, &format!("/checkout/{}", percent_encode(order_id))),
            percent_encode(token)
        )
    }

    /// A cached token, or a new one.
    fn token(&self, kind: Kind) -> Result<Secret, ProviderError> {
        let cache = match kind {
            Kind::Integration => &self.integration,
            Kind::SalesChannel => &self.sales_channel,
        };
        cache.get(|| self.fetch_token(kind))
    }

    /// Asks the token endpoint for a new token and how long to use it.
    fn fetch_token(&self, kind: Kind) -> Result<(Secret, Duration), ProviderError> {
        let body = match kind {
            Kind::Integration => serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": self.config.client_id.expose(),
                "client_secret": self.config.client_secret.expose(),
            }),
            Kind::SalesChannel => serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": self.config.sales_channel_client_id.expose(),
                "scope": format!("market:id:{}", self.config.market_id),
            }),
        };
        let req = Request::new(Method::Post, self.base.url(AUTH_ORIGIN, "/oauth/token"))
            .header("accept", "application/json")
            .json(serde_json::to_vec(&body).expect("a token request serializes"));
        // Asking for a token has no side effect, so it may be retried.
        let resp = self.base.send(&req, true)?;
        let what = match kind {
            Kind::Integration => "the token endpoint (integration credentials)",
            Kind::SalesChannel => "the token endpoint (sales channel credentials)",
        };
        let resp = self.check(resp, what)?;
        self.read_token(&resp)
    }

    /// Reads the token endpoint's (2xx) answer: the token and how long to use it, renewed 15
    /// minutes early (Commerce Layer's overlap window) or at three quarters of a short lifetime.
    pub(crate) fn read_token(&self, resp: &Response) -> Result<(Secret, Duration), ProviderError> {
        bearer_token(self.base.label(), resp, Duration::from_secs(15 * 60), 4)
    }

    /// A JSON:API call with the integration token; on a 401 a new token is fetched and the
    /// request sent once more (a 401 means nothing happened).
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        what: &str,
    ) -> Result<wire::Doc, ProviderError> {
        let resp = self.send(method, path, body, what)?;
        self.base.json(&resp)
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        what: &str,
    ) -> Result<Response, ProviderError> {
        // Reads and PATCHes that set a value (`_disable`, `expires_at`, `reference`) may be
        // retried; creates are sent once, and so are the money triggers (`trigger`).
        self.send_as(method, path, body, what, method != Method::Post)
    }

    /// A trigger that moves money or cancels (`_capture`, `_approve_and_capture`, `_refund`,
    /// `_void`, `_cancel`): none is idempotent (CL metadata flags only `_place` and
    /// `_authorize`), so it is sent once; what happened after an unclear answer is read back.
    fn trigger(
        &self,
        path: &str,
        body: serde_json::Value,
        what: &str,
    ) -> Result<wire::Doc, ProviderError> {
        let resp = self.send_as(Method::Patch, path, Some(body), what, false)?;
        self.base.json(&resp)
    }

    /// [`CommerceLayer::trigger`] on resource `ty`/`id` (`body` names it), answered with what
    /// `include` names; also says what was sent (`authorization X`), for errors and details.
    fn trigger_on(
        &self,
        ty: &str,
        id: &str,
        body: serde_json::Value,
        include: &str,
    ) -> Result<(wire::Doc, String), ProviderError> {
        let sent = format!("{} {id}", ty.trim_end_matches('s'));
        let path = format!("/api/{ty}/{}?include={include}", percent_encode(id));
        Ok((self.trigger(&path, body, &sent)?, sent))
    }

    fn send_as(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        what: &str,
        idempotent: bool,
    ) -> Result<Response, ProviderError> {
        let mut req = Request::new(method, self.api(path)).header("accept", JSON_API);
        if let Some(b) = body {
            req = req.header("content-type", JSON_API);
            req.body = Some(serde_json::to_vec(&b).expect("a JSON:API document serializes"));
        }
        let resp = self.integration.send(
            &self.base,
            &req,
            idempotent,
            || self.fetch_token(Kind::Integration),
            |token| format!("Bearer {}", token.expose()),
        )?;
        self.check(resp, what)
    }

    /// Maps a non-2xx answer to an error with every JSON:API error's code, detail and pointer.
    pub(crate) fn check(&self, resp: Response, what: &str) -> Result<Response, ProviderError> {
        if (200..300).contains(&resp.status) {
            return Ok(resp);
        }
        let (code, message) = match serde_json::from_slice::<wire::ErrorDoc>(&resp.body) {
            Ok(d) if !d.errors.is_empty() => {
                let (code, text) = d.summary();
                (code, clip(&text))
            }
            _ => (None, describe_body(&resp, "Commerce Layer")),
        };
        Err(self.base.refused(&resp, what, code, message))
    }

    fn order_id<'a>(&self, s: &SessionRef<'a>) -> Result<&'a str, ProviderError> {
        self.base.session_id(s, "Commerce Layer order id")
    }

    pub(crate) fn report(&self, order: &wire::Resource, s: &SessionRef) -> StatusReport {
        let expired = order
            .str("expires_at")
            .and_then(|t| crate::time::parse_utc(t).ok())
            .or(s.expires_at)
            .is_some_and(|t| s.now >= t);
        let (status, detail) = wire::order_status(
            order.str("status").unwrap_or("(none)"),
            order.str("payment_status").unwrap_or("(none)"),
            order.int("total_amount_with_taxes_cents"),
            order.str("currency_code"),
            s.gross,
            s.currency,
            expired,
        );
        StatusReport {
            status,
            detail: format!(
                "Commerce Layer order {}: {detail}",
                order.str("number").unwrap_or(&order.id)
            ),
            payment_id: None,
        }
    }

    fn read(&self, id: &str, include: &str) -> Result<wire::Doc, ProviderError> {
        let path = format!(
            "/api/orders/{}?fields[orders]=number,status,payment_status,total_amount_with_taxes_cents,currency_code,expires_at{include}",
            percent_encode(id)
        );
        self.call(Method::Get, &path, None, &format!("order {id}"))
    }

    /// Disables the order's active (or pending) links; answers their ids.
    fn disable_links(&self, order: &wire::Doc) -> Result<Vec<String>, ProviderError> {
        let mut disabled = Vec::new();
        for link in order.included.iter().filter(|r| r.kind == "links") {
            if matches!(link.str("status"), Some("active" | "pending")) {
                self.send(
                    Method::Patch,
                    &format!("/api/links/{}", percent_encode(&link.id)),
                    Some(wire::trigger("links", &link.id, "_disable")),
                    &format!("link {}", link.id),
                )?;
                disabled.push(link.id.clone());
            }
        }
        Ok(disabled)
    }

    /// Stops an order that is not placed. Commerce Layer's `_cancel` is for placed orders
    /// only (CL:21019; its dashboard offers no action on a draft or pending order), so the
    /// order's deadline is moved to now: "when the deadline is reached, the underlying order
    /// becomes expired and can no longer be placed" (CL-TIMED, notes §4.3). Whether Commerce
    /// Layer accepts a deadline of now on update is UNCONFIRMED; our reading, which the
    /// sandbox follows: `expires_at` is updatable with no documented bound, and a deadline
    /// that has come expires the order at once. Were it refused, the cancel fails with
    /// Commerce Layer's error and the sale stays open (nothing is reported cancelled that can
    /// still be paid). Commerce Layer has no `expired` order status: the order stays
    /// draft/pending with `expires_at` in the past, and Kassa's session is `cancelled` on that
    /// evidence. An authorization whose placement failed (the order still pending) holds the
    /// customer's money: it is voided with the authorization's `_cancel` ("void a succeeded
    /// authorization of a pending order", CL:2143).
    fn expire(
        &self,
        id: &str,
        order: &wire::Doc,
        s: &SessionRef,
        now: StatusReport,
    ) -> Result<StatusReport, ProviderError> {
        let mut report = if now.status == Status::Expired {
            now
        } else {
            let at = format_rfc3339(s.now);
            let o = self.call(
                Method::Patch,
                &format!(
                    "/api/orders/{}?fields[orders]=number,status,payment_status,expires_at",
                    percent_encode(id)
                ),
                Some(wire::expire(id, &at)),
                &format!("order {id}"),
            )?;
            let d = &o.data;
            StatusReport {
                status: Status::Cancelled,
                detail: format!(
                    "Commerce Layer order {}: order {}, payment {}; its expires_at is now {}, so it can no longer be placed (Commerce Layer cancels placed orders only)",
                    d.str("number").unwrap_or(&d.id),
                    d.str("status").unwrap_or("(none)"),
                    d.str("payment_status").unwrap_or("(none)"),
                    d.str("expires_at").unwrap_or(&at),
                ),
                payment_id: None,
            }
        };
        let held = wire::transactions(order)
            .into_iter()
            .filter(|t| t.kind == "authorizations" && t.succeeded && t.void_balance > 0);
        for auth in held {
            let body = wire::trigger("authorizations", &auth.id, "_cancel");
            let voided = self
                .trigger_on("authorizations", &auth.id, body, "voids")
                .map(|(doc, _)| wire::made_by_trigger(&doc, "voids", &[]));
            report.detail.push_str(&match voided {
                Ok(Some(v)) if v.succeeded => format!("; authorization {} voided", auth.id),
                Ok(v) => format!(
                    "; authorization {} was not voided ({}): it lapses by itself",
                    auth.id,
                    v.map_or("no void in the answer".into(), |v| v.message)
                ),
                Err(e) => format!(
                    "; authorization {} was not voided ({e}): it lapses by itself",
                    auth.id
                ),
            });
        }
        Ok(report)
    }
}

impl Provider for CommerceLayer {
    fn base(&self) -> &ClientBase {
        &self.base
    }

    fn create(&self, req: &CreateRequest) -> Result<Created, ProviderError> {
        let q = req.order;
        let expires = format_rfc3339(req.expires_at);
        let language = self
            .config
            .language
            .split(['-', '_'])
            .next()
            .unwrap_or("en")
            .to_string();
        let created = self.call(
            Method::Post,
            "/api/orders?include=available_payment_methods",
            Some(wire::order_create(
                &self.config.market_id,
                &q.reference,
                &language,
                &expires,
                req.return_url,
                req.cancel_url,
            )),
            "the orders endpoint",
        )?;
        let order_id = created.data.id.clone();
        let method = created
            .included
            .iter()
            .find(|r| {
                r.kind == "payment_methods"
                    && r.str("payment_source_type") == Some("checkout_com_payments")
            })
            .ok_or_else(|| {
                self.error(ErrorKind::Config(format!(
                    "market {} offers no checkout.com payment method (payment_source_type \
                     checkout_com_payments); add one in the Commerce Layer dashboard",
                    self.config.market_id
                )))
            })?;
        // The lines are independent of each other: sent at once, they cost one round trip
        // instead of one each (the read-back matches them by their `line-N` reference, not
        // by their order). The first failing line (in Kassa's order) stops the charge.
        std::thread::scope(|s| {
            let sent: Vec<_> = q
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let body = wire::line_item(&order_id, i, line, q.prices_include_vat);
                    s.spawn(move || {
                        self.send(
                            Method::Post,
                            "/api/line_items",
                            Some(body),
                            &format!("the line items endpoint (line {})", i + 1),
                        )
                    })
                })
                .collect();
            sent.into_iter()
                .map(|h| h.join().expect("a line item request does not panic"))
                .collect::<Result<Vec<_>, _>>()
        })?;
        let order = self.call(
            Method::Patch,
            &format!(
                "/api/orders/{}?include=line_items",
                percent_encode(&order_id)
            ),
            Some(wire::order_prepare(
                &order_id,
                &self.config.address_id,
                &method.id,
            )),
            &format!("order {order_id}"),
        )?;
        wire::compare(&order, q).map_err(|m| self.error(ErrorKind::Mismatch(m)))?;
        // The payment source and the QR's link both need only the prepared order: one round
        // trip for both.
        let (source, link) = std::thread::scope(|s| {
            let link =
                (req.presentation == Presentation::Qr || req.sale == SaleKind::Link).then(|| {
                    s.spawn(|| {
                        self.call(
                            Method::Post,
                            "/api/links",
                            Some(wire::link(
                                &order_id,
                                &q.reference,
                                self.config.sales_channel_client_id.expose(),
                                &self.config.market_id,
                                &expires,
                            )),
                            "the links endpoint",
                        )
                    })
                });
            let source = self.call(
                Method::Post,
                "/api/checkout_com_payments",
                Some(wire::checkout_com_payment(
                    &order_id,
                    req.return_url,
                    req.return_url,
                )),
                "the checkout_com_payments endpoint",
            );
            let link = link.map(|h| h.join().expect("the link request does not panic"));
            (source, link)
        });
        let source = source?;
        let mut detail = format!("order #{}", order.data.str("number").unwrap_or(&order_id));
        if let Some(ps) = source
            .data
            .attributes
            .get("payment_session")
            .and_then(|p| p.get("id"))
            .and_then(serde_json::Value::as_str)
        {
            detail.push_str(&format!(", checkout.com payment session {ps}"));
        }
        if let Some(r) = source.data.str("redirect_uri") {
            detail.push_str(&format!(", 3-D Secure page {}", clip(r)));
        }
        // The shop's payment method may capture by itself; a sale cannot ask otherwise.
        if method.attributes.get("auto_capture") == Some(&serde_json::Value::Bool(true)) {
            detail.push_str(", the payment method captures automatically (auto_capture)");
            if req.capture == CapturePolicy::Manual {
                detail.push_str(": capture policy manual cannot hold this payment back");
            }
        }
        let mut expires_at = req.expires_at;
        let url = match link {
            Some(link) => {
                let link = link?;
                detail.push_str(&format!(", link {}", link.data.id));
                // What Commerce Layer says it keeps, when it says so (never later than asked).
                if let Some(t) = link.data.str("expires_at").and_then(|t| parse_utc(t).ok()) {
                    expires_at = expires_at.min(t);
                }
                link.data.str("url").map(str::to_string).ok_or_else(|| {
                    self.error(ErrorKind::BadResponse {
                        status: 201,
                        detail: format!("link {} has no url", link.data.id),
                    })
                })?
            }
            None => {
                let token = self.token(Kind::SalesChannel)?;
                self.hosted_checkout(&order_id, token.expose())
            }
        };
        Ok(Created {
            provider_session_id: order_id,
            qr_payload: url.clone(),
            checkout_url: url,
            expires_at: Some(expires_at),
            detail: Some(detail),
            sent: None,
        })
    }

    fn status(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        let id = self.order_id(s)?;
        let doc = self.read(id, "")?;
        Ok(self.report(&doc.data, s))
    }

    /// An unplaced order is expired (`CommerceLayer::expire`); a placed one that is not paid
    /// gets `_cancel` (which voids its authorization). Its links are disabled first. A paid
    /// order is reported paid (it needs a void or a refund), an order already over as it is.
    fn cancel(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        let id = self.order_id(s)?;
        let doc = self.read(id, "&include=links,authorizations")?;
        let now = self.report(&doc.data, s);
        let unplaced = matches!(
            doc.data.str("status"),
            Some("draft" | "pending" | "placing" | "editing")
        ) && matches!(now.status, Status::Open | Status::Expired);
        let placed_unpaid = doc.data.str("status") == Some("placed") && now.status != Status::Paid;
        if !unplaced && !placed_unpaid {
            return Ok(now);
        }
        let disabled = self.disable_links(&doc)?;
        let mut report = if unplaced {
            self.expire(id, &doc, s, now)?
        } else {
            let cancelled = self.trigger(
                &format!("/api/orders/{}", percent_encode(id)),
                wire::trigger("orders", id, "_cancel"),
                &format!("order {id}"),
            )?;
            self.report(&cancelled.data, s)
        };
        if !disabled.is_empty() {
            report
                .detail
                .push_str(&format!("; link {} disabled", disabled.join(", ")));
        }
        Ok(report)
    }

    /// Kassa's cancel URL is the hosted checkout's "back to cart": the customer gave up, so the
    /// order is cancelled. Any other return is no evidence: the order's status is asked.
    fn returned(&self, s: &SessionRef, url: &str) -> Result<Returned, ProviderError> {
        if !is_cancel_return(url) {
            return Ok(Returned::default());
        }
        let mut report = self.cancel(s)?;
        if report.status == Status::Cancelled {
            report.detail = format!("the customer went back to the till; {}", report.detail);
        }
        Ok(Returned {
            payment_id: None,
            report: Some(report),
        })
    }

    fn find_by_reference(&self, s: &SessionRef) -> Result<Option<StatusReport>, ProviderError> {
        let path = format!(
            "/api/orders?filter[q][reference_eq]={}&fields[orders]=number,status,payment_status,total_amount_with_taxes_cents,currency_code,expires_at",
            percent_encode(s.merchant_reference)
        );
        let resp = self.send(Method::Get, &path, None, "the orders list")?;
        let list: wire::ListDoc = self.base.json(&resp)?;
        Ok(list.data.first().map(|o| self.report(o, s)))
    }

    /// See `after_sale.rs` for this and the three operations.
    fn payment_state(&self, s: &SessionRef) -> Result<PaymentState, ProviderError> {
        self.read_payment_state(s)
    }

    fn capture(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.capture_by_api(op)
    }

    fn refund(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.refund_capture(op)
    }

    fn void(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.void_authorization(op)
    }

    fn check_connection(&self) -> Result<String, ProviderError> {
        let m = &self.config.market_id;
        let doc = self.call(
            Method::Get,
            &format!("/api/markets/{}", percent_encode(m)),
            None,
            &format!("market {m}"),
        )?;
        self.token(Kind::SalesChannel)?;
        Ok(format!(
            "integration and sales channel credentials work; market {} ({})",
            doc.data.str("name").unwrap_or(m),
            doc.data.str("code").unwrap_or("no code")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: Option<&str>) -> CommerceLayer {
        CommerceLayer::new(
            CommerceLayerConfig {
                base_url: base.map(str::to_string),
                ..test_config()
            },
            Http::new(Default::default()).unwrap(),
        )
    }

    #[test]
    fn hosts_follow_the_organization_or_the_base_url() {
        let c = client(None);
        assert_eq!(
            c.api("/api/orders"),
            "https://kassa-shop.commercelayer.io/api/orders"
        );
        assert_eq!(
            c.hosted_checkout("ord 1", "a.b"),
            "https://kassa-shop.commercelayer.app/checkout/ord%201?accessToken=a.b"
        );
        let s = client(Some("http://127.0.0.1:9/commercelayer"));
        assert_eq!(
            s.api("/api/orders"),
            "http://127.0.0.1:9/commercelayer/api/orders"
        );
        assert_eq!(
            s.hosted_checkout("o", "t"),
            "http://127.0.0.1:9/commercelayer/checkout/o?accessToken=t"
        );
    }
}
