//! What each updater client line understands (protocol.md §2.4, §11).
//!
//! Two clients speak this protocol. `@capgo/capacitor-updater` is maintained on several major lines
//! at once (5.x, 6.x, 7.x, 8.x) and features were backported with a different minimum per line, so
//! each of its gates is a per-major threshold. `@capgo/electron-updater` (`platform: "electron"`)
//! has a version line of its own, starting again at 0.0.1, so the Capacitor thresholds say nothing
//! about it: its gates follow what its current release does (read from its npm package, 0.0.6).

use crate::fields::Platform;
use crate::version::Version;

/// Which updater client sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Capacitor,
    Electron,
}

impl Client {
    pub fn of(platform: Platform) -> Client {
        match platform {
            Platform::Electron => Client::Electron,
            Platform::Ios | Platform::Android => Client::Capacitor,
        }
    }
}

/// The plugin version a device reported, on its client's line, with the feature gates the server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginVersion {
    pub client: Client,
    pub version: Version,
}

impl PluginVersion {
    pub fn new(client: Client, version: Version) -> PluginVersion {
        PluginVersion { client, version }
    }

    /// Capacitor plugin major 4 spoke a protocol this server does not implement; the reference
    /// backend refuses exactly that major, so this does too.
    pub fn is_unsupported(&self) -> bool {
        self.client == Client::Capacitor && self.version.major == 4
    }

    /// Delta manifests: 5.10.0, 6.25.0, 7.0.35, any 8+. The Electron updater always downloads the
    /// zip and only lays manifest files over it, so it is served the zip alone.
    pub fn supports_manifest(&self) -> bool {
        self.client == Client::Capacitor && self.at_least_on_line(&[(5, 10, 0), (6, 25, 0), (7, 0, 35)], 8)
    }

    /// `link`/`comment` in answers: 5.35.0, 6.35.0, 7.35.0, 8.35.0, prereleases excluded. The
    /// Electron updater does not read them.
    pub fn supports_metadata(&self) -> bool {
        self.client == Client::Capacitor
            && self.version.pre.is_empty()
            && self.at_least_on_line(&[(5, 35, 0), (6, 35, 0), (7, 35, 0), (8, 35, 0)], 9)
    }

    /// The success-shaped `{"version":"builtin"}` that makes a device reset: Capacitor 6.2.0 and
    /// later. The Electron updater acts only on answers with a `url`, so it cannot reset this way.
    pub fn supports_builtin_revert(&self) -> bool {
        self.client == Client::Capacitor && self.at_least(6, 2, 0)
    }

    /// The device compares `key_id` with the bundle's (the reference backend checks after 8.40.7).
    /// The Electron updater sends its key id but never compares it.
    pub fn checks_key_id(&self) -> bool {
        self.client == Client::Capacitor && self.version.cmp_precedence(&Version::new(8, 40, 7)).is_gt()
    }

    /// Capacitor plugins before 5.34.0 / 6.34.0 / 7.34.0 / 8.0.0 keep the device's channel on the
    /// server; later ones, and the Electron updater, keep it on the device and send it as
    /// `defaultChannel`, asking the server only to validate it.
    pub fn server_keeps_channel(&self) -> bool {
        self.client == Client::Capacitor && !self.at_least_on_line(&[(5, 34, 0), (6, 34, 0), (7, 34, 0)], 8)
    }

    /// Capacitor plugins before 7.17.0 (6.x before 6.14.25) sent `download_fail` when there was
    /// simply no update. The Electron updater sends it only when a download really failed.
    pub fn reports_real_download_failures(&self) -> bool {
        match self.client {
            Client::Electron => true,
            Client::Capacitor if self.version.major == 6 => self.at_least(6, 14, 25),
            Client::Capacitor => self.at_least(7, 17, 0),
        }
    }

    fn at_least(&self, major: u64, minor: u64, patch: u64) -> bool {
        self.version.cmp_precedence(&Version::new(major, minor, patch)).is_ge()
    }

    /// True when the version reaches the threshold of its own major line, or is on a line at or
    /// above `every_from_major`, where every release qualifies.
    fn at_least_on_line(&self, thresholds: &[(u64, u64, u64)], every_from_major: u64) -> bool {
        if self.version.major >= every_from_major {
            return true;
        }
        thresholds
            .iter()
            .find(|(major, _, _)| *major == self.version.major)
            .is_some_and(|&(major, minor, patch)| self.at_least(major, minor, patch))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    fn plugin(v: &str) -> PluginVersion {
        PluginVersion::new(Client::Capacitor, Version::parse(v).unwrap())
    }

    fn electron(v: &str) -> PluginVersion {
        PluginVersion::new(Client::Electron, Version::parse(v).unwrap())
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
    }

    #[test]
    fn only_capacitor_major_4_is_unsupported() {
        assert!(plugin("4.0.0").is_unsupported() && plugin("4.99.1").is_unsupported());
        for supported in ["0.0.1", "3.3.1", "5.0.0", "8.51.14"] {
            assert!(!plugin(supported).is_unsupported(), "{supported}");
        }
        assert!(!electron("4.0.0").is_unsupported());
    }

    #[test]
    fn legacy_download_fail() {
        assert!(plugin("7.17.0").reports_real_download_failures());
        assert!(plugin("6.14.25").reports_real_download_failures());
        assert!(!plugin("7.16.9").reports_real_download_failures());
        assert!(!plugin("6.14.24").reports_real_download_failures());
    }

    #[test]
    fn the_electron_line_has_gates_of_its_own() {
        // What @capgo/electron-updater 0.0.6 (plugin_version "0.0.1") does with each answer.
        let e = electron("0.0.1");
        assert!(!e.is_unsupported(), "served, not refused as an old Capacitor plugin");
        assert!(!e.supports_manifest(), "downloads the zip in every case");
        assert!(!e.supports_builtin_revert(), "acts only on answers with a url");
        assert!(!e.supports_metadata() && !e.checks_key_id());
        assert!(!e.server_keeps_channel(), "keeps a set channel locally, sends it as defaultChannel");
        assert!(e.reports_real_download_failures());
        // A high Electron version does not borrow Capacitor's gates either.
        assert!(!electron("9.0.0").supports_manifest());
    }
}
