//! Klarna Payments + Hosted Payment Page: a KP session carries the order, an HPP session turns
//! it into a page for the webview or the customer's phone, Order Management says whether it was
//! paid.
//!
//! Facts and choices (NOTES-bambora-dintero-klarna.md §3, seed `002_*`):
//! - Hosts per region (`klarna.region`: eu, na, oc) and profile: test = the playground hosts
//!   (separate credentials), live = the live hosts. One host serves all three APIs.
//! - HTTP Basic with the API username and password (`Basic base64(user:password)`).
//! - Create: `POST /payments/v1/sessions` (`intent: buy`, `acquiring_channel` from
//!   `klarna.acquiring_channel`, lines per [`wire`]), then `POST /hpp/v1/sessions` with
//!   `payment_session_url` on the same host, `place_order_mode` `CAPTURE_ORDER` (capture
//!   policy `at_sale`: Klarna places and captures the order) or `PLACE_ORDER` (`manual`), see
//!   [`wire::place_order_mode`], and the return URL as success/cancel/failure/error redirect.
//!   The webview and the QR show `redirect_url`.
//!   Klarna documents `redirect_url` as "ECOMMERCE only" (NOTES §3.5, §3.14 #5): with another
//!   channel (IN_STORE, TELESALES) the QR is Klarna's own image from `qr_code_url`, fetched at
//!   create (no credentials sent) and shown as it is; the till's window needs `redirect_url`,
//!   so it is refused for those channels before anything is created.
//! - Status: `GET /hpp/v1/sessions/{id}`; COMPLETED carries `order_id`, and only
//!   `GET /ordermanagement/v1/orders/{id}` with fraud status ACCEPTED and the full amount makes
//!   it paid (PENDING is still open). Past the HPP session's `expires_at` an unfinished page
//!   is expired. The order id is reported as the payment id ([`StatusReport::payment_id`]) on
//!   every read that sees it: Klarna forgets the HPP session after at most 47 h (HPP:79–80),
//!   and capture, refund and void need the order id. Once Kassa has it, status reads go to the
//!   order directly.
//! - Cancel: `DELETE /hpp/v1/sessions/{id}` (disable). If the page is already COMPLETED but the
//!   order is still in Klarna's fraud check, the order is cancelled
//!   (`POST /ordermanagement/v1/orders/{id}/cancel`) with `Klarna-Idempotency-Key` = the
//!   order id, so a retried cancel is the same cancel. Order Management is the only Klarna API
//!   that accepts the key (NOTES §3.11); the create calls are never retried blindly instead.
//! - After the sale (facts §2, Order Management v1), on the order id Kassa recorded
//!   ([`SessionRef::provider_payment_id`]; without it, a configuration error and nothing sent):
//!   - payment state: `GET /ordermanagement/v1/orders/{id}` (`captured_amount`,
//!     `refunded_amount`, `remaining_authorized_amount`, `captures[]`, `refunds[]`,
//!     `expires_at`; see [`wire::payment_state`]);
//!   - capture: `POST …/captures` `{captured_amount, reference, order_lines}` → 201 with the
//!     `Capture-Id` header; refund: `POST …/refunds` `{refunded_amount, reference,
//!     description, order_lines}` → 201 with `Refund-Id`. `reference` is the operation id, so
//!     a later read finds it in `captures[]`/`refunds[]`;
//!   - void: `POST …/cancel` while nothing is captured, else
//!     `POST …/release-remaining-authorization` (both 204), chosen on a fresh order read.
//!
//!   Every OM POST carries `Klarna-Idempotency-Key` = the operation id. Klarna executes a key
//!   once within 24 h and answers a repeat with the first answer (K-RETRY: "only the key
//!   matters"), so these POSTs are retried like reads; the operation is never sent under a
//!   second key. A 403 `*_NOT_ALLOWED` is Klarna refusing the operation (over-refund, cancel
//!   after capture), not the credentials.
//! - Errors keep Klarna's `error_code`, `error_messages` and `correlation_id`.

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod spec;
pub mod wire;

use super::common::{basic_auth, clip, describe_body};
use crate::http::{percent_encode, Http, Method, Request, Response};
use crate::link::{Contact, LinkRules};
use crate::provider::{
    AtSaleCapture, Capabilities, ClientBase, CreateRequest, Created, ErrorKind, OperationAnswer,
    OperationRequest, PaymentState, Presentation, Provider, ProviderError, Sent, SessionRef,
    StatusReport,
};
use crate::secrets::Secret;
use crate::session::Status;
use crate::time::parse_utc;

/// What a Klarna client needs. Secrets stay in [`Secret`]s until a request needs them.
#[derive(Debug, Clone)]
pub struct KlarnaConfig {
    pub label: String,
    /// `test` (playground) or `live`.
    pub profile: String,
    /// `eu`, `na` or `oc`.
    pub region: String,
    /// `ECOMMERCE`, `IN_STORE` or `TELESALES` (the latter two need Klarna's agreement).
    pub acquiring_channel: String,
    /// ISO 3166 alpha-2, see [`purchase_country`].
    pub purchase_country: String,
    /// The shop's language (`nb`); the locale sent is `<language>-<country>`.
    pub language: String,
    pub base_url: Option<String>,
    pub username: Secret,
    pub password: Secret,
}

/// The client the unit tests and the fuzz entry point share: a playground user in Norway.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn test_config() -> KlarnaConfig {
    KlarnaConfig {
        label: "klarna".into(),
        profile: "test".into(),
        region: "eu".into(),
        acquiring_channel: "ECOMMERCE".into(),
        purchase_country: "NO".into(),
        language: "nb".into(),
        base_url: None,
        username: Secret::new("user"),
        password: Secret::new("password"),
    }
}

/// The purchase country: the `klarna.purchase_country` setting, else the one country of the
/// shop's currency. EUR (and other shared currencies) need the setting.
pub fn purchase_country(setting: Option<&str>, currency: &str) -> Result<String, String> {
    if let Some(c) = setting {
        return Ok(c.to_ascii_uppercase());
    }
    Ok(match currency {
        "NOK" => "NO",
        "SEK" => "SE",
        "DKK" => "DK",
        "GBP" => "GB",
        "USD" => "US",
        "CHF" => "CH",
        "PLN" => "PL",
        "CZK" => "CZ",
        "AUD" => "AU",
        "NZD" => "NZ",
        "CAD" => "CA",
        other => {
            return Err(format!(
                "klarna.purchase_country is not set and {other} is used in several countries \
                 (kassa-cli config set klarna.purchase_country DE)"
            ))
        }
    }
    .into())
}

/// The API origin of a region and profile (NOTES §3.1).
pub fn origin(region: &str, profile: &str) -> String {
    let region = match region {
        "na" => "-na",
        "oc" => "-oc",
        _ => "",
    };
    let playground = if profile == "live" { "" } else { ".playground" };
    format!("https://api{region}{playground}.klarna.com")
}

/// The longest a Klarna link is kept payable: 47 hours. A Klarna Payments session lives 48 h
/// and "the HPP Session will expire 1 hour before the Payment Session" (Klarna's HPP docs,
/// "Create a HPP session"; NOTES-bambora-dintero-klarna.md §3.7, §1 "session expiry"), and
/// Kassa creates both at once. The HPP answer's own `expires_at` is recorded when it is
/// sooner. Delivery (NOTES-after-sale.md §2, `DistributionRequestV1`): SMS and e-mail by
/// `POST /hpp/v1/sessions/{id}/distribution`, again whenever asked (the playground caps 20 SMS
/// and 100 e-mails a day).
pub const LINK_MAX_MS: i64 = 47 * 3600 * 1000;

/// How long a customer may be on Klarna's page (IN_PROGRESS) before Kassa takes the page for
/// one nobody is paying on: 15 minutes, far more than a payment takes (Klarna's own
/// `authorization_token` lives 60 min after it, which this does not touch).
const PAYING_MS: i64 = 15 * 60 * 1000;

/// A Klarna Payments + HPP client.
pub struct Klarna {
    base: ClientBase,
    config: KlarnaConfig,
    origin: String,
    auth: Secret,
}

impl Klarna {
    pub fn new(config: KlarnaConfig, http: Http) -> Klarna {
        let auth = basic_auth(config.username.expose(), config.password.expose());
        let capabilities = Capabilities {
            cancel: true,
            qr: true,
            // The page link (`redirect_url`) is for ECOMMERCE only.
            webview: config.acquiring_channel == "ECOMMERCE",
            verifiable_status: true,
            find_by_reference: false,
            at_sale_capture: AtSaleCapture::ByProvider,
            capture: true,
            refund: true,
            refund_lines: true,
            void: true,
            operation_references: true,
            link: LinkRules {
                max_ms: LINK_MAX_MS,
                sms: true,
                email: true,
                resend: true,
            },
        };
        Klarna {
            base: ClientBase::new(
                &config.label,
                &config.profile,
                capabilities,
                config.base_url.clone(),
                http,
            ),
            origin: origin(&config.region, &config.profile),
            config,
            auth,
        }
    }

    fn url(&self, path: &str) -> String {
        self.base.url(&self.origin, path)
    }

    fn error(&self, kind: ErrorKind) -> ProviderError {
        self.base.error(kind)
    }

    fn request(&self, method: Method, path: &str) -> Request {
        Request::new(method, self.url(path))
            .header("authorization", self.auth.expose().to_string())
            .header("accept", "application/json")
    }

    /// Sends and maps a non-2xx answer to an error with Klarna's code, messages and
    /// correlation id.
    fn call(&self, req: Request, idempotent: bool, what: &str) -> Result<Response, ProviderError> {
        let resp = self.base.send(&req, idempotent)?;
        self.answer(resp, what)
    }

    /// Maps a non-2xx answer to an error (see [`Klarna::call`]). A 404 names Klarna's code and
    /// words in what was not found (Order Management answers `NO_SUCH_ORDER` on some paths and
    /// `NOT_FOUND` on others). A 403 whose code is `*_NOT_ALLOWED` is a refusal of the
    /// operation (`CAPTURE_NOT_ALLOWED`, `REFUND_NOT_ALLOWED`, `CANCEL_NOT_ALLOWED`,
    /// `NOT_ALLOWED`), not of the credentials.
    pub(crate) fn answer(&self, resp: Response, what: &str) -> Result<Response, ProviderError> {
        if (200..300).contains(&resp.status) {
            return Ok(resp);
        }
        let (code, message) = match serde_json::from_slice::<wire::ErrorBody>(&resp.body) {
            Ok(b) if b.error_code.is_some() || !b.error_messages.is_empty() => {
                let mut m = clip(&b.error_messages.join("; "));
                if m.is_empty() {
                    m = "no message".into();
                }
                if let Some(c) = &b.correlation_id {
                    m.push_str(&format!(" (correlation_id {c})"));
                }
                (b.error_code, m)
            }
            _ => (None, describe_body(&resp, "Klarna")),
        };
        match (resp.status, &code) {
            (404, Some(c)) => Err(self.error(ErrorKind::NotFound {
                what: format!("{what} ({c}: {message})"),
            })),
            (403, Some(c)) if c.ends_with("NOT_ALLOWED") => Err(self.error(ErrorKind::Rejected {
                status: 403,
                code,
                message,
            })),
            _ => Err(self.base.refused(&resp, what, code, message)),
        }
    }

    fn hpp(&self, id: &str) -> Result<wire::HppRead, ProviderError> {
        let req = self.request(
            Method::Get,
            &format!("/hpp/v1/sessions/{}", percent_encode(id)),
        );
        let resp = self.call(req, true, &format!("hosted payment page session {id}"))?;
        self.base.json(&resp)
    }

    fn order(&self, id: &str) -> Result<wire::OmOrder, ProviderError> {
        let req = self.request(
            Method::Get,
            &format!("/ordermanagement/v1/orders/{}", percent_encode(id)),
        );
        let resp = self.call(req, true, &format!("order {id}"))?;
        self.base.json(&resp)
    }

    fn report(
        &self,
        id: &str,
        h: &wire::HppRead,
        s: &SessionRef,
    ) -> Result<StatusReport, ProviderError> {
        match wire::hpp_state(id, h, s.now) {
            wire::HppState::Done(status, detail) => Ok(StatusReport {
                status,
                detail,
                payment_id: None,
            }),
            wire::HppState::Order(order_id) => self.order_report(&order_id, s),
        }
    }

    /// The status of a placed order, which carries its id for `checkout` to record.
    fn order_report(&self, order_id: &str, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        let o = self.order(order_id)?;
        let (status, detail) = wire::order_status(&o, s.gross, s.currency);
        Ok(StatusReport {
            status,
            detail,
            payment_id: Some(order_id.to_string()),
        })
    }

    /// The Order Management order id of a sale, which Kassa recorded from a status read.
    fn order_id<'a>(&self, s: &SessionRef<'a>) -> Result<&'a str, ProviderError> {
        s.provider_payment_id.ok_or_else(|| {
            self.base.config(
                "Kassa has no Klarna order id for this sale. It is recorded when a status read \
                 sees the completed page, which Klarna keeps for at most 47 hours; find the \
                 order in Klarna's Merchant portal",
            )
        })
    }

    /// `POST /ordermanagement/v1/orders/{order_id}/{action}` with the operation id as
    /// `Klarna-Idempotency-Key`. Retried like a read: Klarna executes one key once and answers
    /// a repeat with the first answer (see the module docs).
    fn order_post(
        &self,
        order_id: &str,
        action: &str,
        key: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, ProviderError> {
        let mut req = self
            .request(
                Method::Post,
                &format!(
                    "/ordermanagement/v1/orders/{}/{action}",
                    percent_encode(order_id)
                ),
            )
            .header("klarna-idempotency-key", key.to_string());
        if let Some(b) = body {
            req = req.json(b);
        }
        self.call(req, true, &format!("order {order_id}"))
    }

    /// The id in a 201 answer's `header` (`Capture-Id`, `Refund-Id`): what Klarna made. A 2xx
    /// without it is not Klarna's documented answer, so whether it happened stays unclear (a
    /// [`Provider::payment_state`] read settles it by the operation's reference).
    pub(crate) fn created_id(
        &self,
        resp: &Response,
        header: &str,
    ) -> Result<String, ProviderError> {
        match resp.header(header).map(str::trim) {
            Some(id) if resp.status == 201 && !id.is_empty() && id.len() <= 255 => {
                Ok(id.to_string())
            }
            _ => Err(self.error(ErrorKind::BadResponse {
                status: resp.status,
                detail: format!(
                    "expected 201 Created with a {header} header, got HTTP {} {}",
                    resp.status,
                    if resp.header(header).is_some() {
                        "with an unusable one"
                    } else {
                        "without it"
                    }
                ),
            })),
        }
    }

    /// Checks what Kassa asks of Klarna before anything is sent: the order id, an amount
    /// Klarna takes in one request, and lines that add up.
    fn operation<'a>(
        &self,
        op: &OperationRequest<'a>,
    ) -> Result<(&'a str, Vec<wire::OrderLine>), ProviderError> {
        let order_id = self.order_id(op.session)?;
        if op.amount <= 0 || op.amount > wire::MAX_OPERATION_AMOUNT {
            return Err(self.base.config(format!(
                "a Klarna {} is 1…{} minor units, not {}",
                op.kind.as_str(),
                wire::MAX_OPERATION_AMOUNT,
                op.amount
            )));
        }
        let lines = wire::operation_lines(op.order, op.lines, op.amount)
            .map_err(|m| self.base.config(m))?;
        Ok((order_id, lines))
    }

    /// Klarna's QR image (`qr_code_url`) as a `data:` URL for [`crate::qr::svg`]. The URL is
    /// Klarna's public page host, so no credentials go with it.
    fn qr_image(&self, url: &str) -> Result<String, ProviderError> {
        let bad = |detail: String| {
            self.error(ErrorKind::BadResponse {
                status: 200,
                detail,
            })
        };
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
        if !url.starts_with("https://") && !loopback.iter().any(|l| url.starts_with(l)) {
            return Err(bad(format!("qr_code_url {url} is not an https URL")));
        }
        let resp = self.base.send(
            &Request::new(Method::Get, url).header("accept", "image/png, image/svg+xml, image/*"),
            true,
        )?;
        self.qr_data_url(url, &resp)
    }

    /// The QR image answer from `url` as a `data:` URL, or why it is not an image Kassa shows.
    pub(crate) fn qr_data_url(&self, url: &str, resp: &Response) -> Result<String, ProviderError> {
        let bad = |detail: String| {
            self.error(ErrorKind::BadResponse {
                status: 200,
                detail,
            })
        };
        if !(200..300).contains(&resp.status) {
            return Err(self.base.refused(
                resp,
                "the QR image",
                None,
                describe_body(resp, "Klarna"),
            ));
        }
        let ct = resp.content_type.clone().unwrap_or_default();
        let ct = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !ct.starts_with("image/")
            || ct.len() > 40
            || resp.body.is_empty()
            || resp.body.len() > 512 * 1024
        {
            return Err(bad(format!(
                "the QR image at {url} is {} bytes of {ct:?}, not an image Kassa can show",
                resp.body.len()
            )));
        }
        use base64::Engine;
        Ok(format!(
            "data:{ct};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&resp.body)
        ))
    }

    /// An SMS needs the phone's country beside the number (`phone_country`); Kassa sends the
    /// number in E.164 and the country of its calling code. UNCONFIRMED whether Klarna wants
    /// the national form (its example is `07000212345` with `SE`): E.164 cannot be misread.
    fn phone_country(&self, to: &Contact) -> Result<Option<&'static str>, ProviderError> {
        match to {
            Contact::Email(_) => Ok(None),
            Contact::Sms(_) => to.phone_country().map(Some).ok_or_else(|| {
                self.base.config(format!(
                    "Klarna needs the country of {} and Kassa does not know its calling code; send the link by e-mail or copy it",
                    to.masked()
                ))
            }),
        }
    }

    fn hpp_id<'a>(&self, s: &SessionRef<'a>) -> Result<&'a str, ProviderError> {
        self.base.session_id(s, "Klarna page id")
    }
}

impl Provider for Klarna {
    fn base(&self) -> &ClientBase {
        &self.base
    }

    fn create(&self, req: &CreateRequest) -> Result<Created, ProviderError> {
        let locale = format!(
            "{}-{}",
            self.config
                .language
                .split(['-', '_'])
                .next()
                .unwrap_or("en"),
            self.config.purchase_country
        );
        if req.presentation == Presentation::Webview && self.config.acquiring_channel != "ECOMMERCE"
        {
            return Err(self.error(ErrorKind::Config(format!(
                "Klarna's page link is for ECOMMERCE only, and klarna.acquiring_channel is {}: \
                 charge with a QR code (Klarna's QR image), or set the channel to ECOMMERCE",
                self.config.acquiring_channel
            ))));
        }
        let body = wire::session_create(
            req.order,
            &self.config.acquiring_channel,
            &self.config.purchase_country,
            locale,
        )
        .map_err(|m| self.error(ErrorKind::Config(m)))?;
        let kp = self
            .request(Method::Post, "/payments/v1/sessions")
            .json(serde_json::to_vec(&body).expect("a Klarna session serializes"));
        let resp = self.call(kp, false, "the payments sessions endpoint")?;
        let kp: wire::SessionCreated = self.base.json(&resp)?;
        let hpp = wire::HppCreate {
            payment_session_url: self.url(&format!(
                "/payments/v1/sessions/{}",
                percent_encode(&kp.session_id)
            )),
            merchant_urls: wire::MerchantUrls {
                success: req.return_url,
                cancel: req.cancel_url,
                failure: req.return_url,
                error: req.return_url,
            },
            options: wire::HppOptions {
                place_order_mode: wire::place_order_mode(req.capture),
            },
        };
        let http = self
            .request(Method::Post, "/hpp/v1/sessions")
            .json(serde_json::to_vec(&hpp).expect("an HPP session serializes"));
        let resp = self.call(http, false, "the hosted payment page endpoint")?;
        let created: wire::HppCreated = self.base.json(&resp)?;
        // Kassa's own limit, unless Klarna's page ends sooner (it lives up to 47 h: far too
        // long for a counter sale, so Kassa disables it at its limit, see `status`).
        let expires_at = Some(
            created
                .expires_at
                .as_deref()
                .and_then(|t| parse_utc(t).ok())
                .map_or(req.expires_at, |t| t.min(req.expires_at)),
        );
        if let (None, Some(qr), Presentation::Qr) = (
            &created.redirect_url,
            &created.qr_code_url,
            req.presentation,
        ) {
            return Ok(Created {
                qr_payload: self.qr_image(qr)?,
                checkout_url: qr.clone(),
                provider_session_id: created.session_id,
                expires_at,
                detail: None,
                sent: None,
            });
        }
        let Some(url) = created.redirect_url else {
            return Err(self.error(ErrorKind::BadResponse {
                status: resp.status,
                detail: format!(
                    "Klarna's page {} has no redirect_url (acquiring_channel {}: Klarna gives the link for ECOMMERCE only){}; \
                     set klarna.acquiring_channel ECOMMERCE",
                    created.session_id,
                    self.config.acquiring_channel,
                    created
                        .qr_code_url
                        .map(|q| format!(", only a QR image at {q}"))
                        .unwrap_or_default()
                ),
            }));
        };
        Ok(Created {
            provider_session_id: created.session_id,
            qr_payload: url.clone(),
            checkout_url: url,
            expires_at,
            detail: None,
            sent: None,
        })
    }

    /// Klarna's distribution of the hosted page: 201 or 204 when Klarna took it (delivery is
    /// asynchronous: "up to a few minutes"); 400 for a contact Klarna refuses or a disabled
    /// page. Sent once (a repeat would be a second message).
    fn send_link(&self, s: &SessionRef, to: &Contact) -> Result<Sent, ProviderError> {
        let id = self.hpp_id(s)?;
        let country = self.phone_country(to)?;
        let body = match to {
            Contact::Sms(phone) => wire::Distribution {
                method: "sms",
                contact_information: wire::DistributionContact::Sms {
                    phone,
                    phone_country: country.unwrap_or_default(),
                },
            },
            Contact::Email(email) => wire::Distribution {
                method: "email",
                contact_information: wire::DistributionContact::Email { email },
            },
        };
        let req = self
            .request(
                Method::Post,
                &format!("/hpp/v1/sessions/{}/distribution", percent_encode(id)),
            )
            .json(serde_json::to_vec(&body).expect("a distribution serializes"));
        let resp = self.call(req, false, &format!("the distribution of page {id}"))?;
        Ok(Sent {
            channel: to.channel(),
            status: "accepted".into(),
            detail: format!(
                "Klarna took the {} of page {id} to {} (HTTP {}; Klarna delivers within minutes)",
                to.channel(),
                to.masked(),
                resp.status
            ),
        })
    }

    fn check_contact(&self, to: &Contact) -> Result<(), ProviderError> {
        self.phone_country(to).map(|_| ())
    }

    /// Past Kassa's expiry a page nobody is paying on (WAITING, BACK) is disabled at Klarna, so
    /// the QR cannot be paid later, and reported expired; a customer in the middle of paying
    /// (IN_PROGRESS for less than [`PAYING_MS`]) is left to finish within Klarna's own expiry.
    /// A page opened long before (a mail scanner checking a sent link moves it to IN_PROGRESS
    /// too) is idle: opening a link never lengthens the lifetime Kassa shows.
    fn status(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        if let Some(order_id) = s.provider_payment_id {
            return self.order_report(order_id, s);
        }
        let id = self.hpp_id(s)?;
        let h = self.hpp(id)?;
        let opened_long_ago = h.status == "IN_PROGRESS"
            && h.updated_at
                .as_deref()
                .and_then(|t| parse_utc(t).ok())
                .is_some_and(|t| s.now - t >= PAYING_MS);
        let idle = matches!(h.status.as_str(), "WAITING" | "BACK") || opened_long_ago;
        if idle && s.expires_at.is_some_and(|t| s.now >= t) {
            let req = self.request(
                Method::Delete,
                &format!("/hpp/v1/sessions/{}", percent_encode(id)),
            );
            match self.call(req, true, &format!("hosted payment page session {id}")) {
                Ok(_) => {
                    return Ok(StatusReport {
                        status: Status::Expired,
                        detail: format!(
                        "Klarna page {id} was still {} at the session's expiry; Kassa disabled it",
                        h.status
                    ),
                        payment_id: None,
                    })
                }
                // Completed meanwhile: read it again below.
                Err(e) if matches!(e.kind, ErrorKind::Rejected { .. }) => {
                    return self.report(id, &self.hpp(id)?, s)
                }
                Err(e) => return Err(e),
            }
        }
        self.report(id, &h, s)
    }

    fn cancel(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        let id = self.hpp_id(s)?;
        let req = self.request(
            Method::Delete,
            &format!("/hpp/v1/sessions/{}", percent_encode(id)),
        );
        match self.call(req, true, &format!("hosted payment page session {id}")) {
            Ok(_) => Ok(StatusReport {
                status: Status::Cancelled,
                detail: format!("Klarna page {id} disabled"),
                payment_id: None,
            }),
            // Refused: the page is already completed (or otherwise final). Report what it is;
            // an order still in Klarna's fraud check is cancelled.
            Err(e) if matches!(e.kind, ErrorKind::Rejected { .. }) => {
                let h = self.hpp(id)?;
                let report = self.report(id, &h, s)?;
                match (&h.order_id, report.status) {
                    (Some(order_id), Status::Open) => {
                        let req = self
                            .request(
                                Method::Post,
                                &format!(
                                    "/ordermanagement/v1/orders/{}/cancel",
                                    percent_encode(order_id)
                                ),
                            )
                            .header("klarna-idempotency-key", order_id.clone());
                        self.call(req, true, &format!("order {order_id}"))?;
                        Ok(StatusReport {
                            status: Status::Cancelled,
                            detail: format!(
                                "Klarna order {order_id} cancelled during its fraud check"
                            ),
                            payment_id: Some(order_id.clone()),
                        })
                    }
                    (_, Status::Open) => Err(e),
                    _ => Ok(report),
                }
            }
            Err(e) => Err(e),
        }
    }

    fn payment_state(&self, s: &SessionRef) -> Result<PaymentState, ProviderError> {
        let order_id = self.order_id(s)?;
        let o = self.order(order_id)?;
        wire::payment_state(&o, s.currency).map_err(|detail| {
            self.error(ErrorKind::BadResponse {
                status: 200,
                detail,
            })
        })
    }

    fn capture(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        let (order_id, order_lines) = self.operation(op)?;
        let body = wire::CaptureBody {
            captured_amount: op.amount,
            reference: op.id,
            order_lines,
        };
        let body = serde_json::to_vec(&body).expect("a capture serializes");
        let resp = self.order_post(order_id, "captures", op.id, Some(body))?;
        let capture_id = self.created_id(&resp, "Capture-Id")?;
        Ok(OperationAnswer {
            pending: false,
            detail: format!(
                "Klarna capture {capture_id} of {} {} on order {order_id}",
                op.amount, op.session.currency
            ),
            provider_reference: Some(capture_id),
        })
    }

    fn refund(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        let (order_id, order_lines) = self.operation(op)?;
        let body = wire::RefundBody {
            refunded_amount: op.amount,
            reference: op.id,
            description: op
                .reason
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| r.chars().take(255).collect()),
            order_lines,
        };
        let body = serde_json::to_vec(&body).expect("a refund serializes");
        let resp = self.order_post(order_id, "refunds", op.id, Some(body))?;
        let refund_id = self.created_id(&resp, "Refund-Id")?;
        Ok(OperationAnswer {
            pending: false,
            detail: format!(
                "Klarna refund {refund_id} of {} {} on order {order_id}",
                op.amount, op.session.currency
            ),
            provider_reference: Some(refund_id),
        })
    }

    /// Cancels the order while nothing is captured, else releases the rest of the
    /// authorization (Klarna refuses a cancel after a capture, and a release before one). Which
    /// is decided on the order as read just now; a retry under the same key reads again and
    /// sends the same request, which Klarna answers with its first answer.
    fn void(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        let order_id = self.order_id(op.session)?;
        let o = self.order(order_id)?;
        let captured = o.captured_amount.unwrap_or(0);
        let nothing_captured = captured == 0 && o.captures.is_empty();
        let action = if nothing_captured {
            "cancel"
        } else {
            "release-remaining-authorization"
        };
        self.order_post(order_id, action, op.id, None)?;
        let detail = if nothing_captured {
            format!("Klarna order {order_id} cancelled")
        } else {
            format!(
                "Klarna order {order_id}: the rest of the authorization released ({captured} {} \
                 captured)",
                op.session.currency
            )
        };
        Ok(OperationAnswer {
            pending: false,
            provider_reference: None,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_per_region_and_profile() {
        assert_eq!(origin("eu", "test"), "https://api.playground.klarna.com");
        assert_eq!(origin("eu", "live"), "https://api.klarna.com");
        assert_eq!(origin("na", "test"), "https://api-na.playground.klarna.com");
        assert_eq!(origin("oc", "live"), "https://api-oc.klarna.com");
    }

    #[test]
    fn purchase_country_from_the_currency_or_the_setting() {
        assert_eq!(purchase_country(None, "NOK").unwrap(), "NO");
        assert_eq!(purchase_country(Some("fi"), "EUR").unwrap(), "FI");
        assert!(purchase_country(None, "EUR")
            .unwrap_err()
            .contains("klarna.purchase_country"));
    }
}
