//! Device telemetry (`POST /stats`, protocol.md §5): parsing and validating batches, and the rules
//! that decide what each event changes.

use serde_json::{Map, Value, json};

pub use crate::actions::{CUSTOM_ID_BLOCKED, is_known_action};
use crate::answer::{Code, Refusal};
use crate::fields::{
    FieldSpec, Platform, Rule, TEXT, check_schema, flag, is_reverse_domain, native_version, optional,
    required, schema_error, text,
};
use crate::plugin::{Client, PluginVersion};
use crate::version::{self, Version};

/// Largest stats body accepted; the plugin queues at most 200 events (about 100 KiB).
pub const MAX_STATS_BODY_BYTES: usize = 1024 * 1024;
/// Most events accepted in one batch.
pub const MAX_BATCH_EVENTS: usize = 500;

/// The stats event schema, protocol.md §5.3, in the order its fields are checked.
pub const STATS_SCHEMA: &[FieldSpec] = &[
    required("app_id", Rule::ReverseDomain),
    required("device_id", Rule::Uuid),
    optional("version_build", Rule::NativeVersion { non_empty: false }),
    required("version_os", TEXT),
    required("platform", TEXT),
    required("version_name", TEXT),
    optional("action", Rule::StatsAction),
    optional("plugin_version", TEXT),
    optional("is_emulator", Rule::Flag),
    optional("is_prod", Rule::Flag),
    optional("metadata", Rule::Metadata),
    optional("custom_id", Rule::Text { max: 36, non_empty: false }),
    optional("key_id", Rule::Text { max: 20, non_empty: false }),
    optional("install_source", Rule::Text { max: 64, non_empty: false }),
    optional("old_version_name", TEXT),
    optional("version_code", TEXT),
    optional("defaultChannel", TEXT),
    optional("channel", TEXT),
];

/// Device timestamps outside 2000-2100 are dropped (kept events, no device time).
const PLAUSIBLE_FROM_MS: i64 = 946_684_800_000;
const PLAUSIBLE_UNTIL_MS: i64 = 4_102_444_800_000;

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

/// Whether a `download_fail` from this client means a failed download. Old Capacitor plugins sent
/// it when there was simply no update; a plugin version that is not semver (it is a free string
/// in stats) is taken as such an old one.
pub fn counts_download_fail(platform: &str, plugin_version: Option<&str>) -> bool {
    let client = Platform::parse(platform).map_or(Client::Capacitor, Client::of);
    plugin_version
        .and_then(|text| version::parse_strict(text).ok())
        .is_some_and(|version| PluginVersion::new(client, version).reports_real_download_failures())
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
    /// Any string: the stats schema does not limit it to known platforms.
    pub platform: String,
    /// As sent: a free string in stats.
    pub plugin_version: Option<String>,
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
        check_schema(body, STATS_SCHEMA)?;
        let owned = |key: &str| text(body, key).map(str::to_owned);
        Ok(StatsEvent {
            app_id: owned("app_id").unwrap_or_default(),
            device_id: text(body, "device_id").unwrap_or_default().to_lowercase(),
            action: owned("action").unwrap_or_else(|| "unknown".to_owned()),
            version_name: owned("version_name").unwrap_or_default(),
            old_version_name: owned("old_version_name"),
            platform: owned("platform").unwrap_or_default(),
            plugin_version: owned("plugin_version"),
            version_build: text(body, "version_build").map(native_version).transpose()?,
            version_os: owned("version_os").unwrap_or_default(),
            version_code: owned("version_code"),
            is_emulator: flag(body, "is_emulator", false),
            is_prod: flag(body, "is_prod", true),
            custom_id: text(body, "custom_id").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
            key_id: owned("key_id"),
            install_source: text(body, "install_source")
                // ASCII only: Unicode lowercasing can lengthen the text past the field's limit.
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty()),
            default_channel: owned("defaultChannel"),
            metadata: body.get("metadata").and_then(Value::as_object).cloned(),
            timestamp: body.get("timestamp").and_then(device_time_ms),
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
            "plugin_version": self.plugin_version,
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
        self.action == "download_fail"
            && !counts_download_fail(&self.platform, self.plugin_version.as_deref())
    }
}

/// The device clock in epoch milliseconds. A clock years off, or a value that is no number, is the
/// device's problem, not a reason to refuse the event: it is kept without a device time.
fn device_time_ms(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    n.as_i64()
        .or_else(|| n.as_f64().map(|f| f as i64))
        .filter(|ms| (PLAUSIBLE_FROM_MS..PLAUSIBLE_UNTIL_MS).contains(ms))
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

    /// Caught by the stats fuzz target's check that a stored row validates again: Unicode lowercasing
    /// lengthened 40 'İ' to 80 characters, over the field's limit of 64.
    #[test]
    fn install_source_stays_within_its_limit_once_normalised() {
        let e = StatsEvent::from_json(&event(json!({"install_source": " Google_\u{130}\u{130} "}))).unwrap();
        assert_eq!(e.install_source.as_deref(), Some("google_\u{130}\u{130}"));
        let long = StatsEvent::from_json(&event(json!({"install_source": "\u{130}".repeat(40)}))).unwrap();
        assert_eq!(long.install_source.map(|s| s.chars().count()), Some(40));
    }

    #[test]
    fn plugin_version_is_a_free_string() {
        let e = StatsEvent::from_json(&event(
            json!({"action": "download_fail", "plugin_version": "not-a-version", "version_name": "unknown"}),
        ))
        .unwrap();
        assert_eq!(e.plugin_version.as_deref(), Some("not-a-version"));
        assert!(e.is_ignored(), "taken as an old plugin's 'no update' download_fail");
    }

    #[test]
    fn platform_and_version_name_are_required_strings() {
        for field in ["platform", "version_name"] {
            let mut body = event(json!({}));
            body.as_object_mut().unwrap().remove(field);
            let refusal = StatsEvent::from_json(&body).unwrap_err();
            assert_eq!(refusal.code, Code::InvalidJsonBody, "{field}");
            assert_eq!(refusal.more_info["parseResult"]["field"], field);
        }
        let e = StatsEvent::from_json(&event(json!({"version_name": "", "platform": "windows"}))).unwrap();
        assert_eq!((e.version_name.as_str(), e.platform.as_str()), ("", "windows"));
    }

    #[test]
    fn a_device_time_that_is_no_number_is_dropped_not_refused() {
        assert_eq!(StatsEvent::from_json(&event(json!({"timestamp": "now"}))).unwrap().timestamp, None);
        assert_eq!(StatsEvent::from_json(&event(json!({}))).unwrap().timestamp, Some(1_764_000_000_000));
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
            ("platform", Value::Null),
            ("version_name", Value::Null),
            ("version_name", json!("1.0.1\u{0}")),
            ("custom_id", json!("a\u{0}")),
            ("metadata", json!({"k": "v\u{0}"})),
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
        assert!(
            counts_download_fail("android", Some("7.17.0")) && counts_download_fail("ios", Some("6.14.25"))
        );
        assert!(
            !counts_download_fail("android", Some("7.16.9")) && !counts_download_fail("ios", Some("6.14.24"))
        );
        assert!(!counts_download_fail("android", None));
        assert!(!counts_download_fail("android", Some("not-a-version")), "a free string: an old plugin");
        assert!(counts_download_fail("electron", Some("0.0.1")), "the Electron updater's own line");
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
