//! What an entry says (`body`, JSON), for the receipt, the X and Z reports and the SAF-T
//! export: everything they need is stored with the entry at the time, so none of them looks
//! anything up later (an operator's name, a product's price and the sale's lines can change or
//! go; the entry keeps what they were).
//!
//! Amounts are integer minor units of the sale's currency. A return's amounts, quantities and
//! VAT are negative, as SAF-T writes them, so every total of a report is a plain sum of
//! bodies, and a signed entry's `total` always equals its `gross_minor`/`net_minor` columns
//! (which `journal verify` checks).
//!
//! The body is serialized once, when the entry is written, and hashed as those bytes.

use crate::provider::OperationLine;
use serde::{Deserialize, Serialize};

/// Who did it, with the name they had then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorStamp {
    pub id: i64,
    pub name: String,
}

/// Net, VAT and gross (`net + vat = gross`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub gross: i64,
    pub net: i64,
    pub vat: i64,
}

impl Totals {
    /// The same amounts with the other sign (a return of a sale's amounts).
    pub fn negated(self) -> Totals {
        Totals {
            gross: -self.gross,
            net: -self.net,
            vat: -self.vat,
        }
    }
}

/// One VAT rate's amounts (`rate` a canonical percent, `"25"`, `"11.11"`), highest rate first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTotals {
    pub rate: String,
    pub net: i64,
    pub vat: i64,
    pub gross: i64,
}

/// Where a sale's money stood when its entry was written, by the evidence at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Authorized; staff capture it later (the `manual` capture policy).
    Authorized,
    /// Authorized, and its capture at sale was asked (of the provider with the session, or by
    /// Kassa right after), but the provider did not show it captured yet.
    CapturePending,
    /// The provider showed it captured (or it is final money by nature: an Opencharge transfer).
    Captured,
    /// Money went back (a return).
    Refunded,
    /// The authorization was released (a return by void).
    Voided,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Authorized => "authorized",
            Standing::CapturePending => "capture_pending",
            Standing::Captured => "captured",
            Standing::Refunded => "refunded",
            Standing::Voided => "voided",
        }
    }
}

/// The means of payment of a sale or a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Kassa's provider name (`dintero`, `demo`, …) and profile (`test`, `live`).
    pub provider: String,
    pub profile: String,
    /// SAF-T PredefinedBasicID-12 (12003 credit card, 12011 mobile phone apps, 12999 other;
    /// the provider's spec says which and why).
    pub payment_type: String,
    /// The mnemonic SAF-T `basicID` of this provider's payments (`DINTERO`).
    pub basic_id: String,
    /// The provider's reference of the payment (its payment id, else its session id).
    pub reference: Option<String>,
    pub standing: Standing,
    /// `staff` when staff confirmed the payment (or recorded the refund), not the provider.
    pub confirmed_by: Option<String>,
    /// The provider's own words (or staff's note) the standing rests on.
    pub evidence: String,
}

/// A sales receipt (`sale`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleBody {
    pub session_id: String,
    pub merchant_reference: String,
    /// A demo sale moved no money; it counts as a sale, and its receipt says DEMO.
    pub demo: bool,
    pub currency: String,
    pub operator: OperatorStamp,
    /// The priced order as charged (the session log's shape: lines with name, sku, quantity,
    /// unit, unit_price, discount, vat_rate, net, vat, gross; vat_summary; total).
    pub order: serde_json::Value,
    pub vat: Vec<RateTotals>,
    pub total: Totals,
    pub payment: Payment,
}

/// A line of a return: the part of a sale's line that went back, negated (quantity `"-2"`;
/// `"0"` for a refund by amount, money and no goods), as SAF-T writes a return's lines.
pub fn returned(line: &OperationLine) -> OperationLine {
    let q = line.quantity.trim();
    OperationLine {
        quantity: if q == "0" || q.is_empty() {
            "0".into()
        } else {
            format!("-{q}")
        },
        gross: -line.gross,
        net: -line.net,
        vat: -line.vat,
        ..line.clone()
    }
}

/// A return receipt (`return`): a refund or a void of a paid sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnBody {
    pub session_id: String,
    /// The operation (refund, refund_recorded, void) this return is.
    pub operation_id: String,
    pub operation: String,
    /// The sale's receipt: its number and journal entry (`None` for a sale paid before the
    /// journal began).
    pub original_nr: Option<i64>,
    pub original_seq: Option<i64>,
    pub demo: bool,
    pub currency: String,
    pub operator: OperatorStamp,
    /// Staff's reason (a refund) or note (a recorded refund).
    pub reason: Option<String>,
    pub lines: Vec<OperationLine>,
    pub vat: Vec<RateTotals>,
    pub total: Totals,
    pub payment: Payment,
}

/// A sale that ended without payment (`void`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoidBody {
    pub session_id: String,
    pub merchant_reference: String,
    pub provider: String,
    pub demo: bool,
    /// `cancelled`, `expired` or `failed`.
    pub status: String,
    pub currency: String,
    /// What the sale would have been.
    pub total: Totals,
    /// The provider's (or Kassa's) words for how it ended.
    pub detail: String,
}

/// A copy of a receipt (`copy`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyBody {
    /// The copied receipt: its kind (`sale`, `return`), number and journal entry.
    pub original_kind: String,
    pub original_nr: i64,
    pub original_seq: i64,
    pub session_id: Option<String>,
    pub operator: OperatorStamp,
    /// The copied receipt's amount incl. VAT (X and Z count copies by amount).
    pub gross: i64,
    pub currency: String,
}

/// The totals per VAT rate of a set of lines, highest rate first.
pub fn rate_totals<'a>(
    lines: impl IntoIterator<Item = (&'a str, i64, i64, i64)>,
) -> Vec<RateTotals> {
    let mut rows: Vec<RateTotals> = Vec::new();
    for (rate, net, vat, gross) in lines {
        match rows.iter_mut().find(|r| r.rate == rate) {
            Some(r) => {
                r.net += net;
                r.vat += vat;
                r.gross += gross;
            }
            None => rows.push(RateTotals {
                rate: rate.to_string(),
                net,
                vat,
                gross,
            }),
        }
    }
    let bp = |r: &str| crate::order::VatRate::parse_percent(r).map_or(0, |v| v.basis_points());
    rows.sort_by_key(|r| std::cmp::Reverse(bp(&r.rate)));
    rows
}

/// The SAF-T payment type (PredefinedBasicID-12) of Kassa's demo provider: "Other" (no money
/// moves; the demo is no instrument).
pub const DEMO_PAYMENT_TYPE: &str = "12999";

/// The payment type and mnemonic `basicID` of a provider's payments: from its spec
/// (`provider::<name>::spec`), the demo's here.
pub fn payment_type(provider: &str) -> (&'static str, String) {
    let code = crate::provider::spec(provider).map_or(DEMO_PAYMENT_TYPE, |s| s.payment_type);
    (code, provider.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_summed_and_the_highest_comes_first() {
        let rows = rate_totals([
            ("15", 100, 15, 115),
            ("25", 80, 20, 100),
            ("15", -30, -5, -35),
            ("0", 10, 0, 10),
        ]);
        let rates: Vec<&str> = rows.iter().map(|r| r.rate.as_str()).collect();
        assert_eq!(rates, ["25", "15", "0"]);
        assert_eq!((rows[1].net, rows[1].vat, rows[1].gross), (70, 10, 80));
    }

    #[test]
    fn a_returned_line_is_negative_and_an_amount_only_part_has_no_goods() {
        let line = OperationLine {
            index: 1,
            name: "Kaffe".into(),
            sku: Some("kaffe-1".into()),
            quantity: "2".into(),
            unit: None,
            vat_rate: "15".into(),
            gross: 4000,
            net: 3478,
            vat: 522,
        };
        let r = returned(&line);
        assert_eq!(
            (r.quantity.as_str(), r.gross, r.net, r.vat),
            ("-2", -4000, -3478, -522)
        );
        let part = returned(&OperationLine {
            quantity: "0".into(),
            ..line
        });
        assert_eq!(part.quantity, "0");
    }

    #[test]
    fn every_provider_has_a_payment_type_from_the_official_list() {
        let official = [
            "12001", "12002", "12003", "12004", "12005", "12006", "12007", "12008", "12009",
            "12010", "12011", "12999",
        ];
        for spec in crate::provider::REGISTRY {
            assert!(official.contains(&spec.payment_type), "{}", spec.name);
        }
        assert_eq!(payment_type("opencharge"), ("12011", "OPENCHARGE".into()));
        assert_eq!(payment_type("demo"), ("12999", "DEMO".into()));
    }
}
