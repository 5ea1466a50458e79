//! `kassa-cli charge --link`, `links`, `resend` and `renew` end to end over loopback against
//! the emulators, with the session log on a real SQLite file and credentials and the journal's
//! key in the real keyring (so `#[ignore]`d for a bare `cargo test`; `make test` runs them):
//! a 24-hour Klarna link sent by SMS, a 7-day Bambora Payment Request sent by e-mail, a Dintero
//! link published by SMS and renewed after it expired, each read back from what the emulator
//! recorded as sent; a lifetime beyond the provider's limit clamped and the real expiry
//! reported; the QR as PNG and SVG and the slip's ESC/POS bytes. The refusals of what staff
//! typed need no keyring: nothing is opened or created before them.

mod common;
use common::shop::*;
use common::*;
use kassa_core::time::{now_millis, parse_utc};
use serde_json::Value;

const HOUR: i64 = 3600 * 1000;
const DAY: i64 = 24 * HOUR;

/// What the shop's sandbox providers "sent" so far.
fn messages(shop: &Shop) -> Vec<Value> {
    control_get(&shop.sandbox, "/messages")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn at(v: &Value) -> i64 {
    parse_utc(v.as_str().unwrap_or_else(|| panic!("a time: {v}"))).unwrap()
}

/// An expiry the provider confirmed within a minute of `want` (the command's own clock ran
/// between `now_millis` here and its create).
fn assert_about(v: &Value, want: i64) {
    let got = at(v);
    assert!((got - want).abs() < 60_000, "expiry {v}, want {want}");
}

fn charge(shop: &Shop, extra: &[&str]) -> (Value, i64) {
    let mut args = vec!["charge", "--order", &shop.order, "--json", "--link"];
    args.extend_from_slice(extra);
    let now = now_millis();
    let out = shop.cli(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    (json(&out), now)
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn a_24_hour_klarna_link_goes_by_sms_its_qr_saved_and_a_week_is_clamped_to_47_hours() {
    let shop = Shop::for_provider("links-klarna", "klarna");
    let png = shop.dir.0.join("link.png");
    let svg = shop.dir.0.join("link.svg");
    let slip = shop.dir.0.join("slip.bin");
    let (v, now) = charge(
        &shop,
        &[
            "--expires-in",
            "24h",
            "--send-sms",
            "+47 912 34 567",
            "--qr-png",
            png.to_str().unwrap(),
            "--qr-svg",
            svg.to_str().unwrap(),
            "--slip-escpos",
            slip.to_str().unwrap(),
        ],
    );
    assert_eq!(
        (&v["status"], &v["sale"]),
        (&"open".into(), &"link".into()),
        "{v}"
    );
    assert_about(&v["expires_at"], now + DAY);
    assert_eq!(v["contact"], "+47******67");
    assert_eq!(v["sent"]["channel"], "sms");
    assert_eq!(v["sent"]["status"], "accepted");
    assert_eq!(v["sent"]["to"], "+47******67");
    let m = messages(&shop);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        (&m[0]["provider"], &m[0]["to"]),
        (&"klarna".into(), &"+4791234567".into())
    );
    assert_eq!(m[0]["link"], v["url"]);
    // The QR as files and on paper.
    let png = std::fs::read(&png).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let slip = std::fs::read(&slip).unwrap();
    let url = v["url"].as_str().unwrap();
    assert!(
        slip.windows(url.len()).any(|w| w == url.as_bytes()),
        "the QR's URL is on the slip"
    );
    assert!(slip.ends_with(b"\x1dVA\x00"));
    // Listed, with its contact masked; sent again by e-mail.
    let id = v["id"].as_str().unwrap();
    let out = shop.cli(&["links", "--json"]);
    let links: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(links[0]["id"], id);
    assert_eq!(links[0]["contact"], "+47******67");
    assert_eq!(links[0]["status"], "open");
    let out = shop.cli(&["resend", id, "--send-email", "kari@example.no", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["sent"]["channel"], "email");
    assert_eq!(messages(&shop)[1]["to"], "kari@example.no");
    // A week: Klarna keeps a page 47 h; the expiry reported is that, the one asked is kept.
    let (v, now) = charge(&shop, &["--expires-in", "7d"]);
    assert_about(&v["expires_at"], now + 47 * HOUR);
    assert_about(&v["requested_expires_at"], now + 7 * DAY);
    let out = shop.cli(&["session", v["id"].as_str().unwrap()]);
    assert!(
        stdout(&out).contains("keeps a link at most 47 h"),
        "{}",
        stdout(&out)
    );
    assert_no_secret_stored(&shop.dir.0, &[KLARNA_PASSWORD]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn a_7_day_bambora_payment_request_goes_by_e_mail_and_sms_is_refused() {
    let shop = Shop::for_provider("links-bambora", "bambora");
    let out = shop.cli(&[
        "charge",
        "--order",
        &shop.order,
        "--link",
        "--send-sms",
        "+4791234567",
    ]);
    assert_refused(&out, 2, "cannot send a link by sms");
    let (v, now) = charge(
        &shop,
        &["--expires-in", "7d", "--send-email", "Kari@Example.NO"],
    );
    assert_about(&v["expires_at"], now + 7 * DAY);
    assert!(
        v["provider_session_id"]
            .as_str()
            .unwrap()
            .starts_with("paymentrequest/"),
        "{v}"
    );
    assert_eq!(
        (&v["sent"]["channel"], &v["sent"]["status"]),
        (&"email".into(), &"accepted".into())
    );
    let m = messages(&shop);
    assert_eq!(
        m.len(),
        1,
        "only the e-mail: the refused SMS created nothing"
    );
    assert_eq!(
        (&m[0]["provider"], &m[0]["to"]),
        (&"bambora".into(), &"Kari@example.no".into())
    );
    let out = shop.cli(&["sessions", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1,
        "the refused charge recorded nothing"
    );
    assert_no_secret_stored(&shop.dir.0, &[ACCESS_TOKEN, SECRET_TOKEN, MD5_KEY]);
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn a_dintero_link_is_published_by_sms_cannot_be_resent_and_is_renewed_after_it_expired() {
    let shop = Shop::for_provider("links-dintero", "dintero");
    let (v, now) = charge(&shop, &["--expires-in", "1h", "--send-sms", "+4791234567"]);
    assert_about(&v["expires_at"], now + HOUR);
    assert_eq!(
        (&v["sent"]["channel"], &v["sent"]["status"]),
        (&"sms".into(), &"sent".into())
    );
    assert_eq!(messages(&shop)[0]["provider"], "dintero");
    let id = v["id"].as_str().unwrap();
    assert_refused(&shop.cli(&["resend", id]), 2, "only when it is created");
    assert_refused(&shop.cli(&["renew", id]), 2, "still open");
    let psid = v["provider_session_id"].as_str().unwrap();
    shop.outcome(&format!("/dintero/sessions/{psid}"), "expire");
    assert_eq!(shop.status(id)["status"], "expired");
    let out = shop.cli(&["renew", id, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let renewed = json(&out);
    assert_eq!(renewed["renews"], id);
    assert_eq!(renewed["status"], "open");
    assert_eq!(renewed["sent"]["status"], "sent");
    assert_eq!(messages(&shop).len(), 2, "sent again to the same phone");
    let out = shop.cli(&["links", "--json"]);
    let links: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![renewed["id"].as_str().unwrap()]);
    assert_refused(&shop.cli(&["renew", id]), 2, "already renewed");
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn a_link_paid_after_the_creating_process_exited_is_seen_paid_by_follow_once() {
    let shop = Shop::for_provider("links-follow", "dintero");
    let (link, _) = charge(&shop, &["--expires-in", "7d"]);
    let out = shop.cli(&["charge", "--order", &shop.order, "--json"]);
    let counter = json(&out);
    // The creating processes are gone; the customer pays the link on Dintero's page.
    let psid = link["provider_session_id"].as_str().unwrap();
    shop.outcome(&format!("/dintero/sessions/{psid}"), "pay");
    let out = shop.cli(&["follow", "--once", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seen: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status_of = |id: &Value| {
        seen.iter()
            .find(|s| s["id"] == *id)
            .map(|s| s["status"].clone())
            .unwrap_or_else(|| panic!("{id} not asked: {seen:?}"))
    };
    assert_eq!(status_of(&link["id"]), "paid");
    assert_eq!(status_of(&counter["id"]), "open");
    // The paid link's receipt entry, as for a counter sale.
    let out = shop.cli(&["journal", "list", "--json"]);
    let entries: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let sales: Vec<&Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "sale" && e["session_id"] == link["id"])
        .collect();
    assert_eq!(sales.len(), 1, "{entries}");
    // Nothing left to follow for it; the link list no longer shows it.
    let out = shop.cli(&["links", "--json"]);
    assert_eq!(stdout(&out).trim(), "[]");
    assert!(shop.cli(&["journal", "verify"]).status.success());
}

#[test]
fn what_staff_typed_is_refused_before_anything_is_opened_or_created() {
    let dir = DataDir::new("links-refusals");
    let order = dir.0.join("order.json");
    std::fs::write(&order, ORDER).unwrap();
    let order = order.to_str().unwrap();
    for (args, cause) in [
        (
            vec!["--link", "--send-sms", "91234567"],
            "international form",
        ),
        (
            vec!["--link", "--send-sms", "+47 9123 456"],
            "8 digits after +47",
        ),
        (
            vec!["--link", "--send-email", "kari@"],
            "not an e-mail address",
        ),
        (vec!["--link", "--expires-in", "3w"], "is not a lifetime"),
        (
            vec!["--link", "--expires-in", "2020-01-01"],
            "not in the future",
        ),
        (vec!["--send-sms", "+4791234567"], "add --link"),
        (vec!["--link", "--capture", "later"], "not a capture policy"),
    ] {
        let mut all = vec!["charge", "--order", order];
        all.extend(args.iter());
        assert_refused(&cli(&dir.0, &all, None), 2, cause);
    }
    assert!(
        !dir.0.join(kassa_core::store::FILE_NAME).exists(),
        "no session log was even opened"
    );
}
