//! Device overrides: the one place that writes `liveupdate.device_overrides`. The admin SQL API
//! (`set_device_override`, `remove_device_override`, and through them the management API) and
//! `/channel_self` for plugins that keep their channel on the server all write through here.

use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiResult};

use crate::plans::{INT8, TEXT, with_write_plan};

const SET_OVERRIDE_SQL: &str = "INSERT INTO liveupdate.device_overrides (app_id, device_id, channel_id) \
    VALUES ($1, $2::uuid, $3) ON CONFLICT ON CONSTRAINT device_overrides_pkey \
    DO UPDATE SET channel_id = excluded.channel_id, created_at = now()";
const DELETE_OVERRIDE_SQL: &str =
    "DELETE FROM liveupdate.device_overrides WHERE app_id = $1 AND device_id = $2::uuid";

/// Assigns `device_id` (a UUID) of app `app_pk` to channel `channel_pk`, replacing an earlier
/// assignment. Whoever calls decides whether the assignment is allowed.
pub fn write(client: &mut SpiClient<'_>, app_pk: i64, device_id: &str, channel_pk: i64) -> SpiResult<()> {
    with_write_plan(client, "override_write", SET_OVERRIDE_SQL, &[INT8, TEXT, INT8], |client, plan| {
        client.update(plan, None, &[app_pk.into(), device_id.into(), channel_pk.into()])
    })?;
    Ok(())
}

/// Removes the assignment of `device_id`; true when there was one.
pub fn remove(client: &mut SpiClient<'_>, app_pk: i64, device_id: &str) -> SpiResult<bool> {
    with_write_plan(client, "override_remove", DELETE_OVERRIDE_SQL, &[INT8, TEXT], |client, plan| {
        Ok(!client.update(plan, None, &[app_pk.into(), device_id.into()])?.is_empty())
    })
}

/// [`write`] for the SQL API, which has checked the caller's rights and resolved the names. Runs
/// with the caller's rights: row-level security applies to the write.
#[pg_extern(volatile, strict, parallel_unsafe, name = "_write_device_override")]
#[search_path(pg_catalog, pg_temp)]
fn write_device_override(app_pk: i64, device_id: pgrx::Uuid, channel_pk: i64) {
    let device = device_id.to_string();
    Spi::connect_mut(|client| write(client, app_pk, &device, channel_pk))
        .unwrap_or_else(|e| pgrx::error!("liveupdate: writing the device override failed: {e}"));
}

/// [`remove`] for the SQL API; true when the device had an assignment.
#[pg_extern(volatile, strict, parallel_unsafe, name = "_remove_device_override")]
#[search_path(pg_catalog, pg_temp)]
fn remove_device_override(app_pk: i64, device_id: pgrx::Uuid) -> bool {
    let device = device_id.to_string();
    Spi::connect_mut(|client| remove(client, app_pk, &device))
        .unwrap_or_else(|e| pgrx::error!("liveupdate: removing the device override failed: {e}"))
}
