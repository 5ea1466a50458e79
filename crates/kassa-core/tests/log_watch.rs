//! `till::LogWatch` keeping the one scheduler up to date with a real session log file, while a
//! second connection writes to it as another process does (`kassa-cli charge`, or the app's
//! screens): SQLite in WAL mode, each connection with its own transactions, the change notes
//! written by the triggers inside the writer's transaction.

use kassa_core::schedule::{Asked, Scheduler};
use kassa_core::session::{SessionId, Status};
use kassa_core::store::{Opened, SessionLog, NOTES_KEPT_MS};
use kassa_core::till::{LogWatch, FULL_READ_MS, RESYNC_MS};

mod support;
use support::*;

/// A session started at `at` whose create's answer was lost: `unknown`, which is followed.
fn unknown(log: &mut SessionLog, at: i64, reference: &str) -> String {
    let id = intent(log, at, reference);
    log.record_status(
        &id,
        Status::Unknown,
        at + 1,
        "create",
        "no answer",
        None,
        true,
    )
    .unwrap();
    id
}

/// A fresh session log in a directory of its own (removed when the first is dropped), opened
/// twice: the follower's connection and the other writer's.
fn two_connections(name: &str) -> (TempDir, SessionLog, SessionLog) {
    let dir = TempDir::new(name);
    let (follower, other) = (open(&dir.db()), open(&dir.db()));
    (dir, follower, other)
}

#[test]
fn a_session_another_connection_writes_is_followed_at_the_next_read_and_only_once() {
    let (_dir, follower, mut other) = two_connections("watch-other");
    let (mut s, mut watch) = (Scheduler::new(), LogWatch::new());
    let early = unknown(&mut other, T0, "R-EARLY");
    assert!(watch.read(&follower, &mut s, T0 + 10).unwrap().is_empty());
    assert_eq!(s.ids().collect::<Vec<_>>(), vec![early.as_str()]);

    // Written by the other connection after the first read: picked up by the next one, due at
    // once.
    let late = unknown(&mut other, T0 + 1_000, "R-LATE");
    let now = T0 + RESYNC_MS;
    watch.read(&follower, &mut s, now).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s.due_at(&late), Some(now));

    // Read again, incrementally and in full: still one entry each, each asked once.
    watch.read(&follower, &mut s, now + 1).unwrap();
    watch.read(&follower, &mut s, now + FULL_READ_MS).unwrap();
    assert_eq!(s.len(), 2);
    let due = s.due(now + FULL_READ_MS);
    let mut ids: Vec<&str> = due.iter().map(|d| d.id.as_str()).collect();
    ids.sort();
    let mut want = vec![early.as_str(), late.as_str()];
    want.sort();
    assert_eq!(ids, want);
    for d in &due {
        s.done(&d.id, Asked::Status(Status::Unknown), now + FULL_READ_MS);
    }
    watch
        .read(&follower, &mut s, now + FULL_READ_MS + 1)
        .unwrap();
    assert!(s.due(now + FULL_READ_MS + 1).is_empty());
}

#[test]
fn a_changed_session_gets_its_new_due_time_and_one_paid_elsewhere_leaves_with_its_last_status() {
    let (_dir, follower, mut other) = two_connections("watch-changed");
    let (mut s, mut watch) = (Scheduler::new(), LogWatch::new());
    let id = unknown(&mut other, T0, "R-CHANGED");
    watch.read(&follower, &mut s, T0 + 10).unwrap();
    // First asked 2 s after it was made (`schedule::FIRST_ASK_MS`).
    assert_eq!(s.due_at(&id), Some(T0 + 2_000));
    // Asked and failing: backed off (2 s doubled per failure, at most 5 minutes).
    let mut now = T0 + 2_000;
    for _ in 0..8 {
        assert_eq!(s.due(now).len(), 1);
        s.done(&id, Asked::Failed, now);
        now = s.due_at(&id).unwrap();
    }
    let last_failure = now - 5 * 60_000;
    // Right after, the other connection learns the provider's answer: open, expiring in a
    // minute. At the next read the last call (30 s after the expiry) is due before the
    // backoff ends.
    let expires = last_failure + 60_000;
    other
        .record_opened(
            &SessionId::parse(&id).unwrap(),
            &Opened {
                provider_session_id: "P-1",
                checkout_url: "https://pay.example/1",
                qr_payload: "https://pay.example/1",
                expires_at: Some(expires),
            },
            last_failure + 1,
            "reconciled",
        )
        .unwrap();
    let read_at = last_failure + 2;
    assert!(watch.read(&follower, &mut s, read_at).unwrap().is_empty());
    assert_eq!(s.due_at(&id), Some(expires + 30_000));
    assert_eq!(s.status(&id), Some(Status::Open));

    // Paid by the other connection: it leaves at the next read, with the status the
    // scheduler last saw (so the app can tell the screens), and is no longer followed.
    pay(&mut other, &id, read_at + 1);
    let left = watch.read(&follower, &mut s, read_at + 2_000).unwrap();
    assert_eq!(left, vec![(id.clone(), Status::Open)]);
    assert!(s.is_empty());
    // Its end is reported once.
    assert!(watch
        .read(&follower, &mut s, read_at + 2_000 + FULL_READ_MS)
        .unwrap()
        .is_empty());
}

#[test]
fn notes_pushed_to_the_hub_before_they_were_read_make_the_next_read_a_full_one() {
    let (_dir, follower, mut other) = two_connections("watch-pruned");
    let (mut s, mut watch) = (Scheduler::new(), LogWatch::new());
    let gone = unknown(&mut other, T0, "R-GONE");
    watch.read(&follower, &mut s, T0 + 10).unwrap();
    assert_eq!(s.len(), 1);
    // Another session starts and the first is paid; the hub's sender pushes every note and,
    // the notes being old enough by its clock (a follower that stalled), deletes them before
    // the follower reads.
    let new = unknown(&mut other, T0 + 1_000, "R-NEW");
    pay(&mut other, &gone, T0 + 1_500);
    let (_, position) = other.followed_sessions().unwrap();
    other
        .outbox_acknowledge(position, &[], T0 + 1_501 + NOTES_KEPT_MS)
        .unwrap();
    assert_eq!(
        other.followed_changes(0).unwrap(),
        None,
        "the notes are gone"
    );
    // The next read, well before a full one is due, still sees both changes.
    let left = watch.read(&follower, &mut s, T0 + RESYNC_MS).unwrap();
    assert_eq!(left, vec![(gone, Status::Unknown)]);
    assert_eq!(s.ids().collect::<Vec<_>>(), vec![new.as_str()]);
    assert_eq!(s.due_at(&new), Some(T0 + RESYNC_MS));
}

#[test]
fn notes_the_hub_acknowledged_within_minutes_stay_for_the_follower_and_no_longer_count_as_waiting()
{
    let (_dir, follower, mut other) = two_connections("watch-kept");
    let (mut s, mut watch) = (Scheduler::new(), LogWatch::new());
    let first = unknown(&mut other, T0, "R-FIRST");
    watch.read(&follower, &mut s, T0 + 10).unwrap();
    // A sale and a payment the sender pushes a second later, as it does when the hub is up.
    let second = unknown(&mut other, T0 + 1_000, "R-SECOND");
    pay(&mut other, &first, T0 + 1_500);
    let (_, position) = other.followed_sessions().unwrap();
    other.outbox_acknowledge(position, &[], T0 + 2_500).unwrap();
    let pending = other.outbox_pending().unwrap();
    assert_eq!(
        (pending.sessions, pending.operations),
        (0, 0),
        "acknowledged"
    );
    // The notes are still there for the follower: its next read is of the changes only.
    let changes = other.followed_changes(0).unwrap().expect("notes kept");
    assert!(changes.0.iter().any(|f| f.id == second.as_str()));
    let left = watch.read(&follower, &mut s, T0 + RESYNC_MS).unwrap();
    assert_eq!(left, vec![(first, Status::Unknown)]);
    assert_eq!(s.ids().collect::<Vec<_>>(), vec![second.as_str()]);
    // Ten minutes on, the next acknowledgement prunes them.
    unknown(&mut other, T0 + 3_000, "R-THIRD");
    let (_, position) = other.followed_sessions().unwrap();
    other
        .outbox_acknowledge(position, &[], T0 + 3_001 + NOTES_KEPT_MS)
        .unwrap();
    assert_eq!(other.followed_changes(0).unwrap(), None, "pruned");
}
