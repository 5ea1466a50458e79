//! `journal verify`'s rules, over entries fed in `(register, seq)` order ([`Verifier`]): pure,
//! so the store streams rows through it and tests feed it made-up chains.
//!
//! Per register:
//! 1. `seq` is the previous one plus one, from 1 (an entry deleted or inserted);
//! 2. `prev_hash` is the previous entry's `hash` (entries moved);
//! 3. `hash` is the hash of the entry's content (anything changed);
//! 4. a signed entry (sale, return) has the next receipt number and a signature that verifies,
//!    with the public key of its key version, over the text rebuilt from its stored date, time,
//!    number and amounts and the previous signed entry's signature;
//! 5. its body's total is its amount columns; the event code is its kind's.

use super::chain::{entry_hash, hex, GENESIS};
use super::signature::{signed_text, verify, FIRST_LINK};
use super::Entry;
use std::collections::HashMap;

/// Why an entry does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub register_id: String,
    pub seq: i64,
    pub why: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "entry {} (register {}): {}",
            self.seq, self.register_id, self.why
        )
    }
}

/// What verified, per register.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterSummary {
    pub register_id: String,
    pub entries: i64,
    pub signed: i64,
    /// The key versions whose signatures were checked.
    pub key_versions: Vec<String>,
    /// The last entry's hash (hex): what a printed Z report can anchor the chain with.
    pub last_hash: String,
}

#[derive(Debug, Clone)]
struct Link {
    seq: i64,
    hash: [u8; 32],
    nr: i64,
    signature: String,
    summary: RegisterSummary,
}

/// Checks a journal entry by entry. `public_keys`: `(register, key version)` → SPKI PEM.
pub struct Verifier {
    public_keys: HashMap<(String, String), String>,
    registers: Vec<Link>,
}

impl Verifier {
    pub fn new(public_keys: HashMap<(String, String), String>) -> Verifier {
        Verifier {
            public_keys,
            registers: Vec::new(),
        }
    }

    /// Checks the next entry (entries come sorted by register, then `seq`).
    pub fn check(&mut self, e: &Entry) -> Result<(), Failure> {
        let fail = |why: String| Failure {
            register_id: e.register_id.clone(),
            seq: e.seq,
            why,
        };
        if self
            .registers
            .last()
            .is_none_or(|l| l.summary.register_id != e.register_id)
        {
            self.registers.push(Link {
                seq: 0,
                hash: GENESIS,
                nr: 0,
                signature: FIRST_LINK.to_string(),
                summary: RegisterSummary {
                    register_id: e.register_id.clone(),
                    ..Default::default()
                },
            });
        }
        let link = self.registers.last_mut().expect("pushed above");
        if e.seq != link.seq + 1 {
            return Err(fail(if e.seq > link.seq + 1 {
                format!(
                    "it follows entry {}: {} missing (deleted?)",
                    link.seq,
                    if e.seq == link.seq + 2 {
                        format!("entry {} is", link.seq + 1)
                    } else {
                        format!("entries {} to {} are", link.seq + 1, e.seq - 1)
                    }
                )
            } else {
                format!("it repeats number {} (inserted?)", e.seq)
            }));
        }
        if e.prev_hash != link.hash {
            return Err(fail(format!(
                "its previous hash {} is not entry {}'s hash {} (entries moved or inserted)",
                &hex(&e.prev_hash)[..16],
                link.seq,
                &hex(&link.hash)[..16]
            )));
        }
        let computed = entry_hash(&e.prev_hash, &e.fields());
        if computed != e.hash {
            return Err(fail(
                "its hash does not match its content (changed after it was written)".into(),
            ));
        }
        if e.event_code != e.kind.event_code() {
            return Err(fail(format!(
                "event code {} is not a {}'s ({})",
                e.event_code,
                e.kind,
                e.kind.event_code()
            )));
        }
        if e.kind.is_signed() {
            let (Some(nr), Some(gross), Some(net), Some(sig), Some(version)) = (
                e.nr,
                e.gross_minor,
                e.net_minor,
                e.signature.as_deref(),
                e.key_version.as_deref(),
            ) else {
                return Err(fail(format!(
                    "a {} without its number, amounts or signature",
                    e.kind
                )));
            };
            if nr != link.nr + 1 {
                return Err(fail(format!(
                    "receipt number {nr} follows {} (a receipt missing or moved)",
                    link.nr
                )));
            }
            let Some(pem) = self
                .public_keys
                .get(&(e.register_id.clone(), version.to_string()))
            else {
                return Err(fail(format!("no public key of key version {version}")));
            };
            let text = signed_text(
                &link.signature,
                &e.local_date,
                &e.local_time,
                nr,
                gross,
                net,
            )
            .map_err(|err| fail(format!("receipt {nr}: {err}")))?;
            verify(pem, &text, sig).map_err(|err| {
                fail(format!(
                    "receipt {nr}: {err} (signed text {text:?}, key version {version})"
                ))
            })?;
            let total = e
                .body_total()
                .map_err(|why| fail(format!("receipt {nr}: its body {why}")))?;
            if (total.gross, total.net) != (gross, net) {
                return Err(fail(format!(
                    "receipt {nr}: its body's total ({} incl. VAT, {} excl.) is not its signed \
                     amounts ({gross}, {net})",
                    total.gross, total.net
                )));
            }
            link.nr = nr;
            link.signature = sig.to_string();
            link.summary.signed += 1;
            if !link.summary.key_versions.iter().any(|v| v == version) {
                link.summary.key_versions.push(version.to_string());
            }
        } else if e.nr.is_some() || e.signature.is_some() {
            return Err(fail(format!(
                "a {} carries a receipt number or signature",
                e.kind
            )));
        }
        link.seq = e.seq;
        link.hash = e.hash;
        link.summary.entries += 1;
        link.summary.last_hash = hex(&e.hash);
        Ok(())
    }

    /// What verified, one row per register.
    pub fn summary(&self) -> Vec<RegisterSummary> {
        self.registers.iter().map(|l| l.summary.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::signature::tests::{vector_key, VECTOR_PUBLIC_PEM, VECTOR_SIG1, VECTOR_SIG2};
    use super::super::Kind;
    use super::*;

    /// A chain of three: an event, the test vector's sale and return.
    fn chain() -> Vec<Entry> {
        let key = vector_key();
        let mut out: Vec<Entry> = Vec::new();
        let mut prev = GENESIS;
        let mut prev_sig = FIRST_LINK.to_string();
        // (kind, local time, signed: receipt number, gross, net)
        type Row = (Kind, &'static str, Option<(i64, i64, i64)>);
        let rows: [Row; 3] = [
            (Kind::AppStart, "10:00:00", None),
            (Kind::Sale, "10:15:30", Some((1, 13450, 11000))),
            (Kind::Return, "11:02:05", Some((2, -3450, -3000))),
        ];
        for (i, (kind, time, signed)) in rows.into_iter().enumerate() {
            let mut e = Entry {
                register_id: "1".into(),
                seq: i as i64 + 1,
                kind,
                event_code: kind.event_code().into(),
                at_ms: 1_772_442_930_000 + i as i64,
                local_date: "2026-03-02".into(),
                local_time: time.into(),
                operator_id: Some(1),
                session_id: None,
                operation_id: None,
                ref_seq: None,
                nr: None,
                gross_minor: None,
                net_minor: None,
                signature: None,
                key_version: None,
                body: "{}".into(),
                prev_hash: prev,
                hash: [0; 32],
            };
            if let Some((nr, gross, net)) = signed {
                let text =
                    signed_text(&prev_sig, &e.local_date, &e.local_time, nr, gross, net).unwrap();
                let sig = key.sign(&text).unwrap();
                e.nr = Some(nr);
                e.gross_minor = Some(gross);
                e.net_minor = Some(net);
                e.body = format!(
                    r#"{{"total":{{"gross":{gross},"net":{net},"vat":{}}}}}"#,
                    gross - net
                );
                e.signature = Some(sig.clone());
                e.key_version = Some("1".into());
                prev_sig = sig;
            }
            e.hash = entry_hash(&prev, &e.fields());
            prev = e.hash;
            out.push(e);
        }
        out
    }

    fn run(entries: &[Entry]) -> Result<Vec<RegisterSummary>, Failure> {
        let keys = HashMap::from([(
            ("1".to_string(), "1".to_string()),
            VECTOR_PUBLIC_PEM.to_string(),
        )]);
        let mut v = Verifier::new(keys);
        for e in entries {
            v.check(e)?;
        }
        Ok(v.summary())
    }

    fn rehash(entries: &mut [Entry]) {
        let mut prev = GENESIS;
        for e in entries {
            e.prev_hash = prev;
            e.hash = entry_hash(&prev, &e.fields());
            prev = e.hash;
        }
    }

    #[test]
    fn an_untouched_chain_verifies_with_the_test_vectors_signatures() {
        let c = chain();
        assert_eq!(c[1].signature.as_deref(), Some(VECTOR_SIG1));
        assert_eq!(c[2].signature.as_deref(), Some(VECTOR_SIG2));
        let s = run(&c).unwrap();
        assert_eq!((s[0].entries, s[0].signed), (3, 2));
        assert_eq!(s[0].key_versions, ["1"]);
    }

    #[test]
    fn a_changed_amount_a_deletion_and_a_swap_are_each_found_at_their_entry() {
        let mut c = chain();
        c[1].gross_minor = Some(13460);
        let f = run(&c).unwrap_err();
        assert_eq!(f.seq, 2);
        assert!(f.why.contains("hash does not match"), "{f}");

        let mut c = chain();
        c.remove(1);
        let f = run(&c).unwrap_err();
        assert_eq!(f.seq, 3);
        assert!(f.why.contains("entry 2 is missing"), "{f}");

        let mut c = chain();
        c.swap(1, 2);
        (c[1].seq, c[2].seq) = (2, 3);
        let f = run(&c).unwrap_err();
        assert_eq!(f.seq, 2);
        assert!(f.why.contains("previous hash"), "{f}");
    }

    /// Whoever can write the file can recompute every hash; the signatures they cannot redo.
    #[test]
    fn a_rehashed_chain_with_a_changed_amount_fails_on_its_signature() {
        let mut c = chain();
        c[1].gross_minor = Some(13460);
        c[1].body = r#"{"total":{"gross":13460,"net":11000,"vat":2460}}"#.into();
        rehash(&mut c);
        let f = run(&c).unwrap_err();
        assert_eq!(f.seq, 2);
        assert!(f.why.contains("signature does not match"), "{f}");
        // The body alone changed (and rehashed): its total is not the signed amount.
        let mut c = chain();
        c[2].body = r#"{"total":{"gross":-3400,"net":-3000,"vat":-400}}"#.into();
        rehash(&mut c);
        let f = run(&c).unwrap_err();
        assert!(f.why.contains("is not its signed amounts"), "{f}");
        // A return renumbered (and rehashed): the number runs on, so the signature breaks.
        let mut c = chain();
        c[2].nr = Some(3);
        rehash(&mut c);
        assert!(run(&c)
            .unwrap_err()
            .why
            .contains("receipt number 3 follows 1"));
    }

    #[test]
    fn an_unknown_key_version_and_a_wrong_event_code_are_named() {
        let mut c = chain();
        c[1].key_version = Some("2".into());
        rehash(&mut c);
        assert!(run(&c)
            .unwrap_err()
            .why
            .contains("no public key of key version 2"));
        let mut c = chain();
        c[0].event_code = "13999".into();
        rehash(&mut c);
        assert!(run(&c).unwrap_err().why.contains("event code 13999"));
    }
}
