//! Link sales through the core (`checkout::start`, `resend`, `renew`, `refresh`) with Kassa's
//! real provider clients against the emulators over loopback, on a real session log file that
//! journals with the in-memory keyring: each provider's lifetime (asked, clamped, confirmed),
//! delivery through the provider (read back from what the emulator recorded as "sent"), the
//! contact refused before anything is created and kept only while needed, and a link opened by
//! a mail scanner (a plain GET) that changes no lifetime.

use kassa_core::checkout::{self, ChargeRequest, Renewal, Started};
use kassa_core::code::Code;
use kassa_core::http::{Http, HttpConfig, Method, Request};
use kassa_core::link::{Contact, Lifetime, LinkSale, Sale, SaleKind};
use kassa_core::operator::Authenticated;
use kassa_core::provider::bambora::{Bambora, BamboraConfig};
use kassa_core::provider::dintero::{Dintero, DinteroConfig};
use kassa_core::provider::klarna::{Klarna, KlarnaConfig};
use kassa_core::provider::{CapturePolicy, Presentation, Provider};
use kassa_core::secrets::Secret;
use kassa_core::session::{SessionId, Status};
use kassa_core::store::SessionLog;
use kassa_core::time::now_millis;
use kassa_sandbox::{BamboraAccount, Config, DinteroAccount, KlarnaAccount, Sandbox};
use serde_json::Value;
use std::path::PathBuf;

const HOUR: i64 = 3600 * 1000;
const DAY: i64 = 24 * HOUR;
const KLARNA_USER: &str = "PK_links_5d2a";
const KLARNA_PASSWORD: &str = "klarna-links-pw-7e41c";
const MERCHANT: &str = "T555000111";
const ACCESS: &str = "bambora-links-access-2f8e";
const SECRET: &str = "bambora-links-secret-c61a";
const MD5_KEY: &str = "bambora-links-md5-93b0";
const AID: &str = "T12340077";
const CLIENT_ID: &str = "dintero-links-client";
const CLIENT_SECRET: &str = "dintero-links-secret-4b7d";
const PHONE: &str = "+4791234567";
const EMAIL: &str = "kari.nordmann@example.no";

fn sandbox() -> Sandbox {
    Sandbox::start(
        0,
        Config {
            klarna_accounts: vec![KlarnaAccount {
                username: KLARNA_USER.into(),
                password: KLARNA_PASSWORD.into(),
                in_store: false,
            }],
            bambora_accounts: vec![BamboraAccount {
                merchant_number: MERCHANT.into(),
                access_token: ACCESS.into(),
                secret_token: SECRET.into(),
                md5_key: MD5_KEY.into(),
            }],
            dintero_accounts: vec![DinteroAccount {
                account_id: AID.into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
            }],
            ..Default::default()
        },
    )
    .unwrap()
}

fn klarna(s: &Sandbox) -> Klarna {
    Klarna::new(
        KlarnaConfig {
            label: "klarna".into(),
            profile: "test".into(),
            region: "eu".into(),
            acquiring_channel: "ECOMMERCE".into(),
            purchase_country: "NO".into(),
            language: "nb".into(),
            base_url: Some(s.klarna_base_url()),
            username: Secret::new(KLARNA_USER),
            password: Secret::new(KLARNA_PASSWORD),
        },
        Http::new(HttpConfig::default()).unwrap(),
    )
}

fn bambora(s: &Sandbox) -> Bambora {
    Bambora::new(
        BamboraConfig {
            label: "bambora".into(),
            profile: "test".into(),
            merchant_number: MERCHANT.into(),
            payment_window_id: 1,
            session_path: "sessions".into(),
            language: "nb-NO".into(),
            base_url: Some(s.bambora_base_url()),
            access_token: Secret::new(ACCESS),
            secret_token: Secret::new(SECRET),
            md5_key: Some(Secret::new(MD5_KEY)),
        },
        Http::new(HttpConfig::default()).unwrap(),
    )
}

fn dintero(s: &Sandbox) -> Dintero {
    Dintero::new(
        DinteroConfig {
            label: "dintero".into(),
            profile: "test".into(),
            account_id: AID.into(),
            profile_id: "default".into(),
            base_url: Some(s.dintero_base_url()),
            client_id: Secret::new(CLIENT_ID),
            client_secret: Secret::new(CLIENT_SECRET),
        },
        Http::new(HttpConfig::default()).unwrap(),
    )
    .unwrap()
}

/// A data directory with a session log journaling with the in-memory keyring.
struct Till {
    dir: PathBuf,
    log: SessionLog,
    owner: Authenticated,
}

impl Till {
    fn new(name: &str) -> Till {
        let dir = std::env::temp_dir().join(format!(
            "kassa-links-{name}-{}-{}",
            std::process::id(),
            now_millis()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut log = SessionLog::open_in(&dir).unwrap();
        log.use_keyring(kassa_core::secrets::memory::shared());
        log.set_time_zone(kassa_core::journal::Zone::named("Europe/Oslo").unwrap());
        let owner = log.owner_if_no_operators().unwrap().unwrap();
        Till { dir, log, owner }
    }

    fn charge(
        &mut self,
        p: &dyn Provider,
        sale: &Sale,
        reference: &str,
        now: i64,
    ) -> Result<Started, checkout::CheckoutError> {
        let order = kassa_core::quote_document(
            r#"{"currency":"NOK","lines":[
                {"name":"Kaffe","quantity":"3","unit_price":3500,"vat_rate":"15"},
                {"name":"Bolle","quantity":"1","unit_price":2500,"vat_rate":"25"}]}"#,
            reference,
        )
        .unwrap();
        checkout::start(
            &mut self.log,
            &self.dir,
            p,
            &ChargeRequest {
                order: &order,
                presentation: Presentation::Qr,
                return_url: "https://shop.example/return",
                demo: false,
                id: SessionId::generate(now),
                now,
                capture: CapturePolicy::AtSale,
                sale,
                counter_ms: 15 * 60_000,
                renews: None,
                operator: &self.owner,
            },
        )
    }

    /// Renews link `id` as it was (same lifetime, same contact).
    fn renew(&mut self, p: &dyn Provider, id: &str) -> Result<Started, checkout::CheckoutError> {
        checkout::renew(
            &mut self.log,
            &self.dir,
            p,
            id,
            &Renewal::default(),
            SessionId::generate(now_millis()),
            &self.owner,
            now_millis(),
        )
    }

    fn events(&self, id: &str) -> String {
        let (_, events) = self.log.get(id).unwrap();
        events
            .iter()
            .map(|e| format!("{} {}\n", e.kind, e.detail))
            .collect()
    }
}

impl Drop for Till {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn link(lifetime: Lifetime, send: Option<Contact>) -> Sale {
    Sale::Link(LinkSale { lifetime, send })
}

/// What the sandbox's providers "sent" so far.
fn messages(s: &Sandbox) -> Vec<Value> {
    let r = Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(Method::Get, format!("{}/_control/messages", s.url())),
        )
        .unwrap();
    serde_json::from_slice(&r.body).unwrap()
}

/// Klarna's API user as an `Authorization` header value.
fn basic_auth() -> String {
    use base64::Engine;
    let pair = format!("{KLARNA_USER}:{KLARNA_PASSWORD}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Opens `url` as a mail scanner does: a plain GET, no cookies, nothing clicked.
fn scan(url: &str) -> u16 {
    Http::new(HttpConfig::default())
        .unwrap()
        .send("scanner", &Request::new(Method::Get, url.to_string()))
        .unwrap()
        .status
}

fn control(s: &Sandbox, path: &str, body: &str) -> u16 {
    Http::new(HttpConfig::default())
        .unwrap()
        .send(
            "test",
            &Request::new(Method::Post, format!("{}/_control{path}", s.url()))
                .json(body.as_bytes().to_vec()),
        )
        .unwrap()
        .status
}

/// A confirmed expiry within a second of `want` (the providers' times are whole seconds or ms).
fn assert_about(got: Option<i64>, want: i64) {
    let got = got.expect("an expiry");
    assert!((got - want).abs() < 1000, "expiry {got}, want {want}");
}

#[test]
fn a_klarna_link_for_24_hours_goes_by_sms_and_a_scanner_opening_it_changes_nothing() {
    let s = sandbox();
    let k = klarna(&s);
    let mut till = Till::new("klarna");
    let now = now_millis();
    let sms = Contact::phone(PHONE).unwrap();
    let started = till
        .charge(&k, &link(Lifetime::Day, Some(sms)), "K-LINK-1", now)
        .unwrap();
    let session = &started.session;
    assert_eq!(session.sale, SaleKind::Link);
    assert_eq!(session.status, Status::Open);
    assert_eq!(session.requested_expires_at, Some(now + DAY));
    // Klarna's page lives 47 h; Kassa asked for 24 h and shows that (it disables the page then).
    assert_about(session.expires_at, now + DAY);
    let sent = started.sent.as_ref().expect("sent by Klarna");
    assert_eq!(
        (
            sent.channel.as_str(),
            sent.status.as_str(),
            sent.to.as_str()
        ),
        ("sms", "accepted", "+47******67")
    );
    let m = messages(&s);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["provider"], "klarna");
    assert_eq!(m[0]["channel"], "sms");
    assert_eq!(m[0]["to"], PHONE);
    assert_eq!(m[0]["extra"]["phone_country"], "NO");
    assert_eq!(m[0]["link"].as_str(), session.checkout_url.as_deref());
    // The session log keeps the contact while the link is open, masked for good.
    assert_eq!(session.contact_masked.as_deref(), Some("+47******67"));
    assert_eq!(session.contact(), Contact::phone(PHONE).ok());
    assert!(till
        .events(&session.id)
        .contains("sent Klarna took the sms"));

    // A mail scanner opens the link: the page answers, the session stays open with its expiry.
    let url = session.checkout_url.clone().unwrap();
    assert_eq!(scan(&url), 200);
    let after = checkout::refresh(&mut till.log, &k, &session.id, now_millis(), true).unwrap();
    assert_eq!(after.status, Status::Open);
    assert_eq!(after.expires_at, session.expires_at);
    // The scanner left the page IN_PROGRESS at Klarna; nobody pays, and at Kassa's expiry the
    // page is disabled all the same (opening it lengthened nothing either).
    let open_page = till
        .charge(&k, &link(Lifetime::Day, None), "K-LINK-6", now)
        .unwrap()
        .session;
    assert_eq!(scan(open_page.checkout_url.as_deref().unwrap()), 200);
    let ended =
        checkout::refresh(&mut till.log, &k, &open_page.id, now + DAY + 1000, true).unwrap();
    assert_eq!(
        ended.status,
        Status::Expired,
        "{}",
        till.events(&open_page.id)
    );
    assert!(till.events(&open_page.id).contains("was still IN_PROGRESS"));

    // Sent again by e-mail: the new contact replaces the old.
    let mail = Contact::email(EMAIL).unwrap();
    let (again, delivery) =
        checkout::resend(&mut till.log, &k, &session.id, Some(&mail), now_millis()).unwrap();
    assert_eq!(delivery.channel.as_str(), "email");
    assert_eq!(again.contact_masked.as_deref(), Some("k***@example.no"));
    let m = messages(&s);
    assert_eq!(
        (m.len(), &m[1]["channel"], &m[1]["to"]),
        (2, &"email".into(), &EMAIL.into())
    );

    // A week is more than Klarna keeps a page: clamped to 47 h, and the event says why.
    let week = till
        .charge(&k, &link(Lifetime::Week, None), "K-LINK-2", now)
        .unwrap()
        .session;
    assert_eq!(week.requested_expires_at, Some(now + 7 * DAY));
    assert_about(week.expires_at, now + 47 * HOUR);
    assert!(
        till.events(&week.id)
            .contains("klarna keeps a link at most 47 h"),
        "{}",
        till.events(&week.id)
    );
    assert!(week.contact.is_none() && week.contact_masked.is_none());
}

#[test]
fn klarna_refuses_a_phone_it_cannot_place_before_anything_is_created() {
    let s = sandbox();
    let k = klarna(&s);
    let mut till = Till::new("klarna-refusals");
    let before = till.log.count().unwrap();
    // +800 is a valid E.164 code, but not a country Klarna can be told.
    let unknown = Contact::phone("+80012345678").unwrap();
    let e = till
        .charge(
            &k,
            &link(Lifetime::Day, Some(unknown)),
            "K-LINK-3",
            now_millis(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("country"), "{e}");
    // A date in the past.
    let e = till
        .charge(
            &k,
            &link(Lifetime::Until(now_millis() - 1), None),
            "K-LINK-4",
            now_millis(),
        )
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidInput, "{e}");
    assert_eq!(till.log.count().unwrap(), before, "nothing recorded");
    assert!(messages(&s).is_empty());
    // The emulator's own rules: a national number without its country, a disabled page.
    let sale = till
        .charge(&k, &link(Lifetime::Hour, None), "K-LINK-5", now_millis())
        .unwrap()
        .session;
    let hpp = sale.provider_session_id.clone().unwrap();
    let distribute = |body: &str| {
        Http::new(HttpConfig::default())
            .unwrap()
            .send(
                "test",
                &Request::new(
                    Method::Post,
                    format!("{}/hpp/v1/sessions/{hpp}/distribution", s.klarna_base_url()),
                )
                .header("authorization", basic_auth())
                .json(body.as_bytes().to_vec()),
            )
            .unwrap()
    };
    let r = distribute(r#"{"method":"sms","contact_information":{"phone":"07000212345"}}"#);
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("phone_country"));
    let r = distribute(r#"{"method":"email","contact_information":{"email":"kari"}}"#);
    assert_eq!(r.status, 400);
    let r = distribute(
        r#"{"method":"sms","contact_information":{"phone":"07000212345","phone_country":"SE"}}"#,
    );
    assert_eq!(r.status, 201);
    checkout::cancel(&mut till.log, &k, &sale.id, &till.owner, now_millis()).unwrap();
    let r = distribute(r#"{"method":"email","contact_information":{"email":"kari@example.no"}}"#);
    assert_eq!(r.status, 400, "a disabled page is not distributed");
    assert_eq!(messages(&s).len(), 1);
}

#[test]
fn a_bambora_link_for_7_days_is_a_payment_request_sent_by_e_mail_and_paid() {
    let s = sandbox();
    let b = bambora(&s);
    let mut till = Till::new("bambora");
    let now = now_millis();
    let before = till.log.count().unwrap();
    // Bambora sends no SMS: refused before anything is created.
    let e = till
        .charge(
            &b,
            &link(Lifetime::Week, Some(Contact::phone(PHONE).unwrap())),
            "B-LINK-0",
            now,
        )
        .unwrap_err();
    assert_eq!(e.code(), Code::CannotSend, "{e}");
    assert_eq!(till.log.count().unwrap(), before);
    let mail = Contact::email(EMAIL).unwrap();
    let started = till
        .charge(&b, &link(Lifetime::Week, Some(mail)), "BLINK1", now)
        .unwrap();
    let session = started.session;
    assert!(
        session
            .provider_session_id
            .as_deref()
            .is_some_and(|p| p.starts_with("paymentrequest/")),
        "{session:?}"
    );
    assert_eq!(session.expires_at, Some(now + 7 * DAY));
    assert_eq!(started.sent.unwrap().status, "accepted");
    let m = messages(&s);
    assert_eq!(m.len(), 1);
    assert_eq!(
        (&m[0]["provider"], &m[0]["channel"], &m[0]["to"]),
        (&"bambora".into(), &"email".into(), &EMAIL.into())
    );
    assert_eq!(m[0]["link"].as_str(), session.checkout_url.as_deref());
    // A scanner opens the request's page: nothing changes.
    assert_eq!(scan(session.checkout_url.as_deref().unwrap()), 200);
    let after = checkout::refresh(&mut till.log, &b, &session.id, now_millis(), true).unwrap();
    assert_eq!(
        (after.status, after.expires_at),
        (Status::Open, session.expires_at)
    );
    // Paid on the request's page: Bambora's "closed" names no transaction Kassa can verify, so
    // the sale needs review; staff confirm it, and the session forgets the contact, keeping
    // its mask.
    let request = session.provider_session_id.as_deref().unwrap();
    let request = request.strip_prefix("paymentrequest/").unwrap();
    assert_eq!(
        control(
            &s,
            &format!("/bambora/paymentrequests/{request}/outcome"),
            r#"{"outcome":"pay"}"#
        ),
        200
    );
    let closed = checkout::refresh(&mut till.log, &b, &session.id, now_millis(), true).unwrap();
    assert_eq!(
        closed.status,
        Status::NeedsReview,
        "{}",
        till.events(&session.id)
    );
    assert!(closed.contact.is_some(), "kept until the sale is settled");
    let paid = checkout::review(
        &mut till.log,
        &session.id,
        checkout::Verdict::Paid,
        false,
        Some("seen in Bambora's back office"),
        &till.owner,
        now_millis(),
    )
    .unwrap();
    assert_eq!(paid.status, Status::Paid);
    assert_eq!(
        (paid.contact.as_deref(), paid.contact_masked.as_deref()),
        (None, Some("k***@example.no"))
    );
    // A paid link is not sent again.
    let e = checkout::resend(&mut till.log, &b, &session.id, None, now_millis()).unwrap_err();
    assert_eq!(e.code(), Code::NotRenewable);
    assert_eq!(messages(&s).len(), 1);
}

#[test]
fn a_dintero_link_is_published_by_sms_at_creation_then_expires_and_is_renewed_once() {
    let s = sandbox();
    let d = dintero(&s);
    let mut till = Till::new("dintero");
    let now = now_millis();
    let sms = Contact::phone(PHONE).unwrap();
    let started = till
        .charge(&d, &link(Lifetime::Day, Some(sms)), "D-LINK-1", now)
        .unwrap();
    let session = started.session;
    assert_about(session.expires_at, now + DAY);
    let sent = started.sent.unwrap();
    assert_eq!(
        (sent.channel.as_str(), sent.status.as_str()),
        ("sms", "sent")
    );
    let m = messages(&s);
    assert_eq!(m.len(), 1);
    assert_eq!(
        (&m[0]["provider"], &m[0]["channel"], &m[0]["to"]),
        (&"dintero".into(), &"sms".into(), &PHONE.into())
    );
    // Dintero sends only at creation, and SMS only.
    let e = checkout::resend(&mut till.log, &d, &session.id, None, now_millis()).unwrap_err();
    assert_eq!(e.code(), Code::CannotSend);
    let e = till
        .charge(
            &d,
            &link(Lifetime::Day, Some(Contact::email(EMAIL).unwrap())),
            "D-LINK-2",
            now,
        )
        .unwrap_err();
    assert_eq!(e.code(), Code::CannotSend);
    // A scanner opens it: nothing changes.
    assert_eq!(scan(session.checkout_url.as_deref().unwrap()), 200);
    let after = checkout::refresh(&mut till.log, &d, &session.id, now_millis(), true).unwrap();
    assert_eq!(
        (after.status, after.expires_at),
        (Status::Open, session.expires_at)
    );
    // An open link is not renewed; an expired one is, once, as a new session.
    let e = till.renew(&d, &session.id).unwrap_err();
    assert_eq!(e.code(), Code::NotRenewable);
    let psid = session.provider_session_id.clone().unwrap();
    assert_eq!(
        control(
            &s,
            &format!("/dintero/sessions/{psid}/outcome"),
            r#"{"outcome":"expire"}"#
        ),
        204
    );
    let expired = checkout::refresh(&mut till.log, &d, &session.id, now_millis(), true).unwrap();
    assert_eq!(
        expired.status,
        Status::Expired,
        "{}",
        till.events(&session.id)
    );
    let renewed = till.renew(&d, &session.id).unwrap();
    let new = renewed.session;
    assert_ne!(new.id, session.id);
    assert_eq!(new.renews.as_deref(), Some(session.id.as_str()));
    assert_eq!(new.merchant_reference, "D-LINK-1-R1");
    assert_eq!(new.status, Status::Open);
    assert_eq!(renewed.sent.unwrap().status, "sent");
    assert_eq!(
        messages(&s).len(),
        2,
        "the renewed link went to the same phone"
    );
    let (old, _) = till.log.get(&session.id).unwrap();
    assert_eq!(
        (old.contact.as_deref(), old.contact_masked.as_deref()),
        (None, Some("+47******67"))
    );
    let e = till.renew(&d, &session.id).unwrap_err();
    assert!(e.to_string().contains("already renewed"), "{e}");
    // Listed: the new link, not the renewed one.
    let listed: Vec<String> = till
        .log
        .links(now_millis())
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(listed, vec![new.id.clone()]);
}

#[test]
fn a_counter_sale_keeps_the_counter_lifetime_and_dintero_publishes_nothing() {
    let s = sandbox();
    let d = dintero(&s);
    let mut till = Till::new("counter");
    let now = now_millis();
    let session = till.charge(&d, &Sale::Counter, "D-COUNTER-1", now).unwrap();
    assert!(session.sent.is_none());
    let session = session.session;
    assert_eq!(session.sale, SaleKind::Counter);
    assert_eq!(session.requested_expires_at, None);
    assert_about(session.expires_at, now + 15 * 60_000);
    assert!(messages(&s).is_empty());
    assert!(till.log.links(now).unwrap().is_empty());
}
