//! `kassa-cli follow [--once]`: the core's one scheduler (`kassa_core::schedule`) following
//! every open session of this data directory headless, counter sales and links alike, those
//! this process made and those any other made (what changed in the session log is read every
//! few seconds: `till::LogWatch`). A status read records what the provider says; a paid sale gets its receipt entry
//! in the journal then, exactly as at the counter.

use crate::station::Station;
use crate::Failure;
use kassa_core::checkout::{self, CheckoutError};
use kassa_core::schedule::{Asked, Due, Scheduler};
use kassa_core::store::SessionRecord;
use kassa_core::till::{LogWatch, RESYNC_MS};
use kassa_core::time::now_millis;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

pub fn follow(dir: &Path, once: bool, json: bool) -> Result<(), Failure> {
    let mut station = Station::open(dir)?;
    let mut scheduler = Scheduler::new();
    let mut watch = LogWatch::new();
    read(&mut watch, &station, &mut scheduler)?;
    if once {
        // Each open session now, those made in the last seconds too.
        scheduler.all_due_now(now_millis());
    }
    let mut left: HashSet<String> = scheduler.ids().map(str::to_string).collect();
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
            read(&mut watch, &station, &mut scheduler)?;
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

/// What changed in the session log since the last read (the first: every open session).
fn read(watch: &mut LogWatch, station: &Station, scheduler: &mut Scheduler) -> Result<(), Failure> {
    watch
        .read(&station.log, scheduler, now_millis())
        .map(drop)
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
