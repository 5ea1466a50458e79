//! `kassa-cli follow [--once]`: the core's one scheduler (`kassa_core::schedule`) following
//! every open session of this data directory headless, counter sales and links alike, those
//! this process made and those any other made (the session log is read again every few
//! seconds). A status read records what the provider says; a paid sale gets its receipt entry
//! in the journal then, exactly as at the counter.

use crate::station::Station;
use crate::Failure;
use kassa_core::checkout::{self, CheckoutError};
use kassa_core::schedule::{Asked, Due, Scheduler};
use kassa_core::store::SessionRecord;
use kassa_core::time::now_millis;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

/// How often the session log is read again for sessions other processes started.
const RESYNC_MS: i64 = 5_000;

pub fn follow(dir: &Path, once: bool, json: bool) -> Result<(), Failure> {
    let mut station = Station::open(dir)?;
    let mut scheduler = Scheduler::new();
    let open = open_sessions(&station)?;
    let mut left: HashSet<String> = open.iter().map(|s| s.id.clone()).collect();
    scheduler.sync(&open, now_millis());
    if !json {
        eprintln!(
            "kassa-cli: following {} open session(s){}",
            scheduler.len(),
            if once {
                ", once each"
            } else {
                " until interrupted"
            }
        );
    }
    let mut synced = now_millis();
    loop {
        let now = now_millis();
        for due in scheduler.due(now) {
            let (asked, session) = ask(&mut station, &due, now);
            scheduler.done(&due.id, asked, now_millis());
            if let Some(s) = session {
                // Every session once with --once; otherwise what is no longer plainly open.
                if once || s.status != kassa_core::session::Status::Open {
                    print(&s, json);
                }
            }
            left.remove(&due.id);
        }
        if once && (left.is_empty() || scheduler.is_empty()) {
            return Ok(());
        }
        if !once && now - synced >= RESYNC_MS {
            scheduler.sync(&open_sessions(&station)?, now);
            synced = now;
        }
        let wake = scheduler
            .next_due()
            .unwrap_or(now + RESYNC_MS)
            .min(synced + RESYNC_MS);
        let nap = (wake - now_millis()).clamp(10, RESYNC_MS);
        std::thread::sleep(Duration::from_millis(nap as u64));
    }
}

fn open_sessions(station: &Station) -> Result<Vec<SessionRecord>, Failure> {
    station
        .log
        .open_sessions()
        .map_err(crate::station::store_failure)
}

/// Asks the provider about one session: what the scheduler needs, and the session after.
fn ask(station: &mut Station, due: &Due, now: i64) -> (Asked, Option<SessionRecord>) {
    let provider = match station.provider(&due.provider, Some(&due.profile)) {
        Ok(p) => p,
        Err(Failure::Invalid(m) | Failure::System(m) | Failure::NotPaid(m) | Failure::Check(m)) => {
            eprintln!("kassa-cli: session {}: {m}", due.id);
            return (Asked::Failed, None);
        }
    };
    let result = checkout::refresh(&mut station.log, provider.as_ref(), &due.id, now, false);
    if let Err(e) = &result {
        match e {
            CheckoutError::Provider { error, .. } => {
                eprintln!("kassa-cli: session {}: {error} [{}]", due.id, error.code())
            }
            e => eprintln!("kassa-cli: session {}: {e}", due.id),
        }
    }
    (kassa_core::till::asked(&result), result.ok())
}

fn print(s: &SessionRecord, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "id": s.id,
                "provider": s.provider,
                "sale": s.sale,
                "currency": s.currency,
                "amount": s.gross_minor,
                "status": s.status,
            })
        );
    } else {
        println!(
            "{:<12} {}  {} {} {} ({})",
            s.status.to_string(),
            s.id,
            s.provider,
            crate::sessions_cmd::amount(&s.currency, s.gross_minor),
            s.currency,
            s.sale.as_str()
        );
    }
}
