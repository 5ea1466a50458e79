//! Klarna's settings, secrets and checkout domains, and how its client is built from them.

use super::{purchase_country, Klarna, KlarnaConfig};
use crate::field_code::{FieldCode, Reason};
use crate::provider::spec::{independent, one_of, Setting, Setup, Spec};
use crate::provider::{Provider, ProviderError};

pub const SPEC: Spec = Spec {
    name: "klarna",
    title: "Klarna",
    settings: &[
        Setting::or("region", valid_region, "eu"),
        Setting::or("acquiring_channel", valid_channel, "ECOMMERCE"),
        Setting::new("purchase_country", valid_country),
    ],
    secrets: &["username", "password"],
    // UNCONFIRMED: which hosts the page moves between is not in our notes; Klarna's own
    // domains only.
    checkout_domains: &["klarna.com", "klarna.net"],
    // 12999 other: Klarna pays the shop and the customer pays Klarna (invoice, instalments):
    // neither a card nor cash from the shop's view.
    payment_type: "12999",
    agrees: independent,
    build,
};

fn build(s: &Setup) -> Result<Box<dyn Provider>, ProviderError> {
    let cfg = KlarnaConfig {
        label: s.name.into(),
        region: s.required("region")?,
        acquiring_channel: s.required("acquiring_channel")?,
        purchase_country: purchase_country(
            s.setting("purchase_country").as_deref(),
            &s.shop("shop.currency"),
        )
        .map_err(|m| s.config(m))?,
        language: s.shop("shop.locale"),
        base_url: s.setting("base_url"),
        username: s.secret("username")?,
        password: s.secret("password")?,
        profile: s.profile.clone(),
    };
    Ok(Box::new(Klarna::new(cfg, s.http.clone())))
}

fn valid_region(v: &str) -> Result<(), Reason> {
    one_of(v, &["eu", "na", "oc"])
}

/// Values other than ECOMMERCE must be in the merchant's Klarna agreement.
fn valid_channel(v: &str) -> Result<(), Reason> {
    one_of(v, &["ECOMMERCE", "IN_STORE", "TELESALES"])
}

/// ISO 3166-1 alpha-2 (`NO`, `DE`): two ASCII letters.
fn valid_country(v: &str) -> Result<(), Reason> {
    if v.len() == 2 && v.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(Reason::new(
            FieldCode::CountryCode,
            format!("{v:?} is not a two-letter country code (NO, SE, DE, …)"),
        ))
    }
}
