//! The hosted checkout page and its buttons.

use super::not_found;
use super::rules::outcome;
use crate::common::{escape, money, page};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kassa_core::http::percent_encode;
use kassa_core::time::now_millis;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The hosted checkout page: the order and Pay / Decline / Cancel. Plain HTML, no script.
pub(super) async fn view(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let e = s.dintero.lock().unwrap();
    let Some(session) = e.sessions.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "Checkout not found",
                "<p>This checkout does not exist.</p>",
            )),
        )
            .into_response();
    };
    let order = session.order.value();
    let currency = order["currency"].as_str().unwrap_or_default();
    let mut rows = String::new();
    for item in order["items"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            escape(item["description"].as_str().unwrap_or("")),
            escape(&item["quantity"].to_string()),
            escape(&money(item["amount"].as_i64().unwrap_or(0), currency)),
        ));
    }
    let total = money(order["amount"].as_i64().unwrap_or(0), currency);
    let now = now_millis();
    let state = if session.cancelled_at.is_some() {
        Some("This checkout was cancelled.".to_string())
    } else if let Some(t) = session
        .transaction_id
        .as_ref()
        .and_then(|t| e.transactions.get(t))
    {
        (t.status != "DECLINED").then(|| format!("Payment {}.", t.status.to_lowercase()))
    } else if session.expires_at <= now {
        Some("This checkout has expired.".to_string())
    } else {
        None
    };
    let actions = match state {
        Some(m) => format!("<p class=state>{}</p>", escape(&m)),
        None => format!(
            "<form method=post action=\"/dintero/v1/view/{id}/pay\"><button class=pay>Pay {}</button></form>\
             <div class=row><form method=post action=\"/dintero/v1/view/{id}/decline\"><button>Decline</button></form>\
             <form method=post action=\"/dintero/v1/view/{id}/cancel\"><button>Cancel</button></form></div>",
            escape(&total),
            id = escape(&id)
        ),
    };
    let body = format!(
        "<p class=ref>Order {}</p><table>{rows}<tr class=total><td>Total</td><td></td><td class=n>{}</td></tr></table>{actions}\
         <p class=note>Dintero sandbox (Kassa): no real money moves.</p>",
        escape(order["merchant_reference"].as_str().unwrap_or("")),
        escape(&total),
    );
    let script = s.page_script_tag();
    Html(page(
        "Dintero Checkout (sandbox)",
        &format!("{body}{script}"),
    ))
    .into_response()
}

/// A button on the hosted page: moves the session, then redirects to the return URL with
/// Dintero's query parameters (`transaction_id` on success, `error` otherwise).
pub(super) async fn view_action(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let mut e = s.dintero.lock().unwrap();
    let what = match action.as_str() {
        "pay" => "pay",
        "decline" => "decline",
        "cancel" => "cancel",
        _ => return not_found("page"),
    };
    if let Err(m) = outcome(&mut e, &id, what) {
        return (
            StatusCode::CONFLICT,
            Html(page("Checkout", &format!("<p>{}</p>", escape(&m)))),
        )
            .into_response();
    }
    s.persist(&e, &[&id]);
    let session = &e.sessions[&id];
    let mut params: Map<String, Value> = Map::new();
    params.insert("session_id".into(), json!(id));
    params.insert(
        "merchant_reference".into(),
        session.order.value()["merchant_reference"].clone(),
    );
    match what {
        "pay" => {
            params.insert("transaction_id".into(), json!(session.transaction_id));
        }
        "decline" => {
            params.insert("error".into(), json!("failed"));
        }
        _ => {
            params.insert("error".into(), json!("cancelled"));
        }
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v.as_str().unwrap_or_default())))
        .collect();
    let url = session.url.value();
    let return_url = url["return_url"].as_str().unwrap_or("/");
    let sep = if return_url.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{return_url}{sep}{}", query.join("&"))).into_response()
}
