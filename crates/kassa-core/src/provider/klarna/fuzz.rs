//! The fuzz entry point for Klarna's answers (input layout: [`crate::provider::fuzz`]).

use super::{test_config, wire, Klarna};
use crate::provider::common::parse_json;
use crate::provider::fuzz::{covers, error_reads, follows_status, http, input, Input, NOW};
use crate::session::Status;

/// Klarna: 0 error answers, 1 payments session created, 2 hosted page created, 3 hosted page
/// read, 4 Order Management order, 5 the QR image answer.
pub fn response(data: &[u8]) {
    let Input {
        pick, resp, sale, ..
    } = input(data);
    let k = Klarna::new(test_config(), http());
    let answer = || match k.answer(resp.clone(), "fuzz") {
        Ok(r) => {
            assert!((200..300).contains(&resp.status));
            Some(r)
        }
        Err(e) => {
            follows_status(&e, &resp);
            None
        }
    };
    match pick % 6 {
        0 => {
            answer();
        }
        1 => {
            if let Some(r) = answer() {
                let _ = parse_json::<wire::SessionCreated>("klarna", &r);
            }
        }
        2 => {
            let created = answer().and_then(|r| parse_json::<wire::HppCreated>("klarna", &r).ok());
            if let Some(t) = created.and_then(|c| c.expires_at) {
                let _ = crate::time::parse_utc(&t);
            }
        }
        3 => {
            let read = answer().and_then(|r| parse_json::<wire::HppRead>("klarna", &r).ok());
            if let Some(h) = read {
                match wire::hpp_state("hpp-1", &h, NOW) {
                    wire::HppState::Order(o) => {
                        assert_eq!(h.status, "COMPLETED");
                        assert_eq!(Some(o), h.order_id);
                    }
                    // The page alone is never evidence of payment.
                    wire::HppState::Done(status, _) => assert_ne!(status, Status::Paid),
                }
            }
        }
        4 => {
            let read = answer().and_then(|r| parse_json::<wire::OmOrder>("klarna", &r).ok());
            if let Some(o) = read {
                let (status, _) = wire::order_status(&o, sale.total.gross, sale.currency.code());
                if status == Status::Paid {
                    assert_eq!(o.fraud_status.as_deref(), Some("ACCEPTED"));
                }
                covers(
                    status,
                    Some(o.order_amount),
                    Some(&o.purchase_currency),
                    sale,
                );
            }
        }
        5 => {
            let url = "https://pay.playground.klarna.com/qr/hpp-1.png";
            match k.qr_data_url(url, &resp) {
                Ok(data_url) => {
                    use base64::Engine;
                    assert!((200..300).contains(&resp.status));
                    let (head, b64) = data_url.split_once(";base64,").expect("a data: URL");
                    assert!(head.starts_with("data:image/"), "{head}");
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .expect("valid base64");
                    assert_eq!(bytes, resp.body);
                    assert!(!bytes.is_empty() && bytes.len() <= 512 * 1024);
                }
                Err(e) => error_reads(&e),
            }
        }
        _ => unreachable!(),
    }
}
