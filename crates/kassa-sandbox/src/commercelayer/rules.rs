//! The arithmetic (line and order amounts, taxes) and the order's payment state machine: the
//! triggers `_place`, `_approve`, `_capture`, `_cancel` and what the hosted checkout's
//! outcomes do.
//!
//! Rules:
//! - Amounts (integer cents, i128 intermediates, recomputed from the lines on every read):
//!   line `total_amount_cents = unit × quantity`; `subtotal_amount_cents = Σ line totals`.
//!   Taxes only once the order has a shipping address: per line the SKU's `tax_rate_bp` (or
//!   the account's `default_tax_rate_bp` for lines without a known SKU), `tax_amount_cents =
//!   round_half_away_from_zero(T × bp / (10000 + bp))` with `tax_included`, else of `T × bp /
//!   10000`; `tax_rate` is the float `bp / 10000`. `total_tax_amount_cents = Σ line taxes`,
//!   `total_amount_cents` = subtotal (+ tax without `tax_included`),
//!   `total_amount_with_taxes_cents` likewise, `total_taxable_amount_cents` = subtotal − tax
//!   with `tax_included`, else subtotal. The order's `tax_rate` is the lines' rate when they
//!   all share one, else null.
//! - Payment outcomes (page buttons or the control API): `pay` records a succeeded
//!   authorization for `total_amount_with_taxes_cents`, sets the payment source's
//!   `payment_response.status` to `Authorized` and places the order (`placed`, `authorized`,
//!   `placed_at`, `payment_updated_at`); with the account's `auto_capture` the order goes on to
//!   `approved`/`paid`. `decline` records a failed authorization (`error_code` 20051,
//!   "Insufficient Funds", `payment_response.status: Declined`) and leaves the order as it
//!   was. `capture` turns a placed, authorized order into `approved`/`paid`. `cancel` (the
//!   customer's "Back to cart") changes nothing. `expire` moves the order's `expires_at` (and
//!   its links' `expires_at`) into the past; an expired order cannot be paid.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - Taxes: a manual calculator with one rate per line's tax category (the account's SKUs and
//!   their rates, else the default rate); CL's manual calculator has no per-SKU rate (NOTES A7)
//!   and its rounding (per line, half away from zero here) is UNCONFIRMED (NOTES A7, E4).
//!   Taxes are computed only with a shipping address; a billing address alone does not trigger
//!   them (UNCONFIRMED, NOTES E3). Lines without a SKU are taxed at the default rate
//!   (UNCONFIRMED) and count in the subtotal; their `item_type` is null (no associated item),
//!   SKU lines have `item_type: skus`. `_update_taxes` only counts a calculation
//!   (`tax_calculations_count`): amounts are always current (`autorefresh` is not emulated).
//! - `_place` is idempotent on a placed or approved order; on a pending order whose total is
//!   0 it places it as `free`; otherwise `422` "the payment source is not authorized" (the
//!   real code is UNCONFIRMED, NOTES E8); the hosted page's Pay authorizes and places.
//! - `_cancel`: `draft`/`pending` → `cancelled` with `payment_status` unchanged (real CL's
//!   `_cancel` is documented for placed orders only: UNCONFIRMED); `placed`/`approved` with an
//!   authorized payment → `cancelled` + `voided` (NOTES A12 says "voided"; UNCONFIRMED for
//!   approved orders); approved + `paid` → `422` ("captured: refund instead"); cancelled →
//!   `422`. `_approve` (placed → approved), `_capture`/`_approve_and_capture` (authorized →
//!   `approved` + `paid`).
//! - Capture (control, `_capture`, or `auto_capture`) sets `fulfillment_status: not_required`:
//!   the sandbox has no shipments, every item behaves as `do_not_ship` (NOTES A4).
//! - `pay` requires a checkout.com payment source on the order (the real hosted checkout
//!   creates one itself, NOTES A10.2; here the shop must). Pay redirects to the order's
//!   `return_url` with `order_id=<id>` appended (`?` or `&`), else no redirect (the real
//!   hosted checkout shows its own thank-you page: UNCONFIRMED); Back to cart redirects to
//!   `cart_url`, else the page says so.

use super::{rand_id, rand_lower, Acct, Authorization, Emulator, Order};
use serde_json::{json, Value};

/// `num / den` rounded half away from zero (`den > 0`).
fn div_round_half_away(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// The tax in a line total `total` at `bp` basis points.
fn line_tax(total: i64, bp: u32, included: bool) -> i64 {
    let (t, bp) = (i128::from(total), i128::from(bp));
    let den = if included { 10_000 + bp } else { 10_000 };
    to_i64(div_round_half_away(t * bp, den))
}

fn to_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) struct LineAmounts {
    pub(super) total: i64,
    pub(super) tax: i64,
    pub(super) rate_bp: Option<u32>,
}

pub(super) struct Amounts {
    pub(super) lines: Vec<LineAmounts>,
    pub(super) subtotal: i64,
    pub(super) tax: i64,
    pub(super) total: i64,
    pub(super) taxable: i64,
    pub(super) rate_bp: Option<u32>,
}

pub(super) fn amounts(o: &Order, acct: &Acct) -> Amounts {
    let taxed = o.shipping_address.is_some();
    let included = acct.a.tax_included;
    let lines: Vec<LineAmounts> = o
        .lines
        .iter()
        .map(|l| {
            let total = to_i64(i128::from(l.unit_amount_cents) * i128::from(l.quantity));
            let rate = taxed.then(|| {
                l.sku_code
                    .as_deref()
                    .and_then(|c| acct.sku_rate(c))
                    .unwrap_or(acct.a.default_tax_rate_bp)
            });
            LineAmounts {
                total,
                tax: rate.map_or(0, |bp| line_tax(total, bp, included)),
                rate_bp: rate,
            }
        })
        .collect();
    let subtotal: i128 = lines.iter().map(|l| i128::from(l.total)).sum();
    let tax: i128 = lines.iter().map(|l| i128::from(l.tax)).sum();
    let (total, taxable) = if included {
        (subtotal, subtotal - tax)
    } else {
        (subtotal + tax, subtotal)
    };
    let first = lines.first().and_then(|l| l.rate_bp);
    let rate_bp = first.filter(|r| lines.iter().all(|l| l.rate_bp == Some(*r)));
    Amounts {
        lines,
        subtotal: to_i64(subtotal),
        tax: to_i64(tax),
        total: to_i64(total),
        taxable: to_i64(taxable),
        rate_bp,
    }
}

pub(super) fn rate_value(bp: Option<u32>) -> Value {
    bp.map_or(Value::Null, |bp| json!(f64::from(bp) / 10_000.0))
}

/// An order trigger: `(order, total_amount_with_taxes_cents, now)`.
pub(super) type Trigger = fn(&mut Order, i64, i64) -> Result<(), String>;

/// `_place` (idempotent).
pub(super) fn place(o: &mut Order, total: i64, now: i64) -> Result<(), String> {
    match o.status {
        "placed" | "approved" => Ok(()),
        "cancelled" => Err("the order is cancelled".into()),
        "draft" => Err("the order is not pending: it needs line items and a customer email or address".into()),
        _ if o.expired(now) => Err("the order has expired".into()),
        _ if total == 0 => {
            o.status = "placed";
            o.payment_status = "free";
            o.placed_at = Some(now);
            o.payment_updated_at = Some(now);
            o.place_total = Some(0);
            Ok(())
        }
        _ => Err("the payment source is not authorized: the customer pays on the hosted checkout, which places the order".into()),
    }
}

pub(super) fn approve(o: &mut Order, now: i64) -> Result<(), String> {
    if o.status != "placed" {
        return Err(format!("a {} order cannot be approved", o.status));
    }
    o.status = "approved";
    o.approved_at = Some(now);
    Ok(())
}

/// Captures an authorized payment: the order becomes approved and paid.
pub(super) fn capture(o: &mut Order, now: i64) -> Result<(), String> {
    if !matches!(o.status, "placed" | "approved") || o.payment_status != "authorized" {
        return Err(format!(
            "nothing to capture: the order is {} and {}",
            o.status, o.payment_status
        ));
    }
    if o.status == "placed" {
        o.status = "approved";
        o.approved_at = Some(now);
    }
    o.payment_status = "paid";
    o.payment_updated_at = Some(now);
    o.fulfillment_status = "not_required";
    o.fulfillment_updated_at = Some(now);
    Ok(())
}

pub(super) fn cancel(o: &mut Order, now: i64) -> Result<(), String> {
    if o.status == "cancelled" {
        return Err("the order is already cancelled".into());
    }
    if o.payment_status == "paid" {
        return Err("the payment is captured: refund instead".into());
    }
    if o.payment_status == "authorized" {
        o.payment_status = "voided";
        o.payment_updated_at = Some(now);
    }
    o.status = "cancelled";
    o.cancelled_at = Some(now);
    Ok(())
}

fn transaction_number(o: &Order) -> String {
    format!("{}/T/{:03}", o.number, o.authorizations.len() + 1)
}

/// What the customer (or a test) does on the hosted checkout; answers where the browser goes.
pub(super) fn outcome(
    e: &mut Emulator,
    id: &str,
    what: &str,
    now: i64,
) -> Result<Option<String>, String> {
    let Some(o) = e.orders.get(id) else {
        return Err(format!("order {id} was not found"));
    };
    let acct = e.acct(&o.account).clone();
    match what {
        "expire" => {
            let past = now - 1000;
            let o = e.orders.get_mut(id).expect("checked");
            o.expires_at = Some(past);
            o.updated_at = now;
            for l in e.links.values_mut().filter(|l| l.order_id == id) {
                l.expires_at = l.expires_at.min(past);
            }
            return Ok(None);
        }
        "cancel" => return Ok(o.attr_str("cart_url").map(str::to_string)),
        "capture" => {
            let o = e.orders.get_mut(id).expect("checked");
            capture(o, now)?;
            o.updated_at = now;
            return Ok(None);
        }
        "pay" | "decline" => {}
        other => return Err(format!("unknown outcome {other:?}")),
    }
    match o.status {
        "cancelled" => return Err("the order is cancelled".into()),
        "placed" | "approved" => return Err(format!("the order is already paid ({})", o.status)),
        _ => {}
    }
    if o.expired(now) {
        return Err("the order has expired".into());
    }
    if o.lines.is_empty() {
        return Err("the order has no line items".into());
    }
    let Some(pid) = o.payment_source.clone() else {
        return Err("the order has no checkout.com payment source".into());
    };
    let amount = amounts(o, &acct).total;
    let succeeded = what == "pay";
    let auth = Authorization {
        id: rand_id(10),
        number: transaction_number(o),
        succeeded,
        amount_cents: amount,
        message: if succeeded {
            "Approved"
        } else {
            "Insufficient Funds"
        }
        .into(),
        error_code: (!succeeded).then(|| "20051".to_string()),
        error_detail: (!succeeded).then(|| "Insufficient Funds".to_string()),
        gateway_transaction_id: format!("pay_{}", rand_lower(26)),
        created_at: now,
    };
    let response = json!({
        "id": auth.gateway_transaction_id,
        "status": if succeeded { "Authorized" } else { "Declined" },
        "approved": succeeded,
        "amount": amount,
        "currency": acct.a.currency,
        "response_code": if succeeded { "10000" } else { "20051" },
        "response_summary": if succeeded { "Approved" } else { "Insufficient Funds" },
    });
    if let Some(p) = e.payments.get_mut(&pid) {
        p.payment_response = Some(response);
        p.updated_at = now;
        if succeeded {
            p.authorized_amount = Some(amount);
        }
    }
    let o = e.orders.get_mut(id).expect("checked");
    o.authorizations.push(auth);
    o.updated_at = now;
    if !succeeded {
        return Ok(None);
    }
    o.status = "placed";
    o.payment_status = "authorized";
    o.placed_at = Some(now);
    o.payment_updated_at = Some(now);
    o.place_total = Some(amount);
    if acct.a.auto_capture {
        capture(o, now)?;
    }
    Ok(o.attr_str("return_url").map(|u| {
        let sep = if u.contains('?') { '&' } else { '?' };
        format!("{u}{sep}order_id={id}")
    }))
}
