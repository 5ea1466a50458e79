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
