//! The failure guard's orchestration (see sql/guard.sql for its settings and records):
//! `_run_guard` takes the run's lock, reads the verdicts that cross their limit
//! (`_guard_verdicts`, set-based SQL), re-checks each channel under a row lock, acts through the
//! SQL API (pause, abandon, roll back) and records each decision. What to do, and whether the
//! figures cross a limit, are the core crate's rules (`liveupdate_core::guard`).

use liveupdate_core::guard::{self, ChannelNow, Limit, Step, Target};
use pgrx::datetime::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiHeapTupleData, SpiResult};

const DUE_VERDICTS_SQL: &str = include_str!("../../sql/guard/due_verdicts.sql");
const LOCK_CHANNEL_SQL: &str = include_str!("../../sql/guard/lock_channel.sql");
const RECORD_DECISION_SQL: &str = include_str!("../../sql/guard/record_decision.sql");

/// Wilson score lower bound of the failure rate; NULL when there is nothing to judge.
#[pg_extern(immutable, strict, parallel_safe, name = "_wilson_lower_bound")]
pub fn wilson_lower_bound(failures: i64, attempts: i64, confidence: f64) -> Option<f64> {
    guard::wilson_lower_bound(u64::try_from(failures).ok()?, u64::try_from(attempts).ok()?, confidence)
}

/// Whether `failures` of `attempts` devices (failure rate at least `lower_bound`) cross a channel's
/// limit; `_guard_verdicts` computes its `crossed` column with it.
#[pg_extern(immutable, strict, parallel_safe, name = "_guard_limit_crossed")]
pub fn guard_limit_crossed(
    attempts: i64,
    failures: i64,
    lower_bound: f64,
    min_attempts: i32,
    min_failures: i32,
    max_failure_rate: f64,
) -> bool {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let limit = Limit {
        min_attempts: u64::try_from(min_attempts).unwrap_or(0),
        min_failures: u64::try_from(min_failures).unwrap_or(0),
        max_failure_rate,
    };
    limit.crossed_by(count(attempts), count(failures), lower_bound)
}

/// Judges every watched deployment and running rollout and acts on those failing; returns the
/// ids of the decisions recorded, in the order they were made (`run_guard` returns the rows).
/// Runs never overlap: a second caller gets no decisions.
#[pg_extern(volatile, strict, parallel_unsafe, name = "_run_guard")]
#[search_path(pg_catalog, pg_temp)]
fn run_guard() -> Vec<i64> {
    Spi::connect_mut(run).unwrap_or_else(|e| pgrx::error!("liveupdate: the failure guard's run failed: {e}"))
}

/// One row of `due_verdicts.sql`.
struct Verdict {
    channel_id: i64,
    target: Target,
    target_text: String,
    bundle_id: i64,
    rollout_id: Option<i64>,
    action: String,
    attempts: i64,
    failures: i64,
    lower_bound: f64,
    max_failure_rate: f64,
    confidence: f64,
    counted_since: TimestampWithTimeZone,
}

fn run(client: &mut SpiClient<'_>) -> SpiResult<Vec<i64>> {
    let locked = client
        .select("SELECT pg_try_advisory_xact_lock(hashtext('liveupdate.run_guard'))", None, &[])?
        .first()
        .get_one::<bool>()?;
    if locked != Some(true) {
        return Ok(Vec::new());
    }
    let now_at = client
        .select("SELECT clock_timestamp()", None, &[])?
        .first()
        .get_one::<TimestampWithTimeZone>()?
        .unwrap_or_else(|| pgrx::error!("liveupdate: clock_timestamp() returned NULL"));
    let mut verdicts = Vec::new();
    for row in client.select(DUE_VERDICTS_SQL, None, &[now_at.into()])? {
        verdicts.push(read_verdict(&row)?);
    }
    let mut decisions = Vec::new();
    for verdict in verdicts {
        if let Some(id) = decide(client, &verdict)? {
            decisions.push(id);
        }
    }
    Ok(decisions)
}

fn read_verdict(row: &SpiHeapTupleData<'_>) -> SpiResult<Verdict> {
    let target_text = row.get::<String>(2)?.unwrap_or_default();
    Ok(Verdict {
        channel_id: row.get::<i64>(1)?.unwrap_or_default(),
        // The column is 'deploy' or 'rollout' by construction (_guard_verdicts).
        target: Target::parse(&target_text).unwrap_or(Target::Deploy),
        target_text,
        bundle_id: row.get::<i64>(3)?.unwrap_or_default(),
        rollout_id: row.get::<i64>(4)?,
        action: row.get::<String>(5)?.unwrap_or_default(),
        attempts: row.get::<i64>(6)?.unwrap_or_default(),
        failures: row.get::<i64>(7)?.unwrap_or_default(),
        lower_bound: row.get::<f64>(8)?.unwrap_or_default(),
        max_failure_rate: row.get::<f64>(9)?.unwrap_or_default(),
        confidence: row.get::<f64>(10)?.unwrap_or_default(),
        counted_since: row
            .get::<TimestampWithTimeZone>(11)?
            .unwrap_or_else(TimestampWithTimeZone::negative_infinity),
    })
}

/// Acts on one verdict if its channel still serves what was judged; the recorded decision's id.
fn decide(client: &mut SpiClient<'_>, verdict: &Verdict) -> SpiResult<Option<i64>> {
    let rows = client.update(LOCK_CHANNEL_SQL, None, &[verdict.channel_id.into()])?;
    if rows.is_empty() {
        return Ok(None);
    }
    let row = rows.first();
    let now = ChannelNow {
        bundle_id: row.get::<i64>(1)?,
        rollout_id: row.get::<i64>(2)?,
        rollout_paused: row.get::<bool>(3)?.unwrap_or(false),
    };
    let channel = row.get::<String>(4)?.unwrap_or_default();
    let app = row.get::<String>(5)?.unwrap_or_default();
    let app_pk = row.get::<i64>(6)?.unwrap_or_default();
    if !guard::still_serves(verdict.target, verdict.bundle_id, verdict.rollout_id, &now) {
        return Ok(None);
    }
    let Some(step) = Step::for_action(verdict.target, &verdict.action) else {
        return Ok(None);
    };
    let args = [app.as_str().into(), channel.as_str().into()];
    let (taken, outcome) = match step {
        Step::Alert => ("alert", "alert only".to_owned()),
        Step::PauseRollout => {
            client.update("SELECT liveupdate.set_rollout($1, $2, paused => true)", None, &args)?;
            ("pause", "rollout paused".to_owned())
        }
        Step::AbandonRollout => {
            client.update("SELECT liveupdate.end_rollout($1, $2, promote => false)", None, &args)?;
            ("rollback", "rollout abandoned: its devices return to the channel's bundle".to_owned())
        }
        Step::RollBack => {
            let rows = client.update(
                "SELECT restored, refusal FROM liveupdate._guard_roll_back($1, $2)",
                None,
                &args,
            )?;
            let row = rows.first();
            match (row.get::<String>(1)?, row.get::<String>(2)?) {
                (Some(restored), _) => ("rollback", format!("rolled back to {restored}")),
                (None, refusal) => ("alert", format!("could not roll back: {}", refusal.unwrap_or_default())),
            }
        }
    };
    let recorded = client.update(
        RECORD_DECISION_SQL,
        None,
        &[
            app_pk.into(),
            verdict.channel_id.into(),
            verdict.target_text.as_str().into(),
            verdict.rollout_id.into(),
            taken.into(),
            outcome.as_str().into(),
            verdict.attempts.into(),
            verdict.failures.into(),
            verdict.lower_bound.into(),
            verdict.max_failure_rate.into(),
            verdict.confidence.into(),
            verdict.counted_since.into(),
            verdict.bundle_id.into(),
        ],
    )?;
    if recorded.is_empty() { Ok(None) } else { recorded.first().get_one::<i64>() }
}
