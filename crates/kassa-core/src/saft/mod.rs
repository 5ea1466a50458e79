//! The SAF-T Cash Register export (Norway, schema v1.00, namespace
//! `urn:StandardAuditFile-Taxation-CashRegister:NO`): this register's journal for a range of
//! local dates as the file the tax office asks for, a mapping of what the journal holds, never
//! a recomputation. The signed amounts, dates, times, receipt numbers, signatures and key
//! versions are written exactly as the journal holds them, so Skatteetaten's validator checks
//! the very bytes Kassa signed.
//!
//! Streaming: the file is written through a buffered writer while the journal is read one row
//! at a time, twice (the schema puts every `event` of a register before its first
//! `cashtransaction`), so a year of a busy till is never held in memory. It is written to
//! `<name>.tmp` beside the target, synced and renamed, so a crash leaves no half file under
//! the real name; then the export itself is journaled (event 13020, in the next export).
//!
//! The codes (`../shared/fiscal/`, PredefinedBasicID lists):
//! - events: each journal kind's own basicID (`journal::Kind::basic_id`) with its
//!   PredefinedBasicID-13 code, so the export is a mapping;
//! - transactions: sales `CASHSALE` 11001 "Kontantsalg" (paid on delivery, whatever the
//!   instrument: Skatteetaten treats card as cash at the counter), returns `RETURN` 11006;
//! - payments: one basicID per provider with the PredefinedBasicID-12 code its receipts
//!   recorded (`journal::body::payment_type`, from each provider's spec): Opencharge 12011
//!   "mobile phone apps" (the customer pays from a wallet application on the phone), Bambora
//!   and Commerce Layer 12003 "credit card" (card-scheme payments on a hosted page; debit and
//!   credit are not reported, and BankAxept, Norway's "bankkort" 12002, is not run by hosted
//!   pages), Dintero and Klarna 12999 "other" (Dintero lets the customer choose Vipps, card or
//!   Klarna on its page, so one code would be wrong for part of its sales; with Klarna the
//!   customer pays Klarna later or now, neither card nor cash from the shop's view), the demo
//!   provider 12999 (no money moves);
//! - article group: one, `GOODS` 04003 "Varesalg" (Kassa's products have no group yet);
//! - VAT: Norway's standard codes, 25 % → 3, 15 % → 31, 12 % → 33, 11.11 % → 32, 0 % → 5
//!   (zero-rated sales; the official example's `0` is a purchases code).
//!
//! The chain's first link: the period's first signature was chained to the receipt before
//! the period, whose signature `headerComment` carries (`previous signature: …`, or `0`), so
//! an export can be verified on its own.
//!
//! Not here: the journal's SQL (`store`), what a report contains (`report`).

mod events;
mod transactions;
pub mod xml;

use crate::catalog::Catalog;
use crate::journal::{Kind, LocalStamp};
use crate::operator::{Authenticated, OWNER_ID, OWNER_NAME};
use crate::receipt::Seller;
use crate::store::{JournalFilter, NewEvent, SessionLog, StoreError};
use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use xml::{at_most, Xml};

/// The schema's namespace.
pub const NAMESPACE: &str = "urn:StandardAuditFile-Taxation-CashRegister:NO";

/// The one article group Kassa reports.
const ART_GROUP: &str = "GOODS";

/// What to export and for whom.
#[derive(Debug, Clone)]
pub struct ExportRequest<'a> {
    /// Local dates, `YYYY-MM-DD`, inclusive.
    pub from: &'a str,
    pub to: &'a str,
    /// A file, or a directory to write the conventionally named file into.
    pub out: &'a Path,
    pub seller: &'a Seller,
    /// The product list: its articles, and the SKUs a line may name as `artID`.
    pub catalog: &'a Catalog,
    pub by: &'a Authenticated,
    pub now: i64,
}

/// A finished export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub path: PathBuf,
    pub events: u64,
    pub transactions: u64,
    pub bytes: u64,
    /// The export's own journal entry.
    pub entry_seq: i64,
}

/// Why an export was not made. Nothing is left under the file's name.
#[derive(Debug, thiserror::Error)]
pub enum SaftError {
    /// Bad dates, no organisation number, no shop name.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A journal entry Kassa cannot map (an unreadable body, a VAT rate with no standard code).
    #[error("journal entry {seq}: {why}; no file was written")]
    Entry { seq: i64, why: String },
    #[error("cannot write {path}: {cause}")]
    Io { path: PathBuf, cause: String },
}

/// `YYYY-MM-DD`, a real date.
fn date(flag: &str, text: &str) -> Result<(), SaftError> {
    crate::time::parse_utc(&format!("{text}T00:00:00Z"))
        .ok()
        .filter(|_| text.len() == 10)
        .map(|_| ())
        .ok_or_else(|| SaftError::Invalid(format!("{flag}: {text:?} is not a date (YYYY-MM-DD)")))
}

/// `SAF-T Cash Register_<org number>_<yyyymmddhhmmss>_<n>.xml` in `dir`, the first `n` from 1
/// not taken.
pub fn file_in(dir: &Path, org_number: &str, at: &LocalStamp) -> PathBuf {
    let stamp = format!("{}{}", at.date.replace('-', ""), at.time.replace(':', ""));
    (1..)
        .map(|n| dir.join(format!("SAF-T Cash Register_{org_number}_{stamp}_{n}.xml")))
        .find(|p| !p.exists())
        .expect("a free name")
}

/// The standard SAF-T VAT code of a VAT rate, and its `vatPerc` (`25.00`).
pub(crate) fn vat_code(rate: &str) -> Result<(&'static str, String), String> {
    let bp = crate::order::VatRate::parse_percent(rate)
        .map_err(|e| format!("VAT rate {rate:?}: {e}"))?
        .basis_points();
    let code = match bp {
        2500 => "3",
        1500 => "31",
        1200 => "33",
        1111 => "32",
        0 => "5",
        _ => {
            return Err(format!(
                "VAT rate {rate} % has no standard SAF-T VAT code (Norway: 25, 15, 12, 11.11, 0)"
            ))
        }
    };
    Ok((code, format!("{}.{:02}", bp / 100, bp % 100)))
}

/// Amounts as SAF-T and the signature write them: `-?\d+\.\d\d`.
pub(crate) fn amount(minor: i64) -> String {
    crate::journal::signature::amount_text(minor).unwrap_or_else(|_| {
        // Only i64::MIN has no absolute value; no receipt reaches it.
        format!("{minor}")
    })
}

/// The VAT codes every file declares, with their standard codes' descriptions.
const VAT_CODES: [(&str, &str); 5] = [
    ("3", "Utgående mva, alminnelig sats 25 %"),
    ("31", "Utgående mva, middels sats 15 %"),
    ("33", "Utgående mva, lav sats 12 %"),
    ("32", "Utgående mva, råfisk 11,11 %"),
    ("5", "Innenlands omsetning fritatt for mva (0 %)"),
];

/// An event kind's `basicDesc` (the code list's Norwegian text, or Kassa's for 13999).
fn event_desc(kind: Kind) -> &'static str {
    match kind {
        Kind::AppStart => "Oppstart av POS-applikasjon",
        Kind::Login => "Pålogging bruker/ansatt",
        Kind::LoginFailed => "Avvist PIN-kode",
        Kind::Logout => "Avlogging bruker/ansatt",
        Kind::Sale => "Salgskvittering",
        Kind::Return => "Returkvittering",
        Kind::Copy => "Kopi av kvittering",
        Kind::Void => "Annullert salg (ikke betalt)",
        Kind::NoReceipt => "Fullført salg uten utskrift av kvittering",
        Kind::XReport => "Kjøring av X-rapport",
        Kind::ZReport => "Kjøring av Z-rapport",
        Kind::Export => "Eksport av journal",
        Kind::PriceChange => "Prisendringer",
        Kind::SettingsChange => "Endring av innstillinger",
        Kind::OperatorChange => "Endring av operatører",
        Kind::StaffConfirmed => "Betaling bekreftet av personalet",
        Kind::StaffRecorded => "Tilbakebetaling registrert av personalet",
        Kind::KeyCreated => "Signeringsnøkkel opprettet",
    }
}

/// The payment basics: every provider Kassa knows, and the demo.
fn payment_basics() -> Vec<(String, &'static str, String)> {
    let mut rows: Vec<(String, &'static str, String)> = crate::provider::REGISTRY
        .iter()
        .map(|s| {
            let (code, id) = crate::journal::body::payment_type(s.name);
            (id, code, s.title.to_string())
        })
        .collect();
    let (code, id) = crate::journal::body::payment_type("demo");
    rows.push((id, code, "Demo (ingen penger)".into()));
    rows
}

/// Who the file's employees are: every operator ever added, and the owner (operator 1) a
/// till with no operators runs as. Returns their ids too (an `empID` must be one of them).
fn employees(
    x: &mut Xml<impl Write>,
    log: &SessionLog,
    from: &str,
) -> Result<HashSet<i64>, SaftError> {
    let mut ops = log.operators()?;
    if !ops.iter().any(|o| o.id == OWNER_ID) {
        ops.insert(
            0,
            crate::operator::Operator {
                id: OWNER_ID,
                name: OWNER_NAME.into(),
                role: crate::operator::Role::Manager,
                // The owner is there from the start; the export's first day stands in.
                created_ms: crate::time::parse_utc(&format!("{from}T00:00:00Z")).unwrap_or(0),
                removed_ms: None,
            },
        );
    }
    let io = |e| io_err(Path::new("(the export)"), e);
    x.open("employees").map_err(io)?;
    for o in &ops {
        let at = log.local_stamp(o.created_ms);
        x.open("employee").map_err(io)?;
        x.leaf("empID", &o.id.to_string()).map_err(io)?;
        x.leaf("dateOfEntry", &at.date).map_err(io)?;
        x.leaf("timeOfEntry", &at.time).map_err(io)?;
        x.leaf("surName", at_most(&o.name, 100)).map_err(io)?;
        x.open("employeeRole").map_err(io)?;
        x.leaf("roleType", o.role.as_str()).map_err(io)?;
        x.close("employeeRole").map_err(io)?;
        x.close("employee").map_err(io)?;
    }
    x.close("employees").map_err(io)?;
    Ok(ops.iter().map(|o| o.id).collect())
}

fn io_err(path: &Path, e: std::io::Error) -> SaftError {
    SaftError::Io {
        path: path.to_path_buf(),
        cause: e.to_string(),
    }
}

/// What the two passes share.
pub(crate) struct Context<'a> {
    pub org_number: &'a str,
    pub company_name: &'a str,
    pub employees: HashSet<i64>,
    /// SKUs of the product list that fit `artID` (35 characters).
    pub articles: HashSet<&'a str>,
}

impl Context<'_> {
    /// The `empID` to write for an entry's operator: only one the file declares.
    pub fn emp(&self, id: Option<i64>) -> Option<String> {
        id.filter(|i| self.employees.contains(i))
            .map(|i| i.to_string())
    }
}

/// Writes the export ([`ExportRequest`]) and journals it. See the module's doc.
pub fn export(log: &mut SessionLog, req: &ExportRequest) -> Result<Exported, SaftError> {
    date("--from", req.from)?;
    date("--to", req.to)?;
    if req.from > req.to {
        return Err(SaftError::Invalid(format!(
            "--from {} is after --to {}",
            req.from, req.to
        )));
    }
    let org = req.seller.org_number.clone().ok_or_else(|| {
        SaftError::Invalid(
            "shop.org_number is not set: a SAF-T file names the company by its organisation \
             number (kassa-cli config set shop.org_number 923609016)"
                .into(),
        )
    })?;
    if req.seller.name.trim().is_empty() {
        return Err(SaftError::Invalid(
            "shop.name is not set: a SAF-T file names the company (kassa-cli config set \
             shop.name \"Bakeriet AS\")"
                .into(),
        ));
    }
    let created = log.local_stamp(req.now);
    let path = if req.out.is_dir() {
        file_in(req.out, &org, &created)
    } else {
        req.out.to_path_buf()
    };
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    let result = write_file(log, req, &org, &created, &tmp);
    let (events, transactions) = match result {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))?;
    let bytes = std::fs::metadata(&path)
        .map_err(|e| io_err(&path, e))?
        .len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entry = log.journal_event(&NewEvent {
        kind: Kind::Export,
        operator_id: Some(req.by.id()),
        session_id: None,
        ref_seq: None,
        body: serde_json::json!({
            "format": "SAF-T Cash Register 1.00",
            "file": name,
            "from": req.from,
            "to": req.to,
            "events": events,
            "transactions": transactions,
            "bytes": bytes,
        }),
        at: req.now,
    })?;
    Ok(Exported {
        path,
        events,
        transactions,
        bytes,
        entry_seq: entry.seq,
    })
}

fn write_file(
    log: &SessionLog,
    req: &ExportRequest,
    org: &str,
    created: &LocalStamp,
    tmp: &Path,
) -> Result<(u64, u64), SaftError> {
    let io = |e| io_err(tmp, e);
    let file = std::fs::File::create(tmp).map_err(io)?;
    let mut x = Xml::start(
        BufWriter::with_capacity(1 << 20, file),
        "auditfile",
        NAMESPACE,
    )
    .map_err(io)?;
    let register = log.register_id().to_string();
    let seller = req.seller;
    let fiscal_year = if req.from[..4] == req.to[..4] {
        req.from[..4].to_string()
    } else {
        format!("{}-{}", &req.from[..4], &req.to[..4])
    };
    let previous = log.signature_before(&register, req.from)?;
    x.open("header").map_err(io)?;
    for (tag, text) in [
        ("fiscalYear", fiscal_year.as_str()),
        ("startDate", req.from),
        ("endDate", req.to),
        ("curCode", "NOK"),
        ("dateCreated", &created.date),
        ("timeCreated", &created.time),
        ("softwareDesc", "Kassa"),
        ("softwareVersion", at_most(env!("CARGO_PKG_VERSION"), 20)),
        ("softwareCompanyName", "Kassa"),
        ("auditfileVersion", "1.0"),
    ] {
        x.leaf(tag, text).map_err(io)?;
    }
    x.leaf(
        "headerComment",
        &format!(
            "Kassa register {register}, {}..{}; previous signature: {previous}",
            req.from, req.to
        ),
    )
    .map_err(io)?;
    x.leaf("userID", &req.by.id().to_string()).map_err(io)?;
    x.close("header").map_err(io)?;

    x.open("company").map_err(io)?;
    x.leaf("companyIdent", org).map_err(io)?;
    x.leaf("companyName", at_most(&seller.name, 100))
        .map_err(io)?;
    x.leaf("taxRegistrationCountry", "NO").map_err(io)?;
    if seller.vat_registered {
        x.leaf("taxRegIdent", &format!("{org}MVA")).map_err(io)?;
    }
    if !seller.address.is_empty() {
        x.open("streetAddress").map_err(io)?;
        x.leaf(
            "additionalAddressDetails",
            at_most(&seller.address.join(", "), 100),
        )
        .map_err(io)?;
        x.leaf("country", "NO").map_err(io)?;
        x.close("streetAddress").map_err(io)?;
    }
    x.open("vatCodeDetails").map_err(io)?;
    for (code, desc) in VAT_CODES {
        x.open("vatCodeDetail").map_err(io)?;
        x.leaf("vatCode", code).map_err(io)?;
        x.leaf("dateOfEntry", req.from).map_err(io)?;
        x.leaf("vatDesc", desc).map_err(io)?;
        x.leaf("standardVatCode", code).map_err(io)?;
        x.close("vatCodeDetail").map_err(io)?;
    }
    x.close("vatCodeDetails").map_err(io)?;
    let employees = employees(&mut x, log, req.from)?;
    let articles: HashSet<&str> = req
        .catalog
        .products
        .iter()
        .map(|p| p.sku.as_str())
        .filter(|s| s.chars().count() <= 35)
        .collect();
    if !articles.is_empty() {
        x.open("articles").map_err(io)?;
        for p in req
            .catalog
            .products
            .iter()
            .filter(|p| articles.contains(p.sku.as_str()))
        {
            x.open("article").map_err(io)?;
            x.leaf("artID", &p.sku).map_err(io)?;
            // Kassa's product list keeps no date of entry; the export's first day stands in.
            x.leaf("dateOfEntry", req.from).map_err(io)?;
            x.leaf("artGroupID", ART_GROUP).map_err(io)?;
            x.leaf("artDesc", at_most(&p.name, 999)).map_err(io)?;
            x.close("article").map_err(io)?;
        }
        x.close("articles").map_err(io)?;
    }
    x.open("basics").map_err(io)?;
    let basic = |x: &mut Xml<_>, ty: &str, id: &str, pre: Option<&str>, desc: &str| {
        x.open("basic")?;
        x.leaf("basicType", ty)?;
        x.leaf("basicID", id)?;
        if let Some(p) = pre {
            x.leaf("predefinedBasicID", p)?;
        }
        x.leaf("basicDesc", desc)?;
        x.close("basic")
    };
    basic(&mut x, "04", ART_GROUP, Some("04003"), "Varesalg").map_err(io)?;
    basic(&mut x, "05", "SAL", None, "Salgslinje").map_err(io)?;
    basic(&mut x, "05", "RET", None, "Returlinje").map_err(io)?;
    basic(&mut x, "08", "LINE", None, "Rabatt på linje").map_err(io)?;
    basic(&mut x, "11", "CASHSALE", Some("11001"), "Kontantsalg").map_err(io)?;
    basic(
        &mut x,
        "11",
        "RETURN",
        Some("11006"),
        "Utbetaling ved vareretur",
    )
    .map_err(io)?;
    for (id, code, desc) in payment_basics() {
        basic(&mut x, "12", &id, Some(code), &desc).map_err(io)?;
    }
    for k in Kind::ALL {
        basic(
            &mut x,
            "13",
            k.basic_id(),
            Some(k.event_code()),
            event_desc(k),
        )
        .map_err(io)?;
    }
    x.close("basics").map_err(io)?;

    let ctx = Context {
        org_number: org,
        company_name: &seller.name,
        employees,
        articles,
    };
    x.open("location").map_err(io)?;
    x.leaf("name", at_most(&seller.name, 100)).map_err(io)?;
    x.open("cashregister").map_err(io)?;
    x.leaf("registerID", at_most(&register, 100)).map_err(io)?;
    x.leaf(
        "regDesc",
        &format!("Kassa {}, register {register}", env!("CARGO_PKG_VERSION")),
    )
    .map_err(io)?;
    // Pass 1: every event (the schema's sequence puts them before the transactions).
    let mut failure: Option<SaftError> = None;
    let filter = JournalFilter {
        register_id: Some(register.clone()),
        from_date: Some(req.from.to_string()),
        to_date: Some(req.to.to_string()),
        ..Default::default()
    };
    let events = log.journal_each(&filter, |e| {
        if failure.is_none() {
            if let Err(f) = events::write(&mut x, &ctx, &e, tmp) {
                failure = Some(f);
            }
        }
        Ok(())
    })?;
    if let Some(f) = failure {
        return Err(f);
    }
    // Pass 2: the sales and returns, by receipt number.
    let transactions = log.receipts_each(&register, req.from, req.to, |e, copied| {
        if failure.is_none() {
            if let Err(f) = transactions::write(&mut x, &ctx, &e, copied, tmp) {
                failure = Some(f);
            }
        }
        Ok(())
    })?;
    if let Some(f) = failure {
        return Err(f);
    }
    x.close("cashregister").map_err(io)?;
    x.close("location").map_err(io)?;
    x.close("company").map_err(io)?;
    let out = x.finish("auditfile").map_err(io)?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok((events, transactions))
}
