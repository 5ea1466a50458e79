//! `kassa-cli operator add|list|remove`, and who a command acts as: the global `--operator ID`
//! (its PIN from `KASSA_PIN`, else asked at the terminal), or the owner of a till with no
//! operators. A PIN is never an argument (it would land in shell history and `ps`), never
//! printed, never logged.

use crate::station::{store_failure, Station};
use crate::Failure;
use kassa_core::operator::{check_pin, Authenticated, OperatorError, Role};
use kassa_core::secrets::Secret;
use kassa_core::store::{NewOperator, SessionLog};
use kassa_core::time::{format_rfc3339, now_millis};
use std::path::Path;

/// The environment variable a PIN is read from (scripts, tests) before a terminal is asked.
pub const PIN_VARIABLE: &str = "KASSA_PIN";

/// Who the command acts as ([`crate::operator_flag`]): operator `ID` logged in with its PIN, or
/// the owner when no operator is configured (then `--operator 1`, the owner, needs no PIN).
pub fn authenticate(log: &mut SessionLog) -> Result<Authenticated, Failure> {
    let owner = log.owner_if_no_operators().map_err(store_failure)?;
    match (crate::operator_flag(), owner) {
        (None | Some(1), Some(owner)) => Ok(owner),
        (Some(id), _) => {
            let pin = read_pin(&format!("PIN for operator {id}"))?;
            log.login(id, &pin, false, now_millis())
                .map_err(store_failure)
        }
        (None, None) => Err(store_failure(OperatorError::LoginRequired.into())),
    }
}

/// An operator's PIN for a login: from `KASSA_PIN`, else asked without echo at the terminal.
fn read_pin(prompt: &str) -> Result<Secret, Failure> {
    if let Ok(pin) = std::env::var(PIN_VARIABLE) {
        return Ok(Secret::new(pin.trim()));
    }
    rpassword::prompt_password(format!("{prompt} (input hidden): "))
        .map(|p| Secret::new(p.trim()))
        .map_err(|_| {
            Failure::Invalid(format!(
                "no PIN: set {PIN_VARIABLE} or run kassa-cli at a terminal to be asked"
            ))
        })
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The operator's name, as receipts and the journal show it.
    #[arg(long)]
    pub name: String,
    /// cashier or manager (the first operator must be a manager).
    #[arg(long)]
    pub role: String,
    /// The operator's number (default: the next free one, 1 for the first).
    #[arg(long)]
    pub id: Option<i64>,
}

/// Adds an operator, the new PIN read from standard input (hidden at a terminal).
pub fn add(dir: &Path, a: &AddArgs) -> Result<(), Failure> {
    let role = Role::parse(&a.role).map_err(|e| Failure::Invalid(e.to_string()))?;
    let mut station = Station::open_without_reconciling(dir)?;
    let by = station.operator()?;
    let pin = crate::credentials_cmd::read_hidden("the new operator's PIN (4 to 16 digits)")?;
    check_pin(&pin).map_err(|e| Failure::Invalid(e.to_string()))?;
    let op = station
        .log
        .add_operator(
            &by,
            &NewOperator {
                id: a.id,
                name: &a.name,
                role,
                pin: &pin,
            },
            now_millis(),
        )
        .map_err(store_failure)?;
    println!(
        "added operator {} ({}, {})",
        op.id,
        op.name,
        op.role.as_str()
    );
    Ok(())
}

pub fn list(dir: &Path, json: bool) -> Result<(), Failure> {
    let station = Station::open_without_reconciling(dir)?;
    let ops = station.log.operators().map_err(store_failure)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&ops)
                .map_err(|e| Failure::System(format!("cannot write JSON: {e}")))?
        );
        return Ok(());
    }
    if ops.is_empty() {
        println!("no operators: Kassa runs as operator 1, the owner (a manager)");
        return Ok(());
    }
    println!("{:>6}  {:<8}  {:<24}  name", "id", "role", "status");
    for o in ops {
        let status = match o.removed_ms {
            Some(t) => format!("removed {}", &format_rfc3339(t)[..10]),
            None => "active".into(),
        };
        println!(
            "{:>6}  {:<8}  {:<24}  {}",
            o.id,
            o.role.as_str(),
            status,
            o.name
        );
    }
    Ok(())
}

pub fn remove(dir: &Path, id: i64) -> Result<(), Failure> {
    let mut station = Station::open_without_reconciling(dir)?;
    let by = station.operator()?;
    let op = station
        .log
        .remove_operator(&by, id, now_millis())
        .map_err(store_failure)?;
    println!("removed operator {} ({})", op.id, op.name);
    Ok(())
}
