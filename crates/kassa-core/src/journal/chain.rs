//! The chain: each entry holds the SHA-256 of the previous entry's hash and its own canonical
//! content, so any change, insertion, deletion or reordering breaks the chain from that point.
//!
//! `hash = SHA-256("kassa-journal-v1" ‖ prev_hash ‖ field₁ ‖ … ‖ fieldₙ)`, each field
//! length-prefixed (u32 big-endian length, then its UTF-8 bytes; integers as decimal text; an
//! absent value as the length `0xFFFFFFFF` with no bytes, so "absent" and "empty" differ), in
//! the fixed order of [`Fields`]. The body is hashed as the stored bytes: verification never
//! re-serializes JSON, so a later Kassa may write its bodies differently without breaking old
//! chains.
//!
//! A chain alone can be recomputed by whoever can write the file; the signatures of sales and
//! returns (whose key is in the keyring) are what cannot be redone. The hash covers the
//! signature, so a changed signature breaks the chain too.

use sha2::{Digest, Sha256};

/// The previous hash of a register's first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// The domain of the hash: another use of SHA-256 over the same bytes never collides with it.
const DOMAIN: &[u8] = b"kassa-journal-v1";

/// An entry's hashed columns, in hashing order.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub register_id: &'a str,
    pub seq: i64,
    pub kind: &'a str,
    pub event_code: &'a str,
    pub at_ms: i64,
    pub local_date: &'a str,
    pub local_time: &'a str,
    pub operator_id: Option<i64>,
    pub session_id: Option<&'a str>,
    pub operation_id: Option<&'a str>,
    pub ref_seq: Option<i64>,
    pub nr: Option<i64>,
    pub gross_minor: Option<i64>,
    pub net_minor: Option<i64>,
    pub signature: Option<&'a str>,
    pub key_version: Option<&'a str>,
    pub body: &'a str,
}

fn put(h: &mut Sha256, value: Option<&[u8]>) {
    match value {
        Some(bytes) => {
            let len = u32::try_from(bytes.len()).expect("a journal field is under 4 GiB");
            h.update(len.to_be_bytes());
            h.update(bytes);
        }
        None => h.update(u32::MAX.to_be_bytes()),
    }
}

/// The hash of an entry whose predecessor's hash is `prev` ([`GENESIS`] for the first).
pub fn entry_hash(prev: &[u8; 32], f: &Fields) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prev);
    let int = |v: i64| v.to_string();
    let text = |s: &str| s.as_bytes().to_vec();
    let fields: [Option<Vec<u8>>; 17] = [
        Some(text(f.register_id)),
        Some(int(f.seq).into_bytes()),
        Some(text(f.kind)),
        Some(text(f.event_code)),
        Some(int(f.at_ms).into_bytes()),
        Some(text(f.local_date)),
        Some(text(f.local_time)),
        f.operator_id.map(|v| int(v).into_bytes()),
        f.session_id.map(text),
        f.operation_id.map(text),
        f.ref_seq.map(|v| int(v).into_bytes()),
        f.nr.map(|v| int(v).into_bytes()),
        f.gross_minor.map(|v| int(v).into_bytes()),
        f.net_minor.map(|v| int(v).into_bytes()),
        f.signature.map(text),
        f.key_version.map(text),
        Some(text(f.body)),
    ];
    for field in &fields {
        put(&mut h, field.as_deref());
    }
    h.finalize().into()
}

/// Lower-case hex, for output (`journal list --json`, error messages).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields<'static> {
        Fields {
            register_id: "1",
            seq: 1,
            kind: "sale",
            event_code: "13012",
            at_ms: 1_772_442_930_000,
            local_date: "2026-03-02",
            local_time: "10:15:30",
            operator_id: Some(1),
            session_id: Some("019ca0f2-0000-7000-8000-000000000001"),
            operation_id: None,
            ref_seq: None,
            nr: Some(1),
            gross_minor: Some(13450),
            net_minor: Some(11000),
            signature: Some("BFBh"),
            key_version: Some("1"),
            body: "{}",
        }
    }

    /// The layout, written out by hand for one entry, so a change to the encoding (which would
    /// break every chain already on disk) cannot pass unnoticed.
    #[test]
    fn the_hash_is_the_documented_layout() {
        let f = fields();
        let mut bytes = b"kassa-journal-v1".to_vec();
        bytes.extend([0u8; 32]);
        for v in [
            Some("1"),
            Some("1"),
            Some("sale"),
            Some("13012"),
            Some("1772442930000"),
            Some("2026-03-02"),
            Some("10:15:30"),
            Some("1"),
            Some("019ca0f2-0000-7000-8000-000000000001"),
            None,
            None,
            Some("1"),
            Some("13450"),
            Some("11000"),
            Some("BFBh"),
            Some("1"),
            Some("{}"),
        ] {
            match v {
                Some(s) => {
                    bytes.extend((s.len() as u32).to_be_bytes());
                    bytes.extend(s.as_bytes());
                }
                None => bytes.extend([0xff; 4]),
            }
        }
        let want: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(entry_hash(&GENESIS, &f), want);
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_hash() {
        let base = entry_hash(&GENESIS, &fields());
        let mut other = GENESIS;
        other[31] = 1;
        assert_ne!(entry_hash(&other, &fields()), base);
        let variants: Vec<Fields> = vec![
            Fields {
                register_id: "2",
                ..fields()
            },
            Fields { seq: 2, ..fields() },
            Fields {
                kind: "return",
                ..fields()
            },
            Fields {
                event_code: "13013",
                ..fields()
            },
            Fields {
                at_ms: 1,
                ..fields()
            },
            Fields {
                local_date: "2026-03-03",
                ..fields()
            },
            Fields {
                local_time: "10:15:31",
                ..fields()
            },
            Fields {
                operator_id: None,
                ..fields()
            },
            Fields {
                session_id: Some(""),
                ..fields()
            },
            Fields {
                operation_id: Some("op"),
                ..fields()
            },
            Fields {
                ref_seq: Some(1),
                ..fields()
            },
            Fields {
                nr: Some(2),
                ..fields()
            },
            Fields {
                gross_minor: Some(13451),
                ..fields()
            },
            Fields {
                net_minor: Some(11001),
                ..fields()
            },
            Fields {
                signature: Some("BFBi"),
                ..fields()
            },
            Fields {
                key_version: Some("2"),
                ..fields()
            },
            Fields {
                body: "{ }",
                ..fields()
            },
        ];
        let mut seen = std::collections::HashSet::new();
        seen.insert(base);
        for v in &variants {
            assert!(seen.insert(entry_hash(&GENESIS, v)), "{v:?}");
        }
        // Moving bytes between neighbouring fields changes the hash (the length prefix).
        let a = Fields {
            local_date: "2026-03-0",
            local_time: "210:15:30",
            ..fields()
        };
        assert_ne!(entry_hash(&GENESIS, &a), base);
    }
}
