//! Klarna's arithmetic on order lines (NOTES §3.4), its rules on a Payments session (line and
//! order sums, line types, our stricter choices) and on a capture's or refund's lines, and
//! what the customer's actions on the hosted page do: authorize the session, place (and with
//! CAPTURE_ORDER capture) the order.

use super::{
    new_uuid, short_reference, Emulator, HppStatus, Movement, Order, AUTHORIZATION_LIFETIME_MS,
};
use kassa_core::money::Currency;
use kassa_core::time::now_millis;
use serde_json::Value;

/// The order line types the KP spec's `order_line.type` description lists.
pub(super) const LINE_TYPES: &[&str] = &[
    "physical",
    "discount",
    "shipping_fee",
    "sales_tax",
    "digital",
    "gift_card",
    "store_credit",
    "surcharge",
];

/// The order line types the OM spec's `order_line.type` lists ("Matches: …"; its `pattern`
/// is the same alternation, unanchored, so the exact list is checked here).
pub(super) const OM_LINE_TYPES: &[&str] = &[
    "physical",
    "discount",
    "shipping_fee",
    "sales_tax",
    "store_credit",
    "gift_card",
    "digital",
    "surcharge",
    "return_fee",
];

fn int(v: &Value, key: &str) -> Option<i128> {
    v.get(key)?.as_i64().map(i128::from)
}

/// The paths that break Klarna's session rules (the body already passed the schema).
pub(super) fn session_rules(v: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    if v.get("intent").and_then(Value::as_str) != Some("buy") {
        bad.push("intent".to_string());
    }
    let currency = v["purchase_currency"].as_str().unwrap_or_default();
    if Currency::from_code(&currency.to_ascii_uppercase()).is_none() {
        bad.push("purchase_currency".into());
    }
    let (amount_sum, tax_sum) = line_rules(&v["order_lines"], LINE_TYPES, &mut bad);
    if int(v, "order_amount") != Some(amount_sum) {
        bad.push("order_amount".into());
    }
    if int(v, "order_tax_amount") != Some(tax_sum) {
        bad.push("order_tax_amount".into());
    }
    bad
}

/// The paths that break Klarna's rules on a capture's or refund's body (already valid against
/// `CaptureObject` / `RefundObject`; `amount` names its amount field): each line's arithmetic
/// as on a session, and, our rule (facts §2.3: UNCONFIRMED at Klarna), lines that add up to
/// the amount. Also ours: an amount of 0 (the spec's minimum) is refused, since a `Capture`
/// has `captured_amount ≥ 1` and a refund of nothing is no refund.
pub(super) fn operation_rules(v: &Value, amount: &str) -> Vec<String> {
    let mut bad = Vec::new();
    if int(v, amount) == Some(0) {
        bad.push(format!("{amount} (must be at least 1)"));
    }
    let lines = &v["order_lines"];
    let (sum, _) = line_rules(lines, OM_LINE_TYPES, &mut bad);
    if lines.as_array().is_some_and(|l| !l.is_empty()) && int(v, amount) != Some(sum) {
        bad.push(format!(
            "order_lines (their total_amount adds up to {sum}, not {amount})"
        ));
    }
    bad
}

/// Klarna's arithmetic on `order_lines` (NOTES §3.4; the array already passed the schema):
/// adds the paths that break it to `bad` and answers `(Σ total_amount, Σ total_tax_amount)`.
fn line_rules(lines: &Value, types: &[&str], bad: &mut Vec<String>) -> (i128, i128) {
    let (mut amount_sum, mut tax_sum) = (0i128, 0i128);
    for (i, line) in lines.as_array().into_iter().flatten().enumerate() {
        let at = |f: &str| format!("order_lines[{i}].{f}");
        let kind = line.get("type").and_then(Value::as_str);
        if kind.is_some_and(|t| !types.contains(&t)) {
            bad.push(at("type"));
        }
        let total = int(line, "total_amount").unwrap_or(0);
        let expected = int(line, "quantity").unwrap_or(0) * int(line, "unit_price").unwrap_or(0)
            - int(line, "total_discount_amount").unwrap_or(0);
        if total != expected {
            bad.push(at("total_amount"));
        }
        let rate = int(line, "tax_rate").unwrap_or(0);
        let tax = int(line, "total_tax_amount").unwrap_or(0);
        // |tax − (total − total·10000/(10000+rate))| ≤ 1, times (10000 + rate).
        let off = (tax * (10_000 + rate) - total * rate).abs();
        if off > 10_000 + rate || (kind == Some("discount") && tax > 0) {
            bad.push(at("total_tax_amount"));
        }
        amount_sum += total;
        tax_sum += tax;
    }
    (amount_sum, tax_sum)
}

/// Authorizes the HPP session's KP session and, unless `place_order_mode` is NONE, places
/// (and with CAPTURE_ORDER captures) the order.
fn authorize(e: &mut Emulator, id: &str, fraud_status: &str) -> Result<(), String> {
    let now = now_millis();
    let h = &e.hpp_sessions[id];
    let (kp_id, mode, account) = (
        h.kp_session.clone(),
        h.place_order_mode.clone(),
        h.account.clone(),
    );
    let kp = e
        .kp_sessions
        .get_mut(&kp_id)
        .ok_or("the payment session is gone")?;
    if kp.authorization_token.is_some() {
        return Err("the payment session is already authorized".into());
    }
    let token = new_uuid();
    kp.authorization_token = Some(token.clone());
    let mut placed = None;
    if mode != "NONE" {
        let order_id = new_uuid();
        let reference = short_reference();
        let order_amount = kp.body["order_amount"].as_i64().unwrap_or(0);
        kp.order_id = Some(order_id.clone());
        let mut order = Order {
            account,
            status: if fraud_status == "REJECTED" {
                "CANCELLED"
            } else {
                "AUTHORIZED"
            },
            fraud_status: fraud_status.to_string(),
            order_amount,
            captures: Vec::new(),
            refunds: Vec::new(),
            capture_when_accepted: mode == "CAPTURE_ORDER",
            session: kp.body.clone(),
            klarna_reference: reference.clone(),
            created_at: now,
            expires_at: now + AUTHORIZATION_LIFETIME_MS,
        };
        if fraud_status == "ACCEPTED" {
            capture_if_due(&mut order, now);
        }
        e.orders.insert(order_id.clone(), order);
        placed = Some((order_id, reference));
    }
    let h = e.hpp_sessions.get_mut(id).expect("checked");
    h.authorization_token = Some(token);
    if let Some((order_id, reference)) = placed {
        h.order_id = Some(order_id);
        h.klarna_reference = Some(reference);
    }
    Ok(())
}

/// CAPTURE_ORDER: captures the whole order once its fraud status allows it (a capture with
/// the order's lines and no reference, as Klarna's own).
pub(super) fn capture_if_due(o: &mut Order, now: i64) {
    if o.capture_when_accepted && o.status(now) == "AUTHORIZED" && o.fraud_status == "ACCEPTED" {
        o.capture_when_accepted = false;
        o.status = "CAPTURED";
        o.captures.push(Movement {
            id: new_uuid(),
            amount: o.order_amount,
            at: now,
            reference: None,
            description: None,
            order_lines: o.session["order_lines"].clone(),
        });
    }
}

/// What the customer (or a test) does on the hosted page; answers where the browser goes.
pub(super) fn outcome(e: &mut Emulator, id: &str, what: &str) -> Result<Option<String>, String> {
    let now = now_millis();
    let Some(h) = e.hpp_sessions.get_mut(id) else {
        return Err(format!("HPP session {id} was not found"));
    };
    if what == "expire" {
        h.expires_at = now;
        return Ok(None);
    }
    if h.status.is_final() {
        return Err(format!("the HPP session is {}", h.status.as_str()));
    }
    if h.expires_at <= now {
        return Err("the HPP session has expired".into());
    }
    let (status, fraud_status, url) = match what {
        "open" => {
            if matches!(h.status, HppStatus::Waiting | HppStatus::Back) {
                h.status = HppStatus::InProgress;
                h.updated_at = now;
            }
            return Ok(None);
        }
        "pay" => (HppStatus::Completed, Some("ACCEPTED"), "success"),
        "pay_pending" => (HppStatus::Completed, Some("PENDING"), "success"),
        "reject" => (HppStatus::Completed, Some("REJECTED"), "success"),
        "decline" => (HppStatus::Failed, None, "failure"),
        "cancel" => (HppStatus::Cancelled, None, "cancel"),
        "back" => (HppStatus::Back, None, "back"),
        other => return Err(format!("unknown outcome {other:?}")),
    };
    if let Some(f) = fraud_status {
        authorize(e, id, f)?;
    }
    let h = e.hpp_sessions.get_mut(id).expect("checked");
    h.status = status;
    h.updated_at = now;
    Ok(h.merchant_urls.get(url).and_then(Value::as_str).map(|u| {
        u.replace("{{session_id}}", id)
            .replace(
                "{{authorization_token}}",
                h.authorization_token.as_deref().unwrap_or_default(),
            )
            .replace("{{order_id}}", h.order_id.as_deref().unwrap_or_default())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::klarna::KP_SPEC;
    use crate::openapi;
    use serde_json::json;

    /// The seed's one-time payment example (docs.klarna.com "Step 1: Initiate a payment").
    fn battery() -> Value {
        json!({
            "acquiring_channel": "ECOMMERCE",
            "intent": "buy",
            "purchase_country": "SE",
            "purchase_currency": "SEK",
            "locale": "en-SE",
            "order_amount": 9500,
            "order_tax_amount": 1900,
            "order_lines": [{
                "type": "physical", "reference": "19-402", "name": "Battery Power Pack",
                "quantity": 1, "unit_price": 10000, "tax_rate": 2500, "total_amount": 9500,
                "total_discount_amount": 500, "total_tax_amount": 1900,
                "image_url": "https://www.exampleobjects.com/logo.png",
                "product_url": "https://www.estore.com/products/f2a8d7e34"
            }],
            "merchant_urls": {"authorization": "https://example.com/authorization_callbacks"}
        })
    }

    #[test]
    fn the_docs_example_passes_schema_and_rules() {
        assert_eq!(
            openapi::validate(&KP_SPEC, "session_create", &battery()),
            vec![]
        );
        assert_eq!(session_rules(&battery()), Vec::<String>::new());
    }

    #[test]
    fn the_tax_rule_allows_one_minor_unit_either_way() {
        // NOTES §3.4: 3 × 19.99 at 25 %: the exact tax is 1199.4, so 1199 and 1200 are within
        // ±1 and 1198 (1.4 off) and 1201 (1.6 off) are not.
        let line = |tax: i64| {
            json!({"intent": "buy", "purchase_currency": "EUR", "order_amount": 5997,
                   "order_tax_amount": tax, "order_lines": [{"name": "x", "quantity": 3,
                   "unit_price": 1999, "total_amount": 5997, "tax_rate": 2500,
                   "total_tax_amount": tax}]})
        };
        for (tax, ok) in [(1198, false), (1199, true), (1200, true), (1201, false)] {
            let bad = session_rules(&line(tax));
            assert_eq!(bad.is_empty(), ok, "{tax}: {bad:?}");
        }
        // kco_rest_dotnet#24: 5 × 100.00 at 10 % → 4545, not 5000.
        let mut v = line(4545);
        v["order_amount"] = json!(50000);
        v["order_lines"][0] = json!({"name": "x", "quantity": 5, "unit_price": 10000, "total_amount": 50000,
                   "tax_rate": 1000, "total_tax_amount": 4545});
        assert!(session_rules(&v).is_empty());
        v["order_lines"][0]["total_tax_amount"] = json!(5000);
        v["order_tax_amount"] = json!(5000);
        assert_eq!(session_rules(&v), ["order_lines[0].total_tax_amount"]);
    }

    #[test]
    fn discount_lines_carry_negative_tax() {
        let mut v = battery();
        v["order_lines"].as_array_mut().unwrap().push(json!({"type": "discount", "name": "Rabatt", "quantity": 1,
            "unit_price": -1000, "total_amount": -1000, "tax_rate": 2500, "total_tax_amount": -200}));
        v["order_amount"] = json!(8500);
        v["order_tax_amount"] = json!(1700);
        assert!(session_rules(&v).is_empty(), "{:?}", session_rules(&v));
        v["order_lines"][1]["unit_price"] = json!(1000);
        v["order_lines"][1]["total_amount"] = json!(1000);
        v["order_lines"][1]["total_tax_amount"] = json!(200);
        v["order_amount"] = json!(10500);
        v["order_tax_amount"] = json!(2100);
        assert_eq!(session_rules(&v), ["order_lines[1].total_tax_amount"]);
    }

    #[test]
    fn each_rule_names_its_path() {
        let mut v = battery();
        v["intent"] = json!("tokenize");
        v["purchase_currency"] = json!("XXY");
        v["order_lines"][0]["type"] = json!("service");
        v["order_lines"][0]["total_amount"] = json!(9400);
        v.as_object_mut().unwrap().remove("order_tax_amount");
        assert_eq!(
            session_rules(&v),
            [
                "intent",
                "purchase_currency",
                "order_lines[0].type",
                "order_lines[0].total_amount",
                "order_lines[0].total_tax_amount",
                "order_amount",
                "order_tax_amount"
            ]
        );
    }

    #[test]
    fn operation_lines_follow_the_same_arithmetic_and_add_up_to_the_amount() {
        let line = |total: i64| {
            json!({"name": "x", "quantity": 2, "unit_price": 5000, "total_amount": total,
                   "total_discount_amount": 10000 - total, "tax_rate": 2500,
                   "total_tax_amount": total / 5})
        };
        let ok = json!({"captured_amount": 9500, "order_lines": [line(9500)]});
        assert_eq!(
            operation_rules(&ok, "captured_amount"),
            Vec::<String>::new()
        );
        // No lines, or an empty list: the amount alone.
        for v in [
            json!({"refunded_amount": 1}),
            json!({"refunded_amount": 1, "order_lines": []}),
        ] {
            assert_eq!(operation_rules(&v, "refunded_amount"), Vec::<String>::new());
        }
        let mut v = json!({"refunded_amount": 9400, "order_lines": [line(9500)]});
        v["order_lines"][0]["type"] = json!("return_fee");
        assert_eq!(
            operation_rules(&v, "refunded_amount"),
            ["order_lines (their total_amount adds up to 9500, not refunded_amount)"]
        );
        v["order_lines"][0]["type"] = json!("xphysical");
        v["order_lines"][0]["total_discount_amount"] = json!(0);
        v["refunded_amount"] = json!(0);
        assert_eq!(
            operation_rules(&v, "refunded_amount"),
            [
                "refunded_amount (must be at least 1)",
                "order_lines[0].type",
                "order_lines[0].total_amount",
                "order_lines (their total_amount adds up to 9500, not refunded_amount)"
            ]
        );
    }
}
