//! Remote payment links: what kind of sale a session is (at the counter or a link the
//! customer pays later), how long a link lives, and whom it is sent to.
//!
//! - [`SaleKind`]: a counter sale lives `shop.counter_link_minutes` (default
//!   [`COUNTER_MINUTES_DEFAULT`]); a link sale chooses a [`Lifetime`] (1 h, 24 h, 7 d or through
//!   a last day to pay, which ends at the shop's next local midnight), which [`expiry`] clamps to what the provider documents ([`LinkRules::max_ms`], one
//!   constant per provider beside its client, with its source). The session log keeps what was
//!   asked and what the provider confirmed; Kassa shows the latter.
//! - [`Contact`] (`contact.rs`): a phone number (E.164) or an e-mail address, validated before
//!   anything is created; [`LinkRules`] says which a provider can send itself.
//!
//! Not here: the provider calls (`provider::*`), recording (`store`), the order of steps
//! (`checkout`), the QR picture (`qr`) and the printed slip (`receipt::link_slip`).

mod contact;

pub use contact::{Channel, Contact};

use serde::{Deserialize, Serialize};

/// The default lifetime of a counter sale's session, in minutes (`shop.counter_link_minutes`).
pub const COUNTER_MINUTES_DEFAULT: i64 = 15;
/// The range `shop.counter_link_minutes` accepts: a counter sale is paid while the customer
/// stands there, and Bambora's checkout session (the till's window) lives one hour.
pub const COUNTER_MINUTES: std::ops::RangeInclusive<i64> = 1..=60;

const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// What kind of sale a session is (`sessions.sale` in the session log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SaleKind {
    /// Paid at the till (its window, or a QR the customer scans there): a short lifetime.
    #[default]
    Counter,
    /// A link the customer pays elsewhere and later (sent, copied, a QR on paper).
    Link,
}

impl SaleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SaleKind::Counter => "counter",
            SaleKind::Link => "link",
        }
    }

    pub fn parse(text: &str) -> Result<SaleKind, String> {
        match text {
            "counter" => Ok(SaleKind::Counter),
            "link" => Ok(SaleKind::Link),
            other => Err(format!("{other:?} is not a kind of sale (counter, link)")),
        }
    }
}

/// How long a link sale stays payable, as staff chose it. On the wire (the desktop's IPC):
/// `"1h"`, `"24h"` or `"7d"`; a last day to pay comes as a [`LifetimeChoice`] and becomes
/// [`Lifetime::Until`] only in the core ([`Lifetime::through`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lifetime {
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    /// Until this moment (Unix ms). Never taken from the wire: a form sends a date, which the
    /// core turns into a moment in the shop's time zone.
    #[serde(rename = "until", skip_deserializing)]
    Until(i64),
}

/// How a caller turns a local date (`YYYY-MM-DD`) into the moment that day ends in the shop's
/// time zone: `|d| zone.day_end_ms(d)` with the session log's `journal::Zone` (the till's
/// zone), the same function the history's date filter uses. (This module cannot name the
/// journal's zone itself: the journal depends on providers, which depend on this module.)
pub type DayEnd<'a> = &'a dyn Fn(&str) -> Result<i64, String>;

impl Lifetime {
    /// `1h`, `24h`, `7d`, a date (`2026-12-24`: through that day in the shop's time zone, by
    /// `day_end`) or a UTC time (`2026-12-24T18:00:00Z`).
    pub fn parse(text: &str, day_end: DayEnd) -> Result<Lifetime, String> {
        match text.trim() {
            "1h" => Ok(Lifetime::Hour),
            "24h" | "1d" => Ok(Lifetime::Day),
            "7d" => Ok(Lifetime::Week),
            t if t.len() == 10 => Lifetime::through(t, day_end),
            t => crate::time::parse_utc(t).map(Lifetime::Until).map_err(|_| {
                format!("{t:?} is not a lifetime (1h, 24h, 7d, a date like 2026-12-24 or a UTC time like 2026-12-24T18:00:00Z)")
            }),
        }
    }

    /// The last day to pay (`YYYY-MM-DD`): payable through that whole day in the shop's time
    /// zone, so until the next local midnight (23 or 25 hours after the day began on the days
    /// the clock changes).
    pub fn through(date: &str, day_end: DayEnd) -> Result<Lifetime, String> {
        day_end(date.trim()).map(Lifetime::Until)
    }

    /// When the lifetime ends for a link created at `now`.
    pub fn end(self, now: i64) -> i64 {
        match self {
            Lifetime::Hour => now + HOUR_MS,
            Lifetime::Day => now + DAY_MS,
            Lifetime::Week => now + 7 * DAY_MS,
            Lifetime::Until(t) => t,
        }
    }
}

/// A lifetime as the charge dialog sends it: a preset (`"7d"`), or the last day to pay as a
/// local date (`{"through": "2026-12-24"}`), turned into a moment by [`LifetimeChoice::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum LifetimeChoice {
    Preset(Lifetime),
    Through { through: String },
}

impl LifetimeChoice {
    pub fn resolve(&self, day_end: DayEnd) -> Result<Lifetime, String> {
        match self {
            LifetimeChoice::Preset(l) => Ok(*l),
            LifetimeChoice::Through { through } => Lifetime::through(through, day_end),
        }
    }
}

/// What a provider can do for link sales (part of [`crate::provider::Capabilities`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LinkRules {
    /// The longest a link stays payable at this provider, from its creation (each client's
    /// `LINK_MAX_MS`, with its source).
    pub max_ms: i64,
    /// The provider sends the link by SMS itself.
    pub sms: bool,
    /// The provider sends the link by e-mail itself.
    pub email: bool,
    /// The provider can send an existing link again (else only when it is created).
    pub resend: bool,
}

impl LinkRules {
    pub fn sends(&self, channel: Channel) -> bool {
        match channel {
            Channel::Sms => self.sms,
            Channel::Email => self.email,
        }
    }
}

/// A link sale as staff ask for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSale {
    pub lifetime: Lifetime,
    /// Send it to the customer through the provider (validated before anything is created).
    pub send: Option<Contact>,
}

/// The sale a charge makes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Sale {
    /// At the counter: `shop.counter_link_minutes`.
    #[default]
    Counter,
    Link(LinkSale),
}

impl Sale {
    pub fn kind(&self) -> SaleKind {
        match self {
            Sale::Counter => SaleKind::Counter,
            Sale::Link(_) => SaleKind::Link,
        }
    }

    pub fn send(&self) -> Option<&Contact> {
        match self {
            Sale::Counter => None,
            Sale::Link(l) => l.send.as_ref(),
        }
    }
}

/// The expiry Kassa asks a provider for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// What staff chose (a counter sale: `shop.counter_link_minutes`).
    pub requested: i64,
    /// What is asked of the provider: `requested`, or earlier where the provider keeps a
    /// link for less ([`LinkRules::max_ms`]).
    pub asked: i64,
}

impl Expiry {
    pub fn clamped(&self) -> bool {
        self.asked < self.requested
    }
}

/// Why a link cannot be made as asked (before anything is created).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link would expire at {at}, which is not in the future")]
    Past { at: String },
    #[error("{provider} cannot send a link by {channel}; copy the link or its QR code instead")]
    CannotSend { provider: String, channel: Channel },
    #[error("{provider} sends a link only when it is created, so it cannot send this one again; copy the link or its QR code instead")]
    CannotResend { provider: String },
}

/// The expiry of a sale created at `now`: a counter sale's `counter_ms`, a link's lifetime,
/// each no later than `rules.max_ms` allows. A link that would end within a minute is refused
/// (a date already past, most likely).
pub fn expiry(
    sale: &Sale,
    now: i64,
    counter_ms: i64,
    rules: &LinkRules,
) -> Result<Expiry, LinkError> {
    let requested = match sale {
        Sale::Counter => now + counter_ms,
        Sale::Link(l) => l.lifetime.end(now),
    };
    if requested <= now + 60_000 {
        return Err(LinkError::Past {
            at: crate::time::format_rfc3339(requested),
        });
    }
    Ok(Expiry {
        requested,
        asked: requested.min(now + rules.max_ms),
    })
}

/// Checks that `provider` can send to `contact` (when a sale asks it to) before anything is
/// created.
pub fn check_send(
    provider: &str,
    rules: &LinkRules,
    contact: Option<&Contact>,
) -> Result<(), LinkError> {
    match contact {
        Some(c) if !rules.sends(c.channel()) => Err(LinkError::CannotSend {
            provider: provider.to_string(),
            channel: c.channel(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: LinkRules = LinkRules {
        max_ms: 47 * HOUR_MS,
        sms: true,
        email: false,
        resend: true,
    };

    /// A made-up zone two hours east of UTC (the real zones are the journal's: the dates of
    /// clock changes are tested in `till::links`).
    fn utc_plus_2(date: &str) -> Result<i64, String> {
        crate::time::parse_utc(date)
            .map(|midnight| midnight + DAY_MS - 2 * HOUR_MS)
            .map_err(|_| format!("{date:?} is not a date"))
    }

    #[test]
    fn lifetimes_parse_from_presets_dates_and_times() {
        let parse = |t: &str| Lifetime::parse(t, &utc_plus_2);
        assert_eq!(parse("1h"), Ok(Lifetime::Hour));
        assert_eq!(parse("24h"), Ok(Lifetime::Day));
        assert_eq!(parse("7d"), Ok(Lifetime::Week));
        let day = crate::time::parse_utc("2026-12-24").unwrap();
        // A date: through that day in the shop's zone, by the caller's `day_end`.
        assert_eq!(
            parse("2026-12-24"),
            Ok(Lifetime::Until(day + DAY_MS - 2 * HOUR_MS))
        );
        assert!(parse("2026-13-24").unwrap_err().contains("not a date"));
        assert_eq!(
            parse("2026-12-24T18:00:00Z"),
            Ok(Lifetime::Until(day + 18 * HOUR_MS))
        );
        assert!(parse("3w").is_err());
        assert_eq!(serde_json::to_string(&Lifetime::Week).unwrap(), "\"7d\"");
        // The wire takes presets and a date, never a moment.
        let choice = |j: &str| serde_json::from_str::<LifetimeChoice>(j);
        assert_eq!(
            choice("\"7d\"").unwrap(),
            LifetimeChoice::Preset(Lifetime::Week)
        );
        assert_eq!(
            choice("{\"through\":\"2026-12-24\"}")
                .unwrap()
                .resolve(&utc_plus_2),
            parse("2026-12-24")
        );
        assert!(choice("{\"until\":5}").is_err());
        assert!(serde_json::from_str::<Lifetime>("{\"until\":5}").is_err());
    }

    #[test]
    fn a_link_is_clamped_to_the_providers_maximum_and_a_past_date_refused() {
        let now = 1_000_000_000_000;
        let link = |l| {
            Sale::Link(LinkSale {
                lifetime: l,
                send: None,
            })
        };
        let e = expiry(&link(Lifetime::Day), now, 0, &RULES).unwrap();
        assert_eq!(
            (e.requested, e.asked, e.clamped()),
            (now + DAY_MS, now + DAY_MS, false)
        );
        let e = expiry(&link(Lifetime::Week), now, 0, &RULES).unwrap();
        assert_eq!((e.asked, e.clamped()), (now + 47 * HOUR_MS, true));
        let e = expiry(&Sale::Counter, now, 15 * 60_000, &RULES).unwrap();
        assert_eq!(e.asked, now + 15 * 60_000);
        assert!(matches!(
            expiry(&link(Lifetime::Until(now - 1)), now, 0, &RULES),
            Err(LinkError::Past { .. })
        ));
    }

    #[test]
    fn a_channel_the_provider_cannot_send_is_refused() {
        let sms = Contact::phone("+4791234567").unwrap();
        let mail = Contact::email("kari@example.no").unwrap();
        assert!(check_send("klarna", &RULES, Some(&sms)).is_ok());
        assert!(check_send("klarna", &RULES, None).is_ok());
        let e = check_send("klarna", &RULES, Some(&mail)).unwrap_err();
        assert!(e.to_string().contains("cannot send a link by email"));
    }
}
