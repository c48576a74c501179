-- The failure guard: a good release with a few failures is left alone; a bad one is rolled back
-- once the Wilson lower bound crosses the limit with enough evidence, and only once; a failing
-- rollout is paused, then abandoned; alerts; settings and bad input. Then cleanup of deleted
-- bundles and run_periodic.
SELECT liveupdate.ensure_event_partitions(1) >= 0 AS partitions_ready;
SELECT liveupdate.create_app(liveupdate.create_organization('guard'), 'com.guard.app') > 0 AS app;
SELECT bool_and(liveupdate.register_bundle('com.guard.app', v, external_url => 'https://cdn.example.com/' || v || '.zip') > 0) AS bundles
FROM unnest(ARRAY['1.0.0', '1.0.1', '2.0.0', '2.0.1']) AS v;
SELECT liveupdate.create_channel('com.guard.app', 'production', bundle => '1.0.0', public => true) > 0 AS production;
SELECT liveupdate.create_channel('com.guard.app', 'beta', bundle => '1.0.0') > 0 AS beta;
SELECT liveupdate.api_channel_guard('{"app_id": "com.guard.app", "channel": "beta"}');

-- Devices first..last report action about version, now. Device n is the same device in every call.
CREATE FUNCTION pg_temp.report(first integer, last integer, action text, version text, is_emulator boolean DEFAULT false)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO liveupdate.device_events (received_at, app_id, device_id, action, version_name, bundle_id, platform,
                                          is_prod, is_emulator)
    SELECT clock_timestamp(), a.id, md5(i::text)::uuid, action, version, b.id, 'ios', true, is_emulator
    FROM liveupdate.apps AS a JOIN liveupdate.bundles AS b ON b.app_id = a.id AND b.name = version,
         generate_series(first, last) AS i
    WHERE a.app_id = 'com.guard.app'
$$;
CREATE FUNCTION pg_temp.verdicts() RETURNS TABLE (channel text, target text, attempts bigint, failures bigint,
                                                  lower_bound numeric, crossed boolean)
LANGUAGE sql AS $$
    SELECT c.name, v.target, v.attempts, v.failures, round(v.lower_bound::numeric, 4), v.crossed
    FROM liveupdate._guard_verdicts(clock_timestamp()) AS v JOIN liveupdate.channels AS c ON c.id = v.channel_id
    WHERE c.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.guard.app') ORDER BY 1, 2
$$;
CREATE FUNCTION pg_temp.guard() RETURNS TABLE (channel text, target text, version text, action text, outcome text,
                                               attempts bigint, failures bigint, lower_bound numeric)
LANGUAGE sql AS $$
    SELECT c.name, g.target, g.version_name, g.action, g.outcome, g.attempts, g.failures, round(g.lower_bound::numeric, 4)
    FROM liveupdate.run_guard() AS g JOIN liveupdate.channels AS c ON c.id = g.channel_id ORDER BY 1, 2
$$;
CREATE FUNCTION pg_temp.channels() RETURNS TABLE (channel text, bundle text, rollout text, paused boolean)
LANGUAGE sql AS $$
    SELECT c.name, coalesce(b.name, 'builtin'), r.name, c.rollout_paused
    FROM liveupdate.channels AS c LEFT JOIN liveupdate.bundles AS b ON b.id = c.bundle_id
    LEFT JOIN liveupdate.bundles AS r ON r.id = c.rollout_bundle_id
    WHERE c.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.guard.app') ORDER BY 1
$$;

SELECT liveupdate.set_channel_bundle('com.guard.app', 'production', '1.0.1');
SELECT liveupdate.set_channel_bundle('com.guard.app', 'beta', '2.0.0');
-- A good release: 200 devices install 1.0.1, 6 of them report a failure (3%).
SELECT pg_temp.report(1, 200, 'set', '1.0.1');
SELECT pg_temp.report(1, 6, 'update_fail', '1.0.1');
-- A bad release, early: 40 devices, 5 failing: a 12% rate, but too few attempts and failures to judge.
SELECT pg_temp.report(1001, 1040, 'set', '2.0.0');
SELECT pg_temp.report(1001, 1005, 'update_fail', '2.0.0');
-- Emulators and debug builds are not evidence.
SELECT pg_temp.report(5001, 5100, 'update_fail', '2.0.0', is_emulator => true);
SELECT * FROM pg_temp.verdicts();
SELECT * FROM pg_temp.guard();
-- More reports: 60 devices, 25 failing (42%): the bound crosses 20%.
SELECT pg_temp.report(1041, 1060, 'set', '2.0.0');
SELECT pg_temp.report(1006, 1025, 'update_fail', '2.0.0');
SELECT * FROM pg_temp.verdicts();
SELECT * FROM pg_temp.guard();
SELECT * FROM pg_temp.channels();
SELECT h.reason, h.deployed_by, f.name AS "from", coalesce(t.name, 'builtin') AS "to"
FROM liveupdate.deploy_history AS h JOIN liveupdate.channels AS c ON c.id = h.channel_id
LEFT JOIN liveupdate.bundles AS f ON f.id = h.from_bundle_id LEFT JOIN liveupdate.bundles AS t ON t.id = h.to_bundle_id
WHERE c.name = 'beta' AND c.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.guard.app') ORDER BY h.id;
-- Decided once: the next runs find beta on 1.0.0 and production still healthy.
SELECT * FROM pg_temp.guard();
SELECT * FROM pg_temp.verdicts();

-- A failing rollout on production is paused (the default rollout action) ...
SELECT liveupdate.start_rollout('com.guard.app', 'production', '2.0.1', 5000);
SELECT pg_temp.report(2001, 2060, 'set', '2.0.1');
SELECT pg_temp.report(2001, 2030, 'checksum_fail', '2.0.1');
SELECT * FROM pg_temp.guard();
SELECT * FROM pg_temp.channels();
SELECT * FROM pg_temp.guard();
-- ... resumed by hand, the cooldown holds the guard back; then, told to roll back, it abandons it.
SELECT liveupdate.set_rollout('com.guard.app', 'production', paused => false);
SELECT * FROM pg_temp.guard();
SELECT liveupdate.set_channel_guard('com.guard.app', 'production', rollout_action => 'rollback', cooldown_minutes => 0);
SELECT * FROM pg_temp.guard();
SELECT * FROM pg_temp.channels();

-- Alert only: recorded, the channel untouched; beta's cooldown (from its rollback) first holds it back.
SELECT liveupdate.set_channel_guard('com.guard.app', 'beta', deploy_action => 'alert');
SELECT liveupdate.set_channel_bundle('com.guard.app', 'beta', '2.0.1');
SELECT pg_temp.report(3001, 3060, 'set', '2.0.1');
SELECT pg_temp.report(3001, 3040, 'update_fail', '2.0.1');
SELECT * FROM pg_temp.guard();
SELECT liveupdate.set_channel_guard('com.guard.app', 'beta', cooldown_minutes => 0);
SELECT * FROM pg_temp.guard();
SELECT liveupdate.set_channel_guard('com.guard.app', 'beta', cooldown_minutes => 30);
SELECT * FROM pg_temp.guard();
SELECT * FROM pg_temp.channels();
-- A channel created with a failing bundle goes back to builtin.
SELECT liveupdate.create_channel('com.guard.app', 'canary', bundle => '2.0.1') > 0 AS canary;
SELECT pg_temp.report(4001, 4060, 'set', '2.0.1');
SELECT pg_temp.report(4001, 4040, 'update_fail', '2.0.1');
SELECT * FROM pg_temp.guard();
-- Switched off: nothing.
SELECT liveupdate.set_channel_bundle('com.guard.app', 'canary', '2.0.1');
SELECT liveupdate.api_set_channel_guard('{"app_id": "com.guard.app", "channel": "canary", "deploy_action": "off"}') -> 'settings' ->> 'deploy_action' AS canary_action;
SELECT * FROM pg_temp.guard();
SELECT d ->> 'target' AS target, d ->> 'version_name' AS version, d ->> 'action' AS action, d ->> 'outcome' AS outcome
FROM jsonb_array_elements(liveupdate.api_channel_guard('{"app_id": "com.guard.app", "channel": "production"}') -> 'decisions') AS d;

-- Settings: bad input changes nothing.
SELECT liveupdate.set_channel_guard('com.guard.app', 'beta', deploy_action => 'pause');
SELECT liveupdate.set_channel_guard('com.guard.app', 'beta', max_failure_rate => 1.5);
SELECT liveupdate.set_channel_guard('com.guard.app', 'beta', confidence => 0.2);
SELECT liveupdate.set_channel_guard('com.guard.app', 'nope', min_attempts => 10);
SELECT liveupdate.api_set_channel_guard('{"app_id": "com.guard.app", "channel": "beta", "max_failure_rate": "high"}');
SELECT liveupdate.api_set_channel_guard('{"app_id": "com.guard.app", "channel": "beta", "window_minutes": 0}');
SELECT liveupdate.api_set_channel_guard('{"app_id": "com.guard.app", "channel": "beta", "threshold": 0.1}');
SELECT liveupdate.api_channel_guard('{"app_id": "com.guard.app", "channel": "beta"}') -> 'settings';

-- Cleanup. Bundle 1.0.0 shares files/c-shared with 1.1.0; 1.1.0 is deployed.
SELECT liveupdate.create_app(liveupdate.create_organization('cleanup'), 'com.clean.app') > 0 AS app;
SELECT liveupdate.register_bundle('com.clean.app', '1.0.0', storage_key => 'zips/c1.zip', manifest => '[
    {"file_name": "index.html", "file_hash": "1111111111111111111111111111111111111111111111111111111111111111", "storage_key": "files/c-a"},
    {"file_name": "app.js", "file_hash": "2222222222222222222222222222222222222222222222222222222222222222", "storage_key": "files/c-shared"}]') > 0 AS v100;
SELECT liveupdate.register_bundle('com.clean.app', '1.1.0', storage_key => 'zips/c2.zip', manifest => '[
    {"file_name": "app.js", "file_hash": "2222222222222222222222222222222222222222222222222222222222222222", "storage_key": "files/c-shared"}]') > 0 AS v110;
SELECT liveupdate.create_channel('com.clean.app', 'production', bundle => '1.1.0', public => true) > 0 AS channel;
SELECT liveupdate.delete_bundle('com.clean.app', '1.0.0');
-- Within the grace period (7 days by default): nothing.
SELECT liveupdate.purge_bundles();
SET liveupdate.deleted_bundle_grace = '0';
SELECT liveupdate.purge_bundles();
SELECT storage_key FROM liveupdate.storage_deletions ORDER BY 1;
SELECT name, deleted_at IS NOT NULL AS deleted, purged_at IS NOT NULL AS purged,
       (SELECT count(*) FROM liveupdate.bundle_files AS f WHERE f.bundle_id = b.id) AS files
FROM liveupdate.bundles AS b WHERE app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.clean.app') ORDER BY name;
-- A new bundle using a queued object takes it off the queue; the gateway claims the rest,
-- deletes them from storage and forgets them.
SELECT liveupdate.register_bundle('com.clean.app', '1.2.0', manifest => '[
    {"file_name": "index.html", "file_hash": "1111111111111111111111111111111111111111111111111111111111111111", "storage_key": "files/c-a"}]') > 0 AS v120;
-- Objects are claimed a minute after they were queued at the earliest.
SELECT liveupdate.claim_storage_deletions(10) AS claimed_at_once;
UPDATE liveupdate.storage_deletions SET queued_at = queued_at - interval '1 minute';
BEGIN;
SELECT liveupdate.claim_storage_deletions(10) AS claimed;
SELECT liveupdate.forget_storage_deletions(ARRAY['zips/c1.zip']) AS forgotten;
COMMIT;
SELECT count(*) AS still_queued FROM liveupdate.storage_deletions;
-- The purged bundle's name stays reserved.
SELECT liveupdate.register_bundle('com.clean.app', '1.0.0', external_url => 'https://cdn.example.com/again.zip');
-- Retention: bundles older than the app's bundle_retention_days that no channel serves and no
-- recent deployment replaced are deleted.
SELECT liveupdate.register_bundle('com.clean.app', v, external_url => 'https://cdn.example.com/' || v || '.zip') > 0 AS old
FROM unnest(ARRAY['0.9.0', '0.9.1']) AS v;
SELECT liveupdate.set_channel_bundle('com.clean.app', 'production', '0.9.1');
SELECT liveupdate.set_channel_bundle('com.clean.app', 'production', '1.1.0');
UPDATE liveupdate.bundles SET created_at = now() - interval '3 days'
WHERE app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.clean.app');
SELECT liveupdate.update_app('com.clean.app', NULL, NULL, NULL, 2);
RESET liveupdate.deleted_bundle_grace;
SELECT liveupdate.purge_bundles();
SELECT name, deleted_at IS NOT NULL AS deleted FROM liveupdate.bundles
WHERE app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.clean.app') ORDER BY name;

-- Event partitions are dropped only once the rollups have taken them in; the rollups outlive them.
BEGIN;
CREATE TEMP TABLE saved_progress AS SELECT aggregated_until FROM liveupdate.stats_progress;
UPDATE liveupdate.stats_progress SET aggregated_until = '2026-03-02 12:00Z';
SELECT * FROM liveupdate.drop_event_partitions(1) AS dropped WHERE dropped LIKE 'device_events_p202603%' OR dropped LIKE 'device_events_p202602%';
UPDATE liveupdate.stats_progress SET aggregated_until = (SELECT aggregated_until FROM saved_progress);
COMMIT;
SELECT left(p ->> 'start', 10) AS day, p -> 'installs' AS installs, p -> 'active_devices' AS active
FROM jsonb_array_elements(liveupdate.app_stats('com.stats.app', '2026-02-28', '2026-03-02') -> 'periods') AS p;

-- The periodic run: every step, recorded.
SELECT jsonb_object_keys(liveupdate.run_periodic()) AS step ORDER BY 1;
SELECT runner, summary ? 'guard' AS guarded FROM liveupdate.periodic_runs ORDER BY id DESC LIMIT 1;
SELECT liveupdate.periodic_scheduled_by_cron() AS cron;

-- A rollback the signing rule forbids: the previous bundle is unsigned and the app has required
-- signatures since. The guard cannot point the channel at it (LU001, integrity.sql), says why,
-- and only alerts.
SELECT liveupdate.create_app(liveupdate.create_organization('guard signed'), 'com.guard.signed') > 0 AS app;
SELECT bool_and(liveupdate.register_bundle('com.guard.signed', v, external_url => 'https://cdn.example.com/s' || v || '.zip') > 0) AS bundles
FROM unnest(ARRAY['1.0.0', '2.0.0']) AS v;
SELECT liveupdate.create_channel('com.guard.signed', 'production', bundle => '1.0.0', public => true) > 0 AS production;
SELECT liveupdate.set_channel_bundle('com.guard.signed', 'production', '2.0.0');
SELECT liveupdate.update_app('com.guard.signed', require_signature => true);
INSERT INTO liveupdate.device_events (received_at, app_id, device_id, action, version_name, bundle_id, platform, is_prod, is_emulator)
SELECT clock_timestamp(), b.app_id, md5('signed' || i)::uuid, CASE WHEN i <= 60 THEN 'set' ELSE 'update_fail' END, '2.0.0', b.id,
       'ios', true, false
FROM liveupdate.bundles AS b, generate_series(1, 85) AS i
WHERE b.name = '2.0.0' AND b.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.guard.signed');
SELECT c.name AS channel, g.action, g.outcome FROM liveupdate.run_guard() AS g JOIN liveupdate.channels AS c ON c.id = g.channel_id
WHERE c.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.guard.signed');
SELECT b.name AS still_deployed FROM liveupdate.channels AS c JOIN liveupdate.bundles AS b ON b.id = c.bundle_id
WHERE c.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.guard.signed');
