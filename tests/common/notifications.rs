//! A desktop notification server for the E2E tests: owns `org.freedesktop.Notifications` on
//! the test's private session bus (`dbus-run-session` under `make test`) and records every
//! `Notify` call, so a test reads the summary and body the app really sent through the
//! notification plugin. One server for the whole test binary (the bus name can be owned once);
//! tests tell their notifications apart by what the body says.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A notification as the app sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub app_name: String,
    pub summary: String,
    pub body: String,
}

struct Server {
    seen: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut seen = self.seen.lock().unwrap();
        seen.push(Shown {
            app_name,
            summary,
            body,
        });
        seen.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("kassa-e2e".into(), "Kassa".into(), "1".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}

/// The notifications shown so far (starting the server on first use).
pub struct Notifications {
    seen: Arc<Mutex<Vec<Shown>>>,
    _bus: zbus::blocking::Connection,
}

impl Notifications {
    pub fn all(&self) -> Vec<Shown> {
        self.seen.lock().unwrap().clone()
    }
}

/// The one server of this test binary. Panics when the session bus is missing or another
/// notification daemon owns the name: the test would read nothing.
pub fn notifications() -> &'static Notifications {
    static SERVER: OnceLock<Notifications> = OnceLock::new();
    SERVER.get_or_init(|| {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let bus = zbus::blocking::connection::Builder::session()
            .and_then(|b| {
                b.name("org.freedesktop.Notifications")?.serve_at(
                    "/org/freedesktop/Notifications",
                    Server { seen: seen.clone() },
                )
            })
            .and_then(|b| b.build())
            .expect(
                "the E2E test owns org.freedesktop.Notifications on its private session bus \
                 (run it under dbus-run-session, as make test does)",
            );
        Notifications { seen, _bus: bus }
    })
}
