//! The receipt model and its layout: what it says, that its figures add up, and how it looks
//! at 42 and 48 columns.

use super::*;
use crate::provider::{CapturePolicy, OperationKind};
use crate::session::Status;
use crate::store::OperationState;

/// Two rates, a weighed line, a line discount and an order discount: every kind of figure.
const ORDER: &str = r#"{
  "reference": "A-1001",
  "currency": "NOK",
  "prices_include_vat": true,
  "discount": 1000,
  "lines": [
    { "sku": "RUNDSTYKKE", "name": "Rundstykke grovt", "quantity": "2", "unit_price": 1725, "vat_rate": "15" },
    { "sku": "KRUS-01", "name": "Kaffekrus, stentøy", "quantity": "1", "unit_price": 10000, "vat_rate": "25", "discount": 500 },
    { "name": "Laks, røkt", "quantity": "0.35", "unit": "kg", "unit_price": 19900, "vat_rate": "15" }
  ]
}"#;

fn order() -> PricedOrder {
    // Through the session log's shape, as the journal will read it back.
    let priced = crate::quote_document(ORDER, "unused").unwrap();
    crate::quote::from_logged(&crate::quote::to_logged(&priced)).unwrap()
}

fn seller() -> Seller {
    Seller {
        name: "Demo Bakeri & Kaffe AS".into(),
        address: vec!["Storgata 1".into(), "9008 Tromsø".into()],
        org_number: Some("923609016".into()),
        vat_registered: true,
    }
}

fn session(gross: i64) -> SessionRecord {
    SessionRecord {
        id: "0190b2a4-0000-7000-8000-000000000001".into(),
        provider: "dintero".into(),
        profile: "test".into(),
        demo: false,
        provider_session_id: Some("T11223344.5a8GmD6Q9rF".into()),
        merchant_reference: "A-1001".into(),
        currency: "NOK".into(),
        gross_minor: gross,
        net_minor: 0,
        vat_minor: 0,
        order_json: String::new(),
        checkout_url: Some(
            "https://checkout.test.dintero.com/v1/view/T11223344.5a8GmD6Q9rF".into(),
        ),
        qr_payload: Some("https://checkout.test.dintero.com/v1/view/T11223344.5a8GmD6Q9rF".into()),
        status: Status::Paid,
        created_at: 0,
        updated_at: 0,
        expires_at: None,
        last_error: None,
        provider_payment_id: Some("P00112233.5a8GmD6Q9rF".into()),
        confirmed_by: None,
        capture_policy: Some(CapturePolicy::AtSale),
        authorization_expires_at: None,
        sale: crate::link::SaleKind::Counter,
        requested_expires_at: None,
        contact: None,
        contact_masked: None,
        renews: None,
        operator_id: Some(1),
    }
}

fn capture(amount: i64, state: OperationState) -> OperationRecord {
    OperationRecord {
        id: "op-1".into(),
        session_id: "s".into(),
        kind: OperationKind::Capture,
        via: Via::Session,
        amount,
        lines: Vec::new(),
        reason: None,
        state,
        pre_image: None,
        provider_reference: None,
        captured_after: None,
        refunded_after: None,
        error: None,
        created_at: 0,
        updated_at: 0,
        sent_at: None,
        operator_id: Some(1),
    }
}

fn meta(kind: ReceiptKind) -> ReceiptMeta {
    ReceiptMeta {
        kind,
        copy: None,
        number: 17,
        at: Stamp::parse("2026-03-02", "10:15:30").unwrap(),
        register_id: "KASSA-1".into(),
        operator: Operator {
            id: 1,
            name: "Kari Nordmann".into(),
        },
        market: Market::No,
    }
}

fn sale() -> ReceiptDoc {
    let o = order();
    let p = Payment::from_session(
        &session(o.total.gross),
        &[capture(o.total.gross, OperationState::Done)],
    );
    build(&o, &p, &seller(), &meta(ReceiptKind::Sale)).unwrap()
}

fn text(lines: &[Line]) -> String {
    lines.iter().map(|l| format!("{}\n", l.text)).collect()
}

fn cols(n: usize) -> Columns {
    Columns::new(n).unwrap()
}

#[test]
fn a_sale_receipt_reads_like_this_at_42_columns() {
    let lines = sale().lines(cols(42));
    assert_eq!(
        text(&lines),
        "   Salgskvittering
          Demo Bakeri & Kaffe AS
                Storgata 1
               9008 Tromsø
         Org.nr. 923 609 016 MVA
------------------------------------------
Kvittering nr.                          17
Dato                   02.03.2026 10:15:30
Kasse                              KASSA-1
Operatør                   1 Kari Nordmann
------------------------------------------
Rundstykke grovt                     32,77
  2 x 17,25
  Rabatt -1,73
Kaffekrus, stentøy                   90,23
  1 x 100,00
  Rabatt -9,77
Laks, røkt                           66,15
  0,35 kg x 199,00
  Rabatt -3,50
------------------------------------------
TOTALT NOK                          189,15
------------------------------------------
MVA       Grunnlag   MVA-beløp      Brutto
25 %         72,18       18,05       90,23
15 %         86,02       12,90       98,92
Sum         158,20       30,95      189,15
------------------------------------------
Betalt med Dintero                  189,15
  Referanse P00112233.5a8GmD6Q9rF
  Ordre A-1001
  Belastet
"
    );
    // The heading is the only large line; the seller's name and the total are bold.
    let styled: Vec<(&str, Size, bool)> = lines
        .iter()
        .filter(|l| l.size == Size::Double || l.bold)
        .map(|l| (l.text.trim(), l.size, l.bold))
        .collect();
    assert_eq!(
        styled,
        [
            ("Salgskvittering", Size::Double, true),
            ("Demo Bakeri & Kaffe AS", Size::Normal, true),
            (
                "TOTALT NOK                          189,15",
                Size::Normal,
                true
            ),
        ]
    );
}

#[test]
fn the_total_is_the_sum_of_the_lines_and_of_the_vat_rows() {
    let o = order();
    let doc = sale();
    let items = doc.item_amounts();
    assert_eq!(items, o.lines.iter().map(|l| l.gross).collect::<Vec<_>>());
    assert_eq!(doc.total(), Some(items.iter().sum()));
    assert_eq!(doc.total(), Some(o.total.gross));
    let Some(Row::Vat(vat)) = doc.rows.iter().find(|r| matches!(r, Row::Vat(_))) else {
        panic!("a VAT table")
    };
    assert_eq!(
        vat.rows
            .iter()
            .map(|r| (r.label.as_str(), r.base, r.vat, r.gross))
            .collect::<Vec<_>>(),
        o.vat_summary
            .iter()
            .map(|r| (
                if r.vat_rate.basis_points() == 2500 {
                    "25 %"
                } else {
                    "15 %"
                },
                r.net,
                r.vat,
                r.gross
            ))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        (vat.sum.base, vat.sum.vat, vat.sum.gross),
        (o.total.net, o.total.vat, o.total.gross)
    );
    // Discounts are shown and are part of the amounts: before discount − discount = amount.
    let discounts: i64 = doc
        .rows
        .iter()
        .filter_map(|r| match r {
            Row::Item(i) => Some(i.discount),
            _ => None,
        })
        .sum();
    // The line discount (5,00) and the order discount (10,00) spread over the lines.
    assert_eq!(discounts, 500 + 1000);
}

#[test]
fn a_logged_order_that_does_not_add_up_gets_no_receipt() {
    let mut o = order();
    o.total.gross += 1;
    let p = Payment::from_session(&session(o.total.gross), &[]);
    let e = build(&o, &p, &seller(), &meta(ReceiptKind::Sale)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot make the receipt: the order's total 18916 is not the sum of its lines 18915"
    );
    let mut o = order();
    o.vat_summary[0].vat += 1;
    let e = build(&o, &p, &seller(), &meta(ReceiptKind::Sale)).unwrap_err();
    assert!(e.to_string().contains("VAT per rate comes to"), "{e}");
}

/// A refund by checkout's rules (`refund.rs`), so the figures are the engine's own: both rolls
/// back, or an amount spread over the lines.
fn refund(basis: crate::refund::Basis) -> Refund {
    let o = order();
    let nothing_taken = vec![crate::refund::Taken::default(); o.lines.len()];
    Refund {
        of_number: 17,
        lines: crate::refund::refund_lines(&o, &nothing_taken, &basis).unwrap(),
        reference: Some("R-998877".into()),
        recorded_by_staff: false,
    }
}

fn rolls() -> crate::refund::Basis {
    crate::refund::Basis::Lines(vec![(0, crate::Quantity::parse("2").unwrap())])
}

#[test]
fn a_return_receipt_shows_what_went_back_negative() {
    let o = order();
    let r = refund(rolls());
    let gross: i64 = r.lines.iter().map(|l| l.gross).sum();
    let p = Payment::from_session(
        &session(o.total.gross),
        &[capture(o.total.gross, OperationState::Done)],
    );
    let mut m = meta(ReceiptKind::Return(r.clone()));
    m.number = 18;
    let doc = build(&o, &p, &seller(), &m).unwrap();
    assert_eq!(doc.total(), Some(-gross));
    assert!(doc.item_amounts().iter().all(|a| *a < 0));
    assert_eq!(doc.item_amounts().iter().sum::<i64>(), -gross);
    let t = text(&doc.lines(cols(42)));
    assert!(t.starts_with("   Returkvittering\n"), "{t}");
    for expected in [
        "Kvittering nr.                          18\n",
        "Retur av kvittering nr.                 17\n",
        "Rundstykke grovt                    -32,77\n  -2 x 17,25\n",
        "TOTALT NOK                          -32,77\n",
        "Tilbakebetalt til Dintero",
        "  Referanse R-998877\n",
        "Sum ",
    ] {
        assert!(t.contains(expected), "{expected:?} in\n{t}");
    }
    // The sale's payment reference and capture state are the sale's, not the return's.
    assert!(!t.contains("P00112233") && !t.contains("Belastet"), "{t}");
    let Some(Row::Vat(vat)) = doc.rows.iter().find(|r| matches!(r, Row::Vat(_))) else {
        panic!("a VAT table")
    };
    assert_eq!(vat.sum.gross, -gross);
    assert!(vat.rows.iter().all(|r| r.base < 0 && r.vat < 0));
    // A refund by amount gives money back, no goods.
    let by_amount = refund(crate::refund::Basis::Amount(5000));
    let doc = build(&o, &p, &seller(), &meta(ReceiptKind::Return(by_amount))).unwrap();
    assert_eq!(doc.total(), Some(-5000));
    let t = text(&doc.lines(cols(42)));
    assert_eq!(t.matches("  kun beløp\n").count(), 3, "{t}");
    // A refund recorded by staff says so.
    let mut staff = refund(rolls());
    staff.recorded_by_staff = true;
    let doc = build(&o, &p, &seller(), &meta(ReceiptKind::Return(staff))).unwrap();
    let t = text(&doc.lines(cols(42)));
    // 45 characters: wrapped at 42.
    assert!(
        t.ends_with("Tilbakebetalingen er registrert av\npersonalet\n"),
        "{t}"
    );
    // A refund of nothing is no receipt.
    let mut none = refund(rolls());
    none.lines.clear();
    assert!(build(&o, &p, &seller(), &meta(ReceiptKind::Return(none))).is_err());
}

#[test]
fn a_copy_is_marked_kopi_at_the_top_and_the_foot() {
    let o = order();
    let p = Payment::from_session(
        &session(o.total.gross),
        &[capture(o.total.gross, OperationState::Done)],
    );
    let mut m = meta(ReceiptKind::Sale);
    m.copy = Some(Stamp::parse("2026-03-02", "11:05:00").unwrap());
    let lines = build(&o, &p, &seller(), &m).unwrap().lines(cols(48));
    let kopi = Line {
        text: format!("{}KOPI", " ".repeat(10)),
        size: Size::Double,
        bold: true,
    };
    assert_eq!(lines.first(), Some(&kopi));
    assert_eq!(
        lines.last(),
        lines
            .get(1)
            .filter(|l| l.text.contains("IKKE KVITTERING FOR KJØP"))
    );
    assert_eq!(lines[lines.len() - 2], kopi);
    let t = text(&lines);
    // The original's number, date and time, and when the copy was printed.
    assert!(
        t.contains("Kvittering nr.                                17\n"),
        "{t}"
    );
    assert!(
        t.contains("Dato                         02.03.2026 10:15:30\n"),
        "{t}"
    );
    assert!(
        t.contains("Kopi skrevet ut              02.03.2026 11:05:00\n"),
        "{t}"
    );
    assert!(t.contains("Salgskvittering"));
}

#[test]
fn a_demo_receipt_says_no_money_moved_and_needs_no_org_number() {
    let o = order();
    let mut s = session(o.total.gross);
    s.provider = "demo".into();
    s.demo = true;
    let p = Payment::from_session(&s, &[capture(o.total.gross, OperationState::Done)]);
    let mut unregistered = seller();
    unregistered.org_number = None;
    let lines = build(&o, &p, &unregistered, &meta(ReceiptKind::Sale))
        .unwrap()
        .lines(cols(42));
    // The en dash is not in PC865: the paper, the PDF and the screen all show a hyphen.
    let demo = "         DEMO - ingen ekte penger";
    assert_eq!((lines[0].text.as_str(), lines[0].bold), (demo, true));
    assert_eq!(lines.last().map(|l| l.text.as_str()), Some(demo));
    assert!(text(&lines).contains("Betalt med Demo "));
    assert!(!text(&lines).contains("Org.nr."));
    // A real sale without the organisation number is refused, with what to do.
    let p = Payment::from_session(&session(o.total.gross), &[]);
    assert_eq!(
        build(&o, &p, &unregistered, &meta(ReceiptKind::Sale)).unwrap_err(),
        ReceiptError::NoOrgNumber
    );
    assert!(ReceiptError::NoOrgNumber
        .to_string()
        .contains("kassa-cli config set shop.org_number"));
}

#[test]
fn the_payment_says_how_far_the_money_moved_and_who_confirmed_it() {
    let o = order();
    let g = o.total.gross;
    let state = |s: &SessionRecord, ops: &[OperationRecord]| Payment::from_session(s, ops).state;
    let s = session(g);
    assert_eq!(
        state(&s, &[capture(g, OperationState::Done)]),
        PaymentState::Captured
    );
    assert_eq!(
        state(&s, &[capture(g, OperationState::Sent)]),
        PaymentState::Authorized
    );
    assert_eq!(
        state(&s, &[capture(5000, OperationState::Done)]),
        PaymentState::PartlyCaptured { captured: 5000 }
    );
    let mut legacy = session(g);
    legacy.capture_policy = None;
    assert_eq!(state(&legacy, &[]), PaymentState::Paid);
    let mut manual = session(g);
    manual.capture_policy = Some(CapturePolicy::Manual);
    assert_eq!(state(&manual, &[]), PaymentState::Authorized);
    // The provider's payment id when it has one, else its session id.
    let mut no_payment_id = session(g);
    no_payment_id.provider_payment_id = None;
    assert_eq!(
        Payment::from_session(&no_payment_id, &[])
            .reference
            .as_deref(),
        Some("T11223344.5a8GmD6Q9rF")
    );

    let mut confirmed = session(g);
    confirmed.confirmed_by = Some("staff".into());
    confirmed.provider = "opencharge".into();
    let p = Payment::from_session(&confirmed, &[capture(5000, OperationState::Done)]);
    let t = text(
        &build(&o, &p, &seller(), &meta(ReceiptKind::Sale))
            .unwrap()
            .lines(cols(42)),
    );
    assert!(
        t.contains("Betalt med Opencharge               189,15\n"),
        "{t}"
    );
    assert!(t.contains("  Delvis belastet: 50,00\n"), "{t}");
    assert!(
        t.ends_with("Betalingen er bekreftet av personalet\n"),
        "{t}"
    );
    let p = Payment::from_session(&manual, &[]);
    let t = text(
        &build(&o, &p, &seller(), &meta(ReceiptKind::Sale))
            .unwrap()
            .lines(cols(42)),
    );
    assert!(t.ends_with("  Reservert, ikke belastet ennå\n"), "{t}");
}

#[test]
fn every_line_fits_the_paper_at_42_and_48_columns_and_long_names_wrap() {
    let mut o = order();
    o.lines[1].name = "Kaffekrus i håndlaget stentøy fra Æøy keramikkverksted, blå glasur".into();
    let p = Payment::from_session(
        &session(o.total.gross),
        &[capture(o.total.gross, OperationState::Done)],
    );
    let doc = build(&o, &p, &seller(), &meta(ReceiptKind::Sale)).unwrap();
    for width in [42, 48] {
        let lines = doc.lines(cols(width));
        for l in &lines {
            let room = if l.size == Size::Double {
                width / 2
            } else {
                width
            };
            assert!(l.text.chars().count() <= room, "{width}: {:?}", l.text);
            assert_eq!(l.text, l.text.trim_end(), "no trailing spaces");
        }
        assert!(lines.iter().any(|l| l.text == "-".repeat(width)));
        let t = text(&lines);
        // The name keeps every word, over several lines, its amount on the first.
        let at = t.find("Kaffekrus i håndlaget").unwrap();
        let first = t[at..].lines().next().unwrap();
        assert!(
            first.ends_with("90,23") && first.chars().count() == width,
            "{first:?}"
        );
        let name_lines: String = t[at..].lines().take(3).collect::<Vec<_>>().join(" ");
        for word in o.lines[1].name.split(' ') {
            assert!(name_lines.contains(word), "{word} in {name_lines:?}");
        }
        // The VAT table keeps its four columns at both widths.
        assert!(
            lines
                .iter()
                .any(|l| l.text.starts_with("MVA") && l.text.ends_with("Brutto")),
            "{t}"
        );
    }
    // 48 columns are wider than 42: the same rows, more room.
    assert!(doc.lines(cols(48))[6].text.chars().count() == 48);
    assert_eq!(
        Columns::new(80).unwrap_err(),
        "80 columns: a receipt is 32 to 64 characters wide"
    );
}

#[test]
fn narrow_paper_stacks_the_vat_table() {
    let t = text(&sale().lines(cols(32)));
    assert!(
        t.contains(
            "MVA 25 %\n  Grunnlag                 72,18\n  MVA-beløp                18,05\n  \
             Brutto                   90,23\nMVA 15 %\n"
        ),
        "{t}"
    );
    assert!(
        t.contains("\nSum\n  Grunnlag                158,20\n"),
        "{t}"
    );
}

#[test]
fn norwegian_letters_stay_and_amounts_show_every_øre() {
    let t = text(&sale().lines(cols(48)));
    for s in ["Tromsø", "stentøy", "røkt", "Operatør", "MVA-beløp"] {
        assert!(t.contains(s), "{s}");
    }
    // Card and app payments are never cash-rounded: 189,15, not 189,00.
    assert!(t.contains("189,15"));
    let nok = Currency::from_code("NOK").unwrap();
    assert_eq!(nok.format_number(123456789, "nb"), "1\u{a0}234\u{a0}567,89");
}

#[test]
fn times_are_printed_as_the_journal_recorded_them() {
    let s = Stamp::parse("2026-03-29", "02:30:00").unwrap();
    assert_eq!(
        (s.date(), s.time()),
        ("2026-03-29".into(), "02:30:00".into())
    );
    assert_eq!(s.display(Market::No), "29.03.2026 02:30:00");
    // 2026-03-02T09:15:30Z in Oslo (UTC+1 in winter).
    let utc = crate::time::parse_utc("2026-03-02T09:15:30Z").unwrap();
    assert_eq!(
        Stamp::from_millis(utc, 60),
        Stamp::parse("2026-03-02", "10:15:30").unwrap()
    );
    assert_eq!(Stamp::from_millis(utc, -600).date(), "2026-03-01");
    for (d, t) in [
        ("2026-02-30", "10:00:00"),
        ("2026-03-02", "24:00:00"),
        ("2026-3-2", "10:00:00"),
        ("2026-03-02", "10:00"),
    ] {
        assert!(Stamp::parse(d, t).is_err(), "{d} {t}");
    }
}

#[test]
fn the_model_serializes_for_the_screen() {
    let v = serde_json::to_value(sale()).unwrap();
    assert_eq!(v["currency"], "NOK");
    assert_eq!(v["market"], "no");
    assert_eq!(
        v["rows"][0],
        serde_json::json!({"row": "heading", "text": "Salgskvittering"})
    );
    let line = serde_json::to_value(&sale().lines(cols(42))[0]).unwrap();
    assert_eq!(
        line,
        serde_json::json!({"text": "   Salgskvittering", "size": "double", "bold": true})
    );
}
