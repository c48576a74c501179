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
        assert_eq!(body["checksum"], "ab".repeat(32), "plain checksums are stored lowercase");
        assert_eq!(body["session_key"], "");
        assert_eq!(body["link"], "https://acme.test/notes");
        assert!(body.get("error").is_none() && body.get("kind").is_none() && body.get("message").is_none());
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
        let broken =
            Spi::get_one::<String>("SELECT liveupdate._resolve_update_text('{nope')").unwrap().unwrap();
        assert_eq!(serde_json::from_str::<Value>(&broken).unwrap()["error"], "invalid_json_parse_body");
    }

    #[pg_test]
    fn unknown_app_and_bad_requests() {
        fixture();
        assert_eq!(check(json!({"app_id": "com.other.app"}))["error"], "on_premise_app");
        assert_eq!(check(json!({"device_id": "nope"}))["error"], "invalid_json_body");
        assert_eq!(check(json!({"version_build": "1.2.3.4"}))["error"], "semver_error");
        let not_object =
            Spi::get_one::<pgrx::JsonB>("SELECT liveupdate.resolve_update('[]')").unwrap().unwrap().0;
        assert_eq!(not_object["error"], "invalid_json_body");
    }

    /// protocol.md §3.2: a device already on the rollout's bundle stays on it while the rollout
    /// lasts, paused or narrowed; only ending the rollout moves it back.
    #[pg_test]
    fn devices_on_a_paused_or_narrowed_rollout_keep_its_bundle() {
        fixture();
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.2', external_url => 'https://cdn.acme.test/1.0.2.zip')",
        );
        sql("SELECT liveupdate.start_rollout('com.acme.app', 'production', '1.0.2', 10000)");
        assert_eq!(check(json!({}))["version"], "1.0.2", "everyone is inside at 100%");
        let on_rollout = json!({"version_name": "1.0.2"});
        for (change, what) in
            [("paused => true", "paused"), ("basis_points => 0, paused => false", "narrowed to nobody")]
        {
            sql(&format!("SELECT liveupdate.set_rollout('com.acme.app', 'production', {change})"));
            assert_eq!(check(on_rollout.clone())["kind"], "up_to_date", "{what}: stays on 1.0.2");
            assert_eq!(check(json!({}))["version"], "1.0.1", "{what}: nobody new is selected");
        }
        sql("SELECT liveupdate.end_rollout('com.acme.app', 'production', promote => false)");
        assert_eq!(check(on_rollout)["version"], "1.0.1", "abandoned: back to the channel's bundle");
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
        assert_eq!(check(json!({"defaultChannel": "qa"}))["error"], "no_channel");
        assert_eq!(check(json!({"defaultChannel": "missing"}))["error"], "no_channel");
        sql(&format!("SELECT liveupdate.set_device_override('com.acme.app', upper('{DEVICE}'), 'qa')"));
        assert_eq!(check(json!({"defaultChannel": "beta"}))["version"], "1.0.3");
        assert_eq!(check(json!({"device_id": DEVICE.to_uppercase()}))["version"], "1.0.3");
        sql(&format!("SELECT liveupdate.remove_device_override('com.acme.app', '{DEVICE}')"));
        assert_eq!(check(json!({}))["version"], "1.0.1");
    }

    #[pg_test]
    fn builtin_channel_reverts_devices_on_a_bundle() {
        fixture();
        sql("SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', NULL)");
        assert_eq!(check(json!({"version_name": "1.0.1"})), json!({"version": "builtin"}));
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
        assert!(body["url"].as_str().unwrap().starts_with("http"), "manifest-only bundles still carry a url");
        // 6.24 has no delta support and the bundle has no zip: nothing it can download
        assert_eq!(check(json!({"plugin_version": "6.24.0"}))["error"], "no_bundle_url");
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
        expect_sqlstate("PERFORM liveupdate.register_bundle('com.acme.app', '2.0.0')", "22023");
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
        expect_sqlstate("PERFORM liveupdate.create_channel('com.acme.app', 'production')", "23505");
        expect_sqlstate(
            "PERFORM liveupdate.create_channel('com.acme.app', 'x', disable_auto_update => 'sometimes')",
            "22023",
        );
        expect_sqlstate(
            "PERFORM liveupdate.set_channel_bundle('com.acme.app', 'production', '9.9.9')",
            "P0002",
        );
        expect_sqlstate("PERFORM liveupdate.set_channel_bundle('com.acme.app', 'nope', NULL)", "P0002");
        expect_sqlstate("PERFORM liveupdate.delete_bundle('com.acme.app', '1.0.1')", "55000");
        expect_sqlstate(
            "PERFORM liveupdate.set_device_override('com.acme.app', 'not-a-uuid', 'production')",
            "22023",
        );
    }

    #[pg_test]
    fn plain_digests_in_any_case_are_stored_lowercase() {
        fixture();
        // A legacy CRC32 was refused in upper case while a SHA-256 was accepted: one rule now.
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.2', external_url => 'https://cdn.acme.test/1.0.2.zip', \
             checksum => '0BADC0DE')",
        );
        sql("SELECT liveupdate.register_bundle('com.acme.app', '1.0.3', \
             manifest => jsonb_build_array(jsonb_build_object('file_name', 'index.html', 'file_hash', repeat('CD', 32), \
             'download_url', 'https://cdn.acme.test/index.html')))");
        let stored = Spi::get_one::<String>(
            "SELECT string_agg(checksum, ',' ORDER BY name) FROM liveupdate.bundles WHERE name IN ('1.0.1', '1.0.2')",
        );
        assert_eq!(stored, Ok(Some(format!("{},0badc0de", "ab".repeat(32)))));
        let file_hash = Spi::get_one::<String>("SELECT file_hash FROM liveupdate.bundle_files");
        assert_eq!(file_hash, Ok(Some("cd".repeat(32))));
        expect_sqlstate(
            "PERFORM liveupdate.register_bundle('com.acme.app', '1.0.4', external_url => 'https://cdn.acme.test/x.zip', checksum => 'ZZ')",
            "22023",
        );
    }

    #[pg_test]
    fn bookkeeping_triggers_record_deploys_guards_and_used_objects() {
        fixture();
        // The fixture's channel: created with a bundle, one history row and its guard row.
        assert_eq!(count("SELECT count(*) FROM liveupdate.deploy_history WHERE reason = 'created'"), 1);
        assert_eq!(count("SELECT count(*) FROM liveupdate.channel_guards"), 1);
        // An update that keeps the bundle is no deployment; one that changes it is.
        sql("UPDATE liveupdate.channels SET allow_dev = false");
        assert_eq!(count("SELECT count(*) FROM liveupdate.deploy_history"), 1);
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.2', external_url => 'https://cdn.acme.test/1.0.2.zip')",
        );
        sql("SET LOCAL liveupdate.deploy_reason = 'rollback'");
        sql(
            "UPDATE liveupdate.channels SET bundle_id = (SELECT id FROM liveupdate.bundles WHERE name = '1.0.2')",
        );
        let last = Spi::get_one::<String>(
            "SELECT f.name || '>' || t.name || ' ' || h.reason FROM liveupdate.deploy_history AS h \
             JOIN liveupdate.bundles AS f ON f.id = h.from_bundle_id JOIN liveupdate.bundles AS t ON t.id = h.to_bundle_id",
        );
        assert_eq!(last, Ok(Some("1.0.1>1.0.2 rollback".to_owned())));
        // An object queued for deletion that a new bundle uses is taken off the queue.
        sql(
            "INSERT INTO liveupdate.storage_deletions (storage_key) VALUES ('zips/reused.zip'), ('zips/other.zip')",
        );
        sql("SELECT liveupdate.register_bundle('com.acme.app', '1.0.3', storage_key => 'zips/reused.zip')");
        let queued =
            Spi::get_one::<String>("SELECT string_agg(storage_key, ',') FROM liveupdate.storage_deletions");
        assert_eq!(queued, Ok(Some("zips/other.zip".to_owned())));
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
        let name = Spi::get_one::<String>("SELECT version_name FROM liveupdate.devices").unwrap().unwrap();
        assert_eq!(name, "1.0.1", "the latest check of a device wins");
        // an older check arriving late does not overwrite newer state
        let late = json!([{"app_id": "com.acme.app", "device_id": DEVICE, "platform": "ios", "plugin_version": "8.51.14",
            "version_build": "1.0.0", "version_name": "0.9.0", "seen_at": "2025-12-31T00:00:00Z"}]);
        Spi::get_one_with_args::<i32>(
            "SELECT liveupdate.record_device_checks($1)",
            &[pgrx::JsonB(late).into()],
        )
        .unwrap();
        let name = Spi::get_one::<String>("SELECT version_name FROM liveupdate.devices").unwrap().unwrap();
        assert_eq!(name, "1.0.1");
    }

    #[pg_test]
    fn unchanged_device_checks_are_not_rewritten_within_ten_minutes() {
        fixture();
        let write = |version_name: &str, seen_at: &str| {
            let batch = json!([{"app_id": "com.acme.app", "device_id": DEVICE, "platform": "ios",
                "plugin_version": "8.51.14", "version_build": "1.0.0", "version_name": version_name,
                "is_prod": true, "is_emulator": false, "seen_at": seen_at}]);
            Spi::get_one_with_args::<i32>(
                "SELECT liveupdate.record_device_checks($1)",
                &[pgrx::JsonB(batch).into()],
            )
            .unwrap()
            .unwrap()
        };
        assert_eq!(write("1.0.1", "2026-01-01T00:00:00Z"), 1);
        assert_eq!(write("1.0.1", "2026-01-01T00:05:00Z"), 0, "nothing changed");
        assert_eq!(write("1.0.2", "2026-01-01T00:06:00Z"), 1, "the running bundle changed");
        assert_eq!(write("1.0.2", "2026-01-01T00:17:00Z"), 1, "last seen more than 10 minutes ago");
    }

    #[pg_test]
    fn lookup_uses_index_scans_only() {
        fixture();
        sql("SET LOCAL enable_seqscan = off");
        for platform in ["ios", "android", "electron"] {
            let query = include_str!("../../sql/resolve.sql").replace("__PLATFORM__", platform);
            let plan = Spi::explain_with_args(
                &query,
                &["com.acme.app".into(), DEVICE.into(), "".into(), "1.0.0".into()],
            )
            .unwrap();
            let text = format!("{:?}", plan.0);
            assert!(!text.contains("Seq Scan"), "{platform}: {text}");
        }
    }

    fn stats_event(overrides: Value) -> Value {
        let mut event = json!({
            "platform": "android", "device_id": DEVICE, "app_id": "com.acme.app", "version_build": "1.0.0",
            "version_os": "14", "version_name": "1.0.1", "old_version_name": "builtin",
            "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true, "action": "set"
        });
        for (k, v) in overrides.as_object().expect("object") {
            event[k] = v.clone();
        }
        event
    }

    fn record(batch: Value) -> Value {
        Spi::get_one_with_args::<pgrx::JsonB>(
            "SELECT liveupdate.record_stats($1)",
            &[pgrx::JsonB(batch).into()],
        )
        .expect("record_stats runs")
        .expect("record_stats answers")
        .0
    }

    fn count(query: &str) -> i64 {
        Spi::get_one::<i64>(query).unwrap().unwrap_or(0)
    }

    #[pg_test]
    fn stats_batches_answer_per_event() {
        fixture();
        let body = record(json!([
            stats_event(json!({})),
            stats_event(json!({"action": "made_up"})),
            stats_event(json!({"version_name": "9.9.9"})),
            stats_event(json!({"version_name": "builtin", "action": "app_moved_to_foreground"})),
            stats_event(
                json!({"version_name": "unknown", "action": "download_fail", "plugin_version": "7.16.0"})
            ),
        ]));
        let results = body["results"].as_array().unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(results.len(), 5);
        assert_eq!(results[0], json!({"status": "ok", "index": 0}));
        assert_eq!(
            (results[1]["status"].clone(), results[1]["error"].clone()),
            (json!("error"), json!("invalid_json_body"))
        );
        assert_eq!(results[2]["error"], "version_not_found");
        assert_eq!(results[2]["moreInfo"]["version_name"], "9.9.9");
        assert_eq!(results[3]["status"], "ok");
        assert_eq!(results[4]["status"], "ok", "legacy download_fail is acknowledged");
        assert_eq!(
            count("SELECT count(*) FROM liveupdate.device_events"),
            2,
            "only the valid, known events are stored"
        );
        assert_eq!(count("SELECT count(*) FROM liveupdate.device_events WHERE action = 'download_fail'"), 0);
    }

    #[pg_test]
    fn stats_single_objects_and_whole_batch_refusals() {
        fixture();
        assert_eq!(record(stats_event(json!({}))), json!({"status": "ok"}));
        assert_eq!(record(stats_event(json!({"version_name": "2.0.0"})))["error"], "version_not_found");
        assert_eq!(record(stats_event(json!({"action": "nope"})))["error"], "invalid_json_body");
        assert_eq!(record(json!([])), json!({"status": "ok", "results": []}));
        assert_eq!(
            record(json!([stats_event(json!({})), stats_event(json!({"app_id": "com.other.app"}))]))["error"],
            "mixed_app_ids"
        );
        assert_eq!(record(json!([{"app_id": "bad"}]))["error"], "invalid_app_id");
        assert_eq!(record(stats_event(json!({"app_id": "com.nobody.app"})))["error"], "app_not_found");
        assert_eq!(count("SELECT count(*) FROM liveupdate.device_events"), 1);
    }

    #[pg_test]
    fn stats_counters_devices_and_custom_ids() {
        fixture();
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.2', external_url => 'https://cdn.acme.test/1.0.2.zip')",
        );
        sql("SELECT liveupdate.update_app('com.acme.app', allow_custom_id => false)");
        record(json!([
            stats_event(json!({"custom_id": "user-7"})),
            stats_event(json!({"version_name": "1.0.2", "old_version_name": "1.0.1"})),
            stats_event(json!({"version_name": "1.0.2", "action": "update_fail"})),
            stats_event(json!({"version_name": "1.0.1", "is_emulator": true})),
            stats_event(json!({"version_name": "1.0.2", "action": "download_complete"})),
        ]));
        // Today's events, aggregated as run_periodic would (which waits for them to commit).
        sql(
            "SELECT liveupdate._aggregate_chunk(date_trunc('day', now(), 'UTC'), date_trunc('day', now(), 'UTC') + interval '24 hours')",
        );
        let counts = |bundle: &str| {
            Spi::get_three_with_args::<i64, i64, i64>(
                "SELECT sum(installs)::bigint, sum(fails)::bigint, sum(uninstalls)::bigint
                 FROM liveupdate.stats_versions WHERE version_name = $1",
                &[bundle.into()],
            )
            .unwrap()
        };
        assert_eq!(counts("1.0.1"), (Some(1), Some(0), Some(1)), "emulators are not counted");
        assert_eq!(counts("1.0.2"), (Some(1), Some(1), Some(0)));
        let device = Spi::get_two::<String, String>(
            "SELECT version_name, coalesce(custom_id, '-') FROM liveupdate.devices",
        )
        .unwrap();
        assert_eq!(
            device,
            (Some("1.0.1".into()), Some("-".into())),
            "the latest event naming the running bundle wins; custom ids refused"
        );
        assert_eq!(
            count("SELECT count(*) FROM liveupdate.device_events WHERE action = 'customIdBlocked'"),
            1
        );
    }

    /// The statistics and the console count a device under the channel /updates serves it from:
    /// one it names only when it may select it, the public one only when it names none.
    #[pg_test]
    fn devices_are_counted_under_the_channel_updates_serves_them_from() {
        fixture();
        sql("SELECT liveupdate.create_channel('com.acme.app', 'beta', bundle => '1.0.1')");
        sql(
            "SELECT liveupdate.create_channel('com.acme.app', 'qa', bundle => '1.0.1', allow_device_self_set => true)",
        );
        let devices = [
            ("00000000-0000-4000-8000-0000000000a1", None, "production"),
            ("00000000-0000-4000-8000-0000000000a2", Some("beta"), ""),
            ("00000000-0000-4000-8000-0000000000a3", Some("qa"), "qa"),
            ("00000000-0000-4000-8000-0000000000a4", Some("ghost"), ""),
        ];
        for (device, named, served_from) in devices {
            let mut fields = json!({"device_id": device});
            if let Some(named) = named {
                fields["defaultChannel"] = json!(named);
            }
            let answer = check(fields.clone());
            assert_eq!(answer.get("error").is_none(), !served_from.is_empty(), "{device}: {answer}");
            record(stats_event(fields));
        }
        sql(
            "SELECT liveupdate._aggregate_chunk(date_trunc('day', now(), 'UTC'), date_trunc('day', now(), 'UTC') + interval '24 hours')",
        );
        let installs = Spi::get_one::<pgrx::JsonB>(
            "SELECT jsonb_object_agg(channel, installs) FROM (SELECT channel, sum(installs) AS installs \
             FROM liveupdate.stats_versions GROUP BY channel) AS per",
        )
        .unwrap()
        .unwrap()
        .0;
        assert_eq!(installs, json!({"production": 1, "qa": 1, "": 2}));
        let on_production = Spi::get_one::<pgrx::JsonB>(
            "SELECT liveupdate.api_channel_devices('{\"app_id\": \"com.acme.app\", \"channel\": \"production\"}')",
        )
        .unwrap()
        .unwrap()
        .0;
        assert_eq!(on_production["devices"], 1, "{on_production}");
    }

    /// A device can report the same event twice in one batch; paging through the events shows
    /// every copy (the cursor used to skip a twin that fell on the next page).
    #[pg_test]
    fn event_pages_show_twins_that_fall_on_a_page_boundary() {
        fixture();
        let twin = stats_event(json!({"action": "app_moved_to_foreground"}));
        record(json!([twin.clone(), twin.clone(), twin]));
        let mut seen = 0;
        let mut cursor = Value::Null;
        for _ in 0..5 {
            let mut input = json!({"app_id": "com.acme.app", "limit": 1});
            if let Some(next) = cursor.as_str() {
                input["cursor"] = json!(next);
            }
            let page = Spi::get_one_with_args::<pgrx::JsonB>(
                "SELECT liveupdate.api_list_events($1)",
                &[pgrx::JsonB(input).into()],
            )
            .unwrap()
            .unwrap()
            .0;
            let events = page["events"].as_array().unwrap();
            assert!(events.iter().all(|e| e.get("ctid").is_none()), "{page}");
            seen += events.len();
            cursor = page["next_cursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!(seen, 3, "every copy is listed once");
    }

    #[pg_test]
    fn reported_failures_block_the_bundle_until_the_channel_changes() {
        fixture();
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.2', external_url => 'https://cdn.acme.test/1.0.2.zip')",
        );
        sql("SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.2')");
        assert_eq!(check(json!({}))["version"], "1.0.2");
        // a transient failure does not block
        record(stats_event(json!({"version_name": "1.0.2", "action": "download_fail"})));
        assert_eq!(check(json!({}))["version"], "1.0.2");
        record(stats_event(json!({"version_name": "1.0.2", "action": "update_fail"})));
        let body = check(json!({}));
        assert_eq!(
            (body["error"].clone(), body["kind"].clone()),
            (json!("bundle_failed_on_device"), json!("blocked"))
        );
        assert_eq!(
            check(json!({"device_id": "00000000-0000-4000-8000-000000000009"}))["version"],
            "1.0.2",
            "other devices still get it"
        );
        // pointing the channel elsewhere and back clears the memory
        sql("SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.1')");
        sql("SELECT pg_sleep(0.01)");
        sql("SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.2')");
        assert_eq!(check(json!({}))["version"], "1.0.2");
    }

    #[pg_test]
    fn event_partitions_are_created_and_dropped_by_day() {
        fixture();
        let created = Spi::get_one::<i32>("SELECT liveupdate.ensure_event_partitions(2)").unwrap().unwrap();
        assert_eq!(created, 3);
        assert_eq!(Spi::get_one::<i32>("SELECT liveupdate.ensure_event_partitions(2)").unwrap(), Some(0));
        sql("CREATE TABLE liveupdate.device_events_p20200101 PARTITION OF liveupdate.device_events \
             FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-01-02 00:00:00+00')");
        sql(
            "INSERT INTO liveupdate.device_events (received_at, app_id, device_id, action, version_name, is_prod, is_emulator) \
             VALUES ('2020-01-01 12:00:00+00', 1, gen_random_uuid(), 'set', '1.0.1', true, false)",
        );
        let drop = || {
            Spi::get_one::<String>("SELECT string_agg(d, ',') FROM liveupdate.drop_event_partitions(30) AS d")
                .unwrap()
        };
        assert_eq!(drop(), None, "not before the statistics rollups have taken the events in");
        sql("SELECT liveupdate.aggregate_stats()");
        assert_eq!(drop().as_deref(), Some("device_events_p20200101"));
        assert_eq!(count("SELECT count(*) FROM liveupdate.device_events"), 0);
    }

    fn channel(operation: &str, overrides: Value) -> Value {
        let mut body = json!({
            "platform": "android", "device_id": DEVICE, "app_id": "com.acme.app", "version_build": "1.0.0",
            "version_name": "builtin", "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true
        });
        for (k, v) in overrides.as_object().expect("object") {
            body[k] = v.clone();
        }
        Spi::get_one_with_args::<pgrx::JsonB>(
            "SELECT liveupdate.channel_self($1, $2)",
            &[operation.into(), pgrx::JsonB(body).into()],
        )
        .expect("channel_self runs")
        .expect("channel_self answers")
        .0
    }

    #[pg_test]
    fn channel_self_for_current_plugins_stores_nothing() {
        fixture();
        sql("SELECT liveupdate.create_channel('com.acme.app', 'beta', allow_device_self_set => true)");
        sql("SELECT liveupdate.create_channel('com.acme.app', 'qa')");
        assert_eq!(channel("set", json!({"channel": "beta"})), json!({"status": "ok", "allowSet": true}));
        assert_eq!(channel("set", json!({}))["error"], "missing_channel");
        assert_eq!(channel("set", json!({"channel": "nope"}))["error"], "channel_not_found");
        assert_eq!(channel("set", json!({"channel": "qa"}))["error"], "channel_self_set_not_allowed");
        assert_eq!(
            channel("set", json!({"channel": "production"}))["error"],
            "public_channel_self_set_not_allowed"
        );
        assert_eq!(count("SELECT count(*) FROM liveupdate.device_overrides"), 0);
        assert_eq!(channel("get", json!({})), json!({"channel": "production", "status": "default"}));
        assert_eq!(
            channel("get", json!({"defaultChannel": "beta"})),
            json!({"channel": "beta", "status": "default"})
        );
        assert_eq!(channel("unset", json!({})), json!({"status": "ok"}));
        let listed = channel("list", json!({"device_id": null}));
        let names: Vec<&str> =
            listed.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["beta", "production"]);
        assert!(listed[0]["id"].is_i64());
        assert_eq!(listed[0]["allow_self_set"], true);
        assert_eq!(channel("get", json!({"app_id": "com.nobody.app"}))["error"], "on_premise_app");
    }

    #[pg_test]
    fn channel_self_for_legacy_plugins_keeps_an_override() {
        fixture();
        sql(
            "SELECT liveupdate.register_bundle('com.acme.app', '1.0.7', external_url => 'https://cdn.acme.test/1.0.7.zip')",
        );
        sql(
            "SELECT liveupdate.create_channel('com.acme.app', 'beta', bundle => '1.0.7', allow_device_self_set => true)",
        );
        sql("SELECT liveupdate.create_channel('com.acme.app', 'qa')");
        let legacy = json!({"plugin_version": "7.33.0"});
        let with = |extra: Value| {
            let mut body = legacy.clone();
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        assert_eq!(channel("get", legacy.clone()), json!({"channel": "production", "status": "default"}));
        assert_eq!(channel("set", with(json!({"channel": "beta"}))), json!({"status": "ok"}));
        assert_eq!(
            channel("get", legacy.clone()),
            json!({"channel": "beta", "status": "override", "allowSet": true})
        );
        assert_eq!(
            check(json!({"plugin_version": "7.33.0"}))["version"],
            "1.0.7",
            "the override steers /updates"
        );
        // back to the public channel: the override goes
        assert_eq!(channel("set", with(json!({"channel": "production"}))), json!({"status": "ok"}));
        assert_eq!(count("SELECT count(*) FROM liveupdate.device_overrides"), 0);
        assert_eq!(channel("unset", legacy.clone())["error"], "cannot_override");
        // an operator's override on a channel devices may not choose cannot be changed from the device
        sql(&format!("SELECT liveupdate.set_device_override('com.acme.app', '{DEVICE}', 'qa')"));
        assert_eq!(channel("set", with(json!({"channel": "beta"})))["error"], "cannot_override");
        assert_eq!(channel("unset", legacy.clone())["error"], "cannot_override");
        assert_eq!(channel("get", legacy)["allowSet"], false);
    }
}
