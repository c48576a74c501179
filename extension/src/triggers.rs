//! The extension's bookkeeping triggers, as `#[pg_trigger]` functions: deploy history, each
//! channel's guard row, and the storage objects new bundles use.
//!
//! Their `CREATE FUNCTION` statements are in the SQL files beside the triggers that call them
//! (`sql = false` here), because pgrx cannot state what they need: SECURITY DEFINER (callers may
//! change channels and bundles but not write history, guards or the deletion queue themselves)
//! and a pinned search_path. The statements they run are set-based SQL, kept as plans.
//!
//! The integrity triggers (sql/integrity.sql) stay plpgsql: they are constraints written as
//! predicates over the row, raising the SQL API's documented errors, and belong with the schema.

use pgrx::AllocatedByPostgres;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;

use crate::plans::{BOOL, INT8, with_write_plan};

/// The history row of a channel's deployment: who (the guard, or the caller as
/// `_caller_description` names it) and why (`created`, or the transaction's
/// `liveupdate.deploy_reason`, `deploy` by default).
const RECORD_DEPLOY_SQL: &str = "INSERT INTO liveupdate.deploy_history \
    (app_id, channel_id, from_bundle_id, to_bundle_id, deployed_by, reason) \
    VALUES ($1, $2, $3, $4, \
        CASE WHEN current_setting('liveupdate.deploy_reason', true) = 'guard' THEN 'guard' \
             ELSE liveupdate._caller_description() END, \
        CASE WHEN $5 THEN 'created' \
             ELSE coalesce(nullif(current_setting('liveupdate.deploy_reason', true), ''), 'deploy') END)";
const CREATE_GUARD_SQL: &str = "INSERT INTO liveupdate.channel_guards (channel_id, app_id) VALUES ($1, $2)";
/// Run against the statement's transition table `added` (bundles or manifest entries).
const KEEP_OBJECTS_SQL: &str =
    "DELETE FROM liveupdate.storage_deletions AS d USING added AS a WHERE d.storage_key = a.storage_key";

/// What a trigger could not do; PostgreSQL reports it as the statement's error.
#[derive(Debug)]
pub struct TriggerFailure(String);

impl std::fmt::Display for TriggerFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "liveupdate: {}", self.0)
    }
}

impl std::error::Error for TriggerFailure {}

fn failure(what: &str) -> impl Fn(&dyn std::fmt::Display) -> TriggerFailure + '_ {
    move |e| TriggerFailure(format!("{what}: {e}"))
}

type Outcome<'a> = Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, TriggerFailure>;

/// `AFTER INSERT OR UPDATE OF bundle_id ON channels FOR EACH ROW`: a deployment is a channel's
/// first bundle or a change of it; an update that keeps the bundle records nothing.
#[pg_trigger(sql = false)]
fn record_deploy<'a>(trigger: &'a PgTrigger<'a>) -> Outcome<'a> {
    let fail = failure("recording the deployment");
    let created = matches!(trigger.op().map_err(|e| fail(&e))?, PgTriggerOperation::Insert);
    let new = trigger.new().ok_or_else(|| fail(&"no new row"))?;
    let column =
        |row: &PgHeapTuple<'_, AllocatedByPostgres>, name| row.get_by_name::<i64>(name).map_err(|e| fail(&e));
    let to_bundle = column(&new, "bundle_id")?;
    let from_bundle = match trigger.old() {
        Some(old) if !created => column(&old, "bundle_id")?,
        _ => None,
    };
    if !created && from_bundle == to_bundle {
        return Ok(None);
    }
    let args = [
        column(&new, "app_id")?.into(),
        column(&new, "id")?.into(),
        from_bundle.into(),
        to_bundle.into(),
        created.into(),
    ];
    Spi::connect_mut(|client| {
        with_write_plan(
            client,
            "record_deploy",
            RECORD_DEPLOY_SQL,
            &[INT8, INT8, INT8, INT8, BOOL],
            |client, plan| client.update(plan, None, &args).map(|_| ()),
        )
    })
    .map_err(|e| fail(&e))?;
    Ok(None)
}

/// `AFTER INSERT ON channels FOR EACH ROW`: every channel has its guard settings row.
#[pg_trigger(sql = false)]
fn create_channel_guard<'a>(trigger: &'a PgTrigger<'a>) -> Outcome<'a> {
    let fail = failure("creating the channel's guard");
    let new = trigger.new().ok_or_else(|| fail(&"no new row"))?;
    let channel = new.get_by_name::<i64>("id").map_err(|e| fail(&e))?;
    let app = new.get_by_name::<i64>("app_id").map_err(|e| fail(&e))?;
    Spi::connect_mut(|client| {
        with_write_plan(client, "create_channel_guard", CREATE_GUARD_SQL, &[INT8, INT8], |client, plan| {
            client.update(plan, None, &[channel.into(), app.into()]).map(|_| ())
        })
    })
    .map_err(|e| fail(&e))?;
    Ok(None)
}

/// `AFTER INSERT ... REFERENCING NEW TABLE AS added FOR EACH STATEMENT` on bundles and manifest
/// entries: objects they use are no longer to be deleted. Taking them off the queue waits for a
/// deletion in progress (its row lock).
#[pg_trigger(sql = false)]
fn keep_used_objects<'a>(trigger: &'a PgTrigger<'a>) -> Outcome<'a> {
    let fail = failure("keeping the objects new rows use");
    Spi::connect_mut(|client| {
        register_transition_tables(client, trigger);
        // Not a kept plan: the transition table is this statement's alone.
        client.update(KEEP_OBJECTS_SQL, None, &[]).map(|_| ())
    })
    .map_err(|e| fail(&e))?;
    Ok(None)
}

/// Makes the trigger's transition tables (`REFERENCING ... AS`) visible to the statements run on
/// `client`, as plpgsql does for its trigger functions.
fn register_transition_tables(_client: &SpiClient<'_>, trigger: &PgTrigger<'_>) {
    let data: *const pg_sys::TriggerData = trigger.trigger_data();
    // SAFETY: the SPI connection is open (we hold its client) and `data` is the TriggerData
    // PostgreSQL passed to this call, valid for its duration; SPI only reads it.
    let status = unsafe { pg_sys::SPI_register_trigger_data(data.cast_mut()) };
    if status < 0 {
        pgrx::error!("liveupdate: registering the trigger's transition tables failed ({status})");
    }
}
