//! Skatteetaten's signature of a cash transaction (sales and return receipts): RSA-SHA1 with a
//! 1024-bit key, PKCS#1 v1.5, Base64, over
//!
//! ```text
//! previous signature;YYYY-MM-DD;HH:MM:SS;nr;amount incl. VAT;amount excl. VAT
//! ```
//!
//! with `0` as the previous signature of a register's first transaction and amounts as
//! `-?\d+\.\d\d` (returns negative). One pure function builds the text ([`signed_text`]); the
//! same text is signed, verified and (later) exported, so the three can never disagree.
//!
//! SHA-1 and 1024-bit RSA are what the regulation names, and what its validator checks; most
//! crypto stacks deprecate them, so they are pinned here and tested against an independent
//! vector (openssl, Skatteetaten's `signature-validator.js`).
//!
//! The private key ([`SigningKey`]) lives only in the OS keyring (`store` loads it); it prints
//! as `<redacted>` and leaves this module only as a [`Secret`] for the keyring.

use crate::secrets::Secret;
use base64::Engine as _;
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use std::fmt;

/// The previous signature of a register's first signed transaction.
pub const FIRST_LINK: &str = "0";

/// The key size the regulation names.
pub const KEY_BITS: usize = 1024;

/// Why a signature could not be made or checked. Never holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("{0} minor units cannot be written as a signed amount")]
    Amount(i64),
    #[error("{field} {value:?} is not in the signed form ({form})")]
    Field {
        field: &'static str,
        value: String,
        form: &'static str,
    },
    #[error("the signing key in the keyring is not a usable RSA key ({0})")]
    BadKey(String),
    #[error("the public key is not a usable RSA public key in PEM ({0})")]
    BadPublicKey(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("the signature is not Base64")]
    NotBase64,
    #[error("the signature does not match the signed text and the public key")]
    Mismatch,
}

/// Minor units as the signed text writes them: `13450` → `134.50`, `-3000` → `-30.00`. Never
/// `-0.00`, never a `+`, never a thousands separator.
pub fn amount_text(minor: i64) -> Result<String, SignatureError> {
    if minor == i64::MIN {
        return Err(SignatureError::Amount(minor));
    }
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.abs();
    Ok(format!("{sign}{}.{:02}", abs / 100, abs % 100))
}

fn check(
    field: &'static str,
    value: &str,
    form: &'static str,
    ok: bool,
) -> Result<(), SignatureError> {
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Field {
            field,
            value: value.to_string(),
            form,
        })
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// The text Skatteetaten's rule signs. `previous` is the register's previous signature
/// ([`FIRST_LINK`] for the first); `date` and `time` the local date and time stored with the
/// entry; `gross` and `net` minor units (negative for returns). Only currencies with two
/// decimals (NOK) are signed.
pub fn signed_text(
    previous: &str,
    date: &str,
    time: &str,
    nr: i64,
    gross: i64,
    net: i64,
) -> Result<String, SignatureError> {
    // The validator accepts "0" or any string of two or more characters, on one line.
    check(
        "previous signature",
        previous,
        "0 or Base64",
        previous == FIRST_LINK || (previous.len() >= 2 && !previous.contains([';', '\n', '\r'])),
    )?;
    let d: Vec<&str> = date.split('-').collect();
    check(
        "date",
        date,
        "YYYY-MM-DD",
        d.len() == 3 && digits(d[0], 4) && digits(d[1], 2) && digits(d[2], 2),
    )?;
    let t: Vec<&str> = time.split(':').collect();
    let hms_ok =
        t.len() == 3 && t.iter().all(|p| digits(p, 2)) && t[0] < "24" && t[1] < "60" && t[2] < "60";
    check("time", time, "HH:MM:SS", hms_ok)?;
    check("nr", &nr.to_string(), "a positive number", nr > 0)?;
    Ok(format!(
        "{previous};{date};{time};{nr};{};{}",
        amount_text(gross)?,
        amount_text(net)?
    ))
}

/// A register's private signing key. Prints as `<redacted>`; not `Serialize`.
#[derive(Clone)]
pub struct SigningKey {
    key: rsa::PrivateKey,
    public_pem: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// A new 1024-bit key with exponent 65537 from the OS's randomness.
    pub fn generate() -> Result<SigningKey, SignatureError> {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, KEY_BITS)
            .map_err(|e| SignatureError::BadKey(e.to_string()))?;
        SigningKey::from_key(key)
    }

    fn from_key(key: rsa::PrivateKey) -> Result<SigningKey, SignatureError> {
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| SignatureError::BadKey(e.to_string()))?;
        Ok(SigningKey { key, public_pem })
    }

    /// The key as the keyring keeps it: one line, Base64 of its PKCS#8 DER (one distinctive
    /// line is also what the secrets audit looks for).
    pub fn to_secret(&self) -> Secret {
        let der = self
            .key
            .to_pkcs8_der()
            .expect("an RSA key in memory encodes as PKCS#8");
        Secret::new(base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
    }

    /// Reads a key kept by [`SigningKey::to_secret`]. The error never holds the value.
    pub fn from_secret(secret: &Secret) -> Result<SigningKey, SignatureError> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(secret.expose().trim())
            .map_err(|_| SignatureError::BadKey("not Base64".into()))?;
        let key = rsa::PrivateKey::from_pkcs8_der(&der)
            .map_err(|_| SignatureError::BadKey("not a PKCS#8 RSA private key".into()))?;
        SigningKey::from_key(key)
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`): what the shop hands the tax
    /// office, and what verification uses.
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// Signs `text` (SHA-1, PKCS#1 v1.5): the signature in standard Base64 with padding.
    pub fn sign(&self, text: &str) -> Result<String, SignatureError> {
        let sig = self
            .key
            .pkcs1v15_sign::<sha1::Sha1>(text.as_bytes())
            .map_err(|e| SignatureError::Sign(e.to_string()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }
}

/// Checks `signature` (Base64) over `text` with the public key `public_pem` (SPKI PEM).
pub fn verify(public_pem: &str, text: &str, signature: &str) -> Result<(), SignatureError> {
    let key = rsa::PublicKey::from_public_key_pem(public_pem)
        .map_err(|e| SignatureError::BadPublicKey(e.to_string()))?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .map_err(|_| SignatureError::NotBase64)?;
    key.pkcs1v15_verify::<sha1::Sha1>(text.as_bytes(), &sig)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // The independent test vector of the fiscal research (notes §B.3; the key in
    // tests/skatteetaten/, see its README): a test-only key made with `openssl genrsa
    // -traditional 1024` and signatures made with `openssl dgst -sha1 -sign`, confirmed by
    // Python `cryptography` and by Skatteetaten's own signature-validator.js under Node. A
    // public fixture, not a secret: never use this key for anything real (and it is not in the
    // secrets ledger).
    pub const VECTOR_KEY_PKCS1: &str = include_str!("../../tests/skatteetaten/test-vector-key.pem");
    pub const VECTOR_PUBLIC_PEM: &str =
        include_str!("../../tests/skatteetaten/test-vector-pub.pem");
    /// `0;2026-03-02;10:15:30;1;134.50;110.00` (a sale, the register's first link).
    pub const VECTOR_SIG1: &str = "BFBhLuWttMpyxFaE/NWgBGjdG24Yu0S5/JmSteS+VHvi5tKyTdVbIJZQ5J+Iv3UGqH5zG8f8Bqi2U2qUANliMyz9lN1R33sSpIL9NEu60RnAZJH7GJB0rgJBtTpXzBw9dkVuJzPFdTkRqRFh1LHdXFxH14bywcflKVc+KpBosFk=";
    /// `<sig1>;2026-03-02;11:02:05;2;-34.50;-30.00` (a return, chained on sig1).
    pub const VECTOR_SIG2: &str = "aXrl9ZBU4KeJlWAsiazuvpxHz8/PsV6Uknl1UfJ+QiI19K0F+hAU6ckCm9qvy8j30K4woXTHLf+v0WFq+52l/qA978UggO+D0Smp16WrfUKdXoYpIHAQG4rwXTo+vvQZ4TArVKOVA2PKAS9Qa9f89cwVf/ZBMso21ioLZcQA7V8=";

    pub fn vector_key() -> SigningKey {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        SigningKey::from_key(rsa::PrivateKey::from_pkcs1_pem(VECTOR_KEY_PKCS1).unwrap()).unwrap()
    }

    #[test]
    fn amounts_have_two_decimals_a_point_and_a_minus_for_returns() {
        assert_eq!(amount_text(13450).unwrap(), "134.50");
        assert_eq!(amount_text(11000).unwrap(), "110.00");
        assert_eq!(amount_text(-3450).unwrap(), "-34.50");
        assert_eq!(amount_text(-5).unwrap(), "-0.05");
        assert_eq!(amount_text(0).unwrap(), "0.00");
        assert_eq!(amount_text(7).unwrap(), "0.07");
        assert_eq!(amount_text(i64::MAX).unwrap(), "92233720368547758.07");
        assert!(amount_text(i64::MIN).is_err());
    }

    /// The validator's own patterns (signature-validator.js L166-176), checked on random amounts.
    #[test]
    fn amounts_match_the_validators_pattern() {
        use proptest::prelude::*;
        proptest!(|(minor in (i64::MIN + 1)..=i64::MAX)| {
            let t = amount_text(minor).unwrap();
            let (int, frac) = t.trim_start_matches('-').split_once('.').unwrap();
            prop_assert!(!int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(frac.len() == 2 && frac.bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(t.starts_with('-'), minor < 0);
            prop_assert_ne!(t.as_str(), "-0.00");
        });
    }

    #[test]
    fn the_signed_text_is_the_rules_and_refuses_other_forms() {
        assert_eq!(
            signed_text(FIRST_LINK, "2026-03-02", "10:15:30", 1, 13450, 11000).unwrap(),
            "0;2026-03-02;10:15:30;1;134.50;110.00"
        );
        assert!(signed_text("", "2026-03-02", "10:15:30", 1, 1, 1).is_err());
        assert!(signed_text("0", "2026-3-02", "10:15:30", 1, 1, 1).is_err());
        assert!(signed_text("0", "2026-03-02", "24:00:00", 1, 1, 1).is_err());
        assert!(signed_text("0", "2026-03-02", "10:15:30+01:00", 1, 1, 1).is_err());
        assert!(signed_text("0", "2026-03-02", "10:15", 1, 1, 1).is_err());
        assert!(signed_text("0", "2026-03-02", "10:15:30", 0, 1, 1).is_err());
        assert!(signed_text("a;b", "2026-03-02", "10:15:30", 1, 1, 1).is_err());
    }

    /// Byte for byte the independent vector (openssl, Python, Skatteetaten's validator), built
    /// with Kassa's own formatter from minor units, and verified back.
    #[test]
    fn signatures_match_the_independent_test_vector() {
        let key = vector_key();
        assert_eq!(key.public_key_pem(), VECTOR_PUBLIC_PEM);
        let text1 = signed_text(FIRST_LINK, "2026-03-02", "10:15:30", 1, 13450, 11000).unwrap();
        let sig1 = key.sign(&text1).unwrap();
        assert_eq!(sig1, VECTOR_SIG1);
        assert_eq!(sig1.len(), 172);
        let text2 = signed_text(&sig1, "2026-03-02", "11:02:05", 2, -3450, -3000).unwrap();
        assert_eq!(
            text2,
            format!("{VECTOR_SIG1};2026-03-02;11:02:05;2;-34.50;-30.00")
        );
        let sig2 = key.sign(&text2).unwrap();
        assert_eq!(sig2, VECTOR_SIG2);
        verify(VECTOR_PUBLIC_PEM, &text1, &sig1).unwrap();
        verify(VECTOR_PUBLIC_PEM, &text2, &sig2).unwrap();
        // One cent more in the text, or the other link's signature: not this text's.
        let changed = text1.replace("134.50", "134.51");
        assert_eq!(
            verify(VECTOR_PUBLIC_PEM, &changed, &sig1),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(VECTOR_PUBLIC_PEM, &text1, &sig2),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(VECTOR_PUBLIC_PEM, &text1, "not base64!"),
            Err(SignatureError::NotBase64)
        );
    }

    #[test]
    fn a_generated_key_is_1024_bits_round_trips_through_its_secret_and_never_prints() {
        use rsa::traits::PublicKeyParts;
        let key = SigningKey::generate().unwrap();
        assert_eq!(key.key.n().bit_width(), 1024);
        assert_eq!(key.key.e(), &rsa::BoxedUint::from(65537u64));
        let secret = key.to_secret();
        assert!(!secret.expose().contains('\n'));
        let back = SigningKey::from_secret(&secret).unwrap();
        assert_eq!(back.public_key_pem(), key.public_key_pem());
        assert!(key
            .public_key_pem()
            .starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let text = signed_text(FIRST_LINK, "2026-12-01", "09:00:00", 1, 100, 80).unwrap();
        verify(key.public_key_pem(), &text, &back.sign(&text).unwrap()).unwrap();
        // Debug never shows the key; a bad secret's error never repeats it.
        let shown = format!("{key:?} {back:?} {secret:?}");
        assert!(!shown.contains(&secret.expose()[40..80]), "{shown}");
        assert_eq!(
            shown,
            "SigningKey(<redacted>) SigningKey(<redacted>) <redacted>"
        );
        let bad = Secret::new("bm90IGEga2V5IGF0IGFsbCwgc2VjcmV0LXZhbHVlLTcx");
        let err = SigningKey::from_secret(&bad).unwrap_err().to_string();
        assert!(!err.contains("bm90IGEga2V5"), "{err}");
    }
}
