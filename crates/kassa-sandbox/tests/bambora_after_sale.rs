//! Kassa's real Bambora client against the Bambora emulator over loopback, after the sale:
//! capture at sale (Bambora's instant capture) and what a failed one looks like, manual
//! capture in full and in parts, refunds whole, by amount and by lines (an order with a
//! spread discount and a weighed line), void, every refusal as a clear error, a QR sale
//! without a transaction id, and a refund whose answer was lost that the payment read then
//! shows exactly once. A property test refunds random orders in parts, by random lines and by
//! amounts, as `checkout` splits them.
//!
//! The emulator's own rules are tested with hand-built requests in `tests/bambora_api/`.

use kassa_core::http::{Http, HttpConfig, Method, Request};
use kassa_core::provider::bambora::{Bambora, BamboraConfig};
use kassa_core::provider::{
    CapturePolicy, CreateRequest, ErrorKind, OperationKind, OperationLine, OperationRequest,
    PaymentState, Presentation, Provider, ProviderError, ProviderOutcome, SessionRef,
};
use kassa_core::quote::PricedOrder;
use kassa_core::secrets::Secret;
use kassa_core::session::{SessionId, Status};
use kassa_sandbox::{BamboraAccount, Config, Sandbox};
use proptest::prelude::*;
use random_orders::order;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

#[path = "support/random_orders.rs"]
mod random_orders;

const MERCHANT: &str = "T123456789";
const ACCESS: &str = "after-sale-access-6d1f";
const SECRET: &str = "after-sale-secret-token-e94c";
const MD5_KEY: &str = "after-sale-md5-key-07ab";
const RETURN: &str = "https://kassa.invalid/return";

fn sandbox() -> Sandbox {
    Sandbox::start(
        0,
        Config {
            bambora_accounts: vec![BamboraAccount {
                merchant_number: MERCHANT.into(),
                access_token: ACCESS.into(),
                secret_token: SECRET.into(),
                md5_key: MD5_KEY.into(),
            }],
            ..Default::default()
        },
    )
    .unwrap()
}

fn client_with(s: &Sandbox, http: HttpConfig) -> Bambora {
    Bambora::new(
        BamboraConfig {
            label: "bambora".into(),
            profile: "test".into(),
            merchant_number: MERCHANT.into(),
            payment_window_id: 1,
            session_path: "sessions".into(),
            language: "nb-NO".into(),
            base_url: Some(s.bambora_base_url()),
            access_token: Secret::new(ACCESS),
            secret_token: Secret::new(SECRET),
            md5_key: Some(Secret::new(MD5_KEY)),
        },
        Http::new(http).unwrap(),
    )
}

fn client(s: &Sandbox) -> Bambora {
    client_with(s, HttpConfig::default())
}

fn control(s: &Sandbox, path: &str, body: Value) -> (u16, String) {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(Method::Post, format!("{}/_control{path}", s.url()))
                .json(body.to_string().into_bytes()),
        )
        .unwrap();
    (r.status, String::from_utf8(r.body).unwrap())
}

/// Provider requests the sandbox has served so far.
fn served(s: &Sandbox) -> u64 {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(Method::Get, format!("{}/_control/stats", s.url())),
        )
        .unwrap();
    serde_json::from_slice::<Value>(&r.body).unwrap()["requests"]
        .as_u64()
        .unwrap()
}

fn priced(doc: &str, reference: &str) -> PricedOrder {
    kassa_core::quote_document(doc, reference).unwrap()
}

/// 3 × Kaffe at 25 % for 5000 (a discount spread over the pieces: 1666.67 each) and 0.35 kg of
/// Ost at 129.90 a kilo, 15 %: 9547 in all.
fn spread_order(reference: &str) -> PricedOrder {
    let o = priced(
        r#"{"currency":"NOK","prices_include_vat":true,"lines":[
            {"name":"Kaffe","sku":"KAFFE-1","quantity":"3","unit_price":2000,"discount":1000,"vat_rate":"25"},
            {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":"15"}]}"#,
        reference,
    );
    assert_eq!(
        (o.lines[0].gross, o.lines[1].gross, o.total.gross),
        (5000, 4547, 9547)
    );
    o
}

/// A paid sale: its order, its session at Bambora and the transaction the accept URL named.
struct Sale {
    order: PricedOrder,
    psid: String,
    txnid: Option<String>,
}

impl Sale {
    fn session(&self) -> SessionRef<'_> {
        SessionRef {
            provider_session_id: Some(&self.psid),
            merchant_reference: &self.order.reference,
            gross: self.order.total.gross,
            currency: self.order.currency.code(),
            now: kassa_core::time::now_millis(),
            expires_at: None,
            provider_payment_id: self.txnid.as_deref(),
        }
    }
}

fn create(b: &Bambora, order: &PricedOrder, how: Presentation, capture: CapturePolicy) -> String {
    let now = kassa_core::time::now_millis();
    b.create(&CreateRequest {
        session_id: &SessionId::generate(now),
        order,
        return_url: RETURN,
        cancel_url: "https://kassa.invalid/return?kassa=cancelled",
        presentation: how,
        capture,
        now,
        expires_at: now + 15 * 60_000,
        sale: kassa_core::link::SaleKind::Counter,
        send: None,
    })
    .unwrap()
    .provider_session_id
}

/// Sells `order` in the till's window: the customer does `outcome` (`pay` or
/// `pay_capture_declined`), the window's accept URL gives the transaction, Bambora says paid.
fn sell(
    s: &Sandbox,
    b: &Bambora,
    order: PricedOrder,
    capture: CapturePolicy,
    outcome: &str,
) -> Sale {
    let psid = create(b, &order, Presentation::Webview, capture);
    let token = psid.strip_prefix("checkout/").unwrap();
    let (st, r) = control(
        s,
        &format!("/bambora/sessions/{token}/outcome"),
        json!({ "outcome": outcome }),
    );
    assert_eq!(st, 200, "{r}");
    let accept = serde_json::from_str::<Value>(&r).unwrap()["redirect"]
        .as_str()
        .unwrap()
        .to_string();
    let mut sale = Sale {
        order,
        psid,
        txnid: None,
    };
    let returned = b.returned(&sale.session(), &accept).unwrap();
    sale.txnid = returned.payment_id;
    assert!(sale.txnid.is_some(), "{accept}");
    let report = b.status(&sale.session()).unwrap();
    assert_eq!(report.status, Status::Paid, "{}", report.detail);
    assert_eq!(report.payment_id, sale.txnid);
    sale
}

const OP_ID: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

fn operation<'a>(
    session: &'a SessionRef<'a>,
    order: &'a PricedOrder,
    kind: OperationKind,
    amount: i64,
    lines: &'a [OperationLine],
) -> OperationRequest<'a> {
    OperationRequest {
        session,
        id: OP_ID,
        kind,
        amount,
        lines,
        reason: None,
        order,
    }
}

fn capture(b: &Bambora, sale: &Sale, amount: i64) -> Result<String, ProviderError> {
    let s = sale.session();
    let op = operation(&s, &sale.order, OperationKind::Capture, amount, &[]);
    b.capture(&op).map(|a| a.provider_reference.unwrap())
}

fn refund(
    b: &Bambora,
    sale: &Sale,
    amount: i64,
    lines: &[OperationLine],
) -> Result<String, ProviderError> {
    let s = sale.session();
    let op = operation(&s, &sale.order, OperationKind::Refund, amount, lines);
    b.refund(&op).map(|a| a.provider_reference.unwrap())
}

/// Voids the authorization (as `checkout` sends it: the amount still open, here the sale's).
fn void(b: &Bambora, sale: &Sale) -> Result<String, ProviderError> {
    let s = sale.session();
    let op = operation(
        &s,
        &sale.order,
        OperationKind::Void,
        sale.order.total.gross,
        &[],
    );
    b.void(&op).map(|a| a.provider_reference.unwrap())
}

fn state(b: &Bambora, sale: &Sale) -> PaymentState {
    b.payment_state(&sale.session()).unwrap()
}

/// (captured, refunded, capturable, refundable, voided).
fn money(p: &PaymentState) -> (i64, i64, i64, i64, bool) {
    (
        p.captured,
        p.refunded,
        p.capturable(),
        p.refundable(),
        p.voided,
    )
}

/// The operations as (kind, amount, outcome).
fn operations(p: &PaymentState) -> Vec<(OperationKind, i64, ProviderOutcome)> {
    p.operations
        .iter()
        .map(|o| (o.kind, o.amount, o.outcome))
        .collect()
}

/// `quantity` of the order's line `index`, worth `gross` with `vat` of it VAT.
fn line(order: &PricedOrder, index: usize, quantity: &str, gross: i64, vat: i64) -> OperationLine {
    let l = &order.lines[index];
    OperationLine {
        index,
        name: l.name.clone(),
        sku: l.sku.clone(),
        quantity: quantity.into(),
        unit: l.unit.clone(),
        vat_rate: l.vat_rate.to_percent_string(),
        gross,
        net: gross - vat,
        vat,
    }
}

/// The whole of the order's line `index`.
fn whole(order: &PricedOrder, index: usize) -> OperationLine {
    let l = &order.lines[index];
    line(order, index, &l.quantity.to_canonical(), l.gross, l.vat)
}

/// A refusal from Bambora: HTTP 409 with its `meta.message.merchant` kept.
fn refused(e: &ProviderError, words: &str) {
    match &e.kind {
        ErrorKind::Rejected {
            status,
            code,
            message,
        } => {
            assert_eq!((*status, code.as_deref()), (409, Some("CONFLICT")), "{e}");
            assert!(message.contains(words), "{e}");
        }
        other => panic!("not a refusal: {other:?} ({e})"),
    }
    let text = e.to_string();
    assert!(
        text.starts_with("bambora refused the request (HTTP 409 CONFLICT)"),
        "{text}"
    );
    for secret in [ACCESS, SECRET, MD5_KEY] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn at_sale_bambora_captures_the_whole_sale_with_the_authorization() {
    let s = sandbox();
    let b = client(&s);
    let sale = sell(&s, &b, spread_order("AS-1"), CapturePolicy::AtSale, "pay");
    let p = state(&b, &sale);
    assert_eq!(p.authorized, 9547);
    assert_eq!(money(&p), (9547, 0, 0, 9547, false));
    assert_eq!(
        operations(&p),
        [(OperationKind::Capture, 9547, ProviderOutcome::Succeeded)]
    );
    assert!(p.operations[0].provider_id.is_some() && p.operations[0].reference.is_none());
    assert!(p.authorization_expires_at.is_none());
    assert!(p.detail.contains("captured 9547"), "{}", p.detail);
    let caps = b.capabilities();
    assert!(caps.capture && caps.refund && caps.refund_lines && caps.void);
    assert!(!caps.operation_references);
}

#[test]
fn a_failed_instant_capture_is_paid_but_not_captured_until_kassa_captures() {
    let s = sandbox();
    let b = client(&s);
    let sale = sell(
        &s,
        &b,
        spread_order("AS-2"),
        CapturePolicy::AtSale,
        "pay_capture_declined",
    );
    // Paid (authorized), and the payment read says it is not captured.
    let p = state(&b, &sale);
    assert_eq!(money(&p), (0, 0, 9547, 0, false));
    assert_eq!(
        operations(&p),
        [(OperationKind::Capture, 9547, ProviderOutcome::Failed)]
    );
    assert!(
        p.detail.contains("capture fullinstant declined"),
        "{}",
        p.detail
    );
    // The fallback: capture by API, with the order's lines.
    let reference = capture(&b, &sale, 9547).unwrap();
    let p = state(&b, &sale);
    assert_eq!(money(&p), (9547, 0, 0, 9547, false));
    assert_eq!(
        operations(&p),
        [
            (OperationKind::Capture, 9547, ProviderOutcome::Failed),
            (OperationKind::Capture, 9547, ProviderOutcome::Succeeded),
        ]
    );
    assert_eq!(
        p.operations[1].provider_id.as_deref(),
        Some(reference.as_str())
    );
}

#[test]
fn manual_capture_in_full_and_in_parts() {
    let s = sandbox();
    let b = client(&s);
    // In full: nothing captured at the sale, then the whole amount with the order's lines.
    let sale = sell(&s, &b, spread_order("MC-1"), CapturePolicy::Manual, "pay");
    assert_eq!(money(&state(&b, &sale)), (0, 0, 9547, 0, false));
    assert!(operations(&state(&b, &sale)).is_empty());
    // The card hold Kassa assumes (Bambora documents none): 7 days from the authorization.
    let lapses = state(&b, &sale)
        .authorization_expires_at
        .expect("an authorization that lapses");
    let days = (lapses - kassa_core::time::now_millis()) as f64 / 86_400_000.0;
    assert!((6.99..=7.0).contains(&days), "{days}");
    capture(&b, &sale, 9547).unwrap();
    assert_eq!(money(&state(&b, &sale)), (9547, 0, 0, 9547, false));
    assert_eq!(state(&b, &sale).authorization_expires_at, None);
    let e = capture(&b, &sale, 1).unwrap_err();
    refused(&e, "exceeds what can be captured");

    // In parts (the session asked for capturemulti): an amount, then the rest.
    let sale = sell(&s, &b, spread_order("MC-2"), CapturePolicy::Manual, "pay");
    let first = capture(&b, &sale, 4000).unwrap();
    assert_eq!(money(&state(&b, &sale)), (4000, 0, 5547, 4000, false));
    let e = capture(&b, &sale, 5548).unwrap_err();
    refused(&e, "amount 5548 exceeds what can be captured");
    let second = capture(&b, &sale, 5547).unwrap();
    assert_ne!(first, second);
    let p = state(&b, &sale);
    assert_eq!(money(&p), (9547, 0, 0, 9547, false));
    assert_eq!(
        operations(&p),
        [
            (OperationKind::Capture, 4000, ProviderOutcome::Succeeded),
            (OperationKind::Capture, 5547, ProviderOutcome::Succeeded),
        ]
    );
}

#[test]
fn refunds_whole_by_amount_and_by_lines_of_a_spread_discount_and_a_weighed_line() {
    let s = sandbox();
    let b = client(&s);
    // Whole: the amount with the order's own lines (2 × 1667 + 1 × 1666, the cheese as 1).
    let sale = sell(&s, &b, spread_order("RF-1"), CapturePolicy::AtSale, "pay");
    refund(&b, &sale, 9547, &[]).unwrap();
    assert_eq!(money(&state(&b, &sale)), (9547, 9547, 0, 0, false));

    // By lines: 1 of the 3 Kaffe (1666, not divisible by the 1667s it was charged at) and
    // 0.2 kg of the 0.35 kg of cheese.
    let sale = sell(&s, &b, spread_order("RF-2"), CapturePolicy::AtSale, "pay");
    let o = &sale.order;
    let part = [line(o, 0, "1", 1666, 333), line(o, 1, "0.2", 2598, 339)];
    let first = refund(&b, &sale, 4264, &part).unwrap();
    assert_eq!(money(&state(&b, &sale)), (9547, 4264, 0, 5283, false));
    // Two more Kaffe: 3334 for 2 pieces, sent as two exact lines.
    let two = [line(o, 0, "2", 3334, 667)];
    refund(&b, &sale, 3334, &two).unwrap();
    // By amount, the rest (1949).
    let last = refund(&b, &sale, 1949, &[]).unwrap();
    assert_ne!(first, last);
    let p = state(&b, &sale);
    assert_eq!(money(&p), (9547, 9547, 0, 0, false));
    assert_eq!(
        operations(&p),
        [
            (OperationKind::Capture, 9547, ProviderOutcome::Succeeded),
            (OperationKind::Refund, 4264, ProviderOutcome::Succeeded),
            (OperationKind::Refund, 3334, ProviderOutcome::Succeeded),
            (OperationKind::Refund, 1949, ProviderOutcome::Succeeded),
        ]
    );
    // Nothing left to refund.
    refused(
        &refund(&b, &sale, 1, &[]).unwrap_err(),
        "exceeds what can be credited",
    );
}

#[test]
fn a_manual_capture_by_lines_then_a_partial_credit_by_lines() {
    let s = sandbox();
    let b = client(&s);
    let sale = sell(&s, &b, spread_order("CL-1"), CapturePolicy::Manual, "pay");
    let o = &sale.order;
    // Capture the Kaffe line (two Bambora lines) and the weighed line, by lines.
    let s_ref = sale.session();
    let lines = [whole(o, 0), whole(o, 1)];
    let op = operation(&s_ref, o, OperationKind::Capture, 9547, &lines);
    b.capture(&op).unwrap();
    // Credit the cheese.
    refund(&b, &sale, 4547, &[whole(o, 1)]).unwrap();
    assert_eq!(money(&state(&b, &sale)), (9547, 4547, 0, 5000, false));
}

#[test]
fn a_void_deletes_an_uncaptured_authorization_only() {
    let s = sandbox();
    let b = client(&s);
    let sale = sell(&s, &b, spread_order("VO-1"), CapturePolicy::Manual, "pay");
    void(&b, &sale).unwrap();
    let p = state(&b, &sale);
    assert_eq!(money(&p), (0, 0, 0, 0, true));
    assert_eq!(
        operations(&p),
        [(OperationKind::Void, 0, ProviderOutcome::Succeeded)]
    );
    assert!(p.detail.contains("deleted"), "{}", p.detail);
    refused(&capture(&b, &sale, 100).unwrap_err(), "is deleted");
    refused(&void(&b, &sale).unwrap_err(), "already deleted");
    // A captured sale is refunded, not voided.
    let sale = sell(&s, &b, spread_order("VO-2"), CapturePolicy::AtSale, "pay");
    refused(&void(&b, &sale).unwrap_err(), "credit it instead");
    assert_eq!(money(&state(&b, &sale)), (9547, 0, 0, 9547, false));
}

#[test]
fn every_refusal_is_a_clear_error_and_moves_nothing() {
    let s = sandbox();
    let b = client(&s);
    let sale = sell(&s, &b, spread_order("RE-1"), CapturePolicy::Manual, "pay");
    // A refund of an uncaptured payment.
    refused(
        &refund(&b, &sale, 100, &[]).unwrap_err(),
        "nothing captured to credit",
    );
    // Over-capture.
    refused(&capture(&b, &sale, 9548).unwrap_err(), "(9547)");
    capture(&b, &sale, 9547).unwrap();
    // Over-refund, with Bambora's own words.
    refused(
        &refund(&b, &sale, 9548, &[]).unwrap_err(),
        "captured 9547 − credited 0 = 9547",
    );
    // Lines that do not sum to the amount are not sent at all.
    let before = served(&s);
    let e = refund(&b, &sale, 5000, &[whole(&sale.order, 1)]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Config(_)), "{e:?}");
    assert!(
        e.to_string().contains("the credit of transaction")
            && e.to_string()
                .contains("was not sent: the lines sum to 4547, not the amount 5000 NOK"),
        "{e}"
    );
    assert_eq!(served(&s), before);
    // A transaction Bambora does not know.
    let lost = Sale {
        order: sale.order.clone(),
        psid: sale.psid.clone(),
        txnid: Some("70009999999".into()),
    };
    let e = capture(&b, &lost, 1).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("70009999999"), "{e}");
    // Only the one capture moved money.
    let p = state(&b, &sale);
    assert_eq!(money(&p), (9547, 0, 0, 9547, false));
    assert_eq!(
        operations(&p),
        [(OperationKind::Capture, 9547, ProviderOutcome::Succeeded)]
    );
}

#[test]
fn a_qr_sale_has_no_transaction_so_kassa_says_where_to_act() {
    let s = sandbox();
    let b = client(&s);
    let order = spread_order("QR-1");
    let psid = create(&b, &order, Presentation::Qr, CapturePolicy::AtSale);
    let id = psid.strip_prefix("paymentrequest/").unwrap();
    let (st, r) = control(
        &s,
        &format!("/bambora/paymentrequests/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    assert_eq!(st, 200, "{r}");
    let sale = Sale {
        order,
        psid,
        txnid: None,
    };
    assert_eq!(
        b.status(&sale.session()).unwrap().status,
        Status::NeedsReview
    );
    let before = served(&s);
    let errors = [
        b.payment_state(&sale.session()).unwrap_err(),
        capture(&b, &sale, 100).unwrap_err(),
        refund(&b, &sale, 100, &[]).unwrap_err(),
        void(&b, &sale).unwrap_err(),
    ];
    for e in &errors {
        assert!(matches!(e.kind, ErrorKind::Unsupported { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains("of a QR sale: Bambora does not tell Kassa the transaction of a payment request; capture/refund it in the Bambora back office"),
            "{text}"
        );
    }
    assert!(errors[1]
        .to_string()
        .starts_with("bambora does not support capture of a QR sale"));
    // Nothing was asked of Bambora.
    assert_eq!(served(&s), before);
    // A window session whose accept URL never arrived has no transaction either.
    let order = spread_order("QR-2");
    let psid = create(&b, &order, Presentation::Webview, CapturePolicy::AtSale);
    let open = Sale {
        order,
        psid,
        txnid: None,
    };
    let e = capture(&b, &open, 100).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Config(_)), "{e:?}");
    assert!(e.to_string().contains("has no Bambora transaction"), "{e}");
}

#[test]
fn a_refund_whose_answer_is_lost_shows_once_in_the_payment_read() {
    let s = sandbox();
    let b = client(&s);
    let sale = sell(&s, &b, spread_order("TO-1"), CapturePolicy::AtSale, "pay");
    let before = state(&b, &sale);
    let (st, r) = control(
        &s,
        "/faults",
        json!({"faults": [{"method": "POST", "path": "/credit", "kind": "timeout", "ms": 2500}]}),
    );
    assert_eq!(st, 204, "{r}");
    // A client that gives up before the answer comes: the credit is done, the answer lost.
    let impatient = client_with(
        &s,
        HttpConfig {
            timeout: Duration::from_millis(700),
            ..HttpConfig::default()
        },
    );
    let o = &sale.order;
    let e = refund(&impatient, &sale, 4547, &[whole(o, 1)]).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::Timeout { sent: true, .. }),
        "{e:?}"
    );
    assert!(e.may_have_reached_provider());
    // Sent once: the payment read shows the refund exactly once, and it is new since the read
    // before sending (Bambora keeps no reference of Kassa's to match by).
    let after = state(&b, &sale);
    assert_eq!(money(&after), (9547, 4547, 0, 5000, false));
    let known: Vec<_> = before.operations.iter().map(|o| &o.provider_id).collect();
    let new: Vec<_> = after
        .operations
        .iter()
        .filter(|o| !known.contains(&&o.provider_id))
        .collect();
    assert_eq!(new.len(), 1, "{:?}", after.operations);
    assert_eq!(
        (
            new[0].kind,
            new[0].amount,
            new[0].outcome,
            &new[0].reference
        ),
        (
            OperationKind::Refund,
            4547,
            ProviderOutcome::Succeeded,
            &None
        )
    );
}

#[test]
fn faults_on_the_operations_give_errors_that_say_what_happened() {
    let s = sandbox();
    let b = client(&s);
    let sale = sell(&s, &b, spread_order("FA-1"), CapturePolicy::Manual, "pay");
    let fault = |f: Value| {
        let (st, r) = control(&s, "/faults", json!({ "faults": [f] }));
        assert_eq!(st, 204, "{r}");
    };
    // A 5xx on the capture: not retried (sent once), and nothing captured.
    fault(json!({"path": "/capture", "kind": "status", "status": 503}));
    let e = capture(&b, &sale, 100).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::Server { status: 503, .. }),
        "{e:?}"
    );
    assert!(e.may_have_reached_provider());
    // 429 on the capture: refused before anything happened.
    fault(json!({"path": "/capture", "kind": "rate_limit", "retry_after": 30}));
    let e = capture(&b, &sale, 100).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::RateLimited { .. }), "{e:?}");
    // A garbled answer to a capture that happened: unreadable, and the read shows it.
    fault(json!({"path": "/capture", "kind": "not_json"}));
    let e = capture(&b, &sale, 100).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::BadResponse { .. }), "{e:?}");
    fault(json!({"path": "/capture", "kind": "truncated"}));
    let e = capture(&b, &sale, 200).unwrap_err();
    assert!(e.may_have_reached_provider(), "{e:?}");
    assert_eq!(money(&state(&b, &sale)).0, 300);
    // The reads retry a transient failure.
    fault(
        json!({"method": "GET", "path": "/transactionoperations", "kind": "status", "status": 502}),
    );
    assert_eq!(state(&b, &sale).operations.len(), 2);
}

// -------------------------------------------------------------------------------------------
// Property: refunds of random orders in parts (by lines, then by amount, as `checkout` splits
// them) are always accepted and sum right.

static CASES: AtomicU64 = AtomicU64::new(0);

fn shared() -> &'static (Sandbox, Bambora) {
    static S: OnceLock<(Sandbox, Bambora)> = OnceLock::new();
    S.get_or_init(|| {
        let s = sandbox();
        let b = client(&s);
        (s, b)
    })
}

/// What each line of a sale has given back so far: thousandths, gross, VAT.
#[derive(Clone, Copy, Default)]
struct Taken {
    milli: i64,
    gross: i64,
    vat: i64,
}

fn round_share(amount: i64, part: i64, whole: i64) -> i64 {
    kassa_core::money::div_round(i128::from(amount) * i128::from(part), i128::from(whole)) as i64
}

/// A refund by lines as `checkout` computes it (`kassa_core::refund`, rule 1): of a line with
/// quantity Q, gross G and VAT V, the cumulative quantity c has given back round(G × c / Q)
/// and round(V × c / Q), so a part is the difference. `picks`: which lines, and how much of
/// what is left (whole pieces for whole lines).
fn by_lines(order: &PricedOrder, taken: &mut [Taken], picks: &[(bool, u16)]) -> Vec<OperationLine> {
    let mut out = Vec::new();
    for ((i, l), (take, share)) in order.lines.iter().enumerate().zip(picks) {
        let (q, left) = (l.quantity.milli(), l.quantity.milli() - taken[i].milli);
        let part = if l.quantity.is_whole() {
            (i64::from(*share) % (left / 1000 + 1)) * 1000
        } else {
            i64::from(*share) % (left + 1)
        };
        if !take || part == 0 || l.gross == 0 {
            continue;
        }
        let c = taken[i].milli + part;
        let gross = round_share(l.gross, c, q) - taken[i].gross;
        let vat = round_share(l.vat, c, q) - taken[i].vat;
        taken[i] = Taken {
            milli: c,
            gross: gross + taken[i].gross,
            vat: vat + taken[i].vat,
        };
        let quantity = kassa_core::Quantity::from_milli(part)
            .unwrap()
            .to_canonical();
        out.push(line(order, i, &quantity, gross, vat));
    }
    out
}

/// A refund of `amount` as `checkout` spreads it (rule 2): over what is left of each line with
/// the order discount's largest-remainder rule, each part with the VAT contained in it (all
/// that is left of the line's VAT when the part is all that is left of it); quantity 0.
fn by_amount(order: &PricedOrder, taken: &mut [Taken], amount: i64) -> Vec<OperationLine> {
    let left: Vec<i64> = order
        .lines
        .iter()
        .zip(taken.iter())
        .map(|(l, t)| l.gross - t.gross)
        .collect();
    let parts = kassa_core::quote::spread(amount, &left);
    let mut out = Vec::new();
    for (i, (l, part)) in order.lines.iter().zip(parts).enumerate() {
        if part == 0 {
            continue;
        }
        let bp = i128::from(l.vat_rate.basis_points());
        let vat = if part == left[i] {
            l.vat - taken[i].vat
        } else {
            kassa_core::money::div_round(i128::from(part) * bp, 10_000 + bp) as i64
        };
        taken[i].gross += part;
        taken[i].vat += vat;
        out.push(line(order, i, "0", part, vat));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn refunds_by_random_lines_then_amounts_are_accepted_and_sum_right(
        doc in order(),
        first in proptest::collection::vec((any::<bool>(), any::<u16>()), 5),
        second in proptest::collection::vec((any::<bool>(), any::<u16>()), 5),
        permille in 1i64..=999,
    ) {
        let (s, b) = shared();
        // Bambora's order ids are unique per merchant: one per case.
        let n = CASES.fetch_add(1, Ordering::Relaxed);
        let Ok(o) = kassa_core::quote_document(&doc, &format!("PROP-{n}")) else {
            return Ok(()); // a zero total: nothing to charge
        };
        let gross = o.total.gross;
        let mut taken = vec![Taken::default(); o.lines.len()];
        let first = by_lines(&o, &mut taken, &first);
        let second = by_lines(&o, &mut taken, &second);
        let left = gross - taken.iter().map(|t| t.gross).sum::<i64>();
        let some = by_amount(&o, &mut taken, left * permille / 1000);
        let left = gross - taken.iter().map(|t| t.gross).sum::<i64>();
        let rest = by_amount(&o, &mut taken, left);
        let sale = sell(s, b, o, CapturePolicy::AtSale, "pay");
        let mut refunded = 0;
        for lines in [first, second, some, rest] {
            let amount: i64 = lines.iter().map(|l| l.gross).sum();
            if amount > 0 {
                let r = refund(b, &sale, amount, &lines);
                prop_assert!(r.is_ok(), "{:?}\n{}\n{:?}", r, doc, lines);
                refunded += amount;
            }
        }
        prop_assert_eq!(refunded, gross);
        let p = state(b, &sale);
        prop_assert_eq!(money(&p), (gross, gross, 0, 0, false));
        let credits: i64 = p
            .operations
            .iter()
            .filter(|o| o.kind == OperationKind::Refund && o.outcome == ProviderOutcome::Succeeded)
            .map(|o| o.amount)
            .sum();
        prop_assert_eq!(credits, gross);
    }
}
