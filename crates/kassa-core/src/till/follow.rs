//! Following every open session of the till in the background ([`follow_all`]): one thread
//! drives the one [`Scheduler`] (`crate::schedule`) over the session log's open sessions,
//! counter sales and links alike, those this app started and those another process (the CLI)
//! started, and across restarts. No thread, timer or poller per session.
//!
//! - [`LogWatch`] keeps the scheduler up to date with the session log, for `follow_all`,
//!   `kassa-cli follow` and the scheduler's bench alike: every [`RESYNC_MS`] (and at once on
//!   [`Hint::Sync`]) it reads only the sessions written since its last read, whichever process
//!   wrote them (`store::followed`: the change notes); every [`FULL_READ_MS`], or when the
//!   notes it needs were already pushed to the hub and deleted, it reads every open session
//!   again (ids, providers and times, never the orders).
//!
//! - Each due session is asked with [`checkout::refresh`], exactly as `kassa-cli follow` asks
//!   it, so a paid sale gets its receipt entry in the journal the same way.
//! - A change is reported once through `on_change` with the session's view: what the
//!   scheduler found, or what the session log says after another process (or this app's own
//!   commands) changed it.
//! - Staff opening a sale ([`Hint::Now`]) nudges it: asked at once and at the counter cadence
//!   for a minute. The checkout window reaching the return URL ([`Hint::Returned`]) lets the
//!   provider read that URL first ([`checkout::returned`]).

use super::view::{view, Depth, SessionView};
use super::TillError;
use crate::checkout::{self, CheckoutError};
use crate::provider::{ErrorKind, Provider};
use crate::schedule::{Asked, Due, Scheduler};
use crate::session::Status;
use crate::store::{SessionLog, SessionRecord, Signer, StoreError};
use crate::time::now_millis;
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// How often the session log is read for sessions started or changed elsewhere (only those
/// written since the last read).
pub const RESYNC_MS: i64 = 5_000;

/// How often every open session is read again, whatever the change notes say: a safety net
/// (a note is never lost, but a read every few minutes costs little).
pub const FULL_READ_MS: i64 = 5 * 60_000;

/// Keeps a [`Scheduler`] up to date with the session log (see the module doc).
#[derive(Debug, Default)]
pub struct LogWatch {
    /// The change note position read up to; None before the first read.
    position: Option<i64>,
    full_at: i64,
}

impl LogWatch {
    pub fn new() -> LogWatch {
        LogWatch::default()
    }

    /// Brings `scheduler` up to date with `log` at `now`: sessions new to it are followed
    /// (due at once), changed ones updated ([`Scheduler::follow`]), those no longer open
    /// forgotten. Returns the sessions the scheduler followed that left the open ones since the
    /// last read (paid, cancelled, … by another process or connection), each with the status
    /// the scheduler last saw; those whose end the scheduler saw itself ([`Scheduler::done`])
    /// it no longer follows, so they are not among them.
    pub fn read(
        &mut self,
        log: &SessionLog,
        scheduler: &mut Scheduler,
        now: i64,
    ) -> Result<Vec<(String, Status)>, StoreError> {
        if let Some(after) = self.position.filter(|_| now - self.full_at < FULL_READ_MS) {
            if let Some((changed, position)) = log.followed_changes(after)? {
                self.position = Some(position);
                let mut left = Vec::new();
                for s in &changed {
                    if s.is_followed() {
                        scheduler.follow(s, now);
                    } else if let Some(was) = scheduler.forget(&s.id) {
                        left.push((s.id.clone(), was));
                    }
                }
                return Ok(left);
            }
        }
        let (open, position) = log.followed_sessions()?;
        self.position = Some(position);
        self.full_at = now;
        Ok(scheduler.sync(&open, now))
    }
}

/// What the follower's owner can tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Staff opened session `id` (or asked "check now"): ask it at once and often for a while.
    Now(String),
    /// Session `id`'s checkout window reached the return URL (this one, with what the provider
    /// appended): the provider reads it ([`checkout::returned`]), then the session is asked.
    Returned(String, String),
    /// A session was started: read the session log again now.
    Sync,
    /// Stop following (the app closes).
    Stop,
}

/// What the follower needs from the till that runs it: provider clients (shared with the
/// screens, so the demo's in-process sandbox and cached tokens are the same) and the journal's
/// signing key (asked from the keyring once, when the first session is asked).
pub trait FollowSource: Send {
    fn provider(&mut self, name: &str, profile: &str) -> Result<Arc<dyn Provider>, TillError>;
    fn signer(&mut self) -> Result<Signer, TillError>;
    /// The shop's locale, for the amounts in the views.
    fn locale(&mut self) -> String;
}

/// The follower's state between wake-ups.
struct Follower<'a> {
    log: SessionLog,
    source: &'a mut dyn FollowSource,
    scheduler: Scheduler,
    watch: LogWatch,
    /// Return URLs the checkout windows reached, read at the session's next ask.
    returned: HashMap<String, String>,
    signed: bool,
}

/// Follows every open session of data directory `dir` until [`Hint::Stop`] (or the hint
/// channel closes), calling `on_change` with each session whose status changed. Uses its own
/// connection to the session log, so an ask never waits for the screens.
pub fn follow_all(
    dir: &Path,
    source: &mut dyn FollowSource,
    hints: Receiver<Hint>,
    mut on_change: impl FnMut(SessionView),
) -> Result<(), TillError> {
    let mut f = Follower {
        log: SessionLog::open_in(dir)?,
        source,
        scheduler: Scheduler::new(),
        watch: LogWatch::new(),
        returned: HashMap::new(),
        signed: false,
    };
    let mut synced = now_millis();
    f.resync(synced, &mut on_change)?;
    loop {
        for due in f.scheduler.due(now_millis()) {
            f.ask(&due, &mut on_change);
        }
        let now = now_millis();
        let wake = f
            .scheduler
            .next_due()
            .unwrap_or(synced + RESYNC_MS)
            .min(synced + RESYNC_MS);
        let nap = (wake - now).clamp(0, RESYNC_MS);
        let hint = match hints.recv_timeout(Duration::from_millis(nap as u64)) {
            Ok(h) => Some(h),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let now = now_millis();
        match hint {
            Some(Hint::Stop) => return Ok(()),
            Some(Hint::Sync) => {
                f.resync(now, &mut on_change)?;
                synced = now;
            }
            Some(Hint::Now(id)) => {
                f.resync(now, &mut on_change)?;
                synced = now;
                f.scheduler.nudge(&id, now);
            }
            Some(Hint::Returned(id, url)) => {
                f.returned.insert(id.clone(), url);
                f.resync(now, &mut on_change)?;
                synced = now;
                f.scheduler.nudge(&id, now);
            }
            None if now - synced >= RESYNC_MS => {
                f.resync(now, &mut on_change)?;
                synced = now;
            }
            None => {}
        }
    }
}

impl Follower<'_> {
    /// Reads what changed in the session log ([`LogWatch`]): new sessions are followed (due
    /// at once); those that left (paid by `kassa-cli follow`, cancelled on a screen…) are
    /// reported if their status is not the one last reported.
    fn resync(
        &mut self,
        now: i64,
        on_change: &mut impl FnMut(SessionView),
    ) -> Result<(), TillError> {
        let left = self.watch.read(&self.log, &mut self.scheduler, now)?;
        for (id, was) in left {
            self.returned.remove(&id);
            let (s, _) = self.log.get(&id)?;
            if s.status != was {
                on_change(self.view(&s));
            }
        }
        Ok(())
    }

    fn view(&mut self, s: &SessionRecord) -> SessionView {
        let locale = self.source.locale();
        let (events, ops) = match (self.log.get(&s.id), self.log.operations(&s.id)) {
            (Ok((_, events)), Ok(ops)) => (events, ops),
            _ => (Vec::new(), Vec::new()),
        };
        view(s, &events, &ops, (&locale, now_millis()), Depth::Live, None)
    }

    /// Asks one due session's provider and reports back to the scheduler.
    fn ask(&mut self, due: &Due, on_change: &mut impl FnMut(SessionView)) {
        let now = now_millis();
        let provider = match self.source.provider(&due.provider, &due.profile) {
            Ok(p) => p,
            Err(e) => {
                log::warn!(target: "kassa::follow", "session {}: {}", due.id, e.message);
                self.scheduler.done(&due.id, Asked::Failed, now_millis());
                return;
            }
        };
        if !self.signed {
            match self.source.signer() {
                Ok(signer) => {
                    self.log.use_signer(signer);
                    self.signed = true;
                }
                Err(e) => {
                    // A paid status cannot be journaled without the key: ask again later.
                    log::warn!(target: "kassa::follow", "the journal's key: {}", e.message);
                    self.scheduler.done(&due.id, Asked::Failed, now_millis());
                    return;
                }
            }
        }
        let result = match self.returned.remove(&due.id) {
            Some(url) => checkout::returned(&mut self.log, provider.as_ref(), &due.id, &url, now),
            None => checkout::refresh(&mut self.log, provider.as_ref(), &due.id, now, false),
        };
        let asked = asked(&result);
        // The status last seen, before `done` records this one (or forgets the session).
        let was = self.scheduler.status(&due.id);
        self.scheduler.done(&due.id, asked, now_millis());
        match result {
            Ok(s) => {
                if Some(s.status) != was {
                    on_change(self.view(&s));
                }
            }
            Err(e) => {
                log::warn!(target: "kassa::follow", "session {}: {e}", due.id);
                if let Ok((s, _)) = self.log.get(&due.id) {
                    let mut v = self.view(&s);
                    v.poll_error = Some(e.into());
                    on_change(v);
                }
            }
        }
    }
}

/// What a status read tells the scheduler: the status, a 429 with its `Retry-After`, or a
/// failure that backs the session off.
pub fn asked(result: &Result<SessionRecord, CheckoutError>) -> Asked {
    match result {
        Ok(s) => Asked::Status(s.status),
        Err(CheckoutError::Provider { error, .. }) => match error.kind {
            ErrorKind::RateLimited { retry_after } => Asked::RateLimited {
                retry_after_ms: retry_after.map(|s| s as i64 * 1000),
            },
            _ => Asked::Failed,
        },
        Err(_) => Asked::Failed,
    }
}
