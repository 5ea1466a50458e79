//! `kassa-cli charge`, `status` and `cancel`: a checkout session at a provider (a counter
//! sale, or with `--link` a link sale: `link_cmd`).

use crate::station::{checkout_failure, store_failure, Station};
use crate::Failure;
use kassa_core::checkout::{self, ChargeRequest, Started, DEFAULT_RETURN_URL};
use kassa_core::link::SaleKind;
use kassa_core::provider::{CapturePolicy, Presentation};
use kassa_core::session::{SessionId, Status};
use kassa_core::store::{SessionRecord, StoreError};
use kassa_core::time::{format_rfc3339, now_millis};
use std::path::Path;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ChargeArgs {
    /// demo, dintero, … Default: the `default_provider` setting (demo when unset).
    #[arg(long)]
    pub provider: Option<String>,
    /// The order JSON file, or `-` for standard input.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "sku",
        conflicts_with = "sku"
    )]
    pub order: Option<String>,
    /// Instead of --order: one of this product from the product list (products.json, the
    /// hub's shared list when there is one); repeat for more lines.
    #[arg(long, value_name = "SKU")]
    pub sku: Vec<String>,
    /// test or live; default: the provider's `profile` setting.
    #[arg(long)]
    pub profile: Option<String>,
    /// Print JSON (one object; with --wait, one more per status change).
    #[arg(long)]
    pub json: bool,
    /// Poll the provider until the session is paid, cancelled, expired or failed.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub qr: crate::link_cmd::QrArgs,
    /// The URL will be opened on this till, not scanned by a phone.
    #[arg(long)]
    pub webview: bool,
    /// A link sale: the customer pays elsewhere and later (sent by the provider, copied, or a
    /// QR code on paper), instead of at the counter (`shop.counter_link_minutes`).
    #[arg(long, conflicts_with = "webview")]
    pub link: bool,
    /// How long the link stays payable: 1h, 24h (the default), 7d, a date (2026-12-24: the last
    /// day to pay, through that day in the till's time zone) or a UTC time
    /// (2026-12-24T18:00:00Z). A lifetime beyond the provider's limit is clamped; the expiry
    /// printed is the one the provider confirmed.
    #[arg(long, value_name = "WHEN")]
    pub expires_in: Option<String>,
    #[command(flatten)]
    pub send: crate::link_cmd::SendArgs,
    /// What the payment does when authorized, for this sale: at_sale or manual (goods shipped
    /// later: capture with `kassa-cli capture`). Default: the `<provider>.capture` setting.
    #[arg(long, value_name = "POLICY")]
    pub capture: Option<String>,
    /// Seconds between status polls with --wait.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub interval: f64,
}

/// The order document for `--sku`: a line per SKU from the product list, in the shop's
/// currency and price convention.
fn order_of_products(dir: &Path, skus: &[String]) -> Result<String, Failure> {
    let catalog = kassa_core::catalog::Catalog::load(dir).map_err(Failure::System)?;
    let settings =
        kassa_core::settings::Settings::load(dir).map_err(crate::config_cmd::settings_failure)?;
    let shop = kassa_core::settings::ShopSettings::from_settings(&settings);
    let lines = skus
        .iter()
        .map(|sku| {
            catalog.line_for(sku).ok_or_else(|| {
                Failure::Invalid(format!("--sku {sku}: no such product in products.json"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(kassa_core::counter::cart_to_document(
        &kassa_core::counter::Cart {
            currency: shop.currency,
            prices_include_vat: shop.prices_include_vat,
            reference: None,
            discount: 0,
            lines,
        },
    ))
}

/// The `--json` object of charge, status and cancel.
fn session_json(s: &SessionRecord) -> serde_json::Value {
    let mut v = base_json(s);
    if s.sale == SaleKind::Link {
        v["sale"] = "link".into();
        v["requested_expires_at"] = s.requested_expires_at.map(format_rfc3339).into();
        v["contact"] = s.contact_masked.clone().into();
        v["renews"] = s.renews.clone().into();
    }
    v
}

fn base_json(s: &SessionRecord) -> serde_json::Value {
    serde_json::json!({
        "id": s.id,
        "provider": s.provider,
        "profile": s.profile,
        "demo": s.demo,
        "provider_session_id": s.provider_session_id,
        "reference": s.merchant_reference,
        "currency": s.currency,
        "amount": s.gross_minor,
        "url": s.checkout_url,
        "expires_at": s.expires_at.map(format_rfc3339),
        "status": s.status,
        "confirmed_by": s.confirmed_by,
        "last_error": s.last_error,
    })
}

/// Prints a started session and, when it was sent, what became of that (`sent` in JSON).
pub fn print_started(started: &Started, json: bool) {
    if json {
        let mut v = session_json(&started.session);
        if let Some(d) = &started.sent {
            v["sent"] = crate::link_cmd::sent_json(d);
        }
        println!("{v}");
        return;
    }
    print_session(&started.session, false);
    if let Some(d) = &started.sent {
        crate::link_cmd::print_sent(d);
    }
}

fn print_session(s: &SessionRecord, json: bool) {
    if json {
        println!("{}", session_json(s));
        return;
    }
    let amount = crate::sessions_cmd::amount(&s.currency, s.gross_minor);
    println!("session   {}", s.id);
    println!(
        "provider  {}{} {}",
        s.provider,
        if s.demo { " (demo: no real money)" } else { "" },
        s.provider_session_id.as_deref().unwrap_or("-")
    );
    println!(
        "amount    {amount} {}  reference {}",
        s.currency, s.merchant_reference
    );
    if let Some(url) = &s.checkout_url {
        println!("url       {url}");
    }
    if let Some(t) = s.expires_at {
        match s.requested_expires_at {
            Some(asked) if asked > t => println!(
                "expires   {} (asked for {}; {} keeps a link no longer)",
                format_rfc3339(t),
                format_rfc3339(asked),
                s.provider
            ),
            _ => println!("expires   {}", format_rfc3339(t)),
        }
    }
    if let Some(c) = &s.contact_masked {
        println!("customer  {c}");
    }
    match &s.confirmed_by {
        Some(who) => println!(
            "status    {} (confirmed by {who}, not by the provider)",
            s.status
        ),
        None => println!("status    {}", s.status),
    }
}

/// Exit status for a final (or final-for-now) status: 0 paid, 1 anything that is not paid.
fn outcome(status: Status) -> Result<(), Failure> {
    match status {
        Status::Paid => Ok(()),
        Status::Unknown => Err(Failure::System(
            "the session's status is unknown; `kassa-cli status <id>` asks the provider again"
                .into(),
        )),
        other => Err(Failure::NotPaid(format!("session {other}"))),
    }
}

pub fn charge(dir: &Path, a: ChargeArgs) -> Result<(), Failure> {
    if !a.link
        && (a.expires_in.is_some() || a.send.send_sms.is_some() || a.send.send_email.is_some())
    {
        return Err(Failure::Invalid(
            "--expires-in, --send-sms and --send-email are for a link sale: add --link".into(),
        ));
    }
    // Everything staff typed is checked before anything is opened or created.
    let sale = crate::link_cmd::sale(a.link, a.expires_in.as_deref(), &a.send)?;
    let capture = a
        .capture
        .as_deref()
        .map(CapturePolicy::parse)
        .transpose()
        .map_err(Failure::Invalid)?;
    let text = match &a.order {
        Some(path) => crate::read_input(path)?,
        None => order_of_products(dir, &a.sku)?,
    };
    let priced = kassa_core::quote_document(&text, &kassa_core::reference::generate_now())
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    let mut station = Station::open(dir)?;
    let by = station.operator()?;
    let name = match a.provider {
        Some(p) => p,
        None => station
            .settings
            .get("default_provider")
            .ok()
            .flatten()
            .unwrap_or_else(|| "demo".into()),
    };
    let provider = station.provider(&name, a.profile.as_deref())?;
    let return_url = station
        .settings
        .get("shop.return_url")
        .ok()
        .flatten()
        .unwrap_or_else(|| DEFAULT_RETURN_URL.into());
    let now = now_millis();
    let started = checkout::start(
        &mut station.log,
        &station.dir.clone(),
        provider.as_ref(),
        &ChargeRequest {
            order: &priced,
            presentation: if a.webview {
                Presentation::Webview
            } else {
                Presentation::Qr
            },
            return_url: &return_url,
            demo: name == "demo",
            id: SessionId::generate(now),
            now,
            capture: capture.unwrap_or_else(|| station.settings.capture_policy(&name)),
            sale: &sale,
            counter_ms: station.settings.counter_ms(),
            renews: None,
            operator: &by,
        },
    )
    .map_err(checkout_failure)?;
    let session = started.session.clone();
    a.qr.write(&station, &session)?;
    print_started(&started, a.json);
    if !a.wait {
        return Ok(());
    }
    let final_status = wait(
        &mut station,
        provider.as_ref(),
        &session,
        a.json,
        a.interval,
    )?;
    outcome(final_status)
}

/// Polls until a final status (or `needs_review`), printing each change.
fn wait(
    station: &mut Station,
    provider: &dyn kassa_core::provider::Provider,
    session: &SessionRecord,
    json: bool,
    interval: f64,
) -> Result<Status, Failure> {
    let base = Duration::from_millis((interval * 1000.0).clamp(50.0, 60_000.0) as u64);
    let mut delay = base;
    let mut last = session.status;
    loop {
        std::thread::sleep(delay);
        let now = now_millis();
        match checkout::refresh(&mut station.log, provider, &session.id, now, false) {
            Ok(s) => {
                delay = base;
                if s.status != last {
                    last = s.status;
                    if json {
                        println!("{}", serde_json::json!({"id": s.id, "status": s.status}));
                    } else {
                        let (_, events) = station.log.get(&s.id).map_err(store_failure)?;
                        let why = events.last().map(|e| e.detail.clone()).unwrap_or_default();
                        println!("status    {} ({why})", s.status);
                    }
                }
                if s.status.is_final() || s.status == Status::NeedsReview {
                    return Ok(s.status);
                }
            }
            Err(e) => {
                eprintln!("kassa-cli: {e} (still waiting)");
                // Back off on errors; give up a minute after the session's expiry.
                delay = (delay * 2).min(Duration::from_secs(30));
                if session.expires_at.is_some_and(|t| now > t + 60_000) {
                    return Err(checkout_failure(e));
                }
            }
        }
    }
}

pub fn status(dir: &Path, id: &str, json: bool) -> Result<(), Failure> {
    SessionId::parse(id).map_err(Failure::Invalid)?;
    let mut station = Station::open(dir)?;
    let (session, _) = station.log.get(id).map_err(store_failure)?;
    // A paid session is asked again only for its operations still on their way.
    let unsettled = session.status == Status::Paid
        && station
            .log
            .operations(id)
            .map_err(store_failure)?
            .iter()
            .any(|o| !o.state.is_settled());
    let session = if session.status.is_final() && !unsettled {
        session
    } else {
        let provider = station.provider(&session.provider, Some(&session.profile))?;
        checkout::refresh(&mut station.log, provider.as_ref(), id, now_millis(), true)
            .map_err(checkout_failure)?
    };
    print_session(&session, json);
    Ok(())
}

pub fn returned(dir: &Path, id: &str, url: &str, json: bool) -> Result<(), Failure> {
    SessionId::parse(id).map_err(Failure::Invalid)?;
    let mut station = Station::open(dir)?;
    let (session, _) = station.log.get(id).map_err(store_failure)?;
    if session.status.is_final() {
        print_session(&session, json);
        return outcome(session.status);
    }
    let provider = station.provider(&session.provider, Some(&session.profile))?;
    let session = checkout::returned(&mut station.log, provider.as_ref(), id, url, now_millis())
        .map_err(checkout_failure)?;
    print_session(&session, json);
    match session.status {
        Status::Open => Ok(()),
        other => outcome(other),
    }
}

pub fn cancel(dir: &Path, id: &str, json: bool) -> Result<(), Failure> {
    SessionId::parse(id).map_err(Failure::Invalid)?;
    let mut station = Station::open(dir)?;
    let (session, _) = station.log.get(id).map_err(store_failure)?;
    if session.status.is_final() {
        return Err(Failure::Invalid(format!(
            "session {id} is already {}; nothing to cancel",
            session.status
        )));
    }
    let by = station.operator()?;
    let provider = station.provider(&session.provider, Some(&session.profile))?;
    let session = checkout::cancel(&mut station.log, provider.as_ref(), id, &by, now_millis())
        .map_err(checkout_failure)?;
    print_session(&session, json);
    match session.status {
        Status::Cancelled => Ok(()),
        other => Err(Failure::NotPaid(format!(
            "the provider did not cancel session {id}: it is {other}"
        ))),
    }
}

pub fn review(
    dir: &Path,
    id: &str,
    verdict: &str,
    note: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    SessionId::parse(id).map_err(Failure::Invalid)?;
    let verdict = checkout::Verdict::parse(verdict).map_err(Failure::Invalid)?;
    let mut station = Station::open(dir)?;
    let (session, _) = station.log.get(id).map_err(store_failure)?;
    let by = station.operator()?;
    let provider = station.provider(&session.provider, Some(&session.profile))?;
    let verifiable = provider.capabilities().verifiable_status;
    let session = checkout::review(
        &mut station.log,
        id,
        verdict,
        verifiable,
        note,
        &by,
        now_millis(),
    )
        .map_err(|e| match e {
            checkout::CheckoutError::Store(StoreError::IllegalTransition { from, .. }) => {
                Failure::Invalid(match verdict {
                    checkout::Verdict::Claimed if verifiable => format!(
                        "{} reports payments itself; Kassa follows its status (`kassa-cli status {id}`)",
                        session.provider
                    ),
                    checkout::Verdict::Claimed => {
                        format!("session {id} is {from}: only an open session can be claimed paid")
                    }
                    _ => format!(
                        "session {id} is {from}: only a session in needs_review or unknown takes staff's verdict"
                    ),
                })
            }
            other => checkout_failure(other),
        })?;
    print_session(&session, json);
    Ok(())
}
