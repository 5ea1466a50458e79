//! Opencharge: a signed order, and a hosted checkout page at a payment gateway
//! (`POST {gateway}/checkout/create`) or through a merchant gateway (`POST {gateway}/orders/checkout`).
//!
//! Facts and choices (NOTES-commercelayer-opencharge.md Part B, seed `004_*`):
//! - **Roles** (§B2): Kassa is the merchant (`opencharge.ocid`). In mode `checkout_create` it
//!   is also its own merchant gateway: `X-OC-ID` and `merchantOcid` are both the merchant's OCID
//!   (the spec does not forbid it; interpretation), and `order.accepts = [opencharge.gateway_ocid]`
//!   so the payment gateway settles directly. In mode `orders_checkout` Kassa calls a merchant
//!   gateway it is onboarded at, whose OCID goes into `accepts`. Same order, same signing; the
//!   envelope is each endpoint's (`merchantOcid` + `urls.success/cancel`, resp.
//!   `urls.completed/cancelled`).
//! - **Order** ([`wire`]): amounts are decimal strings with two decimals (three for
//!   three-decimal currencies), never floats; items carry the unit price and an integer
//!   quantity with `amount = Σ price × quantity` exactly; VAT, which Opencharge has no field
//!   for, is only named in `memo` (§B12). `id` is Kassa's session id, `reference` the merchant
//!   reference, `createdAt`/`expiresAt` Unix seconds.
//! - **Signatures** ([`sign`]): the order signature over the recursive sorted-key JSON (§B5 (a));
//!   `opencharge.sign_items = false` leaves `items` out of the order altogether, for gateways that
//!   canonicalize the documented lossy way (§B5 (b)): then both readings verify. Every request
//!   is signed (§B4) over the URL's full path including the gateway's base prefix, with a fresh
//!   128-bit nonce (`req_` + 32 hex).
//! - **Clock** (§B13 #6): the gateway refuses timestamps more than 300 s off its clock. Kassa
//!   measures the offset from every answer's `Date` header (or the error's `serverTime`) and
//!   corrects later requests; a create refused with `TIMESTAMP_EXPIRED` is signed again once with
//!   the corrected time (the refusal proves nothing was created), and the session log says the
//!   till's clock is off. If that fails too, the error names the offset.
//! - **Status** (§B11): a `/checkout/create` session has no status endpoint; the proof of
//!   payment goes to the merchant's public `/transfer/webhook`, which a till cannot host. So Kassa
//!   never reports `paid` for Opencharge: the success URL (webview) or staff saying so makes the
//!   session `needs_review`, and staff confirm it after checking their gateway
//!   ([`crate::checkout::review`]), which the log records as confirmed by staff. At the order's
//!   expiry an unconfirmed session also needs review: Kassa cannot know whether the customer
//!   paid in time.
//! - **Cancel**: Opencharge has no cancel call. Kassa closes its window and stops showing the QR;
//!   the gateway's page stays payable until the order's `expiresAt` (15 min), which the session
//!   detail says.
//! - Errors: `{"error": {"code", "message", "details"}}`; every code of the specs is explained in
//!   [`explain`].

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod sign;
pub mod spec;
pub mod wire;

use super::common::{clip, describe_body, is_cancel_return};
use crate::http::{Http, Method, Request, Response};
use crate::link::LinkRules;
use crate::provider::{
    Capabilities, ClientBase, CreateRequest, Created, ErrorKind, Provider, ProviderError, Returned,
    SessionRef, StatusReport,
};
use crate::secrets::Secret;
use crate::session::Status;
use std::sync::atomic::{AtomicI64, Ordering};

/// The gateway's endpoint Kassa calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A payment gateway's `POST /checkout/create` (Kassa is its own merchant gateway).
    CheckoutCreate,
    /// A merchant gateway's `POST /orders/checkout`.
    OrdersCheckout,
}

impl Mode {
    pub fn parse(text: &str) -> Result<Mode, String> {
        match text {
            "checkout_create" => Ok(Mode::CheckoutCreate),
            "orders_checkout" => Ok(Mode::OrdersCheckout),
            other => Err(format!(
                "opencharge.mode {other:?} is not checkout_create or orders_checkout"
            )),
        }
    }

    fn path(self) -> &'static str {
        match self {
            Mode::CheckoutCreate => "/checkout/create",
            Mode::OrdersCheckout => "/orders/checkout",
        }
    }
}

/// What an Opencharge client needs.
#[derive(Debug, Clone)]
pub struct OpenchargeConfig {
    pub label: String,
    pub profile: String,
    /// The merchant's OCID.
    pub ocid: u64,
    /// The gateway's base URL, e.g. `https://api.wallet.example/opencharge`.
    pub gateway_url: String,
    pub gateway_ocid: u64,
    pub mode: Mode,
    /// Sign (and send) the order's items.
    pub sign_items: bool,
    pub private_key: Secret,
}

/// What Opencharge's client can do.
const CAPABILITIES: Capabilities = Capabilities {
    cancel: true,
    qr: true,
    webview: true,
    verifiable_status: false,
    find_by_reference: false,
    at_sale_capture: crate::provider::AtSaleCapture::NotNeeded,
    capture: false,
    refund: false,
    refund_lines: false,
    void: false,
    operation_references: false,
    link: LinkRules {
        max_ms: LINK_MAX_MS,
        sms: false,
        email: false,
        resend: false,
    },
};

/// The longest an Opencharge link is asked to live: 30 minutes. The order's `expiresAt` is
/// the merchant's to set and v0.1 documents no maximum, but the payment gateway decides how
/// long its checkout session lives: `/checkout/create` answers `expires_at`, 30 minutes in the
/// docs' only gateway handler (NOTES-commercelayer-opencharge.md §B8), and the merchant
/// gateway's `/orders/checkout` answers no expiry at all (§B9). UNCONFIRMED what real gateways
/// allow; Kassa's reading: ask for no more than the documented 30 minutes, so the expiry it
/// shows is one a gateway like the docs' keeps (a shorter `expires_at` in the answer still
/// wins). Opencharge sends nothing itself.
pub const LINK_MAX_MS: i64 = 30 * 60 * 1000;

/// The client the unit tests and the fuzz entry point share: merchant 500 at gateway 100, with
/// the notes' test key.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn test_config(mode: Mode) -> OpenchargeConfig {
    OpenchargeConfig {
        label: "opencharge".into(),
        profile: "test".into(),
        ocid: 500,
        gateway_url: "https://gw.example/opencharge".into(),
        gateway_ocid: 100,
        mode,
        sign_items: true,
        private_key: Secret::new(
            "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
        ),
    }
}

/// An Opencharge merchant client.
pub struct Opencharge {
    base: ClientBase,
    config: OpenchargeConfig,
    key: sign::Key,
    /// The gateway's clock minus this till's, in ms, as last measured.
    offset_ms: AtomicI64,
}

/// How far the till's clock may be from the gateway's before Kassa mentions it (the `Date`
/// header has whole seconds).
const QUIET_OFFSET_MS: i64 = 2_000;
/// The largest clock offset Kassa believes: a thousand years.
const MAX_OFFSET_MS: i64 = 1000 * 366 * 86_400_000;

impl Opencharge {
    pub fn new(config: OpenchargeConfig, http: Http) -> Result<Opencharge, ProviderError> {
        let key = sign::Key::from_hex(&config.private_key).map_err(|m| {
            ProviderError::new(
                &config.label,
                ErrorKind::Config(format!("opencharge private_key in the keyring: {m}")),
            )
        })?;
        Ok(Opencharge {
            // The gateway URL is a required setting of its own: no base URL replaces it.
            base: ClientBase::new(&config.label, &config.profile, CAPABILITIES, None, http),
            config,
            key,
            offset_ms: AtomicI64::new(0),
        })
    }

    /// The public key the gateway must have for this merchant (128 hex).
    pub fn public_key_hex(&self) -> String {
        self.key.public_key_hex()
    }

    fn error(&self, kind: ErrorKind) -> ProviderError {
        self.base.error(kind)
    }

    fn url(&self) -> String {
        format!(
            "{}{}",
            self.config.gateway_url.trim_end_matches('/'),
            self.config.mode.path()
        )
    }

    /// Learns the gateway's clock from an answer.
    pub(crate) fn measure(&self, resp: &Response, sent_at: i64, received_at: i64) {
        let server = resp
            .date
            .as_deref()
            .and_then(crate::time::parse_http_date)
            // The header has whole seconds: the server's time was half a second later on average.
            .map(|ms| ms + 500)
            .or_else(|| {
                serde_json::from_slice::<wire::ErrorBody>(&resp.body)
                    .ok()
                    .and_then(|b| b.error.details)
                    .and_then(|d| d.get("serverTime").and_then(serde_json::Value::as_i64))
                    .and_then(|s| s.checked_mul(1000))
            });
        // The server stamped the answer somewhere between sending and receiving.
        let local = sent_at + (received_at - sent_at) / 2;
        // An offset beyond MAX_OFFSET_MS is a broken answer, not a clock (and would overflow
        // the signed timestamps).
        if let Some(offset) = server
            .and_then(|server| server.checked_sub(local))
            .filter(|o| o.unsigned_abs() <= MAX_OFFSET_MS.unsigned_abs())
        {
            self.offset_ms.store(offset, Ordering::Relaxed);
        }
    }

    /// Signs and sends one create; returns the answer and the timestamp it was signed with.
    fn send_signed(&self, body: &[u8]) -> Result<Response, ProviderError> {
        let url = self.url();
        let path = path_and_query(&url);
        let now = crate::time::now_millis();
        let ts = (now + self.offset_ms.load(Ordering::Relaxed)).div_euclid(1000);
        let nonce = nonce()?;
        let ocid = self.config.ocid.to_string();
        let canonical = sign::canonical_request(&ocid, ts, &nonce, "POST", &path, body);
        let req = Request::new(Method::Post, url)
            .header("accept", "application/json")
            .header("x-oc-id", ocid)
            .header("x-oc-timestamp", ts.to_string())
            .header("x-oc-nonce", nonce)
            .header("x-oc-signature", self.key.sign(canonical.as_bytes()))
            .json(body.to_vec());
        let resp = self.base.send(&req, false)?;
        self.measure(&resp, now, crate::time::now_millis());
        Ok(resp)
    }

    pub(crate) fn refusal(&self, resp: &Response) -> ProviderError {
        let (code, message) = match serde_json::from_slice::<wire::ErrorBody>(&resp.body) {
            Ok(b) => {
                let said = clip(&b.error.message);
                let message = match explain(&b.error.code, &self.config, &self.public_key_hex()) {
                    Some(why) if said.is_empty() => why,
                    Some(why) => format!("{why} (gateway: {said})"),
                    None => said,
                };
                (Some(b.error.code), message)
            }
            Err(_) => (None, describe_body(resp, "Opencharge")),
        };
        self.base
            .refused(resp, "the gateway endpoint", code, message)
    }

    /// Reads a 2xx answer to a create of order `order_id`; `expires_at`: Kassa's limit.
    pub(crate) fn created(
        &self,
        resp: &Response,
        order_id: &str,
        expires_at: i64,
        corrected: bool,
    ) -> Result<Created, ProviderError> {
        let (id, url, expires) = match self.config.mode {
            Mode::CheckoutCreate => {
                let c: wire::CheckoutCreated = self.base.json(resp)?;
                (c.session_id, c.checkout_url, c.expires_at)
            }
            Mode::OrdersCheckout => {
                let c: wire::OrdersCheckedOut = self.base.json(resp)?;
                (order_id.to_string(), c.redirect_url, None)
            }
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(self.error(ErrorKind::BadResponse {
                status: resp.status,
                detail: format!("the checkout URL {:?} is not a web address", clip(&url)),
            }));
        }
        let offset = self.offset_ms.load(Ordering::Relaxed);
        // The gateway's expiry is on its clock; Kassa's limit is on the till's. An expiry too
        // far out to compute is no earlier than Kassa's limit.
        let expires_at = expires
            .and_then(|s| s.checked_mul(1000)?.checked_sub(offset))
            .map_or(expires_at, |t| t.min(expires_at));
        let detail = (corrected || offset.abs() > QUIET_OFFSET_MS).then(|| {
            format!(
                "this till's clock {}; Kassa corrected the signed timestamps: set the clock right",
                self.offset_text()
            )
        });
        Ok(Created {
            provider_session_id: id,
            qr_payload: url.clone(),
            checkout_url: url,
            expires_at: Some(expires_at),
            detail,
            sent: None,
        })
    }

    pub(crate) fn offset_text(&self) -> String {
        let s = (self.offset_ms.load(Ordering::Relaxed) + 500).div_euclid(1000);
        match s {
            0 => "matches the gateway's".into(),
            s if s > 0 => format!("is {s} s behind the gateway's"),
            s => format!("is {} s ahead of the gateway's", -s),
        }
    }
}

/// A fresh nonce: `req_` and 128 random bits in hex.
fn nonce() -> Result<String, ProviderError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| {
        ProviderError::new(
            "opencharge",
            ErrorKind::Config(format!("no randomness for a nonce: {e}")),
        )
    })?;
    Ok(format!("req_{}", sign::hex(&b)))
}

/// The path and query of a URL, as signed (`/opencharge/checkout/create?x=1`).
pub fn path_and_query(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split('#').next().unwrap_or("");
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => match rest.find('?') {
            Some(i) => format!("/{}", &rest[i..]),
            None => "/".into(),
        },
    }
}

/// What an Opencharge error code means for the cashier or the integrator (the specs' enums and
/// `error-codes.mdx`, NOTES §B8). `None`: a code Kassa does not know; the gateway's message is
/// shown as it is.
pub fn explain(code: &str, c: &OpenchargeConfig, public_key: &str) -> Option<String> {
    let gw = c.gateway_ocid;
    let me = c.ocid;
    Some(match code {
        "INVALID_SIGNATURE" => format!(
            "the gateway could not verify Kassa's signature: the private key in the keyring must \
             belong to OCID {me} (its public key is {public_key}); if the gateway checks orders the \
             documented lossy way, set opencharge.sign_items false"
        ),
        "TIMESTAMP_EXPIRED" => {
            "the gateway refused the request's time: this till's clock is more than 300 s off the \
             gateway's; set the clock (NTP)"
                .into()
        }
        "NONCE_REUSED" => "the gateway has seen this request's nonce before (a repeated request); \
             nothing was created; charge again"
            .into(),
        "UNKNOWN_OCID" => format!(
            "the gateway does not know OCID {me} (opencharge.ocid) or cannot read its metadata"
        ),
        "METADATA_UNAVAILABLE" => format!(
            "the gateway could not fetch the metadata of OCID {me}; check the merchant's metadata URL"
        ),
        "MERCHANT_NOT_REGISTERED" => {
            format!("merchant OCID {me} is not onboarded at merchant gateway {gw}")
        }
        "SETTLEMENT_NOT_SUPPORTED" | "ISSUER_NOT_ACCEPTED" => format!(
            "the gateway will not settle this order (order.accepts is [{gw}], from \
             opencharge.gateway_ocid); check that it is the gateway's OCID"
        ),
        "AMOUNT_MISMATCH" => "the gateway computes a different amount for this order".into(),
        "CURRENCY_MISMATCH" => "the gateway does not take this currency".into(),
        "SESSION_EXPIRED" | "ORDER_EXPIRED" | "TRANSACTION_EXPIRED" | "PAYMENT_EXPIRED" => {
            "the gateway says the order has expired (check this till's clock)".into()
        }
        "SESSION_USED" => "the gateway has already used this order id".into(),
        "SESSION_NOT_FOUND" | "ORDER_NOT_FOUND" | "PAYMENT_NOT_FOUND" | "TXID_NOT_FOUND" => {
            "the gateway does not know this order".into()
        }
        "CAPABILITY_NOT_SUPPORTED" => format!(
            "the gateway does not offer this endpoint (opencharge.mode {:?})",
            match c.mode {
                Mode::CheckoutCreate => "checkout_create",
                Mode::OrdersCheckout => "orders_checkout",
            }
        ),
        "RATE_LIMITED" => "the gateway is rate limiting; wait and charge again".into(),
        "CONNECTION_REFUSED" => {
            "the gateway refuses connections from this merchant; do not retry at once".into()
        }
        "INSUFFICIENT_FUNDS" => "the gateway reports insufficient funds".into(),
        "ACCOUNT_NOT_FOUND" => "the gateway does not know the account".into(),
        "INVALID_PROOF" | "PROOF_SIGNATURE_INVALID" => "the gateway refused a proof".into(),
        _ => return None,
    })
}

impl Provider for Opencharge {
    fn base(&self) -> &ClientBase {
        &self.base
    }

    fn create(&self, req: &CreateRequest) -> Result<Created, ProviderError> {
        let first_offset = self.offset_ms.load(Ordering::Relaxed);
        let mut corrected = false;
        loop {
            let offset = self.offset_ms.load(Ordering::Relaxed);
            let order = wire::order(
                req.session_id.as_str(),
                req.order,
                self.config.ocid,
                self.config.gateway_ocid,
                self.config.sign_items,
                (req.now + offset).div_euclid(1000),
                (req.expires_at + offset).div_euclid(1000),
            )
            .map_err(|m| self.error(ErrorKind::Config(m)))?;
            let signature = self.key.sign(
                sign::canonical_json(&serde_json::to_value(&order).expect("an order serializes"))
                    .map_err(|m| self.error(ErrorKind::Config(m)))?
                    .as_bytes(),
            );
            let body = match self.config.mode {
                Mode::CheckoutCreate => serde_json::to_vec(&wire::CheckoutCreate {
                    order: &order,
                    signature: &signature,
                    merchant_ocid: self.config.ocid,
                    urls: wire::PgUrls {
                        success: req.return_url,
                        cancel: req.cancel_url,
                    },
                }),
                Mode::OrdersCheckout => serde_json::to_vec(&wire::OrdersCheckout {
                    order: &order,
                    signature: &signature,
                    urls: wire::MgUrls {
                        completed: req.return_url,
                        cancelled: req.cancel_url,
                    },
                }),
            }
            .expect("a request serializes");
            let resp = self.send_signed(&body)?;
            if (200..300).contains(&resp.status) {
                return self.created(&resp, &order.id, req.expires_at, corrected);
            }
            let error = self.refusal(&resp);
            let timestamp_refused = matches!(&error.kind, ErrorKind::Auth { code: Some(c), .. } if c == "TIMESTAMP_EXPIRED");
            let now_offset = self.offset_ms.load(Ordering::Relaxed);
            if timestamp_refused
                && !corrected
                && (now_offset - first_offset).abs() > QUIET_OFFSET_MS
            {
                // Refused before anything was created: sign again with the gateway's time.
                corrected = true;
                continue;
            }
            if timestamp_refused {
                return Err(self.error(ErrorKind::Auth {
                    status: resp.status,
                    code: Some("TIMESTAMP_EXPIRED".into()),
                    message: format!(
                        "the gateway refused the request's time: this till's clock {} (measured from the gateway's Date header){}; set the clock (NTP)",
                        self.offset_text(),
                        if corrected { ", and the corrected time was refused too" } else { "" }
                    ),
                }));
            }
            return Err(error);
        }
    }

    fn status(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        if s.expires_at.is_some_and(|t| s.now >= t) {
            return Ok(StatusReport {
                status: Status::NeedsReview,
                detail: format!(
                    "order {} expired without confirmation; Opencharge cannot be asked whether it \
                     was paid: check your gateway",
                    s.merchant_reference
                ),
                payment_id: None,
            });
        }
        Ok(StatusReport {
            status: Status::Open,
            detail:
                "waiting: Opencharge has no status endpoint; when the customer says they paid, \
                     check your gateway and confirm"
                    .into(),
            payment_id: None,
        })
    }

    fn returned(&self, s: &SessionRef, url: &str) -> Result<Returned, ProviderError> {
        let cancelled = is_cancel_return(url);
        Ok(Returned {
            payment_id: None,
            report: Some(if cancelled {
                StatusReport {
                    status: Status::Cancelled,
                    detail: "the customer cancelled on the gateway's page".into(),
                    payment_id: None,
                }
            } else {
                StatusReport {
                    status: Status::NeedsReview,
                    detail: format!(
                        "the customer reached the success page, which is not proof of payment: \
                         check your gateway for order {} and confirm",
                        s.merchant_reference
                    ),
                    payment_id: None,
                }
            }),
        })
    }

    fn cancel(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        Ok(StatusReport {
            status: Status::Cancelled,
            detail: format!(
                "cancelled at the till; Opencharge has no cancel call, so the gateway's page stays \
                 payable until the order expires{}: a payment made anyway shows in your gateway",
                s.expires_at
                    .map(|t| format!(" at {}", crate::time::format_rfc3339(t)))
                    .unwrap_or_default()
            ),
            payment_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_path_keeps_the_base_prefix_and_query() {
        assert_eq!(
            path_and_query("https://api.wallet.example/opencharge/checkout/create"),
            "/opencharge/checkout/create"
        );
        assert_eq!(
            path_and_query("http://127.0.0.1:9/opencharge/pg/checkout/create?x=1&y=%20#frag"),
            "/opencharge/pg/checkout/create?x=1&y=%20"
        );
        assert_eq!(path_and_query("https://h.example"), "/");
        assert_eq!(path_and_query("https://h.example?a=1"), "/?a=1");
    }

    #[test]
    fn every_spec_error_code_is_explained() {
        let c = test_config(Mode::CheckoutCreate);
        // The codes of the payment and merchant gateway specs and of error-codes.mdx (§B8).
        for code in [
            "INVALID_SIGNATURE",
            "TIMESTAMP_EXPIRED",
            "NONCE_REUSED",
            "UNKNOWN_OCID",
            "SESSION_NOT_FOUND",
            "SESSION_EXPIRED",
            "SESSION_USED",
            "INVALID_PROOF",
            "PROOF_SIGNATURE_INVALID",
            "ISSUER_NOT_ACCEPTED",
            "INSUFFICIENT_FUNDS",
            "ACCOUNT_NOT_FOUND",
            "METADATA_UNAVAILABLE",
            "AMOUNT_MISMATCH",
            "CURRENCY_MISMATCH",
            "TXID_NOT_FOUND",
            "TRANSACTION_EXPIRED",
            "CAPABILITY_NOT_SUPPORTED",
            "RATE_LIMITED",
            "CONNECTION_REFUSED",
            "ORDER_NOT_FOUND",
            "ORDER_EXPIRED",
            "MERCHANT_NOT_REGISTERED",
            "PAYMENT_NOT_FOUND",
            "PAYMENT_EXPIRED",
            "SETTLEMENT_NOT_SUPPORTED",
        ] {
            assert!(explain(code, &c, "ab").is_some(), "{code}");
        }
        assert!(explain("INVALID_SIGNATURE", &c, "abcd")
            .unwrap()
            .contains("abcd"));
        assert!(explain("MERCHANT_NOT_REGISTERED", &c, "")
            .unwrap()
            .contains("500"));
        assert_eq!(explain("SOMETHING_NEW", &c, ""), None);
    }
}
