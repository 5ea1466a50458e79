//! The Dintero emulator over real HTTP, with hand-built requests (not Kassa's client), so its
//! rules stand on their own: auth, error shapes and status codes, the amount rules, the session
//! and transaction life cycle, and the hosted page.

use base64::Engine;
use kassa_core::http::{Http, HttpConfig, Method, Request, Response};
use kassa_sandbox::{Config, DinteroAccount, Sandbox};
use serde_json::{json, Value};

const AID: &str = "T11223344";

fn sandbox() -> Sandbox {
    Sandbox::start(
        0,
        Config {
            state_file: None,
            dintero_accounts: vec![DinteroAccount {
                account_id: AID.into(),
                client_id: "dintero-cid-4b8e".into(),
                client_secret: "dintero-csecret-91d7".into(),
            }],
            ..Default::default()
        },
    )
    .unwrap()
}

fn send(req: Request) -> (u16, Value) {
    let r: Response = Http::new(HttpConfig::default())
        .unwrap()
        .send("test", &req)
        .unwrap();
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn token_request(s: &Sandbox, auth: &str, body: Value) -> (u16, Value) {
    send(
        Request::new(
            Method::Post,
            format!("{}/v1/accounts/{AID}/auth/token", s.dintero_base_url()),
        )
        .header("authorization", auth.to_string())
        .json(body.to_string().into_bytes()),
    )
}

fn token(s: &Sandbox) -> String {
    let (status, v) = token_request(
        s,
        &basic("dintero-cid-4b8e", "dintero-csecret-91d7"),
        json!({"grant_type": "client_credentials", "audience": format!("https://api.dintero.com/v1/accounts/{AID}")}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    format!("Bearer {}", v["access_token"].as_str().unwrap())
}

fn order_body(amount: i64) -> Value {
    json!({
        "profile_id": "default",
        "url": {"return_url": "https://shop.example/return"},
        "order": {
            "amount": amount, "currency": "NOK", "merchant_reference": "R-77", "vat_amount": 1199,
            "items": [{"id": "k", "line_id": "1", "description": "Kaffe", "quantity": 3,
                       "amount": 5997, "vat_amount": 1199, "vat": 25}]
        },
        "configuration": {"channel": "in_store"}
    })
}

fn create(s: &Sandbox, bearer: &str, body: Value, strict: bool) -> (u16, Value) {
    let mut r = Request::new(
        Method::Post,
        format!(
            "{}/v1/sessions-profile?include_session=true",
            s.dintero_base_url()
        ),
    )
    .header("authorization", bearer.to_string());
    if strict {
        r = r.header("dintero-feature-toggles", "strict-session-amounts");
    }
    send(r.json(body.to_string().into_bytes()))
}

fn get(s: &Sandbox, bearer: &str, path: &str) -> (u16, Value) {
    send(
        Request::new(Method::Get, format!("{}{path}", s.dintero_base_url()))
            .header("authorization", bearer.to_string()),
    )
}

#[test]
fn the_token_endpoint_checks_basic_auth_and_the_audience() {
    let s = sandbox();
    let good = json!({"grant_type": "client_credentials", "audience": format!("https://api.dintero.com/v1/accounts/{AID}")});
    let (st, v) = token_request(&s, &basic("dintero-cid-4b8e", "wrong"), good.clone());
    assert_eq!(st, 401);
    assert_eq!(v["error"]["message"], "invalid client credentials");
    let (st, _) = token_request(&s, "Bearer nope", good);
    assert_eq!(st, 401);
    let (st, v) = token_request(
        &s,
        &basic("dintero-cid-4b8e", "dintero-csecret-91d7"),
        json!({"grant_type": "client_credentials"}),
    );
    assert_eq!(st, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("audience is required"));
    let other = json!({"grant_type": "client_credentials", "audience": "https://api.dintero.com/v1/accounts/T99999999"});
    let (st, _) = token_request(
        &s,
        &basic("dintero-cid-4b8e", "dintero-csecret-91d7"),
        other,
    );
    assert_eq!(st, 403);
    token(&s);
}

#[test]
fn sessions_need_a_bearer_token_and_valid_amounts() {
    let s = sandbox();
    let (st, v) = create(&s, "Bearer forged", order_body(5997), true);
    assert_eq!(st, 401);
    assert_eq!(v["error"]["code"], "UNAUTHORIZED");
    let bearer = token(&s);
    // strict-session-amounts: the order amount must be the sum of the items.
    let (st, v) = create(&s, &bearer, order_body(6000), true);
    assert_eq!(st, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("must equal the sum"),
        "{v}"
    );
    assert!(v["error"]["errors"].is_array());
    let mut fraction = order_body(5997);
    fraction["order"]["items"][0]["vat"] = json!(0.25);
    let (st, v) = create(&s, &bearer, fraction, true);
    assert_eq!(st, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("looks like a fraction"));
    let (st, v) = create(&s, &bearer, order_body(5997), true);
    assert_eq!(st, 200, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert!(id.starts_with(&format!("{AID}.")));
    assert!(v["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/v1/view/{id}")));
    assert!(v["session"]["expires_at"].is_string());

    // A new session has no transaction; paying on the hosted page makes one, AUTHORIZED.
    let (st, sess) = get(&s, &bearer, &format!("/v1/sessions/{id}"));
    assert_eq!(st, 200);
    assert!(sess.get("transaction_id").is_none());
    assert_eq!(sess["events"][0]["name"], "INITIATED");
    let page = v["url"].as_str().unwrap();
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send("t", &Request::new(Method::Get, page))
        .unwrap();
    let html = String::from_utf8(r.body).unwrap();
    assert!(
        html.contains("Kaffe") && html.contains("59.97 NOK") && html.contains("/pay\""),
        "{html}"
    );
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send("t", &Request::new(Method::Post, format!("{page}/pay")))
        .unwrap();
    assert_eq!(r.status, 303);
    let (_, sess) = get(&s, &bearer, &format!("/v1/sessions/{id}"));
    let tid = sess["transaction_id"].as_str().unwrap().to_string();
    let (st, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    assert_eq!(st, 200);
    assert_eq!(
        (t["status"].as_str(), t["amount"].as_i64()),
        (Some("AUTHORIZED"), Some(5997))
    );
    let (_, list) = get(&s, &bearer, "/v1/transactions?merchant_reference=R-77");
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Cancel voids the authorization.
    let (st, c) = send(
        Request::new(
            Method::Post,
            format!("{}/v1/sessions/{id}/cancel", s.dintero_base_url()),
        )
        .header("authorization", bearer.clone()),
    );
    assert_eq!(st, 200);
    assert!(c["cancelled_at"].is_string());
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    assert_eq!(t["status"], "AUTHORIZATION_VOIDED");
    let (st, v) = get(&s, &bearer, "/v1/sessions/T11223344.nothere");
    assert_eq!(st, 404);
    assert_eq!(v["error"]["code"], "NOT_FOUND");
}

// ---- after the sale: capture, refund, void (facts §1 of the after-sale notes, S:372–727) ----

fn post(s: &Sandbox, bearer: &str, path: &str, body: Option<Value>) -> (u16, Value, Response) {
    let mut r = Request::new(Method::Post, format!("{}{path}", s.dintero_base_url()))
        .header("authorization", bearer.to_string());
    if let Some(b) = body {
        r = r.json(b.to_string().into_bytes());
    }
    let resp = Http::new(HttpConfig::default())
        .unwrap()
        .send("test", &r)
        .unwrap();
    let v = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    (resp.status, v, resp)
}

fn control(s: &Sandbox, method: Method, path: &str, body: Value) {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(method, format!("{}/_control/dintero{path}", s.url()))
                .json(body.to_string().into_bytes()),
        )
        .unwrap();
    assert!(r.status < 300, "control {path}: {}", r.status);
}

/// A paid session (its transaction id), created with `auto_capture` as given.
fn paid(s: &Sandbox, bearer: &str, auto_capture: bool) -> String {
    let mut body = order_body(5997);
    body["configuration"]["auto_capture"] = json!(auto_capture);
    let (st, v) = create(s, bearer, body, true);
    assert_eq!(st, 200, "{v}");
    let id = v["id"].as_str().unwrap();
    control(
        s,
        Method::Post,
        &format!("/sessions/{id}/outcome"),
        json!({"outcome": "pay"}),
    );
    let (_, sess) = get(s, bearer, &format!("/v1/sessions/{id}"));
    sess["transaction_id"].as_str().unwrap().to_string()
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[test]
fn auto_capture_captures_after_authorization_now_or_later() {
    let s = sandbox();
    let bearer = token(&s);
    let tid = paid(&s, &bearer, true);
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    assert_eq!(t["status"], "CAPTURED");
    let events: Vec<&str> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["INITIALIZE", "AUTHORIZE", "CAPTURE"]);
    assert_eq!(t["events"][2]["amount"], 5997);
    assert_eq!(t["events"][2]["success"], true);
    assert!(t["events"][2].get("event_reference").is_none());
    // Without auto_capture it stays authorized.
    let tid = paid(&s, &bearer, false);
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    assert_eq!(t["status"], "AUTHORIZED");
    // Delayed: authorized until it is due; a manual capture meanwhile stops it (S:4789).
    control(
        &s,
        Method::Put,
        "/after_sale",
        json!({"auto_capture_delay_ms": 300}),
    );
    let tid = paid(&s, &bearer, true);
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    assert_eq!(t["status"], "AUTHORIZED");
    std::thread::sleep(std::time::Duration::from_millis(400));
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    assert_eq!(t["status"], "CAPTURED");
    let tid = paid(&s, &bearer, true);
    let (st, t, _) = post(
        &s,
        &bearer,
        &format!("/v1/transactions/{tid}/capture"),
        Some(json!({"amount": 1000, "capture_reference": "op-1"})),
    );
    assert_eq!(
        (st, t["status"].as_str()),
        (200, Some("PARTIALLY_CAPTURED")),
        "{t}"
    );
    std::thread::sleep(std::time::Duration::from_millis(400));
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    assert_eq!(
        t["status"], "PARTIALLY_CAPTURED",
        "the auto-capture was stopped"
    );
    // Failing: a CAPTURE event with success false and the error.
    control(
        &s,
        Method::Put,
        "/after_sale",
        json!({"auto_capture_fails": true}),
    );
    let tid = paid(&s, &bearer, true);
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    let last = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            t["status"].as_str(),
            last["event"].as_str(),
            last["success"].as_bool()
        ),
        (Some("AUTHORIZED"), Some("CAPTURE"), Some(false))
    );
    assert!(last["error"]["message"].is_string());
}

#[test]
fn capture_refund_and_void_follow_the_transaction_rules() {
    let s = sandbox();
    let bearer = token(&s);
    let tid = paid(&s, &bearer, false);
    let path = |op: &str| format!("/v1/transactions/{tid}/{op}");
    // Refund before capture; void is fine later; over-capture; bad bodies.
    let (st, v, _) = post(&s, &bearer, &path("refund"), Some(json!({"amount": 100})));
    assert_eq!((st, code(&v)), (400, "TRANSACTION_NOT_REFUNDABLE"), "{v}");
    let (st, v, _) = post(&s, &bearer, &path("capture"), Some(json!({"amount": 5998})));
    assert_eq!((st, code(&v)), (400, "CAPTURE_AMOUNT_TOO_LARGE"), "{v}");
    for (body, says) in [
        (json!({}), "amount is required"),
        (
            json!({"amount": "100"}),
            "amount must be a positive integer",
        ),
        (json!({"amount": 0}), "amount must be a positive integer"),
        (
            json!({"amount": 100, "capture_reference": 7}),
            "capture_reference must be a string",
        ),
        (
            json!({"amount": 100, "refund_reference": "x"}),
            "refund_reference is not a field",
        ),
        (
            json!({"amount": 100, "items": [{"line_id": "1", "amount": 99}]}),
            "sum to 99, not to amount 100",
        ),
        (
            json!({"amount": 100, "items": [{"amount": 100}]}),
            "items[0].line_id is required",
        ),
    ] {
        let (st, v, _) = post(&s, &bearer, &path("capture"), Some(body));
        assert_eq!(st, 400, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(says),
            "{v}"
        );
    }
    // Without a token, or with another account's: 401 / 404.
    let (st, _, _) = post(
        &s,
        "Bearer forged",
        &path("capture"),
        Some(json!({"amount": 1})),
    );
    assert_eq!(st, 401);
    let (st, v, _) = post(&s, &bearer, "/v1/transactions/T11223344.nothere/void", None);
    assert_eq!((st, code(&v)), (404, "NOT_FOUND"));
    // Part capture, with items and our reference on the event.
    let items = json!([{"line_id": "1", "amount": 1999, "quantity": 1}]);
    let (st, t, _) = post(
        &s,
        &bearer,
        &path("capture"),
        Some(json!({"amount": 1999, "capture_reference": "op-c1", "items": items})),
    );
    assert_eq!(
        (st, t["status"].as_str()),
        (200, Some("PARTIALLY_CAPTURED")),
        "{t}"
    );
    let e = t["events"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (
            e["event"].as_str(),
            e["event_reference"].as_str(),
            e["amount"].as_i64()
        ),
        (Some("CAPTURE"), Some("op-c1"), Some(1999))
    );
    assert!(e["request_id"].is_string() && e["items"].is_array());
    // A void after a part capture: not for this payment product.
    let (st, v, _) = post(&s, &bearer, &path("void"), None);
    assert_eq!((st, code(&v)), (400, "TRANSACTION_NOT_VOIDABLE"), "{v}");
    // Refund at most what is captured and not refunded.
    let (st, v, _) = post(&s, &bearer, &path("refund"), Some(json!({"amount": 2000})));
    assert_eq!((st, code(&v)), (400, "REFUND_AMOUNT_TOO_LARGE"), "{v}");
    let (st, t, _) = post(
        &s,
        &bearer,
        &path("refund"),
        Some(json!({"amount": 999, "reason": "broken", "refund_reference": "op-r1"})),
    );
    assert_eq!(
        (st, t["status"].as_str()),
        (200, Some("PARTIALLY_CAPTURED_REFUNDED")),
        "{t}"
    );
    let (st, t, _) = post(&s, &bearer, &path("capture"), Some(json!({"amount": 3998})));
    assert_eq!(
        st, 400,
        "a refunded transaction takes no more captures: {t}"
    );
    let (st, t, _) = post(&s, &bearer, &path("refund"), Some(json!({"amount": 1000})));
    assert_eq!((st, t["status"].as_str()), (200, Some("REFUNDED")), "{t}");
    let (st, v, _) = post(&s, &bearer, &path("refund"), Some(json!({"amount": 1})));
    assert_eq!((st, code(&v)), (400, "TRANSACTION_NOT_REFUNDABLE"), "{v}");
    // A full capture, then a full refund.
    let tid2 = paid(&s, &bearer, false);
    let (st, t, _) = post(
        &s,
        &bearer,
        &format!("/v1/transactions/{tid2}/capture"),
        Some(json!({"amount": 5997})),
    );
    assert_eq!((st, t["status"].as_str()), (200, Some("CAPTURED")));
    let (st, t, _) = post(
        &s,
        &bearer,
        &format!("/v1/transactions/{tid2}/refund"),
        Some(json!({"amount": 5000})),
    );
    assert_eq!(
        (st, t["status"].as_str()),
        (200, Some("PARTIALLY_REFUNDED"))
    );
    // A void of an authorization nothing was captured from.
    let tid3 = paid(&s, &bearer, false);
    let (st, t, _) = post(&s, &bearer, &format!("/v1/transactions/{tid3}/void"), None);
    assert_eq!(
        (st, t["status"].as_str()),
        (200, Some("AUTHORIZATION_VOIDED")),
        "{t}"
    );
    let e = t["events"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (e["event"].as_str(), e["amount"].as_i64()),
        (Some("VOID"), Some(5997))
    );
    let (st, v, _) = post(
        &s,
        &bearer,
        &format!("/v1/transactions/{tid3}/capture"),
        Some(json!({"amount": 1})),
    );
    assert_eq!((st, code(&v)), (400, "TRANSACTION_NOT_CAPTURABLE"), "{v}");
}

#[test]
fn operations_answered_202_finish_later_and_failures_are_events() {
    let s = sandbox();
    let bearer = token(&s);
    let tid = paid(&s, &bearer, true);
    control(&s, Method::Put, "/after_sale", json!({"async_ms": 300}));
    let (st, t, resp) = post(
        &s,
        &bearer,
        &format!("/v1/transactions/{tid}/refund"),
        Some(json!({"amount": 500, "refund_reference": "op-a"})),
    );
    assert_eq!(st, 202, "{t}");
    let request_id = resp.header("event-request-id").unwrap().to_string();
    let e = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (e["event"].as_str(), e["request_id"].as_str()),
        (Some("INITIATE_REFUND"), Some(request_id.as_str()))
    );
    assert_eq!(t["status"], "CAPTURED");
    // The pending amount counts: no refund of more than is left meanwhile.
    let (st, v, _) = post(
        &s,
        &bearer,
        &format!("/v1/transactions/{tid}/refund"),
        Some(json!({"amount": 5997 - 499})),
    );
    assert_eq!((st, code(&v)), (400, "REFUND_AMOUNT_TOO_LARGE"), "{v}");
    std::thread::sleep(std::time::Duration::from_millis(400));
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    let e = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            e["event"].as_str(),
            e["correlation_request_id"].as_str(),
            e["event_reference"].as_str()
        ),
        (Some("REFUND"), Some(request_id.as_str()), Some("op-a"))
    );
    assert_eq!(t["status"], "PARTIALLY_REFUNDED");
    // A failed operation: 200, an event with success false and the error; nothing moved.
    control(&s, Method::Put, "/after_sale", json!({"fail_next": 1}));
    let (st, t, _) = post(
        &s,
        &bearer,
        &format!("/v1/transactions/{tid}/refund"),
        Some(json!({"amount": 100, "refund_reference": "op-f"})),
    );
    assert_eq!(st, 200);
    let e = t["events"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (e["success"].as_bool(), e["event_reference"].as_str()),
        (Some(false), Some("op-f"))
    );
    assert_eq!(t["status"], "PARTIALLY_REFUNDED");
    // Faults reach the new endpoints like the others: the work done, the answer lost.
    let r = Http::new(HttpConfig::default()).unwrap().send(
        "test",
        &Request::new(Method::Post, format!("{}/_control/faults", s.url())).json(
            json!({"faults": [{"method": "POST", "path": "/refund", "kind": "status", "status": 503}]})
                .to_string()
                .into_bytes(),
        ),
    ).unwrap();
    assert_eq!(r.status, 204);
    let (st, v, _) = post(
        &s,
        &bearer,
        &format!("/v1/transactions/{tid}/refund"),
        Some(json!({"amount": 100, "refund_reference": "op-g"})),
    );
    assert_eq!((st, code(&v)), (503, "SANDBOX_INJECTED"), "{v}");
    let (_, t) = get(&s, &bearer, &format!("/v1/transactions/{tid}"));
    assert!(
        !t.to_string().contains("op-g"),
        "an injected 503 does nothing"
    );
}

/// The after-sale endpoints and fields the emulator serves are the spec's.
#[test]
fn the_after_sale_endpoints_are_in_the_spec() {
    let spec = include_str!("../spec/dintero-spec-payments.yaml");
    for needle in [
        "/transactions/{id}/capture:",
        "/transactions/{id}/refund:",
        "/transactions/{id}/void:",
        "capture_reference:",
        "refund_reference:",
        "event_reference:",
        "correlation_request_id:",
        "auto_capture:",
        "event-request-id",
        "- INITIATE_REFUND",
        "- PARTIALLY_CAPTURED_REFUNDED",
        "- AUTHORIZATION_VOIDED",
    ] {
        assert!(spec.contains(needle), "the spec lacks {needle}");
    }
}

/// `GET /v1/sessions` (Dintero's session list, see the emulator's module docs): a bearer token,
/// `limit` 1–100, known parameters only, ISO 8601 bounds; `search` matches a part of the
/// merchant reference, so a shorter reference finds a longer one too (a client must check the
/// exact reference), and an unknown reference finds nothing.
#[test]
fn sessions_are_listed_by_a_loose_search_with_strict_parameters() {
    let s = sandbox();
    let bearer = token(&s);
    let mut ids = Vec::new();
    for reference in ["K-4711", "K-4711-2", "K-9000"] {
        let mut body = order_body(5997);
        body["order"]["merchant_reference"] = json!(reference);
        let (status, v) = create(&s, &bearer, body, true);
        assert_eq!(status, 200, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let refs = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x["order"]["merchant_reference"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let (status, v) = get(&s, &bearer, "/v1/sessions?search=k-4711&limit=100");
    assert_eq!(status, 200, "{v}");
    let mut found = refs(&v);
    found.sort();
    assert_eq!(
        found,
        ["K-4711", "K-4711-2"],
        "a part of the reference, any case"
    );
    assert!(v[0]["id"].is_string() && v[0]["expires_at"].is_string());
    let (_, v) = get(&s, &bearer, "/v1/sessions?search=K-1234");
    assert_eq!(v, json!([]), "an unknown reference finds nothing");
    // Newest first, `limit` and `starting_after` page through them.
    let (_, v) = get(&s, &bearer, "/v1/sessions?limit=2");
    assert_eq!(refs(&v), ["K-9000", "K-4711-2"]);
    let (_, v) = get(
        &s,
        &bearer,
        &format!("/v1/sessions?limit=2&starting_after={}", ids[1]),
    );
    assert_eq!(refs(&v), ["K-4711"]);
    let (_, v) = get(
        &s,
        &bearer,
        &format!("/v1/sessions?id={}&id={}", ids[0], ids[2]),
    );
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (_, v) = get(&s, &bearer, "/v1/sessions?created_at.lte=2000-01-01");
    assert_eq!(v, json!([]));
    for (query, says) in [
        ("limit=0", "limit must be between 1 and 100"),
        ("limit=101", "limit must be between 1 and 100"),
        (
            "merchant_reference=K-4711",
            "merchant_reference is not a query parameter",
        ),
        ("created_at.gte=yesterday", "is not an ISO 8601 date-time"),
        ("search=a&search=b", "search is given more than once"),
        (
            "starting_after=T11223344.nothing",
            "is not a session of this account",
        ),
    ] {
        let (status, v) = get(&s, &bearer, &format!("/v1/sessions?{query}"));
        assert_eq!(status, 400, "{query}: {v}");
        assert_eq!(code(&v), "BAD_REQUEST");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(says),
            "{query}: {v}"
        );
    }
    let (status, _) = get(&s, "Bearer nope", "/v1/sessions?search=K-4711");
    assert_eq!(status, 401);
}
