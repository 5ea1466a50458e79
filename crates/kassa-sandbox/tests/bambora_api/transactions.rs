//! After the sale: the Merchant API's transaction and operations list, and the Transaction
//! API's capture, credit and delete with their rules (amounts, state, body fields and types,
//! lines), the instant capture, and the shared faults on the new endpoints.

use crate::common::{
    api_key, call, control, key, merchant_message, other_merchant, post, query, sandbox, send,
    session_body,
};
use kassa_core::http::{Http, HttpConfig, HttpError, Method, Request};
use kassa_sandbox::Sandbox;
use serde_json::{json, Value};
use std::time::Duration;

/// Creates a session from `body`, lets the customer do `outcome` (`pay` or
/// `pay_capture_declined`) and returns the transaction id.
fn paid(s: &Sandbox, body: Value, outcome: &str) -> String {
    let (st, v) = post(s, &key(), "/sessions", body);
    assert_eq!(st, 200, "{v}");
    let token = v["token"].as_str().unwrap();
    let (st, r) = control(
        s,
        &format!("/bambora/sessions/{token}/outcome"),
        json!({"outcome": outcome}),
    );
    assert_eq!(st, 200, "{r}");
    let redirect: Value = serde_json::from_str(&r).unwrap();
    let params = query(redirect["redirect"].as_str().unwrap());
    params.iter().find(|(k, _)| k == "txnid").unwrap().1.clone()
}

/// The session body of order `id` with `instantcaptureamount` and `capturemulti` as given.
fn body(id: &str, instant: i64, multi: Option<bool>) -> Value {
    let mut b = session_body(id);
    b["instantcaptureamount"] = json!(instant);
    if let Some(m) = multi {
        b["capturemulti"] = json!(m);
    }
    b
}

fn transaction(s: &Sandbox, txnid: &str) -> Value {
    let (st, v) = call(s, Method::Get, &key(), &format!("/transactions/{txnid}"));
    assert_eq!(st, 200, "{v}");
    v["transaction"].clone()
}

fn operations(s: &Sandbox, txnid: &str) -> Vec<Value> {
    let (st, v) = call(
        s,
        Method::Get,
        &key(),
        &format!("/transactions/{txnid}/transactionoperations"),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["meta"]["result"], true);
    v["transactionoperations"].as_array().unwrap().clone()
}

fn act(s: &Sandbox, txnid: &str, action: &str, body: Value) -> (u16, Value) {
    post(s, &key(), &format!("/transactions/{txnid}/{action}"), body)
}

fn amount(a: i64) -> Value {
    json!({"amount": a, "currency": "NOK"})
}

/// (total.captured, total.credited, available.capture, available.credit, candelete).
fn figures(t: &Value) -> (i64, i64, i64, i64, bool) {
    (
        t["total"]["captured"].as_i64().unwrap(),
        t["total"]["credited"].as_i64().unwrap(),
        t["available"]["capture"].as_i64().unwrap(),
        t["available"]["credit"].as_i64().unwrap(),
        t["candelete"].as_bool().unwrap(),
    )
}

/// The one new operation of an answer: (action, subaction, status, amount).
fn new_operation(v: &Value) -> (String, String, String, i64) {
    assert_eq!(v["meta"]["result"], true, "{v}");
    let ops = v["transactionoperations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{v}");
    let op = &ops[0];
    assert!(op["id"].is_u64(), "{op}");
    (
        op["action"].as_str().unwrap().into(),
        op["subaction"].as_str().unwrap().into(),
        op["status"].as_str().unwrap().into(),
        op["amount"].as_i64().unwrap(),
    )
}

fn op(action: &str, subaction: &str, status: &str, amount: i64) -> (String, String, String, i64) {
    (action.into(), subaction.into(), status.into(), amount)
}

#[test]
fn an_instant_capture_is_an_approved_capture_under_the_authorization() {
    let s = sandbox();
    let txnid = paid(&s, session_body("IC1"), "pay");
    let t = transaction(&s, &txnid);
    assert_eq!(figures(&t), (7744, 0, 0, 7744, false));
    assert_eq!(t["status"], "captured");
    let ops = operations(&s, &txnid);
    assert_eq!(ops.len(), 1);
    let (auth, capture) = (&ops[0], &ops[0]["transactionoperations"][0]);
    assert_eq!(
        (&auth["action"], &auth["status"], &auth["amount"]),
        (&json!("authorize"), &json!("approved"), &json!(7744))
    );
    assert_eq!(
        (
            &capture["action"],
            &capture["subaction"],
            &capture["status"]
        ),
        (&json!("capture"), &json!("fullinstant"), &json!("approved"))
    );
    assert_eq!(capture["parenttransactionoperationid"], auth["id"]);
    assert_eq!(capture["currency"]["code"], "NOK");
    // Nothing more to capture, and a captured transaction cannot be deleted.
    let (st, v) = act(&s, &txnid, "capture", amount(1));
    assert_eq!(st, 409);
    assert!(
        merchant_message(&v).contains("nothing more can be captured"),
        "{v}"
    );
    let (st, v) = act(&s, &txnid, "delete", Value::Null);
    assert_eq!(st, 409);
    assert!(merchant_message(&v).contains("credit it instead"), "{v}");
}

#[test]
fn a_declined_instant_capture_leaves_the_authorization_to_capture() {
    let s = sandbox();
    let txnid = paid(&s, session_body("ICD1"), "pay_capture_declined");
    let t = transaction(&s, &txnid);
    assert_eq!(figures(&t), (0, 0, 7744, 0, true));
    assert_eq!(t["total"]["authorized"], 7744);
    let capture = &operations(&s, &txnid)[0]["transactionoperations"][0];
    assert_eq!(
        (&capture["subaction"], &capture["status"]),
        (&json!("fullinstant"), &json!("declined"))
    );
    assert!(capture["actioncode"].is_string());
    let (st, v) = act(&s, &txnid, "capture", amount(7744));
    assert_eq!(st, 200, "{v}");
    assert_eq!(new_operation(&v), op("capture", "full", "approved", 7744));
    assert_eq!(figures(&transaction(&s, &txnid)), (7744, 0, 0, 7744, false));
}

#[test]
fn a_capture_takes_at_most_what_is_authorized_and_once_without_capturemulti() {
    let s = sandbox();
    let txnid = paid(&s, body("CAP1", 0, None), "pay");
    assert_eq!(figures(&transaction(&s, &txnid)), (0, 0, 7744, 0, true));
    let (st, v) = act(&s, &txnid, "capture", amount(7745));
    assert_eq!(st, 409);
    assert!(
        merchant_message(&v).contains("amount 7745 exceeds what can be captured")
            && merchant_message(&v).contains("(7744)"),
        "{v}"
    );
    let (st, v) = act(&s, &txnid, "capture", amount(3000));
    assert_eq!(st, 200, "{v}");
    assert_eq!(new_operation(&v), op("capture", "partly", "approved", 3000));
    // Without capturemulti the first capture is the last: the rest is no longer offered.
    assert_eq!(figures(&transaction(&s, &txnid)), (3000, 0, 0, 3000, false));
    let (st, v) = act(&s, &txnid, "capture", amount(1000));
    assert_eq!(st, 409);
    assert!(merchant_message(&v).contains("without capturemulti"), "{v}");

    // With capturemulti: captures until the authorization is used.
    let txnid = paid(&s, body("CAP2", 0, Some(true)), "pay");
    for (a, subaction) in [(3000, "multi"), (4744, "multi")] {
        let (st, v) = act(&s, &txnid, "capture", amount(a));
        assert_eq!(st, 200, "{v}");
        assert_eq!(new_operation(&v), op("capture", subaction, "approved", a));
    }
    assert_eq!(figures(&transaction(&s, &txnid)), (7744, 0, 0, 7744, false));
    let (st, v) = act(&s, &txnid, "capture", amount(1));
    assert_eq!(st, 409);
    assert!(
        merchant_message(&v).contains("exceeds what can be captured"),
        "{v}"
    );
    // The operations list keeps them, oldest first, beside the authorization.
    let actions: Vec<(String, i64)> = operations(&s, &txnid)
        .iter()
        .map(|o| {
            (
                o["action"].as_str().unwrap().into(),
                o["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("authorize".into(), 7744),
            ("capture".into(), 3000),
            ("capture".into(), 4744)
        ]
    );
    // capturemulti is a boolean.
    let mut b = body("CAP3", 0, None);
    b["capturemulti"] = json!("yes");
    let (st, v) = post(&s, &key(), "/sessions", b);
    assert_eq!(st, 400);
    assert!(
        merchant_message(&v).contains("capturemulti must be true or false"),
        "{v}"
    );
}

#[test]
fn a_credit_takes_at_most_what_is_captured_and_not_credited() {
    let s = sandbox();
    let txnid = paid(&s, body("CRE1", 0, None), "pay");
    // Nothing captured: nothing to credit (an authorization is deleted instead).
    let (st, v) = act(&s, &txnid, "credit", amount(100));
    assert_eq!(st, 409);
    assert!(
        merchant_message(&v).contains("nothing captured to credit"),
        "{v}"
    );
    assert_eq!(act(&s, &txnid, "capture", amount(7744)).0, 200);
    let (st, v) = act(&s, &txnid, "credit", amount(7745));
    assert_eq!(st, 409);
    assert!(
        merchant_message(&v).contains("captured 7744 − credited 0 = 7744"),
        "{v}"
    );
    let (st, v) = act(&s, &txnid, "credit", amount(2000));
    assert_eq!(st, 200, "{v}");
    assert_eq!(new_operation(&v), op("credit", "partly", "approved", 2000));
    let (st, v) = act(&s, &txnid, "credit", amount(5745));
    assert_eq!(st, 409);
    assert!(
        merchant_message(&v).contains("captured 7744 − credited 2000 = 5744"),
        "{v}"
    );
    let (st, v) = act(&s, &txnid, "credit", amount(5744));
    assert_eq!(st, 200, "{v}");
    assert_eq!(new_operation(&v), op("credit", "multi", "approved", 5744));
    let t = transaction(&s, &txnid);
    assert_eq!(figures(&t), (7744, 7744, 0, 0, false));
    assert_eq!(t["total"]["balance"], 0);
    assert_eq!(act(&s, &txnid, "credit", amount(1)).0, 409);
}

#[test]
fn a_delete_voids_only_an_uncaptured_authorization() {
    let s = sandbox();
    let txnid = paid(&s, body("DEL1", 0, None), "pay");
    let (st, v) = act(&s, &txnid, "delete", Value::Null);
    assert_eq!(st, 200, "{v}");
    assert_eq!(new_operation(&v), op("delete", "instant", "approved", 0));
    let t = transaction(&s, &txnid);
    assert_eq!(figures(&t), (0, 0, 0, 0, false));
    assert_eq!(t["status"], "deleted");
    let (st, v) = act(&s, &txnid, "delete", Value::Null);
    assert_eq!(st, 409);
    assert!(merchant_message(&v).contains("already deleted"), "{v}");
    let (st, v) = act(&s, &txnid, "capture", amount(100));
    assert_eq!(st, 409);
    assert!(merchant_message(&v).contains("is deleted"), "{v}");
    // Captured in part: credit, not delete.
    let txnid = paid(&s, body("DEL2", 0, None), "pay");
    assert_eq!(act(&s, &txnid, "capture", amount(100)).0, 200);
    let (st, v) = act(&s, &txnid, "delete", Value::Null);
    assert_eq!(st, 409);
    assert!(
        merchant_message(&v).contains("has 100 captured and cannot be deleted"),
        "{v}"
    );
}

#[test]
fn capture_and_credit_bodies_are_checked_field_by_field() {
    let s = sandbox();
    let txnid = paid(&s, body("BODY1", 0, Some(true)), "pay");
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"currency": "NOK"}), &["amount is required"]),
        (
            json!({"amount": "100", "currency": "NOK"}),
            &["amount must be an integer"],
        ),
        (
            json!({"amount": 1.5, "currency": "NOK"}),
            &["amount must be an integer"],
        ),
        (
            json!({"amount": 0, "currency": "NOK"}),
            &["amount 0 must be greater than 0"],
        ),
        (json!({"amount": 100}), &["currency is required"]),
        (
            json!({"amount": 100, "currency": "SEK"}),
            &["currency \"SEK\" is not the transaction's currency NOK"],
        ),
        (
            json!({"amount": 100, "currency": "NOK", "reference": "x"}),
            &["reference is not a known field"],
        ),
        (
            json!({"amount": 100, "currency": "NOK", "invoicelines": []}),
            &["invoicelines must be a non-empty array"],
        ),
        (json!([100]), &["the body must be a JSON object"]),
    ];
    for (i, (b, expected)) in cases.into_iter().enumerate() {
        for action in ["capture", "credit"] {
            let (st, v) = act(&s, &txnid, action, b.clone());
            assert_eq!(st, 400, "case {i} {action}: {v}");
            let m = merchant_message(&v);
            for e in expected {
                assert!(m.contains(e), "case {i} {action}: missing {e:?} in {m}");
            }
        }
    }
    let (st, v) = send(
        Request::new(
            Method::Post,
            format!("{}/transactions/{txnid}/capture", s.bambora_base_url()),
        )
        .header("authorization", key())
        .header("content-type", "text/plain"),
    );
    assert_eq!(st, 400);
    assert!(merchant_message(&v).contains("application/json"), "{v}");
    // Nothing refused moved money.
    assert_eq!(figures(&transaction(&s, &txnid)), (0, 0, 7744, 0, true));
}

/// Bambora lines of 3 pcs for 5000 at 25 % as Kassa sends them: 2 × 1667 + 1 × 1666.
fn split_lines() -> Value {
    json!([
        {"id": "KAFFE-1", "linenumber": "1", "description": "Kaffe", "text": "Kaffe",
         "quantity": 2, "unit": "pcs", "unitprice": 1334, "unitpriceinclvat": 1667,
         "unitpricevatamount": 333, "totalprice": 2667, "totalpriceinclvat": 3334,
         "totalpricevatamount": 667, "vat": 25},
        {"id": "KAFFE-1", "linenumber": "2", "description": "Kaffe", "text": "Kaffe",
         "quantity": 1, "unit": "pcs", "unitprice": 1333, "unitpriceinclvat": 1666,
         "unitpricevatamount": 333, "totalprice": 1333, "totalpriceinclvat": 1666,
         "totalpricevatamount": 333, "vat": 25}
    ])
}

#[test]
fn invoicelines_must_be_exact_and_sum_to_the_amount() {
    let s = sandbox();
    let txnid = paid(&s, body("LINES1", 0, Some(true)), "pay");
    let lines = split_lines();
    let with =
        |a: i64, lines: &Value| json!({"amount": a, "currency": "NOK", "invoicelines": lines});
    // Lines that do not sum to the amount.
    let (st, v) = act(&s, &txnid, "capture", with(5001, &lines));
    assert_eq!(st, 400);
    assert!(
        merchant_message(&v)
            .contains("amount 5001 must equal the sum of invoicelines[].totalpriceinclvat (5000)"),
        "{v}"
    );
    // One line at 3 × 1667 for 5000 (the rounded unit price) is not exact.
    let rounded = json!([{"id": "KAFFE-1", "linenumber": "1", "description": "Kaffe",
        "quantity": 3, "unit": "pcs", "unitprice": 1334, "unitpriceinclvat": 1667,
        "unitpricevatamount": 333, "totalprice": 4000, "totalpriceinclvat": 5000,
        "totalpricevatamount": 1000, "vat": 25}]);
    let (st, v) = act(&s, &txnid, "capture", with(5000, &rounded));
    assert_eq!(st, 400);
    assert!(
        merchant_message(&v).contains(
            "invoicelines[0].unitpriceinclvat 1667 × quantity 3 must equal totalpriceinclvat 5000 exactly"
        ),
        "{v}"
    );
    // The same article as two exact lines is taken, for a capture and a credit.
    let (st, v) = act(&s, &txnid, "capture", with(5000, &lines));
    assert_eq!(st, 200, "{v}");
    let (st, v) = act(&s, &txnid, "credit", with(1666, &json!([lines[1]])));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        figures(&transaction(&s, &txnid)),
        (5000, 1666, 2744, 3334, false)
    );
    // A credit's line carries its share of the charged line's VAT, which may be a few minor
    // units from the VAT in its own total (333.2 here): taken; a VAT beyond the total is not.
    let mut share = lines[1].clone();
    share["totalpricevatamount"] = json!(330);
    share["totalprice"] = json!(1336);
    share["unitpricevatamount"] = json!(330);
    share["unitprice"] = json!(1336);
    let (st, v) = act(&s, &txnid, "credit", with(1666, &json!([share])));
    assert_eq!(st, 200, "{v}");
    share["totalpricevatamount"] = json!(1667);
    share["totalprice"] = json!(-1);
    let (st, v) = act(&s, &txnid, "credit", with(1666, &json!([share])));
    assert_eq!(st, 400);
    assert!(
        merchant_message(&v).contains(
            "invoicelines[0].totalpricevatamount 1667 must lie between 0 and totalpriceinclvat 1666"
        ),
        "{v}"
    );
}

#[test]
fn the_api_key_and_the_merchant_guard_every_new_endpoint() {
    let s = sandbox();
    let txnid = paid(&s, body("AUTH1", 0, None), "pay");
    let other = other_merchant(&s);
    let wrong = api_key("bambora-access-3f9c", "T123456789", "not-the-secret");
    for action in ["capture", "credit", "delete"] {
        let path = format!("/transactions/{txnid}/{action}");
        let (st, v) = post(&s, &wrong, &path, amount(100));
        assert_eq!(st, 401, "{action}: {v}");
        let (st, v) = post(&s, &other, &path, amount(100));
        assert_eq!(st, 404, "{action}: {v}");
        assert!(merchant_message(&v).contains(&format!("transaction {txnid}")));
        let (st, _) = post(
            &s,
            &key(),
            &format!("/transactions/70009999999/{action}"),
            amount(1),
        );
        assert_eq!(st, 404);
    }
    // Only those three: a refund is called a credit.
    let (st, v) = post(
        &s,
        &key(),
        &format!("/transactions/{txnid}/refund"),
        amount(1),
    );
    assert_eq!(st, 404);
    assert!(merchant_message(&v).contains("\"refund\""), "{v}");
    let ops = format!("/transactions/{txnid}/transactionoperations");
    assert_eq!(call(&s, Method::Get, &wrong, &ops).0, 401);
    assert_eq!(call(&s, Method::Get, &other, &ops).0, 404);
    // None of it touched the transaction.
    assert_eq!(figures(&transaction(&s, &txnid)), (0, 0, 7744, 0, true));
}

fn faults(s: &Sandbox, faults: Value) {
    let (st, body) = control(s, "/faults", json!({ "faults": faults }));
    assert_eq!(st, 204, "{body}");
}

#[test]
fn faults_reach_the_new_endpoints_and_a_timeout_still_does_the_work() {
    let s = sandbox();
    let txnid = paid(&s, session_body("FLT1"), "pay");
    faults(
        &s,
        json!([{"method": "POST", "path": "/credit", "kind": "status", "status": 503}]),
    );
    let (st, v) = act(&s, &txnid, "credit", amount(100));
    assert_eq!(st, 503);
    assert!(merchant_message(&v).contains("injected HTTP 503"), "{v}");
    faults(
        &s,
        json!([{"path": "/transactionoperations", "kind": "rate_limit", "retry_after": 7}]),
    );
    let (st, v) = call(
        &s,
        Method::Get,
        &key(),
        &format!("/transactions/{txnid}/transactionoperations"),
    );
    assert_eq!(st, 429, "{v}");
    // The injected 503 did nothing; a credit whose answer is lost did its work.
    assert_eq!(figures(&transaction(&s, &txnid)).1, 0);
    faults(
        &s,
        json!([{"path": "/credit", "kind": "timeout", "ms": 1500}]),
    );
    let quick = Http::new(HttpConfig {
        timeout: Duration::from_millis(400),
        attempts: 1,
        ..HttpConfig::default()
    })
    .unwrap();
    let sent = quick.send(
        "test",
        &Request::new(
            Method::Post,
            format!("{}/transactions/{txnid}/credit", s.bambora_base_url()),
        )
        .header("authorization", key())
        .json(amount(100).to_string().into_bytes()),
    );
    assert!(
        matches!(sent, Err(HttpError::Timeout { sent: true, .. })),
        "{sent:?}"
    );
    assert_eq!(figures(&transaction(&s, &txnid)).1, 100);
    let credits = operations(&s, &txnid)
        .iter()
        .filter(|o| o["action"] == "credit")
        .count();
    assert_eq!(credits, 1);
}
