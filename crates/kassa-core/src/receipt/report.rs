//! The X or Z report as a printout: the same [`ReceiptDoc`] rows, so the screen, the PDF and
//! the thermal printer show it through the one layout (`layout.rs`), like a receipt.
//!
//! Content and order follow kassasystemforskrifta § 2-8-2 (and SAF-T's `eventReport`): the
//! company, X or Z with its number, date and time, the register, the period; sales receipts
//! and returns (number, amount); VAT base and VAT per rate; sales per means of payment and per
//! operator by means of payment; copies, discounts, voided sales, staff-confirmed and
//! staff-recorded payments; Kassa's own line of sessions still in flight; the grand totals.
//! Every figure is the [`Report`]'s, which the journal summed: nothing is computed here but
//! the layout.

use super::{Market, ReceiptError};
use super::{ReceiptDoc, Row, Seller, VatLine, VatTable};
use crate::money::Currency;
use crate::report::shop::ShopReport;
use crate::report::{CountAmount, Report, ReportKind};

/// What an X or Z printout says, per market.
struct ReportWords {
    x: &'static str,
    z: &'static str,
    number: &'static str,
    made: &'static str,
    from: &'static str,
    to: &'static str,
    register: &'static str,
    operator: &'static str,
    x_resets_nothing: &'static str,
    sales: &'static str,
    returns: &'static str,
    net: &'static str,
    vat_columns: [&'static str; 4],
    vat_sum: &'static str,
    payments: &'static str,
    per_operator: &'static str,
    sold: &'static str,
    returned: &'static str,
    copies: &'static str,
    discounts: &'static str,
    voids: &'static str,
    staff_confirmed: &'static str,
    staff_recorded: &'static str,
    demo: &'static str,
    open: &'static str,
    unknown: &'static str,
    grand_sales: &'static str,
    grand_returns: &'static str,
    grand_net: &'static str,
    shop_x: &'static str,
    shop_note: &'static str,
    shop_total: &'static str,
    covers: &'static str,
    last_push: &'static str,
    never_pushed: &'static str,
    waiting: &'static str,
    behind: &'static str,
}

const NO: ReportWords = ReportWords {
    x: "X-rapport",
    z: "Z-rapport",
    number: "Rapport nr.",
    made: "Dato",
    from: "Periode fra",
    to: "Periode til",
    register: "Kasse",
    operator: "Operatør",
    x_resets_nothing: "X-rapporten nullstiller ingenting",
    sales: "Salgskvitteringer",
    returns: "Returkvitteringer",
    net: "Netto salg",
    vat_columns: ["MVA", "Grunnlag", "MVA-beløp", "Brutto"],
    vat_sum: "Sum",
    payments: "Salg per betalingsmiddel",
    per_operator: "Salg per operatør og betalingsmiddel",
    sold: "salg",
    returned: "retur",
    copies: "Kopikvitteringer",
    discounts: "Rabatter",
    voids: "Annullerte salg",
    staff_confirmed: "Betaling bekreftet av personalet",
    staff_recorded: "Retur registrert av personalet",
    demo: "herav demosalg (ingen ekte penger)",
    open: "Åpne betalinger ved rapporten",
    unknown: "Uavklarte betalinger ved rapporten",
    grand_sales: "Grand total salg",
    grand_returns: "Grand total retur",
    grand_net: "Grand total netto",
    shop_x: "X-rapport, hele butikken",
    shop_note: "Fra huben: kassenes oppføringer slik huben har dem. Ikke en kasses X-rapport; \
                journalføres ikke.",
    shop_total: "Hele butikken",
    covers: "Oppføringer til nr.",
    last_push: "Sist sendt til huben",
    never_pushed: "aldri",
    waiting: "Ventet på kassen da",
    behind: "KAN MANGLE SALG: nyere oppføringer på kassen er ikke på huben",
};

fn words(market: Market) -> &'static ReportWords {
    match market {
        Market::No => &NO,
    }
}

/// `label (count)` with the amount beside it.
fn counted(label: &str, c: CountAmount, fmt: &dyn Fn(i64) -> String) -> Row {
    Row::Field {
        label: format!("{label} ({})", c.count),
        value: fmt(c.amount),
    }
}

fn field(label: &str, value: String) -> Row {
    Row::Field {
        label: label.into(),
        value,
    }
}

/// The report's currency and how `market` writes its amounts.
fn money(
    report: &Report,
    market: Market,
) -> Result<(Currency, impl Fn(i64) -> String), ReceiptError> {
    let currency = Currency::from_code(&report.currency).ok_or_else(|| {
        ReceiptError::Inconsistent(format!("unknown currency {:?}", report.currency))
    })?;
    let locale = market.words().locale;
    Ok((currency, move |minor: i64| {
        currency.format_number(minor, locale)
    }))
}

/// The printout of `report` for `seller` in `market`.
pub fn build_report(
    report: &Report,
    seller: &Seller,
    market: Market,
) -> Result<ReceiptDoc, ReceiptError> {
    let w = words(market);
    let (currency, fmt) = money(report, market)?;
    let mut rows = vec![
        Row::Heading {
            text: match report.period.kind {
                ReportKind::X => w.x,
                ReportKind::Z => w.z,
            }
            .into(),
        },
        super::seller_row(seller, market),
        Row::Rule,
        field(w.number, report.period.number.to_string()),
        field(w.made, report.period.to.clone()),
        field(w.from, report.period.from.clone()),
        field(w.to, report.period.to.clone()),
        field(w.register, report.period.register_id.clone()),
        field(
            w.operator,
            format!(
                "{} {}",
                report.period.made_by.id, report.period.made_by.name
            ),
        ),
    ];
    if report.period.kind == ReportKind::X {
        rows.push(Row::Note {
            text: w.x_resets_nothing.into(),
        });
    }
    figures(report, w, market, &mut rows, &fmt);
    Ok(ReceiptDoc {
        market,
        currency,
        rows,
    })
}

/// The figures of `report`, from its sales to its grand totals: the same for a register's X
/// or Z and for each part of the shop-wide X.
fn figures(
    report: &Report,
    w: &ReportWords,
    market: Market,
    rows: &mut Vec<Row>,
    fmt: &dyn Fn(i64) -> String,
) {
    rows.push(Row::Rule);
    rows.push(counted(
        w.sales,
        CountAmount {
            count: report.sales_count,
            amount: report.sales_gross,
        },
        fmt,
    ));
    if report.demo_sales.count > 0 {
        rows.push(counted(&format!("  {}", w.demo), report.demo_sales, fmt));
    }
    rows.push(counted(
        w.returns,
        CountAmount {
            count: report.returns_count,
            amount: -report.returns_gross,
        },
        fmt,
    ));
    rows.push(Row::Total {
        label: format!("{} {}", w.net, report.currency),
        amount: report.net_gross,
    });
    rows.push(Row::Rule);
    let vat_rows: Vec<VatLine> = report
        .vat
        .iter()
        .map(|r| VatLine {
            label: format!(
                "{} %",
                r.rate.replace('.', &market.words().decimal.to_string())
            ),
            base: r.net,
            vat: r.vat,
            gross: r.gross,
        })
        .collect();
    rows.push(Row::Vat(VatTable {
        columns: w.vat_columns.map(String::from),
        sum: VatLine {
            label: w.vat_sum.into(),
            base: report.vat.iter().map(|r| r.net).sum(),
            vat: report.vat.iter().map(|r| r.vat).sum(),
            gross: report.vat.iter().map(|r| r.gross).sum(),
        },
        rows: vat_rows,
    }));
    rows.push(Row::Rule);
    let title = |provider: &str| match crate::provider::spec(provider) {
        Some(spec) => spec.title.to_string(),
        None if provider == "demo" => "Demo".into(),
        None => provider.to_string(),
    };
    let payment_details = |count: u64, gross: i64, returns_count: u64, returns_gross: i64| {
        let mut d = vec![format!("{count} {} {}", w.sold, fmt(gross))];
        if returns_count > 0 {
            d.push(format!(
                "{returns_count} {} {}",
                w.returned,
                fmt(-returns_gross)
            ));
        }
        d
    };
    rows.push(Row::Note {
        text: w.payments.into(),
    });
    for p in &report.payments {
        rows.push(Row::Payment {
            label: title(&p.provider),
            amount: p.gross - p.returns_gross,
            details: payment_details(p.count, p.gross, p.returns_count, p.returns_gross),
        });
    }
    rows.push(Row::Rule);
    rows.push(Row::Note {
        text: w.per_operator.into(),
    });
    for o in &report.operators {
        let mut details = Vec::new();
        for p in &o.payments {
            details.push(title(&p.provider));
            details.extend(
                payment_details(p.count, p.gross, p.returns_count, p.returns_gross)
                    .into_iter()
                    .map(|d| format!("  {d}")),
            );
        }
        rows.push(Row::Payment {
            label: format!("{} {}", o.id, o.name),
            amount: o.sales_gross - o.returns_gross,
            details,
        });
    }
    rows.push(Row::Rule);
    rows.push(counted(w.copies, report.copies, fmt));
    rows.push(counted(w.discounts, report.discounts, fmt));
    rows.push(counted(w.voids, report.voids, fmt));
    rows.push(counted(w.staff_confirmed, report.staff_confirmed, fmt));
    rows.push(counted(w.staff_recorded, report.staff_recorded, fmt));
    rows.push(Row::Rule);
    rows.push(counted(w.open, report.in_flight.open, fmt));
    rows.push(counted(w.unknown, report.in_flight.unknown, fmt));
    for s in &report.in_flight.sessions {
        rows.push(Row::Note {
            text: format!(
                "  {} {} {} {}",
                title(&s.provider),
                s.status,
                fmt(s.gross),
                s.session_id
            ),
        });
    }
    rows.push(Row::Rule);
    rows.push(field(w.grand_sales, fmt(report.grand_total.sales)));
    rows.push(field(w.grand_returns, fmt(-report.grand_total.returns)));
    rows.push(Row::Total {
        label: w.grand_net.into(),
        amount: report.grand_total.net,
    });
}

/// The printout of the shop-wide X: what it is, then each register (what the hub holds of it,
/// whether it may be behind, its figures), then the whole shop's figures.
pub fn build_shop_report(
    shop: &ShopReport,
    seller: &Seller,
    market: Market,
) -> Result<ReceiptDoc, ReceiptError> {
    let w = words(market);
    let total = &shop.total;
    let (currency, fmt) = money(total, market)?;
    let mut rows = vec![
        Row::Heading {
            text: w.shop_x.into(),
        },
        super::seller_row(seller, market),
        Row::Rule,
        field(w.made, shop.made.clone()),
        field(
            w.operator,
            format!("{} {}", shop.made_by.id, shop.made_by.name),
        ),
        Row::Note {
            text: w.shop_note.into(),
        },
        Row::Note {
            text: w.x_resets_nothing.into(),
        },
    ];
    for r in &shop.registers {
        let (report, c) = (&r.report, &r.coverage);
        rows.push(Row::Rule);
        rows.push(Row::Heading {
            text: format!("{} {}", w.register, report.period.register_id),
        });
        rows.push(field(w.from, report.period.from.clone()));
        rows.push(field(
            w.covers,
            match &c.head_at {
                Some(at) => format!("{} ({at})", c.head_seq),
                None => c.head_seq.to_string(),
            },
        ));
        rows.push(field(
            w.last_push,
            c.last_push.clone().unwrap_or_else(|| w.never_pushed.into()),
        ));
        if let Some(n) = c.waiting.filter(|n| *n > 0) {
            rows.push(field(w.waiting, n.to_string()));
        }
        if c.behind {
            rows.push(Row::Marker {
                text: w.behind.into(),
                big: false,
            });
        }
        figures(report, w, market, &mut rows, &fmt);
    }
    rows.push(Row::Rule);
    rows.push(Row::Heading {
        text: w.shop_total.into(),
    });
    rows.push(field(w.register, total.period.register_id.clone()));
    rows.push(field(w.from, total.period.from.clone()));
    figures(total, w, market, &mut rows, &fmt);
    Ok(ReceiptDoc {
        market,
        currency,
        rows,
    })
}
