//! `kassa-cli journal verify|list|public-key`: the electronic journal (`kassa_core::journal`).
//!
//! `verify` recomputes every register's chain and every signature with the public keys the
//! database holds (no keyring): exit 0 with a one-line summary, exit 1 naming the first entry
//! that does not verify and why. `list` reads entries by local date. `public-key` prints the
//! register's public key as PEM, what the shop hands the tax office (creating the key on first
//! use, which needs the keyring).

use crate::station::{store_failure, Station};
use crate::Failure;
use kassa_core::journal::{Entry, Kind};
use kassa_core::store::JournalFilter;
use std::io::Write;
use std::path::Path;

pub fn verify(dir: &Path) -> Result<(), Failure> {
    let station = Station::open_without_reconciling(dir)?;
    match station.log.verify_journal().map_err(store_failure)? {
        Ok(registers) if registers.is_empty() => {
            println!("journal verified: no entries yet");
            Ok(())
        }
        Ok(registers) => {
            let parts: Vec<String> = registers
                .iter()
                .map(|r| {
                    format!(
                        "register {}: {} entries, {} signed receipts{}, last hash {}",
                        r.register_id,
                        r.entries,
                        r.signed,
                        if r.key_versions.is_empty() {
                            String::new()
                        } else {
                            format!(" (key version {})", r.key_versions.join(", "))
                        },
                        &r.last_hash[..16]
                    )
                })
                .collect();
            println!("journal verified: {}", parts.join("; "));
            Ok(())
        }
        Err(failure) => Err(Failure::Check(format!(
            "the journal does not verify: {failure}"
        ))),
    }
}

/// A `YYYY-MM-DD` argument.
fn date(flag: &str, text: &str) -> Result<String, Failure> {
    kassa_core::time::parse_utc(text)
        .ok()
        .filter(|_| text.len() == 10)
        .map(|_| text.to_string())
        .ok_or_else(|| Failure::Invalid(format!("{flag}: {text:?} is not a date (YYYY-MM-DD)")))
}

/// An entry as `--json` writes it: every column, the body as JSON (not a string).
fn entry_json(e: &Entry) -> serde_json::Value {
    let mut v = serde_json::to_value(e).expect("an entry serializes");
    if let Ok(body) = e.body_json() {
        v["body"] = body;
    }
    v["basic_id"] = e.kind.basic_id().into();
    v
}

fn amount(e: &Entry) -> String {
    let currency = e
        .body_json()
        .ok()
        .and_then(|b| b["currency"].as_str().map(str::to_string))
        .unwrap_or_default();
    match e.gross_minor.or_else(|| {
        (e.kind == Kind::Copy || e.kind == Kind::Void)
            .then(|| e.body_json().ok())
            .flatten()
            .and_then(|b| b["gross"].as_i64().or(b["total"]["gross"].as_i64()))
    }) {
        Some(g) => format!("{} {currency}", crate::sessions_cmd::amount(&currency, g)),
        None => String::new(),
    }
}

pub fn list(dir: &Path, from: Option<&str>, to: Option<&str>, json: bool) -> Result<(), Failure> {
    let filter = JournalFilter {
        from_date: from.map(|d| date("--from", d)).transpose()?,
        to_date: to.map(|d| date("--to", d)).transpose()?,
        ..Default::default()
    };
    let station = Station::open_without_reconciling(dir)?;
    let out = std::io::stdout();
    let mut out = out.lock();
    let write_err = |e: std::io::Error| Failure::System(format!("cannot write the list: {e}"));
    if json {
        // One array, written entry by entry: a year of a busy till is never held in memory.
        write!(out, "[").map_err(write_err)?;
        let mut first = true;
        station
            .log
            .journal_each(&filter, |e| {
                let sep = if first { "\n" } else { ",\n" };
                first = false;
                let _ = write!(out, "{sep}{}", entry_json(&e));
                Ok(())
            })
            .map_err(store_failure)?;
        writeln!(out, "\n]").map_err(write_err)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>6}  {:<10} {:<8}  {:<15}  {:<5}  {:>8}  {:>16}  session",
        "seq", "date", "time", "kind", "code", "receipt", "amount"
    )
    .map_err(write_err)?;
    let n = station
        .log
        .journal_each(&filter, |e| {
            let _ = writeln!(
                out,
                "{:>6}  {:<10} {:<8}  {:<15}  {:<5}  {:>8}  {:>16}  {}",
                e.seq,
                e.local_date,
                e.local_time,
                e.kind.as_str(),
                e.event_code,
                e.nr.map(|n| n.to_string()).unwrap_or_default(),
                amount(&e),
                e.session_id.as_deref().unwrap_or("")
            );
            Ok(())
        })
        .map_err(store_failure)?;
    if n == 0 {
        writeln!(out, "no entries").map_err(write_err)?;
    }
    Ok(())
}

pub fn public_key(dir: &Path) -> Result<(), Failure> {
    let mut station = Station::open_without_reconciling(dir)?;
    let signer = station
        .log
        .signer(kassa_core::time::now_millis())
        .map_err(store_failure)?;
    eprintln!(
        "register {}, key version {} (RSA 1024, SHA-1, PKCS#1 v1.5):",
        signer.register_id(),
        signer.key_version()
    );
    print!("{}", signer.public_key_pem());
    Ok(())
}
