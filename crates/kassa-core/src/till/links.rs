//! Link sales on the desktop: what the charge dialog's link option sends ([`LinkRequest`]),
//! the Links screen ([`Till::links`]) and its Resend, Renew and Cancel, and the link's QR as
//! files and on the receipt printer. The rules are the core's (`link`, `checkout::link`): this
//! is only the till's side of them.

use super::view::{view, Depth, SessionView};
use super::{Till, TillError};
use crate::checkout::{self, Renewal};
use crate::code::Code;
use crate::journal::Zone;
use crate::link::{Contact, Lifetime, LifetimeChoice, LinkSale, Sale};
use crate::printing::PrintingError;
use crate::provider::cache::ProviderSource;
use crate::provider::{Capabilities, Provider};
use crate::session::SessionId;
use crate::time::now_millis;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The charge dialog's link option as the UI sends it: the lifetime and, optionally, whom the
/// provider sends the link to. `phone` and `email` are checked with [`Contact`]'s rules; a
/// problem names its field (`phone`, `email`) so the dialog shows it beside that field.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LinkRequest {
    /// A preset, or the last day to pay as a date (`{"through": "2026-12-24"}`): the dialog
    /// sends the date, the core turns it into the end of that day in the till's time zone.
    pub lifetime: Option<LifetimeChoice>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

impl LinkRequest {
    /// The contact, validated (`None`: the link is only copied, saved or printed).
    pub fn contact(&self) -> Result<Option<Contact>, TillError> {
        fn text(t: &Option<String>) -> Option<&str> {
            t.as_deref().map(str::trim).filter(|t| !t.is_empty())
        }
        match (text(&self.phone), text(&self.email)) {
            (Some(_), Some(_)) => Err(TillError::field(
                "email",
                "give a phone number or an e-mail address, not both",
            )),
            (Some(p), None) => Contact::phone(p)
                .map(Some)
                .map_err(|r| TillError::field("phone", r)),
            (None, Some(e)) => Contact::email(e)
                .map(Some)
                .map_err(|r| TillError::field("email", r)),
            (None, None) => Ok(None),
        }
    }

    /// The link sale it asks for (default lifetime: 24 hours), a last day to pay ending at
    /// the next midnight in `zone` (a bad date is a problem of the `until` field).
    pub fn sale(&self, zone: &Zone) -> Result<Sale, TillError> {
        let lifetime = match &self.lifetime {
            None => Lifetime::Day,
            Some(choice) => choice
                .resolve(&|d| zone.day_end_ms(d))
                .map_err(|r| TillError::field("until", r))?,
        };
        Ok(Sale::Link(LinkSale {
            lifetime,
            send: self.contact()?,
        }))
    }
}

/// Where a link's QR code was saved.
#[derive(Debug, Clone, Serialize)]
pub struct SavedQr {
    pub png: String,
    pub svg: String,
}

impl<P: ProviderSource> Till<P> {
    /// The link sale the charge dialog asks for, its last day to pay in the till's time zone
    /// (the session log's, as the history's dates).
    pub fn link_sale(&self, req: &LinkRequest) -> Result<Sale, TillError> {
        req.sale(self.log.time_zone())
    }

    /// The client of provider `name` under `profile` (the background follower's source).
    pub fn provider_named(
        &mut self,
        name: &str,
        profile: &str,
    ) -> Result<Arc<dyn Provider>, TillError> {
        self.provider(name, Some(profile))
    }

    /// The Links screen: every link sale staff may still act on (open, or ended unpaid and not
    /// renewed yet), newest first, with what its provider allows (resend).
    pub fn links(&mut self) -> Result<Vec<SessionView>, TillError> {
        let now = now_millis();
        let locale = self.locale();
        let mut caps: HashMap<(String, String), Option<Capabilities>> = HashMap::new();
        let mut out = Vec::new();
        for s in self.log.links(now)? {
            let key = (s.provider.clone(), s.profile.clone());
            let c = match caps.get(&key) {
                Some(c) => *c,
                None => {
                    let c = self
                        .provider(&s.provider, Some(&s.profile))
                        .ok()
                        .map(|p| p.capabilities());
                    caps.insert(key, c);
                    c
                }
            };
            out.push(view(&s, &[], &[], (&locale, now), Depth::List, c));
        }
        Ok(out)
    }

    /// The provider sends open link `id` again, to `to` if given, else to the contact the
    /// session log keeps. The view's `sent` says what became of it.
    pub fn resend(&mut self, id: &str, to: &LinkRequest) -> Result<SessionView, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        let contact = to.contact()?;
        self.acting()?;
        let provider = self.provider_of(id)?;
        let (_, delivery) = checkout::resend(
            &mut self.log,
            provider.as_ref(),
            id,
            contact.as_ref(),
            now_millis(),
        )?;
        let mut v = self.session_view(id, Depth::Live, Some(provider.capabilities()))?;
        v.sent = Some(delivery);
        Ok(v)
    }

    /// A new session for the order of expired or cancelled link `id` (a session is never
    /// reused), with `lifetime` (default: as long as the old one was asked to live), sent to
    /// the old contact unless `to` names another.
    pub fn renew(
        &mut self,
        id: &str,
        lifetime: Option<Lifetime>,
        to: &LinkRequest,
    ) -> Result<SessionView, TillError> {
        SessionId::parse(id).map_err(|r| TillError::field("id", r))?;
        let send = to.contact()?;
        let operator = self.acting()?;
        let provider = self.provider_of(id)?;
        let return_url = self.return_url();
        let now = now_millis();
        let started = checkout::renew(
            &mut self.log,
            &self.dir.clone(),
            provider.as_ref(),
            id,
            &Renewal {
                lifetime,
                send,
                return_url: Some(return_url),
            },
            SessionId::generate(now),
            &operator,
            now,
        )?;
        let mut v = view(
            &started.session,
            &[],
            &[],
            (&self.locale(), now),
            Depth::Live,
            Some(provider.capabilities()),
        );
        v.sent = started.sent;
        Ok(v)
    }

    /// Saves link `id`'s QR code as `<reference>-qr.png` (8 pixels a module) and `.svg` in
    /// `dir`.
    pub fn save_link_qr(&self, id: &str, dir: &Path) -> Result<SavedQr, TillError> {
        let (s, _) = self.log.get(id)?;
        let payload = s
            .qr_payload
            .as_deref()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                TillError::new(
                    Code::InvalidInput,
                    format!("session {id} has no link to save as a QR code"),
                )
            })?;
        let stem: String = s
            .merchant_reference
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let png = qr_file(dir, &stem, "png");
        let svg = qr_file(dir, &stem, "svg");
        let write = |path: &PathBuf, bytes: &[u8]| {
            std::fs::write(path, bytes).map_err(|e| {
                TillError::new(
                    Code::Export,
                    format!("cannot write {}: {e}", path.display()),
                )
            })
        };
        let png_bytes =
            crate::qr::png(payload, 8).map_err(|m| TillError::new(Code::InvalidInput, m))?;
        let svg_text = crate::qr::svg(payload).map_err(|m| TillError::new(Code::Internal, m))?;
        write(&png, &png_bytes)?;
        write(&svg, svg_text.as_bytes())?;
        Ok(SavedQr {
            png: png.display().to_string(),
            svg: svg.display().to_string(),
        })
    }

    /// Prints link `id`'s slip (QR, amount, the expiry the provider confirmed) on the receipt
    /// printer (`printer.url`).
    pub fn print_link_slip(&self, id: &str) -> Result<(), TillError> {
        let (s, _) = self.log.get(id)?;
        let printer = self.settings.printer().ok_or(PrintingError::NoPrinter)?;
        let bytes = crate::printing::link_slip(&self.settings, &s)
            .map_err(|m| TillError::new(Code::InvalidInput, m))?;
        crate::printer::send(&printer, &bytes).map_err(PrintingError::Print)?;
        Ok(())
    }
}

/// `<dir>/kassa-link-<reference>.<ext>`.
fn qr_file(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    dir.join(format!("kassa-link-{stem}.{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(phone: Option<&str>, email: Option<&str>) -> LinkRequest {
        LinkRequest {
            lifetime: None,
            phone: phone.map(String::from),
            email: email.map(String::from),
        }
    }

    #[test]
    fn a_bad_contact_names_its_field() {
        let e = req(Some("912 34 567"), None).contact().unwrap_err();
        assert_eq!(e.code, Code::InvalidInput);
        assert_eq!(e.problems[0].path, "phone");
        let e = req(None, Some("kari.example.com")).contact().unwrap_err();
        assert_eq!(e.problems[0].path, "email");
        let e = req(Some("+4791234567"), Some("kari@example.com"))
            .contact()
            .unwrap_err();
        assert_eq!(e.problems[0].path, "email");
    }

    #[test]
    fn blank_fields_send_nothing_and_a_good_contact_is_normalised() {
        assert_eq!(req(Some("  "), Some("")).contact().unwrap(), None);
        let c = req(Some("+47 912 34 567"), None)
            .contact()
            .unwrap()
            .unwrap();
        assert_eq!(c.value(), "+4791234567");
        match req(None, None).sale(&Zone::named("UTC").unwrap()).unwrap() {
            Sale::Link(l) => assert_eq!(l.lifetime, Lifetime::Day),
            Sale::Counter => panic!("a link request makes a link sale"),
        }
    }

    /// The dialog's last day to pay, as it arrives over IPC, in the till's zone.
    fn through(date: &str, zone: &str) -> Result<Lifetime, TillError> {
        let mut r = req(None, None);
        r.lifetime = Some(serde_json::from_value(serde_json::json!({ "through": date })).unwrap());
        match r.sale(&Zone::named(zone).unwrap())? {
            Sale::Link(l) => Ok(l.lifetime),
            Sale::Counter => panic!("a link request makes a link sale"),
        }
    }

    #[test]
    fn a_last_day_to_pay_ends_at_the_tills_next_midnight_also_when_the_clock_changes() {
        let at = |t: &str| Lifetime::Until(crate::time::parse_utc(t).unwrap());
        // Winter in Oslo (UTC+1): 24 December ends at 23:00 UTC.
        assert_eq!(
            through("2026-12-24", "Europe/Oslo").unwrap(),
            at("2026-12-24T23:00:00Z")
        );
        // Summer (UTC+2), and the two days the clock changes: the spring day (23 hours) ends
        // in summer time, the autumn day (25 hours) in winter time.
        assert_eq!(
            through("2026-07-01", "Europe/Oslo").unwrap(),
            at("2026-07-01T22:00:00Z")
        );
        assert_eq!(
            through("2026-03-29", "Europe/Oslo").unwrap(),
            at("2026-03-29T22:00:00Z")
        );
        assert_eq!(
            through("2026-10-25", "Europe/Oslo").unwrap(),
            at("2026-10-25T23:00:00Z")
        );
        // The same date is a different moment in another shop's zone.
        assert_eq!(
            through("2026-12-24", "America/New_York").unwrap(),
            at("2026-12-25T05:00:00Z")
        );
        // The CLI's `--expires-in <date>` is the same function.
        let oslo = Zone::named("Europe/Oslo").unwrap();
        assert_eq!(
            Lifetime::parse("2026-10-25", &|d| oslo.day_end_ms(d)).unwrap(),
            through("2026-10-25", "Europe/Oslo").unwrap()
        );
        let e = through("24.12.2026", "Europe/Oslo").unwrap_err();
        assert_eq!(e.code, Code::InvalidInput);
        assert_eq!(e.problems[0].path, "until");
    }
}
