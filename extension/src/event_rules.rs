//! The core crate's event rules as SQL functions, so the rollups and the failure guard (plain SQL
//! over millions of rows) classify events exactly as the stats path does.

use liveupdate_core::stats;
use pgrx::prelude::*;

/// A `*_fail` event: the bundle it names failed on the device.
#[pg_extern(immutable, strict, parallel_safe, name = "_is_failure_action")]
pub fn is_failure_action(action: &str) -> bool {
    stats::is_failure(action)
}

/// Whether the event's version_name is the bundle the device runs (for adoption).
#[pg_extern(immutable, strict, parallel_safe, name = "_reports_running_bundle")]
pub fn reports_running_bundle(action: &str) -> bool {
    stats::reports_running_bundle(action)
}

/// The event that says a device fetched a bundle whole: the "get" counter and bandwidth.
#[pg_extern(immutable, strict, parallel_safe, name = "_is_download_action")]
pub fn is_download_action(action: &str) -> bool {
    stats::is_completed_download(action)
}

/// The bundle an event names (per-file failures send `<version>:<file>`).
#[pg_extern(immutable, strict, parallel_safe, name = "_bundle_name_of")]
pub fn bundle_name_of(version_name: &str) -> &str {
    stats::bundle_name_of(version_name)
}
