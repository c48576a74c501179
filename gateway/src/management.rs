//! The management API under `/v1`: routes (from the route table, see `router`) map to the
//! extension's `api_*` operations, which hold every rule (input checks, rights, row-level
//! security). Here: API-key extraction, the failed-authentication limit, and SQLSTATE → HTTP
//! mapping.
//!
//! Keys never leave this module in clear: the database receives their SHA-256, and nothing logs
//! a header.

use std::net::IpAddr;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use liveupdate_api::{OPERATIONS, Operation, op};
use liveupdate_core::channel::{self, RateLimit};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::DbError;
use crate::handlers;
use crate::response::{self, Body};
use crate::state::State;
use crate::upload::{self, UploadFailure};

/// Largest management request body (bundle manifests can be long).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The window of the failed-authentication limit (`LIVEUPDATE_AUTH_FAILURE_LIMIT` per window).
pub const AUTH_FAILURE_WINDOW_SECONDS: u64 = 60;

/// The OpenAPI document served at `/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The operation that registers an uploaded archive; its route is served by `upload`.
const UPLOAD_OPERATION: &str = <op::UploadBundleArchive as Operation>::ROUTE.function;

/// One management request, routed: the operation's extension function and its path fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub operation: &'static str,
    /// Path parameters, decoded, by field name.
    pub path_fields: Vec<(&'static str, String)>,
}

impl Call {
    /// 201 for operations that create something, as the operation's table says.
    fn success_status(&self) -> StatusCode {
        OPERATIONS
            .iter()
            .find(|route| route.function == self.operation)
            .and_then(|route| StatusCode::from_u16(route.success_status).ok())
            .unwrap_or(StatusCode::OK)
    }
}

/// The key a client presents: `x-api-key`, or `Authorization` as `Bearer <key>` or the bare key
/// (what Capgo's CLI sends).
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let from_header = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::trim);
    from_header(hyper::header::HeaderName::from_static("x-api-key"))
        .or_else(|| {
            from_header(AUTHORIZATION).map(|value| {
                value.strip_prefix("Bearer ").or(value.strip_prefix("bearer ")).unwrap_or(value).trim()
            })
        })
        .filter(|key| !key.is_empty())
}

/// SHA-256 of the key in lower-case hex: all the database ever sees of it.
fn key_sha256(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A management error: `{error, message}` with a stable code.
fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    response::json(status, &json!({"error": code, "message": message}))
}

fn unauthorized() -> Response<Body> {
    let mut answer = error(
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        "A valid API key is required (x-api-key or Authorization: Bearer)",
    );
    answer.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    answer
}

/// The HTTP status and stable code of an extension refusal (its SQLSTATE).
pub fn refusal_status(sqlstate: &str) -> (StatusCode, &'static str) {
    match sqlstate {
        "28000" => (StatusCode::UNAUTHORIZED, "invalid_api_key"),
        "42501" => (StatusCode::FORBIDDEN, "forbidden"),
        "P0002" => (StatusCode::NOT_FOUND, "not_found"),
        "23505" => (StatusCode::CONFLICT, "conflict"),
        "55000" => (StatusCode::CONFLICT, "invalid_state"),
        "LU001" => (StatusCode::FORBIDDEN, "signature_required"),
        "LU002" => (StatusCode::FORBIDDEN, "invalid_signature"),
        _ => (StatusCode::BAD_REQUEST, "invalid_request"),
    }
}

/// Maps a failed extension call: the extension's refusals (SQLSTATEs) to 4xx with its message,
/// database trouble to 503, anything else to a bare 500.
fn refusal(state: &State, error_from_db: DbError) -> Response<Body> {
    match error_from_db {
        DbError::Refused { code, .. } if code == "28000" => unauthorized(),
        DbError::Refused { code, message } => {
            let (status, name) = refusal_status(&code);
            error(status, name, &message)
        }
        other => handlers::database_error(state, "management", other).into_response(),
    }
}

/// `GET /v1/openapi.json`, served without a key.
pub fn openapi() -> Response<Body> {
    let mut answer = Response::new(response::full(bytes::Bytes::from_static(OPENAPI.as_bytes())));
    answer.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    answer
}

/// A management path with another method: `allow` lists the path's.
pub fn method_not_allowed(allow: &str) -> Response<Body> {
    let mut answer = error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed");
    if let Ok(allow) = HeaderValue::from_str(allow) {
        answer.headers_mut().insert(hyper::header::ALLOW, allow);
    }
    answer
}

pub fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, "not_found", "Not found")
}

/// A path segment with broken percent-encoding.
pub fn bad_path() -> Response<Body> {
    error(StatusCode::BAD_REQUEST, "invalid_request", "The path has invalid percent-encoding")
}

/// Serves `call` from `client` (whose failed authentications are limited).
pub async fn handle(state: &State, request: Request<Incoming>, call: Call, client: IpAddr) -> Response<Body> {
    let failure_key = format!("auth|{client}");
    let limit =
        RateLimit { max: state.config.auth_failure_limit, window_seconds: AUTH_FAILURE_WINDOW_SECONDS };
    if let Some(wait) = state.rate_limiter.exceeded(&failure_key, limit, Instant::now()) {
        let mut answer = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failed_authentications",
            "Too many failed authentications from this address; retry later",
        );
        answer.headers_mut().insert(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        return answer;
    }
    let count_failure = || {
        // Only counts: whether the address is over the limit was decided above, before any work.
        let _ = state.rate_limiter.hit(failure_key.clone(), limit, Instant::now());
    };
    let Some(key_hash) = presented_key(request.headers()).map(key_sha256) else {
        count_failure();
        return unauthorized();
    };
    if let Err(failure) = state.db.authenticate_key(&key_hash).await {
        if matches!(&failure, DbError::Refused { code, .. } if code == "28000") {
            count_failure();
        }
        return refusal(state, failure);
    }

    if call.operation == UPLOAD_OPERATION {
        return upload_archive(state, request, &key_hash, &call).await;
    }
    let input = match request_input(state, request, &call, client).await {
        Ok(input) => input,
        Err(answer) => return answer,
    };
    match state.db.management_call(&key_hash, call.operation, &input).await {
        Ok(answer) => response::json(call.success_status(), &answer),
        Err(failure) => refusal(state, failure),
    }
}

/// An archive upload: the query string and path give the bundle's fields, the body is the zip.
async fn upload_archive(
    state: &State,
    request: Request<Incoming>,
    key_hash: &str,
    call: &Call,
) -> Response<Body> {
    let Ok(Value::Object(mut fields)) = channel::query_to_json(request.uri().query().unwrap_or("")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The query string has invalid percent-encoding",
        );
    };
    for (name, value) in &call.path_fields {
        fields.insert((*name).to_owned(), Value::String(value.clone()));
    }
    match upload::receive(state, request, key_hash, fields).await {
        Ok(bundle) => response::json(call.success_status(), &bundle),
        Err(UploadFailure::Upload(failure)) => error(failure.status, failure.code, &failure.message),
        Err(UploadFailure::Database(failure)) => refusal(state, failure),
    }
}

/// The operation's input object: the query string (GET, DELETE) or the JSON body (POST, PUT,
/// PATCH), plus the path parameters, which a body may not contradict.
async fn request_input(
    state: &State,
    request: Request<Incoming>,
    call: &Call,
    client: IpAddr,
) -> Result<Value, Response<Body>> {
    let invalid = |message: &str| error(StatusCode::BAD_REQUEST, "invalid_request", message);
    let input = if matches!(*request.method(), Method::GET | Method::DELETE) {
        channel::query_to_json(request.uri().query().unwrap_or(""))
            .map_err(|_| invalid("The query string has invalid percent-encoding"))?
    } else {
        let body = match handlers::read_body(state, request, MAX_BODY_BYTES, client).await {
            Ok(Ok(body)) => body,
            Ok(Err(_too_large)) => {
                return Err(error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "The request body is over 1 MiB",
                ));
            }
            Err(transport) => return Err(transport.into_response()),
        };
        body_input(&body).map_err(|message| invalid(&message))?
    };
    with_path_fields(input, call).map_err(|message| invalid(&message))
}

/// A request body as an operation's input: a JSON object, or `{}` when the body is blank. The
/// error is the message of the 400 `invalid_request`.
pub fn body_input(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("The request body must be a JSON object".to_owned()),
        Err(e) => Err(format!("The request body is not valid JSON: {e}")),
    }
}

/// Adds the call's path parameters to its input; a field the path gives may not say otherwise
/// in the body or query. The error is the message of the 400 `invalid_request`.
pub fn with_path_fields(mut input: Value, call: &Call) -> Result<Value, String> {
    let Some(fields) = input.as_object_mut() else {
        return Err("The request must be a JSON object".to_owned());
    };
    for (name, value) in &call.path_fields {
        match fields.get(*name) {
            Some(given) if given.as_str() != Some(value.as_str()) => {
                return Err(format!("\"{name}\" is given by the path"));
            }
            _ => {
                fields.insert((*name).to_owned(), Value::String(value.clone()));
            }
        }
    }
    Ok(input)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;
    use crate::router::Endpoint;

    fn route(method: &Method, path: &str) -> Endpoint {
        Endpoint::parse(method, path)
    }

    fn call(operation: &'static str, fields: &[(&'static str, &str)]) -> Endpoint {
        Endpoint::Management(Call {
            operation,
            path_fields: fields.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        })
    }

    fn not_allowed(allow: &str) -> Endpoint {
        Endpoint::MethodNotAllowed { allow: allow.to_owned(), label: "management" }
    }

    #[test]
    fn routes_decode_path_parameters() {
        assert_eq!(route(&Method::GET, "/v1/apps"), call("api_list_apps", &[]));
        assert_eq!(route(&Method::GET, "/v1/apps/"), call("api_list_apps", &[]));
        assert_eq!(
            route(&Method::PATCH, "/v1/apps/com.example.app/channels/beta%20two"),
            call("api_update_channel", &[("app_id", "com.example.app"), ("channel", "beta two")])
        );
        assert_eq!(
            route(&Method::DELETE, "/v1/apps/a.b/bundles/1.0.0+build"),
            call("api_delete_bundle", &[("app_id", "a.b"), ("version", "1.0.0+build")])
        );
        assert_eq!(route(&Method::DELETE, "/v1/keys/12"), call("api_revoke_key", &[("key_id", "12")]));
        assert_eq!(route(&Method::DELETE, "/v1/apps/a.b"), call("api_delete_app", &[("app_id", "a.b")]));
        assert_eq!(route(&Method::POST, "/v1/keys/12"), not_allowed("DELETE"));
        assert_eq!(route(&Method::PUT, "/v1/apps"), not_allowed("GET, POST"));
        assert_eq!(route(&Method::GET, "/v1/apps//channels"), Endpoint::NotFound { management: true });
        assert_eq!(route(&Method::GET, "/v1/apps/a.b/secrets"), Endpoint::NotFound { management: true });
        assert_eq!(route(&Method::GET, "/v1/apps/%zz"), Endpoint::BadPath);
        assert_eq!(
            route(&Method::GET, "/v1/openapi.json"),
            Endpoint::Gateway { service: liveupdate_api::routes::Service::OpenApi, parameters: Vec::new() }
        );
    }

    #[test]
    fn keys_from_either_header_and_only_hashes_leave() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_key(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer lu_abc"));
        assert_eq!(presented_key(&headers), Some("lu_abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("lu_bare"));
        assert_eq!(presented_key(&headers), Some("lu_bare"));
        headers.insert("x-api-key", HeaderValue::from_static("lu_x"));
        assert_eq!(presented_key(&headers), Some("lu_x"), "x-api-key wins");
        assert_eq!(
            key_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "the SHA-256 test vector"
        );
    }

    #[test]
    fn bodies_are_json_objects_and_paths_win() {
        assert_eq!(body_input(b" \n").unwrap(), json!({}));
        assert_eq!(body_input(br#"{"name": "x"}"#).unwrap(), json!({"name": "x"}));
        assert!(body_input(b"[1]").unwrap_err().contains("must be a JSON object"));
        assert!(body_input(b"{").unwrap_err().contains("not valid JSON"));
        let Endpoint::Management(call) = route(&Method::PATCH, "/v1/apps/com.example.app") else { panic!() };
        let merged = with_path_fields(json!({"name": "x"}), &call).unwrap();
        assert_eq!(merged, json!({"name": "x", "app_id": "com.example.app"}));
        let agreeing = json!({"app_id": "com.example.app"});
        assert_eq!(with_path_fields(agreeing.clone(), &call).unwrap(), agreeing);
        for contradiction in [json!({"app_id": "com.other.app"}), json!({"app_id": 7})] {
            assert_eq!(
                with_path_fields(contradiction, &call).unwrap_err(),
                "\"app_id\" is given by the path"
            );
        }
        assert!(with_path_fields(json!("text"), &call).is_err());
    }
}
