//! Signed publishing: an app may require every bundle to carry an ed25519 signature by one of its
//! registered keys. The signature covers the app, the version and the zip's SHA-256, which in turn
//! covers every file and path the manifest is built from; the server verifies it before the
//! bundle is registered. (Devices do not see it: the plugin has no signature field.)

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// The bytes that are signed.
pub fn signed_message(app_id: &str, version: &str, checksum: &str) -> String {
    format!("liveupdate-bundle-signature-v1\napp_id={app_id}\nversion={version}\nchecksum={checksum}\n")
}

/// The base64 signature of a bundle by `key`.
pub fn sign(key: &SigningKey, app_id: &str, version: &str, checksum: &str) -> String {
    STANDARD.encode(key.sign(signed_message(app_id, version, checksum).as_bytes()).to_bytes())
}

/// Whether `signature` (base64) is `public_key`'s (32 raw bytes) signature of this bundle.
/// Malformed keys and signatures are simply not valid.
pub fn verify(public_key: &[u8], app_id: &str, version: &str, checksum: &str, signature: &str) -> bool {
    let Ok(key_bytes) = <[u8; 32]>::try_from(public_key) else { return false };
    let Ok(key) = VerifyingKey::from_bytes(&key_bytes) else { return false };
    let Ok(signature_bytes) = STANDARD.decode(signature.trim()) else { return false };
    let Ok(signature) = Signature::from_slice(&signature_bytes) else { return false };
    key.verify_strict(signed_message(app_id, version, checksum).as_bytes(), &signature).is_ok()
}

/// A public key as registered with an app: 32 bytes, base64. `None` when it is not one.
pub fn decode_public_key(text: &str) -> Option<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    let bytes = <[u8; 32]>::try_from(bytes.as_slice()).ok()?;
    VerifyingKey::from_bytes(&bytes).ok().map(|_| bytes)
}

pub fn encode_public_key(key: &VerifyingKey) -> String {
    STANDARD.encode(key.to_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_app_version_and_checksum() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = key.verifying_key().to_bytes();
        let signature = sign(&key, "com.a.b", "1.0.0", "ab");
        assert!(verify(&public, "com.a.b", "1.0.0", "ab", &signature));
        assert!(!verify(&public, "com.a.c", "1.0.0", "ab", &signature));
        assert!(!verify(&public, "com.a.b", "1.0.1", "ab", &signature));
        assert!(!verify(&public, "com.a.b", "1.0.0", "ac", &signature));
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key().to_bytes();
        assert!(!verify(&other, "com.a.b", "1.0.0", "ab", &signature));
        assert!(!verify(&public, "com.a.b", "1.0.0", "ab", "not base64!"));
        assert!(!verify(&public[..31], "com.a.b", "1.0.0", "ab", &signature));
        assert_eq!(decode_public_key(&encode_public_key(&key.verifying_key())), Some(public));
        assert_eq!(decode_public_key("AAAA"), None);
    }
}
