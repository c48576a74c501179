//! The fields of device requests and the one rule each follows, shared by `/updates`, `/stats` and
//! `/channel_self` (protocol.md §2.3, §5.3, §6.1).
//!
//! Each endpoint states its schema as a table of [`FieldSpec`]s; [`check_schema`] applies it. The
//! endpoints' parsers add only what the reference backend does around the schema (the order of the
//! early checks, defaults, normalisation), so a field's rule is written once, here.

use serde_json::{Map, Value};

use crate::answer::{Code, Refusal};
use crate::version::{self, Version};

/// Longest value accepted for free-text fields the plugin fills from device facts.
pub const MAX_TEXT_LEN: usize = 1024;
/// Longest reverse-domain app id accepted.
pub const MAX_APP_ID_LEN: usize = 255;

/// The platforms update checks may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Ios,
    Android,
    Electron,
}

impl Platform {
    pub fn parse(value: &str) -> Option<Platform> {
        match value {
            "ios" => Some(Platform::Ios),
            "android" => Some(Platform::Android),
            "electron" => Some(Platform::Electron),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Electron => "electron",
        }
    }
}

/// What a field's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `^[a-z0-9]+(\.[\w-]+)+$`, case-insensitive, at most [`MAX_APP_ID_LEN`] characters.
    ReverseDomain,
    /// 8-4-4-4-12 hexadecimal digits, either case.
    Uuid,
    /// One of `ios`, `android`, `electron`.
    KnownPlatform,
    /// A string of at most `max` characters; an empty one is refused when `non_empty`.
    Text { max: usize, non_empty: bool },
    /// Strict semver `X.Y.Z` (prereleases accepted).
    Semver,
    /// A native version, coerced as protocol.md §2.3 step 3 says; unparsable is `semver_error`.
    NativeVersion { non_empty: bool },
    /// `true` or `false`.
    Flag,
    /// One of the stats actions the reference backend allows (protocol.md §5.2).
    StatsAction,
    /// An object of at most 30 string values, keys of at most 64 characters, values of at most 2048.
    Metadata,
    /// Not validated: kept when it is a storable string of reasonable length, dropped otherwise.
    Unchecked,
}

/// One field of an endpoint's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub rule: Rule,
    /// A required field must be present and not null. Optional fields that are absent, null or
    /// `""` are simply not given.
    pub required: bool,
}

pub const fn required(name: &'static str, rule: Rule) -> FieldSpec {
    FieldSpec { name, rule, required: true }
}

pub const fn optional(name: &'static str, rule: Rule) -> FieldSpec {
    FieldSpec { name, rule, required: false }
}

/// A string of at most [`MAX_TEXT_LEN`] characters, possibly empty.
pub const TEXT: Rule = Rule::Text { max: MAX_TEXT_LEN, non_empty: false };

const MAX_METADATA_KEYS: usize = 30;
const MAX_METADATA_KEY_LEN: usize = 64;
const MAX_METADATA_VALUE_LEN: usize = 2048;

/// The refusal for a value that breaks its field's rule: 400 `invalid_json_body` with
/// `moreInfo.parseResult` naming the field.
pub fn schema_error(field: &str, issue: &str) -> Refusal {
    let mut detail = Map::new();
    detail.insert("field".into(), field.into());
    detail.insert("issue".into(), issue.into());
    Refusal::new(Code::InvalidJsonBody).with_more_info("parseResult", Value::Object(detail))
}

/// Checks every field of `schema`, in order; the first failure is the answer.
pub fn check_schema(body: &Map<String, Value>, schema: &[FieldSpec]) -> Result<(), Refusal> {
    schema.iter().try_for_each(|spec| check_field(body, spec))
}

/// Checks one field against its rule.
pub fn check_field(body: &Map<String, Value>, spec: &FieldSpec) -> Result<(), Refusal> {
    let value = match body.get(spec.name) {
        None | Some(Value::Null) if spec.required => {
            return Err(schema_error(spec.name, "is required"));
        }
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(s)) if s.is_empty() && !spec.required => return Ok(()),
        Some(value) => value,
    };
    let fail = |issue: &str| Err(schema_error(spec.name, issue));
    match spec.rule {
        Rule::Flag => match value {
            Value::Bool(_) => Ok(()),
            _ => fail("must be a boolean"),
        },
        Rule::Metadata => check_metadata(spec.name, value),
        Rule::Unchecked => Ok(()),
        rule => {
            let Value::String(text) = value else {
                return fail("must be a string");
            };
            check_text_rule(spec.name, rule, text)
        }
    }
}

fn check_text_rule(name: &str, rule: Rule, text: &str) -> Result<(), Refusal> {
    let fail = |issue: &str| Err(schema_error(name, issue));
    storable(name, text)?;
    match rule {
        Rule::ReverseDomain if !is_reverse_domain(text) => {
            fail("must be a reverse-domain id such as com.example.app")
        }
        Rule::Uuid if !is_uuid(text) => fail("must be a UUID"),
        Rule::KnownPlatform if Platform::parse(text).is_none() => {
            fail("must be one of ios, android, electron")
        }
        Rule::Text { non_empty: true, .. } | Rule::NativeVersion { non_empty: true } if text.is_empty() => {
            fail("must be a non-empty string")
        }
        Rule::Text { max, .. } if text.chars().count() > max => {
            fail(&format!("must be at most {max} characters"))
        }
        Rule::Semver if version::parse_strict(text).is_err() => fail("must be a semver version"),
        Rule::NativeVersion { .. } => native_version(text).map(|_| ()),
        Rule::StatsAction if !crate::actions::is_known_action(text) => {
            fail("must be one of the plugin's stats actions")
        }
        _ => Ok(()),
    }
}

/// PostgreSQL text cannot hold U+0000; a value carrying one could never be stored, so it is
/// refused here instead of failing a database write later.
fn storable(name: &str, text: &str) -> Result<(), Refusal> {
    if text.contains('\0') {
        return Err(schema_error(name, "must not contain NUL characters"));
    }
    Ok(())
}

fn check_metadata(name: &str, value: &Value) -> Result<(), Refusal> {
    let Value::Object(map) = value else {
        return Err(schema_error(name, "must be an object of strings"));
    };
    if map.len() > MAX_METADATA_KEYS {
        return Err(schema_error(name, "must have at most 30 keys"));
    }
    for (key, value) in map {
        storable(name, key)?;
        if key.chars().count() > MAX_METADATA_KEY_LEN {
            return Err(schema_error(name, "keys must be at most 64 characters"));
        }
        match value {
            Value::String(s) if s.chars().count() <= MAX_METADATA_VALUE_LEN => storable(name, s)?,
            _ => return Err(schema_error(name, "values must be strings of at most 2048 characters")),
        }
    }
    Ok(())
}

/// A native version coerced to semver, or the `semver_error` refusal.
pub fn native_version(text: &str) -> Result<Version, Refusal> {
    version::coerce_native(text)
        .map_err(|e| Refusal::new(Code::SemverError).with_more_info("version_build", e.input))
}

/// A required string whose absence has its own code (`missing_device_id`, `missing_app_id`),
/// checked before the schema as the reference backend does.
pub fn require_presence<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    missing: Code,
) -> Result<&'a str, Refusal> {
    match body.get(key) {
        None | Some(Value::Null) => Err(Refusal::new(missing)),
        Some(Value::String(s)) if s.is_empty() => Err(Refusal::new(missing)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(schema_error(key, "must be a string")),
    }
}

/// A checked string field's value; `None` when absent, null or empty.
pub fn text<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A checked flag's value, or its default when absent.
pub fn flag(body: &Map<String, Value>, key: &str, default: bool) -> bool {
    body.get(key).and_then(Value::as_bool).unwrap_or(default)
}

/// An [`Rule::Unchecked`] field's value: kept when it is a storable string of reasonable length,
/// dropped otherwise, never a reason to refuse a request.
pub fn lenient_text(body: &Map<String, Value>, key: &str) -> Option<String> {
    match body.get(key) {
        Some(Value::String(s)) if s.chars().count() <= MAX_TEXT_LEN && !s.contains('\0') => Some(s.clone()),
        _ => None,
    }
}

/// `^[a-z0-9]+(\.[\w-]+)+$`, case-insensitive.
pub fn is_reverse_domain(app_id: &str) -> bool {
    if app_id.len() > MAX_APP_ID_LEN {
        return false;
    }
    let mut segments = app_id.split('.');
    let first_ok =
        segments.next().is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()));
    let mut rest = 0;
    let rest_ok = segments.all(|s| {
        rest += 1;
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    first_ok && rest_ok && rest > 0
}

/// 8-4-4-4-12 hexadecimal digits.
pub fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(rule: Rule, required: bool, value: Value) -> Result<(), Refusal> {
        let body = json!({ "f": value });
        check_field(body.as_object().unwrap(), &FieldSpec { name: "f", rule, required })
    }

    #[test]
    fn presence() {
        let empty = Map::new();
        assert!(check_field(&empty, &required("f", TEXT)).is_err());
        assert!(check_field(&empty, &optional("f", TEXT)).is_ok());
        assert!(check(TEXT, true, Value::Null).is_err());
        assert!(check(Rule::Uuid, false, json!("")).is_ok(), "an empty optional field is not given");
        assert!(check(Rule::Uuid, true, json!("")).is_err());
    }

    #[test]
    fn nul_is_never_storable() {
        for rule in [TEXT, Rule::Semver, Rule::NativeVersion { non_empty: true }, Rule::KnownPlatform] {
            let refusal = check(rule, true, json!("1\u{0}")).unwrap_err();
            assert_eq!(refusal.code, Code::InvalidJsonBody, "{rule:?}");
        }
        assert!(check(Rule::Metadata, false, json!({"k": "v\u{0}"})).is_err());
        assert!(check(Rule::Metadata, false, json!({"k\u{0}": "v"})).is_err());
        let body = json!({"version_os": "14\u{0}"});
        assert_eq!(lenient_text(body.as_object().unwrap(), "version_os"), None);
    }

    #[test]
    fn native_versions_refuse_with_semver_error() {
        assert_eq!(
            check(Rule::NativeVersion { non_empty: true }, true, json!("1.2.3.4")).unwrap_err().code,
            Code::SemverError
        );
        assert!(check(Rule::NativeVersion { non_empty: true }, true, json!("1.2")).is_ok());
        assert_eq!(
            check(Rule::NativeVersion { non_empty: true }, true, json!(12)).unwrap_err().code,
            Code::InvalidJsonBody
        );
    }

    #[test]
    fn reverse_domain_and_uuid_shapes() {
        assert!(is_reverse_domain("com.example.app"));
        assert!(is_reverse_domain("Com.Example.my_app-2"));
        assert!(!is_reverse_domain("com"));
        assert!(!is_reverse_domain("com.example."));
        assert!(!is_reverse_domain("c_m.example"));
        assert!(!is_reverse_domain("com.exa mple"));
        assert!(is_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(!is_uuid("00000000-0000-0000-0000-00000000000g"));
        assert!(!is_uuid("0000000000000000000000000000000000000"));
    }
}
