//! Channel self-service (`/channel_self`, protocol.md §6): request parsing for the four verbs,
//! the plugin generations, and the rate limits.

use serde_json::{Map, Value};

use crate::answer::{Code, Refusal};
use crate::fields::{
    FieldSpec, Platform, Rule, TEXT, check_schema, flag, optional, require_presence, required, schema_error,
    text,
};
use crate::plugin::{Client, PluginVersion};
use crate::request::UPDATE_SCHEMA;
use crate::version;

/// The four verbs of `/channel_self`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// POST: `setChannel`.
    Set,
    /// PUT: `getChannel`.
    Get,
    /// GET: `listChannels`.
    List,
    /// DELETE: the legacy `unsetChannel`.
    Unset,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Set => "set",
            Operation::Get => "get",
            Operation::List => "list",
            Operation::Unset => "unset",
        }
    }

    pub fn parse(value: &str) -> Option<Operation> {
        match value {
            "set" => Some(Operation::Set),
            "get" => Some(Operation::Get),
            "list" => Some(Operation::List),
            "unset" => Some(Operation::Unset),
            _ => None,
        }
    }
}

/// A validated channel request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRequest {
    pub operation: Operation,
    pub app_id: String,
    /// Lowercase; always present except for `List`, where it is optional.
    pub device_id: Option<String>,
    pub platform: Platform,
    pub plugin: Option<PluginVersion>,
    pub is_emulator: bool,
    pub is_prod: bool,
    /// The channel asked for (POST) or reported (PUT).
    pub channel: Option<String>,
    pub default_channel: Option<String>,
}

/// The schema of a `/channel_self` request (protocol.md §6.1): the update check's (§2.3), except
/// that `version_name` and `version_build` may be empty, `plugin_version` is optional and `channel`
/// is an optional string; `listChannels` (§6.4) also needs `is_emulator` and `is_prod` but not
/// `device_id`.
pub fn channel_schema(operation: Operation) -> Vec<FieldSpec> {
    let list = operation == Operation::List;
    UPDATE_SCHEMA
        .iter()
        .map(|spec| match spec.name {
            "version_name" => optional(spec.name, TEXT),
            "version_build" => optional(spec.name, Rule::NativeVersion { non_empty: false }),
            "plugin_version" => optional(spec.name, spec.rule),
            "device_id" if list => optional(spec.name, spec.rule),
            "is_emulator" | "is_prod" if list => required(spec.name, spec.rule),
            _ => *spec,
        })
        .chain([optional("channel", TEXT)])
        .collect()
}

impl ChannelRequest {
    /// Validates a request already turned into JSON (the body, or the query string for GET/DELETE).
    pub fn from_json(operation: Operation, value: &Value) -> Result<ChannelRequest, Refusal> {
        let query = matches!(operation, Operation::List | Operation::Unset);
        let as_query_error = |refusal: Refusal| {
            if query && refusal.code == Code::InvalidJsonBody {
                Refusal { code: Code::InvalidQueryParameters, ..refusal }
            } else {
                refusal
            }
        };
        let Some(body) = value.as_object().filter(|b| !b.is_empty()) else {
            return Err(as_query_error(schema_error("(body)", "must be a non-empty JSON object")));
        };
        if operation != Operation::List {
            require_presence(body, "device_id", Code::MissingDeviceId).map_err(as_query_error)?;
        }
        let app_id = require_presence(body, "app_id", Code::MissingAppId).map_err(as_query_error)?;
        check_schema(body, &channel_schema(operation)).map_err(as_query_error)?;

        let platform = text(body, "platform").and_then(Platform::parse).ok_or_else(|| {
            as_query_error(schema_error("platform", "must be one of ios, android, electron"))
        })?;
        let plugin = match text(body, "plugin_version") {
            None => None,
            Some(raw) => Some(PluginVersion::new(
                Client::of(platform),
                version::parse_strict(raw).map_err(|_| {
                    as_query_error(schema_error("plugin_version", "must be a semver version"))
                })?,
            )),
        };
        Ok(ChannelRequest {
            operation,
            app_id: app_id.to_owned(),
            device_id: text(body, "device_id").map(str::to_lowercase),
            platform,
            plugin,
            is_emulator: flag(body, "is_emulator", false),
            is_prod: flag(body, "is_prod", true),
            channel: text(body, "channel").map(str::to_owned),
            default_channel: text(body, "defaultChannel").map(str::to_owned),
        })
    }

    /// Whether the server keeps this device's channel (see [`PluginVersion::server_keeps_channel`]).
    /// A request without a plugin version is treated as the older kind, so a set channel is never
    /// silently lost.
    pub fn server_keeps_channel(&self) -> bool {
        self.plugin.as_ref().is_none_or(PluginVersion::server_keeps_channel)
    }

    /// The request as JSON for the extension (`channel_self`), which validates it again.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("app_id".into(), self.app_id.clone().into());
        if let Some(device_id) = &self.device_id {
            body.insert("device_id".into(), device_id.clone().into());
        }
        body.insert("platform".into(), self.platform.as_str().into());
        if let Some(plugin) = &self.plugin {
            body.insert("plugin_version".into(), plugin.version.to_string().into());
        }
        body.insert("is_emulator".into(), self.is_emulator.into());
        body.insert("is_prod".into(), self.is_prod.into());
        if let Some(channel) = &self.channel {
            body.insert("channel".into(), channel.clone().into());
        }
        if let Some(default_channel) = &self.default_channel {
            body.insert("defaultChannel".into(), default_channel.clone().into());
        }
        Value::Object(body)
    }
}

/// Turns a query string into a JSON object: `true`/`false` for the boolean fields, strings
/// otherwise. Invalid percent-encoding is refused.
pub fn query_to_json(query: &str) -> Result<Value, Refusal> {
    let mut object = Map::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key)?;
        let value = percent_decode(value)?;
        let value = match (key.as_str(), value.as_str()) {
            ("is_emulator" | "is_prod", "true") => Value::Bool(true),
            ("is_emulator" | "is_prod", "false") => Value::Bool(false),
            _ => Value::String(value),
        };
        object.insert(key, value);
    }
    Ok(Value::Object(object))
}

fn percent_decode(text: &str) -> Result<String, Refusal> {
    crate::url::percent_decode(text, true).ok_or_else(|| {
        Refusal::new(Code::InvalidQueryParameters).with_more_info("reason", "invalid percent-encoding")
    })
}

/// A rate limit of protocol.md §6.5: at most `max` requests per `window_seconds` for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window_seconds: u64,
}

/// Per device, app and operation.
pub const PER_DEVICE_OPERATION: RateLimit = RateLimit { max: 5, window_seconds: 1 };
/// The same device setting the same channel.
pub const SAME_CHANNEL_SET: RateLimit = RateLimit { max: 1, window_seconds: 60 };
/// Per client address and app.
pub const PER_ADDRESS_APP: RateLimit = RateLimit { max: 1000, window_seconds: 60 };

/// The 429 answer for a limit that resets at `reset_at_ms`, `retry_after_seconds` from now.
pub fn rate_limited(reset_at_ms: u64, retry_after_seconds: u64) -> Refusal {
    Refusal::new(Code::TooManyRequests)
        .with_more_info("rateLimitResetAt", reset_at_ms)
        .with_more_info("retryAfterSeconds", retry_after_seconds)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(overrides: Value) -> Value {
        let mut body = json!({
            "platform": "ios", "device_id": "8E1C1A7E-3D6B-4E1E-9E8E-0C5B1D2A3F40", "app_id": "com.example.app",
            "version_build": "", "version_name": "", "plugin_version": "8.51.14", "is_emulator": false,
            "is_prod": true, "channel": "beta"
        });
        for (k, v) in overrides.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    #[test]
    fn set_requests() {
        let req = ChannelRequest::from_json(Operation::Set, &body(json!({}))).unwrap();
        assert_eq!(req.device_id.as_deref(), Some("8e1c1a7e-3d6b-4e1e-9e8e-0c5b1d2a3f40"));
        assert_eq!(req.channel.as_deref(), Some("beta"));
        assert!(!req.server_keeps_channel());
        let legacy =
            ChannelRequest::from_json(Operation::Set, &body(json!({"plugin_version": "7.33.0"}))).unwrap();
        assert!(legacy.server_keeps_channel());
        let no_version =
            ChannelRequest::from_json(Operation::Set, &body(json!({"plugin_version": null}))).unwrap();
        assert!(no_version.server_keeps_channel());
        let code = |op, b: Value| ChannelRequest::from_json(op, &b).unwrap_err().code;
        assert_eq!(code(Operation::Set, json!({})), Code::InvalidJsonBody);
        assert_eq!(code(Operation::Set, body(json!({"device_id": null}))), Code::MissingDeviceId);
        assert_eq!(code(Operation::Set, body(json!({"app_id": ""}))), Code::MissingAppId);
        assert_eq!(code(Operation::Set, body(json!({"platform": "web"}))), Code::InvalidJsonBody);
    }

    #[test]
    fn the_update_check_field_rules_apply() {
        for op in [Operation::Set, Operation::Get, Operation::Unset] {
            let code = |extra: Value| ChannelRequest::from_json(op, &body(extra)).unwrap_err().code;
            let schema_code =
                if op == Operation::Unset { Code::InvalidQueryParameters } else { Code::InvalidJsonBody };
            assert_eq!(code(json!({"version_build": "invalid semver"})), Code::SemverError, "{op:?}");
            assert_eq!(code(json!({"key_id": "k".repeat(26)})), schema_code, "{op:?}");
            assert_eq!(code(json!({"install_source": 7})), schema_code, "{op:?}");
            assert_eq!(code(json!({"install_source": "s".repeat(65)})), schema_code, "{op:?}");
            assert_eq!(code(json!({"defaultChannel": "beta\u{0}"})), schema_code, "{op:?}");
            // what §6.1 relaxes
            let relaxed = body(json!({"version_build": "", "version_name": "", "plugin_version": null}));
            assert!(ChannelRequest::from_json(op, &relaxed).is_ok(), "{op:?}");
        }
    }

    #[test]
    fn electron_keeps_its_channel_on_the_device() {
        let req = ChannelRequest::from_json(
            Operation::Set,
            &body(json!({"platform": "electron", "plugin_version": "0.0.1"})),
        )
        .unwrap();
        assert!(!req.server_keeps_channel());
    }

    #[test]
    fn generations() {
        for (version, server) in [
            ("5.33.9", true),
            ("5.34.0", false),
            ("6.33.0", true),
            ("7.34.0", false),
            ("8.0.0", false),
            ("4.0.0", true),
        ] {
            let req =
                ChannelRequest::from_json(Operation::Get, &body(json!({"plugin_version": version}))).unwrap();
            assert_eq!(req.server_keeps_channel(), server, "{version}");
        }
    }

    #[test]
    fn list_from_the_query_string() {
        let query = query_to_json(
            "app_id=com.example.app&platform=android&is_emulator=false&is_prod=true&custom_id=a%20b+c",
        )
        .unwrap();
        assert_eq!(query["custom_id"], "a b c");
        let req = ChannelRequest::from_json(Operation::List, &query).unwrap();
        assert_eq!(req.device_id, None);
        assert!(!req.is_emulator && req.is_prod);
        let missing = query_to_json("app_id=com.example.app&platform=android&is_prod=true").unwrap();
        assert_eq!(
            ChannelRequest::from_json(Operation::List, &missing).unwrap_err().code,
            Code::InvalidQueryParameters
        );
        let no_app = query_to_json("platform=android&is_emulator=false&is_prod=true").unwrap();
        assert_eq!(ChannelRequest::from_json(Operation::List, &no_app).unwrap_err().code, Code::MissingAppId);
        assert_eq!(
            ChannelRequest::from_json(Operation::List, &json!({})).unwrap_err().code,
            Code::InvalidQueryParameters
        );
        assert!(query_to_json("a=%zz").is_err());
        assert!(query_to_json("a=%ff").is_err(), "not UTF-8");
    }

    #[test]
    fn rate_limit_answer() {
        let body = rate_limited(1_700_000_000_000, 42).to_json();
        assert_eq!(body["error"], "too_many_requests");
        assert_eq!(body["moreInfo"]["retryAfterSeconds"], 42);
        assert_eq!(body["moreInfo"]["rateLimitResetAt"], 1_700_000_000_000u64);
    }
}
