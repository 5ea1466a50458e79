//! Commerce Layer's settings, secrets and checkout domains, and how its client is built from
//! them.

use super::{CommerceLayer, CommerceLayerConfig};
use crate::field_code::{FieldCode, Reason};
use crate::provider::spec::{independent, valid_token, Setting, Setup, Spec};
use crate::provider::{Provider, ProviderError};

pub const SPEC: Spec = Spec {
    name: "commercelayer",
    title: "Commerce Layer",
    settings: &[
        Setting::new("organization", valid_slug),
        Setting::new("market", valid_token),
        Setting::new("address_id", valid_token),
    ],
    secrets: &["client_id", "client_secret", "sales_channel_client_id"],
    // UNCONFIRMED: which hosts the hosted checkout moves between is not in our notes; Commerce
    // Layer's own domains and checkout.com (its payment pages) only.
    checkout_domains: &[
        "commercelayer.io",
        "commercelayer.co",
        "commercelayer.app",
        "commercelayer.link",
        "checkout.com",
    ],
    // 12003 credit card: checkout.com card payments (Apple and Google Pay are tokenised cards).
    payment_type: "12003",
    agrees: independent,
    build,
};

fn build(s: &Setup) -> Result<Box<dyn Provider>, ProviderError> {
    let cfg = CommerceLayerConfig {
        label: s.name.into(),
        organization: s.required("organization")?,
        market_id: s.required("market")?,
        address_id: s.required("address_id")?,
        language: s.shop("shop.locale"),
        base_url: s.setting("base_url"),
        client_id: s.secret("client_id")?,
        client_secret: s.secret("client_secret")?,
        sales_channel_client_id: s.secret("sales_channel_client_id")?,
        profile: s.profile.clone(),
    };
    Ok(Box::new(CommerceLayer::new(cfg, s.http.clone())))
}

fn valid_slug(v: &str) -> Result<(), Reason> {
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Reason::new(
            FieldCode::Slug,
            format!("{v:?} is not an organization slug (lower-case letters, digits and '-')"),
        ))
    }
}
