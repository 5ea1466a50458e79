//! The receipt: one model ([`ReceiptDoc`]) for every output, built by a pure function
//! ([`build`]) from what the journal already holds, and laid out once as monospace text
//! ([`ReceiptDoc::lines`]) that the screen, the PDF ([`pdf`]) and the thermal printer
//! ([`escpos`]) all show. There is no second layout anywhere (no receipt HTML in `ui/`), so
//! what the customer gets on paper, in a PDF and on screen cannot drift apart.
//!
//! Norway's rules first (kassasystemforskrifta §§ 2-8-4 to 2-8-6, and the notes in
//! `../shared/fiscal/`): the heading "Salgskvittering" ("Returkvittering"), the seller's name,
//! address and organisation number with "MVA" when VAT-registered, the receipt number, date and
//! time, register, operator, the lines with quantity, amount including VAT and discounts, VAT
//! per rate (base, VAT, gross), the total in øre (electronic payments are never cash-rounded),
//! the means of payment with its reference, and copies marked "KOPI". Fields only Norway asks
//! for say `NO` where they are added; the words are per [`Market`] (`words.rs`).
//!
//! What this module is not: it does not number, sign or store receipts (the journal does, and
//! passes the number and time in), it does not decide whether a copy may be printed (one copy
//! per sale is the journal's rule), and it sends nothing to a printer ([`crate::printer`]
//! does). It never sees the checkout URL, so no receipt can carry it or its QR code.

mod charset;
pub mod escpos;
mod layout;
pub mod link_slip;
pub mod pdf;
mod report;
#[cfg(test)]
mod tests;
mod words;

pub use charset::printable;
pub use layout::{Line, Size};
pub use report::{build_report, build_shop_report};

use crate::money::Currency;
use crate::provider::OperationLine;
use crate::quote::PricedOrder;
use crate::settings::Settings;
use crate::store::{money_of, OperationRecord, SessionRecord, Via};
use serde::Serialize;

/// Whose receipt rules apply. Norway only for now; Sweden and Denmark differ in a few fields
/// (Sweden's control unit number, "kopia", "övning").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Market {
    #[default]
    No,
}

/// The seller as a receipt shows them, from the shop's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    pub address: Vec<String>,
    /// Nine digits, checked by the setting's validator.
    pub org_number: Option<String>,
    pub vat_registered: bool,
}

impl Seller {
    /// `shop.name`, `shop.address`, `shop.org_number`, `shop.vat_registered`.
    pub fn from_settings(s: &Settings) -> Seller {
        let get = |k: &str| s.get(k).ok().flatten();
        Seller {
            name: get("shop.name").unwrap_or_default(),
            address: get("shop.address")
                .map(|a| crate::settings::address_lines(&a))
                .unwrap_or_default(),
            org_number: get("shop.org_number"),
            vat_registered: get("shop.vat_registered").as_deref() != Some("false"),
        }
    }

    /// Whether a real (not demo) receipt can be made for this seller in `market`. The journal
    /// can ask this before a sale starts, so a sale never ends without a lawful receipt.
    pub fn check(&self, market: Market) -> Result<(), ReceiptError> {
        match market {
            // NO § 2-8-4: the seller's organisation number is on every sales receipt.
            Market::No if self.org_number.is_none() => Err(ReceiptError::NoOrgNumber),
            Market::No => Ok(()),
        }
    }
}

/// Who was at the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: u32,
    pub name: String,
}

/// A local date and time (the shop's wall clock), as the journal recorded it for the receipt.
/// Receipts print this, never a time recomputed from a UTC instant, so the paper shows exactly
/// the date and time that were signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    year: i64,
    month: u32,
    day: u32,
    second_of_day: u32,
}

impl Stamp {
    /// From the journal's `YYYY-MM-DD` and `HH:MM:SS` (SAF-T's `transDate`/`transTime`).
    pub fn parse(date: &str, time: &str) -> Result<Stamp, ReceiptError> {
        let bad = || ReceiptError::BadTime(format!("{date} {time}"));
        let millis = crate::time::parse_utc(&format!("{date}T{time}Z")).map_err(|_| bad())?;
        if date.len() != 10 || time.len() != 8 {
            return Err(bad());
        }
        Ok(Stamp::from_millis(millis, 0))
    }

    /// From a UTC instant and the UTC offset in effect then (e.g. +60 in Oslo in winter, +120
    /// in summer; the caller knows the zone, this module does not).
    pub fn from_millis(utc_millis: i64, utc_offset_minutes: i32) -> Stamp {
        let local = utc_millis.div_euclid(1000) + i64::from(utc_offset_minutes) * 60;
        let (year, month, day) = crate::time::civil_from_days(local.div_euclid(86_400));
        Stamp {
            year,
            month,
            day,
            second_of_day: local.rem_euclid(86_400) as u32,
        }
    }

    /// `2026-03-02`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `10:15:30`.
    pub fn time(&self) -> String {
        let s = self.second_of_day;
        format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
    }

    /// As a Norwegian reads it on paper: `02.03.2026 10:15:30`.
    fn display(&self, market: Market) -> String {
        match market {
            Market::No => format!(
                "{:02}.{:02}.{:04} {}",
                self.day,
                self.month,
                self.year,
                self.time()
            ),
        }
    }
}

/// What kind of receipt: a sale or a return. A copy is either of them printed again
/// ([`ReceiptMeta::copy`]), so a copy of a copy cannot be expressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptKind {
    Sale,
    Return(Refund),
}

/// A refund as its return receipt shows it: what the refund operation gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The receipt number of the sale it returns.
    pub of_number: u64,
    /// The refund's lines, as the operation recorded them (positive amounts; the receipt shows
    /// them negative).
    pub lines: Vec<OperationLine>,
    /// The provider's reference of the refund.
    pub reference: Option<String>,
    /// Staff made the refund outside Kassa and recorded it (not the provider's evidence).
    pub recorded_by_staff: bool,
}

impl Refund {
    /// From the refund operation (`kind` refund or refund_recorded, state done) of the sale
    /// whose receipt was number `of_number`.
    pub fn from_operation(op: &OperationRecord, of_number: u64) -> Refund {
        Refund {
            of_number,
            lines: op.lines.clone(),
            reference: op.provider_reference.clone(),
            recorded_by_staff: op.via == Via::Staff,
        }
    }
}

/// What the journal knows about the receipt and the model cannot: its number, its time, the
/// register and the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptMeta {
    pub kind: ReceiptKind,
    /// `Some(when the copy is printed)` for a copy; the rest of the meta is the original's.
    pub copy: Option<Stamp>,
    /// The receipt number (the journal's signed-transaction number for the register).
    pub number: u64,
    /// When the sale or return was recorded.
    pub at: Stamp,
    pub register_id: String,
    pub operator: Operator,
    pub market: Market,
}

/// How the sale was paid, from the session log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The provider's name in the session log (`dintero`, `demo`).
    pub provider: String,
    /// The provider's id of the payment (or of its session).
    pub reference: Option<String>,
    /// The order's merchant reference.
    pub order_reference: String,
    pub state: PaymentState,
    /// Staff, not the provider, confirmed the payment.
    pub confirmed_by_staff: bool,
    /// A demo sale: no money moved.
    pub demo: bool,
}

/// How far a paid sale's money has moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Reserved on the customer's card or account, nothing captured yet.
    Authorized,
    /// Part captured (minor units).
    PartlyCaptured {
        captured: i64,
    },
    Captured,
    /// Paid, logged before Kassa recorded captures: how far it was captured is not known.
    Paid,
}

impl Payment {
    /// From a paid session and its operations. Only done captures count: a capture still on
    /// its way is not yet the provider's word.
    pub fn from_session(s: &SessionRecord, ops: &[OperationRecord]) -> Payment {
        let captured = money_of(ops).captured;
        let state = if captured >= s.gross_minor {
            PaymentState::Captured
        } else if captured > 0 {
            PaymentState::PartlyCaptured { captured }
        } else if s.capture_policy.is_none() && ops.is_empty() {
            PaymentState::Paid
        } else {
            PaymentState::Authorized
        };
        Payment {
            provider: s.provider.clone(),
            reference: s
                .provider_payment_id
                .clone()
                .or_else(|| s.provider_session_id.clone()),
            order_reference: s.merchant_reference.clone(),
            state,
            confirmed_by_staff: s.confirmed_by.as_deref() == Some("staff"),
            demo: s.demo,
        }
    }

    /// The provider as people know it (`Dintero`, `Bambora (Worldline)`).
    fn title(&self) -> String {
        match crate::provider::spec(&self.provider) {
            Some(spec) => spec.title.to_string(),
            None if self.provider == "demo" => "Demo".into(),
            None => self.provider.clone(),
        }
    }
}

/// Why a receipt cannot be made. Each names its cause and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("shop.org_number is not set: a Norwegian receipt must show the seller's organisation number (kassa-cli config set shop.org_number 923609016)")]
    NoOrgNumber,
    #[error("{0:?} is not a date and time (YYYY-MM-DD HH:MM:SS)")]
    BadTime(String),
    /// The inputs disagree (a logged order whose lines do not add up, a refund of nothing).
    /// Kassa prints no receipt whose figures do not add up.
    #[error("cannot make the receipt: {0}")]
    Inconsistent(String),
    /// The PDF or ESC/POS library failed (a font or command it could not write).
    #[error("cannot write the receipt as {format}: {cause}")]
    Output { format: &'static str, cause: String },
}

impl ReceiptError {
    pub fn code(&self) -> crate::code::Code {
        match self {
            ReceiptError::NoOrgNumber => crate::code::Code::ReceiptIncomplete,
            _ => crate::code::Code::ReceiptError,
        }
    }
}

/// The receipt, as typed rows in print order. Amounts are minor units of `currency`, signed
/// as the customer sees them (a return's lines and total are negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptDoc {
    pub market: Market,
    #[serde(serialize_with = "currency_code")]
    pub currency: Currency,
    pub rows: Vec<Row>,
}

fn currency_code<S: serde::Serializer>(c: &Currency, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.code())
}

/// One part of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "row", rename_all = "snake_case")]
pub enum Row {
    /// The title, large ("Salgskvittering").
    Heading { text: String },
    /// Something the customer must not miss: "KOPI" (`big`), "DEMO – ingen ekte penger".
    Marker { text: String, big: bool },
    /// The seller: name, then address and organisation number lines.
    Seller { name: String, lines: Vec<String> },
    /// A label and its value (receipt number, date, register, operator).
    Field { label: String, value: String },
    /// A line of the order.
    Item(Item),
    /// The amount to pay (or paid back), in bold.
    Total { label: String, amount: i64 },
    /// VAT per rate, with a sum row.
    Vat(VatTable),
    /// The means of payment: what, how much, and details (reference, captured or not).
    Payment {
        label: String,
        amount: i64,
        details: Vec<String>,
    },
    /// A free line (e.g. "confirmed by staff").
    Note { text: String },
    /// A separator across the paper.
    Rule,
}

/// A line of the order as the receipt shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub name: String,
    /// What goes under the name: quantity × unit price, the discount; empty when the name and
    /// amount say it all.
    pub details: Vec<String>,
    /// Including VAT, after discounts: the column that adds up to the total.
    pub amount: i64,
    /// The discount included in `amount` (0 when none), also in `details`.
    pub discount: i64,
}

/// VAT per rate: the column titles, one row per rate, and their sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VatTable {
    pub columns: [String; 4],
    pub rows: Vec<VatLine>,
    pub sum: VatLine,
}

/// One VAT rate's base, VAT and gross (the sum row's `label` is "Sum").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VatLine {
    pub label: String,
    pub base: i64,
    pub vat: i64,
    pub gross: i64,
}

impl ReceiptDoc {
    /// Formats an amount as the receipt prints it: every minor digit (øre), no currency.
    pub fn amount(&self, minor: i64) -> String {
        self.currency
            .format_number(minor, self.market.words().locale)
    }

    /// The total row's amount.
    pub fn total(&self) -> Option<i64> {
        self.rows.iter().find_map(|r| match r {
            Row::Total { amount, .. } => Some(*amount),
            _ => None,
        })
    }

    /// The items' amounts, in order.
    pub fn item_amounts(&self) -> Vec<i64> {
        self.rows
            .iter()
            .filter_map(|r| match r {
                Row::Item(i) => Some(i.amount),
                _ => None,
            })
            .collect()
    }

    /// The receipt laid out for a printer `columns` characters wide (48 for most 80 mm
    /// printers in their default font, 42 for some, 32 for 58 mm paper): what the printer
    /// prints, the PDF draws and the screen shows.
    pub fn lines(&self, columns: Columns) -> Vec<Line> {
        layout::lines(self, columns.get())
    }
}

/// The width of a receipt in characters, within [`crate::settings::PRINTER_COLUMNS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns(usize);

impl Columns {
    /// Font A on 80 mm paper (576 dots, 12 dots a character).
    pub const PAPER_80MM: Columns = Columns(48);

    pub fn new(columns: usize) -> Result<Columns, String> {
        let range = crate::settings::PRINTER_COLUMNS;
        if range.contains(&columns) {
            Ok(Columns(columns))
        } else {
            Err(format!(
                "{columns} columns: a receipt is {} to {} characters wide",
                range.start(),
                range.end()
            ))
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// Builds the receipt of a sale (or its return) from the priced order the session log kept
/// (`quote::from_logged`), the payment, the seller and the journal's meta. Pure: the same
/// inputs give the same receipt, today or in ten years.
pub fn build(
    order: &PricedOrder,
    payment: &Payment,
    seller: &Seller,
    meta: &ReceiptMeta,
) -> Result<ReceiptDoc, ReceiptError> {
    let market = meta.market;
    let w = market.words();
    // A real sale needs every field the market requires; a demo sale moved no money and is
    // marked so at both ends, so a new install's demo receipts need no organisation number.
    if !payment.demo {
        seller.check(market)?;
    }
    let mut doc = ReceiptDoc {
        market,
        currency: order.currency,
        rows: Vec::new(),
    };
    let markers = |rows: &mut Vec<Row>| {
        if meta.copy.is_some() {
            rows.push(Row::Marker {
                text: w.copy.into(),
                big: true,
            });
            rows.push(Row::Marker {
                text: w.copy_not_proof.into(),
                big: false,
            });
        }
        if payment.demo {
            rows.push(Row::Marker {
                text: w.demo.into(),
                big: false,
            });
        }
    };
    let rows = &mut doc.rows;
    markers(rows);
    rows.push(Row::Heading {
        text: match meta.kind {
            ReceiptKind::Sale => w.sale,
            ReceiptKind::Return(_) => w.sale_return,
        }
        .into(),
    });
    rows.push(seller_row(seller, market));
    rows.push(Row::Rule);
    let field = |label: &str, value: String| Row::Field {
        label: label.into(),
        value,
    };
    // NO § 2-8-4: number (unbroken per register), date and time, register, operator.
    rows.push(field(w.number, meta.number.to_string()));
    rows.push(field(w.date, meta.at.display(market)));
    rows.push(field(w.register, meta.register_id.clone()));
    rows.push(field(
        w.operator,
        format!("{} {}", meta.operator.id, meta.operator.name)
            .trim()
            .to_string(),
    ));
    if let ReceiptKind::Return(refund) = &meta.kind {
        // NO § 2-8-5: a return receipt refers to the sale it returns.
        rows.push(field(w.return_of, refund.of_number.to_string()));
    }
    if let Some(printed) = meta.copy {
        rows.push(field(w.copy_printed, printed.display(market)));
    }
    rows.push(Row::Rule);
    let (items, vat, total) = match &meta.kind {
        ReceiptKind::Sale => sale_items(order, w)?,
        ReceiptKind::Return(refund) => return_items(order, refund, w)?,
    };
    rows.extend(items.into_iter().map(Row::Item));
    rows.push(Row::Rule);
    rows.push(Row::Total {
        label: format!("{} {}", w.total, order.currency.code()),
        amount: total,
    });
    rows.push(Row::Rule);
    rows.push(Row::Vat(vat));
    rows.push(Row::Rule);
    rows.push(payment_row(payment, &meta.kind, total, order, w));
    match &meta.kind {
        ReceiptKind::Sale if payment.confirmed_by_staff => rows.push(Row::Note {
            text: w.confirmed_by_staff.into(),
        }),
        ReceiptKind::Return(r) if r.recorded_by_staff => rows.push(Row::Note {
            text: w.recorded_by_staff.into(),
        }),
        _ => {}
    }
    // Repeated at the foot, so a torn-off half still says what it is.
    if meta.copy.is_some() || payment.demo {
        rows.push(Row::Rule);
        markers(rows);
    }
    Ok(doc)
}

fn seller_row(seller: &Seller, market: Market) -> Row {
    let w = market.words();
    let mut lines = seller.address.clone();
    if let Some(org) = &seller.org_number {
        // NO: `Org.nr. 923 609 016 MVA`, grouped in threes as Brønnøysundregistrene writes it.
        let grouped: Vec<String> = org
            .as_bytes()
            .chunks(3)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let mut line = format!("{} {}", w.org_number, grouped.join(" "));
        if seller.vat_registered {
            line = format!("{line} {}", w.vat_registered);
        }
        lines.push(line);
    }
    Row::Seller {
        name: seller.name.clone(),
        lines,
    }
}

/// A quantity or rate as written in the market (`0,35`).
fn decimal(text: &str, w: &words::Words) -> String {
    text.replace('.', &w.decimal.to_string())
}

fn rate_label(canonical_percent: &str, w: &words::Words) -> String {
    format!("{} %", decimal(canonical_percent, w))
}

type Items = (Vec<Item>, VatTable, i64);

fn sale_items(order: &PricedOrder, w: &words::Words) -> Result<Items, ReceiptError> {
    let fmt = |minor: i64| order.currency.format_number(minor, w.locale);
    let excl = if order.prices_include_vat {
        String::new()
    } else {
        format!(" {}", w.excl_vat)
    };
    let mut items = Vec::with_capacity(order.lines.len());
    for l in &order.lines {
        let mut details = Vec::new();
        let quantity = decimal(&l.quantity.to_canonical(), w);
        let quantity = match &l.unit {
            Some(unit) => format!("{quantity} {unit}"),
            None => quantity,
        };
        // One piece at its price says nothing the amount does not; anything else is shown
        // (with a discount, the price it was taken from).
        let plain = l.quantity.milli() == 1000 && l.unit.is_none() && l.discount() == 0;
        if !plain || !order.prices_include_vat {
            details.push(format!("{quantity} x {}{excl}", fmt(l.unit_price)));
        }
        if l.discount() != 0 {
            details.push(format!("{} {}{excl}", w.discount, fmt(-l.discount())));
        }
        items.push(Item {
            name: l.name.clone(),
            details,
            amount: l.gross,
            discount: l.discount(),
        });
    }
    let total = checked_sum(order.lines.iter().map(|l| l.gross))?;
    if total != order.total.gross {
        return Err(ReceiptError::Inconsistent(format!(
            "the order's total {} is not the sum of its lines {total}",
            order.total.gross
        )));
    }
    let rows: Vec<VatLine> = order
        .vat_summary
        .iter()
        .map(|r| VatLine {
            label: rate_label(&r.vat_rate.to_percent_string(), w),
            base: r.net,
            vat: r.vat,
            gross: r.gross,
        })
        .collect();
    let vat = vat_table(rows, total, w)?;
    Ok((items, vat, total))
}

fn return_items(
    order: &PricedOrder,
    refund: &Refund,
    w: &words::Words,
) -> Result<Items, ReceiptError> {
    if refund.lines.is_empty() {
        return Err(ReceiptError::Inconsistent(
            "the refund has no lines to show".into(),
        ));
    }
    let fmt = |minor: i64| order.currency.format_number(minor, w.locale);
    let mut items = Vec::with_capacity(refund.lines.len());
    for l in &refund.lines {
        let sold = order.lines.get(l.index).ok_or_else(|| {
            ReceiptError::Inconsistent(format!("the refund's line {} is not in the sale", l.index))
        })?;
        let details = if l.quantity == "0" {
            vec![w.amount_only.to_string()]
        } else {
            let quantity = decimal(&l.quantity, w);
            let quantity = match &l.unit {
                Some(unit) => format!("-{quantity} {unit}"),
                None => format!("-{quantity}"),
            };
            let excl = if order.prices_include_vat {
                String::new()
            } else {
                format!(" {}", w.excl_vat)
            };
            vec![format!("{quantity} x {}{excl}", fmt(sold.unit_price))]
        };
        items.push(Item {
            name: l.name.clone(),
            details,
            amount: -l.gross,
            discount: 0,
        });
    }
    let total = -checked_sum(refund.lines.iter().map(|l| l.gross))?;
    let rows = crate::refund::per_rate(&refund.lines)
        .into_iter()
        .map(|r| VatLine {
            label: rate_label(&r.vat_rate, w),
            base: -r.net,
            vat: -r.vat,
            gross: -r.gross,
        })
        .collect();
    let vat = vat_table(rows, total, w)?;
    Ok((items, vat, total))
}

fn checked_sum(mut amounts: impl Iterator<Item = i64>) -> Result<i64, ReceiptError> {
    amounts
        .try_fold(0_i64, i64::checked_add)
        .ok_or_else(|| ReceiptError::Inconsistent("the amounts overflow".into()))
}

/// The VAT table with its sum row, which must come to the receipt's total.
fn vat_table(rows: Vec<VatLine>, total: i64, w: &words::Words) -> Result<VatTable, ReceiptError> {
    let sum = VatLine {
        label: w.vat_sum.into(),
        base: checked_sum(rows.iter().map(|r| r.base))?,
        vat: checked_sum(rows.iter().map(|r| r.vat))?,
        gross: checked_sum(rows.iter().map(|r| r.gross))?,
    };
    if sum.gross != total || sum.base.checked_add(sum.vat) != Some(sum.gross) {
        return Err(ReceiptError::Inconsistent(format!(
            "VAT per rate comes to {} + {} = {}, the lines to {total}",
            sum.base, sum.vat, sum.gross
        )));
    }
    Ok(VatTable {
        columns: w.vat_columns.map(String::from),
        rows,
        sum,
    })
}

fn payment_row(
    payment: &Payment,
    kind: &ReceiptKind,
    total: i64,
    order: &PricedOrder,
    w: &words::Words,
) -> Row {
    let fmt = |minor: i64| order.currency.format_number(minor, w.locale);
    let mut details = Vec::new();
    let (label, reference) = match kind {
        ReceiptKind::Sale => (w.paid_with, payment.reference.as_ref()),
        ReceiptKind::Return(r) => (w.refunded_to, r.reference.as_ref()),
    };
    if let Some(reference) = reference {
        details.push(format!("{} {reference}", w.reference));
    }
    details.push(format!("{} {}", w.order, payment.order_reference));
    if let ReceiptKind::Sale = kind {
        details.push(match payment.state {
            PaymentState::Captured => w.captured.to_string(),
            PaymentState::Authorized => w.authorized.to_string(),
            PaymentState::PartlyCaptured { captured } => {
                format!("{} {}", w.partly_captured, fmt(captured))
            }
            PaymentState::Paid => w.paid.to_string(),
        });
    }
    Row::Payment {
        label: format!("{label} {}", payment.title()),
        amount: total,
        details,
    }
}
