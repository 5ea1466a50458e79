//! Opencharge signatures: the canonical request string, the canonical (sorted-key) JSON of
//! signed objects, and secp256k1 ECDSA over SHA-256 (NOTES-commercelayer-opencharge.md §B4–§B7).
//!
//! - **Request** (§B4): six lines joined by `\n`, no trailing newline: the sender's OCID, the
//!   Unix timestamp, the nonce, the uppercase method, the URL's full path *with* the gateway's
//!   base prefix and the query (`/opencharge/checkout/create`), and the lowercase hex SHA-256 of
//!   the exact body bytes (of `""` without a body). The signed digest is SHA-256 of that text.
//! - **Objects** (§B5, reading (a)): keys sorted at every level, arrays in order, compact, strings
//!   escaped as `JSON.stringify` does (only `"`, `\` and control characters; non-ASCII as is).
//!   Numbers must be integers: a float anywhere is refused, because JavaScript and Rust print
//!   them differently. Keys sort by their UTF-8 bytes, which equals JavaScript's UTF-16 order
//!   for the ASCII keys Opencharge defines.
//! - **Signature** (§B6): RFC 6979 deterministic ECDSA, always low-S, written as 130 hex
//!   characters `r ‖ s ‖ v` with `v` = `1b`/`1c` (27 + recovery id). [`verify`] accepts 128 or
//!   130 hex characters (some documents omit `v`), ignores `v`, and refuses high-S like
//!   libsecp256k1.
//! - **Keys**: the private key is 64 hex characters (32 bytes); the public key is published as
//!   128 hex characters, the uncompressed point without its `04` prefix.
//!
//! The notes' test vectors TV1–TV5 are the unit tests below, byte for byte.

use crate::secrets::Secret;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

/// The six-line canonical string of a request (§B4).
pub fn canonical_request(
    ocid: &str,
    timestamp: i64,
    nonce: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> String {
    format!(
        "{ocid}\n{timestamp}\n{nonce}\n{}\n{path_and_query}\n{}",
        method.to_ascii_uppercase(),
        sha256_hex(body)
    )
}

/// The canonical JSON of a signed object (§B5 reading (a)). Errors name the first float.
pub fn canonical_json(value: &serde_json::Value) -> Result<String, String> {
    let mut out = String::new();
    write_canonical(value, "$", &mut out)?;
    Ok(out)
}

fn write_canonical(v: &serde_json::Value, at: &str, out: &mut String) -> Result<(), String> {
    use serde_json::Value;
    match v {
        Value::Null | Value::Bool(_) | Value::String(_) => {
            out.push_str(&serde_json::to_string(v).map_err(|e| e.to_string())?)
        }
        Value::Number(n) => {
            if !(n.is_i64() || n.is_u64()) {
                return Err(format!(
                    "{at} is the number {n}: signed Opencharge JSON takes integers and decimal strings only"
                ));
            }
            out.push_str(&n.to_string());
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, &format!("{at}[{i}]"), out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).map_err(|e| e.to_string())?);
                out.push(':');
                write_canonical(&map[k], &format!("{at}.{k}"), out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A merchant's secp256k1 private key, from the keyring.
pub struct Key(SigningKey);

impl Key {
    /// From 64 hex characters (an optional `0x` prefix and surrounding blanks are ignored).
    /// The error never repeats the key.
    pub fn from_hex(secret: &Secret) -> Result<Key, String> {
        let text = secret.expose().trim();
        let text = text.strip_prefix("0x").unwrap_or(text);
        let bytes = unhex(text)
            .filter(|b| b.len() == 32)
            .ok_or("the private key is not 64 hexadecimal characters")?;
        SigningKey::from_slice(&bytes)
            .map(Key)
            .map_err(|_| "the private key is not a valid secp256k1 key (zero or too large)".into())
    }

    /// The public key as Opencharge publishes it: 128 hex characters, X ‖ Y.
    pub fn public_key_hex(&self) -> String {
        let point = self.0.verifying_key().to_encoded_point(false);
        hex(&point.as_bytes()[1..])
    }

    /// Signs a SHA-256 digest: 130 hex characters `r ‖ s ‖ v`, low-S, RFC 6979.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> String {
        let (sig, recid) = self
            .0
            .sign_prehash_recoverable(digest)
            .expect("a 32-byte digest can always be signed");
        // k256 already returns low-S (with the matching recovery id); normalising again is a
        // no-op that keeps the rule visible here.
        let (sig, recid) = match sig.normalize_s() {
            Some(low) => (
                low,
                k256::ecdsa::RecoveryId::from_byte(recid.to_byte() ^ 1).unwrap_or(recid),
            ),
            None => (sig, recid),
        };
        let mut out = hex(&sig.to_bytes());
        let _ = write!(out, "{:02x}", 27 + recid.to_byte());
        out
    }

    /// Signs a text (its SHA-256 digest).
    pub fn sign(&self, text: &[u8]) -> String {
        self.sign_digest(&sha256(text))
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// Checks `signature` (128 or 130 hex) over SHA-256 of `text` with a published public key
/// (128 hex, or 130 with the `04` prefix, or 66 compressed). High-S signatures are refused.
pub fn verify(public_key_hex: &str, text: &[u8], signature_hex: &str) -> bool {
    let Some(key) = parse_public_key(public_key_hex) else {
        return false;
    };
    let sig = match signature_hex.len() {
        // `get`: a non-ASCII character across byte 128 made the slice panic.
        128 | 130 => signature_hex.get(..128).and_then(unhex),
        _ => None,
    };
    let Some(sig) = sig.and_then(|b| Signature::from_slice(&b).ok()) else {
        return false;
    };
    if sig.normalize_s().is_some() {
        return false;
    }
    key.verify_prehash(&sha256(text), &sig).is_ok()
}

fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes = unhex(text)?;
    let sec1 = match bytes.len() {
        64 => [&[4u8][..], &bytes].concat(),
        33 | 65 => bytes,
        _ => return None,
    };
    VerifyingKey::from_sec1_bytes(&sec1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &str = "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";
    const PUBLIC: &str = "bb50e2d89a4ed70663d080659fe0ad4b9bc3e06c17a227433966cb59ceee020decddbf6e00192011648d13b1c00af770c0c1bb609d4d3a5c98a43772e0e18ef4";

    fn key() -> Key {
        Key::from_hex(&Secret::new(PRIVATE)).unwrap()
    }

    #[test]
    fn the_public_key_is_128_hex_without_the_prefix() {
        assert_eq!(key().public_key_hex(), PUBLIC);
    }

    #[test]
    fn tv1_request_signature() {
        let body = br#"{"amount":"100.00","currency":"USD"}"#;
        assert_eq!(
            sha256_hex(body),
            "6779770784a6b90aab2c50ad2c48f58eb4d1dc8017e65c5850cdb0869b7060ce"
        );
        let canonical = canonical_request(
            "200",
            1706500000,
            "req_test123",
            "post",
            "/opencharge/payment/create",
            body,
        );
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "a51875169505d640b70b0cddb224b4bbb42120a9322abb9951553d2aa0a3fa49"
        );
        let sig = key().sign(canonical.as_bytes());
        assert_eq!(sig, "08bb6427e9df77920b3c08ba65e7b4d02436ce449441060198a5084f3ca7e82e6c33455681ed53a9125fd2616428a6fb0ecd59e8fc3459175f8759e15e37e9c11b");
        assert!(verify(PUBLIC, canonical.as_bytes(), &sig));
        assert!(verify(PUBLIC, canonical.as_bytes(), &sig[..128]));
    }

    #[test]
    fn tv2_proof_canonical_json_and_signature() {
        // Keys given out of order on purpose: the canonical form sorts them at every level.
        let proof = serde_json::json!({
            "txid": "test_tx_001", "issuer": 100, "timestamp": 1706500500,
            "to": {"reference": "momo_tx_789", "ocid": 300},
            "from": {"reference": "paypal_tx_123", "ocid": 200},
            "currency": "UGX", "amount": "10000.00"
        });
        let c = canonical_json(&proof).unwrap();
        assert_eq!(
            c,
            r#"{"amount":"10000.00","currency":"UGX","from":{"ocid":200,"reference":"paypal_tx_123"},"issuer":100,"timestamp":1706500500,"to":{"ocid":300,"reference":"momo_tx_789"},"txid":"test_tx_001"}"#
        );
        assert_eq!(
            sha256_hex(c.as_bytes()),
            "de7bd3d228672f527ee55effdeb4d4aeb5c52d343bd87c75461478c34580ae5f"
        );
        assert_eq!(key().sign(c.as_bytes()), "65c774ae5d87d2724c698fd11f49d444267b15a513c1d70625c29bf965c33bc03ca45e2b78db7ba01c683f279cb431430d59bd0d4753196992074d0b67ff36921b");
    }

    fn seed_order(items: bool) -> serde_json::Value {
        let mut o = serde_json::json!({
            "id": "ord_abc123", "ocid": 500, "reference": "INV-001", "amount": "99.99",
            "currency": "USD", "memo": "Order from Merchant Store", "createdAt": 1706313600,
            "expiresAt": 1706400000, "accepts": [100, 101, 102]
        });
        if items {
            o["items"] = serde_json::json!([
                {"id": "item_001", "name": "Product A", "quantity": 1, "price": "99.99"}
            ]);
        }
        o
    }

    #[test]
    fn tv3_order_with_items_sorted_recursively() {
        let c = canonical_json(&seed_order(true)).unwrap();
        assert_eq!(
            c,
            r#"{"accepts":[100,101,102],"amount":"99.99","createdAt":1706313600,"currency":"USD","expiresAt":1706400000,"id":"ord_abc123","items":[{"id":"item_001","name":"Product A","price":"99.99","quantity":1}],"memo":"Order from Merchant Store","ocid":500,"reference":"INV-001"}"#
        );
        assert_eq!(
            sha256_hex(c.as_bytes()),
            "7a4a7a8ee2df3e56d5e6cce997426e19f393dd1c55c777617e1ff15d7e3df983"
        );
        assert_eq!(key().sign(c.as_bytes()), "a669aa1e5551be4d65848178c3947da0763f8b0cca319437e8da07c0828151442139e883e27942d6448e67870db979968a87afb727d8228160d7ada68817dfb81b");
    }

    #[test]
    fn tv4_order_without_items() {
        let c = canonical_json(&seed_order(false)).unwrap();
        assert_eq!(
            c,
            r#"{"accepts":[100,101,102],"amount":"99.99","createdAt":1706313600,"currency":"USD","expiresAt":1706400000,"id":"ord_abc123","memo":"Order from Merchant Store","ocid":500,"reference":"INV-001"}"#
        );
        assert_eq!(
            sha256_hex(c.as_bytes()),
            "e88a1174658f5a4bfdc36b6d8319295e08a946815c7e50fee1ffe20077b9b197"
        );
        assert_eq!(key().sign(c.as_bytes()), TV4_SIGNATURE);
    }

    const TV4_SIGNATURE: &str = "1a1247997ef0eeda4bb225e481a89ce57e3398ce24f8be1def250ff8c55e77e168daf4e6c68ba52118c89bc94f20f3040a181cfe8d8bd2c53792139252d7b1561c";

    #[test]
    fn tv5_checkout_create_request() {
        let body = format!(
            r#"{{"order":{{"id":"ord_abc123","ocid":500,"reference":"INV-001","amount":"99.99","currency":"USD","memo":"Order from Merchant Store","createdAt":1706313600,"expiresAt":1706400000,"accepts":[100,101,102]}},"signature":"{TV4_SIGNATURE}","merchantOcid":500,"urls":{{"success":"https://merchant.example/checkout/success","cancel":"https://merchant.example/checkout/cancel"}}}}"#
        );
        assert_eq!(body.len(), 480);
        assert_eq!(
            sha256_hex(body.as_bytes()),
            "66bb57f5eaa196e59cf09060c01b49456423292ab428ae3371362b61097a4ba2"
        );
        let canonical = canonical_request(
            "500",
            1706313700,
            "req_0123456789abcdef",
            "POST",
            "/opencharge/checkout/create",
            body.as_bytes(),
        );
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "4c6621cbd143a4fcbd4c0921d09c70f6d92d414697c53030b97e827b71f534ff"
        );
        assert_eq!(key().sign(canonical.as_bytes()), "8c566cfa564a1906d52ac042bc12cde0b59b47a79db4161aff308806bab6ee2c25a594ff4f391185e090b525bfab522aaca7bf485b2af1f87edf172e18b39ac71b");
    }

    #[test]
    fn verify_refuses_tampering_high_s_and_other_keys() {
        let k = key();
        let text = b"hello";
        let sig = k.sign(text);
        assert!(verify(PUBLIC, text, &sig));
        assert!(!verify(PUBLIC, b"hellO", &sig));
        // The same signature with s replaced by n − s (high-S) is mathematically valid but
        // refused, as libsecp256k1 does.
        let s = Signature::from_slice(&unhex(&sig[..128]).unwrap()).unwrap();
        let (r, s_low) = s.split_scalars();
        let high = Signature::from_scalars(r, -*s_low).unwrap();
        assert!(!verify(PUBLIC, text, &hex(&high.to_bytes())));
        let other = Key::from_hex(&Secret::new("11".repeat(32))).unwrap();
        assert!(!verify(&other.public_key_hex(), text, &sig));
        assert!(!verify(PUBLIC, text, "zz"));
        assert!(!verify("00", text, &sig));
        // The compressed (directory-site) form of the same key verifies too.
        assert!(verify(
            "02bb50e2d89a4ed70663d080659fe0ad4b9bc3e06c17a227433966cb59ceee020d",
            text,
            &sig
        ));
    }

    #[test]
    fn canonical_json_refuses_floats_and_escapes_like_javascript() {
        let err = canonical_json(&serde_json::json!({"items": [{"quantity": 2.5}]})).unwrap_err();
        assert!(err.contains("$.items[0].quantity"), "{err}");
        assert_eq!(
            canonical_json(&serde_json::json!({"b": "Blåbær \"x\"\n\u{1f}", "a": null})).unwrap(),
            "{\"a\":null,\"b\":\"Blåbær \\\"x\\\"\\n\\u001f\"}"
        );
    }

    #[test]
    fn bad_private_keys_are_refused_without_echo() {
        for bad in [
            "",
            "12",
            &"zz".repeat(32),
            &"00".repeat(32),
            &"ff".repeat(32),
        ] {
            let e = Key::from_hex(&Secret::new(bad)).unwrap_err();
            assert!(bad.is_empty() || !e.contains(bad), "{e}");
        }
        assert_eq!(
            Key::from_hex(&Secret::new(format!(" 0x{PRIVATE}\n")))
                .unwrap()
                .public_key_hex(),
            PUBLIC
        );
    }
}
