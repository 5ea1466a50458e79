//! The payment gateway behind an order (checkout.com): its transactions (authorizations,
//! captures, voids, refunds), their balances, and the order's `payment_status` derived from
//! them. Not for: the resources' rendering and requests (`transactions.rs`) or the order's own
//! triggers (`rules.rs`, which call these).
//!
//! Rules (`../shared/providers/commercelayer/core-api-public-resources.json` = CL, and
//! `notes/19-after-sale-facts.md` §4):
//! - A capture draws on a succeeded authorization: `0 < amount ≤ capture_balance_cents`
//!   (the amount less its succeeded captures and voids), default the whole balance (CL
//!   `_capture_amount_cents`, "overwrite the amount to be captured"). A refund draws on a
//!   succeeded capture: `0 < amount ≤ refund_balance_cents` (the capture less its succeeded
//!   refunds), default the balance. A void takes the authorization's `void_balance_cents`.
//!   Beyond a balance: `422 VALIDATION_ERROR` at the amount's pointer (`meta.error`
//!   `less_than_or_equal_to`, `meta.count` the balance); nothing left, or a failed or wrong
//!   parent: `422` at the trigger (`meta.error` `invalid_transition`).
//! - A gateway failure is not an HTTP error (NOTES A13, CL-DOCS-OLD): the trigger answers 200
//!   and the transaction is recorded with `succeeded: false`, `message`, `error_code`,
//!   `error_detail`; balances and statuses do not move.
//! - `payment_status` (CL order enum): with succeeded authorizations A, captures C, voids V and
//!   refunds R: `refunded` when `R ≥ C > 0` and nothing is left to capture (the order is then
//!   `cancelled`, NOTES A12 "full refund"), `partially_refunded` for any other `R > 0`, `paid`
//!   when `C > 0` and nothing is left, `partially_paid` for `C > 0` with a balance left,
//!   `voided` / `partially_voided` likewise for V, else `authorized`.
//!
//! Our choices (the real behaviour is UNCONFIRMED):
//! - `void_balance_cents` is 0 once anything of the authorization was captured: checkout.com
//!   voids authorizations that were not captured; whether Commerce Layer voids the rest of a
//!   partly captured one is not documented.
//! - `capture_amount_cents` / `refund_amount_cents` ("the amount to be captured/refunded")
//!   show what the trigger without an amount would take: the balance.
//! - A declined capture, void or refund says checkout.com's `20005` "Declined - Do not
//!   honour"; the control `PUT /_control/commercelayer/gateway {"decline": [...]}` decides
//!   which kinds are declined.

use super::{rand_id, rand_lower, Order, Transaction, TxKind};
use serde_json::{json, Value};

/// Why a trigger was refused: the attribute it points at, the message, and `meta`.
pub(super) struct Refusal {
    pub(super) attr: &'static str,
    pub(super) message: String,
    pub(super) meta: Value,
}

impl Refusal {
    /// The trigger does not apply to the resource in its state.
    pub(super) fn transition(attr: &'static str, message: String, status: &str) -> Refusal {
        Refusal {
            attr,
            message,
            meta: json!({"error": "invalid_transition", "status": status}),
        }
    }

    fn amount(attr: &'static str, amount: i64, balance: i64) -> Refusal {
        if amount <= 0 {
            Refusal {
                attr,
                message: "must be greater than 0".into(),
                meta: json!({"error": "greater_than", "value": amount, "count": 0}),
            }
        } else {
            Refusal {
                attr,
                message: format!("must be less than or equal to {balance}"),
                meta: json!({"error": "less_than_or_equal_to", "value": amount, "count": balance}),
            }
        }
    }
}

/// Σ of the succeeded transactions of `kind` drawing on `parent`.
fn drawn(o: &Order, parent: &str, kinds: &[TxKind]) -> i64 {
    o.transactions
        .iter()
        .filter(|t| t.succeeded && kinds.contains(&t.kind) && t.parent.as_deref() == Some(parent))
        .map(|t| t.amount_cents)
        .sum()
}

/// What of an authorization can still be captured.
pub(super) fn capture_balance(o: &Order, auth: &Transaction) -> i64 {
    if auth.kind != TxKind::Authorization || !auth.succeeded {
        return 0;
    }
    (auth.amount_cents - drawn(o, &auth.id, &[TxKind::Capture, TxKind::Void])).max(0)
}

/// What of an authorization can be voided: all of it while nothing was captured.
pub(super) fn void_balance(o: &Order, auth: &Transaction) -> i64 {
    if drawn(o, &auth.id, &[TxKind::Capture]) > 0 {
        0
    } else {
        capture_balance(o, auth)
    }
}

/// What of a capture can still be refunded.
pub(super) fn refund_balance(o: &Order, capture: &Transaction) -> i64 {
    if capture.kind != TxKind::Capture || !capture.succeeded {
        return 0;
    }
    (capture.amount_cents - drawn(o, &capture.id, &[TxKind::Refund])).max(0)
}

/// The order's transaction `id`, if it is of `kind`.
fn find<'o>(o: &'o Order, id: &str, kind: TxKind) -> Option<&'o Transaction> {
    o.transactions.iter().find(|t| t.id == id && t.kind == kind)
}

/// The authorization the order's triggers act on: the newest succeeded one.
pub(super) fn open_authorization(o: &Order) -> Option<String> {
    o.transactions(TxKind::Authorization)
        .filter(|t| t.succeeded)
        .last()
        .map(|t| t.id.clone())
}

/// Records a transaction as the gateway answered it and returns its id.
pub(super) fn record(
    o: &mut Order,
    kind: TxKind,
    parent: Option<&str>,
    amount: i64,
    declined: bool,
    now: i64,
) -> String {
    let (message, error) = match (kind, declined) {
        (TxKind::Authorization, true) => ("Insufficient Funds", Some("20051")),
        (_, true) => ("Declined - Do not honour", Some("20005")),
        (_, false) => ("Approved", None),
    };
    let t = Transaction {
        id: rand_id(10),
        kind,
        number: format!("{}/T/{:03}", o.number, o.transactions.len() + 1),
        succeeded: !declined,
        amount_cents: amount,
        message: message.into(),
        error_code: error.map(str::to_string),
        error_detail: error.map(|_| message.to_string()),
        gateway_transaction_id: format!("pay_{}", rand_lower(26)),
        parent: parent.map(str::to_string),
        attrs: Default::default(),
        created_at: now,
        updated_at: now,
    };
    let id = t.id.clone();
    o.transactions.push(t);
    settle(o, now);
    id
}

/// `_capture` on authorization `auth_id` (with `_capture_amount_cents` = `amount`): the order
/// must be placed or approved. Answers the capture's id (failed or not).
pub(super) fn capture(
    o: &mut Order,
    auth_id: &str,
    amount: Option<i64>,
    declined: bool,
    now: i64,
) -> Result<String, Refusal> {
    let auth = find(o, auth_id, TxKind::Authorization).expect("the caller found it");
    let refuse = |m: String| Refusal::transition("_capture", m, o.status);
    if !matches!(o.status, "placed" | "approved") {
        return Err(refuse(format!(
            "nothing to capture: the order is {} (only a placed or approved order is captured)",
            o.status
        )));
    }
    if !auth.succeeded {
        return Err(refuse("the authorization did not succeed".into()));
    }
    let balance = capture_balance(o, auth);
    if balance == 0 {
        return Err(refuse(format!(
            "nothing to capture: the order is {} and {}",
            o.status, o.payment_status
        )));
    }
    let amount = amount.unwrap_or(balance);
    if amount <= 0 || amount > balance {
        return Err(Refusal::amount("_capture_amount_cents", amount, balance));
    }
    let id = record(o, TxKind::Capture, Some(auth_id), amount, declined, now);
    if !declined {
        // The sandbox has no shipments: every item behaves as `do_not_ship` (NOTES A4).
        o.fulfillment_status = "not_required";
        o.fulfillment_updated_at = Some(now);
    }
    Ok(id)
}

/// `_void` on authorization `auth_id` (`pending`: the authorization's `_cancel`, "void a
/// succeeded authorization of a pending order", else the order must be placed or approved).
pub(super) fn void(
    o: &mut Order,
    auth_id: &str,
    trigger: &'static str,
    declined: bool,
    now: i64,
) -> Result<String, Refusal> {
    let auth = find(o, auth_id, TxKind::Authorization).expect("the caller found it");
    let refuse = |m: String| Refusal::transition(trigger, m, o.status);
    let unplaced = matches!(o.status, "draft" | "pending");
    match (trigger, unplaced) {
        ("_cancel", false) => {
            return Err(refuse(format!(
                "the order is {}: _cancel voids an authorization of a pending order (use _void, or the order's _cancel)",
                o.status
            )))
        }
        ("_void", true) => {
            return Err(refuse(format!(
                "the order is {}: void an authorization of an unplaced order with _cancel",
                o.status
            )))
        }
        _ if !unplaced && !matches!(o.status, "placed" | "approved") => {
            return Err(refuse(format!("the order is {}", o.status)))
        }
        _ => {}
    }
    if !auth.succeeded {
        return Err(refuse("the authorization did not succeed".into()));
    }
    if drawn(o, auth_id, &[TxKind::Capture]) > 0 {
        return Err(refuse(
            "the authorization is captured: refund its captures instead".into(),
        ));
    }
    let balance = void_balance(o, auth);
    if balance == 0 {
        return Err(refuse(
            "nothing to void: the authorization is voided".into(),
        ));
    }
    Ok(record(
        o,
        TxKind::Void,
        Some(auth_id),
        balance,
        declined,
        now,
    ))
}

/// `_refund` on capture `capture_id` (with `_refund_amount_cents` = `amount`).
pub(super) fn refund(
    o: &mut Order,
    capture_id: &str,
    amount: Option<i64>,
    declined: bool,
    now: i64,
) -> Result<String, Refusal> {
    let capture = find(o, capture_id, TxKind::Capture).expect("the caller found it");
    let refuse = |m: String| Refusal::transition("_refund", m, o.status);
    if !capture.succeeded {
        return Err(refuse(
            "the capture did not succeed: nothing was captured to refund".into(),
        ));
    }
    let balance = refund_balance(o, capture);
    if balance == 0 {
        return Err(refuse(
            "nothing to refund: the capture is refunded in full".into(),
        ));
    }
    let amount = amount.unwrap_or(balance);
    if amount <= 0 || amount > balance {
        return Err(Refusal::amount("_refund_amount_cents", amount, balance));
    }
    Ok(record(
        o,
        TxKind::Refund,
        Some(capture_id),
        amount,
        declined,
        now,
    ))
}

/// Derives `payment_status` from the succeeded transactions (once an authorization
/// succeeded); a payment refunded in full cancels the order.
pub(super) fn settle(o: &mut Order, now: i64) {
    let sum = |kind| -> i64 {
        o.transactions(kind)
            .filter(|t| t.succeeded)
            .map(|t| t.amount_cents)
            .sum()
    };
    if !o.transactions(TxKind::Authorization).any(|t| t.succeeded) {
        return;
    }
    let unplaced = matches!(o.status, "draft" | "pending");
    let authorized = sum(TxKind::Authorization);
    let captured = sum(TxKind::Capture);
    let voided = sum(TxKind::Void);
    let refunded = sum(TxKind::Refund);
    let open = authorized - captured - voided;
    let status = if refunded > 0 {
        if refunded >= captured && open <= 0 {
            "refunded"
        } else {
            "partially_refunded"
        }
    } else if captured > 0 {
        if open <= 0 {
            "paid"
        } else {
            "partially_paid"
        }
    } else if voided > 0 {
        if unplaced {
            "unpaid"
        } else if open <= 0 {
            "voided"
        } else {
            "partially_voided"
        }
    } else {
        "authorized"
    };
    if status != o.payment_status {
        o.payment_status = status;
        o.payment_updated_at = Some(now);
    }
    if status == "refunded" && o.status != "cancelled" {
        o.status = "cancelled";
        o.cancelled_at = Some(now);
    }
}
