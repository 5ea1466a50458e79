//! X and Z reports as the session log makes them, on a real SQLite file: the totals are the
//! sums of the journal's receipts, the full report is journaled, a Z closes its period in the
//! same transaction, one Z per register per day, the grand totals run on, money in flight is
//! shown, and the start reminder finds a day with sales and no Z.

mod support;
use support::*;

use kassa_core::journal::{Entry, Kind};
use kassa_core::report::ReportKind;
use kassa_core::store::{JournalFilter, SessionLog, StoreError};

const DAY: i64 = 86_400_000;

fn sale(log: &mut SessionLog, at: i64, reference: &str) -> String {
    let id = intent(log, at, reference);
    pay(log, &id, at);
    id
}

fn signed(log: &SessionLog) -> Vec<Entry> {
    log.journal_entries(&JournalFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.nr.is_some())
        .collect()
}

#[test]
fn a_z_sums_the_days_receipts_is_journaled_in_full_and_closes_the_period() {
    let dir = TempDir::new("r-z");
    let mut log = open(&dir.db());
    let owner = owner(&log);
    let a = sale(&mut log, T0, "R-1");
    sale(&mut log, T0 + 60_000, "R-2");
    record_refund_of_one(
        &mut log,
        &a,
        "0190a000-0000-7000-8000-0000000000a1",
        T0 + 80_000,
    );
    log.record_copy(
        log.sale_entry(&a).unwrap().unwrap().seq,
        &owner,
        T0 + 90_000,
    )
    .unwrap();
    // A sale still open at the provider: shown as money in flight, not as a sale.
    intent(&mut log, T0 + 100_000, "R-open");

    let (x_entry, x) = log.x_report(&owner, T0 + 120_000).unwrap();
    assert_eq!(
        (x_entry.kind, x_entry.event_code.as_str()),
        (Kind::XReport, "13008")
    );
    assert_eq!(
        log.report_in(&x_entry).unwrap(),
        x,
        "the X is journaled in full"
    );
    let (z_entry, z) = log.z_report(&owner, T0 + 180_000).unwrap();
    assert_eq!(
        (z_entry.kind, z_entry.event_code.as_str()),
        (Kind::ZReport, "13009")
    );
    assert_eq!(
        log.report_in(&z_entry).unwrap(),
        z,
        "the Z is journaled in full"
    );

    let receipts = signed(&log);
    let sum = |kind: Kind| -> i64 {
        receipts
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.gross_minor.unwrap())
            .sum()
    };
    for r in [&x, &z] {
        assert_eq!((r.sales_count, r.sales_gross), (2, sum(Kind::Sale)));
        assert_eq!((r.returns_count, r.returns_gross), (1, -sum(Kind::Return)));
        assert_eq!(r.vat.iter().map(|v| v.gross).sum::<i64>(), r.net_gross);
        assert_eq!((r.copies.count, r.copies.amount), (1, 5997));
        assert_eq!((r.staff_recorded.count, r.staff_recorded.amount), (1, 1999));
        assert_eq!((r.in_flight.open.count, r.in_flight.open.amount), (1, 5997));
        assert_eq!(r.grand_total.net, sum(Kind::Sale) + sum(Kind::Return));
    }
    assert_eq!(
        (z.period.kind, z.period.number, z.period.previous_z),
        (ReportKind::Z, 1, None)
    );
    assert_eq!(x.period.number, 1);
    assert_eq!(
        z.period.to_seq,
        z_entry.seq - 1,
        "the Z covers everything before it"
    );

    // One Z a day: refused, clearly, and nothing journaled.
    let before = log
        .journal_entries(&JournalFilter::default())
        .unwrap()
        .len();
    let err = log.z_report(&owner, T0 + 240_000).unwrap_err();
    assert!(
        matches!(err, StoreError::ZExists { number: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("one Z per register per day"),
        "{err}"
    );
    assert_eq!(err.code().as_str(), "z_report_exists");
    assert_eq!(
        log.journal_entries(&JournalFilter::default())
            .unwrap()
            .len(),
        before
    );

    // The next day: the period starts after the Z, the grand totals run on.
    let b = sale(&mut log, T0 + DAY, "R-3");
    let (_, z2) = log.z_report(&owner, T0 + DAY + 60_000).unwrap();
    assert_eq!((z2.period.number, z2.period.previous_z), (2, Some(1)));
    assert_eq!(z2.period.from_seq, z_entry.seq + 1);
    assert_eq!(
        (z2.sales_count, z2.returns_count, z2.copies.count),
        (1, 0, 0)
    );
    assert_eq!(
        z2.sales_gross,
        log.sale_entry(&b).unwrap().unwrap().gross_minor.unwrap()
    );
    assert_eq!(z2.grand_total.sales, z.grand_total.sales + z2.sales_gross);
    assert_eq!(z2.grand_total.returns, z.grand_total.returns);
    let summary = log.verify_journal().unwrap().unwrap();
    assert_eq!(summary[0].signed, 4);
}

#[test]
fn the_start_reminder_names_a_day_with_sales_and_no_z() {
    let dir = TempDir::new("r-remind");
    let mut log = open(&dir.db());
    let owner = owner(&log);
    assert_eq!(log.day_without_z(T0).unwrap(), None, "nothing sold");
    sale(&mut log, T0, "R-1");
    assert_eq!(
        log.day_without_z(T0 + 60_000).unwrap(),
        None,
        "today is not over"
    );
    assert_eq!(
        log.day_without_z(T0 + DAY).unwrap().as_deref(),
        Some("2026-11-21")
    );
    // Closed the next morning: the Z covers the day before, nothing is left to remind of.
    log.z_report(&owner, T0 + DAY).unwrap();
    assert_eq!(log.day_without_z(T0 + 2 * DAY).unwrap(), None);
}

#[test]
fn an_empty_period_makes_a_zero_report() {
    let dir = TempDir::new("r-empty");
    let mut log = open(&dir.db());
    let owner = owner(&log);
    let (_, z) = log.z_report(&owner, T0).unwrap();
    assert_eq!((z.sales_count, z.sales_gross, z.vat.len()), (0, 0, 0));
    assert_eq!(
        (z.period.number, z.period.from_seq, z.period.to_seq),
        (1, 1, 0)
    );
}
