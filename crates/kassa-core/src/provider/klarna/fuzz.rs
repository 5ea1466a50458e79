//! The fuzz entry point for Klarna's answers (input layout: [`crate::provider::fuzz`]).

use super::{test_config, wire, Klarna};
use crate::provider::common::parse_json;
use crate::provider::fuzz::{covers, error_reads, follows_status, http, input, Input, NOW};
use crate::session::Status;

/// Klarna: 0 error answers, 1 payments session created, 2 hosted page created, 3 hosted page
/// read, 4 Order Management order (as a status and as a payment's money), 5 the QR image
/// answer, 6 a capture's or refund's answer (the body's text is its `Capture-Id` header).
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
    match pick % 7 {
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
                if let Ok(p) = wire::payment_state(&o, sale.currency.code()) {
                    assert_eq!(Some(p.captured), o.captured_amount);
                    assert_eq!(Some(p.refunded), o.refunded_amount);
                    assert!(p.authorized >= 0 && p.captured >= 0 && p.refunded >= 0);
                    assert!(!p.voided || p.capturable() == 0);
                    assert!(p.authorization_expires_at.is_none() || p.capturable() > 0);
                    assert!(p.operations.iter().all(|op| op.amount >= 0));
                    assert!(p.operations.len() >= o.captures.len() + o.refunds.len());
                }
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
        6 => {
            let id = String::from_utf8_lossy(resp.body.get(..300).unwrap_or(&resp.body));
            let mut resp = resp.clone();
            resp.headers = vec![("capture-id".into(), id.into_owned())];
            match k.answer(resp.clone(), "fuzz") {
                Ok(r) => match k.created_id(&r, "Capture-Id") {
                    Ok(id) => {
                        assert_eq!(r.status, 201);
                        assert!(!id.is_empty() && id.len() <= 255);
                        assert_eq!(Some(id.as_str()), r.header("Capture-Id").map(str::trim));
                    }
                    Err(e) => error_reads(&e),
                },
                Err(e) => follows_status(&e, &resp),
            }
        }
        _ => unreachable!(),
    }
}
