//! The management API as data. Each operation is a type implementing [`Operation`]: its method,
//! path pattern and the extension function it calls, with its request and answer as Rust types.
//! [`OPERATIONS`] lists them all; the gateway routes from it, the CLI calls through it, and the
//! OpenAPI document is generated from it. Path parameters (`{name}` segments) are request
//! fields, as the extension's `api_*` functions take them.
//!
//! No pgrx and no database here: the gateway, the CLI and the tests all depend on this crate.

pub mod answers;
pub mod device;
pub mod openapi;
pub mod requests;
pub mod routes;

use schemars::generate::SchemaGenerator;
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An HTTP method the gateway serves, in the order `Allow` headers list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// GET, HEAD and DELETE take their inputs from the query string; the others from a JSON body.
    pub const fn has_body(self) -> bool {
        !matches!(self, Method::Get | Method::Head | Method::Delete)
    }
}

/// Where an operation's request fields other than the path's come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The query string (GET and DELETE).
    Query,
    /// A JSON object body.
    Json,
    /// The query string, while the body is a bundle's zip (the archive upload).
    QueryAndArchive,
}

/// The documentation group of an operation (an OpenAPI tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Apps,
    Channels,
    Bundles,
    Devices,
    Keys,
}

impl Tag {
    pub const fn name(self) -> &'static str {
        match self {
            Tag::Apps => "apps",
            Tag::Channels => "channels",
            Tag::Bundles => "bundles",
            Tag::Devices => "devices",
            Tag::Keys => "keys",
        }
    }
}

/// One management operation, as data.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The OpenAPI operationId.
    pub id: &'static str,
    pub method: Method,
    /// The path, with `{field}` segments for request fields, e.g. `/v1/apps/{app_id}`.
    pub path: &'static str,
    /// The extension function that serves it (`liveupdate.<function>(key_hash, input)`).
    pub function: &'static str,
    pub input: Input,
    /// 201 for operations that create something, else 200.
    pub success_status: u16,
    pub tag: Tag,
    pub summary: &'static str,
    /// More about rights and refusals; empty when the summary says it all.
    pub description: &'static str,
    /// What the 2xx answer is.
    pub answer_description: &'static str,
    /// The refusals (HTTP statuses) the operation can answer, besides 401, 429, 500 and 503.
    pub refusals: &'static [u16],
    /// The name of the request type (the body's schema in the OpenAPI document).
    pub request_name: fn() -> std::borrow::Cow<'static, str>,
    /// The JSON Schema of the request (every field, path parameters included).
    pub request_schema: fn(&mut SchemaGenerator) -> Schema,
    /// The JSON Schema of the 2xx answer.
    pub answer_schema: fn(&mut SchemaGenerator) -> Schema,
}

impl Route {
    /// The path's segments after `/v1/`.
    pub fn segments(&self) -> impl Iterator<Item = &'static str> {
        self.path.trim_start_matches("/v1/").split('/')
    }

    /// The request fields the path gives (its `{field}` segments), in path order.
    pub fn path_fields(&self) -> impl Iterator<Item = &'static str> {
        self.segments().filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
    }
}

/// The names of a schema's properties, `$ref`s followed (a request's fields).
pub fn request_fields(route: &Route) -> Vec<String> {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    let schema = (route.request_schema)(&mut settings.into_generator());
    let properties = schema.get("properties").and_then(|properties| properties.as_object());
    properties.map(|properties| properties.keys().cloned().collect()).unwrap_or_default()
}

/// A typed management operation.
pub trait Operation {
    type Request: Serialize + DeserializeOwned + JsonSchema;
    type Answer: Serialize + DeserializeOwned + JsonSchema;
    const ROUTE: Route;
}

/// Every management operation, in the order the OpenAPI document lists them.
pub const OPERATIONS: &[Route] = op::ALL;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Declares each operation's type and [`OPERATIONS`], the table of them all.
macro_rules! operations {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident { $id:literal, $method:ident $path:literal $input:ident => $function:literal,
            $request:ty => $answer:ty, $status:literal $answer_description:literal,
            $tag:ident, refusals $refusals:expr, $summary:literal, $description:literal }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Operation for $name {
                type Request = $request;
                type Answer = $answer;
                const ROUTE: Route = Route {
                    id: $id,
                    method: Method::$method,
                    path: $path,
                    function: $function,
                    input: Input::$input,
                    success_status: $status,
                    tag: Tag::$tag,
                    summary: $summary,
                    description: $description,
                    answer_description: $answer_description,
                    refusals: $refusals,
                    request_name: <$request as schemars::JsonSchema>::schema_name,
                    request_schema: schema_of::<$request>,
                    answer_schema: schema_of::<$answer>,
                };
            }
        )*

        /// Every management operation, in the order the OpenAPI document lists them.
        pub const ALL: &[Route] = &[$(<$name as Operation>::ROUTE),*];
    };
}

/// Refusals of reads of one object.
const READ: &[u16] = &[400, 404];
/// Refusals of changes without a body.
const CHANGE: &[u16] = &[400, 403, 404];
/// Refusals of changes with a body.
const CHANGE_BODY: &[u16] = &[400, 403, 404, 413];
/// Refusals of changes with a body that can conflict.
const CHANGE_BODY_CONFLICT: &[u16] = &[400, 403, 404, 409, 413];

/// The operations, one type each (named as their OpenAPI operationId).
pub mod op {
    use super::{Input, Method, Operation, Route, Tag, schema_of};
    use crate::answers::{self, *};
    use crate::requests::*;

    use super::{CHANGE, CHANGE_BODY, CHANGE_BODY_CONFLICT, READ};

    operations! {
        ListApps { "listApps", Get "/v1/apps" Query => "api_list_apps",
            NoInput => AppList, 200 "Visible apps.",
            Apps, refusals &[], "List the apps visible to the key", "" }
        CreateApp { "createApp", Post "/v1/apps" Json => "api_create_app",
            CreateAppRequest => App, 201 "The created app.",
            Apps, refusals CHANGE_BODY_CONFLICT, "Create an app",
            "Requires write rights on the whole organization; keys limited to some apps are refused." }
        GetApp { "getApp", Get "/v1/apps/{app_id}" Query => "api_get_app",
            AppRef => App, 200 "The app.",
            Apps, refusals READ, "Get an app", "" }
        UpdateApp { "updateApp", Patch "/v1/apps/{app_id}" Json => "api_update_app",
            UpdateAppRequest => App, 200 "The updated app.",
            Apps, refusals CHANGE_BODY, "Update an app's settings", "Requires write rights." }
        DeleteApp { "deleteApp", Delete "/v1/apps/{app_id}" Query => "api_delete_app",
            AppRef => Deleted, 200 "The app was deleted.",
            Apps, refusals CHANGE, "Delete an app",
            "Deletes the app and everything of it: channels, bundles, devices and their channel assignments, events, statistics, failure-guard settings and decisions, deploy history and signing keys. API keys limited to this app alone are revoked; keys limited to several apps forget it. Stored objects no other app uses are deleted from storage by the gateway's periodic work (a minute or more later). Cannot be undone. Requires admin rights on the app (a key in mode all)." }
        ListChannels { "listChannels", Get "/v1/apps/{app_id}/channels" Query => "api_list_channels",
            AppRef => ChannelList, 200 "The app's channels.",
            Channels, refusals READ, "List an app's channels", "" }
        CreateChannel { "createChannel", Post "/v1/apps/{app_id}/channels" Json => "api_create_channel",
            CreateChannelRequest => Channel, 201 "The created channel.",
            Channels, refusals CHANGE_BODY_CONFLICT, "Create a channel", "Requires write rights." }
        GetChannel { "getChannel", Get "/v1/apps/{app_id}/channels/{channel}" Query => "api_get_channel",
            ChannelRef => Channel, 200 "The channel.",
            Channels, refusals READ, "Get a channel", "" }
        UpdateChannel { "updateChannel", Patch "/v1/apps/{app_id}/channels/{channel}" Json => "api_update_channel",
            UpdateChannelRequest => Channel, 200 "The updated channel.",
            Channels, refusals CHANGE_BODY_CONFLICT, "Rename, reconfigure or deploy a bundle to a channel",
            "Setting bundle deploys it; devices pick it up at their next update check. Requires write rights." }
        DeleteChannel { "deleteChannel", Delete "/v1/apps/{app_id}/channels/{channel}" Query => "api_delete_channel",
            ChannelRef => Deleted, 200 "The channel was deleted.",
            Channels, refusals CHANGE, "Delete a channel",
            "Device assignments to the channel are removed as well. Requires write rights." }
        ListBundles { "listBundles", Get "/v1/apps/{app_id}/bundles" Query => "api_list_bundles",
            ListBundlesRequest => BundlePage, 200 "A page of bundles.",
            Bundles, refusals READ, "List an app's bundles, newest first", "" }
        RegisterBundle { "registerBundle", Post "/v1/apps/{app_id}/bundles" Json => "api_register_bundle",
            RegisterBundleRequest => Bundle, 201 "The registered bundle.",
            Bundles, refusals CHANGE_BODY_CONFLICT, "Register a new bundle",
            "Requires upload rights. Either external_url or a non-empty manifest must be given. Versions are never reused, even after deletion." }
        GetBundle { "getBundle", Get "/v1/apps/{app_id}/bundles/{version}" Query => "api_get_bundle",
            BundleRef => Bundle, 200 "The bundle.",
            Bundles, refusals READ, "Get a bundle", "" }
        UpdateBundle { "updateBundle", Patch "/v1/apps/{app_id}/bundles/{version}" Json => "api_update_bundle",
            UpdateBundleRequest => Bundle, 200 "The updated bundle.",
            Bundles, refusals CHANGE_BODY, "Edit a bundle's link or comment", "Requires write rights." }
        DeleteBundle { "deleteBundle", Delete "/v1/apps/{app_id}/bundles/{version}" Query => "api_delete_bundle",
            BundleRef => Deleted, 200 "The bundle was deleted.",
            Bundles, refusals &[400, 403, 404, 409], "Soft-delete a bundle",
            "Refused with invalid_state while a channel still serves the bundle. Requires write rights." }
        /// The archive upload: the gateway streams, unpacks and stores the zip, then registers it.
        UploadBundleArchive { "uploadBundleArchive", Put "/v1/apps/{app_id}/bundles/{version}/archive" QueryAndArchive => "api_register_upload",
            UploadArchiveRequest => Bundle, 201 "The registered bundle.",
            Bundles, refusals &[400, 403, 404, 408, 409, 413, 415, 507], "Upload a bundle's zip",
            "Requires upload rights (write rights too with channel). The body is the zip, sent as is or with Content-Encoding: zstd; it is streamed to disk, never held in memory. The archive must unpack as the plugin unpacks it: index.html at the root or in one top-level folder; no absolute paths, '..', backslashes, symbolic links or duplicate targets; no name twice, and each local header agreeing with its central directory entry; within the entry, size and compression-ratio bounds. Each file is stored once by its SHA-256 (with a brotli variant where it saves bytes) and the bundle, with checksum and full manifest, is registered in one transaction. Rights, version and fields are checked before the body is read." }
        ListDevices { "listDevices", Get "/v1/apps/{app_id}/devices" Query => "api_list_devices",
            ListDevicesRequest => DevicePage, 200 "A page of devices.",
            Devices, refusals READ, "List an app's devices, ordered by device_id", "" }
        GetDevice { "getDevice", Get "/v1/apps/{app_id}/devices/{device_id}" Query => "api_get_device",
            DeviceRef => Device, 200 "The device.",
            Devices, refusals READ, "Get a device", "Returns 404 for a device that has never checked in." }
        SetDeviceChannel { "setDeviceChannel", Put "/v1/apps/{app_id}/devices/{device_id}/channel" Json => "api_set_device_channel",
            SetDeviceChannelRequest => DeviceChannel, 200 "The assignment.",
            Devices, refusals CHANGE_BODY, "Assign a device to a channel",
            "Works before the device first checks in. The assignment takes precedence over the channel's public, self-set and platform rules. Requires write rights." }
        RemoveDeviceChannel { "removeDeviceChannel", Delete "/v1/apps/{app_id}/devices/{device_id}/channel" Query => "api_remove_device_channel",
            DeviceRef => Removed, 200 "Whether an assignment existed.",
            Devices, refusals CHANGE, "Remove a device's channel assignment", "Requires write rights." }
        ListKeys { "listKeys", Get "/v1/keys" Query => "api_list_keys",
            OrganizationRef => ApiKeyList, 200 "The organization's keys.",
            Keys, refusals &[400, 403, 404], "List API keys",
            "Requires a key of mode all that is not limited to some apps. Secrets are never listed." }
        CreateKey { "createKey", Post "/v1/keys" Json => "api_create_key",
            CreateKeyRequest => NewApiKey, 201 "The new key, including its secret.",
            Keys, refusals CHANGE_BODY, "Create an API key",
            "Requires a key of mode all that is not limited to some apps. The secret is shown only in this response." }
        RevokeKey { "revokeKey", Delete "/v1/keys/{key_id}" Query => "api_revoke_key",
            KeyRef => Revoked, 200 "The key was revoked.",
            Keys, refusals CHANGE, "Revoke an API key",
            "Returns 404 for an unknown or already revoked key. Requires a key of mode all that is not limited to some apps." }
        ListSigningKeys { "listSigningKeys", Get "/v1/apps/{app_id}/signing-keys" Query => "api_list_signing_keys",
            AppRef => SigningKeyList, 200 "The keys.",
            Apps, refusals &[404], "List an app's signing keys", "" }
        AddSigningKey { "addSigningKey", Post "/v1/apps/{app_id}/signing-keys" Json => "api_add_signing_key",
            AddSigningKeyRequest => SigningKey, 201 "The key.",
            Apps, refusals CHANGE_BODY_CONFLICT, "Register an ed25519 public key for signed uploads",
            "Admin rights on the app (mode all). Names are never reused." }
        RevokeSigningKey { "revokeSigningKey", Delete "/v1/apps/{app_id}/signing-keys/{name}" Query => "api_revoke_signing_key",
            SigningKeyRef => Revoked, 200 "Revoked.",
            Apps, refusals &[403, 404], "Revoke a signing key", "" }
        RollbackChannel { "rollbackChannel", Post "/v1/apps/{app_id}/channels/{channel}/rollback" Json => "api_rollback_channel",
            ChannelRef => Channel, 200 "The channel after the rollback.",
            Channels, refusals &[403, 404, 409], "Move a channel back to the bundle it had before its current deployment (or builtin)",
            "Write rights. Devices follow at their next check, subject to the channel's rules. 409 invalid_state when there is no earlier deployment or that bundle was deleted." }
        ChannelHistory { "channelHistory", Get "/v1/apps/{app_id}/channels/{channel}/history" Query => "api_channel_history",
            ChannelRecords => answers::ChannelHistory, 200 "The channel's deployments, newest first.",
            Channels, refusals READ, "A channel's deployments, newest first", "" }
        Rollout { "rollout", Post "/v1/apps/{app_id}/channels/{channel}/rollout" Json => "api_rollout",
            RolloutRequest => Channel, 200 "The channel.",
            Channels, refusals CHANGE_BODY_CONFLICT, "Start, change, pause, resume, promote or abandon a progressive rollout",
            "Write rights. start {bundle, basis_points} draws a new sample of devices; set {basis_points}: raising only adds devices, lowering only removes those above the line; promote makes the rollout's bundle the channel's (a deploy in its history); abandon ends it. 409 invalid_state without a rollout." }
        ChannelGuard { "channelGuard", Get "/v1/apps/{app_id}/channels/{channel}/guard" Query => "api_channel_guard",
            ChannelRecords => answers::ChannelGuard, 200 "The guard's settings and its decisions, newest first.",
            Channels, refusals READ, "A channel's failure-guard settings and latest decisions", "" }
        SetChannelGuard { "setChannelGuard", Put "/v1/apps/{app_id}/channels/{channel}/guard" Json => "api_set_channel_guard",
            SetChannelGuardRequest => answers::ChannelGuard, 200 "As GET.",
            Channels, refusals READ, "Change a channel's failure-guard settings",
            "Write rights. Any of deploy_action (off, alert, rollback), rollout_action (off, alert, pause, rollback), max_failure_rate and confidence (numbers between 0 and 1), min_attempts, min_failures, window_minutes, watch_minutes, cooldown_minutes; omitted settings are kept." }
        AppStats { "appStats", Get "/v1/apps/{app_id}/stats" Query => "api_app_stats",
            AppStatsRequest => answers::AppStats, 200 "The figures of each period (hour or day) of the range, by version and by channel.",
            Apps, refusals READ, "An app's statistics for a range of UTC days", "" }
        AppsOverview { "appsOverview", Get "/v1/overview" Query => "api_apps_overview",
            NoInput => answers::AppsOverview, 200 "Each app with the key's rights on it, its active devices, newest bundle and last day's health.",
            Apps, refusals &[400], "Every app the key can see, with activity and health", "" }
        ChannelDevices { "channelDevices", Get "/v1/apps/{app_id}/channels/{channel}/devices" Query => "api_channel_devices",
            ChannelDevicesRequest => answers::ChannelDevices, 200 "The channel's devices seen since `since`, by bundle. A device is the channel's as /updates decides: by its override, else the channel its defaultChannel names when it may select it, else (naming none) its platform's public channel.",
            Channels, refusals READ, "A channel's devices by the bundle they run (a rollout's live share)", "" }
        BundleFiles { "bundleFiles", Get "/v1/apps/{app_id}/bundles/{version}/files" Query => "api_bundle_files",
            BundleRef => answers::BundleFiles, 200 "The bundle's files, by file name.",
            Bundles, refusals READ, "A bundle's manifest", "" }
        ListEvents { "listEvents", Get "/v1/apps/{app_id}/events" Query => "api_list_events",
            ListEventsRequest => EventPage, 200 "A page of events and the cursor of the next.",
            Devices, refusals READ, "An app's device events, newest first", "" }
        PreviewUpdate { "previewUpdate", Post "/v1/apps/{app_id}/preview" Json => "api_preview_update",
            PreviewUpdateRequest => UpdatePreview, 200 "The request as checked, the body /updates would send, and why: the channel, how it was chosen, and the device's place in its rollout.",
            Devices, refusals READ, "What POST /updates would answer a device, and why; records nothing", "" }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn each_method_and_path_is_one_operation() {
        let mut seen = HashSet::new();
        let mut ids = HashSet::new();
        for route in OPERATIONS {
            assert!(
                seen.insert((route.method, route.path)),
                "{} {} twice",
                route.method.as_str(),
                route.path
            );
            assert!(ids.insert(route.id), "operationId {} twice", route.id);
            assert!(route.path.starts_with("/v1/"), "{}", route.path);
        }
    }

    /// Path parameters are request fields, and required ones.
    #[test]
    fn path_parameters_are_required_request_fields() {
        for route in OPERATIONS {
            let mut settings = schemars::generate::SchemaSettings::draft2020_12();
            settings.inline_subschemas = true;
            let schema = (route.request_schema)(&mut settings.into_generator());
            let required: Vec<&str> = schema
                .get("required")
                .and_then(|required| required.as_array())
                .map(|names| names.iter().filter_map(|name| name.as_str()).collect())
                .unwrap_or_default();
            for field in route.path_fields() {
                assert!(required.contains(&field), "{}: {field} is not a required request field", route.id);
            }
        }
    }

    #[test]
    fn requests_serialize_to_their_fields_only() {
        let request = requests::UpdateAppRequest {
            app_id: "com.example.app".to_owned(),
            name: Some("Example".to_owned()),
            expose_metadata: None,
            allow_custom_id: None,
            bundle_retention_days: None,
            require_signature: Some(true),
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({"app_id": "com.example.app", "name": "Example", "require_signature": true})
        );
        let unknown = serde_json::json!({"app_id": "a.b", "colour": "red"});
        assert!(serde_json::from_value::<requests::UpdateAppRequest>(unknown).is_err());
        assert_eq!(
            request_fields(&op::RevokeKey::ROUTE),
            vec!["key_id".to_owned()],
            "fields come from the request type"
        );
    }
}
