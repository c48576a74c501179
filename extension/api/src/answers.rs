//! What the management operations answer. Field names and nullability are those the extension's
//! `api_*` functions build with `jsonb_build_object`; timestamps are ISO 8601 text.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::requests::{DisableAutoUpdate, KeyMode};

/// Opaque cursor for the next page; null when there are no more results.
pub type Cursor = Option<String>;

/// An application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct App {
    /// Reverse-domain application identifier.
    #[schemars(extend("examples" = ["com.example.app"]))]
    pub app_id: String,
    pub name: String,
    pub organization_id: i64,
    /// Include link and comment in update answers sent to devices.
    pub expose_metadata: bool,
    /// Devices may report a custom identifier.
    pub allow_custom_id: bool,
    /// Days a deleted bundle is kept before purge; 0 keeps it forever.
    #[schemars(range(min = 0))]
    pub bundle_retention_days: i64,
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
    /// Only bundles signed by one of the app's signing keys are accepted.
    #[serde(default)]
    pub require_signature: bool,
}

/// A release channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Channel {
    pub name: String,
    /// Bundle version the channel serves, or "builtin" for the bundle shipped in the native app.
    #[schemars(extend("examples" = ["1.4.2", "builtin"]))]
    pub bundle: String,
    /// Default channel of its platforms; one public channel per platform.
    pub public: bool,
    /// Serve iOS devices.
    pub ios: bool,
    /// Serve Android devices.
    pub android: bool,
    /// Serve Electron clients.
    pub electron: bool,
    /// Devices may select it themselves.
    pub allow_device_self_set: bool,
    /// Serve emulators and simulators.
    pub allow_emulator: bool,
    /// Serve physical devices.
    pub allow_device: bool,
    /// Serve development builds.
    pub allow_dev: bool,
    /// Serve production builds.
    pub allow_prod: bool,
    pub disable_auto_update: DisableAutoUpdate,
    /// Skip bundles older than the native build.
    pub disable_auto_update_under_native: bool,
    /// When the served bundle last changed.
    #[schemars(extend("format" = "date-time"))]
    pub bundle_changed_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
    /// The channel's progressive rollout: bundle served to basis_points/10000 of its devices
    /// (fixed by device id and rollout), paused or not.
    #[serde(default)]
    pub rollout: Option<Rollout>,
}

/// A channel's progressive rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rollout {
    pub bundle: String,
    pub basis_points: i64,
    pub paused: bool,
}

/// A web bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Bundle {
    /// Semantic version of a bundle.
    #[schemars(extend("examples" = ["1.4.2"]))]
    pub version: String,
    /// Checksum of the zip; may be empty.
    pub checksum: String,
    pub encrypted: bool,
    pub key_id: Option<String>,
    #[schemars(extend("format" = "uri"))]
    pub external_url: Option<String>,
    pub min_update_version: Option<String>,
    pub link: Option<String>,
    pub comment: Option<String>,
    /// Number of files in the manifest.
    #[schemars(range(min = 0))]
    pub manifest_count: i64,
    /// Size of the stored zip in bytes; null when unknown (a bundle registered by external_url).
    #[serde(default)]
    pub archive_bytes: Option<i64>,
    /// Channels currently serving this bundle.
    pub channels: Vec<String>,
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub deleted_at: Option<String>,
    /// Name of the signing key that signed the bundle.
    #[serde(default)]
    pub signed_by: Option<String>,
    /// Ed25519 signature (base64) of the app id, version and checksum.
    #[serde(default)]
    pub signature: Option<String>,
}

/// A device that has checked in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Device {
    #[schemars(extend("format" = "uuid"))]
    pub device_id: String,
    pub platform: String,
    pub plugin_version: String,
    /// Native build version.
    pub version_build: String,
    /// Bundle version the device runs.
    pub version: String,
    pub version_code: Option<String>,
    pub version_os: Option<String>,
    pub is_prod: bool,
    pub is_emulator: bool,
    pub install_source: Option<String>,
    pub custom_id: Option<String>,
    pub default_channel: Option<String>,
    /// Channel the device is assigned to, if any.
    pub channel_override: Option<String>,
    #[schemars(extend("format" = "date-time"))]
    pub first_seen_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub last_seen_at: String,
}

/// An API key without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiKey {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    /// First 10 characters of the key.
    pub prefix: String,
    pub mode: KeyMode,
    /// Apps the key is limited to; null means every app of the organization.
    pub apps: Option<Vec<String>>,
    #[schemars(extend("format" = "date-time"))]
    pub expires_at: Option<String>,
    /// Last successful use, at one-minute resolution.
    #[schemars(extend("format" = "date-time"))]
    pub last_used_at: Option<String>,
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub revoked_at: Option<String>,
}

/// A freshly created key, including the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The full key; returned only once.
    #[schemars(regex(pattern = r"^lu_[0-9a-f]{64}$"))]
    pub key: String,
}

/// An ed25519 public key that signs an app's bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SigningKey {
    pub name: String,
    /// Ed25519 public key, 32 bytes, base64.
    pub public_key: String,
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub revoked_at: Option<String>,
}

/// Visible apps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppList {
    pub apps: Vec<App>,
}

/// An app's channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChannelList {
    pub channels: Vec<Channel>,
}

/// A page of bundles, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BundlePage {
    pub bundles: Vec<Bundle>,
    /// Opaque cursor for the next page; null when there are no more results.
    pub next_cursor: Cursor,
}

/// A page of devices, ordered by device_id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DevicePage {
    pub devices: Vec<Device>,
    /// Opaque cursor for the next page; null when there are no more results.
    pub next_cursor: Cursor,
}

/// An organization's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiKeyList {
    pub keys: Vec<ApiKey>,
}

/// An app's signing keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SigningKeyList {
    pub signing_keys: Vec<SigningKey>,
}

/// A device's channel assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceChannel {
    #[schemars(extend("format" = "uuid"))]
    pub device_id: String,
    pub channel: String,
}

/// The object was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deleted {
    #[schemars(extend("const" = true))]
    pub deleted: bool,
}

/// Whether an assignment existed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Removed {
    pub removed: bool,
}

/// The key was revoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Revoked {
    #[schemars(extend("const" = true))]
    pub revoked: bool,
}

/// A channel's deployments, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChannelHistory {
    pub deploys: Vec<Deploy>,
}

/// One deployment: from, to (bundle versions or builtin), to_signed_by, deployed_at, deployed_by
/// (key:<id>, user:<sub> or role:<name>).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deploy {
    pub from: Option<String>,
    pub to: Option<String>,
    pub to_signed_by: Option<String>,
    #[schemars(extend("format" = "date-time"))]
    pub deployed_at: String,
    pub deployed_by: String,
}

/// Answers whose shape the extension builds freely; each type's documentation lists its fields.
macro_rules! open_objects {
    ($($(#[doc = $doc:literal])* $name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub Map<String, Value>);
    )*};
}

open_objects! {
    /// settings (deploy_action, rollout_action, max_failure_rate, confidence, min_attempts,
    /// min_failures, window_minutes, watch_minutes, cooldown_minutes) and decisions, newest first:
    /// target (deploy or rollout), version_name, action, outcome, attempts, failures, lower_bound,
    /// max_failure_rate, confidence, counted_since, decided_at.
    ChannelGuard;
    /// {app_id, granularity, from, to, fresh_until (every event received before it is counted),
    /// periods: [{start, active_devices, monthly_active_devices (day: the month's distinct devices
    /// to date), events, gets, installs, fails, uninstalls, bandwidth_bytes (gets × zip size),
    /// served_bytes (sent by this gateway's /files), storage_bytes (day), versions: [{version,
    /// gets, installs, fails, uninstalls, bandwidth_bytes, devices, adoption}], channels:
    /// [{channel, gets, installs, fails, uninstalls, bandwidth_bytes}]}]}.
    AppStats;
    /// {apps: [app fields, rights (read|upload|write|admin: the key's on the app), active_today
    /// (devices seen since 00:00 UTC), active_30_days, newest_bundle: {version, created_at} |
    /// null, last_day: {installs, fails, failure_rate | null} (production builds, last 24
    /// hours)]}.
    AppsOverview;
    /// {channel, since, devices, bundles: [{version, devices, share}]}. A device is the channel's
    /// by its override, else its defaultChannel, else its platform's public channel.
    ChannelDevices;
    /// {files: [{file_name, file_hash, download_url}]}, by file name.
    BundleFiles;
    /// {events: [{received_at, device_id, action, version_name, old_version_name, platform,
    /// plugin_version, is_prod, is_emulator, device_time, metadata}], next_cursor}.
    EventPage;
    /// {request, answer (the body /updates would send: a bundle, builtin or {error, message}),
    /// why: {via: override|default_channel|public|none, channel, channel_bundle, rollout:
    /// {bundle, basis_points, paused, device_bucket, inside, already_on_it} | null}}.
    UpdatePreview;
}

/// What every refusal answers: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "Error")]
pub struct Refusal {
    /// Stable machine-readable code.
    #[schemars(extend("enum" = [
        "invalid_request", "invalid_api_key", "forbidden", "not_found", "method_not_allowed",
        "conflict", "invalid_state", "payload_too_large", "too_many_failed_authentications",
        "database_unavailable", "unknown_error", "invalid_archive", "unsafe_path",
        "symlink_in_archive", "duplicate_path", "header_mismatch", "missing_index_html",
        "archive_too_large", "incomplete_upload", "invalid_encoding", "unsupported_encoding",
        "request_timeout", "signature_required", "invalid_signature", "checksum_mismatch",
        "insufficient_storage"
    ]))]
    pub error: String,
    /// Human-readable explanation; wording may change.
    pub message: String,
}
