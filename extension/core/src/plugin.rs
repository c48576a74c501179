//! What each line of `@capgo/capacitor-updater` understands (protocol.md §2.4, §11).
//!
//! The plugin is maintained on several major lines at once (5.x, 6.x, 7.x, 8.x) and features were
//! backported with a different minimum per line, so each gate is a per-major threshold.

use crate::version::Version;

/// The plugin version a device reported, with the feature gates the server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginVersion(pub Version);

impl PluginVersion {
    /// Plugin majors up to 4 speak a protocol this server does not implement.
    pub fn is_unsupported(&self) -> bool {
        self.0.major <= 4
    }

    /// Delta manifests: 5.10.0, 6.25.0, 7.0.35, any 8+.
    pub fn supports_manifest(&self) -> bool {
        self.at_least_on_line(&[(5, 10, 0), (6, 25, 0), (7, 0, 35)], 8)
    }

    /// `link`/`comment` in answers: 5.35.0, 6.35.0, 7.35.0, 8.35.0, prereleases excluded.
    pub fn supports_metadata(&self) -> bool {
        self.0.pre.is_empty() && self.at_least_on_line(&[(5, 35, 0), (6, 35, 0), (7, 35, 0), (8, 35, 0)], 9)
    }

    /// The success-shaped `{"version":"builtin"}` that makes a device reset: 6.2.0 and later.
    pub fn supports_builtin_revert(&self) -> bool {
        self.at_least(6, 2, 0)
    }

    /// The device compares `key_id` with the bundle's (the reference backend checks after 8.40.7).
    pub fn checks_key_id(&self) -> bool {
        self.0.cmp_precedence(&Version::new(8, 40, 7)).is_gt()
    }

    fn at_least(&self, major: u64, minor: u64, patch: u64) -> bool {
        self.0.cmp_precedence(&Version::new(major, minor, patch)).is_ge()
    }

    /// True when the version reaches the threshold of its own major line, or is on a line at or
    /// above `every_from_major`, where every release qualifies.
    fn at_least_on_line(&self, thresholds: &[(u64, u64, u64)], every_from_major: u64) -> bool {
        if self.0.major >= every_from_major {
            return true;
        }
        thresholds
            .iter()
            .find(|(major, _, _)| *major == self.0.major)
            .is_some_and(|&(major, minor, patch)| self.at_least(major, minor, patch))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    fn plugin(v: &str) -> PluginVersion {
        PluginVersion(Version::parse(v).unwrap())
    }

    #[test]
    fn manifest_gate_per_line() {
        for yes in ["5.10.0", "5.50.1", "6.25.0", "7.0.35", "7.1.0", "8.0.0", "9.1.0"] {
            assert!(plugin(yes).supports_manifest(), "{yes}");
        }
        for no in ["4.9.9", "5.9.5", "6.24.9", "6.25.0-beta.1", "7.0.34"] {
            assert!(!plugin(no).supports_manifest(), "{no}");
        }
    }

    #[test]
    fn metadata_gate_excludes_prereleases() {
        assert!(plugin("8.35.0").supports_metadata());
        assert!(plugin("7.35.2").supports_metadata());
        assert!(!plugin("8.34.9").supports_metadata());
        assert!(!plugin("8.36.0-beta.1").supports_metadata());
        assert!(!plugin("6.34.0").supports_metadata());
    }

    #[test]
    fn builtin_revert_and_key_id_gates() {
        assert!(plugin("6.2.0").supports_builtin_revert());
        assert!(!plugin("6.1.9").supports_builtin_revert());
        assert!(!plugin("5.50.1").supports_builtin_revert());
        assert!(plugin("8.40.8").checks_key_id());
        assert!(!plugin("8.40.7").checks_key_id());
        assert!(plugin("4.0.0").is_unsupported());
        assert!(!plugin("5.0.0").is_unsupported());
    }
}
