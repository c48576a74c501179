//! The OpenAPI 3.1 document of everything the gateway serves, generated from the route table
//! ([`routes::all`]): the management operations' paths, parameters and bodies from their request
//! types and answers from their answer types (JSON Schema 2020-12, which OpenAPI 3.1 uses as is);
//! the device protocol's bodies from the core crate's field tables ([`device`]). What no type says
//! (the introduction, the authentication schemes, the refusals' meanings, the gateway's own
//! answers) is written here once.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::answers::Refusal;
use crate::routes::{self, GatewayRoute, Served, Service};
use crate::{Input, Method, Route, device};

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
    for route in routes::all() {
        let operation = match route {
            Served::Operation(route) => operation(route, &mut answers, &mut requests, &mut bodies),
            Served::Gateway(route) => gateway_operation(route),
        };
        let path = paths.entry(route.path()).or_insert_with(|| json!({}));
        path[route.method().as_str().to_lowercase()] = operation;
    }
    let mut schemas: Map<String, Value> = answers.take_definitions(true).into_iter().collect();
    schemas.extend(bodies);
    schemas.extend(gateway_schemas());
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "liveupdate gateway",
            "version": "1",
            "description": "Everything the liveupdate gateway serves. The device protocol (/updates, /stats, /channel_self: what the Capacitor updater plugin calls), stored bundle files, health and metrics, and the web console need no authentication. The management API (/v1) does: authenticate with an API key (\"lu_\" followed by 64 hex characters) in the x-api-key header or as \"Authorization: Bearer <key>\"; a bare key in Authorization is accepted too. Key modes grant increasing rights: read < upload < write < all. A key limited to some apps cannot manage keys or create apps. Management request bodies are JSON objects and unknown fields are refused with 400; GET and DELETE take their inputs from the query string. Every management response is JSON, and errors use the Error schema. A path answers 405 method_not_allowed, with an Allow header listing its methods, to any method it does not serve, and unknown paths 404 not_found."
        },
        "servers": [{"url": "/"}],
        "security": [{"ApiKeyHeader": []}, {"BearerAuth": []}],
        "tags": [
            {"name": "device", "description": "The device protocol, as the Capacitor updater plugin speaks it. No authentication."},
            {"name": "files", "description": "Stored bundle objects, for devices and CDNs. No authentication."},
            {"name": "service", "description": "Probes and metrics for operators. No authentication."},
            {"name": "apps", "description": "Applications."},
            {"name": "channels", "description": "Release channels and deployments."},
            {"name": "bundles", "description": "Web bundles."},
            {"name": "devices", "description": "Devices and channel assignments."},
            {"name": "keys", "description": "API keys."},
            {"name": "meta", "description": "This document."},
            {"name": "console", "description": "The web console: a page for browsers, which asks for an API key and calls the management API with it."}
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

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The schemas of the gateway's own routes, by name.
fn gateway_schemas() -> Map<String, Value> {
    use liveupdate_core::channel::Operation;
    let mut schemas = Map::new();
    let mut add = |name: &str, schema: Value| schemas.insert(name.to_owned(), schema);
    add("DeviceInfo", device::update_request());
    add("DeviceRefusal", device::refusal());
    add("UpdateAvailable", device::update_available());
    add("ManifestSizeRequest", device::manifest_size_request());
    add("ManifestSize", device::manifest_size_answer());
    add("StatsEvent", device::stats_event());
    add("StatsRequest", device::stats_request(&schema_ref("StatsEvent")));
    add("StatsResult", device::stats_answer());
    for operation in [Operation::Set, Operation::Get, Operation::List, Operation::Unset] {
        let name = channel_schema_name(operation);
        add(&format!("{name}Request"), device::channel_request(operation));
        add(&name, device::channel_answer(operation));
    }
    add(
        "Status",
        json!({"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"]}),
    );
    schemas
}

/// `ChannelSelfSet`, `ChannelSelfGet`, ...: the answer's schema name (`...Request`: the request's).
fn channel_schema_name(operation: liveupdate_core::channel::Operation) -> String {
    let verb = operation.as_str();
    format!("ChannelSelf{}{}", verb[..1].to_uppercase(), &verb[1..])
}

/// What the gateway's own routes answer when refusing, besides their own statuses.
const DEVICE_REFUSALS: &[(u16, &str)] = &[
    (
        400,
        "The request does not match its schema (invalid_json_parse_body, invalid_json_body, missing_device_id, missing_app_id, semver_error, invalid_app_id, invalid_query_parameters).",
    ),
    (408, "The body did not arrive in time (request_timeout)."),
    (413, "The body is too large (payload_too_large)."),
    (
        429,
        "The app is not hosted here (on_premise_app), a rate limit was reached (too_many_requests), or too many bodies are pending from this address (too_many_pending_bodies).",
    ),
    (500, "Unexpected server error (unknown_error)."),
    (503, "The database is unavailable, or too many request bodies are in memory; retry later."),
];

fn device_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn device_refusal(status: u16, description: &str) -> Value {
    let mut response = device_response(description, schema_ref("DeviceRefusal"));
    if matches!(status, 429 | 503) {
        response["headers"] = json!({"Retry-After": {"$ref": "#/components/headers/RetryAfter"}});
    }
    response
}

fn json_body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

/// A query parameter for each of a request schema's properties.
fn query_parameters(request: &Value, all_optional: bool) -> Vec<Value> {
    let required: Vec<&str> = request["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let properties = request["properties"].as_object().cloned().unwrap_or_default();
    properties
        .iter()
        .map(|(name, schema)| {
            parameter(name, "query", !all_optional && required.contains(&name.as_str()), schema)
        })
        .collect()
}

/// One of the gateway's own routes: no key, its request and answers.
fn gateway_operation(route: &GatewayRoute) -> Value {
    use liveupdate_core::channel::Operation;
    let mut operation = json!({
        "operationId": route.id,
        "summary": route.summary,
        "tags": [route.group.name()],
        "security": []
    });
    let mut responses = Map::new();
    let mut refusals = false;
    match route.service {
        Service::UpdateCheck => {
            operation["description"] = json!(
                "The plugin's update check (protocol.md §2). A refusal or \"no update\" is a 200 with error, message and kind; a new bundle is a 200 without them. Unknown fields are ignored."
            );
            operation["requestBody"] = json_body(schema_ref("DeviceInfo"));
            responses.insert(
                "200".into(),
                device_response(
                    "A bundle to install, or why not.",
                    json!({"oneOf": [schema_ref("UpdateAvailable"), schema_ref("DeviceRefusal")]}),
                ),
            );
            refusals = true;
        }
        Service::ManifestSize => {
            operation["description"] = json!(
                "For getBundleDownloadSize() and getLatest({includeBundleSize: true}): the update check's fields, the bundle's version and the manifest entries the device is missing."
            );
            operation["requestBody"] = json_body(schema_ref("ManifestSizeRequest"));
            responses.insert("200".into(), device_response("The size of each entry (size_unknown for entries that are not the bundle's), or a refusal.", json!({"oneOf": [schema_ref("ManifestSize"), schema_ref("DeviceRefusal")]})));
            refusals = true;
        }
        Service::Stats => {
            operation["description"] = json!(
                "One event, or a batch of them (protocol.md §5). A single object refused by its schema is a 400; in a batch, each event's outcome is in results. Acknowledged only once stored."
            );
            operation["requestBody"] = json_body(schema_ref("StatsRequest"));
            responses.insert("200".into(), device_response("Stored (results: one per event of a batch), or refused with 200 (mixed_app_ids, version_not_found, app_not_found).", json!({"oneOf": [schema_ref("StatsResult"), schema_ref("DeviceRefusal")]})));
            refusals = true;
        }
        Service::ChannelSelf(verb) => {
            let name = channel_schema_name(verb);
            let request = device::channel_request(verb);
            match verb {
                Operation::Set | Operation::Get => {
                    operation["requestBody"] = json_body(schema_ref(&format!("{name}Request")));
                }
                Operation::List => {
                    operation["parameters"] = Value::Array(query_parameters(&request, false));
                }
                Operation::Unset => {
                    operation["description"] = json!(
                        "Current plugins never call it. The fields come from the query string or, as plugins before the X.34 lines send them, a JSON body; the body's fields win."
                    );
                    operation["parameters"] = Value::Array(query_parameters(&request, true));
                    operation["requestBody"] = json!({"required": false, "content": {"application/json": {"schema": schema_ref(&format!("{name}Request"))}}});
                }
            }
            responses.insert("200".into(), device_response("The answer, or a refusal sent with 200 (missing_channel, channel_not_found, channel_self_set_not_allowed, public_channel_self_set_not_allowed, cannot_override).", json!({"oneOf": [schema_ref(&name), schema_ref("DeviceRefusal")]})));
            refusals = true;
        }
        Service::UpdatesHealth | Service::StatsHealth | Service::Health => {
            responses.insert("200".into(), device_response("Up.", schema_ref("Status")));
        }
        Service::Ready => {
            responses.insert("200".into(), device_response("The database answers.", schema_ref("Status")));
            responses.insert(
                "503".into(),
                device_refusal(503, "The database does not answer (database_unavailable)."),
            );
        }
        Service::Metrics => {
            responses.insert("200".into(), json!({
                "description": "Responses by endpoint and status, durations, the database pool, device-state batching and request-body memory.",
                "content": {"application/openmetrics-text; version=1.0.0; charset=utf-8": {"schema": {"type": "string"}}}
            }));
        }
        Service::File => file_operation(route, &mut operation, &mut responses),
        Service::OpenApi => {
            responses
                .insert("200".into(), device_response("The OpenAPI document.", json!({"type": "object"})));
        }
        Service::Console => console_operation(route, &mut operation, &mut responses),
    }
    if refusals {
        for (status, description) in DEVICE_REFUSALS {
            responses.insert(status.to_string(), device_refusal(*status, description));
        }
    }
    operation["responses"] = Value::Object(responses);
    operation
}

/// `GET`/`HEAD /files/{key}`: immutable, content-addressed objects, with single byte ranges.
fn file_operation(route: &GatewayRoute, operation: &mut Value, responses: &mut Map<String, Value>) {
    operation["description"] = json!(
        "Objects never change: every answer may be cached forever and the key's last segment is the ETag. One byte range is honoured (206, or 416 when it starts past the end); several ranges get the whole object."
    );
    operation["parameters"] = json!([
        {
            "name": "key", "in": "path", "required": true,
            "description": "The object's key, its slashes sent as they are (not percent-encoded): the rest of the path. Only the keys uploads create exist; others are 404.",
            "schema": {"type": "string", "pattern": "^(files/[0-9a-f]{64}(\\.br)?|zips/[0-9a-f]{64}\\.zip)$"}
        },
        {"name": "Range", "in": "header", "required": false, "schema": {"type": "string"}, "description": "One byte range, e.g. bytes=1024-."},
        {"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "Entity tags; a match (weak comparison) answers 304."}
    ]);
    let headers = json!({
        "ETag": {"schema": {"type": "string"}},
        "Cache-Control": {"schema": {"type": "string", "const": "public, max-age=31536000, immutable, no-transform"}},
        "Accept-Ranges": {"schema": {"type": "string", "const": "bytes"}},
        "Content-Length": {"schema": {"type": "integer", "minimum": 0}}
    });
    let bytes = |description: &str, range: bool| {
        let mut response = json!({"description": description, "headers": headers.clone()});
        if range {
            response["headers"]["Content-Range"] =
                json!({"schema": {"type": "string"}, "description": "bytes first-last/size."});
        }
        if route.method == Method::Get {
            let binary =
                json!({"schema": {"type": "string", "contentMediaType": "application/octet-stream"}});
            response["content"] =
                json!({"application/octet-stream": binary.clone(), "application/zip": binary});
        }
        response
    };
    responses.insert(
        "200".into(),
        bytes("The object: application/zip for zips/, else application/octet-stream.", false),
    );
    responses.insert("206".into(), bytes("The byte range asked for.", true));
    responses.insert("304".into(), json!({"description": "If-None-Match matched.", "headers": headers}));
    responses.insert("404".into(), device_refusal(404, "No such object (not_found)."));
    responses.insert(
        "416".into(),
        json!({
            "description": "The range starts past the end of the object.",
            "headers": {"Content-Range": {"schema": {"type": "string"}, "description": "bytes */size."}}
        }),
    );
    responses.insert(
        "503".into(),
        device_refusal(503, "Storage is unavailable (storage_unavailable); retry later."),
    );
}

/// `GET`/`HEAD /console` and below. The console is listed here because the gateway routes it:
/// the document covers every path served, so proxies, scanners and the route table's tests see
/// the whole surface. It needs no key; the page asks for one and calls `/v1` with it.
fn console_operation(route: &GatewayRoute, operation: &mut Value, responses: &mut Map<String, Value>) {
    operation["description"] = json!(
        "A single page: /console/assets/<build version>/<file> are its files, cached for a year; any other path is the page (never cached), which routes itself. Sent with a strict Content-Security-Policy, and brotli-compressed when accepted."
    );
    if route.rest_of_path {
        operation["parameters"] = json!([{
            "name": "path", "in": "path", "required": true,
            "description": "The rest of the path, slashes included (not percent-encoded).",
            "schema": {"type": "string"}
        }]);
    }
    let mut page = json!({"description": "The page, or the asset asked for.", "headers": {
        "Cache-Control": {"schema": {"type": "string"}},
        "Content-Security-Policy": {"schema": {"type": "string"}}
    }});
    if route.method == Method::Get {
        let text = json!({"schema": {"type": "string"}});
        page["content"] = if route.rest_of_path {
            json!({"text/html": text, "text/javascript": text, "text/css": text, "image/svg+xml": text, "image/png": text, "application/json": text})
        } else {
            json!({"text/html": text})
        };
    }
    responses.insert("200".into(), page);
    if route.rest_of_path {
        responses.insert(
            "404".into(),
            device_refusal(404, "An asset of another build, or no such asset (not_found)."),
        );
    }
}
