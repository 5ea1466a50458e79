//! A checkout session's identity and life cycle: Kassa's session id and the status model every
//! provider maps into.
//!
//! ```text
//! creating ──► open ──► paid | cancelled | expired | failed | needs_review
//!    │          │
//!    ├──► failed (the request never left the machine, or the provider refused it)
//!    └──► unknown ◄── open   (Kassa cannot tell: crashed or timed out mid-request)
//! unknown ──► open | paid | cancelled | expired | failed | needs_review   (reconciled)
//! needs_review ──► paid | cancelled | failed   (staff checked the provider's back office)
//! ```
//!
//! `paid` needs provider evidence (each provider module says what counts); a redirect to a
//! return URL is never evidence. This module holds no I/O; the session log stores what it
//! validates.

use serde::Serialize;
use std::fmt;

/// Where a checkout session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The intent is recorded; the provider has not (yet) answered.
    Creating,
    /// The provider created the session; the customer can pay.
    Open,
    Paid,
    Cancelled,
    Expired,
    Failed,
    /// Kassa cannot tell (e.g. it crashed or timed out while the provider was being asked).
    Unknown,
    /// The provider gives no machine-checkable confirmation: staff must look.
    NeedsReview,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Creating,
        Status::Open,
        Status::Paid,
        Status::Cancelled,
        Status::Expired,
        Status::Failed,
        Status::Unknown,
        Status::NeedsReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Open => "open",
            Status::Paid => "paid",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
            Status::Failed => "failed",
            Status::Unknown => "unknown",
            Status::NeedsReview => "needs_review",
        }
    }

    pub fn parse(text: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                format!("{text:?} is not a session status ({})", names.join(", "))
            })
    }

    /// Paid, cancelled, expired and failed are final: nothing moves a session out of them.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Paid | Status::Cancelled | Status::Expired | Status::Failed
        )
    }

    /// Whether the status model allows `self → to`. Staying in the same status is not a
    /// transition (callers record it as an event without a status change).
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        match self {
            Creating => matches!(to, Open | Failed | Unknown),
            Open => matches!(
                to,
                Paid | Cancelled | Expired | Failed | Unknown | NeedsReview
            ),
            Unknown => matches!(to, Open | Paid | Cancelled | Expired | Failed | NeedsReview),
            NeedsReview => matches!(to, Paid | Cancelled | Failed),
            Paid | Cancelled | Expired | Failed => false,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kassa's own session id: a UUIDv7 in lowercase text. Its first 48 bits are the creation
/// time in milliseconds, so ids sort by time (the session log pages and filters by id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    /// From the creation time and 74 bits of randomness (the low bits of `random`).
    pub fn new(unix_millis: i64, random: u128) -> SessionId {
        let ms = (unix_millis.max(0) as u128) & ((1 << 48) - 1);
        let rand_a = (random >> 62) & 0xfff;
        let rand_b = random & ((1 << 62) - 1);
        let v = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b;
        let h = format!("{v:032x}");
        SessionId(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    }

    /// A new id for now, with randomness from the OS.
    pub fn generate(unix_millis: i64) -> SessionId {
        let mut bytes = [0u8; 16];
        // If the OS has no randomness the clock's nanoseconds still make ids unique enough
        // for one till; the id is not a secret.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            bytes[..4].copy_from_slice(&nanos.to_le_bytes());
            bytes[4..8].copy_from_slice(&std::process::id().to_le_bytes());
        }
        SessionId::new(unix_millis, u128::from_le_bytes(bytes))
    }

    /// Parses the text form (what the CLI and UI pass back).
    pub fn parse(text: &str) -> Result<SessionId, String> {
        let ok = text.len() == 36
            && text.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            })
            && text.as_bytes()[14] == b'7';
        if ok {
            Ok(SessionId(text.to_string()))
        } else {
            Err(format!(
                "{text:?} is not a Kassa session id (like 019aa7c2-5e43-7b1d-9a6e-0c2f4d8e1a3b; \
                 `kassa-cli sessions` lists them)"
            ))
        }
    }

    /// The smallest id that can have been created at or after `unix_millis`.
    pub fn lower_bound(unix_millis: i64) -> String {
        let mut s = SessionId::new(unix_millis, 0).0;
        s.replace_range(14.., "0000-0000-000000000000");
        s
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The creation time encoded in the id.
    pub fn unix_millis(&self) -> i64 {
        let hex: String = self.0[..13].chars().filter(|c| *c != '-').collect();
        i64::from_str_radix(&hex, 16).unwrap_or(0)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_model() {
        use Status::*;
        assert!(Creating.can_become(Open));
        assert!(Creating.can_become(Unknown));
        assert!(
            !Creating.can_become(Paid),
            "paid needs a session at the provider"
        );
        assert!(Open.can_become(Paid));
        assert!(Unknown.can_become(Paid));
        assert!(NeedsReview.can_become(Paid));
        assert!(!NeedsReview.can_become(Open));
        for done in [Paid, Cancelled, Expired, Failed] {
            assert!(done.is_final());
            for to in Status::ALL {
                assert!(!done.can_become(to), "{done} → {to}");
            }
        }
        for s in Status::ALL {
            assert!(!s.can_become(s), "{s} → itself is not a transition");
            assert!(!s.can_become(Creating), "nothing goes back to creating");
            assert_eq!(Status::parse(s.as_str()), Ok(s));
        }
        assert!(Status::parse("PAID").unwrap_err().contains("needs_review"));
    }

    #[test]
    fn ids_are_uuid_v7_and_sort_by_time() {
        let a = SessionId::new(1_795_285_381_123, u128::MAX);
        let b = SessionId::new(1_795_285_381_124, 0);
        assert_eq!(a.as_str(), "01a1ff58-f003-7fff-bfff-ffffffffffff");
        assert!(a < b);
        assert_eq!(a.unix_millis(), 1_795_285_381_123);
        assert_eq!(SessionId::parse(a.as_str()), Ok(a.clone()));
        assert!(SessionId::lower_bound(1_795_285_381_123).as_str() <= a.as_str());
        assert!(SessionId::lower_bound(1_795_285_381_124).as_str() > a.as_str());
        assert_eq!(
            SessionId::lower_bound(1_795_285_381_123),
            "01a1ff58-f003-0000-0000-000000000000"
        );
        assert!(SessionId::parse("019AA7C1-E9C3-7FFF-BFFF-FFFFFFFFFFFF").is_err());
        assert!(SessionId::parse("x").is_err());
        let g = SessionId::generate(1_795_285_381_123);
        assert_ne!(g, SessionId::generate(1_795_285_381_123));
        assert!(SessionId::parse(g.as_str()).is_ok());
    }
}
