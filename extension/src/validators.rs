//! Input checks the SQL layer shares with the core crate: table CHECK constraints and the DBA API
//! call these, so a value the gateway would refuse can never be stored either.

use liveupdate_core::integrity::{self, DigestField};
use liveupdate_core::{request, resolve, version};
use pgrx::prelude::*;

/// A reverse-domain app id (`com.example.app`), as the plugin's appId must be.
#[pg_extern(immutable, strict, parallel_safe, name = "_is_app_id")]
pub fn is_app_id(value: &str) -> bool {
    request::is_reverse_domain(value)
}

/// A strict semver version (`1.4.2`, `2.0.0-beta.1`).
#[pg_extern(immutable, strict, parallel_safe, name = "_is_semver")]
pub fn is_semver(value: &str) -> bool {
    version::parse_strict(value).is_ok()
}

/// An absolute http(s) URL with a host and no whitespace.
#[pg_extern(immutable, strict, parallel_safe, name = "_is_http_url")]
pub fn is_http_url(value: &str) -> bool {
    resolve::is_http_url(value)
}

/// A bundle checksum: empty, legacy CRC32, SHA-256 hex, or RSA-encrypted (hex or base64).
#[pg_extern(immutable, strict, parallel_safe, name = "_is_bundle_checksum")]
pub fn is_bundle_checksum(value: &str) -> bool {
    integrity::is_digest(value, DigestField::BundleChecksum)
}

/// A manifest file hash: SHA-256 hex or RSA-encrypted (hex or base64).
#[pg_extern(immutable, strict, parallel_safe, name = "_is_file_hash")]
pub fn is_file_hash(value: &str) -> bool {
    integrity::is_digest(value, DigestField::FileHash)
}

/// An encrypted bundle's `"<iv>:<key>"`, or empty.
#[pg_extern(immutable, strict, parallel_safe, name = "_is_session_key")]
pub fn is_session_key(value: &str) -> bool {
    integrity::is_session_key(value)
}

/// A relative file path inside a bundle (no `..`, absolute paths or backslashes).
#[pg_extern(immutable, strict, parallel_safe, name = "_is_bundle_path")]
pub fn is_bundle_path(value: &str) -> bool {
    integrity::is_bundle_path(value)
}

/// The device's bucket (0 to 9999) in a progressive rollout; inside when below the share.
#[pg_extern(immutable, strict, parallel_safe, name = "_rollout_bucket")]
pub fn rollout_bucket(device_id: &str, rollout_id: i64) -> i32 {
    liveupdate_core::rollout::bucket(device_id, rollout_id) as i32
}
