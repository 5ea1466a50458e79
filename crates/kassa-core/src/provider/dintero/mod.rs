//! Dintero Checkout: OAuth client credentials, `POST /v1/sessions-profile`, status by polling
//! the session and then its transaction, cancel.
//!
//! Facts and choices (NOTES-bambora-dintero-klarna.md §2; spec lines in [`wire`]):
//! - Token: `POST {checkout}/v1/accounts/{aid}/auth/token` with Basic client_id:client_secret
//!   and `{"grant_type":"client_credentials","audience":"https://api.dintero.com/v1/accounts/{aid}"}`.
//!   The spec's only server is checkout.dintero.com; Dintero's docs and Python SDK use
//!   api.dintero.com for the token instead. Both hosts serve it (NOTES §2.2): Kassa follows the
//!   spec. To change it, edit [`TOKEN_ORIGIN`].
//! - The account id's `T`/`P` prefix is the environment (test/live) and must match the profile
//!   and the audience.
//! - The token is cached until shortly before `expires_in` and fetched again once on a 401.
//! - Create sends `Dintero-Feature-Toggles: strict-session-amounts`, `configuration.channel =
//!   in_store`, no `callback_url`, and asks `include_session=true` for the expiry.
//! - Status: `GET /v1/sessions/{id}` until it has a `transaction_id`, a cancellation, a FAILED
//!   event or is past `expires_at`; then `GET /v1/transactions/{id}`. Paid means `AUTHORIZED`,
//!   `CAPTURED` (or `PARTIALLY_CAPTURED`) for at least the order's amount and currency.
//! - Reconciliation by merchant reference: `GET /v1/transactions?merchant_reference=…`, which
//!   finds only payments. A link whose create got no answer is also looked up as a session
//!   ([`Provider::find_session`]): `GET /v1/sessions?search=<reference>&limit=100` ("List
//!   checkout sessions", operation `checkout_sessions_get`, scopes admin:checkout or
//!   read:checkout; `search` "will try to match the search to either merchant_reference,
//!   merchant_reference_2, or the customer name"; `limit` 1–100, default 10; answers an array
//!   of sessions). Not in the July 2024 spec snapshot in ../shared/providers (a subset of the
//!   API): it is in Dintero's own generated client, github.com/Dintero/Dintero.Checkout.DotNet
//!   `openapi/generated/checkout/docs/SessionApi.md` (`CheckoutSessionsGet`), and Dintero's
//!   API changelog of 2021-02-01 (search, transaction_id, created_at filters). The hits are
//!   checked for the exact `order.merchant_reference`. The session's checkout URL is not in
//!   its read: it is `{checkout}/v1/view/{session id}`, the URL Dintero's own web SDK opens for
//!   a session (github.com/Dintero/Dintero.Checkout.Web.SDK `src/url.ts`, `getSessionUrl`).
//! - The transaction id is the payment id capture, refund and void need: every status read
//!   that sees it reports it (`StatusReport::payment_id`), and Kassa records it.
//! - After the sale (facts §1 of the after-sale notes, spec S:372–727): at-sale capture by
//!   Dintero itself, `configuration.auto_capture: true` in the create (documented, server-side,
//!   retried for 48 h even if the till is off; not atomic: the capture shows later). Capture,
//!   refund and void: `POST /v1/transactions/{id}/capture|refund|void`, each sent once (Dintero
//!   has no idempotency key); Kassa's operation id goes as `capture_reference` /
//!   `refund_reference`, which Dintero keeps as the event's `event_reference`, so whether an
//!   unclear request happened is read from the transaction's `events[]`. A 202 (processing)
//!   is `pending`; a 200 whose event says `success: false` is a refusal. Refunds by line send
//!   `items` (`line_id`, quantity, amount, VAT) summing to the amount; operations by amount send
//!   none. The evidence: the sums of the successful CAPTURE and REFUND events (the transaction
//!   has no captured field). Error codes for refusals are not in the spec (UNCONFIRMED): the
//!   client keeps whatever `error.code` and `error.message` Dintero sends.

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod spec;
pub mod wire;

use super::client::TokenCache;
use super::common::{basic_auth, bearer_token, clip, describe_body};
use crate::http::{percent_encode, Http, Method, Request, Response};
use crate::link::{Channel, LinkRules, SaleKind};
use crate::provider::{
    Capabilities, CapturePolicy, ClientBase, CreateRequest, Created, ErrorKind, FoundSession,
    OperationAnswer, OperationKind, OperationRequest, PaymentState, Provider, ProviderError, Sent,
    SessionRef, StatusReport,
};
use crate::secrets::Secret;
use crate::time::{format_rfc3339, parse_utc};
use std::time::Duration;
use wire::SessionState;

/// Where sessions, transactions and (per the spec) tokens live.
pub const CHECKOUT_ORIGIN: &str = "https://checkout.dintero.com";
/// The token endpoint's host (see the module docs for the alternative).
pub const TOKEN_ORIGIN: &str = CHECKOUT_ORIGIN;
/// The audience host is always api.dintero.com (NOTES §2.12 #4).
pub const AUDIENCE_ORIGIN: &str = "https://api.dintero.com";

/// What a Dintero client needs. Secrets stay in [`Secret`]s until a request header needs them.
#[derive(Debug, Clone)]
pub struct DinteroConfig {
    /// The name sessions are logged under: `dintero`, or `demo` for the embedded sandbox.
    pub label: String,
    /// `test` or `live`.
    pub profile: String,
    pub account_id: String,
    pub profile_id: String,
    /// `<provider>.base_url`: replaces the real origin (sandbox, proxy).
    pub base_url: Option<String>,
    pub client_id: Secret,
    pub client_secret: Secret,
}

/// What Dintero's client can do.
const CAPABILITIES: Capabilities = Capabilities {
    cancel: true,
    qr: true,
    webview: true,
    verifiable_status: true,
    find_by_reference: true,
    at_sale_capture: crate::provider::AtSaleCapture::ByProvider,
    capture: true,
    refund: true,
    refund_lines: true,
    void: true,
    operation_references: true,
    link: LinkRules {
        max_ms: LINK_MAX_MS,
        sms: true,
        email: false,
        resend: false,
    },
};

/// The longest a Dintero link is kept payable: 30 days. The spec lets `expires_at` be set
/// ("The session expiration time after which the Checkout page wouldn't be available",
/// spec-payments.yaml `SessionMeta`) and documents neither a default nor a maximum
/// (UNCONFIRMED, NOTES-bambora-dintero-klarna.md §2.7); Kassa's reading: a month, the longest
/// any of the other providers document for a link (Commerce Layer's default), asked for
/// explicitly so what Kassa shows is what the session says (the create's answer carries
/// `expires_at`, which Kassa records). Delivery (NOTES-after-sale.md §2): SMS only, and only
/// at creation (`configuration.publish` with `customer.phone_number`); no resend endpoint.
pub const LINK_MAX_MS: i64 = 30 * 24 * 3600 * 1000;

/// The client the unit tests and the fuzz entry point share: a test account, no base URL.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn test_config() -> DinteroConfig {
    DinteroConfig {
        label: "dintero".into(),
        profile: "test".into(),
        account_id: "T12345678".into(),
        profile_id: "default".into(),
        base_url: None,
        client_id: Secret::new("id"),
        client_secret: Secret::new("secret"),
    }
}

/// A Dintero Checkout client.
pub struct Dintero {
    base: ClientBase,
    config: DinteroConfig,
    token: TokenCache,
}

impl Dintero {
    pub fn new(config: DinteroConfig, http: Http) -> Result<Dintero, ProviderError> {
        let base = ClientBase::new(
            &config.label,
            &config.profile,
            CAPABILITIES,
            config.base_url.clone(),
            http,
        );
        let err = |m: String| base.config(m);
        let live = config.account_id.starts_with('P');
        if !(config.account_id.starts_with('T') || live) {
            return Err(err(format!(
                "dintero.account_id {} must start with T (test) or P (live)",
                config.account_id
            )));
        }
        if live != (config.profile == "live") {
            return Err(err(format!(
                "dintero.account_id {} is a {} account but the profile is {}",
                config.account_id,
                if live { "live" } else { "test" },
                config.profile
            )));
        }
        Ok(Dintero {
            base,
            config,
            token: TokenCache::new(),
        })
    }

    fn url(&self, origin: &str, path: &str) -> String {
        self.base.url(origin, path)
    }

    /// Asks the token endpoint for a new token (the `Authorization` value and how long to use
    /// it).
    fn fetch_token(&self) -> Result<(Secret, Duration), ProviderError> {
        let aid = &self.config.account_id;
        let body = serde_json::to_vec(&wire::TokenRequest {
            grant_type: "client_credentials",
            audience: format!("{AUDIENCE_ORIGIN}/v1/accounts/{aid}"),
        })
        .expect("a token request serializes");
        let basic = basic_auth(
            self.config.client_id.expose(),
            self.config.client_secret.expose(),
        );
        let req = Request::new(
            Method::Post,
            self.url(TOKEN_ORIGIN, &format!("/v1/accounts/{aid}/auth/token")),
        )
        .header("authorization", basic.expose().to_string())
        .header("accept", "application/json")
        .json(body);
        // Asking for a token has no side effect, so it may be retried.
        let resp = self.base.send(&req, true)?;
        let resp = self.check(resp, "the token endpoint")?;
        self.read_token(&resp)
    }

    /// Reads the token endpoint's (2xx) answer: the `Authorization` value and how long to use
    /// it, renewed a minute early (or halfway through a short lifetime).
    pub(crate) fn read_token(&self, resp: &Response) -> Result<(Secret, Duration), ProviderError> {
        let (token, use_for) = bearer_token(self.base.label(), resp, Duration::from_secs(60), 2)?;
        Ok((Secret::new(format!("Bearer {}", token.expose())), use_for))
    }

    /// Sends with the bearer token (a new one once on a 401) and checks the answer.
    fn authorized(
        &self,
        req: Request,
        idempotent: bool,
        what: &str,
    ) -> Result<Response, ProviderError> {
        let resp = self.token.send(
            &self.base,
            &req,
            idempotent,
            || self.fetch_token(),
            |token| token.expose().to_string(),
        )?;
        self.check(resp, what)
    }

    /// Maps a non-2xx answer to an error with Dintero's `error.code` and `error.message`.
    pub(crate) fn check(&self, resp: Response, what: &str) -> Result<Response, ProviderError> {
        if (200..300).contains(&resp.status) {
            return Ok(resp);
        }
        let (code, message) = match serde_json::from_slice::<wire::ErrorBody>(&resp.body) {
            Ok(b) => (b.error.code, clip(&b.error.message)),
            Err(_) => (None, describe_body(&resp, "Dintero")),
        };
        Err(self.base.refused(&resp, what, code, message))
    }

    fn get_session(&self, id: &str) -> Result<wire::SessionRead, ProviderError> {
        let req = Request::new(
            Method::Get,
            self.url(
                CHECKOUT_ORIGIN,
                &format!("/v1/sessions/{}", percent_encode(id)),
            ),
        )
        .header("accept", "application/json");
        let resp = self.authorized(req, true, &format!("session {id}"))?;
        self.base.json(&resp)
    }

    /// `GET /v1/{what}?{query}`: a list (transactions or sessions) as Dintero answers it.
    fn list<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        query: &str,
    ) -> Result<Vec<T>, ProviderError> {
        let req = Request::new(
            Method::Get,
            self.url(CHECKOUT_ORIGIN, &format!("/v1/{what}?{query}")),
        )
        .header("accept", "application/json");
        let resp = self.authorized(req, true, &format!("the {what} endpoint"))?;
        self.base.json(&resp)
    }

    fn get_transaction(&self, id: &str) -> Result<wire::Transaction, ProviderError> {
        let req = Request::new(
            Method::Get,
            self.url(
                CHECKOUT_ORIGIN,
                &format!("/v1/transactions/{}", percent_encode(id)),
            ),
        )
        .header("accept", "application/json");
        let resp = self.authorized(req, true, &format!("transaction {id}"))?;
        self.base.json(&resp)
    }

    fn report(
        &self,
        session: &wire::SessionRead,
        s: &SessionRef,
    ) -> Result<StatusReport, ProviderError> {
        match wire::session_state(session, s.now) {
            SessionState::Done(status, detail) => Ok(StatusReport {
                status,
                detail,
                payment_id: None,
            }),
            SessionState::HasTransaction(tid) => {
                let t = self.get_transaction(&tid)?;
                let (status, detail) = wire::transaction_status(&t, s.gross, s.currency);
                Ok(StatusReport {
                    status,
                    detail,
                    payment_id: Some(t.id),
                })
            }
        }
    }

    /// Reads the sessions-profile answer; `expires_at`: Kassa's limit, used when the answer
    /// has no expiry; `sms_to`: the masked phone Dintero was asked to send the link to.
    pub(crate) fn created(
        &self,
        resp: &Response,
        expires_at: i64,
        sms_to: Option<String>,
    ) -> Result<Created, ProviderError> {
        let created: wire::SessionCreated = self.base.json(resp)?;
        let expires_at = created
            .session
            .as_ref()
            .and_then(|s| s.expires_at.as_deref())
            .and_then(|t| parse_utc(t).ok())
            .or(Some(expires_at));
        // Dintero answers what became of the SMS it was asked to send (none for test
        // sessions: `skipped` or no entry, which Kassa reports as it is).
        let sent = sms_to.map(|to| {
            let status = created
                .publish
                .iter()
                .find(|p| p.channel == "sms")
                .and_then(|p| p.status.clone())
                .unwrap_or_else(|| "not reported".into());
            Sent {
                channel: Channel::Sms,
                detail: format!("Dintero's SMS of the checkout link to {to}: {status}"),
                status,
            }
        });
        Ok(Created {
            provider_session_id: created.id,
            qr_payload: created.url.clone(),
            checkout_url: created.url,
            expires_at,
            detail: None,
            sent,
        })
    }

    fn session_id<'a>(&self, s: &SessionRef<'a>) -> Result<&'a str, ProviderError> {
        self.base.session_id(s, "Dintero session id")
    }

    /// The transaction id of a paid session: the recorded payment id, else the session's
    /// `transaction_id`.
    fn transaction_id(&self, s: &SessionRef) -> Result<String, ProviderError> {
        if let Some(t) = s.provider_payment_id {
            return Ok(t.to_string());
        }
        let session = self.get_session(self.session_id(s)?)?;
        session.transaction_id.ok_or_else(|| {
            self.base.config(format!(
                "Dintero session {} has no transaction: nothing was paid, so there is nothing \
                 to capture, refund or void",
                session.id
            ))
        })
    }

    /// Sends a capture, refund or void (once) and reads its answer.
    fn operate(
        &self,
        op: &OperationRequest,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<OperationAnswer, ProviderError> {
        let tid = self.transaction_id(op.session)?;
        let mut req = Request::new(
            Method::Post,
            self.url(
                CHECKOUT_ORIGIN,
                &format!("/v1/transactions/{}/{path}", percent_encode(&tid)),
            ),
        )
        .header("accept", "application/json")
        .header("dintero-system-name", "Kassa")
        .header("dintero-system-version", env!("CARGO_PKG_VERSION"));
        if let Some(b) = body {
            req = req.json(b);
        }
        let what = format!("the {path} of transaction {tid}");
        let resp = self.authorized(req, false, &what)?;
        if resp.status == 202 {
            // Accepted, not finished: the completing event carries this id as its
            // `correlation_request_id` (S:9635ff).
            return Ok(OperationAnswer {
                pending: true,
                provider_reference: resp.header("event-request-id").map(str::to_string),
                detail: format!("Dintero accepted the {path} of transaction {tid} (HTTP 202)"),
            });
        }
        let t: wire::Transaction = self.base.json(&resp)?;
        let reference = (op.kind != OperationKind::Void).then_some(op.id);
        wire::operation_answer(&t, op.kind, reference).map_err(|(code, message)| {
            self.base.error(ErrorKind::Rejected {
                status: resp.status,
                code,
                message,
            })
        })
    }
}

impl Provider for Dintero {
    fn base(&self) -> &ClientBase {
        &self.base
    }

    fn create(&self, req: &CreateRequest) -> Result<Created, ProviderError> {
        let sms = req.send.filter(|c| c.channel() == Channel::Sms);
        if let Some(c) = req.send.filter(|c| c.channel() != Channel::Sms) {
            return Err(self.base.config(format!(
                "Dintero sends links by SMS only, not by {}",
                c.channel()
            )));
        }
        let body = wire::session_request(
            req.order,
            &self.config.profile_id,
            req.return_url,
            format_rfc3339(req.expires_at),
            req.capture == CapturePolicy::AtSale,
            req.sale == SaleKind::Link,
            sms.map(|c| c.value()),
        );
        let body = serde_json::to_vec(&body).expect("a session request serializes");
        let http = Request::new(
            Method::Post,
            self.url(CHECKOUT_ORIGIN, "/v1/sessions-profile?include_session=true"),
        )
        .header("accept", "application/json")
        .header("dintero-feature-toggles", "strict-session-amounts")
        .header("dintero-system-name", "Kassa")
        .header("dintero-system-version", env!("CARGO_PKG_VERSION"))
        .json(body);
        let resp = self.authorized(http, false, "the sessions-profile endpoint")?;
        self.created(&resp, req.expires_at, sms.map(|c| c.masked()))
    }

    fn status(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        let session = self.get_session(self.session_id(s)?)?;
        self.report(&session, s)
    }

    fn cancel(&self, s: &SessionRef) -> Result<StatusReport, ProviderError> {
        let id = self.session_id(s)?;
        let req = Request::new(
            Method::Post,
            self.url(
                CHECKOUT_ORIGIN,
                &format!("/v1/sessions/{}/cancel", percent_encode(id)),
            ),
        )
        .header("accept", "application/json");
        let resp = self.authorized(req, false, &format!("session {id}"))?;
        let session: wire::SessionRead = self.base.json(&resp)?;
        self.report(&session, s)
    }

    /// Fetches a new access token: proves the client id, secret and account id.
    fn check_connection(&self) -> Result<String, ProviderError> {
        self.token.clear();
        self.token.get(|| self.fetch_token())?;
        Ok(format!(
            "{} accepted the credentials for account {}",
            self.config.label, self.config.account_id
        ))
    }

    fn find_by_reference(&self, s: &SessionRef) -> Result<Option<StatusReport>, ProviderError> {
        let list: Vec<wire::Transaction> = self.list(
            "transactions",
            &format!(
                "merchant_reference={}&limit=10",
                percent_encode(s.merchant_reference)
            ),
        )?;
        // The best news first: a payment that covers the order, else any other state.
        let mut reports: Vec<(crate::session::Status, String, String)> = list
            .iter()
            .filter(|t| t.merchant_reference.as_deref() == Some(s.merchant_reference))
            .map(|t| {
                let (status, detail) = wire::transaction_status(t, s.gross, s.currency);
                (status, detail, t.id.clone())
            })
            .collect();
        reports.sort_by_key(|(st, _, _)| *st != crate::session::Status::Paid);
        Ok(reports
            .into_iter()
            .next()
            .map(|(status, detail, id)| StatusReport {
                status,
                detail,
                payment_id: Some(id),
            }))
    }

    fn find_session(&self, s: &SessionRef) -> Result<Option<FoundSession>, ProviderError> {
        let list: Vec<wire::SessionRead> = self.list(
            "sessions",
            &format!("search={}&limit=100", percent_encode(s.merchant_reference)),
        )?;
        // Kassa's references are unique, so at most one session carries this one exactly.
        let Some(session) = list
            .into_iter()
            .find(|x| x.has_reference(s.merchant_reference))
        else {
            return Ok(None);
        };
        let report = self.report(&session, s)?;
        Ok(Some(FoundSession {
            checkout_url: self.url(
                CHECKOUT_ORIGIN,
                &format!("/v1/view/{}", percent_encode(&session.id)),
            ),
            expires_at: session
                .expires_at
                .as_deref()
                .and_then(|t| parse_utc(t).ok()),
            provider_session_id: session.id,
            report,
        }))
    }

    fn payment_state(&self, s: &SessionRef) -> Result<PaymentState, ProviderError> {
        let t = self.get_transaction(&self.transaction_id(s)?)?;
        wire::payment_state(&t).map_err(|detail| {
            self.base.error(ErrorKind::BadResponse {
                status: 200,
                detail,
            })
        })
    }

    fn capture(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        let body = wire::CaptureBody {
            amount: op.amount,
            capture_reference: op.id.to_string(),
            items: wire::operation_items(op.order, op.lines),
        };
        let body = serde_json::to_vec(&body).expect("a capture serializes");
        self.operate(op, "capture", Some(body))
    }

    fn refund(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        let body = wire::RefundBody {
            amount: op.amount,
            reason: op.reason.map(str::to_string),
            refund_reference: op.id.to_string(),
            items: wire::operation_items(op.order, op.lines),
        };
        let body = serde_json::to_vec(&body).expect("a refund serializes");
        self.operate(op, "refund", Some(body))
    }

    fn void(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.operate(op, "void", None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_for_urls() {
        assert_eq!(percent_encode("T12345678.4xYz"), "T12345678.4xYz");
        assert_eq!(percent_encode("a/b c&d"), "a%2Fb%20c%26d");
        assert_eq!(percent_encode("blåbær"), "bl%C3%A5b%C3%A6r");
    }

    #[test]
    fn profile_must_match_the_account_prefix() {
        let http = Http::new(crate::http::HttpConfig::default()).unwrap();
        let cfg = |aid: &str, profile: &str| DinteroConfig {
            profile: profile.into(),
            account_id: aid.into(),
            ..test_config()
        };
        assert!(Dintero::new(cfg("T12345678", "test"), http.clone()).is_ok());
        let e = Dintero::new(cfg("P12345678", "test"), http.clone())
            .err()
            .unwrap();
        assert!(e.to_string().contains("live account"), "{e}");
        assert!(Dintero::new(cfg("T12345678", "live"), http).is_err());
    }
}
