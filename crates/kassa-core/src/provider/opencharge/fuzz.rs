//! The fuzz entry point for Opencharge's answers, return URLs and signatures (input layout:
//! [`crate::provider::fuzz`]).

use super::{sign, test_config, wire, Mode, Opencharge};
use crate::http::Response;
use crate::provider::fuzz::{
    error_reads, follows_status, http, input, session, unverified_return, Input, EXPIRES_AT, NOW,
};
use crate::provider::{ErrorKind, Provider};

/// Opencharge: 0 refusals (error bodies), 1 `/checkout/create` answer, 2 `/orders/checkout`
/// answer, 3 the gateway's clock from `Date` (the body's first line) or `serverTime`, then a
/// create answer, 4 the return URL, 5 a signature check (the body's first line is the
/// signature), 6 sign and verify the body, 7 the canonical JSON of signed objects.
pub fn response(data: &[u8]) {
    let Input {
        pick,
        mut resp,
        body,
        sale,
    } = input(data);
    let client = |mode| Opencharge::new(test_config(mode), http()).expect("a valid test key");
    let created = |oc: &Opencharge, resp: &Response, corrected: bool| match oc
        .created(resp, "ks_1", EXPIRES_AT, corrected)
    {
        Ok(c) => {
            assert!(c.expires_at.is_some_and(|t| t <= EXPIRES_AT));
            assert!(c.checkout_url.starts_with("http"));
            assert_eq!(c.qr_payload, c.checkout_url);
            c.detail.is_some()
        }
        Err(e) => {
            error_reads(&e);
            false
        }
    };
    match pick % 8 {
        0 => {
            let e = client(Mode::CheckoutCreate).refusal(&resp);
            follows_status(&e, &resp);
            if let Ok(b) = serde_json::from_slice::<wire::ErrorBody>(&resp.body) {
                let code = match &e.kind {
                    ErrorKind::Auth { code, .. }
                    | ErrorKind::Server { code, .. }
                    | ErrorKind::Rejected { code, .. } => code.clone(),
                    _ => Some(b.error.code.clone()),
                };
                assert_eq!(code, Some(b.error.code));
            }
        }
        1 => {
            created(&client(Mode::CheckoutCreate), &resp, pick & 8 != 0);
        }
        2 => {
            let oc = client(Mode::OrdersCheckout);
            if let Ok(c) = oc.created(&resp, "ks_1", EXPIRES_AT, false) {
                assert_eq!(c.provider_session_id, "ks_1");
            }
        }
        3 => {
            let (date, rest) = split_line(body);
            resp.date = Some(String::from_utf8_lossy(date).into_owned());
            resp.body = rest.to_vec();
            let oc = client(Mode::CheckoutCreate);
            oc.measure(&resp, NOW, NOW + 40);
            assert!(!oc.offset_text().is_empty());
            let noted = created(&oc, &resp, false);
            if noted {
                assert!(oc.offset_text() != "matches the gateway's");
            }
        }
        4 => {
            let url = String::from_utf8_lossy(body);
            let r = client(Mode::CheckoutCreate)
                .returned(&session(sale, "ks_1"), &url)
                .expect("returned reads a URL without I/O");
            unverified_return(r, &url);
        }
        5 => {
            let (signature, text) = split_line(body);
            let public = client(Mode::CheckoutCreate).public_key_hex();
            let _ = sign::verify(&public, text, &String::from_utf8_lossy(signature));
            let _ = sign::verify(&String::from_utf8_lossy(signature), text, &"0".repeat(128));
        }
        6 => {
            let key = sign::Key::from_hex(&test_config(Mode::CheckoutCreate).private_key)
                .expect("a valid key");
            let public = key.public_key_hex();
            let signature = key.sign(body);
            assert!(sign::verify(&public, body, &signature));
            assert!(sign::verify(&public, body, &signature[..128]));
            let mut other = body.to_vec();
            other.push(b'x');
            assert!(!sign::verify(&public, &other, &signature));
        }
        7 => {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
                if let Ok(c) = sign::canonical_json(&v) {
                    let back: serde_json::Value =
                        serde_json::from_str(&c).expect("canonical JSON is JSON");
                    assert_eq!(back, v);
                    assert_eq!(sign::canonical_json(&back).as_deref(), Ok(c.as_str()));
                }
            }
        }
        _ => unreachable!(),
    }
}

/// The bytes before the first `\n`, and those after it.
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}
