//! The hosted checkout: by link or by `?accessToken=`, and its buttons.
//!
//! Rules:
//! - Hosted checkout: `GET /link/{id}` (410 once the link is disabled or expired, 403 while
//!   pending) and `GET /checkout/{order_id}?accessToken=<sales channel token of the order's
//!   market>` (an integration token is refused: "an integration token must never be used in a
//!   URL", NOTES A3). The page lists the lines and the total and offers `Pay` (`#pay`),
//!   `Decline card` (`#decline`) and `Back to cart` (`#cancel`), posting to
//!   `/checkout/{order_id}/{action}` with the link or token as the hidden `access` field; an
//!   expired, cancelled, placed or approved order's page says so without buttons.
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - The hosted page goes straight to payment for any order with lines (no customer,
//!   address or delivery steps; UNCONFIRMED for a pre-filled guest order, NOTES A8). A declined
//!   authorization is not an HTTP error anywhere: it is a failed `authorizations` record
//!   (UNCONFIRMED for built-in gateways, NOTES A13).

use super::auth::token_caller;
use super::rules::{amounts, outcome};
use super::{Emulator, Order};
use crate::common::{escape, money, page};
use crate::Shared;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

const PAGE_TITLE: &str = "Checkout (Commerce Layer sandbox)";

fn page_response(status: StatusCode, text: &str, script: &str) -> Response {
    let body = format!("<p class=state>{}</p>{script}", escape(text));
    (status, Html(page(PAGE_TITLE, &body))).into_response()
}

/// What the page says instead of its buttons, if the order cannot be paid now.
fn page_state(e: &Emulator, o: &Order, now: i64) -> Option<&'static str> {
    match o.status {
        "cancelled" => Some("This order was cancelled."),
        "placed" | "approved" => Some("This order is paid. Thank you!"),
        _ if o.expired(now) => Some("This checkout has expired."),
        _ if o.lines.is_empty() => Some("This order has no items."),
        _ if o
            .payment_source
            .as_ref()
            .is_none_or(|p| !e.payments.contains_key(p)) =>
        {
            Some("This order cannot be paid yet: the shop has not created its checkout.com payment source.")
        }
        _ => None,
    }
}

fn order_page(e: &Emulator, o: &Order, via: &str, message: Option<&str>, script: &str) -> String {
    let acct = e.acct(&o.account);
    let am = amounts(o, acct);
    let currency = acct.a.currency.as_str();
    let mut rows = String::new();
    for (l, la) in o.lines.iter().zip(&am.lines) {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            escape(&l.name),
            l.quantity,
            escape(&money(la.total, currency)),
        ));
    }
    let total = money(am.total, currency);
    let tax_note = if o.shipping_address.is_some() {
        let label = if acct.a.tax_included {
            "incl. VAT"
        } else {
            "VAT"
        };
        format!(
            "<p class=note>{label} {}</p>",
            escape(&money(am.tax, currency))
        )
    } else {
        String::new()
    };
    let message = message.map_or_else(String::new, |m| format!("<p class=state>{}</p>", escape(m)));
    let now = e.now();
    let actions = match page_state(e, o, now) {
        Some(text) => format!("<p class=state>{}</p>", escape(text)),
        None => {
            let form = |action: &str, label: &str, class: &str| {
                format!(
                    "<form method=post action=\"/commercelayer/checkout/{}/{action}\">\
                     <input type=hidden name=access value=\"{}\"><button id={action}{class}>{}</button></form>",
                    escape(&o.id),
                    escape(via),
                    escape(label)
                )
            };
            format!(
                "{}<div class=row>{}{}</div>",
                form("pay", &format!("Pay {total}"), " class=pay"),
                form("decline", "Decline card", ""),
                form("cancel", "Back to cart", ""),
            )
        }
    };
    let body = format!(
        "<p class=ref>Order #{}</p><table>{rows}<tr class=total><td>Total</td><td></td><td class=n>{}</td></tr></table>\
         {tax_note}{message}{actions}<p class=note>Commerce Layer sandbox (Kassa): no real money moves.</p>{script}",
        escape(&o.number),
        escape(&total),
    );
    page(PAGE_TITLE, &body)
}

/// Whether `via` (a link as `link:<id>`, or an access token) may open the order's checkout.
fn page_access(
    e: &Emulator,
    o: &Order,
    via: &str,
    now: i64,
) -> Result<(), (StatusCode, &'static str)> {
    if let Some(link_id) = via.strip_prefix("link:") {
        let Some(l) = e.links.get(link_id).filter(|l| l.order_id == o.id) else {
            return Err((StatusCode::NOT_FOUND, "This link does not exist."));
        };
        return match l.status(now) {
            "active" => Ok(()),
            "pending" => Err((StatusCode::FORBIDDEN, "This link is not active yet.")),
            _ => Err((StatusCode::GONE, "This link is no longer active.")),
        };
    }
    if via.is_empty() {
        return Err((
            StatusCode::UNAUTHORIZED,
            "An access token is required (?accessToken=<sales channel token>).",
        ));
    }
    match token_caller(e, via, now) {
        Err(_) => Err((
            StatusCode::UNAUTHORIZED,
            "The access token is invalid or expired.",
        )),
        Ok(c) if c.integration => Err((
            StatusCode::UNAUTHORIZED,
            "Refused: an integration token must never be used in a URL. Use a sales channel token.",
        )),
        Ok(c) if c.account != o.account => {
            Err((StatusCode::NOT_FOUND, "This order does not exist."))
        }
        Ok(_) => Ok(()),
    }
}

pub(super) async fn link_page(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let e = s.commercelayer.lock().unwrap();
    let now = e.now();
    let script = s.page_script_tag();
    let Some(o) = e.links.get(&id).and_then(|l| e.orders.get(&l.order_id)) else {
        return page_response(StatusCode::NOT_FOUND, "This link does not exist.", script);
    };
    let via = format!("link:{id}");
    match page_access(&e, o, &via, now) {
        Ok(()) => Html(order_page(&e, o, &via, None, script)).into_response(),
        Err((status, text)) => page_response(status, text, script),
    }
}

#[derive(Deserialize)]
pub(super) struct CheckoutQuery {
    #[serde(rename = "accessToken")]
    access_token: Option<String>,
}

pub(super) async fn checkout_page(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<CheckoutQuery>,
) -> Response {
    let e = s.commercelayer.lock().unwrap();
    let now = e.now();
    let script = s.page_script_tag();
    let via = q.access_token.unwrap_or_default();
    let Some(o) = e.orders.get(&id) else {
        return page_response(StatusCode::NOT_FOUND, "This order does not exist.", script);
    };
    match page_access(&e, o, &via, now) {
        Ok(()) => Html(order_page(&e, o, &via, None, script)).into_response(),
        Err((status, text)) => page_response(status, text, script),
    }
}

/// A button on the hosted page: applies the outcome, then redirects (return or cart URL) or
/// shows the page again with what happened.
pub(super) async fn page_action(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    let e = &mut *guard;
    let now = e.now();
    let script = s.page_script_tag();
    if !matches!(action.as_str(), "pay" | "decline" | "cancel") {
        return page_response(StatusCode::NOT_FOUND, "This page does not exist.", script);
    }
    let Some(o) = e.orders.get(&id) else {
        return page_response(StatusCode::NOT_FOUND, "This order does not exist.", script);
    };
    let via = form.get("access").cloned().unwrap_or_default();
    if let Err((status, text)) = page_access(e, o, &via, now) {
        return page_response(status, text, script);
    }
    let result = outcome(e, &id, &action, now);
    let o = &e.orders[&id];
    match result {
        Ok(Some(url)) => Redirect::to(&url).into_response(),
        Ok(None) => {
            let message = match action.as_str() {
                "pay" => "Payment authorized.",
                "decline" => "Your card was declined. Try again or use another card.",
                _ => "You went back to the shop; this page can still be used to pay.",
            };
            Html(order_page(e, o, &via, Some(message), script)).into_response()
        }
        Err(m) => (
            StatusCode::CONFLICT,
            Html(order_page(e, o, &via, Some(&m), script)),
        )
            .into_response(),
    }
}
