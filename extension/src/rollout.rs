//! Progressive rollouts: the device's bucket, which `sql/resolve.sql` compares with a rollout's share.

use pgrx::prelude::*;

/// The device's bucket (0 to 9999) in a progressive rollout; inside when below the share.
#[pg_extern(immutable, strict, parallel_safe, name = "_rollout_bucket")]
pub fn rollout_bucket(device_id: &str, rollout_id: i64) -> i32 {
    liveupdate_core::rollout::bucket(device_id, rollout_id) as i32
}
