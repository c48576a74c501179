//! Management answers checked against the generated OpenAPI document: a 2xx answer against its
//! operation's answer schema, a refusal against the Error schema.

use std::sync::OnceLock;

use liveupdate_api::{OPERATIONS, Route};
use serde_json::{Value, json};

use crate::http::Response;

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

/// Panics, saying why, unless `response` to `method path` is what the document promises.
pub fn check_answer(method: &str, path: &str, response: &Response) {
    if path.starts_with("/v1/openapi.json") {
        return;
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
    let mut root = json!({"components": document()["components"].clone()});
    root.as_object_mut().unwrap().extend(schema.as_object().unwrap().clone());
    let validator =
        jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{method} {path}: schema: {e}"));
    let answer: Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("{method} {path}: {} answered no JSON: {e}", response.status));
    let errors: Vec<String> =
        validator.iter_errors(&answer).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} → {}: {answer}\ndoes not match its schema: {errors:#?}",
        response.status
    );
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
}
