//! Following one session while its checkout is shown ([`follow`]): polling the provider on
//! its own thread and database connection, backing off on errors, reporting each change.

use super::view::{view, Depth, SessionView};
use super::TillError;
use crate::checkout;
use crate::provider::Provider;
use crate::session::Status;
use crate::store::{SessionLog, Signer};
use crate::time::now_millis;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// How often an open session is polled (the "about every 2 s").
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// The longest wait between polls while the provider keeps failing.
pub const POLL_MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What [`follow`]'s owner can tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Ask the provider now (staff asked).
    Now,
    /// The checkout window reached the return URL (this one, with what the provider
    /// appended): the provider reads it ([`checkout::returned`]), then is asked.
    Returned(String),
    /// Stop following (the app closes, or another part took over).
    Stop,
}

/// Follows one session until it is final or `needs_review`: polls every [`POLL_INTERVAL`],
/// doubles the wait after each failed read (up to [`POLL_MAX_BACKOFF`]), asks at once on
/// [`Hint::Now`], and calls `on_change` with each new status (and with each failed read, as
/// `poll_error`). Uses its own connection to the session log, so a poll never waits for the
/// screens, and journals a payment with `signer`, the till's key ([`super::Till::signer`]),
/// so the keyring is asked once per process. Gives up polling two minutes after the
/// session's expiry if the provider cannot be reached; reconciliation picks it up at the next
/// start.
pub fn follow(
    dir: &Path,
    provider: Arc<dyn Provider>,
    id: &str,
    locale: &str,
    signer: Signer,
    hints: Receiver<Hint>,
    mut on_change: impl FnMut(SessionView),
) -> Result<(), TillError> {
    let mut log = SessionLog::open_in(dir)?;
    log.use_signer(signer);
    let caps = Some(provider.capabilities());
    let (first, _) = log.get(id)?;
    let mut last = first.status;
    let expires_at = first.expires_at;
    let mut delay = POLL_INTERVAL;
    loop {
        if last.is_final() || last == Status::NeedsReview {
            return Ok(());
        }
        let returned = match hints.recv_timeout(delay) {
            Ok(Hint::Now) | Err(RecvTimeoutError::Timeout) => None,
            Ok(Hint::Returned(url)) => Some(url),
            Ok(Hint::Stop) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let now = now_millis();
        let result = match &returned {
            Some(url) => checkout::returned(&mut log, provider.as_ref(), id, url, now),
            None => checkout::refresh(&mut log, provider.as_ref(), id, now, false),
        };
        match result {
            Ok(s) => {
                delay = POLL_INTERVAL;
                if s.status != last {
                    last = s.status;
                    let (s, events) = log.get(id)?;
                    let ops = log.operations(id)?;
                    on_change(view(&s, &events, &ops, (locale, now), Depth::Live, caps));
                }
            }
            Err(e) => {
                let (s, events) = log.get(id)?;
                let ops = log.operations(id)?;
                let mut v = view(&s, &events, &ops, (locale, now), Depth::Live, caps);
                v.poll_error = Some(e.into());
                on_change(v);
                delay = (delay * 2).min(POLL_MAX_BACKOFF);
                if expires_at.is_some_and(|t| now > t + 120_000) {
                    return Ok(());
                }
            }
        }
    }
}
