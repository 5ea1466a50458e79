//! Tokens, their scopes, limits and expiry, and who may see what.

use crate::common::{
    add_line, api, assert_errors, attr, control, control_get, create_link, create_order, errors,
    get, integration, json_of, link_body, order, order_body, outcome, patch_order, ready_order,
    sales_channel, sandbox, send, set_clock, set_token_lifetime, shop, shop_link_attrs,
    token_request, us, JSON_API, SHOP_MARKET, US_MARKET,
};
use kassa_core::http::{Method, Request};
use kassa_core::time::now_millis;
use kassa_sandbox::CommerceLayerAccount;
use serde_json::json;

#[test]
fn integration_tokens_and_invalid_clients() {
    let s = sandbox();
    let before = now_millis() / 1000;
    let r = token_request(
        &s,
        json!({"grant_type": "client_credentials", "client_id": "cl-int-shop-5d21", "client_secret": "cl-shop-secret-0a9f"}),
    );
    assert_eq!(r.status, 200);
    let v = json_of(&r);
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 7200);
    assert_eq!(v["scope"], "market:all");
    let created = v["created_at"].as_i64().unwrap();
    assert!((before..=before + 5).contains(&created), "{created}");
    let token = v["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    for p in parts {
        assert!(
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    assert_ne!(integration(&s, &shop()), token, "every token is new");
    // Wrong secret, unknown client, no secret for an integration.
    for body in [
        json!({"grant_type": "client_credentials", "client_id": "cl-int-shop-5d21", "client_secret": "nope"}),
        json!({"grant_type": "client_credentials", "client_id": "int-nobody", "client_secret": "cl-shop-secret-0a9f"}),
        json!({"grant_type": "client_credentials", "client_id": "cl-int-shop-5d21"}),
    ] {
        let r = token_request(&s, body);
        assert_eq!(r.status, 401);
        let v = json_of(&r);
        assert_eq!(v["errors"][0]["code"], "UNAUTHORIZED");
        assert_eq!(v["errors"][0]["title"], "Invalid client");
        assert_eq!(v["errors"][0]["status"], "401");
    }
    let r = token_request(
        &s,
        json!({"grant_type": "password", "client_id": "cl-int-shop-5d21", "client_secret": "cl-shop-secret-0a9f"}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(json_of(&r)["errors"][0]["code"], "UNSUPPORTED_GRANT_TYPE");
    // The token request is JSON.
    let mut form = Request::new(
        Method::Post,
        format!("{}/oauth/token", s.commercelayer_base_url()),
    )
    .header("content-type", "application/x-www-form-urlencoded");
    form.body = Some(
        b"grant_type=client_credentials&client_id=cl-int-shop-5d21&client_secret=cl-shop-secret-0a9f".to_vec(),
    );
    let r = send(form);
    assert_eq!(r.status, 400);
    assert_eq!(json_of(&r)["errors"][0]["code"], "INVALID_REQUEST");
}

#[test]
fn sales_channel_tokens_need_their_markets_scope() {
    let s = sandbox();
    let request = |scope: Option<&str>, secret: Option<&str>| {
        let mut b = json!({"grant_type": "client_credentials", "client_id": "cl-sc-shop-6e14"});
        if let Some(sc) = scope {
            b["scope"] = json!(sc);
        }
        if let Some(x) = secret {
            b["client_secret"] = json!(x);
        }
        token_request(&s, b)
    };
    let shop_scope = format!("market:id:{SHOP_MARKET}");
    let us_scope = format!("market:id:{US_MARKET}");
    for scope in [
        None,
        Some(us_scope.as_str()),
        Some("market:code:europe"),
        Some("market:all"),
    ] {
        let r = request(scope, None);
        assert_eq!(r.status, 400, "{scope:?}");
        assert_eq!(json_of(&r)["errors"][0]["code"], "INVALID_SCOPE");
    }
    // A sales channel has no secret.
    assert_eq!(
        request(Some(&shop_scope), Some("cl-shop-secret-0a9f")).status,
        401
    );
    let r = request(Some(&shop_scope), None);
    assert_eq!(r.status, 200);
    let v = json_of(&r);
    assert_eq!(v["expires_in"], 14_400);
    assert_eq!(v["scope"], shop_scope.as_str());
    assert_eq!(v["token_type"], "bearer");
}

#[test]
fn the_token_endpoint_allows_30_requests_a_minute() {
    let s = sandbox();
    let good = json!({"grant_type": "client_credentials", "client_id": "cl-int-shop-5d21", "client_secret": "cl-shop-secret-0a9f"});
    for i in 0..29 {
        assert_eq!(token_request(&s, good.clone()).status, 200, "request {i}");
    }
    // A refused request counts too (the limit is per IP).
    let bad = json!({"grant_type": "client_credentials", "client_id": "cl-int-shop-5d21", "client_secret": "x"});
    assert_eq!(token_request(&s, bad).status, 401);
    let r = token_request(&s, good);
    assert_eq!(r.status, 429);
    assert_eq!(json_of(&r)["errors"][0]["code"], "TOO_MANY_REQUESTS");
    assert_eq!(json_of(&r)["errors"][0]["status"], "429");
    let wait = r.retry_after.expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(control_get(&s, "/stats"), json!({"token_requests": 31}));
}

#[test]
fn tokens_expire() {
    let s = sandbox();
    set_token_lifetime(&s, 1);
    let r = token_request(
        &s,
        json!({"grant_type": "client_credentials", "client_id": "cl-int-shop-5d21", "client_secret": "cl-shop-secret-0a9f"}),
    );
    assert_eq!(json_of(&r)["expires_in"], 1);
    let token = json_of(&r)["access_token"].as_str().unwrap().to_string();
    let market = format!("/api/markets/{SHOP_MARKET}");
    assert_eq!(get(&s, &token, &market).0, 200);
    // The token's second passes on the emulator's clock, not on the test's.
    set_clock(&s, 1);
    let (st, v) = get(&s, &token, &market);
    assert_eq!(st, 401);
    let details = assert_errors(401, &v, &[("UNAUTHORIZED", "")]);
    assert!(details[0].1.contains("expired"), "{details:?}");
    // The control expires every issued token.
    set_token_lifetime(&s, 3600);
    let token = integration(&s, &shop());
    let sc = sales_channel(&s, &shop());
    assert_eq!(get(&s, &token, &market).0, 200);
    let (st, _) = control(&s, "/tokens/expire", json!({}));
    assert_eq!(st, 204);
    for t in [&token, &sc] {
        let (st, v) = get(&s, t, &market);
        assert_eq!(st, 401);
        assert!(errors(&v)[0].3.contains("expired"));
    }
    // Unknown and missing tokens.
    let (st, v) = get(&s, "not-a-token", &market);
    assert_eq!(st, 401);
    assert!(errors(&v)[0].3.contains("invalid"));
    let r = send(
        Request::new(
            Method::Get,
            format!("{}{market}", s.commercelayer_base_url()),
        )
        .header("accept", JSON_API),
    );
    assert_eq!(r.status, 401);
}

#[test]
fn sales_channel_tokens_may_only_read_their_orders() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let sc = sales_channel(&s, &shop());
    let us_sc = sales_channel(&s, &us());
    let o = create_order(&s, &token, SHOP_MARKET, json!({"reference": "R1"}));
    let id = o["id"].as_str().unwrap();
    let (st, v) = add_line(
        &s,
        &sc,
        id,
        json!({"name": "Custom", "quantity": 1, "unit_amount_cents": 100}),
    );
    assert_eq!(st, 401);
    let d = &errors(&v)[0].3;
    assert!(
        d.contains("requires an integration token") && d.contains("unit_amount_cents"),
        "{d}"
    );
    let (st, v) = api(
        &s,
        Method::Post,
        &sc,
        "/api/links",
        Some(link_body(id, shop_link_attrs())),
    );
    assert_eq!(st, 401);
    assert_eq!(
        errors(&v)[0].3,
        "Managing links requires an integration token (this is a sales channel token)."
    );
    let (st, _) = api(
        &s,
        Method::Post,
        &sc,
        "/api/orders",
        Some(order_body(json!({}), SHOP_MARKET)),
    );
    assert_eq!(st, 401);
    assert_eq!(
        get(&s, &sc, "/api/orders?filter[q][reference_eq]=R1").0,
        401
    );
    assert_eq!(get(&s, &sc, &format!("/api/markets/{SHOP_MARKET}")).0, 401);
    // Reading its own market's order is allowed; another market's is not found.
    let v = order(&s, &sc, id, "?fields[orders]=status");
    assert_eq!(attr(&v, "status"), "draft");
    let (st, v) = get(&s, &us_sc, &format!("/api/orders/{id}"));
    assert_eq!(st, 404);
    assert_errors(404, &v, &[("RECORD_NOT_FOUND", "")]);
}

#[test]
fn another_organization_sees_nothing() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let other = integration(&s, &us());
    let id = ready_order(&s, &token, json!({"customer_email": "c@shop.example"}));
    let link = create_link(&s, &token, &id, shop_link_attrs());
    let link_id = link["id"].as_str().unwrap();
    let (st, v) = get(&s, &other, &format!("/api/orders/{id}"));
    assert_eq!(st, 404);
    assert_errors(404, &v, &[("RECORD_NOT_FOUND", "")]);
    assert_eq!(
        patch_order(&s, &other, &id, json!({"reference": "x"}), json!({})).0,
        404
    );
    let line = json!({"name": "x", "quantity": 1, "unit_amount_cents": 1});
    assert_eq!(add_line(&s, &other, &id, line).0, 404);
    let us_link = json!({"name": "x", "client_id": "cl-sc-us-9a07", "scope": format!("market:id:{US_MARKET}")});
    let (st, _) = api(
        &s,
        Method::Post,
        &other,
        "/api/links",
        Some(link_body(&id, us_link)),
    );
    assert_eq!(st, 404);
    assert_eq!(get(&s, &other, &format!("/api/links/{link_id}")).0, 404);
    assert_eq!(
        get(&s, &other, &format!("/api/markets/{SHOP_MARKET}")).0,
        404
    );
    let (st, m) = get(
        &s,
        &other,
        &format!("/api/markets/{US_MARKET}?include=price_list"),
    );
    assert_eq!(st, 200);
    assert_eq!(m["data"]["id"], US_MARKET);
    assert_eq!(m["included"][0]["type"], "price_lists");
    assert_eq!(m["included"][0]["attributes"]["currency_code"], "USD");
    assert_eq!(m["included"][0]["attributes"]["tax_included"], false);
    let v = order(&s, &token, &id, "?include=payment_source");
    let pid = v["included"][0]["id"].as_str().unwrap();
    assert_eq!(
        get(&s, &other, &format!("/api/checkout_com_payments/{pid}")).0,
        404
    );
}

#[test]
fn accounts_can_be_added_at_run_time() {
    let s = sandbox();
    let (st, _) = control(
        &s,
        "/accounts",
        json!({"client_id": "cl-int-new-47e2", "client_secret": "cl-new-secret-c1b5", "sales_channel_client_id": "cl-sc-new-8d30",
               "market_id": "NeWmArKeTz", "address_id": "NeWaDdReSs", "currency": "EUR",
               "default_tax_rate_bp": 1900, "skus": [{"code": "BOOK", "tax_rate_bp": 700}]}),
    );
    assert_eq!(st, 204);
    let token = integration(
        &s,
        &CommerceLayerAccount {
            client_secret: "cl-new-secret-c1b5".into(),
            client_id: "cl-int-new-47e2".into(),
            ..shop()
        },
    );
    let o = create_order(&s, &token, "NeWmArKeTz", json!({}));
    assert_eq!(o["attributes"]["currency_code"], "EUR");
    assert_eq!(o["attributes"]["tax_included"], true, "the default");
    let (st, _) = control(
        &s,
        "/accounts",
        json!({"client_id": "cl-int-bad-e6a1", "client_secret": "cl-bad-secret-3c9e", "sales_channel_client_id": "cl-sc-bad-71f4",
               "market_id": "m", "address_id": "a", "currency": "EUR", "default_tax_rate_bp": 25000}),
    );
    assert_eq!(st, 400);
    assert_eq!(outcome(&s, "nOsUcHoRdEr", "pay").0, 409);
}
