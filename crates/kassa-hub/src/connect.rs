//! From `hub.url` and the keyring's password to connections: [`Hub`], a small pool.
//!
//! A till needs one connection for its sender and one for a command that reads the shop; the
//! pool keeps up to [`IDLE`] idle ones and opens more on demand. A connection whose socket
//! closed is dropped when handed back, so a restarted hub costs one failed attempt, not a
//! poisoned pool. Connecting gives up after [`CONNECT_TIMEOUT`]: the sender retries later, and
//! nothing at the counter waits for it.
//!
//! A hub on this machine may be reached in plaintext; any other only over TLS, verified
//! (`tls.rs`, [`HubTls`]): `sslmode` in `hub.url` decides, and a hub that does not offer TLS
//! is refused, never talked to in clear.

use crate::tls::HubTlsConnect;
use crate::HubError;
use kassa_core::secrets::{Secret, SecretError, SecretStore};
use kassa_core::settings::{self, HubTls, HubUrl, Settings};
use postgres::config::SslMode;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const IDLE: usize = 4;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The shop's hub: where it is, and its idle connections.
pub struct Hub {
    url: HubUrl,
    config: postgres::Config,
    /// `hub.ca_file`: the shop's own CA, trusted besides the platform's roots.
    ca_file: Option<PathBuf>,
    /// Built at the first TLS connection (it reads the root certificates and the CA file).
    tls: OnceLock<HubTlsConnect>,
    idle: Mutex<Vec<postgres::Client>>,
    migrated: Mutex<bool>,
}

/// A connection from the pool, returned to it when dropped.
pub struct Pooled<'a> {
    hub: &'a Hub,
    client: Option<postgres::Client>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        self.client.as_ref().expect("held until drop")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        self.client.as_mut().expect("held until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            if !c.is_closed() {
                let mut idle = self.hub.idle.lock().unwrap_or_else(|p| p.into_inner());
                if idle.len() < IDLE {
                    idle.push(c);
                }
            }
        }
    }
}

impl Hub {
    /// The hub of `url` with `password` (`None`: connect without one, for a hub that trusts
    /// local connections). Over TLS it trusts the platform's roots; [`Hub::with_ca_file`] adds
    /// the shop's own CA.
    pub fn new(url: HubUrl, password: Option<&Secret>) -> Hub {
        let mut config = postgres::Config::new();
        config
            .user(&url.user)
            .host(&url.host)
            .port(url.port)
            .dbname(&url.database)
            .application_name("kassa")
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            // tokio-postgres's default is `Prefer` (TLS if offered, else plaintext): Kassa
            // decides per hub instead, and never falls back.
            .ssl_mode(match url.tls {
                HubTls::Off => SslMode::Disable,
                HubTls::VerifyCa | HubTls::VerifyFull => SslMode::Require,
            });
        if let Some(addr) = url.hostaddr {
            config.hostaddr(addr);
        }
        if let Some(p) = password {
            config.password(p.expose());
        }
        Hub {
            url,
            config,
            ca_file: None,
            tls: OnceLock::new(),
            idle: Mutex::new(Vec::new()),
            migrated: Mutex::new(false),
        }
    }

    /// The hub this till's settings name, with its password from `secrets`
    /// (`hub/shop/password`).
    pub fn from_settings(s: &Settings, secrets: &dyn SecretStore) -> Result<Hub, HubError> {
        let text = s
            .get("hub.url")
            .ok()
            .flatten()
            .ok_or(HubError::NotConfigured)?;
        let url = HubUrl::parse(&text).map_err(|r| HubError::BadUrl(r.text))?;
        let key = settings::credential_key(s, "hub", "password");
        let password = match secrets.get(&key) {
            Ok(p) => Some(p),
            Err(SecretError::Missing(_)) => None,
            Err(e) => return Err(HubError::Keyring(e.to_string())),
        };
        let ca_file = s.get("hub.ca_file").ok().flatten().map(PathBuf::from);
        Ok(Hub::new(url, password.as_ref()).with_ca_file(ca_file))
    }

    /// Also trusts the CA certificates in `ca_file` (PEM) for the hub's certificate. The file
    /// is read at the first TLS connection; unreadable, it fails that connection (naming the
    /// file), never falling back to plaintext.
    pub fn with_ca_file(mut self, ca_file: Option<PathBuf>) -> Hub {
        self.ca_file = ca_file;
        self
    }

    /// The TLS mode this hub is reached with.
    pub fn tls(&self) -> HubTls {
        self.url.tls
    }

    /// `user@host:port/database`, for messages (never the password).
    pub fn target(&self) -> String {
        format!(
            "{}@{}:{}/{}",
            self.url.user, self.url.host, self.url.port, self.url.database
        )
    }

    /// A connection, its schema brought up to date on the first one.
    pub fn connection(&self) -> Result<Pooled<'_>, HubError> {
        let reused = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let client = match reused {
            Some(c) => c,
            None => self.connect()?,
        };
        let mut pooled = Pooled {
            hub: self,
            client: Some(client),
        };
        let mut migrated = self.migrated.lock().unwrap_or_else(|p| p.into_inner());
        if !*migrated {
            crate::schema::migrate(&mut pooled).map_err(|e| self.named(e))?;
            *migrated = true;
        }
        Ok(pooled)
    }

    fn connect(&self) -> Result<postgres::Client, HubError> {
        let client = match self.url.tls {
            HubTls::Off => self.config.connect(postgres::NoTls),
            _ => self.config.connect(self.tls_connect()?),
        };
        client.map_err(|e| self.connect_error(e))
    }

    fn tls_connect(&self) -> Result<HubTlsConnect, HubError> {
        if let Some(tls) = self.tls.get() {
            return Ok(tls.clone());
        }
        // Not cached when it fails: a CA file put right is used at the next try.
        let tls = HubTlsConnect::new(self.url.tls, self.ca_file.as_deref()).map_err(|detail| {
            HubError::Tls {
                target: self.target(),
                detail,
            }
        })?;
        Ok(self.tls.get_or_init(|| tls).clone())
    }

    fn connect_error(&self, e: postgres::Error) -> HubError {
        if let Some(detail) = self.tls_error(&e) {
            return HubError::Tls {
                target: self.target(),
                detail,
            };
        }
        let code = e.code().map(|c| c.code().to_string());
        match code.as_deref() {
            // invalid_password, and invalid_authorization_specification (no password given
            // where one is needed).
            Some("28P01") | Some("28000") => HubError::WrongPassword {
                target: self.target(),
                user: self.url.user.clone(),
            },
            Some(_) => HubError::Database(format!("{}: {e}", self.target())),
            None if e.to_string().contains("password missing") => HubError::WrongPassword {
                target: self.target(),
                user: self.url.user.clone(),
            },
            None => HubError::Unreachable {
                target: self.target(),
                detail: source_text(&e),
            },
        }
    }

    /// Names this hub in an error that did not know it.
    pub fn named(&self, e: HubError) -> HubError {
        match e {
            HubError::Unreachable { detail, .. } => HubError::Unreachable {
                target: self.target(),
                detail,
            },
            other => other,
        }
    }

    /// What a failed TLS handshake means, or `None` when `e` is not one.
    fn tls_error(&self, e: &postgres::Error) -> Option<String> {
        let host = format!("{}:{}", self.url.host, self.url.port);
        if let Some(tls) = kassa_core::http::rustls_cause(e) {
            return Some(kassa_core::http::tls_refusal(
                tls,
                &host,
                "a shop's own CA goes in hub.ca_file",
            ));
        }
        // tokio-postgres says no more than this about its TLS failures (its error kinds are
        // private); the cause is in its source.
        if !e.to_string().starts_with("error performing TLS handshake") {
            return None;
        }
        let cause = source_text(e);
        Some(if cause.contains("does not support TLS") {
            "it does not offer TLS, which this hub.url asks for (a hub elsewhere is always \
             reached over TLS; turn ssl on in the hub's postgresql.conf with a certificate, see \
             the README's \"Several tills\")"
                .to_string()
        } else {
            format!("the TLS handshake with {host} failed ({cause})")
        })
    }
}

/// The innermost cause of a client error (`error connecting to server: Connection refused`).
fn source_text(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}
