//! The periodic work end to end: statistics rollups and the failure guard run by the gateway's
//! timer (and reported by the management API and the CLI), the same work run by pg_cron where the
//! database has it, and neither applying a guard decision twice across gateway and database
//! restarts. Device reports arrive through `POST /stats`; devices see a rollback at their next
//! `/updates`.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::process::Command;

use liveupdate_e2e::device::{Device, Outcome};
use liveupdate_e2e::{Gateway, OwnCluster, TestDb, contract, eventually, free_port, http};
use serde_json::{Value, json};

const APP: &str = "com.acme.periodic";
const FAST: [(&str, &str); 1] = [("LIVEUPDATE_PERIODIC_INTERVAL_MS", "300")];

/// An app whose public channel had 1.0.0 and now serves 1.1.0; answers an API key for it.
fn arrange(db: &mut TestDb) -> String {
    db.app(APP);
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', v, external_url => 'https://cdn.acme.test/' || v || '.zip')
         FROM unnest(ARRAY['1.0.0', '1.1.0']) AS v;
         SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.0', public => true,
                                          disable_auto_update => 'none');
         SELECT liveupdate.set_channel_bundle('{APP}', 'production', '1.1.0');"
    ));
    db.client
        .query_one(
            "SELECT key FROM liveupdate.create_api_key((SELECT organization_id FROM liveupdate.apps WHERE app_id = $1), 'stats', 'read')",
            &[&APP],
        )
        .unwrap()
        .get(0)
}

fn device_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Devices `first..=last` report `action` about `version`, in one batch.
fn report(gw: &Gateway, first: u32, last: u32, action: &str, version: &str) {
    let events: Vec<Value> = (first..=last)
        .map(|n| {
            json!({"app_id": APP, "device_id": device_id(n), "platform": "ios", "plugin_version": "8.51.14",
                   "version_build": "1.0.0", "version_os": "17", "version_name": version,
                   "old_version_name": "1.0.0", "action": action, "is_prod": true, "is_emulator": false})
        })
        .collect();
    let response = http::post_json(gw.addr, "/stats", &Value::Array(events));
    assert_eq!(response.status, 200, "{:?}", response.body);
}

/// A bad release: 60 devices install 1.1.0 and 25 of them report it failing.
fn bad_release(gw: &Gateway) {
    report(gw, 1, 60, "set", "1.1.0");
    report(gw, 1, 25, "update_fail", "1.1.0");
}

fn channel_bundle(db: &mut TestDb) -> String {
    db.client
        .query_one(
            "SELECT b.name FROM liveupdate.channels c JOIN liveupdate.bundles b ON b.id = c.bundle_id WHERE c.name = 'production'",
            &[],
        )
        .unwrap()
        .get(0)
}

fn decisions(db: &mut TestDb) -> i64 {
    db.count("SELECT count(*) FROM liveupdate.guard_events")
}

fn runs_by(db: &mut TestDb, runner: &str) -> i64 {
    db.client
        .query_one("SELECT count(*) FROM liveupdate.periodic_runs WHERE runner = $1", &[&runner])
        .unwrap()
        .get(0)
}

fn today(db: &mut TestDb) -> String {
    db.client.query_one("SELECT (now() AT TIME ZONE 'UTC')::date::text", &[]).unwrap().get(0)
}

#[test]
fn rollups_and_the_guard_run_on_the_gateway_timer() {
    let port = free_port();
    let mut db = TestDb::create("periodic_timer", &format!("http://127.0.0.1:{port}"));
    let key = arrange(&mut db);
    let gw = Gateway::start_with(&db, port, &FAST);
    let device = Device::new(APP, &device_id(900)).running("1.0.0").native("1.0.0");
    assert!(matches!(device.outcome(gw.addr), Outcome::Update { version, .. } if version == "1.1.0"));

    bad_release(&gw);
    assert!(eventually(20, || channel_bundle(&mut db) == "1.0.0"), "the guard did not roll the channel back");
    let decision = db
        .client
        .query_one("SELECT action, outcome, attempts, failures FROM liveupdate.guard_events", &[])
        .unwrap();
    assert_eq!(
        (
            decision.get::<_, String>(0),
            decision.get::<_, String>(1),
            decision.get::<_, i64>(2),
            decision.get::<_, i64>(3)
        ),
        ("rollback".into(), "rolled back to 1.0.0".into(), 60, 25)
    );
    // A device that took 1.1.0 is offered 1.0.0 at its next check.
    let updated = Device::new(APP, &device_id(30)).running("1.1.0").native("1.0.0");
    assert!(matches!(updated.outcome(gw.addr), Outcome::Update { version, .. } if version == "1.0.0"));

    // The rollups have the reports within a few timer periods: the statistics API and the CLI.
    // (They stay a second behind the newest events, which the guard reads raw: the failures may
    // reach them a run after the installs.)
    let day = today(&mut db);
    let path = format!("/v1/apps/{APP}/stats?from={day}&to={day}");
    let mut stats = Value::Null;
    assert!(eventually(20, || {
        let response = http::request(gw.addr, "GET", &path, &[("x-api-key", key.as_str())], b"");
        contract::check_answer("GET", &path, &response);
        stats = response.json();
        stats["periods"][0]["installs"] == 60 && stats["periods"][0]["fails"] == 25
    }));
    let period = &stats["periods"][0];
    assert_eq!(
        (&period["fails"], &period["active_devices"], &period["uninstalls"]),
        (&json!(25), &json!(60), &json!(60))
    );
    let version = period["versions"].as_array().unwrap().iter().find(|v| v["version"] == "1.1.0").unwrap();
    assert_eq!(
        (&version["installs"], &version["fails"], &version["devices"]),
        (&json!(60), &json!(25), &json!(60))
    );
    assert_eq!(
        period["channels"],
        json!([{"channel": "production", "gets": 0, "installs": 60, "fails": 25, "uninstalls": 60, "bandwidth_bytes": 0}])
    );

    let cli =
        Command::new(std::env::var("LIVEUPDATE_CLI_BIN").expect("LIVEUPDATE_CLI_BIN: run with make test"))
            .args(["stats", APP, "--from", &day, "--to", &day])
            .env("LIVEUPDATE_SERVER", gw.base_url())
            .env("LIVEUPDATE_API_KEY", &key)
            .output()
            .unwrap();
    let text = String::from_utf8_lossy(&cli.stdout);
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    assert!(text.contains("1.1.0            gets 0, installs 60, fails 25 (29.4%), uninstalls 0"), "{text}");
    assert!(text.contains("production       gets 0, installs 60, fails 25"), "{text}");
    // Per hour: a period for each hour of the day, without the per-day figures.
    let hourly_path = format!("{path}&granularity=hour");
    let hourly = http::request(gw.addr, "GET", &hourly_path, &[("x-api-key", key.as_str())], b"");
    contract::check_answer("GET", &hourly_path, &hourly);
    let hours = hourly.json()["periods"].as_array().unwrap().clone();
    assert_eq!(hours.len(), 24);
    assert_eq!(
        (&hours[0]["monthly_active_devices"], &hours[0]["storage_bytes"]),
        (&Value::Null, &Value::Null)
    );
    let hourly_versions: Vec<&Value> =
        hours.iter().flat_map(|hour| hour["versions"].as_array().unwrap()).collect();
    assert!(!hourly_versions.is_empty() && hourly_versions.iter().all(|v| v["devices"].is_null()));

    // The guard's decision through the management API and the CLI.
    let guard_path = format!("/v1/apps/{APP}/channels/production/guard");
    let guard = http::request(gw.addr, "GET", &guard_path, &[("x-api-key", key.as_str())], b"");
    contract::check_answer("GET", &guard_path, &guard);
    let decided = &guard.json()["decisions"];
    assert_eq!(
        (
            &decided[0]["target"],
            &decided[0]["version_name"],
            &decided[0]["rollout_id"],
            &decided[0]["outcome"]
        ),
        (&json!("deploy"), &json!("1.1.0"), &Value::Null, &json!("rolled back to 1.0.0"))
    );
    let guard = Command::new(std::env::var("LIVEUPDATE_CLI_BIN").unwrap())
        .args(["channel", "guard", APP, "production"])
        .env("LIVEUPDATE_SERVER", gw.base_url())
        .env("LIVEUPDATE_API_KEY", &key)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&guard.stdout);
    assert!(
        text.contains("deploy 1.1.0: 25 of 60 devices failing") && text.contains("rolled back to 1.0.0"),
        "{text}"
    );

    assert!(runs_by(&mut db, "liveupdate-gateway") > 0);
    assert_eq!(decisions(&mut db), 1, "one decision, however many runs");
}

#[test]
fn guard_decisions_survive_gateway_and_database_restarts() {
    let cluster = OwnCluster::start("periodic_restart");
    let port = free_port();
    let mut db =
        TestDb::create_in(&cluster.server(), "periodic_restart", &format!("http://127.0.0.1:{port}"));
    arrange(&mut db);
    // No cooldown: were the guard to judge the same deployment again, it would act again.
    db.exec(&format!("SELECT liveupdate.set_channel_guard('{APP}', 'production', cooldown_minutes => 0)"));
    let gw = Gateway::start_with(&db, port, &FAST);
    bad_release(&gw);
    assert!(eventually(20, || decisions(&mut db) == 1));

    let runs = runs_by(&mut db, "liveupdate-gateway");
    drop(gw);
    let gw = Gateway::start_with(&db, port, &FAST);
    assert!(eventually(20, || runs_by(&mut db, "liveupdate-gateway") >= runs + 3));
    assert_eq!((decisions(&mut db), channel_bundle(&mut db)), (1, "1.0.0".into()));

    cluster.stop();
    std::thread::sleep(std::time::Duration::from_secs(1));
    cluster.start_again();
    let mut db = TestDb::reconnect(&db);
    let runs = runs_by(&mut db, "liveupdate-gateway");
    assert!(
        eventually(30, || runs_by(&mut db, "liveupdate-gateway") >= runs + 3),
        "the timer did not resume"
    );
    assert_eq!((decisions(&mut db), channel_bundle(&mut db)), (1, "1.0.0".into()));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.deploy_history WHERE reason = 'guard'"), 1);
    drop(gw);
}

#[test]
fn pg_cron_runs_the_periodic_work_where_the_database_has_it() {
    // pg_cron serves the one database named here, which the test then creates.
    let cluster = OwnCluster::start_with(
        "periodic_cron",
        &[
            "shared_preload_libraries=pg_cron",
            "cron.database_name=e2e_periodic_cron",
            "cron.use_background_workers=on",
        ],
    );
    let port = free_port();
    let mut db = TestDb::create_in(&cluster.server(), "periodic_cron", &format!("http://127.0.0.1:{port}"));
    arrange(&mut db);
    // Debian 12's pg_cron (1.4) schedules whole minutes; from 1.5 (Debian 13's PostgreSQL 17 and
    // later) the migration asks for every 30 seconds.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM cron.job AS j, pg_extension AS e
             WHERE j.jobname = 'liveupdate-periodic' AND e.extname = 'pg_cron'
               AND j.schedule = CASE WHEN regexp_split_to_array(e.extversion, '[.-]')::integer[] >= '{1,5}'
                                     THEN '30 seconds' ELSE '* * * * *' END"
        ),
        1
    );
    // The migrations are safe to apply again: still one job.
    db.apply_migrations();
    assert_eq!(db.count("SELECT count(*) FROM cron.job"), 1);
    let gw = Gateway::start_with(&db, port, &FAST);
    bad_release(&gw);
    // pg_cron runs every minute: within about a minute, the guard has acted and the rollups are fresh.
    assert!(eventually(90, || decisions(&mut db) == 1), "pg_cron did not run the periodic work");
    assert_eq!(channel_bundle(&mut db), "1.0.0");
    assert!(eventually(70, || {
        db.count("SELECT coalesce(sum(installs), 0)::bigint FROM liveupdate.stats_versions WHERE version_name = '1.1.0'") == 60
    }));
    assert_eq!(runs_by(&mut db, "liveupdate-gateway"), 0, "the gateway left the periodic work to pg_cron");
    assert!(runs_by(&mut db, "pg_cron") >= 1);
    assert!(eventually(10, || db
        .count("SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'")
        >= 1));

    // After a database restart pg_cron carries on, and decides nothing twice.
    let runs = runs_by(&mut db, "pg_cron");
    cluster.stop();
    cluster.start_again();
    let mut db = TestDb::reconnect(&db);
    assert!(
        eventually(90, || db.count("SELECT count(*) FROM liveupdate.periodic_runs") > runs),
        "pg_cron stopped"
    );
    assert_eq!(decisions(&mut db), 1);
    assert_eq!(runs_by(&mut db, "liveupdate-gateway"), 0);
    drop(gw);
}

#[test]
fn a_late_commit_is_counted_once_and_runs_never_overlap() {
    let port = free_port();
    let mut db = TestDb::create("periodic_late", &format!("http://127.0.0.1:{port}"));
    arrange(&mut db);
    db.exec("SELECT liveupdate.ensure_event_partitions(1)");
    let installs = |db: &mut TestDb| {
        db.count("SELECT coalesce(sum(installs), 0)::bigint FROM liveupdate.stats_versions WHERE version_name = '1.1.0'")
    };
    // A stats transaction stamps its event when it begins and commits two seconds later, while
    // the rollups run in between.
    let mut slow = TestDb::reconnect(&db);
    let mut writer = slow.client.transaction().unwrap();
    writer
        .batch_execute(
            "INSERT INTO liveupdate.device_events (app_id, device_id, action, version_name, bundle_id, is_prod, is_emulator)
             SELECT a.id, gen_random_uuid(), 'set', '1.1.0', b.id, true, false
             FROM liveupdate.apps a JOIN liveupdate.bundles b ON b.app_id = a.id AND b.name = '1.1.0'",
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    db.exec("SELECT liveupdate.aggregate_stats()");
    assert_eq!(installs(&mut db), 0, "in flight: not counted yet");
    let held_back: bool = db
        .client
        .query_one(
            "SELECT aggregated_until <= (SELECT xact_start FROM pg_stat_activity WHERE pid = $1) FROM liveupdate.stats_progress",
            &[&writer.query_one("SELECT pg_backend_pid()", &[]).unwrap().get::<_, i32>(0)],
        )
        .unwrap()
        .get(0);
    assert!(held_back, "the rollups stop at the open transaction's start");
    writer.commit().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    db.exec("SELECT liveupdate.aggregate_stats()");
    db.exec("SELECT liveupdate.aggregate_stats()");
    assert_eq!(installs(&mut db), 1, "counted once, after its commit");

    // While one run holds the lock, another returns at once.
    let mut holder = TestDb::reconnect(&db);
    let mut running = holder.client.transaction().unwrap();
    running.batch_execute("SELECT pg_advisory_xact_lock(hashtext('liveupdate.run_periodic'))").unwrap();
    let second: Value = db.client.query_one("SELECT liveupdate.run_periodic()", &[]).unwrap().get(0);
    assert_eq!(second, json!({"skipped": true}));
    running.rollback().unwrap();
    let third: Value = db.client.query_one("SELECT liveupdate.run_periodic()", &[]).unwrap().get(0);
    assert!(third.get("stats").is_some(), "{third}");
}

/// A periodic run takes the event partitions' lock before it reads device_events, the order the
/// stats path takes them in (that lock, then the table for a day's new partition). A run that read
/// device_events first and asked for the lock afterwards deadlocked with the first POST /stats
/// into a day without its partition (found by `make bench-stats` on a fresh database).
#[test]
fn a_periodic_run_waits_for_the_partition_lock_before_reading_events() {
    let mut db = TestDb::create("partition_lock_order", "http://127.0.0.1:9");
    arrange(&mut db);
    // An event to take in, so that the run's rollups read device_events.
    let event = json!({"app_id": APP, "device_id": device_id(1), "platform": "android", "version_name": "1.1.0",
                       "version_build": "1.0.0", "version_os": "14", "plugin_version": "8.51.14", "action": "set",
                       "old_version_name": "1.0.0", "is_prod": true, "is_emulator": false});
    db.exec(&format!("SELECT liveupdate.record_stats('{event}')"));
    // Another session making a day's partition holds the lock.
    let mut partition_maker = TestDb::reconnect(&db);
    partition_maker
        .exec("BEGIN; SELECT pg_advisory_xact_lock(hashtext('liveupdate.device_events partitions'))");
    let mut runner = TestDb::reconnect(&db);
    let run = std::thread::spawn(move || {
        runner.client.query_one("SELECT liveupdate.run_periodic()", &[]).unwrap().get::<_, Value>(0)
    });
    let waiting = "SELECT a.pid FROM pg_stat_activity AS a
                   WHERE a.query = 'SELECT liveupdate.run_periodic()' AND a.wait_event = 'advisory'";
    assert!(
        eventually(20, || db.client.query_opt(waiting, &[]).unwrap().is_some()),
        "the run waits for the lock"
    );
    let pid: i32 = db.client.query_one(waiting, &[]).unwrap().get(0);
    let events_locks = db.count(&format!(
        "SELECT count(*) FROM pg_locks AS l JOIN pg_inherits AS i ON i.inhrelid = l.relation OR i.inhparent = l.relation
         WHERE l.pid = {pid} AND l.granted AND i.inhparent = 'liveupdate.device_events'::regclass"
    ));
    assert_eq!(events_locks, 0, "while it waits, the run holds no lock on device_events or its partitions");
    partition_maker.exec("COMMIT");
    let summary = run.join().unwrap();
    assert!(summary.get("stats").is_some(), "the run completes once the lock is free: {summary}");
}
