//! The gateway process: request validation before any database work (protocol.md §2.3), bad input,
//! health routes, batched device state, concurrency and graceful shutdown.

#![allow(clippy::unwrap_used, reason = "tests")]

use liveupdate_e2e::device::{Device, Outcome};
use liveupdate_e2e::{Gateway, TestDb, eventually, free_port, http, serve_app};
use serde_json::{Value, json};

const APP: &str = "com.acme.tools";
const DEVICE: &str = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9";

fn setup(test: &str) -> (TestDb, Gateway) {
    serve_app(
        test,
        APP,
        &format!(
            "SELECT liveupdate.register_bundle('{APP}', '1.0.1', external_url => 'https://cdn.acme.test/1.0.1.zip'); \
             SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
        ),
    )
}

fn valid_body() -> Value {
    Device::new(APP, DEVICE).body()
}

fn post_raw(gw: &Gateway, body: &[u8]) -> http::Response {
    http::request(gw.addr, "POST", "/updates", &[("Content-Type", "application/json")], body)
}

fn with(field: &str, value: Value) -> Vec<u8> {
    let mut body = valid_body();
    body[field] = value;
    body.to_string().into_bytes()
}

fn without(field: &str) -> Vec<u8> {
    let mut body = valid_body();
    body.as_object_mut().unwrap().remove(field);
    body.to_string().into_bytes()
}

#[test]
fn validation_codes_and_nothing_written() {
    let (mut db, gw) = setup("validation");
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("malformed JSON", b"{\"app_id\": ".to_vec(), 400, "invalid_json_parse_body"),
        ("non-UTF-8", vec![b'{', 0xff, 0xfe, b'}'], 400, "invalid_json_parse_body"),
        ("empty body", Vec::new(), 400, "invalid_json_parse_body"),
        ("empty object", b"{}".to_vec(), 400, "invalid_json_body"),
        ("array", b"[1,2]".to_vec(), 400, "invalid_json_body"),
        ("no device_id", without("device_id"), 400, "missing_device_id"),
        ("no app_id", without("app_id"), 400, "missing_app_id"),
        ("four-part version", with("version_build", json!("1.2.3.4")), 400, "semver_error"),
        ("absurd version", with("version_build", json!("9".repeat(5000))), 400, "semver_error"),
        (
            "overflowing version",
            with("version_build", json!("99999999999999999999999.1.1")),
            400,
            "semver_error",
        ),
        ("numeric version", with("version_build", json!(12)), 400, "invalid_json_body"),
        ("bad app id", with("app_id", json!("not an app")), 400, "invalid_json_body"),
        ("bad device id", with("device_id", json!("1234")), 400, "invalid_json_body"),
        ("device id type", with("device_id", json!({"a": 1})), 400, "invalid_json_body"),
        ("bad platform", with("platform", json!("windows")), 400, "invalid_json_body"),
        ("bad plugin version", with("plugin_version", json!("latest")), 400, "invalid_json_body"),
        ("is_prod type", with("is_prod", json!("true")), 400, "invalid_json_body"),
        ("empty version_name", with("version_name", json!("")), 400, "invalid_json_body"),
        ("long key_id", with("key_id", json!("k".repeat(21))), 400, "invalid_json_body"),
        ("long install_source", with("install_source", json!("s".repeat(65))), 400, "invalid_json_body"),
        ("huge version_name", with("version_name", json!("n".repeat(2000))), 400, "invalid_json_body"),
    ];
    for (label, body, status, code) in cases {
        let response = post_raw(&gw, &body);
        assert_eq!(response.status, status, "{label}: {}", String::from_utf8_lossy(&response.body));
        let json = response.json();
        assert_eq!(json["error"], code, "{label}");
        assert!(json["message"].is_string(), "{label}");
        assert!(json.get("kind").is_none(), "{label}: transport errors carry no kind");
    }
    // unknown fields are accepted
    let mut extra = valid_body();
    extra["brand_new_field"] = json!({"nested": [1, 2, 3]});
    assert_eq!(post_raw(&gw, extra.to_string().as_bytes()).json()["version"], "1.0.1");
    // nothing from the refused requests reached the device table (the one valid check did)
    assert!(eventually(5, || db.count("SELECT count(*) FROM liveupdate.devices") == 1));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.devices"), 1);
}

#[test]
fn oversized_bodies_get_413() {
    let (_db, gw) = setup("oversized");
    let big = vec![b' '; 70 * 1024];
    let response = post_raw(&gw, &big);
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["error"], "payload_too_large");
    // the same without a Content-Length (chunked), so the limit is enforced while reading
    let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
    chunked.extend_from_slice(&big);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let response = http::request(
        gw.addr,
        "POST",
        "/updates",
        &[("Transfer-Encoding", "chunked"), ("Content-Length", "")],
        &chunked,
    );
    assert!(response.status == 413 || response.status == 400, "{}", response.status);
}

#[test]
fn health_routes_and_unknown_paths() {
    let (_db, gw) = setup("routes");
    let get = |path: &str| http::request(gw.addr, "GET", path, &[], b"");
    assert_eq!(get("/updates").json(), json!({"status": "ok"}));
    assert_eq!(get("/health").status, 200);
    assert_eq!(get("/ready").json(), json!({"status": "ok"}));
    let missing = get("/nope");
    assert_eq!((missing.status, missing.json()["error"].clone()), (404, json!("not_found")));
    let wrong = http::request(gw.addr, "DELETE", "/updates", &[], b"");
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, POST"));
    let metrics = String::from_utf8(get("/metrics").body).unwrap();
    assert!(
        metrics.contains("liveupdate_http_responses_total{endpoint=\"ready\",status=\"200\"} 1"),
        "{metrics}"
    );
}

#[test]
fn device_state_is_written_in_batches() {
    let (mut db, gw) = setup("device_state");
    let upper = DEVICE.to_uppercase();
    let mut device = Device::new(APP, &upper);
    device.default_channel = "production".into();
    assert!(matches!(device.outcome(gw.addr), Outcome::Update { .. }));
    device.version_name = "1.0.1".into();
    device.outcome(gw.addr);
    // The two checks may be written in one batch or two: wait for the second.
    assert!(eventually(5, || {
        db.count("SELECT count(*) FROM liveupdate.devices WHERE version_name = '1.0.1'") == 1
    }));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.devices"), 1);
    let row = db
        .client
        .query_one(
            "SELECT device_id::text, version_name, platform, default_channel FROM liveupdate.devices",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), DEVICE, "device ids are stored lowercase");
    assert_eq!(row.get::<_, String>(1), "1.0.1", "the latest check wins");
    assert_eq!(row.get::<_, String>(2), "android");
    assert_eq!(row.get::<_, String>(3), "production");
    // an unknown app's checks are not recorded
    Device::new("com.unknown.app", DEVICE).outcome(gw.addr);
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.devices"), 1);
}

#[test]
fn concurrent_checks_from_many_devices() {
    let (mut db, gw) = setup("concurrency");
    let addr = gw.addr;
    let threads: Vec<_> = (0..16)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..40 {
                    let id = format!("00000000-0000-4000-8000-{:012x}", t * 1000 + i);
                    let outcome = Device::new(APP, &id).outcome(addr);
                    assert!(
                        matches!(outcome, Outcome::Update { ref version, .. } if version == "1.0.1"),
                        "{outcome:?}"
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert!(eventually(10, || db.count("SELECT count(*) FROM liveupdate.devices") == 640));
}

#[test]
fn sigterm_drains_and_flushes() {
    let port = free_port();
    let mut db = TestDb::create("shutdown", &format!("http://127.0.0.1:{port}"));
    db.app(APP);
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '1.0.1', external_url => 'https://cdn.acme.test/1.0.1.zip'); \
         SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    // a long flush interval: only the shutdown flush can write the device
    let gw = Gateway::start_with(&db, port, &[("LIVEUPDATE_DEVICE_FLUSH_MS", "600000")]);
    assert!(matches!(Device::new(APP, DEVICE).outcome(gw.addr), Outcome::Update { .. }));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.devices"), 0);
    let status = gw.stop();
    assert!(status.success(), "{status:?}");
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.devices"), 1);
}

#[test]
fn unreachable_database_is_a_retryable_503() {
    let port = free_port();
    let db = TestDb::create("db_outage", &format!("http://127.0.0.1:{port}"));
    // point the gateway at a database that does not exist: every lookup fails to connect
    let broken = db.gateway_url().replace("dbname=e2e_db_outage", "dbname=e2e_missing_database");
    let gw = Gateway::start_url(&broken, port, &[("LIVEUPDATE_DB_TIMEOUT_MS", "1000")]);
    let response = http::post_json(gw.addr, "/updates", &valid_body());
    assert_eq!(response.status, 503);
    assert_eq!(response.header("retry-after"), Some("5"));
    assert_eq!(response.json()["error"], "database_unavailable");
    assert!(
        !String::from_utf8_lossy(&response.body).contains("e2e_missing_database"),
        "no internal detail leaks"
    );
    assert_eq!(http::request(gw.addr, "GET", "/ready", &[], b"").status, 503);
    assert_eq!(http::request(gw.addr, "GET", "/health", &[], b"").status, 200);
}

/// PostgreSQL restarted while devices post stats: every batch that got a 2xx is in the database,
/// every other one got a status the plugin retries, and the gateway recovers by itself.
#[test]
fn stats_survive_a_database_restart() {
    let cluster = liveupdate_e2e::OwnCluster::start("restart");
    let port = free_port();
    let mut db = TestDb::create_in(&cluster.server(), "restart", &format!("http://127.0.0.1:{port}"));
    db.app(APP);
    let gw = Gateway::start_with(&db, port, &[("LIVEUPDATE_DB_TIMEOUT_MS", "2000")]);
    let addr = gw.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let posters: Vec<_> = (0..4)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut other_statuses = Vec::new();
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // each batch is one device's: the device id identifies the batch
                    let device = format!("00000000-0000-4000-8000-{:012x}", t * 1_000_000 + n);
                    n += 1;
                    let batch: Vec<Value> = (0..10)
                        .map(|_| {
                            json!({"app_id": APP, "device_id": device, "platform": "ios", "version_os": "17",
                                   "version_name": "builtin", "action": "app_moved_to_foreground"})
                        })
                        .collect();
                    let response = http::post_json(addr, "/stats", &Value::Array(batch));
                    if response.status == 200 {
                        acknowledged.push(device);
                    } else {
                        other_statuses.push(response.status);
                    }
                }
                (acknowledged, other_statuses)
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(700));
    cluster.stop();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    cluster.start_again();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    let mut others = Vec::new();
    for poster in posters {
        let (acked, statuses) = poster.join().unwrap();
        acknowledged.extend(acked);
        others.extend(statuses);
    }
    assert!(!others.is_empty(), "the restart was not noticed");
    assert!(
        others.iter().all(|s| *s == 503),
        "only retryable refusals while the database is away: {others:?}"
    );
    let mut db = TestDb::reconnect(&db);
    for device in &acknowledged {
        let stored = db.client.query_one(
            "SELECT count(*) FROM liveupdate.device_events WHERE device_id = $1::text::uuid",
            &[device],
        );
        assert_eq!(stored.unwrap().get::<_, i64>(0), 10, "acknowledged batch {device} is missing");
    }
    // recovered: new batches are accepted again
    let after = http::post_json(
        addr,
        "/stats",
        &json!({"app_id": APP, "device_id": DEVICE, "platform": "ios",
        "version_os": "17", "version_name": "builtin", "action": "app_moved_to_background"}),
    );
    assert_eq!(after.status, 200);
    assert!(acknowledged.len() > 10, "too few batches acknowledged to mean anything: {}", acknowledged.len());
}

#[test]
fn the_gateway_role_can_only_call_its_entry_points() {
    let (db, _gw) = setup("gateway_role");
    let mut gateway = postgres::Client::connect(&db.gateway_url(), postgres::NoTls).unwrap();
    let superuser: bool =
        gateway.query_one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", &[]).unwrap().get(0);
    assert!(!superuser);
    // Management rights are row-level: without an API key in force it sees nothing.
    let apps: i64 = gateway.query_one("SELECT count(*) FROM liveupdate.apps", &[]).unwrap().get(0);
    assert_eq!(apps, 0);
    for denied_sql in [
        "SELECT liveupdate.create_organization('x')",
        "SELECT key_hash FROM liveupdate.api_keys",
        "DELETE FROM liveupdate.devices",
        "INSERT INTO liveupdate.organization_members VALUES (1, gen_random_uuid(), 'admin')",
    ] {
        let denied = gateway.query_one(denied_sql, &[]).unwrap_err();
        assert_eq!(denied.code(), Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE), "{denied_sql}");
    }
    let answer: String = gateway
        .query_one("SELECT liveupdate._resolve_update_text($1)", &[&valid_body().to_string()])
        .unwrap()
        .get(0);
    assert_eq!(serde_json::from_str::<Value>(&answer).unwrap()["version"], "1.0.1");
}
