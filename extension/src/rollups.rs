//! The statistics rollups' orchestration (see sql/rollups.sql for the tables and what they
//! count): `aggregate_stats` takes the run's lock, reads the watermark, walks the backlog in
//! chunks of one UTC day at most (`liveupdate_core::rollups`), and records how far it got;
//! `_aggregate_chunk` runs the set-based statements of one chunk, kept in sql/rollups/.
//!
//! Their `CREATE FUNCTION` statements are in sql/rollups.sql (`sql = false` here): they need
//! settings pgrx cannot declare (SECURITY DEFINER, TimeZone UTC, a chunk's work_mem).

use liveupdate_core::rollups;
use pgrx::JsonB;
use pgrx::datetime::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiResult};

const CHUNK_EVENTS_SQL: &str = include_str!("../../sql/rollups/chunk_events.sql");
const ACTIVITY_SQL: &str = include_str!("../../sql/rollups/activity.sql");
const VERSIONS_SQL: &str = include_str!("../../sql/rollups/versions.sql");
const ADOPTION_SQL: &str = include_str!("../../sql/rollups/adoption.sql");
const FINISH_RUN_SQL: &str = include_str!("../../sql/rollups/finish_run.sql");
const FORGET_DEVICE_VERSIONS_SQL: &str = include_str!("../../sql/rollups/forget_device_versions.sql");
const FORGET_DEVICE_ACTIVITY_SQL: &str = include_str!("../../sql/rollups/forget_device_activity.sql");

/// Adds the events received in `[from_time, to_time)`, which lie within one UTC day, to every
/// rollup; returns how many there were.
#[pg_extern(sql = false)]
fn aggregate_chunk(from_time: Option<TimestampWithTimeZone>, to_time: Option<TimestampWithTimeZone>) -> i64 {
    let (Some(from_time), Some(to_time)) = (from_time, to_time) else {
        return 0;
    };
    Spi::connect_mut(|client| add_chunk(client, from_time, to_time))
        .unwrap_or_else(|e| pgrx::error!("liveupdate: aggregating statistics failed: {e}"))
}

fn add_chunk(
    client: &mut SpiClient<'_>,
    from_time: TimestampWithTimeZone,
    to_time: TimestampWithTimeZone,
) -> SpiResult<i64> {
    // Not kept plans: each chunk has a temporary table of its own.
    let events = client.update(CHUNK_EVENTS_SQL, None, &[from_time.into(), to_time.into()])?.len();
    if events > 0 {
        client.update("ANALYZE pg_temp.stats_chunk", None, &[])?;
        client.update(ACTIVITY_SQL, None, &[from_time.into()])?;
        client.update(VERSIONS_SQL, None, &[])?;
        client.update(ADOPTION_SQL, None, &[from_time.into()])?;
    }
    client.update("DROP TABLE pg_temp.stats_chunk", None, &[])?;
    Ok(i64::try_from(events).unwrap_or(i64::MAX))
}

/// Brings the rollups up to date with every event committed so far; `{skipped: true}` while
/// another run holds the lock.
#[pg_extern(sql = false)]
fn aggregate_stats() -> JsonB {
    JsonB(
        Spi::connect_mut(run)
            .unwrap_or_else(|e| pgrx::error!("liveupdate: aggregating statistics failed: {e}")),
    )
}

fn run(client: &mut SpiClient<'_>) -> SpiResult<serde_json::Value> {
    let locked = client
        .select("SELECT pg_try_advisory_xact_lock(hashtext('liveupdate.aggregate_stats'))", None, &[])?
        .first()
        .get_one::<bool>()?;
    if locked != Some(true) {
        return Ok(serde_json::json!({"skipped": true}));
    }
    // Before anything else in the transaction: the bound must come from a fresh look.
    let safe_until = timestamp(client, "SELECT liveupdate._stats_safe_until()")?;
    client.update(
        "INSERT INTO liveupdate.stats_progress DEFAULT VALUES ON CONFLICT DO NOTHING",
        None,
        &[],
    )?;
    let watermark = timestamp(client, "SELECT aggregated_until FROM liveupdate.stats_progress")?;
    let mut done_until = if watermark.is_neg_infinity() {
        // A first run starts at the oldest event partition.
        match client.select("SELECT liveupdate._oldest_event_day()", None, &[])?.first().get_one()? {
            Some(oldest) => earlier(oldest, safe_until),
            None => safe_until,
        }
    } else {
        watermark
    };
    let mut added: i64 = 0;
    for (start, end) in rollups::day_chunks(micros(done_until), micros(safe_until)) {
        let (start, end) = (at(start), at(end));
        // Through SQL, so that the chunk runs with its function's settings (work_mem).
        let events = client
            .update("SELECT liveupdate._aggregate_chunk($1, $2)", None, &[start.into(), end.into()])?
            .first()
            .get_one::<i64>()?;
        added += events.unwrap_or(0);
        done_until = end;
    }
    client.update(FINISH_RUN_SQL, None, &[done_until.into(), added.into()])?;
    // Bookkeeping a device's next event would not need: it would be new anyway.
    client.update(FORGET_DEVICE_VERSIONS_SQL, None, &[done_until.into()])?;
    client.update(FORGET_DEVICE_ACTIVITY_SQL, None, &[done_until.into()])?;
    let answer = client
        .update(
            "SELECT jsonb_build_object('events', $1::bigint, 'aggregated_until', $2::timestamptz, \
             'storage_measured', liveupdate._measure_storage())",
            None,
            &[added.into(), done_until.into()],
        )?
        .first()
        .get_one::<JsonB>()?;
    Ok(answer.map(|answer| answer.0).unwrap_or_default())
}

fn timestamp(client: &SpiClient<'_>, query: &str) -> SpiResult<TimestampWithTimeZone> {
    let value = client.select(query, None, &[])?.first().get_one::<TimestampWithTimeZone>()?;
    // Both queries always return a value (a NULL would be a broken installation).
    Ok(value.unwrap_or_else(TimestampWithTimeZone::negative_infinity))
}

fn micros(time: TimestampWithTimeZone) -> i64 {
    pg_sys::TimestampTz::from(time)
}

fn earlier(a: TimestampWithTimeZone, b: TimestampWithTimeZone) -> TimestampWithTimeZone {
    if micros(a) <= micros(b) { a } else { b }
}

/// A chunk boundary: between two valid timestamps, so always valid itself.
fn at(micros: i64) -> TimestampWithTimeZone {
    TimestampWithTimeZone::try_from(micros)
        .unwrap_or_else(|e| pgrx::error!("liveupdate: a rollup chunk boundary is out of range: {e}"))
}
