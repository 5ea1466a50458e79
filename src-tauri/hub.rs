//! The shop's hub on the desktop: the sender that pushes this till's outbox in the background
//! (one thread, with the sender's backoff, started only when `hub.url` is set), what it last saw
//! (`HubLink`), and the header's indicator (`hub_status`): connected, N waiting, or
//! unreachable since a time. Reading the indicator costs one count over the outbox in SQLite
//! and no connection to the hub: the sender's last round says whether the hub answers.
//! The History screen's Whole shop (`shop_history`) reads the hub when asked, on a connection
//! of its own and without holding the till: this till's own history never waits for the hub.

use kassa_core::code::Code;
use kassa_core::secrets::OsKeyring;
use kassa_core::settings::Settings;
use kassa_core::till::TillError;
use kassa_core::time::{format_rfc3339, now_millis};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// What the background sender last saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubLink {
    /// Whether a sender runs (none: the app started without `hub.url`, or in tests).
    pub running: bool,
    /// The last round reached the hub.
    pub connected: Option<bool>,
    /// When the hub stopped answering (Unix ms), while it does not.
    pub unreachable_since_ms: Option<i64>,
    /// Why the last round failed (for the indicator's tooltip).
    pub error: Option<String>,
}

impl HubLink {
    /// Folds in one round of the sender at `now`: a failure keeps the time of the first one.
    pub fn round(&mut self, ok: Result<(), String>, now: i64) {
        match ok {
            Ok(()) => {
                self.connected = Some(true);
                self.unreachable_since_ms = None;
                self.error = None;
            }
            Err(e) => {
                self.connected = Some(false);
                self.unreachable_since_ms.get_or_insert(now);
                self.error = Some(e);
            }
        }
    }
}

/// The header's indicator. Nothing is shown when `configured` is false.
#[derive(Debug, Clone, Serialize)]
pub struct HubStatus {
    pub configured: bool,
    /// `null`: no round has finished yet (or no sender runs).
    pub connected: Option<bool>,
    /// Rows in this till's outbox that the hub has not acknowledged (sessions, operations and
    /// journal entries).
    pub waiting: i64,
    /// RFC 3339, while the hub does not answer.
    pub unreachable_since: Option<String>,
    pub error: Option<String>,
}

pub fn status(
    settings: &Settings,
    log: &kassa_core::store::SessionLog,
    link: &HubLink,
) -> Result<HubStatus, kassa_core::till::TillError> {
    let configured = settings.get("hub.url").ok().flatten().is_some();
    if !configured {
        return Ok(HubStatus {
            configured,
            connected: None,
            waiting: 0,
            unreachable_since: None,
            error: None,
        });
    }
    let p = log.outbox_pending()?;
    Ok(HubStatus {
        configured,
        connected: link.connected,
        waiting: p.sessions + p.operations + p.journal,
        unreachable_since: link.unreachable_since_ms.map(format_rfc3339),
        error: link.error.clone(),
    })
}

/// What a hub failure is to the till's screens: unreachable (it may come back) or refused.
pub fn till_error(e: kassa_hub::HubError) -> TillError {
    let code = if e.is_transient() {
        Code::HubUnreachable
    } else {
        Code::Hub
    };
    TillError::new(code, e.to_string())
}

/// The newest `limit` sessions of the shop from the hub (`settings` is a copy: the till is not
/// held while the hub answers).
pub fn shop_history(settings: &Settings, limit: i64) -> Result<kassa_hub::ShopHistory, TillError> {
    let hub = kassa_hub::Hub::from_settings(settings, &OsKeyring).map_err(till_error)?;
    kassa_hub::shop_history(&hub, settings, limit).map_err(till_error)
}

/// The shop-wide X from the hub, read by `who` in `zone`, laid out at the till's paper width.
pub fn shop_report(
    (who, zone, settings): (
        kassa_core::journal::OperatorStamp,
        kassa_core::journal::Zone,
        Settings,
    ),
) -> Result<kassa_core::till::ShopReportView, TillError> {
    let hub = kassa_hub::Hub::from_settings(&settings, &OsKeyring).map_err(till_error)?;
    let report = kassa_hub::shop_x(&hub, &zone, who).map_err(till_error)?;
    kassa_core::till::ShopReportView::new(report, &settings)
}

/// Starts the sender on its own thread when `dir`'s settings name a hub; it runs as long as
/// the app does. `hub.url` set later takes effect at the next start (as for `kassa-cli hub
/// run`). `products_changed` is called after a round replaced the product cache with the
/// hub's changed list (products saved on another till).
pub fn start_sender(
    dir: &Path,
    link: Arc<Mutex<HubLink>>,
    products_changed: impl Fn() + Send + 'static,
) {
    let configured = Settings::load(dir)
        .ok()
        .and_then(|s| s.get("hub.url").ok().flatten())
        .is_some();
    if !configured {
        return;
    }
    link.lock().unwrap().running = true;
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        let stop = AtomicBool::new(false);
        kassa_hub::Sender::new(&dir).run(&OsKeyring, &stop, |r| {
            if matches!(r, Ok(p) if p.products.is_some()) {
                products_changed();
            }
            let ok = match r {
                Ok(p) if p.refusals.is_empty() => Ok(()),
                Ok(p) => Err(format!(
                    "the hub refused register {} entry {}: {}",
                    p.refusals[0].register_id, p.refusals[0].seq, p.refusals[0].reason
                )),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = &ok {
                eprintln!("kassa: hub: {e}");
            }
            link.lock()
                .unwrap_or_else(|p| p.into_inner())
                .round(ok, now_millis());
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_since_is_the_first_failure_and_clears_when_the_hub_answers() {
        let mut link = HubLink::default();
        link.round(Err("refused".into()), 1_000);
        link.round(Err("refused".into()), 5_000);
        assert_eq!(
            (link.connected, link.unreachable_since_ms),
            (Some(false), Some(1_000))
        );
        link.round(Ok(()), 9_000);
        assert_eq!(link.connected, Some(true));
        assert_eq!((link.unreachable_since_ms, link.error), (None, None));
    }
}
