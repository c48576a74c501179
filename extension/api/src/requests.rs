//! What the management operations accept: one type per distinct field list of the extension's
//! `api_*` functions (`liveupdate._input(input, '{...}')`). Path parameters are fields too; GET
//! and DELETE take the others from the query string, the other methods from the JSON body.
//! Optional fields are left out when `None` (the extension tells "absent" from null).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest version jump a device may not take automatically ("none" allows every update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisableAutoUpdate {
    Major,
    Minor,
    Patch,
    VersionNumber,
    None,
}

/// Rights of a key, each level including the previous ones: read < upload < write < all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    Read,
    Upload,
    Write,
    All,
}

/// No input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

/// An app, by its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppRef {
    /// Application identifier (percent-encoded).
    pub app_id: String,
}

/// A channel, by its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRef {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Channel name (percent-encoded).
    pub channel: String,
}

/// A bundle, by its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleRef {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Bundle version (percent-encoded).
    pub version: String,
}

/// A device, by its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRef {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Device identifier.
    #[schemars(extend("format" = "uuid"))]
    pub device_id: String,
}

/// A channel's latest records (deployments or failure-guard decisions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRecords {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Channel name (percent-encoded).
    pub channel: String,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1, max = 1000), extend("default" = 100))]
    pub limit: Option<u32>,
}

/// A new app. Requires write rights on the whole organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppRequest {
    /// Reverse-domain application identifier.
    #[schemars(extend("examples" = ["com.example.app"]))]
    pub app_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub name: Option<String>,
    /// Defaults to the key's organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64")]
    pub organization_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = false))]
    pub expose_metadata: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub allow_custom_id: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 0, max = 36500))]
    pub bundle_retention_days: Option<u32>,
}

/// An app's new settings; omitted ones are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAppRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub expose_metadata: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub allow_custom_id: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 0, max = 36500))]
    pub bundle_retention_days: Option<u32>,
    /// Require signed bundles. Changing it needs admin rights (mode all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub require_signature: Option<bool>,
}

/// A new channel. Requires write rights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    #[schemars(length(min = 1, max = 128))]
    pub name: String,
    /// Bundle version or "builtin".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("default" = "builtin"))]
    pub bundle: Option<String>,

    /// Default channel of its platforms; one public channel per platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = false))]
    pub public: Option<bool>,
    /// Serve iOS devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub ios: Option<bool>,
    /// Serve Android devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub android: Option<bool>,
    /// Serve Electron clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub electron: Option<bool>,
    /// Devices may select it themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = false))]
    pub allow_device_self_set: Option<bool>,
    /// Serve emulators and simulators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub allow_emulator: Option<bool>,
    /// Serve physical devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub allow_device: Option<bool>,
    /// Serve development builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub allow_dev: Option<bool>,
    /// Serve production builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub allow_prod: Option<bool>,
    /// Largest version jump a device may not take automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DisableAutoUpdate", extend("default" = "major"))]
    pub disable_auto_update: Option<DisableAutoUpdate>,
    /// Skip bundles older than the native build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = true))]
    pub disable_auto_update_under_native: Option<bool>,
}

/// A channel's new name, bundle or settings; omitted ones are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Channel name (percent-encoded).
    pub channel: String,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1, max = 128))]
    pub name: Option<String>,
    /// Bundle version to deploy; "builtin" or null reverts to the native bundle. Devices follow
    /// at their next check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<Option<String>>,

    /// Default channel of its platforms; one public channel per platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub public: Option<bool>,
    /// Serve iOS devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub ios: Option<bool>,
    /// Serve Android devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub android: Option<bool>,
    /// Serve Electron clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub electron: Option<bool>,
    /// Devices may select it themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub allow_device_self_set: Option<bool>,
    /// Serve emulators and simulators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub allow_emulator: Option<bool>,
    /// Serve physical devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub allow_device: Option<bool>,
    /// Serve development builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub allow_dev: Option<bool>,
    /// Serve production builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub allow_prod: Option<bool>,
    /// Largest version jump a device may not take automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DisableAutoUpdate")]
    pub disable_auto_update: Option<DisableAutoUpdate>,
    /// Skip bundles older than the native build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub disable_auto_update_under_native: Option<bool>,
}

/// What a rollout action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RolloutAction {
    Start,
    Set,
    Pause,
    Resume,
    Promote,
    Abandon,
}

/// A rollout action: start {bundle, basis_points} draws a new sample of devices; set
/// {basis_points}: raising only adds devices, lowering only removes those above the line;
/// promote makes the rollout's bundle the channel's (a deploy in its history); abandon ends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Channel name (percent-encoded).
    pub channel: String,
    pub action: RolloutAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub bundle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 0, max = 10000))]
    pub basis_points: Option<u32>,
}

/// What the failure guard does when a deployment fails too often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeployGuardAction {
    Off,
    Alert,
    Rollback,
}

/// What the failure guard does when a rollout fails too often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RolloutGuardAction {
    Off,
    Alert,
    Pause,
    Rollback,
}

/// A channel's failure-guard settings; omitted settings are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetChannelGuardRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Channel name (percent-encoded).
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DeployGuardAction")]
    pub deploy_action: Option<DeployGuardAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "RolloutGuardAction")]
    pub rollout_action: Option<RolloutGuardAction>,
    /// A number strictly between 0 and 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    pub max_failure_rate: Option<f64>,
    /// A number strictly between 0 and 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    pub confidence: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1))]
    pub min_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1))]
    pub min_failures: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1, max = 10080))]
    pub window_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1, max = 43200))]
    pub watch_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 0, max = 10080))]
    pub cooldown_minutes: Option<u32>,
}

/// A channel's devices seen since a moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelDevicesRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Channel name (percent-encoded).
    pub channel: String,
    /// ISO 8601 timestamp; devices seen since then. Default: the rollout's start, else 24 hours
    /// ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub since: Option<String>,
}

/// The step of an app's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Hour,
}

/// A range of UTC days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppStatsRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// First UTC day, YYYY-MM-DD.
    #[schemars(extend("format" = "date"))]
    pub from: String,
    /// Last UTC day, inclusive.
    #[schemars(extend("format" = "date"))]
    pub to: String,
    /// day (at most 400 days) or hour (at most 31 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Granularity", extend("default" = "day"))]
    pub granularity: Option<Granularity>,
}

/// Filters and page of an app's device events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEventsRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Only this action (e.g. set, download_fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub action: Option<String>,
    /// Only this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "uuid"))]
    pub device_id: Option<String>,
    /// Only events about this bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub version: Option<String>,
    /// Received at or after (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub from: Option<String>,
    /// Received before (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub to: Option<String>,
    /// Value of next_cursor from the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub cursor: Option<String>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1, max = 1000), extend("default" = 100))]
    pub limit: Option<u32>,
}

/// A device's update check to preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewUpdateRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// The plugin's update-check body (device_id, platform, version_name, version_build,
    /// plugin_version, is_prod, is_emulator, defaultChannel, ...); app_id comes from the path.
    pub request: Map<String, Value>,
}

/// A page of an app's bundles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListBundlesRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Also list soft-deleted bundles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool", extend("default" = false))]
    pub include_deleted: Option<bool>,
    /// Value of next_cursor from the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub cursor: Option<String>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1, max = 1000), extend("default" = 100))]
    pub limit: Option<u32>,
}

/// One file of a bundle's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub file_name: String,
    pub file_hash: String,
    #[schemars(extend("format" = "uri"))]
    pub download_url: String,
    #[schemars(range(min = 0))]
    pub file_size: u64,
}

/// Either external_url or a non-empty manifest is required. A version can never be registered
/// twice, even after deletion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBundleRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Semantic version of a bundle.
    #[schemars(extend("examples" = ["1.4.2"]))]
    pub version: String,
    /// Absolute http(s) URL of the bundle zip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "uri"))]
    pub external_url: Option<String>,
    /// SHA-256 hex digest of the zip, or the plugin's encrypted checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub checksum: Option<String>,
    /// For encrypted bundles: "<iv base64>:<key base64>".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub session_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub min_update_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<ManifestEntry>")]
    pub manifest: Option<Vec<ManifestEntry>>,
    /// Ed25519 signature (base64) of the bundle, see the archive upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub signature: Option<String>,
    /// Name of the app's signing key that made signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub signer: Option<String>,
}

/// The fields of an archive upload, sent in the query string (the body is the zip).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadArchiveRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Bundle version (percent-encoded).
    pub version: String,
    /// Deploy the new bundle to this channel in the same transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub channel: Option<String>,
    /// Free text shown in listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub comment: Option<String>,
    /// A link shown with the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub link: Option<String>,
    /// Oldest native version this bundle runs on (semver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub min_update_version: Option<String>,
    /// Signed publishing: the signature is the ed25519 signature (base64) of the UTF-8 text
    /// "liveupdate-bundle-signature-v1\napp_id=<app_id>\nversion=<version>\nchecksum=<lowercase
    /// hex SHA-256 of the zip>\n" by the app's key named signer. Apps with require_signature
    /// refuse uploads without a valid one (403 signature_required / invalid_signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub signature: Option<String>,
    /// Name of the app's signing key that made signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub signer: Option<String>,
    /// Encrypted upload (protocol.md §8): base64(IV):base64(RSA-encrypted AES-128 key). The body
    /// is then a transport archive with bundle.zip (the encrypted zip), manifest.json
    /// ([{file_name, file_hash}], hashes RSA-encrypted) and files/<file_name> (each file,
    /// brotli'd where it paid, then encrypted), as `liveupdate bundle upload --encrypt` builds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub session_key: Option<String>,
    /// Encrypted upload only: the RSA-encrypted SHA-256 of the plaintext zip (512 hex
    /// characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub checksum: Option<String>,
    /// Encrypted upload only: the first 20 characters of the public key's base64 body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub key_id: Option<String>,
    /// SHA-256 (hex) of the body as sent, before Content-Encoding: the received bytes must match
    /// it (400 checksum_mismatch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub sha256: Option<String>,
}

/// A bundle's new link or comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBundleRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Bundle version (percent-encoded).
    pub version: String,
    /// An empty string clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub link: Option<String>,
    /// An empty string clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub comment: Option<String>,
}

/// Filters and page of an app's devices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDevicesRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Only devices on this platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub platform: Option<String>,
    /// Only devices running this bundle version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub version: Option<String>,
    /// Only devices with this plugin version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub plugin_version: Option<String>,
    /// Only devices with this custom id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub custom_id: Option<String>,
    /// Only devices assigned to this channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub channel: Option<String>,
    /// Only production (true) or development (false) builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub is_prod: Option<bool>,
    /// Only emulators (true) or physical devices (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub is_emulator: Option<bool>,
    /// Value of next_cursor from the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub cursor: Option<String>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1, max = 1000), extend("default" = 100))]
    pub limit: Option<u32>,
}

/// A device's channel assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDeviceChannelRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    /// Device identifier.
    #[schemars(extend("format" = "uuid"))]
    pub device_id: String,
    pub channel: String,
}

/// A new signing key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSigningKeyRequest {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    pub name: String,
    /// Ed25519 public key, 32 bytes, base64.
    pub public_key: String,
}

/// A signing key, by its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyRef {
    /// Application identifier (percent-encoded).
    pub app_id: String,
    pub name: String,
}

/// An organization, defaulting to the key's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRef {
    /// Organization whose keys to list; defaults to the key's organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64")]
    pub organization_id: Option<i64>,
}

/// A new API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    pub mode: KeyMode,
    /// Limit the key to these apps of the organization; omit for every app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<String>", length(min = 1))]
    pub apps: Option<Vec<String>>,
    /// ISO 8601 instant in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64")]
    pub organization_id: Option<i64>,
}

/// An API key, by its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    /// Numeric key id.
    pub key_id: i64,
}
