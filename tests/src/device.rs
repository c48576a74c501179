//! A test device: builds update checks as the plugin does (protocol.md §2.2) and reads the answer
//! as the plugin line it claims to be would (§1.3, §11), independently of the server's code.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::http;

/// How a plugin line detects "this is not an update" in a 200 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorDetection {
    /// 5.9.5, 6.14.0, 7.0.35 … 7.8.0: the presence of `message`.
    Message,
    /// 6.14.30 … 8.45.10: the presence of `error`.
    Error,
    /// 8.45.11+ and the 5.50.1 / 6.50.1 / 7.50.1 backports: `error` or `kind`.
    ErrorOrKind,
}

/// What the plugin would do with an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Download and install `version` (zip at `url`, or the manifest when present).
    Update {
        version: String,
        url: String,
        checksum: String,
        session_key: String,
        manifest: Option<Vec<Value>>,
    },
    /// Reset to the builtin bundle (plugins ≥ 6.2.0 on a success-shaped `{"version":"builtin"}`).
    RevertToBuiltin,
    /// Nothing to do. `counts_as_failure` is whether the plugin raises `download_fail`.
    NoUpdate { error: String, counts_as_failure: bool },
    /// A non-2xx answer.
    HttpError { status: u16, error: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Device {
    pub app_id: String,
    pub device_id: String,
    pub platform: String,
    pub plugin_version: String,
    pub version_build: String,
    pub version_name: String,
    pub is_emulator: bool,
    pub is_prod: bool,
    pub default_channel: String,
    pub key_id: Option<String>,
}

impl Device {
    /// An Android device on the current plugin, running its builtin bundle of native 1.0.0.
    pub fn new(app_id: &str, device_id: &str) -> Device {
        Device {
            app_id: app_id.into(),
            device_id: device_id.into(),
            platform: "android".into(),
            plugin_version: "8.51.14".into(),
            version_build: "1.0.0".into(),
            version_name: "1.0.0".into(),
            is_emulator: false,
            is_prod: true,
            default_channel: String::new(),
            key_id: None,
        }
    }

    pub fn plugin(mut self, version: &str) -> Device {
        self.plugin_version = version.into();
        self
    }

    pub fn running(mut self, version_name: &str) -> Device {
        self.version_name = version_name.into();
        self
    }

    pub fn native(mut self, version_build: &str) -> Device {
        self.version_build = version_build.into();
        self
    }

    pub fn channel(mut self, name: &str) -> Device {
        self.default_channel = name.into();
        self
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "platform": self.platform, "device_id": self.device_id, "app_id": self.app_id,
            "custom_id": "", "version_build": self.version_build, "version_code": "10",
            "version_os": "14", "version_name": self.version_name, "plugin_version": self.plugin_version,
            "is_emulator": self.is_emulator, "is_prod": self.is_prod, "defaultChannel": self.default_channel
        });
        if let Some(key_id) = &self.key_id {
            body["key_id"] = json!(key_id);
        }
        body
    }

    /// Sends the update check and returns the raw answer and what this plugin line makes of it.
    /// Both are held to the OpenAPI document.
    pub fn check(&self, gateway: SocketAddr) -> (http::Response, Outcome) {
        crate::contract::check_device_request("POST", "/updates", &self.body());
        let response = http::post_json(gateway, "/updates", &self.body());
        crate::contract::check_answer("POST", "/updates", &response);
        let outcome = read_answer(&self.plugin_version, response.status, &response.json());
        (response, outcome)
    }

    pub fn outcome(&self, gateway: SocketAddr) -> Outcome {
        self.check(gateway).1
    }
}

fn version_triplet(version: &str) -> (u64, u64, u64) {
    let core = version.split(['-', '+']).next().unwrap_or("0.0.0");
    let mut parts = core.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Which detection a plugin version uses (protocol.md §11).
pub fn detection_for(plugin_version: &str) -> ErrorDetection {
    let (major, minor, patch) = version_triplet(plugin_version);
    let at_least = |m: u64, n: u64, p: u64| (major, minor, patch) >= (m, n, p);
    match major {
        8 if at_least(8, 45, 11) => ErrorDetection::ErrorOrKind,
        m if m >= 9 => ErrorDetection::ErrorOrKind,
        5 if at_least(5, 50, 1) => ErrorDetection::ErrorOrKind,
        6 if at_least(6, 50, 1) => ErrorDetection::ErrorOrKind,
        7 if at_least(7, 50, 1) => ErrorDetection::ErrorOrKind,
        5 => ErrorDetection::Message,
        6 if !at_least(6, 14, 30) => ErrorDetection::Message,
        7 if !at_least(7, 9, 0) => ErrorDetection::Message,
        _ => ErrorDetection::Error,
    }
}

/// Reads an answer the way the given plugin version does.
pub fn read_answer(plugin_version: &str, status: u16, body: &Value) -> Outcome {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    if !(200..300).contains(&status) {
        return Outcome::HttpError { status, error: text("error") };
    }
    let detection = detection_for(plugin_version);
    let is_error = match detection {
        ErrorDetection::Message => body.get("message").is_some(),
        ErrorDetection::Error => body.get("error").is_some(),
        ErrorDetection::ErrorOrKind => body.get("error").is_some() || body.get("kind").is_some(),
    };
    if is_error {
        let kind = text("kind").unwrap_or_default();
        let counts_as_failure = match detection {
            // Unknown or missing kinds are normalised to `failed`.
            ErrorDetection::ErrorOrKind => !matches!(kind.as_str(), "up_to_date" | "blocked"),
            // Older lines only raise download_fail for transport errors.
            _ => false,
        };
        return Outcome::NoUpdate {
            error: text("error").or_else(|| text("message")).unwrap_or_default(),
            counts_as_failure,
        };
    }
    let version = text("version").unwrap_or_default();
    let (major, minor, _) = version_triplet(plugin_version);
    if version == "builtin" && (major, minor) >= (6, 2) {
        return Outcome::RevertToBuiltin;
    }
    Outcome::Update {
        version,
        url: text("url").unwrap_or_default(),
        checksum: text("checksum").unwrap_or_default(),
        session_key: text("session_key").unwrap_or_default(),
        manifest: body.get("manifest").and_then(Value::as_array).cloned(),
    }
}
