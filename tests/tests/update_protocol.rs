//! `POST /updates` end to end: every row of protocol.md §2.5 the data can reach, builtin handling
//! (§3.4), manifest and metadata gating, and the plugin lines of §11.

#![allow(clippy::unwrap_used, reason = "tests")]

use liveupdate_e2e::device::{Device, Outcome, read_answer};
use liveupdate_e2e::{Gateway, TestDb, http, serve_app};
use serde_json::{Value, json};

const APP: &str = "com.acme.shop";
const DEVICE: &str = "6a1c5d2e-8f3b-4a7c-9e1d-2b3c4d5e6f70";

fn setup(test: &str) -> (TestDb, Gateway) {
    serve_app(test, APP, "")
}

fn bundle(db: &mut TestDb, name: &str) {
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '{name}', external_url => 'https://cdn.acme.test/{name}.zip', \
         checksum => '{}', link => 'https://acme.test/{name}', comment => 'release {name}')",
        "0123456789abcdef".repeat(4)
    ));
}

fn device() -> Device {
    Device::new(APP, DEVICE)
}

/// Asserts a 200 refusal with this code and kind, readable as "no update" by the current plugin.
fn assert_refusal(answer: &(http::Response, Outcome), code: &str, kind: &str) -> Value {
    let (response, outcome) = answer;
    let body = response.json();
    assert_eq!(response.status, 200, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert_eq!(body["kind"], kind, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(matches!(outcome, Outcome::NoUpdate { .. }), "{outcome:?}");
    body
}

#[test]
fn offers_the_public_channel_bundle_with_metadata() {
    let (mut db, gw) = setup("offer");
    bundle(&mut db, "1.0.1");
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    let (response, outcome) = device().check(gw.addr);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    assert_eq!(
        body,
        json!({"version": "1.0.1", "url": "https://cdn.acme.test/1.0.1.zip", "session_key": "",
               "checksum": "0123456789abcdef".repeat(4), "link": "https://acme.test/1.0.1", "comment": "release 1.0.1"})
    );
    assert!(matches!(outcome, Outcome::Update { ref version, .. } if version == "1.0.1"));
    // the device now runs it: nothing new
    let answer = device().running("1.0.1").check(gw.addr);
    assert_refusal(&answer, "no_new_version_available", "up_to_date");
}

#[test]
fn unknown_app_is_429_with_retry_after() {
    let (_db, gw) = setup("unknown_app");
    let (response, outcome) = Device::new("com.unknown.app", DEVICE).check(gw.addr);
    assert_eq!(response.status, 429);
    assert_eq!(response.header("retry-after"), Some("60"));
    let body = response.json();
    assert_eq!(body["error"], "on_premise_app");
    assert_eq!(body["moreInfo"]["retryAfterSeconds"], 60);
    assert!(matches!(outcome, Outcome::HttpError { status: 429, .. }));
}

#[test]
fn channel_choice_override_then_requested_then_public_without_fallback() {
    let (mut db, gw) = setup("channel_choice");
    for name in ["1.0.1", "1.0.2", "1.0.3"] {
        bundle(&mut db, name);
    }
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'beta', bundle => '1.0.2', allow_device_self_set => true)"
    ));
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'internal', bundle => '1.0.3', android => false)"
    ));
    let version = |d: Device| match d.outcome(gw.addr) {
        Outcome::Update { version, .. } => version,
        other => format!("{other:?}"),
    };
    assert_eq!(version(device()), "1.0.1");
    assert_eq!(version(device().channel("beta")), "1.0.2");
    // a private channel cannot be requested, an unknown one neither, and nothing falls back
    assert_refusal(&device().channel("internal").check(gw.addr), "no_channel", "failed");
    assert_refusal(&device().channel("nope").check(gw.addr), "no_channel", "failed");
    // the override wins over everything, whatever the channel's flags (platform excepted: §2.5)
    db.exec(&format!("SELECT liveupdate.set_device_override('{APP}', '{DEVICE}', 'beta')"));
    assert_eq!(version(device().channel("production")), "1.0.2");
    db.exec(&format!("SELECT liveupdate.set_device_override('{APP}', '{DEVICE}', 'internal')"));
    let body = assert_refusal(&device().check(gw.addr), "disabled_platform_android", "blocked");
    assert_eq!((body["version"].clone(), body["old"].clone()), (json!("1.0.3"), json!("1.0.0")));
    let mut ios = device();
    ios.platform = "ios".into();
    assert_eq!(version(ios), "1.0.3");
}

#[test]
fn no_channel_when_the_app_has_none() {
    let (_db, gw) = setup("no_channel");
    assert_refusal(&device().check(gw.addr), "no_channel", "failed");
}

#[test]
fn version_limits_compare_with_the_native_version() {
    let (mut db, gw) = setup("version_limits");
    for name in ["1.2.2", "1.2.4", "1.3.0", "2.0.0"] {
        bundle(&mut db, name);
    }
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '2.0.0', public => true)"
    ));
    let native = || device().native("1.2.3").running("1.2.3");
    let set = |db: &mut TestDb, bundle: &str, limit: &str| {
        db.exec(&format!(
            "SELECT liveupdate.set_channel_bundle('{APP}', 'production', '{bundle}'); \
             SELECT liveupdate.update_channel('{APP}', 'production', disable_auto_update => '{limit}')"
        ));
    };
    let body =
        assert_refusal(&native().running("1.2.9").check(gw.addr), "disable_auto_update_to_major", "blocked");
    assert_eq!(body["major"], true);
    assert_eq!(body["version"], "2.0.0");
    assert_eq!(body["old"], "1.2.3", "major limits report the native version as old");
    set(&mut db, "1.3.0", "minor");
    assert_refusal(&native().check(gw.addr), "disable_auto_update_to_minor", "blocked");
    set(&mut db, "1.3.0", "patch");
    assert_refusal(&native().check(gw.addr), "disable_auto_update_to_patch", "blocked");
    set(&mut db, "1.2.4", "patch");
    assert!(matches!(native().outcome(gw.addr), Outcome::Update { .. }));
    set(&mut db, "1.2.4", "version_number");
    let body = assert_refusal(&native().check(gw.addr), "misconfigured_channel", "failed");
    assert_eq!(body["old"], "1.2.3");
    db.exec("UPDATE liveupdate.bundles SET min_update_version = '1.2.5' WHERE name = '1.2.4'");
    assert_refusal(&native().check(gw.addr), "disable_auto_update_to_metadata", "blocked");
    db.exec("UPDATE liveupdate.bundles SET min_update_version = '1.2.0' WHERE name = '1.2.4'");
    assert!(matches!(native().outcome(gw.addr), Outcome::Update { .. }));
    set(&mut db, "1.2.2", "none");
    let body = assert_refusal(
        &native().running("1.2.9").check(gw.addr),
        "disable_auto_update_under_native",
        "blocked",
    );
    assert_eq!(body["old"], "1.2.9", "under-native reports the running bundle as old");
    db.exec(&format!(
        "SELECT liveupdate.update_channel('{APP}', 'production', disable_auto_update_under_native => false)"
    ));
    assert!(matches!(native().running("1.2.9").outcome(gw.addr), Outcome::Update { .. }));
}

#[test]
fn build_and_device_kind_rules() {
    let (mut db, gw) = setup("device_rules");
    bundle(&mut db, "1.0.1");
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    let flag = |db: &mut TestDb, column: &str, value: bool| {
        db.exec(&format!("SELECT liveupdate.update_channel('{APP}', 'production', {column} => {value})"));
    };
    flag(&mut db, "allow_prod", false);
    assert_refusal(&device().check(gw.addr), "disable_prod_build", "blocked");
    flag(&mut db, "allow_prod", true);
    flag(&mut db, "allow_dev", false);
    let mut dev = device();
    dev.is_prod = false;
    assert_refusal(&dev.check(gw.addr), "disable_dev_build", "blocked");
    flag(&mut db, "allow_dev", true);
    flag(&mut db, "allow_device", false);
    assert_refusal(&device().check(gw.addr), "disable_device", "blocked");
    flag(&mut db, "allow_device", true);
    flag(&mut db, "allow_emulator", false);
    let mut emulator = device();
    emulator.is_emulator = true;
    assert_refusal(&emulator.check(gw.addr), "disable_emulator", "blocked");
    assert!(matches!(device().outcome(gw.addr), Outcome::Update { .. }));
}

#[test]
fn builtin_targets_revert_devices_that_run_a_bundle() {
    let (mut db, gw) = setup("builtin");
    bundle(&mut db, "1.0.1");
    db.exec(&format!("SELECT liveupdate.create_channel('{APP}', 'production', public => true)"));
    // a device on a downloaded bundle gets the success-shaped revert (better than the reference)
    let (response, outcome) = device().running("1.0.1").check(gw.addr);
    assert_eq!(response.json(), json!({"version": "builtin"}));
    assert_eq!(outcome, Outcome::RevertToBuiltin);
    // a device already on builtin is up to date, and says so without version when it said "builtin"
    let body = assert_refusal(&device().check(gw.addr), "already_on_builtin", "up_to_date");
    assert_eq!(body["version"], "builtin");
    let body =
        assert_refusal(&device().running("builtin").check(gw.addr), "already_on_builtin", "up_to_date");
    assert!(body.get("version").is_none());
    // plugins before 6.2.0 cannot reset
    let old = device().plugin("6.1.0").running("1.0.1");
    let body = old.check(gw.addr).0.json();
    assert_eq!(body["error"], "revert_to_builtin_plugin_version_too_old");
    assert_eq!(body["kind"], "failed");
}

#[test]
fn plugin_4_is_unsupported() {
    let (mut db, gw) = setup("plugin4");
    bundle(&mut db, "1.0.1");
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    assert_refusal(&device().plugin("4.13.2").check(gw.addr), "unsupported_plugin_version", "failed");
}

#[test]
fn key_id_mismatch_for_plugins_after_8_40_7() {
    let (mut db, gw) = setup("key_id");
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '1.0.1', external_url => 'https://cdn.acme.test/e.zip', \
         key_id => 'MIIBCgKCAQEAqqqqqqqq', session_key => 'AAECAwQFBgcICQoLDA0ODw==:c2VjcmV0')"
    ));
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    let mut d = device();
    d.key_id = Some("MIIBCgKCAQEAzzzzzzzz".into());
    let body = assert_refusal(&d.check(gw.addr), "key_id_mismatch", "blocked");
    assert_eq!(body["deviceKeyId"], "MIIBCgKCAQEAzzzzzzzz");
    assert_eq!(body["bundleKeyId"], "MIIBCgKCAQEAqqqqqqqq");
    d.key_id = Some("MIIBCgKCAQEAqqqqqqqq".into());
    match d.outcome(gw.addr) {
        Outcome::Update { session_key, .. } => {
            assert_eq!(session_key, "AAECAwQFBgcICQoLDA0ODw==:c2VjcmV0")
        }
        other => panic!("{other:?}"),
    }
    let old = Device { key_id: Some("MIIBCgKCAQEAzzzzzzzz".into()), ..device().plugin("8.40.7") };
    assert!(matches!(old.outcome(gw.addr), Outcome::Update { .. }));
}

#[test]
fn no_bundle_and_no_bundle_url() {
    let (mut db, gw) = setup("no_bundle");
    // a bundle row with no download location at all (only reachable by writing the table directly)
    db.exec(&format!(
        "INSERT INTO liveupdate.bundles (app_id, name) SELECT id, '1.0.1' FROM liveupdate.apps WHERE app_id = '{APP}'"
    ));
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    assert_refusal(&device().check(gw.addr), "no_bundle", "failed");
    // a manifest-only bundle cannot be served to a plugin without manifest support
    let hash = "ab".repeat(32);
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '1.0.2', manifest => '[{{\"file_name\": \"index.html\", \
         \"file_hash\": \"{hash}\", \"download_url\": \"https://cdn.acme.test/f/{hash}\"}}]'); \
         SELECT liveupdate.set_channel_bundle('{APP}', 'production', '1.0.2')"
    ));
    assert_refusal(&device().plugin("6.24.0").check(gw.addr), "no_bundle_url", "failed");
}

#[test]
fn manifests_follow_each_plugin_line() {
    let (mut db, gw) = setup("manifest_gating");
    let hash = "cd".repeat(32);
    let manifest = json!([
        {"file_name": "index.html", "file_hash": hash, "download_url": format!("https://cdn.acme.test/f/{hash}")},
        {"file_name": "assets/app.js.br", "file_hash": "ef".repeat(32), "download_url": "https://cdn.acme.test/f/app"}
    ]);
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '1.0.1', manifest => '{manifest}', storage_key => 'zips/1.0.1.zip'); \
         SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    let cases = [
        ("5.9.5", false),
        ("5.10.0", true),
        ("6.24.9", false),
        ("6.25.0", true),
        ("7.0.34", false),
        ("7.0.35", true),
        ("8.0.0", true),
        ("8.51.14", true),
    ];
    for (plugin, with_manifest) in cases {
        match device().plugin(plugin).outcome(gw.addr) {
            Outcome::Update { manifest, url, .. } => {
                assert_eq!(manifest.is_some(), with_manifest, "plugin {plugin}");
                assert_eq!(url, format!("{}/files/zips/1.0.1.zip", gw.base_url()), "plugin {plugin}");
                if let Some(entries) = manifest {
                    assert_eq!(entries.len(), 2);
                    assert_eq!(entries[1]["file_name"], "index.html");
                    assert_eq!(entries[1]["file_hash"], hash);
                }
            }
            other => panic!("plugin {plugin}: {other:?}"),
        }
    }
}

#[test]
fn link_and_comment_only_when_exposed_and_understood() {
    let (mut db, gw) = setup("metadata");
    bundle(&mut db, "1.0.1");
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    for (plugin, expected) in
        [("8.35.0", true), ("8.34.9", false), ("7.35.0", true), ("6.34.0", false), ("8.36.0-beta.1", false)]
    {
        let body = device().plugin(plugin).check(gw.addr).0.json();
        assert_eq!(body.get("link").is_some(), expected, "plugin {plugin}: {body}");
        assert_eq!(body.get("comment").is_some(), expected, "plugin {plugin}: {body}");
    }
    db.exec(&format!("SELECT liveupdate.update_app('{APP}', expose_metadata => false)"));
    assert!(device().check(gw.addr).0.json().get("link").is_none());
}

/// Every plugin line still in the field reads refusals as "no update" and a success as an update.
#[test]
fn every_plugin_line_reads_answers_correctly() {
    let (mut db, gw) = setup("plugin_lines");
    bundle(&mut db, "1.0.1");
    bundle(&mut db, "2.0.0");
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    let lines = [
        "5.9.5", "5.50.1", "6.14.0", "6.25.1", "6.50.1", "7.0.35", "7.8.0", "7.9.0", "7.33.0", "7.50.1",
        "8.42.0", "8.45.10", "8.45.11", "8.51.14",
    ];
    for plugin in lines {
        assert!(
            matches!(device().plugin(plugin).outcome(gw.addr), Outcome::Update { ref version, .. } if version == "1.0.1"),
            "{plugin}"
        );
        match device().plugin(plugin).running("1.0.1").outcome(gw.addr) {
            Outcome::NoUpdate { counts_as_failure, .. } => assert!(!counts_as_failure, "{plugin}"),
            other => panic!("{plugin}: {other:?}"),
        }
    }
    db.exec(&format!("SELECT liveupdate.set_channel_bundle('{APP}', 'production', '2.0.0')"));
    for plugin in lines {
        let (response, outcome) = device().plugin(plugin).check(gw.addr);
        assert!(
            matches!(outcome, Outcome::NoUpdate { counts_as_failure: false, .. }),
            "{plugin}: {outcome:?}"
        );
        // old lines also see the major block as such
        let body = response.json();
        assert_eq!((body["major"].clone(), body["version"].clone()), (json!(true), json!("2.0.0")));
    }
    // the revert body is read as a reset from 6.2.0 on, and never as an update by anyone
    let revert = json!({"version": "builtin"});
    assert_eq!(read_answer("6.2.0", 200, &revert), Outcome::RevertToBuiltin);
    assert_eq!(read_answer("8.51.14", 200, &revert), Outcome::RevertToBuiltin);
}

#[test]
fn uppercase_device_ids_match_lowercase_overrides() {
    let (mut db, gw) = setup("uppercase_ids");
    bundle(&mut db, "1.0.1");
    bundle(&mut db, "1.0.2");
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    db.exec(&format!("SELECT liveupdate.create_channel('{APP}', 'qa', bundle => '1.0.2')"));
    db.exec(&format!("SELECT liveupdate.set_device_override('{APP}', '{DEVICE}', 'qa')"));
    let upper = Device::new(APP, &DEVICE.to_uppercase());
    assert!(matches!(upper.outcome(gw.addr), Outcome::Update { ref version, .. } if version == "1.0.2"));
}

#[test]
fn manifest_size_reports_known_and_unknown_files() {
    let (mut db, gw) = setup("manifest_size");
    let (a, b) = ("aa".repeat(32), "bb".repeat(32));
    let manifest = json!([
        {"file_name": "index.html", "file_hash": a, "download_url": "https://cdn.acme.test/f/a", "file_size": 1200},
        {"file_name": "app.js.br", "file_hash": b, "download_url": "https://cdn.acme.test/f/b", "file_size": 34000}
    ]);
    db.exec(&format!("SELECT liveupdate.register_bundle('{APP}', '1.0.1', manifest => '{manifest}')"));
    let mut body = device().body();
    body["version"] = json!("1.0.1");
    body["manifest"] = json!([
        {"file_name": "index.html", "file_hash": a, "download_url": "https://cdn.acme.test/f/a"},
        {"file_name": "app.js.br", "file_hash": b, "download_url": "https://cdn.acme.test/f/b"},
        {"file_name": "missing.css", "file_hash": "cc".repeat(32), "download_url": "https://cdn.acme.test/f/c"}
    ]);
    let response = http::post_json(gw.addr, "/updates/manifest_size", &body);
    assert_eq!(response.status, 200);
    let answer = response.json();
    assert_eq!(answer["totalSize"], 35200);
    assert_eq!((answer["knownFiles"].clone(), answer["unknownFiles"].clone()), (json!(2), json!(1)));
    assert_eq!(answer["files"][1]["size"], 34000);
    assert_eq!(answer["files"][2]["error"], "size_unknown");
    // a wrong hash is not sized; bad requests are refused before the database
    body["manifest"] = json!([{"file_name": "index.html", "file_hash": b}]);
    assert_eq!(http::post_json(gw.addr, "/updates/manifest_size", &body).json()["unknownFiles"], 1);
    body.as_object_mut().unwrap().remove("manifest");
    let refused = http::post_json(gw.addr, "/updates/manifest_size", &body);
    assert_eq!((refused.status, refused.json()["error"].clone()), (400, json!("invalid_json_body")));
}
