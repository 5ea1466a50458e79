//! The payment gateway's hosted checkout page and its buttons.

use super::rules::outcome;
use super::{dated, Status};
use crate::common::{escape, page};
use crate::Shared;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::Value;
use std::sync::Arc;

fn state_text(status: Status) -> Option<&'static str> {
    match status {
        Status::Pending => None,
        Status::Paid => Some("This order is paid."),
        Status::Cancelled => Some("This payment was cancelled."),
        Status::Expired => Some("This checkout session has expired."),
    }
}

const PAGE_TITLE: &str = "Pay with Opencharge (sandbox)";

fn not_found_page(now: i64) -> Response {
    dated(
        (
            StatusCode::NOT_FOUND,
            Html(page(
                "Checkout not found",
                "<p>This checkout session does not exist.</p>",
            )),
        )
            .into_response(),
        now,
    )
}

/// The hosted checkout page.
pub(super) async fn hosted_page(
    State(s): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let e = s.opencharge.lock().unwrap();
    let now = e.now();
    let Some((id, session)) = id
        .ok()
        .and_then(|Path(id)| e.sessions.get(&id).map(|x| (id, x)))
    else {
        return not_found_page(now);
    };
    let order = &session.order;
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let currency = text(&order["currency"]);
    let mut rows = String::new();
    for item in order["items"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{} ×</td><td class=n>{} {}</td></tr>",
            escape(&text(&item["name"])),
            escape(&text(&item["quantity"])),
            escape(&text(&item["price"])),
            escape(&currency),
        ));
    }
    let total = format!("{} {currency}", text(&order["amount"]));
    let memo = order
        .get("memo")
        .map(|m| format!("<p class=ref>{}</p>", escape(&text(m))))
        .unwrap_or_default();
    let id_html = escape(&id);
    let actions = match state_text(session.status(now)) {
        Some(t) => format!("<p class=state>{}</p>", escape(t)),
        None => format!(
            "<form method=post action=\"/opencharge/pg/pay/{id_html}/pay\"><button id=pay class=pay>Pay {}</button></form>\
             <form method=post action=\"/opencharge/pg/pay/{id_html}/cancel\"><button id=cancel>Cancel</button></form>",
            escape(&total)
        ),
    };
    let body = format!(
        "<p class=ref>Merchant OCID {} · order {}</p>{memo}\
         <table>{rows}<tr class=total><td>Total</td><td></td><td class=n>{}</td></tr></table>{actions}\
         <p class=note>Opencharge payment gateway sandbox (Kassa): no real money moves.</p>{}",
        session.merchant,
        escape(&text(&order["id"])),
        escape(&total),
        s.page_script_tag(),
    );
    dated(Html(page(PAGE_TITLE, &body)).into_response(), now)
}

/// A button on the hosted page: 303 to the merchant's URL for the outcome, or a page with
/// the state when the merchant gave none.
pub(super) async fn page_action(
    State(s): State<Arc<Shared>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let mut e = s.opencharge.lock().unwrap();
    let now = e.now();
    let Some((id, action)) = path.ok().map(|Path(p)| p).filter(|(id, action)| {
        matches!(action.as_str(), "pay" | "cancel") && e.sessions.contains_key(id)
    }) else {
        return not_found_page(now);
    };
    let r = match outcome(&mut e, &id, &action) {
        Err((_, m)) => (
            StatusCode::CONFLICT,
            Html(page(
                PAGE_TITLE,
                &format!("<p class=state>{}</p>", escape(&m)),
            )),
        )
            .into_response(),
        Ok(Some(url)) => Redirect::to(&url).into_response(),
        Ok(None) => {
            let text = state_text(e.sessions[&id].status(now)).unwrap_or_default();
            let body = format!("<p class=state>{}</p>{}", escape(text), s.page_script_tag());
            Html(page(PAGE_TITLE, &body)).into_response()
        }
    };
    dated(r, now)
}
