//! Request handlers: parse, call the extension, map the answer. No rule lives here.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use liveupdate_core::answer::{Code, Refusal};
use liveupdate_core::channel::{self, ChannelRequest, Operation};
use liveupdate_core::manifest_size::{self, SizeRequest};
use liveupdate_core::request::{MAX_BODY_BYTES, UpdateRequest};
use liveupdate_core::stats::{self, ParsedStats};
use serde_json::{Value, json};

use crate::db::DbError;
use crate::response::{self, ApiError, Body};
use crate::state::State;

/// `POST /updates`. Bad requests are answered from the core crate's validation before any
/// database work; a valid one costs exactly one database round trip.
pub async fn update_check(state: &State, request: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let body = match read_body(state, request, MAX_BODY_BYTES).await? {
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
        .map_err(|error| database_error(state, "update check", error))?;
    let app_known = answer.get("error").and_then(|e| e.as_str()) != Some(Code::OnPremiseApp.as_str());
    if app_known && !state.device_log.record(&check) {
        state.metrics.device_checks_dropped.fetch_add(1, Ordering::Relaxed);
    }
    Ok(response::extension_answer(&answer))
}

/// `POST /updates/manifest_size`: validated here, sized by one extension call.
pub async fn manifest_size(state: &State, request: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let body = match read_body(state, request, manifest_size::MAX_BODY_BYTES).await? {
        Ok(bytes) => bytes,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    let parsed = match serde_json::from_slice::<Value>(&body) {
        Ok(value) => value,
        Err(e) => {
            let refusal = Refusal::new(Code::InvalidJsonParseBody).with_more_info("reason", e.to_string());
            return Ok(response::extension_answer(&refusal.to_json()));
        }
    };
    if let Err(refusal) = SizeRequest::from_json(&parsed) {
        return Ok(response::extension_answer(&refusal.to_json()));
    }
    let answer = state
        .db
        .manifest_size(&parsed)
        .await
        .map_err(|error| database_error(state, "manifest_size", error))?;
    Ok(response::extension_answer(&answer))
}

/// `POST /stats`: whole-body problems are answered here; a batch is stored by one extension call
/// and acknowledged only once committed. Database failures are 503s, which the plugin retries.
pub async fn record_stats(state: &State, request: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let body = match read_body(state, request, stats::MAX_STATS_BODY_BYTES).await? {
        Ok(bytes) => bytes,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    match stats::parse_body(&body) {
        ParsedStats::Empty => Ok(response::extension_answer(&stats::response_body(false, &[]))),
        ParsedStats::Answer(refusal) => Ok(response::extension_answer(&refusal.to_json())),
        ParsedStats::Batch(_) => {
            // It parsed as JSON, so it is UTF-8.
            let text = std::str::from_utf8(&body).map_err(|_| ApiError::internal())?;
            let answer =
                state.db.record_stats(text).await.map_err(|error| database_error(state, "stats", error))?;
            Ok(response::extension_answer(&answer))
        }
    }
}

/// `/channel_self`: the request comes from the body (POST, PUT), the query string (GET), or both
/// (DELETE: current servers read the query, legacy plugins send a body). Limits of protocol.md
/// §6.5 are applied before the database is asked.
pub async fn channel_self(
    state: &State,
    request: Request<Incoming>,
    operation: Operation,
    peer: IpAddr,
) -> Result<Response<Body>, ApiError> {
    let client = client_address(state, &request, peer);
    let query = match channel::query_to_json(request.uri().query().unwrap_or("")) {
        Ok(query) => query,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    let body = match read_body(state, request, MAX_BODY_BYTES).await? {
        Ok(bytes) => bytes,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    let mut fields = match operation {
        Operation::List | Operation::Unset => query,
        Operation::Set | Operation::Get => Value::Object(Default::default()),
    };
    if operation != Operation::List && !body.is_empty() {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(body)) => {
                if let Some(fields) = fields.as_object_mut() {
                    fields.extend(body);
                }
            }
            Ok(_) => fields = Value::Null,
            Err(e) => {
                let refusal =
                    Refusal::new(Code::InvalidJsonParseBody).with_more_info("reason", e.to_string());
                return Ok(response::extension_answer(&refusal.to_json()));
            }
        }
    }
    let channel_request = match ChannelRequest::from_json(operation, &fields) {
        Ok(request) => request,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    if let Err(refusal) = check_channel_limits(state, &channel_request, client) {
        return Ok(response::extension_answer(&refusal.to_json()));
    }
    let answer = state
        .db
        .channel_self(operation.as_str(), &channel_request.to_json())
        .await
        .map_err(|error| database_error(state, "channel_self", error))?;
    Ok(response::extension_answer(&answer))
}

/// The client's address: the peer, or behind a proxy the first entry of the configured header.
pub(crate) fn client_address(state: &State, request: &Request<Incoming>, peer: IpAddr) -> IpAddr {
    state
        .config
        .client_address_header
        .as_ref()
        .and_then(|header| request.headers().get(header))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .and_then(|first| first.trim().parse().ok())
        .unwrap_or(peer)
}

/// The three limits of protocol.md §6.5; the first exceeded one answers. A list request without a
/// device id is only limited per address (one shared per-device bucket would throttle every device).
fn check_channel_limits(state: &State, request: &ChannelRequest, client: IpAddr) -> Result<(), Refusal> {
    let now = Instant::now();
    let app = &request.app_id;
    let mut checks = vec![(
        format!("ip|{client}|{app}"),
        channel::RateLimit { max: state.config.channel_self_address_limit, ..channel::PER_ADDRESS_APP },
    )];
    if let Some(device) = &request.device_id {
        checks.push((
            format!("op|{}|{app}|{device}", request.operation.as_str()),
            channel::PER_DEVICE_OPERATION,
        ));
        if let (Operation::Set, Some(channel_name)) = (request.operation, &request.channel) {
            checks.push((format!("same|{app}|{device}|{channel_name}"), channel::SAME_CHANNEL_SET));
        }
    }
    for (key, limit) in checks {
        if let Err(wait) = state.rate_limiter.hit(key, limit, now) {
            let retry_after = wait.as_secs_f64().ceil().max(1.0) as u64;
            let reset_at_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|elapsed| (elapsed + wait).as_millis() as u64)
                .unwrap_or_default();
            return Err(channel::rate_limited(reset_at_ms, retry_after));
        }
    }
    Ok(())
}

/// Counts and logs a failed database call; the client sees a retryable 503 or a bare 500.
pub(crate) fn database_error(state: &State, operation: &'static str, error: DbError) -> ApiError {
    state.metrics.database_errors.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(%error, operation, "database call failed");
    match error {
        DbError::Unavailable(_) => ApiError::database_unavailable(),
        // The device entry points answer refusals in their bodies; a raised one is a bug.
        DbError::Failed(_) | DbError::Refused { .. } => ApiError::internal(),
    }
}

/// Reads the whole body within the size and time limits. The outer error is a transport failure;
/// the inner one a protocol answer (413).
pub(crate) async fn read_body(
    state: &State,
    request: Request<Incoming>,
    max_bytes: usize,
) -> Result<Result<Bytes, Refusal>, ApiError> {
    let too_large = || Refusal::new(Code::PayloadTooLarge).with_more_info("maxBytes", max_bytes as u64);
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_bytes as u64) {
        return Ok(Err(too_large()));
    }
    let limited = Limited::new(request.into_body(), max_bytes);
    match tokio::time::timeout(state.config.body_timeout, limited.collect()).await {
        Err(_) => Err(ApiError::request_timeout()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => Ok(Err(too_large())),
        Ok(Err(_)) => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", "The request body could not be read"))
        }
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
    let mut response = Response::new(response::full(text));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
