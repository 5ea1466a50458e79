//! The SAF-T Cash Register export of a journal on a real SQLite file (the key from the
//! in-memory keyring): the file validates against the official XSD and a strict copy of it,
//! every signature verifies with openssl from the file's own text, every code it uses is
//! declared, the signed fields are the journal's own, the export is journaled, and a period
//! that starts after earlier receipts carries its chain's first link.

mod support;
use support::*;

#[path = "support/saft_check.rs"]
mod saft_check;

use kassa_core::catalog::{Catalog, Product};
use kassa_core::journal::Kind;
use kassa_core::receipt::Seller;
use kassa_core::saft::{export, ExportRequest};
use kassa_core::session::{SessionId, Status};
use kassa_core::store::{JournalFilter, NewSession, SessionLog};

const DAY: i64 = 86_400_000;

/// A sale of a product from the list (its SKU becomes the line's `artID`), with a discount
/// and two VAT rates, paid with Dintero.
fn product_sale(log: &mut SessionLog, at: i64) -> String {
    let order = kassa_core::quote_document(
        r#"{"currency":"NOK","prices_include_vat":true,"reference":"P-1","lines":[
            {"name":"Rundstykke grovt & godt","sku":"RUNDSTYKKE","quantity":"2","unit_price":1725,"vat_rate":"15"},
            {"name":"Kaffekrus <stentøy>","quantity":"1","unit_price":10000,"vat_rate":"25","discount":1000}]}"#,
        "X",
    )
    .unwrap();
    let id = SessionId::new(at, 4242);
    log.record_intent(&NewSession {
        id: id.clone(),
        provider: "dintero",
        profile: "test",
        demo: false,
        order: &order,
        created_at: at,
        capture_policy: Some(kassa_core::provider::CapturePolicy::AtSale),
        operator_id: Some(1),
        link: None,
    })
    .unwrap();
    pay(log, id.as_str(), at);
    id.to_string()
}

fn seller() -> Seller {
    Seller {
        name: "Demo Bakeri & Kaffe AS".into(),
        address: vec!["Storgata 1".into(), "9008 Tromsø".into()],
        org_number: Some("923609016".into()),
        vat_registered: true,
    }
}

fn catalog() -> Catalog {
    Catalog {
        products: vec![Product {
            sku: "RUNDSTYKKE".into(),
            name: "Rundstykke grovt".into(),
            unit_price: 1725,
            vat_rate: "15".into(),
            favourite: true,
        }],
    }
}

#[test]
fn a_days_export_validates_and_every_signature_verifies_independently() {
    let dir = TempDir::new("saft-day");
    let mut log = open(&dir.db());
    let owner = owner(&log);
    let a = intent(&mut log, T0, "R-1");
    pay(&mut log, &a, T0);
    let b = product_sale(&mut log, T0 + 60_000);
    // A refund staff recorded (a return, and a staff_recorded event).
    record_refund_of_one(
        &mut log,
        &a,
        "0190a000-0000-7000-8000-0000000000b1",
        T0 + 70_000,
    );
    log.record_copy(
        log.sale_entry(&b).unwrap().unwrap().seq,
        &owner,
        T0 + 80_000,
    )
    .unwrap();
    // A sale that ended unpaid: a void event.
    let v = intent(&mut log, T0 + 90_000, "R-void");
    log.record_status(&v, Status::Unknown, T0 + 92_000, "status", "x", None, true)
        .unwrap();
    log.record_status(
        &v,
        Status::Cancelled,
        T0 + 95_000,
        "status",
        "left",
        None,
        true,
    )
    .unwrap();
    log.x_report(&owner, T0 + 100_000).unwrap();
    log.z_report(&owner, T0 + 110_000).unwrap();

    let day = log.local_stamp(T0).date;
    let out = TempDir::new("saft-day-out");
    let day_export = |log: &mut SessionLog| {
        export(
            log,
            &ExportRequest {
                from: &day,
                to: &day,
                out: &out.0,
                seller: &seller(),
                catalog: &catalog(),
                by: &owner,
                now: T0 + 120_000,
            },
        )
        .unwrap()
    };
    let done = day_export(&mut log);
    let name = done.path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("SAF-T Cash Register_923609016_20261121") && name.ends_with("_1.xml"),
        "{name}"
    );
    assert_eq!(done.transactions, 3);
    saft_check::validate(&done.path, &out.0);
    let xml = std::fs::read_to_string(&done.path).unwrap();
    let key = log.current_key("1").unwrap().unwrap();
    assert_eq!(
        saft_check::verify_signatures(&xml, &key.public_key_pem, &out.0),
        3
    );
    saft_check::check_references(&xml);

    // The signed fields and signatures are the journal's own bytes.
    let receipts: Vec<_> = log
        .journal_entries(&JournalFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.nr.is_some())
        .collect();
    let cts = saft_check::texts(&xml, "cashtransaction");
    for (e, ct) in receipts.iter().zip(&cts) {
        assert_eq!(
            saft_check::texts(ct, "signature")[0],
            e.signature.as_deref().unwrap()
        );
        assert_eq!(saft_check::texts(ct, "transTime")[0], e.local_time);
    }
    let ret = cts[2];
    assert_eq!(saft_check::texts(ret, "transAmntIn")[0], "-19.99");
    assert_eq!(saft_check::texts(ret, "amntTp")[0], "D");
    assert_eq!(saft_check::texts(ret, "refID")[0], "1");
    assert_eq!(saft_check::texts(ret, "paymentType")[0], "DEMO");
    let product = cts[1];
    assert_eq!(saft_check::texts(product, "artID"), ["RUNDSTYKKE"]);
    assert_eq!(saft_check::texts(product, "dscAmnt"), ["10.00"]);
    assert_eq!(saft_check::texts(product, "paymentType")[0], "DINTERO");
    assert_eq!(saft_check::texts(product, "receiptCopyNum")[0], "1");
    assert!(xml.contains("Rundstykke grovt &amp; godt") && xml.contains("&lt;stentøy&gt;"));
    // Events: every entry of the day, the Z with its report.
    assert!(xml.contains("<reportType>Z report</reportType>"));
    assert!(xml.contains("<reportType>X report</reportType>"));
    assert_eq!(
        saft_check::texts(&xml, "eventType").len() as u64,
        done.events
    );
    // The export itself is journaled (13020), for the next export.
    let last = log.journal_entry("1", done.entry_seq).unwrap().unwrap();
    assert_eq!(
        (last.kind, last.event_code.as_str()),
        (Kind::Export, "13020")
    );
    assert_eq!(last.body_json().unwrap()["file"], name.as_str());
    assert!(log.verify_journal().unwrap().is_ok());
    // A second export the same second gets the next number.
    let again = day_export(&mut log);
    assert!(again.path.to_str().unwrap().ends_with("_2.xml"));
    saft_check::validate(&again.path, &out.0);
}

#[test]
fn a_later_period_names_the_signature_its_chain_starts_from() {
    let dir = TempDir::new("saft-later");
    let mut log = open(&dir.db());
    let owner = owner(&log);
    for i in 0..2 {
        let id = intent(&mut log, T0 + i * 1000, &format!("R-{i}"));
        pay(&mut log, &id, T0 + i * 1000);
    }
    let id = intent(&mut log, T0 + DAY, "R-next");
    pay(&mut log, &id, T0 + DAY);
    let day2 = log.local_stamp(T0 + DAY).date;
    let out = TempDir::new("saft-later-out");
    let file = out.0.join("day2.xml");
    let done = export(
        &mut log,
        &ExportRequest {
            from: &day2,
            to: &day2,
            out: &file,
            seller: &seller(),
            catalog: &Catalog::default(),
            by: &owner,
            now: T0 + DAY + 5000,
        },
    )
    .unwrap();
    assert_eq!(
        (done.path.as_path(), done.transactions),
        (file.as_path(), 1)
    );
    let xml = std::fs::read_to_string(&file).unwrap();
    let before = log.signature_before("1", &day2).unwrap();
    assert!(xml.contains(&format!("previous signature: {before}")));
    saft_check::validate(&file, &out.0);
    let key = log.current_key("1").unwrap().unwrap();
    assert_eq!(
        saft_check::verify_signatures(&xml, &key.public_key_pem, &out.0),
        1
    );
}

#[test]
fn bad_dates_and_a_missing_org_number_are_refused_and_leave_no_file() {
    let dir = TempDir::new("saft-bad");
    let mut log = open(&dir.db());
    let owner = owner(&log);
    let out = TempDir::new("saft-bad-out");
    let mut req = ExportRequest {
        from: "2026-13-01",
        to: "2026-12-31",
        out: &out.0,
        seller: &seller(),
        catalog: &Catalog::default(),
        by: &owner,
        now: T0,
    };
    let err = export(&mut log, &req).unwrap_err().to_string();
    assert!(
        err.contains("--from: \"2026-13-01\" is not a date"),
        "{err}"
    );
    req.from = "2027-01-01";
    let err = export(&mut log, &req).unwrap_err().to_string();
    assert!(err.contains("is after --to"), "{err}");
    req.from = "2026-01-01";
    let no_org = Seller {
        org_number: None,
        ..seller()
    };
    req.seller = &no_org;
    let err = export(&mut log, &req).unwrap_err().to_string();
    assert!(err.contains("shop.org_number is not set"), "{err}");
    assert_eq!(std::fs::read_dir(&out.0).unwrap().count(), 0);
}
