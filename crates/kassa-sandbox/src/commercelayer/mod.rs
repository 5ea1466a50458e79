//! The Commerce Layer emulator: OAuth `client_credentials` tokens, the Core API resources a
//! counter sale needs (orders, line items, the checkout.com payment source, links, the
//! market), the hosted checkout page (by link or by `?accessToken=`), and the order's payment
//! state machine, at their real paths under `/commercelayer` (so
//! `commercelayer.base_url = http://127.0.0.1:PORT/commercelayer` serves the auth endpoint, the
//! API and the pages; real: `auth.commercelayer.io`, `<slug>.commercelayer.io`,
//! `<slug>.commercelayer.app/checkout` and `commercelayer.link`).
//!
//! Sources (NOTES = `../shared/providers/NOTES-commercelayer-opencharge.md`, Part A):
//! - Resource metadata: `../shared/providers/commercelayer/core-api-public-resources.json`
//!   (`gen/resources.json` of commercelayer-sdk @ 327b1e85, schema v7.9.16): the fields of
//!   `order`, `line_item`, `link`, `checkout_com_payment`, `market`, `payment_method`,
//!   `authorization`, `capture`, `void`, `refund`, `price_list`, with
//!   `creatable`/`updatable`/`required` and enums.
//! - NOTES A2 (conventions, 406/415), A3 (auth, lifetimes, 30 token requests/min), A5/A6 (order
//!   and line item attributes; custom prices only for integrations), A7 (tax fields), A8/A9
//!   (addresses, payment method), A10 (the 2025 `checkout_com_payments` schema), A11 (hosted
//!   checkout URL, links), A12 (status model), A13 (error shape and codes), A15 (filter by
//!   reference, `_update_quantity`); `notes/19-after-sale-facts.md` §4 (capture, refund, void,
//!   cancelling an unplaced order).
//!
//! Where each rule lives (each file's doc lists its rules and our choices, with their
//! sources):
//! - `auth.rs`: `POST /oauth/token`, its rate limit, tokens and who may call what;
//! - `jsonapi.rs` and `errors.rs`: the JSON:API machinery every resource uses: media types,
//!   request documents and the two passes that check them, `include`, sparse fieldsets,
//!   lists, the error shape and its codes;
//! - `orders.rs`, `line_items.rs`, `payments.rs` (checkout.com payment sources, the payment
//!   method), `transactions.rs` (authorizations, captures, voids, refunds), `links.rs`,
//!   `markets.rs`: the resources, one file each, with their attributes, their own checks and
//!   how they are rendered;
//! - `rules.rs`: the arithmetic (taxes and totals) and the order's state machine (`_place`,
//!   `_approve`, `_approve_and_capture`, `_capture`, `_cancel` and the hosted checkout's
//!   outcomes); `gateway.rs`: the transactions those and the transactions' own triggers make,
//!   their balances and the order's `payment_status`;
//! - `page.rs`: the hosted checkout; `control.rs`: the test controls.
//!
//! This module: the organizations, the emulator's state and clock, ids and times, the routes
//! and the one handler every Core API route goes through (`api`).
//!
//! Not emulated: the Core API's own rate limits (NOTES A14, numbers partly UNCONFIRMED; use
//! the sandbox's `rate_limit` fault), the plan's link quota (UNCONFIRMED, NOTES A11), the
//! announced date-versioned `/api/{version}/` paths and document-level `meta` (UNCONFIRMED,
//! NOTES A2; `meta` is per resource here), webhooks, the order's `_refund` (refunds are made on
//! captures), returns and return line items (Kassa refunds by amount, see the client's module
//! doc), lists of transactions, `_authorize`/`_details`/`_refresh` on the payment source, and
//! deleting resources.
//!
//! Controls (under `/_control`):
//!
//! | request | effect |
//! |---|---|
//! | `POST /_control/commercelayer/accounts` `{"client_id", "client_secret", "sales_channel_client_id", "market_id", "address_id", "currency", "tax_included", "default_tax_rate_bp", "skus": [{"code", "tax_rate_bp"}], "auto_capture"}` | add an organization (integration + sales channel + market); 400 if a rate is above 10000 bp |
//! | `POST /_control/commercelayer/orders/{id}/outcome` `{"outcome": "pay"}` | the hosted checkout: `pay`, `decline`, `authorize` (authorized, placement failed), `cancel` (back to cart), `capture` (the back office's approve and capture), `expire`; answers `{"redirect": url or null}`, 409 `{"error"}` when not possible |
//! | `GET /_control/commercelayer/orders/{id}` | the order as the API shows it, with line items, payment source, links, authorizations, captures, voids and refunds included |
//! | `PUT /_control/commercelayer/gateway` `{"decline": ["captures", "voids", "refunds"]}` | the gateway declines these transactions from now on (`succeeded: false`; `[]`: none); answers the list |
//! | `POST /_control/commercelayer/tokens/expire` | every issued token becomes expired (401) |
//! | `PUT /_control/commercelayer/token_lifetime` `{"seconds": 2}` | `expires_in` of new tokens (both kinds) |
//! | `GET /_control/commercelayer/stats` | `{"token_requests": n}`: token requests so far (all answers) |
//! | `PUT /_control/commercelayer/clock` `{"offset_s": 3600}` | the emulator's clock runs this far ahead of the machine's (token expiry, order and link times); answers `{"offset_s"}` |

mod auth;
mod control;
mod errors;
mod gateway;
mod jsonapi;
mod line_items;
mod links;
mod markets;
mod orders;
mod page;
mod payments;
mod rules;
mod transactions;

pub(crate) use errors::error;

use crate::common::{random_from, Clock};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use errors::ApiResult;
use kassa_core::time::{format_rfc3339, parse_utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

const PAYMENT_SOURCE_TYPE: &str = "checkout_com_payments";

/// An organization as the emulator knows it: its integration and sales channel credentials,
/// its one market (with its price list's currency and `tax_included`), the shop's address,
/// a manual tax calculator and the SKUs it sells.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommerceLayerAccount {
    /// The integration's client id.
    pub client_id: String,
    /// The integration's secret.
    pub client_secret: String,
    /// The sales channel's client id (sales channels have no secret).
    pub sales_channel_client_id: String,
    /// The market's id, e.g. `kGbnLhkXyZ`.
    pub market_id: String,
    /// The id of the shop's address record (what `_shipping_address_clone_id` may name).
    pub address_id: String,
    /// The market's price list currency, e.g. `NOK`.
    pub currency: String,
    /// The market's price list `tax_included`.
    #[serde(default = "yes")]
    pub tax_included: bool,
    /// The manual tax calculator's one rate in basis points (2500 = 25 %).
    pub default_tax_rate_bp: u32,
    /// Known SKU codes with their tax category's rate.
    #[serde(default)]
    pub skus: Vec<Sku>,
    /// The checkout.com payment method captures right after authorization.
    #[serde(default)]
    pub auto_capture: bool,
}

/// A SKU the market sells, with the rate of its tax category in basis points.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sku {
    pub code: String,
    pub tax_rate_bp: u32,
}

fn yes() -> bool {
    true
}

#[derive(Clone)]
struct Acct {
    a: CommerceLayerAccount,
    organization_id: String,
    payment_method_id: String,
    price_list_id: String,
    market_number: u64,
    created_at: i64,
}

impl Acct {
    fn scope(&self) -> String {
        format!("market:id:{}", self.a.market_id)
    }

    fn sku_rate(&self, code: &str) -> Option<u32> {
        self.a
            .skus
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.tax_rate_bp)
    }
}

struct TokenInfo {
    account: String,
    integration: bool,
    expires_at: i64,
}

#[derive(Clone)]
struct Line {
    id: String,
    sku_code: Option<String>,
    name: String,
    quantity: i64,
    unit_amount_cents: i64,
    external_price: bool,
    /// `reference`, `reference_origin`, `metadata`.
    attrs: Map<String, Value>,
    created_at: i64,
    updated_at: i64,
}

/// The kinds of payment transaction (the `type` of Commerce Layer's `transactions`): the
/// hosted checkout's authorizations, and the captures, voids and refunds the triggers make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxKind {
    Authorization,
    Capture,
    Void,
    Refund,
}

impl TxKind {
    const ALL: [TxKind; 4] = [
        TxKind::Authorization,
        TxKind::Capture,
        TxKind::Void,
        TxKind::Refund,
    ];

    /// The resource type (and path segment).
    fn ty(self) -> &'static str {
        match self {
            TxKind::Authorization => "authorizations",
            TxKind::Capture => "captures",
            TxKind::Void => "voids",
            TxKind::Refund => "refunds",
        }
    }

    fn from_ty(ty: &str) -> Option<TxKind> {
        TxKind::ALL.into_iter().find(|k| k.ty() == ty)
    }
}

/// One payment transaction of an order, as the gateway answered it: a failed one
/// (`succeeded: false`) moves no money.
#[derive(Clone)]
struct Transaction {
    id: String,
    kind: TxKind,
    number: String,
    succeeded: bool,
    amount_cents: i64,
    message: String,
    error_code: Option<String>,
    error_detail: Option<String>,
    gateway_transaction_id: String,
    /// The authorization a capture or void draws on (`reference_authorization`), the capture a
    /// refund returns (`reference_capture`).
    parent: Option<String>,
    /// `reference`, `reference_origin`, `metadata`.
    attrs: Map<String, Value>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Clone)]
struct Order {
    id: String,
    account: String,
    seq: u64,
    number: String,
    token: String,
    status: &'static str,
    payment_status: &'static str,
    fulfillment_status: &'static str,
    /// The plain attributes as set (`expires_at` lives in its own field).
    attrs: Map<String, Value>,
    expires_at: Option<i64>,
    billing_address: Option<String>,
    shipping_address: Option<String>,
    payment_method: Option<String>,
    payment_source: Option<String>,
    lines: Vec<Line>,
    /// Authorizations, captures, voids and refunds, oldest first.
    transactions: Vec<Transaction>,
    tax_calculations: u64,
    place_total: Option<i64>,
    created_at: i64,
    updated_at: i64,
    placed_at: Option<i64>,
    approved_at: Option<i64>,
    cancelled_at: Option<i64>,
    payment_updated_at: Option<i64>,
    fulfillment_updated_at: Option<i64>,
    refreshed_at: Option<i64>,
}

impl Order {
    fn editable(&self) -> bool {
        matches!(self.status, "draft" | "pending")
    }

    fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    fn attr_str(&self, key: &str) -> Option<&str> {
        self.attrs.get(key).and_then(Value::as_str)
    }

    fn transactions(&self, kind: TxKind) -> impl Iterator<Item = &Transaction> {
        self.transactions.iter().filter(move |t| t.kind == kind)
    }

    /// `draft` ↔ `pending` (our rule: a line item and an email or a shipping address).
    fn refresh_status(&mut self) {
        let ready = !self.lines.is_empty()
            && (self.attr_str("customer_email").is_some() || self.shipping_address.is_some());
        match self.status {
            "draft" if ready => self.status = "pending",
            "pending" if !ready => self.status = "draft",
            _ => {}
        }
    }
}

struct Payment {
    id: String,
    account: String,
    order_id: String,
    success_url: String,
    failure_url: String,
    token: Option<String>,
    /// `reference`, `reference_origin`, `metadata`.
    attrs: Map<String, Value>,
    public_key: String,
    session_id: String,
    session_secret: String,
    session_token: String,
    payment_response: Option<Value>,
    authorized_amount: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

struct Link {
    id: String,
    account: String,
    order_id: String,
    name: String,
    client_id: String,
    scope: String,
    starts_at: i64,
    expires_at: i64,
    disabled_at: Option<i64>,
    params: Value,
    /// `reference`, `reference_origin`, `metadata`.
    attrs: Map<String, Value>,
    created_at: i64,
    updated_at: i64,
}

impl Link {
    fn status(&self, now: i64) -> &'static str {
        if self.disabled_at.is_some() {
            "disabled"
        } else if self.expires_at <= now {
            "expired"
        } else if now < self.starts_at {
            "pending"
        } else {
            "active"
        }
    }
}

/// The emulator's state.
#[derive(Default)]
pub struct Emulator {
    accounts: Vec<Acct>,
    tokens: HashMap<String, TokenInfo>,
    token_lifetime: Option<u64>,
    /// When the token requests inside the rate limit window were accepted.
    token_window: VecDeque<i64>,
    token_requests: u64,
    orders: BTreeMap<String, Order>,
    /// The transaction kinds the gateway declines from now on (`PUT
    /// /_control/commercelayer/gateway`): recorded with `succeeded: false`.
    declines: Vec<TxKind>,
    payments: BTreeMap<String, Payment>,
    links: BTreeMap<String, Link>,
    seq: u64,
    /// Every time the emulator reads or stamps (`PUT /_control/commercelayer/clock`).
    clock: Clock,
}

impl Emulator {
    /// Adds an organization; an account with the same integration `client_id` is replaced
    /// (keeping its ids, so its orders stay readable).
    pub fn add_account(&mut self, a: CommerceLayerAccount) {
        crate::ledger(&[&a.client_id, &a.client_secret, &a.sales_channel_client_id]);
        if let Some(known) = self
            .accounts
            .iter_mut()
            .find(|x| x.a.client_id == a.client_id)
        {
            known.a = a;
            return;
        }
        self.accounts.push(Acct {
            a,
            organization_id: rand_id(10),
            payment_method_id: rand_id(10),
            price_list_id: rand_id(10),
            market_number: 1000 + self.accounts.len() as u64,
            created_at: self.now(),
        });
    }

    /// The emulator's clock: Unix milliseconds.
    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn acct(&self, client_id: &str) -> &Acct {
        self.accounts
            .iter()
            .find(|x| x.a.client_id == client_id)
            .expect("resources belong to known accounts")
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// A Commerce Layer style id: short, letters only (`xYZkjABcde`).
fn rand_id(n: usize) -> String {
    random_from(n, b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

/// checkout.com style ids are lower-case base32.
fn rand_lower(n: usize) -> String {
    random_from(n, b"abcdefghijklmnopqrstuvwxyz234567")
}

/// An RFC 3339 date-time (a time of day and `Z` or an offset are required).
fn parse_time(s: &str) -> Option<i64> {
    if !s.contains('T') {
        return None;
    }
    if s.ends_with('Z') || s.ends_with("+00:00") {
        return parse_utc(s).ok();
    }
    let cut = s.len().checked_sub(6)?;
    let (base, offset) = (s.get(..cut)?, s.get(cut..)?);
    let b = offset.as_bytes();
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if b[3] != b':' || ![1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit()) {
        return None;
    }
    let minutes = i64::from(b[1] - b'0') * 600
        + i64::from(b[2] - b'0') * 60
        + i64::from(b[4] - b'0') * 10
        + i64::from(b[5] - b'0');
    let utc = parse_utc(&format!("{base}Z")).ok()?;
    Some(utc - sign * minutes * 60_000)
}

fn time_value(ms: Option<i64>) -> Value {
    ms.map(format_rfc3339).map_or(Value::Null, Value::String)
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    // The transactions: read and updated (triggers) by id, never created.
    let transactions = TxKind::ALL.into_iter().fold(Router::new(), |r, kind| {
        r.route(
            &format!("/api/{}", kind.ty()),
            post(move || async move { transactions::not_creatable(kind) }),
        )
        .route(
            &format!("/api/{}/{{id}}", kind.ty()),
            get(api(move |e, c| transactions::get(e, c, kind)))
                .patch(api(move |e, c| transactions::update(e, c, kind))),
        )
    });
    Router::new()
        .merge(transactions)
        .route("/oauth/token", post(auth::token))
        .route(
            "/api/orders",
            post(api(orders::create)).get(api(|e, call| orders::list(e, call))),
        )
        .route(
            "/api/orders/{id}",
            get(api(|e, call| orders::get(e, call))).patch(api(orders::update)),
        )
        .route("/api/line_items", post(api(line_items::create)))
        .route(
            "/api/line_items/{id}",
            get(api(|e, call| line_items::get(e, call))),
        )
        .route("/api/checkout_com_payments", post(api(payments::create)))
        .route(
            "/api/checkout_com_payments/{id}",
            get(api(|e, call| payments::get(e, call))),
        )
        .route("/api/links", post(api(links::create)))
        .route(
            "/api/links/{id}",
            get(api(|e, call| links::get(e, call))).patch(api(links::update)),
        )
        .route(
            "/api/markets/{id}",
            get(api(|e, call| markets::get(e, call))),
        )
        .route("/link/{id}", get(page::link_page))
        .route("/checkout/{id}", get(page::checkout_page))
        .route("/checkout/{id}/{action}", post(page::page_action))
}

pub(crate) fn control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/commercelayer/accounts", post(control::add_account))
        .route("/commercelayer/orders/{id}/outcome", post(control::outcome))
        .route("/commercelayer/orders/{id}", get(control::order))
        .route("/commercelayer/tokens/expire", post(control::expire_tokens))
        .route(
            "/commercelayer/token_lifetime",
            put(control::token_lifetime),
        )
        .route("/commercelayer/clock", put(control::clock))
        .route("/commercelayer/gateway", put(control::gateway))
        .route("/commercelayer/stats", get(control::stats))
}

/// A Core API request as its operation sees it.
pub(super) struct Call {
    /// The route's `{id}`; empty on routes without one.
    id: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = Response;

    /// Axum's own extractors in the order the handlers used them (path, query, headers,
    /// body), so a malformed request is refused as before.
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Call, Response> {
        let (mut parts, body) = req.into_parts();
        let id = Option::<Path<String>>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?
            .map(|Path(id)| id)
            .unwrap_or_default();
        let Query(query) = Query::<Vec<(String, String)>>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let body = Bytes::from_request(axum::extract::Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Call {
            id,
            query,
            headers,
            body,
        })
    }
}

/// The one handler of every Core API route: locks the emulator, runs `op` and answers what it
/// rendered or the errors it found.
/// `op` is a Core API operation: the emulator (reads take it `&mut` too: it is the same lock)
/// and the request; it answers the rendered document or every error found.
fn api(
    op: impl Fn(&mut Emulator, &Call) -> ApiResult + Clone + Send + Sync + 'static,
) -> impl Fn(State<Arc<Shared>>, Call) -> std::future::Ready<Response> + Clone + Send + Sync + 'static
{
    move |State(s), call| {
        let mut e = s.commercelayer.lock().unwrap();
        std::future::ready(op(&mut e, &call).unwrap_or_else(IntoResponse::into_response))
    }
}
