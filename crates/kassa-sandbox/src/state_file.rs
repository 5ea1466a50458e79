//! The demo provider's state file (`demo-sandbox.json` in the data directory): so a later
//! process can still read a demo session's status, the emulator keeps its sessions and
//! transactions there.
//!
//! It is a log of changes, one JSON line each (`{"session": {…}}` or `{"transaction": {…}}`,
//! the record as it is after the change; a later line replaces an earlier one of the same id),
//! appended after every change. Rewriting the whole state instead cost every demo charge time
//! in proportion to the day's sales (charge → QR, BENCHMARKS.md). The file is rewritten whole
//! (a temporary file renamed over it) only when it holds more than twice the lines it needs,
//! so a change costs the same at the 1,000th sale as at the first.
//!
//! A process killed mid-append leaves at most a torn last line: it is skipped when the file is
//! read, and the file is rewritten before anything is appended after it. A file in the earlier
//! format (the whole state as one JSON object) is read and rewritten as a log.

use crate::dintero::{Emulator, Record, Saved};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

/// Lines the file may hold beyond twice the live records before it is rewritten.
const SLACK_LINES: usize = 64;

/// The state file of one sandbox, open for appends.
pub(crate) struct StateFile {
    path: PathBuf,
    append: Option<File>,
    /// Lines in the file (live records and replaced ones).
    lines: usize,
    /// The file may end in a torn line or be in the earlier format: rewritten before anything
    /// is appended.
    stale: bool,
}

/// What reading a state file found.
struct Read {
    lines: usize,
    /// Every line a record, the last one ended.
    clean: bool,
    /// The earlier format (the whole state as one object): rewritten before appending.
    whole: bool,
}

/// Reads `bytes` (either format) into `e`.
fn read_into(bytes: &[u8], e: &mut Emulator) -> Read {
    if let Ok(saved) = serde_json::from_slice::<Saved>(bytes) {
        e.restore(saved);
        return Read {
            lines: 0,
            clean: true,
            whole: true,
        };
    }
    let mut read = Read {
        lines: 0,
        clean: bytes.is_empty() || bytes.ends_with(b"\n"),
        whole: false,
    };
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => {
                e.apply(r);
                read.lines += 1;
            }
            Err(err) => {
                log::warn!(
                    target: "kassa::sandbox",
                    "skipping a line of the demo state file that is not a record: {err}"
                );
                read.clean = false;
            }
        }
    }
    read
}

/// Reads `bytes` into `e`, refusing a line that is not a record (for tests' readers).
pub(crate) fn read_strict(bytes: &[u8], e: &mut Emulator) -> Result<(), String> {
    if read_into(bytes, e).clean {
        Ok(())
    } else {
        Err("a line is not a record, or the last one is torn".into())
    }
}

impl StateFile {
    /// Reads `path` into `e` and makes the file ready for appends (rewritten first when it is
    /// in the earlier format or ends in a torn line).
    pub(crate) fn open(path: PathBuf, e: &mut Emulator) -> StateFile {
        let mut file = StateFile {
            path,
            append: None,
            lines: 0,
            stale: false,
        };
        if let Ok(bytes) = std::fs::read(&file.path) {
            let read = read_into(&bytes, e);
            file.lines = read.lines;
            file.stale = !read.clean || read.whole;
            if file.stale {
                file.rewrite(e);
            }
        }
        file
    }

    /// Records what a change to `ids` (sessions or transactions) made of them.
    pub(crate) fn changed(&mut self, e: &Emulator, ids: &[&str]) {
        let records = e.records_of(ids);
        if records.is_empty() {
            return;
        }
        if self.stale || self.lines + records.len() > 2 * e.record_count() + SLACK_LINES {
            self.rewrite(e);
            return;
        }
        let mut text = Vec::new();
        for r in &records {
            if serde_json::to_writer(&mut text, r).is_err() {
                return;
            }
            text.push(b'\n');
        }
        if self.append.is_none() {
            self.append = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .ok();
        }
        let Some(f) = &mut self.append else { return };
        // One write of whole lines: a kill leaves at most the last one torn.
        if f.write_all(&text).is_ok() {
            self.lines += records.len();
        } else {
            // Whatever part was written is a torn line: rewrite before the next append.
            self.append = None;
            self.stale = true;
        }
    }

    /// Writes the whole state as a fresh log (atomically: a temporary file renamed over it).
    fn rewrite(&mut self, e: &Emulator) {
        self.append = None;
        let mut text = Vec::new();
        for r in e.records() {
            if serde_json::to_writer(&mut text, &r).is_err() {
                return;
            }
            text.push(b'\n');
        }
        let tmp = self.path.with_extension("tmp");
        if std::fs::write(&tmp, &text).is_ok() && std::fs::rename(&tmp, &self.path).is_ok() {
            self.lines = e.record_count();
            self.stale = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved_json(e: &Emulator) -> serde_json::Value {
        serde_json::to_value(e.saved()).unwrap()
    }

    fn session(id: &str, updated_at: i64, transaction: Option<&str>) -> serde_json::Value {
        serde_json::json!({"session": {
            "id": id, "account": "T1", "created_at": 1, "updated_at": updated_at,
            "expires_at": 9, "profile_id": "default", "order": {"amount": 100, "currency": "NOK"}, "url": {"return_url": "http://127.0.0.1/r"},
            "configuration": {}, "transaction_id": transaction, "cancelled_at": null,
            "cancelled_by": null, "events": [["INITIATED", 1]]
        }})
    }

    fn transaction(id: &str, session: &str) -> serde_json::Value {
        serde_json::json!({"transaction": {
            "id": id, "account": "T1", "session_id": session, "merchant_reference": "r",
            "amount": 100, "currency": "NOK", "status": "AUTHORIZED", "items": [],
            "created_at": 1, "updated_at": 1, "events": []
        }})
    }

    fn lines(values: &[serde_json::Value]) -> Vec<u8> {
        let mut out = Vec::new();
        for v in values {
            out.extend(serde_json::to_vec(v).unwrap());
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn a_later_line_replaces_an_earlier_one_and_a_torn_tail_is_skipped() {
        let mut bytes = lines(&[session("S1", 1, None), session("S2", 1, None)]);
        bytes.extend(lines(&[
            session("S1", 5, Some("P1")),
            transaction("P1", "S1"),
        ]));
        let whole = bytes.len();
        bytes.extend_from_slice(br#"{"session": {"id": "S3", "acc"#);
        let mut e = Emulator::default();
        let read = read_into(&bytes, &mut e);
        assert!(!read.clean, "a torn last line is noticed");
        assert_eq!(read.lines, 4);
        let state = saved_json(&e);
        assert_eq!(state["sessions"]["S1"]["updated_at"], 5);
        assert_eq!(state["sessions"]["S1"]["transaction_id"], "P1");
        assert_eq!(state["sessions"]["S2"]["updated_at"], 1);
        assert!(state["sessions"].get("S3").is_none());
        assert_eq!(state["transactions"]["P1"]["session_id"], "S1");

        let mut e = Emulator::default();
        assert!(read_into(&bytes[..whole], &mut e).clean);
    }

    #[test]
    fn the_earlier_format_is_read_and_rewritten_as_a_log() {
        let dir = std::env::temp_dir().join(format!("kassa-state-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        let old = serde_json::json!({
            "sessions": {"S1": session("S1", 2, Some("P1"))["session"]},
            "transactions": {"P1": transaction("P1", "S1")["transaction"]},
        });
        std::fs::write(&path, serde_json::to_vec_pretty(&old).unwrap()).unwrap();
        let mut e = Emulator::default();
        let mut file = StateFile::open(path.clone(), &mut e);
        let loaded = saved_json(&e);
        assert_eq!(loaded["sessions"], old["sessions"]);
        assert_eq!(loaded["transactions"]["P1"]["session_id"], "S1");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");

        // A change appends the session and its transaction.
        file.changed(&e, &["S1"]);
        let mut again = Emulator::default();
        let read = read_into(&std::fs::read(&path).unwrap(), &mut again);
        assert!(read.clean);
        assert_eq!(read.lines, 4);
        assert_eq!(saved_json(&again), loaded);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_file_is_rewritten_once_it_holds_twice_what_it_needs() {
        let dir = std::env::temp_dir().join(format!("kassa-state-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        std::fs::write(&path, lines(&[session("S1", 1, None)])).unwrap();
        let mut e = Emulator::default();
        let mut file = StateFile::open(path.clone(), &mut e);
        let mut longest = 0;
        for _ in 0..500 {
            file.changed(&e, &["S1"]);
            let count = std::fs::read_to_string(&path).unwrap().lines().count();
            longest = longest.max(count);
        }
        assert!(longest > 2, "changes are appended");
        assert!(longest <= 2 + SLACK_LINES, "{longest} lines for one record");
        let mut again = Emulator::default();
        read_into(&std::fs::read(&path).unwrap(), &mut again);
        assert_eq!(saved_json(&again), saved_json(&e));
        // Nothing is appended for an id the state does not hold.
        let before = std::fs::read(&path).unwrap();
        file.changed(&e, &["nobody"]);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
