//! What every provider client is built from: [`ClientBase`] (its name, profile, capabilities,
//! base URL and the shared HTTP client, with the request plumbing every client needs) and
//! [`TokenCache`] (an OAuth bearer token kept until shortly before it expires, renewed once on a
//! 401). The provider-specific parts (auth headers, error bodies, wire types) stay in the
//! provider's own module.

use super::common::{api_url, parse_json, status_error};
use super::error::{ErrorKind, ProviderError};
use super::{Capabilities, SessionRef};
use crate::http::{Http, Request, Response};
use crate::secrets::Secret;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A provider client's identity and transport.
pub struct ClientBase {
    label: String,
    profile: String,
    capabilities: Capabilities,
    base_url: Option<String>,
    http: Http,
}

impl ClientBase {
    /// `label`: the name sessions are logged under (`dintero`, or `demo`); `base_url`: the
    /// `<provider>.base_url` setting, which replaces the real origin of every call.
    pub fn new(
        label: &str,
        profile: &str,
        capabilities: Capabilities,
        base_url: Option<String>,
        http: Http,
    ) -> ClientBase {
        ClientBase {
            label: label.to_string(),
            profile: profile.to_string(),
            capabilities,
            base_url,
            http,
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// The URL of an API call: `path` on the real `origin`, or on the base URL when one is set
    /// ([`api_url`]).
    pub(crate) fn url(&self, origin: &str, path: &str) -> String {
        api_url(origin, self.base_url.as_deref(), path)
    }

    /// Sends `req`: once, or (`idempotent`: reads, deletes, token requests) with retries of
    /// transient failures. Creates are never idempotent here (see [`crate::checkout`]).
    pub(crate) fn send(&self, req: &Request, idempotent: bool) -> Result<Response, ProviderError> {
        let sent = if idempotent {
            self.http.send_idempotent(&self.label, req)
        } else {
            self.http.send(&self.label, req)
        };
        sent.map_err(|e| ProviderError::http(&self.label, e))
    }

    pub(crate) fn error(&self, kind: ErrorKind) -> ProviderError {
        ProviderError::new(&self.label, kind)
    }

    /// A configuration error: a setting, a credential or the session's data is not usable.
    pub(crate) fn config(&self, message: impl Into<String>) -> ProviderError {
        self.error(ErrorKind::Config(message.into()))
    }

    /// Parses a JSON answer, or says why it is not one.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        resp: &Response,
    ) -> Result<T, ProviderError> {
        parse_json(&self.label, resp)
    }

    /// The error for a non-2xx answer, by HTTP status, with what the provider's error body said.
    pub(crate) fn refused(
        &self,
        resp: &Response,
        what: &str,
        code: Option<String>,
        message: String,
    ) -> ProviderError {
        status_error(&self.label, resp, what, code, message)
    }

    /// The provider's id of a session (`what` names it: `Dintero session id`), which a session
    /// whose create got no answer does not have.
    pub(crate) fn session_id<'a>(
        &self,
        s: &SessionRef<'a>,
        what: &str,
    ) -> Result<&'a str, ProviderError> {
        s.provider_session_id.ok_or_else(|| {
            self.config(format!(
                "this session has no {what} (its create got no answer)"
            ))
        })
    }
}

/// A bearer token and when to fetch a new one.
struct Token {
    value: Secret,
    renew_at: Instant,
}

/// An OAuth token kept per client until shortly before it expires (the client decides how
/// long, see [`super::common::bearer_token`]). Not `Debug`: it holds the token.
pub(crate) struct TokenCache(Mutex<Option<Token>>);

impl TokenCache {
    pub(crate) fn new() -> TokenCache {
        TokenCache(Mutex::new(None))
    }

    /// The cached token, or a new one from `fetch` (the token and how long to use it). The lock
    /// is held while fetching, so requests sent at once wait for one token instead of each
    /// fetching their own (token endpoints are rate limited).
    pub(crate) fn get(
        &self,
        fetch: impl FnOnce() -> Result<(Secret, Duration), ProviderError>,
    ) -> Result<Secret, ProviderError> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = slot.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(t.value.clone());
        }
        *slot = None;
        let (value, renew_after) = fetch()?;
        *slot = Some(Token {
            value: value.clone(),
            renew_at: Instant::now() + renew_after,
        });
        Ok(value)
    }

    /// Forgets the token: the next request fetches a new one.
    pub(crate) fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Sends `req` with `authorization: header(token)`; on a 401 fetches a new token and sends
    /// once more (a 401 means the request was refused before anything happened: safe to
    /// repeat, even a create). Returns the answer, whatever its status.
    pub(crate) fn send(
        &self,
        base: &ClientBase,
        req: &Request,
        idempotent: bool,
        fetch: impl Fn() -> Result<(Secret, Duration), ProviderError>,
        header: impl Fn(&Secret) -> String,
    ) -> Result<Response, ProviderError> {
        let send = |token: Secret| {
            let r = req.clone().header("authorization", header(&token));
            base.send(&r, idempotent)
        };
        let resp = send(self.get(&fetch)?)?;
        if resp.status != 401 {
            return Ok(resp);
        }
        self.clear();
        send(self.get(&fetch)?)
    }
}
