//! Dintero's settings, secrets and checkout domains, and how its client is built from them.

use super::{Dintero, DinteroConfig};
use crate::field_code::{FieldCode, Reason};
use crate::provider::spec::{valid_token, Setting, SettingValues, Setup, Spec};
use crate::provider::{Provider, ProviderError};

pub const SPEC: Spec = Spec {
    name: "dintero",
    title: "Dintero",
    settings: &[
        Setting::new("account_id", valid_account),
        Setting::or("profile_id", valid_token, "default"),
    ],
    secrets: &["client_id", "client_secret"],
    // UNCONFIRMED: which hosts the page moves between (payment methods, 3-D Secure) is not in
    // our notes; Dintero's own domain only.
    checkout_domains: &["dintero.com"],
    // 12999 other: an aggregator; the customer picks Vipps, a card, Klarna… on Dintero's page,
    // so no one instrument code is right for every sale.
    payment_type: "12999",
    agrees,
    build,
};

fn build(s: &Setup) -> Result<Box<dyn Provider>, ProviderError> {
    let cfg = DinteroConfig {
        label: s.name.into(),
        account_id: s.required("account_id")?,
        profile_id: s.required("profile_id")?,
        base_url: s.setting("base_url"),
        client_id: s.secret("client_id")?,
        client_secret: s.secret("client_secret")?,
        profile: s.profile.clone(),
    };
    Ok(Box::new(Dintero::new(cfg, s.http.clone())?))
}

/// The account id's prefix decides the environment (T = test, P = live): it must match the
/// profile, whichever of the two is set second.
fn agrees(key: &str, value: &str, values: &dyn SettingValues) -> Result<(), Reason> {
    let account = |profile: &str| match profile {
        "live" => 'P',
        _ => 'T',
    };
    match key {
        "account_id" => {
            let profile = values
                .value("dintero.profile")
                .unwrap_or_else(|| "test".into());
            if !value.starts_with(account(&profile)) {
                return Err(Reason::new(
                    FieldCode::DinteroProfileMismatch,
                    format!(
                        "{value} is a {} account but dintero.profile is {profile} \
                         (T… is test, P… is live)",
                        if value.starts_with('P') {
                            "live"
                        } else {
                            "test"
                        }
                    ),
                ));
            }
        }
        "profile" => {
            if let Some(acc) = values.value("dintero.account_id") {
                if !acc.starts_with(account(value)) {
                    return Err(Reason::new(FieldCode::DinteroProfileMismatch, format!("{value} does not match dintero.account_id {acc} (T… is test, P… is live); set the matching account id first")));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn valid_account(v: &str) -> Result<(), Reason> {
    let ok = v.len() == 9
        && (v.starts_with('T') || v.starts_with('P'))
        && v[1..].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Reason::new(
            FieldCode::DinteroAccount,
            format!(
                "{v:?} is not a Dintero account id (T or P followed by 8 digits, e.g. T12345678)"
            ),
        ))
    }
}
