//! One journal entry as a SAF-T `event`: its number (`eventID` = the entry's `seq`), its
//! kind's basicID, the receipt it concerns (`transID`), the operator, the local date and time,
//! what happened (`eventText`) and, for an X or Z, the whole report (`eventReport`, from the
//! entry's body exactly as journaled).

use super::xml::{at_most, Xml};
use super::{amount, io_err, vat_code, Context, SaftError, ART_GROUP, VAT_CODES};
use crate::journal::{Entry, Kind};
use crate::report::{Report, ReportKind};
use std::io::Write;
use std::path::Path;

pub(super) fn write(
    x: &mut Xml<impl Write>,
    ctx: &Context,
    e: &Entry,
    path: &Path,
) -> Result<(), SaftError> {
    let bad = |why: String| SaftError::Entry { seq: e.seq, why };
    let report: Option<Report> = match e.kind {
        Kind::XReport | Kind::ZReport => {
            Some(serde_json::from_str(&e.body).map_err(|x| bad(format!("not a report ({x})")))?)
        }
        _ => None,
    };
    let trans_id = match e.kind {
        Kind::Sale | Kind::Return => e.nr,
        Kind::Copy => e.body_json().ok().and_then(|b| b["original_nr"].as_i64()),
        _ => None,
    };
    let text = match (&report, e.kind) {
        (Some(r), _) => Some(format!("{} {}", r.report_id(), r.period.register_id)),
        (None, Kind::Sale | Kind::Return) => None,
        (None, Kind::Copy) => trans_id.map(|n| format!("Kopi av kvittering {n}")),
        // Everything else says what happened in the entry's own words (never a secret: the
        // journal holds none).
        (None, _) => Some(at_most(&e.body, 9999).to_string()),
    };
    let w = |x: &mut Xml<_>| -> std::io::Result<()> {
        x.open("event")?;
        x.leaf("eventID", &e.seq.to_string())?;
        x.leaf("eventType", e.kind.basic_id())?;
        if let Some(n) = trans_id {
            x.leaf("transID", &n.to_string())?;
        }
        if let Some(emp) = ctx.emp(e.operator_id) {
            x.leaf("empID", &emp)?;
        }
        x.leaf("eventDate", &e.local_date)?;
        x.leaf("eventTime", &e.local_time)?;
        if let Some(t) = &text {
            x.leaf("eventText", t)?;
        }
        Ok(())
    };
    w(x).map_err(|er| io_err(path, er))?;
    if let Some(r) = &report {
        event_report(x, ctx, e, r).map_err(|er| match er {
            ReportWrite::Io(er) => io_err(path, er),
            ReportWrite::Vat(why) => bad(why),
        })?;
    }
    x.close("event").map_err(|er| io_err(path, er))
}

enum ReportWrite {
    Io(std::io::Error),
    Vat(String),
}

impl From<std::io::Error> for ReportWrite {
    fn from(e: std::io::Error) -> Self {
        ReportWrite::Io(e)
    }
}

/// `<tag><a>…</a><b>…</b>…</tag>` with the leaves given.
fn group(x: &mut Xml<impl Write>, tag: &str, leaves: &[(&str, String)]) -> std::io::Result<()> {
    x.open(tag)?;
    for (t, v) in leaves {
        x.leaf(t, v)?;
    }
    x.close(tag)
}

/// The report in the order of the schema's `eventReport`; lists the schema requires have a
/// `None` row with zeros when Kassa has nothing for them (as the official example does).
fn event_report(
    x: &mut Xml<impl Write>,
    ctx: &Context,
    e: &Entry,
    r: &Report,
) -> Result<(), ReportWrite> {
    let num = |n: u64| n.to_string();
    x.open("eventReport")?;
    x.leaf("reportID", &r.report_id())?;
    x.leaf(
        "reportType",
        match r.period.kind {
            ReportKind::X => "X report",
            ReportKind::Z => "Z report",
        },
    )?;
    x.leaf("companyIdent", ctx.org_number)?;
    x.leaf("companyName", at_most(ctx.company_name, 100))?;
    x.leaf("reportDate", &e.local_date)?;
    x.leaf("reportTime", &e.local_time)?;
    x.leaf("registerID", at_most(&r.period.register_id, 100))?;
    group(
        x,
        "reportTotalCashSales",
        &[("totalCashSaleAmnt", amount(r.net_gross))],
    )?;
    x.open("reportArtGroups")?;
    group(
        x,
        "reportArtGroup",
        &[
            ("artGroupID", ART_GROUP.into()),
            ("artGroupNum", num(r.sales_count)),
            ("artGroupAmnt", amount(r.net_gross)),
        ],
    )?;
    x.close("reportArtGroups")?;
    let operators: Vec<_> = r
        .operators
        .iter()
        .filter_map(|o| ctx.emp(Some(o.id)).map(|id| (id, o)))
        .collect();
    if !operators.is_empty() {
        x.open("reportEmpArtGroups")?;
        for (id, o) in &operators {
            group(
                x,
                "reportEmpArtGroup",
                &[
                    ("empID", id.clone()),
                    ("artGroupID", ART_GROUP.into()),
                    ("artGroupNum", num(o.sales_count)),
                    ("artGroupAmnt", amount(o.sales_gross - o.returns_gross)),
                ],
            )?;
        }
        x.close("reportEmpArtGroups")?;
    }
    x.open("reportPayments")?;
    if r.payments.is_empty() {
        group(
            x,
            "reportPayment",
            &[
                ("paymentType", "None".into()),
                ("paymentNum", "0".into()),
                ("paymentAmnt", amount(0)),
            ],
        )?;
    }
    for p in &r.payments {
        group(
            x,
            "reportPayment",
            &[
                ("paymentType", p.basic_id.clone()),
                ("paymentNum", num(p.count)),
                ("paymentAmnt", amount(p.gross - p.returns_gross)),
            ],
        )?;
    }
    x.close("reportPayments")?;
    if operators.iter().any(|(_, o)| !o.payments.is_empty()) {
        x.open("reportEmpPayments")?;
        for (id, o) in &operators {
            for p in &o.payments {
                group(
                    x,
                    "reportEmpPayment",
                    &[
                        ("empID", id.clone()),
                        ("paymentType", p.basic_id.clone()),
                        ("paymentNum", num(p.count)),
                        ("paymentAmnt", amount(p.gross - p.returns_gross)),
                    ],
                )?;
            }
        }
        x.close("reportEmpPayments")?;
    }
    // Every VAT code, with zeros where the period had none (as the official example does).
    x.open("reportCashSalesVat")?;
    for (code, _) in VAT_CODES {
        let row = r
            .vat
            .iter()
            .map(|v| vat_code(&v.rate).map(|c| (c, v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ReportWrite::Vat)?
            .into_iter()
            .find(|((c, _), _)| *c == code);
        let perc = match code {
            "3" => "25.00",
            "31" => "15.00",
            "33" => "12.00",
            "32" => "11.11",
            _ => "0.00",
        };
        let (net, vat) = row.map_or((0, 0), |(_, v)| (v.net, v.vat));
        group(
            x,
            "reportCashSaleVat",
            &[
                ("vatCode", code.into()),
                ("vatPerc", perc.into()),
                ("cashSaleAmnt", amount(net)),
                ("vatAmnt", amount(vat)),
                ("vatAmntTp", if vat < 0 { "D" } else { "C" }.into()),
            ],
        )?;
    }
    x.close("reportCashSalesVat")?;
    x.leaf("reportOpeningChangeFloat", &amount(0))?;
    x.leaf("reportReceiptNum", &num(r.sales_count))?;
    x.leaf("reportOpenCashBoxNum", "0")?;
    x.leaf("reportReceiptCopyNum", &num(r.copies.count))?;
    x.leaf("reportReceiptCopyAmnt", &amount(r.copies.amount))?;
    x.leaf("reportReceiptProformaNum", "0")?;
    x.leaf("reportReceiptProformaAmnt", &amount(0))?;
    x.leaf("reportReturnNum", &num(r.returns_count))?;
    x.leaf("reportReturnAmnt", &amount(r.returns_gross))?;
    x.leaf("reportDiscountNum", &num(r.discounts.count))?;
    x.leaf("reportDiscountAmnt", &amount(r.discounts.amount))?;
    x.leaf("reportVoidTransNum", &num(r.voids.count))?;
    x.leaf("reportVoidTransAmnt", &amount(r.voids.amount))?;
    let none = |x: &mut Xml<_>, list: &str, row: &str, fields: [&str; 3]| {
        x.open(list)?;
        group(
            x,
            row,
            &[
                (fields[0], "None".into()),
                (fields[1], "0".into()),
                (fields[2], amount(0)),
            ],
        )?;
        x.close(list)
    };
    none(
        x,
        "reportCorrLines",
        "reportCorrLine",
        ["corrLineType", "corrLineNum", "corrLineAmnt"],
    )?;
    none(
        x,
        "reportPriceInquiries",
        "reportPriceInquiry",
        ["priceInquiryGroup", "priceInquiryNum", "priceInquiryAmnt"],
    )?;
    // Kassa's extras have no element of their own: other corrections, by name.
    x.open("reportOtherCorrs")?;
    for (name, c) in [
        ("Staff-confirmed payments", r.staff_confirmed),
        ("Staff-recorded payments", r.staff_recorded),
        ("Sessions open at report", r.in_flight.open),
        ("Sessions unknown at report", r.in_flight.unknown),
    ] {
        group(
            x,
            "reportOtherCorr",
            &[
                ("otherCorrType", name.into()),
                ("otherCorrNum", num(c.count)),
                ("otherCorrAmnt", amount(c.amount)),
            ],
        )?;
    }
    x.close("reportOtherCorrs")?;
    x.leaf("reportReceiptDeliveryNum", "0")?;
    x.leaf("reportReceiptDeliveryAmnt", &amount(0))?;
    x.leaf("reportTrainingNum", "0")?;
    x.leaf("reportTrainingAmnt", &amount(0))?;
    x.leaf("reportGrandTotalSales", &amount(r.grand_total.sales))?;
    x.leaf("reportGrandTotalReturn", &amount(r.grand_total.returns))?;
    x.leaf("reportGrandTotalSalesNet", &amount(r.grand_total.net))?;
    x.close("eventReport")?;
    Ok(())
}
