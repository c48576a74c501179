//! The management API's request reading (`/v1`): the input is a method byte, then
//! `<path>[?<query>]\n<body>`. The path is routed, the operation's input is read from the query
//! string (GET, DELETE) or the JSON body, the path parameters are merged in, and the values the
//! database checks with the core crate's validators go through them. Never a panic; an accepted
//! input is an object that carries each path parameter as the path gave it.
#![no_main]

use hyper::Method;
use libfuzzer_sys::fuzz_target;
use liveupdate_core::integrity::{self, DigestField};
use liveupdate_core::{channel, fields, resolve, signing, version};
use liveupdate_gateway::management::{self, Route};
use serde_json::Value;

const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

fuzz_target!(|input: &[u8]| {
    let Some((&method, rest)) = input.split_first() else { return };
    let method = &METHODS[usize::from(method) % METHODS.len()];
    let (target, body) = match rest.iter().position(|&byte| byte == b'\n') {
        Some(end) => (&rest[..end], &rest[end + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(target) = std::str::from_utf8(target) else { return };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Route::Call(call) = management::route(method, path) else { return };
    let input = if matches!(*method, Method::GET | Method::DELETE) {
        channel::query_to_json(query).map_err(|_| ())
    } else {
        management::body_input(body).map_err(|_| ())
    };
    let Ok(input) = input.and_then(|input| management::with_path_fields(input, &call).map_err(|_| ())) else {
        return;
    };
    let fields = input.as_object().expect("an operation's input is an object");
    for (name, value) in &call.path_fields {
        assert_eq!(fields.get(*name).and_then(Value::as_str), Some(value.as_str()), "path field {name}");
    }
    validate(fields);
});

/// The checks the database applies to these fields (sql/api.sql, sql/manage.sql,
/// sql/signing.sql), which call the core crate through the extension.
fn validate(fields: &serde_json::Map<String, Value>) {
    let text = |key: &str| fields.get(key).and_then(Value::as_str);
    if let Some(app_id) = text("app_id") {
        fields::is_reverse_domain(app_id);
    }
    for key in ["version", "min_update_version"] {
        if let Some(value) = text(key) {
            let _ = version::parse_strict(value);
        }
    }
    if let Some(url) = text("external_url") {
        resolve::is_http_url(url);
    }
    if let Some(key) = text("storage_key") {
        integrity::is_bundle_path(key);
    }
    if let Some(checksum) = text("checksum") {
        integrity::is_digest(checksum, DigestField::BundleChecksum);
    }
    if let Some(session_key) = text("session_key") {
        integrity::is_session_key(session_key);
    }
    let public_key = text("public_key").and_then(signing::decode_public_key);
    if let (Some(public_key), Some(signature)) = (public_key, text("signature")) {
        let (app_id, version, checksum) = (text("app_id"), text("version"), text("checksum"));
        signing::verify(
            &public_key,
            app_id.unwrap_or(""),
            version.unwrap_or(""),
            checksum.unwrap_or(""),
            signature,
        );
    }
    for entry in fields.get("manifest").and_then(Value::as_array).into_iter().flatten() {
        let text = |key: &str| entry.get(key).and_then(Value::as_str);
        if let Some(name) = text("file_name") {
            integrity::is_bundle_path(name);
        }
        if let Some(hash) = text("file_hash") {
            integrity::is_digest(hash, DigestField::FileHash);
            integrity::is_digest(&hash.to_lowercase(), DigestField::FileHash);
        }
        if let Some(key) = text("storage_key") {
            integrity::is_bundle_path(key);
        }
        if let Some(url) = text("download_url") {
            resolve::is_http_url(url);
        }
    }
}
