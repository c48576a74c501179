//! The channel-selection rule for SQL statements that attribute devices to channels
//! (`sql/resolve.sql`, `sql/rollups/versions.sql`, the console's reads): the core crate's
//! `ChannelRules`, so that every statement and `/channel_self` pick channels by one definition.

use liveupdate_core::fields::Platform;
use liveupdate_core::policy::ChannelRules;
use pgrx::prelude::*;

/// Whether a device of `platform` that names this channel (its defaultChannel) is served from
/// it: the channel is public or self-settable, and on for the platform. The arguments are the
/// channel's columns of the same names. An unknown platform selects nothing.
#[pg_extern(immutable, strict, parallel_safe, name = "_channel_selectable_by_name")]
pub fn channel_selectable_by_name(
    public: bool,
    allow_device_self_set: bool,
    ios: bool,
    android: bool,
    electron: bool,
    platform: &str,
) -> bool {
    let Some(platform) = Platform::parse(platform) else { return false };
    let rules = ChannelRules {
        public,
        allow_device_self_set,
        ios,
        android,
        electron,
        ..ChannelRules::with_defaults("")
    };
    rules.selectable_by_name(platform)
}
