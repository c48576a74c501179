//! What the management operations answer. Field names and nullability are those the extension's
//! `api_*` functions build with `jsonb_build_object`; timestamps are ISO 8601 text.
//!
//! Each answer's schema lists every field and allows no other (`additionalProperties: false`), so
//! the end-to-end tests, which check every answer against the OpenAPI document, catch a field the
//! extension adds, renames or drops without its type here. Reading an answer stays lenient
//! (schemars' `deny_unknown_fields`, not serde's): a CLI still accepts the answers of a newer
//! server that only gained fields.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::requests::{DeployGuardAction, DisableAutoUpdate, Granularity, KeyMode, RolloutGuardAction};

/// Opaque cursor for the next page; null when there are no more results.
pub type Cursor = Option<String>;

/// An application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
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
#[schemars(deny_unknown_fields)]
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
#[schemars(deny_unknown_fields)]
pub struct Rollout {
    pub bundle: String,
    pub basis_points: i64,
    pub paused: bool,
}

/// A web bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
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
#[schemars(deny_unknown_fields)]
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
#[schemars(deny_unknown_fields)]
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
#[schemars(deny_unknown_fields)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The full key; returned only once.
    #[schemars(regex(pattern = r"^lu_[0-9a-f]{64}$"))]
    pub key: String,
}

/// An ed25519 public key that signs an app's bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
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
#[schemars(deny_unknown_fields)]
pub struct AppList {
    pub apps: Vec<App>,
}

/// An app's channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChannelList {
    pub channels: Vec<Channel>,
}

/// A page of bundles, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BundlePage {
    pub bundles: Vec<Bundle>,
    /// Opaque cursor for the next page; null when there are no more results.
    pub next_cursor: Cursor,
}

/// A page of devices, ordered by device_id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DevicePage {
    pub devices: Vec<Device>,
    /// Opaque cursor for the next page; null when there are no more results.
    pub next_cursor: Cursor,
}

/// An organization's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ApiKeyList {
    pub keys: Vec<ApiKey>,
}

/// An app's signing keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SigningKeyList {
    pub signing_keys: Vec<SigningKey>,
}

/// A device's channel assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DeviceChannel {
    #[schemars(extend("format" = "uuid"))]
    pub device_id: String,
    pub channel: String,
}

/// The object was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Deleted {
    #[schemars(extend("const" = true))]
    pub deleted: bool,
}

/// Whether an assignment existed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Removed {
    pub removed: bool,
}

/// The key was revoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Revoked {
    #[schemars(extend("const" = true))]
    pub revoked: bool,
}

/// A channel's deployments, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChannelHistory {
    pub deploys: Vec<Deploy>,
}

/// Why a channel's bundle changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeployReason {
    /// The channel's first bundle.
    Created,
    Deploy,
    /// A rollback (rollbackChannel).
    Rollback,
    /// The failure guard rolled the channel back.
    Guard,
}

/// One deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Deploy {
    /// The bundle before (a version or builtin); null for the channel's first.
    pub from: Option<String>,
    /// The bundle after (a version or builtin).
    pub to: Option<String>,
    /// The signing key that signed the bundle after, if any.
    pub to_signed_by: Option<String>,
    pub reason: DeployReason,
    #[schemars(extend("format" = "date-time"))]
    pub deployed_at: String,
    /// key:<id>, user:<sub>, role:<name>, or guard (the failure guard).
    pub deployed_by: String,
}

/// A channel's failure-guard settings and its latest decisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChannelGuard {
    pub settings: GuardSettings,
    /// The guard's decisions on the channel, newest first (at most `limit`, default 100).
    pub decisions: Vec<GuardDecision>,
}

/// When the failure guard acts on a channel, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GuardSettings {
    /// What the guard does when the channel's deployed bundle fails too often.
    pub deploy_action: DeployGuardAction,
    /// What the guard does when the rollout's bundle fails too often.
    pub rollout_action: RolloutGuardAction,
    /// The share of devices failing that is too many, compared with the Wilson lower bound.
    pub max_failure_rate: f64,
    /// Two-sided confidence of the Wilson interval (0.95: z = 1.96).
    pub confidence: f64,
    /// Devices that must have tried the bundle before judging.
    pub min_attempts: i64,
    /// Devices that must have reported a failure before acting.
    pub min_failures: i64,
    /// Reports of the last window_minutes count.
    pub window_minutes: i64,
    /// A deployment is watched for this long after it was made; rollouts for as long as they run.
    pub watch_minutes: i64,
    /// After a decision on the channel, none for this long.
    pub cooldown_minutes: i64,
}

/// What the failure guard judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardTarget {
    /// The channel's deployed bundle.
    Deploy,
    /// The channel's rollout bundle.
    Rollout,
}

/// What the failure guard did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardAction {
    /// Recorded only.
    Alert,
    Pause,
    Rollback,
}

/// One decision of the failure guard: what it judged and what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GuardDecision {
    pub id: i64,
    pub target: GuardTarget,
    /// The bundle judged.
    pub version_name: String,
    /// The rollout judged, for target rollout.
    pub rollout_id: Option<i64>,
    pub action: GuardAction,
    /// What happened, in words (rolled back to 1.2.0, rollout paused, alert only, or why the
    /// action could not be taken).
    pub outcome: String,
    /// Devices that installed the bundle or reported it failing within the window.
    pub attempts: i64,
    /// Of those, devices that reported a failure.
    pub failures: i64,
    /// Wilson lower bound of failures/attempts at the confidence.
    pub lower_bound: f64,
    /// The channel's limit at the time.
    pub max_failure_rate: f64,
    /// The confidence used.
    pub confidence: f64,
    /// Reports received since this time were counted.
    #[schemars(extend("format" = "date-time"))]
    pub counted_since: String,
    #[schemars(extend("format" = "date-time"))]
    pub decided_at: String,
}

/// An app's statistics for a range of UTC days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AppStats {
    pub app_id: String,
    pub granularity: Granularity,
    /// First UTC day.
    #[schemars(extend("format" = "date"))]
    pub from: String,
    /// Last UTC day, inclusive.
    #[schemars(extend("format" = "date"))]
    pub to: String,
    /// Every event received before it is counted; null before the statistics were first
    /// aggregated.
    #[schemars(extend("format" = "date-time"))]
    pub fresh_until: Option<String>,
    /// One per day or hour of the range, in order.
    pub periods: Vec<StatsPeriod>,
}

/// An app's figures for one UTC day or hour. Gets, installs, fails, uninstalls and bandwidth
/// count production builds on real devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct StatsPeriod {
    #[schemars(extend("format" = "date-time"))]
    pub start: String,
    /// Distinct devices that reported in the period.
    pub active_devices: i64,
    /// Day granularity: the month's distinct devices to date; null per hour.
    pub monthly_active_devices: Option<i64>,
    pub events: i64,
    pub gets: i64,
    pub installs: i64,
    pub fails: i64,
    pub uninstalls: i64,
    /// Gets × zip size.
    pub bandwidth_bytes: i64,
    /// Bytes sent by this gateway's /files.
    pub served_bytes: i64,
    /// Bytes of the stored objects the app's bundles use, as last measured that day; null per
    /// hour, or when not measured that day.
    pub storage_bytes: Option<i64>,
    /// Per bundle, by version.
    pub versions: Vec<VersionStats>,
    /// Per channel, by name.
    pub channels: Vec<ChannelStats>,
}

/// One bundle's figures in a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VersionStats {
    /// The bundle's version, or builtin.
    pub version: String,
    pub gets: i64,
    pub installs: i64,
    pub fails: i64,
    pub uninstalls: i64,
    pub bandwidth_bytes: i64,
    /// Distinct devices that reported running it that day; null when none did.
    pub devices: Option<i64>,
    /// devices / the day's active devices (4 decimals); null when either is unknown or zero.
    pub adoption: Option<f64>,
}

/// One channel's figures in a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChannelStats {
    /// The devices' effective channel when the events were counted; empty when none.
    pub channel: String,
    pub gets: i64,
    pub installs: i64,
    pub fails: i64,
    pub uninstalls: i64,
    pub bandwidth_bytes: i64,
}

/// Every app the key can see, by app_id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AppsOverview {
    pub apps: Vec<AppOverview>,
}

/// The rights of the caller on an app: read < upload < write < admin (a key of mode all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rights {
    Read,
    Upload,
    Write,
    Admin,
}

/// An app with the caller's rights on it, its activity and health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AppOverview {
    #[serde(flatten)]
    pub app: App,
    pub rights: Rights,
    /// Devices seen since 00:00 UTC.
    pub active_today: i64,
    /// Devices seen in the last 30 days.
    pub active_30_days: i64,
    /// The newest bundle not deleted; null when there is none.
    pub newest_bundle: Option<NewestBundle>,
    /// Installs and failures of production builds on real devices in the last 24 hours, as
    /// fresh as the statistics.
    pub last_day: LastDay,
}

/// An app's newest bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NewestBundle {
    pub version: String,
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
}

/// An app's installs and failures in the last 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LastDay {
    pub installs: i64,
    pub fails: i64,
    /// fails / (installs + fails), 4 decimals; null when both are zero.
    pub failure_rate: Option<f64>,
}

/// A channel's devices by the bundle they run. A device is the channel's by its override, else
/// its defaultChannel, else its platform's public channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChannelDevices {
    pub channel: String,
    /// Devices seen since then are counted.
    #[schemars(extend("format" = "date-time"))]
    pub since: String,
    /// All of them.
    pub devices: i64,
    /// Most devices first.
    pub bundles: Vec<BundleShare>,
}

/// How many of a channel's devices run a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BundleShare {
    /// The bundle's version, or builtin.
    pub version: String,
    pub devices: i64,
    /// devices / the channel's devices, 4 decimals.
    pub share: f64,
}

/// A bundle's manifest, by file name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BundleFiles {
    pub files: Vec<BundleFile>,
}

/// One file of a bundle's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BundleFile {
    /// Path inside the bundle, with a .br suffix when the stored file is brotli-compressed.
    pub file_name: String,
    /// SHA-256 hex of the original file, or its RSA-encrypted form for encrypted bundles.
    pub file_hash: String,
    /// Where the file is hosted elsewhere; null for a file stored by this server.
    #[schemars(extend("format" = "uri"))]
    pub download_url: Option<String>,
}

/// A page of an app's device events, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct EventPage {
    pub events: Vec<DeviceEvent>,
    /// Opaque cursor for the next page; null when there are no more results.
    pub next_cursor: Cursor,
}

/// A device event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DeviceEvent {
    /// When the server stored it.
    #[schemars(extend("format" = "date-time"))]
    pub received_at: String,
    #[schemars(extend("format" = "uuid"))]
    pub device_id: String,
    /// The plugin's stats action (set, update_fail, app_launch_ready, ...) or a server-side one
    /// (customIdBlocked).
    pub action: String,
    /// The bundle the event is about ("<version>:<file>" for per-file failures), "unknown" when
    /// empty.
    pub version_name: String,
    /// The previous bundle, for set and reset.
    pub old_version_name: Option<String>,
    /// As reported by the device.
    pub platform: Option<String>,
    pub plugin_version: Option<String>,
    pub is_prod: bool,
    pub is_emulator: bool,
    /// The device's own clock for the event, when sent.
    #[schemars(extend("format" = "date-time"))]
    pub device_time: Option<String>,
    /// The event's string map (at most 30 keys), when sent.
    pub metadata: Option<BTreeMap<String, String>>,
}

/// What POST /updates would answer a device, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdatePreview {
    pub request: PreviewedCheck,
    pub answer: UpdateAnswer,
    pub why: UpdateWhy,
}

/// The update check previewed: the body given, with the app_id of the path. Its other fields
/// are the caller's, echoed as sent (the plugin's fields, and whatever else /updates ignores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PreviewedCheck {
    pub app_id: String,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// The body POST /updates would send (protocol.md §1.2, §2.5): a bundle to download, the
/// builtin bundle, or a refusal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum UpdateAnswer {
    Offer(UpdateOffer),
    Refusal(UpdateRefusal),
    Builtin(RevertToBuiltin),
}

/// A bundle to download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateOffer {
    pub version: String,
    /// The zip's URL.
    #[schemars(extend("format" = "uri"))]
    pub url: String,
    /// "<iv>:<key>" for encrypted bundles, else empty.
    pub session_key: String,
    /// The zip's checksum; may be empty.
    pub checksum: String,
    /// The files, for plugins that download file by file; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<OfferedFile>")]
    pub manifest: Option<Vec<OfferedFile>>,
    /// Sent when the app exposes metadata and the plugin shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub link: Option<String>,
    /// Sent when the app exposes metadata and the plugin shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub comment: Option<String>,
}

/// One file of an offered bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct OfferedFile {
    pub file_name: String,
    pub file_hash: String,
    #[schemars(extend("format" = "uri"))]
    pub download_url: String,
}

/// How the plugin treats a refusal: only failed counts as a failed download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    UpToDate,
    Blocked,
    Failed,
}

/// No update: a stable code (protocol.md §2.5) and a message; kind for the refusals /updates
/// sends with 200, moreInfo for a malformed check (sent with 400).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateRefusal {
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "UpdateKind")]
    pub kind: Option<UpdateKind>,
    /// Details of a malformed check; they depend on the code.
    #[serde(default, rename = "moreInfo", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Map<String, Value>")]
    pub more_info: Option<Map<String, Value>>,
    /// The bundle refused (or builtin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub version: Option<String>,
    /// The version the refusal compared against (the device's bundle or native version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub old: Option<String>,
    /// A major upgrade was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub major: Option<bool>,
    /// key_id_mismatch: the device's public key.
    #[serde(default, rename = "deviceKeyId", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub device_key_id: Option<String>,
    /// key_id_mismatch: the key the bundle was encrypted for.
    #[serde(default, rename = "bundleKeyId", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub bundle_key_id: Option<String>,
}

/// Makes a plugin from 6.2.0 reset to the bundle shipped in the native app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RevertToBuiltin {
    #[schemars(extend("const" = "builtin"))]
    pub version: String,
}

/// How a device's channel was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelVia {
    /// The device's channel assignment.
    Override,
    /// The channel the device names (public or self-settable, and on for its platform).
    DefaultChannel,
    /// Its platform's public channel.
    Public,
    /// No channel.
    None,
}

/// Why the update check gets its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateWhy {
    pub via: ChannelVia,
    /// The channel chosen; null for via none.
    pub channel: Option<String>,
    /// The bundle the channel serves (or builtin); null for via none.
    pub channel_bundle: Option<String>,
    /// The channel's rollout; null when it runs none.
    pub rollout: Option<RolloutPlace>,
}

/// Where a device stands in a channel's rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RolloutPlace {
    pub bundle: String,
    pub basis_points: i64,
    pub paused: bool,
    /// The device's bucket (0-9999), fixed by its id and the rollout; null when device_id is
    /// not a UUID.
    #[schemars(range(min = 0, max = 9999))]
    pub device_bucket: Option<i64>,
    /// The bucket is below basis_points and the rollout is not paused.
    pub inside: bool,
    /// The device already runs the rollout's bundle (and stays on it while the rollout lasts);
    /// null when the check has no version_name.
    pub already_on_it: Option<bool>,
}

/// What every refusal answers: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "Error", deny_unknown_fields)]
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use serde_json::json;

    use super::*;

    /// Untagged variants are tried in order: a refusal that names builtin as its version (the
    /// device already runs it) is a refusal, not the body that resets a device to builtin.
    #[test]
    fn update_answers_read_as_what_they_are() {
        let offer =
            json!({"version": "1.0.0", "url": "https://cdn.test/1.zip", "session_key": "", "checksum": ""});
        assert!(matches!(serde_json::from_value(offer).unwrap(), UpdateAnswer::Offer(_)));
        let up_to_date = json!({"error": "already_on_builtin", "message": "m", "kind": "up_to_date", "version": "builtin"});
        assert!(matches!(serde_json::from_value(up_to_date).unwrap(), UpdateAnswer::Refusal(_)));
        let malformed = json!({"error": "missing_device_id", "message": "m", "moreInfo": {}});
        assert!(matches!(serde_json::from_value(malformed).unwrap(), UpdateAnswer::Refusal(_)));
        let reset = json!({"version": "builtin"});
        assert!(matches!(serde_json::from_value(reset.clone()).unwrap(), UpdateAnswer::Builtin(_)));
        let answer: UpdateAnswer = serde_json::from_value(reset.clone()).unwrap();
        assert_eq!(serde_json::to_value(answer).unwrap(), reset, "absent fields stay absent");
    }

    /// The checked request is echoed whole: its fields beyond app_id are the caller's.
    #[test]
    fn a_previewed_check_keeps_every_field() {
        let check = json!({"app_id": "com.example.app", "device_id": "x", "custom": [1]});
        let read: PreviewedCheck = serde_json::from_value(check.clone()).unwrap();
        assert_eq!((read.app_id.as_str(), read.fields.len()), ("com.example.app", 2));
        assert_eq!(serde_json::to_value(read).unwrap(), check);
    }
}
