//! Device requests that once got answers other than the protocol's: the deviations found against
//! the reference backend's own test cases, text PostgreSQL cannot store, and the Electron updater.
//! Each test here failed before its fix.

#![allow(clippy::unwrap_used, reason = "tests")]

use liveupdate_e2e::device::Device;
use liveupdate_e2e::{Gateway, TestDb, contract, eventually, http, serve_app};
use serde_json::{Value, json};

const APP: &str = "com.acme.conform";
const DEVICE: &str = "7b2d6e3f-9a4c-4b8d-8f2e-3c4d5e6f7081";

fn setup(test: &str) -> (TestDb, Gateway) {
    serve_app(
        test,
        APP,
        &format!(
            "SELECT liveupdate.register_bundle('{APP}', '1.0.1', external_url => 'https://cdn.acme.test/1.0.1.zip'); \
             SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true); \
             SELECT liveupdate.create_channel('{APP}', 'staging', allow_device_self_set => true)"
        ),
    )
}

fn device_id(n: usize) -> String {
    format!("7b2d6e3f-9a4c-4b8d-8f2e-{n:012x}")
}

fn stats_event(action: &str) -> Value {
    json!({
        "platform": "android", "device_id": DEVICE, "app_id": APP, "custom_id": "", "version_build": "1.0.0",
        "version_code": "10", "version_os": "14", "version_name": "1.0.1", "old_version_name": "",
        "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true, "action": action, "defaultChannel": ""
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn without(mut body: Value, key: &str) -> Value {
    body.as_object_mut().unwrap().remove(key);
    body
}

fn error_of(response: &http::Response) -> (u16, Value) {
    (response.status, response.json()["error"].clone())
}

// --- /channel_self applies the update check's field rules (issue 16, item 1) -----------------

#[test]
fn channel_self_checks_fields_like_the_update_check() {
    let (_db, gw) = setup("conform_channel_fields");
    let info = with(Device::new(APP, DEVICE).body(), "channel", json!("staging"));
    let send = |method: &str, body: &Value| {
        if method == "DELETE" {
            let query: Vec<String> = body
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    format!("{k}={}", v.as_str().map_or(v.to_string(), str::to_owned).replace(' ', "%20"))
                })
                .collect();
            contract::request(gw.addr, method, &format!("/channel_self?{}", query.join("&")), &[], b"")
        } else {
            contract::request(gw.addr, method, "/channel_self", &[], body.to_string().as_bytes())
        }
    };
    for method in ["POST", "PUT", "DELETE"] {
        let schema_error = if method == "DELETE" { "invalid_query_parameters" } else { "invalid_json_body" };
        let bad_build = with(info.clone(), "version_build", json!("invalid semver"));
        assert_eq!(error_of(&send(method, &bad_build)), (400, json!("semver_error")), "{method}");
        let long_key = with(info.clone(), "key_id", json!("k".repeat(26)));
        assert_eq!(error_of(&send(method, &long_key)), (400, json!(schema_error)), "{method}");
        let long_source = with(info.clone(), "install_source", json!("s".repeat(65)));
        assert_eq!(error_of(&send(method, &long_source)), (400, json!(schema_error)), "{method}");
        if method != "DELETE" {
            let numeric_source = with(info.clone(), "install_source", json!(7));
            assert_eq!(error_of(&send(method, &numeric_source)), (400, json!(schema_error)), "{method}");
        }
        // what §6.1 allows that the update check does not
        let relaxed = with(with(info.clone(), "version_build", json!("")), "version_name", json!(""));
        assert_eq!(send(method, &without(relaxed, "plugin_version")).status, 200, "{method}");
    }
}

// --- /stats keeps the device's defaultChannel current (item 2) --------------------------------

#[test]
fn stats_update_and_clear_the_default_channel() {
    let (mut db, gw) = setup("conform_default_channel");
    let default_channel = |db: &mut TestDb| -> Option<String> {
        db.client.query_one("SELECT default_channel FROM liveupdate.devices", &[]).unwrap().get(0)
    };
    for (sent, stored) in
        [(json!("staging"), Some("staging")), (json!("production"), Some("production")), (json!(""), None)]
    {
        let response = contract::post_json(
            gw.addr,
            "/stats",
            &json!([with(stats_event("set"), "defaultChannel", sent)]),
        );
        assert_eq!(response.status, 200);
        assert_eq!(default_channel(&mut db).as_deref(), stored);
    }
    // and an event without the key at all clears it too
    contract::post_json(gw.addr, "/stats", &with(stats_event("set"), "defaultChannel", json!("staging")));
    contract::post_json(
        gw.addr,
        "/stats",
        &without(stats_event("app_moved_to_foreground"), "defaultChannel"),
    );
    assert_eq!(default_channel(&mut db), None);
}

// --- /stats takes plugin_version as a free string (item 3) ------------------------------------

#[test]
fn stats_accept_a_plugin_version_that_is_not_semver() {
    let (mut db, gw) = setup("conform_stats_plugin");
    let legacy_fail = with(
        with(stats_event("download_fail"), "plugin_version", json!("not-a-version")),
        "version_name",
        json!("unknown"),
    );
    let response = contract::post_json(gw.addr, "/stats", &legacy_fail);
    assert_eq!((response.status, response.json()), (200, json!({"status": "ok"})));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_events"), 0, "an old plugin's 'no update'");
    let launch = with(stats_event("app_launch_ready"), "plugin_version", json!("custom-build"));
    assert_eq!(contract::post_json(gw.addr, "/stats", &launch).status, 200);
    assert_eq!(
        db.count("SELECT count(*) FROM liveupdate.device_events WHERE plugin_version = 'custom-build'"),
        1
    );
}

// --- /stats requires platform and version_name (item 4) ---------------------------------------

#[test]
fn stats_refuse_events_without_platform_or_version_name() {
    let (mut db, gw) = setup("conform_stats_required");
    for field in ["platform", "version_name"] {
        let response = contract::post_json(gw.addr, "/stats", &without(stats_event("set"), field));
        assert_eq!(error_of(&response), (400, json!("invalid_json_body")), "{field}");
        assert_eq!(response.json()["moreInfo"]["parseResult"]["field"], field);
        let batch = contract::post_json(gw.addr, "/stats", &json!([without(stats_event("set"), field)]));
        assert_eq!(batch.json()["results"][0]["error"], "invalid_json_body", "{field}");
    }
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_events"), 0);
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.devices"), 0);
}

// --- legacy getChannel agrees with /updates on an unknown defaultChannel (item 5) --------------

#[test]
fn legacy_get_channel_does_not_name_the_public_channel_for_an_unknown_one() {
    let (_db, gw) = setup("conform_legacy_get");
    let legacy = Device::new(APP, DEVICE).plugin("7.33.0").channel("no-such-channel");
    let get = contract::request(gw.addr, "PUT", "/channel_self", &[], legacy.body().to_string().as_bytes());
    assert_eq!(error_of(&get), (200, json!("channel_not_found")));
    assert_eq!(legacy.check(gw.addr).0.json()["error"], "no_channel", "the update check agrees");
    // a channel that exists is still named, and without a defaultChannel the public one is
    let staging = Device::new(APP, DEVICE).plugin("7.33.0").channel("staging");
    let get = contract::request(gw.addr, "PUT", "/channel_self", &[], staging.body().to_string().as_bytes());
    assert_eq!(get.json(), json!({"channel": "staging", "status": "default"}));
    let plain = Device::new(APP, DEVICE).plugin("7.33.0");
    let get = contract::request(gw.addr, "PUT", "/channel_self", &[], plain.body().to_string().as_bytes());
    assert_eq!(get.json(), json!({"channel": "production", "status": "default"}));
}

// --- manifest_size sizes every file of the largest bundle (item 6) ------------------------------

#[test]
fn manifest_size_accepts_a_bundle_of_20000_files() {
    let (mut db, gw) = setup("conform_manifest_size");
    let files: Vec<Value> = (0..20_000)
        .map(|i| {
            json!({"file_name": format!("assets/chunk-{i:05}.js"), "file_hash": format!("{i:064x}"),
                   "download_url": format!("https://cdn.acme.test/f/{i:064x}"), "file_size": 100})
        })
        .collect();
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '2.0.0', manifest => '{}')",
        Value::Array(files.clone())
    ));
    let mut body = Device::new(APP, DEVICE).body();
    body["version"] = json!("2.0.0");
    body["manifest"] = Value::Array(files.iter().map(|f| without(f.clone(), "file_size")).collect());
    let response = http::post_json(gw.addr, "/updates/manifest_size", &body);
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body[..200.min(response.body.len())])
    );
    let answer = response.json();
    assert_eq!(
        (answer["knownFiles"].clone(), answer["totalSize"].clone()),
        (json!(20_000), json!(2_000_000))
    );
}

// --- text PostgreSQL cannot store (issue 11, items 3 and 4) -----------------------------------

#[test]
fn a_nul_byte_in_an_update_check_never_stops_device_state_writes() {
    let (mut db, gw) = setup("conform_nul_updates");
    // Fields the schema checks refuse it, with the field named ...
    for field in ["version_name", "defaultChannel"] {
        let body = with(Device::new(APP, &device_id(1)).body(), field, json!("1.0.0\u{0}"));
        let response = http::post_json(gw.addr, "/updates", &body);
        assert_eq!(error_of(&response), (400, json!("invalid_json_body")), "{field}");
        assert_eq!(response.json()["moreInfo"]["parseResult"]["field"], field);
    }
    // ... fields it does not check lose the value, and the check is answered as usual.
    let mut body = Device::new(APP, &device_id(2)).body();
    body["version_os"] = json!("14\u{0}");
    body["custom_id"] = json!("user\u{0}");
    assert_eq!(http::post_json(gw.addr, "/updates", &body).json()["version"], "1.0.1");
    for n in 3..13 {
        assert_eq!(Device::new(APP, &device_id(n)).check(gw.addr).0.status, 200);
    }
    assert!(
        eventually(10, || db.count("SELECT count(*) FROM liveupdate.devices") == 11),
        "every device that checked, including the one whose unstorable fields were dropped"
    );
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.devices WHERE version_os IS NULL"), 1);
}

#[test]
fn a_refused_device_row_does_not_hold_back_its_batch() {
    let (mut db, gw) = setup("conform_flush_isolation");
    // Whatever the edge lets through, the database may still refuse a row (a constraint, a rule
    // added later): here a trigger refuses one device's state.
    db.exec(
        "CREATE FUNCTION public.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           IF NEW.version_os = 'poison' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; END IF; \
           RETURN NEW; END $$; \
         CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON liveupdate.devices \
           FOR EACH ROW EXECUTE FUNCTION public.refuse_poison()",
    );
    let mut poisoned = Device::new(APP, &device_id(0)).body();
    poisoned["version_os"] = json!("poison");
    assert_eq!(http::post_json(gw.addr, "/updates", &poisoned).status, 200);
    for n in 1..20 {
        Device::new(APP, &device_id(n)).check(gw.addr);
    }
    assert!(eventually(10, || db.count("SELECT count(*) FROM liveupdate.devices") == 19), "the good rows");
    let metrics = contract::request(gw.addr, "GET", "/metrics", &[], b"");
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.contains("liveupdate_device_checks_refused_total 1"), "{text}");
    // and later checks are written as usual: nothing stays stuck
    Device::new(APP, &device_id(20)).check(gw.addr);
    assert!(eventually(10, || db.count("SELECT count(*) FROM liveupdate.devices") == 20));
}

#[test]
fn a_nul_byte_in_one_stats_event_loses_only_that_event() {
    let (mut db, gw) = setup("conform_nul_stats");
    let bad = with(stats_event("app_moved_to_foreground"), "version_os", json!("14\u{0}"));
    let batch = json!([stats_event("set"), bad, stats_event("app_moved_to_background")]);
    let response = contract::post_json(gw.addr, "/stats", &batch);
    assert_eq!(response.status, 200);
    let results = response.json()["results"].clone();
    assert_eq!(results[0]["status"], "ok");
    assert_eq!(
        (results[1]["status"].clone(), results[1]["error"].clone()),
        (json!("error"), json!("invalid_json_body"))
    );
    assert_eq!(results[2]["status"], "ok");
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_events"), 2);
    let single =
        contract::post_json(gw.addr, "/stats", &with(stats_event("set"), "metadata", json!({"k": "v\u{0}"})));
    assert_eq!(error_of(&single), (400, json!("invalid_json_body")));
}

// --- the Electron updater (issue 11, item 8) ---------------------------------------------------

#[test]
fn electron_apps_get_updates_on_their_own_line() {
    let (mut db, gw) = setup("conform_electron");
    let hash = "cd".repeat(32);
    let manifest =
        json!([{"file_name": "index.html", "file_hash": hash, "download_url": "https://cdn.acme.test/f/i"}]);
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '1.0.2', manifest => '{manifest}', storage_key => 'zips/1.0.2.zip'); \
         SELECT liveupdate.set_channel_bundle('{APP}', 'production', '1.0.2')"
    ));
    let mut electron = Device::new(APP, DEVICE).plugin("0.0.1");
    electron.platform = "electron".into();
    let answer = electron.check(gw.addr).0.json();
    assert_eq!(answer["version"], "1.0.2", "{answer}");
    assert_eq!(answer["url"], format!("{}/files/zips/1.0.2.zip", gw.base_url()));
    assert!(answer.get("manifest").is_none(), "it downloads the zip in every case: {answer}");
    // A builtin target: it cannot reset from an answer without a url, so it is told so.
    db.exec(&format!("SELECT liveupdate.set_channel_bundle('{APP}', 'production', NULL)"));
    let answer = electron.clone().running("1.0.2").check(gw.addr).0.json();
    assert_eq!(answer["error"], "revert_to_builtin_plugin_version_too_old", "{answer}");
    // Its download failures are real ones, stored and counted.
    let mut failure = with(stats_event("download_fail"), "platform", json!("electron"));
    failure["plugin_version"] = json!("0.0.1");
    failure["version_name"] = json!("1.0.2");
    assert_eq!(contract::post_json(gw.addr, "/stats", &failure).json(), json!({"status": "ok"}));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_events WHERE action = 'download_fail'"), 1);
    // Capacitor's major 4 alone is refused, as by the reference backend; majors before it are not.
    let v4 = Device::new(APP, DEVICE).plugin("4.13.2").check(gw.addr).0.json();
    assert_eq!(v4["error"], "unsupported_plugin_version");
    let v3 = Device::new(APP, DEVICE).plugin("3.3.1").check(gw.addr).0.json();
    assert_ne!(v3["error"], "unsupported_plugin_version", "{v3}");
}
