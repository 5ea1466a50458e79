//! `kassa-cli charge` with Commerce Layer and Opencharge end to end over loopback: CLI →
//! provider client → the sandbox's strict emulators, the session log on a real SQLite file and
//! the credentials in the real keyring (so `#[ignore]`d for a bare `cargo test`; `make test`
//! runs them inside a throwaway gnome-keyring). Both presentations, both Opencharge endpoints;
//! the Commerce Layer tax check; signatures, nonces and clock skew; staff confirmation.

mod common;
use common::shop::*;
use common::*;
use serde_json::Value;

fn commercelayer(name: &str) -> Shop {
    Shop::new(
        name,
        "commercelayer",
        &[
            ("commercelayer.organization", "kassa-shop"),
            ("commercelayer.market", CL_MARKET),
            ("commercelayer.address_id", CL_ADDRESS),
        ],
        &[
            ("client_id", CL_CLIENT_ID),
            ("client_secret", CL_CLIENT_SECRET),
            ("sales_channel_client_id", CL_SALES_CHANNEL),
        ],
    )
}

fn opencharge(name: &str) -> Shop {
    Shop::new(
        name,
        "opencharge",
        &[
            ("opencharge.ocid", &OC_OCID.to_string()),
            ("opencharge.gateway_ocid", "100"),
        ],
        &[("private_key", OC_PRIVATE_KEY)],
    )
}

/// A GET of a URL the customer's browser would open: (status, body).
fn browse(url: &str) -> (u16, String) {
    use kassa_core::http::{Http, HttpConfig, Method, Request};
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send("browser", &Request::new(Method::Get, url))
        .unwrap();
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

fn review(shop: &Shop, id: &str, verdict: &str, note: Option<&str>) -> std::process::Output {
    let mut args = vec!["review", id, verdict, "--json"];
    if let Some(n) = note {
        args.extend(["--note", n]);
    }
    shop.cli(&args)
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn commercelayer_link_and_hosted_checkout_pay_cancel_and_expire() {
    let shop = commercelayer("cl-flows");

    // QR: a Link (no token in it) to an order whose tax matched the quote.
    let (id, order_id, url) = shop.open(false);
    assert!(url.contains("/commercelayer/link/"), "{url}");
    assert!(!url.contains("accessToken"), "{url}");
    assert_eq!(browse(&url).0, 200);
    assert_eq!(shop.status(&id)["status"], "open");
    shop.outcome(&format!("/commercelayer/orders/{order_id}"), "pay");
    let s = shop.status(&id);
    assert_eq!(s["status"], "paid", "{s}");
    let ev = events(&shop.session(&id));
    assert!(ev.contains("checkout.com payment session ps_"), "{ev}");
    assert!(ev.contains("order placed, payment authorized"), "{ev}");

    // Window: the hosted checkout with a sales-channel token (never the integration token).
    let (id, order_id, url) = shop.open(true);
    assert!(
        url.contains(&format!("/commercelayer/checkout/{order_id}?accessToken=")),
        "{url}"
    );
    assert_eq!(browse(&url).0, 200);
    // The customer goes back to the till: Kassa cancels the order.
    let back = shop.outcome(&format!("/commercelayer/orders/{order_id}"), "cancel");
    let back = back["redirect"].as_str().unwrap();
    assert!(back.contains("kassa=cancelled"), "{back}");
    let out = shop.cli(&["returned", &id, back, "--json"]);
    assert_eq!(json(&out)["status"], "cancelled", "{}", stderr(&out));
    // Cancelled at Commerce Layer: the page can no longer be paid.
    let refused = control_status(
        &shop.sandbox,
        &format!("/commercelayer/orders/{order_id}/outcome"),
        r#"{"outcome":"pay"}"#,
    );
    assert!(refused >= 400, "a cancelled order was paid ({refused})");
    let after = shop.status(&id);
    assert_eq!(
        after["status"], "cancelled",
        "a cancelled sale stays cancelled"
    );

    // Staff cancel a QR sale: the link is disabled and the order cancelled.
    let (id, order_id, url) = shop.open(false);
    let out = shop.cli(&["cancel", &id, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["status"], "cancelled");
    assert_eq!(browse(&url).0, 410, "the disabled link is gone");
    let ev = events(&shop.session(&id));
    assert!(ev.contains("disabled"), "{ev}");
    assert!(
        ev.contains(&format!("order {order_id}")) || ev.contains("order #"),
        "{ev}"
    );

    // A declined card leaves the order payable; past its expiry it is expired.
    let (id, order_id, _) = shop.open(false);
    shop.outcome(&format!("/commercelayer/orders/{order_id}"), "decline");
    assert_eq!(shop.status(&id)["status"], "open");
    shop.outcome(&format!("/commercelayer/orders/{order_id}"), "expire");
    shop.age(&id);
    assert_eq!(shop.status(&id)["status"], "expired");

    // Commerce Layer reports payments itself: a customer's claim is not taken.
    let (id, _, _) = shop.open(false);
    assert_refused(
        &review(&shop, &id, "claimed", None),
        2,
        "reports payments itself",
    );

    assert_no_secret_stored(
        &shop.dir.0,
        &[CL_CLIENT_ID, CL_CLIENT_SECRET, CL_SALES_CHANNEL],
    );
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn commercelayer_tax_mismatch_and_errors_stop_before_any_url() {
    let shop = commercelayer("cl-mismatch");
    // A 15 % line without a SKU: Commerce Layer's calculator taxes it at the market's 25 %.
    let order = shop.dir.0.join("bread.json");
    std::fs::write(
        &order,
        r#"{"currency":"NOK","prices_include_vat":true,"lines":[
          {"sku":"kaffe-1","name":"Kaffe","quantity":"2","unit_price":3500,"vat_rate":"15"},
          {"name":"Brød","quantity":"1","unit_price":4600,"vat_rate":"15"}]}"#,
    )
    .unwrap();
    let out = shop.cli(&["charge", "--order", order.to_str().unwrap(), "--json"]);
    assert_refused(&out, 3, "disagrees with Kassa's quote");
    let err = stderr(&out);
    // Both figures: 2 × 35.00 at 15 % = 9.13, 46.00 at 15 % = 6.00 (Kassa), 9.20 at 25 % (CL).
    assert!(err.contains("tax 18.33 NOK (Kassa VAT 15.13 NOK)"), "{err}");
    assert!(
        err.contains("\"Brød\": tax 9.20 NOK (Kassa 15 % VAT 6.00 NOK)"),
        "{err}"
    );
    assert!(err.contains("[provider_mismatch]"), "{err}");
    let list = shop.cli(&["sessions", "--json"]);
    let sessions: Value = serde_json::from_str(&stdout(&list)).unwrap();
    let s = &sessions.as_array().unwrap()[0];
    assert_eq!(s["status"], "failed", "{s}");
    assert!(s["checkout_url"].is_null(), "no URL was shown: {s}");
    let ev = events(&shop.session(s["id"].as_str().unwrap()));
    assert!(ev.contains("Kassa VAT 15.13 NOK"), "{ev}");

    // A SKU Commerce Layer does not know: the JSON:API error's code and pointer are kept.
    std::fs::write(
        &order,
        r#"{"currency":"NOK","prices_include_vat":true,"lines":[
          {"sku":"nope-9","name":"Ukjent","quantity":"1","unit_price":1000,"vat_rate":"25"}]}"#,
    )
    .unwrap();
    let out = shop.cli(&["charge", "--order", order.to_str().unwrap(), "--json"]);
    assert_refused(&out, 3, "VALIDATION_ERROR");
    assert!(
        stderr(&out).contains("/data/attributes/sku_code"),
        "{}",
        stderr(&out)
    );

    // A wrong secret: refused at the auth endpoint, logged, not retried forever.
    shop.credential("commercelayer", "client_secret", "wrong-secret-1f");
    let out = shop.cli(&["charge", "--order", &shop.order, "--json"]);
    assert_refused(&out, 3, "refused the credentials (HTTP 401");
    assert_no_secret_stored(&shop.dir.0, &[CL_CLIENT_SECRET, "wrong-secret-1f"]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn opencharge_pages_are_confirmed_by_staff_never_by_a_redirect() {
    let shop = opencharge("oc-flows");

    // QR at the payment gateway: paying sends the proof to a webhook the till cannot host, so
    // the session stays open until staff record what they found.
    let (id, session_id, url) = shop.open(false);
    assert!(session_id.starts_with("cs_"), "{session_id}");
    assert!(url.contains("/opencharge/pg/pay/"), "{url}");
    assert_eq!(browse(&url).0, 200);
    let paid = shop.outcome(&format!("/opencharge/orders/{id}"), "pay");
    assert!(paid["redirect"]
        .as_str()
        .unwrap()
        .starts_with("https://kassa.invalid/return"));
    assert_eq!(shop.status(&id)["status"], "open");
    // Not yet in review: "paid" needs a session in needs_review.
    assert_refused(&review(&shop, &id, "paid", None), 2, "needs_review");
    let out = review(&shop, &id, "claimed", None);
    assert_eq!(json(&out)["status"], "needs_review", "{}", stderr(&out));
    let out = review(&shop, &id, "paid", Some("seen in the gateway, tx 42"));
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        (&v["status"], &v["confirmed_by"]),
        (&"paid".into(), &"staff".into())
    );
    let ev = events(&shop.session(&id));
    assert!(ev.contains("staff say the customer has paid"), "{ev}");
    assert!(
        ev.contains("payment confirmed by staff (operator 1) after checking opencharge (not the provider's evidence): seen in the gateway, tx 42"),
        "{ev}"
    );
    let out = shop.cli(&["export", "--csv", "-"]);
    let csv = stdout(&out);
    let row = csv.lines().find(|l| l.starts_with(&id)).unwrap();
    // `confirmed_by`, then the captured and refunded columns (empty: no operations).
    assert!(
        row.ends_with(",staff,,,,"),
        "the CSV says who confirmed it: {row}"
    );
    // The signed order carried Kassa's session id, the VAT in its memo and the gateway in accepts.
    let o = control_get(&shop.sandbox, &format!("/opencharge/orders/{id}"));
    assert_eq!(o["order"]["accepts"], serde_json::json!([100]), "{o}");
    assert!(
        o["order"]["memo"].as_str().unwrap().contains("incl. VAT"),
        "{o}"
    );
    assert_eq!(o["proof"]["to"]["reference"], id.as_str());

    // Window: the success URL is no proof: needs review, then staff find nothing.
    let (id, _, _) = shop.open(true);
    let r = shop.outcome(&format!("/opencharge/orders/{id}"), "pay");
    let out = shop.cli(&["returned", &id, r["redirect"].as_str().unwrap(), "--json"]);
    assert_eq!(json(&out)["status"], "needs_review", "{}", stderr(&out));
    let out = review(&shop, &id, "not-paid", None);
    assert_eq!(json(&out)["status"], "failed");
    assert_eq!(json(&out)["confirmed_by"], "staff");

    // The customer cancels on the page; staff cancel another (no cancel call exists).
    let (id, _, _) = shop.open(true);
    let r = shop.outcome(&format!("/opencharge/orders/{id}"), "cancel");
    let out = shop.cli(&["returned", &id, r["redirect"].as_str().unwrap(), "--json"]);
    assert_eq!(json(&out)["status"], "cancelled");
    let (id, _, _) = shop.open(false);
    let out = shop.cli(&["cancel", &id, "--json"]);
    assert_eq!(json(&out)["status"], "cancelled");
    assert!(events(&shop.session(&id)).contains("stays payable until the order expires"));

    // Past the order's expiry Kassa cannot know whether it was paid in time.
    let (id, _, _) = shop.open(false);
    shop.age(&id);
    assert_eq!(shop.status(&id)["status"], "needs_review");

    // Through a merchant gateway (`/orders/checkout`): same order, its own envelope.
    shop.config("opencharge.mode", "orders_checkout");
    shop.config(
        "opencharge.gateway_url",
        &shop.sandbox.opencharge_merchant_gateway_url(),
    );
    shop.config("opencharge.gateway_ocid", "300");
    let (id, _, url) = shop.open(false);
    assert!(url.contains("/opencharge/pg/pay/"), "{url}");
    let r = shop.outcome(&format!("/opencharge/orders/{id}"), "pay");
    assert!(r["redirect"]
        .as_str()
        .unwrap()
        .starts_with("https://kassa.invalid/return"));
    let o = control_get(&shop.sandbox, &format!("/opencharge/orders/{id}"));
    assert_eq!(o["gateway"], "mg");
    assert_eq!(o["proof"]["to"]["ocid"], 300);

    assert_no_secret_stored(&shop.dir.0, &[OC_PRIVATE_KEY]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn opencharge_signatures_items_and_clock_skew() {
    let shop = opencharge("oc-signing");

    // A gateway that checks orders the documented lossy way refuses signed items…
    control_put(
        &shop.sandbox,
        "/opencharge/gateway",
        r#"{"canonicalization":"replacer"}"#,
    );
    let out = shop.cli(&["charge", "--order", &shop.order, "--json"]);
    assert_refused(&out, 3, "INVALID_SIGNATURE");
    assert!(
        stderr(&out).contains("opencharge.sign_items false"),
        "{}",
        stderr(&out)
    );
    // …and verifies an order without items, which both readings canonicalize alike.
    shop.config("opencharge.sign_items", "false");
    let (id, _, _) = shop.open(false);
    let o = control_get(&shop.sandbox, &format!("/opencharge/orders/{id}"));
    assert!(o["order"].get("items").is_none(), "{o}");
    control_put(
        &shop.sandbox,
        "/opencharge/gateway",
        r#"{"canonicalization":"recursive"}"#,
    );
    shop.config("opencharge.sign_items", "true");
    let (id, _, _) = shop.open(false);
    let o = control_get(&shop.sandbox, &format!("/opencharge/orders/{id}"));
    assert_eq!(o["order"]["items"].as_array().unwrap().len(), 3, "{o}");

    // The till's clock is 1000 s behind the gateway's: the first create is refused with
    // TIMESTAMP_EXPIRED, Kassa measures the offset from the Date header, signs again, and says so.
    control_put(
        &shop.sandbox,
        "/opencharge/gateway",
        r#"{"clock_offset_s":1000}"#,
    );
    let (id, _, _) = shop.open(false);
    let ev = events(&shop.session(&id));
    let behind: i64 = ev
        .split("this till's clock is ")
        .nth(1)
        .and_then(|r| r.split(" s behind the gateway's").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no clock note in {ev}"));
    assert!((behind - 1000).abs() <= 1, "{ev}");
    let o = control_get(&shop.sandbox, &format!("/opencharge/orders/{id}"));
    let created = o["order"]["createdAt"].as_i64().unwrap();
    let now = kassa_core::time::now_millis() / 1000;
    assert!(
        (created - (now + 1000)).abs() < 30,
        "signed on the gateway's clock: {o}"
    );
    control_put(
        &shop.sandbox,
        "/opencharge/gateway",
        r#"{"clock_offset_s":0}"#,
    );

    // A key that is not the one the gateway knows for OCID 500: the error names its public key.
    shop.credential("opencharge", "private_key", &"11".repeat(32));
    let out = shop.cli(&["charge", "--order", &shop.order, "--json"]);
    assert_refused(&out, 3, "INVALID_SIGNATURE");
    assert!(
        stderr(&out).contains("must belong to OCID 500"),
        "{}",
        stderr(&out)
    );
    // A malformed key is a setup problem, said without echoing it.
    shop.credential("opencharge", "private_key", "not-a-key-8f3e21");
    let out = shop.cli(&["charge", "--order", &shop.order, "--json"]);
    assert_refused(&out, 2, "not 64 hexadecimal characters");
    assert!(!stderr(&out).contains("not-a-key-8f3e21"));
    assert_no_secret_stored(&shop.dir.0, &[OC_PRIVATE_KEY, &"11".repeat(32)]);
}
