//! Input checks the SQL layer shares with the core crate: table CHECK constraints and the DBA API
//! call these, so a value the gateway would refuse can never be stored either.

use liveupdate_core::integrity::{self, DigestField};
use liveupdate_core::{fields, resolve, version};
use pgrx::prelude::*;

/// A reverse-domain app id (`com.example.app`), as the plugin's appId must be.
#[pg_extern(immutable, strict, parallel_safe, name = "_is_app_id")]
pub fn is_app_id(value: &str) -> bool {
    fields::is_reverse_domain(value)
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

/// The stored form of a bundle checksum given in any case (plain hex lowercased); NULL when it is
/// no bundle checksum.
#[pg_extern(immutable, strict, parallel_safe, name = "_canonical_bundle_checksum")]
pub fn canonical_bundle_checksum(value: &str) -> Option<String> {
    integrity::canonical_digest(value, DigestField::BundleChecksum)
}

/// The stored form of a manifest file hash given in any case; NULL when it is no file hash.
#[pg_extern(immutable, strict, parallel_safe, name = "_canonical_file_hash")]
pub fn canonical_file_hash(value: &str) -> Option<String> {
    integrity::canonical_digest(value, DigestField::FileHash)
}

/// A plain SHA-256 digest: 64 lowercase hex digits (API key hashes, for one).
#[pg_extern(immutable, strict, parallel_safe, name = "_is_sha256_hex")]
pub fn is_sha256_hex(value: &str) -> bool {
    integrity::is_sha256_hex(value)
}

/// A UUID (8-4-4-4-12 hex digits, any case), as devices send their ids.
#[pg_extern(immutable, strict, parallel_safe, name = "_is_uuid")]
pub fn is_uuid(value: &str) -> bool {
    fields::is_uuid(value)
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
