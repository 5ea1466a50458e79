//! The test suite's secrets audit: where emulators write down the secrets they hand out and
//! where the tests keep what the audit searches. Compiled into the app too (the demo's
//! emulator calls [`ledger`]), where both are no-ops: the variables are only set by `make test`.

use std::path::PathBuf;

/// When `KASSA_TEST_SECRETS` names a file, every credential an emulator is given and every API
/// access token it issues is appended to it, one per line, so that `scripts/secrets-scan.sh`
/// can check after the whole suite that none of them reached a database, a log, a config file
/// or captured output. The demo provider's emulator only ever holds the public demo account,
/// so nothing private can be written even in a shipped app.
pub fn ledger(secrets: &[&str]) {
    let Some(path) = std::env::var_os("KASSA_TEST_SECRETS") else {
        return;
    };
    let text: String = secrets
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| format!("{s}\n"))
        .collect();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut f) = file {
        use std::io::Write;
        let _ = f.write_all(text.as_bytes());
    }
}

/// Puts into the ledger ([`ledger`]) the journal signing keys the commands of a test created
/// in `data_dir` (their public keys' rows name the keyring entries; the test reads each private
/// key back from the suite's throwaway keyring), so the audit can prove no key reached a file or
/// output. Tests call it when they are done with a data directory; a no-op outside `make test`.
pub fn ledger_journal_keys(data_dir: &std::path::Path) {
    use kassa_core::secrets::SecretStore;
    if std::env::var_os("KASSA_TEST_SECRETS").is_none()
        || !data_dir.join(kassa_core::store::FILE_NAME).exists()
    {
        return;
    }
    let Ok(log) = kassa_core::store::SessionLog::open_in(data_dir) else {
        return;
    };
    for k in log.journal_keys().unwrap_or_default() {
        let cred = kassa_core::journal::key_credential(&k.register_id, &k.key_version, &k.key_id);
        if let Ok(secret) = kassa_core::secrets::OsKeyring.get(&cred) {
            ledger(&[secret.expose()]);
        }
    }
}

/// The test suite's artifacts for the same audit: `$KASSA_TEST_ARTIFACTS/<sub>/` (created), where
/// `make test` keeps data directories (`data`) and captured output (`output`); None when the
/// variable is not set (then tests use and remove temporary directories).
pub fn test_artifacts(sub: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("KASSA_TEST_ARTIFACTS")?).join(sub);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}
