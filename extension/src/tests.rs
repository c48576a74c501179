//! `#[pg_test]`s: the SQL API's SQLSTATEs, resolution through SPI, and the lookup's plan.
//! Each test runs in a transaction that is rolled back.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use serde_json::{Value, json};

    const DEVICE: &str = "0f3a9b52-6d1e-4c8e-9a41-2b7c5d8e1f00";

    fn sql(query: &str) {
        Spi::run(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    }

    fn fixture() {
        sql("SELECT liveupdate.create_organization('acme')");
        sql(
            "SELECT liveupdate.create_app((SELECT id FROM liveupdate.organizations WHERE name = 'acme'), 'com.acme.app', expose_metadata => true)",
        );
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.1', external_url => 'https://cdn.acme.test/1.0.1.zip', \
             checksum => repeat('AB', 32), link => 'https://acme.test/notes', comment => 'first')",
        );
        sql(
            "SELECT liveupdate.create_channel('com.acme.app', 'production', bundle => '1.0.1', public => true)",
        );
    }

    fn check(overrides: Value) -> Value {
        let body = check_body(overrides);
        Spi::get_one_with_args::<pgrx::JsonB>(
            "SELECT liveupdate.resolve_update($1)",
            &[pgrx::JsonB(body).into()],
        )
        .expect("resolve_update runs")
        .expect("resolve_update returns a body")
        .0
    }

    /// A current Android update check, with `overrides` applied.
    fn check_body(overrides: Value) -> Value {
        let mut body = json!({
            "platform": "android", "device_id": DEVICE, "app_id": "com.acme.app",
            "version_build": "1.0.0", "version_name": "builtin", "plugin_version": "8.51.14",
            "is_emulator": false, "is_prod": true, "defaultChannel": ""
        });
        for (k, v) in overrides.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    }

    /// Runs `statement` and asserts it fails with `sqlstate` (any other outcome fails the test).
    fn expect_sqlstate(statement: &str, sqlstate: &str) {
        let block = format!(
            "DO $t$ BEGIN {statement}; RAISE EXCEPTION 'expected SQLSTATE {sqlstate}' USING ERRCODE = 'XX001'; \
             EXCEPTION WHEN SQLSTATE '{sqlstate}' THEN NULL; END $t$"
        );
        sql(&block);
    }

    #[pg_test]
    fn offers_the_public_channel_bundle() {
        fixture();
        let body = check(json!({}));
        assert_eq!(body["version"], "1.0.1");
        assert_eq!(body["url"], "https://cdn.acme.test/1.0.1.zip");
        assert_eq!(
            body["checksum"],
            "ab".repeat(32),
            "plain checksums are stored lowercase"
        );
        assert_eq!(body["session_key"], "");
        assert_eq!(body["link"], "https://acme.test/notes");
        assert!(
            body.get("error").is_none()
                && body.get("kind").is_none()
                && body.get("message").is_none()
        );
    }

    #[pg_test]
    fn text_entry_point_answers_like_the_jsonb_one() {
        fixture();
        for overrides in [
            json!({}),
            json!({"version_name": "1.0.1"}),
            json!({"app_id": "com.x.y"}),
            json!({"device_id": 3}),
        ] {
            let via_jsonb = check(overrides.clone());
            let mut body = check_body(overrides);
            let via_text = Spi::get_one_with_args::<String>(
                "SELECT liveupdate._resolve_update_text($1)",
                &[body.take().to_string().into()],
            )
            .unwrap()
            .unwrap();
            assert_eq!(serde_json::from_str::<Value>(&via_text).unwrap(), via_jsonb);
        }
        let broken = Spi::get_one::<String>("SELECT liveupdate._resolve_update_text('{nope')")
            .unwrap()
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&broken).unwrap()["error"],
            "invalid_json_parse_body"
        );
    }

    #[pg_test]
    fn unknown_app_and_bad_requests() {
        fixture();
        assert_eq!(
            check(json!({"app_id": "com.other.app"}))["error"],
            "on_premise_app"
        );
        assert_eq!(
            check(json!({"device_id": "nope"}))["error"],
            "invalid_json_body"
        );
        assert_eq!(
            check(json!({"version_build": "1.2.3.4"}))["error"],
            "semver_error"
        );
        let not_object = Spi::get_one::<pgrx::JsonB>("SELECT liveupdate.resolve_update('[]')")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(not_object["error"], "invalid_json_body");
    }

    #[pg_test]
    fn override_beats_requested_channel_and_requested_channel_has_no_fallback() {
        fixture();
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.2', external_url => 'https://cdn.acme.test/1.0.2.zip')",
        );
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.3', external_url => 'https://cdn.acme.test/1.0.3.zip')",
        );
        sql(
            "SELECT liveupdate.create_channel('com.acme.app', 'beta', bundle => '1.0.2', allow_device_self_set => true)",
        );
        sql("SELECT liveupdate.create_channel('com.acme.app', 'qa', bundle => '1.0.3')");
        assert_eq!(check(json!({"defaultChannel": "beta"}))["version"], "1.0.2");
        // a private, not self-settable channel cannot be asked for, and there is no fallback
        assert_eq!(
            check(json!({"defaultChannel": "qa"}))["error"],
            "no_channel"
        );
        assert_eq!(
            check(json!({"defaultChannel": "missing"}))["error"],
            "no_channel"
        );
        sql(&format!(
            "SELECT liveupdate.set_device_override('com.acme.app', upper('{DEVICE}'), 'qa')"
        ));
        assert_eq!(check(json!({"defaultChannel": "beta"}))["version"], "1.0.3");
        assert_eq!(
            check(json!({"device_id": DEVICE.to_uppercase()}))["version"],
            "1.0.3"
        );
        sql(&format!(
            "SELECT liveupdate.remove_device_override('com.acme.app', '{DEVICE}')"
        ));
        assert_eq!(check(json!({}))["version"], "1.0.1");
    }

    #[pg_test]
    fn builtin_channel_reverts_devices_on_a_bundle() {
        fixture();
        sql("SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', NULL)");
        assert_eq!(
            check(json!({"version_name": "1.0.1"})),
            json!({"version": "builtin"})
        );
        assert_eq!(check(json!({}))["error"], "already_on_builtin");
        assert_eq!(check(json!({}))["kind"], "up_to_date");
    }

    #[pg_test]
    fn manifests_only_for_plugins_that_support_them() {
        fixture();
        let hash = "cd".repeat(32);
        sql(&format!(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.1.0', manifest => '[\
             {{\"file_name\": \"index.html\", \"file_hash\": \"{hash}\", \"download_url\": \"https://cdn.acme.test/f/index.html\"}},\
             {{\"file_name\": \"assets/app.js.br\", \"file_hash\": \"{hash}\", \"download_url\": \"https://cdn.acme.test/f/app.js.br\"}}]'::jsonb)"
        ));
        sql("SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.1.0')");
        let body = check(json!({}));
        let manifest = body["manifest"].as_array().expect("a manifest for 8.x");
        assert_eq!(manifest.len(), 2);
        assert_eq!(manifest[0]["file_name"], "assets/app.js.br");
        assert!(
            body["url"].as_str().unwrap().starts_with("http"),
            "manifest-only bundles still carry a url"
        );
        // 6.24 has no delta support and the bundle has no zip: nothing it can download
        assert_eq!(
            check(json!({"plugin_version": "6.24.0"}))["error"],
            "no_bundle_url"
        );
    }

    #[pg_test]
    fn api_errors_have_specific_sqlstates() {
        fixture();
        expect_sqlstate("PERFORM liveupdate.create_app(1, 'not an id')", "22023");
        expect_sqlstate("PERFORM liveupdate.create_app(999999, 'com.x.y')", "P0002");
        expect_sqlstate(
            "PERFORM liveupdate.create_app((SELECT id FROM liveupdate.organizations LIMIT 1), 'com.acme.app')",
            "23505",
        );
        expect_sqlstate(
            "PERFORM liveupdate.register_bundle('com.acme.app', 'v1', external_url => 'https://x.test/a.zip')",
            "22023",
        );
        expect_sqlstate(
            "PERFORM liveupdate.register_bundle('com.acme.app', '1.0.1', external_url => 'https://x.test/a.zip')",
            "23505",
        );
        expect_sqlstate(
            "PERFORM liveupdate.register_bundle('com.acme.app', '2.0.0', external_url => 'ftp://x.test/a.zip')",
            "22023",
        );
        expect_sqlstate(
            "PERFORM liveupdate.register_bundle('com.acme.app', '2.0.0')",
            "22023",
        );
        expect_sqlstate(
            "PERFORM liveupdate.register_bundle('com.acme.app', '2.0.0', external_url => 'https://x.test/a.zip', checksum => 'zz')",
            "22023",
        );
        expect_sqlstate(
            "PERFORM liveupdate.register_bundle('com.nope.app', '2.0.0', external_url => 'https://x.test/a.zip')",
            "P0002",
        );
        expect_sqlstate(
            "PERFORM liveupdate.create_channel('com.acme.app', 'other', public => true)",
            "23505",
        );
        expect_sqlstate(
            "PERFORM liveupdate.create_channel('com.acme.app', 'production')",
            "23505",
        );
        expect_sqlstate(
            "PERFORM liveupdate.create_channel('com.acme.app', 'x', disable_auto_update => 'sometimes')",
            "22023",
        );
        expect_sqlstate(
            "PERFORM liveupdate.set_channel_bundle('com.acme.app', 'production', '9.9.9')",
            "P0002",
        );
        expect_sqlstate(
            "PERFORM liveupdate.set_channel_bundle('com.acme.app', 'nope', NULL)",
            "P0002",
        );
        expect_sqlstate(
            "PERFORM liveupdate.delete_bundle('com.acme.app', '1.0.1')",
            "55000",
        );
        expect_sqlstate(
            "PERFORM liveupdate.set_device_override('com.acme.app', 'not-a-uuid', 'production')",
            "22023",
        );
    }

    #[pg_test]
    fn deleted_bundles_are_never_offered_nor_deployed() {
        fixture();
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.5', external_url => 'https://cdn.acme.test/1.0.5.zip')",
        );
        sql("SELECT liveupdate.delete_bundle('com.acme.app', '1.0.5')");
        expect_sqlstate(
            "PERFORM liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.5')",
            "55000",
        );
        expect_sqlstate(
            "PERFORM liveupdate.register_bundle('com.acme.app', '1.0.5', external_url => 'https://x.test/a.zip')",
            "23505",
        );
        assert_eq!(check(json!({}))["version"], "1.0.1");
    }

    #[pg_test]
    fn device_checks_are_recorded_in_batches() {
        fixture();
        let batch = json!([
            {"app_id": "com.acme.app", "device_id": DEVICE.to_uppercase(), "platform": "ios", "plugin_version": "8.51.14",
             "version_build": "1.0.0", "version_name": "builtin", "is_prod": true, "is_emulator": false,
             "custom_id": "  user-42 ", "seen_at": "2026-01-01T00:00:00Z"},
            {"app_id": "com.acme.app", "device_id": DEVICE, "platform": "ios", "plugin_version": "8.51.14",
             "version_build": "1.0.0", "version_name": "1.0.1", "is_prod": true, "is_emulator": false,
             "seen_at": "2026-01-01T00:00:05Z"},
            {"app_id": "com.unknown.app", "device_id": DEVICE, "platform": "ios", "plugin_version": "8.51.14",
             "version_build": "1.0.0", "version_name": "1.0.1"}
        ]);
        let written = Spi::get_one_with_args::<i32>(
            "SELECT liveupdate.record_device_checks($1)",
            &[pgrx::JsonB(batch).into()],
        )
        .unwrap()
        .unwrap();
        assert_eq!(written, 1);
        let name = Spi::get_one::<String>("SELECT version_name FROM liveupdate.devices")
            .unwrap()
            .unwrap();
        assert_eq!(name, "1.0.1", "the latest check of a device wins");
        // an older check arriving late does not overwrite newer state
        let late = json!([{"app_id": "com.acme.app", "device_id": DEVICE, "platform": "ios", "plugin_version": "8.51.14",
            "version_build": "1.0.0", "version_name": "0.9.0", "seen_at": "2025-12-31T00:00:00Z"}]);
        Spi::get_one_with_args::<i32>(
            "SELECT liveupdate.record_device_checks($1)",
            &[pgrx::JsonB(late).into()],
        )
        .unwrap();
        let name = Spi::get_one::<String>("SELECT version_name FROM liveupdate.devices")
            .unwrap()
            .unwrap();
        assert_eq!(name, "1.0.1");
    }

    #[pg_test]
    fn lookup_uses_index_scans_only() {
        fixture();
        sql("SET LOCAL enable_seqscan = off");
        for platform in ["ios", "android", "electron"] {
            let query = include_str!("../../sql/resolve.sql").replace("__PLATFORM__", platform);
            let plan =
                Spi::explain_with_args(&query, &["com.acme.app".into(), DEVICE.into(), "".into()])
                    .unwrap();
            let text = format!("{:?}", plan.0);
            assert!(!text.contains("Seq Scan"), "{platform}: {text}");
        }
    }
}
