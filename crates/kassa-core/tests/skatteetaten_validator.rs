//! Skatteetaten's own signature validator (`signature-validator.js`, run unchanged under Node by
//! `tests/skatteetaten/run-validator.js`) on the texts and signatures Kassa makes: a sale, a
//! return (negative amounts), the smallest and a large amount, chained as the journal chains
//! them. For each, the validator signs the text itself (its signature must equal Kassa's) and
//! verifies Kassa's ("Signaturen er OK"). The key is the research's public test vector
//! (`tests/skatteetaten/`), so the validator, which needs the private key to sign, can run.
//!
//! Needs `node`, the repository's npm devDependencies `jsrsasign` and `jssha` (`make setup`
//! installs them) and `../shared/fiscal/` beside the clone: `make test` runs it; a missing part
//! fails it, never skips it.

use base64::Engine as _;
use kassa_core::journal::signature::{signed_text, FIRST_LINK};
use kassa_core::journal::SigningKey;
use kassa_core::secrets::Secret;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/skatteetaten")
}

/// The test vector's key, read the way Kassa reads its keyring entry (Base64 PKCS#8).
fn vector_key() -> SigningKey {
    let pem = std::fs::read_to_string(fixtures().join("test-vector-key.pem")).unwrap();
    let der = rsa::PrivateKey::from_pkcs1_pem(&pem)
        .unwrap()
        .to_pkcs8_der()
        .unwrap();
    let line = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
    SigningKey::from_secret(&Secret::new(line)).unwrap()
}

/// Runs the validator on `text` and `signature`: (passed, its output).
fn validate(validator: &Path, work: &Path, text: &str, signature: &str) -> (bool, String) {
    std::fs::write(work.join("text.txt"), text).unwrap();
    std::fs::write(work.join("sig.b64"), signature).unwrap();
    let out = Command::new("node")
        .arg(fixtures().join("run-validator.js"))
        .arg(validator)
        .arg("rsa")
        .arg(work.join("text.txt"))
        .arg(fixtures().join("test-vector-key.pem"))
        .arg(fixtures().join("test-vector-pub.pem"))
        .arg(work.join("sig.b64"))
        .output()
        .expect("node runs (make setup)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

#[test]
#[ignore = "needs node, jsrsasign and jssha (make setup) and ../shared/fiscal: run through `make test`"]
fn skatteetatens_validator_accepts_kassas_signed_texts_and_signatures() {
    let validator = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fiscal/saf-t-cash-register/signature-validator.js");
    assert!(
        validator.exists(),
        "Skatteetaten's validator is not at {} (../shared/ beside the clone)",
        validator.display()
    );
    let work = std::env::temp_dir().join(format!("kassa-validator-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let key = vector_key();
    // (date, time, receipt number, incl. VAT, excl. VAT), as the journal would chain them.
    let chain = [
        ("2026-03-02", "10:15:30", 1, 13450, 11000),
        ("2026-03-02", "11:02:05", 2, -3450, -3000),
        ("2026-03-02", "23:59:59", 3, 5, 4),
        ("2026-12-31", "00:00:00", 4, 123_456_789, 98_765_431),
        ("2027-01-01", "08:00:01", 5, -5, -4),
    ];
    let mut previous = FIRST_LINK.to_string();
    for (date, time, nr, gross, net) in chain {
        let text = signed_text(&previous, date, time, nr, gross, net).unwrap();
        let sig = key.sign(&text).unwrap();
        let (ok, said) = validate(&validator, &work, &text, &sig);
        assert!(ok, "the validator refused receipt {nr} ({text}): {said}");
        assert!(said.contains("Signaturen er OK"), "{said}");
        previous = sig;
    }
    // The check can fail: one øre more in the text is not what was signed.
    let text = signed_text(FIRST_LINK, "2026-03-02", "10:15:30", 1, 13450, 11000).unwrap();
    let sig = key.sign(&text).unwrap();
    let (ok, said) = validate(&validator, &work, &text.replace("134.50", "134.51"), &sig);
    assert!(!ok, "a changed text passed: {said}");
    assert!(said.contains("Signaturen er FEIL"), "{said}");
    let _ = std::fs::remove_dir_all(&work);
}
