//! Request handlers: parse, call the extension, map the answer. No rule lives here.

use std::net::IpAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use liveupdate_core::answer::{Code, Refusal};
use liveupdate_core::channel::{self, ChannelRequest, Operation};
use liveupdate_core::manifest_size::{self, SizeRequest};
use liveupdate_core::request::{MAX_BODY_BYTES, UpdateRequest};
use liveupdate_core::stats::{self, ParsedStats};
use serde_json::{Value, json};

use crate::body_budget::Reservation;
use crate::db::DbError;
use crate::metrics;
use crate::response::{self, ApiError, Body};
use crate::state::State;

/// `POST /updates`. Bad requests are answered from the core crate's validation before any
/// database work; a valid one costs exactly one database round trip.
pub async fn update_check(
    state: &State,
    request: Request<Incoming>,
    client: IpAddr,
) -> Result<Response<Body>, ApiError> {
    let body = match read_body(state, request, MAX_BODY_BYTES, client).await? {
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
        state.metrics.device_checks_dropped.inc();
    }
    Ok(response::extension_answer(&answer))
}

/// `POST /updates/manifest_size`: validated here, sized by one extension call.
pub async fn manifest_size(
    state: &State,
    request: Request<Incoming>,
    client: IpAddr,
) -> Result<Response<Body>, ApiError> {
    let body = match read_body(state, request, manifest_size::MAX_BODY_BYTES, client).await? {
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
pub async fn record_stats(
    state: &State,
    request: Request<Incoming>,
    client: IpAddr,
) -> Result<Response<Body>, ApiError> {
    let body = match read_body(state, request, stats::MAX_STATS_BODY_BYTES, client).await? {
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
/// §6.5 are applied before the database is asked; `client` is the address they count.
pub async fn channel_self(
    state: &State,
    request: Request<Incoming>,
    operation: Operation,
    client: IpAddr,
) -> Result<Response<Body>, ApiError> {
    let query = match channel::query_to_json(request.uri().query().unwrap_or("")) {
        Ok(query) => query,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    let body = match read_body(state, request, MAX_BODY_BYTES, client).await? {
        Ok(bytes) => bytes,
        Err(refusal) => return Ok(response::extension_answer(&refusal.to_json())),
    };
    let channel_request = match channel_request(operation, query, &body) {
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

/// A `/channel_self` request from its query string (as [`channel::query_to_json`] reads it; used
/// by GET and DELETE) and its JSON body (POST, PUT and DELETE, whose body fields win), validated.
pub fn channel_request(operation: Operation, query: Value, body: &[u8]) -> Result<ChannelRequest, Refusal> {
    let mut fields = match operation {
        Operation::List | Operation::Unset => query,
        Operation::Set | Operation::Get => Value::Object(Default::default()),
    };
    if operation != Operation::List && !body.is_empty() {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(body)) => {
                if let Some(fields) = fields.as_object_mut() {
                    fields.extend(body);
                }
            }
            Ok(_) => fields = Value::Null,
            Err(e) => {
                return Err(Refusal::new(Code::InvalidJsonParseBody).with_more_info("reason", e.to_string()));
            }
        }
    }
    ChannelRequest::from_json(operation, &fields)
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
    state.metrics.database_errors.inc();
    tracing::warn!(%error, operation, "database call failed");
    match error {
        DbError::Unavailable(_) => ApiError::database_unavailable(),
        // The device entry points answer refusals in their bodies; a raised one is a bug.
        DbError::Failed(_) | DbError::Refused { .. } => ApiError::internal(),
    }
}

/// A request body held in memory, counted against the body-memory budget until dropped.
pub(crate) struct BufferedBody<'a> {
    bytes: Vec<u8>,
    _reservation: Reservation<'a>,
}

impl std::ops::Deref for BufferedBody<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Reads the whole body within the size and time limits, and within the body-memory budget:
/// every byte of the buffer is reserved before it is allocated (the declared length up front).
/// The outer error is a transport failure or an exhausted budget (503, or 429 for one address);
/// the inner one a protocol answer (413).
pub(crate) async fn read_body(
    state: &State,
    request: Request<Incoming>,
    max_bytes: usize,
    client: IpAddr,
) -> Result<Result<BufferedBody<'_>, Refusal>, ApiError> {
    let too_large = || Refusal::new(Code::PayloadTooLarge).with_more_info("maxBytes", max_bytes as u64);
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_bytes as u64) {
        return Ok(Err(too_large()));
    }
    let declared = declared.unwrap_or(0) as usize;
    let mut reservation = state.body_budget.reserve(client, declared)?;
    let mut buffer = Vec::with_capacity(declared);
    let mut body = request.into_body();
    let deadline = tokio::time::Instant::now() + state.config.body_timeout;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(ApiError::request_timeout()),
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    "The request body could not be read",
                ));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue }; // trailers
        let needed = buffer.len() + data.len();
        if needed > max_bytes {
            return Ok(Err(too_large()));
        }
        if needed > buffer.capacity() {
            // Without a declared length: grow geometrically up to the limit, reserving each new
            // capacity before allocating it.
            let capacity = needed.max(buffer.capacity() * 2).min(max_bytes);
            reservation.grow_to(capacity)?;
            buffer.reserve_exact(capacity - buffer.len());
        }
        buffer.extend_from_slice(&data);
    }
    Ok(Ok(BufferedBody { bytes: buffer, _reservation: reservation }))
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
    let text = state.metrics.render(&metrics::Snapshot {
        device_checks_pending: state.device_log.len(),
        body_memory_bytes: state.body_budget.in_use(),
        pool: state.db.pool_status(),
    });
    let mut response = Response::new(response::full(text));
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(metrics::CONTENT_TYPE));
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    const QUERY: &str = "app_id=com.example.app&platform=android&is_emulator=false&is_prod=true\
                         &device_id=8e1c1a7e-3d6b-4e1e-9e8e-0c5b1d2a3f40";

    fn read(operation: Operation, query: &str, body: &str) -> Result<ChannelRequest, Refusal> {
        channel_request(operation, channel::query_to_json(query).unwrap(), body.as_bytes())
    }

    #[test]
    fn channel_requests_come_from_the_query_or_the_body() {
        let body = r#"{"app_id": "com.example.app", "platform": "ios", "channel": "beta",
                       "device_id": "8e1c1a7e-3d6b-4e1e-9e8e-0c5b1d2a3f40"}"#;
        let set = read(Operation::Set, QUERY, body).unwrap();
        assert_eq!((set.platform.as_str(), set.channel.as_deref()), ("ios", Some("beta")));
        assert_eq!(read(Operation::Get, QUERY, "").unwrap_err().code, Code::InvalidJsonBody, "no body");
        let list = read(Operation::List, QUERY, "not even JSON").unwrap();
        assert_eq!(list.platform.as_str(), "android", "GET reads the query only");
        let unset = read(Operation::Unset, QUERY, r#"{"platform": "electron"}"#).unwrap();
        assert_eq!(unset.platform.as_str(), "electron", "on DELETE the body's fields win");
        assert_eq!(read(Operation::Set, "", "{").unwrap_err().code, Code::InvalidJsonParseBody);
        assert_eq!(read(Operation::Unset, QUERY, "[1]").unwrap_err().code, Code::InvalidQueryParameters);
    }
}
