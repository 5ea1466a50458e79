//! A create whose answer was lost ([`super::super::unanswered`]) against a scripted provider
//! whose create reaches it but never answers: a counter sale and a link without a session at
//! the provider are `failed`, a link whose session the provider holds is followed open (and
//! paid or expired as the session says), and a link sent to the customer at a provider that
//! cannot look sessions up is left to staff (`needs_review`), never `failed`.

use super::*;

/// What the scripted provider holds for the lost create's reference.
#[derive(Clone, Copy, PartialEq)]
enum Holds {
    Nothing,
    Session(Status),
    /// It cannot search sessions by reference.
    CannotSay,
}

struct LostCreate {
    base: ClientBase,
    holds: Holds,
    /// Session searches that reached it.
    searches: Mutex<u32>,
}

impl Provider for LostCreate {
    fn base(&self) -> &ClientBase {
        &self.base
    }
    fn create(&self, _: &CreateRequest) -> Result<Created, ProviderError> {
        Err(ProviderError::new(
            "fake",
            ErrorKind::Timeout {
                sent: true,
                seconds: 30,
            },
        ))
    }
    fn status(&self, _: &SessionRef) -> Result<StatusReport, ProviderError> {
        panic!("a session without the provider's id is never read by id")
    }
    fn find_by_reference(&self, _: &SessionRef) -> Result<Option<StatusReport>, ProviderError> {
        Ok(None) // no payment: the link, if any, is unpaid
    }
    fn find_session(&self, s: &SessionRef) -> Result<Option<FoundSession>, ProviderError> {
        *self.searches.lock().unwrap() += 1;
        match self.holds {
            Holds::Nothing => Ok(None),
            Holds::CannotSay => Err(self.unsupported("finding a checkout session by reference")),
            Holds::Session(status) => Ok(Some(FoundSession {
                provider_session_id: format!("S-{}", s.merchant_reference),
                checkout_url: "https://pay.example/S-found".into(),
                expires_at: Some(T0 + 7 * 24 * 3600 * 1000),
                report: StatusReport {
                    status,
                    detail: format!("session {status}"),
                    payment_id: (status == Status::Paid).then(|| "PAY-9".into()),
                },
            })),
        }
    }
}

/// A sale at a provider holding `holds`, its create's answer lost; then the status read a
/// restarted till makes. The session after it, its events and the searches made.
fn lost(name: &str, holds: Holds, sale: crate::link::Sale) -> (SessionRecord, Vec<String>, u32) {
    let d = dir(name);
    let mut log = open_log(&d.0);
    let mut c = caps(AtSaleCapture::ByProvider, false);
    c.find_by_reference = true;
    c.link.sms = true;
    let http = Http::new(HttpConfig::default()).unwrap();
    let p = LostCreate {
        base: ClientBase::new("fake", "test", c, None, http),
        holds,
        searches: Mutex::new(0),
    };
    let id = SessionId::new(T0, 7);
    let Err(e) = start(
        &mut log,
        &d.0,
        &p,
        &ChargeRequest {
            order: &order(),
            presentation: Presentation::Qr,
            return_url: "https://shop.example/r",
            demo: false,
            id: id.clone(),
            now: T0,
            capture: CapturePolicy::Manual,
            sale: &sale,
            counter_ms: 15 * 60_000,
            renews: None,
            operator: &owner(),
        },
    ) else {
        panic!("the create got no answer")
    };
    assert_eq!(e.code(), Code::Timeout, "{e}");
    assert_eq!(log.get(id.as_str()).unwrap().0.status, Status::Unknown);
    // A provider that cannot be asked is an error of the read; the session says the rest.
    let _ = refresh(&mut log, &p, id.as_str(), T0 + 1000, true);
    let s = log.get(id.as_str()).unwrap().0;
    let searches = *p.searches.lock().unwrap();
    (s, events_of(&log, id.as_str()), searches)
}

fn link(send: bool) -> crate::link::Sale {
    crate::link::Sale::Link(crate::link::LinkSale {
        lifetime: crate::link::Lifetime::Week,
        send: send.then(|| crate::link::Contact::phone("+4791234567").unwrap()),
    })
}

#[test]
fn a_counter_sale_whose_create_got_no_answer_is_failed_without_a_session_search() {
    let (s, events, searches) = lost("counter", Holds::CannotSay, crate::link::Sale::Counter);
    assert_eq!(s.status, Status::Failed);
    assert_eq!(
        searches, 0,
        "its URL was never shown: no session to look for"
    );
    assert!(events.last().unwrap().contains("never shown"), "{events:?}");
}

#[test]
fn a_link_whose_session_the_provider_holds_is_followed_as_open() {
    let (s, events, searches) = lost("found", Holds::Session(Status::Open), link(true));
    assert_eq!((s.status, searches), (Status::Open, 1));
    assert_eq!(s.provider_session_id.as_deref(), Some("S-R-1"));
    assert_eq!(
        s.checkout_url.as_deref(),
        Some("https://pay.example/S-found")
    );
    assert_eq!(s.expires_at, Some(T0 + 7 * 24 * 3600 * 1000));
    assert!(
        events.last().unwrap().contains("found by reference R-1"),
        "{events:?}"
    );
    // Found already expired: opened, then expired as the session says.
    let (s, _, _) = lost(
        "found-expired",
        Holds::Session(Status::Expired),
        link(false),
    );
    assert_eq!(s.status, Status::Expired);
    assert_eq!(s.provider_session_id.as_deref(), Some("S-R-1"));
}

#[test]
fn a_link_the_provider_has_no_session_for_is_failed() {
    let (s, events, searches) = lost("nothing", Holds::Nothing, link(true));
    assert_eq!((s.status, searches), (Status::Failed, 1));
    assert!(
        events.last().unwrap().contains("nothing was sent"),
        "{events:?}"
    );
}

#[test]
fn a_sent_link_nobody_can_look_up_is_left_to_staff_never_failed() {
    let (s, events, _) = lost("cannot-say", Holds::CannotSay, link(true));
    assert_eq!(s.status, Status::NeedsReview);
    let last = events.last().unwrap();
    assert!(
        last.contains("+47******67") && last.contains("before charging"),
        "{last}"
    );
    // Not sent to anyone: nobody holds a link Kassa never got; it stays unknown (asked again).
    let (s, _, _) = lost("cannot-say-unsent", Holds::CannotSay, link(false));
    assert_eq!(s.status, Status::Unknown);
    assert!(s.last_error.unwrap().contains("finding a checkout session"));
}
