//! Credentials in the operating system's keyring, and the [`Secret`] type that carries them.
//!
//! Entries live under service `kassa` with user `<provider>/<profile>/<field>`, e.g.
//! `dintero/live/client_secret`, so an admin can find them with `secret-tool search service
//! kassa` or Keychain Access. On Linux the store is the Secret Service (gnome-keyring, KWallet)
//! chosen explicitly, so the keyring crate can never fall back to an in-memory store; on macOS
//! the Keychain and on Windows the Credential Manager.
//!
//! Not for: non-secret settings (account ids, URLs); those live in Kassa's settings file.

use std::fmt;

/// The keyring service name of every Kassa entry.
pub const SERVICE: &str = "kassa";

/// A secret value. Prints as `<redacted>`, is not `Serialize`, and is read with
/// [`Secret::expose`] only where a request is signed or authenticated.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself. Call this only to put it into the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Which credential: provider, profile (`test`/`live`) and field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialKey {
    pub provider: String,
    pub profile: String,
    pub field: String,
}

impl CredentialKey {
    pub fn new(provider: &str, profile: &str, field: &str) -> CredentialKey {
        CredentialKey {
            provider: provider.into(),
            profile: profile.into(),
            field: field.into(),
        }
    }
    /// The keyring "user" (account) name: `provider/profile/field`.
    pub fn user(&self) -> String {
        format!("{}/{}/{}", self.provider, self.profile, self.field)
    }
}

/// Why the keyring could not do what was asked. No variant ever holds a secret value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no usable OS keyring: {detail}. On Linux Kassa needs a D-Bus session with a Secret \
         Service (gnome-keyring or KWallet): log in to a desktop session, or start one with \
         `dbus-run-session` and `gnome-keyring-daemon --unlock --components=secrets`"
    )]
    NoKeyring { detail: String },
    #[error("the OS keyring is locked: {detail}. Unlock it (log in to the desktop session) and try again")]
    Locked { detail: String },
    #[error("the OS keyring refused access: {detail}. Allow Kassa to use the keyring (or answer the keyring's prompt) and try again")]
    Denied { detail: String },
    #[error("no credential {user} in the OS keyring (set it with `kassa-cli credentials set`)", user = .0.user())]
    Missing(CredentialKey),
    #[error("the OS keyring failed: {detail}")]
    Other { detail: String },
}

/// Where secrets are kept. The real one is [`OsKeyring`]; unit tests elsewhere may use their own.
pub trait SecretStore: Send + Sync {
    fn get(&self, key: &CredentialKey) -> Result<Secret, SecretError>;
    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<(), SecretError>;
    fn delete(&self, key: &CredentialKey) -> Result<(), SecretError>;
    /// Whether a value is stored (without reading it out to the caller).
    fn is_set(&self, key: &CredentialKey) -> Result<bool, SecretError> {
        match self.get(key) {
            Ok(_) => Ok(true),
            Err(SecretError::Missing(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The operating system's keyring.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

impl OsKeyring {
    fn entry(&self, key: &CredentialKey) -> Result<keyring::Entry, SecretError> {
        let user = key.user();
        #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
        {
            // Explicitly the Secret Service: never keyring's mock or a kernel-only store.
            let cred = keyring::secret_service::SsCredential::new_with_target(None, SERVICE, &user)
                .map_err(|e| map_error(e, key))?;
            Ok(keyring::Entry::new_with_credential(Box::new(cred)))
        }
        #[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
        {
            keyring::Entry::new(SERVICE, &user).map_err(|e| map_error(e, key))
        }
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, key: &CredentialKey) -> Result<Secret, SecretError> {
        self.entry(key)?
            .get_password()
            .map(Secret)
            .map_err(|e| map_error(e, key))
    }

    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<(), SecretError> {
        self.entry(key)?
            .set_password(secret.expose())
            .map_err(|e| map_error(e, key))
    }

    fn delete(&self, key: &CredentialKey) -> Result<(), SecretError> {
        self.entry(key)?
            .delete_credential()
            .map_err(|e| map_error(e, key))
    }
}

fn map_error(e: keyring::Error, key: &CredentialKey) -> SecretError {
    match e {
        keyring::Error::NoEntry => SecretError::Missing(key.clone()),
        keyring::Error::PlatformFailure(inner) => {
            let detail = inner.to_string();
            if detail.contains("locked") || detail.contains("Locked") {
                SecretError::Locked { detail }
            } else {
                SecretError::NoKeyring { detail }
            }
        }
        keyring::Error::NoStorageAccess(inner) => {
            let detail = inner.to_string();
            let lower = detail.to_lowercase();
            if lower.contains("denied")
                || lower.contains("dismissed")
                || lower.contains("permission")
            {
                SecretError::Denied { detail }
            } else {
                // gnome-keyring with no unlocked collection answers "no result found": there is
                // nothing unlocked to store into, which staff fix like a locked keyring.
                SecretError::Locked { detail }
            }
        }
        // The bytes of a badly encoded entry are a secret: never put them in the message.
        keyring::Error::BadEncoding(_) => SecretError::Other {
            detail: format!("the entry {} is not valid UTF-8", key.user()),
        },
        other => SecretError::Other {
            detail: other.to_string(),
        },
    }
}

/// A keyring in memory, for the core's own tests (the journal's signing key of a test session
/// log); the real parts are tested through [`OsKeyring`] under `make test`. Behind the
/// `test-support` feature: a shell using it would lose the journal's key at exit.
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod memory {
    use super::*;
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex};

    #[derive(Default)]
    pub struct MemoryKeyring(Mutex<HashMap<String, Secret>>);

    impl SecretStore for MemoryKeyring {
        fn get(&self, key: &CredentialKey) -> Result<Secret, SecretError> {
            self.0
                .lock()
                .unwrap()
                .get(&key.user())
                .cloned()
                .ok_or_else(|| SecretError::Missing(key.clone()))
        }
        fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<(), SecretError> {
            self.0.lock().unwrap().insert(key.user(), secret.clone());
            Ok(())
        }
        fn delete(&self, key: &CredentialKey) -> Result<(), SecretError> {
            self.0
                .lock()
                .unwrap()
                .remove(&key.user())
                .map(|_| ())
                .ok_or_else(|| SecretError::Missing(key.clone()))
        }
    }

    /// One for the whole test binary: a session log reopened in a test finds its key again.
    pub fn shared() -> Arc<dyn SecretStore> {
        static SHARED: LazyLock<Arc<MemoryKeyring>> = LazyLock::new(Arc::default);
        SHARED.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_redact_themselves() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn keyring_failures_map_to_distinct_errors() {
        let key = CredentialKey::new("dintero", "test", "client_secret");
        let boxed = |m: &str| -> Box<dyn std::error::Error + Send + Sync> { m.to_string().into() };
        assert!(matches!(
            map_error(keyring::Error::NoEntry, &key),
            SecretError::Missing(_)
        ));
        assert!(matches!(
            map_error(
                keyring::Error::NoStorageAccess(boxed("Secret Service: no result found")),
                &key
            ),
            SecretError::Locked { .. }
        ));
        assert!(matches!(
            map_error(
                keyring::Error::NoStorageAccess(boxed("prompt dismissed by user")),
                &key
            ),
            SecretError::Denied { .. }
        ));
        assert!(matches!(
            map_error(
                keyring::Error::PlatformFailure(boxed("ServiceUnknown: org.freedesktop.secrets")),
                &key
            ),
            SecretError::NoKeyring { .. }
        ));
        let bad =
            map_error(keyring::Error::BadEncoding(b"s3cret-bytes".to_vec()), &key).to_string();
        assert!(!bad.contains("s3cret"), "{bad}");
    }

    #[test]
    fn entry_names_are_documented_ones() {
        assert_eq!(
            CredentialKey::new("dintero", "live", "client_secret").user(),
            "dintero/live/client_secret"
        );
    }

    /// Proves the test harness's keyring works: a throwaway secret through the real Secret
    /// Service (gnome-keyring in a private D-Bus session).
    #[test]
    #[ignore = "needs the keyring harness: run through `make test`"]
    fn round_trip_through_the_os_keyring() {
        let store = OsKeyring;
        let key = CredentialKey::new(
            "selftest",
            "test",
            &format!("throwaway-{}", std::process::id()),
        );
        let secret = Secret::new(format!("s3cret-{}", std::process::id()));
        store.set(&key, &secret).expect("set in the OS keyring");
        assert_eq!(
            store.get(&key).expect("read back").expose(),
            secret.expose()
        );
        assert!(store.is_set(&key).unwrap());
        store.delete(&key).expect("delete");
        assert!(matches!(store.get(&key), Err(SecretError::Missing(_))));
        assert!(!store.is_set(&key).unwrap());
    }
}
