//! When to ask which provider about which open session: one scheduler for every session a
//! till follows, counter sales and links alike, instead of a thread (or a timer) per session.
//!
//! - **Cadence** ([`interval`]): a counter sale is asked every 2 s (the customer stands at the
//!   till); a link sale's cadence slows with its age — every 10 s in its first 10 minutes
//!   (sent, maybe being paid now), every minute in its first hour, every 5 minutes in its first
//!   day, then every 15 minutes. Staff opening a sale ([`Scheduler::nudge`]) asks it at once
//!   and at the counter cadence for the next minute.
//! - **Expiry**: a session is asked once more [`AFTER_EXPIRY_MS`] after its expiry (the
//!   provider then reports it expired, or paid at the last moment), and then left alone by this
//!   scheduler ([`Scheduler::settled`]); a later start asks it once again (the session log still
//!   says open), which is what reconciliation would do anyway.
//! - **Budgets** ([`Budget`]): a token bucket per provider, so thousands of open links never
//!   exceed what the provider allows (NOTES-after-sale.md §3: Klarna 50/s in the playground,
//!   Commerce Layer about 25 requests per endpoint per 10 s shared by every till behind the
//!   shop's router; Dintero's and Bambora's are UNCONFIRMED). A session whose turn comes while
//!   its provider's bucket is empty waits for the next token. A 429 pauses the whole provider
//!   for its `Retry-After` ([`Asked::RateLimited`]).
//! - **The counter first**: a counter sale (and a sale staff just opened) is someone waiting at
//!   the till, so it has its own queue, served before the links', and links leave the last
//!   token of a bucket to it. Without that, thousands of links held back by a budget (each
//!   keeping the time its turn first came, for fairness) would all go before a counter sale
//!   that fell due after them, and the customer at the till would wait minutes.
//! - Failures other than 429 back the one session off (doubling, at most 5 minutes).
//!
//! Time is passed in (Unix ms) and nothing here does I/O: the caller asks the provider
//! (`checkout::refresh`, which records the status and, on `paid`, the journal's receipt entry
//! exactly as for a counter sale) and reports back with [`Scheduler::done`]. `kassa-cli follow`
//! runs it headless; the desktop app can run the same one.
//!
//! Not for: what a status means (`checkout`), the HTTP client's own retries (`http`).

use crate::link::SaleKind;
use crate::session::Status;
use crate::store::SessionRecord;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;

/// A counter sale's cadence.
pub const COUNTER_MS: i64 = 2 * SECOND;
/// How long after its expiry a session is asked the last time (the provider's clock may be a
/// little behind, and a payment started just before the expiry may finish).
pub const AFTER_EXPIRY_MS: i64 = 30 * SECOND;
/// The longest one failing session waits between asks.
const MAX_BACKOFF_MS: i64 = 5 * MINUTE;
/// How long staff's nudge keeps a sale at the counter cadence.
const NUDGE_MS: i64 = MINUTE;
/// A 429 without `Retry-After` pauses its provider this long.
const DEFAULT_RETRY_AFTER_MS: i64 = 30 * SECOND;

/// How long to wait before asking a session again, by what it is and how old it is.
pub fn interval(sale: SaleKind, age_ms: i64) -> i64 {
    match sale {
        SaleKind::Counter => COUNTER_MS,
        SaleKind::Link => match age_ms {
            a if a < 10 * MINUTE => 10 * SECOND,
            a if a < 60 * MINUTE => MINUTE,
            a if a < 24 * 60 * MINUTE => 5 * MINUTE,
            _ => 15 * MINUTE,
        },
    }
}

/// A provider's request budget for status reads: `per_minute` on average, up to `burst` at
/// once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub per_minute: u32,
    pub burst: u32,
}

impl Budget {
    /// The budget Kassa keeps for `provider`'s status reads, well inside what each documents
    /// (NOTES-after-sale.md §3), leaving room for creates, captures and other tills.
    pub fn for_provider(provider: &str) -> Budget {
        match provider {
            // Playground: 50/s for reads; production 200/s.
            "klarna" => Budget {
                per_minute: 600,
                burst: 20,
            },
            // About 25 requests per endpoint per 10 s, shared by every till behind one router.
            "commercelayer" => Budget {
                per_minute: 60,
                burst: 5,
            },
            // The demo's sandbox runs in-process.
            "demo" => Budget {
                per_minute: 6000,
                burst: 100,
            },
            // Dintero answers 429 with Retry-After (numbers UNCONFIRMED); Bambora's and
            // Opencharge gateways' limits are UNCONFIRMED: a moderate budget.
            _ => Budget {
                per_minute: 120,
                burst: 10,
            },
        }
    }
}

/// A token bucket in integer arithmetic: one token is `MINUTE` units, refilled at
/// `per_minute` units a millisecond.
#[derive(Debug)]
struct Bucket {
    budget: Budget,
    units: i64,
    at: i64,
    /// A 429 paused the provider until then.
    paused_until: i64,
}

impl Bucket {
    fn new(budget: Budget, now: i64) -> Bucket {
        Bucket {
            budget,
            units: i64::from(budget.burst.max(1)) * MINUTE,
            at: now,
            paused_until: i64::MIN,
        }
    }

    fn refill(&mut self, now: i64) {
        let cap = i64::from(self.budget.burst.max(1)) * MINUTE;
        let gained = (now - self.at).max(0) * i64::from(self.budget.per_minute);
        self.units = (self.units + gained).min(cap);
        self.at = now.max(self.at);
    }

    /// Takes a token leaving `keep` tokens in the bucket, or says when it can (or the pause
    /// ends).
    fn take(&mut self, now: i64, keep: i64) -> Result<(), i64> {
        if now < self.paused_until {
            return Err(self.paused_until);
        }
        self.refill(now);
        let need = (1 + keep) * MINUTE;
        if self.units >= need {
            self.units -= MINUTE;
            return Ok(());
        }
        let per_ms = i64::from(self.budget.per_minute.max(1));
        Err(now + (need - self.units + per_ms - 1) / per_ms)
    }

    /// How many tokens a link leaves for the counter: one, when the burst allows a second.
    fn kept_for_counter(&self) -> i64 {
        i64::from(self.budget.burst >= 2)
    }
}

/// What the scheduler knows of one followed session.
#[derive(Debug, Clone)]
struct Entry {
    provider: String,
    profile: String,
    sale: SaleKind,
    created_at: i64,
    expires_at: Option<i64>,
    next_at: i64,
    /// When its turn first came (kept while a budget holds it back), so that of sessions due
    /// at the same moment the one waiting longest goes first: fair under a tight budget.
    due_since: i64,
    /// Bumped whenever `next_at` changes, so stale heap entries are skipped.
    turn: u64,
    /// Failures in a row.
    failures: u32,
    /// Staff opened it: counter cadence until then.
    nudged_until: i64,
    /// Being asked now (handed out by `due`, not yet `done`).
    asking: bool,
}

impl Entry {
    /// Someone waits at the till: a counter sale, or a sale staff opened (at `at`).
    fn urgent(&self, at: i64) -> bool {
        self.sale == SaleKind::Counter || at < self.nudged_until
    }

    fn last_call(&self) -> Option<i64> {
        self.expires_at.map(|t| t + AFTER_EXPIRY_MS)
    }

    /// When to ask next after an ask at `now`: the cadence, but never past the last call.
    fn next_after(&self, now: i64) -> i64 {
        let cadence = if now < self.nudged_until {
            COUNTER_MS
        } else {
            interval(self.sale, now - self.created_at)
        };
        let next = now + cadence;
        match self.last_call() {
            Some(last) if now < last => next.min(last),
            _ => next,
        }
    }
}

/// A session whose turn it is: ask its provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub id: String,
    pub provider: String,
    pub profile: String,
}

/// What asking a session gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// The session's status now.
    Status(Status),
    /// The provider said 429; `retry_after_ms` when it said how long.
    RateLimited { retry_after_ms: Option<i64> },
    /// The read failed otherwise (network, 5xx…).
    Failed,
}

/// (due at, due since, turn, id), earliest first; entries whose turn is not the session's
/// latest are stale and skipped.
type Queue = BinaryHeap<Reverse<(i64, i64, u64, String)>>;

/// The scheduler (see the module doc).
#[derive(Debug, Default)]
pub struct Scheduler {
    entries: HashMap<String, Entry>,
    /// The counter's queue (see [`Entry::urgent`]), served first.
    urgent: Queue,
    /// The links' queue.
    links: Queue,
    buckets: HashMap<String, Bucket>,
    /// Asked after their expiry and still open: left alone until the next start.
    settled: HashSet<String>,
    next_turn: u64,
}

impl Scheduler {
    pub fn new() -> Scheduler {
        Scheduler::default()
    }

    /// Follows every session in `open` (the session log's open and unknown sessions) not
    /// followed yet, due at once; forgets those no longer in it (finished elsewhere).
    pub fn sync(&mut self, open: &[SessionRecord], now: i64) {
        let ids: HashSet<&str> = open.iter().map(|s| s.id.as_str()).collect();
        self.entries.retain(|id, _| ids.contains(id.as_str()));
        self.settled.retain(|id| ids.contains(id.as_str()));
        for s in open {
            if self.entries.contains_key(&s.id) || self.settled.contains(&s.id) {
                continue;
            }
            let entry = Entry {
                provider: s.provider.clone(),
                profile: s.profile.clone(),
                sale: s.sale,
                created_at: s.created_at,
                expires_at: s.expires_at,
                next_at: now,
                due_since: now,
                turn: 0,
                failures: 0,
                nudged_until: i64::MIN,
                asking: false,
            };
            self.entries.insert(s.id.clone(), entry);
            self.schedule(&s.id, now);
        }
    }

    fn schedule(&mut self, id: &str, at: i64) {
        self.schedule_since(id, at, at);
    }

    fn schedule_since(&mut self, id: &str, at: i64, since: i64) {
        self.next_turn += 1;
        let turn = self.next_turn;
        if let Some(e) = self.entries.get_mut(id) {
            e.next_at = at;
            e.due_since = since;
            e.turn = turn;
            e.asking = false;
            let queue = if e.urgent(at) {
                &mut self.urgent
            } else {
                &mut self.links
            };
            queue.push(Reverse((at, since, turn, id.to_string())));
        }
    }

    /// The sessions to ask now, within their providers' budgets. Each must be reported back
    /// with [`Scheduler::done`]; those a budget holds back are due again when it allows.
    pub fn due(&mut self, now: i64) -> Vec<Due> {
        let mut out = Vec::new();
        let mut later = Vec::new();
        let mut urgent = std::mem::take(&mut self.urgent);
        self.take_due(&mut urgent, true, now, &mut out, &mut later);
        self.urgent = urgent;
        let mut links = std::mem::take(&mut self.links);
        self.take_due(&mut links, false, now, &mut out, &mut later);
        self.links = links;
        for (id, when, since) in later {
            self.schedule_since(&id, when, since);
        }
        out
    }

    /// Hands out what is due in `queue` while budgets allow; notes in `later` those held back
    /// (id, when the budget allows, due since).
    fn take_due(
        &mut self,
        queue: &mut Queue,
        counter: bool,
        now: i64,
        out: &mut Vec<Due>,
        later: &mut Vec<(String, i64, i64)>,
    ) {
        while let Some(Reverse((at, _, turn, _))) = queue.peek() {
            if *at > now {
                break;
            }
            let turn = *turn;
            let Some(Reverse((_, _, _, id))) = queue.pop() else {
                break;
            };
            let Some(e) = self.entries.get(&id) else {
                continue;
            };
            if e.turn != turn || e.asking {
                continue;
            }
            let bucket = self
                .buckets
                .entry(e.provider.clone())
                .or_insert_with(|| Bucket::new(Budget::for_provider(&e.provider), now));
            let keep = if counter {
                0
            } else {
                bucket.kept_for_counter()
            };
            match bucket.take(now, keep) {
                Ok(()) => {
                    out.push(Due {
                        id: id.clone(),
                        provider: e.provider.clone(),
                        profile: e.profile.clone(),
                    });
                    self.entries.get_mut(&id).expect("present").asking = true;
                }
                Err(when) => later.push((id, when, e.due_since)),
            }
        }
    }

    /// Reports what asking session `id` gave at `now`.
    pub fn done(&mut self, id: &str, asked: Asked, now: i64) {
        let Some(e) = self.entries.get_mut(id) else {
            return;
        };
        match asked {
            Asked::Status(s) if s.is_final() || s == Status::NeedsReview => {
                self.entries.remove(id);
            }
            Asked::Status(_) => {
                e.failures = 0;
                if e.last_call().is_some_and(|last| now >= last) {
                    // The last call after the expiry was made: settled for this run.
                    self.entries.remove(id);
                    self.settled.insert(id.to_string());
                    return;
                }
                let next = e.next_after(now);
                self.schedule(id, next);
            }
            Asked::RateLimited { retry_after_ms } => {
                let until = now + retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS).max(SECOND);
                let provider = e.provider.clone();
                let bucket = self
                    .buckets
                    .entry(provider)
                    .or_insert_with(|| Bucket::new(Budget::for_provider(&e.provider), now));
                bucket.paused_until = bucket.paused_until.max(until);
                self.schedule(id, until);
            }
            Asked::Failed => {
                e.failures += 1;
                let backoff = (COUNTER_MS << e.failures.min(10)).min(MAX_BACKOFF_MS);
                let next = e.next_after(now).max(now + backoff);
                self.schedule(id, next);
            }
        }
    }

    /// Staff opened session `id`: ask it at once, and at the counter cadence for a minute.
    pub fn nudge(&mut self, id: &str, now: i64) {
        if let Some(e) = self.entries.get_mut(id) {
            e.nudged_until = now + NUDGE_MS;
            if !e.asking {
                self.schedule(id, now);
            }
        }
    }

    /// When the next session is due (None: nothing to follow).
    pub fn next_due(&self) -> Option<i64> {
        self.entries
            .values()
            .filter(|e| !e.asking)
            .map(|e| e.next_at)
            .min()
    }

    /// How many sessions are followed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sessions asked after their expiry and left alone until the next start.
    pub fn settled(&self) -> impl Iterator<Item = &str> {
        self.settled.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;

    fn session(
        id: &str,
        provider: &str,
        sale: SaleKind,
        created: i64,
        expires: i64,
    ) -> SessionRecord {
        SessionRecord {
            id: id.into(),
            provider: provider.into(),
            profile: "test".into(),
            demo: false,
            provider_session_id: Some(format!("P-{id}")),
            merchant_reference: id.into(),
            currency: "NOK".into(),
            gross_minor: 100,
            net_minor: 80,
            vat_minor: 20,
            order_json: String::new(),
            checkout_url: None,
            qr_payload: None,
            status: Status::Open,
            created_at: created,
            updated_at: created,
            expires_at: Some(expires),
            last_error: None,
            provider_payment_id: None,
            confirmed_by: None,
            capture_policy: None,
            authorization_expires_at: None,
            operator_id: None,
            sale,
            requested_expires_at: None,
            contact: None,
            contact_masked: None,
            renews: None,
        }
    }

    /// Runs the scheduler from `from` to `to` in 100 ms steps, every ask answering `open`:
    /// the times each session was asked.
    fn run(s: &mut Scheduler, from: i64, to: i64) -> HashMap<String, Vec<i64>> {
        let mut asked: HashMap<String, Vec<i64>> = HashMap::new();
        let mut now = from;
        while now <= to {
            for d in s.due(now) {
                asked.entry(d.id.clone()).or_default().push(now);
                s.done(&d.id, Asked::Status(Status::Open), now);
            }
            now += 100;
        }
        asked
    }

    #[test]
    fn the_cadence_is_2_s_at_the_counter_and_slows_with_a_links_age() {
        assert_eq!(interval(SaleKind::Counter, 0), 2_000);
        assert_eq!(interval(SaleKind::Counter, 10 * 24 * 60 * MINUTE), 2_000);
        assert_eq!(interval(SaleKind::Link, 0), 10_000);
        assert_eq!(interval(SaleKind::Link, 10 * MINUTE), MINUTE);
        assert_eq!(interval(SaleKind::Link, 2 * 60 * MINUTE), 5 * MINUTE);
        assert_eq!(interval(SaleKind::Link, 3 * 24 * 60 * MINUTE), 15 * MINUTE);
    }

    #[test]
    fn one_scheduler_asks_a_counter_sale_every_2_s_and_a_young_link_every_10_s() {
        let mut s = Scheduler::new();
        s.sync(
            &[
                session("C", "dintero", SaleKind::Counter, T0, T0 + 15 * MINUTE),
                session("L", "dintero", SaleKind::Link, T0, T0 + 24 * 60 * MINUTE),
            ],
            T0,
        );
        let asked = run(&mut s, T0, T0 + 60 * SECOND);
        assert_eq!(asked["C"].len(), 31, "at 0, 2, … 60 s");
        assert_eq!(
            asked["L"],
            (0..=6).map(|i| T0 + i * 10_000).collect::<Vec<_>>()
        );
        // A day-old link: every 15 minutes.
        let mut s = Scheduler::new();
        let old = T0 - 2 * 24 * 60 * MINUTE;
        s.sync(
            &[session(
                "O",
                "klarna",
                SaleKind::Link,
                old,
                T0 + 60 * MINUTE,
            )],
            T0,
        );
        let asked = run(&mut s, T0, T0 + 30 * MINUTE);
        assert_eq!(asked["O"], vec![T0, T0 + 15 * MINUTE, T0 + 30 * MINUTE]);
    }

    #[test]
    fn an_expired_link_is_asked_once_after_its_expiry_then_left_alone() {
        let mut s = Scheduler::new();
        let created = T0 - 3 * 60 * MINUTE;
        let expires = T0 + 2 * MINUTE;
        s.sync(
            &[session("L", "dintero", SaleKind::Link, created, expires)],
            T0,
        );
        let asked = run(&mut s, T0, T0 + 60 * MINUTE);
        // Every 5 minutes at that age, but the last call 30 s after the expiry comes first.
        assert_eq!(asked["L"], vec![T0, expires + AFTER_EXPIRY_MS]);
        assert!(s.is_empty());
        assert_eq!(s.settled().collect::<Vec<_>>(), vec!["L"]);
        // Still open in the log at the next sync: not followed again in this run.
        s.sync(
            &[session("L", "dintero", SaleKind::Link, created, expires)],
            T0 + 61 * MINUTE,
        );
        assert!(s.is_empty());
    }

    #[test]
    fn a_final_status_ends_following_and_sync_forgets_sessions_finished_elsewhere() {
        let mut s = Scheduler::new();
        s.sync(
            &[
                session("A", "dintero", SaleKind::Counter, T0, T0 + MINUTE),
                session("B", "dintero", SaleKind::Counter, T0, T0 + MINUTE),
            ],
            T0,
        );
        let due = s.due(T0);
        assert_eq!(due.len(), 2);
        s.done("A", Asked::Status(Status::Paid), T0);
        s.done("B", Asked::Status(Status::Open), T0);
        assert_eq!(s.len(), 1);
        s.sync(&[], T0 + 1);
        assert!(s.is_empty() && s.next_due().is_none());
    }

    #[test]
    fn a_providers_budget_spreads_many_links_and_never_exceeds_it() {
        let mut s = Scheduler::new();
        let links: Vec<_> = (0..500)
            .map(|i| {
                session(
                    &format!("L{i:03}"),
                    "commercelayer",
                    SaleKind::Link,
                    T0,
                    T0 + 7 * 24 * 60 * MINUTE,
                )
            })
            .collect();
        s.sync(&links, T0);
        let asked = run(&mut s, T0, T0 + 5 * MINUTE);
        let mut times: Vec<i64> = asked.values().flatten().copied().collect();
        times.sort();
        let budget = Budget::for_provider("commercelayer");
        // In any minute: at most the burst plus a minute's worth.
        for (i, t) in times.iter().enumerate() {
            let in_minute = times[i..].iter().take_while(|x| **x < t + MINUTE).count();
            assert!(
                in_minute as u32 <= budget.per_minute + budget.burst,
                "{in_minute} asks in the minute from {t}"
            );
        }
        // And the budget is used: about 5 minutes' worth, every link asked at least once.
        assert!(
            times.len() as u32 >= 5 * budget.per_minute - budget.per_minute / 10,
            "{}",
            times.len()
        );
        // Fair: no link is asked twice while another still waits for its first ask.
        assert_eq!(asked.len(), times.len());
        // A provider with budget left is not held back by another's.
        let mut s2 = Scheduler::new();
        let mut both = links.clone();
        both.push(session(
            "K",
            "klarna",
            SaleKind::Counter,
            T0,
            T0 + 15 * MINUTE,
        ));
        s2.sync(&both, T0);
        let asked = run(&mut s2, T0, T0 + 10 * SECOND);
        assert_eq!(asked["K"].len(), 6);
    }

    #[test]
    fn a_429_pauses_its_provider_for_retry_after_and_other_failures_back_one_session_off() {
        let mut s = Scheduler::new();
        s.sync(
            &[
                session("A", "dintero", SaleKind::Counter, T0, T0 + 15 * MINUTE),
                session("B", "dintero", SaleKind::Counter, T0, T0 + 15 * MINUTE),
                session("K", "klarna", SaleKind::Counter, T0, T0 + 15 * MINUTE),
            ],
            T0,
        );
        let due = s.due(T0);
        assert_eq!(due.len(), 3);
        s.done(
            "A",
            Asked::RateLimited {
                retry_after_ms: Some(20_000),
            },
            T0,
        );
        s.done("B", Asked::Status(Status::Open), T0);
        s.done("K", Asked::Failed, T0);
        // B's turn at 2 s falls in Dintero's pause: held until it ends. Klarna is not paused,
        // but K backs off (4 s after one failure).
        let asked = run(&mut s, T0 + 100, T0 + 19_900);
        assert!(
            !asked.contains_key("A") && !asked.contains_key("B"),
            "{asked:?}"
        );
        assert_eq!(asked["K"][0], T0 + 4_000);
        let asked = run(&mut s, T0 + 20_000, T0 + 21_000);
        assert!(
            asked.contains_key("A") && asked.contains_key("B"),
            "{asked:?}"
        );
    }

    #[test]
    fn staff_opening_a_link_asks_it_now_and_at_the_counter_cadence_for_a_minute() {
        let mut s = Scheduler::new();
        let created = T0 - 2 * 60 * MINUTE;
        s.sync(
            &[session(
                "L",
                "dintero",
                SaleKind::Link,
                created,
                T0 + 24 * 60 * MINUTE,
            )],
            T0,
        );
        run(&mut s, T0, T0);
        s.nudge("L", T0 + 1_000);
        let asked = run(&mut s, T0 + 1_000, T0 + 2 * MINUTE);
        assert_eq!(asked["L"][..3], [T0 + 1_000, T0 + 3_000, T0 + 5_000]);
        // After the minute, back to every 5 minutes.
        assert_eq!(*asked["L"].last().unwrap(), T0 + 61_000);
    }
    #[test]
    fn a_counter_sale_among_thousands_of_links_held_back_by_the_budget_is_asked_every_2_s() {
        let mut s = Scheduler::new();
        let mut open: Vec<_> = (0..3000)
            .map(|i| {
                session(
                    &format!("L{i:04}"),
                    "dintero",
                    SaleKind::Link,
                    T0,
                    T0 + 7 * 24 * 60 * MINUTE,
                )
            })
            .collect();
        s.sync(&open, T0);
        // A minute in, thousands of links wait for Dintero's budget when the counter sale comes.
        run(&mut s, T0, T0 + MINUTE);
        open.push(session(
            "C",
            "dintero",
            SaleKind::Counter,
            T0 + MINUTE,
            T0 + 16 * MINUTE,
        ));
        s.sync(&open, T0 + MINUTE + 100);
        let asked = run(&mut s, T0 + MINUTE + 100, T0 + 3 * MINUTE);
        let c = &asked["C"];
        assert_eq!(c[0], T0 + MINUTE + 100, "asked as soon as it is followed");
        let gaps: Vec<i64> = c.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g == COUNTER_MS), "{gaps:?}");
        // The links still get the rest of the budget, and the budget holds.
        let budget = Budget::for_provider("dintero");
        let links = asked.values().map(Vec::len).sum::<usize>() - c.len();
        let total = links + c.len();
        assert!(
            total as u32 <= 2 * budget.per_minute + budget.burst,
            "{total}"
        );
        assert!(
            links as u32 >= 2 * budget.per_minute - c.len() as u32 - 5,
            "{links}"
        );
    }
}
