//! What a receipt says, per market. Norway (bokmål) only for now; a market's words and the
//! fields its rules require live together, so adding Sweden is a second table, not `if`s.

use super::Market;

/// Every fixed text a receipt prints.
pub(super) struct Words {
    /// NO: kassasystemforskrifta § 2-8-4: the heading of a sales receipt.
    pub sale: &'static str,
    /// NO § 2-8-5: the heading of a return receipt.
    pub sale_return: &'static str,
    /// NO § 2-8-6: a copy is clearly marked "KOPI".
    pub copy: &'static str,
    /// What a copy is not (Norwegian tills print it on copies: a copy proves no purchase).
    pub copy_not_proof: &'static str,
    /// Kassa's own marker: a demo sale moved no money (not a rule of any market).
    pub demo: &'static str,
    /// NO § 2-8-4: "Org.nr." before the number, "MVA" after it when VAT-registered
    /// (merverdiavgiftsloven; Skatteetaten "Krav til salgsdokumentet").
    pub org_number: &'static str,
    pub vat_registered: &'static str,
    pub number: &'static str,
    pub date: &'static str,
    pub register: &'static str,
    pub operator: &'static str,
    pub return_of: &'static str,
    pub copy_printed: &'static str,
    pub discount: &'static str,
    pub excl_vat: &'static str,
    /// A refund part by amount: money back, no goods back.
    pub amount_only: &'static str,
    pub total: &'static str,
    /// The VAT table's columns: rate, base, VAT, gross.
    pub vat_columns: [&'static str; 4],
    pub vat_sum: &'static str,
    pub paid_with: &'static str,
    pub refunded_to: &'static str,
    pub reference: &'static str,
    pub order: &'static str,
    pub captured: &'static str,
    pub authorized: &'static str,
    pub partly_captured: &'static str,
    /// A sale logged before Kassa recorded captures: paid, how far captured unknown.
    pub paid: &'static str,
    pub confirmed_by_staff: &'static str,
    pub recorded_by_staff: &'static str,
    /// The decimal separator of quantities and rates.
    pub decimal: char,
    /// The locale the amounts are formatted in ([`crate::money::Currency::format_number`]).
    pub locale: &'static str,
}

const NO: Words = Words {
    sale: "Salgskvittering",
    sale_return: "Returkvittering",
    copy: "KOPI",
    copy_not_proof: "IKKE KVITTERING FOR KJØP",
    demo: "DEMO – ingen ekte penger",
    org_number: "Org.nr.",
    vat_registered: "MVA",
    number: "Kvittering nr.",
    date: "Dato",
    register: "Kasse",
    operator: "Operatør",
    return_of: "Retur av kvittering nr.",
    copy_printed: "Kopi skrevet ut",
    discount: "Rabatt",
    excl_vat: "eks. mva",
    amount_only: "kun beløp",
    total: "TOTALT",
    vat_columns: ["MVA", "Grunnlag", "MVA-beløp", "Brutto"],
    vat_sum: "Sum",
    paid_with: "Betalt med",
    refunded_to: "Tilbakebetalt til",
    reference: "Referanse",
    order: "Ordre",
    captured: "Belastet",
    authorized: "Reservert, ikke belastet ennå",
    partly_captured: "Delvis belastet:",
    paid: "Betalt",
    confirmed_by_staff: "Betalingen er bekreftet av personalet",
    recorded_by_staff: "Tilbakebetalingen er registrert av personalet",
    decimal: ',',
    locale: "nb",
};

impl Market {
    pub(super) fn words(self) -> &'static Words {
        match self {
            Market::No => &NO,
        }
    }
}
