//! The file locks that tell reconciliation what a living process is still doing, and the
//! crash-test pause points.
//!
//! - [`InFlight`]: `inflight/<session id>.lock`, held while a create is in flight.
//! - [`OperationLock`]: `inflight/<session id>.op.lock`, held while a capture, refund or void of
//!   that session is being recorded, sent and answered: one operation in flight per session, so
//!   the provider's operations read just before one cannot be confused with another of Kassa's
//!   own, and reconciliation leaves a living process's operation alone; and
//!   `inflight/<session id>.send.lock` while its link is being sent (one send at a time; one a
//!   killed process left is found at the next start).
//!
//! The OS drops a lock when its process dies (even by `kill -9`), so a lock another process can
//! take was abandoned.

use super::CheckoutError;
use std::fs::File;
use std::path::{Path, PathBuf};

fn lock_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("inflight")
}

/// Holds `inflight/<id>.lock` while a create is in flight.
pub(super) struct InFlight {
    path: PathBuf,
    _file: File,
}

impl InFlight {
    fn path(data_dir: &Path, id: &str) -> PathBuf {
        lock_dir(data_dir).join(format!("{id}.lock"))
    }

    pub(super) fn acquire(data_dir: &Path, id: &str) -> Result<InFlight, CheckoutError> {
        let path = InFlight::path(data_dir, id);
        let fail = |e: std::io::Error| lock_failed(&path, e);
        std::fs::create_dir_all(lock_dir(data_dir)).map_err(fail)?;
        let file = File::create(&path).map_err(fail)?;
        file.lock().map_err(fail)?;
        Ok(InFlight { path, _file: file })
    }

    /// True when no living process holds the lock of session `id`.
    pub(super) fn abandoned(data_dir: &Path, id: &str) -> bool {
        let path = InFlight::path(data_dir, id);
        match File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
        {
            Ok(f) => f.try_lock().is_ok(),
            // Cannot even open it: nobody can be holding it in this directory.
            Err(_) => true,
        }
    }

    pub(super) fn clear(data_dir: &Path, id: &str) {
        let _ = std::fs::remove_file(InFlight::path(data_dir, id));
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Holds `inflight/<session id>.op.lock` while an operation of that session is in flight (or
/// being reconciled).
pub(super) struct OperationLock {
    path: PathBuf,
    file: File,
}

/// What a [`OperationLock::try_acquire_send`] lock file's name ends with.
const SEND_LOCK: &str = ".send.lock";

impl OperationLock {
    /// Takes the lock of session `id`'s operations, or `None` when a living process holds it.
    pub(super) fn try_acquire(
        data_dir: &Path,
        id: &str,
    ) -> Result<Option<OperationLock>, CheckoutError> {
        OperationLock::try_at(data_dir, &format!("{id}.op.lock"))
    }

    /// Takes `inflight/<id>.send.lock`, held while a link of session `id` is being sent (the
    /// attempt recorded, the provider asked, its answer recorded), or `None` when a living
    /// process holds it. A process killed meanwhile leaves the file unlocked:
    /// [`OperationLock::abandoned_sends`] finds it.
    pub(super) fn try_acquire_send(
        data_dir: &Path,
        id: &str,
    ) -> Result<Option<OperationLock>, CheckoutError> {
        OperationLock::try_at(data_dir, &format!("{id}{SEND_LOCK}"))
    }

    /// The sends a process that is gone left unfinished: each session id with its send lock,
    /// now held by the caller (dropping it removes the file).
    pub(super) fn abandoned_sends(data_dir: &Path) -> Vec<(String, OperationLock)> {
        let Ok(entries) = std::fs::read_dir(lock_dir(data_dir)) else {
            return Vec::new(); // no lock was ever made here
        };
        entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| Some(name.strip_suffix(SEND_LOCK)?.to_string()))
            .filter_map(|id| {
                let lock = OperationLock::try_acquire_send(data_dir, &id).ok()??;
                Some((id, lock))
            })
            .collect()
    }

    fn try_at(data_dir: &Path, name: &str) -> Result<Option<OperationLock>, CheckoutError> {
        let path = lock_dir(data_dir).join(name);
        let fail = |e: std::io::Error| lock_failed(&path, e);
        std::fs::create_dir_all(lock_dir(data_dir)).map_err(fail)?;
        loop {
            let file = File::options()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(fail)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
            }
            // The holder before us removes the file when it is done (see Drop): if the path
            // is gone or is another file now, this lock guards nothing; try again.
            if still_at(&path, &file) {
                return Ok(Some(OperationLock { path, file }));
            }
        }
    }
}

#[cfg(unix)]
fn still_at(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

// Elsewhere the file is never removed (see Drop), so the path always is this file.
#[cfg(not(unix))]
fn still_at(_path: &Path, _file: &File) -> bool {
    true
}

impl Drop for OperationLock {
    fn drop(&mut self) {
        // Removed while still locked, so nobody can take a lock on a file that is about to
        // go; whoever opened it before is told by `still_at`. (Not on other platforms, where
        // an open file cannot be removed: the file stays.)
        #[cfg(unix)]
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

pub(crate) use crate::pause::pause_point;

/// A lock file that cannot be made, in words that name the cause staff can act on (a read-only
/// or full disk, as the session log's own errors say), with the OS's detail.
fn lock_failed(path: &Path, e: std::io::Error) -> CheckoutError {
    let cause = match e.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem => {
            "the data directory is on a read-only disk; nothing was sent or recorded: make it writable"
        }
        std::io::ErrorKind::StorageFull => {
            "the disk is full; nothing was sent or recorded: free some space"
        }
        _ => "nothing was sent or recorded",
    };
    CheckoutError::Lock(format!("cannot lock {} ({e}): {cause}", path.display()))
}
