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
//!   `authorization`, `price_list`, with `creatable`/`updatable`/`required` and enums.
//! - NOTES A2 (conventions, 406/415), A3 (auth, lifetimes, 30 token requests/min), A5/A6 (order
//!   and line item attributes; custom prices only for integrations), A7 (tax fields), A8/A9
//!   (addresses, payment method), A10 (the 2025 `checkout_com_payments` schema), A11 (hosted
//!   checkout URL, links), A12 (status model), A13 (error shape and codes), A15 (filter by
//!   reference, `_update_quantity`).
//! - Error codes the NOTES do not list (`PARAM_NOT_ALLOWED`, `PARAM_MISSING`, `TYPE_MISMATCH`,
//!   `KEY_NOT_INCLUDED_IN_URL`, `INVALID_LINKS_OBJECT`, `INVALID_DATA_FORMAT`, `INVALID_INCLUDE`,
//!   `INVALID_FIELD`, `INVALID_RESOURCE`, `FILTER_NOT_ALLOWED`, `INVALID_PAGE_VALUE`,
//!   `NOT_ACCEPTABLE`, `UNSUPPORTED_MEDIA_TYPE`) and their titles/details follow the Rails
//!   library jsonapi-resources (`lib/jsonapi/exceptions.rb`), whose codes CL's documented ones
//!   (`RECORD_NOT_FOUND`, `KEY_NOT_INCLUDED_IN_URL`) match. That CL uses them: UNCONFIRMED.
//!
//! Rules:
//! - `POST /oauth/token` (NOTES A3): JSON body, `grant_type: client_credentials`. An
//!   integration (`client_id` + `client_secret`) gets `expires_in: 7200`, `scope: market:all`;
//!   a sales channel (`client_id` only, no secret) must send `scope: market:id:<its market>`
//!   (else `400 INVALID_SCOPE`) and gets `expires_in: 14400` and its scope back. The token is
//!   opaque but JWT-shaped (three base64url parts; the payload carries `test: true` and the
//!   application kind). Wrong credentials: `401 UNAUTHORIZED` "Invalid client". At most 30
//!   token requests per rolling 60 s (per emulator = per IP), else `429` with `Retry-After`.
//! - Every `/api` request: `Authorization: Bearer` (missing, unknown, expired → `401
//!   UNAUTHORIZED`), `Accept` must include `application/vnd.api+json` (`406 NOT_ACCEPTABLE`),
//!   writes must have `Content-Type: application/vnd.api+json` exactly (`415
//!   UNSUPPORTED_MEDIA_TYPE`). Answers are `application/vnd.api+json` JSON:API documents;
//!   resources carry `links.self`, `attributes`, `relationships` (`links.self`/`related`
//!   always, `data` only for included relationships) and `meta {mode: test, organization_id}`.
//! - Errors: `{"errors": [{title, detail, code, status, source?, meta?}]}` (NOTES A13). A body
//!   is checked in two passes and each pass reports every problem at once: shape and names
//!   (`400`: unknown, read-only or removed attributes and relationships are
//!   `PARAM_NOT_ALLOWED` with `source.pointer`), then values (`422 VALIDATION_ERROR`, title =
//!   the message, detail `"<field> - <message>"`, `meta.error`).
//! - Resources belong to the organization (account) whose integration made them: another
//!   account gets `404 RECORD_NOT_FOUND`. A sales channel token may only
//!   `GET /api/orders/{id}` of its market; every other API call needs an integration token
//!   (`401`, "... requires an integration token"; NOTES A3/A6/A11: custom prices and links are
//!   integration-only).
//! - Orders: `POST /api/orders` takes the creatable attributes of `order` listed in
//!   `ORDER_ATTRS` and the `market` relationship (required, the account's market, else `422`
//!   at `/data/relationships/market`); `expires_at` must be in the future; URLs must be
//!   http(s). A new order is `draft`/`unpaid`/`unfulfilled`, with a numeric `number`, a random
//!   `token`, the market's `currency_code` and the price list's `tax_included`.
//!   `GET /api/orders/{id}`, `GET /api/orders?filter[q][reference_eq]=R` (newest first,
//!   `page[size]` 1–25 (default 10), `page[number]`), `PATCH /api/orders/{id}`; all support
//!   `include=` (`line_items`, `available_payment_methods`, `payment_method`, `payment_source`,
//!   `links`, `authorizations`, `market`) and sparse fieldsets `fields[<type>]=a,b`.
//! - Amounts (integer cents, i128 intermediates, recomputed from the lines on every read):
//!   line `total_amount_cents = unit × quantity`; `subtotal_amount_cents = Σ line totals`.
//!   Taxes only once the order has a shipping address: per line the SKU's `tax_rate_bp` (or
//!   the account's `default_tax_rate_bp` for lines without a known SKU), `tax_amount_cents =
//!   round_half_away_from_zero(T × bp / (10000 + bp))` with `tax_included`, else of `T × bp /
//!   10000`; `tax_rate` is the float `bp / 10000`. `total_tax_amount_cents = Σ line taxes`,
//!   `total_amount_cents` = subtotal (+ tax without `tax_included`),
//!   `total_amount_with_taxes_cents` likewise, `total_taxable_amount_cents` = subtotal − tax
//!   with `tax_included`, else subtotal. The order's `tax_rate` is the lines' rate when they
//!   all share one, else null.
//! - `POST /api/line_items` (NOTES A6): relationship `order` (404 if unknown, 422 unless
//!   `draft`/`pending`); `quantity` integer ≥ 1 (required); `sku_code` one of the account's
//!   SKUs ("sku_code - is not valid"); `name` and `unit_amount_cents` (integer ≥ 0) required
//!   without `sku_code`; `_external_price`, `_update_quantity`, `reference`,
//!   `reference_origin`, `metadata`. Anything else is `400 PARAM_NOT_ALLOWED`, read-only
//!   fields included. `GET /api/line_items/{id}` reads one back.
//! - `PATCH /api/orders/{id}` (NOTES A8/A9/A12): `data.id` must be the path id
//!   (`400 KEY_NOT_INCLUDED_IN_URL`); the plain attributes of create; triggers
//!   `_billing_address_clone_id` / `_shipping_address_clone_id` (must be the account's
//!   `address_id`), `_shipping_address_same_as_billing`, `_billing_address_same_as_shipping`,
//!   `_update_taxes`, `_refresh`, `_place`, `_cancel`, `_approve`, `_capture`,
//!   `_approve_and_capture`; relationship `payment_method` (the account's one). A PATCH is
//!   atomic: any error leaves the order unchanged.
//! - `POST /api/checkout_com_payments` (the CURRENT schema, NOTES A10.1): `success_url` and
//!   `failure_url` required (http(s)); optional `token`, `reference`, `reference_origin`,
//!   `metadata`; `payment_type` and `session_id` were removed in 2025 and are refused
//!   (`400 PARAM_NOT_ALLOWED` at their pointer, the detail says so). The order needs the
//!   checkout.com payment method. Answers `public_key`, `payment_session` and becomes the
//!   order's `payment_source`. `GET /api/checkout_com_payments/{id}` reads it back.
//! - Links (NOTES A11): `POST /api/links` (`name`, `client_id` = the account's sales channel,
//!   `scope` = `market:id:<market>`, optional `starts_at`, `expires_at` (future, after
//!   `starts_at`, default one month), `params`, relationship `item` = an order), `GET` and
//!   `PATCH /api/links/{id}` (`_disable`, `_enable` and the attributes of create). `url` is
//!   `<base>/link/<id>` (real: `https://commercelayer.link/...`); `status` is `disabled`,
//!   `expired`, `pending` (before `starts_at`) or `active`.
//! - `GET /api/markets/{id}`: the account's market; `include=price_list` gives its
//!   `price_lists` resource (`currency_code`, `tax_included`): the market resource itself has
//!   no currency attribute in resources.json.
//! - Hosted checkout: `GET /link/{id}` (410 once the link is disabled or expired, 403 while
//!   pending) and `GET /checkout/{order_id}?accessToken=<sales channel token of the order's
//!   market>` (an integration token is refused: "an integration token must never be used in a
//!   URL", NOTES A3). The page lists the lines and the total and offers `Pay` (`#pay`),
//!   `Decline card` (`#decline`) and `Back to cart` (`#cancel`), posting to
//!   `/checkout/{order_id}/{action}` with the link or token as the hidden `access` field; an
//!   expired, cancelled, placed or approved order's page says so without buttons.
//! - Payment outcomes (page buttons or the control API): `pay` records a succeeded
//!   authorization for `total_amount_with_taxes_cents`, sets the payment source's
//!   `payment_response.status` to `Authorized` and places the order (`placed`, `authorized`,
//!   `placed_at`, `payment_updated_at`); with the account's `auto_capture` the order goes on to
//!   `approved`/`paid`. `decline` records a failed authorization (`error_code` 20051,
//!   "Insufficient Funds", `payment_response.status: Declined`) and leaves the order as it
//!   was. `capture` turns a placed, authorized order into `approved`/`paid`. `cancel` (the
//!   customer's "Back to cart") changes nothing. `expire` moves the order's `expires_at` (and
//!   its links' `expires_at`) into the past; an expired order cannot be paid.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - The token endpoint answers errors in the JSON:API `errors` shape (real CL may answer
//!   OAuth-style `{"error": "invalid_client"}`: UNCONFIRMED); codes `INVALID_REQUEST`,
//!   `UNSUPPORTED_GRANT_TYPE`, `INVALID_SCOPE` (400), `UNAUTHORIZED` (401),
//!   `TOO_MANY_REQUESTS` (429, the same code as the sandbox's injected `rate_limit` fault). Only
//!   JSON bodies are accepted (UNCONFIRMED whether form bodies work). Requests refused with 429
//!   do not count towards the window (UNCONFIRMED). An integration's `scope` is ignored and
//!   answered as `market:all` (NOTES A3: UNCONFIRMED). A sales channel scope must be exactly
//!   one `market:id:<id>` (no `market:code:`, no lists). A sales channel that sends a secret
//!   is an invalid client.
//! - `PUT /_control/commercelayer/token_lifetime` sets `expires_in` for both kinds of token.
//! - Auth is checked before `Accept`/`Content-Type` (the real order is UNCONFIRMED); a missing
//!   `Accept` header is a 406 (strict; real CL may treat it as `*/*`: UNCONFIRMED);
//!   `Content-Type` with media type parameters is a 415 (JSON:API 1.0).
//! - The code for an attribute that is unknown or not writable is `400 PARAM_NOT_ALLOWED`
//!   (UNCONFIRMED, NOTES A10.1: "most likely rejected as unknown attributes (400)"); the detail
//!   of `payment_type`/`session_id` says they were removed (the real text is UNCONFIRMED).
//!   Real, writable attributes the sandbox does not emulate (`coupon_code`, `bundle_code`,
//!   `image_url`, `_authorize`, `domain`, ...) are refused the same way, the detail saying "a real
//!   Commerce Layer field that the Kassa sandbox does not emulate". Booleans must be JSON booleans and integers JSON integers
//!   (real CL may cast `"1"`: UNCONFIRMED); `unit_amount_cents` and `quantity` are at most
//!   2147483647 (UNCONFIRMED).
//! - Taxes: a manual calculator with one rate per line's tax category (the account's SKUs and
//!   their rates, else the default rate); CL's manual calculator has no per-SKU rate (NOTES A7)
//!   and its rounding (per line, half away from zero here) is UNCONFIRMED (NOTES A7, E4).
//!   Taxes are computed only with a shipping address; a billing address alone does not trigger
//!   them (UNCONFIRMED, NOTES E3). Lines without a SKU are taxed at the default rate
//!   (UNCONFIRMED) and count in the subtotal; their `item_type` is null (no associated item),
//!   SKU lines have `item_type: skus`. `_update_taxes` only counts a calculation
//!   (`tax_calculations_count`): amounts are always current (`autorefresh` is not emulated).
//! - A SKU line without `unit_amount_cents` is `422` "has no price": the sandbox has no price
//!   list entries. A SKU line's `name` defaults to its code. `_update_quantity` with a
//!   `sku_code` already on the order SETS that line's quantity (and its price, if sent) so a
//!   retried POST is idempotent, answering 201 with that line (set vs. add is UNCONFIRMED).
//! - Status: `draft` becomes `pending` once the order has a line item and a `customer_email`
//!   or a shipping address (and falls back to `draft` if the email is removed again). Only
//!   `draft`/`pending` orders are editable; on other orders only `reference`,
//!   `reference_origin` and `metadata` may change.
//! - `_place` is idempotent on a placed or approved order; on a pending order whose total is
//!   0 it places it as `free`; otherwise `422` "the payment source is not authorized" (the
//!   real code is UNCONFIRMED, NOTES E8); the hosted page's Pay authorizes and places.
//! - `_cancel`: `draft`/`pending` → `cancelled` with `payment_status` unchanged (real CL's
//!   `_cancel` is documented for placed orders only: UNCONFIRMED); `placed`/`approved` with an
//!   authorized payment → `cancelled` + `voided` (NOTES A12 says "voided"; UNCONFIRMED for
//!   approved orders); approved + `paid` → `422` ("captured: refund instead"); cancelled →
//!   `422`. `_approve` (placed → approved), `_capture`/`_approve_and_capture` (authorized →
//!   `approved` + `paid`).
//! - Capture (control, `_capture`, or `auto_capture`) sets `fulfillment_status: not_required`:
//!   the sandbox has no shipments, every item behaves as `do_not_ship` (NOTES A4).
//! - `pay` requires a checkout.com payment source on the order (the real hosted checkout
//!   creates one itself, NOTES A10.2; here the shop must). Pay redirects to the order's
//!   `return_url` with `order_id=<id>` appended (`?` or `&`), else no redirect (the real
//!   hosted checkout shows its own thank-you page: UNCONFIRMED); Back to cart redirects to
//!   `cart_url`, else the page says so.
//! - Order `checkout_url` is null (the legacy URL is UNCONFIRMED, NOTES A11 item 3).
//!   `payment_source_details` is null.
//! - Lists filter only by `filter[q][reference_eq]` (the predicate's name is UNCONFIRMED,
//!   NOTES A15); any other filter is `400 FILTER_NOT_ALLOWED` and `sort` is
//!   `400 PARAM_NOT_ALLOWED` ("does not emulate").
//! - Links: only `orders` items (`skus`/`sku_lists` are `422`); an unknown order is 404;
//!   `domain` is not emulated. A link page before `starts_at` is a 403 page.
//! - Addresses are cloned into new address ids but have no readable resource here
//!   (`include=shipping_address` is `400 INVALID_INCLUDE`).
//! - A sales channel token of the market may read, and open the hosted checkout of, an order
//!   an integration created (UNCONFIRMED, NOTES A3 and E2).
//! - `POST /api/checkout_com_payments` without `token` succeeds, as CL's own hosted checkout
//!   does it although the schema marks `token` required (UNCONFIRMED, NOTES A10.2 and E1).
//! - The hosted page goes straight to payment for any order with lines (no customer,
//!   address or delivery steps; UNCONFIRMED for a pre-filled guest order, NOTES A8). A declined
//!   authorization is not an HTTP error anywhere: it is a failed `authorizations` record
//!   (UNCONFIRMED for built-in gateways, NOTES A13).
//! - Not emulated: the Core API's own rate limits (NOTES A14, numbers partly UNCONFIRMED; use
//!   the sandbox's `rate_limit` fault), the plan's link quota (UNCONFIRMED, NOTES A11), the
//!   announced date-versioned `/api/{version}/` paths and document-level `meta` (UNCONFIRMED,
//!   NOTES A2; `meta` is per resource here), webhooks, refunds, `_authorize`/`_details`/
//!   `_refresh` on the payment source, and deleting resources.
//!
//! Controls (under `/_control`):
//!
//! | request | effect |
//! |---|---|
//! | `POST /_control/commercelayer/accounts` `{"client_id", "client_secret", "sales_channel_client_id", "market_id", "address_id", "currency", "tax_included", "default_tax_rate_bp", "skus": [{"code", "tax_rate_bp"}], "auto_capture"}` | add an organization (integration + sales channel + market); 400 if a rate is above 10000 bp |
//! | `POST /_control/commercelayer/orders/{id}/outcome` `{"outcome": "pay"}` | the hosted checkout: `pay`, `decline`, `cancel` (back to cart), `capture`, `expire`; answers `{"redirect": url or null}`, 409 `{"error"}` when not possible |
//! | `GET /_control/commercelayer/orders/{id}` | the order as the API shows it, with line items, payment source, links and authorizations included |
//! | `POST /_control/commercelayer/tokens/expire` | every issued token becomes expired (401) |
//! | `PUT /_control/commercelayer/token_lifetime` `{"seconds": 2}` | `expires_in` of new tokens (both kinds) |
//! | `GET /_control/commercelayer/stats` | `{"token_requests": n}`: token requests so far (all answers) |

use crate::common::{
    bearer_token, escape, is_http_url, is_json, money, page, public_base, random_bytes,
    random_from, random_hex,
};
use crate::control::{Lifetime, Outcome};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use kassa_core::time::{format_rfc3339, now_millis, parse_utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

const JSON_API: &str = "application/vnd.api+json";
const INTEGRATION_LIFETIME: u64 = 7200;
const SALES_CHANNEL_LIFETIME: u64 = 14_400;
const TOKEN_RATE_LIMIT: usize = 30;
const TOKEN_RATE_WINDOW_MS: i64 = 60_000;
const LINK_DEFAULT_LIFETIME_MS: i64 = 30 * 24 * 3600 * 1000;
/// Integer attributes are 4-byte integers (UNCONFIRMED).
const MAX_INT: i64 = i32::MAX as i64;
/// No order total beyond what a JSON number holds exactly.
const MAX_ORDER_CENTS: i128 = (1 << 53) - 1;
const PAGE_SIZE_DEFAULT: usize = 10;
const PAGE_SIZE_MAX: usize = 25;
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

#[derive(Clone)]
struct Authorization {
    id: String,
    number: String,
    succeeded: bool,
    amount_cents: i64,
    message: String,
    error_code: Option<String>,
    error_detail: Option<String>,
    gateway_transaction_id: String,
    created_at: i64,
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
    authorizations: Vec<Authorization>,
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
    payments: BTreeMap<String, Payment>,
    links: BTreeMap<String, Link>,
    seq: u64,
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
            created_at: now_millis(),
        });
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

// ---------------------------------------------------------------------------------------------
// Ids, tokens, times

/// A Commerce Layer style id: short, letters only (`xYZkjABcde`).
fn rand_id(n: usize) -> String {
    random_from(n, b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

/// checkout.com style ids are lower-case base32.
fn rand_lower(n: usize) -> String {
    random_from(n, b"abcdefghijklmnopqrstuvwxyz234567")
}

/// An opaque, JWT-shaped access token (the emulator only looks it up).
fn new_access_token(acct: &Acct, integration: bool, exp_ms: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let kind = if integration {
        "integration"
    } else {
        "sales_channel"
    };
    let client_id = if integration {
        &acct.a.client_id
    } else {
        &acct.a.sales_channel_client_id
    };
    let mut claims = json!({
        "organization": {"id": acct.organization_id, "slug": "kassa-sandbox", "enterprise": false},
        "application": {"client_id": client_id, "kind": kind, "public": !integration},
        "test": true,
        "exp": exp_ms / 1000,
        "rand": random_hex(8),
    });
    if !integration {
        claims["market"] = json!({"id": [acct.a.market_id], "price_list_id": acct.price_list_id});
    }
    format!(
        "{}.{}.{}",
        b64(json!({"alg": "RS512", "typ": "JWT", "kid": "kassa-sandbox"})),
        b64(claims),
        URL_SAFE_NO_PAD.encode(random_bytes::<64>())
    )
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

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: String,
    title: String,
    detail: String,
    source: Option<Value>,
    meta: Option<Value>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &str,
        title: impl Into<String>,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            title: title.into(),
            detail: detail.into(),
            source: None,
            meta: None,
        }
    }

    fn at(mut self, pointer: impl Into<String>) -> ApiError {
        self.source = Some(json!({ "pointer": pointer.into() }));
        self
    }

    fn param(mut self, parameter: &str) -> ApiError {
        self.source = Some(json!({ "parameter": parameter }));
        self
    }

    fn meta(mut self, meta: Value) -> ApiError {
        self.meta = Some(meta);
        self
    }

    fn json(&self) -> Value {
        let mut v = json!({
            "title": self.title,
            "detail": self.detail,
            "code": self.code,
            "status": self.status.as_u16().to_string(),
        });
        if let Some(s) = &self.source {
            v["source"] = s.clone();
        }
        if let Some(m) = &self.meta {
            v["meta"] = m.clone();
        }
        v
    }
}

/// One error answer: every problem found, with the first one's HTTP status.
#[derive(Debug)]
struct Errors(Vec<ApiError>);

impl From<ApiError> for Errors {
    fn from(e: ApiError) -> Errors {
        Errors(vec![e])
    }
}

impl IntoResponse for Errors {
    fn into_response(self) -> Response {
        let status = self.0.first().map_or(StatusCode::BAD_REQUEST, |e| e.status);
        let body = json!({ "errors": self.0.iter().map(ApiError::json).collect::<Vec<_>>() });
        api_json(status, &body)
    }
}

type ApiResult = Result<Response, Errors>;

fn respond(r: ApiResult) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

fn check(errs: Vec<ApiError>) -> Result<(), Errors> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Errors(errs))
    }
}

fn api_json(status: StatusCode, v: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, JSON_API)], v.to_string()).into_response()
}

/// Commerce Layer's JSON:API error shape (also for the sandbox's injected faults).
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    Errors(vec![ApiError::new(status, code, title, message)]).into_response()
}

fn unauthorized(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Unauthorized",
        detail,
    )
}

fn record_not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RECORD_NOT_FOUND",
        "Record not found",
        format!("The record identified by {id} could not be found."),
    )
}

fn bad_request(code: &str, title: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, title, detail)
}

fn not_allowed(pointer: String, name: &str, hint: Option<&str>) -> ApiError {
    let detail = match hint {
        Some(h) => format!("{name} is not allowed: {h}"),
        None => format!("{name} is not allowed."),
    };
    bad_request("PARAM_NOT_ALLOWED", "Param not allowed", detail).at(pointer)
}

const NOT_EMULATED: &str = "a real Commerce Layer field that the Kassa sandbox does not emulate";

/// `422 VALIDATION_ERROR`: title = the message, detail `"<field> - <message>"`.
fn invalid(pointer: String, name: &str, message: &str, error: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_ERROR",
        message,
        format!("{name} - {message}"),
    )
    .at(pointer)
    .meta(json!({ "error": error }))
}

fn attr_ptr(name: &str) -> String {
    format!("/data/attributes/{name}")
}

fn rel_ptr(name: &str) -> String {
    format!("/data/relationships/{name}")
}

fn invalid_attr(name: &str, message: &str, error: &str) -> ApiError {
    invalid(attr_ptr(name), name, message, error)
}

fn invalid_rel(name: &str, message: &str, error: &str) -> ApiError {
    invalid(rel_ptr(name), name, message, error)
}

fn blank_attr(name: &str) -> ApiError {
    invalid_attr(name, "can't be blank", "blank")
}

// ---------------------------------------------------------------------------------------------
// Requests: auth, media types, documents, query parameters

struct Caller {
    account: String,
    integration: bool,
}

/// The caller a token stands for, else why it does not (the detail of the 401).
fn token_caller(e: &Emulator, token: &str, now: i64) -> Result<Caller, &'static str> {
    let Some(info) = e.tokens.get(token) else {
        return Err("The access token you provided is invalid.");
    };
    if info.expires_at <= now {
        return Err("The access token you provided is expired.");
    }
    Ok(Caller {
        account: info.account.clone(),
        integration: info.integration,
    })
}

/// The caller of an API request, after the token and the media type checks.
fn api_caller(e: &Emulator, headers: &HeaderMap, write: bool, now: i64) -> Result<Caller, Errors> {
    let Some(token) = bearer_token(headers) else {
        return Err(unauthorized(
            "An access token is required: send Authorization: Bearer <access token>.",
        )
        .into());
    };
    let caller = token_caller(e, token, now).map_err(unauthorized)?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let accepts = accept.split(',').any(|range| {
        range
            .split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case(JSON_API))
    });
    if !accepts {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "Not acceptable",
            format!("All requests must use the '{JSON_API}' Accept header. This request specified '{accept}'."),
        )
        .into());
    }
    if write {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !ct.trim().eq_ignore_ascii_case(JSON_API) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Unsupported media type",
                format!("All requests that create or update must use the '{JSON_API}' Content-Type. This request specified '{ct}'."),
            )
            .into());
        }
    }
    Ok(caller)
}

fn integration_only(c: &Caller, what: &str) -> Result<(), Errors> {
    if c.integration {
        Ok(())
    } else {
        Err(unauthorized(format!(
            "{what} requires an integration token (this is a sales channel token)."
        ))
        .into())
    }
}

/// A JSON:API request document, its shape checked.
struct Doc {
    attrs: Map<String, Value>,
    /// Relationship name → `null` or `{"type", "id"}`.
    rels: Map<String, Value>,
}

impl Doc {
    /// A non-null attribute.
    fn get(&self, name: &str) -> Option<&Value> {
        self.attrs.get(name).filter(|v| !v.is_null())
    }

    fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_i64)
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name) == Some(&Value::Bool(true))
    }

    /// `None`: absent; `Some(None)`: `null`; else `(type, id)`.
    fn rel(&self, name: &str) -> Option<Option<(&str, &str)>> {
        let d = self.rels.get(name)?;
        Some(
            d.get("type")
                .and_then(Value::as_str)
                .zip(d.get("id").and_then(Value::as_str)),
        )
    }
}

/// `{"data": {"type", "id"}}` or `{"data": null}`.
fn linkage(r: &Value) -> Option<Value> {
    let o = r.as_object()?;
    let d = o.get("data").filter(|_| o.len() == 1)?;
    match d {
        Value::Null => Some(Value::Null),
        Value::Object(m)
            if m.len() == 2
                && m.get("type").is_some_and(Value::is_string)
                && m.get("id").is_some_and(Value::is_string) =>
        {
            Some(d.clone())
        }
        _ => None,
    }
}

/// Checks the document's shape: `data` with `type` (= `ty`), `id` (only on update, equal to
/// the path's), `attributes` and `relationships` objects.
fn parse_doc(body: &[u8], ty: &str, path_id: Option<&str>) -> Result<Doc, Errors> {
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        bad_request(
            "BAD_REQUEST",
            "Bad request",
            format!("The request body is not valid JSON: {e}"),
        )
    })?;
    let Some(obj) = root.as_object() else {
        return Err(bad_request(
            "INVALID_DATA_FORMAT",
            "Invalid data format",
            "The request body must be a JSON object with a data member.",
        )
        .into());
    };
    let mut errs: Vec<ApiError> = obj
        .keys()
        .filter(|k| *k != "data")
        .map(|k| not_allowed(format!("/{k}"), k, None))
        .collect();
    let Some(data) = obj.get("data").and_then(Value::as_object) else {
        errs.push(
            bad_request(
                "PARAM_MISSING",
                "Missing Parameter",
                "The required parameter, data, is missing.",
            )
            .at("/data"),
        );
        return Err(Errors(errs));
    };
    for k in data.keys() {
        if !["type", "id", "attributes", "relationships"].contains(&k.as_str()) {
            errs.push(not_allowed(format!("/data/{k}"), k, None));
        }
    }
    match data.get("type") {
        None => errs.push(
            bad_request(
                "PARAM_MISSING",
                "Missing Parameter",
                "The required parameter, type, is missing.",
            )
            .at("/data/type"),
        ),
        Some(t) if t.as_str() == Some(ty) => {}
        Some(t) => {
            let shown = t.as_str().map_or_else(|| t.to_string(), str::to_string);
            errs.push(
                bad_request(
                    "TYPE_MISMATCH",
                    "Type Mismatch",
                    format!("{shown} is not a valid type for this operation."),
                )
                .at("/data/type"),
            );
        }
    }
    match (data.get("id"), path_id) {
        (None, None) => {}
        (Some(_), None) => errs.push(not_allowed(
            "/data/id".into(),
            "id",
            Some("ids are assigned by Commerce Layer"),
        )),
        (None, Some(_)) => errs.push(
            bad_request(
                "PARAM_MISSING",
                "Missing Parameter",
                "The required parameter, id, is missing.",
            )
            .at("/data/id"),
        ),
        (Some(v), Some(p)) => {
            if v.as_str() != Some(p) {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                errs.push(
                    bad_request(
                        "KEY_NOT_INCLUDED_IN_URL",
                        "Key is not included in URL",
                        format!("The URL does not support the key {shown}"),
                    )
                    .at("/data/id"),
                );
            }
        }
    }
    let attrs = match data.get("attributes") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            errs.push(
                bad_request(
                    "INVALID_DATA_FORMAT",
                    "Invalid data format",
                    "attributes must be an object.",
                )
                .at("/data/attributes"),
            );
            Map::new()
        }
    };
    let mut rels = Map::new();
    match data.get("relationships") {
        None => {}
        Some(Value::Object(m)) => {
            for (name, r) in m {
                match linkage(r) {
                    Some(d) => {
                        rels.insert(name.clone(), d);
                    }
                    None => errs.push(
                        bad_request(
                            "INVALID_LINKS_OBJECT",
                            "Invalid Links Object",
                            "Data is not a valid Links Object.",
                        )
                        .at(rel_ptr(name)),
                    ),
                }
            }
        }
        Some(_) => errs.push(
            bad_request(
                "INVALID_DATA_FORMAT",
                "Invalid data format",
                "relationships must be an object.",
            )
            .at("/data/relationships"),
        ),
    }
    check(errs)?;
    Ok(Doc { attrs, rels })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Bool,
    Int,
    Obj,
    Time,
    Url,
    Email,
    Lang,
}

/// What a resource accepts in a create or an update.
struct Fields<'a> {
    attrs: &'a [&'a [(&'a str, Kind)]],
    /// Real writable attributes the sandbox does not emulate.
    not_emulated: &'a [&'a str],
    /// Attributes Commerce Layer removed, with what the detail says.
    removed: &'a [(&'a str, &'a str)],
    rels: &'a [&'a str],
    rels_not_emulated: &'a [&'a str],
}

impl Fields<'_> {
    fn kind(&self, name: &str) -> Option<Kind> {
        self.attrs
            .iter()
            .flat_map(|list| list.iter())
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }

    /// Pass one (400): names that are not accepted.
    fn names(&self, doc: &Doc) -> Vec<ApiError> {
        let mut errs = Vec::new();
        for name in doc.attrs.keys() {
            if self.kind(name).is_some() {
                continue;
            }
            let hint = if let Some((_, why)) = self.removed.iter().find(|(n, _)| n == name) {
                Some(*why)
            } else if self.not_emulated.contains(&name.as_str()) {
                Some(NOT_EMULATED)
            } else {
                None
            };
            errs.push(not_allowed(attr_ptr(name), name, hint));
        }
        for name in doc.rels.keys() {
            if self.rels.contains(&name.as_str()) {
                continue;
            }
            let hint = self
                .rels_not_emulated
                .contains(&name.as_str())
                .then_some(NOT_EMULATED);
            errs.push(not_allowed(rel_ptr(name), name, hint));
        }
        errs
    }

    /// Pass two (422): the values' types (`null` passes; the handlers decide what it means).
    fn kinds(&self, doc: &Doc) -> Vec<ApiError> {
        let mut errs = Vec::new();
        for (name, v) in &doc.attrs {
            let Some(kind) = self.kind(name) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            let s = v.as_str();
            let problem = match kind {
                Kind::Str => (!v.is_string()).then_some("must be a string"),
                Kind::Bool => (!v.is_boolean()).then_some("must be true or false"),
                Kind::Int => v.as_i64().is_none().then_some("must be an integer"),
                Kind::Obj => (!v.is_object()).then_some("must be an object"),
                Kind::Time => s
                    .and_then(parse_time)
                    .is_none()
                    .then_some("must be an RFC 3339 date-time"),
                Kind::Url => (!s
                    .is_some_and(|u| is_http_url(u) && !u.contains(char::is_whitespace)))
                .then_some("must be an http(s) URL"),
                Kind::Email => (!s.is_some_and(valid_email)).then_some("is invalid"),
                Kind::Lang => (!s
                    .is_some_and(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase())))
                .then_some("must be an ISO 639-1 language code"),
            };
            if let Some(message) = problem {
                let error = if kind == Kind::Int {
                    "not_an_integer"
                } else {
                    "invalid"
                };
                errs.push(invalid_attr(name, message, error));
            }
        }
        errs
    }
}

/// The query parameters of an API request.
#[derive(Default)]
struct Opts {
    include: Vec<String>,
    fields: HashMap<String, Vec<String>>,
    reference_eq: Option<String>,
    page_size: usize,
    page_number: usize,
}

const RESOURCE_TYPES: &[&str] = &[
    "orders",
    "line_items",
    "payment_methods",
    "checkout_com_payments",
    "links",
    "authorizations",
    "markets",
    "price_lists",
];

const REFERENCE_FILTER: &str = "filter[q][reference_eq]";

/// Parses `include`, `fields[...]` and, for lists, the reference filter and the page.
fn parse_query(
    q: &[(String, String)],
    resource: &str,
    includes: &[&str],
    includes_not_emulated: &[&str],
    list: bool,
) -> Result<Opts, Errors> {
    let mut o = Opts {
        page_size: PAGE_SIZE_DEFAULT,
        page_number: 1,
        ..Opts::default()
    };
    let mut errs = Vec::new();
    for (key, value) in q {
        if key == "include" {
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if includes.contains(&name) {
                    if !o.include.iter().any(|i| i == name) {
                        o.include.push(name.to_string());
                    }
                } else {
                    let hint = if includes_not_emulated.contains(&name) {
                        format!(" ({NOT_EMULATED})")
                    } else {
                        String::new()
                    };
                    errs.push(
                        bad_request(
                            "INVALID_INCLUDE",
                            "Invalid field",
                            format!("{name} is not a valid relationship of {resource}{hint}"),
                        )
                        .param("include"),
                    );
                }
            }
        } else if let Some(ty) = key
            .strip_prefix("fields[")
            .and_then(|k| k.strip_suffix(']'))
        {
            if RESOURCE_TYPES.contains(&ty) {
                let names = value
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect();
                o.fields.insert(ty.to_string(), names);
            } else {
                errs.push(
                    bad_request(
                        "INVALID_RESOURCE",
                        "Invalid resource",
                        format!("{ty} is not a valid resource."),
                    )
                    .param(key),
                );
            }
        } else if list && key == REFERENCE_FILTER {
            o.reference_eq = Some(value.clone());
        } else if list && key.starts_with("filter[") {
            errs.push(
                bad_request(
                    "FILTER_NOT_ALLOWED",
                    "Filter not allowed",
                    format!(
                        "{key} is not allowed: the Kassa sandbox only emulates {REFERENCE_FILTER}."
                    ),
                )
                .param(key),
            );
        } else if list && (key == "page[size]" || key == "page[number]") {
            let max = if key == "page[size]" {
                PAGE_SIZE_MAX
            } else {
                usize::MAX
            };
            match value.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => {
                    if key == "page[size]" {
                        o.page_size = n;
                    } else {
                        o.page_number = n;
                    }
                }
                _ => errs.push(
                    bad_request(
                        "INVALID_PAGE_VALUE",
                        "Invalid page value",
                        format!("{value} is not a valid value for {key}."),
                    )
                    .param(key),
                ),
            }
        } else {
            let hint = if key == "sort" || (!list && key.starts_with("filter[")) {
                format!(": {NOT_EMULATED}")
            } else {
                ".".to_string()
            };
            errs.push(
                bad_request(
                    "PARAM_NOT_ALLOWED",
                    "Param not allowed",
                    format!("{key} is not allowed{hint}"),
                )
                .param(key),
            );
        }
    }
    check(errs)?;
    Ok(o)
}

/// Keeps only the requested fields (`fields[<type>]`) of a rendered resource.
fn apply_fields(r: &mut Value, o: &Opts) -> Result<(), Errors> {
    let Some(ty) = r["type"].as_str().map(str::to_string) else {
        return Ok(());
    };
    let Some(names) = o.fields.get(&ty) else {
        return Ok(());
    };
    let mut errs = Vec::new();
    for n in names {
        let known = r["attributes"].get(n).is_some() || r["relationships"].get(n).is_some();
        if !known {
            errs.push(
                bad_request(
                    "INVALID_FIELD",
                    "Invalid field",
                    format!("{n} is not a valid field for {ty}."),
                )
                .param(&format!("fields[{ty}]")),
            );
        }
    }
    check(errs)?;
    for part in ["attributes", "relationships"] {
        if let Some(m) = r.get_mut(part).and_then(Value::as_object_mut) {
            m.retain(|k, _| names.contains(k));
        }
    }
    Ok(())
}

/// The JSON:API document: `data` (one or a list) and `included`, with sparse fieldsets.
fn document(mut data: Value, included: Vec<Value>, o: &Opts) -> Result<Value, Errors> {
    match &mut data {
        Value::Array(list) => {
            for r in list.iter_mut() {
                apply_fields(r, o)?;
            }
        }
        r => apply_fields(r, o)?,
    }
    let mut doc = json!({ "data": data });
    if !o.include.is_empty() {
        let mut seen = HashSet::new();
        let mut list = Vec::new();
        for mut r in included {
            let key = (r["type"].to_string(), r["id"].to_string());
            if seen.insert(key) {
                apply_fields(&mut r, o)?;
                list.push(r);
            }
        }
        doc["included"] = Value::Array(list);
    }
    Ok(doc)
}

// ---------------------------------------------------------------------------------------------
// Amounts

/// `num / den` rounded half away from zero (`den > 0`).
fn div_round_half_away(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// The tax in a line total `total` at `bp` basis points.
fn line_tax(total: i64, bp: u32, included: bool) -> i64 {
    let (t, bp) = (i128::from(total), i128::from(bp));
    let den = if included { 10_000 + bp } else { 10_000 };
    to_i64(div_round_half_away(t * bp, den))
}

fn to_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

struct LineAmounts {
    total: i64,
    tax: i64,
    rate_bp: Option<u32>,
}

struct Amounts {
    lines: Vec<LineAmounts>,
    subtotal: i64,
    tax: i64,
    total: i64,
    taxable: i64,
    rate_bp: Option<u32>,
}

fn amounts(o: &Order, acct: &Acct) -> Amounts {
    let taxed = o.shipping_address.is_some();
    let included = acct.a.tax_included;
    let lines: Vec<LineAmounts> = o
        .lines
        .iter()
        .map(|l| {
            let total = to_i64(i128::from(l.unit_amount_cents) * i128::from(l.quantity));
            let rate = taxed.then(|| {
                l.sku_code
                    .as_deref()
                    .and_then(|c| acct.sku_rate(c))
                    .unwrap_or(acct.a.default_tax_rate_bp)
            });
            LineAmounts {
                total,
                tax: rate.map_or(0, |bp| line_tax(total, bp, included)),
                rate_bp: rate,
            }
        })
        .collect();
    let subtotal: i128 = lines.iter().map(|l| i128::from(l.total)).sum();
    let tax: i128 = lines.iter().map(|l| i128::from(l.tax)).sum();
    let (total, taxable) = if included {
        (subtotal, subtotal - tax)
    } else {
        (subtotal + tax, subtotal)
    };
    let first = lines.first().and_then(|l| l.rate_bp);
    let rate_bp = first.filter(|r| lines.iter().all(|l| l.rate_bp == Some(*r)));
    Amounts {
        lines,
        subtotal: to_i64(subtotal),
        tax: to_i64(tax),
        total: to_i64(total),
        taxable: to_i64(taxable),
        rate_bp,
    }
}

fn rate_value(bp: Option<u32>) -> Value {
    bp.map_or(Value::Null, |bp| json!(f64::from(bp) / 10_000.0))
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn meta(acct: &Acct) -> Value {
    json!({"mode": "test", "organization_id": acct.organization_id})
}

fn rel_links(base: &str, ty: &str, id: &str, name: &str) -> Value {
    json!({"links": {
        "self": format!("{base}/api/{ty}/{id}/relationships/{name}"),
        "related": format!("{base}/api/{ty}/{id}/{name}"),
    }})
}

fn resource(
    base: &str,
    ty: &str,
    id: &str,
    acct: &Acct,
    attributes: Map<String, Value>,
    rels: &[(&str, Option<Value>)],
) -> Value {
    let mut relationships = Map::new();
    for (name, data) in rels {
        let mut r = rel_links(base, ty, id, name);
        if let Some(d) = data {
            r["data"] = d.clone();
        }
        relationships.insert(name.to_string(), r);
    }
    json!({
        "id": id,
        "type": ty,
        "links": {"self": format!("{base}/api/{ty}/{id}")},
        "attributes": attributes,
        "relationships": relationships,
        "meta": meta(acct),
    })
}

fn map(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn ident(ty: &str, id: &str) -> Value {
    json!({"type": ty, "id": id})
}

const ORDER_RELS: &[&str] = &[
    "market",
    "customer",
    "shipping_address",
    "billing_address",
    "available_payment_methods",
    "payment_method",
    "payment_source",
    "line_items",
    "authorizations",
    "links",
];
const ORDER_INCLUDES: &[&str] = &[
    "market",
    "line_items",
    "available_payment_methods",
    "payment_method",
    "payment_source",
    "links",
    "authorizations",
];
const ORDER_INCLUDES_NOT_EMULATED: &[&str] = &[
    "customer",
    "shipping_address",
    "billing_address",
    "store",
    "shipments",
    "transactions",
    "captures",
    "voids",
    "refunds",
    "attachments",
    "tags",
];

fn order_links<'a>(e: &'a Emulator, o: &Order) -> Vec<&'a Link> {
    let mut list: Vec<&Link> = e.links.values().filter(|l| l.order_id == o.id).collect();
    list.sort_by_key(|l| l.created_at);
    list
}

fn order_rel_data(e: &Emulator, o: &Order, name: &str) -> Value {
    let acct = e.acct(&o.account);
    match name {
        "market" => ident("markets", &acct.a.market_id),
        "available_payment_methods" => json!([ident("payment_methods", &acct.payment_method_id)]),
        "payment_method" => o
            .payment_method
            .as_deref()
            .map_or(Value::Null, |id| ident("payment_methods", id)),
        "payment_source" => o
            .payment_source
            .as_deref()
            .map_or(Value::Null, |id| ident(PAYMENT_SOURCE_TYPE, id)),
        "line_items" => Value::Array(o.lines.iter().map(|l| ident("line_items", &l.id)).collect()),
        "authorizations" => Value::Array(
            o.authorizations
                .iter()
                .map(|a| ident("authorizations", &a.id))
                .collect(),
        ),
        "links" => Value::Array(
            order_links(e, o)
                .iter()
                .map(|l| ident("links", &l.id))
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn order_included(e: &Emulator, o: &Order, name: &str, base: &str, now: i64) -> Vec<Value> {
    let acct = e.acct(&o.account);
    match name {
        "market" => vec![market_resource(acct, base, false)],
        "available_payment_methods" => vec![payment_method_resource(acct, base)],
        "payment_method" if o.payment_method.is_some() => {
            vec![payment_method_resource(acct, base)]
        }
        "payment_source" => o
            .payment_source
            .as_ref()
            .and_then(|id| e.payments.get(id))
            .map(|p| vec![payment_resource(e, p, base)])
            .unwrap_or_default(),
        "line_items" => {
            let am = amounts(o, acct);
            o.lines
                .iter()
                .zip(&am.lines)
                .map(|(l, la)| line_resource(l, la, acct, base))
                .collect()
        }
        "authorizations" => o
            .authorizations
            .iter()
            .map(|a| authorization_resource(o, a, acct, base))
            .collect(),
        "links" => order_links(e, o)
            .iter()
            .map(|l| link_resource(e, l, base, now))
            .collect(),
        _ => Vec::new(),
    }
}

fn order_resource(e: &Emulator, o: &Order, base: &str, include: &[String]) -> Value {
    let acct = e.acct(&o.account);
    let am = amounts(o, acct);
    let skus_count: i64 = o
        .lines
        .iter()
        .filter(|l| l.sku_code.is_some())
        .map(|l| l.quantity)
        .sum();
    let mut a = map(vec![
        ("number", json!(o.number)),
        ("affiliate_code", Value::Null),
        ("autorefresh", json!(true)),
        ("place_async", json!(false)),
        ("status", json!(o.status)),
        ("payment_status", json!(o.payment_status)),
        ("fulfillment_status", json!(o.fulfillment_status)),
        ("guest", json!(false)),
        ("editable", json!(o.editable())),
        ("customer_email", Value::Null),
        ("language_code", json!("en")),
        ("currency_code", json!(acct.a.currency)),
        ("tax_included", json!(acct.a.tax_included)),
        ("tax_rate", rate_value(am.rate_bp)),
        ("freight_taxable", json!(false)),
        ("payment_method_taxable", json!(false)),
        ("adjustment_taxable", json!(false)),
        ("gift_card_taxable", json!(false)),
        ("requires_billing_info", json!(false)),
        ("country_code", Value::Null),
        ("shipping_country_code_lock", Value::Null),
        ("subtotal_amount_cents", json!(am.subtotal)),
        ("shipping_amount_cents", json!(0)),
        ("payment_method_amount_cents", json!(0)),
        ("discount_amount_cents", json!(0)),
        ("adjustment_amount_cents", json!(0)),
        ("gift_card_amount_cents", json!(0)),
        ("total_tax_amount_cents", json!(am.tax)),
        ("subtotal_tax_amount_cents", json!(am.tax)),
        ("shipping_tax_amount_cents", json!(0)),
        ("payment_method_tax_amount_cents", json!(0)),
        ("adjustment_tax_amount_cents", json!(0)),
        ("total_amount_cents", json!(am.total)),
        ("total_taxable_amount_cents", json!(am.taxable)),
        ("subtotal_taxable_amount_cents", json!(am.taxable)),
        ("shipping_taxable_amount_cents", json!(0)),
        ("payment_method_taxable_amount_cents", json!(0)),
        ("adjustment_taxable_amount_cents", json!(0)),
        ("total_amount_with_taxes_cents", json!(am.total)),
        ("fees_amount_cents", json!(0)),
        ("duty_amount_cents", json!(0)),
        ("place_total_amount_cents", json!(o.place_total)),
        ("skus_count", json!(skus_count)),
        ("line_item_options_count", json!(0)),
        ("shipments_count", json!(0)),
        ("tax_calculations_count", json!(o.tax_calculations)),
        ("validations_count", json!(0)),
        ("errors_count", json!(0)),
        ("payment_source_details", Value::Null),
        ("token", json!(o.token)),
        ("cart_url", Value::Null),
        ("return_url", Value::Null),
        ("terms_url", Value::Null),
        ("privacy_url", Value::Null),
        ("checkout_url", Value::Null),
        ("placed_at", time_value(o.placed_at)),
        ("approved_at", time_value(o.approved_at)),
        ("cancelled_at", time_value(o.cancelled_at)),
        ("payment_updated_at", time_value(o.payment_updated_at)),
        (
            "fulfillment_updated_at",
            time_value(o.fulfillment_updated_at),
        ),
        ("refreshed_at", time_value(o.refreshed_at)),
        ("archived_at", Value::Null),
        ("subscription_created_at", Value::Null),
        ("expires_at", time_value(o.expires_at)),
        ("expiration_info", Value::Null),
        ("circuit_state", json!("closed")),
        ("circuit_failure_count", json!(0)),
        ("created_at", time_value(Some(o.created_at))),
        ("updated_at", time_value(Some(o.updated_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    for (k, v) in &o.attrs {
        a.insert(k.clone(), v.clone());
    }
    let rels: Vec<(&str, Option<Value>)> = ORDER_RELS
        .iter()
        .map(|name| {
            let data = include
                .iter()
                .any(|i| i == name)
                .then(|| order_rel_data(e, o, name));
            (*name, data)
        })
        .collect();
    resource(base, "orders", &o.id, acct, a, &rels)
}

fn order_document(
    e: &Emulator,
    o: &Order,
    base: &str,
    opts: &Opts,
    now: i64,
) -> Result<Value, Errors> {
    let data = order_resource(e, o, base, &opts.include);
    let included = opts
        .include
        .iter()
        .flat_map(|name| order_included(e, o, name, base, now))
        .collect();
    document(data, included, opts)
}

fn line_resource(l: &Line, la: &LineAmounts, acct: &Acct, base: &str) -> Value {
    let mut a = map(vec![
        ("sku_code", json!(l.sku_code)),
        ("bundle_code", Value::Null),
        ("quantity", json!(l.quantity)),
        ("currency_code", json!(acct.a.currency)),
        ("unit_amount_cents", json!(l.unit_amount_cents)),
        ("compare_at_amount_cents", Value::Null),
        ("options_amount_cents", json!(0)),
        ("discount_cents", json!(0)),
        ("total_amount_cents", json!(la.total)),
        ("tax_amount_cents", json!(la.tax)),
        ("tax_rate", rate_value(la.rate_bp)),
        ("tax_breakdown", Value::Null),
        ("discount_breakdown", Value::Null),
        ("name", json!(l.name)),
        ("image_url", Value::Null),
        (
            "item_type",
            if l.sku_code.is_some() {
                json!("skus")
            } else {
                Value::Null
            },
        ),
        ("_external_price", json!(l.external_price)),
        ("frequency", Value::Null),
        ("circuit_state", json!("closed")),
        ("circuit_failure_count", json!(0)),
        ("created_at", time_value(Some(l.created_at))),
        ("updated_at", time_value(Some(l.updated_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    for (k, v) in &l.attrs {
        a.insert(k.clone(), v.clone());
    }
    resource(
        base,
        "line_items",
        &l.id,
        acct,
        a,
        &[("order", None), ("item", None)],
    )
}

fn payment_method_resource(acct: &Acct, base: &str) -> Value {
    let a = map(vec![
        ("name", json!("Checkout.com card")),
        ("payment_source_type", json!(PAYMENT_SOURCE_TYPE)),
        ("currency_code", json!(acct.a.currency)),
        ("moto", json!(false)),
        ("require_capture", json!(true)),
        ("auto_place", json!(false)),
        ("auto_capture", json!(acct.a.auto_capture)),
        ("price_amount_cents", json!(0)),
        ("auto_capture_max_amount_cents", Value::Null),
        ("disabled_at", Value::Null),
        ("created_at", time_value(Some(acct.created_at))),
        ("updated_at", time_value(Some(acct.created_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    resource(
        base,
        "payment_methods",
        &acct.payment_method_id,
        acct,
        a,
        &[("market", None), ("payment_gateway", None)],
    )
}

fn payment_resource(e: &Emulator, p: &Payment, base: &str) -> Value {
    let acct = e.acct(&p.account);
    let current = e
        .orders
        .get(&p.order_id)
        .map(|o| amounts(o, acct).total)
        .unwrap_or(0);
    let instrument = p
        .authorized_amount
        .map(|_| json!({"issuer": "Kassa Sandbox Bank", "card_type": "credit"}))
        .unwrap_or(Value::Null);
    let mut a = map(vec![
        ("public_key", json!(p.public_key)),
        ("token", json!(p.token)),
        (
            "payment_session",
            json!({
                "id": p.session_id,
                "payment_session_secret": p.session_secret,
                "payment_session_token": p.session_token,
                "_links": {"self": {"href": format!("https://api.sandbox.checkout.com/payment-sessions/{}", p.session_id)}},
            }),
        ),
        ("success_url", json!(p.success_url)),
        ("failure_url", json!(p.failure_url)),
        ("source_id", Value::Null),
        ("customer_token", Value::Null),
        ("redirect_uri", Value::Null),
        (
            "payment_response",
            p.payment_response.clone().unwrap_or(Value::Null),
        ),
        (
            "mismatched_amounts",
            json!(p.authorized_amount.is_some_and(|x| x != current)),
        ),
        ("payment_instrument", instrument),
        ("created_at", time_value(Some(p.created_at))),
        ("updated_at", time_value(Some(p.updated_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    for (k, v) in &p.attrs {
        a.insert(k.clone(), v.clone());
    }
    resource(
        base,
        PAYMENT_SOURCE_TYPE,
        &p.id,
        acct,
        a,
        &[("order", None), ("payment_gateway", None)],
    )
}

fn authorization_resource(o: &Order, t: &Authorization, acct: &Acct, base: &str) -> Value {
    let captured = o.payment_status == "paid" && t.succeeded;
    let open = t.succeeded && o.payment_status == "authorized";
    let a = map(vec![
        ("number", json!(t.number)),
        ("payment_method_type", json!(PAYMENT_SOURCE_TYPE)),
        ("currency_code", json!(acct.a.currency)),
        ("amount_cents", json!(t.amount_cents)),
        ("succeeded", json!(t.succeeded)),
        ("message", json!(t.message)),
        ("error_code", json!(t.error_code)),
        ("error_detail", json!(t.error_detail)),
        ("token", json!(t.gateway_transaction_id)),
        ("gateway_transaction_id", json!(t.gateway_transaction_id)),
        (
            "capture_amount_cents",
            json!(if captured { t.amount_cents } else { 0 }),
        ),
        (
            "capture_balance_cents",
            json!(if open { t.amount_cents } else { 0 }),
        ),
        (
            "void_balance_cents",
            json!(if open { t.amount_cents } else { 0 }),
        ),
        ("created_at", time_value(Some(t.created_at))),
        ("updated_at", time_value(Some(t.created_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    resource(
        base,
        "authorizations",
        &t.id,
        acct,
        a,
        &[("order", None), ("captures", None), ("voids", None)],
    )
}

fn link_resource(e: &Emulator, l: &Link, base: &str, now: i64) -> Value {
    let acct = e.acct(&l.account);
    let status = l.status(now);
    let mut a = map(vec![
        ("name", json!(l.name)),
        ("client_id", json!(l.client_id)),
        ("scope", json!(l.scope)),
        ("starts_at", time_value(Some(l.starts_at))),
        ("expires_at", time_value(Some(l.expires_at))),
        ("active", json!(status == "active")),
        ("status", json!(status)),
        ("domain", json!("commercelayer.link")),
        ("url", json!(format!("{base}/link/{}", l.id))),
        ("item_type", json!("orders")),
        ("params", l.params.clone()),
        ("disabled_at", time_value(l.disabled_at)),
        ("created_at", time_value(Some(l.created_at))),
        ("updated_at", time_value(Some(l.updated_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    for (k, v) in &l.attrs {
        a.insert(k.clone(), v.clone());
    }
    resource(
        base,
        "links",
        &l.id,
        acct,
        a,
        &[
            ("item", Some(ident("orders", &l.order_id))),
            ("events", None),
        ],
    )
}

fn market_resource(acct: &Acct, base: &str, with_price_list: bool) -> Value {
    let a = map(vec![
        ("number", json!(acct.market_number)),
        (
            "name",
            json!(format!("Kassa sandbox market ({})", acct.a.currency)),
        ),
        (
            "code",
            json!(format!("kassa-{}", acct.a.currency.to_ascii_lowercase())),
        ),
        ("facebook_pixel_id", Value::Null),
        ("checkout_url", Value::Null),
        ("external_prices_url", Value::Null),
        ("external_order_validation_url", Value::Null),
        ("private", json!(false)),
        ("shipping_cost_cutoff", Value::Null),
        ("disabled_at", Value::Null),
        ("created_at", time_value(Some(acct.created_at))),
        ("updated_at", time_value(Some(acct.created_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    let price_list = with_price_list.then(|| ident("price_lists", &acct.price_list_id));
    resource(
        base,
        "markets",
        &acct.a.market_id,
        acct,
        a,
        &[
            ("merchant", None),
            ("price_list", price_list),
            ("inventory_model", None),
            ("tax_calculator", None),
        ],
    )
}

fn price_list_resource(acct: &Acct, base: &str) -> Value {
    let a = map(vec![
        (
            "name",
            json!(format!("Kassa sandbox prices ({})", acct.a.currency)),
        ),
        ("code", Value::Null),
        ("currency_code", json!(acct.a.currency)),
        ("tax_included", json!(acct.a.tax_included)),
        ("created_at", time_value(Some(acct.created_at))),
        ("updated_at", time_value(Some(acct.created_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    resource(
        base,
        "price_lists",
        &acct.price_list_id,
        acct,
        a,
        &[("prices", None)],
    )
}

// ---------------------------------------------------------------------------------------------
// Routes

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/api/orders", post(create_order).get(list_orders))
        .route("/api/orders/{id}", get(get_order).patch(update_order))
        .route("/api/line_items", post(create_line_item))
        .route("/api/line_items/{id}", get(get_line_item))
        .route("/api/checkout_com_payments", post(create_payment))
        .route("/api/checkout_com_payments/{id}", get(get_payment))
        .route("/api/links", post(create_link))
        .route("/api/links/{id}", get(get_link).patch(update_link))
        .route("/api/markets/{id}", get(get_market))
        .route("/link/{id}", get(link_page))
        .route("/checkout/{id}", get(checkout_page))
        .route("/checkout/{id}/{action}", post(page_action))
}

pub(crate) fn control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/commercelayer/accounts", post(control_add_account))
        .route("/commercelayer/orders/{id}/outcome", post(control_outcome))
        .route("/commercelayer/orders/{id}", get(control_order))
        .route("/commercelayer/tokens/expire", post(control_expire_tokens))
        .route("/commercelayer/token_lifetime", put(control_token_lifetime))
        .route("/commercelayer/stats", get(control_stats))
}

// ---------------------------------------------------------------------------------------------
// Auth

fn auth_error(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    let body = json!({"errors": [{"title": title, "detail": detail, "code": code,
                                  "status": status.as_u16().to_string()}]});
    (status, Json(body)).into_response()
}

fn invalid_client() -> Response {
    auth_error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Invalid client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    )
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    let e = &mut *guard;
    let now = now_millis();
    e.token_requests += 1;
    while e
        .token_window
        .front()
        .is_some_and(|t| now - t >= TOKEN_RATE_WINDOW_MS)
    {
        e.token_window.pop_front();
    }
    if e.token_window.len() >= TOKEN_RATE_LIMIT {
        let oldest = e.token_window.front().copied().unwrap_or(now);
        let wait = (oldest + TOKEN_RATE_WINDOW_MS - now + 999) / 1000;
        let mut r = auth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests",
            "At most 30 token requests per minute: cache your access tokens.",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait.max(1)));
        return r;
    }
    e.token_window.push_back(now);
    let bad = |code: &str, detail: &str| {
        auth_error(StatusCode::BAD_REQUEST, code, "Invalid request", detail)
    };
    if !is_json(&headers) {
        return bad(
            "INVALID_REQUEST",
            "The token request must be JSON (Content-Type: application/json).",
        );
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return bad("INVALID_REQUEST", "The request body must be a JSON object.");
    };
    for (k, v) in &req {
        if !["grant_type", "client_id", "client_secret", "scope"].contains(&k.as_str()) {
            return bad(
                "INVALID_REQUEST",
                &format!("{k} is not a parameter of the client_credentials grant."),
            );
        }
        if !v.is_string() {
            return bad("INVALID_REQUEST", &format!("{k} must be a string."));
        }
    }
    let field = |k: &str| req.get(k).and_then(Value::as_str);
    match field("grant_type") {
        None => return bad("INVALID_REQUEST", "grant_type is required."),
        Some("client_credentials") => {}
        Some(g) => {
            return bad(
                "UNSUPPORTED_GRANT_TYPE",
                &format!("The grant type {g} is not supported for these credentials: use client_credentials."),
            )
        }
    }
    let Some(client_id) = field("client_id") else {
        return invalid_client();
    };
    let secret = field("client_secret").filter(|s| !s.is_empty());
    let (acct, integration) =
        if let Some(a) = e.accounts.iter().find(|a| a.a.client_id == client_id) {
            if secret != Some(a.a.client_secret.as_str()) {
                return invalid_client();
            }
            (a.clone(), true)
        } else if let Some(a) = e
            .accounts
            .iter()
            .find(|a| a.a.sales_channel_client_id == client_id)
        {
            if secret.is_some() {
                return invalid_client();
            }
            match field("scope") {
                None => {
                    return auth_error(
                        StatusCode::BAD_REQUEST,
                        "INVALID_SCOPE",
                        "Invalid scope",
                        "A sales channel token needs a market in its scope: market:id:<market id>.",
                    )
                }
                Some(sc) if sc == a.scope() => {}
                Some(sc) => {
                    return auth_error(
                        StatusCode::BAD_REQUEST,
                        "INVALID_SCOPE",
                        "Invalid scope",
                        &format!("The requested scope {sc} is invalid, unknown, or malformed."),
                    )
                }
            }
            (a.clone(), false)
        } else {
            return invalid_client();
        };
    let lifetime = e.token_lifetime.unwrap_or(if integration {
        INTEGRATION_LIFETIME
    } else {
        SALES_CHANNEL_LIFETIME
    });
    let expires_at = now + lifetime as i64 * 1000;
    let token = new_access_token(&acct, integration, expires_at);
    if integration {
        // The sales-channel token is public by Commerce Layer's design (the checkout URL).
        crate::ledger(&[&token]);
    }
    e.tokens.insert(
        token.clone(),
        TokenInfo {
            account: acct.a.client_id.clone(),
            integration,
            expires_at,
        },
    );
    let scope = if integration {
        "market:all".to_string()
    } else {
        acct.scope()
    };
    Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": lifetime,
        "scope": scope,
        "created_at": now / 1000,
    }))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// Orders

use Kind::{Bool, Email, Int, Lang, Obj, Str, Time, Url};

const REFERENCE_ATTRS: &[(&str, Kind)] = &[
    ("reference", Str),
    ("reference_origin", Str),
    ("metadata", Obj),
];
/// The creatable (and updatable) plain attributes of `order` the sandbox keeps.
const ORDER_ATTRS: &[(&str, Kind)] = &[
    ("language_code", Lang),
    ("customer_email", Email),
    ("expires_at", Time),
    ("expiration_info", Obj),
    ("return_url", Url),
    ("cart_url", Url),
    ("terms_url", Url),
    ("privacy_url", Url),
    ("guest", Bool),
    ("autorefresh", Bool),
    ("place_async", Bool),
    ("freight_taxable", Bool),
    ("payment_method_taxable", Bool),
    ("adjustment_taxable", Bool),
    ("gift_card_taxable", Bool),
    ("affiliate_code", Str),
    ("shipping_country_code_lock", Str),
];
/// The update-only triggers the sandbox acts on.
const ORDER_TRIGGERS: &[(&str, Kind)] = &[
    ("_billing_address_clone_id", Str),
    ("_shipping_address_clone_id", Str),
    ("_shipping_address_same_as_billing", Bool),
    ("_billing_address_same_as_shipping", Bool),
    ("_update_taxes", Bool),
    ("_refresh", Bool),
    ("_place", Bool),
    ("_cancel", Bool),
    ("_approve", Bool),
    ("_capture", Bool),
    ("_approve_and_capture", Bool),
];
const ORDER_CREATE_NOT_EMULATED: &[&str] = &[
    "number",
    "customer_password",
    "coupon_code",
    "gift_card_code",
    "gift_card_or_coupon_code",
];
const ORDER_UPDATE_NOT_EMULATED: &[&str] = &[
    "number",
    "customer_password",
    "coupon_code",
    "gift_card_code",
    "gift_card_or_coupon_code",
    "_archive",
    "_unarchive",
    "_pending",
    "_authorize",
    "_authorization_amount_cents",
    "_refund",
    "_fulfill",
    "_nullify_payment_source",
    "_fix_payment_source",
    "_customer_payment_source_id",
    "_commit_invoice",
    "_refund_invoice",
    "_save_payment_source_to_customer_wallet",
    "_save_shipping_address_to_customer_address_book",
    "_save_billing_address_to_customer_address_book",
    "_refresh_prices",
    "_validate",
    "_create_subscriptions",
    "_start_editing",
    "_stop_editing",
    "_reset_circuit",
    "_add_tags",
    "_remove_tags",
];
const ORDER_RELS_NOT_EMULATED: &[&str] = &[
    "customer",
    "shipping_address",
    "billing_address",
    "store",
    "payment_source",
    "tags",
];
/// What may still change on an order that is no longer editable.
const ALWAYS_EDITABLE: &[&str] = &["reference", "reference_origin", "metadata"];

/// Checks `market` and `payment_method` relationships and the plain attributes' rules.
fn order_value_rules(doc: &Doc, acct: &Acct, now: i64, errs: &mut Vec<ApiError>) {
    if let Some(t) = doc.str("expires_at").and_then(parse_time) {
        if t <= now {
            errs.push(invalid_attr(
                "expires_at",
                "must be in the future",
                "greater_than",
            ));
        }
    }
    match doc.rel("market") {
        None => {}
        Some(None) => errs.push(invalid_rel("market", "can't be blank", "blank")),
        Some(Some(m)) if m != ("markets", acct.a.market_id.as_str()) => errs.push(invalid_rel(
            "market",
            "is not the market of these credentials",
            "invalid",
        )),
        Some(Some(_)) => {}
    }
    if let Some(Some(pm)) = doc.rel("payment_method") {
        if pm != ("payment_methods", acct.payment_method_id.as_str()) {
            errs.push(invalid_rel(
                "payment_method",
                "is not a payment method of the order's market",
                "invalid",
            ));
        }
    }
}

/// Stores the plain attributes of a create or update.
fn apply_order_attrs(o: &mut Order, doc: &Doc) {
    for (name, v) in &doc.attrs {
        if name == "expires_at" {
            o.expires_at = v.as_str().and_then(parse_time);
        } else if ORDER_ATTRS
            .iter()
            .chain(REFERENCE_ATTRS)
            .any(|(n, _)| n == name)
        {
            o.attrs.insert(name.clone(), v.clone());
        }
    }
    if let Some(pm) = doc.rel("payment_method") {
        o.payment_method = pm.map(|(_, id)| id.to_string());
    }
}

fn order_opts(q: &[(String, String)], list: bool) -> Result<Opts, Errors> {
    parse_query(
        q,
        "orders",
        ORDER_INCLUDES,
        ORDER_INCLUDES_NOT_EMULATED,
        list,
    )
}

async fn create_order(
    State(s): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    respond(create_order_in(&mut guard, &q, &headers, &body))
}

fn create_order_in(
    e: &mut Emulator,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Creating an order")?;
    let opts = order_opts(q, false)?;
    let doc = parse_doc(body, "orders", None)?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, ORDER_ATTRS],
        not_emulated: ORDER_CREATE_NOT_EMULATED,
        removed: &[],
        rels: &["market", "payment_method"],
        rels_not_emulated: ORDER_RELS_NOT_EMULATED,
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    if doc.rel("market").is_none() {
        errs.push(invalid_rel("market", "can't be blank", "blank"));
    }
    order_value_rules(&doc, &acct, now, &mut errs);
    check(errs)?;
    let seq = e.next_seq();
    let mut o = Order {
        id: rand_id(10),
        account: c.account,
        seq,
        number: (1_000_000 + seq).to_string(),
        token: random_hex(16),
        status: "draft",
        payment_status: "unpaid",
        fulfillment_status: "unfulfilled",
        attrs: Map::new(),
        expires_at: None,
        billing_address: None,
        shipping_address: None,
        payment_method: None,
        payment_source: None,
        lines: Vec::new(),
        authorizations: Vec::new(),
        tax_calculations: 0,
        place_total: None,
        created_at: now,
        updated_at: now,
        placed_at: None,
        approved_at: None,
        cancelled_at: None,
        payment_updated_at: None,
        fulfillment_updated_at: None,
        refreshed_at: None,
    };
    apply_order_attrs(&mut o, &doc);
    o.refresh_status();
    let base = public_base(headers, "commercelayer");
    let v = order_document(e, &o, &base, &opts, now)?;
    e.orders.insert(o.id.clone(), o);
    Ok(api_json(StatusCode::CREATED, &v))
}

async fn get_order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let guard = s.commercelayer.lock().unwrap();
    respond(get_order_in(&guard, &id, &q, &headers))
}

fn get_order_in(e: &Emulator, id: &str, q: &[(String, String)], headers: &HeaderMap) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, false, now)?;
    let opts = order_opts(q, false)?;
    let o = e
        .orders
        .get(id)
        .filter(|o| o.account == c.account)
        .ok_or_else(|| record_not_found(id))?;
    let v = order_document(e, o, &public_base(headers, "commercelayer"), &opts, now)?;
    Ok(api_json(StatusCode::OK, &v))
}

async fn list_orders(
    State(s): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let guard = s.commercelayer.lock().unwrap();
    respond(list_orders_in(&guard, &q, &headers))
}

fn list_orders_in(e: &Emulator, q: &[(String, String)], headers: &HeaderMap) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Listing orders")?;
    let opts = order_opts(q, true)?;
    let mut found: Vec<&Order> = e
        .orders
        .values()
        .filter(|o| o.account == c.account)
        .filter(|o| {
            opts.reference_eq
                .as_deref()
                .is_none_or(|r| o.attr_str("reference") == Some(r))
        })
        .collect();
    found.sort_by_key(|o| std::cmp::Reverse(o.seq));
    let count = found.len();
    let base = public_base(headers, "commercelayer");
    let mut data = Vec::new();
    let mut included = Vec::new();
    for o in found
        .iter()
        .skip((opts.page_number - 1).saturating_mul(opts.page_size))
        .take(opts.page_size)
    {
        data.push(order_resource(e, o, &base, &opts.include));
        for name in &opts.include {
            included.extend(order_included(e, o, name, &base, now));
        }
    }
    let mut v = document(Value::Array(data), included, &opts)?;
    v["meta"] = json!({
        "record_count": count,
        "page_count": count.div_ceil(opts.page_size),
    });
    Ok(api_json(StatusCode::OK, &v))
}

async fn update_order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    respond(update_order_in(&mut guard, &id, &q, &headers, &body))
}

fn update_order_in(
    e: &mut Emulator,
    id: &str,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Updating an order")?;
    let opts = order_opts(q, false)?;
    let mut o = e
        .orders
        .get(id)
        .filter(|o| o.account == c.account)
        .cloned()
        .ok_or_else(|| record_not_found(id))?;
    let doc = parse_doc(body, "orders", Some(id))?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, ORDER_ATTRS, ORDER_TRIGGERS],
        not_emulated: ORDER_UPDATE_NOT_EMULATED,
        removed: &[],
        rels: &["market", "payment_method"],
        rels_not_emulated: ORDER_RELS_NOT_EMULATED,
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    order_value_rules(&doc, &acct, now, &mut errs);
    if !o.editable() {
        let frozen = |name: &str| {
            invalid_attr(
                name,
                &format!("cannot be changed once the order is {}", o.status),
                "not_editable",
            )
        };
        for name in doc.attrs.keys() {
            let plain = !name.starts_with('_') && !ALWAYS_EDITABLE.contains(&name.as_str());
            let address = name.contains("address");
            if plain || address {
                errs.push(frozen(name));
            }
        }
        if doc.rel("payment_method").is_some() {
            errs.push(invalid_rel(
                "payment_method",
                &format!("cannot be changed once the order is {}", o.status),
                "not_editable",
            ));
        }
    }
    for name in ["_billing_address_clone_id", "_shipping_address_clone_id"] {
        if let Some(a) = doc.str(name) {
            if a != acct.a.address_id {
                errs.push(invalid_attr(
                    name,
                    &format!("address {a} was not found"),
                    "invalid",
                ));
            }
        }
    }
    let billing_after =
        o.billing_address.is_some() || doc.str("_billing_address_clone_id").is_some();
    let shipping_after =
        o.shipping_address.is_some() || doc.str("_shipping_address_clone_id").is_some();
    if doc.flag("_shipping_address_same_as_billing") && !billing_after {
        errs.push(invalid_attr(
            "_shipping_address_same_as_billing",
            "the order has no billing address to clone",
            "blank",
        ));
    }
    if doc.flag("_billing_address_same_as_shipping") && !shipping_after {
        errs.push(invalid_attr(
            "_billing_address_same_as_shipping",
            "the order has no shipping address to clone",
            "blank",
        ));
    }
    check(errs)?;

    apply_order_attrs(&mut o, &doc);
    let mut addressed = false;
    if doc.str("_billing_address_clone_id").is_some() {
        o.billing_address = Some(rand_id(10));
        addressed = true;
    }
    if doc.str("_shipping_address_clone_id").is_some() {
        o.shipping_address = Some(rand_id(10));
        addressed = true;
    }
    if doc.flag("_shipping_address_same_as_billing") {
        o.shipping_address = Some(rand_id(10));
        addressed = true;
    }
    if doc.flag("_billing_address_same_as_shipping") {
        o.billing_address = Some(rand_id(10));
        addressed = true;
    }
    if o.shipping_address.is_some() && (addressed || doc.flag("_update_taxes")) {
        o.tax_calculations += 1;
    }
    if doc.flag("_refresh") {
        o.refreshed_at = Some(now);
    }
    o.refresh_status();
    let total = amounts(&o, &acct).total;
    let triggers: [(&str, Trigger); 5] = [
        ("_place", place),
        ("_approve", |o, _, now| approve(o, now)),
        ("_capture", |o, _, now| capture(o, now)),
        ("_approve_and_capture", |o, _, now| capture(o, now)),
        ("_cancel", |o, _, now| cancel(o, now)),
    ];
    let mut trigger_errs = Vec::new();
    for (name, fire) in triggers {
        if doc.flag(name) {
            if let Err(m) = fire(&mut o, total, now) {
                trigger_errs.push(invalid_attr(name, &m, "invalid"));
            }
        }
    }
    check(trigger_errs)?;
    o.refresh_status();
    o.updated_at = now;
    let base = public_base(headers, "commercelayer");
    let v = order_document(e, &o, &base, &opts, now)?;
    e.orders.insert(o.id.clone(), o);
    Ok(api_json(StatusCode::OK, &v))
}

/// An order trigger: `(order, total_amount_with_taxes_cents, now)`.
type Trigger = fn(&mut Order, i64, i64) -> Result<(), String>;

/// `_place` (idempotent).
fn place(o: &mut Order, total: i64, now: i64) -> Result<(), String> {
    match o.status {
        "placed" | "approved" => Ok(()),
        "cancelled" => Err("the order is cancelled".into()),
        "draft" => Err("the order is not pending: it needs line items and a customer email or address".into()),
        _ if o.expired(now) => Err("the order has expired".into()),
        _ if total == 0 => {
            o.status = "placed";
            o.payment_status = "free";
            o.placed_at = Some(now);
            o.payment_updated_at = Some(now);
            o.place_total = Some(0);
            Ok(())
        }
        _ => Err("the payment source is not authorized: the customer pays on the hosted checkout, which places the order".into()),
    }
}

fn approve(o: &mut Order, now: i64) -> Result<(), String> {
    if o.status != "placed" {
        return Err(format!("a {} order cannot be approved", o.status));
    }
    o.status = "approved";
    o.approved_at = Some(now);
    Ok(())
}

/// Captures an authorized payment: the order becomes approved and paid.
fn capture(o: &mut Order, now: i64) -> Result<(), String> {
    if !matches!(o.status, "placed" | "approved") || o.payment_status != "authorized" {
        return Err(format!(
            "nothing to capture: the order is {} and {}",
            o.status, o.payment_status
        ));
    }
    if o.status == "placed" {
        o.status = "approved";
        o.approved_at = Some(now);
    }
    o.payment_status = "paid";
    o.payment_updated_at = Some(now);
    o.fulfillment_status = "not_required";
    o.fulfillment_updated_at = Some(now);
    Ok(())
}

fn cancel(o: &mut Order, now: i64) -> Result<(), String> {
    if o.status == "cancelled" {
        return Err("the order is already cancelled".into());
    }
    if o.payment_status == "paid" {
        return Err("the payment is captured: refund instead".into());
    }
    if o.payment_status == "authorized" {
        o.payment_status = "voided";
        o.payment_updated_at = Some(now);
    }
    o.status = "cancelled";
    o.cancelled_at = Some(now);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Line items

const LINE_ATTRS: &[(&str, Kind)] = &[
    ("quantity", Int),
    ("sku_code", Str),
    ("name", Str),
    ("unit_amount_cents", Int),
    ("_external_price", Bool),
    ("_update_quantity", Bool),
];
const LINE_NOT_EMULATED: &[&str] = &[
    "bundle_code",
    "compare_at_amount_cents",
    "image_url",
    "item_type",
    "frequency",
    "_reserve_stock",
    "_reset_restocked_quantity",
];

async fn create_line_item(
    State(s): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    respond(create_line_item_in(&mut guard, &q, &headers, &body))
}

async fn get_line_item(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let guard = s.commercelayer.lock().unwrap();
    respond(get_line_item_in(&guard, &id, &q, &headers))
}

fn get_line_item_in(
    e: &Emulator,
    id: &str,
    q: &[(String, String)],
    headers: &HeaderMap,
) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Reading line items")?;
    let opts = parse_query(q, "line_items", &[], &["order", "item", "sku"], false)?;
    let (o, index) = e
        .orders
        .values()
        .filter(|o| o.account == c.account)
        .find_map(|o| o.lines.iter().position(|l| l.id == id).map(|i| (o, i)))
        .ok_or_else(|| record_not_found(id))?;
    let acct = e.acct(&o.account);
    let am = amounts(o, acct);
    let data = line_resource(
        &o.lines[index],
        &am.lines[index],
        acct,
        &public_base(headers, "commercelayer"),
    );
    let v = document(data, Vec::new(), &opts)?;
    Ok(api_json(StatusCode::OK, &v))
}

fn create_line_item_in(
    e: &mut Emulator,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, true, now)?;
    integration_only(
        &c,
        "Creating line items (unit_amount_cents cannot be passed by sales channels)",
    )?;
    let opts = parse_query(q, "line_items", &[], &["order", "item", "sku"], false)?;
    let doc = parse_doc(body, "line_items", None)?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, LINE_ATTRS],
        not_emulated: LINE_NOT_EMULATED,
        removed: &[],
        rels: &["order"],
        rels_not_emulated: &["item", "tags"],
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    let order_id = match doc.rel("order").flatten() {
        None => {
            errs.push(invalid_rel("order", "can't be blank", "blank"));
            None
        }
        Some(("orders", oid)) => {
            if e.orders.get(oid).is_none_or(|o| o.account != c.account) {
                return Err(record_not_found(oid).into());
            }
            Some(oid.to_string())
        }
        Some(_) => {
            errs.push(invalid_rel(
                "order",
                "must be an orders resource",
                "invalid",
            ));
            None
        }
    };
    let quantity = doc.int("quantity");
    match doc.get("quantity") {
        None => errs.push(blank_attr("quantity")),
        Some(_) => match quantity {
            Some(n) if n < 1 => errs.push(
                invalid_attr("quantity", "must be greater than 0", "greater_than")
                    .meta(json!({"error": "greater_than", "value": n, "count": 0})),
            ),
            Some(n) if n > MAX_INT => errs.push(invalid_attr(
                "quantity",
                &format!("must be less than or equal to {MAX_INT}"),
                "less_than_or_equal_to",
            )),
            _ => {}
        },
    }
    let sku = doc.str("sku_code").map(str::to_string);
    if let Some(code) = &sku {
        if acct.sku_rate(code).is_none() {
            errs.push(invalid_attr("sku_code", "is not valid", "invalid"));
        }
    } else if doc.str("name").is_none_or(|n| n.trim().is_empty()) {
        errs.push(blank_attr("name"));
    }
    let unit = doc.int("unit_amount_cents");
    match unit {
        Some(u) if u < 0 => errs.push(invalid_attr(
            "unit_amount_cents",
            "must be greater than or equal to 0",
            "greater_than_or_equal_to",
        )),
        Some(u) if u > MAX_INT => errs.push(invalid_attr(
            "unit_amount_cents",
            &format!("must be less than or equal to {MAX_INT}"),
            "less_than_or_equal_to",
        )),
        Some(_) => {}
        None if doc.get("unit_amount_cents").is_some() => {}
        None if sku.is_some() => errs.push(invalid_attr(
            "unit_amount_cents",
            "has no price: the Kassa sandbox has no price list entries, send unit_amount_cents",
            "no_price",
        )),
        None => errs.push(blank_attr("unit_amount_cents")),
    }
    if let Some(o) = order_id.as_ref().and_then(|id| e.orders.get(id)) {
        if !o.editable() {
            errs.push(invalid_rel(
                "order",
                &format!("is not editable (the order is {})", o.status),
                "not_editable",
            ));
        }
    }
    check(errs)?;
    let (Some(order_id), Some(quantity), Some(unit)) = (order_id, quantity, unit) else {
        return Err(blank_attr("quantity").into());
    };
    let mut o = e.orders[&order_id].clone();
    let merge = match &sku {
        Some(code) if doc.flag("_update_quantity") => o
            .lines
            .iter()
            .position(|l| l.sku_code.as_ref() == Some(code)),
        _ => None,
    };
    let mut extra = Map::new();
    for (name, _) in REFERENCE_ATTRS {
        if let Some(v) = doc.attrs.get(*name) {
            extra.insert(name.to_string(), v.clone());
        }
    }
    let index = match merge {
        Some(i) => {
            let l = &mut o.lines[i];
            l.quantity = quantity;
            l.unit_amount_cents = unit;
            if let Some(n) = doc.str("name") {
                l.name = n.to_string();
            }
            if doc.get("_external_price").is_some() {
                l.external_price = doc.flag("_external_price");
            }
            l.attrs.extend(extra);
            l.updated_at = now;
            i
        }
        None => {
            o.lines.push(Line {
                id: rand_id(10),
                name: doc
                    .str("name")
                    .map(str::to_string)
                    .or_else(|| sku.clone())
                    .unwrap_or_default(),
                sku_code: sku,
                quantity,
                unit_amount_cents: unit,
                external_price: doc.flag("_external_price"),
                attrs: extra,
                created_at: now,
                updated_at: now,
            });
            o.lines.len() - 1
        }
    };
    let am = amounts(&o, &acct);
    let with_taxes = i128::from(am.total);
    if i128::from(am.subtotal) > MAX_ORDER_CENTS || with_taxes > MAX_ORDER_CENTS {
        return Err(invalid_attr(
            "quantity",
            "makes the order total too large",
            "less_than_or_equal_to",
        )
        .into());
    }
    o.refresh_status();
    o.updated_at = now;
    let base = public_base(headers, "commercelayer");
    let data = line_resource(&o.lines[index], &am.lines[index], &acct, &base);
    let v = document(data, Vec::new(), &opts)?;
    e.orders.insert(order_id, o);
    Ok(api_json(StatusCode::CREATED, &v))
}

// ---------------------------------------------------------------------------------------------
// checkout.com payment sources

const CKO_ATTRS: &[(&str, Kind)] = &[("success_url", Url), ("failure_url", Url), ("token", Str)];
const CKO_REMOVED: &[(&str, &str)] = &[
    (
        "payment_type",
        "payment_type was removed from checkout_com_payments in 2025 (schema v7.9.0); create the payment source with success_url and failure_url only",
    ),
    (
        "session_id",
        "session_id was removed from checkout_com_payments in 2025 (schema v7.8.6); the payment session is created by Commerce Layer (payment_session)",
    ),
];

async fn create_payment(
    State(s): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    respond(create_payment_in(&mut guard, &q, &headers, &body))
}

fn create_payment_in(
    e: &mut Emulator,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Creating a checkout.com payment source")?;
    let opts = parse_query(
        q,
        PAYMENT_SOURCE_TYPE,
        &[],
        &["order", "payment_gateway"],
        false,
    )?;
    let doc = parse_doc(body, PAYMENT_SOURCE_TYPE, None)?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, CKO_ATTRS],
        not_emulated: &[],
        removed: CKO_REMOVED,
        rels: &["order"],
        rels_not_emulated: &[],
    };
    check(fields.names(&doc))?;
    let mut errs = fields.kinds(&doc);
    for name in ["success_url", "failure_url"] {
        if doc.get(name).is_none() {
            errs.push(blank_attr(name));
        }
    }
    let order_id = match doc.rel("order").flatten() {
        None => {
            errs.push(invalid_rel("order", "can't be blank", "blank"));
            None
        }
        Some(("orders", oid)) => {
            let Some(o) = e.orders.get(oid).filter(|o| o.account == c.account) else {
                return Err(record_not_found(oid).into());
            };
            if o.payment_method.is_none() {
                errs.push(invalid_rel(
                    "order",
                    "the order has no checkout.com payment method (set its payment_method first)",
                    "invalid",
                ));
            }
            if !o.editable() {
                errs.push(invalid_rel(
                    "order",
                    &format!("is not editable (the order is {})", o.status),
                    "not_editable",
                ));
            }
            Some(oid.to_string())
        }
        Some(_) => {
            errs.push(invalid_rel(
                "order",
                "must be an orders resource",
                "invalid",
            ));
            None
        }
    };
    check(errs)?;
    let order_id = order_id.expect("checked above");
    let session = format!("ps_{}", rand_lower(26));
    let mut attrs = Map::new();
    for (name, _) in REFERENCE_ATTRS {
        if let Some(v) = doc.attrs.get(*name) {
            attrs.insert(name.to_string(), v.clone());
        }
    }
    let p = Payment {
        id: rand_id(10),
        account: c.account,
        order_id: order_id.clone(),
        success_url: doc.str("success_url").unwrap_or_default().to_string(),
        failure_url: doc.str("failure_url").unwrap_or_default().to_string(),
        token: doc.str("token").map(str::to_string),
        attrs,
        public_key: format!("pk_sbox_{}", rand_lower(26)),
        session_secret: format!("pss_{}", random_hex(16)),
        session_token: random_from(
            40,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        ),
        session_id: session,
        payment_response: None,
        authorized_amount: None,
        created_at: now,
        updated_at: now,
    };
    let pid = p.id.clone();
    e.payments.insert(pid.clone(), p);
    if let Some(o) = e.orders.get_mut(&order_id) {
        o.payment_source = Some(pid.clone());
        o.updated_at = now;
    }
    let base = public_base(headers, "commercelayer");
    let v = document(
        payment_resource(e, &e.payments[&pid], &base),
        Vec::new(),
        &opts,
    )?;
    Ok(api_json(StatusCode::CREATED, &v))
}

async fn get_payment(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let guard = s.commercelayer.lock().unwrap();
    respond(get_payment_in(&guard, &id, &q, &headers))
}

fn get_payment_in(
    e: &Emulator,
    id: &str,
    q: &[(String, String)],
    headers: &HeaderMap,
) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Reading a payment source")?;
    let opts = parse_query(
        q,
        PAYMENT_SOURCE_TYPE,
        &[],
        &["order", "payment_gateway"],
        false,
    )?;
    let p = e
        .payments
        .get(id)
        .filter(|p| p.account == c.account)
        .ok_or_else(|| record_not_found(id))?;
    let v = document(
        payment_resource(e, p, &public_base(headers, "commercelayer")),
        Vec::new(),
        &opts,
    )?;
    Ok(api_json(StatusCode::OK, &v))
}

// ---------------------------------------------------------------------------------------------
// Links

const LINK_ATTRS: &[(&str, Kind)] = &[
    ("name", Str),
    ("client_id", Str),
    ("scope", Str),
    ("starts_at", Time),
    ("expires_at", Time),
    ("params", Obj),
    ("_disable", Bool),
    ("_enable", Bool),
];
const LINK_CREATE_ONLY: &[(&str, Kind)] = &[("item_type", Str)];

/// The rules of a link's attributes, against the values it will have.
fn link_rules(doc: &Doc, acct: &Acct, starts_at: i64, expires_at: i64, now: i64) -> Vec<ApiError> {
    let mut errs = Vec::new();
    if let Some(id) = doc.str("client_id") {
        if id != acct.a.sales_channel_client_id {
            errs.push(invalid_attr(
                "client_id",
                "is not the client id of a sales channel of this organization",
                "invalid",
            ));
        }
    }
    if let Some(sc) = doc.str("scope") {
        if sc != acct.scope() {
            errs.push(invalid_attr(
                "scope",
                &format!("must be {} (the sales channel's market)", acct.scope()),
                "invalid",
            ));
        }
    }
    if doc.get("expires_at").is_some() && expires_at <= now {
        errs.push(invalid_attr(
            "expires_at",
            "must be in the future",
            "greater_than",
        ));
    } else if expires_at <= starts_at {
        errs.push(invalid_attr(
            "expires_at",
            "must be after starts_at",
            "greater_than",
        ));
    }
    if doc.flag("_disable") && doc.flag("_enable") {
        errs.push(invalid_attr(
            "_enable",
            "cannot be sent with _disable",
            "invalid",
        ));
    }
    if let Some(t) = doc.str("item_type") {
        if t != "orders" {
            errs.push(invalid_attr(
                "item_type",
                "only orders links are emulated by the Kassa sandbox",
                "inclusion",
            ));
        }
    }
    errs
}

fn copy_attrs(doc: &Doc, into: &mut Map<String, Value>) {
    for (name, _) in REFERENCE_ATTRS {
        if let Some(v) = doc.attrs.get(*name) {
            into.insert(name.to_string(), v.clone());
        }
    }
}

async fn create_link(
    State(s): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    respond(create_link_in(&mut guard, &q, &headers, &body))
}

fn create_link_in(
    e: &mut Emulator,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Managing links")?;
    let opts = parse_query(q, "links", &[], &["item", "events"], false)?;
    let doc = parse_doc(body, "links", None)?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, LINK_ATTRS, LINK_CREATE_ONLY],
        not_emulated: &["domain"],
        removed: &[],
        rels: &["item"],
        rels_not_emulated: &[],
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    for name in ["name", "client_id", "scope"] {
        if doc.str(name).is_none_or(|v| v.trim().is_empty()) {
            errs.push(blank_attr(name));
        }
    }
    let order_id = match doc.rel("item").flatten() {
        None => {
            errs.push(invalid_rel("item", "can't be blank", "blank"));
            None
        }
        Some(("orders", oid)) => {
            if e.orders.get(oid).is_none_or(|o| o.account != c.account) {
                return Err(record_not_found(oid).into());
            }
            Some(oid.to_string())
        }
        Some(_) => {
            errs.push(invalid_rel(
                "item",
                "only orders links are emulated by the Kassa sandbox",
                "inclusion",
            ));
            None
        }
    };
    let starts_at = doc.str("starts_at").and_then(parse_time).unwrap_or(now);
    let expires_at = doc
        .str("expires_at")
        .and_then(parse_time)
        .unwrap_or(now + LINK_DEFAULT_LIFETIME_MS);
    errs.extend(link_rules(&doc, &acct, starts_at, expires_at, now));
    check(errs)?;
    let mut attrs = Map::new();
    copy_attrs(&doc, &mut attrs);
    let l = Link {
        id: rand_id(10),
        account: c.account,
        order_id: order_id.expect("checked above"),
        name: doc.str("name").unwrap_or_default().to_string(),
        client_id: doc.str("client_id").unwrap_or_default().to_string(),
        scope: doc.str("scope").unwrap_or_default().to_string(),
        starts_at,
        expires_at,
        disabled_at: doc.flag("_disable").then_some(now),
        params: doc.get("params").cloned().unwrap_or(json!({})),
        attrs,
        created_at: now,
        updated_at: now,
    };
    let base = public_base(headers, "commercelayer");
    let v = document(link_resource(e, &l, &base, now), Vec::new(), &opts)?;
    e.links.insert(l.id.clone(), l);
    Ok(api_json(StatusCode::CREATED, &v))
}

async fn get_link(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let guard = s.commercelayer.lock().unwrap();
    respond(get_link_in(&guard, &id, &q, &headers))
}

fn get_link_in(e: &Emulator, id: &str, q: &[(String, String)], headers: &HeaderMap) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Managing links")?;
    let opts = parse_query(q, "links", &[], &["item", "events"], false)?;
    let l = e
        .links
        .get(id)
        .filter(|l| l.account == c.account)
        .ok_or_else(|| record_not_found(id))?;
    let v = document(
        link_resource(e, l, &public_base(headers, "commercelayer"), now),
        Vec::new(),
        &opts,
    )?;
    Ok(api_json(StatusCode::OK, &v))
}

async fn update_link(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    respond(update_link_in(&mut guard, &id, &q, &headers, &body))
}

fn update_link_in(
    e: &mut Emulator,
    id: &str,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, true, now)?;
    integration_only(&c, "Managing links")?;
    let opts = parse_query(q, "links", &[], &["item", "events"], false)?;
    if e.links.get(id).is_none_or(|l| l.account != c.account) {
        return Err(record_not_found(id).into());
    }
    let doc = parse_doc(body, "links", Some(id))?;
    let fields = Fields {
        attrs: &[REFERENCE_ATTRS, LINK_ATTRS],
        not_emulated: &["domain"],
        removed: &[],
        rels: &[],
        rels_not_emulated: &["item"],
    };
    check(fields.names(&doc))?;
    let acct = e.acct(&c.account).clone();
    let mut errs = fields.kinds(&doc);
    for name in ["name", "client_id", "scope"] {
        if doc.attrs.contains_key(name) && doc.str(name).is_none_or(|v| v.trim().is_empty()) {
            errs.push(blank_attr(name));
        }
    }
    let l = &e.links[id];
    let starts_at = doc
        .str("starts_at")
        .and_then(parse_time)
        .unwrap_or(l.starts_at);
    let expires_at = doc
        .str("expires_at")
        .and_then(parse_time)
        .unwrap_or(l.expires_at);
    errs.extend(link_rules(&doc, &acct, starts_at, expires_at, now));
    check(errs)?;
    let l = e.links.get_mut(id).expect("checked above");
    for (name, field) in [
        ("name", &mut l.name),
        ("client_id", &mut l.client_id),
        ("scope", &mut l.scope),
    ] {
        if let Some(v) = doc.str(name) {
            *field = v.to_string();
        }
    }
    l.starts_at = starts_at;
    l.expires_at = expires_at;
    if let Some(p) = doc.attrs.get("params") {
        l.params = if p.is_null() { json!({}) } else { p.clone() };
    }
    if doc.flag("_disable") && l.disabled_at.is_none() {
        l.disabled_at = Some(now);
    }
    if doc.flag("_enable") {
        l.disabled_at = None;
    }
    copy_attrs(&doc, &mut l.attrs);
    l.updated_at = now;
    let base = public_base(headers, "commercelayer");
    let v = document(
        link_resource(e, &e.links[id], &base, now),
        Vec::new(),
        &opts,
    )?;
    Ok(api_json(StatusCode::OK, &v))
}

// ---------------------------------------------------------------------------------------------
// Markets

async fn get_market(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let guard = s.commercelayer.lock().unwrap();
    respond(get_market_in(&guard, &id, &q, &headers))
}

fn get_market_in(e: &Emulator, id: &str, q: &[(String, String)], headers: &HeaderMap) -> ApiResult {
    let now = now_millis();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Reading a market")?;
    let opts = parse_query(
        q,
        "markets",
        &["price_list"],
        &["merchant", "inventory_model", "tax_calculator", "stores"],
        false,
    )?;
    let acct = e.acct(&c.account);
    if id != acct.a.market_id {
        return Err(record_not_found(id).into());
    }
    let base = public_base(headers, "commercelayer");
    let with_price_list = !opts.include.is_empty();
    let included = if with_price_list {
        vec![price_list_resource(acct, &base)]
    } else {
        Vec::new()
    };
    let v = document(
        market_resource(acct, &base, with_price_list),
        included,
        &opts,
    )?;
    Ok(api_json(StatusCode::OK, &v))
}

// ---------------------------------------------------------------------------------------------
// Payment outcomes

fn transaction_number(o: &Order) -> String {
    format!("{}/T/{:03}", o.number, o.authorizations.len() + 1)
}

/// What the customer (or a test) does on the hosted checkout; answers where the browser goes.
fn outcome(e: &mut Emulator, id: &str, what: &str, now: i64) -> Result<Option<String>, String> {
    let Some(o) = e.orders.get(id) else {
        return Err(format!("order {id} was not found"));
    };
    let acct = e.acct(&o.account).clone();
    match what {
        "expire" => {
            let past = now - 1000;
            let o = e.orders.get_mut(id).expect("checked");
            o.expires_at = Some(past);
            o.updated_at = now;
            for l in e.links.values_mut().filter(|l| l.order_id == id) {
                l.expires_at = l.expires_at.min(past);
            }
            return Ok(None);
        }
        "cancel" => return Ok(o.attr_str("cart_url").map(str::to_string)),
        "capture" => {
            let o = e.orders.get_mut(id).expect("checked");
            capture(o, now)?;
            o.updated_at = now;
            return Ok(None);
        }
        "pay" | "decline" => {}
        other => return Err(format!("unknown outcome {other:?}")),
    }
    match o.status {
        "cancelled" => return Err("the order is cancelled".into()),
        "placed" | "approved" => return Err(format!("the order is already paid ({})", o.status)),
        _ => {}
    }
    if o.expired(now) {
        return Err("the order has expired".into());
    }
    if o.lines.is_empty() {
        return Err("the order has no line items".into());
    }
    let Some(pid) = o.payment_source.clone() else {
        return Err("the order has no checkout.com payment source".into());
    };
    let amount = amounts(o, &acct).total;
    let succeeded = what == "pay";
    let auth = Authorization {
        id: rand_id(10),
        number: transaction_number(o),
        succeeded,
        amount_cents: amount,
        message: if succeeded {
            "Approved"
        } else {
            "Insufficient Funds"
        }
        .into(),
        error_code: (!succeeded).then(|| "20051".to_string()),
        error_detail: (!succeeded).then(|| "Insufficient Funds".to_string()),
        gateway_transaction_id: format!("pay_{}", rand_lower(26)),
        created_at: now,
    };
    let response = json!({
        "id": auth.gateway_transaction_id,
        "status": if succeeded { "Authorized" } else { "Declined" },
        "approved": succeeded,
        "amount": amount,
        "currency": acct.a.currency,
        "response_code": if succeeded { "10000" } else { "20051" },
        "response_summary": if succeeded { "Approved" } else { "Insufficient Funds" },
    });
    if let Some(p) = e.payments.get_mut(&pid) {
        p.payment_response = Some(response);
        p.updated_at = now;
        if succeeded {
            p.authorized_amount = Some(amount);
        }
    }
    let o = e.orders.get_mut(id).expect("checked");
    o.authorizations.push(auth);
    o.updated_at = now;
    if !succeeded {
        return Ok(None);
    }
    o.status = "placed";
    o.payment_status = "authorized";
    o.placed_at = Some(now);
    o.payment_updated_at = Some(now);
    o.place_total = Some(amount);
    if acct.a.auto_capture {
        capture(o, now)?;
    }
    Ok(o.attr_str("return_url").map(|u| {
        let sep = if u.contains('?') { '&' } else { '?' };
        format!("{u}{sep}order_id={id}")
    }))
}

// ---------------------------------------------------------------------------------------------
// Hosted checkout pages

const PAGE_TITLE: &str = "Checkout (Commerce Layer sandbox)";

fn page_response(status: StatusCode, text: &str, script: &str) -> Response {
    let body = format!("<p class=state>{}</p>{script}", escape(text));
    (status, Html(page(PAGE_TITLE, &body))).into_response()
}

/// What the page says instead of its buttons, if the order cannot be paid now.
fn page_state(e: &Emulator, o: &Order, now: i64) -> Option<&'static str> {
    match o.status {
        "cancelled" => Some("This order was cancelled."),
        "placed" | "approved" => Some("This order is paid. Thank you!"),
        _ if o.expired(now) => Some("This checkout has expired."),
        _ if o.lines.is_empty() => Some("This order has no items."),
        _ if o
            .payment_source
            .as_ref()
            .is_none_or(|p| !e.payments.contains_key(p)) =>
        {
            Some("This order cannot be paid yet: the shop has not created its checkout.com payment source.")
        }
        _ => None,
    }
}

fn order_page(e: &Emulator, o: &Order, via: &str, message: Option<&str>, script: &str) -> String {
    let acct = e.acct(&o.account);
    let am = amounts(o, acct);
    let currency = acct.a.currency.as_str();
    let mut rows = String::new();
    for (l, la) in o.lines.iter().zip(&am.lines) {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            escape(&l.name),
            l.quantity,
            escape(&money(la.total, currency)),
        ));
    }
    let total = money(am.total, currency);
    let tax_note = if o.shipping_address.is_some() {
        let label = if acct.a.tax_included {
            "incl. VAT"
        } else {
            "VAT"
        };
        format!(
            "<p class=note>{label} {}</p>",
            escape(&money(am.tax, currency))
        )
    } else {
        String::new()
    };
    let message = message.map_or_else(String::new, |m| format!("<p class=state>{}</p>", escape(m)));
    let now = now_millis();
    let actions = match page_state(e, o, now) {
        Some(text) => format!("<p class=state>{}</p>", escape(text)),
        None => {
            let form = |action: &str, label: &str, class: &str| {
                format!(
                    "<form method=post action=\"/commercelayer/checkout/{}/{action}\">\
                     <input type=hidden name=access value=\"{}\"><button id={action}{class}>{}</button></form>",
                    escape(&o.id),
                    escape(via),
                    escape(label)
                )
            };
            format!(
                "{}<div class=row>{}{}</div>",
                form("pay", &format!("Pay {total}"), " class=pay"),
                form("decline", "Decline card", ""),
                form("cancel", "Back to cart", ""),
            )
        }
    };
    let body = format!(
        "<p class=ref>Order #{}</p><table>{rows}<tr class=total><td>Total</td><td></td><td class=n>{}</td></tr></table>\
         {tax_note}{message}{actions}<p class=note>Commerce Layer sandbox (Kassa): no real money moves.</p>{script}",
        escape(&o.number),
        escape(&total),
    );
    page(PAGE_TITLE, &body)
}

/// Whether `via` (a link as `link:<id>`, or an access token) may open the order's checkout.
fn page_access(
    e: &Emulator,
    o: &Order,
    via: &str,
    now: i64,
) -> Result<(), (StatusCode, &'static str)> {
    if let Some(link_id) = via.strip_prefix("link:") {
        let Some(l) = e.links.get(link_id).filter(|l| l.order_id == o.id) else {
            return Err((StatusCode::NOT_FOUND, "This link does not exist."));
        };
        return match l.status(now) {
            "active" => Ok(()),
            "pending" => Err((StatusCode::FORBIDDEN, "This link is not active yet.")),
            _ => Err((StatusCode::GONE, "This link is no longer active.")),
        };
    }
    if via.is_empty() {
        return Err((
            StatusCode::UNAUTHORIZED,
            "An access token is required (?accessToken=<sales channel token>).",
        ));
    }
    match token_caller(e, via, now) {
        Err(_) => Err((
            StatusCode::UNAUTHORIZED,
            "The access token is invalid or expired.",
        )),
        Ok(c) if c.integration => Err((
            StatusCode::UNAUTHORIZED,
            "Refused: an integration token must never be used in a URL. Use a sales channel token.",
        )),
        Ok(c) if c.account != o.account => {
            Err((StatusCode::NOT_FOUND, "This order does not exist."))
        }
        Ok(_) => Ok(()),
    }
}

async fn link_page(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let e = s.commercelayer.lock().unwrap();
    let now = now_millis();
    let script = s.page_script_tag();
    let Some(o) = e.links.get(&id).and_then(|l| e.orders.get(&l.order_id)) else {
        return page_response(StatusCode::NOT_FOUND, "This link does not exist.", script);
    };
    let via = format!("link:{id}");
    match page_access(&e, o, &via, now) {
        Ok(()) => Html(order_page(&e, o, &via, None, script)).into_response(),
        Err((status, text)) => page_response(status, text, script),
    }
}

#[derive(Deserialize)]
struct CheckoutQuery {
    #[serde(rename = "accessToken")]
    access_token: Option<String>,
}

async fn checkout_page(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<CheckoutQuery>,
) -> Response {
    let e = s.commercelayer.lock().unwrap();
    let now = now_millis();
    let script = s.page_script_tag();
    let via = q.access_token.unwrap_or_default();
    let Some(o) = e.orders.get(&id) else {
        return page_response(StatusCode::NOT_FOUND, "This order does not exist.", script);
    };
    match page_access(&e, o, &via, now) {
        Ok(()) => Html(order_page(&e, o, &via, None, script)).into_response(),
        Err((status, text)) => page_response(status, text, script),
    }
}

/// A button on the hosted page: applies the outcome, then redirects (return or cart URL) or
/// shows the page again with what happened.
async fn page_action(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    let e = &mut *guard;
    let now = now_millis();
    let script = s.page_script_tag();
    if !matches!(action.as_str(), "pay" | "decline" | "cancel") {
        return page_response(StatusCode::NOT_FOUND, "This page does not exist.", script);
    }
    let Some(o) = e.orders.get(&id) else {
        return page_response(StatusCode::NOT_FOUND, "This order does not exist.", script);
    };
    let via = form.get("access").cloned().unwrap_or_default();
    if let Err((status, text)) = page_access(e, o, &via, now) {
        return page_response(status, text, script);
    }
    let result = outcome(e, &id, &action, now);
    let o = &e.orders[&id];
    match result {
        Ok(Some(url)) => Redirect::to(&url).into_response(),
        Ok(None) => {
            let message = match action.as_str() {
                "pay" => "Payment authorized.",
                "decline" => "Your card was declined. Try again or use another card.",
                _ => "You went back to the shop; this page can still be used to pay.",
            };
            Html(order_page(e, o, &via, Some(message), script)).into_response()
        }
        Err(m) => (
            StatusCode::CONFLICT,
            Html(order_page(e, o, &via, Some(&m), script)),
        )
            .into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Controls

async fn control_add_account(
    State(s): State<Arc<Shared>>,
    Json(a): Json<CommerceLayerAccount>,
) -> Response {
    let too_high = a.default_tax_rate_bp > 10_000 || a.skus.iter().any(|k| k.tax_rate_bp > 10_000);
    if too_high {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "tax rates are basis points: at most 10000"})),
        )
            .into_response();
    }
    s.commercelayer.lock().unwrap().add_account(a);
    StatusCode::NO_CONTENT.into_response()
}

async fn control_outcome(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(o): Json<Outcome>,
) -> Response {
    let mut e = s.commercelayer.lock().unwrap();
    match outcome(&mut e, &id, &o.outcome, now_millis()) {
        Ok(redirect) => Json(json!({ "redirect": redirect })).into_response(),
        Err(m) => (StatusCode::CONFLICT, Json(json!({ "error": m }))).into_response(),
    }
}

async fn control_order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.commercelayer.lock().unwrap();
    let Some(o) = e.orders.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("order {id} was not found")})),
        )
            .into_response();
    };
    let opts = Opts {
        include: ["line_items", "payment_source", "links", "authorizations"]
            .map(String::from)
            .to_vec(),
        ..Opts::default()
    };
    match order_document(
        &e,
        o,
        &public_base(&headers, "commercelayer"),
        &opts,
        now_millis(),
    ) {
        Ok(v) => Json(v).into_response(),
        Err(errs) => errs.into_response(),
    }
}

async fn control_expire_tokens(State(s): State<Arc<Shared>>) -> StatusCode {
    let now = now_millis();
    for t in s.commercelayer.lock().unwrap().tokens.values_mut() {
        t.expires_at = t.expires_at.min(now);
    }
    StatusCode::NO_CONTENT
}

async fn control_token_lifetime(
    State(s): State<Arc<Shared>>,
    Json(l): Json<Lifetime>,
) -> StatusCode {
    s.commercelayer.lock().unwrap().token_lifetime = Some(l.seconds);
    StatusCode::NO_CONTENT
}

async fn control_stats(State(s): State<Arc<Shared>>) -> Json<Value> {
    let e = s.commercelayer.lock().unwrap();
    Json(json!({ "token_requests": e.token_requests }))
}
