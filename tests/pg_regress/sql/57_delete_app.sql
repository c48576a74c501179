-- Deleting an app (delete_app, the management API's DELETE /v1/apps/{app_id}): who may, and that
-- everything of it goes, keys forget it, and its stored objects no other app uses are queued for
-- the gateway to delete, while the other app of the organization is untouched.
SELECT liveupdate.create_organization('deletion') AS org \gset
SELECT liveupdate.create_app(:org, 'com.del.gone') AS gone, liveupdate.create_app(:org, 'com.del.kept') AS kept \gset
-- Both apps use the object files/del-shared; the rest is each app's own.
SELECT liveupdate.register_bundle(app, '1.0.0', storage_key => 'zips/del-' || tag || '.zip', archive_bytes => 100,
    checksum => encode(sha256(convert_to(tag, 'UTF8')), 'hex'),
    manifest => jsonb_build_array(
        jsonb_build_object('file_name', 'index.html', 'file_hash', repeat('1', 64), 'storage_key', 'files/del-shared', 'file_size', 10),
        jsonb_build_object('file_name', 'app.js', 'file_hash', repeat('2', 64), 'storage_key', 'files/del-' || tag, 'file_size', 20))) > 0 AS registered
FROM (VALUES ('com.del.gone', 'gone'), ('com.del.kept', 'kept')) AS a(app, tag);
SELECT liveupdate.register_bundle('com.del.gone', '1.0.1', external_url => 'https://cdn.example.com/1.0.1.zip') > 0 AS external;
SELECT liveupdate.create_channel(app, 'production', bundle => '1.0.0', public => true) > 0 AS production,
       liveupdate.create_channel(app, 'beta', bundle => '1.0.0', allow_device_self_set => true) > 0 AS beta
FROM unnest(ARRAY['com.del.gone', 'com.del.kept']) AS app;
SELECT liveupdate.set_channel_bundle('com.del.gone', 'beta', '1.0.1');
SELECT liveupdate.set_device_override(app, '00000000-0000-4000-8000-0000000000d1', 'beta') FROM unnest(ARRAY['com.del.gone', 'com.del.kept']) AS app;
SELECT liveupdate.add_signing_key(app, 'release', 'Ps5Yhk8jh+oiYqeaFDg732l2UgwRcrAlUsxStjgBlzc=') FROM unnest(ARRAY['com.del.gone', 'com.del.kept']) AS app;
SELECT liveupdate.record_device_checks(jsonb_agg(jsonb_build_object('app_id', app, 'device_id', '00000000-0000-4000-8000-0000000000d1',
    'platform', 'ios', 'plugin_version', '8.51.14', 'version_build', '1.0', 'version_name', '1.0.0')))
FROM unnest(ARRAY['com.del.gone', 'com.del.kept']) AS app;
SELECT liveupdate.record_stats(jsonb_build_array(
    jsonb_build_object('app_id', app, 'device_id', '00000000-0000-4000-8000-0000000000d1', 'platform', 'ios', 'plugin_version', '8.51.14',
        'version_build', '1.0', 'version_os', '17', 'version_name', '1.0.0', 'old_version_name', 'builtin', 'action', 'set',
        'is_prod', true, 'is_emulator', false),
    jsonb_build_object('app_id', app, 'device_id', '00000000-0000-4000-8000-0000000000d1', 'platform', 'ios', 'plugin_version', '8.51.14',
        'version_build', '1.0', 'version_os', '17', 'version_name', '1.0.0', 'action', 'update_fail', 'is_prod', true, 'is_emulator', false))) ->> 'status'
FROM unnest(ARRAY['com.del.gone', 'com.del.kept']) AS app;
SELECT pg_sleep(1.1);
SELECT (liveupdate.aggregate_stats() ->> 'events')::bigint > 0 AS aggregated;
INSERT INTO liveupdate.guard_events (app_id, channel_id, target, version_name, action, outcome, attempts, failures,
                                     lower_bound, max_failure_rate, confidence, counted_since)
SELECT c.app_id, c.id, 'deploy', '1.0.0', 'alert', 'alert only', 60, 30, 0.37, 0.2, 0.95, now()
FROM liveupdate.channels AS c WHERE c.app_id IN (:gone, :kept) AND c.name = 'beta';
SELECT liveupdate.add_member(:org, ('e0000000-0000-4000-8000-00000000000' || n)::uuid, role)
FROM (VALUES (1, 'write'), (2, 'admin')) AS m(n, role);
CREATE TEMP TABLE deletion_keys AS
SELECT 'all, only gone' AS name, (liveupdate.create_api_key(:org, 'only gone', 'all', ARRAY['com.del.gone'])).key
UNION ALL SELECT 'all, only kept', (liveupdate.create_api_key(:org, 'only kept', 'all', ARRAY['com.del.kept'])).key
UNION ALL SELECT 'write, both', (liveupdate.create_api_key(:org, 'both apps', 'write', ARRAY['com.del.gone', 'com.del.kept'])).key
UNION ALL SELECT 'all', (liveupdate.create_api_key(:org, 'whole org', 'all')).key;

-- Rows of each app, table by table.
CREATE FUNCTION pg_temp.rows_of(app_pk bigint) RETURNS TABLE (relation text, rows bigint) LANGUAGE sql AS $$
    SELECT 'channels', count(*) FROM liveupdate.channels WHERE app_id = app_pk
    UNION ALL SELECT 'bundles', count(*) FROM liveupdate.bundles WHERE app_id = app_pk
    UNION ALL SELECT 'bundle_files', count(*) FROM liveupdate.bundle_files AS f JOIN liveupdate.bundles AS b ON b.id = f.bundle_id WHERE b.app_id = app_pk
    UNION ALL SELECT 'device_overrides', count(*) FROM liveupdate.device_overrides WHERE app_id = app_pk
    UNION ALL SELECT 'devices', count(*) FROM liveupdate.devices WHERE app_id = app_pk
    UNION ALL SELECT 'device_events', count(*) FROM liveupdate.device_events WHERE app_id = app_pk
    UNION ALL SELECT 'device_failed_bundles', count(*) FROM liveupdate.device_failed_bundles WHERE app_id = app_pk
    UNION ALL SELECT 'deploy_history', count(*) FROM liveupdate.deploy_history WHERE app_id = app_pk
    UNION ALL SELECT 'signing_keys', count(*) FROM liveupdate.signing_keys WHERE app_id = app_pk
    UNION ALL SELECT 'channel_guards', count(*) FROM liveupdate.channel_guards WHERE app_id = app_pk
    UNION ALL SELECT 'guard_events', count(*) FROM liveupdate.guard_events WHERE app_id = app_pk
    UNION ALL SELECT 'stats_activity', count(*) FROM liveupdate.stats_activity WHERE app_id = app_pk
    UNION ALL SELECT 'stats_versions', count(*) FROM liveupdate.stats_versions WHERE app_id = app_pk
    UNION ALL SELECT 'stats_adoption', count(*) FROM liveupdate.stats_adoption WHERE app_id = app_pk
    UNION ALL SELECT 'stats_device_activity', count(*) FROM liveupdate.stats_device_activity WHERE app_id = app_pk
    UNION ALL SELECT 'stats_device_versions', count(*) FROM liveupdate.stats_device_versions WHERE app_id = app_pk
$$;
CREATE TEMP TABLE before AS SELECT 'gone' AS app, * FROM pg_temp.rows_of(:gone) UNION ALL SELECT 'kept', * FROM pg_temp.rows_of(:kept);

-- Only admins of the app: members, keys through PostgREST, the gateway with a key.
CREATE FUNCTION pg_temp.try_delete(role_name text, subject text, api_key text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('role', role_name, true);
    PERFORM set_config('request.jwt.claims', coalesce(json_build_object('sub', subject)::text, ''), true);
    PERFORM set_config('liveupdate.api_key_sha256', coalesce(encode(sha256(convert_to(api_key, 'UTF8')), 'hex'), ''), true);
    BEGIN
        PERFORM liveupdate.api_delete_app('{"app_id": "com.del.gone"}');
        RAISE EXCEPTION USING ERRCODE = 'ZZ000', MESSAGE = 'deleted';
    EXCEPTION
        WHEN SQLSTATE 'ZZ000' THEN PERFORM set_config('role', 'postgres', true); RETURN SQLERRM;
        WHEN OTHERS THEN PERFORM set_config('role', 'postgres', true); RETURN SQLSTATE;
    END;
END
$$;
GRANT SELECT ON deletion_keys TO PUBLIC;
SELECT who, pg_temp.try_delete(role_name, subject, (SELECT key FROM deletion_keys WHERE name = key_name)) AS outcome
FROM (VALUES ('write member', 'authenticated', 'e0000000-0000-4000-8000-000000000001', NULL),
             ('key write, both apps', 'liveupdate_gateway', NULL, 'write, both'),
             ('key all, only kept', 'liveupdate_gateway', NULL, 'all, only kept'),
             ('key all, only gone', 'liveupdate_gateway', NULL, 'all, only gone'),
             ('admin member', 'authenticated', 'e0000000-0000-4000-8000-000000000002', NULL),
             ('key all', 'liveupdate_gateway', NULL, 'all')) AS p(who, role_name, subject, key_name);
SELECT liveupdate.api_delete_app('{"app_id": "com.del.gone", "force": true}');
SELECT liveupdate.delete_app('com.del.none');

-- The admin deletes it for real, through the management API.
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "e0000000-0000-4000-8000-000000000002"}', true) IS NOT NULL AS claims;
SELECT liveupdate.api_delete_app('{"app_id": "com.del.gone"}');
COMMIT;
SELECT b.relation, b.rows AS before, a.rows AS after
FROM before AS b JOIN (SELECT 'gone' AS app, * FROM pg_temp.rows_of(:gone) UNION ALL SELECT 'kept', * FROM pg_temp.rows_of(:kept)) AS a
  ON a.app = b.app AND a.relation = b.relation
WHERE b.app = 'gone' ORDER BY b.relation;
SELECT count(*) AS kept_rows_changed FROM before AS b JOIN pg_temp.rows_of(:kept) AS a USING (relation)
WHERE b.app = 'kept' AND a.rows <> b.rows;
SELECT app_id FROM liveupdate.apps WHERE organization_id = :org;
-- Only what no other app uses is queued: the zip and file of com.del.gone, not the shared file.
SELECT storage_key FROM liveupdate.storage_deletions WHERE storage_key LIKE '%del-%' ORDER BY 1;
-- Keys forget it; the key limited to it alone is revoked.
SELECT name, mode, (SELECT array_agg(a.app_id ORDER BY a.app_id) FROM liveupdate.apps AS a WHERE a.id = ANY (k.app_ids)) AS apps,
       cardinality(k.app_ids) AS limited_to, revoked_at IS NOT NULL AS revoked
FROM liveupdate.api_keys AS k WHERE organization_id = :org ORDER BY name;
SELECT k ->> 'name' AS name, k -> 'apps' AS apps FROM jsonb_array_elements(liveupdate.api_list_keys(jsonb_build_object('organization_id', :org)) -> 'keys') AS k
ORDER BY 1;
-- Its name is free again; com.del.kept still serves its bundle, shared file included.
SELECT liveupdate.create_app(:org, 'com.del.gone') > 0 AS recreated;
SELECT coalesce(r ->> 'version', r ->> 'error') AS version,
       (SELECT count(*) FROM liveupdate.bundle_files AS f JOIN liveupdate.bundles AS b ON b.id = f.bundle_id
        WHERE b.app_id = :kept AND f.storage_key = 'files/del-shared') AS shared_file
FROM liveupdate.resolve_update('{"app_id": "com.del.kept", "device_id": "00000000-0000-4000-8000-0000000000d2", "platform": "ios",
    "version_build": "0.9.0", "version_name": "builtin", "plugin_version": "8.51.14", "is_prod": true, "is_emulator": false}') AS r;
-- Claims wait a minute after queueing; then the gateway may delete exactly these, and forgets them.
UPDATE liveupdate.storage_deletions SET queued_at = queued_at - interval '2 minutes' WHERE storage_key LIKE '%del-%';
BEGIN;
SELECT k FROM unnest(liveupdate.claim_storage_deletions(1000)) AS k WHERE k LIKE '%del-%' ORDER BY 1;
SELECT liveupdate.forget_storage_deletions(ARRAY['files/del-gone', 'zips/del-gone.zip']) AS forgotten;
COMMIT;
