//! The account's market and its price list.
//!
//! Rules:
//! - `GET /api/markets/{id}`: the account's market; `include=price_list` gives its
//!   `price_lists` resource (`currency_code`, `tax_included`): the market resource itself has
//!   no currency attribute in resources.json.

use super::auth::{api_caller, integration_only};
use super::errors::{api_json, record_not_found, ApiResult};
use super::jsonapi::{document, ident, map, parse_query, resource};
use super::{time_value, Acct, Call, Emulator};
use crate::common::public_base;
use axum::http::StatusCode;
use serde_json::{json, Value};

pub(super) fn market_resource(acct: &Acct, base: &str, with_price_list: bool) -> Value {
    let a = map(vec![
        ("number", json!(acct.market_number)),
        (
            "name",
            json!(format!("Kassa sandbox market ({})", acct.a.currency)),
        ),
        (
            "code",
            json!(format!("kassa-{}", acct.a.currency.to_ascii_lowercase())),
        ),
        ("facebook_pixel_id", Value::Null),
        ("checkout_url", Value::Null),
        ("external_prices_url", Value::Null),
        ("external_order_validation_url", Value::Null),
        ("private", json!(false)),
        ("shipping_cost_cutoff", Value::Null),
        ("disabled_at", Value::Null),
        ("created_at", time_value(Some(acct.created_at))),
        ("updated_at", time_value(Some(acct.created_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    let price_list = with_price_list.then(|| ident("price_lists", &acct.price_list_id));
    resource(
        base,
        "markets",
        &acct.a.market_id,
        acct,
        a,
        &[
            ("merchant", None),
            ("price_list", price_list),
            ("inventory_model", None),
            ("tax_calculator", None),
        ],
    )
}

fn price_list_resource(acct: &Acct, base: &str) -> Value {
    let a = map(vec![
        (
            "name",
            json!(format!("Kassa sandbox prices ({})", acct.a.currency)),
        ),
        ("code", Value::Null),
        ("currency_code", json!(acct.a.currency)),
        ("tax_included", json!(acct.a.tax_included)),
        ("created_at", time_value(Some(acct.created_at))),
        ("updated_at", time_value(Some(acct.created_at))),
        ("reference", Value::Null),
        ("reference_origin", Value::Null),
        ("metadata", json!({})),
    ]);
    resource(
        base,
        "price_lists",
        &acct.price_list_id,
        acct,
        a,
        &[("prices", None)],
    )
}

pub(super) fn get(e: &Emulator, call: &Call) -> ApiResult {
    let (id, q, headers) = (call.id.as_str(), &call.query[..], &call.headers);
    let now = e.now();
    let c = api_caller(e, headers, false, now)?;
    integration_only(&c, "Reading a market")?;
    let opts = parse_query(
        q,
        "markets",
        &["price_list"],
        &["merchant", "inventory_model", "tax_calculator", "stores"],
        false,
    )?;
    let acct = e.acct(&c.account);
    if id != acct.a.market_id {
        return Err(record_not_found(id).into());
    }
    let base = public_base(headers, "commercelayer");
    let with_price_list = !opts.include.is_empty();
    let included = if with_price_list {
        vec![price_list_resource(acct, &base)]
    } else {
        Vec::new()
    };
    let v = document(
        market_resource(acct, &base, with_price_list),
        included,
        &opts,
    )?;
    Ok(api_json(StatusCode::OK, &v))
}
