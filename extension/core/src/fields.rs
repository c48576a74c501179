//! Field readers shared by the request parsers: each returns the protocol's refusal on a bad value.

use serde_json::{Map, Value};

use crate::answer::{Code, Refusal};
use crate::request::MAX_TEXT_LEN;

pub(crate) fn schema_error(field: &str, issue: &str) -> Refusal {
    let mut detail = Map::new();
    detail.insert("field".into(), field.into());
    detail.insert("issue".into(), issue.into());
    Refusal::new(Code::InvalidJsonBody).with_more_info("parseResult", Value::Object(detail))
}

/// A required string whose absence has its own code (`missing_device_id`, `missing_app_id`).
pub(crate) fn required_presence<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    missing: Code,
) -> Result<&'a str, Refusal> {
    match body.get(key) {
        None | Some(Value::Null) => Err(Refusal::new(missing)),
        Some(Value::String(s)) if s.is_empty() => Err(Refusal::new(missing)),
        Some(Value::String(s)) => bounded(s, key, MAX_TEXT_LEN),
        Some(_) => Err(schema_error(key, "must be a string")),
    }
}

pub(crate) fn bounded<'a>(value: &'a str, key: &str, max: usize) -> Result<&'a str, Refusal> {
    if value.chars().count() > max {
        return Err(schema_error(key, &format!("must be at most {max} characters")));
    }
    Ok(value)
}

pub(crate) fn optional_bool(body: &Map<String, Value>, key: &str, default: bool) -> Result<bool, Refusal> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(schema_error(key, "must be a boolean")),
    }
}

pub(crate) fn optional_string<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    max: usize,
) -> Result<Option<&'a str>, Refusal> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => bounded(s, key, max).map(Some),
        Some(_) => Err(schema_error(key, "must be a string")),
    }
}

/// Informational fields the schema does not check: kept when they are reasonable strings, dropped
/// otherwise, never a reason to refuse an update check.
pub(crate) fn lenient_string(body: &Map<String, Value>, key: &str) -> Option<String> {
    match body.get(key) {
        Some(Value::String(s)) if s.chars().count() <= MAX_TEXT_LEN => Some(s.clone()),
        _ => None,
    }
}
