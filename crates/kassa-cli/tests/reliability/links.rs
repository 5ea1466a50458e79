//! Link sales killed mid-way (`kill -9`): `kassa-cli charge --link --send-sms` and
//! `kassa-cli renew` stopped after the session's intent is logged (`after_intent`, Dintero not
//! yet asked) and after Dintero created the session but before its answer was logged
//! (`after_response`). Dintero publishes the link by SMS during the create itself, so in the
//! second case the customer already holds a live link that Kassa never heard of.
//!
//! What must hold (the charge harness's rules, plus the customer's link):
//! - Dintero holds at most one session for the create, the expired session is never reused, a
//!   second renewal of the same link is refused (the log's unique `renews`), and the message
//!   went out at most once, only with a session Dintero created;
//! - the restarted till (`follow --once`) settles the killed create by what Dintero holds for
//!   its merchant reference: no transaction and no session (`after_intent`) → `failed`; a
//!   session (`after_response`) → found by `GET /v1/sessions?search=<reference>`, recorded as
//!   opened with Dintero's session id and its checkout URL, and followed as an open link: the
//!   link list shows it open, and when the customer pays the link they got, the till sees it
//!   paid. (Before this, it was settled `failed`: Dintero's transactions search finds no
//!   transaction for an unpaid session, and a paid link would have been missed.)
//!
//! Sending a link (Klarna's distribution, after the create and on Resend) killed after its
//! attempt is logged (`send_after_requested`) and after Klarna answered (`send_after_response`),
//! and every fault on a resend's request (Klarna SMS, Bambora e-mail): each message the
//! emulator sent has its `send_requested` event before it, each attempt exactly one outcome
//! (`sent`, `send_failed`, `send_unknown`), a killed one is said `send_unknown` once at the next
//! start and never sent again by Kassa, and each fault is named in the command's error.

use super::clear_faults;
use super::common::shop::*;
use super::common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Runs `kassa-cli args` until it says it paused at `step`, then kills it with SIGKILL. Its
/// standard error goes to a file in the data directory (kept for the secrets audit).
pub(super) fn kill_at(shop: &Shop, args: &[&str], step: &str) {
    let said = shop.dir.0.join(format!("{}-{step}.stderr", args[0]));
    let mut p = kassa_cli(&shop.dir.0, args, &[("KASSA_PAUSE_AT", step)])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&said).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&said).unwrap_or_default();
        if text.contains(&format!("KASSA_PAUSED {step}")) {
            break;
        }
        if let Ok(Some(status)) = p.try_wait() {
            panic!(
                "{} ended by itself ({status}) before {step}: {text}",
                args[0]
            );
        }
        assert!(
            Instant::now() < deadline,
            "{} never paused at {step}: {text}",
            args[0]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    p.kill().unwrap();
    p.wait().unwrap();
}

/// What the shop's sandbox providers "sent" so far.
pub(super) fn messages(shop: &Shop) -> Vec<Value> {
    control_get(&shop.sandbox, "/messages")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Dintero's sessions (id → session) as the emulator holds them.
fn at_dintero(shop: &Shop) -> serde_json::Map<String, Value> {
    shop.dintero_state()["sessions"]
        .as_object()
        .cloned()
        .unwrap()
}

fn links(shop: &Shop) -> Vec<Value> {
    let out = shop.cli(&["links", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// The restarted till follows every open session once and settles the killed create.
fn restart(shop: &Shop, step: &str) {
    let out = shop.cli(&["follow", "--once", "--json"]);
    assert!(out.status.success(), "{step}: {}", stderr(&out));
}

/// The killed create's session once settled: `failed` when Dintero was never asked; when it
/// was, the one session Dintero holds, recorded as opened with its id and checkout URL, sent
/// once, paid when its customer pays.
fn assert_settled(shop: &Shop, step: &str, session: &Value, before: &[String], sent: usize) {
    let id = session["id"].as_str().unwrap();
    let new: Vec<String> = at_dintero(shop)
        .keys()
        .filter(|k| !before.contains(k))
        .cloned()
        .collect();
    assert_eq!(messages(shop).len(), sent, "{step}: {:?}", messages(shop));
    if step == "after_intent" {
        assert!(new.is_empty(), "{step}: Dintero was never asked: {new:?}");
        assert_eq!(session["status"], "failed", "{step}: {session}");
        assert!(events(&shop.session(id)).contains("neither a payment nor a session"));
        return;
    }
    assert_eq!(new.len(), 1, "{step}: one session at Dintero: {new:?}");
    let psid = &new[0];
    assert_eq!(
        session["status"], "open",
        "{step}: followed as open: {session}"
    );
    let logged = shop.status(id);
    assert_eq!(logged["provider_session_id"], psid.as_str(), "{logged}");
    let url = session["url"].as_str().unwrap();
    assert!(url.ends_with(&format!("/v1/view/{psid}")), "{url}");
    let sms = messages(shop).last().cloned().unwrap();
    assert_eq!(
        sms["session"],
        psid.as_str(),
        "the SMS carries that session"
    );
    assert_eq!(
        sms["link"], url,
        "the URL Kassa shows is the one the customer got"
    );
    assert!(events(&shop.session(id)).contains("found by reference"));
    // The customer pays the link they were sent; the till sees it paid.
    shop.outcome(&format!("/dintero/sessions/{psid}"), "pay");
    restart(shop, step);
    assert_eq!(shop.status(id)["status"], "paid", "{step}");
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn kill_9_during_a_link_charge_sent_by_sms_settles_by_what_dintero_holds() {
    for step in ["after_intent", "after_response"] {
        let shop = Shop::for_provider(&format!("rel-link-{step}"), "dintero");
        let args = [
            "charge",
            "--order",
            &shop.order,
            "--link",
            "--expires-in",
            "7d",
            "--send-sms",
            "+4791234567",
            "--json",
        ];
        kill_at(&shop, &args, step);
        restart(&shop, step);
        let links = links(&shop);
        assert_eq!(links.len(), 1, "{step}: the one killed link: {links:?}");
        let sent = usize::from(step == "after_response");
        assert_settled(&shop, step, &links[0], &[], sent);
        println!(
            "RELIABILITY link charge killed at {step}: sessions at Dintero {}, messages {sent}, \
             settled {}",
            at_dintero(&shop).len(),
            links[0]["status"]
        );
    }
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn kill_9_during_a_renewal_leaves_one_new_session_at_most_and_never_a_second_renewal() {
    for step in ["after_intent", "after_response"] {
        let shop = Shop::for_provider(&format!("rel-renew-{step}"), "dintero");
        let out = shop.cli(&[
            "charge",
            "--order",
            &shop.order,
            "--link",
            "--expires-in",
            "1h",
            "--send-sms",
            "+4791234567",
            "--json",
        ]);
        let v = json(&out);
        let id = v["id"].as_str().unwrap().to_string();
        let psid = v["provider_session_id"].as_str().unwrap();
        shop.outcome(&format!("/dintero/sessions/{psid}"), "expire");
        assert_eq!(shop.status(&id)["status"], "expired");
        let before: Vec<String> = at_dintero(&shop).keys().cloned().collect();
        assert_eq!(before.len(), 1);

        kill_at(&shop, &["renew", &id, "--json"], step);

        // The killed renewal is in the log: a second one is refused, whatever its outcome.
        assert_refused(&shop.cli(&["renew", &id]), 2, "already renewed");
        restart(&shop, step);
        let renewals: Vec<Value> = links(&shop)
            .into_iter()
            .filter(|l| l["renews"] == id.as_str())
            .collect();
        assert_eq!(renewals.len(), 1, "{step}: one renewal, never two");
        assert_ne!(
            renewals[0]["id"],
            id.as_str(),
            "the expired session is never reused"
        );
        let sent = 1 + usize::from(step == "after_response");
        assert_settled(&shop, step, &renewals[0], &before, sent);
        assert_eq!(
            shop.status(&id)["status"],
            "expired",
            "{step}: the old link stays expired"
        );
        assert_refused(&shop.cli(&["renew", &id]), 2, "already renewed");
        println!(
            "RELIABILITY renew killed at {step}: sessions at Dintero {}, messages {sent}, the \
             renewal {}",
            at_dintero(&shop).len(),
            renewals[0]["status"]
        );
    }
}

/// The lines of a session's events whose kind is `kind`.
fn kinds(shop: &Shop, id: &str, kind: &str) -> usize {
    events(&shop.session(id))
        .lines()
        .filter(|l| l.split(' ').next() == Some(kind))
        .count()
}

/// A link charged at `provider` and sent to `to` (`--send-sms` / `--send-email`), its id.
fn sent_link(shop: &Shop, send: &[&str]) -> String {
    let mut args = vec!["charge", "--order", &shop.order, "--link", "--json"];
    args.extend_from_slice(send);
    let out = shop.cli(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    json(&out)["id"].as_str().unwrap().to_string()
}

/// Every message the provider sent for `id` has its recorded attempt before it, and an attempt
/// without an outcome is said unknown once the till restarts: messages ≤ attempts, and every
/// attempt has exactly one outcome (`sent`, `send_failed`, `send_unknown`).
fn assert_each_message_recorded(shop: &Shop, id: &str, what: &str) -> (usize, usize) {
    let attempts = kinds(shop, id, "send_requested");
    let outcomes =
        kinds(shop, id, "sent") + kinds(shop, id, "send_failed") + kinds(shop, id, "send_unknown");
    let sent = messages(shop).len();
    assert!(
        sent <= attempts,
        "{what}: {sent} messages, {attempts} attempts logged"
    );
    assert_eq!(outcomes, attempts, "{what}: {}", events(&shop.session(id)));
    (sent, attempts)
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn kill_9_during_a_send_or_a_resend_keeps_the_attempt_and_never_sends_twice_unrecorded() {
    for (what, step) in [
        ("charge", "send_after_requested"),
        ("charge", "send_after_response"),
        ("resend", "send_after_requested"),
        ("resend", "send_after_response"),
    ] {
        let shop = Shop::for_provider(&format!("rel-send-{what}-{step}"), "klarna");
        let sms = ["--send-sms", "+4791234567"];
        let id = match what {
            "charge" => {
                let mut args = vec!["charge", "--order", &shop.order, "--link", "--json"];
                args.extend_from_slice(&sms);
                kill_at(&shop, &args, step);
                links(&shop)[0]["id"].as_str().unwrap().to_string()
            }
            _ => {
                let id = sent_link(&shop, &sms);
                kill_at(&shop, &["resend", &id], step);
                id
            }
        };
        let before = usize::from(what == "resend");
        let went_out = usize::from(step == "send_after_response");
        restart(&shop, step);
        let label = format!("{what} killed at {step}");
        // The link itself is open and followed: only its message is in doubt.
        assert_eq!(shop.status(&id)["status"], "open", "{label}");
        assert_eq!(messages(&shop).len(), before + went_out, "{label}");
        assert_eq!(kinds(&shop, &id, "send_unknown"), 1, "{label}");
        assert!(events(&shop.session(&id)).contains("Kassa stopped while sending the link"));
        // Restarting again neither sends nor says it twice.
        restart(&shop, step);
        assert_eq!(kinds(&shop, &id, "send_unknown"), 1, "{label}");
        assert_each_message_recorded(&shop, &id, &label);
        // Staff may send it again: a new message, with its own record.
        let out = shop.cli(&["resend", &id, "--json"]);
        assert!(out.status.success(), "{label}: {}", stderr(&out));
        let (sent, attempts) = assert_each_message_recorded(&shop, &id, &label);
        assert_eq!(sent, before + went_out + 1, "{label}");
        println!(
            "RELIABILITY link {label}: messages {sent}, attempts logged {attempts}, the killed \
             one said unknown"
        );
    }
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn every_fault_on_a_resend_is_named_and_the_message_goes_at_most_once() {
    // (provider, how it sends, the send request's path)
    let senders = [
        ("klarna", ["--send-sms", "+4791234567"], "/distribution"),
        (
            "bambora",
            ["--send-email", "kari@example.no"],
            "/email-notifications",
        ),
    ];
    // (fault, its JSON, what the error says, the event it leaves, whether the provider sent
    // it). A timeout after the request went out is unknown, not failed: the message went; a
    // 5xx may come after the provider acted, so it is unknown too (as for an operation); a 429
    // is a refusal: nothing was sent.
    let faults: [(&str, &str, &str, &str, bool); 5] = [
        (
            "timeout after sending",
            r#""kind":"timeout","ms":2500"#,
            "no answer within",
            "send_unknown",
            true,
        ),
        (
            "HTTP 500",
            r#""kind":"status","status":500"#,
            "HTTP 500",
            "send_unknown",
            false,
        ),
        (
            "HTTP 503",
            r#""kind":"status","status":503"#,
            "HTTP 503",
            "send_unknown",
            false,
        ),
        (
            "HTTP 429",
            r#""kind":"rate_limit","retry_after":7"#,
            "rate limiting (HTTP 429)",
            "send_failed",
            false,
        ),
        ("garbage", r#""kind":"not_json""#, "", "", true),
    ];
    let mut named = 0;
    for (provider, send, path) in senders {
        let shop = Shop::for_provider(&format!("rel-send-faults-{provider}"), provider);
        let id = sent_link(&shop, &send);
        for (fault, how, says, leaves, goes) in faults {
            let label = format!("{provider} resend, {fault}");
            // Klarna's distribution answer has no body to read; Bambora's carries its `meta`
            // envelope, so garbage there is an unreadable answer, after the e-mail went.
            let (says, leaves) = match (provider, fault) {
                ("bambora", "garbage") => ("unreadable answer", "send_unknown"),
                _ => (says, leaves),
            };
            let before = messages(&shop).len();
            let (failed_before, unknown_before) = (
                kinds(&shop, &id, "send_failed"),
                kinds(&shop, &id, "send_unknown"),
            );
            shop.faults(&format!(r#"{{"method":"POST","path":"{path}",{how}}}"#));
            let out = cli_env(
                &shop.dir.0,
                &["resend", &id, "--json"],
                None,
                &[("KASSA_HTTP_TIMEOUT", "1")],
            );
            clear_faults(&shop);
            let sent = messages(&shop).len() - before;
            assert_eq!(sent, usize::from(goes), "{label}: messages");
            assert_eq!(shop.status(&id)["status"], "open", "{label}");
            if says.is_empty() {
                // Klarna's client reads no body from this answer: taken as accepted, as
                // Klarna did.
                assert!(out.status.success(), "{label}: {}", stderr(&out));
                assert_eq!(json(&out)["sent"]["status"], "accepted", "{label}");
            } else {
                assert_eq!(out.status.code(), Some(3), "{label}: {}", stderr(&out));
                assert!(stderr(&out).contains(says), "{label}: {}", stderr(&out));
                let grew = match leaves {
                    "send_failed" => kinds(&shop, &id, "send_failed") - failed_before,
                    _ => kinds(&shop, &id, "send_unknown") - unknown_before,
                };
                assert_eq!(grew, 1, "{label}: {}", events(&shop.session(&id)));
                named += 1;
            }
            assert_each_message_recorded(&shop, &id, &label);
        }
    }
    println!("RELIABILITY link resend faults: providers 2, faults 5, named {named}, sent twice 0");
}
