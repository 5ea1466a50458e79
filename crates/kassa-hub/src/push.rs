//! The till's side: push what the outbox holds, in order, until the hub has it all; and the
//! sender that does so in the background, backing off while the hub is unreachable.
//!
//! The till never waits for this: a sale commits to SQLite (with its outbox note) and is done;
//! the sender reads the outbox on its own connection. A push is idempotent end to end: if the
//! till dies after the hub committed and before the till recorded the acknowledgement, the
//! resend is skipped by the hub (identical journal entries, rows at the same position).

use crate::{receive, Delivery, Hub, HubError, Refusal};
use kassa_core::secrets::SecretStore;
use kassa_core::settings::Settings;
use kassa_core::store::SessionLog;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Rows read from the outbox per round trip.
const BATCH: i64 = 500;

/// What one push did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PushReport {
    pub journal: u64,
    pub sessions: u64,
    pub operations: u64,
    /// Journal entries the hub refused (the push stops at the first of each register).
    pub refusals: Vec<Refusal>,
    /// The background sender only: the product cache was replaced by the hub's changed list
    /// this round (its number of products).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products: Option<usize>,
}

/// Pushes until the outbox is empty or the hub refuses an entry, then tells the hub how many
/// rows still wait (`till_pushes`: what a shop-wide report says of this register's coverage).
pub fn push_once(
    log: &mut SessionLog,
    hub: &Hub,
    register_id: &str,
) -> Result<PushReport, HubError> {
    let mut conn = hub.connection()?;
    let report = push_batches(log, hub, &mut conn, register_id)?;
    let p = log.outbox_pending()?;
    let waiting = p.sessions + p.operations + p.journal;
    conn.execute(
        "INSERT INTO till_pushes (register_id, pushed_at, waiting) VALUES ($1, now(), $2)
         ON CONFLICT (register_id) DO UPDATE SET pushed_at = now(), waiting = EXCLUDED.waiting",
        &[&register_id, &waiting],
    )
    .map_err(|e| hub.named(e.into()))?;
    Ok(report)
}

fn push_batches(
    log: &mut SessionLog,
    hub: &Hub,
    conn: &mut postgres::Client,
    register_id: &str,
) -> Result<PushReport, HubError> {
    let mut report = PushReport::default();
    loop {
        let batch = log.outbox_batch(BATCH)?;
        if batch.is_empty() {
            return Ok(report);
        }
        let sent_journal = batch.journal.len();
        let delivery = Delivery {
            register_id: register_id.to_string(),
            sessions: batch.sessions,
            operations: batch.operations,
            journal: batch.journal,
            keys: batch.keys,
        };
        let ack = receive(conn, &delivery).map_err(|e| hub.named(e))?;
        log.outbox_acknowledge(
            batch.notes_upto,
            &ack.journal,
            kassa_core::time::now_millis(),
        )?;
        report.journal += ack.stored;
        report.sessions += delivery.sessions.len() as u64;
        report.operations += delivery.operations.len() as u64;
        if !ack.refusals.is_empty() {
            report.refusals = ack.refusals;
            return Ok(report);
        }
        if delivery.sessions.is_empty() && delivery.operations.is_empty() && sent_journal == 0 {
            return Ok(report);
        }
    }
}

/// What `kassa-cli hub sync` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub pushed: PushReport,
    /// Products in the cache after the pull (`None`: not pulled, because something of this
    /// till's is still unpushed or was refused: its own changes would be overwritten).
    pub products: Option<usize>,
}

/// One push, then the product list pulled into `products.json` when nothing waits.
pub fn sync(dir: &Path, secrets: &dyn SecretStore) -> Result<SyncReport, HubError> {
    let settings = Settings::load(dir).map_err(|e| HubError::BadUrl(e.to_string()))?;
    let hub = Hub::from_settings(&settings, secrets)?;
    let mut log = SessionLog::open_in(dir)?;
    let pushed = push_once(&mut log, &hub, &settings.register_id())?;
    let pending = log.outbox_pending()?;
    let products = if pushed.refusals.is_empty() && pending.journal == 0 {
        Some(crate::pull_products(&hub, dir)?)
    } else {
        None
    };
    Ok(SyncReport { pushed, products })
}

/// The background sender. It pushes as soon as the till commits something (it looks every
/// [`Sender::poll`], at SQLite's `data_version`, without reading a table), and at least every
/// [`Sender::interval`] even when nothing changed, so the hub hears the till is alive and the
/// product list is pulled when it changed. After a failure it waits 1 s, 2 s, 4 s… up to
/// `max_backoff` before the next try.
///
/// The hub's pool, with its password read once from the keyring, and the session log are kept
/// between rounds: one connection for the day instead of one a second (the hub's CPU per round
/// is ~0.3 ms on a kept connection, ~10 ms on a new one, BENCHMARKS.md). Both are built again
/// after a failed round (a password changed in the keyring, the hub restarted) and when
/// `hub.url` or `hub.ca_file` changed in the settings.
pub struct Sender {
    pub dir: PathBuf,
    pub interval: Duration,
    pub poll: Duration,
    pub max_backoff: Duration,
}

/// What the sender last saw, for an indicator.
#[derive(Debug, Clone, Serialize)]
pub enum SenderState {
    Pushed(PushReport),
    Failed { error: String, retry_in_ms: u64 },
}

/// What a round keeps for the next one.
struct Kept {
    /// `hub.url` and `hub.ca_file` as the hub was built from them.
    built_from: (Option<String>, Option<String>),
    hub: Hub,
    log: SessionLog,
    register_id: String,
    /// The log's `data_version` when the last round began to read the outbox.
    version: i64,
}

impl Kept {
    /// Whether the till (or another process) committed since the last round began.
    fn changed(&self) -> bool {
        self.log
            .changed_elsewhere()
            .map_or(true, |v| v != self.version)
    }
}

impl Sender {
    pub fn new(dir: &Path) -> Sender {
        Sender {
            dir: dir.to_path_buf(),
            interval: Duration::from_secs(1),
            poll: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }

    /// Runs until `stop` is set; `report` hears every round (an indicator needs to know the hub
    /// answered even when nothing waited; `hub run` prints only the rounds that did something).
    pub fn run(
        &self,
        secrets: &dyn SecretStore,
        stop: &AtomicBool,
        mut report: impl FnMut(&Result<PushReport, HubError>),
    ) {
        let mut kept: Option<Kept> = None;
        let mut backoff = Duration::ZERO;
        while !stop.load(Ordering::Relaxed) {
            let result = self.round(secrets, &mut kept);
            let wait = match &result {
                Ok(r) if r.refusals.is_empty() => {
                    backoff = Duration::ZERO;
                    self.interval
                }
                // A refused entry will be refused again: retry slowly, it is reported.
                Ok(_) => self.max_backoff,
                Err(_) => {
                    kept = None;
                    backoff = (backoff * 2).clamp(Duration::from_secs(1), self.max_backoff);
                    backoff
                }
            };
            report(&result);
            // Until the next round is due: look for a commit by the till every `poll`, and
            // push at once when there is one (not while backing off or refused).
            let prompt = matches!(&result, Ok(r) if r.refusals.is_empty());
            let until = Instant::now() + wait;
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(self.poll.min(wait));
                if prompt && kept.as_ref().is_some_and(Kept::changed) {
                    break;
                }
            }
        }
    }

    /// One push, then, when all of this till's own changes are on the hub (as `sync`), the
    /// product list pulled if it changed, so products saved on another till reach this one.
    fn round(
        &self,
        secrets: &dyn SecretStore,
        kept: &mut Option<Kept>,
    ) -> Result<PushReport, HubError> {
        let settings = Settings::load(&self.dir).map_err(|e| HubError::BadUrl(e.to_string()))?;
        let text = |key: &str| settings.get(key).ok().flatten();
        let built_from = (text("hub.url"), text("hub.ca_file"));
        let register_id = settings.register_id();
        if !matches!(kept, Some(k) if k.built_from == built_from && k.register_id == register_id) {
            *kept = Some(Kept {
                built_from,
                hub: Hub::from_settings(&settings, secrets)?,
                log: SessionLog::open_in(&self.dir)?,
                register_id,
                version: 0,
            });
        }
        let k = kept.as_mut().expect("built above");
        k.version = k.log.changed_elsewhere()?;
        let mut report = push_once(&mut k.log, &k.hub, &k.register_id)?;
        if report.refusals.is_empty() && k.log.outbox_pending()?.journal == 0 {
            report.products = crate::pull_products_if_changed(&k.hub, &self.dir)?;
        }
        Ok(report)
    }
}
