//! The journal as the session log writes it, on real SQLite files: receipts written with what
//! they record (exactly once), signed and chained, numbered without gaps (also with two writers),
//! copies once per receipt, nothing recorded without the key, append-only; operators and their
//! PINs. The signing key comes from an in-memory keyring here; the OS keyring, the CLI and the
//! tampering of a copied database are kassa-cli's tests (`tests/journal.rs` there).

mod support;
use support::*;

use kassa_core::journal::body::{ReturnBody, SaleBody, Standing};
use kassa_core::journal::signature::{signed_text, verify, FIRST_LINK};
use kassa_core::journal::{Entry, Kind, Zone};
use kassa_core::operator::{OperatorError, Role};
use kassa_core::provider::{OperationKind, OperationLine};
use kassa_core::secrets::Secret;
use kassa_core::session::Status;
use kassa_core::store::{
    JournalFilter, NewEvent, NewOperation, NewOperator, OperationState, SessionLog, StatusChange,
    StoreError, Via,
};

fn paid(log: &mut SessionLog, id: &str, at: i64, standing: Standing) {
    log.record_change(
        id,
        at,
        &StatusChange {
            to: Status::Paid,
            kind: "status",
            detail: "transaction T1 CAPTURED",
            payment_id: Some("T1"),
            operation: None,
            standing: Some(standing),
            operator_id: None,
        },
    )
    .unwrap();
}

/// A sale at `at`, paid a second later: its id. (Its answer lost, the provider then says
/// paid: the shortest legal way from the intent to paid.)
fn sale(log: &mut SessionLog, at: i64, reference: &str) -> String {
    let id = intent(log, at, reference);
    log.record_status(&id, Status::Unknown, at + 500, "status", "x", None, true)
        .unwrap();
    paid(log, &id, at + 1000, Standing::Captured);
    id
}

fn entries(log: &SessionLog) -> Vec<Entry> {
    log.journal_entries(&JournalFilter::default()).unwrap()
}

fn kinds(log: &SessionLog) -> Vec<Kind> {
    entries(log).into_iter().map(|e| e.kind).collect()
}

fn verified(log: &SessionLog) -> (i64, i64) {
    let summary = log
        .verify_journal()
        .unwrap()
        .unwrap_or_else(|f| panic!("{f}"));
    (summary[0].entries, summary[0].signed)
}

fn op<'a>(
    id: &'a str,
    session: &'a str,
    kind: OperationKind,
    via: Via,
    state: OperationState,
    lines: &'a [OperationLine],
    amount: i64,
) -> NewOperation<'a> {
    NewOperation {
        id,
        session_id: session,
        kind,
        via,
        amount,
        lines,
        reason: Some("returned by the customer"),
        pre_image: Some("[]"),
        state,
        at: T0 + 5000,
        operator_id: Some(1),
    }
}

/// Two of the sale's three coffees (the order of `support::order`: 3 × 19.99 at 25 %).
fn two_coffees() -> Vec<OperationLine> {
    vec![OperationLine {
        index: 0,
        name: "Kaffe".into(),
        sku: None,
        quantity: "2".into(),
        unit: None,
        vat_rate: "25".into(),
        gross: 3998,
        net: 3198,
        vat: 800,
    }]
}

#[test]
fn a_paid_sale_gets_one_signed_chained_receipt_entry() {
    let dir = TempDir::new("j-sale");
    let mut log = open(&dir.db());
    let id = sale(&mut log, T0, "R-1");
    // The key's creation came first (at the first sale), then the sale.
    assert_eq!(kinds(&log), [Kind::KeyCreated, Kind::Sale]);
    let e = log.sale_entry(&id).unwrap().expect("a sales receipt");
    assert_eq!(
        (e.seq, e.nr, e.gross_minor, e.net_minor, e.operator_id),
        (2, Some(1), Some(5997), Some(4798), Some(1))
    );
    assert_eq!(
        (e.event_code.as_str(), e.register_id.as_str()),
        ("13012", "1")
    );
    // The till's local time when it was written (Oslo, UTC+1 in November), kept as text.
    assert_eq!(
        (e.local_date.as_str(), e.local_time.as_str()),
        ("2026-11-21", "19:23:02")
    );
    let body: SaleBody = e.sale().unwrap();
    assert_eq!(
        (body.total.gross, body.total.net, body.total.vat),
        (5997, 4798, 1199)
    );
    assert_eq!(body.operator.name, "Owner");
    assert_eq!(body.payment.standing, Standing::Captured);
    assert_eq!(body.payment.payment_type, "12999");
    assert_eq!(body.payment.reference.as_deref(), Some("T1"));
    assert!(body.demo);
    assert_eq!(body.vat[0].rate, "25");
    assert_eq!(body.order["lines"][0]["name"], "Kaffe");
    // The signature is Skatteetaten's rule over the stored fields, checked with the public key
    // the journal holds (no keyring needed).
    let key = log.current_key("1").unwrap().unwrap();
    assert!(key.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let text = signed_text(FIRST_LINK, "2026-11-21", "19:23:02", 1, 5997, 4798).unwrap();
    verify(&key.public_key_pem, &text, e.signature.as_deref().unwrap()).unwrap();
    // Seen paid again (another process, a later poll): no second entry.
    log.record_status(&id, Status::Paid, T0 + 9000, "status", "again", None, true)
        .unwrap();
    paid(&mut log, &id, T0 + 9500, Standing::Captured);
    assert_eq!(entries(&log).len(), 2);
    assert_eq!(verified(&log), (2, 1));
}

#[test]
fn unpaid_ends_are_voids_and_receipt_numbers_run_on_without_gaps() {
    let dir = TempDir::new("j-void");
    let mut log = open(&dir.db());
    let a = sale(&mut log, T0, "R-1");
    for (i, to) in [Status::Cancelled, Status::Expired, Status::Failed]
        .into_iter()
        .enumerate()
    {
        let id = intent(&mut log, T0 + 10_000 * (i as i64 + 1), &format!("V-{i}"));
        log.record_status(&id, Status::Unknown, T0 + 20_000, "status", "x", None, true)
            .unwrap();
        log.record_status(
            &id,
            to,
            T0 + 30_000,
            "status",
            "the customer left",
            None,
            true,
        )
        .unwrap();
        log.record_status(&id, to, T0 + 31_000, "status", "again", None, true)
            .unwrap();
        let voids = log
            .journal_entries(&JournalFilter {
                session_id: Some(id.clone()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(voids.len(), 1, "{to}: one void");
        let v = &voids[0];
        assert_eq!(
            (v.kind, v.event_code.as_str(), v.nr),
            (Kind::Void, "13028", None)
        );
        let body = v.body_json().unwrap();
        assert_eq!(body["status"], to.as_str());
        assert_eq!(body["total"]["gross"], 5997);
    }
    let b = sale(&mut log, T0 + 100_000, "R-2");
    // Voids take journal numbers, not receipt numbers.
    let nr = |id: &str| log.sale_entry(id).unwrap().unwrap().nr;
    assert_eq!((nr(&a), nr(&b)), (Some(1), Some(2)));
    assert_eq!(verified(&log), (6, 2));
}

#[test]
fn refunds_recorded_refunds_and_voids_are_signed_returns() {
    let dir = TempDir::new("j-return");
    let mut log = open(&dir.db());
    let id = sale(&mut log, T0, "R-1");
    let lines = two_coffees();
    // A refund by API: requested, sent, done; the return entry comes with `done`.
    let r1 = "0190a000-0000-7000-8000-000000000001";
    log.record_operation(
        &op(
            r1,
            &id,
            OperationKind::Refund,
            Via::Api,
            OperationState::Requested,
            &lines,
            3998,
        ),
        "requested",
    )
    .unwrap();
    log.record_operation_state(r1, OperationState::Sent, T0 + 6000, None, None, "sent")
        .unwrap();
    assert!(log.return_entry(r1).unwrap().is_none(), "not done yet");
    log.record_operation_state(
        r1,
        OperationState::Done,
        T0 + 7000,
        Some("R-77"),
        None,
        "done",
    )
    .unwrap();
    let ret = log.return_entry(r1).unwrap().expect("a return receipt");
    assert_eq!(
        (
            ret.kind,
            ret.event_code.as_str(),
            ret.nr,
            ret.gross_minor,
            ret.net_minor
        ),
        (Kind::Return, "13013", Some(2), Some(-3998), Some(-3198))
    );
    let body: ReturnBody = ret.return_body().unwrap();
    assert_eq!(
        (body.original_nr, body.operation.as_str()),
        (Some(1), "refund")
    );
    assert_eq!(body.lines[0].quantity, "-2");
    assert_eq!((body.vat[0].net, body.vat[0].vat), (-3198, -800));
    assert_eq!(body.payment.standing, Standing::Refunded);
    assert_eq!(body.payment.reference.as_deref(), Some("R-77"));
    // Done again (a late read): nothing more.
    log.record_operation_state(r1, OperationState::Done, T0 + 7500, None, None, "again")
        .unwrap();
    // A refund staff recorded: a return marked as theirs, and a staff_recorded entry.
    let one = [OperationLine {
        quantity: "1".into(),
        gross: 1999,
        net: 1599,
        vat: 400,
        ..lines[0].clone()
    }];
    let r2 = "0190a000-0000-7000-8000-000000000002";
    log.record_operation(
        &NewOperation {
            reason: Some("cash back, receipt 4411"),
            ..op(
                r2,
                &id,
                OperationKind::RefundRecorded,
                Via::Staff,
                OperationState::Done,
                &one,
                1999,
            )
        },
        "recorded",
    )
    .unwrap();
    let ret2 = log.return_entry(r2).unwrap().unwrap();
    let body2 = ret2.return_body().unwrap();
    assert_eq!(body2.payment.confirmed_by.as_deref(), Some("staff"));
    assert!(body2.payment.evidence.contains("cash back, receipt 4411"));
    // A void of another sale's authorization: the whole sale goes back.
    let other = sale(&mut log, T0 + 50_000, "R-2");
    let v = "0190a000-0000-7000-8000-000000000003";
    log.record_operation(
        &op(
            v,
            &other,
            OperationKind::Void,
            Via::Api,
            OperationState::Requested,
            &[],
            5997,
        ),
        "requested",
    )
    .unwrap();
    log.record_operation_state(v, OperationState::Sent, T0 + 60_000, None, None, "sent")
        .unwrap();
    log.record_operation_state(v, OperationState::Done, T0 + 61_000, None, None, "done")
        .unwrap();
    let vret = log.return_entry(v).unwrap().unwrap();
    assert_eq!(
        (vret.gross_minor, vret.net_minor),
        (Some(-5997), Some(-4798))
    );
    assert_eq!(
        vret.return_body().unwrap().payment.standing,
        Standing::Voided
    );
    assert_eq!(
        kinds(&log),
        [
            Kind::KeyCreated,
            Kind::Sale,
            Kind::Return,
            Kind::Return,
            Kind::StaffRecorded,
            Kind::Sale,
            Kind::Return
        ]
    );
    // Receipt numbers 1..5 over sales and returns, one series.
    let nrs: Vec<i64> = entries(&log).iter().filter_map(|e| e.nr).collect();
    assert_eq!(nrs, [1, 2, 3, 4, 5]);
    assert_eq!(verified(&log), (7, 5));
}

#[test]
fn a_receipt_is_copied_once_and_only_a_receipt() {
    let dir = TempDir::new("j-copy");
    let mut log = open(&dir.db());
    let id = sale(&mut log, T0, "R-1");
    let by = log.owner_if_no_operators().unwrap().unwrap();
    let s = log.sale_entry(&id).unwrap().unwrap();
    let copy = log.record_copy(s.seq, &by, T0 + 60_000).unwrap();
    assert_eq!((copy.kind, copy.event_code.as_str()), (Kind::Copy, "13014"));
    assert_eq!((copy.ref_seq, copy.nr), (Some(s.seq), None));
    assert_eq!(copy.session_id.as_deref(), Some(id.as_str()));
    let body = copy.body_json().unwrap();
    assert_eq!(
        (body["original_nr"].as_i64(), body["gross"].as_i64()),
        (Some(1), Some(5997))
    );
    assert_eq!(log.copy_of(s.seq).unwrap().as_ref(), Some(&copy));
    match log.record_copy(s.seq, &by, T0 + 70_000).unwrap_err() {
        StoreError::CopyExists { nr, copy_seq, .. } => assert_eq!((nr, copy_seq), (1, copy.seq)),
        other => panic!("{other:?}"),
    }
    // Entry 1 is the key's creation: no receipt to copy; nor is an entry that does not exist.
    assert!(matches!(
        log.record_copy(1, &by, T0 + 70_000),
        Err(StoreError::NoReceipt { .. })
    ));
    assert!(matches!(
        log.record_copy(99, &by, T0 + 70_000),
        Err(StoreError::NoReceipt { .. })
    ));
    assert_eq!(verified(&log), (3, 1));
}

#[test]
fn without_its_key_nothing_is_recorded_and_the_session_stays_as_it_was() {
    let dir = TempDir::new("j-nokey");
    let mut plain = SessionLog::open(&dir.db()).unwrap();
    let id = intent(&mut plain, T0, "R-1");
    plain
        .record_status(&id, Status::Unknown, T0 + 1, "status", "x", None, true)
        .unwrap();
    let e = plain
        .record_status(&id, Status::Paid, T0 + 2, "status", "paid", None, true)
        .unwrap_err();
    assert!(matches!(e, StoreError::SigningKey { .. }), "{e}");
    assert!(e.to_string().contains("signing key"), "{e}");
    assert_eq!(plain.get(&id).unwrap().0.status, Status::Unknown);
    assert!(entries(&plain).is_empty());
    // With a keyring whose entry is another key: refused too, and said so.
    let mut log = open(&dir.db());
    let signer = log.signer(T0 + 3).unwrap();
    let k = log.current_key("1").unwrap().unwrap();
    let cred = kassa_core::journal::key_credential("1", "1", &k.key_id);
    let other = kassa_core::journal::SigningKey::generate().unwrap();
    let keyring = kassa_core::secrets::memory::shared();
    let saved = keyring.get(&cred).unwrap();
    keyring.set(&cred, &other.to_secret()).unwrap();
    let mut fresh = open(&dir.db());
    let e = fresh
        .record_status(&id, Status::Paid, T0 + 4, "status", "paid", None, true)
        .unwrap_err();
    assert!(e.to_string().contains("is not the key"), "{e}");
    keyring.set(&cred, &saved).unwrap();
    // Neither the signer nor the log prints the key.
    let shown = format!("{signer:?}");
    assert!(
        shown.contains("<redacted>") && !shown.contains(&saved.expose()[30..70]),
        "{shown}"
    );
}

#[test]
fn the_journal_and_its_keys_refuse_update_and_delete() {
    let dir = TempDir::new("j-append");
    let mut log = open(&dir.db());
    sale(&mut log, T0, "R-1");
    drop(log);
    let db = rusqlite::Connection::open(dir.db()).unwrap();
    for sql in [
        "UPDATE journal SET gross_minor = 1 WHERE kind = 'sale'",
        "DELETE FROM journal WHERE seq = 2",
        "UPDATE journal_keys SET public_key_pem = '-----BEGIN PUBLIC KEY-----x'",
        "DELETE FROM journal_keys",
    ] {
        let e = db.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    // A second sale entry for one session is refused by the database itself.
    let e = db
        .execute(
            "INSERT INTO journal SELECT register_id, 9, kind, event_code, at_ms, local_date,
                 local_time, operator_id, session_id, operation_id, ref_seq, 9, gross_minor,
                 net_minor, signature, key_version, body, prev_hash, hash
             FROM journal WHERE kind = 'sale'",
            [],
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("UNIQUE"), "{e}");
}

/// A receipt deleted from the end of the chain leaves no gap: its sale, paid, without it is
/// what finds it.
#[test]
fn a_receipt_deleted_from_the_end_is_found_by_its_paid_sale() {
    let dir = TempDir::new("j-tail");
    let mut log = open(&dir.db());
    sale(&mut log, T0, "R-1");
    sale(&mut log, T0 + 10_000, "R-2");
    drop(log);
    let db = rusqlite::Connection::open(dir.db()).unwrap();
    db.execute_batch(
        "DROP TRIGGER journal_append_only_delete;
         DELETE FROM journal WHERE seq = (SELECT max(seq) FROM journal);",
    )
    .unwrap();
    let log = open(&dir.db());
    let f = log.verify_journal().unwrap().unwrap_err();
    assert!(f.why.contains("is paid but has no sales receipt"), "{f}");
}

#[test]
fn two_writers_at_once_number_every_entry_without_a_gap() {
    let dir = TempDir::new("j-two");
    let path = dir.db();
    open(&path).signer(T0).unwrap();
    std::thread::scope(|s| {
        for w in 0..2 {
            let path = path.clone();
            s.spawn(move || {
                let mut log = open(&path);
                for i in 0..40 {
                    log.journal_event(&NewEvent {
                        kind: Kind::SettingsChange,
                        operator_id: Some(1),
                        session_id: None,
                        ref_seq: None,
                        body: serde_json::json!({"writer": w, "i": i}),
                        at: T0 + i,
                    })
                    .unwrap();
                    if i % 10 == 0 {
                        sale(&mut log, T0 + 1000 * i + w, &format!("W{w}-{i}"));
                    }
                }
            });
        }
    });
    let log = open(&path);
    let all = entries(&log);
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=all.len() as i64).collect::<Vec<_>>());
    let nrs: Vec<i64> = all.iter().filter_map(|e| e.nr).collect();
    assert_eq!(nrs, (1..=8).collect::<Vec<_>>());
    assert_eq!(verified(&log), (1 + 80 + 8, 8));
}

#[test]
fn entries_keep_the_local_time_they_were_written_at_and_list_by_date() {
    let dir = TempDir::new("j-dates");
    let mut log = open(&dir.db());
    let event = |at| NewEvent {
        kind: Kind::AppStart,
        operator_id: None,
        session_id: None,
        ref_seq: None,
        body: serde_json::json!({}),
        at,
    };
    // 2026-11-21T23:30Z is already the 22nd in Oslo; in Tokyo later still.
    let late = 1_795_303_800_000;
    log.journal_event(&event(late)).unwrap();
    log.set_time_zone(Zone::named("Asia/Tokyo").unwrap());
    log.journal_event(&event(late)).unwrap();
    let all = entries(&log);
    assert_eq!(
        (all[0].local_date.as_str(), all[0].local_time.as_str()),
        ("2026-11-22", "00:30:00")
    );
    assert_eq!(
        (all[1].local_date.as_str(), all[1].local_time.as_str()),
        ("2026-11-22", "08:30:00")
    );
    let on = |from: &str, to: &str| {
        log.journal_entries(&JournalFilter {
            from_date: Some(from.into()),
            to_date: Some(to.into()),
            ..Default::default()
        })
        .unwrap()
        .len()
    };
    assert_eq!(
        (
            on("2026-11-22", "2026-11-22"),
            on("2026-11-21", "2026-11-21")
        ),
        (2, 0)
    );
}

#[test]
fn operators_log_in_with_their_pin_and_every_change_is_journaled() {
    let dir = TempDir::new("j-operators");
    let mut log = open(&dir.db());
    let owner = log
        .owner_if_no_operators()
        .unwrap()
        .expect("no operators: the owner");
    assert_eq!(
        (owner.id(), owner.role(), owner.by_pin()),
        (1, Role::Manager, false)
    );
    let pin_kari = Secret::new("58302961477301");
    let pin_ola = Secret::new("77190436252809");
    let add = |log: &mut SessionLog, by, name, role, pin| {
        log.add_operator(
            by,
            &NewOperator {
                id: None,
                name,
                role,
                pin,
            },
            T0,
        )
    };
    assert!(matches!(
        add(&mut log, &owner, "Kari", Role::Cashier, &pin_kari),
        Err(StoreError::Operator(OperatorError::FirstMustBeManager))
    ));
    let ola = add(&mut log, &owner, "Ola", Role::Manager, &pin_ola).unwrap();
    assert_eq!(ola.id, 1, "the first operator takes the owner's number");
    assert!(log.owner_if_no_operators().unwrap().is_none());
    // Wrong PIN: refused and journaled (the id tried, never the PIN).
    let e = log
        .login(1, &Secret::new("00000000000000"), false, T0 + 1)
        .unwrap_err();
    assert_eq!(e.code(), kassa_core::code::Code::WrongPin);
    let m = log.login(1, &pin_ola, false, T0 + 2).unwrap();
    let kari = add(&mut log, &m, "Kari", Role::Cashier, &pin_kari).unwrap();
    assert_eq!(kari.id, 2);
    let k = log.login(2, &pin_kari, false, T0 + 3).unwrap();
    assert!(matches!(
        add(&mut log, &k, "Per", Role::Cashier, &pin_kari),
        Err(StoreError::Operator(OperatorError::ManagerRequired { .. }))
    ));
    assert!(matches!(
        log.remove_operator(&m, 1, T0 + 4),
        Err(StoreError::Operator(OperatorError::LastManager { id: 1 }))
    ));
    log.remove_operator(&m, 2, T0 + 5).unwrap();
    assert!(matches!(
        log.login(2, &pin_kari, false, T0 + 6),
        Err(StoreError::Operator(OperatorError::Removed { id: 2 }))
    ));
    log.logout(&m, T0 + 7).unwrap();
    assert_eq!(
        kinds(&log),
        [
            Kind::OperatorChange,
            Kind::LoginFailed,
            Kind::Login,
            Kind::OperatorChange,
            Kind::Login,
            Kind::OperatorChange,
            Kind::LoginFailed,
            Kind::Logout
        ]
    );
    let failed = &entries(&log)[1];
    assert_eq!(
        (failed.event_code.as_str(), failed.operator_id),
        ("13999", Some(1))
    );
    drop(log);
    // The PINs are nowhere in the file: only their Argon2id hashes.
    let bytes = std::fs::read(dir.db()).unwrap();
    let wal = std::fs::read(dir.0.join("sessions.db-wal")).unwrap_or_default();
    for pin in [&pin_kari, &pin_ola] {
        let p = pin.expose().as_bytes();
        for file in [&bytes, &wal] {
            assert!(
                !file.windows(p.len()).any(|w| w == p),
                "a PIN in the database"
            );
        }
    }
    let db = rusqlite::Connection::open(dir.db()).unwrap();
    let phc: String = db
        .query_row("SELECT pin_phc FROM operators WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(phc.starts_with("$argon2id$"), "{phc}");
}
