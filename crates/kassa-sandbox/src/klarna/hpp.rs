//! The Hosted Payment Page v1 API: create, read and disable an HPP session.

use super::{
    bad_value, error, json_body, new_uuid, not_found, unauthorized, HppSession, HppStatus, HOUR_MS,
    HPP_SPEC,
};
use crate::common::{is_email, is_http_url, public_base};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kassa_core::time::{format_rfc3339, now_millis};
use serde_json::{json, Value};
use std::sync::Arc;

/// The KP session id at the end of a `payment_session_url`.
pub(super) fn kp_session_id(url: &str) -> Option<&str> {
    let (_, id) = url.rsplit_once("/payments/v1/sessions/")?;
    (!id.is_empty() && !id.contains(['/', '?', '#'])).then_some(id)
}

pub(super) async fn create_session(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    let v = match json_body(&headers, &body, &HPP_SPEC, "SessionCreationRequestV1") {
        Ok(v) => v,
        Err(problems) => return bad_value(problems),
    };
    let mut bad = Vec::new();
    let kp_id = kp_session_id(v["payment_session_url"].as_str().unwrap_or_default());
    let kp = kp_id
        .and_then(|id| e.kp_sessions.get(id))
        .filter(|k| k.account == account);
    if kp.is_none_or(|k| k.authorization_token.is_some()) {
        bad.push("payment_session_url".to_string());
    }
    let merchant_urls = v.get("merchant_urls").cloned().unwrap_or(json!({}));
    for (name, url) in merchant_urls.as_object().into_iter().flatten() {
        if !url.as_str().is_some_and(is_http_url) {
            bad.push(format!("merchant_urls.{name}"));
        }
    }
    let Some(kp) = kp.filter(|_| bad.is_empty()) else {
        return bad_value(bad);
    };
    let now = now_millis();
    let expires_at = kp.expires_at - HOUR_MS;
    if expires_at <= now {
        return not_found("Payment session has expired");
    }
    let ecommerce = kp
        .body
        .get("acquiring_channel")
        .is_none_or(|c| c == "ECOMMERCE");
    let id = new_uuid();
    let base = public_base(&headers, "klarna");
    let mut answer = json!({
        "session_id": id,
        "session_url": format!("{base}/hpp/v1/sessions/{id}"),
        "qr_code_url": format!("{base}/hpp/pay/{id}/qr"),
        "distribution_url": format!("{base}/hpp/v1/sessions/{id}/distribution"),
        "expires_at": format_rfc3339(expires_at),
    });
    if ecommerce {
        answer["redirect_url"] = json!(format!("{base}/hpp/pay/{id}"));
    }
    let session = HppSession {
        account,
        kp_session: kp_id.unwrap_or_default().to_string(),
        merchant_urls,
        place_order_mode: v
            .pointer("/options/place_order_mode")
            .and_then(Value::as_str)
            .unwrap_or("NONE")
            .to_string(),
        status: HppStatus::Waiting,
        updated_at: now,
        expires_at,
        authorization_token: None,
        order_id: None,
        klarna_reference: None,
    };
    e.hpp_sessions.insert(id, session);
    (StatusCode::CREATED, Json(answer)).into_response()
}

fn hpp_json(id: &str, h: &HppSession) -> Value {
    let mut v = json!({
        "session_id": id,
        "status": h.status.as_str(),
        "updated_at": format_rfc3339(h.updated_at),
        "expires_at": format_rfc3339(h.expires_at),
    });
    for (key, value) in [
        ("authorization_token", &h.authorization_token),
        ("order_id", &h.order_id),
        ("klarna_reference", &h.klarna_reference),
    ] {
        if let Some(x) = value {
            v[key] = json!(x);
        }
    }
    v
}

pub(super) async fn get_session(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    match e.hpp_sessions.get(&id).filter(|h| h.account == account) {
        Some(h) => Json(hpp_json(&id, h)).into_response(),
        None => not_found("HPP session could not be found by provided id"),
    }
}

pub(super) async fn disable_session(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut e = s.klarna.lock().unwrap();
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    let Some(h) = e.hpp_sessions.get_mut(&id).filter(|h| h.account == account) else {
        return not_found("HPP session could not be found by provided id");
    };
    match h.status {
        HppStatus::Completed => error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "HPP session has already been successfully completed",
        ),
        HppStatus::Disabled => StatusCode::NO_CONTENT.into_response(),
        _ => {
            h.status = HppStatus::Disabled;
            h.updated_at = now_millis();
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

/// The playground's daily caps on distributed links per account (NOTES §3.6).
pub(super) const DAILY_SMS: u32 = 20;
pub(super) const DAILY_EMAILS: u32 = 100;

/// A phone number as Klarna's distribution takes it (our rule, see the module doc).
fn is_phone(text: &str) -> bool {
    let digits: String = text
        .strip_prefix('+')
        .unwrap_or(text)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `POST /hpp/v1/sessions/{id}/distribution`: sends the page's link by SMS or e-mail (here:
/// records it for `GET /_control/messages`).
pub(super) async fn distribute_session(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = s.klarna.lock().unwrap();
    let e = &mut *guard;
    let Some(account) = e.account(&headers) else {
        return unauthorized();
    };
    let Some(h) = e.hpp_sessions.get(&id).filter(|h| h.account == account) else {
        return not_found("HPP session could not be found by provided id");
    };
    let v = match json_body(&headers, &body, &HPP_SPEC, "DistributionRequestV1") {
        Ok(v) => v,
        Err(problems) => return bad_value(problems),
    };
    let contact = &v["contact_information"];
    let field = |name: &str| contact.get(name).and_then(Value::as_str);
    let method: &'static str = match v["method"].as_str() {
        Some("sms") => "sms",
        Some("email") => "email",
        _ => "token",
    };
    let mut bad = Vec::new();
    match method {
        "sms" => {
            if !field("phone").is_some_and(is_phone) {
                bad.push("contact_information.phone".to_string());
            }
            let country = field("phone_country");
            if !country.is_some_and(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())) {
                bad.push("contact_information.phone_country".to_string());
            }
        }
        "email" => {
            if !field("email").is_some_and(is_email) {
                bad.push("contact_information.email".to_string());
            }
        }
        _ => {
            if field("access_id").is_none() {
                bad.push("contact_information.access_id".to_string());
            }
        }
    }
    if !bad.is_empty() {
        return bad_value(bad);
    }
    let now = now_millis();
    if h.status.is_final() || h.expires_at <= now {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!(
                "HPP session is {} and cannot be distributed",
                if h.status.is_final() {
                    h.status.as_str()
                } else {
                    "expired"
                }
            ),
        );
    }
    let cap = match method {
        "sms" => Some(DAILY_SMS),
        "email" => Some(DAILY_EMAILS),
        _ => None,
    };
    let count = e
        .distributed
        .entry((account, method, now / (24 * HOUR_MS)))
        .or_default();
    if cap.is_some_and(|cap| *count >= cap) {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!(
                "the daily limit of {} {method} distributions is reached",
                cap.unwrap_or_default()
            ),
        );
    }
    *count += 1;
    let link = format!("{}/hpp/pay/{id}", public_base(&headers, "klarna"));
    let to = match method {
        "sms" => field("phone"),
        "email" => field("email"),
        _ => field("access_id"),
    }
    .unwrap_or_default();
    s.record_message(crate::control::Message {
        provider: "klarna",
        channel: method,
        to,
        link: &link,
        session: &id,
        extra: json!({"phone_country": field("phone_country")}),
    });
    StatusCode::CREATED.into_response()
}
