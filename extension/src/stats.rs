//! `liveupdate.record_stats(jsonb)`: stores a batch of device events in one transaction and answers
//! with the body `POST /stats` sends back (protocol.md §5).

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use liveupdate_core::answer::{Code, Refusal};
use liveupdate_core::stats::{self, EventOutcome, ParsedStats, StatsBatch, StatsEvent};
use pgrx::JsonB;
use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiResult};
use serde_json::{Value, json};

use crate::json_text;
use crate::plans::{INT8, JSON, TEXT, TEXT_ARRAY, with_plan, with_write_plan};

const INSERT_EVENTS_SQL: &str = include_str!("../../sql/stats/insert_events.sql");
const UPSERT_DEVICES_SQL: &str = include_str!("../../sql/stats/upsert_devices.sql");
const REMEMBER_FAILURES_SQL: &str = include_str!("../../sql/stats/remember_failures.sql");
const APP_SQL: &str = "SELECT id, allow_custom_id FROM liveupdate.apps WHERE app_id = $1";
/// Whether the partition of today's events (UTC, as ensure_event_partitions names it) exists.
const TODAYS_PARTITION_EXISTS_SQL: &str = "SELECT to_regclass(format('liveupdate.device_events_p%s', \
     to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD'))) IS NOT NULL";
const BUNDLES_SQL: &str = "SELECT name, id FROM liveupdate.bundles WHERE app_id = $1 AND name = ANY($2)";

thread_local! {
    /// The UTC day (days since 1970) whose event partition this backend has made sure exists.
    static PARTITION_READY_FOR: Cell<Option<i64>> = const { Cell::new(None) };
}

/// Stores a stats batch (a JSON array of events, or one event object) and returns the answer body.
#[pg_extern(volatile, strict, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn record_stats(batch: JsonB) -> JsonB {
    JsonB(record(&batch.0))
}

/// [`record_stats`] for the gateway, JSON text in and out (see `json_text`).
#[pg_extern(volatile, strict, parallel_unsafe, security_definer, name = "_record_stats_text")]
#[search_path(pg_catalog, pg_temp)]
fn record_stats_text(batch: &str) -> String {
    json_text::answer_text(batch, record)
}

fn record(value: &Value) -> Value {
    match stats::parse_value(value) {
        ParsedStats::Empty => stats::response_body(false, &[]),
        ParsedStats::Answer(refusal) => refusal.to_json(),
        ParsedStats::Batch(batch) => Spi::connect_mut(|client| store(client, &batch))
            .unwrap_or_else(|e| pgrx::error!("liveupdate: storing stats failed: {e}")),
    }
}

fn store(client: &mut SpiClient<'_>, batch: &StatsBatch) -> SpiResult<Value> {
    let app = with_plan(
        client,
        "stats_app",
        || APP_SQL.to_owned(),
        &[TEXT],
        |plan| {
            let rows = client.select(plan, Some(1), &[batch.app_id.as_str().into()])?;
            if rows.is_empty() {
                return Ok(None);
            }
            let row = rows.first();
            Ok(Some((row.get::<i64>(1)?.unwrap_or(0), row.get::<bool>(2)?.unwrap_or(true))))
        },
    )?;
    let Some((app_pk, allow_custom_id)) = app else {
        // Acknowledged (2xx) so the plugin drops the events instead of retrying them forever.
        return Ok(Refusal::new(Code::AppNotFound).with_more_info("app_id", batch.app_id.clone()).to_json());
    };
    let bundles = bundle_ids(client, app_pk, batch)?;

    let mut outcomes = Vec::with_capacity(batch.events.len());
    let mut rows = Vec::new();
    // Per device: its latest non-failure event, and the latest bundle it said it runs.
    let mut latest_by_device: HashMap<&str, (&StatsEvent, Option<&str>)> = HashMap::new();
    let mut failures: HashMap<(&str, i64), &str> = HashMap::new();
    let mut custom_id_refused: HashSet<&str> = HashSet::new();
    for event in &batch.events {
        let event = match event {
            Err(refusal) => {
                outcomes.push(EventOutcome::Refused(refusal.clone()));
                continue;
            }
            Ok(event) if event.is_ignored() => {
                outcomes.push(EventOutcome::Ignored);
                continue;
            }
            Ok(event) => event,
        };
        let bundle_name = stats::bundle_name_of(&event.version_name);
        let bundle_id = bundles.get(bundle_name).copied();
        if stats::needs_bundle(bundle_name) && bundle_id.is_none() {
            outcomes.push(EventOutcome::Refused(
                Refusal::new(Code::VersionNotFound)
                    .with_more_info("app_id", batch.app_id.clone())
                    .with_more_info("version_name", event.version_name.clone()),
            ));
            continue;
        }
        outcomes.push(EventOutcome::Stored);
        let mut row = event.to_json();
        row["bundle_id"] = json!(bundle_id);
        rows.push(row);
        if event.custom_id.is_some() && !allow_custom_id {
            custom_id_refused.insert(&event.device_id);
        }
        if !stats::is_failure(&event.action) {
            let entry = latest_by_device.entry(&event.device_id).or_insert((event, None));
            entry.0 = event;
            // An empty version_name says nothing about the running bundle.
            if stats::reports_running_bundle(&event.action) && !event.version_name.is_empty() {
                entry.1 = Some(&event.version_name);
            }
        }
        if let Some(bundle_id) = bundle_id.filter(|_| stats::blocks_bundle_on_device(&event.action)) {
            failures.insert((&event.device_id, bundle_id), &event.action);
        }
    }
    for device_id in custom_id_refused {
        rows.push(json!({
            "device_id": device_id, "action": stats::CUSTOM_ID_BLOCKED, "version_name": "unknown",
            "is_prod": true, "is_emulator": false
        }));
    }

    if !rows.is_empty() {
        ensure_todays_partition(client)?;
        write(client, "stats_insert_events", INSERT_EVENTS_SQL, app_pk, Value::Array(rows))?;
    }
    if !latest_by_device.is_empty() {
        let devices = latest_by_device
            .values()
            .map(|(event, running)| device_row(event, *running, allow_custom_id))
            .collect();
        write(client, "stats_upsert_devices", UPSERT_DEVICES_SQL, app_pk, Value::Array(devices))?;
    }
    if !failures.is_empty() {
        let failures = failures
            .iter()
            .map(|((device_id, bundle_id), action)| json!({"device_id": device_id, "bundle_id": bundle_id, "action": action}))
            .collect();
        write(client, "stats_remember_failures", REMEMBER_FAILURES_SQL, app_pk, Value::Array(failures))?;
    }
    Ok(stats::response_body(batch.single, &outcomes))
}

/// The ids of the app's bundles that the batch's events name (deleted bundles included: their
/// events are still true).
fn bundle_ids(client: &SpiClient<'_>, app_pk: i64, batch: &StatsBatch) -> SpiResult<HashMap<String, i64>> {
    let mut names: Vec<String> = batch
        .events
        .iter()
        .flatten()
        .map(|e| stats::bundle_name_of(&e.version_name))
        .filter(|name| stats::needs_bundle(name))
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    with_plan(
        client,
        "stats_bundles",
        || BUNDLES_SQL.to_owned(),
        &[INT8, TEXT_ARRAY],
        |plan| {
            let mut found = HashMap::new();
            for row in client.select(plan, None, &[app_pk.into(), names.into()])? {
                if let (Some(name), Some(id)) = (row.get::<String>(1)?, row.get::<i64>(2)?) {
                    found.insert(name, id);
                }
            }
            Ok(found)
        },
    )
}

fn device_row(event: &StatsEvent, running_version: Option<&str>, allow_custom_id: bool) -> Value {
    json!({
        "device_id": event.device_id,
        "platform": event.platform,
        "plugin_version": event.plugin_version,
        "version_build": event.version_build.as_ref().map(ToString::to_string),
        "running_version": running_version,
        "version_code": event.version_code,
        "version_os": event.version_os,
        "is_prod": event.is_prod,
        "is_emulator": event.is_emulator,
        "install_source": event.install_source,
        "custom_id": if allow_custom_id { event.custom_id.as_deref() } else { None },
        "default_channel": event.default_channel,
        "key_id": event.key_id,
    })
}

/// Runs one of the batch's write statements: `($1 app, $2 rows)`. The rows go as `json`, not
/// `jsonb`: the statements read them once (json_to_recordset), and building a jsonb value first
/// (parse, then sort every object's keys) took about a fifth of the backend's time on /stats.
fn write(
    client: &mut SpiClient<'_>,
    name: &'static str,
    sql: &str,
    app_pk: i64,
    rows: Value,
) -> SpiResult<()> {
    with_write_plan(client, name, sql, &[INT8, JSON], |client, plan| {
        client.update(plan, None, &[app_pk.into(), pgrx::Json(rows).into()])?;
        Ok(())
    })
}

/// Events go to the partition of the day they are received; make sure it exists, once per backend
/// per day. run_periodic creates partitions days ahead and holds their lock while it runs, so the
/// lock is only asked for when the day's partition is missing (a new database, or no periodic run
/// for days): otherwise the day's first batch of each backend would wait for a running run.
fn ensure_todays_partition(client: &mut SpiClient<'_>) -> SpiResult<()> {
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| (elapsed.as_secs() / 86_400) as i64)
        .unwrap_or_default();
    if PARTITION_READY_FOR.get() == Some(today) {
        return Ok(());
    }
    let exists =
        client.select(TODAYS_PARTITION_EXISTS_SQL, Some(1), &[])?.first().get::<bool>(1)?.unwrap_or(false);
    if !exists {
        client.update("SELECT liveupdate.ensure_event_partitions(1)", None, &[])?;
    }
    PARTITION_READY_FOR.set(Some(today));
    Ok(())
}
