//! What a session must be (the `sessions-profile` body, S:67ff) and what happens to it: the
//! customer's outcomes and the cancel (S:249ff); what a capture, refund or void must be and
//! what it does to a transaction (S:372–727, the rules in the module doc of `dintero`), and
//! what Dintero does by itself later (its auto-capture, the end of a 202 operation).

use super::{event, new_id, Compact, Emulator, Pending, Transaction};
use crate::common::is_http_url;
use kassa_core::time::{now_millis, parse_utc};
use serde_json::{json, Value};

const ITEM_FIELDS: &[&str] = &[
    "id",
    "line_id",
    "description",
    "quantity",
    "amount",
    "vat_amount",
    "vat",
    "type",
    "groups",
    "unit_volume",
    "unit_weight",
    "unit_dimensional_weight",
    "fee_split",
    "splits",
    "thumbnail_url",
    "emd",
    "eligible_for_discount",
    "is_changed",
    "discount_lines",
];
const URL_FIELDS: &[&str] = &["return_url", "callback_url", "merchant_terms_url"];

fn is_int32(v: &Value) -> bool {
    v.as_i64()
        .is_some_and(|n| (i32::MIN as i64..=i32::MAX as i64).contains(&n))
}

/// The problems of a `sessions-profile` body, each naming its field.
pub(super) fn validate_session(v: &Value, strict_amounts: bool) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = v.as_object() else {
        return vec!["the body must be a JSON object".into()];
    };
    match obj.get("profile_id") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => p.push("profile_id must be a non-empty string".into()),
        None => p.push("profile_id is required".into()),
    }
    match obj.get("url").and_then(Value::as_object) {
        None => p.push("url is required (an object with return_url)".into()),
        Some(url) => {
            for k in url.keys().filter(|k| !URL_FIELDS.contains(&k.as_str())) {
                p.push(format!("url.{k} is not a field of SessionUrls"));
            }
            match url.get("return_url").and_then(Value::as_str) {
                Some(u) if is_http_url(u) => {}
                Some(u) => p.push(format!("url.return_url {u:?} is not an absolute URL")),
                None => p.push("url.return_url is required".into()),
            }
            if let Some(cb) = url.get("callback_url") {
                match cb.as_str() {
                    Some(u) if u.contains("://localhost") || u.contains("://127.") => p.push(
                        "url.callback_url must be reachable from Dintero (not localhost)".into(),
                    ),
                    Some(u) if is_http_url(u) => {}
                    _ => p.push("url.callback_url must be an http(s) URL".into()),
                }
            }
        }
    }
    if let Some(t) = obj.get("expires_at") {
        match t.as_str().map(parse_utc) {
            Some(Ok(at)) if at > now_millis() => {}
            Some(Ok(_)) => p.push("expires_at must be in the future".into()),
            _ => p.push("expires_at must be a date-time (RFC 3339)".into()),
        }
    }
    if let Some(c) = obj.get("configuration") {
        match c.get("channel").map(|c| c.as_str()) {
            None | Some(Some("in_app" | "in_store" | "ecommerce")) => {}
            Some(_) => {
                p.push("configuration.channel must be one of in_app, in_store, ecommerce".into())
            }
        }
        // AutoCaptureConfiguration (S:4771ff) is a boolean.
        if c.get("auto_capture").is_some_and(|a| !a.is_boolean()) {
            p.push("configuration.auto_capture must be a boolean".into());
        }
        if let Some(publish) = c.get("publish") {
            validate_publish(publish, &mut p);
        }
    }
    if let Some(customer) = obj.get("customer") {
        validate_customer(customer, &mut p);
    }
    let Some(order) = obj.get("order").and_then(Value::as_object) else {
        p.push("order is required".into());
        return p;
    };
    let amount = order.get("amount");
    match amount {
        Some(a) if is_int32(a) && a.as_i64() >= Some(0) => {}
        Some(_) => {
            p.push("order.amount must be a non-negative integer (minor units, int32)".into())
        }
        None => p.push("order.amount is required".into()),
    }
    match order.get("currency").and_then(Value::as_str) {
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {}
        Some(c) => p.push(format!("order.currency {c:?} is not an ISO 4217 code")),
        None => p.push("order.currency is required".into()),
    }
    match order.get("merchant_reference") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => p.push("order.merchant_reference must be a non-empty string".into()),
        None => p.push("order.merchant_reference is required".into()),
    }
    if let Some(va) = order.get("vat_amount") {
        if !is_int32(va) {
            p.push("order.vat_amount must be an integer (minor units)".into());
        }
    }
    let mut sum: i64 = 0;
    let mut line_ids = std::collections::HashSet::new();
    match order.get("items") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let at = |f: &str| format!("order.items[{i}].{f}");
                let Some(item) = item.as_object() else {
                    p.push(format!("order.items[{i}] must be an object"));
                    continue;
                };
                for k in item.keys().filter(|k| !ITEM_FIELDS.contains(&k.as_str())) {
                    p.push(format!("{} is not a field of OrderItem", at(k)));
                }
                for f in ["id", "line_id", "description"] {
                    if let Some(v) = item.get(f) {
                        if !v.is_string() {
                            p.push(format!("{} must be a string", at(f)));
                        }
                    }
                }
                if let Some(l) = item.get("line_id").and_then(Value::as_str) {
                    if !line_ids.insert(l.to_string()) {
                        p.push(format!("{} {l:?} is not unique", at("line_id")));
                    }
                }
                match item.get("quantity") {
                    Some(q) if q.as_f64().is_some_and(|q| q > 0.0) => {}
                    Some(_) => p.push(format!("{} must be a positive number", at("quantity"))),
                    None => {}
                }
                match item.get("amount") {
                    Some(a) if is_int32(a) => sum += a.as_i64().unwrap_or(0),
                    Some(_) => p.push(format!("{} must be an integer (minor units)", at("amount"))),
                    None => p.push(format!("{} is required", at("amount"))),
                }
                if let Some(va) = item.get("vat_amount") {
                    if !is_int32(va) {
                        p.push(format!(
                            "{} must be an integer (minor units)",
                            at("vat_amount")
                        ));
                    }
                }
                if let Some(vat) = item.get("vat") {
                    match vat.as_f64() {
                        Some(r) if r > 0.0 && r < 1.0 => p.push(format!(
                            "{} {r} looks like a fraction; vat is a percent (25 for 25 %)",
                            at("vat")
                        )),
                        Some(r) if (0.0..=100.0).contains(&r) && two_decimals(vat) => {}
                        _ => p.push(format!(
                            "{} must be a percent between 0 and 100 with at most 2 decimals",
                            at("vat")
                        )),
                    }
                }
            }
        }
        Some(_) => p.push("order.items must be an array".into()),
    }
    if let Some(ship) = order.get("shipping_option") {
        sum += ship.get("amount").and_then(Value::as_i64).unwrap_or(0);
    }
    if strict_amounts {
        if let Some(a) = amount.and_then(Value::as_i64) {
            if a != sum {
                p.push(format!(
                    "order.amount {a} must equal the sum of order.items amount and shipping_option.amount ({sum}) (strict-session-amounts)"
                ));
            }
        }
    }
    p
}

/// `configuration.publish` (PublishConfiguration, S:4792ff): an array of `{channel: sms|push,
/// type: checkout-link|app}`; `id` and `status` are readOnly (Dintero's answer), so a request
/// carrying them is refused, as is any other field.
fn validate_publish(publish: &Value, p: &mut Vec<String>) {
    let Some(entries) = publish.as_array() else {
        p.push("configuration.publish must be an array".into());
        return;
    };
    for (i, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            p.push(format!("configuration.publish[{i}] must be an object"));
            continue;
        };
        match entry.get("channel").and_then(Value::as_str) {
            Some("sms" | "push") => {}
            Some(_) => p.push(format!(
                "configuration.publish[{i}].channel must be one of sms, push"
            )),
            None => p.push(format!("configuration.publish[{i}].channel is required")),
        }
        match entry.get("type").and_then(Value::as_str) {
            Some("checkout-link" | "app") => {}
            Some(_) => p.push(format!(
                "configuration.publish[{i}].type must be one of checkout-link, app"
            )),
            None => p.push(format!("configuration.publish[{i}].type is required")),
        }
        for k in entry.keys() {
            match k.as_str() {
                "channel" | "type" => {}
                "id" | "status" => p.push(format!(
                    "configuration.publish[{i}].{k} is read-only (Dintero's answer)"
                )),
                other => p.push(format!(
                    "configuration.publish[{i}].{other} is not a field of PublishConfiguration"
                )),
            }
        }
    }
}

/// `customer` (SessionCustomer, S:2809ff): strings; `phone_number` "ITU/E.123 format with
/// international prefix (+PPNNNNNNNNN...)": `+` then 8 to 15 digits (E.123's grouping spaces
/// allowed; our reading of the format).
fn validate_customer(customer: &Value, p: &mut Vec<String>) {
    let Some(c) = customer.as_object() else {
        p.push("customer must be an object".into());
        return;
    };
    for (k, v) in c {
        if !matches!(k.as_str(), "customer_id" | "email" | "phone_number") {
            p.push(format!("customer.{k} is not a field of SessionCustomer"));
        } else if !v.is_string() {
            p.push(format!("customer.{k} must be a string"));
        }
    }
    if let Some(phone) = c.get("phone_number").and_then(Value::as_str) {
        let digits: Option<String> = phone.strip_prefix('+').map(|rest| rest.replace(' ', ""));
        let ok = digits.is_some_and(|d| {
            (8..=15).contains(&d.len())
                && d.bytes().all(|b| b.is_ascii_digit())
                && !d.starts_with('0')
        });
        if !ok {
            p.push(format!(
                "customer.phone_number {phone:?} is not in E.123 format with the international prefix (+PPNNNNNNNNN...)"
            ));
        }
    }
}

/// What Dintero answers for each `configuration.publish` entry of a created session (S:4815ff):
/// an SMS checkout link to `customer.phone_number` is `sent` (and recorded for the tests: the
/// real Dintero sends no SMS for test sessions, NOTES-after-sale.md §2, and what `status` it
/// answers then is UNCONFIRMED); without a phone number it is `skipped` ("cannot be sent given
/// the session.customer"); push messages need Dintero's app, which the sandbox has not:
/// `skipped`.
pub(super) fn publish_statuses(v: &Value) -> Vec<(String, String, &'static str)> {
    let phone = v.pointer("/customer/phone_number").and_then(Value::as_str);
    v.pointer("/configuration/publish")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|entry| {
            let channel = entry["channel"].as_str().unwrap_or_default().to_string();
            let kind = entry["type"].as_str().unwrap_or_default().to_string();
            let status = match (channel.as_str(), kind.as_str(), phone) {
                ("sms", "checkout-link", Some(_)) => "sent",
                _ => "skipped",
            };
            (channel, kind, status)
        })
        .collect()
}

fn two_decimals(v: &Value) -> bool {
    let text = v.to_string();
    match text.split_once('.') {
        Some((_, frac)) => frac.len() <= 2 && !frac.contains(['e', 'E']),
        None => !text.contains(['e', 'E']),
    }
}

/// Cancels a session: voids its INITIATED or AUTHORIZED transaction (S:249ff).
pub(super) fn cancel(e: &mut Emulator, id: &str, by: &str) -> Result<(), String> {
    let now = now_millis();
    let tid = e.sessions[id].transaction_id.clone();
    if let Some(tid) = tid {
        let t = e
            .transactions
            .get_mut(&tid)
            .expect("a session's transaction exists");
        match t.status.as_str() {
            "INITIATED" | "AUTHORIZED" | "ON_HOLD" => {
                t.status = "AUTHORIZATION_VOIDED".into();
                t.auto_capture_at = None;
                let left = t.amount - t.sum("CAPTURE");
                t.push_event(event("VOID", "AUTHORIZATION_VOIDED", Some(left), now));
            }
            "AUTHORIZATION_VOIDED" => {}
            other => {
                return Err(format!(
                    "Cancel is not allowed when the transaction is {other} (only INITIATED or AUTHORIZED)"
                ))
            }
        }
    }
    let session = e.sessions.get_mut(id).expect("checked above");
    if session.cancelled_at.is_none() {
        session.cancelled_at = Some(now);
        session.cancelled_by = Some(by.into());
        session.updated_at = now;
        session.events.push(("CANCELLED".into(), now));
    }
    Ok(())
}

/// What the customer (or a test) does with a session.
pub(super) fn outcome(e: &mut Emulator, id: &str, what: &str) -> Result<(), String> {
    let now = now_millis();
    let Some(session) = e.sessions.get(id) else {
        return Err(format!("session {id} was not found"));
    };
    if what == "cancel" {
        return cancel(e, id, "customer");
    }
    if what == "expire" {
        let s = e.sessions.get_mut(id).expect("checked");
        s.expires_at = now;
        s.updated_at = now;
        return Ok(());
    }
    if session.cancelled_at.is_some() {
        return Err("this checkout was cancelled".into());
    }
    if session.expires_at <= now {
        return Err("this checkout has expired".into());
    }
    let (status, kind, session_event) = match what {
        "pay" => ("AUTHORIZED", "AUTHORIZE", "AUTHORIZED"),
        "capture" => ("CAPTURED", "CAPTURE", "AUTHORIZED"),
        "on_hold" => ("ON_HOLD", "AUTHORIZE", "ON_HOLD_CALLBACK_SENT"),
        "decline" => ("DECLINED", "AUTHORIZE", "DECLINED"),
        other => return Err(format!("unknown outcome {other:?}")),
    };
    let auto_capture = session.configuration.value()["auto_capture"] == json!(true);
    let order = session.order.value();
    let amount = order["amount"].as_i64().unwrap_or(0);
    let this = |at| {
        let mut ev = event(kind, status, Some(amount), at);
        ev.success = what != "decline";
        ev
    };
    let tid = if let Some(tid) = &session.transaction_id {
        let t = e.transactions.get_mut(tid).expect("exists");
        if matches!(t.status.as_str(), "AUTHORIZED" | "CAPTURED") && what != "capture" {
            return Err(format!("this checkout is already paid ({})", t.status));
        }
        t.status = status.into();
        t.push_event(this(now));
        tid.clone()
    } else {
        let tid = new_id(&session.account);
        let t = Transaction {
            id: tid.clone(),
            account: session.account.clone(),
            session_id: id.into(),
            merchant_reference: order["merchant_reference"]
                .as_str()
                .unwrap_or_default()
                .into(),
            amount,
            currency: order["currency"].as_str().unwrap_or_default().into(),
            status: status.into(),
            items: Compact::new(order.get("items").unwrap_or(&json!([]))),
            created_at: now,
            updated_at: now,
            events: Vec::new(),
            auto_capture_at: None,
            auto_capture_fails: false,
            pending: Vec::new(),
        };
        let mut t = t;
        t.push_event(event("INITIALIZE", "INITIATED", Some(amount), now));
        t.push_event(this(now));
        e.transactions.insert(tid.clone(), t);
        e.sessions.get_mut(id).expect("exists").transaction_id = Some(tid.clone());
        tid
    };
    // Dintero captures by itself when the session asked for it (S:4771ff).
    if what == "pay" && auto_capture {
        let delay = e.controls.auto_capture_delay_ms as i64;
        let fails = e.controls.auto_capture_fails;
        let t = e.transactions.get_mut(&tid).expect("exists");
        t.auto_capture_at = Some(now + delay);
        t.auto_capture_fails = fails;
        advance(t, now);
    }
    let s = e.sessions.get_mut(id).expect("exists");
    s.events.push((session_event.into(), now));
    if what != "decline" {
        s.events.push(("COMPLETED".into(), now));
    }
    s.updated_at = now;
    Ok(())
}

// ---- after the sale ----

/// What Dintero did meanwhile by itself: its auto-capture when due, and the end of 202
/// operations. Called before every read of or operation on a transaction.
pub(super) fn advance(t: &mut Transaction, now: i64) -> bool {
    let mut changed = false;
    if let Some(at) = t.auto_capture_at.filter(|at| *at <= now) {
        t.auto_capture_at = None;
        let amount = t.amount - t.sum("CAPTURE");
        if t.status == "AUTHORIZED" && amount > 0 {
            let mut ev = event("CAPTURE", "CAPTURED", Some(amount), at.max(t.updated_at));
            if t.auto_capture_fails {
                ev.success = false;
                ev.transaction_status = t.status.clone();
                ev.error = Some(
                    json!({"code": "CAPTURE_FAILED", "message": "the acquirer declined the capture", "type": "capture_failed"}),
                );
            } else {
                t.status = "CAPTURED".into();
            }
            t.push_event(ev);
        }
        changed = true;
    }
    let (due, later): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut t.pending)
        .into_iter()
        .partition(|p| p.due <= now);
    t.pending = later;
    for p in due {
        let status = status_after(t, &p.event, p.amount);
        t.status = status.clone();
        let mut ev = event(&p.event, &status, Some(p.amount), p.due.max(t.updated_at));
        ev.items = p.items;
        ev.event_reference = p.event_reference;
        ev.correlation_request_id = Some(p.request_id);
        t.push_event(ev);
        changed = true;
    }
    changed
}

/// A capture, refund or void body after its checks.
pub(super) struct Operation {
    pub(super) amount: i64,
    pub(super) reference: Option<String>,
    pub(super) items: Option<Value>,
}

/// Checks a capture (`kind` CAPTURE, S:416ff) or refund (REFUND, S:572ff) body: `amount`
/// required int32 > 0; `capture_reference` / `refund_reference` and (refund) `reason`
/// strings; `items` with `line_id` and integer `amount` each, summing to `amount` (OURS);
/// nothing else.
pub(super) fn validate_operation(kind: &str, v: &Value) -> Result<Operation, Vec<String>> {
    let Some(obj) = v.as_object() else {
        return Err(vec!["the body must be a JSON object".into()]);
    };
    let (reference_field, allowed): (&str, &[&str]) = if kind == "CAPTURE" {
        (
            "capture_reference",
            &["amount", "capture_reference", "items"],
        )
    } else {
        (
            "refund_reference",
            &["amount", "reason", "refund_reference", "items"],
        )
    };
    let mut p = Vec::new();
    for k in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        p.push(format!("{k} is not a field of this request"));
    }
    let amount = match obj.get("amount") {
        Some(a) if is_int32(a) && a.as_i64() > Some(0) => a.as_i64().unwrap_or(0),
        Some(_) => {
            p.push("amount must be a positive integer (minor units, int32)".into());
            0
        }
        None => {
            p.push("amount is required".into());
            0
        }
    };
    for f in [reference_field, "reason"] {
        if obj.get(f).is_some_and(|r| !r.is_string()) {
            p.push(format!("{f} must be a string"));
        }
    }
    if let Some(items) = obj.get("items") {
        match items.as_array() {
            None => p.push("items must be an array".into()),
            Some(list) => {
                let mut sum = 0;
                for (i, item) in list.iter().enumerate() {
                    if !item.get("line_id").is_some_and(Value::is_string) {
                        p.push(format!("items[{i}].line_id is required (a string)"));
                    }
                    match item.get("amount") {
                        Some(a) if is_int32(a) => sum += a.as_i64().unwrap_or(0),
                        _ => p.push(format!("items[{i}].amount is required (an integer)")),
                    }
                    if let Some(q) = item.get("quantity") {
                        if !q.as_f64().is_some_and(|q| q > 0.0) {
                            p.push(format!("items[{i}].quantity must be a positive number"));
                        }
                    }
                }
                if p.is_empty() && sum != amount {
                    p.push(format!(
                        "the items' amounts sum to {sum}, not to amount {amount}"
                    ));
                }
            }
        }
    }
    if !p.is_empty() {
        return Err(p);
    }
    Ok(Operation {
        amount,
        reference: obj
            .get(reference_field)
            .and_then(Value::as_str)
            .map(str::to_string),
        items: obj.get("items").cloned(),
    })
}

/// The transaction's status after a successful `kind` of `amount`.
fn status_after(t: &Transaction, kind: &str, amount: i64) -> String {
    let captured = t.sum("CAPTURE") + if kind == "CAPTURE" { amount } else { 0 };
    let refunded = t.sum("REFUND") + if kind == "REFUND" { amount } else { 0 };
    match kind {
        "VOID" => "AUTHORIZATION_VOIDED",
        "CAPTURE" if captured >= t.amount => "CAPTURED",
        "CAPTURE" => "PARTIALLY_CAPTURED",
        _ if refunded >= captured => "REFUNDED",
        _ if captured < t.amount => "PARTIALLY_CAPTURED_REFUNDED",
        _ => "PARTIALLY_REFUNDED",
    }
    .into()
}

/// Why `kind` of `amount` is not allowed on the transaction now: (error code, message).
pub(super) fn refusal(t: &Transaction, kind: &str, amount: i64) -> Option<(&'static str, String)> {
    let captured = t.sum("CAPTURE") + t.pending_sum("CAPTURE");
    let refunded = t.sum("REFUND") + t.pending_sum("REFUND");
    let id = &t.id;
    let status = t.status.as_str();
    match kind {
        "CAPTURE" => {
            let voiding = t.pending.iter().any(|p| p.event == "VOID");
            if !matches!(status, "AUTHORIZED" | "PARTIALLY_CAPTURED") || voiding {
                return Some((
                    "TRANSACTION_NOT_CAPTURABLE",
                    format!("transaction {id} is {status}: only an AUTHORIZED or PARTIALLY_CAPTURED transaction can be captured"),
                ));
            }
            let left = t.amount - captured;
            (amount > left).then(|| {
                (
                    "CAPTURE_AMOUNT_TOO_LARGE",
                    format!("the amount to capture ({amount}) cannot be higher than the authorized amount not yet captured ({left})"),
                )
            })
        }
        "REFUND" => {
            if !matches!(
                status,
                "CAPTURED" | "PARTIALLY_CAPTURED" | "PARTIALLY_REFUNDED" | "PARTIALLY_CAPTURED_REFUNDED"
            ) {
                return Some((
                    "TRANSACTION_NOT_REFUNDABLE",
                    format!("transaction {id} is {status}: only captured transactions can be refunded"),
                ));
            }
            let left = captured - refunded;
            (amount > left).then(|| {
                (
                    "REFUND_AMOUNT_TOO_LARGE",
                    format!("the amount to refund ({amount}) cannot be higher than the captured amount not yet refunded ({left})"),
                )
            })
        }
        _ => (status != "AUTHORIZED" || captured > 0 || t.pending.iter().any(|p| p.event == "VOID")).then(|| {
            (
                "TRANSACTION_NOT_VOIDABLE",
                format!("transaction {id} is {status}: only an AUTHORIZED transaction nothing was captured from can be voided"),
            )
        }),
    }
}

/// What an accepted operation did: answered at once (200) or accepted for later (202, with
/// the `event-request-id`).
pub(super) enum Done {
    Now,
    Later(String),
}

/// Does `kind` (CAPTURE, REFUND, VOID; checked by [`refusal`]) of `op` on the transaction, as
/// the controls say: at once, failing, or accepted now and finished later.
pub(super) fn operate(
    t: &mut Transaction,
    controls: &mut super::AfterSaleControls,
    kind: &str,
    op: Operation,
    now: i64,
) -> Done {
    let request_id = new_id("R");
    if kind == "CAPTURE" {
        // A manual capture stops Dintero's own (S:4789–4790).
        t.auto_capture_at = None;
    }
    if controls.fail_next > 0 {
        controls.fail_next -= 1;
        let mut ev = event(kind, &t.status, Some(op.amount), now);
        ev.success = false;
        ev.items = op.items;
        ev.event_reference = op.reference;
        ev.request_id = Some(request_id);
        ev.error = Some(
            json!({"code": "OPERATION_FAILED", "message": format!("the payment processor did not {}", kind.to_lowercase()), "type": "processor"}),
        );
        t.push_event(ev);
        return Done::Now;
    }
    if let Some(ms) = controls.async_ms {
        let mut ev = event(&format!("INITIATE_{kind}"), &t.status, Some(op.amount), now);
        ev.items = op.items.clone();
        ev.event_reference = op.reference.clone();
        ev.request_id = Some(request_id.clone());
        t.push_event(ev);
        t.pending.push(Pending {
            event: kind.into(),
            amount: op.amount,
            items: op.items,
            event_reference: op.reference,
            request_id: request_id.clone(),
            due: now + ms as i64,
        });
        advance(t, now);
        return Done::Later(request_id);
    }
    let status = status_after(t, kind, op.amount);
    t.status = status.clone();
    let mut ev = event(kind, &status, Some(op.amount), now);
    ev.items = op.items;
    ev.event_reference = op.reference;
    ev.request_id = Some(request_id);
    t.push_event(ev);
    Done::Now
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        json!({
            "profile_id": "default",
            "url": {"return_url": "https://shop.example/return"},
            "order": {
                "amount": 5997 + 1000, "currency": "NOK", "merchant_reference": "R-1",
                "vat_amount": 1199 + 130,
                "items": [
                    {"id": "k", "line_id": "1", "description": "Kaffe", "quantity": 3,
                     "amount": 5997, "vat_amount": 1199, "vat": 25},
                    {"id": "b", "line_id": "2", "description": "Bolle", "quantity": 0.5,
                     "amount": 1000, "vat_amount": 130, "vat": 15}
                ]
            },
            "configuration": {"channel": "in_store"}
        })
    }

    #[test]
    fn a_valid_session_passes() {
        assert_eq!(validate_session(&valid(), true), Vec::<String>::new());
    }

    #[test]
    fn strict_amounts_require_the_sum() {
        let mut v = valid();
        v["order"]["amount"] = json!(7000);
        let p = validate_session(&v, true);
        assert!(
            p[0].contains("must equal the sum") && p[0].contains("6997"),
            "{p:?}"
        );
        // Without the toggle Dintero accepts it (and fails later): so does the emulator.
        assert!(validate_session(&v, false).is_empty());
    }

    #[test]
    fn vat_is_a_percent_not_a_fraction() {
        let mut v = valid();
        v["order"]["items"][0]["vat"] = json!(0.25);
        assert!(validate_session(&v, true)[0].contains("looks like a fraction"));
        v["order"]["items"][0]["vat"] = json!(12.555);
        assert!(validate_session(&v, true)[0].contains("at most 2 decimals"));
        v["order"]["items"][0]["vat"] = json!(2500);
        assert!(!validate_session(&v, true).is_empty());
        v["order"]["items"][0]["vat"] = json!(12.5);
        assert!(validate_session(&v, true).is_empty());
    }

    #[test]
    fn required_fields_types_and_unique_lines() {
        let mut v = valid();
        v["order"]["items"][1]["line_id"] = json!("1");
        v["order"]["items"][0]["amount"] = json!("5997");
        v["order"]["items"][0]["vat_amout"] = json!(1);
        v["order"].as_object_mut().unwrap().remove("currency");
        v.as_object_mut().unwrap().remove("profile_id");
        v["url"] = json!({"return_url": "/relative"});
        let p = validate_session(&v, false).join("\n");
        for expected in [
            "profile_id is required",
            "url.return_url \"/relative\" is not an absolute URL",
            "order.currency is required",
            "order.items[0].vat_amout is not a field of OrderItem",
            "order.items[0].amount must be an integer",
            "order.items[1].line_id \"1\" is not unique",
        ] {
            assert!(p.contains(expected), "missing {expected:?} in\n{p}");
        }
        let mut v = valid();
        v["url"]["callback_url"] = json!("http://127.0.0.1:9/cb");
        assert!(validate_session(&v, true)[0].contains("not localhost"));
        v["order"]["amount"] = json!(3_000_000_000i64);
        assert!(validate_session(&v, false)
            .iter()
            .any(|m| m.contains("int32")));
    }

    /// The emulator's rules against the spec file itself: the fields it requires and the
    /// toggle it knows are the spec's, and the transaction statuses it produces are in the
    /// spec's enum.
    #[test]
    fn rules_match_the_spec_file() {
        // A copy of ../shared/providers/dintero/spec-payments.yaml (see spec/dintero-SOURCE.txt).
        check_spec(include_str!("../../spec/dintero-spec-payments.yaml"));
    }

    fn check_spec(spec: &str) {
        for needle in [
            "strict-session-amounts",
            "/sessions-profile:",
            "/sessions/{session_id}/cancel:",
            "/transactions/{id}:",
            "/accounts/{oid}/auth/token:",
            "return_url",
            "merchant_reference",
            "line_id",
        ] {
            assert!(spec.contains(needle), "spec lacks {needle}");
        }
        for status in [
            "AUTHORIZED",
            "CAPTURED",
            "DECLINED",
            "ON_HOLD",
            "AUTHORIZATION_VOIDED",
        ] {
            assert!(
                spec.contains(&format!("- {status}")),
                "spec enum lacks {status}"
            );
        }
        for field in ITEM_FIELDS {
            assert!(
                spec.contains(&format!("{field}:")),
                "OrderItem field {field} not in the spec"
            );
        }
    }
}
