//! Kassa's real Commerce Layer client (`kassa_core::provider::commercelayer`) against the
//! emulator over loopback, after the sale: capture at sale (by Kassa, or already done by the
//! payment method's `auto_capture`), manual capture in full and in parts, refunds whole, in
//! parts and by lines (sent as amounts), voids, every refusal with its cause, a declining
//! gateway, unclear outcomes read back from the payment, and cancelling a sale nobody paid
//! (an unplaced order is expired, not `_cancel`led).

use kassa_core::http::{Http, HttpConfig, Method, Request};
use kassa_core::order::parse_order;
use kassa_core::provider::commercelayer::{CommerceLayer, CommerceLayerConfig};
use kassa_core::provider::{
    CapturePolicy, CreateRequest, Created, ErrorKind, OperationKind, OperationLine,
    OperationRequest, PaymentState, Presentation, Provider, ProviderError, ProviderOutcome,
    SessionRef,
};
use kassa_core::quote::{price, PricedOrder};
use kassa_core::secrets::Secret;
use kassa_core::session::{SessionId, Status};
use kassa_core::time::{now_millis, parse_utc};
use kassa_sandbox::commercelayer::Sku;
use kassa_sandbox::{CommerceLayerAccount, Config, Sandbox};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "cl-after-sale-secret-4e1b";

/// A Norwegian shop (prices include VAT); `auto`: its payment method captures by itself.
fn account(auto: bool) -> CommerceLayerAccount {
    let tag = if auto { "auto" } else { "shop" };
    CommerceLayerAccount {
        client_id: format!("cl-as-{tag}-7d20"),
        client_secret: SECRET.into(),
        sales_channel_client_id: format!("cl-as-sc-{tag}-91c3"),
        market_id: format!("{tag}Market1"),
        address_id: "asAddress1".into(),
        currency: "NOK".into(),
        tax_included: true,
        default_tax_rate_bp: 2500,
        skus: vec![Sku {
            code: "COFFEE".into(),
            tax_rate_bp: 1500,
        }],
        auto_capture: auto,
    }
}

fn sandbox() -> Sandbox {
    Sandbox::start(
        0,
        Config {
            commercelayer_accounts: vec![account(false), account(true)],
            ..Default::default()
        },
    )
    .unwrap()
}

fn client_with(s: &Sandbox, auto: bool, http: HttpConfig) -> CommerceLayer {
    let a = account(auto);
    CommerceLayer::new(
        CommerceLayerConfig {
            label: "commercelayer".into(),
            profile: "test".into(),
            organization: "kassa-shop".into(),
            market_id: a.market_id,
            address_id: a.address_id,
            language: "nb".into(),
            base_url: Some(s.commercelayer_base_url()),
            client_id: Secret::new(a.client_id),
            client_secret: Secret::new(a.client_secret),
            sales_channel_client_id: Secret::new(a.sales_channel_client_id),
        },
        Http::new(http).unwrap(),
    )
}

fn client(s: &Sandbox) -> CommerceLayer {
    client_with(s, false, HttpConfig::default())
}

/// 2 coffees at 35.00 (15 %), 3 buns at 10.00 less 1.00 (25 %), a weighed cheese: 146.25 NOK.
fn order() -> PricedOrder {
    price(
        &parse_order(
            r#"{"currency":"NOK","prices_include_vat":true,"lines":[
              {"name":"Kaffe","sku":"COFFEE","quantity":"2","unit_price":3500,"vat_rate":"15"},
              {"name":"Bolle","quantity":"3","unit_price":1000,"vat_rate":"25","discount":100},
              {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":13500,"vat_rate":"25"}]}"#,
        )
        .unwrap(),
        "R-AS-1",
    )
    .unwrap()
}

/// A sale: the order Kassa priced and what Commerce Layer made of it.
struct Sale {
    order: PricedOrder,
    created: Created,
}

impl Sale {
    fn session(&self) -> SessionRef<'_> {
        SessionRef {
            provider_session_id: Some(&self.created.provider_session_id),
            merchant_reference: &self.order.reference,
            gross: self.order.total.gross,
            currency: self.order.currency.code(),
            now: now_millis(),
            expires_at: self.created.expires_at,
            provider_payment_id: None,
        }
    }

    fn id(&self) -> &str {
        &self.created.provider_session_id
    }
}

fn open(c: &CommerceLayer, capture: CapturePolicy, presentation: Presentation) -> Sale {
    let order = order();
    let now = now_millis();
    let created = c
        .create(&CreateRequest {
            session_id: &SessionId::generate(now),
            order: &order,
            return_url: "https://kassa.invalid/return",
            cancel_url: "https://kassa.invalid/return?kassa=cancelled",
            presentation,
            capture,
            now,
            expires_at: now + 15 * 60_000,
            sale: kassa_core::link::SaleKind::Counter,
            send: None,
        })
        .unwrap();
    Sale { order, created }
}

fn outcome(s: &Sandbox, order_id: &str, what: &str) -> (u16, Value) {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(
                Method::Post,
                format!(
                    "{}/_control/commercelayer/orders/{order_id}/outcome",
                    s.url()
                ),
            )
            .json(json!({ "outcome": what }).to_string().into_bytes()),
        )
        .unwrap();
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// The order as the emulator shows it, with its transactions.
fn cl_order(s: &Sandbox, order_id: &str) -> Value {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(
                Method::Get,
                format!("{}/_control/commercelayer/orders/{order_id}", s.url()),
            ),
        )
        .unwrap();
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).unwrap()
}

fn cl_attr(v: &Value, name: &str) -> Value {
    v["data"]["attributes"][name].clone()
}

fn cl_included(v: &Value, ty: &str) -> Vec<Value> {
    v["included"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == ty)
        .cloned()
        .collect()
}

/// A sale the customer paid (authorized, nothing captured).
fn paid(s: &Sandbox, c: &CommerceLayer, capture: CapturePolicy) -> Sale {
    let sale = open(c, capture, Presentation::Qr);
    assert_eq!(outcome(s, sale.id(), "pay").0, 200);
    assert_eq!(c.status(&sale.session()).unwrap().status, Status::Paid);
    sale
}

fn op<'a>(
    sale: &'a Sale,
    session: &'a SessionRef<'a>,
    id: &'a str,
    kind: OperationKind,
    amount: i64,
    lines: &'a [OperationLine],
) -> OperationRequest<'a> {
    OperationRequest {
        session,
        id,
        kind,
        amount,
        lines,
        reason: None,
        order: &sale.order,
    }
}

fn run(
    c: &CommerceLayer,
    sale: &Sale,
    id: &str,
    kind: OperationKind,
    amount: i64,
    lines: &[OperationLine],
) -> Result<kassa_core::provider::OperationAnswer, ProviderError> {
    let session = sale.session();
    let request = op(sale, &session, id, kind, amount, lines);
    match kind {
        OperationKind::Capture => c.capture(&request),
        OperationKind::Refund => c.refund(&request),
        OperationKind::Void => c.void(&request),
        OperationKind::RefundRecorded => unreachable!("never sent"),
    }
}

fn state(c: &CommerceLayer, sale: &Sale) -> PaymentState {
    c.payment_state(&sale.session()).unwrap()
}

/// The operations of `kind` in the payment state: `(amount, reference, outcome)`.
fn ops(p: &PaymentState, kind: OperationKind) -> Vec<(i64, Option<String>, ProviderOutcome)> {
    p.operations
        .iter()
        .filter(|o| o.kind == kind)
        .map(|o| (o.amount, o.reference.clone(), o.outcome))
        .collect()
}

/// What `line` of the sale is worth in full, as an operation line.
fn whole_line(sale: &Sale, index: usize) -> OperationLine {
    let l = &sale.order.lines[index];
    OperationLine {
        index,
        name: l.name.clone(),
        sku: l.sku.clone(),
        quantity: l.quantity.to_canonical(),
        unit: l.unit.clone(),
        vat_rate: l.vat_rate.to_percent_string(),
        gross: l.gross,
        net: l.net,
        vat: l.vat,
    }
}

#[test]
fn the_capabilities_say_how_commerce_layer_captures_refunds_and_voids() {
    let s = sandbox();
    let caps = client(&s).capabilities();
    assert_eq!(
        caps.at_sale_capture,
        kassa_core::provider::AtSaleCapture::ByKassa
    );
    assert!(caps.capture && caps.refund && caps.void);
    assert!(!caps.refund_lines, "refunds by lines are sent as amounts");
    assert!(!caps.operation_references);
}

#[test]
fn a_sale_is_captured_in_full_right_after_it_is_paid() {
    let s = sandbox();
    let c = client(&s);
    let sale = paid(&s, &c, CapturePolicy::AtSale);
    let gross = sale.order.total.gross;
    assert_eq!(gross, 14625);
    let before = state(&c, &sale);
    assert_eq!(
        (before.authorized, before.captured, before.refunded),
        (gross, 0, 0)
    );
    assert_eq!(before.capturable(), gross);
    assert!(before.operations.is_empty());
    let answer = run(
        &c,
        &sale,
        "0190aaaa-capture-1",
        OperationKind::Capture,
        gross,
        &[],
    )
    .unwrap();
    assert!(!answer.pending);
    let capture_id = answer.provider_reference.clone().unwrap();
    assert!(answer.detail.contains("146.25 NOK"), "{}", answer.detail);
    // The evidence: a succeeded capture of the whole amount, tagged with the operation id.
    let after = state(&c, &sale);
    assert_eq!((after.captured, after.capturable()), (gross, 0));
    assert_eq!(after.refundable(), gross);
    assert_eq!(
        after.operations[0].provider_id.as_deref(),
        Some(capture_id.as_str())
    );
    assert_eq!(
        ops(&after, OperationKind::Capture),
        [(
            gross,
            Some("0190aaaa-capture-1".into()),
            ProviderOutcome::Succeeded
        )]
    );
    assert_eq!(
        after.authorization_expires_at, None,
        "nothing left to lapse"
    );
    assert!(
        after.detail.contains("captured 146.25 NOK"),
        "{}",
        after.detail
    );
    // A placed order's whole authorization: `_approve_and_capture` approved it.
    let o = cl_order(&s, sale.id());
    assert_eq!(cl_attr(&o, "status"), "approved");
    assert_eq!(cl_attr(&o, "payment_status"), "paid");
    assert_eq!(c.status(&sale.session()).unwrap().status, Status::Paid);
}

#[test]
fn an_auto_capturing_payment_method_has_captured_before_kassa_asks() {
    let s = sandbox();
    let c = client_with(&s, true, HttpConfig::default());
    let sale = open(&c, CapturePolicy::AtSale, Presentation::Qr);
    let detail = sale.created.detail.clone().unwrap();
    assert!(detail.contains("captures automatically"), "{detail}");
    assert!(!detail.contains("cannot hold"), "{detail}");
    assert_eq!(outcome(&s, sale.id(), "pay").0, 200);
    assert_eq!(c.status(&sale.session()).unwrap().status, Status::Paid);
    let p = state(&c, &sale);
    assert_eq!((p.authorized, p.captured), (14625, 14625));
    assert_eq!(p.capturable(), 0, "no capture for Kassa to send");
    assert_eq!(
        ops(&p, OperationKind::Capture),
        [(14625, None, ProviderOutcome::Succeeded)]
    );
    // Asked anyway, the client says why there is nothing to capture, and sends nothing.
    let e = run(&c, &sale, "op-late", OperationKind::Capture, 14625, &[]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Config(_)), "{e:?}");
    assert!(
        e.to_string().contains("auto_capture captures by itself"),
        "{e}"
    );
    assert_eq!(ops(&state(&c, &sale), OperationKind::Capture).len(), 1);
    // Manual cannot hold back what the shop's payment method captures.
    let manual = open(&c, CapturePolicy::Manual, Presentation::Webview);
    let detail = manual.created.detail.unwrap();
    assert!(
        detail.contains("capture policy manual cannot hold this payment back"),
        "{detail}"
    );
}

#[test]
fn manual_capture_in_parts_then_the_rest() {
    let s = sandbox();
    let c = client(&s);
    let sale = paid(&s, &c, CapturePolicy::Manual);
    let p = state(&c, &sale);
    assert_eq!((p.captured, p.capturable()), (0, 14625));
    // Uncaptured: the authorization lapses after a card's usual 7 days (UNCONFIRMED).
    let expires = p.authorization_expires_at.unwrap();
    let authorized = parse_utc(
        cl_included(&cl_order(&s, sale.id()), "authorizations")[0]["attributes"]["created_at"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(expires - authorized, 7 * 24 * 3600 * 1000);
    run(&c, &sale, "op-part-1", OperationKind::Capture, 5000, &[]).unwrap();
    let p = state(&c, &sale);
    assert_eq!((p.captured, p.capturable()), (5000, 9625));
    assert!(p.authorization_expires_at.is_some());
    // A part is the authorization's `_capture`: the order stays placed, partly paid, and
    // Kassa still reads it as paid.
    let o = cl_order(&s, sale.id());
    assert_eq!(cl_attr(&o, "status"), "placed");
    assert_eq!(cl_attr(&o, "payment_status"), "partially_paid");
    assert_eq!(c.status(&sale.session()).unwrap().status, Status::Paid);
    // More than is left: Commerce Layer refuses, naming the balance; nothing moved.
    let e = run(&c, &sale, "op-part-2", OperationKind::Capture, 9626, &[]).unwrap_err();
    match &e.kind {
        ErrorKind::Rejected {
            status,
            code,
            message,
        } => {
            assert_eq!((*status, code.as_deref()), (422, Some("VALIDATION_ERROR")));
            assert!(
                message.contains("_capture_amount_cents - must be less than or equal to 9625"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.may_have_reached_provider());
    assert_eq!(state(&c, &sale).captured, 5000);
    run(&c, &sale, "op-part-3", OperationKind::Capture, 9625, &[]).unwrap();
    let p = state(&c, &sale);
    assert_eq!((p.captured, p.capturable()), (14625, 0));
    assert_eq!(
        ops(&p, OperationKind::Capture),
        [
            (5000, Some("op-part-1".into()), ProviderOutcome::Succeeded),
            (9625, Some("op-part-3".into()), ProviderOutcome::Succeeded)
        ]
    );
    assert_eq!(cl_attr(&cl_order(&s, sale.id()), "payment_status"), "paid");
    // Nothing left: a clear error before anything is sent.
    let e = run(&c, &sale, "op-part-4", OperationKind::Capture, 1, &[]).unwrap_err();
    assert!(e.to_string().contains("nothing to capture"), "{e}");
}

#[test]
fn refunds_whole_in_parts_and_by_lines() {
    let s = sandbox();
    let c = client(&s);
    let sale = paid(&s, &c, CapturePolicy::AtSale);
    let gross = sale.order.total.gross;
    // Nothing captured yet: nothing to refund, and nothing is sent.
    let e = run(&c, &sale, "op-r0", OperationKind::Refund, 100, &[]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Config(_)), "{e:?}");
    assert!(e.to_string().contains("nothing captured to refund"), "{e}");
    run(&c, &sale, "op-c", OperationKind::Capture, gross, &[]).unwrap();
    // By lines: the buns (line 1), sent as their amount.
    let buns = [whole_line(&sale, 1)];
    assert_eq!(buns[0].gross, 2900);
    let a = run(&c, &sale, "op-r1", OperationKind::Refund, 2900, &buns).unwrap();
    assert!(a.detail.contains("refund"), "{}", a.detail);
    // By amount.
    run(&c, &sale, "op-r2", OperationKind::Refund, 1000, &[]).unwrap();
    let p = state(&c, &sale);
    assert_eq!((p.refunded, p.refundable()), (3900, gross - 3900));
    assert_eq!(
        cl_attr(&cl_order(&s, sale.id()), "payment_status"),
        "partially_refunded"
    );
    // More than is left: refused by Commerce Layer, nothing refunded.
    let e = run(&c, &sale, "op-r3", OperationKind::Refund, gross - 3899, &[]).unwrap_err();
    assert_eq!(e.code(), kassa_core::code::Code::ProviderRejected);
    assert!(
        e.to_string()
            .contains(&format!("must be less than or equal to {}", gross - 3900)),
        "{e}"
    );
    // The rest: refunded in full, the order cancelled at Commerce Layer.
    run(&c, &sale, "op-r4", OperationKind::Refund, gross - 3900, &[]).unwrap();
    let p = state(&c, &sale);
    assert_eq!((p.refunded, p.refundable()), (gross, 0));
    assert_eq!(
        ops(&p, OperationKind::Refund),
        [
            (2900, Some("op-r1".into()), ProviderOutcome::Succeeded),
            (1000, Some("op-r2".into()), ProviderOutcome::Succeeded),
            (
                gross - 3900,
                Some("op-r4".into()),
                ProviderOutcome::Succeeded
            )
        ]
    );
    let o = cl_order(&s, sale.id());
    assert_eq!(cl_attr(&o, "payment_status"), "refunded");
    assert_eq!(cl_attr(&o, "status"), "cancelled");
}

#[test]
fn a_refund_takes_one_capture_at_a_time() {
    let s = sandbox();
    let c = client(&s);
    let sale = paid(&s, &c, CapturePolicy::Manual);
    run(&c, &sale, "c1", OperationKind::Capture, 10000, &[]).unwrap();
    run(&c, &sale, "c2", OperationKind::Capture, 4625, &[]).unwrap();
    // 12000 is captured but no capture holds it: refused before sending.
    let e = run(&c, &sale, "r1", OperationKind::Refund, 12000, &[]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Unsupported { .. }), "{e:?}");
    assert!(e.to_string().contains("refund the amount in parts"), "{e}");
    assert_eq!(state(&c, &sale).refunded, 0);
    // The newest capture that covers the amount: the second for 4000, the first for 9000.
    run(&c, &sale, "r2", OperationKind::Refund, 4000, &[]).unwrap();
    run(&c, &sale, "r3", OperationKind::Refund, 9000, &[]).unwrap();
    let o = cl_order(&s, sale.id());
    let balances: Vec<i64> = cl_included(&o, "captures")
        .iter()
        .map(|c| c["attributes"]["refund_balance_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(balances, [1000, 625]);
    assert_eq!(state(&c, &sale).refunded, 13000);
}

#[test]
fn a_void_releases_an_authorization_nothing_was_captured_of() {
    let s = sandbox();
    let c = client(&s);
    // Placed: the order's `_cancel`, which voids the authorization and cancels the order.
    let sale = paid(&s, &c, CapturePolicy::Manual);
    let a = run(&c, &sale, "v1", OperationKind::Void, 14625, &[]).unwrap();
    let p = state(&c, &sale);
    assert!(p.voided);
    assert_eq!((p.captured, p.capturable()), (0, 0));
    assert_eq!(
        ops(&p, OperationKind::Void),
        [(14625, Some("v1".into()), ProviderOutcome::Succeeded)]
    );
    assert_eq!(
        p.operations[0].provider_id.as_deref(),
        a.provider_reference.as_deref()
    );
    let o = cl_order(&s, sale.id());
    assert_eq!(cl_attr(&o, "status"), "cancelled");
    assert_eq!(cl_attr(&o, "payment_status"), "voided");
    // A second void: Commerce Layer says why not.
    let e = run(&c, &sale, "v2", OperationKind::Void, 14625, &[]).unwrap_err();
    assert!(e.to_string().contains("the order is cancelled"), "{e}");
    // Approved by staff in the dashboard: the authorization's `_void`.
    let approved = paid(&s, &c, CapturePolicy::Manual);
    approve(&s, approved.id());
    run(&c, &approved, "v3", OperationKind::Void, 14625, &[]).unwrap();
    assert!(state(&c, &approved).voided);
    let o = cl_order(&s, approved.id());
    assert_eq!(cl_attr(&o, "status"), "approved");
    assert_eq!(cl_attr(&o, "payment_status"), "voided");
}

/// Staff approve an order in Commerce Layer's dashboard (an integration's `_approve`).
fn approve(s: &Sandbox, order_id: &str) {
    let http = Http::new(HttpConfig::default()).unwrap();
    let a = account(false);
    let token = http
        .send(
            "test",
            &Request::new(
                Method::Post,
                format!("{}/oauth/token", s.commercelayer_base_url()),
            )
            .json(
                json!({"grant_type": "client_credentials", "client_id": a.client_id,
                       "client_secret": a.client_secret})
                .to_string()
                .into_bytes(),
            ),
        )
        .unwrap();
    let token: Value = serde_json::from_slice(&token.body).unwrap();
    let mut req = Request::new(
        Method::Patch,
        format!("{}/api/orders/{order_id}", s.commercelayer_base_url()),
    )
    .header("accept", "application/vnd.api+json")
    .header("content-type", "application/vnd.api+json")
    .header(
        "authorization",
        format!("Bearer {}", token["access_token"].as_str().unwrap()),
    );
    req.body = Some(
        json!({"data": {"type": "orders", "id": order_id, "attributes": {"_approve": true}}})
            .to_string()
            .into_bytes(),
    );
    let r = http.send("test", &req).unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn a_captured_payment_is_not_voided() {
    let s = sandbox();
    let c = client(&s);
    // Captured in full (the order approved): Commerce Layer refuses the authorization's void.
    let sale = paid(&s, &c, CapturePolicy::AtSale);
    run(&c, &sale, "c", OperationKind::Capture, 14625, &[]).unwrap();
    let e = run(&c, &sale, "v", OperationKind::Void, 0, &[]).unwrap_err();
    assert_eq!(e.code(), kassa_core::code::Code::ProviderRejected);
    assert!(e.to_string().contains("refund its captures instead"), "{e}");
    // Captured in part: the rest is not voided (checkout.com voids uncaptured payments only).
    let part = paid(&s, &c, CapturePolicy::Manual);
    run(&c, &part, "c", OperationKind::Capture, 4625, &[]).unwrap();
    let e = run(&c, &part, "v", OperationKind::Void, 10000, &[]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Unsupported { .. }), "{e:?}");
    let p = state(&c, &part);
    assert!(!p.voided);
    assert_eq!(p.capturable(), 10000);
}

#[test]
fn a_declining_gateway_is_a_failure_even_with_http_200() {
    let s = sandbox();
    let c = client(&s);
    let sale = paid(&s, &c, CapturePolicy::AtSale);
    gateway(&s, &["captures", "refunds", "voids"]);
    for (kind, amount) in [
        (OperationKind::Capture, 14625),
        (OperationKind::Void, 14625),
    ] {
        let e = run(&c, &sale, "declined", kind, amount, &[]).unwrap_err();
        match &e.kind {
            ErrorKind::Rejected {
                status,
                code,
                message,
            } => {
                assert_eq!((*status, code.as_deref()), (200, Some("20005")));
                assert!(message.contains("declined") && message.contains("no money moved"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!e.may_have_reached_provider(), "the answer is clear");
    }
    let p = state(&c, &sale);
    assert_eq!((p.captured, p.voided), (0, false));
    assert_eq!(
        ops(&p, OperationKind::Capture),
        [(14625, None, ProviderOutcome::Failed)]
    );
    assert!(
        p.detail.contains("2 declined by the gateway"),
        "{}",
        p.detail
    );
    // The order was neither approved nor cancelled by the failed triggers.
    assert_eq!(cl_attr(&cl_order(&s, sale.id()), "status"), "placed");
    gateway(&s, &["refunds"]);
    run(&c, &sale, "c", OperationKind::Capture, 14625, &[]).unwrap();
    let e = run(&c, &sale, "r", OperationKind::Refund, 500, &[]).unwrap_err();
    assert!(e.to_string().contains("HTTP 200 20005"), "{e}");
    assert_eq!(state(&c, &sale).refunded, 0);
}

fn gateway(s: &Sandbox, decline: &[&str]) {
    let body = json!({ "decline": decline }).to_string();
    let mut tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    use std::io::{Read, Write};
    write!(
        tcp,
        "PUT /_control/commercelayer/gateway HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        s.addr(),
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

fn fault(s: &Sandbox, fault: Value) {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(Method::Post, format!("{}/_control/faults", s.url()))
                .json(json!({ "faults": [fault] }).to_string().into_bytes()),
        )
        .unwrap();
    assert_eq!(r.status, 204);
}

/// A refund whose answer is lost (the emulator refunds, then holds its answer past the
/// client's timeout; or cuts it in half): the error says it may have happened, and the payment
/// state shows the refund exactly once. Commerce Layer keeps no reference of Kassa's at
/// creation, so it carries none: `checkout` matches it with the operations read before.
#[test]
fn an_unclear_refund_shows_in_the_payment_exactly_once() {
    let s = sandbox();
    let quick = HttpConfig {
        timeout: Duration::from_millis(700),
        ..HttpConfig::default()
    };
    let c = client_with(&s, false, quick);
    let sale = paid(&s, &c, CapturePolicy::AtSale);
    run(&c, &sale, "c", OperationKind::Capture, 14625, &[]).unwrap();
    fault(
        &s,
        json!({"method": "PATCH", "path": "/api/captures/", "kind": "timeout", "ms": 2000}),
    );
    let e = run(&c, &sale, "r-lost", OperationKind::Refund, 3000, &[]).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::Timeout { sent: true, .. }),
        "{e:?}"
    );
    assert!(e.may_have_reached_provider());
    let p = state(&c, &sale);
    assert_eq!(p.refunded, 3000);
    assert_eq!(
        ops(&p, OperationKind::Refund),
        [(3000, None, ProviderOutcome::Succeeded)]
    );
    // A truncated answer: the same.
    fault(
        &s,
        json!({"method": "PATCH", "path": "/api/captures/", "kind": "truncated"}),
    );
    let e = run(&c, &sale, "r-cut", OperationKind::Refund, 1000, &[]).unwrap_err();
    assert!(e.may_have_reached_provider(), "{e:?}");
    let p = state(&c, &sale);
    assert_eq!(p.refunded, 4000);
    assert_eq!(ops(&p, OperationKind::Refund).len(), 2);
    // A 503 before the work: nothing happened, and the request was not repeated.
    fault(
        &s,
        json!({"method": "PATCH", "path": "/api/captures/", "kind": "status", "status": 503}),
    );
    let e = run(&c, &sale, "r-503", OperationKind::Refund, 1000, &[]).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::Server { status: 503, .. }),
        "{e:?}"
    );
    assert_eq!(state(&c, &sale).refunded, 4000);
    // 429: refused, nothing happened.
    fault(
        &s,
        json!({"method": "PATCH", "path": "/api/authorizations/", "kind": "rate_limit", "retry_after": 1}),
    );
    let manual = paid(&s, &c, CapturePolicy::Manual);
    let e = run(&c, &manual, "c-429", OperationKind::Capture, 100, &[]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::RateLimited { .. }), "{e:?}");
    assert_eq!(state(&c, &manual).captured, 0);
    // Not JSON after the work: may have happened, and did.
    fault(
        &s,
        json!({"method": "PATCH", "path": "/api/authorizations/", "kind": "not_json"}),
    );
    let e = run(&c, &manual, "c-html", OperationKind::Capture, 100, &[]).unwrap_err();
    assert!(e.may_have_reached_provider(), "{e:?}");
    assert_eq!(state(&c, &manual).captured, 100);
}

#[test]
fn cancelling_an_unpaid_sale_expires_its_order_and_disables_its_link() {
    let s = sandbox();
    let c = client(&s);
    let sale = open(&c, CapturePolicy::AtSale, Presentation::Qr);
    assert_eq!(cl_attr(&cl_order(&s, sale.id()), "status"), "pending");
    let report = c.cancel(&sale.session()).unwrap();
    assert_eq!(report.status, Status::Cancelled, "{}", report.detail);
    assert!(
        report.detail.contains("can no longer be placed") && report.detail.contains("disabled"),
        "{}",
        report.detail
    );
    let o = cl_order(&s, sale.id());
    assert_eq!(
        cl_attr(&o, "status"),
        "pending",
        "never _cancel on a pending order"
    );
    assert!(parse_utc(cl_attr(&o, "expires_at").as_str().unwrap()).unwrap() <= now_millis());
    assert_eq!(
        cl_included(&o, "links")[0]["attributes"]["status"],
        "disabled"
    );
    let (st, r) = outcome(&s, sale.id(), "pay");
    assert_eq!(st, 409, "{r}");
    // Asked again, the order reads as over (Commerce Layer has no expired status).
    assert_eq!(c.status(&sale.session()).unwrap().status, Status::Expired);
    // The customer's "back to cart" in the window cancels the same way.
    let window = open(&c, CapturePolicy::AtSale, Presentation::Webview);
    let r = c
        .returned(
            &window.session(),
            "https://kassa.invalid/return?kassa=cancelled",
        )
        .unwrap();
    let report = r.report.unwrap();
    assert_eq!(report.status, Status::Cancelled, "{}", report.detail);
    assert!(report
        .detail
        .starts_with("the customer went back to the till"));
    assert_eq!(outcome(&s, window.id(), "pay").0, 409);
    // A sale paid meanwhile is reported paid, not cancelled.
    let paid_sale = paid(&s, &c, CapturePolicy::AtSale);
    assert_eq!(c.cancel(&paid_sale.session()).unwrap().status, Status::Paid);
    assert_eq!(
        cl_attr(&cl_order(&s, paid_sale.id()), "payment_status"),
        "authorized"
    );
}

/// An authorization whose placement failed holds the customer's money on an order that is
/// still pending: cancelling the sale voids it (the authorization's own `_cancel`).
#[test]
fn cancelling_voids_an_authorization_whose_placement_failed() {
    let s = sandbox();
    let c = client(&s);
    let sale = open(&c, CapturePolicy::AtSale, Presentation::Qr);
    assert_eq!(outcome(&s, sale.id(), "authorize").0, 200);
    assert_eq!(c.status(&sale.session()).unwrap().status, Status::Open);
    let report = c.cancel(&sale.session()).unwrap();
    assert_eq!(report.status, Status::Cancelled);
    assert!(report.detail.contains("voided"), "{}", report.detail);
    let o = cl_order(&s, sale.id());
    assert_eq!(cl_attr(&o, "payment_status"), "unpaid");
    let voids = cl_included(&o, "voids");
    assert_eq!(voids.len(), 1);
    assert_eq!(voids[0]["attributes"]["amount_cents"], 14625);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Refunds by any lines (the same line again too), one after another: each is accepted
    /// exactly when it fits in what is captured and not yet refunded, and the refunded total
    /// is the sum of the accepted lines' gross.
    #[test]
    fn refunds_by_random_lines_sum_right(picks in proptest::collection::vec(0usize..3, 1..6)) {
        let s = sandbox();
        let c = client(&s);
        let sale = paid(&s, &c, CapturePolicy::AtSale);
        let gross = sale.order.total.gross;
        run(&c, &sale, "c", OperationKind::Capture, gross, &[]).unwrap();
        let mut refunded = 0;
        for (n, i) in picks.into_iter().enumerate() {
            let line = [whole_line(&sale, i)];
            let amount = line[0].gross;
            let result = run(&c, &sale, &format!("r{n}"), OperationKind::Refund, amount, &line);
            prop_assert_eq!(result.is_ok(), refunded + amount <= gross, "{:?}", result);
            if result.is_ok() {
                refunded += amount;
            }
            let p = state(&c, &sale);
            prop_assert_eq!(p.refunded, refunded);
            prop_assert_eq!(p.captured, gross);
        }
    }
}
