//! Request handlers: parse, call the extension, map the answer. No rule lives here.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use liveupdate_core::answer::{Code, Refusal};
use liveupdate_core::request::{MAX_BODY_BYTES, UpdateRequest};
use serde_json::json;

use crate::response::{self, ApiError, Body};
use crate::state::State;

/// `POST /updates`. Bad requests are answered from the core crate's validation before any
/// database work; a valid one costs exactly one database round trip.
pub async fn update_check(
    state: &State,
    request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let body = match read_body(state, request).await? {
        Ok(bytes) => bytes,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    let check = match UpdateRequest::from_body(&body) {
        Ok(check) => check,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    let answer = state
        .db
        .resolve_update(&check.to_json())
        .await
        .map_err(|error| {
            state
                .metrics
                .database_errors
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%error, "update check failed");
            match error {
                crate::db::DbError::Unavailable(_) => ApiError::database_unavailable(),
                crate::db::DbError::Failed(_) => ApiError::internal(),
            }
        })?;
    let app_known =
        answer.get("error").and_then(|e| e.as_str()) != Some(Code::OnPremiseApp.as_str());
    if app_known && !state.device_log.record(&check) {
        state
            .metrics
            .device_checks_dropped
            .fetch_add(1, Ordering::Relaxed);
    }
    Ok(response::extension_answer(&answer))
}

/// Reads the whole body within the size and time limits. The outer error is a transport failure;
/// the inner one a protocol answer (413).
async fn read_body(
    state: &State,
    request: Request<Incoming>,
) -> Result<Result<Bytes, Refusal>, ApiError> {
    let too_large =
        || Refusal::new(Code::PayloadTooLarge).with_more_info("maxBytes", MAX_BODY_BYTES as u64);
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Ok(Err(too_large()));
    }
    let limited = Limited::new(request.into_body(), MAX_BODY_BYTES);
    match tokio::time::timeout(state.config.body_timeout, limited.collect()).await {
        Err(_) => Err(ApiError::request_timeout()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => Ok(Err(too_large())),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "The request body could not be read",
        )),
        Ok(Ok(collected)) => Ok(Ok(collected.to_bytes())),
    }
}

/// `GET /updates` and `GET /health`.
pub fn status_ok() -> Response<Body> {
    response::json(StatusCode::OK, &json!({"status": "ok"}))
}

/// `GET /ready`: 200 when the database answers with the extension installed.
pub async fn ready(state: &State) -> Result<Response<Body>, ApiError> {
    match state.db.ping().await {
        Ok(()) => Ok(response::json(StatusCode::OK, &json!({"status": "ok"}))),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            Err(ApiError::database_unavailable())
        }
    }
}

/// `GET /metrics`.
pub fn metrics(state: &State) -> Response<Body> {
    let mut text = state.metrics.render();
    text.push_str(&format!(
        "# TYPE liveupdate_device_checks_pending gauge\nliveupdate_device_checks_pending {}\n",
        state.device_log.len()
    ));
    let mut response = Response::new(http_body_util::Full::new(Bytes::from(text)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
