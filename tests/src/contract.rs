//! Answers checked against the generated OpenAPI document. Management: a 2xx answer against its
//! operation's answer schema, a refusal against the Error schema. The gateway's own JSON routes
//! (the device protocol): the answer against the schema documented for its status, which must be
//! documented; device requests against their documented body.

use std::net::SocketAddr;
use std::sync::OnceLock;

use liveupdate_api::routes::{self, Routed};
use liveupdate_api::{OPERATIONS, Route};
use serde_json::{Value, json};

use crate::http::{self, Response};

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(liveupdate_api::openapi::document)
}

/// The operation `method` on `path` (query string allowed) calls, if any.
fn operation(method: &str, path: &str) -> Option<&'static Route> {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    let segments: Vec<&str> = path.strip_prefix("/v1/")?.split('/').collect();
    OPERATIONS.iter().find(|route| {
        route.method.as_str() == method
            && route.segments().count() == segments.len()
            && route
                .segments()
                .zip(&segments)
                .all(|(expected, actual)| expected.starts_with('{') || expected == *actual)
    })
}

/// Panics, saying why, unless `instance` matches `schema` (with the document's components).
fn check_schema(what: &str, schema: &Value, instance: &Value) {
    let mut root = json!({"components": document()["components"].clone()});
    root.as_object_mut().unwrap().extend(schema.as_object().unwrap().clone());
    let validator = jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{what}: schema: {e}"));
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: {instance}\ndoes not match its schema: {errors:#?}");
}

/// The documented operation of one of the gateway's own routes (not `/v1`), if it is routed.
fn device_operation(method: &str, path: &str) -> Option<&'static Value> {
    let path = path.split('?').next().unwrap_or(path);
    let Routed::Found(found) = routes::find(method, path) else { return None };
    Some(&document()["paths"][found.route.path()][method.to_lowercase()])
}

/// Panics unless `body`, sent to `method path` (a device route), matches its documented body.
pub fn check_device_request(method: &str, path: &str, body: &Value) {
    let operation = device_operation(method, path).unwrap_or_else(|| panic!("{method} {path} is not routed"));
    let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
    check_schema(&format!("{method} {path} request"), schema, body);
}

/// [`check_answer`] for the gateway's own routes: a routed path's answer has a documented status.
fn check_device_answer(method: &str, path: &str, response: &Response) {
    let schema = match device_operation(method, path) {
        Some(operation) => {
            let documented = &operation["responses"][response.status.to_string()];
            assert!(!documented.is_null(), "{method} {path}: status {} is not documented", response.status);
            let schema = &documented["content"]["application/json"]["schema"];
            if schema.is_null() {
                // Not a JSON answer (metrics text, file bytes): its documented status is the contract.
                return;
            }
            schema.clone()
        }
        None => json!({"$ref": "#/components/schemas/DeviceRefusal"}),
    };
    let answer: Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("{method} {path}: {} answered no JSON: {e}", response.status));
    check_schema(&format!("{method} {path} → {}", response.status), &schema, &answer);
}

/// Panics, saying why, unless `response` to `method path` is what the document promises.
pub fn check_answer(method: &str, path: &str, response: &Response) {
    if path.starts_with("/v1/openapi.json") {
        return;
    }
    if !routes::is_management_path(path) {
        return check_device_answer(method, path, response);
    }
    let schema = match operation(method, path) {
        Some(route) if (200..300).contains(&response.status) => {
            let answer = &document()["paths"][route.path][route.method.as_str().to_lowercase()]["responses"]
                [route.success_status.to_string()]["content"]["application/json"]["schema"];
            assert_eq!(response.status, route.success_status, "{method} {path}: the documented 2xx status");
            answer.clone()
        }
        _ => json!({"$ref": "#/components/schemas/Error"}),
    };
    let answer: Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("{method} {path}: {} answered no JSON: {e}", response.status));
    check_schema(&format!("{method} {path} → {}", response.status), &schema, &answer);
}

/// [`http::request`], the answer held to the document ([`check_answer`]).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let response = http::request(addr, method, path, headers, body);
    check_answer(method, path, &response);
    response
}

/// [`http::post_json`], the answer held to the document ([`check_answer`]).
pub fn post_json(addr: SocketAddr, path: &str, body: &Value) -> Response {
    let response = http::post_json(addr, path, body);
    check_answer("POST", path, &response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: Value) -> Response {
        Response { status, headers: Vec::new(), body: body.to_string().into_bytes() }
    }

    #[test]
    fn answers_are_held_to_their_schema() {
        check_answer("DELETE", "/v1/keys/3", &response(200, json!({"revoked": true})));
        check_answer(
            "GET",
            "/v1/apps/a.b/secrets",
            &response(404, json!({"error": "not_found", "message": "Not found"})),
        );
        let wrong = std::panic::catch_unwind(|| {
            check_answer("DELETE", "/v1/keys/3", &response(200, json!({"revoked": "yes"})))
        });
        assert!(wrong.is_err(), "a wrong type is caught");
        let missing = std::panic::catch_unwind(|| check_answer("GET", "/v1/apps", &response(200, json!({}))));
        assert!(missing.is_err(), "a missing field is caught");
        let undocumented = std::panic::catch_unwind(|| {
            check_answer("DELETE", "/v1/keys/3", &response(200, json!({"revoked": true, "at": "now"})))
        });
        assert!(undocumented.is_err(), "an undocumented field is caught");
        let unknown_code = std::panic::catch_unwind(|| {
            check_answer("GET", "/v1/x", &response(404, json!({"error": "nope", "message": "m"})))
        });
        assert!(unknown_code.is_err(), "an undocumented error code is caught");
    }

    #[test]
    fn device_answers_are_held_to_their_documented_status_and_schema() {
        let bundle = json!({"version": "1.0.1", "url": "https://cdn.example/a.zip", "session_key": "", "checksum": ""});
        check_answer("POST", "/updates", &response(200, bundle));
        let refusal = json!({"error": "no_new_version_available", "message": "m", "kind": "up_to_date"});
        check_answer("POST", "/updates", &response(200, refusal));
        check_answer(
            "GET",
            "/nowhere",
            &response(404, json!({"error": "not_found", "message": "Not found", "moreInfo": {}})),
        );
        let undocumented = std::panic::catch_unwind(|| {
            check_answer("POST", "/updates", &response(402, json!({"error": "x", "message": "m"})))
        });
        assert!(undocumented.is_err(), "an undocumented status is caught");
        check_answer("POST", "/updates", &response(200, json!({"version": "builtin"})));
        let on_builtin = json!({"error": "already_on_builtin", "message": "m", "kind": "up_to_date", "version": "builtin"});
        check_answer("POST", "/updates", &response(200, on_builtin));
        let no_url = std::panic::catch_unwind(|| {
            check_answer("POST", "/updates", &response(200, json!({"version": "1.0.1"})))
        });
        assert!(no_url.is_err(), "a bundle other than builtin needs its url");
        let wrong = std::panic::catch_unwind(|| {
            check_answer("POST", "/updates", &response(200, json!({"version": 1})))
        });
        assert!(wrong.is_err(), "an answer that is neither a bundle nor a refusal is caught");
        let wrong_kind = std::panic::catch_unwind(|| {
            check_answer(
                "POST",
                "/updates",
                &response(200, json!({"error": "x", "message": "m", "kind": "later"})),
            )
        });
        assert!(wrong_kind.is_err(), "an unknown kind is caught");
    }
}
