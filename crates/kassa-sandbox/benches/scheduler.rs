//! The scheduler with 10,000 open link sessions (issue #22, "Performance"):
//! `cargo bench -p kassa-sandbox --bench scheduler [-- --links N --seconds S]`.
//!
//! A benchmark: it reports, it asserts no time. What it runs:
//!
//! - **The emulators in their own process** (this program again, `--serve-sandbox`), so that
//!   the CPU and memory measured are the till's alone; every request goes over loopback.
//! - **10,000 link sales made through the core** (`checkout::start`: intent, provider create,
//!   answer, exactly as `kassa-cli charge --link`), spread evenly over Dintero, Bambora (its
//!   Payment Requests) and Klarna, 7-day links (Klarna clamps to its 47 hours). Their start
//!   time is set back so that the links fall in the four cadence bands: 5 % under 10 minutes
//!   old, 15 % under an hour, 40 % under a day, 40 % one to one and a half days. That is the
//!   cheapest honest bulk load: the emulators and the session log hold what a real charge
//!   leaves, only the age is made up (the emulators never see it; the scheduler reads it from
//!   the log). Four counter sales per provider are started just before following.
//! - **Following as `kassa-cli follow` does** (`follow_cmd.rs`): one `Scheduler` kept up to
//!   date with the log by a `till::LogWatch` (what changed, every 5 s; every open session,
//!   every 5 minutes), `due` → `checkout::refresh` → `done`, then a sleep until the next
//!   session is due. The loop here takes its clock from [`Clock`]:
//!   1. **real time** for `--seconds` (default 180): status reads per provider per minute,
//!      the process's CPU (`/proc/self/stat`, user + system, as % of one core over the
//!      phase's wall time) and memory (`/proc/self/smaps_rollup` RSS and PSS at its end: an
//!      upper bound, as this process also made the links; a process of their own could not
//!      start their sales, the journal's key being in this one's in-memory keyring), and
//!      each counter sale paid in turn (an emulator control call) → seen `paid` by the loop;
//!   2. **virtual time**: the scheduler takes time as an input (`schedule.rs` does no I/O),
//!      so the loop's sleeps are skipped by moving the clock forward instead of sleeping; the
//!      provider reads stay real. One link of each provider in each band is paid, and the
//!      virtual time until the loop sees it no longer open is its latency: a 15-minute band
//!      costs seconds, not hours.
//!
//! Prints Markdown (BENCHMARKS.md has the figures and the machine).

use kassa_core::checkout::{self, ChargeRequest, CheckoutError};
use kassa_core::http::{Http, HttpConfig, Method, Request};
use kassa_core::link::{Lifetime, LinkSale, Sale};
use kassa_core::operator::Authenticated;
use kassa_core::provider::bambora::{Bambora, BamboraConfig};
use kassa_core::provider::dintero::{Dintero, DinteroConfig};
use kassa_core::provider::klarna::{Klarna, KlarnaConfig};
use kassa_core::provider::{CapturePolicy, ErrorKind, Presentation, Provider};
use kassa_core::schedule::{Asked, Budget, Scheduler};
use kassa_core::secrets::Secret;
use kassa_core::session::{SessionId, Status};
use kassa_core::store::SessionLog;
use kassa_core::till::{LogWatch, RESYNC_MS};
use kassa_core::time::now_millis;
use kassa_sandbox::{BamboraAccount, Config, DinteroAccount, KlarnaAccount, Sandbox};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const PROVIDERS: [&str; 3] = ["dintero", "bambora", "klarna"];
const KLARNA_USER: &str = "PK_bench_sched_41c9";
const KLARNA_PASSWORD: &str = "klarna-bench-pw-8d2e7";
const MERCHANT: &str = "T555000222";
const ACCESS: &str = "bambora-bench-access-6b1f";
const SECRET: &str = "bambora-bench-secret-0e9a";
const MD5_KEY: &str = "bambora-bench-md5-71c4";
const AID: &str = "T12340088";
const CLIENT_ID: &str = "dintero-bench-client";
const CLIENT_SECRET: &str = "dintero-bench-secret-5a3c";

/// The cadence bands: name, and the ages links of that band are started at (from, to).
const BANDS: [(&str, i64, i64); 4] = [
    ("10 s (under 10 min old)", MINUTE, 8 * MINUTE),
    ("1 min (under 1 h)", 12 * MINUTE, 50 * MINUTE),
    ("5 min (under 1 day)", 70 * MINUTE, 22 * HOUR),
    ("15 min (over 1 day)", 25 * HOUR, 36 * HOUR),
];
/// Share of links per band, in percent.
const BAND_SHARE: [usize; 4] = [5, 15, 40, 40];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve-sandbox") {
        serve_sandbox();
        return;
    }
    let value = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<u64>().expect("a number"))
            .unwrap_or(default)
    };
    let links = value("--links", 10_000) as usize;
    let seconds = value("--seconds", 180) as i64;

    let (mut child, url) = start_sandbox();
    let providers = Providers::new(&url);
    let control = Control::new(&url);
    let mut till = Till::new();
    let t = Instant::now();
    let made = till.make_links(&providers, links);
    eprintln!("made {links} links in {:.1} s", t.elapsed().as_secs_f64());
    let counters: Vec<Made> = (0..4 * PROVIDERS.len())
        .map(|i| {
            till.start(
                &providers,
                PROVIDERS[i % PROVIDERS.len()],
                None,
                now_millis(),
                i,
            )
        })
        .collect();

    println!("scheduler: {links} open links (+ {} counter sales), Dintero, Bambora and Klarna emulators in another process over loopback\n", counters.len());
    let mut follower = Follower::new(till.log, &providers);
    let mut clock = Clock::real();

    // Phase 1: real time.
    let requests_before = stats(&control);
    let cpu_before = cpu_ticks();
    let wall = Instant::now();
    let start = clock.now();
    let step = (seconds * 1000 - 20_000).max(1) / counters.len() as i64;
    let mut plan: Vec<(i64, &Made)> = counters
        .iter()
        .enumerate()
        .map(|(i, c)| (start + 15_000 + i as i64 * step, c))
        .collect();
    plan.reverse();
    let mut paid_at: HashMap<String, i64> = HashMap::new();
    follower.run(&mut clock, start + seconds * 1000, |now, _| {
        while let Some((at, c)) = plan.last() {
            if *at > now {
                return Step::Until(*at);
            }
            pay(&control, c);
            paid_at.insert(c.id.clone(), now_millis());
            plan.pop();
        }
        Step::Go
    });
    let wall_ms = wall.elapsed().as_millis() as i64;
    let cpu_ms = (cpu_ticks() - cpu_before) * 1000 / clk_tck();
    let requests = stats(&control) - requests_before;
    let memory = memory();

    let minutes = wall_ms as f64 / 60_000.0;
    println!("### Real time, {seconds} s\n");
    println!("| provider | status reads | per minute | busiest 60 s | budget per minute (burst) |");
    println!("|---|---|---|---|---|");
    for p in PROVIDERS {
        let n = follower.reads.get(p).copied().unwrap_or(0);
        let b = Budget::for_provider(p);
        println!(
            "| {p} | {n} | {:.0} | {} | {} ({}) |",
            n as f64 / minutes,
            follower.busiest_minute(p),
            b.per_minute,
            b.burst
        );
    }
    println!(
        "\nHTTP requests the emulators served: {requests} ({:.0} a minute, tokens and control calls included)",
        requests as f64 / minutes
    );
    println!(
        "CPU: {cpu_ms} ms in {:.1} s = {:.2} % of one core; memory at the end: RSS {:.1} MB, PSS {:.1} MB (peak RSS {:.1} MB; the process also made the {links} sessions)",
        wall_ms as f64 / 1000.0,
        cpu_ms as f64 * 100.0 / wall_ms as f64,
        memory.rss_kb as f64 / 1024.0,
        memory.pss_kb as f64 / 1024.0,
        memory.hwm_kb as f64 / 1024.0,
    );
    println!("\n| counter sale | paid → seen paid |");
    println!("|---|---|");
    let mut counter_ms = Vec::new();
    for c in &counters {
        let seen = follower.seen.get(&c.id);
        let paid = paid_at.get(&c.id);
        match (paid, seen) {
            (Some(p), Some((s, status))) => {
                counter_ms.push(s - p);
                println!("| {} ({}) | {} ms ({status}) |", c.provider, c.id, s - p);
            }
            (Some(_), None) => println!("| {} ({}) | not seen |", c.provider, c.id),
            _ => println!("| {} ({}) | not paid in the phase |", c.provider, c.id),
        }
    }
    counter_ms.sort();
    if let (Some(max), Some(med)) = (counter_ms.last(), counter_ms.get(counter_ms.len() / 2)) {
        println!("\ncounter sales: median {med} ms, max {max} ms (goal ≤ 2,500 ms)");
    }

    // Phase 2: virtual time.
    let mut clock = Clock::virtual_from(clock.now());
    let t_pay = clock.now();
    let mut probes = Vec::new();
    for band in 0..BANDS.len() {
        for p in PROVIDERS {
            if let Some(m) = made
                .iter()
                .find(|m| m.band == Some(band) && m.provider == p)
            {
                pay(&control, m);
                probes.push((band, m));
            }
        }
    }
    let real = Instant::now();
    let probe_ids: Vec<String> = probes.iter().map(|(_, m)| m.id.clone()).collect();
    follower.run(&mut clock, t_pay + 3 * HOUR, |_, seen| {
        if probe_ids.iter().all(|id| seen.contains_key(id)) {
            Step::Stop
        } else {
            Step::Go
        }
    });
    println!(
        "\n### Virtual time: one link per provider and band paid at once, then followed ({:.0} s of real time for {:.0} virtual minutes)\n",
        real.elapsed().as_secs_f64(),
        (clock.now() - t_pay) as f64 / 60_000.0
    );
    println!("| band | provider | age when paid | paid → seen (virtual) | seen as |");
    println!("|---|---|---|---|---|");
    for (band, m) in &probes {
        let (latency, status) = match follower.seen.get(&m.id) {
            Some((s, status)) => (
                format!("{:.1} s", (s - t_pay) as f64 / 1000.0),
                status.to_string(),
            ),
            None => ("not within 3 h".into(), "open".into()),
        };
        println!(
            "| {} | {} | {:.0} min | {latency} | {status} |",
            BANDS[*band].0,
            m.provider,
            (t_pay - m.created_at) as f64 / 60_000.0
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&till.dir);
}

/// What the bench's events tell the follow loop.
enum Step {
    /// Nothing to do before this moment (the loop wakes for it).
    Until(i64),
    Go,
    Stop,
}

/// The loop's clock: the machine's, or the machine's moved forward past every sleep.
struct Clock {
    offset: i64,
    skip_sleeps: bool,
}

impl Clock {
    fn real() -> Clock {
        Clock {
            offset: 0,
            skip_sleeps: false,
        }
    }

    /// Virtual time from `at` on: it runs with the machine's clock while the loop works and
    /// jumps where the loop would sleep.
    fn virtual_from(at: i64) -> Clock {
        Clock {
            offset: at - now_millis(),
            skip_sleeps: true,
        }
    }

    fn now(&self) -> i64 {
        now_millis() + self.offset
    }

    fn sleep(&mut self, ms: i64) {
        if self.skip_sleeps {
            self.offset += ms;
        } else {
            std::thread::sleep(Duration::from_millis(ms as u64));
        }
    }
}

/// `kassa-cli follow`'s loop (`follow_cmd.rs`) on a clock, counting what it does.
struct Follower<'a> {
    log: SessionLog,
    providers: &'a Providers,
    scheduler: Scheduler,
    watch: LogWatch,
    synced: i64,
    /// Status reads per provider, and when each was made.
    reads: HashMap<String, u64>,
    read_times: HashMap<String, Vec<i64>>,
    /// Sessions seen no longer open: when, and as what.
    seen: HashMap<String, (i64, Status)>,
}

impl<'a> Follower<'a> {
    fn new(log: SessionLog, providers: &'a Providers) -> Follower<'a> {
        Follower {
            log,
            providers,
            scheduler: Scheduler::new(),
            watch: LogWatch::new(),
            // Long enough ago that the first pass syncs (i64::MIN would overflow `now - synced`).
            synced: 0,
            reads: HashMap::new(),
            read_times: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    fn run(
        &mut self,
        clock: &mut Clock,
        until: i64,
        mut events: impl FnMut(i64, &HashMap<String, (i64, Status)>) -> Step,
    ) {
        loop {
            let now = clock.now();
            if now >= until {
                return;
            }
            let event_at = match events(now, &self.seen) {
                Step::Stop => return,
                Step::Until(at) => at,
                Step::Go => i64::MAX,
            };
            if now - self.synced >= RESYNC_MS {
                self.watch
                    .read(&self.log, &mut self.scheduler, now)
                    .expect("the session log");
                self.synced = now;
            }
            for due in self.scheduler.due(now) {
                let provider = self.providers.get(&due.provider);
                *self.reads.entry(due.provider.clone()).or_default() += 1;
                self.read_times
                    .entry(due.provider.clone())
                    .or_default()
                    .push(now);
                let asked = match checkout::refresh(&mut self.log, provider, &due.id, now, false) {
                    Ok(s) => {
                        if s.status != Status::Open {
                            self.seen.insert(s.id.clone(), (clock.now(), s.status));
                        }
                        Asked::Status(s.status)
                    }
                    Err(CheckoutError::Provider { error, .. }) => {
                        eprintln!("session {}: {error}", due.id);
                        match error.kind {
                            ErrorKind::RateLimited { retry_after } => Asked::RateLimited {
                                retry_after_ms: retry_after.map(|s| s as i64 * 1000),
                            },
                            _ => Asked::Failed,
                        }
                    }
                    Err(e) => {
                        eprintln!("session {}: {e}", due.id);
                        Asked::Failed
                    }
                };
                self.scheduler.done(&due.id, asked, clock.now());
            }
            let now = clock.now();
            let wake = self
                .scheduler
                .next_due()
                .unwrap_or(now + RESYNC_MS)
                .min(self.synced + RESYNC_MS)
                .min(event_at)
                .min(until);
            clock.sleep((wake - now).clamp(10, RESYNC_MS));
        }
    }

    /// The most status reads of `provider` in any 60 s.
    fn busiest_minute(&self, provider: &str) -> usize {
        let Some(t) = self.read_times.get(provider) else {
            return 0;
        };
        let mut best = 0;
        let mut j = 0;
        for i in 0..t.len() {
            while t[i] - t[j] >= MINUTE {
                j += 1;
            }
            best = best.max(i - j + 1);
        }
        best
    }
}

/// Kassa's clients of the three providers, configured for the sandbox.
struct Providers {
    dintero: Dintero,
    bambora: Bambora,
    klarna: Klarna,
}

impl Providers {
    fn new(url: &str) -> Providers {
        let http = || Http::new(HttpConfig::default()).unwrap();
        Providers {
            dintero: Dintero::new(
                DinteroConfig {
                    label: "dintero".into(),
                    profile: "test".into(),
                    account_id: AID.into(),
                    profile_id: "default".into(),
                    base_url: Some(format!("{url}/dintero")),
                    client_id: Secret::new(CLIENT_ID),
                    client_secret: Secret::new(CLIENT_SECRET),
                },
                http(),
            )
            .unwrap(),
            bambora: Bambora::new(
                BamboraConfig {
                    label: "bambora".into(),
                    profile: "test".into(),
                    merchant_number: MERCHANT.into(),
                    payment_window_id: 1,
                    session_path: "sessions".into(),
                    language: "nb-NO".into(),
                    base_url: Some(format!("{url}/bambora")),
                    access_token: Secret::new(ACCESS),
                    secret_token: Secret::new(SECRET),
                    md5_key: Some(Secret::new(MD5_KEY)),
                },
                http(),
            ),
            klarna: Klarna::new(
                KlarnaConfig {
                    label: "klarna".into(),
                    profile: "test".into(),
                    region: "eu".into(),
                    acquiring_channel: "ECOMMERCE".into(),
                    purchase_country: "NO".into(),
                    language: "nb".into(),
                    base_url: Some(format!("{url}/klarna")),
                    username: Secret::new(KLARNA_USER),
                    password: Secret::new(KLARNA_PASSWORD),
                },
                http(),
            ),
        }
    }

    fn get(&self, name: &str) -> &dyn Provider {
        match name {
            "dintero" => &self.dintero,
            "bambora" => &self.bambora,
            "klarna" => &self.klarna,
            other => panic!("no client for {other}"),
        }
    }
}

/// A sale the bench started.
struct Made {
    id: String,
    provider: &'static str,
    provider_session_id: String,
    created_at: i64,
    /// Its cadence band (links).
    band: Option<usize>,
}

/// A data directory whose session log journals with the in-memory keyring.
struct Till {
    dir: PathBuf,
    log: SessionLog,
    owner: Authenticated,
}

impl Till {
    fn new() -> Till {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/bench-scheduler")
            .join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut log = SessionLog::open_in(&dir).unwrap();
        log.use_keyring(kassa_core::secrets::memory::shared());
        log.set_time_zone(kassa_core::journal::Zone::named("Europe/Oslo").unwrap());
        let owner = log.owner_if_no_operators().unwrap().unwrap();
        Till { dir, log, owner }
    }

    /// `n` links over the providers and bands (see the module doc).
    fn make_links(&mut self, providers: &Providers, n: usize) -> Vec<Made> {
        let now = now_millis();
        let mut out = Vec::with_capacity(n);
        let mut first = 0;
        for (band, share) in BAND_SHARE.iter().enumerate() {
            let count = if band == BANDS.len() - 1 {
                n - first
            } else {
                n * share / 100
            };
            let (from, to) = (BANDS[band].1, BANDS[band].2);
            for k in 0..count {
                let i = first + k;
                // Spread evenly over the band's ages, newest first.
                let age = from + (to - from) * k as i64 / count.max(1) as i64;
                let mut m = self.start(
                    providers,
                    PROVIDERS[i % PROVIDERS.len()],
                    Some(Lifetime::Week),
                    now - age,
                    i,
                );
                m.band = Some(band);
                out.push(m);
                if i % 1000 == 999 {
                    eprintln!("{} links", i + 1);
                }
            }
            first += count;
        }
        out
    }

    /// One sale through the core as `kassa-cli charge` makes it, started at `at`.
    fn start(
        &mut self,
        providers: &Providers,
        provider: &'static str,
        link: Option<Lifetime>,
        at: i64,
        i: usize,
    ) -> Made {
        let reference = format!("K-SCHED-{}-{i:05}", if link.is_some() { "L" } else { "C" });
        let order = kassa_core::quote_document(
            r#"{"currency":"NOK","lines":[
                {"name":"Kaffe","quantity":"3","unit_price":3500,"vat_rate":"15"},
                {"name":"Bolle","quantity":"1","unit_price":2500,"vat_rate":"25"}]}"#,
            &reference,
        )
        .unwrap();
        let sale = match link {
            Some(lifetime) => Sale::Link(LinkSale {
                lifetime,
                send: None,
            }),
            None => Sale::Counter,
        };
        let started = checkout::start(
            &mut self.log,
            &self.dir,
            providers.get(provider),
            &ChargeRequest {
                order: &order,
                presentation: Presentation::Qr,
                return_url: "https://shop.example/return",
                demo: false,
                id: SessionId::generate(at),
                now: at,
                capture: CapturePolicy::AtSale,
                sale: &sale,
                counter_ms: 15 * MINUTE,
                renews: None,
                operator: &self.owner,
            },
        )
        .unwrap_or_else(|e| panic!("{provider} {reference}: {e}"));
        Made {
            id: started.session.id.clone(),
            provider,
            provider_session_id: started.session.provider_session_id.clone().unwrap(),
            created_at: at,
            band: None,
        }
    }
}

/// The bench's own calls to the emulators' control API (the customer paying, the request
/// count), on one client made before the measurement: a client per call loads the system's
/// root certificates each time, which showed up as a tenth of the till's CPU.
struct Control {
    url: String,
    http: Http,
}

impl Control {
    fn new(url: &str) -> Control {
        Control {
            url: url.to_string(),
            http: Http::new(HttpConfig::default()).unwrap(),
        }
    }
}

/// What the customer does: pays, through the emulator's control API.
fn pay(control: &Control, m: &Made) {
    let psid = &m.provider_session_id;
    // Bambora's ids say which kind (`paymentrequest/<id>`: QR and link sales).
    let path = match m.provider {
        "dintero" => format!("/dintero/sessions/{psid}/outcome"),
        "bambora" => match psid.strip_prefix("paymentrequest/") {
            Some(id) => format!("/bambora/paymentrequests/{id}/outcome"),
            None => format!(
                "/bambora/sessions/{}/outcome",
                psid.trim_start_matches("checkout/")
            ),
        },
        "klarna" => format!("/klarna/sessions/{psid}/outcome"),
        other => panic!("{other}"),
    };
    let r = control
        .http
        .send(
            "bench",
            &Request::new(Method::Post, format!("{}/_control{path}", control.url))
                .json(br#"{"outcome":"pay"}"#.to_vec()),
        )
        .unwrap();
    assert!(
        (200..300).contains(&r.status),
        "{path}: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
}

/// Requests the emulators served so far.
fn stats(control: &Control) -> u64 {
    let r = control
        .http
        .send(
            "bench",
            &Request::new(Method::Get, format!("{}/_control/stats", control.url)),
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["requests"].as_u64().unwrap()
}

/// The emulators, in this program's second process (`--serve-sandbox`): prints the URL, serves
/// until its stdin closes.
fn serve_sandbox() {
    let sandbox = Sandbox::start(
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
    .unwrap();
    println!("{}", sandbox.url());
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
}

fn start_sandbox() -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve-sandbox")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

/// This process's CPU time so far (user + system), in clock ticks.
fn cpu_ticks() -> i64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // After the command's name in parentheses: field 3 is the state; utime and stime are
    // fields 14 and 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<i64>().unwrap() + f[12].parse::<i64>().unwrap()
}

/// Clock ticks a second (`getconf CLK_TCK`; Linux reports 100 on every common platform).
fn clk_tck() -> i64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

struct Memory {
    rss_kb: u64,
    pss_kb: u64,
    hwm_kb: u64,
}

fn memory() -> Memory {
    let field = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Memory {
        rss_kb: field(&rollup, "Rss:"),
        pss_kb: field(&rollup, "Pss:"),
        hwm_kb: field(&status, "VmHWM:"),
    }
}
