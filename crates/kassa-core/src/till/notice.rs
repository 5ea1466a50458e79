//! The desktop notification a link sale's end gets ([`notice`]): staff are not looking at the
//! Links screen when a customer pays a link a day later. Only link sales: a counter sale is
//! watched on the counter's own screen. The words follow the shop's locale (`shop.locale`:
//! nb, sv, da, else English), as the receipt and the screens do.

use super::view::SessionView;
use crate::link::SaleKind;
use crate::session::Status;

/// A notification's title and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    pub body: String,
}

/// The notification for `v` (a session whose status just changed), if it deserves one: a link
/// sale that is paid, or that ended needing staff to check the payment.
pub fn notice(v: &SessionView, locale: &str) -> Option<Notice> {
    if v.sale != SaleKind::Link {
        return None;
    }
    let lang = locale.get(0..2).unwrap_or("en");
    let (paid, review, reference) = match lang {
        "nb" => ("Lenke betalt", "Lenke: sjekk betalingen", "referanse"),
        "sv" => ("Länk betald", "Länk: kontrollera betalningen", "referens"),
        "da" => ("Link betalt", "Link: kontrollér betalingen", "reference"),
        _ => ("Link paid", "Link: check the payment", "reference"),
    };
    let summary = match v.status {
        Status::Paid => paid,
        Status::NeedsReview => review,
        _ => return None,
    };
    // The amount as the screens show it (`349,50 kr`).
    let mut body = format!("{} · {reference} {}", v.amount, v.reference);
    if let Some(c) = &v.contact {
        body.push_str(&format!(" · {c}"));
    }
    Some(Notice {
        summary: summary.to_string(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionRecord;
    use crate::till::view::{view, Depth};

    fn session(sale: SaleKind, status: Status) -> SessionView {
        let s = SessionRecord {
            id: "0190a0a0-0000-7000-8000-000000000001".into(),
            provider: "klarna".into(),
            profile: "test".into(),
            demo: false,
            provider_session_id: Some("P-1".into()),
            merchant_reference: "K-2026-0042".into(),
            currency: "NOK".into(),
            gross_minor: 34950,
            net_minor: 27960,
            vat_minor: 6990,
            order_json: String::new(),
            checkout_url: None,
            qr_payload: None,
            status,
            created_at: 0,
            updated_at: 0,
            expires_at: None,
            last_error: None,
            provider_payment_id: None,
            confirmed_by: None,
            capture_policy: None,
            authorization_expires_at: None,
            operator_id: None,
            sale,
            requested_expires_at: None,
            contact: None,
            contact_masked: Some("+47******67".into()),
            renews: None,
        };
        view(&s, &[], &[], ("nb", 0), Depth::List, None)
    }

    #[test]
    fn a_paid_link_is_notified_in_the_shops_language_with_the_masked_contact() {
        let n = notice(&session(SaleKind::Link, Status::Paid), "nb").unwrap();
        assert_eq!(n.summary, "Lenke betalt");
        assert_eq!(
            n.body,
            "349,50\u{a0}kr · referanse K-2026-0042 · +47******67"
        );
        let n = notice(&session(SaleKind::Link, Status::Paid), "sv").unwrap();
        assert_eq!(n.summary, "Länk betald");
        let n = notice(&session(SaleKind::Link, Status::NeedsReview), "da").unwrap();
        assert_eq!(n.summary, "Link: kontrollér betalingen");
        let n = notice(&session(SaleKind::Link, Status::Paid), "en").unwrap();
        assert_eq!(n.summary, "Link paid");
    }

    #[test]
    fn counter_sales_and_other_ends_are_not_notified() {
        assert_eq!(
            notice(&session(SaleKind::Counter, Status::Paid), "nb"),
            None
        );
        assert_eq!(
            notice(&session(SaleKind::Link, Status::Expired), "nb"),
            None
        );
        assert_eq!(notice(&session(SaleKind::Link, Status::Open), "nb"), None);
    }
}
