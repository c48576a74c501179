//! Device telemetry (`POST /stats`, protocol.md §5): parsing and validating batches, and the rules
//! that decide what each event changes.

use serde_json::{Map, Value, json};

use crate::answer::{Code, Refusal};
use crate::fields::{bounded, lenient_string, optional_bool, optional_string, schema_error};
use crate::request::{MAX_TEXT_LEN, is_reverse_domain, is_uuid};
use crate::version::{self, Version};

/// Largest stats body accepted; the plugin queues at most 200 events (about 100 KiB).
pub const MAX_STATS_BODY_BYTES: usize = 1024 * 1024;
/// Most events accepted in one batch.
pub const MAX_BATCH_EVENTS: usize = 500;
const MAX_METADATA_KEYS: usize = 30;
const MAX_METADATA_KEY_LEN: usize = 64;
const MAX_METADATA_VALUE_LEN: usize = 2048;
const MAX_CUSTOM_ID_LEN: usize = 36;
/// Device timestamps outside 2000-2100 are dropped (kept events, no device time).
const PLAUSIBLE_FROM_MS: i64 = 946_684_800_000;
const PLAUSIBLE_UNTIL_MS: i64 = 4_102_444_800_000;

/// Actions the current plugin sends (protocol.md §5.2).
const PLUGIN_ACTIONS: &[&str] = &[
    "set",
    "set_fail",
    "set_next",
    "reset",
    "delete",
    "update_fail",
    "download_fail",
    "download_10",
    "download_20",
    "download_30",
    "download_40",
    "download_50",
    "download_60",
    "download_70",
    "download_80",
    "download_90",
    "download_complete",
    "download_zip_start",
    "download_zip_complete",
    "download_manifest_start",
    "download_manifest_complete",
    "download_manifest_file_fail",
    "download_manifest_checksum_fail",
    "download_manifest_brotli_fail",
    "manifest_path_fail",
    "finish_download_fail",
    "low_mem_fail",
    "insufficient_disk_space",
    "checksum_fail",
    "checksum_required",
    "decrypt_fail",
    "unzip_fail",
    "windows_path_fail",
    "canonical_path_fail",
    "directory_path_fail",
    "blocked_by_server_url",
    "rate_limit_reached",
    "app_moved_to_foreground",
    "app_moved_to_background",
    "app_launch_start",
    "app_launch_ready",
    "app_launch_timeout",
    "app_crash",
    "app_crash_native",
    "app_anr",
    "app_killed_low_memory",
    "app_killed_excessive_resource_usage",
    "app_initialization_failure",
    "app_memory_warning",
    "webview_javascript_error",
    "webview_unhandled_rejection",
    "webview_resource_error",
    "webview_security_policy_violation",
    "webview_unclean_restart",
    "webview_render_process_gone",
    "webview_content_process_terminated",
    "webview_dom_content_loaded",
    "webview_page_loaded",
    "os_version_changed",
    "native_app_version_changed",
];

/// Actions servers generate or older plugins sent; accepted so that old queues drain.
const SERVER_ACTIONS: &[&str] = &[
    "ping",
    "get",
    "download_0",
    "uninstall",
    "needPlanUpgrade",
    "missingBundle",
    "noNew",
    "disablePlatformIos",
    "disablePlatformAndroid",
    "disablePlatformElectron",
    "disableAutoUpdateToMajor",
    "disableAutoUpdateToMinor",
    "disableAutoUpdateToPatch",
    "disableAutoUpdateMetadata",
    "disableAutoUpdateUnderNative",
    "disableAutoUpdate",
    "cannotUpdateViaPrivateChannel",
    "channelMisconfigured",
    "disableDevBuild",
    "disableProdBuild",
    "disableEmulator",
    "disableDevice",
    "cannotGetBundle",
    "NoChannelOrOverride",
    "setChannel",
    "getChannel",
    "rateLimited",
    "keyMismatch",
    "InvalidIp",
    "backend_refusal",
    "customIdBlocked",
];

/// The server-side event recorded when an app that refuses custom ids receives one.
pub const CUSTOM_ID_BLOCKED: &str = "customIdBlocked";

pub fn is_known_action(action: &str) -> bool {
    PLUGIN_ACTIONS.contains(&action) || SERVER_ACTIONS.contains(&action)
}

/// `*_fail` events name the bundle that failed, not the one running: they never update the device.
pub fn is_failure(action: &str) -> bool {
    action.ends_with("_fail")
}

/// Failures that mean "this bundle cannot work on this device" (as opposed to a transient network
/// or disk problem). After one, `/updates` stops offering the bundle to the device until its channel
/// points elsewhere, which ends the download-fail-redownload loop of protocol.md §7.1.
pub fn blocks_bundle_on_device(action: &str) -> bool {
    matches!(
        action,
        "update_fail"
            | "set_fail"
            | "checksum_fail"
            | "checksum_required"
            | "decrypt_fail"
            | "unzip_fail"
            | "windows_path_fail"
            | "canonical_path_fail"
            | "directory_path_fail"
            | "manifest_path_fail"
            | "download_manifest_checksum_fail"
            | "download_manifest_brotli_fail"
    )
}

/// Whether the event's `version_name` is the bundle the device runs now. Download, `set_next`,
/// `delete` and failure events name another bundle.
pub fn reports_running_bundle(action: &str) -> bool {
    !(is_failure(action)
        || action.starts_with("download_")
        || matches!(action, "set_next" | "delete" | "checksum_required" | "insufficient_disk_space"))
}

/// The event a device sends once it has fetched a bundle whole: counted as a "get".
pub fn is_completed_download(action: &str) -> bool {
    action == "download_complete"
}

/// Plugins before 7.17.0 (6.x before 6.14.25) sent `download_fail` when there was simply no update;
/// those are ignored.
pub fn counts_download_fail(plugin_version: Option<&Version>) -> bool {
    plugin_version.is_some_and(|v| {
        let at_least = |major, minor, patch| v.cmp_precedence(&Version::new(major, minor, patch)).is_ge();
        if v.major == 6 { at_least(6, 14, 25) } else { at_least(7, 17, 0) }
    })
}

/// The bundle name an event refers to: per-file failures send `"<version>:<file>"`.
pub fn bundle_name_of(version_name: &str) -> &str {
    version_name.split_once(':').map_or(version_name, |(name, _)| name)
}

/// `builtin` and `unknown` are always accepted without a bundle behind them.
pub fn needs_bundle(version_name: &str) -> bool {
    !matches!(version_name, "" | "builtin" | "unknown")
}

/// One validated event, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsEvent {
    pub app_id: String,
    pub device_id: String,
    pub action: String,
    pub version_name: String,
    pub old_version_name: Option<String>,
    pub platform: Option<String>,
    pub plugin_version: Option<Version>,
    pub version_build: Option<Version>,
    pub version_os: String,
    pub version_code: Option<String>,
    pub is_emulator: bool,
    pub is_prod: bool,
    pub custom_id: Option<String>,
    pub key_id: Option<String>,
    pub install_source: Option<String>,
    pub default_channel: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    /// Device clock, epoch milliseconds.
    pub timestamp: Option<i64>,
}

impl StatsEvent {
    /// Validates one event object (protocol.md §5.3).
    pub fn from_json(value: &Value) -> Result<StatsEvent, Refusal> {
        let Some(body) = value.as_object() else {
            return Err(schema_error("(event)", "must be a JSON object"));
        };
        let app_id = match body.get("app_id") {
            Some(Value::String(s)) if is_reverse_domain(s) => s.clone(),
            _ => {
                return Err(schema_error("app_id", "must be a reverse-domain id such as com.example.app"));
            }
        };
        let device_id = match body.get("device_id") {
            Some(Value::String(s)) if is_uuid(s) => s.to_lowercase(),
            _ => return Err(schema_error("device_id", "must be a UUID")),
        };
        let version_build = match body.get("version_build") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(
                version::coerce_native(s)
                    .map_err(|e| Refusal::new(Code::SemverError).with_more_info("version_build", e.input))?,
            ),
            Some(_) => return Err(schema_error("version_build", "must be a string")),
        };
        let version_os = match body.get("version_os") {
            Some(Value::String(s)) => bounded(s, "version_os", MAX_TEXT_LEN)?.to_owned(),
            _ => return Err(schema_error("version_os", "must be a string")),
        };
        let action = match body.get("action") {
            None | Some(Value::Null) => "unknown".to_owned(),
            Some(Value::String(s)) if is_known_action(s) => s.clone(),
            Some(_) => {
                return Err(schema_error("action", "must be one of the plugin's stats actions"));
            }
        };
        let plugin_version = match optional_string(body, "plugin_version", MAX_TEXT_LEN)? {
            None | Some("") => None,
            Some(text) => Some(
                version::parse_strict(text)
                    .map_err(|_| schema_error("plugin_version", "must be a semver version"))?,
            ),
        };
        let timestamp = match body.get("timestamp") {
            None | Some(Value::Null) => None,
            // A clock years off is the device's problem, not a reason to refuse the event.
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .filter(|ms| (PLAUSIBLE_FROM_MS..PLAUSIBLE_UNTIL_MS).contains(ms)),
            Some(_) => {
                return Err(schema_error("timestamp", "must be a number of milliseconds"));
            }
        };
        let text = |key: &str, max: usize| -> Result<Option<String>, Refusal> {
            Ok(optional_string(body, key, max)?.map(str::to_owned))
        };
        Ok(StatsEvent {
            app_id,
            device_id,
            action,
            version_name: text("version_name", MAX_TEXT_LEN)?.unwrap_or_default(),
            old_version_name: text("old_version_name", MAX_TEXT_LEN)?.filter(|s| !s.is_empty()),
            platform: text("platform", 64)?,
            plugin_version,
            version_build,
            version_os,
            version_code: lenient_string(body, "version_code"),
            is_emulator: optional_bool(body, "is_emulator", false)?,
            is_prod: optional_bool(body, "is_prod", true)?,
            custom_id: text("custom_id", MAX_CUSTOM_ID_LEN)?
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            key_id: text("key_id", 20)?.filter(|s| !s.is_empty()),
            install_source: text("install_source", 64)?
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty()),
            default_channel: text("defaultChannel", MAX_TEXT_LEN)?.filter(|s| !s.is_empty()),
            metadata: metadata(body)?,
            timestamp,
        })
    }

    /// The event as the extension stores it (keys match `record_stats`'s record type).
    pub fn to_json(&self) -> Value {
        json!({
            "device_id": self.device_id,
            "action": self.action,
            "version_name": if self.version_name.is_empty() { "unknown" } else { self.version_name.as_str() },
            "old_version_name": self.old_version_name,
            "platform": self.platform,
            "plugin_version": self.plugin_version.as_ref().map(Version::to_string),
            "version_build": self.version_build.as_ref().map(Version::to_string),
            "version_os": self.version_os,
            "version_code": self.version_code,
            "is_emulator": self.is_emulator,
            "is_prod": self.is_prod,
            "custom_id": self.custom_id,
            "key_id": self.key_id,
            "install_source": self.install_source,
            "default_channel": self.default_channel,
            "metadata": self.metadata,
            "device_time_ms": self.timestamp,
        })
    }

    /// `download_fail` from old plugins meant "no update": such events are acknowledged, not stored.
    pub fn is_ignored(&self) -> bool {
        self.action == "download_fail" && !counts_download_fail(self.plugin_version.as_ref())
    }
}

fn metadata(body: &Map<String, Value>) -> Result<Option<Map<String, Value>>, Refusal> {
    match body.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => {
            if map.len() > MAX_METADATA_KEYS {
                return Err(schema_error("metadata", "must have at most 30 keys"));
            }
            for (key, value) in map {
                if key.chars().count() > MAX_METADATA_KEY_LEN {
                    return Err(schema_error("metadata", "keys must be at most 64 characters"));
                }
                match value {
                    Value::String(s) if s.chars().count() <= MAX_METADATA_VALUE_LEN => {}
                    _ => {
                        return Err(schema_error(
                            "metadata",
                            "values must be strings of at most 2048 characters",
                        ));
                    }
                }
            }
            Ok(Some(map.clone()))
        }
        Some(_) => Err(schema_error("metadata", "must be an object of strings")),
    }
}

/// A stats body after the checks that apply to it as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsBatch {
    pub app_id: String,
    /// The plugin sent one object rather than an array: its answer has no `results`.
    pub single: bool,
    /// Each event in order, validated on its own.
    pub events: Vec<Result<StatsEvent, Refusal>>,
}

/// What to answer without storing anything, or the batch to store.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedStats {
    /// An empty array: `{"status":"ok","results":[]}`.
    Empty,
    /// Answer now (400, 413, or 200 `mixed_app_ids`); nothing is stored.
    Answer(Refusal),
    Batch(StatsBatch),
}

/// Parses a `POST /stats` body: JSON, the first event's app id, one app per batch, and each event.
/// A single invalid object is answered with its 400; in a batch, each failure goes to `results`.
pub fn parse_body(body: &[u8]) -> ParsedStats {
    if body.len() > MAX_STATS_BODY_BYTES {
        return ParsedStats::Answer(
            Refusal::new(Code::PayloadTooLarge).with_more_info("maxBytes", MAX_STATS_BODY_BYTES as u64),
        );
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            return ParsedStats::Answer(
                Refusal::new(Code::InvalidJsonParseBody).with_more_info("reason", e.to_string()),
            );
        }
    };
    parse_value(&value)
}

/// [`parse_body`] for an already parsed document.
pub fn parse_value(value: &Value) -> ParsedStats {
    let (items, single) = match value {
        Value::Array(items) => (items.as_slice(), false),
        Value::Object(_) => (std::slice::from_ref(value), true),
        _ => return ParsedStats::Answer(Refusal::new(Code::InvalidAppId)),
    };
    if items.len() > MAX_BATCH_EVENTS {
        return ParsedStats::Answer(
            Refusal::new(Code::PayloadTooLarge).with_more_info("maxEvents", MAX_BATCH_EVENTS as u64),
        );
    }
    let Some(first) = items.first() else {
        return ParsedStats::Empty;
    };
    let app_id = match first.get("app_id").and_then(Value::as_str) {
        Some(app_id) if is_reverse_domain(app_id) => app_id.to_owned(),
        _ => return ParsedStats::Answer(Refusal::new(Code::InvalidAppId)),
    };
    if items.iter().any(|item| item.get("app_id").and_then(Value::as_str) != Some(app_id.as_str())) {
        return ParsedStats::Answer(Refusal::new(Code::MixedAppIds).with_more_info("app_id", app_id));
    }
    let events: Vec<_> = items.iter().map(StatsEvent::from_json).collect();
    if single && let Some(Err(refusal)) = events.first() {
        return ParsedStats::Answer(refusal.clone());
    }
    ParsedStats::Batch(StatsBatch { app_id, single, events })
}

/// The outcome of one event once the database has seen it.
#[derive(Debug, Clone, PartialEq)]
pub enum EventOutcome {
    Stored,
    /// Acknowledged and deliberately not stored (legacy `download_fail`).
    Ignored,
    Refused(Refusal),
}

/// Builds the answer body: `{"status":"ok"}` or the single event's refusal, or for a batch
/// `{"status":"ok","results":[…]}` with one entry per event in order.
pub fn response_body(single: bool, outcomes: &[EventOutcome]) -> Value {
    if single {
        return match outcomes.first() {
            Some(EventOutcome::Refused(refusal)) => refusal.to_json(),
            _ => json!({"status": "ok"}),
        };
    }
    let results: Vec<Value> = outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            EventOutcome::Stored | EventOutcome::Ignored => json!({"status": "ok", "index": index}),
            EventOutcome::Refused(refusal) => {
                let mut entry = refusal.to_json();
                entry["status"] = json!("error");
                entry["index"] = json!(index);
                entry
            }
        })
        .collect();
    json!({"status": "ok", "results": results})
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    fn event(overrides: Value) -> Value {
        let mut body = json!({
            "platform": "android", "device_id": "8E1C1A7E-3D6B-4E1E-9E8E-0C5B1D2A3F40",
            "app_id": "com.example.app", "version_build": "1.2", "version_os": "14",
            "version_name": "1.0.1", "old_version_name": "", "plugin_version": "8.51.14",
            "is_emulator": false, "is_prod": true, "action": "set", "timestamp": 1_764_000_000_000i64
        });
        for (k, v) in overrides.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    #[test]
    fn the_action_list_has_every_protocol_entry() {
        assert_eq!(PLUGIN_ACTIONS.len() + SERVER_ACTIONS.len(), 91);
        assert!(is_known_action("webview_page_loaded") && is_known_action("customIdBlocked"));
        assert!(!is_known_action("made_up"));
    }

    #[test]
    fn normalises_an_event() {
        let e =
            StatsEvent::from_json(&event(json!({"custom_id": "  user-1 ", "metadata": {"a": "b"}}))).unwrap();
        assert_eq!(e.device_id, "8e1c1a7e-3d6b-4e1e-9e8e-0c5b1d2a3f40");
        assert_eq!(e.version_build.unwrap().to_string(), "1.2.0");
        assert_eq!(e.custom_id.as_deref(), Some("user-1"));
        assert_eq!(e.old_version_name, None);
    }

    #[test]
    fn event_schema_failures() {
        for (field, value) in [
            ("device_id", json!("nope")),
            ("version_os", Value::Null),
            ("action", json!("made_up")),
            ("metadata", json!({"k": 1})),
            ("metadata", json!({"k": "v".repeat(2049)})),
            ("metadata", Value::Object((0..31).map(|i| (format!("k{i}"), json!("v"))).collect())),
            ("custom_id", json!("c".repeat(37))),
            ("is_prod", json!("yes")),
            ("timestamp", json!("now")),
        ] {
            let refusal = StatsEvent::from_json(&event(json!({ field: value }))).unwrap_err();
            assert_eq!(refusal.code, Code::InvalidJsonBody, "{field}");
        }
        let refusal = StatsEvent::from_json(&event(json!({"version_build": "1.2.3.4"}))).unwrap_err();
        assert_eq!(refusal.code, Code::SemverError);
    }

    #[test]
    fn body_level_checks() {
        assert!(
            matches!(parse_body(b"nope"), ParsedStats::Answer(r) if r.code == Code::InvalidJsonParseBody)
        );
        assert_eq!(parse_body(b"[]"), ParsedStats::Empty);
        let code = |body: Value| match parse_value(&body) {
            ParsedStats::Answer(r) => r.code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(json!([{"app_id": "bad"}])), Code::InvalidAppId);
        assert_eq!(
            code(json!([event(json!({})), event(json!({"app_id": "com.other.app"}))])),
            Code::MixedAppIds
        );
        assert_eq!(code(event(json!({"action": "made_up"}))), Code::InvalidJsonBody);
        assert_eq!(code(Value::Array(vec![event(json!({})); MAX_BATCH_EVENTS + 1])), Code::PayloadTooLarge);
        match parse_value(&json!([event(json!({})), event(json!({"action": "made_up"}))])) {
            ParsedStats::Batch(batch) => {
                assert!(!batch.single);
                assert!(batch.events[0].is_ok() && batch.events[1].is_err());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn legacy_download_fail_and_running_bundle_rules() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(counts_download_fail(Some(&v("7.17.0"))) && counts_download_fail(Some(&v("6.14.25"))));
        assert!(!counts_download_fail(Some(&v("7.16.9"))) && !counts_download_fail(Some(&v("6.14.24"))));
        assert!(!counts_download_fail(None));
        assert!(reports_running_bundle("set") && reports_running_bundle("app_launch_ready"));
        assert!(!reports_running_bundle("download_complete") && !reports_running_bundle("update_fail"));
        assert_eq!(bundle_name_of("1.0.2:assets/app.js"), "1.0.2");
        assert!(!needs_bundle("builtin") && needs_bundle("1.0.0"));
    }

    #[test]
    fn responses() {
        assert_eq!(response_body(true, &[EventOutcome::Stored]), json!({"status": "ok"}));
        let refused = EventOutcome::Refused(Refusal::new(Code::VersionNotFound));
        assert_eq!(response_body(true, std::slice::from_ref(&refused))["error"], "version_not_found");
        let body = response_body(false, &[EventOutcome::Ignored, refused]);
        assert_eq!(body["results"][0], json!({"status": "ok", "index": 0}));
        assert_eq!(body["results"][1]["status"], "error");
        assert_eq!(body["results"][1]["index"], 1);
        assert_eq!(body["results"][1]["error"], "version_not_found");
    }
}
