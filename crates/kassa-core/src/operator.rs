//! Operators: who works the till, with a numeric id, a name, a PIN and a role (`cashier` or
//! `manager`), and [`Authenticated`], the proof that one of them is at the till.
//!
//! - A PIN is 4 to 16 digits, stored only as an Argon2id hash (a PHC string, salted): never in
//!   plain text, never in a log, an error or the journal. A short PIN guards the counter, not
//!   the file: whoever copies `sessions.db` can try every 4-digit PIN offline, so the PIN
//!   protects against a colleague, not a thief.
//! - With no operator configured, Kassa runs as operator 1, the owner (a manager), so a new
//!   install works with no set-up. The first operator added must be a manager (someone must be
//!   able to add the others), and the last manager cannot be removed.
//! - [`Authenticated`] is made only by the session log (`store`), after a PIN check or as the
//!   owner of a till with no operators; the core's functions that act take one, so an
//!   unchecked operator cannot reach them. Refunds, voids and payments or refunds staff record
//!   need a manager ([`Authenticated::require_manager`]).
//!
//! Not here: the `operators` table (`store::operators`), the PIN prompt (the shells).

use crate::code::Code;
use crate::field_code::{FieldCode, Reason};
use crate::journal::OperatorStamp;
use crate::secrets::Secret;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::Serialize;

/// The owner's id: who Kassa runs as with no operator configured, and the default id of the
/// first operator added.
pub const OWNER_ID: i64 = 1;
/// The owner's name in the journal while no operator is configured.
pub const OWNER_NAME: &str = "Owner";
/// Operator ids are 1 to this (SAF-T `empID` is text up to 35 characters; six digits is room
/// enough and keeps ids typeable).
pub const MAX_ID: i64 = 999_999;

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sells, captures, cancels an unpaid sale.
    Cashier,
    /// Also refunds, voids, confirms or records what the provider cannot, manages operators.
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Manager => "manager",
        }
    }

    pub fn parse(text: &str) -> Result<Role, OperatorError> {
        match text.trim() {
            "cashier" => Ok(Role::Cashier),
            "manager" => Ok(Role::Manager),
            other => Err(OperatorError::Invalid {
                field: "role",
                reason: Reason::new(
                    FieldCode::NotOneOf,
                    format!("{other:?} is not a role (cashier, manager)"),
                )
                .var("allowed", "cashier, manager"),
            }),
        }
    }
}

/// A configured operator (without the PIN's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_ms: i64,
    /// Removed operators stay (the journal names them) but cannot log in.
    pub removed_ms: Option<i64>,
}

/// An operator at the till whose PIN was checked (or the owner of a till with no operators).
/// Only the session log makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authenticated {
    id: i64,
    name: String,
    role: Role,
    /// `false`: the owner of a till with no operators (no PIN was asked).
    by_pin: bool,
}

impl Authenticated {
    pub(crate) fn new(id: i64, name: String, role: Role, by_pin: bool) -> Authenticated {
        Authenticated {
            id,
            name,
            role,
            by_pin,
        }
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether a PIN was checked (else: the owner of a till with no operators).
    pub fn by_pin(&self) -> bool {
        self.by_pin
    }

    /// The operator as the journal records them.
    pub fn stamp(&self) -> OperatorStamp {
        OperatorStamp {
            id: self.id,
            name: self.name.clone(),
        }
    }

    /// Refuses `action` (e.g. "refund") unless this operator is a manager.
    pub fn require_manager(&self, action: &str) -> Result<(), OperatorError> {
        match self.role {
            Role::Manager => Ok(()),
            Role::Cashier => Err(OperatorError::ManagerRequired {
                action: action.to_string(),
                id: self.id,
                name: self.name.clone(),
            }),
        }
    }
}

/// Why an operator could not be added, found, logged in or allowed. Never holds a PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    #[error("wrong PIN for operator {id}")]
    WrongPin { id: i64 },
    #[error("no operator {id} (kassa-cli operator list shows them)")]
    NoSuchOperator { id: i64 },
    #[error("operator {id} was removed and cannot log in")]
    Removed { id: i64 },
    #[error("{action} needs a manager: operator {id} ({name}) is a cashier; a manager logs in (or gives their PIN on the spot) to do it")]
    ManagerRequired {
        action: String,
        id: i64,
        name: String,
    },
    #[error("operators are configured: log in first (kassa-cli takes --operator ID, with the PIN from KASSA_PIN or asked)")]
    LoginRequired,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: Reason },
    #[error("pin_again: the two PINs differ: type the same PIN twice")]
    PinsDiffer,
    #[error("operator {id} exists already")]
    IdTaken { id: i64 },
    #[error("the first operator must be a manager (someone has to be able to add the others)")]
    FirstMustBeManager,
    #[error("operator {id} is the last manager and cannot be removed")]
    LastManager { id: i64 },
}

impl OperatorError {
    pub fn code(&self) -> Code {
        match self {
            OperatorError::WrongPin { .. } => Code::WrongPin,
            OperatorError::NoSuchOperator { .. } | OperatorError::Removed { .. } => {
                Code::NoSuchOperator
            }
            OperatorError::ManagerRequired { .. } => Code::ManagerRequired,
            OperatorError::LoginRequired => Code::LoginRequired,
            OperatorError::Invalid { .. }
            | OperatorError::PinsDiffer
            | OperatorError::IdTaken { .. }
            | OperatorError::FirstMustBeManager
            | OperatorError::LastManager { .. } => Code::InvalidInput,
        }
    }
}

impl OperatorError {
    /// The field problem a form shows (for [`OperatorError::Invalid`] and
    /// [`OperatorError::PinsDiffer`]; the others are not about one field: `$`).
    pub fn problem(&self) -> crate::order::Problem {
        match self {
            OperatorError::Invalid { field, reason } => {
                crate::order::Problem::coded(field, reason.clone())
            }
            OperatorError::PinsDiffer => crate::order::Problem::coded(
                "pin_again",
                Reason::new(
                    FieldCode::PinsDiffer,
                    "the two PINs differ: type the same PIN twice",
                ),
            ),
            other => crate::order::Problem {
                path: "$".into(),
                reason: other.to_string(),
                ..Default::default()
            },
        }
    }
}

/// A PIN: 4 to 16 digits. The error never repeats it.
pub fn check_pin(pin: &Secret) -> Result<(), OperatorError> {
    let p = pin.expose();
    if (4..=16).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(OperatorError::Invalid {
            field: "pin",
            reason: Reason::new(
                FieldCode::Pin,
                format!(
                    "a PIN is 4 to 16 digits (got {} characters)",
                    p.chars().count()
                ),
            ),
        })
    }
}

/// A name: 1 to 100 characters, no control characters; trimmed.
pub fn check_name(name: &str) -> Result<String, OperatorError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(OperatorError::Invalid {
            field: "name",
            reason: Reason::new(
                FieldCode::TextLength,
                "a name is 1 to 100 characters, without control characters",
            )
            .var("max", 100),
        });
    }
    Ok(n.to_string())
}

/// An id: 1 to [`MAX_ID`].
pub fn check_id(id: i64) -> Result<(), OperatorError> {
    if (1..=MAX_ID).contains(&id) {
        Ok(())
    } else {
        Err(OperatorError::Invalid {
            field: "id",
            reason: Reason::new(
                FieldCode::OperatorId,
                format!("an operator id is 1 to {MAX_ID} (got {id})"),
            )
            .var("max", MAX_ID),
        })
    }
}

/// The PIN's Argon2id hash as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`),
/// with a fresh random salt.
pub fn hash_pin(pin: &Secret) -> Result<String, OperatorError> {
    check_pin(pin)?;
    argon2::Argon2::default()
        .hash_password(pin.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| OperatorError::Invalid {
            field: "pin",
            reason: Reason::new(FieldCode::Pin, format!("cannot hash the PIN ({e})")),
        })
}

/// Whether `pin` is the one `phc` was made from (the parameters come from the PHC string).
pub fn pin_matches(phc: &str, pin: &Secret) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => argon2::Argon2::default()
            .verify_password(pin.expose().as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_stored_as_a_salted_argon2id_hash_never_in_plain_text() {
        let pin = Secret::new("730194528861");
        let a = hash_pin(&pin).unwrap();
        let b = hash_pin(&pin).unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains(pin.expose()));
        assert!(pin_matches(&a, &pin));
        assert!(pin_matches(&b, &pin));
        assert!(!pin_matches(&a, &Secret::new("730194528862")));
        assert!(!pin_matches("not a hash", &pin));
    }

    #[test]
    fn pins_names_ids_and_roles_are_checked_without_repeating_the_pin() {
        for bad in ["123", "12345678901234567", "12a4", "", "1234 "] {
            let e = check_pin(&Secret::new(bad)).unwrap_err();
            assert_eq!(e.code(), Code::InvalidInput);
            if !bad.is_empty() {
                assert!(!e.to_string().contains(bad), "{e}");
            }
        }
        assert!(check_pin(&Secret::new("0000")).is_ok());
        assert_eq!(check_name("  Kari Nordmann ").unwrap(), "Kari Nordmann");
        assert!(check_name(" ").is_err() && check_name("a\nb").is_err());
        assert!(check_id(0).is_err() && check_id(MAX_ID + 1).is_err() && check_id(7).is_ok());
        assert_eq!(Role::parse("manager").unwrap(), Role::Manager);
        assert!(Role::parse("owner").is_err());
    }

    #[test]
    fn only_a_manager_passes_require_manager() {
        let kari = Authenticated::new(2, "Kari".into(), Role::Cashier, true);
        let e = kari.require_manager("refund").unwrap_err();
        assert_eq!(e.code(), Code::ManagerRequired);
        assert!(e.to_string().contains("refund needs a manager"), "{e}");
        let ola = Authenticated::new(3, "Ola".into(), Role::Manager, true);
        assert!(ola.require_manager("refund").is_ok());
        assert_eq!(
            ola.stamp(),
            OperatorStamp {
                id: 3,
                name: "Ola".into()
            }
        );
    }
}
