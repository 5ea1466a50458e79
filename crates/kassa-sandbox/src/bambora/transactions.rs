//! A payment's transaction after the sale: the Merchant API's reads (`GET /transactions/{txnid}`
//! and `…/transactionoperations`) and the Transaction API's capture, credit and delete (`POST
//! /transactions/{txnid}/capture|credit|delete`): the handlers and answer shapes; what each
//! may do is in `rules.rs`.

use super::rules::{operate, validate_operation};
use super::{
    bad_request, conflict, json_body, not_found, ok, unauthorized, Emulator, Operation, Transaction,
};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kassa_core::money::Currency;
use kassa_core::time::format_rfc3339;
use serde_json::{json, Value};
use std::sync::Arc;

/// The transaction `txnid` of the caller's merchant: 401 without a valid API key, 404 when
/// the merchant has no such transaction.
fn merchant_transaction<'a>(
    e: &'a Emulator,
    headers: &HeaderMap,
    txnid: &str,
) -> Result<&'a Transaction, Box<Response>> {
    let merchant = e
        .merchant(headers)
        .ok_or_else(|| Box::new(unauthorized()))?;
    e.transactions
        .get(txnid)
        .filter(|t| t.merchant == merchant)
        .ok_or_else(|| Box::new(not_found(&format!("transaction {txnid}"))))
}

fn currency(t: &Transaction) -> Value {
    let digits = Currency::from_code(&t.currency).map_or(2, |c| c.digits());
    json!({"code": t.currency, "minorunits": digits})
}

fn status(t: &Transaction) -> &'static str {
    if t.deleted {
        "deleted"
    } else if t.captured > 0 {
        "captured"
    } else {
        "authorized"
    }
}

/// Answers a read of the caller's transaction `txnid` with `body` of it (401, 404 as
/// [`merchant_transaction`]).
fn read(
    s: &Shared,
    headers: &HeaderMap,
    txnid: &str,
    body: impl FnOnce(&Transaction) -> Value,
) -> Response {
    let e = s.bambora.lock().unwrap();
    match merchant_transaction(&e, headers, txnid) {
        Ok(t) => ok(body(t)),
        Err(answer) => *answer,
    }
}

pub(super) async fn get_transaction(
    State(s): State<Arc<Shared>>,
    Path(txnid): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&s, &headers, &txnid, |t| {
        json!({"transaction": {
            "id": t.id,
            "orderid": t.order_id,
            "merchantnumber": t.merchant,
            "reference": t.reference,
            "status": status(t),
            "createddate": format_rfc3339(t.created_at),
            "currency": currency(t),
            "total": {
                "authorized": t.authorized,
                "balance": t.captured - t.credited,
                "captured": t.captured,
                "credited": t.credited,
                "declined": 0,
                "feeamount": 0,
            },
            "available": {"capture": t.available_capture(), "credit": t.available_credit()},
            "candelete": t.can_delete(),
        }})
    })
}

/// One operation as the API shows it, with the operations it holds.
fn operation_json(t: &Transaction, op: &Operation) -> Value {
    let children: Vec<Value> = t
        .operations
        .iter()
        .filter(|c| c.parent == Some(op.id))
        .map(|c| operation_json(t, c))
        .collect();
    json!({
        "id": op.id,
        "action": op.action,
        "subaction": op.subaction,
        "status": if op.approved { "approved" } else { "declined" },
        "amount": op.amount,
        "currency": currency(t),
        "createddate": format_rfc3339(op.created_at),
        "orderid": t.order_id,
        "acquirername": "sandbox",
        "actioncode": if op.approved { "000" } else { "905" },
        "actionsource": "ePay",
        "parenttransactionoperationid": op.parent,
        "transactionoperations": children,
    })
}

pub(super) async fn get_operations(
    State(s): State<Arc<Shared>>,
    Path(txnid): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&s, &headers, &txnid, |t| {
        let roots: Vec<Value> = t
            .operations
            .iter()
            .filter(|op| op.parent.is_none())
            .map(|op| operation_json(t, op))
            .collect();
        json!({"transactionoperations": roots})
    })
}

/// Applies a capture, credit or delete and answers the new operation, or Bambora's refusal (a
/// 409 naming the rule).
fn apply(e: &mut Emulator, txnid: &str, action: &'static str, amount: i64) -> Response {
    match operate(e, txnid, action, amount) {
        Ok(id) => {
            let t = &e.transactions[txnid];
            let op = t
                .operations
                .iter()
                .find(|op| op.id == id)
                .expect("recorded");
            ok(json!({"transactionoperations": [operation_json(t, op)]}))
        }
        Err(why) => conflict(&why),
    }
}

/// `POST /transactions/{txnid}/capture`, `…/credit` and `…/delete`: the API key, the
/// transaction, the body (a delete takes none: the plugins post none, and one sent anyway is
/// not read, OURS), then the rules.
pub(super) async fn operation(
    State(s): State<Arc<Shared>>,
    Path((txnid, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let action = match action.as_str() {
        "capture" => "capture",
        "credit" => "credit",
        "delete" => "delete",
        other => return not_found(&format!("the transaction operation {other:?}")),
    };
    let mut e = s.bambora.lock().unwrap();
    let currency = match merchant_transaction(&e, &headers, &txnid) {
        Ok(t) => t.currency.clone(),
        Err(answer) => return *answer,
    };
    if action == "delete" {
        return apply(&mut e, &txnid, action, 0);
    }
    let v = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(problem) => return bad_request(vec![problem]),
    };
    match validate_operation(&v, &currency) {
        Ok(amount) => apply(&mut e, &txnid, action, amount),
        Err(problems) => bad_request(problems),
    }
}
