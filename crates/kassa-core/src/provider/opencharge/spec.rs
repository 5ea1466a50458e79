//! Opencharge's settings, secret and checkout domains, and how its client is built from them.

use super::{Mode, Opencharge, OpenchargeConfig};
use crate::field_code::{FieldCode, Reason};
use crate::provider::spec::{
    independent, one_of, valid_base_url, valid_bool, Setting, Setup, Spec,
};
use crate::provider::{Provider, ProviderError};

pub const SPEC: Spec = Spec {
    name: "opencharge",
    title: "Opencharge",
    settings: &[
        Setting::new("ocid", valid_ocid),
        Setting::new("gateway_url", valid_base_url),
        Setting::new("gateway_ocid", valid_ocid),
        Setting::or("mode", valid_mode, "checkout_create"),
        Setting::or("sign_items", valid_bool, "true"),
    ],
    secrets: &["private_key"],
    // Each gateway hosts its own page, on the gateway URL's origin (always allowed).
    checkout_domains: &[],
    // 12011 mobile phone apps: the customer pays from a wallet application on the phone
    // ("Mobiltelefon løsninger, ulike betalingsapplikasjoner"), the decision in README.
    payment_type: "12011",
    agrees: independent,
    build,
};

fn build(s: &Setup) -> Result<Box<dyn Provider>, ProviderError> {
    let ocid = |key: &str| -> Result<u64, ProviderError> {
        s.required(key)?
            .parse()
            .map_err(|_| s.config(format!("opencharge.{key} is not an OCID")))
    };
    let cfg = OpenchargeConfig {
        label: s.name.into(),
        ocid: ocid("ocid")?,
        gateway_url: s.required("gateway_url")?,
        gateway_ocid: ocid("gateway_ocid")?,
        mode: Mode::parse(&s.required("mode")?).map_err(|m| s.config(m))?,
        sign_items: s.required("sign_items")? == "true",
        private_key: s.secret("private_key")?,
        profile: s.profile.clone(),
    };
    Ok(Box::new(Opencharge::new(cfg, s.http.clone())?))
}

fn valid_mode(v: &str) -> Result<(), Reason> {
    one_of(v, &["checkout_create", "orders_checkout"])
}

/// An OCID: a registry token id, a positive decimal integer (NOTES §B3).
fn valid_ocid(v: &str) -> Result<(), Reason> {
    match v.parse::<u64>() {
        Ok(n) if n > 0 && !v.starts_with('0') && !v.starts_with('+') => Ok(()),
        _ => Err(Reason::new(
            FieldCode::Ocid,
            format!("{v:?} is not an OCID (a positive whole number, e.g. 500)"),
        )),
    }
}
