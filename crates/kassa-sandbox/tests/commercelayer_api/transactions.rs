//! Authorizations, captures, voids and refunds: their triggers, the balances that bound them,
//! the order's `payment_status`, a declining gateway, who may send them, and their fields
//! against the resource metadata.

use crate::common::{
    api, assert_errors, assert_refusals_follow_the_metadata, attr, decline, detail_at, errors, get,
    included, integration, metadata_fields, order, paid_order, patch_order, patch_resource,
    put_control, ready_order, sales_channel, sample_value, sandbox, shop, us,
};
use kassa_core::http::Method;
use serde_json::{json, Value};

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn captures_and_refunds_stay_within_their_balances() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let (id, auth) = paid_order(&s, &token);
    let capture = |attrs: Value| {
        patch_resource(
            &s,
            &token,
            "authorizations",
            &auth,
            "?include=captures",
            attrs,
        )
    };
    // Part of the authorization: the rest stays capturable, none of it voidable.
    let (st, v) = capture(json!({"_capture": true, "_capture_amount_cents": 4000}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["type"], "authorizations");
    assert_eq!(attr(&v, "capture_balance_cents"), 5980);
    assert_eq!(attr(&v, "void_balance_cents"), 0);
    let first = &included(&v, "captures")[0];
    assert_eq!(first["attributes"]["amount_cents"], 4000);
    assert_eq!(first["attributes"]["succeeded"], true);
    assert_eq!(first["attributes"]["refund_balance_cents"], 4000);
    assert_eq!(
        v["data"]["relationships"]["captures"]["data"],
        json!([{"type": "captures", "id": first["id"]}])
    );
    let o = order(&s, &token, &id, "");
    assert_eq!(attr(&o, "status"), "placed");
    assert_eq!(attr(&o, "payment_status"), "partially_paid");
    // Over the balance, zero, not an integer, or an amount without its trigger.
    let (st, v) = capture(json!({"_capture": true, "_capture_amount_cents": 5981}));
    assert_eq!(st, 422);
    let d = assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/_capture_amount_cents")],
    );
    assert_eq!(
        d[0].1,
        "_capture_amount_cents - must be less than or equal to 5980"
    );
    assert_eq!(
        v["errors"][0]["meta"],
        json!({"error": "less_than_or_equal_to", "value": 5981, "count": 5980})
    );
    let (st, v) = capture(json!({"_capture": true, "_capture_amount_cents": 0}));
    assert_eq!(st, 422);
    assert_eq!(v["errors"][0]["meta"]["error"], "greater_than");
    let (st, v) = capture(json!({"_capture": true, "_capture_amount_cents": "100"}));
    assert_eq!(st, 422);
    assert_eq!(v["errors"][0]["meta"]["error"], "not_an_integer");
    let (st, v) = capture(json!({"_capture_amount_cents": 100}));
    assert_eq!(st, 422);
    assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/_capture_amount_cents")],
    );
    // The rest (no amount: the balance), then nothing is left.
    let (st, v) = capture(json!({"_capture": true}));
    assert_eq!(st, 200, "{v}");
    let captures = included(&v, "captures");
    assert_eq!(captures.len(), 2);
    assert_eq!(captures[1]["attributes"]["amount_cents"], 5980);
    assert_eq!(attr(&order(&s, &token, &id, ""), "payment_status"), "paid");
    let (st, v) = capture(json!({"_capture": true}));
    assert_eq!(st, 422);
    let d = assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/_capture")],
    );
    assert!(d[0].1.contains("nothing to capture"), "{d:?}");
    let (st, v) = patch_resource(
        &s,
        &token,
        "authorizations",
        &auth,
        "",
        json!({"_void": true}),
    );
    assert_eq!(st, 422);
    let d = assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_void")]);
    assert!(d[0].1.contains("refund its captures instead"), "{d:?}");

    // Refunds: each capture up to its own balance.
    let (c1, c2) = (id_of(&captures[0]), id_of(&captures[1]));
    let refund = |capture: &str, attrs: Value| {
        patch_resource(&s, &token, "captures", capture, "?include=refunds", attrs)
    };
    let (st, v) = refund(&c1, json!({"_refund": true, "_refund_amount_cents": 4001}));
    assert_eq!(st, 422);
    assert_eq!(
        detail_at(
            &assert_errors(
                422,
                &v,
                &[("VALIDATION_ERROR", "/data/attributes/_refund_amount_cents")]
            ),
            "/data/attributes/_refund_amount_cents"
        ),
        "_refund_amount_cents - must be less than or equal to 4000"
    );
    let (st, v) = refund(&c1, json!({"_refund": true, "_refund_amount_cents": 1500}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "refund_balance_cents"), 2500);
    let r = &included(&v, "refunds")[0];
    assert_eq!(r["attributes"]["amount_cents"], 1500);
    assert_eq!(r["attributes"]["succeeded"], true);
    let o = order(&s, &token, &id, "?include=refunds");
    assert_eq!(attr(&o, "payment_status"), "partially_refunded");
    assert_eq!(attr(&o, "status"), "placed");
    assert_eq!(included(&o, "refunds").len(), 1);
    // The refund knows its capture.
    let (st, v) = get(
        &s,
        &token,
        &format!("/api/refunds/{}?include=reference_capture", id_of(r)),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["data"]["relationships"]["reference_capture"]["data"],
        json!({"type": "captures", "id": c1})
    );
    // Everything refunded: the order is cancelled and refunded.
    assert_eq!(refund(&c1, json!({"_refund": true})).0, 200);
    assert_eq!(refund(&c2, json!({"_refund": true})).0, 200);
    let o = order(&s, &token, &id, "");
    assert_eq!(attr(&o, "payment_status"), "refunded");
    assert_eq!(attr(&o, "status"), "cancelled");
    let (st, v) = refund(&c2, json!({"_refund": true, "_refund_amount_cents": 1}));
    assert_eq!(st, 422);
    let d = assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_refund")]);
    assert!(d[0].1.contains("nothing to refund"), "{d:?}");
}

#[test]
fn order_triggers_follow_the_order_status() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let trigger = |id: &str, name: &str| {
        patch_resource(
            &s,
            &token,
            "orders",
            id,
            "?include=captures",
            json!({ name: true }),
        )
    };
    // A placed order: approve and capture in one trigger; `_capture` wants it approved.
    let (placed, _) = paid_order(&s, &token);
    let (st, v) = trigger(&placed, "_capture");
    assert_eq!(st, 422);
    let d = assert_errors(
        422,
        &v,
        &[("VALIDATION_ERROR", "/data/attributes/_capture")],
    );
    assert!(d[0].1.contains("approve it first"), "{d:?}");
    let (st, v) = trigger(&placed, "_approve_and_capture");
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "status"), "approved");
    assert_eq!(attr(&v, "payment_status"), "paid");
    let c = &included(&v, "captures")[0];
    assert_eq!(c["attributes"]["amount_cents"], 9980);
    assert_eq!(c["attributes"]["succeeded"], true);
    let (st, v) = trigger(&placed, "_approve_and_capture");
    assert_eq!(st, 422);
    assert_eq!(v["errors"][0]["meta"]["status"], "approved");
    // An approved order: its `_capture` takes the whole authorization.
    let (approved, _) = paid_order(&s, &token);
    assert_eq!(trigger(&approved, "_approve").0, 200);
    let (st, v) = trigger(&approved, "_capture");
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "payment_status"), "paid");
    assert_eq!(
        included(&v, "captures")[0]["attributes"]["amount_cents"],
        9980
    );
    // An unpaid order has nothing to capture.
    let pending = ready_order(&s, &token, json!({"customer_email": "c@shop.example"}));
    let (st, v) = trigger(&pending, "_approve_and_capture");
    assert_eq!(st, 422);
    assert_eq!(
        v["errors"][0]["meta"],
        json!({"error": "invalid_transition", "status": "pending"})
    );
    // The order's `_refund` is a real trigger the sandbox does not emulate (captures refund).
    let (st, v) = trigger(&approved, "_refund");
    assert_eq!(st, 400);
    let d = assert_errors(
        400,
        &v,
        &[("PARAM_NOT_ALLOWED", "/data/attributes/_refund")],
    );
    assert!(d[0].1.contains("does not emulate"), "{d:?}");
}

#[test]
fn a_void_releases_an_authorization_nothing_was_captured_of() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let (id, auth) = paid_order(&s, &token);
    assert_eq!(
        patch_order(&s, &token, &id, json!({"_approve": true}), json!({})).0,
        200
    );
    // An approved order is not cancelled: its authorization is voided.
    let (st, v) = patch_order(&s, &token, &id, json!({"_cancel": true}), json!({}));
    assert_eq!(st, 422);
    let d = assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_cancel")]);
    assert!(d[0].1.contains("void its authorization"), "{d:?}");
    let (st, v) = patch_resource(
        &s,
        &token,
        "authorizations",
        &auth,
        "?include=voids",
        json!({"_void": true}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "void_balance_cents"), 0);
    assert_eq!(attr(&v, "capture_balance_cents"), 0);
    let void = &included(&v, "voids")[0];
    assert_eq!(void["attributes"]["amount_cents"], 9980);
    let (st, v) = get(
        &s,
        &token,
        &format!("/api/voids/{}?include=reference_authorization", id_of(void)),
    );
    assert_eq!(st, 200);
    assert_eq!(
        v["data"]["relationships"]["reference_authorization"]["data"]["id"],
        auth.as_str()
    );
    let o = order(&s, &token, &id, "");
    assert_eq!(attr(&o, "status"), "approved");
    assert_eq!(attr(&o, "payment_status"), "voided");
    for attrs in [json!({"_void": true}), json!({"_capture": true})] {
        let (st, v) = patch_resource(&s, &token, "authorizations", &auth, "", attrs);
        assert_eq!(st, 422, "{v}");
        assert!(errors(&v)[0].3.contains("nothing to"), "{v}");
    }
}

#[test]
fn a_declining_gateway_records_failed_transactions_and_moves_no_money() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let (st, body) = put_control(&s, "/gateway", json!({"decline": ["authorizations"]}));
    assert_eq!(st, 400, "{body}");
    // A declined capture: 200, a failed capture, the order as it was.
    decline(&s, &["captures"]);
    let (id, auth) = paid_order(&s, &token);
    let (st, v) = patch_resource(
        &s,
        &token,
        "orders",
        &id,
        "?include=captures",
        json!({"_approve_and_capture": true}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "status"), "placed");
    assert_eq!(attr(&v, "payment_status"), "authorized");
    let failed = &included(&v, "captures")[0];
    assert_eq!(failed["attributes"]["succeeded"], false);
    assert_eq!(failed["attributes"]["error_code"], "20005");
    assert_eq!(failed["attributes"]["refund_balance_cents"], 0);
    // A failed capture has nothing to refund.
    let (st, v) = patch_resource(
        &s,
        &token,
        "captures",
        &id_of(failed),
        "",
        json!({"_refund": true}),
    );
    assert_eq!(st, 422);
    assert!(errors(&v)[0].3.contains("did not succeed"), "{v}");
    // A declined refund moves nothing either.
    decline(&s, &["refunds", "voids"]);
    let (st, v) = patch_resource(
        &s,
        &token,
        "authorizations",
        &auth,
        "?include=captures",
        json!({"_capture": true}),
    );
    assert_eq!(st, 200);
    let captured = included(&v, "captures")
        .into_iter()
        .find(|c| c["attributes"]["succeeded"] == true)
        .unwrap();
    let (st, v) = patch_resource(
        &s,
        &token,
        "captures",
        &id_of(&captured),
        "?include=refunds",
        json!({"_refund": true, "_refund_amount_cents": 100}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "refund_balance_cents"), 9980);
    assert_eq!(included(&v, "refunds")[0]["attributes"]["succeeded"], false);
    assert_eq!(attr(&order(&s, &token, &id, ""), "payment_status"), "paid");
    // A declined void: the placed order stays placed.
    let (other, _) = paid_order(&s, &token);
    let (st, v) = patch_resource(
        &s,
        &token,
        "orders",
        &other,
        "?include=voids",
        json!({"_cancel": true}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "status"), "placed");
    assert_eq!(attr(&v, "payment_status"), "authorized");
    assert_eq!(included(&v, "voids")[0]["attributes"]["succeeded"], false);
    decline(&s, &[]);
    let (st, v) = patch_order(&s, &token, &other, json!({"_cancel": true}), json!({}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "payment_status"), "voided");
}

#[test]
fn transactions_need_an_integration_token_and_are_not_created_by_requests() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let sc = sales_channel(&s, &shop());
    let (id, auth) = paid_order(&s, &token);
    // Sales channels may not send the triggers, nor read the transactions.
    let (st, v) = patch_resource(
        &s,
        &sc,
        "authorizations",
        &auth,
        "",
        json!({"_capture": true}),
    );
    assert_eq!(st, 401);
    assert_errors(401, &v, &[("UNAUTHORIZED", "")]);
    assert!(errors(&v)[0].3.contains("requires an integration token"));
    let (st, _) = patch_order(
        &s,
        &sc,
        &id,
        json!({"_approve_and_capture": true}),
        json!({}),
    );
    assert_eq!(st, 401);
    assert_eq!(get(&s, &sc, &format!("/api/authorizations/{auth}")).0, 401);
    assert_eq!(
        attr(&order(&s, &token, &id, ""), "payment_status"),
        "authorized"
    );
    // Never created by a request.
    for ty in ["authorizations", "captures", "voids", "refunds"] {
        let (st, v) = api(
            &s,
            Method::Post,
            &token,
            &format!("/api/{ty}"),
            Some(json!({"data": {"type": ty, "attributes": {}}})),
        );
        assert_eq!(st, 405, "{ty}");
        assert_eq!(errors(&v)[0].1, "METHOD_NOT_ALLOWED");
    }
    // Unknown ids, another type's id, another organization's.
    assert_eq!(get(&s, &token, "/api/captures/nOsUcHcApT").0, 404);
    assert_eq!(get(&s, &token, &format!("/api/captures/{auth}")).0, 404);
    let other = integration(&s, &us());
    let (st, v) = get(&s, &other, &format!("/api/authorizations/{auth}"));
    assert_eq!(st, 404);
    assert_errors(404, &v, &[("RECORD_NOT_FOUND", "")]);
    // Read-only fields, and the document's own rules.
    let (st, v) = patch_resource(
        &s,
        &token,
        "authorizations",
        &auth,
        "",
        json!({"amount_cents": 1, "capture_balance_cents": 1, "_forward": true}),
    );
    assert_eq!(st, 400);
    let d = assert_errors(
        400,
        &v,
        &[
            ("PARAM_NOT_ALLOWED", "/data/attributes/amount_cents"),
            (
                "PARAM_NOT_ALLOWED",
                "/data/attributes/capture_balance_cents",
            ),
            ("PARAM_NOT_ALLOWED", "/data/attributes/_forward"),
        ],
    );
    assert!(detail_at(&d, "/data/attributes/_forward").contains("does not emulate"));
    let (st, v) = api(
        &s,
        Method::Patch,
        &token,
        &format!("/api/authorizations/{auth}"),
        Some(json!({"data": {"type": "captures", "id": auth, "attributes": {"_capture": true}}})),
    );
    assert_eq!(st, 400);
    assert_errors(400, &v, &[("TYPE_MISMATCH", "/data/type")]);
    let (st, v) = patch_resource(
        &s,
        &token,
        "authorizations",
        &auth,
        "",
        json!({"_capture": true, "_void": true}),
    );
    assert_eq!(st, 422);
    assert_errors(422, &v, &[("VALIDATION_ERROR", "/data/attributes/_void")]);
    let (st, v) = get(
        &s,
        &token,
        &format!("/api/authorizations/{auth}?include=order"),
    );
    assert_eq!(st, 400);
    assert_errors(400, &v, &[("INVALID_INCLUDE", "include")]);
}

/// Kassa tags what it made with its operation id afterwards (nothing can carry it at
/// creation): `reference`, `reference_origin` and `metadata` are updatable on every
/// transaction, and the order's include shows them.
#[test]
fn a_transaction_keeps_the_reference_set_on_it() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let (id, auth) = paid_order(&s, &token);
    let (st, v) = patch_resource(
        &s,
        &token,
        "authorizations",
        &auth,
        "?include=captures",
        json!({"_capture": true}),
    );
    assert_eq!(st, 200);
    let capture = id_of(&included(&v, "captures")[0]);
    let (st, v) = patch_resource(
        &s,
        &token,
        "captures",
        &capture,
        "",
        json!({"reference": "0190f0c4-op-7a1b", "reference_origin": "kassa", "metadata": {"till": "T1"}}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(attr(&v, "reference"), "0190f0c4-op-7a1b");
    assert_eq!(attr(&v, "refund_balance_cents"), 9980);
    let o = order(
        &s,
        &token,
        &id,
        "?include=captures&fields[captures]=reference,reference_origin,metadata,amount_cents",
    );
    let c = &included(&o, "captures")[0]["attributes"];
    assert_eq!(
        c,
        &json!({"reference": "0190f0c4-op-7a1b", "reference_origin": "kassa",
                "metadata": {"till": "T1"}, "amount_cents": 9980})
    );
}

/// Every updatable field of the four transaction resources in the official metadata (the
/// subset in `spec/commercelayer-resources-subset.json`) is emulated or refused as "not
/// emulated", and every read-only one is refused.
#[test]
fn the_transactions_writable_fields_match_the_resource_metadata() {
    let s = sandbox();
    let token = integration(&s, &shop());
    let (id, auth) = paid_order(&s, &token);
    assert_eq!(
        patch_resource(
            &s,
            &token,
            "authorizations",
            &auth,
            "",
            json!({"_capture": true, "_capture_amount_cents": 100})
        )
        .0,
        200
    );
    let o = order(&s, &token, &id, "?include=captures");
    let capture = id_of(&included(&o, "captures")[0]);
    assert_eq!(
        patch_resource(
            &s,
            &token,
            "captures",
            &capture,
            "",
            json!({"_refund": true, "_refund_amount_cents": 10})
        )
        .0,
        200
    );
    let (void_order, void_auth) = paid_order(&s, &token);
    assert_eq!(
        patch_resource(
            &s,
            &token,
            "authorizations",
            &void_auth,
            "",
            json!({"_void": true})
        )
        .0,
        200
    );
    let o = order(&s, &token, &id, "?include=refunds");
    let refund = id_of(&included(&o, "refunds")[0]);
    let o = order(&s, &token, &void_order, "?include=voids");
    let void = id_of(&included(&o, "voids")[0]);
    for (resource, ty, rid) in [
        ("authorization", "authorizations", &auth),
        ("capture", "captures", &capture),
        ("void", "voids", &void),
        ("refund", "refunds", &refund),
    ] {
        let all = metadata_fields(resource);
        let mut attrs = serde_json::Map::new();
        for (name, f) in &all {
            attrs.insert(name.clone(), sample_value(name, f));
        }
        let (st, v) = patch_resource(&s, &token, ty, rid, "", Value::Object(attrs));
        assert_eq!(st, 400, "{resource}: {v}");
        assert_refusals_follow_the_metadata(resource, "updatable", &v);
    }
}
