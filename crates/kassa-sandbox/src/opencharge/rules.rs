//! What the gateways check in a body and an order (the schema, our rules, the signature, the
//! amounts, the times, settlement, reuse: steps 1–7 of the module doc) and what the customer's
//! actions do to a session (the transaction proof).

use super::{
    bad_request, is_match, unauthorized, Emulator, Failure, Gateway, Status, MERCHANT_GATEWAY_OCID,
    MG_SPEC, PAYMENT_GATEWAY_OCID, PG_KEY, PG_SPEC, SESSION_LIFETIME_S, WINDOW_S,
};
use crate::common::{is_http_url, is_json, random_hex};
use crate::openapi;
use axum::http::{HeaderMap, StatusCode};
use kassa_core::provider::opencharge::sign;
use serde_json::{json, Value};

/// A decimal string `^(0|[1-9][0-9]*)\.[0-9]{2,3}$` in thousandths, and its decimals.
fn decimal(s: &str) -> Option<(i128, u32)> {
    if !is_match(r"^(0|[1-9][0-9]*)\.[0-9]{2,3}$", s) {
        return None;
    }
    let (int, frac) = s.split_once('.')?;
    let decimals = frac.len() as u32;
    let whole: i128 = int.parse().ok()?;
    let frac: i128 = frac.parse().ok()?;
    let value = whole
        .checked_mul(1000)?
        .checked_add(frac * 10i128.pow(3 - decimals))?;
    Some((value, decimals))
}

/// Thousandths written with `decimals` (2 or 3) decimals.
fn format_decimal(thousandths: i128, decimals: u32) -> String {
    let (whole, frac) = (thousandths / 1000, thousandths % 1000);
    if decimals == 3 {
        format!("{whole}.{frac:03}")
    } else {
        format!("{whole}.{:02}", frac / 10)
    }
}

const DECIMAL_RULE: &str =
    "must be a decimal string with 2 or 3 decimals and no sign, like \"10.00\"";

/// Our rules on an order (the schema's problems are reported separately; values of the wrong
/// type are left to the schema).
fn order_problems(order: &Value, gateway: Gateway) -> Vec<String> {
    let mut p = Vec::new();
    if let Some(amount) = order.get("amount").and_then(Value::as_str) {
        match decimal(amount) {
            None => p.push(format!("order.amount {DECIMAL_RULE}")),
            Some((0, _)) => p.push("order.amount must be more than 0".into()),
            Some(_) => {}
        }
    }
    if let Some(currency) = order.get("currency").and_then(Value::as_str) {
        if !is_match("^[A-Z]{3}$", currency) {
            p.push("order.currency must be three capital letters (ISO 4217)".into());
        }
    }
    for (i, item) in order
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(q) = item.get("quantity").filter(|q| q.is_number()) {
            if q.as_u64().is_none_or(|q| q < 1) {
                p.push(format!(
                    "order.items[{i}].quantity must be an integer of at least 1"
                ));
            }
        }
        if let Some(price) = item.get("price").and_then(Value::as_str) {
            if decimal(price).is_none() {
                p.push(format!("order.items[{i}].price {DECIMAL_RULE}"));
            }
        }
    }
    if gateway == Gateway::Mg && order.is_object() && order.get("expiresAt").is_none() {
        p.push("order.expiresAt is required by this merchant gateway".into());
    }
    p
}

/// The problems of the request body of `gateway`'s endpoint: the spec's schema and our rules.
fn body_problems(gateway: Gateway, v: &Value) -> Vec<String> {
    let (spec, schema, urls): (&Value, &str, &[&str]) = match gateway {
        Gateway::Pg => (&PG_SPEC, "CheckoutCreateRequest", &["success", "cancel"]),
        Gateway::Mg => (
            &MG_SPEC,
            "OrderCheckoutRequest",
            &["completed", "cancelled"],
        ),
    };
    let mut p: Vec<String> = openapi::validate(spec, schema, v)
        .iter()
        .map(openapi::Problem::to_string)
        .collect();
    p.extend(order_problems(&v["order"], gateway));
    for name in urls {
        if let Some(url) = v["urls"].get(*name).and_then(Value::as_str) {
            if !is_http_url(url) {
                p.push(format!("urls.{name} must be an http(s) URL"));
            }
        }
    }
    if gateway == Gateway::Mg {
        for (i, url) in v["urls"]
            .get("order")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if url.as_str().is_some_and(|u| !is_http_url(u)) {
                p.push(format!("urls.order[{i}] must be an http(s) URL"));
            }
        }
    }
    p
}

/// The JSON body, or `INVALID_REQUEST` listing every problem.
pub(super) fn parse_body(
    gateway: Gateway,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Failure> {
    let schema = match gateway {
        Gateway::Pg => "CheckoutCreateRequest",
        Gateway::Mg => "OrderCheckoutRequest",
    };
    let invalid = |problems: Vec<String>| {
        bad_request(
            "INVALID_REQUEST",
            format!(
                "the request is not a valid {schema}: {}",
                problems.join("; ")
            ),
        )
        .details(json!({ "problems": problems }))
    };
    if !is_json(headers) {
        return Err(invalid(
            vec!["Content-Type must be application/json".into()],
        ));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| invalid(vec![format!("the body is not JSON ({e})")]))?;
    let problems = body_problems(gateway, &v);
    if problems.is_empty() {
        Ok(v)
    } else {
        Err(invalid(problems))
    }
}

/// The checks after the schema (steps 2–7 of the module doc) for an order of `merchant`;
/// answers the session's expiry.
pub(super) fn check_order(
    e: &Emulator,
    now: i64,
    gateway: Gateway,
    merchant: u64,
    v: &Value,
) -> Result<i64, Failure> {
    let order = &v["order"];
    let Some(party) = e.parties.get(&merchant) else {
        return Err(unauthorized(
            "UNKNOWN_OCID",
            format!("merchantOcid {merchant} is not in the registry"),
        ));
    };
    let canonical = e
        .switches
        .canonicalization
        .apply(order)
        .map_err(|m| bad_request("INVALID_REQUEST", m))?;
    let signature = v["signature"].as_str().unwrap_or_default();
    if !sign::verify(&party.public_key, canonical.as_bytes(), signature) {
        return Err(bad_request(
            "INVALID_SIGNATURE",
            "the order signature does not verify",
        ));
    }
    let (amount, amount_decimals) = decimal(order["amount"].as_str().unwrap_or_default())
        .ok_or_else(|| bad_request("INVALID_REQUEST", format!("order.amount {DECIMAL_RULE}")))?;
    if let Some(items) = order.get("items").and_then(Value::as_array) {
        let mut total: Option<i128> = Some(0);
        let mut decimals = amount_decimals;
        for item in items {
            let (price, d) = decimal(item["price"].as_str().unwrap_or_default()).unwrap_or((0, 2));
            decimals = decimals.max(d);
            let quantity = i128::from(item["quantity"].as_u64().unwrap_or(0));
            total = total.and_then(|t| t.checked_add(price.checked_mul(quantity)?));
        }
        if total != Some(amount) {
            let items_total =
                total.map_or_else(|| "too large".into(), |t| format_decimal(t, decimals));
            let amount_text = order["amount"].as_str().unwrap_or_default();
            return Err(bad_request(
                "AMOUNT_MISMATCH",
                format!("order.amount {amount_text} is not the sum of the items' price × quantity, {items_total}"),
            )
            .details(json!({"amount": amount_text, "itemsTotal": items_total})));
        }
    }
    let created = order["createdAt"].as_i64().unwrap_or(i64::MAX);
    if created > now + WINDOW_S {
        return Err(bad_request(
            "INVALID_REQUEST",
            format!("order.createdAt {created} is more than {WINDOW_S} s in the future of the server's time {now}"),
        )
        .details(json!({"serverTime": now, "createdAt": created})));
    }
    let expires = order
        .get("expiresAt")
        .map(|x| x.as_i64().unwrap_or(i64::MIN));
    if let Some(x) = expires.filter(|x| *x <= now) {
        let code = match gateway {
            Gateway::Pg => "SESSION_EXPIRED",
            Gateway::Mg => "ORDER_EXPIRED",
        };
        return Err(bad_request(
            code,
            format!("the order expired at {x}; the server's time is {now}"),
        )
        .details(json!({"serverTime": now, "expiresAt": x})));
    }
    let accepts = order.get("accepts").cloned().unwrap_or(json!([]));
    let own = gateway.ocid();
    if accepts.as_array().is_none_or(|a| !a.contains(&json!(own))) {
        return Err(bad_request(
            "SETTLEMENT_NOT_SUPPORTED",
            format!("order.accepts does not contain this gateway's OCID {own}"),
        )
        .details(json!({"accepts": accepts, "gateway": own})));
    }
    let id = &order["id"];
    if e.sessions
        .values()
        .any(|s| s.merchant == merchant && &s.order["id"] == id)
    {
        return Err(bad_request(
            "SESSION_USED",
            format!("order id {id} was already used by merchant {merchant}"),
        ));
    }
    let lifetime_end = now + SESSION_LIFETIME_S;
    Ok(expires.map_or(lifetime_end, |x| x.min(lifetime_end)))
}

/// What the customer (or a test) does with a session; answers where the browser goes.
pub(super) fn outcome(
    e: &mut Emulator,
    id: &str,
    what: &str,
) -> Result<Option<String>, (StatusCode, String)> {
    let now = e.now();
    let Some(s) = e.sessions.get_mut(id) else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("checkout session {id} was not found"),
        ));
    };
    if !matches!(what, "pay" | "cancel" | "expire") {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("unknown outcome {what:?} (pay, cancel, expire)"),
        ));
    }
    let status = s.status(now);
    if status != Status::Pending {
        return Err((
            StatusCode::CONFLICT,
            format!("the checkout session is {}", status.as_str()),
        ));
    }
    match what {
        "pay" => {
            let to = match s.gateway {
                Gateway::Pg => s.merchant,
                Gateway::Mg => MERCHANT_GATEWAY_OCID,
            };
            let proof = json!({
                "txid": format!("tx_{}", random_hex(16)),
                "issuer": PAYMENT_GATEWAY_OCID,
                "from": {"ocid": PAYMENT_GATEWAY_OCID, "reference": format!("wallet_{}", random_hex(8))},
                "to": {"ocid": to, "reference": s.order["id"]},
                "amount": s.order["amount"],
                "currency": s.order["currency"],
                "timestamp": now,
            });
            let canonical =
                sign::canonical_json(&proof).expect("a proof holds strings and integers");
            let signature = PG_KEY.sign(canonical.as_bytes());
            s.proof = Some((proof, signature));
            s.status = Status::Paid;
            Ok(s.success.clone())
        }
        "cancel" => {
            s.status = Status::Cancelled;
            Ok(s.cancel.clone())
        }
        _ => {
            s.status = Status::Expired;
            Ok(None)
        }
    }
}
