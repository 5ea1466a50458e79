//! `kassa-cli sessions`, `session` and `export`: reading the session log.

use crate::station::{store_failure, Station};
use crate::Failure;
use kassa_core::session::{SessionId, Status};
use kassa_core::store::{
    authorization_due, Filter, OperationRecord, SessionRecord, EXPIRY_WARNING_MS,
};
use kassa_core::time::{format_rfc3339, now_millis, parse_utc};
use std::path::Path;

/// The filters `sessions` and `export` share.
#[derive(clap::Args, Debug, Default)]
pub struct FilterArgs {
    /// Only sessions with this status (creating, open, paid, cancelled, expired, failed,
    /// unknown, needs_review).
    #[arg(long)]
    pub status: Option<String>,
    /// Only this provider (demo, dintero, …).
    #[arg(long)]
    pub provider: Option<String>,
    /// Created at or after this UTC time (2026-11-21 or 2026-11-21T18:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Created before this UTC time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Text in the merchant reference or the provider's session id.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
}

impl FilterArgs {
    fn filter(&self) -> Result<Filter, Failure> {
        Ok(Filter {
            status: self
                .status
                .as_deref()
                .map(Status::parse)
                .transpose()
                .map_err(|e| Failure::Invalid(format!("--status: {e}")))?,
            provider: self.provider.clone(),
            since: self
                .since
                .as_deref()
                .map(parse_utc)
                .transpose()
                .map_err(|e| Failure::Invalid(format!("--since: {e}")))?,
            until: self
                .until
                .as_deref()
                .map(parse_utc)
                .transpose()
                .map_err(|e| Failure::Invalid(format!("--until: {e}")))?,
            search: self.search.clone(),
        })
    }
}

/// A logged amount in major units (`299.90`), or minor units for an unknown currency.
pub fn amount(currency: &str, minor: i64) -> String {
    kassa_core::Currency::from_code(currency)
        .map(|c| c.format_plain(minor))
        .unwrap_or_else(|| minor.to_string())
}

pub fn list(
    dir: &Path,
    f: &FilterArgs,
    limit: u32,
    after: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    let filter = f.filter()?;
    if let Some(a) = after {
        SessionId::parse(a).map_err(|e| Failure::Invalid(format!("--after: {e}")))?;
    }
    if !(1..=10_000).contains(&limit) {
        return Err(Failure::Invalid(
            "--limit must be between 1 and 10000".into(),
        ));
    }
    let station = Station::open(dir)?;
    let rows = station
        .log
        .list(&filter, after, limit)
        .map_err(store_failure)?;
    if json {
        let out = serde_json::to_string_pretty(&rows)
            .map_err(|e| Failure::System(format!("cannot write JSON: {e}")))?;
        println!("{out}");
        return Ok(());
    }
    if rows.is_empty() {
        println!("no sessions");
        return Ok(());
    }
    println!(
        "{:<24}  {:<36}  {:<9}  {:<12}  {:>12} {:<3}  reference",
        "created (UTC)", "id", "provider", "status", "amount", ""
    );
    let now = now_millis();
    for s in &rows {
        println!(
            "{:<24}  {:<36}  {:<9}  {:<12}  {:>12} {:<3}  {}",
            format_rfc3339(s.created_at),
            s.id,
            s.provider,
            s.status.as_str(),
            amount(&s.currency, s.gross_minor),
            s.currency,
            s.merchant_reference
        );
        if s.status == Status::Paid {
            let ops = station.log.operations(&s.id).map_err(store_failure)?;
            if let Some(w) = capture_warning(s, &ops, now) {
                println!("  {w}");
            }
        }
    }
    if rows.len() == limit as usize {
        let last = &rows[rows.len() - 1].id;
        println!("(more: --after {last})");
    }
    Ok(())
}

/// "Authorized, not captured" for a paid sale staff must capture, with when its authorization
/// lapses as the provider's record said, loudly when that is within two days
/// ([`kassa_core::store::authorization_due`]); `None` when nothing is due.
fn capture_warning(s: &SessionRecord, ops: &[OperationRecord], now: i64) -> Option<String> {
    let due = authorization_due(s, ops, now);
    if !due.capture_due {
        return None;
    }
    let capture = format!("kassa-cli capture {}", s.id);
    Some(match s.authorization_expires_at {
        Some(t) if due.expires_soon && t <= now => format!(
            "WARNING: authorized, not captured, and the authorization lapsed at {} by {}'s \
             record: capture now ({capture}) or check {} before handing anything over",
            format_rfc3339(t),
            s.provider,
            s.provider
        ),
        Some(t) if due.expires_soon => format!(
            "WARNING: authorized, not captured; the authorization lapses at {} (within {} \
             days): capture it now ({capture})",
            format_rfc3339(t),
            EXPIRY_WARNING_MS / 86_400_000
        ),
        Some(t) => format!(
            "authorized, not captured: capture before {} ({capture})",
            format_rfc3339(t)
        ),
        None => format!(
            "authorized, not captured; when the authorization lapses is not known yet \
             ({capture})"
        ),
    })
}

pub fn show(dir: &Path, id: &str, json: bool) -> Result<(), Failure> {
    SessionId::parse(id).map_err(Failure::Invalid)?;
    let station = Station::open(dir)?;
    let (s, events) = station.log.get(id).map_err(store_failure)?;
    let ops = station.log.operations(id).map_err(store_failure)?;
    let money = kassa_core::store::money_of(&ops);
    if json {
        let mut v = serde_json::to_value(&s).expect("a session serializes");
        v["order"] = serde_json::from_str(&s.order_json).unwrap_or(serde_json::Value::Null);
        // The session's own events here; each operation's with the operation.
        let (of_ops, own): (Vec<_>, Vec<_>) = events.iter().partition(|e| e.operation_id.is_some());
        v["events"] = serde_json::to_value(&own).expect("events serialize");
        v["captured_amount"] = money.captured.into();
        v["refunded_amount"] = money.refunded.into();
        let due = authorization_due(&s, &ops, now_millis());
        v["capture_due"] = due.capture_due.into();
        v["expires_soon"] = due.expires_soon.into();
        v["operations"] = ops
            .iter()
            .map(|o| {
                let mut j = crate::operations_cmd::operation_json(o);
                j["events"] = of_ops
                    .iter()
                    .filter(|e| e.operation_id.as_deref() == Some(&o.id))
                    .map(|e| serde_json::json!({"at": format_rfc3339(e.at), "detail": e.detail}))
                    .collect();
                j
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
        return Ok(());
    }
    println!("session    {}", s.id);
    println!(
        "provider   {} ({}){}",
        s.provider,
        s.profile,
        if s.demo { ", demo: no real money" } else { "" }
    );
    println!(
        "provider id {}",
        s.provider_session_id.as_deref().unwrap_or("-")
    );
    println!("reference  {}", s.merchant_reference);
    println!(
        "amount     {} {} (net {}, VAT {})",
        amount(&s.currency, s.gross_minor),
        s.currency,
        amount(&s.currency, s.net_minor),
        amount(&s.currency, s.vat_minor)
    );
    println!("status     {}", s.status);
    println!("created    {}", format_rfc3339(s.created_at));
    println!("updated    {}", format_rfc3339(s.updated_at));
    if let Some(t) = s.expires_at {
        println!("expires    {}", format_rfc3339(t));
    }
    if let Some(u) = &s.checkout_url {
        println!("url        {u}");
    }
    if let Some(e) = &s.last_error {
        println!("last error {e}");
    }
    if let Some(p) = s.capture_policy {
        println!("capture    {}", p.as_str());
    }
    if let Some(w) = capture_warning(&s, &ops, now_millis()) {
        println!("           {w}");
    }
    if !ops.is_empty() {
        println!(
            "captured   {} {c}, refunded {} {c}",
            amount(&s.currency, money.captured),
            amount(&s.currency, money.refunded),
            c = s.currency
        );
        println!("operations:");
        for o in &ops {
            println!(
                "  {}  {:<15} {:>12} {:<3}  {:<9} {}{}",
                format_rfc3339(o.created_at),
                o.kind.as_str(),
                amount(&s.currency, o.amount),
                s.currency,
                o.state.as_str(),
                o.id,
                o.provider_reference
                    .as_deref()
                    .map(|r| format!(" (provider: {r})"))
                    .unwrap_or_default()
            );
        }
    }
    println!("events:");
    for e in &events {
        println!(
            "  {}  {:<16} {:<12} {}",
            format_rfc3339(e.at),
            e.kind,
            e.status.map(|s| s.as_str()).unwrap_or(""),
            e.detail
        );
    }
    Ok(())
}

pub fn export(dir: &Path, csv: &str, f: &FilterArgs) -> Result<(), Failure> {
    let filter = f.filter()?;
    let station = Station::open(dir)?;
    let n = if csv == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        station
            .log
            .export_csv(&filter, &mut out)
            .map_err(store_failure)?
    } else {
        // Write beside the target and rename, so a failed export never leaves half a file.
        let tmp = format!("{csv}.part");
        let file = std::fs::File::create(&tmp)
            .map_err(|e| Failure::System(format!("cannot write {csv}: {e}")))?;
        let mut out = std::io::BufWriter::new(file);
        let n = station.log.export_csv(&filter, &mut out).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            store_failure(e)
        })?;
        drop(out);
        std::fs::rename(&tmp, csv)
            .map_err(|e| Failure::System(format!("cannot write {csv}: {e}")))?;
        n
    };
    eprintln!("exported {n} sessions");
    Ok(())
}
