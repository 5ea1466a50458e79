//! The fuzz entry point for Dintero's answers (input layout: [`crate::provider::fuzz`]).

use super::{test_config, wire, Dintero};
use crate::provider::common::parse_json;
use crate::provider::fuzz::{
    clipped, covers, error_reads, follows_status, http, input, token_read, Input, EXPIRES_AT, NOW,
};
use crate::provider::{OperationKind, ProviderOutcome};
use crate::session::Status;

/// Dintero: 0 error answers, 1 token answer, 2 sessions-profile answer, 3 session, 4
/// transaction, 5 transaction list (lookup by reference), 6 a transaction as the payment's
/// record (captured, refunded, operations), 7 a transaction as the answer to a refund.
pub fn response(data: &[u8]) {
    let Input {
        pick, resp, sale, ..
    } = input(data);
    let client = Dintero::new(test_config(), http()).expect("a valid test config");
    match pick % 8 {
        0 => match client.check(resp.clone(), "fuzz") {
            Ok(r) => {
                assert!((200..300).contains(&resp.status));
                assert_eq!(r.body, resp.body);
            }
            Err(e) => {
                follows_status(&e, &resp);
                clipped(&e);
            }
        },
        1 => token_read(|r| client.read_token(r), &resp, "Bearer "),
        2 => match client.created(&resp, EXPIRES_AT, None) {
            Ok(c) => {
                assert_eq!(c.qr_payload, c.checkout_url);
                assert!(c.expires_at.is_some());
            }
            Err(e) => error_reads(&e),
        },
        3 => {
            if let Ok(s) = parse_json::<wire::SessionRead>("dintero", &resp) {
                match wire::session_state(&s, NOW) {
                    wire::SessionState::HasTransaction(t) => {
                        assert_eq!(Some(t), s.transaction_id)
                    }
                    wire::SessionState::Done(status, _) => {
                        // A session without its transaction is never evidence of payment.
                        assert!(s.transaction_id.is_none());
                        assert_ne!(status, Status::Paid);
                    }
                }
            }
        }
        4 | 5 => {
            let list = if pick % 8 == 4 {
                parse_json::<wire::Transaction>("dintero", &resp).map(|t| vec![t])
            } else {
                parse_json::<Vec<wire::Transaction>>("dintero", &resp)
            };
            for t in list.iter().flatten() {
                let (status, _) =
                    wire::transaction_status(t, sale.total.gross, sale.currency.code());
                if status == Status::Paid {
                    assert!(matches!(
                        t.status.as_str(),
                        "AUTHORIZED" | "CAPTURED" | "PARTIALLY_CAPTURED"
                    ));
                }
                covers(status, Some(t.amount), Some(&t.currency), sale);
            }
        }
        6 => {
            if let Ok(t) = parse_json::<wire::Transaction>("dintero", &resp) {
                if let Ok(state) = wire::payment_state(&t) {
                    // The figures are the sums of the successful operations, nothing else.
                    let sum = |k| {
                        state
                            .operations
                            .iter()
                            .filter(|o| o.kind == k && o.outcome == ProviderOutcome::Succeeded)
                            .map(|o| o.amount)
                            .sum::<i64>()
                    };
                    assert_eq!(state.captured, sum(OperationKind::Capture));
                    assert_eq!(state.refunded, sum(OperationKind::Refund));
                    assert!(state.authorized == 0 || state.authorized == t.amount);
                }
            }
        }
        7 => {
            if let Ok(t) = parse_json::<wire::Transaction>("dintero", &resp) {
                if let Ok(a) = wire::operation_answer(&t, OperationKind::Refund, Some("OP-1")) {
                    // Only an event of this refund, not failed, is an answer.
                    assert!(!a.pending);
                    assert!(t.events.iter().any(|e| e.event == "REFUND"
                        && e.event_reference.as_deref() == Some("OP-1")
                        && e.success != Some(false)));
                }
            }
        }
        _ => unreachable!(),
    }
}
