//! Ed25519 checks for signed publishing (the rule lives in `liveupdate_core::signing`).

use liveupdate_core::signing;
use pgrx::prelude::*;

/// Whether `signature` (base64) is the signature of bundle (app, version, checksum) by the
/// ed25519 key `public_key` (32 bytes).
#[pg_extern(immutable, strict, parallel_safe, name = "_bundle_signature_valid")]
pub fn bundle_signature_valid(
    public_key: &[u8],
    app_id: &str,
    version: &str,
    checksum: &str,
    signature: &str,
) -> bool {
    signing::verify(public_key, app_id, version, checksum, signature)
}

/// The 32 bytes of an ed25519 public key given as base64, or NULL when it is not one.
#[pg_extern(immutable, strict, parallel_safe, name = "_decode_signing_key")]
pub fn decode_signing_key(text: &str) -> Option<Vec<u8>> {
    signing::decode_public_key(text).map(|bytes| bytes.to_vec())
}
