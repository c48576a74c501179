//! SQL and Rust cannot drift: each operation's request type has exactly the fields its extension
//! function accepts (the `liveupdate._input(input, '{...}')` list in `sql/`), and each function's
//! `COMMENT` lists exactly those fields.

#![allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]

use std::collections::{BTreeMap, BTreeSet};

use liveupdate_api::{OPERATIONS, Operation, op, request_fields};

/// The SQL files that define `api_*` functions (the current definitions, not the versioned ones).
const SQL_FILES: &[&str] = &[
    "manage.sql",
    "console.sql",
    "rollups.sql",
    "delete_app.sql",
    "rollouts.sql",
    "signing.sql",
    "guard.sql",
    "deploys.sql",
];

/// The gateway fills these `api_register_upload` fields from what it stored; the client's fields
/// are those `api_check_upload` checks before the body is read.
const GATEWAY_UPLOAD_FIELDS: &[&str] = &["storage_key", "archive_bytes", "manifest"];

/// The uploader's SHA-256 of what it sends: checked by the gateway, never passed to SQL.
const GATEWAY_ONLY_UPLOAD_FIELD: &str = "sha256";

struct SqlFunction {
    input_fields: BTreeSet<String>,
    comment_fields: Option<BTreeSet<String>>,
}

fn sql_functions() -> BTreeMap<String, SqlFunction> {
    let mut functions = BTreeMap::new();
    let mut comments = BTreeMap::new();
    for file in SQL_FILES {
        let path = format!("{}/../../sql/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for definition in text.split("CREATE FUNCTION liveupdate.").skip(1) {
            let name = identifier(definition);
            if !name.starts_with("api_") {
                continue;
            }
            let body = definition.split("COMMENT ON FUNCTION").next().unwrap_or(definition);
            let Some(list) = body.split("_input(input,").nth(1).and_then(braces) else {
                panic!("{name} does not read its input through liveupdate._input");
            };
            functions.insert(name, list);
        }
        for comment in text.split("COMMENT ON FUNCTION liveupdate.").skip(1) {
            let name = identifier(comment);
            let statement = comment.split("';").next().unwrap_or(comment);
            let described = statement.split_once(" IS").map_or("", |(_, text)| text);
            // The field list is the last `{...}` before the arrow.
            let before_arrow = described.split('→').next().unwrap_or("");
            let list = before_arrow.rfind('{').and_then(|start| braces(&before_arrow[start..]));
            comments.insert(name, list);
        }
    }
    functions
        .into_iter()
        .map(|(name, input_fields)| {
            let comment_fields = comments.remove(&name).flatten();
            (name, SqlFunction { input_fields, comment_fields })
        })
        .collect()
}

fn identifier(text: &str) -> String {
    text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// The names in the first `{a, b?, c (note), d: x|y}` of `text`.
fn braces(text: &str) -> Option<BTreeSet<String>> {
    let start = text.find('{')?;
    let mut depth = 0;
    let mut end = None;
    for (index, c) in text[start..].char_indices() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(start + index);
                    break;
                }
            }
            _ => {}
        }
    }
    let inner = &text[start + 1..end?];
    let mut names = BTreeSet::new();
    let mut depth = 0;
    let mut item = String::new();
    for c in inner.chars().chain([',']) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                let name = identifier(item.trim());
                if !name.is_empty() {
                    names.insert(name);
                }
                item.clear();
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            item.push(c);
        }
    }
    Some(names)
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn request_types_have_the_fields_the_functions_accept() {
    let functions = sql_functions();
    let upload = <op::UploadBundleArchive as Operation>::ROUTE;
    for route in OPERATIONS {
        let mut fields: BTreeSet<String> = request_fields(route).into_iter().collect();
        let function = if route.function == upload.function {
            assert!(fields.remove(GATEWAY_ONLY_UPLOAD_FIELD), "the upload's {GATEWAY_ONLY_UPLOAD_FIELD}");
            "api_check_upload"
        } else {
            route.function
        };
        let sql = functions.get(function).unwrap_or_else(|| panic!("{}: no {function} in sql/", route.id));
        assert_eq!(
            fields, sql.input_fields,
            "{}: the request type's fields and {function}'s _input list",
            route.id
        );
    }
    let check = &functions["api_check_upload"].input_fields;
    let register = &functions["api_register_upload"].input_fields;
    let expected: BTreeSet<String> = check.iter().cloned().chain(set(GATEWAY_UPLOAD_FIELDS)).collect();
    assert_eq!(*register, expected, "api_register_upload takes api_check_upload's fields and the gateway's");

    let served: BTreeSet<&str> =
        OPERATIONS.iter().map(|route| route.function).chain(["api_check_upload"]).collect();
    for name in functions.keys() {
        assert!(served.contains(name.as_str()), "{name} is in sql/ but no operation calls it");
    }
}

#[test]
fn comments_list_the_fields_the_functions_accept() {
    for (name, function) in sql_functions() {
        let Some(listed) = &function.comment_fields else {
            panic!("{name}: its COMMENT lists no {{fields}} → ...")
        };
        assert_eq!(*listed, function.input_fields, "{name}: its COMMENT's fields and its _input list");
    }
}

#[test]
fn field_lists_are_parsed_with_their_notes() {
    let parsed = braces("x {app_id, limit? (1-1000, 100), action: start|set, request: {a, b}} → y").unwrap();
    assert_eq!(parsed, set(&["app_id", "limit", "action", "request"]));
}
