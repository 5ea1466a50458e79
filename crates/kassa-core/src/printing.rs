//! Issuing a receipt: the step between the journal and the receipt model. A receipt is made
//! only from what the journal holds (its number, its time, its operator) and the session log
//! (the priced order, the payment), never from anything the caller passes, so the receipt of a
//! sale is the same on the screen, on paper and in a PDF, today and later.
//!
//! The rules (kassasystemforskrifta § 2-8-4 and § 2-8-6, `../shared/fiscal/NOTES-fiscal.md`):
//! - Every paid sale has exactly one sales receipt and every done refund or void one return
//!   receipt: the journal's signed entries. Without its entry there is no receipt (a sale not
//!   paid, a refund not done).
//! - The **original** is issued once: the first time it is printed or saved as a PDF (a
//!   session event `receipt_issued` records it after the output succeeded, so a printer that
//!   is off leaves the original to print later; a print cut off part way is not an issue
//!   either, as the printer's error says "print the receipt again"). Looking at it on the
//!   screen issues nothing. A late first print is still the original.
//! - Every later print or PDF is a **copy**: journaled first (`SessionLog::record_copy`), then
//!   made with "KOPI" on it. The journal allows one copy per receipt and refuses a second.
//!
//! Not here: the layout (`receipt`), the transports (`printer`), which key signs (`store`).

use crate::code::Code;
use crate::journal::{Entry, Kind};
use crate::operator::Authenticated;
use crate::printer::{PrintError, PrinterUrl};
use crate::quote::from_logged;
use crate::receipt::{
    self, Columns, Market, Operator, Payment, ReceiptDoc, ReceiptError, ReceiptKind, ReceiptMeta,
    Refund, Seller, Stamp,
};
use crate::store::{OperationState, SessionLog, StoreError};
use serde::Serialize;
use std::path::Path;

/// What every receipt of this till is made with: the seller's details and the printer's line
/// width (`shop.*`, `printer.columns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paper {
    pub seller: Seller,
    pub columns: Columns,
}

impl Paper {
    pub fn from_settings(s: &crate::settings::Settings) -> Paper {
        Paper {
            seller: Seller::from_settings(s),
            // The setting is validated when set; a hand-edited file falls back to 80 mm paper.
            columns: Columns::new(s.printer_columns()).unwrap_or(Columns::PAPER_80MM),
        }
    }
}

/// The session event kind that records an original's issue.
const ISSUED: &str = "receipt_issued";

/// Which receipt of a sale: its sales receipt, or the return receipt of one of its refunds or
/// voids (by operation id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which<'a> {
    Sale,
    Return(&'a str),
}

/// How a receipt goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// To the receipt printer (ESC/POS).
    Printer(PrinterUrl),
    /// As a PDF file (80 mm wide).
    Pdf(std::path::PathBuf),
    /// The ESC/POS bytes into a file (for a spooler, or to look at).
    EscPos(std::path::PathBuf),
}

impl Output {
    fn describe(&self) -> String {
        match self {
            Output::Printer(url) => format!("printed on {url}"),
            Output::Pdf(p) => format!("saved as PDF {}", p.display()),
            Output::EscPos(p) => format!("written as ESC/POS to {}", p.display()),
        }
    }
}

/// A receipt as made: its model and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issued {
    /// `sale` or `return`.
    pub kind: &'static str,
    /// The receipt number (the journal's `nr`).
    pub number: i64,
    pub register_id: String,
    /// The receipt's journal entry.
    pub journal_seq: i64,
    /// The copy's journal entry, when this is a copy.
    pub copy_seq: Option<i64>,
    /// Whether (and how, when) the original was issued, before this.
    pub issued: Option<String>,
    pub receipt: ReceiptDoc,
    /// The receipt as monospace lines at the printer's width (what the screen shows).
    pub lines: Vec<String>,
}

/// Why a receipt could not be made or sent. Each names its cause.
#[derive(Debug, thiserror::Error)]
pub enum PrintingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Receipt(#[from] ReceiptError),
    #[error(transparent)]
    Print(#[from] PrintError),
    /// The session or operation has no receipt (yet).
    #[error("{0}")]
    NoReceipt(String),
    /// The original was issued already: what is asked now is a copy.
    #[error("receipt {number} was issued already ({how}); a second print is a copy, marked KOPI and journaled (one per receipt): ask for a copy")]
    AlreadyIssued { number: i64, how: String },
    /// Nothing to send it to.
    #[error("no receipt printer is set: set printer.url (e.g. tcp://192.168.1.50:9100), or save the receipt as a PDF")]
    NoPrinter,
}

impl PrintingError {
    pub fn code(&self) -> Code {
        match self {
            PrintingError::Store(e) => e.code(),
            PrintingError::Receipt(e) => e.code(),
            PrintingError::Print(e) => e.code(),
            PrintingError::NoReceipt(_) => Code::NoReceipt,
            PrintingError::AlreadyIssued { .. } => Code::ReceiptIssued,
            PrintingError::NoPrinter => Code::NoPrinter,
        }
    }
}

/// The journal entry of the receipt `which` of session `session_id`.
pub fn entry_of(log: &SessionLog, session_id: &str, which: Which) -> Result<Entry, PrintingError> {
    match which {
        Which::Sale => log.sale_entry(session_id)?.ok_or_else(|| {
            PrintingError::NoReceipt(format!(
                "session {session_id} has no sales receipt: only a paid sale has one"
            ))
        }),
        Which::Return(op) => {
            let rec = log.operation(op)?;
            if rec.session_id != session_id {
                return Err(PrintingError::NoReceipt(format!(
                    "operation {op} is not one of session {session_id}'s"
                )));
            }
            log.return_entry(op)?.ok_or_else(|| {
                PrintingError::NoReceipt(format!(
                    "operation {op} ({}, {}) has no return receipt: only a done refund or void has one",
                    rec.kind.as_str(),
                    rec.state.as_str()
                ))
            })
        }
    }
}

/// How the original of `entry` was issued, if it was (the session event that says so).
pub fn issued(log: &SessionLog, entry: &Entry) -> Result<Option<String>, PrintingError> {
    let Some(session_id) = entry.session_id.as_deref() else {
        return Ok(None);
    };
    let (_, events) = log.get(session_id)?;
    let prefix = issued_prefix(entry);
    Ok(events
        .into_iter()
        .find(|e| e.kind == ISSUED && e.detail.starts_with(&prefix))
        .map(|e| e.detail[prefix.len()..].trim().to_string()))
}

fn issued_prefix(entry: &Entry) -> String {
    format!(
        "{} receipt {} (register {}):",
        entry.kind.as_str(),
        entry.nr.unwrap_or_default(),
        entry.register_id
    )
}

/// The receipt `which` of session `session_id` as the journal holds it, made to look at
/// (nothing is issued or journaled).
pub fn view(
    log: &SessionLog,
    paper: &Paper,
    session_id: &str,
    which: Which,
) -> Result<Issued, PrintingError> {
    let entry = entry_of(log, session_id, which)?;
    let issued = issued(log, &entry)?;
    make(log, paper, &entry, None, issued)
}

/// Issues the original of receipt `which` to `output`: refused when it was issued before
/// (then it is a [`copy`]). Records the issue after the output succeeded.
pub fn issue_original(
    log: &mut SessionLog,
    paper: &Paper,
    session_id: &str,
    which: Which,
    output: &Output,
    now: i64,
) -> Result<Issued, PrintingError> {
    let entry = entry_of(log, session_id, which)?;
    if let Some(how) = issued(log, &entry)? {
        return Err(PrintingError::AlreadyIssued {
            number: entry.nr.unwrap_or_default(),
            how,
        });
    }
    let made = make(log, paper, &entry, None, None)?;
    send(&made.receipt, paper.columns, output)?;
    log.add_event(
        session_id,
        now,
        ISSUED,
        &format!("{} {}", issued_prefix(&entry), output.describe()),
    )?;
    Ok(made)
}

/// Journals a copy of receipt `which` by `by` and sends it to `output` (or only makes it,
/// with `None`: a copy shown on screen is a copy too). Refused when the receipt was copied
/// already. The copy is journaled before it is sent, so a copy that fails to print is still
/// the one copy (the journal cannot tell paper that came out from paper that did not); its
/// error says so.
pub fn copy(
    log: &mut SessionLog,
    paper: &Paper,
    session_id: &str,
    which: Which,
    output: Option<&Output>,
    by: &Authenticated,
    now: i64,
) -> Result<Issued, PrintingError> {
    let entry = entry_of(log, session_id, which)?;
    let issued = issued(log, &entry)?;
    let copy = log.record_copy(entry.seq, by, now)?;
    crate::pause::pause_point("copy_recorded");
    let made = make(log, paper, &entry, Some(&copy), issued)?;
    if let Some(output) = output {
        send(&made.receipt, paper.columns, output)?;
    }
    Ok(made)
}

/// Sends a receipt made by [`issue_original`] or [`copy`] to one more output (the same issue:
/// a receipt printed and also kept as a PDF is one original).
pub fn send_made(made: &Issued, paper: &Paper, output: &Output) -> Result<(), PrintingError> {
    send(&made.receipt, paper.columns, output)
}

fn send(doc: &ReceiptDoc, columns: Columns, output: &Output) -> Result<(), PrintingError> {
    match output {
        Output::Printer(url) => {
            crate::printer::send(url, &receipt::escpos::encode(doc, columns)?)?;
        }
        Output::EscPos(path) => {
            crate::printer::save(path, &receipt::escpos::encode(doc, columns)?)?;
        }
        // A PDF is a page 80 mm wide whatever the printer's width.
        Output::Pdf(path) => {
            save_pdf(path, &receipt::pdf::render(doc, Columns::PAPER_80MM)?)?;
        }
    }
    Ok(())
}

fn save_pdf(path: &Path, bytes: &[u8]) -> Result<(), PrintError> {
    crate::printer::save(path, bytes)
}

/// Builds the receipt of `entry` (a sale or a return) from the session log, as a copy when
/// `copy` is its copy entry.
fn make(
    log: &SessionLog,
    paper: &Paper,
    entry: &Entry,
    copy: Option<&Entry>,
    issued: Option<String>,
) -> Result<Issued, PrintingError> {
    let bad = |what: String| PrintingError::Receipt(ReceiptError::Inconsistent(what));
    let session_id = entry
        .session_id
        .as_deref()
        .ok_or_else(|| bad(format!("journal entry {} names no session", entry.seq)))?;
    let (session, _) = log.get(session_id)?;
    let ops = log.operations(session_id)?;
    let order = from_logged(&session.order_json)
        .map_err(|e| bad(format!("the logged order of session {session_id}: {e}")))?;
    let nr = entry
        .nr
        .ok_or_else(|| bad(format!("journal entry {} has no receipt number", entry.seq)))?;
    let (kind, operator) = match entry.kind {
        Kind::Sale => {
            let body = entry.sale().map_err(bad)?;
            (ReceiptKind::Sale, body.operator)
        }
        Kind::Return => {
            let body = entry.return_body().map_err(bad)?;
            let op_id = entry.operation_id.as_deref().unwrap_or_default();
            let op = ops
                .iter()
                .find(|o| o.id == op_id && o.state == OperationState::Done)
                .ok_or_else(|| bad(format!("the returned operation {op_id} is not done")))?;
            let sale = log.sale_entry(session_id)?.ok_or_else(|| {
                bad(format!(
                    "session {session_id} has a return but no sales receipt"
                ))
            })?;
            let of_number = sale.nr.unwrap_or_default() as u64;
            (
                ReceiptKind::Return(Refund::from_operation(op, of_number)),
                body.operator,
            )
        }
        other => {
            return Err(PrintingError::NoReceipt(format!(
                "journal entry {} is a {}, not a receipt",
                entry.seq,
                other.as_str()
            )))
        }
    };
    let meta = ReceiptMeta {
        kind,
        copy: copy
            .map(|c| Stamp::parse(&c.local_date, &c.local_time))
            .transpose()?,
        number: nr as u64,
        at: Stamp::parse(&entry.local_date, &entry.local_time)?,
        register_id: entry.register_id.clone(),
        operator: Operator {
            // Operator ids are 1..=999999 (the operators table's check).
            id: u32::try_from(operator.id).unwrap_or_default(),
            name: operator.name,
        },
        market: Market::No,
    };
    let payment = Payment::from_session(&session, &ops);
    let doc = receipt::build(&order, &payment, &paper.seller, &meta)?;
    let lines = doc
        .lines(paper.columns)
        .into_iter()
        .map(|l| l.text)
        .collect();
    Ok(Issued {
        kind: entry.kind.as_str(),
        number: nr,
        register_id: entry.register_id.clone(),
        journal_seq: entry.seq,
        copy_seq: copy.map(|c| c.seq),
        issued,
        receipt: doc,
        lines,
    })
}

/// The ESC/POS bytes of link sale `s`'s slip (`receipt::link_slip`): the shop, amount,
/// reference, the expiry the provider confirmed in the till's local time, the QR code and the
/// URL. The desktop's "Print link slip" and `kassa-cli --print-slip` both print these.
pub fn link_slip(
    settings: &crate::settings::Settings,
    s: &crate::store::SessionRecord,
) -> Result<Vec<u8>, String> {
    let url = s
        .checkout_url
        .as_deref()
        .filter(|u| !u.starts_with("data:"))
        .ok_or_else(|| format!("session {} has no link to print", s.id))?;
    let expires = s
        .expires_at
        .ok_or_else(|| format!("session {} has no expiry", s.id))?;
    let amount = crate::money::Currency::from_code(&s.currency)
        .map(|c| c.format_plain(s.gross_minor))
        .unwrap_or_else(|| s.gross_minor.to_string());
    let slip = crate::receipt::link_slip::LinkSlip {
        seller: settings.get("shop.name").ok().flatten().unwrap_or_default(),
        amount: format!("{amount} {}", s.currency),
        reference: s.merchant_reference.clone(),
        expires: crate::journal::Zone::system().stamp(expires),
        url: url.to_string(),
    };
    let columns = Columns::new(settings.printer_columns())?;
    slip.escpos(columns).map_err(|e| e.to_string())
}
