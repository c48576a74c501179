//! The device protocol's bodies (protocol.md §2, §5, §6) as JSON Schemas, for the OpenAPI
//! document. Requests are made from the core crate's field tables, the ones the gateway's parsers
//! check, so the document says what the server accepts: the same fields, rules and limits. They
//! never refuse unknown fields (plugins of every line send more than the server reads). Answers
//! are written here from the protocol.

use liveupdate_core::fields::{FieldSpec, MAX_TEXT_LEN, Rule};
use liveupdate_core::{actions, channel, manifest_size, request, stats};
use serde_json::{Map, Value, json};

/// A field's value under its rule. A value the rule cannot express (no NUL characters) is left
/// to the server.
fn rule_schema(rule: Rule) -> Value {
    match rule {
        Rule::ReverseDomain => json!({
            "type": "string",
            "pattern": "^[A-Za-z0-9]+(\\.[A-Za-z0-9_-]+)+$",
            "maxLength": liveupdate_core::fields::MAX_APP_ID_LEN,
            "description": "A reverse-domain app id, e.g. com.example.app."
        }),
        Rule::Uuid => json!({
            "type": "string",
            "pattern": "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
            "description": "A UUID; lowercased by the server."
        }),
        Rule::KnownPlatform => json!({"type": "string", "enum": ["ios", "android", "electron"]}),
        Rule::Text { max, non_empty } => {
            let mut schema = json!({"type": "string", "maxLength": max});
            if non_empty {
                schema["minLength"] = json!(1);
            }
            schema
        }
        Rule::Semver => json!({
            "type": "string",
            "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+",
            "description": "A semver version X.Y.Z (prereleases accepted)."
        }),
        Rule::NativeVersion { non_empty } => {
            let mut schema = json!({
                "type": "string",
                "description": "The native version, read as semver: \"1\" is 1.0.0, \"1.2\" is 1.2.0, \"builtin\" and \"unknown\" are 0.0.0; anything else unreadable is refused with semver_error."
            });
            if non_empty {
                schema["minLength"] = json!(1);
            }
            schema
        }
        Rule::Flag => json!({"type": "boolean"}),
        Rule::StatsAction => {
            let mut known: Vec<&str> = actions::known_actions().collect();
            known.sort_unstable();
            known.dedup();
            json!({"type": "string", "enum": known})
        }
        Rule::Metadata => json!({
            "type": "object",
            "maxProperties": 30,
            "propertyNames": {"maxLength": 64},
            "additionalProperties": {"type": "string", "maxLength": 2048}
        }),
        Rule::Unchecked => lenient(),
    }
}

/// A field the server keeps when it is a string of reasonable length and ignores otherwise.
fn lenient() -> Value {
    json!({"description": format!("Not checked: kept when a string of at most {MAX_TEXT_LEN} characters, ignored otherwise.")})
}

/// One field: an optional field may also be null or `""`, which mean "not given".
fn field_schema(spec: &FieldSpec) -> Value {
    let schema = rule_schema(spec.rule);
    if spec.required || matches!(spec.rule, Rule::Unchecked) {
        return schema;
    }
    let empty_is_valid = matches!(spec.rule, Rule::Text { non_empty: false, .. })
        || matches!(spec.rule, Rule::NativeVersion { non_empty: false });
    let not_given = if empty_is_valid { json!({"type": "null"}) } else { json!({"enum": [null, ""]}) };
    json!({"anyOf": [schema, not_given]})
}

/// An object of the table's fields, plus `more` (fields the parser reads without a rule).
fn object(specs: &[FieldSpec], more: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in specs {
        properties.insert(spec.name.to_owned(), field_schema(spec));
        if spec.required {
            required.push(spec.name);
        }
    }
    for (name, schema) in more {
        properties.insert((*name).to_owned(), schema.clone());
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// `POST /updates`: the plugin's info object (protocol.md §2.2-2.3).
pub fn update_request() -> Value {
    object(request::UPDATE_SCHEMA, &[("version_code", lenient()), ("version_os", lenient())])
}

/// `POST /updates/manifest_size`: the info object, the bundle, and the manifest entries the
/// device is missing (`manifest`, or `files`).
pub fn manifest_size_request() -> Value {
    let entries = json!({"type": "array", "items": object(manifest_size::ENTRY_SCHEMA, &[])});
    let mut schema = update_request();
    schema["properties"]["version"] =
        json!({"type": "string", "minLength": 1, "description": "The bundle's version name."});
    schema["properties"]["manifest"] = entries.clone();
    schema["properties"]["files"] =
        json!({"description": "Read when manifest is absent.", "allOf": [entries]});
    if let Some(required) = schema["required"].as_array_mut() {
        required.push(json!("version"));
    }
    schema["anyOf"] = json!([{"required": ["manifest"]}, {"required": ["files"]}]);
    schema
}

/// One `POST /stats` event (protocol.md §5.1, §5.3).
pub fn stats_event() -> Value {
    let timestamp = json!({"description": "The device's clock in epoch milliseconds; kept when a plausible number, ignored otherwise."});
    object(stats::STATS_SCHEMA, &[("timestamp", timestamp)])
}

/// `POST /stats`: one event, or a batch of them.
pub fn stats_request(event: &Value) -> Value {
    json!({"oneOf": [
        event,
        {
            "type": "array",
            "maxItems": stats::MAX_BATCH_EVENTS,
            "items": event,
            "description": "A batch: every event has the first one's app_id. Each event is checked on its own; a refused one is reported in results, the others are stored."
        }
    ]})
}

/// A `/channel_self` request of `operation` (protocol.md §6).
pub fn channel_request(operation: channel::Operation) -> Value {
    object(&channel::channel_schema(operation), &[])
}

/// The refusal every device endpoint may send: an `error` code and a `message`; on `/updates`
/// and `/updates/manifest_size` with HTTP 200 a `kind`, and on 4xx and 5xx a `moreInfo` object.
/// Some codes add fields of their own (`version`, `old`, `major`, ...).
pub fn refusal() -> Value {
    json!({
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. no_new_version_available, invalid_json_body, on_premise_app."},
            "message": {"type": "string"},
            "kind": {"type": "string", "enum": ["up_to_date", "blocked", "failed"], "description": "How the plugin treats a 200 refusal of an update check: only failed counts as a failed download."},
            "moreInfo": {"type": "object"}
        },
        "required": ["error", "message"]
    })
}

/// `POST /updates`'s new bundle (protocol.md §2.4).
pub fn update_available() -> Value {
    json!({
        "type": "object",
        "properties": {
            "version": {"type": "string", "description": "The bundle's version name, or builtin."},
            "url": {"type": "string", "description": "Where the zip is (a placeholder when the bundle only has a manifest)."},
            "session_key": {"type": "string", "description": "\"\" unless the bundle is encrypted."},
            "checksum": {"type": "string"},
            "manifest": {"type": "array", "items": manifest_entry(&[])},
            "link": {"type": "string"},
            "comment": {"type": "string"},
            "error": false,
            "kind": false,
            "message": false
        },
        "required": ["version"],
        "description": "A bundle to install; {\"version\": \"builtin\"} alone reverts the device to its builtin bundle. Never error, kind or message: plugins read those as a refusal.",
        "if": {"properties": {"version": {"const": "builtin"}}},
        "then": true,
        "else": {"required": ["url"]}
    })
}

fn manifest_entry(more: &[(&str, Value)]) -> Value {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "file_name": {"type": "string"},
            "file_hash": {"type": "string"},
            "download_url": {"type": "string"}
        },
        "required": ["file_name", "file_hash"]
    });
    for (name, value) in more {
        schema["properties"][*name] = value.clone();
    }
    schema
}

/// `POST /updates/manifest_size`'s answer (protocol.md §2.6).
pub fn manifest_size_answer() -> Value {
    let entry = manifest_entry(&[
        ("size", json!({"type": "integer", "minimum": 0})),
        ("error", json!({"const": "size_unknown"})),
    ]);
    json!({
        "type": "object",
        "properties": {
            "totalSize": {"type": "integer", "minimum": 0},
            "knownFiles": {"type": "integer", "minimum": 0},
            "unknownFiles": {"type": "integer", "minimum": 0},
            "files": {"type": "array", "items": entry}
        },
        "required": ["totalSize", "knownFiles", "unknownFiles", "files"]
    })
}

/// `POST /stats`'s answer (protocol.md §5.4): `results` for a batch, one per event in order.
pub fn stats_answer() -> Value {
    json!({
        "type": "object",
        "properties": {
            "status": {"const": "ok"},
            "results": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "status": {"enum": ["ok", "error"]},
                    "index": {"type": "integer", "minimum": 0},
                    "error": {"type": "string"},
                    "message": {"type": "string"}
                },
                "required": ["status", "index"]
            }}
        },
        "required": ["status"]
    })
}

/// The answer of a `/channel_self` verb (protocol.md §6.1-6.4).
pub fn channel_answer(operation: channel::Operation) -> Value {
    match operation {
        channel::Operation::List => json!({
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "public": {"type": "boolean"},
                    "allow_self_set": {"type": "boolean"}
                },
                "required": ["id", "name", "public", "allow_self_set"]
            }
        }),
        channel::Operation::Get => json!({
            "type": "object",
            "properties": {
                "channel": {"type": "string"},
                "status": {"enum": ["override", "default"]},
                "allowSet": {"type": "boolean"}
            },
            "required": ["channel", "status"]
        }),
        channel::Operation::Set | channel::Operation::Unset => json!({
            "type": "object",
            "properties": {"status": {"const": "ok"}, "allowSet": {"type": "boolean"}, "message": {"type": "string"}},
            "required": ["status"]
        }),
    }
}
