//! One sales or return receipt as a SAF-T `cashtransaction`: the signed fields (`nr`,
//! `transDate`, `transTime`, `transAmntIn`, `transAmntEx`) and `signature`/`keyVersion`
//! exactly as the journal holds them, the lines with their VAT, the VAT per rate, the payment;
//! a return's amounts negative with `amntTp` D, as its entry holds them.

use super::xml::{at_most, Xml};
use super::{amount, io_err, vat_code, Context, SaftError, ART_GROUP};
use crate::journal::body::{Payment, RateTotals};
use crate::journal::{Entry, Kind};
use std::io::Write;
use std::path::Path;

/// A line as both receipts' bodies give it.
struct Line<'a> {
    name: &'a str,
    sku: Option<&'a str>,
    quantity: String,
    rate: &'a str,
    gross: i64,
    net: i64,
    vat: i64,
    discount: i64,
}

fn credit_or_debit(amount: i64) -> &'static str {
    if amount < 0 {
        "D"
    } else {
        "C"
    }
}

/// A `vat` element; its entry `seq` is named when the rate has no standard code.
fn vat_element(
    x: &mut Xml<impl Write>,
    (rate, net, vat): (&str, i64, i64),
    seq: i64,
    path: &Path,
) -> Result<(), SaftError> {
    let (code, perc) = vat_code(rate).map_err(|why| SaftError::Entry { seq, why })?;
    let w = |x: &mut Xml<_>| -> std::io::Result<()> {
        x.open("vat")?;
        x.leaf("vatCode", code)?;
        x.leaf("vatPerc", &perc)?;
        x.leaf("vatAmnt", &amount(vat))?;
        x.leaf("vatAmntTp", credit_or_debit(vat))?;
        x.leaf("vatBasAmnt", &amount(net))?;
        x.close("vat")
    };
    w(x).map_err(|e| io_err(path, e))
}

pub(super) fn write(
    x: &mut Xml<impl Write>,
    ctx: &Context,
    e: &Entry,
    copied: bool,
    path: &Path,
) -> Result<(), SaftError> {
    let bad = |why: String| SaftError::Entry { seq: e.seq, why };
    let (Some(nr), Some(gross), Some(net), Some(signature), Some(key_version)) = (
        e.nr,
        e.gross_minor,
        e.net_minor,
        e.signature.as_deref(),
        e.key_version.as_deref(),
    ) else {
        return Err(bad(format!("a {} without its signed fields", e.kind)));
    };
    let sale;
    let ret;
    type Parts<'b> = (
        Vec<Line<'b>>,
        &'b [RateTotals],
        &'b Payment,
        Option<i64>,
        &'b str,
    );
    let (lines, vat, payment, refers_to, currency): Parts = match e.kind {
        Kind::Sale => {
            sale = e.sale().map_err(bad)?;
            let lines = sale.order["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| Line {
                    name: l["name"].as_str().unwrap_or(""),
                    sku: l["sku"].as_str(),
                    quantity: l["quantity"].as_str().unwrap_or("1").to_string(),
                    rate: l["vat_rate"].as_str().unwrap_or(""),
                    gross: l["gross"].as_i64().unwrap_or(0),
                    net: l["net"].as_i64().unwrap_or(0),
                    vat: l["vat"].as_i64().unwrap_or(0),
                    discount: l["discount"].as_i64().unwrap_or(0),
                })
                .collect();
            (lines, &sale.vat, &sale.payment, None, &sale.currency)
        }
        Kind::Return => {
            ret = e.return_body().map_err(bad)?;
            let lines = ret
                .lines
                .iter()
                .map(|l| Line {
                    name: &l.name,
                    sku: l.sku.as_deref(),
                    quantity: l.quantity.clone(),
                    rate: &l.vat_rate,
                    gross: l.gross,
                    net: l.net,
                    vat: l.vat,
                    discount: 0,
                })
                .collect();
            (
                lines,
                &ret.vat,
                &ret.payment,
                ret.original_nr,
                &ret.currency,
            )
        }
        other => return Err(bad(format!("a {other} is not a cash transaction"))),
    };
    let tp = credit_or_debit(gross);
    let emp = ctx.emp(e.operator_id);
    let nr = nr.to_string();
    let io = |er: std::io::Error| io_err(path, er);
    x.open("cashtransaction").map_err(io)?;
    x.leaf("nr", &nr).map_err(io)?;
    x.leaf("transID", &nr).map_err(io)?;
    x.leaf(
        "transType",
        if e.kind == Kind::Sale {
            "CASHSALE"
        } else {
            "RETURN"
        },
    )
    .map_err(io)?;
    x.leaf("transAmntIn", &amount(gross)).map_err(io)?;
    x.leaf("transAmntEx", &amount(net)).map_err(io)?;
    x.leaf("amntTp", tp).map_err(io)?;
    if let Some(emp) = &emp {
        x.leaf("empID", emp).map_err(io)?;
    }
    x.leaf("transDate", &e.local_date).map_err(io)?;
    x.leaf("transTime", &e.local_time).map_err(io)?;
    if let Some(original) = refers_to {
        x.leaf("refID", &original.to_string()).map_err(io)?;
        x.leaf("desc", &format!("Retur av kvittering {original}"))
            .map_err(io)?;
    }
    for (i, l) in lines.iter().enumerate() {
        x.open("ctLine").map_err(io)?;
        x.leaf("nr", &nr).map_err(io)?;
        x.leaf("lineID", &(i + 1).to_string()).map_err(io)?;
        x.leaf("lineType", if e.kind == Kind::Sale { "SAL" } else { "RET" })
            .map_err(io)?;
        x.leaf("artGroupID", ART_GROUP).map_err(io)?;
        if let Some(sku) = l.sku.filter(|s| ctx.articles.contains(s)) {
            x.leaf("artID", sku).map_err(io)?;
        }
        x.leaf("qnt", &l.quantity).map_err(io)?;
        x.leaf("lineAmntIn", &amount(l.gross)).map_err(io)?;
        x.leaf("lineAmntEx", &amount(l.net)).map_err(io)?;
        x.leaf("amntTp", credit_or_debit(l.gross)).map_err(io)?;
        if let Some(emp) = &emp {
            x.leaf("empID", emp).map_err(io)?;
        }
        x.leaf("cashTransLineDescr", at_most(l.name, 9999))
            .map_err(io)?;
        x.leaf("lineDate", &e.local_date).map_err(io)?;
        x.leaf("lineTime", &e.local_time).map_err(io)?;
        vat_element(x, (l.rate, l.net, l.vat), e.seq, path)?;
        if l.discount != 0 {
            x.open("discount").map_err(io)?;
            x.leaf("dscTp", "LINE").map_err(io)?;
            x.leaf("dscAmnt", &amount(l.discount)).map_err(io)?;
            x.close("discount").map_err(io)?;
        }
        x.close("ctLine").map_err(io)?;
    }
    for v in vat {
        vat_element(x, (&v.rate, v.net, v.vat), e.seq, path)?;
    }
    // Electronic payments are never cash-rounded (Norway): always 0.00.
    x.open("rounding").map_err(io)?;
    x.leaf("roundingAmnt", &amount(0)).map_err(io)?;
    x.close("rounding").map_err(io)?;
    x.open("payment").map_err(io)?;
    x.leaf("paymentType", &payment.basic_id).map_err(io)?;
    x.leaf("paidAmnt", &amount(gross)).map_err(io)?;
    if let Some(emp) = &emp {
        x.leaf("empID", emp).map_err(io)?;
    }
    x.leaf("curCode", currency).map_err(io)?;
    x.leaf("exchRt", "1.000000").map_err(io)?;
    let reference = payment.reference.as_deref().unwrap_or("-");
    x.leaf(
        "paymentRefID",
        at_most(
            &format!(
                "{} {reference}; {}{}",
                payment.provider,
                payment.standing.as_str(),
                if payment.confirmed_by.is_some() {
                    "; by staff"
                } else {
                    ""
                }
            ),
            999,
        ),
    )
    .map_err(io)?;
    x.close("payment").map_err(io)?;
    x.leaf("signature", signature).map_err(io)?;
    x.leaf("keyVersion", key_version).map_err(io)?;
    x.leaf("receiptNum", "1").map_err(io)?;
    x.leaf("receiptCopyNum", if copied { "1" } else { "0" })
        .map_err(io)?;
    x.leaf("receiptProformaNum", "0").map_err(io)?;
    x.leaf("receiptDeliveryNum", "0").map_err(io)?;
    x.leaf("voidTransaction", "false").map_err(io)?;
    x.leaf("trainingID", "false").map_err(io)?;
    x.close("cashtransaction").map_err(io)
}
