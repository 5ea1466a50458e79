//! [`TillError`]: an error as a shell shows it, flat and serializable: a stable [`Code`] the
//! UI translates into a cashier's words, the technical message one click away, the session it
//! concerns, and field problems for a form. Every error of the core converts into it.

use crate::checkout::CheckoutError;
use crate::code::Code;
use crate::order::Problem;
use crate::provider::ProviderError;
use crate::secrets::SecretError;
use crate::settings::SettingsError;
use crate::store::StoreError;
use serde::Serialize;

/// An error as a shell shows it. Never holds a secret (its parts never do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TillError {
    /// Stable: the UI picks its words by this.
    pub code: Code,
    /// The technical detail, for "show details" and the logs.
    pub message: String,
    /// The session the error concerns (it is in the history with this attempt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Field problems (path = the field), for errors shown next to a form field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for TillError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

impl std::error::Error for TillError {}

impl TillError {
    pub fn new(code: Code, message: impl Into<String>) -> TillError {
        TillError {
            code,
            message: message.into(),
            session_id: None,
            problems: Vec::new(),
        }
    }

    /// Field problems: `invalid_input` with one line per problem.
    pub fn invalid(problems: Vec<Problem>) -> TillError {
        let message = problems
            .iter()
            .map(Problem::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        TillError {
            problems,
            ..TillError::new(Code::InvalidInput, message)
        }
    }

    /// One field problem.
    pub(crate) fn field(path: &str, reason: impl Into<String>) -> TillError {
        TillError::invalid(vec![Problem {
            path: path.into(),
            reason: reason.into(),
            ..Default::default()
        }])
    }
}

impl From<StoreError> for TillError {
    fn from(e: StoreError) -> TillError {
        TillError::new(e.code(), e.to_string())
    }
}

impl From<crate::operator::OperatorError> for TillError {
    fn from(e: crate::operator::OperatorError) -> TillError {
        use crate::operator::OperatorError;
        match e {
            OperatorError::Invalid { .. } | OperatorError::PinsDiffer => {
                TillError::invalid(vec![e.problem()])
            }
            _ => TillError::new(e.code(), e.to_string()),
        }
    }
}

impl From<ProviderError> for TillError {
    fn from(e: ProviderError) -> TillError {
        TillError::new(e.code(), e.to_string())
    }
}

impl From<CheckoutError> for TillError {
    fn from(e: CheckoutError) -> TillError {
        let code = e.code();
        match e {
            CheckoutError::Provider {
                session_id, error, ..
            } => TillError {
                session_id: Some(session_id),
                ..TillError::new(code, error.to_string())
            },
            CheckoutError::Refused {
                session_id,
                message,
                ..
            } => TillError {
                session_id: Some(session_id),
                ..TillError::new(code, message)
            },
            CheckoutError::Operation { operation, error } => TillError {
                session_id: Some(operation.session_id.clone()),
                ..TillError::new(
                    code,
                    format!(
                        "{error} ({} {} is {})",
                        operation.kind.as_str(),
                        operation.id,
                        operation.state
                    ),
                )
            },
            other => TillError::new(code, other.to_string()),
        }
    }
}

impl From<SettingsError> for TillError {
    fn from(e: SettingsError) -> TillError {
        match &e {
            SettingsError::Invalid { key, reason } => {
                TillError::invalid(vec![Problem::coded(key, reason.clone())])
            }
            _ => TillError::new(Code::Settings, e.to_string()),
        }
    }
}

impl From<SecretError> for TillError {
    fn from(e: SecretError) -> TillError {
        let code = match e {
            SecretError::Missing(_) => Code::CredentialMissing,
            _ => Code::Keyring,
        };
        TillError::new(code, e.to_string())
    }
}

impl From<crate::printing::PrintingError> for TillError {
    fn from(e: crate::printing::PrintingError) -> TillError {
        TillError::new(e.code(), e.to_string())
    }
}
