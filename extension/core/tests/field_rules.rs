//! The request schemas of `/updates`, `/stats` and `/channel_self` against protocol.md's tables, and
//! one rule per field: whatever endpoint a field arrives at, its value is judged by the same rule.

#![allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]

use std::collections::BTreeSet;

use liveupdate_core::channel::{ChannelRequest, Operation, channel_schema};
use liveupdate_core::fields::{FieldSpec, MAX_TEXT_LEN, Rule, check_field};
use liveupdate_core::request::{UPDATE_SCHEMA, UpdateRequest};
use liveupdate_core::stats::{STATS_SCHEMA, StatsEvent};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The rows of the field table under the section heading that starts with `heading`:
/// (field names of the row, rule text).
fn protocol_table(heading: &str) -> Vec<(Vec<String>, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text.split("\n### ").find(|s| s.starts_with(heading)).unwrap();
    section
        .lines()
        .skip_while(|line| !line.starts_with("| Field"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let names = cells[1].split('`').skip(1).step_by(2).map(str::to_owned).collect();
            (names, cells[2].to_owned())
        })
        .collect()
}

/// What a rule text of the protocol's tables says about a field, in the schema's terms. Free text
/// without a stated bound gets this server's general one, [`MAX_TEXT_LEN`].
fn rule_matches(name: &str, text: &str, spec: &FieldSpec) -> bool {
    let bound = text.split("≤ ").nth(1).and_then(|rest| rest.split(' ').next()?.parse::<usize>().ok());
    let kind = match spec.rule {
        Rule::ReverseDomain => text.contains("reverse-domain"),
        Rule::Uuid => text.contains("UUID"),
        Rule::KnownPlatform => text.contains("one of `ios`, `android`, `electron`"),
        Rule::Flag => text.contains("boolean"),
        Rule::StatsAction => text.contains("allow-list"),
        Rule::Metadata => text.contains("≤ 30 keys"),
        Rule::Unchecked => text.contains("not validated"),
        Rule::Semver => text.contains("strict `X.Y.Z`"),
        // The update check's version_build is a "non-empty string" coerced by step 3 of §2.3.
        Rule::NativeVersion { non_empty } => {
            text.contains("coerced") || (name == "version_build" && non_empty && text.contains("non-empty"))
        }
        Rule::Text { max, non_empty } => {
            (text.contains("string") || bound.is_some())
                && non_empty == text.contains("non-empty")
                && bound.unwrap_or(MAX_TEXT_LEN) == max
        }
    };
    let bound_ok = match spec.rule {
        Rule::Text { .. } | Rule::Metadata => true,
        Rule::Uuid => bound.is_none_or(|b| b == 36),
        _ => bound.is_none(),
    };
    let presence_ok = if text.contains("optional") {
        !spec.required
    } else if text.contains("required") {
        spec.required
    } else {
        true
    };
    kind && bound_ok && presence_ok
}

fn assert_schema_is_table(endpoint: &str, schema: &[FieldSpec], table: &[(Vec<String>, String)]) {
    let documented: BTreeSet<&str> =
        table.iter().flat_map(|(names, _)| names.iter().map(String::as_str)).collect();
    let implemented: BTreeSet<&str> = schema.iter().map(|spec| spec.name).collect();
    assert_eq!(implemented, documented, "{endpoint}: the fields of the schema and of protocol.md");
    for spec in schema {
        let (_, text) = table.iter().find(|(names, _)| names.iter().any(|n| n == spec.name)).unwrap();
        assert!(rule_matches(spec.name, text, spec), "{endpoint}: {spec:?} against \"{text}\"");
    }
}

#[test]
fn the_update_check_schema_is_the_protocol_table() {
    assert_schema_is_table("/updates", UPDATE_SCHEMA, &protocol_table("2.3 "));
}

#[test]
fn the_stats_schema_is_the_protocol_table() {
    assert_schema_is_table("/stats", STATS_SCHEMA, &protocol_table("5.3 "));
}

/// §6.1: "as in §2.3, except that `version_name` and `version_build` may be empty, `plugin_version`
/// is optional, and `channel` is an optional string".
#[test]
fn the_channel_schema_is_the_update_table_with_the_documented_exceptions() {
    let section =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md")).unwrap();
    assert!(section.contains(
        "Schema: as in §2.3, except that `version_name` and `version_build` may be empty, `plugin_version` is optional, and `channel` is an optional string."
    ));
    let mut table = protocol_table("2.3 ");
    for (names, text) in &mut table {
        match names[0].as_str() {
            "version_name" => *text = "string, may be empty, optional".into(),
            "version_build" => *text = "optional, coerced as in §2.3".into(),
            "plugin_version" => *text = format!("optional; {text}").replace("required; ", ""),
            _ => {}
        }
    }
    table.push((vec!["channel".into()], "optional string".into()));
    for operation in [Operation::Set, Operation::Get, Operation::Unset] {
        assert_schema_is_table("/channel_self", &channel_schema(operation), &table);
    }
}

// --- one rule per field, whatever the endpoint -----------------------------------------------

fn update_body() -> Value {
    json!({
        "platform": "android", "device_id": "8e1c1a7e-3d6b-4e1e-9e8e-0c5b1d2a3f40", "app_id": "com.example.app",
        "custom_id": "", "version_build": "1.2.0", "version_code": "12", "version_os": "14",
        "version_name": "1.0.0", "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true,
        "defaultChannel": "beta", "install_source": "google_play", "key_id": "MIIBCgKCAQEAabcdefgh",
        "action": "set", "old_version_name": "", "channel": "beta", "metadata": {"k": "v"},
    })
}

/// Each endpoint's verdict on a body whose field `name` holds `value`, next to what that field's
/// spec says of the value alone.
fn verdicts(name: &str, value: &Value) -> Vec<(String, bool, bool)> {
    let mut body = update_body();
    body[name] = value.clone();
    let fields = body.as_object().unwrap();
    let mut found = Vec::new();
    let mut judge = |endpoint: String, schema: &[FieldSpec], accepted: bool| {
        if let Some(spec) = schema.iter().find(|spec| spec.name == name) {
            found.push((endpoint, check_field(fields, spec).is_ok(), accepted));
        }
    };
    judge("/updates".into(), UPDATE_SCHEMA, UpdateRequest::from_json(&body).is_ok());
    judge("/stats".into(), STATS_SCHEMA, StatsEvent::from_json(&body).is_ok());
    for op in [Operation::Set, Operation::Get, Operation::Unset, Operation::List] {
        judge(
            format!("/channel_self {op:?}"),
            &channel_schema(op),
            ChannelRequest::from_json(op, &body).is_ok(),
        );
    }
    found
}

fn field_values() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-zA-Z0-9._:-]{0,40}".prop_map(Value::from),
        "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}(-[a-z]{1,5})?".prop_map(Value::from),
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}".prop_map(Value::from),
        "[a-z]{1,8}(\\.[a-z_-]{1,8}){1,3}".prop_map(Value::from),
        ".{0,80}".prop_map(Value::from),
        "[a-z]{0,5}\u{0}[a-z]{0,5}".prop_map(Value::from),
        Just(json!("ios")),
        Just(json!("electron")),
        Just(json!("builtin")),
        Just(json!("app_moved_to_foreground")),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!({"k": "v"})),
    ]
}

const SHARED_FIELDS: &[&str] = &[
    "app_id",
    "device_id",
    "platform",
    "plugin_version",
    "version_build",
    "version_name",
    "version_os",
    "version_code",
    "is_emulator",
    "is_prod",
    "defaultChannel",
    "install_source",
    "key_id",
    "custom_id",
    "action",
    "metadata",
    "old_version_name",
    "channel",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every endpoint refuses a body exactly when its field rule refuses the value.
    #[test]
    fn each_endpoint_judges_a_field_by_its_rule(field in prop::sample::select(SHARED_FIELDS), value in field_values()) {
        for (endpoint, rule_accepts, endpoint_accepts) in verdicts(field, &value) {
            prop_assert_eq!(rule_accepts, endpoint_accepts, "{} {} = {}", endpoint, field, value);
        }
    }

    /// A field that has the same rule at several endpoints gets the same verdict at each.
    #[test]
    fn a_shared_rule_gives_one_verdict(field in prop::sample::select(SHARED_FIELDS), value in field_values()) {
        let specs: Vec<(String, FieldSpec)> = [("/updates", UPDATE_SCHEMA.to_vec()), ("/stats", STATS_SCHEMA.to_vec()),
            ("/channel_self", channel_schema(Operation::Set))]
            .into_iter()
            .filter_map(|(endpoint, schema)| Some((endpoint.to_owned(), *schema.iter().find(|s| s.name == field)?)))
            .collect();
        let verdicts = verdicts(field, &value);
        for (a, spec_a) in &specs {
            for (b, spec_b) in &specs {
                if spec_a == spec_b {
                    let verdict = |endpoint: &str| verdicts.iter().find(|v| v.0.starts_with(endpoint)).map(|v| v.2);
                    prop_assert_eq!(verdict(a), verdict(b), "{} and {} share the rule of {}", a, b, field);
                }
            }
        }
    }
}
