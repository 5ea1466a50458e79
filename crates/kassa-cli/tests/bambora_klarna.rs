//! `kassa-cli charge` with Bambora and Klarna end to end over loopback: CLI → provider client
//! → the sandbox's strict emulators, with the session log on a real SQLite file and the
//! credentials in the real keyring (so `#[ignore]`d for a bare `cargo test`; `make test` runs
//! them inside a throwaway gnome-keyring). Both presentations; pay, decline, cancel, expiry;
//! the MD5 check of Bambora's accept URL (a forged hash, a wrong key); faults.

mod common;
use common::shop::*;
use common::*;
use serde_json::Value;

impl Shop {
    fn bambora(name: &str) -> Shop {
        Shop::new(
            name,
            "bambora",
            &[("bambora.merchant_number", MERCHANT)],
            &[
                ("access_token", ACCESS_TOKEN),
                ("secret_token", SECRET_TOKEN),
                ("md5_key", MD5_KEY),
            ],
        )
    }

    fn klarna(name: &str) -> Shop {
        Shop::new(
            name,
            "klarna",
            &[],
            &[("username", KLARNA_USER), ("password", KLARNA_PASSWORD)],
        )
    }
}

fn token_of(provider_session_id: &str) -> &str {
    provider_session_id.split_once('/').unwrap().1
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn bambora_webview_pays_only_with_a_verified_accept_url() {
    let shop = Shop::bambora("bambora-webview");
    // Pay: the emulator's window sends the browser to the accept URL; the till hands it over.
    let (id, psid, url) = shop.open(true);
    assert!(psid.starts_with("checkout/"), "{psid}");
    assert!(url.contains("/bambora/window/"), "{url}");
    let accept = shop.outcome(&format!("/bambora/sessions/{}", token_of(&psid)), "pay");
    let accept = accept["redirect"].as_str().unwrap();
    assert!(
        accept.starts_with("https://kassa.invalid/return?txnid="),
        "{accept}"
    );
    // Before the accept URL arrives the session is open: Bambora has nothing to ask.
    assert_eq!(shop.status(&id)["status"], "open");
    let out = shop.cli(&["returned", &id, accept, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["status"], "paid");
    let s = shop.session(&id);
    let ev = events(&s);
    assert!(
        ev.contains("returned - the checkout window returned with bambora payment"),
        "{ev}"
    );
    assert!(ev.contains("paid transaction"), "{ev}");

    // A forged hash (amount changed) is never paid: needs review, and no payment id is kept.
    let (id, psid, _) = shop.open(true);
    let accept = shop.outcome(&format!("/bambora/sessions/{}", token_of(&psid)), "pay");
    let forged = accept["redirect"]
        .as_str()
        .unwrap()
        .replacen("&amount=", "&amount=1", 1);
    let out = shop.cli(&["returned", &id, &forged, "--json"]);
    assert_eq!(json(&out)["status"], "needs_review", "{}", stderr(&out));
    let ev = events(&shop.session(&id));
    assert!(ev.contains("hash does not match"), "{ev}");
    assert!(!ev.contains("verified"), "{ev}");

    // A URL without a hash, too.
    let (id, psid, _) = shop.open(true);
    let accept = shop.outcome(&format!("/bambora/sessions/{}", token_of(&psid)), "pay");
    let stripped = accept["redirect"]
        .as_str()
        .unwrap()
        .split("&hash=")
        .next()
        .unwrap()
        .to_string();
    let out = shop.cli(&["returned", &id, &stripped, "--json"]);
    assert_eq!(json(&out)["status"], "needs_review", "{}", stderr(&out));

    // Decline: the window stays payable, the session stays open; then the customer cancels.
    let (id, psid, _) = shop.open(true);
    let r = shop.outcome(&format!("/bambora/sessions/{}", token_of(&psid)), "decline");
    assert!(r["redirect"].is_null(), "{r}");
    assert_eq!(shop.status(&id)["status"], "open");
    let r = shop.outcome(&format!("/bambora/sessions/{}", token_of(&psid)), "cancel");
    let decline_url = r["redirect"].as_str().unwrap();
    assert!(decline_url.contains("kassa=cancelled"), "{decline_url}");
    let out = shop.cli(&["returned", &id, decline_url, "--json"]);
    assert_eq!(json(&out)["status"], "cancelled", "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1));

    // Staff cancel an open session; expiry without an accept URL.
    let (id, _, _) = shop.open(true);
    let out = shop.cli(&["cancel", &id, "--json"]);
    assert_eq!(json(&out)["status"], "cancelled", "{}", stderr(&out));
    let (id, _, _) = shop.open(true);
    shop.age(&id);
    assert_eq!(shop.status(&id)["status"], "expired");
    assert_no_secret_stored(&shop.dir.0, &[ACCESS_TOKEN, SECRET_TOKEN, MD5_KEY]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn bambora_wrong_md5_key_needs_review_and_the_qr_flow_never_claims_paid() {
    let shop = Shop::bambora("bambora-qr");
    // The shop typed the wrong MD5 key: a genuine accept URL cannot be verified.
    shop.credential("bambora", "md5_key", "not-the-key-7b40");
    let (id, psid, _) = shop.open(true);
    let accept = shop.outcome(&format!("/bambora/sessions/{}", token_of(&psid)), "pay");
    let out = shop.cli(&[
        "returned",
        &id,
        accept["redirect"].as_str().unwrap(),
        "--json",
    ]);
    assert_eq!(json(&out)["status"], "needs_review", "{}", stderr(&out));
    assert!(events(&shop.session(&id)).contains("wrong bambora.md5_key"));

    // QR: a payment request. Paid on the phone → closed → needs review (no verifiable
    // transaction in Bambora's answer), never paid.
    let (id, psid, url) = shop.open(false);
    assert!(psid.starts_with("paymentrequest/"), "{psid}");
    assert!(url.contains("/bambora/pay/"), "{url}");
    assert_eq!(shop.status(&id)["status"], "open");
    shop.outcome(
        &format!("/bambora/paymentrequests/{}", token_of(&psid)),
        "pay",
    );
    assert_eq!(shop.status(&id)["status"], "needs_review");
    assert!(events(&shop.session(&id)).contains("back office"));
    // Decline leaves it open; staff cancel deletes it at Bambora.
    let (id, psid, _) = shop.open(false);
    shop.outcome(
        &format!("/bambora/paymentrequests/{}", token_of(&psid)),
        "decline",
    );
    assert_eq!(shop.status(&id)["status"], "open");
    let out = shop.cli(&["cancel", &id, "--json"]);
    assert_eq!(json(&out)["status"], "cancelled", "{}", stderr(&out));
    assert!(events(&shop.session(&id)).contains("deleted at Bambora"));
    // A paid request cannot be cancelled: the cancel reports what it is.
    let (id, psid, _) = shop.open(false);
    shop.outcome(
        &format!("/bambora/paymentrequests/{}", token_of(&psid)),
        "pay",
    );
    let out = shop.cli(&["cancel", &id, "--json"]);
    assert_eq!(json(&out)["status"], "needs_review", "{}", stderr(&out));
    // Expiry deletes the request so nobody pays it later.
    let (id, psid, _) = shop.open(false);
    shop.age(&id);
    assert_eq!(shop.status(&id)["status"], "expired");
    assert_eq!(
        control_status(
            &shop.sandbox,
            &format!("/bambora/paymentrequests/{}/outcome", token_of(&psid)),
            r#"{"outcome":"pay"}"#
        ),
        409,
        "a deleted payment request cannot be paid"
    );
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn bambora_faults_are_clear_and_logged() {
    let shop = Shop::bambora("bambora-faults");
    // A refused order (the emulator's meta envelope) keeps Bambora's merchant message.
    shop.faults(r#"{"method":"POST","path":"/paymentrequests","kind":"status","status":503}"#);
    let out = shop.cli(&["charge", "--order", &shop.order, "--json"]);
    assert_refused(&out, 3, "bambora has a problem (HTTP 503");
    shop.faults(
        r#"{"method":"POST","path":"/paymentrequests","kind":"rate_limit","retry_after":7}"#,
    );
    assert_refused(
        &shop.cli(&["charge", "--order", &shop.order]),
        3,
        "retry after 7 s",
    );
    shop.faults(r#"{"method":"POST","path":"/paymentrequests","kind":"not_json"}"#);
    assert_refused(
        &shop.cli(&["charge", "--order", &shop.order]),
        3,
        "unreadable answer",
    );
    // Garbage on a status read: the session stays open, the error is logged.
    let (id, _, _) = shop.open(false);
    shop.faults(r#"{"method":"GET","path":"/paymentrequests/","kind":"truncated","times":5}"#);
    let out = shop.cli(&["status", &id, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let s = shop.session(&id);
    assert_eq!(s["status"], "open", "{s}");
    assert!(events(&s).contains("status read failed"), "{}", events(&s));
    // Every attempt is in the log: three failed creates and the open session.
    let out = shop.cli(&["sessions", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rows.len(), 4, "{}", stdout(&out));
    // A wrong secret token: 401 named, nothing created.
    shop.credential("bambora", "secret_token", "wrong-token-2c8a");
    assert_refused(
        &shop.cli(&["charge", "--order", &shop.order]),
        3,
        "bambora refused the credentials (HTTP 401",
    );
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn klarna_hosted_page_outcomes_map_to_statuses() {
    let shop = Shop::klarna("klarna-outcomes");
    for (webview, outcome, expected) in [
        (false, "pay", "paid"),
        (true, "pay", "paid"),
        (false, "pay_pending", "open"),
        (true, "decline", "failed"),
        (false, "cancel", "cancelled"),
        (true, "back", "open"),
        (false, "reject", "failed"),
        (false, "expire", "expired"),
    ] {
        let (id, hpp, url) = shop.open(webview);
        assert!(url.contains("/klarna/hpp/pay/"), "{url}");
        shop.outcome(&format!("/klarna/sessions/{hpp}"), outcome);
        let v = shop.status(&id);
        assert_eq!(
            v["status"],
            expected,
            "{outcome}: {}",
            events(&shop.session(&id))
        );
    }
    // A pending fraud check becomes paid once Klarna accepts it.
    let (id, hpp, _) = shop.open(false);
    shop.outcome(&format!("/klarna/sessions/{hpp}"), "pay_pending");
    assert_eq!(shop.status(&id)["status"], "open");
    assert!(events(&shop.session(&id)).contains("fraud check is pending"));
    let order_id = {
        let ev = events(&shop.session(&id));
        ev.split("Klarna order ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    control(
        &shop.sandbox,
        &format!("/klarna/orders/{order_id}/fraud"),
        r#"{"fraud_status":"ACCEPTED"}"#,
    );
    assert_eq!(shop.status(&id)["status"], "paid");
    // Staff cancel: the page is disabled; a pending order is cancelled with an idempotency key.
    let (id, _, _) = shop.open(true);
    let out = shop.cli(&["cancel", &id, "--json"]);
    assert_eq!(json(&out)["status"], "cancelled", "{}", stderr(&out));
    assert!(events(&shop.session(&id)).contains("disabled"));
    let (id, hpp, _) = shop.open(false);
    shop.outcome(&format!("/klarna/sessions/{hpp}"), "pay_pending");
    let out = shop.cli(&["cancel", &id, "--json"]);
    assert_eq!(json(&out)["status"], "cancelled", "{}", stderr(&out));
    assert!(events(&shop.session(&id)).contains("cancelled during its fraud check"));
    // Past Kassa's expiry an untouched page is disabled at Klarna, so the QR cannot be paid.
    let (id, hpp, _) = shop.open(false);
    shop.age(&id);
    assert_eq!(shop.status(&id)["status"], "expired");
    assert!(events(&shop.session(&id)).contains("Kassa disabled it"));
    assert_eq!(
        control_status(
            &shop.sandbox,
            &format!("/klarna/sessions/{hpp}/outcome"),
            r#"{"outcome":"pay"}"#
        ),
        409,
        "a disabled page cannot be paid"
    );
    assert_no_secret_stored(&shop.dir.0, &[KLARNA_PASSWORD]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn klarna_errors_keep_code_messages_and_correlation_id() {
    let shop = Shop::klarna("klarna-errors");
    // IN_STORE without the agreement: Klarna's 403 with its code, kept in the session's events.
    shop.config("klarna.acquiring_channel", "IN_STORE");
    let out = shop.cli(&["charge", "--order", &shop.order, "--json"]);
    assert_refused(&out, 3, "NOT_ALLOWED");
    assert!(stderr(&out).contains("correlation_id"), "{}", stderr(&out));
    let list = shop.cli(&["sessions", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&list)).unwrap();
    let id = rows[0]["id"].as_str().unwrap();
    let s = shop.session(id);
    let ev = events(&s);
    assert!(
        ev.contains("NOT_ALLOWED") && ev.contains("correlation_id"),
        "{ev}"
    );
    shop.config("klarna.acquiring_channel", "ECOMMERCE");
    // 5xx on the HPP create after the KP session: unknown (it may exist), logged.
    shop.faults(r#"{"method":"POST","path":"/hpp/v1/sessions","kind":"status","status":502}"#);
    assert_refused(
        &shop.cli(&["charge", "--order", &shop.order]),
        3,
        "klarna has a problem (HTTP 502",
    );
    // Wrong content type on a status read; a 401 with a wrong password.
    let (id, _, _) = shop.open(false);
    shop.faults(
        r#"{"method":"GET","path":"/hpp/v1/sessions/","kind":"wrong_content_type","times":5}"#,
    );
    assert_refused(&shop.cli(&["status", &id]), 3, "expected JSON");
    shop.credential("klarna", "password", "wrong-password-d51e");
    assert_refused(
        &shop.cli(&["charge", "--order", &shop.order]),
        3,
        "klarna refused the credentials (HTTP 401",
    );
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn klarna_in_store_shows_klarnas_own_qr_image() {
    let shop = Shop::new(
        "klarna-in-store",
        "klarna",
        &[("klarna.acquiring_channel", "IN_STORE")],
        &[
            ("username", KLARNA_IN_STORE_USER),
            ("password", KLARNA_PASSWORD),
        ],
    );
    // The page link is ECOMMERCE only: the till's window is refused before anything is created.
    let out = shop.cli(&["charge", "--order", &shop.order, "--webview"]);
    assert_refused(&out, 3, "ECOMMERCE only");
    assert!(
        stderr(&out).contains("is failed"),
        "logged as a failed attempt"
    );
    // The QR is Klarna's image from qr_code_url, shown as it is.
    let svg = shop.dir.0.join("qr.svg");
    let out = shop.cli(&[
        "charge",
        "--order",
        &shop.order,
        "--json",
        "--qr-svg",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert!(v["url"].as_str().unwrap().ends_with("/qr"), "{v}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg.contains("<image") && svg.contains("href=\"data:image/svg+xml;base64,"),
        "{svg}"
    );
    let id = v["id"].as_str().unwrap();
    let hpp = v["provider_session_id"].as_str().unwrap();
    shop.outcome(&format!("/klarna/sessions/{hpp}"), "pay");
    assert_eq!(shop.status(id)["status"], "paid");
}
