//! The tally over hand-made entries: every total is the sum of the receipts, property-tested
//! over random days; inconsistent entries are refused.

use super::*;
use crate::journal::body::{CopyBody, Payment, RateTotals, ReturnBody, SaleBody, Standing, Totals};
use crate::journal::{Entry, Kind, GENESIS};
use proptest::prelude::*;

fn entry(seq: i64, kind: Kind, signed: Option<(i64, i64)>, body: String) -> Entry {
    Entry {
        register_id: "1".into(),
        seq,
        kind,
        event_code: kind.event_code().into(),
        at_ms: seq * 1000,
        local_date: "2026-03-02".into(),
        local_time: "10:00:00".into(),
        operator_id: Some(1),
        session_id: None,
        operation_id: None,
        ref_seq: None,
        nr: signed.map(|_| seq),
        gross_minor: signed.map(|s| s.0),
        net_minor: signed.map(|s| s.1),
        signature: signed.map(|_| "c2ln".into()),
        key_version: signed.map(|_| "1".into()),
        body,
        prev_hash: GENESIS,
        hash: GENESIS,
    }
}

fn payment(provider: &str, staff: bool) -> Payment {
    let (code, basic_id) = crate::journal::body::payment_type(provider);
    Payment {
        provider: provider.into(),
        profile: "test".into(),
        payment_type: code.into(),
        basic_id,
        reference: None,
        standing: Standing::Captured,
        confirmed_by: staff.then(|| "staff".into()),
        evidence: String::new(),
    }
}

/// A receipt's lines: (rate, net, vat) each; gross = net + vat.
type Lines = Vec<(&'static str, i64, i64)>;

fn rows(lines: &Lines, sign: i64) -> (Vec<RateTotals>, Totals) {
    let vat = crate::journal::body::rate_totals(
        lines
            .iter()
            .map(|&(r, n, v)| (r, sign * n, sign * v, sign * (n + v))),
    );
    let total = vat.iter().fold(Totals::default(), |t, r| Totals {
        gross: t.gross + r.gross,
        net: t.net + r.net,
        vat: t.vat + r.vat,
    });
    (vat, total)
}

fn sale(seq: i64, lines: &Lines, provider: &str, op: i64, discount: i64, staff: bool) -> Entry {
    let (vat, total) = rows(lines, 1);
    let order_lines: Vec<serde_json::Value> = lines
        .iter()
        .map(|&(r, n, v)| serde_json::json!({"vat_rate": r, "net": n, "vat": v, "gross": n + v, "discount": discount}))
        .collect();
    let body = SaleBody {
        session_id: format!("s{seq}"),
        merchant_reference: "R".into(),
        demo: provider == "demo",
        currency: "NOK".into(),
        operator: OperatorStamp {
            id: op,
            name: format!("Op {op}"),
        },
        order: serde_json::json!({ "lines": order_lines }),
        vat,
        total,
        payment: payment(provider, staff),
    };
    entry(
        seq,
        Kind::Sale,
        Some((total.gross, total.net)),
        serde_json::to_string(&body).unwrap(),
    )
}

fn ret(seq: i64, lines: &Lines, provider: &str, op: i64) -> Entry {
    let (vat, total) = rows(lines, -1);
    let body = ReturnBody {
        session_id: format!("s{seq}"),
        operation_id: format!("o{seq}"),
        operation: "refund".into(),
        original_nr: None,
        original_seq: None,
        demo: false,
        currency: "NOK".into(),
        operator: OperatorStamp {
            id: op,
            name: format!("Op {op}"),
        },
        reason: None,
        lines: Vec::new(),
        vat,
        total,
        payment: payment(provider, false),
    };
    entry(
        seq,
        Kind::Return,
        Some((total.gross, total.net)),
        serde_json::to_string(&body).unwrap(),
    )
}

fn period(kind: ReportKind) -> Period {
    Period {
        kind,
        number: 1,
        register_id: "1".into(),
        from: "2026-03-02 08:00:00".into(),
        to: "2026-03-02 21:00:00".into(),
        from_seq: 1,
        to_seq: 9,
        previous_z: None,
        made_by: OperatorStamp {
            id: 1,
            name: "Owner".into(),
        },
    }
}

#[test]
fn a_day_sums_sales_returns_copies_voids_and_carries_the_grand_totals() {
    let mut t = Tally::new(GrandTotal {
        sales: 100_000,
        returns: 5_000,
        net: 95_000,
    });
    let coffee: Lines = vec![("15", 3000, 450), ("25", 8000, 2000)];
    let entries = [
        sale(1, &coffee, "dintero", 1, 0, false),
        sale(2, &coffee, "demo", 2, 500, true),
        ret(3, &vec![("15", 3000, 450)], "dintero", 1),
        entry(
            4,
            Kind::Copy,
            None,
            serde_json::to_string(&CopyBody {
                original_kind: "sale".into(),
                original_nr: 1,
                original_seq: 1,
                session_id: None,
                operator: OperatorStamp {
                    id: 1,
                    name: "Owner".into(),
                },
                gross: 13450,
                currency: "NOK".into(),
            })
            .unwrap(),
        ),
        entry(
            5,
            Kind::Void,
            None,
            r#"{"total":{"gross":777,"net":700,"vat":77}}"#.into(),
        ),
        entry(6, Kind::Login, None, "{}".into()),
    ];
    for e in &entries {
        t.add(e).unwrap();
    }
    let r = t
        .finish(period(ReportKind::Z), InFlight::default())
        .unwrap();
    assert_eq!(
        (r.sales_count, r.sales_gross, r.sales_net),
        (2, 26900, 22000)
    );
    assert_eq!(
        (r.returns_count, r.returns_gross, r.returns_net),
        (1, 3450, 3000)
    );
    assert_eq!(r.net_gross, 23450);
    let vat: Vec<(&str, i64, i64, i64)> = r
        .vat
        .iter()
        .map(|v| (v.rate.as_str(), v.net, v.vat, v.gross))
        .collect();
    assert_eq!(vat, [("25", 16000, 4000, 20000), ("15", 3000, 450, 3450)]);
    assert_eq!(r.payments.len(), 2);
    let dintero = r.payments.iter().find(|p| p.provider == "dintero").unwrap();
    assert_eq!(
        (
            dintero.count,
            dintero.gross,
            dintero.returns_count,
            dintero.returns_gross
        ),
        (1, 13450, 1, 3450)
    );
    assert_eq!(dintero.payment_type, "12999");
    assert_eq!(r.operators.len(), 2);
    assert_eq!((r.operators[1].id, r.operators[1].sales_gross), (2, 13450));
    assert_eq!(
        r.discounts,
        CountAmount {
            count: 2,
            amount: 1000
        }
    );
    assert_eq!(
        r.copies,
        CountAmount {
            count: 1,
            amount: 13450
        }
    );
    assert_eq!(
        r.voids,
        CountAmount {
            count: 1,
            amount: 777
        }
    );
    assert_eq!(
        r.staff_confirmed,
        CountAmount {
            count: 1,
            amount: 13450
        }
    );
    assert_eq!(
        r.demo_sales,
        CountAmount {
            count: 1,
            amount: 13450
        }
    );
    assert_eq!(
        r.grand_total,
        GrandTotal {
            sales: 126_900,
            returns: 8_450,
            net: 118_450
        }
    );
    assert_eq!(r.report_id(), "Z-1");
}

#[test]
fn sessions_in_flight_are_counted_apart() {
    let f = InFlight::of(vec![
        SessionInFlight {
            session_id: "a".into(),
            status: "open".into(),
            provider: "demo".into(),
            gross: 100,
        },
        SessionInFlight {
            session_id: "b".into(),
            status: "needs_review".into(),
            provider: "opencharge".into(),
            gross: 250,
        },
        SessionInFlight {
            session_id: "c".into(),
            status: "unknown".into(),
            provider: "klarna".into(),
            gross: 5,
        },
    ])
    .unwrap();
    assert_eq!(
        f.open,
        CountAmount {
            count: 1,
            amount: 100
        }
    );
    assert_eq!(
        f.unknown,
        CountAmount {
            count: 2,
            amount: 255
        }
    );
}

#[test]
fn a_receipt_whose_body_disagrees_with_its_signed_amount_is_refused() {
    let mut t = Tally::new(GrandTotal::default());
    let mut e = sale(1, &vec![("25", 800, 200)], "demo", 1, 0, false);
    e.gross_minor = Some(1001);
    t.add(&e).unwrap();
    let err = t
        .finish(period(ReportKind::X), InFlight::default())
        .unwrap_err();
    assert!(err.to_string().contains("VAT per rate comes to"), "{err}");
}

#[test]
fn two_currencies_in_one_period_are_refused() {
    let mut t = Tally::new(GrandTotal::default());
    t.add(&sale(1, &vec![("25", 800, 200)], "demo", 1, 0, false))
        .unwrap();
    let mut e = sale(2, &vec![("25", 800, 200)], "demo", 1, 0, false);
    e.body = e.body.replace("\"NOK\"", "\"SEK\"");
    let err = t.add(&e).unwrap_err();
    assert!(err.to_string().contains("in SEK"), "{err}");
}

#[test]
fn an_overflowing_total_is_refused_not_wrapped() {
    let mut t = Tally::new(GrandTotal {
        sales: i64::MAX - 10,
        returns: 0,
        net: i64::MAX - 10,
    });
    t.add(&sale(1, &vec![("25", 800, 200)], "demo", 1, 0, false))
        .unwrap();
    assert!(t
        .finish(period(ReportKind::Z), InFlight::default())
        .is_err());
}

const RATES: [&str; 4] = ["25", "15", "12", "0"];
const PROVIDERS: [&str; 4] = ["demo", "dintero", "bambora", "opencharge"];

proptest! {
    /// Any day of receipts: sales and returns are the sums of the receipts' signed amounts,
    /// VAT per rate, per payment and per operator all come to them, nothing is lost.
    #[test]
    fn every_total_is_the_sum_of_the_receipts(
        receipts in prop::collection::vec(
            (any::<bool>(), prop::collection::vec((0usize..4, 1i64..500_000, 0i64..100_000), 1..4),
             0usize..4, 1i64..4, 0i64..300),
            0..40)
    ) {
        let mut t = Tally::new(GrandTotal::default());
        let (mut sales, mut returns, mut sales_n, mut returns_n) = (0i64, 0i64, 0u64, 0u64);
        let mut per_rate = std::collections::HashMap::<&str, i64>::new();
        for (i, (is_return, lines, p, op, discount)) in receipts.iter().enumerate() {
            let lines: Lines = lines.iter().map(|&(r, n, v)| (RATES[r], n, v)).collect();
            let gross: i64 = lines.iter().map(|l| l.1 + l.2).sum();
            for l in &lines {
                *per_rate.entry(l.0).or_default() += if *is_return { -(l.1 + l.2) } else { l.1 + l.2 };
            }
            let e = if *is_return {
                returns += gross;
                returns_n += 1;
                ret(i as i64 + 1, &lines, PROVIDERS[*p], *op)
            } else {
                sales += gross;
                sales_n += 1;
                sale(i as i64 + 1, &lines, PROVIDERS[*p], *op, *discount, false)
            };
            t.add(&e).unwrap();
        }
        let r = t.finish(period(ReportKind::X), InFlight::default()).unwrap();
        prop_assert_eq!((r.sales_count, r.sales_gross), (sales_n, sales));
        prop_assert_eq!((r.returns_count, r.returns_gross), (returns_n, returns));
        prop_assert_eq!(r.net_gross, sales - returns);
        for v in &r.vat {
            prop_assert_eq!(v.gross, per_rate[v.rate.as_str()]);
        }
        prop_assert_eq!(r.vat.iter().map(|v| v.gross).sum::<i64>(), sales - returns);
        prop_assert_eq!(r.payments.iter().map(|p| p.gross).sum::<i64>(), sales);
        prop_assert_eq!(r.payments.iter().map(|p| p.returns_gross).sum::<i64>(), returns);
        prop_assert_eq!(r.operators.iter().map(|o| o.sales_gross - o.returns_gross).sum::<i64>(), sales - returns);
        let bp: Vec<u32> = r.vat.iter().map(|v| crate::order::VatRate::parse_percent(&v.rate).unwrap().basis_points()).collect();
        prop_assert!(bp.windows(2).all(|w| w[0] > w[1]), "highest rate first");
        prop_assert_eq!(r.grand_total.net, sales - returns);
    }
}

/// A register's X of one sale and one return, with grand totals carried from a Z.
fn register_x(register: &str, currency: &str) -> Report {
    let mut t = Tally::new(GrandTotal {
        sales: 5000,
        returns: 1000,
        net: 4000,
    });
    let mut s = sale(
        1,
        &vec![("25", 800, 200), ("15", 100, 15)],
        "demo",
        1,
        0,
        false,
    );
    s.body = s.body.replace("\"NOK\"", &format!("\"{currency}\""));
    t.add(&s).unwrap();
    let mut r = ret(2, &vec![("15", 100, 15)], "demo", 1);
    r.body = r.body.replace("\"NOK\"", &format!("\"{currency}\""));
    t.add(&r).unwrap();
    let mut p = period(ReportKind::X);
    p.register_id = register.into();
    t.finish(p, InFlight::default()).unwrap()
}

fn reading(report: Report) -> shop::RegisterReading {
    shop::RegisterReading {
        coverage: shop::Coverage::new(2, None, None, 0),
        report,
    }
}

#[test]
fn the_shop_total_is_the_sum_of_its_registers_with_each_tills_operators_apart() {
    let (a, b) = (register_x("A", "NOK"), register_x("B", "NOK"));
    let stamp = a.period.made_by.clone();
    let shop =
        shop::ShopReport::new("now".into(), stamp, vec![reading(a.clone()), reading(b)]).unwrap();
    let t = &shop.total;
    assert_eq!(t.period.register_id, "A, B");
    assert_eq!((t.sales_count, t.sales_gross), (2, 2 * a.sales_gross));
    assert_eq!((t.returns_count, t.returns_gross), (2, 2 * a.returns_gross));
    assert_eq!(t.net_gross, 2 * a.net_gross);
    assert_eq!(t.grand_total.sales, 2 * a.grand_total.sales);
    assert_eq!(t.grand_total.net, 2 * a.grand_total.net);
    for (rate, one) in t.vat.iter().zip(&a.vat) {
        assert_eq!(
            (rate.net, rate.vat, rate.gross),
            (2 * one.net, 2 * one.vat, 2 * one.gross)
        );
    }
    let names: Vec<&str> = t.operators.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Op 1 (A)", "Op 1 (B)"]);
    assert_eq!(t.payments.len(), 1);
    assert_eq!(t.payments[0].gross, 2 * a.payments[0].gross);
}

#[test]
fn a_shop_total_over_two_currencies_or_one_register_twice_is_refused() {
    let stamp = || register_x("A", "NOK").period.made_by;
    let err = shop::ShopReport::new(
        "now".into(),
        stamp(),
        vec![
            reading(register_x("A", "NOK")),
            reading(register_x("B", "SEK")),
        ],
    )
    .unwrap_err();
    assert!(err.to_string().contains("register B sells in SEK"), "{err}");
    let err = shop::ShopReport::new(
        "now".into(),
        stamp(),
        vec![
            reading(register_x("A", "NOK")),
            reading(register_x("A", "NOK")),
        ],
    )
    .unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}
