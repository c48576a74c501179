//! The OpenAPI 3.1 document of the management API, generated from [`OPERATIONS`]: paths,
//! parameters and bodies from the request types, answers from the answer types (JSON Schema
//! 2020-12, which OpenAPI 3.1 uses as is). What no type says (the API's introduction, the
//! authentication schemes, the refusals' meanings) is written here once.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::answers::Refusal;
use crate::{Input, OPERATIONS, Route};

/// The document, as served at `/v1/openapi.json` and committed at `gateway/src/openapi.json`.
pub fn document() -> Value {
    // Answers are what the gateway sends: an `Option` field is always there, maybe null.
    let mut answers = SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|settings| settings.definitions_path = "/components/schemas/".into())
        .into_generator();
    let mut requests =
        SchemaSettings::draft2020_12().with(|settings| settings.inline_subschemas = true).into_generator();
    let error_schema = answers.subschema_for::<Refusal>();
    let mut paths = Map::new();
    let mut bodies = Map::new();
    for route in OPERATIONS {
        let operation = operation(route, &mut answers, &mut requests, &mut bodies);
        let path = paths.entry(route.path).or_insert_with(|| json!({}));
        path[route.method.as_str().to_lowercase()] = operation;
    }
    paths.insert("/v1/openapi.json".to_owned(), openapi_path());
    let mut schemas: Map<String, Value> = answers.take_definitions(true).into_iter().collect();
    schemas.extend(bodies);
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "liveupdate management API",
            "version": "1",
            "description": "Management API of the liveupdate gateway. Authenticate with an API key (\"lu_\" followed by 64 hex characters) in the x-api-key header or as \"Authorization: Bearer <key>\"; a bare key in Authorization is accepted too. Key modes grant increasing rights: read < upload < write < all. A key limited to some apps cannot manage keys or create apps. Request bodies are JSON objects and unknown fields are refused with 400; GET and DELETE take their inputs from the query string. Every response is JSON, and errors use the Error schema."
        },
        "servers": [{"url": "/"}],
        "security": [{"ApiKeyHeader": []}, {"BearerAuth": []}],
        "tags": [
            {"name": "apps", "description": "Applications."},
            {"name": "channels", "description": "Release channels and deployments."},
            {"name": "bundles", "description": "Web bundles."},
            {"name": "devices", "description": "Devices and channel assignments."},
            {"name": "keys", "description": "API keys."},
            {"name": "meta", "description": "This document."}
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "API key (lu_ followed by 64 hex characters)."},
                "BearerAuth": {"type": "http", "scheme": "bearer", "description": "API key sent as a bearer token."}
            },
            "headers": {
                "RetryAfter": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer", "minimum": 0}}
            },
            "responses": refusal_responses(&error_schema),
            "schemas": schemas
        }
    });
    unwrap_doc_lines(&mut document);
    document
}

/// Doc comments wrap at 110 columns; the descriptions they become are single paragraphs.
fn unwrap_doc_lines(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                match value {
                    Value::String(text) if key == "description" => *text = text.replace('\n', " "),
                    other => unwrap_doc_lines(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_doc_lines),
        _ => {}
    }
}

/// The refusals every authenticated operation can answer.
const ALWAYS: [u16; 4] = [401, 429, 500, 503];

/// The name of the shared response of each refusal status, and its meaning.
const REFUSALS: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "Malformed JSON, unknown field, wrong type, out-of-range value or malformed identifier (invalid_request).",
    ),
    (401, "Unauthorized", "API key missing, unknown, revoked or expired (invalid_api_key)."),
    (403, "Forbidden", "The key can see the object but lacks the rights for this change (forbidden)."),
    (404, "NotFound", "The object does not exist or is not visible to this key (not_found)."),
    (405, "MethodNotAllowed", "Method not supported on this path (method_not_allowed)."),
    (408, "RequestTimeout", "The body did not arrive within the upload timeout."),
    (409, "Conflict", "Duplicate name (conflict) or the object's state forbids the change (invalid_state)."),
    (413, "PayloadTooLarge", "Request body larger than 1 MiB (payload_too_large)."),
    (415, "UnsupportedEncoding", "Unsupported Content-Encoding."),
    (
        429,
        "TooManyFailedAuthentications",
        "Too many failed key checks from this client address (too_many_failed_authentications).",
    ),
    (500, "InternalError", "Unexpected server error (unknown_error)."),
    (503, "DatabaseUnavailable", "The database is temporarily unavailable (database_unavailable)."),
    (
        507,
        "InsufficientStorage",
        "No space left in the scratch directory or in storage (insufficient_storage); nothing of the upload was kept.",
    ),
];

fn refusal_responses(error_schema: &schemars::Schema) -> Value {
    let mut responses = Map::new();
    for (status, name, description) in REFUSALS {
        let mut response = json!({
            "description": description,
            "content": {"application/json": {"schema": error_schema}}
        });
        match status {
            401 => {
                response["headers"] =
                    json!({"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}})
            }
            405 => {
                response["headers"] =
                    json!({"Allow": {"schema": {"type": "string"}, "description": "Supported methods."}})
            }
            429 | 503 => {
                response["headers"] = json!({"Retry-After": {"$ref": "#/components/headers/RetryAfter"}})
            }
            _ => {}
        }
        responses.insert((*name).to_owned(), response);
    }
    Value::Object(responses)
}

fn refusal_reference(status: u16) -> Value {
    let name =
        REFUSALS.iter().find(|(known, ..)| *known == status).map_or("InternalError", |(_, name, _)| name);
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// One operation: its parameters and body from the request type, its answers.
fn operation(
    route: &Route,
    answers: &mut SchemaGenerator,
    requests: &mut SchemaGenerator,
    bodies: &mut Map<String, Value>,
) -> Value {
    let request = (route.request_schema)(requests).to_value();
    let properties = request["properties"].as_object().cloned().unwrap_or_default();
    let required: Vec<&str> = request["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let path_fields: Vec<&str> = route.path_fields().collect();

    let mut parameters = Vec::new();
    for field in &path_fields {
        parameters.push(parameter(field, "path", true, &properties[*field]));
    }
    if route.input != Input::Json {
        for (name, schema) in properties.iter().filter(|(name, _)| !path_fields.contains(&name.as_str())) {
            parameters.push(parameter(name, "query", required.contains(&name.as_str()), schema));
        }
    }

    let mut operation =
        json!({"operationId": route.id, "summary": route.summary, "tags": [route.tag.name()]});
    if !route.description.is_empty() {
        operation["description"] = json!(route.description);
    }
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    match route.input {
        Input::Json if properties.keys().any(|name| !path_fields.contains(&name.as_str())) => {
            let mut body = request.clone();
            strip_fields(&mut body, &path_fields);
            let name = (route.request_name)().into_owned();
            bodies.insert(name.clone(), body);
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}
            });
        }
        Input::QueryAndArchive => {
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
            });
        }
        Input::Json | Input::Query => {}
    }

    let mut responses = Map::new();
    responses.insert(
        route.success_status.to_string(),
        json!({
            "description": route.answer_description,
            "content": {"application/json": {"schema": (route.answer_schema)(answers)}}
        }),
    );
    let mut refusals: Vec<u16> = route.refusals.iter().copied().chain(ALWAYS).collect();
    refusals.sort_unstable();
    for status in refusals {
        responses.insert(status.to_string(), refusal_reference(status));
    }
    operation["responses"] = Value::Object(responses);
    operation
}

/// A path or query parameter from a request field's schema (its description moves up).
fn parameter(name: &str, location: &str, required: bool, field_schema: &Value) -> Value {
    let mut schema = field_schema.clone();
    let description = schema.as_object_mut().and_then(|schema| schema.remove("description"));
    let mut parameter = json!({"name": name, "in": location, "required": required, "schema": schema});
    if let Some(description) = description {
        parameter["description"] = description;
    }
    parameter
}

/// A request's schema without the fields its path gives: the body's schema.
fn strip_fields(schema: &mut Value, fields: &[&str]) {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for field in fields {
            properties.remove(*field);
        }
    }
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|name| !name.as_str().is_some_and(|name| fields.contains(&name)));
        if required.is_empty() {
            schema.as_object_mut().map(|schema| schema.remove("required"));
        }
    }
    schema.as_object_mut().map(|schema| schema.remove("$schema"));
}

/// `GET /v1/openapi.json`, served by the gateway without authentication.
fn openapi_path() -> Value {
    json!({"get": {
        "operationId": "getOpenApi",
        "summary": "Get this OpenAPI document",
        "tags": ["meta"],
        "description": "No authentication required.",
        "security": [],
        "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}}
    }})
}
