//! The fuzz entry point for Bambora's answers and accept URLs (input layout:
//! [`crate::provider::fuzz`]).

use super::{test_config, wire, Bambora, BamboraConfig};
use crate::provider::common::{is_cancel_return, parse_json, query_pairs};
use crate::provider::fuzz::{
    clipped, covers, error_reads, follows_status, http, input, session, unverified_return, Input,
};
use crate::provider::{Provider, ProviderOutcome};
use crate::quote::PricedOrder;
use crate::secrets::Secret;
use crate::session::Status;

/// The MD5 key of the client whose accept URLs are signed here.
const MD5_KEY: &str = "fuzz-md5-key";

/// Bambora: 0 the `meta` envelope and HTTP status of any answer, 1 checkout session created,
/// 2 payment request created, 3 payment request read, 4 transaction, 5 accept/decline URL as
/// it came, 6 accept URL signed with the right MD5 key, 7 accept URL without an MD5 key,
/// 8 the payment state from a transaction and its operations list (one body holding both),
/// 9 the answer to a capture, credit or delete.
pub fn response(data: &[u8]) {
    let Input {
        pick,
        resp,
        body,
        sale,
    } = input(data);
    let client = |md5_key: Option<&str>| {
        Bambora::new(
            BamboraConfig {
                md5_key: md5_key.map(Secret::new),
                ..test_config()
            },
            http(),
        )
    };
    let b = client(Some(MD5_KEY));
    let answer = || {
        let r = b.answer(resp.clone(), "fuzz");
        match &r {
            Ok(_) => {
                assert!((200..300).contains(&resp.status));
                let meta = serde_json::from_slice::<wire::Envelope>(&resp.body);
                assert!(meta.is_ok_and(|e| e.meta.result));
            }
            Err(e) if !(200..300).contains(&resp.status) => follows_status(e, &resp),
            Err(e) => error_reads(e),
        }
        if let Err(e) = &r {
            clipped(e);
        }
        r.ok()
    };
    let url = String::from_utf8_lossy(body);
    match pick % 10 {
        0 => {
            answer();
        }
        1 => {
            if let Some(r) = answer() {
                let _ = parse_json::<wire::SessionCreated>("bambora", &r);
            }
        }
        2 => {
            if let Some(r) = answer() {
                let _ = parse_json::<wire::PaymentRequestCreated>("bambora", &r);
            }
        }
        3 => {
            if let Some(r) = answer() {
                let _ = parse_json::<wire::PaymentRequestRead>("bambora", &r);
            }
        }
        4 => {
            let read =
                answer().and_then(|r| parse_json::<wire::TransactionRead>("bambora", &r).ok());
            if let Some(t) = read.map(|r| r.transaction) {
                let (status, _) =
                    wire::transaction_status(&t, sale.total.gross, sale.currency.code());
                if status == Status::Paid {
                    assert!(t.total.credited <= 0);
                }
                covers(
                    status,
                    Some(t.total.authorized),
                    Some(&t.currency.code),
                    sale,
                );
            }
        }
        5 => bambora_return(&b, sale, &url, false),
        6 => {
            if let Some(signed) = signed_accept_url(&url) {
                bambora_return(&b, sale, &signed, true);
            }
        }
        7 => {
            let r = client(None)
                .returned(&session(sale, "checkout/tok"), &url)
                .expect("returned reads a URL without I/O");
            unverified_return(r, &url);
        }
        8 => {
            if let Some(r) = answer() {
                let t = parse_json::<wire::TransactionRead>("bambora", &r);
                let ops = parse_json::<wire::Operations>("bambora", &r);
                if let (Ok(t), Ok(ops)) = (t, ops) {
                    payment_state_holds(&t.transaction, &ops.transactionoperations);
                }
            }
        }
        9 => {
            if let Some(r) = answer() {
                if let Ok(ops) = parse_json::<wire::Operations>("bambora", &r) {
                    for action in ["capture", "credit", "delete"] {
                        operation_done_holds(&ops, action);
                    }
                }
            }
        }
        _ => unreachable!(),
    }
}

/// The payment state is Bambora's totals, and lists exactly its captures, credits and
/// deletes, successful only when approved.
fn payment_state_holds(t: &wire::Transaction, ops: &[wire::TransactionOperation]) {
    let p = wire::payment_state(t, ops);
    assert_eq!(
        (p.authorized, p.captured, p.refunded),
        (t.total.authorized, t.total.captured, t.total.credited)
    );
    let moving: Vec<&wire::TransactionOperation> = wire::flatten(ops)
        .into_iter()
        .filter(|o| ["capture", "credit", "delete"].contains(&o.action.as_str()))
        .collect();
    assert_eq!(p.operations.len(), moving.len());
    for (o, w) in p.operations.iter().zip(&moving) {
        assert_eq!(o.provider_id.as_deref(), Some(w.id.0.as_str()));
        assert_eq!(o.amount, w.amount);
        assert!(o.reference.is_none());
        let approved = w.status == "approved";
        assert_eq!(o.outcome == ProviderOutcome::Succeeded, approved);
        if w.action == "delete" && approved {
            assert!(p.voided);
        }
    }
}

/// An answer is done only with an approved operation of the action asked for.
fn operation_done_holds(ops: &wire::Operations, action: &str) {
    match wire::operation_done(ops, action) {
        Ok(Some(op)) => assert!(op.action == action && op.status == "approved"),
        Ok(None) => assert!(wire::flatten(&ops.transactionoperations)
            .iter()
            .all(|o| o.action != action)),
        Err((message, _)) => assert!(message.contains(action)),
    }
}

/// The MD5 of an accept URL as NOTES §4.7 defines it, computed here independently of
/// [`wire::hash_matches`]: the values of Bambora's parameters (from the first
/// `txnid` on; the shop's own come before it) in order, without `hash`, then the key.
fn accept_hash(params: &[(String, String)]) -> String {
    use md5::{Digest, Md5};
    let start = params
        .iter()
        .position(|(k, _)| k == "txnid")
        .unwrap_or(params.len());
    let mut md5 = Md5::new();
    for (_, v) in params[start..].iter().filter(|(k, _)| k != "hash") {
        md5.update(v.as_bytes());
    }
    md5.update(MD5_KEY.as_bytes());
    md5.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `url` with the right `hash` appended, when it has no hash and no fragment of its own.
fn signed_accept_url(url: &str) -> Option<String> {
    if url.contains('#') || query_pairs(url).iter().any(|(k, _)| k == "hash") {
        return None;
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!(
        "{url}{sep}hash={}",
        accept_hash(&query_pairs(&format!("{url}{sep}")))
    ))
}

fn bambora_return(b: &Bambora, sale: &PricedOrder, url: &str, signed: bool) {
    let r = b
        .returned(&session(sale, "checkout/tok"), url)
        .expect("returned reads a URL without I/O");
    let params = query_pairs(url);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if is_cancel_return(url) {
        assert_eq!(r.report.map(|r| r.status), Some(Status::Cancelled));
        return;
    }
    match &r.payment_id {
        Some(txnid) => {
            // Accepted: the hash was right, the order is this sale's; the status is asked next.
            assert!(r.report.is_none());
            assert_eq!(Some(txnid), get("txnid"));
            assert!(get("hash").is_some_and(|h| h.eq_ignore_ascii_case(&accept_hash(&params))));
            let order = wire::order_id(&sale.reference);
            assert!(get("orderid").is_none_or(|o| *o == order));
        }
        None => {
            assert_eq!(r.report.map(|r| r.status), Some(Status::NeedsReview));
            if signed {
                // A correctly signed URL is refused only without a txnid or for another order.
                let order = wire::order_id(&sale.reference);
                assert!(get("txnid").is_none() || get("orderid").is_some_and(|o| *o != order));
            }
        }
    }
}
