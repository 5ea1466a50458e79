//! The gateways' clock: its offset, the window it moves, and the `Date` header.

use crate::common::{
    assert_error, control, create, create_body, gateway, http, key, new_nonce, new_order_id, now,
    order, path_of, sandbox, sign_order, signed_post, MERCHANT, PG_CREATE,
};
use kassa_core::time::parse_http_date;
use kassa_sandbox::opencharge::http_date;
use serde_json::json;

#[test]
fn the_clock_offset_moves_the_date_header_and_the_window() {
    let s = sandbox();
    let o = order(&new_order_id());
    let t0 = now();
    let r = create(&s, &o);
    let t1 = now();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!((t0..=t1).contains(&r.date()));
    let page = http(
        &s,
        "GET",
        &path_of(&s, r.json()["checkout_url"].as_str().unwrap()),
        &[],
        b"",
    );
    assert!((t0..=now()).contains(&page.date()));

    let r = control(&s, "PUT", "/gateway", Some(json!({"clock_offset_s": 3600})));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"canonicalization": "recursive", "clock_offset_s": 3600})
    );

    // The till's clock (the machine's) is now an hour behind the gateway's.
    let o = order(&new_order_id());
    let t0 = now();
    let r = create(&s, &o);
    let t1 = now();
    let v = assert_error(&r, 401, "TIMESTAMP_EXPIRED");
    let server = v["error"]["details"]["serverTime"].as_i64().unwrap();
    assert!((t0 + 3600..=t1 + 3600).contains(&server), "{v}");
    assert!((t0 + 3600..=t1 + 3600).contains(&r.date()));

    // A till that follows the gateway's clock passes.
    let mut o = order(&new_order_id());
    let ts = now() + 3600;
    o["createdAt"] = json!(ts);
    o["expiresAt"] = json!(ts + 7200);
    let body = create_body(&o, &sign_order(&o, &key())).to_string();
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        ts,
        &new_nonce(),
        PG_CREATE,
        PG_CREATE,
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let expires_at = r.json()["expires_at"].as_i64().unwrap();
    assert!((ts + 1800..=now() + 3600 + 1800).contains(&expires_at));
    let page = http(
        &s,
        "GET",
        &path_of(&s, r.json()["checkout_url"].as_str().unwrap()),
        &[],
        b"",
    );
    assert!((ts..=now() + 3600).contains(&page.date()));
    // An order created at the machine's time an hour ago (gateway time) expires at its own
    // expiresAt: one hour after creation is "now" for the gateway.
    let o = order(&new_order_id());
    let body = create_body(&o, &sign_order(&o, &key())).to_string();
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        now() + 3600,
        &new_nonce(),
        PG_CREATE,
        PG_CREATE,
        body.as_bytes(),
    );
    assert_error(&r, 400, "SESSION_EXPIRED");

    // Other answers under /opencharge carry the gateway's Date too.
    let missing = http(&s, "GET", "/opencharge/pg/nothing", &[], b"");
    assert_error(&missing, 404, "NOT_FOUND");
    assert!((t0 + 3600..=now() + 3600).contains(&missing.date()));
    let wrong_method = http(&s, "GET", PG_CREATE, &[], b"");
    assert_error(&wrong_method, 405, "METHOD_NOT_ALLOWED");
    assert!((t0 + 3600..=now() + 3600).contains(&wrong_method.date()));

    gateway(&s, json!({}));
    let r = create(&s, &order(&new_order_id()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!((t0..=now()).contains(&r.date()));
}

#[test]
fn http_dates_are_imf_fixdate() {
    assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    assert_eq!(http_date(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT");
    for t in [
        0i64,
        1,
        86_399,
        1_706_313_600,
        4_102_444_800,
        253_402_300_799,
    ] {
        assert_eq!(parse_http_date(&http_date(t)), Some(t * 1000), "{t}");
    }
}
