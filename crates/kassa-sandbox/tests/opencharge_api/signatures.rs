//! Request authentication (headers, signature, nonce, timestamp window, unknown OCIDs) and
//! the order signature's canonicalizations.

use crate::common::{
    assert_error, assert_signed_answer, auth_headers, control, create, create_body, gateway, http,
    key, message, mg_body, new_nonce, new_order_id, newcomer_key, now, order, order_with_items,
    post, sandbox, sign_order, signed_post, MERCHANT, MG_CHECKOUT, NEWCOMER, PG_CREATE,
};
use kassa_core::provider::opencharge::sign::{self, Key};
use kassa_core::secrets::Secret;
use kassa_sandbox::opencharge::{payment_gateway_public_key, replacer_json, PAYMENT_GATEWAY_OCID};
use serde_json::{json, Value};

#[test]
fn a_tampered_body_or_another_path_does_not_verify() {
    let s = sandbox();
    let o = order(&new_order_id());
    let body = create_body(&o, &sign_order(&o, &key())).to_string();
    let ts = now();

    // One byte changed after signing.
    let nonce = new_nonce();
    let mut headers = auth_headers(MERCHANT, &key(), ts, &nonce, PG_CREATE, body.as_bytes());
    let tampered = body.replace("checkout/success", "checkout/succesS");
    assert_eq!(tampered.len(), body.len());
    let r = http(&s, "POST", PG_CREATE, &headers, tampered.as_bytes());
    let v = assert_error(&r, 401, "INVALID_SIGNATURE");
    assert_eq!(message(&v), "the request signature does not verify");

    // The path without the gateway's base path (/opencharge/pg).
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        ts,
        &new_nonce(),
        "/checkout/create",
        PG_CREATE,
        body.as_bytes(),
    );
    assert_error(&r, 401, "INVALID_SIGNATURE");
    // The query is part of the signed path.
    let with_query = format!("{PG_CREATE}?lang=en");
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        ts,
        &new_nonce(),
        PG_CREATE,
        &with_query,
        body.as_bytes(),
    );
    assert_error(&r, 401, "INVALID_SIGNATURE");
    // Another method signed.
    let nonce = new_nonce();
    let text = sign::canonical_request("500", ts, &nonce, "PUT", PG_CREATE, body.as_bytes());
    headers = auth_headers(MERCHANT, &key(), ts, &nonce, PG_CREATE, body.as_bytes());
    headers[4].1 = key().sign(text.as_bytes());
    assert_error(
        &http(&s, "POST", PG_CREATE, &headers, body.as_bytes()),
        401,
        "INVALID_SIGNATURE",
    );
    // Another key.
    let r = signed_post(
        &s,
        MERCHANT,
        &newcomer_key(),
        ts,
        &new_nonce(),
        PG_CREATE,
        PG_CREATE,
        body.as_bytes(),
    );
    assert_error(&r, 401, "INVALID_SIGNATURE");

    // The same bytes, path and query signed as sent pass (none of the refused nonces was
    // remembered, so the first one can be used now).
    let r = signed_post(
        &s,
        MERCHANT,
        &key(),
        ts,
        &nonce,
        &with_query,
        &with_query,
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn headers_missing_or_malformed_are_named() {
    let s = sandbox();
    let o = order(&new_order_id());
    let body = create_body(&o, &sign_order(&o, &key())).to_string();
    let good = auth_headers(
        MERCHANT,
        &key(),
        now(),
        &new_nonce(),
        PG_CREATE,
        body.as_bytes(),
    );
    let cases: [(usize, Option<&str>, &str); 6] = [
        (3, None, "X-OC-Nonce is missing"),
        (1, None, "X-OC-ID is missing"),
        (1, Some("0500"), "X-OC-ID must be a decimal OCID"),
        (
            2,
            Some("1e9"),
            "X-OC-Timestamp must be Unix seconds in decimal",
        ),
        (
            2,
            Some("-5"),
            "X-OC-Timestamp must be Unix seconds in decimal",
        ),
        (
            4,
            Some("abc"),
            "X-OC-Signature must be 128 or 130 hexadecimal characters",
        ),
    ];
    for (index, value, expected) in cases {
        let mut headers = good.clone();
        match value {
            Some(v) => headers[index].1 = v.to_string(),
            None => {
                headers.remove(index);
            }
        }
        let r = http(&s, "POST", PG_CREATE, &headers, body.as_bytes());
        let v = assert_error(&r, 401, "INVALID_SIGNATURE");
        assert_eq!(message(&v), expected);
    }
}

#[test]
fn a_nonce_is_used_once_per_ocid() {
    let s = sandbox();
    let nonce = new_nonce();
    let send = |ocid: u64, key: &Key, id: &str| {
        let o = order(id);
        let body = create_body(&o, &sign_order(&o, &self::key())).to_string();
        signed_post(
            &s,
            ocid,
            key,
            now(),
            &nonce,
            PG_CREATE,
            PG_CREATE,
            body.as_bytes(),
        )
    };
    let first = send(MERCHANT, &key(), &new_order_id());
    assert_eq!(first.status, 200, "{}", first.text());
    let v = assert_error(
        &send(MERCHANT, &key(), &new_order_id()),
        401,
        "NONCE_REUSED",
    );
    assert!(message(&v).contains(&nonce), "{v}");
    // Another caller (merchant 501 acting as merchant 500's gateway) may use the same nonce.
    let other = send(NEWCOMER, &newcomer_key(), &new_order_id());
    assert_eq!(other.status, 200, "{}", other.text());
}

#[test]
fn the_timestamp_window_is_300_seconds() {
    let s = sandbox();
    for offset in [-301, 301] {
        let o = order(&new_order_id());
        let body = create_body(&o, &sign_order(&o, &key())).to_string();
        let ts = now() + offset;
        let t0 = now();
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
        let t1 = now();
        let v = assert_error(&r, 401, "TIMESTAMP_EXPIRED");
        assert_eq!(v["error"]["details"]["timestamp"], ts);
        let server = v["error"]["details"]["serverTime"].as_i64().unwrap();
        assert!((t0..=t1).contains(&server), "{v}");
        assert_signed_answer(&r, PAYMENT_GATEWAY_OCID, &payment_gateway_public_key());
    }
    for offset in [-290, 290] {
        let o = order(&new_order_id());
        let body = create_body(&o, &sign_order(&o, &key())).to_string();
        let r = signed_post(
            &s,
            MERCHANT,
            &key(),
            now() + offset,
            &new_nonce(),
            PG_CREATE,
            PG_CREATE,
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{offset}: {}", r.text());
    }
}

#[test]
fn unknown_ocids_are_refused() {
    let s = sandbox();
    let o = order(&new_order_id());
    let r = post(
        &s,
        999,
        &key(),
        PG_CREATE,
        &create_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 401, "UNKNOWN_OCID");
    assert_eq!(message(&v), "OCID 999 is not in the registry");
    // A known caller for an unknown merchant.
    let mut o = order(&new_order_id());
    o["ocid"] = json!(999);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        PG_CREATE,
        &create_body(&o, &sign_order(&o, &key())),
    );
    let v = assert_error(&r, 401, "UNKNOWN_OCID");
    assert_eq!(message(&v), "merchantOcid 999 is not in the registry");
    // order.ocid and merchantOcid must agree.
    let o = order(&new_order_id());
    let mut body = create_body(&o, &sign_order(&o, &key()));
    body["merchantOcid"] = json!(NEWCOMER);
    let v = assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &body),
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(message(&v), "order.ocid 500 is not merchantOcid 501");
    // A party registered later is known.
    let later = Key::from_hex(&Secret::new(sign::sha256_hex(b"merchant 777"))).unwrap();
    let r = control(
        &s,
        "POST",
        "/merchants",
        Some(json!({"ocid": 777, "public_key": later.public_key_hex()})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let bad = control(
        &s,
        "POST",
        "/merchants",
        Some(json!({"ocid": 778, "public_key": "02bb50"})),
    );
    assert_eq!(bad.status, 400);
    let mut o = order(&new_order_id());
    o["ocid"] = json!(777);
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        777,
        &later,
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &later)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn the_canonicalization_switch_decides_which_order_signatures_verify() {
    let s = sandbox();
    let replacer_signed = |o: &Value| key().sign(replacer_json(o).unwrap().as_bytes());
    // recursive (the default): items signed recursively pass, replacer-signed ones do not.
    let o = order_with_items(&new_order_id());
    assert_eq!(create(&s, &o).status, 200);
    let o = order_with_items(&new_order_id());
    let body = create_body(&o, &replacer_signed(&o));
    let v = assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &body),
        400,
        "INVALID_SIGNATURE",
    );
    assert_eq!(message(&v), "the order signature does not verify");
    let o = order(&new_order_id());
    assert_eq!(create(&s, &o).status, 200);

    gateway(&s, json!({"canonicalization": "replacer"}));
    let o = order_with_items(&new_order_id());
    let v = assert_error(&create(&s, &o), 400, "INVALID_SIGNATURE");
    assert_eq!(message(&v), "the order signature does not verify");
    let o = order_with_items(&new_order_id());
    let r = post(
        &s,
        MERCHANT,
        &key(),
        PG_CREATE,
        &create_body(&o, &replacer_signed(&o)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Without items both canonicalizations give the same bytes.
    let o = order(&new_order_id());
    assert_eq!(
        replacer_json(&o).unwrap(),
        sign::canonical_json(&o).unwrap()
    );
    assert_eq!(create(&s, &o).status, 200);
    // The merchant gateway uses the same switch.
    let mut o = order_with_items(&new_order_id());
    o["accepts"] = json!([300]);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &sign_order(&o, &key())),
    );
    assert_error(&r, 400, "INVALID_SIGNATURE");
    let r = post(
        &s,
        MERCHANT,
        &key(),
        MG_CHECKOUT,
        &mg_body(&o, &replacer_signed(&o)),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    gateway(&s, json!({}));
    let o = order_with_items(&new_order_id());
    let body = create_body(&o, &replacer_signed(&o));
    assert_error(
        &post(&s, MERCHANT, &key(), PG_CREATE, &body),
        400,
        "INVALID_SIGNATURE",
    );
    let bad = control(
        &s,
        "PUT",
        "/gateway",
        Some(json!({"canonicalization": "sorted"})),
    );
    assert_ne!(bad.status, 200);
}

#[test]
fn the_replacer_canonicalization_is_javascripts() {
    // The notes' example (§B5 (b), checked with Node).
    let v = json!({"id":"ord_1","ocid":500,"items":[{"id":"i1","name":"Coffee","quantity":2,"price":"5.00"}],"amount":"10.00"});
    assert_eq!(
        replacer_json(&v).unwrap(),
        r#"{"amount":"10.00","id":"ord_1","items":[{"id":"i1"}],"ocid":500}"#
    );
    // TV4 (no nested objects): the same bytes as the recursive form, and its signature.
    let tv4 = json!({"id":"ord_abc123","ocid":500,"reference":"INV-001","amount":"99.99","currency":"USD","memo":"Order from Merchant Store","createdAt":1706313600,"expiresAt":1706400000,"accepts":[100,101,102]});
    let text = replacer_json(&tv4).unwrap();
    assert_eq!(
        text,
        r#"{"accepts":[100,101,102],"amount":"99.99","createdAt":1706313600,"currency":"USD","expiresAt":1706400000,"id":"ord_abc123","memo":"Order from Merchant Store","ocid":500,"reference":"INV-001"}"#
    );
    assert_eq!(key().sign(text.as_bytes()), "1a1247997ef0eeda4bb225e481a89ce57e3398ce24f8be1def250ff8c55e77e168daf4e6c68ba52118c89bc94f20f3040a181cfe8d8bd2c53792139252d7b1561c");
    // A proof (TV2): from/to keep no keys (§B5).
    let tv2 = json!({"txid":"test_tx_001","issuer":100,"from":{"ocid":200,"reference":"paypal_tx_123"},"to":{"ocid":300,"reference":"momo_tx_789"},"amount":"10000.00","currency":"UGX","timestamp":1706500500});
    assert_eq!(
        replacer_json(&tv2).unwrap(),
        r#"{"amount":"10000.00","currency":"UGX","from":{},"issuer":100,"timestamp":1706500500,"to":{},"txid":"test_tx_001"}"#
    );
    // Nested keys that are top-level keys stay, in the allow-list's order, at any depth.
    let nested = json!({"b": [{"z": 1, "b": [2, {"a": "x"}], "a": {"a": "é\n"}}], "a": 0});
    assert_eq!(
        replacer_json(&nested).unwrap(),
        r#"{"a":0,"b":[{"a":{"a":"é\n"},"b":[2,{"a":"x"}]}]}"#
    );
    // Floats are refused, as by the recursive form.
    let err = replacer_json(&json!({"a": [{"a": 1.5}]})).unwrap_err();
    assert!(err.contains("$.a[0].a"), "{err}");
}

#[test]
fn a_128_hex_order_signature_is_accepted() {
    let s = sandbox();
    let o = order_with_items(&new_order_id());
    let signature = sign_order(&o, &key());
    assert_eq!(signature.len(), 130);
    let r = post(
        &s,
        MERCHANT,
        &key(),
        PG_CREATE,
        &create_body(&o, &signature[..128]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for bad in [&signature[..129], &signature[..64]] {
        let o = order(&new_order_id());
        let r = post(&s, MERCHANT, &key(), PG_CREATE, &create_body(&o, bad));
        assert_error(&r, 400, "INVALID_SIGNATURE");
    }
}
