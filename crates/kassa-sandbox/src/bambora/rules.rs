//! What Bambora checks and does: the fields and sums of a session, a payment request, an order
//! and its lines, and of a capture's or credit's body (all problems at once, each naming its
//! field), and what the customer's actions do to a session or a payment request.

use super::{numeric_currency, Capture, Emulator, Phase, Session, Transaction};
use crate::common::is_http_url;
use kassa_core::money::{Currency, Decimal, MAX_AMOUNT};
use kassa_core::time::now_millis;
use serde_json::{Map, Value};

const MAX_ORDER_ID: usize = 30;
const MAX_REFERENCE: usize = 50;

const SESSION_FIELDS: &[&str] = &[
    "order",
    "url",
    "instantcaptureamount",
    "paymentwindow",
    "language",
    "customer",
    "capturemulti",
];
const REQUEST_FIELDS: &[&str] = &["reference", "description", "parameters"];
const OPERATION_FIELDS: &[&str] = &["amount", "currency", "invoicelines"];

/// How an Orderline's VAT is checked against its total (both OURS: Bambora publishes no rule).
#[derive(Debug, Clone, Copy, PartialEq)]
enum VatCheck {
    /// An order line: the VAT in its total at its rate, within one minor unit.
    Rate,
    /// A capture's or credit's line: often a part of an order line carrying its share of that
    /// line's VAT, which after several partial refunds can be a few roundings from the VAT in
    /// its own total, so only checked to lie between 0 and the total.
    Share,
}
const PARAMETER_FIELDS: &[&str] = &["order", "instantcaptureamount", "paymentwindow", "url"];
const ORDER_FIELDS: &[&str] = &["id", "amount", "currency", "vatamount", "lines"];
const URL_FIELDS: &[&str] = &["accept", "decline", "cancel", "callbacks"];
const LINE_STRINGS: &[&str] = &["id", "linenumber", "description", "unit"];
const LINE_MONEY: [&str; 6] = [
    "unitprice",
    "unitpriceinclvat",
    "unitpricevatamount",
    "totalprice",
    "totalpriceinclvat",
    "totalpricevatamount",
];
const LINE_FIELDS: &[&str] = &[
    "id",
    "linenumber",
    "description",
    "text",
    "quantity",
    "unit",
    "unitprice",
    "unitpriceinclvat",
    "unitpricevatamount",
    "totalprice",
    "totalpriceinclvat",
    "totalpricevatamount",
    "vat",
];

fn field_path(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn refuse_unknown(obj: &Map<String, Value>, known: &[&str], at: &str, p: &mut Vec<String>) {
    for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        p.push(format!(
            "{} is not a known field (known: {})",
            field_path(at, k),
            known.join(", ")
        ));
    }
}

/// An object field; `None` (with a problem) when it is missing or not an object.
fn object_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    at: &str,
    required: bool,
    p: &mut Vec<String>,
) -> Option<&'a Map<String, Value>> {
    match obj.get(key) {
        Some(Value::Object(o)) => Some(o),
        Some(_) => {
            p.push(format!("{} must be an object", field_path(at, key)));
            None
        }
        None if required => {
            p.push(format!("{} is required", field_path(at, key)));
            None
        }
        None => None,
    }
}

fn string_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    at: &str,
    required: bool,
    p: &mut Vec<String>,
) -> Option<&'a str> {
    match obj.get(key) {
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            p.push(format!("{} must be a string", field_path(at, key)));
            None
        }
        None if required => {
            p.push(format!("{} is required", field_path(at, key)));
            None
        }
        None => None,
    }
}

/// An integer amount in minor units (|x| ≤ MAX_AMOUNT, so sums and products stay exact).
fn int_field(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    required: bool,
    p: &mut Vec<String>,
) -> Option<i64> {
    match obj.get(key) {
        Some(v) => match v.as_i64() {
            Some(n) if n.abs() <= MAX_AMOUNT => Some(n),
            _ => {
                p.push(format!(
                    "{} must be an integer (minor units), got {v}",
                    field_path(at, key)
                ));
                None
            }
        },
        None if required => {
            p.push(format!("{} is required", field_path(at, key)));
            None
        }
        None => None,
    }
}

/// A JSON number read exactly from its text (never through a float's arithmetic).
fn decimal_field(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    p: &mut Vec<String>,
) -> Option<Decimal> {
    match obj.get(key) {
        Some(Value::Number(n)) => match Decimal::parse(&n.to_string()) {
            Some(d) => Some(d),
            None => {
                p.push(format!("{} {n} is out of range", field_path(at, key)));
                None
            }
        },
        Some(v) => {
            p.push(format!(
                "{} must be a JSON number, got {v}",
                field_path(at, key)
            ));
            None
        }
        None => {
            p.push(format!("{} is required", field_path(at, key)));
            None
        }
    }
}

fn absolute_url(obj: &Map<String, Value>, key: &str, at: &str, p: &mut Vec<String>) -> bool {
    match string_field(obj, key, at, false, p) {
        Some(u) if is_http_url(u) => true,
        Some(u) => {
            p.push(format!(
                "{} {u:?} is not an absolute http(s) URL",
                field_path(at, key)
            ));
            false
        }
        None => false,
    }
}

/// `order`, `instantcaptureamount` and `paymentwindow` of a session or of a payment request's
/// `parameters` (`at` is "" or "parameters").
fn validate_payment(obj: &Map<String, Value>, at: &str, p: &mut Vec<String>) {
    let amount = object_field(obj, "order", at, true, p)
        .and_then(|o| validate_order(o, &field_path(at, "order"), p));
    if let Some(ic) = int_field(obj, "instantcaptureamount", at, false, p) {
        if ic < 0 || amount.is_some_and(|a| ic > a) {
            p.push(format!(
                "{} {ic} must be between 0 and order.amount",
                field_path(at, "instantcaptureamount")
            ));
        }
    }
    if let Some(w) = object_field(obj, "paymentwindow", at, false, p) {
        let at = field_path(at, "paymentwindow");
        refuse_unknown(w, &["id", "language"], &at, p);
        if let Some(id) = w.get("id") {
            if id.as_i64().is_none_or(|n| n < 1) {
                p.push(format!("{at}.id must be an integer ≥ 1, got {id}"));
            }
        }
        if let Some(lang) = string_field(w, "language", &at, false, p) {
            let b = lang.as_bytes();
            let shaped = b.len() == 5
                && b[..2].iter().all(u8::is_ascii_lowercase)
                && b[2] == b'-'
                && b[3..].iter().all(u8::is_ascii_uppercase);
            if !shaped {
                p.push(format!("{at}.language {lang:?} must look like \"nb-NO\""));
            }
        }
    }
}

/// Checks an order; returns `order.amount` when it is valid on its own (for instant capture).
fn validate_order(o: &Map<String, Value>, at: &str, p: &mut Vec<String>) -> Option<i64> {
    refuse_unknown(o, ORDER_FIELDS, at, p);
    if let Some(id) = string_field(o, "id", at, true, p) {
        let len = id.chars().count();
        if len == 0 || len > MAX_ORDER_ID || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            p.push(format!(
                "{at}.id {id:?} must be 1–{MAX_ORDER_ID} characters, only A-Z, a-z and 0-9"
            ));
        }
    }
    let amount = int_field(o, "amount", at, true, p).filter(|a| {
        let positive = *a > 0;
        if !positive {
            p.push(format!("{at}.amount {a} must be greater than 0"));
        }
        positive
    });
    if let Some(c) = string_field(o, "currency", at, true, p) {
        if Currency::from_code(c).is_none() {
            p.push(format!("{at}.currency {c:?} is not an ISO 4217 code"));
        } else if numeric_currency(c).is_none() {
            p.push(format!(
                "{at}.currency {c} is not handled by the sandbox's acquirer (DKK, EUR, GBP, NOK, SEK, USD)"
            ));
        }
    }
    let vatamount = int_field(o, "vatamount", at, true, p).filter(|v| {
        if *v < 0 {
            p.push(format!("{at}.vatamount {v} must not be negative"));
        }
        *v >= 0
    });
    if let Some((gross, vat)) = validate_lines(o, "lines", at, VatCheck::Rate, p) {
        if let Some(a) = amount.filter(|a| *a != gross) {
            p.push(format!(
                "{at}.amount {a} must equal the sum of {at}.lines[].totalpriceinclvat ({gross})"
            ));
        }
        if let Some(v) = vatamount.filter(|v| *v != vat) {
            p.push(format!(
                "{at}.vatamount {v} must equal the sum of {at}.lines[].totalpricevatamount ({vat})"
            ));
        }
    }
    amount
}

/// Checks the Orderlines at `key` when there are any; returns their sums (totalpriceinclvat,
/// totalpricevatamount) when every line's are integers.
fn validate_lines(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    vat_check: VatCheck,
    p: &mut Vec<String>,
) -> Option<(i64, i64)> {
    let at = field_path(at, key);
    let lines = match obj.get(key) {
        None => return None,
        Some(Value::Array(lines)) if !lines.is_empty() => lines,
        Some(_) => {
            p.push(format!("{at} must be a non-empty array of Orderline"));
            return None;
        }
    };
    let mut sums = Some((0i64, 0i64));
    for (i, line) in lines.iter().enumerate() {
        let totals = validate_line(line, &format!("{at}[{i}]"), vat_check, p);
        sums = sums
            .zip(totals)
            .map(|((gross, vat), (g, v))| (gross + g, vat + v));
    }
    sums
}

/// Checks one Orderline; returns its (totalpriceinclvat, totalpricevatamount) for the order
/// sums when both are integers.
fn validate_line(
    line: &Value,
    at: &str,
    vat_check: VatCheck,
    p: &mut Vec<String>,
) -> Option<(i64, i64)> {
    let Some(l) = line.as_object() else {
        p.push(format!("{at} must be an object (Orderline)"));
        return None;
    };
    refuse_unknown(l, LINE_FIELDS, at, p);
    for f in LINE_STRINGS {
        string_field(l, f, at, true, p);
    }
    string_field(l, "text", at, false, p);
    let [up, upi, upva, tp, tpi, tpva] = LINE_MONEY.map(|f| int_field(l, f, at, true, p));
    let quantity = decimal_field(l, "quantity", at, p).filter(|q| {
        let positive = !q.negative && q.units > 0;
        if !positive {
            p.push(format!("{at}.quantity must be greater than 0"));
        }
        positive
    });
    let vat = decimal_field(l, "vat", at, p).filter(|v| match vat_problem(v) {
        Some(problem) => {
            p.push(format!("{at}.vat {}: {problem}", l["vat"]));
            false
        }
        None => true,
    });
    if let (Some(up), Some(upva), Some(upi)) = (up, upva, upi) {
        if up + upva != upi {
            p.push(format!(
                "{at}.unitpriceinclvat {upi} must equal unitprice + unitpricevatamount ({up} + {upva} = {})",
                up + upva
            ));
        }
    }
    if let (Some(tp), Some(tpva), Some(tpi)) = (tp, tpva, tpi) {
        if tp + tpva != tpi {
            p.push(format!(
                "{at}.totalpriceinclvat {tpi} must equal totalprice + totalpricevatamount ({tp} + {tpva} = {})",
                tp + tpva
            ));
        }
    }
    if let (Some(q), Some(upi), Some(tpi)) = (quantity, upi, tpi) {
        if !line_is_exact(q, upi, tpi) {
            p.push(format!(
                "{at}.unitpriceinclvat {upi} × quantity {} must equal totalpriceinclvat {tpi} exactly",
                l["quantity"]
            ));
        }
    }
    if let (Some(vat), Some(tpi), Some(tpva)) = (vat, tpi, tpva) {
        let within = tpva.signum() * tpi.signum() >= 0 && tpva.abs() <= tpi.abs();
        if vat_check == VatCheck::Share && !within {
            p.push(format!(
                "{at}.totalpricevatamount {tpva} must lie between 0 and totalpriceinclvat {tpi}"
            ));
        }
        if vat_check == VatCheck::Rate && !vat_matches(vat, tpi, tpva) {
            p.push(format!(
                "{at}.totalpricevatamount {tpva} must be the VAT in totalpriceinclvat {tpi} at {} % (within one minor unit)",
                l["vat"]
            ));
        }
    }
    tpi.zip(tpva)
}

/// Why a VAT rate is not a percent with at most 2 decimals between 0 and 100.
fn vat_problem(v: &Decimal) -> Option<&'static str> {
    let one = 10_i128.checked_pow(v.scale)?;
    if v.negative {
        Some("must not be negative")
    } else if v.scale > 2 {
        Some("must have at most 2 decimals")
    } else if v.units > 100 * one {
        Some("must be a percent between 0 and 100")
    } else {
        None
    }
}

/// `quantity × unitpriceinclvat = totalpriceinclvat` exactly (the check Bambora's plugins make
/// before they send, here per line; OURS), with q = units / 10^scale, all in integers.
fn line_is_exact(q: Decimal, unit: i64, total: i64) -> bool {
    let Some(scale) = 10_i128.checked_pow(q.scale) else {
        return false;
    };
    q.units
        .checked_mul(i128::from(unit))
        .zip(i128::from(total).checked_mul(scale))
        .is_some_and(|(a, b)| a == b)
}

/// `totalpricevatamount` is the VAT in `totalpriceinclvat` at `vat` % within one minor unit:
/// `|vat_amount·(100 + vat) − total·vat| ≤ 100 + vat`, scaled by 10^scale of the rate.
fn vat_matches(vat: Decimal, total: i64, vat_amount: i64) -> bool {
    let Some(scale) = 10_i128.checked_pow(vat.scale) else {
        return false;
    };
    let hundred_plus = 100 * scale + vat.units;
    let diff = i128::from(vat_amount) * hundred_plus - i128::from(total) * vat.units;
    diff.abs() <= hundred_plus
}

pub(super) fn validate_session(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = v.as_object() else {
        return vec!["the body must be a JSON object".into()];
    };
    refuse_unknown(obj, SESSION_FIELDS, "", &mut p);
    validate_payment(obj, "", &mut p);
    if obj.get("capturemulti").is_some_and(|c| !c.is_boolean()) {
        p.push(format!(
            "capturemulti must be true or false, got {}",
            obj["capturemulti"]
        ));
    }
    if let Some(url) = object_field(obj, "url", "", true, &mut p) {
        refuse_unknown(url, URL_FIELDS, "url", &mut p);
        if !url.contains_key("accept") {
            p.push("url.accept is required".into());
        }
        absolute_url(url, "accept", "url", &mut p);
        if !url.contains_key("decline") && !url.contains_key("cancel") {
            p.push("url.decline or url.cancel is required".into());
        }
        absolute_url(url, "decline", "url", &mut p);
        absolute_url(url, "cancel", "url", &mut p);
        validate_callbacks(url, "url", &mut p);
    }
    p
}

fn validate_callbacks(url: &Map<String, Value>, at: &str, p: &mut Vec<String>) {
    match url.get("callbacks") {
        None => {}
        Some(Value::Array(list)) => {
            for (i, cb) in list.iter().enumerate() {
                let at = format!("{at}.callbacks[{i}]");
                match cb.as_object() {
                    Some(cb) => {
                        refuse_unknown(cb, &["url"], &at, p);
                        if !cb.contains_key("url") {
                            p.push(format!("{at}.url is required"));
                        }
                        absolute_url(cb, "url", &at, p);
                    }
                    None => p.push(format!("{at} must be an object {{\"url\": …}}")),
                }
            }
        }
        Some(_) => p.push(format!("{at}.callbacks must be an array of {{\"url\": …}}")),
    }
}

pub(super) fn validate_request(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = v.as_object() else {
        return vec!["the body must be a JSON object".into()];
    };
    refuse_unknown(obj, REQUEST_FIELDS, "", &mut p);
    if let Some(r) = string_field(obj, "reference", "", true, &mut p) {
        let len = r.chars().count();
        if len == 0 || len > MAX_REFERENCE {
            p.push(format!(
                "reference must be 1–{MAX_REFERENCE} characters, got {len}"
            ));
        }
    }
    string_field(obj, "description", "", true, &mut p);
    if let Some(params) = object_field(obj, "parameters", "", true, &mut p) {
        refuse_unknown(params, PARAMETER_FIELDS, "parameters", &mut p);
        validate_payment(params, "parameters", &mut p);
        if let Some(url) = object_field(params, "url", "parameters", false, &mut p) {
            refuse_unknown(url, &["callbacks"], "parameters.url", &mut p);
            validate_callbacks(url, "parameters.url", &mut p);
        }
    }
    p
}

/// The body of a capture or credit (Magento's `Request/Capture.php`, `Credit.php`):
/// `amount` an integer > 0 (the plugins refuse less than 1), `currency` the transaction's,
/// `invoicelines` optional, each an Orderline by the order's rules, summing to `amount` (OURS).
/// Returns the amount when the body is valid.
pub(super) fn validate_operation(v: &Value, currency: &str) -> Result<i64, Vec<String>> {
    let mut p = Vec::new();
    let Some(obj) = v.as_object() else {
        return Err(vec!["the body must be a JSON object".into()]);
    };
    refuse_unknown(obj, OPERATION_FIELDS, "", &mut p);
    let amount = int_field(obj, "amount", "", true, &mut p).filter(|a| {
        if *a < 1 {
            p.push(format!("amount {a} must be greater than 0"));
        }
        *a >= 1
    });
    if let Some(c) = string_field(obj, "currency", "", true, &mut p) {
        if c != currency {
            p.push(format!(
                "currency {c:?} is not the transaction's currency {currency}"
            ));
        }
    }
    if let Some((gross, _)) = validate_lines(obj, "invoicelines", "", VatCheck::Share, &mut p) {
        if let Some(a) = amount.filter(|a| *a != gross) {
            p.push(format!(
                "amount {a} must equal the sum of invoicelines[].totalpriceinclvat ({gross})"
            ));
        }
    }
    match amount {
        Some(a) if p.is_empty() => Ok(a),
        _ => Err(p),
    }
}

// ---------------------------------------------------------------------------------------------
// After the sale: what a capture, credit or delete does to a transaction (module doc).

/// Applies `action` (`capture`, `credit`, `delete`) of `amount` to the transaction `txnid`;
/// returns the new operation's id, or why Bambora refuses it now.
pub(super) fn operate(
    e: &mut Emulator,
    txnid: &str,
    action: &'static str,
    amount: i64,
) -> Result<u64, String> {
    let mut t = e.transactions.remove(txnid).expect("the caller found it");
    let result = match refusal(&t, action, amount) {
        Some(why) => Err(why),
        None => {
            let subaction = match action {
                "capture" if t.captured == 0 && amount == t.authorized => "full",
                "capture" if t.capture_multi => "multi",
                "credit" if t.credited == 0 && amount == t.captured => "full",
                "credit" if t.credited > 0 => "multi",
                "delete" => "instant",
                _ => "partly",
            };
            match action {
                "capture" => {
                    t.captured += amount;
                    t.capture_closed = !t.capture_multi;
                }
                "credit" => t.credited += amount,
                _ => t.deleted = true,
            }
            // Listed beside the authorization; only the instant capture sits under it (OURS:
            // how Bambora nests later operations is UNCONFIRMED; Kassa's client reads any depth).
            Ok(e.operation(&mut t, None, action, subaction, amount, true))
        }
    };
    e.transactions.insert(txnid.to_string(), t);
    result
}

/// Why `action` of `amount` is not possible on `t` now (the module doc's capture, credit and
/// delete rules).
fn refusal(t: &Transaction, action: &str, amount: i64) -> Option<String> {
    let id = &t.id;
    match action {
        "capture" if t.deleted => Some(format!(
            "transaction {id} is deleted: nothing can be captured"
        )),
        "capture" if t.capture_closed && amount > t.available_capture() => Some(format!(
            "transaction {id} was captured without capturemulti: nothing more can be captured"
        )),
        "capture" if amount > t.available_capture() => Some(format!(
            "amount {amount} exceeds what can be captured on transaction {id} ({})",
            t.available_capture()
        )),
        "credit" if t.captured == 0 => Some(format!(
            "transaction {id} has nothing captured to credit (an authorization is deleted, not credited)"
        )),
        "credit" if amount > t.available_credit() => Some(format!(
            "amount {amount} exceeds what can be credited on transaction {id} (captured {} − credited {} = {})",
            t.captured,
            t.credited,
            t.available_credit()
        )),
        "delete" if t.deleted => Some(format!("transaction {id} is already deleted")),
        "delete" if t.captured > 0 => Some(format!(
            "transaction {id} has {} captured and cannot be deleted: credit it instead",
            t.captured
        )),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// What the customer does: the payment window (sessions) and the payment request page.

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Action {
    Pay,
    /// Pays, but the acquirer declines the instant capture: authorized, nothing captured.
    PayCaptureDeclined,
    Decline,
    Cancel,
    Expire,
}

impl Action {
    pub(super) fn parse(text: &str) -> Option<Action> {
        match text {
            "pay" => Some(Action::Pay),
            "pay_capture_declined" => Some(Action::PayCaptureDeclined),
            "decline" => Some(Action::Decline),
            "cancel" => Some(Action::Cancel),
            "expire" => Some(Action::Expire),
            _ => None,
        }
    }

    /// What the customer can do with the page's buttons (the rest are test controls).
    pub(super) fn on_page(&self) -> bool {
        matches!(self, Action::Pay | Action::Decline | Action::Cancel)
    }
}

/// Records a merchant's order id, or says it is taken (a 409).
pub(super) fn claim_order_id(e: &mut Emulator, merchant: &str, id: &str) -> Result<(), String> {
    if e.order_ids.insert((merchant.to_string(), id.to_string())) {
        Ok(())
    } else {
        Err(format!(
            "order.id {id:?} is already used by this merchant (order ids must be unique)"
        ))
    }
}

/// Why a session cannot take a payment now, if it cannot.
pub(super) fn session_closed(s: &Session, now: i64) -> Option<&'static str> {
    match s.phase {
        Phase::Paid(_) => Some("This payment is completed."),
        Phase::Cancelled | Phase::Deleted => Some("This payment was cancelled."),
        Phase::Open if s.expires_at <= now => Some("This payment window has expired."),
        Phase::Open => None,
    }
}

/// Applies a customer action to a session; returns where the browser goes next, if anywhere.
pub(super) fn session_outcome(
    e: &mut Emulator,
    token: &str,
    action: Action,
) -> Result<Option<String>, String> {
    let now = now_millis();
    let session = e.sessions.get_mut(token).expect("the caller checked");
    if action == Action::Expire {
        session.expires_at = now;
        return Ok(None);
    }
    if let Some(why) = session_closed(session, now) {
        return Err(why.into());
    }
    match action {
        Action::Decline => {
            session.declined += 1;
            Ok(None)
        }
        Action::Cancel => {
            session.phase = Phase::Cancelled;
            Ok(Some(session.leave.clone()))
        }
        // Pay (Expire returned above).
        _ => {
            let (merchant, order) = (session.merchant.clone(), session.order.clone());
            let capture = Capture {
                instant: session.instant_capture,
                multi: session.capture_multi,
                declined: action == Action::PayCaptureDeclined,
            };
            let txnid = e.authorize(&merchant, &order, capture);
            let session = e.sessions.get_mut(token).expect("exists");
            session.phase = Phase::Paid(txnid.clone());
            let accept = session.accept.clone();
            Ok(Some(e.accept_redirect(&accept, &txnid)))
        }
    }
}

/// Applies a customer action to a payment request (Expire is not one).
pub(super) fn request_outcome(e: &mut Emulator, id: &str, action: Action) -> Result<(), String> {
    let r = e.requests.get_mut(id).expect("the caller checked");
    match r.phase {
        Phase::Deleted | Phase::Cancelled => {
            return Err("This payment request is no longer available.".into())
        }
        Phase::Paid(_) => return Err("This payment request is closed: it is paid.".into()),
        Phase::Open => {}
    }
    match action {
        Action::Decline => r.declined += 1,
        // Leaving the page does not end the request: only the merchant's DELETE does.
        Action::Cancel => {}
        Action::Expire => return Err("payment requests do not expire".into()),
        Action::Pay | Action::PayCaptureDeclined => {
            let (merchant, order) = (r.merchant.clone(), r.order.clone());
            // Payment requests take no `capturemulti` (the plugins' parameters have none).
            let capture = Capture {
                instant: r.instant_capture,
                multi: false,
                declined: action == Action::PayCaptureDeclined,
            };
            let txnid = e.authorize(&merchant, &order, capture);
            e.requests.get_mut(id).expect("exists").phase = Phase::Paid(txnid);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 3 × 19.99 at 25 % and 0.5 kg at 15 % (34.94 a kg: every line exact).
    fn valid() -> Value {
        json!({
            "order": {
                "id": "K1001", "amount": 5997 + 1747, "currency": "NOK",
                "vatamount": 1199 + 228,
                "lines": [
                    {"id": "kaffe", "linenumber": "1", "description": "Kaffe", "quantity": 3,
                     "unit": "pcs", "unitprice": 1599, "unitpriceinclvat": 1999,
                     "unitpricevatamount": 400, "totalprice": 4798, "totalpriceinclvat": 5997,
                     "totalpricevatamount": 1199, "vat": 25},
                    {"id": "ost", "linenumber": "2", "description": "Ost", "quantity": 0.5,
                     "unit": "kg", "unitprice": 3038, "unitpriceinclvat": 3494,
                     "unitpricevatamount": 456, "totalprice": 1519, "totalpriceinclvat": 1747,
                     "totalpricevatamount": 228, "vat": 15, "text": "Norvegia"}
                ]
            },
            "url": {
                "accept": "https://shop.example/accept",
                "decline": "https://shop.example/decline",
                "callbacks": [{"url": "https://shop.example/cb"}]
            },
            "instantcaptureamount": 0,
            "paymentwindow": {"id": 1, "language": "nb-NO"}
        })
    }

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn problems(v: &Value) -> String {
        validate_session(v).join("\n")
    }

    #[test]
    fn a_valid_session_passes() {
        assert_eq!(validate_session(&valid()), Vec::<String>::new());
        let mut v = valid();
        v["order"].as_object_mut().unwrap().remove("lines");
        assert_eq!(validate_session(&v), Vec::<String>::new());
    }

    #[test]
    fn every_line_is_exact() {
        // 0.5 × 3494 = 1747; a decimal quantity whose product is no whole number of minor units
        // (0.35 × 4991 = 1746.85) or is off by any amount is refused.
        assert!(line_is_exact(dec("0.5"), 3494, 1747));
        assert!(line_is_exact(dec("0.500"), 3494, 1747));
        assert!(!line_is_exact(dec("0.35"), 4991, 1747));
        assert!(!line_is_exact(dec("0.5"), 3495, 1747));
        assert!(line_is_exact(dec("3"), 1999, 5997));
        assert!(!line_is_exact(dec("3"), 2000, 5997));
        // 1000 for 3 pieces has no exact unit price: rounding (333) is not enough.
        assert!(!line_is_exact(dec("3"), 333, 1000));
        assert!(!line_is_exact(dec("3"), 334, 1000));
        // Negative lines (discounts) follow the same rule.
        assert!(line_is_exact(dec("1"), -500, -500));
        assert!(line_is_exact(dec("2"), -250, -500));
    }

    #[test]
    fn vat_must_match_within_one_minor_unit() {
        // 5997 at 25 %: exact VAT 1199.4.
        assert!(vat_matches(dec("25"), 5997, 1199));
        assert!(vat_matches(dec("25"), 5997, 1200));
        assert!(!vat_matches(dec("25"), 5997, 1201));
        assert!(!vat_matches(dec("25"), 5997, 1197));
        // 12.5 %: 1125 → 125 exactly.
        assert!(vat_matches(dec("12.5"), 1125, 125));
        assert!(!vat_matches(dec("12.5"), 1125, 127));
        assert!(vat_matches(dec("0"), 1000, 0));
        assert!(!vat_matches(dec("0"), 1000, 2));
    }

    #[test]
    fn vat_is_a_percent_with_two_decimals() {
        assert!(vat_problem(&dec("12.555"))
            .unwrap()
            .contains("at most 2 decimals"));
        assert!(vat_problem(&dec("2500")).is_some());
        assert!(vat_problem(&dec("-25")).is_some());
        for ok in ["0", "0.01", "0.25", "1", "12.5", "25", "100", "25.00"] {
            assert_eq!(vat_problem(&dec(ok)), None, "{ok}");
        }
    }

    #[test]
    fn line_sums_and_order_sums() {
        let mut v = valid();
        v["order"]["lines"][0]["totalprice"] = json!(4797);
        v["order"]["lines"][1]["unitpricevatamount"] = json!(650);
        v["order"]["lines"][1]["totalpricevatamount"] = json!(250);
        v["order"]["lines"][1]["totalprice"] = json!(1497);
        let p = problems(&v);
        for expected in [
            "order.lines[0].totalpriceinclvat 5997 must equal totalprice + totalpricevatamount",
            "order.lines[1].unitpriceinclvat 3494 must equal unitprice + unitpricevatamount",
            "order.lines[1].totalpricevatamount 250 must be the VAT",
            "order.vatamount 1427 must equal the sum of order.lines[].totalpricevatamount (1449)",
        ] {
            assert!(p.contains(expected), "missing {expected:?} in\n{p}");
        }
        let mut v = valid();
        v["order"]["amount"] = json!(8000);
        let p = validate_session(&v);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("must equal the sum") && p[0].contains("8000") && p[0].contains("7744")
        );
    }

    #[test]
    fn fields_types_and_unknown_fields() {
        let mut v = valid();
        v["order"]["id"] = json!("K-1001");
        v["order"]["lines"][0]["quantiy"] = json!(3);
        v["order"]["lines"][1]["unitprice"] = json!("4340");
        v["order"]["lines"][1]["quantity"] = json!(0);
        v["order"]["ordernumber"] = json!("x");
        v["order"]["currency"] = json!("nok");
        v["url"].as_object_mut().unwrap().remove("accept");
        v["url"]["decline"] = json!("/relative");
        v["instantcaptureamount"] = json!(999_999);
        v["paymentwindowid"] = json!(1);
        let p = problems(&v);
        for expected in [
            "order.id \"K-1001\" must be 1–30 characters",
            "order.lines[0].quantiy is not a known field",
            "order.lines[1].unitprice must be an integer",
            "order.lines[1].quantity must be greater than 0",
            "order.ordernumber is not a known field",
            "order.currency \"nok\" is not an ISO 4217 code",
            "url.accept is required",
            "url.decline \"/relative\" is not an absolute http(s) URL",
            "instantcaptureamount 999999 must be between 0 and order.amount",
            "paymentwindowid is not a known field",
        ] {
            assert!(p.contains(expected), "missing {expected:?} in\n{p}");
        }
        let mut v = valid();
        v["order"]["id"] = json!("A".repeat(31));
        v["order"]["lines"] = json!([]);
        v["url"] = json!({"accept": "https://shop.example/ok"});
        let p = problems(&v);
        assert!(p.contains("order.id"), "{p}");
        assert!(p.contains("order.lines must be a non-empty array"), "{p}");
        assert!(p.contains("url.decline or url.cancel is required"), "{p}");
    }

    #[test]
    fn payment_requests_use_the_same_order_rules() {
        let s = valid();
        let mut v = json!({
            "reference": "R-1", "description": "Kassa order",
            "parameters": {"order": s["order"], "instantcaptureamount": 7744,
                           "url": {"callbacks": [{"url": "https://shop.example/cb"}]}}
        });
        assert_eq!(validate_request(&v), Vec::<String>::new());
        v["parameters"]["order"]["lines"][0]["vat"] = json!(12.555);
        v["parameters"]["url"]["accept"] = json!("https://x.example");
        v["termsurl"] = json!("https://x.example/terms");
        v["reference"] = json!("");
        let p = validate_request(&v).join("\n");
        for expected in [
            "parameters.order.lines[0].vat 12.555: must have at most 2 decimals",
            "parameters.url.accept is not a known field",
            "termsurl is not a known field",
            "reference must be 1–50 characters",
        ] {
            assert!(p.contains(expected), "missing {expected:?} in\n{p}");
        }
    }
}
