//! `liveupdate._explain_update(jsonb)`: what `resolve_update` answers a device and why, from the
//! same lookup, for the management API's dry run (`api_preview_update`). Nothing is recorded.

use liveupdate_core::request::UpdateRequest;
use liveupdate_core::rollout;
use pgrx::JsonB;
use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiResult};
use serde_json::{Value, json};

use crate::resolve::{self, Via};

/// The facts `why` reports of the chosen channel, beyond what the lookup reads.
const CHANNEL_SQL: &str = "SELECT c.name, \
        coalesce((SELECT b.name FROM liveupdate.bundles AS b WHERE b.id = c.bundle_id), 'builtin'), \
        c.rollout_id, (SELECT b.name FROM liveupdate.bundles AS b WHERE b.id = c.rollout_bundle_id), \
        c.rollout_basis_points, c.rollout_paused \
    FROM liveupdate.channels AS c WHERE c.id = $1";

/// `{answer, why}`: `answer` is exactly `resolve_update`'s; `why` is `{via, channel,
/// channel_bundle, rollout}` (via: override, default_channel, public or none; rollout: null, or
/// the device's view of the channel's rollout).
#[pg_extern(stable, strict, parallel_safe, name = "_explain_update")]
#[search_path(pg_catalog, pg_temp)]
fn explain_update(request: JsonB) -> JsonB {
    let req = match UpdateRequest::from_json(&request.0) {
        Ok(req) => req,
        // Refused before any lookup: no channel was considered.
        Err(refusal) => return JsonB(json!({"answer": refusal.to_json(), "why": no_channel()})),
    };
    Spi::connect(|client| explain(client, &req))
        .map(JsonB)
        .unwrap_or_else(|e| pgrx::error!("liveupdate: update lookup failed: {e}"))
}

fn explain(client: &SpiClient<'_>, req: &UpdateRequest) -> SpiResult<Value> {
    let found = resolve::lookup(client, req)?;
    let answer = resolve::answer_found(client, req, found.as_ref())?;
    let why = match found.and_then(|found| found.chosen) {
        Some((channel_pk, via)) => why(client, req, channel_pk, via)?,
        None => no_channel(),
    };
    Ok(json!({"answer": answer, "why": why}))
}

fn no_channel() -> Value {
    json!({"via": "none", "channel": null, "channel_bundle": null, "rollout": null})
}

fn why(client: &SpiClient<'_>, req: &UpdateRequest, channel_pk: i64, via: Via) -> SpiResult<Value> {
    let rows = client.select(CHANNEL_SQL, Some(1), &[channel_pk.into()])?;
    let row = rows.first();
    let rollout = match row.get::<i64>(3)? {
        None => Value::Null,
        Some(rollout_id) => {
            let rollout_bundle = row.get::<String>(4)?;
            let basis_points = u32::try_from(row.get::<i32>(5)?.unwrap_or_default()).unwrap_or(0);
            let paused = row.get::<bool>(6)?.unwrap_or(false);
            json!({
                "bundle": rollout_bundle,
                "basis_points": basis_points,
                "paused": paused,
                "device_bucket": rollout::bucket(&req.device_id, rollout_id),
                "inside": rollout::selects(&req.device_id, rollout_id, basis_points, paused),
                // The lookup's other reason: a device already on the rollout's bundle keeps it.
                "already_on_it": rollout_bundle.as_deref() == Some(req.version_name.as_str()),
            })
        }
    };
    Ok(json!({
        "via": via.name(),
        "channel": row.get::<String>(1)?,
        "channel_bundle": row.get::<String>(2)?,
        "rollout": rollout,
    }))
}
