//! [`ProviderError`]: a provider call that failed, with the provider's name, the kind of
//! failure and the provider's own code, message and HTTP status. Never holds a secret.
//!
//! How a failure maps to a session's status lives here too
//! ([`ProviderError::may_have_reached_provider`]), and how a request that got no answer
//! ([`HttpError`]) becomes a provider's error ([`ProviderError::http`]).

use crate::code::Code;
use crate::http::HttpError;
use std::fmt;

/// A provider call that failed, with the provider's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub provider: String,
    pub kind: ErrorKind,
}

/// Why a provider call failed. None of these ever holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A setting is missing or wrong.
    Config(String),
    /// The keyring is absent, locked or refused (a credential never set is `Config`).
    Credentials(String),
    Unsupported {
        operation: &'static str,
    },
    /// The connection could not be made: the request never left the machine.
    Connect(String),
    /// No answer in time. `sent`: the request may have reached the provider.
    Timeout {
        sent: bool,
        seconds: u64,
    },
    /// The connection broke after the request was sent.
    Network(String),
    /// 401/403: wrong or expired credentials, or not allowed.
    Auth {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// 429, with the provider's Retry-After in seconds when given.
    RateLimited {
        retry_after: Option<u64>,
    },
    /// 5xx.
    Server {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// 404.
    NotFound {
        what: String,
    },
    /// Another 4xx: the provider refused the request.
    Rejected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// A body that is not what the API documents: not JSON, truncated, wrong content type,
    /// missing fields.
    BadResponse {
        status: u16,
        detail: String,
    },
    /// The provider computed the order differently from Kassa's quote (Commerce Layer's tax):
    /// nothing is shown to the customer.
    Mismatch(String),
}

impl ProviderError {
    pub fn new(provider: &str, kind: ErrorKind) -> ProviderError {
        ProviderError {
            provider: provider.to_string(),
            kind,
        }
    }

    /// A stable code for the UI and scripts.
    pub fn code(&self) -> Code {
        match self.kind {
            ErrorKind::Config(_) => Code::ProviderConfig,
            ErrorKind::Credentials(_) => Code::Credentials,
            ErrorKind::Unsupported { .. } => Code::Unsupported,
            ErrorKind::Connect(_) => Code::NetworkUnreachable,
            ErrorKind::Timeout { .. } => Code::Timeout,
            ErrorKind::Network(_) => Code::Network,
            ErrorKind::Auth { .. } => Code::ProviderAuth,
            ErrorKind::RateLimited { .. } => Code::RateLimited,
            ErrorKind::Server { .. } => Code::ProviderUnavailable,
            ErrorKind::NotFound { .. } => Code::ProviderNotFound,
            ErrorKind::Rejected { .. } => Code::ProviderRejected,
            ErrorKind::BadResponse { .. } => Code::ProviderBadResponse,
            ErrorKind::Mismatch(_) => Code::ProviderMismatch,
        }
    }

    /// Whether a create that failed this way may nevertheless have created a session at the
    /// provider (so the session becomes `unknown`, not `failed`). Only errors that prove the
    /// provider did not act are "no": no connection, a 4xx refusal, 429, a local problem.
    pub fn may_have_reached_provider(&self) -> bool {
        match self.kind {
            ErrorKind::Timeout { sent, .. } => sent,
            ErrorKind::Network(_) | ErrorKind::Server { .. } | ErrorKind::BadResponse { .. } => {
                true
            }
            _ => false,
        }
    }

    /// Whether a status read that failed this way is worth retrying.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Connect(_)
                | ErrorKind::Timeout { .. }
                | ErrorKind::Network(_)
                | ErrorKind::RateLimited { .. }
                | ErrorKind::Server { .. }
        )
    }
}

fn with_code(code: &Option<String>) -> String {
    code.as_deref().map(|c| format!(" {c}")).unwrap_or_default()
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.provider;
        match &self.kind {
            ErrorKind::Config(m) => write!(f, "{p} is not set up: {m}"),
            ErrorKind::Credentials(m) => write!(f, "{p} credentials: {m}"),
            ErrorKind::Unsupported { operation } => {
                write!(f, "{p} does not support {operation}")
            }
            ErrorKind::Connect(m) => write!(f, "cannot reach {p}: {m}"),
            ErrorKind::Timeout {
                sent: true,
                seconds,
            } => write!(
                f,
                "{p} did not answer within {seconds} s (the request may have arrived)"
            ),
            ErrorKind::Timeout {
                sent: false,
                seconds,
            } => {
                write!(f, "cannot reach {p}: no connection within {seconds} s")
            }
            ErrorKind::Network(m) => write!(f, "the connection to {p} broke: {m}"),
            ErrorKind::Auth {
                status,
                code,
                message,
            } => write!(
                f,
                "{p} refused the credentials (HTTP {status}{}): {message}",
                with_code(code)
            ),
            ErrorKind::RateLimited { retry_after } => match retry_after {
                Some(s) => write!(f, "{p} is rate limiting (HTTP 429); retry after {s} s"),
                None => write!(f, "{p} is rate limiting (HTTP 429)"),
            },
            ErrorKind::Server {
                status,
                code,
                message,
            } => write!(
                f,
                "{p} has a problem (HTTP {status}{}): {message}",
                with_code(code)
            ),
            ErrorKind::NotFound { what } => write!(f, "{p} does not know {what} (HTTP 404)"),
            ErrorKind::Rejected {
                status,
                code,
                message,
            } => write!(
                f,
                "{p} refused the request (HTTP {status}{}): {message}",
                with_code(code)
            ),
            ErrorKind::Mismatch(m) => write!(f, "{p} disagrees with Kassa's quote: {m}"),
            ErrorKind::BadResponse { status, detail } => {
                write!(f, "{p} sent an unreadable answer (HTTP {status}): {detail}")
            }
        }
    }
}

impl std::error::Error for ProviderError {}

impl ProviderError {
    /// A request to `provider` that got no answer. A URL the HTTP client cannot use is a
    /// setting's fault (`base_url`), so a configuration error.
    pub fn http(provider: &str, e: HttpError) -> ProviderError {
        let kind = match e {
            HttpError::Connect(m) => ErrorKind::Connect(m),
            HttpError::Timeout { sent, seconds } => ErrorKind::Timeout { sent, seconds },
            HttpError::Network(m) => ErrorKind::Network(m),
            HttpError::BadUrl(m) => ErrorKind::Config(format!("bad request URL: {m}")),
        };
        ProviderError::new(provider, kind)
    }
}
