//! The arithmetic (line and order amounts, taxes) and the order's state machine: the
//! triggers `_place`, `_approve`, `_approve_and_capture`, `_capture`, `_cancel` and what the
//! hosted checkout's outcomes do. The transactions they make and their balances are
//! `gateway.rs`.
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
//!   `placed_at`, `payment_updated_at`); with the account's `auto_capture` a capture of the
//!   whole authorization follows at once (`paid`). `decline` records a failed authorization
//!   (`error_code` 20051, "Insufficient Funds", `payment_response.status: Declined`) and leaves
//!   the order as it was. `authorize` records a succeeded authorization without placing the
//!   order (as when placement fails afterwards: `pending` + `authorized`; `_place` then places
//!   it). `capture` is the back office's approve and capture (`approved`/`paid`). `cancel` (the
//!   customer's "Back to cart") changes nothing. `expire` moves the order's `expires_at` (and
//!   its links' `expires_at`) into the past; an expired order cannot be paid.
//! - Order triggers (CL order fields): `_approve_and_capture` only on a `placed` order ("approve
//!   and capture a placed order"): captures the whole open authorization, then `approved`.
//!   `_capture` only on an `approved` order ("capture an authorized order"; CL's dashboard
//!   offers it in `approved:authorized` only). `_cancel` only on a `placed` order ("cancel a
//!   placed order. The order's authorization will be automatically voided", and the dashboard
//!   offers it for `placed:*` only): voids the open authorization → `cancelled` + `voided`;
//!   on `draft`/`pending`/`placing`/`editing` → `422` at `/data/attributes/_cancel`, detail
//!   "_cancel - a pending order is not placed: only placed orders can be cancelled (let it
//!   expire instead)", `meta {"error": "invalid_transition", "status": "pending"}` (the shape
//!   of notes §4.3; CL's exact text is UNCONFIRMED); on a captured order → `422` "the payment
//!   is captured: refund instead"; on `approved` → `422` (void the authorization instead).
//!   Every refusal of a trigger is `422 VALIDATION_ERROR` at the trigger's pointer with
//!   `meta.error` `invalid_transition` and the order's `status`.
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
//! - `auto_capture` leaves the order `placed` + `paid` (CL's dashboard has actions for
//!   `placed:paid` orders, notes §4.1; that it does not approve the order is UNCONFIRMED). A
//!   capture or void the gateway declines leaves the order as it was (`_approve_and_capture`
//!   does not approve, `_cancel` does not cancel): the trigger still answers 200.
//! - A succeeded capture sets `fulfillment_status: not_required`: the sandbox has no
//!   shipments, every item behaves as `do_not_ship` (NOTES A4).
//! - `pay` requires a checkout.com payment source on the order (the real hosted checkout
//!   creates one itself, NOTES A10.2; here the shop must). Pay redirects to the order's
//!   `return_url` with `order_id=<id>` appended (`?` or `&`), else no redirect (the real
//!   hosted checkout shows its own thank-you page: UNCONFIRMED); Back to cart redirects to
//!   `cart_url`, else the page says so.

use super::gateway::{
    capture, capture_balance, open_authorization, record, void, void_balance, Refusal,
};
use super::{Acct, Emulator, Order, TxKind};
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

/// `_place` (idempotent).
pub(super) fn place(o: &mut Order, total: i64, now: i64) -> Result<(), Refusal> {
    let refuse = |m: &str| Refusal::transition("_place", m.into(), o.status);
    match o.status {
        "placed" | "approved" => Ok(()),
        "cancelled" => Err(refuse("the order is cancelled")),
        "draft" => Err(refuse("the order is not pending: it needs line items and a customer email or address")),
        _ if o.expired(now) => Err(refuse("the order has expired")),
        _ if o.payment_status == "authorized" => {
            // Authorized before (the placement failed then): placing takes that authorization.
            o.status = "placed";
            o.placed_at = Some(now);
            o.place_total = Some(total);
            Ok(())
        }
        _ if total == 0 => {
            o.status = "placed";
            o.payment_status = "free";
            o.placed_at = Some(now);
            o.payment_updated_at = Some(now);
            o.place_total = Some(0);
            Ok(())
        }
        _ => Err(refuse("the payment source is not authorized: the customer pays on the hosted checkout, which places the order")),
    }
}

pub(super) fn approve(o: &mut Order, now: i64) -> Result<(), Refusal> {
    if o.status != "placed" {
        return Err(Refusal::transition(
            "_approve",
            format!("a {} order cannot be approved", o.status),
            o.status,
        ));
    }
    o.status = "approved";
    o.approved_at = Some(now);
    Ok(())
}

/// The order's authorization with something to capture, else why there is none.
fn authorization_to_capture(o: &Order, trigger: &'static str) -> Result<String, Refusal> {
    open_authorization(o)
        .filter(|id| {
            let auth = o.transactions.iter().find(|t| &t.id == id);
            auth.is_some_and(|a| capture_balance(o, a) > 0)
        })
        .ok_or_else(|| {
            Refusal::transition(
                trigger,
                format!(
                    "nothing to capture: the order is {} and {}",
                    o.status, o.payment_status
                ),
                o.status,
            )
        })
}

/// `_approve_and_capture`: a placed order's whole open authorization is captured and the
/// order approved; a capture the gateway declines leaves the order placed (OURS).
pub(super) fn approve_and_capture(o: &mut Order, declined: bool, now: i64) -> Result<(), Refusal> {
    if o.status != "placed" {
        return Err(Refusal::transition(
            "_approve_and_capture",
            format!(
                "a {} order cannot be approved and captured (only a placed one)",
                o.status
            ),
            o.status,
        ));
    }
    let auth = authorization_to_capture(o, "_approve_and_capture")?;
    capture(o, &auth, None, declined, now).map_err(|r| Refusal {
        attr: "_approve_and_capture",
        ..r
    })?;
    if !declined {
        o.status = "approved";
        o.approved_at = Some(now);
    }
    Ok(())
}

/// The order's `_capture`: an approved order's whole open authorization is captured.
pub(super) fn capture_order(o: &mut Order, declined: bool, now: i64) -> Result<(), Refusal> {
    let auth = authorization_to_capture(o, "_capture")?;
    if o.status != "approved" {
        return Err(Refusal::transition(
            "_capture",
            format!(
                "a {} order cannot be captured: approve it first, or use _approve_and_capture",
                o.status
            ),
            o.status,
        ));
    }
    capture(o, &auth, None, declined, now).map(|_| ())
}

/// The order's `_cancel`: only a placed order, whose open authorization is voided (CL: "cancel
/// a placed order. The order's authorization will be automatically voided"). A void the
/// gateway declines leaves the order placed (OURS).
pub(super) fn cancel(o: &mut Order, declined: bool, now: i64) -> Result<(), Refusal> {
    let refuse = |m: String| Refusal::transition("_cancel", m, o.status);
    let captured = o.transactions(TxKind::Capture).any(|t| t.succeeded);
    match o.status {
        "cancelled" => return Err(refuse("the order is already cancelled".into())),
        "draft" | "pending" | "placing" | "editing" => {
            return Err(refuse(format!(
            "a {} order is not placed: only placed orders can be cancelled (let it expire instead)",
            o.status
        )))
        }
        _ if captured => return Err(refuse("the payment is captured: refund instead".into())),
        "placed" => {}
        _ => {
            return Err(refuse(format!(
                "an {} order cannot be cancelled: void its authorization instead",
                o.status
            )))
        }
    }
    if let Some(auth) = open_authorization(o) {
        let a = o.transactions.iter().find(|t| t.id == auth).expect("found");
        if void_balance(o, a) > 0 {
            void(o, &auth, "_void", declined, now).map_err(|r| Refusal {
                attr: "_cancel",
                ..r
            })?;
            if declined {
                return Ok(());
            }
        }
    }
    o.status = "cancelled";
    o.cancelled_at = Some(now);
    Ok(())
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
            // The shop's back office: approve and capture (or capture an approved order).
            let o = e.orders.get_mut(id).expect("checked");
            let r = if o.status == "placed" {
                approve_and_capture(o, false, now)
            } else {
                capture_order(o, false, now)
            };
            r.map_err(|r| r.message)?;
            o.updated_at = now;
            return Ok(None);
        }
        "pay" | "decline" | "authorize" => {}
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
    if o.payment_status == "authorized" {
        return Err("the order's payment is already authorized".into());
    }
    let Some(pid) = o.payment_source.clone() else {
        return Err("the order has no checkout.com payment source".into());
    };
    let amount = amounts(o, &acct).total;
    let succeeded = what != "decline";
    let o = e.orders.get_mut(id).expect("checked");
    let auth = record(o, TxKind::Authorization, None, amount, !succeeded, now);
    o.updated_at = now;
    let gateway_id = o
        .transactions
        .last()
        .expect("recorded")
        .gateway_transaction_id
        .clone();
    let response = json!({
        "id": gateway_id,
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
    if what != "pay" {
        // Declined, or authorized but not placed (as when placement fails afterwards).
        return Ok(None);
    }
    let o = e.orders.get_mut(id).expect("checked");
    o.status = "placed";
    o.payment_status = "authorized";
    o.placed_at = Some(now);
    o.payment_updated_at = Some(now);
    o.place_total = Some(amount);
    if acct.a.auto_capture {
        // The payment method captures by itself; the order stays placed (Commerce Layer's
        // dashboard handles `placed` + `paid` orders: UNCONFIRMED, notes §4.1).
        capture(o, &auth, None, false, now).map_err(|r| r.message)?;
    }
    Ok(o.attr_str("return_url").map(|u| {
        let sep = if u.contains('?') { '&' } else { '?' };
        format!("{u}{sep}order_id={id}")
    }))
}
