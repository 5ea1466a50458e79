//! Bambora / Worldline Online Checkout: checkout sessions for the embedded window, Payment
//! Requests for the QR code, the Merchant API for evidence.
//!
//! Facts and choices (NOTES-bambora-dintero-klarna.md §4, seed `000_*`):
//! - Auth on every call: `Basic base64("{access token}@{merchant number}:{secret token}")`.
//! - Every answer carries `meta`; `meta.result` decides, whatever the HTTP status (the plugins
//!   never branch on HTTP status; its semantics are UNCONFIRMED). `meta.message.merchant` is the
//!   text staff see in errors (`enduser` is meant for customers).
//! - **Webview**: `POST {checkout}/sessions` (the seed's example) or `/checkout` (what the
//!   plugins call): the `bambora.session_path` setting. The window goes to `url`. Bambora
//!   reports the payment only by sending the browser to the accept URL with `txnid` and an MD5
//!   `hash`: the window intercepts it, [`Provider::returned`] verifies the hash with the MD5 key
//!   from the keyring, and only then `GET {merchant}/transactions/{txnid}` decides (authorized ≥
//!   the order's amount = paid). A hash that does not match makes the session `needs_review`
//!   (most likely a wrong `md5_key`; possibly a forged URL), never `paid`. The decline URL (the
//!   customer pressed Cancel) ends the session as cancelled. A checkout session cannot be looked
//!   up or cancelled at Bambora (no such endpoint is documented): Kassa's cancel closes it on
//!   this till, where alone its URL was shown; past its expiry without an accept URL it is
//!   `expired`. The session is valid one hour (seed).
//! - **QR**: the customer pays on their own phone, so no accept URL reaches the till. Kassa
//!   creates a **Payment Request** (`POST {checkout}/paymentrequests`) and shows its `url`,
//!   polls `GET /paymentrequests/{id}`: `open` is open; `closed` (the only confirmed value) is
//!   not machine-checkable evidence of a payment (the answer carries no transaction Kassa could
//!   verify), so the session goes to `needs_review` for staff to check in Bambora's back
//!   office (searched again 2026-12 for a transaction id on a Payment Request, see below).
//!   Cancel: `DELETE /paymentrequests/{id}`. At Kassa's expiry (a counter sale's
//!   `shop.counter_link_minutes`; a link sale's lifetime, at most [`LINK_MAX_MS`]) an open
//!   request is deleted so nobody can pay it later, then reported `expired`.
//! - **Why a closed Payment Request is not `paid`** (the one place to change if Bambora's
//!   answer turns out to name the transaction: the `"closed"` arm of the Payment Request
//!   status read). Searched in 2026-12: Bambora's PrestaShop module (`bambora/checkout-prestashop`:
//!   `helpers/apiHelper.php` `getPaymentRequest`, `helpers/adminPaymentRequestHelper.php`)
//!   reads only `id`, `url`, `createddate`, `description`, `status`, `reference` and
//!   `parameters.order.{amount,currency}` from `GET /paymentrequests/{id}`, and learns the
//!   transaction only from the callback (`controllers/front/paymentrequestcallback.php`, the
//!   same `txnid` + MD5 `hash` query as the checkout callback), which a till behind NAT never
//!   receives. The WooCommerce plugin's API class (`bambora/checkout-woocommerce`,
//!   `lib/bambora-online-checkout-api.php`) reads no Payment Request at all, and transactions
//!   only by the `txnid` its callback brings. A code search for `transactionid` and an issue
//!   search found nothing more, and the provider notes (§4.8) list no such field nor a
//!   "transactions by order id" endpoint. Reading the
//!   transaction would need a field nobody documents or uses; guessing one would let a made-up
//!   answer mark a sale paid, so `needs_review` stays.
//! - **Link sales** (paid elsewhere and later) are Payment Requests whatever the presentation,
//!   e-mailed by Bambora on request (`POST /paymentrequests/{id}/email-notifications`).
//! - The provider session id says which kind a session is: `checkout/<token>` or
//!   `paymentrequest/<id>`.
//! - Bambora's order id is the merchant reference without non-alphanumerics ([`wire::order_id`]).
//! - Lines: no 0 % rounding line; every line is exact (`quantity × unitpriceinclvat =
//!   totalpriceinclvat`), a whole quantity whose total does not divide goes as two lines, a
//!   weighed one as quantity 1. The decision and its reasons: [`wire`].
//!
//! After the sale (NOTES-after-sale.md §1; the WooCommerce plugin and Magento module, see
//! [`wire`]):
//! - **Capture at sale** is Bambora's own: `instantcaptureamount` = the order's amount in the
//!   create, atomic with the authorization ([`AtSaleCapture::ByProvider`]); with
//!   `<provider>.capture = manual` it is 0 and the checkout session asks for `capturemulti` (so
//!   staff may capture in parts). A payment counts as captured only on the Merchant API's
//!   `total.captured`: a paid sale whose instant capture failed is paid (authorized) and shows
//!   as authorized, not captured, in [`Provider::payment_state`].
//! - **Capture, credit, delete**: `POST {transaction}/transactions/{txnid}/capture` and
//!   `…/credit` with `{amount, currency, invoicelines}`, `…/delete` with no body; each sent once
//!   (Bambora has no idempotency). The answer's `meta.result` decides as everywhere; `result:
//!   false` is a refusal with `meta.message.merchant`. The HTTP statuses of refusals are
//!   UNCONFIRMED (the plugins never read them). The new operation's `id` is the reference.
//! - **Evidence**: `GET {merchant}/transactions/{txnid}` (`total`, `available`, `candelete`)
//!   and `…/transactionoperations`. Bambora keeps no reference of Kassa's on an operation
//!   ([`Capabilities::operation_references`] false): `checkout` matches an unclear outcome
//!   against the operations read before sending.
//! - The payment id is the `txnid`, which only the verified accept URL of the till's window
//!   gives. A **QR sale** (Payment Request) has none, and Bambora documents no way to find it:
//!   capture, refund, void and the payment read of such a sale are refused with that reason
//!   (staff act in Bambora's back office). Kassa does not guess at an undocumented look-up.
//! - UNCONFIRMED, and the reading taken: the HTTP statuses of refusals (only `meta.result`
//!   counts); operation `status` values other than `approved` (all count as failed, as in the
//!   plugins); whether several partial captures need `capturemulti` (sent with manual capture;
//!   what is left is read from `available.capture`, and less than authorized − captured means
//!   the rest was released: [`PaymentState::voided`]); how later operations nest in the list
//!   (read at any depth); the authorization's lifetime (none reported); whether the Transaction
//!   API checks `invoicelines` against the amount (Kassa sends them summing exactly, and no
//!   lines for a part by amount that `checkout` did not split).

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod spec;
pub mod wire;

use super::common::{basic_auth, clip, describe_body, is_cancel_return, parse_json, query_pairs};
use crate::http::{percent_encode, Http, Method, Request, Response};
use crate::link::{Contact, LinkRules, SaleKind};
use crate::provider::{
    AtSaleCapture, Capabilities, CapturePolicy, ClientBase, CreateRequest, Created, ErrorKind,
    OperationAnswer, OperationRequest, PaymentState, Presentation, Provider, ProviderError,
    Returned, Sent, SessionRef, StatusReport,
};
use crate::secrets::Secret;
use crate::session::Status;

/// The Checkout API (sessions, payment requests).
pub const CHECKOUT_ORIGIN: &str = "https://api.v1.checkout.bambora.com";
/// The Merchant API (transactions and their operations, read).
pub const MERCHANT_ORIGIN: &str = "https://merchant-v1.api-eu.bambora.com";
/// The Transaction API (capture, credit, delete).
pub const TRANSACTION_ORIGIN: &str = "https://transaction-v1.api-eu.bambora.com";
/// How long a checkout session is valid (seed: "A Checkout Session is valid for one hour").
pub const SESSION_LIFETIME_MS: i64 = 3600 * 1000;

const CHECKOUT_PREFIX: &str = "checkout/";
const PAYMENT_REQUEST_PREFIX: &str = "paymentrequest/";

/// What a Bambora client needs. Secrets stay in [`Secret`]s until a request needs them.
#[derive(Debug, Clone)]
pub struct BamboraConfig {
    pub label: String,
    /// `test` or `live` (Bambora uses the same hosts; the merchant number decides).
    pub profile: String,
    pub merchant_number: String,
    pub payment_window_id: u32,
    /// `sessions` or `checkout`.
    pub session_path: String,
    /// The payment window's language (`nb-NO`), see [`language`].
    pub language: String,
    pub base_url: Option<String>,
    pub access_token: Secret,
    pub secret_token: Secret,
    /// Needed only to verify the webview's accept URL.
    pub md5_key: Option<Secret>,
}

/// The client the unit tests and the fuzz entry point share: a test merchant, no base URL,
/// no MD5 key.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn test_config() -> BamboraConfig {
    BamboraConfig {
        label: "bambora".into(),
        profile: "test".into(),
        merchant_number: "T123456789".into(),
        payment_window_id: 1,
        session_path: "sessions".into(),
        language: "nb-NO".into(),
        base_url: None,
        access_token: Secret::new("access"),
        secret_token: Secret::new("secret"),
        md5_key: None,
    }
}

/// The payment window language for a shop locale (`nb` → `nb-NO`); Bambora's windows speak
/// da-DK, sv-SE, nb-NO, fi-FI and en-US (NOTES §4.3), others get en-US.
pub fn language(locale: &str) -> String {
    match locale.split(['-', '_']).next().unwrap_or("") {
        "nb" | "no" | "nn" => "nb-NO",
        "sv" => "sv-SE",
        "da" => "da-DK",
        "fi" => "fi-FI",
        _ => "en-US",
    }
    .into()
}

/// What Bambora's client can do.
const CAPABILITIES: Capabilities = Capabilities {
    cancel: true,
    qr: true,
    webview: true,
    // Webview payments are verified; QR payments need staff review.
    verifiable_status: true,
    find_by_reference: false,
    at_sale_capture: AtSaleCapture::ByProvider,
    // Webview sales only: a QR sale has no transaction id (see the module doc).
    capture: true,
    refund: true,
    refund_lines: true,
    void: true,
    operation_references: false,
    link: LinkRules {
        max_ms: LINK_MAX_MS,
        sms: false,
        email: true,
        resend: true,
    },
};

/// The longest a Bambora link is kept payable: 30 days. A link sale is a **Payment Request**
/// (a checkout session lives one hour: [`SESSION_LIFETIME_MS`]). Bambora documents no expiry
/// field for a Payment Request and no lifetime (its statuses include `expired`;
/// NOTES-after-sale.md §2, NOTES-bambora-dintero-klarna.md §4.8, §4.10: UNCONFIRMED). Kassa's
/// reading: Kassa keeps the expiry itself, as for QR sales: an open request is deleted
/// (`DELETE /paymentrequests/{id}`) at the first status read past it, so nobody pays it later;
/// a month at most, as for the other providers' links. Delivery: e-mail only
/// (`POST /paymentrequests/{id}/email-notifications`; no SMS endpoint found, UNCONFIRMED),
/// again whenever asked.
pub const LINK_MAX_MS: i64 = 30 * 24 * 3600 * 1000;

/// Why a QR sale cannot be captured, refunded, voided or read: its Payment Request's answer
/// names no transaction, and no look-up by order id is documented (NOTES §4.8).
macro_rules! no_txnid {
    ($what:literal) => {
        concat!(
            $what,
            " of a QR sale: Bambora does not tell Kassa the transaction of a payment request; \
             capture/refund it in the Bambora back office"
        )
    };
}

/// A Bambora Online Checkout client.
pub struct Bambora {
    base: ClientBase,
    config: BamboraConfig,
    auth: Secret,
}

impl Bambora {
    pub fn new(config: BamboraConfig, http: Http) -> Bambora {
        let auth = basic_auth(
            &format!(
                "{}@{}",
                config.access_token.expose(),
                config.merchant_number
            ),
            config.secret_token.expose(),
        );
        Bambora {
            base: ClientBase::new(
                &config.label,
                &config.profile,
                CAPABILITIES,
                config.base_url.clone(),
                http,
            ),
            config,
            auth,
        }
    }

    fn error(&self, kind: ErrorKind) -> ProviderError {
        self.base.error(kind)
    }

    fn request(&self, method: Method, origin: &str, path: &str) -> Request {
        Request::new(method, self.base.url(origin, path))
            .header("authorization", self.auth.expose().to_string())
            .header("accept", "application/json")
    }

    /// Sends and checks HTTP status and `meta.result`; returns the body for the caller to read.
    fn call(&self, req: Request, idempotent: bool, what: &str) -> Result<Response, ProviderError> {
        let resp = self.base.send(&req, idempotent)?;
        self.answer(resp, what)
    }

    /// Checks an answer's HTTP status and `meta.result` (see [`Bambora::call`]).
    pub(crate) fn answer(&self, resp: Response, what: &str) -> Result<Response, ProviderError> {
        let meta = serde_json::from_slice::<wire::Envelope>(&resp.body)
            .ok()
            .map(|e| e.meta);
        let words = |m: &wire::Meta| {
            let message = m.message.as_ref();
            let text = message
                .and_then(|x| x.merchant.clone().filter(|t| !t.is_empty()))
                .or_else(|| message.and_then(|x| x.enduser.clone()))
                .unwrap_or_else(|| "no message".into());
            (m.action.as_ref().and_then(|a| a.code.clone()), clip(&text))
        };
        if !(200..300).contains(&resp.status) {
            let (code, message) = match &meta {
                Some(m) => words(m),
                None => (None, describe_body(&resp, "Bambora")),
            };
            return Err(self.base.refused(&resp, what, code, message));
        }
        match meta {
            Some(m) if m.result => Ok(resp),
            Some(m) => {
                let (code, message) = words(&m);
                Err(self.error(ErrorKind::Rejected {
                    status: resp.status,
                    code,
                    message,
                }))
            }
            // Not Bambora's envelope: say why (not JSON, wrong type, no meta).
            None => Err(parse_json::<wire::Envelope>(self.base.label(), &resp)
                .err()
                .unwrap_or_else(|| {
                    self.error(ErrorKind::BadResponse {
                        status: resp.status,
                        detail: "the answer has no meta envelope".into(),
                    })
                })),
        }
    }

    fn body<T: serde::Serialize>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).expect("a Bambora request serializes")
    }

    fn transaction_read(&self, txnid: &str) -> Result<wire::Transaction, ProviderError> {
        let req = self.request(
            Method::Get,
            MERCHANT_ORIGIN,
            &format!("/transactions/{}", percent_encode(txnid)),
        );
        let resp = self.call(req, true, &format!("transaction {txnid}"))?;
        Ok(self.base.json::<wire::TransactionRead>(&resp)?.transaction)
    }

    fn transaction(&self, txnid: &str, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        let t = self.transaction_read(txnid)?;
        let (status, detail) = wire::transaction_status(&t, s.gross, s.currency);
        Ok(StatusReport {
            status,
            detail,
            payment_id: Some(txnid.to_string()),
        })
    }

    /// The transaction id capture, refund, void and the payment read need; `qr` says why a QR
    /// sale has none.
    fn txnid<'a>(&self, s: &SessionRef<'a>, qr: &'static str) -> Result<&'a str, ProviderError> {
        if let Some(txnid) = s.provider_payment_id {
            return Ok(txnid);
        }
        match self.kind(s)? {
            Kind::PaymentRequest(_) => Err(self.error(ErrorKind::Unsupported { operation: qr })),
            Kind::Checkout(token) => Err(self.base.config(format!(
                "checkout session {token} has no Bambora transaction: no accepted payment reached this till's window"
            ))),
        }
    }

    /// Sends a capture, credit or delete (`action`) once: Bambora has no idempotency, so
    /// whether one with an unclear outcome happened is for [`Provider::payment_state`] to say.
    /// `Err` also when Bambora answered but did not approve the operation.
    fn operate(
        &self,
        op: &OperationRequest,
        action: &str,
        qr: &'static str,
    ) -> Result<OperationAnswer, ProviderError> {
        let txnid = self.txnid(op.session, qr)?;
        let mut req = self.request(
            Method::Post,
            TRANSACTION_ORIGIN,
            &format!("/transactions/{}/{action}", percent_encode(txnid)),
        );
        // A delete has no body (the plugins post none).
        if action != "delete" {
            let body = wire::operation_body(op).map_err(|why| {
                self.base.config(format!(
                    "the {action} of transaction {txnid} was not sent: {why}"
                ))
            })?;
            req = req.json(Self::body(&body));
        }
        let resp = self.call(req, false, &format!("the {action} of transaction {txnid}"))?;
        let answer: wire::Operations = self.base.json(&resp)?;
        let done = wire::operation_done(&answer, action).map_err(|(message, code)| {
            self.error(ErrorKind::Rejected {
                status: resp.status,
                code,
                message,
            })
        })?;
        let amount = if action == "delete" {
            String::new()
        } else {
            format!(" of {} {}", op.amount, op.session.currency)
        };
        Ok(OperationAnswer {
            pending: false,
            provider_reference: done.map(|d| d.id.0.clone()),
            detail: match done {
                Some(d) => format!(
                    "Bambora approved the {action}{amount} on transaction {txnid} (operation {}{})",
                    d.id,
                    d.subaction
                        .as_deref()
                        .map(|s| format!(", {s}"))
                        .unwrap_or_default()
                ),
                None => format!("Bambora accepted the {action}{amount} on transaction {txnid}"),
            },
        })
    }

    fn payment_request(&self, id: &str) -> Result<wire::PaymentRequestRead, ProviderError> {
        let req = self.request(
            Method::Get,
            CHECKOUT_ORIGIN,
            &format!("/paymentrequests/{}", percent_encode(id)),
        );
        let resp = self.call(req, true, &format!("payment request {id}"))?;
        self.base.json(&resp)
    }

    fn delete_payment_request(&self, id: &str) -> Result<(), ProviderError> {
        let req = self.request(
            Method::Delete,
            CHECKOUT_ORIGIN,
            &format!("/paymentrequests/{}", percent_encode(id)),
        );
        // Deleting twice deletes once: safe to retry.
        self.call(req, true, &format!("payment request {id}"))
            .map(|_| ())
    }

    fn payment_request_report(
        &self,
        id: &str,
        s: &SessionRef,
    ) -> Result<StatusReport, ProviderError> {
        let pr = self.payment_request(id)?;
        let order = wire::order_id(s.merchant_reference);
        Ok(match pr.status.as_str() {
            "open" if s.expires_at.is_some_and(|t| s.now >= t) => {
                self.delete_payment_request(id)?;
                StatusReport {
                    status: Status::Expired,
                    detail: format!("payment request {id} was still open at the session's expiry; Kassa deleted it so it can no longer be paid"), payment_id: None,
                }
            }
            "open" => StatusReport {
                status: Status::Open,
                detail: format!("payment request {id} open"), payment_id: None,
            },
            "closed" => StatusReport {
                status: Status::NeedsReview,
                detail: format!(
                    "payment request {id} closed: Bambora's answer names no transaction Kassa can verify; \
                     check order {order} in Bambora's back office"
                ), payment_id: None,
            },
            other => StatusReport {
                status: Status::Unknown,
                detail: format!("payment request {id} has status {other:?}, which Kassa does not know"), payment_id: None,
            },
        })
    }

    fn kind<'a>(&self, s: &SessionRef<'a>) -> Result<Kind<'a>, ProviderError> {
        let id = self.base.session_id(s, "Bambora id")?;
        if let Some(token) = id.strip_prefix(CHECKOUT_PREFIX) {
            Ok(Kind::Checkout(token))
        } else if let Some(pr) = id.strip_prefix(PAYMENT_REQUEST_PREFIX) {
            Ok(Kind::PaymentRequest(pr))
        } else {
            Err(self.error(ErrorKind::Config(format!(
                "{id:?} is not a Bambora session id Kassa made"
            ))))
        }
    }

    fn checkout_report(&self, token: &str, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        if let Some(txnid) = s.provider_payment_id {
            return self.transaction(txnid, s);
        }
        Ok(if s.expires_at.is_some_and(|t| s.now >= t) {
            StatusReport {
                status: Status::Expired,
                detail: format!("checkout session {token} expired without an accepted payment reaching this till"), payment_id: None,
            }
        } else {
            StatusReport {
                status: Status::Open,
                detail: format!("checkout session {token} open (Bambora reports its payment through the accept URL)"), payment_id: None,
            }
        })
    }
}

enum Kind<'a> {
    Checkout(&'a str),
    PaymentRequest(&'a str),
}

impl Provider for Bambora {
    fn base(&self) -> &ClientBase {
        &self.base
    }

    fn create(&self, req: &CreateRequest) -> Result<Created, ProviderError> {
        let window = wire::PaymentWindow {
            id: self.config.payment_window_id,
            language: &self.config.language,
        };
        // A checkout session lives one hour whatever Kassa asks; a Payment Request as long as
        // Kassa keeps it (see [`LINK_MAX_MS`]).
        let session_expires = Some(req.now + SESSION_LIFETIME_MS);
        let request_expires = Some(req.expires_at);
        // Bambora captures at the authorization itself; manual: nothing (as the plugins send).
        let instant_capture = match req.capture {
            CapturePolicy::AtSale => req.order.total.gross,
            CapturePolicy::Manual => 0,
        };
        // A link the customer pays elsewhere and later is a Payment Request, like a QR.
        let presentation = match req.sale {
            SaleKind::Link => Presentation::Qr,
            SaleKind::Counter => req.presentation,
        };
        match presentation {
            Presentation::Webview => {
                if self.config.md5_key.is_none() {
                    return Err(self.error(ErrorKind::Config(
                        "bambora.md5_key is not set: the embedded window needs it to verify Bambora's accept URL \
                         (kassa-cli credentials set bambora md5_key), or charge with a QR code"
                            .into(),
                    )));
                }
                let body = wire::CheckoutRequest {
                    order: wire::order(req.order),
                    url: wire::Urls {
                        accept: req.return_url,
                        decline: req.cancel_url,
                    },
                    instantcaptureamount: instant_capture,
                    capturemulti: (req.capture == CapturePolicy::Manual).then_some(true),
                    paymentwindow: window,
                };
                let http = self
                    .request(
                        Method::Post,
                        CHECKOUT_ORIGIN,
                        &format!("/{}", self.config.session_path),
                    )
                    .json(Self::body(&body));
                let resp = self.call(http, false, "the checkout session endpoint")?;
                let created: wire::SessionCreated = self.base.json(&resp)?;
                Ok(Created {
                    provider_session_id: format!("{CHECKOUT_PREFIX}{}", created.token),
                    qr_payload: created.url.clone(),
                    checkout_url: created.url,
                    expires_at: session_expires,
                    detail: None,
                    sent: None,
                })
            }
            Presentation::Qr => {
                let reference: String = req.order.reference.chars().take(50).collect();
                let body = wire::PaymentRequestBody {
                    description: format!("Order {reference}"),
                    reference,
                    parameters: wire::PaymentRequestParameters {
                        order: wire::order(req.order),
                        instantcaptureamount: instant_capture,
                        paymentwindow: window,
                    },
                };
                let http = self
                    .request(Method::Post, CHECKOUT_ORIGIN, "/paymentrequests")
                    .json(Self::body(&body));
                let resp = self.call(http, false, "the payment request endpoint")?;
                let created: wire::PaymentRequestCreated = self.base.json(&resp)?;
                Ok(Created {
                    provider_session_id: format!("{PAYMENT_REQUEST_PREFIX}{}", created.id),
                    qr_payload: created.url.clone(),
                    checkout_url: created.url,
                    expires_at: request_expires,
                    detail: None,
                    sent: None,
                })
            }
        }
    }

    /// Bambora's e-mail with the Payment Request's link. Only a Payment Request has one (a
    /// checkout session is the till's window). Sent once; `meta.result` decides.
    fn send_link(&self, s: &SessionRef, to: &Contact) -> Result<Sent, ProviderError> {
        let Kind::PaymentRequest(id) = self.kind(s)? else {
            return Err(self.unsupported(
                "sending the link of a checkout session (only a Payment Request has one to send)",
            ));
        };
        let Contact::Email(email) = to else {
            return Err(self.unsupported("sending a link by SMS (Bambora sends e-mail only)"));
        };
        let body = wire::EmailNotification {
            to: wire::Recipient { email, name: email },
        };
        let req = self
            .request(
                Method::Post,
                CHECKOUT_ORIGIN,
                &format!(
                    "/paymentrequests/{}/email-notifications",
                    percent_encode(id)
                ),
            )
            .json(Self::body(&body));
        let resp = self.call(req, false, &format!("the e-mail of payment request {id}"))?;
        Ok(Sent {
            channel: to.channel(),
            status: "accepted".into(),
            detail: format!(
                "Bambora took the e-mail of payment request {id} to {} (HTTP {})",
                to.masked(),
                resp.status
            ),
        })
    }

    fn status(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        match self.kind(s)? {
            Kind::Checkout(token) => self.checkout_report(token, s),
            Kind::PaymentRequest(id) => self.payment_request_report(id, s),
        }
    }

    fn cancel(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        match self.kind(s)? {
            Kind::Checkout(token) => {
                if s.provider_payment_id.is_some() {
                    // The customer already paid: say so rather than cancel.
                    return self.checkout_report(token, s);
                }
                Ok(StatusReport {
                    status: Status::Cancelled,
                    detail: format!(
                        "checkout session {token} closed on this till (Bambora has no cancel for checkout sessions; \
                         its URL was shown only in this till's window)"
                    ), payment_id: None,
                })
            }
            Kind::PaymentRequest(id) => match self.delete_payment_request(id) {
                Ok(()) => Ok(StatusReport {
                    status: Status::Cancelled,
                    detail: format!("payment request {id} deleted at Bambora"),
                    payment_id: None,
                }),
                // Refused because it is closed (paid meanwhile?): report what it is.
                Err(e) if matches!(e.kind, ErrorKind::Rejected { .. }) => {
                    let report = self.payment_request_report(id, s)?;
                    if report.status == Status::Open {
                        Err(e)
                    } else {
                        Ok(report)
                    }
                }
                Err(e) => Err(e),
            },
        }
    }

    fn payment_state(&self, s: &SessionRef) -> Result<PaymentState, ProviderError> {
        let txnid = self.txnid(s, no_txnid!("reading the payment"))?;
        let t = self.transaction_read(txnid)?;
        let req = self.request(
            Method::Get,
            MERCHANT_ORIGIN,
            &format!(
                "/transactions/{}/transactionoperations",
                percent_encode(txnid)
            ),
        );
        let resp = self.call(req, true, &format!("the operations of transaction {txnid}"))?;
        let ops: wire::Operations = self.base.json(&resp)?;
        Ok(wire::payment_state(&t, &ops.transactionoperations))
    }

    fn capture(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.operate(op, "capture", no_txnid!("capture"))
    }

    fn refund(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.operate(op, "credit", no_txnid!("refund"))
    }

    fn void(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.operate(op, "delete", no_txnid!("void"))
    }

    fn returned(&self, s: &SessionRef, url: &str) -> Result<Returned, ProviderError> {
        let Kind::Checkout(token) = self.kind(s)? else {
            return Ok(Returned::default());
        };
        let params = query_pairs(url);
        if is_cancel_return(url) {
            return Ok(Returned {
                payment_id: None,
                report: Some(StatusReport {
                    status: Status::Cancelled,
                    detail: format!("the customer cancelled in Bambora's payment window ({token})"),
                    payment_id: None,
                }),
            });
        }
        let review = |why: String| Returned {
            payment_id: None,
            report: Some(StatusReport {
                status: Status::NeedsReview,
                detail: format!(
                    "{why}: not treated as a payment; check order {} in Bambora's back office",
                    wire::order_id(s.merchant_reference)
                ),
                payment_id: None,
            }),
        };
        let Some(key) = &self.config.md5_key else {
            return Ok(review(
                "the accept URL cannot be verified: bambora.md5_key is not set".into(),
            ));
        };
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let (Some(txnid), Some(_)) = (get("txnid"), get("hash")) else {
            return Ok(review("the accept URL lacks txnid or hash".into()));
        };
        // The shop's own return-URL parameters (before Bambora's, which start with txnid)
        // come back too but are not hashed.
        let configured = params
            .iter()
            .take_while(|(k, _)| k != "txnid")
            .cloned()
            .collect::<Vec<_>>();
        if !wire::hash_matches(&params, &configured, key.expose()) {
            return Ok(review(format!(
                "the accept URL's hash does not match for transaction {txnid} (a wrong bambora.md5_key, or a forged URL)"
            )));
        }
        let expected = wire::order_id(s.merchant_reference);
        if get("orderid").is_some_and(|o| o != expected) {
            return Ok(review(format!(
                "the accept URL is for order {:?}, not {expected}",
                get("orderid").unwrap_or("")
            )));
        }
        Ok(Returned {
            payment_id: Some(txnid.to_string()),
            report: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        assert_eq!(language("nb"), "nb-NO");
        assert_eq!(language("sv-SE"), "sv-SE");
        assert_eq!(language("de"), "en-US");
    }
}
