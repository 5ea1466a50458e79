//! The hosted payment page the customer's browser opens, its buttons and its QR code.

use super::rules::outcome;
use super::{Emulator, HppSession, HppStatus};
use crate::common::{escape, money, page, public_base};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kassa_core::time::now_millis;
use serde_json::Value;
use std::sync::Arc;

/// What the page says instead of its buttons, if the session cannot be paid now.
fn state_text(e: &Emulator, h: &HppSession, now: i64) -> Option<String> {
    let fraud = h
        .order_id
        .as_ref()
        .and_then(|o| e.orders.get(o))
        .map(|o| o.fraud_status.as_str());
    match h.status {
        HppStatus::Completed if fraud == Some("PENDING") => {
            Some("Payment completed; the fraud check is pending.".into())
        }
        HppStatus::Completed => Some("Payment completed.".into()),
        HppStatus::Failed => Some("Payment declined.".into()),
        HppStatus::Cancelled => Some("Payment cancelled.".into()),
        HppStatus::Disabled => Some("This payment page was closed by the store.".into()),
        _ if h.expires_at <= now => Some("This payment page has expired.".into()),
        _ => None,
    }
}

fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "Payment page not found",
            "<p>This payment page does not exist.</p>",
        )),
    )
        .into_response()
}

/// The hosted payment page: the order and Pay / Pay (fraud check pending) / Decline / Back /
/// Cancel. Opening it moves a WAITING or BACK session to IN_PROGRESS.
pub(super) async fn hosted_page(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut e = s.klarna.lock().unwrap();
    if !e.hpp_sessions.contains_key(&id) {
        return not_found_page();
    }
    let _ = outcome(&mut e, &id, "open");
    let h = &e.hpp_sessions[&id];
    let order = e
        .kp_sessions
        .get(&h.kp_session)
        .map(|k| k.body.clone())
        .unwrap_or(Value::Null);
    let currency = order["purchase_currency"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let mut rows = String::new();
    for line in order["order_lines"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            escape(line["name"].as_str().unwrap_or("")),
            escape(&line["quantity"].to_string()),
            escape(&money(
                line["total_amount"].as_i64().unwrap_or(0),
                &currency
            )),
        ));
    }
    let total = money(order["order_amount"].as_i64().unwrap_or(0), &currency);
    let id_html = escape(&id);
    let actions = match state_text(&e, h, now_millis()) {
        Some(text) => format!("<p class=state>{}</p>", escape(&text)),
        None => {
            let form = |action: &str, label: &str, class: &str| {
                format!(
                    "<form method=post action=\"/klarna/hpp/pay/{id_html}/{action}\"><button{class}>{}</button></form>",
                    escape(label)
                )
            };
            format!(
                "{}{}<div class=row>{}{}{}</div>",
                form("pay", &format!("Pay {total}"), " class=pay"),
                form("pay_pending", "Pay (fraud check pending)", ""),
                form("decline", "Decline", ""),
                form("back", "Back to the store", ""),
                form("cancel", "Cancel", ""),
            )
        }
    };
    let body = format!(
        "<table>{rows}<tr class=total><td>Total</td><td></td><td class=n>{}</td></tr></table>{actions}\
         <p class=note>Klarna sandbox (Kassa): no real money moves.</p>{}",
        escape(&total),
        s.page_script_tag(),
    );
    Html(page("Pay with Klarna (sandbox)", &body)).into_response()
}

/// A button on the hosted page: moves the session, then sends the browser to the merchant
/// URL for the outcome, or shows the state when the merchant gave none.
pub(super) async fn page_action(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    if !matches!(
        action.as_str(),
        "pay" | "pay_pending" | "decline" | "back" | "cancel"
    ) || !e.hpp_sessions.contains_key(&id)
    {
        return not_found_page();
    }
    match outcome(&mut e, &id, &action) {
        Err(m) => (
            StatusCode::CONFLICT,
            Html(page(
                "Pay with Klarna (sandbox)",
                &format!("<p>{}</p>", escape(&m)),
            )),
        )
            .into_response(),
        Ok(Some(url)) => Redirect::to(&url).into_response(),
        Ok(None) => {
            let h = &e.hpp_sessions[&id];
            let text = state_text(&e, h, now_millis()).unwrap_or_else(|| {
                "You went back to the store; this page can still be used to pay.".into()
            });
            let body = format!(
                "<p class=state>{}</p>{}",
                escape(&text),
                s.page_script_tag()
            );
            Html(page("Pay with Klarna (sandbox)", &body)).into_response()
        }
    }
}

pub(super) async fn qr_code(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !s.klarna.lock().unwrap().hpp_sessions.contains_key(&id) {
        return not_found_page();
    }
    let url = format!("{}/hpp/pay/{id}", public_base(&headers, "klarna"));
    match kassa_core::qr::svg(&url) {
        Ok(svg) => ([("content-type", "image/svg+xml")], svg).into_response(),
        Err(m) => (StatusCode::INTERNAL_SERVER_ERROR, m).into_response(),
    }
}
