//! Shapes of the integrity fields a bundle carries (protocol.md §4, §8).

/// Which digests a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestField {
    /// A bundle's `checksum`: may also be empty (unknown) or a legacy CRC32.
    BundleChecksum,
    /// A manifest entry's `file_hash`: always present, never CRC32.
    FileHash,
}

/// A plain SHA-256 digest as the protocol sends it: 64 lowercase hex digits (§4.1: the plugin
/// compares checksums case-sensitively). API key hashes have the same shape.
pub fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64 && is_lower_hex(value)
}

fn is_lower_hex(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `value` is a digest `field` may store, in its stored form: lowercase SHA-256 hex (64),
/// an RSA-2048-encrypted digest as hex (512) or base64 (344 with padding), and for bundle
/// checksums also `""` or a legacy CRC32 (8 lowercase hex).
pub fn is_digest(value: &str, field: DigestField) -> bool {
    canonical_digest(value, field).as_deref() == Some(value)
}

/// The stored form of a digest an uploader gives: plain hex digests (SHA-256, CRC32) lowercased,
/// as devices compare them case-sensitively; encrypted digests as given, since only the device's
/// RSA decryption reads them. `None` when `value` is no digest `field` may hold.
pub fn canonical_digest(value: &str, field: DigestField) -> Option<String> {
    let any_hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    let base64 = |s: &str| {
        let body = s.trim_end_matches('=');
        s.len() - body.len() <= 2 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    let shaped = match value.len() {
        0 | 8 => field == DigestField::BundleChecksum && any_hex(value),
        64 | 512 => any_hex(value),
        342..=344 => base64(value),
        _ => false,
    };
    match value.len() {
        _ if !shaped => None,
        0 | 8 | 64 => Some(value.to_ascii_lowercase()),
        _ => Some(value.to_owned()),
    }
}

/// `"<iv base64>:<encrypted key base64>"`, or `""` for an unencrypted bundle.
pub fn is_session_key(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let base64 = |s: &str| {
        let body = s.trim_end_matches('=');
        !body.is_empty()
            && s.len() - body.len() <= 2
            && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    matches!(value.split_once(':'), Some((iv, key)) if base64(iv) && base64(key))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        use DigestField::*;
        assert!(is_digest(&"a".repeat(64), FileHash));
        assert!(!is_digest(&"A".repeat(64), FileHash), "plain SHA-256 must be lowercase");
        assert!(is_digest(&"F".repeat(512), FileHash));
        assert!(is_digest(&format!("{}==", "Q".repeat(342)), BundleChecksum));
        assert!(is_digest("", BundleChecksum) && !is_digest("", FileHash));
        assert!(is_digest("0badc0de", BundleChecksum) && !is_digest("0badc0de", FileHash));
        assert!(!is_digest("zz", BundleChecksum));
    }

    #[test]
    fn plain_digests_are_stored_lowercase() {
        use DigestField::*;
        let upper = "AB".repeat(32);
        assert_eq!(canonical_digest(&upper, FileHash), Some("ab".repeat(32)));
        assert_eq!(canonical_digest(&upper, BundleChecksum), Some("ab".repeat(32)));
        assert_eq!(canonical_digest("0BADC0DE", BundleChecksum).as_deref(), Some("0badc0de"));
        assert_eq!(canonical_digest("0BADC0DE", FileHash), None, "no CRC32 for files");
        let encrypted = "F".repeat(512);
        assert_eq!(
            canonical_digest(&encrypted, FileHash),
            Some(encrypted.clone()),
            "ciphertext kept as given"
        );
        assert_eq!(canonical_digest(&"g".repeat(64), FileHash), None);
        assert!(is_sha256_hex(&"0f".repeat(32)) && !is_sha256_hex(&"0F".repeat(32)) && !is_sha256_hex("0f"));
    }

    #[test]
    fn session_keys() {
        assert!(is_session_key(""));
        assert!(is_session_key("AAECAwQFBgcICQoLDA0ODw==:c2VjcmV0"));
        assert!(!is_session_key("no-colon"));
        assert!(!is_session_key(":abc"));
        assert!(!is_session_key("a b:c"));
    }
}

/// A file path inside a bundle as the plugin accepts it (protocol.md §4.1-4.2): relative, `/`
/// separated, no `..`, `.` or empty segments, no backslashes or control characters.
pub fn is_bundle_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 1024
        && !path.chars().any(|c| c == '\\' || c.is_control())
        && path.split('/').all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod path_tests {
    use super::is_bundle_path;

    #[test]
    fn bundle_paths() {
        for ok in ["index.html", "assets/app.js.br", "a/b/c d.png", ".well-known/x"] {
            assert!(is_bundle_path(ok), "{ok}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "a/", "./a", "a\nb"] {
            assert!(!is_bundle_path(bad), "{bad:?}");
        }
    }
}
