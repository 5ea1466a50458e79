//! Tokens (`POST /oauth/token`) and who may call what: the caller of an API request and the
//! integration-only operations.
//!
//! Rules:
//! - `POST /oauth/token` (NOTES A3): JSON body, `grant_type: client_credentials`. An
//!   integration (`client_id` + `client_secret`) gets `expires_in: 7200`, `scope: market:all`;
//!   a sales channel (`client_id` only, no secret) must send `scope: market:id:<its market>`
//!   (else `400 INVALID_SCOPE`) and gets `expires_in: 14400` and its scope back. The token is
//!   opaque but JWT-shaped (three base64url parts; the payload carries `test: true` and the
//!   application kind). Wrong credentials: `401 UNAUTHORIZED` "Invalid client". At most 30
//!   token requests per rolling 60 s (per emulator = per IP), else `429` with `Retry-After`.
//! - Resources belong to the organization (account) whose integration made them: another
//!   account gets `404 RECORD_NOT_FOUND`. A sales channel token may only
//!   `GET /api/orders/{id}` of its market; every other API call needs an integration token
//!   (`401`, "... requires an integration token"; NOTES A3/A6/A11: custom prices and links are
//!   integration-only).
//!
//! Our choices (the real behaviour is UNCONFIRMED where marked):
//! - The token endpoint answers errors in the JSON:API `errors` shape (real CL may answer
//!   OAuth-style `{"error": "invalid_client"}`: UNCONFIRMED); codes `INVALID_REQUEST`,
//!   `UNSUPPORTED_GRANT_TYPE`, `INVALID_SCOPE` (400), `UNAUTHORIZED` (401),
//!   `TOO_MANY_REQUESTS` (429, the same code as the sandbox's injected `rate_limit` fault). Only
//!   JSON bodies are accepted (UNCONFIRMED whether form bodies work). Requests refused with 429
//!   do not count towards the window (UNCONFIRMED). An integration's `scope` is ignored and
//!   answered as `market:all` (NOTES A3: UNCONFIRMED). A sales channel scope must be exactly
//!   one `market:id:<id>` (no `market:code:`, no lists). A sales channel that sends a secret
//!   is an invalid client.
//! - A sales channel token of the market may read, and open the hosted checkout of, an order
//!   an integration created (UNCONFIRMED, NOTES A3 and E2).

use super::errors::{unauthorized, Errors};
use super::jsonapi::check_media_types;
use super::{Acct, Emulator, TokenInfo};
use crate::common::{bearer_token, is_json, random_bytes, random_hex};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

const INTEGRATION_LIFETIME: u64 = 7200;
const SALES_CHANNEL_LIFETIME: u64 = 14_400;
const TOKEN_RATE_LIMIT: usize = 30;
const TOKEN_RATE_WINDOW_MS: i64 = 60_000;

/// An opaque, JWT-shaped access token (the emulator only looks it up).
fn new_access_token(acct: &Acct, integration: bool, exp_ms: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let kind = if integration {
        "integration"
    } else {
        "sales_channel"
    };
    let client_id = if integration {
        &acct.a.client_id
    } else {
        &acct.a.sales_channel_client_id
    };
    let mut claims = json!({
        "organization": {"id": acct.organization_id, "slug": "kassa-sandbox", "enterprise": false},
        "application": {"client_id": client_id, "kind": kind, "public": !integration},
        "test": true,
        "exp": exp_ms / 1000,
        "rand": random_hex(8),
    });
    if !integration {
        claims["market"] = json!({"id": [acct.a.market_id], "price_list_id": acct.price_list_id});
    }
    format!(
        "{}.{}.{}",
        b64(json!({"alg": "RS512", "typ": "JWT", "kid": "kassa-sandbox"})),
        b64(claims),
        URL_SAFE_NO_PAD.encode(random_bytes::<64>())
    )
}

pub(super) struct Caller {
    pub(super) account: String,
    pub(super) integration: bool,
}

/// The caller a token stands for, else why it does not (the detail of the 401).
pub(super) fn token_caller(e: &Emulator, token: &str, now: i64) -> Result<Caller, &'static str> {
    let Some(info) = e.tokens.get(token) else {
        return Err("The access token you provided is invalid.");
    };
    if info.expires_at <= now {
        return Err("The access token you provided is expired.");
    }
    Ok(Caller {
        account: info.account.clone(),
        integration: info.integration,
    })
}

/// The caller of an API request, after the token and the media type checks.
pub(super) fn api_caller(
    e: &Emulator,
    headers: &HeaderMap,
    write: bool,
    now: i64,
) -> Result<Caller, Errors> {
    let Some(token) = bearer_token(headers) else {
        return Err(unauthorized(
            "An access token is required: send Authorization: Bearer <access token>.",
        )
        .into());
    };
    let caller = token_caller(e, token, now).map_err(unauthorized)?;
    check_media_types(headers, write)?;
    Ok(caller)
}

pub(super) fn integration_only(c: &Caller, what: &str) -> Result<(), Errors> {
    if c.integration {
        Ok(())
    } else {
        Err(unauthorized(format!(
            "{what} requires an integration token (this is a sales channel token)."
        ))
        .into())
    }
}

fn auth_error(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    let body = json!({"errors": [{"title": title, "detail": detail, "code": code,
                                  "status": status.as_u16().to_string()}]});
    (status, Json(body)).into_response()
}

fn invalid_client() -> Response {
    auth_error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Invalid client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    )
}

pub(super) async fn token(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = s.commercelayer.lock().unwrap();
    let e = &mut *guard;
    let now = e.now();
    e.token_requests += 1;
    while e
        .token_window
        .front()
        .is_some_and(|t| now - t >= TOKEN_RATE_WINDOW_MS)
    {
        e.token_window.pop_front();
    }
    if e.token_window.len() >= TOKEN_RATE_LIMIT {
        let oldest = e.token_window.front().copied().unwrap_or(now);
        let wait = (oldest + TOKEN_RATE_WINDOW_MS - now + 999) / 1000;
        let mut r = auth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests",
            "At most 30 token requests per minute: cache your access tokens.",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait.max(1)));
        return r;
    }
    e.token_window.push_back(now);
    let bad = |code: &str, detail: &str| {
        auth_error(StatusCode::BAD_REQUEST, code, "Invalid request", detail)
    };
    if !is_json(&headers) {
        return bad(
            "INVALID_REQUEST",
            "The token request must be JSON (Content-Type: application/json).",
        );
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return bad("INVALID_REQUEST", "The request body must be a JSON object.");
    };
    for (k, v) in &req {
        if !["grant_type", "client_id", "client_secret", "scope"].contains(&k.as_str()) {
            return bad(
                "INVALID_REQUEST",
                &format!("{k} is not a parameter of the client_credentials grant."),
            );
        }
        if !v.is_string() {
            return bad("INVALID_REQUEST", &format!("{k} must be a string."));
        }
    }
    let field = |k: &str| req.get(k).and_then(Value::as_str);
    match field("grant_type") {
        None => return bad("INVALID_REQUEST", "grant_type is required."),
        Some("client_credentials") => {}
        Some(g) => {
            return bad(
                "UNSUPPORTED_GRANT_TYPE",
                &format!("The grant type {g} is not supported for these credentials: use client_credentials."),
            )
        }
    }
    let Some(client_id) = field("client_id") else {
        return invalid_client();
    };
    let secret = field("client_secret").filter(|s| !s.is_empty());
    let (acct, integration) =
        if let Some(a) = e.accounts.iter().find(|a| a.a.client_id == client_id) {
            if secret != Some(a.a.client_secret.as_str()) {
                return invalid_client();
            }
            (a.clone(), true)
        } else if let Some(a) = e
            .accounts
            .iter()
            .find(|a| a.a.sales_channel_client_id == client_id)
        {
            if secret.is_some() {
                return invalid_client();
            }
            match field("scope") {
                None => {
                    return auth_error(
                        StatusCode::BAD_REQUEST,
                        "INVALID_SCOPE",
                        "Invalid scope",
                        "A sales channel token needs a market in its scope: market:id:<market id>.",
                    )
                }
                Some(sc) if sc == a.scope() => {}
                Some(sc) => {
                    return auth_error(
                        StatusCode::BAD_REQUEST,
                        "INVALID_SCOPE",
                        "Invalid scope",
                        &format!("The requested scope {sc} is invalid, unknown, or malformed."),
                    )
                }
            }
            (a.clone(), false)
        } else {
            return invalid_client();
        };
    let lifetime = e.token_lifetime.unwrap_or(if integration {
        INTEGRATION_LIFETIME
    } else {
        SALES_CHANNEL_LIFETIME
    });
    let expires_at = now + lifetime as i64 * 1000;
    let token = new_access_token(&acct, integration, expires_at);
    if integration {
        // The sales-channel token is public by Commerce Layer's design (the checkout URL).
        crate::ledger(&[&token]);
    }
    e.tokens.insert(
        token.clone(),
        TokenInfo {
            account: acct.a.client_id.clone(),
            integration,
            expires_at,
        },
    );
    let scope = if integration {
        "market:all".to_string()
    } else {
        acct.scope()
    };
    Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": lifetime,
        "scope": scope,
        "created_at": now / 1000,
    }))
    .into_response()
}
