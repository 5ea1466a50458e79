//! A payment link on paper: the slip a link sale prints on the receipt printer for a customer
//! who pays later (handed over, stapled to an invoice, put up as a poster). It says who is
//! paid, how much, until when the link can be paid (the expiry the provider confirmed, in the
//! till's local time), the QR code and the URL written out.
//!
//! Not a receipt: nothing is paid yet, so it carries no receipt number, no VAT table and no
//! journal entry (the receipt is made when the link is paid, exactly as for a counter sale).

use super::escpos::encode_with_qr;
use super::{Columns, Line, ReceiptError, Size};
use crate::journal::LocalStamp;

/// What a link slip shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSlip {
    /// The shop (`shop.name`).
    pub seller: String,
    /// `349,50 NOK`.
    pub amount: String,
    /// The merchant reference the customer can quote.
    pub reference: String,
    /// When the link stops being payable, in the till's local time.
    pub expires: LocalStamp,
    /// The link itself (the QR's content).
    pub url: String,
}

impl LinkSlip {
    /// The text above the QR code and below it, `columns` wide (long URLs wrap).
    pub fn lines(&self, columns: Columns) -> (Vec<Line>, Vec<Line>) {
        let line = |text: String, size, bold| Line { text, size, bold };
        let (d, t) = (&self.expires.date, &self.expires.time);
        // `2026-12-24` → `24.12.2026`, as Norwegians read a date on paper.
        let date = match (d.get(0..4), d.get(5..7), d.get(8..10)) {
            (Some(y), Some(m), Some(day)) => format!("{day}.{m}.{y}"),
            _ => d.clone(),
        };
        let before = vec![
            line(self.seller.clone(), Size::Normal, true),
            line("BETALINGSLENKE".into(), Size::Double, true),
            line(format!("Beløp: {}", self.amount), Size::Double, false),
            line(
                format!("Referanse: {}", self.reference),
                Size::Normal,
                false,
            ),
            line(
                format!("Kan betales til {date} kl. {}", t.get(0..5).unwrap_or(t)),
                Size::Normal,
                true,
            ),
            line("Skann koden med telefonen:".into(), Size::Normal, false),
        ];
        let width = columns.get().max(1);
        let chars: Vec<char> = self.url.chars().collect();
        let after = chars
            .chunks(width)
            .map(|c| line(c.iter().collect(), Size::Normal, false))
            .collect();
        (before, after)
    }

    /// The slip as ESC/POS bytes for [`crate::printer::send`].
    pub fn escpos(&self, columns: Columns) -> Result<Vec<u8>, ReceiptError> {
        let (before, after) = self.lines(columns);
        encode_with_qr(&before, &self.url, &after, columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slip() -> LinkSlip {
        LinkSlip {
            seller: "Bakeriet på Torget AS".into(),
            amount: "349,50 NOK".into(),
            reference: "R-2026-0042".into(),
            expires: LocalStamp {
                date: "2026-12-24".into(),
                time: "18:00:00".into(),
            },
            url: "https://checkout.example/v1/view/T12345678.4xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
                .into(),
        }
    }

    #[test]
    fn the_slip_says_amount_expiry_and_the_url_around_the_printers_own_qr_code() {
        let columns = Columns::new(32).unwrap();
        let s = slip();
        let (before, after) = s.lines(columns);
        let text: Vec<&str> = before.iter().map(|l| l.text.as_str()).collect();
        assert!(text.contains(&"Beløp: 349,50 NOK"), "{text:?}");
        assert!(
            text.contains(&"Kan betales til 24.12.2026 kl. 18:00"),
            "{text:?}"
        );
        let url: String = after.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(url, s.url);
        assert!(after.iter().all(|l| l.text.chars().count() <= 32));
        let bytes = s.escpos(columns).unwrap();
        // GS ( k: store the QR's data (fn 80: pL pH 49 80 48 then the URL), then print it.
        let store = [
            &[0x1d, b'(', b'k'][..],
            &((s.url.len() + 3) as u16).to_le_bytes(),
            &[49, 80, 48],
        ]
        .concat();
        let at = bytes
            .windows(store.len())
            .position(|w| w == store.as_slice())
            .expect("the QR's data command");
        assert_eq!(
            &bytes[at + store.len()..at + store.len() + s.url.len()],
            s.url.as_bytes()
        );
        // Beløp in PC865: ø is 0x9b, never UTF-8.
        assert!(bytes.windows(5).any(|w| w == b"Bel\x9bp"));
        assert!(!bytes.windows(2).any(|w| w == "ø".as_bytes()));
        // Ends with the cut.
        assert!(bytes.ends_with(b"\x1dVA\x00"));
    }

    #[test]
    fn a_qr_payload_that_is_not_a_plain_url_is_refused() {
        let mut s = slip();
        s.url = "https://x.example/\x1b@".into();
        assert!(s.escpos(Columns::new(32).unwrap()).is_err());
    }
}
