//! `POST /stats` end to end (protocol.md §5): single objects and batches, per-event results, the
//! storage rules, bad input, concurrency, and the failure memory it feeds into `/updates`.

#![allow(clippy::unwrap_used, reason = "tests")]

use liveupdate_e2e::device::{Device, Outcome};
use liveupdate_e2e::{Gateway, TestDb, contract, eventually, http, serve_app};
use serde_json::{Value, json};

const APP: &str = "com.acme.stats";
const DEVICE: &str = "2c3d4e5f-6071-4829-93a4-b5c6d7e8f901";

fn setup(test: &str) -> (TestDb, Gateway) {
    serve_app(
        test,
        APP,
        &format!(
            "SELECT liveupdate.register_bundle('{APP}', '1.0.1', external_url => 'https://cdn.acme.test/1.0.1.zip'); \
             SELECT liveupdate.register_bundle('{APP}', '1.0.2', external_url => 'https://cdn.acme.test/1.0.2.zip'); \
             SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.2', public => true)"
        ),
    )
}

fn event(action: &str, version_name: &str) -> Value {
    json!({
        "platform": "android", "device_id": DEVICE, "app_id": APP, "custom_id": "", "version_build": "1.0.0",
        "version_code": "10", "version_os": "14", "version_name": version_name, "old_version_name": "",
        "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true, "action": action,
        "timestamp": 1_764_000_000_000i64, "defaultChannel": ""
    })
}

/// Posts to `/stats`; the answer is held to the OpenAPI document.
fn post(gw: &Gateway, body: &Value) -> http::Response {
    contract::post_json(gw.addr, "/stats", body)
}

#[test]
fn single_events_and_batches() {
    let (mut db, gw) = setup("stats_basic");
    let response = post(&gw, &event("set", "1.0.1"));
    assert_eq!((response.status, response.json()), (200, json!({"status": "ok"})));
    let mut metadata = event("app_launch_ready", "1.0.1");
    metadata["metadata"] = json!({"duration_ms": "812", "source": "cold"});
    let mut too_many_keys = event("app_launch_ready", "1.0.1");
    too_many_keys["metadata"] = Value::Object((0..31).map(|i| (format!("k{i}"), json!("v"))).collect());
    let mut long_value = event("app_launch_ready", "1.0.1");
    long_value["metadata"] = json!({"stack": "x".repeat(2049)});
    let mut wrong_type = event("set", "1.0.1");
    wrong_type["is_prod"] = json!("true");
    let batch = json!([
        metadata,
        event("no_such_action", "1.0.1"),
        too_many_keys,
        long_value,
        wrong_type,
        event("download_manifest_file_fail", "1.0.2:assets/app.js"),
        event("set", "7.7.7"),
        event("reset", "builtin"),
        event("get", "unknown"),
    ]);
    let response = post(&gw, &batch);
    assert_eq!(response.status, 200);
    let body = response.json();
    let statuses: Vec<&str> =
        body["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["ok", "error", "error", "error", "error", "ok", "error", "ok", "ok"]);
    let results = body["results"].as_array().unwrap();
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["index"], index);
    }
    assert_eq!(results[1]["error"], "invalid_json_body");
    assert_eq!(results[6]["error"], "version_not_found");
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_events"), 1 + 4);
    let stored = db
        .client
        .query_one("SELECT metadata->>'duration_ms', device_time FROM liveupdate.device_events WHERE action = 'app_launch_ready'", &[])
        .unwrap();
    assert_eq!(stored.get::<_, Option<String>>(0).as_deref(), Some("812"));
}

#[test]
fn whole_body_refusals_store_nothing() {
    let (mut db, gw) = setup("stats_refusals");
    let raw =
        |body: &[u8]| http::request(gw.addr, "POST", "/stats", &[("Content-Type", "application/json")], body);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "invalid_json_parse_body"),
        (vec![b'[', 0xff, b']'], 400, "invalid_json_parse_body"),
        (b"\"text\"".to_vec(), 400, "invalid_app_id"),
        (json!([{"app_id": "nope"}]).to_string().into_bytes(), 400, "invalid_app_id"),
        (
            json!([event("set", "1.0.1"), {"app_id": "com.other.app"}]).to_string().into_bytes(),
            200,
            "mixed_app_ids",
        ),
        (event("nope", "1.0.1").to_string().into_bytes(), 400, "invalid_json_body"),
        (
            {
                let mut e = event("set", "1.0.1");
                e["version_build"] = json!("1.2.3.4");
                e
            }
            .to_string()
            .into_bytes(),
            400,
            "semver_error",
        ),
        (Value::Array(vec![event("set", "1.0.1"); 501]).to_string().into_bytes(), 413, "payload_too_large"),
        (vec![b' '; 1024 * 1024 + 1], 413, "payload_too_large"),
    ];
    for (body, status, code) in cases {
        let response = raw(&body);
        assert_eq!(response.status, status, "{code}");
        assert_eq!(response.json()["error"], code);
    }
    assert_eq!(post(&gw, &json!([])).json(), json!({"status": "ok", "results": []}));
    // an app this server does not host: acknowledged so the plugin drops the events
    let mut foreign = event("set", "1.0.1");
    foreign["app_id"] = json!("com.nobody.app");
    let response = post(&gw, &foreign);
    assert_eq!((response.status, response.json()["error"].clone()), (200, json!("app_not_found")));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_events"), 0);
    assert_eq!(http::request(gw.addr, "GET", "/stats", &[], b"").json(), json!({"status": "ok"}));
}

#[test]
fn storage_rules() {
    let (mut db, gw) = setup("stats_rules");
    let mut emulator = event("set", "1.0.1");
    emulator["is_emulator"] = json!(true);
    let mut upgrade = event("set", "1.0.2");
    upgrade["old_version_name"] = json!("1.0.1");
    let mut legacy_fail = event("download_fail", "1.0.2");
    legacy_fail["plugin_version"] = json!("6.14.24");
    let mut counted_fail = event("download_fail", "1.0.2");
    counted_fail["plugin_version"] = json!("6.14.25");
    let results = post(&gw, &json!([event("set", "1.0.1"), emulator, upgrade, legacy_fail, counted_fail]))
        .json()["results"]
        .clone();
    assert!(results.as_array().unwrap().iter().all(|r| r["status"] == "ok"), "{results}");
    // The rollups take events in once they are a second old (run_periodic does this every minute).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    db.exec("SELECT liveupdate.aggregate_stats()");
    let counts = |db: &mut TestDb, bundle: &str| {
        let row = db
            .client
            .query_one(
                "SELECT sum(installs)::bigint, sum(fails)::bigint, sum(uninstalls)::bigint
                 FROM liveupdate.stats_versions WHERE version_name = $1",
                &[&bundle],
            )
            .unwrap();
        (row.get::<_, i64>(0), row.get::<_, i64>(1), row.get::<_, i64>(2))
    };
    assert_eq!(counts(&mut db, "1.0.1"), (1, 0, 1), "the emulator's install is not counted");
    assert_eq!(counts(&mut db, "1.0.2"), (1, 1, 0), "only the newer plugin's download_fail counts");
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_events WHERE action = 'download_fail'"), 1);
    // the device row follows its running bundle, but not failure reports
    post(&gw, &event("update_fail", "1.0.1"));
    let running: String =
        db.client.query_one("SELECT version_name FROM liveupdate.devices", &[]).unwrap().get(0);
    assert_eq!(running, "1.0.2");
}

#[test]
fn a_reported_failure_stops_the_redownload_loop() {
    let (mut db, gw) = setup("stats_failure_memory");
    let device = Device::new(APP, DEVICE).running("1.0.1");
    assert!(matches!(device.outcome(gw.addr), Outcome::Update { ref version, .. } if version == "1.0.2"));
    // the device tried 1.0.2, it did not start, the plugin rolled back and reported it
    let mut failure = event("update_fail", "1.0.2");
    failure["old_version_name"] = json!("1.0.1");
    assert_eq!(post(&gw, &json!([failure])).status, 200);
    let (response, outcome) = device.check(gw.addr);
    assert_eq!(response.json()["error"], "bundle_failed_on_device");
    assert!(matches!(outcome, Outcome::NoUpdate { counts_as_failure: false, .. }), "{outcome:?}");
    // a fixed release is offered again
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '1.0.3', external_url => 'https://cdn.acme.test/1.0.3.zip'); \
         SELECT liveupdate.set_channel_bundle('{APP}', 'production', '1.0.3')"
    ));
    assert!(matches!(device.outcome(gw.addr), Outcome::Update { ref version, .. } if version == "1.0.3"));
}

#[test]
fn concurrent_batches_from_many_devices_are_all_stored() {
    let (mut db, gw) = setup("stats_concurrency");
    let addr = gw.addr;
    let threads: Vec<_> = (0..16)
        .map(|t| {
            std::thread::spawn(move || {
                let mut acknowledged = 0;
                for b in 0..20 {
                    let device = format!("00000000-0000-4000-8000-{:012x}", t * 100 + b);
                    let batch: Vec<Value> = (0..25)
                        .map(|_| {
                            let mut e = event("app_moved_to_foreground", "1.0.1");
                            e["device_id"] = json!(device);
                            e
                        })
                        .collect();
                    let response = http::post_json(addr, "/stats", &Value::Array(batch));
                    assert_eq!(response.status, 200);
                    acknowledged += 25;
                }
                acknowledged
            })
        })
        .collect();
    let acknowledged: i64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(acknowledged, 16 * 20 * 25);
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_events"), acknowledged);
    assert!(eventually(5, || db.count("SELECT count(*) FROM liveupdate.devices") == 320));
}
