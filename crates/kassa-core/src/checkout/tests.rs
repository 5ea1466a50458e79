//! The operation engine against a scripted provider (a fake, inside this module's unit tests
//! only), on a real session log in a temporary directory: the order of records around a
//! request, the outcomes, the refusals, the at-sale capture and reconciliation. The real
//! providers' clients are tested against their emulators (kassa-sandbox, kassa-cli).

use super::*;
use crate::http::{Http, HttpConfig};
use crate::provider::AtSaleCapture;
use crate::provider::{
    Capabilities, ClientBase, Created, ErrorKind, FoundSession, OperationAnswer, OperationKind,
    OperationRequest, PaymentState, ProviderOperation, ProviderOutcome,
};
use crate::refund::Basis;
use crate::store::OperationState;
use crate::store::Via;
use std::collections::VecDeque;
use std::sync::Mutex;

#[path = "tests_unanswered.rs"]
mod unanswered;

/// What the fake provider does with the next operation request.
#[derive(Clone)]
enum Then {
    /// Does it and answers.
    Done,
    /// Accepts it and finishes it later (a 202).
    Pending,
    /// Does it, but the answer is lost (timeout after sending).
    LostAnswer,
    /// Answers 503 without doing anything.
    Unavailable,
    /// Refuses it (a 4xx).
    Refuses,
}

struct Fake {
    base: ClientBase,
    state: Mutex<PaymentState>,
    next: Mutex<VecDeque<Then>>,
    /// Every operation request that reached the provider: (kind, Kassa's id, amount).
    sent: Mutex<Vec<(OperationKind, String, i64)>>,
}

fn caps(at_sale: AtSaleCapture, references: bool) -> Capabilities {
    Capabilities {
        cancel: true,
        qr: true,
        webview: true,
        verifiable_status: true,
        find_by_reference: false,
        at_sale_capture: at_sale,
        capture: true,
        refund: true,
        refund_lines: false,
        void: true,
        operation_references: references,
        link: crate::link::LinkRules {
            max_ms: 3600 * 1000,
            sms: false,
            email: false,
            resend: false,
        },
    }
}

impl Fake {
    fn new(caps: Capabilities, captured_at_sale: bool) -> Fake {
        let http = Http::new(HttpConfig::default()).unwrap();
        Fake {
            base: ClientBase::new("fake", "test", caps, None, http),
            state: Mutex::new(PaymentState {
                authorized: GROSS,
                captured: if captured_at_sale { GROSS } else { 0 },
                operations: if captured_at_sale {
                    vec![ProviderOperation {
                        kind: OperationKind::Capture,
                        provider_id: Some("C-auto".into()),
                        amount: GROSS,
                        reference: None,
                        outcome: ProviderOutcome::Succeeded,
                    }]
                } else {
                    vec![]
                },
                ..Default::default()
            }),
            next: Mutex::new(VecDeque::new()),
            sent: Mutex::new(Vec::new()),
        }
    }

    fn then(&self, t: Then) {
        self.next.lock().unwrap().push_back(t);
    }

    fn sent(&self) -> Vec<(OperationKind, String, i64)> {
        self.sent.lock().unwrap().clone()
    }

    fn apply(&self, op: &OperationRequest, outcome: ProviderOutcome) {
        let mut s = self.state.lock().unwrap();
        if outcome == ProviderOutcome::Succeeded {
            match op.kind {
                OperationKind::Capture => s.captured += op.amount,
                OperationKind::Refund => s.refunded += op.amount,
                _ => s.voided = true,
            }
        }
        let n = s.operations.len();
        s.operations.push(ProviderOperation {
            kind: op.kind,
            provider_id: Some(format!("P{n}")),
            amount: op.amount,
            reference: (self.base.capabilities().operation_references
                && op.kind != OperationKind::Void)
                .then(|| op.id.to_string()),
            outcome,
        });
    }

    fn operate(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.sent
            .lock()
            .unwrap()
            .push((op.kind, op.id.to_string(), op.amount));
        let then = self.next.lock().unwrap().pop_front().unwrap_or(Then::Done);
        let answer = |pending| OperationAnswer {
            pending,
            provider_reference: Some("REF".into()),
            detail: "ok".into(),
        };
        let err = |kind| ProviderError::new("fake", kind);
        match then {
            Then::Done => {
                self.apply(op, ProviderOutcome::Succeeded);
                Ok(answer(false))
            }
            Then::Pending => {
                self.apply(op, ProviderOutcome::Pending);
                Ok(answer(true))
            }
            Then::LostAnswer => {
                self.apply(op, ProviderOutcome::Succeeded);
                Err(err(ErrorKind::Timeout {
                    sent: true,
                    seconds: 2,
                }))
            }
            Then::Unavailable => Err(err(ErrorKind::Server {
                status: 503,
                code: None,
                message: "down".into(),
            })),
            Then::Refuses => Err(err(ErrorKind::Rejected {
                status: 400,
                code: Some("NO".into()),
                message: "refused".into(),
            })),
        }
    }

    /// The provider finishes every pending operation.
    fn finish_pending(&self) {
        let mut s = self.state.lock().unwrap();
        let mut refunded = 0;
        for o in s.operations.iter_mut() {
            if o.outcome == ProviderOutcome::Pending {
                o.outcome = ProviderOutcome::Succeeded;
                refunded += o.amount;
            }
        }
        s.refunded += refunded;
    }
}

impl Provider for Fake {
    fn base(&self) -> &ClientBase {
        &self.base
    }
    fn create(&self, _: &CreateRequest) -> Result<Created, ProviderError> {
        Ok(Created {
            provider_session_id: "S-1".into(),
            checkout_url: "https://pay.example/S-1".into(),
            qr_payload: "https://pay.example/S-1".into(),
            expires_at: None,
            detail: None,
            sent: None,
        })
    }
    fn status(&self, _: &SessionRef) -> Result<StatusReport, ProviderError> {
        Ok(StatusReport {
            status: Status::Paid,
            detail: "paid".into(),
            payment_id: Some("PAY-1".into()),
        })
    }
    fn payment_state(&self, s: &SessionRef) -> Result<PaymentState, ProviderError> {
        if s.provider_payment_id != Some("PAY-1") {
            return Err(self.base.config("no payment id"));
        }
        Ok(self.state.lock().unwrap().clone())
    }
    fn capture(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.operate(op)
    }
    fn refund(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.operate(op)
    }
    fn void(&self, op: &OperationRequest) -> Result<OperationAnswer, ProviderError> {
        self.operate(op)
    }
}

const GROSS: i64 = 5997 + 4547;
const T0: i64 = 1_795_285_381_123;

struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    let p = std::env::temp_dir().join(format!(
        "kassa-checkout-{name}-{}-{}",
        std::process::id(),
        crate::time::now_millis()
    ));
    std::fs::create_dir_all(&p).unwrap();
    Dir(p)
}

/// A session log journaling with a signing key from the test binary's in-memory keyring.
fn open_log(dir: &std::path::Path) -> SessionLog {
    let mut log = SessionLog::open_in(dir).unwrap();
    log.use_keyring(crate::secrets::memory::shared());
    log.set_time_zone(crate::journal::Zone::named("Europe/Oslo").unwrap());
    log
}

/// The owner of a till with no operators (a manager).
fn owner() -> crate::operator::Authenticated {
    crate::operator::Authenticated::new(1, "Owner".into(), crate::operator::Role::Manager, false)
}

fn order() -> crate::quote::PricedOrder {
    crate::quote_document(
        r#"{"currency":"NOK","lines":[
            {"name":"Kaffe","quantity":3,"unit_price":1999,"vat_rate":25},
            {"name":"Ost","quantity":"0.35","unit":"kg","unit_price":12990,"vat_rate":15}]}"#,
        "R-1",
    )
    .unwrap()
}

/// A sale charged at `p` under `policy` and paid (the status read that sees it paid runs the
/// at-sale capture).
fn paid(log: &mut SessionLog, dir: &Dir, p: &Fake, policy: CapturePolicy) -> String {
    let s = charge(log, dir, p, policy, 42).unwrap();
    let s = refresh(log, p, &s.id, T0 + 1, true).unwrap();
    assert_eq!(s.status, Status::Paid);
    assert_eq!(s.provider_payment_id.as_deref(), Some("PAY-1"));
    s.id
}

/// Starts a sale of [`order`] (session `SessionId::new(T0, n)`) at `p` as the owner.
fn charge(
    log: &mut SessionLog,
    dir: &Dir,
    p: &Fake,
    policy: CapturePolicy,
    n: u128,
) -> Result<SessionRecord, CheckoutError> {
    start(
        log,
        &dir.0,
        p,
        &ChargeRequest {
            order: &order(),
            presentation: Presentation::Qr,
            return_url: "https://shop.example/r",
            demo: false,
            id: SessionId::new(T0, n),
            now: T0,
            capture: policy,
            sale: &crate::link::Sale::Counter,
            counter_ms: 15 * 60_000,
            renews: None,
            operator: &owner(),
        },
    )
    .map(|started| started.session)
}

/// A paid sale at a fresh fake provider, in a fresh data directory.
fn sale(
    name: &str,
    caps: Capabilities,
    captured_at_sale: bool,
    policy: CapturePolicy,
) -> (Dir, SessionLog, Fake, String) {
    let d = dir(name);
    let mut log = open_log(&d.0);
    let p = Fake::new(caps, captured_at_sale);
    let id = paid(&mut log, &d, &p, policy);
    (d, log, p, id)
}

fn op_id(n: u128) -> String {
    SessionId::new(T0 + 100, n).to_string()
}

/// A refund of `amount` as operation `op_id(n)`.
fn by_amount(
    log: &mut SessionLog,
    p: &Fake,
    id: &str,
    amount: i64,
    n: u128,
    now: i64,
) -> Result<OperationRecord, CheckoutError> {
    refund(
        log,
        p,
        id,
        &Basis::Amount(amount),
        None,
        &owner(),
        &op_id(n),
        now,
    )
}

/// The state an operation's error left it in.
fn state_after(e: &CheckoutError) -> OperationState {
    match e {
        CheckoutError::Operation { operation, .. } => operation.state,
        other => panic!("{other:?}"),
    }
}

/// Where the sale's journal entry says its money stood when it was paid.
fn standing(log: &SessionLog, id: &str) -> crate::journal::Standing {
    log.sale_entry(id)
        .unwrap()
        .expect("a sale entry")
        .sale()
        .unwrap()
        .payment
        .standing
}

fn events_of(log: &SessionLog, id: &str) -> Vec<String> {
    log.get(id)
        .unwrap()
        .1
        .into_iter()
        .map(|e| format!("{} {}", e.kind, e.detail))
        .collect()
}

#[test]
fn at_sale_by_the_provider_is_a_capture_done_on_its_evidence() {
    let (_d, log, p, id) = sale(
        "at-sale",
        caps(AtSaleCapture::ByProvider, true),
        true,
        CapturePolicy::AtSale,
    );
    let ops = log.operations(&id).unwrap();
    assert_eq!(ops.len(), 1);
    let c = &ops[0];
    assert_eq!(
        (c.kind, c.via, c.state, c.amount, c.captured_after),
        (
            OperationKind::Capture,
            Via::Session,
            OperationState::Done,
            GROSS,
            Some(GROSS)
        )
    );
    assert_eq!(c.provider_reference.as_deref(), Some("C-auto"));
    // Nothing was sent: the provider captured by itself.
    assert!(p.sent().is_empty());
    // The provider showed it captured when the sale was recorded: its receipt entry says so.
    assert_eq!(standing(&log, &id), crate::journal::Standing::Captured);
    // Under the manual policy nothing is started, and the money is only authorized.
    let d2 = dir("manual");
    let mut log2 = open_log(&d2.0);
    let id2 = paid(&mut log2, &d2, &p, CapturePolicy::Manual);
    assert!(log2.operations(&id2).unwrap().is_empty());
    assert_eq!(standing(&log2, &id2), crate::journal::Standing::Authorized);
}

#[test]
fn a_manual_sale_learns_when_its_authorization_lapses() {
    let d = dir("expiry");
    let mut log = open_log(&d.0);
    let p = Fake::new(caps(AtSaleCapture::ByProvider, true), false);
    let lapses = T0 + 7 * 86_400_000;
    p.state.lock().unwrap().authorization_expires_at = Some(lapses);
    // Read when it becomes paid, with an event naming the date.
    let id = paid(&mut log, &d, &p, CapturePolicy::Manual);
    assert_eq!(
        log.get(&id).unwrap().0.authorization_expires_at,
        Some(lapses)
    );
    assert!(
        events_of(&log, &id)
            .iter()
            .any(|e| e.starts_with("authorization the authorization lapses at")),
        "{:?}",
        events_of(&log, &id)
    );
    // A later refresh of a paid sale whose date Kassa knows asks nothing.
    p.state.lock().unwrap().authorization_expires_at = Some(lapses + 1);
    refresh(&mut log, &p, &id, T0 + 2, true).unwrap();
    assert_eq!(
        log.get(&id).unwrap().0.authorization_expires_at,
        Some(lapses)
    );
    // Captured whole: the read after it says nothing is left to lapse.
    p.state.lock().unwrap().authorization_expires_at = None;
    capture(&mut log, &p, &id, None, &owner(), &op_id(1), T0 + 200).unwrap();
    assert_eq!(log.get(&id).unwrap().0.authorization_expires_at, None);

    // A sale paid while the provider said nothing: the next refresh learns it.
    let d2 = dir("expiry-late");
    let mut log2 = open_log(&d2.0);
    let p2 = Fake::new(caps(AtSaleCapture::ByProvider, true), false);
    let id2 = paid(&mut log2, &d2, &p2, CapturePolicy::Manual);
    assert_eq!(log2.get(&id2).unwrap().0.authorization_expires_at, None);
    p2.state.lock().unwrap().authorization_expires_at = Some(lapses);
    refresh(&mut log2, &p2, &id2, T0 + 2, true).unwrap();
    assert_eq!(
        log2.get(&id2).unwrap().0.authorization_expires_at,
        Some(lapses)
    );
}

#[test]
fn an_asynchronous_capture_stays_sent_until_the_provider_shows_it() {
    let (_d, mut log, p, id) = sale(
        "at-sale-async",
        caps(AtSaleCapture::ByProvider, true),
        false,
        CapturePolicy::AtSale,
    );
    assert_eq!(log.operations(&id).unwrap()[0].state, OperationState::Sent);
    // Its receipt entry claims no more than the evidence showed then.
    assert_eq!(
        standing(&log, &id),
        crate::journal::Standing::CapturePending
    );
    // Meanwhile staff may not capture it again by API (it would stop the provider's own).
    let e = capture(&mut log, &p, &id, None, &owner(), &op_id(1), T0 + 2).unwrap_err();
    assert_eq!(e.code(), Code::OperationInProgress, "{e}");
    assert!(p.sent().is_empty());
    p.state.lock().unwrap().captured = GROSS;
    refresh(&mut log, &p, &id, T0 + 3, true).unwrap();
    assert_eq!(log.operations(&id).unwrap()[0].state, OperationState::Done);
}

#[test]
fn a_refund_is_recorded_around_its_one_request_with_evidence() {
    let (_d, mut log, p, id) = sale(
        "refund",
        caps(AtSaleCapture::ByProvider, true),
        true,
        CapturePolicy::AtSale,
    );
    let basis = Basis::Lines(vec![(0, crate::Quantity::parse("1").unwrap())]);
    let op = refund(
        &mut log,
        &p,
        &id,
        &basis,
        Some("broken"),
        &owner(),
        &op_id(1),
        T0 + 2,
    )
    .unwrap();
    assert_eq!(
        (op.state, op.amount, op.refunded_after, op.reason.as_deref()),
        (OperationState::Done, 1999, Some(1999), Some("broken"))
    );
    assert_eq!(op.lines[0].vat, 400);
    assert_eq!(p.sent(), vec![(OperationKind::Refund, op.id.clone(), 1999)]);
    let ev = events_of(&log, &id);
    let of_op: Vec<&String> = ev.iter().filter(|e| e.starts_with("refund ")).collect();
    assert_eq!(of_op.len(), 4, "{ev:#?}");
    assert!(of_op[0].contains("refund of 19.99 NOK requested by staff: broken"));
    assert!(of_op[1].contains("sent to fake"));
    assert!(of_op[2].contains("done"));
    assert!(of_op[3].contains("read back: captured 105.44 NOK, refunded 19.99 NOK"));
    // Beyond what is left: refused, logged, nothing sent.
    let e = by_amount(&mut log, &p, &id, GROSS, 2, T0 + 3).unwrap_err();
    assert_eq!(e.code(), Code::AmountExceeds);
    assert!(
        e.to_string()
            .contains("is more than what is left of the sale"),
        "{e}"
    );
    assert_eq!(p.sent().len(), 1);
    assert!(events_of(&log, &id)
        .last()
        .unwrap()
        .starts_with("refund refund refused [amount_exceeds]"));
    // The rest, whole.
    let op = refund(
        &mut log,
        &p,
        &id,
        &Basis::Whole,
        None,
        &owner(),
        &op_id(3),
        T0 + 4,
    )
    .unwrap();
    assert_eq!(op.amount, GROSS - 1999);
    let e = refund(
        &mut log,
        &p,
        &id,
        &Basis::Whole,
        None,
        &owner(),
        &op_id(4),
        T0 + 5,
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::AmountExceeds, "{e}");
    // A void of a captured sale: refused.
    let e = void(&mut log, &p, &id, &owner(), &op_id(5), T0 + 6).unwrap_err();
    assert_eq!(e.code(), Code::NotVoidable, "{e}");
    assert_eq!(p.sent().len(), 2);
}

#[test]
fn a_lost_answer_is_found_in_the_provider_record_and_never_sent_again() {
    let d = dir("lost");
    let mut log = open_log(&d.0);
    for references in [true, false] {
        let p = Fake::new(caps(AtSaleCapture::ByProvider, references), true);
        let id = paid(&mut log, &d, &p, CapturePolicy::AtSale);
        p.then(Then::LostAnswer);
        let op = by_amount(&mut log, &p, &id, 500, 7, T0 + 2).unwrap();
        assert_eq!(op.state, OperationState::Done, "references {references}");
        assert_eq!(p.sent().len(), 1);
        assert_eq!(p.state.lock().unwrap().refunded, 500);
        let log_text = events_of(&log, &id).join("\n");
        assert!(log_text.contains("unknown [timeout]"), "{log_text}");
        // A fresh log for the second round.
        drop(log);
        std::fs::remove_dir_all(&d.0).unwrap();
        std::fs::create_dir_all(&d.0).unwrap();
        log = open_log(&d.0);
    }
}

#[test]
fn one_provider_operation_is_never_two_of_kassas() {
    // No references: operations are told apart by the pre-image alone.
    let (_d, mut log, p, id) = sale(
        "claimed",
        caps(AtSaleCapture::ByProvider, false),
        true,
        CapturePolicy::AtSale,
    );
    // A refund that never arrived (503, nothing done): unknown, its amount held back.
    p.then(Then::Unavailable);
    let e = by_amount(&mut log, &p, &id, 500, 1, T0 + 2).unwrap_err();
    assert_eq!(state_after(&e), OperationState::Unknown);
    // The same amount again: done, its answer lost, found at once as the new refund.
    p.then(Then::LostAnswer);
    let op = by_amount(&mut log, &p, &id, 500, 2, T0 + 3).unwrap();
    assert_eq!(op.state, OperationState::Done);
    assert_eq!(p.state.lock().unwrap().refunded, 500);
    // Every later read: the first one is not the second's refund (it is new since the first's
    // pre-image too, but the second already is it).
    refresh(&mut log, &p, &id, T0 + 4, true).unwrap();
    let ops = log.operations(&id).unwrap();
    let first = ops.iter().find(|o| o.id == op_id(1)).unwrap();
    assert_eq!(first.state, OperationState::Unknown, "{first:?}");
    assert_eq!(crate::store::money_of(&ops).refunded, 500);
}

#[test]
fn an_answer_that_proves_nothing_happened_and_one_that_does_not() {
    let (d, mut log, p, id) = sale(
        "failures",
        caps(AtSaleCapture::ByProvider, true),
        true,
        CapturePolicy::AtSale,
    );
    p.then(Then::Refuses);
    let e = by_amount(&mut log, &p, &id, 500, 1, T0 + 2).unwrap_err();
    assert_eq!(state_after(&e), OperationState::Failed);
    // 503: may have reached the provider, which shows nothing: unknown, and its amount is
    // held back until settled.
    p.then(Then::Unavailable);
    let e = by_amount(&mut log, &p, &id, 500, 2, T0 + 3).unwrap_err();
    assert_eq!(state_after(&e), OperationState::Unknown);
    let e = by_amount(&mut log, &p, &id, GROSS - 500 + 1, 3, T0 + 4).unwrap_err();
    assert_eq!(e.code(), Code::AmountExceeds, "{e}");
    // Reconciliation within the grace period leaves it; after, it failed (never took effect).
    let mut provider_for = |_: &str, _: &str| {
        Ok(
            std::sync::Arc::new(Fake::new(caps(AtSaleCapture::ByProvider, true), true))
                as std::sync::Arc<dyn Provider>,
        )
    };
    reconcile(&mut log, &d.0, &mut provider_for, T0 + 5).unwrap();
    assert_eq!(
        log.operation(&op_id(2)).unwrap().state,
        OperationState::Unknown
    );
    let done = reconcile(&mut log, &d.0, &mut provider_for, T0 + 3 + SETTLE_AFTER_MS).unwrap();
    assert_eq!(
        log.operation(&op_id(2)).unwrap().state,
        OperationState::Failed
    );
    assert_eq!(done[0].operation.as_deref(), Some(op_id(2).as_str()));
    // Each was sent once.
    assert_eq!(p.sent().len(), 2);
}

#[test]
fn a_pending_refund_stays_sent_until_read_done() {
    let (_d, mut log, p, id) = sale(
        "pending",
        caps(AtSaleCapture::ByProvider, true),
        true,
        CapturePolicy::AtSale,
    );
    p.then(Then::Pending);
    let op = by_amount(&mut log, &p, &id, 700, 1, T0 + 2).unwrap();
    assert_eq!(op.state, OperationState::Sent);
    refresh(&mut log, &p, &id, T0 + 3, true).unwrap();
    assert_eq!(log.operation(&op.id).unwrap().state, OperationState::Sent);
    p.finish_pending();
    refresh(&mut log, &p, &id, T0 + 4, true).unwrap();
    let op = log.operation(&op.id).unwrap();
    assert_eq!(
        (op.state, op.refunded_after),
        (OperationState::Done, Some(700))
    );
    assert_eq!(p.sent().len(), 1);
}

#[test]
fn reconciliation_fails_what_was_never_sent_and_leaves_a_living_operation_alone() {
    let (d, mut log, p, id) = sale(
        "reconcile",
        caps(AtSaleCapture::ByProvider, true),
        true,
        CapturePolicy::AtSale,
    );
    // As if a process stopped right after recording it.
    log.record_operation(
        &crate::store::NewOperation {
            id: &op_id(1),
            session_id: &id,
            kind: OperationKind::Refund,
            via: Via::Api,
            amount: 100,
            lines: &[],
            reason: None,
            pre_image: Some("[]"),
            state: OperationState::Requested,
            at: T0 + 2,
            operator_id: Some(1),
        },
        "requested",
    )
    .unwrap();
    let mut provider_for = |_: &str, _: &str| {
        Ok(
            std::sync::Arc::new(Fake::new(caps(AtSaleCapture::ByProvider, true), true))
                as std::sync::Arc<dyn Provider>,
        )
    };
    // While another process holds the session's operation lock, it is that process's.
    let held = lock::OperationLock::try_acquire(&d.0, &id)
        .unwrap()
        .unwrap();
    assert!(reconcile(&mut log, &d.0, &mut provider_for, T0 + 3)
        .unwrap()
        .is_empty());
    assert_eq!(
        log.operation(&op_id(1)).unwrap().state,
        OperationState::Requested
    );
    // Another operation meanwhile: in progress.
    let e = by_amount(&mut log, &p, &id, 1, 2, T0 + 3).unwrap_err();
    assert_eq!(e.code(), Code::OperationInProgress);
    drop(held);
    reconcile(&mut log, &d.0, &mut provider_for, T0 + 4).unwrap();
    let op = log.operation(&op_id(1)).unwrap();
    assert_eq!(
        (op.state, op.error.as_deref()),
        (OperationState::Failed, Some("never sent"))
    );
    assert!(p.sent().is_empty());
}

#[test]
fn at_sale_by_kassa_captures_by_api_when_paid() {
    let (_d, log, p, id) = sale(
        "by-kassa",
        caps(AtSaleCapture::ByKassa, false),
        false,
        CapturePolicy::AtSale,
    );
    let op = &log.operations(&id).unwrap()[0];
    assert_eq!(
        (op.via, op.state, op.captured_after),
        (Via::Api, OperationState::Done, Some(GROSS))
    );
    assert_eq!(
        p.sent(),
        vec![(OperationKind::Capture, op.id.clone(), GROSS)]
    );
    // A failed capture does not turn the paid session into an error.
    let d2 = dir("by-kassa-fails");
    let mut log2 = open_log(&d2.0);
    let p2 = Fake::new(caps(AtSaleCapture::ByKassa, false), false);
    p2.then(Then::Refuses);
    let id2 = paid(&mut log2, &d2, &p2, CapturePolicy::AtSale);
    assert_eq!(
        log2.operations(&id2).unwrap()[0].state,
        OperationState::Failed
    );
    // Staff capture it later, partly: the lines are the amount spread over the sale.
    let op = capture(
        &mut log2,
        &p2,
        &id2,
        Some(1000),
        &owner(),
        &op_id(9),
        T0 + 5,
    )
    .unwrap();
    assert_eq!(
        (op.state, op.lines.iter().map(|l| l.gross).sum::<i64>()),
        (OperationState::Done, 1000)
    );
    let e = capture(
        &mut log2,
        &p2,
        &id2,
        Some(GROSS),
        &owner(),
        &op_id(10),
        T0 + 6,
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::AmountExceeds, "{e}");
}

#[test]
fn refusals_before_anything_is_sent() {
    let d = dir("refusals");
    let mut log = open_log(&d.0);
    let p = Fake::new(caps(AtSaleCapture::ByProvider, true), false);
    let s = charge(&mut log, &d, &p, CapturePolicy::Manual, 7).unwrap();
    // Not paid yet.
    let e = refund(
        &mut log,
        &p,
        &s.id,
        &Basis::Whole,
        None,
        &owner(),
        &op_id(1),
        T0 + 1,
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::NotPaid);
    assert!(
        e.to_string()
            .contains("is open: only a paid sale is refunded"),
        "{e}"
    );
    let id = refresh(&mut log, &p, &s.id, T0 + 2, true).unwrap().id;
    // Authorized, nothing captured: no refund, but a void.
    let e = refund(
        &mut log,
        &p,
        &id,
        &Basis::Whole,
        None,
        &owner(),
        &op_id(2),
        T0 + 3,
    )
    .unwrap_err();
    assert!(e.to_string().contains("nothing is captured"), "{e}");
    let e = capture(&mut log, &p, &id, Some(0), &owner(), &op_id(3), T0 + 3).unwrap_err();
    assert_eq!(e.code(), Code::InvalidInput);
    let e = capture(
        &mut log,
        &p,
        &id,
        Some(GROSS + 1),
        &owner(),
        &op_id(4),
        T0 + 3,
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::AmountExceeds);
    assert!(p.sent().is_empty());
    let v = void(&mut log, &p, &id, &owner(), &op_id(5), T0 + 4).unwrap();
    assert_eq!((v.state, v.amount), (OperationState::Done, GROSS));
    let e = capture(&mut log, &p, &id, None, &owner(), &op_id(6), T0 + 5).unwrap_err();
    assert!(e.to_string().contains("voided"), "{e}");
    let e = void(&mut log, &p, &id, &owner(), &op_id(7), T0 + 5).unwrap_err();
    assert_eq!(e.code(), Code::NotVoidable);
    // A recorded refund is for providers without a refund API.
    let e = record_refund(
        &mut log,
        &p,
        &id,
        &Basis::Whole,
        "cash",
        &owner(),
        &op_id(8),
        T0 + 6,
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::Unsupported);
    assert_eq!(p.sent().len(), 1);
}

#[test]
fn no_sale_starts_without_the_journals_key_and_nothing_is_recorded() {
    let d = dir("no-key");
    let mut log = SessionLog::open_in(&d.0).unwrap(); // no keyring to take the key from
    let p = Fake::new(caps(AtSaleCapture::ByProvider, true), true);
    let e = charge(&mut log, &d, &p, CapturePolicy::AtSale, 9).unwrap_err();
    assert_eq!(e.code(), Code::SigningKey, "{e}");
    assert!(e.to_string().starts_with("no sale can start: "), "{e}");
    assert_eq!(log.count().unwrap(), 0, "no intent was recorded");
    assert!(p.sent().is_empty());
}

#[test]
fn a_cashier_refunds_and_voids_nothing_and_a_manager_does() {
    let (_d, mut log, p, id) = sale(
        "cashier",
        caps(AtSaleCapture::ByProvider, true),
        true,
        CapturePolicy::AtSale,
    );
    let cashier =
        crate::operator::Authenticated::new(7, "Kari".into(), crate::operator::Role::Cashier, true);
    let e = refund(
        &mut log,
        &p,
        &id,
        &Basis::Whole,
        None,
        &cashier,
        &op_id(1),
        T0 + 2,
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::ManagerRequired, "{e}");
    let e = void(&mut log, &p, &id, &cashier, &op_id(2), T0 + 2).unwrap_err();
    assert_eq!(e.code(), Code::ManagerRequired, "{e}");
    assert!(log
        .operations(&id)
        .unwrap()
        .iter()
        .all(|o| o.kind == OperationKind::Capture));
    assert!(p.sent().is_empty());
    // The manager's refund is done, and its return receipt names them.
    let manager =
        crate::operator::Authenticated::new(3, "Ola".into(), crate::operator::Role::Manager, true);
    let op = refund(
        &mut log,
        &p,
        &id,
        &Basis::Whole,
        None,
        &manager,
        &op_id(3),
        T0 + 3,
    )
    .unwrap();
    let ret = log.return_entry(&op.id).unwrap().expect("a return receipt");
    assert_eq!(ret.operator_id, Some(3));
    assert_eq!(ret.gross_minor, Some(-GROSS));
    assert!(log.verify_journal().unwrap().is_ok());
}
