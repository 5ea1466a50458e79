//! What the customer sees: the payment window (sessions) and the payment request page.

use super::rules::{request_outcome, session_closed, session_outcome, Action};
use super::{Order, PaymentRequest, Phase, Session};
use crate::common::{escape, money, page};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kassa_core::time::now_millis;
use std::sync::Arc;

/// The order as a table: its lines (or just the amount) and the total.
fn order_table(order: &Order) -> String {
    let mut rows = String::new();
    for line in order.raw["lines"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{} {}</td><td class=n>{}</td></tr>",
            escape(line["description"].as_str().unwrap_or("")),
            escape(&line["quantity"].to_string()),
            escape(line["unit"].as_str().unwrap_or("")),
            escape(&money(
                line["totalpriceinclvat"].as_i64().unwrap_or(0),
                &order.currency
            )),
        ));
    }
    format!(
        "<p class=ref>Order {}</p><table>{rows}<tr class=total><td>Total</td><td></td><td class=n>{}</td></tr></table>",
        escape(&order.id),
        escape(&money(order.amount, &order.currency)),
    )
}

/// Pay / Decline / Cancel as plain forms posting to `{base}/{action}`.
fn buttons(base: &str, order: &Order) -> String {
    format!(
        "<form method=post action=\"{base}/pay\"><button class=pay>Pay {}</button></form>\
         <div class=row><form method=post action=\"{base}/decline\"><button>Decline</button></form>\
         <form method=post action=\"{base}/cancel\"><button>Cancel</button></form></div>",
        escape(&money(order.amount, &order.currency)),
        base = escape(base),
    )
}

fn hosted_page(s: &Shared, title: &str, status: StatusCode, body: &str) -> Response {
    let body = format!(
        "{body}<p class=note>Bambora sandbox (Kassa): no real money moves.</p>{}",
        s.page_script_tag()
    );
    (status, Html(page(title, &body))).into_response()
}

fn state_line(text: &str) -> String {
    format!("<p class=state>{}</p>", escape(text))
}

const WINDOW_TITLE: &str = "Bambora Checkout (sandbox)";
const REQUEST_TITLE: &str = "Bambora payment request (sandbox)";
const DECLINED: &str = "Payment declined: try another card";

fn window_html(s: &Shared, token: &str, session: &Session, status: StatusCode) -> Response {
    let actions = match session_closed(session, now_millis()) {
        Some(why) => state_line(why),
        None if session.declined > 0 => format!(
            "{}{}",
            state_line(DECLINED),
            buttons(&format!("/bambora/window/{token}"), &session.order)
        ),
        None => buttons(&format!("/bambora/window/{token}"), &session.order),
    };
    let body = format!("{}{actions}", order_table(&session.order));
    hosted_page(s, WINDOW_TITLE, status, &body)
}

fn missing_page(s: &Shared, what: &str) -> Response {
    hosted_page(
        s,
        WINDOW_TITLE,
        StatusCode::NOT_FOUND,
        &format!("<p>This {what} does not exist.</p>"),
    )
}

pub(super) async fn window(State(s): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    let e = s.bambora.lock().unwrap();
    match e.sessions.get(&token) {
        Some(session) => window_html(&s, &token, session, StatusCode::OK),
        None => missing_page(&s, "payment window"),
    }
}

pub(super) async fn window_action(
    State(s): State<Arc<Shared>>,
    Path((token, action)): Path<(String, String)>,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(action) = Action::parse(&action).filter(Action::on_page) else {
        return missing_page(&s, "page");
    };
    if !e.sessions.contains_key(&token) {
        return missing_page(&s, "payment window");
    }
    match session_outcome(&mut e, &token, action) {
        Ok(Some(to)) => Redirect::to(&to).into_response(),
        Ok(None) => window_html(&s, &token, &e.sessions[&token], StatusCode::OK),
        Err(_) => window_html(&s, &token, &e.sessions[&token], StatusCode::CONFLICT),
    }
}

fn request_html(
    s: &Shared,
    id: &str,
    r: &PaymentRequest,
    status: StatusCode,
    left: bool,
) -> Response {
    let description = format!("<p>{}</p>", escape(&r.description));
    let body = match &r.phase {
        Phase::Deleted | Phase::Cancelled => {
            state_line("This payment request is no longer available.")
        }
        Phase::Paid(_) => format!(
            "{description}{}{}",
            order_table(&r.order),
            state_line("Payment approved.")
        ),
        Phase::Open if left => format!(
            "{}<p><a href=\"/bambora/pay/{}\">Back to the payment</a></p>",
            state_line("You left the payment."),
            escape(id)
        ),
        Phase::Open => {
            let notice = if r.declined > 0 {
                state_line(DECLINED)
            } else {
                String::new()
            };
            format!(
                "{description}{}{notice}{}",
                order_table(&r.order),
                buttons(&format!("/bambora/pay/{id}"), &r.order)
            )
        }
    };
    hosted_page(s, REQUEST_TITLE, status, &body)
}

pub(super) async fn request_page(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let e = s.bambora.lock().unwrap();
    match e.requests.get(&id) {
        Some(r) => request_html(&s, &id, r, StatusCode::OK, false),
        None => missing_page(&s, "payment request"),
    }
}

pub(super) async fn request_action(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let mut e = s.bambora.lock().unwrap();
    let Some(action) = Action::parse(&action).filter(Action::on_page) else {
        return missing_page(&s, "page");
    };
    if !e.requests.contains_key(&id) {
        return missing_page(&s, "payment request");
    }
    let status = match request_outcome(&mut e, &id, action) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::CONFLICT,
    };
    let left = action == Action::Cancel && status == StatusCode::OK;
    request_html(&s, &id, &e.requests[&id], status, left)
}
