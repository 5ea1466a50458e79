//! The JSON:API error shape and the errors every resource answers.
//!
//! - Error codes the NOTES do not list (`PARAM_NOT_ALLOWED`, `PARAM_MISSING`, `TYPE_MISMATCH`,
//!   `KEY_NOT_INCLUDED_IN_URL`, `INVALID_LINKS_OBJECT`, `INVALID_DATA_FORMAT`, `INVALID_INCLUDE`,
//!   `INVALID_FIELD`, `INVALID_RESOURCE`, `FILTER_NOT_ALLOWED`, `INVALID_PAGE_VALUE`,
//!   `NOT_ACCEPTABLE`, `UNSUPPORTED_MEDIA_TYPE`) and their titles/details follow the Rails
//!   library jsonapi-resources (`lib/jsonapi/exceptions.rb`), whose codes CL's documented ones
//!   (`RECORD_NOT_FOUND`, `KEY_NOT_INCLUDED_IN_URL`) match. That CL uses them: UNCONFIRMED.
//!
//! Rules:
//! - Errors: `{"errors": [{title, detail, code, status, source?, meta?}]}` (NOTES A13). A body
//!   is checked in two passes and each pass reports every problem at once: shape and names
//!   (`400`: unknown, read-only or removed attributes and relationships are
//!   `PARAM_NOT_ALLOWED` with `source.pointer`), then values (`422 VALIDATION_ERROR`, title =
//!   the message, detail `"<field> - <message>"`, `meta.error`).

use super::jsonapi::JSON_API;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug)]
pub(super) struct ApiError {
    pub(super) status: StatusCode,
    pub(super) code: String,
    pub(super) title: String,
    pub(super) detail: String,
    pub(super) source: Option<Value>,
    pub(super) meta: Option<Value>,
}

impl ApiError {
    pub(super) fn new(
        status: StatusCode,
        code: &str,
        title: impl Into<String>,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            title: title.into(),
            detail: detail.into(),
            source: None,
            meta: None,
        }
    }

    pub(super) fn at(mut self, pointer: impl Into<String>) -> ApiError {
        self.source = Some(json!({ "pointer": pointer.into() }));
        self
    }

    pub(super) fn param(mut self, parameter: &str) -> ApiError {
        self.source = Some(json!({ "parameter": parameter }));
        self
    }

    pub(super) fn meta(mut self, meta: Value) -> ApiError {
        self.meta = Some(meta);
        self
    }

    pub(super) fn json(&self) -> Value {
        let mut v = json!({
            "title": self.title,
            "detail": self.detail,
            "code": self.code,
            "status": self.status.as_u16().to_string(),
        });
        if let Some(s) = &self.source {
            v["source"] = s.clone();
        }
        if let Some(m) = &self.meta {
            v["meta"] = m.clone();
        }
        v
    }
}

/// One error answer: every problem found, with the first one's HTTP status.
#[derive(Debug)]
pub(super) struct Errors(pub(super) Vec<ApiError>);

impl From<ApiError> for Errors {
    fn from(e: ApiError) -> Errors {
        Errors(vec![e])
    }
}

impl IntoResponse for Errors {
    fn into_response(self) -> Response {
        let status = self.0.first().map_or(StatusCode::BAD_REQUEST, |e| e.status);
        let body = json!({ "errors": self.0.iter().map(ApiError::json).collect::<Vec<_>>() });
        api_json(status, &body)
    }
}

pub(super) type ApiResult = Result<Response, Errors>;

pub(super) fn check(errs: Vec<ApiError>) -> Result<(), Errors> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Errors(errs))
    }
}

pub(super) fn api_json(status: StatusCode, v: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, JSON_API)], v.to_string()).into_response()
}

/// Commerce Layer's JSON:API error shape (also for the sandbox's injected faults).
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    Errors(vec![ApiError::new(status, code, title, message)]).into_response()
}

pub(super) fn unauthorized(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Unauthorized",
        detail,
    )
}

pub(super) fn record_not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RECORD_NOT_FOUND",
        "Record not found",
        format!("The record identified by {id} could not be found."),
    )
}

pub(super) fn bad_request(code: &str, title: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, title, detail)
}

pub(super) fn not_allowed(pointer: String, name: &str, hint: Option<&str>) -> ApiError {
    let detail = match hint {
        Some(h) => format!("{name} is not allowed: {h}"),
        None => format!("{name} is not allowed."),
    };
    bad_request("PARAM_NOT_ALLOWED", "Param not allowed", detail).at(pointer)
}

pub(super) const NOT_EMULATED: &str =
    "a real Commerce Layer field that the Kassa sandbox does not emulate";

/// `422 VALIDATION_ERROR`: title = the message, detail `"<field> - <message>"`.
fn invalid(pointer: String, name: &str, message: &str, error: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_ERROR",
        message,
        format!("{name} - {message}"),
    )
    .at(pointer)
    .meta(json!({ "error": error }))
}

pub(super) fn attr_ptr(name: &str) -> String {
    format!("/data/attributes/{name}")
}

pub(super) fn rel_ptr(name: &str) -> String {
    format!("/data/relationships/{name}")
}

pub(super) fn invalid_attr(name: &str, message: &str, error: &str) -> ApiError {
    invalid(attr_ptr(name), name, message, error)
}

pub(super) fn invalid_rel(name: &str, message: &str, error: &str) -> ApiError {
    invalid(rel_ptr(name), name, message, error)
}

pub(super) fn blank_attr(name: &str) -> ApiError {
    invalid_attr(name, "can't be blank", "blank")
}
