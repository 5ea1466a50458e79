//! Diagnostic log lines on standard error, for support and for the secrets audit of the test
//! suite. Off unless asked for: `KASSA_LOG` (or `RUST_LOG`) = `error`, `warn`, `info`,
//! `debug` or `trace`; a `target=level` directive counts as its level (one global level is
//! all a till needs). Kassa's own lines:
//!
//! - `info`: a checkout session's steps (intent, created, failed, reconciled); in the desktop
//!   app, each start of the counter's page (its READY line) and each fresh page process;
//! - `debug`: every provider request: method, URL without its query, status, size, time;
//! - `trace`: the request's header *names* and body size.
//!
//! No line holds a header value, a request or response body, or a URL query: secrets travel
//! only in headers and bodies. The libraries Kassa uses (rustls, reqwest) log through the same
//! facade at the same level.

use log::{LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "{} {:5} {}: {}",
                crate::time::format_rfc3339(crate::time::now_millis()),
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// The level a `KASSA_LOG`/`RUST_LOG` value asks for (`Off` when it names none).
pub fn level_of(spec: &str) -> LevelFilter {
    spec.split(',')
        .filter_map(|d| {
            let level = d.rsplit('=').next().unwrap_or(d).trim();
            level.parse::<LevelFilter>().ok()
        })
        .max()
        .unwrap_or(LevelFilter::Off)
}

/// Installs the logger at the level the environment asks for. Call once, first thing in
/// `main`; later calls do nothing.
pub fn init_from_env() {
    let spec = std::env::var("KASSA_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_default();
    let level = level_of(&spec);
    if level != LevelFilter::Off && log::set_logger(&Stderr).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_from_directives() {
        assert_eq!(level_of("trace"), LevelFilter::Trace);
        assert_eq!(level_of("kassa=debug"), LevelFilter::Debug);
        assert_eq!(level_of("warn,kassa_core=info"), LevelFilter::Info);
        assert_eq!(level_of(""), LevelFilter::Off);
        assert_eq!(level_of("loud"), LevelFilter::Off);
    }
}
