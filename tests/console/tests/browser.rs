//! The web console in a real browser: Debian's chromium driven by puppeteer-core (`node --test
//! tests/console/test`), against the real gateway and a database seeded here: an app whose name,
//! bundle comment and a device's custom id hold markup, two bundles uploaded with the CLI, a
//! public and a private channel, devices that checked in and sent events, an admin and a read-only
//! key. The browser tests drive the flows; this test then checks the gateway's log never held a key.
//! `.ci/lib.sh` (ensure_console_test_tools) installs chromium, Node.js and the pinned npm packages.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::process::{Command, Stdio};

use liveupdate_e2e::device::Device;
use liveupdate_e2e::{Gateway, TestDb, free_port, http};
use serde_json::json;

const APP: &str = "com.example.console";
/// Markup a page would run if it built HTML from database text (short enough for a custom id).
const MARKUP: &str = "<img src=x onerror=alert(7)>";

fn cli(gw: &Gateway, key: &str, work: &std::path::Path, args: &[&str]) {
    let output =
        Command::new(std::env::var("LIVEUPDATE_CLI_BIN").expect("LIVEUPDATE_CLI_BIN: run with make test"))
            .args(args)
            .env("LIVEUPDATE_SERVER", gw.base_url())
            .env("LIVEUPDATE_API_KEY", key)
            .env("HOME", work)
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .unwrap();
    assert!(output.status.success(), "liveupdate {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn build(work: &std::path::Path, name: &str) -> String {
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), format!("<!doctype html><title>{name}</title>")).unwrap();
    std::fs::write(dir.join("app.js"), format!("console.log('{name}')")).unwrap();
    dir.to_str().unwrap().to_owned()
}

#[test]
fn the_console_works_in_a_browser() {
    let port = free_port();
    let mut db = TestDb::create("console", &format!("http://127.0.0.1:{port}"));
    let org: i64 = db.client.query_one("SELECT liveupdate.create_organization('acme')", &[]).unwrap().get(0);
    db.client
        .execute(
            "SELECT liveupdate.create_app($1, $2, name => $3, expose_metadata => true)",
            &[&org, &APP, &format!("Shop {MARKUP}")],
        )
        .unwrap();
    db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', public => true); \
         SELECT liveupdate.create_channel('{APP}', 'beta', allow_device_self_set => true)"
    ));
    let key_of = |db: &mut TestDb, name: &str, mode: &str| -> String {
        db.client
            .query_one("SELECT key FROM liveupdate.create_api_key($1, $2, $3)", &[&org, &name, &mode])
            .unwrap()
            .get(0)
    };
    let admin_key = key_of(&mut db, "console admin", "all");
    let read_key = key_of(&mut db, "console reader", "read");

    let log_path =
        std::env::temp_dir().join(format!("liveupdate-console-gateway-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).unwrap();
    let gw = Gateway::start_logging(&db.gateway_url(), port, &[("RUST_LOG", "debug")], Stdio::from(log));
    let work = std::env::temp_dir().join(format!("liveupdate-console-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let first = build(&work, "1.0.0");
    cli(
        &gw,
        &admin_key,
        &work,
        &["bundle", "upload", APP, "1.0.0", &first, "--channel", "production", "--comment", MARKUP],
    );
    let beta = build(&work, "1.1.0");
    cli(&gw, &admin_key, &work, &["bundle", "upload", APP, "1.1.0", &beta, "--channel", "beta"]);

    // Devices that checked in (one with markup as its custom id) and sent events, aggregated.
    let marked = "00000000-0000-4000-8000-00000000c0de";
    for i in 0..12 {
        let id = if i == 0 { marked.to_owned() } else { format!("00000000-0000-4000-8000-{i:012x}") };
        let mut body = Device::new(APP, &id).running("1.0.0").body();
        if i == 0 {
            body["custom_id"] = json!(MARKUP);
        }
        assert_eq!(http::post_json(gw.addr, "/updates", &body).status, 200);
        let event = json!({"app_id": APP, "device_id": id, "action": if i % 5 == 4 { "update_fail" } else { "set" },
            "version_name": "1.0.0", "old_version_name": "builtin", "platform": "android",
            "plugin_version": "8.51.14", "version_build": "1.0.0", "version_os": "14",
            "is_prod": true, "is_emulator": false});
        assert_eq!(http::post_json(gw.addr, "/stats", &event).status, 200);
    }
    assert!(liveupdate_e2e::eventually(20, || db.count("SELECT count(*) FROM liveupdate.devices") == 12));
    // Aggregation stops short of transactions still open; run it until it took the events in.
    assert!(liveupdate_e2e::eventually(30, || {
        db.exec("SELECT liveupdate.aggregate_stats()");
        db.count("SELECT coalesce(sum(installs), 0)::bigint FROM liveupdate.stats_versions") == 10
    }));

    let screenshots =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let tests_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("node")
        .args(["--test", "test/console.test.js"])
        .current_dir(tests_dir)
        .env("CONSOLE_URL", gw.base_url())
        .env("CONSOLE_APP_ID", APP)
        .env("CONSOLE_ADMIN_KEY", &admin_key)
        .env("CONSOLE_READ_KEY", &read_key)
        .env("CONSOLE_DEVICE_ID", marked)
        .env("CONSOLE_MARKUP", MARKUP)
        .env("CONSOLE_WORK", &work)
        .env("CONSOLE_SCREENSHOTS", &screenshots)
        .env("HOME", &work)
        .status()
        .expect("node (see .ci/lib.sh ensure_console_test_tools)");
    assert!(status.success(), "the browser tests failed: {status}");

    drop(gw);
    let gateway_log = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_dir_all(&work);
    assert!(gateway_log.contains("request"), "the debug log was written");
    for key in [&admin_key, &read_key] {
        assert!(!gateway_log.contains(key.as_str()), "an API key is in the gateway's log");
    }
}
