//! `kassa-cli capture`, `refund` and `void`: after the sale, at the session's provider
//! (`kassa_core::checkout`), and a refund staff made outside Kassa (`refund --recorded`).
//!
//! Exit status: 0 done (or accepted by the provider and finishing: the operation is `sent`),
//! 2 invalid input or refused before anything was sent (an unpaid session, more than can be
//! captured or refunded, a void of a captured sale, a provider without that API), 3 a
//! provider, network or system error (the operation is then `failed` or `unknown`; an unknown
//! one is looked up at the provider, never sent again).

use crate::station::{checkout_failure, Station};
use crate::Failure;
use kassa_core::checkout;
use kassa_core::refund::Basis;
use kassa_core::session::SessionId;
use kassa_core::store::{OperationRecord, OperationState};
use kassa_core::time::{format_rfc3339, now_millis};
use kassa_core::Quantity;
use std::path::Path;

#[derive(clap::Args)]
pub struct RefundArgs {
    /// Kassa's session id.
    pub id: String,
    /// Refund this amount (minor units), spread over the sale's lines.
    #[arg(long, value_name = "MINOR", conflicts_with = "line")]
    pub amount: Option<i64>,
    /// Refund QTY of line N (0-based, as in the order); repeat for more lines. Neither
    /// --amount nor --line: everything not yet refunded.
    #[arg(long, value_name = "N:QTY")]
    pub line: Vec<String>,
    /// Why (kept with the refund, sent to providers that take a reason).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Record a refund staff made outside Kassa, for a provider without a refund API
    /// (Opencharge): never sent, never the provider's evidence. Needs --note.
    #[arg(long, requires = "note")]
    pub recorded: bool,
    /// With --recorded: what staff did (e.g. the bank transfer's reference).
    #[arg(long, value_name = "TEXT", requires = "recorded")]
    pub note: Option<String>,
    /// Print the operation as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `N:QTY` → (line index, quantity).
fn parse_line(text: &str) -> Result<(usize, Quantity), Failure> {
    let bad = |why: String| Failure::Invalid(format!("--line {text}: {why}"));
    let (n, q) = text
        .split_once(':')
        .ok_or_else(|| bad("expected N:QTY, e.g. 0:1 (line 0, one unit)".into()))?;
    let n = n
        .trim()
        .parse::<usize>()
        .map_err(|_| bad(format!("{n:?} is not a line number (0, 1, …)")))?;
    let q = Quantity::parse(q.trim()).map_err(bad)?;
    Ok((n, q))
}

/// The `--json` object of an operation.
pub fn operation_json(op: &OperationRecord) -> serde_json::Value {
    serde_json::json!({
        "id": op.id,
        "session_id": op.session_id,
        "kind": op.kind,
        "via": op.via,
        "amount": op.amount,
        "lines": op.lines,
        "reason": op.reason,
        "state": op.state,
        "provider_reference": op.provider_reference,
        "error": op.error,
        "captured_after": op.captured_after,
        "refunded_after": op.refunded_after,
        "at": format_rfc3339(op.created_at),
    })
}

fn print(op: &OperationRecord, currency: &str, json: bool) {
    if json {
        println!("{}", operation_json(op));
        return;
    }
    let amount = crate::sessions_cmd::amount(currency, op.amount);
    println!("{}  {} {amount} {currency}", op.kind.as_str(), op.id);
    println!(
        "state      {}{}",
        op.state,
        match op.state {
            OperationState::Sent => " (accepted by the provider, still processing)",
            _ => "",
        }
    );
    if let Some(r) = &op.provider_reference {
        println!("reference  {r}");
    }
    for l in &op.lines {
        println!(
            "  line {} {} × {}  {} (VAT {} at {} %)",
            l.index,
            l.quantity,
            l.name,
            crate::sessions_cmd::amount(currency, l.gross),
            crate::sessions_cmd::amount(currency, l.vat),
            l.vat_rate
        );
    }
    if let (Some(c), Some(r)) = (op.captured_after, op.refunded_after) {
        println!(
            "evidence   captured {}, refunded {} (the provider's record)",
            crate::sessions_cmd::amount(currency, c),
            crate::sessions_cmd::amount(currency, r)
        );
    }
}

/// Opens the station for an operation on session `id`: (station, the session's currency).
fn open(dir: &Path, id: &str) -> Result<(Station, String), Failure> {
    SessionId::parse(id).map_err(Failure::Invalid)?;
    let station = Station::open(dir)?;
    let (s, _) = station.log.get(id).map_err(crate::station::store_failure)?;
    Ok((station, s.currency))
}

/// Prints the operation an error left (`--json`), then fails with the error.
fn failed(e: checkout::CheckoutError, currency: &str, json: bool) -> Failure {
    if let checkout::CheckoutError::Operation { operation, .. } = &e {
        if json {
            print(operation, currency, true);
        }
    }
    checkout_failure(e)
}

pub fn capture(dir: &Path, id: &str, amount: Option<i64>, json: bool) -> Result<(), Failure> {
    let (mut station, currency) = open(dir, id)?;
    let (s, _) = station.log.get(id).map_err(crate::station::store_failure)?;
    let by = station.operator()?;
    let provider = station.provider(&s.provider, Some(&s.profile))?;
    let now = now_millis();
    let op_id = SessionId::generate(now).to_string();
    let op = checkout::capture(
        &mut station.log,
        provider.as_ref(),
        id,
        amount,
        &by,
        &op_id,
        now,
    )
    .map_err(|e| failed(e, &currency, json))?;
    print(&op, &currency, json);
    Ok(())
}

pub fn void(dir: &Path, id: &str, json: bool) -> Result<(), Failure> {
    let (mut station, currency) = open(dir, id)?;
    let (s, _) = station.log.get(id).map_err(crate::station::store_failure)?;
    let by = station.operator()?;
    let provider = station.provider(&s.provider, Some(&s.profile))?;
    let now = now_millis();
    let op_id = SessionId::generate(now).to_string();
    let op = checkout::void(&mut station.log, provider.as_ref(), id, &by, &op_id, now)
        .map_err(|e| failed(e, &currency, json))?;
    print(&op, &currency, json);
    Ok(())
}

pub fn refund(dir: &Path, a: RefundArgs) -> Result<(), Failure> {
    let basis = match (a.amount, a.line.is_empty()) {
        (Some(amount), _) => Basis::Amount(amount),
        (None, false) => Basis::Lines(
            a.line
                .iter()
                .map(|l| parse_line(l))
                .collect::<Result<_, _>>()?,
        ),
        (None, true) => Basis::Whole,
    };
    let (mut station, currency) = open(dir, &a.id)?;
    let (s, _) = station
        .log
        .get(&a.id)
        .map_err(crate::station::store_failure)?;
    let by = station.operator()?;
    let provider = station.provider(&s.provider, Some(&s.profile))?;
    let now = now_millis();
    let op_id = SessionId::generate(now).to_string();
    let result = if a.recorded {
        let note = a.note.as_deref().unwrap_or_default();
        checkout::record_refund(
            &mut station.log,
            provider.as_ref(),
            &a.id,
            &basis,
            note,
            &by,
            &op_id,
            now,
        )
    } else {
        checkout::refund(
            &mut station.log,
            provider.as_ref(),
            &a.id,
            &basis,
            a.reason.as_deref(),
            &by,
            &op_id,
            now,
        )
    };
    // A provider without a refund API: say how to record the refund instead.
    let result = result.map_err(|e| match e {
        checkout::CheckoutError::Refused {
            code: kassa_core::code::Code::Unsupported,
            message,
            ..
        } if !a.recorded => Failure::Invalid(format!(
            "{message}; then `kassa-cli refund {} --recorded --note TEXT [--amount MINOR | \
             --line N:QTY …]` [unsupported]",
            a.id
        )),
        other => failed(other, &currency, a.json),
    });
    let op = result?;
    print(&op, &currency, a.json);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_arguments_name_what_is_wrong() {
        let (n, q) = parse_line("2:0.35").map_err(|_| ()).unwrap();
        assert_eq!((n, q.milli()), (2, 350));
        for (text, says) in [
            ("2", "expected N:QTY"),
            ("x:1", "\"x\" is not a line number"),
            ("0:0", "is not positive"),
            ("0:1.2345", "more than 3 decimals"),
        ] {
            match parse_line(text) {
                Err(Failure::Invalid(m)) => assert!(m.contains(says), "{text}: {m}"),
                _ => panic!("{text} was accepted"),
            }
        }
    }
}
