//! `kassa-cli hub status|sync|run` and `sessions --shop`: this till and the shop's hub.
//!
//! Nothing here is needed to sell: a sale commits to this till's session log and its outbox;
//! `hub run` (or the desktop app) pushes in the background, `hub sync` now.

use crate::station::store_failure;
use crate::Failure;
use kassa_core::secrets::OsKeyring;
use kassa_core::settings::Settings;
use kassa_core::store::SessionLog;
use kassa_core::time::{format_rfc3339, now_millis};
use kassa_hub::{Hub, HubError};
use std::path::Path;
use std::sync::atomic::AtomicBool;

pub fn hub_failure(e: HubError) -> Failure {
    match e {
        HubError::NotConfigured | HubError::BadUrl(_) => Failure::Invalid(e.to_string()),
        HubError::Store(e) => store_failure(e),
        other => Failure::System(other.to_string()),
    }
}

fn hub(dir: &Path) -> Result<Hub, Failure> {
    let settings = Settings::load(dir).map_err(crate::config_cmd::settings_failure)?;
    Hub::from_settings(&settings, &OsKeyring).map_err(hub_failure)
}

/// `hub status`: what waits in this till's outbox (read offline) and whether the hub answers.
pub fn status(dir: &Path, json: bool) -> Result<(), Failure> {
    let settings = Settings::load(dir).map_err(crate::config_cmd::settings_failure)?;
    let url = settings.get("hub.url").ok().flatten();
    let log = SessionLog::open_in(dir).map_err(store_failure)?;
    let pending = log.outbox_pending().map_err(store_failure)?;
    let now = now_millis();
    let lag_ms = pending.oldest_ms.map(|t| (now - t).max(0)).unwrap_or(0);
    let connection = match &url {
        None => Err("no hub.url set".to_string()),
        Some(_) => Hub::from_settings(&settings, &OsKeyring)
            .and_then(|h| h.connection().map(|_| ()))
            .map_err(|e| e.to_string()),
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "url": url,
                "register_id": settings.register_id(),
                "connected": connection.is_ok(),
                "error": connection.as_ref().err(),
                "pending": {
                    "sessions": pending.sessions,
                    "operations": pending.operations,
                    "journal": pending.journal,
                },
                "last_push": pending.last_push_ms.map(format_rfc3339),
                "lag_ms": lag_ms,
            })
        );
        return Ok(());
    }
    println!(
        "hub       {}",
        url.as_deref().unwrap_or("(none: set hub.url)")
    );
    match &connection {
        Ok(()) => println!("connected yes"),
        Err(e) => println!("connected no: {e}"),
    }
    println!(
        "pending   {} sessions, {} operations, {} journal entries",
        pending.sessions, pending.operations, pending.journal
    );
    println!(
        "last push {}",
        pending
            .last_push_ms
            .map(format_rfc3339)
            .unwrap_or_else(|| "never".into())
    );
    println!("lag       {:.1} s", lag_ms as f64 / 1000.0);
    Ok(())
}

/// `hub sync`: push now, then pull the product list.
pub fn sync(dir: &Path, json: bool) -> Result<(), Failure> {
    let report = kassa_hub::sync(dir, &OsKeyring).map_err(hub_failure)?;
    if json {
        println!("{}", serde_json::to_string(&report).expect("serializes"));
    } else {
        let p = &report.pushed;
        println!(
            "pushed {} journal entries, {} session rows, {} operation rows",
            p.journal, p.sessions, p.operations
        );
        match report.products {
            Some(n) => println!("products: {n} from the hub into products.json"),
            None => println!(
                "products: not pulled (this till's own changes are not all on the hub yet)"
            ),
        }
    }
    if let Some(r) = report.pushed.refusals.first() {
        return Err(Failure::Check(format!(
            "the hub refused register {} entry {}: {}",
            r.register_id, r.seq, r.reason
        )));
    }
    Ok(())
}

/// `hub run`: the sender in the foreground, until killed.
pub fn run(dir: &Path) -> Result<(), Failure> {
    hub(dir)?; // a missing or bad hub.url is an error now, not a retry forever
    let stop = AtomicBool::new(false);
    eprintln!("pushing to the hub every second (Ctrl-C to stop)");
    kassa_hub::Sender::new(dir).run(&OsKeyring, &stop, |r| match r {
        // A round with nothing to push is not news.
        Ok(p) if p.products.is_some() && p.refusals.is_empty() => eprintln!(
            "pushed {} journal entries, {} sessions, {} operations; the hub's product list \
             changed: {} products in products.json",
            p.journal,
            p.sessions,
            p.operations,
            p.products.unwrap_or(0)
        ),
        Ok(p)
            if p.journal == 0 && p.sessions == 0 && p.operations == 0 && p.refusals.is_empty() => {}
        Ok(p) if p.refusals.is_empty() => eprintln!(
            "pushed {} journal entries, {} sessions, {} operations",
            p.journal, p.sessions, p.operations
        ),
        Ok(p) => eprintln!(
            "the hub refused register {} entry {}: {}",
            p.refusals[0].register_id, p.refusals[0].seq, p.refusals[0].reason
        ),
        Err(e) => eprintln!("{e}"),
    });
    Ok(())
}

/// `sessions --shop`: every till's sessions, newest first, from the hub.
pub fn shop_sessions(dir: &Path, limit: u32, json: bool) -> Result<(), Failure> {
    let hub = hub(dir)?;
    let rows = kassa_hub::shop_sessions(&hub, limit.into()).map_err(hub_failure)?;
    if json {
        println!("{}", serde_json::to_string(&rows).expect("serializes"));
        return Ok(());
    }
    println!(
        "{:<10} {:<36} {:<12} {:>12} {:<4} {:<20} reference",
        "register", "id", "status", "amount", "", "created"
    );
    for s in rows {
        println!(
            "{:<10} {:<36} {:<12} {:>12} {:<4} {:<20} {}",
            s.register_id,
            s.id,
            s.status,
            crate::sessions_cmd::amount(&s.currency, s.amount),
            s.currency,
            format_rfc3339(s.created_ms),
            s.reference
        );
    }
    Ok(())
}
