//! Building HTTP responses: JSON bodies, and errors with a stable machine code.

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

/// Every answer's body: whole (JSON, small texts) or streamed (stored files).
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A body held whole in memory.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// A JSON response with the given status.
pub fn json(status: StatusCode, body: &Value) -> Response<Body> {
    // Serialising a `Value` cannot fail: its keys are strings.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(full(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An error answer from the gateway itself: `{error, message}` and an HTTP status. Internal
/// details are logged, never sent.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub retry_after_seconds: Option<u64>,
    pub allow: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: &'static str) -> ApiError {
        ApiError { status, code, message, retry_after_seconds: None, allow: None }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found")
    }

    pub fn method_not_allowed(allow: &str) -> ApiError {
        ApiError {
            allow: Some(allow.to_owned()),
            ..ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed")
        }
    }

    /// The database could not be reached or did not answer in time; the client may retry.
    pub fn database_unavailable() -> ApiError {
        ApiError {
            retry_after_seconds: Some(5),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The database is unavailable, retry later",
            )
        }
    }

    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "unknown_error", "Unknown error")
    }

    pub fn request_timeout() -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The request body was not received in time",
        )
    }

    pub fn into_response(self) -> Response<Body> {
        let mut response =
            json(self.status, &json!({"error": self.code, "message": self.message, "moreInfo": {}}));
        if let Some(seconds) = self.retry_after_seconds {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow.and_then(|allow| HeaderValue::from_str(&allow).ok()) {
            response.headers_mut().insert(hyper::header::ALLOW, allow);
        }
        response
    }
}

/// Sends a body produced by the extension with the status its code maps to, adding `Retry-After`
/// to every 429 so plugins that honour it back off.
pub fn extension_answer(body: &Value) -> Response<Body> {
    let status =
        StatusCode::from_u16(liveupdate_core::answer::http_status_of(body)).unwrap_or(StatusCode::OK);
    let mut response = json(status, body);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let seconds = liveupdate_core::answer::retry_after_of(body).unwrap_or(60);
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        if let Some(reset_at_ms) =
            body.get("moreInfo").and_then(|m| m.get("rateLimitResetAt")).and_then(Value::as_u64)
        {
            response.headers_mut().insert("x-ratelimit-reset", HeaderValue::from(reset_at_ms / 1000));
        }
    }
    response
}
