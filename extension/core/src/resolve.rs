//! The update decision (protocol.md §3.2) and the success body (§2.4), given what the database
//! returned for the device: its app, the channel it resolved to, and that channel's bundle.

use serde_json::{Map, Value};

use crate::answer::{Code, Refusal};
use crate::policy::{self, ChannelRules, TargetVersion};
use crate::request::UpdateRequest;
use crate::version::Version;

/// A bundle as resolution needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleFacts {
    pub version: Version,
    /// SHA-256 hex of the zip, its RSA-encrypted form, or `""` when unknown; never null on the wire.
    pub checksum: String,
    /// `"<iv>:<key>"` for encrypted bundles, `""` otherwise.
    pub session_key: String,
    pub key_id: Option<String>,
    pub external_url: Option<String>,
    pub storage_key: Option<String>,
    pub min_update_version: Option<Version>,
    pub link: Option<String>,
    pub comment: Option<String>,
    pub manifest_count: i64,
}

/// The channel a device resolved to and what it points at (`None` = builtin).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub channel: ChannelRules,
    pub bundle: Option<BundleFacts>,
    /// The device reported this bundle broken since the channel was last pointed at it.
    pub failed_on_device: bool,
}

/// What to answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<'a> {
    /// Send this bundle (the caller adds URLs and, when [`wants_manifest`], the manifest).
    Offer(&'a BundleFacts),
    /// Send the success-shaped `{"version":"builtin"}` so the device resets to its builtin bundle.
    RevertToBuiltin,
    Refuse(Refusal),
}

/// Decides the answer for a device whose app exists. `target` is `None` when no channel matched.
pub fn decide<'a>(req: &UpdateRequest, target: Option<&'a Target>) -> Decision<'a> {
    if req.plugin.is_unsupported() {
        return Decision::Refuse(Refusal::new(Code::UnsupportedPluginVersion));
    }
    let Some(target) = target else {
        return Decision::Refuse(Refusal::new(Code::NoChannel));
    };
    if let Some(bundle) = &target.bundle {
        if bundle.external_url.is_none() && bundle.storage_key.is_none() && bundle.manifest_count == 0 {
            return Decision::Refuse(Refusal::new(Code::NoBundle));
        }
        if let (Some(device_key), Some(bundle_key)) = (&req.key_id, &bundle.key_id)
            && req.plugin.checks_key_id()
            && device_key != bundle_key
        {
            return Decision::Refuse(
                Refusal::new(Code::KeyIdMismatch)
                    .with("deviceKeyId", device_key.clone())
                    .with("bundleKeyId", bundle_key.clone()),
            );
        }
        if req.version_name == bundle.version.to_string() {
            return Decision::Refuse(Refusal::new(Code::NoNewVersionAvailable));
        }
        if target.failed_on_device {
            return Decision::Refuse(
                Refusal::new(Code::FailedOnDevice)
                    .with("version", bundle.version.to_string())
                    .with("old", req.version_name.clone()),
            );
        }
    }
    let version = match &target.bundle {
        Some(bundle) => TargetVersion::Bundle {
            version: &bundle.version,
            min_update_version: bundle.min_update_version.as_ref(),
        },
        None => TargetVersion::Builtin,
    };
    if let Err(refusal) = policy::check(&target.channel, &version, req) {
        return Decision::Refuse(refusal);
    }
    match &target.bundle {
        Some(bundle) => Decision::Offer(bundle),
        None => builtin_decision(req),
    }
}

/// The channel points at builtin. Better than the reference backend, which answers
/// `already_on_builtin` (kind up_to_date) even to a device running a downloaded bundle, so such a
/// device never reverts: here only a device already on builtin gets `already_on_builtin`, and any
/// plugin line that can reset is told to.
fn builtin_decision(req: &UpdateRequest) -> Decision<'static> {
    if req.runs_builtin() {
        let refusal = Refusal::new(Code::AlreadyOnBuiltin);
        // Same shape as the reference backend: `version` unless the device said "builtin" itself.
        return Decision::Refuse(if req.reported_builtin {
            refusal
        } else {
            refusal.with("version", "builtin")
        });
    }
    if req.plugin.supports_builtin_revert() {
        Decision::RevertToBuiltin
    } else {
        Decision::Refuse(Refusal::new(Code::RevertToBuiltinPluginVersionTooOld))
    }
}

/// Whether the answer carries the bundle's file manifest: the plugin line supports manifests, the
/// bundle has files, and it is not an external-URL bundle (those are served whole).
pub fn wants_manifest(req: &UpdateRequest, bundle: &BundleFacts) -> bool {
    req.plugin.supports_manifest() && bundle.manifest_count > 0 && bundle.external_url.is_none()
}

/// One file of a delta manifest, as sent to the device.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    pub file_name: String,
    pub file_hash: String,
    pub download_url: String,
}

/// Where objects in storage are downloaded from: `<files base URL>/<storage key>`; the base is
/// the gateway's `<public_url>/files` or a CDN in front of it or of the bucket.
pub fn storage_url(files_base_url: &str, storage_key: &str) -> String {
    format!("{}/{}", files_base_url.trim_end_matches('/'), storage_key)
}

/// True for absolute `http://` or `https://` URLs with a host and no whitespace.
pub fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// Builds the success body for an offered bundle. `manifest` is `Some` only when
/// [`wants_manifest`] held and the caller loaded it; an empty manifest is never sent.
pub fn offer_body(
    req: &UpdateRequest,
    bundle: &BundleFacts,
    files_base_url: &str,
    manifest: Option<Vec<ManifestEntry>>,
    expose_metadata: bool,
) -> Result<Value, Refusal> {
    let manifest = manifest.filter(|entries| !entries.is_empty());
    let url = match (&bundle.external_url, &bundle.storage_key) {
        (Some(external), _) => Some(external.clone()),
        (None, Some(key)) => Some(storage_url(files_base_url, key)),
        (None, None) => None,
    }
    .filter(|url| is_http_url(url));
    let url = match (url, &manifest) {
        (Some(url), _) => url,
        // iOS needs a parseable `url` even when it will only use the manifest.
        (None, Some(_)) => storage_url(files_base_url, "manifest-only.zip"),
        (None, None) => return Err(Refusal::new(Code::NoBundleUrl)),
    };

    let mut body = Map::new();
    body.insert("version".into(), bundle.version.to_string().into());
    body.insert("url".into(), url.into());
    body.insert("session_key".into(), bundle.session_key.clone().into());
    body.insert("checksum".into(), bundle.checksum.clone().into());
    if let Some(entries) = manifest {
        let entries = entries
            .into_iter()
            .map(|entry| {
                let mut item = Map::new();
                item.insert("file_name".into(), entry.file_name.into());
                item.insert("file_hash".into(), entry.file_hash.into());
                item.insert("download_url".into(), entry.download_url.into());
                Value::Object(item)
            })
            .collect();
        body.insert("manifest".into(), Value::Array(entries));
    }
    if expose_metadata && req.plugin.supports_metadata() {
        for (key, value) in [("link", &bundle.link), ("comment", &bundle.comment)] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                body.insert(key.into(), value.clone().into());
            }
        }
    }
    Ok(Value::Object(body))
}

/// The body that makes a plugin ≥ 6.2.0 reset to its builtin bundle: success-shaped, so with no
/// `error`, `kind` or `message` key.
pub fn revert_to_builtin_body() -> Value {
    serde_json::json!({ "version": "builtin" })
}
