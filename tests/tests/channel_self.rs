//! `/channel_self` end to end (protocol.md §6): the four verbs for current plugins (channel kept on
//! the device) and legacy ones (override kept on the server), and the rate limits of §6.5.

#![allow(clippy::unwrap_used, reason = "tests")]

use liveupdate_e2e::device::{Device, Outcome};
use liveupdate_e2e::{Gateway, TestDb, contract, http, serve_app};
use serde_json::{Value, json};

const APP: &str = "com.acme.channels";
const DEVICE: &str = "3d4e5f60-7182-4930-a4b5-c6d7e8f90a12";

fn setup(test: &str) -> (TestDb, Gateway) {
    serve_app(
        test,
        APP,
        &format!(
            "SELECT liveupdate.register_bundle('{APP}', '1.0.1', external_url => 'https://cdn.acme.test/1.0.1.zip'); \
             SELECT liveupdate.register_bundle('{APP}', '1.0.2', external_url => 'https://cdn.acme.test/1.0.2.zip'); \
             SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true); \
             SELECT liveupdate.create_channel('{APP}', 'beta', bundle => '1.0.2', allow_device_self_set => true); \
             SELECT liveupdate.create_channel('{APP}', 'internal', allow_device_self_set => true, allow_prod => false); \
             SELECT liveupdate.create_channel('{APP}', 'qa')"
        ),
    )
}

fn info(plugin: &str, device: &str) -> Value {
    json!({
        "platform": "ios", "device_id": device, "app_id": APP, "custom_id": "", "version_build": "1.0.0",
        "version_code": "1", "version_os": "17.4", "version_name": "builtin", "plugin_version": plugin,
        "is_emulator": false, "is_prod": true, "defaultChannel": ""
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

/// Sends a `/channel_self` request; its answer is held to the OpenAPI document.
fn send(gw: &Gateway, method: &str, query: &str, body: Option<&Value>) -> http::Response {
    let path = if query.is_empty() { "/channel_self".to_owned() } else { format!("/channel_self?{query}") };
    let bytes = body.map(Value::to_string).unwrap_or_default();
    contract::request(gw.addr, method, &path, &[("Content-Type", "application/json")], bytes.as_bytes())
}

#[test]
fn current_plugins_keep_the_channel_on_the_device() {
    let (mut db, gw) = setup("channel_current");
    let base = info("8.51.14", DEVICE);
    let answer = |method: &str, body: &Value| send(&gw, method, "", Some(body)).json();
    assert_eq!(
        answer("POST", &with(base.clone(), "channel", json!("beta"))),
        json!({"status": "ok", "allowSet": true})
    );
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_overrides"), 0, "nothing stored");
    assert_eq!(answer("POST", &base)["error"], "missing_channel");
    let missing = answer("POST", &with(base.clone(), "channel", json!("gone")));
    assert_eq!(
        (missing["error"].clone(), missing["channel"].clone()),
        (json!("channel_not_found"), json!("gone"))
    );
    assert_eq!(
        answer("POST", &with(base.clone(), "channel", json!("qa")))["error"],
        "channel_self_set_not_allowed"
    );
    assert_eq!(
        answer("POST", &with(base.clone(), "channel", json!("production")))["error"],
        "public_channel_self_set_not_allowed"
    );
    // PUT names a channel /updates accepts: the public one, or what the device says it uses
    assert_eq!(answer("PUT", &base), json!({"channel": "production", "status": "default"}));
    let on_beta = with(base.clone(), "defaultChannel", json!("beta"));
    assert_eq!(answer("PUT", &on_beta), json!({"channel": "beta", "status": "default"}));
    // the device then sends it as defaultChannel and gets that channel's bundle
    let device = Device::new(APP, DEVICE).channel("beta");
    assert!(matches!(device.outcome(gw.addr), Outcome::Update { ref version, .. } if version == "1.0.2"));
    // DELETE is a no-op for current plugins
    assert_eq!(
        send(
            &gw,
            "DELETE",
            &format!("app_id={APP}&device_id={DEVICE}&platform=ios&plugin_version=8.51.14"),
            None
        )
        .json(),
        json!({"status": "ok"})
    );
}

#[test]
fn listing_filters_by_device_kind() {
    let (_db, gw) = setup("channel_list");
    let list = |query: &str| send(&gw, "GET", query, None);
    let response =
        list(&format!("app_id={APP}&platform=ios&is_emulator=false&is_prod=true&device_id={DEVICE}"));
    assert_eq!(response.status, 200);
    let body = response.json();
    let channels = body.as_array().expect("a bare array");
    let names: Vec<&str> = channels.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["beta", "production"], "qa is private, internal refuses production builds");
    assert!(
        channels
            .iter()
            .all(|c| c["id"].is_i64() && c["public"].is_boolean() && c["allow_self_set"].is_boolean())
    );
    let dev_build = list(&format!("app_id={APP}&platform=ios&is_emulator=false&is_prod=false")).json();
    assert_eq!(dev_build.as_array().unwrap().len(), 3);
    let missing_flag = list(&format!("app_id={APP}&platform=ios&is_prod=true"));
    assert_eq!(
        (missing_flag.status, missing_flag.json()["error"].clone()),
        (400, json!("invalid_query_parameters"))
    );
    let no_app = list("platform=ios&is_emulator=false&is_prod=true");
    assert_eq!((no_app.status, no_app.json()["error"].clone()), (400, json!("missing_app_id")));
    let unknown = list("app_id=com.nobody.app&platform=ios&is_emulator=false&is_prod=true");
    assert_eq!((unknown.status, unknown.header("retry-after")), (429, Some("60")));
    assert_eq!(unknown.json()["error"], "on_premise_app");
}

#[test]
fn legacy_plugins_keep_an_override_on_the_server() {
    let (mut db, gw) = setup("channel_legacy");
    let base = info("7.33.0", DEVICE);
    let answer = |method: &str, body: &Value| send(&gw, method, "", Some(body)).json();
    assert_eq!(answer("POST", &with(base.clone(), "channel", json!("beta"))), json!({"status": "ok"}));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_overrides"), 1);
    assert_eq!(answer("PUT", &base), json!({"channel": "beta", "status": "override", "allowSet": true}));
    // the legacy device sends no defaultChannel: the stored override steers /updates
    let device = Device::new(APP, DEVICE).plugin("7.33.0");
    assert!(matches!(device.outcome(gw.addr), Outcome::Update { ref version, .. } if version == "1.0.2"));
    // 7.33.0 unsets with DELETE and a JSON body
    assert_eq!(send(&gw, "DELETE", "", Some(&base)).json(), json!({"status": "ok"}));
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.device_overrides"), 0);
    assert_eq!(send(&gw, "DELETE", "", Some(&base)).json()["error"], "cannot_override");
    // and servers that read DELETE from the query string see the same
    answer("POST", &with(base.clone(), "channel", json!("internal")));
    let query = format!("app_id={APP}&device_id={DEVICE}&platform=ios&plugin_version=7.33.0");
    assert_eq!(send(&gw, "DELETE", &query, None).json(), json!({"status": "ok"}));
    // an operator's assignment to a channel devices may not choose stays
    db.exec(&format!("SELECT liveupdate.set_device_override('{APP}', '{DEVICE}', 'qa')"));
    assert_eq!(
        answer("POST", &with(base.clone(), "channel", json!("production")))["error"],
        "cannot_override"
    );
    assert_eq!(answer("PUT", &base)["allowSet"], false);
}

#[test]
fn rate_limits_answer_429_with_hints() {
    let (_db, gw) = setup("channel_limits");
    let device = "4e5f6071-8293-4a41-b5c6-d7e8f90a1b23";
    let set_beta = with(info("8.51.14", device), "channel", json!("beta"));
    assert_eq!(send(&gw, "POST", "", Some(&set_beta)).status, 200);
    // the same device setting the same channel again within 60 s
    let limited = send(&gw, "POST", "", Some(&set_beta));
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(limited.header("x-ratelimit-reset").is_some());
    let body = limited.json();
    assert_eq!(body["error"], "too_many_requests");
    assert!(body["moreInfo"]["retryAfterSeconds"].as_u64().is_some());
    assert!(body["moreInfo"]["rateLimitResetAt"].as_u64().is_some());
    // more than 5 requests per second for one device and operation
    let get = info("8.51.14", DEVICE);
    let statuses: Vec<u16> = (0..7).map(|_| send(&gw, "PUT", "", Some(&get)).status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
}

#[test]
fn bad_channel_requests() {
    let (_db, gw) = setup("channel_bad");
    let raw = |method: &str, body: &[u8]| {
        http::request(gw.addr, method, "/channel_self", &[("Content-Type", "application/json")], body)
    };
    assert_eq!(raw("POST", b"{oops").json()["error"], "invalid_json_parse_body");
    assert_eq!(raw("POST", b"{}").status, 400);
    let no_device = json!({"app_id": APP, "platform": "ios", "channel": "beta"}).to_string();
    assert_eq!(raw("POST", no_device.as_bytes()).json()["error"], "missing_device_id");
    let bad_platform = with(info("8.51.14", DEVICE), "platform", json!("windows")).to_string();
    assert_eq!(raw("PUT", bad_platform.as_bytes()).json()["error"], "invalid_json_body");
    assert_eq!(send(&gw, "GET", "app_id=%zz", None).json()["error"], "invalid_query_parameters");
    assert_eq!(http::request(gw.addr, "PATCH", "/channel_self", &[], b"").status, 405);
}
