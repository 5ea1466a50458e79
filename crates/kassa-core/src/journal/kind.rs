//! What a journal entry records ([`Kind`]) and the SAF-T Cash Register event code each kind
//! maps to (PredefinedBasicID-13), so the export is a mapping, not a translation.

use serde::{Deserialize, Serialize};

/// What happened. The wire and database string is the snake_case name; it never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The application started (the desktop app; `kassa-cli` runs are not starts).
    AppStart,
    /// An operator's PIN was accepted (also a switch of operator).
    Login,
    /// A PIN was refused. No SAF-T code exists for it ("Other"); kept because repeated
    /// refusals are what an auditor looks for. Never holds the PIN.
    LoginFailed,
    /// An operator logged out or was switched away from.
    Logout,
    /// A sale's receipt: the session became paid. Signed.
    Sale,
    /// A return receipt: a refund (by API or recorded by staff) or a void of a paid sale's
    /// authorization was done. Signed, negative amounts.
    Return,
    /// A copy of a sales or return receipt (at most one per receipt).
    Copy,
    /// A sale that ended without payment: cancelled, expired or failed.
    Void,
    /// A sale concluded while its receipt could not be printed (printed later, as the original).
    NoReceipt,
    /// An X report, in full.
    XReport,
    /// A Z report, in full; closes its period.
    ZReport,
    /// The journal was exported (SAF-T).
    Export,
    /// A product was added, changed (its price) or removed.
    PriceChange,
    /// A setting or a credential (its name, never its value) was changed.
    SettingsChange,
    /// An operator was added or removed.
    OperatorChange,
    /// Staff confirmed a payment the provider could not (not the provider's evidence).
    StaffConfirmed,
    /// Staff recorded a refund made outside Kassa (not the provider's evidence).
    StaffRecorded,
    /// The journal's signing key was created.
    KeyCreated,
}

impl Kind {
    pub const ALL: [Kind; 18] = [
        Kind::AppStart,
        Kind::Login,
        Kind::LoginFailed,
        Kind::Logout,
        Kind::Sale,
        Kind::Return,
        Kind::Copy,
        Kind::Void,
        Kind::NoReceipt,
        Kind::XReport,
        Kind::ZReport,
        Kind::Export,
        Kind::PriceChange,
        Kind::SettingsChange,
        Kind::OperatorChange,
        Kind::StaffConfirmed,
        Kind::StaffRecorded,
        Kind::KeyCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AppStart => "app_start",
            Kind::Login => "login",
            Kind::LoginFailed => "login_failed",
            Kind::Logout => "logout",
            Kind::Sale => "sale",
            Kind::Return => "return",
            Kind::Copy => "copy",
            Kind::Void => "void",
            Kind::NoReceipt => "no_receipt",
            Kind::XReport => "x_report",
            Kind::ZReport => "z_report",
            Kind::Export => "export",
            Kind::PriceChange => "price_change",
            Kind::SettingsChange => "settings_change",
            Kind::OperatorChange => "operator_change",
            Kind::StaffConfirmed => "staff_confirmed",
            Kind::StaffRecorded => "staff_recorded",
            Kind::KeyCreated => "key_created",
        }
    }

    pub fn parse(text: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not a journal entry kind"))
    }

    /// The SAF-T Cash Register event code (PredefinedBasicID-13). Kinds SAF-T has no code for
    /// are 13999 "Other"; their [`Kind::basic_id`] keeps them apart in an export.
    pub fn event_code(self) -> &'static str {
        match self {
            Kind::AppStart => "13001",
            Kind::Login => "13003",
            Kind::Logout => "13004",
            Kind::XReport => "13008",
            Kind::ZReport => "13009",
            Kind::Sale => "13012",
            Kind::Return => "13013",
            Kind::Copy => "13014",
            Kind::Export => "13020",
            Kind::PriceChange => "13021",
            // "Annulleringskvittering": Kassa prints no void receipt, but a checkout that ended
            // unpaid is what this code counts (an interpretation: README, "The journal").
            Kind::Void => "13028",
            Kind::NoReceipt => "13030",
            Kind::LoginFailed
            | Kind::SettingsChange
            | Kind::OperatorChange
            | Kind::StaffConfirmed
            | Kind::StaffRecorded
            | Kind::KeyCreated => "13999",
        }
    }

    /// The mnemonic SAF-T `basicID` (basicType 13) of this kind, unique per kind.
    pub fn basic_id(self) -> &'static str {
        match self {
            Kind::AppStart => "APPSTART",
            Kind::Login => "LOGIN",
            Kind::LoginFailed => "LOGINFAIL",
            Kind::Logout => "LOGOUT",
            Kind::Sale => "SALREC",
            Kind::Return => "RETREC",
            Kind::Copy => "COPYREC",
            Kind::Void => "VOID",
            Kind::NoReceipt => "NORECEIPT",
            Kind::XReport => "XREP",
            Kind::ZReport => "ZREP",
            Kind::Export => "EXPORT",
            Kind::PriceChange => "PRICECHG",
            Kind::SettingsChange => "SETTINGS",
            Kind::OperatorChange => "OPERATOR",
            Kind::StaffConfirmed => "STAFFCONF",
            Kind::StaffRecorded => "STAFFREC",
            Kind::KeyCreated => "KEYNEW",
        }
    }

    /// Sales and returns are the signed cash transactions: numbered (`nr`) and signed per
    /// Skatteetaten's rule. Everything else is an event.
    pub fn is_signed(self) -> bool {
        matches!(self, Kind::Sale | Kind::Return)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_has_a_unique_basic_id() {
        let mut ids = std::collections::HashSet::new();
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Ok(k));
            assert!(ids.insert(k.basic_id()), "{k}: duplicate basicID");
            assert!(k.basic_id().len() <= 35);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert!(Kind::parse("refund").is_err());
    }

    /// The codes are PredefinedBasicID-13's (../shared/fiscal/saf-t-cash-register/code-lists):
    /// only codes of that list, and the ones SAF-T names for what Kassa does.
    #[test]
    fn event_codes_are_from_the_official_list() {
        let official = [
            "13001", "13002", "13003", "13004", "13005", "13006", "13007", "13008", "13009",
            "13010", "13011", "13012", "13013", "13014", "13015", "13016", "13017", "13018",
            "13019", "13020", "13021", "13022", "13023", "13024", "13025", "13026", "13027",
            "13028", "13029", "13030", "13999",
        ];
        for k in Kind::ALL {
            assert!(official.contains(&k.event_code()), "{k}");
        }
        assert_eq!(Kind::Sale.event_code(), "13012");
        assert_eq!(Kind::Return.event_code(), "13013");
        assert_eq!(Kind::Copy.event_code(), "13014");
        assert_eq!(Kind::Login.event_code(), "13003");
        assert!(Kind::Sale.is_signed() && Kind::Return.is_signed());
        assert!(!Kind::Copy.is_signed() && !Kind::Void.is_signed());
    }
}
