//! A channel's delivery rules (protocol.md §3.1, §3.2 step 7), checked against a device.

use std::cmp::Ordering;

use crate::answer::{Code, Refusal};
use crate::fields::Platform;
use crate::request::UpdateRequest;
use crate::version::{self, Version};

/// How far above the native version a channel may take a device (`disable_auto_update`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoUpdateLimit {
    /// No bundle of a higher major than the native version.
    Major,
    /// No bundle of a higher major.minor than the native version.
    Minor,
    /// Only a higher patch of the native major.minor.
    Patch,
    /// The bundle's `min_update_version` must not be above the native version.
    VersionNumber,
    None,
}

impl AutoUpdateLimit {
    pub fn parse(value: &str) -> Option<AutoUpdateLimit> {
        match value {
            "major" => Some(AutoUpdateLimit::Major),
            "minor" => Some(AutoUpdateLimit::Minor),
            "patch" => Some(AutoUpdateLimit::Patch),
            "version_number" => Some(AutoUpdateLimit::VersionNumber),
            "none" => Some(AutoUpdateLimit::None),
            _ => None,
        }
    }
}

/// The channel a device resolved to, as the database holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRules {
    pub name: String,
    /// The channel came from a per-device override, which bypasses the self-assignment rule.
    pub via_override: bool,
    pub public: bool,
    pub allow_device_self_set: bool,
    pub ios: bool,
    pub android: bool,
    pub electron: bool,
    pub allow_emulator: bool,
    pub allow_device: bool,
    pub allow_dev: bool,
    pub allow_prod: bool,
    pub auto_update_limit: AutoUpdateLimit,
    pub block_under_native: bool,
}

impl ChannelRules {
    /// The defaults of a new channel (protocol.md §3.1).
    pub fn with_defaults(name: &str) -> ChannelRules {
        ChannelRules {
            name: name.to_owned(),
            via_override: false,
            public: false,
            allow_device_self_set: false,
            ios: true,
            android: true,
            electron: true,
            allow_emulator: true,
            allow_device: true,
            allow_dev: true,
            allow_prod: true,
            auto_update_limit: AutoUpdateLimit::Major,
            block_under_native: true,
        }
    }

    pub fn serves_platform(&self, platform: Platform) -> bool {
        match platform {
            Platform::Ios => self.ios,
            Platform::Android => self.android,
            Platform::Electron => self.electron,
        }
    }

    /// Serves this kind of build: a physical device or an emulator, a production or a dev build.
    pub fn serves_build(&self, is_emulator: bool, is_prod: bool) -> bool {
        let hardware = if is_emulator { self.allow_emulator } else { self.allow_device };
        let build = if is_prod { self.allow_prod } else { self.allow_dev };
        hardware && build
    }

    /// A device may choose this channel by name: it is public or open to self-assignment.
    /// (An override is the admin's choice and needs neither.)
    pub fn open_to_devices(&self) -> bool {
        self.public || self.allow_device_self_set
    }

    /// A device of `platform` that names this channel (defaultChannel) is served from it: the
    /// channel is open to devices and on for the platform. Otherwise the device has no channel
    /// (there is no fallback). Its kind of build is checked afterwards, with refusal codes of
    /// its own ([`check`]).
    pub fn selectable_by_name(&self, platform: Platform) -> bool {
        self.open_to_devices() && self.serves_platform(platform)
    }

    /// The channels `/channel_self` offers a device: ones it may choose that serve its platform
    /// and its kind of build.
    pub fn offered_to(&self, platform: Platform, is_emulator: bool, is_prod: bool) -> bool {
        self.selectable_by_name(platform) && self.serves_build(is_emulator, is_prod)
    }
}

/// What the channel points at: a bundle's version and `min_update_version`, or builtin.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetVersion<'a> {
    Builtin,
    Bundle { version: &'a Version, min_update_version: Option<&'a Version> },
}

impl TargetVersion<'_> {
    fn name(&self) -> String {
        match self {
            TargetVersion::Builtin => "builtin".to_owned(),
            TargetVersion::Bundle { version, .. } => version.to_string(),
        }
    }
}

/// Runs the channel checks in the reference backend's order; the first failing one decides.
/// Version checks compare with the native `version_build`, never with the running bundle, and are
/// skipped for a builtin target.
pub fn check(channel: &ChannelRules, target: &TargetVersion<'_>, req: &UpdateRequest) -> Result<(), Refusal> {
    let target_name = target.name();
    let native = &req.version_build;
    let native_text = native.to_string();
    // `old` is the running bundle for device-state refusals, the native version for version limits.
    let refuse_device =
        |code| Refusal::new(code).with("version", target_name.clone()).with("old", req.version_name.clone());
    let refuse_version = |code| {
        Refusal::new(code)
            .with("major", true)
            .with("version", target_name.clone())
            .with("old", native_text.clone())
    };

    if !channel.serves_platform(req.platform) {
        let code = match req.platform {
            Platform::Ios => Code::DisabledPlatformIos,
            Platform::Android => Code::DisabledPlatformAndroid,
            Platform::Electron => Code::DisabledPlatformElectron,
        };
        return Err(refuse_device(code));
    }
    let bundle = match target {
        TargetVersion::Bundle { version, min_update_version } => Some((*version, *min_update_version)),
        TargetVersion::Builtin => None,
    };
    let limit = channel.auto_update_limit;
    if let Some((version, _)) = bundle
        && limit == AutoUpdateLimit::Major
        && version.major > native.major
    {
        return Err(refuse_version(Code::DisableAutoUpdateToMajor));
    }
    if !channel.open_to_devices() && !channel.via_override {
        return Err(Refusal::new(Code::CannotUpdateViaPrivateChannel));
    }
    if let Some((version, min_update_version)) = bundle {
        match limit {
            AutoUpdateLimit::Minor if (version.major, version.minor) > (native.major, native.minor) => {
                return Err(refuse_version(Code::DisableAutoUpdateToMinor));
            }
            AutoUpdateLimit::Patch
                if !(version.major == native.major
                    && version.minor == native.minor
                    && version.patch > native.patch) =>
            {
                return Err(refuse_version(Code::DisableAutoUpdateToPatch));
            }
            AutoUpdateLimit::VersionNumber => match min_update_version {
                None => {
                    return Err(Refusal::new(Code::MisconfiguredChannel)
                        .with("version", target_name.clone())
                        .with("old", native_text.clone()));
                }
                Some(min) if version::precedence(min, native) == Ordering::Greater => {
                    return Err(refuse_version(Code::DisableAutoUpdateToMetadata));
                }
                Some(_) => {}
            },
            _ => {}
        }
        if channel.block_under_native && version::precedence(version, native) == Ordering::Less {
            return Err(refuse_device(Code::DisableAutoUpdateUnderNative));
        }
    }
    if !channel.allow_prod && req.is_prod {
        return Err(refuse_device(Code::DisableProdBuild));
    }
    if !channel.allow_dev && !req.is_prod {
        return Err(refuse_device(Code::DisableDevBuild));
    }
    if !channel.allow_device && !req.is_emulator {
        return Err(refuse_device(Code::DisableDevice));
    }
    if !channel.allow_emulator && req.is_emulator {
        return Err(refuse_device(Code::DisableEmulator));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_channels_serve_the_platform_and_the_build() {
        let mut channel = ChannelRules::with_defaults("beta");
        assert!(!channel.offered_to(Platform::Ios, false, true), "neither public nor self-settable");
        channel.allow_device_self_set = true;
        assert!(channel.offered_to(Platform::Ios, false, true));
        channel.ios = false;
        assert!(!channel.offered_to(Platform::Ios, false, true));
        assert!(channel.offered_to(Platform::Android, false, true));
        channel.allow_emulator = false;
        assert!(!channel.offered_to(Platform::Android, true, true));
        assert!(channel.offered_to(Platform::Android, false, true));
        channel.allow_dev = false;
        assert!(!channel.offered_to(Platform::Android, false, false));
        channel.allow_device_self_set = false;
        channel.public = true;
        assert!(channel.offered_to(Platform::Android, false, true), "public channels are offered too");
        channel.allow_device = false;
        assert!(!channel.offered_to(Platform::Android, false, true));
    }

    #[test]
    fn a_named_channel_is_selectable_when_open_to_devices_and_on_for_the_platform() {
        let mut channel = ChannelRules::with_defaults("beta");
        assert!(!channel.selectable_by_name(Platform::Android), "private");
        channel.public = true;
        assert!(channel.selectable_by_name(Platform::Android));
        channel.public = false;
        channel.allow_device_self_set = true;
        channel.allow_emulator = false;
        channel.allow_prod = false;
        assert!(
            channel.selectable_by_name(Platform::Android),
            "the build is checked later, with its own code"
        );
        channel.android = false;
        assert!(!channel.selectable_by_name(Platform::Android));
        assert!(channel.selectable_by_name(Platform::Electron));
    }
}
