//! Checks of a SAF-T Cash Register file that use none of Kassa's code: `xmllint --schema`
//! against the official XSD in `../shared/fiscal/` and against a strict copy of it made here
//! (its dead key/keyref constraints made to bite), every signature rebuilt from the file's own
//! text and checked by `openssl` with the public key, and the codes the XSD leaves unchecked
//! (`paymentType`, `transType`, `vatCode`) looked up in the file's own tables. Included by the
//! core's and the CLI's tests (`#[path]`).
#![allow(dead_code)]

use base64::Engine as _;
use std::path::{Path, PathBuf};

/// The official schema, unchanged since 2016.
pub fn official_xsd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/fiscal/saf-t-cash-register/Norwegian_SAF-T_Cash_Register_Schema_v_1.00.xsd",
    )
}

/// A copy of the official XSD whose identity constraints work: their XPaths name elements
/// without the target namespace's prefix, so they match nothing; here every step gets one.
/// Written next to `work` (never committed, never an edit of the official file).
pub fn strict_xsd(work: &Path) -> PathBuf {
    let xsd = std::fs::read_to_string(official_xsd()).expect("the official XSD is in ../shared");
    let xsd = xsd.replacen(
        "<xsd:schema ",
        "<xsd:schema xmlns:s=\"urn:StandardAuditFile-Taxation-CashRegister:NO\" ",
        1,
    );
    let mut out = String::with_capacity(xsd.len());
    let mut rest = xsd.as_str();
    while let Some(i) = rest.find("xpath=\"") {
        let start = i + "xpath=\"".len();
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('"').unwrap();
        let steps: Vec<String> = rest[start..end]
            .split('/')
            .map(|s| {
                if s == "." {
                    s.to_string()
                } else {
                    format!("s:{s}")
                }
            })
            .collect();
        out.push_str(&steps.join("/"));
        rest = &rest[end..];
    }
    out.push_str(rest);
    let path = work.join("strict.xsd");
    std::fs::write(&path, out).unwrap();
    path
}

/// `xmllint --noout --schema XSD FILE` must say the file validates.
pub fn xmllint(xsd: &Path, file: &Path) {
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(file)
        .output()
        .expect("xmllint runs (libxml2-utils, scripts/kassa.sh setup)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("validates"),
        "{} against {}: {err}",
        file.display(),
        xsd.display()
    );
}

/// Both schemas.
pub fn validate(file: &Path, work: &Path) {
    xmllint(&official_xsd(), file);
    xmllint(&strict_xsd(work), file);
}

/// The texts of every `<tag>…</tag>` in `xml` (for leaves; Kassa writes no attributes).
pub fn texts<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let start = i + open.len();
        let end = start + rest[start..].find(&close).expect("closed");
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

fn first<'a>(xml: &'a str, tag: &str) -> &'a str {
    texts(xml, tag)
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
}

/// Rebuilds each cash transaction's signed text from the file (Skatteetaten's rule:
/// `previous;transDate;transTime;nr;transAmntIn;transAmntEx`, the first link from the
/// header's `previous signature:`) and has `openssl dgst -sha1 -verify` check its signature
/// with `public_pem`. Returns how many were checked.
pub fn verify_signatures(xml: &str, public_pem: &str, work: &Path) -> usize {
    std::fs::write(work.join("pub.pem"), public_pem).unwrap();
    let comment = first(xml, "headerComment");
    let mut previous = comment
        .split("previous signature: ")
        .nth(1)
        .expect("the header names the chain's first link")
        .to_string();
    let mut n = 0;
    for ct in texts(xml, "cashtransaction") {
        let text = format!(
            "{previous};{};{};{};{};{}",
            first(ct, "transDate"),
            first(ct, "transTime"),
            first(ct, "nr"),
            first(ct, "transAmntIn"),
            first(ct, "transAmntEx")
        );
        let sig = first(ct, "signature");
        assert!(!sig.is_empty(), "an empty signature");
        openssl_verify(work, &text, sig)
            .unwrap_or_else(|e| panic!("transaction {}: {e}", first(ct, "nr")));
        assert!(!first(ct, "keyVersion").is_empty());
        previous = sig.to_string();
        n += 1;
    }
    n
}

/// Checks `signature` (Base64) over `text` with `openssl dgst -sha1 -verify` and the public
/// key in `work/pub.pem`: no Kassa code in the check.
pub fn openssl_verify(work: &Path, text: &str, signature: &str) -> Result<(), String> {
    std::fs::write(work.join("text"), text).unwrap();
    std::fs::write(
        work.join("sig"),
        base64::engine::general_purpose::STANDARD
            .decode(signature)
            .map_err(|e| format!("the signature is not Base64: {e}"))?,
    )
    .unwrap();
    let out = std::process::Command::new("openssl")
        .args(["dgst", "-sha1", "-verify"])
        .arg(work.join("pub.pem"))
        .arg("-signature")
        .arg(work.join("sig"))
        .arg(work.join("text"))
        .output()
        .expect("openssl runs");
    if out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK") {
        Ok(())
    } else {
        Err(format!(
            "openssl refused the signature of {text:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Every `paymentType`, `transType`, `lineType`, `eventType` and `artGroupID` is a basicID of
/// the file, and every `vatCode` one of its `vatCodeDetail`s (what not even the strict XSD
/// checks for the first three).
pub fn check_references(xml: &str) {
    let basics: Vec<&str> = texts(xml, "basicID");
    let vat_codes: Vec<&str> = texts(first(xml, "vatCodeDetails"), "vatCode");
    for tag in [
        "paymentType",
        "transType",
        "lineType",
        "eventType",
        "artGroupID",
    ] {
        for v in texts(xml, tag) {
            assert!(
                basics.contains(&v) || v == "None",
                "{tag} {v} is not a basic of the file"
            );
        }
    }
    for v in texts(xml, "vatCode") {
        assert!(vat_codes.contains(&v), "vatCode {v} is not declared");
    }
}
