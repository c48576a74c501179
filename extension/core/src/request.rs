//! The update-check request body: parsing, normalisation and validation (protocol.md §2.2-2.3).
//!
//! The checks run in the reference backend's order so that a body with several faults gets the same
//! code here as there: JSON → empty object → `device_id` → `app_id` → `version_build` coercion →
//! defaults → `builtin` substitution → field schema.

use serde_json::{Map, Value};

use crate::answer::{Code, Refusal};
use crate::fields::{
    FieldSpec, MAX_TEXT_LEN, Platform, Rule, TEXT, check_schema, flag, lenient_text, native_version,
    optional, require_presence, required, schema_error, text,
};
use crate::plugin::{Client, PluginVersion};
use crate::version::{self, Version};

/// Largest update-check body accepted; the plugin sends about 600 bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The update-check schema, protocol.md §2.3, checked in this order once `device_id` and `app_id`
/// are known present. `version_build` comes first: its coercion (step 3, `semver_error`) precedes
/// the other fields' checks in the reference backend.
pub const UPDATE_SCHEMA: &[FieldSpec] = &[
    required("version_build", Rule::NativeVersion { non_empty: true }),
    required("app_id", Rule::ReverseDomain),
    required("device_id", Rule::Uuid),
    required("version_name", Rule::Text { max: MAX_TEXT_LEN, non_empty: true }),
    optional("is_emulator", Rule::Flag),
    optional("is_prod", Rule::Flag),
    required("platform", Rule::KnownPlatform),
    required("plugin_version", Rule::Semver),
    optional("defaultChannel", TEXT),
    optional("install_source", Rule::Text { max: 64, non_empty: false }),
    optional("key_id", Rule::Text { max: 20, non_empty: false }),
    optional("custom_id", Rule::Unchecked),
];

/// A validated, normalised update check.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRequest {
    pub app_id: String,
    /// Lowercase UUID (old iOS builds sent uppercase).
    pub device_id: String,
    pub platform: Platform,
    pub plugin: PluginVersion,
    /// The native version, coerced to semver.
    pub version_build: Version,
    /// The running bundle's name; `"builtin"` has been replaced by `version_build`.
    pub version_name: String,
    /// The device literally reported `version_name: "builtin"`.
    pub reported_builtin: bool,
    pub version_code: Option<String>,
    pub version_os: Option<String>,
    pub is_emulator: bool,
    pub is_prod: bool,
    /// The channel the device asks for; `None` when absent or empty.
    pub default_channel: Option<String>,
    /// Trimmed and lowercased.
    pub install_source: Option<String>,
    pub key_id: Option<String>,
    /// Trimmed; empty becomes `None`.
    pub custom_id: Option<String>,
}

impl UpdateRequest {
    /// Parses raw body bytes (the gateway's entry point).
    pub fn from_body(body: &[u8]) -> Result<UpdateRequest, Refusal> {
        if body.len() > MAX_BODY_BYTES {
            return Err(Refusal::new(Code::PayloadTooLarge).with_more_info("maxBytes", MAX_BODY_BYTES as u64));
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Refusal::new(Code::InvalidJsonParseBody).with_more_info("reason", e.to_string()))?;
        UpdateRequest::from_json(&value)
    }

    /// Validates an already parsed JSON document (the extension's entry point).
    pub fn from_json(value: &Value) -> Result<UpdateRequest, Refusal> {
        let Some(body) = value.as_object() else {
            return Err(schema_error("(body)", "must be a JSON object"));
        };
        if body.is_empty() {
            return Err(schema_error("(body)", "must not be empty"));
        }
        let device_id = require_presence(body, "device_id", Code::MissingDeviceId)?.to_lowercase();
        let app_id = require_presence(body, "app_id", Code::MissingAppId)?.to_owned();
        check_schema(body, UPDATE_SCHEMA)?;

        let version_build = native_version(text(body, "version_build").unwrap_or_default())?;
        let raw_version_name = text(body, "version_name").unwrap_or_default();
        let reported_builtin = raw_version_name == "builtin";
        let version_name =
            if reported_builtin { version_build.to_string() } else { raw_version_name.to_owned() };
        let platform = text(body, "platform")
            .and_then(Platform::parse)
            .ok_or_else(|| schema_error("platform", "must be one of ios, android, electron"))?;
        let plugin_version = version::parse_strict(text(body, "plugin_version").unwrap_or_default())
            .map_err(|_| schema_error("plugin_version", "must be a semver version"))?;

        Ok(UpdateRequest {
            app_id,
            device_id,
            platform,
            plugin: PluginVersion::new(Client::of(platform), plugin_version),
            version_build,
            version_name,
            reported_builtin,
            version_code: lenient_text(body, "version_code"),
            version_os: lenient_text(body, "version_os"),
            is_emulator: flag(body, "is_emulator", false),
            is_prod: flag(body, "is_prod", true),
            default_channel: text(body, "defaultChannel").map(str::to_owned),
            install_source: text(body, "install_source")
                // ASCII only: Unicode lowercasing can lengthen the text past the field's limit.
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty()),
            key_id: text(body, "key_id").map(str::to_owned),
            custom_id: lenient_text(body, "custom_id").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        })
    }

    /// The normalised request as JSON: what the gateway hands to `resolve_update`, and what the
    /// device-state recorder stores. Parsing it again yields the same request.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("app_id".into(), self.app_id.clone().into());
        body.insert("device_id".into(), self.device_id.clone().into());
        body.insert("platform".into(), self.platform.as_str().into());
        body.insert("plugin_version".into(), self.plugin.version.to_string().into());
        body.insert("version_build".into(), self.version_build.to_string().into());
        let version_name = if self.reported_builtin { "builtin" } else { self.version_name.as_str() };
        body.insert("version_name".into(), version_name.into());
        body.insert("is_emulator".into(), self.is_emulator.into());
        body.insert("is_prod".into(), self.is_prod.into());
        let optional = [
            ("version_code", &self.version_code),
            ("version_os", &self.version_os),
            ("defaultChannel", &self.default_channel),
            ("install_source", &self.install_source),
            ("key_id", &self.key_id),
            ("custom_id", &self.custom_id),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                body.insert(key.into(), value.clone().into());
            }
        }
        Value::Object(body)
    }

    /// Whether the device runs the bundle compiled into the app. Current plugins report the native
    /// version as `version_name` there, older ones the literal `"builtin"`.
    pub fn runs_builtin(&self) -> bool {
        self.reported_builtin || self.version_name == self.version_build.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "platform": "android", "device_id": "8E1C1A7E-3D6B-4E1E-9E8E-0C5B1D2A3F40",
            "app_id": "com.example.app", "custom_id": "  ", "version_build": "1.2",
            "version_code": "12", "version_os": "14", "version_name": "builtin",
            "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true,
            "defaultChannel": "", "install_source": " Google_Play "
        })
    }

    fn code_of(value: Value) -> &'static str {
        UpdateRequest::from_json(&value).unwrap_err().code.as_str()
    }

    #[test]
    fn normalises_a_current_android_body() {
        let req = UpdateRequest::from_json(&base()).unwrap();
        assert_eq!(req.device_id, "8e1c1a7e-3d6b-4e1e-9e8e-0c5b1d2a3f40");
        assert_eq!(req.version_build.to_string(), "1.2.0");
        assert_eq!(req.version_name, "1.2.0");
        assert!(req.reported_builtin && req.runs_builtin());
        assert_eq!(req.default_channel, None);
        assert_eq!(req.install_source.as_deref(), Some("google_play"));
        assert_eq!(req.custom_id, None);
    }

    #[test]
    fn validation_order_and_codes() {
        assert_eq!(UpdateRequest::from_body(b"{not json").unwrap_err().code, Code::InvalidJsonParseBody);
        assert_eq!(UpdateRequest::from_body(&[0xff, 0xfe]).unwrap_err().code, Code::InvalidJsonParseBody);
        assert_eq!(code_of(json!({})), "invalid_json_body");
        assert_eq!(code_of(json!([1])), "invalid_json_body");
        assert_eq!(code_of(json!({"app_id": "com.x.y"})), "missing_device_id");
        assert_eq!(code_of(json!({"device_id": "", "app_id": "com.x.y"})), "missing_device_id");
        let mut body = base();
        body.as_object_mut().unwrap().remove("app_id");
        assert_eq!(code_of(body), "missing_app_id");
        let mut body = base();
        body["version_build"] = json!("1.2.3.4");
        assert_eq!(code_of(body), "semver_error");
        // semver is checked before the schema, as in the reference backend
        let mut body = base();
        body["version_build"] = json!("x");
        body["platform"] = json!("windows");
        assert_eq!(code_of(body), "semver_error");
    }

    #[test]
    fn schema_failures_are_invalid_json_body() {
        let cases = [
            ("app_id", json!("nodots")),
            ("app_id", json!("com..app")),
            ("device_id", json!("not-a-uuid")),
            ("device_id", json!(42)),
            ("platform", json!("windows")),
            ("plugin_version", json!("8")),
            ("plugin_version", Value::Null),
            ("is_prod", json!("yes")),
            ("is_emulator", json!(1)),
            ("version_name", json!("")),
            ("version_name", json!(3)),
            ("defaultChannel", json!(7)),
            ("install_source", json!("x".repeat(65))),
            ("key_id", json!("k".repeat(21))),
            ("version_build", json!(12)),
        ];
        for (field, value) in cases {
            let mut body = base();
            body[field] = value.clone();
            let refusal = UpdateRequest::from_json(&body).unwrap_err();
            assert_eq!(refusal.code, Code::InvalidJsonBody, "{field} = {value}");
            assert_eq!(refusal.more_info["parseResult"]["field"], field);
        }
    }

    #[test]
    fn defaults_and_unknown_fields() {
        let mut body = base();
        let obj = body.as_object_mut().unwrap();
        obj.remove("is_emulator");
        obj.remove("is_prod");
        obj.insert("something_new".into(), json!({"nested": true}));
        let req = UpdateRequest::from_json(&body).unwrap();
        assert!(!req.is_emulator && req.is_prod);
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(UpdateRequest::from_body(&big).unwrap_err().code, Code::PayloadTooLarge);
    }

    #[test]
    fn text_postgresql_cannot_store_is_refused_or_dropped() {
        for field in ["version_name", "defaultChannel", "install_source", "key_id", "plugin_version"] {
            let mut body = base();
            body[field] = json!("1.0.0\u{0}");
            let refusal = UpdateRequest::from_json(&body).unwrap_err();
            assert_eq!(refusal.code, Code::InvalidJsonBody, "{field}");
            assert_eq!(refusal.more_info["parseResult"]["field"], field);
        }
        // Fields the schema does not check are dropped instead, as any unreasonable value of theirs.
        let mut body = base();
        for field in ["version_os", "version_code", "custom_id"] {
            body[field] = json!("14\u{0}");
        }
        let req = UpdateRequest::from_json(&body).unwrap();
        assert_eq!((req.version_os, req.version_code, req.custom_id), (None, None, None));
    }

    #[test]
    fn electron_requests_are_on_their_own_line() {
        let mut body = base();
        body["platform"] = json!("electron");
        body["plugin_version"] = json!("0.0.1");
        let req = UpdateRequest::from_json(&body).unwrap();
        assert_eq!(req.plugin.client, crate::plugin::Client::Electron);
        assert!(!req.plugin.is_unsupported());
    }

    #[test]
    fn to_json_round_trips() {
        let req = UpdateRequest::from_json(&base()).unwrap();
        assert_eq!(UpdateRequest::from_json(&req.to_json()).unwrap(), req);
    }

    /// Caught by the update_check fuzz target's round-trip check: Unicode lowercasing can lengthen a
    /// string ('İ' becomes "i̇"), so 40 of them lowercased to 80 characters, over the 64 the
    /// extension then enforces on the same field.
    #[test]
    fn install_source_stays_within_its_limit_once_normalised() {
        let mut body = base();
        body["install_source"] = json!("\u{130}".repeat(40));
        let req = UpdateRequest::from_json(&body).unwrap();
        assert_eq!(UpdateRequest::from_json(&req.to_json()).unwrap(), req);
    }
}
