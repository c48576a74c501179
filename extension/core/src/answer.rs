//! Every non-success answer of `POST /updates`, with its wire code, `kind`, HTTP status and message.
//!
//! Bodies follow protocol.md §1.2 and §11: a 200 refusal always carries `error`, `message` and `kind`
//! (old plugins look for `message`, later ones for `error`, current ones for `error` or `kind`), so
//! every plugin line in the field reads it as "no update" rather than as a success.

use serde_json::{Map, Value, json};

/// How the plugin treats a refusal (protocol.md §1.3): only `failed` raises a `download_fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    UpToDate,
    Blocked,
    Failed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UpToDate => "up_to_date",
            Kind::Blocked => "blocked",
            Kind::Failed => "failed",
        }
    }
}

/// Seconds a device should wait before asking again about an app this server does not know.
/// Plugins from 8.51.5 honour `Retry-After`; without a hint they would retry on every trigger.
pub const UNKNOWN_APP_RETRY_AFTER_SECONDS: u64 = 60;

macro_rules! codes {
    ($( $variant:ident => $code:literal, $status:literal, $kind:expr, $message:literal; )*) => {
        /// A refusal code of `POST /updates`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable machine code sent as `error`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            pub fn http_status(self) -> u16 {
                match self { $( Code::$variant => $status, )* }
            }

            /// `None` for transport errors (400/413/429), which carry no `kind` on the wire.
            pub fn kind(self) -> Option<Kind> {
                match self { $( Code::$variant => $kind, )* }
            }

            pub fn message(self) -> &'static str {
                match self { $( Code::$variant => $message, )* }
            }

            pub fn from_wire(code: &str) -> Option<Code> {
                match code { $( $code => Some(Code::$variant), )* _ => None }
            }
        }
    };
}

const UP_TO_DATE: Option<Kind> = Some(Kind::UpToDate);
const BLOCKED: Option<Kind> = Some(Kind::Blocked);
const FAILED: Option<Kind> = Some(Kind::Failed);

codes! {
    // Request validation (protocol.md §2.3), answered before any database work.
    InvalidJsonParseBody => "invalid_json_parse_body", 400, None, "The request body is not valid JSON";
    InvalidJsonBody => "invalid_json_body", 400, None, "The request body does not match the update request schema";
    MissingDeviceId => "missing_device_id", 400, None, "device_id is required";
    MissingAppId => "missing_app_id", 400, None, "app_id is required";
    SemverError => "semver_error", 400, None, "version_build is not a version that can be read as semver";
    PayloadTooLarge => "payload_too_large", 413, None, "The request body is too large";
    // The app is not hosted here.
    OnPremiseApp => "on_premise_app", 429, None, "On-premise app detected";
    // Refusals sent with HTTP 200 (protocol.md §2.5).
    UnsupportedPluginVersion => "unsupported_plugin_version", 200, FAILED, "This plugin version is no longer supported, update @capgo/capacitor-updater";
    NoChannel => "no_channel", 200, FAILED, "No channel or override matches this device";
    NoBundle => "no_bundle", 200, FAILED, "The channel's bundle has no download location";
    KeyIdMismatch => "key_id_mismatch", 200, BLOCKED, "The bundle was encrypted for another public key than the one on the device";
    NoNewVersionAvailable => "no_new_version_available", 200, UP_TO_DATE, "No new version available";
    DisabledPlatformIos => "disabled_platform_ios", 200, BLOCKED, "Updates are disabled for iOS on this channel";
    DisabledPlatformAndroid => "disabled_platform_android", 200, BLOCKED, "Updates are disabled for Android on this channel";
    DisabledPlatformElectron => "disabled_platform_electron", 200, BLOCKED, "Updates are disabled for Electron on this channel";
    DisableAutoUpdateToMajor => "disable_auto_update_to_major", 200, BLOCKED, "The channel does not allow a major upgrade above the native version";
    CannotUpdateViaPrivateChannel => "cannot_update_via_private_channel", 200, BLOCKED, "This channel is private and does not allow devices to assign themselves to it";
    DisableAutoUpdateToMinor => "disable_auto_update_to_minor", 200, BLOCKED, "The channel does not allow a minor upgrade above the native version";
    DisableAutoUpdateToPatch => "disable_auto_update_to_patch", 200, BLOCKED, "The channel only allows a patch upgrade of the native version";
    MisconfiguredChannel => "misconfigured_channel", 200, FAILED, "The channel requires min_update_version but the bundle has none";
    DisableAutoUpdateToMetadata => "disable_auto_update_to_metadata", 200, BLOCKED, "The bundle's min_update_version is above the native version";
    DisableAutoUpdateUnderNative => "disable_auto_update_under_native", 200, BLOCKED, "The channel does not allow a bundle older than the native version";
    DisableProdBuild => "disable_prod_build", 200, BLOCKED, "The channel does not serve production builds";
    DisableDevBuild => "disable_dev_build", 200, BLOCKED, "The channel does not serve development builds";
    DisableDevice => "disable_device", 200, BLOCKED, "The channel does not serve physical devices";
    DisableEmulator => "disable_emulator", 200, BLOCKED, "The channel does not serve emulators";
    AlreadyOnBuiltin => "already_on_builtin", 200, UP_TO_DATE, "The device already runs the builtin bundle";
    RevertToBuiltinPluginVersionTooOld => "revert_to_builtin_plugin_version_too_old", 200, FAILED, "The channel points at the builtin bundle but this plugin version cannot revert to it (needs 6.2.0)";
    NoBundleUrl => "no_bundle_url", 200, FAILED, "The bundle has no valid download URL";
    FailedOnDevice => "bundle_failed_on_device", 200, BLOCKED, "This device reported that this bundle failed; it is offered again once the channel points at another bundle";
    // Stats (protocol.md §5.3-5.4).
    InvalidAppId => "invalid_app_id", 400, None, "app_id is missing or is not a reverse-domain id";
    MixedAppIds => "mixed_app_ids", 200, None, "Every event of a batch must have the same app_id";
    VersionNotFound => "version_not_found", 200, None, "This app has no bundle with this version name";
    AppNotFound => "app_not_found", 200, None, "This app is not hosted here; the events were dropped";
    // Channel self-assignment (protocol.md §6).
    InvalidQueryParameters => "invalid_query_parameters", 400, None, "The query parameters do not match the channel request schema";
    MissingChannel => "missing_channel", 200, None, "channel is required";
    ChannelNotFound => "channel_not_found", 200, None, "This app has no channel with this name";
    ChannelSelfSetNotAllowed => "channel_self_set_not_allowed", 200, None, "This channel does not allow devices to assign themselves to it";
    PublicChannelSelfSetNotAllowed => "public_channel_self_set_not_allowed", 200, None, "This is the public channel: unset the channel and the device will use it automatically";
    CannotOverride => "cannot_override", 200, None, "The device's channel was assigned by the operator and cannot be changed from the device";
    TooManyRequests => "too_many_requests", 429, None, "Too many requests";
}

/// A non-success answer: a code plus the extra top-level fields some codes carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub code: Code,
    pub extra: Map<String, Value>,
    /// Extra fields for 400/413/429 answers travel under `moreInfo`, as the reference backend sends them.
    pub more_info: Map<String, Value>,
}

impl Refusal {
    pub fn new(code: Code) -> Self {
        let mut more_info = Map::new();
        if code == Code::OnPremiseApp {
            more_info.insert("retryAfterSeconds".into(), json!(UNKNOWN_APP_RETRY_AFTER_SECONDS));
        }
        Refusal { code, extra: Map::new(), more_info }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub fn with_more_info(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.more_info.insert(key.to_owned(), value.into());
        self
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("error".into(), self.code.as_str().into());
        body.insert("message".into(), self.code.message().into());
        if let Some(kind) = self.code.kind() {
            body.insert("kind".into(), kind.as_str().into());
        }
        for (key, value) in &self.extra {
            body.insert(key.clone(), value.clone());
        }
        if self.code.kind().is_none() {
            body.insert("moreInfo".into(), Value::Object(self.more_info.clone()));
        }
        Value::Object(body)
    }
}

/// The HTTP status for a body produced by `resolve_update`: the status of its `error` code, or 200.
/// The gateway uses this so that the mapping lives in one place.
pub fn http_status_of(body: &Value) -> u16 {
    body.get("error").and_then(Value::as_str).and_then(Code::from_wire).map_or(200, Code::http_status)
}

/// The `Retry-After` seconds for a 429 body, read from `moreInfo.retryAfterSeconds`.
pub fn retry_after_of(body: &Value) -> Option<u64> {
    body.get("moreInfo")?.get("retryAfterSeconds")?.as_u64()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_error_and_message_and_update_refusals_a_kind() {
        for code in Code::ALL {
            let body = Refusal::new(*code).to_json();
            assert_eq!(body["error"], code.as_str());
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
            if code.kind().is_some() {
                assert_eq!(code.http_status(), 200, "{code:?}: update refusals are sent with 200");
                assert!(body.get("moreInfo").is_none());
            } else {
                assert!(body.get("moreInfo").is_some());
            }
            assert_eq!(Code::from_wire(code.as_str()), Some(*code));
            assert_eq!(http_status_of(&body), code.http_status());
        }
    }

    #[test]
    fn unknown_app_carries_retry_hint() {
        let body = Refusal::new(Code::OnPremiseApp).to_json();
        assert_eq!(http_status_of(&body), 429);
        assert_eq!(retry_after_of(&body), Some(UNKNOWN_APP_RETRY_AFTER_SECONDS));
    }

    #[test]
    fn success_bodies_map_to_200() {
        assert_eq!(http_status_of(&json!({"version": "1.0.0", "url": "https://x/y.zip"})), 200);
    }
}
