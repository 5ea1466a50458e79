//! Link sales on the command line: what `charge --link` takes besides the order (lifetime,
//! whom to send it to, the QR as files, the slip on the receipt printer), `links`, `renew` and
//! `resend`.

use crate::station::{checkout_failure, store_failure, Station};
use crate::Failure;
use kassa_core::checkout::{self, Delivery, Renewal, DEFAULT_RETURN_URL};
use kassa_core::journal::Zone;
use kassa_core::link::{Contact, Lifetime, LinkSale, Sale};
use kassa_core::session::SessionId;
use kassa_core::store::SessionRecord;
use kassa_core::time::{format_rfc3339, now_millis};
use std::path::Path;

/// Whom the provider sends the link to (`--send-sms` or `--send-email`).
#[derive(clap::Args, Default)]
pub struct SendArgs {
    /// Have the provider send the link by SMS to this number, in international form
    /// (+4791234567; spaces allowed). Klarna and Dintero send SMS.
    #[arg(long, value_name = "PHONE", conflicts_with = "send_email")]
    pub send_sms: Option<String>,
    /// Have the provider send the link by e-mail to this address. Klarna and Bambora send
    /// e-mail.
    #[arg(long, value_name = "ADDRESS")]
    pub send_email: Option<String>,
}

impl SendArgs {
    /// The contact, validated (exit 2 naming the cause before anything is created).
    pub fn contact(&self) -> Result<Option<Contact>, Failure> {
        match (&self.send_sms, &self.send_email) {
            (Some(phone), _) => Contact::phone(phone).map(Some),
            (None, Some(address)) => Contact::email(address).map(Some),
            (None, None) => Ok(None),
        }
        .map_err(Failure::Invalid)
    }
}

/// `--expires-in`, parsed; a link without it lives 24 hours. A date is the last day to pay:
/// it ends at the next midnight in the till's time zone (the session log's, `Zone::system`),
/// by the same function as the desktop's date field and the history's dates.
pub fn lifetime(text: Option<&str>) -> Result<Lifetime, Failure> {
    let zone = Zone::system();
    text.map_or(Ok(Lifetime::Day), |t| {
        Lifetime::parse(t, &|d| zone.day_end_ms(d))
    })
    .map_err(Failure::Invalid)
}

/// The sale `charge` makes: a counter sale, or with `--link` a link sale.
pub fn sale(link: bool, expires_in: Option<&str>, send: &SendArgs) -> Result<Sale, Failure> {
    if !link {
        return Ok(Sale::Counter);
    }
    let lifetime = lifetime(expires_in)?;
    // The core refuses it too, but only once the session log is open: say it first.
    let now = now_millis();
    if lifetime.end(now) <= now + 60_000 {
        return Err(Failure::Invalid(format!(
            "the link would expire at {}, which is not in the future",
            format_rfc3339(lifetime.end(now))
        )));
    }
    Ok(Sale::Link(LinkSale {
        lifetime,
        send: send.contact()?,
    }))
}

/// The `sent` object of `--json`: the channel, the masked contact and the provider's status.
pub fn sent_json(d: &Delivery) -> serde_json::Value {
    serde_json::to_value(d).expect("a delivery serializes")
}

/// Prints what became of a send (text output), to stderr when it failed.
pub fn print_sent(d: &Delivery) {
    match &d.error {
        None => println!("sent      {} to {}: {}", d.channel, d.to, d.status),
        Some(e) => eprintln!(
            "kassa-cli: the link was created but not sent by {} to {}: {e}; copy the link or its QR code instead",
            d.channel, d.to
        ),
    }
}

/// Where a link's QR code and slip go (`--qr-svg`, `--qr-png`, `--print-slip`).
#[derive(clap::Args, Default)]
pub struct QrArgs {
    /// Write the checkout URL as a QR code (SVG) to FILE.
    #[arg(long, value_name = "FILE")]
    pub qr_svg: Option<String>,
    /// Write the checkout URL as a QR code (PNG, 8 pixels a module) to FILE.
    #[arg(long, value_name = "FILE")]
    pub qr_png: Option<String>,
    /// Print a slip with the QR code, the amount and the expiry on the receipt printer
    /// (`printer.url`); with --slip-escpos, write its ESC/POS bytes to FILE instead.
    #[arg(long)]
    pub print_slip: bool,
    /// Write the slip's ESC/POS bytes to FILE (for a printer that is a file, or to check it).
    #[arg(long, value_name = "FILE")]
    pub slip_escpos: Option<String>,
}

impl QrArgs {
    /// Writes the session's QR code and slip where asked.
    pub fn write(&self, station: &Station, s: &SessionRecord) -> Result<(), Failure> {
        let payload = s.qr_payload.as_deref().unwrap_or_default();
        let write = |path: &str, bytes: &[u8]| {
            std::fs::write(path, bytes)
                .map_err(|e| Failure::System(format!("cannot write {path}: {e}")))
        };
        if let Some(path) = &self.qr_svg {
            let svg = kassa_core::qr::svg(payload).map_err(Failure::System)?;
            write(path, svg.as_bytes())?;
        }
        if let Some(path) = &self.qr_png {
            let png = kassa_core::qr::png(payload, 8).map_err(Failure::Invalid)?;
            write(path, &png)?;
        }
        if self.print_slip || self.slip_escpos.is_some() {
            let bytes = slip(station, s)?;
            match (&self.slip_escpos, station.settings.printer()) {
                (Some(path), _) => write(path, &bytes)?,
                (None, Some(printer)) => kassa_core::printer::send(&printer, &bytes)
                    .map_err(|e| Failure::System(format!("the slip was not printed: {e}")))?,
                (None, None) => {
                    return Err(Failure::Invalid(
                        "no receipt printer is set (printer.url); the link was created all the same: its URL is above, or write the slip with --slip-escpos FILE".into(),
                    ))
                }
            }
        }
        Ok(())
    }
}

/// The ESC/POS bytes of session `s`'s link slip (the core's, as the desktop prints it).
fn slip(station: &Station, s: &SessionRecord) -> Result<Vec<u8>, Failure> {
    kassa_core::printing::link_slip(&station.settings, s).map_err(Failure::Invalid)
}

/// `1 h 20 min`, `3 days 4 h`: time left until `at`, or `expired`.
fn time_left(at: Option<i64>, now: i64) -> String {
    let Some(at) = at else {
        return "-".into();
    };
    let left = (at - now) / 60_000;
    match left {
        l if l <= 0 => "expired".into(),
        l if l < 60 => format!("{l} min"),
        l if l < 24 * 60 => format!("{} h {} min", l / 60, l % 60),
        l => format!("{} days {} h", l / (24 * 60), l % (24 * 60) / 60),
    }
}

/// `kassa-cli links`: every link sale staff may still act on (unpaid: open, or ended and not
/// renewed within the last week), newest first.
pub fn list(dir: &Path, json: bool) -> Result<(), Failure> {
    let station = Station::open(dir)?;
    let now = now_millis();
    let links = station.log.links(now).map_err(store_failure)?;
    if json {
        let rows: Vec<_> = links
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id,
                    "provider": s.provider,
                    "reference": s.merchant_reference,
                    "currency": s.currency,
                    "amount": s.gross_minor,
                    "url": s.checkout_url,
                    "expires_at": s.expires_at.map(format_rfc3339),
                    "requested_expires_at": s.requested_expires_at.map(format_rfc3339),
                    "contact": s.contact_masked,
                    "status": s.status,
                    "renews": s.renews,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    if links.is_empty() {
        println!("no unpaid link sales");
        return Ok(());
    }
    for s in &links {
        println!(
            "{}  {:<13} {:>10} {}  {:<10} {:<18} {:<16} {}",
            s.id,
            s.provider,
            crate::sessions_cmd::amount(&s.currency, s.gross_minor),
            s.currency,
            s.status.to_string(),
            time_left(s.expires_at, now),
            s.contact_masked.as_deref().unwrap_or("-"),
            s.merchant_reference
        );
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct RenewArgs {
    /// The expired or cancelled link sale's session id.
    pub id: String,
    /// The new link's lifetime (1h, 24h, 7d, a date or a UTC time); default: as long as the
    /// old one was asked to live.
    #[arg(long, value_name = "WHEN")]
    pub expires_in: Option<String>,
    #[command(flatten)]
    pub send: SendArgs,
    #[command(flatten)]
    pub qr: QrArgs,
    #[arg(long)]
    pub json: bool,
}

/// `kassa-cli renew <id>`: a new session for the order of an expired or cancelled link (sent
/// to the old contact unless told otherwise).
pub fn renew(dir: &Path, a: RenewArgs) -> Result<(), Failure> {
    SessionId::parse(&a.id).map_err(Failure::Invalid)?;
    let renewal = Renewal {
        lifetime: a
            .expires_in
            .as_deref()
            .map(|t| lifetime(Some(t)))
            .transpose()?,
        send: a.send.contact()?,
        return_url: None,
    };
    let mut station = Station::open(dir)?;
    let (old, _) = station.log.get(&a.id).map_err(store_failure)?;
    let by = station.operator()?;
    let provider = station.provider(&old.provider, Some(&old.profile))?;
    let renewal = Renewal {
        return_url: Some(
            station
                .settings
                .get("shop.return_url")
                .ok()
                .flatten()
                .unwrap_or_else(|| DEFAULT_RETURN_URL.into()),
        ),
        ..renewal
    };
    let now = now_millis();
    let started = checkout::renew(
        &mut station.log,
        &station.dir.clone(),
        provider.as_ref(),
        &a.id,
        &renewal,
        SessionId::generate(now),
        &by,
        now,
    )
    .map_err(checkout_failure)?;
    a.qr.write(&station, &started.session)?;
    crate::charge_cmd::print_started(&started, a.json);
    Ok(())
}

/// `kassa-cli resend <id>`: the provider sends an open link again (to the contact given, else
/// to the one the session log keeps).
pub fn resend(dir: &Path, id: &str, send: &SendArgs, json: bool) -> Result<(), Failure> {
    SessionId::parse(id).map_err(Failure::Invalid)?;
    let to = send.contact()?;
    let mut station = Station::open(dir)?;
    let (session, _) = station.log.get(id).map_err(store_failure)?;
    let provider = station.provider(&session.provider, Some(&session.profile))?;
    let (session, delivery) = checkout::resend(
        &mut station.log,
        provider.as_ref(),
        id,
        to.as_ref(),
        now_millis(),
    )
    .map_err(checkout_failure)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"id": session.id, "status": session.status, "sent": sent_json(&delivery)})
        );
    } else {
        print_sent(&delivery);
    }
    match delivery.error {
        None => Ok(()),
        Some(e) => Err(Failure::System(format!("the link was not sent: {e}"))),
    }
}
