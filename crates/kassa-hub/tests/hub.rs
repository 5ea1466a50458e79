//! The hub against a real PostgreSQL (a throwaway cluster per test, `kassa_hub::cluster`) and
//! tills' real SQLite session logs in temporary directories. Sales are signed with the core's
//! in-memory keyring (so a bare `cargo test` runs these); `kassa-cli`'s `tests/hub.rs` sells
//! through the CLI with the OS keyring.

use kassa_core::catalog::{PriceChange, Product};
use kassa_core::journal::Kind;
use kassa_core::secrets::Secret;
use kassa_core::settings::HubUrl;
use kassa_core::store::{NewEvent, SessionLog};
use kassa_hub::cluster::Cluster;
use kassa_hub::{push_once, Hub, HubError};
use std::path::PathBuf;

/// The throwaway clusters' password: distinctive, for the secrets audit's ledger.
const PASSWORD: &str = "hub-test-pw-Qx7mT2vL9c";

struct Till {
    dir: PathBuf,
    log: SessionLog,
    register: String,
}

impl Till {
    fn new(test: &str, register: &str) -> Till {
        let dir = std::env::temp_dir().join(format!(
            "kassa-hub-{test}-{register}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = kassa_hub::demo_till::open(&dir, register);
        Till {
            dir,
            log,
            register: register.into(),
        }
    }

    /// A paid demo sale: its session (intent, unknown, paid) and its signed journal entry.
    fn sell(&mut self, at: i64, reference: &str) -> String {
        kassa_hub::demo_till::sell(&mut self.log, at, reference)
    }

    fn push(&mut self, hub: &Hub) -> Result<kassa_hub::PushReport, HubError> {
        push_once(&mut self.log, hub, &self.register.clone())
    }

    fn journal_len(&self) -> i64 {
        self.log.journal_entries(&Default::default()).unwrap().len() as i64
    }
}

impl Drop for Till {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn hub(cluster: &Cluster, password: &str) -> Hub {
    kassa_sandbox::ledger(&[password]);
    Hub::new(
        HubUrl::parse(&cluster.url()).unwrap(),
        Some(&Secret::new(password.to_string())),
    )
}

fn count(hub: &Hub, sql: &str) -> i64 {
    hub.connection()
        .unwrap()
        .query_one(sql, &[])
        .unwrap()
        .get(0)
}

const T0: i64 = 1_795_285_381_000;

#[test]
fn two_tills_selling_at_once_reach_one_hub_each_chain_whole_and_nothing_twice() {
    let cluster = Cluster::start("two-tills", PASSWORD);
    let url = cluster.url();
    let sellers: Vec<_> = ["A", "B"]
        .into_iter()
        .map(|register| {
            let url = url.clone();
            std::thread::spawn(move || {
                let hub = Hub::new(
                    HubUrl::parse(&url).unwrap(),
                    Some(&Secret::new(PASSWORD.to_string())),
                );
                let mut till = Till::new("two-tills", register);
                for i in 0..30 {
                    till.sell(T0 + i * 10_000, &format!("{register}-{i}"));
                    // The sender runs beside the sales, every few of them.
                    if i % 4 == 3 {
                        till.push(&hub).unwrap();
                    }
                }
                let report = till.push(&hub).unwrap();
                assert!(report.refusals.is_empty(), "{:?}", report.refusals);
                let pending = till.log.outbox_pending().unwrap();
                assert_eq!(
                    (pending.sessions, pending.operations, pending.journal),
                    (0, 0, 0)
                );
                till.journal_len()
            })
        })
        .collect();
    let lens: Vec<i64> = sellers.into_iter().map(|t| t.join().unwrap()).collect();
    let hub = hub(&cluster, PASSWORD);
    assert_eq!(count(&hub, "SELECT count(*) FROM sessions"), 60);
    assert_eq!(
        count(&hub, "SELECT count(*) FROM sessions WHERE status = 'paid'"),
        60
    );
    for (register, len) in ["A", "B"].iter().zip(&lens) {
        let held = count(
            &hub,
            &format!("SELECT count(*) FROM journal WHERE register_id = '{register}'"),
        );
        let head = count(
            &hub,
            &format!("SELECT head_seq FROM registers WHERE register_id = '{register}'"),
        );
        assert_eq!((held, head), (*len, *len), "register {register}");
    }
    assert_eq!(
        count(&hub, "SELECT count(*) FROM journal WHERE kind = 'sale'"),
        60
    );
    assert_eq!(count(&hub, "SELECT count(*) FROM refusals"), 0);
}

#[test]
fn with_the_hub_stopped_the_till_sells_on_and_catches_up_with_nothing_lost_or_twice() {
    let cluster = Cluster::start("stopped", PASSWORD);
    let hub = hub(&cluster, PASSWORD);
    let mut till = Till::new("stopped", "1");
    for i in 0..5 {
        till.sell(T0 + i * 1000, &format!("M-{i}"));
    }
    till.push(&hub).unwrap();
    cluster.stop();
    for i in 5..12 {
        till.sell(T0 + i * 1000, &format!("M-{i}"));
        let e = till.push(&hub).unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(e.to_string().contains("cannot reach the hub"), "{e}");
    }
    let pending = till.log.outbox_pending().unwrap();
    assert_eq!(pending.sessions, 7, "the sales since the hub stopped wait");
    assert!(pending.journal >= 7);
    cluster.restart();
    let report = till.push(&hub).unwrap();
    assert!(report.refusals.is_empty());
    assert_eq!(count(&hub, "SELECT count(*) FROM sessions"), 12);
    assert_eq!(
        count(&hub, "SELECT count(*) FROM journal"),
        till.journal_len()
    );
    assert_eq!(
        count(&hub, "SELECT count(*) FROM journal WHERE kind = 'sale'"),
        12
    );
    assert_eq!(till.log.outbox_pending().unwrap().journal, 0);
}

#[test]
fn a_push_repeated_after_a_lost_acknowledgement_stores_nothing_twice() {
    let cluster = Cluster::start("resend", PASSWORD);
    let hub = hub(&cluster, PASSWORD);
    let mut till = Till::new("resend", "1");
    for i in 0..4 {
        till.sell(T0 + i * 1000, &format!("R-{i}"));
    }
    till.push(&hub).unwrap();
    // As if the till died after the hub committed and before it recorded the
    // acknowledgement: its positions go back to nothing pushed.
    let db = till.dir.join("sessions.db");
    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute_batch(
        "DELETE FROM hub_pushed;
         INSERT INTO hub_outbox (kind, key, at_ms) SELECT 'session', id, updated_at FROM sessions;",
    )
    .unwrap();
    let report = till.push(&hub).unwrap();
    assert_eq!(report.journal, 0, "every entry was already there");
    assert!(report.refusals.is_empty());
    assert_eq!(count(&hub, "SELECT count(*) FROM sessions"), 4);
    assert_eq!(
        count(&hub, "SELECT count(*) FROM journal"),
        till.journal_len()
    );
}

#[test]
fn a_tampered_entry_is_refused_by_the_hubs_chain_check_and_nothing_after_it_is_taken() {
    let cluster = Cluster::start("tampered", PASSWORD);
    let hub = hub(&cluster, PASSWORD);
    let mut till = Till::new("tampered", "1");
    for i in 0..3 {
        till.sell(T0 + i * 1000, &format!("T-{i}"));
    }
    till.push(&hub).unwrap();
    let pushed = till.journal_len();
    for i in 3..6 {
        till.sell(T0 + i * 1000, &format!("T-{i}"));
    }
    // Someone changes an amount behind the triggers, before the sender gets to it.
    let tampered = pushed + 2;
    let raw = rusqlite::Connection::open(till.dir.join("sessions.db")).unwrap();
    raw.execute_batch(&format!(
        "DROP TRIGGER journal_append_only_update;
         UPDATE journal SET body = replace(body, '6900', '690') WHERE seq = {tampered};"
    ))
    .unwrap();
    let report = till.push(&hub).unwrap();
    assert_eq!(report.refusals.len(), 1, "{:?}", report.refusals);
    let refusal = &report.refusals[0];
    assert_eq!(refusal.seq, tampered);
    assert!(
        refusal.reason.contains("hash does not match its content"),
        "{refusal:?}"
    );
    assert_eq!(
        count(&hub, "SELECT head_seq FROM registers"),
        tampered - 1,
        "the entries before it are taken, it and those after are not"
    );
    assert_eq!(
        count(
            &hub,
            &format!("SELECT count(*) FROM refusals WHERE seq = {tampered}")
        ),
        1,
        "the refusal is kept on the hub"
    );
    // The till's outbox keeps what was refused: nothing is dropped.
    assert_eq!(
        till.log.outbox_pending().unwrap().journal,
        till.journal_len() - (tampered - 1)
    );
}

#[test]
fn an_entry_inserted_out_of_order_is_refused_by_the_hub_itself() {
    let cluster = Cluster::start("gap", PASSWORD);
    let hub = hub(&cluster, PASSWORD);
    let mut till = Till::new("gap", "1");
    for i in 0..3 {
        till.sell(T0 + i * 1000, &format!("G-{i}"));
    }
    till.push(&hub).unwrap();
    let head = count(&hub, "SELECT head_seq FROM registers");
    // A client that skips the checks (straight SQL) meets the trigger: a gap, a bad link.
    let mut conn = hub.connection().unwrap();
    let gap = conn.execute(
        "INSERT INTO journal (register_id, seq, kind, event_code, at_ms, local_date, local_time,
            body, prev_hash, hash)
         SELECT register_id, seq + 2, kind, event_code, at_ms, local_date, local_time, body,
            hash, hash FROM journal WHERE seq = $1",
        &[&head],
    );
    assert!(db_message(gap).contains("entries missing between"));
    let bad_link = conn.execute(
        "INSERT INTO journal (register_id, seq, kind, event_code, at_ms, local_date, local_time,
            body, prev_hash, hash)
         SELECT register_id, seq + 1, kind, event_code, at_ms, local_date, local_time, body,
            prev_hash, hash FROM journal WHERE seq = $1",
        &[&head],
    );
    assert!(db_message(bad_link).contains("does not link"));
    let rewrite = conn.execute("UPDATE journal SET body = '{}' WHERE seq = 1", &[]);
    assert!(db_message(rewrite).contains("append-only"));
}

fn db_message(r: Result<u64, postgres::Error>) -> String {
    r.unwrap_err()
        .as_db_error()
        .expect("refused by the hub")
        .message()
        .to_string()
}

#[test]
fn two_tills_under_one_register_id_are_refused_as_a_fork() {
    let cluster = Cluster::start("fork", PASSWORD);
    let hub = hub(&cluster, PASSWORD);
    let mut a = Till::new("fork-a", "1");
    let mut b = Till::new("fork-b", "1");
    a.sell(T0, "F-A");
    b.sell(T0 + 5, "F-B");
    a.push(&hub).unwrap();
    let report = b.push(&hub).unwrap();
    assert_eq!(report.refusals.len(), 1, "{:?}", report.refusals);
    assert!(report.refusals[0].reason.contains("same register.id"));
    assert_eq!(count(&hub, "SELECT count(*) FROM refusals"), 1);
}

#[test]
fn a_wrong_password_is_named_and_loses_nothing() {
    let cluster = Cluster::start("password", PASSWORD);
    let mut till = Till::new("password", "1");
    till.sell(T0, "P-1");
    let before = till.log.outbox_pending().unwrap();
    let wrong = hub(&cluster, "not-the-hub-pw-Zr4kW8");
    let e = till.push(&wrong).unwrap_err();
    assert!(matches!(e, HubError::WrongPassword { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("refused the password of user kassa"),
        "{text}"
    );
    assert!(
        text.contains("kassa-cli credentials set hub password"),
        "{text}"
    );
    assert!(
        !text.contains("not-the-hub-pw"),
        "the password never in a message"
    );
    let after = till.log.outbox_pending().unwrap();
    assert_eq!(
        (after.sessions, after.journal),
        (before.sessions, before.journal)
    );
    let report = till.push(&hub(&cluster, PASSWORD)).unwrap();
    assert_eq!(report.sessions, 1);
}

#[test]
fn a_product_added_on_one_till_reaches_the_other_through_the_hub() {
    let cluster = Cluster::start("products", PASSWORD);
    let hub = hub(&cluster, PASSWORD);
    let mut a = Till::new("products", "A");
    let b = Till::new("products", "B");
    // What `Till::save_product` and `kassa-cli product add` journal.
    a.log
        .journal_event(&NewEvent {
            kind: Kind::PriceChange,
            operator_id: Some(1),
            session_id: None,
            ref_seq: None,
            body: PriceChange::saved(
                None,
                &Product {
                    sku: "KAFFE-1".into(),
                    name: "Kaffe".into(),
                    unit_price: 3450,
                    vat_rate: "15".into(),
                    favourite: false,
                },
            )
            .to_json(),
            at: T0,
        })
        .unwrap();
    a.push(&hub).unwrap();
    assert_eq!(kassa_hub::pull_products(&hub, &b.dir).unwrap(), 1);
    let cached = kassa_core::catalog::Catalog::load(&b.dir).unwrap();
    let line = cached
        .line_for("KAFFE-1")
        .expect("on till B from the cache");
    assert_eq!((line.unit_price, line.vat_rate.as_str()), (3450, "15"));
    // The background sender asks every round: an unchanged list is not written again (the
    // desktop reloads its list only when this says it changed).
    let written = std::fs::metadata(b.dir.join("products.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        kassa_hub::pull_products_if_changed(&hub, &b.dir).unwrap(),
        None
    );
    assert_eq!(
        std::fs::metadata(b.dir.join("products.json"))
            .unwrap()
            .modified()
            .unwrap(),
        written
    );
    // Offline, the cache still sells it.
    cluster.stop();
    assert!(kassa_hub::pull_products(&hub, &b.dir).is_err());
    assert!(kassa_core::catalog::Catalog::load(&b.dir)
        .unwrap()
        .line_for("KAFFE-1")
        .is_some());
}

/// What the sender pushes and how: a sale reaches the hub as soon as the till commits it (the
/// idle round is a minute away here), over one connection kept from round to round (the
/// shipped sender once opened a new one a second: ~10 ms of the hub's CPU each, BENCHMARKS.md).
#[test]
fn the_sender_pushes_each_sale_as_it_commits_over_one_kept_connection() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let cluster = Cluster::start("sender", PASSWORD);
    let hub = hub(&cluster, PASSWORD);
    let mut till = Till::new("sender", "S1");
    let keyring =
        kassa_hub::demo_till::configure_hub(&till.dir, "S1", &cluster.url(), None, PASSWORD);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (dir, stop) = (till.dir.clone(), stop.clone());
        std::thread::spawn(move || {
            let sender = kassa_hub::Sender {
                interval: Duration::from_secs(60),
                poll: Duration::from_millis(50),
                ..kassa_hub::Sender::new(&dir)
            };
            sender.run(&keyring, &stop, |r| assert!(r.is_ok(), "{r:?}"));
        })
    };
    // The sender's connections as the hub sees them (not this test's own).
    let senders = || -> Vec<i32> {
        hub.connection()
            .unwrap()
            .query(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'
                   AND datname = current_database() AND pid <> pg_backend_pid() ORDER BY pid",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let mut seen = Vec::new();
    for i in 0..3 {
        let reference = format!("S1-PROMPT-{i}");
        till.sell(T0 + i * 1_000, &reference);
        let deadline = Instant::now() + Duration::from_secs(20);
        while count(
            &hub,
            &format!("SELECT count(*) FROM sessions WHERE merchant_reference = '{reference}'"),
        ) == 0
        {
            assert!(
                Instant::now() < deadline,
                "sale {reference} not pushed: the sender waits for its idle round"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        seen.push(senders());
    }
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    assert_eq!(seen[0].len(), 1, "one connection of the sender's: {seen:?}");
    assert!(seen.iter().all(|s| s == &seen[0]), "kept: {seen:?}");
    assert_eq!(
        count(
            &hub,
            "SELECT count(*) FROM journal WHERE register_id = 'S1'"
        ),
        till.journal_len()
    );
}
