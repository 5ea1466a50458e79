//! The fuzz entry point for Commerce Layer's answers and return URLs (input layout:
//! [`crate::provider::fuzz`]).

use super::{test_config, wire, CommerceLayer};
use crate::provider::common::{is_cancel_return, parse_json};
use crate::provider::fuzz::{
    clipped, covers, follows_status, http, input, session, token_read, Input,
};
use crate::provider::{OperationKind, Provider, ProviderOutcome};
use crate::session::Status;

/// Commerce Layer: 0 JSON:API error documents, 1 token answer, 2 an order document (its
/// status, and [`wire::compare`] against the sale), 3 an order list (lookup by
/// reference), 4 the return URL, 5 an order with its transactions (the payment state, and
/// what a trigger made).
pub fn response(data: &[u8]) {
    let Input {
        pick,
        resp,
        body,
        sale,
    } = input(data);
    let cl = CommerceLayer::new(test_config(), http());
    let checked = || match cl.check(resp.clone(), "fuzz") {
        Ok(r) => {
            assert!((200..300).contains(&resp.status));
            Some(r)
        }
        Err(e) => {
            follows_status(&e, &resp);
            clipped(&e);
            None
        }
    };
    let s = session(sale, "ord-1");
    let report = |o: &wire::Resource| {
        let r = cl.report(o, &s);
        covers(
            r.status,
            o.int("total_amount_with_taxes_cents"),
            o.str("currency_code"),
            sale,
        );
        if r.status == Status::Paid {
            assert_eq!(
                o.int("total_amount_with_taxes_cents"),
                Some(sale.total.gross)
            );
        }
    };
    match pick % 6 {
        0 => {
            checked();
        }
        1 => token_read(|r| cl.read_token(r), &resp, ""),
        2 => {
            let doc = checked().and_then(|r| parse_json::<wire::Doc>("commercelayer", &r).ok());
            if let Some(doc) = doc {
                report(&doc.data);
                let o = &doc.data;
                let same = o.str("currency_code") == Some(sale.currency.code())
                    && o.int("total_amount_with_taxes_cents") == Some(sale.total.gross)
                    && o.int("total_tax_amount_cents") == Some(sale.total.vat);
                match wire::compare(&doc, sale) {
                    Ok(()) => assert!(same),
                    Err(m) => assert!(!same && !m.is_empty()),
                }
            }
        }
        3 => {
            let list =
                checked().and_then(|r| parse_json::<wire::ListDoc>("commercelayer", &r).ok());
            for o in list.iter().flat_map(|l| &l.data) {
                report(o);
            }
        }
        4 => {
            // Only a cancel return acts (it cancels the order over HTTP); any other return is
            // no evidence and asks nothing.
            let url = String::from_utf8_lossy(body);
            if !is_cancel_return(&url) {
                let r = cl.returned(&s, &url).expect("no I/O for a plain return");
                assert_eq!(r, Default::default());
            }
        }
        5 => {
            let doc = checked().and_then(|r| parse_json::<wire::Doc>("commercelayer", &r).ok());
            if let Some(doc) = doc {
                payment(&doc, sale.currency.code());
            }
        }
        _ => unreachable!(),
    }
}

/// The payment state holds what the transactions say: its amounts are the succeeded
/// operations' (read back from its own list), and a trigger's new transaction is one of them.
fn payment(doc: &wire::Doc, currency: &str) {
    let list = wire::transactions(doc);
    let Ok(p) = wire::payment_state(doc, currency) else {
        return;
    };
    let succeeded = |kind: OperationKind| -> i128 {
        p.operations
            .iter()
            .filter(|o| o.kind == kind && o.outcome == ProviderOutcome::Succeeded)
            .map(|o| i128::from(o.amount))
            .sum()
    };
    assert_eq!(i128::from(p.captured), succeeded(OperationKind::Capture));
    assert_eq!(i128::from(p.refunded), succeeded(OperationKind::Refund));
    assert_eq!(
        p.voided,
        p.operations
            .iter()
            .any(|o| o.kind == OperationKind::Void && o.outcome == ProviderOutcome::Succeeded)
    );
    let kinds = ["captures", "voids", "refunds"];
    assert_eq!(
        p.operations.len(),
        list.iter()
            .filter(|t| kinds.contains(&t.kind.as_str()))
            .count()
    );
    assert!(p.capturable() >= 0 && p.refundable() >= 0);
    for kind in kinds {
        let made = wire::made_by_trigger(doc, kind, &[]);
        assert_eq!(made.is_some(), list.iter().any(|t| t.kind == kind));
        if let Some(t) = made {
            let before: Vec<String> = list
                .iter()
                .filter(|x| x.kind == kind && x.id != t.id)
                .map(|x| x.id.clone())
                .collect();
            assert_eq!(
                wire::made_by_trigger(doc, kind, &before).map(|x| x.id),
                Some(t.id)
            );
        }
    }
}
