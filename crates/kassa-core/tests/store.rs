//! The session log on real SQLite files in temporary directories.

use kassa_core::provider::{CapturePolicy, OperationKind, OperationLine};
use kassa_core::session::{SessionId, Status};
use kassa_core::store::{
    authorization_due, money_of, Filter, NewOperation, NewSession, Opened, OperationState,
    SessionLog, StatusChange, StoreError, Via, MIGRATIONS,
};
use std::path::Path;

mod support;
use support::*;

#[test]
fn a_session_from_intent_to_paid_with_its_events() {
    let dir = TempDir::new("life");
    let mut log = open(&dir.db());
    assert_eq!(log.schema_version().unwrap(), MIGRATIONS.len() as i64);
    let id = intent(&mut log, T0, "R-1");
    let (s, ev) = log.get(&id).unwrap();
    assert_eq!(s.status, Status::Creating);
    assert_eq!(
        (s.gross_minor, s.net_minor, s.vat_minor),
        (5997, 4798, 1199)
    );
    assert_eq!(s.gross_minor, s.net_minor + s.vat_minor);
    assert!(s.order_json.contains("\"reference\":\"R-1\""));
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].status, Some(Status::Creating));

    let sid = SessionId::parse(&id).unwrap();
    log.record_opened(
        &sid,
        &Opened {
            provider_session_id: "T1.abc",
            checkout_url: "https://pay.example/abc",
            qr_payload: "https://pay.example/abc",
            expires_at: Some(T0 + 900_000),
        },
        T0 + 5,
        "created",
    )
    .unwrap();
    // An unchanged poll is not logged unless asked; an explicit one is.
    assert!(!log
        .record_status(&id, Status::Open, T0 + 6, "poll", "open", None, false)
        .unwrap());
    assert!(!log
        .record_status(&id, Status::Open, T0 + 7, "status", "open", None, true)
        .unwrap());
    assert!(log
        .record_status(&id, Status::Paid, T0 + 8, "poll", "AUTHORIZED", None, false)
        .unwrap());
    let (s, ev) = log.get(&id).unwrap();
    assert_eq!(s.status, Status::Paid);
    assert_eq!(s.provider_session_id.as_deref(), Some("T1.abc"));
    let kinds: Vec<&str> = ev.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["intent", "created", "status", "poll"]);
    assert_eq!(ev[3].status, Some(Status::Paid));
    // Final is final.
    let e = log
        .record_status(&id, Status::Cancelled, T0 + 9, "cancel", "", None, true)
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::IllegalTransition {
                from: Status::Paid,
                to: Status::Cancelled,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!("session {id} cannot go from paid to cancelled")
    );
}

#[test]
fn illegal_transitions_are_refused_and_change_nothing() {
    let dir = TempDir::new("trans");
    let mut log = open(&dir.db());
    let id = intent(&mut log, T0, "R-1");
    // creating → paid skips the provider's answer.
    assert!(log
        .record_status(&id, Status::Paid, T0 + 1, "poll", "x", None, true)
        .is_err());
    let (s, ev) = log.get(&id).unwrap();
    assert_eq!((s.status, ev.len()), (Status::Creating, 1));
    assert!(log
        .record_status(
            &id,
            Status::Unknown,
            T0 + 2,
            "error",
            "timeout",
            Some("timeout"),
            true
        )
        .unwrap());
    assert!(log
        .record_status(
            &id,
            Status::Paid,
            T0 + 3,
            "reconcile",
            "AUTHORIZED",
            None,
            true
        )
        .unwrap());
    assert!(matches!(
        log.record_status(
            "019aa7c1-0000-7000-8000-000000000000",
            Status::Open,
            0,
            "x",
            "",
            None,
            true
        ),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn events_are_append_only() {
    let dir = TempDir::new("append");
    let mut log = open(&dir.db());
    intent(&mut log, T0, "R-1");
    drop(log);
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let upd = conn.execute("UPDATE session_events SET detail = 'x'", []);
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    let del = conn.execute("DELETE FROM session_events", []);
    assert!(del.unwrap_err().to_string().contains("append-only"));
}

#[test]
fn list_filters_pages_and_searches() {
    let dir = TempDir::new("list");
    let mut log = open(&dir.db());
    let mut ids = Vec::new();
    for i in 0..25 {
        let id = intent(&mut log, T0 + i * 60_000, &format!("SHOP-{i:03}"));
        if i % 5 == 0 {
            log.record_status(
                &id,
                Status::Failed,
                T0 + i * 60_000 + 1,
                "error",
                "x",
                Some("x"),
                true,
            )
            .unwrap();
        }
        ids.push(id);
    }
    // Newest first, keyset pages.
    let page1 = log.list(&Filter::default(), None, 10).unwrap();
    assert_eq!(page1[0].id, ids[24]);
    let page2 = log
        .list(&Filter::default(), Some(&page1[9].id), 10)
        .unwrap();
    assert_eq!(page2[0].id, ids[14]);
    let page3 = log
        .list(&Filter::default(), Some(&page2[9].id), 10)
        .unwrap();
    assert_eq!(page3.len(), 5);
    let failed = Filter {
        status: Some(Status::Failed),
        ..Filter::default()
    };
    assert_eq!(log.list(&failed, None, 100).unwrap().len(), 5);
    let window = Filter {
        since: Some(T0 + 10 * 60_000),
        until: Some(T0 + 20 * 60_000),
        ..Filter::default()
    };
    let w = log.list(&window, None, 100).unwrap();
    assert_eq!(w.len(), 10);
    assert_eq!(w.last().unwrap().merchant_reference, "SHOP-010");
    let search = Filter {
        search: Some("p-01".into()),
        ..Filter::default()
    };
    let found: Vec<String> = log
        .list(&search, None, 100)
        .unwrap()
        .into_iter()
        .map(|s| s.merchant_reference)
        .collect();
    assert_eq!(found.len(), 10, "{found:?}"); // SHOP-010 … SHOP-019
                                              // LIKE wildcards in the search text are literal.
    let pct = Filter {
        search: Some("%".into()),
        ..Filter::default()
    };
    assert!(log.list(&pct, None, 100).unwrap().is_empty());
    let other = Filter {
        provider: Some("dintero".into()),
        ..Filter::default()
    };
    assert!(log.list(&other, None, 100).unwrap().is_empty());
}

#[test]
fn csv_export_is_rfc_4180_with_both_amount_forms() {
    let dir = TempDir::new("csv");
    let mut log = open(&dir.db());
    let id = intent(&mut log, T0, "R-1");
    let err = "refused \"x\", then\nmore";
    log.record_status(&id, Status::Failed, T0 + 1, "error", "x", Some(err), true)
        .unwrap();
    let mut out = Vec::new();
    assert_eq!(log.export_csv(&Filter::default(), &mut out).unwrap(), 1);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        format!(
            "id,created_at,updated_at,expires_at,provider,profile,demo,status,merchant_reference,\
provider_session_id,currency,gross_minor,net_minor,vat_minor,gross,net,vat,checkout_url,last_error,\
confirmed_by,captured_minor,refunded_minor,captured,refunded\r\n\
{id},2026-11-21T18:23:01.123Z,2026-11-21T18:23:01.124Z,,demo,test,true,failed,R-1,,NOK,\
5997,4798,1199,59.97,47.98,11.99,,\"refused \"\"x\"\", then\nmore\",,,,,\r\n"
        )
    );
}

#[test]
fn a_staff_verdict_is_marked_in_the_row_and_the_csv() {
    let dir = TempDir::new("staff");
    let mut log = open(&dir.db());
    let id = intent(&mut log, T0, "R-2");
    for to in [Status::Unknown, Status::NeedsReview] {
        log.record_status(&id, to, T0 + 1, "status", "x", None, true)
            .unwrap();
    }
    assert_eq!(log.get(&id).unwrap().0.confirmed_by, None);
    let by = owner(&log);
    log.record_staff_verdict(&id, Status::Paid, &by, T0 + 2, "payment confirmed by staff")
        .unwrap();
    let (s, events) = log.get(&id).unwrap();
    assert_eq!(
        (s.status, s.confirmed_by.as_deref()),
        (Status::Paid, Some("staff"))
    );
    assert_eq!(events.last().unwrap().kind, "staff");
    // A final session takes no second verdict.
    assert!(log
        .record_staff_verdict(&id, Status::Failed, &by, T0 + 3, "x")
        .is_err());
    let mut out = Vec::new();
    log.export_csv(&Filter::default(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .ends_with(",paid,R-2,,NOK,5997,4798,1199,59.97,47.98,11.99,,,staff,,,,"),
        "{text}"
    );
}

fn raw_db_at_version(path: &Path, version: usize) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA application_id = {}", 0x4B41_5353))
        .unwrap();
    for sql in &MIGRATIONS[..version] {
        conn.execute_batch(sql).unwrap();
    }
    conn.execute_batch(&format!("PRAGMA user_version = {version}"))
        .unwrap();
}

#[test]
fn migrates_from_empty_and_from_every_earlier_version() {
    for from in 0..MIGRATIONS.len() {
        let dir = TempDir::new(&format!("mig{from}"));
        raw_db_at_version(&dir.db(), from);
        let log = open(&dir.db());
        assert_eq!(log.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }
    // Opening twice is a no-op; data survive.
    let dir = TempDir::new("reopen");
    let mut log = open(&dir.db());
    let id = intent(&mut log, T0, "R-1");
    drop(log);
    let log = open(&dir.db());
    assert_eq!(log.get(&id).unwrap().0.merchant_reference, "R-1");
}

#[test]
fn a_newer_database_is_refused_untouched() {
    let dir = TempDir::new("newer");
    raw_db_at_version(&dir.db(), MIGRATIONS.len());
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", MIGRATIONS.len() + 1))
            .unwrap();
    }
    let before = std::fs::read(dir.db()).unwrap();
    let e = SessionLog::open(&dir.db()).err().unwrap();
    assert!(matches!(e, StoreError::NewerDatabase { .. }), "{e}");
    assert!(e.to_string().contains("written by a newer Kassa"), "{e}");
    assert_eq!(std::fs::read(dir.db()).unwrap(), before);
}

#[test]
fn a_file_that_is_not_a_session_log_is_refused_untouched() {
    let dir = TempDir::new("notdb");
    let junk = b"this is a shopping list, not a database\n".repeat(200);
    std::fs::write(dir.db(), &junk).unwrap();
    let e = SessionLog::open(&dir.db()).err().unwrap();
    assert!(matches!(e, StoreError::NotADatabase { .. }), "{e}");
    assert!(e.to_string().contains("not a SQLite database"), "{e}");
    assert_eq!(std::fs::read(dir.db()).unwrap(), junk);

    // Another program's SQLite file.
    let other = dir.0.join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE contacts (name TEXT)")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    let e = SessionLog::open(&other).err().unwrap();
    assert!(matches!(e, StoreError::NotKassa { .. }), "{e}");
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

// ---- operations (schema v4) ----

fn paid_session(log: &mut SessionLog, at: i64, reference: &str) -> String {
    let id = intent(log, at, reference);
    for to in [Status::Unknown, Status::Paid] {
        log.record_status(&id, to, at + 1, "status", "x", None, true)
            .unwrap();
    }
    id
}

fn line(gross: i64, vat: i64) -> OperationLine {
    OperationLine {
        index: 0,
        name: "Kaffe".into(),
        sku: None,
        quantity: "1".into(),
        unit: None,
        vat_rate: "25".into(),
        gross,
        net: gross - vat,
        vat,
    }
}

fn new_op<'a>(
    id: &'a str,
    session: &'a str,
    kind: OperationKind,
    via: Via,
    state: OperationState,
    lines: &'a [OperationLine],
) -> NewOperation<'a> {
    NewOperation {
        id,
        session_id: session,
        kind,
        via,
        amount: lines.iter().map(|l| l.gross).sum(),
        lines,
        reason: Some("returned"),
        pre_image: Some("[]"),
        state,
        at: T0 + 10,
        operator_id: Some(1),
    }
}

const OP1: &str = "0190a000-0000-7000-8000-000000000001";
const OP2: &str = "0190a000-0000-7000-8000-000000000002";

#[test]
fn an_operation_from_requested_to_done_with_its_events_and_evidence() {
    let dir = TempDir::new("op-life");
    let mut log = open(&dir.db());
    let id = paid_session(&mut log, T0, "R-1");
    assert_eq!(
        log.get(&id).unwrap().0.capture_policy,
        Some(CapturePolicy::AtSale)
    );
    let lines = [line(1999, 400)];
    let op = new_op(
        OP1,
        &id,
        OperationKind::Refund,
        Via::Api,
        OperationState::Requested,
        &lines,
    );
    log.record_operation(&op, "refund requested").unwrap();
    let r = log.operation(OP1).unwrap();
    assert_eq!(
        (r.state, r.amount, r.sent_at, r.lines.clone()),
        (OperationState::Requested, 1999, None, lines.to_vec())
    );
    assert_eq!(log.unsettled_operations().unwrap().len(), 1);
    let sent = log
        .record_operation_state(OP1, OperationState::Sent, T0 + 11, None, None, "sent")
        .unwrap();
    assert_eq!(sent.sent_at, Some(T0 + 11));
    log.record_operation_state(
        OP1,
        OperationState::Done,
        T0 + 12,
        Some("E-1"),
        None,
        "done",
    )
    .unwrap();
    log.record_operation_evidence(OP1, 5997, 1999, T0 + 13, "evidence")
        .unwrap();
    // Evidence is kept once: a second read back does not overwrite it.
    log.record_operation_evidence(OP1, 1, 1, T0 + 14, "again")
        .unwrap();
    let r = log.operation(OP1).unwrap();
    assert_eq!(
        (
            r.state,
            r.provider_reference.as_deref(),
            r.captured_after,
            r.refunded_after
        ),
        (OperationState::Done, Some("E-1"), Some(5997), Some(1999))
    );
    assert!(log.unsettled_operations().unwrap().is_empty());
    // Each change is an event of the session, tied to the operation.
    let (_, events) = log.get(&id).unwrap();
    let of_op: Vec<&str> = events
        .iter()
        .filter(|e| e.operation_id.as_deref() == Some(OP1))
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(of_op, vec!["refund requested", "sent", "done", "evidence"]);
    assert!(events
        .iter()
        .filter(|e| e.operation_id.is_some())
        .all(|e| e.kind == "refund" && e.status.is_none()));
    let money = money_of(&log.operations(&id).unwrap());
    assert_eq!((money.refunded, money.refunding), (1999, 0));
    // A settled operation stays settled, whoever asks.
    let again = log
        .record_operation_state(
            OP1,
            OperationState::Failed,
            T0 + 15,
            None,
            Some("x"),
            "late",
        )
        .unwrap();
    assert_eq!((again.state, again.error), (OperationState::Done, None));
}

#[test]
fn operation_transitions_follow_the_state_machine() {
    let dir = TempDir::new("op-rules");
    let mut log = open(&dir.db());
    let id = paid_session(&mut log, T0, "R-1");
    let lines = [line(500, 100)];
    log.record_operation(
        &new_op(
            OP1,
            &id,
            OperationKind::Capture,
            Via::Api,
            OperationState::Requested,
            &lines,
        ),
        "x",
    )
    .unwrap();
    let e = log
        .record_operation_state(OP1, OperationState::Done, T0 + 11, None, None, "x")
        .unwrap_err();
    assert!(matches!(e, StoreError::OperationTransition { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("operation {OP1} cannot go from requested to done")
    );
    log.record_operation_state(OP1, OperationState::Sent, T0 + 11, None, None, "x")
        .unwrap();
    log.record_operation_state(
        OP1,
        OperationState::Unknown,
        T0 + 12,
        None,
        Some("timeout"),
        "x",
    )
    .unwrap();
    assert!(log
        .record_operation_state(OP1, OperationState::Sent, T0 + 13, None, None, "x")
        .is_err());
    let r = log
        .record_operation_state(OP1, OperationState::Failed, T0 + 14, None, None, "x")
        .unwrap();
    assert_eq!(
        (r.state, r.error.as_deref()),
        (OperationState::Failed, Some("timeout"))
    );
    // A failed one counts for nothing; an unsettled one counts as on its way.
    log.record_operation(
        &new_op(
            OP2,
            &id,
            OperationKind::Capture,
            Via::Session,
            OperationState::Sent,
            &lines,
        ),
        "x",
    )
    .unwrap();
    let money = money_of(&log.operations(&id).unwrap());
    assert_eq!((money.captured, money.capturing), (0, 500));
    // An operation needs a session in the log.
    let e = log
        .record_operation(
            &new_op(
                "0190a000-0000-7000-8000-000000000009",
                "0190a000-0000-7000-8000-00000000ffff",
                OperationKind::Void,
                Via::Api,
                OperationState::Requested,
                &[],
            ),
            "x",
        )
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
}

/// What the triggers hold, whoever writes the file (SQL straight at the database).
#[test]
fn the_database_refuses_what_an_operation_may_not_do() {
    let dir = TempDir::new("op-triggers");
    let mut log = open(&dir.db());
    let id = paid_session(&mut log, T0, "R-1");
    let lines = [line(500, 100)];
    log.record_operation(
        &new_op(
            OP1,
            &id,
            OperationKind::Refund,
            Via::Api,
            OperationState::Requested,
            &lines,
        ),
        "x",
    )
    .unwrap();
    let db = rusqlite::Connection::open(dir.db()).unwrap();
    let refused = |sql: &str| {
        let e = db.execute_batch(sql).unwrap_err().to_string();
        assert!(!e.is_empty(), "{sql}");
        e
    };
    // What was asked never changes.
    assert!(refused(&format!(
        "UPDATE operations SET amount = 1 WHERE id = '{OP1}'"
    ))
    .contains("never changes"));
    refused(&format!(
        "UPDATE operations SET lines = '[]' WHERE id = '{OP1}'"
    ));
    refused(&format!(
        "UPDATE operations SET kind = 'capture' WHERE id = '{OP1}'"
    ));
    // States move only forward, along the machine.
    assert!(refused(&format!(
        "UPDATE operations SET state = 'done' WHERE id = '{OP1}'"
    ))
    .contains("illegal operation state transition"));
    db.execute_batch(&format!(
        "UPDATE operations SET state = 'sent', sent_at = 5 WHERE id = '{OP1}'"
    ))
    .unwrap();
    // The pre-image and sent_at are fixed once sent.
    refused(&format!(
        "UPDATE operations SET pre_image = '[1]' WHERE id = '{OP1}'"
    ));
    refused(&format!(
        "UPDATE operations SET sent_at = 6 WHERE id = '{OP1}'"
    ));
    db.execute_batch(&format!(
        "UPDATE operations SET state = 'done' WHERE id = '{OP1}'"
    ))
    .unwrap();
    // A done operation only gains its evidence, once.
    refused(&format!(
        "UPDATE operations SET state = 'failed' WHERE id = '{OP1}'"
    ));
    refused(&format!(
        "UPDATE operations SET provider_reference = 'X' WHERE id = '{OP1}'"
    ));
    db.execute_batch(&format!(
        "UPDATE operations SET captured_after = 500, refunded_after = 500 WHERE id = '{OP1}'"
    ))
    .unwrap();
    assert!(refused(&format!(
        "UPDATE operations SET captured_after = 0 WHERE id = '{OP1}'"
    ))
    .contains("only gains its evidence, once"));
    // Nothing is deleted: neither operations nor their events.
    assert!(
        refused(&format!("DELETE FROM operations WHERE id = '{OP1}'")).contains("never deleted")
    );
    refused(&format!(
        "DELETE FROM session_events WHERE operation_id = '{OP1}'"
    ));
    // How an operation may start: by API requested, staff's done, the session's sent or done.
    let session = id_of_session(&db);
    let insert = |id: &str, kind: &str, via: &str, state: &str| {
        format!(
            "INSERT INTO operations (id, session_id, kind, via, amount, lines, state, created_at,
                 updated_at) VALUES ('{id}', '{session}', '{kind}', '{via}', 1, '[]', '{state}', 1, 1)"
        )
    };
    assert!(refused(&insert("a", "refund", "api", "done")).contains("an operation starts"));
    refused(&insert("b", "refund", "staff", "done"));
    refused(&insert("c", "refund_recorded", "staff", "requested"));
    refused(&insert("d", "refund", "session", "sent"));
    refused(&insert("e", "capture", "api", "bogus"));
    db.execute_batch(&insert("f", "refund_recorded", "staff", "done"))
        .unwrap();
    db.execute_batch(&insert("g", "capture", "session", "sent"))
        .unwrap();
    assert_eq!(log.operations(&id).unwrap().len(), 3);
}

fn id_of_session(db: &rusqlite::Connection) -> String {
    db.query_row("SELECT id FROM sessions LIMIT 1", [], |r| r.get(0))
        .unwrap()
}

fn paid_with<'a>(op: NewOperation<'a>, detail: &'a str) -> StatusChange<'a> {
    StatusChange {
        to: Status::Paid,
        kind: "status",
        detail: "paid",
        payment_id: Some("PAY-1"),
        operation: Some((op, detail)),
        standing: None,
        operator_id: None,
    }
}

#[test]
fn a_paid_status_and_its_capture_are_recorded_together_or_not_at_all() {
    let dir = TempDir::new("op-atomic");
    let mut log = open(&dir.db());
    let id = intent(&mut log, T0, "R-1");
    log.record_status(&id, Status::Unknown, T0 + 1, "status", "x", None, true)
        .unwrap();
    let lines = [];
    // The operation cannot be inserted (a by-API capture must start requested): the status
    // stays as it was.
    let bad = new_op(
        OP1,
        &id,
        OperationKind::Capture,
        Via::Api,
        OperationState::Sent,
        &lines,
    );
    assert!(log
        .record_change(&id, T0 + 2, &paid_with(bad, "x"))
        .is_err());
    let (s, _) = log.get(&id).unwrap();
    assert_eq!((s.status, s.provider_payment_id), (Status::Unknown, None));
    assert!(log.operations(&id).unwrap().is_empty());
    let good = NewOperation {
        amount: 5997,
        ..new_op(
            OP1,
            &id,
            OperationKind::Capture,
            Via::Session,
            OperationState::Sent,
            &lines,
        )
    };
    log.record_change(&id, T0 + 2, &paid_with(good, "x"))
        .unwrap();
    let (s, events) = log.get(&id).unwrap();
    assert_eq!(
        (s.status, s.provider_payment_id.as_deref()),
        (Status::Paid, Some("PAY-1"))
    );
    // One event for the status, one for the operation.
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(log.operations(&id).unwrap()[0].state, OperationState::Sent);
    // The CSV's last columns: captured (done captures only) and refunded.
    log.record_operation_state(OP1, OperationState::Done, T0 + 3, None, None, "x")
        .unwrap();
    let mut out = Vec::new();
    log.export_csv(&Filter::default(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.lines().nth(1).unwrap().ends_with(",5997,0,59.97,0.00"),
        "{text}"
    );
}

#[test]
fn a_version_3_log_keeps_its_sessions_without_a_capture_policy() {
    let dir = TempDir::new("mig-v3-data");
    raw_db_at_version(&dir.db(), 3);
    let db = rusqlite::Connection::open(dir.db()).unwrap();
    db.execute_batch(
        "INSERT INTO sessions (id, provider, profile, merchant_reference, currency, gross_minor,
             net_minor, vat_minor, order_json, status, created_at, updated_at)
         VALUES ('0190a000-0000-7000-8000-0000000000aa', 'bambora', 'test', 'OLD-1', 'NOK', 100,
             80, 20, '{}', 'paid', 1, 1);
         INSERT INTO session_events (session_id, at, kind, status, detail)
         VALUES ('0190a000-0000-7000-8000-0000000000aa', 1, 'status', 'paid', 'old');",
    )
    .unwrap();
    drop(db);
    let log = open(&dir.db());
    let (s, events) = log.get("0190a000-0000-7000-8000-0000000000aa").unwrap();
    assert_eq!((s.status, s.capture_policy), (Status::Paid, None));
    assert_eq!((events.len(), events[0].operation_id.as_deref()), (1, None));
    assert!(log.operations(&s.id).unwrap().is_empty());
}

// ---- the authorization's expiry (schema v5) ----

/// A capture by API of `lines`, recorded `requested`.
fn capture_requested(log: &mut SessionLog, op: &str, session: &str, lines: &[OperationLine]) {
    let new = new_op(
        op,
        session,
        OperationKind::Capture,
        Via::Api,
        OperationState::Requested,
        lines,
    );
    log.record_operation(&new, "capture requested").unwrap();
}

#[test]
fn an_authorizations_expiry_is_kept_and_history_warns_two_days_before() {
    let dir = TempDir::new("auth-expiry");
    let mut log = open(&dir.db());
    let id = SessionId::new(T0, 4711);
    let o = order("R-M");
    log.record_intent(&NewSession {
        id: id.clone(),
        provider: "klarna",
        profile: "test",
        demo: false,
        order: &o,
        created_at: T0,
        capture_policy: Some(CapturePolicy::Manual),
        operator_id: None,
        link: None,
    })
    .unwrap();
    let id = id.to_string();
    for to in [Status::Unknown, Status::Paid] {
        log.record_status(&id, to, T0 + 1, "status", "x", None, true)
            .unwrap();
    }
    let day = 24 * 3600 * 1000;
    let lapses = T0 + 7 * day;
    let due = |log: &SessionLog, now: i64| {
        let (s, _) = log.get(&id).unwrap();
        authorization_due(&s, &log.operations(&id).unwrap(), now)
    };
    // Manual and nothing captured: due, but Kassa has not read when it lapses.
    assert_eq!(
        (due(&log, T0).capture_due, due(&log, T0).expires_soon),
        (true, false)
    );
    // Recorded once, with an event naming the date; the same reading again changes nothing.
    assert!(log
        .record_authorization_expiry(&id, Some(lapses), T0 + 2, "klarna")
        .unwrap());
    assert!(!log
        .record_authorization_expiry(&id, Some(lapses), T0 + 3, "klarna")
        .unwrap());
    let (s, events) = log.get(&id).unwrap();
    assert_eq!(s.authorization_expires_at, Some(lapses));
    let said: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == "authorization")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains(&kassa_core::time::format_rfc3339(lapses)));
    // Warned from two days before, and after.
    assert!(!due(&log, lapses - 2 * day - 1).expires_soon);
    assert!(due(&log, lapses - 2 * day).expires_soon);
    assert!(due(&log, lapses + day).expires_soon);
    // Part captured: still due; all captured: nothing to warn about.
    let half = [line(3000, 600)];
    capture_requested(&mut log, OP1, &id, &half);
    let now = lapses - day;
    assert!(
        due(&log, now).expires_soon,
        "a capture on its way of part of it"
    );
    for st in [OperationState::Sent, OperationState::Done] {
        log.record_operation_state(OP1, st, T0 + 20, None, None, "x")
            .unwrap();
    }
    assert!(due(&log, now).capture_due);
    let rest = [line(s.gross_minor - 3000, 599)];
    capture_requested(&mut log, OP2, &id, &rest);
    assert_eq!(
        (due(&log, now).capture_due, due(&log, now).expires_soon),
        (false, false),
        "the rest is being captured"
    );
    // Nothing left to lapse: the provider's reading clears it.
    assert!(log
        .record_authorization_expiry(&id, None, T0 + 30, "klarna")
        .unwrap());
    assert_eq!(log.get(&id).unwrap().0.authorization_expires_at, None);
}

#[test]
fn a_capture_at_sale_that_failed_is_due_and_a_staff_verdict_never_is() {
    let dir = TempDir::new("auth-due");
    let mut log = open(&dir.db());
    // At sale, captured: nothing due.
    let id = paid_session(&mut log, T0, "R-A");
    let due = |log: &SessionLog, id: &str| {
        let (s, _) = log.get(id).unwrap();
        authorization_due(&s, &log.operations(id).unwrap(), T0).capture_due
    };
    assert!(!due(&log, &id), "at sale, the capture is not staff's");
    let all = [line(5997, 1199)];
    capture_requested(&mut log, OP1, &id, &all);
    log.record_operation_state(OP1, OperationState::Failed, T0 + 20, None, Some("no"), "x")
        .unwrap();
    assert!(due(&log, &id), "the capture at sale failed");
    // A payment staff confirmed has no authorization Kassa knows of.
    let other = intent(&mut log, T0 + 100, "R-B");
    log.record_status(&other, Status::Unknown, T0 + 101, "status", "x", None, true)
        .unwrap();
    let by = owner(&log);
    log.record_staff_verdict(&other, Status::Paid, &by, T0 + 102, "seen")
        .unwrap();
    capture_requested(&mut log, OP2, &other, &all);
    log.record_operation_state(OP2, OperationState::Failed, T0 + 120, None, Some("no"), "x")
        .unwrap();
    assert!(!due(&log, &other));
}

// ---- link sales (schema v7) ----

/// A link sale's intent sent to `contact`.
fn link_intent(log: &mut SessionLog, at: i64, reference: &str, contact: &str) -> String {
    let id = SessionId::new(at, at as u128 * 31);
    let o = order(reference);
    let contact = kassa_core::link::Contact::phone(contact).unwrap();
    log.record_intent(&NewSession {
        id: id.clone(),
        provider: "dintero",
        profile: "test",
        demo: false,
        order: &o,
        created_at: at,
        capture_policy: Some(CapturePolicy::AtSale),
        operator_id: Some(1),
        link: Some(kassa_core::store::LinkIntent {
            requested_expires_at: at + 24 * 3600 * 1000,
            contact: Some(&contact),
            renews: None,
        }),
    })
    .unwrap();
    id.to_string()
}

#[test]
fn a_links_contact_is_kept_only_while_needed_and_its_mask_for_good() {
    let dir = TempDir::new("link-contact");
    let mut log = open(&dir.db());
    let kept = kassa_core::store::CONTACT_KEPT_MS;
    // Paid: forgotten at once, by the trigger, whoever records the payment.
    let paid = link_intent(&mut log, T0, "L-1", "+4791234567");
    let (s, _) = log.get(&paid).unwrap();
    assert_eq!(s.contact.as_deref(), Some("sms:+4791234567"));
    for to in [Status::Unknown, Status::Paid] {
        log.record_status(&paid, to, T0 + 1, "status", "x", None, true)
            .unwrap();
    }
    let (s, _) = log.get(&paid).unwrap();
    assert_eq!(
        (s.contact, s.contact_masked.as_deref()),
        (None, Some("+47******67"))
    );
    // Expired unpaid: kept CONTACT_KEPT_MS for a renewal, then forgotten with an event.
    let expired = link_intent(&mut log, T0 + 10, "L-2", "+4798765432");
    for to in [Status::Unknown, Status::Expired] {
        log.record_status(&expired, to, T0 + 20, "status", "x", None, true)
            .unwrap();
    }
    assert_eq!(log.forget_contacts(T0 + 20 + kept).unwrap(), 0, "not yet");
    assert!(log.get(&expired).unwrap().0.contact.is_some());
    assert_eq!(log.forget_contacts(T0 + 21 + kept).unwrap(), 1);
    let (s, events) = log.get(&expired).unwrap();
    assert_eq!(
        (s.contact, s.contact_masked.as_deref()),
        (None, Some("+47******32"))
    );
    assert!(events
        .iter()
        .any(|e| e.detail.contains("contact forgotten")));
    // Listed while it may be renewed; not after.
    assert_eq!(log.links(T0 + 21).unwrap().len(), 1);
    assert!(log.links(T0 + 21 + kept).unwrap().is_empty());
    // Nowhere in the file but where the schema keeps it.
    let db = rusqlite::Connection::open(dir.db()).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM session_events WHERE detail LIKE '%91234567%' OR detail LIKE '%98765432%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "events name the contact masked only");
}
