//! When to ask which provider about which open session: one scheduler for every session a
//! till follows, counter sales and links alike, instead of a thread (or a timer) per session.
//!
//! - **Cadence** ([`interval`]): a counter sale is asked every 2 s (the customer stands at the
//!   till); a link sale's cadence slows with its age — every 10 s in its first 10 minutes
//!   (sent, maybe being paid now), every minute in its first hour, every 5 minutes in its first
//!   day, then every 15 minutes. Staff opening a sale ([`Scheduler::nudge`]) asks it at once
//!   and at the counter cadence for the next minute.
//! - **First ask**: a session is first asked [`FIRST_ASK_MS`] (2 s) after its creation, at once
//!   when it is older (found at a start, or made by another till): nobody has paid a session
//!   in its first seconds, and asking it at once put a second provider request on the till
//!   while the charge's QR code was being drawn. `kassa-cli follow --once` asks every session
//!   at once ([`Scheduler::all_due_now`]).
//! - **Expiry**: a session is asked once more [`AFTER_EXPIRY_MS`] after its expiry (the
//!   provider then reports it expired, or paid at the last moment), and then left alone by this
//!   scheduler ([`Scheduler::settled`]); a later start asks it once again (the session log still
//!   says open), which is what reconciliation would do anyway.
//! - **Budgets** ([`Budget`]): a token bucket per provider, so thousands of open links never
//!   exceed what the provider allows (NOTES-after-sale.md §3: Klarna 50/s in the playground,
//!   Commerce Layer about 25 requests per endpoint per 10 s shared by every till behind the
//!   shop's router; Dintero's and Bambora's are UNCONFIRMED). A session whose turn comes while
//!   its provider's bucket is empty waits for the next token, first in line (it keeps its due
//!   time: fair under a tight budget). A 429 pauses the whole provider for its `Retry-After`
//!   ([`Asked::RateLimited`]).
//! - **The counter first**: a counter sale (and a sale staff just opened) is someone waiting at
//!   the till, so it has its own queue, served before the links', and links leave the last
//!   token of a bucket to it. Without that, thousands of links held back by a budget would all
//!   go before a counter sale that fell due after them, and the customer at the till would
//!   wait minutes.
//! - Failures other than 429 back the one session off (doubling, at most 5 minutes).
//! - **Cost**: each provider has its two queues (priority queues by due time). A wake-up looks
//!   at each provider's heads ([`Scheduler::due`], [`Scheduler::next_due`]) and stops at a head
//!   its budget holds back, so 10,000 links waiting for a budget cost nothing until their turn
//!   (before, every wake-up took them all out and put them back: most of the CPU the
//!   scheduler's bench measured). An entry holds only its id, provider, profile and times.
//!
//! Time is passed in (Unix ms) and nothing here does I/O: the caller asks the provider
//! (`checkout::refresh`, which records the status and, on `paid`, the journal's receipt entry
//! exactly as for a counter sale) and reports back with [`Scheduler::done`], and tells it what
//! the session log says ([`Scheduler::sync`] with every open session, [`Scheduler::follow`] and
//! [`Scheduler::forget`] with what changed: `till::LogWatch`). `kassa-cli follow` runs it
//! headless, the desktop app through `till::follow_all`.
//!
//! Not for: what a status means (`checkout`), the HTTP client's own retries (`http`).

use crate::link::SaleKind;
use crate::session::Status;
use crate::store::FollowedSession;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;

/// A counter sale's cadence.
pub const COUNTER_MS: i64 = 2 * SECOND;
/// How long after its creation a session is first asked. Nobody has paid a session in its
/// first two seconds: asking it then only puts a second provider request (and its session log
/// write) on the till while the charge's answer is still on its way to the screen. A session
/// older than that (found at a start, or made by another till) is due at once.
pub const FIRST_ASK_MS: i64 = COUNTER_MS;

/// When a session made at `created_at` and first seen at `now` is first asked: never before
/// `now`, and never later than one [`FIRST_ASK_MS`] after `now` (a creation time ahead of this
/// till's clock, from another till on the shop's hub).
fn first_ask(created_at: i64, now: i64) -> i64 {
    created_at
        .saturating_add(FIRST_ASK_MS)
        .clamp(now, now + FIRST_ASK_MS)
}

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

    /// Takes a token leaving `keep` tokens in the bucket, if there is one (and no pause);
    /// [`Bucket::ready_at`] says when there is.
    fn take(&mut self, now: i64, keep: i64) -> bool {
        if now < self.paused_until {
            return false;
        }
        self.refill(now);
        let need = (1 + keep) * MINUTE;
        if self.units >= need {
            self.units -= MINUTE;
            return true;
        }
        false
    }

    /// When [`Bucket::take`] with `keep` succeeds at the earliest (the pause included).
    fn ready_at(&self, keep: i64) -> i64 {
        let need = (1 + keep) * MINUTE;
        let per_ms = i64::from(self.budget.per_minute.max(1));
        let filled = if self.units >= need {
            self.at
        } else {
            self.at + (need - self.units + per_ms - 1) / per_ms
        };
        filled.max(self.paused_until)
    }

    /// How many tokens a link leaves for the counter: one, when the burst allows a second.
    fn kept_for_counter(&self) -> i64 {
        i64::from(self.budget.burst >= 2)
    }
}

/// What the scheduler knows of one followed session: its facts and its turn, nothing else
/// (no order, no URL: 10,000 open links are a few hundred kilobytes here).
#[derive(Debug, Clone)]
struct Entry {
    id: Arc<str>,
    /// Its provider's lane (`Scheduler::lanes`) and its profile (`Scheduler::profiles`).
    lane: u16,
    profile: u16,
    sale: SaleKind,
    /// The status last seen: in the session log or asking the provider.
    status: Status,
    created_at: i64,
    expires_at: Option<i64>,
    /// When it is due. Held back by its provider's budget, it keeps this time (and its place
    /// in the queue), so that the session waiting longest goes first: fair under a tight
    /// budget.
    next_at: i64,
    /// Bumped whenever it is queued again, so stale queue items are skipped.
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

/// (due at, turn, slot), earliest first; items whose turn is not the entry's latest are
/// stale and skipped.
type Queue = BinaryHeap<Reverse<(i64, u64, u32)>>;

/// One provider: its budget and its two queues. A queue whose head its budget holds back is
/// left as it is: nothing behind the head can go first, so a wake-up costs a look at each
/// provider's heads, not a pass over every session waiting for the budget.
#[derive(Debug)]
struct Lane {
    provider: String,
    bucket: Bucket,
    /// The counter's queue (see [`Entry::urgent`]), served first.
    urgent: Queue,
    /// The links' queue.
    links: Queue,
}

/// The scheduler (see the module doc).
#[derive(Debug, Default)]
pub struct Scheduler {
    /// The followed sessions; a removed one's slot is reused (`free`).
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    by_id: HashMap<Arc<str>, u32>,
    lanes: Vec<Lane>,
    profiles: Vec<String>,
    /// Asked after their expiry and still open (the status then): left alone until the next
    /// start.
    settled: HashMap<Box<str>, Status>,
    next_turn: u64,
}

impl Scheduler {
    pub fn new() -> Scheduler {
        Scheduler::default()
    }

    /// Follows exactly the sessions in `open` (the session log's open and unknown sessions):
    /// those not followed yet are due at once, those followed have their facts brought up to
    /// date ([`Scheduler::follow`]), and those no longer in it (finished elsewhere) are
    /// forgotten. Returns those forgotten, with the status each was last seen with.
    pub fn sync(&mut self, open: &[FollowedSession], now: i64) -> Vec<(String, Status)> {
        let ids: HashSet<&str> = open.iter().map(|s| s.id.as_str()).collect();
        let gone: Vec<String> = self
            .by_id
            .keys()
            .map(|id| &**id)
            .chain(self.settled.keys().map(|id| &**id))
            .filter(|id| !ids.contains(id))
            .map(str::to_string)
            .collect();
        let gone = gone
            .into_iter()
            .filter_map(|id| self.forget(&id).map(|status| (id, status)))
            .collect();
        for s in open {
            self.follow(s, now);
        }
        self.tidy();
        gone
    }

    /// Follows session `s` (open or unknown in the session log). New to the scheduler, it is
    /// first due [`FIRST_ASK_MS`] after its creation, at once if that has passed.
    /// Followed already, its facts are brought up to date: an expiry it learned (an unknown
    /// session found open) or moved brings its next ask forward to the last call if that is
    /// sooner. Asked after its expiry already ([`Scheduler::settled`]): left alone.
    pub fn follow(&mut self, s: &FollowedSession, now: i64) {
        if let Some(status) = self.settled.get_mut(s.id.as_str()) {
            *status = s.status;
            return;
        }
        if let Some(&slot) = self.by_id.get(s.id.as_str()) {
            let e = self.slots[slot as usize].as_mut().expect("indexed");
            e.status = s.status;
            if (e.sale, e.created_at, e.expires_at) == (s.sale, s.created_at, s.expires_at) {
                return;
            }
            e.sale = s.sale;
            e.created_at = s.created_at;
            e.expires_at = s.expires_at;
            if e.asking {
                // `done` schedules it with the new facts.
                return;
            }
            // Queued again even at the same time: a sale that became a counter sale (or the
            // reverse) changes queues.
            let next = match e.last_call() {
                Some(last) => e.next_at.min(last.max(now)),
                None => e.next_at,
            };
            self.queue(slot, next);
            self.tidy();
            return;
        }
        let lane = self.lane(&s.provider, now);
        let profile = match self.profiles.iter().position(|p| *p == s.profile) {
            Some(i) => i,
            None => {
                self.profiles.push(s.profile.clone());
                self.profiles.len() - 1
            }
        };
        let id: Arc<str> = Arc::from(s.id.as_str());
        let at = first_ask(s.created_at, now);
        let entry = Entry {
            id: id.clone(),
            lane,
            profile: u16::try_from(profile).expect("fewer than 65,536 profiles"),
            sale: s.sale,
            status: s.status,
            created_at: s.created_at,
            expires_at: s.expires_at,
            next_at: at,
            turn: 0,
            failures: 0,
            nudged_until: i64::MIN,
            asking: false,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(entry);
                slot
            }
            None => {
                self.slots.push(Some(entry));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2³² sessions")
            }
        };
        self.by_id.insert(id, slot);
        self.queue(slot, at);
    }

    /// Asks every session followed at once (`kassa-cli follow --once`: each open session once,
    /// now, the young ones too), then at its cadence.
    pub fn all_due_now(&mut self, now: i64) {
        let idle: Vec<u32> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, e)| e.as_ref().is_some_and(|e| !e.asking))
            .map(|(slot, _)| slot as u32)
            .collect();
        for slot in idle {
            self.queue(slot, now);
        }
        self.tidy();
    }

    /// Stops following session `id` (it left the open sessions: paid, cancelled, … elsewhere).
    /// Returns the status it was last seen with, if it was followed (or settled).
    pub fn forget(&mut self, id: &str) -> Option<Status> {
        if let Some(status) = self.settled.remove(id) {
            return Some(status);
        }
        let slot = self.by_id.remove(id)?;
        let status = self.slots[slot as usize].as_ref().map(|e| e.status);
        self.remove_slot(slot);
        self.tidy();
        status
    }

    fn remove_slot(&mut self, slot: u32) {
        // Its queue item, if any, is stale from now on: the slot is empty or holds a session
        // with a later turn.
        if let Some(e) = self.slots[slot as usize].take() {
            self.by_id.remove(&e.id);
            self.free.push(slot);
        }
    }

    /// The lane of `provider`, made with a full bucket if it is new.
    fn lane(&mut self, provider: &str, now: i64) -> u16 {
        let i = match self.lanes.iter().position(|l| l.provider == provider) {
            Some(i) => i,
            None => {
                self.lanes.push(Lane {
                    provider: provider.to_string(),
                    bucket: Bucket::new(Budget::for_provider(provider), now),
                    urgent: Queue::new(),
                    links: Queue::new(),
                });
                self.lanes.len() - 1
            }
        };
        u16::try_from(i).expect("fewer than 65,536 providers")
    }

    /// Queues the session in `slot` to be asked at `at` (its earlier queue item goes stale).
    fn queue(&mut self, slot: u32, at: i64) {
        self.next_turn += 1;
        let turn = self.next_turn;
        if let Some(e) = self.slots[slot as usize].as_mut() {
            e.next_at = at;
            e.turn = turn;
            e.asking = false;
            let lane = &mut self.lanes[e.lane as usize];
            let queue = if e.urgent(at) {
                &mut lane.urgent
            } else {
                &mut lane.links
            };
            queue.push(Reverse((at, turn, slot)));
        }
    }

    /// Whether a queue item is the session's current turn.
    fn live(slots: &[Option<Entry>], turn: u64, slot: u32) -> bool {
        slots[slot as usize]
            .as_ref()
            .is_some_and(|e| e.turn == turn && !e.asking)
    }

    /// Drops stale items from the head of every queue, so each head is a session's turn.
    fn tidy(&mut self) {
        for lane in &mut self.lanes {
            for queue in [&mut lane.urgent, &mut lane.links] {
                while let Some(Reverse((_, turn, slot))) = queue.peek() {
                    if Scheduler::live(&self.slots, *turn, *slot) {
                        break;
                    }
                    queue.pop();
                }
            }
        }
    }

    /// The sessions to ask now, within their providers' budgets. Each must be reported back
    /// with [`Scheduler::done`]; those a budget holds back stay first in their queue.
    pub fn due(&mut self, now: i64) -> Vec<Due> {
        let mut out = Vec::new();
        for lane in 0..self.lanes.len() {
            self.take_due(lane, true, now, &mut out);
            self.take_due(lane, false, now, &mut out);
        }
        self.tidy();
        out
    }

    /// Hands out what is due in one of `lane`'s queues while its budget allows.
    fn take_due(&mut self, lane: usize, counter: bool, now: i64, out: &mut Vec<Due>) {
        let Lane {
            provider,
            bucket,
            urgent,
            links,
        } = &mut self.lanes[lane];
        let (queue, keep) = if counter {
            (urgent, 0)
        } else {
            (links, bucket.kept_for_counter())
        };
        while let Some(Reverse((at, turn, slot))) = queue.peek() {
            if *at > now {
                break;
            }
            let (turn, slot) = (*turn, *slot);
            if !Scheduler::live(&self.slots, turn, slot) {
                queue.pop();
                continue;
            }
            if !bucket.take(now, keep) {
                // The head waits for a token, and so does everything behind it.
                break;
            }
            queue.pop();
            let e = self.slots[slot as usize].as_mut().expect("live");
            e.asking = true;
            out.push(Due {
                id: e.id.to_string(),
                provider: provider.clone(),
                profile: self.profiles[e.profile as usize].clone(),
            });
        }
    }

    /// Reports what asking session `id` gave at `now`.
    pub fn done(&mut self, id: &str, asked: Asked, now: i64) {
        let Some(&slot) = self.by_id.get(id) else {
            return;
        };
        let e = self.slots[slot as usize].as_mut().expect("indexed");
        match asked {
            Asked::Status(s) if s.is_final() || s == Status::NeedsReview => {
                self.remove_slot(slot);
            }
            Asked::Status(status) => {
                e.failures = 0;
                e.status = status;
                if e.last_call().is_some_and(|last| now >= last) {
                    // The last call after the expiry was made: settled for this run.
                    self.remove_slot(slot);
                    self.settled.insert(id.into(), status);
                } else {
                    let next = e.next_after(now);
                    self.queue(slot, next);
                }
            }
            Asked::RateLimited { retry_after_ms } => {
                let until = now + retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS).max(SECOND);
                let bucket = &mut self.lanes[e.lane as usize].bucket;
                bucket.paused_until = bucket.paused_until.max(until);
                self.queue(slot, until);
            }
            Asked::Failed => {
                e.failures += 1;
                let backoff = (COUNTER_MS << e.failures.min(10)).min(MAX_BACKOFF_MS);
                let next = e.next_after(now).max(now + backoff);
                self.queue(slot, next);
            }
        }
        self.tidy();
    }

    /// Staff opened session `id`: ask it at once, and at the counter cadence for a minute.
    pub fn nudge(&mut self, id: &str, now: i64) {
        let Some(&slot) = self.by_id.get(id) else {
            return;
        };
        let e = self.slots[slot as usize].as_mut().expect("indexed");
        e.nudged_until = now + NUDGE_MS;
        if !e.asking {
            self.queue(slot, now);
            self.tidy();
        }
    }

    /// When the next session can be asked (None: nothing to follow): each provider's first
    /// in each queue, or later when its budget holds it back. A look at each provider, not
    /// at each session.
    pub fn next_due(&self) -> Option<i64> {
        self.lanes
            .iter()
            .flat_map(|lane| {
                let urgent = lane
                    .urgent
                    .peek()
                    .map(|Reverse((at, ..))| (*at).max(lane.bucket.ready_at(0)));
                let links = lane.links.peek().map(|Reverse((at, ..))| {
                    (*at).max(lane.bucket.ready_at(lane.bucket.kept_for_counter()))
                });
                [urgent, links]
            })
            .flatten()
            .min()
    }

    /// When session `id` is due next (None: not followed, or being asked now).
    pub fn due_at(&self, id: &str) -> Option<i64> {
        let slot = *self.by_id.get(id)?;
        self.slots[slot as usize]
            .as_ref()
            .filter(|e| !e.asking)
            .map(|e| e.next_at)
    }

    /// The status session `id` was last seen with (in the session log, or asking its
    /// provider), while it is followed or settled.
    pub fn status(&self, id: &str) -> Option<Status> {
        match self.by_id.get(id) {
            Some(&slot) => self.slots[slot as usize].as_ref().map(|e| e.status),
            None => self.settled.get(id).copied(),
        }
    }

    /// The sessions followed (not those settled).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(|id| &**id)
    }

    /// How many sessions are followed.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Sessions asked after their expiry and left alone until the next start.
    pub fn settled(&self) -> impl Iterator<Item = &str> {
        self.settled.keys().map(|id| &**id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;
    /// Made long enough before `T0` to be due at `T0` when first followed.
    const MADE: i64 = T0 - FIRST_ASK_MS;

    fn session(
        id: &str,
        provider: &str,
        sale: SaleKind,
        created: i64,
        expires: i64,
    ) -> FollowedSession {
        FollowedSession {
            id: id.into(),
            provider: provider.into(),
            profile: "test".into(),
            sale,
            status: Status::Open,
            created_at: created,
            expires_at: Some(expires),
        }
    }

    /// `n` links of `provider` made at `MADE`, good for a week: ids `L0000`, `L0001`, …
    fn week_links(n: usize, provider: &str) -> Vec<FollowedSession> {
        (0..n)
            .map(|i| {
                session(
                    &format!("L{i:04}"),
                    provider,
                    SaleKind::Link,
                    MADE,
                    T0 + 7 * 24 * 60 * MINUTE,
                )
            })
            .collect()
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
                session("C", "dintero", SaleKind::Counter, MADE, T0 + 15 * MINUTE),
                session("L", "dintero", SaleKind::Link, MADE, T0 + 24 * 60 * MINUTE),
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
                session("A", "dintero", SaleKind::Counter, MADE, T0 + MINUTE),
                session("B", "dintero", SaleKind::Counter, MADE, T0 + MINUTE),
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
        let links = week_links(500, "commercelayer");
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
            MADE,
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
                session("A", "dintero", SaleKind::Counter, MADE, T0 + 15 * MINUTE),
                session("B", "dintero", SaleKind::Counter, MADE, T0 + 15 * MINUTE),
                session("K", "klarna", SaleKind::Counter, MADE, T0 + 15 * MINUTE),
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
        let mut open = week_links(3000, "dintero");
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
        assert_eq!(
            c[0],
            T0 + MINUTE + FIRST_ASK_MS,
            "asked 2 s after its creation, ahead of the links waiting since T0"
        );
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

    #[test]
    fn links_held_back_by_the_budget_keep_their_place_and_the_next_wake_up_is_the_next_token() {
        let mut s = Scheduler::new();
        let links = week_links(2000, "dintero");
        s.sync(&links, T0);
        let budget = Budget::for_provider("dintero");
        // The burst less the token left for the counter, then nothing until the next token.
        let first = s.due(T0);
        assert_eq!(first.len() as u32, budget.burst - 1);
        for d in &first {
            s.done(&d.id, Asked::Status(Status::Open), T0);
        }
        let token_ms = MINUTE / i64::from(budget.per_minute);
        assert_eq!(s.next_due(), Some(T0 + token_ms));
        assert!(s.due(T0 + token_ms - 1).is_empty());
        // The next in line is the one waiting longest: the 10th link (ids sorted, due at T0
        // like all the others), not one asked already.
        let next = s.due(T0 + token_ms);
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].id, format!("L{:04}", budget.burst - 1));
        // Waiting for the budget did not move anyone's due time.
        assert_eq!(s.due_at("L1999"), Some(T0));
    }

    #[test]
    fn following_a_session_again_keeps_one_entry_and_one_ask() {
        let mut s = Scheduler::new();
        let a = session("A", "klarna", SaleKind::Link, MADE, T0 + 60 * MINUTE);
        s.follow(&a, T0);
        s.follow(&a, T0 + 10);
        s.sync(std::slice::from_ref(&a), T0 + 20);
        assert_eq!(s.len(), 1);
        assert_eq!(s.due(T0 + 20).len(), 1);
        // Being asked: read again meanwhile, it is not handed out a second time.
        s.follow(&a, T0 + 30);
        s.sync(std::slice::from_ref(&a), T0 + 40);
        assert!(s.due(T0 + 40).is_empty());
        s.done("A", Asked::Status(Status::Open), T0 + 50);
        assert_eq!(s.due_at("A"), Some(T0 + 50 + 10 * SECOND));
        assert_eq!(
            run(&mut s, T0 + 100, T0 + 11 * SECOND)["A"],
            vec![T0 + 10_100]
        );
    }

    #[test]
    fn a_sessions_new_expiry_brings_its_last_call_forward_and_forget_ends_it() {
        let mut s = Scheduler::new();
        // An unknown session (its create's answer was lost): no expiry known.
        let mut u = session("U", "dintero", SaleKind::Link, T0 - 2 * 60 * MINUTE, 0);
        u.status = Status::Unknown;
        u.expires_at = None;
        s.follow(&u, T0);
        run(&mut s, T0, T0);
        assert_eq!(s.due_at("U"), Some(T0 + 5 * MINUTE), "a 2-hour-old link");
        assert_eq!(s.status("U"), Some(Status::Open), "as the ask said");
        // Reconciled elsewhere: open, expiring in a minute. The last call comes first now.
        u.status = Status::Open;
        u.expires_at = Some(T0 + MINUTE);
        s.follow(&u, T0 + 1_000);
        assert_eq!(s.due_at("U"), Some(T0 + MINUTE + AFTER_EXPIRY_MS));
        // The same facts again change nothing; a later expiry does not put the ask off.
        s.follow(&u, T0 + 2_000);
        assert_eq!(s.due_at("U"), Some(T0 + MINUTE + AFTER_EXPIRY_MS));
        u.expires_at = Some(T0 + 60 * MINUTE);
        s.follow(&u, T0 + 3_000);
        assert_eq!(s.due_at("U"), Some(T0 + MINUTE + AFTER_EXPIRY_MS));
        // Paid elsewhere: forgotten, with the status last seen; nothing left to wake for.
        assert_eq!(s.forget("U"), Some(Status::Open));
        assert_eq!(s.forget("U"), None);
        assert!(s.is_empty() && s.next_due().is_none());
    }

    #[test]
    fn a_new_session_is_first_asked_2_s_after_its_creation_and_one_made_earlier_at_once() {
        let mut s = Scheduler::new();
        let open = [
            session("NEW", "dintero", SaleKind::Counter, T0, T0 + 15 * MINUTE),
            session(
                "SECOND",
                "dintero",
                SaleKind::Counter,
                T0 - 1_500,
                T0 + 15 * MINUTE,
            ),
            session("LINK", "dintero", SaleKind::Link, T0, T0 + 60 * MINUTE),
            session(
                "OLD",
                "klarna",
                SaleKind::Counter,
                T0 - MINUTE,
                T0 + 15 * MINUTE,
            ),
            // Made by another till whose clock is a minute ahead: not put off for a minute.
            session(
                "AHEAD",
                "klarna",
                SaleKind::Link,
                T0 + MINUTE,
                T0 + 60 * MINUTE,
            ),
        ];
        s.sync(&open, T0);
        assert_eq!(s.due_at("NEW"), Some(T0 + 2_000));
        assert_eq!(s.due_at("SECOND"), Some(T0 + 500));
        assert_eq!(s.due_at("LINK"), Some(T0 + 2_000));
        assert_eq!(s.due_at("OLD"), Some(T0));
        assert_eq!(s.due_at("AHEAD"), Some(T0 + 2_000));
        let asked = run(&mut s, T0, T0 + 4 * SECOND);
        assert_eq!(asked["NEW"], [T0 + 2_000, T0 + 4_000]);
        assert_eq!(asked["SECOND"], [T0 + 500, T0 + 2_500]);
        assert_eq!(asked["LINK"], [T0 + 2_000], "then every 10 s");
        assert_eq!(asked["OLD"], [T0, T0 + 2_000, T0 + 4_000]);

        // `follow --once`: everything now, the young ones too, each once.
        let mut s = Scheduler::new();
        s.sync(&open, T0);
        s.all_due_now(T0 + 10);
        let mut due: Vec<String> = s.due(T0 + 10).into_iter().map(|d| d.id).collect();
        due.sort();
        assert_eq!(due, ["AHEAD", "LINK", "NEW", "OLD", "SECOND"]);
        assert!(s.due(T0 + 10).is_empty());
    }
}
